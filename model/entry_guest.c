/*
 * VM-entry checks on the guest-state area (see entry_checks.h): SDM Vol. 3
 * "Checks on the Guest State Area" (SDM16 §26.3.1.1-26.3.1.6), catalogue F.3
 * ENT-GS-1..15. One small function per check group, in the SDM's order; a
 * failure is a VM-entry failure exit with reason 33 | 0x80000000 and exit
 * qualification 0, 2 (PDPTEs), 3 (NMI injection with STI blocking, knob
 * CFG-NMI-STI-ENTRY) or 4 (VMCS link pointer).
 *
 * Model facts the SDM leaves to the processor (no profile field says them):
 * the processor supports Intel 64 with 48 linear-address bits (no LA57), is
 * never in SMM, has no RTM, has SGX only if "enable ENCLS exiting" may be 1,
 * and has the MSR bits listed at the masks in entry_guest.h.
 *
 * The checks on non-register state and PDPTEs are in entry_guest_nonreg.c; what
 * both files share (the decoded guest, the bit layouts) is in entry_guest.h.
 */
#include <inttypes.h>
#include "entry_guest.h"

static void read_seg(guest *g, int i, const char *name, enum vtx_slot sel, enum vtx_slot base, enum vtx_slot limit,
                     enum vtx_slot ar)
{
    g->s[i].name = name;
    g->s[i].sel = (uint16_t)get(g, sel);
    g->s[i].base = get(g, base);
    g->s[i].limit = (uint32_t)get(g, limit);
    g->s[i].ar = (uint32_t)get(g, ar);
}

