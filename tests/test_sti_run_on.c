/*
 * An STI that runs on (model/shadows.c, sti_runs_on): with nothing armed at the
 * boundary before it, no observer, MTF, TF or RF, the STI and the plain
 * computation after it run in one engine run. The shadow it makes (BLK-STI-1)
 * must still hold exactly the boundary after it and end after the next
 * instruction (BLK-STI-2, BLK-STI-3), whatever ends that run: a platform input
 * due in the shadow or right after it (the run's budget), a model instruction
 * right after the STI (HLT, CPUID), or nothing. Each case is also run with an
 * observer installed, which steps the STI on its own (the path before the
 * run-on), and both must give the same exit, state, count and cycles.
 *
 * Guest (IF = 0 at entry; the first run stops before the STI, mid-block):
 *   G+0 nop; G+1 nop; G+2 cli; G+3 sti; G+4 nop (the shadow); G+5..G+7 nop; G+8 hlt
 * Interrupt handler (vector 0x40) at H: hlt. HLT exiting on: every case ends
 * with exit 12, at H after a delivery, else at G+8.
 */
#include "baseline.h"

#define G VT_GUEST_RIP
#define H 0x12000u
#define VEC 0x40u
#define INTR_BLOCK_STI 1u /* interruptibility state bit 0: blocking by STI */

static vt_env e;
static unsigned observed;

static void observer(void *user, const vtx_boundary_report *rep)
{
    (void)user, (void)rep;
    observed++;
}

static const uint8_t main_code[] = {0x90, 0x90, 0xfa, 0xfb, 0x90, 0x90, 0x90, 0x90, 0xf4};
static const uint8_t handler[] = {0xf4};

static void setup_code(const uint8_t *code, size_t n, uint64_t rflags)
{
    vt_setup(&e, "server");
    vt_baseline(&e);
    vt_code(&e, G, code, n);
    vt_code(&e, H, handler, sizeof handler);
    vt_idt_gate(&e, VEC, H, false);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, rflags);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    observed = 0;
}

static void teardown(void) { vt_teardown(&e); }

typedef struct outcome {
    uint32_t reason;
    uint64_t rip, rflags, intr, insns, cycles, frame_rip;
} outcome;

static outcome launch(bool with_observer, uint64_t insns0, uint64_t cycles0)
{
    if (with_observer)
        cr_assert_eq(vtx_machine_set_observer(e.m, observer, NULL), VTX_OK);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT, "expected a VM exit, got %s", got);
    outcome o = {.reason = r.exit_reason,
                 .rip = vt_vmread(&e, VTX_VMCS_GUEST_RIP),
                 .rflags = vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS),
                 .intr = vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY),
                 .insns = vtx_machine_instructions(e.m) - insns0,
                 .cycles = vtx_machine_cycles(e.m) - cycles0};
    if (o.rip == H) {
        uint64_t rsp = vt_vmread(&e, VTX_VMCS_GUEST_RSP);
        memcpy(&o.frame_rip, e.ram + rsp, 8);
    }
    if (with_observer)
        cr_assert_gt(observed, 0u, "the observer saw the boundaries");
    return o;
}

/* The main code with `input` (kind, vector) scheduled at instruction k of the run. */
static outcome run_case(const uint8_t *code, size_t n, uint64_t rflags, bool with_observer, int k,
                        vtx_input_kind kind)
{
    setup_code(code, n, rflags);
    if (kind == VTX_INPUT_NMI)
        vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    uint64_t insns0 = vtx_machine_instructions(e.m), cycles0 = vtx_machine_cycles(e.m);
    if (k >= 0) {
        vtx_input in = {.kind = kind, .vector = VEC, .when = insns0 + (uint64_t)k};
        cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    }
    outcome o = launch(with_observer, insns0, cycles0);
    teardown();
    return o;
}

