/**
 * @file vmm_check.h
 * @brief The VMM checker: event-handling bugs that hardware lets through.
 *
 * Hardware refuses a VM entry with a bad VMCS, and the model names every such
 * check. The bugs that cost hypervisor teams weeks are the ones the hardware
 * accepts: an interrupt lost because the IDT-vectoring information of an exit
 * was never re-injected, an interrupt forced in by setting the guest's IF, an
 * interrupt-window control left armed so the guest exits at every boundary...
 *
 * A ::vtx_vmm_checker attached to a machine (vtx_vmm_check_attach()) watches
 * every VM exit, every successful VM entry and the VMM's VMX operations in
 * between (VMWRITE, VMREAD, vtx_machine_set_gprs()), and reports each mistake
 * as a ::vtx_vmm_finding: a stable name, a severity, the exit and the entry it
 * concerns, the rules it rests on (rule IDs, stated in docs/rules.md) and a sentence for the
 * VMM author. Findings go to the caller's callback and are counted in a
 * ::vtx_vmm_check_report. Attaching a checker never changes what the guest or
 * the VMM sees: the same exits, state, instruction count and cycles.
 *
 * The checker follows one VMCS (one virtual CPU): the first one it sees enter
 * or exit. Entries and exits of other VMCSs are ignored. Failed VM entries
 * (VMfail, VM-entry failure exits) are not entries: what was owed stays owed.
 *
 * Typical use:
 * @code
 *   vtx_vmm_check_config cc;
 *   vtx_vmm_check_config_init(&cc);
 *   cc.on_finding = print_finding;                 // optional
 *   vtx_vmm_checker *chk;
 *   vtx_vmm_check_create(&cc, &chk);
 *   vtx_vmm_check_attach(m, chk);
 *   ... VMLAUNCH / handle exits / VMRESUME ...    // or vtx_vmm_loop::checker
 *   vtx_vmm_check_report rep;
 *   vtx_vmm_check_finalize(chk, &rep);             // reports what is still owed
 *   vtx_vmm_check_detach(m);
 *   vtx_vmm_check_destroy(chk);
 * @endcode
 */
#ifndef VTXREF_VMM_CHECK_H
#define VTXREF_VMM_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "machine.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief How bad a finding is. */
typedef enum vtx_vmm_severity {
    VTX_VMM_WARNING = 0, /**< Legal, but almost always a bug. */
    VTX_VMM_ERROR = 1,   /**< An event was lost, duplicated, or delivered against the guest's will. */
} vtx_vmm_severity;

/* clang-format off */
/**
 * @brief The findings: X(NAME, severity, "rule IDs", "SDM section", "summary").
 * docs/vmm-check.md shows each with a minimal example of the bug and the fix.
 */