#define READ_SEG(g, i, N)                                                                                 \
    read_seg(g, i, #N, VTX_SLOT_GUEST_##N##_SELECTOR, VTX_SLOT_GUEST_##N##_BASE, VTX_SLOT_GUEST_##N##_LIMIT, \
             VTX_SLOT_GUEST_##N##_AR)

static void decode(guest *g, const vtx_machine *m, const vtx_vmcs_values *f)
{
    g->m = m;
    g->f = f;
    g->pin = (uint32_t)get(g, VTX_SLOT_PIN_CONTROLS);
    g->proc = (uint32_t)get(g, VTX_SLOT_PROC_CONTROLS);
    /* The secondary controls count only when they are activated. */
    g->proc2 = (g->proc & VTX_PROC_SECONDARY_CONTROLS) ? (uint32_t)get(g, VTX_SLOT_PROC_CONTROLS2) : 0;
    g->entry = (uint32_t)get(g, VTX_SLOT_ENTRY_CONTROLS);
    g->ia32e = g->entry & VTX_ENTRY_IA32E_MODE_GUEST;
    g->ug = g->proc2 & VTX_PROC2_UNRESTRICTED_GUEST;
    g->ept = g->proc2 & VTX_PROC2_ENABLE_EPT;
    g->cr0 = get(g, VTX_SLOT_GUEST_CR0);
    g->cr3 = get(g, VTX_SLOT_GUEST_CR3);
    g->cr4 = get(g, VTX_SLOT_GUEST_CR4);
    g->rflags = get(g, VTX_SLOT_GUEST_RFLAGS);
    g->v86 = g->rflags & VTX_RFLAGS_VM;
    g->intr = (uint32_t)get(g, VTX_SLOT_GUEST_INTERRUPTIBILITY);
    g->activity = (uint32_t)get(g, VTX_SLOT_GUEST_ACTIVITY_STATE);
    uint32_t info = (uint32_t)get(g, VTX_SLOT_ENTRY_INTR_INFO);
    g->inject = info >> 31;
    g->inj_type = (info >> 8) & 7;
    g->inj_vector = info & 0xFF;
    READ_SEG(g, SEG_ES, ES);
    READ_SEG(g, SEG_CS, CS);
    READ_SEG(g, SEG_SS, SS);
    READ_SEG(g, SEG_DS, DS);
    READ_SEG(g, SEG_FS, FS);
    READ_SEG(g, SEG_GS, GS);
    READ_SEG(g, SEG_LDTR, LDTR);
    READ_SEG(g, SEG_TR, TR);
}


/* ---- SDM "Checks on Guest Control Registers, Debug Registers, and MSRs" ---- */

static bool check_cr0_cr4(const guest *g, vtx_entry_fail *fail)
{
    const uint64_t *msr = g->m->profile.msr;
    uint64_t fixed0 = msr[VTX_CAP_IA32_VMX_CR0_FIXED0];
    if (g->ug)
        fixed0 &= ~(uint64_t)(VTX_CR0_PE | VTX_CR0_PG);
    fixed0 &= ~(VTX_CR0_NW | VTX_CR0_CD);
    uint64_t missing = fixed0 & ~g->cr0;
    if (missing)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CR0_FIXED0, 0,
                               "guest CR0 0x%" PRIx64 " has bit %d clear, which IA32_VMX_CR0_FIXED0 0x%" PRIx64
                               " requires to be 1%s",
                               g->cr0, __builtin_ctzll(missing), msr[VTX_CAP_IA32_VMX_CR0_FIXED0],
                               g->ug ? " (PE and PG are exempt with unrestricted guest)" : "");
    uint64_t extra = g->cr0 & ~msr[VTX_CAP_IA32_VMX_CR0_FIXED1] & ~(VTX_CR0_NW | VTX_CR0_CD);
    if (extra)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CR0_FIXED1, 0,
                               "guest CR0 0x%" PRIx64 " sets bit %d, which IA32_VMX_CR0_FIXED1 0x%" PRIx64
                               " requires to be 0",
                               g->cr0, __builtin_ctzll(extra), msr[VTX_CAP_IA32_VMX_CR0_FIXED1]);
    if ((g->cr0 & VTX_CR0_PG) && !(g->cr0 & VTX_CR0_PE))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CR0_PG_WITHOUT_PE, 0,
                               "guest CR0 0x%" PRIx64 " has PG = 1 but PE = 0 (paging requires protected mode)",
                               g->cr0);
    missing = msr[VTX_CAP_IA32_VMX_CR4_FIXED0] & ~g->cr4;
    if (missing)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CR4_FIXED0, 0,
                               "guest CR4 0x%" PRIx64 " has bit %d clear, which IA32_VMX_CR4_FIXED0 0x%" PRIx64
                               " requires to be 1",
                               g->cr4, __builtin_ctzll(missing), msr[VTX_CAP_IA32_VMX_CR4_FIXED0]);
    extra = g->cr4 & ~msr[VTX_CAP_IA32_VMX_CR4_FIXED1];
    if (extra)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CR4_FIXED1, 0,
                               "guest CR4 0x%" PRIx64 " sets bit %d, which IA32_VMX_CR4_FIXED1 0x%" PRIx64
                               " requires to be 0",
                               g->cr4, __builtin_ctzll(extra), msr[VTX_CAP_IA32_VMX_CR4_FIXED1]);
    return true;
}

static bool check_debugctl(const guest *g, vtx_entry_fail *fail)
{
    if (!(g->entry & VTX_ENTRY_LOAD_DEBUG_CONTROLS))
        return true;
    uint64_t v = get(g, VTX_SLOT_GUEST_IA32_DEBUGCTL);
    if (v & ~DEBUGCTL_VALID)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_DEBUGCTL_RESERVED, 0,
                               "guest IA32_DEBUGCTL 0x%" PRIx64 " sets reserved bit %d (\"load debug controls\" = 1)",
                               v, __builtin_ctzll(v & ~DEBUGCTL_VALID));
    return true;
}

