/*
 * cpu/engine in every mode: a loop in real, 16/32-bit protected and 64-bit mode
 * (with and without identity paging) runs and stops after HLT; the paging check
 * sees page tables rewritten through host pointers; the state round-trips
 * through Unicorn in every mode; CPL 3 entry and a far JMP through the GDT.
 */
#include "engine_fixture.h"

/* ---- each mode runs a loop and stops after HLT ---- */
static void loop_and_hlt(const vtx_cpu_state *s0, uint64_t end, uint64_t expect_rbx_lo16)
{
    for (int hooked = 0; hooked < 2; hooked++) {
        set(s0);
        vtx_stop st = run(0, hooked ? C(CPUID) : 0, false);
        cr_assert_eq(st.reason, VTX_STOP_HLT, "reason %d (%s)", st.reason, st.why ? st.why : "");
        cr_assert_eq(rip(), end, "rip %#llx want %#llx", (unsigned long long)rip(), (unsigned long long)end);
        cr_assert_not_null(st.insn);
        cr_assert_eq(st.insn->cls, VTX_IC_HLT);
        vtx_cpu_state a;
        vtx_engine_get_state(R.e, &a);
        cr_assert_eq(a.gpr[VTX_R_RBX] & 0xffff, expect_rbx_lo16);
        cr_assert_eq(a.gpr[VTX_R_RCX] & 0xffff, 0);
        cr_assert_eq(st.counted, hooked != 0);
        if (hooked)
            cr_assert_eq(st.retired, 2 + 100 * 4 + 1);
    }
}

Test(engine, real_mode_loop_hlt)
{
    load("rm16");
    for (int hooked = 0; hooked < 2; hooked++) {
        vtx_cpu_state s = real_state(R.tab[0]);
        set(&s);
        vtx_stop st = run(0, hooked ? C(CPUID) : 0, false);
        cr_assert_eq(st.reason, VTX_STOP_HLT, "reason %d %s", st.reason, st.why ? st.why : "");
        cr_assert_eq(rip(), R.tab[1]);
        vtx_cpu_state a;
        vtx_engine_get_state(R.e, &a);
        cr_assert_eq(a.gpr[VTX_R_RBX] & 0xffff, 5050);
        cr_assert_eq(st.counted, hooked != 0);
        if (hooked)
            cr_assert_eq(st.retired, 2 + 400 + 1);
    }
}

Test(engine, prot32_loop_hlt)
{
    load("pm");
    vtx_cpu_state s = pm_state(R.tab[0], true);
    loop_and_hlt(&s, R.tab[1], 5050);
}

Test(engine, prot16_loop_hlt)
{
    load("pm");
    vtx_cpu_state s = pm_state(R.tab[2], false);
    loop_and_hlt(&s, R.tab[3], 5050);
}

Test(engine, long64_loop_hlt_no_paging)
{
    load("lm64");
    vtx_cpu_state s = lm_state(R.tab[0], false);
    loop_and_hlt(&s, R.tab[1], 5050);
}

/* The paging check (Unicorn 2.0.1) is cached between loads but still sees a
 * table rewritten through the host pointer; it refuses non-identity mappings of
 * linear memory outside the regions too (Unicorn would report an access there
 * as unmapped, at the linear address, where the processor accesses the
 * physical one). */
Test(engine, paging_check_sees_host_pointer_writes)
{
    load("lm64");
    build_page_tables(0);
    vtx_cpu_state s = lm_state(R.tab[0], true);
    set(&s); /* identity: accepted, and the verdict cached */
    uint64_t *pt = (uint64_t *)(R.mem + PT_AT + 0x3000), *pd = (uint64_t *)(R.mem + PT_AT + 0x2000);
    pt[0x123] = 0x200000 | 3; /* linear 0x123000 -> physical 0x200000, inside the memory */
    const char *why = NULL;
    if (vtx_engine_translates_paging()) {
        set(&s); /* Unicorn 2.1: any mapping runs, nothing to check */
    } else {
        cr_assert_eq(vtx_engine_set_state(R.e, &s, &why), -1,
                     "a page table rewritten through the host pointer after the last check is refused");
        cr_assert_not_null(why);
        cr_assert_not_null(strstr(why, "identity"), "why: %s", why);
    }
    pt[0x123] = 0x123000 | 3;
    set(&s);
    pd[100] = 0x200000 | 0x83; /* linear 200 MiB -> physical 2 MiB: a 2-MiB page outside the 4-MiB memory */
    if (vtx_engine_translates_paging()) {
        set(&s);
    } else {
        /* Unicorn 2.0.1 would report an access there as unmapped (at the linear
         * address) where the processor reads physical 2 MiB: refused too. */
        why = NULL;
        cr_assert_eq(vtx_engine_set_state(R.e, &s, &why), -1, "a non-identity mapping outside memory is refused");
        cr_assert_not_null(why);
        cr_assert_not_null(strstr(why, "identity"), "why: %s", why);
        pd[100] = (100ull << 21) | 0x83; /* the identity: accepted (and an access there is unmapped) */
        set(&s);
    }
    cr_assert_eq(run(0, 0, false).reason, VTX_STOP_HLT, "the guest still runs to its HLT");
}

