/*
 * The instruction table (model/insn_table.h), row by row: SDM Vol. 3C (2016)
 * 25.1.2 "Instructions That Cause VM Exits Unconditionally" and the exiting half
 * of 25.1.3 "... Conditionally". Each test is named after its row, checks the
 * row's data against the SDM (exit reason, qualification and instruction-
 * information layouts, address fields: 27.2.1, 27.2.4) and runs a tiny guest:
 * the exit with the control on (reason, saved RIP, length EXIT-6, qualification
 * EXIT-3, instruction information), and no exit with it off (EXIT-7: RIP at the
 * instruction for the exit, after it otherwise). Listed as
 * "G+offset bytes instruction"; every snippet ends in VMCALL (0f 01 c1).
 * The #UD gates, refusals and changed behaviours are in test_insn_rows_gates.c.
 */
#include "insn_rows_fixture.h"

TestSuite(insn_rows, .init = ir_setup, .fini = rf_teardown);

/* Instruction information of a [rax+disp] operand in 64-bit mode (Tables 27-9 ...
 * 27-13): address size 64 (9:7 = 2), segment DS (17:15 = 3), no index (bit 22),
 * base RAX (26:23 = 0). */
#define MEM_RAX ((2u << 7) | (3u << 15) | (1u << 22))

/* ---- 25.1.2: unconditional ---- */

Test(insn_rows, CPUID)
{
    /* 25.1.2: G+0 0f a2 cpuid */
    ir_row("CPUID", 10, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0xa2);
    ir_exit("CPUID", G, 10, 2, 0, 0);
}

Test(insn_rows, GETSEC)
{
    /* 25.1.2 and its footnote: GETSEC exits when CR4.SMXE = 1, #UD when 0 (the #UD
     * has priority, 25.1.1).  G+0 0f 37 getsec */
    ir_row("GETSEC", 11, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x37);
    ir_ud("GETSEC with CR4.SMXE = 0", G);
    rf_set(VTX_VMCS_GUEST_CR4, VTX_CR4_SMXE);
    ir_exit("GETSEC with CR4.SMXE = 1", G, 11, 2, 0, 0);
}

Test(insn_rows, INVD)
{
    /* 25.1.2: G+0 0f 08 invd */
    ir_row("INVD", 13, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x08);
    ir_exit("INVD", G, 13, 2, 0, 0);
}

Test(insn_rows, XSETBV)
{
    /* 25.1.2: XSETBV exits; #UD first when CR4.OSXSAVE = 0.  G+0 0f 01 d1 xsetbv */
    ir_row("XSETBV", 55, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xd1);
    ir_ud("XSETBV with CR4.OSXSAVE = 0", G);
    rf_set(VTX_VMCS_GUEST_CR4, 1u << 18);
    ir_exit("XSETBV", G, 55, 3, 0, 0);
}

Test(insn_rows, VMCALL)
{
    /* 25.1.2: G+0 0f 01 c1 vmcall */
    ir_row("VMCALL", 18, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xc1);
    ir_exit("VMCALL", G, 18, 3, 0, 0);
}

Test(insn_rows, VMCLEAR)
{
    /* 25.1.2, Table 27-13: G+0 66 0f c7 70 10 vmclear [rax+0x10] */
    ir_row("VMCLEAR", 19, VTX_IROW_Q_DISP, VTX_IROW_I_VMCLEAR, false);
    CODE(0x66, 0x0f, 0xc7, 0x70, 0x10);
    ir_exit("VMCLEAR", G, 19, 5, 0x10, MEM_RAX);
}

Test(insn_rows, VMLAUNCH)
{
    /* 25.1.2: G+0 0f 01 c2 vmlaunch */
    ir_row("VMLAUNCH", 20, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xc2);
    ir_exit("VMLAUNCH", G, 20, 3, 0, 0);
}

Test(insn_rows, VMPTRLD)
{
    /* 25.1.2, Table 27-13: G+0 0f c7 70 10 vmptrld [rax+0x10] */
    ir_row("VMPTRLD", 21, VTX_IROW_Q_DISP, VTX_IROW_I_VMCLEAR, false);
    CODE(0x0f, 0xc7, 0x70, 0x10);
    ir_exit("VMPTRLD", G, 21, 4, 0x10, MEM_RAX);
}

Test(insn_rows, VMPTRST)
{
    /* 25.1.2, Table 27-13: G+0 0f c7 78 10 vmptrst [rax+0x10] */
    ir_row("VMPTRST", 22, VTX_IROW_Q_DISP, VTX_IROW_I_VMCLEAR, false);
    CODE(0x0f, 0xc7, 0x78, 0x10);
    ir_exit("VMPTRST", G, 22, 4, 0x10, MEM_RAX);
}