/* The checks the SDM performs "on processors that support Intel 64 architecture". */
static bool check_intel64_regs(const guest *g, vtx_entry_fail *fail)
{
    if (g->ia32e && !(g->cr0 & VTX_CR0_PG))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_IA32E_CR0_PG, 0,
                               "\"IA-32e mode guest\" = 1 but guest CR0 0x%" PRIx64 " has PG = 0", g->cr0);
    if (g->ia32e && !(g->cr4 & VTX_CR4_PAE))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_IA32E_CR4_PAE, 0,
                               "\"IA-32e mode guest\" = 1 but guest CR4 0x%" PRIx64 " has PAE = 0", g->cr4);
    if (!g->ia32e && (g->cr4 & VTX_CR4_PCIDE))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CR4_PCIDE, 0,
                               "\"IA-32e mode guest\" = 0 but guest CR4 0x%" PRIx64 " has PCIDE (bit 17) = 1",
                               g->cr4);
    unsigned width = g->m->profile.phys_addr_width;
    if (g->cr3 >> width)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CR3_WIDTH, 0,
                               "guest CR3 0x%" PRIx64 " sets bits beyond the %u-bit physical-address width", g->cr3,
                               width);
    uint64_t dr7 = get(g, VTX_SLOT_GUEST_DR7);
    if ((g->entry & VTX_ENTRY_LOAD_DEBUG_CONTROLS) && (dr7 >> 32))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_DR7_HIGH, 0,
                               "guest DR7 0x%" PRIx64 " has bits 63:32 set (\"load debug controls\" = 1)", dr7);
    uint64_t esp = get(g, VTX_SLOT_GUEST_IA32_SYSENTER_ESP), eip = get(g, VTX_SLOT_GUEST_IA32_SYSENTER_EIP);
    if (!canonical(esp))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SYSENTER_ESP, 0,
                               "guest IA32_SYSENTER_ESP 0x%" PRIx64 " is not canonical", esp);
    if (!canonical(eip))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SYSENTER_EIP, 0,
                               "guest IA32_SYSENTER_EIP 0x%" PRIx64 " is not canonical", eip);
    return true;
}

static bool pat_type_ok(unsigned t) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || t == 7; }

static bool check_loaded_msrs(const guest *g, vtx_entry_fail *fail)
{
    if (g->entry & VTX_ENTRY_LOAD_PERF_GLOBAL_CTRL) {
        uint64_t v = get(g, VTX_SLOT_GUEST_IA32_PERF_GLOBAL_CTRL);
        if (v & ~PERF_GLOBAL_VALID)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_PERF_GLOBAL_RESERVED, 0,
                                   "guest IA32_PERF_GLOBAL_CTRL 0x%" PRIx64 " sets reserved bit %d", v,
                                   __builtin_ctzll(v & ~PERF_GLOBAL_VALID));
    }
    if (g->entry & VTX_ENTRY_LOAD_PAT) {
        uint64_t pat = get(g, VTX_SLOT_GUEST_IA32_PAT);
        for (int i = 0; i < 8; i++) {
            unsigned t = (unsigned)(pat >> (8 * i)) & 0xFF;
            if (!pat_type_ok(t))
                return vtx_entry_failf(fail, VTX_CHECK_GUEST_PAT, 0,
                                       "guest IA32_PAT 0x%" PRIx64 " entry PA%d is 0x%x, not a memory type "
                                       "(0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-)",
                                       pat, i, t);
        }
    }
    if (g->entry & VTX_ENTRY_LOAD_EFER) {
        uint64_t efer = get(g, VTX_SLOT_GUEST_IA32_EFER);
        bool lma = efer & VTX_EFER_LMA, lme = efer & VTX_EFER_LME;
        if (efer & ~VTX_EFER_DEFINED)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_EFER_RESERVED, 0,
                                   "guest IA32_EFER 0x%" PRIx64 " sets reserved bit %d", efer,
                                   __builtin_ctzll(efer & ~VTX_EFER_DEFINED));
        if (lma != g->ia32e)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_EFER_LMA, 0,
                                   "guest IA32_EFER 0x%" PRIx64 " has LMA = %d but \"IA-32e mode guest\" = %d", efer,
                                   lma, g->ia32e);
        if ((g->cr0 & VTX_CR0_PG) && lme != lma)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_EFER_LME, 0,
                                   "guest IA32_EFER 0x%" PRIx64 " has LME = %d but LMA = %d with guest CR0.PG = 1",
                                   efer, lme, lma);
    }
    if (g->entry & VTX_ENTRY_LOAD_BNDCFGS) {
        uint64_t v = get(g, VTX_SLOT_GUEST_IA32_BNDCFGS);
        if (v & 0xFFCu)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_BNDCFGS_RESERVED, 0,
                                   "guest IA32_BNDCFGS 0x%" PRIx64 " sets reserved bits 11:2", v);
        if (!canonical(v & ~(uint64_t)0xFFF))
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_BNDCFGS_CANONICAL, 0,
                                   "guest IA32_BNDCFGS 0x%" PRIx64 ": bound-directory base 0x%" PRIx64
                                   " is not canonical",
                                   v, v & ~(uint64_t)0xFFF);
    }
    return true;
}

