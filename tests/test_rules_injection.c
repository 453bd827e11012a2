/*
 * Catalogue section E.3 (INJ-5..18): event injection at VM entry, delivered into
 * an executing guest. Handlers at H(v) = 0x12000 + 0x10 * v are "vmcall" unless
 * said otherwise, so the exit after delivery shows where the event landed and the
 * frame it pushed (RSP 0x9000, 64-bit frames: RIP, CS, RFLAGS, RSP, SS [after the
 * error code]). Guest code at G = 0x10000 is a nop; hlt unless listed.
 *
 * INJ-6 in real mode (IVT) and 32-bit mode: test_modes.c. Not covered: INJ-10 in V8086 mode (no VME redirection modelled); the DR6
 * half of INJ-12 (the model keeps no DR6); INJ-18 for task gates, APIC
 * accesses, EPT violations (none modelled).
 */
#include "rules_fixture.h"

#define R_EXC VTX_EXIT_REASON_EXCEPTION_NMI
#define R_CALL VTX_EXIT_REASON_VMCALL

static void std_code(void) { CODE(0x90, 0xf4); }

TestSuite(rules_injection, .init = rf_setup, .fini = rf_teardown);

/* Write a present 64-bit gate with a chosen DPL and present bit. */
static void gate(uint8_t v, uint64_t handler, unsigned dpl, bool present)
{
    uint64_t *g = (uint64_t *)(e.ram + VT_GUEST_IDT + 16u * v);
    g[0] = (handler & 0xFFFF) | (0x08ull << 16) | ((uint64_t)(0x0E | (dpl << 5) | (present ? 0x80 : 0)) << 40) |
           (((handler >> 16) & 0xFFFF) << 48);
    g[1] = handler >> 32;
}

/* INJ-7 for one type: inject vector v of type t with length 2; return the pushed RIP. */
static uint64_t pushed_rip(unsigned type, uint8_t v)
{
    std_code();
    rf_vmcall_handler(v, false);
    rf_inject(INTR(type, v), 0, 2);
    rf_launch_exit("injected event", R_CALL);
    rf_saved_rip("the handler ran", H(v));
    return rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP));
}

Test(rules_injection, inj_7_software_interrupt_pushes_rip_plus_length)
{
    VTX_COVERS("INJ-7", "INJ-5", "INJ-8");
    /* INJ-7, INJ-5, INJ-8: type 4 (INT n): the frame holds RIP + VM-entry instruction length. */
    cr_assert_eq(pushed_rip(4, 0x40), G + 2, "INJ-7: type 4 pushes RIP + length");
    uint64_t rsp = vt_vmread(&e, VTX_VMCS_GUEST_RSP);
    cr_assert_eq(rsp, VT_GUEST_RSP - 40, "INJ-5: the frame is on the guest stack loaded at entry");
    cr_assert_eq(rf_mem64(rsp + 8), 0x08, "pushed CS");
    cr_assert_eq(rf_mem64(rsp + 16), 0x2, "INJ-8: pushed RFLAGS = the guest RFLAGS field");
}
Test(rules_injection, inj_7_privileged_software_exception_pushes_rip_plus_length)
{
    VTX_COVERS("INJ-7");
    cr_assert_eq(pushed_rip(5, 1), G + 2, "INJ-7: type 5 pushes RIP + length");
}
Test(rules_injection, inj_7_software_exception_pushes_rip_plus_length)
{
    VTX_COVERS("INJ-7");
    cr_assert_eq(pushed_rip(6, 3), G + 2, "INJ-7: type 6 pushes RIP + length");
}
Test(rules_injection, inj_7_flip_hardware_exception_pushes_rip)
{
    VTX_COVERS("INJ-7");
    cr_assert_eq(pushed_rip(3, 3), G, "INJ-7: type 3 pushes RIP, the length is ignored");
}

