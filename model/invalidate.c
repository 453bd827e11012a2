/* INVEPT and INVVPID (SDM Vol. 3 VMX instruction reference; catalogue L.3 error 28).
 * The model keeps no TLB yet, so a successful invalidation only validates its operands. */
#include "machine_internal.h"

#define CAP_INVEPT (1ull << 20)
#define CAP_INVEPT_TYPE(t) (1ull << (24 + (t))) /* 25 single-context, 26 all-context */
#define CAP_INVVPID (1ull << 32)
#define CAP_INVVPID_TYPE(t) (1ull << (40 + (t))) /* 40 individual address ... 43 */

static uint64_t ept_cap(const vtx_machine *m)
{
    uint64_t v = 0;
    return vtx_profile_read_msr(&m->profile, VTX_MSR_IA32_VMX_EPT_VPID_CAP, &v) == VTX_OK ? v : 0;
}

vtx_status vtx_invept(vtx_machine *m, uint64_t type, const vtx_invept_desc *desc, vtx_insn_result *r)
{
    if (!m || !r || !desc)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    uint64_t cap = ept_cap(m);
    if (m->vmx_on && (!vtx_profile_has_feature(&m->profile, VTX_FEAT_EPT) || !(cap & CAP_INVEPT))) {
        vtx_fault(r, VTX_VECTOR_UD, VTX_CHECK_UD_INSN_UNSUPPORTED,
                  "INVEPT raises #UD: the processor does not support EPT or INVEPT");
        return VTX_OK;
    }
    if (vtx_vmx_insn_faults(m, r, "INVEPT"))
        return VTX_OK;
    if (!vtx_root_64bit(&m->root))
        type &= 0xFFFFFFFFu;
    if (type > 3 || !(cap & CAP_INVEPT_TYPE(type))) {
        vtx_vmfail(m, r, VTX_VMERR_INVALID_INVEPT_INVVPID, VTX_CHECK_INVEPT_TYPE,
                   "INVEPT type %llu is not supported by IA32_VMX_EPT_VPID_CAP", (unsigned long long)type);
        return VTX_OK;
    }
    const char *why;
    if (type == VTX_INVEPT_SINGLE_CONTEXT && !vtx_eptp_valid(m, desc->eptp, &why)) {
        vtx_vmfail(m, r, VTX_VMERR_INVALID_INVEPT_INVVPID, VTX_CHECK_INVEPT_EPTP,
                   "INVEPT single-context with EPTP 0x%llx: %s", (unsigned long long)desc->eptp, why);
        return VTX_OK;
    }
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
    uint64_t cap = ept_cap(m);
    if (m->vmx_on && (!vtx_profile_has_feature(&m->profile, VTX_FEAT_VPID) || !(cap & CAP_INVVPID))) {
        vtx_fault(r, VTX_VECTOR_UD, VTX_CHECK_UD_INSN_UNSUPPORTED,
                  "INVVPID raises #UD: the processor does not support VPIDs or INVVPID");
        return VTX_OK;
    }
    if (vtx_vmx_insn_faults(m, r, "INVVPID"))
        return VTX_OK;
    if (!vtx_root_64bit(&m->root))
        type &= 0xFFFFFFFFu;
    if (type > 3 || !(cap & CAP_INVVPID_TYPE(type))) {
        vtx_vmfail(m, r, VTX_VMERR_INVALID_INVEPT_INVVPID, VTX_CHECK_INVVPID_TYPE,
                   "INVVPID type %llu is not supported by IA32_VMX_EPT_VPID_CAP", (unsigned long long)type);
        return VTX_OK;
    }
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
    vtx_vmsucceed(m, r);
    return VTX_OK;
}
