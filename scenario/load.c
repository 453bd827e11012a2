/* Scenario files -> vtx_scenario (docs/scenarios.md): the file (text checks, YAML),
 * the top-level keys, the guest and the controls; the value parsers are in values.c,
 * the VMM's sections in load_vmm.c. Every error names the line and column of the
 * node it is about. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "scenario_internal.h"

enum { MAX_FILE = 1 << 20 };

/* ---- the top level and the guest ---- */

static vtx_status ld_profile(scn_ld *L, const ynode *root)
{
    const ynode *p = scn_ymap_get(root, "profile");
    const char *name = "server";
    if (p) {
        vtx_status st = scn_ld_type(L, p, Y_SCALAR, "profile");
        if (st != VTX_OK)
            return st;
        name = p->text;
    }
    const vtx_profile *bp;
    vtx_diag d = {0};
    if (vtx_profile_find(name, &bp, NULL) == VTX_OK) {
        L->s->profile = *bp;
        return VTX_OK;
    }
    char path[1024];
    if (name[0] != '/' && L->s->base_dir && L->s->base_dir[0])
        snprintf(path, sizeof path, "%s/%s", L->s->base_dir, name);
    else
        snprintf(path, sizeof path, "%s", name);
    vtx_status st = vtx_profile_load_file(path, &L->s->profile, &d);
    if (st == VTX_ERR_IO)
        return scn_ld_fail(L, p, "profile '%s' is neither a built-in profile (core2, server, teaching) nor a readable "
                                 "file", name);
    if (st != VTX_OK)
        return scn_ld_fail(L, p, "profile '%s': %s", name, d.message);
    return VTX_OK;
}

static vtx_status ld_knobs(scn_ld *L, const ynode *n)
{
    vtx_status st = scn_ld_type(L, n, Y_MAP, "knobs");
    for (size_t i = 0; st == VTX_OK && i < n->n; i += 2) {
        const ynode *k = n->items[i];
        unsigned bit = 0;
        while (vtx_knob_id(bit) && strcasecmp(vtx_knob_id(bit), k->text) != 0)
            bit++;
        if (!vtx_knob_id(bit))
            return scn_ld_fail(L, k, "unknown knob '%s' (`vtxref profiles show` lists the CFG-* knobs)", k->text);
        bool on;
        if ((st = scn_ld_bool(L, n->items[i + 1], k->text, &on)) != VTX_OK)
            return st;
        if (on)
            L->s->profile.knobs |= 1u << bit;
        else
            L->s->profile.knobs &= ~(1u << bit);
    }
    return st;
}

static vtx_status ld_limits(scn_ld *L, const ynode *n)
{
    static const char *const keys[] = {"instructions", "cycles", "exits", NULL};
    vtx_status st = scn_ld_keys(L, n, "limits", keys);
    const ynode *v;
    if (st == VTX_OK && (v = scn_ymap_get(n, "instructions")))
        st = scn_ld_u64(L, v, "limits.instructions", UINT64_MAX, &L->s->lim_instructions);
    if (st == VTX_OK && (v = scn_ymap_get(n, "cycles")))
        st = scn_ld_u64(L, v, "limits.cycles", UINT64_MAX, &L->s->lim_cycles);
    if (st == VTX_OK && (v = scn_ymap_get(n, "exits")))
        st = scn_ld_u64(L, v, "limits.exits", 100000000, &L->s->lim_exits);
    return st;
}

static vtx_status new_block(scn_ld *L, const char *what, const ynode *src, uint64_t linear, uint64_t org,
                            size_t max_size, size_t *index)
{
    scn_block *b = scn_push((void **)&L->s->blocks, &L->s->nblocks, sizeof *b);
    if (!b)
        return VTX_ERR_NO_MEMORY;
    b->what = scn_strdup(what);
    b->src = scn_strdup(src->text);
    b->linear = linear;
    b->org = org;
    b->bits = L->s->bits;
    b->first_line = src->line; /* a block scalar's mark is its first content line */
    b->col = src->col;
    b->literal = src->literal;
    b->max_size = max_size;
    *index = L->s->nblocks - 1;
    return b->what && b->src ? VTX_OK : VTX_ERR_NO_MEMORY;
}

