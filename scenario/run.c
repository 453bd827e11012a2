/* Running a scenario: the machine, VMXON, the VMCS, VMLAUNCH, and the VMM loop
 * that reports every exit, checks it against the expectations and plays the
 * first matching reaction (docs/scenarios.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scenario_internal.h"

typedef struct runner {
    const vtx_scenario *s;
    const vtx_scenario_callbacks *cb;
    vtx_scenario_result *res;
    vtx_scenario_error *err;
    vtx_machine *m;
    uint8_t *ram;
    uint32_t nexits;
    uint32_t counts[129]; /* exits by basic reason; [128]: VM-entry failures */
    bool failed;          /* an expectation failed */
    uint32_t repeats;     /* exits in a row identical to the one before, no instruction retired between */
    vtx_scenario_exit exit;
    const vtx_scenario_run_options *opts;
    vtx_vmm_checker *chk;                  /* opts->vmm_check: the machine's checker */
    uint32_t seen[VTX_VMM_FINDING_COUNT];  /* findings reported, by kind */
} runner;

static void reason_text(uint32_t reason, char *buf, size_t size)
{
    const char *n = vtx_exit_reason_name(reason & 0xFFFF);
    if (reason & VTX_EXIT_REASON_ENTRY_FAILURE)
        snprintf(buf, size, "%s, VM-entry failure", n ? n : "?");
    else
        snprintf(buf, size, "%s", n ? n : "?");
}

