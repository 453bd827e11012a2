/**
 * @file arch.h
 * @brief SDM facts as data: VMX control bits, capability MSRs, exit reasons and
 * VM-instruction error numbers (rules catalogue sections L.1, L.3, L.4, H EXIT-2).
 *
 * Every table is an X-macro so that code, tests and the CLI share one source.
 */
#ifndef VTXREF_ARCH_H
#define VTXREF_ARCH_H

#include <stdint.h>
#include "status.h"
#include "x86_bits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */

/** @brief Pin-based VM-execution controls (field 0x4000): X(NAME, bit, "description"). */
#define VTX_PIN_CONTROLS(X) \
    X(EXT_INTR_EXITING,        0, "External-interrupt exiting") \
    X(NMI_EXITING,             3, "NMI exiting") \
    X(VIRTUAL_NMIS,            5, "Virtual NMIs") \
    X(PREEMPTION_TIMER,        6, "Activate VMX-preemption timer") \
    X(POSTED_INTR,             7, "Process posted interrupts")

/** @brief Primary processor-based VM-execution controls (field 0x4002). */
#define VTX_PROC_CONTROLS(X) \
    X(INTR_WINDOW_EXITING,     2, "Interrupt-window exiting") \
    X(TSC_OFFSETTING,          3, "Use TSC offsetting") \
    X(HLT_EXITING,             7, "HLT exiting") \
    X(INVLPG_EXITING,          9, "INVLPG exiting") \
    X(MWAIT_EXITING,          10, "MWAIT exiting") \
    X(RDPMC_EXITING,          11, "RDPMC exiting") \
    X(RDTSC_EXITING,          12, "RDTSC exiting") \
    X(CR3_LOAD_EXITING,       15, "CR3-load exiting") \
    X(CR3_STORE_EXITING,      16, "CR3-store exiting") \
    X(TERTIARY_CONTROLS,      17, "Activate tertiary controls") \
    X(CR8_LOAD_EXITING,       19, "CR8-load exiting") \
    X(CR8_STORE_EXITING,      20, "CR8-store exiting") \
    X(TPR_SHADOW,             21, "Use TPR shadow") \
    X(NMI_WINDOW_EXITING,     22, "NMI-window exiting") \
    X(MOV_DR_EXITING,         23, "MOV-DR exiting") \
    X(UNCOND_IO_EXITING,      24, "Unconditional I/O exiting") \
    X(IO_BITMAPS,             25, "Use I/O bitmaps") \
    X(MONITOR_TRAP_FLAG,      27, "Monitor trap flag") \
    X(MSR_BITMAPS,            28, "Use MSR bitmaps") \
    X(MONITOR_EXITING,        29, "MONITOR exiting") \
    X(PAUSE_EXITING,          30, "PAUSE exiting") \
    X(SECONDARY_CONTROLS,     31, "Activate secondary controls")

