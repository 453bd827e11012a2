/*
 * Instruction behaviour in VMX non-root operation that the engine (Unicorn)
 * gets wrong or skips, and the model corrects (issue 9; docs/unicorn-audit.md):
 * SMSW and the CR0 read shadow, LMSW with a memory operand, the guest-linear
 * address of INS/OUTS exits, MOV DR with DR7.GD, RF in the RFLAGS image of a
 * fault, the accessed bit of loaded segment descriptors.
 * The 64-bit baseline guest (identity paging) with code at G = 0x10000, handlers
 * at H(v), data at DATA.
 */
#include "rules_fixture.h"
#include "../cpu/engine.h"

#define R_EXC VTX_EXIT_REASON_EXCEPTION_NMI
#define DATA 0x7000u
#define CR0_TS 0x8u
#define CR0_MP 0x2u
#define RF 0x10000u

TestSuite(insn_audit, .init = rf_setup, .fini = rf_teardown);

static vtx_gprs gprs(void)
{
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    return g;
}
static void set_gprs(const vtx_gprs *g) { cr_assert_eq(vtx_machine_set_gprs(e.m, g), VTX_OK); }
static uint16_t mem16(uint64_t pa) { return (uint16_t)(e.ram[pa] | e.ram[pa + 1] << 8); }

/* CR0.TS owned by the host, its read shadow 1, the real bit 0. */
static void ts_shadowed(void)
{
    vt_vmwrite(&e, VTX_VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
    vt_vmwrite(&e, VTX_VMCS_CR0_READ_SHADOW, vt_vmread(&e, VTX_VMCS_GUEST_CR0) | CR0_TS);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_CR0) & CR0_TS, 0);
}

/* ---- SMSW (SDM "Changes to Instruction Behavior in VMX Non-Root Operation") ---- */

Test(insn_audit, smsw_reads_the_cr0_read_shadow_like_mov_from_cr0)
{
    VTX_COVERS("INS-SMSW-1");
    /* G+0 0f 20 c0 mov rax, cr0 ; G+3 0f 01 e3 smsw ebx ; G+6 48 0f 01 e1 smsw rcx ;
     * G+10 66 0f 01 e2 smsw dx ; G+14 0f 01 24 25 00 70 00 00 smsw [DATA] ; G+22 0f 01 c1 vmcall */
    CODE(0x0f, 0x20, 0xc0, 0x0f, 0x01, 0xe3, 0x48, 0x0f, 0x01, 0xe1, 0x66, 0x0f, 0x01, 0xe2, 0x0f, 0x01, 0x24, 0x25,
         0x00, 0x70, 0x00, 0x00, 0x0f, 0x01, 0xc1);
    ts_shadowed();
    vtx_gprs g = gprs();
    g.rdx = 0xAAAA0000u;
    set_gprs(&g);
    rf_launch_exit("mov cr0 / smsw, then vmcall", VTX_EXIT_REASON_VMCALL);
    g = gprs();
    cr_assert(g.rax & CR0_TS, "MOV from CR0 reads the shadow's TS (rax 0x%llx)", (unsigned long long)g.rax);
    cr_assert(g.rbx & CR0_TS, "SMSW r32 reads the shadow's TS like MOV from CR0 (rbx 0x%llx)", (unsigned long long)g.rbx);
    cr_assert(g.rcx & CR0_TS, "SMSW r64 reads the shadow's TS (rcx 0x%llx)", (unsigned long long)g.rcx);
    cr_assert_eq(g.rdx >> 16, 0xAAAA, "SMSW r16 leaves bits 63:16");
    cr_assert(g.rdx & CR0_TS, "SMSW r16 reads the shadow's TS (rdx 0x%llx)", (unsigned long long)g.rdx);
    cr_assert(mem16(DATA) & CR0_TS, "SMSW m16 stores the shadow's TS (0x%x)", mem16(DATA));
    cr_assert_eq(mem16(DATA) & 1, 1, "SMSW m16 stores PE");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_CR0) & CR0_TS, 0, "the real TS stays 0");
}

Test(insn_audit, smsw_with_nothing_masked_reads_cr0)
{
    VTX_COVERS("INS-SMSW-1");
    /* The flip: without the mask bit SMSW stores the real TS = 0 whatever the shadow.
     *   G+0 0f 01 e3 smsw ebx ; G+3 0f 01 c1 vmcall */
    CODE(0x0f, 0x01, 0xe3, 0x0f, 0x01, 0xc1);
    vt_vmwrite(&e, VTX_VMCS_CR0_GUEST_HOST_MASK, 0);
    vt_vmwrite(&e, VTX_VMCS_CR0_READ_SHADOW, vt_vmread(&e, VTX_VMCS_GUEST_CR0) | CR0_TS);
    rf_launch_exit("smsw, then vmcall", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(gprs().rbx, (uint32_t)vt_vmread(&e, VTX_VMCS_GUEST_CR0), "SMSW r32 stores CR0");
}

/* Map the first 2 MiB with 4-KiB pages (a page table at VT_GUEST_CR3 + 0x3000),
 * the page at not_present left out. */
static void pages_4k_without(uint64_t not_present)
{
    uint64_t *pd = (uint64_t *)(e.ram + VT_GUEST_CR3 + 0x2000), *pt = (uint64_t *)(e.ram + VT_GUEST_CR3 + 0x3000);
    for (uint64_t i = 0; i < 512; i++)
        pt[i] = (i << 12) == not_present ? 0 : (i << 12) | 3;
    pd[0] = (VT_GUEST_CR3 + 0x3000) | 3;
}

Test(insn_audit, smsw_to_a_not_present_page_faults)
{
    VTX_COVERS("INS-SMSW-1");
    /* The engine makes the store, with its #PF; the model corrects only a store
     * that happened.   G+0 0f 01 24 25 00 70 00 00 smsw [DATA] */
    CODE(0x0f, 0x01, 0x24, 0x25, 0x00, 0x70, 0x00, 0x00);
    pages_4k_without(DATA);
    ts_shadowed();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    rf_launch_exit("smsw to a not-present page", R_EXC);
    rf_field("#PF", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 14));
    rf_field("#PF", VTX_VMCS_EXIT_INTR_ERROR_CODE, "error code (write, not present)", 2);
    rf_field("#PF", VTX_VMCS_EXIT_QUALIFICATION, "faulting address", DATA);
    rf_saved_rip("#PF at the SMSW", G);
}

/* ---- LMSW (SDM "Instructions That Cause VM Exits Conditionally", LMSW; EXIT-3) ---- */

