/*
 * The instruction table (model/insn_table.h), row by row: the #UD gates of the
 * secondary controls (SDM Vol. 3C 2016 25.3 "Changes to Instruction Behavior in
 * VMX Non-Root Operation"; with "activate secondary controls" = 0 every
 * secondary control counts as 0, 24.6.2), instructions the profile's processor
 * lacks (#UD), the reads through the CR0/CR4 read shadows (25.3), and the rows
 * whose control the model cannot carry out: VM entry with it 1 is refused by
 * row name (VTX_ERR_UNSUPPORTED, "instruction row ID"). Rows Unicorn 2.0.1
 * cannot even decode (LOADIWKEY) are checked for what the model does.
 * Guest code at G, snippets ending in VMCALL (0f 01 c1).
 */
#include "insn_rows_fixture.h"

TestSuite(insn_rows, .init = ir_setup, .fini = rf_teardown);

#define TSC_AUX 0xC0000103u

/* ---- #UD gates ---- */

Test(insn_rows, RDTSCP)
{
    /* 25.3: "enable RDTSCP" = 0 -> #UD, also when "activate secondary controls" = 0
     * with the bit set in the secondary field (treated as 0); = 1 with RDTSC
     * exiting -> exit 51 (25.1.3); = 1 without -> runs, ECX = IA32_TSC_AUX.
     *   G+0 0f 01 f9 rdtscp ; G+3 vmcall */
    ir_row("RDTSCP", 51, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xf9, 0x0f, 0x01, 0xc1);
    ir_ud("RDTSCP, enable RDTSCP = 0", G);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_RDTSCP);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    ir_ud("RDTSCP, enable RDTSCP = 1 but secondary controls off", G);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS | VTX_PROC_RDTSC_EXITING);
    ir_exit("RDTSCP with RDTSC exiting", G, 51, 3, 0, 0);
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_RDTSC_EXITING);
    ir_runs("RDTSCP runs", G, G + 3);
}

Test(insn_rows, RDPID)
{
    /* 25.3: RDPID is #UD with "enable RDTSCP" = 0; with it 1 it reads IA32_TSC_AUX.
     *   G+0 0f 30 wrmsr (TSC_AUX <- 0x55) ; G+2 f3 0f c7 fb rdpid rbx ; G+6 vmcall */
    ir_row("RDPID", -1, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x30, 0xf3, 0x0f, 0xc7, 0xfb, 0x0f, 0x01, 0xc1);
    ir_gprs(0x55, TSC_AUX, 0);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MSR_BITMAPS);
    vt_vmwrite(&e, VTX_VMCS_MSR_BITMAP, BITMAPS);
    ir_ud("RDPID, enable RDTSCP = 0", G + 2);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_RDTSCP);
    ir_ud("RDPID, secondary controls off", G + 2);
    ir_proc2(VTX_PROC2_ENABLE_RDTSCP);
    ir_runs("WRMSR, RDPID", G, G + 6);
    cr_assert_eq(ir_regs().rbx, 0x55, "RDPID returns IA32_TSC_AUX");
}

Test(insn_rows, INVPCID)
{
    /* 25.3: "enable INVPCID" = 0 -> #UD (also with secondary controls off); 25.1.3:
     * = 1 with INVLPG exiting -> exit 58 (Table 27-9, Reg2 = RDX, displacement).
     *   G+0 66 0f 38 82 50 10 invpcid rdx, [rax+0x10] ; G+6 vmcall */
    ir_row("INVPCID", 58, VTX_IROW_Q_DISP, VTX_IROW_I_INVEPT, false);
    CODE(0x66, 0x0f, 0x38, 0x82, 0x50, 0x10, 0x0f, 0x01, 0xc1);
    ir_gprs(DATA, 0, 3); /* type 3: all contexts, no descriptor check */
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INVLPG_EXITING);
    ir_ud("INVPCID, enable INVPCID = 0", G);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_INVPCID);
    ir_ud("INVPCID, secondary controls off", G);
    ir_proc2(VTX_PROC2_ENABLE_INVPCID);
    ir_exit("INVPCID with INVLPG exiting", G, 58, 6, 0x10, (2u << 7) | (3u << 15) | (1u << 22) | 2u << 28);
    /* Without the exit the model carries it out (Unicorn 2.0.1 has no INVPCID):
     * type 3 invalidates; type 4 is #GP(0) (SDM Vol. 2 INVPCID). */
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INVLPG_EXITING);
    ir_runs("INVPCID runs", G, G + 6);
    ir_gprs(DATA, 0, 4);
    ir_fault("INVPCID type 4", G, 13);
}