Test(insn_rows, VMRESUME)
{
    /* 25.1.2: G+0 0f 01 c3 vmresume */
    ir_row("VMRESUME", 24, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xc3);
    ir_exit("VMRESUME", G, 24, 3, 0, 0);
}

Test(insn_rows, VMXOFF)
{
    /* 25.1.2: G+0 0f 01 c4 vmxoff */
    ir_row("VMXOFF", 26, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xc4);
    ir_exit("VMXOFF", G, 26, 3, 0, 0);
}

Test(insn_rows, VMXON)
{
    /* 25.1.2, Table 27-13: G+0 f3 0f c7 70 10 vmxon [rax+0x10] */
    ir_row("VMXON", 27, VTX_IROW_Q_DISP, VTX_IROW_I_VMCLEAR, false);
    CODE(0xf3, 0x0f, 0xc7, 0x70, 0x10);
    ir_exit("VMXON", G, 27, 5, 0x10, MEM_RAX);
}

Test(insn_rows, INVEPT)
{
    /* 25.1.2, Table 27-9 (Reg2 31:28 = RDX): G+0 66 0f 38 80 50 10 invept rdx, [rax+0x10] */
    ir_row("INVEPT", 50, VTX_IROW_Q_DISP, VTX_IROW_I_INVEPT, false);
    CODE(0x66, 0x0f, 0x38, 0x80, 0x50, 0x10);
    ir_exit("INVEPT", G, 50, 6, 0x10, MEM_RAX | 2u << 28);
}

Test(insn_rows, INVVPID)
{
    /* 25.1.2, Table 27-9: G+0 66 0f 38 81 50 10 invvpid rdx, [rax+0x10] */
    ir_row("INVVPID", 53, VTX_IROW_Q_DISP, VTX_IROW_I_INVEPT, false);
    CODE(0x66, 0x0f, 0x38, 0x81, 0x50, 0x10);
    ir_exit("INVVPID", G, 53, 6, 0x10, MEM_RAX | 2u << 28);
}

/* ---- 25.1.3: by one control (on: exit; off: the instruction runs) ---- */

Test(insn_rows, HLT)
{
    /* 25.1.3: HLT exiting. G+0 f4 hlt. Off: the guest halts (HLT-1), RIP after it. */
    ir_row("HLT", 12, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0xf4);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    ir_exit("HLT exiting", G, 12, 1, 0, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    vtx_insn_result r;
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    rf_check_stopped("HLT without HLT exiting", ir_go(&r), &r);
}

Test(insn_rows, INVLPG)
{
    /* 25.1.3, qualification = the linear address: G+0 0f 01 38 invlpg [rax] ; G+3 vmcall */
    ir_row("INVLPG", 14, VTX_IROW_Q_LINEAR, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0x38, 0x0f, 0x01, 0xc1);
    ir_gprs(0x1234, 0, 0);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INVLPG_EXITING);
    ir_exit("INVLPG exiting", G, 14, 3, 0x1234, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INVLPG_EXITING);
    ir_runs("INVLPG runs", G, G + 3);
}

Test(insn_rows, MONITOR)
{
    /* 25.1.3: G+0 0f 01 c8 monitor ; G+3 vmcall */
    ir_row("MONITOR", 39, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xc8, 0x0f, 0x01, 0xc1);
    ir_gprs(DATA, 0, 0);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_EXITING);
    ir_exit("MONITOR exiting", G, 39, 3, 0, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_EXITING);
    ir_runs("MONITOR runs", G, G + 3);
}

Test(insn_rows, MWAIT)
{
    /* 25.1.3, 25.3: G+0 0f 01 c9 mwait ; G+3 vmcall. The qualification's bit 0
     * ("monitoring hardware armed", newer SDM) is 0: the model arms no monitor. */
    ir_row("MWAIT", 36, VTX_IROW_Q_MWAIT, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xc9, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MWAIT_EXITING);
    ir_exit("MWAIT exiting", G, 36, 3, 0, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MWAIT_EXITING);
    ir_runs("MWAIT returns", G, G + 3);
}

Test(insn_rows, PAUSE)
{
    /* 25.1.3: G+0 f3 90 pause ; G+2 vmcall */
    ir_row("PAUSE", 40, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0xf3, 0x90, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_PAUSE_EXITING);
    ir_exit("PAUSE exiting", G, 40, 2, 0, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_PAUSE_EXITING);
    ir_runs("PAUSE runs", G, G + 2);
}

