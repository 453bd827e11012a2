/*
 * Catalogue sections G (PRI-*), H (EXIT-*), I (HLT-*), J (PT-*) and K (MTF-*) on an
 * executing guest: instruction exits with their qualification and length,
 * exception exits, priorities at a boundary, HLT, the preemption timer and MTF.
 * Guest code at G = 0x10000, handlers at H(v) = 0x12000 + 0x10 * v, RSP 0x9000.
 *
 * EXIT-8 (saved RFLAGS.RF) is in test_rules_tables.c. Not covered: PT-4 in SMM and
 * below C2 (not modelled), MTF-4 for REP strings/XBEGIN (string I/O and RTM are
 * not modelled), PRI-2 item SMI (not modelled). PRI-2 item 1 (TPR below threshold)
 * is in test_apic_virt.c.
 */
#include "rules_fixture.h"

#define R_EXC VTX_EXIT_REASON_EXCEPTION_NMI
#define R_MTF VTX_EXIT_REASON_MONITOR_TRAP_FLAG
#define R_PT VTX_EXIT_REASON_PREEMPTION_TIMER

TestSuite(rules_exits, .init = rf_setup, .fini = rf_teardown);

static void instr_exit(const char *step, uint32_t reason, uint64_t rip, uint32_t len, uint64_t qual)
{
    rf_launch_exit(step, reason);
    rf_saved_rip(step, rip);
    rf_field(step, VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length (EXIT-6)", len);
    rf_field(step, VTX_VMCS_EXIT_QUALIFICATION, "exit qualification (EXIT-3)", qual);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) >> 31, 0, "%s: interruption information invalid", step);
}

/* ---- H. instruction exits ---- */

Test(rules_exits, exit_3_cpuid_vmcall)
{
    VTX_COVERS("EXIT-3", "EXIT-1", "EXIT-6", "EXIT-7");
    /* EXIT-1, EXIT-3, EXIT-6, EXIT-7: unconditional exits, RIP at the instruction.
     *   G+0 90 nop ; G+1 0f a2 cpuid ; G+3 0f 01 c1 vmcall */
    CODE(0x90, 0x0f, 0xa2, 0x0f, 0x01, 0xc1);
    instr_exit("CPUID", VTX_EXIT_REASON_CPUID, G + 1, 2, 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_REASON) >> 31, 0, "EXIT-1: bit 31 clear for a VM exit");
    rf_skip(2);
    vtx_insn_result r = rf_resume_exit("VMCALL", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("VMCALL", G + 3);
    rf_field("VMCALL", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 3);
    cr_assert_eq(r.exit_reason, 18);
}

Test(rules_exits, exit_3_hlt_exiting)
{
    VTX_COVERS("EXIT-3", "EXIT-7", "HLT-1");
    /* EXIT-3, EXIT-7, HLT-1: with HLT exiting the exit is before HLT: RIP at it, active. */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    instr_exit("HLT exiting", VTX_EXIT_REASON_HLT, G + 1, 1, 0);
    rf_saved("HLT exiting", G + 1, 0, ACT_ACTIVE);
}

Test(rules_exits, exit_3_rdtsc_exiting_and_flip)
{
    VTX_COVERS("EXIT-3");
    /* EXIT-3/6: RDTSC exiting -> exit 16, length 2; without it RDTSC runs (then CPUID exits).
     *   G+0 0f 31 rdtsc ; G+2 0f a2 cpuid */
    CODE(0x0f, 0x31, 0x0f, 0xa2);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_RDTSC_EXITING);
    instr_exit("RDTSC exiting", VTX_EXIT_REASON_RDTSC, G, 2, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_RDTSC_EXITING);
    rf_resume_exit("RDTSC without exiting", VTX_EXIT_REASON_CPUID);
    rf_saved_rip("RDTSC ran", G + 2);
}

Test(rules_exits, exit_3_io_qualification)
{
    VTX_COVERS("EXIT-3");
    /* EXIT-3: I/O exit qualification: size-1, direction, immediate operand, port.
     *   G+0 e6 80 out 0x80, al ; G+2 ec in al, dx ; G+3 66 ed in ax, dx */
    CODE(0xe6, 0x80, 0xec, 0x66, 0xed);
    rf_gprs_rax(0, 0, 0x3f8);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    instr_exit("out 0x80, al", VTX_EXIT_REASON_IO_INSTRUCTION, G, 2, (0x80ull << 16) | (1u << 6));
    rf_skip(2);
    vtx_insn_result r = rf_resume_exit("in al, dx", VTX_EXIT_REASON_IO_INSTRUCTION);
    (void)r;
    rf_field("in al, dx", VTX_VMCS_EXIT_QUALIFICATION, "qualification", (0x3f8ull << 16) | (1u << 3));
    rf_field("in al, dx", VTX_VMCS_EXIT_INSTRUCTION_LEN, "length", 1);
    rf_skip(1);
    rf_resume_exit("in ax, dx", VTX_EXIT_REASON_IO_INSTRUCTION);
    rf_field("in ax, dx", VTX_VMCS_EXIT_QUALIFICATION, "qualification", (0x3f8ull << 16) | (1u << 3) | 1);
    rf_field("in ax, dx", VTX_VMCS_EXIT_INSTRUCTION_LEN, "length", 2);
}