Test(insn_rows, VMFUNC)
{
    /* 25.5.5: VMFUNC is #UD with "enable VM functions" = 0; with it 1 and no VM
     * function enabled it exits (reason 59).  G+0 0f 01 d4 vmfunc */
    ir_row("VMFUNC", 59, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xd4);
    ir_ud("VMFUNC, enable VM functions = 0", G);
    ir_rebuild_allowing(VTX_CTL_PROC2, VTX_PROC2_ENABLE_VMFUNC);
    CODE(0x0f, 0x01, 0xd4);
    ir_proc2(VTX_PROC2_ENABLE_VMFUNC);
    ir_gprs(64, 0, 0);
    ir_ud("VMFUNC, EAX = 64", G);
    ir_gprs(0, 0, 0);
    ir_exit("VMFUNC, no function enabled", G, 59, 3, 0, 0);
}

/* The rows gated by a control the model refuses at VM entry: #UD with it 0,
 * refused by row name with it 1. */
static void gated_refused(const char *id, int32_t reason, vtx_irow_info info, const uint8_t *code, size_t n,
                          uint32_t proc2_bit)
{
    ir_row(id, reason, reason == 63 || reason == 64 ? VTX_IROW_Q_DISP : VTX_IROW_Q_ZERO, info, false);
    rf_code(code, n);
    ir_ud("control 0: #UD", G);
    ir_entry_refused(id, VTX_CTL_PROC2, proc2_bit);
}

Test(insn_rows, XSAVES)
{
    /* 25.3: G+0 0f c7 28 xsaves [rax] */
    static const uint8_t c[] = {0x0f, 0xc7, 0x28};
    ir_gprs(DATA, 0, 0);
    gated_refused("XSAVES", 63, VTX_IROW_I_VMCLEAR, c, sizeof c, VTX_PROC2_ENABLE_XSAVES);
}

Test(insn_rows, XRSTORS)
{
    /* 25.3: G+0 0f c7 18 xrstors [rax] */
    static const uint8_t c[] = {0x0f, 0xc7, 0x18};
    ir_gprs(DATA, 0, 0);
    gated_refused("XRSTORS", 64, VTX_IROW_I_VMCLEAR, c, sizeof c, VTX_PROC2_ENABLE_XSAVES);
}

Test(insn_rows, UMWAIT)
{
    /* 25.3 (newer SDM): G+0 f2 0f ae f0 umwait eax */
    static const uint8_t c[] = {0xf2, 0x0f, 0xae, 0xf0};
    gated_refused("UMWAIT", 67, VTX_IROW_I_RDRAND, c, sizeof c, VTX_PROC2_USER_WAIT_PAUSE);
}

Test(insn_rows, TPAUSE)
{
    /* 25.3 (newer SDM): G+0 66 0f ae f0 tpause eax */
    static const uint8_t c[] = {0x66, 0x0f, 0xae, 0xf0};
    gated_refused("TPAUSE", 68, VTX_IROW_I_RDRAND, c, sizeof c, VTX_PROC2_USER_WAIT_PAUSE);
}

Test(insn_rows, UMONITOR)
{
    /* 25.3 (newer SDM): G+0 f3 0f ae f0 umonitor rax */
    static const uint8_t c[] = {0xf3, 0x0f, 0xae, 0xf0};
    ir_gprs(DATA, 0, 0);
    gated_refused("UMONITOR", -1, VTX_IROW_I_NONE, c, sizeof c, VTX_PROC2_USER_WAIT_PAUSE);
}

