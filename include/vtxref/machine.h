/**
 * @file machine.h
 * @brief A modelled VMX processor: its profile, physical memory and root-mode environment.
 *
 * A ::vtx_machine is created from a ::vtx_machine_config (caller-owned, filled by
 * vtx_machine_config_init() and then adjusted) and destroyed with
 * vtx_machine_destroy(). The machine is opaque because it owns resources (the
 * VMCS cache, later the execution engine); everything it is configured with and
 * everything it reports travels in caller-owned structures.
 *
 * Physical memory is what the caller maps with vtx_machine_map(): the VMXON
 * region, VMCS regions and guest memory all live there. The model never touches
 * memory outside the mapped regions; an access there fails with ::VTX_ERR_UNMAPPED
 * and a diagnostic naming the address.
 *
 * The root-mode environment (::vtx_root_state) is what the VMX instructions
 * depend on: CR0, CR4, IA32_EFER, RFLAGS, CS.L, CPL, IA32_FEATURE_CONTROL, SMX
 * operation and blocking by MOV SS. The caller sets it like a VMM's own
 * environment; the model refuses changes real hardware would fault on (clearing
 * CR4.VMXE in VMX operation, rewriting a locked IA32_FEATURE_CONTROL).
 *
 * Guest code runs on Unicorn 2.0.1, which calls abort() on some invalid guest
 * code while translating it. The first VM entry that runs guest code installs a
 * SIGABRT handler for the process: it catches such an abort only while a run is
 * inside Unicorn (the guest then gets the #UD hardware gives, or, should the
 * engine not find the culprit, the run stops with ::VTX_ERR_UNSUPPORTED and a
 * reason) and passes every other SIGABRT to the handler installed before. Guest
 * code runs on the calling thread; one machine is used by one thread at a time.
 *
 * Threads: machines on different threads share no mutable state (tested with
 * several threads setting up and running machines at once, tests/test_threads.c),
 * so one machine per thread is safe. The SIGABRT guard is the one process-wide
 * item: it is installed once (pthread_once); what it jumps back to is
 * thread-local, and abort() signals the thread that called it, so each thread
 * catches only its own Unicorn's abort. Its limits: a SIGABRT handler the
 * application installs after the first run replaces the guard (an abort inside
 * Unicorn then reaches that handler); a SIGABRT sent to the process from outside
 * (kill) that the kernel delivers to a thread inside a run is taken for an abort
 * of Unicorn, and that run stops with the engine marked broken.
 */
#ifndef VTXREF_MACHINE_H
#define VTXREF_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include "insn_class.h"
#include "observer.h"
#include "profile.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An opaque modelled processor. */
typedef struct vtx_machine vtx_machine;

/** @brief Root-mode environment the VMX instructions check (caller-owned). */
typedef struct vtx_root_state {
    uint64_t cr0;             /**< CR0; PE, NE and PG must follow IA32_VMX_CR0_FIXED0/1 for VMXON. */
    uint64_t cr4;             /**< CR4; VMXE (bit 13) must be 1 for VMXON. */
    uint64_t efer;            /**< IA32_EFER; LMA (bit 10) with cs_l selects 64-bit mode. */
    uint64_t rflags;          /**< RFLAGS; VMX instructions update CF, PF, AF, ZF, SF, OF here. */
    bool cs_l;                /**< CS.L: with EFER.LMA, 64-bit mode (else compatibility mode). */
    uint8_t cpl;              /**< Current privilege level, 0..3. */
    uint64_t feature_control; /**< IA32_FEATURE_CONTROL: bit 0 lock, bit 1 VMX in SMX, bit 2 VMX outside SMX. */
    bool in_smx;              /**< In SMX operation (after GETSEC[SENTER]). */
    bool blocking_by_mov_ss;  /**< The VMX instruction executes right after MOV SS / POP SS. */
} vtx_root_state;


/** @brief Cycle costs of the deterministic clock (the TSC and the preemption timer derive from it). */
typedef struct vtx_cycle_costs {
    uint32_t vm_entry;                /**< A successful VM entry (default 400). */
    uint32_t vm_exit;                 /**< A VM exit (default 400). */
    uint32_t by_class[VTX_IC_COUNT];  /**< A retired guest instruction, by ::vtx_insn_class (defaults in
                                           insn_class.h; CLI is charged as OTHER, with which it runs). */
} vtx_cycle_costs;