Test(rules_exits, exit_3_cr_access_qualification)
{
    VTX_COVERS("EXIT-3");
    /* EXIT-3: CR3-load exiting: mov cr3, rbx -> qualification 3 | reg 3 << 8, length 3;
     * CR3-store: mov rdx, cr3 -> 3 | 1 << 4 | 2 << 8. Flip: without the controls both run.
     *   G+0 0f 22 db mov cr3, rbx ; G+3 0f 20 da mov rdx, cr3 ; G+6 0f a2 cpuid */
    CODE(0x0f, 0x22, 0xdb, 0x0f, 0x20, 0xda, 0x0f, 0xa2);
    vtx_gprs g;
    vtx_machine_get_gprs(e.m, &g);
    g.rbx = VT_GUEST_CR3;
    vtx_machine_set_gprs(e.m, &g);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_LOAD_EXITING | VTX_PROC_CR3_STORE_EXITING);
    instr_exit("mov cr3, rbx", VTX_EXIT_REASON_CR_ACCESS, G, 3, 3 | (3u << 8));
    rf_skip(3);
    rf_resume_exit("mov rdx, cr3", VTX_EXIT_REASON_CR_ACCESS);
    rf_field("mov rdx, cr3", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 3 | (1u << 4) | (2u << 8));
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_LOAD_EXITING | VTX_PROC_CR3_STORE_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    rf_resume_exit("flip: no CR3 exiting", VTX_EXIT_REASON_CPUID);
    rf_saved_rip("both MOVs ran", G + 6);
}

Test(rules_exits, exit_3_mov_dr_qualification)
{
    VTX_COVERS("EXIT-3", "EXIT-6");
    /* EXIT-3: MOV-DR exiting: the qualification holds the debug register (2:0), the
     * direction (bit 4: 1 = MOV from DR) and the general register (11:8, REX.B included).
     *   G+0 0f 23 d3 mov dr2, rbx ; G+3 0f 21 f6 mov rsi, dr6 ; G+6 41 0f 23 f8 mov dr7, r8
     *   G+10 0f 21 c9 mov rcx, dr1 ; G+13 0f a2 cpuid
     * Flip: without the control the MOVs run and CPUID is the first exit. */
    CODE(0x0f, 0x23, 0xd3, 0x0f, 0x21, 0xf6, 0x41, 0x0f, 0x23, 0xf8, 0x0f, 0x21, 0xc9, 0x0f, 0xa2);
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    g.r8 = 0x400;
    cr_assert_eq(vtx_machine_set_gprs(e.m, &g), VTX_OK);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MOV_DR_EXITING);
    instr_exit("mov dr2, rbx", VTX_EXIT_REASON_DR_ACCESS, G, 3, 2 | (3u << 8));
    rf_skip(3);
    rf_resume_exit("mov rsi, dr6", VTX_EXIT_REASON_DR_ACCESS);
    rf_saved_rip("mov rsi, dr6", G + 3);
    rf_field("mov rsi, dr6", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 6 | (1u << 4) | (6u << 8));
    rf_field("mov rsi, dr6", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 3);
    rf_skip(3);
    rf_resume_exit("mov dr7, r8", VTX_EXIT_REASON_DR_ACCESS);
    rf_saved_rip("mov dr7, r8", G + 6);
    rf_field("mov dr7, r8", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 7 | (8u << 8));
    rf_field("mov dr7, r8", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 4);
    rf_skip(4);
    rf_resume_exit("mov rcx, dr1", VTX_EXIT_REASON_DR_ACCESS);
    rf_field("mov rcx, dr1", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 1 | (1u << 4) | (1u << 8));
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MOV_DR_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    rf_resume_exit("flip: no MOV-DR exiting", VTX_EXIT_REASON_CPUID);
    rf_saved_rip("the four MOVs ran", G + 13);
}

/* ---- H. exception exits ---- */

Test(rules_exits, exit_4_exceptions_with_and_without_the_bitmap)
{
    VTX_COVERS("EXIT-4", "EXIT-7");
    /* EXIT-4, EXIT-7, kut 6.15: #UD in the bitmap -> exit 0 type 3 at the ud2; not in
     * the bitmap -> the guest handler runs.   G+0 0f 0b ud2 */
    CODE(0x0f, 0x0b);
    rf_vmcall_handler(6, false);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    rf_launch_exit("#UD intercepted", R_EXC);
    rf_field("#UD", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, 6));
    rf_saved_rip("#UD: fault, RIP at the instruction", G);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 0);
    rf_resume_exit("#UD not intercepted", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("#UD handler", H(6));
}