static void expect_same(const char *what, int k, outcome a, outcome b)
{
    cr_assert(a.reason == b.reason && a.rip == b.rip && a.rflags == b.rflags && a.intr == b.intr &&
                  a.insns == b.insns && a.cycles == b.cycles && a.frame_rip == b.frame_rip,
              "%s at instruction %d: without an observer exit %u at 0x%llx (RFLAGS 0x%llx, interruptibility %llu, "
              "%llu instructions, %llu cycles, frame RIP 0x%llx); with one exit %u at 0x%llx (0x%llx, %llu, %llu, "
              "%llu, 0x%llx)",
              what, k, a.reason, (unsigned long long)a.rip, (unsigned long long)a.rflags, (unsigned long long)a.intr,
              (unsigned long long)a.insns, (unsigned long long)a.cycles, (unsigned long long)a.frame_rip, b.reason,
              (unsigned long long)b.rip, (unsigned long long)b.rflags, (unsigned long long)b.intr,
              (unsigned long long)b.insns, (unsigned long long)b.cycles, (unsigned long long)b.frame_rip);
}

/* An interrupt raised from instruction k of the code (entered with rflags) is
 * delivered at `at` after n instructions, the HLT handler exiting; and the same
 * with an observer installed. */
static void expect_taken_at(const uint8_t *code, size_t len, uint64_t rflags, int k, uint64_t at, uint64_t n)
{
    outcome a = run_case(code, len, rflags, false, k, VTX_INPUT_INTR_ASSERT);
    cr_assert(a.reason == VTX_EXIT_REASON_HLT && a.rip == H && a.frame_rip == at && a.insns == n,
              "interrupt at instruction %d: exit %u at 0x%llx, delivered at 0x%llx after %llu instructions "
              "(expected 0x%llx after %llu)",
              k, a.reason, (unsigned long long)a.rip, (unsigned long long)a.frame_rip, (unsigned long long)a.insns,
              (unsigned long long)at, (unsigned long long)n);
    expect_same("interrupt", k, a, run_case(code, len, rflags, true, k, VTX_INPUT_INTR_ASSERT));
}

TestSuite(sti_run_on);

Test(sti_run_on, interrupt_taken_after_the_shadow)
{
    VTX_COVERS("BLK-STI-1", "BLK-STI-2", "BLK-STI-3");
    /* BLK-STI-1..3: an interrupt on the line from instruction k is delivered at
     * the first boundary from k on where IF = 1 and the STI's shadow is over:
     * G+5, after the nop in the shadow (k <= 5: the interrupt waited for IF, or
     * for the shadow, k = 4), else at G+k. Never at G+4, never later. From k = 4
     * on nothing is armed at the boundary before the STI, so it runs on. */
    for (int k = 0; k <= 8; k++) {
        uint64_t at = k <= 5 ? 5 : (uint64_t)k;
        for (int obs = 0; obs < 2; obs++) {
            outcome o = run_case(main_code, sizeof main_code, 0x2, obs, k, VTX_INPUT_INTR_ASSERT);
            cr_assert(o.reason == VTX_EXIT_REASON_HLT && o.rip == H,
                      "interrupt at instruction %d (observer %d): expected the handler's HLT exit, got exit %u at "
                      "0x%llx",
                      k, obs, o.reason, (unsigned long long)o.rip);
            cr_assert_eq(o.frame_rip, G + at,
                         "interrupt at instruction %d (observer %d): delivered at 0x%llx, expected G+%llu", k, obs,
                         (unsigned long long)o.frame_rip, (unsigned long long)at);
            cr_assert_eq(o.insns, at, "interrupt at instruction %d (observer %d): %llu instructions retired", k,
                         obs, (unsigned long long)o.insns);
        }
        expect_same("interrupt", k, run_case(main_code, sizeof main_code, 0x2, false, k, VTX_INPUT_INTR_ASSERT),
                    run_case(main_code, sizeof main_code, 0x2, true, k, VTX_INPUT_INTR_ASSERT));
    }
}

Test(sti_run_on, nmi_at_each_boundary_as_with_an_observer)
{
    VTX_COVERS("BLK-STI-2", "BLK-STI-3");
    /* An NMI (NMI exiting; whether the shadow holds it is CFG-STI-NMI's) at each
     * boundary around the STI: the same exit at the same boundary as when the
     * STI steps on its own. */
    for (int k = 0; k <= 8; k++) {
        outcome a = run_case(main_code, sizeof main_code, 0x2, false, k, VTX_INPUT_NMI);
        cr_assert_eq(a.reason, VTX_EXIT_REASON_EXCEPTION_NMI, "NMI at instruction %d: exit %u", k, a.reason);
        cr_assert_geq(a.rip, G + (uint64_t)k, "NMI at instruction %d: exit at 0x%llx, before it arrived", k,
                      (unsigned long long)a.rip);
        expect_same("NMI", k, a, run_case(main_code, sizeof main_code, 0x2, true, k, VTX_INPUT_NMI));
    }
}

