/* INVEPT and INVVPID (SDM Vol. 3 VMX instruction reference, "Operation"):
 * #UD when unsupported or outside VMX operation, #GP(0) at CPL > 0, and
 * VMfail(28) "Invalid operand to INVEPT/INVVPID" (catalogue L.3) for an
 * unsupported type or a bad descriptor. */
#include <string.h>
#include "helpers.h"

static vt_env e;

static void up_server(void)
{
    vt_setup(&e, "server");
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
}
static void down(void) { vt_teardown(&e); }

/* A valid EPTP for server: WB (6), 4-level walk (3 in bits 5:3), PML4 at 0x10000. */
#define GOOD_EPTP (0x10000ull | (3u << 3) | 6u)

static void expect_check(const char *step, const vtx_insn_result *r, vtx_check want)
{
    cr_assert(r->check == want, "%s: expected the check %s to decide, got %s (%s)", step, vtx_check_name(want),
              vtx_check_name(r->check), r->why);
}

static void invept_fails(const char *step, uint64_t type, uint64_t eptp, vtx_check check)
{
    vtx_invept_desc d = {.eptp = eptp, .reserved = 0};
    vtx_insn_result r;
    vt_expect(step, vtx_invept(e.m, type, &d, &r), &r, VTX_VMFAIL_VALID, 28);
    expect_check(step, &r, check);
}

static void invept_ok(const char *step, uint64_t type, uint64_t eptp)
{
    vtx_invept_desc d = {.eptp = eptp, .reserved = 0};
    vtx_insn_result r;
    vt_expect(step, vtx_invept(e.m, type, &d, &r), &r, VTX_VMSUCCEED, 0);
}

static void invvpid_fails(const char *step, uint64_t type, uint64_t vpid, uint64_t la, vtx_check check)
{
    vtx_invvpid_desc d = {.vpid = vpid, .linear_addr = la};
    vtx_insn_result r;
    vt_expect(step, vtx_invvpid(e.m, type, &d, &r), &r, VTX_VMFAIL_VALID, 28);
    expect_check(step, &r, check);
}

static void invvpid_ok(const char *step, uint64_t type, uint64_t vpid, uint64_t la)
{
    vtx_invvpid_desc d = {.vpid = vpid, .linear_addr = la};
    vtx_insn_result r;
    vt_expect(step, vtx_invvpid(e.m, type, &d, &r), &r, VTX_VMSUCCEED, 0);
}

/* ---- #UD / #GP ---- */

/* core2 has no EPT and no VPIDs: both instructions are #UD. */
Test(invalidate, unsupported_on_core2_is_ud)
{
    vt_setup(&e, "core2");
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_invept_desc ed = {.eptp = GOOD_EPTP};
    vtx_invvpid_desc vd = {.vpid = 1};
    vtx_insn_result r;
    vt_expect_fault("INVEPT on core2", vtx_invept(e.m, VTX_INVEPT_ALL_CONTEXT, &ed, &r), &r, VTX_VECTOR_UD);
    expect_check("INVEPT on core2", &r, VTX_CHECK_UD_INSN_UNSUPPORTED);
    vt_expect_fault("INVVPID on core2", vtx_invvpid(e.m, VTX_INVVPID_ALL_CONTEXT, &vd, &r), &r, VTX_VECTOR_UD);
    expect_check("INVVPID on core2", &r, VTX_CHECK_UD_INSN_UNSUPPORTED);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 0u, "#UD writes no error number");
    vt_teardown(&e);
}

