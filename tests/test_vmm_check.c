/*
 * The VMM checker (vmm_check.h, issue 12): one test per finding with the bug
 * (reported exactly once, at the right exit and entry) and with the fix
 * (nothing reported); correct VMMs that draw nothing; and the checker changes
 * nothing the guest or the VMM sees.
 * Guest code at G = 0x10000, handlers at H(v) = 0x12000 + 0x10 * v (rules_fixture.h).
 */
#include "rules_fixture.h"

#define R_EXC VTX_EXIT_REASON_EXCEPTION_NMI
#define R_VMCALL VTX_EXIT_REASON_VMCALL

static vtx_vmm_checker *chk;
static struct {
    int n;
    vtx_vmm_finding f[16];
} got;

static void on_finding(void *user, const vtx_vmm_finding *f)
{
    (void)user;
    if (got.n < 16)
        got.f[got.n] = *f;
    got.n++;
}

static void attach_checker(void)
{
    got.n = 0;
    vtx_vmm_check_config cc;
    cr_assert_eq(vtx_vmm_check_config_init(&cc), VTX_OK);
    cc.on_finding = on_finding;
    cr_assert_eq(vtx_vmm_check_create(&cc, &chk), VTX_OK);
    cr_assert_eq(vtx_vmm_check_attach(e.m, chk), VTX_OK);
}

static void ck_setup(void)
{
    rf_setup();
    attach_checker();
}

static void ck_teardown(void)
{
    vtx_vmm_check_destroy(chk);
    chk = NULL;
    rf_teardown();
}

TestSuite(vmm_check, .init = ck_setup, .fini = ck_teardown);

static const char *all_findings(void)
{
    static char buf[4096];
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < got.n && i < 16 && n < sizeof buf - 2; i++) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\n  ");
        if (n < sizeof buf)
            n += (size_t)vtx_vmm_finding_format(&got.f[i], buf + n, sizeof buf - n);
    }
    return got.n ? buf : " (none)";
}

/* Finalize, then exactly one finding of @kind at exit @exit_index and entry @entry_index. */
static void expect_only(vtx_vmm_finding_kind kind, uint64_t exit_index, uint64_t entry_index)
{
    vtx_vmm_check_report rep;
    cr_assert_eq(vtx_vmm_check_finalize(chk, &rep), VTX_OK);
    const char *name = vtx_vmm_finding_name(kind);
    cr_assert_eq(got.n, 1, "expected exactly one %s, got %d:%s", name, got.n, all_findings());
    cr_assert_str_eq(got.f[0].name, name, "expected %s, got:%s", name, all_findings());
    cr_assert_eq(got.f[0].exit_index, exit_index, "%s: expected exit %llu:%s", name, (unsigned long long)exit_index,
                 all_findings());
    cr_assert_eq(got.f[0].entry_index, entry_index, "%s: expected entry %llu:%s", name,
                 (unsigned long long)entry_index, all_findings());
    cr_assert_eq(rep.by_kind[kind], 1);
    cr_assert_eq(rep.errors + rep.warnings, 1);
}

static void expect_none(void)
{
    vtx_vmm_check_report rep;
    cr_assert_eq(vtx_vmm_check_finalize(chk, &rep), VTX_OK);
    cr_assert_eq(got.n, 0, "expected no finding, got %d:%s", got.n, all_findings());
    cr_assert_eq(rep.errors + rep.warnings, 0);
}

static void reinject_idt_vectoring(void)
{
    rf_inject((uint32_t)vt_vmread(&e, VTX_VMCS_IDT_VECTORING_INFO) & ~0x1000u,
              (uint32_t)vt_vmread(&e, VTX_VMCS_IDT_VECTORING_ERROR_CODE),
              (uint32_t)vt_vmread(&e, VTX_VMCS_EXIT_INSTRUCTION_LEN));
}

/* ---- LOST_IDT_VECTORING (EXIT-5, INJ-18) ----
 * An injected external interrupt 0x30 whose gate is missing: #GP intercepted,
 * exit 1 with IDT-vectoring information = the interrupt. The VMM "demand-faults"
 * the gate in (writes it) and resumes.   G+0 0f 01 c1 vmcall */
static void idt_fault_exit(void)
{
    CODE(0x0f, 0x01, 0xc1);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_launch_exit("EXIT-5: interrupt 0x30 through a missing gate", R_EXC);
    rf_field("EXIT-5", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(0, 0x30));
    rf_vmcall_handler(0x30, false);
}

