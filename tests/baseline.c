#include "baseline.h"

uint32_t vt_must1(vt_env *e, vtx_ctl_field f)
{
    uint32_t m1, a1;
    vtx_profile_ctl_caps(&e->profile, f, &m1, &a1);
    return m1;
}

uint32_t vt_may1(vt_env *e, vtx_ctl_field f)
{
    uint32_t m1, a1;
    vtx_profile_ctl_caps(&e->profile, f, &m1, &a1);
    return a1;
}

void vt_baseline_controls(vt_env *e)
{
    vt_vmwrite(e, VTX_VMCS_PIN_CONTROLS, vt_must1(e, VTX_CTL_PIN));
    vt_vmwrite(e, VTX_VMCS_PROC_CONTROLS, vt_must1(e, VTX_CTL_PROC));
    vt_vmwrite(e, VTX_VMCS_EXIT_CONTROLS, vt_must1(e, VTX_CTL_EXIT) | VTX_EXIT_HOST_ADDR_SPACE_SIZE);
    vt_vmwrite(e, VTX_VMCS_ENTRY_CONTROLS, vt_must1(e, VTX_CTL_ENTRY) | VTX_ENTRY_IA32E_MODE_GUEST);
    vt_vmwrite(e, VTX_VMCS_EXCEPTION_BITMAP, 0);
    vt_vmwrite(e, VTX_VMCS_CR3_TARGET_COUNT, 0);
    vt_vmwrite(e, VTX_VMCS_ENTRY_INTR_INFO, 0);
    vt_vmwrite(e, VTX_VMCS_EXIT_MSR_STORE_COUNT, 0);
    vt_vmwrite(e, VTX_VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vt_vmwrite(e, VTX_VMCS_ENTRY_MSR_LOAD_COUNT, 0);
}

void vt_baseline_host(vt_env *e)
{
    vt_vmwrite(e, VTX_VMCS_HOST_CR0, 0x80050033); /* PE MP ET NE WP AM PG */
    vt_vmwrite(e, VTX_VMCS_HOST_CR3, VT_HOST_CR3);
    vt_vmwrite(e, VTX_VMCS_HOST_CR4, VTX_CR4_PAE | VTX_CR4_VMXE);
    vt_vmwrite(e, VTX_VMCS_HOST_CS_SELECTOR, 0x08);
    vt_vmwrite(e, VTX_VMCS_HOST_SS_SELECTOR, 0x10);
    vt_vmwrite(e, VTX_VMCS_HOST_DS_SELECTOR, 0x10);
    vt_vmwrite(e, VTX_VMCS_HOST_ES_SELECTOR, 0x10);
    vt_vmwrite(e, VTX_VMCS_HOST_FS_SELECTOR, 0);
    vt_vmwrite(e, VTX_VMCS_HOST_GS_SELECTOR, 0);
    vt_vmwrite(e, VTX_VMCS_HOST_TR_SELECTOR, 0x18);
    vt_vmwrite(e, VTX_VMCS_HOST_FS_BASE, 0);
    vt_vmwrite(e, VTX_VMCS_HOST_GS_BASE, 0xFFFF888000000000ull);
    vt_vmwrite(e, VTX_VMCS_HOST_TR_BASE, 0xFFFFFE0000001000ull);
    vt_vmwrite(e, VTX_VMCS_HOST_GDTR_BASE, 0xFFFFFE0000000000ull);
    vt_vmwrite(e, VTX_VMCS_HOST_IDTR_BASE, 0xFFFFFE0000002000ull);
    vt_vmwrite(e, VTX_VMCS_HOST_IA32_SYSENTER_CS, 0);
    vt_vmwrite(e, VTX_VMCS_HOST_IA32_SYSENTER_ESP, 0);
    vt_vmwrite(e, VTX_VMCS_HOST_IA32_SYSENTER_EIP, 0);
    vt_vmwrite(e, VTX_VMCS_HOST_RSP, 0xFFFFC90000004000ull);
    vt_vmwrite(e, VTX_VMCS_HOST_RIP, VT_HOST_RIP);
}

static void seg(vt_env *e, uint32_t sel_enc, uint32_t base_enc, uint32_t limit_enc, uint32_t ar_enc, uint16_t sel,
                uint64_t base, uint32_t limit, uint32_t ar)
{
    vt_vmwrite(e, sel_enc, sel);
    vt_vmwrite(e, base_enc, base);
    vt_vmwrite(e, limit_enc, limit);
    vt_vmwrite(e, ar_enc, ar);
}

#define SEG(name, sel, base, limit, ar)                                                              \
    seg(e, VTX_VMCS_GUEST_##name##_SELECTOR, VTX_VMCS_GUEST_##name##_BASE, VTX_VMCS_GUEST_##name##_LIMIT, \
        VTX_VMCS_GUEST_##name##_AR, sel, base, limit, ar)

void vt_baseline_guest(vt_env *e)
{
    vt_vmwrite(e, VTX_VMCS_GUEST_CR0, 0x80000031); /* PE ET NE PG */
    vt_vmwrite(e, VTX_VMCS_GUEST_CR3, VT_GUEST_CR3);
    vt_vmwrite(e, VTX_VMCS_GUEST_CR4, VTX_CR4_PAE | VTX_CR4_VMXE);
    vt_vmwrite(e, VTX_VMCS_CR0_READ_SHADOW, 0x80000031);
    vt_vmwrite(e, VTX_VMCS_CR4_READ_SHADOW, VTX_CR4_PAE);
    vt_vmwrite(e, VTX_VMCS_GUEST_DR7, 0x400);
    vt_vmwrite(e, VTX_VMCS_GUEST_IA32_DEBUGCTL, 0);
    vt_vmwrite(e, VTX_VMCS_GUEST_IA32_SYSENTER_CS, 0);
    vt_vmwrite(e, VTX_VMCS_GUEST_IA32_SYSENTER_ESP, 0);
    vt_vmwrite(e, VTX_VMCS_GUEST_IA32_SYSENTER_EIP, 0);
    /* 64-bit code; flat data; no LDT; a 64-bit busy TSS. Access rights:
     * 0xA09B = code exec/read accessed, S, P, L, G; 0xC093 = data r/w accessed, S, P, D/B, G. */
    SEG(CS, 0x08, 0, 0xFFFFFFFF, 0xA09B);
    SEG(SS, 0x10, 0, 0xFFFFFFFF, 0xC093);
    SEG(DS, 0x10, 0, 0xFFFFFFFF, 0xC093);
    SEG(ES, 0x10, 0, 0xFFFFFFFF, 0xC093);
    SEG(FS, 0x10, 0, 0xFFFFFFFF, 0xC093);
    SEG(GS, 0x10, 0, 0xFFFFFFFF, 0xC093);
    SEG(LDTR, 0, 0, 0, 0x10000); /* unusable */
    SEG(TR, 0x18, VT_GUEST_TSS, 0x67, 0x8B);
    vt_vmwrite(e, VTX_VMCS_GUEST_GDTR_BASE, VT_GUEST_GDT);
    vt_vmwrite(e, VTX_VMCS_GUEST_GDTR_LIMIT, 0x1F);
    vt_vmwrite(e, VTX_VMCS_GUEST_IDTR_BASE, VT_GUEST_IDT);
    vt_vmwrite(e, VTX_VMCS_GUEST_IDTR_LIMIT, 0xFFF);
    vt_vmwrite(e, VTX_VMCS_GUEST_RIP, VT_GUEST_RIP);
    vt_vmwrite(e, VTX_VMCS_GUEST_RSP, VT_GUEST_RSP);
    vt_vmwrite(e, VTX_VMCS_GUEST_RFLAGS, 0x2);
    vt_vmwrite(e, VTX_VMCS_GUEST_ACTIVITY_STATE, 0);
    vt_vmwrite(e, VTX_VMCS_GUEST_INTERRUPTIBILITY, 0);
    vt_vmwrite(e, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
    vt_vmwrite(e, VTX_VMCS_VMCS_LINK_POINTER, ~0ull);
}

void vt_baseline(vt_env *e)
{
    vt_vmxon(e);
    vt_load_vmcs(e, VT_VMCS_PA);
    vt_baseline_controls(e);
    vt_baseline_host(e);
    vt_baseline_guest(e);
}

void vt_expect_entry_passes(vt_env *e, const char *step)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e->m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    bool entered = (st == VTX_OK || st == VTX_ERR_UNSUPPORTED) &&
                   (r.outcome == VTX_GUEST_STOPPED ||
                    (r.outcome == VTX_VMEXIT && !(r.exit_reason & VTX_EXIT_REASON_ENTRY_FAILURE)));
    cr_assert(entered, "%s: expected VM entry to pass every check, got %s (%s)", step, got, vtx_status_name(st));
    /* Bring the machine back to root operation with the VMCS clear again, so a
     * test can go on changing fields: INIT makes the guest exit (reason 3), and
     * VMCLEAR + VMPTRLD reset the launch state and keep the contents. */
    if (r.outcome == VTX_GUEST_STOPPED) {
        cr_assert_eq(vtx_machine_raise_init(e->m), VTX_OK);
        vtx_continue(e->m, &r);
        cr_assert(r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_INIT_SIGNAL,
                  "%s: INIT after the entry should give exit 3", step);
    }
    uint64_t pa = vtx_machine_current_vmcs(e->m);
    vt_expect("VMCLEAR after entry", vtx_vmclear(e->m, pa, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMPTRLD after entry", vtx_vmptrld(e->m, pa, &r), &r, VTX_VMSUCCEED, 0);
}

void vt_expect_entry_vmfail(vt_env *e, const char *step, uint32_t error, vtx_check check)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e->m, &r);
    vt_expect(step, st, &r, VTX_VMFAIL_VALID, error);
    cr_assert(r.check == check, "%s: expected check %s, got %s (%s)", step, vtx_check_name(check),
              vtx_check_name(r.check), r.why);
}

void vt_expect_entry_guest_fail(vt_env *e, const char *step, uint32_t qualification, vtx_check check)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e->m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT &&
                  r.exit_reason == (VTX_EXIT_REASON_INVALID_GUEST_STATE | VTX_EXIT_REASON_ENTRY_FAILURE) &&
                  r.exit_qualification == qualification,
              "%s: expected VM-entry failure exit 33 | 0x80000000 with qualification %u, got %s", step,
              qualification, got);
    cr_assert(r.check == check, "%s: expected check %s, got %s (%s)", step, vtx_check_name(check),
              vtx_check_name(r.check), r.why);
    /* What the VMM sees: the exit-reason and qualification fields (ENT-BASIC-5). */
    cr_assert_eq(vt_vmread(e, VTX_VMCS_EXIT_REASON), r.exit_reason, "%s: exit-reason field", step);
    cr_assert_eq(vt_vmread(e, VTX_VMCS_EXIT_QUALIFICATION), qualification, "%s: exit qualification", step);
}
