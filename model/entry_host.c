/*
 * VM-entry checks on the host-state area (SDM Vol. 3 "Checks on Host
 * Control Registers and MSRs", "Checks on Host Segment and Descriptor-Table
 * Registers", "Checks Related to Address-Space Size"). Any failure is
 * VMfailValid with VM-instruction error 8 (vmentry.c reports it).
 *
 * One static function per SDM check group, in the SDM's order; each failure
 * names its check (checks_entry_host.h). The modelled processor supports
 * Intel 64, so the "on processors that support Intel 64 architecture" checks
 * always apply. Canonical means 48-bit canonical (the 2016 SDM; no LA57).
 */
#include "entry_checks.h"

typedef struct host_view {
    const vtx_machine *m;
    const vtx_vmcs_values *f;
    uint32_t exit, entry;
    bool host64; /* "host address-space size" VM-exit control */
} host_view;

static uint64_t get(const host_view *h, enum vtx_slot s) { return vtx_vmcs_get(h->f, s); }

static bool canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

/* ---- control registers ---- */

/* CR0.NW (29) and CR0.CD (30) are never checked: VM exit does not load them. */
#define CR0_UNCHECKED (VTX_CR0_NW | VTX_CR0_CD)

static bool check_host_cr0(const host_view *h, vtx_entry_fail *fail)
{
    uint64_t cr0 = get(h, VTX_SLOT_HOST_CR0);
    uint64_t f0 = h->m->profile.msr[VTX_CAP_IA32_VMX_CR0_FIXED0] & ~CR0_UNCHECKED;
    uint64_t f1 = h->m->profile.msr[VTX_CAP_IA32_VMX_CR0_FIXED1] | CR0_UNCHECKED;
    if (f0 & ~cr0)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_CR0_FIXED0, 0,
                               "host CR0 0x%llx: bit %d must be 1 in VMX operation (IA32_VMX_CR0_FIXED0 0x%llx)",
                               (unsigned long long)cr0, __builtin_ctzll(f0 & ~cr0), (unsigned long long)f0);
    if (cr0 & ~f1)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_CR0_FIXED1, 0,
                               "host CR0 0x%llx: bit %d must be 0 in VMX operation (IA32_VMX_CR0_FIXED1 0x%llx)",
                               (unsigned long long)cr0, __builtin_ctzll(cr0 & ~f1),
                               (unsigned long long)h->m->profile.msr[VTX_CAP_IA32_VMX_CR0_FIXED1]);
    return true;
}

static bool check_host_cr4(const host_view *h, vtx_entry_fail *fail)
{
    uint64_t cr4 = get(h, VTX_SLOT_HOST_CR4);
    uint64_t f0 = h->m->profile.msr[VTX_CAP_IA32_VMX_CR4_FIXED0];
    uint64_t f1 = h->m->profile.msr[VTX_CAP_IA32_VMX_CR4_FIXED1];
    /* VMXE is one of the FIXED0 bits; named on its own because it is the usual mistake. */
    if (!(cr4 & VTX_CR4_VMXE))
        return vtx_entry_failf(fail, VTX_CHECK_HOST_CR4_VMXE, 0,
                               "host CR4 0x%llx: CR4.VMXE (bit 13) must be 1 (the host stays in VMX operation)",
                               (unsigned long long)cr4);
    if (f0 & ~cr4)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_CR4_FIXED0, 0,
                               "host CR4 0x%llx: bit %d must be 1 in VMX operation (IA32_VMX_CR4_FIXED0 0x%llx)",
                               (unsigned long long)cr4, __builtin_ctzll(f0 & ~cr4), (unsigned long long)f0);
    if (cr4 & ~f1)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_CR4_FIXED1, 0,
                               "host CR4 0x%llx: bit %d must be 0 in VMX operation (IA32_VMX_CR4_FIXED1 0x%llx)",
                               (unsigned long long)cr4, __builtin_ctzll(cr4 & ~f1), (unsigned long long)f1);
    return true;
}

static bool check_host_cr3(const host_view *h, vtx_entry_fail *fail)
{
    uint64_t cr3 = get(h, VTX_SLOT_HOST_CR3);
    unsigned width = h->m->profile.phys_addr_width;
    if (cr3 >> width)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_CR3_WIDTH, 0,
                               "host CR3 0x%llx sets bits beyond the %u-bit physical-address width (bit %d)",
                               (unsigned long long)cr3, width, 63 - __builtin_clzll(cr3));
    return true;
}