Test(insn_rows, RDPMC)
{
    /* 25.1.3: G+0 0f 33 rdpmc. Without the exit the model refuses it by row name
     * (no performance counters), never running it as outside VMX. */
    ir_row("RDPMC", 15, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x33, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_RDPMC_EXITING);
    ir_exit("RDPMC exiting", G, 15, 2, 0, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_RDPMC_EXITING);
    ir_refused("RDPMC without an exit", G, "RDPMC");
}

Test(insn_rows, RDRAND)
{
    /* 25.1.3, Table 27-12 (register 6:3 = EAX, operand size 12:11 = 32-bit):
     *   G+0 0f c7 f0 rdrand eax ; G+3 vmcall */
    ir_row("RDRAND", 57, VTX_IROW_Q_ZERO, VTX_IROW_I_RDRAND, false);
    CODE(0x0f, 0xc7, 0xf0, 0x0f, 0x01, 0xc1);
    ir_proc2(VTX_PROC2_RDRAND_EXITING);
    ir_exit("RDRAND exiting", G, 57, 3, 0, 1u << 11);
    ir_proc2(0);
    ir_gprs(0, 0, 0);
    ir_runs("RDRAND runs", G, G + 3);
    cr_assert(vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS) & VTX_RFLAGS_CF, "RDRAND: CF = 1, a value was returned");
}

Test(insn_rows, RDSEED)
{
    /* 25.1.3, Table 27-12: G+0 0f c7 f9 rdseed ecx ; G+3 vmcall */
    ir_row("RDSEED", 61, VTX_IROW_Q_ZERO, VTX_IROW_I_RDRAND, false);
    CODE(0x0f, 0xc7, 0xf9, 0x0f, 0x01, 0xc1);
    ir_proc2(VTX_PROC2_RDSEED_EXITING);
    ir_exit("RDSEED exiting", G, 61, 3, 0, 1u << 3 | 1u << 11);
    ir_proc2(0);
    ir_runs("RDSEED runs", G, G + 3);
    cr_assert(vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS) & VTX_RFLAGS_CF, "RDSEED: CF = 1, a value was returned");
}

Test(insn_rows, RDTSC)
{
    /* 25.1.3, 25.3: RDTSC exiting; off, the TSC offset is added (EDX:EAX >= offset).
     *   G+0 0f 31 rdtsc ; G+2 vmcall */
    ir_row("RDTSC", 16, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x31, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_RDTSC_EXITING);
    ir_exit("RDTSC exiting", G, 16, 2, 0, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_RDTSC_EXITING);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_TSC_OFFSETTING);
    vt_vmwrite(&e, VTX_VMCS_TSC_OFFSET, 1ull << 40);
    ir_runs("RDTSC runs, offset", G, G + 2);
    vtx_gprs g = ir_regs();
    cr_assert_geq((g.rdx << 32) | (uint32_t)g.rax, 1ull << 40, "25.3: RDTSC adds the TSC offset");
}

Test(insn_rows, WBINVD)
{
    /* 25.1.3: G+0 0f 09 wbinvd ; G+2 vmcall */
    ir_row("WBINVD", 54, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x09, 0x0f, 0x01, 0xc1);
    ir_proc2(VTX_PROC2_WBINVD_EXITING);
    ir_exit("WBINVD exiting", G, 54, 2, 0, 0);
    ir_proc2(0);
    ir_runs("WBINVD runs", G, G + 2);
}

Test(insn_rows, WBNOINVD)
{
    /* 25.1.3 (newer SDM): WBNOINVD exits by WBINVD exiting with reason 54.
     *   G+0 f3 0f 09 wbnoinvd ; G+3 vmcall */
    ir_row("WBNOINVD", 54, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0xf3, 0x0f, 0x09, 0x0f, 0x01, 0xc1);
    ir_proc2(VTX_PROC2_WBINVD_EXITING);
    ir_exit("WBNOINVD exiting", G, 54, 3, 0, 0);
    ir_proc2(0);
    ir_runs("WBNOINVD runs", G, G + 3);
}

