/*
 * kvm-unit-tests scenarios 6.1 (vmx_intr_window_test) and 6.2
 * (vmx_nmi_window_test) of docs/kut.tsv, ported with their guest code:
 *
 *   G+0  0f 01 c1   vmcall
 *   G+3  90         nop
 *   G+4  fb         sti
 *   G+5  fb         sti
 *   G+6  f4         hlt
 *
 * and a #DB handler (iretq) reached through a trap gate so that IF stays as it
 * was. Each case is a fresh VM entry with the state kut sets up.
 */
#include "baseline.h"

#define G VT_GUEST_RIP
#define NOP (G + 3)
#define DB_HANDLER 0x12000u

static const uint8_t code[] = {0x0f, 0x01, 0xc1, 0x90, 0xfb, 0xfb, 0xf4};
static const uint8_t iretq[] = {0x48, 0xcf};

static vt_env e;

static void setup(void)
{
    vt_setup(&e, "server");
    vt_baseline(&e);
    vt_code(&e, G, code, sizeof code);
    vt_code(&e, DB_HANDLER, iretq, sizeof iretq);
    vt_idt_gate(&e, 1, DB_HANDLER, true); /* kut makes the #DB gate a trap gate */
}
static void teardown(void) { vt_teardown(&e); }

static void enter_at(uint64_t rip, uint64_t rflags, uint32_t intr, uint32_t activity)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rip);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, rflags);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, intr);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, activity);
}

/* Inject #DB as kut does: a hardware exception (type 3) or, for 6.2.4, a
 * software exception (type 6) with instruction length 1. */
static void inject_db(unsigned type, unsigned len)
{
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, 0x80000000u | (type << 8) | 1u);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INSTRUCTION_LEN, len);
}

static void expect_exit(const char *scenario, uint32_t reason, uint64_t rip, uint32_t activity)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == reason,
              "%s: expected exit %u (%s), got %s", scenario, reason, vtx_exit_reason_name(reason), got);
    uint64_t saved = vt_vmread(&e, VTX_VMCS_GUEST_RIP);
    cr_assert_eq(saved, rip, "%s: expected the exit at RIP 0x%llx, got 0x%llx", scenario, (unsigned long long)rip,
                 (unsigned long long)saved);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_ACTIVITY_STATE), activity, "%s: saved activity state", scenario);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_QUALIFICATION), 0, "%s: exit qualification (IW-4, NW-6)", scenario);
}

static void iw_on(void)
{
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS, vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_INTR_WINDOW_EXITING);
}

static void nw_on(void)
{
    vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS,
               vt_vmread(&e, VTX_VMCS_PIN_CONTROLS) | VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS, vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_NMI_WINDOW_EXITING);
}

TestSuite(kut_intr_window, .init = setup, .fini = teardown);

Test(kut_intr_window, s6_1_1_active_no_blocking_if1)
{
    VTX_COVERS("IW-1", "IW-2");
    /* IW-1, IW-2: immediate exit, RIP at the vmcall, not advanced. */
    iw_on();
    enter_at(G, 0x202, 0, 0);
    expect_exit("interrupt-window: IF=1, no blocking", VTX_EXIT_REASON_INTERRUPT_WINDOW, G, 0);
}

Test(kut_intr_window, s6_1_2_injecting_db)
{
    VTX_COVERS("IW-2", "PRI-4", "INJ-5");
    /* IW-2, PRI-4, INJ-5: the exit follows the injected #DB's delivery; RIP at the #DB handler. */
    iw_on();
    enter_at(G, 0x202, 0, 0);
    inject_db(3, 0);
    expect_exit("interrupt-window: IF=1, injecting #DB", VTX_EXIT_REASON_INTERRUPT_WINDOW, DB_HANDLER, 0);
}

Test(kut_intr_window, s6_1_3_movss_blocking)
{
    VTX_COVERS("BLK-MSS-1", "BLK-LOAD-2");
    /* BLK-MSS-1, BLK-LOAD-2: blocking by MOV SS at the nop: exit at nop+1. */
    iw_on();
    enter_at(NOP, 0x202, 0x2, 0);
    expect_exit("interrupt-window: IF=1, blocking by MOV SS; nop", VTX_EXIT_REASON_INTERRUPT_WINDOW, NOP + 1, 0);
}

Test(kut_intr_window, s6_1_4_sti_blocking)
{
    VTX_COVERS("BLK-STI-2", "BLK-LOAD-2");
    /* BLK-STI-2, BLK-LOAD-2: blocking by STI at the nop: exit at nop+1. */
    iw_on();
    enter_at(NOP, 0x202, 0x1, 0);
    expect_exit("interrupt-window: IF=1, blocking by STI; nop", VTX_EXIT_REASON_INTERRUPT_WINDOW, NOP + 1, 0);
}

