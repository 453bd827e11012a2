/*
 * x87 FPU floating-point errors (#MF, vector 16) in VMX non-root operation
 * (SDM Vol. 3 "Architectural State Before a VM Exit"; catalogue BLK-SAVE-2).
 *
 * "Suppose that a VM exit is caused directly by an x87 FPU Floating-Point
 * Error (#MF) or by any of the following events if the event was unblocked due
 * to (and given priority over) an x87 FPU Floating-Point Error: an INIT signal,
 * an external interrupt, an NMI, an SMI; or a machine-check exception. In these
 * cases, there is no blocking by STI or by MOV SS when the VM exit commences."
 *
 * So an #MF ends blocking by STI and by MOV SS before anything else happens,
 * which an exception that exits directly otherwise does not (BLK-STI-8: #UD,
 * #GP, ... in a shadow exit with the shadow saved). The "pending #MF" is the one
 * the engine reported on the x87 instruction (RIP on it, nothing retired): if
 * dropping the shadow unblocks an INIT, NMI or external interrupt that now wins
 * the instruction boundary (PRI-2), that event is taken there instead and the
 * #MF is discarded, to recur when the instruction runs again (PRI-1: a
 * lower-priority exception is discarded and re-generated). SMIs and machine
 * checks are not modelled.
 *
 * The engine (Unicorn 2.0.1) raises #MF only at FWAIT/WAIT: its other waiting
 * x87 instructions do not check for a pending unmasked x87 exception, as a
 * processor does, so guests must FWAIT to see #MF.
 */
#include "shadows.h"

bool vtx_x87_error_yields(vtx_machine *m)
{
    vtx_guest *g = &m->g;
    bool shadow = g->block_sti || g->block_movss;
    vtx_shadows_end(g); /* BLK-SAVE-2 */
    if (!shadow)
        return false; /* nothing was unblocked: what is pending would have won before the instruction */
    vtx_boundary_report rep;
    vtx_exit_info ex;
    vtx_boundary_evaluate(m, false, &rep, &ex);
    return rep.winner == VTX_EV_INIT || rep.winner == VTX_EV_NMI || rep.winner == VTX_EV_EXT_INTR;
}
