/* VMREAD and VMWRITE: field widths in and outside 64-bit mode (SDM "VMREAD,
 * VMWRITE, and Encodings of VMCS Fields"), unsupported components (error 12),
 * read-only fields (error 13) and the VM-instruction error field (catalogue L.2,
 * L.3). */
#include <string.h>
#include "helpers.h"

static vt_env e;

static void up(const char *profile)
{
    vt_setup(&e, profile);
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
}
static void up_server(void) { up("server"); }
static void up_core2(void) { up("core2"); }
static void up_teaching(void) { up("teaching"); }
static void down(void) { vt_teardown(&e); }

/* 32-bit protected mode: IA32_EFER.LMA = 0 (CS.L is then ignored; keep it 0). */
static void mode32(void)
{
    vtx_root_state r = vt_root(&e);
    r.efer = 0;
    r.cs_l = false;
    vt_set_root(&e, &r);
}
static void mode64(void)
{
    vtx_root_state r = vt_root(&e);
    r.efer = VTX_EFER_LME | VTX_EFER_LMA;
    r.cs_l = true;
    vt_set_root(&e, &r);
}

static uint64_t field(uint32_t enc)
{
    uint64_t v = 0;
    cr_assert_eq(vtx_machine_peek_field(e.m, enc, &v), VTX_OK, "peek 0x%x", enc);
    return v;
}

static void expect_vmread_fail(const char *step, uint64_t enc, uint32_t err)
{
    vtx_insn_result r;
    vt_expect(step, vtx_vmread(e.m, enc, &r), &r, VTX_VMFAIL_VALID, err);
    cr_assert_eq(r.check, err == 12 ? VTX_CHECK_VMCS_UNSUPPORTED_FIELD : VTX_CHECK_VMCS_READ_ONLY_FIELD,
                 "%s: decided by %s", step, vtx_check_name(r.check));
}
static void expect_vmwrite_fail(const char *step, uint64_t enc, uint64_t val, uint32_t err)
{
    vtx_insn_result r;
    vt_expect(step, vtx_vmwrite(e.m, enc, val, &r), &r, VTX_VMFAIL_VALID, err);
    cr_assert_eq(r.check, err == 12 ? VTX_CHECK_VMCS_UNSUPPORTED_FIELD : VTX_CHECK_VMCS_READ_ONLY_FIELD,
                 "%s: decided by %s", step, vtx_check_name(r.check));
}

/* ---- 64-bit mode ---- */

Test(access64, sixteen_bit_field_keeps_bits_15_0_and_reads_zero_extended, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_SELECTOR, 0xFFFFFFFFFFFF1234ull);
    cr_assert_eq(field(VTX_VMCS_GUEST_CS_SELECTOR), 0x1234u,
                 "VMWRITE of a 16-bit field must store only bits 15:0, stored 0x%llx",
                 (unsigned long long)field(VTX_VMCS_GUEST_CS_SELECTOR));
    uint64_t v = vt_vmread(&e, VTX_VMCS_GUEST_CS_SELECTOR);
    cr_assert_eq(v, 0x1234u, "VMREAD of a 16-bit field must clear bits 63:16 of the destination, got 0x%llx",
                 (unsigned long long)v);
}

Test(access64, thirty_two_bit_field_keeps_bits_31_0, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_LIMIT, 0xAAAAAAAA12345678ull);
    uint64_t v = vt_vmread(&e, VTX_VMCS_GUEST_CS_LIMIT);
    cr_assert_eq(v, 0x12345678u, "a 32-bit field in 64-bit mode: source bits 63:32 are ignored and VMREAD "
                 "clears destination bits 63:32, got 0x%llx", (unsigned long long)v);
    cr_assert_eq(field(VTX_VMCS_GUEST_CS_LIMIT), 0x12345678u);
}

Test(access64, sixty_four_bit_full_access_reads_and_writes_all_bits, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_TSC_OFFSET, 0x1122334455667788ull);
    uint64_t v = vt_vmread(&e, VTX_VMCS_TSC_OFFSET);
    cr_assert_eq(v, 0x1122334455667788ull, "full access to a 64-bit field in 64-bit mode, got 0x%llx",
                 (unsigned long long)v);
}

