/*
 * Whether pending debug exceptions are taken at this boundary, and what they
 * leave in the exit qualification or in DR6 (PRI-5, BLK-MSS-1, HLT-8, EXIT-3).
 * Cleared by VM exits (EXIT-9: boundary.c, vmentry.c).
 */
#include "pending_debug.h"
#include "windows.h"

bool vtx_pending_db_armed(const vtx_guest *g)
{
    return (g->pending_dbg & (VTX_PDBG_B0_3 | VTX_PDBG_BS)) != 0;
}

bool vtx_pending_db_open(const vtx_machine *m, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    if (g->block_movss) {
        *rule = "BLK-MSS-1";
        *why = "blocking by MOV SS";
        return false;
    }
    if (g->activity == VTX_WAIT_SIPI) {
        *rule = "HLT-8";
        *why = "blocked in wait-for-SIPI";
        return false;
    }
    *rule = "PRI-5";
    return true;
}

uint64_t vtx_pending_db_exit_qualification(const vtx_guest *g)
{
    return g->pending_dbg & (VTX_PDBG_B0_3 | VTX_PDBG_BD | VTX_PDBG_BS | VTX_PDBG_RTM);
}

void vtx_pending_db_to_dr6(vtx_machine *m)
{
    m->g.cpu.dr6 |= m->g.pending_dbg & (VTX_PDBG_B0_3 | VTX_PDBG_BS);
    m->engine_dirty = true;
    m->g.pending_dbg = 0;
}