static vtx_status ld_handlers(scn_ld *L, const ynode *n)
{
    vtx_scenario *s = L->s;
    vtx_status st = scn_ld_type(L, n, Y_MAP, "handlers");
    const bool seg16 = s->bits == 16;
    const size_t room = seg16 ? SCN_SEG16_HANDLER_ROOM : SCN_HANDLER_ROOM;
    const size_t max = seg16 ? (SCN_SEG16_STUBS - SCN_SEG16_HANDLERS) / SCN_SEG16_HANDLER_ROOM : 256;
    for (size_t i = 0; st == VTX_OK && i < n->n; i += 2) {
        const ynode *k = n->items[i], *v = n->items[i + 1];
        uint64_t vec;
        if ((st = scn_ld_u64(L, k, "a handler's vector", 255, &vec)) != VTX_OK)
            return st;
        if (s->handler_block[vec] >= 0)
            return scn_ld_fail(L, k, "vector %llu has two handlers", (unsigned long long)vec);
        if ((st = scn_ld_type(L, v, Y_SCALAR, "a handler (nasm source)")) != VTX_OK)
            return st;
        size_t idx = i / 2;
        if (idx >= max)
            return scn_ld_fail(L, k, "at most %zu handlers in a 16-bit guest", max);
        uint64_t linear = seg16 ? s->seg_base + SCN_SEG16_HANDLERS + room * idx : SCN_HANDLERS + room * idx;
        char what[32];
        snprintf(what, sizeof what, "handler_0x%02llx", (unsigned long long)vec);
        size_t b;
        if ((st = new_block(L, what, v, linear, seg16 ? linear - s->seg_base : linear, room, &b)) != VTX_OK)
            return st;
        s->handler_block[vec] = (int)b;
    }
    return st;
}