Test(insn_rows, PCONFIG)
{
    /* 25.3 (newer SDM): G+0 0f 01 c5 pconfig */
    static const uint8_t c[] = {0x0f, 0x01, 0xc5};
    gated_refused("PCONFIG", 65, VTX_IROW_I_NONE, c, sizeof c, VTX_PROC2_ENABLE_PCONFIG);
}

/* ---- instructions the profile's processor lacks: #UD ---- */

Test(insn_rows, ENCLS)
{
    /* 25.1.3: no SGX -> #UD; "enable ENCLS exiting" = 1 is refused by row name.
     *   G+0 0f 01 cf encls */
    ir_row("ENCLS", 60, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xcf);
    ir_ud("ENCLS without SGX", G);
    ir_entry_refused("ENCLS", VTX_CTL_PROC2, VTX_PROC2_ENCLS_EXITING);
}

Test(insn_rows, ENCLU)
{
    /* No SGX -> #UD.  G+0 0f 01 d7 enclu */
    ir_row("ENCLU", -1, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xd7);
    ir_ud("ENCLU without SGX", G);
}

Test(insn_rows, ENCLV)
{
    /* 25.1.3 (newer SDM): no SGX -> #UD; "enable ENCLV exiting" = 1 refused.  G+0 0f 01 c0 enclv */
    ir_row("ENCLV", 70, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x01, 0xc0);
    ir_ud("ENCLV without SGX", G);
    ir_entry_refused("ENCLV", VTX_CTL_PROC2, VTX_PROC2_ENCLV_EXITING);
}

Test(insn_rows, RSM)
{
    /* 25.1.3: RSM exits only in SMM; the model has no SMM: #UD.  G+0 0f aa rsm */
    ir_row("RSM", 17, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0xaa);
    ir_ud("RSM outside SMM", G);
}

Test(insn_rows, LOADIWKEY)
{
    /* 25.1.3 (newer SDM): no Key Locker on the profile's processor -> #UD (the
     * engine cannot decode it: the #UD comes from its undecodable-instruction
     * path). The tertiary controls ("LOADIWKEY exiting") are refused by row name.
     *   G+0 f3 0f 38 dc c1 loadiwkey xmm0, xmm1 */
    ir_row("LOADIWKEY", 69, VTX_IROW_Q_ZERO, VTX_IROW_I_LOADIWKEY, false);
    CODE(0xf3, 0x0f, 0x38, 0xdc, 0xc1);
    ir_ud("LOADIWKEY without Key Locker", G);
    ir_entry_refused("LOADIWKEY", VTX_CTL_PROC, VTX_PROC_TERTIARY_CONTROLS);
}

/* ---- controls refused at VM entry ---- */

