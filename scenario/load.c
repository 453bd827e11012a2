/* Scenario files -> vtx_scenario (docs/scenarios.md): the file, the top-level keys,
 * the guest, the controls and fields, and the value parsers every section shares.
 * Every error names the line and column of the node it is about. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "scenario_internal.h"

enum { MAX_FILE = 1 << 20 };

vtx_status scn_ld_fail(scn_ld *L, const ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    scn_set_error(L->err, NULL, n ? n->line : 0, n ? n->col : 0, fmt, ap);
    va_end(ap);
    return VTX_ERR_PARSE;
}

static const char *type_word(ytype t) { return t == Y_MAP ? "a mapping" : t == Y_SEQ ? "a list" : "a single value"; }

vtx_status scn_ld_type(scn_ld *L, const ynode *n, ytype t, const char *what)
{
    if (!n || n->type != t)
        return scn_ld_fail(L, n, "%s must be %s, not %s", what, type_word(t), n ? type_word(n->type) : "nothing");
    return VTX_OK;
}

vtx_status scn_ld_keys(scn_ld *L, const ynode *map, const char *what, const char *const *allowed)
{
    vtx_status st = scn_ld_type(L, map, Y_MAP, what);
    if (st != VTX_OK)
        return st;
    for (size_t i = 0; i < map->n; i += 2) {
        const ynode *k = map->items[i];
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, k->text) == 0;
        if (!ok) {
            char list[300] = "";
            size_t used = 0;
            for (const char *const *a = allowed; *a && used < sizeof list; a++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", a == allowed ? "" : ", ", *a);
            return scn_ld_fail(L, k, "unknown key '%s' in %s (known: %s)", k->text, what, list);
        }
    }
    return VTX_OK;
}

/* A number: decimal or 0x hexadecimal, no sign. */
static bool parse_number(const char *t, uint64_t *v)
{
    if (!*t || *t == '-' || *t == '+' || isspace((unsigned char)*t))
        return false;
    errno = 0;
    char *end;
    unsigned long long x;
    if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
        if (!isxdigit((unsigned char)t[2]))
            return false;
        x = strtoull(t + 2, &end, 16);
    } else {
        if (!isdigit((unsigned char)*t))
            return false;
        x = strtoull(t, &end, 10);
    }
    if (errno == ERANGE || *end)
        return false;
    *v = x;
    return true;
}

vtx_status scn_ld_u64(scn_ld *L, const ynode *n, const char *what, uint64_t max, uint64_t *v)
{
    vtx_status st = scn_ld_type(L, n, Y_SCALAR, what);
    if (st != VTX_OK)
        return st;
    if (!parse_number(n->text, v))
        return scn_ld_fail(L, n, "%s must be a number (decimal or 0x hexadecimal), not '%s'", what, n->text);
    if (*v > max)
        return scn_ld_fail(L, n, "%s %s is out of range (at most 0x%llx)", what, n->text, (unsigned long long)max);
    return VTX_OK;
}

vtx_status scn_ld_bool(scn_ld *L, const ynode *n, const char *what, bool *b)
{
    vtx_status st = scn_ld_type(L, n, Y_SCALAR, what);
    if (st != VTX_OK)
        return st;
    static const char *const yes[] = {"true", "on", "yes"}, *const no[] = {"false", "off", "no"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(n->text, yes[i]) == 0)
            return *b = true, VTX_OK;
        if (strcasecmp(n->text, no[i]) == 0)
            return *b = false, VTX_OK;
    }
    return scn_ld_fail(L, n, "%s must be true or false (on/off), not '%s'", what, n->text);
}

static bool label_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || c == '.' || c == '?' || c == '@' || c == '$' ||
           (!first && (isdigit((unsigned char)c) || c == '#' || c == '~'));
}

