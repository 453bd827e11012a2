/* Internal state of a modelled machine, shared by the files of model/. */
#ifndef VTX_MACHINE_INTERNAL_H
#define VTX_MACHINE_INTERNAL_H

#include <stdio.h>
#include "../cpu/cpu_state.h"
#include "../cpu/deliver.h"
#include "../cpu/engine.h"
#include "../vmcs/vmcs_internal.h"
#include "vtxref/machine.h"
#include "vtxref/vmx.h"
#include "vtxref/bus.h"
#include "vtxref/root.h"

#define VTX_NO_VMCS (~(uint64_t)0)

typedef struct vtx_mem_region {
    uint64_t pa, size;
    uint8_t *host;
    unsigned perms;
} vtx_mem_region;

/* What the VM-entry checks last passed on for one VMCS (entry_memo.c): the field
 * values and the one input outside the VMCS that can change (the root's
 * IA32_EFER.LMA, read by the host-state checks; the profile is fixed). */
typedef struct vtx_entry_memo {
    bool valid;
    bool root_lma;
    vtx_vmcs_values f;
} vtx_entry_memo;

/* One VMCS the processor has seen: its launch state and field data. The data
 * stands for the implementation-specific part of the VMCS region; the region
 * in memory holds the revision identifier and shadow-VMCS indicator. */
typedef struct vtx_vmcs {
    uint64_t pa;
    bool active;          /* VMPTRLDed and not VMCLEARed since */
    bool shadow;          /* loaded with region bit 31 = 1 */
    bool crossed_vmxoff;  /* active across VMXOFF: VMRESUME fails with error 6 */
    vtx_launch_state launch;
    vtx_vmcs_values f;
    vtx_entry_memo memo;
} vtx_vmcs;

/* Activity states (VMCS guest activity-state field). */
enum { VTX_ACTIVE = 0, VTX_HLT = 1, VTX_SHUTDOWN = 2, VTX_WAIT_SIPI = 3 };

/* Interruptibility bits (VMCS guest interruptibility-state field, A.1). */
enum { VTX_INTR_STI = 1u << 0, VTX_INTR_MOV_SS = 1u << 1, VTX_INTR_SMI = 1u << 2, VTX_INTR_NMI = 1u << 3 };

/* The guest processor state while in VMX non-root operation: the architectural
 * state cpu/ executes (registers, segments, control registers; the one
 * authoritative copy), the rest of the VMCS guest-state area, and event state. */
typedef struct vtx_guest {
    vtx_cpu_state cpu;
    uint64_t pat, debugctl, perf_global_ctrl, bndcfgs;
    uint64_t sysenter_esp, sysenter_eip;
    uint32_t sysenter_cs;
    uint64_t pending_dbg;
    uint32_t smbase;
    /* Event state (catalogue A). */
    bool block_sti;      /* blocking by STI: this boundary only (BLK-STI-2) */
    bool block_movss;    /* blocking by MOV SS: this boundary only (BLK-MSS-5) */
    bool block_nmi;      /* blocking by NMI; virtual-NMI blocking when "virtual NMIs" = 1 (bit 3) */
    uint32_t activity;
    bool mtf_pending;    /* an MTF VM exit is pending (MTF-1..4, INJ-17) */
    bool timer_armed;    /* the VMX-preemption timer counts (pin-based bit 6) */
    uint64_t timer_deadline; /* cycle at which it reaches 0 */
    /* APIC virtualization (apic_virt.h). */
    uint8_t tpr_exit;    /* a TPR-below-threshold exit is pending: VTX_TPR_EXIT_AFTER_ENTRY or _TRAP, else 0 */
    uint32_t apic_trap;  /* a trap-like virtualized-EOI (45) or APIC-write (56) exit is pending: its reason */
    uint64_t apic_trap_qual; /* and its exit qualification */
    uint8_t rvi, svi;    /* guest interrupt status with "virtual-interrupt delivery" */
    bool vintr_recognized; /* a virtual interrupt is recognised (IW-7) */
} vtx_guest;

/* The processor's MSRs that no VMCS area switches: one copy shared by root and
 * non-root operation, as on hardware (msr.h lists them and their rules). */
typedef struct vtx_msr_file {
    bool ready;              /* set to the power-on values (vtx_msr_power_on) */
    uint64_t tsc_adjust;     /* IA32_TIME_STAMP_COUNTER = cycles + tsc_adjust */
    uint64_t apic_base;      /* IA32_APIC_BASE (no local APIC behind it) */
    uint64_t star, lstar, cstar, fmask, kernel_gs_base, tsc_aux;
} vtx_msr_file;

