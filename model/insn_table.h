/*
 * The instruction table (include/vtxref/insn_table.h describes the columns):
 * every instruction SDM Vol. 3C 25.1.2, 25.1.3 and 25.3 (2016 numbering) name,
 * with the model's decisions read from it (insn_exits.c, execute.c, vmentry.c).
 *
 * X(ID, "instruction", COND, GATE_FIELD, GATE_BIT, EXIT_FIELD, EXIT_BIT, REFUSE_FIELD, REFUSE_BIT,
 *   EXIT_REASON, QUAL, INFO, LINEAR, PRE, "SDM section", STATUS, "note")
 * - COND: UNCOND, CONTROL, CONDITION, NO_EXIT (vtx_irow_cond);
 * - a control is FIELD, BIT as in arch.h (PROC2, ENABLE_RDTSCP), or NONE, NONE;
 * - EXIT_REASON: the arch.h name (VTX_EXIT_REASON_<name>), NONE when it never exits;
 * - QUAL: ZERO DISP LINEAR CR DR IO MWAIT; INFO: NONE INS_OUTS INVEPT GDT LDT RDRAND VMCLEAR VMREAD LOADIWKEY;
 * - PRE: the faults with priority over the exit (VTX_IROW_PRE_* names, or combinations below);
 * - STATUS: IMPLEMENTED, ENTRY, INSN, PENDING (vtx_irow_status).
 * Tests: tests/test_insn_rows.c has one Test(insn_rows, ID) per row;
 * scripts/insn-coverage.sh turns them into the coverage `vtxref instructions` prints.
 */
#ifndef VTX_MODEL_INSN_TABLE_H
#define VTX_MODEL_INSN_TABLE_H

#include <vtxref/insn_table.h>
#include "execute.h"

/* "No control", "no exit reason" and the PRE combinations the rows use. */
#define VTX_NONE_NONE 0u
#define VTX_IROW_F_NONE VTX_CTL_PROC
#define VTX_IROW_F_PROC VTX_CTL_PROC
#define VTX_IROW_F_PROC2 VTX_CTL_PROC2
#define VTX_EXIT_REASON_NONE (-1)
#define VTX_IROW_PRE_NONE 0u
#define VTX_IROW_PRE_OSXSAVE_GP (VTX_IROW_PRE_UD_OSXSAVE | VTX_IROW_PRE_GP_CPL)
#define VTX_IROW_PRE_VMX VTX_IROW_PRE_UD_VMX_MODE

