/*
 * How a VMX instruction ends (SDM Vol. 3 "Conventions" of the VMX instruction
 * reference): VMsucceed, VMfailInvalid, VMfailValid(ErrorNumber), or a fault;
 * and the checks every VMX instruction shares.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include "machine_internal.h"

/* Arithmetic flags VMsucceed/VMfail write. */
#define VMX_FLAGS (VTX_RFLAGS_CF | VTX_RFLAGS_PF | VTX_RFLAGS_AF | VTX_RFLAGS_ZF | VTX_RFLAGS_SF | VTX_RFLAGS_OF)

static const struct {
    const char *name, *rule, *text;
} check_table[] = {
#define VTX_X_CT(n, r, t) {#n, r, t},
    VTX_INSN_CHECKS(VTX_X_CT)
    VTX_ENTRY_CONTROLS_CHECKS(VTX_X_CT)
    VTX_ENTRY_HOST_CHECKS(VTX_X_CT)
    VTX_ENTRY_GUEST_CHECKS(VTX_X_CT)
#undef VTX_X_CT
};

const char *vtx_check_name(vtx_check c) { return (unsigned)c < VTX_CHECK_COUNT_ ? check_table[c].name : NULL; }
const char *vtx_check_rule(vtx_check c) { return (unsigned)c < VTX_CHECK_COUNT_ ? check_table[c].rule : NULL; }
const char *vtx_check_text(vtx_check c) { return (unsigned)c < VTX_CHECK_COUNT_ ? check_table[c].text : NULL; }

void vtx_res_reset(vtx_insn_result *r)
{
    /* Every field but the text after its terminator: this runs for every VMREAD
     * and VMWRITE, and the 240-byte sentence would be most of it. */
    char *why = r->why;
    memset(r, 0, offsetof(vtx_insn_result, why));
    why[0] = '\0';
}

