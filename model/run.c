/*
 * Running the guest in VMX non-root operation: boundary after boundary until a
 * VM exit, a budget, or a point the model cannot go on from (catalogue G.1).
 * Idle time in HLT advances the cycle clock straight to the next event that can
 * wake the guest (the preemption timer), so a halted guest costs nothing to run.
 */
#include <stdarg.h>
#include "machine_internal.h"

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

vtx_status vtx_run_guest(vtx_machine *m, bool after_entry, vtx_insn_result *r)
{
    const uint64_t start_insns = m->instructions, start_cycles = m->cycles;
    for (;;) {
        if (m->limits.instructions && m->instructions - start_insns >= m->limits.instructions)
            return stop(r, VTX_OK, "instruction budget of %llu reached at RIP 0x%llx",
                        (unsigned long long)m->limits.instructions, (unsigned long long)m->g.cpu.rip);
        if (m->limits.cycles && m->cycles - start_cycles >= m->limits.cycles)
            return stop(r, VTX_OK, "cycle budget of %llu reached at RIP 0x%llx",
                        (unsigned long long)m->limits.cycles, (unsigned long long)m->g.cpu.rip);

        vtx_boundary_report rep;
        vtx_exit_info ex;
        vtx_boundary_evaluate(m, after_entry, &rep, &ex);
        after_entry = false;
        if (m->observer)
            m->observer(m->observer_user, &rep);

        switch (rep.action) {
        case VTX_ACT_EXIT:
            vtx_boundary_take(m, &rep);
            vtx_vm_exit(m, &ex, r);
            return VTX_OK;
        case VTX_ACT_DELIVER:
            return stop(r, VTX_ERR_UNSUPPORTED,
                        "delivering the %s through the guest IDT needs guest execution, which is not modelled yet",
                        vtx_event_description((vtx_event)rep.winner));
        case VTX_ACT_EXECUTE:
            return stop(r, VTX_ERR_UNSUPPORTED,
                        "the guest would execute the instruction at RIP 0x%llx; guest execution is not modelled yet",
                        (unsigned long long)m->g.cpu.rip);
        case VTX_ACT_IDLE: {
            /* The preemption timer keeps counting in HLT and shutdown (PT-4); it is the
             * only thing scheduled that can wake the guest. */
            if (m->g.timer_armed && m->g.activity != VTX_WAIT_SIPI && m->g.timer_deadline > m->cycles) {
                if (m->limits.cycles && m->g.timer_deadline - start_cycles > m->limits.cycles) {
                    m->cycles = start_cycles + m->limits.cycles;
                    continue; /* the budget check above stops the run */
                }
                m->cycles = m->g.timer_deadline;
                continue;
            }
            static const char *const states[] = {"active", "HLT", "shutdown", "wait-for-SIPI"};
            return stop(r, VTX_OK,
                        "the guest is in the %s state at RIP 0x%llx and nothing armed can wake it "
                        "(raise an interrupt, NMI or INIT and continue)",
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
    return vtx_run_guest(m, false, r);
}
