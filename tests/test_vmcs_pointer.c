/* VMCLEAR, VMPTRLD and VMPTRST (SDM Vol. 3 VMX instruction reference and
 * "VMCS Status"): errors 2, 3, 9, 10 and 11 (catalogue L.3), the current-VMCS
 * pointer, launch state and VMCS contents. */
#include <string.h>
#include "helpers.h"

static vt_env e;

static void up(const char *profile)
{
    vt_setup(&e, profile);
    vt_vmxon(&e);
    vt_poke32(&e, VT_VMCS_PA, e.rev);
    vt_poke32(&e, VT_VMCS2_PA, e.rev);
}
static void up_server(void) { up("server"); }
static void up_core2(void) { up("core2"); }
static void down(void) { vt_teardown(&e); }

static void expect_check(const char *step, const vtx_insn_result *r, vtx_check want)
{
    cr_assert(r->check == want, "%s: expected the check %s to decide, got %s (%s)", step, vtx_check_name(want),
              vtx_check_name(r->check), r->why);
}

static uint64_t vmptrst(void)
{
    vtx_insn_result r;
    vt_expect("VMPTRST", vtx_vmptrst(e.m, &r), &r, VTX_VMSUCCEED, 0);
    return r.value;
}

static vtx_vmcs_status status_of(uint64_t pa)
{
    vtx_vmcs_status s;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, pa, &s), VTX_OK, "the model has not seen VMCS 0x%llx",
                 (unsigned long long)pa);
    return s;
}

/* An operand check that fails: VMfailInvalid without a current VMCS, VMfailValid
 * with one (the number goes to the current VMCS, which stays current). */
typedef vtx_status (*ptr_insn)(vtx_machine *, uint64_t, vtx_insn_result *);

static void expect_vmfail(const char *step, ptr_insn insn, uint64_t pa, uint32_t err, vtx_check check)
{
    vtx_insn_result r;
    char s[160];
    /* No current VMCS. */
    vt_expect("VMCLEAR of the loaded VMCS", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    snprintf(s, sizeof s, "%s without a current VMCS", step);
    vt_expect(s, insn(e.m, pa, &r), &r, VTX_VMFAIL_INVALID, 0);
    expect_check(s, &r, check);
    cr_assert_eq(vtx_machine_current_vmcs(e.m), ~0ull, "%s: a failure made a VMCS current", s);
    /* With VT_VMCS_PA current. */
    vt_expect("VMPTRLD", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    snprintf(s, sizeof s, "%s with a current VMCS", step);
    vt_expect(s, insn(e.m, pa, &r), &r, VTX_VMFAIL_VALID, err);
    expect_check(s, &r, check);
    cr_assert_eq(vmptrst(), (uint64_t)VT_VMCS_PA, "%s: the current VMCS changed", s);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), err, "%s: the current VMCS's error field must read %u",
                 s, err);
}

/* ---- VMCLEAR ---- */

Test(vmclear, misaligned_address_is_error_2, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    expect_vmfail("VMCLEAR of 0x3004", vtx_vmclear, VT_VMCS2_PA + 4, 2, VTX_CHECK_VMCLEAR_ADDR);
    expect_vmfail("VMCLEAR of 0x3800", vtx_vmclear, VT_VMCS2_PA + 0x800, 2, VTX_CHECK_VMCLEAR_ADDR);
}

Test(vmclear, address_beyond_physical_width_is_error_2, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    uint64_t pa = 1ull << e.profile.phys_addr_width;
    expect_vmfail("VMCLEAR beyond the physical-address width", vtx_vmclear, pa, 2, VTX_CHECK_VMCLEAR_ADDR);
    expect_vmfail("VMCLEAR with bit 63 set", vtx_vmclear, (1ull << 63) | VT_VMCS2_PA, 2, VTX_CHECK_VMCLEAR_ADDR);
}

Test(vmclear, vmxon_pointer_is_error_3, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    expect_vmfail("VMCLEAR of the VMXON region", vtx_vmclear, VT_VMXON_PA, 3, VTX_CHECK_VMCLEAR_VMXON_PTR);
}

/* VMCLEAR of the current VMCS makes the current-VMCS pointer invalid. */
Test(vmclear, of_the_current_vmcs_invalidates_the_pointer, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    cr_assert_eq(vmptrst(), (uint64_t)VT_VMCS_PA);
    vtx_insn_result r;
    vt_expect("VMCLEAR of the current VMCS", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(vmptrst(), ~0ull, "VMPTRST after VMCLEAR of the current VMCS must store all ones");
    cr_assert_eq(vtx_machine_current_vmcs(e.m), ~0ull);
    vt_expect("VMREAD after VMCLEAR of the current VMCS", vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), &r,
              VTX_VMFAIL_INVALID, 0);
    vtx_vmcs_status s = status_of(VT_VMCS_PA);
    cr_assert(!s.current && !s.active, "after VMCLEAR the VMCS is neither current nor active");
    cr_assert_eq(s.launch, VTX_LAUNCH_CLEAR, "VMCLEAR sets the launch state to clear");
}