Test(vmm_check, lost_idt_vectoring_bug)
{
    idt_fault_exit();
    rf_resume_exit("resume without re-injection", R_VMCALL);
    rf_saved_rip("the guest went on at G: the interrupt is lost", G);
    expect_only(VTX_VMM_LOST_IDT_VECTORING, 1, 2);
}

Test(vmm_check, lost_idt_vectoring_fixed)
{
    idt_fault_exit();
    reinject_idt_vectoring();
    rf_resume_exit("re-injected", R_VMCALL);
    rf_saved_rip("the handler of 0x30 runs", H(0x30));
    expect_none();
}

Test(vmm_check, lost_idt_vectoring_declared_drop)
{
    idt_fault_exit();
    cr_assert_eq(vtx_vmm_check_drop_event(chk), VTX_OK);
    cr_assert_eq(vtx_vmm_check_drop_event(chk), VTX_ERR_STATE, "nothing left to drop");
    rf_resume_exit("dropped on purpose", R_VMCALL);
    expect_none();
}

Test(vmm_check, lost_idt_vectoring_reported_at_finalize)
{
    /* The run ends right after the exit: still owed at finalize (no entry). */
    idt_fault_exit();
    expect_only(VTX_VMM_LOST_IDT_VECTORING, 1, 0);
}

/* The interrupt held back behind a hardware exception the VMM injects first (the
 * guest's #GP handler, a trap gate so IF stays 1): it stays owed. */
static void hold_back_behind_gp(void)
{
    idt_fault_exit();
    rf_vmcall_handler(13, true);
    rf_inject(INTR_EC(3, 13), 0, 0);
    rf_resume_exit("a #GP injected first", R_VMCALL);
    rf_saved_rip("the guest's #GP handler", H(13));
}

Test(vmm_check, idt_vectoring_interrupt_held_back_then_injected_is_correct)
{
    hold_back_behind_gp();
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("then the interrupt", R_VMCALL);
    rf_saved_rip("the handler of 0x30", H(0x30));
    expect_none();
}

Test(vmm_check, idt_vectoring_interrupt_held_back_then_forgotten_bug)
{
    hold_back_behind_gp();
    rf_resume_exit("nothing injected", R_VMCALL);
    expect_only(VTX_VMM_LOST_IDT_VECTORING, 1, 3);
}

/* ---- REINJECT_MISMATCH (EXIT-5, EXIT-6, INJ-3, INJ-7) ----
 * INT 0x30 (a software interrupt, 2 bytes) through a missing gate: exit 1 with
 * IDT-vectoring = type 4 vector 0x30 and instruction length 2.
 *   G+0 cd 30 int 0x30; G+2 0f 01 c1 vmcall */
static void swint_fault_exit(void)
{
    CODE(0xcd, 0x30, 0x0f, 0x01, 0xc1);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("EXIT-5: INT 0x30 through a missing gate", R_EXC);
    rf_field("EXIT-5", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(4, 0x30));
    rf_field("EXIT-6", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 2);
    rf_handler(0x30, VMCALL, sizeof VMCALL, false);
}

Test(vmm_check, reinject_mismatch_length_bug)
{
    /* INJ-7: the pushed return address is RIP + the entry's instruction length; the VMM
     * re-injects with length 0 (or 1 where IA32_VMX_MISC[30] forbids 0). */
    swint_fault_exit();
    uint32_t len = vtx_misc_zero_len_inject(e.profile.msr[VTX_CAP_IA32_VMX_MISC]) ? 0 : 1;
    rf_inject(INTR(4, 0x30), 0, len);
    rf_resume_exit("re-injected with the wrong length", R_VMCALL);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G + len, "the handler would return to G + %u", len);
    expect_only(VTX_VMM_REINJECT_MISMATCH, 1, 2);
}

Test(vmm_check, reinject_mismatch_vector_bug)
{
    /* A one-slot pending register overwritten by a newer vector: 0x31 goes in instead. */
    idt_fault_exit();
    rf_vmcall_handler(0x31, false);
    rf_inject(INTR(0, 0x31), 0, 0);
    rf_resume_exit("injected 0x31 instead", R_VMCALL);
    expect_only(VTX_VMM_REINJECT_MISMATCH, 1, 2);
}

