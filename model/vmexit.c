/*
 * The host side of a VM exit: loading host state (SDM Vol. 3 "Loading Host
 * State"), and the VM-entry failure exits of SDM "VM-Entry Failures During or
 * After Loading Guest State" (catalogue ENT-BASIC-5).
 */
#include "entry_checks.h"

/* CR0 bits a VM exit leaves alone: ET, NW, CD and reserved bits 28:19, 17, 15:6. */
#define CR0_KEEP 0x7FFAFFD0ull

void vtx_load_host_state(vtx_machine *m, const vtx_vmcs_values *f)
{
    vtx_root_state *r = &m->root;
    uint32_t exit_ctls = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_CONTROLS);
    bool host64 = exit_ctls & VTX_EXIT_HOST_ADDR_SPACE_SIZE;
    r->cr0 = (vtx_vmcs_get(f, VTX_SLOT_HOST_CR0) & 0xFFFFFFFFull & ~CR0_KEEP) | (r->cr0 & CR0_KEEP);
    r->cr4 = vtx_vmcs_get(f, VTX_SLOT_HOST_CR4);
    if (exit_ctls & VTX_EXIT_LOAD_EFER)
        r->efer = vtx_vmcs_get(f, VTX_SLOT_HOST_IA32_EFER);
    else if (host64)
        r->efer |= VTX_EFER_LMA | VTX_EFER_LME;
    else
        r->efer &= ~(uint64_t)(VTX_EFER_LMA | VTX_EFER_LME);
    r->cs_l = host64;
    r->cpl = 0;
    r->rflags = 0x2; /* RFLAGS is cleared except bit 1 */
    r->blocking_by_mov_ss = false;
}

bool vtx_entry_failf(vtx_entry_fail *fail, vtx_check check, uint32_t qualification, const char *fmt, ...)
{
    fail->check = check;
    fail->qualification = qualification;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fail->why, sizeof fail->why, fmt, ap);
    va_end(ap);
    return false;
}

void vtx_entry_failure_exit(vtx_machine *m, vtx_insn_result *r, uint32_t basic_reason, const vtx_entry_fail *fail)
{
    vtx_vmcs_values *f = &m->current->f;
    uint32_t reason = basic_reason | VTX_EXIT_REASON_ENTRY_FAILURE;
    /* Only the exit reason and qualification are written; the guest-state
     * area, the launch state and the entry interruption information stay (INJ-4). */
    vtx_vmcs_set(f, VTX_SLOT_EXIT_REASON, reason);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_QUALIFICATION, fail->qualification);
    vtx_load_host_state(m, f);
    r->outcome = VTX_VMEXIT;
    r->exit_reason = reason;
    r->exit_qualification = fail->qualification;
    r->rflags = m->root.rflags;
    r->check = fail->check;
    r->rule = vtx_check_rule(fail->check);
    snprintf(r->why, sizeof r->why, "%s", fail->why);
}

/* A VM exit (SDM Vol. 3 "VM Exits"): record the exit information, save the
 * guest state, clear the entry interruption-information valid bit (INJ-4,
 * EXIT-10), load the host state and leave VMX non-root operation. */
void vtx_vm_exit(vtx_machine *m, const vtx_exit_info *e, vtx_insn_result *r)
{
    vtx_vmcs_values *f = &m->current->f;
    vtx_vmcs_set(f, VTX_SLOT_EXIT_REASON, e->reason);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_QUALIFICATION, e->qualification);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_INTR_INFO, e->intr_info);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_INTR_ERROR_CODE, e->intr_error);
    vtx_vmcs_set(f, VTX_SLOT_IDT_VECTORING_INFO, e->idt_vectoring_info);
    vtx_vmcs_set(f, VTX_SLOT_IDT_VECTORING_ERROR_CODE, e->idt_vectoring_error);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_INSTRUCTION_LEN, e->instruction_len);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_INSTRUCTION_INFO, e->instruction_info);
    vtx_guest_save(m, f);
    uint64_t inj = vtx_vmcs_get(f, VTX_SLOT_ENTRY_INTR_INFO);
    vtx_vmcs_set(f, VTX_SLOT_ENTRY_INTR_INFO, inj & ~(uint64_t)0x80000000u);
    /* EXIT-10: with IA32_VMX_MISC[5] = 1, IA32_EFER.LMA is stored into "IA-32e mode guest". */
    if ((m->profile.msr[VTX_CAP_IA32_VMX_MISC] >> 5) & 1) {
        uint64_t entry = vtx_vmcs_get(f, VTX_SLOT_ENTRY_CONTROLS) & ~(uint64_t)VTX_ENTRY_IA32E_MODE_GUEST;
        if (m->g.cpu.efer & VTX_EFER_LMA)
            entry |= VTX_ENTRY_IA32E_MODE_GUEST;
        vtx_vmcs_set(f, VTX_SLOT_ENTRY_CONTROLS, entry);
    }
    m->g.timer_armed = false;
    m->in_guest = false;
    m->cycles += m->costs.vm_exit;
    vtx_load_host_state(m, f);
    r->outcome = VTX_VMEXIT;
    r->exit_reason = e->reason;
    r->exit_qualification = e->qualification;
    r->rflags = m->root.rflags;
}