static void action(runner *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void action(runner *R, const char *fmt, ...)
{
    if (!R->cb || !R->cb->on_action)
        return;
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    R->cb->on_action(R->cb->user, R->nexits, text);
}

/* Report one expectation; returns its outcome. */
static bool report(runner *R, uint32_t exit_index, const char *what, bool ok, const char *expected, const char *actual,
                   int line)
{
    char sentence[512], where[96];
    if (exit_index) {
        char rt[64];
        reason_text(R->exit.reason, rt, sizeof rt);
        snprintf(where, sizeof where, "exit %u (%s)", exit_index, rt);
    } else {
        snprintf(where, sizeof where, "end of run");
    }
    /* Each part bounded so that the sentence always fits (95 + 100 + 140 + 140 + 18 < 512). */
    if (ok)
        snprintf(sentence, sizeof sentence, "%s: %.100s = %.140s", where, what, actual);
    else
        snprintf(sentence, sizeof sentence, "%s: %.100s expected %.140s, got %.140s", where, what, expected, actual);
    if (ok) {
        R->res->checks_passed++;
    } else {
        R->res->checks_failed++;
        if (!R->failed) {
            R->failed = true;
            R->res->outcome = VTX_SCN_MISMATCH;
            snprintf(R->res->first_mismatch, sizeof R->res->first_mismatch, "%s", sentence);
            R->res->mismatch_line = line;
        }
    }
    if (R->cb && R->cb->on_check) {
        vtx_scenario_check c = {exit_index, what, ok, expected, actual, line, sentence};
        R->cb->on_check(R->cb->user, &c);
    }
    return ok;
}

/* A mismatch about a VMM finding (the sentence is built by the caller). */
static void finding_report(runner *R, uint32_t exit_index, const char *name, bool ok, const char *expected,
                           const char *actual, const char *sentence)
{
    char what[64];
    snprintf(what, sizeof what, "finding %s", name);
    const int line = R->s->nfindings ? R->s->findings_loc.line : 0;
    if (ok) {
        R->res->checks_passed++;
    } else {
        R->res->checks_failed++;
        if (!R->failed) {
            R->failed = true;
            R->res->outcome = VTX_SCN_MISMATCH;
            snprintf(R->res->first_mismatch, sizeof R->res->first_mismatch, "%s", sentence);
            R->res->mismatch_line = line;
        }
    }
    if (R->cb && R->cb->on_check) {
        vtx_scenario_check c = {exit_index, what, ok, expected, actual, line, sentence};
        R->cb->on_check(R->cb->user, &c);
    }
}

static bool finding_expected(const vtx_scenario *s, vtx_vmm_finding_kind k)
{
    for (size_t i = 0; i < s->nfindings; i++)
        if (s->findings[i] == (uint32_t)k)
            return true;
    return false;
}

/* The checker's callback: count, pass on, and an error finding the scenario does not expect is a mismatch. */
static void on_finding(void *user, const vtx_vmm_finding *f)
{
    runner *R = user;
    const bool expected = finding_expected(R->s, f->kind);
    if (f->severity == VTX_VMM_ERROR)
        R->res->findings_errors++;
    else
        R->res->findings_warnings++;
    if ((unsigned)f->kind < VTX_VMM_FINDING_COUNT)
        R->seen[f->kind]++;
    if (R->opts->on_finding)
        R->opts->on_finding(R->cb ? R->cb->user : NULL, f, expected);
    if (expected || f->severity != VTX_VMM_ERROR)
        return;
    char line[512], sentence[512];
    vtx_vmm_finding_format(f, line, sizeof line);
    char where[96];
    if (f->exit_index) {
        const char *rn = vtx_exit_reason_name(f->exit_reason & 0xFFFF);
        snprintf(where, sizeof where, "exit %llu (%s)", (unsigned long long)f->exit_index, rn ? rn : "?");
    } else {
        snprintf(where, sizeof where, "end of run");
    }
    snprintf(sentence, sizeof sentence, "%.90s: unexpected VMM finding: %.380s", where, line);
    finding_report(R, (uint32_t)f->exit_index, f->name, false, "not expected", "reported", sentence);
}

/* End of run with a checker: report what is still owed, then every expected finding that did not occur. */
static void finish_findings(runner *R)
{
    if (!R->chk)
        return;
    vtx_vmm_check_report rep;
    vtx_vmm_check_finalize(R->chk, &rep);
    for (size_t i = 0; i < R->s->nfindings; i++) {
        const uint32_t k = R->s->findings[i];
        const char *name = vtx_vmm_finding_name((vtx_vmm_finding_kind)k);
        char sentence[512], act[64];
        snprintf(act, sizeof act, "%u time%s", R->seen[k], R->seen[k] == 1 ? "" : "s");
        if (R->seen[k])
            snprintf(sentence, sizeof sentence, "end of run: finding %s = reported %s", name, act);
        else
            snprintf(sentence, sizeof sentence,
                     "end of run: finding %s expected, but the VMM checker did not report it (%u exit%s, %llu "
                     "entr%s)", name, R->nexits, R->nexits == 1 ? "" : "s", (unsigned long long)rep.entries,
                     rep.entries == 1 ? "y" : "ies");
        finding_report(R, 0, name, R->seen[k] != 0, "reported", R->seen[k] ? act : "not reported", sentence);
    }
}

static bool check_all(runner *R, uint32_t exit_index, const scn_expect *e, const scn_run_view *v)
{
    for (size_t i = 0; i < e->n; i++) {
        char what[96], exp[160], act[160];
        bool ok = scn_cmp_check(R->s, &e->cmps[i], v, what, sizeof what, exp, sizeof exp, act, sizeof act);
        if (!report(R, exit_index, what, ok, exp, act, e->cmps[i].loc.line))
            return false;
    }
    return true;
}

static uint64_t peek(const vtx_machine *m, uint32_t enc)
{
    uint64_t v = 0;
    if (vtx_machine_peek_field(m, enc, &v) != VTX_OK)
        v = 0;
    return v;
}

static void read_exit(runner *R, const vtx_insn_result *r)
{
    vtx_scenario_exit *x = &R->exit;
    memset(x, 0, sizeof *x);
    x->index = R->nexits;
    x->reason = (uint32_t)peek(R->m, VTX_VMCS_EXIT_REASON);
    x->qualification = peek(R->m, VTX_VMCS_EXIT_QUALIFICATION);
    x->guest_linear = peek(R->m, VTX_VMCS_GUEST_LINEAR_ADDR);
    x->guest_physical = peek(R->m, VTX_VMCS_GUEST_PHYSICAL_ADDR);
    x->intr_info = (uint32_t)peek(R->m, VTX_VMCS_EXIT_INTR_INFO);
    x->intr_error = (uint32_t)peek(R->m, VTX_VMCS_EXIT_INTR_ERROR_CODE);
    x->idt_vectoring = (uint32_t)peek(R->m, VTX_VMCS_IDT_VECTORING_INFO);
    x->idt_vectoring_error = (uint32_t)peek(R->m, VTX_VMCS_IDT_VECTORING_ERROR_CODE);
    x->length = (uint32_t)peek(R->m, VTX_VMCS_EXIT_INSTRUCTION_LEN);
    x->insn_info = (uint32_t)peek(R->m, VTX_VMCS_EXIT_INSTRUCTION_INFO);
    x->rip = peek(R->m, VTX_VMCS_GUEST_RIP);
    x->rflags = peek(R->m, VTX_VMCS_GUEST_RFLAGS);
    x->interruptibility = (uint32_t)peek(R->m, VTX_VMCS_GUEST_INTERRUPTIBILITY);
    x->activity = (uint32_t)peek(R->m, VTX_VMCS_GUEST_ACTIVITY_STATE);
    x->pending_debug = peek(R->m, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
    x->preemption_timer = peek(R->m, VTX_VMCS_PREEMPTION_TIMER_VALUE);
    x->cycles = vtx_machine_cycles(R->m);
    x->instructions = vtx_machine_instructions(R->m);
    x->check = (x->reason & VTX_EXIT_REASON_ENTRY_FAILURE) ? r->check : VTX_CHECK_NONE;
    x->cs_base = peek(R->m, VTX_VMCS_GUEST_CS_BASE);
    vtx_scenario_label(R->s, x->cs_base + x->rip, x->rip_label, sizeof x->rip_label);
}

static const scn_reaction *find_reaction(runner *R)
{
    const vtx_scenario_exit *x = &R->exit;
    const bool failure = x->reason & VTX_EXIT_REASON_ENTRY_FAILURE;
    const uint32_t basic = x->reason & 0xFFFF;
    for (size_t i = 0; i < R->s->nreactions; i++) {
        const scn_reaction *r = &R->s->reactions[i];
        if (r->any_failure ? !failure
                           : (r->reason & VTX_EXIT_REASON_ENTRY_FAILURE ? r->reason != x->reason : r->reason != basic))
            continue;
        uint32_t n = failure && r->any_failure ? R->counts[128] : R->counts[basic < 128 ? basic : 127];
        if (r->occurrence && r->occurrence != n)
            continue;
        if (r->has_qual && r->qual != x->qualification)
            continue;
        if (r->has_rip && r->rip.value != x->rip)
            continue;
        return r;
    }
    return NULL;
}

static const uint32_t ctl_fields[VTX_CTL_FIELD_COUNT_] = {VTX_VMCS_PIN_CONTROLS, VTX_VMCS_PROC_CONTROLS,
                                                          VTX_VMCS_PROC_CONTROLS2, VTX_VMCS_EXIT_CONTROLS,
                                                          VTX_VMCS_ENTRY_CONTROLS};

/* VMWRITE in a reaction; a failure is the scenario's fault (bad input at the step). */
static vtx_status step_write(runner *R, const scn_step *sp, uint32_t enc, uint64_t v)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmwrite(R->m, enc, v, &r);
    if (st == VTX_OK && r.outcome == VTX_VMSUCCEED)
        return VTX_OK;
    const vtx_field_info *fi = NULL;
    vtx_vmcs_field_lookup(enc, &fi, NULL);
    return scn_fail(R->err, NULL, sp->loc.line, sp->loc.col, "reaction to exit %u: VMWRITE %s = 0x%llx failed: %s",
                    R->nexits, fi ? fi->name : "?", (unsigned long long)v, st != VTX_OK ? vtx_status_name(st) : r.why);
}

static vtx_status do_controls(runner *R, const scn_step *sp)
{
    const bool set = sp->kind == ST_SET;
    for (int f = 0; f < VTX_CTL_FIELD_COUNT_; f++) {
        uint32_t bits = sp->ctl[f];
        if (!bits)
            continue;
        uint64_t v = peek(R->m, ctl_fields[f]);
        vtx_status st = step_write(R, sp, ctl_fields[f], set ? v | bits : v & ~(uint64_t)bits);
        if (st != VTX_OK)
            return st;
        if (set && f == VTX_CTL_PROC2) {
            uint64_t p = peek(R->m, VTX_VMCS_PROC_CONTROLS);
            if (!(p & VTX_PROC_SECONDARY_CONTROLS) &&
                (st = step_write(R, sp, VTX_VMCS_PROC_CONTROLS, p | VTX_PROC_SECONDARY_CONTROLS)) != VTX_OK)
                return st;
        }
        char names[300] = "";
        size_t used = 0;
        for (unsigned b = 0; b < 32 && used < sizeof names; b++)
            if (bits & (1u << b)) {
                const char *n = vtx_control_bit_name((vtx_ctl_field)f, b);
                if (n)
                    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", n);
                else
                    used += (size_t)snprintf(names + used, sizeof names - used, "%sbit %u", used ? ", " : "", b);
            }
        action(R, "%s %s: %s", set ? "set" : "clear", scn_ctl_key((vtx_ctl_field)f), names);
    }
    return VTX_OK;
}

static vtx_status do_step(runner *R, const scn_step *sp)
{
    vtx_status st = VTX_OK;
    const vtx_scenario_exit *x = &R->exit;
    switch (sp->kind) {
    case ST_SET:
    case ST_CLEAR:
        return do_controls(R, sp);
    case ST_INJECT: {
        const scn_inject *in = &sp->inject;
        uint32_t len = in->length_exit ? x->length : in->length;
        uint32_t info = 0x80000000u | (in->type << 8) | in->vector | (in->has_error_code ? 1u << 11 : 0);
        if ((st = step_write(R, sp, VTX_VMCS_ENTRY_INTR_INFO, info)) == VTX_OK &&
            (st = step_write(R, sp, VTX_VMCS_ENTRY_EXCEPTION_ERROR_CODE, in->error_code)) == VTX_OK)
            st = step_write(R, sp, VTX_VMCS_ENTRY_INSTRUCTION_LEN, len);
        char ec[40] = "", ln[40] = "";
        if (in->has_error_code)
            snprintf(ec, sizeof ec, ", error code 0x%x", in->error_code);
        if (in->length_exit || in->length)
            snprintf(ln, sizeof ln, ", length %u", len);
        action(R, "inject %s 0x%02x%s%s", vtx_interruption_type_name(in->type), in->vector, ec, ln);
        return st;
    }
    case ST_SKIP: {
        uint64_t rip = peek(R->m, VTX_VMCS_GUEST_RIP), intr = peek(R->m, VTX_VMCS_GUEST_INTERRUPTIBILITY);
        if ((st = step_write(R, sp, VTX_VMCS_GUEST_RIP, rip + x->length)) == VTX_OK)
            st = step_write(R, sp, VTX_VMCS_GUEST_INTERRUPTIBILITY, intr & ~3ull);
        char to[120];
        scn_addr_text(R->s, rip + x->length, x->cs_base, to, sizeof to);
        action(R, "skip %u byte%s: rip -> %s", x->length, x->length == 1 ? "" : "s", to);
        return st;
    }
    case ST_WRITE:
        for (size_t i = 0; i < sp->nwrites && st == VTX_OK; i++) {
            const vtx_field_info *fi = NULL;
            vtx_vmcs_field_lookup(sp->writes[i].enc, &fi, NULL);
            st = step_write(R, sp, sp->writes[i].enc, sp->writes[i].value);
            action(R, "write %s = 0x%llx", fi ? fi->name : "?", (unsigned long long)sp->writes[i].value);
        }
        return st;
    case ST_REGS: {
        vtx_gprs g;
        vtx_machine_get_gprs(R->m, &g);
        uint64_t *gp = &g.rax;
        char text[300] = "";
        size_t used = 0;
        for (int r = 0; r < SCN_REG_COUNT && st == VTX_OK; r++) {
            if (!(sp->regs.mask & (1u << r)))
                continue;
            uint64_t v = r == SCN_REG_rip ? sp->regs.rip.value : sp->regs.v[r];
            if (r < SCN_GPR_COUNT)
                gp[r] = v;
            else
                st = step_write(R, sp, r == SCN_REG_rsp ? VTX_VMCS_GUEST_RSP : r == SCN_REG_rip ? VTX_VMCS_GUEST_RIP
                                                                                                : VTX_VMCS_GUEST_RFLAGS,
                                r == SCN_REG_rflags ? v | 2 : v);
            if (used < sizeof text)
                used += (size_t)snprintf(text + used, sizeof text - used, "%s%s = 0x%llx", used ? ", " : "",
                                         scn_reg_name((scn_reg)r), (unsigned long long)v);
        }
        vtx_machine_set_gprs(R->m, &g);
        action(R, "registers %s", text);
        return st;
    }
    case ST_MEMORY: {
        char why[200];
        if (scn_env_write_mem(R->s, R->ram, sp->mem, sp->nmem, why, sizeof why) != VTX_OK)
            return scn_fail(R->err, NULL, sp->loc.line, sp->loc.col, "reaction to exit %u: %s", R->nexits, why);
        for (size_t i = 0; i < sp->nmem; i++)
            action(R, "memory 0x%llx: %zu byte%s", (unsigned long long)sp->mem[i].at.value, sp->mem[i].len,
                   sp->mem[i].len == 1 ? "" : "s");
        return VTX_OK;
    }
    case ST_RAISE:
        if (R->cb && R->cb->on_input)
            R->cb->on_input(R->cb->user, &sp->raise, false);
        switch (sp->raise.kind) {
        case VTX_INPUT_NMI: vtx_machine_raise_nmi(R->m); action(R, "raise nmi"); break;
        case VTX_INPUT_INIT: vtx_machine_raise_init(R->m); action(R, "raise init"); break;
        case VTX_INPUT_INTR_ASSERT:
            vtx_machine_set_intr(R->m, true, sp->raise.vector);
            action(R, "raise interrupt 0x%02x", sp->raise.vector);
            break;
        case VTX_INPUT_INTR_CLEAR: vtx_machine_set_intr(R->m, false, 0); action(R, "raise interrupt off"); break;
        case VTX_INPUT_SIPI:
            vtx_machine_raise_sipi(R->m, sp->raise.vector);
            action(R, "raise sipi 0x%02x", sp->raise.vector);
            break;
        }
        return VTX_OK;
    }
    return VTX_OK;
}

typedef enum { GO_ON, STOP, FAIL } next;

enum { MAX_REPEATS = 100 };

static next handle_exit(runner *R, const vtx_insn_result *r, vtx_status *st)
{
    const vtx_scenario *s = R->s;
    const vtx_scenario_exit prev = R->exit;
    R->nexits++;
    read_exit(R, r);
    if (R->nexits > 1 && prev.reason == R->exit.reason && prev.rip == R->exit.rip &&
        prev.instructions == R->exit.instructions && prev.qualification == R->exit.qualification)
        R->repeats++;
    else
        R->repeats = 0;
    const vtx_scenario_exit *x = &R->exit;
    if (x->reason & VTX_EXIT_REASON_ENTRY_FAILURE)
        R->counts[128]++;
    R->counts[(x->reason & 0xFFFF) < 128 ? (x->reason & 0xFFFF) : 127]++;
    if (R->cb && R->cb->on_exit)
        R->cb->on_exit(R->cb->user, x);
    char rt[64];
    reason_text(x->reason, rt, sizeof rt);
    scn_run_view v = {R->m, R->ram, x, 0};
    if (s->expect_vmfail) {
        report(R, x->index, "vmfail", false, "VMLAUNCH to fail (VMfail)", "a VM entry", s->vmfail.loc.line);
        snprintf(R->res->end, sizeof R->res->end, "stopped at exit %u (%s): the scenario expects VMLAUNCH to fail",
                 x->index, rt);
        return STOP;
    }
    if (s->expect_exits) {
        if (x->index > s->nexp) {
            char exp[64];
            snprintf(exp, sizeof exp, "%zu exit%s", s->nexp, s->nexp == 1 ? "" : "s");
            report(R, x->index, "exits", false, exp, "one more", s->nexp ? s->exp[s->nexp - 1].loc.line : 0);
            snprintf(R->res->end, sizeof R->res->end, "stopped at exit %u (%s), which the scenario does not expect",
                     x->index, rt);
            return STOP;
        }
        if (!check_all(R, x->index, &s->exp[x->index - 1], &v)) {
            snprintf(R->res->end, sizeof R->res->end, "stopped at exit %u (%s): an expectation failed", x->index, rt);
            return STOP;
        }
    }
    const scn_reaction *re = find_reaction(R);
    if (!re) {
        snprintf(R->res->end, sizeof R->res->end, "exit %u (%s) has no reaction: the run stops", x->index, rt);
        return STOP;
    }
    for (size_t i = 0; i < re->nsteps; i++)
        if ((*st = do_step(R, &re->steps[i])) != VTX_OK)
            return FAIL;
    if (re->stop) {
        action(R, "stop");
        snprintf(R->res->end, sizeof R->res->end, "stopped by the reaction to exit %u (%s)", x->index, rt);
        return STOP;
    }
    if (R->repeats + 1 >= MAX_REPEATS) {
        snprintf(R->res->end, sizeof R->res->end,
                 "stopped after exit %u (%s): the VMM re-entered the same state %u times in a row (same exit, same "
                 "RIP, no instruction retired)", x->index, rt, MAX_REPEATS);
        return STOP;
    }
    if (s->lim_exits && R->nexits >= s->lim_exits) {
        snprintf(R->res->end, sizeof R->res->end, "stopped after exit %u (%s): the exit budget (%llu) is spent",
                 x->index, rt, (unsigned long long)s->lim_exits);
        return STOP;
    }
    if (s->lim_instructions && vtx_machine_instructions(R->m) >= s->lim_instructions) {
        snprintf(R->res->end, sizeof R->res->end, "stopped after exit %u (%s): the instruction budget (%llu) is spent",
                 x->index, rt, (unsigned long long)s->lim_instructions);
        return STOP;
    }
    if (s->lim_cycles && vtx_machine_cycles(R->m) >= s->lim_cycles) {
        snprintf(R->res->end, sizeof R->res->end, "stopped after exit %u (%s): the cycle budget (%llu) is spent",
                 x->index, rt, (unsigned long long)s->lim_cycles);
        return STOP;
    }
    action(R, "resume");
    return GO_ON;
}

/* VMLAUNCH/VMRESUME failed as an instruction. */
static void on_vmfail(runner *R, const char *insn, const vtx_insn_result *r)
{
    const vtx_scenario *s = R->s;
    char line[400];
    vtx_insn_result_format(r, line, sizeof line);
    snprintf(R->res->end, sizeof R->res->end, "%s failed: %.290s", insn, line);
    if (s->expect_vmfail && R->nexits == 0) {
        report(R, 0, "vmfail", true, "VMfail", vtx_insn_outcome_name(r->outcome), s->vmfail.loc.line);
        vtx_scenario_exit fake = {0};
        fake.check = r->check;
        scn_run_view v = {R->m, R->ram, &fake, r->vm_error};
        check_all(R, 0, &s->vmfail, &v);
    } else if (s->has_expect) {
        report(R, R->nexits + 1, "entry", false, "a VM entry", line, s->expect_exits && R->nexits < s->nexp ?
               s->exp[R->nexits].loc.line : s->vmfail.loc.line);
    }
}

static void finish(runner *R)
{
    const vtx_scenario *s = R->s;
    if (R->failed)
        return;
    if (s->expect_vmfail && R->nexits == 0 && !R->res->checks_passed) {
        report(R, 0, "vmfail", false, "VMLAUNCH to fail", "no failure", s->vmfail.loc.line);
        return;
    }
    if (s->expect_exits && R->nexits < s->nexp) {
        char exp[64], act[64];
        snprintf(exp, sizeof exp, "%zu exit%s", s->nexp, s->nexp == 1 ? "" : "s");
        snprintf(act, sizeof act, "%u (the run ended)", R->nexits);
        memset(&R->exit, 0, sizeof R->exit);
        report(R, 0, "exits", false, exp, act, s->exp[R->nexits].loc.line);
        return;
    }
    scn_run_view v = {R->m, R->ram, NULL, 0};
    check_all(R, 0, &s->end, &v);
}

vtx_status vtx_scenario_run(const vtx_scenario *s, const vtx_scenario_callbacks *cb, vtx_scenario_result *result,
                            vtx_scenario_error *err)
{
    return vtx_scenario_run_with(s, cb, NULL, result, err);
}

vtx_status vtx_scenario_run_with(const vtx_scenario *s, const vtx_scenario_callbacks *cb,
                                 const vtx_scenario_run_options *opts, vtx_scenario_result *result,
                                 vtx_scenario_error *err)
{
    static const vtx_scenario_run_options no_opts = {0};
    vtx_scenario_error dummy;
    vtx_scenario_result rdummy;
    if (!err)
        err = &dummy;
    if (!result)
        result = &rdummy;
    memset(err, 0, sizeof *err);
    memset(result, 0, sizeof *result);
    if (!s)
        return VTX_ERR_INVALID_ARG;
    snprintf(err->file, sizeof err->file, "%s", s->source);
    runner R = {.s = s, .cb = cb, .res = result, .err = err, .opts = opts ? opts : &no_opts};
    vtx_machine_config cfg;
    vtx_diag d = {0};
    vtx_status st = vtx_machine_config_init(&cfg, &s->profile);
    cfg.limits.instructions = s->lim_instructions;
    cfg.limits.cycles = s->lim_cycles;
    if (st == VTX_OK)
        st = vtx_machine_create(&cfg, &R.m, &d);
    if (st != VTX_OK) {
        scn_fail(err, NULL, 0, 0, "cannot create the machine: %s", d.message[0] ? d.message : vtx_status_name(st));
        return st == VTX_ERR_PROFILE_INVALID ? VTX_ERR_PARSE : st;
    }
    uint8_t *vmx = NULL;
    R.ram = aligned_alloc(4096, SCN_RAM_SIZE);
    vmx = aligned_alloc(4096, SCN_VMX_SIZE);
    if (!R.ram || !vmx) {
        st = VTX_ERR_NO_MEMORY;
        goto out;
    }
    memset(R.ram, 0, SCN_RAM_SIZE);
    memset(vmx, 0, SCN_VMX_SIZE);
    /* The identity EPT the modes with unrestricted guest need (EPT-ID-1): guest-physical =
     * host-physical for all mapped memory (the model accepts no other EPT on Unicorn 2.0.1),
     * R/W/X, write-back, 4-KiB pages (no large-page capability needed). */
    {
        uint64_t *pml4 = (uint64_t *)(vmx + 0x2000), *pdpt = pml4 + 512, *pd = pdpt + 512, *pt = pd + 512;
        pml4[0] = (SCN_EPT_PA + 0x1000) | 7;
        pdpt[0] = (SCN_EPT_PA + 0x2000) | 7;
        for (uint64_t i = 0; i < 3; i++)
            pd[i] = (SCN_EPT_PA + 0x3000 + 0x1000 * i) | 7;
        for (uint64_t i = 0; i < (SCN_VMX_PA + SCN_VMX_SIZE) >> 12; i++)
            pt[i] = (i << 12) | (6u << 3) | 7;
    }
    const uint32_t rev = vtx_basic_revision(s->profile.msr[VTX_CAP_IA32_VMX_BASIC]);
    memcpy(vmx, &rev, 4);
    memcpy(vmx + 0x1000, &rev, 4);
    vtx_insn_result r;
    if ((st = vtx_machine_map(R.m, 0, SCN_RAM_SIZE, R.ram, VTX_MEM_RWX, &d)) != VTX_OK ||
        (st = vtx_machine_map(R.m, SCN_VMX_PA, SCN_VMX_SIZE, vmx, VTX_MEM_READ | VTX_MEM_WRITE, &d)) != VTX_OK) {
        scn_fail(err, NULL, 0, 0, "cannot map memory: %s", d.message);
        goto out;
    }
    const char *step = "VMXON";
    if ((st = vtx_vmxon(R.m, SCN_VMX_PA, &r)) != VTX_OK || r.outcome != VTX_VMSUCCEED ||
        (step = "VMCLEAR", (st = vtx_vmclear(R.m, SCN_VMX_PA + 0x1000, &r)) != VTX_OK) || r.outcome != VTX_VMSUCCEED ||
        (step = "VMPTRLD", (st = vtx_vmptrld(R.m, SCN_VMX_PA + 0x1000, &r)) != VTX_OK) || r.outcome != VTX_VMSUCCEED) {
        char line[400];
        vtx_insn_result_format(&r, line, sizeof line);
        scn_fail(err, NULL, 0, 0, "%s failed: %s", step, st != VTX_OK ? vtx_status_name(st) : line);
        if (st == VTX_OK)
            st = VTX_ERR_STATE;
        goto out;
    }
    if ((st = scn_env_setup(s, R.m, R.ram, err)) != VTX_OK)
        goto out;
    for (size_t i = 0; i < s->nevents; i++) {
        if (cb && cb->on_input)
            cb->on_input(cb->user, &s->events[i].in, true);
        if ((st = vtx_machine_schedule(R.m, &s->events[i].in)) != VTX_OK) {
            scn_fail(err, NULL, s->events[i].loc.line, s->events[i].loc.col, "cannot schedule the event: %s",
                     vtx_status_name(st));
            goto out;
        }
    }
    if (R.opts->vmm_check) {
        /* After the set-up's VMWRITEs, before the first VM entry: the checker follows the VMM from there. */
        vtx_vmm_check_config cc;
        vtx_vmm_check_config_init(&cc);
        cc.on_finding = on_finding;
        cc.user = &R;
        if ((st = vtx_vmm_check_create(&cc, &R.chk)) != VTX_OK ||
            (st = vtx_vmm_check_attach(R.m, R.chk)) != VTX_OK) {
            scn_fail(err, NULL, 0, 0, "cannot attach the VMM checker: %s", vtx_status_name(st));
            goto out;
        }
    }
    if (cb && cb->observer)
        vtx_machine_set_observer(R.m, cb->observer, cb->user);
    if (cb && cb->on_start) {
        vtx_scenario_view view = {R.ram, SCN_RAM_SIZE, s->bits, s->bits == 16 ? s->seg_base : 0};
        cb->on_start(cb->user, s, &view);
    }
    for (;;) {
        vtx_vmcs_status vs;
        vtx_machine_vmcs_status(R.m, SCN_VMX_PA + 0x1000, &vs);
        const bool launch = vs.launch == VTX_LAUNCH_CLEAR;
        const char *insn = launch ? "VMLAUNCH" : "VMRESUME";
        const vtx_scenario_setup setup = {&cfg, R.ram, SCN_RAM_SIZE, SCN_VMX_PA, vmx, SCN_VMX_SIZE};
        if (cb && cb->on_entry)
            cb->on_entry(cb->user, R.m, &setup, NULL);
        st = launch ? vtx_vmlaunch(R.m, &r) : vtx_vmresume(R.m, &r);
        if (cb && cb->on_entry)
            cb->on_entry(cb->user, R.m, &setup, &r);
        if (st != VTX_OK) {
            result->outcome = VTX_SCN_ERROR;
            snprintf(result->end, sizeof result->end, "%s could not be carried out (%s): %s", insn,
                     vtx_status_name(st), r.why);
            st = VTX_OK;
            break;
        }
        if (r.outcome == VTX_VMEXIT) {
            next n = handle_exit(&R, &r, &st);
            if (n == FAIL)
                goto out;
            if (n == STOP)
                break;
            continue;
        }
        if (r.outcome == VTX_GUEST_STOPPED) {
            snprintf(result->end, sizeof result->end, "the guest stopped without a VM exit after %u exit%s: %s",
                     R.nexits, R.nexits == 1 ? "" : "s", r.why);
            break;
        }
        on_vmfail(&R, insn, &r);
        break;
    }
    finish(&R);
    finish_findings(&R);
    st = VTX_OK;
out:
    result->exits = R.nexits;
    if (R.m) {
        result->instructions = vtx_machine_instructions(R.m);
        result->cycles = vtx_machine_cycles(R.m);
    }
    if (st != VTX_OK) {
        result->outcome = VTX_SCN_ERROR;
        if (!result->end[0])
            snprintf(result->end, sizeof result->end, "%.310s", err->message);
    }
    if (R.chk && R.m)
        vtx_vmm_check_detach(R.m);
    vtx_vmm_check_destroy(R.chk);
    vtx_machine_destroy(R.m);
    free(R.ram);
    free(vmx);
    return st;
}
