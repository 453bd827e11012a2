/*
 * PRI-1 (SDM Vol. 3 "Priority Among Concurrent Exceptions and Interrupts",
 * Table 6-2) on an executing 64-bit guest: the architectural classes the model
 * has, pairwise, highest first, each decided by real guest code and the VMCS and
 * flipped by removing the higher event:
 *   3 INIT  >  4 a trap of the previous instruction (TF single-step)  >  5 NMI
 *   >  6 maskable hardware interrupt  >  8 a fault fetching the next instruction
 *   >  10 a fault executing the instruction.
 * Not here: class 1 (RESET, machine check), 2 (the T-bit trap of a task switch:
 * VMX non-root operation has no task switches, they exit), SMI, FLUSH, STOPCLK
 * (not modelled), 7 (code breakpoints: DR7 is not armed by the engine), 9 (a
 * fault decoding the next instruction is a #UD/#GP of class 10 here). The VMX
 * events between the classes (MTF, timer, the windows) follow the VMX-merged
 * order of catalogue G, tested in test_rules_exits.c, test_post_entry.c and
 * test_inputs.c.
 *
 * Guest code at G = 0x10000, handlers at H(v) = 0x12000 + 0x10 * v, RSP 0x9000.
 * Inputs arrive at exact instruction boundaries (vtx_machine_schedule).
 */
#include "rules_fixture.h"

#define R_EXC VTX_EXIT_REASON_EXCEPTION_NMI
#define R_EXT VTX_EXIT_REASON_EXTERNAL_INTERRUPT
#define R_INIT VTX_EXIT_REASON_INIT_SIGNAL

TestSuite(rules_priority, .init = rf_setup, .fini = rf_teardown);

/* Schedule an input at the boundary after n more retired instructions. */
static void input_after(vtx_input_kind kind, uint8_t vector, uint64_t n)
{
    vtx_input in = {.kind = kind, .vector = vector, .when = vtx_machine_instructions(e.m) + n};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
}

static void nmi_exiting(void) { rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING); }
static void extint_exiting(void)
{
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
}

/* ---- 3 INIT > 4 trap of the previous instruction ---- */

Test(rules_priority, pri_1_init_beats_the_single_step_trap)
{
    VTX_COVERS("PRI-1", "EXIT-9");
    /* PRI-1, EXIT-9: TF = 1; after the first NOP a single-step #DB is pending and
     * INIT arrives at the same boundary: INIT (exit 3) wins, and the exit keeps the
     * #DB in the pending-debug-exceptions field (BS).
     *   G+0 90 nop ; G+1 90 nop */
    CODE(0x90, 0x90);
    rf_state(G, 0x2 | RFLAGS_TF, 0, ACT_ACTIVE);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    input_after(VTX_INPUT_INIT, 0, 1);
    rf_launch_exit("INIT with a pending single-step trap", R_INIT);
    rf_saved_rip("INIT", G + 1);
    rf_field("INIT", VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, "pending debug exceptions (BS kept)", PENDING_BS);
}

Test(rules_priority, pri_1_flip_without_init_the_trap_is_taken)
{
    VTX_COVERS("PRI-1");
    /* Flip: no INIT: the single-step #DB exits (reason 0, vector 1, BS) at G+1. */
    CODE(0x90, 0x90);
    rf_state(G, 0x2 | RFLAGS_TF, 0, ACT_ACTIVE);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_launch_exit("the single-step trap alone", R_EXC);
    rf_field("#DB", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, 1));
    rf_field("#DB", VTX_VMCS_EXIT_QUALIFICATION, "#DB qualification (BS)", PENDING_BS);
    rf_saved_rip("#DB", G + 1);
}

/* ---- 4 trap of the previous instruction > 5 NMI ---- */

Test(rules_priority, pri_1_single_step_trap_beats_nmi)
{
    VTX_COVERS("PRI-1");
    /* PRI-1: TF = 1 and an NMI (NMI exiting) at the boundary after the first NOP:
     * the #DB trap exits first; the NMI stays pending and exits on the next entry,
     * at the same RIP.
     *   G+0 90 nop ; G+1 90 nop */
    CODE(0x90, 0x90);
    rf_state(G, 0x2 | RFLAGS_TF, 0, ACT_ACTIVE);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    nmi_exiting();
    input_after(VTX_INPUT_NMI, 0, 1);
    rf_launch_exit("#DB trap and NMI", R_EXC);
    rf_field("#DB first", VTX_VMCS_EXIT_INTR_INFO, "interruption information (#DB)", INTR(3, 1));
    rf_saved_rip("#DB first", G + 1);
    rf_resume_exit("then the NMI", R_EXC);
    rf_field("then the NMI", VTX_VMCS_EXIT_INTR_INFO, "interruption information (NMI)", INTR(2, 2));
    rf_saved_rip("then the NMI", G + 1);
}

