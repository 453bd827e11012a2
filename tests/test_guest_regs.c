/*
 * Guest registers that Unicorn keeps and the model does not emulate keep the
 * values the guest gives them, across the model's stops and VM exits (a run that
 * ends must leave nothing of Unicorn's own bookkeeping behind in guest state).
 */
#include "rules_fixture.h"

TestSuite(guest_regs, .init = rf_setup, .fini = rf_teardown, .timeout = 60);

/* mov rax, 0x12345000 ; mov cr2, rax ; cpuid ; mov rbx, cr2 ; vmcall: the guest
 * reads back what it wrote after the model stopped in between (the CPUID exit). */
static void cr2_round_trip(const char *path)
{
    CODE(0x48, 0xc7, 0xc0, 0x00, 0x50, 0x34, 0x12, 0x0f, 0x22, 0xd0, 0x0f, 0xa2, 0x0f, 0x20, 0xd3, 0x0f, 0x01, 0xc1);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_launch_exit("cpuid", VTX_EXIT_REASON_CPUID);
    rf_skip(2);
    rf_resume_exit("vmcall", VTX_EXIT_REASON_VMCALL);
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    cr_assert_eq(g.rbx, 0x12345000u, "%s: MOV from CR2 read 0x%llx, the guest wrote 0x12345000", path,
                 (unsigned long long)g.rbx);
}

/* With the observer of the fixture (the per-instruction path). */
Test(guest_regs, cr2_round_trips_through_runs_and_exits) { cr2_round_trip("observer"); }

/* Without it (the engine's fast path). */
Test(guest_regs, cr2_round_trips_on_the_fast_path)
{
    vtx_machine_set_observer(e.m, NULL, NULL);
    cr2_round_trip("fast path");
}
