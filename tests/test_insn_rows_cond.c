/*
 * The instruction table (model/insn_table.h), row by row: the rows of SDM
 * Vol. 3C (2016) 25.1.3 "Instructions That Cause VM Exits Conditionally" whose
 * exit depends on more than one control bit (CR guest/host masks and read
 * shadows, CR3-target values, I/O and MSR bitmaps), with the behaviour 25.3
 * gives them when they do not exit. Qualification layouts: Table 27-3 (CR
 * access), 27-5 (I/O); instruction information: Table 27-8 (INS/OUTS).
 * Guest code at G, each snippet ending in VMCALL (0f 01 c1).
 */
#include "insn_rows_fixture.h"

TestSuite(insn_rows, .init = ir_setup, .fini = rf_teardown);

#define CR0_TS (1u << 3)
#define CR0_MP (1u << 1)
#define CR4_PGE (1u << 7)

/* ---- control-register accesses (exit reason 28, Table 27-3) ---- */

Test(insn_rows, CLTS)
{
    /* 25.1.3: CLTS exits when CR0.TS is 1 in both the guest/host mask and the read
     * shadow (qualification: CR0, access type 2 = CLTS); 25.3: with the mask bit and
     * shadow 0 it runs and leaves the host-owned CR0.TS alone.  G+0 0f 06 clts ; G+2 vmcall */
    ir_row("CLTS", 28, VTX_IROW_Q_CR, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x06, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_GUEST_CR0, CR0_TS);
    vt_vmwrite(&e, VTX_VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
    rf_set(VTX_VMCS_CR0_READ_SHADOW, CR0_TS);
    ir_exit("CLTS, TS host-owned and shadow 1", G, 28, 2, 2u << 4, 0);
    rf_clr(VTX_VMCS_CR0_READ_SHADOW, CR0_TS);
    ir_runs("CLTS, shadow 0", G, G + 2);
    cr_assert(vt_vmread(&e, VTX_VMCS_GUEST_CR0) & CR0_TS, "25.3: CLTS leaves a host-owned CR0.TS set");
    vt_vmwrite(&e, VTX_VMCS_CR0_GUEST_HOST_MASK, 0);
    ir_runs("CLTS, TS guest-owned", G, G + 2);
    cr_assert_not(vt_vmread(&e, VTX_VMCS_GUEST_CR0) & CR0_TS, "CLTS clears a guest-owned CR0.TS");
}

Test(insn_rows, LMSW)
{
    /* 25.1.3: LMSW exits when it would give a host-owned bit of 3:0 a value other
     * than the read shadow's (qualification: CR0, type 3 = LMSW, source 31:16).
     *   G+0 0f 01 f0 lmsw ax ; G+3 vmcall   (register form; the memory form: test_insn_audit.c) */
    ir_row("LMSW", 28, VTX_IROW_Q_CR, VTX_IROW_I_NONE, true);
    CODE(0x0f, 0x01, 0xf0, 0x0f, 0x01, 0xc1);
    vt_vmwrite(&e, VTX_VMCS_CR0_GUEST_HOST_MASK, CR0_MP);
    ir_gprs(0x31 | CR0_MP, 0, 0); /* PE ET NE + MP; the shadow has MP = 0 */
    ir_exit("LMSW sets a host-owned MP", G, 28, 3, 3u << 4 | (uint64_t)(0x31 | CR0_MP) << 16, 0);
    ir_gprs(0x31, 0, 0);
    ir_runs("LMSW keeps MP as the shadow has it", G, G + 3);
}

Test(insn_rows, MOV_TO_CR0)
{
    /* 25.1.3: MOV to CR0 exits when a host-owned bit would differ from the shadow;
     * 25.3: else host-owned bits keep their values.  G+0 0f 22 c0 mov cr0, rax ; G+3 vmcall */
    ir_row("MOV_TO_CR0", 28, VTX_IROW_Q_CR, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x22, 0xc0, 0x0f, 0x01, 0xc1);
    uint64_t cr0 = vt_vmread(&e, VTX_VMCS_GUEST_CR0);
    vt_vmwrite(&e, VTX_VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
    ir_gprs(cr0 | CR0_TS, 0, 0);
    ir_exit("MOV to CR0 changes a host-owned bit", G, 28, 3, 0, 0);
    ir_gprs(cr0, 0, 0);
    ir_runs("MOV to CR0 matching the shadow", G, G + 3);
}

Test(insn_rows, MOV_TO_CR4)
{
    /* 25.1.3, 25.3, as MOV_TO_CR0 for CR4 (qualification CR 4).  G+0 0f 22 e0 mov cr4, rax */
    ir_row("MOV_TO_CR4", 28, VTX_IROW_Q_CR, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x22, 0xe0, 0x0f, 0x01, 0xc1);
    uint64_t cr4 = vt_vmread(&e, VTX_VMCS_GUEST_CR4);
    vt_vmwrite(&e, VTX_VMCS_CR4_GUEST_HOST_MASK, CR4_PGE);
    ir_gprs(cr4 | CR4_PGE, 0, 0);
    ir_exit("MOV to CR4 changes a host-owned bit", G, 28, 3, 4, 0);
    ir_gprs(cr4, 0, 0);
    ir_runs("MOV to CR4 matching the shadow", G, G + 3);
}

Test(insn_rows, MOV_TO_CR3)
{
    /* 25.1.3: CR3-load exiting, unless the value is one of the first CR3-target-count
     * target values.  G+0 0f 22 d8 mov cr3, rax ; G+3 vmcall */
    ir_row("MOV_TO_CR3", 28, VTX_IROW_Q_CR, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x22, 0xd8, 0x0f, 0x01, 0xc1);
    ir_gprs(VT_GUEST_CR3, 0, 0);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_LOAD_EXITING);
    ir_exit("CR3-load exiting", G, 28, 3, 3, 0);
    vt_vmwrite(&e, VTX_VMCS_CR3_TARGET_VALUE0, VT_GUEST_CR3);
    vt_vmwrite(&e, VTX_VMCS_CR3_TARGET_COUNT, 1);
    ir_runs("a CR3-target value", G, G + 3);
}

Test(insn_rows, MOV_FROM_CR3)
{
    /* 25.1.3: CR3-store exiting (type 1 = MOV from CR).  G+0 0f 20 d9 mov rcx, cr3 */
    ir_row("MOV_FROM_CR3", 28, VTX_IROW_Q_CR, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x20, 0xd9, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_STORE_EXITING);
    ir_exit("CR3-store exiting", G, 28, 3, 3 | 1u << 4 | 1u << 8, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_STORE_EXITING);
    ir_runs("MOV from CR3 runs", G, G + 3);
    cr_assert_eq(ir_regs().rcx, VT_GUEST_CR3);
}

Test(insn_rows, MOV_TO_CR8)
{
    /* 25.1.3: CR8-load exiting.  G+0 44 0f 22 c0 mov cr8, rax ; G+4 vmcall */
    ir_row("MOV_TO_CR8", 28, VTX_IROW_Q_CR, VTX_IROW_I_NONE, false);
    CODE(0x44, 0x0f, 0x22, 0xc0, 0x0f, 0x01, 0xc1);
    ir_gprs(0, 0, 0);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR8_LOAD_EXITING);
    ir_exit("CR8-load exiting", G, 28, 4, 8, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR8_LOAD_EXITING);
    ir_runs("MOV to CR8 runs", G, G + 4);
}