Test(kut_intr_window, s6_1_5_if0_sti_sti)
{
    VTX_COVERS("BLK-STI-1", "BLK-STI-4");
    /* BLK-STI-1, BLK-STI-4: nop; sti (shadow); sti (no new shadow): exit at nop+3. */
    iw_on();
    enter_at(NOP, 0x2, 0, 0);
    expect_exit("interrupt-window: IF=0; nop; sti; sti", VTX_EXIT_REASON_INTERRUPT_WINDOW, NOP + 3, 0);
}

Test(kut_intr_window, s6_1_6_hlt_no_blocking)
{
    VTX_COVERS("IW-5");
    /* IW-5: entry into HLT with IF=1 exits at once, RIP unchanged, activity HLT. */
    iw_on();
    enter_at(NOP + 3, 0x202, 0, 1);
    expect_exit("interrupt-window: HLT, IF=1", VTX_EXIT_REASON_INTERRUPT_WINDOW, NOP + 3, 1);
}

Test(kut_intr_window, s6_1_7_hlt_injecting_db)
{
    VTX_COVERS("INJ-13", "IW-2");
    /* INJ-13, IW-2: a vectoring entry ends active; the exit is at the #DB handler. */
    iw_on();
    enter_at(NOP + 3, 0x202, 0, 1);
    inject_db(3, 0);
    expect_exit("interrupt-window: HLT, injecting #DB", VTX_EXIT_REASON_INTERRUPT_WINDOW, DB_HANDLER, 0);
}

Test(kut_intr_window, flip_if0_without_sti_never_exits)
{
    /* The flip of 6.1.5: without the STIs (start at the hlt with IF=0) the window never opens. */
    iw_on();
    enter_at(NOP + 3, 0x2, 0, 0);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_GUEST_STOPPED, "IF=0; hlt: no interrupt-window exit, the guest halts");
}

TestSuite(kut_nmi_window, .init = setup, .fini = teardown);

Test(kut_nmi_window, s6_2_1_active_no_blocking)
{
    VTX_COVERS("NW-2", "NW-3");
    /* NW-2, NW-3: immediate exit at the nop. */
    nw_on();
    enter_at(NOP, 0x2, 0, 0);
    expect_exit("NMI-window: no blocking", VTX_EXIT_REASON_NMI_WINDOW, NOP, 0);
}

Test(kut_nmi_window, s6_2_2_movss_blocking)
{
    VTX_COVERS("NW-8");
    /* NW-8: exit at nop+1. */
    nw_on();
    enter_at(NOP, 0x2, 0x2, 0);
    expect_exit("NMI-window: blocking by MOV SS; nop", VTX_EXIT_REASON_NMI_WINDOW, NOP + 1, 0);
}

Test(kut_nmi_window, s6_2_3_injecting_db)
{
    VTX_COVERS("NW-3");
    /* NW-3: after the injected #DB is delivered; RIP at the handler. */
    nw_on();
    enter_at(NOP, 0x2, 0, 0);
    inject_db(3, 0);
    expect_exit("NMI-window: injecting #DB", VTX_EXIT_REASON_NMI_WINDOW, DB_HANDLER, 0);
}

Test(kut_nmi_window, s6_2_4_nmi_blocking_until_iret)
{
    VTX_COVERS("NW-7", "VNMI-4");
    /* NW-7, VNMI-4: virtual-NMI blocking holds the window until the #DB handler's
     * IRET; the exit is at the IRET's return target nop+1 (kut injects #DB as a
     * software exception with length 1), after the handler ran once. */
    nw_on();
    enter_at(NOP, 0x2, 0x8, 0);
    inject_db(6, 1);
    uint64_t before = vtx_machine_instructions(e.m);
    expect_exit("NMI-window: blocking by NMI, #DB handler IRETs", VTX_EXIT_REASON_NMI_WINDOW, NOP + 1, 0);
    cr_assert_eq(vtx_machine_instructions(e.m) - before, 1, "the handler's iretq is the only instruction run");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 0x8, 0, "IRET removed virtual-NMI blocking");
}

Test(kut_nmi_window, s6_2_5_hlt_no_blocking)
{
    VTX_COVERS("NW-5");
    /* NW-5: the exit wakes HLT; activity HLT saved. */
    nw_on();
    enter_at(NOP + 3, 0x2, 0, 1);
    expect_exit("NMI-window: HLT", VTX_EXIT_REASON_NMI_WINDOW, NOP + 3, 1);
}

Test(kut_nmi_window, s6_2_6_hlt_injecting_db)
{
    nw_on();
    enter_at(NOP + 3, 0x2, 0, 1);
    inject_db(3, 0);
    expect_exit("NMI-window: HLT, injecting #DB", VTX_EXIT_REASON_NMI_WINDOW, DB_HANDLER, 0);
}
