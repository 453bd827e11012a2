/*
 * Where the STI and MOV SS shadows are made (catalogue A: BLK-STI-1, BLK-STI-5,
 * BLK-MSS-1, BLK-MSS-2): the instructions that make them run here, one at a
 * time on the engine, or, an STI with nothing armed, at the start of a run of
 * the plain computation after it. Where they end is vtx_shadows_end (shadows.h).
 */
#include "shadows.h"
#include "mtf.h"

/* May the STI run on into the plain computation after it, in the same engine
 * run (and so may every STI of a run that starts here: vtx_execute then lets
 * STI through, ENG-STI-1)? Only where no boundary inside that run can differ from "execute" and
 * the run's count accounts for the STI exactly: nothing armed at the boundary
 * before it (vtx_boundary_nothing_armed; nothing can become armed inside a run:
 * platform inputs, the timer deadline and budgets end the run's budget, a
 * device write stops it), so neither the boundary in its shadow nor the one
 * where the shadow ends has anything to block or take; no observer (promised
 * every boundary, boundary_in_run would take the STI for plain computation);
 * and STI costing the cycles of plain computation, in which the run's budget
 * is counted. With MTF (MTF-4) or RF the budget is 1 and with TF a #DB trap
 * stops the run after the STI, so the STI would run alone anyway: those keep
 * the path that steps it (vtx_step_retire) rather than rely on that. */
static bool sti_runs_on(const vtx_machine *m)
{
    return !m->observer && !(m->g.cpu.rflags & (VTX_RFLAGS_TF | VTX_RFLAGS_RF)) && !vtx_mtf_control(m) &&
           m->costs.by_class[VTX_IC_STI] == m->costs.by_class[VTX_IC_OTHER] && vtx_boundary_nothing_armed(m);
}

bool vtx_sti_runs_in_run(const vtx_machine *m)
{
    return sti_runs_on(m);
}

void vtx_sti_after_run(vtx_machine *m, bool shadow)
{
    /* BLK-STI-1: the STI found IF = 0 and the run stopped right after it; else
     * nothing: an STI that found IF = 1 makes no shadow, and when the next
     * instruction retired too, retiring it ended the shadow (BLK-STI-2). */
    if (shadow)
        m->g.block_sti = true;
}

vtx_step vtx_exec_sti(vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st)
{
    vtx_guest *g = &m->g;
    bool if_before = g->cpu.rflags & VTX_RFLAGS_IF;
    if (sti_runs_on(m)) {
        /* One engine run for the STI and what follows it, instead of a run for
         * the STI alone (a run stopped before this STI while something was
         * armed, or on the per-instruction hook). vtx_execute lets STI run in
         * it, and the engine says whether it stopped in the shadow (ENG-STI-1,
         * vtx_sti_after_run). */
        m->exec_skip_first = true;
        return vtx_execute(m, m->exec_budget, ex, r, st); /* STI costs as plain computation */
    }
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
