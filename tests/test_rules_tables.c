/* Rules about field layouts, tables and check order (catalogue E.1, F.1, H). */
#include <string.h>
#include "baseline.h"

static vt_env e;
static void setup(void)
{
    vt_setup(&e, "server");
    vt_baseline(&e);
}
static void teardown(void) { vt_teardown(&e); }
TestSuite(tables, .init = setup, .fini = teardown);

Test(tables, ent_basic_4_controls_reported_before_host_state)
{
    VTX_COVERS("ENT-BASIC-4");
    /* ENT-BASIC-4: with a bad control and a bad host field both present, the model
     * reports the control (error 7); fixing the control leaves error 8. */
    vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS, 0); /* default1 bits missing */
    vt_vmwrite(&e, VTX_VMCS_HOST_CS_SELECTOR, 0);
    vt_expect_entry_vmfail(&e, "bad pin controls and host CS 0", 7, VTX_CHECK_CTL_PIN_ALLOWED);
    vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS, vt_must1(&e, VTX_CTL_PIN));
    vtx_insn_result r;
    vt_expect("host CS 0 alone", vtx_vmlaunch(e.m, &r), &r, VTX_VMFAIL_VALID, 8);
}

Test(tables, ent_ctl_8_injection_checks_fail_as_control_checks)
{
    VTX_COVERS("ENT-CTL-8");
    /* ENT-CTL-8: the event-injection checks are control checks: VMfailValid 7,
     * not a guest-state failure. The reserved type 1 fails; type 0 passes. */
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, 0x80000120);
    vtx_insn_result r;
    vt_expect("inject type 1", vtx_vmlaunch(e.m, &r), &r, VTX_VMFAIL_VALID, 7);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, 0x80000020);
    vt_idt_gate(&e, 0x20, VT_GUEST_RIP, false);
    vt_expect_entry_passes(&e, "inject type 0 vector 0x20");
}

/* Read 8 bytes of the guest stack. */
static uint64_t stack_qword(uint64_t addr)
{
    uint64_t v;
    cr_assert_eq(vtx_machine_read_phys(e.m, addr, &v, 8, NULL), VTX_OK);
    return v;
}

Test(tables, inj_1_valid_bit_and_vector)
{
    VTX_COVERS("INJ-1");
    /* INJ-1: bits 7:0 vector, 31 valid. Valid = 0 injects nothing (the guest runs
     * its HLT); valid = 1 delivers vector 0x33 to its gate. */
    static const uint8_t handler[] = {0xf4}; /* hlt */
    vt_code(&e, 0x13000, handler, sizeof handler);
    vt_idt_gate(&e, 0x33, 0x13000, false);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS, vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, 0x00000033);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_OK);
    cr_assert(r.exit_reason == VTX_EXIT_REASON_HLT && vt_vmread(&e, VTX_VMCS_GUEST_RIP) == VT_GUEST_RIP,
              "valid bit 0: nothing injected, the guest's own HLT exits");
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, 0x80000033);
    cr_assert_eq(vtx_vmresume(e.m, &r), VTX_OK);
    cr_assert(r.exit_reason == VTX_EXIT_REASON_HLT && vt_vmread(&e, VTX_VMCS_GUEST_RIP) == 0x13000,
              "valid bit 1: vector 0x33 delivered, its handler's HLT exits");
}

Test(tables, inj_3_error_code_pushed_iff_bit_11)
{
    VTX_COVERS("INJ-3", "INJ-9");
    /* INJ-3, INJ-9: the VM-entry exception error code is used iff bit 11 = 1: a #GP
     * injected with code 0x1234 pushes it below the return RIP (64-bit frame:
     * error code, RIP, CS, RFLAGS, RSP, SS). Without an error code (#UD) none is pushed. */
    static const uint8_t handler[] = {0xf4};
    vt_code(&e, 0x13000, handler, sizeof handler);
    vt_idt_gate(&e, 13, 0x13000, false);
    vt_idt_gate(&e, 6, 0x13000, false);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS, vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, 0x80000b0d);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0x1234);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_OK);
    cr_assert_eq(r.exit_reason, VTX_EXIT_REASON_HLT);
    uint64_t rsp = vt_vmread(&e, VTX_VMCS_GUEST_RSP);
    cr_assert_eq(stack_qword(rsp), 0x1234, "the error code is on top of the stack");
    cr_assert_eq(stack_qword(rsp + 8), VT_GUEST_RIP, "then the return RIP");
    /* Re-enter at the HLT with #UD injected, no error code. */
    vtx_insn_result r2;
    vt_vmwrite(&e, VTX_VMCS_GUEST_RSP, VT_GUEST_RSP);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, 0x80000306);
    cr_assert_eq(vtx_vmresume(e.m, &r2), VTX_OK);
    rsp = vt_vmread(&e, VTX_VMCS_GUEST_RSP);
    cr_assert_eq(stack_qword(rsp), 0x13000, "no error code: the return RIP (the handler's own HLT) is on top");
    cr_assert_eq(rsp, VT_GUEST_RSP - 40, "a 5-qword frame");
}

