/* The model's in-memory VMCS format (vmcs_region.h, docs/vmcs-format.md):
 * VMCLEAR writes the VMCS data to its region, VMPTRLD of a cleared region reads
 * them back (SDM Vol. 3 VMCLEAR operation; "Format of the VMCS Region";
 * rules VMCS-MEM-1..4). VMREAD, VMWRITE and VM entry never touch the region. */
#include <string.h>
#include "vmcs_region.h"

static void put(uint8_t *b, size_t off, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *b, size_t off, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++)
        v |= (uint64_t)b[off + i] << (8 * i);
    return v;
}

/* Bytes a field takes in the region, by vtx_field_width (16, 64, 32, natural). */
static const uint8_t width_bytes[4] = {2, 8, 4, 8};

/* The layout of this machine: each supported slot's size (0 = not stored); the
 * total size of the field data. */
static size_t layout(const vtx_machine *m, uint8_t size[VTX_SLOT_COUNT])
{
    size_t n, total = 0;
    const vtx_field_info *fi = vtx_vmcs_fields(&n);
    for (size_t s = 0; s < VTX_SLOT_COUNT; s++) {
        size[s] = m->support.slot[s] ? width_bytes[fi[s].width & 3] : 0;
        total += size[s];
    }
    return total;
}

static uint64_t region_size(const vtx_machine *m)
{
    return (m->profile.msr[VTX_CAP_IA32_VMX_BASIC] >> 32) & 0x1FFF;
}

vtx_status vtx_vmcs_region_store(vtx_machine *m, uint64_t pa, vtx_launch_state launch, const vtx_vmcs_values *f,
                                 vtx_diag *d)
{
    uint8_t size[VTX_SLOT_COUNT], b[VTX_VMCS_REGION_MAX];
    size_t data = layout(m, size), used = VTX_VMCS_REGION_DATA + data;
    if (used > region_size(m))
        return VTX_OK; /* the format does not fit this processor's VMCS region: untagged */
    memset(b, 0, VTX_VMCS_REGION_DATA);
    put(b, VTX_VMCS_REGION_TAG, VTX_VMCS_REGION_MAGIC, VTX_VMCS_REGION_TAG_BYTES);
    put(b, VTX_VMCS_REGION_DATA_BYTES, data, VTX_VMCS_REGION_DATA_BYTES_BYTES);
    put(b, VTX_VMCS_REGION_LAUNCH, (uint64_t)launch, VTX_VMCS_REGION_LAUNCH_BYTES);
    size_t off = VTX_VMCS_REGION_DATA;
    for (size_t s = 0; s < VTX_SLOT_COUNT; s++) {
        put(b, off, f->v[s], size[s]);
        off += size[s];
    }
    /* Bytes 0-7 (revision identifier, VMX-abort indicator) are not written. */
    return vtx_mem_write(m, pa + VTX_VMCS_REGION_TAG, b + VTX_VMCS_REGION_TAG, used - VTX_VMCS_REGION_TAG, d);
}

vtx_status vtx_vmcs_region_load(vtx_machine *m, vtx_vmcs *v, bool *loaded, vtx_diag *d)
{
    *loaded = false;
    uint8_t size[VTX_SLOT_COUNT], b[VTX_VMCS_REGION_MAX];
    size_t data = layout(m, size);
    /* The header first: a region without the tag may be smaller than the format. */
    vtx_status st = vtx_mem_read(m, v->pa, b, VTX_VMCS_REGION_DATA, d);
    if (st != VTX_OK)
        return st;
    uint64_t launch = get(b, VTX_VMCS_REGION_LAUNCH, VTX_VMCS_REGION_LAUNCH_BYTES);
    if (get(b, VTX_VMCS_REGION_TAG, VTX_VMCS_REGION_TAG_BYTES) != VTX_VMCS_REGION_MAGIC ||
        get(b, VTX_VMCS_REGION_DATA_BYTES, VTX_VMCS_REGION_DATA_BYTES_BYTES) != data ||
        launch > VTX_LAUNCH_LAUNCHED)
        return VTX_OK; /* not the model's format: the model's own data stay (VMCS-MEM-4) */
    st = vtx_mem_read(m, v->pa, b, VTX_VMCS_REGION_DATA + data, d);
    if (st != VTX_OK)
        return st;
    v->launch = (vtx_launch_state)launch;
    size_t off = VTX_VMCS_REGION_DATA;
    for (size_t s = 0; s < VTX_SLOT_COUNT; s++) {
        if (size[s])
            vtx_vmcs_set(&v->f, (enum vtx_slot)s, get(b, off, size[s]));
        off += size[s];
    }
    *loaded = true;
    return VTX_OK;
}
