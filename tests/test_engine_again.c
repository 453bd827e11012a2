/*
 * cpu/engine: a run that starts where the last one stopped before an instruction
 * of its stop set ends there at once, without entering Unicorn (stops_again in
 * cpu/engine.c); anything that could make Unicorn do otherwise makes it run for
 * real: other bytes at that address (written through the host pointer), a full
 * state load (here: CPL 3, whose fetch from a supervisor page faults), a TLB
 * flush after the code's page-table entry was cleared (the engine's generation
 * changes, and the flush clears the memo as well), a stop set without the
 * instruction. Each of the three guards was removed in turn to see its test fail.
 */
#include "covers.h"
#include "engine_rig.h"

#define MEM_SIZE (4u << 20)
#define PT_AT 0x100000u
#define CODE 0x20000u
#define C(x) (1ull << VTX_IC_##x)

static uint8_t *mem;
static vtx_engine *eng;

static void init(void)
{
    rig_new(&mem, &eng, MEM_SIZE);
    rig_identity_tables(mem, PT_AT);
    /* nop; cpuid; hlt */
    static const uint8_t code[] = {0x90, 0x0f, 0xa2, 0xf4};
    memcpy(mem + CODE, code, sizeof code);
}

static void fini(void)
{
    rig_free(mem, eng);
}

TestSuite(engine_again, .init = init, .fini = fini);

/* A flat 64-bit state at rip, identity paging, CPL cpl. */
static vtx_cpu_state state(uint64_t rip, unsigned cpl)
{
    return rig_flat64(rip, PT_AT, cpl);
}

static void set(const vtx_cpu_state *s)
{
    const char *why = NULL;
    cr_assert_eq(vtx_engine_set_state(eng, s, &why), 0, "set_state: %s", why ? why : "?");
}

static vtx_stop run(uint64_t classes)
{
    vtx_stop st;
    cr_assert_eq(vtx_engine_run(eng, 0, (vtx_class_set){classes}, false, &st), 0);
    return st;
}

static uint64_t rip(void)
{
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
    return s.rip;
}

/* Stop before the CPUID after the NOP: the run every test starts with. */
static void stop_before_cpuid(void)
{
    vtx_cpu_state s = state(CODE, 0);
    set(&s);
    vtx_stop st = run(C(CPUID));
    cr_assert_eq(st.reason, VTX_STOP_BEFORE);
    cr_assert_eq(st.retired, 1);
    cr_assert_eq(rip(), CODE + 1);
}

Test(engine_again, stops_again_before_the_same_instruction)
{
    stop_before_cpuid();
    for (int i = 0; i < 3; i++) {
        vtx_stop st = run(C(CPUID) | C(HLT));
        cr_assert_eq(st.reason, VTX_STOP_BEFORE);
        cr_assert_eq(st.retired, 0);
        cr_assert_not_null(st.insn);
        cr_assert_eq(st.insn->cls, VTX_IC_CPUID);
        cr_assert_eq(rip(), CODE + 1);
    }
    /* a stop set without CPUID: it runs, then the HLT */
    vtx_stop st = run(C(HLT));
    cr_assert_eq(st.reason, VTX_STOP_BEFORE);
    cr_assert_eq(st.retired, 1);
    cr_assert_eq(st.insn->cls, VTX_IC_HLT);
    cr_assert_eq(rip(), CODE + 3);
}

Test(engine_again, other_bytes_written_through_the_host_pointer_run)
{
    stop_before_cpuid();
    mem[CODE + 1] = 0x90; /* CPUID becomes two NOPs */
    mem[CODE + 2] = 0x90;
    vtx_stop st = run(C(CPUID));
    cr_assert_eq(st.reason, VTX_STOP_HLT, "reason %d", st.reason);
    cr_assert_eq(st.retired, 3);
}

Test(engine_again, a_full_state_load_fetches_again)
{
    stop_before_cpuid();
    /* the same linear address at CPL 3: the page is supervisor-only, so the
     * fetch faults (#PF, error code: user, instruction fetch, present) */
    vtx_cpu_state s = state(CODE + 1, 3);
    set(&s);
    vtx_stop st = run(C(CPUID));
    cr_assert_eq(st.reason, VTX_STOP_EXCEPTION, "reason %d", st.reason);
    cr_assert_eq(st.vector, 14);
    cr_assert_eq(st.error_code & 5, 5);
    cr_assert_eq(st.address, CODE + 1);
}

Test(engine_again, a_tlb_flush_after_the_code_page_went_away_faults)
{
    stop_before_cpuid();
    uint64_t *pt = (uint64_t *)(mem + PT_AT + 0x3000);
    pt[CODE >> 12] = 0; /* not present, through the host pointer */
    vtx_cpu_state s = state(CODE + 1, 0);
    set(&s); /* the paging check sees the table changed */
    vtx_engine_flush_tlb(eng);
    vtx_stop st = run(C(CPUID));
    cr_assert_eq(st.reason, VTX_STOP_EXCEPTION, "reason %d", st.reason);
    cr_assert_eq(st.vector, 14);
    cr_assert_eq(st.address, CODE + 1);
}
