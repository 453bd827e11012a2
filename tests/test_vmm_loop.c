/* vtx_run_vmm: the VMM loop with an exit budget and the repeat detector. */
#include <string.h>
#include "baseline.h"

static vt_env e;
static void setup(void)
{
    vt_setup(&e, "server");
    vt_baseline(&e);
}
static void teardown(void) { vt_teardown(&e); }
TestSuite(vmm_loop, .init = setup, .fini = teardown);

/* A handler that does nothing: the buggy VMM of IW-6. */
static vtx_vmm_action ignore(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    (void)m;
    (void)exit;
    (*(int *)user)++;
    return VTX_VMM_RESUME;
}

Test(vmm_loop, iw6_vmm_that_never_clears_the_control_is_stopped)
{
    VTX_COVERS("IW-6");
    /* IW-6: the interrupt-window control stays set and the window stays open, so
     * every VMRESUME exits again at once. The loop names the repeat. */
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS, vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    int calls = 0;
    vtx_vmm_loop loop = {.handler = ignore, .user = &calls, .max_repeats = 5};
    vtx_vmm_report rep;
    cr_assert_eq(vtx_run_vmm(e.m, &loop, &rep), VTX_OK);
    cr_assert_eq(rep.end, VTX_VMM_END_REPEAT, "ended: %s", rep.why);
    cr_assert_eq(rep.exits, 5);
    cr_assert_eq(calls, 4, "the handler saw the first four exits");
    cr_assert(strstr(rep.why, "exit 7 (INTERRUPT_WINDOW)"), "the report names the exit: %s", rep.why);
}

/* Clear the window control and stop at the HLT exit. */
static vtx_vmm_action correct(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    (void)user;
    vtx_insn_result r;
    if (exit->exit_reason == VTX_EXIT_REASON_INTERRUPT_WINDOW) {
        vtx_vmread(m, VTX_VMCS_PROC_CONTROLS, &r);
        vtx_vmwrite(m, VTX_VMCS_PROC_CONTROLS, r.value & ~(uint64_t)VTX_PROC_INTR_WINDOW_EXITING, &r);
        return VTX_VMM_RESUME;
    }
    return VTX_VMM_STOP;
}

Test(vmm_loop, correct_vmm_reaches_the_guest_hlt)
{
    /* The flip: a handler that clears the control lets the guest run to its HLT. */
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS,
               vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_INTR_WINDOW_EXITING | VTX_PROC_HLT_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vtx_vmm_loop loop = {.handler = correct, .max_repeats = 5};
    vtx_vmm_report rep;
    cr_assert_eq(vtx_run_vmm(e.m, &loop, &rep), VTX_OK);
    cr_assert_eq(rep.end, VTX_VMM_END_HANDLER, "ended: %s", rep.why);
    cr_assert_eq(rep.exits, 2);
    cr_assert_eq(rep.last.exit_reason, VTX_EXIT_REASON_HLT);
}

static vtx_vmm_action skip_cpuid(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    (void)user;
    (void)exit;
    vtx_insn_result r;
    vtx_vmread(m, VTX_VMCS_GUEST_RIP, &r);
    uint64_t rip = r.value;
    vtx_vmread(m, VTX_VMCS_EXIT_INSTRUCTION_LEN, &r);
    vtx_vmwrite(m, VTX_VMCS_GUEST_RIP, rip + r.value, &r);
    return VTX_VMM_RESUME;
}

Test(vmm_loop, exit_budget)
{
    /* cpuid; jmp back: a guest that exits forever, each time having made progress
     * (so no repeat): the exit budget ends it. */
    static const uint8_t code[] = {0x0f, 0xa2, 0xeb, 0xfc};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vtx_vmm_loop loop = {.handler = skip_cpuid, .max_exits = 50};
    vtx_vmm_report rep;
    cr_assert_eq(vtx_run_vmm(e.m, &loop, &rep), VTX_OK);
    cr_assert_eq(rep.end, VTX_VMM_END_EXITS, "ended: %s", rep.why);
    cr_assert_eq(rep.exits, 50);
    cr_assert(strstr(rep.why, "exit budget of 50"), "%s", rep.why);
}

Test(vmm_loop, entry_failure_and_guest_stop_are_reported)
{
    /* A VMCS that fails the controls: the loop ends with the VMfail. */
    vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS, 0);
    vtx_vmm_loop loop = {.handler = skip_cpuid};
    vtx_vmm_report rep;
    cr_assert_eq(vtx_run_vmm(e.m, &loop, &rep), VTX_OK);
    cr_assert_eq(rep.end, VTX_VMM_END_VMFAIL, "ended: %s", rep.why);
    cr_assert(strstr(rep.why, "VMfailValid(7"), "%s", rep.why);
    /* Fixed, the baseline guest halts for good: the loop ends with the stop. */
    vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS, vt_must1(&e, VTX_CTL_PIN));
    cr_assert_eq(vtx_run_vmm(e.m, &loop, &rep), VTX_OK);
    cr_assert_eq(rep.end, VTX_VMM_END_GUEST, "ended: %s", rep.why);
    cr_assert(strstr(rep.why, "HLT state"), "%s", rep.why);
}