static vtx_status ld_guest(scn_ld *L, const ynode *g)
{
    static const char *const keys[] = {"mode", "cpl", "code", "code_at", "stack", "handlers", "default_handler",
                                       "not_present", "rflags", "registers", "interruptibility", "activity",
                                       "pending_debug", "memory", NULL};
    vtx_scenario *s = L->s;
    vtx_status st = scn_ld_keys(L, g, "guest", keys);
    if (st != VTX_OK)
        return st;
    const ynode *mode = scn_ymap_get(g, "mode"), *code = scn_ymap_get(g, "code"), *v;
    if (!mode)
        return scn_ld_fail(L, g, "guest needs 'mode:' (real, pm16, pm32, pm32-paging or long64)");
    if ((st = scn_ld_type(L, mode, Y_SCALAR, "guest.mode")) != VTX_OK)
        return st;
    static const char *const modes[] = {"real", "pm16", "pm32", "pm32-paging", "long64"};
    static const unsigned bits[] = {16, 16, 32, 32, 64};
    size_t m = 0;
    while (m < 5 && strcmp(modes[m], mode->text) != 0)
        m++;
    if (m == 5)
        return scn_ld_fail(L, mode, "unknown guest mode '%s' (real, pm16, pm32, pm32-paging, long64)", mode->text);
    s->mode = (scn_mode)m;
    s->bits = bits[m];
    uint64_t x;
    if ((v = scn_ymap_get(g, "cpl"))) {
        if ((st = scn_ld_u64(L, v, "guest.cpl", 3, &x)) != VTX_OK)
            return st;
        if (x != 0 && x != 3)
            return scn_ld_fail(L, v, "guest.cpl must be 0 or 3");
        if (x == 3 && s->mode == SCN_REAL)
            return scn_ld_fail(L, v, "a real-mode guest runs at CPL 0");
        s->cpl = (unsigned)x;
    }
    s->code_at = 0x10000;
    if ((v = scn_ymap_get(g, "code_at")) &&
        (st = scn_ld_u64(L, v, "guest.code_at", SCN_RAM_SIZE - 1, &s->code_at)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(g, "stack")) && (st = scn_ld_u64(L, v, "guest.stack", SCN_RAM_SIZE, &s->stack)) != VTX_OK)
        return st;
    if (s->bits == 16) {
        s->seg_base = s->code_at & ~0xFull;
        if (s->mode == SCN_REAL && s->seg_base > 0xFFFF0)
            return scn_ld_fail(L, scn_ymap_get(g, "code_at"), "real-mode code must be below 1 MiB");
        if (s->stack > 0xFFFF)
            return scn_ld_fail(L, scn_ymap_get(g, "stack"), "a 16-bit guest's stack must be below 0x10000");
    }
    if (!code)
        return scn_ld_fail(L, g, "guest needs 'code:' (nasm source)");
    if ((st = scn_ld_type(L, code, Y_SCALAR, "guest.code")) != VTX_OK)
        return st;
    if (code->len == 0)
        return scn_ld_fail(L, scn_ymap_key(g, "code"), "guest.code is empty; write the guest's instructions (nasm source)");
    size_t b;
    if ((st = new_block(L, "code", code, s->code_at, s->bits == 16 ? s->code_at - s->seg_base : s->code_at,
                        s->bits == 16 ? SCN_SEG16_CODE_ROOM - (s->code_at - s->seg_base) : 0, &b)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(g, "handlers")) && (st = ld_handlers(L, v)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(g, "default_handler"))) {
        static const char *const defs[] = {"hlt", "iret", "not-present"};
        if ((st = scn_ld_type(L, v, Y_SCALAR, "guest.default_handler")) != VTX_OK)
            return st;
        size_t d = 0;
        while (d < 3 && strcmp(defs[d], v->text) != 0)
            d++;
        if (d == 3)
            return scn_ld_fail(L, v, "unknown default_handler '%s' (hlt, iret, not-present)", v->text);
        s->default_handler = (scn_default)d;
    }
    if ((v = scn_ymap_get(g, "not_present"))) {
        if ((st = scn_ld_type(L, v, Y_SEQ, "guest.not_present")) != VTX_OK)
            return st;
        for (size_t i = 0; i < v->n; i++) {
            if ((st = scn_ld_u64(L, v->items[i], "a vector", 255, &x)) != VTX_OK)
                return st;
            if (s->mode == SCN_REAL)
                return scn_ld_fail(L, v->items[i], "real mode has no not-present vectors (the IVT has no P bit)");
            s->not_present[x] = true;
        }
    }
    if (s->default_handler == SCN_DEF_NOT_PRESENT && s->mode == SCN_REAL)
        return scn_ld_fail(L, scn_ymap_get(g, "default_handler"), "real mode has no not-present vectors");
    if ((v = scn_ymap_get(g, "rflags")) && (st = scn_ld_u64(L, v, "guest.rflags", 0x3FFFFF, &s->rflags)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(g, "registers")) && (st = scn_ld_regs(L, v, "guest.registers", false, &s->regs)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(g, "interruptibility"))) {
        if (v->type == Y_SCALAR) {
            if ((st = scn_ld_u64(L, v, "guest.interruptibility", 0xFFFFFFFFu, &x)) != VTX_OK)
                return st;
            s->interruptibility = (uint32_t)x;
        } else {
            if ((st = scn_ld_type(L, v, Y_SEQ, "guest.interruptibility")) != VTX_OK)
                return st;
            for (size_t i = 0; i < v->n; i++) {
                uint32_t bit;
                if ((st = scn_ld_type(L, v->items[i], Y_SCALAR, "a blocking")) != VTX_OK)
                    return st;
                if (!scn_intr_bit_by_name(v->items[i]->text, &bit))
                    return scn_ld_fail(L, v->items[i], "unknown blocking '%s' (sti, mov-ss, smi, nmi)",
                                       v->items[i]->text);
                s->interruptibility |= bit;
            }
        }
    }
    if ((v = scn_ymap_get(g, "activity"))) {
        if ((st = scn_ld_type(L, v, Y_SCALAR, "guest.activity")) != VTX_OK)
            return st;
        if (!scn_activity_by_name(v->text, &s->activity)) {
            if (!scn_parse_number(v->text, &x) || x > 3)
                return scn_ld_fail(L, v, "unknown activity state '%s' (active, hlt, shutdown, wait-for-sipi)",
                                   v->text);
            s->activity = (uint32_t)x;
        }
    }
    if ((v = scn_ymap_get(g, "pending_debug")) &&
        (st = scn_ld_u64(L, v, "guest.pending_debug", UINT64_MAX, &s->pending_debug)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(g, "memory")) && (st = scn_ld_mem(L, v, "guest.memory", true, &s->mem, &s->nmem)) != VTX_OK)
        return st;
    return VTX_OK;
}

