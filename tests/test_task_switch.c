/*
 * Task switches in VMX non-root operation (SDM Vol. 3 "Treatment of Task
 * Switches", Table "Exit Qualification for Task Switches"; catalogue H, exit
 * reason 9, and E.3, task gates met by injected events): far CALL and JMP to a
 * TSS or a task gate, IRET with NT = 1, and event delivery through a task gate in
 * the IDT all exit with reason 9 once the checks before the switch pass; a check
 * that fails raises its fault, which comes first.
 *
 * A 32-bit protected-mode guest (flat segments, 32-bit paging with one identity
 * 4-MiB page). Its GDT (linear 0x7000):
 *   0x08 code, 0x10 data (DPL 0, 4 GiB)
 *   0x18 the current task's TSS at 0x6000 (busy, 32-bit), TR
 *   0x20 an available 32-bit TSS at 0x6100        0x28 task gate -> 0x20 (DPL 0)
 *   0x30 task gate -> 0x20, not present           0x38 task gate -> 0x18 (a busy TSS)
 *   0x40 an available 16-bit TSS at 0x6200        0x48 a busy 32-bit TSS at 0x6300
 *   0x50 an available 32-bit TSS, not present     0x58 an available 32-bit TSS, limit 66H
 * IDT (linear 0x5000, 8-byte gates): vector v's interrupt gate points at H(v),
 * a single HLT; HLT exiting is on, so exit 12 shows where delivery went. A task
 * gate in the IDT names TSS 0x20. Guest code at G = 0x10000 is listed above each
 * test as "G+offset  bytes  instruction".
 *
 * What the model leaves out is in model/task_switch.c: the switch itself (only
 * its VM exit happens in VMX non-root operation), and the implementation-specific
 * order of the exit and a #PF on either TSS (the model exits).
 */
#include "rules_fixture.h"

#define R_TS VTX_EXIT_REASON_TASK_SWITCH
#define R_EXC VTX_EXIT_REASON_EXCEPTION_NMI
#define R_HLT VTX_EXIT_REASON_HLT

#define P_GDT 0x7000u
#define P_PD 0x24000u
#define P_IDT VT_GUEST_IDT
#define STACK_TOP 0x9000u

#define S_CODE 0x08u
#define S_DATA 0x10u
#define S_CUR_TSS 0x18u
#define S_TSS 0x20u
#define S_GATE 0x28u
#define S_GATE_NP 0x30u
#define S_GATE_BUSY 0x38u
#define S_TSS16 0x40u
#define S_TSS_BUSY 0x48u
#define S_TSS_NP 0x50u
#define S_TSS_SHORT 0x58u
#define GDT_LIMIT 0x5Fu

#define RFLAGS_NT 0x4000u
#define Q_CALL 0u
#define Q_IRET (1ull << 30)
#define Q_JMP (2ull << 30)
#define Q_GATE (3ull << 30)

#define W(field, v) vt_vmwrite(&e, VTX_VMCS_##field, (v))

static uint64_t tss_desc(uint32_t base, uint32_t limit, uint8_t access)
{
    return (limit & 0xFFFF) | ((uint64_t)(base & 0xFFFFFF) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xF) << 48) | ((uint64_t)(base >> 24) << 56);
}
static uint64_t task_gate(uint16_t tss, unsigned dpl, bool present)
{
    return ((uint64_t)tss << 16) | (5ull << 40) | ((uint64_t)dpl << 45) | ((uint64_t)present << 47);
}
static void gdt_put(uint16_t sel, uint64_t d) { memcpy(e.ram + P_GDT + (sel & ~7u), &d, 8); }
static void idt_put(uint8_t v, uint64_t d) { memcpy(e.ram + P_IDT + 8u * v, &d, 8); }

/* Vector v through a 32-bit interrupt gate to a HLT at H(v). */
static void hlt_handler(uint8_t v)
{
    uint32_t h = H(v);
    e.ram[h] = 0xf4;
    idt_put(v, (h & 0xFFFF) | ((uint64_t)S_CODE << 16) | (0x8Eull << 40) | ((uint64_t)(h >> 16) << 48));
}

