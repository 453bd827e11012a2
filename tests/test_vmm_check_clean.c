/*
 * The VMM checker (vmm_check.h, issue 12): correct VMMs draw no finding, attaching
 * the checker changes nothing the guest or the VMM sees, and the API.
 * Guest code at G = 0x10000, handlers at H(v) = 0x12000 + 0x10 * v (rules_fixture.h).
 */
#include "vmm_check_fixture.h"

TestSuite(vmm_check_clean, .init = ck_setup, .fini = ck_teardown);

/* ---- correct VMMs draw nothing ---- */

/* An interrupt-controller queue: every acknowledged vector is queued; one goes in
 * when the guest can take it, else interrupt-window exiting is armed; the window
 * stays armed while more are queued. The handlers IRET (interrupt gates).
 * Guest: cli; 12 x nop; sti; 6 x nop; vmcall. Three interrupts arrive while IF = 0. */
typedef struct queue_vmm {
    uint8_t q[16];
    unsigned n;
    int delivered;
} queue_vmm;

static uint64_t rd(vtx_machine *m, uint32_t enc)
{
    vtx_insn_result r;
    vtx_vmread(m, enc, &r);
    return r.value;
}

static void wr(vtx_machine *m, uint32_t enc, uint64_t v)
{
    vtx_insn_result r;
    vtx_vmwrite(m, enc, v, &r);
}

static vtx_vmm_action queue_handler(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    queue_vmm *v = user;
    uint32_t reason = exit->exit_reason;
    if (reason == VTX_EXIT_REASON_EXTERNAL_INTERRUPT)
        v->q[v->n++] = (uint8_t)rd(m, VTX_VMCS_EXIT_INTR_INFO);
    else if (reason != VTX_EXIT_REASON_INTERRUPT_WINDOW)
        return VTX_VMM_STOP;
    uint64_t proc = rd(m, VTX_VMCS_PROC_CONTROLS);
    bool open = (rd(m, VTX_VMCS_GUEST_RFLAGS) & RFLAGS_IF) && !(rd(m, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 3);
    if (v->n && open) {
        wr(m, VTX_VMCS_ENTRY_INTR_INFO, INTR(0, v->q[0]));
        memmove(v->q, v->q + 1, --v->n);
        v->delivered++;
    }
    wr(m, VTX_VMCS_PROC_CONTROLS,
       v->n ? proc | VTX_PROC_INTR_WINDOW_EXITING : proc & ~(uint64_t)VTX_PROC_INTR_WINDOW_EXITING);
    return VTX_VMM_RESUME;
}

static void queue_guest(void)
{
    static const uint8_t code[] = {0xfa, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
                                   0xfb, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x0f, 0x01, 0xc1};
    rf_code(code, sizeof code);
    for (uint8_t v = 0x30; v < 0x33; v++)
        rf_handler(v, IRETQ, sizeof IRETQ, false);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    uint64_t now = vtx_machine_instructions(e.m);
    for (uint8_t i = 0; i < 3; i++) {
        vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = (uint8_t)(0x30 + i), .when = now + 3 + 2 * i};
        cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    }
}

Test(vmm_check_clean, interrupt_queue_vmm_draws_nothing)
{
    queue_guest();
    queue_vmm v = {0};
    vtx_vmm_loop loop = {.handler = queue_handler, .user = &v, .max_exits = 100};
    vtx_vmm_report rep;
    cr_assert_eq(vtx_run_vmm(e.m, &loop, &rep), VTX_OK, "%s", rep.why);
    cr_assert_eq(rep.end, VTX_VMM_END_HANDLER, "%s", rep.why);
    cr_assert_eq(v.delivered, 3, "all three interrupts went in");
    rf_saved_rip("the guest reached its VMCALL", G + 20);
    expect_none();
}