Test(rules_exits, exit_4_gp_error_code)
{
    VTX_COVERS("EXIT-4");
    /* EXIT-4: #GP with an error code: bit 11 set, error code = the selector.
     *   G+0 8e d8 mov ds, ax (ax = 0x28, beyond the GDT limit) */
    CODE(0x8e, 0xd8);
    rf_gprs_rax(0x28, 0, 0);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("#GP intercepted", R_EXC);
    rf_field("#GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
    rf_field("#GP", VTX_VMCS_EXIT_INTR_ERROR_CODE, "error code", 0x28);
    rf_saved_rip("#GP", G);
}

Test(rules_exits, exit_4_int3_is_type_6_at_the_int3)
{
    VTX_COVERS("EXIT-4", "EXIT-6", "EXIT-7");
    /* EXIT-4, EXIT-6, EXIT-7: INT3 -> exit 0 type 6 vector 3, RIP at the INT3, length 1.
     * Flip: not intercepted -> delivered with the return RIP after it.   G+0 cc int3 */
    CODE(0xcc, 0xf4);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 3);
    rf_launch_exit("INT3 intercepted", R_EXC);
    rf_field("INT3", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(6, 3));
    rf_field("INT3", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 1);
    rf_saved_rip("INT3", G);
    rf_vmcall_handler(3, false);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 0);
    rf_resume_exit("INT3 not intercepted", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G + 1, "#BP frame returns after the INT3");
}

Test(rules_exits, exit_4_icebp_is_type_5)
{
    VTX_COVERS("EXIT-4", "EXIT-6");
    /* EXIT-4, EXIT-6: ICEBP (INT1) -> exit 0, #DB type 5, RIP at the ICEBP, length 1.   G+0 f1 icebp */
    CODE(0xf1, 0xf4);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_launch_exit("ICEBP intercepted", R_EXC);
    rf_field("ICEBP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(5, 1));
    rf_field("ICEBP", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 1);
    rf_saved_rip("ICEBP", G);
}

Test(rules_exits, exit_6_int_n_delivery_exit_length)
{
    VTX_COVERS("EXIT-6", "EXIT-5");
    /* EXIT-5, EXIT-6: int 0x40 into an empty IDT with #GP intercepted: IDT-vectoring type 4
     * vector 0x40, instruction length 2, error code 0x40*8+2 (EXT clear).   G+0 cd 40 int 0x40 */
    CODE(0xcd, 0x40, 0xf4);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("int 0x40, empty IDT", R_EXC);
    rf_field("int 0x40", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(4, 0x40));
    rf_field("int 0x40", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 2);
    rf_field("int 0x40", VTX_VMCS_EXIT_INTR_ERROR_CODE, "error code", 0x202);
    rf_saved_rip("int 0x40", G);
}

Test(rules_exits, exit_10_exit_clears_injection_valid_bit)
{
    VTX_COVERS("EXIT-10", "INJ-4");
    /* EXIT-10, INJ-4: the exit clears the valid bit; MISC[5] = 1 stores LMA (= 1) into
     * "IA-32e mode guest". */
    CODE(0x90, 0xf4);
    rf_vmcall_handler(6, false);
    rf_inject(INTR(3, 6), 0, 0);
    rf_launch_exit("injected #UD", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_ENTRY_INTR_INFO) >> 31, 0, "EXIT-10: valid bit cleared");
    cr_assert(vt_vmread(&e, VTX_VMCS_ENTRY_CONTROLS) & VTX_ENTRY_IA32E_MODE_GUEST, "EXIT-10: LMA stored");
}

/* ---- G. priority ---- */

Test(rules_exits, pri_2_nmi_beats_interrupt_window)
{
    VTX_COVERS("PRI-2", "IW-3");
    /* PRI-2, IW-3: a pending NMI (NMI exiting) beats an open interrupt window. */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("PRI-2: NMI and IW", R_EXC);
    if (rf_observed())
        cr_assert_eq(rec.first.events[VTX_EV_INTR_WINDOW].state, VTX_EVS_BEATEN);
}

Test(rules_exits, pri_3_blocked_nmi_lets_the_window_win)
{
    VTX_COVERS("PRI-3");
    /* PRI-3 flip: the same NMI blocked by NMI blocking (vNMI = 0): the IW exit wins. */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_state(G, 0x202, IS_NMI, ACT_ACTIVE);
    vtx_machine_raise_nmi(e.m);
    rf_launch_exit("PRI-3: NMI blocked, IW open", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    if (rf_observed())
        cr_assert_eq(rec.first.events[VTX_EV_NMI].state, VTX_EVS_BLOCKED);
}

Test(rules_exits, pri_3_timer_wins_when_nw_is_held_by_mov_ss)
{
    VTX_COVERS("PRI-3");
    /* PRI-3: NW suppressed by MOV SS, timer expired: timer exit. */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS | VTX_PIN_PREEMPTION_TIMER);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    rf_state(G, 0x2, IS_MOVSS, ACT_ACTIVE);
    rf_launch_exit("PRI-3: timer 0, NW held", R_PT);
    rf_saved("PRI-3", G, IS_MOVSS, ACT_ACTIVE);
}

