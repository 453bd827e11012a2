/**
 * @file checks_entry_guest.h
 * @brief VM-entry checks on the guest-state area (SDM "Checks on the Guest State Area": control registers, debug registers, MSRs, segment registers, descriptor-table registers, RIP and RFLAGS, non-register state; catalogue F.3 ENT-GS-*). Failure: VM-entry failure exit, reason 33 | 0x80000000.
 *
 * Rows: X(NAME, "rule ID" or NULL, "one-line text"). Included by checks.h.
 * Exit qualification 0 unless the text says otherwise (2 = PDPTEs, 3 = NMI
 * injection with blocking by STI, 4 = VMCS link pointer; catalogue ENT-BASIC-5).
 * The GUEST_MSR_LOAD_* rows are the failures of the VM-entry MSR-load area,
 * processed after the guest state is loaded: exit reason 34 | 0x80000000.
 */
#ifndef VTXREF_CHECKS_ENTRY_GUEST_H
#define VTXREF_CHECKS_ENTRY_GUEST_H

/* clang-format off */
#define VTX_ENTRY_GUEST_CHECKS(X) \
    /* Control registers, debug registers and MSRs */ \
    X(GUEST_CR0_FIXED0,            NULL,          "guest CR0 clears a bit IA32_VMX_CR0_FIXED0 fixes to 1 (PE and PG exempt with unrestricted guest)") \
    X(GUEST_CR0_FIXED1,            NULL,          "guest CR0 sets a bit IA32_VMX_CR0_FIXED1 fixes to 0 (NW and CD never checked)") \
    X(GUEST_CR0_PG_WITHOUT_PE,     NULL,          "guest CR0.PG = 1 with CR0.PE = 0") \
    X(GUEST_CR4_FIXED0,            NULL,          "guest CR4 clears a bit IA32_VMX_CR4_FIXED0 fixes to 1") \
    X(GUEST_CR4_FIXED1,            NULL,          "guest CR4 sets a bit IA32_VMX_CR4_FIXED1 fixes to 0") \
    X(GUEST_DEBUGCTL_RESERVED,     NULL,          "\"load debug controls\" = 1 and guest IA32_DEBUGCTL sets a reserved bit") \
    X(GUEST_IA32E_CR0_PG,          NULL,          "\"IA-32e mode guest\" = 1 with guest CR0.PG = 0") \
    X(GUEST_IA32E_CR4_PAE,         NULL,          "\"IA-32e mode guest\" = 1 with guest CR4.PAE = 0") \
    X(GUEST_CR4_PCIDE,             NULL,          "\"IA-32e mode guest\" = 0 with guest CR4.PCIDE = 1") \
    X(GUEST_CR3_WIDTH,             NULL,          "guest CR3 sets bits beyond the physical-address width") \
    X(GUEST_DR7_HIGH,              NULL,          "\"load debug controls\" = 1 and guest DR7 bits 63:32 are not 0") \
    X(GUEST_SYSENTER_ESP,          NULL,          "guest IA32_SYSENTER_ESP is not canonical") \
    X(GUEST_SYSENTER_EIP,          NULL,          "guest IA32_SYSENTER_EIP is not canonical") \
    X(GUEST_PERF_GLOBAL_RESERVED,  NULL,          "\"load IA32_PERF_GLOBAL_CTRL\" = 1 and the guest value sets a reserved bit") \
    X(GUEST_PAT,                   NULL,          "\"load IA32_PAT\" = 1 and a byte of guest IA32_PAT is not 0, 1, 4, 5, 6 or 7") \
    X(GUEST_EFER_RESERVED,         NULL,          "\"load IA32_EFER\" = 1 and guest IA32_EFER sets a reserved bit") \
    X(GUEST_EFER_LMA,              NULL,          "\"load IA32_EFER\" = 1 and guest IA32_EFER.LMA differs from \"IA-32e mode guest\"") \
    X(GUEST_EFER_LME,              NULL,          "\"load IA32_EFER\" = 1, guest CR0.PG = 1 and IA32_EFER.LME differs from LMA") \
    X(GUEST_BNDCFGS_RESERVED,      NULL,          "\"load IA32_BNDCFGS\" = 1 and guest IA32_BNDCFGS bits 11:2 are not 0") \
    X(GUEST_BNDCFGS_CANONICAL,     NULL,          "\"load IA32_BNDCFGS\" = 1 and the bound-directory address (bits 63:12) is not canonical") \
    /* Segment registers: selectors, bases, limits */ \
    X(GUEST_TR_SEL_TI,             NULL,          "guest TR selector has TI (bit 2) = 1") \
    X(GUEST_LDTR_SEL_TI,           NULL,          "guest LDTR is usable and its selector has TI (bit 2) = 1") \
    X(GUEST_SS_RPL_CS_RPL,         NULL,          "not virtual-8086, no unrestricted guest, and SS.RPL differs from CS.RPL") \
    X(GUEST_V86_SEG_BASE,          NULL,          "virtual-8086 guest: a CS/SS/DS/ES/FS/GS base is not its selector times 16") \
    X(GUEST_SEG_BASE_CANONICAL,    NULL,          "guest TR, FS, GS or usable LDTR base is not canonical") \
    X(GUEST_SEG_BASE_HIGH,         NULL,          "guest CS base, or a usable SS/DS/ES base, has bits 63:32 set") \
    X(GUEST_V86_SEG_LIMIT,         NULL,          "virtual-8086 guest: a CS/SS/DS/ES/FS/GS limit is not 0xFFFF") \
    /* Segment registers: access rights */ \
    X(GUEST_V86_SEG_AR,            NULL,          "virtual-8086 guest: CS/SS/DS/ES/FS/GS access rights are not 0xF3") \
    X(GUEST_CS_AR_TYPE,            NULL,          "guest CS type is not 9, 11, 13 or 15 (or 3 with unrestricted guest)") \
    X(GUEST_SS_AR_TYPE,            NULL,          "guest SS is usable and its type is not 3 or 7") \
    X(GUEST_DATA_SEG_AR_TYPE,      NULL,          "usable guest DS/ES/FS/GS is not accessed, or is an unreadable code segment") \
    X(GUEST_SEG_AR_S,              NULL,          "guest CS, or a usable SS/DS/ES/FS/GS, has S (bit 4) = 0") \
    X(GUEST_CS_AR_DPL_TYPE3,       NULL,          "guest CS type 3 (unrestricted guest) with DPL not 0") \
    X(GUEST_CS_AR_DPL_NONCONF,     NULL,          "guest CS non-conforming (type 9/11) with DPL different from SS.DPL") \
    X(GUEST_CS_AR_DPL_CONF,        NULL,          "guest CS conforming (type 13/15) with DPL greater than SS.DPL") \
    X(GUEST_SS_AR_DPL_RPL,         NULL,          "no unrestricted guest and guest SS.DPL differs from SS.RPL") \
    X(GUEST_SS_AR_DPL_ZERO,        NULL,          "guest SS.DPL is not 0 although CS type is 3 or CR0.PE = 0") \
    X(GUEST_DATA_SEG_AR_DPL_RPL,   NULL,          "no unrestricted guest and a usable DS/ES/FS/GS data or non-conforming code segment has DPL < RPL") \
    X(GUEST_SEG_AR_P,              NULL,          "guest CS, TR, or a usable SS/DS/ES/FS/GS/LDTR, has P (bit 7) = 0") \
    X(GUEST_SEG_AR_RESERVED,       NULL,          "guest CS, TR, or a usable SS/DS/ES/FS/GS/LDTR, sets access-rights bits 11:8 or 31:17") \
    X(GUEST_CS_AR_L_DB,            NULL,          "\"IA-32e mode guest\" = 1 and guest CS has L = 1 and D/B = 1") \
    X(GUEST_SEG_AR_G_LIMIT,        NULL,          "guest segment G bit inconsistent with its limit (limit[11:0] not all 1 needs G = 0; limit[31:20] not 0 needs G = 1)") \
    X(GUEST_TR_AR_TYPE,            NULL,          "guest TR type is not 11 (busy 32/64-bit TSS), or 3 (busy 16-bit TSS) outside IA-32e mode") \
    X(GUEST_TR_AR_S,               NULL,          "guest TR has S (bit 4) = 1") \
    X(GUEST_TR_UNUSABLE,           NULL,          "guest TR is marked unusable (access rights bit 16)") \
    X(GUEST_LDTR_AR_TYPE,          NULL,          "guest LDTR is usable and its type is not 2 (LDT)") \
    X(GUEST_LDTR_AR_S,             NULL,          "guest LDTR is usable and has S (bit 4) = 1") \
    /* Descriptor-table registers */ \
    X(GUEST_DTR_BASE_CANONICAL,    NULL,          "guest GDTR or IDTR base is not canonical") \
    X(GUEST_DTR_LIMIT,             NULL,          "guest GDTR or IDTR limit has bits 31:16 set") \
    /* RIP and RFLAGS */ \
    X(GUEST_RIP_HIGH,              NULL,          "guest RIP bits 63:32 are not 0 outside 64-bit mode (IA-32e mode guest with CS.L = 1)") \
    X(GUEST_RIP_LINEAR_WIDTH,      NULL,          "64-bit guest RIP bits 63:48 (beyond the linear-address width) are not all equal") \
    X(GUEST_RFLAGS_RESERVED,       "ENT-GS-1",    "guest RFLAGS sets a reserved bit (63:22, 15, 5 or 3)") \
    X(GUEST_RFLAGS_BIT1,           "ENT-GS-1",    "guest RFLAGS bit 1 is 0") \
    X(GUEST_RFLAGS_VM,             "ENT-GS-1",    "guest RFLAGS.VM = 1 with \"IA-32e mode guest\" = 1 or CR0.PE = 0") \
    X(GUEST_RFLAGS_IF_EXTINT,      "ENT-GS-1",    "injecting an external interrupt (type 0) with guest RFLAGS.IF = 0") \
    /* Non-register state: activity state */ \
    X(GUEST_ACT_STATE_RANGE,       "ENT-GS-2",    "guest activity state is not 0..3") \
    X(GUEST_ACT_STATE_UNSUPPORTED, "ENT-GS-2",    "guest activity state not supported (IA32_VMX_MISC bit 6 HLT, 7 shutdown, 8 wait-for-SIPI)") \
    X(GUEST_ACT_HLT_SS_DPL,        "ENT-GS-3",    "guest activity state HLT with SS.DPL not 0") \
    X(GUEST_ACT_NOT_ACTIVE_SHADOW, "ENT-GS-4",    "guest activity state not active with blocking by STI or by MOV SS") \
    X(GUEST_ACT_HLT_EVENT,         "ENT-GS-5",    "injecting into HLT an event other than an external interrupt, NMI, #DB, #MC or pending MTF") \
    X(GUEST_ACT_SHUTDOWN_EVENT,    "ENT-GS-5",    "injecting into shutdown an event other than an NMI or #MC") \
    X(GUEST_ACT_SIPI_EVENT,        "ENT-GS-5",    "injecting any event into wait-for-SIPI") \
    X(GUEST_ACT_SIPI_SMM,          "ENT-GS-6",    "guest activity state wait-for-SIPI with \"entry to SMM\" = 1") \
    /* Non-register state: interruptibility state */ \
    X(GUEST_INTR_RESERVED,         "ENT-GS-7",    "guest interruptibility state sets reserved bits 31:5") \
    X(GUEST_INTR_STI_AND_MOVSS,    "ENT-GS-8",    "interruptibility bits 0 (STI) and 1 (MOV SS) both set") \
    X(GUEST_INTR_STI_IF0,          "ENT-GS-9",    "blocking by STI (interruptibility bit 0) with guest RFLAGS.IF = 0") \
    X(GUEST_INTR_EXTINT_SHADOW,    "ENT-GS-10",   "injecting an external interrupt with blocking by STI or MOV SS") \
    X(GUEST_INTR_NMI_MOVSS,        "ENT-GS-10",   "injecting an NMI with blocking by MOV SS") \
    X(GUEST_INTR_NMI_STI,          "ENT-GS-10",   "injecting an NMI with blocking by STI (CFG-NMI-STI-ENTRY; exit qualification 3)") \
    X(GUEST_INTR_SMI_NOT_SMM,      "ENT-GS-11",   "blocking by SMI (interruptibility bit 2) outside SMM") \
    X(GUEST_INTR_SMI_ENTRY_SMM,    "ENT-GS-11",   "\"entry to SMM\" = 1 without blocking by SMI (interruptibility bit 2)") \
    X(GUEST_INTR_VNMI_BLOCKED,     "ENT-GS-12",   "virtual NMIs = 1, injecting an NMI, with virtual-NMI blocking (interruptibility bit 3)") \
    X(GUEST_INTR_ENCLAVE_MOVSS,    "ENT-GS-13",   "enclave interruption (interruptibility bit 4) with blocking by MOV SS") \
    X(GUEST_INTR_ENCLAVE_NO_SGX,   "ENT-GS-13",   "enclave interruption (interruptibility bit 4) on a processor without SGX") \
    /* Non-register state: pending debug exceptions */ \
    X(GUEST_PENDING_DBG_RESERVED,  "ENT-GS-14",   "guest pending debug exceptions set reserved bits 11:4, 13, 15 or 63:17") \
    X(GUEST_PENDING_DBG_BS_CLEAR,  "ENT-GS-14",   "STI/MOV-SS blocking or HLT with RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0, but pending BS (bit 14) = 0") \
    X(GUEST_PENDING_DBG_BS_SET,    "ENT-GS-14",   "STI/MOV-SS blocking or HLT with RFLAGS.TF = 0 or IA32_DEBUGCTL.BTF = 1, but pending BS (bit 14) = 1") \
    X(GUEST_PENDING_DBG_RTM,       "ENT-GS-14",   "pending debug exceptions bit 16 (RTM) = 1 on a processor without RTM") \
    /* Non-register state: VMCS link pointer (exit qualification 4) */ \
    X(GUEST_LINK_PTR_ALIGN,        "ENT-GS-15",   "VMCS link pointer is not all ones and not 4-KiB aligned (qualification 4)") \
    X(GUEST_LINK_PTR_WIDTH,        "ENT-GS-15",   "VMCS link pointer sets bits beyond the physical-address width (qualification 4)") \
    X(GUEST_LINK_PTR_UNMAPPED,     "ENT-GS-15",   "VMCS link pointer references memory that cannot be read (qualification 4)") \
    X(GUEST_LINK_PTR_REVISION,     "ENT-GS-15",   "VMCS link region revision identifier (bits 30:0) differs from IA32_VMX_BASIC[30:0] (qualification 4)") \
    X(GUEST_LINK_PTR_SHADOW,       "ENT-GS-15",   "VMCS link region bit 31 differs from the \"VMCS shadowing\" control (qualification 4)") \
    X(GUEST_LINK_PTR_CURRENT,      "ENT-GS-15",   "VMCS link pointer is the current-VMCS pointer (qualification 4)") \
    /* PDPTEs (exit qualification 2) */ \
    X(GUEST_PDPTE_UNMAPPED,        NULL,          "PAE paging without EPT: the PDPTEs at guest CR3 cannot be read (qualification 2)") \
    X(GUEST_PDPTE_RESERVED,        NULL,          "PAE paging without EPT: a present PDPTE at guest CR3 sets reserved bits (qualification 2)") \
    X(GUEST_PDPTE_FIELD_RESERVED,  NULL,          "PAE paging with EPT: a present guest PDPTE field sets reserved bits (qualification 2)") \
    /* VM-entry MSR-load area (SDM "Loading MSRs"): exit reason 34 | 0x80000000, qualification = 1-based entry number */ \
    X(GUEST_MSR_LOAD_COUNT,        "ENT-BASIC-5", "VM-entry MSR-load count above 512 * (IA32_VMX_MISC[27:25] + 1): the first entry beyond fails (the SDM leaves it undefined)") \
    X(GUEST_MSR_LOAD_UNREADABLE,   "ENT-BASIC-5", "a VM-entry MSR-load entry lies in memory that cannot be read") \
    X(GUEST_MSR_LOAD_RESERVED,     "ENT-BASIC-5", "a VM-entry MSR-load entry has bits 63:32 not 0") \
    X(GUEST_MSR_LOAD_FS_GS_BASE,   "ENT-BASIC-5", "a VM-entry MSR-load entry names IA32_FS_BASE (C0000100H) or IA32_GS_BASE (C0000101H)") \
    X(GUEST_MSR_LOAD_X2APIC,       "ENT-BASIC-5", "a VM-entry MSR-load entry names an x2APIC MSR (index bits 31:8 = 000008H)") \
    X(GUEST_MSR_LOAD_SMM,          "ENT-BASIC-5", "a VM-entry MSR-load entry names an MSR writable only in SMM (IA32_SMM_MONITOR_CTL, IA32_SMBASE) outside SMM") \
    X(GUEST_MSR_LOAD_UNKNOWN,      "ENT-BASIC-5", "a VM-entry MSR-load entry names an MSR the processor does not have (WRMSR would #GP)") \
    X(GUEST_MSR_LOAD_VALUE,        "ENT-BASIC-5", "a VM-entry MSR-load entry holds a value WRMSR would #GP on (reserved bits, non-canonical, read-only MSR)")
/* clang-format on */

#endif