/** @brief Limits of one run of the guest (one VMLAUNCH/VMRESUME or vtx_continue()). 0 means "no limit". */
typedef struct vtx_run_limits {
    uint64_t instructions; /**< Guest instructions (default 100 000 000). */
    uint64_t cycles;       /**< Cycles (default 0: none). A guest in HLT with nothing armed to
                                wake it stops at once, whatever the budget. */
} vtx_run_limits;

/** @brief How a machine is built (caller-owned). */
typedef struct vtx_machine_config {
    vtx_profile profile;   /**< The CPU model; copied into the machine. */
    vtx_root_state root;   /**< Initial root-mode environment. */
    vtx_cycle_costs costs; /**< Cycle costs. */
    vtx_run_limits limits; /**< Budgets of every run. */
    /** Make every VM-entry check at every VMLAUNCH/VMRESUME. By default (false)
     * an entry with a VMCS whose checks passed before re-makes only the checks
     * fed by the fields whose values changed since (and those that read memory);
     * the verdict is the same either way (tests compare the two). */
    bool full_entry_checks;
} vtx_machine_config;

/**
 * @brief Fill @p config with @p profile, the default costs and limits, and a typical VMM environment ready for
 * VMXON: 64-bit mode at CPL 0, CR0 = PE|NE|PG|ET|MP|WP, CR4 = PAE|VMXE (plus
 * any other FIXED0 bits), EFER = LME|LMA, IA32_FEATURE_CONTROL = lock | VMX
 * outside SMX, RFLAGS = 2, no MOV-SS blocking.
 */
VTX_API vtx_status vtx_machine_config_init(vtx_machine_config *config, const vtx_profile *profile);

/** @brief Create a machine; the profile is validated first (::VTX_ERR_PROFILE_INVALID). */
VTX_API vtx_status vtx_machine_create(const vtx_machine_config *config, vtx_machine **machine,
                              vtx_diag *diag);
/** @brief Destroy a machine (NULL is ignored). Mapped caller memory is not freed. */
VTX_API void vtx_machine_destroy(vtx_machine *machine);

/** @brief Access permissions of a mapped region. */
enum { VTX_MEM_READ = 1, VTX_MEM_WRITE = 2, VTX_MEM_EXEC = 4, VTX_MEM_RWX = 7 };

/**
 * @brief Map @p size bytes of caller memory at physical address @p pa.
 * @p pa and @p size must be multiples of 4096 and the region must not overlap
 * another (::VTX_ERR_OVERLAP). The caller keeps @p host alive while mapped.
 */
VTX_API vtx_status vtx_machine_map(vtx_machine *machine, uint64_t pa, uint64_t size, void *host,
                           unsigned perms, vtx_diag *diag);
/** @brief Remove the region that starts at @p pa. */
VTX_API vtx_status vtx_machine_unmap(vtx_machine *machine, uint64_t pa);
/** @brief Read physical memory as the model does (::VTX_ERR_UNMAPPED names the address). */
VTX_API vtx_status vtx_machine_read_phys(vtx_machine *machine, uint64_t pa, void *buf, size_t len,
                                 vtx_diag *diag);
/** @brief Write physical memory as the model does. */
VTX_API vtx_status vtx_machine_write_phys(vtx_machine *machine, uint64_t pa, const void *buf, size_t len,
                                  vtx_diag *diag);

/** @brief Copy out the root-mode environment (RFLAGS shows the last VMX instruction's flags). */
VTX_API vtx_status vtx_machine_get_root(const vtx_machine *machine, vtx_root_state *root);
/**
 * @brief Replace the root-mode environment. Refused with ::VTX_ERR_STATE (and a
 * message) where the hardware would fault: in VMX operation, CR0/CR4 outside
 * IA32_VMX_CR0/CR4_FIXED0/1; IA32_FEATURE_CONTROL changed while locked.
 */
VTX_API vtx_status vtx_machine_set_root(vtx_machine *machine, const vtx_root_state *root, vtx_diag *diag);

/** @brief The machine's profile (owned by the machine). */
VTX_API const vtx_profile *vtx_machine_profile(const vtx_machine *machine);

