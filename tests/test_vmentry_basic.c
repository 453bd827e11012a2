/* The basic VM-entry checks of VMLAUNCH and VMRESUME, before the checks on the
 * controls, host state and guest state (catalogue F.1 ENT-BASIC-1..3; SDM Vol. 3
 * "Basic VM-Entry Checks"; kvm-unit-tests scenario 6.6 vmentry_movss_shadow_test).
 *
 * Pending: error 4 (VMLAUNCH with a non-clear VMCS, ENT-BASIC-3) and error 6
 * (VMRESUME after VMXOFF) need a launched VMCS, i.e. a VM entry that completes.
 * Guest execution is not modelled yet, so no VMCS can become launched; add
 * those tests (including "error 26 takes precedence over error 4") once it is. */
#include <string.h>
#include "baseline.h"
#include "helpers.h"

static vt_env e;

static void up_server(void)
{
    vt_setup(&e, "server");
    vt_vmxon(&e);
}
static void up_core2(void)
{
    vt_setup(&e, "core2");
    vt_vmxon(&e);
}
static void down(void) { vt_teardown(&e); }

typedef vtx_status (*entry_insn)(vtx_machine *, vtx_insn_result *);
static const struct {
    const char *name;
    entry_insn fn;
} insns[] = {{"VMLAUNCH", vtx_vmlaunch}, {"VMRESUME", vtx_vmresume}};

static void expect_check(const char *step, const vtx_insn_result *r, vtx_check want, const char *rule)
{
    cr_assert(r->check == want, "%s: expected the check %s to decide, got %s (%s)", step, vtx_check_name(want),
              vtx_check_name(r->check), r->why);
    if (rule)
        cr_assert(r->rule && strcmp(r->rule, rule) == 0, "%s: expected rule %s, got %s", step, rule,
                  r->rule ? r->rule : "(none)");
}

static void set_mov_ss_blocking(bool on)
{
    vtx_root_state root = vt_root(&e);
    root.blocking_by_mov_ss = on;
    vt_set_root(&e, &root);
}

/* ---- ENT-BASIC-1: faults in root operation ---- */

Test(entry_basic, ENT_BASIC_1_compatibility_mode_is_ud, .init = up_server, .fini = down)
{
    VTX_COVERS("ENT-BASIC-1");
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_root_state root = vt_root(&e);
    root.cs_l = false;
    vt_set_root(&e, &root);
    for (size_t i = 0; i < 2; i++) {
        vtx_insn_result r;
        char step[64];
        snprintf(step, sizeof step, "%s in compatibility mode", insns[i].name);
        vt_expect_fault(step, insns[i].fn(e.m, &r), &r, VTX_VECTOR_UD);
        expect_check(step, &r, VTX_CHECK_UD_MODE, "ENT-BASIC-1");
    }
}

Test(entry_basic, ENT_BASIC_1_virtual_8086_mode_is_ud, .init = up_server, .fini = down)
{
    VTX_COVERS("ENT-BASIC-1");
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_root_state root = vt_root(&e);
    root.efer = 0;
    root.cs_l = false;
    root.rflags |= VTX_RFLAGS_VM;
    vt_set_root(&e, &root);
    for (size_t i = 0; i < 2; i++) {
        vtx_insn_result r;
        char step[64];
        snprintf(step, sizeof step, "%s in virtual-8086 mode", insns[i].name);
        vt_expect_fault(step, insns[i].fn(e.m, &r), &r, VTX_VECTOR_UD);
        expect_check(step, &r, VTX_CHECK_UD_MODE, "ENT-BASIC-1");
    }
}

Test(entry_basic, ENT_BASIC_1_cpl_above_0_is_gp, .init = up_server, .fini = down)
{
    VTX_COVERS("ENT-BASIC-1");
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_root_state root = vt_root(&e);
    root.cpl = 3;
    vt_set_root(&e, &root);
    for (size_t i = 0; i < 2; i++) {
        vtx_insn_result r;
        char step[64];
        snprintf(step, sizeof step, "%s at CPL 3", insns[i].name);
        vt_expect_fault(step, insns[i].fn(e.m, &r), &r, VTX_VECTOR_GP);
        expect_check(step, &r, VTX_CHECK_GP_CPL, "ENT-BASIC-1");
    }
    root.cpl = 0;
    vt_set_root(&e, &root);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 0u, "a fault writes no error number");
}

/* ENT-BASIC-1 precedes ENT-BASIC-2: the fault comes even without a current VMCS. */
Test(entry_basic, ENT_BASIC_1_faults_precede_no_current_vmcs, .init = up_server, .fini = down)
{
    VTX_COVERS("ENT-BASIC-1", "ENT-BASIC-2");
    vtx_root_state root = vt_root(&e);
    root.cpl = 3;
    vt_set_root(&e, &root);
    vtx_insn_result r;
    vt_expect_fault("VMLAUNCH at CPL 3 without a current VMCS", vtx_vmlaunch(e.m, &r), &r, VTX_VECTOR_GP);
}

