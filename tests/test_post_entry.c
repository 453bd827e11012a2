/*
 * Events at the instruction boundary right after VM entry and while the guest
 * is halted: the exits that need no guest instruction (catalogue G.1, PRI-2,
 * PRI-4, IW-*, NW-*, PT-*, HLT-*, EXIT-*), and the launch-state errors 4 and 6
 * that a completed VM entry makes reachable. Ported kvm-unit-tests scenarios
 * are named "kut 6.x.y".
 */
#include <stdlib.h>
#include <string.h>
#include "baseline.h"

#define IS_STI 0x1u
#define IS_MOVSS 0x2u
#define IS_NMI 0x8u
#define ACT_HLT 1u

typedef struct recorder {
    int n;
    vtx_boundary_report first, last;
} recorder;

static void record(void *user, const vtx_boundary_report *rep)
{
    recorder *rec = user;
    if (rec->n++ == 0)
        rec->first = *rep;
    rec->last = *rep;
}

static vt_env e;
static recorder rec;

static void setup_server(void)
{
    vt_setup(&e, "server");
    vt_baseline(&e);
    rec = (recorder){0};
    vtx_machine_set_observer(e.m, record, &rec);
}
static void teardown(void) { vt_teardown(&e); }

static void set_bits(uint32_t enc, uint64_t bits) { vt_vmwrite(&e, enc, vt_vmread(&e, enc) | bits); }

/* VMLAUNCH and expect a VM exit with this basic reason. */
static vtx_insn_result launch_expect_exit(const char *step, uint32_t reason)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == reason,
              "%s: expected VM exit %u (%s), got %s", step, reason, vtx_exit_reason_name(reason), got);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_REASON), reason, "%s: exit-reason field", step);
    return r;
}

/* VMLAUNCH and expect no VM exit at all: the first boundary executes the
 * guest's HLT, and the halted guest has nothing to wake it. */
static void launch_expect_no_exit(const char *step)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    cr_assert(r.outcome == VTX_GUEST_STOPPED && st == VTX_OK,
              "%s: expected no VM exit (the guest halts for good), got %s", step, got);
    cr_assert(rec.n >= 1 && rec.first.action == VTX_ACT_EXECUTE,
              "%s: the first boundary should lead to executing an instruction", step);
}

/* VMLAUNCH and expect the first boundary to be blocked and the exit to come at
 * the next one, after the guest's HLT retired: from the HLT state, RIP after HLT. */
static void launch_expect_exit_after_one(const char *step, uint32_t reason)
{
    launch_expect_exit(step, reason);
    cr_assert(rec.n >= 2 && rec.first.action == VTX_ACT_EXECUTE, "%s: the first boundary executes the HLT", step);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 1, "%s: RIP after HLT", step);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_ACTIVITY_STATE), ACT_HLT, "%s: exit from the HLT state", step);
}

static void expect_saved(const char *step, uint64_t rip, uint32_t intr, uint32_t activity)
{
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), rip, "%s: saved RIP", step);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY), intr, "%s: saved interruptibility", step);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_ACTIVITY_STATE), activity, "%s: saved activity state", step);
}

/* IW-4, NW-6, EXIT-3, EXIT-4, EXIT-5: nothing but the reason is reported. */
static void expect_plain_exit_info(const char *step)
{
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_QUALIFICATION), 0, "%s: exit qualification", step);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) >> 31, 0, "%s: exit interruption info valid", step);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_IDT_VECTORING_INFO) >> 31, 0, "%s: IDT-vectoring info valid", step);
}

TestSuite(post_entry, .init = setup_server, .fini = teardown);

/* ---- interrupt window ---- */

