/*
 * The MSR areas and the guest's MSRs: SDM Vol. 3 "Loading MSRs" (VM entries),
 * "VM-Entry Failures During or After Loading Guest State" (catalogue
 * ENT-BASIC-5: exit reason 34 | 0x80000000, qualification = 1-based entry
 * number, launch state not changed), "Saving MSRs" and "Loading MSRs" (VM
 * exits), and RDMSR/WRMSR in VMX non-root operation without a VM exit (the MSR
 * bitmaps: "use MSR bitmaps" = 1 with a zeroed bitmap page, so nothing exits).
 * Guest code at G = 0x10000 on the "server" baseline (64-bit guest).
 */
#include "rules_fixture.h"

#define ENTRY_AREA 0x40000u /* VM-entry MSR-load area */
#define STORE_AREA 0x41000u /* VM-exit MSR-store area */
#define EXIT_AREA 0x42000u  /* VM-exit MSR-load area */
#define BITMAP 0x43000u     /* MSR bitmaps, all zero: no RDMSR/WRMSR exits */
#define BIG_AREA 0x50000u   /* an area longer than the recommended maximum */

#define MSR_TSC_AUX 0xC0000103u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_EFER 0xC0000080u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u
#define MSR_UNKNOWN 0xC0001FFFu /* no such MSR; inside the MSR-bitmap range, so a zero bitmap lets it through */
#define R_MSR_LOAD (VTX_EXIT_REASON_MSR_LOADING | VTX_EXIT_REASON_ENTRY_FAILURE)

TestSuite(msr, .init = rf_setup, .fini = rf_teardown);

/* Write entry i of an MSR area: index (31:0), reserved half (63:32), value (127:64). */
static void entry(uint64_t area, unsigned i, uint32_t index, uint32_t reserved, uint64_t value)
{
    uint64_t lo = (uint64_t)reserved << 32 | index;
    rf_poke64(area + 16u * i, lo);
    rf_poke64(area + 16u * i + 8, value);
}

static void entry_list(unsigned count)
{
    vt_vmwrite(&e, VTX_VMCS_ENTRY_MSR_LOAD_ADDR, ENTRY_AREA);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_MSR_LOAD_COUNT, count);
}

/* "use MSR bitmaps" = 1 with an all-zero bitmap: RDMSR and WRMSR do not exit. */
static void no_msr_exits(void)
{
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MSR_BITMAPS);
    vt_vmwrite(&e, VTX_VMCS_MSR_BITMAP, BITMAP);
}

static vtx_gprs gprs(void)
{
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    return g;
}

/* VMLAUNCH and expect the MSR-loading failure exit with the entry number and check. */
static void expect_load_fail(const char *step, uint32_t n, vtx_check check)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == R_MSR_LOAD && r.exit_qualification == n,
              "%s: expected VM-entry failure exit 34 | 0x80000000 with qualification %u, got %s (%s)", step, n, got,
              vtx_status_name(st));
    cr_assert(r.check == check, "%s: expected check %s, got %s (%s)", step, vtx_check_name(check),
              vtx_check_name(r.check), r.why);
    cr_assert_str_eq(r.rule, "ENT-BASIC-5", "%s: the check cites ENT-BASIC-5", step);
    rf_field(step, VTX_VMCS_EXIT_REASON, "exit-reason field (ENT-BASIC-5)", R_MSR_LOAD);
    rf_field(step, VTX_VMCS_EXIT_QUALIFICATION, "exit qualification (1-based entry number)", n);
    /* ENT-BASIC-5: the launch state is not changed; the machine is back in root operation. */
    vtx_vmcs_status vs;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, VT_VMCS_PA, &vs), VTX_OK);
    cr_assert_eq(vs.launch, VTX_LAUNCH_CLEAR, "%s: launch state stays clear after exit 34 (ENT-BASIC-5)", step);
    cr_assert(!vtx_machine_in_guest(e.m), "%s: host state loaded, in root operation", step);
}

