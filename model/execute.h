/* Executing guest instructions in VMX non-root operation (execute.c) and the
 * instruction-caused VM exits (insn_exits.c). */
#ifndef VTX_EXECUTE_H
#define VTX_EXECUTE_H

#include <string.h>
#include "../cpu/deliver.h"
#include "../cpu/engine.h"
#include "machine_internal.h"

/* What one step of execution led to. */
typedef enum vtx_step {
    VTX_STEP_CONTINUE = 0, /* evaluate the next boundary */
    VTX_STEP_EXIT = 1,     /* a VM exit: *ex is filled */
    VTX_STEP_STOP = 2,     /* the run stops without a VM exit: r->why says why; *st the status */
} vtx_step;

/* Does this instruction cause a VM exit under the current controls? Fills *ex
 * when it does: reason, qualification (including the displacement of
 * descriptor-table, VMX and INVEPT/INVVPID/INVPCID exits and INVLPG's linear
 * address), instruction length and VM-exit instruction information (SDM
 * "VM-Exit Instruction Information"; 0 for exits that do not define it). */
bool vtx_insn_exit(const vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex);
/* The offset (effective address) of the instruction's memory operand: base +
 * index * scale + displacement (+ the next RIP when RIP-relative), truncated to
 * the address size; the segment base is not added. */
uint64_t vtx_insn_offset(const vtx_machine *m, const vtx_insn *insn);
/* The same for the registers of any processor state `c` (the guest's, or the
 * root-mode processor's: root_insn.c, root_operand.c). */
uint64_t vtx_insn_offset_in(const vtx_cpu_state *c, const vtx_insn *insn);
/* The linear address of that operand: the offset plus the segment base (in
 * 64-bit mode only FS and GS have one), 32 bits outside 64-bit mode. */
uint64_t vtx_insn_linear(const vtx_machine *m, const vtx_insn *insn);
/* Exit reason of a VMX instruction (VMCLEAR 19 ... INVVPID 53) from its mnemonic. */
uint32_t vtx_vmx_insn_exit_reason(const vtx_insn *insn);

/* Execute from the current boundary: one instruction, or a run of instructions
 * none of which needs the model between them, up to `budget` instructions. */
vtx_step vtx_execute(vtx_machine *m, uint64_t budget, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st);

/* Stop the run where the model cannot go on: r->why gets the sentence, *st the status. */
vtx_step vtx_step_stop(vtx_insn_result *r, vtx_status *st, vtx_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A 32-bit field of the current VMCS. */
static inline uint32_t vtx_vmcs32(const vtx_machine *m, enum vtx_slot s)
{
    return (uint32_t)vtx_vmcs_get(&m->current->f, s);
}

/* The interruption-information layout (valid, type 10:8, vector 7:0, error code 11)
 * of the VM-exit interruption and IDT-vectoring information fields. */
static inline uint32_t vtx_intr_info(uint8_t vector, vtx_event_type type, bool has_error_code)
{
    return 0x80000000u | ((uint32_t)type << 8) | vector | (has_error_code ? 1u << 11 : 0);
}

/* Whether an exception exits (reason 0) rather than being delivered: the exception
 * bitmap, and for #PF its error-code mask/match (event_delivery.c). */
bool vtx_exception_exits(const vtx_machine *m, uint8_t vector, uint32_t error_code);

/* Deliver an event through the guest IDT/IVT with the SDM's nesting rules
 * (nested exceptions consult the exception bitmap; #DF; triple fault). */
vtx_step vtx_deliver_event(vtx_machine *m, vtx_delivery d, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st);

/* After a step: perform the VM exit of VTX_STEP_EXIT; true (with *st set) when
 * the step ends the run (an exit or a stop), false when the guest goes on (run.c). */
bool vtx_step_ends_run(vtx_machine *m, vtx_step step, const vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st);

/* The engine raised #MF at the instruction at RIP (x87_error.c, BLK-SAVE-2): drop
 * blocking by STI and MOV SS; true when that unblocked an INIT, NMI or external
 * interrupt that now wins the boundary (take it there; the #MF is discarded),
 * false when the #MF is to be raised. */
bool vtx_x87_error_yields(vtx_machine *m);

/* The VM exit of the EPT violation or misconfiguration recorded in m->ept_fault
 * (ept_walk.c), for an access at linear address `lin`; false when none is recorded. */
bool vtx_ept_fault_exit(vtx_machine *m, uint64_t lin, vtx_exit_info *ex);

/* The steps execute.c shares with the files that own an instruction class's
 * effect on event state (shadows.c: STI, MOV SS, POP SS; nmi_blocking.c: IRET). */

/* Run exactly the instruction at RIP on the engine and account for it
 * (execute.c, retired: its cycles, the end of the previous shadow, an MTF made
 * pending, RF cleared); what else the engine stopped on becomes the next step. */
vtx_step vtx_step_engine(vtx_machine *m, vtx_insn_class cls, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st);
/* The same for an instruction that makes a shadow: *retired_one is true when it
 * retired, also when a single-step trap (TF = 1) followed it, which becomes a
 * pending #DB (BLK-STI-1, BLK-MSS-1) instead of stopping the shadow. */
vtx_step vtx_step_retire(vtx_machine *m, const vtx_insn *insn, bool *retired_one, vtx_exit_info *ex,
                         vtx_insn_result *r, vtx_status *st);

/* Between execute.c (the runs) and exec_insn.c (the model's instructions). */
/* The model's handling of the instruction at RIP the engine stopped before. */
vtx_step vtx_exec_insn(vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex, vtx_insn_result *r,
                       vtx_status *st);
/* n instructions of class cls retired: their cycles, the end of the previous
 * shadow (BLK-STI-2, BLK-MSS-5), an MTF made pending (MTF-4), RF cleared. */
void vtx_retired(vtx_machine *m, uint64_t n, vtx_insn_class cls);
/* An exception raised by a guest instruction (or a trap after it): a VM exit
 * through the exception bitmap, or delivered (CR2 written for a #PF). */
vtx_step vtx_raise_exception(vtx_machine *m, uint8_t vector, vtx_event_type type, bool has_err, uint32_t err,
                             uint64_t pf_addr, uint8_t insn_len, vtx_exit_info *ex, vtx_insn_result *r,
                             vtx_status *st);
/* Run the engine over exactly the instruction at RIP (the state read back, the
 * accessed bits set); 0, or the engine's failure. */
int vtx_step_one(vtx_machine *m, vtx_stop *s);
/* Turn an engine stop (other than a stop before an instruction of the model's
 * classes with nothing retired) into the model's next step. */
vtx_step vtx_step_after(vtx_machine *m, const vtx_stop *s, vtx_insn_class cls, vtx_exit_info *ex,
                        vtx_insn_result *r, vtx_status *st);

/* Create the engine over the machine's memory (again, when the map changed;
 * with the bus's MMIO window) and load g.cpu into it when engine_dirty. */
bool vtx_engine_ready(vtx_machine *m, const char **why);
/* Only create it (root_run.c loads the root-mode processor itself). */
bool vtx_engine_make(vtx_machine *m, const char **why);

/* Release the execution engine (machine destruction, memory map changes). */
void vtx_execute_release(vtx_machine *m);

#endif
