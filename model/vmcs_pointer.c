/* VMCLEAR, VMPTRLD and VMPTRST: the current-VMCS pointer and launch state
 * (SDM Vol. 3 "VMCS Status", VMX instruction reference; catalogue L.3 errors 2, 3, 9-11). */
#include "vmcs_region.h"

vtx_status vtx_vmclear(vtx_machine *m, uint64_t pa, vtx_insn_result *r)
{
    if (!m || !r)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    if (vtx_vmx_insn_faults(m, r, "VMCLEAR"))
        return VTX_OK;
    if (!vtx_vmx_addr_ok(m, pa)) {
        vtx_vmfail(m, r, VTX_VMERR_VMCLEAR_INVALID_ADDR, VTX_CHECK_VMCLEAR_ADDR, "VMCLEAR operand 0x%llx is %s",
                   (unsigned long long)pa, (pa & 0xFFF) ? "not 4-KiB aligned" : "beyond the physical-address width");
        return VTX_OK;
    }
    if (pa == m->vmxon_ptr) {
        vtx_vmfail(m, r, VTX_VMERR_VMCLEAR_VMXON_PTR, VTX_CHECK_VMCLEAR_VMXON_PTR,
                   "VMCLEAR operand 0x%llx is the VMXON region", (unsigned long long)pa);
        return VTX_OK;
    }
    /* VMCLEAR writes the VMCS data to its region, so the region must exist. */
    uint32_t probe;
    vtx_diag d;
    if (vtx_mem_read(m, pa, &probe, sizeof probe, &d) != VTX_OK) {
        snprintf(r->why, sizeof r->why, "VMCLEAR region: %.200s", d.message);
        return VTX_ERR_UNMAPPED;
    }
    vtx_vmcs *v;
    vtx_status st = vtx_vmcs_get_or_create(m, pa, &v);
    if (st != VTX_OK)
        return st;
    /* The data go to the region in the model's format, launch state clear
     * (VMCS-MEM-1, VMCS-MEM-2); the model keeps its copy for a later VMPTRLD. */
    st = vtx_vmcs_region_store(m, pa, VTX_LAUNCH_CLEAR, &v->f, &d);
    if (st != VTX_OK) {
        snprintf(r->why, sizeof r->why, "VMCLEAR region: %.200s", d.message);
        return st;
    }
    v->launch = VTX_LAUNCH_CLEAR;
    v->active = false;
    v->crossed_vmxoff = false;
    if (m->current == v)
        m->current = NULL;
    vtx_vmsucceed(m, r);
    return VTX_OK;
}

vtx_status vtx_vmptrld(vtx_machine *m, uint64_t pa, vtx_insn_result *r)
{
    if (!m || !r)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    if (vtx_vmx_insn_faults(m, r, "VMPTRLD"))
        return VTX_OK;
    if (!vtx_vmx_addr_ok(m, pa)) {
        vtx_vmfail(m, r, VTX_VMERR_VMPTRLD_INVALID_ADDR, VTX_CHECK_VMPTRLD_ADDR, "VMPTRLD operand 0x%llx is %s",
                   (unsigned long long)pa, (pa & 0xFFF) ? "not 4-KiB aligned" : "beyond the physical-address width");
        return VTX_OK;
    }
    if (pa == m->vmxon_ptr) {
        vtx_vmfail(m, r, VTX_VMERR_VMPTRLD_VMXON_PTR, VTX_CHECK_VMPTRLD_VMXON_PTR,
                   "VMPTRLD operand 0x%llx is the VMXON region", (unsigned long long)pa);
        return VTX_OK;
    }
    uint32_t rev;
    vtx_diag d;
    if (vtx_mem_read(m, pa, &rev, sizeof rev, &d) != VTX_OK) {
        snprintf(r->why, sizeof r->why, "VMPTRLD region: %.200s", d.message);
        return VTX_ERR_UNMAPPED;
    }
    uint32_t want = vtx_basic_revision(m->profile.msr[VTX_CAP_IA32_VMX_BASIC]);
    bool shadow = rev >> 31;
    bool can_shadow = vtx_profile_has_feature(&m->profile, VTX_FEAT_SHADOW_VMCS);
    if ((rev & 0x7FFFFFFFu) != want || (shadow && !can_shadow)) {
        if ((rev & 0x7FFFFFFFu) != want)
            vtx_vmfail(m, r, VTX_VMERR_VMPTRLD_BAD_REVISION, VTX_CHECK_VMPTRLD_REVISION,
                       "VMCS region 0x%llx holds revision identifier 0x%08x; the processor's is 0x%08x",
                       (unsigned long long)pa, rev & 0x7FFFFFFFu, want);
        else
            vtx_vmfail(m, r, VTX_VMERR_VMPTRLD_BAD_REVISION, VTX_CHECK_VMPTRLD_REVISION,
                       "VMCS region 0x%llx has the shadow-VMCS indicator (bit 31) set, but the processor "
                       "does not support VMCS shadowing", (unsigned long long)pa);
        return VTX_OK;
    }
    vtx_vmcs *v;
    vtx_status st = vtx_vmcs_get_or_create(m, pa, &v);
    if (st != VTX_OK)
        return st;
    if (!v->active) {
        /* A VMCS that is not active lives in its region: take the data from
         * memory when the region is in the model's format (VMCS-MEM-3); else
         * the model's own data (or fresh fields) stay (VMCS-MEM-4). */
        bool loaded;
        st = vtx_vmcs_region_load(m, v, &loaded, &d);
        if (st != VTX_OK) {
            snprintf(r->why, sizeof r->why, "VMPTRLD region: %.200s", d.message);
            return st;
        }
    }
    v->active = true;
    v->shadow = shadow;
    m->current = v;
    vtx_vmsucceed(m, r);
    return VTX_OK;
}

vtx_status vtx_vmptrst(vtx_machine *m, vtx_insn_result *r)
{
    if (!m || !r)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    if (vtx_vmx_insn_faults(m, r, "VMPTRST"))
        return VTX_OK;
    r->value = m->current ? m->current->pa : VTX_NO_VMCS;
    vtx_vmsucceed(m, r);
    return VTX_OK;
}
