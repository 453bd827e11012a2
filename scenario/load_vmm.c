/* Scenario files, the VMM's side: events, reactions and expectations
 * (docs/scenarios.md), and the label references they hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scenario_internal.h"

vtx_status scn_ld_event_kind(scn_ld *L, const ynode *key, const ynode *val, vtx_input *in)
{
    const char *k = key->text;
    uint64_t x;
    vtx_status st;
    bool b = true;
    if (strcmp(k, "nmi") == 0 || strcmp(k, "init") == 0) {
        if (val && (st = scn_ld_bool(L, val, k, &b)) != VTX_OK)
            return st;
        if (!b)
            return scn_ld_fail(L, val, "%s: false raises nothing; leave the event out", k);
        in->kind = k[0] == 'n' ? VTX_INPUT_NMI : VTX_INPUT_INIT;
        return VTX_OK;
    }
    if (!val)
        return scn_ld_fail(L, key, "'%s' needs a value ({%s: VECTOR})", k, k);
    if (strcmp(k, "interrupt") == 0) {
        if (val->type == Y_SCALAR && strcmp(val->text, "off") == 0) {
            in->kind = VTX_INPUT_INTR_CLEAR;
            return VTX_OK;
        }
        if ((st = scn_ld_u64(L, val, "interrupt vector", 255, &x)) != VTX_OK)
            return st;
        in->kind = VTX_INPUT_INTR_ASSERT;
        in->vector = (uint8_t)x;
        return VTX_OK;
    }
    if (strcmp(k, "sipi") == 0) {
        if ((st = scn_ld_u64(L, val, "SIPI vector", 255, &x)) != VTX_OK)
            return st;
        in->kind = VTX_INPUT_SIPI;
        in->vector = (uint8_t)x;
        return VTX_OK;
    }
    return scn_ld_fail(L, key, "unknown event '%s' (nmi, interrupt, init, sipi)", k);
}

vtx_status scn_ld_events(scn_ld *L, const ynode *n)
{
    static const char *const keys[] = {"instruction", "cycle", "nmi", "interrupt", "init", "sipi", NULL};
    vtx_status st = scn_ld_type(L, n, Y_SEQ, "events");
    for (size_t i = 0; st == VTX_OK && i < n->n; i++) {
        const ynode *it = n->items[i];
        char w[40];
        snprintf(w, sizeof w, "event %zu", i + 1);
        if ((st = scn_ld_keys(L, it, w, keys)) != VTX_OK)
            return st;
        scn_event *e = scn_push((void **)&L->s->events, &L->s->nevents, sizeof *e);
        if (!e)
            return VTX_ERR_NO_MEMORY;
        e->loc = (scn_loc){it->line, it->col};
        int times = 0, kinds = 0;
        for (size_t j = 0; j < it->n; j += 2) {
            const ynode *k = it->items[j], *v = it->items[j + 1];
            if (strcmp(k->text, "instruction") == 0 || strcmp(k->text, "cycle") == 0) {
                if (times++)
                    return scn_ld_fail(L, k, "%s has two times; give one of instruction: N or cycle: N", w);
                e->in.at_cycle = k->text[0] == 'c';
                if ((st = scn_ld_u64(L, v, k->text, UINT64_MAX, &e->in.when)) != VTX_OK)
                    return st;
            } else {
                if (kinds++)
                    return scn_ld_fail(L, k, "%s has two events; give one per item", w);
                if ((st = scn_ld_event_kind(L, k, v, &e->in)) != VTX_OK)
                    return st;
            }
        }
        if (!times || !kinds)
            return scn_ld_fail(L, it, "%s needs a time (instruction: N or cycle: N) and an event (nmi, interrupt, "
                                      "init, sipi)", w);
    }
    if (st == VTX_OK && L->s->nevents > 64)
        return scn_ld_fail(L, n->items[64], "at most 64 events");
    return st;
}

static vtx_status ld_reason(scn_ld *L, const ynode *v, uint32_t *reason, bool *any_failure)
{
    vtx_status st = scn_ld_type(L, v, Y_SCALAR, "exit reason");
    if (st != VTX_OK)
        return st;
    *any_failure = false;
    if (strcmp(v->text, "ENTRY_FAILURE") == 0 || strcmp(v->text, "entry_failure") == 0) {
        *any_failure = true;
        *reason = VTX_EXIT_REASON_ENTRY_FAILURE;
        return VTX_OK;
    }
    if (scn_exit_reason_by_name(v->text, reason))
        return VTX_OK;
    uint64_t x;
    if (v->text[0] >= '0' && v->text[0] <= '9') {
        if ((st = scn_ld_u64(L, v, "exit reason", 0xFFFFFFFFu, &x)) != VTX_OK)
            return st;
        *reason = (uint32_t)x;
        return VTX_OK;
    }
    return scn_ld_fail(L, v, "unknown exit reason '%s' (`vtxref exit-reasons` lists them; ENTRY_FAILURE for any "
                             "VM-entry failure)", v->text);
}

static vtx_status ld_step(scn_ld *L, const ynode *it, const char *w, scn_step *sp)
{
    if (it->type == Y_SCALAR) { /* `- skip` */
        if (strcmp(it->text, "skip") == 0) {
            sp->kind = ST_SKIP;
            return VTX_OK;
        }
        return scn_ld_fail(L, it, "unknown step '%s' (set, clear, inject, skip, write, registers, memory, raise)",
                           it->text);
    }
    vtx_status st = scn_ld_type(L, it, Y_MAP, w);
    if (st != VTX_OK)
        return st;
    if (it->n != 2)
        return scn_ld_fail(L, it, "%s must have one key (set, clear, inject, skip, write, registers, memory, raise)", w);
    const ynode *k = it->items[0], *v = it->items[1];
    const char *kt = k->text;
    if (strcmp(kt, "set") == 0 || strcmp(kt, "clear") == 0) {
        sp->kind = kt[0] == 's' ? ST_SET : ST_CLEAR;
        return scn_ld_controls(L, v, kt, sp->ctl);
    }
    if (strcmp(kt, "inject") == 0) {
        sp->kind = ST_INJECT;
        return scn_ld_inject(L, v, "inject", true, &sp->inject);
    }
    if (strcmp(kt, "skip") == 0) {
        bool b;
        sp->kind = ST_SKIP;
        if ((st = scn_ld_bool(L, v, "skip", &b)) != VTX_OK)
            return st;
        return b ? VTX_OK : scn_ld_fail(L, v, "skip: false does nothing; leave the step out");
    }
    if (strcmp(kt, "write") == 0) {
        sp->kind = ST_WRITE;
        return scn_ld_writes(L, v, "write", &sp->writes, &sp->nwrites);
    }
    if (strcmp(kt, "registers") == 0) {
        sp->kind = ST_REGS;
        return scn_ld_regs(L, v, "registers", true, &sp->regs);
    }
    if (strcmp(kt, "memory") == 0) {
        sp->kind = ST_MEMORY;
        return scn_ld_mem(L, v, "memory", false, &sp->mem, &sp->nmem);
    }
    if (strcmp(kt, "raise") == 0) {
        sp->kind = ST_RAISE;
        if (v->type == Y_SCALAR)
            return scn_ld_event_kind(L, v, NULL, &sp->raise);
        if ((st = scn_ld_type(L, v, Y_MAP, "raise")) != VTX_OK)
            return st;
        if (v->n != 2)
            return scn_ld_fail(L, v, "raise takes one event: nmi, init, {interrupt: V}, {interrupt: off}, {sipi: V}");
        return scn_ld_event_kind(L, v->items[0], v->items[1], &sp->raise);
    }
    return scn_ld_fail(L, k, "unknown step '%s' (set, clear, inject, skip, write, registers, memory, raise)", kt);
}