Test(engine, long64_identity_paging)
{
    load("lm64");
    build_page_tables(0);
    vtx_cpu_state s = lm_state(R.tab[0], true);
    loop_and_hlt(&s, R.tab[1], 5050);
    /* a non-identity mapping is refused with a reason on Unicorn 2.0.1, never
     * run wrongly (Unicorn 2.1 runs it: test_guest_paging.c) */
    build_page_tables(R.tab[33]);
    s = lm_state(R.tab[0], true);
    const char *why = NULL;
    if (!vtx_engine_translates_paging()) {
        cr_assert_eq(vtx_engine_set_state(R.e, &s, &why), -1);
        cr_assert_not_null(why);
        cr_assert_not_null(strstr(why, "identity"));
    }
    build_page_tables(0);
    vtx_stop st;
    /* #PF: CR2 and error code (write to a not-present page) */
    s = lm_state(R.tab[29], true);
    set(&s);
    st = run(0, 0, false);
    cr_assert_eq(st.reason, VTX_STOP_EXCEPTION);
    cr_assert_eq(st.vector, 14);
    cr_assert(st.has_error_code);
    cr_assert_eq(st.error_code, 2, "error code %#x", st.error_code);
    cr_assert_eq(st.address, 0x3ff000, "cr2 %#llx", (unsigned long long)st.address);
    cr_assert_eq(rip(), R.tab[30]);
    vtx_cpu_state a;
    vtx_engine_get_state(R.e, &a);
    cr_assert_eq(a.cr2, 0x3ff000);
}

/* ---- state round trips ---- */
static void fill_odd(vtx_cpu_state *s)
{
    for (int i = 0; i < VTX_R_COUNT; i++)
        s->gpr[i] = 0x0101010101010101ull * (uint64_t)(i + 1);
    s->rflags |= 0x2 | 0x1 | 0x4 | 0x40 | 0x80 | 0x800 | 0x400;
    s->cr2 = 0xdeadb000;
    s->cr8 = 5;
    s->dr7 = 0x400;
}

static void expect_same(const vtx_cpu_state *a, const vtx_cpu_state *b)
{
    for (int i = 0; i < VTX_R_COUNT; i++)
        cr_assert_eq(a->gpr[i], b->gpr[i], "gpr %d", i);
    cr_assert_eq(a->rip, b->rip);
    cr_assert_eq(a->rflags, b->rflags, "rflags %#llx %#llx", (unsigned long long)a->rflags,
                 (unsigned long long)b->rflags);
    cr_assert_eq(a->cr0, b->cr0);
    cr_assert_eq(a->cr2, b->cr2);
    cr_assert_eq(a->cr3, b->cr3);
    cr_assert_eq(a->cr4, b->cr4);
    cr_assert_eq(a->cr8, b->cr8);
    cr_assert_eq(a->efer, b->efer);
    cr_assert_eq(a->dr7, b->dr7);
    for (int i = 0; i < VTX_S_COUNT; i++) {
        cr_assert_eq(a->seg[i].sel, b->seg[i].sel, "seg %d", i);
        cr_assert_eq(a->seg[i].base, b->seg[i].base, "seg %d", i);
        cr_assert_eq(a->seg[i].limit, b->seg[i].limit, "seg %d", i);
        cr_assert_eq(a->seg[i].ar, b->seg[i].ar, "seg %d ar %#x %#x", i, a->seg[i].ar, b->seg[i].ar);
    }
    cr_assert_eq(a->gdtr_base, b->gdtr_base);
    cr_assert_eq(a->gdtr_limit, b->gdtr_limit);
    cr_assert_eq(a->idtr_base, b->idtr_base);
    cr_assert_eq(a->idtr_limit, b->idtr_limit);
}

