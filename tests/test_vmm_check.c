/*
 * The VMM checker (vmm_check.h, issue 12): one test per finding with the bug
 * (reported exactly once, at the right exit and entry) and with the fix
 * (nothing reported). Correct VMMs, the checker's transparency and the API:
 * test_vmm_check_clean.c.
 * Guest code at G = 0x10000, handlers at H(v) = 0x12000 + 0x10 * v (rules_fixture.h).
 */
#include "vmm_check_fixture.h"

TestSuite(vmm_check, .init = ck_setup, .fini = ck_teardown);

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
    vtx_vmm_check_report rep;
    cr_assert_eq(vtx_vmm_check_finalize(chk, &rep), VTX_OK);
    cr_assert_eq(got.n, 1, "a second finalize reports nothing new");
    cr_assert_eq(rep.exits, 2);
    cr_assert_eq(rep.entries, 2);
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
    rf_launch_exit("VNMI-3 (c): injected NMI faults", R_EXC);
    rf_saved("VNMI-3 (c)", G, IS_NMI, ACT_ACTIVE);
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
