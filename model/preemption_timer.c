/*
 * The VMX-preemption timer on the cycle clock (catalogue J, PT-1..6): it counts
 * down by one each time bit X of the TSC changes, X = IA32_VMX_MISC[4:0]
 * (PT-2), so a value V loaded at TSC t expires at ((t >> X) + V) << X.
 */
#include "machine_internal.h"

static unsigned rate(const vtx_machine *m) { return vtx_misc_timer_rate(m->profile.msr[VTX_CAP_IA32_VMX_MISC]); }

void vtx_timer_start(vtx_machine *m, uint32_t value)
{
    unsigned x = rate(m);
    m->g.timer_armed = true;
    m->g.timer_deadline = ((m->cycles >> x) + value) << x;
}

uint32_t vtx_timer_remaining(const vtx_machine *m, uint64_t now)
{
    if (now >= m->g.timer_deadline)
        return 0;
    unsigned x = rate(m);
    return (uint32_t)((m->g.timer_deadline >> x) - (now >> x));
}