/* ---- SDM "Checks on Guest Segment Registers" ---- */

static bool check_seg_selectors(const guest *g, vtx_entry_fail *fail)
{
    const seg *tr = &g->s[SEG_TR], *ldtr = &g->s[SEG_LDTR], *cs = &g->s[SEG_CS], *ss = &g->s[SEG_SS];
    if (tr->sel & 4)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_TR_SEL_TI, 0,
                               "guest TR selector 0x%x has TI = 1 (the TSS descriptor must be in the GDT)", tr->sel);
    if (usable(ldtr) && (ldtr->sel & 4))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_LDTR_SEL_TI, 0,
                               "guest LDTR is usable and its selector 0x%x has TI = 1", ldtr->sel);
    if (!g->v86 && !g->ug && (ss->sel & 3) != (cs->sel & 3))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SS_RPL_CS_RPL, 0,
                               "guest SS selector 0x%x has RPL %u but CS selector 0x%x has RPL %u (no "
                               "unrestricted guest, not virtual-8086)",
                               ss->sel, ss->sel & 3u, cs->sel, cs->sel & 3u);
    return true;
}

static bool check_seg_bases(const guest *g, vtx_entry_fail *fail)
{
    static const int vseg[] = {SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};
    if (g->v86) {
        for (size_t i = 0; i < sizeof vseg / sizeof vseg[0]; i++) {
            const seg *s = &g->s[vseg[i]];
            if (s->base != (uint64_t)s->sel << 4)
                return vtx_entry_failf(fail, VTX_CHECK_GUEST_V86_SEG_BASE, 0,
                                       "virtual-8086 guest (RFLAGS.VM = 1): %s base 0x%" PRIx64
                                       " is not selector 0x%x times 16",
                                       s->name, s->base, s->sel);
        }
    }
    static const int cseg[] = {SEG_TR, SEG_FS, SEG_GS, SEG_LDTR};
    for (size_t i = 0; i < sizeof cseg / sizeof cseg[0]; i++) {
        const seg *s = &g->s[cseg[i]];
        if (cseg[i] == SEG_LDTR && !usable(s))
            continue;
        if (!canonical(s->base))
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_BASE_CANONICAL, 0,
                                   "guest %s base 0x%" PRIx64 " is not canonical", s->name, s->base);
    }
    static const int hseg[] = {SEG_CS, SEG_SS, SEG_DS, SEG_ES};
    for (size_t i = 0; i < sizeof hseg / sizeof hseg[0]; i++) {
        const seg *s = &g->s[hseg[i]];
        if (hseg[i] != SEG_CS && !usable(s))
            continue;
        if (s->base >> 32)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_BASE_HIGH, 0,
                                   "guest %s base 0x%" PRIx64 " has bits 63:32 set%s", s->name, s->base,
                                   hseg[i] == SEG_CS ? "" : " (the register is usable)");
    }
    return true;
}