Test(rules_injection, inj_7_nested_exception_pushes_rip_regardless_of_type)
{
    VTX_COVERS("INJ-7", "INJ-15");
    /* INJ-7, INJ-15: the INT n gate is not present: #NP(0x40*8+2, EXT = 0 for type 4)
     * is delivered instead, with return RIP = guest RIP (not + length). */
    std_code();
    gate(0x40, H(0x40), 0, false);
    rf_vmcall_handler(11, false);
    rf_inject(INTR(4, 0x40), 0, 2);
    rf_launch_exit("INT 0x40 into a not-present gate", R_CALL);
    rf_saved_rip("#NP handler", H(11));
    uint64_t rsp = vt_vmread(&e, VTX_VMCS_GUEST_RSP);
    cr_assert_eq(rf_mem64(rsp), 0x40 * 8 + 2, "INJ-15: #NP error code, IDT bit set, EXT clear for type 4");
    cr_assert_eq(rf_mem64(rsp + 8), G, "INJ-7: the nested #NP pushes the guest RIP");
}

Test(rules_injection, inj_15_ext_bit_set_for_hardware_exception)
{
    VTX_COVERS("INJ-15");
    /* INJ-15 flip: the same not-present gate reached by a type-3 event (vector 3):
     * the #NP error code has EXT = 1. */
    std_code();
    gate(3, H(3), 0, false);
    rf_vmcall_handler(11, false);
    rf_inject(INTR(3, 3), 0, 0);
    rf_launch_exit("#BP (type 3) into a not-present gate", R_CALL);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), 3 * 8 + 2 + 1, "INJ-15: EXT set for type 3");
}

Test(rules_injection, inj_15_ext_bit_per_type_in_gp_error_code)
{
    VTX_COVERS("INJ-15", "INJ-18", "EXIT-6", "INJ-7");
    /* INJ-15, INJ-18: empty IDT, #GP intercepted: the exit's error code carries EXT per
     * type (0, 5: set; 6: clear), the IDT-vectoring information names the injected event,
     * and for types 4/5/6 the exit instruction length is the injected length (EXIT-6). */
    static const struct { unsigned type; uint8_t vec; uint32_t ext; uint32_t len; } cases[] = {
        {0, 0x30, 1, 0}, {5, 1, 1, 3}, {6, 3, 0, 1}, {4, 0x21, 0, 2}};
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (i)
            rf_rebuild_knobs(0, 0);
        std_code();
        vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
        rf_state(G, 0x202, 0, ACT_ACTIVE);
        rf_inject(INTR(cases[i].type, cases[i].vec), 0, cases[i].len ? cases[i].len : 1);
        rf_launch_exit("injected event into an empty IDT", R_EXC);
        rf_field("INJ-15", VTX_VMCS_EXIT_INTR_ERROR_CODE, "#GP error code", cases[i].vec * 8u + 2 + cases[i].ext);
        rf_field("INJ-18", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information",
                 INTR(cases[i].type, cases[i].vec));
        if (cases[i].type >= 4)
            rf_field("INJ-18", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", cases[i].len);
        rf_saved_rip("INJ-7: an exit during delivery saves the guest RIP", G);
    }
}