/** @brief Secondary processor-based VM-execution controls (field 0x401E). */
#define VTX_PROC2_CONTROLS(X) \
    X(VIRT_APIC_ACCESSES,      0, "Virtualize APIC accesses") \
    X(ENABLE_EPT,              1, "Enable EPT") \
    X(DESC_TABLE_EXITING,      2, "Descriptor-table exiting") \
    X(ENABLE_RDTSCP,           3, "Enable RDTSCP") \
    X(VIRT_X2APIC,             4, "Virtualize x2APIC mode") \
    X(ENABLE_VPID,             5, "Enable VPID") \
    X(WBINVD_EXITING,          6, "WBINVD exiting") \
    X(UNRESTRICTED_GUEST,      7, "Unrestricted guest") \
    X(APIC_REG_VIRT,           8, "APIC-register virtualization") \
    X(VIRT_INTR_DELIVERY,      9, "Virtual-interrupt delivery") \
    X(PAUSE_LOOP_EXITING,     10, "PAUSE-loop exiting") \
    X(RDRAND_EXITING,         11, "RDRAND exiting") \
    X(ENABLE_INVPCID,         12, "Enable INVPCID") \
    X(ENABLE_VMFUNC,          13, "Enable VM functions") \
    X(VMCS_SHADOWING,         14, "VMCS shadowing") \
    X(ENCLS_EXITING,          15, "Enable ENCLS exiting") \
    X(RDSEED_EXITING,         16, "RDSEED exiting") \
    X(ENABLE_PML,             17, "Enable PML") \
    X(EPT_VIOLATION_VE,       18, "EPT-violation #VE") \
    X(CONCEAL_VMX_FROM_PT,    19, "Conceal VMX from PT") \
    X(ENABLE_XSAVES,          20, "Enable XSAVES/XRSTORS") \
    X(MODE_BASED_EPT_EXEC,    22, "Mode-based execute control for EPT") \
    X(SUBPAGE_WRITE_PERM,     23, "Sub-page write permissions for EPT") \
    X(PT_USES_GPA,            24, "Intel PT uses guest physical addresses") \
    X(TSC_SCALING,            25, "Use TSC scaling") \
    X(USER_WAIT_PAUSE,        26, "Enable user wait and pause") \
    X(ENABLE_PCONFIG,         27, "Enable PCONFIG") \
    X(ENCLV_EXITING,          28, "Enable ENCLV exiting")

/** @brief Primary VM-exit controls (field 0x400C). */
#define VTX_EXIT_CONTROLS(X) \
    X(SAVE_DEBUG_CONTROLS,     2, "Save debug controls") \
    X(HOST_ADDR_SPACE_SIZE,    9, "Host address-space size") \
    X(LOAD_PERF_GLOBAL_CTRL,  12, "Load IA32_PERF_GLOBAL_CTRL") \
    X(ACK_INTR_ON_EXIT,       15, "Acknowledge interrupt on exit") \
    X(SAVE_PAT,               18, "Save IA32_PAT") \
    X(LOAD_PAT,               19, "Load IA32_PAT") \
    X(SAVE_EFER,              20, "Save IA32_EFER") \
    X(LOAD_EFER,              21, "Load IA32_EFER") \
    X(SAVE_PREEMPTION_TIMER,  22, "Save VMX-preemption timer value") \
    X(CLEAR_BNDCFGS,          23, "Clear IA32_BNDCFGS") \
    X(CONCEAL_VMX_FROM_PT,    24, "Conceal VMX from PT") \
    X(CLEAR_RTIT_CTL,         25, "Clear IA32_RTIT_CTL") \
    X(CLEAR_LBR_CTL,          26, "Clear IA32_LBR_CTL") \
    X(LOAD_CET_STATE,         28, "Load CET state") \
    X(LOAD_PKRS,              29, "Load PKRS")

/** @brief VM-entry controls (field 0x4012). */
#define VTX_ENTRY_CONTROLS(X) \
    X(LOAD_DEBUG_CONTROLS,     2, "Load debug controls") \
    X(IA32E_MODE_GUEST,        9, "IA-32e mode guest") \
    X(ENTRY_TO_SMM,           10, "Entry to SMM") \
    X(DEACT_DUAL_MONITOR,     11, "Deactivate dual-monitor treatment") \
    X(LOAD_PERF_GLOBAL_CTRL,  13, "Load IA32_PERF_GLOBAL_CTRL") \
    X(LOAD_PAT,               14, "Load IA32_PAT") \
    X(LOAD_EFER,              15, "Load IA32_EFER") \
    X(LOAD_BNDCFGS,           16, "Load IA32_BNDCFGS") \
    X(CONCEAL_VMX_FROM_PT,    17, "Conceal VMX from PT") \
    X(LOAD_RTIT_CTL,          18, "Load IA32_RTIT_CTL") \
    X(LOAD_CET_STATE,         20, "Load CET state") \
    X(LOAD_LBR_CTL,           21, "Load guest IA32_LBR_CTL") \
    X(LOAD_PKRS,              22, "Load PKRS")

/**
 * @brief Capability MSRs a profile carries: X(NAME, index, "description").
 * NAME gives `VTX_MSR_<NAME>` (the MSR index) and the `vtx_profile` member order.
 */
