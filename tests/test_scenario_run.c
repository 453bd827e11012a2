/* Scenario files (docs/scenarios.md): running them. Every guest environment
 * reaches its expected exit; every reaction step changes what the guest does;
 * every expectation kind passes when right and, when wrong, is reported as a
 * mismatch at the right exit and field; two runs give identical exits. */
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "vtxref/scenario.h"

typedef struct seen {
    vtx_scenario_exit exits[16];
    uint32_t nexits;
    char actions[32][128];
    uint32_t nactions;
    char checks[32][200];
    uint32_t nchecks;
    bool started;
    uint32_t boundaries;
} seen;

static void on_start(void *u, const vtx_scenario *s, const vtx_scenario_view *v)
{
    seen *x = u;
    (void)s;
    x->started = v->ram && v->ram_size == 4u << 20;
}
static void on_exit_cb(void *u, const vtx_scenario_exit *e)
{
    seen *x = u;
    if (x->nexits < 16)
        x->exits[x->nexits++] = *e;
}
static void on_action(void *u, uint32_t idx, const char *t)
{
    seen *x = u;
    if (x->nactions < 32)
        snprintf(x->actions[x->nactions++], 128, "%u: %s", idx, t);
}
static void on_check(void *u, const vtx_scenario_check *c)
{
    seen *x = u;
    if (x->nchecks < 32)
        snprintf(x->checks[x->nchecks++], 200, "%s%s", c->ok ? "ok " : "MISMATCH ", c->sentence);
}
static void observer(void *u, const vtx_boundary_report *r)
{
    (void)r;
    ((seen *)u)->boundaries++;
}

/* Load and run; the run must be carried out (VTX_OK). */
static vtx_scenario_result run(const char *text, seen *x)
{
    vtx_scenario *s = NULL;
    vtx_scenario_error e;
    char msg[1024];
    vtx_status st = vtx_scenario_load_text(text, strlen(text), "r.yaml", NULL, &s, &e);
    vtx_scenario_error_format(&e, msg, sizeof msg);
    cr_assert_eq(st, VTX_OK, "load: %s", msg);
    memset(x, 0, sizeof *x);
    vtx_scenario_callbacks cb = {x, on_start, on_exit_cb, on_action, on_check, observer, NULL, NULL};
    vtx_scenario_result r;
    st = vtx_scenario_run(s, &cb, &r, &e);
    vtx_scenario_error_format(&e, msg, sizeof msg);
    cr_assert_eq(st, VTX_OK, "run: %s", msg);
    vtx_scenario_free(s);
    return r;
}

static void expect_pass(const char *what, const vtx_scenario_result *r)
{
    cr_assert_eq(r->outcome, VTX_SCN_PASS, "%s: expected a pass, got outcome %d: %s (end: %s)", what, r->outcome,
                 r->first_mismatch, r->end);
    cr_assert_eq(r->checks_failed, 0);
}

static bool has_action(const seen *x, const char *sub)
{
    for (uint32_t i = 0; i < x->nactions; i++)
        if (strstr(x->actions[i], sub))
            return true;
    return false;
}

/* ---- environments ---- */

/* A guest in each mode: INT 0x21 to a handler that sets BX and returns, then HLT
 * with HLT exiting. The exit's RIP is the label after the INT (EXIT-8: HLT is
 * fault-like, RIP of the HLT). */
static void env_case(const char *mode, const char *iret, unsigned cpl)
{
    char text[1024];
    snprintf(text, sizeof text,
             "guest:\n  mode: %s\n  cpl: %u\n  code: |\n    start:\n      mov ax, 0x1234\n      int 0x21\n    back:\n"
             "      hlt\n  handlers:\n    0x21: |\n      mov bx, 0x55\n      %s\n"
             "controls:\n  proc: [hlt exiting]\n"
             "expect:\n  exits:\n    - {reason: HLT, rip: back, length: 1}\n  end:\n    registers: {rax: 0x1234, rbx: 0x55}\n",
             mode, cpl, iret);
    seen x;
    vtx_scenario_result r = run(text, &x);
    expect_pass(mode, &r);
    cr_assert_eq(r.exits, 1, "%s: one exit", mode);
    cr_assert(x.started);
    cr_assert_gt(x.boundaries, 0, "the observer sees boundaries");
    cr_assert_str_eq(x.exits[0].rip_label, "back");
}