Test(tables, exit_2_basic_exit_reasons)
{
    VTX_COVERS("EXIT-2");
    /* EXIT-2: the basic exit reasons of SDM Appendix C (2016 edition: 0-64). */
    static const struct { unsigned n; const char *name; } t[] = {
        {0, "EXCEPTION_NMI"}, {1, "EXTERNAL_INTERRUPT"}, {2, "TRIPLE_FAULT"}, {3, "INIT_SIGNAL"}, {4, "SIPI"},
        {7, "INTERRUPT_WINDOW"}, {8, "NMI_WINDOW"}, {9, "TASK_SWITCH"}, {10, "CPUID"}, {12, "HLT"},
        {18, "VMCALL"}, {28, "CR_ACCESS"}, {30, "IO_INSTRUCTION"}, {31, "RDMSR"}, {32, "WRMSR"},
        {33, "INVALID_GUEST_STATE"}, {34, "MSR_LOADING"}, {37, "MONITOR_TRAP_FLAG"}, {41, "MACHINE_CHECK"},
        {43, "TPR_BELOW_THRESHOLD"}, {48, "EPT_VIOLATION"}, {52, "PREEMPTION_TIMER"}, {55, "XSETBV"}, {64, "XRSTORS"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *n = vtx_exit_reason_name(t[i].n);
        cr_assert(n && strcmp(n, t[i].name) == 0, "exit reason %u is %s, got %s", t[i].n, t[i].name, n ? n : "none");
    }
    /* Unused numbers have no name. */
    cr_assert_null(vtx_exit_reason_name(35));
    cr_assert_null(vtx_exit_reason_name(38));
    cr_assert_null(vtx_exit_reason_name(42));
}

/* EXIT-8: the saved RFLAGS.RF. */
static uint64_t saved_rf_after(const uint8_t *code, size_t n, uint64_t rflags, uint32_t bitmap, uint32_t proc_extra,
                               uint32_t want_reason)
{
    vt_code(&e, VT_GUEST_RIP, code, n);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, rflags);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, bitmap);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, proc_extra);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_OK);
    cr_assert(r.outcome == VTX_VMEXIT && r.exit_reason == want_reason, "expected exit %u, got %s", want_reason, r.why);
    return vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS) & (1u << 16);
}

Test(tables, exit_8_instruction_exit_saves_rf_0)
{
    VTX_COVERS("EXIT-8");
    /* cpuid with RF = 1 loaded at entry: an instruction-caused exit saves RF = 0. */
    static const uint8_t cpuid[] = {0x0f, 0xa2};
    cr_assert_eq(saved_rf_after(cpuid, sizeof cpuid, 0x10002, 0, 0, VTX_EXIT_REASON_CPUID), 0);
}

Test(tables, exit_8_window_exit_saves_current_rf)
{
    VTX_COVERS("EXIT-8");
    /* The flip: an interrupt-window exit at the first boundary saves RF as it is (1). */
    static const uint8_t nop[] = {0x90};
    cr_assert_eq(saved_rf_after(nop, sizeof nop, 0x10202, 0, VTX_PROC_INTR_WINDOW_EXITING,
                                VTX_EXIT_REASON_INTERRUPT_WINDOW), 1u << 16);
}

Test(tables, exit_8_fault_exit_saves_rf_1)
{
    VTX_COVERS("EXIT-8");
    /* ud2 intercepted: a fault, whose pushed image would have RF = 1. */
    static const uint8_t ud2[] = {0x0f, 0x0b};
    cr_assert_eq(saved_rf_after(ud2, sizeof ud2, 0x2, 1u << 6, 0, VTX_EXIT_REASON_EXCEPTION_NMI), 1u << 16);
}

Test(tables, exit_8_trap_exit_saves_current_rf)
{
    VTX_COVERS("EXIT-8");
    /* The flip: int3 intercepted (a software exception, trap-like): RF as it is (0). */
    static const uint8_t int3[] = {0xcc};
    cr_assert_eq(saved_rf_after(int3, sizeof int3, 0x2, 1u << 3, 0, VTX_EXIT_REASON_EXCEPTION_NMI), 0);
}

Test(tables, exit_8_single_step_db_exit_saves_current_rf)
{
    VTX_COVERS("EXIT-8");
    /* A #DB trap (single step, TF = 1) intercepted: hardware exception vector 1, but a
     * trap, so RF is saved as it is (0), not as a fault's 1 (survivor exit-rf-db). */
    static const uint8_t nops[] = {0x90, 0x90, 0xf4};
    cr_assert_eq(saved_rf_after(nops, sizeof nops, 0x2 | 0x100, 1u << 1, 0, VTX_EXIT_REASON_EXCEPTION_NMI), 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO), 0x80000301u, "a #DB, hardware exception");
}

Test(tables, unmodelled_control_is_refused_by_name)
{
    /* "APIC-register virtualization", allowed by a profile but not carried out by
     * the model: VM entry passes its checks, then refuses with the control's name and
     * changes nothing (the VMCS stays clear). */
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] |= (uint64_t)VTX_PROC2_APIC_REG_VIRT << 32;
    vt_teardown(&e);
    vt_setup_profile(&e, &p);
    vt_baseline(&e);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_TPR_SHADOW | VTX_PROC_SECONDARY_CONTROLS);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_APIC_REG_VIRT);
    vt_vmwrite(&e, VTX_VMCS_VIRTUAL_APIC_ADDR, 0x40000);
    vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, 0);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_ERR_UNSUPPORTED);
    cr_assert(strstr(r.why, "\"APIC-register virtualization\" is not modelled"), "why: %s", r.why);
    cr_assert(!vtx_machine_in_guest(e.m), "nothing entered");
    vtx_vmcs_status vs;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, VT_VMCS_PA, &vs), VTX_OK);
    cr_assert_eq(vs.launch, VTX_LAUNCH_CLEAR);
    /* The flip: without it the guest enters (and halts), "use TPR shadow" and all. */
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, 0);
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_OK);
    cr_assert_eq(r.outcome, VTX_GUEST_STOPPED);
}
