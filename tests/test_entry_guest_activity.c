/*
 * VM-entry checks on the guest activity and interruptibility state (SDM Vol. 3
 * "Checks on Guest Non-Register State"; catalogue F.3 ENT-GS-2..13, I
 * HLT-5/HLT-7, 0.1 CFG-NMI-STI-ENTRY).
 *
 * Each test starts from the baseline VMCS (a 64-bit guest that passes every
 * check), breaks one thing, expects the VM-entry failure exit 33 | 0x80000000
 * with the right qualification and named check, then makes the small change
 * that flips the outcome and expects VM entry to pass (tests/entry_guest_fixture.h).
 *
 * The kvm-unit-tests scenario 6.9 (docs/kut.tsv) notes the public suites do not test the activity-state and
 * interruptibility rules; those are covered here in depth.
 */
#include "entry_guest_fixture.h"
/* Model internals, only for the entry-to-SMM rows (see the smm_* tests). */
#include "../model/entry_checks.h"

/* ===================== activity state (ENT-GS-2..6, HLT-5, HLT-7) ===================== */

Test(guest_activity, ent_gs_2_range)
{
    VTX_COVERS("ENT-GS-2");
    start("server");
    W(GUEST_ACTIVITY_STATE, 4);
    FAIL("ENT-GS-2: activity state 4", 0, GUEST_ACT_STATE_RANGE);
    W(GUEST_ACTIVITY_STATE, 3);
    PASS("ENT-GS-2: activity state 3 (wait-for-SIPI) on server");
    done();
}

Test(guest_activity, ent_gs_2_supported_per_misc)
{
    VTX_COVERS("ENT-GS-2");
    start("core2"); /* IA32_VMX_MISC: HLT only */
    W(GUEST_ACTIVITY_STATE, ACT_SHUTDOWN);
    FAIL("ENT-GS-2: core2 shutdown (MISC bit 7 = 0)", 0, GUEST_ACT_STATE_UNSUPPORTED);
    W(GUEST_ACTIVITY_STATE, ACT_SIPI);
    FAIL("ENT-GS-2: core2 wait-for-SIPI (MISC bit 8 = 0)", 0, GUEST_ACT_STATE_UNSUPPORTED);
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    PASS("ENT-GS-2: core2 HLT (MISC bit 6 = 1)");
    done();
    start("server");
    W(GUEST_ACTIVITY_STATE, ACT_SHUTDOWN);
    PASS("ENT-GS-2: server shutdown");
    done();
}

Test(guest_activity, ent_gs_3_hlt_needs_ss_dpl_0)
{
    VTX_COVERS("ENT-GS-3", "HLT-5");
    /* HLT-5: a CPL-3 guest cannot be entered in the HLT state. */
    start("server");
    W(GUEST_CS_SELECTOR, 0x0B);
    W(GUEST_CS_AR, 0xA0FB);
    W(GUEST_SS_SELECTOR, 0x13);
    W(GUEST_SS_AR, 0xC0F3);
    PASS("ENT-GS-3: CPL 3 guest, active");
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    FAIL("ENT-GS-3 (HLT-5): HLT with SS.DPL 3", 0, GUEST_ACT_HLT_SS_DPL);
    W(GUEST_ACTIVITY_STATE, ACT_SHUTDOWN);
    PASS("ENT-GS-3: shutdown with SS.DPL 3 (the rule is HLT-only)");
    done();
}

Test(guest_activity, ent_gs_4_hlt7_sti_hlt_emulated_without_clearing_bit0)
{
    VTX_COVERS("ENT-GS-4", "HLT-7");
    /* HLT-7: "STI; HLT" with HLT exiting; the VMM re-enters with activity HLT
     * but forgets to clear interruptibility bit 0. */
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    W(GUEST_INTERRUPTIBILITY, STI);
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    FAIL("ENT-GS-4 (HLT-7): HLT with blocking by STI", 0, GUEST_ACT_NOT_ACTIVE_SHADOW);
    W(GUEST_INTERRUPTIBILITY, 0);
    PASS("ENT-GS-4 (HLT-7): HLT after clearing bit 0");
    done();
}

Test(guest_activity, ent_gs_4_movss_and_other_states)
{
    VTX_COVERS("ENT-GS-4");
    start("server");
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    PASS("ENT-GS-4: blocking by MOV SS while active");
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    FAIL("ENT-GS-4: HLT with blocking by MOV SS", 0, GUEST_ACT_NOT_ACTIVE_SHADOW);
    W(GUEST_ACTIVITY_STATE, ACT_SHUTDOWN);
    FAIL("ENT-GS-4: shutdown with blocking by MOV SS", 0, GUEST_ACT_NOT_ACTIVE_SHADOW);
    W(GUEST_ACTIVITY_STATE, ACT_SIPI);
    W(GUEST_RFLAGS, IF_ON);
    W(GUEST_INTERRUPTIBILITY, STI);
    FAIL("ENT-GS-4: wait-for-SIPI with blocking by STI", 0, GUEST_ACT_NOT_ACTIVE_SHADOW);
    W(GUEST_INTERRUPTIBILITY, NMIB);
    PASS("ENT-GS-4: wait-for-SIPI with blocking by NMI only");
    done();
}