Test(insn_rows, PAUSE_LOOP)
{
    /* 25.1.3: PAUSE-loop exiting (reason 40) needs a PAUSE timing model: refused. */
    ir_row("PAUSE_LOOP", 40, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    ir_entry_refused("PAUSE_LOOP", VTX_CTL_PROC2, VTX_PROC2_PAUSE_LOOP_EXITING);
}

Test(insn_rows, VMREAD)
{
    /* 25.1.3: VMREAD exits with VMCS shadowing 0 (Table 27-14: register form bit 10,
     * Reg1 = RAX, Reg2 31:28 = RCX); shadowing 1 is refused by row name.
     *   G+0 0f 78 c8 vmread rax, rcx */
    ir_row("VMREAD", 23, VTX_IROW_Q_DISP, VTX_IROW_I_VMREAD, false);
    CODE(0x0f, 0x78, 0xc8);
    ir_exit("VMREAD", G, 23, 3, 0, 1u << 10 | 1u << 28);
    vt_teardown(&e);
    ir_setup();
    ir_entry_refused("VMREAD", VTX_CTL_PROC2, VTX_PROC2_VMCS_SHADOWING);
}

Test(insn_rows, VMWRITE)
{
    /* 25.1.3, Table 27-14 (Reg1 = RAX the source, Reg2 = RCX the field).  G+0 0f 79 c8 vmwrite rcx, rax */
    ir_row("VMWRITE", 25, VTX_IROW_Q_DISP, VTX_IROW_I_VMREAD, false);
    CODE(0x0f, 0x79, 0xc8);
    ir_exit("VMWRITE", G, 25, 3, 0, 1u << 10 | 1u << 28);
    vt_teardown(&e);
    ir_setup();
    ir_entry_refused("VMWRITE", VTX_CTL_PROC2, VTX_PROC2_VMCS_SHADOWING);
}

/* ---- reads through the read shadows (25.3) ---- */

Test(insn_rows, MOV_FROM_CR0)
{
    /* 25.3: host-owned bits read from the CR0 read shadow, the rest from CR0.
     *   G+0 0f 20 c0 mov rax, cr0 ; G+3 vmcall */
    ir_row("MOV_FROM_CR0", -1, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x20, 0xc0, 0x0f, 0x01, 0xc1);
    uint64_t cr0 = vt_vmread(&e, VTX_VMCS_GUEST_CR0);
    vt_vmwrite(&e, VTX_VMCS_CR0_GUEST_HOST_MASK, 1u << 3);
    vt_vmwrite(&e, VTX_VMCS_CR0_READ_SHADOW, cr0 | 1u << 3);
    ir_runs("MOV from CR0", G, G + 3);
    cr_assert_eq(ir_regs().rax, cr0 | 1u << 3, "CR0.TS reads 1 from the shadow");
}

Test(insn_rows, SMSW)
{
    /* 25.3: SMSW reads the host-owned bits of CR0[15:0] from the CR0 read shadow, like
     * MOV from CR0 (the real TS is 0, the shadow's is 1).
     *   G+0 48 0f 01 e0 smsw rax ; G+4 vmcall */
    ir_row("SMSW", -1, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x48, 0x0f, 0x01, 0xe0, 0x0f, 0x01, 0xc1);
    uint64_t cr0 = vt_vmread(&e, VTX_VMCS_GUEST_CR0) & ~(uint64_t)(1u << 3);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, cr0);
    vt_vmwrite(&e, VTX_VMCS_CR0_GUEST_HOST_MASK, 1u << 3);
    vt_vmwrite(&e, VTX_VMCS_CR0_READ_SHADOW, cr0 | 1u << 3);
    ir_runs("SMSW", G, G + 4);
    cr_assert_eq(ir_regs().rax & 0xFFFF, (cr0 | 1u << 3) & 0xFFFF, "SMSW reads CR0.TS = 1 from the read shadow");
}

Test(insn_rows, MOV_FROM_CR4)
{
    /* 25.3: host-owned bits read from the CR4 read shadow.  G+0 0f 20 e0 mov rax, cr4 */
    ir_row("MOV_FROM_CR4", -1, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x0f, 0x20, 0xe0, 0x0f, 0x01, 0xc1);
    uint64_t cr4 = vt_vmread(&e, VTX_VMCS_GUEST_CR4);
    vt_vmwrite(&e, VTX_VMCS_CR4_GUEST_HOST_MASK, VTX_CR4_VMXE | 1u << 7);
    vt_vmwrite(&e, VTX_VMCS_CR4_READ_SHADOW, 1u << 7);
    ir_runs("MOV from CR4", G, G + 3);
    cr_assert_eq(ir_regs().rax, (cr4 & ~(uint64_t)VTX_CR4_VMXE) | 1u << 7, "VMXE hidden, PGE from the shadow");
}