Test(scenario_run, env_real) { env_case("real", "iret", 0); }
Test(scenario_run, env_pm16) { env_case("pm16", "iret", 0); }
Test(scenario_run, env_pm32) { env_case("pm32", "iretd", 0); }
Test(scenario_run, env_pm32_paging) { env_case("pm32-paging", "iretd", 0); }
Test(scenario_run, env_long64) { env_case("long64", "iretq", 0); }
/* CPL 3: the INT goes through a DPL-3 gate to a ring-0 handler (stack from the TSS)
 * and back; HLT at CPL 3 is then #GP(0), which the exception bitmap turns into an exit. */
static void cpl3_case(const char *mode, const char *iret)
{
    char text[1024];
    snprintf(text, sizeof text,
             "guest:\n  mode: %s\n  cpl: 3\n  code: |\n    start:\n      int 0x21\n    back:\n      hlt\n"
             "  handlers:\n    0x21: |\n      mov ebx, 0x55\n      %s\n"
             "fields: {EXCEPTION_BITMAP: 0x2000}\n"
             "expect:\n  exits:\n    - {reason: EXCEPTION_NMI, intr_info: 0x80000b0d, intr_error: 0, rip: back}\n"
             "  end:\n    registers: {rbx: 0x55}\n",
             mode, iret);
    seen x;
    vtx_scenario_result r = run(text, &x);
    expect_pass(mode, &r);
}
Test(scenario_run, env_cpl3_long64) { cpl3_case("long64", "iretq"); }
Test(scenario_run, env_cpl3_pm32) { cpl3_case("pm32-paging", "iretd"); }
Test(scenario_run, env_cpl3_pm16) { cpl3_case("pm16", "iret"); }

Test(scenario_run, default_handlers_and_not_present)
{
    /* #UD (ud2) to the default hlt stub: the guest idles in HLT there (no HLT exiting). */
    seen x;
    vtx_scenario_result r = run("guest:\n  mode: long64\n  code: ud2\n", &x);
    cr_assert_eq(r.exits, 0);
    cr_assert(strstr(r.end, "HLT"), "%s", r.end);
    cr_assert(strstr(r.end, "0xb061"), "stopped in default_0x06 after its hlt: %s", r.end);
    /* A not-present gate for #UD: #NP delivered instead (error code: vector 6, IDT, EXT: 0x30 | 2 | 1). */
    r = run("guest:\n  mode: long64\n  code: ud2\n  not_present: [6]\nfields: {EXCEPTION_BITMAP: 0x800}\n"
            "expect:\n  exits:\n    - {reason: EXCEPTION_NMI, intr_info: 0x80000b0b, intr_error: 0x33}\n",
            &x);
    expect_pass("not present", &r);
    /* iret default: int 0x40 returns at once */
    r = run("guest:\n  mode: pm32\n  default_handler: iret\n  code: |\n    int 0x40\n    after: hlt\n"
            "controls: {proc: [hlt exiting]}\nexpect:\n  exits:\n    - {reason: HLT, rip: after}\n",
            &x);
    expect_pass("iret default", &r);
}

/* ---- the classic interrupt-window scenario: set, clear, inject (IW-1, IW-5) ---- */

static const char *const iw_classic =
    "name: iw-classic\nprofile: server\n"
    "guest:\n  mode: long64\n  code: |\n    start:\n        cli\n        mov ecx, 20\n    busy:\n        dec ecx\n"
    "        jnz busy\n        sti\n        nop\n    after_shadow:\n        mov eax, 1\n        hlt\n"
    "  handlers:\n    0x30: |\n        mov ebx, 0xcafe\n        iretq\n"
    "controls:\n  pin: [external-interrupt exiting]\n  proc: [hlt exiting]\n  exit: [acknowledge interrupt on exit]\n"
    "events:\n  - {instruction: 5, interrupt: 0x30}\n"
    "reactions:\n  - on: {exit: EXTERNAL_INTERRUPT}\n    do:\n      - set: {proc: [interrupt-window exiting]}\n"
    "    then: resume\n  - on: {exit: INTERRUPT_WINDOW}\n    do:\n      - clear: {proc: [interrupt-window exiting]}\n"
    "      - inject: {type: external, vector: 0x30}\n  - on: {exit: HLT}\n    then: stop\n"
    "expect:\n  exits:\n    - {reason: EXTERNAL_INTERRUPT, intr_info: 0x80000030}\n"
    "    - {reason: INTERRUPT_WINDOW, rip: after_shadow, interruptibility: 0}\n    - {reason: HLT}\n"
    "  end:\n    registers: {rbx: 0xcafe}\n";

