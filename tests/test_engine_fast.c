/*
 * cpu/engine's fast path (the block hook and probes): stops, budgets and
 * exceptions inside a translation block land on the exact instruction with the
 * exact count; code the caller rewrote between runs runs rewritten.
 */
#include "engine_fixture.h"

/* ---- the fast path (block hook + probes): exact counts and stops ---- */

/* 64-bit loop at 0x20000: mov ecx,N; L: add eax,1; add ebx,eax; dec ecx; jnz L; <tail> */
static void put_loop(uint32_t n, const uint8_t *tail, size_t tail_len)
{
    static const uint8_t head[] = {0xb9, 0, 0, 0, 0, 0x83, 0xc0, 0x01, 0x01, 0xc3, 0xff, 0xc9, 0x75, 0xf7};
    uint8_t *p = R.mem + 0x20000;
    memcpy(p, head, sizeof head);
    memcpy(p + 1, &n, 4);
    memcpy(p + sizeof head, tail, tail_len);
    vtx_engine_invalidate(R.e);
}

Test(engine, fast_stop_lands_exactly)
{
    load("lm64");
    /* tail: add eax,1; cpuid (mid-block); hlt */
    const uint8_t tail[] = {0x83, 0xc0, 0x01, 0x0f, 0xa2, 0xf4};
    put_loop(100000, tail, sizeof tail);
    for (int round = 0; round < 3; round++) {
        vtx_cpu_state s = lm_state(0x20000, false);
        set(&s);
        vtx_stop st = run(0, C(CPUID), false);
        cr_assert_eq(st.reason, VTX_STOP_BEFORE, "reason %d", st.reason);
        cr_assert_eq(st.retired, 1 + 4 * 100000ull + 1, "retired %llu", (unsigned long long)st.retired);
        cr_assert_eq(rip(), 0x20000 + 14 + 3);
        cr_assert_eq(st.insn->cls, VTX_IC_CPUID);
        /* skip it: one instruction, then HLT */
        st = run(0, C(CPUID), true);
        cr_assert_eq(st.reason, VTX_STOP_HLT);
        cr_assert_eq(st.retired, 2);
    }
    /* STI at a known count, with the full model-like stop set */
    const uint8_t tail2[] = {0x90, 0x90, 0xfb, 0xf4};
    put_loop(5000, tail2, sizeof tail2);
    vtx_cpu_state s = lm_state(0x20000, false);
    set(&s);
    uint64_t all = ~(C(OTHER) | C(CLI)) & ((1ull << VTX_IC_COUNT) - 1);
    vtx_stop st = run(0, all, false);
    cr_assert_eq(st.reason, VTX_STOP_BEFORE);
    cr_assert_eq(st.insn->cls, VTX_IC_STI);
    cr_assert_eq(st.retired, 1 + 4 * 5000ull + 2);
    cr_assert_eq(rip(), 0x20000 + 14 + 2);
}

Test(engine, fast_budget_mid_block)
{
    load("lm64");
    const uint8_t tail[] = {0xf4};
    put_loop(1000, tail, 1);
    for (uint64_t max = 1; max <= 13; max++) {
        vtx_cpu_state s = lm_state(0x20000, false);
        set(&s);
        vtx_stop st = run(max, C(CPUID), false);
        cr_assert_eq(st.reason, VTX_STOP_COUNT);
        cr_assert_eq(st.retired, max);
        vtx_cpu_state a;
        vtx_engine_get_state(R.e, &a);
        /* instruction max+1 is next: the mov, then 4 per iteration */
        uint64_t k = (max - 1) % 4;
        static const uint8_t offs[] = {5, 8, 10, 12};
        cr_assert_eq(a.rip, 0x20000 + offs[k], "max %llu rip %#llx", (unsigned long long)max,
                     (unsigned long long)a.rip);
        cr_assert_eq(a.gpr[VTX_R_RCX], 1000 - (max - 1) / 4 - (k == 3 ? 1 : 0));
    }
    /* stepping one at a time adds up to the same count as one run */
    vtx_cpu_state s = lm_state(0x20000, false);
    set(&s);
    uint64_t n = 0;
    for (;;) {
        vtx_stop st = run(1, C(CPUID), false);
        n += st.retired;
        if (st.reason == VTX_STOP_HLT)
            break;
        cr_assert_eq(st.reason, VTX_STOP_COUNT);
        cr_assert_eq(st.retired, 1);
        cr_assert_lt(n, 10000u);
    }
    cr_assert_eq(n, 1 + 4 * 1000 + 1);
}