Test(insn_audit, exit_3_lmsw_memory_operand_exit_qualification_and_guest_linear_address)
{
    VTX_COVERS("INS-LMSW-1");
    /* TS host-owned, shadow TS = 0; the word at DATA sets TS: exit 28 with the
     * qualification CR 0, access type 3 (LMSW), bit 6 (memory), source 31:16,
     * the length and the operand's guest-linear address.
     *   G+0 0f 01 73 08 lmsw [rbx + 8] */
    CODE(0x0f, 0x01, 0x73, 0x08);
    vt_vmwrite(&e, VTX_VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
    e.ram[DATA] = 0x09; /* PE | TS */
    e.ram[DATA + 1] = 0;
    vtx_gprs g = gprs();
    g.rbx = DATA - 8;
    set_gprs(&g);
    rf_launch_exit("lmsw [rbx + 8] setting a host-owned bit", VTX_EXIT_REASON_CR_ACCESS);
    rf_saved_rip("LMSW exit: fault-like", G);
    rf_field("LMSW", VTX_VMCS_EXIT_QUALIFICATION, "exit qualification (EXIT-3)",
             (3u << 4) | (1u << 6) | (0x0009ull << 16));
    rf_field("LMSW", VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 4);
    rf_field("LMSW", VTX_VMCS_GUEST_LINEAR_ADDR, "guest-linear address", DATA);
}

Test(insn_audit, lmsw_without_exit_loads_cr0_low_bits_with_the_mask)
{
    VTX_COVERS("INS-LMSW-1");
    /* TS host-owned with shadow TS = 1: a source with TS = 1 does not exit; the
     * guest-owned MP is loaded, the host-owned TS keeps its real 0, and PE is not
     * cleared by a source with PE = 0. Memory form, then register form.
     *   G+0 0f 01 34 25 00 70 00 00 lmsw [DATA] ; G+8 0f 01 c1 vmcall ;
     *   G+11 0f 01 f0 lmsw ax ; G+14 0f 01 c1 vmcall */
    CODE(0x0f, 0x01, 0x34, 0x25, 0x00, 0x70, 0x00, 0x00, 0x0f, 0x01, 0xc1, 0x0f, 0x01, 0xf0, 0x0f, 0x01, 0xc1);
    ts_shadowed();
    e.ram[DATA] = CR0_TS | CR0_MP; /* PE = 0 */
    e.ram[DATA + 1] = 0;
    rf_launch_exit("lmsw [DATA] without exit, then vmcall", VTX_EXIT_REASON_VMCALL);
    uint64_t cr0 = vt_vmread(&e, VTX_VMCS_GUEST_CR0);
    cr_assert(cr0 & CR0_MP, "LMSW m16 loads the guest-owned MP (CR0 0x%llx)", (unsigned long long)cr0);
    cr_assert_eq(cr0 & CR0_TS, 0, "LMSW leaves the host-owned TS as it was (CR0 0x%llx)", (unsigned long long)cr0);
    cr_assert_eq(cr0 & 1, 1, "LMSW never clears PE");
    /* The register form: MP cleared again, TS still host-owned. */
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, cr0);
    vtx_gprs g = gprs();
    g.rax = CR0_TS;
    set_gprs(&g);
    rf_skip(3);
    rf_resume_exit("lmsw ax without exit, then vmcall", VTX_EXIT_REASON_VMCALL);
    cr0 = vt_vmread(&e, VTX_VMCS_GUEST_CR0);
    cr_assert_eq(cr0 & CR0_MP, 0, "LMSW r16 loads MP = 0 (CR0 0x%llx)", (unsigned long long)cr0);
    cr_assert_eq(cr0 & CR0_TS, 0, "LMSW r16 leaves the host-owned TS (CR0 0x%llx)", (unsigned long long)cr0);
}

Test(insn_audit, lmsw_operand_page_fault_comes_before_the_exit)
{
    VTX_COVERS("INS-LMSW-1");
    /* SDM "Relative Priority of Faults and VM Exits": a fault fetching the operand
     * comes before an exit that depends on it. The operand's page is not present:
     * #PF (exception bitmap) with the address, although the source would exit.
     *   G+0 0f 01 34 25 00 70 00 00 lmsw [DATA] */
    CODE(0x0f, 0x01, 0x34, 0x25, 0x00, 0x70, 0x00, 0x00);
    pages_4k_without(DATA);
    vt_vmwrite(&e, VTX_VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
    e.ram[DATA] = 0x09; /* PE | TS: would exit */
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    rf_launch_exit("lmsw of a not-present page", R_EXC);
    rf_field("#PF", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 14));
    rf_field("#PF", VTX_VMCS_EXIT_INTR_ERROR_CODE, "error code (read, not present)", 0);
    rf_field("#PF", VTX_VMCS_EXIT_QUALIFICATION, "faulting address", DATA);
}

/* ---- INS / OUTS: the guest-linear address (SDM "Guest-Linear Address") ---- */

Test(insn_audit, exit_3_ins_outs_guest_linear_address)
{
    VTX_COVERS("INS-IO-1");
    /* G+0 64 6e outsb dx, fs:[rsi] ; G+2 6c insb [rdi], dx ; G+3 67 6c insb [edi], dx */
    CODE(0x64, 0x6e, 0x6c, 0x67, 0x6c);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_FS_BASE, 0x100000);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ES_BASE, 0x200000); /* ignored in 64-bit mode */
    vtx_gprs g = gprs();
    g.rsi = 0x1234;
    g.rdi = 0x100005678ull;
    g.rdx = 0x3f8;
    set_gprs(&g);
    rf_launch_exit("outsb with FS override", VTX_EXIT_REASON_IO_INSTRUCTION);
    rf_field("outsb", VTX_VMCS_EXIT_QUALIFICATION, "qualification", (0x3f8ull << 16) | (1u << 4));
    rf_field("outsb", VTX_VMCS_GUEST_LINEAR_ADDR, "guest-linear address FS.base + RSI", 0x101234);
    rf_skip(2);
    rf_resume_exit("insb", VTX_EXIT_REASON_IO_INSTRUCTION);
    rf_field("insb", VTX_VMCS_GUEST_LINEAR_ADDR, "guest-linear address ES:RDI (base 0 in 64-bit mode)",
             0x100005678ull);
    rf_skip(1);
    rf_resume_exit("insb with a 32-bit address size", VTX_EXIT_REASON_IO_INSTRUCTION);
    rf_field("insb a32", VTX_VMCS_GUEST_LINEAR_ADDR, "guest-linear address EDI (32-bit address size)", 0x5678);
}

/* ---- MOV DR with DR7.GD = 1 (SDM "Debug Control Register (DR7)", GD) ---- */