static bool check_seg_limits(const guest *g, vtx_entry_fail *fail)
{
    if (!g->v86)
        return true;
    static const int vseg[] = {SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};
    for (size_t i = 0; i < sizeof vseg / sizeof vseg[0]; i++) {
        const seg *s = &g->s[vseg[i]];
        if (s->limit != 0xFFFF)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_V86_SEG_LIMIT, 0,
                                   "virtual-8086 guest (RFLAGS.VM = 1): %s limit 0x%x is not 0xFFFF", s->name,
                                   s->limit);
    }
    return true;
}

/* True when the G bit agrees with the limit (SDM: limit[11:0] not all ones
 * requires G = 0; limit[31:20] not all zero requires G = 1). */
static bool g_limit_ok(const seg *s)
{
    if ((s->limit & 0xFFF) != 0xFFF && vtx_ar_g(s->ar))
        return false;
    if ((s->limit & 0xFFF00000u) && !vtx_ar_g(s->ar))
        return false;
    return true;
}

static bool fail_g_limit(const seg *s, vtx_entry_fail *fail)
{
    return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_AR_G_LIMIT, 0,
                           "guest %s limit 0x%x with access rights 0x%x: G = %u but %s", s->name, s->limit, s->ar,
                           vtx_ar_g(s->ar),
                           vtx_ar_g(s->ar) ? "limit bits 11:0 are not all 1 (G must be 0)"
                                       : "limit bits 31:20 are not all 0 (G must be 1)");
}

static bool v86_ar(const guest *g, vtx_entry_fail *fail)
{
    static const int vseg[] = {SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};
    for (size_t i = 0; i < sizeof vseg / sizeof vseg[0]; i++) {
        const seg *s = &g->s[vseg[i]];
        if (s->ar != 0xF3)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_V86_SEG_AR, 0,
                                   "virtual-8086 guest (RFLAGS.VM = 1): %s access rights 0x%x are not 0xF3 (usable "
                                   "present accessed read/write data, DPL 3)",
                                   s->name, s->ar);
    }
    return true;
}

