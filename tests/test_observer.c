/*
 * The boundary observer: with one installed the model evaluates and reports
 * every instruction boundary (most of them inside the engine's run, without
 * stopping Unicorn). Installing it must change nothing the guest or the VMM can
 * see: the same exit at the same boundary, the same saved state, the same
 * instruction count and cycle clock. Each scenario runs twice, without and with
 * the observer, and the reports are checked to cover every boundary once, in
 * order (catalogue G.1: every boundary is evaluated; PRI-2).
 */
#include "rules_fixture.h"

#define RFLAGS_FIXED 0x2u
#define SCAN_MAX 4096

/* Every report, in order. */
typedef struct scan {
    int n;
    vtx_boundary_report rep[SCAN_MAX];
} scan;
static scan sc;

static void scan_record(void *user, const vtx_boundary_report *rep)
{
    scan *s = user;
    if (s->n < SCAN_MAX)
        s->rep[s->n] = *rep;
    s->n++;
}

/* One scenario: guest code at G, the state and controls to enter with, the
 * exit it must end in. */
typedef struct scenario {
    const char *name;
    const uint8_t *code;
    size_t len;
    uint64_t rflags;
    uint32_t intr;
    uint32_t pin, proc;      /* bits to set */
    uint32_t exc_bitmap;
    uint32_t timer;          /* preemption timer value (with VTX_PIN_PREEMPTION_TIMER) */
    bool intr_at;            /* schedule an interrupt at instruction count (start + at) */
    uint64_t at;
    uint32_t reason;         /* expected exit reason */
    uint64_t rip_off;        /* expected saved RIP - G */
} scenario;

/* What a run ended with. */
typedef struct outcome {
    uint32_t reason;
    uint64_t rip, intr, activity, qual, intr_info;
    uint64_t insns, cycles;
} outcome;

static outcome run(const scenario *sc_, bool observe)
{
    rf_setup();
    vtx_machine_set_observer(e.m, observe ? scan_record : NULL, &sc);
    sc.n = 0;
    rf_code(sc_->code, sc_->len);
    rf_state(G, sc_->rflags | RFLAGS_FIXED, sc_->intr, ACT_ACTIVE);
    rf_set(VTX_VMCS_PROC_CONTROLS, sc_->proc | VTX_PROC_HLT_EXITING);
    if (sc_->pin)
        rf_set(VTX_VMCS_PIN_CONTROLS, sc_->pin);
    if (sc_->pin & VTX_PIN_PREEMPTION_TIMER)
        vt_vmwrite(&e, VTX_VMCS_PREEMPTION_TIMER_VALUE, sc_->timer);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, sc_->exc_bitmap);
    uint64_t i0 = vtx_machine_instructions(e.m), c0 = vtx_machine_cycles(e.m);
    if (sc_->intr_at) {
        vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x40, .at_cycle = false, .when = i0 + sc_->at};
        cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    }
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    char step[160];
    snprintf(step, sizeof step, "%s (observer %s)", sc_->name, observe ? "on" : "off");
    rf_check_exit(step, st, &r, sc_->reason);
    outcome o = {
        .reason = sc_->reason,
        .rip = vt_vmread(&e, VTX_VMCS_GUEST_RIP),
        .intr = vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY),
        .activity = vt_vmread(&e, VTX_VMCS_GUEST_ACTIVITY_STATE),
        .qual = vt_vmread(&e, VTX_VMCS_EXIT_QUALIFICATION),
        .intr_info = vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO),
        .insns = vtx_machine_instructions(e.m) - i0,
        .cycles = vtx_machine_cycles(e.m) - c0,
    };
    cr_assert_eq(o.rip, G + sc_->rip_off, "%s: exit at RIP G+0x%llx, expected G+0x%llx", step,
                 (unsigned long long)(o.rip - G), (unsigned long long)sc_->rip_off);
    rf_teardown();
    return o;
}

/* The reports cover every boundary of the run once, in order: the first is the
 * boundary after VM entry, each next one is one instruction later, and the
 * last one is where the exit happened. */