Test(access64, natural_width_field_holds_64_bits, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0xFFFFFFFF81000000ull);
    uint64_t v = vt_vmread(&e, VTX_VMCS_GUEST_RIP);
    cr_assert_eq(v, 0xFFFFFFFF81000000ull, "natural-width GUEST_RIP in 64-bit mode, got 0x%llx",
                 (unsigned long long)v);
}

/* High access (encoding bit 0 = 1) reads bits 63:32 into 31:0; writes bits 63:32
 * from source bits 31:0 and keeps bits 31:0 of the field. */
Test(access64, high_access_reads_and_writes_bits_63_32, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_TSC_OFFSET, 0x1122334455667788ull);
    uint64_t hi = vt_vmread(&e, VTX_VMCS_TSC_OFFSET + 1);
    cr_assert_eq(hi, 0x11223344u, "VMREAD of the high half (0x2011) must give bits 63:32 in bits 31:0, got 0x%llx",
                 (unsigned long long)hi);
    vt_vmwrite(&e, VTX_VMCS_TSC_OFFSET + 1, 0xFFFFFFFFAABBCCDDull);
    uint64_t v = vt_vmread(&e, VTX_VMCS_TSC_OFFSET);
    cr_assert_eq(v, 0xAABBCCDD55667788ull,
                 "VMWRITE of the high half must write bits 63:32 and keep bits 31:0, field is 0x%llx",
                 (unsigned long long)v);
}

/* In 64-bit mode the encoding register has 64 bits: bits 63:32 set -> error 12. */
Test(access64, encoding_with_bits_63_32_set_is_unsupported, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x1000);
    expect_vmread_fail("64-bit VMREAD of 0x1_0000681e", 0x10000681Eull, 12);
    expect_vmwrite_fail("64-bit VMWRITE of 0x80000000_0000681e", 0x800000000000681Eull, 0x2000, 12);
    cr_assert_eq(field(VTX_VMCS_GUEST_RIP), 0x1000u, "the failed VMWRITE changed GUEST_RIP");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 12u, "the VM-instruction error field must hold 12");
}

/* Error 12 for every encoding that names no field; field 0x4400 then reads 12. */
Test(access64, unsupported_encodings_fail_with_error_12, .init = up_server, .fini = down)
{
    static const uint64_t bad[] = {
        0x6C40,     /* unassigned index */
        0x0040,     /* unassigned 16-bit index */
        0x12345678, /* bits 31:15 set */
        0x781E,     /* GUEST_RIP with reserved bit 12 */
        0x4001,     /* high access to a 32-bit field */
        0x681F,     /* high access to a natural-width field */
        0x0801,     /* high access to a 16-bit field */
        0xFFFFFFFF, /* all ones */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char step[80];
        /* Reset the error field through a field write of MISC[29] (server allows it). */
        vt_vmwrite(&e, VTX_VMCS_VM_INSTRUCTION_ERROR, 0);
        snprintf(step, sizeof step, "VMREAD of encoding 0x%llx", (unsigned long long)bad[i]);
        expect_vmread_fail(step, bad[i], 12);
        cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 12u,
                     "%s: the VM-instruction error field (0x4400) must read 12", step);
        vt_vmwrite(&e, VTX_VMCS_VM_INSTRUCTION_ERROR, 0);
        snprintf(step, sizeof step, "VMWRITE of encoding 0x%llx", (unsigned long long)bad[i]);
        expect_vmwrite_fail(step, bad[i], 1, 12);
        cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 12u,
                     "%s: the VM-instruction error field (0x4400) must read 12", step);
    }
}

