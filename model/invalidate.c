/* INVEPT and INVVPID (SDM Vol. 3 VMX instruction reference; catalogue L.3 error 28).
 * A successful invalidation flushes the engine's TLB (tlb.c; it is not tagged by VPID or EPTP). */
#include "machine_internal.h"

#define CAP_INVEPT (1ull << 20)
#define CAP_INVVPID (1ull << 32)

static uint64_t ept_cap(const vtx_machine *m)
{
    uint64_t v = 0;
    return vtx_profile_read_msr(&m->profile, VTX_MSR_IA32_VMX_EPT_VPID_CAP, &v) == VTX_OK ? v : 0;
}

/* What INVEPT and INVVPID check first, in the SDM's order: #UD when the
 * processor lacks the instruction (or outside VMX operation, or in the wrong
 * mode), #GP(0) at CPL > 0, then VMfail(28) for a type IA32_VMX_EPT_VPID_CAP
 * does not list (type bits 24+t for INVEPT, 40+t for INVVPID). Returns true
 * when the instruction is finished (*r holds the outcome). */
static bool invalidation_prologue(vtx_machine *m, vtx_insn_result *r, const char *insn, bool supported,
                                  uint64_t *type, unsigned type_bit0, vtx_check type_check)
{
    if (m->vmx_on && !supported) {
        vtx_fault(r, VTX_VECTOR_UD, VTX_CHECK_UD_INSN_UNSUPPORTED,
                  "%s raises #UD: the processor does not support it", insn);
        return true;
    }
    if (vtx_vmx_insn_faults(m, r, insn))
        return true;
    if (!vtx_root_64bit(&m->root))
        *type &= 0xFFFFFFFFu;
    if (*type > 3 || !(ept_cap(m) & (1ull << (type_bit0 + *type)))) {
        vtx_vmfail(m, r, VTX_VMERR_INVALID_INVEPT_INVVPID, type_check,
                   "%s type %llu is not supported by IA32_VMX_EPT_VPID_CAP", insn, (unsigned long long)*type);
        return true;
    }
    return false;
}

vtx_status vtx_invept(vtx_machine *m, uint64_t type, const vtx_invept_desc *desc, vtx_insn_result *r)
{
    if (!m || !r || !desc)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    bool supported = vtx_profile_has_feature(&m->profile, VTX_FEAT_EPT) && (ept_cap(m) & CAP_INVEPT);
    if (invalidation_prologue(m, r, "INVEPT", supported, &type, 24, VTX_CHECK_INVEPT_TYPE))
        return VTX_OK;
    const char *why;
    if (type == VTX_INVEPT_SINGLE_CONTEXT && !vtx_eptp_valid(m, desc->eptp, &why)) {
        vtx_vmfail(m, r, VTX_VMERR_INVALID_INVEPT_INVVPID, VTX_CHECK_INVEPT_EPTP,
                   "INVEPT single-context with EPTP 0x%llx: %s", (unsigned long long)desc->eptp, why);
        return VTX_OK;
    }
    vtx_tlb_flush(m); /* PG-7, EPT-INV-1/2: the engine's TLB holds combined mappings too */
    vtx_vmsucceed(m, r);
    return VTX_OK;
}

static bool canonical48(uint64_t la) { return (uint64_t)(((int64_t)(la << 16)) >> 16) == la; }

vtx_status vtx_invvpid(vtx_machine *m, uint64_t type, const vtx_invvpid_desc *desc, vtx_insn_result *r)
{
    if (!m || !r || !desc)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    bool supported = vtx_profile_has_feature(&m->profile, VTX_FEAT_VPID) && (ept_cap(m) & CAP_INVVPID);
    if (invalidation_prologue(m, r, "INVVPID", supported, &type, 40, VTX_CHECK_INVVPID_TYPE))
        return VTX_OK;
    if (desc->vpid >> 16) {
        vtx_vmfail(m, r, VTX_VMERR_INVALID_INVEPT_INVVPID, VTX_CHECK_INVVPID_DESC_RESERVED,
                   "INVVPID descriptor 0x%llx has bits 63:16 set", (unsigned long long)desc->vpid);
        return VTX_OK;
    }
    uint16_t vpid = (uint16_t)desc->vpid;
    if (type != VTX_INVVPID_ALL_CONTEXT && vpid == 0) {
        vtx_vmfail(m, r, VTX_VMERR_INVALID_INVEPT_INVVPID, VTX_CHECK_INVVPID_VPID_ZERO,
                   "INVVPID type %llu with VPID 0 (VPID 0 is the host's)", (unsigned long long)type);
        return VTX_OK;
    }
    if (type == VTX_INVVPID_INDIVIDUAL_ADDR && !canonical48(desc->linear_addr)) {
        vtx_vmfail(m, r, VTX_VMERR_INVALID_INVEPT_INVVPID, VTX_CHECK_INVVPID_NONCANONICAL,
                   "INVVPID individual-address with non-canonical address 0x%llx",
                   (unsigned long long)desc->linear_addr);
        return VTX_OK;
    }
    vtx_tlb_flush(m); /* PG-7 (the engine's TLB is not tagged by VPID: all of it) */
    vtx_vmsucceed(m, r);
    return VTX_OK;
}
