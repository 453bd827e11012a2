/* The model's in-memory VMCS format (docs/vmcs-format.md): what VMCLEAR writes to
 * a VMCS region and what VMPTRLD takes from one (SDM Vol. 3 "Format of the VMCS
 * Region": bytes 0-7 are architectural, the rest is implementation-specific;
 * rules VMCS-MEM-1..4 in docs/rules-own.tsv). */
#ifndef VTX_VMCS_REGION_H
#define VTX_VMCS_REGION_H

#include "machine_internal.h"

/* The header after the 8 architectural bytes: X(NAME, OFFSET, BYTES).
 * TAG marks a region the model wrote; FORMAT_SLOTS is the number of field slots
 * that follow (the field table's size when written); LAUNCH is the launch state
 * (0 = clear, 1 = launched). Field slot s (the row s of VTX_VMCS_FIELDS) is 8
 * bytes, little-endian, at VTX_VMCS_REGION_SLOTS + 8 * s. */
#define VTX_VMCS_REGION_HEADER(X) \
    X(REVISION, 0, 4)             \
    X(ABORT, 4, 4)                \
    X(TAG, 8, 8)                  \
    X(FORMAT_SLOTS, 16, 4)        \
    X(LAUNCH, 20, 4)

enum {
#define VTX_X_OFF(name, off, bytes) VTX_VMCS_REGION_##name = (off), VTX_VMCS_REGION_##name##_BYTES = (bytes),
    VTX_VMCS_REGION_HEADER(VTX_X_OFF)
#undef VTX_X_OFF
    VTX_VMCS_REGION_SLOTS = 24,
    VTX_VMCS_REGION_USED = VTX_VMCS_REGION_SLOTS + 8 * VTX_SLOT_COUNT,
};
/* "VTXREF01" as a little-endian 64-bit value. */
#define VTX_VMCS_REGION_MAGIC 0x3130464552585456ull
_Static_assert(VTX_VMCS_REGION_LAUNCH + VTX_VMCS_REGION_LAUNCH_BYTES <= VTX_VMCS_REGION_SLOTS,
               "the header overlaps the field slots");
_Static_assert(VTX_VMCS_REGION_USED <= 4096, "the fields do not fit a 4-KiB VMCS region");

/* VMCLEAR: write a launch state and field data to the region at pa (bytes 8 and
 * up; the revision identifier and the VMX-abort indicator are left alone). */
vtx_status vtx_vmcs_region_store(vtx_machine *m, uint64_t pa, vtx_launch_state launch, const vtx_vmcs_values *f,
                                 vtx_diag *d);

/* VMPTRLD of a VMCS that is not active: when the region at v->pa holds the tag,
 * take the launch state and every field from it (a field that changes is marked
 * written, so the entry memo stays sound) and set *loaded; otherwise leave v as
 * it is (*loaded = false). */
vtx_status vtx_vmcs_region_load(vtx_machine *m, vtx_vmcs *v, bool *loaded, vtx_diag *d);

#endif