/* The host's copies of the MSRs the VMCS switches, other than IA32_EFER (which
 * is vtx_root_state::efer): set from the host-state area at every VM exit and
 * by the VM-exit MSR-load area (msr.h). */
typedef struct vtx_host_msrs {
    uint64_t pat, debugctl, sysenter_esp, sysenter_eip, fs_base, gs_base;
    uint32_t sysenter_cs;
} vtx_host_msrs;

/* EPT translation (ept_walk.c). */
typedef enum vtx_ept_outcome {
    VTX_EPT_OK = 0,
    VTX_EPT_VIOLATION = 1,  /* exit 48 */
    VTX_EPT_MISCONFIG = 2,  /* exit 49 */
    VTX_EPT_BAD_MEMORY = 3, /* an EPT paging-structure entry lies outside memory (entry_pa) */
} vtx_ept_outcome;
typedef struct vtx_ept_walk_result {
    uint64_t hpa;       /* OK: the host-physical address */
    uint64_t page_size; /* OK: 4 KiB, 2 MiB or 1 GiB */
    unsigned perms;     /* R/W/X (bits 0-2): the AND of the entries walked */
    uint64_t entry_pa;  /* MISCONFIG / BAD_MEMORY: the entry's host-physical address */
    int misconfig;      /* MISCONFIG: why (vtx_ept_misconfig_text) */
} vtx_ept_walk_result;
/* An access the EPT refused, kept for the VM exit. */
typedef struct vtx_ept_fault {
    bool pending;
    bool final;            /* the access to the translation of a linear address (gpa is its page) */
    vtx_ept_outcome outcome;
    uint64_t gpa, lin, qual, entry_pa;
    int misconfig;
} vtx_ept_fault;

struct vtx_machine {
    vtx_profile profile;
    vtx_root_state root;
    vtx_vmcs_support support;

    vtx_mem_region *regions;
    size_t n_regions, cap_regions;

    bool vmx_on;           /* in VMX operation */
    uint64_t vmxon_ptr;
    vtx_vmcs *current;     /* NULL when the current-VMCS pointer is invalid */

    vtx_vmcs **vmcs;       /* every VMCS seen (stable pointers) */
    size_t n_vmcs, cap_vmcs;

    /* Non-root operation. */
    bool in_guest;
    bool guest_inexact;   /* the guest stopped at an unmapped data access whose stop is not exact:
                             vtx_continue refuses to go on (ENG-UNM-1) */
    vtx_guest g;          /* g.cpu.gpr is the register file of root and non-root alike */
    bool engine_dirty;    /* g.cpu changed outside the engine: load it before running */
    struct vtx_engine *engine; /* created at the first instruction a guest executes */
    unsigned engine_gen;  /* regions_gen the engine was built for */
    unsigned regions_gen; /* bumped by map/unmap */
    vtx_phys_mem phys;    /* guest-physical memory for cpu/ */
    bool iret_unblocked_nmi; /* the IRET being executed removed (virtual-)NMI blocking (VNMI-7) */
    bool injecting;          /* vtx_deliver_event is delivering an event VM entry injects: DR6/DR7
                                are not modified, even for vector 1 (SDM "Vectored-Event Injection") */
    uint64_t dr6_before_run; /* DR6 before the engine's run: its single-step trap sets BS, which
                                the model undoes (the #DB may exit; delivery sets BS itself) */
    /* The engine's TLB across entries and exits (tlb.c, rule PG-2). */
    bool tlb_pending;      /* an exit without VPID invalidated it: flush at the next entry */
    bool tlb_vpid_valid;   /* it holds translations of VPID tlb_vpid (entered with VPID on) */
    uint16_t tlb_vpid;
    uint64_t tlb_eptp;     /* the EPTP its combined mappings were made with (EPT-INV-3) */
    /* EPT in non-root operation (ept_walk.c): on from a VM entry with "enable EPT" = 1
     * (Unicorn 2.1) to the next VM exit. */
    bool ept_on;
    uint64_t eptp;
    vtx_ept_fault ept_fault;
    vtx_phys_mem gphys;        /* guest-physical memory through the EPT (the model's own accesses) */
    vtx_engine_xlate ept_xl;   /* the engine's second stage (vtx_engine_set_xlate) */
    bool engine_xl_on;         /* the engine has it installed */
    /* PAE paging with EPT: the PDPTE registers VM entry loaded from the VMCS
     * (EPT-W-5), valid while the guest's CR3 is pdpte_cr3. */
    bool pdpte_on;
    uint64_t pdpte[4], pdpte_cr3;
    vtx_cycle_costs costs;
    vtx_run_limits limits;
    bool full_entry_checks; /* every VM entry makes every check (vtx_machine_config) */
    uint64_t cycles, instructions;
    vtx_boundary_observer observer;
    void *observer_user;
    uint64_t run_instructions; /* `instructions` at the start of vtx_execute's engine run in
                                  progress (in_execute_run): those since were retired at the
                                  boundaries evaluated inside it (execute.c, boundary_in_run;
                                  vtx_hook_retired) */
    bool in_execute_run;
    uint64_t exec_budget;    /* the instruction budget of the vtx_execute in progress (0: none); an
                                STI it stops before runs on with it (shadows.c, BLK-STI-1) */
    bool exec_skip_first;    /* the next vtx_execute runs the instruction at RIP although it is in
                                the stop set (that STI) */
    /* EXEC-FLT-1 (execute.c): the fault a run ended in after retiring other instructions,
     * put off to the boundary before its instruction; valid within one vtx_run_guest
     * while RIP and `instructions` are what they were and nothing was loaded */
    bool fault_again;
    uint64_t fault_again_rip, fault_again_insns;
    vtx_stop fault_again_stop;
    bool memo_valid;         /* memo_rep is the last boundary evaluated inside this run */
    uint64_t memo_key[5];    /* everything its verdicts depended on that can change inside a run
                                (execute.c, memo_key) */
    vtx_boundary_report memo_rep;