Test(post_entry, iw_immediate_exit_if1_kut_6_1_1)
{
    VTX_COVERS("IW-1", "IW-2", "IW-4");
    /* IW-1, IW-2, IW-4, kut 6.1.1: IF = 1, no blocking: exit before the first instruction. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    launch_expect_exit("IW, IF=1", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    expect_saved("IW, IF=1", VT_GUEST_RIP, 0, 0);
    expect_plain_exit_info("IW, IF=1");
    cr_assert(rec.first.after_entry && rec.first.winner == VTX_EV_INTR_WINDOW);
    cr_assert_str_eq(rec.first.events[VTX_EV_INTR_WINDOW].rule, "IW-1");
}

Test(post_entry, iw_shut_by_if0)
{
    VTX_COVERS("IW-1");
    /* IW-1: IF = 0 keeps the window shut; the report says why. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    launch_expect_no_exit("IW, IF=0");
    cr_assert_eq(rec.first.events[VTX_EV_INTR_WINDOW].state, VTX_EVS_BLOCKED);
    cr_assert_str_eq(rec.first.events[VTX_EV_INTR_WINDOW].rule, "IW-1");
    cr_assert_str_eq(rec.first.events[VTX_EV_INTR_WINDOW].why, "RFLAGS.IF = 0");
}

Test(post_entry, iw_shut_by_sti_blocking_for_one_instruction)
{
    VTX_COVERS("BLK-LOAD-2", "BLK-STI-2", "BLK-STI-3");
    /* BLK-LOAD-2, BLK-STI-2, BLK-STI-3: STI blocking loaded at entry holds the
     * window shut for the first boundary; the exit comes after one instruction. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_STI);
    launch_expect_exit_after_one("IW, IF=1, blocking by STI", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    cr_assert_eq(rec.first.interruptibility, IS_STI);
    cr_assert_str_eq(rec.first.events[VTX_EV_INTR_WINDOW].rule, "BLK-STI-3");
}

Test(post_entry, iw_shut_by_movss_blocking_for_one_instruction)
{
    VTX_COVERS("BLK-MSS-1", "BLK-MSS-5");
    /* BLK-MSS-1, BLK-MSS-5. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_MOVSS);
    launch_expect_exit_after_one("IW, IF=1, blocking by MOV SS", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    cr_assert_str_eq(rec.first.events[VTX_EV_INTR_WINDOW].rule, "BLK-MSS-1");
}

Test(post_entry, iw_ignores_nmi_blocking)
{
    VTX_COVERS("IW-1", "PRI-3");
    /* IW-1 / PRI-3: NMI blocking does not gate the interrupt window. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_NMI);
    launch_expect_exit("IW with blocking by NMI", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    expect_saved("IW with blocking by NMI", VT_GUEST_RIP, IS_NMI, 0);
}

Test(post_entry, iw_from_hlt_kut_6_1_6)
{
    VTX_COVERS("IW-5", "HLT-3");
    /* IW-5, HLT-3, kut 6.1.6: entry into HLT with IF = 1 exits at once; the
     * saved activity state is HLT and RIP is unchanged. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_HLT);
    launch_expect_exit("IW from HLT", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    expect_saved("IW from HLT", VT_GUEST_RIP, 0, ACT_HLT);
}

Test(post_entry, iw_repeats_on_resume)
{
    VTX_COVERS("IW-6");
    /* IW-6: the control is not cleared by the exit; VMRESUME exits again at once. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    launch_expect_exit("first entry", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    vtx_insn_result r;
    vtx_status st = vtx_vmresume(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_INTERRUPT_WINDOW,
              "VMRESUME with the window still open: expected exit 7 again");
}

/* ---- NMI window ---- */

static void nmi_window_controls(void)
{
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
}

Test(post_entry, nw_immediate_exit_kut_6_2_1)
{
    VTX_COVERS("NW-2", "NW-3", "NW-6");
    /* NW-2, NW-3, NW-6, kut 6.2.1: no virtual-NMI blocking: exit 8 before the first instruction, IF = 0 or not. */
    nmi_window_controls();
    launch_expect_exit("NW, no blocking", VTX_EXIT_REASON_NMI_WINDOW);
    expect_saved("NW, no blocking", VT_GUEST_RIP, 0, 0);
    expect_plain_exit_info("NW, no blocking");
}

Test(post_entry, nw_shut_by_virtual_nmi_blocking_kut_6_2_4)
{
    VTX_COVERS("NW-2", "NW-7");
    /* NW-2, NW-7: virtual-NMI blocking keeps the NMI window shut (until an IRET). */
    nmi_window_controls();
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_NMI);
    launch_expect_no_exit("NW, virtual-NMI blocking");
    cr_assert_str_eq(rec.first.events[VTX_EV_NMI_WINDOW].rule, "NW-2");
}