static void check_reports(const scenario *s, const outcome *o)
{
    cr_assert(sc.n >= 1 && sc.n <= SCAN_MAX, "%s: %d reports", s->name, sc.n);
    cr_assert(sc.rep[0].after_entry, "%s: the first report is the boundary after VM entry", s->name);
    for (int i = 1; i < sc.n; i++) {
        const vtx_boundary_report *a = &sc.rep[i - 1], *b = &sc.rep[i];
        cr_assert(!b->after_entry, "%s: report %d is not after entry", s->name, i);
        cr_assert_eq(a->action, VTX_ACT_EXECUTE, "%s: report %d (RIP 0x%llx) executed an instruction", s->name,
                     i - 1, (unsigned long long)a->rip);
        cr_assert_eq(b->instructions, a->instructions + 1,
                     "%s: report %d is one instruction after report %d (got %llu after %llu)", s->name, i, i - 1,
                     (unsigned long long)b->instructions, (unsigned long long)a->instructions);
        cr_assert_gt(b->cycle, a->cycle, "%s: the cycle clock advances at report %d", s->name, i);
    }
    const vtx_boundary_report *last = &sc.rep[sc.n - 1];
    cr_assert_eq(last->instructions - sc.rep[0].instructions, o->insns,
                 "%s: the reports span the %llu instructions the run retired", s->name, (unsigned long long)o->insns);
    cr_assert_eq(last->rip, o->rip, "%s: the last report is at the exit's RIP", s->name);
    /* Exits of a boundary event are the last boundary's action; an instruction's
     * exit or fault comes after its boundary said "execute". */
    bool event_exit = s->reason == VTX_EXIT_REASON_INTERRUPT_WINDOW || s->reason == VTX_EXIT_REASON_NMI_WINDOW ||
                      s->reason == VTX_EXIT_REASON_MONITOR_TRAP_FLAG ||
                      s->reason == VTX_EXIT_REASON_PREEMPTION_TIMER ||
                      s->reason == VTX_EXIT_REASON_EXTERNAL_INTERRUPT;
    if (event_exit)
        cr_assert_eq(last->action, VTX_ACT_EXIT, "%s: the last boundary exits", s->name);
    else if (s->reason != VTX_EXIT_REASON_EXCEPTION_NMI)
        cr_assert_eq(last->action, VTX_ACT_EXECUTE, "%s: the last boundary executes the exiting instruction",
                     s->name);
}

static void same_with_and_without(const scenario *s)
{
    outcome off = run(s, false);
    outcome on = run(s, true);
    check_reports(s, &on);
    cr_assert(off.rip == on.rip && off.intr == on.intr && off.activity == on.activity && off.qual == on.qual &&
                  off.intr_info == on.intr_info,
              "%s: the observer changed the saved state (RIP 0x%llx/0x%llx, interruptibility %llu/%llu)", s->name,
              (unsigned long long)off.rip, (unsigned long long)on.rip, (unsigned long long)off.intr,
              (unsigned long long)on.intr);
    cr_assert(off.insns == on.insns && off.cycles == on.cycles,
              "%s: the observer changed the clock: %llu/%llu instructions, %llu/%llu cycles", s->name,
              (unsigned long long)off.insns, (unsigned long long)on.insns, (unsigned long long)off.cycles,
              (unsigned long long)on.cycles);
}

TestSuite(observer, .timeout = 60);

/* sti (IF 0 -> 1) then the shadowed nop: the window opens after it (BLK-STI-3, IW-1). */
Test(observer, sti_shadow_expires_inside_a_run)
{
    VTX_COVERS("BLK-STI-3", "IW-1");
    static const uint8_t code[] = {0x90, 0x90, 0xfb, 0x90, 0x90, 0x90, 0xf4};
    scenario s = {.name = "IW-1, BLK-STI-3: nop; nop; sti; nop (shadow); nop", .code = code, .len = sizeof code,
                  .proc = VTX_PROC_INTR_WINDOW_EXITING, .reason = VTX_EXIT_REASON_INTERRUPT_WINDOW, .rip_off = 4};
    same_with_and_without(&s);
}

