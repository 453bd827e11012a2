/*
 * The VM-exit instruction-information field (0x440E) and the displacement /
 * linear-address exit qualifications of instruction exits (catalogue EXIT-3,
 * EXIT-6; SDM Vol. 3 "VM-Exit Instruction Information" and "Exit Qualification
 * for VM Exits Due to Instructions"), one test per SDM table, on real guest code:
 *   - Table "Format of the VM-Exit Instruction-Information Field as Used for INS and OUTS"
 *   - Table "... for INVEPT, INVPCID, and INVVPID"
 *   - Table "... for LIDT, LGDT, SIDT, or SGDT"
 *   - Table "... for LLDT, LTR, SLDT, and STR"
 *   - Table "... for RDRAND, RDSEED, TPAUSE, and UMWAIT"
 *   - Table "... for VMCLEAR, VMPTRLD, VMPTRST, VMXON, XRSTORS, and XSAVES"
 *   - Table "... for VMREAD and VMWRITE"
 * and INVLPG's qualification (the linear address). Guest code at G = 0x10000,
 * listed as "G+offset  bytes  instruction"; 64-bit guest unless the test sets
 * up the 32-bit protected-mode one.
 *
 * The model writes 0 into the bits the SDM leaves undefined (scaling without an
 * index register, the register of an invalid index/base, the memory fields of a
 * register form, the operand size of LGDT & co. in 64-bit mode). Not covered:
 * TPAUSE/UMWAIT, XSAVES/XRSTORS (not modelled).
 */
#include "rules_fixture.h"

TestSuite(insn_info, .init = rf_setup, .fini = rf_teardown);

/* Segment registers and "no register" in the helpers below. */
enum { ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5 };
#define NONE (-1)
/* Address sizes (bits 9:7). */
enum { A16 = 0, A32 = 1, A64 = 2 };

/* The memory-operand bits the tables share: scaling 1:0, address size 9:7,
 * segment 17:15, IndexReg 21:18 / invalid 22, BaseReg 26:23 / invalid 27. */
static uint32_t mem(unsigned scaling, unsigned asize, unsigned seg, int index, int base)
{
    uint32_t v = asize << 7 | seg << 15;
    v |= index == NONE ? 1u << 22 : scaling | (uint32_t)index << 18;
    v |= base == NONE ? 1u << 27 : (uint32_t)base << 23;
    return v;
}

/* Run the guest from `rip` (VMLAUNCH the first time, VMRESUME after) and check an
 * instruction exit: reason, saved RIP, length (EXIT-6), qualification (EXIT-3),
 * instruction information. */
static bool launched;
static void expect(const char *step, uint64_t rip, uint32_t reason, uint32_t len, uint64_t qual, uint32_t info)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rip);
    if (launched)
        rf_resume_exit(step, reason);
    else
        rf_launch_exit(step, reason);
    launched = true;
    rf_saved_rip(step, rip);
    rf_field(step, VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length (EXIT-6)", len);
    rf_field(step, VTX_VMCS_EXIT_QUALIFICATION, "exit qualification (EXIT-3)", qual);
    rf_field(step, VTX_VMCS_EXIT_INSTRUCTION_INFO, "VM-exit instruction information", info);
}

static void set_gpr(uint64_t rax, uint64_t rbx, uint64_t rcx, uint64_t rdx)
{
    vtx_gprs g;
    vtx_machine_get_gprs(e.m, &g);
    g.rax = rax, g.rbx = rbx, g.rcx = rcx, g.rdx = rdx;
    vtx_machine_set_gprs(e.m, &g);
}

static void proc2_on(uint32_t bits)
{
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    rf_set(VTX_VMCS_PROC_CONTROLS2, bits);
}