Test(rules_exits, pri_5_pending_db_delivered_before_timer_exit)
{
    VTX_COVERS("PRI-5", "PT-3");
    /* PRI-5, PT-3, kut 6.10 zero test stage 2: BS pending, #DB not intercepted, timer 0:
     * the #DB is delivered first, the timer exit is at the #DB handler. Flip: #DB
     * intercepted -> exit 0 (test_post_entry.c pending_db_beats_timer). */
    CODE(0x90, 0xf4);
    static const uint8_t h[] = {0x90, 0xf4};
    rf_handler(1, h, sizeof h, true);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    vt_vmwrite(&e, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_BS);
    rf_launch_exit("PRI-5: pending #DB and timer 0", R_PT);
    rf_saved_rip("PRI-5: at the #DB handler", H(1));
}

Test(rules_exits, pri_5_pending_mtf_beats_pending_db)
{
    VTX_COVERS("PRI-5", "MTF-6", "MTF-8");
    /* PRI-5, MTF-6, MTF-8: pending MTF (type 7) beats the pending #DB, which stays in the
     * saved pending-debug-exceptions field. */
    CODE(0x90, 0xf4);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    vt_vmwrite(&e, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_BS);
    rf_inject(0x80000700, 0, 0);
    rf_launch_exit("PRI-5: MTF and pending #DB", R_MTF);
    rf_field("MTF-8", VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, "pending debug exceptions", PENDING_BS);
    rf_field("MTF-8", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 0);
    rf_resume_exit("PRI-5: then the #DB", R_EXC);
    rf_field("PRI-5", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, 1));
}

/* ---- I. HLT ---- */

Test(rules_exits, hlt_1_guest_hlt_enters_hlt_then_nmi_exit)
{
    VTX_COVERS("HLT-1", "HLT-3");
    /* HLT-1, HLT-3: guest HLT (no HLT exiting) halts; an NMI exit from HLT saves activity 1
     * and RIP after HLT.   G+0 90 nop ; G+1 f4 hlt ; G+2 90 nop */
    CODE(0x90, 0xf4, 0x90);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    rf_launch_stopped("HLT-1: guest hlt");
    vtx_machine_raise_nmi(e.m);
    rf_continue_exit("HLT-3: NMI exit from HLT", R_EXC);
    rf_saved("HLT-3", G + 2, 0, ACT_HLT);
}

Test(rules_exits, hlt_2_interrupt_wakes_hlt_only_with_if1)
{
    VTX_COVERS("HLT-2", "HLT-4");
    /* HLT-2, HLT-4: IF = 1: an interrupt wakes the guest, frame RIP after HLT.
     * Flip: IF = 0: the guest stays halted.   G+0 f4 hlt ; G+1 90 nop */
    CODE(0xf4, 0x90);
    rf_vmcall_handler(0x30, false);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_launch_stopped("HLT-2: IF=0; hlt");
    vtx_machine_set_intr(e.m, true, 0x30);
    rf_continue_stopped("HLT-2: IF=0 keeps the interrupt out");
    rf_rebuild_knobs(0, 0);
    CODE(0xf4, 0x90);
    rf_vmcall_handler(0x30, false);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_launch_stopped("HLT-2: IF=1; hlt");
    vtx_machine_set_intr(e.m, true, 0x30);
    rf_continue_exit("HLT-2: interrupt wakes HLT", VTX_EXIT_REASON_VMCALL);
    rf_saved("HLT-4: in the ISR", H(0x30), 0, ACT_ACTIVE);
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G + 1, "HLT-4: return RIP after HLT");
}

Test(rules_exits, hlt_3_indirect_exit_from_hlt_saves_active)
{
    VTX_COVERS("HLT-3");
    /* HLT-3: an NMI (NMI exiting = 0) wakes HLT but its delivery faults (#GP intercepted):
     * the processor became active before the exit: saved activity 0. */
    CODE(0xf4, 0x90);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_stopped("guest hlt");
    vtx_machine_raise_nmi(e.m);
    rf_continue_exit("HLT-3: NMI delivery from HLT faults", R_EXC);
    rf_field("HLT-3", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(2, 2));
    rf_saved("HLT-3: indirect exit", G + 1, IS_NMI, ACT_ACTIVE);
}

Test(rules_exits, hlt_6_mtf_after_hlt_exits_from_hlt_state)
{
    VTX_COVERS("HLT-6", "MTF-4", "MTF-7");
    /* HLT-6, MTF-4, MTF-7: MTF = 1: the HLT is followed by an MTF exit from the HLT state. */
    CODE(0xf4, 0x90);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_TRAP_FLAG);
    rf_launch_exit("HLT-6: MTF after hlt", R_MTF);
    rf_saved("HLT-6", G + 1, 0, ACT_HLT);
}

Test(rules_exits, hlt_7_vmm_must_clear_sti_blocking_before_hlt_entry)
{
    VTX_COVERS("HLT-7", "BLK-STI-8");
    /* HLT-7, BLK-STI-8: sti; hlt with HLT exiting saves bit 0 = 1; re-entering with
     * activity HLT and bit 0 still set fails (exit 33); clearing it passes.
     *   G+0 fb sti ; G+1 f4 hlt ; G+2 90 nop */
    CODE(0xfb, 0xf4, 0x90);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_launch_exit("sti; hlt", VTX_EXIT_REASON_HLT);
    rf_skip(1);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_HLT);
    vtx_insn_result r;
    vtx_status st = vtx_vmresume(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT &&
                  r.exit_reason == (VTX_EXIT_REASON_INVALID_GUEST_STATE | VTX_EXIT_REASON_ENTRY_FAILURE),
              "HLT-7: HLT with STI blocking must fail the entry (exit 33)");
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, 0);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_resume_exit("HLT-7: bit 0 cleared", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    rf_saved("HLT-7", G + 2, 0, ACT_HLT);
}

