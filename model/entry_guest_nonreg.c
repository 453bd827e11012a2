/*
 * VM-entry checks on the guest's non-register state and its PDPTEs: SDM Vol. 3
 * "Checks on Guest Non-Register State" (activity state, interruptibility state,
 * pending debug exceptions, VMCS link pointer; catalogue ENT-GS-2..15) and
 * "Checks on Guest Page-Directory-Pointer-Table Entries". The rest of the
 * guest-state checks, and the order they run in, are in entry_guest.c.
 */
#include <inttypes.h>
#include "entry_guest.h"

/* ---- SDM "Checks on Guest Non-Register State" (ENT-GS-2..15) ---- */

static const char *activity_name(uint32_t a)
{
    static const char *const names[] = {"active", "HLT", "shutdown", "wait-for-SIPI"};
    return a < 4 ? names[a] : "reserved";
}

/* ENT-GS-5: may the event be injected into the activity state? */
static bool event_allowed(const guest *g)
{
    switch (g->activity) {
    case ACT_HLT:
        return g->inj_type == INTR_TYPE_EXT || g->inj_type == INTR_TYPE_NMI ||
               (g->inj_type == INTR_TYPE_HW_EXC && (g->inj_vector == 1 || g->inj_vector == 18)) ||
               (g->inj_type == INTR_TYPE_OTHER && g->inj_vector == 0);
    case ACT_SHUTDOWN:
        return g->inj_type == INTR_TYPE_NMI || (g->inj_type == INTR_TYPE_HW_EXC && g->inj_vector == 18);
    case ACT_WAIT_SIPI:
        return false;
    default:
        return true;
    }
}

bool vtx_eg_check_activity(const guest *g, vtx_entry_fail *fail)
{
    uint32_t a = g->activity;
    if (a > ACT_WAIT_SIPI)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_ACT_STATE_RANGE, 0,
                               "guest activity state %u is not 0 (active), 1 (HLT), 2 (shutdown) or 3 "
                               "(wait-for-SIPI)",
                               a);
    uint64_t misc = g->m->profile.msr[VTX_CAP_IA32_VMX_MISC];
    if (a != ACT_ACTIVE && !((misc >> (5 + a)) & 1))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_ACT_STATE_UNSUPPORTED, 0,
                               "guest activity state %u (%s) is not supported: IA32_VMX_MISC 0x%" PRIx64
                               " bit %u is 0",
                               a, activity_name(a), misc, 5 + a);
    const seg *ss = &g->s[SEG_SS];
    if (a == ACT_HLT && vtx_ar_dpl(ss->ar) != 0)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_ACT_HLT_SS_DPL, 0,
                               "guest activity state HLT with SS access rights 0x%x DPL %u (HLT needs CPL 0, SS.DPL "
                               "= 0)",
                               ss->ar, vtx_ar_dpl(ss->ar));
    if (a != ACT_ACTIVE && (g->intr & (INTR_STI | INTR_MOVSS)))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_ACT_NOT_ACTIVE_SHADOW, 0,
                               "guest activity state %u (%s) with interruptibility 0x%x blocking by %s; the activity "
                               "state must be active (a VMM emulating STI; HLT must clear bit 0)",
                               a, activity_name(a), g->intr, (g->intr & INTR_STI) ? "STI" : "MOV SS");
    if (g->inject && !event_allowed(g)) {
        vtx_check c = a == ACT_HLT        ? VTX_CHECK_GUEST_ACT_HLT_EVENT
                      : a == ACT_SHUTDOWN ? VTX_CHECK_GUEST_ACT_SHUTDOWN_EVENT
                                          : VTX_CHECK_GUEST_ACT_SIPI_EVENT;
        return vtx_entry_failf(fail, c, 0,
                               "injecting type %u vector %u into activity state %u (%s), where that event is "
                               "blocked",
                               g->inj_type, g->inj_vector, a, activity_name(a));
    }
    if (a == ACT_WAIT_SIPI && (g->entry & VTX_ENTRY_ENTRY_TO_SMM))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_ACT_SIPI_SMM, 0,
                               "guest activity state wait-for-SIPI with \"entry to SMM\" = 1");
    return true;
}

