/**
 * @file checks_entry_controls.h
 * @brief VM-entry checks on VMX controls (SDM "Checks on VMX Controls"; catalogue F.2 ENT-CTL-*). Failure: VMfailValid, error 7.
 *
 * Rows: X(NAME, "rule ID" or NULL, "one-line text"). Included by checks.h.
 * Order: the SDM's order within "Checks on VM-Execution Control Fields",
 * "Checks on VM-Exit Control Fields" and "Checks on VM-Entry Control Fields",
 * which is also the order model/entry_controls.c makes them in.
 */
#ifndef VTXREF_CHECKS_ENTRY_CONTROLS_H
#define VTXREF_CHECKS_ENTRY_CONTROLS_H

/* clang-format off */
#define VTX_ENTRY_CONTROLS_CHECKS(X) \
    X(CTL_PIN_ALLOWED,                  "ENT-CTL-1", "pin-based controls outside IA32_VMX_(TRUE_)PINBASED_CTLS allowed settings") \
    X(CTL_PROC_ALLOWED,                 "ENT-CTL-1", "primary processor-based controls outside IA32_VMX_(TRUE_)PROCBASED_CTLS allowed settings") \
    X(CTL_PROC2_ALLOWED,                "ENT-CTL-1", "secondary processor-based controls (activated) outside IA32_VMX_PROCBASED_CTLS2 allowed settings") \
    X(CTL_CR3_TARGET_COUNT,             "ENT-CTL-9", "CR3-target count greater than IA32_VMX_MISC[24:16]") \
    X(CTL_IO_BITMAP_ADDR,               "ENT-CTL-9", "\"use I/O bitmaps\" with an I/O-bitmap address not 4-KiB aligned or beyond the physical-address width") \
    X(CTL_MSR_BITMAP_ADDR,              "ENT-CTL-9", "\"use MSR bitmaps\" with an MSR-bitmap address not 4-KiB aligned or beyond the physical-address width") \
    X(CTL_VIRTUAL_APIC_ADDR,            NULL,        "\"use TPR shadow\" with a virtual-APIC address not 4-KiB aligned or beyond the physical-address width") \
    X(CTL_TPR_THRESHOLD_RESERVED,       "ENT-CTL-5", "\"use TPR shadow\" without virtual-interrupt delivery: TPR threshold bits 31:4 not 0") \
    X(CTL_TPR_THRESHOLD_VTPR,           "ENT-CTL-5", "\"use TPR shadow\" without APIC-access virtualization or VID: TPR threshold[3:0] above VTPR[7:4]") \
    X(CTL_VNMI_WITHOUT_NMI_EXITING,     "ENT-CTL-2", "\"virtual NMIs\" = 1 with \"NMI exiting\" = 0") \
    X(CTL_NMI_WINDOW_WITHOUT_VNMI,      "ENT-CTL-3", "\"NMI-window exiting\" = 1 with \"virtual NMIs\" = 0") \
    X(CTL_APIC_ACCESS_ADDR,             NULL,        "\"virtualize APIC accesses\" with an APIC-access address not 4-KiB aligned or beyond the physical-address width") \
    X(CTL_APICV_WITHOUT_TPR_SHADOW,     "ENT-CTL-6", "\"virtualize x2APIC mode\", \"APIC-register virtualization\" or \"virtual-interrupt delivery\" = 1 with \"use TPR shadow\" = 0") \
    X(CTL_X2APIC_WITH_APIC_ACCESSES,    NULL,        "\"virtualize x2APIC mode\" = 1 with \"virtualize APIC accesses\" = 1") \
    X(CTL_VID_WITHOUT_EXT_INTR_EXITING, "ENT-CTL-6", "\"virtual-interrupt delivery\" = 1 with \"external-interrupt exiting\" = 0") \
    X(CTL_POSTED_INTR_WITHOUT_VID,      "ENT-CTL-6", "\"process posted interrupts\" = 1 with \"virtual-interrupt delivery\" = 0") \
    X(CTL_POSTED_INTR_WITHOUT_ACK,      "ENT-CTL-6", "\"process posted interrupts\" = 1 with the \"acknowledge interrupt on exit\" VM-exit control = 0") \
    X(CTL_POSTED_INTR_VECTOR,           "ENT-CTL-6", "\"process posted interrupts\" with a notification vector above 255 (bits 15:8 not 0)") \
    X(CTL_POSTED_INTR_DESC_ADDR,        "ENT-CTL-6", "\"process posted interrupts\" with a descriptor address not 64-byte aligned or beyond the physical-address width") \
    X(CTL_VPID_ZERO,                    NULL,        "\"enable VPID\" = 1 with VPID 0") \
    X(CTL_EPTP_INVALID,                 NULL,        "\"enable EPT\" = 1 with an EPTP IA32_VMX_EPT_VPID_CAP does not allow") \
    X(CTL_PML_WITHOUT_EPT,              NULL,        "\"enable PML\" = 1 with \"enable EPT\" = 0") \
    X(CTL_PML_ADDR,                     NULL,        "\"enable PML\" with a PML address not 4-KiB aligned or beyond the physical-address width") \
    X(CTL_UNRESTRICTED_WITHOUT_EPT,     NULL,        "\"unrestricted guest\" = 1 with \"enable EPT\" = 0") \
    X(CTL_VMFUNC_ALLOWED,               NULL,        "\"enable VM functions\" with VM-function controls IA32_VMX_VMFUNC does not allow") \
    X(CTL_EPTP_SWITCH_WITHOUT_EPT,      NULL,        "EPTP switching (VM function 0) with \"enable EPT\" = 0") \
    X(CTL_EPTP_LIST_ADDR,               NULL,        "EPTP switching with an EPTP-list address not 4-KiB aligned or beyond the physical-address width") \
    X(CTL_VMCS_SHADOW_BITMAP_ADDR,      "ENT-CTL-9", "\"VMCS shadowing\" with a VMREAD- or VMWRITE-bitmap address not 4-KiB aligned or beyond the physical-address width") \
    X(CTL_VE_INFO_ADDR,                 NULL,        "\"EPT-violation #VE\" with a virtualization-exception information address not 4-KiB aligned or beyond the width") \
    X(CTL_EXIT_ALLOWED,                 "ENT-CTL-1", "VM-exit controls outside IA32_VMX_(TRUE_)EXIT_CTLS allowed settings") \
    X(CTL_SAVE_TIMER_WITHOUT_TIMER,     "ENT-CTL-4", "\"save VMX-preemption timer value\" = 1 with \"activate VMX-preemption timer\" = 0") \
    X(CTL_EXIT_MSR_STORE_ADDR,          NULL,        "VM-exit MSR-store count > 0 with an address not 16-byte aligned or an area beyond the physical-address width") \
    X(CTL_EXIT_MSR_LOAD_ADDR,           NULL,        "VM-exit MSR-load count > 0 with an address not 16-byte aligned or an area beyond the physical-address width") \
    X(CTL_ENTRY_ALLOWED,                "ENT-CTL-1", "VM-entry controls outside IA32_VMX_(TRUE_)ENTRY_CTLS allowed settings") \
    X(CTL_INJ_TYPE_RESERVED,            "INJ-CHK-1", "injected event with interruption type 1, or type 7 without \"monitor trap flag\" support") \
    X(CTL_INJ_VECTOR,                   "INJ-CHK-2", "injected event vector inconsistent with its type (NMI not 2, exception above 31, other event not 0)") \
    X(CTL_INJ_ERRCODE_MISSING,          "INJ-CHK-3", "injected #DF/#TS/#NP/#SS/#GP/#PF/#AC in protected mode without deliver-error-code") \
    X(CTL_INJ_ERRCODE_UNEXPECTED,       "INJ-CHK-3", "deliver-error-code = 1 for an event that delivers no error code (type, vector or real-mode guest)") \
    X(CTL_INJ_RESERVED_BITS,            "INJ-CHK-4", "VM-entry interruption-information bits 30:12 not 0") \
    X(CTL_INJ_ERRCODE_RESERVED,         "INJ-CHK-5", "deliver-error-code = 1 with VM-entry exception error code bits 31:16 not 0 (DIFF-3)") \
    X(CTL_INJ_INSN_LEN,                 "INJ-CHK-6", "software interrupt/exception injected with VM-entry instruction length above 15") \
    X(CTL_INJ_INSN_LEN_ZERO,            "INJ-CHK-6", "software interrupt/exception injected with instruction length 0 while IA32_VMX_MISC[30] = 0") \
    X(CTL_ENTRY_MSR_LOAD_ADDR,          NULL,        "VM-entry MSR-load count > 0 with an address not 16-byte aligned or an area beyond the physical-address width") \
    X(CTL_ENTRY_TO_SMM,                 "ENT-CTL-7", "\"entry to SMM\" = 1 outside SMM") \
    X(CTL_DEACT_DUAL_MONITOR,           "ENT-CTL-7", "\"deactivate dual-monitor treatment\" = 1 outside SMM")
/* clang-format on */

#endif
