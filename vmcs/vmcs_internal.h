/* Internal interface of vmcs/: field slots, VMREAD/VMWRITE width rules, field support. */
#ifndef VTX_VMCS_INTERNAL_H
#define VTX_VMCS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "vtxref/arch.h"
#include "vtxref/profile.h"
#include "vtxref/vmcs_fields.h"

/* One slot per row of VTX_VMCS_FIELDS, in table order. */
enum vtx_slot {
#define VTX_X_SLOT(name, enc, feat, desc) VTX_SLOT_##name,
    VTX_VMCS_FIELDS(VTX_X_SLOT)
#undef VTX_X_SLOT
    VTX_SLOT_COUNT
};

/* Field values of one VMCS, stored at their full width (natural = 64 bits), and
 * which slots were written (vtx_vmcs_set, VMWRITE) since the VM-entry checks last
 * consumed the marks (model/entry_memo.c; a whole-struct copy carries its marks). */
typedef struct vtx_vmcs_values {
    uint64_t v[VTX_SLOT_COUNT];
    uint64_t written[(VTX_SLOT_COUNT + 63) / 64];
} vtx_vmcs_values;

/* Which slots exist on a processor (SDM: a field of an unsupported feature is
 * an unsupported component, error 12). */
typedef struct vtx_vmcs_support {
    bool slot[VTX_SLOT_COUNT];
} vtx_vmcs_support;

/* Slot of an encoding, or -1 when it names no field (reserved bits, unknown
 * index, high access to a non-64-bit field). *high is set for high accesses. */
int vtx_vmcs_slot(uint64_t encoding, bool *high);

/* Fill @sup from a profile's capabilities. */
void vtx_vmcs_support_init(vtx_vmcs_support *sup, const vtx_profile *profile);

/* VMREAD rules (SDM "VMREAD, VMWRITE, and Encodings of VMCS Fields").
 * op64: the instruction executes in 64-bit mode. Returns 0 or error 12. */
vtx_vm_insn_error vtx_vmcs_read_rule(const vtx_vmcs_values *vals, const vtx_vmcs_support *sup,
                                     uint64_t encoding, bool op64, uint64_t *out);
/* VMWRITE rules: error 12 for an unsupported component, 13 for a read-only
 * field unless vmwrite_any (IA32_VMX_MISC[29]). */
vtx_vm_insn_error vtx_vmcs_write_rule(vtx_vmcs_values *vals, const vtx_vmcs_support *sup,
                                      uint64_t encoding, uint64_t value, bool op64,
                                      bool vmwrite_any);

/* Fill *d (when not NULL) with a message, a rule ID (or NULL) and a line (or 0). */
void vtx_diag_set(vtx_diag *d, const char *rule, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Field value by slot, for the model's own use. */
static inline uint64_t vtx_vmcs_get(const vtx_vmcs_values *vals, enum vtx_slot s) { return vals->v[s]; }
static inline void vtx_vmcs_set(vtx_vmcs_values *vals, enum vtx_slot s, uint64_t value)
{
    if (vals->v[s] == value) /* unchanged: no mark (an unmarked field holds the memo's value) */
        return;
    vals->v[s] = value;
    vals->written[s / 64] |= 1ull << (s % 64);
}

#endif
