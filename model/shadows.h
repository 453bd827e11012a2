/* Blocking by STI and by MOV SS, the two one-instruction shadows (catalogue A:
 * BLK-STI-*, BLK-MSS-*): where they are made and where they end. Made by the
 * instructions (shadows.c); loaded from and saved to the interruptibility-state
 * field at VM entry and exit (guest_state.c). */
#ifndef VTX_SHADOWS_H
#define VTX_SHADOWS_H

#include "execute.h"

/* The shadows end: after the next instruction retires (BLK-STI-2, BLK-MSS-5),
 * when an event is delivered (BLK-STI-2), when event delivery ends in a VM exit
 * (BLK-SAVE-1 (a)) and at an x87 #MF (BLK-SAVE-2). Inline: the per-instruction
 * path of an observed run calls it at every instruction. */
static inline void vtx_shadows_end(vtx_guest *g)
{
    g->block_sti = g->block_movss = false;
}

/* STI: executed on the engine; it makes blocking by STI when it set IF
 * (BLK-STI-1). */
vtx_step vtx_exec_sti(vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st);

/* May a run that starts at this boundary let STI run inside it, with the
 * shadow taken from the engine's report (ENG-STI-1): nothing armed, no
 * observer, MTF, TF or RF, STI costing the cycles of plain computation
 * (shadows.c, sti_runs_on). */
bool vtx_sti_runs_in_run(const vtx_machine *m);

/* After such a run: `shadow` is the engine's vtx_stop.sti_shadow (the run
 * stopped right after an STI that found IF = 0), made blocking by STI
 * (BLK-STI-1). Call it after the run's instructions were retired. */
void vtx_sti_after_run(vtx_machine *m, bool shadow);

/* MOV SS and POP SS: executed on the engine; they make blocking by MOV SS
 * (BLK-MSS-1; inside it only with CFG-MSS-CHAIN, BLK-MSS-2), which replaces an
 * STI shadow (BLK-STI-5). */
vtx_step vtx_exec_ss_load(vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex, vtx_insn_result *r,
                          vtx_status *st);

#endif