static void set_why(vtx_insn_result *r, vtx_check check, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void set_why(vtx_insn_result *r, vtx_check check, const char *fmt, va_list ap)
{
    r->check = check;
    r->rule = vtx_check_rule(check);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
}

void vtx_vmsucceed(vtx_machine *m, vtx_insn_result *r)
{
    m->root.rflags &= ~(uint64_t)VMX_FLAGS;
    r->outcome = VTX_VMSUCCEED;
    r->rflags = m->root.rflags;
}

void vtx_vmfail_invalid(vtx_machine *m, vtx_insn_result *r, vtx_check check, const char *fmt, ...)
{
    m->root.rflags = (m->root.rflags & ~(uint64_t)VMX_FLAGS) | VTX_RFLAGS_CF;
    r->outcome = VTX_VMFAIL_INVALID;
    r->rflags = m->root.rflags;
    va_list ap;
    va_start(ap, fmt);
    set_why(r, check, fmt, ap);
    va_end(ap);
}

void vtx_vmfail(vtx_machine *m, vtx_insn_result *r, vtx_vm_insn_error err, vtx_check check, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (m->current) {
        m->root.rflags = (m->root.rflags & ~(uint64_t)VMX_FLAGS) | VTX_RFLAGS_ZF;
        r->outcome = VTX_VMFAIL_VALID;
        r->vm_error = err;
        vtx_vmcs_set(&m->current->f, VTX_SLOT_VM_INSTRUCTION_ERROR, err);
    } else {
        /* No current VMCS to hold the number. */
        m->root.rflags = (m->root.rflags & ~(uint64_t)VMX_FLAGS) | VTX_RFLAGS_CF;
        r->outcome = VTX_VMFAIL_INVALID;
    }
    r->rflags = m->root.rflags;
    set_why(r, check, fmt, ap);
    va_end(ap);
}

void vtx_fault(vtx_insn_result *r, uint8_t vector, vtx_check check, const char *fmt, ...)
{
    r->outcome = VTX_INSN_FAULT;
    r->fault_vector = vector;
    r->fault_error_code = 0;
    va_list ap;
    va_start(ap, fmt);
    set_why(r, check, fmt, ap);
    va_end(ap);
}

bool vtx_root_64bit(const vtx_root_state *root) { return (root->efer & VTX_EFER_LMA) && root->cs_l; }

/* #UD outside protected mode, in virtual-8086 mode, or in compatibility mode. */
static bool bad_mode(const vtx_root_state *root, const char **what)
{
    if (!(root->cr0 & VTX_CR0_PE))
        *what = "CR0.PE = 0 (real mode)";
    else if (root->rflags & VTX_RFLAGS_VM)
        *what = "RFLAGS.VM = 1 (virtual-8086 mode)";
    else if ((root->efer & VTX_EFER_LMA) && !root->cs_l)
        *what = "IA32_EFER.LMA = 1 and CS.L = 0 (compatibility mode)";
    else
        return false;
    return true;
}

bool vtx_in_guest_refuse(const vtx_machine *m, vtx_insn_result *r)
{
    if (!m->in_guest)
        return false;
    snprintf(r->why, sizeof r->why, "the machine is in VMX non-root operation (a run stopped without a VM exit); "
             "vtx_continue() it until it exits");
    return true;
}

bool vtx_vmx_insn_faults(vtx_machine *m, vtx_insn_result *r, const char *insn)
{
    const char *what;
    if (!m->vmx_on) {
        vtx_fault(r, VTX_VECTOR_UD, VTX_CHECK_UD_NOT_IN_VMX, "%s outside VMX operation raises #UD", insn);
        return true;
    }
    if (bad_mode(&m->root, &what)) {
        vtx_fault(r, VTX_VECTOR_UD, VTX_CHECK_UD_MODE, "%s with %s raises #UD", insn, what);
        return true;
    }
    if (m->root.cpl > 0) {
        vtx_fault(r, VTX_VECTOR_GP, VTX_CHECK_GP_CPL, "%s at CPL %u raises #GP(0)", insn, m->root.cpl);
        return true;
    }
    return false;
}

bool vtx_vmxon_mode_faults(vtx_machine *m, vtx_insn_result *r)
{
    const char *what;
    if (bad_mode(&m->root, &what)) {
        vtx_fault(r, VTX_VECTOR_UD, VTX_CHECK_UD_MODE, "VMXON with %s raises #UD", what);
        return true;
    }
    return false;
}

unsigned vtx_vmx_addr_width(const vtx_machine *m)
{
    /* IA32_VMX_BASIC[48] (32-bit VMX addresses) is 0 on every valid profile (Intel 64). */
    return m->profile.phys_addr_width;
}

bool vtx_vmx_addr_ok(const vtx_machine *m, uint64_t pa)
{
    return !(pa & 0xFFF) && !(pa >> vtx_vmx_addr_width(m));
}

const char *vtx_insn_outcome_name(vtx_insn_outcome o)
{
    switch (o) {
    case VTX_VMSUCCEED: return "VMsucceed";
    case VTX_VMFAIL_INVALID: return "VMfailInvalid";
    case VTX_VMFAIL_VALID: return "VMfailValid";
    case VTX_INSN_FAULT: return "fault";
    case VTX_VMEXIT: return "VM exit";
    case VTX_GUEST_STOPPED: return "guest stopped";
    }
    return "?";
}

int vtx_insn_result_format(const vtx_insn_result *r, char *buf, size_t size)
{
    if (!r || (!buf && size))
        return -1;
    char head[160];
    switch (r->outcome) {
    case VTX_VMFAIL_VALID: {
        const char *t = vtx_vm_insn_error_text(r->vm_error);
        snprintf(head, sizeof head, "VMfailValid(%u: %s)", r->vm_error, t ? t : "unassigned error number");
        break;
    }
    case VTX_INSN_FAULT:
        snprintf(head, sizeof head, "%s", r->fault_vector == VTX_VECTOR_UD ? "#UD" : "#GP(0)");
        break;
    case VTX_VMEXIT: {
        const char *n = vtx_exit_reason_name(r->exit_reason & 0xFFFF);
        snprintf(head, sizeof head, "%s %u (%s%s), qualification 0x%llx",
                 (r->exit_reason & VTX_EXIT_REASON_ENTRY_FAILURE) ? "VM-entry failure exit" : "VM exit",
                 r->exit_reason & 0xFFFF, n ? n : "?",
                 (r->exit_reason & VTX_EXIT_REASON_ENTRY_FAILURE) ? " | 0x80000000" : "",
                 (unsigned long long)r->exit_qualification);
        break;
    }
    default:
        snprintf(head, sizeof head, "%s", vtx_insn_outcome_name(r->outcome));
        break;
    }
    if (r->outcome == VTX_GUEST_STOPPED)
        return snprintf(buf, size, "%s: %s", head, r->why);
    if ((r->outcome == VTX_VMSUCCEED || r->outcome == VTX_VMEXIT) && !(r->exit_reason & VTX_EXIT_REASON_ENTRY_FAILURE))
        return snprintf(buf, size, "%s", head);
    if (!r->why[0])
        return snprintf(buf, size, "%s", head);
    if (r->rule)
        return snprintf(buf, size, "%s [%s, %s]: %s", head, vtx_check_name(r->check), r->rule, r->why);
    return snprintf(buf, size, "%s [%s]: %s", head, vtx_check_name(r->check), r->why);
}
