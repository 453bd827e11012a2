/*
 * Task switches: the checks a processor makes before a task switch changes
 * anything (SDM Vol. 3 "Task Switching"; Vol. 2 CALL, JMP, IRET and INT n
 * operation, the TASK-GATE and TASK-STATE-SEGMENT paths). cpu/ knows nothing of
 * VMX: it says whether an instruction or an event delivery starts a task switch,
 * and which fault a check raises; model/task_switch.c turns a switch that passed
 * these checks into the VM exit of VMX non-root operation (SDM "Treatment of Task
 * Switches": only if checks 1-4 pass does the VM exit occur). The switch itself
 * (saving the old task, loading the new one) is not implemented: nothing here
 * writes guest state or memory, and neither TSS is read (except IRET's back
 * link, which names the new task).
 */
#ifndef VTX_TASK_SWITCH_H
#define VTX_TASK_SWITCH_H

#include "deliver.h"

/* How a task switch starts. The numbers are those of bits 31:30 of the exit
 * qualification of a task-switch VM exit (SDM Table "Exit Qualification for
 * Task Switches"). */
typedef enum vtx_task_source {
    VTX_TASK_CALL = 0,     /* far CALL to a TSS descriptor or a task gate */
    VTX_TASK_IRET = 1,     /* IRET with RFLAGS.NT = 1 (return to the task in the back link) */
    VTX_TASK_JMP = 2,      /* far JMP to a TSS descriptor or a task gate */
    VTX_TASK_IDT_GATE = 3, /* an event delivered through a task gate in the IDT */
} vtx_task_source;

typedef enum vtx_task_outcome {
    VTX_TASK_NONE = 0,     /* not a task switch (CALL/JMP to anything else, IRET with NT = 0, real
                              or virtual-8086 mode, IA-32e mode): the instruction runs as usual and
                              raises its own faults */
    VTX_TASK_SWITCH = 1,   /* every check passed: the task switch would start now (tss_selector) */
    VTX_TASK_FAULT = 2,    /* a check failed: vector and error code (and address for #PF) */
    VTX_TASK_UNMAPPED = 3, /* a read hit unmapped guest-physical memory (address) */
} vtx_task_outcome;

typedef struct vtx_task_check {
    vtx_task_outcome outcome;
    vtx_task_source source;
    uint16_t tss_selector; /* SWITCH: the new task's TSS selector as found (gate, back link or operand) */
    uint8_t vector;        /* FAULT: #GP(13), #NP(11), #TS(10) or #PF(14); always with an error code */
    uint32_t error_code;
    uint64_t address;      /* FAULT #PF: the linear address (CR2); UNMAPPED: the guest-physical address */
} vtx_task_check;

/*
 * A far CALL (src VTX_TASK_CALL) or JMP (VTX_TASK_JMP) to `selector` in 16- or
 * 32-bit protected mode. When the selector names a TSS descriptor or a task
 * gate, the checks of CALL/JMP's TASK-GATE / TASK-STATE-SEGMENT paths in order:
 *   task gate: gate DPL >= CPL and >= RPL, else #GP(gate); present, else
 *     #NP(gate); then its TSS selector as below (without a DPL check);
 *   TSS selector: in the GDT (TI = 0) and within GDTR.limit, else #GP(TSS);
 *   TSS descriptor: an available 16/32-bit TSS, else #GP(TSS) (busy, or not a
 *     TSS); directly named: DPL >= CPL and >= RPL, else #GP(TSS); present,
 *     else #NP(TSS); limit >= 67H (32-bit) / 2BH (16-bit), else #TS(TSS).
 * Anything else (a code segment, a call gate, a null or out-of-table selector,
 * a descriptor that cannot be read) is VTX_TASK_NONE: the ordinary far transfer,
 * which the execution engine performs with its own faults; likewise real,
 * virtual-8086 and IA-32e mode (where a TSS or task gate is #GP(selector)).
 */
void vtx_task_check_far(const vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps,
                        vtx_task_source src, uint16_t selector, vtx_task_check *out);

/*
 * IRET in 16- or 32-bit protected mode with RFLAGS.NT = 1 (Vol. 2 IRET,
 * TASK-RETURN): the back link (the first 16 bits of the current TSS) must name
 * a busy 16/32-bit TSS in the GDT: TI = 1, beyond GDTR.limit or not a busy TSS
 * gives #TS(back link); not present #NP(back link); limit below 67H / 2BH
 * #TS(back link). NT = 0, real mode, virtual-8086 mode and IA-32e mode (where
 * NT = 1 is #GP(0), the engine's) are VTX_TASK_NONE.
 */
void vtx_task_check_iret(const vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps,
                         vtx_task_check *out);

/*
 * Delivery of an event reached a present task gate in the IDT of a protected-
 * mode processor (the gate's own checks, including the DPL check of INT n /
 * INT3 / INTO, are vtx_deliver's). The checks on the gate's TSS selector (Vol. 2
 * INT n, TASK-GATE): TI = 0 and within GDTR.limit, else #GP(TSS | ext); an
 * available 16/32-bit TSS, else #GP(TSS | ext); present, else #NP(TSS | ext);
 * limit, else #TS(TSS | ext). `ext` is the EXT bit of the event (INJ-15).
 */
void vtx_task_check_gate(const vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps,
                         uint16_t tss_selector, uint32_t ext, vtx_task_check *out);

#endif