Test(vmm_check_clean, iw_classic_vmm_draws_nothing)
{
    /* The VMM of examples/iw_classic.c: ack on exit, arm the window, inject at the window
     * exit, emulate the handler's OUT, stop at the HLT. */
    static const uint8_t code[] = {0xfa, 0xb9, 0x14, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0xfb, 0x90, 0xb8, 1, 0, 0, 0, 0xf4};
    static const uint8_t handler[] = {0xbb, 0xfe, 0xca, 0, 0, 0xe6, 0x80, 0x48, 0xcf};
    rf_code(code, sizeof code);
    rf_handler(0x30, handler, sizeof handler, false);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING | VTX_PROC_UNCOND_IO_EXITING);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    vtx_input irq = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x30, .when = vtx_machine_instructions(e.m) + 6};
    cr_assert_eq(vtx_machine_schedule(e.m, &irq), VTX_OK);
    rf_launch_exit("the interrupt exits", VTX_EXIT_REASON_EXTERNAL_INTERRUPT);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_resume_exit("the window", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("the handler's OUT", VTX_EXIT_REASON_IO_INSTRUCTION);
    rf_skip(vt_vmread(&e, VTX_VMCS_EXIT_INSTRUCTION_LEN));
    rf_resume_exit("the HLT", VTX_EXIT_REASON_HLT);
    expect_none();
}

/* ---- attaching the checker changes nothing ---- */
typedef struct trace {
    int n;
    struct {
        uint32_t reason;
        uint64_t qual, rip, rflags, rsp, intr, activity, instructions, cycles, rbx;
    } x[128];
} trace;

typedef struct traced {
    vtx_exit_handler inner;
    void *inner_user;
    trace *t;
} traced;

static vtx_vmm_action trace_handler(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    traced *tr = user;
    trace *t = tr->t;
    if (t->n < 128) {
        vtx_gprs g;
        vtx_machine_get_gprs(m, &g);
        t->x[t->n].reason = exit->exit_reason;
        t->x[t->n].qual = exit->exit_qualification;
        t->x[t->n].rip = rd(m, VTX_VMCS_GUEST_RIP);
        t->x[t->n].rflags = rd(m, VTX_VMCS_GUEST_RFLAGS);
        t->x[t->n].rsp = rd(m, VTX_VMCS_GUEST_RSP);
        t->x[t->n].intr = rd(m, VTX_VMCS_GUEST_INTERRUPTIBILITY);
        t->x[t->n].activity = rd(m, VTX_VMCS_GUEST_ACTIVITY_STATE);
        t->x[t->n].instructions = vtx_machine_instructions(m);
        t->x[t->n].cycles = vtx_machine_cycles(m);
        t->x[t->n].rbx = g.rbx;
    }
    t->n++;
    return tr->inner(tr->inner_user, m, exit);
}

/* The queue VMM and the storm VMM, traced exit by exit. */
static void run_traced(bool with_checker, trace *tq, trace *ts)
{
    rf_rebuild_knobs(0, 0);
    if (with_checker)
        attach_checker();
    queue_guest();
    queue_vmm v = {0};
    traced tr = {queue_handler, &v, tq};
    vtx_vmm_loop loop = {.handler = trace_handler, .user = &tr, .max_exits = 100};
    vtx_vmm_report rep;
    cr_assert_eq(vtx_run_vmm(e.m, &loop, &rep), VTX_OK, "%s", rep.why);
    /* then the storm: the window left armed */
    rf_skip(3);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    window_vmm w = {VTX_EXIT_REASON_INTERRUPT_WINDOW, VTX_PROC_INTR_WINDOW_EXITING, false};
    traced tw = {window_handler, &w, ts};
    vtx_vmm_loop loop2 = {.handler = trace_handler, .user = &tw, .max_exits = 8};
    cr_assert_eq(vtx_run_vmm(e.m, &loop2, &rep), VTX_OK, "%s", rep.why);
    if (with_checker) {
        vtx_vmm_check_report cr;
        vtx_vmm_check_finalize(chk, &cr);
        cr_assert_eq(cr.by_kind[VTX_VMM_INTR_WINDOW_STORM], 1, "the checker saw the storm");
        cr_assert_eq(vtx_vmm_check_detach(e.m), VTX_OK);
    }
}