Test(rules_exits, hlt_8_shutdown_blocks_iw_but_not_nmi_or_timer)
{
    VTX_COVERS("HLT-8", "PT-4");
    /* HLT-8: in shutdown no IW exit and no external interrupt (the guest stays put); an
     * NMI exit leaves it (activity 2 saved); so does the timer (PT-4). */
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_EXT_INTR_EXITING);
    rf_state(G, 0x202, 0, ACT_SHUTDOWN);
    vtx_machine_set_intr(e.m, true, 0x30);
    rf_launch_stopped("HLT-8: shutdown with IW and an external interrupt");
    vtx_machine_raise_nmi(e.m);
    rf_continue_exit("HLT-8: NMI in shutdown", R_EXC);
    rf_saved("HLT-8", G, 0, ACT_SHUTDOWN);
    rf_rebuild_knobs(0, 0);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 10);
    rf_state(G, 0x2, 0, ACT_SHUTDOWN);
    rf_launch_exit("PT-4: timer in shutdown", R_PT);
    rf_saved("PT-4", G, 0, ACT_SHUTDOWN);
}

Test(rules_exits, hlt_8_flip_hlt_takes_the_window)
{
    VTX_COVERS("HLT-8", "IW-5");
    /* Flip: the same in HLT: the IW exit wakes it (IW-5). */
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_state(G, 0x202, 0, ACT_HLT);
    rf_launch_exit("HLT: IW", VTX_EXIT_REASON_INTERRUPT_WINDOW);
}

Test(rules_exits, hlt_8_wait_for_sipi_blocks_nmi_and_timer)
{
    VTX_COVERS("HLT-8", "PT-4");
    /* HLT-8, PT-4: wait-for-SIPI blocks NMIs, INIT and timer exits. */
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    rf_state(G, 0x2, 0, ACT_SIPI);
    vtx_machine_raise_nmi(e.m);
    rf_launch_stopped("HLT-8: wait-for-SIPI with NMI and timer 0");
}

/* ---- J. preemption timer ---- */

static uint64_t timer_loop_cycles(uint32_t value, bool save)
{
    /*   G+0 eb fe jmp $ */
    CODE(0xeb, 0xfe);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    if (save)
        rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, value);
    uint64_t before = vtx_machine_cycles(e.m);
    rf_launch_exit("timer while the guest loops", R_PT);
    rf_saved("PT-4: the loop", G, 0, ACT_ACTIVE);
    return vtx_machine_cycles(e.m) - before;
}

Test(rules_exits, pt_2_timer_counts_while_the_guest_runs)
{
    VTX_COVERS("PT-2", "PT-1", "PT-4", "PT-5");
    /* PT-1, PT-2, PT-4, kut 6.10 (2): the exit comes no earlier than value << rate cycles
     * of guest execution (the deterministic clock: 1 cycle per instruction), no later
     * than the deadline plus one instruction. */
    const uint32_t value = 300;
    unsigned x = rf_timer_rate();
    uint64_t elapsed = timer_loop_cycles(value, true);
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &e.profile);
    uint64_t overhead = cfg.costs.vm_entry + cfg.costs.vm_exit;
    cr_assert_geq(elapsed, overhead + ((uint64_t)value << x) - ((1u << x) - 1),
                  "PT-2: expired after %llu cycles, earlier than %u << %u", (unsigned long long)elapsed, value, x);
    cr_assert_leq(elapsed, overhead + ((uint64_t)value << x) + cfg.costs.by_class[VTX_IC_OTHER],
                  "PT-2: expired after %llu cycles, later than the deadline", (unsigned long long)elapsed);
    cr_assert_geq(vtx_machine_instructions(e.m), ((uint64_t)value << x) - (1u << x) - overhead,
                  "the guest really ran its loop");
    rf_field("PT-5", VTX_VMCS_PREEMPTION_TIMER_VALUE, "saved timer value of a timer exit", 0);
}

Test(rules_exits, pt_2_flip_smaller_value_exits_sooner)
{
    VTX_COVERS("PT-2", "PT-5");
    uint64_t small = timer_loop_cycles(30, false);
    rf_rebuild_knobs(0, 0);
    uint64_t big = timer_loop_cycles(300, false);
    cr_assert_lt(small, big, "PT-2: 30 ticks expire before 300 ticks");
    rf_field("PT-5: no save control", VTX_VMCS_PREEMPTION_TIMER_VALUE, "timer field left alone", 300);
}