vtx_status scn_ld_addr(scn_ld *L, const ynode *n, const char *what, bool as_rip, scn_addr *a)
{
    vtx_status st = scn_ld_type(L, n, Y_SCALAR, what);
    if (st != VTX_OK)
        return st;
    memset(a, 0, sizeof *a);
    a->as_rip = as_rip;
    a->loc = (scn_loc){n->line, n->col};
    if (parse_number(n->text, &a->value))
        return VTX_OK;
    const char *t = n->text;
    size_t i = 0;
    if (!label_char(t[0], true))
        return scn_ld_fail(L, n, "%s must be an address (a number or a label of the code), not '%s'", what, t);
    while (label_char(t[i], false))
        i++;
    int64_t off = 0;
    if (t[i] == '+' || t[i] == '-') {
        uint64_t o;
        if (!parse_number(t + i + 1, &o) || o > 0xFFFFFFFFull)
            return scn_ld_fail(L, n, "%s: '%s' is not LABEL, LABEL+N or LABEL-N", what, t);
        off = t[i] == '+' ? (int64_t)o : -(int64_t)o;
    } else if (t[i]) {
        return scn_ld_fail(L, n, "%s: '%s' is not LABEL, LABEL+N or LABEL-N", what, t);
    }
    a->label = scn_strndup(t, i);
    a->offset = off;
    return a->label ? VTX_OK : VTX_ERR_NO_MEMORY;
}

vtx_status scn_ld_resolve(scn_ld *L, scn_addr *a)
{
    if (!a->label)
        return VTX_OK;
    const scn_label *l = scn_label_find(L->s, a->label);
    if (!l) {
        char list[200] = "";
        size_t used = 0;
        int shown = 0;
        for (size_t i = 0; i < L->s->nlabels && shown < 8 && used < sizeof list; i++)
            if (strncmp(L->s->labels[i].name, "default_", 8) != 0)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", shown++ ? ", " : "",
                                         L->s->labels[i].name);
        return scn_fail(L->err, NULL, a->loc.line, a->loc.col, "unknown label '%s' (the code's labels: %s)", a->label,
                        used ? list : "none");
    }
    a->value = (a->as_rip ? l->value : l->linear) + (uint64_t)a->offset;
    return VTX_OK;
}

vtx_status scn_ld_regs(scn_ld *L, const ynode *n, const char *what, bool vmcs_regs, scn_regs *r)
{
    vtx_status st = scn_ld_type(L, n, Y_MAP, what);
    for (size_t i = 0; st == VTX_OK && i < n->n; i += 2) {
        const ynode *k = n->items[i], *v = n->items[i + 1];
        scn_reg reg;
        if (!scn_reg_by_name(k->text, &reg) || (!vmcs_regs && reg >= SCN_GPR_COUNT))
            return scn_ld_fail(L, k, "unknown register '%s' in %s (%s)", k->text, what,
                               vmcs_regs ? "rax..r15, rsp, rip, rflags" : "rax..r15; rsp, rip and rflags have their own keys");
        char w[64];
        snprintf(w, sizeof w, "%s %s", what, scn_reg_name(reg));
        if (reg == SCN_REG_rip)
            st = scn_ld_addr(L, v, w, true, &r->rip);
        else
            st = scn_ld_u64(L, v, w, UINT64_MAX, &r->v[reg]);
        r->mask |= 1u << reg;
        r->loc[reg] = (scn_loc){v->line, v->col};
    }
    return st;
}