/* The controls: the profile's must-be-1 bits, what the mode needs, what the file names. */
static vtx_status ld_controls_final(scn_ld *L, const ynode *root, const ynode *controls)
{
    vtx_scenario *s = L->s;
    const ynode *mode = scn_ymap_get(scn_ymap_get(root, "guest"), "mode");
    uint32_t implied[VTX_CTL_FIELD_COUNT_] = {0};
    implied[VTX_CTL_EXIT] |= VTX_EXIT_HOST_ADDR_SPACE_SIZE;
    if (s->mode == SCN_LONG64)
        implied[VTX_CTL_ENTRY] |= VTX_ENTRY_IA32E_MODE_GUEST;
    if (s->mode == SCN_REAL || s->mode == SCN_PM16 || s->mode == SCN_PM32) {
        /* CR0.PG = 0 needs unrestricted guest (else IA32_VMX_CR0_FIXED0 fixes PG to 1), and
         * unrestricted guest needs EPT (ENT-CTL: "enable EPT" must be 1 with "unrestricted guest"). */
        implied[VTX_CTL_PROC2] |= VTX_PROC2_UNRESTRICTED_GUEST | VTX_PROC2_ENABLE_EPT;
        s->need_ept = true;
    }
    if (s->ctl[VTX_CTL_PROC2] & VTX_PROC2_ENABLE_EPT)
        s->need_ept = true;
    for (int f = 0; f < VTX_CTL_FIELD_COUNT_; f++)
        s->ctl[f] |= implied[f];
    if (s->ctl[VTX_CTL_PROC2])
        s->ctl[VTX_CTL_PROC] |= VTX_PROC_SECONDARY_CONTROLS;
    for (int f = 0; f < VTX_CTL_FIELD_COUNT_; f++) {
        uint32_t must1, may1;
        vtx_profile_ctl_caps(&s->profile, (vtx_ctl_field)f, &must1, &may1);
        uint32_t bad = s->ctl[f] & ~may1;
        if (f == VTX_CTL_PROC && (bad & VTX_PROC_SECONDARY_CONTROLS)) /* name the secondary control that needs it */
            bad = s->ctl[VTX_CTL_PROC2] ? 0 : bad;
        if (bad) {
            unsigned bit = (unsigned)__builtin_ctz(bad);
            if (f == VTX_CTL_PROC2 && (bad & VTX_PROC2_UNRESTRICTED_GUEST) && (implied[f] & VTX_PROC2_UNRESTRICTED_GUEST))
                bit = 7; /* the control the mode is about */
            const char *name = vtx_control_bit_name((vtx_ctl_field)f, bit);
            /* point at the item that named it, else at guest.mode (an implied control) */
            const ynode *at = mode;
            const ynode *list = scn_ymap_get(controls, scn_ctl_key((vtx_ctl_field)f));
            for (size_t i = 0; list && list->type == Y_SEQ && i < list->n; i++) {
                unsigned b2;
                if (list->items[i]->type == Y_SCALAR && scn_control_by_name((vtx_ctl_field)f, list->items[i]->text, &b2) &&
                    b2 == bit)
                    at = list->items[i];
            }
            if (list && list->type == Y_SCALAR)
                at = list;
            if (at == mode)
                return scn_ld_fail(L, at, "guest mode %s needs the %s control '%s', which profile %s cannot set",
                                   mode->text, scn_ctl_key((vtx_ctl_field)f), name ? name : "?", s->profile.name);
            return scn_ld_fail(L, at, "profile %s cannot set the %s control '%s' (bit %u)", s->profile.name,
                               scn_ctl_key((vtx_ctl_field)f), name ? name : "?", bit);
        }
        s->ctl[f] |= must1;
    }
    return VTX_OK;
}

