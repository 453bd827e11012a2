/* The standalone engine tests' common rig (test_engine_exits.c, _mode.c,
 * _blocks.c, _again.c, _movdr.c, _flags_sync.c, _step_stamps.c): cpu/engine on
 * its own over guest memory filled with HLT, and the CPU states they start
 * guests in. Everything here is static (inline), so each test file gets its own
 * copy; engine_fixture.h is the fixture of the "engine" suite's files, with
 * guest code from tests/guests/.
 */
#ifndef VTX_TEST_ENGINE_RIG_H
#define VTX_TEST_ENGINE_RIG_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/engine.h"

/* An engine over `size` bytes of guest memory at physical 0, filled with HLT
 * (stray execution ends there). */
static inline void rig_new(uint8_t **mem, vtx_engine **eng, size_t size)
{
    *mem = aligned_alloc(4096, size);
    cr_assert_not_null(*mem);
    memset(*mem, 0xf4, size);
    vtx_engine_region reg = {.pa = 0, .size = size, .host = *mem};
    cr_assert_eq(vtx_engine_create(eng, &reg, 1, NULL), 0);
}

static inline void rig_free(uint8_t *mem, vtx_engine *eng)
{
    vtx_engine_destroy(eng);
    free(mem);
}

/* A Criterion suite `name` whose tests each get a new engine over `size` bytes
 * (rig_new) in the file's `mem` and `eng`, freed after the test. */
#define RIG_SUITE(name, size)                                                                                      \
    static uint8_t *mem;                                                                                           \
    static vtx_engine *eng;                                                                                        \
    static void rig_suite_init(void) { rig_new(&mem, &eng, (size)); }                                              \
    static void rig_suite_fini(void) { rig_free(mem, eng); }                                                       \
    TestSuite(name, .init = rig_suite_init, .fini = rig_suite_fini)

/* Identity 4-level page tables at `at` (five pages): 4-KiB pages over the
 * first 4 MiB, supervisor only, writable. */
static inline void rig_identity_tables(uint8_t *mem, uint64_t at)
{
    uint64_t *pml4 = (uint64_t *)(void *)(mem + at), *pdpt = pml4 + 512, *pd = pdpt + 512, *pt = pd + 512;
    memset(pml4, 0, 4096 * 5);
    pml4[0] = (at + 0x1000) | 7;
    pdpt[0] = (at + 0x2000) | 7;
    for (int i = 0; i < 2; i++)
        pd[i] = (at + 0x3000 + 0x1000 * (uint64_t)i) | 7;
    for (int i = 0; i < 1024; i++)
        pt[i] = ((uint64_t)i << 12) | 3;
}

static inline void rig_seg(vtx_cpu_seg *s, uint16_t sel, uint32_t ar)
{
    s->sel = sel, s->base = 0, s->limit = 0xffffffff, s->ar = ar;
}

/* A flat 64-bit state at rip with flat segments at CPL `cpl` (0 or 3). cr3 0:
 * CR0.PG clear, the engine's linear addresses are physical; else 4-level
 * paging with its tables at cr3 (rig_identity_tables). */
static inline vtx_cpu_state rig_flat64(uint64_t rip, uint64_t cr3, unsigned cpl)
{
    vtx_cpu_state s;
    memset(&s, 0, sizeof s);
    s.rip = rip;
    s.rflags = 2;
    s.cr0 = cr3 ? 0x80000011 : 0x11;
    s.cr3 = cr3;
    s.cr4 = 0x20;
    s.efer = 0x500;
    s.gpr[VTX_R_RSP] = 0x8000;
    for (int i = 0; i < 6; i++)
        rig_seg(&s.seg[i], cpl ? 0x2b : 0x10, cpl ? 0xc0f3 : 0xc093);
    rig_seg(&s.seg[VTX_S_CS], cpl ? 0x23 : 0x08, cpl ? 0xa0fb : 0xa09b);
    rig_seg(&s.seg[VTX_S_LDTR], 0, 0x10000);
    rig_seg(&s.seg[VTX_S_TR], 0, 0x8b);
    s.seg[VTX_S_TR].limit = 0x67;
    s.gdtr_limit = 0xffff;
    s.idtr_limit = 0xfff;
    return s;
}

/* 64-bit code: mov ecx, 5; jmp $+2; A (at 7: four NOPs and jmp $+2, a block
 * of its own); dec ecx; jnz A; hlt at 0x11. A runs five times; the tests that
 * rewrite A between runs (ENG-CNT-1) start from it. */
static const uint8_t rig_loop_a[] = {
    0xb9, 0x05, 0x00, 0x00, 0x00,       /* 0x00 mov ecx, 5 */
    0xeb, 0x00,                         /* 0x05 jmp $+2 */
    0x90, 0x90, 0x90, 0x90, 0xeb, 0x00, /* 0x07 A */
    0xff, 0xc9, 0x75, 0xf6,             /* 0x0d dec ecx; jnz 0x07 */
    0xf4,                               /* 0x11 hlt */
};

/* 32-bit protected mode at CPL 0: flat data segments, CS at base cs_base, no
 * paging. */
static inline vtx_cpu_state rig_pm32(uint64_t eip, uint32_t cs_base)
{
    vtx_cpu_state s;
    memset(&s, 0, sizeof s);
    s.rip = eip;
    s.rflags = 2;
    s.cr0 = 0x11;
    s.gpr[VTX_R_RSP] = 0x8000;
    for (int i = 0; i < 6; i++)
        s.seg[i] = (vtx_cpu_seg){.sel = 0x10, .base = 0, .limit = 0xffffffff, .ar = 0xc093};
    s.seg[VTX_S_CS] = (vtx_cpu_seg){.sel = 0x08, .base = cs_base, .limit = 0xffffffff, .ar = 0xc09b};
    s.seg[VTX_S_LDTR] = (vtx_cpu_seg){.ar = 0x10000};
    s.seg[VTX_S_TR] = (vtx_cpu_seg){.limit = 0x67, .ar = 0x8b};
    s.idtr_limit = 0x3ff;
    s.gdtr_limit = 0xffff;
    return s;
}

#endif