vtx_status scn_ld_mem(scn_ld *L, const ynode *n, const char *what, bool allow_asm, scn_mem **items, size_t *count)
{
    static const char *const keys_asm[] = {"at", "bytes", "u8", "u16", "u32", "u64", "asm", NULL};
    static const char *const keys[] = {"at", "bytes", "u8", "u16", "u32", "u64", NULL};
    vtx_status st = scn_ld_type(L, n, Y_SEQ, what);
    for (size_t i = 0; st == VTX_OK && i < n->n; i++) {
        const ynode *it = n->items[i];
        char w[64];
        snprintf(w, sizeof w, "%s item %zu", what, i + 1);
        if ((st = scn_ld_keys(L, it, w, allow_asm ? keys_asm : keys)) != VTX_OK)
            return st;
        scn_mem *m = scn_push((void **)items, count, sizeof **items);
        if (!m)
            return VTX_ERR_NO_MEMORY;
        m->block = (size_t)-1;
        m->loc = (scn_loc){it->line, it->col};
        const ynode *at = scn_ymap_get(it, "at");
        if (!at)
            return scn_ld_fail(L, it, "%s needs 'at: ADDRESS'", w);
        if ((st = scn_ld_addr(L, at, w, false, &m->at)) != VTX_OK)
            return st;
        int kinds = 0;
        for (size_t j = 0; j < it->n; j += 2) {
            const char *k = it->items[j]->text;
            const ynode *v = it->items[j + 1];
            if (strcmp(k, "at") == 0)
                continue;
            if (++kinds > 1)
                return scn_ld_fail(L, it->items[j], "%s has more than one of bytes, u8, u16, u32, u64%s", w,
                                   allow_asm ? ", asm" : "");
            if (strcmp(k, "bytes") == 0) {
                if ((st = scn_ld_type(L, v, Y_SEQ, "bytes")) != VTX_OK)
                    return st;
                if (!(m->bytes = malloc(v->n ? v->n : 1)))
                    return VTX_ERR_NO_MEMORY;
                m->len = v->n;
                for (size_t b = 0; b < v->n; b++) {
                    uint64_t x;
                    if ((st = scn_ld_u64(L, v->items[b], "a byte", 0xFF, &x)) != VTX_OK)
                        return st;
                    m->bytes[b] = (uint8_t)x;
                }
            } else if (strcmp(k, "asm") == 0) {
                if ((st = scn_ld_type(L, v, Y_SCALAR, "asm")) != VTX_OK)
                    return st;
                if (m->at.label)
                    return scn_ld_fail(L, at, "the address of an asm item must be a number");
                scn_block *b = scn_push((void **)&L->s->blocks, &L->s->nblocks, sizeof *b);
                if (!b)
                    return VTX_ERR_NO_MEMORY;
                char bw[40];
                snprintf(bw, sizeof bw, "memory item %zu", i + 1);
                b->what = scn_strdup(bw);
                b->src = scn_strdup(v->text);
                b->linear = m->at.value;
                b->bits = L->s->bits;
                uint64_t base = L->s->seg_base;
                b->org = L->s->bits == 16 ? (b->linear >= base && b->linear - base < 0x10000 ? b->linear - base
                                                                                               : (b->linear & 0xFFFF))
                                          : b->linear;
                b->first_line = v->line;
                b->col = v->col;
                b->literal = v->literal;
                m->block = L->s->nblocks - 1;
                if (!b->what || !b->src)
                    return VTX_ERR_NO_MEMORY;
            } else {
                unsigned size = k[1] == '8' ? 1 : k[1] == '1' ? 2 : k[1] == '3' ? 4 : 8;
                uint64_t x;
                if ((st = scn_ld_u64(L, v, k, size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1, &x)) != VTX_OK)
                    return st;
                if (!(m->bytes = malloc(size)))
                    return VTX_ERR_NO_MEMORY;
                m->len = size;
                for (unsigned b = 0; b < size; b++)
                    m->bytes[b] = (uint8_t)(x >> (8 * b));
            }
        }
        if (!kinds)
            return scn_ld_fail(L, it, "%s needs one of bytes, u8, u16, u32, u64%s", w, allow_asm ? ", asm" : "");
    }
    return st;
}

vtx_status scn_ld_writes(scn_ld *L, const ynode *n, const char *what, scn_write **w, size_t *count)
{
    vtx_status st = scn_ld_type(L, n, Y_MAP, what);
    for (size_t i = 0; st == VTX_OK && i < n->n; i += 2) {
        const ynode *k = n->items[i], *v = n->items[i + 1];
        const vtx_field_info *fi = NULL;
        uint64_t enc;
        bool high = false;
        if (parse_number(k->text, &enc)) {
            if (vtx_vmcs_field_lookup(enc, &fi, &high) != VTX_OK)
                return scn_ld_fail(L, k, "0x%llx is not the encoding of a VMCS field (`vtxref fields` lists them)",
                                   (unsigned long long)enc);
        } else if (vtx_vmcs_field_by_name(k->text, &fi) != VTX_OK) {
            return scn_ld_fail(L, k, "unknown VMCS field '%s' in %s (`vtxref fields` lists them)", k->text, what);
        } else {
            enc = fi->encoding;
        }
        if (!vtx_profile_has_feature(&L->s->profile, fi->feature))
            return scn_ld_fail(L, k, "VMCS field %s does not exist on profile %s (it needs %s)", fi->name,
                               L->s->profile.name, vtx_feature_name(fi->feature));
        uint64_t max = high || fi->width == VTX_WIDTH_32 ? 0xFFFFFFFFull : fi->width == VTX_WIDTH_16 ? 0xFFFF : UINT64_MAX;
        scn_write *x = scn_push((void **)w, count, sizeof **w);
        if (!x)
            return VTX_ERR_NO_MEMORY;
        x->enc = (uint32_t)enc;
        x->loc = (scn_loc){v->line, v->col};
        st = scn_ld_u64(L, v, fi->name, max, &x->value);
    }
    return st;
}

