/*
 * VMREAD/VMWRITE access rules: which encodings name a supported component, and
 * how each field width is truncated and zero-extended.
 * SDM Vol. 3 "VMREAD, VMWRITE, and Encodings of VMCS Fields"; Vol. 2 VMREAD and
 * VMWRITE operation; rules catalogue L.2.
 */
#include "vmcs_internal.h"

void vtx_vmcs_support_init(vtx_vmcs_support *sup, const vtx_profile *profile)
{
    size_t n;
    const vtx_field_info *fields = vtx_vmcs_fields(&n);
    for (size_t i = 0; i < n; i++)
        sup->slot[i] = vtx_profile_has_feature(profile, fields[i].feature);
}

/* Resolve an encoding to a supported slot; error 12 otherwise. */
static int supported_slot(const vtx_vmcs_support *sup, uint64_t encoding, bool *high)
{
    int slot = vtx_vmcs_slot(encoding, high);
    if (slot < 0 || !sup->slot[slot])
        return -1;
    return slot;
}

vtx_vm_insn_error vtx_vmcs_read_rule(const vtx_vmcs_values *vals, const vtx_vmcs_support *sup,
                                     uint64_t encoding, bool op64, uint64_t *out)
{
    bool high = false;
    int slot = supported_slot(sup, encoding, &high);
    if (slot < 0)
        return VTX_VMERR_UNSUPPORTED_COMPONENT;
    uint64_t v = vals->v[slot];
    switch (vtx_encoding_width((uint32_t)encoding)) {
    case VTX_WIDTH_16:
        /* The field goes to bits 15:0; other bits of the destination are cleared. */
        *out = v & 0xFFFF;
        break;
    case VTX_WIDTH_32:
        *out = v & 0xFFFFFFFFu;
        break;
    case VTX_WIDTH_64:
        /* High access: bits 63:32 of the field in bits 31:0 of the destination.
         * Full access outside 64-bit mode: bits 31:0 only. */
        if (high)
            *out = v >> 32;
        else
            *out = op64 ? v : (v & 0xFFFFFFFFu);
        break;
    case VTX_WIDTH_NATURAL:
        *out = op64 ? v : (v & 0xFFFFFFFFu);
        break;
    }
    return VTX_VMERR_NONE;
}

vtx_vm_insn_error vtx_vmcs_write_rule(vtx_vmcs_values *vals, const vtx_vmcs_support *sup,
                                      uint64_t encoding, uint64_t value, bool op64,
                                      bool vmwrite_any)
{
    bool high = false;
    int slot = supported_slot(sup, encoding, &high);
    if (slot < 0)
        return VTX_VMERR_UNSUPPORTED_COMPONENT;
    /* Read-only data fields (type 1) are writable only when IA32_VMX_MISC[29] = 1. */
    if (vtx_encoding_type((uint32_t)encoding) == VTX_TYPE_RO_DATA && !vmwrite_any)
        return VTX_VMERR_VMWRITE_READ_ONLY;
    /* Outside 64-bit mode the source operand has 32 bits. */
    if (!op64)
        value &= 0xFFFFFFFFu;
    uint64_t *f = &vals->v[slot], old = *f;
    switch (vtx_encoding_width((uint32_t)encoding)) {
    case VTX_WIDTH_16:
        *f = value & 0xFFFF;
        break;
    case VTX_WIDTH_32:
        *f = value & 0xFFFFFFFFu;
        break;
    case VTX_WIDTH_64:
        /* High access writes bits 63:32 and keeps 31:0; a full access from a
         * 32-bit operand clears the high bits (the field is longer than the source). */
        if (high)
            *f = (*f & 0xFFFFFFFFu) | ((value & 0xFFFFFFFFu) << 32);
        else
            *f = value;
        break;
    case VTX_WIDTH_NATURAL:
        *f = value;
        break;
    }
    if (*f != old) /* a changed field is marked for model/entry_memo.c */
        vals->written[slot / 64] |= 1ull << (slot % 64);
    return VTX_VMERR_NONE;
}
