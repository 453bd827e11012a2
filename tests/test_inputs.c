/* Platform inputs scheduled at an instruction count or a cycle take effect at
 * exactly that boundary (issue: "NMI, external interrupt line and INIT ...
 * schedulable at an instruction count or a cycle"). */
#include <string.h>
#include "baseline.h"

static vt_env e;

/* G: eight NOPs, then HLT. */
static void setup(void)
{
    vt_setup(&e, "server");
    vt_baseline(&e);
    static const uint8_t code[] = {0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xf4};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
}
static void teardown(void) { vt_teardown(&e); }
TestSuite(inputs, .init = setup, .fini = teardown);

static vtx_insn_result launch(void)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK, "VMLAUNCH: %s (%s)", vtx_status_name(st), r.why);
    return r;
}

Test(inputs, interrupt_at_an_instruction_count)
{
    VTX_COVERS("IW-9");
    /* IW-9: with external-interrupt exiting the exit comes at the boundary where
     * the line rises: after exactly 5 NOPs of this run. */
    vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS, vt_vmread(&e, VTX_VMCS_PIN_CONTROLS) | VTX_PIN_EXT_INTR_EXITING);
    vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x40, .when = vtx_machine_instructions(e.m) + 5};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    vtx_insn_result r = launch();
    cr_assert(r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXTERNAL_INTERRUPT,
              "interrupt at instruction 5: expected exit 1");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 5, "the exit is at the 6th NOP");
}

/* The budgets changed between runs (vtx_machine_set_limits): a run of 3
 * instructions stops before the 4th NOP, and the interrupt scheduled at
 * instruction 5 exits at the 6th NOP in the run after it, where one run takes
 * it (interrupt_at_an_instruction_count). */
Test(inputs, budgets_changed_between_runs_leave_the_exit_where_it_was)
{
    VTX_COVERS("IW-9");
    cr_assert_eq(vtx_machine_set_limits(e.m, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_set_limits(NULL, &(vtx_run_limits){.instructions = 3}), VTX_ERR_INVALID_ARG);
    vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS, vt_vmread(&e, VTX_VMCS_PIN_CONTROLS) | VTX_PIN_EXT_INTR_EXITING);
    const uint64_t i0 = vtx_machine_instructions(e.m);
    vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x40, .when = i0 + 5};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    cr_assert_eq(vtx_machine_set_limits(e.m, &(vtx_run_limits){.instructions = 3}), VTX_OK);
    vtx_insn_result r = launch();
    cr_assert_eq(r.outcome, VTX_GUEST_STOPPED, "the budget of 3 ends the first run (%s)", r.why);
    cr_assert_not_null(strstr(r.why, "instruction budget of 3"), "why: %s", r.why);
    cr_assert_eq(vtx_machine_instructions(e.m) - i0, 3);
    vtx_status st = vtx_continue(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXTERNAL_INTERRUPT,
              "the interrupt exits in the second run (%s)", r.why);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 5, "the exit is at the 6th NOP");
    cr_assert_eq(vtx_machine_instructions(e.m) - i0, 5);
}

Test(inputs, interrupt_scheduled_later_is_not_seen_earlier)
{
    VTX_COVERS("HLT-2", "HLT-3");
    /* The flip: scheduled after the HLT, the interrupt is still ahead when the
     * guest halts; a cycle-scheduled one then wakes it. */
    vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS, vt_vmread(&e, VTX_VMCS_PIN_CONTROLS) | VTX_PIN_EXT_INTR_EXITING);
    vtx_input late = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x40, .when = vtx_machine_instructions(e.m) + 100};
    cr_assert_eq(vtx_machine_schedule(e.m, &late), VTX_OK);
    vtx_insn_result r = launch();
    cr_assert(r.outcome == VTX_GUEST_STOPPED, "the guest halts before instruction 100");
    cr_assert_eq(vtx_machine_in_guest(e.m), true);
    uint64_t at = vtx_machine_cycles(e.m) + 5000;
    vtx_input nmi = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x41, .at_cycle = true, .when = at};
    cr_assert_eq(vtx_machine_schedule(e.m, &nmi), VTX_OK);
    vtx_status st = vtx_continue(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXTERNAL_INTERRUPT,
              "the cycle-scheduled interrupt wakes the halted guest (HLT-2)");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_ACTIVITY_STATE), 1, "HLT-3: exit from the HLT state");
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &e.profile);
    cr_assert_eq(vtx_machine_cycles(e.m), at + cfg.costs.vm_exit, "the exit is at the scheduled cycle");
}

Test(inputs, nmi_and_init_in_priority_order)
{
    VTX_COVERS("PRI-2", "VNMI-1");
    /* PRI-2: INIT and an NMI due at the same boundary: INIT (exit 3) wins; the NMI
     * (exit 0 with NMI exiting) follows on the next entry. */
    vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS, vt_vmread(&e, VTX_VMCS_PIN_CONTROLS) | VTX_PIN_NMI_EXITING);
    uint64_t at = vtx_machine_instructions(e.m) + 3;
    vtx_input nmi = {.kind = VTX_INPUT_NMI, .when = at}, init = {.kind = VTX_INPUT_INIT, .when = at};
    cr_assert_eq(vtx_machine_schedule(e.m, &nmi), VTX_OK);
    cr_assert_eq(vtx_machine_schedule(e.m, &init), VTX_OK);
    vtx_insn_result r = launch();
    cr_assert(r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_INIT_SIGNAL, "INIT first");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 3);
    vtx_status st = vtx_vmresume(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXCEPTION_NMI &&
                  vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) == 0x80000202,
              "then the NMI exit (VNMI-1)");
}

Test(inputs, schedule_rejects_bad_input)
{
    vtx_input bad = {.kind = (vtx_input_kind)9};
    cr_assert_eq(vtx_machine_schedule(e.m, &bad), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_schedule(e.m, NULL), VTX_ERR_INVALID_ARG);
    vtx_input ok = {.kind = VTX_INPUT_NMI, .when = 1u << 30};
    int n = 0;
    while (vtx_machine_schedule(e.m, &ok) == VTX_OK && n < 1000)
        n++;
    cr_assert_eq(n, 64, "64 inputs can wait at a time");
    cr_assert_eq(vtx_machine_schedule(e.m, &ok), VTX_ERR_NO_MEMORY);
}