/* CS, SS, DS, ES, FS, GS outside virtual-8086 mode, sub-field by sub-field. */
static bool check_code_data_ar(const guest *g, vtx_entry_fail *fail)
{
    static const int order[] = {SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};
    const size_t n = sizeof order / sizeof order[0];
    const seg *cs = &g->s[SEG_CS], *ss = &g->s[SEG_SS];
    unsigned cs_type = vtx_ar_type(cs->ar);

    /* Type. */
    bool cs_code = cs_type == 9 || cs_type == 11 || cs_type == 13 || cs_type == 15;
    if (!cs_code && !(g->ug && cs_type == 3))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CS_AR_TYPE, 0,
                               "guest CS access rights 0x%x: type %u is not an accessed code segment (9, 11, 13, "
                               "15)%s",
                               cs->ar, cs_type, g->ug ? " or 3 (accessed read/write data)" : "");
    if (usable(ss) && vtx_ar_type(ss->ar) != 3 && vtx_ar_type(ss->ar) != 7)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SS_AR_TYPE, 0,
                               "guest SS access rights 0x%x: type %u is not 3 or 7 (accessed read/write data)",
                               ss->ar, vtx_ar_type(ss->ar));
    for (size_t i = 2; i < n; i++) {
        const seg *s = &g->s[order[i]];
        unsigned t = vtx_ar_type(s->ar);
        if (!usable(s))
            continue;
        if (!(t & 1))
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_DATA_SEG_AR_TYPE, 0,
                                   "guest %s access rights 0x%x: type %u is not accessed (bit 0 = 0)", s->name,
                                   s->ar, t);
        if ((t & 8) && !(t & 2))
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_DATA_SEG_AR_TYPE, 0,
                                   "guest %s access rights 0x%x: type %u is an execute-only code segment (must be "
                                   "readable)",
                                   s->name, s->ar, t);
    }
    /* S. */
    for (size_t i = 0; i < n; i++) {
        const seg *s = &g->s[order[i]];
        if ((order[i] == SEG_CS || usable(s)) && !vtx_ar_s(s->ar))
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_AR_S, 0,
                                   "guest %s access rights 0x%x: S = 0 (must be a code or data segment)", s->name,
                                   s->ar);
    }
    /* DPL. */
    if (cs_type == 3 && vtx_ar_dpl(cs->ar) != 0)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CS_AR_DPL_TYPE3, 0,
                               "guest CS access rights 0x%x: type 3 (unrestricted guest) with DPL %u, must be 0",
                               cs->ar, vtx_ar_dpl(cs->ar));
    if ((cs_type == 9 || cs_type == 11) && vtx_ar_dpl(cs->ar) != vtx_ar_dpl(ss->ar))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CS_AR_DPL_NONCONF, 0,
                               "guest CS access rights 0x%x: non-conforming code with DPL %u, but SS.DPL is %u",
                               cs->ar, vtx_ar_dpl(cs->ar), vtx_ar_dpl(ss->ar));
    if ((cs_type == 13 || cs_type == 15) && vtx_ar_dpl(cs->ar) > vtx_ar_dpl(ss->ar))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CS_AR_DPL_CONF, 0,
                               "guest CS access rights 0x%x: conforming code with DPL %u greater than SS.DPL %u",
                               cs->ar, vtx_ar_dpl(cs->ar), vtx_ar_dpl(ss->ar));
    if (!g->ug && vtx_ar_dpl(ss->ar) != (ss->sel & 3u))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SS_AR_DPL_RPL, 0,
                               "guest SS access rights 0x%x: DPL %u differs from the selector 0x%x RPL %u (no "
                               "unrestricted guest)",
                               ss->ar, vtx_ar_dpl(ss->ar), ss->sel, ss->sel & 3u);
    if ((cs_type == 3 || !(g->cr0 & VTX_CR0_PE)) && vtx_ar_dpl(ss->ar) != 0)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SS_AR_DPL_ZERO, 0,
                               "guest SS access rights 0x%x: DPL %u, must be 0 when %s", ss->ar, vtx_ar_dpl(ss->ar),
                               cs_type == 3 ? "CS type is 3" : "CR0.PE = 0");
    for (size_t i = 2; i < n && !g->ug; i++) {
        const seg *s = &g->s[order[i]];
        if (usable(s) && vtx_ar_type(s->ar) <= 11 && vtx_ar_dpl(s->ar) < (s->sel & 3u))
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_DATA_SEG_AR_DPL_RPL, 0,
                                   "guest %s access rights 0x%x: DPL %u is less than the selector 0x%x RPL %u", s->name,
                                   s->ar, vtx_ar_dpl(s->ar), s->sel, s->sel & 3u);
    }
    /* P, then reserved bits 11:8 and 31:17. */
    for (size_t i = 0; i < n; i++) {
        const seg *s = &g->s[order[i]];
        if ((order[i] == SEG_CS || usable(s)) && !vtx_ar_p(s->ar))
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_AR_P, 0, "guest %s access rights 0x%x: P = 0", s->name,
                                   s->ar);
    }
    for (size_t i = 0; i < n; i++) {
        const seg *s = &g->s[order[i]];
        if ((order[i] == SEG_CS || usable(s)) && (s->ar & VTX_AR_RESERVED))
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_AR_RESERVED, 0,
                                   "guest %s access rights 0x%x set reserved bits (11:8 or 31:17)", s->name, s->ar);
    }
    /* D/B of a 64-bit code segment. */
    if (g->ia32e && vtx_ar_l(cs->ar) && vtx_ar_db(cs->ar))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_CS_AR_L_DB, 0,
                               "guest CS access rights 0x%x: L = 1 and D/B = 1 in an IA-32e mode guest", cs->ar);
    /* G against the limit. */
    for (size_t i = 0; i < n; i++) {
        const seg *s = &g->s[order[i]];
        if ((order[i] == SEG_CS || usable(s)) && !g_limit_ok(s))
            return fail_g_limit(s, fail);
    }
    return true;
}