/* ---- VM-entry MSR-load area ---- */

Test(msr, entry_load_then_guest_rdmsr_reads_the_values)
{
    /* SDM "Loading MSRs" (VM entries): IA32_EFER, IA32_TSC_AUX, IA32_STAR loaded as
     * WRMSR would; the guest reads them back with RDMSR (no MSR exits).
     *   G+0 b9 imm32 mov ecx, EFER ; 0f 32 rdmsr ; 49 89 c0 mov r8, rax
     *   mov ecx, TSC_AUX ; rdmsr ; 49 89 c1 mov r9, rax
     *   mov ecx, STAR ; rdmsr ; 49 89 d2 mov r10, rdx ; 49 89 c3 mov r11, rax ; vmcall */
    CODE(0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x49, 0x89, 0xc0,
         0xb9, 0x03, 0x01, 0x00, 0xc0, 0x0f, 0x32, 0x49, 0x89, 0xc1,
         0xb9, 0x81, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x49, 0x89, 0xd2, 0x49, 0x89, 0xc3,
         0x0f, 0x01, 0xc1);
    no_msr_exits();
    entry(ENTRY_AREA, 0, MSR_EFER, 0, 0xD01); /* SCE LME LMA NXE; LME unchanged with CR0.PG = 1 */
    entry(ENTRY_AREA, 1, MSR_TSC_AUX, 0, 0x1234);
    entry(ENTRY_AREA, 2, MSR_STAR, 0, 0x0023001000000000ull);
    entry_list(3);
    rf_launch_exit("entry MSR-load then RDMSR", VTX_EXIT_REASON_VMCALL);
    vtx_gprs g = gprs();
    cr_assert_eq(g.r8, 0xD01, "RDMSR IA32_EFER: got 0x%llx", (unsigned long long)g.r8);
    cr_assert_eq(g.r9, 0x1234, "RDMSR IA32_TSC_AUX: got 0x%llx", (unsigned long long)g.r9);
    cr_assert_eq(g.r10, 0x00230010, "RDMSR IA32_STAR high half: got 0x%llx", (unsigned long long)g.r10);
    cr_assert_eq(g.r11, 0, "RDMSR IA32_STAR low half");
    /* VM entry succeeded: the VMCS is launched. */
    vtx_vmcs_status vs;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, VT_VMCS_PA, &vs), VTX_OK);
    cr_assert_eq(vs.launch, VTX_LAUNCH_LAUNCHED);
}

/* ENT-BASIC-5: each way an entry can fail, as the second entry (qualification 2),
 * then the flip that loads. */