Test(insn_info, ins_outs)
{
    VTX_COVERS("EXIT-3");
    /* Table "... INS and OUTS" (IA32_VMX_BASIC[54] = 1 on "server"): address size
     * 9:7, segment register 17:15; the qualification is the I/O one (EXIT-3).
     *   G+0 64 6e     fs outsb      (segment FS, 64-bit addresses)
     *   G+2 67 6d     a32 insd      (ES:[EDI], 32-bit addresses) */
    launched = false;
    cr_assert((e.profile.msr[VTX_CAP_IA32_VMX_BASIC] >> 54) & 1);
    CODE(0x64, 0x6e, 0x67, 0x6d);
    set_gpr(0, 0, 0, 0x3f8);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    expect("fs outsb", G, VTX_EXIT_REASON_IO_INSTRUCTION, 2, (0x3f8ull << 16) | (1u << 4),
           A64 << 7 | FS << 15);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INSTRUCTION_INFO), 0x20100);
    expect("a32 insd", G + 2, VTX_EXIT_REASON_IO_INSTRUCTION, 2, (0x3f8ull << 16) | (1u << 4) | (1u << 3) | 3,
           A32 << 7 | ES << 15);
}

Test(insn_info, ins_outs_without_basic_54)
{
    /* Flip: a processor with IA32_VMX_BASIC[54] = 0 does not report INS/OUTS
     * information (the field stays 0); the qualification is unchanged.
     *   G+0 64 6e     fs outsb */
    vt_teardown(&e);
    memset(&e, 0, sizeof e);
    vtx_profile p = *vtx_profile_builtin(1);
    p.msr[VTX_CAP_IA32_VMX_BASIC] &= ~(1ull << 54);
    vt_start_with(&e, &p);
    launched = false;
    CODE(0x64, 0x6e);
    set_gpr(0, 0, 0, 0x80);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    expect("fs outsb, BASIC[54] = 0", G, VTX_EXIT_REASON_IO_INSTRUCTION, 2, (0x80ull << 16) | (1u << 4), 0);
}

Test(insn_info, invept_invvpid_invpcid)
{
    VTX_COVERS("EXIT-3");
    /* Table "... INVEPT, INVPCID, and INVVPID": memory operand bits, bit 10 = 0,
     * Reg2 31:28 = the type register; qualification = the displacement (EXIT-3),
     * for a RIP-relative operand displacement + next RIP (base invalid).
     *   G+0  66 0f 38 80 44 8b 10              invept rax, [rbx+rcx*4+0x10]
     *   G+7  66 45 0f 38 81 4c 24 f8           invvpid r9, [r12-8]   (R12 base: DS, not SS)
     *   G+15 66 48 0f 38 82 15 f6 00 00 00     invpcid rdx, [rip+0xf6]   (= G+15+0x100) */
    launched = false;
    CODE(0x66, 0x0f, 0x38, 0x80, 0x44, 0x8b, 0x10,
         0x66, 0x45, 0x0f, 0x38, 0x81, 0x4c, 0x24, 0xf8,
         0x66, 0x48, 0x0f, 0x38, 0x82, 0x15, 0xf6, 0x00, 0x00, 0x00);
    expect("invept", G, VTX_EXIT_REASON_INVEPT, 7, 0x10, mem(2, A64, DS, 1, 3) | 0u << 28);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INSTRUCTION_INFO), 0x01858102);
    expect("invvpid", G + 7, VTX_EXIT_REASON_INVVPID, 8, 0xFFFFFFFFFFFFFFF8ull, mem(0, A64, DS, NONE, 12) | 9u << 28);
    /* INVPCID exits with "enable INVPCID" and "INVLPG exiting" both 1. */
    proc2_on(VTX_PROC2_ENABLE_INVPCID);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INVLPG_EXITING);
    expect("invpcid rip-relative", G + 15, VTX_EXIT_REASON_INVPCID, 10, G + 15 + 0x100,
           mem(0, A64, DS, NONE, NONE) | 2u << 28);
}