Test(post_entry, nw_shut_by_movss_for_one_instruction)
{
    VTX_COVERS("NW-8", "BLK-MSS-1");
    /* NW-8: blocking by MOV SS holds the NMI window for one instruction. */
    nmi_window_controls();
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_MOVSS);
    launch_expect_exit_after_one("NW, blocking by MOV SS", VTX_EXIT_REASON_NMI_WINDOW);
    cr_assert_str_eq(rec.first.events[VTX_EV_NMI_WINDOW].rule, "BLK-MSS-1");
}

Test(post_entry, nw_sti_blocking_follows_knob)
{
    /* CFG-STI-NW on (default): blocking by STI suppresses the NMI-window exit. */
    nmi_window_controls();
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_STI);
    launch_expect_exit_after_one("NW, blocking by STI, CFG-STI-NW on", VTX_EXIT_REASON_NMI_WINDOW);
    cr_assert_str_eq(rec.first.events[VTX_EV_NMI_WINDOW].rule, "CFG-STI-NW");
}

Test(post_entry, nw_sti_blocking_knob_off_exits)
{
    /* CFG-STI-NW off: the same state exits with reason 8, saving the STI blocking. */
    vt_teardown(&e);
    vtx_profile p = vt_profile_copy("server");
    p.knobs &= ~(uint32_t)VTX_KNOB_STI_NW;
    vt_setup_profile(&e, &p);
    vt_baseline(&e);
    nmi_window_controls();
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_STI);
    launch_expect_exit("NW, blocking by STI, CFG-STI-NW off", VTX_EXIT_REASON_NMI_WINDOW);
    expect_saved("NW, blocking by STI, CFG-STI-NW off", VT_GUEST_RIP, IS_STI, 0);
}

Test(post_entry, nw_beats_iw)
{
    VTX_COVERS("NW-4", "PRI-2");
    /* NW-4, PRI-2: NMI-window exits beat interrupt-window exits. */
    nmi_window_controls();
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    launch_expect_exit("NW and IW both open", VTX_EXIT_REASON_NMI_WINDOW);
    cr_assert_eq(rec.first.events[VTX_EV_INTR_WINDOW].state, VTX_EVS_BEATEN);
}

Test(post_entry, nw_from_hlt_kut_6_2_5)
{
    VTX_COVERS("NW-5");
    /* NW-5, kut 6.2.5: NW exits wake HLT; saved activity HLT. */
    nmi_window_controls();
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_HLT);
    launch_expect_exit("NW from HLT", VTX_EXIT_REASON_NMI_WINDOW);
    expect_saved("NW from HLT", VT_GUEST_RIP, 0, ACT_HLT);
}

/* ---- NMIs, external interrupts, INIT ---- */

Test(post_entry, nmi_exit_from_hlt)
{
    VTX_COVERS("VNMI-1", "HLT-2", "HLT-3");
    /* VNMI-1, HLT-2, HLT-3: an NMI with NMI exiting leaves HLT through exit 0,
     * interruption information 0x80000202, saved activity HLT. */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_HLT);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_GUEST_STOPPED, "HLT with nothing armed: the run stops");
    cr_assert(vtx_machine_in_guest(e.m));
    vtx_machine_raise_nmi(e.m);
    st = vtx_continue(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXCEPTION_NMI,
              "NMI in HLT with NMI exiting: expected exit 0");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO), 0x80000202);
    expect_saved("NMI exit from HLT", VT_GUEST_RIP, 0, ACT_HLT);
}

Test(post_entry, nmi_blocked_by_nmi_blocking_without_vnmi)
{
    VTX_COVERS("VNMI-5", "BLK-NMI-1");
    /* VNMI-5: NMI exiting = 1, virtual NMIs = 0: bit 3 holds NMIs off. */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_NMI);
    vtx_machine_raise_nmi(e.m);
    launch_expect_no_exit("NMI with blocking by NMI");
    cr_assert_str_eq(rec.first.events[VTX_EV_NMI].rule, "BLK-NMI-1");
}

