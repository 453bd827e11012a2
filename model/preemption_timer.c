/*
 * The VMX-preemption timer on the cycle clock (catalogue J, PT-1..6): it counts
 * down by one each time bit X of the TSC changes, X = IA32_VMX_MISC[4:0]
 * (PT-2), so a value V loaded at TSC t expires at ((t >> X) + V) << X. Whether
 * its exit is taken at a boundary (PT-4, PT-6, CFG-PT-SHADOW) is decided here too.
 */
#include "windows.h"

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

/* PT-4: no preemption-timer exits in wait-for-SIPI (the timer still counts in
 * HLT and shutdown); CFG-PT-SHADOW: blocking by STI or MOV SS holds the exit
 * when the knob is on; else PT-6. */
bool vtx_timer_open(const vtx_machine *m, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    if (g->activity == VTX_WAIT_SIPI) {
        *rule = "PT-4";
        *why = "no preemption-timer exits in wait-for-SIPI";
        return false;
    }
    if ((g->block_sti || g->block_movss) && (m->profile.knobs & VTX_KNOB_PT_SHADOW)) {
        *rule = "CFG-PT-SHADOW";
        *why = "held by blocking by STI/MOV SS (CFG-PT-SHADOW on)";
        return false;
    }
    *rule = "PT-6";
    return true;
}