Test(vmm_check, reinject_mismatch_length_zero_bug)
{
    /* INJ-CHK-6, INJ-7: on a processor with IA32_VMX_MISC[30] = 1 length 0 passes the entry
     * checks; the handler then returns to the INT itself. */
    vtx_vmm_check_destroy(chk);
    vt_teardown(&e);
    memset(&e, 0, sizeof e);
    vtx_profile p = *vtx_profile_builtin(1);
    p.msr[VTX_CAP_IA32_VMX_MISC] |= 1ull << 30;
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &p);
    cr_assert_eq(vtx_machine_create(&cfg, &e.m, NULL), VTX_OK);
    e.profile = p;
    e.rev = vtx_basic_revision(p.msr[VTX_CAP_IA32_VMX_BASIC]);
    e.ram = aligned_alloc(4096, VT_RAM_SIZE);
    memset(e.ram, 0, VT_RAM_SIZE);
    cr_assert_eq(vtx_machine_map(e.m, 0, VT_RAM_SIZE, e.ram, VTX_MEM_RWX, NULL), VTX_OK);
    vt_baseline(&e);
    attach_checker();
    swint_fault_exit();
    rf_inject(INTR(4, 0x30), 0, 0);
    rf_resume_exit("re-injected with length 0", R_VMCALL);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G, "the handler would return to the INT itself");
    expect_only(VTX_VMM_REINJECT_MISMATCH, 1, 2);
}

Test(vmm_check, reflecting_the_new_fault_of_an_instruction_event_is_correct)
{
    /* SDM 6.15 (handle serially): INT 0x30 through a missing gate; the VMM reflects the #GP
     * at the INT's RIP. The guest's #GP handler runs; returning there re-executes the INT. */
    CODE(0xcd, 0x30, 0x0f, 0x01, 0xc1);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("INT 0x30 through a missing gate", R_EXC);
    rf_vmcall_handler(13, false);
    rf_inject(INTR_EC(3, 13), (uint32_t)vt_vmread(&e, VTX_VMCS_EXIT_INTR_ERROR_CODE), 0);
    rf_resume_exit("the #GP reflected", R_VMCALL);
    rf_saved_rip("the guest's #GP handler", H(13));
    expect_none();
}

Test(vmm_check, reinject_mismatch_fixed)
{
    swint_fault_exit();
    reinject_idt_vectoring();
    rf_resume_exit("re-injected with the exit's length", R_VMCALL);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G + 2, "the handler returns after the INT");
    expect_none();
}

/* ---- LOST_ACKED_INTERRUPT, DUPLICATE_INTERRUPT (EXIT-4, INJ-11) ----
 * External-interrupt exiting with "acknowledge interrupt on exit": 0x30 arrives
 * after two NOPs; exit 1 carries it.   G+0 90 90 90 90; G+4 0f 01 c1 vmcall */
static void acked_exit(bool trap_gate)
{
    CODE(0x90, 0x90, 0x90, 0x90, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x30, trap_gate);
    vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x30, .when = vtx_machine_instructions(e.m) + 2};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    rf_launch_exit("EXIT-4: interrupt 0x30 acknowledged on exit", VTX_EXIT_REASON_EXTERNAL_INTERRUPT);
    rf_field("EXIT-4", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(0, 0x30));
}

Test(vmm_check, lost_acked_interrupt_bug)
{
    acked_exit(false);
    rf_resume_exit("resume without injecting 0x30", R_VMCALL);
    rf_saved_rip("the guest ran on to its VMCALL", G + 4);
    expect_only(VTX_VMM_LOST_ACKED_INTERRUPT, 1, 0);
}

Test(vmm_check, lost_acked_interrupt_fixed)
{
    acked_exit(false);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("0x30 injected", R_VMCALL);
    rf_saved_rip("the handler of 0x30 runs", H(0x30));
    expect_none();
}

Test(vmm_check, duplicate_interrupt_bug)
{
    /* The VMM's pending slot is never emptied: 0x30 goes in at entry 2 and again at entry 3
     * (a trap gate keeps IF = 1 so the second injection passes the checks). */
    acked_exit(true);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("0x30 injected", R_VMCALL);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("0x30 injected again", R_VMCALL);
    expect_only(VTX_VMM_DUPLICATE_INTERRUPT, 1, 3);
}