/* A field of a feature the processor lacks is an unsupported component (error 12). */
Test(access64, fields_core2_lacks_fail_with_error_12, .init = up_core2, .fini = down)
{
    static const struct {
        uint32_t enc;
        const char *name;
    } absent[] = {
        {VTX_VMCS_VPID, "VPID"},
        {VTX_VMCS_PREEMPTION_TIMER_VALUE, "PREEMPTION_TIMER_VALUE"},
        {VTX_VMCS_EPT_POINTER, "EPT_POINTER"},
        {VTX_VMCS_EPT_POINTER + 1, "EPT_POINTER (high)"},
        {VTX_VMCS_PROC_CONTROLS2, "PROC_CONTROLS2"},
        {VTX_VMCS_GUEST_PHYSICAL_ADDR, "GUEST_PHYSICAL_ADDR"},
        {VTX_VMCS_GUEST_IA32_EFER, "GUEST_IA32_EFER"},
    };
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        char step[96];
        snprintf(step, sizeof step, "VMREAD of %s on core2", absent[i].name);
        expect_vmread_fail(step, absent[i].enc, 12);
        snprintf(step, sizeof step, "VMWRITE of %s on core2", absent[i].name);
        expect_vmwrite_fail(step, absent[i].enc, 1, 12);
    }
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 12u);
}

/* The same fields exist on server. */
Test(access64, fields_server_has_are_accessible, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_VPID, 7);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VPID), 7u);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0x1000);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE), 0x1000u);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, 0x1001E);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EPT_POINTER), 0x1001Eu);
}

/* VMWRITE to a read-only VM-exit information field: error 13 when
 * IA32_VMX_MISC[29] = 0 (core2, teaching). */
static void read_only_refused(void)
{
    static const struct {
        uint32_t enc;
        const char *name;
    } ro[] = {
        {VTX_VMCS_EXIT_REASON, "EXIT_REASON"},
        {VTX_VMCS_EXIT_QUALIFICATION, "EXIT_QUALIFICATION"},
        {VTX_VMCS_IDT_VECTORING_INFO, "IDT_VECTORING_INFO"},
        {VTX_VMCS_GUEST_LINEAR_ADDR, "GUEST_LINEAR_ADDR"},
        {VTX_VMCS_EXIT_INSTRUCTION_LEN, "EXIT_INSTRUCTION_LEN"},
    };
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
        char step[96];
        snprintf(step, sizeof step, "VMWRITE to read-only %s on %s", ro[i].name, e.profile.name);
        expect_vmwrite_fail(step, ro[i].enc, 0x55, 13);
        cr_assert_eq(field(ro[i].enc), 0u, "%s: the refused VMWRITE changed the field", step);
        cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 13u, "%s: error field must read 13", step);
    }
    /* The error field itself is read-only too. */
    expect_vmwrite_fail("VMWRITE to VM_INSTRUCTION_ERROR", VTX_VMCS_VM_INSTRUCTION_ERROR, 0, 13);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 13u);
}

Test(access64, read_only_field_vmwrite_fails_with_error_13_on_core2, .init = up_core2, .fini = down)
{
    cr_assert(!vtx_misc_vmwrite_any(e.profile.msr[VTX_CAP_IA32_VMX_MISC]), "core2 has IA32_VMX_MISC[29] = 0");
    read_only_refused();
}

Test(access64, read_only_field_vmwrite_fails_with_error_13_on_teaching, .init = up_teaching, .fini = down)
{
    cr_assert(!vtx_misc_vmwrite_any(e.profile.msr[VTX_CAP_IA32_VMX_MISC]), "teaching has IA32_VMX_MISC[29] = 0");
    read_only_refused();
    /* A 64-bit read-only field and its high half. */
    expect_vmwrite_fail("VMWRITE to GUEST_PHYSICAL_ADDR", VTX_VMCS_GUEST_PHYSICAL_ADDR, 1, 13);
    expect_vmwrite_fail("VMWRITE to GUEST_PHYSICAL_ADDR (high)", VTX_VMCS_GUEST_PHYSICAL_ADDR + 1, 1, 13);
}

/* An unsupported component is reported before the read-only rule: error 12, not 13. */
Test(access64, unsupported_read_only_field_is_error_12_not_13, .init = up_core2, .fini = down)
{
    expect_vmwrite_fail("VMWRITE to GUEST_PHYSICAL_ADDR on core2 (no EPT)", VTX_VMCS_GUEST_PHYSICAL_ADDR, 1, 12);
}

