/*
 * VM-entry checks on the allowed settings of each VMX control field (SDM Vol. 3
 * "Checks on VMX Controls"; catalogue F.2 ENT-CTL-1), and the names, rule IDs
 * and texts of the control checks.
 *
 * Each test starts from the baseline VMCS (tests/baseline.c), breaks one
 * control, expects the named check (VMfailValid, error 7), then makes the
 * smallest change that flips the outcome (tests/entry_controls_fixture.h).
 *
 * "passes" = every VM-entry check passes; "past" = the control and host-state
 * checks pass (used where the test leaves the guest state to the guest-state
 * checks, e.g. a real-mode guest CR0 or an injected event).
 */
#include "entry_controls_fixture.h"

/* ======== ENT-CTL-1: allowed settings of each control field ======== */

Test(ctl_allowed, pin_allowed0_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "server");
    vt_clear_bits(&e, VTX_VMCS_PIN_CONTROLS, 1u << 1); /* a default1 bit, must be 1 in the TRUE MSR too */
    fails(&e, "pin-based bit 1 cleared", VTX_CHECK_CTL_PIN_ALLOWED);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, 1u << 1);
    vt_expect_entry_passes(&e, "pin-based bit 1 restored");
    vt_teardown(&e);
}

Test(ctl_allowed, pin_allowed1_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_POSTED_INTR);
    fails(&e, "process posted interrupts on a part without it", VTX_CHECK_CTL_PIN_ALLOWED);
    vt_clear_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_POSTED_INTR);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_expect_entry_passes(&e, "activate VMX-preemption timer (allowed)");
    vt_teardown(&e);
}

/* Clearing CR3-load exiting: the plain MSR of core2 forbids it, the TRUE MSR of server allows it. */
Test(ctl_allowed, proc_allowed0_true_msr_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "core2");
    vt_clear_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_LOAD_EXITING);
    fails(&e, "core2: CR3-load exiting = 0 (IA32_VMX_PROCBASED_CTLS)", VTX_CHECK_CTL_PROC_ALLOWED);
    vt_teardown(&e);
    vt_start(&e, "server");
    vt_clear_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_LOAD_EXITING);
    vt_expect_entry_passes(&e, "server: CR3-load exiting = 0 (IA32_VMX_TRUE_PROCBASED_CTLS)");
    vt_teardown(&e);
}

Test(ctl_allowed, proc_allowed1_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "core2");
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_TRAP_FLAG);
    fails(&e, "core2: monitor trap flag", VTX_CHECK_CTL_PROC_ALLOWED);
    vt_clear_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_TRAP_FLAG);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    vt_expect_entry_passes(&e, "core2: HLT exiting");
    vt_teardown(&e);
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_TERTIARY_CONTROLS);
    fails(&e, "server: activate tertiary controls (newer than the 2016 SDM, not allowed)",
          VTX_CHECK_CTL_PROC_ALLOWED);
    vt_teardown(&e);
}

/* Secondary controls are checked only when activated, and count as 0 otherwise. */
Test(ctl_allowed, proc2_only_if_activated_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "server");
    proc2(&e, VTX_PROC2_VIRT_APIC_ACCESSES);
    fails(&e, "activated secondary controls with virtualize APIC accesses", VTX_CHECK_CTL_PROC2_ALLOWED);
    vt_clear_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    vt_expect_entry_passes(&e, "same secondary controls, not activated");
    vt_teardown(&e);
    vt_start(&e, "core2");
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    fails(&e, "core2: activate secondary controls", VTX_CHECK_CTL_PROC_ALLOWED);
    vt_teardown(&e);
}

Test(ctl_allowed, exit_allowed_ent_ctl_1)
{
    vt_env e;
    vt_start(&e, "server");
    vt_clear_bits(&e, VTX_VMCS_EXIT_CONTROLS, 1u << 0);
    fails(&e, "VM-exit control bit 0 (default1) cleared", VTX_CHECK_CTL_EXIT_ALLOWED);
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, 1u << 0);
    vt_clear_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_DEBUG_CONTROLS);
    vt_expect_entry_passes(&e, "server: save debug controls = 0 (TRUE MSR)");
    vt_teardown(&e);
    vt_start(&e, "core2");
    vt_clear_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_DEBUG_CONTROLS);
    fails(&e, "core2: save debug controls = 0", VTX_CHECK_CTL_EXIT_ALLOWED);
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_DEBUG_CONTROLS);
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_LOAD_EFER);
    fails(&e, "core2: load IA32_EFER", VTX_CHECK_CTL_EXIT_ALLOWED);
    vt_teardown(&e);
}

Test(ctl_allowed, entry_allowed_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_PERF_GLOBAL_CTRL);
    fails(&e, "load IA32_PERF_GLOBAL_CTRL on a part without it", VTX_CHECK_CTL_ENTRY_ALLOWED);
    vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_PERF_GLOBAL_CTRL);
    vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_DEBUG_CONTROLS);
    vt_expect_entry_passes(&e, "server: load debug controls = 0 (TRUE MSR)");
    vt_teardown(&e);
    vt_start(&e, "core2");
    vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_DEBUG_CONTROLS);
    fails(&e, "core2: load debug controls = 0", VTX_CHECK_CTL_ENTRY_ALLOWED);
    vt_teardown(&e);
}

/* The names, rule IDs and texts of the checks are part of the interface. */
Test(ctl_names, every_check_named)
{
    cr_assert_str_eq(vtx_check_name(VTX_CHECK_CTL_PIN_ALLOWED), "CTL_PIN_ALLOWED");
    cr_assert_str_eq(vtx_check_rule(VTX_CHECK_CTL_VNMI_WITHOUT_NMI_EXITING), "ENT-CTL-2");
    cr_assert_str_eq(vtx_check_rule(VTX_CHECK_CTL_INJ_ERRCODE_RESERVED), "INJ-CHK-5");
    for (int c = VTX_CHECK_CTL_PIN_ALLOWED; c <= VTX_CHECK_CTL_DEACT_DUAL_MONITOR; c++) {
        cr_assert_not_null(vtx_check_name((vtx_check)c));
        cr_assert_not_null(vtx_check_text((vtx_check)c));
    }
}