    /* Platform inputs. */
    bool nmi_pending;
    bool intr_line;
    uint8_t intr_vector;
    uint8_t delivered_vector; /* the vector acknowledged at the last boundary */
    bool init_pending;
    bool sipi_pending;        /* a SIPI arrived since the last boundary (acts or is discarded there) */
    uint8_t sipi_vector;      /* its vector */
    vtx_input scheduled[64]; /* waiting inputs, in the order they were scheduled */
    unsigned n_scheduled;

    /* MSRs (msr.c): the shared ones, and the host's copies of the switched ones. */
    vtx_msr_file msr;
    vtx_host_msrs host_msr;

    struct vtx_vmm_checker *vmm_monitor; /* the VMM checker attached (vmm_check_internal.h), or NULL */
    vtx_vmx_observer vmx_observer;       /* vtx_machine_set_vmx_observer() (vmx_observer.c), or NULL */
    void *vmx_observer_user;

    /* The platform (bus.h; root_bus.c) and root-mode execution (root.h; root_run.c). */
    bool has_bus;
    vtx_bus bus;
    bool bus_stop;           /* a bus callback asked the run to end */
    bool mmio_on_engine;     /* the bus's MMIO window is mapped in m->engine */
    bool host_running;       /* vtx_root_start was called: `host` is the root-mode processor */
    vtx_cpu_state host;      /* the processor in root operation (GPRs other than RSP live in
                                g.cpu.gpr while a guest runs, as on hardware they are shared) */
    bool host_block_sti, host_block_movss, host_block_nmi;
    bool host_halted;        /* root-mode HLT activity state */
    uint64_t host_pending_db; /* a single-step #DB trap to deliver at the next root boundary */
    uint64_t host_insn_end, host_cycle_end; /* where the vtx_root_run in progress ends */
    FILE *root_trace;        /* vtx_root_set_trace: one line per root-mode VMX instruction and VM exit */
};

/* The bus (root_bus.c): sample the interrupt source into intr_line / intr_vector /
 * nmi_pending; acknowledge the interrupt taken; the next deadline (UINT64_MAX);
 * make sure the MMIO window is on the engine. */
void vtx_bus_sample(vtx_machine *m);
void vtx_bus_ack(vtx_machine *m, uint8_t vector);
uint64_t vtx_bus_deadline(const vtx_machine *m);
bool vtx_bus_engine_setup(vtx_machine *m);
/* IN/OUT through the bus (all ones / dropped without one); false when the bus stops the run. */
bool vtx_bus_in(vtx_machine *m, uint64_t rip, uint16_t port, unsigned size, uint32_t *value);
bool vtx_bus_out(vtx_machine *m, uint64_t rip, uint16_t port, unsigned size, uint32_t value);

/* Apply the scheduled inputs that are due; return the instruction count and the
 * cycle at which the next ones fall due (UINT64_MAX when none). */
void vtx_inputs_apply(vtx_machine *m, uint64_t *next_insn, uint64_t *next_cycle);