/* IA32_VMX_MISC[29] = 1 (server): VMWRITE may write the exit-information fields. */
Test(access64, read_only_field_vmwrite_succeeds_with_misc_bit_29, .init = up_server, .fini = down)
{
    cr_assert(vtx_misc_vmwrite_any(e.profile.msr[VTX_CAP_IA32_VMX_MISC]), "server has IA32_VMX_MISC[29] = 1");
    vt_vmwrite(&e, VTX_VMCS_EXIT_REASON, 0x30);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_REASON), 0x30u);
    vt_vmwrite(&e, VTX_VMCS_EXIT_QUALIFICATION, 0xFFFF800000001234ull);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_QUALIFICATION), 0xFFFF800000001234ull);
    vt_vmwrite(&e, VTX_VMCS_GUEST_PHYSICAL_ADDR, 0x123456789000ull);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_PHYSICAL_ADDR), 0x123456789000ull);
}

/* VMsucceed does not touch the VM-instruction error field (L.3: only VMfailValid writes it). */
Test(access64, error_field_persists_across_later_successes, .init = up_core2, .fini = down)
{
    expect_vmread_fail("VMREAD of 0x6c40", 0x6C40, 12);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x1234);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0x1234u);
    vtx_insn_result r;
    vt_expect("VMPTRST", vtx_vmptrst(e.m, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 12u,
                 "after VMsucceed the error field must still read 12");
    /* A later failure overwrites it. */
    expect_vmwrite_fail("VMWRITE to EXIT_REASON", VTX_VMCS_EXIT_REASON, 1, 13);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 13u);
}

/* No current VMCS: VMfailInvalid (CF = 1), and nothing is written anywhere. */
Test(access64, no_current_vmcs_is_vmfail_invalid_and_writes_no_error, .init = up_core2, .fini = down)
{
    vtx_insn_result r;
    /* Leave error 12 in the VMCS, then make it not current. */
    expect_vmread_fail("VMREAD of 0x6c40", 0x6C40, 12);
    vt_expect("VMCLEAR", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);

    vt_expect("VMREAD without a current VMCS", vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), &r, VTX_VMFAIL_INVALID, 0);
    cr_assert_eq(r.check, VTX_CHECK_NO_CURRENT_VMCS, "decided by %s", vtx_check_name(r.check));
    cr_assert_eq(r.vm_error, 0u);
    /* These would be errors 13 and 12 with a current VMCS. */
    vt_expect("VMWRITE to EXIT_REASON without a current VMCS", vtx_vmwrite(e.m, VTX_VMCS_EXIT_REASON, 1, &r), &r,
              VTX_VMFAIL_INVALID, 0);
    cr_assert_eq(r.check, VTX_CHECK_NO_CURRENT_VMCS);
    vt_expect("VMWRITE of 0x6c40 without a current VMCS", vtx_vmwrite(e.m, 0x6C40, 1, &r), &r,
              VTX_VMFAIL_INVALID, 0);
    vt_expect("VMWRITE of GUEST_RIP without a current VMCS", vtx_vmwrite(e.m, VTX_VMCS_GUEST_RIP, 0x99, &r), &r,
              VTX_VMFAIL_INVALID, 0);

    vt_expect("VMPTRLD", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 12u,
                 "VMfailInvalid must not write the error field (it still holds 12)");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0u, "the VMWRITE without a current VMCS changed GUEST_RIP");
}

Test(access64, no_current_vmcs_right_after_vmxon)
{
    vt_setup(&e, "teaching");
    vt_vmxon(&e);
    vtx_insn_result r;
    vt_expect("VMREAD right after VMXON", vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), &r, VTX_VMFAIL_INVALID, 0);
    vt_expect("VMWRITE right after VMXON", vtx_vmwrite(e.m, VTX_VMCS_GUEST_RIP, 1, &r), &r, VTX_VMFAIL_INVALID, 0);
    vt_teardown(&e);
}