/* clang-format off */
#define VTX_INSN_ROWS(X) \
    /* ---- 25.1.2 Instructions That Cause VM Exits Unconditionally ---- */ \
    X(CPUID, "CPUID", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, CPUID, ZERO, NONE, 0, NONE, "25.1.2", IMPLEMENTED, \
      "always exits") \
    X(GETSEC, "GETSEC", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, GETSEC, ZERO, NONE, 0, UD_SMXE, "25.1.2", IMPLEMENTED, \
      "exits when CR4.SMXE = 1; #UD when CR4.SMXE = 0 (25.1.2 footnote)") \
    X(INVD, "INVD", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, INVD, ZERO, NONE, 0, GP_CPL, "25.1.2", IMPLEMENTED, \
      "always exits (#GP(0) at CPL > 0 first)") \
    X(XSETBV, "XSETBV", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, XSETBV, ZERO, NONE, 0, OSXSAVE_GP, "25.1.2", IMPLEMENTED, \
      "always exits (#UD when CR4.OSXSAVE = 0, #GP(0) at CPL > 0 first)") \
    X(VMCALL, "VMCALL", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, VMCALL, ZERO, NONE, 0, NONE, "25.1.2", IMPLEMENTED, \
      "always exits") \
    X(VMCLEAR, "VMCLEAR", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, VMCLEAR, DISP, VMCLEAR, 0, VMX, "25.1.2", IMPLEMENTED, \
      "always exits (#UD first in real-address, virtual-8086 and compatibility mode)") \
    X(VMLAUNCH, "VMLAUNCH", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, VMLAUNCH, ZERO, NONE, 0, VMX, "25.1.2", IMPLEMENTED, \
      "always exits (#UD first in real-address, virtual-8086 and compatibility mode)") \
    X(VMPTRLD, "VMPTRLD", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, VMPTRLD, DISP, VMCLEAR, 0, VMX, "25.1.2", IMPLEMENTED, \
      "always exits (#UD first in real-address, virtual-8086 and compatibility mode)") \
    X(VMPTRST, "VMPTRST", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, VMPTRST, DISP, VMCLEAR, 0, VMX, "25.1.2", IMPLEMENTED, \
      "always exits (#UD first in real-address, virtual-8086 and compatibility mode)") \
    X(VMRESUME, "VMRESUME", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, VMRESUME, ZERO, NONE, 0, VMX, "25.1.2", IMPLEMENTED, \
      "always exits (#UD first in real-address, virtual-8086 and compatibility mode)") \
    X(VMXOFF, "VMXOFF", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, VMXOFF, ZERO, NONE, 0, VMX, "25.1.2", IMPLEMENTED, \
      "always exits (#UD first in real-address, virtual-8086 and compatibility mode)") \
    X(VMXON, "VMXON", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, VMXON, DISP, VMCLEAR, 0, VMX, "25.1.2", IMPLEMENTED, \
      "always exits (#UD first in real-address, virtual-8086 and compatibility mode)") \
    X(INVEPT, "INVEPT", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, INVEPT, DISP, INVEPT, 0, VMX, "25.1.2", IMPLEMENTED, \
      "always exits (#UD first in real-address, virtual-8086 and compatibility mode)") \
    X(INVVPID, "INVVPID", UNCOND, NONE, NONE, NONE, NONE, NONE, NONE, INVVPID, DISP, INVEPT, 0, VMX, "25.1.2", IMPLEMENTED, \
      "always exits (#UD first in real-address, virtual-8086 and compatibility mode)") \
    /* ---- 25.1.3 Instructions That Cause VM Exits Conditionally (and 25.3 where the behaviour changes) ---- */ \
    X(CLTS, "CLTS", CONDITION, NONE, NONE, NONE, NONE, NONE, NONE, CR_ACCESS, CR, NONE, 0, GP_CPL, "25.1.3, 25.3", IMPLEMENTED, \
      "exits if CR0.TS is 1 in both the CR0 guest/host mask and the CR0 read shadow; else clears CR0.TS unless host-owned") \
    X(ENCLS, "ENCLS", CONDITION, NONE, NONE, PROC2, ENCLS_EXITING, PROC2, ENCLS_EXITING, ENCLS, ZERO, NONE, 0, UD_ALWAYS, "25.1.3", ENTRY, \
      "exits with \"enable ENCLS exiting\" and the ENCLS-exiting bitmap bit of EAX; the profile's processor has no SGX: #UD") \
    X(ENCLU, "ENCLU", NO_EXIT, NONE, NONE, NONE, NONE, NONE, NONE, NONE, ZERO, NONE, 0, UD_ALWAYS, "25.3 (SGX)", IMPLEMENTED, \
      "never exits; the profile's processor has no SGX: #UD") \
    X(ENCLV, "ENCLV", CONDITION, NONE, NONE, PROC2, ENCLV_EXITING, PROC2, ENCLV_EXITING, ENCLV, ZERO, NONE, 0, UD_ALWAYS, "25.1.3 (newer SDM)", ENTRY, \
      "exits with \"enable ENCLV exiting\" and the ENCLV-exiting bitmap bit of EAX; no SGX: #UD") \
    X(HLT, "HLT", CONTROL, NONE, NONE, PROC, HLT_EXITING, NONE, NONE, HLT, ZERO, NONE, 0, GP_CPL, "25.1.3", IMPLEMENTED, \
      "exits with HLT exiting; else the HLT activity state") \
    X(IN, "IN", CONDITION, NONE, NONE, PROC, UNCOND_IO_EXITING, NONE, NONE, IO_INSTRUCTION, IO, NONE, 0, IOPERM, "25.1.3", IMPLEMENTED, \
      "exits by the I/O bitmaps when used, else by unconditional I/O exiting; without an exit no device answers (all ones)") \
    X(INS, "INS", CONDITION, NONE, NONE, PROC, UNCOND_IO_EXITING, NONE, NONE, IO_INSTRUCTION, IO, INS_OUTS, 1, IOPERM, "25.1.3", INSN, \
      "exits as IN does; executing it without an exit is refused (no devices); the exit saves the guest-linear address of the memory operand") \
    X(OUT, "OUT", CONDITION, NONE, NONE, PROC, UNCOND_IO_EXITING, NONE, NONE, IO_INSTRUCTION, IO, NONE, 0, IOPERM, "25.1.3", IMPLEMENTED, \
      "exits by the I/O bitmaps when used, else by unconditional I/O exiting; without an exit the write goes nowhere") \
    X(OUTS, "OUTS", CONDITION, NONE, NONE, PROC, UNCOND_IO_EXITING, NONE, NONE, IO_INSTRUCTION, IO, INS_OUTS, 1, IOPERM, "25.1.3", INSN, \
      "exits as OUT does; executing it without an exit is refused (no devices); the exit saves the guest-linear address of the memory operand") \
    X(INVLPG, "INVLPG", CONTROL, NONE, NONE, PROC, INVLPG_EXITING, NONE, NONE, INVLPG, LINEAR, NONE, 0, GP_CPL, "25.1.3", IMPLEMENTED, \
      "exits with INVLPG exiting") \
    X(INVPCID, "INVPCID", CONTROL, PROC2, ENABLE_INVPCID, PROC, INVLPG_EXITING, NONE, NONE, INVPCID, DISP, INVEPT, 0, GP_CPL, "25.1.3, 25.3", IMPLEMENTED, \
      "#UD with \"enable INVPCID\" = 0; exits when it and INVLPG exiting are 1; else the model carries it out (Unicorn 2.0.1 has no INVPCID)") \
    X(LGDT, "LGDT", CONTROL, NONE, NONE, PROC2, DESC_TABLE_EXITING, NONE, NONE, GDTR_IDTR, DISP, GDT, 0, GP_CPL, "25.1.3", IMPLEMENTED, \
      "exits with descriptor-table exiting") \
    X(LIDT, "LIDT", CONTROL, NONE, NONE, PROC2, DESC_TABLE_EXITING, NONE, NONE, GDTR_IDTR, DISP, GDT, 0, GP_CPL, "25.1.3", IMPLEMENTED, \
      "exits with descriptor-table exiting") \
    X(SGDT, "SGDT", CONTROL, NONE, NONE, PROC2, DESC_TABLE_EXITING, NONE, NONE, GDTR_IDTR, DISP, GDT, 0, NONE, "25.1.3", IMPLEMENTED, \
      "exits with descriptor-table exiting") \
    X(SIDT, "SIDT", CONTROL, NONE, NONE, PROC2, DESC_TABLE_EXITING, NONE, NONE, GDTR_IDTR, DISP, GDT, 0, NONE, "25.1.3", IMPLEMENTED, \
      "exits with descriptor-table exiting") \
    X(LLDT, "LLDT", CONTROL, NONE, NONE, PROC2, DESC_TABLE_EXITING, NONE, NONE, LDTR_TR, DISP, LDT, 0, GP_CPL, "25.1.3", IMPLEMENTED, \
      "exits with descriptor-table exiting") \
    X(LTR, "LTR", CONTROL, NONE, NONE, PROC2, DESC_TABLE_EXITING, NONE, NONE, LDTR_TR, DISP, LDT, 0, GP_CPL, "25.1.3", IMPLEMENTED, \
      "exits with descriptor-table exiting") \
    X(SLDT, "SLDT", CONTROL, NONE, NONE, PROC2, DESC_TABLE_EXITING, NONE, NONE, LDTR_TR, DISP, LDT, 0, NONE, "25.1.3", IMPLEMENTED, \
      "exits with descriptor-table exiting") \
    X(STR, "STR", CONTROL, NONE, NONE, PROC2, DESC_TABLE_EXITING, NONE, NONE, LDTR_TR, DISP, LDT, 0, NONE, "25.1.3", IMPLEMENTED, \
      "exits with descriptor-table exiting") \
    X(LMSW, "LMSW", CONDITION, NONE, NONE, NONE, NONE, NONE, NONE, CR_ACCESS, CR, NONE, 1, GP_CPL, "25.1.3, 25.3", INSN, \
      "exits if it would change a host-owned CR0 bit 3:0 against the read shadow; the memory form exits with qualification bit 6 and the operand's guest-linear address") \
    X(LOADIWKEY, "LOADIWKEY", CONDITION, NONE, NONE, NONE, NONE, PROC, TERTIARY_CONTROLS, LOADIWKEY, ZERO, LOADIWKEY, 0, UD_ALWAYS, "25.1.3 (newer SDM)", ENTRY, \
      "exits with the tertiary control \"LOADIWKEY exiting\"; no Key Locker: #UD (Unicorn 2.0.1 cannot decode it: the engine's #UD)") \
    X(MONITOR, "MONITOR", CONTROL, NONE, NONE, PROC, MONITOR_EXITING, NONE, NONE, MONITOR, ZERO, NONE, 0, UD_CPL, "25.1.3", IMPLEMENTED, \
      "exits with MONITOR exiting; else arms nothing (no address-range monitoring)") \
    X(MOV_FROM_CR3, "MOV from CR3", CONTROL, NONE, NONE, PROC, CR3_STORE_EXITING, NONE, NONE, CR_ACCESS, CR, NONE, 0, GP_CPL, "25.1.3", IMPLEMENTED, \
      "exits with CR3-store exiting") \
    X(MOV_FROM_CR8, "MOV from CR8", CONTROL, NONE, NONE, PROC, CR8_STORE_EXITING, NONE, NONE, CR_ACCESS, CR, NONE, 0, GP_CPL, "25.1.3, 25.3", IMPLEMENTED, \
      "exits with CR8-store exiting; else reads the TPR shadow with \"use TPR shadow\"") \
    X(MOV_TO_CR0, "MOV to CR0", CONDITION, NONE, NONE, NONE, NONE, NONE, NONE, CR_ACCESS, CR, NONE, 0, GP_CPL, "25.1.3, 25.3", IMPLEMENTED, \
      "exits if a host-owned bit (CR0 guest/host mask) would differ from the read shadow; else host-owned bits keep their values") \
    X(MOV_TO_CR3, "MOV to CR3", CONDITION, NONE, NONE, PROC, CR3_LOAD_EXITING, NONE, NONE, CR_ACCESS, CR, NONE, 0, GP_CPL, "25.1.3", IMPLEMENTED, \
      "exits with CR3-load exiting unless the value is one of the first CR3-target-count CR3-target values") \
    X(MOV_TO_CR4, "MOV to CR4", CONDITION, NONE, NONE, NONE, NONE, NONE, NONE, CR_ACCESS, CR, NONE, 0, GP_CPL, "25.1.3, 25.3", IMPLEMENTED, \
      "exits if a host-owned bit (CR4 guest/host mask) would differ from the read shadow; else host-owned bits keep their values") \
    X(MOV_TO_CR8, "MOV to CR8", CONTROL, NONE, NONE, PROC, CR8_LOAD_EXITING, NONE, NONE, CR_ACCESS, CR, NONE, 0, GP_CPL, "25.1.3, 25.3", IMPLEMENTED, \
      "exits with CR8-load exiting; else writes the TPR shadow with \"use TPR shadow\"") \
    X(MOV_DR, "MOV DR", CONTROL, NONE, NONE, PROC, MOV_DR_EXITING, NONE, NONE, DR_ACCESS, DR, NONE, 0, NONE, "25.1.3", IMPLEMENTED, \
      "exits with MOV-DR exiting; the exit has priority over #GP at CPL > 0 and over #UD for DR4/DR5 with CR4.DE = 1 " \
      "(25.1.3); then the CPL check and DR7.GD general detect (#DB) (debug_regs.c)") \
    X(MWAIT, "MWAIT", CONTROL, NONE, NONE, PROC, MWAIT_EXITING, NONE, NONE, MWAIT, MWAIT, NONE, 0, UD_CPL, "25.1.3, 25.3", IMPLEMENTED, \
      "exits with MWAIT exiting (qualification bit 0: never armed, the model arms no monitor); else returns at once") \
    X(PAUSE, "PAUSE", CONTROL, NONE, NONE, PROC, PAUSE_EXITING, NONE, NONE, PAUSE, ZERO, NONE, 0, NONE, "25.1.3", IMPLEMENTED, \
      "exits with PAUSE exiting") \
    X(PAUSE_LOOP, "PAUSE (PAUSE-loop exiting)", CONDITION, NONE, NONE, PROC2, PAUSE_LOOP_EXITING, PROC2, PAUSE_LOOP_EXITING, PAUSE, ZERO, NONE, 0, NONE, "25.1.3", ENTRY, \
      "at CPL 0 exits when the PAUSEs of a loop span more than PLE_Window (no PLE_Gap timing model)") \
    X(PCONFIG, "PCONFIG", CONDITION, PROC2, ENABLE_PCONFIG, PROC2, ENABLE_PCONFIG, PROC2, ENABLE_PCONFIG, PCONFIG, ZERO, NONE, 0, NONE, "25.1.3, 25.3 (newer SDM)", ENTRY, \
      "#UD with \"enable PCONFIG\" = 0; with it 1, exits by the PCONFIG-exiting bitmap bit of EAX") \
    X(RDMSR, "RDMSR", CONDITION, NONE, NONE, PROC, MSR_BITMAPS, NONE, NONE, RDMSR, ZERO, NONE, 0, GP_CPL, "25.1.3, 25.3", IMPLEMENTED, \
      "exits without MSR bitmaps, outside their ranges, or by the read bitmap bit; else the TSC reads offset and scaled") \
    X(RDPMC, "RDPMC", CONTROL, NONE, NONE, PROC, RDPMC_EXITING, NONE, NONE, RDPMC, ZERO, NONE, 0, PCE, "25.1.3", INSN, \
      "exits with RDPMC exiting (#GP(0) first at CPL > 0 with CR4.PCE = 0); without an exit refused (no performance counters)") \
    X(RDRAND, "RDRAND", CONTROL, NONE, NONE, PROC2, RDRAND_EXITING, NONE, NONE, RDRAND, ZERO, RDRAND, 0, NONE, "25.1.3", IMPLEMENTED, \
      "exits with RDRAND exiting; else the model returns a deterministic value, CF = 1 (Unicorn 2.0.1 has no RDRAND)") \
    X(RDSEED, "RDSEED", CONTROL, NONE, NONE, PROC2, RDSEED_EXITING, NONE, NONE, RDSEED, ZERO, RDRAND, 0, NONE, "25.1.3", IMPLEMENTED, \
      "exits with RDSEED exiting; else the model returns a deterministic value, CF = 1 (Unicorn 2.0.1 has no RDSEED)") \
    X(RDTSC, "RDTSC", CONTROL, NONE, NONE, PROC, RDTSC_EXITING, NONE, NONE, RDTSC, ZERO, NONE, 0, TSD, "25.1.3, 25.3", IMPLEMENTED, \
      "exits with RDTSC exiting; else the TSC scaled by the TSC multiplier and offset by the TSC offset") \
    X(RDTSCP, "RDTSCP", CONTROL, PROC2, ENABLE_RDTSCP, PROC, RDTSC_EXITING, NONE, NONE, RDTSCP, ZERO, NONE, 0, TSD, "25.1.3, 25.3", IMPLEMENTED, \
      "#UD with \"enable RDTSCP\" = 0; exits with RDTSC exiting; else as RDTSC plus ECX = IA32_TSC_AUX") \
    X(RSM, "RSM", CONDITION, NONE, NONE, NONE, NONE, NONE, NONE, RSM, ZERO, NONE, 0, UD_ALWAYS, "25.1.3", IMPLEMENTED, \
      "exits in SMM only; the model has no SMM: #UD") \
    X(TPAUSE, "TPAUSE", CONTROL, PROC2, USER_WAIT_PAUSE, PROC, RDTSC_EXITING, PROC2, USER_WAIT_PAUSE, TPAUSE, ZERO, RDRAND, 0, NONE, "25.1.3, 25.3 (newer SDM)", ENTRY, \
      "#UD with \"enable user wait and pause\" = 0; with it 1, exits with RDTSC exiting") \
    X(UMWAIT, "UMWAIT", CONTROL, PROC2, USER_WAIT_PAUSE, PROC, RDTSC_EXITING, PROC2, USER_WAIT_PAUSE, UMWAIT, ZERO, RDRAND, 0, NONE, "25.1.3, 25.3 (newer SDM)", ENTRY, \
      "#UD with \"enable user wait and pause\" = 0; with it 1, exits with RDTSC exiting") \
    X(VMREAD, "VMREAD", CONDITION, NONE, NONE, PROC2, VMCS_SHADOWING, PROC2, VMCS_SHADOWING, VMREAD, DISP, VMREAD, 0, VMX, "25.1.3", ENTRY, \
      "exits with VMCS shadowing 0 (or by the VMREAD bitmap)") \
    X(VMWRITE, "VMWRITE", CONDITION, NONE, NONE, PROC2, VMCS_SHADOWING, PROC2, VMCS_SHADOWING, VMWRITE, DISP, VMREAD, 0, VMX, "25.1.3", ENTRY, \
      "exits with VMCS shadowing 0 (or by the VMWRITE bitmap)") \
    X(WBINVD, "WBINVD", CONTROL, NONE, NONE, PROC2, WBINVD_EXITING, NONE, NONE, WBINVD, ZERO, NONE, 0, GP_CPL, "25.1.3", IMPLEMENTED, \
      "exits with WBINVD exiting") \
    X(WBNOINVD, "WBNOINVD", CONTROL, NONE, NONE, PROC2, WBINVD_EXITING, NONE, NONE, WBINVD, ZERO, NONE, 0, GP_CPL, "25.1.3 (newer SDM)", IMPLEMENTED, \
      "exits with WBINVD exiting (reason 54, as WBINVD)") \
    X(WRMSR, "WRMSR", CONDITION, NONE, NONE, PROC, MSR_BITMAPS, NONE, NONE, WRMSR, ZERO, NONE, 0, GP_CPL, "25.1.3, 25.3", IMPLEMENTED, \
      "exits without MSR bitmaps, outside their ranges, or by the write bitmap bit") \
    X(XRSTORS, "XRSTORS", CONDITION, PROC2, ENABLE_XSAVES, NONE, NONE, PROC2, ENABLE_XSAVES, XRSTORS, DISP, VMCLEAR, 0, NONE, "25.1.3, 25.3", ENTRY, \
      "#UD with \"enable XSAVES/XRSTORS\" = 0; with it 1, exits if EDX:EAX & IA32_XSS & the XSS-exiting bitmap is not 0") \
    X(XSAVES, "XSAVES", CONDITION, PROC2, ENABLE_XSAVES, NONE, NONE, PROC2, ENABLE_XSAVES, XSAVES, DISP, VMCLEAR, 0, NONE, "25.1.3, 25.3", ENTRY, \
      "#UD with \"enable XSAVES/XRSTORS\" = 0; with it 1, exits if EDX:EAX & IA32_XSS & the XSS-exiting bitmap is not 0") \
    X(VMFUNC, "VMFUNC", CONDITION, PROC2, ENABLE_VMFUNC, NONE, NONE, NONE, NONE, VMFUNC, ZERO, NONE, 0, UD_EAX64, "25.5.5", IMPLEMENTED, \
      "#UD with \"enable VM functions\" = 0 or EAX >= 64; exits unless EAX names an enabled VM function (enabling one is refused at VM entry)") \
    /* ---- 25.3 Changes to Instruction Behavior (no exit of their own) ---- */ \
    X(IRET, "IRET", NO_EXIT, NONE, NONE, NONE, NONE, NONE, NONE, NONE, ZERO, NONE, 0, NONE, "25.3", IMPLEMENTED, \
      "unblocks NMIs unless NMI exiting = 1 and virtual NMIs = 0; with virtual NMIs it unblocks virtual NMIs") \
    X(MOV_FROM_CR0, "MOV from CR0", NO_EXIT, NONE, NONE, NONE, NONE, NONE, NONE, NONE, ZERO, NONE, 0, GP_CPL, "25.3", IMPLEMENTED, \
      "host-owned bits (CR0 guest/host mask) read from the CR0 read shadow") \
    X(MOV_FROM_CR4, "MOV from CR4", NO_EXIT, NONE, NONE, NONE, NONE, NONE, NONE, NONE, ZERO, NONE, 0, GP_CPL, "25.3", IMPLEMENTED, \
      "host-owned bits (CR4 guest/host mask) read from the CR4 read shadow") \
    X(SMSW, "SMSW", NO_EXIT, NONE, NONE, NONE, NONE, NONE, NONE, NONE, ZERO, NONE, 0, NONE, "25.3", IMPLEMENTED, \
      "host-owned CR0 bits read from the CR0 read shadow (register and memory destinations; carried out by the model)") \
    X(RDPID, "RDPID", NO_EXIT, PROC2, ENABLE_RDTSCP, NONE, NONE, NONE, NONE, NONE, ZERO, NONE, 0, NONE, "25.3 (newer SDM)", IMPLEMENTED, \
      "#UD with \"enable RDTSCP\" = 0; else reads IA32_TSC_AUX (carried out by the model: Unicorn 2.0.1 has no RDPID)") \
    X(UMONITOR, "UMONITOR", NO_EXIT, PROC2, USER_WAIT_PAUSE, NONE, NONE, PROC2, USER_WAIT_PAUSE, NONE, ZERO, NONE, 0, NONE, "25.3 (newer SDM)", ENTRY, \
      "#UD with \"enable user wait and pause\" = 0")
