/*
 * VM-entry checks on the VM-exit and VM-entry control fields (SDM Vol. 3
 * "VM-Exit Control Fields", "VM-Entry Control Fields"; catalogue F.2 ENT-CTL-4,
 * ENT-CTL-7, E.2 INJ-CHK-1..6): the preemption-timer save, MSR-store/load areas,
 * the SMM controls and event injection. Ports the kvm-unit-tests scenarios
 * (docs/kut.tsv) 6.7 (test_invalid_event_injection) and 6.8
 * (test_vmx_preemption_timer).
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

/* ======== VM-exit controls ======== */

/* kut 6.8 test_vmx_preemption_timer */
Test(ctl_exit, save_timer_requires_timer_ent_ctl_4)
{
    VTX_COVERS("ENT-CTL-4");
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_PREEMPTION_TIMER);
    fails(&e, "save VMX-preemption timer value without the timer", VTX_CHECK_CTL_SAVE_TIMER_WITHOUT_TIMER);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_expect_entry_passes(&e, "save VMX-preemption timer value with the timer");
    vt_teardown(&e);
}

/* DIFF-10 (VirtualBox #313): ENT-CTL-4 looks at exit-control bit 22, not primary
 * bit 22 (NMI-window exiting), so this valid VMCS must pass. */
Test(ctl_exit, nmi_window_is_not_save_timer_diff_10)
{
    VTX_COVERS("ENT-CTL-4");
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    vt_expect_entry_passes(&e, "NMI-window exiting (primary bit 22) without the preemption timer");
    vt_teardown(&e);
}

/* The area checks: 16-byte aligned, first and last byte within the width. The
 * top page of the physical-address space is mapped so that the area that
 * passes exists if a later model reads it. */
static void msr_area_case(const char *profile, uint32_t count_enc, uint32_t addr_enc, vtx_check check,
                          unsigned width)
{
    static uint8_t top[4096] __attribute__((aligned(4096)));
    vt_env e;
    vt_start(&e, profile);
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_map(e.m, (1ull << width) - 4096, sizeof top, top, VTX_MEM_RWX, &d), VTX_OK, "%s",
                 d.message);
    vt_vmwrite(&e, addr_enc, 0x12345678); /* ignored while the count is 0 */
    vt_expect_entry_passes(&e, "count 0, unaligned address");
    vt_vmwrite(&e, count_enc, 1);
    fails(&e, "count 1, address not 16-byte aligned", check);
    vt_vmwrite(&e, addr_enc, 1ull << width);
    fails(&e, "count 1, address beyond the width", check);
    vt_vmwrite(&e, addr_enc, (1ull << width) - 16);
    vt_vmwrite(&e, count_enc, 2);
    fails(&e, "count 2, last byte beyond the width", check);
    vt_vmwrite(&e, count_enc, 1);
    vt_expect_entry_past_vmfail_checks(&e, "count 1, last byte is the last byte below the width");
    vt_teardown(&e);
}

Test(ctl_exit, exit_msr_store_area)
{
    msr_area_case("server", VTX_VMCS_EXIT_MSR_STORE_COUNT, VTX_VMCS_EXIT_MSR_STORE_ADDR,
                  VTX_CHECK_CTL_EXIT_MSR_STORE_ADDR, 46);
}

Test(ctl_exit, exit_msr_load_area)
{
    msr_area_case("core2", VTX_VMCS_EXIT_MSR_LOAD_COUNT, VTX_VMCS_EXIT_MSR_LOAD_ADDR,
                  VTX_CHECK_CTL_EXIT_MSR_LOAD_ADDR, 36);
}

/* ======== VM-entry controls ======== */

Test(ctl_entry, entry_msr_load_area)
{
    msr_area_case("teaching", VTX_VMCS_ENTRY_MSR_LOAD_COUNT, VTX_VMCS_ENTRY_MSR_LOAD_ADDR,
                  VTX_CHECK_CTL_ENTRY_MSR_LOAD_ADDR, 39);
}

