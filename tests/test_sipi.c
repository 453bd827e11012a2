/*
 * Start-up IPIs (SIPI) and the wait-for-SIPI activity state: catalogue G.1 (the
 * wait-for-SIPI check comes first), HLT-2, HLT-8, EXIT-3 (qualification = the
 * vector), EXIT-7 (RIP unchanged), EXIT-9 (saved activity wait-for-SIPI; Bochs
 * bug #757 saved another one), and a single-CPU port of kut 6.14
 * vmx_sipi_signal_test: the "other CPU" that sends the SIPIs is the test, through
 * vtx_machine_raise_sipi() or a scheduled VTX_INPUT_SIPI.
 *
 * Guest code at G = 0x10000 on the "server" profile (IA32_VMX_MISC[8] = 1:
 * wait-for-SIPI is supported).
 */
#include "rules_fixture.h"

#define R_SIPI VTX_EXIT_REASON_SIPI

TestSuite(sipi, .init = rf_setup, .fini = rf_teardown);

/* The profile supports the wait-for-SIPI activity state (kut: "if IA32_VMX_MISC[8]"). */
static void require_wait_for_sipi(void)
{
    cr_assert((e.profile.msr[VTX_CAP_IA32_VMX_MISC] >> 8) & 1,
              "the server profile supports wait-for-SIPI (IA32_VMX_MISC[8] = 1)");
}

/* Check the SIPI verdict of the last boundary report. */
static void sipi_verdict(const char *step, vtx_event_state state, const char *rule)
{
    const vtx_event_verdict *v = &rec.last.events[VTX_EV_SIPI];
    cr_assert_eq(v->state, state, "%s: SIPI verdict %d, expected %d", step, v->state, state);
    if (rule)
        cr_assert(v->rule && strcmp(v->rule, rule) == 0, "%s: SIPI decided by %s, expected %s", step,
                  v->rule ? v->rule : "(none)", rule);
}

Test(sipi, observer_lists_sipi_first)
{
    /* G.1: the wait-for-SIPI check comes before every other event; the names keep working. */
    cr_assert_eq(VTX_EV_SIPI, 0);
    cr_assert_str_eq(vtx_event_name(VTX_EV_SIPI), "SIPI");
    cr_assert_str_eq(vtx_event_description(VTX_EV_SIPI), "start-up IPI (SIPI)");
    cr_assert_str_eq(vtx_event_name(VTX_EV_INIT), "INIT");
    cr_assert_str_eq(vtx_event_name(VTX_EV_EXT_INTR), "EXT_INTR");
    cr_assert(VTX_EV_SIPI < VTX_EV_INIT && VTX_EV_INIT < VTX_EV_MTF);
    cr_assert_eq(vtx_machine_raise_sipi(NULL, 1), VTX_ERR_INVALID_ARG);
}

Test(sipi, kut_6_14_vmx_sipi_signal_test)
{
    VTX_COVERS("EXIT-3", "EXIT-9", "EXIT-7", "HLT-2", "HLT-8");
    /* kut 6.14 vmx_sipi_signal_test, one CPU: entry with activity wait-for-SIPI; the
     * first SIPI -> exit 4 (SIPI) with the vector as qualification (EXIT-3), saved
     * activity wait-for-SIPI (EXIT-9; Bochs #757) and RIP unchanged (EXIT-7). The VMM
     * then resumes the guest active; a second SIPI when not in wait-for-SIPI gives
     * no exit (HLT-2: SIPIs are discarded in the HLT and active states).
     *   G+0 f4 hlt ; G+1 0f 01 c1 vmcall */
    require_wait_for_sipi();
    CODE(0xf4, 0x0f, 0x01, 0xc1);
    rf_state(G, 0x2, 0, ACT_SIPI);
    rf_launch_stopped("wait-for-SIPI without a SIPI");
    cr_assert_eq(rec.last.activity, ACT_SIPI);
    cr_assert_eq(rec.last.action, VTX_ACT_IDLE);

    cr_assert_eq(vtx_machine_raise_sipi(e.m, 0x9a), VTX_OK);
    rf_continue_exit("first SIPI", R_SIPI);
    rf_field("first SIPI", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification (EXIT-3: the vector)", 0x9a);
    rf_saved("first SIPI (EXIT-7, EXIT-9)", G, 0, ACT_SIPI);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) >> 31, 0, "SIPI: interruption information invalid");
    cr_assert_eq(rec.last.winner, VTX_EV_SIPI);
    cr_assert_eq(rec.last.action, VTX_ACT_EXIT);
    sipi_verdict("first SIPI", VTX_EVS_TAKEN, "HLT-8");

    /* The VMM starts the "AP": active at G. It halts; the second SIPI is discarded. */
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_ACTIVE);
    vtx_insn_result r;
    rf_check_stopped("resumed active, halts", vtx_vmresume(e.m, &r), &r);
    cr_assert_eq(vtx_machine_raise_sipi(e.m, 0x9b), VTX_OK);
    rf_continue_stopped("second SIPI in HLT: no exit");
    sipi_verdict("second SIPI in HLT", VTX_EVS_BLOCKED, "HLT-2");
    cr_assert_str_eq(rec.last.events[VTX_EV_SIPI].why, "SIPIs are discarded in the active and HLT states");
    /* Discarded, not kept pending: the next boundary has no SIPI at all. */
    rf_continue_stopped("still halted");
    sipi_verdict("after the discard", VTX_EVS_IDLE, NULL);
}