Test(scenario_run, iw_classic_set_clear_inject)
{
    seen x;
    vtx_scenario_result r = run(iw_classic, &x);
    expect_pass("iw-classic", &r);
    cr_assert_eq(r.exits, 3);
    cr_assert_eq(x.exits[1].reason, VTX_EXIT_REASON_INTERRUPT_WINDOW);
    cr_assert_str_eq(x.exits[1].rip_label, "after_shadow", "IW-5: the window opens after the STI shadow");
    cr_assert(has_action(&x, "1: set proc: Interrupt-window exiting"));
    cr_assert(has_action(&x, "2: clear proc: Interrupt-window exiting"));
    cr_assert(has_action(&x, "2: inject external 0x30"));
    cr_assert(has_action(&x, "3: stop"));
    cr_assert(strstr(r.end, "stopped by the reaction to exit 3 (HLT)"), "%s", r.end);
    cr_assert_eq(r.checks_passed, 7);
}

Test(scenario_run, deterministic)
{
    seen a, b;
    vtx_scenario_result ra = run(iw_classic, &a), rb = run(iw_classic, &b);
    cr_assert_eq(a.nexits, b.nexits);
    cr_assert_eq(memcmp(a.exits, b.exits, sizeof a.exits), 0, "the same exits, field for field, clock included");
    cr_assert_eq(memcmp(&ra, &rb, sizeof ra), 0);
    cr_assert_eq(memcmp(a.actions, b.actions, sizeof a.actions), 0);
}

/* ---- a wrong expectation: a mismatch at the right exit and field ---- */

Test(scenario_run, mismatch_names_exit_and_field)
{
    char text[4096];
    snprintf(text, sizeof text, "%s", iw_classic);
    char *p = strstr(text, "rip: after_shadow,");
    memcpy(p, "rip: busy        ,", 18);
    seen x;
    vtx_scenario_result r = run(text, &x);
    cr_assert_eq(r.outcome, VTX_SCN_MISMATCH);
    cr_assert_eq(r.checks_failed, 1);
    cr_assert_str_eq(r.first_mismatch, "exit 2 (INTERRUPT_WINDOW): rip expected 0x10006 (busy), got 0x1000c (after_shadow)");
    cr_assert_eq(r.mismatch_line, 41, "the line of the expectation");
    cr_assert_eq(r.exits, 2, "the run stops at the first mismatch");
}

Test(scenario_run, missing_and_extra_exits)
{
    const char *base = "guest:\n  mode: long64\n  code: |\n    hlt\n    hlt\ncontrols: {proc: [hlt exiting]}\n"
                       "reactions:\n  - on: {exit: HLT}\n    do: [skip]\n";
    char text[1024];
    seen x;
    /* two HLT exits, then the guest runs off into zeros... stop it with a third reaction-less exit: none here, so
     * expect one exit only: the second is extra */
    snprintf(text, sizeof text, "%sexpect:\n  exits:\n    - {reason: HLT}\n", base);
    vtx_scenario_result r = run(text, &x);
    cr_assert_eq(r.outcome, VTX_SCN_MISMATCH);
    cr_assert(strstr(r.first_mismatch, "exit 2 (HLT): exits expected 1 exit, got one more"), "%s", r.first_mismatch);
    /* a missing exit */
    r = run("guest:\n  mode: long64\n  code: hlt\ncontrols: {proc: [hlt exiting]}\n"
            "expect:\n  exits:\n    - {reason: HLT}\n    - {reason: HLT}\n",
            &x);
    cr_assert_eq(r.outcome, VTX_SCN_MISMATCH);
    cr_assert(strstr(r.first_mismatch, "exits expected 2 exits, got 1"), "%s", r.first_mismatch);
    cr_assert_eq(r.mismatch_line, 8, "the missing exit's line");
}

