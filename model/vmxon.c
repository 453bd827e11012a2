/* VMXON and VMXOFF (SDM Vol. 3 VMX instruction reference; catalogue L.3 error 15). */
#include "machine_internal.h"

static bool fixed_ok(uint64_t v, uint64_t f0, uint64_t f1) { return (v & f0) == f0 && !(v & ~f1); }

vtx_status vtx_vmxon(vtx_machine *m, uint64_t pa, vtx_insn_result *r)
{
    if (!m || !r)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    const vtx_root_state *root = &m->root;
    const uint64_t *msr = m->profile.msr;

    if (vtx_vmxon_mode_faults(m, r))
        return VTX_OK;
    if (!(root->cr4 & VTX_CR4_VMXE)) {
        vtx_fault(r, VTX_VECTOR_UD, VTX_CHECK_UD_CR4_VMXE, "VMXON with CR4.VMXE = 0 raises #UD");
        return VTX_OK;
    }
    if (m->vmx_on) {
        if (root->cpl > 0) {
            vtx_fault(r, VTX_VECTOR_GP, VTX_CHECK_GP_CPL, "VMXON at CPL %u raises #GP(0)", root->cpl);
            return VTX_OK;
        }
        vtx_vmfail(m, r, VTX_VMERR_VMXON_IN_ROOT, VTX_CHECK_VMXON_IN_ROOT,
                   "VMXON in VMX root operation (VMXON region 0x%llx is in use)",
                   (unsigned long long)m->vmxon_ptr);
        return VTX_OK;
    }
    /* Outside VMX operation: the #GP(0) conditions. */
    if (root->cpl > 0) {
        vtx_fault(r, VTX_VECTOR_GP, VTX_CHECK_GP_CPL, "VMXON at CPL %u raises #GP(0)", root->cpl);
        return VTX_OK;
    }
    if (!fixed_ok(root->cr0, msr[VTX_CAP_IA32_VMX_CR0_FIXED0], msr[VTX_CAP_IA32_VMX_CR0_FIXED1])) {
        uint64_t miss = msr[VTX_CAP_IA32_VMX_CR0_FIXED0] & ~root->cr0;
        uint64_t extra = root->cr0 & ~msr[VTX_CAP_IA32_VMX_CR0_FIXED1];
        vtx_fault(r, VTX_VECTOR_GP, VTX_CHECK_VMXON_GP_CR0_FIXED,
                  "CR0 0x%llx: bit %d %s (IA32_VMX_CR0_FIXED%d), so VMXON raises #GP(0)",
                  (unsigned long long)root->cr0, miss ? __builtin_ctzll(miss) : __builtin_ctzll(extra),
                  miss ? "must be 1" : "must be 0", miss ? 0 : 1);
        return VTX_OK;
    }
    if (!fixed_ok(root->cr4, msr[VTX_CAP_IA32_VMX_CR4_FIXED0], msr[VTX_CAP_IA32_VMX_CR4_FIXED1])) {
        uint64_t miss = msr[VTX_CAP_IA32_VMX_CR4_FIXED0] & ~root->cr4;
        uint64_t extra = root->cr4 & ~msr[VTX_CAP_IA32_VMX_CR4_FIXED1];
        vtx_fault(r, VTX_VECTOR_GP, VTX_CHECK_VMXON_GP_CR4_FIXED,
                  "CR4 0x%llx: bit %d %s (IA32_VMX_CR4_FIXED%d), so VMXON raises #GP(0)",
                  (unsigned long long)root->cr4, miss ? __builtin_ctzll(miss) : __builtin_ctzll(extra),
                  miss ? "must be 1" : "must be 0", miss ? 0 : 1);
        return VTX_OK;
    }
    if (!(root->feature_control & VTX_FEATURE_CONTROL_LOCK)) {
        vtx_fault(r, VTX_VECTOR_GP, VTX_CHECK_VMXON_GP_FC_LOCK,
                  "IA32_FEATURE_CONTROL 0x%llx has the lock bit (0) clear, so VMXON raises #GP(0)",
                  (unsigned long long)root->feature_control);
        return VTX_OK;
    }
    uint64_t enable = root->in_smx ? VTX_FEATURE_CONTROL_VMX_IN_SMX : VTX_FEATURE_CONTROL_VMX_OUTSIDE_SMX;
    if (!(root->feature_control & enable)) {
        vtx_fault(r, VTX_VECTOR_GP, VTX_CHECK_VMXON_GP_FC_ENABLE,
                  "IA32_FEATURE_CONTROL 0x%llx has bit %d (VMX %s SMX) clear, so VMXON raises #GP(0)",
                  (unsigned long long)root->feature_control, root->in_smx ? 1 : 2,
                  root->in_smx ? "inside" : "outside");
        return VTX_OK;
    }
    if (!vtx_vmx_addr_ok(m, pa)) {
        vtx_vmfail_invalid(m, r, VTX_CHECK_VMXON_ADDR, "VMXON pointer 0x%llx is %s", (unsigned long long)pa,
                           (pa & 0xFFF) ? "not 4-KiB aligned" : "beyond the physical-address width");
        return VTX_OK;
    }
    uint32_t rev;
    vtx_diag d;
    if (vtx_mem_read(m, pa, &rev, sizeof rev, &d) != VTX_OK) {
        snprintf(r->why, sizeof r->why, "VMXON region: %.200s", d.message);
        return VTX_ERR_UNMAPPED;
    }
    uint32_t want = vtx_basic_revision(msr[VTX_CAP_IA32_VMX_BASIC]);
    if ((rev & 0x7FFFFFFFu) != want || (rev >> 31)) {
        vtx_vmfail_invalid(m, r, VTX_CHECK_VMXON_REVISION,
                           "VMXON region 0x%llx holds revision identifier 0x%08x; the processor's is 0x%08x%s",
                           (unsigned long long)pa, rev, want, (rev >> 31) ? ", with bit 31 set (it must be 0)" : "");
        return VTX_OK;
    }
    m->vmx_on = true;
    m->vmxon_ptr = pa;
    m->current = NULL; /* current-VMCS pointer <- FFFFFFFF_FFFFFFFFH */
    vtx_vmsucceed(m, r);
    return VTX_OK;
}

vtx_status vtx_vmxoff(vtx_machine *m, vtx_insn_result *r)
{
    if (!m || !r)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    if (vtx_vmx_insn_faults(m, r, "VMXOFF"))
        return VTX_OK;
    /* VMXOFF does not write back active VMCSs: one left active and later made
     * current again cannot be resumed (error 6). */
    for (size_t i = 0; i < m->n_vmcs; i++)
        if (m->vmcs[i]->active)
            m->vmcs[i]->crossed_vmxoff = true;
    m->vmx_on = false;
    m->current = NULL;
    vtx_vmsucceed(m, r);
    return VTX_OK;
}