/* A processor whose IA32_VMX_EPT_VPID_CAP lacks bit 20 (INVEPT) / bit 32 (INVVPID). */
Test(invalidate, cap_bits_20_and_32_gate_the_instructions)
{
    memset(&e, 0, sizeof e);
    const vtx_profile *base;
    cr_assert_eq(vtx_profile_find("server", &base, NULL), VTX_OK);
    vtx_profile p = *base;
    p.msr[VTX_CAP_IA32_VMX_EPT_VPID_CAP] &= ~((1ull << 20) | (1ull << 32));
    vtx_machine_config cfg;
    cr_assert_eq(vtx_machine_config_init(&cfg, &p), VTX_OK);
    vtx_diag dg = {0};
    cr_assert_eq(vtx_machine_create(&cfg, &e.m, &dg), VTX_OK, "%s", dg.message);
    e.profile = p;
    e.rev = vtx_basic_revision(p.msr[VTX_CAP_IA32_VMX_BASIC]);
    static uint8_t ram[0x4000] __attribute__((aligned(4096)));
    cr_assert_eq(vtx_machine_map(e.m, 0, sizeof ram, ram, VTX_MEM_RWX, &dg), VTX_OK, "%s", dg.message);
    vt_vmxon(&e);
    vtx_invept_desc ed = {.eptp = GOOD_EPTP};
    vtx_invvpid_desc vd = {.vpid = 1};
    vtx_insn_result r;
    vt_expect_fault("INVEPT without IA32_VMX_EPT_VPID_CAP[20]", vtx_invept(e.m, VTX_INVEPT_ALL_CONTEXT, &ed, &r), &r,
                    VTX_VECTOR_UD);
    vt_expect_fault("INVVPID without IA32_VMX_EPT_VPID_CAP[32]", vtx_invvpid(e.m, VTX_INVVPID_ALL_CONTEXT, &vd, &r),
                    &r, VTX_VECTOR_UD);
    vtx_machine_destroy(e.m);
    e.m = NULL;
}

Test(invalidate, outside_vmx_operation_is_ud)
{
    vt_setup(&e, "server");
    vtx_invept_desc ed = {.eptp = GOOD_EPTP};
    vtx_invvpid_desc vd = {.vpid = 1};
    vtx_insn_result r;
    vt_expect_fault("INVEPT outside VMX operation", vtx_invept(e.m, VTX_INVEPT_ALL_CONTEXT, &ed, &r), &r,
                    VTX_VECTOR_UD);
    expect_check("INVEPT outside VMX", &r, VTX_CHECK_UD_NOT_IN_VMX);
    vt_expect_fault("INVVPID outside VMX operation", vtx_invvpid(e.m, VTX_INVVPID_ALL_CONTEXT, &vd, &r), &r,
                    VTX_VECTOR_UD);
    expect_check("INVVPID outside VMX", &r, VTX_CHECK_UD_NOT_IN_VMX);
    vt_teardown(&e);
}

Test(invalidate, cpl_above_0_is_gp_and_compat_mode_is_ud, .init = up_server, .fini = down)
{
    vtx_invept_desc ed = {.eptp = GOOD_EPTP};
    vtx_invvpid_desc vd = {.vpid = 1};
    vtx_insn_result r;
    vtx_root_state saved = vt_root(&e), root = saved;
    root.cpl = 3;
    vt_set_root(&e, &root);
    /* #GP(0) precedes the operand checks (type 0 would be error 28). */
    vt_expect_fault("INVEPT at CPL 3", vtx_invept(e.m, 0, &ed, &r), &r, VTX_VECTOR_GP);
    expect_check("INVEPT at CPL 3", &r, VTX_CHECK_GP_CPL);
    vt_expect_fault("INVVPID at CPL 3", vtx_invvpid(e.m, 7, &vd, &r), &r, VTX_VECTOR_GP);
    root = saved;
    root.cs_l = false;
    vt_set_root(&e, &root);
    vt_expect_fault("INVEPT in compatibility mode", vtx_invept(e.m, VTX_INVEPT_ALL_CONTEXT, &ed, &r), &r,
                    VTX_VECTOR_UD);
    vt_expect_fault("INVVPID in compatibility mode", vtx_invvpid(e.m, VTX_INVVPID_ALL_CONTEXT, &vd, &r), &r,
                    VTX_VECTOR_UD);
}

/* ---- INVEPT ---- */