Test(rules_priority, pri_1_flip_without_tf_the_nmi_is_taken)
{
    VTX_COVERS("PRI-1");
    /* Flip: TF = 0: the NMI exits at G+1. */
    CODE(0x90, 0x90);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    nmi_exiting();
    input_after(VTX_INPUT_NMI, 0, 1);
    rf_launch_exit("NMI alone", R_EXC);
    rf_field("NMI alone", VTX_VMCS_EXIT_INTR_INFO, "interruption information (NMI)", INTR(2, 2));
    rf_saved_rip("NMI alone", G + 1);
}

/* ---- 5 NMI > 6 maskable hardware interrupt ---- */

Test(rules_priority, pri_1_nmi_beats_the_maskable_interrupt)
{
    VTX_COVERS("PRI-1");
    /* PRI-1: an NMI and an external interrupt at the same boundary, both exiting:
     * the NMI exit (reason 0) first, then the interrupt (reason 1, vector 0x30).
     *   G+0 90 nop ; G+1 90 nop */
    CODE(0x90, 0x90);
    nmi_exiting();
    extint_exiting();
    input_after(VTX_INPUT_INTR_ASSERT, 0x30, 1);
    input_after(VTX_INPUT_NMI, 0, 1);
    rf_launch_exit("NMI and interrupt", R_EXC);
    rf_field("NMI first", VTX_VMCS_EXIT_INTR_INFO, "interruption information (NMI)", INTR(2, 2));
    rf_resume_exit("then the interrupt", R_EXT);
    rf_field("then the interrupt", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(0, 0x30));
    rf_saved_rip("then the interrupt", G + 1);
}

Test(rules_priority, pri_1_flip_blocked_nmi_lets_the_interrupt_in)
{
    VTX_COVERS("PRI-1");
    /* Flip: the same with NMIs blocked (bit 3): the interrupt exits first. */
    CODE(0x90, 0x90);
    nmi_exiting();
    extint_exiting();
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    input_after(VTX_INPUT_INTR_ASSERT, 0x30, 1);
    input_after(VTX_INPUT_NMI, 0, 1);
    rf_launch_exit("interrupt, NMI blocked", R_EXT);
    rf_saved("interrupt, NMI blocked", G + 1, IS_NMI, ACT_ACTIVE);
}

/* ---- 6 maskable hardware interrupt > 8 fault fetching the next instruction ---- */

/* A JMP to linear 0x200000, whose 2-MiB page is made not present. */
static void jmp_to_not_present_page(void)
{
    /* G+0 e9 fb ff 1e 00 jmp 0x200000 */
    CODE(0xe9, 0xfb, 0xff, 0x1e, 0x00);
    rf_poke64(VT_GUEST_CR3 + 0x2000 + 8, 0); /* PDE 1 (2-4 MiB): not present */
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
}

Test(rules_priority, pri_1_interrupt_beats_the_fetch_fault)
{
    VTX_COVERS("PRI-1");
    /* PRI-1: after the JMP the next instruction's fetch would #PF; an interrupt
     * arriving at that boundary is taken first: exit 1 with RIP = 0x200000. */
    jmp_to_not_present_page();
    extint_exiting();
    input_after(VTX_INPUT_INTR_ASSERT, 0x30, 1);
    rf_launch_exit("interrupt before the fetch fault", R_EXT);
    rf_saved_rip("interrupt before the fetch fault", 0x200000);
}

Test(rules_priority, pri_1_flip_without_the_interrupt_the_fetch_faults)
{
    VTX_COVERS("PRI-1");
    /* Flip: no interrupt: the fetch #PF exits (reason 0, vector 14, qualification
     * = the linear address, RIP = it). */
    jmp_to_not_present_page();
    rf_launch_exit("fetch fault", R_EXC);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) & 0x80000FFFu, INTR_EC(3, 14),
                 "fetch fault: a #PF with an error code");
    rf_field("fetch fault", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification (the address)", 0x200000);
    rf_saved_rip("fetch fault", 0x200000);
}

/* ---- 8 fault fetching the next instruction > 10 fault executing it ---- */

#define PT 0x40000u      /* a page table for the first 2 MiB (4-KiB pages) */
#define SPLIT 0x50000u   /* the page made not present */

