/*
 * cpu/engine_step.c, the per-instruction hook's step path and its shortcut
 * (step_fast: a boundary function, RFLAGS from the live state, 64-bit code):
 *  - outside 64-bit code the boundary function gets the architectural RIP
 *    (EIP, CS.base not added) and RFLAGS as the engine computes it now at every
 *    boundary of a loop whose block the step path takes (checked to fail with
 *    the code width left out of step_fast: the linear address is passed);
 *  - an MMIO write on the step path ends the run at the boundary right after
 *    the writing instruction (ENG-MMIO-1): vtx_engine_stop_after_access ends
 *    the step path (checked to fail with step_next left as it is there: the
 *    rest of the block runs).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine_rig.h"
#include "covers.h"

#define MEM_SIZE (1u << 20)
#define CS_BASE 0x10000u
#define EIP 0x1000u
#define ITERS 40u
#define WIN 0xFEE00000u

/* ---- RIP and RFLAGS at the boundaries of 32-bit code with a CS base ---- */

/* add eax, 1 ; add ebx, eax ; dec ecx ; jnz (back 9) ; hlt  (one block per pass) */
static const uint8_t loop32[] = {0x83, 0xc0, 0x01, 0x01, 0xc3, 0xff, 0xc9, 0x75, 0xf7, 0xf4};
/* EIP of each instruction of the loop, by position */
static const uint32_t loop_off[4] = {0, 3, 5, 7};

typedef struct seen {
    vtx_engine *e;
    unsigned n, bad_rip, bad_rflags;
    uint64_t first_bad_rip, first_bad_rflags, want_rflags;
} seen;

static void at_boundary(void *user, uint64_t rip, uint64_t rflags)
{
    seen *s = user;
    /* the boundary before the run's instruction n + 1 (the first has none
     * before it), the last one before the HLT */
    uint64_t want = s->n + 1 == 4 * ITERS ? EIP + sizeof loop32 - 1 : EIP + loop_off[(s->n + 1) % 4];
    if (rip != want && !s->bad_rip++)
        s->first_bad_rip = rip;
    uint64_t now = vtx_engine_rflags(s->e);
    if (rflags != now && !s->bad_rflags++)
        s->first_bad_rflags = rflags, s->want_rflags = now;
    s->n++;
}

Test(engine_step_fast, outside_64_bit_code_the_boundary_gets_eip_not_the_linear_address)
{
    VTX_COVERS("ENG-FL-2", "ENG-FL-3");
    uint8_t *mem = aligned_alloc(4096, MEM_SIZE);
    cr_assert_not_null(mem);
    memset(mem, 0xf4, MEM_SIZE);
    memcpy(mem + CS_BASE + EIP, loop32, sizeof loop32);
    vtx_engine_region reg = {.pa = 0, .size = MEM_SIZE, .host = mem};
    vtx_engine *e;
    cr_assert_eq(vtx_engine_create(&e, &reg, 1, NULL), 0);
    seen s = {.e = e};
    vtx_engine_set_boundary_fn(e, at_boundary, &s);
    /* several runs: the block is decoded and stamped, then stepped on the step path */
    for (int pass = 0; pass < 3; pass++) {
        vtx_cpu_state st = rig_pm32(EIP, CS_BASE);
        st.gpr[VTX_R_RCX] = ITERS;
        st.gpr[VTX_R_RAX] = 0x7ffffff0; /* an overflow on the way */
        const char *why = NULL;
        cr_assert_eq(vtx_engine_set_state(e, &st, &why), 0, "%s", why ? why : "");
        memset(&s, 0, sizeof s);
        s.e = e;
        vtx_stop stop;
        vtx_class_set none = {0};
        cr_assert_eq(vtx_engine_run(e, 100000, none, false, &stop), 0);
        cr_expect_eq(stop.reason, VTX_STOP_HLT, "pass %d: reason %d", pass, stop.reason);
        cr_expect_eq(stop.retired, 4 * ITERS + 1, "pass %d: retired %llu (the HLT's included)", pass,
                     (unsigned long long)stop.retired);
        cr_expect_eq(s.n, 4 * ITERS, "pass %d: %u boundaries, want %u (the HLT's included)", pass, s.n, 4 * ITERS);
        cr_expect_eq(s.bad_rip, 0, "pass %d: %u boundaries with a wrong RIP, the first %#llx", pass, s.bad_rip,
                     (unsigned long long)s.first_bad_rip);
        cr_expect_eq(s.bad_rflags, 0, "pass %d: %u boundaries with a wrong RFLAGS, the first %#llx (want %#llx)",
                     pass, s.bad_rflags, (unsigned long long)s.first_bad_rflags, (unsigned long long)s.want_rflags);
    }
    vtx_engine_destroy(e);
    free(mem);
}