/* ---- the other reaction steps ---- */

Test(scenario_run, step_skip_write_registers_memory)
{
    /* HLT exit 1: skip it (RIP + 1), write RBX through registers, put a byte in memory;
     * the guest then reads the byte and halts again: exit 2 at the second hlt. */
    const char *text = "guest:\n  mode: long64\n  code: |\n    first: hlt\n    mov cl, [0x50000]\n    second: hlt\n"
                       "controls: {proc: [hlt exiting]}\n"
                       "reactions:\n  - on: {exit: HLT, occurrence: 1}\n    do:\n      - skip: true\n"
                       "      - registers: {rbx: 0x77}\n      - memory: [{at: 0x50000, u8: 0x42}]\n"
                       "      - write: {EXCEPTION_BITMAP: 0x40}\n"
                       "expect:\n  exits:\n    - {reason: HLT, rip: first, length: 1}\n"
                       "    - {reason: HLT, rip: second, registers: {rbx: 0x77, rcx: 0x42}, fields: {EXCEPTION_BITMAP: 0x40}}\n";
    seen x;
    vtx_scenario_result r = run(text, &x);
    expect_pass("skip", &r);
    cr_assert(has_action(&x, "1: skip 1 byte: rip -> 0x10001"));
    cr_assert(has_action(&x, "1: registers rbx = 0x77"));
    cr_assert(has_action(&x, "1: memory 0x50000: 1 byte"));
    cr_assert(has_action(&x, "1: write EXCEPTION_BITMAP = 0x40"));
    cr_assert(strstr(r.end, "exit 2 (HLT) has no reaction"), "%s", r.end);
}

Test(scenario_run, step_raise_nmi_and_rip_register)
{
    /* NMI exiting: a raised NMI exits (reason 0, NMI type 2, vector 2) at the next boundary. */
    const char *text = "guest:\n  mode: long64\n  code: |\n    top: hlt\n    spin: jmp spin\n    away: hlt\n"
                       "controls: {pin: [nmi exiting], proc: [hlt exiting]}\n"
                       "reactions:\n  - on: {exit: HLT, rip: top}\n    do:\n      - registers: {rip: spin}\n"
                       "      - raise: nmi\n  - on: {exit: EXCEPTION_NMI}\n    do:\n      - registers: {rip: away}\n"
                       "expect:\n  exits:\n    - {reason: HLT}\n    - {reason: EXCEPTION_NMI, intr_info: 0x80000202, rip: spin}\n"
                       "    - {reason: HLT, rip: away}\n";
    seen x;
    vtx_scenario_result r = run(text, &x);
    expect_pass("raise nmi", &r);
    cr_assert(has_action(&x, "1: raise nmi"));
    cr_assert(has_action(&x, "1: registers rip = 0x10001"));
}

Test(scenario_run, same_state_again_stops_IW_6)
{
    /* IW-6: with interrupt-window exiting left on and IF = 1 the window exit repeats at once, forever. */
    const char *text = "guest:\n  mode: long64\n  rflags: 0x202\n  code: 'spin: jmp spin'\n"
                       "controls: {proc: [interrupt-window exiting]}\n"
                       "reactions:\n  - on: {exit: INTERRUPT_WINDOW}\n";
    seen x;
    vtx_scenario_result r = run(text, &x);
    cr_assert_eq(r.exits, 100);
    cr_assert(strstr(r.end, "re-entered the same state 100 times"), "%s", r.end);
}