/* ENT-CTL-7: the model is never in SMM. core2 and server allow both controls as 1-settings. */
Test(ctl_entry, smm_controls_outside_smm_ent_ctl_7)
{
    VTX_COVERS("ENT-CTL-7");
    static const char *const profiles[] = {"core2", "server"};
    for (size_t i = 0; i < 2; i++) {
        vt_env e;
        vt_start(&e, profiles[i]);
        vt_set_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_ENTRY_TO_SMM);
        fails(&e, "entry to SMM outside SMM", VTX_CHECK_CTL_ENTRY_TO_SMM);
        vt_set_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_DEACT_DUAL_MONITOR);
        fails(&e, "entry to SMM and deactivate dual-monitor treatment", VTX_CHECK_CTL_ENTRY_TO_SMM);
        vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_ENTRY_TO_SMM);
        fails(&e, "deactivate dual-monitor treatment outside SMM", VTX_CHECK_CTL_DEACT_DUAL_MONITOR);
        vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_DEACT_DUAL_MONITOR);
        vt_expect_entry_passes(&e, "both 0");
        vt_teardown(&e);
    }
}

/* ======== Event injection: INJ-CHK-1..6, kut 6.7 test_invalid_event_injection ======== */

#define VALID (1u << 31)
#define ERRC (1u << 11)
#define TYPE(t) ((uint32_t)(t) << 8)