static vtx_status ld_root(scn_ld *L, const ynode *root)
{
    static const char *const keys[] = {"name", "description", "profile", "knobs", "limits", "guest", "controls",
                                       "fields", "inject", "events", "reactions", "expect", NULL};
    vtx_scenario *s = L->s;
    vtx_status st = scn_ld_keys(L, root, "the scenario", keys);
    if (st != VTX_OK)
        return st;
    const ynode *v;
    if ((v = scn_ymap_get(root, "name"))) {
        if ((st = scn_ld_type(L, v, Y_SCALAR, "name")) != VTX_OK)
            return st;
        free(s->name);
        s->name = scn_strdup(v->text);
    }
    if ((v = scn_ymap_get(root, "description"))) {
        if ((st = scn_ld_type(L, v, Y_SCALAR, "description")) != VTX_OK)
            return st;
        s->description = scn_strdup(v->text);
    }
    if ((st = ld_profile(L, root)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(root, "knobs")) && (st = ld_knobs(L, v)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(root, "limits")) && (st = ld_limits(L, v)) != VTX_OK)
        return st;
    const ynode *g = scn_ymap_get(root, "guest");
    if (!g)
        return scn_ld_fail(L, root, "the scenario needs 'guest:' (with mode: and code:)");
    if ((st = ld_guest(L, g)) != VTX_OK)
        return st;
    const ynode *controls = scn_ymap_get(root, "controls");
    if (controls && (st = scn_ld_controls(L, controls, "controls", s->ctl)) != VTX_OK)
        return st;
    if ((st = ld_controls_final(L, root, controls)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(root, "fields")) && (st = scn_ld_writes(L, v, "fields", &s->fields, &s->nfields)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(root, "inject")) && (st = scn_ld_inject(L, v, "inject", false, &s->inject)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(root, "events")) && (st = scn_ld_events(L, v)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(root, "reactions")) && (st = scn_ld_reactions(L, v)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(root, "expect")) && (st = scn_ld_expect(L, v)) != VTX_OK)
        return st;
    return VTX_OK;
}

/* Binary or not UTF-8: say where. */
static vtx_status check_text(const char *text, size_t len, vtx_scenario_error *err)
{
    int line = 1, col = 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (c == 0)
            return scn_fail(err, NULL, line, col, "this is a binary file (a NUL byte), not a YAML scenario");
        bool ok = n > 0 && i + n <= len && !(n == 2 && c < 0xC2);
        for (size_t k = 1; ok && k < n; k++)
            ok = ((unsigned char)text[i + k] & 0xC0) == 0x80;
        if (!ok)
            return scn_fail(err, NULL, line, col, "the file is not UTF-8 text (byte 0x%02x); is it a binary file?", c);
        if (c == '\n')
            line++, col = 1;
        else
            col++;
        i += n;
    }
    return VTX_OK;
}