static bool check_tr_ar(const guest *g, vtx_entry_fail *fail)
{
    const seg *tr = &g->s[SEG_TR];
    unsigned t = vtx_ar_type(tr->ar);
    if (!(t == 11 || (t == 3 && !g->ia32e)))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_TR_AR_TYPE, 0,
                               "guest TR access rights 0x%x: type %u, must be %s", tr->ar, t,
                               g->ia32e ? "11 (busy 64-bit TSS) in an IA-32e mode guest"
                                        : "3 or 11 (busy 16-bit or 32-bit TSS)");
    if (vtx_ar_s(tr->ar))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_TR_AR_S, 0,
                               "guest TR access rights 0x%x: S = 1 (a TSS is a system segment)", tr->ar);
    if (!vtx_ar_p(tr->ar))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_AR_P, 0, "guest TR access rights 0x%x: P = 0", tr->ar);
    if (tr->ar & 0xF00u)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_AR_RESERVED, 0,
                               "guest TR access rights 0x%x set reserved bits 11:8", tr->ar);
    if (!g_limit_ok(tr))
        return fail_g_limit(tr, fail);
    if (vtx_ar_unusable(tr->ar))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_TR_UNUSABLE, 0,
                               "guest TR access rights 0x%x: unusable (bit 16) = 1; TR must be usable", tr->ar);
    if (tr->ar & 0xFFFE0000u)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_AR_RESERVED, 0,
                               "guest TR access rights 0x%x set reserved bits 31:17", tr->ar);
    return true;
}

static bool check_ldtr_ar(const guest *g, vtx_entry_fail *fail)
{
    const seg *l = &g->s[SEG_LDTR];
    if (!usable(l))
        return true;
    if (vtx_ar_type(l->ar) != 2)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_LDTR_AR_TYPE, 0,
                               "guest LDTR access rights 0x%x: usable with type %u, must be 2 (LDT)", l->ar,
                               vtx_ar_type(l->ar));
    if (vtx_ar_s(l->ar))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_LDTR_AR_S, 0,
                               "guest LDTR access rights 0x%x: S = 1 (an LDT is a system segment)", l->ar);
    if (!vtx_ar_p(l->ar))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_AR_P, 0, "guest LDTR access rights 0x%x: P = 0", l->ar);
    if (l->ar & 0xF00u)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_AR_RESERVED, 0,
                               "guest LDTR access rights 0x%x set reserved bits 11:8", l->ar);
    if (!g_limit_ok(l))
        return fail_g_limit(l, fail);
    if (l->ar & 0xFFFE0000u)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_SEG_AR_RESERVED, 0,
                               "guest LDTR access rights 0x%x set reserved bits 31:17", l->ar);
    return true;
}

static bool check_seg_access_rights(const guest *g, vtx_entry_fail *fail)
{
    if (g->v86 ? !v86_ar(g, fail) : !check_code_data_ar(g, fail))
        return false;
    return check_tr_ar(g, fail) && check_ldtr_ar(g, fail);
}

/* ---- SDM "Checks on Guest Descriptor-Table Registers" ---- */

static bool check_dtrs(const guest *g, vtx_entry_fail *fail)
{
    uint64_t gb = get(g, VTX_SLOT_GUEST_GDTR_BASE), ib = get(g, VTX_SLOT_GUEST_IDTR_BASE);
    uint64_t gl = get(g, VTX_SLOT_GUEST_GDTR_LIMIT), il = get(g, VTX_SLOT_GUEST_IDTR_LIMIT);
    if (!canonical(gb))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_DTR_BASE_CANONICAL, 0,
                               "guest GDTR base 0x%" PRIx64 " is not canonical", gb);
    if (!canonical(ib))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_DTR_BASE_CANONICAL, 0,
                               "guest IDTR base 0x%" PRIx64 " is not canonical", ib);
    if (gl >> 16)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_DTR_LIMIT, 0,
                               "guest GDTR limit 0x%" PRIx64 " has bits 31:16 set", gl);
    if (il >> 16)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_DTR_LIMIT, 0,
                               "guest IDTR limit 0x%" PRIx64 " has bits 31:16 set", il);
    return true;
}

