/*
 * engine: data accesses to unmapped guest-physical memory (ENG-UNM-1 to
 * ENG-UNM-5). Unicorn calls the unmapped-access hook, which records the first
 * access of a run (a non-canonical address is ENG-NC-2's, engine_canonical.c);
 * the run's end turns it into VTX_STOP_UNMAPPED: exact where the engine knows
 * the instruction (the per-instruction path, a one-instruction run), else
 * marked inexact (ENG-UNM-1). Where the run ends inside the access's block and
 * what is counted: vtx_engine_run (ENG-UNM-4, ENG-UNM-5). Knows nothing of VMX.
 */
#include "engine_internal.h"

bool vtx_eng_hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *ud)
{
    vtx_engine *e = ud;
    (void)uc, (void)size, (void)value;
    if (e->unmapped)
        return false;
    if (vtx_eng_nc_map(e, type, address))
        return true; /* ENG-NC-2: QEMU's page walk raises the #GP */
    e->step_next = UINT64_MAX; /* ENG-UNM-3: the per-instruction hook's next call takes its general case */
    e->unmapped = true;
    e->unmapped_type = type;
    e->unmapped_addr = address;
    return false;
}

/* The stop of a run that Unicorn ended at an unmapped access (the hook's, or
 * its error), the run's counting done (vtx_engine_run). */
void vtx_eng_unmapped_stop(vtx_engine *e, uc_err err, uint64_t lin, uint64_t start_lin, bool hooked, vtx_stop *stop)
{
    stop->reason = VTX_STOP_UNMAPPED;
    stop->address = e->unmapped ? e->unmapped_addr : lin;
    bool fetch = e->unmapped ? e->unmapped_type == UC_MEM_FETCH_UNMAPPED : err == UC_ERR_FETCH_UNMAPPED;
    /* ENG-UNM-2: in a one-instruction run (a step over an instruction the
     * caller looked at) the access was the run's first instruction's, on the
     * fast path too */
    const bool one = e->budget == 1 && stop->retired <= 1; /* (0: counted before RIP, ENG-UNM-4) */
    if (hooked && !fetch && (e->last_valid || one)) {
        /* Unicorn lets the access complete (reads 0, drops writes) and
         * stops at the next hook: put RIP back on the instruction. */
        const uint64_t at = e->last_valid ? e->last_lin : start_lin;
        if (stop->retired)
            stop->retired--;
        vtx_eng_stop_insn_at(e, at, stop);
        const uint64_t rip = e->width == 64 ? at : ((at - e->cs_base) & 0xffffffffull);
        uc_reg_write(e->uc, UC_X86_REG_RIP, &rip);
        if (!vtx_eng_save_absorb(e)) {
            stop->reason = VTX_STOP_ERROR;
            stop->why = "uc_context_save failed";
            return;
        }
    } else if (vtx_eng_noncanonical_data(e)) {
        if (hooked && stop->retired)
            stop->retired--; /* the faulting instruction was counted when it started */
        vtx_eng_stop_insn_at(e, lin, stop);
    }
    /* ENG-UNM-1: a data access the per-instruction path did not put back on
     * its instruction left RIP at its block's start and RFLAGS stale */
    stop->inexact = !fetch && !stop->insn;
    if (vtx_eng_noncanonical_data(e)) {
        stop->inexact = false;
        /* ENG-NC-1: a non-canonical data address is #GP(0), #SS(0) for SS */
        stop->reason = VTX_STOP_EXCEPTION;
        stop->vector = stop->insn && stop->insn->has_mem && stop->insn->mem_seg == 2 ? 12 : 13;
        stop->trap = false;
        stop->has_error_code = true;
        stop->error_code = 0;
        stop->address = 0;
    }
    vtx_eng_clear_fault_history(e);
}