Test(engine, fast_exception_mid_block)
{
    load("lm64");
    /* tail: xor edx,edx; mov eax,1; div edx (#DE, 3rd of the tail block) */
    const uint8_t tail[] = {0x31, 0xd2, 0xb8, 0x01, 0, 0, 0, 0xf7, 0xf2, 0xf4};
    put_loop(300, tail, sizeof tail);
    for (int round = 0; round < 2; round++) {
        vtx_cpu_state s = lm_state(0x20000, false);
        set(&s);
        vtx_stop st = run(0, C(CPUID), false);
        cr_assert_eq(st.reason, VTX_STOP_EXCEPTION);
        cr_assert_eq(st.vector, 0);
        cr_assert_eq(rip(), 0x20000 + 14 + 7);
        cr_assert_eq(st.retired, 1 + 4 * 300 + 2, "retired %llu", (unsigned long long)st.retired);
        cr_assert_not_null(st.insn);
        cr_assert_eq(st.insn->rip, 0x20000 + 14 + 7);
    }
    /* INT3 mid-block: a trap, counted */
    const uint8_t tail2[] = {0x90, 0xcc, 0x90, 0xf4};
    put_loop(10, tail2, sizeof tail2);
    vtx_cpu_state s = lm_state(0x20000, false);
    set(&s);
    vtx_stop st = run(0, C(CPUID), false);
    cr_assert_eq(st.reason, VTX_STOP_EXCEPTION);
    cr_assert_eq(st.vector, 3);
    cr_assert(st.trap);
    cr_assert_eq(st.retired, 1 + 40 + 2);
    cr_assert_eq(rip(), 0x20000 + 14 + 2);
    /* HLT mid-block */
    const uint8_t tail3[] = {0x90, 0xf4, 0x90};
    put_loop(10, tail3, sizeof tail3);
    set(&s);
    st = run(0, C(CPUID), false);
    cr_assert_eq(st.reason, VTX_STOP_HLT);
    cr_assert_eq(st.retired, 1 + 40 + 2);
}

Test(engine, fast_code_modified_between_runs)
{
    load("lm64");
    const uint8_t tail[] = {0x90, 0x90, 0xf4};
    put_loop(50, tail, sizeof tail);
    vtx_cpu_state s = lm_state(0x20000, false);
    set(&s);
    vtx_stop st = run(0, C(CPUID), false);
    cr_assert_eq(st.reason, VTX_STOP_HLT);
    cr_assert_eq(st.retired, 1 + 200 + 3);
    /* the model turns the two NOPs into CPUID behind Unicorn's back */
    R.mem[0x20000 + 14] = 0x0f;
    R.mem[0x20000 + 15] = 0xa2;
    vtx_engine_invalidate(R.e);
    set(&s);
    st = run(0, C(CPUID), false);
    cr_assert_eq(st.reason, VTX_STOP_BEFORE);
    cr_assert_eq(st.retired, 1 + 200);
    cr_assert_eq(rip(), 0x20000 + 14);
    /* and back: a block of the same address and size, other bytes */
    R.mem[0x20000 + 14] = 0x90;
    R.mem[0x20000 + 15] = 0x90;
    vtx_engine_invalidate(R.e);
    set(&s);
    st = run(0, C(CPUID), false);
    cr_assert_eq(st.reason, VTX_STOP_HLT);
    cr_assert_eq(st.retired, 1 + 200 + 3);
}
