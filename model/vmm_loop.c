/* The VMM loop with budgets (see vmm_loop.h). */
#include <stdio.h>
#include <string.h>
#include "machine_internal.h"
#include "vtxref/vmm_check.h"
#include "vtxref/vmm_loop.h"

/* What makes two exits "the same state": reason, qualification, guest RIP and
 * RFLAGS, interruptibility, activity, and no instruction retired in between. */
typedef struct exit_key {
    uint32_t reason;
    uint64_t qualification, rip, rflags, instructions;
    uint32_t intr, activity;
} exit_key;

static exit_key key_of(const vtx_machine *m, const vtx_insn_result *r)
{
    const vtx_vmcs_values *f = &m->current->f;
    return (exit_key){.reason = r->exit_reason,
                      .qualification = r->exit_qualification,
                      .rip = vtx_vmcs_get(f, VTX_SLOT_GUEST_RIP),
                      .rflags = vtx_vmcs_get(f, VTX_SLOT_GUEST_RFLAGS),
                      .instructions = m->instructions,
                      .intr = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_GUEST_INTERRUPTIBILITY),
                      .activity = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_GUEST_ACTIVITY_STATE)};
}

static bool same(const exit_key *a, const exit_key *b)
{
    return a->reason == b->reason && a->qualification == b->qualification && a->rip == b->rip &&
           a->rflags == b->rflags && a->instructions == b->instructions && a->intr == b->intr &&
           a->activity == b->activity;
}

static vtx_status run_vmm(vtx_machine *m, const vtx_vmm_loop *loop, vtx_vmm_report *rep);

vtx_status vtx_run_vmm(vtx_machine *m, const vtx_vmm_loop *loop, vtx_vmm_report *rep)
{
    if (!m || !loop || !loop->handler || !rep)
        return VTX_ERR_INVALID_ARG;
    bool attach = loop->checker && vtx_vmm_check_attached(m) != loop->checker;
    if (attach && vtx_vmm_check_attach(m, loop->checker) != VTX_OK) {
        memset(rep, 0, sizeof *rep);
        rep->end = VTX_VMM_END_VMFAIL;
        snprintf(rep->why, sizeof rep->why, "the loop's checker cannot be attached: the machine has another "
                 "checker, or the checker watches another machine");
        return VTX_ERR_STATE;
    }
    vtx_status st = run_vmm(m, loop, rep);
    if (attach)
        vtx_vmm_check_detach(m);
    return st;
}

static vtx_status run_vmm(vtx_machine *m, const vtx_vmm_loop *loop, vtx_vmm_report *rep)
{
    if (!m || !loop || !loop->handler || !rep)
        return VTX_ERR_INVALID_ARG;
    memset(rep, 0, sizeof *rep);
    const uint64_t max_exits = loop->max_exits ? loop->max_exits : 1000000;
    const uint32_t max_repeats = loop->max_repeats ? loop->max_repeats : 100;
    exit_key prev = {0};
    uint32_t repeats = 0;
    bool launch = m->current && m->current->launch == VTX_LAUNCH_CLEAR;
    for (;;) {
        vtx_status st = launch ? vtx_vmlaunch(m, &rep->last) : vtx_vmresume(m, &rep->last);
        launch = false;
        const vtx_insn_result *r = &rep->last;
        if (r->outcome == VTX_GUEST_STOPPED) {
            rep->end = VTX_VMM_END_GUEST;
            snprintf(rep->why, sizeof rep->why, "the guest stopped without a VM exit: %.250s", r->why);
            return st;
        }
        if (st != VTX_OK || r->outcome != VTX_VMEXIT) {
            char line[300];
            vtx_insn_result_format(r, line, sizeof line);
            rep->end = VTX_VMM_END_VMFAIL;
            snprintf(rep->why, sizeof rep->why, "VM entry did not happen: %.280s", line);
            return st;
        }
        rep->exits++;
        exit_key k = key_of(m, r);
        repeats = (rep->exits > 1 && same(&k, &prev)) ? repeats + 1 : 0;
        prev = k;
        if (repeats + 1 >= max_repeats) {
            const char *n = vtx_exit_reason_name(r->exit_reason & 0xFFFF);
            rep->end = VTX_VMM_END_REPEAT;
            snprintf(rep->why, sizeof rep->why,
                     "the VMM re-entered the same state %u times: exit %u (%s) at RIP 0x%llx with no instruction "
                     "retired in between (a control or event the handler never clears?)",
                     repeats + 1, r->exit_reason & 0xFFFF, n ? n : "?", (unsigned long long)k.rip);
            return VTX_OK;
        }
        if (loop->handler(loop->user, m, r) == VTX_VMM_STOP) {
            rep->end = VTX_VMM_END_HANDLER;
            snprintf(rep->why, sizeof rep->why, "the handler stopped after %llu exits", (unsigned long long)rep->exits);
            return VTX_OK;
        }
        if (rep->exits >= max_exits) {
            rep->end = VTX_VMM_END_EXITS;
            snprintf(rep->why, sizeof rep->why, "exit budget of %llu reached", (unsigned long long)max_exits);
            return VTX_OK;
        }
    }
}