#define VTX_CAP_MSRS(X) \
    X(IA32_VMX_BASIC,               0x480, "Basic VMX information") \
    X(IA32_VMX_PINBASED_CTLS,       0x481, "Allowed settings of pin-based controls") \
    X(IA32_VMX_PROCBASED_CTLS,      0x482, "Allowed settings of primary processor-based controls") \
    X(IA32_VMX_EXIT_CTLS,           0x483, "Allowed settings of VM-exit controls") \
    X(IA32_VMX_ENTRY_CTLS,          0x484, "Allowed settings of VM-entry controls") \
    X(IA32_VMX_MISC,                0x485, "Miscellaneous VMX data") \
    X(IA32_VMX_CR0_FIXED0,          0x486, "CR0 bits fixed to 1 in VMX operation") \
    X(IA32_VMX_CR0_FIXED1,          0x487, "CR0 bits that may be 1 in VMX operation") \
    X(IA32_VMX_CR4_FIXED0,          0x488, "CR4 bits fixed to 1 in VMX operation") \
    X(IA32_VMX_CR4_FIXED1,          0x489, "CR4 bits that may be 1 in VMX operation") \
    X(IA32_VMX_VMCS_ENUM,           0x48A, "Highest VMCS field index") \
    X(IA32_VMX_PROCBASED_CTLS2,     0x48B, "Allowed settings of secondary processor-based controls") \
    X(IA32_VMX_EPT_VPID_CAP,        0x48C, "EPT and VPID capabilities") \
    X(IA32_VMX_TRUE_PINBASED_CTLS,  0x48D, "TRUE allowed settings of pin-based controls") \
    X(IA32_VMX_TRUE_PROCBASED_CTLS, 0x48E, "TRUE allowed settings of primary processor-based controls") \
    X(IA32_VMX_TRUE_EXIT_CTLS,      0x48F, "TRUE allowed settings of VM-exit controls") \
    X(IA32_VMX_TRUE_ENTRY_CTLS,     0x490, "TRUE allowed settings of VM-entry controls") \
    X(IA32_VMX_VMFUNC,              0x491, "Allowed VM functions")

