/* Shared static fixture of the engine tests (test_engine_modes.c, _stops.c,
 * _faults.c, _fast.c; one Criterion suite "engine"): cpu/engine on its own, on
 * 4 MiB of guest memory filled with HLT. Guest code: tests/guests/<name>.asm,
 * assembled into VTX_GUEST_DIR; each binary starts with a table of label
 * addresses (dq) at its org (0x1000). Everything here is static (inline) so each
 * test file gets its own copy.
 */
#ifndef VTX_TEST_ENGINE_FIXTURE_H
#define VTX_TEST_ENGINE_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/engine.h"
#include "covers.h"

#define MEM_SIZE (4u << 20)
#define GUEST_AT 0x1000u
#define PT_AT 0x100000u /* page tables built by the tests */

typedef struct rig {
    uint8_t *mem;
    vtx_engine *e;
    uint64_t tab[64];
} rig;

static rig R;

static inline void rig_init(void)
{
    R.mem = aligned_alloc(4096, MEM_SIZE);
    cr_assert_not_null(R.mem);
    memset(R.mem, 0xf4, MEM_SIZE); /* stray execution ends in HLT */
    vtx_engine_region reg = {.pa = 0, .size = MEM_SIZE, .host = R.mem};
    cr_assert_eq(vtx_engine_create(&R.e, &reg, 1, NULL), 0);
}

static inline void rig_fini(void)
{
    vtx_engine_destroy(R.e);
    free(R.mem);
}

static inline void load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", VTX_GUEST_DIR, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s", path);
    size_t n = fread(R.mem + GUEST_AT, 1, MEM_SIZE - GUEST_AT - 0x200000, f);
    fclose(f);
    cr_assert_gt(n, 256u);
    memcpy(R.tab, R.mem + GUEST_AT, sizeof R.tab);
}

static inline void seg(vtx_cpu_seg *s, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    s->sel = sel, s->base = base, s->limit = limit, s->ar = ar;
}

static inline vtx_cpu_state real_state(uint64_t ip)
{
    vtx_cpu_state s;
    memset(&s, 0, sizeof s);
    s.rip = ip;
    s.rflags = 2;
    s.cr0 = 0x10;
    s.gpr[VTX_R_RSP] = 0x8000;
    for (int i = 0; i < 6; i++)
        seg(&s.seg[i], 0, 0, 0xffff, i == VTX_S_CS ? 0x9b : 0x93);
    seg(&s.seg[VTX_S_LDTR], 0, 0, 0xffff, 0x82);
    seg(&s.seg[VTX_S_TR], 0, 0, 0xffff, 0x8b);
    s.idtr_limit = 0x3ff;
    s.gdtr_limit = 0xffff;
    return s;
}

static inline vtx_cpu_state pm_state(uint64_t eip, bool d32)
{
    vtx_cpu_state s = real_state(eip);
    s.cr0 = 0x11;
    s.gpr[VTX_R_RSP] = 0x8000;
    for (int i = 0; i < 6; i++)
        seg(&s.seg[i], 0x10, 0, 0xffffffff, 0xc093);
    if (d32)
        seg(&s.seg[VTX_S_CS], 0x08, 0, 0xffffffff, 0xc09b);
    else
        seg(&s.seg[VTX_S_CS], 0x18, 0, 0xffff, 0x9b);
    seg(&s.seg[VTX_S_LDTR], 0, 0, 0, 0x10000);
    seg(&s.seg[VTX_S_TR], 0, 0, 0x67, 0x8b);
    s.gdtr_base = R.tab[4];
    s.gdtr_limit = (uint32_t)(R.tab[5] - R.tab[4] - 1);
    return s;
}

static inline vtx_cpu_state lm_state(uint64_t rip, bool paging)
{
    vtx_cpu_state s = real_state(rip);
    s.cr0 = paging ? 0x80000011 : 0x11;
    s.cr4 = 0x20;
    s.efer = 0x500;
    s.cr3 = paging ? PT_AT : 0;
    s.gpr[VTX_R_RSP] = 0x8000;
    for (int i = 0; i < 6; i++)
        seg(&s.seg[i], 0x10, 0, 0xffffffff, 0xc093);
    seg(&s.seg[VTX_S_CS], 0x08, 0, 0xffffffff, 0xa09b);
    seg(&s.seg[VTX_S_LDTR], 0, 0, 0, 0x10000);
    seg(&s.seg[VTX_S_TR], 0, 0, 0x67, 0x8b);
    s.gdtr_base = R.tab[31];
    s.gdtr_limit = (uint32_t)(R.tab[32] - R.tab[31] - 1);
    return s;
}

/* Identity-map the first 4 MiB with 4-KiB pages (4 levels), linear 0x3ff000
 * not present, and (if alias_pa) linear 0x300000 -> physical alias_pa, which
 * Unicorn 2.0.1 cannot run (it accesses physical == linear). */
static inline void build_page_tables(uint64_t alias_pa)
{
    uint64_t *pml4 = (uint64_t *)(R.mem + PT_AT), *pdpt = pml4 + 512, *pd = pdpt + 512, *pt = pd + 512;
    memset(pml4, 0, 4096 * 5);
    pml4[0] = (PT_AT + 0x1000) | 3;
    pdpt[0] = (PT_AT + 0x2000) | 3;
    for (int i = 0; i < 2; i++)
        pd[i] = (PT_AT + 0x3000 + 0x1000 * (uint64_t)i) | 3;
    for (int i = 0; i < 1024; i++)
        pt[i] = ((uint64_t)i << 12) | 3;
    if (alias_pa)
        pt[0x300] = alias_pa | 3;
    pt[0x3ff] = 0;
}

static inline void set(const vtx_cpu_state *s)
{
    const char *why = NULL;
    int rc = vtx_engine_set_state(R.e, s, &why);
    cr_assert_eq(rc, 0, "set_state: %s", why ? why : "?");
}

static inline uint64_t rip(void)
{
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(R.e, &s), 0);
    return s.rip;
}

static inline vtx_stop run(uint64_t max, uint64_t classes, bool skip)
{
    vtx_stop st;
    vtx_class_set cs = {classes};
    cr_assert_eq(vtx_engine_run(R.e, max, cs, skip, &st), 0);
    return st;
}

#define C(x) (1ull << VTX_IC_##x)

TestSuite(engine, .init = rig_init, .fini = rig_fini);

#endif