bool vtx_eg_check_interruptibility(const guest *g, vtx_entry_fail *fail)
{
    uint32_t i = g->intr;
    if (i & ~0x1Fu)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_RESERVED, 0,
                               "guest interruptibility state 0x%x sets reserved bits 31:5", i);
    if ((i & INTR_STI) && (i & INTR_MOVSS))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_STI_AND_MOVSS, 0,
                               "guest interruptibility state 0x%x has both blocking by STI (bit 0) and by MOV SS "
                               "(bit 1)",
                               i);
    if ((i & INTR_STI) && !(g->rflags & VTX_RFLAGS_IF))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_STI_IF0, 0,
                               "guest interruptibility state 0x%x has blocking by STI but RFLAGS 0x%" PRIx64
                               " has IF = 0",
                               i, g->rflags);
    if (injecting(g, INTR_TYPE_EXT) && (i & (INTR_STI | INTR_MOVSS)))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_EXTINT_SHADOW, 0,
                               "injecting external interrupt vector %u with interruptibility 0x%x (blocking by %s)",
                               g->inj_vector, i, (i & INTR_STI) ? "STI" : "MOV SS");
    if (injecting(g, INTR_TYPE_NMI) && (i & INTR_MOVSS))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_NMI_MOVSS, 0,
                               "injecting an NMI with interruptibility 0x%x (blocking by MOV SS)", i);
    if (injecting(g, INTR_TYPE_NMI) && (i & INTR_STI) && (g->m->profile.knobs & VTX_KNOB_NMI_STI_ENTRY))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_NMI_STI, 3,
                               "injecting an NMI with interruptibility 0x%x (blocking by STI); this processor "
                               "requires bit 0 = 0 (CFG-NMI-STI-ENTRY), exit qualification 3",
                               i);
    /* The model is never in SMM. */
    if (i & INTR_SMI)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_SMI_NOT_SMM, 0,
                               "guest interruptibility state 0x%x has blocking by SMI (bit 2) outside SMM", i);
    if ((g->entry & VTX_ENTRY_ENTRY_TO_SMM) && !(i & INTR_SMI))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_SMI_ENTRY_SMM, 0,
                               "\"entry to SMM\" = 1 but guest interruptibility state 0x%x has blocking by SMI (bit "
                               "2) = 0",
                               i);
    if ((g->pin & VTX_PIN_VIRTUAL_NMIS) && injecting(g, INTR_TYPE_NMI) && (i & INTR_NMI))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_VNMI_BLOCKED, 0,
                               "injecting an NMI with \"virtual NMIs\" = 1 and interruptibility 0x%x (virtual-NMI "
                               "blocking, bit 3)",
                               i);
    if ((i & INTR_ENCLAVE) && (i & INTR_MOVSS))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_ENCLAVE_MOVSS, 0,
                               "guest interruptibility state 0x%x has enclave interruption (bit 4) with blocking by "
                               "MOV SS",
                               i);
    if ((i & INTR_ENCLAVE) && !vtx_profile_has_feature(&g->m->profile, VTX_FEAT_ENCLS))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_INTR_ENCLAVE_NO_SGX, 0,
                               "guest interruptibility state 0x%x has enclave interruption (bit 4) but the processor "
                               "has no SGX",
                               i);
    return true;
}

bool vtx_eg_check_pending_debug(const guest *g, vtx_entry_fail *fail)
{
    uint64_t p = get(g, VTX_SLOT_GUEST_PENDING_DBG_EXCEPTIONS);
    const uint64_t reserved = 0xFFFFFFFFFFFEAFF0ull; /* 63:17, 15, 13, 11:4 */
    if (p & reserved)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_PENDING_DBG_RESERVED, 0,
                               "guest pending debug exceptions 0x%" PRIx64 " set reserved bit %d", p,
                               __builtin_ctzll(p & reserved));
    if ((g->intr & (INTR_STI | INTR_MOVSS)) || g->activity == ACT_HLT) {
        bool tf = g->rflags & VTX_RFLAGS_TF;
        bool btf = get(g, VTX_SLOT_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF;
        bool bs = (p >> 14) & 1;
        const char *why = g->activity == ACT_HLT ? "activity state HLT" : "blocking by STI or MOV SS";
        if (tf && !btf && !bs)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_PENDING_DBG_BS_CLEAR, 0,
                                   "%s with RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0, but pending debug exceptions "
                                   "0x%" PRIx64 " have BS (bit 14) = 0 (the single-step trap would be lost)",
                                   why, p);
        if ((!tf || btf) && bs)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_PENDING_DBG_BS_SET, 0,
                                   "%s with RFLAGS.TF = %d and IA32_DEBUGCTL.BTF = %d, but pending debug exceptions "
                                   "0x%" PRIx64 " have BS (bit 14) = 1",
                                   why, tf, btf, p);
    }
    /* No profile enumerates RTM (CPUID.(EAX=07H,ECX=0):EBX[11]), so bit 16 cannot be 1. */
    if (p & (1ull << 16))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_PENDING_DBG_RTM, 0,
                               "guest pending debug exceptions 0x%" PRIx64 " set bit 16 (RTM) but the processor "
                               "does not support RTM",
                               p);
    return true;
}