/** @brief Basic VM-exit reasons (SDM Appendix C; EXIT-2): X(NAME, number, "description"). */
#define VTX_EXIT_REASONS(X) \
    X(EXCEPTION_NMI,            0, "Exception or non-maskable interrupt (NMI)") \
    X(EXTERNAL_INTERRUPT,       1, "External interrupt") \
    X(TRIPLE_FAULT,             2, "Triple fault") \
    X(INIT_SIGNAL,              3, "INIT signal") \
    X(SIPI,                     4, "Start-up IPI (SIPI)") \
    X(IO_SMI,                   5, "I/O system-management interrupt (SMI)") \
    X(OTHER_SMI,                6, "Other SMI") \
    X(INTERRUPT_WINDOW,         7, "Interrupt window") \
    X(NMI_WINDOW,               8, "NMI window") \
    X(TASK_SWITCH,              9, "Task switch") \
    X(CPUID,                   10, "CPUID") \
    X(GETSEC,                  11, "GETSEC") \
    X(HLT,                     12, "HLT") \
    X(INVD,                    13, "INVD") \
    X(INVLPG,                  14, "INVLPG") \
    X(RDPMC,                   15, "RDPMC") \
    X(RDTSC,                   16, "RDTSC") \
    X(RSM,                     17, "RSM") \
    X(VMCALL,                  18, "VMCALL") \
    X(VMCLEAR,                 19, "VMCLEAR") \
    X(VMLAUNCH,                20, "VMLAUNCH") \
    X(VMPTRLD,                 21, "VMPTRLD") \
    X(VMPTRST,                 22, "VMPTRST") \
    X(VMREAD,                  23, "VMREAD") \
    X(VMRESUME,                24, "VMRESUME") \
    X(VMWRITE,                 25, "VMWRITE") \
    X(VMXOFF,                  26, "VMXOFF") \
    X(VMXON,                   27, "VMXON") \
    X(CR_ACCESS,               28, "Control-register accesses") \
    X(DR_ACCESS,               29, "MOV DR") \
    X(IO_INSTRUCTION,          30, "I/O instruction") \
    X(RDMSR,                   31, "RDMSR") \
    X(WRMSR,                   32, "WRMSR") \
    X(INVALID_GUEST_STATE,     33, "VM-entry failure due to invalid guest state") \
    X(MSR_LOADING,             34, "VM-entry failure due to MSR loading") \
    X(MWAIT,                   36, "MWAIT") \
    X(MONITOR_TRAP_FLAG,       37, "Monitor trap flag") \
    X(MONITOR,                 39, "MONITOR") \
    X(PAUSE,                   40, "PAUSE") \
    X(MACHINE_CHECK,           41, "VM-entry failure due to machine-check event") \
    X(TPR_BELOW_THRESHOLD,     43, "TPR below threshold") \
    X(APIC_ACCESS,             44, "APIC access") \
    X(VIRTUALIZED_EOI,         45, "Virtualized EOI") \
    X(GDTR_IDTR,               46, "Access to GDTR or IDTR") \
    X(LDTR_TR,                 47, "Access to LDTR or TR") \
    X(EPT_VIOLATION,           48, "EPT violation") \
    X(EPT_MISCONFIG,           49, "EPT misconfiguration") \
    X(INVEPT,                  50, "INVEPT") \
    X(RDTSCP,                  51, "RDTSCP") \
    X(PREEMPTION_TIMER,        52, "VMX-preemption timer expired") \
    X(INVVPID,                 53, "INVVPID") \
    X(WBINVD,                  54, "WBINVD or WBNOINVD") \
    X(XSETBV,                  55, "XSETBV") \
    X(APIC_WRITE,              56, "APIC write") \
    X(RDRAND,                  57, "RDRAND") \
    X(INVPCID,                 58, "INVPCID") \
    X(VMFUNC,                  59, "VMFUNC") \
    X(ENCLS,                   60, "ENCLS") \
    X(RDSEED,                  61, "RDSEED") \
    X(PML_FULL,                62, "Page-modification log full") \
    X(XSAVES,                  63, "XSAVES") \
    X(XRSTORS,                 64, "XRSTORS") \
    X(PCONFIG,                 65, "PCONFIG (newer SDM)") \
    X(UMWAIT,                  67, "UMWAIT (newer SDM)") \
    X(TPAUSE,                  68, "TPAUSE (newer SDM)") \
    X(LOADIWKEY,               69, "LOADIWKEY (newer SDM)") \
    X(ENCLV,                   70, "ENCLV (newer SDM)")

/**
 * @brief Interruption types of the VM-entry and VM-exit interruption-information and
 * IDT-vectoring information fields, bits 10:8 (SDM "Format of the VM-Entry
 * Interruption-Information Field"): X(NAME, value, "token", "description").
 * The token is what scenario files write (docs/scenarios.md).
 */
#define VTX_INTERRUPTION_TYPES(X) \
    X(EXTERNAL,          0, "external",                      "external interrupt") \
    X(RESERVED,          1, "reserved",                      "reserved") \
    X(NMI,               2, "nmi",                           "NMI") \
    X(HW_EXCEPTION,      3, "hardware-exception",            "hardware exception") \
    X(SW_INTERRUPT,      4, "software-interrupt",            "software interrupt") \
    X(PRIV_SW_EXCEPTION, 5, "privileged-software-exception", "privileged software exception") \
    X(SW_EXCEPTION,      6, "software-exception",            "software exception") \
    X(OTHER,             7, "other",                         "other event")