static void gd_on(void)
{
    rf_set(VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_DEBUG_CONTROLS);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_DEBUG_CONTROLS);
    vt_vmwrite(&e, VTX_VMCS_GUEST_DR7, 0x2400);
}

Test(insn_audit, exit_4_general_detect_db_exits_with_bd_and_rf)
{
    VTX_COVERS("INS-DR-1");
    /* #DB in the exception bitmap: exit 0, hardware exception 1 (a fault: RIP at
     * the MOV), qualification BD (bit 13), saved RF = 1 (EXIT-8), DR7.GD kept.
     *   G+0 0f 21 f8 mov rax, dr7 */
    CODE(0x0f, 0x21, 0xf8);
    gd_on();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_launch_exit("mov rax, dr7 with DR7.GD", R_EXC);
    rf_field("GD #DB", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, 1));
    rf_field("GD #DB", VTX_VMCS_EXIT_QUALIFICATION, "qualification BD", 1u << 13);
    rf_saved_rip("GD #DB is a fault", G);
    cr_assert(vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS) & RF, "EXIT-8: RF = 1 as a fault would push it");
    rf_field("GD #DB", VTX_VMCS_GUEST_DR7, "saved DR7 (GD not cleared by an exit)", 0x2400);
}

Test(insn_audit, mov_dr_exiting_has_priority_over_general_detect)
{
    VTX_COVERS("INS-DR-1");
    /* SDM "Relative Priority of Faults and VM Exits" and MOV DR in "Instructions That
     * Cause VM Exits Conditionally": the MOV-DR exit wins over the #DB.
     *   G+0 0f 21 f8 mov rax, dr7 */
    CODE(0x0f, 0x21, 0xf8);
    gd_on();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MOV_DR_EXITING);
    rf_launch_exit("mov rax, dr7 with DR7.GD and MOV-DR exiting", VTX_EXIT_REASON_DR_ACCESS);
    rf_field("MOV DR exit", VTX_VMCS_EXIT_QUALIFICATION, "qualification DR7, from DR, RAX", 7 | (1u << 4));
}

Test(insn_audit, general_detect_db_delivered_sets_dr6_bd_and_clears_gd)
{
    VTX_COVERS("INS-DR-1");
    /* Delivered: the handler reads DR6 (BD set; GD was cleared on entry so it may)
     * and the pushed RFLAGS (RF = 1, a fault), RIP pushed = the MOV.
     *   G+0 0f 23 c0 mov dr0, rax
     *   H(1): 0f 21 f0 mov rax, dr6 ; 48 8b 5c 24 10 mov rbx, [rsp + 16] ; 48 8b 0c 24 mov rcx, [rsp] ; vmcall */
    CODE(0x0f, 0x23, 0xc0);
    static const uint8_t h[] = {0x0f, 0x21, 0xf0, 0x48, 0x8b, 0x5c, 0x24, 0x10, 0x48, 0x8b, 0x0c, 0x24, 0x0f, 0x01, 0xc1};
    rf_handler(1, h, sizeof h, false);
    gd_on();
    rf_launch_exit("mov dr0, rax with DR7.GD: #DB delivered, handler vmcall", VTX_EXIT_REASON_VMCALL);
    vtx_gprs g = gprs();
    cr_assert(g.rax & (1u << 13), "DR6.BD set (DR6 0x%llx)", (unsigned long long)g.rax);
    cr_assert(g.rbx & RF, "pushed RFLAGS has RF = 1 (0x%llx)", (unsigned long long)g.rbx);
    cr_assert_eq(g.rcx, G, "pushed RIP is the MOV (a fault)");
    rf_field("GD delivered", VTX_VMCS_GUEST_DR7, "DR7 with GD cleared", 0x400);
}

/* ---- RF in the pushed RFLAGS of a fault (SDM Vol. 3A "Debug Exceptions", RF) ---- */

typedef struct rf_seen {
    bool at_target, after_target, at_handler;
    uint64_t rf_target, rf_after, rf_handler;
} rf_seen;
static rf_seen seen;
static void rf_observer(void *user, const vtx_boundary_report *rep)
{
    (void)user;
    if (rep->rip == G + 2 && !seen.at_target) {
        seen.at_target = true;
        seen.rf_target = rep->rflags & RF;
    } else if (rep->rip == G + 3 && !seen.after_target) {
        seen.after_target = true;
        seen.rf_after = rep->rflags & RF;
    } else if (rep->rip == H(6) && !seen.at_handler) {
        seen.at_handler = true;
        seen.rf_handler = rep->rflags & RF;
    }
}

Test(insn_audit, fault_pushes_rf_1_and_iret_carries_it_to_the_next_instruction)
{
    VTX_COVERS("INS-RF-1");
    /* #UD delivered: the pushed RFLAGS has RF = 1 (the handler runs with RF = 0);
     * the handler skips the ud2 and IRETs: the next instruction starts with RF = 1,
     * which is cleared when it completes.
     *   G+0 0f 0b ud2 ; G+2 90 nop ; G+3 90 nop ; G+4 0f 01 c1 vmcall
     *   H(6): 48 8b 5c 24 10 mov rbx, [rsp + 16] ; 48 83 04 24 02 add qword [rsp], 2 ; 48 cf iretq */
    CODE(0x0f, 0x0b, 0x90, 0x90, 0x0f, 0x01, 0xc1);
    static const uint8_t h[] = {0x48, 0x8b, 0x5c, 0x24, 0x10, 0x48, 0x83, 0x04, 0x24, 0x02, 0x48, 0xcf};
    rf_handler(6, h, sizeof h, false);
    seen = (rf_seen){0};
    vtx_machine_set_observer(e.m, rf_observer, NULL);
    rf_launch_exit("ud2, handler iretq past it, vmcall", VTX_EXIT_REASON_VMCALL);
    cr_assert(gprs().rbx & RF, "the #UD frame's RFLAGS has RF = 1 (0x%llx)", (unsigned long long)gprs().rbx);
    cr_assert(seen.at_handler && seen.rf_handler == 0, "the handler runs with RF = 0");
    cr_assert(seen.at_target && seen.rf_target == RF, "after IRETQ the nop starts with RF = 1");
    cr_assert(seen.after_target && seen.rf_after == 0, "RF is 0 once the nop completed");
}

