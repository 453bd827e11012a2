/*
 * Delivery of an event through the guest IDT/IVT in VMX non-root operation, with
 * the SDM's nesting rules (Vol. 3 "Exception and Interrupt Handling", Table 6-5;
 * "VM Exits Due to Exceptions" and "Information for VM Exits During Event
 * Delivery"): the exception bitmap decides whether a nested exception exits,
 * with IDT-vectoring information for the event being delivered (EXIT-5); two
 * contributory faults become #DF; a fault delivering #DF is a triple fault
 * (INJ-16). Used by guest instructions (execute.c), the boundary (run.c) and VM
 * entry's injection (vmentry.c). The frame itself is built by cpu/deliver.c.
 */
#include "execute.h"
#include "mtf.h"
#include "nmi_blocking.h"
#include "shadows.h"
#include "task_switch.h"

/* Event delivery ended in a VM exit (a nested exception that exits, a task gate,
 * #DF through the exception bitmap): an NMI being delivered is blocked before the
 * exit (BLK-NMI-3, VNMI-10); the shadows are gone (BLK-SAVE-1 (a)); an indirect
 * exit saves the active state (HLT-3). */
static void exit_during_delivery(vtx_guest *g, bool delivering_nmi)
{
    vtx_nmi_blocking_by_delivery(g, delivering_nmi);
    vtx_shadows_end(g);
    g->activity = VTX_ACTIVE;
}

/* The exception bitmap decides whether an exception exits (reason 0) or is
 * delivered; for #PF the error-code mask/match inverts the bit (SDM "Exception
 * Bitmap"). */
bool vtx_exception_exits(const vtx_machine *m, uint8_t vector, uint32_t error_code)
{
    bool bit = (vtx_vmcs32(m, VTX_SLOT_EXCEPTION_BITMAP) >> vector) & 1;
    if (vector == 14) {
        uint32_t mask = vtx_vmcs32(m, VTX_SLOT_PF_ERROR_CODE_MASK), match = vtx_vmcs32(m, VTX_SLOT_PF_ERROR_CODE_MATCH);
        return ((error_code & mask) == match) ? bit : !bit;
    }
    return bit;
}

/* Deliver an event through the guest IDT/IVT, with the SDM's nesting rules: a
 * nested exception consults the exception bitmap (exiting with IDT-vectoring
 * information for the event being delivered, EXIT-5), becomes #DF per Table 6-5,
 * and a fault delivering #DF is a triple fault (exit 2; INJ-16). */