Test(rules_exits, pt_5_save_control_stores_the_remaining_value)
{
    VTX_COVERS("PT-5");
    /* PT-5: another exit first (VMCALL after some nops): with the save control the field
     * holds a value below the start, above 0; the resume restarts from it.
     *   G+0 90 x 100 ; G+100 0f 01 c1 vmcall */
    uint8_t code[103];
    memset(code, 0x90, 100);
    memcpy(code + 100, VMCALL, 3);
    rf_code(code, sizeof code);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 100);
    rf_launch_exit("PT-5: VMCALL before the timer", VTX_EXIT_REASON_VMCALL);
    uint64_t left = vt_vmread(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE);
    cr_assert(left > 0 && left < 100, "PT-5: saved value %llu should be between 0 and 100", (unsigned long long)left);
    /* Flip: without the save control the field keeps 100. */
    rf_clr(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 100);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    rf_resume_exit("PT-5: without the save control", VTX_EXIT_REASON_VMCALL);
    rf_field("PT-5", VTX_VMCS_PREEMPTION_TIMER_VALUE, "timer field", 100);
}

/* The exact clock (vtx_cycle_costs): a VMCALL exit after three NOPs first, so the
 * timer's entry does not start on a multiple of 2^X cycles; then the timer
 * counts down while the guest runs "jmp $" (class OTHER). Returns the cycle at
 * which the guest starts, after the entry's cost. */
static uint64_t timer_after_vmcall(uint32_t value, bool save, uint64_t *before)
{
    /*   G+0 90 90 90 ; G+3 0f 01 c1 vmcall ; G+6 eb fe jmp $ */
    CODE(0x90, 0x90, 0x90, 0x0f, 0x01, 0xc1, 0xeb, 0xfe);
    rf_launch_exit("VMCALL before the timer", VTX_EXIT_REASON_VMCALL);
    rf_skip(3);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    if (save)
        rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, value);
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &e.profile);
    *before = vtx_machine_cycles(e.m);
    uint64_t start = *before + cfg.costs.vm_entry;
    unsigned x = rf_timer_rate();
    cr_assert_neq(start & ((1ull << x) - 1), 0,
                  "the test needs an entry that is not on a multiple of 2^%u cycles (starts at %llu)", x,
                  (unsigned long long)start);
    return start;
}

Test(rules_exits, pt_2_exact_countdown_on_the_cycle_clock)
{
    VTX_COVERS("PT-1", "PT-2", "PT-4", "PT-5");
    /* PT-2: the timer counts down by 1 each time bit X = IA32_VMX_MISC[4:0] of the
     * clock changes, from the value loaded at entry, so V ticks after an entry at
     * cycle t end at cycle ((t >> X) + V) << X. The guest's "jmp $" costs one cycle
     * an instruction: the exit comes at the first boundary at or after that cycle,
     * exactly; the field holds 0 after a timer exit (PT-5). */
    const uint32_t value = 9;
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &e.profile);
    uint64_t before;
    uint64_t start = timer_after_vmcall(value, true, &before);
    unsigned x = rf_timer_rate();
    uint64_t k = cfg.costs.by_class[VTX_IC_OTHER];
    uint64_t deadline = ((start >> x) + value) << x;
    uint64_t n = (deadline - start + k - 1) / k; /* instructions retired before the exit */
    uint64_t insns = vtx_machine_instructions(e.m);
    rf_resume_exit("PT-4: timer while the guest loops", R_PT);
    rf_saved("PT-4: the loop", G + 6, 0, ACT_ACTIVE);
    uint64_t got = vtx_machine_cycles(e.m) - before;
    cr_assert_eq(got, cfg.costs.vm_entry + n * k + cfg.costs.vm_exit,
                 "PT-2: %u ticks of 2^%u cycles from cycle %llu end at cycle %llu: expected %llu cycles from "
                 "VMRESUME to the end of the exit, got %llu",
                 value, x, (unsigned long long)start, (unsigned long long)deadline,
                 (unsigned long long)(cfg.costs.vm_entry + n * k + cfg.costs.vm_exit), (unsigned long long)got);
    cr_assert_eq(vtx_machine_instructions(e.m) - insns, n, "PT-2: %llu instructions ran before the exit",
                 (unsigned long long)n);
    rf_field("PT-5", VTX_VMCS_PREEMPTION_TIMER_VALUE, "saved timer value of a timer exit", 0);
}

Test(rules_exits, pt_5_saved_value_is_exact)
{
    VTX_COVERS("PT-2", "PT-3", "PT-5");
    /* PT-5: another exit before the timer's: the saved value is what is left of the
     * countdown at that exit, (deadline >> X) - (now >> X), on the exact clock. The
     * guest runs n NOPs then VMCALL (whose exit comes before it retires), for every n
     * up to 2^X + 1, so the exit falls on each phase of the 2^X-cycle tick once.
     * PT-3: each entry starts from the field: once the value is the saved one. */
    enum { NOPS = 70 };
    uint8_t code[NOPS + 3];
    memset(code, 0x90, NOPS);
    memcpy(code + NOPS, VMCALL, 3);
    rf_code(code, sizeof code);
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &e.profile);
    unsigned x = rf_timer_rate();
    unsigned last = x < 6 ? (1u << x) + 1 : NOPS;
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G + NOPS);
    rf_launch_exit("VMCALL", VTX_EXIT_REASON_VMCALL);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_PREEMPTION_TIMER);
    uint64_t value = 1000;
    for (unsigned n = 0; n <= last; n++) {
        char step[64];
        snprintf(step, sizeof step, "PT-5: VMCALL after %u NOPs", n);
        if (n != 1)
            value = 1000; /* else the value the last exit saved (PT-3) */
        vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, value);
        vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G + NOPS - n);
        uint64_t start = vtx_machine_cycles(e.m) + cfg.costs.vm_entry;
        uint64_t at_exit = start + n * cfg.costs.by_class[VTX_IC_OTHER];
        uint64_t want = ((start >> x) + value) - (at_exit >> x);
        rf_resume_exit(step, VTX_EXIT_REASON_VMCALL);
        rf_saved_rip(step, G + NOPS);
        rf_field(step, VTX_VMCS_PREEMPTION_TIMER_VALUE, "saved timer value (what is left of the countdown)", want);
        value = want;
    }
}

