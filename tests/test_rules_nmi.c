/*
 * Catalogue sections C and D (NW-*, VNMI-*) and BLK-NMI-3 on an executing guest.
 * Guest code at G = 0x10000, handlers at H(v) = 0x12000 + 0x10 * v, RSP 0x9000.
 *
 * A faulting IRET (VNMI-7 bit 12, VNMI-9): suite iret_fault at the end. VNMI-8
 * (EPT-violation qualification bit 12) is in test_ept_walk.c (Unicorn 2.1). VNMI-12: an
 * entry that fails at its MSR-load area (rules_nmi/vnmi_12_...).
 */
#include "rules_fixture.h"

#define R_EXC VTX_EXIT_REASON_EXCEPTION_NMI

static void vnmi_on(void) { rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS); }

/* iretq through a frame the guest builds, then vmcall at G+17 (see test_rules_blocking.c). */
#define IRET_TO_VMCALL_CODE                                                                                  \
    CODE(0x48, 0x89, 0xe0, 0x6a, 0x10, 0x50, 0x6a, 0x02, 0x6a, 0x08, 0x68, 0x11, 0x00, 0x01, 0x00, 0x48, 0xcf, \
         0x0f, 0x01, 0xc1)

TestSuite(rules_nmi, .init = rf_setup, .fini = rf_teardown);

Test(rules_nmi, vnmi_1_nmi_exiting_exits_with_0x80000202)
{
    VTX_COVERS("VNMI-1", "EXIT-4", "EXIT-3");
    /* VNMI-1, EXIT-4: NMI exiting = 1: exit 0, interruption information 0x80000202,
     * no delivery through the IDT (the stack is untouched), qualification 0 (EXIT-3). */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("VNMI-1: NMI with NMI exiting", R_EXC);
    rf_field("VNMI-1", VTX_VMCS_EXIT_INTR_INFO, "interruption information", 0x80000202);
    rf_field("VNMI-1", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 0);
    rf_field("VNMI-1", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", 0);
    rf_saved_rip("VNMI-1", G);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RSP), VT_GUEST_RSP, "VNMI-1: nothing was pushed");
}

Test(rules_nmi, vnmi_1_flip_without_nmi_exiting_goes_through_vector_2)
{
    VTX_COVERS("VNMI-1", "VNMI-6");
    /* VNMI-1 flip, VNMI-6: NMI exiting = 0: the NMI is delivered through IDT vector 2. */
    CODE(0x90, 0xf4);
    rf_vmcall_handler(2, false);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("NMI without NMI exiting", VTX_EXIT_REASON_VMCALL);
    rf_saved("NMI delivered through vector 2", H(2), IS_NMI, ACT_ACTIVE);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G, "the NMI frame returns to G");
}

