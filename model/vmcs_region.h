/* The model's in-memory VMCS format (docs/vmcs-format.md): what VMCLEAR writes to
 * a VMCS region and what VMPTRLD takes from one (SDM Vol. 3 "Format of the VMCS
 * Region": bytes 0-7 are architectural, the rest is implementation-specific;
 * rules VMCS-MEM-1..4 in docs/rules-own.tsv). */
#ifndef VTX_VMCS_REGION_H
#define VTX_VMCS_REGION_H

#include "machine_internal.h"

/* The header: X(NAME, OFFSET, BYTES). TAG marks a region the model wrote;
 * DATA_BYTES is the size of the field data that follow (it differs between
 * profiles, so a region from another layout is not taken); LAUNCH is the launch
 * state (0 = clear, 1 = launched). The field data start at VTX_VMCS_REGION_DATA:
 * every field the profile supports, in the order of VTX_VMCS_FIELDS, packed at its
 * width (2, 4 or 8 bytes; natural width = 8), little-endian. */
#define VTX_VMCS_REGION_HEADER(X) \
    X(REVISION, 0, 4)             \
    X(ABORT, 4, 4)                \
    X(TAG, 8, 4)                  \
    X(DATA_BYTES, 12, 2)          \
    X(LAUNCH, 14, 1)              \
    X(RESERVED, 15, 1)

enum {
#define VTX_X_OFF(name, off, bytes) VTX_VMCS_REGION_##name = (off), VTX_VMCS_REGION_##name##_BYTES = (bytes),
    VTX_VMCS_REGION_HEADER(VTX_X_OFF)
#undef VTX_X_OFF
    VTX_VMCS_REGION_DATA = 16,
    /* Every field of the table at 8 bytes: an upper bound of any layout. */
    VTX_VMCS_REGION_MAX = VTX_VMCS_REGION_DATA + 8 * VTX_SLOT_COUNT,
};
/* "VTX1" as a little-endian 32-bit value. */
#define VTX_VMCS_REGION_MAGIC 0x31585456u
_Static_assert(VTX_VMCS_REGION_RESERVED + VTX_VMCS_REGION_RESERVED_BYTES <= VTX_VMCS_REGION_DATA,
               "the header overlaps the field data");

/* VMCLEAR: write a launch state and field data to the region at pa (bytes 8 and
 * up; the revision identifier and the VMX-abort indicator are left alone). When
 * the layout does not fit the region size of IA32_VMX_BASIC[44:32] nothing is
 * written (the region stays untagged). */
vtx_status vtx_vmcs_region_store(vtx_machine *m, uint64_t pa, vtx_launch_state launch, const vtx_vmcs_values *f,
                                 vtx_diag *d);

/* VMPTRLD of a VMCS that is not active: when the region at v->pa holds the tag
 * and this profile's layout, take the launch state and every field from it (a
 * field that changes is marked written, so the entry memo stays sound) and set
 * *loaded; otherwise leave v as it is (*loaded = false). */
vtx_status vtx_vmcs_region_load(vtx_machine *m, vtx_vmcs *v, bool *loaded, vtx_diag *d);

#endif