Test(insn_audit, divide_error_pushes_rf_1)
{
    VTX_COVERS("INS-RF-1");
    /* G+0 f6 f3 div bl (bl = 0)   H(0): 48 8b 5c 24 10 mov rbx, [rsp + 16] ; vmcall */
    CODE(0xf6, 0xf3);
    static const uint8_t h[] = {0x48, 0x8b, 0x5c, 0x24, 0x10, 0x0f, 0x01, 0xc1};
    rf_handler(0, h, sizeof h, false);
    rf_launch_exit("div by 0, handler vmcall", VTX_EXIT_REASON_VMCALL);
    cr_assert(gprs().rbx & RF, "the #DE frame's RFLAGS has RF = 1 (0x%llx)", (unsigned long long)gprs().rbx);
}

Test(insn_audit, int3_trap_pushes_rf_as_it_is)
{
    VTX_COVERS("INS-RF-1");
    /* INT3 is a trap (a software exception): RF is pushed as it is, 0.
     *   G+0 cc int3   H(3): 48 8b 5c 24 10 mov rbx, [rsp + 16] ; vmcall */
    CODE(0xcc);
    static const uint8_t h[] = {0x48, 0x8b, 0x5c, 0x24, 0x10, 0x0f, 0x01, 0xc1};
    rf_handler(3, h, sizeof h, false);
    rf_launch_exit("int3, handler vmcall", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(gprs().rbx & RF, 0, "the #BP frame's RFLAGS has RF = 0");
}

/* ---- The accessed bit of a loaded segment descriptor (SDM Vol. 3A "Segment
 * Descriptors": the processor sets it when it loads the descriptor) ---- */

#define CODE64_NA 0x00AF9A000000FFFFull /* 64-bit code, accessed bit clear */
#define DATA_NA 0x00CF92000000FFFFull   /* data, accessed bit clear */

static void gdt_entry(uint16_t sel, uint64_t d) { rf_poke64(VT_GUEST_GDT + (sel & ~7u), d); }
static void expect_accessed(const char *step, uint16_t sel, uint32_t ar_enc)
{
    cr_assert(rf_mem64(VT_GUEST_GDT + (sel & ~7u)) & (1ull << 40), "%s: the accessed bit of GDT entry 0x%x is set in memory",
              step, sel);
    if (ar_enc)
        cr_assert(vt_vmread(&e, ar_enc) & 1, "%s: the saved access rights of 0x%x have the accessed bit (0x%llx)", step,
                  sel, (unsigned long long)vt_vmread(&e, ar_enc));
}

Test(insn_audit, far_transfers_and_segment_loads_set_the_accessed_bit)
{
    VTX_COVERS("INS-SEG-1");
    /* G+0    ff 2c 25 00 70 00 00   jmp far [DATA]           -> 0x20:G+0x20
     * G+0x20 66 b8 28 00 mov ax, 0x28 ; 8e d8 mov ds, ax ; 8e c0 mov es, ax ; 0f 01 c1 vmcall
     * G+0x30 6a 30 push 0x30 ; 68 40 00 01 00 push G+0x40 ; 48 cb retfq
     * G+0x40 48 8b 04 25 30 40 00 00 mov rax, [GDT + 0x30] ; vmcall   (the guest sees the bit at once)
     * G+0x50 48 89 e0 mov rax, rsp ; 6a 10 push 0x10 ; 50 push rax ; 9c pushfq ; 6a 38 push 0x38 ;
     *        68 70 00 01 00 push G+0x70 ; 48 cf iretq
     * G+0x70 0f 01 c1 vmcall
     * G+0x80 ff 1c 25 08 70 00 00   call far [DATA + 8]      -> 0x40:G+0x90
     * G+0x90 0f 01 c1 vmcall */
    static const uint8_t code[] = {0xff, 0x2c, 0x25, 0x00, 0x70, 0x00, 0x00};
    static const uint8_t c20[] = {0x66, 0xb8, 0x28, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x0f, 0x01, 0xc1};
    static const uint8_t c30[] = {0x6a, 0x30, 0x68, 0x40, 0x00, 0x01, 0x00, 0x48, 0xcb};
    static const uint8_t c50[] = {0x48, 0x89, 0xe0, 0x6a, 0x10, 0x50, 0x9c, 0x6a, 0x38,
                                  0x68, 0x70, 0x00, 0x01, 0x00, 0x48, 0xcf};
    static const uint8_t c80[] = {0xff, 0x1c, 0x25, 0x08, 0x70, 0x00, 0x00};
    vt_code(&e, G, code, sizeof code);
    vt_code(&e, G + 0x20, c20, sizeof c20);
    vt_code(&e, G + 0x30, c30, sizeof c30);
    static const uint8_t c40[] = {0x48, 0x8b, 0x04, 0x25, 0x30, 0x40, 0x00, 0x00, 0x0f, 0x01, 0xc1};
    vt_code(&e, G + 0x40, c40, sizeof c40);
    vt_code(&e, G + 0x50, c50, sizeof c50);
    vt_code(&e, G + 0x70, VMCALL, sizeof VMCALL);
    vt_code(&e, G + 0x80, c80, sizeof c80);
    vt_code(&e, G + 0x90, VMCALL, sizeof VMCALL);
    /* far pointers m16:32 at DATA (jmp) and DATA + 8 (call) */
    uint32_t p0 = G + 0x20, p1 = G + 0x90;
    memcpy(e.ram + DATA, &p0, 4);
    e.ram[DATA + 4] = 0x20;
    memcpy(e.ram + DATA + 8, &p1, 4);
    e.ram[DATA + 12] = 0x40;
    gdt_entry(0x20, CODE64_NA);
    gdt_entry(0x28, DATA_NA);
    gdt_entry(0x30, CODE64_NA);
    gdt_entry(0x38, CODE64_NA);
    gdt_entry(0x40, CODE64_NA);
    vt_vmwrite(&e, VTX_VMCS_GUEST_GDTR_LIMIT, 0x47);

    rf_launch_exit("jmp far; mov ds; mov es; vmcall", VTX_EXIT_REASON_VMCALL);
    rf_field("jmp far", VTX_VMCS_GUEST_CS_SELECTOR, "CS", 0x20);
    expect_accessed("jmp far", 0x20, VTX_VMCS_GUEST_CS_AR);
    expect_accessed("mov ds", 0x28, VTX_VMCS_GUEST_DS_AR);
    cr_assert(vt_vmread(&e, VTX_VMCS_GUEST_ES_AR) & 1, "mov es: ES access rights accessed");

    /* The next VM entry passes its guest-state checks (CS must be accessed). */
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G + 0x30);
    rf_resume_exit("retfq; vmcall", VTX_EXIT_REASON_VMCALL);
    rf_field("retfq", VTX_VMCS_GUEST_CS_SELECTOR, "CS", 0x30);
    expect_accessed("retfq", 0x30, VTX_VMCS_GUEST_CS_AR);
    cr_assert(gprs().rax & (1ull << 40), "the next instruction reads the descriptor with its accessed bit set");

    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G + 0x50);
    rf_resume_exit("iretq; vmcall", VTX_EXIT_REASON_VMCALL);
    rf_field("iretq", VTX_VMCS_GUEST_CS_SELECTOR, "CS", 0x38);
    expect_accessed("iretq", 0x38, VTX_VMCS_GUEST_CS_AR);

    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G + 0x80);
    rf_resume_exit("call far; vmcall", VTX_EXIT_REASON_VMCALL);
    rf_field("call far", VTX_VMCS_GUEST_CS_SELECTOR, "CS", 0x40);
    expect_accessed("call far", 0x40, VTX_VMCS_GUEST_CS_AR);
}

