/*
 * The instruction-boundary evaluation of VMX non-root operation (catalogue G.1,
 * PRI-2, PRI-3): every event is classified as idle, blocked (and by which rule),
 * beaten by a higher-priority event, or taken; the winner decides the boundary.
 * Blocking is applied before priority (PRI-3).
 */
#include "apic_virt.h"
#include "pending_debug.h"
#include "windows.h"
#include "../cpu/bulk.h"

static const char *const event_names[] = {
#define VTX_X_EN(n, d) #n,
    VTX_BOUNDARY_EVENTS(VTX_X_EN)
#undef VTX_X_EN
};
static const char *const event_desc[] = {
#define VTX_X_ED(n, d) d,
    VTX_BOUNDARY_EVENTS(VTX_X_ED)
#undef VTX_X_ED
};

const char *vtx_event_name(vtx_event e) { return (unsigned)e < VTX_EV_COUNT ? event_names[e] : NULL; }
const char *vtx_event_description(vtx_event e) { return (unsigned)e < VTX_EV_COUNT ? event_desc[e] : NULL; }

const char *vtx_boundary_action_name(vtx_boundary_action a)
{
    static const char *const n[] = {"exit", "deliver", "execute", "idle"};
    return (unsigned)a < 4 ? n[a] : "?";
}

static void verdict(vtx_boundary_report *rep, vtx_event e, bool armed, bool open, const char *rule, const char *why)
{
    vtx_event_verdict *v = &rep->events[e];
    if (!armed) {
        *v = (vtx_event_verdict){VTX_EVS_IDLE, NULL, NULL};
    } else if (!open) {
        *v = (vtx_event_verdict){VTX_EVS_BLOCKED, rule, why};
    } else if (rep->winner < 0) {
        rep->winner = (int)e;
        *v = (vtx_event_verdict){VTX_EVS_TAKEN, rule, NULL};
    } else {
        *v = (vtx_event_verdict){VTX_EVS_BEATEN, "PRI-2", "a higher-priority event won"};
    }
}

bool vtx_boundary_nothing_armed(const vtx_machine *m)
{
    const vtx_guest *g = &m->g;
    uint32_t proc = (uint32_t)vtx_vmcs_get(&m->current->f, VTX_SLOT_PROC_CONTROLS);
    return !m->sipi_pending && !g->tpr_exit && !g->apic_trap && !m->init_pending && !g->mtf_pending &&
           !vtx_pending_db_armed(g) && !vtx_timer_expired(m) &&
           !(proc & (VTX_PROC_NMI_WINDOW_EXITING | VTX_PROC_INTR_WINDOW_EXITING)) && !m->nmi_pending &&
           !g->vintr_recognized && !m->intr_line;
}