/* The instruction flags land in the machine's RFLAGS as well. */
Test(access64, outcome_flags_are_applied_to_root_rflags, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    vtx_vmread(e.m, 0x6C40, &r);
    uint64_t fl = vt_root(&e).rflags;
    cr_assert(fl & VTX_RFLAGS_ZF, "VMfailValid must leave ZF = 1 in RFLAGS (0x%llx)", (unsigned long long)fl);
    cr_assert(!(fl & VTX_RFLAGS_CF), "VMfailValid must leave CF = 0 in RFLAGS (0x%llx)", (unsigned long long)fl);
    cr_assert(fl & 2, "RFLAGS bit 1 is always 1");
    vt_vmread(&e, VTX_VMCS_GUEST_RIP);
    fl = vt_root(&e).rflags;
    cr_assert(!(fl & (VTX_RFLAGS_ZF | VTX_RFLAGS_CF)), "VMsucceed must clear ZF and CF (0x%llx)",
              (unsigned long long)fl);
}

/* SDM "Conventions" of the VMX instruction reference: VMsucceed clears CF, PF, AF,
 * ZF, SF and OF; VMfailInvalid sets CF and clears the others; VMfailValid sets
 * ZF and clears the others. Other RFLAGS bits are left alone. */
Test(access64, outcomes_set_exactly_the_arithmetic_flags, .init = up_server, .fini = down)
{
    const uint64_t arith = VTX_RFLAGS_CF | VTX_RFLAGS_PF | VTX_RFLAGS_AF | VTX_RFLAGS_ZF | VTX_RFLAGS_SF |
                           VTX_RFLAGS_OF;
    const uint64_t keep = 2 | VTX_RFLAGS_IF | VTX_RFLAGS_TF;
    vtx_insn_result r;
    vtx_root_state root = vt_root(&e);

    root.rflags = keep | arith;
    vt_set_root(&e, &root);
    vt_expect("VMREAD of GUEST_RIP", vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(r.rflags, keep, "VMsucceed: RFLAGS 0x%llx, expected 0x%llx", (unsigned long long)r.rflags,
                 (unsigned long long)keep);
    cr_assert_eq(vt_root(&e).rflags, keep, "the machine's RFLAGS must match the result's");

    root.rflags = keep | arith;
    vt_set_root(&e, &root);
    vt_expect("VMREAD of 0x6c40", vtx_vmread(e.m, 0x6C40, &r), &r, VTX_VMFAIL_VALID, 12);
    cr_assert_eq(r.rflags, keep | VTX_RFLAGS_ZF, "VMfailValid: RFLAGS 0x%llx", (unsigned long long)r.rflags);
    cr_assert_eq(vt_root(&e).rflags, keep | VTX_RFLAGS_ZF);

    vt_expect("VMCLEAR", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    root = vt_root(&e);
    root.rflags = keep | arith;
    vt_set_root(&e, &root);
    vt_expect("VMREAD without a current VMCS", vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), &r, VTX_VMFAIL_INVALID, 0);
    cr_assert_eq(r.rflags, keep | VTX_RFLAGS_CF, "VMfailInvalid: RFLAGS 0x%llx", (unsigned long long)r.rflags);
    cr_assert_eq(vt_root(&e).rflags, keep | VTX_RFLAGS_CF);

    /* A fault changes no flags. */
    root = vt_root(&e);
    root.rflags = keep | arith;
    root.cpl = 3;
    vt_set_root(&e, &root);
    vt_expect_fault("VMREAD at CPL 3", vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), &r, VTX_VECTOR_GP);
    cr_assert_eq(vt_root(&e).rflags, keep | arith, "a faulting instruction must not change RFLAGS");
}

/* VMREAD/VMWRITE are not allowed in compatibility or virtual-8086 mode, at CPL > 0
 * or outside VMX operation (SDM VMREAD/VMWRITE "Protected Mode Exceptions"). */