Test(insn_info, descriptor_tables_64)
{
    VTX_COVERS("EXIT-3");
    /* Table "... LIDT, LGDT, SIDT, or SGDT": identity 29:28 (0 SGDT, 1 SIDT, 2 LGDT,
     * 3 LIDT), operand size 11 (undefined in 64-bit mode: 0); qualification = the
     * displacement, sign-extended (EXIT-3). RSP/RBP bases default to SS.
     *   G+0  0f 01 44 24 20             sgdt [rsp+0x20]
     *   G+5  0f 01 5c f5 80             lidt [rbp+rsi*8-0x80]
     *   G+10 65 0f 01 08                sidt gs:[rax]
     *   G+14 0f 01 14 25 34 12 00 00    lgdt [0x1234]   (SIB, no base, no index) */
    launched = false;
    CODE(0x0f, 0x01, 0x44, 0x24, 0x20,
         0x0f, 0x01, 0x5c, 0xf5, 0x80,
         0x65, 0x0f, 0x01, 0x08,
         0x0f, 0x01, 0x14, 0x25, 0x34, 0x12, 0x00, 0x00);
    proc2_on(VTX_PROC2_DESC_TABLE_EXITING);
    expect("sgdt", G, VTX_EXIT_REASON_GDTR_IDTR, 5, 0x20, mem(0, A64, SS, NONE, 4) | 0u << 28);
    expect("lidt", G + 5, VTX_EXIT_REASON_GDTR_IDTR, 5, 0xFFFFFFFFFFFFFF80ull, mem(3, A64, SS, 6, 5) | 3u << 28);
    expect("sidt gs:", G + 10, VTX_EXIT_REASON_GDTR_IDTR, 4, 0, mem(0, A64, GS, NONE, 0) | 1u << 28);
    expect("lgdt abs", G + 14, VTX_EXIT_REASON_GDTR_IDTR, 8, 0x1234, mem(0, A64, DS, NONE, NONE) | 2u << 28);
}

Test(insn_info, ldtr_tr)
{
    VTX_COVERS("EXIT-3");
    /* Table "... LLDT, LTR, SLDT, and STR": identity 29:28 (0 SLDT, 1 STR, 2 LLDT,
     * 3 LTR); register form: bit 10 = 1, Reg1 6:3, qualification 0; memory form:
     * the memory bits, qualification = the displacement (EXIT-3).
     *   G+0  41 0f 00 ca     str r10d
     *   G+4  0f 00 57 40     lldt [rdi+0x40]
     *   G+8  0f 00 d9        ltr cx
     *   G+11 0f 00 c0        sldt eax */
    launched = false;
    CODE(0x41, 0x0f, 0x00, 0xca, 0x0f, 0x00, 0x57, 0x40, 0x0f, 0x00, 0xd9, 0x0f, 0x00, 0xc0);
    proc2_on(VTX_PROC2_DESC_TABLE_EXITING);
    expect("str r10d", G, VTX_EXIT_REASON_LDTR_TR, 4, 0, 1u << 10 | 10u << 3 | 1u << 28);
    expect("lldt [rdi+0x40]", G + 4, VTX_EXIT_REASON_LDTR_TR, 4, 0x40, mem(0, A64, DS, NONE, 7) | 2u << 28);
    expect("ltr cx", G + 8, VTX_EXIT_REASON_LDTR_TR, 3, 0, 1u << 10 | 1u << 3 | 3u << 28);
    expect("sldt eax", G + 11, VTX_EXIT_REASON_LDTR_TR, 3, 0, 1u << 10 | 0u << 3 | 0u << 28);
}

Test(insn_info, rdrand_rdseed)
{
    /* Table "... RDRAND, RDSEED, TPAUSE, and UMWAIT": destination register 6:3,
     * operand size 12:11 (0 16-bit, 1 32-bit, 2 64-bit); qualification 0.
     *   G+0  49 0f c7 f3     rdrand r11
     *   G+4  66 0f c7 f8     rdseed ax
     *   G+8  0f c7 f1        rdrand ecx */
    launched = false;
    CODE(0x49, 0x0f, 0xc7, 0xf3, 0x66, 0x0f, 0xc7, 0xf8, 0x0f, 0xc7, 0xf1);
    proc2_on(VTX_PROC2_RDRAND_EXITING | VTX_PROC2_RDSEED_EXITING);
    expect("rdrand r11", G, VTX_EXIT_REASON_RDRAND, 4, 0, 11u << 3 | 2u << 11);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INSTRUCTION_INFO), 0x1058);
    expect("rdseed ax", G + 4, VTX_EXIT_REASON_RDSEED, 4, 0, 0u << 3 | 0u << 11);
    expect("rdrand ecx", G + 8, VTX_EXIT_REASON_RDRAND, 3, 0, 1u << 3 | 1u << 11);
}