Test(entry_basic, outside_vmx_operation_is_ud)
{
    vt_setup(&e, "server");
    for (size_t i = 0; i < 2; i++) {
        vtx_insn_result r;
        char step[64];
        snprintf(step, sizeof step, "%s outside VMX operation", insns[i].name);
        vt_expect_fault(step, insns[i].fn(e.m, &r), &r, VTX_VECTOR_UD);
        expect_check(step, &r, VTX_CHECK_UD_NOT_IN_VMX, NULL);
    }
    vt_teardown(&e);
}

/* ---- ENT-BASIC-2: VMfailInvalid ---- */

Test(entry_basic, ENT_BASIC_2_no_current_vmcs_is_vmfail_invalid, .init = up_core2, .fini = down)
{
    VTX_COVERS("ENT-BASIC-2");
    for (size_t i = 0; i < 2; i++) {
        vtx_insn_result r;
        char step[64];
        snprintf(step, sizeof step, "%s without a current VMCS", insns[i].name);
        vt_expect(step, insns[i].fn(e.m, &r), &r, VTX_VMFAIL_INVALID, 0);
        expect_check(step, &r, VTX_CHECK_NO_CURRENT_VMCS, "ENT-BASIC-2");
    }
    /* Also after VMCLEAR of the VMCS that was current. */
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_insn_result r;
    vt_expect("VMCLEAR", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMLAUNCH after VMCLEAR of the current VMCS", vtx_vmlaunch(e.m, &r), &r, VTX_VMFAIL_INVALID, 0);
}

/* A server-like machine that supports VMCS shadowing (PROCBASED_CTLS2 allowed-1 bit 14). */
static void up_shadowing(void)
{
    memset(&e, 0, sizeof e);
    const vtx_profile *base;
    cr_assert_eq(vtx_profile_find("server", &base, NULL), VTX_OK);
    vtx_profile p = *base;
    snprintf(p.name, sizeof p.name, "server-shadow");
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] |= (uint64_t)VTX_PROC2_VMCS_SHADOWING << 32;
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_OK, "%s", d.message);
    cr_assert(vtx_profile_has_feature(&p, VTX_FEAT_SHADOW_VMCS));
    vt_setup_profile(&e, &p);
    vt_vmxon(&e);
    /* Load a shadow VMCS: region bit 31 set. */
    vtx_insn_result r;
    vt_poke32(&e, VT_VMCS_PA, e.rev | 0x80000000u);
    vt_expect("VMCLEAR of the shadow VMCS", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMPTRLD of a shadow VMCS with VMCS shadowing", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED,
              0);
    vtx_vmcs_status s;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, VT_VMCS_PA, &s), VTX_OK);
    cr_assert(s.current && s.shadow, "the loaded VMCS must be current and a shadow VMCS");
}

Test(entry_basic, ENT_BASIC_2_shadow_vmcs_current_is_vmfail_invalid, .init = up_shadowing, .fini = down)
{
    VTX_COVERS("ENT-BASIC-2");
    for (size_t i = 0; i < 2; i++) {
        vtx_insn_result r;
        char step[64];
        snprintf(step, sizeof step, "%s with a shadow VMCS current", insns[i].name);
        vt_expect(step, insns[i].fn(e.m, &r), &r, VTX_VMFAIL_INVALID, 0);
        expect_check(step, &r, VTX_CHECK_CURRENT_VMCS_SHADOW, "ENT-BASIC-2");
    }
    /* VMfailInvalid writes no error number into the (shadow) VMCS. */
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 0u);
}

/* ENT-BASIC-2 precedes ENT-BASIC-3: shadow VMCS plus MOV-SS blocking is VMfailInvalid. */
Test(entry_basic, ENT_BASIC_2_shadow_vmcs_precedes_mov_ss_blocking, .init = up_shadowing, .fini = down)
{
    VTX_COVERS("ENT-BASIC-2", "ENT-BASIC-3");
    set_mov_ss_blocking(true);
    vtx_insn_result r;
    vt_expect("VMLAUNCH with a shadow VMCS and MOV-SS blocking", vtx_vmlaunch(e.m, &r), &r, VTX_VMFAIL_INVALID, 0);
    expect_check("VMLAUNCH with a shadow VMCS and MOV-SS blocking", &r, VTX_CHECK_CURRENT_VMCS_SHADOW, "ENT-BASIC-2");
}

/* ---- ENT-BASIC-3 (BLK-MSS-3): MOV-SS blocking, error 26 ---- */

/* A fresh VMCS has all-zero controls, which every profile rejects (the
 * default1 pin-based bits must be 1): error 26 comes first. */
Test(entry_basic, ENT_BASIC_3_mov_ss_blocking_is_error_26_before_invalid_controls, .init = up_server, .fini = down)
{
    VTX_COVERS("ENT-BASIC-3", "BLK-MSS-3");
    vt_load_vmcs(&e, VT_VMCS_PA);
    set_mov_ss_blocking(true);
    vtx_insn_result r;
    vt_expect("VMLAUNCH right after MOV SS", vtx_vmlaunch(e.m, &r), &r, VTX_VMFAIL_VALID, 26);
    expect_check("VMLAUNCH right after MOV SS", &r, VTX_CHECK_ENTRY_MOV_SS_BLOCKING, "ENT-BASIC-3");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 26u, "the error field must read 26");
    vtx_vmcs_status s;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, VT_VMCS_PA, &s), VTX_OK);
    cr_assert_eq(s.launch, VTX_LAUNCH_CLEAR, "a failed VMLAUNCH leaves the launch state clear");
}

