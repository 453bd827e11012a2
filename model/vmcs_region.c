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

vtx_status vtx_vmcs_region_store(vtx_machine *m, uint64_t pa, vtx_launch_state launch, const vtx_vmcs_values *f,
                                 vtx_diag *d)
{
    uint8_t b[VTX_VMCS_REGION_USED];
    put(b, VTX_VMCS_REGION_TAG, VTX_VMCS_REGION_MAGIC, VTX_VMCS_REGION_TAG_BYTES);
    put(b, VTX_VMCS_REGION_FORMAT_SLOTS, VTX_SLOT_COUNT, VTX_VMCS_REGION_FORMAT_SLOTS_BYTES);
    put(b, VTX_VMCS_REGION_LAUNCH, (uint64_t)launch, VTX_VMCS_REGION_LAUNCH_BYTES);
    for (size_t s = 0; s < VTX_SLOT_COUNT; s++)
        put(b, VTX_VMCS_REGION_SLOTS + 8 * s, f->v[s], 8);
    /* Bytes 0-7 (revision identifier, VMX-abort indicator) are not written. */
    return vtx_mem_write(m, pa + VTX_VMCS_REGION_TAG, b + VTX_VMCS_REGION_TAG,
                         sizeof b - VTX_VMCS_REGION_TAG, d);
}

vtx_status vtx_vmcs_region_load(vtx_machine *m, vtx_vmcs *v, bool *loaded, vtx_diag *d)
{
    *loaded = false;
    uint8_t b[VTX_VMCS_REGION_USED];
    /* The header first: a region without the tag may be smaller than the format. */
    vtx_status st = vtx_mem_read(m, v->pa, b, VTX_VMCS_REGION_SLOTS, d);
    if (st != VTX_OK)
        return st;
    uint64_t launch = get(b, VTX_VMCS_REGION_LAUNCH, VTX_VMCS_REGION_LAUNCH_BYTES);
    if (get(b, VTX_VMCS_REGION_TAG, VTX_VMCS_REGION_TAG_BYTES) != VTX_VMCS_REGION_MAGIC ||
        get(b, VTX_VMCS_REGION_FORMAT_SLOTS, VTX_VMCS_REGION_FORMAT_SLOTS_BYTES) != VTX_SLOT_COUNT ||
        launch > VTX_LAUNCH_LAUNCHED)
        return VTX_OK; /* not the model's format: the model's own data stay (VMCS-MEM-4) */
    st = vtx_mem_read(m, v->pa, b, sizeof b, d);
    if (st != VTX_OK)
        return st;
    v->launch = (vtx_launch_state)launch;
    for (size_t s = 0; s < VTX_SLOT_COUNT; s++)
        vtx_vmcs_set(&v->f, (enum vtx_slot)s, get(b, VTX_VMCS_REGION_SLOTS + 8 * s, 8));
    *loaded = true;
    return VTX_OK;
}