/* Entered with blocking by STI and IF = 1: the first instruction runs in the
 * shadow, the window opens at the next boundary (BLK-LOAD-2). */
Test(observer, entry_shadow_expires_at_the_first_boundary_of_a_run)
{
    VTX_COVERS("BLK-LOAD-2");
    static const uint8_t code[] = {0x90, 0x90, 0x90, 0xf4};
    scenario s = {.name = "BLK-LOAD-2: entered in an STI shadow, IF = 1", .code = code, .len = sizeof code,
                  .rflags = RFLAGS_IF, .intr = IS_STI, .proc = VTX_PROC_INTR_WINDOW_EXITING,
                  .reason = VTX_EXIT_REASON_INTERRUPT_WINDOW, .rip_off = 1};
    same_with_and_without(&s);
}

/* A loop with CLI in it, ending in HLT: the observer must see IF go to 0. */
Test(observer, loop_with_cli_ends_in_hlt)
{
    /* mov ecx, 20; l: add eax, 1; cli; add ebx, eax; dec ecx; jnz l; hlt */
    static const uint8_t code[] = {0xb9, 0x14, 0x00, 0x00, 0x00, 0x83, 0xc0, 0x01, 0xfa,
                                   0x01, 0xc3, 0xff, 0xc9, 0x75, 0xf6, 0xf4};
    scenario s = {.name = "a loop with cli, then hlt (HLT exiting)", .code = code, .len = sizeof code,
                  .rflags = RFLAGS_IF, .reason = VTX_EXIT_REASON_HLT, .rip_off = 15};
    same_with_and_without(&s);
    cr_assert(sc.rep[0].rflags & RFLAGS_IF, "IF is 1 at the first boundary");
    cr_assert_eq(sc.rep[2].rip, G + 8, "report 2 is before the first cli");
    cr_assert(sc.rep[2].rflags & RFLAGS_IF, "IF is still 1 before cli");
    cr_assert_eq(sc.rep[3].rip, G + 9, "report 3 is after the first cli");
    cr_assert(!(sc.rep[3].rflags & RFLAGS_IF), "the report after cli shows IF = 0");
    cr_assert_eq(sc.n, 1 + 1 + 20 * 5, "one report per boundary: %d", sc.n);
}

/* The monitor trap flag: an exit after the first instruction (MTF-4). */
Test(observer, monitor_trap_flag)
{
    VTX_COVERS("MTF-4");
    static const uint8_t code[] = {0x90, 0x90, 0xf4};
    scenario s = {.name = "MTF-4: nop; nop", .code = code, .len = sizeof code,
                  .proc = VTX_PROC_MONITOR_TRAP_FLAG, .reason = VTX_EXIT_REASON_MONITOR_TRAP_FLAG, .rip_off = 1};
    same_with_and_without(&s);
}

/* The preemption timer expires in the middle of a loop (PT-6). */
Test(observer, preemption_timer_inside_a_loop)
{
    VTX_COVERS("PT-6");
    static const uint8_t code[] = {0x83, 0xc0, 0x01, 0xeb, 0xfb}; /* l: add eax, 1; jmp l */
    scenario s = {.name = "PT-6: timer 20 in a loop", .code = code, .len = sizeof code,
                  .pin = VTX_PIN_PREEMPTION_TIMER, .timer = 20, .reason = VTX_EXIT_REASON_PREEMPTION_TIMER};
    outcome off = run(&s, false);
    s.rip_off = off.rip - G;
    cr_assert(off.insns > 2, "the timer expires after a few instructions (%llu)", (unsigned long long)off.insns);
    same_with_and_without(&s);
}

