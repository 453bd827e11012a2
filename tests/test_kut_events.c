/*
 * kvm-unit-tests scenarios of docs/kut.tsv ported without an APIC or a second
 * CPU: the platform pins (vtx_machine_set_intr, vtx_machine_raise_nmi) are the
 * interrupt source, raised before entry or while the guest is halted (run ->
 * VTX_GUEST_STOPPED -> raise -> vtx_continue). Guest code at G = 0x10000,
 * handlers at H(v) = 0x12000 + 0x10 * v ("vmcall"), RSP 0x9000.
 * 6.10 (preemption timer) and 6.11 (MTF) are in test_rules_exits.c, 6.15 there too
 * (exit_4_*), 6.1/6.2 in test_kut_windows.c.
 *
 * Not ported: 6.3 APIC-timer arming and L1's "sti; nop; cli" delivery to itself:
 *   no APIC and no root-mode interrupt delivery in the model (the line is driven
 *   directly; L1's own handling is the test's vtx_machine_set_intr(false)).
 * Not ported: 6.4 NMI IPI from a second CPU: single-CPU model (the NMI pin is
 *   raised while the guest is halted instead).
 * Not ported: 6.10 vmx_preemption_timer_tf_test / _expiry_test (10 000 entries with
 *   guest-stored TSCs) and the selftest's save/restore: no nested-state migration.
 * Not ported: 6.11.6 vmx_mtf_pdpte_test: PAE paging enabled by the guest's MOV CR0
 *   needs non-identity 32-bit PAE tables and PDPTE loading the engine cannot do.
 * Not ported: 6.12 RTM variant (no RTM) and the L0-synthesized trap after wbinvd
 *   (no L0).
 * Not ported: 6.13 vmx_apic_passthrough_tpr_threshold_test (L1's pending self-IPI
 *   needs a local APIC, which the model does not have), vmx_posted_interrupts_test and
 *   apic_reg_virt_test (posted interrupts and APIC-register virtualization are
 *   refused by VM entry); vmx_hlt_with_rvi_test and the TPR-threshold, VID and EOI
 *   cases are in test_apic_virt.c.
 * Not ported: 6.14 INIT signalled by a second CPU and latched in VMX root: no SMP
 *   (INIT exits and the SIPI test are in test_post_entry.c and test_sipi.c).
 * Not ported: 6.16 self-IPIs and TPR masking: no APIC (the exception-delivery
 *   cases #DE, #BP, #OF, #NP are covered by test_deliver_*.c and test_modes.c).
 * Not ported: 6.17 KVM selftests test KVM's own interfaces (nested-state save and
 *   restore, KVM_SET_VCPU_EVENTS); their VMX cases (injected #SS into an empty IDT,
 *   #GP/#DF/triple fault) are INJ-16/INJ-18 in test_rules_injection.c.
 */
#include "rules_fixture.h"

#define R_EXT VTX_EXIT_REASON_EXTERNAL_INTERRUPT

TestSuite(kut_events, .init = rf_setup, .fini = rf_teardown);

/* ---- 6.3 external interrupts, HLT and injection ---- */

Test(kut_events, s6_3_a_direct_interrupt_runs_the_guest_isr)
{
    VTX_COVERS("HLT-2");
    /* (a) HLT-2: external-interrupt exiting off: the guest ISR runs, frame RIP = G. */
    CODE(0x90, 0xf4);
    rf_vmcall_handler(0x30, false);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    vtx_machine_set_intr(e.m, true, 0x30);
    rf_launch_exit("6.3a", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("6.3a: in the ISR", H(0x30));
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G);
}

Test(kut_events, s6_3_b_intercepted_interrupt)
{
    VTX_COVERS("IW-9");
    /* (b) IW-9: external-interrupt exiting: exit 1 at G; L1 handles it (drops the line)
     * and the guest then runs to its halt. */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    vtx_machine_set_intr(e.m, true, 0x30);
    rf_launch_exit("6.3b", R_EXT);
    rf_saved("6.3b", G, 0, ACT_ACTIVE);
    vtx_machine_set_intr(e.m, false, 0x30);
    vtx_insn_result r;
    rf_check_stopped("6.3b: interrupt handled by L1", vtx_vmresume(e.m, &r), &r);
}