Test(post_entry, nmi_not_blocked_by_virtual_nmi_blocking)
{
    VTX_COVERS("VNMI-2", "VNMI-3");
    /* VNMI-2: with virtual NMIs, bit 3 is virtual-NMI blocking and does not hold off a real NMI. */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_NMI);
    vtx_machine_raise_nmi(e.m);
    launch_expect_exit("NMI with virtual-NMI blocking", VTX_EXIT_REASON_EXCEPTION_NMI);
    /* VNMI-3: a real NMI exit does not change virtual-NMI blocking. */
    expect_saved("NMI with virtual-NMI blocking", VT_GUEST_RIP, IS_NMI, 0);
}

Test(post_entry, extint_exit_ack_on_exit)
{
    VTX_COVERS("EXIT-4", "IW-9");
    /* EXIT-4, IW-9: external-interrupt exiting takes the interrupt even with IF = 0;
     * with "acknowledge interrupt on exit" the vector is reported and acknowledged. */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    set_bits(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    vtx_machine_set_intr(e.m, true, 0x31);
    launch_expect_exit("external interrupt, ack on exit", VTX_EXIT_REASON_EXTERNAL_INTERRUPT);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO), 0x80000031);
    /* The interrupt was acknowledged: the next entry does not exit for it. */
    vtx_insn_result r;
    vtx_status st = vtx_vmresume(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_GUEST_STOPPED, "the acknowledged interrupt is gone: the guest halts");
}

Test(post_entry, extint_exit_without_ack)
{
    VTX_COVERS("EXIT-4");
    /* EXIT-4: without acknowledge-on-exit the interruption information is invalid
     * and the interrupt stays pending (it exits again). */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    vtx_machine_set_intr(e.m, true, 0x31);
    launch_expect_exit("external interrupt, no ack", VTX_EXIT_REASON_EXTERNAL_INTERRUPT);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) >> 31, 0);
    vtx_insn_result r;
    vtx_status st = vtx_vmresume(e.m, &r);
    cr_assert(st == VTX_OK && r.exit_reason == VTX_EXIT_REASON_EXTERNAL_INTERRUPT, "still pending: exits again");
}

Test(post_entry, extint_held_by_sti_blocking_knob)
{
    /* CFG-EXTINT-SHADOW on: blocking by STI holds the external-interrupt exit off. */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, IS_STI);
    vtx_machine_set_intr(e.m, true, 0x31);
    launch_expect_exit_after_one("external interrupt in an STI shadow", VTX_EXIT_REASON_EXTERNAL_INTERRUPT);
    cr_assert_str_eq(rec.first.events[VTX_EV_EXT_INTR].rule, "CFG-EXTINT-SHADOW");
}

Test(post_entry, iw_beats_external_interrupt)
{
    VTX_COVERS("IW-3", "IW-9");
    /* IW-3, IW-9: with the window open, the interrupt-window exit wins over a pending external interrupt. */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vtx_machine_set_intr(e.m, true, 0x40);
    launch_expect_exit("IW and external interrupt", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    cr_assert_eq(rec.first.events[VTX_EV_EXT_INTR].state, VTX_EVS_BEATEN);
}

Test(post_entry, init_exits)
{
    VTX_COVERS("PRI-2");
    /* PRI-2: INIT in non-root operation is exit 3, above everything the window controls ask for. */
    nmi_window_controls();
    vtx_machine_raise_init(e.m);
    launch_expect_exit("INIT", VTX_EXIT_REASON_INIT_SIGNAL);
}

/* ---- MTF and pending debug exceptions ---- */

Test(post_entry, pending_mtf_injection)
{
    VTX_COVERS("INJ-17", "MTF-2", "INJ-4");
    /* INJ-17, MTF-2, kut 6.11.5: injecting type 7 vector 0 makes an MTF exit pending
     * before the first instruction, with the MTF control 0; the exit clears the valid bit (INJ-4). */
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, 0x80000700);
    launch_expect_exit("pending MTF", VTX_EXIT_REASON_MONITOR_TRAP_FLAG);
    expect_saved("pending MTF", VT_GUEST_RIP, 0, 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_ENTRY_INTR_INFO) >> 31, 0, "INJ-4: the exit clears the valid bit");
}

