/*
 * Event delivery through the guest IDT (protected and IA-32e mode) or IVT (real
 * mode), implemented by the model because Unicorn never delivers anything
 * (stack-notes.md). Pure C on a vtx_cpu_state and guest memory: no Unicorn.
 *
 * SDM Vol. 3 chapter 6 "Interrupt and Exception Handling" (6.12 exception and
 * interrupt handling, 6.14 in 64-bit mode, 6.15 #DF rules) and Vol. 3 "Task
 * Management" (TSS stack switch) ; chapter 20 "8086 Emulation" for the real-mode IVT.
 */
#ifndef VTX_DELIVER_H
#define VTX_DELIVER_H

#include "cpu_state.h"

/* What is being delivered (the VMX interruption types, catalogue INJ-2). */
typedef enum vtx_event_type {
    VTX_EVT_EXTINT = 0,   /* external interrupt */
    VTX_EVT_NMI = 2,      /* NMI (vector 2) */
    VTX_EVT_HW_EXC = 3,   /* hardware exception (fault or trap raised by the processor) */
    VTX_EVT_SW_INT = 4,   /* INT n */
    VTX_EVT_PRIV_SW = 5,  /* INT1 / ICEBP */
    VTX_EVT_SW_EXC = 6,   /* INT3, INTO */
} vtx_event_type;

typedef struct vtx_delivery {
    uint8_t vector;
    vtx_event_type type;
    bool has_error_code;
    uint32_t error_code;
    /* For types 4, 5, 6: the pushed return address is rip + insn_len (INJ-7). */
    uint8_t insn_len;
} vtx_delivery;

/* How a delivery attempt ended. */
typedef enum vtx_deliver_outcome {
    VTX_DELIVERED = 0,      /* the handler is the next instruction; state updated */
    VTX_DELIVER_FAULT = 1,  /* a nested exception during delivery: see fault (not yet delivered) */
    VTX_DELIVER_TASK_GATE = 2, /* the gate is a task gate (a task switch; VMX exits on it) */
    VTX_DELIVER_UNMAPPED = 3,  /* an access to unmapped guest-physical memory; see address */
} vtx_deliver_outcome;

typedef struct vtx_deliver_result {
    vtx_deliver_outcome outcome;
    vtx_delivery fault;  /* VTX_DELIVER_FAULT: the nested exception (#GP/#NP/#SS/#TS/#PF with error code, EXT bit set per SDM) */
    uint64_t address;    /* VTX_DELIVER_UNMAPPED: the guest-physical address; #PF: the linear address (CR2) */
} vtx_deliver_result;

/*
 * Deliver one event. On VTX_DELIVERED the state is the handler's: CS:RIP from
 * the gate, the frame pushed (real mode FLAGS/CS/IP; protected mode
 * [SS:ESP,] EFLAGS, CS, EIP[, error]; IA-32e mode SS, RSP, RFLAGS, CS, RIP[, error]
 * on a 16-byte aligned stack), stack switched through the TSS on a privilege
 * change (RSPn, or ISTn in IA-32e mode), IF cleared for interrupt gates, TF, NT,
 * RF and VM cleared. Otherwise the state is unchanged and the result says why.
 * Gate checks: present, type (interrupt/trap/task gate for the mode), DPL >= CPL
 * only for types 4 and 6 (INT n, INT3, INTO; catalogue INJ-10), the target code
 * segment and the limit of the IDT (vector*8+7 or *16+15 within IDTR.limit).
 * Paging: linear addresses are translated through the guest page tables when
 * CR0.PG = 1 (4-level in IA-32e mode, PAE or 32-bit otherwise); a failed
 * translation is a #PF with CR2 and the error code.
 * The #DF escalation (SDM 6.15 Table 6-5) is the caller's job: it knows what
 * was being delivered; vtx_deliver_class() tells benign/contributory/page fault.
 */
void vtx_deliver(vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_delivery *d, vtx_deliver_result *res);

typedef enum vtx_exc_class { VTX_EXC_BENIGN, VTX_EXC_CONTRIBUTORY, VTX_EXC_PAGE_FAULT, VTX_EXC_DOUBLE_FAULT } vtx_exc_class;
/* SDM Table 6-4/6-5: the class of an exception vector (interrupts are benign). */
vtx_exc_class vtx_deliver_class(uint8_t vector, vtx_event_type type);
/* Whether a second exception while delivering the first becomes #DF (Table 6-5). */
bool vtx_deliver_makes_df(vtx_exc_class first, vtx_exc_class second);

/* Linear-to-physical translation as the guest's paging does it (used by delivery
 * and by the engine for faults it must report): returns false and fills *pf_error
 * (SDM #PF error code: P, W/R, U/S, RSVD, I/D) when a #PF would occur. */
bool vtx_translate(const vtx_cpu_state *s, const vtx_phys_mem *mem, uint64_t linear, bool write, bool user,
                   bool fetch, uint64_t *pa, uint32_t *pf_error);

#endif