/* ENT-GS-5: which injected events each activity state accepts. */
static void inject_into(uint32_t activity, uint32_t info, bool ok, vtx_check check, const char *what)
{
    char step[160];
    snprintf(step, sizeof step, "ENT-GS-5: activity %u, injecting %s", activity, what);
    W(GUEST_ACTIVITY_STATE, activity);
    W(ENTRY_INTR_INFO, info);
    W(ENTRY_EXCEPTION_ERROR_CODE, 0);
    W(ENTRY_INSTRUCTION_LEN, 2);
    if (ok)
        PASS(step);
    else
        vt_expect_entry_guest_fail(&e, step, 0, check);
}

Test(guest_activity, ent_gs_5_hlt_row)
{
    VTX_COVERS("ENT-GS-5");
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    vtx_check c = VTX_CHECK_GUEST_ACT_HLT_EVENT;
    inject_into(ACT_HLT, INJ_EXT(0x30), true, c, "an external interrupt");
    inject_into(ACT_HLT, INJ_NMI, true, c, "an NMI");
    inject_into(ACT_HLT, INJ_DB, true, c, "#DB (type 3, vector 1)");
    inject_into(ACT_HLT, INJ_MC, true, c, "#MC (type 3, vector 18)");
    inject_into(ACT_HLT, INJ_MTF, true, c, "a pending MTF VM exit (type 7, vector 0)");
    inject_into(ACT_HLT, INJ_GP, false, c, "#GP (type 3, vector 13)");
    inject_into(ACT_HLT, INJ(3, 6), false, c, "#UD (type 3, vector 6)");
    inject_into(ACT_HLT, INJ_SWINT(0x80), false, c, "INT 0x80 (type 4)");
    inject_into(ACT_HLT, INJ(5, 1), false, c, "INT1 (type 5, vector 1): only type 3 #DB is allowed");
    inject_into(ACT_HLT, INJ_BP, false, c, "#BP (type 6)");
    inject_into(ACT_HLT, INJ_SWINT(18), false, c, "INT 18 (type 4, vector 18): only type 3 #MC is allowed");
    done();
}

Test(guest_activity, ent_gs_5_shutdown_row)
{
    VTX_COVERS("ENT-GS-5");
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    vtx_check c = VTX_CHECK_GUEST_ACT_SHUTDOWN_EVENT;
    inject_into(ACT_SHUTDOWN, INJ_NMI, true, c, "an NMI");
    inject_into(ACT_SHUTDOWN, INJ_MC, true, c, "#MC");
    inject_into(ACT_SHUTDOWN, INJ_EXT(0x30), false, c, "an external interrupt");
    inject_into(ACT_SHUTDOWN, INJ_DB, false, c, "#DB");
    inject_into(ACT_SHUTDOWN, INJ_MTF, false, c, "a pending MTF VM exit");
    inject_into(ACT_SHUTDOWN, INJ_SWINT(18), false, c, "INT 18 (type 4, vector 18)");
    done();
}

Test(guest_activity, ent_gs_5_wait_for_sipi_row)
{
    VTX_COVERS("ENT-GS-5");
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    vtx_check c = VTX_CHECK_GUEST_ACT_SIPI_EVENT;
    inject_into(ACT_SIPI, INJ_NMI, false, c, "an NMI");
    inject_into(ACT_SIPI, INJ_MC, false, c, "#MC");
    inject_into(ACT_SIPI, INJ_EXT(0x30), false, c, "an external interrupt");
    inject_into(ACT_SIPI, INJ_MTF, false, c, "a pending MTF VM exit");
    inject_into(ACT_SIPI, INJ_NMI & ~0x80000000u, true, c, "nothing (valid bit 0)");
    done();
}

Test(guest_activity, ent_gs_5_active_accepts_everything)
{
    VTX_COVERS("ENT-GS-5");
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    vtx_check c = VTX_CHECK_NONE;
    inject_into(ACT_ACTIVE, INJ_GP, true, c, "#GP");
    inject_into(ACT_ACTIVE, INJ_SWINT(0x80), true, c, "INT 0x80");
    inject_into(ACT_ACTIVE, INJ_BP, true, c, "#BP");
    inject_into(ACT_ACTIVE, INJ(5, 1), true, c, "INT1");
    done();
}