static void setup_prot32(void)
{
    rf_setup();
    uint64_t *gdt = (uint64_t *)(e.ram + P_GDT);
    memset(gdt, 0, 0x100);
    gdt[1] = 0x00CF9B000000FFFFull;
    gdt[2] = 0x00CF93000000FFFFull;
    gdt_put(S_CUR_TSS, tss_desc(VT_GUEST_TSS, 0x67, 0x8B));
    gdt_put(S_TSS, tss_desc(0x6100, 0x67, 0x89));
    gdt_put(S_GATE, task_gate(S_TSS, 0, true));
    gdt_put(S_GATE_NP, task_gate(S_TSS, 0, false));
    gdt_put(S_GATE_BUSY, task_gate(S_CUR_TSS, 0, true));
    gdt_put(S_TSS16, tss_desc(0x6200, 0x2B, 0x81));
    gdt_put(S_TSS_BUSY, tss_desc(0x6300, 0x67, 0x8B));
    gdt_put(S_TSS_NP, tss_desc(0x6400, 0x67, 0x09));
    gdt_put(S_TSS_SHORT, tss_desc(0x6500, 0x66, 0x89));
    vt_guest_flat32(&e, S_CODE, S_DATA, S_CUR_TSS, P_PD, P_GDT, GDT_LIMIT, P_IDT);
    W(GUEST_RSP, STACK_TOP);
    W(GUEST_RIP, G);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    for (unsigned v = 0; v < 32; v++)
        hlt_handler((uint8_t)v);
}

TestSuite(task_switch, .init = setup_prot32, .fini = rf_teardown);

/* A task-switch exit: qualification, length, RIP on the instruction, no
 * interruption or IDT-vectoring information (EXIT-3, EXIT-5, EXIT-6, EXIT-7). */