#define VTX_VMM_FINDINGS(X) \
    X(LOST_IDT_VECTORING, ERROR, "EXIT-5, INJ-18", \
      "27.2.3 Information for VM Exits During Event Delivery", \
      "an exit interrupted the delivery of an event and the VMM never re-injected it") \
    X(REINJECT_MISMATCH, ERROR, "EXIT-5, EXIT-6, INJ-3, INJ-7", \
      "27.2.3 Information for VM Exits During Event Delivery; 26.5.1.1", \
      "the event re-injected after an exit during delivery is not the one the exit reported") \
    X(LOST_ACKED_INTERRUPT, ERROR, "EXIT-4", \
      "24.7.1 VM-Exit Controls (acknowledge interrupt on exit); 27.2.2", \
      "an interrupt acknowledged on VM exit was never injected") \
    X(DUPLICATE_INTERRUPT, ERROR, "EXIT-4, INJ-11", \
      "24.7.1 VM-Exit Controls (acknowledge interrupt on exit); 26.5.1", \
      "an interrupt acknowledged once on VM exit was injected twice") \
    X(LOST_NMI, ERROR, "VNMI-1", \
      "25.2 Other Causes of VM Exits (NMIs); 27.2.2", \
      "an NMI that exited (NMI exiting) was never injected") \
    X(FORCED_INJECTION_IF, ERROR, "ENT-GS-1, INJ-5, BLK-STI-9", \
      "26.3.1.4 Checks on Guest RIP and RFLAGS; 6.8.1 Masking Maskable Hardware Interrupts", \
      "the VMM set the guest's RFLAGS.IF so that an external-interrupt injection passes the entry checks") \
    X(FORCED_INJECTION_SHADOW, ERROR, "ENT-GS-10, BLK-STI-2, BLK-MSS-1, BLK-LOAD-1", \
      "26.3.1.5 Checks on Guest Non-Register State; 6.8.3 Masking Exceptions and Interrupts When Switching Stacks", \
      "the VMM cleared blocking by STI or MOV SS so that an injection passes the entry checks") \
    X(NMI_IN_NMI_HANDLER, ERROR, "BLK-NMI-1, VNMI-3, VNMI-4, ENT-GS-12", \
      "6.7.1 Handling Multiple NMIs; 26.6.1 Interruptibility State", \
      "an NMI was injected while the guest's previous NMI handler had not executed its IRET") \
    X(IRET_NMI_BLOCKING_NOT_RESTORED, ERROR, "VNMI-7, VNMI-9, BLK-SAVE-1", \
      "27.2.2 Information for VM Exits Due to Vectored Events (NMI unblocking due to IRET)", \
      "an IRET that unblocked NMIs faulted into a VM exit; the VMM resumed at the IRET without restoring NMI blocking") \
    X(INTR_WINDOW_STORM, WARNING, "IW-1, IW-6", \
      "25.2 Other Causes of VM Exits (interrupt-window exiting)", \
      "interrupt-window exiting left armed: the guest exits again and again without retiring an instruction") \
    X(NMI_WINDOW_STORM, WARNING, "NW-2, NW-3", \
      "25.2 Other Causes of VM Exits (NMI-window exiting)", \
      "NMI-window exiting left armed: the guest exits again and again without retiring an instruction") \
    X(NMI_WINDOW_UNUSED, WARNING, "NW-2, NW-6", \
      "25.2 Other Causes of VM Exits (NMI-window exiting)", \
      "an NMI-window exit was answered without an NMI: the VMM disarmed the window and injected nothing") \
    X(HLT_RESUMED_AT_HLT, WARNING, "EXIT-7, HLT-3, HLT-4", \
      "27.3.3 Saving RIP, RSP, and RFLAGS", \
      "after an HLT exit the VMM resumed the guest at the HLT itself, so it halts again")
/* clang-format on */

/** @brief Finding kinds: `VTX_VMM_LOST_IDT_VECTORING`, ... */
typedef enum vtx_vmm_finding_kind {
#define VTX_X_VF(n, s, r, sdm, d) VTX_VMM_##n,
    VTX_VMM_FINDINGS(VTX_X_VF)
#undef VTX_X_VF
    VTX_VMM_FINDING_COUNT
} vtx_vmm_finding_kind;

/** @brief One finding (valid during the callback; copy what you keep). */
typedef struct vtx_vmm_finding {
    vtx_vmm_finding_kind kind;
    const char *name;          /**< Stable name, e.g. "LOST_IDT_VECTORING". */
    vtx_vmm_severity severity;
    const char *rules;         /**< Rule IDs of the catalogue, e.g. "EXIT-5, INJ-18". */
    const char *sdm;           /**< SDM Vol. 3 section (2016 numbering, as the catalogue). */
    uint64_t exit_index;       /**< 1-based index of the VM exit it concerns (0: none). */
    uint32_t exit_reason;      /**< Basic reason of that exit. */
    uint64_t exit_rip;         /**< Guest RIP the exit saved. */
    uint64_t entry_index;      /**< 1-based index of the VM entry it concerns (0: none, e.g. at finalize). */
    uint64_t entry_rip;        /**< Guest RIP of that entry (0: none). */
    uint8_t vector;            /**< The event's vector where one is concerned. */
    char message[400];         /**< A sentence for the VMM author. */
} vtx_vmm_finding;

/** @brief Called for each finding. */
typedef void (*vtx_vmm_finding_fn)(void *user, const vtx_vmm_finding *finding);

/** @brief How a checker is built (caller-owned). */
typedef struct vtx_vmm_check_config {
    vtx_vmm_finding_fn on_finding; /**< Called for each finding (NULL: only counted). */
    void *user;                    /**< Passed to on_finding. */
    uint32_t disabled;             /**< Kinds not to check: bit (1u << kind). */
    uint32_t storm_exits;          /**< Window exits in a row without a retired instruction that make a storm (0: 3). */
} vtx_vmm_check_config;

