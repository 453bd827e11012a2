/*
 * The host side of a VM exit: loading host state (SDM Vol. 3 "Loading Host
 * State"), the MSR areas of a VM exit ("Saving MSRs", "Loading MSRs"; msr.c),
 * and the VM-entry failure exits of SDM "VM-Entry Failures During or After
 * Loading Guest State" (catalogue ENT-BASIC-5).
 *
 * A failure in a VM-exit MSR area is a VMX abort on hardware (SDM "VMX
 * Aborts": the abort indicator is written and the processor shuts down). The
 * model does not model that: it undoes the exit (the machine is left exactly as
 * before it) and returns VTX_ERR_UNSUPPORTED with a sentence naming the entry.
 */
#include <stdlib.h>
#include "msr.h"
#include "vmm_check_internal.h"

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
    /* The host's copies of the MSRs the VMCS switches ("Loading Host Control
     * Registers, Debug Registers, MSRs"; FS/GS bases from "Loading Host Segment
     * and Descriptor-Table Registers"): IA32_DEBUGCTL is cleared. */
    vtx_host_msrs *h = &m->host_msr;
    h->debugctl = 0;
    h->sysenter_cs = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_HOST_IA32_SYSENTER_CS);
    h->sysenter_esp = vtx_vmcs_get(f, VTX_SLOT_HOST_IA32_SYSENTER_ESP);
    h->sysenter_eip = vtx_vmcs_get(f, VTX_SLOT_HOST_IA32_SYSENTER_EIP);
    h->fs_base = vtx_vmcs_get(f, VTX_SLOT_HOST_FS_BASE);
    h->gs_base = vtx_vmcs_get(f, VTX_SLOT_HOST_GS_BASE);
    if (exit_ctls & VTX_EXIT_LOAD_PAT)
        h->pat = vtx_vmcs_get(f, VTX_SLOT_HOST_IA32_PAT);
}

/* A copy of everything a VM exit can change, to undo it on a VMX abort. */
typedef struct exit_snapshot {
    vtx_machine m;
    vtx_vmcs_values f;
} exit_snapshot;

/* Take a snapshot (NULL when out of memory: the caller then cannot undo). */
static exit_snapshot *snapshot_take(const vtx_machine *m)
{
    exit_snapshot *s = malloc(sizeof *s);
    if (s) {
        s->m = *m;
        s->f = m->current->f;
    }
    return s;
}

