/*
 * Event delivery through the guest IDT (protected and IA-32e mode) or IVT (real
 * mode), implemented by the model because Unicorn never delivers anything
 * (docs/architecture.md). Pure C on a vtx_cpu_state and guest memory: no Unicorn.
 *
 * SDM Vol. 3 chapter 6 "Interrupt and Exception Handling" (6.10-6.13 IDT, gates,
 * privilege checks, stack switch, error codes; 6.14 64-bit mode; 6.15 #DF rules),
 * Vol. 2 "INT n/INTO/INT3/INT1" operation pseudo-code (the order of the checks),
 * Vol. 3 "Task Management" (TSS stack fields), chapter 4 "Paging", and the
 * real-address-mode path of INT n (IVT) for real mode.
 */
#ifndef VTX_DELIVER_H
#define VTX_DELIVER_H

#include "cpu_state.h"

/* What is being delivered (the VMX interruption types, catalogue INJ-2). Any
 * other value is treated like VTX_EVT_HW_EXC (EXT = 1, no gate DPL check,
 * return address = RIP). */
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
    bool has_error_code;  /* ignored in real mode (no error codes there, INJ-6) */
    uint32_t error_code;  /* pushed as 16 bits through a 16-bit gate, zero-extended in IA-32e mode */
    /* For types 4, 5, 6: the pushed return address is rip + insn_len (INJ-7). */
    uint8_t insn_len;
    /* Push RFLAGS with RF = 1: a fault-class exception other than an instruction
     * breakpoint (SDM Vol. 3A "Debug Exceptions", RF); else RF is pushed as it is. */
    bool push_rf;
} vtx_delivery;

/* How a delivery attempt ended. */
typedef enum vtx_deliver_outcome {
    VTX_DELIVERED = 0,      /* the handler is the next instruction; state updated */
    VTX_DELIVER_FAULT = 1,  /* a nested exception during delivery: see fault (not yet delivered) */
    VTX_DELIVER_TASK_GATE = 2, /* the gate is a task gate and the checks before the task switch passed
                                  (task_switch.h; VMX exits on it); address = the gate's TSS selector */
    VTX_DELIVER_UNMAPPED = 3,  /* an access to unmapped guest-physical memory; see address */
} vtx_deliver_outcome;

typedef struct vtx_deliver_result {
    vtx_deliver_outcome outcome;
    /* VTX_DELIVER_FAULT: the nested exception as a type-3 event (#GP/#NP/#SS/#TS
     * with the EXT bit per INJ-15, #PF with the paging error code; in real mode
     * #GP/#SS without error code). CR2 is NOT written: address holds it. */
    vtx_delivery fault;
    /* VTX_DELIVER_UNMAPPED: the guest-physical address; FAULT with #PF: the
     * linear address (for CR2); TASK_GATE: the TSS selector from the gate. */
    uint64_t address;
    /* VTX_DELIVER_UNMAPPED of an access to linear memory: its linear address
     * (`linear_valid`), and whether the access was to the translation itself
     * (`at_final`) or to a paging-structure entry of its translation. */
    bool linear_valid, at_final;
    uint64_t linear;
} vtx_deliver_result;

/* What the translating processor offers (from its CPUID); NULL = defaults. */
typedef struct vtx_paging_caps {
    uint8_t maxphyaddr; /* CPUID.80000008H:EAX[7:0], 32..52; anything else means 52 */
    bool pages_1g;      /* CPUID.80000001H:EDX[26]; false: PS in a PDPTE is reserved (RSVD #PF) */
    const uint64_t *pdptes; /* PAE paging: the four PDPTE registers the walk uses (loaded by VM
                               entry from the VMCS with EPT); NULL: read from CR3 at each walk */
} vtx_paging_caps;

/*
 * Deliver one event. On VTX_DELIVERED the state is the handler's: CS:RIP from
 * the gate, the frame pushed (real mode FLAGS/CS/IP; protected mode
 * [SS:ESP,] EFLAGS, CS, EIP[, error]; from V8086 also ES, DS, FS, GS first;
 * IA-32e mode SS, RSP, RFLAGS, CS, RIP[, error] on a 16-byte aligned stack),
 * stack switched through the TSS on a privilege change (SSn:ESPn, or RSPn / ISTn
 * in IA-32e mode with SS = NULL selector, RPL = new CPL), IF cleared for
 * interrupt gates, TF, NT, RF and VM cleared (real mode: IF, TF, AC and RF).
 * Selectors pushed through 32-bit gates are zero-extended to 32 bits. The
 * accessed bits of the loaded CS / SS descriptors are set in memory.
 * Otherwise the state AND guest memory are unchanged and the result says why:
 * every write (frame, accessed/dirty bits, descriptor accessed bits) is buffered
 * and written only when the whole delivery has succeeded.
 * Gate checks: present, type (interrupt/trap/task gate for the mode), DPL >= CPL
 * only for types 4 and 6 (INT n, INT3, INTO; catalogue INJ-10), the target code
 * segment and the limit of the IDT (vector*8+7 or *16+15 within IDTR.limit).
 * Paging: linear addresses are translated through the guest page tables when
 * CR0.PG = 1 (4-level in IA-32e mode, PAE or 32-bit otherwise); a failed
 * translation is a #PF with CR2 (in address) and the error code. IDT, GDT, LDT
 * and TSS reads are implicit supervisor accesses; stack writes are made at the
 * new CPL (user accesses only when it is 3).
 * CPL is 0 in real mode, 3 in V8086 mode, otherwise SS.DPL.
 * The #DF escalation (SDM 6.15 Table 6-5) is the caller's job: it knows what
 * was being delivered; vtx_deliver_class() tells benign/contributory/page fault.
 * Not modelled: CET shadow stacks, V8086 interrupt redirection (CR4.VME), the
 * IOPL check of INT n in V8086 mode (the engine raises that #GP(0) itself), and
 * the task switch itself (a task gate ends in VTX_DELIVER_TASK_GATE after the
 * checks of vtx_task_check_gate: a #GP/#NP/#TS/#PF of those is a FAULT).
 * NULL pointers: nothing happens (res, when given, says UNMAPPED at address 0).
 */