/** @brief Launch state of a VMCS (SDM "VMCS Status"). */
typedef enum vtx_launch_state {
    VTX_LAUNCH_CLEAR = 0,    /**< After VMCLEAR; VMLAUNCH is allowed. */
    VTX_LAUNCH_LAUNCHED = 1, /**< After a successful VMLAUNCH; VMRESUME is allowed. */
} vtx_launch_state;

/** @brief What the model knows about one VMCS region (introspection, not an instruction). */
typedef struct vtx_vmcs_status {
    uint64_t pa;                  /**< Physical address of the region. */
    bool current;                 /**< It is the current VMCS. */
    bool active;                  /**< Loaded by VMPTRLD and not VMCLEARed since. */
    bool shadow;                  /**< Loaded as a shadow VMCS (region bit 31 set). */
    vtx_launch_state launch;      /**< Launch state. */
    bool crossed_vmxoff;          /**< Was active across VMXOFF (VMRESUME then fails with error 6). */
} vtx_vmcs_status;

/** @brief True when the machine is in VMX operation (after VMXON, before VMXOFF). */
VTX_API bool vtx_machine_in_vmx(const vtx_machine *machine);
/** @brief Current-VMCS pointer; all ones when there is none. */
VTX_API uint64_t vtx_machine_current_vmcs(const vtx_machine *machine);
/** @brief Status of the VMCS at @p pa; ::VTX_ERR_NOT_FOUND if the model has never seen it. */
VTX_API vtx_status vtx_machine_vmcs_status(const vtx_machine *machine, uint64_t pa, vtx_vmcs_status *status);

/**
 * @brief Read a field of the current VMCS without instruction semantics (no
 * mode, CPL or read-only rules), for tools and tests. ::VTX_ERR_STATE if there is
 * no current VMCS; ::VTX_ERR_NOT_FOUND for an encoding that is not a full field.
 */
VTX_API vtx_status vtx_machine_peek_field(const vtx_machine *machine, uint32_t encoding, uint64_t *value);

/** @brief The general-purpose registers other than RSP, shared by root and non-root
 * operation exactly as on hardware (VM entry and VM exit do not switch them). */
typedef struct vtx_gprs {
    uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
} vtx_gprs;

/** @brief Read the general-purpose registers (between VM exits, the guest's values). */
VTX_API vtx_status vtx_machine_get_gprs(const vtx_machine *machine, vtx_gprs *gprs);
/** @brief Write the general-purpose registers (what the guest will see after VM entry). */
VTX_API vtx_status vtx_machine_set_gprs(vtx_machine *machine, const vtx_gprs *gprs);

/** @brief Install an observer of every instruction boundary in non-root operation (NULL removes it). */
VTX_API vtx_status vtx_machine_set_observer(vtx_machine *machine, vtx_boundary_observer observer, void *user);

/* Platform inputs (the processor's pins). They are sampled at instruction boundaries. */
/** @brief Assert NMI: one NMI becomes pending (a second one while one is pending is lost, as on hardware). */
VTX_API vtx_status vtx_machine_raise_nmi(vtx_machine *machine);
/** @brief Drive the maskable-interrupt line: pending with @p vector while @p asserted; it is
 * acknowledged (dropped) when the interrupt is delivered or acknowledged on VM exit. */
VTX_API vtx_status vtx_machine_set_intr(vtx_machine *machine, bool asserted, uint8_t vector);
/** @brief Raise INIT. */
VTX_API vtx_status vtx_machine_raise_init(vtx_machine *machine);
/**
 * @brief Send a start-up IPI (SIPI) with @p vector.
 *
 * A SIPI acts only on a guest in the wait-for-SIPI activity state: at the next
 * instruction boundary it causes a VM exit with reason 4 (SIPI), the exit
 * qualification = @p vector (bits 7:0), the saved activity state wait-for-SIPI
 * and the saved RIP unchanged (catalogue G.1, EXIT-3, EXIT-7, EXIT-9, HLT-8).
 * It is never kept pending anywhere else: a SIPI that finds the guest active, in
 * HLT or in shutdown is discarded at that boundary (HLT-2, HLT-8; the boundary
 * report shows it as blocked, with the rule), and one sent in VMX root operation
 * (the processor is not in wait-for-SIPI) is discarded at once. A second SIPI
 * before the first acted replaces its vector.
 */
