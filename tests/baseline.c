#include "baseline.h"
#include <string.h>

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

/* What the guest-state fields describe must exist in memory for the guest to
 * run: identity page tables for the first GiB (2-MiB pages) at VT_GUEST_CR3, and
 * a GDT with the code, data and TSS descriptors the segment fields name. The IDT
 * (VT_GUEST_IDT) is left empty: a test that wants handlers writes its gates. */
static void baseline_memory(vt_env *e)
{
    uint64_t *pml4 = (uint64_t *)(e->ram + VT_GUEST_CR3), *pdpt = pml4 + 512, *pd = pml4 + 1024;
    pml4[0] = (VT_GUEST_CR3 + 0x1000) | 3;
    pdpt[0] = (VT_GUEST_CR3 + 0x2000) | 3;
    for (uint64_t i = 0; i < 512; i++)
        pd[i] = (i << 21) | 0x83;
    uint64_t *gdt = (uint64_t *)(e->ram + VT_GUEST_GDT);
    gdt[1] = 0x00AF9B000000FFFFull; /* 0x08: 64-bit code */
    gdt[2] = 0x00CF93000000FFFFull; /* 0x10: data */
    gdt[3] = 0x67 | ((uint64_t)VT_GUEST_TSS << 16) | (0x8Bull << 40); /* 0x18: busy 64-bit TSS, base < 16 MiB */
    /* The guest's first instruction is HLT, so a guest that gets past VM entry
     * stops in the HLT state. */
    e->ram[VT_GUEST_RIP] = 0xF4;
}

void vt_idt_gate(vt_env *e, uint8_t vector, uint64_t handler, bool trap_gate)
{
    uint64_t *g = (uint64_t *)(e->ram + VT_GUEST_IDT + 16u * vector);
    g[0] = (handler & 0xFFFF) | (0x08ull << 16) | ((trap_gate ? 0x8Full : 0x8Eull) << 40) |
           (((handler >> 16) & 0xFFFF) << 48);
    g[1] = handler >> 32;
}

void vt_code(vt_env *e, uint64_t pa, const void *bytes, size_t n)
{
    cr_assert(pa + n <= VT_RAM_SIZE, "guest code at 0x%llx does not fit the test RAM", (unsigned long long)pa);
    memcpy(e->ram + pa, bytes, n);
}

void vt_baseline(vt_env *e)
{
    baseline_memory(e);
    vt_vmxon(e);
    vt_load_vmcs(e, VT_VMCS_PA);
    vt_baseline_controls(e);
    vt_baseline_host(e);
    vt_baseline_guest(e);
}

