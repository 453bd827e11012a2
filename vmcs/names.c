/* Names and descriptions from the SDM tables in arch.h, and status names. */
#include <stddef.h>
#include "vtxref/arch.h"
#include "vtxref/status.h"

typedef struct named_bit {
    unsigned bit;
    const char *desc;
} named_bit;

#define VTX_X_NB(n, b, d) {b, d},
static const named_bit pin_bits[] = {VTX_PIN_CONTROLS(VTX_X_NB)};
static const named_bit proc_bits[] = {VTX_PROC_CONTROLS(VTX_X_NB)};
static const named_bit proc2_bits[] = {VTX_PROC2_CONTROLS(VTX_X_NB)};
static const named_bit exit_bits[] = {VTX_EXIT_CONTROLS(VTX_X_NB)};
static const named_bit entry_bits[] = {VTX_ENTRY_CONTROLS(VTX_X_NB)};
#undef VTX_X_NB

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *find_bit(const named_bit *t, size_t n, unsigned bit)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].bit == bit)
            return t[i].desc;
    return NULL;
}

const char *vtx_control_bit_name(vtx_ctl_field field, unsigned bit)
{
    switch (field) {
    case VTX_CTL_PIN: return find_bit(pin_bits, COUNT(pin_bits), bit);
    case VTX_CTL_PROC: return find_bit(proc_bits, COUNT(proc_bits), bit);
    case VTX_CTL_PROC2: return find_bit(proc2_bits, COUNT(proc2_bits), bit);
    case VTX_CTL_EXIT: return find_bit(exit_bits, COUNT(exit_bits), bit);
    case VTX_CTL_ENTRY: return find_bit(entry_bits, COUNT(entry_bits), bit);
    default: return NULL;
    }
}

const char *vtx_control_field_name(vtx_ctl_field field)
{
    static const char *const names[] = {
        "Pin-based VM-execution controls", "Primary processor-based VM-execution controls",
        "Secondary processor-based VM-execution controls", "VM-exit controls", "VM-entry controls"};
    return (unsigned)field < VTX_CTL_FIELD_COUNT_ ? names[field] : NULL;
}

typedef struct numbered {
    unsigned num;
    const char *name;
    const char *desc;
} numbered;

#define VTX_X_NUM(n, v, d) {v, #n, d},
static const numbered exit_reasons[] = {VTX_EXIT_REASONS(VTX_X_NUM)};
static const numbered insn_errors[] = {VTX_VM_INSN_ERRORS(VTX_X_NUM)};
static const numbered cap_msrs[] = {VTX_CAP_MSRS(VTX_X_NUM)};
#undef VTX_X_NUM

static const numbered *find_num(const numbered *t, size_t n, uint32_t v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].num == v)
            return &t[i];
    return NULL;
}

const char *vtx_exit_reason_name(uint32_t r)
{
    const numbered *e = find_num(exit_reasons, COUNT(exit_reasons), r);
    return e ? e->name : NULL;
}

const char *vtx_exit_reason_description(uint32_t r)
{
    const numbered *e = find_num(exit_reasons, COUNT(exit_reasons), r);
    return e ? e->desc : NULL;
}

const char *vtx_vm_insn_error_text(uint32_t err)
{
    const numbered *e = find_num(insn_errors, COUNT(insn_errors), err);
    return e ? e->desc : NULL;
}

const char *vtx_vm_insn_error_name(uint32_t err)
{
    const numbered *e = find_num(insn_errors, COUNT(insn_errors), err);
    return e ? e->name : NULL;
}

const char *vtx_cap_msr_name(uint32_t index)
{
    if (index == VTX_MSR_IA32_FEATURE_CONTROL)
        return "IA32_FEATURE_CONTROL";
    const numbered *e = find_num(cap_msrs, COUNT(cap_msrs), index);
    return e ? e->name : NULL;
}

const char *vtx_status_name(vtx_status s)
{
    switch (s) {
    case VTX_OK: return "VTX_OK";
    case VTX_ERR_INVALID_ARG: return "VTX_ERR_INVALID_ARG";
    case VTX_ERR_NO_MEMORY: return "VTX_ERR_NO_MEMORY";
    case VTX_ERR_NOT_FOUND: return "VTX_ERR_NOT_FOUND";
    case VTX_ERR_PARSE: return "VTX_ERR_PARSE";
    case VTX_ERR_PROFILE_INVALID: return "VTX_ERR_PROFILE_INVALID";
    case VTX_ERR_IO: return "VTX_ERR_IO";
    case VTX_ERR_UNMAPPED: return "VTX_ERR_UNMAPPED";
    case VTX_ERR_OVERLAP: return "VTX_ERR_OVERLAP";
    case VTX_ERR_UNSUPPORTED: return "VTX_ERR_UNSUPPORTED";
    case VTX_ERR_STATE: return "VTX_ERR_STATE";
    }
    return "VTX_ERR_?";
}

static const char *const interruption_tokens[8] = {
#define VTX_X_IT_TOKEN(n, v, tok, d) [v] = tok,
    VTX_INTERRUPTION_TYPES(VTX_X_IT_TOKEN)
#undef VTX_X_IT_TOKEN
};
static const char *const interruption_descriptions[8] = {
#define VTX_X_IT_DESC(n, v, tok, d) [v] = d,
    VTX_INTERRUPTION_TYPES(VTX_X_IT_DESC)
#undef VTX_X_IT_DESC
};

const char *vtx_interruption_type_name(uint32_t type) { return interruption_tokens[type & 7]; }
const char *vtx_interruption_type_description(uint32_t type) { return interruption_descriptions[type & 7]; }