/* clang-format on */

/* Row numbers: VTX_IROW_CPUID, ... */
typedef enum vtx_irow_id {
#define VTX_X_IROW_ID(id, ...) VTX_IROW_##id,
    VTX_INSN_ROWS(VTX_X_IROW_ID)
#undef VTX_X_IROW_ID
    VTX_IROW_COUNT
} vtx_irow_id;

/* The row of a decoded instruction, NULL for one the chapter does not name. */
const vtx_insn_row *vtx_insn_row_of(const vtx_insn *insn);

/* Is the control 1 in the current VMCS? Secondary controls count as 0 when
 * "activate secondary controls" is 0 (SDM16 24.6.2). Mask 0: false. */
bool vtx_insn_row_ctl(const vtx_machine *m, vtx_irow_ctl c);

/* What the row says happens before any exit (SDM16 25.1.1: #UD and privilege
 * faults have priority over VM exits). row may be NULL (an instruction no row
 * names: only MOV to/from CR2 and the like keep their #GP(0) at CPL > 0). */
typedef enum vtx_irow_verdict {
    VTX_IROW_GO = 0,  /* no fault: go on to the exit decision */
    VTX_IROW_UD = 1,  /* #UD */
    VTX_IROW_GP = 2,  /* #GP(0) */
} vtx_irow_verdict;
vtx_irow_verdict vtx_insn_row_pre(const vtx_machine *m, const vtx_insn *insn, const vtx_insn_row *row);