/** @brief VM-instruction error numbers (SDM "VM-Instruction Error Numbers"; catalogue L.3). */
#define VTX_VM_INSN_ERRORS(X) \
    X(VMCALL_IN_ROOT,                 1, "VMCALL executed in VMX root operation") \
    X(VMCLEAR_INVALID_ADDR,           2, "VMCLEAR with invalid physical address") \
    X(VMCLEAR_VMXON_PTR,              3, "VMCLEAR with VMXON pointer") \
    X(VMLAUNCH_NONCLEAR,              4, "VMLAUNCH with non-clear VMCS") \
    X(VMRESUME_NONLAUNCHED,           5, "VMRESUME with non-launched VMCS") \
    X(VMRESUME_AFTER_VMXOFF,          6, "VMRESUME after VMXOFF (VMXOFF and VMXON between VMLAUNCH and VMRESUME)") \
    X(ENTRY_INVALID_CONTROLS,         7, "VM entry with invalid control field(s)") \
    X(ENTRY_INVALID_HOST_STATE,       8, "VM entry with invalid host-state field(s)") \
    X(VMPTRLD_INVALID_ADDR,           9, "VMPTRLD with invalid physical address") \
    X(VMPTRLD_VMXON_PTR,             10, "VMPTRLD with VMXON pointer") \
    X(VMPTRLD_BAD_REVISION,          11, "VMPTRLD with incorrect VMCS revision identifier") \
    X(UNSUPPORTED_COMPONENT,         12, "VMREAD/VMWRITE from/to unsupported VMCS component") \
    X(VMWRITE_READ_ONLY,             13, "VMWRITE to read-only VMCS component") \
    X(VMXON_IN_ROOT,                 15, "VMXON executed in VMX root operation") \
    X(ENTRY_INVALID_EXEC_VMCS,       16, "VM entry with invalid executive-VMCS pointer") \
    X(ENTRY_NONLAUNCHED_EXEC_VMCS,   17, "VM entry with non-launched executive VMCS") \
    X(ENTRY_EXEC_VMCS_NOT_VMXON,     18, "VM entry with executive-VMCS pointer not VMXON pointer") \
    X(VMCALL_NONCLEAR,               19, "VMCALL with non-clear VMCS") \
    X(VMCALL_INVALID_EXIT_CTLS,      20, "VMCALL with invalid VM-exit control fields") \
    X(VMCALL_BAD_MSEG_REVISION,      22, "VMCALL with incorrect MSEG revision identifier") \
    X(VMXOFF_DUAL_MONITOR,           23, "VMXOFF under dual-monitor treatment of SMIs and SMM") \
    X(VMCALL_INVALID_SMM_FEATURES,   24, "VMCALL with invalid SMM-monitor features") \
    X(ENTRY_INVALID_EXEC_CTLS_EXEC,  25, "VM entry with invalid VM-execution control fields in executive VMCS") \
    X(ENTRY_EVENTS_BLOCKED_MOV_SS,   26, "VM entry with events blocked by MOV SS") \
    X(INVALID_INVEPT_INVVPID,        28, "Invalid operand to INVEPT/INVVPID")
/* clang-format on */

/** @brief Control bit masks: `VTX_PIN_NMI_EXITING`, `VTX_PROC_HLT_EXITING`, ... */
enum {
#define VTX_X_PIN(n, b, d) VTX_PIN_##n = 1u << (b),
    VTX_PIN_CONTROLS(VTX_X_PIN)
#undef VTX_X_PIN
};
enum {
#define VTX_X_PROC(n, b, d) VTX_PROC_##n = 1u << (b),
    VTX_PROC_CONTROLS(VTX_X_PROC)
#undef VTX_X_PROC
};
enum {
#define VTX_X_PROC2(n, b, d) VTX_PROC2_##n = 1u << (b),
    VTX_PROC2_CONTROLS(VTX_X_PROC2)
#undef VTX_X_PROC2
};
enum {
#define VTX_X_EXIT(n, b, d) VTX_EXIT_##n = 1u << (b),
    VTX_EXIT_CONTROLS(VTX_X_EXIT)
#undef VTX_X_EXIT
};
enum {
#define VTX_X_ENTRY(n, b, d) VTX_ENTRY_##n = 1u << (b),
    VTX_ENTRY_CONTROLS(VTX_X_ENTRY)
#undef VTX_X_ENTRY
};