Test(sti_run_on, nothing_pending_runs_to_the_end)
{
    VTX_COVERS("BLK-STI-2");
    /* BLK-STI-2: nothing armed: the run that starts at the STI goes on to the HLT;
     * the shadow is long over there (interruptibility 0), every instruction counted. */
    outcome a = run_case(main_code, sizeof main_code, 0x2, false, -1, VTX_INPUT_INTR_ASSERT);
    cr_assert(a.reason == VTX_EXIT_REASON_HLT && a.rip == G + 8 && a.intr == 0 && a.insns == 8,
              "exit %u at 0x%llx, interruptibility %llu, %llu instructions", a.reason, (unsigned long long)a.rip,
              (unsigned long long)a.intr, (unsigned long long)a.insns);
    cr_assert(a.rflags & VTX_RFLAGS_IF);
    expect_same("nothing", -1, a, run_case(main_code, sizeof main_code, 0x2, true, -1, VTX_INPUT_INTR_ASSERT));
}

/* An exit at the model instruction after `sti` (or after `sti; nop`): the saved
 * interruptibility state says whether the shadow is live there. */
static void exit_after_sti(const uint8_t *code, size_t n, uint64_t rflags, uint32_t reason, uint64_t rip,
                           uint64_t intr)
{
    for (int obs = 0; obs < 2; obs++) {
        outcome o = run_case(code, n, rflags, obs, -1, VTX_INPUT_INTR_ASSERT);
        cr_assert(o.reason == reason && o.rip == rip && o.intr == intr,
                  "observer %d: expected exit %u at 0x%llx with interruptibility %llu, got exit %u at 0x%llx with "
                  "%llu",
                  obs, reason, (unsigned long long)rip, (unsigned long long)intr, o.reason,
                  (unsigned long long)o.rip, (unsigned long long)o.intr);
    }
    expect_same("exit", -1, run_case(code, n, rflags, false, -1, VTX_INPUT_INTR_ASSERT),
                run_case(code, n, rflags, true, -1, VTX_INPUT_INTR_ASSERT));
}

Test(sti_run_on, sti_hlt_saves_blocking_by_sti)
{
    VTX_COVERS("BLK-STI-1", "BLK-SAVE-1");
    /* BLK-STI-1: `cli; sti; hlt`: the run from the STI stops before the HLT
     * with only the STI retired; the HLT exit saves blocking by STI (bit 0). */
    static const uint8_t code[] = {0x90, 0xfa, 0xfb, 0xf4};
    exit_after_sti(code, sizeof code, 0x2, VTX_EXIT_REASON_HLT, G + 3, INTR_BLOCK_STI);
}

Test(sti_run_on, sti_cpuid_saves_blocking_by_sti)
{
    VTX_COVERS("BLK-STI-1", "BLK-SAVE-1");
    static const uint8_t code[] = {0x90, 0xfa, 0xfb, 0x0f, 0xa2};
    exit_after_sti(code, sizeof code, 0x2, VTX_EXIT_REASON_CPUID, G + 3, INTR_BLOCK_STI);
}

Test(sti_run_on, sti_nop_hlt_shadow_over)
{
    VTX_COVERS("BLK-STI-2");
    /* BLK-STI-2 flip: one instruction after the STI the shadow is over. */
    static const uint8_t code[] = {0x90, 0xfa, 0xfb, 0x90, 0xf4};
    exit_after_sti(code, sizeof code, 0x2, VTX_EXIT_REASON_HLT, G + 4, 0);
}

Test(sti_run_on, sti_with_if_set_makes_no_shadow)
{
    VTX_COVERS("ENG-STI-1", "BLK-STI-1");
    /* BLK-STI-1: STI with IF already 1 blocks nothing. */
    static const uint8_t code[] = {0x90, 0x90, 0xfb, 0xf4};
    exit_after_sti(code, sizeof code, 0x202, VTX_EXIT_REASON_HLT, G + 3, 0);
}