/* Physical memory helpers. */
vtx_status vtx_mem_read(const vtx_machine *m, uint64_t pa, void *buf, size_t len, vtx_diag *diag);
vtx_status vtx_mem_write(vtx_machine *m, uint64_t pa, const void *buf, size_t len, vtx_diag *diag);

/* VMCS bookkeeping. */
vtx_vmcs *vtx_vmcs_lookup(const vtx_machine *m, uint64_t pa);
vtx_status vtx_vmcs_get_or_create(vtx_machine *m, uint64_t pa, vtx_vmcs **out);

/* Outcome helpers: set the result, RFLAGS and the VM-instruction error field.
 * The named check gives the result's check and rule; fmt gives its "why". */
void vtx_res_reset(vtx_insn_result *r);
void vtx_vmsucceed(vtx_machine *m, vtx_insn_result *r);
void vtx_vmfail_invalid(vtx_machine *m, vtx_insn_result *r, vtx_check check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* VMfail(error): VMfailValid when there is a current VMCS, else VMfailInvalid. */
void vtx_vmfail(vtx_machine *m, vtx_insn_result *r, vtx_vm_insn_error err, vtx_check check,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void vtx_fault(vtx_insn_result *r, uint8_t vector, vtx_check check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Mode tests on the root state. */
bool vtx_root_64bit(const vtx_root_state *root);
/* The checks every VMX instruction other than VMXON makes first (#UD outside
 * VMX operation, in V8086 or compatibility mode; #GP(0) at CPL > 0). Returns
 * true (and fills r) when the instruction faults. */
bool vtx_vmx_insn_faults(vtx_machine *m, vtx_insn_result *r, const char *insn);
/* True (with r->why set) when a root-mode instruction is called while the
 * machine is in non-root operation; the caller returns VTX_ERR_STATE. */
bool vtx_in_guest_refuse(const vtx_machine *m, vtx_insn_result *r);
/* VMXON's own #UD mode check (CR0.PE, RFLAGS.VM, compatibility mode). */
bool vtx_vmxon_mode_faults(vtx_machine *m, vtx_insn_result *r);
/* Physical address valid for a VMX region: 4-KiB aligned, within the width. */
bool vtx_vmx_addr_ok(const vtx_machine *m, uint64_t pa);
unsigned vtx_vmx_addr_width(const vtx_machine *m);
/* EPTP validity (SDM "VM-Execution Control Fields", EPTP checks): memory type,
 * page-walk length, A/D enable and reserved bits against IA32_VMX_EPT_VPID_CAP.
 * On false, *why says which part is wrong. */
bool vtx_eptp_valid(const vtx_machine *m, uint64_t eptp, const char **why);

/* Cached translation information across VM entries and exits (tlb.c, PG-2):
 * called at every VM entry after the guest state is loaded, at every VM exit,
 * and (vtx_tlb_flush) by INVVPID and INVEPT. */
void vtx_tlb_on_entry(vtx_machine *m, const vtx_vmcs_values *f);
void vtx_tlb_on_exit(vtx_machine *m, const vtx_vmcs_values *f);
void vtx_tlb_flush(vtx_machine *m);
/* PG-9: whether the guest's cached translations survive loads of its state into
 * the engine now (entered with VPID on, nothing invalidated since): the engine
 * then compares the paging structures only where they are invalidated. */
bool vtx_tlb_kept(const vtx_machine *m);
/* PG-8/PG-9: the guest's INVLPG or MOV to CR3 is about to run on the engine. */
void vtx_tlb_guest_invalidates(vtx_machine *m);
/* EPT on Unicorn 2.0.1 (ept.c, EPT-ID-1/2): NULL when the run can go on with
 * "enable EPT" = 1 and this EPTP, else why not (written to buf). */
const char *vtx_ept_refused(const vtx_machine *m, uint64_t eptp, char *buf, size_t len);

/* EPT (ept_walk.c). Walk the EPT of `eptp` for an access to gpa (access: EPT
 * R/W/X bits, 0 for a look without permission check); set_ad sets the EPT A/D
 * flags when EPTP bit 6 enables them. */
vtx_ept_outcome vtx_ept_walk(vtx_machine *m, uint64_t eptp, uint64_t gpa, unsigned access, bool set_ad,
                             vtx_ept_walk_result *res);
const char *vtx_ept_misconfig_text(int why);
/* The recorded EPT fault came from an access made for linear address `lin`
 * (final: to its translation, else to a guest paging-structure entry). */
void vtx_ept_fault_at_linear(vtx_machine *m, uint64_t lin, bool final);
/* VM entry with EPT: load the PDPTE registers from the VMCS when the guest uses
 * PAE paging; VM exit with EPT: store them (EPT-W-5). */
void vtx_ept_load_pdptes(vtx_machine *m, const vtx_vmcs_values *f);
void vtx_ept_store_pdptes(vtx_machine *m, vtx_vmcs_values *f);
/* Set up m->gphys (machine creation). */
void vtx_ept_init(vtx_machine *m);
/* The engine's second stage over the current EPTP. */
const vtx_engine_xlate *vtx_ept_engine_xlate(vtx_machine *m);
/* The guest's paging capabilities for the model's own walks (and the PDPTE
 * registers of PAE paging with EPT, EPT-W-5). */
static inline vtx_paging_caps vtx_guest_caps(const vtx_machine *m)
{
    return (vtx_paging_caps){.maxphyaddr = m->profile.phys_addr_width, .pages_1g = false,
                             .pdptes = (m->ept_on && m->pdpte_on && m->g.cpu.cr3 == m->pdpte_cr3) ? m->pdpte : NULL};
}
/* Guest-physical memory for the model's own accesses in non-root operation. */
static inline const vtx_phys_mem *vtx_gmem(const vtx_machine *m) { return m->ept_on ? &m->gphys : &m->phys; }

/* Guest state between the VMCS and the machine (guest_state.c). */
void vtx_guest_load(vtx_machine *m, const vtx_vmcs_values *f);
void vtx_guest_save(vtx_machine *m, vtx_vmcs_values *f);

/* Preemption timer value left at cycle `now` (preemption_timer.c). */
uint32_t vtx_timer_remaining(const vtx_machine *m, uint64_t now);
void vtx_timer_start(vtx_machine *m, uint32_t value);
/* Whether the armed preemption timer has reached 0 (PT-4: its exit is due).
 * Inline: an observed run asks at every instruction boundary. */
/* Instructions of the engine run in progress already retired at the boundaries
 * evaluated inside it (execute.c, boundary_in_run). */
static inline uint64_t vtx_hook_retired(const vtx_machine *m)
{
    return m->in_execute_run ? m->instructions - m->run_instructions : 0;
}

static inline bool vtx_timer_expired(const vtx_machine *m)
{
    return m->g.timer_armed && m->cycles >= m->g.timer_deadline;
}

/* A VM exit as the processor performs it (vmexit.c). */
typedef struct vtx_exit_info {
    uint32_t reason;          /* basic exit reason */
    uint64_t qualification;
    uint32_t intr_info, intr_error;
    uint32_t idt_vectoring_info, idt_vectoring_error;
    uint32_t instruction_len, instruction_info;
    /* Guest-linear address field (0x640A): written only when has_guest_linear
     * (LMSW with a memory operand, INS/OUTS; undefined for other exits). */
    bool has_guest_linear;
    uint64_t guest_linear;
    /* Guest-physical address field (0x2400): EPT violations and misconfigurations. */
    bool has_guest_phys;
    uint64_t guest_phys;
} vtx_exit_info;
/* Returns VTX_OK, or VTX_ERR_UNSUPPORTED where the processor would end in a VMX
 * abort (an MSR-store or MSR-load entry failed): the exit is then undone, the
 * machine stays in non-root operation as before it, and r->why says why. */
vtx_status vtx_vm_exit(vtx_machine *m, const vtx_exit_info *e, vtx_insn_result *r);

/* Non-root execution (run.c): evaluate boundaries until a VM exit or a stop. */
vtx_status vtx_run_guest(vtx_machine *m, bool after_entry, vtx_insn_result *r);

/* The boundary evaluation of catalogue G.1 (boundary.c). Fills the report and,
 * for an exit, the exit information. */
void vtx_boundary_evaluate(vtx_machine *m, bool after_entry, vtx_boundary_report *rep, vtx_exit_info *exit);
/* No event is armed at all (no pending or recognised event, no window exiting, no
 * MTF, no expired preemption timer): every verdict of a boundary is idle whatever
 * RFLAGS.IF and the blocking state are, so the boundary's action is the activity
 * state's. */
bool vtx_boundary_nothing_armed(const vtx_machine *m);
/* Consume the winning event of a report (a pending NMI, an acknowledged interrupt, ...). */
void vtx_boundary_take(vtx_machine *m, const vtx_boundary_report *rep);

/* Report a VMX operation to the machine's VMX-operation observer, if any (vmx_observer.c). */
void vtx_vmx_observe(vtx_machine *m, const vtx_vmx_op *op);

#endif