static void ts_exit(const char *step, uint64_t rip, uint64_t qual, uint32_t len)
{
    rf_launch_exit(step, R_TS);
    rf_saved_rip(step, rip);
    rf_field(step, VTX_VMCS_EXIT_QUALIFICATION, "exit qualification (selector | source << 30)", qual);
    rf_field(step, VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", len);
    rf_field(step, VTX_VMCS_EXIT_INTR_INFO, "interruption information (invalid)", 0);
    rf_field(step, VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information (invalid)", 0);
}

/* An exception exit: vector, error code, RIP. */
static void exc_exit(const char *step, uint8_t vector, uint32_t error_code, uint64_t rip)
{
    rf_launch_exit(step, R_EXC);
    rf_field(step, VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, vector));
    rf_field(step, VTX_VMCS_EXIT_INTR_ERROR_CODE, "error code", error_code);
    rf_saved_rip(step, rip);
}

/* ---- the four sources ---- */

Test(task_switch, exit_3_jmp_far_to_a_tss_is_source_2)
{
    VTX_COVERS("EXIT-3", "EXIT-2", "EXIT-6", "EXIT-7");
    /* EXIT-2, EXIT-3, EXIT-6, EXIT-7: JMP to an available TSS: exit 9, qualification
     * = the selector | 2 << 30, length 7, RIP on the JMP, nothing switched.
     *   G+0 90 nop ; G+1 ea 00 00 00 00 20 00 jmp 0x20:0 */
    CODE(0x90, 0xea, 0, 0, 0, 0, S_TSS, 0);
    ts_exit("JMP far to a TSS", G + 1, S_TSS | Q_JMP, 7);
    rf_saved("JMP far to a TSS", G + 1, 0, ACT_ACTIVE);
    uint64_t d;
    memcpy(&d, e.ram + P_GDT + S_TSS, 8);
    cr_assert_eq((d >> 40) & 0xF, 9, "the new TSS is not marked busy: the switch did not happen");
}

Test(task_switch, exit_3_call_far_through_a_task_gate_reports_the_tss)
{
    VTX_COVERS("EXIT-3");
    /* EXIT-3: CALL through a task gate: the qualification holds the TSS selector
     * the gate names (0x20), not the gate's (0x28); source 0.
     *   G+0 9a 00 00 00 00 28 00 call 0x28:0 */
    CODE(0x9a, 0, 0, 0, 0, S_GATE, 0);
    ts_exit("CALL far through a task gate", G, S_TSS | Q_CALL, 7);
}

Test(task_switch, exit_3_jmp_far_memory_operand)
{
    VTX_COVERS("EXIT-3", "EXIT-6");
    /* EXIT-6: the m16:32 form: the far pointer is read from memory (offset, then
     * the selector); the length is the instruction's, 6.
     *   G+0 ff 2d 00 01 01 00 jmp far [0x10100] ; 0x10100: dd 0, dw 0x40 (the 16-bit TSS) */
    CODE(0xff, 0x2d, 0x00, 0x01, 0x01, 0x00);
    const uint8_t ptr[] = {0, 0, 0, 0, S_TSS16, 0};
    vt_code(&e, G + 0x100, ptr, sizeof ptr);
    ts_exit("JMP far [mem] to a 16-bit TSS", G, S_TSS16 | Q_JMP, 6);
}

Test(task_switch, exit_3_iret_with_nt_is_source_1)
{
    VTX_COVERS("EXIT-3");
    /* EXIT-3: IRET with NT = 1 returns to the task in the back link of the current
     * TSS (a busy TSS): exit 9, qualification = back link | 1 << 30, length 1.
     *   G+0 cf iretd */
    CODE(0xcf);
    uint16_t link = S_TSS_BUSY;
    memcpy(e.ram + VT_GUEST_TSS, &link, 2);
    W(GUEST_RFLAGS, 0x2 | RFLAGS_NT);
    ts_exit("IRET with NT = 1", G, S_TSS_BUSY | Q_IRET, 1);
    rf_field("IRET with NT = 1", VTX_VMCS_GUEST_RFLAGS, "saved RFLAGS (NT still 1)", 0x2 | RFLAGS_NT);
}

Test(task_switch, exit_3_flip_iret_with_nt_0_returns_from_the_frame)
{
    VTX_COVERS("EXIT-3");
    /* Flip: the same IRET with NT = 0 pops the frame: the HLT there exits (12).
     *   G+0 cf iretd ; stack: EIP G+0x20, CS 0x08, EFLAGS 0x2 ; G+0x20 f4 hlt */
    CODE(0xcf);
    e.ram[G + 0x20] = 0xf4;
    uint32_t frame[3] = {G + 0x20, S_CODE, 0x2};
    memcpy(e.ram + STACK_TOP - 12, frame, sizeof frame);
    W(GUEST_RSP, STACK_TOP - 12);
    uint16_t link = S_TSS_BUSY;
    memcpy(e.ram + VT_GUEST_TSS, &link, 2);
    rf_launch_exit("IRET with NT = 0", R_HLT);
    rf_saved_rip("IRET with NT = 0", G + 0x20);
}

Test(task_switch, exit_3_flip_far_jmp_to_a_code_segment_does_not_exit)
{
    VTX_COVERS("EXIT-3");
    /* Flip: a far JMP to a code segment is an ordinary far transfer.
     *   G+0 ea 07 00 01 00 08 00 jmp 0x08:G+7 ; G+7 0f 01 c1 vmcall */
    CODE(0xea, 0x07, 0x00, 0x01, 0x00, S_CODE, 0, 0x0f, 0x01, 0xc1);
    rf_launch_exit("far JMP to code", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("far JMP to code", G + 7);
}

Test(task_switch, exit_5_int_n_through_a_task_gate)
{
    VTX_COVERS("EXIT-5", "EXIT-6", "INJ-6");
    /* EXIT-5, EXIT-6, INJ-6: INT 0x40 through a task gate in the IDT: exit 9 with
     * source 3 and the TSS selector; the IDT-vectoring information describes the
     * INT n (type 4, vector 0x40, valid), the length is the INT's; RIP on the INT
     * (the event was not delivered).
     *   G+0 90 nop ; G+1 cd 40 int 0x40 */
    CODE(0x90, 0xcd, 0x40);
    idt_put(0x40, task_gate(S_TSS, 0, true));
    rf_launch_exit("INT n through a task gate", R_TS);
    rf_saved_rip("INT n through a task gate", G + 1);
    rf_field("INT n", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification", S_TSS | Q_GATE);
    rf_field("INT n", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(4, 0x40));
    rf_field("INT n", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 2);
    rf_field("INT n", VTX_VMCS_EXIT_INTR_INFO, "interruption information (invalid)", 0);
}

Test(task_switch, exit_5_flip_int_n_through_an_interrupt_gate)
{
    VTX_COVERS("EXIT-5");
    /* Flip: the same INT 0x40 through an interrupt gate is delivered (HLT exit at the handler). */
    CODE(0x90, 0xcd, 0x40);
    hlt_handler(0x40);
    rf_launch_exit("INT n through an interrupt gate", R_HLT);
    rf_saved_rip("INT n through an interrupt gate", H(0x40));
}

Test(task_switch, inj_18_injected_interrupt_through_a_task_gate)
{
    VTX_COVERS("INJ-18", "INJ-6", "EXIT-5");
    /* INJ-6, INJ-18, EXIT-5: an injected external interrupt (type 0) whose gate is
     * a task gate: the entry ends in exit 9 with the injected event in the
     * IDT-vectoring information; RIP is the guest RIP field. */
    CODE(0x90);
    idt_put(0x41, task_gate(S_TSS, 0, true));
    W(GUEST_RFLAGS, 0x2 | RFLAGS_IF);
    rf_inject(INTR(0, 0x41), 0, 0);
    rf_launch_exit("injected interrupt through a task gate", R_TS);
    rf_saved_rip("injected interrupt", G);
    rf_field("injected interrupt", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification", S_TSS | Q_GATE);
    rf_field("injected interrupt", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(0, 0x41));
    rf_field("injected interrupt", VTX_VMCS_ENTRY_INTR_INFO, "entry interruption info (valid bit cleared)",
             INTR(0, 0x41) & ~0x80000000u);
}

Test(task_switch, inj_18_injected_exception_with_error_code_through_a_task_gate)
{
    VTX_COVERS("INJ-18");
    /* INJ-18: an injected #GP(0x1234) through a task gate: the IDT-vectoring
     * information has the error-code bit and its error code field the value. */
    CODE(0x90);
    idt_put(13, task_gate(S_TSS16, 0, true));
    rf_inject(INTR_EC(3, 13), 0x1234, 0);
    rf_launch_exit("injected #GP through a task gate", R_TS);
    rf_field("injected #GP", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification", S_TSS16 | Q_GATE);
    rf_field("injected #GP", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR_EC(3, 13));
    rf_field("injected #GP", VTX_VMCS_IDT_VECTORING_ERROR_CODE, "IDT-vectoring error code", 0x1234);
}

Test(task_switch, inj_18_injected_software_interrupt_keeps_its_length)
{
    VTX_COVERS("INJ-18", "EXIT-6");
    /* INJ-18, EXIT-6: an injected INT n (type 4, length 2) through a task gate:
     * the exit's instruction length is the injected length. */
    CODE(0x90);
    idt_put(0x42, task_gate(S_TSS, 0, true));
    rf_inject(INTR(4, 0x42), 0, 2);
    rf_launch_exit("injected INT n through a task gate", R_TS);
    rf_field("injected INT n", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(4, 0x42));
    rf_field("injected INT n", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 2);
}

Test(task_switch, exit_5_double_fault_through_a_task_gate)
{
    VTX_COVERS("EXIT-5");
    /* EXIT-5: the classic #DF task gate. UD2's #UD finds no gate (an empty IDT
     * entry): #GP (benign then contributory: delivered); the #GP entry is empty
     * too: #GP during #GP is a #DF, whose gate is a task gate: exit 9 with the
     * #DF (type 3, vector 8, error code 0) in the IDT-vectoring information.
     *   G+0 0f 0b ud2 */
    CODE(0x0f, 0x0b);
    idt_put(6, 0);
    idt_put(13, 0);
    idt_put(8, task_gate(S_TSS, 0, true));
    rf_launch_exit("#DF through a task gate", R_TS);
    rf_saved_rip("#DF through a task gate", G);
    rf_field("#DF", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification", S_TSS | Q_GATE);
    rf_field("#DF", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR_EC(3, 8));
    rf_field("#DF", VTX_VMCS_IDT_VECTORING_ERROR_CODE, "IDT-vectoring error code", 0);
}

/* ---- checks before the exit (SDM "Treatment of Task Switches", items 1-4) ---- */

Test(task_switch, exit_3_gate_privilege_fault_comes_first)
{
    VTX_COVERS("EXIT-3");
    /* Item 1: JMP through a DPL-0 task gate with RPL 3: #GP(gate selector), not exit 9.
     *   G+0 ea 00 00 00 00 2b 00 jmp 0x2b:0 */
    CODE(0xea, 0, 0, 0, 0, S_GATE | 3, 0);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    exc_exit("gate DPL < RPL", 13, S_GATE, G);
}

Test(task_switch, exit_3_flip_gate_privilege_with_rpl_0)
{
    VTX_COVERS("EXIT-3");
    /* Flip: the same gate with RPL 0 passes: exit 9. */
    CODE(0xea, 0, 0, 0, 0, S_GATE, 0);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    ts_exit("gate DPL = RPL", G, S_TSS | Q_JMP, 7);
}

Test(task_switch, exit_3_checks_on_the_new_tss)
{
    VTX_COVERS("EXIT-3");
    /* Items 1-4, in CALL/JMP's order: a TSS's DPL below the RPL #GP(TSS), a
     * not-present gate #NP(gate), a busy TSS
     * #GP(TSS) (directly or through a gate, which reports the TSS), a TSS in the
     * LDT position (TI = 1) #GP, a not-present TSS #NP(TSS), a TSS limit below 67H
     * #TS(TSS). Each with the fault in the exception bitmap. */
    static const struct { uint16_t sel; uint8_t vec; uint16_t ec; const char *what; } t[] = {
        {S_TSS | 1, 13, S_TSS, "TSS DPL 0 < RPL 1"},
        {S_GATE_NP, 11, S_GATE_NP, "task gate not present"},
        {S_CUR_TSS, 13, S_CUR_TSS, "JMP to the busy current TSS"},
        {S_GATE_BUSY, 13, S_CUR_TSS, "task gate naming a busy TSS"},
        {S_TSS_BUSY, 13, S_TSS_BUSY, "JMP to a busy TSS"},
        {S_TSS_NP, 11, S_TSS_NP, "TSS not present"},
        {S_TSS_SHORT, 10, S_TSS_SHORT, "TSS limit 66H"},
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (i) {
            rf_teardown();
            setup_prot32();
        }
        const uint8_t jmp[] = {0xea, 0, 0, 0, 0, (uint8_t)t[i].sel, 0};
        rf_code(jmp, sizeof jmp);
        rf_set(VTX_VMCS_EXCEPTION_BITMAP, (1u << 10) | (1u << 11) | (1u << 13));
        exc_exit(t[i].what, t[i].vec, t[i].ec, G);
    }
}

Test(task_switch, exit_3_fault_is_delivered_without_the_bitmap)
{
    VTX_COVERS("EXIT-3");
    /* Without the exception bitmap the #GP of a busy TSS is delivered through the
     * IDT: the handler's HLT exits, the frame holds the JMP and the error code. */
    CODE(0xea, 0, 0, 0, 0, S_TSS_BUSY, 0);
    rf_launch_exit("#GP delivered", R_HLT);
    rf_saved_rip("#GP delivered", H(13));
    cr_assert_eq(*(uint32_t *)(e.ram + STACK_TOP - 16), S_TSS_BUSY, "the pushed error code");
    cr_assert_eq(*(uint32_t *)(e.ram + STACK_TOP - 12), G, "the pushed EIP: the JMP");
}

Test(task_switch, exit_3_iret_checks_the_back_link)
{
    VTX_COVERS("EXIT-3");
    /* IRET's task return: the back link must name a busy TSS, else #TS(link). */
    CODE(0xcf);
    uint16_t link = S_TSS; /* available, not busy */
    memcpy(e.ram + VT_GUEST_TSS, &link, 2);
    W(GUEST_RFLAGS, 0x2 | RFLAGS_NT);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 10);
    exc_exit("IRET to an available TSS", 10, S_TSS, G);
}

Test(task_switch, exit_3_iret_in_ia32e_mode_is_gp_not_a_task_switch)
{
    VTX_COVERS("EXIT-3");
    /* In IA-32e mode IRET with NT = 1 is #GP(0), not a task switch (a 64-bit guest).
     *   G+0 48 cf iretq */
    rf_teardown();
    rf_setup();
    CODE(0x48, 0xcf);
    W(GUEST_RFLAGS, 0x2 | RFLAGS_NT);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    exc_exit("IRETQ with NT = 1", 13, 0, G);
}

/* ---- what the exit saves ---- */

Test(task_switch, blk_sti_8_jmp_far_exit_keeps_the_sti_shadow)
{
    VTX_COVERS("BLK-STI-8");
    /* BLK-STI-8: the task-switch exit of an instruction in the STI shadow is
     * fault-like: bit 0 saved as 1, RIP on the JMP.
     *   G+0 fb sti ; G+1 ea 00 00 00 00 20 00 jmp 0x20:0 */
    CODE(0xfb, 0xea, 0, 0, 0, 0, S_TSS, 0);
    rf_launch_exit("STI; JMP to a TSS", R_TS);
    rf_saved("STI; JMP to a TSS", G + 1, IS_STI, ACT_ACTIVE);
}

Test(task_switch, blk_nmi_3_nmi_through_a_task_gate_blocks_nmis)
{
    VTX_COVERS("BLK-NMI-3", "EXIT-5");
    /* BLK-NMI-3, EXIT-5: an NMI delivered (NMI exiting = 0) through a task gate:
     * exit 9 during its delivery; the IDT-vectoring information is the NMI (type
     * 2, vector 2) and NMIs are blocked before the exit (bit 3 saved as 1). */
    CODE(0x90, 0x90);
    idt_put(2, task_gate(S_TSS, 0, true));
    cr_assert_eq(vtx_machine_raise_nmi(e.m), VTX_OK);
    rf_launch_exit("NMI through a task gate", R_TS);
    rf_field("NMI", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(2, 2));
    rf_saved("NMI", G, IS_NMI, ACT_ACTIVE);
}

Test(task_switch, vnmi_4_iret_task_switch_exits_before_unblocking_nmis)
{
    VTX_COVERS("VNMI-4");
    /* An IRET task switch exits before IRET does anything: NMI blocking (bit 3 = 1
     * at entry, NMI exiting = 0) is saved as 1. Flip: with NT = 0 the IRET
     * unblocks NMIs (VNMI-4), and the next exit saves 0. */
    CODE(0xcf);
    uint16_t link = S_TSS_BUSY;
    memcpy(e.ram + VT_GUEST_TSS, &link, 2);
    W(GUEST_RFLAGS, 0x2 | RFLAGS_NT);
    W(GUEST_INTERRUPTIBILITY, IS_NMI);
    rf_launch_exit("IRET task switch with NMIs blocked", R_TS);
    rf_saved("IRET task switch", G, IS_NMI, ACT_ACTIVE);

    e.ram[G + 0x20] = 0xf4;
    uint32_t frame[3] = {G + 0x20, S_CODE, 0x2};
    memcpy(e.ram + STACK_TOP - 12, frame, sizeof frame);
    W(GUEST_RSP, STACK_TOP - 12);
    W(GUEST_RFLAGS, 0x2);
    rf_resume_exit("IRET with NT = 0", R_HLT);
    rf_saved("IRET with NT = 0", G + 0x20, 0, ACT_ACTIVE);
}