Test(sti_run_on, timer_expiring_in_the_shadow)
{
    VTX_COVERS("PT-4", "BLK-STI-2");
    /* The preemption timer's deadline ends the run's budget at each boundary
     * around the STI: the same exit, boundary and count with an observer. */
    for (uint32_t v = 0; v <= 12; v++) {
        outcome o[2];
        for (int obs = 0; obs < 2; obs++) {
            setup_code(main_code, sizeof main_code, 0x2);
            vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
            vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, v);
            uint64_t i0 = vtx_machine_instructions(e.m), c0 = vtx_machine_cycles(e.m);
            o[obs] = launch(obs, i0, c0);
            teardown();
        }
        expect_same("timer value", (int)v, o[0], o[1]);
    }
}

Test(sti_run_on, sti_costing_more_than_plain_computation)
{
    VTX_COVERS("BLK-STI-2");
    /* An STI that costs other cycles than plain computation steps on its own
     * (the run's budget counts plain computation): the cycle clock is exact. */
    for (int obs = 0; obs < 2; obs++) {
        vtx_profile p = vt_profile_copy("server");
        vtx_machine_config cfg;
        vtx_machine_config_init(&cfg, &p);
        cfg.costs.by_class[VTX_IC_STI] = 7;
        vt_setup_config(&e, &cfg);
        vt_baseline(&e);
        vt_code(&e, G, main_code, sizeof main_code);
        vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x2);
        vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
        uint64_t i0 = vtx_machine_instructions(e.m), c0 = vtx_machine_cycles(e.m);
        outcome o = launch(obs, i0, c0);
        uint64_t other = cfg.costs.by_class[VTX_IC_OTHER]; /* CLI is charged as OTHER */
        cr_assert(o.reason == VTX_EXIT_REASON_HLT && o.insns == 8, "exit %u after %llu instructions", o.reason,
                  (unsigned long long)o.insns);
        uint64_t entry_exit = o.cycles - 7 - 7 * other;
        cr_assert_eq(entry_exit, cfg.costs.vm_entry + cfg.costs.vm_exit,
                     "observer %d: %llu cycles: 7 plain instructions at %llu and the STI at 7, plus entry and exit",
                     obs, (unsigned long long)o.cycles, (unsigned long long)other);
        teardown();
    }
}

/* ENG-STI-1: with nothing armed a run lets STI run inside it and takes the
 * shadow from the engine, which finds IF before the STI from IF at the start of
 * the STI's translation block and the CLIs before it there. */
Test(sti_run_on, cli_sti_in_one_block_with_if_set)
{
    VTX_COVERS("ENG-STI-1", "BLK-STI-1", "BLK-STI-6");
    /* IF = 1 at entry and at the block's start; the CLI in the same block
     * clears it, so the STI found IF = 0: the HLT exit saves blocking by STI. */
    static const uint8_t code[] = {0x90, 0xfa, 0xfb, 0xf4};
    exit_after_sti(code, sizeof code, 0x202, VTX_EXIT_REASON_HLT, G + 3, INTR_BLOCK_STI);
}

Test(sti_run_on, sti_starting_its_own_block)
{
    VTX_COVERS("ENG-STI-1", "BLK-STI-1", "BLK-STI-6");
    /* `nop; jmp $+2; sti; hlt` with IF = 0: the JMP ends a block, the STI
     * starts the next one (IF = 0 there). */
    static const uint8_t code[] = {0x90, 0xeb, 0x00, 0xfb, 0xf4};
    exit_after_sti(code, sizeof code, 0x2, VTX_EXIT_REASON_HLT, G + 4, INTR_BLOCK_STI);
}