/* ---- an MMIO write on the step path ---- */

typedef struct dev {
    vtx_engine *e;
    unsigned writes;
} dev;

static uint64_t dev_rd(void *user, uint64_t offset, unsigned size)
{
    (void)user, (void)offset, (void)size;
    return 0;
}

static void dev_wr(void *user, uint64_t offset, unsigned size, uint64_t value)
{
    dev *d = user;
    (void)offset, (void)size, (void)value;
    d->writes++;
    vtx_engine_stop_after_access(d->e);
}

static void count_boundary(void *user, uint64_t rip, uint64_t rflags)
{
    (void)rip, (void)rflags;
    ++*(unsigned *)user;
}

/* inc ebx x5 ; mov [WIN+0x300], eax ; inc ebx x3 ; hlt  (one block) */
static const uint8_t mmio_code[] = {
    0x43, 0x43, 0x43, 0x43, 0x43,       /* 0x1000 inc ebx x5 */
    0xA3, 0x00, 0x03, 0xE0, 0xFE,       /* 0x1005 mov [0xFEE00300], eax */
    0x43, 0x43, 0x43,                   /* 0x100A inc ebx x3 */
    0xF4,                               /* 0x100D hlt */
};

Test(engine_step_fast, an_mmio_write_on_the_step_path_stops_at_the_boundary_after_it)
{
    VTX_COVERS("ENG-MMIO-1", "BUS-MMIO-2");
    uint8_t *mem = aligned_alloc(4096, MEM_SIZE);
    cr_assert_not_null(mem);
    memset(mem, 0xf4, MEM_SIZE);
    memcpy(mem + EIP, mmio_code, sizeof mmio_code);
    vtx_engine_region reg = {.pa = 0, .size = MEM_SIZE, .host = mem};
    dev d = {0};
    cr_assert_eq(vtx_engine_create(&d.e, &reg, 1, NULL), 0);
    cr_assert_eq(vtx_engine_map_mmio(d.e, WIN, 0x1000, dev_rd, dev_wr, &d), 0);
    unsigned boundaries = 0;
    vtx_engine_set_boundary_fn(d.e, count_boundary, &boundaries);
    /* several passes: the block is decoded, stamped and then stepped on the step path */
    for (int pass = 0; pass < 4; pass++) {
        vtx_cpu_state st = rig_pm32(EIP, 0);
        const char *why = NULL;
        cr_assert_eq(vtx_engine_set_state(d.e, &st, &why), 0, "%s", why ? why : "");
        d.writes = 0;
        boundaries = 0;
        vtx_stop stop;
        vtx_class_set none = {0};
        cr_assert_eq(vtx_engine_run(d.e, 1000, none, false, &stop), 0);
        vtx_cpu_state s;
        cr_assert_eq(vtx_engine_get_state(d.e, &s), 0);
        cr_expect_eq(stop.reason, VTX_STOP_BOUNDARY, "pass %d: reason %d", pass, stop.reason);
        cr_expect_eq(stop.retired, 6, "pass %d: retired %llu, want 6", pass, (unsigned long long)stop.retired);
        cr_expect_eq(s.rip, 0x100A, "pass %d: RIP %#llx, want 0x100a", pass, (unsigned long long)s.rip);
        cr_expect_eq(s.gpr[VTX_R_RBX], 5, "pass %d: RBX %llu, want 5 (nothing after the writer ran)", pass,
                     (unsigned long long)s.gpr[VTX_R_RBX]);
        cr_expect_eq(d.writes, 1, "pass %d: %u writes", pass, d.writes);
        cr_expect_eq(boundaries, 5, "pass %d: %u boundaries passed to the function, want 5", pass, boundaries);
    }
    vtx_engine_destroy(d.e);
    free(mem);
}