/* ---- Debug registers: breakpoints are not modelled, and arming one must not
 * hand it to Unicorn 2.0.1, which crashes (SIGSEGV) when an instruction
 * breakpoint it armed is hit (docs/probes/unicorn_audit_probe.c) ---- */

Test(insn_audit, armed_instruction_breakpoint_is_stored_not_taken)
{
    /* G+0 48 c7 c0 20 00 01 00 mov rax, G+0x20 ; G+7 0f 23 c0 mov dr0, rax ;
     * G+10 48 c7 c0 01 04 00 00 mov rax, 0x401 ; G+17 0f 23 f8 mov dr7, rax ; G+20 eb 0a jmp G+0x20
     * G+0x20 90 nop ; 0f 21 c3 mov rbx, dr0 ; 0f 21 f9 mov rcx, dr7 ; vmcall */
    CODE(0x48, 0xc7, 0xc0, 0x20, 0x00, 0x01, 0x00, 0x0f, 0x23, 0xc0, 0x48, 0xc7, 0xc0, 0x01, 0x04, 0x00, 0x00, 0x0f,
         0x23, 0xf8, 0xeb, 0x0a);
    static const uint8_t t[] = {0x90, 0x0f, 0x21, 0xc3, 0x0f, 0x21, 0xf9, 0x0f, 0x01, 0xc1};
    vt_code(&e, G + 0x20, t, sizeof t);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_DEBUG_CONTROLS);
    rf_launch_exit("an instruction breakpoint armed on G+0x20, then reached", VTX_EXIT_REASON_VMCALL);
    vtx_gprs g = gprs();
    cr_assert_eq(g.rbx, G + 0x20, "DR0 reads back");
    cr_assert_eq(g.rcx, 0x401, "DR7 reads back");
    rf_field("DR7", VTX_VMCS_GUEST_DR7, "saved DR7", 0x401);
}

/* ---- The I/O permission bit map at CPL 3 (SDM Vol. 1 "I/O Permission Bit Map";
 * Vol. 3C "Relative Priority of Faults and VM Exits": its #GP comes before the
 * I/O VM exit). Unicorn does not check it. ---- */

/* The baseline guest at CPL 3: user pages, CS 0x2b / SS 0x33 with DPL 3, RFLAGS. */
static void cpl3_guest(uint64_t rflags)
{
    uint64_t *pml4 = (uint64_t *)(e.ram + VT_GUEST_CR3), *pdpt = pml4 + 512, *pd = pml4 + 1024;
    pml4[0] |= 4;
    pdpt[0] |= 4;
    for (int i = 0; i < 512; i++)
        pd[i] |= 4;
    gdt_entry(0x28, 0x00AFFB000000FFFFull);
    gdt_entry(0x30, 0x00CFF3000000FFFFull);
    vt_vmwrite(&e, VTX_VMCS_GUEST_GDTR_LIMIT, 0x37);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_SELECTOR, 0x2b);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_AR, 0xA0FB);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_SELECTOR, 0x33);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_AR, 0xC0F3);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, rflags);
}

Test(insn_audit, io_permission_bitmap_gp_comes_before_the_io_exit)
{
    VTX_COVERS("INS-IO-2");
    /* G+0 e6 80 out 0x80, al ; the TSS (0x6000) I/O map base at offset 0x66 */
    CODE(0xe6, 0x80);
    cpl3_guest(0x2);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    e.ram[VT_GUEST_TSS + 0x66] = 0x68; /* the bit map would start at the limit + 1: every port denied */
    rf_launch_exit("CPL 3 > IOPL 0, no bit map inside the TSS limit", R_EXC);
    rf_field("#GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
    rf_field("#GP", VTX_VMCS_EXIT_INTR_ERROR_CODE, "error code", 0);
    rf_saved_rip("#GP before the I/O exit", G);

    vt_vmwrite(&e, VTX_VMCS_GUEST_TR_LIMIT, 0xFF); /* the map covers port 0x80 (bit 0 of byte 0x10): 0 */
    rf_resume_exit("the bit map allows port 0x80", VTX_EXIT_REASON_IO_INSTRUCTION);

    e.ram[VT_GUEST_TSS + 0x68 + 0x10] = 0x01;
    rf_resume_exit("the bit map denies port 0x80", R_EXC);
    rf_field("#GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));

    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x3002); /* IOPL 3: no bit map check */
    rf_resume_exit("CPL 3 with IOPL 3", VTX_EXIT_REASON_IO_INSTRUCTION);
}

/* ---- Single step (RFLAGS.TF): DR6.BS (SDM Vol. 3A "Debug Status Register");
 * a #DB that exits leaves DR6 alone (SDM Vol. 3C "Exit Qualification", #DB). ---- */

Test(insn_audit, single_step_db_delivered_sets_dr6_bs)
{
    /* G+0 9c pushfq ; 48 81 0c 24 00 01 00 00 or qword [rsp], 0x100 ; 9d popfq ; G+10 90 nop
     *   H(1): 0f 21 f0 mov rax, dr6 ; vmcall (an interrupt gate clears TF) */
    CODE(0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90);
    static const uint8_t h[] = {0x0f, 0x21, 0xf0, 0x0f, 0x01, 0xc1};
    rf_handler(1, h, sizeof h, false);
    rf_launch_exit("popfq sets TF, the nop traps, handler vmcall", VTX_EXIT_REASON_VMCALL);
    cr_assert(gprs().rax & (1u << 14), "DR6.BS set (DR6 0x%llx)", (unsigned long long)gprs().rax);
}

Test(insn_audit, single_step_db_that_exits_leaves_dr6)
{
    /* The same trap through the exception bitmap: exit 0 with BS in the qualification;
     * then, TF cleared, the guest reads DR6: BS is still 0.
     *   G+0 pushfq ; or qword [rsp], 0x100 ; popfq ; G+10 90 nop ; G+11 0f 21 f0 mov rax, dr6 ; vmcall */
    CODE(0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90, 0x0f, 0x21, 0xf0, 0x0f, 0x01, 0xc1);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_launch_exit("single-step #DB exits", R_EXC);
    rf_field("#DB", VTX_VMCS_EXIT_QUALIFICATION, "qualification BS", 1u << 14);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS) & ~(uint64_t)RFLAGS_TF);
    rf_resume_exit("read DR6", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(gprs().rax & (1u << 14), 0, "DR6.BS not set by a #DB that exited (DR6 0x%llx)",
                 (unsigned long long)gprs().rax);
}