/* VMCLEAR of another VMCS leaves the current one alone. */
Test(vmclear, of_another_vmcs_keeps_the_current_one, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_insn_result r;
    vt_expect("VMCLEAR of VMCS 2", vtx_vmclear(e.m, VT_VMCS2_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(vmptrst(), (uint64_t)VT_VMCS_PA);
    vtx_vmcs_status s = status_of(VT_VMCS2_PA);
    cr_assert_eq(s.launch, VTX_LAUNCH_CLEAR);
    cr_assert(!s.current);
}

/* VMCLEAR does not check the revision identifier (only VMPTRLD does). */
Test(vmclear, does_not_check_the_revision, .init = up_server, .fini = down)
{
    vt_poke32(&e, VT_VMCS2_PA, 0xDEAD);
    vtx_insn_result r;
    vt_expect("VMCLEAR of a region with a foreign revision", vtx_vmclear(e.m, VT_VMCS2_PA, &r), &r, VTX_VMSUCCEED, 0);
}

Test(vmclear, unmapped_region_is_an_error, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    cr_assert_eq(vtx_vmclear(e.m, 0x400000, &r), VTX_ERR_UNMAPPED);
    cr_assert(strstr(r.why, "0x400000"), "result.why names the address: %s", r.why);
}

/* ---- VMPTRLD ---- */

Test(vmptrld, invalid_address_is_error_9, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    expect_vmfail("VMPTRLD of 0x3008", vtx_vmptrld, VT_VMCS2_PA + 8, 9, VTX_CHECK_VMPTRLD_ADDR);
    expect_vmfail("VMPTRLD beyond the physical-address width", vtx_vmptrld, 1ull << e.profile.phys_addr_width, 9,
                  VTX_CHECK_VMPTRLD_ADDR);
}

Test(vmptrld, vmxon_pointer_is_error_10, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    expect_vmfail("VMPTRLD of the VMXON region", vtx_vmptrld, VT_VMXON_PA, 10, VTX_CHECK_VMPTRLD_VMXON_PTR);
}

Test(vmptrld, wrong_revision_is_error_11, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    vt_poke32(&e, VT_VMCS2_PA, e.rev + 1);
    expect_vmfail("VMPTRLD of a region with revision + 1", vtx_vmptrld, VT_VMCS2_PA, 11, VTX_CHECK_VMPTRLD_REVISION);
}

/* Bit 31 (shadow-VMCS indicator) without "VMCS shadowing": error 11. */
Test(vmptrld, shadow_bit_without_vmcs_shadowing_is_error_11, .init = up_core2, .fini = down)
{
    cr_assert(!vtx_profile_has_feature(&e.profile, VTX_FEAT_SHADOW_VMCS), "core2 has no VMCS shadowing");
    vt_load_vmcs(&e, VT_VMCS_PA);
    vt_poke32(&e, VT_VMCS2_PA, e.rev | 0x80000000u);
    expect_vmfail("VMPTRLD of a shadow VMCS on core2", vtx_vmptrld, VT_VMCS2_PA, 11, VTX_CHECK_VMPTRLD_REVISION);
}

Test(vmptrld, unmapped_region_is_an_error, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    cr_assert_eq(vtx_vmptrld(e.m, 0x400000, &r), VTX_ERR_UNMAPPED);
    cr_assert(strstr(r.why, "0x400000"), "result.why names the address: %s", r.why);
    cr_assert_eq(vtx_machine_current_vmcs(e.m), ~0ull);
}

/* A region with another revision is refused and the current VMCS stays. */
Test(vmptrld, region_of_another_revision_is_refused, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0xAAAA);
    vt_poke32(&e, VT_VMCS2_PA, 1); /* teaching's revision, not server's */
    vtx_insn_result r;
    vt_expect("VMPTRLD of a teaching VMCS on server", vtx_vmptrld(e.m, VT_VMCS2_PA, &r), &r, VTX_VMFAIL_VALID, 11);
    cr_assert_eq(vmptrst(), (uint64_t)VT_VMCS_PA);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0xAAAAu, "the current VMCS must be untouched");
}

/* VMfailValid writes the error into the current VMCS, not the operand's. */
Test(vmptrld, error_goes_to_the_current_vmcs, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS2_PA);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 0u);
    vt_load_vmcs(&e, VT_VMCS_PA);
    vt_poke32(&e, VT_VMCS2_PA, e.rev + 5);
    vtx_insn_result r;
    vt_expect("VMPTRLD of VMCS 2 with a bad revision", vtx_vmptrld(e.m, VT_VMCS2_PA, &r), &r, VTX_VMFAIL_VALID, 11);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 11u);
    vt_poke32(&e, VT_VMCS2_PA, e.rev);
    vt_expect("VMPTRLD of VMCS 2", vtx_vmptrld(e.m, VT_VMCS2_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 0u, "VMCS 2 must not have received error 11");
}