void vtx_boundary_evaluate(vtx_machine *m, bool after_entry, vtx_boundary_report *rep, vtx_exit_info *ex)
{
    const vtx_guest *g = &m->g;
    const vtx_vmcs_values *f = &m->current->f;
    uint32_t pin = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PIN_CONTROLS);
    uint32_t proc = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS);
    uint32_t exit_ctls = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_CONTROLS);
    bool sipi_wait = g->activity == VTX_WAIT_SIPI;
    const char *rule = NULL, *why = NULL;
    bool open;

    vtx_bulk_zero(rep, sizeof *rep);
    rep->rip = g->cpu.rip;
    rep->rflags = g->cpu.rflags;
    rep->cycle = m->cycles;
    rep->instructions = m->instructions;
    rep->interruptibility = (g->block_sti ? VTX_INTR_STI : 0) | (g->block_movss ? VTX_INTR_MOV_SS : 0) |
                            (g->block_nmi ? VTX_INTR_NMI : 0);
    rep->activity = g->activity;
    rep->after_entry = after_entry;
    rep->winner = -1;
    *ex = (vtx_exit_info){0};

    /* Nothing armed (every event's first verdict argument below is false; a
     * virtual interrupt is armed without being recognised only with
     * interrupt-window exiting): every verdict is idle ({0}) and the activity
     * state decides. The predicates have no side effects; the report is the one
     * the steps below make. */
    if (vtx_boundary_nothing_armed(m)) {
        rep->action = g->activity == VTX_ACTIVE ? VTX_ACT_EXECUTE : VTX_ACT_IDLE;
        return;
    }

    /* 0. The wait-for-SIPI check of G.1: there a SIPI is the only event that acts
     * (exit reason 4, HLT-8); in the active, HLT and shutdown states a SIPI is
     * discarded at this boundary, not kept pending (HLT-2, HLT-8). */
    if (m->sipi_pending && !sipi_wait) {
        verdict(rep, VTX_EV_SIPI, true, false, g->activity == VTX_SHUTDOWN ? "HLT-8" : "HLT-2",
                g->activity == VTX_SHUTDOWN ? "SIPIs are discarded in shutdown"
                                            : "SIPIs are discarded in the active and HLT states");
        m->sipi_pending = false;
    } else {
        verdict(rep, VTX_EV_SIPI, m->sipi_pending, true, "HLT-8", NULL);
    }
    /* 1. A TPR-below-threshold exit, right after VM entry (IW-8) or trap-like after a
     * write to VTPR; trap-like virtualized-EOI / APIC-write exits (PRI-2 item 1). */
    open = vtx_tpr_exit_open(m, &rule, &why);
    verdict(rep, VTX_EV_TPR_THRESHOLD, g->tpr_exit != 0, open, rule, why);
    verdict(rep, VTX_EV_APIC_TRAP, g->apic_trap != 0, true, "PRI-2", NULL);
    /* 3. INIT (exit reason 3); blocked in wait-for-SIPI (HLT-8). */
    verdict(rep, VTX_EV_INIT, m->init_pending, !sipi_wait, sipi_wait ? "HLT-8" : "PRI-2",
            "INIT is blocked in wait-for-SIPI");
    /* 4. A pending MTF VM exit; not in shutdown or wait-for-SIPI (MTF-7; mtf.c). */
    open = vtx_mtf_open(m, &rule, &why);
    verdict(rep, VTX_EV_MTF, g->mtf_pending, open, rule, why);
    /* 5. Pending debug exceptions (trap class); held by MOV-SS blocking (BLK-MSS-1,
     * PRI-5; pending_debug.c). */
    open = vtx_pending_db_open(m, &rule, &why);
    verdict(rep, VTX_EV_PENDING_DB, vtx_pending_db_armed(g), open, rule, why);
    /* 6. VMX-preemption timer at zero (PT-4, PT-6; CFG-PT-SHADOW; preemption_timer.c). */
    open = vtx_timer_open(m, &rule, &why);
    verdict(rep, VTX_EV_PREEMPTION_TIMER, vtx_timer_expired(m), open, rule, why);
    /* 7. NMI-window exiting (NW-2). */
    open = vtx_nmi_window_open(m, &rule, &why);
    verdict(rep, VTX_EV_NMI_WINDOW, proc & VTX_PROC_NMI_WINDOW_EXITING, open, open ? "NW-2" : rule, why);
    /* 8. NMI (VNMI-1, BLK-NMI-1, VNMI-2). */
    open = vtx_nmi_unblocked(m, &rule, &why);
    verdict(rep, VTX_EV_NMI, m->nmi_pending, open, open ? "VNMI-1" : rule, why);
    /* 9. Interrupt-window exiting (IW-1). */
    open = vtx_intr_window_open(m, &rule, &why);
    verdict(rep, VTX_EV_INTR_WINDOW, proc & VTX_PROC_INTR_WINDOW_EXITING, open, open ? "IW-1" : rule, why);
    /* 9. ... or virtual-interrupt delivery, at the same priority (IW-7). */
    bool vintr;
    open = vtx_virtual_intr_open(m, &vintr, &rule, &why);
    verdict(rep, VTX_EV_VIRTUAL_INTR, vintr, open, rule, why);
    /* 10. External interrupt. */
    open = vtx_extint_unblocked(m, &rule, &why);
    verdict(rep, VTX_EV_EXT_INTR, m->intr_line, open, open ? "IW-9" : rule, why);

    switch (rep->winner) {
    case VTX_EV_SIPI:
        /* EXIT-3: the qualification is the SIPI vector (bits 7:0); the guest state
         * is saved as it is: activity wait-for-SIPI, RIP unchanged (EXIT-7, EXIT-9). */
        rep->action = VTX_ACT_EXIT;
        ex->reason = VTX_EXIT_REASON_SIPI;
        ex->qualification = m->sipi_vector;
        break;
    case VTX_EV_TPR_THRESHOLD:
        rep->action = VTX_ACT_EXIT; /* qualification 0 (EXIT-3); RIP as it is (EXIT-7) */
        ex->reason = VTX_EXIT_REASON_TPR_BELOW_THRESHOLD;
        break;
    case VTX_EV_APIC_TRAP:
        rep->action = VTX_ACT_EXIT; /* EXIT-3: the vector (45) or the page offset (56) */
        ex->reason = g->apic_trap;
        ex->qualification = g->apic_trap_qual;
        break;
    case VTX_EV_INIT:
        rep->action = VTX_ACT_EXIT;
        ex->reason = VTX_EXIT_REASON_INIT_SIGNAL;
        break;
    case VTX_EV_MTF:
        rep->action = VTX_ACT_EXIT;
        ex->reason = VTX_EXIT_REASON_MONITOR_TRAP_FLAG;
        break;
    case VTX_EV_PENDING_DB:
        /* PRI-5: the #DB exits if bit 1 of the exception bitmap is set; else it is delivered. */
        if (vtx_vmcs_get(f, VTX_SLOT_EXCEPTION_BITMAP) & (1u << 1)) {
            rep->action = VTX_ACT_EXIT;
            ex->reason = VTX_EXIT_REASON_EXCEPTION_NMI;
            ex->qualification = vtx_pending_db_exit_qualification(g); /* B3-B0, BD, BS, RTM (EXIT-3) */
            ex->intr_info = 0x80000000u | (3u << 8) | 1u;     /* valid, hardware exception, vector 1 */
        } else {
            rep->action = VTX_ACT_DELIVER;
        }
        break;
    case VTX_EV_PREEMPTION_TIMER:
        rep->action = VTX_ACT_EXIT;
        ex->reason = VTX_EXIT_REASON_PREEMPTION_TIMER;
        break;
    case VTX_EV_NMI_WINDOW:
        rep->action = VTX_ACT_EXIT;
        ex->reason = VTX_EXIT_REASON_NMI_WINDOW;
        break;
    case VTX_EV_NMI:
        if (pin & VTX_PIN_NMI_EXITING) {
            /* VNMI-1: exit reason 0, interruption information vector 2, type 2 (NMI), valid. */
            rep->action = VTX_ACT_EXIT;
            ex->reason = VTX_EXIT_REASON_EXCEPTION_NMI;
            ex->intr_info = 0x80000000u | (2u << 8) | 2u;
        } else {
            rep->action = VTX_ACT_DELIVER;
        }
        break;
    case VTX_EV_INTR_WINDOW:
        rep->action = VTX_ACT_EXIT;
        ex->reason = VTX_EXIT_REASON_INTERRUPT_WINDOW;
        break;
    case VTX_EV_VIRTUAL_INTR:
        rep->action = VTX_ACT_DELIVER;
        break;
    case VTX_EV_EXT_INTR:
        if (pin & VTX_PIN_EXT_INTR_EXITING) {
            rep->action = VTX_ACT_EXIT;
            ex->reason = VTX_EXIT_REASON_EXTERNAL_INTERRUPT;
            /* EXIT-4: valid with the vector only when "acknowledge interrupt on exit" = 1. */
            if (exit_ctls & VTX_EXIT_ACK_INTR_ON_EXIT)
                ex->intr_info = 0x80000000u | m->intr_vector;
        } else {
            rep->action = VTX_ACT_DELIVER;
        }
        break;
    default:
        rep->action = g->activity == VTX_ACTIVE ? VTX_ACT_EXECUTE : VTX_ACT_IDLE;
        break;
    }
}