/* An interrupt raised at an instruction count exits at exactly that boundary. */
Test(observer, interrupt_scheduled_inside_a_loop)
{
    static const uint8_t code[] = {0x83, 0xc0, 0x01, 0xeb, 0xfb}; /* l: add eax, 1; jmp l */
    scenario s = {.name = "an interrupt at instruction 7, external-interrupt exiting", .code = code,
                  .len = sizeof code, .rflags = RFLAGS_IF, .pin = VTX_PIN_EXT_INTR_EXITING, .intr_at = true,
                  .at = 7, .reason = VTX_EXIT_REASON_EXTERNAL_INTERRUPT, .rip_off = 3};
    same_with_and_without(&s);
}

/* TF single-step: a #DB trap after the first instruction (exception bitmap bit 1). */
Test(observer, single_step_trap)
{
    static const uint8_t code[] = {0x90, 0x90, 0xf4};
    scenario s = {.name = "TF = 1: #DB after nop", .code = code, .len = sizeof code, .rflags = RFLAGS_TF,
                  .exc_bitmap = 1u << 1, .reason = VTX_EXIT_REASON_EXCEPTION_NMI, .rip_off = 1};
    same_with_and_without(&s);
}

/* A fault after a few instructions (#UD, exception bitmap bit 6). */
Test(observer, fault_after_a_run)
{
    static const uint8_t code[] = {0x90, 0x90, 0x90, 0x0f, 0x0b};
    scenario s = {.name = "ud2 after three nops", .code = code, .len = sizeof code, .exc_bitmap = 1u << 6,
                  .reason = VTX_EXIT_REASON_EXCEPTION_NMI, .rip_off = 3};
    same_with_and_without(&s);
}

/* WRMSR in the middle of a translation block (QEMU runs on past it): the exit at
 * the WRMSR, with and without the observer (no MSR bitmaps: WRMSR exits). */
Test(observer, wrmsr_inside_a_block)
{
    /* mov ecx, 0x174 ; xor eax, eax ; xor edx, edx ; wrmsr ; nop ; hlt */
    static const uint8_t code[] = {0xb9, 0x74, 0x01, 0x00, 0x00, 0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x30, 0x90, 0xf4};
    scenario s = {.name = "wrmsr inside a block", .code = code, .len = sizeof code,
                  .reason = VTX_EXIT_REASON_WRMSR, .rip_off = 9};
    same_with_and_without(&s);
}

/* Bytes the decoder rejects (0xd6, SALC, is invalid in 64-bit mode) at the end of
 * a block: #UD exactly there, with and without the observer. */
Test(observer, undecodable_bytes_after_a_run)
{
    static const uint8_t code[] = {0x90, 0x90, 0xd6, 0x90};
    scenario s = {.name = "nop; nop; (bad)", .code = code, .len = sizeof code, .exc_bitmap = 1u << 6,
                  .reason = VTX_EXIT_REASON_EXCEPTION_NMI, .rip_off = 2};
    same_with_and_without(&s);
}

/* A VMM that patches guest code through its host pointer between two exits
 * gets the patched code run (Unicorn does not see such writes by itself; the
 * engine has it translate the block again). With and without an observer, and
 * with the patched instruction before and after a WRMSR in the same block. */
static void patched_code_runs(bool observe, unsigned nops)
{
    rf_setup();
    vtx_machine_set_observer(e.m, observe ? scan_record : NULL, &sc);
    /* `nops` x nop (a block longer than 16 bytes takes another comparison);
     * mov eax, 0x11111111; jmp $+2 (the block ends: nothing in it stops the run,
     * so it takes the engine's fast path when there is no observer); vmcall */
    uint8_t code[64];
    memset(code, 0x90, nops);
    static const uint8_t tail[] = {0xb8, 0x11, 0x11, 0x11, 0x11, 0xeb, 0x00, 0x0f, 0x01, 0xc1};
    memcpy(code + nops, tail, sizeof tail);
    rf_code(code, nops + sizeof tail);
    for (int round = 0; round < 3; round++) {
        e.ram[G + nops + 1] = (uint8_t)(0x11 * (round + 1));
        rf_state(G, RFLAGS_FIXED, 0, ACT_ACTIVE);
        vtx_insn_result r;
        vtx_status st = round == 0 ? vtx_vmlaunch(e.m, &r) : vtx_vmresume(e.m, &r);
        char step[96];
        snprintf(step, sizeof step, "round %d (observer %s, %u nops)", round, observe ? "on" : "off", nops);
        rf_check_exit(step, st, &r, VTX_EXIT_REASON_VMCALL);
        vtx_gprs g;
        cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
        cr_assert_eq(g.rax & 0xff, (uint64_t)(0x11 * (round + 1)) & 0xff,
                     "%s: the guest ran the patched immediate (RAX 0x%llx)", step, (unsigned long long)g.rax);
    }
    rf_teardown();
}