/* A `set` step may only set controls the profile allows (clearing anything is allowed:
 * that is how a scenario provokes a VMfail). */
static vtx_status check_settable(scn_ld *L, const ynode *step, const uint32_t ctl[VTX_CTL_FIELD_COUNT_])
{
    for (int f = 0; f < VTX_CTL_FIELD_COUNT_; f++) {
        uint32_t must1, may1;
        vtx_profile_ctl_caps(&L->s->profile, (vtx_ctl_field)f, &must1, &may1);
        uint32_t bad = ctl[f] & ~may1;
        if (bad) {
            unsigned bit = (unsigned)__builtin_ctz(bad);
            const char *name = vtx_control_bit_name((vtx_ctl_field)f, bit);
            return scn_ld_fail(L, step, "profile %s cannot set the %s control '%s' (bit %u)", L->s->profile.name,
                               scn_ctl_key((vtx_ctl_field)f), name ? name : "?", bit);
        }
    }
    return VTX_OK;
}

vtx_status scn_ld_reactions(scn_ld *L, const ynode *n)
{
    static const char *const keys[] = {"on", "do", "then", NULL};
    static const char *const on_keys[] = {"exit", "occurrence", "qualification", "rip", NULL};
    vtx_status st = scn_ld_type(L, n, Y_SEQ, "reactions");
    for (size_t i = 0; st == VTX_OK && i < n->n; i++) {
        const ynode *it = n->items[i], *v;
        char w[40];
        snprintf(w, sizeof w, "reaction %zu", i + 1);
        if ((st = scn_ld_keys(L, it, w, keys)) != VTX_OK)
            return st;
        scn_reaction *r = scn_push((void **)&L->s->reactions, &L->s->nreactions, sizeof *r);
        if (!r)
            return VTX_ERR_NO_MEMORY;
        r->loc = (scn_loc){it->line, it->col};
        const ynode *on = scn_ymap_get(it, "on");
        if (!on)
            return scn_ld_fail(L, it, "%s needs 'on: {exit: REASON}'", w);
        if ((st = scn_ld_keys(L, on, "on", on_keys)) != VTX_OK)
            return st;
        if (!(v = scn_ymap_get(on, "exit")))
            return scn_ld_fail(L, on, "'on' needs 'exit: REASON'");
        if ((st = ld_reason(L, v, &r->reason, &r->any_failure)) != VTX_OK)
            return st;
        uint64_t x;
        if ((v = scn_ymap_get(on, "occurrence"))) {
            if ((st = scn_ld_u64(L, v, "occurrence", 0xFFFFFFFFu, &x)) != VTX_OK)
                return st;
            if (x == 0)
                return scn_ld_fail(L, v, "occurrence counts from 1");
            r->occurrence = (uint32_t)x;
        }
        if ((v = scn_ymap_get(on, "qualification"))) {
            r->has_qual = true;
            if ((st = scn_ld_u64(L, v, "qualification", UINT64_MAX, &r->qual)) != VTX_OK)
                return st;
        }
        if ((v = scn_ymap_get(on, "rip"))) {
            r->has_rip = true;
            if ((st = scn_ld_addr(L, v, "rip", true, &r->rip)) != VTX_OK)
                return st;
        }
        if ((v = scn_ymap_get(it, "do"))) {
            if ((st = scn_ld_type(L, v, Y_SEQ, "do")) != VTX_OK)
                return st;
            for (size_t j = 0; j < v->n; j++) {
                scn_step *sp = scn_push((void **)&r->steps, &r->nsteps, sizeof *sp);
                if (!sp)
                    return VTX_ERR_NO_MEMORY;
                sp->loc = (scn_loc){v->items[j]->line, v->items[j]->col};
                char sw[80];
                snprintf(sw, sizeof sw, "step %zu of %s", j + 1, w);
                if ((st = ld_step(L, v->items[j], sw, sp)) != VTX_OK)
                    return st;
                if (sp->kind == ST_SET && (st = check_settable(L, v->items[j], sp->ctl)) != VTX_OK)
                    return st;
            }
        }
        if ((v = scn_ymap_get(it, "then"))) {
            if ((st = scn_ld_type(L, v, Y_SCALAR, "then")) != VTX_OK)
                return st;
            if (strcmp(v->text, "stop") == 0)
                r->stop = true;
            else if (strcmp(v->text, "resume") != 0)
                return scn_ld_fail(L, v, "then must be resume or stop, not '%s'", v->text);
        }
    }
    return st;
}

