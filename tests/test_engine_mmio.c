/*
 * cpu/engine_mmio.c: the MMIO window's write stops the run at the boundary
 * right after the writing instruction (ENG-MMIO-1, BUS-MMIO-2), on the fast
 * path (block hook), with the exact retired count, the device seeing each write
 * once, and nothing after the writer executed; the first time (no probe after
 * the writer yet: Unicorn is stopped inside the writer, which runs again) and
 * the second (the probe is there).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine_rig.h"
#include "covers.h"

#define MEM_SIZE (1u << 20)
#define CODE_AT 0x1000u
#define WIN 0xFEE00000u

typedef struct dev {
    vtx_engine *e;
    unsigned writes, reads;
    uint64_t last_offset, last_value, retired_at_write;
    uint32_t reg; /* offset 0x380, read/write */
} dev;

static dev D;

static uint64_t dev_rd(void *user, uint64_t offset, unsigned size)
{
    dev *d = user;
    (void)size;
    d->reads++;
    return offset == 0x380 ? d->reg : 0;
}

static void dev_wr(void *user, uint64_t offset, unsigned size, uint64_t value)
{
    dev *d = user;
    (void)size;
    d->writes++;
    d->last_offset = offset;
    d->last_value = value;
    d->retired_at_write = vtx_engine_mmio_retired(d->e);
    if (offset == 0x380)
        d->reg = (uint32_t)value;
    vtx_engine_stop_after_access(d->e);
}


/* mov [WIN+0x300], eax ; inc ebx x5 ; add dword [WIN+0x380], 1 ; inc ebx x3 ; hlt
 * (one straight line: one translation block) */
static const uint8_t code[] = {
    0xA3, 0x00, 0x03, 0xE0, 0xFE,                               /* 0x1000 mov [0xFEE00300], eax */
    0x43, 0x43, 0x43, 0x43, 0x43,                               /* 0x1005 inc ebx x5 */
    0x83, 0x05, 0x80, 0x03, 0xE0, 0xFE, 0x01,                   /* 0x100A add dword [0xFEE00380], 1 */
    0x43, 0x43, 0x43,                                           /* 0x1011 inc ebx x3 */
    0xF4,                                                       /* 0x1014 hlt */
};

static vtx_cpu_state state(void)
{
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(D.e, &s), 0);
    return s;
}

/* Run with a budget (the fast path), expecting a stop at the boundary after a write. */
static void expect_write_stop(uint64_t want_rip, uint64_t want_retired, uint64_t want_rbx, unsigned want_writes,
                              uint64_t want_offset, uint64_t want_retired_at_write)
{
    vtx_stop st;
    vtx_class_set none = {0};
    cr_assert_eq(vtx_engine_run(D.e, 1000, none, false, &st), 0);
    vtx_cpu_state s = state();
    cr_expect_eq(st.reason, VTX_STOP_BOUNDARY, "reason %d", st.reason);
    cr_expect_eq(s.rip, want_rip, "RIP %#llx, want %#llx", (unsigned long long)s.rip, (unsigned long long)want_rip);
    cr_expect_eq(st.retired, want_retired, "retired %llu, want %llu", (unsigned long long)st.retired,
                 (unsigned long long)want_retired);
    cr_expect_eq(s.gpr[VTX_R_RBX], want_rbx, "RBX %llu, want %llu (instructions after the writer ran)",
                 (unsigned long long)s.gpr[VTX_R_RBX], (unsigned long long)want_rbx);
    cr_expect_eq(D.writes, want_writes, "the device saw %u writes, want %u", D.writes, want_writes);
    cr_expect_eq(D.last_offset, want_offset);
    cr_expect_eq(D.retired_at_write, want_retired_at_write, "retired before the writer %llu, want %llu",
                 (unsigned long long)D.retired_at_write, (unsigned long long)want_retired_at_write);
}

Test(engine_mmio, write_stops_at_the_boundary_after_its_instruction)
{
    VTX_COVERS("ENG-MMIO-1", "BUS-MMIO-2");
    uint8_t *mem = aligned_alloc(4096, MEM_SIZE);
    cr_assert_not_null(mem);
    memset(mem, 0xf4, MEM_SIZE);
    memcpy(mem + CODE_AT, code, sizeof code);
    vtx_engine_region reg = {.pa = 0, .size = MEM_SIZE, .host = mem};
    memset(&D, 0, sizeof D);
    cr_assert_eq(vtx_engine_create(&D.e, &reg, 1, NULL), 0);
    cr_assert_eq(vtx_engine_map_mmio(D.e, WIN, 0x1000, dev_rd, dev_wr, &D), 0);
    /* twice: the first pass adds the probes after the writers, the second finds them */
    for (int pass = 0; pass < 2; pass++) {
        vtx_cpu_state s0 = rig_pm32(CODE_AT, 0);
        s0.gpr[VTX_R_RAX] = 0x4040;
        const char *why = NULL;
        cr_assert_eq(vtx_engine_set_state(D.e, &s0, &why), 0, "%s", why ? why : "");
        D.writes = 0;
        D.reg = 7;
        expect_write_stop(0x1005, 1, 0, 1, 0x300, 0);
        cr_expect_eq(D.last_value, 0x4040);
        expect_write_stop(0x1011, 6, 5, 2, 0x380, 5);
        cr_expect_eq(D.reg, 8, "the read-modify-write wrote %u, want 8 (once)", D.reg);
        vtx_stop st;
        vtx_class_set none = {0};
        cr_assert_eq(vtx_engine_run(D.e, 1000, none, false, &st), 0);
        cr_expect_eq(st.reason, VTX_STOP_HLT, "pass %d: reason %d", pass, st.reason);
        cr_expect_eq(st.retired, 4, "pass %d: retired %llu", pass, (unsigned long long)st.retired);
        cr_expect_eq(state().gpr[VTX_R_RBX], 8);
        cr_expect_eq(D.writes, 2);
    }
    vtx_engine_destroy(D.e);
    free(mem);
}