Test(insn_info, vmclear_vmptrld_vmptrst_vmxon)
{
    VTX_COVERS("EXIT-3");
    /* Table "... VMCLEAR, VMPTRLD, VMPTRST, VMXON, XRSTORS, and XSAVES": the memory
     * bits, bit 10 = 0; qualification = the displacement (0 when none) (EXIT-3).
     *   G+0  66 0f c7 70 08     vmclear [rax+8]
     *   G+5  0f c7 34 53        vmptrld [rbx+rdx*2]
     *   G+9  0f c7 7c 24 18     vmptrst [rsp+0x18]
     *   G+14 f3 41 0f c7 30     vmxon [r8] */
    launched = false;
    CODE(0x66, 0x0f, 0xc7, 0x70, 0x08, 0x0f, 0xc7, 0x34, 0x53, 0x0f, 0xc7, 0x7c, 0x24, 0x18,
         0xf3, 0x41, 0x0f, 0xc7, 0x30);
    expect("vmclear", G, VTX_EXIT_REASON_VMCLEAR, 5, 8, mem(0, A64, DS, NONE, 0));
    expect("vmptrld", G + 5, VTX_EXIT_REASON_VMPTRLD, 4, 0, mem(1, A64, DS, 2, 3));
    expect("vmptrst", G + 9, VTX_EXIT_REASON_VMPTRST, 5, 0x18, mem(0, A64, SS, NONE, 4));
    expect("vmxon", G + 14, VTX_EXIT_REASON_VMXON, 5, 0, mem(0, A64, DS, NONE, 8));
}

Test(insn_info, vmread_vmwrite)
{
    VTX_COVERS("EXIT-3");
    /* Table "... VMREAD and VMWRITE": Reg1 6:3 / memory = the r/m operand (VMREAD's
     * destination, VMWRITE's source), bit 10 = 1 for a register, Reg2 31:28 = the
     * field-encoding register; qualification = the displacement (EXIT-3).
     *   G+0  0f 78 d8                       vmread rax, rbx
     *   G+3  0f 78 4e 30                    vmread [rsi+0x30], rcx
     *   G+7  45 0f 79 e5                    vmwrite r12, r13
     *   G+11 42 0f 79 94 cd 00 10 00 00     vmwrite rdx, [rbp+r9*8+0x1000] */
    launched = false;
    CODE(0x0f, 0x78, 0xd8, 0x0f, 0x78, 0x4e, 0x30, 0x45, 0x0f, 0x79, 0xe5,
         0x42, 0x0f, 0x79, 0x94, 0xcd, 0x00, 0x10, 0x00, 0x00);
    expect("vmread reg", G, VTX_EXIT_REASON_VMREAD, 3, 0, 1u << 10 | 0u << 3 | 3u << 28);
    expect("vmread mem", G + 3, VTX_EXIT_REASON_VMREAD, 4, 0x30, mem(0, A64, DS, NONE, 6) | 1u << 28);
    expect("vmwrite reg", G + 7, VTX_EXIT_REASON_VMWRITE, 4, 0, 1u << 10 | 13u << 3 | 12u << 28);
    expect("vmwrite mem", G + 11, VTX_EXIT_REASON_VMWRITE, 9, 0x1000, mem(3, A64, SS, 9, 5) | 2u << 28);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INSTRUCTION_INFO), 0x22A50103);
}