static scn_cmp *add_cmp(scn_expect *e, scn_cmp_kind kind, const ynode *at)
{
    scn_cmp *c = scn_push((void **)&e->cmps, &e->n, sizeof *c);
    if (c) {
        c->kind = kind;
        c->loc = (scn_loc){at->line, at->col};
    }
    return c;
}

static vtx_status ld_cmp_regs(scn_ld *L, const ynode *v, scn_expect *e)
{
    scn_regs r = {0};
    vtx_status st = scn_ld_regs(L, v, "registers", true, &r);
    for (int i = 0; st == VTX_OK && i < SCN_REG_COUNT; i++) {
        if (!(r.mask & (1u << i)))
            continue;
        scn_cmp *c = scn_push((void **)&e->cmps, &e->n, sizeof *c);
        if (!c) {
            st = VTX_ERR_NO_MEMORY;
            break;
        }
        c->kind = CMP_REG;
        c->key = i;
        c->value = r.v[i];
        c->loc = r.loc[i];
        if (i == SCN_REG_rip) {
            c->addr = r.rip;
            r.rip.label = NULL;
        }
    }
    free(r.rip.label);
    return st;
}

static vtx_status ld_cmp_mem(scn_ld *L, const ynode *v, scn_expect *e)
{
    scn_mem *items = NULL;
    size_t n = 0;
    vtx_status st = scn_ld_mem(L, v, "memory", false, &items, &n);
    for (size_t i = 0; i < n; i++) {
        scn_cmp *c = st == VTX_OK ? scn_push((void **)&e->cmps, &e->n, sizeof *c) : NULL;
        if (!c) {
            free(items[i].at.label);
            free(items[i].bytes);
            st = st == VTX_OK ? VTX_ERR_NO_MEMORY : st;
            continue;
        }
        c->kind = CMP_MEM;
        c->addr = items[i].at;
        c->bytes = items[i].bytes;
        c->len = items[i].len;
        c->loc = items[i].loc;
    }
    free(items);
    return st;
}