Test(rules_exits, pt_3_timer_zero_after_injection_lands_at_handler)
{
    VTX_COVERS("PT-3", "PRI-4", "INJ-11");
    /* PT-3, PRI-4, kut 6.10 zero test: injected #DB (even with #DB intercepted, INJ-11)
     * then the timer-0 exit at the #DB handler. */
    CODE(0x90, 0xf4);
    rf_vmcall_handler(1, false);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    rf_inject(INTR(3, 1), 0, 0);
    rf_launch_exit("PT-3: timer 0 with an injected #DB", R_PT);
    rf_saved_rip("PT-3: at the #DB handler", H(1));
}

Test(rules_exits, pt_6_timer_not_held_by_sti_blocking)
{
    VTX_COVERS("PT-6");
    /* PT-6, CFG-PT-SHADOW off (default): STI blocking does not hold the timer exit.
     * Flip with the knob on (profile copy): the exit waits one instruction. */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    rf_state(G, 0x202, IS_STI, ACT_ACTIVE);
    rf_launch_exit("PT-6: timer 0 in an STI shadow", R_PT);
    rf_saved("PT-6", G, IS_STI, ACT_ACTIVE);
    rf_rebuild_knobs(0, VTX_KNOB_PT_SHADOW);
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    rf_state(G, 0x202, IS_STI, ACT_ACTIVE);
    rf_launch_exit("PT-6: CFG-PT-SHADOW on", R_PT);
    rf_saved("PT-6: CFG-PT-SHADOW on", G + 1, 0, ACT_ACTIVE);
}

Test(rules_exits, pt_6_mtf_beats_timer)
{
    VTX_COVERS("PT-6", "MTF-6");
    /* PT-6, MTF-6: pending MTF (type 7) beats the expired timer. */
    CODE(0x90, 0xf4);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    rf_inject(0x80000700, 0, 0);
    rf_launch_exit("MTF and timer 0", R_MTF);
}

/* ---- K. MTF (kut 6.11) ---- */

static void mtf_on(void) { rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_TRAP_FLAG); }

Test(rules_exits, mtf_4_after_out_kut_6_11_1)
{
    VTX_COVERS("MTF-4", "MTF-8");
    /* MTF-4, MTF-8, kut 6.11.1: MTF after out -> exit 37, RIP after it, qualification 0.
     *   G+0 e6 80 out 0x80, al ; G+2 90 nop */
    CODE(0xe6, 0x80, 0x90);
    mtf_on();
    rf_launch_exit("MTF after out", R_MTF);
    rf_saved("MTF-4", G + 2, 0, ACT_ACTIVE);
    rf_field("MTF-8", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 0);
}

Test(rules_exits, mtf_5_instruction_exit_consumes_the_boundary)
{
    VTX_COVERS("MTF-5");
    /* MTF-5 (flip of the above): with I/O exiting the out exits (30); no MTF exit. */
    CODE(0xe6, 0x80, 0x90);
    mtf_on();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    rf_launch_exit("MTF-5: I/O exit first", VTX_EXIT_REASON_IO_INSTRUCTION);
    rf_saved_rip("MTF-5", G);
}

Test(rules_exits, mtf_6_tf_and_mtf_kut_6_11_2)
{
    VTX_COVERS("MTF-6", "PRI-6", "MTF-8");
    /* MTF-6, PRI-6, MTF-8, kut 6.11.2: TF = 1 and MTF: the MTF exit wins and BS is
     * saved pending; the next entry delivers the #DB (intercepted here). Flip: TF = 0
     * leaves nothing pending.   G+0 90 nop ; G+1 90 nop */
    CODE(0x90, 0x90, 0xf4);
    mtf_on();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_state(G, 0x2 | RFLAGS_TF, 0, ACT_ACTIVE);
    rf_launch_exit("MTF with TF", R_MTF);
    rf_saved_rip("MTF with TF", G + 1);
    rf_field("MTF-8", VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, "pending debug (BS)", PENDING_BS);
    rf_resume_exit("the saved #DB is taken", R_EXC);
    rf_field("PRI-6", VTX_VMCS_EXIT_QUALIFICATION, "#DB qualification", PENDING_BS);
    rf_rebuild_knobs(0, 0);
    CODE(0x90, 0x90, 0xf4);
    mtf_on();
    rf_launch_exit("MTF without TF", R_MTF);
    rf_field("flip", VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, "pending debug", 0);
}

