/**
 * @file checks.h
 * @brief Stable named diagnostics for every check a VMX instruction makes.
 *
 * Each check that can decide an instruction's outcome has a stable name
 * (`VTX_CHECK_VMXON_REVISION`), the rule ID of the rules catalogue it
 * implements where the catalogue has one (`ENT-BASIC-3`), and a one-line text.
 * A ::vtx_insn_result names the check that decided it, so tests, the teaching
 * CLI and coverage reports all speak of the same thing.
 *
 * Table rows: X(NAME, "rule ID" or NULL, "one-line text"). The VMX instruction
 * checks are below; the VM-entry checks are in checks_entry_controls.h (error 7),
 * checks_entry_host.h (error 8) and checks_entry_guest.h (exit reason 33).
 */
#ifndef VTXREF_CHECKS_H
#define VTXREF_CHECKS_H

#include "checks_entry_controls.h"
#include "checks_entry_guest.h"
#include "checks_entry_host.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */
#define VTX_INSN_CHECKS(X) \
    X(NONE,                      NULL,          "no check failed") \
    X(UD_NOT_IN_VMX,             NULL,          "not in VMX operation: #UD") \
    X(UD_MODE,                   "ENT-BASIC-1", "CR0.PE = 0, RFLAGS.VM = 1 (virtual-8086 mode) or compatibility mode (IA32_EFER.LMA = 1, CS.L = 0): #UD") \
    X(UD_CR4_VMXE,               NULL,          "VMXON with CR4.VMXE = 0: #UD") \
    X(UD_INSN_UNSUPPORTED,       NULL,          "the processor does not support the instruction (capability MSRs): #UD") \
    X(GP_CPL,                    "ENT-BASIC-1", "CPL > 0: #GP(0)") \
    X(VMXON_GP_CR0_FIXED,        NULL,          "VMXON with CR0 outside IA32_VMX_CR0_FIXED0/FIXED1: #GP(0)") \
    X(VMXON_GP_CR4_FIXED,        NULL,          "VMXON with CR4 outside IA32_VMX_CR4_FIXED0/FIXED1: #GP(0)") \
    X(VMXON_GP_FC_LOCK,          NULL,          "VMXON with IA32_FEATURE_CONTROL lock bit (0) clear: #GP(0)") \
    X(VMXON_GP_FC_ENABLE,        NULL,          "VMXON with IA32_FEATURE_CONTROL bit 2 (outside SMX) or bit 1 (in SMX) clear: #GP(0)") \
    X(VMXON_ADDR,                NULL,          "VMXON pointer not 4-KiB aligned or beyond the physical-address width: VMfailInvalid") \
    X(VMXON_REVISION,            NULL,          "VMXON region revision identifier differs from IA32_VMX_BASIC[30:0] or has bit 31 set: VMfailInvalid") \
    X(VMXON_IN_ROOT,             NULL,          "VMXON in VMX root operation: VMfail, error 15") \
    X(NO_CURRENT_VMCS,           "ENT-BASIC-2", "the current-VMCS pointer is not valid: VMfailInvalid") \
    X(CURRENT_VMCS_SHADOW,       "ENT-BASIC-2", "VMLAUNCH/VMRESUME with a shadow VMCS as the current VMCS: VMfailInvalid") \
    X(VMCLEAR_ADDR,              NULL,          "VMCLEAR operand not 4-KiB aligned or beyond the physical-address width: VMfail, error 2") \
    X(VMCLEAR_VMXON_PTR,         NULL,          "VMCLEAR operand is the VMXON pointer: VMfail, error 3") \
    X(VMPTRLD_ADDR,              NULL,          "VMPTRLD operand not 4-KiB aligned or beyond the physical-address width: VMfail, error 9") \
    X(VMPTRLD_VMXON_PTR,         NULL,          "VMPTRLD operand is the VMXON pointer: VMfail, error 10") \
    X(VMPTRLD_REVISION,          NULL,          "VMCS region revision identifier wrong, or shadow indicator set without VMCS shadowing: VMfail, error 11") \
    X(VMCS_UNSUPPORTED_FIELD,    NULL,          "VMREAD/VMWRITE encoding names no field of this processor: VMfailValid, error 12") \
    X(VMCS_READ_ONLY_FIELD,      NULL,          "VMWRITE to a read-only (VM-exit information) field without IA32_VMX_MISC[29]: VMfailValid, error 13") \
    X(ENTRY_MOV_SS_BLOCKING,     "ENT-BASIC-3", "VMLAUNCH/VMRESUME with events blocked by MOV SS: VMfailValid, error 26") \
    X(VMLAUNCH_NOT_CLEAR,        "ENT-BASIC-3", "VMLAUNCH with a VMCS whose launch state is not clear: VMfailValid, error 4") \
    X(VMRESUME_NOT_LAUNCHED,     "ENT-BASIC-3", "VMRESUME with a VMCS whose launch state is not launched: VMfailValid, error 5") \
    X(VMRESUME_AFTER_VMXOFF,     NULL,          "VMRESUME of a VMCS left active across VMXOFF and VMXON: VMfailValid, error 6") \
    X(INVEPT_TYPE,               NULL,          "INVEPT type not supported by IA32_VMX_EPT_VPID_CAP: VMfail, error 28") \
    X(INVEPT_EPTP,               NULL,          "INVEPT single-context with an invalid EPTP: VMfail, error 28") \
    X(INVVPID_TYPE,              NULL,          "INVVPID type not supported by IA32_VMX_EPT_VPID_CAP: VMfail, error 28") \
    X(INVVPID_DESC_RESERVED,     NULL,          "INVVPID descriptor bits 63:16 not zero: VMfail, error 28") \
    X(INVVPID_VPID_ZERO,         NULL,          "INVVPID individual-address or single-context with VPID 0: VMfail, error 28") \
    X(INVVPID_NONCANONICAL,      NULL,          "INVVPID individual-address with a non-canonical linear address: VMfail, error 28")
/* clang-format on */

/** @brief Check identifiers: `VTX_CHECK_VMXON_REVISION`, ... */
typedef enum vtx_check {
#define VTX_X_CHK(n, r, t) VTX_CHECK_##n,
    VTX_INSN_CHECKS(VTX_X_CHK)
    VTX_ENTRY_CONTROLS_CHECKS(VTX_X_CHK)
    VTX_ENTRY_HOST_CHECKS(VTX_X_CHK)
    VTX_ENTRY_GUEST_CHECKS(VTX_X_CHK)
#undef VTX_X_CHK
    VTX_CHECK_COUNT_
} vtx_check;

/** @brief Stable name without prefix ("VMXON_REVISION"), or NULL. */
VTX_API const char *vtx_check_name(vtx_check check);
/** @brief Rule ID of the rules catalogue the check implements, or NULL. */
VTX_API const char *vtx_check_rule(vtx_check check);
/** @brief One-line text of the check, or NULL. */
VTX_API const char *vtx_check_text(vtx_check check);

#ifdef __cplusplus
}
#endif
#endif