Test(vmm_check, duplicate_interrupt_fixed_second_ack_second_injection)
{
    /* Two acknowledgements of the same vector, two injections: no duplicate. */
    acked_exit(true);
    rf_inject(INTR(0, 0x30), 0, 0);
    vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x30, .when = vtx_machine_instructions(e.m)};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    rf_resume_exit("0x30 again at the first boundary of the handler", VTX_EXIT_REASON_EXTERNAL_INTERRUPT);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("the second 0x30 injected", R_VMCALL);
    expect_none();
}

/* ---- LOST_NMI (VNMI-1) ----   G+0 90 90 90 90; G+4 vmcall */
static void nmi_exit(void)
{
    CODE(0x90, 0x90, 0x90, 0x90, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_vmcall_handler(2, false);
    vtx_input in = {.kind = VTX_INPUT_NMI, .when = vtx_machine_instructions(e.m) + 2};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    rf_launch_exit("VNMI-1: NMI exit", R_EXC);
    rf_field("VNMI-1", VTX_VMCS_EXIT_INTR_INFO, "interruption information", 0x80000202);
}

Test(vmm_check, lost_nmi_bug)
{
    nmi_exit();
    rf_resume_exit("resume without the NMI", R_VMCALL);
    expect_only(VTX_VMM_LOST_NMI, 1, 0);
}

Test(vmm_check, lost_nmi_fixed)
{
    nmi_exit();
    rf_inject(INTR(2, 2), 0, 0);
    rf_resume_exit("NMI injected", R_VMCALL);
    rf_saved_rip("the NMI handler runs", H(2));
    expect_none();
}

/* ---- FORCED_INJECTION_IF (ENT-GS-1) ----
 * The guest runs with IF = 0 until its STI; 0x30 is acknowledged on exit at G+1.
 *   G+0 90 90 90; G+3 fb sti; G+4 90 nop (shadow); G+5 0f 01 c1 vmcall */
static void if0_acked_exit(void)
{
    CODE(0x90, 0x90, 0x90, 0xfb, 0x90, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x30, false);
    vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x30, .when = vtx_machine_instructions(e.m) + 1};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    rf_launch_exit("IW-9: 0x30 exits although IF = 0", VTX_EXIT_REASON_EXTERNAL_INTERRUPT);
}

Test(vmm_check, forced_injection_if_bug)
{
    if0_acked_exit();
    rf_set(VTX_VMCS_GUEST_RFLAGS, RFLAGS_IF);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("IF forced to 1, 0x30 injected", R_VMCALL);
    expect_only(VTX_VMM_FORCED_INJECTION_IF, 1, 2);
}

Test(vmm_check, forced_injection_if_fixed)
{
    /* IW-1: arm the window; inject at the interrupt-window exit after STI and its shadow. */
    if0_acked_exit();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_resume_exit("IW-1: the window opens after the shadow", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    rf_saved_rip("IW-4", G + 5);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("0x30 injected in the window", R_VMCALL);
    rf_saved_rip("the handler", H(0x30));
    expect_none();
}

/* ---- FORCED_INJECTION_SHADOW (ENT-GS-10, BLK-STI-2) ----
 * CPUID in the STI shadow exits with blocking by STI saved (BLK-STI-8).
 *   G+0 fb sti; G+1 0f a2 cpuid; G+3 0f 01 c1 vmcall */
static void sti_shadow_exit(void)
{
    CODE(0xfb, 0x0f, 0xa2, 0x0f, 0x01, 0xc1);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x30, false);
    rf_launch_exit("CPUID in the STI shadow", VTX_EXIT_REASON_CPUID);
    rf_saved("BLK-STI-8: blocking by STI saved", G + 1, IS_STI, ACT_ACTIVE);
}

Test(vmm_check, forced_injection_shadow_bug)
{
    sti_shadow_exit();
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, 0);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("shadow cleared at the CPUID, 0x30 injected", R_VMCALL);
    expect_only(VTX_VMM_FORCED_INJECTION_SHADOW, 1, 2);
}

Test(vmm_check, forced_injection_shadow_fixed_emulating)
{
    /* The VMM emulates the CPUID (RIP + length): the shadow is over, as on hardware. */
    sti_shadow_exit();
    rf_skip(vt_vmread(&e, VTX_VMCS_EXIT_INSTRUCTION_LEN));
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, 0);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("CPUID emulated, 0x30 injected", R_VMCALL);
    expect_none();
}

