/* VMXON and VMXOFF (SDM Vol. 3 VMX instruction reference, VMXON "Operation"):
 * #UD, then (outside VMX operation) #GP(0), then VMfailInvalid for the
 * pointer; in VMX root operation #GP(0) at CPL > 0, else VMfail with error 15
 * (catalogue L.3). Also the root-state rules the machine enforces. */
#include <stdlib.h>
#include <string.h>
#include "helpers.h"

static vt_env e;

/* A machine whose IA32_FEATURE_CONTROL starts as @fc (vt_setup locks it). */
static void setup_fc(const char *profile, uint64_t fc)
{
    memset(&e, 0, sizeof e);
    const vtx_profile *p;
    cr_assert_eq(vtx_profile_find(profile, &p, NULL), VTX_OK);
    e.profile = *p;
    e.rev = vtx_basic_revision(p->msr[VTX_CAP_IA32_VMX_BASIC]);
    vtx_machine_config cfg;
    cr_assert_eq(vtx_machine_config_init(&cfg, p), VTX_OK);
    cfg.root.feature_control = fc;
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_create(&cfg, &e.m, &d), VTX_OK, "%s", d.message);
    e.ram = aligned_alloc(4096, VT_RAM_SIZE);
    cr_assert_not_null(e.ram);
    memset(e.ram, 0, VT_RAM_SIZE);
    cr_assert_eq(vtx_machine_map(e.m, 0, VT_RAM_SIZE, e.ram, VTX_MEM_RWX, &d), VTX_OK, "%s", d.message);
}

static void up_server(void)
{
    vt_setup(&e, "server");
    vt_poke32(&e, VT_VMXON_PA, e.rev);
}
static void up_core2(void)
{
    vt_setup(&e, "core2");
    vt_poke32(&e, VT_VMXON_PA, e.rev);
}
static void down(void) { vt_teardown(&e); }

static void expect_check(const char *step, const vtx_insn_result *r, vtx_check want)
{
    cr_assert(r->check == want, "%s: expected the check %s to decide, got %s (%s)", step, vtx_check_name(want),
              vtx_check_name(r->check), r->why);
}

/* VMXON that must fault with @vector by @check and leave the machine outside VMX operation. */
static void vmxon_faults(const char *step, uint8_t vector, vtx_check check)
{
    vtx_insn_result r;
    vt_expect_fault(step, vtx_vmxon(e.m, VT_VMXON_PA, &r), &r, vector);
    expect_check(step, &r, check);
    cr_assert(!vtx_machine_in_vmx(e.m), "%s: a faulting VMXON entered VMX operation", step);
}

static void vmxon_fails_invalid(const char *step, uint64_t pa, vtx_check check)
{
    vtx_insn_result r;
    vt_expect(step, vtx_vmxon(e.m, pa, &r), &r, VTX_VMFAIL_INVALID, 0);
    expect_check(step, &r, check);
    cr_assert(!vtx_machine_in_vmx(e.m), "%s: a failed VMXON entered VMX operation", step);
}

/* ---- success ---- */

