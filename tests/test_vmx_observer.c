/*
 * The VMX-operation observer (vmx.h, vtx_machine_set_vmx_observer): every
 * successful VMWRITE and every VMLAUNCH/VMRESUME before and after, with what the
 * instruction did; installing it changes nothing the guest or the VMM sees.
 * `vtxref boot --explain/--record` rest on it (tests/test_boot_observe.c).
 */
#include <criterion/criterion.h>
#include "rules_fixture.h"

TestSuite(vmx_observer, .init = rf_setup, .fini = rf_teardown);

static struct {
    int n;
    vtx_vmx_op op[16];
    vtx_insn_result result[16];
    uint64_t rip_at_outcome; /* GUEST_RIP read by the observer after the exit */
    bool stop;               /* ask for a stop at each outcome */
} seen;

static void observe(void *user, vtx_machine *m, const vtx_vmx_op *op)
{
    (void)user;
    if (seen.n < 16) {
        seen.op[seen.n] = *op;
        if (op->result)
            seen.result[seen.n] = *op->result;
    }
    seen.n++;
    if (op->kind == VTX_VMX_OP_OUTCOME) {
        vtx_machine_peek_field(m, VTX_VMCS_GUEST_RIP, &seen.rip_at_outcome);
        if (seen.stop)
            vtx_machine_request_stop(m); /* no effect outside a root-mode run */
    }
}

static const uint8_t code[] = {0x90, 0x0f, 0x01, 0xc1}; /* nop; vmcall */

Test(vmx_observer, sees_each_vmwrite_and_each_entry_before_and_after)
{
    rf_code(code, sizeof code);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    memset(&seen, 0, sizeof seen);
    cr_assert_eq(vtx_machine_set_vmx_observer(e.m, observe, NULL), VTX_OK);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmwrite(e.m, 0x7FFE, 1, &r), VTX_OK); /* no such field: VMfailValid(12) */
    cr_assert_eq(r.outcome, VTX_VMFAIL_VALID);
    cr_assert_eq(seen.n, 1, "a failed VMWRITE is not reported (%d ops)", seen.n);
    cr_expect_eq(seen.op[0].kind, VTX_VMX_OP_VMWRITE);
    cr_expect_eq(seen.op[0].encoding, VTX_VMCS_GUEST_RIP);
    cr_expect_eq(seen.op[0].value, G);
    rf_launch_exit("launch", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(seen.n, 3);
    cr_expect_eq(seen.op[1].kind, VTX_VMX_OP_ENTER);
    cr_expect(seen.op[1].launch);
    cr_expect_eq(seen.op[2].kind, VTX_VMX_OP_OUTCOME);
    cr_expect(seen.op[2].launch);
    cr_expect_eq(seen.op[2].status, VTX_OK);
    cr_expect_eq(seen.result[2].outcome, VTX_VMEXIT);
    cr_expect_eq(seen.result[2].exit_reason, VTX_EXIT_REASON_VMCALL);
    cr_expect_eq(seen.rip_at_outcome, G + 1, "the observer reads the exit's state: 0x%llx",
                 (unsigned long long)seen.rip_at_outcome);
    /* VMRESUME at the VMCALL again; a request to stop does nothing outside a root-mode run. */
    seen.stop = true;
    rf_resume_exit("resume", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(seen.n, 5);
    cr_expect_eq(seen.op[3].kind, VTX_VMX_OP_ENTER);
    cr_expect_not(seen.op[3].launch);
    cr_expect_eq(seen.op[4].kind, VTX_VMX_OP_OUTCOME);
    /* A VMLAUNCH of a launched VMCS fails as an instruction: reported too, with its outcome. */
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_OK);
    cr_assert_eq(r.outcome, VTX_VMFAIL_VALID);
    cr_assert_eq(seen.n, 7);
    cr_expect_eq(seen.result[6].outcome, VTX_VMFAIL_VALID);
    cr_expect_eq(seen.result[6].vm_error, 4); /* VMLAUNCH with a non-clear VMCS */
}

Test(vmx_observer, installing_it_changes_no_exit_count_or_cycle)
{
    uint64_t insns[2], cycles[2], rip[2];
    for (int with = 0; with < 2; with++) {
        if (with)
            rf_rebuild_knobs(0, 0);
        rf_code(code, sizeof code);
        rf_state(G, 0x2, 0, ACT_ACTIVE);
        memset(&seen, 0, sizeof seen);
        if (with)
            vtx_machine_set_vmx_observer(e.m, observe, NULL);
        rf_launch_exit("launch", VTX_EXIT_REASON_VMCALL);
        insns[with] = vtx_machine_instructions(e.m);
        cycles[with] = vtx_machine_cycles(e.m);
        rip[with] = vt_vmread(&e, VTX_VMCS_GUEST_RIP);
    }
    cr_expect_eq(insns[0], insns[1]);
    cr_expect_eq(cycles[0], cycles[1]);
    cr_expect_eq(rip[0], rip[1]);
    cr_expect_eq(seen.n, 2);
    cr_expect_eq(vtx_machine_set_vmx_observer(NULL, observe, NULL), VTX_ERR_INVALID_ARG);
    cr_expect_eq(vtx_machine_request_stop(NULL), VTX_ERR_INVALID_ARG);
}