Test(insn_rows, IRET)
{
    /* 25.3: IRET with "virtual NMIs" = 1 removes virtual-NMI blocking; with NMI
     * exiting = 1 and virtual NMIs = 0 it leaves blocking by NMI alone (VNMI-4, VNMI-5).
     *   G+0 48 89 e0 mov rax, rsp ; 6a 10 push 0x10 ; 50 push rax ; 6a 02 push 2 ;
     *   6a 08 push 8 ; 68 11 00 01 00 push G+17 ; 48 cf iretq ; G+17 vmcall */
    ir_row("IRET", -1, VTX_IROW_Q_ZERO, VTX_IROW_I_NONE, false);
    CODE(0x48, 0x89, 0xe0, 0x6a, 0x10, 0x50, 0x6a, 0x02, 0x6a, 0x08, 0x68, 0x11, 0x00, 0x01, 0x00, 0x48, 0xcf,
         0x0f, 0x01, 0xc1);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    ir_runs("IRET, virtual NMIs", G, G + 17);
    rf_saved("IRET removed virtual-NMI blocking", G + 17, 0, ACT_ACTIVE);
    rf_clr(VTX_VMCS_PIN_CONTROLS, VTX_PIN_VIRTUAL_NMIS);
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RSP, VT_GUEST_RSP);
    ir_runs("IRET, NMI exiting without virtual NMIs", G, G + 17);
    rf_saved("IRET left blocking by NMI", G + 17, IS_NMI, ACT_ACTIVE);
}

/* ---- the PRE column: faults with priority over the exit (25.1.1) ---- */

/* The baseline guest moved to CPL 3: DPL-3 code and data, user pages (as test_rules_injection.c's INJ-10). */
static void to_cpl3(void)
{
    uint64_t *gdt = (uint64_t *)(e.ram + VT_GUEST_GDT);
    gdt[5] = 0x00CFF3000000FFFFull; /* 0x28: DPL-3 data */
    gdt[6] = 0x00AFFB000000FFFFull; /* 0x30: DPL-3 64-bit code */
    vt_vmwrite(&e, VTX_VMCS_GUEST_GDTR_LIMIT, 0x37);
    uint64_t *pt = (uint64_t *)(e.ram + VT_GUEST_CR3);
    pt[0] |= 4, pt[512] |= 4;
    for (int i = 0; i < 512; i++)
        pt[1024 + i] |= 4;
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_SELECTOR, 0x33);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_AR, 0xA0FB);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_SELECTOR, 0x2B);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_AR, 0xC0F3);
}

TestSuite(insn_pre, .init = ir_setup, .fini = rf_teardown);

Test(insn_pre, cpl3_faults_come_before_the_exits)
{
    /* 25.1.1: privilege faults and #UD have priority over instruction exits. At
     * CPL 3 with every exiting control on: HLT, INVD, INVPCID -> #GP(0); MONITOR
     * and MWAIT -> #UD (25.3: MWAIT "always causes #UD if CPL > 0"); RDTSC with
     * CR4.TSD -> #GP(0); while CPUID and PAUSE, which no privilege check guards,
     * still exit.
     *   G+0 f4 hlt ; G+1 0f 08 invd ; G+3 0f 01 c8 monitor ; G+6 0f 01 c9 mwait ;
     *   G+9 0f 31 rdtsc ; G+11 66 0f 38 82 10 invpcid rdx, [rax] ; G+16 0f a2 cpuid ; G+18 f3 90 pause ;
     *   G+20 0f 33 rdpmc (#GP(0) with CR4.PCE = 0) */
    CODE(0xf4, 0x0f, 0x08, 0x0f, 0x01, 0xc8, 0x0f, 0x01, 0xc9, 0x0f, 0x31, 0x66, 0x0f, 0x38, 0x82, 0x10, 0x0f, 0xa2,
         0xf3, 0x90, 0x0f, 0x33);
    to_cpl3();
    ir_gprs(DATA, 0, 3);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING | VTX_PROC_MONITOR_EXITING | VTX_PROC_MWAIT_EXITING |
                                       VTX_PROC_RDTSC_EXITING | VTX_PROC_INVLPG_EXITING | VTX_PROC_PAUSE_EXITING |
                                       VTX_PROC_RDPMC_EXITING);
    ir_proc2(VTX_PROC2_ENABLE_INVPCID);
    rf_set(VTX_VMCS_GUEST_CR4, 1u << 2); /* CR4.TSD */
    ir_fault("HLT at CPL 3", G, 13);
    ir_fault("INVD at CPL 3", G + 1, 13);
    ir_fault("MONITOR at CPL 3", G + 3, 6);
    ir_fault("MWAIT at CPL 3", G + 6, 6);
    ir_fault("RDTSC at CPL 3 with CR4.TSD", G + 9, 13);
    ir_fault("INVPCID at CPL 3", G + 11, 13);
    ir_exit("CPUID at CPL 3", G + 16, 10, 2, 0, 0);
    ir_exit("PAUSE at CPL 3", G + 18, 40, 2, 0, 0);
    ir_fault("RDPMC at CPL 3 with CR4.PCE = 0", G + 20, 13);
    rf_set(VTX_VMCS_GUEST_CR4, 1u << 8); /* CR4.PCE */
    ir_exit("RDPMC at CPL 3 with CR4.PCE = 1", G + 20, 15, 2, 0, 0);
}

