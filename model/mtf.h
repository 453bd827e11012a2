/* The monitor trap flag (catalogue F: MTF-1..7, INJ-17): where an MTF VM exit
 * is made pending (here) and whether it can be taken at a boundary (mtf.c). A
 * pending MTF is loaded at VM entry from an injected event of type 7
 * (guest_state.c) and consumed when its exit is taken (boundary.c). */
#ifndef VTX_MTF_H
#define VTX_MTF_H

#include "machine_internal.h"

/* The "monitor trap flag" processor-based control. */
static inline bool vtx_mtf_control(const vtx_machine *m)
{
    return (vtx_vmcs_get(&m->current->f, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_MONITOR_TRAP_FLAG) != 0;
}

/* With the monitor trap flag, an MTF VM exit is pending after an instruction
 * retires (MTF-4) and after an event is delivered (MTF-3). Inline: the
 * per-instruction path of an observed run calls it at every instruction. */
static inline void vtx_mtf_after(vtx_machine *m)
{
    if (vtx_mtf_control(m))
        m->g.mtf_pending = true;
}

#endif