/* ---- NMI_IN_NMI_HANDLER (BLK-NMI-1, VNMI-3, VNMI-4, ENT-GS-12) ----
 * The NMI handler exits (VMCALL) before its IRET.   H(2): vmcall; iretq.  G: nop nop vmcall */
static void in_nmi_handler_exit(bool vnmi)
{
    static const uint8_t handler[] = {0x0f, 0x01, 0xc1, 0x48, 0xcf};
    CODE(0x90, 0x90, 0x0f, 0x01, 0xc1);
    if (vnmi)
        rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    rf_handler(2, handler, sizeof handler, false);
    rf_inject(INTR(2, 2), 0, 0);
    rf_launch_exit("in the NMI handler", R_VMCALL);
    rf_saved("VNMI-3 / BLK-NMI-1: blocking saved", H(2), IS_NMI, ACT_ACTIVE);
}

Test(vmm_check, nmi_in_nmi_handler_vnmi_bug)
{
    in_nmi_handler_exit(true);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, 0);
    rf_inject(INTR(2, 2), 0, 0);
    rf_resume_exit("virtual-NMI blocking cleared, NMI injected", R_VMCALL);
    expect_only(VTX_VMM_NMI_IN_NMI_HANDLER, 1, 2);
}

Test(vmm_check, nmi_in_nmi_handler_as_it_stands_bug)
{
    /* NMI exiting = 0: the entry checks allow the NMI with blocking by NMI set. */
    in_nmi_handler_exit(false);
    rf_inject(INTR(2, 2), 0, 0);
    rf_resume_exit("NMI injected into the NMI handler", R_VMCALL);
    expect_only(VTX_VMM_NMI_IN_NMI_HANDLER, 1, 2);
}

Test(vmm_check, nmi_in_nmi_handler_fixed_with_nmi_window)
{
    /* NW-7: arm NMI-window exiting; the window opens after the handler's IRET. */
    in_nmi_handler_exit(true);
    rf_skip(3);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_resume_exit("NW-7: the window opens after the IRET", VTX_EXIT_REASON_NMI_WINDOW);
    rf_saved_rip("NW-7", G);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_inject(INTR(2, 2), 0, 0);
    rf_resume_exit("the second NMI", R_VMCALL);
    expect_none();
}

Test(vmm_check, nmi_reinjection_after_its_own_delivery_exited_is_correct)
{
    /* VNMI-3 (c): the injected NMI's gate is missing; the exit saves virtual-NMI blocking and
     * reports the NMI in the IDT-vectoring information. Re-injecting needs bit 3 cleared. */
    CODE(0x90, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_inject(INTR(2, 2), 0, 0);
    rf_launch_exit("VNMI-3c: injected NMI faults", R_EXC);
    rf_saved("VNMI-3c", G, IS_NMI, ACT_ACTIVE);
    rf_vmcall_handler(2, false);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, 0);
    reinject_idt_vectoring();
    rf_resume_exit("re-injected NMI", R_VMCALL);
    rf_saved_rip("the NMI handler", H(2));
    expect_none();
}

/* ---- IRET_NMI_BLOCKING_NOT_RESTORED (VNMI-7, VNMI-9) ----
 * An IRETQ through a frame with CS 0x1234 beyond the GDT limit: #GP(0x1234),
 * intercepted, in the NMI handler (virtual-NMI blocking at entry). The iretq is at G+0x14. */
static const uint8_t faulting_iret[] = {0x48, 0x89, 0xe0, 0x6a, 0x10, 0x50, 0x9c, 0x68, 0x34, 0x12, 0, 0,
                                        0x48, 0x8d, 0x0d, 0, 0, 0, 0, 0x51, 0x48, 0xcf};

static void iret_fault_exit(uint32_t pin)
{
    rf_code(faulting_iret, sizeof faulting_iret);
    rf_set(VTX_VMCS_PIN_CONTROLS, pin);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    rf_vmcall_handler(13, false);
    rf_launch_exit("the IRET faults", R_EXC);
    rf_saved_rip("the exit is at the IRET", G + 0x14);
}

static void reflect_gp(void)
{
    rf_inject(INTR_EC(3, 13), (uint32_t)vt_vmread(&e, VTX_VMCS_EXIT_INTR_ERROR_CODE), 0);
}