Test(rules_exits, mtf_4_faulting_instruction_kut_6_11_3)
{
    VTX_COVERS("MTF-4", "PRI-6");
    /* MTF-4, PRI-6, kut 6.11.3: the faulting instruction's #GP is delivered first; the
     * MTF exit is at the #GP handler.   G+0 8e d8 mov ds, ax (ax = 0x28) */
    static const uint8_t h[] = {0x90, 0xf4};
    CODE(0x8e, 0xd8);
    rf_gprs_rax(0x28, 0, 0);
    rf_handler(13, h, sizeof h, false);
    mtf_on();
    rf_launch_exit("MTF on a faulting mov ds", R_MTF);
    rf_saved_rip("MTF-4: at the #GP handler", H(13));
}

Test(rules_exits, mtf_4_icebp_kut_6_11_4)
{
    VTX_COVERS("MTF-4");
    /* MTF-4, kut 6.11.4: ICEBP: #DB delivered, the MTF exit at the #DB handler;
     * INT3 likewise (software exception delivered, RIP = handler).   G+0 f1 icebp */
    static const uint8_t h[] = {0x90, 0xf4};
    CODE(0xf1, 0x90);
    rf_handler(1, h, sizeof h, false);
    mtf_on();
    rf_launch_exit("MTF with ICEBP", R_MTF);
    rf_saved_rip("MTF-4: at the #DB handler", H(1));
    cr_assert_eq(rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)), G + 1, "ICEBP's frame returns after it");
}

Test(rules_exits, mtf_2_pending_mtf_into_hlt_is_not_vectoring)
{
    VTX_COVERS("MTF-2", "INJ-17", "BLK-LOAD-1", "BLK-LOAD-2", "BLK-LOAD-3");
    /* INJ-17, MTF-2, BLK-LOAD-1: type 7 (a pending MTF exit) is not a vectoring
     * entry: the activity state and the blocking stay as the entry loaded them. Into
     * HLT with NMI blocking: the MTF exit comes before any instruction and saves HLT,
     * RIP G and bit 3. Into the active state with blocking by STI: the exit saves
     * bit 0 (BLK-LOAD-2: blocking by STI is loaded after a non-vectoring entry). */
    CODE(0x90, 0xf4);
    rf_state(G, 0x202, IS_NMI, ACT_HLT);
    rf_inject(INTR(7, 0), 0, 0);
    rf_launch_exit("MTF-2: pending MTF into HLT", R_MTF);
    rf_saved("INJ-17: not vectoring: still in HLT, NMI blocking kept", G, IS_NMI, ACT_HLT);
    rf_field("INJ-17", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", 0);
    cr_assert_eq(vtx_machine_instructions(e.m), 0, "no instruction ran before the MTF exit");
    rf_state(G, 0x202, IS_STI, ACT_ACTIVE);
    rf_inject(INTR(7, 0), 0, 0);
    rf_resume_exit("MTF-2: pending MTF with blocking by STI", R_MTF);
    rf_saved("BLK-LOAD-2: blocking by STI loaded and kept", G, IS_STI, ACT_ACTIVE);
}

Test(rules_exits, mtf_1_injected_event_then_mtf)
{
    VTX_COVERS("MTF-1", "MTF-2");
    /* MTF-1: MTF = 1 and an injected #UD: the MTF exit is right after delivery. Flip
     * (MTF-2 without the control): no MTF exit, the handler's VMCALL exits. */
    CODE(0x90, 0xf4);
    rf_vmcall_handler(6, false);
    mtf_on();
    rf_inject(INTR(3, 6), 0, 0);
    rf_launch_exit("MTF-1: injected #UD", R_MTF);
    rf_saved_rip("MTF-1", H(6));
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_TRAP_FLAG);
    rf_inject(INTR(3, 6), 0, 0);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    rf_resume_exit("no MTF", VTX_EXIT_REASON_VMCALL);
}

Test(rules_exits, mtf_3_pending_interrupt_delivered_then_mtf)
{
    VTX_COVERS("MTF-3");
    /* MTF-3: MTF = 1, an external interrupt pending at entry: delivered, then the MTF exit
     * at the ISR. */
    CODE(0x90, 0xf4);
    rf_vmcall_handler(0x30, false);
    mtf_on();
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    vtx_machine_set_intr(e.m, true, 0x30);
    rf_launch_exit("MTF-3: interrupt then MTF", R_MTF);
    rf_saved_rip("MTF-3", H(0x30));
}

Test(rules_exits, mtf_7_not_blocked_by_sti)
{
    VTX_COVERS("MTF-7");
    /* MTF-7: an MTF exit is taken at a boundary with STI blocking (saved bit 0 = 1).
     *   G+0 fb sti ; G+1 90 nop */
    CODE(0xfb, 0x90, 0xf4);
    mtf_on();
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_launch_exit("MTF-7: after sti", R_MTF);
    rf_saved("MTF-7", G + 1, IS_STI, ACT_ACTIVE);
}