Test(scenario_run, unmatched_exit_stops_and_occurrence)
{
    const char *text = "guest:\n  mode: long64\n  code: |\n    hlt\n    hlt\n    hlt\ncontrols: {proc: [hlt exiting]}\n"
                       "reactions:\n  - on: {exit: HLT, occurrence: 1}\n    do: [skip]\n"
                       "  - on: {exit: HLT, occurrence: 2}\n    do: [skip]\n    then: stop\n";
    seen x;
    vtx_scenario_result r = run(text, &x);
    expect_pass("occurrence", &r);
    cr_assert_eq(r.exits, 2);
    cr_assert(strstr(r.end, "stopped by the reaction to exit 2"), "%s", r.end);
    r = run("guest:\n  mode: long64\n  code: hlt\ncontrols: {proc: [hlt exiting]}\n", &x);
    cr_assert_eq(r.exits, 1);
    cr_assert(strstr(r.end, "exit 1 (HLT) has no reaction: the run stops"), "%s", r.end);
}

/* ---- expectation kinds ---- */

Test(scenario_run, entry_failure_check_ENT_GS_4)
{
    /* ENT-GS-4: activity HLT with blocking by STI fails VM entry (reason 33 | bit 31). */
    const char *text = "guest:\n  mode: long64\n  code: hlt\n  activity: hlt\n  interruptibility: [sti]\n"
                       "expect:\n  exits:\n    - {reason: ENTRY_FAILURE, check: GUEST_ACT_NOT_ACTIVE_SHADOW, qualification: 0}\n";
    seen x;
    vtx_scenario_result r = run(text, &x);
    expect_pass("entry failure", &r);
    cr_assert_eq(x.exits[0].reason, 0x80000021u);
    cr_assert_eq(x.exits[0].check, VTX_CHECK_GUEST_ACT_NOT_ACTIVE_SHADOW);
    char buf[2048];
    vtx_scenario_exit_format(&x.exits[0], "  ", buf, sizeof buf);
    cr_assert(strstr(buf, "  exit 1: VM-entry failure, INVALID_GUEST_STATE"), "%s", buf);
    cr_assert(strstr(buf, "GUEST_ACT_NOT_ACTIVE_SHADOW (ENT-GS-4)"), "%s", buf);
}

Test(scenario_run, vmfail_expectation)
{
    /* ENT-CTL-1: pin-based controls without their must-be-1 bits: VMfailValid(7). */
    const char *ok = "guest:\n  mode: long64\n  code: hlt\nfields: {PIN_CONTROLS: 0}\n"
                     "expect:\n  vmfail: {error: 7, check: CTL_PIN_ALLOWED}\n";
    seen x;
    vtx_scenario_result r = run(ok, &x);
    expect_pass("vmfail", &r);
    cr_assert_eq(r.exits, 0);
    cr_assert(strstr(r.end, "VMLAUNCH failed"), "%s", r.end);
    r = run("guest:\n  mode: long64\n  code: hlt\nfields: {PIN_CONTROLS: 0}\nexpect:\n  vmfail: {error: 8}\n", &x);
    cr_assert_eq(r.outcome, VTX_SCN_MISMATCH);
    cr_assert(strstr(r.first_mismatch, "error expected 8"), "%s", r.first_mismatch);
    r = run("guest:\n  mode: long64\n  code: hlt\ncontrols: {proc: [hlt exiting]}\nexpect:\n  vmfail: true\n", &x);
    cr_assert_eq(r.outcome, VTX_SCN_MISMATCH, "a VM entry where a VMfail was expected");
    r = run("guest:\n  mode: long64\n  code: hlt\nfields: {PIN_CONTROLS: 0}\nexpect:\n  exits:\n    - {reason: HLT}\n",
            &x);
    cr_assert_eq(r.outcome, VTX_SCN_MISMATCH, "a VMfail where an exit was expected");
}