vtx_status scn_ld_controls(scn_ld *L, const ynode *n, const char *what, uint32_t ctl[VTX_CTL_FIELD_COUNT_])
{
    static const char *const keys[] = {"pin", "proc", "proc2", "exit", "entry", NULL};
    vtx_status st = scn_ld_keys(L, n, what, keys);
    for (size_t i = 0; st == VTX_OK && i < n->n; i += 2) {
        vtx_ctl_field f;
        scn_ctl_field_by_key(n->items[i]->text, &f);
        const ynode *list = n->items[i + 1];
        if (list->type == Y_SCALAR) { /* a single name */
            unsigned bit;
            if (!scn_control_by_name(f, list->text, &bit))
                return scn_ld_fail(L, list, "unknown control '%s' in %s (%s; `vtxref profiles show` lists them)",
                                   list->text, scn_ctl_key(f), vtx_control_field_name(f));
            ctl[f] |= 1u << bit;
            continue;
        }
        if ((st = scn_ld_type(L, list, Y_SEQ, scn_ctl_key(f))) != VTX_OK)
            return st;
        for (size_t j = 0; j < list->n; j++) {
            const ynode *it = list->items[j];
            if ((st = scn_ld_type(L, it, Y_SCALAR, "a control")) != VTX_OK)
                return st;
            unsigned bit;
            uint64_t num;
            if (parse_number(it->text, &num)) {
                if (num > 31)
                    return scn_ld_fail(L, it, "control bit %s is out of range (0..31)", it->text);
                bit = (unsigned)num;
            } else if (!scn_control_by_name(f, it->text, &bit)) {
                return scn_ld_fail(L, it, "unknown control '%s' in %s (%s; `vtxref profiles show` lists them)",
                                   it->text, scn_ctl_key(f), vtx_control_field_name(f));
            }
            ctl[f] |= 1u << bit;
        }
    }
    return st;
}

vtx_status scn_ld_inject(scn_ld *L, const ynode *n, const char *what, bool allow_exit_length, scn_inject *in)
{
    static const char *const keys[] = {"type", "vector", "error_code", "length", NULL};
    vtx_status st = scn_ld_keys(L, n, what, keys);
    if (st != VTX_OK)
        return st;
    in->present = true;
    in->loc = (scn_loc){n->line, n->col};
    const ynode *t = scn_ymap_get(n, "type"), *v = scn_ymap_get(n, "vector"), *e = scn_ymap_get(n, "error_code"),
                *l = scn_ymap_get(n, "length");
    if (!t || !v)
        return scn_ld_fail(L, n, "%s needs type and vector", what);
    if ((st = scn_ld_type(L, t, Y_SCALAR, "type")) != VTX_OK)
        return st;
    if (!scn_event_type_by_name(t->text, &in->type))
        return scn_ld_fail(L, t, "unknown event type '%s' (external, nmi, hardware-exception, software-interrupt, "
                                 "privileged-software-exception, software-exception, other)", t->text);
    uint64_t x;
    if ((st = scn_ld_u64(L, v, "vector", 255, &x)) != VTX_OK)
        return st;
    in->vector = (uint32_t)x;
    if (e) {
        if ((st = scn_ld_u64(L, e, "error_code", 0xFFFFFFFFu, &x)) != VTX_OK)
            return st;
        in->error_code = (uint32_t)x;
        in->has_error_code = true;
    }
    if (l) {
        if (allow_exit_length && l->type == Y_SCALAR && strcmp(l->text, "exit") == 0) {
            in->length_exit = true;
        } else {
            if ((st = scn_ld_u64(L, l, "length", 15, &x)) != VTX_OK)
                return st;
            in->length = (uint32_t)x;
        }
    }
    return VTX_OK;
}

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
            if (!parse_number(v->text, &x) || x > 3)
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
        st = scn_ld_fail(&L, root, "a scenario is a mapping of keys (name:, guest:, ...), not %s", type_word(root->type));
    if (st == VTX_OK)
        st = ld_root(&L, root);
    scn_yaml_free(root);
    if (st == VTX_OK)
        st = scn_assemble(s, 0, text, len, err);
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