VTX_API vtx_status vtx_machine_raise_sipi(vtx_machine *machine, uint8_t vector);

/** @brief Kinds of platform input. */
typedef enum vtx_input_kind {
    VTX_INPUT_NMI = 0,         /**< vtx_machine_raise_nmi() */
    VTX_INPUT_INTR_ASSERT = 1, /**< vtx_machine_set_intr(true, vector) */
    VTX_INPUT_INTR_CLEAR = 2,  /**< vtx_machine_set_intr(false, 0) */
    VTX_INPUT_INIT = 3,        /**< vtx_machine_raise_init() */
    VTX_INPUT_SIPI = 4,        /**< vtx_machine_raise_sipi(vector) */
} vtx_input_kind;

/** @brief A platform input that takes effect at a future instruction boundary (caller-owned). */
typedef struct vtx_input {
    vtx_input_kind kind; /**< What the input is. */
    uint8_t vector;   /**< VTX_INPUT_INTR_ASSERT: the interrupt vector; VTX_INPUT_SIPI: the SIPI vector. */
    bool at_cycle;    /**< `when` is a cycle of vtx_machine_cycles() (else an instruction count of vtx_machine_instructions()). */
    uint64_t when;    /**< It takes effect at the first boundary where the count is >= `when`. */
} vtx_input;

/**
 * @brief Schedule an input. It takes effect at the first instruction boundary
 * that reaches `when`, deterministically (the guest runs exactly up to that
 * boundary); inputs due at the same boundary act in the order they were scheduled. A guest halted with only instruction-count inputs
 * ahead never reaches them (no instruction retires): use a cycle. At most 64
 * inputs wait at a time (::VTX_ERR_NO_MEMORY beyond).
 */
VTX_API vtx_status vtx_machine_schedule(vtx_machine *machine, const vtx_input *input);

/**
 * @brief Change the budgets of the runs to come (each VMLAUNCH, VMRESUME and
 * vtx_continue() from now on); the machine was created with those of its
 * ::vtx_machine_config. A run that stops at its budget stops at an instruction
 * boundary, and vtx_continue() goes on from there as if it had not stopped:
 * the same exits at the same boundaries, the same clock. Bare-metal runs
 * (vtx_root_run) set their own budgets. ::VTX_ERR_INVALID_ARG without a machine
 * or limits.
 */
VTX_API vtx_status vtx_machine_set_limits(vtx_machine *machine, const vtx_run_limits *limits);

/** @brief Cycle clock (the TSC before offsetting and scaling). */
VTX_API uint64_t vtx_machine_cycles(const vtx_machine *machine);
/** @brief Guest instructions retired since the machine was created. */
VTX_API uint64_t vtx_machine_instructions(const vtx_machine *machine);
/** @brief True while the machine is in VMX non-root operation (a run stopped without a VM exit). */
VTX_API bool vtx_machine_in_guest(const vtx_machine *machine);

/**
 * @brief A saved copy of a machine's state: the root and guest state, every VMCS
 * the machine has seen (fields, launch state), the current VMCS, pending and
 * scheduled inputs, the clocks. Not the memory, which is the caller's: a caller
 * that restores a state restores its memory too.
 */
typedef struct vtx_machine_state vtx_machine_state;
/** @brief Save @p machine's state into a new *@p out (free it with vtx_machine_state_free()). */
VTX_API vtx_status vtx_machine_save(const vtx_machine *machine, vtx_machine_state **out);
/**
 * @brief Put @p machine back in the state @p state saved from it, keeping its
 * execution engine (no new Unicorn: what makes running many short inputs on one
 * machine cheap). The machine then behaves as it did when saved.
 * @return ::VTX_OK; ::VTX_ERR_INVALID_ARG when @p state was saved from another
 * machine; ::VTX_ERR_STATE when the memory map changed since; ::VTX_ERR_UNSUPPORTED
 * with a VMM checker attached (its state is not saved).
 */
VTX_API vtx_status vtx_machine_restore(vtx_machine *machine, const vtx_machine_state *state);
/** @brief Free a saved state (NULL is ignored). */
VTX_API void vtx_machine_state_free(vtx_machine_state *state);

#ifdef __cplusplus
}
#endif
#endif