Test(vmxon, succeeds_and_enters_vmx_operation_with_no_current_vmcs, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    cr_assert(!vtx_machine_in_vmx(e.m));
    vt_expect("VMXON", vtx_vmxon(e.m, VT_VMXON_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(r.check, VTX_CHECK_NONE);
    cr_assert(vtx_machine_in_vmx(e.m), "VMXON succeeded but the machine is not in VMX operation");
    cr_assert_eq(vtx_machine_current_vmcs(e.m), ~0ull, "VMXON sets the current-VMCS pointer to all ones");
    vt_expect("VMPTRST", vtx_vmptrst(e.m, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(r.value, ~0ull);
    cr_assert(!(vt_root(&e).rflags & (VTX_RFLAGS_CF | VTX_RFLAGS_ZF)));
}

/* VMXON is allowed outside IA-32e mode: 32-bit protected mode with paging. */
Test(vmxon, succeeds_in_32bit_protected_mode, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.efer = 0;
    root.cs_l = false;
    vt_set_root(&e, &root);
    vtx_insn_result r;
    vt_expect("VMXON in 32-bit protected mode", vtx_vmxon(e.m, VT_VMXON_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert(vtx_machine_in_vmx(e.m));
    vt_expect("VMXOFF in 32-bit protected mode", vtx_vmxoff(e.m, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert(!vtx_machine_in_vmx(e.m));
}

/* ---- #UD (checked first, in and outside VMX operation) ---- */

Test(vmxon, real_mode_cr0_pe_0_is_ud, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.cr0 &= ~(uint64_t)(VTX_CR0_PE | VTX_CR0_PG);
    root.efer = 0;
    root.cs_l = false;
    vt_set_root(&e, &root);
    vmxon_faults("VMXON with CR0.PE = 0", VTX_VECTOR_UD, VTX_CHECK_UD_MODE);
}

Test(vmxon, virtual_8086_mode_is_ud, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.efer = 0;
    root.cs_l = false;
    root.rflags |= VTX_RFLAGS_VM;
    root.cpl = 3; /* V86 code runs at CPL 3; #UD still wins over #GP */
    vt_set_root(&e, &root);
    vmxon_faults("VMXON with RFLAGS.VM = 1", VTX_VECTOR_UD, VTX_CHECK_UD_MODE);
}

Test(vmxon, compatibility_mode_is_ud, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.cs_l = false; /* IA32_EFER.LMA = 1, CS.L = 0 */
    vt_set_root(&e, &root);
    vmxon_faults("VMXON in compatibility mode", VTX_VECTOR_UD, VTX_CHECK_UD_MODE);
}

Test(vmxon, cr4_vmxe_0_is_ud, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.cr4 &= ~(uint64_t)VTX_CR4_VMXE;
    vt_set_root(&e, &root);
    vmxon_faults("VMXON with CR4.VMXE = 0", VTX_VECTOR_UD, VTX_CHECK_UD_CR4_VMXE);
}

/* #UD takes precedence over every #GP(0) condition. */
Test(vmxon, ud_precedes_gp, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.cr4 &= ~(uint64_t)VTX_CR4_VMXE;
    root.cpl = 3;
    vt_set_root(&e, &root);
    vmxon_faults("VMXON with CR4.VMXE = 0 at CPL 3", VTX_VECTOR_UD, VTX_CHECK_UD_CR4_VMXE);
}

Test(vmxon, ud_precedes_gp_for_feature_control)
{
    setup_fc("server", 0);
    vtx_root_state root = vt_root(&e);
    root.cs_l = false;
    vt_set_root(&e, &root);
    vmxon_faults("VMXON in compatibility mode with IA32_FEATURE_CONTROL unlocked", VTX_VECTOR_UD,
                 VTX_CHECK_UD_MODE);
    vt_teardown(&e);
}

/* ---- #GP(0) outside VMX operation ---- */

Test(vmxon, cpl_above_0_is_gp, .init = up_server, .fini = down)
{
    for (uint8_t cpl = 1; cpl <= 3; cpl++) {
        vtx_root_state root = vt_root(&e);
        root.cpl = cpl;
        vt_set_root(&e, &root);
        char step[32];
        snprintf(step, sizeof step, "VMXON at CPL %u", cpl);
        vmxon_faults(step, VTX_VECTOR_GP, VTX_CHECK_GP_CPL);
    }
}

Test(vmxon, cr0_outside_fixed_bits_is_gp, .init = up_server, .fini = down)
{
    vtx_root_state saved = vt_root(&e), root = saved;
    root.cr0 &= ~(uint64_t)VTX_CR0_NE; /* IA32_VMX_CR0_FIXED0 has NE */
    vt_set_root(&e, &root);
    vmxon_faults("VMXON with CR0.NE = 0", VTX_VECTOR_GP, VTX_CHECK_VMXON_GP_CR0_FIXED);
    root = saved;
    root.cr0 |= 1ull << 32; /* IA32_VMX_CR0_FIXED1 is 0xffffffff */
    vt_set_root(&e, &root);
    vmxon_faults("VMXON with CR0 bit 32 set", VTX_VECTOR_GP, VTX_CHECK_VMXON_GP_CR0_FIXED);
}

Test(vmxon, cr4_outside_fixed_bits_is_gp, .init = up_core2, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.cr4 |= 1u << 12; /* not in core2's IA32_VMX_CR4_FIXED1 (0x67ff) */
    vt_set_root(&e, &root);
    vmxon_faults("VMXON with CR4 bit 12 set", VTX_VECTOR_GP, VTX_CHECK_VMXON_GP_CR4_FIXED);
}

Test(vmxon, feature_control_lock_clear_is_gp)
{
    setup_fc("server", VTX_FEATURE_CONTROL_VMX_OUTSIDE_SMX | VTX_FEATURE_CONTROL_VMX_IN_SMX);
    vt_poke32(&e, VT_VMXON_PA, e.rev);
    vmxon_faults("VMXON with IA32_FEATURE_CONTROL unlocked", VTX_VECTOR_GP, VTX_CHECK_VMXON_GP_FC_LOCK);
    vt_teardown(&e);
}

Test(vmxon, vmx_outside_smx_clear_is_gp)
{
    setup_fc("server", VTX_FEATURE_CONTROL_LOCK | VTX_FEATURE_CONTROL_VMX_IN_SMX);
    vt_poke32(&e, VT_VMXON_PA, e.rev);
    vmxon_faults("VMXON outside SMX with IA32_FEATURE_CONTROL bit 2 clear", VTX_VECTOR_GP,
                 VTX_CHECK_VMXON_GP_FC_ENABLE);
    vt_teardown(&e);
}

/* In SMX operation only bit 1 (VMX in SMX) matters. */
Test(vmxon, in_smx_with_bit_1_clear_is_gp)
{
    setup_fc("server", VTX_FEATURE_CONTROL_LOCK | VTX_FEATURE_CONTROL_VMX_OUTSIDE_SMX);
    vt_poke32(&e, VT_VMXON_PA, e.rev);
    vtx_root_state root = vt_root(&e);
    root.in_smx = true;
    root.cr4 |= VTX_CR4_SMXE; /* allowed by server's IA32_VMX_CR4_FIXED1 */
    vt_set_root(&e, &root);
    vmxon_faults("VMXON in SMX with IA32_FEATURE_CONTROL bit 1 clear", VTX_VECTOR_GP, VTX_CHECK_VMXON_GP_FC_ENABLE);
    vt_teardown(&e);
}

Test(vmxon, in_smx_with_bit_1_set_succeeds)
{
    setup_fc("server", VTX_FEATURE_CONTROL_LOCK | VTX_FEATURE_CONTROL_VMX_IN_SMX);
    vt_poke32(&e, VT_VMXON_PA, e.rev);
    vtx_root_state root = vt_root(&e);
    root.in_smx = true;
    root.cr4 |= VTX_CR4_SMXE;
    vt_set_root(&e, &root);
    vtx_insn_result r;
    vt_expect("VMXON in SMX with only bit 1 set", vtx_vmxon(e.m, VT_VMXON_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert(vtx_machine_in_vmx(e.m));
    vt_teardown(&e);
}

/* #GP(0) precedes the VMfailInvalid checks of the pointer. */
Test(vmxon, gp_precedes_pointer_checks, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.cpl = 3;
    vt_set_root(&e, &root);
    vtx_insn_result r;
    vt_expect_fault("VMXON at CPL 3 with a misaligned pointer", vtx_vmxon(e.m, VT_VMXON_PA + 4, &r), &r,
                    VTX_VECTOR_GP);
}

/* ---- VMfailInvalid: the VMXON pointer and region ---- */

Test(vmxon, misaligned_pointer_fails_invalid, .init = up_server, .fini = down)
{
    vmxon_fails_invalid("VMXON at 0x1004", VT_VMXON_PA + 4, VTX_CHECK_VMXON_ADDR);
    vmxon_fails_invalid("VMXON at 0x1800", VT_VMXON_PA + 0x800, VTX_CHECK_VMXON_ADDR);
    vmxon_fails_invalid("VMXON at 0x1001", VT_VMXON_PA + 1, VTX_CHECK_VMXON_ADDR);
    cr_assert(vt_root(&e).rflags & VTX_RFLAGS_CF, "VMfailInvalid leaves CF = 1 in RFLAGS");
}

static void beyond_width(const char *profile)
{
    vt_setup(&e, profile);
    unsigned w = e.profile.phys_addr_width;
    char step[96];
    snprintf(step, sizeof step, "VMXON at 2^%u on %s (%u-bit physical addresses)", w, profile, w);
    vmxon_fails_invalid(step, 1ull << w, VTX_CHECK_VMXON_ADDR);
    snprintf(step, sizeof step, "VMXON with bit 63 set on %s", profile);
    vmxon_fails_invalid(step, (1ull << 63) | VT_VMXON_PA, VTX_CHECK_VMXON_ADDR);
    /* The highest page inside the width passes the address check (and is unmapped). */
    vtx_insn_result r;
    uint64_t top = (1ull << w) - 0x1000;
    cr_assert_eq(vtx_vmxon(e.m, top, &r), VTX_ERR_UNMAPPED, "VMXON at 0x%llx inside the width must reach memory",
                 (unsigned long long)top);
    vt_teardown(&e);
}

Test(vmxon, pointer_beyond_physical_address_width_fails_invalid)
{
    beyond_width("core2");
    beyond_width("server");
    beyond_width("teaching");
}

Test(vmxon, wrong_revision_fails_invalid, .init = up_server, .fini = down)
{
    vt_poke32(&e, VT_VMXON_PA, e.rev + 1);
    vmxon_fails_invalid("VMXON with revision + 1", VT_VMXON_PA, VTX_CHECK_VMXON_REVISION);
    vt_poke32(&e, VT_VMXON_PA, 0);
    vmxon_fails_invalid("VMXON with revision 0", VT_VMXON_PA, VTX_CHECK_VMXON_REVISION);
}

/* Bit 31 of the VMXON region must be 0 even with the right revision in 30:0. */
Test(vmxon, revision_with_bit_31_fails_invalid, .init = up_server, .fini = down)
{
    vt_poke32(&e, VT_VMXON_PA, e.rev | 0x80000000u);
    vmxon_fails_invalid("VMXON with bit 31 set in the region", VT_VMXON_PA, VTX_CHECK_VMXON_REVISION);
    vtx_insn_result r;
    vtx_vmxon(e.m, VT_VMXON_PA, &r);
    cr_assert(strstr(r.why, "bit 31"), "the explanation names bit 31: %s", r.why);
}

Test(vmxon, unmapped_region_is_an_error_naming_the_address, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    cr_assert_eq(vtx_vmxon(e.m, 0x200000, &r), VTX_ERR_UNMAPPED);
    cr_assert(strstr(r.why, "0x200000"), "result.why should name 0x200000: %s", r.why);
    cr_assert(!vtx_machine_in_vmx(e.m));
}

/* ---- VMXON in VMX root operation ---- */

Test(vmxon, in_root_without_current_vmcs_fails_invalid, .init = up_server, .fini = down)
{
    vt_vmxon(&e);
    vtx_insn_result r;
    vt_expect("second VMXON", vtx_vmxon(e.m, VT_VMXON_PA, &r), &r, VTX_VMFAIL_INVALID, 0);
    expect_check("second VMXON", &r, VTX_CHECK_VMXON_IN_ROOT);
    cr_assert(vtx_machine_in_vmx(e.m), "the failed VMXON must not leave VMX operation");
    /* In root, the operand is not examined: a misaligned pointer gives the same outcome. */
    vt_expect("second VMXON, misaligned", vtx_vmxon(e.m, 0x1234, &r), &r, VTX_VMFAIL_INVALID, 0);
    expect_check("second VMXON, misaligned", &r, VTX_CHECK_VMXON_IN_ROOT);
}

/* L.3 error 15. */
Test(vmxon, in_root_with_current_vmcs_fails_valid_15, .init = up_server, .fini = down)
{
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_insn_result r;
    vt_expect("VMXON in root with a current VMCS", vtx_vmxon(e.m, VT_VMXON_PA, &r), &r, VTX_VMFAIL_VALID, 15);
    expect_check("VMXON in root", &r, VTX_CHECK_VMXON_IN_ROOT);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 15u, "the error field must read 15");
    cr_assert_eq(vtx_machine_current_vmcs(e.m), (uint64_t)VT_VMCS_PA, "the current VMCS is unchanged");
}

Test(vmxon, in_root_at_cpl_above_0_is_gp, .init = up_server, .fini = down)
{
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_root_state root = vt_root(&e);
    root.cpl = 3;
    vt_set_root(&e, &root);
    vtx_insn_result r;
    vt_expect_fault("VMXON in root at CPL 3", vtx_vmxon(e.m, VT_VMXON_PA, &r), &r, VTX_VECTOR_GP);
    expect_check("VMXON in root at CPL 3", &r, VTX_CHECK_GP_CPL);
    root.cpl = 0;
    vt_set_root(&e, &root);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 0u, "a fault must not write the error field");
}

Test(vmxon, in_root_compatibility_mode_is_ud, .init = up_server, .fini = down)
{
    vt_vmxon(&e);
    vtx_root_state root = vt_root(&e);
    root.cs_l = false;
    vt_set_root(&e, &root);
    vtx_insn_result r;
    vt_expect_fault("VMXON in root in compatibility mode", vtx_vmxon(e.m, VT_VMXON_PA, &r), &r, VTX_VECTOR_UD);
    expect_check("VMXON in root in compatibility mode", &r, VTX_CHECK_UD_MODE);
}

/* ---- VMXOFF ---- */

Test(vmxoff, outside_vmx_operation_is_ud, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    vt_expect_fault("VMXOFF outside VMX operation", vtx_vmxoff(e.m, &r), &r, VTX_VECTOR_UD);
    expect_check("VMXOFF outside VMX", &r, VTX_CHECK_UD_NOT_IN_VMX);
}

Test(vmxoff, succeeds_and_leaves_vmx_operation, .init = up_server, .fini = down)
{
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_insn_result r;
    vt_expect("VMXOFF", vtx_vmxoff(e.m, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert(!vtx_machine_in_vmx(e.m), "VMXOFF succeeded but the machine is still in VMX operation");
    vt_expect_fault("VMPTRST after VMXOFF", vtx_vmptrst(e.m, &r), &r, VTX_VECTOR_UD);
    vt_expect_fault("second VMXOFF", vtx_vmxoff(e.m, &r), &r, VTX_VECTOR_UD);
    /* CR4.VMXE may be cleared now. */
    vtx_root_state root = vt_root(&e);
    root.cr4 &= ~(uint64_t)VTX_CR4_VMXE;
    vt_set_root(&e, &root);
    root.cr4 |= VTX_CR4_VMXE;
    vt_set_root(&e, &root);
    /* VMX operation can be entered again; there is no current VMCS then. */
    vt_vmxon(&e);
    vt_expect("VMPTRST after re-entering", vtx_vmptrst(e.m, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(r.value, ~0ull);
}

Test(vmxoff, faults_at_cpl_3_and_in_compatibility_mode, .init = up_server, .fini = down)
{
    vt_vmxon(&e);
    vtx_root_state saved = vt_root(&e), root = saved;
    root.cpl = 3;
    vt_set_root(&e, &root);
    vtx_insn_result r;
    vt_expect_fault("VMXOFF at CPL 3", vtx_vmxoff(e.m, &r), &r, VTX_VECTOR_GP);
    expect_check("VMXOFF at CPL 3", &r, VTX_CHECK_GP_CPL);
    root = saved;
    root.cs_l = false;
    vt_set_root(&e, &root);
    vt_expect_fault("VMXOFF in compatibility mode", vtx_vmxoff(e.m, &r), &r, VTX_VECTOR_UD);
    cr_assert(vtx_machine_in_vmx(e.m), "a faulting VMXOFF must not leave VMX operation");
}

/* ---- root state the machine refuses ---- */

Test(root_state, clearing_cr4_vmxe_in_vmx_operation_is_refused, .init = up_server, .fini = down)
{
    vt_vmxon(&e);
    vtx_root_state root = vt_root(&e);
    root.cr4 &= ~(uint64_t)VTX_CR4_VMXE;
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_set_root(e.m, &root, &d), VTX_ERR_STATE,
                 "clearing CR4.VMXE in VMX operation must be refused (MOV to CR4 would #GP)");
    cr_assert(strstr(d.message, "CR4"), "the message names CR4: %s", d.message);
    cr_assert(vt_root(&e).cr4 & VTX_CR4_VMXE, "the refused change was applied");
    root = vt_root(&e);
    root.cr0 &= ~(uint64_t)VTX_CR0_PE;
    cr_assert_eq(vtx_machine_set_root(e.m, &root, &d), VTX_ERR_STATE, "clearing CR0.PE in VMX operation");
    cr_assert(strstr(d.message, "CR0"), "the message names CR0: %s", d.message);
}

Test(root_state, changing_a_locked_feature_control_is_refused, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    cr_assert(root.feature_control & VTX_FEATURE_CONTROL_LOCK, "the default environment locks it");
    root.feature_control |= VTX_FEATURE_CONTROL_VMX_IN_SMX;
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_set_root(e.m, &root, &d), VTX_ERR_STATE);
    cr_assert(strstr(d.message, "IA32_FEATURE_CONTROL"), "the message names the MSR: %s", d.message);
    root.feature_control = 0;
    cr_assert_eq(vtx_machine_set_root(e.m, &root, &d), VTX_ERR_STATE, "unlocking must be refused too");
    /* Writing the same value is not a change. */
    root = vt_root(&e);
    root.cpl = 0;
    vt_set_root(&e, &root);
}

Test(root_state, unlocked_feature_control_may_be_changed)
{
    setup_fc("server", 0);
    vtx_root_state root = vt_root(&e);
    root.feature_control = VTX_FEATURE_CONTROL_LOCK | VTX_FEATURE_CONTROL_VMX_OUTSIDE_SMX;
    vt_set_root(&e, &root);
    vt_vmxon(&e);
    vt_teardown(&e);
}

Test(root_state, cpl_above_3_is_invalid, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.cpl = 4;
    cr_assert_eq(vtx_machine_set_root(e.m, &root, NULL), VTX_ERR_INVALID_ARG);
}

Test(vmxon, null_arguments_are_refused, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    cr_assert_eq(vtx_vmxon(NULL, VT_VMXON_PA, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmxon(e.m, VT_VMXON_PA, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmxoff(NULL, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmxoff(e.m, NULL), VTX_ERR_INVALID_ARG);
    cr_assert(!vtx_machine_in_vmx(e.m));
}