Test(access64, faults_in_compat_mode_at_cpl3_and_outside_vmx, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    vtx_root_state root = vt_root(&e), saved = root;
    root.cs_l = false; /* LMA = 1, CS.L = 0: compatibility mode */
    vt_set_root(&e, &root);
    vt_expect_fault("VMREAD in compatibility mode", vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), &r, VTX_VECTOR_UD);
    cr_assert_eq(r.check, VTX_CHECK_UD_MODE);
    vt_expect_fault("VMWRITE in compatibility mode", vtx_vmwrite(e.m, VTX_VMCS_GUEST_RIP, 1, &r), &r, VTX_VECTOR_UD);
    root = saved;
    root.cpl = 3;
    vt_set_root(&e, &root);
    vt_expect_fault("VMREAD at CPL 3", vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), &r, VTX_VECTOR_GP);
    cr_assert_eq(r.check, VTX_CHECK_GP_CPL);
    vt_expect_fault("VMWRITE at CPL 3", vtx_vmwrite(e.m, VTX_VMCS_GUEST_RIP, 1, &r), &r, VTX_VECTOR_GP);
    vt_set_root(&e, &saved);
    cr_assert_eq(field(VTX_VMCS_GUEST_RIP), 0u, "a faulting VMWRITE changed GUEST_RIP");
    vt_expect("VMXOFF", vtx_vmxoff(e.m, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect_fault("VMREAD outside VMX operation", vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), &r, VTX_VECTOR_UD);
    cr_assert_eq(r.check, VTX_CHECK_UD_NOT_IN_VMX);
    vt_expect_fault("VMWRITE outside VMX operation", vtx_vmwrite(e.m, VTX_VMCS_GUEST_RIP, 1, &r), &r,
                    VTX_VECTOR_UD);
}

Test(access64, null_arguments_are_refused, .init = up_server, .fini = down)
{
    vtx_insn_result r;
    cr_assert_eq(vtx_vmread(NULL, VTX_VMCS_GUEST_RIP, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmwrite(NULL, VTX_VMCS_GUEST_RIP, 0, &r), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmwrite(e.m, VTX_VMCS_GUEST_RIP, 0, NULL), VTX_ERR_INVALID_ARG);
}

/* ---- outside 64-bit mode (32-bit protected mode, IA32_EFER.LMA = 0) ---- */

Test(access32, sixteen_and_thirty_two_bit_fields, .init = up_server, .fini = down)
{
    mode32();
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_SELECTOR, 0xABCD5678u);
    cr_assert_eq(field(VTX_VMCS_GUEST_SS_SELECTOR), 0x5678u, "16-bit field keeps bits 15:0 only");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_SS_SELECTOR), 0x5678u,
                 "VMREAD of a 16-bit field clears destination bits 31:16");
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_LIMIT, 0xFFFFF);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_SS_LIMIT), 0xFFFFFu);
}

/* The source operand has 32 bits outside 64-bit mode. */
Test(access32, source_operand_is_32_bits, .init = up_server, .fini = down)
{
    mode32();
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_LIMIT, 0xAAAAAAAA000FFFFFull);
    cr_assert_eq(field(VTX_VMCS_GUEST_SS_LIMIT), 0xFFFFFu);
}

/* Full access to a 64-bit field from 32-bit mode writes bits 31:0 and clears
 * bits 63:32 (the source is shorter than the field); VMREAD gives bits 31:0. */
Test(access32, full_access_to_64bit_field_clears_the_high_half, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_TSC_OFFSET, 0x1122334455667788ull);
    mode32();
    uint64_t lo = vt_vmread(&e, VTX_VMCS_TSC_OFFSET);
    cr_assert_eq(lo, 0x55667788u, "32-bit VMREAD of the full 64-bit field must give bits 31:0, got 0x%llx",
                 (unsigned long long)lo);
    vt_vmwrite(&e, VTX_VMCS_TSC_OFFSET, 0xDEADBEEF);
    cr_assert_eq(field(VTX_VMCS_TSC_OFFSET), 0xDEADBEEFull,
                 "32-bit VMWRITE with full access must clear bits 63:32, field is 0x%llx",
                 (unsigned long long)field(VTX_VMCS_TSC_OFFSET));
    mode64();
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_TSC_OFFSET), 0xDEADBEEFull);
}