static vtx_status ld_cmp_fields(scn_ld *L, const ynode *v, scn_expect *e)
{
    scn_write *w = NULL;
    size_t n = 0;
    vtx_status st = scn_ld_writes(L, v, "fields", &w, &n);
    for (size_t i = 0; st == VTX_OK && i < n; i++) {
        scn_cmp *c = scn_push((void **)&e->cmps, &e->n, sizeof *c);
        if (!c) {
            st = VTX_ERR_NO_MEMORY;
            break;
        }
        c->kind = CMP_FIELD;
        c->enc = w[i].enc;
        c->value = w[i].value;
        c->loc = w[i].loc;
    }
    free(w);
    return st;
}

static vtx_status ld_check_name(scn_ld *L, const ynode *v, scn_expect *e)
{
    vtx_status st = scn_ld_type(L, v, Y_SCALAR, "check");
    vtx_check chk;
    if (st != VTX_OK)
        return st;
    if (!scn_check_by_name(v->text, &chk))
        return scn_ld_fail(L, v, "unknown check '%s' (`vtxref checks` lists them)", v->text);
    scn_cmp *c = add_cmp(e, CMP_CHECK, v);
    if (!c)
        return VTX_ERR_NO_MEMORY;
    c->value = (uint64_t)chk;
    return VTX_OK;
}

static vtx_status ld_exit_expect(scn_ld *L, const ynode *it, const char *w, scn_expect *e)
{
    static const char *const keys[] = {"reason", "qualification", "guest_linear", "guest_physical", "intr_info",
                                       "intr_error", "idt_vectoring", "idt_vectoring_error", "length", "insn_info",
                                       "rip", "rflags", "interruptibility", "activity", "pending_debug", "check",
                                       "registers", "memory", "fields", NULL};
    vtx_status st = scn_ld_keys(L, it, w, keys);
    e->loc = (scn_loc){it->line, it->col};
    for (size_t j = 0; st == VTX_OK && j < it->n; j += 2) {
        const ynode *k = it->items[j], *v = it->items[j + 1];
        scn_key key;
        if (strcmp(k->text, "registers") == 0) {
            st = ld_cmp_regs(L, v, e);
        } else if (strcmp(k->text, "memory") == 0) {
            st = ld_cmp_mem(L, v, e);
        } else if (strcmp(k->text, "fields") == 0) {
            st = ld_cmp_fields(L, v, e);
        } else if (strcmp(k->text, "check") == 0) {
            st = ld_check_name(L, v, e);
        } else if (scn_key_by_name(k->text, &key)) {
            scn_cmp *c = add_cmp(e, CMP_EXIT, v);
            if (!c)
                return VTX_ERR_NO_MEMORY;
            c->key = key;
            if (key == SCN_K_reason) {
                uint32_t r;
                st = ld_reason(L, v, &r, &c->any_failure);
                c->value = r;
            } else if (key == SCN_K_rip) {
                st = scn_ld_addr(L, v, "rip", true, &c->addr);
            } else if (key == SCN_K_activity && v->type == Y_SCALAR && scn_activity_by_name(v->text, &(uint32_t){0})) {
                uint32_t a = 0;
                scn_activity_by_name(v->text, &a);
                c->value = a;
            } else if (key == SCN_K_interruptibility && v->type == Y_SEQ) {
                for (size_t b = 0; st == VTX_OK && b < v->n; b++) {
                    uint32_t bit;
                    if ((st = scn_ld_type(L, v->items[b], Y_SCALAR, "a blocking")) != VTX_OK)
                        break;
                    if (!scn_intr_bit_by_name(v->items[b]->text, &bit))
                        return scn_ld_fail(L, v->items[b], "unknown blocking '%s' (sti, mov-ss, smi, nmi)",
                                           v->items[b]->text);
                    c->value |= bit;
                }
            } else {
                bool wide = key == SCN_K_qualification || key == SCN_K_guest_linear || key == SCN_K_guest_physical ||
                            key == SCN_K_rflags || key == SCN_K_pending_debug;
                st = scn_ld_u64(L, v, k->text, wide ? UINT64_MAX : 0xFFFFFFFFu, &c->value);
            }
        }
    }
    return st;
}