Test(rules_injection, inj_10_dpl_check_only_for_types_4_and_6)
{
    VTX_COVERS("INJ-10");
    /* INJ-10: a DPL-0 gate, guest at CPL 3: type 6 (#BP) fails the DPL check -> #GP
     * (3*8+2, EXT clear), intercepted here; type 3 for the same vector is delivered. */
    uint64_t *gdt = (uint64_t *)(e.ram + VT_GUEST_GDT);
    gdt[5] = 0x00CFF3000000FFFFull; /* 0x28: DPL-3 data */
    gdt[6] = 0x00AFFB000000FFFFull; /* 0x30: DPL-3 64-bit code */
    vt_vmwrite(&e, VTX_VMCS_GUEST_GDTR_LIMIT, 0x37);
    uint64_t *pt = (uint64_t *)(e.ram + VT_GUEST_CR3);
    pt[0] |= 4, pt[512] |= 4;
    for (int i = 0; i < 512; i++)
        pt[1024 + i] |= 4; /* user pages */
    rf_poke64(VT_GUEST_TSS + 4, 0x8000); /* RSP0 */
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_SELECTOR, 0x33);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_AR, 0xA0FB);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_SELECTOR, 0x2B);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_AR, 0xC0F3);
    std_code();
    rf_vmcall_handler(3, false);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_inject(INTR(6, 3), 0, 1);
    rf_launch_exit("INJ-10: type 6 through a DPL-0 gate at CPL 3", R_EXC);
    rf_field("INJ-10", VTX_VMCS_EXIT_INTR_ERROR_CODE, "#GP error code", 3 * 8 + 2);
    rf_field("INJ-10", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(6, 3));
    /* Flip: type 3 skips the DPL check. */
    rf_inject(INTR(3, 3), 0, 0);
    rf_resume_exit("INJ-10: type 3 through the same gate", R_CALL);
    rf_saved_rip("INJ-10: delivered", H(3));
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RSP), 0x8000 - 40, "the stack switched to RSP0");
}

Test(rules_injection, inj_9_error_code_pushed)
{
    VTX_COVERS("INJ-9");
    /* INJ-9: bit 11 = 1: the error code from 0x4018 is pushed under the RIP. */
    std_code();
    rf_vmcall_handler(13, false);
    rf_inject(INTR_EC(3, 13), 0x1234, 0);
    rf_launch_exit("injected #GP(0x1234)", R_CALL);
    uint64_t rsp = vt_vmread(&e, VTX_VMCS_GUEST_RSP);
    cr_assert_eq(rsp, VT_GUEST_RSP - 48, "six words pushed");
    cr_assert_eq(rf_mem64(rsp), 0x1234, "INJ-9: the error code");
    cr_assert_eq(rf_mem64(rsp + 8), G, "the RIP above it");
}

Test(rules_injection, inj_11_injected_exception_ignores_the_bitmap)
{
    VTX_COVERS("INJ-11");
    /* INJ-11: #UD in the exception bitmap, #UD injected: delivered, no exit 0. */
    std_code();
    rf_vmcall_handler(6, false);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    rf_inject(INTR(3, 6), 0, 0);
    rf_launch_exit("INJ-11: injected #UD with #UD intercepted", R_CALL);
    rf_saved_rip("INJ-11", H(6));
}

Test(rules_injection, inj_11_flip_guest_ud_exits)
{
    VTX_COVERS("INJ-11");
    /* Flip: the guest's own ud2 exits (exit 0, #UD, RIP at the ud2).   G+0 0f 0b ud2 */
    CODE(0x0f, 0x0b);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    rf_launch_exit("guest ud2 with #UD intercepted", R_EXC);
    rf_field("flip", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, 6));
    rf_saved_rip("flip", G);
}

Test(rules_injection, inj_11_injected_nmi_ignores_nmi_exiting)
{
    VTX_COVERS("INJ-11", "INJ-13");
    /* INJ-11: NMI exiting = 1 does not make the injected NMI exit. */
    std_code();
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_vmcall_handler(2, false);
    rf_inject(INTR(2, 2), 0, 0);
    rf_launch_exit("INJ-11: injected NMI with NMI exiting", R_CALL);
    rf_saved("INJ-13: NMI delivered, blocking by NMI (vNMI = 0)", H(2), IS_NMI, ACT_ACTIVE);
}