/* Error 26 precedes error 5 (VMRESUME with a clear VMCS). */
Test(entry_basic, ENT_BASIC_3_mov_ss_blocking_precedes_error_5, .init = up_core2, .fini = down)
{
    VTX_COVERS("ENT-BASIC-3", "BLK-MSS-3");
    vt_load_vmcs(&e, VT_VMCS_PA);
    set_mov_ss_blocking(true);
    vtx_insn_result r;
    vt_expect("VMRESUME of a clear VMCS right after MOV SS", vtx_vmresume(e.m, &r), &r, VTX_VMFAIL_VALID, 26);
    expect_check("VMRESUME right after MOV SS", &r, VTX_CHECK_ENTRY_MOV_SS_BLOCKING, "ENT-BASIC-3");
}

/* kut 6.6: error 26 with a VMCS that would otherwise enter, and with an invalid
 * guest state (guest RFLAGS bit 1 = 0). */
Test(entry_basic, ENT_BASIC_3_mov_ss_blocking_precedes_a_valid_entry_and_guest_checks)
{
    VTX_COVERS("ENT-BASIC-3", "BLK-MSS-3");
    vt_setup(&e, "teaching");
    vt_baseline(&e);
    set_mov_ss_blocking(true);
    vtx_insn_result r;
    vt_expect("VMLAUNCH of the baseline VMCS right after MOV SS", vtx_vmlaunch(e.m, &r), &r, VTX_VMFAIL_VALID, 26);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0);
    vt_expect("VMLAUNCH with invalid guest RFLAGS right after MOV SS", vtx_vmlaunch(e.m, &r), &r, VTX_VMFAIL_VALID,
              26);
    expect_check("VMLAUNCH with invalid guest RFLAGS right after MOV SS", &r, VTX_CHECK_ENTRY_MOV_SS_BLOCKING,
                 "ENT-BASIC-3");
    vt_teardown(&e);
}

/* kut 6.6: with no current VMCS, VMfailInvalid takes precedence over error 26. */
Test(entry_basic, ENT_BASIC_3_no_current_vmcs_precedes_mov_ss_blocking, .init = up_server, .fini = down)
{
    VTX_COVERS("ENT-BASIC-3", "ENT-BASIC-2");
    set_mov_ss_blocking(true);
    for (size_t i = 0; i < 2; i++) {
        vtx_insn_result r;
        char step[80];
        snprintf(step, sizeof step, "%s right after MOV SS without a current VMCS", insns[i].name);
        vt_expect(step, insns[i].fn(e.m, &r), &r, VTX_VMFAIL_INVALID, 0);
        expect_check(step, &r, VTX_CHECK_NO_CURRENT_VMCS, "ENT-BASIC-2");
    }
}

/* ENT-BASIC-3: VMRESUME requires launch state "launched"; a VMCS after VMCLEAR is clear: error 5. */
Test(entry_basic, ENT_BASIC_3_vmresume_of_a_clear_vmcs_is_error_5, .init = up_server, .fini = down)
{
    VTX_COVERS("ENT-BASIC-3");
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_insn_result r;
    vt_expect("VMRESUME of a clear VMCS", vtx_vmresume(e.m, &r), &r, VTX_VMFAIL_VALID, 5);
    expect_check("VMRESUME of a clear VMCS", &r, VTX_CHECK_VMRESUME_NOT_LAUNCHED, "ENT-BASIC-3");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 5u, "the error field must read 5");
}

/* Error 5 precedes the control checks (error 7): the fresh VMCS has invalid controls. */
Test(entry_basic, ENT_BASIC_3_error_5_precedes_invalid_controls, .init = up_core2, .fini = down)
{
    VTX_COVERS("ENT-BASIC-3");
    vt_load_vmcs(&e, VT_VMCS_PA);
    vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS, 0xFFFFFFFF);
    vtx_insn_result r;
    vt_expect("VMRESUME of a clear VMCS with invalid controls", vtx_vmresume(e.m, &r), &r, VTX_VMFAIL_VALID, 5);
}

/* Error 5 is the same on the baseline VMCS that VMLAUNCH would accept. */
Test(entry_basic, ENT_BASIC_3_vmresume_of_the_baseline_vmcs_is_error_5)
{
    VTX_COVERS("ENT-BASIC-3");
    vt_setup(&e, "core2");
    vt_baseline(&e);
    vtx_insn_result r;
    vt_expect("VMRESUME of the (never launched) baseline VMCS", vtx_vmresume(e.m, &r), &r, VTX_VMFAIL_VALID, 5);
    vt_teardown(&e);
}

Test(entry_basic, null_arguments_are_refused, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(NULL, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmlaunch(e.m, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmresume(NULL, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmresume(e.m, NULL), VTX_ERR_INVALID_ARG);
}