/* expect.findings: [NAME, ...], the VMM checker's finding names (vmm_check.h), each at most once. */
static vtx_status ld_findings(scn_ld *L, const ynode *v)
{
    vtx_scenario *s = L->s;
    vtx_status st = scn_ld_type(L, v, Y_SEQ, "expect.findings");
    if (st != VTX_OK)
        return st;
    s->findings_loc = (scn_loc){v->line, v->col};
    for (size_t i = 0; i < v->n; i++) {
        const ynode *it = v->items[i];
        if ((st = scn_ld_type(L, it, Y_SCALAR, "a finding name")) != VTX_OK)
            return st;
        vtx_vmm_finding_kind k;
        if (vtx_vmm_finding_lookup(it->text, &k) != VTX_OK)
            return scn_ld_fail(L, it, "unknown VMM finding '%s' in expect.findings (docs/vmm-check.md lists them)",
                               it->text);
        for (size_t j = 0; j < s->nfindings; j++)
            if (s->findings[j] == (uint32_t)k)
                return scn_ld_fail(L, it, "finding %s listed twice in expect.findings", it->text);
        uint32_t *f = scn_push((void **)&s->findings, &s->nfindings, sizeof *f);
        if (!f)
            return VTX_ERR_NO_MEMORY;
        *f = (uint32_t)k;
    }
    return VTX_OK;
}