vtx_step vtx_deliver_event(vtx_machine *m, vtx_delivery d, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st)
{
    vtx_guest *g = &m->g;
    /* The profile's processor has no 1-GiB pages (the model offers no CPUID for them). */
    const vtx_paging_caps caps = vtx_guest_caps(m);
    /* BLK-NMI-1, BLK-NMI-3: NMI blocking starts with the NMI's delivery, and stays
     * when that delivery ends in a nested exception that is delivered instead
     * (nmi_blocking.c). */
    const bool nmi = d.type == VTX_EVT_NMI;
    for (int depth = 0; depth < 4; depth++) {
        vtx_deliver_result res;
        m->ept_fault.pending = false;
        vtx_deliver_ex(&g->cpu, vtx_gmem(m), &caps, &d, &res);
        switch (res.outcome) {
        case VTX_DELIVERED:
            m->engine_dirty = true;
            vtx_shadows_end(g);                    /* dropped by any delivered event (BLK-STI-2) */
            g->activity = VTX_ACTIVE;              /* HLT-4: the frame holds the RIP after HLT */
            vtx_nmi_blocking_by_delivery(g, nmi);  /* BLK-NMI-1 */
            if (d.vector == 1 && d.type == VTX_EVT_HW_EXC && !m->injecting)
                g->cpu.dr7 &= ~(1ull << 13);       /* entering the #DB handler clears DR7.GD (not an injected #DB) */
            vtx_mtf_after(m);                      /* MTF-3, MTF-4 */
            return VTX_STEP_CONTINUE;
        case VTX_DELIVER_UNMAPPED:
            /* EPT-V-7: an EPT violation or misconfiguration during delivery exits
             * with IDT-vectoring information for the event being delivered. */
            if (res.linear_valid)
                vtx_ept_fault_at_linear(m, res.linear, res.at_final); /* EPT-V-3: bits 7 and 8 */
            if (vtx_ept_fault_exit(m, res.linear, ex)) {
                ex->idt_vectoring_info = vtx_intr_info(d.vector, d.type, d.has_error_code);
                ex->idt_vectoring_error = d.error_code;
                ex->instruction_len = (d.type >= VTX_EVT_SW_INT) ? d.insn_len : 0;
                if (nmi)
                    g->block_nmi = true; /* BLK-NMI-3: blocked before the exit */
                g->block_sti = g->block_movss = false;
                g->activity = VTX_ACTIVE;
                return VTX_STEP_EXIT;
            }
            return vtx_step_stop(r, st, VTX_ERR_UNMAPPED, "delivering vector %u: guest-physical address 0x%llx is not mapped",
                        d.vector, (unsigned long long)res.address);
        case VTX_DELIVER_TASK_GATE:
            /* A task gate whose checks passed: the task switch exits (reason 9)
             * during the delivery, like a nested fault that exits (task_switch.c). */
            vtx_task_switch_gate_exit((uint16_t)res.address, &d, ex);
            exit_during_delivery(g, nmi);
            return VTX_STEP_EXIT;
        case VTX_DELIVER_FAULT:
            break;
        }
        const vtx_delivery *n = &res.fault;
        vtx_exc_class first = vtx_deliver_class(d.vector, d.type), second = vtx_deliver_class(n->vector, n->type);
        if (vtx_deliver_makes_triple(first, second)) {
            *ex = (vtx_exit_info){.reason = VTX_EXIT_REASON_TRIPLE_FAULT};
            return VTX_STEP_EXIT;
        }
        if (vtx_exception_exits(m, n->vector, n->error_code)) {
            *ex = (vtx_exit_info){
                .reason = VTX_EXIT_REASON_EXCEPTION_NMI,
                .qualification = n->vector == 14 ? res.address : 0,
                .intr_info = vtx_intr_info(n->vector, VTX_EVT_HW_EXC, n->has_error_code),
                .intr_error = n->error_code,
                .idt_vectoring_info = vtx_intr_info(d.vector, d.type, d.has_error_code),
                .idt_vectoring_error = d.error_code,
                .instruction_len = (d.type >= VTX_EVT_SW_INT) ? d.insn_len : 0,
            };
            exit_during_delivery(g, nmi);
            return VTX_STEP_EXIT;
        }
        if (vtx_deliver_makes_df(first, second)) {
            /* INJ-11, EXIT-5: the #DF consults the exception bitmap too; a #DF that
             * exits directly is not "during event delivery" (IDT-vectoring invalid,
             * SDM "Information for VM Exits During Event Delivery"). */
            if (vtx_exception_exits(m, 8, 0)) {
                *ex = (vtx_exit_info){.reason = VTX_EXIT_REASON_EXCEPTION_NMI,
                                      .intr_info = vtx_intr_info(8, VTX_EVT_HW_EXC, true)};
                exit_during_delivery(g, nmi);
                return VTX_STEP_EXIT;
            }
            d = (vtx_delivery){.vector = 8, .type = VTX_EVT_HW_EXC, .has_error_code = true, .error_code = 0};
        } else {
            d = *n;
            d.push_rf = vtx_exception_is_fault(n->vector); /* a fault of the delivery (SDM "Debug Exceptions", RF) */
            if (n->vector == 14) {
                g->cpu.cr2 = res.address; /* a #PF that is delivered writes CR2 */
                m->engine_dirty = true;
            }
        }
    }
    return vtx_step_stop(r, st, VTX_ERR_UNSUPPORTED, "event delivery nested too deeply");
}
