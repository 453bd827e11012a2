/*
 * Running the guest in VMX non-root operation: boundary after boundary until a
 * VM exit, a budget, or a point the model cannot go on from (catalogue G.1).
 * Idle time in HLT advances the cycle clock straight to the next event that can
 * wake the guest (the preemption timer, an input scheduled at a cycle), so a
 * halted guest costs nothing to run.
 */
#include <stdarg.h>
#include "execute.h"
#include "pending_debug.h"

static vtx_status stop(vtx_insn_result *r, vtx_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static vtx_status stop(vtx_insn_result *r, vtx_status st, const char *fmt, ...)
{
    r->outcome = VTX_GUEST_STOPPED;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    return st;
}

/* After a step: a VM exit or a stop ends the run (*st says how), else it goes on. */
bool vtx_step_ends_run(vtx_machine *m, vtx_step step, const vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st)
{
    if (step == VTX_STEP_EXIT) {
        *st = vtx_vm_exit(m, ex, r); /* VTX_ERR_UNSUPPORTED: a VMX abort, undone */
        return true;
    }
    return step == VTX_STEP_STOP;
}

vtx_status vtx_run_guest(vtx_machine *m, bool after_entry, vtx_insn_result *r)
{
    const uint64_t start_insns = m->instructions, start_cycles = m->cycles;
    m->fault_again = false; /* EXEC-FLT-1: the caller may have rewritten memory since */
    for (;;) {
        if (m->limits.instructions && m->instructions - start_insns >= m->limits.instructions)
            return stop(r, VTX_OK, "instruction budget of %llu reached at RIP 0x%llx",
                        (unsigned long long)m->limits.instructions, (unsigned long long)m->g.cpu.rip);
        if (m->limits.cycles && m->cycles - start_cycles >= m->limits.cycles)
            return stop(r, VTX_OK, "cycle budget of %llu reached at RIP 0x%llx",
                        (unsigned long long)m->limits.cycles, (unsigned long long)m->g.cpu.rip);

        /* Platform inputs due at this boundary take effect before it is evaluated. */
        uint64_t input_insn, input_cycle;
        vtx_inputs_apply(m, &input_insn, &input_cycle);
        /* ROOT-INTR-1: the platform's interrupt source is sampled at every boundary. */
        vtx_bus_sample(m);
        uint64_t bus_deadline = vtx_bus_deadline(m);
        if (bus_deadline > m->cycles && bus_deadline < input_cycle)
            input_cycle = bus_deadline;

        vtx_boundary_report rep;
        vtx_exit_info ex;
        if (!m->observer && vtx_boundary_nothing_armed(m)) {
            /* Nothing armed and nobody to report to: the action the evaluation
             * reaches at its first step (boundary.c), without filling a report
             * that no one reads (7 % of an exit round trip). */
            rep.action = m->g.activity == VTX_ACTIVE ? VTX_ACT_EXECUTE : VTX_ACT_IDLE;
        } else {
            vtx_boundary_evaluate(m, after_entry, &rep, &ex);
            if (m->observer)
                m->observer(m->observer_user, &rep);
        }
        after_entry = false;

        switch (rep.action) {
        case VTX_ACT_EXIT:
            vtx_boundary_take(m, &rep);
            return vtx_vm_exit(m, &ex, r);
        case VTX_ACT_DELIVER: {
            vtx_boundary_take(m, &rep);
            vtx_delivery d = {0};
            switch (rep.winner) {
            case VTX_EV_NMI: d = (vtx_delivery){.vector = 2, .type = VTX_EVT_NMI}; break;
            case VTX_EV_VIRTUAL_INTR: /* IW-7: through the IDT as an external interrupt */
            case VTX_EV_EXT_INTR: d = (vtx_delivery){.vector = m->delivered_vector,
                                                     .type = VTX_EVT_EXTINT}; break;
            default: /* PENDING_DB: a #DB trap; its bits go to DR6 (B3-B0, BS) and the field is cleared */
                d = (vtx_delivery){.vector = 1, .type = VTX_EVT_HW_EXC};
                vtx_pending_db_to_dr6(m);
                break;
            }
            vtx_status st = VTX_OK;
            if (vtx_step_ends_run(m, vtx_deliver_event(m, d, &ex, r, &st), &ex, r, &st))
                return st;
            break;
        }
        case VTX_ACT_EXECUTE: {
            /* Run no further than the next boundary that can differ: the
             * instruction budget, the cycle budget, the preemption timer, the
             * next scheduled input. */
            uint64_t budget = m->limits.instructions ? m->limits.instructions - (m->instructions - start_insns) : 0;
            uint64_t cost = m->costs.by_class[VTX_IC_OTHER]; /* a run of plain computation */
            uint64_t until = input_cycle;
            if (m->g.timer_armed && m->g.timer_deadline > m->cycles && m->g.timer_deadline < until)
                until = m->g.timer_deadline;
            if (input_insn != UINT64_MAX && (!budget || input_insn - m->instructions < budget))
                budget = input_insn - m->instructions;
            if (m->limits.cycles && start_cycles + m->limits.cycles < until)
                until = start_cycles + m->limits.cycles;
            if (until != UINT64_MAX) {
                uint64_t n = (until - m->cycles + cost - 1) / cost;
                if (n == 0)
                    n = 1;
                if (!budget || n < budget)
                    budget = n;
            }
            vtx_status st = VTX_OK;
            if (vtx_step_ends_run(m, vtx_execute(m, budget, &ex, r, &st), &ex, r, &st))
                return st;
            break;
        }
        case VTX_ACT_IDLE: {
            /* Idle time goes straight to the next thing that can wake the guest: the
             * preemption timer (it keeps counting in HLT and shutdown, PT-4) or a
             * platform input scheduled at a cycle. */
            uint64_t wake = input_cycle;
            if (m->g.timer_armed && m->g.activity != VTX_WAIT_SIPI && m->g.timer_deadline > m->cycles &&
                m->g.timer_deadline < wake)
                wake = m->g.timer_deadline;
            if (wake != UINT64_MAX) {
                if (m->limits.cycles && wake - start_cycles > m->limits.cycles) {
                    m->cycles = start_cycles + m->limits.cycles;
                    continue; /* the budget check above stops the run */
                }
                m->cycles = wake;
                continue;
            }
            static const char *const states[] = {"active", "HLT", "shutdown", "wait-for-SIPI"};
            return stop(r, VTX_OK,
                        "the guest is in the %s state at RIP 0x%llx and nothing armed can wake it "
                        "(raise an interrupt, NMI, INIT or SIPI and continue)",
                        states[m->g.activity & 3], (unsigned long long)m->g.cpu.rip);
        }
        }
    }
}

vtx_status vtx_continue(vtx_machine *m, vtx_insn_result *r)
{
    if (!m || !r)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (!m->in_guest) {
        snprintf(r->why, sizeof r->why, "the machine is not in VMX non-root operation; nothing to continue");
        return VTX_ERR_STATE;
    }
    if (m->guest_inexact) {
        /* ENG-UNM-1: going on would run the block's instructions before the
         * access a second time, from a stale RFLAGS. */
        r->outcome = VTX_GUEST_STOPPED;
        snprintf(r->why, sizeof r->why,
                 "cannot go on: the stop at an unmapped data access was not exact (RIP 0x%llx is at or before "
                 "the access, RFLAGS stale); restore a saved machine, or install an observer for exact stops",
                 (unsigned long long)m->g.cpu.rip);
        return VTX_ERR_UNMAPPED;
    }
    return vtx_run_guest(m, false, r);
}