Test(vmm_check, iret_nmi_blocking_not_restored_bug)
{
    iret_fault_exit(VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    cr_assert(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) & 0x1000u, "VNMI-7: bit 12 set");
    reflect_gp();
    rf_resume_exit("the #GP reflected, blocking not restored", R_VMCALL);
    expect_only(VTX_VMM_IRET_NMI_BLOCKING_NOT_RESTORED, 1, 2);
}

Test(vmm_check, iret_nmi_blocking_not_restored_nmi_exiting_0_bug)
{
    /* NMI exiting = 0: the same with blocking by NMI (BLK-NMI-1, VNMI-9). */
    iret_fault_exit(0);
    reflect_gp();
    rf_resume_exit("the #GP reflected", R_VMCALL);
    expect_only(VTX_VMM_IRET_NMI_BLOCKING_NOT_RESTORED, 1, 2);
}

Test(vmm_check, iret_nmi_blocking_restored_fixed)
{
    iret_fault_exit(VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_NMI);
    reflect_gp();
    rf_resume_exit("blocking restored, the #GP reflected", R_VMCALL);
    expect_none();
}

Test(vmm_check, iret_bit12_undefined_nothing_reported)
{
    /* VNMI-5, VNMI-7: NMI exiting = 1 and virtual NMIs = 0: bit 12 is undefined. */
    iret_fault_exit(VTX_PIN_NMI_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, 0);
    reflect_gp();
    rf_resume_exit("the #GP reflected", R_VMCALL);
    expect_none();
}

/* ---- INTR_WINDOW_STORM, NMI_WINDOW_STORM (IW-6, NW-2) ---- */
typedef struct window_vmm {
    uint32_t reason;  /* the window exit */
    uint64_t control; /* its control */
    bool fixed;
} window_vmm;

static vtx_vmm_action window_handler(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    const window_vmm *w = user;
    vtx_insn_result r;
    if (exit->exit_reason != w->reason)
        return VTX_VMM_STOP;
    if (w->fixed) {
        vtx_vmread(m, VTX_VMCS_PROC_CONTROLS, &r);
        vtx_vmwrite(m, VTX_VMCS_PROC_CONTROLS, r.value & ~w->control, &r);
    }
    return VTX_VMM_RESUME;
}

static vtx_vmm_report run_window(window_vmm *w)
{
    CODE(0x90, 0x0f, 0x01, 0xc1);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    if (w->reason == VTX_EXIT_REASON_NMI_WINDOW)
        rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    rf_set(VTX_VMCS_PROC_CONTROLS, w->control);
    /* Through the loop's own option: detach first, the loop attaches and detaches. */
    cr_assert_eq(vtx_vmm_check_detach(e.m), VTX_OK);
    vtx_vmm_loop loop = {.handler = window_handler, .user = w, .max_exits = 10, .checker = chk};
    vtx_vmm_report rep;
    cr_assert_eq(vtx_run_vmm(e.m, &loop, &rep), VTX_OK, "%s", rep.why);
    cr_assert_null(vtx_vmm_check_attached(e.m), "the loop detached its checker");
    return rep;
}

Test(vmm_check, intr_window_storm_bug)
{
    window_vmm w = {VTX_EXIT_REASON_INTERRUPT_WINDOW, VTX_PROC_INTR_WINDOW_EXITING, false};
    vtx_vmm_report rep = run_window(&w);
    cr_assert_eq(rep.end, VTX_VMM_END_EXITS, "%s", rep.why);
    expect_only(VTX_VMM_INTR_WINDOW_STORM, 3, 3);
}

Test(vmm_check, intr_window_storm_fixed)
{
    window_vmm w = {VTX_EXIT_REASON_INTERRUPT_WINDOW, VTX_PROC_INTR_WINDOW_EXITING, true};
    vtx_vmm_report rep = run_window(&w);
    cr_assert_eq(rep.end, VTX_VMM_END_HANDLER, "%s", rep.why);
    expect_none();
}

Test(vmm_check, nmi_window_storm_bug)
{
    window_vmm w = {VTX_EXIT_REASON_NMI_WINDOW, VTX_PROC_NMI_WINDOW_EXITING, false};
    vtx_vmm_report rep = run_window(&w);
    cr_assert_eq(rep.end, VTX_VMM_END_EXITS, "%s", rep.why);
    expect_only(VTX_VMM_NMI_WINDOW_STORM, 3, 3);
}