Test(vmptrld, makes_the_vmcs_current_and_active, .init = up_server, .fini = down)
{
    vtx_vmcs_status s;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, VT_VMCS_PA, &s), VTX_ERR_NOT_FOUND, "a VMCS never used is unknown");
    vt_load_vmcs(&e, VT_VMCS_PA);
    s = status_of(VT_VMCS_PA);
    cr_assert(s.current && s.active && !s.shadow, "after VMPTRLD: current %d, active %d, shadow %d", s.current,
              s.active, s.shadow);
    cr_assert_eq(s.launch, VTX_LAUNCH_CLEAR);
    cr_assert_eq(s.pa, (uint64_t)VT_VMCS_PA);
    vt_load_vmcs(&e, VT_VMCS2_PA);
    s = status_of(VT_VMCS_PA);
    cr_assert(!s.current && s.active, "the previous VMCS stays active (not VMCLEARed) but is not current");
}

/* Each VMCS keeps its own contents across VMPTRLD switches. */
Test(vmptrld, switching_vmcs_keeps_each_one_s_contents, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x1111);
    vt_vmwrite(&e, VTX_VMCS_TSC_OFFSET, 0xA);
    vt_load_vmcs(&e, VT_VMCS2_PA);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0u, "a new VMCS must not show another VMCS's fields");
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x2222);
    vtx_insn_result r;
    vt_expect("VMPTRLD of VMCS 1", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0x1111u);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_TSC_OFFSET), 0xAu);
    vt_expect("VMPTRLD of VMCS 2", vtx_vmptrld(e.m, VT_VMCS2_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0x2222u);
}

/* VMCLEAR writes the VMCS data back to its region; a later VMPTRLD sees it again. */
Test(vmptrld, contents_survive_vmclear_and_vmptrld, .init = up_server, .fini = down)
{
    vt_load_vmcs(&e, VT_VMCS_PA);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0xFFFFFFFF81000000ull);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_SELECTOR, 0x10);
    vtx_insn_result r;
    vt_expect("VMCLEAR", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMPTRLD", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0xFFFFFFFF81000000ull);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_CS_SELECTOR), 0x10u);
}

/* ---- VMPTRST ---- */

Test(vmptrst, all_ones_without_a_current_vmcs_and_the_pointer_after_vmptrld, .init = up_server, .fini = down)
{
    cr_assert_eq(vmptrst(), ~0ull, "VMPTRST right after VMXON stores FFFFFFFF_FFFFFFFFH");
    vt_load_vmcs(&e, VT_VMCS2_PA);
    cr_assert_eq(vmptrst(), (uint64_t)VT_VMCS2_PA);
    vtx_insn_result r;
    vt_expect("VMPTRLD of VMCS 1", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(vmptrst(), (uint64_t)VT_VMCS_PA);
}

/* ---- faults shared by all three ---- */

Test(vmcs_pointer, faults_outside_vmx_at_cpl3_and_in_compat_mode, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    vtx_root_state saved = vt_root(&e), root = saved;
    root.cpl = 3;
    vt_set_root(&e, &root);
    vt_expect_fault("VMCLEAR at CPL 3", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VECTOR_GP);
    vt_expect_fault("VMPTRLD at CPL 3", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VECTOR_GP);
    vt_expect_fault("VMPTRST at CPL 3", vtx_vmptrst(e.m, &r), &r, VTX_VECTOR_GP);
    /* #GP precedes the operand checks. */
    vt_expect_fault("VMCLEAR of a misaligned address at CPL 3", vtx_vmclear(e.m, 0x3001, &r), &r, VTX_VECTOR_GP);
    root = saved;
    root.cs_l = false;
    vt_set_root(&e, &root);
    vt_expect_fault("VMPTRLD in compatibility mode", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VECTOR_UD);
    vt_set_root(&e, &saved);
    cr_assert_eq(vtx_machine_current_vmcs(e.m), ~0ull, "a faulting VMPTRLD made a VMCS current");
    vt_expect("VMXOFF", vtx_vmxoff(e.m, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect_fault("VMCLEAR outside VMX", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VECTOR_UD);
    cr_assert_eq(r.check, VTX_CHECK_UD_NOT_IN_VMX);
    vt_expect_fault("VMPTRLD outside VMX", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VECTOR_UD);
    vt_expect_fault("VMPTRST outside VMX", vtx_vmptrst(e.m, &r), &r, VTX_VECTOR_UD);
}

Test(vmcs_pointer, null_arguments_are_refused, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    vtx_vmcs_status s;
    cr_assert_eq(vtx_vmclear(NULL, VT_VMCS_PA, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmptrld(e.m, VT_VMCS_PA, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmptrst(e.m, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_vmcs_status(e.m, VT_VMCS_PA, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_vmcs_status(NULL, VT_VMCS_PA, &s), VTX_ERR_INVALID_ARG);
}