/** @brief Counts of a checker (caller-owned). */
typedef struct vtx_vmm_check_report {
    uint64_t exits;          /**< VM exits seen. */
    uint64_t entries;        /**< Successful VM entries seen. */
    uint32_t errors;         /**< Findings of severity error. */
    uint32_t warnings;       /**< Findings of severity warning. */
    uint32_t by_kind[VTX_VMM_FINDING_COUNT]; /**< Findings by kind. */
} vtx_vmm_check_report;

/** @brief An opaque checker. */
typedef struct vtx_vmm_checker vtx_vmm_checker;

/** @brief Fill @p config with the defaults: no callback, everything checked. */
VTX_API vtx_status vtx_vmm_check_config_init(vtx_vmm_check_config *config);
/** @brief Create a checker (::VTX_ERR_NO_MEMORY, ::VTX_ERR_INVALID_ARG). */
VTX_API vtx_status vtx_vmm_check_create(const vtx_vmm_check_config *config, vtx_vmm_checker **checker);
/** @brief Destroy a checker (NULL is ignored). Detach it first if it is attached. */
VTX_API void vtx_vmm_check_destroy(vtx_vmm_checker *checker);

/**
 * @brief Attach @p checker to @p m: from now on it sees every exit and entry of the machine.
 * ::VTX_ERR_STATE if the machine has another checker or the checker watches another machine
 * (attaching the same pair again is ::VTX_OK).
 */
VTX_API vtx_status vtx_vmm_check_attach(vtx_machine *m, vtx_vmm_checker *checker);
/** @brief Detach the machine's checker, if any (its state and counts stay). */
VTX_API vtx_status vtx_vmm_check_detach(vtx_machine *m);
/** @brief The machine's checker, or NULL. */
VTX_API vtx_vmm_checker *vtx_vmm_check_attached(const vtx_machine *m);

/**
 * @brief Declare that the VMM drops, on purpose, the event the last VM exit reported in its
 * IDT-vectoring information (e.g. a task switch it emulates, or a guest it is tearing down):
 * no LOST_IDT_VECTORING for it. ::VTX_ERR_STATE if no such event is owed.
 */
VTX_API vtx_status vtx_vmm_check_drop_event(vtx_vmm_checker *checker);

/**
 * @brief End of the run: report what is still owed (interrupts acknowledged on exit and NMIs
 * that exited, never injected; an IDT-vectoring event not yet re-injected), then fill @p report.
 * Reports each only once (a second call adds nothing).
 */
VTX_API vtx_status vtx_vmm_check_finalize(vtx_vmm_checker *checker, vtx_vmm_check_report *report);
/** @brief The counts so far. */
VTX_API vtx_status vtx_vmm_check_get_report(const vtx_vmm_checker *checker, vtx_vmm_check_report *report);

/** @brief Name of a kind ("LOST_IDT_VECTORING"), or NULL. */
VTX_API const char *vtx_vmm_finding_name(vtx_vmm_finding_kind kind);
/** @brief Kind of a name (::VTX_ERR_NOT_FOUND when none). */
VTX_API vtx_status vtx_vmm_finding_lookup(const char *name, vtx_vmm_finding_kind *kind);
/** @brief Severity name: "error" or "warning". */
VTX_API const char *vtx_vmm_severity_name(vtx_vmm_severity severity);
/**
 * @brief One line: "error LOST_IDT_VECTORING at exit 3 (EXCEPTION_NMI, RIP 0x10004), entry 4 (RIP 0x10004)
 * [EXIT-5, INJ-18]: ...". Returns the number of characters as snprintf.
 */
VTX_API int vtx_vmm_finding_format(const vtx_vmm_finding *finding, char *buf, size_t size);
/**
 * @brief A ready-made ::vtx_vmm_finding_fn: writes the formatted line and a newline to the
 * `FILE *` passed as @p user (stderr when NULL). For `cc.on_finding = vtx_vmm_finding_fprint;
 * cc.user = stdout;`.
 */
VTX_API void vtx_vmm_finding_fprint(void *user, const vtx_vmm_finding *finding);

#ifdef __cplusplus
}
#endif
#endif