Test(rules_nmi, vnmi_3_injected_nmi_sets_virtual_nmi_blocking)
{
    VTX_COVERS("VNMI-3", "INJ-13", "BLK-LOAD-3");
    /* VNMI-3 (b), INJ-13, BLK-LOAD-3: an entry injecting an NMI with virtual NMIs = 1
     * leaves virtual-NMI blocking in effect: the handler's VMCALL exit saves bit 3 = 1. */
    CODE(0x90, 0xf4);
    vnmi_on();
    rf_vmcall_handler(2, false);
    rf_inject(INTR(2, 2), 0, 0);
    rf_launch_exit("VNMI-3: injected NMI", VTX_EXIT_REASON_VMCALL);
    rf_saved("VNMI-3: in the NMI handler", H(2), IS_NMI, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_3_flip_injected_exception_sets_no_blocking)
{
    VTX_COVERS("VNMI-3");
    /* Flip: injecting a #UD instead leaves bit 3 clear. */
    CODE(0x90, 0xf4);
    vnmi_on();
    rf_vmcall_handler(6, false);
    rf_inject(INTR(3, 6), 0, 0);
    rf_launch_exit("injected #UD", VTX_EXIT_REASON_VMCALL);
    rf_saved("injected #UD", H(6), 0, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_3_real_nmi_exit_sets_no_virtual_blocking)
{
    VTX_COVERS("VNMI-3", "BLK-NMI-2");
    /* VNMI-3 last sentence, BLK-NMI-2: a real NMI that exits does not set virtual-NMI blocking. */
    CODE(0x90, 0xf4);
    vnmi_on();
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("real NMI with virtual NMIs", R_EXC);
    rf_saved("real NMI exit", G, 0, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_3c_injected_nmi_delivery_exit_saves_virtual_blocking)
{
    VTX_COVERS("VNMI-3", "BLK-SAVE-1", "INJ-18");
    /* VNMI-3 (c), BLK-SAVE-1 (c), INJ-18: the injected NMI's gate is missing and #GP is
     * intercepted: exit 0 (#GP, error 2*8+2+EXT = 0x13), IDT-vectoring = the NMI,
     * and virtual-NMI blocking is saved as 1. */
    CODE(0x90, 0xf4);
    vnmi_on();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_inject(INTR(2, 2), 0, 0);
    rf_launch_exit("VNMI-3 (c): injected NMI faults", R_EXC);
    rf_field("VNMI-3 (c)", VTX_VMCS_EXIT_INTR_INFO, "interruption information (#GP with error code)", INTR_EC(3, 13));
    rf_field("VNMI-3 (c)", VTX_VMCS_EXIT_INTR_ERROR_CODE, "error code", 0x13);
    rf_field("VNMI-3 (c)", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(2, 2));
    rf_saved("VNMI-3 (c)", G, IS_NMI, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_4_iret_clears_virtual_nmi_blocking)
{
    VTX_COVERS("VNMI-4");
    /* VNMI-4: IRET clears virtual-NMI blocking. */
    IRET_TO_VMCALL_CODE;
    vnmi_on();
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    rf_launch_exit("VNMI-4: virtual-NMI blocking; iretq", VTX_EXIT_REASON_VMCALL);
    rf_saved("VNMI-4: after IRET", G + 17, 0, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_4_flip_vm_exit_keeps_virtual_nmi_blocking)
{
    VTX_COVERS("VNMI-4");
    /* VNMI-4 flip: a VM exit without IRET saves the blocking as it is.   G+0 0f 01 c1 vmcall */
    CODE(0x0f, 0x01, 0xc1);
    vnmi_on();
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    rf_launch_exit("virtual-NMI blocking; vmcall", VTX_EXIT_REASON_VMCALL);
    rf_saved("virtual-NMI blocking kept", G, IS_NMI, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_5_iret_does_not_unblock_with_nmi_exiting_and_no_vnmi)
{
    VTX_COVERS("VNMI-5");
    /* VNMI-5: NMI exiting = 1, virtual NMIs = 0: IRET does not affect blocking by NMI. */
    IRET_TO_VMCALL_CODE;
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    rf_launch_exit("VNMI-5: blocking by NMI; iretq", VTX_EXIT_REASON_VMCALL);
    rf_saved("VNMI-5: IRET left the blocking", G + 17, IS_NMI, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_6_iret_unblocks_without_nmi_exiting)
{
    VTX_COVERS("VNMI-6", "VNMI-5");
    /* VNMI-6 (the flip of VNMI-5): NMI exiting = 0: IRET unblocks NMIs. */
    IRET_TO_VMCALL_CODE;
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    rf_launch_exit("VNMI-6: blocking by NMI; iretq", VTX_EXIT_REASON_VMCALL);
    rf_saved("VNMI-6: IRET removed the blocking", G + 17, 0, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_5_pending_nmi_stays_blocked_after_iret)
{
    VTX_COVERS("VNMI-5", "BLK-LOAD-3");
    /* VNMI-5, BLK-LOAD-3: with NMI exiting and blocking by NMI, a pending NMI is not
     * taken even after the guest's IRET: the run reaches the VMCALL. */
    IRET_TO_VMCALL_CODE;
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("VNMI-5: NMI pending, blocked", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("VNMI-5", G + 17);
}

Test(rules_nmi, vnmi_6_flip_pending_nmi_taken_after_iret)
{
    VTX_COVERS("VNMI-6", "VNMI-2");
    /* Flip: with virtual NMIs the same pending NMI exits at once (bit 3 is virtual, VNMI-2). */
    IRET_TO_VMCALL_CODE;
    vnmi_on();
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("VNMI-2: NMI pending with virtual NMIs", R_EXC);
    rf_saved_rip("VNMI-2", G);
}

Test(rules_nmi, vnmi_7_bit12_clear_for_non_iret_faults)
{
    VTX_COVERS("VNMI-7");
    /* VNMI-7: an exception exit not caused by IRET reports bit 12 = 0, even with
     * virtual-NMI blocking in effect.   G+0 0f 0b ud2 */
    CODE(0x0f, 0x0b);
    vnmi_on();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    rf_launch_exit("VNMI-7: #UD exit", R_EXC);
    rf_field("VNMI-7", VTX_VMCS_EXIT_INTR_INFO, "interruption information (bit 12 clear)", INTR(3, 6));
    rf_saved("VNMI-7: blocking kept", G, IS_NMI, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_10_nmi_delivery_fault_exits_with_idt_vectoring)
{
    VTX_COVERS("VNMI-10", "BLK-NMI-3", "EXIT-5");
    /* VNMI-10, BLK-NMI-3, EXIT-5: a real NMI (NMI exiting = 0) whose gate is missing:
     * the #GP is intercepted; IDT-vectoring = NMI; NMIs are blocked before the exit. */
    CODE(0x90, 0xf4);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("VNMI-10: NMI delivery faults", R_EXC);
    rf_field("VNMI-10", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(2, 2));
    rf_field("VNMI-10", VTX_VMCS_EXIT_INTR_ERROR_CODE, "#GP error code (vector 2, IDT, EXT)", 0x13);
    rf_saved("VNMI-10", G, IS_NMI, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_10_flip_gp_handled_by_guest)
{
    VTX_COVERS("VNMI-10");
    /* Flip: #GP not intercepted and its gate present: the guest's #GP handler runs, no
     * IDT-vectoring information, NMIs still blocked (the NMI handler never IRETed). */
    CODE(0x90, 0xf4);
    rf_vmcall_handler(13, false);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("NMI delivery faults into the guest #GP handler", VTX_EXIT_REASON_VMCALL);
    rf_field("flip", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", 0);
    rf_saved("flip", H(13), IS_NMI, ACT_ACTIVE);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), 0x13, "the #GP error code pushed has EXT");
}

Test(rules_nmi, vnmi_11_sti_blocking_holds_nmi_exit)
{
    VTX_COVERS("VNMI-11");
    /* VNMI-11, CFG-STI-NMI on (default): blocking by STI holds the NMI exit one instruction. */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_state(G, 0x202, IS_STI, ACT_ACTIVE);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("VNMI-11: NMI in an STI shadow", R_EXC);
    rf_saved_rip("VNMI-11: after the nop", G + 1);
}

Test(rules_nmi, vnmi_11_flip_knob_off_exits_at_once)
{
    VTX_COVERS("VNMI-11");
    /* VNMI-11 with CFG-STI-NMI off (profile copy): the NMI exits in the shadow. */
    rf_rebuild_knobs(VTX_KNOB_STI_NMI, 0);
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_state(G, 0x202, IS_STI, ACT_ACTIVE);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("VNMI-11: CFG-STI-NMI off", R_EXC);
    rf_saved("VNMI-11: CFG-STI-NMI off", G, IS_STI, ACT_ACTIVE);
}

Test(rules_nmi, vnmi_11_mov_ss_blocking_holds_nmi_exit)
{
    VTX_COVERS("VNMI-11");
    /* VNMI-11, CFG-MSS-NMI on (default) and its flip with the knob off. */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_state(G, 0x2, IS_MOVSS, ACT_ACTIVE);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("VNMI-11: NMI in MOV-SS blocking", R_EXC);
    rf_saved_rip("VNMI-11: after the nop", G + 1);
    rf_rebuild_knobs(VTX_KNOB_MSS_NMI, 0);
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_state(G, 0x2, IS_MOVSS, ACT_ACTIVE);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("VNMI-11: CFG-MSS-NMI off", R_EXC);
    rf_saved_rip("VNMI-11: CFG-MSS-NMI off", G);
}

/* ---- C. NMI-window exiting ---- */

Test(rules_nmi, nw_1_nmi_window_requires_virtual_nmis)
{
    VTX_COVERS("NW-1", "ENT-CTL-3");
    /* NW-1, ENT-CTL-3: NMI-window exiting without virtual NMIs is VMfailValid(7). */
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    vt_expect("NW-1: NMI-window exiting without virtual NMIs", st, &r, VTX_VMFAIL_VALID, 7);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_VIRTUAL_NMIS);
    rf_launch_exit("NW-1: with virtual NMIs the entry passes and the window exits", VTX_EXIT_REASON_NMI_WINDOW);
}

Test(rules_nmi, nw_3_injected_nmi_never_exits_the_window_at_once)
{
    VTX_COVERS("NW-3");
    /* NW-3: an injected NMI sets virtual-NMI blocking, so no immediate NW exit: the
     * handler runs (VMCALL exit). Flip: inject #UD instead -> NW exit at the #UD handler. */
    CODE(0x90, 0xf4);
    vnmi_on();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_vmcall_handler(2, false);
    rf_inject(INTR(2, 2), 0, 0);
    rf_launch_exit("NW-3: injected NMI", VTX_EXIT_REASON_VMCALL);
    rf_saved("NW-3: in the NMI handler", H(2), IS_NMI, ACT_ACTIVE);
}

Test(rules_nmi, nw_3_flip_injected_ud_exits_at_the_handler)
{
    VTX_COVERS("NW-3");
    CODE(0x90, 0xf4);
    vnmi_on();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_vmcall_handler(6, false);
    rf_inject(INTR(3, 6), 0, 0);
    rf_launch_exit("NW-3: injected #UD", VTX_EXIT_REASON_NMI_WINDOW);
    rf_saved("NW-3: at the #UD handler", H(6), 0, ACT_ACTIVE);
}

Test(rules_nmi, nw_4_nmi_window_beats_pending_nmi)
{
    VTX_COVERS("NW-4", "PRI-2");
    /* NW-4, PRI-2: NW exit before the pending NMI; the NMI stays pending and exits
     * once the VMM turns NW exiting off. */
    CODE(0x90, 0xf4);
    vnmi_on();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("NW-4: NW and a pending NMI", VTX_EXIT_REASON_NMI_WINDOW);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_resume_exit("NW-4: the NMI was kept pending", R_EXC);
    rf_field("NW-4", VTX_VMCS_EXIT_INTR_INFO, "interruption information", 0x80000202);
}

Test(rules_nmi, nw_5_nmi_window_wakes_shutdown)
{
    VTX_COVERS("NW-5", "HLT-8");
    /* NW-5, HLT-8: NW exits leave the shutdown state (saved activity 2); wait-for-SIPI
     * blocks them (flip). */
    vnmi_on();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_state(G, 0x2, 0, ACT_SHUTDOWN);
    rf_launch_exit("NW-5: shutdown", VTX_EXIT_REASON_NMI_WINDOW);
    rf_saved("NW-5: shutdown", G, 0, ACT_SHUTDOWN);
    rf_rebuild_knobs(0, 0);
    vnmi_on();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_state(G, 0x2, 0, ACT_SIPI);
    rf_launch_stopped("NW-5: wait-for-SIPI");
}

Test(rules_nmi, nw_6_saved_state_of_an_nmi_window_exit)
{
    VTX_COVERS("NW-6", "NW-8");
    /* NW-6, NW-8: entry with MOV-SS blocking: one instruction, then exit 8 with
     * qualification 0, bits 1 and 3 saved as 0, interruption information invalid. */
    CODE(0x90, 0xf4);
    vnmi_on();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_state(G, 0x2, IS_MOVSS, ACT_ACTIVE);
    rf_launch_exit("NW-6: after MOV-SS blocking", VTX_EXIT_REASON_NMI_WINDOW);
    rf_saved("NW-6", G + 1, 0, ACT_ACTIVE);
    rf_field("NW-6", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) >> 31, 0, "NW-6: interruption information invalid");
}

Test(rules_nmi, nw_7_window_opens_after_iret)
{
    VTX_COVERS("NW-7", "NW-2");
    /* NW-7: virtual-NMI blocking at entry: the guest runs until its IRET; the NW exit is
     * at the IRET's target. Flip (NW-2): without the IRET the guest reaches its VMCALL. */
    IRET_TO_VMCALL_CODE;
    vnmi_on();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    rf_launch_exit("NW-7: iretq", VTX_EXIT_REASON_NMI_WINDOW);
    rf_saved("NW-7", G + 17, 0, ACT_ACTIVE);
    rf_state(G + 17, 0x2, IS_NMI, ACT_ACTIVE);
    rf_resume_exit("NW-2: no IRET, the window stays shut", VTX_EXIT_REASON_VMCALL);
}

/* ---- IRET that faults (BLK-NMI-1 second half, VNMI-4, VNMI-7, VNMI-9) ----
 * Guest: build an IRETQ frame whose CS (0x1234) lies beyond the GDT limit, then
 * iretq: #GP(0x1234), intercepted.
 *   mov rax, rsp; push 0x10; push rax; pushfq; push 0x1234; lea rcx, [rip]; push rcx; iretq (at G+0x14) */
static const uint8_t faulting_iret[] = {0x48, 0x89, 0xe0, 0x6a, 0x10, 0x50, 0x9c, 0x68, 0x34, 0x12, 0, 0,
                                        0x48, 0x8d, 0x0d, 0, 0, 0, 0, 0x51, 0x48, 0xcf};

static void iret_fault_case(uint32_t pin_extra, uint32_t intr, uint32_t want_bit12, uint32_t want_bit3,
                            const char *what)
{
    vt_env v;
    vt_start(&v, "server");
    vt_code(&v, VT_GUEST_RIP, faulting_iret, sizeof faulting_iret);
    vt_set_bits(&v, VTX_VMCS_PIN_CONTROLS, pin_extra);
    vt_vmwrite(&v, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    vt_vmwrite(&v, VTX_VMCS_GUEST_INTERRUPTIBILITY, intr);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(v.m, &r), VTX_OK, "%s", what);
    cr_assert(r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXCEPTION_NMI,
              "%s: expected the #GP exit of the faulting IRET, got %s", what, r.why);
    uint32_t info = (uint32_t)vt_vmread(&v, VTX_VMCS_EXIT_INTR_INFO);
    cr_assert_eq(info & 0x800007FFu, 0x8000030Du, "%s: #GP, hardware exception, valid (info 0x%x)", what, info);
    cr_assert_eq(vt_vmread(&v, VTX_VMCS_EXIT_INTR_ERROR_CODE), 0x1234, "%s: #GP error code is the CS selector", what);
    cr_assert_eq(vt_vmread(&v, VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 0x14, "%s: RIP on the iretq (a fault)", what);
    cr_assert_eq(info & (1u << 12), want_bit12, "%s: bit 12 'NMI unblocking due to IRET' (info 0x%x)", what, info);
    cr_assert_eq(vt_vmread(&v, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 0x8, want_bit3, "%s: saved bit 3", what);
    vt_teardown(&v);
}

Test(iret_fault, vnmi_7_9_virtual_nmi_blocking_removed_by_a_faulting_iret)
{
    VTX_COVERS("VNMI-7", "VNMI-4", "VNMI-9");
    /* VNMI-4, VNMI-7, VNMI-9: with virtual NMIs, an IRET that faults still removes
     * virtual-NMI blocking; the exit reports bit 12 = 1 and saves bit 3 = 0. */
    iret_fault_case(VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS, 0x8, 1u << 12, 0,
                    "virtual-NMI blocking, faulting IRET");
}

Test(iret_fault, vnmi_7_no_blocking_before_iret_bit12_clear)
{
    VTX_COVERS("VNMI-7");
    /* VNMI-7 flip: no virtual-NMI blocking before the IRET: bit 12 = 0. */
    iret_fault_case(VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS, 0, 0, 0, "no virtual-NMI blocking, faulting IRET");
}

Test(iret_fault, blk_nmi_1_nmi_blocking_removed_even_when_iret_faults)
{
    VTX_COVERS("BLK-NMI-1", "VNMI-6", "VNMI-9");
    /* BLK-NMI-1, VNMI-6, VNMI-9: NMI exiting = 0: blocking by NMI ends with the IRET
     * even though it faults; bit 12 = 1, saved bit 3 = 0. */
    iret_fault_case(0, 0x8, 1u << 12, 0, "blocking by NMI, NMI exiting 0, faulting IRET");
}

Test(iret_fault, vnmi_5_nmi_exiting_without_vnmi_iret_keeps_blocking)
{
    VTX_COVERS("VNMI-5", "VNMI-7");
    /* VNMI-5, VNMI-7: NMI exiting = 1 and virtual NMIs = 0: IRET does not affect
     * NMI blocking (bit 3 stays 1) and bit 12 is undefined (the model reports 0). */
    iret_fault_case(VTX_PIN_NMI_EXITING, 0x8, 0, 0x8, "blocking by NMI, NMI exiting 1, faulting IRET");
}

/* ---- VNMI-12: a VM-entry failure after guest-state loading ---- */

#define ENTRY_MSR_AREA 0x40000u
#define MSR_UNKNOWN 0xC0001FFFu /* no such MSR: loading it fails the entry (reason 34) */

Test(rules_nmi, vnmi_12_entry_failure_leaves_nmi_blocking_as_before)
{
    VTX_COVERS("VNMI-12", "VNMI-3", "INJ-4");
    /* VNMI-12 (SDM "VM-Entry Failures During or After Loading Guest State"): an entry
     * that fails after loading guest state leaves blocking by NMI as it was before
     * the entry. The entry injects an NMI with virtual NMIs = 1 (VNMI-3 (b): virtual-NMI
     * blocking from the injection on) and fails at its MSR-load area, which is loaded
     * before any event is injected: no NMI was delivered (no frame on the guest stack),
     * the guest interruptibility state still reads 0 and the injection is still valid
     * (INJ-4). Flip: the same entry without the bad MSR entry delivers the NMI, and its
     * next exit saves virtual-NMI blocking (bit 3). */
    CODE(0x90, 0x0f, 0x01, 0xc1);
    vnmi_on();
    rf_vmcall_handler(2, false);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_inject(INTR(2, 2), 0, 0);
    rf_poke64(ENTRY_MSR_AREA, MSR_UNKNOWN);
    rf_poke64(ENTRY_MSR_AREA + 8, 0);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_MSR_LOAD_ADDR, ENTRY_MSR_AREA);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_MSR_LOAD_COUNT, 1);
    const uint64_t below_rsp = rf_mem64(VT_GUEST_RSP - 8);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT &&
                  r.exit_reason == (VTX_EXIT_REASON_MSR_LOADING | VTX_EXIT_REASON_ENTRY_FAILURE),
              "VNMI-12: expected VM-entry failure 34, got outcome %d reason 0x%x (%s)", (int)r.outcome,
              r.exit_reason, r.why);
    cr_assert(!vtx_machine_in_guest(e.m), "VNMI-12: back in root operation");
    cr_assert_eq(rf_mem64(VT_GUEST_RSP - 8), below_rsp, "VNMI-12: no NMI was delivered (nothing pushed at RSP - 8)");
    rf_field("VNMI-12", VTX_VMCS_GUEST_INTERRUPTIBILITY, "interruptibility: no virtual-NMI blocking", 0);
    rf_field("INJ-4", VTX_VMCS_ENTRY_INTR_INFO, "entry interruption information still valid", INTR(2, 2));
    vt_vmwrite(&e, VTX_VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    rf_launch_exit("VNMI-3 (b): the same entry without the bad MSR", VTX_EXIT_REASON_VMCALL);
    rf_saved("VNMI-3 (b): in the NMI handler with virtual-NMI blocking", H(2), IS_NMI, ACT_ACTIVE);
}