Test(invept, supported_types_succeed, .init = up_server, .fini = down)
{
    invept_ok("INVEPT single-context with a valid EPTP", VTX_INVEPT_SINGLE_CONTEXT, GOOD_EPTP);
    invept_ok("INVEPT single-context with a UC EPTP", VTX_INVEPT_SINGLE_CONTEXT, 0x10000ull | (3u << 3));
    invept_ok("INVEPT single-context at the top of the width", VTX_INVEPT_SINGLE_CONTEXT,
              (((1ull << e.profile.phys_addr_width) - 1) & ~0xFFFull) | (3u << 3) | 6u);
    invept_ok("INVEPT all-context", VTX_INVEPT_ALL_CONTEXT, GOOD_EPTP);
    /* All-context invalidation does not look at the EPTP. */
    invept_ok("INVEPT all-context with a garbage EPTP", VTX_INVEPT_ALL_CONTEXT, 0xFFFFFFFFFFFFFFFFull);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 0u);
}

/* Types IA32_VMX_EPT_VPID_CAP does not report (0, 3 and anything above 3) are error 28. */
Test(invept, unsupported_types_are_error_28, .init = up_server, .fini = down)
{
    static const uint64_t types[] = {0, 3, 4, 0x100000001ull, 0xFFFFFFFFFFFFFFFFull};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char step[64];
        snprintf(step, sizeof step, "INVEPT type 0x%llx", (unsigned long long)types[i]);
        invept_fails(step, types[i], GOOD_EPTP, VTX_CHECK_INVEPT_TYPE);
    }
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 28u, "the error field must read 28");
}

/* Single-context: the EPTP must be one VM entry with "enable EPT" would accept. */
Test(invept, bad_eptp_is_error_28, .init = up_server, .fini = down)
{
    invept_fails("EPTP memory type 1 (WC)", 1, (GOOD_EPTP & ~7ull) | 1, VTX_CHECK_INVEPT_EPTP);
    invept_fails("EPTP memory type 7", 1, GOOD_EPTP | 7, VTX_CHECK_INVEPT_EPTP);
    invept_fails("EPTP walk length 2 (3 levels)", 1, (GOOD_EPTP & ~0x38ull) | (2u << 3), VTX_CHECK_INVEPT_EPTP);
    invept_fails("EPTP walk length 5 levels (not supported by server)", 1, (GOOD_EPTP & ~0x38ull) | (4u << 3),
                 VTX_CHECK_INVEPT_EPTP);
    invept_fails("EPTP A/D bit without A/D support", 1, GOOD_EPTP | (1u << 6), VTX_CHECK_INVEPT_EPTP);
    for (unsigned b = 7; b <= 11; b++) {
        char step[64];
        snprintf(step, sizeof step, "EPTP reserved bit %u", b);
        invept_fails(step, 1, GOOD_EPTP | (1ull << b), VTX_CHECK_INVEPT_EPTP);
    }
    char step[80];
    snprintf(step, sizeof step, "EPTP bit %u (the physical-address width)", e.profile.phys_addr_width);
    invept_fails(step, 1, GOOD_EPTP | (1ull << e.profile.phys_addr_width), VTX_CHECK_INVEPT_EPTP);
    invept_fails("EPTP bit 63", 1, GOOD_EPTP | (1ull << 63), VTX_CHECK_INVEPT_EPTP);
}

/* Outside 64-bit mode the type register has 32 bits. */
Test(invept, type_register_is_32_bits_outside_64bit_mode, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.efer = 0;
    root.cs_l = false;
    vt_set_root(&e, &root);
    invept_ok("32-bit INVEPT with type 0x1_00000002", 0x100000002ull, GOOD_EPTP);
    invept_fails("32-bit INVEPT with type 0x1_00000003", 0x100000003ull, GOOD_EPTP, VTX_CHECK_INVEPT_TYPE);
}