/* ---- MSRs ---- */

static bool check_host_sysenter(const host_view *h, vtx_entry_fail *fail)
{
    uint64_t esp = get(h, VTX_SLOT_HOST_IA32_SYSENTER_ESP), eip = get(h, VTX_SLOT_HOST_IA32_SYSENTER_EIP);
    if (!canonical(esp))
        return vtx_entry_failf(fail, VTX_CHECK_HOST_SYSENTER_CANONICAL, 0,
                               "host IA32_SYSENTER_ESP 0x%llx is not canonical", (unsigned long long)esp);
    if (!canonical(eip))
        return vtx_entry_failf(fail, VTX_CHECK_HOST_SYSENTER_CANONICAL, 0,
                               "host IA32_SYSENTER_EIP 0x%llx is not canonical", (unsigned long long)eip);
    return true;
}

static bool check_host_pat(const host_view *h, vtx_entry_fail *fail)
{
    if (!(h->exit & VTX_EXIT_LOAD_PAT))
        return true;
    uint64_t pat = get(h, VTX_SLOT_HOST_IA32_PAT);
    for (int i = 0; i < 8; i++) {
        unsigned t = (unsigned)(pat >> (8 * i)) & 0xFF;
        if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
            return vtx_entry_failf(fail, VTX_CHECK_HOST_PAT, 0,
                                   "\"load IA32_PAT\" = 1 but host IA32_PAT 0x%016llx: entry PA%d = %u is not a "
                                   "memory type (0, 1, 4, 5, 6, 7)", (unsigned long long)pat, i, t);
    }
    return true;
}

/* IA32_EFER bits defined on Intel 64 processors: SCE, LME, LMA, NXE. */

static bool check_host_efer(const host_view *h, vtx_entry_fail *fail)
{
    if (!(h->exit & VTX_EXIT_LOAD_EFER))
        return true;
    uint64_t efer = get(h, VTX_SLOT_HOST_IA32_EFER);
    if (efer & ~VTX_EFER_DEFINED)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_EFER_RESERVED, 0,
                               "\"load IA32_EFER\" = 1 but host IA32_EFER 0x%llx sets reserved bit %d",
                               (unsigned long long)efer, __builtin_ctzll(efer & ~VTX_EFER_DEFINED));
    bool lma = efer & VTX_EFER_LMA, lme = efer & VTX_EFER_LME;
    if (lma != h->host64 || lme != h->host64)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_EFER_LMA_LME, 0,
                               "host IA32_EFER 0x%llx: LMA = %d and LME = %d must each equal \"host address-space "
                               "size\" = %d", (unsigned long long)efer, lma, lme, h->host64);
    return true;
}

/* ---- segment and descriptor-table registers ---- */

static bool check_host_selectors(const host_view *h, vtx_entry_fail *fail)
{
    static const struct { enum vtx_slot slot; const char *name; } sel[] = {
        {VTX_SLOT_HOST_CS_SELECTOR, "CS"}, {VTX_SLOT_HOST_SS_SELECTOR, "SS"}, {VTX_SLOT_HOST_DS_SELECTOR, "DS"},
        {VTX_SLOT_HOST_ES_SELECTOR, "ES"}, {VTX_SLOT_HOST_FS_SELECTOR, "FS"}, {VTX_SLOT_HOST_GS_SELECTOR, "GS"},
        {VTX_SLOT_HOST_TR_SELECTOR, "TR"},
    };
    for (size_t i = 0; i < sizeof sel / sizeof sel[0]; i++) {
        uint64_t v = get(h, sel[i].slot);
        if (v & 7)
            return vtx_entry_failf(fail, VTX_CHECK_HOST_SEL_RPL_TI, 0,
                                   "host %s selector 0x%04llx: RPL (bits 1:0) and TI (bit 2) must be 0", sel[i].name,
                                   (unsigned long long)v);
    }
    if ((get(h, VTX_SLOT_HOST_CS_SELECTOR) & 0xFFFF) == 0)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_CS_ZERO, 0, "host CS selector is 0000H");
    if ((get(h, VTX_SLOT_HOST_TR_SELECTOR) & 0xFFFF) == 0)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_TR_ZERO, 0, "host TR selector is 0000H");
    if (!h->host64 && (get(h, VTX_SLOT_HOST_SS_SELECTOR) & 0xFFFF) == 0)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_SS_ZERO, 0,
                               "host SS selector is 0000H with \"host address-space size\" = 0 (a 32-bit host needs "
                               "a stack segment)");
    return true;
}