Test(vmm_check, loop_refuses_a_second_checker)
{
    /* The machine has a checker; a loop with another one runs nothing and says why. */
    vtx_vmm_checker *other;
    cr_assert_eq(vtx_vmm_check_create(NULL, &other), VTX_OK);
    window_vmm w = {VTX_EXIT_REASON_INTERRUPT_WINDOW, VTX_PROC_INTR_WINDOW_EXITING, true};
    vtx_vmm_loop loop = {.handler = window_handler, .user = &w, .checker = other};
    vtx_vmm_report rep;
    cr_assert_eq(vtx_run_vmm(e.m, &loop, &rep), VTX_ERR_STATE);
    cr_assert(strstr(rep.why, "another checker"), "%s", rep.why);
    cr_assert_eq(rep.exits, 0);
    cr_assert_eq(vtx_vmm_check_attached(e.m), chk, "the machine's checker stays");
    vtx_vmm_check_destroy(other);
}

/* ---- NMI_WINDOW_UNUSED (NW-2) ---- */
static void nmi_window_exit(void)
{
    CODE(0x90, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_vmcall_handler(2, false);
    rf_launch_exit("NW-3: the window is open at entry", VTX_EXIT_REASON_NMI_WINDOW);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
}

Test(vmm_check, nmi_window_unused_bug)
{
    nmi_window_exit();
    rf_resume_exit("window disarmed, no NMI", R_VMCALL);
    expect_only(VTX_VMM_NMI_WINDOW_UNUSED, 1, 2);
}

Test(vmm_check, nmi_window_unused_fixed)
{
    nmi_window_exit();
    rf_inject(INTR(2, 2), 0, 0);
    rf_resume_exit("the NMI goes in", R_VMCALL);
    expect_none();
}

Test(vmm_check, nmi_window_lazy_disarm_is_correct)
{
    /* NW-3: the window stays armed while the last NMI goes in; after the handler's IRET
     * it exits once more and the VMM disarms it then, injecting nothing: no finding.
     *   H(2): nop; iretq */
    static const uint8_t handler[] = {0x90, 0x48, 0xcf};
    CODE(0x90, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_handler(2, handler, sizeof handler, false);
    rf_launch_exit("the window is open at entry", VTX_EXIT_REASON_NMI_WINDOW);
    rf_inject(INTR(2, 2), 0, 0);
    rf_resume_exit("NW-7: the window after the handler's IRET", VTX_EXIT_REASON_NMI_WINDOW);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_resume_exit("disarmed", R_VMCALL);
    expect_none();
}

/* ---- HLT_RESUMED_AT_HLT (EXIT-7, HLT-3) ----   G+0 nop; G+1 f4 hlt; G+2 vmcall */
static void hlt_exit(void)
{
    CODE(0x90, 0xf4, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x30, false);
    rf_launch_exit("HLT exiting", VTX_EXIT_REASON_HLT);
    rf_saved_rip("EXIT-7: the HLT itself", G + 1);
}

Test(vmm_check, hlt_resumed_at_hlt_with_injection_bug)
{
    hlt_exit();
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("timer interrupt injected at the HLT", R_VMCALL);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G + 1, "the handler returns to the HLT");
    expect_only(VTX_VMM_HLT_RESUMED_AT_HLT, 1, 2);
}

Test(vmm_check, hlt_resumed_at_hlt_without_injection_bug)
{
    hlt_exit();
    rf_resume_exit("resumed at the HLT", VTX_EXIT_REASON_HLT);
    expect_only(VTX_VMM_HLT_RESUMED_AT_HLT, 1, 2);
}

Test(vmm_check, hlt_resumed_after_hlt_fixed)
{
    hlt_exit();
    rf_skip(vt_vmread(&e, VTX_VMCS_EXIT_INSTRUCTION_LEN));
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_resume_exit("injected after the HLT", R_VMCALL);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G + 2, "the handler returns after the HLT");
    expect_none();
}

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

Test(vmm_check, interrupt_queue_vmm_draws_nothing)
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

Test(vmm_check, iw_classic_vmm_draws_nothing)
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

Test(vmm_check, attaching_changes_no_exit_state_count_or_cycle)
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
Test(vmm_check, api_names_attach_and_format)
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
