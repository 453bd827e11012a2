/* Pending debug exceptions (the guest's pending-debug-exceptions field; catalogue
 * PRI-5, BLK-MSS-1, EXIT-3, EXIT-9): the single-step trap made pending after an
 * instruction, whether the pending #DB is taken at a boundary, its exit
 * qualification and its delivery (pending_debug.c). */
#ifndef VTX_PENDING_DEBUG_H
#define VTX_PENDING_DEBUG_H

#include "machine_internal.h"

/* Pending-debug-exceptions bits: B3-B0 (3:0), BD (13), BS (14), RTM (16). */
enum {
    VTX_PDBG_B0_3 = 0xF,
    VTX_PDBG_BD = 1u << 13,
    VTX_PDBG_BS = 1u << 14,
    VTX_PDBG_RTM = 1u << 16,
};

/* A single-step #DB trap follows the instruction that just retired with
 * RFLAGS.TF = 1: BS is pending, taken at the next boundary unless MOV-SS
 * blocking holds it (BLK-MSS-1, PRI-5). */
static inline void vtx_pending_db_single_step(vtx_guest *g)
{
    g->pending_dbg |= VTX_PDBG_BS;
}

/* Whether a #DB trap is pending: B3-B0 or BS. */
bool vtx_pending_db_armed(const vtx_guest *g);

/* The exit qualification of a pending #DB that exits through the exception
 * bitmap: B3-B0, BD, BS, RTM (EXIT-3). */
uint64_t vtx_pending_db_exit_qualification(const vtx_guest *g);

/* The pending #DB is delivered: its B3-B0 and BS go to DR6 and the field is
 * cleared. */
void vtx_pending_db_to_dr6(vtx_machine *m);

#endif
