/*
 * cpu/engine: switching between the fast path (block hook) and the
 * per-instruction path (code hook, here for a boundary function) keeps
 * Unicorn's translations of both kinds; each run must find only those made
 * with the hooks it runs with (ENG-MODE-1, cpu/engine.c "mode_tag"). The
 * observables: the retired count, every boundary the function sees (its RIP),
 * a stop the function asks for, and, after the caller rewrote the code through
 * its host pointer, the new code's count in both modes. Before ENG-MODE-1 each
 * switch dropped every translation (on Unicorn 2.0.1 about 125 ms); these tests
 * fail when translations of one kind are found by runs of the other (a slow run
 * that reuses a fast-path block never calls the boundary function).
 */
#include "covers.h"
#include "engine_rig.h"

#define MEM_SIZE (4u << 20)
#define CODE 0x20000u

RIG_SUITE(engine_mode, MEM_SIZE);

/* A flat 64-bit state at rip (paging off: linear == physical). */
static vtx_cpu_state flat64(uint64_t rip)
{
    return rig_flat64(rip, 0, 0);
}

/* The boundary function: records every boundary's RIP; stops at stop_at. */
typedef struct seen {
    unsigned n;
    uint64_t rip[64];
    uint64_t stop_at;
} seen;

static void on_boundary(void *user, uint64_t rip, uint64_t rflags)
{
    seen *s = user;
    (void)rflags;
    if (s->n < 64)
        s->rip[s->n] = rip;
    s->n++;
    if (rip == s->stop_at)
        vtx_engine_stop_at_boundary(eng);
}

/* Run from CODE until HLT or the boundary function's stop; with `obs` on the
 * per-instruction path (boundary function set), else on the fast path. */
static vtx_stop run_from_code(seen *obs)
{
    vtx_engine_set_boundary_fn(eng, obs ? on_boundary : NULL, obs);
    vtx_cpu_state s = flat64(CODE);
    cr_assert_eq(vtx_engine_set_state(eng, &s, NULL), 0);
    vtx_stop st;
    vtx_class_set none = {1ull << VTX_IC_CPUID}; /* never comes: a counted run */
    cr_assert_eq(vtx_engine_run(eng, 0, none, false, &st), 0);
    vtx_engine_set_boundary_fn(eng, NULL, NULL);
    return st;
}

/* Fast, slow, fast, slow over code of `n` instructions at the offsets in
 * `off` (the last a HLT): each run counts n, each slow run sees a boundary
 * before each instruction but the first, at its RIP. */
static void alternate(const uint8_t *off, unsigned n, const char *what)
{
    for (int round = 0; round < 4; round++) {
        seen obs = {.stop_at = UINT64_MAX};
        bool slow = round & 1;
        vtx_stop st = run_from_code(slow ? &obs : NULL);
        cr_assert_eq(st.reason, VTX_STOP_HLT, "%s, round %d: reason %d", what, round, (int)st.reason);
        cr_assert_eq(st.retired, n, "%s, round %d (%s): retired %llu, want %u", what, round, slow ? "slow" : "fast",
                     (unsigned long long)st.retired, n);
        if (!slow) {
            cr_assert_eq(obs.n, 0);
            continue;
        }
        cr_assert_eq(obs.n, n - 1, "%s, round %d: %u boundaries, want %u", what, round, obs.n, n - 1);
        for (unsigned i = 0; i + 1 < n; i++)
            cr_assert_eq(obs.rip[i], CODE + off[i + 1], "%s, round %d: boundary %u at %#llx, want %#llx", what,
                         round, i, (unsigned long long)obs.rip[i], (unsigned long long)(CODE + off[i + 1]));
    }
}

/* The same code on both paths, in turn: the per-instruction path sees every
 * boundary each time (its translations are not the fast path's, and the fast
 * path's do not call the boundary function). */
Test(engine_mode, fast_and_per_instruction_runs_in_turn_count_and_see_every_boundary)
{
    VTX_COVERS("ENG-MODE-1", "ENG-CNT-1");
    /* INC RAX, NOP, INC RCX, 2-byte NOP, HLT */
    static const uint8_t code[] = {0x48, 0xff, 0xc0, 0x90, 0x48, 0xff, 0xc1, 0x66, 0x90, 0xf4};
    static const uint8_t off[] = {0, 3, 4, 7, 9};
    memcpy(mem + CODE, code, sizeof code);
    alternate(off, 5, "same code");
}

/* A stop the boundary function asks for after fast-path runs of the same code
 * is exact: RIP on the instruction, the ones before it counted. */
Test(engine_mode, boundary_stop_after_fast_runs_is_exact)
{
    VTX_COVERS("ENG-MODE-1");
    static const uint8_t code[] = {0x48, 0xff, 0xc0, 0x90, 0x48, 0xff, 0xc1, 0x66, 0x90, 0xf4};
    memcpy(mem + CODE, code, sizeof code);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(run_from_code(NULL).retired, 5);
    seen obs = {.stop_at = CODE + 7};
    vtx_stop st = run_from_code(&obs);
    cr_assert_eq(st.reason, VTX_STOP_BOUNDARY, "reason %d", (int)st.reason);
    cr_assert_eq(st.retired, 3, "retired %llu", (unsigned long long)st.retired);
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
    cr_assert_eq(s.rip, CODE + 7, "rip %#llx", (unsigned long long)s.rip);
    cr_assert_eq(s.gpr[VTX_R_RAX], 1);
    cr_assert_eq(s.gpr[VTX_R_RCX], 1);
}

/* The caller rewrites the code through its host pointer (Unicorn does not see
 * it) while translations of both kinds of the old code are kept: each path
 * then runs and counts the new code, and again after a rewrite back. */
Test(engine_mode, host_rewrite_between_switches_runs_the_new_code_on_both_paths)
{
    VTX_COVERS("ENG-MODE-1", "ENG-CNT-1");
    static const uint8_t old_code[] = {0x90, 0x90, 0x90, 0x90, 0xf4};       /* 4 NOPs, HLT */
    static const uint8_t new_code[] = {0x90, 0x66, 0x90, 0x66, 0x90, 0xf4}; /* NOP, 2 2-byte NOPs, HLT */
    static const uint8_t old_off[] = {0, 1, 2, 3, 4}, new_off[] = {0, 1, 3, 5};
    memcpy(mem + CODE, old_code, sizeof old_code);
    alternate(old_off, 5, "old code");
    memcpy(mem + CODE, new_code, sizeof new_code);
    alternate(new_off, 4, "new code");
    memcpy(mem + CODE, old_code, sizeof old_code);
    alternate(old_off, 5, "old code again");
}
