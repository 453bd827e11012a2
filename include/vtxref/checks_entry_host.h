/**
 * @file checks_entry_host.h
 * @brief VM-entry checks on the host-state area (SDM "Checks on Host Control Registers, MSRs and Segment and Descriptor-Table Registers"). Failure: VMfailValid, error 8.
 *
 * Rows: X(NAME, "rule ID" or NULL, "one-line text"). Included by checks.h.
 * Order: the SDM's "Checks on Host Control Registers and MSRs", "Checks on
 * Host Segment and Descriptor-Table Registers", "Checks Related to
 * Address-Space Size", as model/entry_host.c makes them. "Canonical" means
 * bits 63:47 all equal (48-bit linear addresses, the 2016 SDM).
 */
#ifndef VTXREF_CHECKS_ENTRY_HOST_H
#define VTXREF_CHECKS_ENTRY_HOST_H

/* clang-format off */
#define VTX_ENTRY_HOST_CHECKS(X) \
    X(HOST_CR0_FIXED0,             NULL, "host CR0 field clears a bit IA32_VMX_CR0_FIXED0 fixes to 1 (CR0.NW and CR0.CD are not checked)") \
    X(HOST_CR0_FIXED1,             NULL, "host CR0 field sets a bit IA32_VMX_CR0_FIXED1 fixes to 0 (CR0.NW and CR0.CD are not checked)") \
    X(HOST_CR4_VMXE,               NULL, "host CR4 field has CR4.VMXE (bit 13) = 0") \
    X(HOST_CR4_FIXED0,             NULL, "host CR4 field clears a bit IA32_VMX_CR4_FIXED0 fixes to 1") \
    X(HOST_CR4_FIXED1,             NULL, "host CR4 field sets a bit IA32_VMX_CR4_FIXED1 fixes to 0") \
    X(HOST_CR3_WIDTH,              NULL, "host CR3 field sets bits beyond the physical-address width") \
    X(HOST_SYSENTER_CANONICAL,     NULL, "host IA32_SYSENTER_ESP or IA32_SYSENTER_EIP field not canonical") \
    X(HOST_PAT,                    NULL, "\"load IA32_PAT\" VM-exit control with a host IA32_PAT byte not 0, 1, 4, 5, 6 or 7") \
    X(HOST_EFER_RESERVED,          NULL, "\"load IA32_EFER\" VM-exit control with reserved IA32_EFER bits set in the host field") \
    X(HOST_EFER_LMA_LME,           NULL, "\"load IA32_EFER\" VM-exit control with host EFER.LMA or EFER.LME differing from \"host address-space size\"") \
    X(HOST_SEL_RPL_TI,             NULL, "host CS, SS, DS, ES, FS, GS or TR selector with RPL (bits 1:0) or TI (bit 2) not 0") \
    X(HOST_CS_ZERO,                NULL, "host CS selector 0000H") \
    X(HOST_TR_ZERO,                NULL, "host TR selector 0000H") \
    X(HOST_SS_ZERO,                NULL, "host SS selector 0000H with \"host address-space size\" = 0") \
    X(HOST_BASE_CANONICAL,         NULL, "host FS, GS, GDTR, IDTR or TR base address not canonical") \
    X(HOST_ADDR_SIZE_OUTSIDE_IA32E, NULL, "\"host address-space size\" = 1 while the processor is outside IA-32e mode (IA32_EFER.LMA = 0)") \
    X(HOST_ADDR_SIZE_IN_IA32E,     NULL, "\"host address-space size\" = 0 while the processor is in IA-32e mode (IA32_EFER.LMA = 1)") \
    X(HOST_IA32E_GUEST_32BIT_HOST, NULL, "\"IA-32e mode guest\" VM-entry control = 1 with \"host address-space size\" = 0 (or outside IA-32e mode)") \
    X(HOST_CR4_PCIDE_32BIT_HOST,   NULL, "host CR4.PCIDE (bit 17) = 1 with \"host address-space size\" = 0") \
    X(HOST_RIP_HIGH_32BIT_HOST,    NULL, "host RIP bits 63:32 not 0 with \"host address-space size\" = 0") \
    X(HOST_CR4_PAE_64BIT_HOST,     NULL, "host CR4.PAE (bit 5) = 0 with \"host address-space size\" = 1") \
    X(HOST_RIP_CANONICAL,          NULL, "host RIP not canonical with \"host address-space size\" = 1")
/* clang-format on */

#endif