Test(insn_info, invlpg_linear_address)
{
    VTX_COVERS("EXIT-3");
    /* EXIT-3: INVLPG's qualification is the linear address of its operand (no
     * instruction information). In 64-bit mode only FS and GS add a base; a 32-bit
     * address size wraps at 4 GiB.
     *   G+0  0f 01 7c 48 10     invlpg [rax+rcx*2+0x10]
     *   G+5  64 0f 01 3b        invlpg fs:[rbx]
     *   G+9  0f 01 3b           invlpg [rbx]        (DS base ignored)
     *   G+12 67 0f 01 78 10     invlpg [eax+0x10]   (a32) */
    launched = false;
    CODE(0x0f, 0x01, 0x7c, 0x48, 0x10, 0x64, 0x0f, 0x01, 0x3b, 0x0f, 0x01, 0x3b, 0x67, 0x0f, 0x01, 0x78, 0x10);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INVLPG_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_FS_BASE, 0x7000);
    vt_vmwrite(&e, VTX_VMCS_GUEST_DS_BASE, 0x5000);
    set_gpr(0x1000, 0x100, 0x20, 0);
    expect("invlpg [rax+rcx*2+0x10]", G, VTX_EXIT_REASON_INVLPG, 5, 0x1050, 0);
    expect("invlpg fs:[rbx]", G + 5, VTX_EXIT_REASON_INVLPG, 4, 0x7100, 0);
    expect("invlpg [rbx]", G + 9, VTX_EXIT_REASON_INVLPG, 3, 0x100, 0);
    set_gpr(0x1FFFFFFF8ull, 0, 0, 0);
    expect("a32 invlpg [eax+0x10]", G + 12, VTX_EXIT_REASON_INVLPG, 5, 0x8, 0);
}

/* The baseline turned into a 32-bit protected-mode guest (as in test_modes.c):
 * a flat GDT, 32-bit paging with one identity 4-MiB page. */
static void setup_prot32(void)
{
    uint64_t *gdt = (uint64_t *)(e.ram + 0x7000);
    gdt[0] = 0;
    gdt[1] = 0x00CF9B000000FFFFull; /* 0x08: 32-bit code, 4 GiB */
    gdt[2] = 0x00CF93000000FFFFull; /* 0x10: data, 4 GiB */
    gdt[3] = 0x67 | ((uint64_t)VT_GUEST_TSS << 16) | (0x8Bull << 40); /* 0x18: busy 32-bit TSS */
    uint32_t *pd = (uint32_t *)(e.ram + 0x24000);
    pd[0] = 0x83; /* 0-4 MiB -> 0, present, writable, PS */
    rf_clr(VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, 0x80000031);
    vt_vmwrite(&e, VTX_VMCS_CR0_READ_SHADOW, 0x80000031);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR3, 0x24000);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR4, (1u << 4) | VTX_CR4_VMXE);
    vt_vmwrite(&e, VTX_VMCS_CR4_READ_SHADOW, 1u << 4);
    static const struct { uint32_t sel, base, limit, ar; uint16_t s, b, l, a; } segs[] = {
        {VTX_VMCS_GUEST_CS_SELECTOR, VTX_VMCS_GUEST_CS_BASE, VTX_VMCS_GUEST_CS_LIMIT, VTX_VMCS_GUEST_CS_AR, 0x08, 0, 0, 0xC09B},
        {VTX_VMCS_GUEST_SS_SELECTOR, VTX_VMCS_GUEST_SS_BASE, VTX_VMCS_GUEST_SS_LIMIT, VTX_VMCS_GUEST_SS_AR, 0x10, 0, 0, 0xC093},
        {VTX_VMCS_GUEST_DS_SELECTOR, VTX_VMCS_GUEST_DS_BASE, VTX_VMCS_GUEST_DS_LIMIT, VTX_VMCS_GUEST_DS_AR, 0x10, 0, 0, 0xC093},
        {VTX_VMCS_GUEST_ES_SELECTOR, VTX_VMCS_GUEST_ES_BASE, VTX_VMCS_GUEST_ES_LIMIT, VTX_VMCS_GUEST_ES_AR, 0x10, 0, 0, 0xC093},
        {VTX_VMCS_GUEST_FS_SELECTOR, VTX_VMCS_GUEST_FS_BASE, VTX_VMCS_GUEST_FS_LIMIT, VTX_VMCS_GUEST_FS_AR, 0x10, 0, 0, 0xC093},
        {VTX_VMCS_GUEST_GS_SELECTOR, VTX_VMCS_GUEST_GS_BASE, VTX_VMCS_GUEST_GS_LIMIT, VTX_VMCS_GUEST_GS_AR, 0x10, 0, 0, 0xC093},
    };
    for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++) {
        vt_vmwrite(&e, segs[i].sel, segs[i].s);
        vt_vmwrite(&e, segs[i].base, 0);
        vt_vmwrite(&e, segs[i].limit, 0xFFFFFFFF);
        vt_vmwrite(&e, segs[i].ar, segs[i].a);
    }
    vt_vmwrite(&e, VTX_VMCS_GUEST_TR_SELECTOR, 0x18);
    vt_vmwrite(&e, VTX_VMCS_GUEST_TR_BASE, VT_GUEST_TSS);
    vt_vmwrite(&e, VTX_VMCS_GUEST_TR_LIMIT, 0x67);
    vt_vmwrite(&e, VTX_VMCS_GUEST_TR_AR, 0x8B);
    vt_vmwrite(&e, VTX_VMCS_GUEST_GDTR_BASE, 0x7000);
    vt_vmwrite(&e, VTX_VMCS_GUEST_GDTR_LIMIT, 0x1F);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RSP, 0x9000);
}