/* ---- Other side effects the engine performs, shown through the model ---- */

Test(insn_audit, cr0_ts_makes_x87_raise_nm)
{
    /* SDM Vol. 3A "Control Registers", CR0.TS: an x87 instruction raises #NM.
     *   G+0 db e3 fninit */
    CODE(0xdb, 0xe3);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, vt_vmread(&e, VTX_VMCS_GUEST_CR0) | CR0_TS);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 7);
    rf_launch_exit("fninit with CR0.TS", R_EXC);
    rf_field("#NM", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, 7));
    rf_saved_rip("#NM is a fault", G);
}

Test(insn_audit, cr4_tsd_makes_rdtsc_fault_at_cpl3)
{
    /* SDM Vol. 2 RDTSC: #GP(0) at CPL > 0 with CR4.TSD; it comes before RDTSC exiting
     * ("Relative Priority of Faults and VM Exits": privilege-based faults).
     *   G+0 0f 31 rdtsc */
    CODE(0x0f, 0x31);
    cpl3_guest(0x2);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR4, vt_vmread(&e, VTX_VMCS_GUEST_CR4) | 4);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_RDTSC_EXITING);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("rdtsc at CPL 3 with CR4.TSD", R_EXC);
    rf_field("#GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
}

Test(insn_audit, ltr_marks_the_tss_busy)
{
    VTX_COVERS("INS-SEG-1");
    /* SDM Vol. 2 LTR: the TSS descriptor is marked busy.
     *   G+0 66 b8 20 00 mov ax, 0x20 ; 0f 00 d8 ltr ax ; vmcall ; vmcall */
    CODE(0x66, 0xb8, 0x20, 0x00, 0x0f, 0x00, 0xd8, 0x0f, 0x01, 0xc1, 0x0f, 0x01, 0xc1);
    /* 0x20: an available 64-bit TSS (16 bytes) at 0x6800 */
    gdt_entry(0x20, 0x67 | (0x6800ull << 16) | (0x89ull << 40));
    gdt_entry(0x28, 0);
    vt_vmwrite(&e, VTX_VMCS_GUEST_GDTR_LIMIT, 0x2F);
    rf_launch_exit("ltr, vmcall", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq((rf_mem64(VT_GUEST_GDT + 0x20) >> 40) & 0xF, 0xB, "the descriptor is busy (type 11)");
    rf_field("ltr", VTX_VMCS_GUEST_TR_SELECTOR, "TR selector", 0x20);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_TR_AR) & 0xF, 0xB, "TR access rights: busy 64-bit TSS");
    rf_skip(3);
    rf_resume_exit("the next VM entry passes the TR checks", VTX_EXIT_REASON_VMCALL);
}

/* ---- Not modelled: the tests show the current behaviour (docs/unicorn-audit.md) ---- */

Test(insn_audit, alignment_check_at_cpl3_is_ac)
{
    VTX_COVERS("ENG-AC-1");
    /* SDM Vol. 3A "Interrupt 17—Alignment Check Exception (#AC)": CR0.AM, RFLAGS.AC
     * and CPL 3 make a misaligned access a #AC(0) fault. Unicorn 2.0.1 never raises
     * #AC; the engine does (cpu/engine_align.c). kvm-unit-tests' vmx_exception_test
     * (its "Usermode #AC" case) relies on it.
     *   G+0 8b 04 25 01 70 00 00 mov eax, [DATA + 1] ; vmcall */
    CODE(0x8b, 0x04, 0x25, 0x01, 0x70, 0x00, 0x00, 0x0f, 0x01, 0xc1);
    cpl3_guest(0x40002); /* AC */
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, vt_vmread(&e, VTX_VMCS_GUEST_CR0) | (1u << 18)); /* AM */
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 17);
    rf_launch_exit("misaligned load at CPL 3 with AM and AC", R_EXC);
    rf_field("#AC", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 17));
    rf_field("#AC", VTX_VMCS_EXIT_INTR_ERROR_CODE, "error code", 0);
    rf_saved_rip("#AC is a fault: RIP on the load", G);

    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x2); /* AC clear: no check */
    rf_resume_exit("the same load with RFLAGS.AC clear", VTX_EXIT_REASON_VMCALL);
}

Test(insn_audit, alignment_check_spares_aligned_accesses)
{
    VTX_COVERS("ENG-AC-1");
    /*   G+0 8b 04 25 04 70 00 00 mov eax, [DATA + 4] ; vmcall (aligned doubleword) */
    CODE(0x8b, 0x04, 0x25, 0x04, 0x70, 0x00, 0x00, 0x0f, 0x01, 0xc1);
    cpl3_guest(0x40002);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, vt_vmread(&e, VTX_VMCS_GUEST_CR0) | (1u << 18));
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 17);
    rf_launch_exit("aligned load at CPL 3 with AM and AC", VTX_EXIT_REASON_VMCALL);
}

Test(insn_audit, not_offered_umip)
{
    /* CR4.UMIP (bit 11) is not in any built-in profile's IA32_VMX_CR4_FIXED1: the
     * MOV to CR4 that sets it raises #GP(0), so SMSW/SGDT/SIDT/SLDT/STR at CPL > 0
     * never need the UMIP #GP (which Unicorn 2.0.1 does not raise).
     *   G+0 0f 20 e0 mov rax, cr4 ; 48 0d 00 08 00 00 or rax, 0x800 ; 0f 22 e0 mov cr4, rax */
    CODE(0x0f, 0x20, 0xe0, 0x48, 0x0d, 0x00, 0x08, 0x00, 0x00, 0x0f, 0x22, 0xe0);
    cr_assert_eq(e.profile.msr[VTX_CAP_IA32_VMX_CR4_FIXED1] & (1u << 11), 0);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("mov cr4 setting UMIP", R_EXC);
    rf_field("#GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
    rf_saved_rip("#GP at the MOV to CR4", G + 9);
}

Test(insn_audit, mov_dr_exit_has_priority_over_the_cpl_gp)
{
    VTX_COVERS("INS-DR-1");
    /* SDM Vol. 3C "Instructions That Cause VM Exits Conditionally", MOV DR: its VM
     * exits take priority over the #GP based on privilege level (an exception to
     * "Relative Priority of Faults and VM Exits"). Without MOV-DR exiting: #GP(0).
     *   G+0 0f 21 f8 mov rax, dr7 */
    CODE(0x0f, 0x21, 0xf8);
    cpl3_guest(0x2);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MOV_DR_EXITING);
    rf_launch_exit("mov rax, dr7 at CPL 3 with MOV-DR exiting", VTX_EXIT_REASON_DR_ACCESS);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MOV_DR_EXITING);
    rf_resume_exit("mov rax, dr7 at CPL 3 without MOV-DR exiting", R_EXC);
    rf_field("#GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
}