Test(msr, entry_load_failures_ent_basic_5)
{
    VTX_COVERS("ENT-BASIC-5");
    static const struct {
        const char *what;
        uint32_t index, reserved;
        uint64_t value, good_value;
        uint32_t good_index;
        vtx_check check;
    } cases[] = {
        {"bits 63:32 of the entry not 0", MSR_STAR, 1, 0, 0, MSR_STAR, VTX_CHECK_GUEST_MSR_LOAD_RESERVED},
        {"IA32_FS_BASE", MSR_FS_BASE, 0, 0, 0, 0xC0000102u, VTX_CHECK_GUEST_MSR_LOAD_FS_GS_BASE},
        {"IA32_GS_BASE", MSR_GS_BASE, 0, 0, 0, 0xC0000102u, VTX_CHECK_GUEST_MSR_LOAD_FS_GS_BASE},
        {"x2APIC MSR 0x808 (TPR)", 0x808, 0, 0, 0, MSR_TSC_AUX, VTX_CHECK_GUEST_MSR_LOAD_X2APIC},
        {"IA32_SMM_MONITOR_CTL outside SMM", 0x9B, 0, 0, 0, MSR_TSC_AUX, VTX_CHECK_GUEST_MSR_LOAD_SMM},
        {"IA32_SMBASE outside SMM", 0x9E, 0, 0, 0, MSR_TSC_AUX, VTX_CHECK_GUEST_MSR_LOAD_SMM},
        {"an MSR the processor does not have", MSR_UNKNOWN, 0, 0, 0, MSR_TSC_AUX, VTX_CHECK_GUEST_MSR_LOAD_UNKNOWN},
        {"IA32_TSC_AUX bits 63:32", MSR_TSC_AUX, 0, 1ull << 32, 0xFFFFFFFFull, MSR_TSC_AUX,
         VTX_CHECK_GUEST_MSR_LOAD_VALUE},
        {"IA32_EFER reserved bit 1", MSR_EFER, 0, 0xD03, 0xD01, MSR_EFER, VTX_CHECK_GUEST_MSR_LOAD_VALUE},
        {"IA32_EFER.LME cleared with CR0.PG = 1", MSR_EFER, 0, 0x401, 0x501, MSR_EFER,
         VTX_CHECK_GUEST_MSR_LOAD_VALUE},
        {"IA32_LSTAR not canonical", MSR_LSTAR, 0, 0x0000800000000000ull, 0xFFFF800000000000ull, MSR_LSTAR,
         VTX_CHECK_GUEST_MSR_LOAD_VALUE},
        {"IA32_PAT byte 2 memory type 2", 0x277, 0, 0x0007040600020406ull, 0x0007040600070406ull, 0x277,
         VTX_CHECK_GUEST_MSR_LOAD_VALUE},
        {"IA32_DEBUGCTL reserved bit 2", 0x1D9, 0, 4, 3, 0x1D9, VTX_CHECK_GUEST_MSR_LOAD_VALUE},
        {"IA32_FEATURE_CONTROL (locked)", 0x3A, 0, 5, 0, MSR_TSC_AUX, VTX_CHECK_GUEST_MSR_LOAD_VALUE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        entry(ENTRY_AREA, 0, MSR_STAR, 0, 0x1111);
        entry(ENTRY_AREA, 1, cases[i].index, cases[i].reserved, cases[i].value);
        entry_list(2);
        expect_load_fail(cases[i].what, 2, cases[i].check);
        /* Flip: the same entry made valid loads, and the guest enters (it halts). */
        entry(ENTRY_AREA, 1, cases[i].good_index, 0, cases[i].good_value);
        vt_expect_entry_passes(&e, cases[i].what);
    }
}

Test(msr, entry_load_failure_keeps_earlier_entries_ent_basic_5)
{
    VTX_COVERS("ENT-BASIC-5");
    /* ENT-BASIC-5 / SDM "VM-Entry Failures During or After Loading Guest State":
     * entries before the failing one stay loaded. Entry 1 loads IA32_STAR and
     * IA32_TSC_AUX as entries 1 and 2; entry 3 fails. A second entry without the
     * list reads both (they are the processor's MSRs, not switched by the VMCS).
     *   mov ecx, STAR ; rdmsr ; mov r10, rdx ; mov ecx, TSC_AUX ; rdmsr ; mov r9, rax ; vmcall */
    CODE(0xb9, 0x81, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x49, 0x89, 0xd2,
         0xb9, 0x03, 0x01, 0x00, 0xc0, 0x0f, 0x32, 0x49, 0x89, 0xc1, 0x0f, 0x01, 0xc1);
    no_msr_exits();
    entry(ENTRY_AREA, 0, MSR_STAR, 0, 0xABCD000000000000ull);
    entry(ENTRY_AREA, 1, MSR_TSC_AUX, 0, 0x42);
    entry(ENTRY_AREA, 2, MSR_FS_BASE, 0, 0);
    entry(ENTRY_AREA, 3, MSR_TSC_AUX, 0, 0x99); /* never reached */
    entry_list(4);
    expect_load_fail("third entry IA32_FS_BASE", 3, VTX_CHECK_GUEST_MSR_LOAD_FS_GS_BASE);
    /* ENT-BASIC-5: launch state not changed, so VMRESUME still fails (error 5). */
    vtx_insn_result r;
    vtx_status st = vtx_vmresume(e.m, &r);
    vt_expect("VMRESUME after exit 34", st, &r, VTX_VMFAIL_VALID, 5);
    entry_list(0);
    rf_launch_exit("entry without the list", VTX_EXIT_REASON_VMCALL);
    vtx_gprs g = gprs();
    cr_assert_eq(g.r10, 0xABCD0000, "IA32_STAR from entry 1 stays loaded: got 0x%llx", (unsigned long long)g.r10);
    cr_assert_eq(g.r9, 0x42, "IA32_TSC_AUX from entry 2 stays loaded, entry 4 never ran: got 0x%llx",
                 (unsigned long long)g.r9);
}

Test(msr, entry_load_count_beyond_the_maximum_ent_basic_5)
{
    VTX_COVERS("ENT-BASIC-5");
    /* IA32_VMX_MISC[27:25]: recommended maximum 512 * (N + 1) entries. The SDM leaves
     * more undefined; the model fails the first entry beyond the maximum. The
     * entries are all zero: IA32_P5_MC_ADDR (MSR 0) written with 0, which loads. */
    uint32_t max = 512u * ((uint32_t)((e.profile.msr[VTX_CAP_IA32_VMX_MISC] >> 25) & 7) + 1);
    cr_assert_leq(BIG_AREA + 16ull * (max + 1), VT_RAM_SIZE);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_MSR_LOAD_ADDR, BIG_AREA);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_MSR_LOAD_COUNT, max + 1);
    expect_load_fail("count = maximum + 1", max + 1, VTX_CHECK_GUEST_MSR_LOAD_COUNT);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_MSR_LOAD_COUNT, max);
    vt_expect_entry_passes(&e, "count = maximum");
}