void vtx_boundary_take(vtx_machine *m, const vtx_boundary_report *rep)
{
    const vtx_vmcs_values *f = &m->current->f;
    switch (rep->winner) {
    case VTX_EV_SIPI:
        m->sipi_pending = false;
        m->g.pending_dbg = 0; /* EXIT-9: cleared by every exit but INIT, #MC, SMI, ... */
        break;
    case VTX_EV_TPR_THRESHOLD:
        m->g.tpr_exit = 0;
        break;
    case VTX_EV_APIC_TRAP:
        m->g.apic_trap = 0;
        break;
    case VTX_EV_VIRTUAL_INTR:
        vtx_virtual_intr_acknowledge(m); /* sets delivered_vector */
        break;
    case VTX_EV_INIT:
        m->init_pending = false;
        break;
    case VTX_EV_MTF:
        m->g.mtf_pending = false;
        break;
    case VTX_EV_PENDING_DB:
        if (rep->action == VTX_ACT_EXIT)
            m->g.pending_dbg = 0; /* reported in the exit qualification instead (EXIT-9) */
        break;
    case VTX_EV_NMI:
        m->nmi_pending = false;
        break;
    case VTX_EV_EXT_INTR:
        /* Acknowledged by the exit (ack-on-exit) or by delivery; otherwise it stays pending. */
        m->delivered_vector = m->intr_vector;
        if (rep->action != VTX_ACT_EXIT ||
            (vtx_vmcs_get(f, VTX_SLOT_EXIT_CONTROLS) & VTX_EXIT_ACK_INTR_ON_EXIT)) {
            m->intr_line = false;
            vtx_bus_ack(m, m->intr_vector); /* ROOT-INTR-2: the source's INTA (bus.h) */
        }
        break;
    default:
        break;
    }
}