bool vtx_eg_check_link_pointer(const guest *g, vtx_entry_fail *fail)
{
    const vtx_machine *m = g->m;
    uint64_t link = get(g, VTX_SLOT_VMCS_LINK_POINTER);
    if (link == ~0ull)
        return true;
    if (link & 0xFFF)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_LINK_PTR_ALIGN, 4,
                               "VMCS link pointer 0x%" PRIx64 " is not 4-KiB aligned (and not all ones)", link);
    if (!vtx_vmx_addr_ok(m, link))
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_LINK_PTR_WIDTH, 4,
                               "VMCS link pointer 0x%" PRIx64 " sets bits beyond the %u-bit physical-address width",
                               link, vtx_vmx_addr_width(m));
    uint32_t rev;
    vtx_diag d = {0};
    if (vtx_mem_read(m, link, &rev, sizeof rev, &d) != VTX_OK)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_LINK_PTR_UNMAPPED, 4,
                               "VMCS link pointer 0x%" PRIx64 ": the revision identifier cannot be read (%.120s)",
                               link, d.message);
    uint32_t want = vtx_basic_revision(m->profile.msr[VTX_CAP_IA32_VMX_BASIC]);
    if ((rev & 0x7FFFFFFFu) != want)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_LINK_PTR_REVISION, 4,
                               "VMCS link region 0x%" PRIx64 " has revision identifier 0x%x, but IA32_VMX_BASIC "
                               "says 0x%x",
                               link, rev & 0x7FFFFFFFu, want);
    bool shadowing = g->proc2 & VTX_PROC2_VMCS_SHADOWING;
    if ((bool)(rev >> 31) != shadowing)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_LINK_PTR_SHADOW, 4,
                               "VMCS link region 0x%" PRIx64 " has shadow-VMCS indicator (bit 31) = %u but \"VMCS "
                               "shadowing\" = %d",
                               link, rev >> 31, shadowing);
    /* Outside SMM the link pointer must not be the current VMCS (the SMM
     * variant, against the executive-VMCS pointer, is not modelled). */
    if (m->current && link == m->current->pa)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_LINK_PTR_CURRENT, 4,
                               "VMCS link pointer 0x%" PRIx64 " is the current-VMCS pointer", link);
    return true;
}

/* ---- SDM "Checks on Guest Page-Directory-Pointer-Table Entries" ---- */

static uint64_t pdpte_reserved(const guest *g)
{
    /* Bits 2:1, 8:5 and 63:MAXPHYADDR of a present PDPTE (PAE paging). */
    return 0x1E6ull | (~0ull << g->m->profile.phys_addr_width);
}

bool vtx_eg_check_pdptes(const guest *g, vtx_entry_fail *fail)
{
    if (!((g->cr0 & VTX_CR0_PG) && (g->cr4 & VTX_CR4_PAE) && !g->ia32e))
        return true;
    uint64_t rsvd = pdpte_reserved(g), pdpte[4];
    if (g->ept) {
        static const enum vtx_slot slot[4] = {VTX_SLOT_GUEST_PDPTE0, VTX_SLOT_GUEST_PDPTE1, VTX_SLOT_GUEST_PDPTE2,
                                              VTX_SLOT_GUEST_PDPTE3};
        for (int i = 0; i < 4; i++) {
            uint64_t e = get(g, slot[i]);
            if ((e & 1) && (e & rsvd))
                return vtx_entry_failf(fail, VTX_CHECK_GUEST_PDPTE_FIELD_RESERVED, 2,
                                       "guest PDPTE%d field 0x%" PRIx64 " is present and sets reserved bit %d (PAE "
                                       "paging with EPT)",
                                       i, e, __builtin_ctzll(e & rsvd));
        }
        return true;
    }
    uint64_t table = g->cr3 & 0xFFFFFFE0ull;
    vtx_diag d = {0};
    if (vtx_mem_read(g->m, table, pdpte, sizeof pdpte, &d) != VTX_OK)
        return vtx_entry_failf(fail, VTX_CHECK_GUEST_PDPTE_UNMAPPED, 2,
                               "PAE paging: the PDPTEs at 0x%" PRIx64 " (guest CR3 0x%" PRIx64
                               ") cannot be read (%.100s)",
                               table, g->cr3, d.message);
    for (int i = 0; i < 4; i++) {
        if ((pdpte[i] & 1) && (pdpte[i] & rsvd))
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_PDPTE_RESERVED, 2,
                                   "PAE paging: PDPTE%d 0x%" PRIx64 " at 0x%" PRIx64 " is present and sets reserved "
                                   "bit %d",
                                   i, pdpte[i], table + 8u * (unsigned)i, __builtin_ctzll(pdpte[i] & rsvd));
    }
    return true;
}