Test(insn_audit, single_step_trap_after_an_instruction_the_model_executes)
{
    /* TF = 1: the #DB trap follows every instruction, including those the model
     * carries out itself (RDTSC here) rather than the engine.
     *   G+0 pushfq ; or qword [rsp], 0x100 ; popfq ; G+10 0f 31 rdtsc ; G+12 90 nop */
    CODE(0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x0f, 0x31, 0x90);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    rf_launch_exit("single-step after rdtsc", R_EXC);
    rf_field("#DB", VTX_VMCS_EXIT_QUALIFICATION, "qualification BS", 1u << 14);
    rf_saved_rip("the trap follows the RDTSC", G + 12);
}

Test(insn_audit, dr4_dr5_ud_with_cr4_de_and_alias_without)
{
    VTX_COVERS("INS-DR-1");
    /* Vol. 2 MOV DR: with CR4.DE = 1 DR4/DR5 are #UD; with CR4.DE = 0 they are DR6/DR7.
     *   G+0 0f 21 e0 mov rax, dr4 ; G+3 0f 23 e8 mov dr5, rax ; G+6 0f 21 f9 mov rcx, dr7 ; vmcall */
    CODE(0x0f, 0x21, 0xe0, 0x0f, 0x23, 0xe8, 0x0f, 0x21, 0xf9, 0x0f, 0x01, 0xc1);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR4, vt_vmread(&e, VTX_VMCS_GUEST_CR4) | 8);
    rf_launch_exit("mov rax, dr4 with CR4.DE", R_EXC);
    rf_field("#UD", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, 6));
    rf_skip(3);
    rf_resume_exit("mov dr5, rax with CR4.DE", R_EXC);
    rf_field("#UD", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, 6));
    rf_saved_rip("#UD at the MOV to DR5", G + 3);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR4, vt_vmread(&e, VTX_VMCS_GUEST_CR4) & ~8ull);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    vtx_gprs g = gprs();
    g.rax = 0;
    set_gprs(&g);
    rf_resume_exit("dr4/dr5 alias dr6/dr7 without CR4.DE", VTX_EXIT_REASON_VMCALL);
    g = gprs();
    cr_assert_eq(g.rax & 0xFFFF0FF0u, 0xFFFF0FF0u, "DR4 reads DR6 (0x%llx)", (unsigned long long)g.rax);
    cr_assert_eq(g.rcx, (g.rax & 0xFFFF23FFu) | 0x400, "DR5 wrote DR7 (0x%llx)", (unsigned long long)g.rcx);
}

Test(insn_audit, injected_db_leaves_dr7_gd)
{
    /* SDM "Vectored-Event Injection": DR6 and DR7 are not modified by event
     * injection, even for vector 1 (a #DB delivered normally clears DR7.GD).
     *   H(1): vmcall */
    rf_vmcall_handler(1, false);
    gd_on();
    rf_inject(INTR(3, 1), 0, 0);
    rf_launch_exit("inject #DB, handler vmcall", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("in the #DB handler", H(1));
    rf_field("injected #DB", VTX_VMCS_GUEST_DR7, "DR7 (GD kept)", 0x2400);
}

Test(insn_audit, decode_classes_of_smsw_and_far_ret)
{
    /* SMSW (register and memory) and far RET are classes of their own: the engine
     * stops before them, and the model corrects SMSW's value and the accessed bit
     * of the CS descriptor a far RET loads right after the instruction. */
    const struct { const char *b; size_t n; unsigned w; vtx_insn_class c; } t[] = {
        {"\x0f\x01\xe3", 3, 64, VTX_IC_SMSW}, {"\x0f\x01\x20", 3, 32, VTX_IC_SMSW},
        {"\xcb", 1, 32, VTX_IC_RET_FAR},      {"\x48\xcb", 2, 64, VTX_IC_RET_FAR},
        {"\xca\x08\x00", 3, 16, VTX_IC_RET_FAR}, {"\xc3", 1, 64, VTX_IC_OTHER},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        vtx_insn in;
        cr_assert_eq(vtx_decode_bytes(t[i].b, t[i].n, t[i].w, 0, &in), 0, "row %zu decodes", i);
        cr_assert_eq(in.cls, t[i].c, "row %zu (%s): class %s, expected %s", i, in.text,
                     vtx_insn_class_name((vtx_insn_class)in.cls), vtx_insn_class_name(t[i].c));
    }
}

/* ---- SYSCALL/SYSRET/SYSENTER/SYSEXIT: Unicorn 2.0.1 skips them (SYSCALL is a
 * no-op, SYSENTER does not see the MSRs); the model carries them out (SDM Vol. 2
 * "SYSCALL", "SYSRET", "SYSENTER", "SYSEXIT") ---- */

/* Guest MSRs through WRMSR without exits (an all-zero MSR bitmap at 0x50000). */
static void msr_bitmap_open(void)
{
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MSR_BITMAPS);
    vt_vmwrite(&e, VTX_VMCS_MSR_BITMAP, 0x50000);
    rf_set(VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_EFER);
}