/* Put the machine back as the snapshot found it, and free it. */
static void snapshot_restore(vtx_machine *m, exit_snapshot *s)
{
    vtx_vmcs *cur = s->m.current;
    *m = s->m;
    cur->f = s->f;
    free(s);
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

/* The failure exit without the VM-exit MSR-load area (vtx_entry_fail_exit adds it). */
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

vtx_status vtx_entry_fail_exit(vtx_machine *m, vtx_insn_result *r, uint32_t basic_reason, const vtx_entry_fail *fail)
{
    const vtx_vmcs_values *f = &m->current->f;
    exit_snapshot *snap = NULL;
    if (vtx_vmcs_get(f, VTX_SLOT_EXIT_MSR_LOAD_COUNT)) {
        if (!(snap = snapshot_take(m))) {
            snprintf(r->why, sizeof r->why, "out of memory before a VM-entry failure exit");
            return VTX_ERR_NO_MEMORY;
        }
    }
    vtx_entry_failure_exit(m, r, basic_reason, fail);
    /* SDM "VM-Entry Failures During or After Loading Guest State", step 4: MSRs
     * are loaded as the VM-exit MSR-load area specifies. */
    char why[200];
    if (snap && !vtx_msr_exit_load(m, f, why, sizeof why)) {
        snapshot_restore(m, snap);
        vtx_res_reset(r);
        char msg[512];
        snprintf(msg, sizeof msg, "after VM-entry failure exit %u, %s: a VMX abort on hardware, not modelled "
                 "(nothing was changed)", basic_reason, why);
        snprintf(r->why, sizeof r->why, "%.*s", (int)sizeof r->why - 1, msg);
        return VTX_ERR_UNSUPPORTED;
    }
    free(snap);
    return VTX_OK;
}

/* A VM exit (SDM Vol. 3 "VM Exits"): record the exit information, save the
 * guest state, clear the entry interruption-information valid bit (INJ-4,
 * EXIT-10), store the VM-exit MSR-store area, load the host state, load the
 * VM-exit MSR-load area and leave VMX non-root operation. */
/* EXIT-8 (SDM "Saving RIP, RSP, and RFLAGS"): the RFLAGS.RF a VM exit saves.
 * An exit caused directly by an instruction saves 0; an exit caused by a fault
 * that would have been delivered through the IDT saves what the processor would
 * have pushed, which is 1 for faults (not for the #DB traps, nor #DF and #MC,
 * which are aborts) and for a triple fault as for its #DF; every other exit
 * saves RF as it is. */
static bool exit_by_instruction(uint32_t reason)
{
    switch (reason) {
    case VTX_EXIT_REASON_CPUID: case VTX_EXIT_REASON_GETSEC: case VTX_EXIT_REASON_HLT: case VTX_EXIT_REASON_INVD:
    case VTX_EXIT_REASON_INVLPG: case VTX_EXIT_REASON_RDPMC: case VTX_EXIT_REASON_RDTSC: case VTX_EXIT_REASON_RSM:
    case VTX_EXIT_REASON_VMCALL: case VTX_EXIT_REASON_VMCLEAR: case VTX_EXIT_REASON_VMLAUNCH:
    case VTX_EXIT_REASON_VMPTRLD: case VTX_EXIT_REASON_VMPTRST: case VTX_EXIT_REASON_VMREAD:
    case VTX_EXIT_REASON_VMRESUME: case VTX_EXIT_REASON_VMWRITE: case VTX_EXIT_REASON_VMXOFF:
    case VTX_EXIT_REASON_VMXON: case VTX_EXIT_REASON_CR_ACCESS: case VTX_EXIT_REASON_DR_ACCESS:
    case VTX_EXIT_REASON_IO_INSTRUCTION: case VTX_EXIT_REASON_RDMSR: case VTX_EXIT_REASON_WRMSR:
    case VTX_EXIT_REASON_MWAIT: case VTX_EXIT_REASON_MONITOR: case VTX_EXIT_REASON_PAUSE:
    case VTX_EXIT_REASON_GDTR_IDTR: case VTX_EXIT_REASON_LDTR_TR: case VTX_EXIT_REASON_INVEPT:
    case VTX_EXIT_REASON_RDTSCP: case VTX_EXIT_REASON_INVVPID: case VTX_EXIT_REASON_WBINVD:
    case VTX_EXIT_REASON_XSETBV: case VTX_EXIT_REASON_RDRAND: case VTX_EXIT_REASON_INVPCID:
    case VTX_EXIT_REASON_VMFUNC: case VTX_EXIT_REASON_RDSEED: case VTX_EXIT_REASON_XSAVES:
    case VTX_EXIT_REASON_XRSTORS:
        return true;
    default:
        return false;
    }
}

static uint64_t saved_rflags(uint64_t rflags, const vtx_exit_info *e)
{
    const uint64_t RF = 1ull << 16;
    if (exit_by_instruction(e->reason))
        return rflags & ~RF;
    if (e->reason == VTX_EXIT_REASON_EXCEPTION_NMI && (e->intr_info >> 31)) {
        unsigned type = (e->intr_info >> 8) & 7, vector = e->intr_info & 0xFF;
        if (type == 3 && vector != 1 && vector != 8 && vector != 18 && vector != 2)
            return rflags | RF; /* a fault: the pushed image would have RF = 1 */
    }
    return rflags;
}

vtx_status vtx_vm_exit(vtx_machine *m, const vtx_exit_info *e, vtx_insn_result *r)
{
    vtx_vmcs_values *f = &m->current->f;
    exit_snapshot *snap = NULL;
    if (vtx_vmcs_get(f, VTX_SLOT_EXIT_MSR_STORE_COUNT) || vtx_vmcs_get(f, VTX_SLOT_EXIT_MSR_LOAD_COUNT)) {
        if (!(snap = snapshot_take(m))) {
            r->outcome = VTX_GUEST_STOPPED;
            snprintf(r->why, sizeof r->why, "out of memory before VM exit %u", e->reason);
            return VTX_ERR_NO_MEMORY;
        }
    }
    vtx_vmcs_set(f, VTX_SLOT_EXIT_REASON, e->reason);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_QUALIFICATION, e->qualification);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_INTR_INFO, e->intr_info);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_INTR_ERROR_CODE, e->intr_error);
    vtx_vmcs_set(f, VTX_SLOT_IDT_VECTORING_INFO, e->idt_vectoring_info);
    vtx_vmcs_set(f, VTX_SLOT_IDT_VECTORING_ERROR_CODE, e->idt_vectoring_error);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_INSTRUCTION_LEN, e->instruction_len);
    vtx_vmcs_set(f, VTX_SLOT_EXIT_INSTRUCTION_INFO, e->instruction_info);
    if (e->has_guest_linear)
        vtx_vmcs_set(f, VTX_SLOT_GUEST_LINEAR_ADDR, e->guest_linear);
    if (e->has_guest_phys)
        vtx_vmcs_set(f, VTX_SLOT_GUEST_PHYSICAL_ADDR, e->guest_phys); /* EPT-V-5 */
    m->g.cpu.rflags = saved_rflags(m->g.cpu.rflags, e); /* EXIT-8 */
    vtx_guest_save(m, f);
    vtx_ept_store_pdptes(m, f); /* EPT-W-5 */
    uint64_t inj = vtx_vmcs_get(f, VTX_SLOT_ENTRY_INTR_INFO);
    vtx_vmcs_set(f, VTX_SLOT_ENTRY_INTR_INFO, inj & ~(uint64_t)0x80000000u);
    /* EXIT-10: with IA32_VMX_MISC[5] = 1, IA32_EFER.LMA is stored into "IA-32e mode guest". */
    if ((m->profile.msr[VTX_CAP_IA32_VMX_MISC] >> 5) & 1) {
        uint64_t entry = vtx_vmcs_get(f, VTX_SLOT_ENTRY_CONTROLS) & ~(uint64_t)VTX_ENTRY_IA32E_MODE_GUEST;
        if (m->g.cpu.efer & VTX_EFER_LMA)
            entry |= VTX_ENTRY_IA32E_MODE_GUEST;
        vtx_vmcs_set(f, VTX_SLOT_ENTRY_CONTROLS, entry);
    }
    /* SDM "Saving MSRs": after the guest state is saved, before the host state is loaded. */
    char why[200];
    const char *abort_why = NULL;
    if (snap && !vtx_msr_exit_store(m, f, why, sizeof why))
        abort_why = why;
    if (!abort_why) {
        m->g.timer_armed = false;
        m->in_guest = false;
        vtx_tlb_on_exit(m, f); /* PG-2 */
        m->cycles += m->costs.vm_exit;
        vtx_load_host_state(m, f);
        /* SDM "Loading MSRs" (VM exits): after the host state is loaded. */
        if (snap && !vtx_msr_exit_load(m, f, why, sizeof why))
            abort_why = why;
    }
    if (abort_why) {
        snapshot_restore(m, snap);
        r->outcome = VTX_GUEST_STOPPED;
        char msg[512];
        const char *name = vtx_exit_reason_name(e->reason);
        snprintf(msg, sizeof msg, "VM exit %u (%s): %s: a VMX abort on hardware, not modelled (the exit was "
                 "undone; the guest is as before it)", e->reason, name ? name : "?", abort_why);
        snprintf(r->why, sizeof r->why, "%.*s", (int)sizeof r->why - 1, msg);
        return VTX_ERR_UNSUPPORTED;
    }
    free(snap);
    r->outcome = VTX_VMEXIT;
    r->exit_reason = e->reason;
    r->exit_qualification = e->qualification;
    r->rflags = m->root.rflags;
    if (m->vmm_monitor) vtx_vmm_mon_exit(m);
    return VTX_OK;
}