/** @brief Capability MSR indices: `VTX_MSR_IA32_VMX_BASIC` = 0x480, ... */
enum {
#define VTX_X_MSR(n, i, d) VTX_MSR_##n = (i),
    VTX_CAP_MSRS(VTX_X_MSR)
#undef VTX_X_MSR
    VTX_MSR_IA32_FEATURE_CONTROL = 0x3A, /**< bit 0 lock, bit 1 VMX in SMX, bit 2 VMX outside SMX. */
};

/** @brief Basic exit reasons: `VTX_EXIT_REASON_INTERRUPT_WINDOW` = 7, ... */
typedef enum vtx_exit_reason {
#define VTX_X_ER(n, v, d) VTX_EXIT_REASON_##n = (v),
    VTX_EXIT_REASONS(VTX_X_ER)
#undef VTX_X_ER
} vtx_exit_reason;

/** @brief Exit-reason bit 31: VM-entry failure (EXIT-1). */
#define VTX_EXIT_REASON_ENTRY_FAILURE 0x80000000u

/** @brief VM-instruction error numbers: `VTX_VMERR_VMLAUNCH_NONCLEAR` = 4, ... */
typedef enum vtx_vm_insn_error {
    VTX_VMERR_NONE = 0, /**< No error (VMsucceed or VMfailInvalid). */
#define VTX_X_VE(n, v, d) VTX_VMERR_##n = (v),
    VTX_VM_INSN_ERRORS(VTX_X_VE)
#undef VTX_X_VE
} vtx_vm_insn_error;

/** @brief IA32_FEATURE_CONTROL bits (the architectural register bits are in x86_bits.h). */
enum {
    VTX_FEATURE_CONTROL_LOCK = 1u << 0, VTX_FEATURE_CONTROL_VMX_IN_SMX = 1u << 1,
    VTX_FEATURE_CONTROL_VMX_OUTSIDE_SMX = 1u << 2,
};

/** @brief Which control field a control-name lookup refers to. */
typedef enum vtx_ctl_field {
    VTX_CTL_PIN = 0,   /**< Pin-based VM-execution controls. */
    VTX_CTL_PROC = 1,  /**< Primary processor-based VM-execution controls. */
    VTX_CTL_PROC2 = 2, /**< Secondary processor-based VM-execution controls. */
    VTX_CTL_EXIT = 3,  /**< VM-exit controls. */
    VTX_CTL_ENTRY = 4, /**< VM-entry controls. */
    VTX_CTL_FIELD_COUNT_
} vtx_ctl_field;

/** @brief Name of a control bit ("NMI-window exiting"), or NULL if the bit has no name here. */
VTX_API const char *vtx_control_bit_name(vtx_ctl_field field, unsigned bit);
/** @brief Name of a control field ("Pin-based VM-execution controls"). */
VTX_API const char *vtx_control_field_name(vtx_ctl_field field);
/** @brief Symbolic name of a basic exit reason ("INTERRUPT_WINDOW"), or NULL. */
VTX_API const char *vtx_exit_reason_name(uint32_t basic_reason);
/** @brief SDM description of a basic exit reason ("Interrupt window"), or NULL. */
VTX_API const char *vtx_exit_reason_description(uint32_t basic_reason);
/** @brief SDM text of a VM-instruction error number, or NULL for an unassigned number. */
VTX_API const char *vtx_vm_insn_error_text(uint32_t error);
/** @brief Symbolic name of a VM-instruction error ("VMLAUNCH_NONCLEAR"), or NULL. */
VTX_API const char *vtx_vm_insn_error_name(uint32_t error);
/** @brief Token of an interruption type, bits 10:8 of an interruption-information field
 * ("hardware-exception"); only the low 3 bits of @p type are used. */
VTX_API const char *vtx_interruption_type_name(uint32_t type);
/** @brief Description of an interruption type ("hardware exception"); only the low 3 bits are used. */
VTX_API const char *vtx_interruption_type_description(uint32_t type);
/** @brief Name of a capability MSR ("IA32_VMX_BASIC") by index, or NULL. */
VTX_API const char *vtx_cap_msr_name(uint32_t index);

#ifdef __cplusplus
}
#endif
#endif