Test(insn_info, prot32_sizes_and_segment_base)
{
    /* A 32-bit protected-mode guest: address size 1 (32-bit) or 0 (16-bit, 67
     * prefix, [BX+SI]: base BX, index SI, scaling 0); LGDT/SIDT operand size 11 =
     * 1 for 32-bit, 0 with the 66 prefix; INVLPG adds the FS base and wraps at 4 GiB.
     *   G+0  0f 01 53 10                 lgdt [ebx+0x10]
     *   G+4  66 0f 01 53 10              o16 lgdt [ebx+0x10]
     *   G+9  67 0f 01 10                 a16 lgdt [bx+si]
     *   G+13 66 0f 01 4c 24 fc           o16 sidt [esp-4]
     *   G+19 0f c7 34 8d 00 20 00 00     vmptrld [ecx*4+0x2000]
     *   G+27 64 0f 01 78 10              invlpg fs:[eax+0x10] */
    launched = false;
    setup_prot32();
    CODE(0x0f, 0x01, 0x53, 0x10, 0x66, 0x0f, 0x01, 0x53, 0x10, 0x67, 0x0f, 0x01, 0x10,
         0x66, 0x0f, 0x01, 0x4c, 0x24, 0xfc, 0x0f, 0xc7, 0x34, 0x8d, 0x00, 0x20, 0x00, 0x00,
         0x64, 0x0f, 0x01, 0x78, 0x10);
    proc2_on(VTX_PROC2_DESC_TABLE_EXITING);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INVLPG_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_FS_BASE, 0x3000);
    expect("lgdt (32-bit operand)", G, VTX_EXIT_REASON_GDTR_IDTR, 4, 0x10,
           mem(0, A32, DS, NONE, 3) | 1u << 11 | 2u << 28);
    expect("o16 lgdt", G + 4, VTX_EXIT_REASON_GDTR_IDTR, 5, 0x10, mem(0, A32, DS, NONE, 3) | 2u << 28);
    expect("a16 lgdt [bx+si]", G + 9, VTX_EXIT_REASON_GDTR_IDTR, 4, 0,
           mem(0, A16, DS, 6, 3) | 1u << 11 | 2u << 28);
    expect("o16 sidt [esp-4]", G + 13, VTX_EXIT_REASON_GDTR_IDTR, 6, 0xFFFFFFFFFFFFFFFCull,
           mem(0, A32, SS, NONE, 4) | 1u << 28);
    expect("vmptrld [ecx*4+0x2000]", G + 19, VTX_EXIT_REASON_VMPTRLD, 8, 0x2000, mem(2, A32, DS, 1, NONE));
    set_gpr(0xFFFFFFF0u, 0, 0, 0);
    expect("invlpg fs:[eax+0x10]", G + 27, VTX_EXIT_REASON_INVLPG, 5, 0x3000, 0);
}

Test(insn_info, zero_for_exits_without_it)
{
    VTX_COVERS("EXIT-3");
    /* Exits that do not define the field write 0 (EXIT-3 style), also right after
     * an exit that wrote it.   G+0 0f 78 d8 vmread rax, rbx ; G+3 0f a2 cpuid */
    launched = false;
    CODE(0x0f, 0x78, 0xd8, 0x0f, 0xa2);
    expect("vmread", G, VTX_EXIT_REASON_VMREAD, 3, 0, 1u << 10 | 3u << 28);
    expect("cpuid", G + 3, VTX_EXIT_REASON_CPUID, 2, 0, 0);
}
