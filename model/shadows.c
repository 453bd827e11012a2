/*
 * Where the STI and MOV SS shadows are made (catalogue A: BLK-STI-1, BLK-STI-5,
 * BLK-MSS-1, BLK-MSS-2): the instructions that make them run here, one at a
 * time on the engine. Where they end is vtx_shadows_end (shadows.h).
 */
#include "shadows.h"

vtx_step vtx_exec_sti(vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st)
{
    vtx_guest *g = &m->g;
    bool if_before = g->cpu.rflags & VTX_RFLAGS_IF;
    /* BLK-STI-1: a single-step trap after the STI (TF = 1) does not stop it from
     * making its shadow; the trap becomes a pending #DB. */
    bool retired_one;
    vtx_step next = vtx_step_retire(m, insn, &retired_one, ex, r, st);
    if (!retired_one)
        return next; /* else the STI retired (also when the next fetch faulted, PRI-1) */
    /* BLK-STI-1: STI blocks interrupts only if IF was 0 before it. */
    if (!if_before && (g->cpu.rflags & VTX_RFLAGS_IF))
        g->block_sti = true;
    return VTX_STEP_CONTINUE;
}

vtx_step vtx_exec_ss_load(vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex, vtx_insn_result *r,
                          vtx_status *st)
{
    vtx_guest *g = &m->g;
    bool movss_before = g->block_movss;
    /* BLK-MSS-1: a single-step trap reported after the SS load is held by the
     * blocking it makes (pending #DB, taken after the next instruction). */
    bool retired_one;
    vtx_step next = vtx_step_retire(m, insn, &retired_one, ex, r, st);
    if (!retired_one)
        return next; /* else the SS load retired (also when the next fetch faulted, PRI-1) */
    /* BLK-MSS-1; BLK-MSS-2 with CFG-MSS-CHAIN: a MOV SS inside MOV-SS blocking
     * re-arms it only when the knob is on. BLK-STI-5: it replaces an STI shadow
     * (retiring ended that one). */
    if (!movss_before || (m->profile.knobs & VTX_KNOB_MSS_CHAIN))
        g->block_movss = true;
    return VTX_STEP_CONTINUE;
}