void vt_expect_entry_passes(vt_env *e, const char *step)
{
    vtx_insn_result r;
    uint64_t injection = vt_vmread(e, VTX_VMCS_ENTRY_INTR_INFO); /* a VM exit clears its valid bit (INJ-4) */
    vtx_status st = vtx_vmlaunch(e->m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    /* Every check passed: the guest runs (its run may stop later for its own
     * reasons) or exits normally, or the model says that every check passed but
     * a control it does not carry out is set (VTX_ERR_UNSUPPORTED, nothing changed). */
    if (st == VTX_ERR_UNSUPPORTED && strstr(r.why, "passed every VM-entry check")) {
        vt_vmwrite(e, VTX_VMCS_ENTRY_INTR_INFO, injection);
        return;
    }
    bool entered = r.outcome == VTX_GUEST_STOPPED ||
                   (st == VTX_OK && r.outcome == VTX_VMEXIT && !(r.exit_reason & VTX_EXIT_REASON_ENTRY_FAILURE));
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
    vt_vmwrite(e, VTX_VMCS_ENTRY_INTR_INFO, injection);
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

void vt_expect_entry_past_vmfail_checks(vt_env *e, const char *step)
{
    vtx_insn_result r;
    uint64_t injection = vt_vmread(e, VTX_VMCS_ENTRY_INTR_INFO);
    vtx_status st = vtx_vmlaunch(e->m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    /* Past the VMfail checks: a VM exit of any kind (an entry failure included),
     * a guest that runs and stops for its own reasons, or a run the model cannot
     * carry out (VTX_ERR_UNSUPPORTED: e.g. a VMX abort on an MSR area). */
    cr_assert(r.outcome == VTX_VMEXIT || r.outcome == VTX_GUEST_STOPPED || st == VTX_ERR_UNSUPPORTED,
              "%s: expected VM entry to pass the control and host-state checks, got %s (%s)", step, got,
              vtx_status_name(st));
    if (r.outcome == VTX_GUEST_STOPPED && vtx_machine_in_guest(e->m)) {
        /* The guest runs: make it exit (INIT, reason 3) as vt_expect_entry_passes() does. */
        cr_assert_eq(vtx_machine_raise_init(e->m), VTX_OK);
        vtx_continue(e->m, &r);
        cr_assert(r.outcome == VTX_VMEXIT, "%s: INIT after the entry should give a VM exit", step);
    }
    /* Launchable again, contents kept. */
    vtx_vmcs_status vs;
    if (vtx_machine_vmcs_status(e->m, VT_VMCS_PA, &vs) == VTX_OK && vs.launch == VTX_LAUNCH_LAUNCHED)
        vt_load_vmcs(e, VT_VMCS_PA);
    vt_vmwrite(e, VTX_VMCS_ENTRY_INTR_INFO, injection);
}

void vt_start(vt_env *e, const char *profile)
{
    vt_setup(e, profile);
    vt_baseline(e);
}

void vt_start_with(vt_env *e, const vtx_profile *p)
{
    vt_setup_profile(e, p);
    vt_baseline(e);
}

void vt_set_bits(vt_env *e, uint32_t enc, uint64_t bits) { vt_vmwrite(e, enc, vt_vmread(e, enc) | bits); }
void vt_clear_bits(vt_env *e, uint32_t enc, uint64_t bits) { vt_vmwrite(e, enc, vt_vmread(e, enc) & ~bits); }

/* The four guest-state fields of a segment register, by name. */
#define VT_SEG_FIELDS(N)                                                                                           \
    { VTX_VMCS_GUEST_##N##_SELECTOR, VTX_VMCS_GUEST_##N##_BASE, VTX_VMCS_GUEST_##N##_LIMIT, VTX_VMCS_GUEST_##N##_AR }
typedef struct vt_seg_fields { uint32_t sel, base, limit, ar; } vt_seg_fields;

static void guest_seg(vt_env *e, vt_seg_fields f, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    vt_vmwrite(e, f.sel, sel);
    vt_vmwrite(e, f.base, base);
    vt_vmwrite(e, f.limit, limit);
    vt_vmwrite(e, f.ar, ar);
}

void vt_guest_flat32(vt_env *e, uint16_t code_sel, uint16_t data_sel, uint16_t tr_sel, uint64_t pd, uint64_t gdt,
                     uint32_t gdt_limit, uint64_t idt)
{
    uint32_t *pde = (uint32_t *)(e->ram + pd);
    pde[0] = 0x83; /* 0-4 MiB -> 0, present, writable, PS */
    vt_clear_bits(e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    vt_vmwrite(e, VTX_VMCS_GUEST_CR0, 0x80000031); /* PE ET NE PG */
    vt_vmwrite(e, VTX_VMCS_CR0_READ_SHADOW, 0x80000031);
    vt_vmwrite(e, VTX_VMCS_GUEST_CR3, pd);
    vt_vmwrite(e, VTX_VMCS_GUEST_CR4, (1u << 4) | VTX_CR4_VMXE); /* PSE */
    vt_vmwrite(e, VTX_VMCS_CR4_READ_SHADOW, 1u << 4);
    static const vt_seg_fields cs = VT_SEG_FIELDS(CS), tr = VT_SEG_FIELDS(TR);
    static const vt_seg_fields data[] = {VT_SEG_FIELDS(SS), VT_SEG_FIELDS(DS), VT_SEG_FIELDS(ES), VT_SEG_FIELDS(FS),
                                         VT_SEG_FIELDS(GS)};
    guest_seg(e, cs, code_sel, 0, 0xFFFFFFFF, 0xC09B);
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++)
        guest_seg(e, data[i], data_sel, 0, 0xFFFFFFFF, 0xC093);
    guest_seg(e, tr, tr_sel, VT_GUEST_TSS, 0x67, 0x8B);
    vt_vmwrite(e, VTX_VMCS_GUEST_GDTR_BASE, gdt);
    vt_vmwrite(e, VTX_VMCS_GUEST_GDTR_LIMIT, gdt_limit);
    vt_vmwrite(e, VTX_VMCS_GUEST_IDTR_BASE, idt);
    vt_vmwrite(e, VTX_VMCS_GUEST_IDTR_LIMIT, 0x7FF);
}