Test(kut_events, s6_3_c_direct_interrupt_wakes_guest_hlt)
{
    VTX_COVERS("HLT-2", "HLT-4");
    /* (c) HLT-2, HLT-4: guest HLT; the interrupt raised while halted wakes it; frame RIP after HLT. */
    CODE(0xf4, 0x90);
    rf_vmcall_handler(0x30, false);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_launch_stopped("6.3c: halted");
    vtx_machine_set_intr(e.m, true, 0x30);
    rf_continue_exit("6.3c", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G + 1);
}

Test(kut_events, s6_3_d_intercepted_interrupt_in_guest_hlt)
{
    VTX_COVERS("HLT-3");
    /* (d) HLT-3: exit 1 from HLT: activity HLT, RIP after HLT. */
    CODE(0xf4, 0x90);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_launch_stopped("6.3d: halted");
    vtx_machine_set_intr(e.m, true, 0x30);
    rf_continue_exit("6.3d", R_EXT);
    rf_saved("6.3d", G + 1, 0, ACT_HLT);
}

Test(kut_events, s6_3_e_direct_interrupt_wakes_hlt_activity_state)
{
    VTX_COVERS("HLT-1", "HLT-4");
    /* (e) HLT-1, HLT-4: L1 enters with AS = HLT; the interrupt wakes it, the ISR runs
     * with the frame returning to the entry RIP. */
    CODE(0xfb, 0x90, 0xf4);
    rf_vmcall_handler(0x30, false);
    rf_state(G, 0x202, 0, ACT_HLT);
    rf_launch_stopped("6.3e: AS=HLT");
    vtx_machine_set_intr(e.m, true, 0x30);
    rf_continue_exit("6.3e", VTX_EXIT_REASON_VMCALL);
    rf_saved("6.3e", H(0x30), 0, ACT_ACTIVE);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G);
}