void vtx_deliver(vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_delivery *d, vtx_deliver_result *res);
/* vtx_deliver with the paging capabilities of the modelled processor (caps may be NULL). */
void vtx_deliver_ex(vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps, const vtx_delivery *d,
                    vtx_deliver_result *res);

typedef enum vtx_exc_class { VTX_EXC_BENIGN, VTX_EXC_CONTRIBUTORY, VTX_EXC_PAGE_FAULT, VTX_EXC_DOUBLE_FAULT } vtx_exc_class;
/* SDM Table 6-4: the class of an exception vector. External interrupts, NMI,
 * INT n, INT1, INT3/INTO and vectors 32-255 are benign; contributory: #DE(0),
 * #TS(10), #NP(11), #SS(12), #GP(13), #CP(21); page faults: #PF(14), #VE(20);
 * #DF(8) is its own class. */
vtx_exc_class vtx_deliver_class(uint8_t vector, vtx_event_type type);
/* Whether a second exception while delivering the first becomes #DF (Table 6-5):
 * contributory then contributory, page fault then contributory or page fault. */
bool vtx_deliver_makes_df(vtx_exc_class first, vtx_exc_class second);
/* Whether a second exception while delivering a #DF is a triple fault (shutdown;
 * a VM exit with reason 2 in VMX non-root operation): the second is
 * contributory or a page fault (Table 6-5, last row; INJ-16). */
bool vtx_deliver_makes_triple(vtx_exc_class first, vtx_exc_class second);
/* Whether a hardware exception of this vector is fault-class, so its pushed RFLAGS
 * has RF = 1 (SDM Vol. 3A "Debug Exceptions", RF; Table 6-1 "Type"): #DE, #BR,
 * #UD, #NM, #TS, #NP, #SS, #GP, #PF, #MF, #AC, #XM, #VE, #CP. #DB (trap or fault,
 * the caller knows), #DF and #MC (aborts) and the traps #BP/#OF are not. */
bool vtx_exception_is_fault(uint8_t vector);

/* #PF error-code bits (SDM 4.7). */
#define VTX_PF_P 0x1u
#define VTX_PF_W 0x2u
#define VTX_PF_U 0x4u
#define VTX_PF_RSVD 0x8u
#define VTX_PF_ID 0x10u
/* Not an architectural bit: vtx_translate() sets *pf_error to this alone when a
 * paging-structure entry lies in unmapped guest-physical memory (*pa = its address). */
#define VTX_PF_UNMAPPED 0x80000000u

/* Access kinds for vtx_translate_ex(). */
#define VTX_ACC_WRITE 0x1u     /* a write (sets D) */
#define VTX_ACC_USER 0x2u      /* a user-mode access (CPL 3, not implicit) */
#define VTX_ACC_FETCH 0x4u     /* an instruction fetch (NX, SMEP) */
#define VTX_ACC_IMPLICIT 0x8u  /* implicit supervisor access (GDT/LDT/IDT/TSS): SMAP regardless of RFLAGS.AC */
#define VTX_ACC_NO_AD 0x10u    /* probe only: do not set accessed/dirty bits */

typedef enum vtx_xlate_status {
    VTX_XLATE_OK = 0,       /* *pa is the physical address */
    VTX_XLATE_PF = 1,       /* a #PF: *pf_error is its error code */
    VTX_XLATE_UNMAPPED = 2, /* a paging-structure entry is in unmapped memory: *pa is its address */
} vtx_xlate_status;

/* Linear-to-physical translation as the guest's paging does it (used by delivery
 * and by the engine for faults it must report): returns false and fills *pf_error
 * (SDM #PF error code: P, W/R, U/S, RSVD, I/D) when a #PF would occur, or
 * VTX_PF_UNMAPPED (see above). Sets accessed/dirty bits like the processor (only
 * when the translation succeeds). Default capabilities (MAXPHYADDR 52, no 1-GiB pages). */
bool vtx_translate(const vtx_cpu_state *s, const vtx_phys_mem *mem, uint64_t linear, bool write, bool user,
                   bool fetch, uint64_t *pa, uint32_t *pf_error);
/*
 * The translation in full (SDM chapter 4): CR0.PG = 0 → identity on the low 32
 * bits; 32-bit paging (4-KiB, 4-MiB pages with CR4.PSE, PSE-36 up to 40 bits);
 * PAE paging (the PDPTE is read from CR3 at each walk; its reserved bits give a
 * RSVD #PF here where the processor would have refused the MOV to CR3);
 * 4-level paging, 5-level with CR4.LA57. U/S, R/W with CR0.WP, XD with
 * IA32_EFER.NXE (bit 63 reserved otherwise), SMEP, SMAP (RFLAGS.AC for explicit
 * accesses), reserved bits above MAXPHYADDR and in large-page entries. The
 * caller checks canonicality. Protection keys are not modelled.
 * On VTX_XLATE_PF *pf_error is the error code; on VTX_XLATE_UNMAPPED *pa is the
 * unmapped physical address. caps may be NULL.
 */
vtx_xlate_status vtx_translate_ex(const vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps,
                                  uint64_t linear, unsigned access, uint64_t *pa, uint32_t *pf_error);

#endif