Test(sipi, sipi_discarded_in_the_active_state)
{
    VTX_COVERS("HLT-2");
    /* HLT-2: a SIPI that arrives while the guest executes is discarded at that
     * boundary; the guest goes on to its VMCALL (exit 18), not a SIPI exit.
     *   G+0 90 nop ; G+1 90 nop ; G+2 90 nop ; G+3 0f 01 c1 vmcall */
    CODE(0x90, 0x90, 0x90, 0x0f, 0x01, 0xc1);
    vtx_input in = {.kind = VTX_INPUT_SIPI, .vector = 0x20, .at_cycle = false,
                    .when = vtx_machine_instructions(e.m) + 2};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    rf_launch_exit("SIPI while active", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("SIPI while active", G + 3);
    cr_assert_eq(rec.n, 4, "boundaries at G, G+1, G+2 (the SIPI) and G+3");
    /* The last boundary (the VMCALL's) no longer sees it. */
    sipi_verdict("at the VMCALL", VTX_EVS_IDLE, NULL);
}

/* An observer that keeps the SIPI verdicts of every boundary. */
typedef struct sipi_log {
    int n, blocked;
    const char *rule;
} sipi_log;

/* Count the boundaries that reported a discarded SIPI. */
static void log_sipi(void *user, const vtx_boundary_report *rep)
{
    sipi_log *l = user;
    l->n++;
    if (rep->events[VTX_EV_SIPI].state == VTX_EVS_BLOCKED) {
        l->blocked++;
        l->rule = rep->events[VTX_EV_SIPI].rule;
    }
}

Test(sipi, discarding_boundary_is_reported)
{
    VTX_COVERS("HLT-2");
    /* HLT-2: the boundary at which an active guest's SIPI is discarded reports it
     * blocked, by HLT-2, exactly once.   G+0 90 nop ; G+1 90 nop ; G+2 0f 01 c1 vmcall */
    CODE(0x90, 0x90, 0x0f, 0x01, 0xc1);
    sipi_log l = {0};
    vtx_machine_set_observer(e.m, log_sipi, &l);
    vtx_input in = {.kind = VTX_INPUT_SIPI, .vector = 7, .when = vtx_machine_instructions(e.m) + 1};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    rf_launch_exit("SIPI while active", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(l.blocked, 1);
    cr_assert_str_eq(l.rule, "HLT-2");
}

Test(sipi, sipi_discarded_in_shutdown)
{
    VTX_COVERS("HLT-8");
    /* HLT-8: shutdown blocks SIPIs: discarded, no exit; INIT still leaves shutdown. */
    rf_state(G, 0x2, 0, ACT_SHUTDOWN);
    rf_launch_stopped("shutdown");
    cr_assert_eq(vtx_machine_raise_sipi(e.m, 0x10), VTX_OK);
    rf_continue_stopped("SIPI in shutdown");
    sipi_verdict("SIPI in shutdown", VTX_EVS_BLOCKED, "HLT-8");
    cr_assert_str_eq(rec.last.events[VTX_EV_SIPI].why, "SIPIs are discarded in shutdown");
    cr_assert_eq(vtx_machine_raise_init(e.m), VTX_OK);
    rf_continue_exit("INIT in shutdown", VTX_EXIT_REASON_INIT_SIGNAL);
    rf_saved("INIT in shutdown", G, 0, ACT_SHUTDOWN);
}

Test(sipi, sipi_in_hlt_is_not_kept_for_wait_for_sipi)
{
    VTX_COVERS("HLT-2");
    /* HLT-2: a SIPI discarded in HLT is gone: after an INIT exit the VMM enters
     * wait-for-SIPI and nothing wakes the guest. */
    require_wait_for_sipi();
    rf_state(G, 0x2, 0, ACT_HLT);
    rf_launch_stopped("HLT");
    vtx_machine_raise_sipi(e.m, 0x33);
    rf_continue_stopped("SIPI in HLT");
    sipi_verdict("SIPI in HLT", VTX_EVS_BLOCKED, "HLT-2");
    vtx_machine_raise_init(e.m);
    rf_continue_exit("INIT in HLT", VTX_EXIT_REASON_INIT_SIGNAL);
    rf_saved("INIT in HLT", G, 0, ACT_HLT);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_SIPI);
    vtx_insn_result r;
    rf_check_stopped("wait-for-SIPI after INIT", vtx_vmresume(e.m, &r), &r);
    sipi_verdict("wait-for-SIPI after INIT", VTX_EVS_IDLE, NULL);
}

Test(sipi, sipi_in_root_operation_is_discarded)
{
    /* A SIPI sent while the processor is in VMX root operation (not in
     * wait-for-SIPI) is discarded at once: entering wait-for-SIPI afterwards finds none. */
    require_wait_for_sipi();
    cr_assert_eq(vtx_machine_raise_sipi(e.m, 0x44), VTX_OK);
    rf_state(G, 0x2, 0, ACT_SIPI);
    rf_launch_stopped("wait-for-SIPI after a SIPI in root operation");
    sipi_verdict("after entry", VTX_EVS_IDLE, NULL);
}

Test(sipi, hlt_8_wait_for_sipi_blocks_everything_else)
{
    VTX_COVERS("HLT-8", "PT-4", "EXIT-9", "EXIT-3");
    /* HLT-8: in wait-for-SIPI, INIT, NMI (NMI exiting), external interrupts (even with
     * external-interrupt exiting), interrupt-window exits, the expired preemption timer
     * (PT-4) and pending debug exceptions are all blocked, and the report says why.
     * The SIPI then wins (G.1: checked first); the INIT stays latched and exits
     * (reason 3) once the VMM makes the guest active. EXIT-9: the SIPI exit clears the
     * pending debug exceptions.   G+0 f4 hlt */
    require_wait_for_sipi();
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_EXT_INTR_EXITING | VTX_PIN_PREEMPTION_TIMER);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    vt_vmwrite(&e, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0x1); /* B0 */
    rf_state(G, 0x2 | RFLAGS_IF, 0, ACT_SIPI);
    vtx_machine_raise_init(e.m);
    vtx_machine_raise_nmi(e.m);
    vtx_machine_set_intr(e.m, true, 0x30);
    rf_launch_stopped("wait-for-SIPI with everything else pending");
    static const struct { vtx_event ev; const char *rule; } blocked[] = {
        {VTX_EV_INIT, "HLT-8"},       {VTX_EV_PENDING_DB, "HLT-8"}, {VTX_EV_PREEMPTION_TIMER, "PT-4"},
        {VTX_EV_NMI, NULL},           {VTX_EV_INTR_WINDOW, NULL},   {VTX_EV_EXT_INTR, NULL},
    };
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++) {
        const vtx_event_verdict *v = &rec.last.events[blocked[i].ev];
        cr_assert_eq(v->state, VTX_EVS_BLOCKED, "HLT-8: %s is blocked in wait-for-SIPI",
                     vtx_event_name(blocked[i].ev));
        cr_assert(v->why && strstr(v->why, "wait-for-SIPI"), "HLT-8: %s: the report says why (%s)",
                  vtx_event_name(blocked[i].ev), v->why ? v->why : "(none)");
        if (blocked[i].rule)
            cr_assert_str_eq(v->rule, blocked[i].rule);
    }
    cr_assert_eq(rec.last.winner, -1);
    cr_assert_eq(rec.last.action, VTX_ACT_IDLE);

    vtx_machine_raise_sipi(e.m, 0x08);
    rf_continue_exit("SIPI beats the blocked events", R_SIPI);
    rf_field("SIPI", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification (EXIT-3)", 0x08);
    rf_saved("SIPI", G, 0, ACT_SIPI);
    rf_field("SIPI", VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, "pending debug exceptions (EXIT-9: cleared)", 0);

    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_ACTIVE);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 1000000);
    rf_resume_exit("latched INIT once active", VTX_EXIT_REASON_INIT_SIGNAL);
    rf_saved_rip("INIT", G);
}

Test(sipi, scheduled_sipi_wakes_wait_for_sipi)
{
    VTX_COVERS("EXIT-7");
    /* A SIPI scheduled at a cycle: the idle guest in wait-for-SIPI waits until that
     * cycle, then exits 4 with the vector; RIP unchanged (EXIT-7). */
    require_wait_for_sipi();
    rf_state(G + 0x40, 0x2, 0, ACT_SIPI);
    vtx_input in = {.kind = VTX_INPUT_SIPI, .vector = 0xff, .at_cycle = true,
                    .when = vtx_machine_cycles(e.m) + 50000};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    rf_launch_exit("scheduled SIPI", R_SIPI);
    rf_field("scheduled SIPI", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification", 0xff);
    rf_saved("scheduled SIPI", G + 0x40, 0, ACT_SIPI);
    cr_assert_geq(vtx_machine_cycles(e.m), in.when);
    /* Kinds beyond SIPI are refused. */
    vtx_input bad = {.kind = (vtx_input_kind)(VTX_INPUT_SIPI + 1)};
    cr_assert_eq(vtx_machine_schedule(e.m, &bad), VTX_ERR_INVALID_ARG);
}