vtx_status scn_ld_expect(scn_ld *L, const ynode *n)
{
    static const char *const keys[] = {"exits", "vmfail", "end", "findings", NULL};
    static const char *const end_keys[] = {"registers", "memory", "instructions", "cycles", NULL};
    vtx_scenario *s = L->s;
    vtx_status st = scn_ld_keys(L, n, "expect", keys);
    if (st != VTX_OK)
        return st;
    s->has_expect = true;
    const ynode *v;
    if ((v = scn_ymap_get(n, "exits"))) {
        if ((st = scn_ld_type(L, v, Y_SEQ, "expect.exits")) != VTX_OK)
            return st;
        s->expect_exits = true;
        for (size_t i = 0; i < v->n; i++) {
            scn_expect *e = scn_push((void **)&s->exp, &s->nexp, sizeof *e);
            if (!e)
                return VTX_ERR_NO_MEMORY;
            char w[40];
            snprintf(w, sizeof w, "expected exit %zu", i + 1);
            if ((st = ld_exit_expect(L, v->items[i], w, e)) != VTX_OK)
                return st;
        }
    }
    if ((v = scn_ymap_get(n, "vmfail"))) {
        if (s->expect_exits)
            return scn_ld_fail(L, v, "expect has both exits and vmfail; a VMLAUNCH that fails has no exits");
        s->expect_vmfail = true;
        s->vmfail.loc = (scn_loc){v->line, v->col};
        if (v->type == Y_SCALAR) {
            bool b;
            if ((st = scn_ld_bool(L, v, "vmfail", &b)) != VTX_OK)
                return st;
            if (!b)
                return scn_ld_fail(L, v, "vmfail: false is the default; leave it out");
        } else {
            static const char *const vkeys[] = {"error", "check", NULL};
            if ((st = scn_ld_keys(L, v, "vmfail", vkeys)) != VTX_OK)
                return st;
            const ynode *x;
            if ((x = scn_ymap_get(v, "error"))) {
                scn_cmp *c = add_cmp(&s->vmfail, CMP_VMERROR, x);
                if (!c)
                    return VTX_ERR_NO_MEMORY;
                if ((st = scn_ld_u64(L, x, "error", 255, &c->value)) != VTX_OK)
                    return st;
            }
            if ((x = scn_ymap_get(v, "check")) && (st = ld_check_name(L, x, &s->vmfail)) != VTX_OK)
                return st;
        }
    }
    if ((v = scn_ymap_get(n, "findings")) && (st = ld_findings(L, v)) != VTX_OK)
        return st;
    if ((v = scn_ymap_get(n, "end"))) {
        if ((st = scn_ld_keys(L, v, "expect.end", end_keys)) != VTX_OK)
            return st;
        s->end.loc = (scn_loc){v->line, v->col};
        const ynode *x;
        if ((x = scn_ymap_get(v, "registers")) && (st = ld_cmp_regs(L, x, &s->end)) != VTX_OK)
            return st;
        if ((x = scn_ymap_get(v, "memory")) && (st = ld_cmp_mem(L, x, &s->end)) != VTX_OK)
            return st;
        if ((x = scn_ymap_get(v, "instructions"))) {
            scn_cmp *c = add_cmp(&s->end, CMP_INSTR, x);
            if (!c)
                return VTX_ERR_NO_MEMORY;
            if ((st = scn_ld_u64(L, x, "instructions", UINT64_MAX, &c->value)) != VTX_OK)
                return st;
        }
        if ((x = scn_ymap_get(v, "cycles"))) {
            scn_cmp *c = add_cmp(&s->end, CMP_CYCLES, x);
            if (!c)
                return VTX_ERR_NO_MEMORY;
            if ((st = scn_ld_u64(L, x, "cycles", UINT64_MAX, &c->value)) != VTX_OK)
                return st;
        }
    }
    return VTX_OK;
}

static vtx_status resolve_expect(scn_ld *L, scn_expect *e)
{
    vtx_status st = VTX_OK;
    for (size_t i = 0; st == VTX_OK && i < e->n; i++)
        st = scn_ld_resolve(L, &e->cmps[i].addr);
    return st;
}

vtx_status scn_ld_resolve_all(scn_ld *L)
{
    vtx_scenario *s = L->s;
    vtx_status st = scn_ld_resolve(L, &s->regs.rip);
    for (size_t i = 0; st == VTX_OK && i < s->nmem; i++) {
        const scn_mem *m = &s->mem[i];
        if ((st = scn_ld_resolve(L, &s->mem[i].at)) != VTX_OK)
            break;
        size_t len = m->block != (size_t)-1 ? s->blocks[m->block].size : m->len;
        if (m->at.value > SCN_RAM_SIZE || len > SCN_RAM_SIZE - m->at.value)
            return scn_fail(L->err, NULL, m->loc.line, m->loc.col,
                            "memory at 0x%llx (%zu bytes) is outside the 4-MiB guest RAM",
                            (unsigned long long)m->at.value, len);
    }
    for (size_t i = 0; st == VTX_OK && i < s->nreactions; i++) {
        scn_reaction *r = &s->reactions[i];
        st = scn_ld_resolve(L, &r->rip);
        for (size_t j = 0; st == VTX_OK && j < r->nsteps; j++) {
            st = scn_ld_resolve(L, &r->steps[j].regs.rip);
            for (size_t k = 0; st == VTX_OK && k < r->steps[j].nmem; k++)
                st = scn_ld_resolve(L, &r->steps[j].mem[k].at);
        }
    }
    for (size_t i = 0; st == VTX_OK && i < s->nexp; i++)
        st = resolve_expect(L, &s->exp[i]);
    if (st == VTX_OK)
        st = resolve_expect(L, &s->vmfail);
    if (st == VTX_OK)
        st = resolve_expect(L, &s->end);
    return st;
}