static bool check_host_bases(const host_view *h, vtx_entry_fail *fail)
{
    static const struct { enum vtx_slot slot; const char *name; } base[] = {
        {VTX_SLOT_HOST_FS_BASE, "FS"}, {VTX_SLOT_HOST_GS_BASE, "GS"}, {VTX_SLOT_HOST_GDTR_BASE, "GDTR"},
        {VTX_SLOT_HOST_IDTR_BASE, "IDTR"}, {VTX_SLOT_HOST_TR_BASE, "TR"},
    };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        uint64_t v = get(h, base[i].slot);
        if (!canonical(v))
            return vtx_entry_failf(fail, VTX_CHECK_HOST_BASE_CANONICAL, 0, "host %s base 0x%llx is not canonical",
                                   base[i].name, (unsigned long long)v);
    }
    return true;
}

/* ---- address-space size ---- */

static bool check_address_space_size(const host_view *h, vtx_entry_fail *fail)
{
    bool ia32e = h->m->root.efer & VTX_EFER_LMA;
    if (!ia32e && h->host64)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_ADDR_SIZE_OUTSIDE_IA32E, 0,
                               "\"host address-space size\" = 1 but the processor is outside IA-32e mode "
                               "(IA32_EFER.LMA = 0)");
    if (ia32e && !h->host64)
        return vtx_entry_failf(fail, VTX_CHECK_HOST_ADDR_SIZE_IN_IA32E, 0,
                               "\"host address-space size\" = 0 but the processor is in IA-32e mode "
                               "(IA32_EFER.LMA = 1): VM exit must return to a 64-bit host");
    uint64_t cr4 = get(h, VTX_SLOT_HOST_CR4), rip = get(h, VTX_SLOT_HOST_RIP);
    if (!h->host64) {
        /* Also the rule "outside IA-32e mode, IA-32e mode guest = 0": outside
         * IA-32e mode the host address-space size is 0 by the check above. */
        if (h->entry & VTX_ENTRY_IA32E_MODE_GUEST)
            return vtx_entry_failf(fail, VTX_CHECK_HOST_IA32E_GUEST_32BIT_HOST, 0,
                                   "\"IA-32e mode guest\" VM-entry control = 1 with \"host address-space size\" = 0 "
                                   "(VM entries %s IA-32e mode cannot enter a 64-bit guest)",
                                   ia32e ? "in" : "outside");
        if (cr4 & (1ull << 17))
            return vtx_entry_failf(fail, VTX_CHECK_HOST_CR4_PCIDE_32BIT_HOST, 0,
                                   "host CR4 0x%llx: CR4.PCIDE (bit 17) must be 0 with \"host address-space size\" = 0",
                                   (unsigned long long)cr4);
        if (rip >> 32)
            return vtx_entry_failf(fail, VTX_CHECK_HOST_RIP_HIGH_32BIT_HOST, 0,
                                   "host RIP 0x%llx: bits 63:32 must be 0 with \"host address-space size\" = 0",
                                   (unsigned long long)rip);
    } else {
        if (!(cr4 & VTX_CR4_PAE))
            return vtx_entry_failf(fail, VTX_CHECK_HOST_CR4_PAE_64BIT_HOST, 0,
                                   "host CR4 0x%llx: CR4.PAE (bit 5) must be 1 with \"host address-space size\" = 1",
                                   (unsigned long long)cr4);
        if (!canonical(rip))
            return vtx_entry_failf(fail, VTX_CHECK_HOST_RIP_CANONICAL, 0,
                                   "host RIP 0x%llx is not canonical (\"host address-space size\" = 1)",
                                   (unsigned long long)rip);
    }
    return true;
}

bool vtx_entry_check_host(const vtx_machine *m, const vtx_vmcs_values *f, vtx_entry_fail *fail)
{
    host_view h = {
        .m = m,
        .f = f,
        .exit = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_CONTROLS),
        .entry = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_ENTRY_CONTROLS),
    };
    h.host64 = h.exit & VTX_EXIT_HOST_ADDR_SPACE_SIZE;
    return check_host_cr0(&h, fail) && check_host_cr4(&h, fail) && check_host_cr3(&h, fail) &&
           check_host_sysenter(&h, fail) && check_host_pat(&h, fail) && check_host_efer(&h, fail) &&
           check_host_selectors(&h, fail) && check_host_bases(&h, fail) && check_address_space_size(&h, fail);
}