static void round_trip(vtx_cpu_state *s, vtx_cpu_mode mode)
{
    fill_odd(s);
    cr_assert_eq(vtx_cpu_mode_of(s), mode);
    set(s);
    vtx_cpu_state b;
    cr_assert_eq(vtx_engine_get_state(R.e, &b), 0);
    expect_same(s, &b);
}

Test(engine, round_trip_every_mode)
{
    load("lm64");
    vtx_cpu_state s = real_state(0x1234);
    s.seg[VTX_S_DS].base = 0x12340; /* a cache that is not sel<<4 (unreal mode) */
    s.seg[VTX_S_DS].limit = 0xffffffff;
    round_trip(&s, VTX_MODE_REAL);
    s = pm_state(0x2000, false);
    round_trip(&s, VTX_MODE_PROT16);
    s = pm_state(0x2000, true);
    s.seg[VTX_S_ES].base = 0xabc000; /* not what the GDT says */
    s.seg[VTX_S_FS].ar = 0x10000 | 0x93;   /* unusable with junk bits */
    round_trip(&s, VTX_MODE_PROT32);
    s = lm_state(0xffff800000001000ull, true);
    s.seg[VTX_S_FS].base = 0xffff888000000000ull;
    s.seg[VTX_S_GS].base = 0x7fff00001000ull;
    s.seg[VTX_S_TR].base = 0xffff800000002000ull;
    s.cr4 |= 0x80 | 0x200;
    s.efer |= 0x800 | 1;
    round_trip(&s, VTX_MODE_LONG64);
    s.seg[VTX_S_CS].ar = 0xc09b; /* compatibility mode */
    s.rip = 0x1000;
    round_trip(&s, VTX_MODE_COMPAT);
    cr_assert_eq(vtx_cpu_cpl(&s), 0);
    s = pm_state(0x1000, true);
    s.rflags |= 1u << 17;
    for (int i = 0; i < 6; i++)
        seg(&s.seg[i], 0x100, 0x1000, 0xffff, 0xf3);
    round_trip(&s, VTX_MODE_V8086);
    cr_assert_eq(vtx_cpu_cpl(&s), 3);
    /* refused: IA-32e with paging but no PAE */
    s = lm_state(0, true);
    s.cr4 = 0;
    const char *why = NULL;
    cr_assert_eq(vtx_engine_set_state(R.e, &s, &why), -1);
    cr_assert_not_null(why);
}

Test(engine, cpl3_entry_and_gdt_far_jump)
{
    load("pm");
    /* CPL 3 (SS.DPL = CS.DPL = 3): CLI must #GP */
    vtx_cpu_state s = pm_state(R.tab[14], true);
    seg(&s.seg[VTX_S_CS], 0x23, 0, 0xffffffff, 0xc0fb);
    for (int i = 0; i < 6; i++)
        if (i != VTX_S_CS)
            seg(&s.seg[i], 0x2b, 0, 0xffffffff, 0xc0f3);
    set(&s);
    cr_assert_eq(vtx_cpu_cpl(&s), 3);
    vtx_stop st = run(0, 0, false);
    cr_assert_eq(st.reason, VTX_STOP_EXCEPTION);
    cr_assert_eq(st.vector, 13);
    cr_assert_eq(st.error_code, 0);
    cr_assert_eq(rip(), R.tab[14]);
    vtx_cpu_state a;
    vtx_engine_get_state(R.e, &a);
    cr_assert_eq(a.seg[VTX_S_SS].ar, 0xc0f3);
    /* CPL 0 with CS from the state, then a far jump loads CS from the guest GDT */
    s = pm_state(R.tab[12], true);
    s.seg[VTX_S_CS].base = 0; /* matches */
    s.seg[VTX_S_DS].base = 0x5000; /* stale cache, reloaded by the guest */
    set(&s);
    st = run(0, C(CPUID), false);
    cr_assert_eq(st.reason, VTX_STOP_HLT);
    cr_assert_eq(rip(), R.tab[13]);
    vtx_engine_get_state(R.e, &a);
    cr_assert_eq(a.seg[VTX_S_CS].sel, 0x08);
    cr_assert_eq(a.seg[VTX_S_DS].sel, 0x10);
    cr_assert_eq(a.seg[VTX_S_DS].base, 0);
    cr_assert_eq(a.seg[VTX_S_DS].ar & 0xf0ff, 0xc093);
}