static char *default_name(const char *source)
{
    const char *b = strrchr(source, '/');
    b = b ? b + 1 : source;
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".yaml") == 0)
        n -= 5;
    else if (n > 4 && strcmp(b + n - 4, ".yml") == 0)
        n -= 4;
    return scn_strndup(b, n);
}

vtx_status vtx_scenario_load_text(const char *text, size_t len, const char *source, const char *base_dir,
                                  vtx_scenario **out, vtx_scenario_error *err)
{
    vtx_scenario_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    if (!source)
        source = "<scenario>";
    snprintf(err->file, sizeof err->file, "%s", source);
    if (!out || (!text && len))
        return VTX_ERR_INVALID_ARG;
    *out = NULL;
    vtx_status st = check_text(text ? text : "", len, err);
    if (st != VTX_OK)
        return st;
    vtx_scenario *s = calloc(1, sizeof *s);
    if (!s)
        return VTX_ERR_NO_MEMORY;
    s->source = scn_strdup(source);
    s->name = default_name(source);
    s->base_dir = scn_strdup(base_dir ? base_dir : "");
    s->lim_instructions = 100000000;
    s->lim_exits = 10000;
    s->stack = 0x9000;
    s->rflags = 2;
    for (int i = 0; i < 256; i++)
        s->handler_block[i] = -1;
    ynode *root = NULL;
    scn_ld L = {s, err};
    if (!s->source || !s->name || !s->base_dir)
        st = VTX_ERR_NO_MEMORY;
    if (st == VTX_OK)
        st = scn_yaml_parse(text ? text : "", len, &root, err);
    if (st == VTX_OK && (!root || (root->type == Y_SCALAR && root->len == 0 && !root->quoted)))
        st = scn_fail(err, NULL, 1, 1, "the file is empty: a scenario needs at least 'guest:' with 'mode:' and 'code:'");
    if (st == VTX_OK && root->type != Y_MAP)
        st = scn_ld_fail(&L, root, "a scenario is a mapping of keys (name:, guest:, ...), not %s",
                         scn_type_word(root->type));
    if (st == VTX_OK)
        st = ld_root(&L, root);
    scn_yaml_free(root);
    if (st == VTX_OK)
        st = scn_assemble(s, 0, text, len, err);
    if (st == VTX_OK)
        st = scn_check_layout(s, err);
    if (st == VTX_OK)
        st = scn_stub_labels(s);
    if (st == VTX_OK)
        st = scn_ld_resolve_all(&L);
    if (st != VTX_OK) {
        if (st == VTX_ERR_NO_MEMORY && !err->message[0])
            snprintf(err->message, sizeof err->message, "out of memory");
        vtx_scenario_free(s);
        return st;
    }
    *out = s;
    return VTX_OK;
}

vtx_status vtx_scenario_load_file(const char *path, vtx_scenario **out, vtx_scenario_error *err)
{
    vtx_scenario_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    if (!path || !out)
        return VTX_ERR_INVALID_ARG;
    *out = NULL;
    snprintf(err->file, sizeof err->file, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->message, sizeof err->message, "cannot open the scenario: %s", strerror(errno));
        return VTX_ERR_IO;
    }
    char *buf = malloc(MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        return VTX_ERR_NO_MEMORY;
    }
    size_t len = fread(buf, 1, MAX_FILE + 1, f);
    bool bad = ferror(f);
    int e = errno;
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err->message, sizeof err->message, "cannot read the scenario: %s", strerror(e));
        return VTX_ERR_IO;
    }
    if (len > MAX_FILE) {
        free(buf);
        snprintf(err->message, sizeof err->message, "the file is larger than 1 MiB; a scenario is a small text file");
        return VTX_ERR_PARSE;
    }
    char *dir = scn_strdup(path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *slash = 0;
    else if (dir)
        dir[0] = 0;
    vtx_status st = vtx_scenario_load_text(buf, len, path, dir ? (slash && slash == dir ? "/" : dir) : "", out, err);
    free(dir);
    free(buf);
    return st;
}