Test(insn_rows, MOV_DR)
{
    /* 25.1.3, Table 27-4 (DR 2:0, direction 4, register 11:8):
     *   G+0 0f 23 f8 mov dr7, rax ; G+3 0f 21 c1 mov rcx, dr0 ; G+6 vmcall */
    ir_row("MOV_DR", 29, VTX_IROW_Q_DR, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x23, 0xf8, 0x0f, 0x21, 0xc1, 0x0f, 0x01, 0xc1);
    ir_gprs(0x400, 0, 0);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MOV_DR_EXITING);
    ir_exit("MOV to DR7", G, 29, 3, 7, 0);
    ir_exit("MOV from DR0", G + 3, 29, 3, 0 | 1u << 4 | 1u << 8, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MOV_DR_EXITING);
    ir_runs("MOV DR runs", G, G + 6);
}

/* ---- 25.1.3: descriptor-table exiting (Tables 27-10, 27-11) ---- */

/* Table 27-10 identity 29:28: 0 SGDT, 1 SIDT, 2 LGDT, 3 LIDT; [rax+0x10], operand size bit 11 = 0 in 64-bit mode. */
static void gdt_row(const char *id, uint8_t modrm, uint32_t identity, bool runs)
{
    ir_row(id, 46, VTX_IROW_Q_DISP, VTX_IROW_I_GDT, false);
    /* G+0 0f 01 /r [rax+0x10] ; G+4 vmcall. DATA+0x10 holds the guest's own GDTR/IDTR. */
    const uint8_t code[] = {0x0f, 0x01, modrm, 0x10, 0x0f, 0x01, 0xc1};
    rf_code(code, sizeof code);
    ir_gprs(DATA, 0, 0);
    bool idt = identity & 1;
    uint16_t limit = (uint16_t)vt_vmread(&e, idt ? VTX_VMCS_GUEST_IDTR_LIMIT : VTX_VMCS_GUEST_GDTR_LIMIT);
    uint64_t base = vt_vmread(&e, idt ? VTX_VMCS_GUEST_IDTR_BASE : VTX_VMCS_GUEST_GDTR_BASE);
    memcpy(e.ram + DATA + 0x10, &limit, 2);
    memcpy(e.ram + DATA + 0x12, &base, 8);
    ir_proc2(VTX_PROC2_DESC_TABLE_EXITING);
    ir_exit(id, G, 46, 4, 0x10, MEM_RAX | identity << 28);
    ir_proc2(0);
    if (runs)
        ir_runs(id, G, G + 4);
}
Test(insn_rows, SGDT) { gdt_row("SGDT", 0x40, 0, true); } /* 25.1.3: 0f 01 40 10 sgdt [rax+0x10] */
Test(insn_rows, SIDT) { gdt_row("SIDT", 0x48, 1, true); } /* 25.1.3: 0f 01 48 10 sidt [rax+0x10] */
Test(insn_rows, LGDT) { gdt_row("LGDT", 0x50, 2, true); } /* 25.1.3: 0f 01 50 10 lgdt [rax+0x10] */
Test(insn_rows, LIDT) { gdt_row("LIDT", 0x58, 3, true); } /* 25.1.3: 0f 01 58 10 lidt [rax+0x10] */

/* Table 27-11: register form (bit 10, Reg1 6:3 = AX), identity 29:28: 0 SLDT, 1 STR, 2 LLDT, 3 LTR. */
static void ldt_row(const char *id, uint8_t modrm, uint32_t identity, bool runs)
{
    ir_row(id, 47, VTX_IROW_Q_DISP, VTX_IROW_I_LDT, false);
    /* G+0 0f 00 /r ax ; G+3 vmcall */
    const uint8_t code[] = {0x0f, 0x00, modrm, 0x0f, 0x01, 0xc1};
    rf_code(code, sizeof code);
    ir_gprs(0, 0, 0);
    ir_proc2(VTX_PROC2_DESC_TABLE_EXITING);
    ir_exit(id, G, 47, 3, 0, 1u << 10 | identity << 28);
    ir_proc2(0);
    if (runs)
        ir_runs(id, G, G + 3);
}
Test(insn_rows, SLDT) { ldt_row("SLDT", 0xc0, 0, true); } /* 25.1.3: 0f 00 c0 sldt eax */
Test(insn_rows, STR) { ldt_row("STR", 0xc8, 1, true); }   /* 25.1.3: 0f 00 c8 str eax */
Test(insn_rows, LLDT) { ldt_row("LLDT", 0xd0, 2, true); } /* 25.1.3: 0f 00 d0 lldt ax (null selector) */
Test(insn_rows, LTR)
{
    /* 25.1.3: 0f 00 d8 ltr ax (only the exit: Unicorn 2.0.1 loads a null
     * selector into TR where hardware raises #GP(0), an engine limit outside VMX). */
    ldt_row("LTR", 0xd8, 3, false);
}
