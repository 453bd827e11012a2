/* The value parsers every section of a scenario file shares (docs/scenarios.md):
 * types, keys, numbers, booleans, addresses and labels, registers, memory items,
 * VMCS fields, controls and events to inject. Each error names its node's line and column. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "scenario_internal.h"

vtx_status scn_ld_fail(scn_ld *L, const ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    scn_set_error(L->err, NULL, n ? n->line : 0, n ? n->col : 0, fmt, ap);
    va_end(ap);
    return VTX_ERR_PARSE;
}

const char *scn_type_word(ytype t) { return t == Y_MAP ? "a mapping" : t == Y_SEQ ? "a list" : "a single value"; }

vtx_status scn_ld_type(scn_ld *L, const ynode *n, ytype t, const char *what)
{
    if (!n || n->type != t)
        return scn_ld_fail(L, n, "%s must be %s, not %s", what, scn_type_word(t), n ? scn_type_word(n->type) : "nothing");
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
bool scn_parse_number(const char *t, uint64_t *v)
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
    if (!scn_parse_number(n->text, v))
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
    if (scn_parse_number(n->text, &a->value))
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
        if (!scn_parse_number(t + i + 1, &o) || o > 0xFFFFFFFFull)
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
        if (scn_parse_number(k->text, &enc)) {
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
            if (scn_parse_number(it->text, &num)) {
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