/* Instructions the model carries out itself when they do not exit, because the
 * engine (Unicorn 2.0.1) raises #UD for them (insn_emulate.c). */
typedef enum vtx_emul_outcome {
    VTX_EMUL_DONE = 0,     /* carried out: retire it */
    VTX_EMUL_GP = 1,       /* #GP(0) */
    VTX_EMUL_PF = 2,       /* #PF: error code `error`, linear address `address` */
    VTX_EMUL_UNMAPPED = 3, /* guest-physical `address` is not mapped: stop the run */
} vtx_emul_outcome;
typedef struct vtx_emul {
    vtx_emul_outcome outcome;
    uint32_t error;
    uint64_t address;
} vtx_emul;
/* RDRAND/RDSEED: a deterministic value into the destination, CF = 1. */
void vtx_emulate_rdrand(vtx_machine *m, const vtx_insn *insn);
/* RDPID: IA32_TSC_AUX into the destination. */
void vtx_emulate_rdpid(vtx_machine *m, const vtx_insn *insn);
/* INVPCID (past its #UD gate, privilege check and exit): the operand checks, then
 * the invalidation (SDM Vol. 2 INVPCID). */
vtx_emul vtx_emulate_invpcid(vtx_machine *m, const vtx_insn *insn);

/* VM entry: the first row whose "refuse" control is 1 in these controls (NULL
 * when none), and in why (n bytes) the reason naming every row of that control
 * ("instruction row TPAUSE, instruction row UMWAIT, ...: \"...\" = 1 is not modelled"). */
const vtx_insn_row *vtx_insn_rows_entry_refused(const vtx_vmcs_values *f, char *why, size_t n);

#endif
