/*
 * VMLAUNCH and VMRESUME: the basic checks (catalogue F.1 ENT-BASIC-1..3; SDM
 * Vol. 3 "Basic VM-Entry Checks"), the checks on controls, host and guest state
 * (entry_*.c), then VM entry proper (guest state, the VM-entry MSR-load area,
 * event injection) and the run of the guest.
 */
#include <stdlib.h>
#include "apic_virt.h"
#include "entry_checks.h"
#include "execute.h"
#include "insn_table.h"
#include "msr.h"
#include "vmm_check_internal.h"

static vtx_status enter_guest(vtx_machine *m, bool launch, vtx_insn_result *r);

/* Controls whose effects the model does not carry out; NULL when none is set.
 * ("Virtualize APIC accesses" is carried out only in part: apic_virt.h and
 * vtx_vapic_entry_refused.) */
static const char *unmodelled_control(const vtx_vmcs_values *f)
{
    static const struct { vtx_ctl_field field; uint32_t bits; } unmodelled[] = {
        {VTX_CTL_PIN, VTX_PIN_POSTED_INTR},
        {VTX_CTL_PROC, VTX_PROC_TERTIARY_CONTROLS},
        {VTX_CTL_PROC2, VTX_PROC2_APIC_REG_VIRT | VTX_PROC2_PAUSE_LOOP_EXITING | VTX_PROC2_VMCS_SHADOWING |
                            VTX_PROC2_ENCLS_EXITING | VTX_PROC2_ENABLE_PML | VTX_PROC2_EPT_VIOLATION_VE |
                            VTX_PROC2_CONCEAL_VMX_FROM_PT | VTX_PROC2_ENABLE_XSAVES | VTX_PROC2_MODE_BASED_EPT_EXEC |
                            VTX_PROC2_SUBPAGE_WRITE_PERM | VTX_PROC2_PT_USES_GPA | VTX_PROC2_USER_WAIT_PAUSE |
                            VTX_PROC2_ENCLV_EXITING},
        {VTX_CTL_EXIT, VTX_EXIT_CONCEAL_VMX_FROM_PT | VTX_EXIT_CLEAR_RTIT_CTL | VTX_EXIT_CLEAR_LBR_CTL |
                           VTX_EXIT_LOAD_CET_STATE | VTX_EXIT_LOAD_PKRS},
        {VTX_CTL_ENTRY, VTX_ENTRY_CONCEAL_VMX_FROM_PT | VTX_ENTRY_LOAD_RTIT_CTL | VTX_ENTRY_LOAD_CET_STATE |
                            VTX_ENTRY_LOAD_LBR_CTL | VTX_ENTRY_LOAD_PKRS},
    };
    static const enum vtx_slot slot[] = {VTX_SLOT_PIN_CONTROLS, VTX_SLOT_PROC_CONTROLS, VTX_SLOT_PROC_CONTROLS2,
                                         VTX_SLOT_EXIT_CONTROLS, VTX_SLOT_ENTRY_CONTROLS};
    bool secondary = vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_SECONDARY_CONTROLS;
    for (size_t i = 0; i < sizeof unmodelled / sizeof unmodelled[0]; i++) {
        vtx_ctl_field fld = unmodelled[i].field;
        if (fld == VTX_CTL_PROC2 && !secondary)
            continue;
        uint32_t set = (uint32_t)vtx_vmcs_get(f, slot[fld]) & unmodelled[i].bits;
        if (set)
            return vtx_control_bit_name(fld, (unsigned)__builtin_ctz(set));
    }
    /* VM functions: VMFUNC exits (reason 59) for every function, so only a
     * function enabled in the VM-function controls (EPTP switching) is missing. */
    if (secondary && (vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS2) & VTX_PROC2_ENABLE_VMFUNC) &&
        vtx_vmcs_get(f, VTX_SLOT_VM_FUNCTION_CONTROLS))
        return "VM functions (EPTP switching)";
    return NULL;
}

