/* VMREAD and VMWRITE as instructions (SDM Vol. 3 VMX instruction reference):
 * mode, CPL and current-VMCS checks here; the field rules live in vmcs/access.c. */
#include "machine_internal.h"
#include "vmm_check_internal.h"

static void unsupported(vtx_machine *m, vtx_insn_result *r, const char *insn, uint64_t enc)
{
    const vtx_field_info *fi;
    bool high;
    if (vtx_vmcs_field_lookup(enc, &fi, &high) == VTX_OK)
        vtx_vmfail(m, r, VTX_VMERR_UNSUPPORTED_COMPONENT, VTX_CHECK_VMCS_UNSUPPORTED_FIELD,
                   "%s of %s (0x%llx): the processor does not support %s, so the field does not exist",
                   insn, fi->name, (unsigned long long)enc, vtx_feature_name(fi->feature));
    else
        vtx_vmfail(m, r, VTX_VMERR_UNSUPPORTED_COMPONENT, VTX_CHECK_VMCS_UNSUPPORTED_FIELD,
                   "%s: encoding 0x%llx names no VMCS field", insn, (unsigned long long)enc);
}

vtx_status vtx_vmread(vtx_machine *m, uint64_t encoding, vtx_insn_result *r)
{
    if (!m || !r)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    if (vtx_vmx_insn_faults(m, r, "VMREAD"))
        return VTX_OK;
    if (!m->current) {
        vtx_vmfail_invalid(m, r, VTX_CHECK_NO_CURRENT_VMCS, "VMREAD with no current VMCS");
        return VTX_OK;
    }
    bool op64 = vtx_root_64bit(&m->root);
    /* Outside 64-bit mode the register operand has 32 bits; in 64-bit mode
     * bits 63:32 set make the encoding unsupported. */
    if (!op64)
        encoding &= 0xFFFFFFFFu;
    uint64_t value;
    if (vtx_vmcs_read_rule(&m->current->f, &m->support, encoding, op64, &value) != VTX_VMERR_NONE) {
        unsupported(m, r, "VMREAD", encoding);
        return VTX_OK;
    }
    r->value = value;
    vtx_vmsucceed(m, r);
    if (m->vmm_monitor) vtx_vmm_mon_vmread(m, encoding);
    return VTX_OK;
}

vtx_status vtx_vmwrite(vtx_machine *m, uint64_t encoding, uint64_t value, vtx_insn_result *r)
{
    if (!m || !r)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    if (vtx_vmx_insn_faults(m, r, "VMWRITE"))
        return VTX_OK;
    if (!m->current) {
        vtx_vmfail_invalid(m, r, VTX_CHECK_NO_CURRENT_VMCS, "VMWRITE with no current VMCS");
        return VTX_OK;
    }
    bool op64 = vtx_root_64bit(&m->root);
    if (!op64)
        encoding &= 0xFFFFFFFFu;
    bool any = vtx_misc_vmwrite_any(m->profile.msr[VTX_CAP_IA32_VMX_MISC]);
    vtx_vm_insn_error e = vtx_vmcs_write_rule(&m->current->f, &m->support, encoding, value, op64, any);
    if (e == VTX_VMERR_UNSUPPORTED_COMPONENT) {
        unsupported(m, r, "VMWRITE", encoding);
        return VTX_OK;
    }
    if (e == VTX_VMERR_VMWRITE_READ_ONLY) {
        const vtx_field_info *fi;
        vtx_vmcs_field_lookup(encoding, &fi, NULL);
        vtx_vmfail(m, r, e, VTX_CHECK_VMCS_READ_ONLY_FIELD,
                   "VMWRITE to %s (0x%llx), a read-only VM-exit information field; IA32_VMX_MISC[29] = 0",
                   fi->name, (unsigned long long)encoding);
        return VTX_OK;
    }
    vtx_vmsucceed(m, r);
    if (m->vmm_monitor) vtx_vmm_mon_vmwrite(m, encoding, value);
    if (m->vmx_observer)
        vtx_vmx_observe(m, &(vtx_vmx_op){.kind = VTX_VMX_OP_VMWRITE, .encoding = encoding, .value = value});
    return VTX_OK;
}
