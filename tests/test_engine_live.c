/*
 * cpu/engine_state.c ("Live state"): on every Unicorn version the project
 * supports (2.0.1 on Debian 12, 2.1.1 on Debian 13) the engine finds Unicorn's
 * own CPUX86State at vtx_engine_create, so state transfer and RFLAGS (ENG-FL-1)
 * work in place instead of through context copies and the register API. The
 * engine falls back to copying when the search fails, which keeps every other
 * test passing: this test is what shows that a new Unicorn broke the search.
 * It reaches the engine's internals (docs/architecture.md, "Tests that use
 * internal headers").
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/engine_internal.h"

#define MEM_SIZE (1u << 20)

static vtx_engine *new_engine(uint8_t **mem)
{
    *mem = aligned_alloc(4096, MEM_SIZE);
    cr_assert_not_null(*mem);
    memset(*mem, 0xf4, MEM_SIZE); /* HLT */
    vtx_engine_region reg = {.pa = 0, .size = MEM_SIZE, .host = *mem};
    vtx_engine *e;
    cr_assert_eq(vtx_engine_create(&e, &reg, 1, NULL), 0);
    return e;
}

/* The live state holds what Unicorn's register API reports. */
static void assert_live_is_unicorns(vtx_engine *e)
{
    static const int ids[] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RSP, UC_X86_REG_R15};
    static const size_t idx[] = {0, 1, 4, 15};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        uint64_t v = 0;
        cr_assert_eq(uc_reg_read(e->uc, ids[i], &v), UC_ERR_OK);
        cr_assert_eq(rd64(e->live, ENV_REGS + 8 * idx[i]), v, "GPR %zu: live 0x%llx, Unicorn 0x%llx", idx[i],
                     (unsigned long long)rd64(e->live, ENV_REGS + 8 * idx[i]), (unsigned long long)v);
    }
    uint64_t rip = 0;
    cr_assert_eq(uc_reg_read(e->uc, UC_X86_REG_RIP, &rip), UC_ERR_OK);
    cr_assert_eq(rd64(e->live, ENV_EIP), rip);
}

Test(engine_live, the_engine_finds_unicorns_live_cpu_state_on_this_unicorn)
{
    uint8_t *mem;
    vtx_engine *e = new_engine(&mem);
    cr_assert_not_null(e->live, "Unicorn %s: the engine did not find Unicorn's live CPU state (it copies contexts)",
                       VTX_UC_VERSION_STRING);
    cr_assert(e->flags_live, "Unicorn %s: RFLAGS from the live lazy flags disagrees with Unicorn's",
              VTX_UC_VERSION_STRING);
    assert_live_is_unicorns(e);

    /* A state loaded through the engine is in the live state, and a run from it
     * (HLT at RIP 0x1000) leaves Unicorn's registers there too. */
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(e, &s), 0);
    for (int i = 0; i < VTX_R_COUNT; i++)
        s.gpr[i] = 0x1234567800000000ull + (uint64_t)i;
    s.rip = 0x1000;
    cr_assert_eq(vtx_engine_set_state(e, &s, NULL), 0);
    assert_live_is_unicorns(e);
    cr_assert_eq(rd64(e->live, ENV_REGS + 8 * VTX_R_RDX), 0x1234567800000002ull);
    vtx_engine_destroy(e);
    free(mem);
}

Test(engine_live, a_second_engine_finds_its_own_live_state)
{
    /* The second create takes the remembered offsets: they must lead to its
     * own Unicorn's state, not the first one's. */
    uint8_t *m1, *m2;
    vtx_engine *a = new_engine(&m1), *b = new_engine(&m2);
    cr_assert_not_null(a->live);
    cr_assert_not_null(b->live);
    cr_assert_neq(a->live, b->live);
    assert_live_is_unicorns(a);
    assert_live_is_unicorns(b);
    vtx_engine_destroy(b);
    vtx_engine_destroy(a);
    free(m2);
    free(m1);
}