Test(rules_injection, inj_13_vectoring_entry_drops_sti_blocking)
{
    VTX_COVERS("INJ-13", "BLK-LOAD-1");
    /* INJ-13, BLK-LOAD-1: entry with blocking by STI and an injected #DB (trap gate, IF
     * stays 1): no STI blocking after the vectoring entry, the IW exit is at the handler. */
    std_code();
    static const uint8_t h[] = {0x90, 0xf4};
    rf_handler(1, h, sizeof h, true);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_state(G, 0x202, IS_STI, ACT_ACTIVE);
    rf_inject(INTR(3, 1), 0, 0);
    rf_launch_exit("INJ-13: STI blocking and an injected #DB", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    rf_saved("INJ-13", H(1), 0, ACT_ACTIVE);
}

Test(rules_injection, inj_13_flip_non_vectoring_entry_keeps_sti_blocking)
{
    VTX_COVERS("INJ-13", "BLK-LOAD-2");
    /* BLK-LOAD-2 flip: no injection: the STI blocking holds for the nop. */
    std_code();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_state(G, 0x202, IS_STI, ACT_ACTIVE);
    rf_launch_exit("STI blocking, no injection", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    rf_saved_rip("BLK-LOAD-2", G + 1);
}

Test(rules_injection, inj_14_pending_debug_discarded_for_hardware_exception)
{
    VTX_COVERS("INJ-14");
    /* INJ-14: BS pending and #DB intercepted; injecting #UD (type 3) discards it: the
     * #UD handler's VMCALL exits, pending debug exceptions saved as 0. */
    std_code();
    rf_vmcall_handler(6, false);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    vt_vmwrite(&e, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_BS);
    rf_inject(INTR(3, 6), 0, 0);
    rf_launch_exit("INJ-14: injected #UD with BS pending", R_CALL);
    rf_field("INJ-14", VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, "pending debug exceptions", 0);
}

Test(rules_injection, inj_14_flip_kept_for_software_interrupt_in_mov_ss)
{
    VTX_COVERS("INJ-14");
    /* INJ-14: type 4 with MOV-SS blocking indicated keeps the pending #DB: it is taken
     * after delivery, at the handler (exit 0, #DB). */
    std_code();
    rf_vmcall_handler(0x40, false);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_state(G, 0x2 | RFLAGS_TF, IS_MOVSS, ACT_ACTIVE);
    vt_vmwrite(&e, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_BS);
    rf_inject(INTR(4, 0x40), 0, 2);
    rf_launch_exit("INJ-14: INT 0x40 with MOV-SS blocking and BS pending", R_EXC);
    rf_field("INJ-14", VTX_VMCS_EXIT_INTR_INFO, "interruption information (#DB)", INTR(3, 1));
    rf_saved_rip("INJ-14: at the handler", H(0x40));
}

Test(rules_injection, inj_12_injected_db_leaves_dr7_and_debugctl)
{
    VTX_COVERS("INJ-12");
    /* INJ-12: injecting vector 1 (#DB) changes neither DR7 nor IA32_DEBUGCTL, unlike a
     * #DB the processor raises itself (which clears DR7.GD): loaded with "load debug
     * controls", saved with "save debug controls" at the handler's VMCALL exit. */
    const uint64_t dr7 = 0x2400 | 0x3, debugctl = 0x1; /* GD, bit 10, L0/G0; LBR */
    std_code();
    rf_vmcall_handler(1, false);
    rf_set(VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_DEBUG_CONTROLS);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_DEBUG_CONTROLS);
    vt_vmwrite(&e, VTX_VMCS_GUEST_DR7, dr7);
    vt_vmwrite(&e, VTX_VMCS_GUEST_IA32_DEBUGCTL, debugctl);
    rf_inject(INTR(3, 1), 0, 0);
    rf_launch_exit("INJ-12: injected #DB", R_CALL);
    rf_saved_rip("INJ-12: at the #DB handler", H(1));
    rf_field("INJ-12", VTX_VMCS_GUEST_DR7, "DR7", dr7);
    rf_field("INJ-12", VTX_VMCS_GUEST_IA32_DEBUGCTL, "IA32_DEBUGCTL", debugctl);
}

Test(rules_injection, inj_16_injected_df_whose_delivery_faults_is_a_triple_fault)
{
    VTX_COVERS("INJ-16", "EXIT-5");
    /* INJ-16, EXIT-5: injected #DF into an empty IDT: triple-fault exit 2, no IDT-vectoring. */
    std_code();
    rf_inject(INTR_EC(3, 8), 0, 0);
    rf_launch_exit("INJ-16: injected #DF, empty IDT", VTX_EXIT_REASON_TRIPLE_FAULT);
    rf_field("INJ-16", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", 0);
    rf_field("INJ-16", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 0);
}

Test(rules_injection, blk_load_1_vectoring_entry_keeps_no_shadow_to_save)
{
    VTX_COVERS("BLK-LOAD-1", "BLK-SAVE-1", "INJ-13");
    /* BLK-LOAD-1: after a vectoring entry there is no STI or MOV-SS blocking, whatever
     * bits 0 and 1 say; an exit while the injected event is delivered (here the
     * triple fault of a #DF into an empty IDT) saves them as 0 (BLK-SAVE-1). Flip: the
     * same bits on an entry that injects nothing are loaded, and the HLT exit of the
     * first instruction saves them. */
    static const uint32_t shadows[] = {IS_STI, IS_MOVSS};
    for (int i = 0; i < 2; i++) {
        if (i)
            rf_rebuild_knobs(0, 0);
        std_code();
        rf_state(G, 0x202, shadows[i], ACT_ACTIVE);
        rf_inject(INTR_EC(3, 8), 0, 0);
        rf_launch_exit(i ? "injected #DF with MOV-SS bit" : "injected #DF with STI bit", VTX_EXIT_REASON_TRIPLE_FAULT);
        rf_field("BLK-LOAD-1", VTX_VMCS_GUEST_INTERRUPTIBILITY, "saved interruptibility", 0);
        rf_rebuild_knobs(0, 0);
        CODE(0xf4);
        rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
        rf_state(G, 0x202, shadows[i], ACT_ACTIVE);
        rf_launch_exit("flip: no injection", VTX_EXIT_REASON_HLT);
        rf_field("flip", VTX_VMCS_GUEST_INTERRUPTIBILITY, "saved interruptibility", shadows[i]);
    }
}

Test(rules_injection, inj_13_vectoring_entry_into_hlt_ends_active)
{
    VTX_COVERS("INJ-13", "HLT-1");
    /* INJ-13, HLT-1: an entry that injects an event ends active even with activity
     * HLT in the field: an NMI injected into HLT with an empty IDT triple-faults
     * (#NP, then #DF), and the exit saves activity 0 (survivor load-activity). */
    std_code();
    memset(e.ram + VT_GUEST_IDT, 0, 16 * 256);
    rf_state(G, 0x202, 0, ACT_HLT);
    rf_inject(INTR(2, 2), 0, 0);
    rf_launch_exit("INJ-13: NMI into HLT, empty IDT", VTX_EXIT_REASON_TRIPLE_FAULT);
    rf_field("INJ-13", VTX_VMCS_GUEST_ACTIVITY_STATE, "saved activity state", ACT_ACTIVE);
}

Test(rules_injection, inj_16_flip_df_gate_present_delivers)
{
    VTX_COVERS("INJ-16");
    std_code();
    rf_vmcall_handler(8, false);
    rf_inject(INTR_EC(3, 8), 0, 0);
    rf_launch_exit("injected #DF with a #DF gate", R_CALL);
    rf_saved_rip("#DF handler", H(8));
}

Test(rules_injection, inj_16_injected_gp_into_empty_idt_triple_faults)
{
    VTX_COVERS("INJ-16");
    /* INJ-16: #GP -> #GP while delivering it -> #DF -> fault delivering #DF -> exit 2. */
    std_code();
    rf_inject(INTR_EC(3, 13), 0, 0);
    rf_launch_exit("INJ-16: injected #GP, empty IDT", VTX_EXIT_REASON_TRIPLE_FAULT);
}

Test(rules_injection, inj_18_gp_intercepted_reports_the_injected_event)
{
    VTX_COVERS("INJ-18");
    /* INJ-18 (the flip of the above): #GP intercepted: exit 0 for the nested #GP, with
     * IDT-vectoring information and error code of the injected #GP. */
    std_code();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_inject(INTR_EC(3, 13), 0x10, 0);
    rf_launch_exit("INJ-18: injected #GP, #GP intercepted", R_EXC);
    rf_field("INJ-18", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
    rf_field("INJ-18", VTX_VMCS_EXIT_INTR_ERROR_CODE, "error code (vector 13, IDT, EXT)", 13 * 8 + 3);
    rf_field("INJ-18", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR_EC(3, 13));
    rf_field("INJ-18", VTX_VMCS_IDT_VECTORING_ERROR_CODE, "IDT-vectoring error code", 0x10);
    rf_saved("INJ-18", G, 0, ACT_ACTIVE);
}

Test(rules_injection, inj_16_df_intercepted_exits_directly)
{
    VTX_COVERS("INJ-16", "INJ-11", "EXIT-5");
    /* INJ-11, INJ-16, EXIT-5: #DF intercepted: the #DF made from the nested #GP exits
     * (exit 0, vector 8, error code 0) and, as a #DF that exits directly, reports no
     * IDT-vectoring information. */
    std_code();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 8);
    rf_inject(INTR_EC(3, 13), 0, 0);
    rf_launch_exit("INJ-16: injected #GP, #DF intercepted", R_EXC);
    rf_field("INJ-16", VTX_VMCS_EXIT_INTR_INFO, "interruption information (#DF)", INTR_EC(3, 8));
    rf_field("INJ-16", VTX_VMCS_EXIT_INTR_ERROR_CODE, "#DF error code", 0);
    rf_field("EXIT-5", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", 0);
}

Test(rules_injection, inj_17_pending_mtf_without_valid_bit_is_ignored)
{
    VTX_COVERS("INJ-17");
    /* INJ-17 flip: type 7 vector 0 without the valid bit: nothing pending; the guest
     * runs into its CPUID.   G+0 0f a2 cpuid */
    CODE(0x0f, 0xa2);
    rf_inject(0x00000700, 0, 0);
    rf_launch_exit("type 7 without valid", VTX_EXIT_REASON_CPUID);
    rf_inject(0x80000700, 0, 0);
    rf_resume_exit("INJ-17: type 7 vector 0, valid", VTX_EXIT_REASON_MONITOR_TRAP_FLAG);
    rf_saved_rip("INJ-17: before the first instruction", G);
}

Test(rules_injection, inj_2_interruption_types_return_points)
{
    VTX_COVERS("INJ-2");
    /* INJ-2: an external interrupt (type 0, which needs RFLAGS.IF = 1) and an NMI
     * (type 2, vector 2) return to the guest RIP like a hardware exception (type 3);
     * the software types 4/5/6 return after the instruction (the tests above). */
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x2 | RFLAGS_IF);
    cr_assert_eq(pushed_rip(0, 0x40), G, "type 0 (external interrupt) pushes RIP, the length is ignored");
}

Test(rules_injection, inj_2_nmi_type_pushes_rip_and_blocks_nmis)
{
    VTX_COVERS("INJ-2", "INJ-13");
    /* INJ-2, INJ-13: type 2 is the NMI; it pushes RIP and (virtual NMIs = 0) leaves
     * blocking by NMI in effect in its handler, saved as bit 3 at the next exit. */
    cr_assert_eq(pushed_rip(2, 2), G, "type 2 (NMI) pushes RIP");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 0x8, 0x8, "blocking by NMI in the handler");
}