Test(sti_run_on, fault_in_the_shadow_exits_with_blocking_by_sti)
{
    VTX_COVERS("ENG-STI-1", "BLK-STI-8");
    /* `xor ecx, ecx; cli; sti; div ecx` with #DE in the exception bitmap: the
     * run stops at the fault of the instruction after the STI (the boundary
     * before it is evaluated first, PRI-1), and the exception's VM exit saves
     * blocking by STI (the shadow was not consumed). */
    static const uint8_t code[] = {0x31, 0xc9, 0xfa, 0xfb, 0xf7, 0xf1, 0xf4};
    outcome o[2];
    for (int obs = 0; obs < 2; obs++) {
        setup_code(code, sizeof code, 0x202);
        vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 0);
        uint64_t i0 = vtx_machine_instructions(e.m), c0 = vtx_machine_cycles(e.m);
        o[obs] = launch(obs, i0, c0);
        teardown();
        cr_assert(o[obs].reason == VTX_EXIT_REASON_EXCEPTION_NMI && o[obs].rip == G + 4 &&
                      o[obs].intr == INTR_BLOCK_STI && o[obs].insns == 3,
                  "observer %d: exit %u at 0x%llx, interruptibility %llu, %llu instructions", obs, o[obs].reason,
                  (unsigned long long)o[obs].rip, (unsigned long long)o[obs].intr,
                  (unsigned long long)o[obs].insns);
    }
    expect_same("#DE", -1, o[0], o[1]);
}

Test(sti_run_on, sti_sti_only_the_first_shadows)
{
    VTX_COVERS("ENG-STI-1", "BLK-STI-4", "BLK-STI-2");
    /* `nop; sti; sti; nop; nop; hlt` with IF = 0, an interrupt from instruction
     * k: taken at G+3 (after the second STI) for k <= 3, else at G+k. */
    static const uint8_t code[] = {0x90, 0xfb, 0xfb, 0x90, 0x90, 0xf4};
    for (int k = 0; k <= 5; k++) {
        uint64_t at = k <= 3 ? 3 : (uint64_t)k;
        outcome a = run_case(code, sizeof code, 0x2, false, k, VTX_INPUT_INTR_ASSERT);
        cr_assert(a.reason == VTX_EXIT_REASON_HLT && a.rip == H && a.frame_rip == G + at && a.insns == at,
                  "interrupt at instruction %d: exit %u at 0x%llx, delivered at 0x%llx (expected G+%llu), %llu "
                  "instructions",
                  k, a.reason, (unsigned long long)a.rip, (unsigned long long)a.frame_rip, (unsigned long long)at,
                  (unsigned long long)a.insns);
        expect_same("interrupt", k, a, run_case(code, sizeof code, 0x2, true, k, VTX_INPUT_INTR_ASSERT));
    }
}

Test(sti_run_on, loop_back_to_the_instruction_after_the_sti)
{
    VTX_COVERS("ENG-STI-1", "BLK-STI-2");
    /* `cli; sti; l: nop; jmp l` (IF = 0) with an interrupt from instruction k: the run
     * ends where the instruction after the STI starts also after passes of the
     * loop, out of the shadow (the engine's inhibit flag tells them apart).
     * Boundaries by count: 2 at G+2 (in the shadow), then G+3, G+2, G+3, ... */
    static const uint8_t code[] = {0xfa, 0xfb, 0x90, 0xeb, 0xfd};
    for (int k = 0; k <= 8; k++) {
        uint64_t n = k <= 3 ? 3 : (uint64_t)k;
        uint64_t at = n % 2 ? G + 3 : G + 2;
        expect_taken_at(code, sizeof code, 0x2, k, at, n);
    }
}

Test(sti_run_on, sti_in_a_loop_finds_if_clear_on_a_later_pass)
{
    VTX_COVERS("ENG-STI-1", "BLK-STI-1", "BLK-STI-2");
    /* `l: sti; nop; cli; jmp l` entered with IF = 1: the first STI makes no
     * shadow, the later ones (after the CLI) do; all in one run (the block
     * ending in the STI is looked at on every pass, not only its first).
     * Boundaries by count: 1 G+1, 2 G+2, 3 G+3 (IF = 0), 4 G, 5 G+1 (shadow),
     * 6 G+2, ... An interrupt from instruction k is taken at count k for k <= 2,
     * else at the next count 2 + 4n (after the NOP in the shadow). */
    static const uint8_t code[] = {0xfb, 0x90, 0xfa, 0xeb, 0xfb};
    for (int k = 0; k <= 8; k++) {
        uint64_t n = k <= 2 ? (uint64_t)k : 2 + 4 * (((uint64_t)k - 2 + 3) / 4);
        uint64_t at = k <= 2 ? G + (uint64_t)k : G + 2;
        expect_taken_at(code, sizeof code, 0x202, k, at, n);
    }
}