Test(observer, code_patched_between_exits_runs_patched)
{
    for (unsigned nops = 0; nops <= 24; nops += 24) {
        patched_code_runs(false, nops);
        patched_code_runs(true, nops);
    }
}

/* Two blocks that share a block-cache entry (0x10000 and 0x14010), run in turn:
 * the one pushed out keeps its bytes in the engine's victim cache, so a patch
 * made to it through the host pointer while it was out is still seen. */
Test(observer, code_patched_while_its_block_was_evicted)
{
    rf_setup();
    vtx_machine_set_observer(e.m, NULL, NULL); /* the fast path */
    static const uint8_t a[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1}; /* mov eax, 1; vmcall */
    static const uint8_t b[] = {0xb8, 0x02, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1}; /* mov eax, 2; vmcall */
    const uint64_t A = 0x10000, B = 0x14010;
    vt_code(&e, A, a, sizeof a);
    vt_code(&e, B, b, sizeof b);
    static const struct { uint64_t rip; uint8_t patch_a; uint32_t rax; } step[] = {
        {A, 0, 1}, {B, 0, 2}, {A, 0, 1}, {B, 0x33, 2}, {A, 0, 0x33}, {B, 0x44, 2}, {A, 0, 0x44},
    };
    for (size_t i = 0; i < sizeof step / sizeof step[0]; i++) {
        if (step[i].patch_a)
            e.ram[A + 1] = step[i].patch_a; /* while A's block is out of the cache (B ran last) */
        rf_state(step[i].rip, RFLAGS_FIXED, 0, ACT_ACTIVE);
        vtx_insn_result r;
        vtx_status st = i == 0 ? vtx_vmlaunch(e.m, &r) : vtx_vmresume(e.m, &r);
        char name[64];
        snprintf(name, sizeof name, "step %zu at 0x%llx", i, (unsigned long long)step[i].rip);
        rf_check_exit(name, st, &r, VTX_EXIT_REASON_VMCALL);
        vtx_gprs g;
        cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
        cr_assert_eq((uint32_t)g.rax, step[i].rax, "%s: RAX 0x%x, expected 0x%x", name, (uint32_t)g.rax,
                     step[i].rax);
    }
    rf_teardown();
}

/* An instruction the model must stop before, patched by the VMM through its host
 * pointer into a block that held none (the engine's step path takes such a
 * block without looking at each instruction; the block hook must see the new
 * bytes first): the patched CPUID exits, with and without the observer. */
static void patched_class_runs(bool observe)
{
    rf_setup();
    vtx_machine_set_observer(e.m, observe ? scan_record : NULL, &sc);
    /* mov eax, 1; nop; nop; mov eax, 2; jmp $+2; vmcall */
    static const uint8_t code[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x90, 0x90, 0xb8, 0x02, 0x00,
                                   0x00, 0x00, 0xeb, 0x00, 0x0f, 0x01, 0xc1};
    rf_code(code, sizeof code);
    for (int round = 0; round < 3; round++) {
        if (round == 1)
            e.ram[G + 5] = 0x0f, e.ram[G + 6] = 0xa2; /* cpuid over the two nops */
        if (round == 2)
            e.ram[G + 5] = 0x90, e.ram[G + 6] = 0x90; /* and back */
        rf_state(G, RFLAGS_FIXED, 0, ACT_ACTIVE);
        vtx_insn_result r;
        vtx_status st = round == 0 ? vtx_vmlaunch(e.m, &r) : vtx_vmresume(e.m, &r);
        char step[96];
        snprintf(step, sizeof step, "round %d (observer %s)", round, observe ? "on" : "off");
        rf_check_exit(step, st, &r, round == 1 ? VTX_EXIT_REASON_CPUID : VTX_EXIT_REASON_VMCALL);
        rf_saved_rip(step, round == 1 ? G + 5 : G + 14);
    }
    rf_teardown();
}