/* VMfail is VMfailInvalid without a current VMCS, VMfailValid(28) with one. */
Test(invept, vmfail_invalid_without_a_current_vmcs, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    vt_expect("VMCLEAR", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    vtx_invept_desc d = {.eptp = GOOD_EPTP};
    vt_expect("INVEPT type 0 without a current VMCS", vtx_invept(e.m, 0, &d, &r), &r, VTX_VMFAIL_INVALID, 0);
    expect_check("INVEPT type 0 without a current VMCS", &r, VTX_CHECK_INVEPT_TYPE);
    d.eptp = 0;
    vt_expect("INVEPT with a bad EPTP without a current VMCS", vtx_invept(e.m, 1, &d, &r), &r, VTX_VMFAIL_INVALID, 0);
    expect_check("INVEPT with a bad EPTP without a current VMCS", &r, VTX_CHECK_INVEPT_EPTP);
    vt_expect("INVEPT all-context without a current VMCS", vtx_invept(e.m, 2, &d, &r), &r, VTX_VMSUCCEED, 0);
}

/* ---- INVVPID ---- */

Test(invvpid, supported_types_succeed, .init = up_server, .fini = down)
{
    invvpid_ok("INVVPID individual-address", VTX_INVVPID_INDIVIDUAL_ADDR, 1, 0x7FFFFFFFF000ull);
    invvpid_ok("INVVPID individual-address, upper-half canonical", VTX_INVVPID_INDIVIDUAL_ADDR, 0xFFFF,
               0xFFFF800000000000ull);
    invvpid_ok("INVVPID single-context", VTX_INVVPID_SINGLE_CONTEXT, 5, 0);
    invvpid_ok("INVVPID all-context", VTX_INVVPID_ALL_CONTEXT, 5, 0);
    invvpid_ok("INVVPID single-context retaining globals", VTX_INVVPID_SINGLE_CONTEXT_GLOBALS, 5, 0);
    /* The linear address matters only for individual-address invalidation. */
    invvpid_ok("INVVPID single-context with a non-canonical address", VTX_INVVPID_SINGLE_CONTEXT, 5,
               0x0000800000000000ull);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 0u);
}

/* All-context invalidation with VPID 0 succeeds (the VPID is not used). */
Test(invvpid, all_context_with_vpid_0_succeeds, .init = up_server, .fini = down)
{
    invvpid_ok("INVVPID all-context with VPID 0", VTX_INVVPID_ALL_CONTEXT, 0, 0);
}

Test(invvpid, unsupported_types_are_error_28, .init = up_server, .fini = down)
{
    static const uint64_t types[] = {4, 5, 0x100000000ull, 0xFFFFFFFFFFFFFFFFull};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char step[64];
        snprintf(step, sizeof step, "INVVPID type 0x%llx", (unsigned long long)types[i]);
        invvpid_fails(step, types[i], 1, 0, VTX_CHECK_INVVPID_TYPE);
    }
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 28u);
}

/* A processor that reports only some INVVPID types (bits 40-43). */
Test(invvpid, types_missing_from_the_cap_msr_are_error_28)
{
    memset(&e, 0, sizeof e);
    const vtx_profile *base;
    cr_assert_eq(vtx_profile_find("server", &base, NULL), VTX_OK);
    vtx_profile p = *base;
    p.msr[VTX_CAP_IA32_VMX_EPT_VPID_CAP] &= ~((1ull << 40) | (1ull << 43) | (1ull << 25));
    vtx_machine_config cfg;
    cr_assert_eq(vtx_machine_config_init(&cfg, &p), VTX_OK);
    vtx_diag dg = {0};
    cr_assert_eq(vtx_machine_create(&cfg, &e.m, &dg), VTX_OK, "%s", dg.message);
    static uint8_t ram[0x4000] __attribute__((aligned(4096)));
    cr_assert_eq(vtx_machine_map(e.m, 0, sizeof ram, ram, VTX_MEM_RWX, &dg), VTX_OK, "%s", dg.message);
    e.profile = p;
    e.rev = vtx_basic_revision(p.msr[VTX_CAP_IA32_VMX_BASIC]);
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
    invvpid_fails("INVVPID individual-address without cap bit 40", 0, 1, 0, VTX_CHECK_INVVPID_TYPE);
    invvpid_fails("INVVPID type 3 without cap bit 43", 3, 1, 0, VTX_CHECK_INVVPID_TYPE);
    invvpid_ok("INVVPID single-context with cap bit 41", 1, 1, 0);
    invept_fails("INVEPT single-context without cap bit 25", 1, GOOD_EPTP, VTX_CHECK_INVEPT_TYPE);
    invept_ok("INVEPT all-context with cap bit 26", 2, GOOD_EPTP);
    vtx_machine_destroy(e.m);
    e.m = NULL;
}