/* ---- RDMSR / WRMSR in the guest ---- */

Test(msr, guest_rdmsr_wrmsr_gp_and_tsc_aux)
{
    /* RDMSR of an MSR the model does not have and WRMSR of a reserved bit raise
     * #GP(0) (exit 0, vector 13, error code 0, RIP at the instruction: a fault);
     * a valid WRMSR of IA32_TSC_AUX is what RDTSCP returns in ECX.
     *   G+0  b9 ff 1f 00 c0   mov ecx, 0xC0001FFF
     *   G+5  0f 32            rdmsr            -> #GP
     *   G+7  b9 03 01 00 c0   mov ecx, TSC_AUX
     *   G+12 ba 01 00 00 00   mov edx, 1
     *   G+17 0f 30            wrmsr            -> #GP (bits 63:32 reserved)
     *   G+19 31 d2            xor edx, edx
     *   G+21 b8 78 56 34 12   mov eax, 0x12345678
     *   G+26 0f 30            wrmsr
     *   G+28 0f 01 f9         rdtscp
     *   G+31 0f 01 c1         vmcall */
    CODE(0xb9, 0xff, 0x1f, 0x00, 0xc0, 0x0f, 0x32, 0xb9, 0x03, 0x01, 0x00, 0xc0, 0xba, 0x01, 0x00, 0x00, 0x00,
         0x0f, 0x30, 0x31, 0xd2, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x0f, 0x30, 0x0f, 0x01, 0xf9, 0x0f, 0x01, 0xc1);
    no_msr_exits();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("RDMSR of an unknown MSR", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field("RDMSR #GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
    rf_field("RDMSR #GP", VTX_VMCS_EXIT_INTR_ERROR_CODE, "error code", 0);
    rf_saved_rip("RDMSR #GP: fault, RIP at the RDMSR", G + 5);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G + 7);
    rf_resume_exit("WRMSR of a reserved bit", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field("WRMSR #GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
    rf_saved_rip("WRMSR #GP", G + 17);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G + 19);
    /* RDTSCP needs "enable RDTSCP" (else #UD, SDM 25.3; tests/test_insn_rows.c). */
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    rf_set(VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_RDTSCP);
    rf_resume_exit("WRMSR then RDTSCP", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(gprs().rcx, 0x12345678, "RDTSCP returns IA32_TSC_AUX in ECX");
}

Test(msr, guest_wrmsr_unknown_gp_and_rdmsr_without_bitmaps_exits)
{
    /* WRMSR of an unknown MSR: #GP(0). Flip: without "use MSR bitmaps" WRMSR exits
     * (reason 32) before any fault (SDM "Relative Priority of Faults and VM Exits").
     *   G+0 b9 ff 1f 00 c0 mov ecx, 0xC0001FFF ; G+5 0f 30 wrmsr */
    CODE(0xb9, 0xff, 0x1f, 0x00, 0xc0, 0x0f, 0x30);
    no_msr_exits();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("WRMSR of an unknown MSR", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field("WRMSR #GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MSR_BITMAPS);
    rf_resume_exit("WRMSR without MSR bitmaps", VTX_EXIT_REASON_WRMSR);
    rf_saved_rip("WRMSR exit", G + 5);
}

Test(msr, guest_wrmsr_tsc_moves_what_the_guest_reads)
{
    /* WRMSR IA32_TIME_STAMP_COUNTER sets the TSC (msr.h: an adjustment of the cycle
     * clock); RDTSC right after reads the value written plus the few cycles since.
     *   xor edx, edx ; mov eax, 0x40000000 ; mov ecx, 0x10 ; wrmsr ; rdtsc ; vmcall */
    CODE(0x31, 0xd2, 0xb8, 0x00, 0x00, 0x00, 0x40, 0xb9, 0x10, 0x00, 0x00, 0x00, 0x0f, 0x30, 0x0f, 0x31,
         0x0f, 0x01, 0xc1);
    no_msr_exits();
    rf_launch_exit("WRMSR TSC then RDTSC", VTX_EXIT_REASON_VMCALL);
    vtx_gprs g = gprs();
    uint64_t tsc = (g.rdx << 32) | (uint32_t)g.rax;
    cr_assert(tsc >= 0x40000000ull && tsc < 0x40000000ull + 1000, "RDTSC after WRMSR TSC = 0x40000000: got 0x%llx",
              (unsigned long long)tsc);
}

/* ---- VM-exit MSR-store and MSR-load areas ---- */

Test(msr, exit_store_captures_guest_values)
{
    /* SDM "Saving MSRs": after the guest state is saved, each listed MSR's guest
     * value is stored into bits 127:64 of its entry; the index half (bits 63:0)
     * are left alone. The guest writes IA32_TSC_AUX (0x77) before its VMCALL.
     *   xor edx, edx ; mov eax, 0x77 ; mov ecx, TSC_AUX ; wrmsr ; vmcall */
    CODE(0x31, 0xd2, 0xb8, 0x77, 0x00, 0x00, 0x00, 0xb9, 0x03, 0x01, 0x00, 0xc0, 0x0f, 0x30, 0x0f, 0x01, 0xc1);
    no_msr_exits();
    entry(ENTRY_AREA, 0, MSR_STAR, 0, 0x0033002000000000ull);
    entry(ENTRY_AREA, 1, MSR_TSC_AUX, 0, 0x55);
    entry_list(2);
    vt_vmwrite(&e, VTX_VMCS_GUEST_IA32_SYSENTER_ESP, 0xFFFF800000001234ull);
    entry(STORE_AREA, 0, MSR_TSC_AUX, 0, 0xDEAD);
    entry(STORE_AREA, 1, MSR_STAR, 0, 0xDEAD);
    entry(STORE_AREA, 2, MSR_EFER, 0, 0xDEAD);
    entry(STORE_AREA, 3, 0x175, 0, 0xDEAD); /* IA32_SYSENTER_ESP: the guest state's value */
    entry(STORE_AREA, 4, MSR_FS_BASE, 0, 0xDEAD);
    vt_vmwrite(&e, VTX_VMCS_EXIT_MSR_STORE_ADDR, STORE_AREA);
    vt_vmwrite(&e, VTX_VMCS_EXIT_MSR_STORE_COUNT, 5);
    rf_launch_exit("exit with an MSR-store list", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rf_mem64(STORE_AREA + 8), 0x77, "IA32_TSC_AUX as the guest wrote it");
    cr_assert_eq(rf_mem64(STORE_AREA + 0), MSR_TSC_AUX, "the index half is not written");
    cr_assert_eq(rf_mem64(STORE_AREA + 24), 0x0033002000000000ull, "IA32_STAR as the entry loaded it");
    cr_assert_eq(rf_mem64(STORE_AREA + 40), VTX_EFER_LME | VTX_EFER_LMA, "IA32_EFER of the IA-32e guest");
    cr_assert_eq(rf_mem64(STORE_AREA + 56), 0xFFFF800000001234ull, "IA32_SYSENTER_ESP of the guest state");
    cr_assert_eq(rf_mem64(STORE_AREA + 72), 0, "IA32_FS_BASE = the guest's FS base (0)");
}

Test(msr, exit_load_sets_host_msrs)
{
    /* SDM "Loading MSRs" (VM exits): after the host state, each listed MSR is loaded
     * as WRMSR would: IA32_EFER.NXE reaches the root environment; IA32_TSC_AUX is
     * the processor's register, so the next guest (no entry list) reads it.
     *   mov ecx, TSC_AUX ; rdmsr ; mov r9, rax ; vmcall */
    CODE(0xb9, 0x03, 0x01, 0x00, 0xc0, 0x0f, 0x32, 0x49, 0x89, 0xc1, 0x0f, 0x01, 0xc1);
    no_msr_exits();
    entry(ENTRY_AREA, 0, MSR_TSC_AUX, 0, 0x55);
    entry_list(1);
    entry(EXIT_AREA, 0, MSR_TSC_AUX, 0, 0x99);
    entry(EXIT_AREA, 1, MSR_EFER, 0, VTX_EFER_LME | VTX_EFER_LMA | (1u << 11));
    vt_vmwrite(&e, VTX_VMCS_EXIT_MSR_LOAD_ADDR, EXIT_AREA);
    vt_vmwrite(&e, VTX_VMCS_EXIT_MSR_LOAD_COUNT, 2);
    rf_launch_exit("exit with an MSR-load list", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(gprs().r9, 0x55, "the guest read the entry-loaded IA32_TSC_AUX");
    vtx_root_state root = vt_root(&e);
    cr_assert_eq(root.efer, VTX_EFER_LME | VTX_EFER_LMA | (1u << 11), "host IA32_EFER with NXE: got 0x%llx",
                 (unsigned long long)root.efer);
    /* The next entry loads no MSRs: the guest sees what the exit loaded. */
    entry_list(0);
    vt_vmwrite(&e, VTX_VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    rf_resume_exit("next entry", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(gprs().r9, 0x99, "IA32_TSC_AUX as the VM-exit MSR-load area left it");
}

Test(msr, exit_store_failure_is_a_vmx_abort_not_modelled)
{
    /* SDM "Saving MSRs": a failing entry is a VMX abort. The model stops with
     * VTX_ERR_UNSUPPORTED, undoes the exit (the guest stays in non-root operation)
     * and leaves the area untouched; fixed, the run goes on to the exit.   vmcall */
    CODE(0x0f, 0x01, 0xc1);
    entry(STORE_AREA, 0, MSR_TSC_AUX, 0, 0xDEAD);
    entry(STORE_AREA, 1, MSR_UNKNOWN, 0, 0xDEAD);
    vt_vmwrite(&e, VTX_VMCS_EXIT_MSR_STORE_ADDR, STORE_AREA);
    vt_vmwrite(&e, VTX_VMCS_EXIT_MSR_STORE_COUNT, 2);
    uint64_t reason_before = vt_vmread(&e, VTX_VMCS_EXIT_REASON);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert_eq(st, VTX_ERR_UNSUPPORTED, "VMX abort: %s", r.why);
    cr_assert_eq(r.outcome, VTX_GUEST_STOPPED);
    cr_assert(strstr(r.why, "VMX abort") && strstr(r.why, "entry 2"), "the message names the abort: %s", r.why);
    cr_assert(vtx_machine_in_guest(e.m), "the exit was undone");
    cr_assert_eq(rf_mem64(STORE_AREA + 8), 0xDEAD, "entry 1 not written");
    cr_assert_eq(vtx_machine_peek_field(e.m, VTX_VMCS_EXIT_REASON, &(uint64_t){0}), VTX_OK);
    uint64_t reason_now = 0;
    vtx_machine_peek_field(e.m, VTX_VMCS_EXIT_REASON, &reason_now);
    cr_assert_eq(reason_now, reason_before, "the exit-reason field is as before");
    entry(STORE_AREA, 1, MSR_STAR, 0, 0xDEAD);
    st = vtx_continue(e.m, &r);
    rf_check_exit("after fixing the list", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rf_mem64(STORE_AREA + 8), 0, "IA32_TSC_AUX stored (0 at power-on)");
}

Test(msr, exit_load_failure_is_a_vmx_abort_not_modelled)
{
    /* SDM "Loading MSRs" (VM exits): IA32_FS_BASE may not be loaded; the failure is a
     * VMX abort: stopped with VTX_ERR_UNSUPPORTED, root EFER untouched by entry 1.   vmcall */
    CODE(0x0f, 0x01, 0xc1);
    uint64_t efer = vt_root(&e).efer;
    entry(EXIT_AREA, 0, MSR_EFER, 0, efer | (1u << 11));
    entry(EXIT_AREA, 1, MSR_FS_BASE, 0, 0);
    vt_vmwrite(&e, VTX_VMCS_EXIT_MSR_LOAD_ADDR, EXIT_AREA);
    vt_vmwrite(&e, VTX_VMCS_EXIT_MSR_LOAD_COUNT, 2);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert_eq(st, VTX_ERR_UNSUPPORTED, "VMX abort: %s", r.why);
    cr_assert(vtx_machine_in_guest(e.m), "the exit was undone");
    cr_assert_eq(vt_root(&e).efer, efer, "entry 1's IA32_EFER undone with the exit");
}

/* SDM "Loading Guest Control Registers, Debug Registers, and MSRs": without
 * "load IA32_EFER" the guest's EFER is the processor's current (host) EFER with
 * LMA/LME from "IA-32e mode guest"; without "load IA32_PAT" its PAT is the host's. */
Test(msr_state, efer_and_pat_come_from_the_host_without_load_controls)
{
    vt_env v;
    vt_start(&v, "server");
    vtx_root_state root = vt_root(&v);
    root.efer |= 1u << 11; /* NXE in the host */
    vt_set_root(&v, &root);
    vt_set_bits(&v, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_EFER | VTX_EXIT_SAVE_PAT);
    vt_vmwrite(&v, VTX_VMCS_GUEST_IA32_EFER, 0); /* not loaded: ignored */
    vt_vmwrite(&v, VTX_VMCS_GUEST_IA32_PAT, 0);
    vt_set_bits(&v, VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(v.m, &r), VTX_OK);
    cr_assert_eq(r.exit_reason, VTX_EXIT_REASON_HLT);
    uint64_t efer = vt_vmread(&v, VTX_VMCS_GUEST_IA32_EFER);
    cr_assert(efer & (1u << 11), "the host's NXE carries into the guest (EFER 0x%llx)", (unsigned long long)efer);
    cr_assert_eq(efer & (VTX_EFER_LMA | VTX_EFER_LME), VTX_EFER_LMA | VTX_EFER_LME, "IA-32e mode guest");
    cr_assert_eq(vt_vmread(&v, VTX_VMCS_GUEST_IA32_PAT), 0x0007040600070406ull, "the host's (power-on) PAT");
    vt_teardown(&v);
}