/* UD2 split across a page boundary: 0f at SPLIT-1, 0b at SPLIT. */
static void ud2_across_pages(bool second_page_present)
{
    uint64_t *pt = (uint64_t *)(e.ram + PT);
    for (uint64_t i = 0; i < 512; i++)
        pt[i] = (i << 12) | 3;
    if (!second_page_present)
        pt[SPLIT >> 12] = 0;
    rf_poke64(VT_GUEST_CR3 + 0x2000, PT | 3); /* PDE 0 -> the page table */
    e.ram[SPLIT - 1] = 0x0f;
    e.ram[SPLIT] = 0x0b;
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, SPLIT - 1);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, (1u << 14) | (1u << 6));
}

Test(rules_priority, pri_1_fetch_fault_beats_the_instruction_fault)
{
    VTX_COVERS("PRI-1");
    /* PRI-1: the second byte of UD2 is on a not-present page: the fetch #PF (at
     * the page, RIP on the UD2) comes before the #UD. */
    ud2_across_pages(false);
    rf_launch_exit("UD2 across a not-present page", R_EXC);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) & 0x80000FFFu, INTR_EC(3, 14), "a #PF, not #UD");
    rf_field("UD2 across pages", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification (the page)", SPLIT);
    rf_saved_rip("UD2 across pages", SPLIT - 1);
}

Test(rules_priority, pri_1_flip_present_page_gives_the_ud)
{
    VTX_COVERS("PRI-1");
    /* Flip: both pages present: the #UD of executing it. */
    ud2_across_pages(true);
    rf_launch_exit("UD2 across present pages", R_EXC);
    rf_field("UD2", VTX_VMCS_EXIT_INTR_INFO, "interruption information (#UD)", INTR(3, 6));
    rf_saved_rip("UD2", SPLIT - 1);
}

/* ---- 6 maskable hardware interrupt > 10 fault executing the instruction ---- */

Test(rules_priority, pri_1_interrupt_beats_the_instruction_fault)
{
    VTX_COVERS("PRI-1");
    /* PRI-1: an interrupt at the boundary before UD2 is taken first (RIP on UD2);
     * the flip (no interrupt) is the #UD of the test above.
     *   G+0 90 nop ; G+1 0f 0b ud2 */
    CODE(0x90, 0x0f, 0x0b);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    extint_exiting();
    input_after(VTX_INPUT_INTR_ASSERT, 0x30, 1);
    rf_launch_exit("interrupt before UD2", R_EXT);
    rf_saved_rip("interrupt before UD2", G + 1);
    vtx_machine_set_intr(e.m, false, 0);
    rf_resume_exit("then the #UD", R_EXC);
    rf_field("#UD", VTX_VMCS_EXIT_INTR_INFO, "interruption information (#UD)", INTR(3, 6));
}

/* ---- the boundary before a fetch fault is a boundary (the model's engine runs
 * on into the next fetch; the fault waits for that boundary) ---- */

Test(rules_priority, pri_2_mtf_beats_the_next_fetch_fault)
{
    VTX_COVERS("PRI-2", "PRI-1");
    /* PRI-2 with PRI-1: the monitor trap flag after the JMP: the MTF exit (37) is
     * at 0x200000, before the fetch #PF there (class 8). */
    jmp_to_not_present_page();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_TRAP_FLAG);
    rf_launch_exit("MTF before the fetch fault", VTX_EXIT_REASON_MONITOR_TRAP_FLAG);
    rf_saved_rip("MTF before the fetch fault", 0x200000);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_TRAP_FLAG);
    rf_resume_exit("then the fetch fault", R_EXC);
    rf_field("then the fetch fault", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification", 0x200000);
}

Test(rules_priority, blk_sti_2_shadow_covers_a_faulting_fetch)
{
    VTX_COVERS("BLK-STI-2", "BLK-STI-8");
    /* BLK-STI-2, BLK-STI-8: STI is the last byte of a page and the next page is not
     * present: the STI shadow covers the boundary before the faulting fetch (no
     * interrupt-window exit there, IF = 1 after STI); the #PF exits directly with
     * bit 0 saved as 1 and RIP at the next page. */
    ud2_across_pages(false);
    e.ram[SPLIT - 1] = 0xfb; /* sti */
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_launch_exit("STI, then a fetch fault", R_EXC);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) & 0x80000FFFu, INTR_EC(3, 14), "a #PF exit, not IW");
    rf_saved("STI, then a fetch fault", SPLIT, IS_STI, ACT_ACTIVE);
}

Test(rules_priority, blk_sti_2_flip_present_page_opens_the_window_after_one_instruction)
{
    VTX_COVERS("BLK-STI-2");
    /* Flip: the next page present: the NOP there runs in the shadow and the window
     * opens after it. */
    ud2_across_pages(true);
    e.ram[SPLIT - 1] = 0xfb; /* sti */
    e.ram[SPLIT] = 0x90;     /* nop */
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_launch_exit("STI; NOP", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    rf_saved("STI; NOP", SPLIT + 1, 0, ACT_ACTIVE);
}