Test(kut_events, s6_3_f_g_intercepted_interrupt_with_hlt_activity_and_ack)
{
    VTX_COVERS("HLT-3", "EXIT-4");
    /* (f) HLT-3: AS = HLT, exit 1 with activity HLT saved; (g) EXIT-4: acknowledge on
     * exit reports the vector; L1 sets AS = active and the guest runs on. */
    CODE(0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    rf_state(G, 0x202, 0, ACT_HLT);
    vtx_machine_set_intr(e.m, true, 0xde);
    rf_launch_exit("6.3f", R_EXT);
    rf_saved("6.3f", G, 0, ACT_HLT);
    rf_field("6.3g", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(0, 0xde));
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_ACTIVE);
    rf_resume_exit("6.3f: L1 reset AS", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("6.3f", G);
}

Test(kut_events, s6_3_h_inject_to_a_halted_guest)
{
    VTX_COVERS("INJ-13", "HLT-1");
    /* (h) INJ-13, HLT-1: AS = HLT plus an injected external interrupt (vector 222): the
     * ISR runs and the guest is active. */
    CODE(0xf4);
    rf_vmcall_handler(222, false);
    rf_state(G, 0x202, 0, ACT_HLT);
    rf_inject(INTR(0, 222), 0, 0);
    rf_launch_exit("6.3h", VTX_EXIT_REASON_VMCALL);
    rf_saved("6.3h", H(222), 0, ACT_ACTIVE);
}

/* ---- 6.4 NMI and HLT ---- */

Test(kut_events, s6_4_a_nmi_wakes_hlt_without_nmi_exiting)
{
    VTX_COVERS("HLT-2", "VNMI-6");
    /* (a) HLT-2, VNMI-6: the NMI raised while the guest is halted runs its handler. */
    CODE(0xf4, 0x90);
    rf_vmcall_handler(2, false);
    rf_launch_stopped("6.4a: halted");
    vtx_machine_raise_nmi(e.m);
    rf_continue_exit("6.4a", VTX_EXIT_REASON_VMCALL);
    rf_saved("6.4a", H(2), IS_NMI, ACT_ACTIVE);
}

Test(kut_events, s6_4_b_nmi_exit_from_hlt_handler_not_run)
{
    VTX_COVERS("VNMI-1", "HLT-3");
    /* (b) VNMI-1, HLT-3: NMI exiting + virtual NMIs: exit 0 from HLT; the guest handler
     * does not run; L1 sets AS = active and the guest continues after its HLT. */
    CODE(0xf4, 0x0f, 0x01, 0xc1);
    rf_vmcall_handler(2, false);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    rf_launch_stopped("6.4b: halted");
    vtx_machine_raise_nmi(e.m);
    rf_continue_exit("6.4b", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field("6.4b", VTX_VMCS_EXIT_INTR_INFO, "interruption information", 0x80000202);
    rf_saved("6.4b", G + 1, 0, ACT_HLT);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_ACTIVE);
    rf_resume_exit("6.4b: resumed active", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("6.4b: the guest's own vmcall, not the NMI handler", G + 1);
}

/* ---- 6.5 pending events ---- */

Test(kut_events, s6_5_pending_interrupt_exits_before_any_instruction)
{
    VTX_COVERS("IW-9", "PRI-4");
    /* IW-9, PRI-4: IF = 0, external-interrupt exiting, interrupt pending at entry:
     * exit 1 before the first instruction. */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    vtx_machine_set_intr(e.m, true, 0x40);
    uint64_t before = vtx_machine_instructions(e.m);
    rf_launch_exit("6.5", R_EXT);
    rf_saved("6.5", G, 0, ACT_ACTIVE);
    cr_assert_eq(vtx_machine_instructions(e.m), before, "no guest instruction ran");
}

Test(kut_events, s6_5_hlt_variant)
{
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_state(G, 0x2, 0, ACT_HLT);
    vtx_machine_set_intr(e.m, true, 0x40);
    rf_launch_exit("6.5 hlt", R_EXT);
    rf_saved("6.5 hlt", G, 0, ACT_HLT);
}

Test(kut_events, s6_5_flip_without_exiting_if0_holds_it)
{
    /* Flip: external-interrupt exiting off and IF = 0: the interrupt waits; the guest halts. */
    CODE(0x90, 0xf4);
    vtx_machine_set_intr(e.m, true, 0x40);
    rf_launch_stopped("IF=0, no exiting");
}

/* ---- 6.12 debug traps and MOV-SS blocking ---- */

Test(kut_events, s6_12_single_step_intercepted)
{
    VTX_COVERS("EXIT-3");
    /* EXIT-3: hardware single-step with #DB intercepted: qualification BS, RIP after the nop. */
    CODE(0x90, 0xf4);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_state(G, 0x2 | RFLAGS_TF, 0, ACT_ACTIVE);
    rf_launch_exit("6.12 single step", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field("6.12", VTX_VMCS_EXIT_QUALIFICATION, "qualification", PENDING_BS);
    rf_saved_rip("6.12", G + 1);
}

Test(kut_events, s6_12_mov_ss_shadow_accumulates_pending_bits)
{
    VTX_COVERS("BLK-MSS-1", "EXIT-9");
    /* BLK-MSS-1, EXIT-9: IS = MOV SS, pending = BS | B0, TF = 1: after the nop the #DB
     * exit reports BS | B0 and the pending field is cleared. */
    CODE(0x90, 0xf4);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_state(G, 0x2 | RFLAGS_TF, IS_MOVSS, ACT_ACTIVE);
    vt_vmwrite(&e, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_BS | 1);
    rf_launch_exit("6.12 MOV-SS shadow", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field("6.12", VTX_VMCS_EXIT_QUALIFICATION, "qualification", PENDING_BS | 1);
    rf_field("6.12", VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, "pending debug exceptions", 0);
    rf_saved_rip("6.12", G + 1);
}