/* The entry-to-SMM rows (ENT-GS-6, second half of ENT-GS-11) cannot be reached
 * through VMLAUNCH: the model is never in SMM, so ENT-CTL-7 rejects "entry to
 * SMM" = 1 first. They are exercised on the guest-check function directly. */
static bool guest_check(vtx_entry_fail *fail)
{
    vtx_vmcs_status st;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, VT_VMCS_PA, &st), VTX_OK);
    memset(fail, 0, sizeof *fail);
    return vtx_entry_check_guest(e.m, &e.m->current->f, fail);
}

Test(guest_activity, ent_gs_6_wait_for_sipi_with_entry_to_smm)
{
    VTX_COVERS("ENT-GS-6", "ENT-GS-11");
    start("server");
    vtx_entry_fail f;
    SET(ENTRY_CONTROLS, VTX_ENTRY_ENTRY_TO_SMM);
    W(GUEST_ACTIVITY_STATE, ACT_SIPI);
    cr_assert(!guest_check(&f) && f.check == VTX_CHECK_GUEST_ACT_SIPI_SMM && f.qualification == 0,
              "ENT-GS-6: wait-for-SIPI with entry to SMM, got %s (%s)", vtx_check_name(f.check), f.why);
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    cr_assert(!guest_check(&f) && f.check == VTX_CHECK_GUEST_INTR_SMI_ENTRY_SMM,
              "ENT-GS-11: entry to SMM without blocking by SMI, got %s (%s)", vtx_check_name(f.check), f.why);
    done();
}

/* ===================== interruptibility state (ENT-GS-7..13) ===================== */

Test(guest_intr, ent_gs_7_reserved_bits)
{
    VTX_COVERS("ENT-GS-7");
    start("server");
    W(GUEST_INTERRUPTIBILITY, 0x20);
    FAIL("ENT-GS-7: interruptibility bit 5", 0, GUEST_INTR_RESERVED);
    W(GUEST_INTERRUPTIBILITY, 0x80000000u);
    FAIL("ENT-GS-7: interruptibility bit 31", 0, GUEST_INTR_RESERVED);
    W(GUEST_INTERRUPTIBILITY, NMIB);
    PASS("ENT-GS-7: blocking by NMI only");
    done();
}

Test(guest_intr, ent_gs_8_sti_and_movss)
{
    VTX_COVERS("ENT-GS-8", "BLK-STI-5");
    /* BLK-STI-5: STI; MOV SS is saved as MOV-SS blocking only. */
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    W(GUEST_INTERRUPTIBILITY, STI | MOVSS);
    FAIL("ENT-GS-8: bits 0 and 1 both set", 0, GUEST_INTR_STI_AND_MOVSS);
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    PASS("ENT-GS-8: MOV-SS blocking alone");
    W(GUEST_INTERRUPTIBILITY, STI);
    PASS("ENT-GS-8: STI blocking alone");
    done();
}

Test(guest_intr, ent_gs_9_sti_needs_if)
{
    VTX_COVERS("ENT-GS-9", "BLK-STI-1");
    /* BLK-STI-1: STI blocking exists only after an STI that set IF. */
    start("server");
    W(GUEST_INTERRUPTIBILITY, STI);
    FAIL("ENT-GS-9: blocking by STI with IF = 0", 0, GUEST_INTR_STI_IF0);
    W(GUEST_RFLAGS, IF_ON);
    PASS("ENT-GS-9: blocking by STI with IF = 1");
    W(GUEST_RFLAGS, 2);
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    PASS("ENT-GS-9: blocking by MOV SS with IF = 0");
    done();
}

Test(guest_intr, ent_gs_10_external_interrupt_in_shadow)
{
    VTX_COVERS("ENT-GS-10");
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    W(ENTRY_INTR_INFO, INJ_EXT(0x40));
    W(GUEST_INTERRUPTIBILITY, STI);
    FAIL("ENT-GS-10: external interrupt with blocking by STI", 0, GUEST_INTR_EXTINT_SHADOW);
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    FAIL("ENT-GS-10: external interrupt with blocking by MOV SS", 0, GUEST_INTR_EXTINT_SHADOW);
    W(GUEST_INTERRUPTIBILITY, NMIB);
    PASS("ENT-GS-10: external interrupt with blocking by NMI");
    W(GUEST_INTERRUPTIBILITY, STI);
    W(ENTRY_INTR_INFO, INJ_GP);
    W(ENTRY_EXCEPTION_ERROR_CODE, 0);
    PASS("ENT-GS-10: a hardware exception may be injected in an STI shadow");
    done();
}

Test(guest_intr, ent_gs_10_nmi_with_movss)
{
    VTX_COVERS("ENT-GS-10");
    start("server");
    W(ENTRY_INTR_INFO, INJ_NMI);
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    FAIL("ENT-GS-10: NMI with blocking by MOV SS", 0, GUEST_INTR_NMI_MOVSS);
    W(GUEST_INTERRUPTIBILITY, 0);
    PASS("ENT-GS-10: NMI without blocking");
    done();
}