static void same_trace(const trace *a, const trace *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s: %d exits with the checker, %d without", what, a->n, b->n);
    cr_assert(a->n > 0);
    for (int i = 0; i < a->n && i < 128; i++)
        cr_assert(!memcmp(&a->x[i], &b->x[i], sizeof a->x[i]),
                  "%s: exit %d differs (reason %u/%u, RIP 0x%llx/0x%llx, instructions %llu/%llu, cycles %llu/%llu)",
                  what, i + 1, a->x[i].reason, b->x[i].reason, (unsigned long long)a->x[i].rip,
                  (unsigned long long)b->x[i].rip, (unsigned long long)a->x[i].instructions,
                  (unsigned long long)b->x[i].instructions, (unsigned long long)a->x[i].cycles,
                  (unsigned long long)b->x[i].cycles);
}

Test(vmm_check_clean, attaching_changes_no_exit_state_count_or_cycle)
{
    static trace q1, s1, q2, s2;
    memset(&q1, 0, sizeof q1), memset(&s1, 0, sizeof s1), memset(&q2, 0, sizeof q2), memset(&s2, 0, sizeof s2);
    vtx_vmm_check_destroy(chk);
    chk = NULL;
    run_traced(false, &q1, &s1);
    run_traced(true, &q2, &s2);
    same_trace(&q1, &q2, "queue VMM");
    same_trace(&s1, &s2, "storm VMM");
}

/* ---- the API ---- */
Test(vmm_check_clean, api_names_attach_and_format)
{
    vtx_vmm_finding_kind k;
    cr_assert_eq(vtx_vmm_finding_lookup("LOST_IDT_VECTORING", &k), VTX_OK);
    cr_assert_eq(k, VTX_VMM_LOST_IDT_VECTORING);
    cr_assert_eq(vtx_vmm_finding_lookup("NO_SUCH", &k), VTX_ERR_NOT_FOUND);
    for (unsigned i = 0; i < VTX_VMM_FINDING_COUNT; i++)
        cr_assert_not_null(vtx_vmm_finding_name((vtx_vmm_finding_kind)i));
    cr_assert_null(vtx_vmm_finding_name(VTX_VMM_FINDING_COUNT));
    cr_assert_eq(vtx_vmm_check_attach(e.m, chk), VTX_OK, "attaching the same pair again is fine");
    vtx_vmm_checker *other;
    cr_assert_eq(vtx_vmm_check_create(NULL, &other), VTX_OK);
    cr_assert_eq(vtx_vmm_check_attach(e.m, other), VTX_ERR_STATE, "one checker per machine");
    vtx_vmm_check_destroy(other);
    cr_assert_eq(vtx_vmm_check_attached(e.m), chk);
    /* a finding formats on one line with its rule IDs */
    idt_fault_exit();
    rf_resume_exit("lost", R_VMCALL);
    cr_assert_eq(got.n, 1);
    char line[600];
    vtx_vmm_finding_format(&got.f[0], line, sizeof line);
    cr_assert(strstr(line, "error LOST_IDT_VECTORING at exit 1 (EXCEPTION_NMI, RIP 0x10000), entry 2 (RIP 0x10000) "
                           "[EXIT-5, INJ-18]"),
              "%s", line);
    /* the ready-made callback writes the same line */
    FILE *tmp = tmpfile();
    cr_assert_not_null(tmp);
    vtx_vmm_finding_fprint(tmp, &got.f[0]);
    rewind(tmp);
    char back[600] = "";
    cr_assert_not_null(fgets(back, sizeof back, tmp));
    fclose(tmp);
    cr_assert(!strncmp(back, line, strlen(line)) && back[strlen(line)] == '\n', "%s", back);
    /* a kind can be switched off */
    vtx_vmm_check_destroy(chk);
    vtx_vmm_check_config cc;
    vtx_vmm_check_config_init(&cc);
    cc.on_finding = on_finding;
    cc.disabled = 1u << VTX_VMM_LOST_IDT_VECTORING;
    cr_assert_eq(vtx_vmm_check_create(&cc, &chk), VTX_OK);
    cr_assert_eq(vtx_vmm_check_attach(e.m, chk), VTX_OK);
    got.n = 0;
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    rf_inject(INTR(0, 0x31), 0, 0);
    rf_resume_exit("0x31 through a missing gate", R_EXC);
    rf_resume_exit("lost again", R_VMCALL);
    expect_none();
}