Test(post_entry, mtf_beats_nmi_window)
{
    VTX_COVERS("MTF-6", "PRI-2");
    /* MTF-6, PRI-2: a pending MTF exit beats the NMI window. */
    nmi_window_controls();
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, 0x80000700);
    launch_expect_exit("MTF and NW", VTX_EXIT_REASON_MONITOR_TRAP_FLAG);
}

Test(post_entry, pending_db_intercepted)
{
    VTX_COVERS("PRI-5", "EXIT-3");
    /* PRI-5, EXIT-3: a pending single-step #DB with #DB in the exception bitmap
     * exits with reason 0, vector 1, and BS in the qualification; the field is cleared. */
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    vt_vmwrite(&e, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0x4000);
    launch_expect_exit("pending #DB", VTX_EXIT_REASON_EXCEPTION_NMI);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO), 0x80000301);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_QUALIFICATION), 0x4000);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0);
}

Test(post_entry, pending_db_beats_timer)
{
    VTX_COVERS("PRI-5");
    /* PRI-5, kut 6.10 vmx_preemption_timer_zero_test: with #DB intercepted the exit is reason 0, not 52. */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 1);
    vt_vmwrite(&e, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0x4000);
    launch_expect_exit("pending #DB and timer 0", VTX_EXIT_REASON_EXCEPTION_NMI);
}

/* ---- VMX-preemption timer ---- */

Test(post_entry, timer_zero_exits_at_once_kut_6_10)
{
    VTX_COVERS("PT-3", "PT-5");
    /* PT-3, kut 6.10 (4): value 0 exits before the first instruction; saved value 0 (PT-5). */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    set_bits(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    launch_expect_exit("timer 0", VTX_EXIT_REASON_PREEMPTION_TIMER);
    expect_plain_exit_info("timer 0");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE), 0);
}

Test(post_entry, timer_beats_nmi_window)
{
    VTX_COVERS("PT-6", "NW-4");
    /* PT-6, NW-4: the timer beats the NMI window. */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0);
    nmi_window_controls();
    launch_expect_exit("timer 0 and NW", VTX_EXIT_REASON_PREEMPTION_TIMER);
    cr_assert_eq(rec.first.events[VTX_EV_NMI_WINDOW].state, VTX_EVS_BEATEN);
}

Test(post_entry, timer_wakes_hlt_at_its_deadline_kut_6_10)
{
    VTX_COVERS("PT-2", "PT-4", "HLT-3");
    /* PT-2, PT-4, HLT-3, kut 6.10 (2, 3): in HLT the timer counts on the cycle clock
     * and exits when it reaches 0, no earlier than value << rate TSC ticks (rate 5 here);
     * the saved activity state is HLT. */
    const uint32_t value = 1000;
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    set_bits(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, value);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_HLT);
    uint64_t before = vtx_machine_cycles(e.m);
    launch_expect_exit("timer in HLT", VTX_EXIT_REASON_PREEMPTION_TIMER);
    uint64_t elapsed = vtx_machine_cycles(e.m) - before;
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &e.profile);
    uint64_t overhead = cfg.costs.vm_entry + cfg.costs.vm_exit;
    /* The count starts at the end of VM entry; a tick is a change of TSC bit 5. */
    cr_assert_geq(elapsed, overhead + ((uint64_t)value << 5) - 31,
                  "timer %u at rate 5: expired after %llu cycles, earlier than %u ticks allow", value,
                  (unsigned long long)elapsed, value);
    cr_assert_leq(elapsed, overhead + ((uint64_t)value << 5),
                  "timer %u at rate 5: expired after %llu cycles, later than its deadline", value,
                  (unsigned long long)elapsed);
    expect_saved("timer in HLT", VT_GUEST_RIP, 0, ACT_HLT);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE), 0);
}

Test(post_entry, cycle_budget_stops_a_halted_guest)
{
    /* A run budget stops a guest whose timer lies beyond it, without a VM exit. */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0xFFFFFFFF);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_HLT);
    vt_teardown(&e);
    /* rebuild with a cycle budget */
    vtx_profile server = vt_profile_copy("server");
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &server);
    cfg.limits.cycles = 100000;
    vt_setup_config(&e, &cfg);
    vt_baseline(&e);
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 0xFFFFFFFF);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_HLT);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_GUEST_STOPPED, "the budget stops the run");
    cr_assert(strstr(r.why, "cycle budget"), "the stop names the budget: %s", r.why);
}