Test(guest_intr, ent_gs_10_nmi_with_sti_qualification_3)
{
    VTX_COVERS("ENT-GS-10");
    /* CFG-NMI-STI-ENTRY on (default): qualification 3 (Bochs: 0, DIFF-8c). */
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    W(ENTRY_INTR_INFO, INJ_NMI);
    W(GUEST_INTERRUPTIBILITY, STI);
    FAIL("ENT-GS-10 / CFG-NMI-STI-ENTRY: NMI with blocking by STI", 3, GUEST_INTR_NMI_STI);
    W(GUEST_INTERRUPTIBILITY, 0);
    PASS("ENT-GS-10: NMI without STI blocking");
    done();
}

Test(guest_intr, ent_gs_10_nmi_with_sti_knob_off)
{
    VTX_COVERS("ENT-GS-10");
    const vtx_profile *s;
    cr_assert_eq(vtx_profile_find("server", &s, NULL), VTX_OK);
    vtx_profile p = *s;
    p.knobs &= ~(uint32_t)VTX_KNOB_NMI_STI_ENTRY;
    start_with(&p);
    W(GUEST_RFLAGS, IF_ON);
    W(ENTRY_INTR_INFO, INJ_NMI);
    W(GUEST_INTERRUPTIBILITY, STI);
    PASS("CFG-NMI-STI-ENTRY off: NMI with blocking by STI is allowed");
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    FAIL("CFG-NMI-STI-ENTRY off: NMI with MOV-SS blocking still fails", 0, GUEST_INTR_NMI_MOVSS);
    done();
}

Test(guest_intr, ent_gs_11_smi_blocking_outside_smm)
{
    VTX_COVERS("ENT-GS-11");
    start("server");
    W(GUEST_INTERRUPTIBILITY, SMI);
    FAIL("ENT-GS-11: blocking by SMI outside SMM", 0, GUEST_INTR_SMI_NOT_SMM);
    W(GUEST_INTERRUPTIBILITY, 0);
    PASS("ENT-GS-11: no SMI blocking");
    done();
}

Test(guest_intr, ent_gs_11_entry_to_smm_needs_smi_blocking)
{
    VTX_COVERS("ENT-GS-11");
    start("server");
    vtx_entry_fail f;
    SET(ENTRY_CONTROLS, VTX_ENTRY_ENTRY_TO_SMM);
    cr_assert(!guest_check(&f) && f.check == VTX_CHECK_GUEST_INTR_SMI_ENTRY_SMM,
              "ENT-GS-11: entry to SMM with bit 2 = 0, got %s (%s)", vtx_check_name(f.check), f.why);
    CLR(ENTRY_CONTROLS, VTX_ENTRY_ENTRY_TO_SMM);
    cr_assert(guest_check(&f), "ENT-GS-11: without entry to SMM: %s", f.why);
    done();
}

Test(guest_intr, ent_gs_12_virtual_nmi_blocking_with_injected_nmi)
{
    VTX_COVERS("ENT-GS-12");
    start("server");
    SET(PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    W(ENTRY_INTR_INFO, INJ_NMI);
    W(GUEST_INTERRUPTIBILITY, NMIB);
    FAIL("ENT-GS-12: virtual NMIs, injecting an NMI with virtual-NMI blocking", 0, GUEST_INTR_VNMI_BLOCKED);
    W(ENTRY_INTR_INFO, 0);
    PASS("ENT-GS-12: virtual-NMI blocking without injection");
    CLR(PIN_CONTROLS, VTX_PIN_VIRTUAL_NMIS);
    W(ENTRY_INTR_INFO, INJ_NMI);
    PASS("ENT-GS-12 note: no such rule when virtual NMIs = 0");
    done();
}

Test(guest_intr, ent_gs_13_enclave_without_sgx)
{
    VTX_COVERS("ENT-GS-13");
    start("server");
    W(GUEST_INTERRUPTIBILITY, ENCLAVE);
    FAIL("ENT-GS-13: enclave interruption on a part without SGX", 0, GUEST_INTR_ENCLAVE_NO_SGX);
    done();
}

Test(guest_intr, ent_gs_13_enclave_and_movss)
{
    VTX_COVERS("ENT-GS-13");
    vtx_profile p = server_plus(0, VTX_PROC2_ENCLS_EXITING);
    start_with(&p);
    W(GUEST_INTERRUPTIBILITY, ENCLAVE | MOVSS);
    FAIL("ENT-GS-13: enclave interruption with blocking by MOV SS", 0, GUEST_INTR_ENCLAVE_MOVSS);
    W(GUEST_INTERRUPTIBILITY, ENCLAVE);
    PASS("ENT-GS-13: enclave interruption on an SGX part");
    done();
}
