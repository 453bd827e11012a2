/* Task switches in VMX non-root operation (task_switch.c). */
#ifndef VTX_MODEL_TASK_SWITCH_H
#define VTX_MODEL_TASK_SWITCH_H

#include "../cpu/task_switch.h"
#include "execute.h"

/* Whether the far JMP/CALL or IRET `insn` at the guest's RIP starts a task
 * switch: the checks of cpu/task_switch.h on the guest state and memory
 * (VTX_TASK_NONE for any other instruction). */
void vtx_task_switch_of_insn(const vtx_machine *m, const vtx_insn *insn, vtx_task_check *tc);

/* A task switch the instruction attempts (task_switch.c) as the next step (execute.c): the VM exit, or the
 * fault of a check that failed (which has priority over the exit). */
vtx_step vtx_task_switch_step(vtx_machine *m, const vtx_task_check *tc, const vtx_insn *insn, vtx_exit_info *ex,
                              vtx_insn_result *r, vtx_status *st);

/* The VM exit of a CALL, IRET or JMP task switch that passed its checks: reason
 * 9, qualification = TSS selector | source << 30, the instruction's length. */
void vtx_task_switch_exit(const vtx_task_check *tc, const vtx_insn *insn, vtx_exit_info *ex);

/* The VM exit of a task gate in the IDT reached while delivering `d` (its
 * checks passed): reason 9, qualification = TSS selector | 3 << 30, the
 * IDT-vectoring information and error code of `d`, and for a software
 * interrupt or exception (types 4, 5, 6) its instruction length. */
void vtx_task_switch_gate_exit(uint16_t tss_selector, const vtx_delivery *d, vtx_exit_info *ex);

#endif