Test(invvpid, descriptor_bits_63_16_must_be_0, .init = up_server, .fini = down)
{
    for (uint64_t t = 0; t <= 3; t++) {
        char step[64];
        snprintf(step, sizeof step, "INVVPID type %llu with descriptor bit 16 set", (unsigned long long)t);
        invvpid_fails(step, t, 0x10001, 0, VTX_CHECK_INVVPID_DESC_RESERVED);
        snprintf(step, sizeof step, "INVVPID type %llu with descriptor bit 63 set", (unsigned long long)t);
        invvpid_fails(step, t, (1ull << 63) | 1, 0, VTX_CHECK_INVVPID_DESC_RESERVED);
    }
    /* The reserved-bit check precedes the VPID check: VPID bits 15:0 are 0 here. */
    invvpid_fails("INVVPID single-context with descriptor 0x10000", 1, 0x10000, 0, VTX_CHECK_INVVPID_DESC_RESERVED);
}

/* VPID 0 is the host's: types 0, 1 and 3 need a non-zero VPID. */
Test(invvpid, vpid_0_is_error_28_for_types_0_1_3, .init = up_server, .fini = down)
{
    invvpid_fails("INVVPID individual-address with VPID 0", 0, 0, 0x1000, VTX_CHECK_INVVPID_VPID_ZERO);
    invvpid_fails("INVVPID single-context with VPID 0", 1, 0, 0, VTX_CHECK_INVVPID_VPID_ZERO);
    invvpid_fails("INVVPID single-context-globals with VPID 0", 3, 0, 0, VTX_CHECK_INVVPID_VPID_ZERO);
    /* VPID 0 is checked before the address: both wrong gives the VPID check. */
    invvpid_fails("INVVPID individual-address, VPID 0 and non-canonical", 0, 0, 0x0000800000000000ull,
                  VTX_CHECK_INVVPID_VPID_ZERO);
}

/* Individual-address invalidation needs a canonical linear address. */
Test(invvpid, non_canonical_address_is_error_28_for_type_0, .init = up_server, .fini = down)
{
    invvpid_fails("INVVPID individual-address 0x0000800000000000", 0, 1, 0x0000800000000000ull,
                  VTX_CHECK_INVVPID_NONCANONICAL);
    invvpid_fails("INVVPID individual-address 0xFFFF7FFFFFFFFFFF", 0, 1, 0xFFFF7FFFFFFFFFFFull,
                  VTX_CHECK_INVVPID_NONCANONICAL);
    invvpid_fails("INVVPID individual-address 0x8000000000000000", 0, 1, 0x8000000000000000ull,
                  VTX_CHECK_INVVPID_NONCANONICAL);
}

Test(invvpid, vmfail_invalid_without_a_current_vmcs, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    vt_expect("VMCLEAR", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    vtx_invvpid_desc d = {.vpid = 0, .linear_addr = 0};
    vt_expect("INVVPID single-context with VPID 0, no current VMCS", vtx_invvpid(e.m, 1, &d, &r), &r,
              VTX_VMFAIL_INVALID, 0);
    expect_check("INVVPID VPID 0, no current VMCS", &r, VTX_CHECK_INVVPID_VPID_ZERO);
    vt_expect("INVVPID type 9, no current VMCS", vtx_invvpid(e.m, 9, &d, &r), &r, VTX_VMFAIL_INVALID, 0);
    vt_expect("INVVPID all-context, no current VMCS", vtx_invvpid(e.m, 2, &d, &r), &r, VTX_VMSUCCEED, 0);
    /* Back with a current VMCS, its error field was not written. */
    vt_expect("VMPTRLD", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 0u);
}

Test(invalidate, null_arguments_are_refused, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    vtx_invept_desc ed = {0};
    vtx_invvpid_desc vd = {0};
    cr_assert_eq(vtx_invept(NULL, 2, &ed, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_invept(e.m, 2, NULL, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_invept(e.m, 2, &ed, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_invvpid(NULL, 2, &vd, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_invvpid(e.m, 2, NULL, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_invvpid(e.m, 2, &vd, NULL), VTX_ERR_INVALID_ARG);
}
