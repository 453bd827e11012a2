/*
 * cpu/engine: the exit list. Unicorn 2.0.1 aborts translating a far JMP or CALL
 * with a register operand (FF /5, FF /3 with mod = 3; #UD on hardware); the
 * engine then goes on in a new Unicorn that stops before that address instead
 * (cpu/engine_abort.c, reopen_past). Once other bytes are there (the guest
 * pushed an exception frame over its handler's code, or the caller rewrote it),
 * a run must execute them (ENG-EXIT-1): before, every run started there stopped
 * before them again without running anything, and the model, which hands such
 * an instruction back to the engine, recursed until the process died of a
 * stack overflow (found by the guest fuzz target:
 * tests/fuzz/guest/regress-stale-exit-stack-overflow.bin). On Unicorn 2.1.1,
 * which raises #UD for these instructions itself, the same observables hold.
 */
#include "covers.h"
#include "engine_rig.h"

#define MEM_SIZE (4u << 20)
#define CODE 0x20000u

RIG_SUITE(engine_exits, MEM_SIZE);

/* A flat 64-bit state at rip (paging off: linear == physical). */
static vtx_cpu_state flat64(uint64_t rip)
{
    return rig_flat64(rip, 0, 0);
}

static vtx_stop run_at(uint64_t rip, bool skip_first)
{
    vtx_cpu_state s = flat64(rip);
    cr_assert_eq(vtx_engine_set_state(eng, &s, NULL), 0);
    vtx_stop st;
    vtx_class_set none = {1ull << VTX_IC_CPUID}; /* never comes: a counted run */
    cr_assert_eq(vtx_engine_run(eng, 0, none, skip_first, &st), 0);
    return st;
}

/* The far JMP is never executed; after the caller writes two NOPs over it, a
 * run started there (skip_first, as the model's single step does, and without)
 * executes them and the HLT after them. */
static void rewritten_far_jmp_runs(bool skip_first)
{
    static const uint8_t code[] = {0x90, 0xff, 0xef, 0xf4}; /* NOP; JMP FAR [RDI as register]; HLT */
    memcpy(mem + CODE, code, sizeof code);
    vtx_stop st = run_at(CODE, false);
    cr_assert(st.reason == VTX_STOP_BEFORE || st.reason == VTX_STOP_EXCEPTION, "reason %d", (int)st.reason);
    cr_assert_eq(st.retired, 1, "retired %llu: only the NOP", (unsigned long long)st.retired);
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
    cr_assert_eq(s.rip, CODE + 1, "rip %#llx", (unsigned long long)s.rip);

    mem[CODE + 1] = 0x90;
    mem[CODE + 2] = 0x90; /* NOP; NOP; NOP; HLT */
    for (int i = 0; i < 2; i++) {
        st = run_at(CODE + 1, skip_first);
        cr_assert_eq(st.reason, VTX_STOP_HLT, "run %d after the rewrite: reason %d, retired %llu", i, (int)st.reason,
                     (unsigned long long)st.retired);
        cr_assert_eq(st.retired, 3, "run %d: retired %llu", i, (unsigned long long)st.retired);
        cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
        cr_assert_eq(s.rip, CODE + 4, "rip %#llx", (unsigned long long)s.rip);
    }
    cr_assert(vtx_engine_reusable(eng), "no exit is left");
}

Test(engine_exits, bytes_rewritten_at_an_exit_run_on_a_single_step_start)
{
    VTX_COVERS("ENG-EXIT-1");
    rewritten_far_jmp_runs(true);
}

Test(engine_exits, bytes_rewritten_at_an_exit_run)
{
    VTX_COVERS("ENG-EXIT-1");
    rewritten_far_jmp_runs(false);
}

/* Bytes still undecodable keep the exit: the run stops before them, nothing
 * of them executed (the model raises #UD). */
Test(engine_exits, bytes_still_invalid_keep_the_stop)
{
    VTX_COVERS("ENG-EXIT-1");
    static const uint8_t code[] = {0x90, 0xff, 0xef, 0xf4};
    memcpy(mem + CODE, code, sizeof code);
    vtx_stop st = run_at(CODE, false);
    cr_assert_eq(st.retired, 1);
    mem[CODE + 2] = 0xdf; /* FF /3 with mod = 3: the far CALL, also invalid */
    for (int i = 0; i < 2; i++) {
        st = run_at(CODE + 1, false);
        cr_assert(st.reason == VTX_STOP_BEFORE || st.reason == VTX_STOP_EXCEPTION, "reason %d", (int)st.reason);
        cr_assert_eq(st.retired, 0, "retired %llu", (unsigned long long)st.retired);
        vtx_cpu_state s;
        cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
        cr_assert_eq(s.rip, CODE + 1, "rip %#llx", (unsigned long long)s.rip);
    }
}