Test(insn_audit, syscall_and_sysret_transfer_through_the_msrs)
{
    VTX_COVERS("INS-SYS-1");
    /* G+0  b9 82 00 00 c0 mov ecx, LSTAR ; b8 00 22 01 00 mov eax, H(0x20) ; 31 d2 xor edx, edx ; 0f 30 wrmsr
     * G+14 b9 81 00 00 c0 mov ecx, STAR ; 31 c0 xor eax, eax ; ba 08 00 18 00 mov edx, 0x00180008 ; 0f 30 wrmsr
     * G+28 b9 84 00 00 c0 mov ecx, FMASK ; b8 00 02 00 00 mov eax, 0x200 (IF) ; 31 d2 ; 0f 30 wrmsr
     * G+42 fb sti ; 0f 05 syscall ; G+45 0f 01 c1 vmcall
     * H(0x20): 0f 01 c1 vmcall ; 48 0f 07 sysretq */
    CODE(0xb9, 0x82, 0x00, 0x00, 0xc0, 0xb8, 0x00, 0x22, 0x01, 0x00, 0x31, 0xd2, 0x0f, 0x30,
         0xb9, 0x81, 0x00, 0x00, 0xc0, 0x31, 0xc0, 0xba, 0x08, 0x00, 0x18, 0x00, 0x0f, 0x30,
         0xb9, 0x84, 0x00, 0x00, 0xc0, 0xb8, 0x00, 0x02, 0x00, 0x00, 0x31, 0xd2, 0x0f, 0x30,
         0xfb, 0x0f, 0x05, 0x0f, 0x01, 0xc1);
    static const uint8_t h[] = {0x0f, 0x01, 0xc1, 0x48, 0x0f, 0x07};
    vt_code(&e, H(0x20), h, sizeof h);
    msr_bitmap_open();
    vt_vmwrite(&e, VTX_VMCS_GUEST_IA32_EFER, 0xD01); /* SCE LME LMA NXE */
    rf_launch_exit("syscall to LSTAR", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("at LSTAR", H(0x20));
    vtx_gprs g = gprs();
    cr_assert_eq(g.rcx, G + 45, "RCX = the next RIP");
    cr_assert_eq(g.r11 & 0x200, 0x200, "R11 = RFLAGS (IF 1)");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS) & 0x200, 0, "IA32_FMASK cleared IF");
    rf_field("syscall", VTX_VMCS_GUEST_CS_SELECTOR, "CS = STAR[47:32]", 0x08);
    rf_field("syscall", VTX_VMCS_GUEST_CS_AR, "CS access rights", 0xA09B);
    rf_field("syscall", VTX_VMCS_GUEST_SS_SELECTOR, "SS = STAR[47:32] + 8", 0x10);
    /* SYSRETQ back to RCX at CPL 3: CS = STAR[63:48] + 16 | 3, SS = STAR[63:48] + 8 | 3 */
    rf_skip(3);
    cpl3_guest(0x2); /* user pages and the DPL-3 descriptors; the state itself is restored below */
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_SELECTOR, 0x08);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_AR, 0xA09B);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_SELECTOR, 0x10);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_AR, 0xC093);
    rf_resume_exit("sysretq", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("back after the syscall", G + 45);
    rf_field("sysretq", VTX_VMCS_GUEST_CS_SELECTOR, "CS", 0x2b);
    rf_field("sysretq", VTX_VMCS_GUEST_SS_SELECTOR, "SS", 0x23);
    cr_assert_eq((vt_vmread(&e, VTX_VMCS_GUEST_SS_AR) >> 5) & 3, 3, "CPL 3");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS) & 0x200, 0x200, "RFLAGS from R11 (IF 1)");
}

Test(insn_audit, syscall_without_efer_sce_is_ud)
{
    VTX_COVERS("INS-SYS-1");
    /* G+0 0f 05 syscall */
    CODE(0x0f, 0x05);
    msr_bitmap_open();
    vt_vmwrite(&e, VTX_VMCS_GUEST_IA32_EFER, 0xD00); /* SCE = 0 */
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    rf_launch_exit("syscall with SCE = 0", R_EXC);
    rf_field("#UD", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, 6));
    rf_saved_rip("#UD at the SYSCALL", G);
}

Test(insn_audit, sysenter_uses_the_guest_sysenter_msrs)
{
    VTX_COVERS("INS-SYS-1");
    /* G+0 0f 34 sysenter   -> IA32_SYSENTER_EIP = H(0x20): vmcall */
    CODE(0x0f, 0x34);
    rf_vmcall_handler(0x20, false);
    vt_vmwrite(&e, VTX_VMCS_GUEST_IA32_SYSENTER_CS, 0x08);
    vt_vmwrite(&e, VTX_VMCS_GUEST_IA32_SYSENTER_EIP, H(0x20));
    vt_vmwrite(&e, VTX_VMCS_GUEST_IA32_SYSENTER_ESP, 0x8800);
    rf_launch_exit("sysenter", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("at IA32_SYSENTER_EIP", H(0x20));
    rf_field("sysenter", VTX_VMCS_GUEST_RSP, "RSP = IA32_SYSENTER_ESP", 0x8800);
    rf_field("sysenter", VTX_VMCS_GUEST_CS_SELECTOR, "CS", 0x08);
    rf_field("sysenter", VTX_VMCS_GUEST_SS_SELECTOR, "SS = CS + 8", 0x10);
}

Test(insn_audit, interrupt_after_iret_pushes_rf_as_it_is)
{
    VTX_COVERS("INS-RF-1");
    /* SDM Vol. 3A (RF): an interrupt between instructions pushes RF as it is. After
     * the #UD handler's IRETQ, RF = 1 until the next instruction completes: an NMI
     * taken at that boundary pushes RF = 1.
     *   G+0 0f 0b ud2 ; G+2 90 nop ; vmcall
     *   H(6): 48 83 04 24 02 add qword [rsp], 2 ; 48 cf iretq
     *   H(2): 48 8b 5c 24 10 mov rbx, [rsp + 16] ; 48 8b 0c 24 mov rcx, [rsp] ; vmcall */
    CODE(0x0f, 0x0b, 0x90, 0x0f, 0x01, 0xc1);
    static const uint8_t h6[] = {0x48, 0x83, 0x04, 0x24, 0x02, 0x48, 0xcf};
    static const uint8_t h2[] = {0x48, 0x8b, 0x5c, 0x24, 0x10, 0x48, 0x8b, 0x0c, 0x24, 0x0f, 0x01, 0xc1};
    rf_handler(6, h6, sizeof h6, false);
    rf_handler(2, h2, sizeof h2, false);
    vtx_input nmi = {.kind = VTX_INPUT_NMI, .when = vtx_machine_instructions(e.m) + 2};
    cr_assert_eq(vtx_machine_schedule(e.m, &nmi), VTX_OK);
    rf_launch_exit("ud2, iretq, NMI at the next boundary", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("in the NMI handler", H(2) + 9);
    cr_assert_eq(gprs().rcx, G + 2, "the NMI came at the boundary after the IRETQ");
    cr_assert(gprs().rbx & RF, "the NMI frame's RFLAGS has RF = 1 (0x%llx)", (unsigned long long)gprs().rbx);
}