static vtx_status vm_entry(vtx_machine *m, bool launch, vtx_insn_result *r)
{
    if (!m || !r)
        return VTX_ERR_INVALID_ARG;
    vtx_res_reset(r);
    if (vtx_in_guest_refuse(m, r))
        return VTX_ERR_STATE;
    const char *insn = launch ? "VMLAUNCH" : "VMRESUME";
    /* ENT-BASIC-1: #UD / #GP(0) in root operation. */
    if (vtx_vmx_insn_faults(m, r, insn))
        return VTX_OK;
    /* ENT-BASIC-2: no current VMCS, or a shadow VMCS. */
    if (!m->current) {
        vtx_vmfail_invalid(m, r, VTX_CHECK_NO_CURRENT_VMCS, "%s with no current VMCS", insn);
        return VTX_OK;
    }
    if (m->current->shadow) {
        vtx_vmfail_invalid(m, r, VTX_CHECK_CURRENT_VMCS_SHADOW,
                           "%s with the shadow VMCS 0x%llx as the current VMCS", insn,
                           (unsigned long long)m->current->pa);
        return VTX_OK;
    }
    /* ENT-BASIC-3 (and BLK-MSS-3): MOV-SS blocking, then the launch state. */
    if (m->root.blocking_by_mov_ss) {
        vtx_vmfail(m, r, VTX_VMERR_ENTRY_EVENTS_BLOCKED_MOV_SS, VTX_CHECK_ENTRY_MOV_SS_BLOCKING,
                   "%s right after MOV SS / POP SS (events blocked by MOV SS)", insn);
        return VTX_OK;
    }
    if (launch && m->current->launch != VTX_LAUNCH_CLEAR) {
        vtx_vmfail(m, r, VTX_VMERR_VMLAUNCH_NONCLEAR, VTX_CHECK_VMLAUNCH_NOT_CLEAR,
                   "VMLAUNCH of VMCS 0x%llx whose launch state is launched (use VMRESUME, or VMCLEAR it first)",
                   (unsigned long long)m->current->pa);
        return VTX_OK;
    }
    if (!launch && m->current->launch != VTX_LAUNCH_LAUNCHED) {
        vtx_vmfail(m, r, VTX_VMERR_VMRESUME_NONLAUNCHED, VTX_CHECK_VMRESUME_NOT_LAUNCHED,
                   "VMRESUME of VMCS 0x%llx whose launch state is clear (use VMLAUNCH)",
                   (unsigned long long)m->current->pa);
        return VTX_OK;
    }
    if (!launch && m->current->crossed_vmxoff) {
        vtx_vmfail(m, r, VTX_VMERR_VMRESUME_AFTER_VMXOFF, VTX_CHECK_VMRESUME_AFTER_VMXOFF,
                   "VMRESUME of VMCS 0x%llx, which was active across VMXOFF (VMCLEAR it before VMXOFF)",
                   (unsigned long long)m->current->pa);
        return VTX_OK;
    }
    /* ENT-BASIC-4: checks on the controls (error 7), then on the host state (error 8). */
    vtx_entry_fail fail; /* not = {0}: the 240-byte sentence needs only its terminator */
    fail.check = 0;
    fail.qualification = 0;
    fail.why[0] = '\0';
    switch (vtx_entry_checks(m, m->current, &fail)) {
    case VTX_ENTRY_BAD_CONTROLS:
        vtx_vmfail(m, r, VTX_VMERR_ENTRY_INVALID_CONTROLS, fail.check, "%s", fail.why);
        return VTX_OK;
    case VTX_ENTRY_BAD_HOST:
        vtx_vmfail(m, r, VTX_VMERR_ENTRY_INVALID_HOST_STATE, fail.check, "%s", fail.why);
        return VTX_OK;
    case VTX_ENTRY_BAD_GUEST: /* ENT-BASIC-5: the guest-state checks fail as a VM-entry failure exit. */
        return vtx_entry_fail_exit(m, r, VTX_EXIT_REASON_INVALID_GUEST_STATE, &fail);
    case VTX_ENTRY_PASS:
        break;
    }
    /* A control the profile allows but the model does not carry out would make
     * the run silently wrong: refuse it, naming it, before anything changes. */
    /* Controls of the instruction table the model does not carry out (model/insn_table.h). */
    if (vtx_insn_rows_entry_refused(&m->current->f, NULL, 0)) {
        int k = snprintf(r->why, sizeof r->why, "%s passed every VM-entry check, but ", insn);
        vtx_insn_rows_entry_refused(&m->current->f, r->why + k, sizeof r->why - (size_t)k);
        return VTX_ERR_UNSUPPORTED;
    }
    const char *missing = unmodelled_control(&m->current->f);
    if (missing) {
        snprintf(r->why, sizeof r->why, "%s passed every VM-entry check, but \"%s\" is not modelled yet", insn,
                 missing);
        return VTX_ERR_UNSUPPORTED;
    }
    /* EPT: translated for real on Unicorn 2.1 (ept_walk.c, EPT-W-1...); on Unicorn
     * 2.0.1 only as far as the engine can carry it out (EPT-ID-1/2). */
    m->ept_on = false;
    if ((vtx_vmcs_get(&m->current->f, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_SECONDARY_CONTROLS) &&
        (vtx_vmcs_get(&m->current->f, VTX_SLOT_PROC_CONTROLS2) & VTX_PROC2_ENABLE_EPT)) {
        char ept[320];
        uint64_t eptp = vtx_vmcs_get(&m->current->f, VTX_SLOT_EPT_POINTER);
        if (!vtx_engine_translates_paging() && vtx_ept_refused(m, eptp, ept, sizeof ept)) {
            snprintf(r->why, sizeof r->why, "%s passed every VM-entry check, but %.*s", insn,
                     (int)(sizeof r->why - 48), ept);
            return VTX_ERR_UNSUPPORTED;
        }
        m->ept_on = vtx_engine_translates_paging();
        m->eptp = eptp;
        m->ept_fault.pending = false;
        vtx_ept_load_pdptes(m, &m->current->f);
    }
    char vapic[192];
    if (vtx_vapic_entry_refused(m, &m->current->f, vapic, sizeof vapic)) {
        snprintf(r->why, sizeof r->why, "%s passed every VM-entry check, but %s", insn, vapic);
        return VTX_ERR_UNSUPPORTED;
    }
    return enter_guest(m, launch, r);
}

/* The VM-entry MSR-load area (SDM "Loading MSRs", after "Loading Guest State"
 * and before event injection). On a failing entry: a VM-entry failure exit
 * 34 | 0x80000000 with the entry's 1-based number as the qualification, host
 * state loaded, launch state unchanged, the entries before it left loaded
 * (ENT-BASIC-5). Returns true when the entry goes on; else *st is the status
 * of VMLAUNCH/VMRESUME (a VMX abort in the VM-exit MSR-load area after the
 * failure is undone entirely: nothing of this entry is left). */
static bool load_entry_msrs(vtx_machine *m, const vtx_machine *before, const vtx_vmcs_values *f_before,
                            vtx_insn_result *r, vtx_status *st)
{
    vtx_vmcs_values *f = &m->current->f;
    vtx_entry_fail fail = {0};
    if (vtx_msr_entry_load(m, f, &fail))
        return true;
    m->engine_dirty = true;
    *st = vtx_entry_fail_exit(m, r, VTX_EXIT_REASON_MSR_LOADING, &fail);
    if (*st != VTX_OK && before) {
        vtx_vmcs *cur = before->current;
        char why[sizeof r->why];
        snprintf(why, sizeof why, "%s", r->why);
        *m = *before;
        cur->f = *f_before;
        snprintf(r->why, sizeof r->why, "%s", why);
    }
    return false;
}

/* VM entry proper after the checks (SDM "Loading Guest State", "Loading MSRs",
 * "Special Features of VM Entry"): load the guest state and the VM-entry
 * MSR-load area, mark the VMCS launched, start the preemption timer (PT-3),
 * then evaluate the first boundary right after entry (IW-2, NW-3, PT-3, PRI-4)
 * and run. */
static vtx_status enter_guest(vtx_machine *m, bool launch, vtx_insn_result *r)
{
    vtx_vmcs_values *f = &m->current->f;
    vtx_msr_power_on(m);
    if (vtx_vmcs_get(f, VTX_SLOT_ENTRY_MSR_LOAD_COUNT)) {
        /* What the entry changes, kept to undo it if a VMX abort follows the failure. */
        struct { vtx_machine m; vtx_vmcs_values f; } *before = malloc(sizeof *before);
        if (!before) {
            snprintf(r->why, sizeof r->why, "out of memory before VM entry");
            return VTX_ERR_NO_MEMORY;
        }
        before->m = *m;
        before->f = *f;
        vtx_guest_load(m, f);
        vtx_status st = VTX_OK;
        bool go_on = load_entry_msrs(m, &before->m, &before->f, r, &st);
        free(before);
        if (!go_on)
            return st;
    } else {
        vtx_guest_load(m, f);
    }
    vtx_tlb_on_entry(m, f); /* PG-2 */
    if (m->vmm_monitor) vtx_vmm_mon_entry(m);
    m->cycles += m->costs.vm_entry;
    if (launch)
        m->current->launch = VTX_LAUNCH_LAUNCHED;
    m->in_guest = true;
    m->guest_inexact = false;
    m->g.timer_armed = false;
    if (vtx_vmcs_get(f, VTX_SLOT_PIN_CONTROLS) & VTX_PIN_PREEMPTION_TIMER)
        vtx_timer_start(m, (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PREEMPTION_TIMER_VALUE));
    m->engine_dirty = true;

    /* Event injection (catalogue E.3, INJ-5..18): after the guest state is in
     * place, the event is delivered through the guest IDT as if it had occurred
     * normally; it never exits by itself (INJ-11), but a nested exception
     * consults the exception bitmap, with IDT-vectoring information describing
     * the injected event (INJ-18). */
    uint32_t inj = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_ENTRY_INTR_INFO);
    unsigned type = (inj >> 8) & 7;
    if ((inj >> 31) && type != 7) {
        uint32_t intr = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_GUEST_INTERRUPTIBILITY);
        /* INJ-14: pending debug exceptions are discarded, except for types 4 and 6
         * when blocking by MOV SS is indicated. */
        if (!((type == 4 || type == 6) && (intr & VTX_INTR_MOV_SS)))
            m->g.pending_dbg = 0;
        vtx_delivery d = {
            .vector = (uint8_t)inj,
            .type = (vtx_event_type)type,
            .has_error_code = (inj >> 11) & 1,
            .error_code = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_ENTRY_EXCEPTION_ERROR_CODE),
            .insn_len = (uint8_t)vtx_vmcs_get(f, VTX_SLOT_ENTRY_INSTRUCTION_LEN),
        };
        vtx_exit_info ex;
        vtx_status st = VTX_OK;
        m->injecting = true;
        vtx_step step = vtx_deliver_event(m, d, &ex, r, &st);
        m->injecting = false;
        if (step == VTX_STEP_EXIT)
            return vtx_vm_exit(m, &ex, r);
        if (step == VTX_STEP_STOP)
            return st;
    }
    return vtx_run_guest(m, true, r);
}

/* VMLAUNCH / VMRESUME, reported before and after to the VMX-operation observer (vmx_observer.c). */
static vtx_status observed_entry(vtx_machine *m, bool launch, vtx_insn_result *r)
{
    if (!m || !m->vmx_observer)
        return vm_entry(m, launch, r);
    vtx_vmx_observe(m, &(vtx_vmx_op){.kind = VTX_VMX_OP_ENTER, .launch = launch});
    vtx_status st = vm_entry(m, launch, r);
    if (r)
        vtx_vmx_observe(m, &(vtx_vmx_op){.kind = VTX_VMX_OP_OUTCOME, .launch = launch, .status = st, .result = r});
    return st;
}

vtx_status vtx_vmlaunch(vtx_machine *m, vtx_insn_result *r) { return observed_entry(m, true, r); }

vtx_status vtx_vmresume(vtx_machine *m, vtx_insn_result *r) { return observed_entry(m, false, r); }