Test(insn_rows, MOV_FROM_CR8)
{
    /* 25.1.3: CR8-store exiting.  G+0 44 0f 20 c0 mov rax, cr8 ; G+4 vmcall */
    ir_row("MOV_FROM_CR8", 28, VTX_IROW_Q_CR, VTX_IROW_I_NONE, false);
    CODE(0x44, 0x0f, 0x20, 0xc0, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR8_STORE_EXITING);
    ir_exit("CR8-store exiting", G, 28, 4, 8 | 1u << 4, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR8_STORE_EXITING);
    ir_runs("MOV from CR8 runs", G, G + 4);
}

/* ---- I/O instructions (exit reason 30, Table 27-5; INS/OUTS Table 27-8) ---- */

Test(insn_rows, IN)
{
    /* 25.1.3: unconditional I/O exiting (qualification: size 0 = 1 byte, IN (bit 3),
     * immediate operand (bit 6), port 31:16). Without the exit no device answers.
     *   G+0 e4 80 in al, 0x80 ; G+2 vmcall */
    ir_row("IN", 30, VTX_IROW_Q_IO, VTX_IROW_I_NONE, false);
    CODE(0xe4, 0x80, 0x0f, 0x01, 0xc1);
    ir_gprs(0, 0, 0);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    ir_exit("IN exits", G, 30, 2, 1u << 3 | 1u << 6 | 0x80ull << 16, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    ir_runs("IN runs", G, G + 2);
    cr_assert_eq(ir_regs().rax & 0xFF, 0xFF, "no device: the bus reads all ones");
}

Test(insn_rows, OUT)
{
    /* 25.1.3: G+0 e6 80 out 0x80, al ; G+2 vmcall */
    ir_row("OUT", 30, VTX_IROW_Q_IO, VTX_IROW_I_NONE, false);
    CODE(0xe6, 0x80, 0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    ir_exit("OUT exits", G, 30, 2, 1u << 6 | 0x80ull << 16, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    ir_runs("OUT runs", G, G + 2);
}

Test(insn_rows, INS)
{
    /* 25.1.3: string (bit 4), port in DX; Table 27-8: address size 64 (9:7 = 2).
     * Without an exit the model refuses it by row name (no devices).
     *   G+0 6c insb ; G+1 vmcall */
    ir_row("INS", 30, VTX_IROW_Q_IO, VTX_IROW_I_INS_OUTS, true);
    CODE(0x6c, 0x0f, 0x01, 0xc1);
    rf_gprs_rax(0, 0, 0x3f8);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    ir_exit("INSB exits", G, 30, 1, 1u << 3 | 1u << 4 | 0x3f8ull << 16, 2u << 7);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    ir_refused("INSB without an exit", G, "INS");
}

Test(insn_rows, OUTS)
{
    /* 25.1.3, Table 27-8 (segment DS 17:15 = 3).  G+0 6e outsb ; G+1 vmcall */
    ir_row("OUTS", 30, VTX_IROW_Q_IO, VTX_IROW_I_INS_OUTS, true);
    CODE(0x6e, 0x0f, 0x01, 0xc1);
    rf_gprs_rax(0, 0, 0x3f8);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    ir_exit("OUTSB exits", G, 30, 1, 1u << 4 | 0x3f8ull << 16, 2u << 7 | 3u << 15);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    ir_refused("OUTSB without an exit", G, "OUTS");
}

/* ---- RDMSR / WRMSR (exit reasons 31, 32) ---- */

Test(insn_rows, RDMSR)
{
    /* 25.1.3: without MSR bitmaps RDMSR exits; with zeroed bitmaps it runs, and 25.3:
     * the TSC reads with the TSC offset.  G+0 0f 32 rdmsr ; G+2 vmcall */
    ir_row("RDMSR", 31, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x32, 0x0f, 0x01, 0xc1);
    ir_gprs(0, 0x10, 0);
    ir_exit("RDMSR without MSR bitmaps", G, 31, 2, 0, 0);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MSR_BITMAPS | VTX_PROC_TSC_OFFSETTING);
    vt_vmwrite(&e, VTX_VMCS_MSR_BITMAP, BITMAPS);
    vt_vmwrite(&e, VTX_VMCS_TSC_OFFSET, 1ull << 40);
    ir_runs("RDMSR of the TSC", G, G + 2);
    vtx_gprs g = ir_regs();
    cr_assert_geq((g.rdx << 32) | (uint32_t)g.rax, 1ull << 40, "25.3: RDMSR of the TSC adds the offset");
}

Test(insn_rows, WRMSR)
{
    /* 25.1.3: G+0 0f 30 wrmsr ; G+2 vmcall (IA32_TSC_AUX) */
    ir_row("WRMSR", 32, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x30, 0x0f, 0x01, 0xc1);
    ir_gprs(7, 0xC0000103u, 0);
    ir_exit("WRMSR without MSR bitmaps", G, 32, 2, 0, 0);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MSR_BITMAPS);
    vt_vmwrite(&e, VTX_VMCS_MSR_BITMAP, BITMAPS);
    ir_runs("WRMSR of IA32_TSC_AUX", G, G + 2);
}