Test(insn_pre, vmx_instructions_ud_in_compatibility_mode)
{
    /* VMX instruction reference (SDM Vol. 3C 30.3): the VMX instructions other than
     * VMCALL raise #UD in compatibility mode before the non-root VM exit; VMCALL
     * exits in every mode (25.1.2). The baseline guest with CS.L = 0, CS.D = 1.
     *   G+0 66 0f c7 30 vmclear [eax] ; G+4 0f 01 c1 vmcall */
    CODE(0x66, 0x0f, 0xc7, 0x30, 0x0f, 0x01, 0xc1);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_AR, 0xC09B);
    ir_gprs(DATA, 0, 0);
    ir_ud("VMCLEAR in compatibility mode", G);
    ir_exit("VMCALL in compatibility mode", G + 4, 18, 3, 0, 0);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_AR, 0xA09B);
    ir_exit("VMCLEAR in 64-bit mode", G, 19, 4, 0, (2u << 7) | (3u << 15) | (1u << 22));
}

Test(insn_pre, io_permission_faults_come_before_io_exits)
{
    /* 25.1.1: a #GP(0) from the I/O permission check (CPL > IOPL and the TSS I/O
     * bitmap denying the port) has priority over the I/O exit, even with
     * unconditional I/O exiting; with IOPL 3, or a map that permits the port, the
     * instruction exits (Table 27-5 qualification).   G+0 e4 80 in al, 0x80 */
    CODE(0xe4, 0x80, 0x0f, 0x01, 0xc1);
    to_cpl3();
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    uint16_t map_base = 0x68;
    memcpy(e.ram + VT_GUEST_TSS + 0x66, &map_base, 2); /* the map starts right after the 104-byte TSS */
    vt_vmwrite(&e, VTX_VMCS_GUEST_TR_LIMIT, 0x67);     /* ... and lies beyond TR's limit: every port denied */
    ir_fault("IN at CPL 3, IOPL 0, no I/O bitmap", G, 13);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x3002); /* IOPL 3 */
    ir_exit("IN at CPL 3, IOPL 3", G, 30, 2, 1u << 3 | 1u << 6 | 0x80ull << 16, 0);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x2);
    vt_vmwrite(&e, VTX_VMCS_GUEST_TR_LIMIT, 0x68 + 0x80 / 8 + 1); /* the map's bytes for port 0x80 are 0 */
    ir_exit("IN at CPL 3, the map permits port 0x80", G, 30, 2, 1u << 3 | 1u << 6 | 0x80ull << 16, 0);
    e.ram[VT_GUEST_TSS + 0x68 + 0x80 / 8] = 1; /* bit for port 0x80 */
    ir_fault("IN at CPL 3, the map denies port 0x80", G, 13);
}