/* High access from 32-bit mode: read bits 63:32 into 31:0; write bits 63:32 and keep 31:0. */
Test(access32, high_access_reads_and_writes_bits_63_32, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_VMCS_LINK_POINTER, 0x1122334455667788ull);
    mode32();
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VMCS_LINK_POINTER + 1), 0x11223344u);
    vt_vmwrite(&e, VTX_VMCS_VMCS_LINK_POINTER + 1, 0xFFFFFFFF);
    cr_assert_eq(field(VTX_VMCS_VMCS_LINK_POINTER), 0xFFFFFFFF55667788ull,
                 "high VMWRITE must keep bits 31:0, field is 0x%llx",
                 (unsigned long long)field(VTX_VMCS_VMCS_LINK_POINTER));
    /* Full then high: the way 32-bit software writes a 64-bit field. */
    vt_vmwrite(&e, VTX_VMCS_VMCS_LINK_POINTER, 0x89ABCDEF);
    vt_vmwrite(&e, VTX_VMCS_VMCS_LINK_POINTER + 1, 0x01234567);
    cr_assert_eq(field(VTX_VMCS_VMCS_LINK_POINTER), 0x0123456789ABCDEFull);
}

/* Natural-width fields outside 64-bit mode: VMWRITE writes bits 31:0 and clears
 * 63:32; VMREAD gives bits 31:0. */
Test(access32, natural_width_clears_the_high_bits, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0xFFFFFFFF81000000ull);
    mode32();
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0x81000000u, "32-bit VMREAD of GUEST_RIP gives bits 31:0");
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0xAAAAAAAA12345678ull);
    cr_assert_eq(field(VTX_VMCS_GUEST_RIP), 0x12345678u,
                 "32-bit VMWRITE of a natural-width field must clear bits 63:32, field is 0x%llx",
                 (unsigned long long)field(VTX_VMCS_GUEST_RIP));
}

/* Outside 64-bit mode the encoding register has 32 bits: bits 63:32 of the
 * caller's value are not part of the operand. */
Test(access32, encoding_register_is_32_bits, .init = up_server, .fini = down)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x4321);
    mode32();
    vtx_insn_result r;
    vt_expect("32-bit VMREAD of 0x1_0000681e", vtx_vmread(e.m, 0x10000681Eull, &r), &r, VTX_VMSUCCEED, 0);
    cr_assert_eq(r.value, 0x4321u, "the VMREAD read 0x%llx instead of GUEST_RIP", (unsigned long long)r.value);
    vt_expect("32-bit VMWRITE to 0xffffffff_0000681e", vtx_vmwrite(e.m, 0xFFFFFFFF0000681Eull, 0x8765, &r), &r,
              VTX_VMSUCCEED, 0);
    cr_assert_eq(field(VTX_VMCS_GUEST_RIP), 0x8765u);
    /* Bits 31:15 are still reserved. */
    expect_vmread_fail("32-bit VMREAD of 0x1000681e", 0x1000681E, 12);
}

Test(access32, unsupported_and_read_only_rules_apply_as_in_64bit_mode, .init = up_teaching, .fini = down)
{
    mode32();
    expect_vmread_fail("32-bit VMREAD of 0x6c40", 0x6C40, 12);
    expect_vmwrite_fail("32-bit VMWRITE to EXIT_QUALIFICATION", VTX_VMCS_EXIT_QUALIFICATION, 1, 13);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 13u);
}

Test(access32, virtual_8086_mode_faults, .init = up_server, .fini = down)
{
    vtx_root_state root = vt_root(&e);
    root.efer = 0;
    root.cs_l = false;
    root.rflags |= VTX_RFLAGS_VM;
    vt_set_root(&e, &root);
    vtx_insn_result r;
    vt_expect_fault("VMREAD in virtual-8086 mode", vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), &r, VTX_VECTOR_UD);
    cr_assert_eq(r.check, VTX_CHECK_UD_MODE);
    vt_expect_fault("VMWRITE in virtual-8086 mode", vtx_vmwrite(e.m, VTX_VMCS_GUEST_RIP, 1, &r), &r, VTX_VECTOR_UD);
}