Test(observer, exiting_instruction_patched_into_a_block_exits)
{
    VTX_COVERS("EXIT-7");
    patched_class_runs(false);
    patched_class_runs(true);
}

/* The guest writes a CPUID over two NOPs further on in its own block (QEMU ends
 * the block at the store and translates the rest again): the CPUID exits there,
 * with and without the observer, every boundary reported once. */
Test(observer, guest_store_makes_an_exiting_instruction_in_its_own_block)
{
    VTX_COVERS("EXIT-7");
    /* mov word [rip+0], 0xa20f (the next instruction); nop; nop; vmcall */
    static const uint8_t code[] = {0x66, 0xc7, 0x05, 0x00, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0x90, 0x90, 0x0f, 0x01, 0xc1};
    scenario s = {.name = "self-modifying block", .code = code, .len = sizeof code,
                  .reason = VTX_EXIT_REASON_CPUID, .rip_off = 9};
    same_with_and_without(&s);
}

/* The RFLAGS each report carries inside a run is the guest's, arithmetic flags
 * included (the engine computes them from Unicorn's lazy flags, ENG-FL-1). */
Test(observer, reports_carry_the_arithmetic_flags)
{
    VTX_COVERS("ENG-FL-1");
    /* mov eax, 0x7fffffff; add eax, 1; dec eax; xor ecx, ecx; sub ecx, 1; shl ecx, 1; vmcall */
    static const uint8_t code[] = {0xb8, 0xff, 0xff, 0xff, 0x7f, 0x83, 0xc0, 0x01, 0xff, 0xc8, 0x31,
                                   0xc9, 0x83, 0xe9, 0x01, 0xd1, 0xe1, 0x0f, 0x01, 0xc1};
    static const struct { uint64_t off, rflags; } want[] = {
        {0, 0x2},
        {5, 0x2},
        {8, 0x2 | 0x800 | 0x80 | 0x10 | 0x4}, /* 0x80000000: OF SF AF PF */
        {10, 0x2 | 0x800 | 0x10 | 0x4},       /* 0x7fffffff: OF AF PF, CF kept (0) */
        {12, 0x2 | 0x40 | 0x4},               /* 0: ZF PF */
        {15, 0x2 | 0x80 | 0x10 | 0x4 | 0x1},  /* 0xffffffff: SF AF PF CF */
        {17, 0x2 | 0x80 | 0x1},               /* 0xfffffffe: SF CF, OF = CF ^ SF = 0, PF 0 (7 ones) */
    };
    scenario s = {.name = "flags", .code = code, .len = sizeof code, .reason = VTX_EXIT_REASON_VMCALL, .rip_off = 17};
    outcome o = run(&s, true);
    check_reports(&s, &o);
    cr_assert_eq(sc.n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < sc.n; i++) {
        cr_assert_eq(sc.rep[i].rip, G + want[i].off, "report %d at G+0x%llx", i,
                     (unsigned long long)(sc.rep[i].rip - G));
        cr_assert_eq(sc.rep[i].rflags, want[i].rflags, "report %d (G+0x%llx): RFLAGS 0x%llx, expected 0x%llx", i,
                     (unsigned long long)want[i].off, (unsigned long long)sc.rep[i].rflags,
                     (unsigned long long)want[i].rflags);
    }
}
