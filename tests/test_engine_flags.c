/*
 * cpu/engine_flags.c (ENG-FL-1): RFLAGS computed by the engine from Unicorn's
 * lazy flags is the value Unicorn itself reports, for every operation code the
 * engine computes, at edge and pseudo-random operand values, with DF and the
 * other non-arithmetic flags clear and set. (Every boundary an observer sees
 * carries this RFLAGS; the scenario and trace tests compare whole runs.)
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/engine.h"
#include "covers.h"

#define MEM_SIZE (1u << 20)
#define N_OPS 51 /* QEMU's CCOp: DYNAMIC .. POPCNT */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const uint64_t edge[] = {0,
                                1,
                                2,
                                0xf,
                                0x10,
                                0x7f,
                                0x80,
                                0xff,
                                0x100,
                                0x7fff,
                                0x8000,
                                0xffff,
                                0x10000,
                                0x7fffffff,
                                0x80000000,
                                0xffffffff,
                                0x100000000ull,
                                0x7fffffffffffffffull,
                                0x8000000000000000ull,
                                0xfffffffffffffffeull,
                                0xffffffffffffffffull};
#define N_EDGE (sizeof edge / sizeof edge[0])

/* Compare both ways over every operation; returns how many ops the engine computed. */
static unsigned compare_all(vtx_engine *e)
{
    unsigned computed = 0;
    for (uint32_t op = 0; op < N_OPS + 2; op++) {
        bool any = false;
        for (unsigned k = 0; k < N_EDGE * N_EDGE * 2 + 4000; k++) {
            uint64_t dst, src, src2;
            if (k < N_EDGE * N_EDGE * 2) {
                dst = edge[k % N_EDGE];
                src = edge[(k / N_EDGE) % N_EDGE];
                src2 = k / (N_EDGE * N_EDGE); /* carry-in 0 or 1 */
            } else {
                dst = next_rand(), src = next_rand();
                src2 = (k & 3) == 0 ? next_rand() : (k & 1);
                if (k & 4)
                    dst &= 0xff, src &= 0xff;
            }
            uint64_t mine = 0, theirs = 0;
            int rc = vtx_engine_flags_crosscheck(e, op, dst, src, src2, &mine, &theirs);
            cr_assert_geq(rc, 0);
            if (rc == 1)
                break; /* left to Unicorn */
            any = true;
            cr_assert_eq(mine, theirs,
                         "cc_op %u dst 0x%llx src 0x%llx src2 0x%llx: engine 0x%llx, Unicorn 0x%llx", op,
                         (unsigned long long)dst, (unsigned long long)src, (unsigned long long)src2,
                         (unsigned long long)mine, (unsigned long long)theirs);
        }
        computed += any;
    }
    return computed;
}

static void with_rflags(vtx_engine *e, uint64_t rflags)
{
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(e, &s), 0);
    s.rflags = rflags;
    cr_assert_eq(vtx_engine_set_state(e, &s, NULL), 0);
}

Test(engine_flags, engine_rflags_equals_unicorns_for_every_lazy_flags_operation)
{
    VTX_COVERS("ENG-FL-1");
    uint8_t *mem = aligned_alloc(4096, MEM_SIZE);
    cr_assert_not_null(mem);
    memset(mem, 0xf4, MEM_SIZE);
    vtx_engine_region reg = {.pa = 0, .size = MEM_SIZE, .host = mem};
    vtx_engine *e;
    cr_assert_eq(vtx_engine_create(&e, &reg, 1, NULL), 0);
    uint64_t probe, unused;
    if (vtx_engine_flags_crosscheck(e, 1, 0, 0, 0, &probe, &unused) < 0) {
        vtx_engine_destroy(e);
        free(mem);
        cr_skip_test("no live Unicorn state on this platform: the engine asks Unicorn");
    }
    /* the flags outside the six arithmetic ones: none, then DF, IF, TF, AC, ID and bit 1 */
    with_rflags(e, 0x2);
    unsigned a = compare_all(e);
    with_rflags(e, 0x2 | 0x400 | 0x200 | 0x100 | 0x40000 | 0x200000 | 0x8d5);
    unsigned b = compare_all(e);
    /* every operation but DYNAMIC and ADCX/ADOX/ADCOX (and the codes past POPCNT) */
    cr_assert_eq(a, N_OPS - 4);
    cr_assert_eq(b, N_OPS - 4);
    vtx_engine_destroy(e);
    free(mem);
}
