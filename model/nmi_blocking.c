/*
 * Blocking by NMI and virtual-NMI blocking, all of it (catalogue A.4, D:
 * BLK-NMI-*, VNMI-*): set when an NMI is delivered, cleared by IRET, and
 * whether a pending NMI can be taken at this boundary.
 *
 * Whether a pending NMI can be taken: with "virtual NMIs" = 0, blocking by NMI holds it off (VNMI-5, VNMI-6);
 * with "virtual NMIs" = 1 the bit is virtual-NMI blocking, which does not hold
 * off real NMIs (VNMI-2). Blocking by STI and MOV SS hold it off per the knobs
 * CFG-STI-NMI and CFG-MSS-NMI (VNMI-11). Wait-for-SIPI blocks NMIs (HLT-8).
 */
#include "nmi_blocking.h"
#include "task_switch.h"
#include "windows.h"

bool vtx_nmi_unblocked(const vtx_machine *m, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    uint32_t pin = (uint32_t)vtx_vmcs_get(&m->current->f, VTX_SLOT_PIN_CONTROLS);
    if (g->activity == VTX_WAIT_SIPI) {
        *rule = "HLT-8";
        *why = "NMIs are blocked in wait-for-SIPI";
        return false;
    }
    if (g->block_nmi && !(pin & VTX_PIN_VIRTUAL_NMIS)) {
        *rule = "BLK-NMI-1";
        *why = "blocking by NMI (until IRET)";
        return false;
    }
    if (g->block_movss && (m->profile.knobs & VTX_KNOB_MSS_NMI)) {
        *rule = "CFG-MSS-NMI";
        *why = "blocking by MOV SS (CFG-MSS-NMI on)";
        return false;
    }
    if (g->block_sti && (m->profile.knobs & VTX_KNOB_STI_NMI)) {
        *rule = "CFG-STI-NMI";
        *why = "blocking by STI (CFG-STI-NMI on)";
        return false;
    }
    return true;
}

void vtx_nmi_blocking_by_delivery(vtx_guest *g, bool delivering_nmi)
{
    if (delivering_nmi)
        g->block_nmi = true; /* BLK-NMI-1, BLK-NMI-3 */
}

void vtx_nmi_iret_fault_exit(const vtx_machine *m, uint8_t vector, vtx_exit_info *ex)
{
    if (m->iret_unblocked_nmi && ex->reason == VTX_EXIT_REASON_EXCEPTION_NMI && !(ex->idt_vectoring_info >> 31) &&
        vector != 8)
        ex->intr_info |= 1u << 12;
}

vtx_step vtx_exec_iret(vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st)
{
    vtx_guest *g = &m->g;
    /* VNMI-4, VNMI-6, BLK-NMI-1: IRET removes (virtual-)NMI blocking, even if it
     * faults; with NMI exiting = 1 and virtual NMIs = 0 it does not (VNMI-5). */
    uint32_t pin = vtx_vmcs32(m, VTX_SLOT_PIN_CONTROLS);
    bool unblocks = (pin & VTX_PIN_VIRTUAL_NMIS) || !(pin & VTX_PIN_NMI_EXITING);
    bool was_blocked = g->block_nmi;
    /* IRET with NT = 1 in protected mode: a task switch (task_switch.c). Its VM
     * exit comes before IRET changes anything, NMI blocking included (only a
     * fault during IRET unblocks, SDM "Architectural State Before a VM Exit"). */
    vtx_task_check tc;
    vtx_task_switch_of_insn(m, insn, &tc);
    if (tc.outcome == VTX_TASK_SWITCH)
        return vtx_task_switch_step(m, &tc, insn, ex, r, st);
    /* VNMI-9: cleared before a fault of the IRET exits. */
    if (unblocks)
        g->block_nmi = false;
    /* Read by vtx_nmi_iret_fault_exit while the IRET is being executed. */
    m->iret_unblocked_nmi = unblocks && was_blocked;
    vtx_step next;
    if (tc.outcome != VTX_TASK_NONE) {
        /* A fault of the task return's checks is a fault of IRET (VNMI-7). */
        next = vtx_task_switch_step(m, &tc, insn, ex, r, st);
        if (next == VTX_STEP_EXIT)
            vtx_nmi_iret_fault_exit(m, tc.vector, ex);
    } else {
        /* A fault the engine raises comes back through vtx_after_engine (execute.c),
         * which marks its exit with vtx_nmi_iret_fault_exit. */
        next = vtx_step_engine(m, VTX_IC_IRET, ex, r, st);
    }
    m->iret_unblocked_nmi = false;
    return next;
}