static void inject(vt_env *e, uint32_t info, uint32_t error_code, uint32_t len)
{
    vt_vmwrite(e, VTX_VMCS_ENTRY_INTR_INFO, info);
    vt_vmwrite(e, VTX_VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
    vt_vmwrite(e, VTX_VMCS_ENTRY_INSTRUCTION_LEN, len);
}

static void start_inj(vt_env *e, const char *profile)
{
    vt_start(e, profile);
    vt_vmwrite(e, VTX_VMCS_GUEST_RFLAGS, 0x202); /* IF = 1, so an external interrupt may be injected (ENT-GS-1) */
}

/* kut: "RESERVED interruption type invalid [-]" / "[+]" */
Test(ctl_inject, type_reserved_inj_chk_1)
{
    VTX_COVERS("INJ-CHK-1");
    vt_env e;
    start_inj(&e, "server");
    inject(&e, VALID | TYPE(1) | 0, 0, 1);
    fails(&e, "interruption type 1", VTX_CHECK_CTL_INJ_TYPE_RESERVED);
    inject(&e, VALID | TYPE(0) | 0, 0, 1);
    vt_expect_entry_past_vmfail_checks(&e, "interruption type 0 (external interrupt)");
    vt_teardown(&e);
}

/* Type 7 (other event) exists only with "monitor trap flag" support. */
Test(ctl_inject, type_other_needs_mtf_inj_chk_1)
{
    vt_env e;
    start_inj(&e, "core2");
    inject(&e, VALID | TYPE(7) | 0, 0, 0);
    fails(&e, "core2: type 7 without MTF support", VTX_CHECK_CTL_INJ_TYPE_RESERVED);
    vt_teardown(&e);
    start_inj(&e, "server");
    inject(&e, VALID | TYPE(7) | 0, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "server: type 7 vector 0 (pending MTF)");
    vt_teardown(&e);
}

Test(ctl_inject, vector_consistent_with_type_inj_chk_2)
{
    VTX_COVERS("INJ-CHK-2");
    vt_env e;
    start_inj(&e, "server");
    inject(&e, VALID | TYPE(7) | 1, 0, 0);
    fails(&e, "other event with vector 1 (#DB)", VTX_CHECK_CTL_INJ_VECTOR);
    inject(&e, VALID | TYPE(2) | 0, 0, 0);
    fails(&e, "NMI with vector 0", VTX_CHECK_CTL_INJ_VECTOR);
    inject(&e, VALID | TYPE(3) | 0x20, 0, 0);
    fails(&e, "hardware exception 0x20", VTX_CHECK_CTL_INJ_VECTOR);
    inject(&e, VALID | TYPE(3) | 0x1F, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "hardware exception 31");
    inject(&e, VALID | TYPE(2) | 2, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "NMI with vector 2");
    vt_teardown(&e);
}

/* kut: "error code <-> (!URG || prot_mode)" without unrestricted guest: CR0.PE = 0
 * in the guest CR0 field still counts as protected mode. */
Test(ctl_inject, errcode_real_mode_without_urg_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    vt_env e;
    start_inj(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, vt_vmread(&e, VTX_VMCS_GUEST_CR0) & ~(uint64_t)(VTX_CR0_PE | VTX_CR0_PG));
    inject(&e, VALID | TYPE(3) | 13, 0, 0);
    fails(&e, "#GP without error code, CR0.PE = 0, no unrestricted guest", VTX_CHECK_CTL_INJ_ERRCODE_MISSING);
    inject(&e, VALID | ERRC | TYPE(3) | 13, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP with error code, CR0.PE = 0, no unrestricted guest");
    vt_teardown(&e);
}

/* kut: with unrestricted guest, CR0.PE decides. */
Test(ctl_inject, errcode_real_mode_with_urg_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    vt_env e;
    start_inj(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, EPTP_OK);
    proc2(&e, VTX_PROC2_ENABLE_EPT | VTX_PROC2_UNRESTRICTED_GUEST);
    inject(&e, VALID | TYPE(3) | 13, 0, 0);
    fails(&e, "#GP without error code, unrestricted guest, CR0.PE = 1", VTX_CHECK_CTL_INJ_ERRCODE_MISSING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, vt_vmread(&e, VTX_VMCS_GUEST_CR0) & ~(uint64_t)(VTX_CR0_PE | VTX_CR0_PG));
    inject(&e, VALID | ERRC | TYPE(3) | 13, 0, 0);
    fails(&e, "#GP with error code into a real-mode guest", VTX_CHECK_CTL_INJ_ERRCODE_UNEXPECTED);
    inject(&e, VALID | TYPE(3) | 13, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP without error code into a real-mode guest");
    vt_teardown(&e);
}

/* kut: "error code <-> HW exception": deliver-error-code only with type 3. */
Test(ctl_inject, errcode_only_for_hw_exception_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    static const struct { unsigned type, vector, len; } ev[] = {
        {0, 13, 0}, {2, 2, 0}, {4, 0x80, 2}, {5, 1, 1}, {6, 3, 1}, {7, 0, 0},
    };
    vt_env e;
    start_inj(&e, "server");
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
        char step[64];
        snprintf(step, sizeof step, "type %u vector %u with deliver-error-code", ev[i].type, ev[i].vector);
        inject(&e, VALID | ERRC | TYPE(ev[i].type) | ev[i].vector, 0, ev[i].len);
        fails(&e, step, VTX_CHECK_CTL_INJ_ERRCODE_UNEXPECTED);
    }
    inject(&e, VALID | TYPE(4) | 0x80, 0, 2);
    vt_expect_entry_past_vmfail_checks(&e, "INT 80h without error code");
    vt_teardown(&e);
}

/* kut: "error code <-> vector delivers error code" for vectors 0..31. */
Test(ctl_inject, errcode_iff_vector_pushes_one_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    const uint32_t with_code = (1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 17);
    vt_env e;
    start_inj(&e, "server");
    for (unsigned v = 0; v < 32; v++) {
        bool has = (with_code >> v) & 1;
        char step[80];
        snprintf(step, sizeof step, "exception %u %s error code", v, has ? "without" : "with");
        inject(&e, VALID | (has ? 0 : ERRC) | TYPE(3) | v, 0, 0);
        fails(&e, step, has ? VTX_CHECK_CTL_INJ_ERRCODE_MISSING : VTX_CHECK_CTL_INJ_ERRCODE_UNEXPECTED);
        snprintf(step, sizeof step, "exception %u %s error code", v, has ? "with" : "without");
        inject(&e, VALID | (has ? ERRC : 0) | TYPE(3) | v, 0, 0);
        vt_expect_entry_past_vmfail_checks(&e, step);
    }
    vt_teardown(&e);
}

/* CFG-ERRCODE-RELAX (IA32_VMX_BASIC[56] = 1, kut no_hw_errcode_cc): a hardware
 * exception may come with or without an error code; other types still may not. */
Test(ctl_inject, errcode_relaxed_by_basic_56_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_BASIC] |= 1ull << 56;
    vt_env e;
    vt_start_with(&e, &p);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    inject(&e, VALID | TYPE(3) | 13, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP without error code");
    inject(&e, VALID | ERRC | TYPE(3) | 6, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#UD with error code");
    inject(&e, VALID | ERRC | TYPE(0) | 0x20, 0, 0);
    fails(&e, "external interrupt with error code", VTX_CHECK_CTL_INJ_ERRCODE_UNEXPECTED);
    vt_teardown(&e);
}

/* #CP (21) pushes an error code on a processor with CET (not in the 2016 list). */
Test(ctl_inject, errcode_cp_with_cet_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    vtx_profile p = vt_profile_copy("server");
    allow(&p, VTX_CAP_IA32_VMX_ENTRY_CTLS, VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS, VTX_ENTRY_LOAD_CET_STATE);
    vt_env e;
    vt_start_with(&e, &p);
    inject(&e, VALID | TYPE(3) | 21, 0, 0);
    fails(&e, "CET part: #CP without error code", VTX_CHECK_CTL_INJ_ERRCODE_MISSING);
    inject(&e, VALID | ERRC | TYPE(3) | 21, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "CET part: #CP with error code");
    vt_teardown(&e);
}

/* kut: "reserved bits clear", each of bits 30:12. */
Test(ctl_inject, reserved_bits_inj_chk_4)
{
    VTX_COVERS("INJ-CHK-4");
    vt_env e;
    start_inj(&e, "server");
    for (unsigned b = 12; b <= 30; b++) {
        char step[64];
        snprintf(step, sizeof step, "#GP injection with bit %u set", b);
        inject(&e, VALID | ERRC | TYPE(3) | 13 | (1u << b), 0, 0);
        fails(&e, step, VTX_CHECK_CTL_INJ_RESERVED_BITS);
    }
    inject(&e, VALID | ERRC | TYPE(3) | 13, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP injection, reserved bits clear");
    vt_teardown(&e);
}

/* kut: "VM-entry exception error code[31:16] clear"; DIFF-3: bit 15 is allowed
 * (KVM 567926cca99b: a #GP with error code 0x9f00 must enter). */
Test(ctl_inject, errcode_bits_31_16_inj_chk_5_diff_3)
{
    VTX_COVERS("INJ-CHK-5");
    vt_env e;
    start_inj(&e, "server");
    for (unsigned b = 16; b <= 31; b++) {
        char step[64];
        snprintf(step, sizeof step, "#GP error code 0x%x", 1u << b);
        inject(&e, VALID | ERRC | TYPE(3) | 13, 1u << b, 0);
        fails(&e, step, VTX_CHECK_CTL_INJ_ERRCODE_RESERVED);
    }
    inject(&e, VALID | ERRC | TYPE(3) | 13, 0x8000, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP error code 0x8000 (bit 15)");
    inject(&e, VALID | ERRC | TYPE(3) | 13, 0x9F00, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP error code 0x9f00");
    inject(&e, VALID | TYPE(3) | 6, 0xFFFF0000u, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#UD without deliver-error-code: the error-code field is ignored");
    vt_teardown(&e);
}

/* kut: "VM-entry instruction-length check": -1 and 16 rejected for types 4, 5, 6. */
Test(ctl_inject, instruction_length_inj_chk_6)
{
    VTX_COVERS("INJ-CHK-6");
    static const struct { unsigned type, vector; } ev[] = {{4, 0x80}, {6, 3}, {5, 1}};
    vt_env e;
    start_inj(&e, "server");
    for (size_t i = 0; i < 3; i++) {
        char step[64];
        inject(&e, VALID | TYPE(ev[i].type) | ev[i].vector, 0, 0xFFFFFFFFu);
        snprintf(step, sizeof step, "type %u, length 0xffffffff", ev[i].type);
        fails(&e, step, VTX_CHECK_CTL_INJ_INSN_LEN);
        inject(&e, VALID | TYPE(ev[i].type) | ev[i].vector, 0, 16);
        snprintf(step, sizeof step, "type %u, length 16", ev[i].type);
        fails(&e, step, VTX_CHECK_CTL_INJ_INSN_LEN);
        inject(&e, VALID | TYPE(ev[i].type) | ev[i].vector, 0, 15);
        snprintf(step, sizeof step, "type %u, length 15", ev[i].type);
        vt_expect_entry_past_vmfail_checks(&e, step);
    }
    inject(&e, VALID | TYPE(3) | 6, 0, 16);
    vt_expect_entry_past_vmfail_checks(&e, "hardware exception: the length field is ignored");
    vt_teardown(&e);
}

/* CFG-ZERO-ILEN: length 0 only with IA32_VMX_MISC[30] = 1. */
Test(ctl_inject, zero_length_needs_misc_30_inj_chk_6)
{
    VTX_COVERS("INJ-CHK-6");
    vt_env e;
    start_inj(&e, "server");
    inject(&e, VALID | TYPE(6) | 3, 0, 0);
    fails(&e, "INT3 with length 0, IA32_VMX_MISC[30] = 0", VTX_CHECK_CTL_INJ_INSN_LEN_ZERO);
    vt_teardown(&e);
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_MISC] |= 1ull << 30;
    vt_start_with(&e, &p);
    inject(&e, VALID | TYPE(6) | 3, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "INT3 with length 0, IA32_VMX_MISC[30] = 1");
    vt_teardown(&e);
}

Test(ctl_inject, invalid_field_ignored_without_valid_bit)
{
    vt_env e;
    vt_start(&e, "server");
    inject(&e, 0x7FFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu);
    vt_expect_entry_passes(&e, "valid bit 0, every other bit set");
    vt_teardown(&e);
}