/* ---- launch state: errors 4 and 6, and what an exit leaves behind ---- */

Test(post_entry, vmlaunch_of_launched_vmcs_is_error_4)
{
    VTX_COVERS("ENT-BASIC-3");
    /* ENT-BASIC-3, error 4: after a successful VMLAUNCH the VMCS is launched. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    launch_expect_exit("first VMLAUNCH", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    vtx_vmcs_status vs;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, VT_VMCS_PA, &vs), VTX_OK);
    cr_assert_eq(vs.launch, VTX_LAUNCH_LAUNCHED, "launch state after a VM entry");
    vtx_insn_result r;
    vt_expect("VMLAUNCH of a launched VMCS", vtx_vmlaunch(e.m, &r), &r, VTX_VMFAIL_VALID, 4);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_VM_INSTRUCTION_ERROR), 4);
    /* VMCLEAR makes it clear again (and keeps the contents). */
    vt_expect("VMCLEAR", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMPTRLD", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    launch_expect_exit("VMLAUNCH after VMCLEAR", VTX_EXIT_REASON_INTERRUPT_WINDOW);
}

Test(post_entry, vmresume_after_vmxoff_is_error_6)
{
    /* Error 6: VMXOFF and VMXON between VMLAUNCH and VMRESUME, without VMCLEAR. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    launch_expect_exit("VMLAUNCH", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    vtx_insn_result r;
    vt_expect("VMXOFF", vtx_vmxoff(e.m, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMXON", vtx_vmxon(e.m, VT_VMXON_PA, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMPTRLD", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMRESUME after VMXOFF", vtx_vmresume(e.m, &r), &r, VTX_VMFAIL_VALID, 6);
    cr_assert_eq(r.check, VTX_CHECK_VMRESUME_AFTER_VMXOFF);
}

Test(post_entry, vmresume_after_vmclear_vmxoff_is_error_5)
{
    /* Flip of the above: with VMCLEAR before VMXOFF the VMCS is clear: error 5, not 6. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    launch_expect_exit("VMLAUNCH", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    vtx_insn_result r;
    vt_expect("VMCLEAR", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMXOFF", vtx_vmxoff(e.m, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMXON", vtx_vmxon(e.m, VT_VMXON_PA, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMPTRLD", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMRESUME", vtx_vmresume(e.m, &r), &r, VTX_VMFAIL_VALID, 5);
}

Test(post_entry, exit_loads_host_state)
{
    /* SDM "Loading Host State": CR4 from the host field, RFLAGS = 2, 64-bit host. */
    set_bits(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    vtx_root_state root = vt_root(&e);
    root.rflags = 0x246;
    vt_set_root(&e, &root);
    launch_expect_exit("IW", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    root = vt_root(&e);
    cr_assert_eq(root.rflags, 0x2, "RFLAGS after a VM exit");
    cr_assert_eq(root.cr4, vt_vmread(&e, VTX_VMCS_HOST_CR4));
    cr_assert(root.cs_l && (root.efer & VTX_EFER_LMA), "host address-space size 1: 64-bit host");
}

Test(post_entry, in_guest_refuses_root_instructions)
{
    /* While a stopped guest is still in non-root operation, root-mode instructions are refused. */
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(r.outcome == VTX_GUEST_STOPPED && st == VTX_OK, "the guest halts for good");
    cr_assert_eq(vtx_vmread(e.m, VTX_VMCS_GUEST_RIP, &r), VTX_ERR_STATE);
    cr_assert_eq(vtx_vmxoff(e.m, &r), VTX_ERR_STATE);
}

Test(post_entry, deterministic_cycles)
{
    /* The same inputs give the same cycle count. */
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 77);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_HLT);
    launch_expect_exit("run 1", VTX_EXIT_REASON_PREEMPTION_TIMER);
    uint64_t c1 = vtx_machine_cycles(e.m);
    vt_teardown(&e);
    setup_server();
    set_bits(VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, 77);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_HLT);
    launch_expect_exit("run 2", VTX_EXIT_REASON_PREEMPTION_TIMER);
    cr_assert_eq(vtx_machine_cycles(e.m), c1, "two identical runs end at the same cycle");
}