Test(scenario_run, expectation_kinds_and_end)
{
    const char *text = "guest:\n  mode: long64\n  code: |\n    mov dword [0x50000], 0x11223344\n    sti\n    here: hlt\n"
                       "  registers: {rdx: 9}\n"
                       "controls: {proc: [hlt exiting]}\n"
                       "expect:\n  exits:\n    - {reason: 12, qualification: 0, rip: here, rflags: 0x202, activity: active,\n"
                       "       interruptibility: [sti], pending_debug: 0, intr_info: 0, idt_vectoring: 0, insn_info: 0,\n"
                       "       memory: [{at: 0x50000, u32: 0x11223344}, {at: 0x50001, bytes: [0x33, 0x22]}],\n"
                       "       registers: {rdx: 9, rip: here}}\n"
                       "  end:\n    registers: {rdx: 9}\n    memory: [{at: 0x50003, u8: 0x11}]\n    instructions: 2\n";
    seen x;
    vtx_scenario_result r = run(text, &x);
    expect_pass("kinds", &r);
    cr_assert_eq(r.checks_passed, 17, "every comparison reported: 14 at the exit, 3 at the end");
    /* the same with a wrong memory byte at the end */
    char bad[2048];
    snprintf(bad, sizeof bad, "%s", text);
    memcpy(strstr(bad, "u8: 0x11"), "u8: 0x12", 8);
    r = run(bad, &x);
    cr_assert_eq(r.outcome, VTX_SCN_MISMATCH);
    cr_assert_str_eq(r.first_mismatch, "end of run: memory 0x50003 expected 0x12, got 0x11");
    cr_assert_eq(r.mismatch_line, 17);
}

Test(scenario_run, events_by_cycle_and_guest_stopped)
{
    /* The guest halts (no HLT exiting); an interrupt scheduled by cycle wakes it with an external-interrupt exit. */
    const char *text = "guest:\n  mode: long64\n  code: |\n    sti\n    idle: hlt\n"
                       "controls: {pin: [external-interrupt exiting]}\n"
                       "events:\n  - {cycle: 5000, interrupt: 0x40}\n"
                       "expect:\n  exits:\n    - {reason: EXTERNAL_INTERRUPT, activity: hlt}\n";
    seen x;
    vtx_scenario_result r = run(text, &x);
    expect_pass("cycle event", &r);
    cr_assert_geq(x.exits[0].cycles, 5000);
    /* budget */
    r = run("limits: {instructions: 50}\nguest:\n  mode: long64\n  code: 'spin: jmp spin'\n", &x);
    cr_assert_eq(r.exits, 0);
    cr_assert_eq(r.instructions, 50);
    cr_assert(strstr(r.end, "stopped without a VM exit"), "%s", r.end);
}

Test(scenario_run, exit_format_decodes)
{
    seen x;
    run(iw_classic, &x);
    char buf[2048];
    int n = vtx_scenario_exit_format(&x.exits[0], "", buf, sizeof buf);
    cr_assert_eq((size_t)n, strlen(buf));
    cr_assert(strstr(buf, "exit 1: EXTERNAL_INTERRUPT (reason 1: External interrupt)"), "%s", buf);
    cr_assert(strstr(buf, "vector 0x30, external interrupt"), "%s", buf);
    vtx_scenario_exit_format(&x.exits[1], "", buf, sizeof buf);
    cr_assert(strstr(buf, "0x1000c (after_shadow)"), "%s", buf);
    cr_assert(strstr(buf, "(IF=1)"), "%s", buf);
    vtx_scenario_exit io = {.index = 4, .reason = VTX_EXIT_REASON_IO_INSTRUCTION, .qualification = 0x3F80008 | (1u << 6)};
    vtx_scenario_exit_format(&io, "", buf, sizeof buf);
    cr_assert(strstr(buf, "IN, 1 byte, port 0x03f8"), "%s", buf);
    vtx_scenario_exit cr = {.index = 5, .reason = VTX_EXIT_REASON_CR_ACCESS, .qualification = 0x303};
    vtx_scenario_exit_format(&cr, "", buf, sizeof buf);
    cr_assert(strstr(buf, "MOV to CR3, register rbx"), "%s", buf);
    vtx_scenario_exit pf = {.index = 6, .reason = 0, .qualification = 0xdead000, .intr_info = 0x80000b0e, .intr_error = 2};
    vtx_scenario_exit_format(&pf, "", buf, sizeof buf);
    cr_assert(strstr(buf, "#PF, hardware exception, error code 0x2"), "%s", buf);
    cr_assert(strstr(buf, "0xdead000 (the faulting linear address)"), "%s", buf);
    /* truncation: the length is still the whole text */
    char small[16];
    cr_assert_eq(vtx_scenario_exit_format(&x.exits[0], "", small, sizeof small), n);
}