/* ---- SDM "Checks on Guest RIP and RFLAGS" (ENT-GS-1) ---- */

static bool check_rip_rflags(const guest *g, vtx_entry_fail *fail)
{
    uint64_t rip = get(g, VTX_SLOT_GUEST_RIP);
    bool mode64 = g->ia32e && vtx_ar_l(g->s[SEG_CS].ar);
    if (!mode64 && (rip >> 32))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_RIP_HIGH, 0,
                               "guest RIP 0x%" PRIx64 " has bits 63:32 set but the guest is not in 64-bit mode "
                               "(\"IA-32e mode guest\" = %d, CS.L = %u)",
                               rip, g->ia32e, vtx_ar_l(g->s[SEG_CS].ar));
    /* SDM: with N linear-address bits, bits 63:N must be identical (bit N-1 is
     * not compared, so this is weaker than "canonical"). */
    uint64_t top = rip >> LINEAR_WIDTH;
    if (mode64 && top != 0 && top != (~0ull >> LINEAR_WIDTH))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_RIP_LINEAR_WIDTH, 0,
                               "64-bit guest RIP 0x%" PRIx64 ": bits 63:%u are not all equal", rip, LINEAR_WIDTH);
    if (g->rflags & VTX_RFLAGS_RESERVED)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_RFLAGS_RESERVED, 0,
                               "guest RFLAGS 0x%" PRIx64 " sets reserved bit %d (63:22, 15, 5, 3 must be 0)",
                               g->rflags, __builtin_ctzll(g->rflags & VTX_RFLAGS_RESERVED));
    if (!(g->rflags & 2))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_RFLAGS_BIT1, 0,
                               "guest RFLAGS 0x%" PRIx64 " has bit 1 clear (it must be 1)", g->rflags);
    if (g->v86 && (g->ia32e || !(g->cr0 & VTX_CR0_PE)))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_RFLAGS_VM, 0,
                               "guest RFLAGS 0x%" PRIx64 " has VM = 1 %s", g->rflags,
                               g->ia32e ? "in an IA-32e mode guest" : "with guest CR0.PE = 0");
    if (injecting(g, INTR_TYPE_EXT) && !(g->rflags & VTX_RFLAGS_IF))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_RFLAGS_IF_EXTINT, 0,
                               "injecting external interrupt vector %u with guest RFLAGS 0x%" PRIx64 " IF = 0",
                               g->inj_vector, g->rflags);
    return true;
}


bool vtx_entry_check_guest_parts(const vtx_machine *m, const vtx_vmcs_values *f, unsigned parts,
                                 vtx_entry_fail *fail)
{
    guest g;
    decode(&g, m, f);
    if (parts & VTX_EG_PART_REST) /* the SDM's order: the first failing check names the failure */
        return check_cr0_cr4(&g, fail) && check_debugctl(&g, fail) && check_intel64_regs(&g, fail) &&
               check_loaded_msrs(&g, fail) && check_seg_selectors(&g, fail) && check_seg_bases(&g, fail) &&
               check_seg_limits(&g, fail) && check_seg_access_rights(&g, fail) && check_dtrs(&g, fail) &&
               check_rip_rflags(&g, fail) && vtx_eg_check_activity(&g, fail) &&
               vtx_eg_check_interruptibility(&g, fail) && vtx_eg_check_pending_debug(&g, fail) &&
               vtx_eg_check_link_pointer(&g, fail) && vtx_eg_check_pdptes(&g, fail);
    return (!(parts & VTX_EG_PART_RIP) || check_rip_rflags(&g, fail)) &&
           (!(parts & VTX_EG_PART_MEMORY) || (vtx_eg_check_link_pointer(&g, fail) && vtx_eg_check_pdptes(&g, fail)));
}

bool vtx_entry_check_guest(const vtx_machine *m, const vtx_vmcs_values *f, vtx_entry_fail *fail)
{
    return vtx_entry_check_guest_parts(m, f, VTX_EG_PART_ALL, fail);
}
