/*
 * cpu/engine: the block hook's fast path counts a block from its cache entry
 * without reading guest memory (cpu/engine_blocks.c, "Block tags"). These tests
 * change a block's instructions while keeping its address and size (the cache
 * key): the count must follow the instructions that run, whoever writes them:
 * the guest itself (Unicorn translates again), the caller between two runs, or
 * the caller's MMIO callback in the middle of a run (Unicorn does not see these
 * two writes). The retired count is the observable: it is what the model's
 * cycle clock and instruction budgets are built on (ENG-CNT-1).
 */
#include "covers.h"
#include "engine_rig.h"

#define MEM_SIZE (4u << 20)
#define CODE 0x20000u
#define MMIO_PA 0x600000u /* above the RAM: the MMIO window */

RIG_SUITE(engine_blocks, MEM_SIZE);

/* A flat 64-bit state at rip (long mode, paging off: linear == physical; the
 * GDT is not used by these guests). */
/* A flat 64-bit state at rip (paging off: linear == physical). */
static vtx_cpu_state flat64(uint64_t rip)
{
    return rig_flat64(rip, 0, 0);
}

/* Run from CODE to the HLT at its end, nothing to stop before (the fast path). */
static uint64_t run_to_hlt(void)
{
    vtx_cpu_state s = flat64(CODE);
    cr_assert_eq(vtx_engine_set_state(eng, &s, NULL), 0);
    vtx_stop st;
    vtx_class_set none = {1ull << VTX_IC_CPUID}; /* never comes: counted, on the fast path */
    cr_assert_eq(vtx_engine_run(eng, 0, none, false, &st), 0);
    cr_assert_eq(st.reason, VTX_STOP_HLT, "reason %d", (int)st.reason);
    return st.retired;
}

/* Block A: four NOPs and a JMP to the next byte (5 instructions, 6 bytes); A2:
 * two 2-byte NOPs and the JMP (3 instructions, the same 6 bytes). */
static const uint8_t block_a[6] = {0x90, 0x90, 0x90, 0x90, 0xeb, 0x00};
static const uint8_t block_a2[6] = {0x66, 0x90, 0x66, 0x90, 0xeb, 0x00};

/* The guest rewrites block A into A2 (same address, same size, two instructions
 * fewer) from another block in each pass of a 4-pass loop. Unicorn translates A
 * again; the new translation must not be counted from A's cache entry. */
Test(engine_blocks, guest_rewrite_same_size_counts_new_instructions)
{
    VTX_COVERS("ENG-CNT-1");
    static const uint8_t code[] = {
        0xb9, 0x04, 0x00, 0x00, 0x00,                               /* 0x00 mov ecx, 4 */
        0xeb, 0x00,                                                 /* 0x05 jmp $+2 (A is a block of its own) */
        0x90, 0x90, 0x90, 0x90, 0xeb, 0x00,                         /* 0x07 A */
        0xc7, 0x05, 0xf0, 0xff, 0xff, 0xff, 0x66, 0x90, 0x66, 0x90, /* 0x0d mov dword [rip-0x10], A2 */
        0xeb, 0x00,                                                 /* 0x17 jmp $+2 */
        0xff, 0xc9, 0x75, 0xea,                                     /* 0x19 dec ecx; jnz 0x07 */
        0xf4,                                                       /* 0x1d hlt */
    };
    memcpy(mem + CODE, code, sizeof code);
    /* the first pass runs A (5), the next three A2 (3); 2 + 2 after it; mov, jmp and hlt */
    uint64_t n = run_to_hlt();
    cr_assert_eq(n, 2 + (5 + 4) + 3 * (3 + 4) + 1, "retired %llu", (unsigned long long)n);
    cr_assert_eq(memcmp(mem + CODE + 7, block_a2, sizeof block_a2), 0);
    /* once more from A: the engine's entry for the block is A2's now */
    memcpy(mem + CODE + 7, block_a, sizeof block_a);
    n = run_to_hlt();
    cr_assert_eq(n, 2 + (5 + 4) + 3 * (3 + 4) + 1, "second run: retired %llu", (unsigned long long)n);
}

/* The caller rewrites A into A2 through its host pointer between two runs,
 * without vtx_engine_invalidate: Unicorn keeps its translation of A, the engine
 * must see the change (and have the block translated again). */
Test(engine_blocks, host_rewrite_between_runs_counts_new_instructions)
{
    VTX_COVERS("ENG-CNT-1");
    memcpy(mem + CODE, rig_loop_a, sizeof rig_loop_a);
    uint64_t n = run_to_hlt();
    cr_assert_eq(n, 2 + 5 * (5 + 2) + 1, "retired %llu", (unsigned long long)n);
    memcpy(mem + CODE + 7, block_a2, sizeof block_a2);
    n = run_to_hlt();
    cr_assert_eq(n, 2 + 5 * (3 + 2) + 1, "after the host's rewrite: retired %llu", (unsigned long long)n);
    memcpy(mem + CODE + 7, block_a, sizeof block_a);
    n = run_to_hlt();
    cr_assert_eq(n, 2 + 5 * (5 + 2) + 1, "after the host's rewrite back: retired %llu", (unsigned long long)n);
}

/* The caller's MMIO read callback rewrites A into A2 through the host pointer in
 * the middle of a run (a device model writing guest memory): the rest of the run
 * counts, and runs, A2. */
static uint64_t patch_on_read(void *user, uint64_t offset, unsigned size)
{
    (void)user, (void)offset, (void)size;
    memcpy(mem + CODE + 7, block_a2, sizeof block_a2);
    return 0;
}

Test(engine_blocks, mmio_callback_rewrite_counts_new_instructions)
{
    VTX_COVERS("ENG-CNT-1");
    cr_assert_eq(vtx_engine_map_mmio(eng, MMIO_PA, 0x1000, patch_on_read, NULL, NULL), 0);
    static const uint8_t code[] = {
        0xb9, 0x04, 0x00, 0x00, 0x00,             /* 0x00 mov ecx, 4 */
        0xeb, 0x00,                               /* 0x05 jmp $+2 */
        0x90, 0x90, 0x90, 0x90, 0xeb, 0x00,       /* 0x07 A */
        0x8b, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, /* 0x0d mov eax, [0x600000] (the callback rewrites A) */
        0xff, 0xc9, 0x75, 0xef,                   /* 0x14 dec ecx; jnz 0x07 */
        0xf4,                                     /* 0x18 hlt */
    };
    memcpy(mem + CODE, code, sizeof code);
    uint64_t n = run_to_hlt();
    cr_assert_eq(n, 2 + (5 + 3) + 3 * (3 + 3) + 1, "retired %llu", (unsigned long long)n);
    cr_assert_eq(memcmp(mem + CODE + 7, block_a2, sizeof block_a2), 0);
}

/* QEMU keeps a translation per address and mode flags: with RFLAGS.TF set it
 * translates the block at CODE as one instruction, without it as the whole
 * block, and keeps both; the block cache records one size per address. After a
 * run with TF (the one-instruction block recorded last), the caller rewrites
 * the block past its first instruction through the host pointer: the next run,
 * without TF, must run and count the new instructions, not QEMU's translation
 * of the old whole block (found by the guest fuzz target on Unicorn 2.1.1,
 * tests/fuzz/guest/regress-unicorn21-reuse-*.bin). */
Test(engine_blocks, host_rewrite_after_a_run_with_another_block_size_counts_new_instructions)
{
    VTX_COVERS("ENG-CNT-1");
    static const uint8_t old_code[] = {0x90, 0x90, 0x90, 0x90, 0xf4};       /* 4 NOPs, HLT */
    static const uint8_t new_code[] = {0x90, 0x66, 0x90, 0x66, 0x90, 0xf4}; /* NOP, 2 2-byte NOPs, HLT */
    memcpy(mem + CODE, old_code, sizeof old_code);
    cr_assert_eq(run_to_hlt(), 5);
    /* with TF: the first NOP, then the single-step trap */
    vtx_cpu_state s = flat64(CODE);
    s.rflags = 0x102;
    cr_assert_eq(vtx_engine_set_state(eng, &s, NULL), 0);
    vtx_stop st;
    vtx_class_set none = {1ull << VTX_IC_CPUID};
    cr_assert_eq(vtx_engine_run(eng, 0, none, false, &st), 0);
    cr_assert_eq(st.reason, VTX_STOP_EXCEPTION, "reason %d", (int)st.reason);
    cr_assert_eq(st.vector, 1);
    memcpy(mem + CODE, new_code, sizeof new_code);
    uint64_t n = run_to_hlt();
    cr_assert_eq(n, 4, "after the host's rewrite: retired %llu", (unsigned long long)n);
    cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
    cr_assert_eq(s.rip, CODE + sizeof new_code, "rip %#llx", (unsigned long long)s.rip);
}

/* Run from CODE with an instruction budget; the stop must be exact. */
/* Eight INC RAX (3 bytes each) and a JMP back at CODE: one block of 9 instructions. */
static void write_inc_loop(void)
{
    for (int i = 0; i < 8; i++)
        memcpy(mem + CODE + 3 * i, (const uint8_t[]){0x48, 0xff, 0xc0}, 3);
    memcpy(mem + CODE + 24, (const uint8_t[]){0xeb, 0xe6}, 2); /* jmp CODE */
}

static void run_budget(uint64_t budget, uint64_t want_rip)
{
    vtx_cpu_state s = flat64(CODE);
    cr_assert_eq(vtx_engine_set_state(eng, &s, NULL), 0);
    vtx_stop st;
    vtx_class_set none = {1ull << VTX_IC_CPUID};
    cr_assert_eq(vtx_engine_run(eng, budget, none, false, &st), 0);
    cr_assert_eq(st.reason, VTX_STOP_COUNT, "reason %d", (int)st.reason);
    cr_assert_eq(st.retired, budget, "retired %llu, want %llu", (unsigned long long)st.retired,
                 (unsigned long long)budget);
    vtx_cpu_state out;
    vtx_engine_get_state(eng, &out);
    cr_assert_eq(out.rip, want_rip, "RIP 0x%llx, want 0x%llx", (unsigned long long)out.rip,
                 (unsigned long long)want_rip);
}

/* A budget that ends inside a block leaves a probe at the instruction where it
 * ended; one no run has armed for 256 runs goes (it would cost a hook call at
 * every execution of its instruction for ever), and a budget ending there again
 * still stops exactly (ENG-PRB-1, ENG-CNT-1). */
Test(engine_blocks, unused_probe_is_dropped_and_a_budget_still_stops_exactly)
{
    VTX_COVERS("ENG-PRB-1", "ENG-CNT-1");
    write_inc_loop();
    run_budget(3, CODE + 9);
    cr_assert_eq(vtx_engine_probe_count(eng), 1, "a probe at the budget's end: %u", vtx_engine_probe_count(eng));
    for (int i = 0; i < 300; i++)
        run_budget(9, CODE); /* whole passes of the block: no probe armed */
    cr_assert_eq(vtx_engine_probe_count(eng), 0, "the unused probe is still there");
    run_budget(3, CODE + 9);
    run_budget(12, CODE + 9);
    cr_assert_eq(vtx_engine_probe_count(eng), 1);
}

/* ENG-PRB-2: a one-instruction budget is a step over an instruction the
 * caller stopped before (the model steps SMSW, POPF, IRET ... so, and every
 * instruction under MTF or in an STI shadow while an event is armed): the step
 * ends at the same place whenever the code passes there again, so its probe
 * keeps ENG-PRB-1's age instead of going at the next run (which cost two
 * translations of the block per step: the guest fuzz target's inputs that loop
 * through an SMSW were translated 10 000 times over). Every stop is exact. */
Test(engine_blocks, one_instruction_step_probe_stays_for_the_next_step)
{
    VTX_COVERS("ENG-PRB-2", "ENG-PRB-1", "ENG-CNT-1", "ENG-PRB-3");
    write_inc_loop();
    run_budget(1, CODE + 3);
    cr_assert_eq(vtx_engine_probe_count(eng), 1, "a probe at the step's end: %u", vtx_engine_probe_count(eng));
    for (int i = 0; i < 3; i++) {
        run_budget(9, CODE); /* a whole pass: the step's probe stays */
        cr_assert_eq(vtx_engine_probe_count(eng), 1, "the step's probe went: %u", vtx_engine_probe_count(eng));
        run_budget(1, CODE + 3); /* and the step stops exactly on it */
        cr_assert_eq(vtx_engine_probe_count(eng), 1);
    }
    /* ENG-PRB-3: a longer budget ending after the step's probe in the same
     * block gets no probe of its own (two probe hooks in one block can leave the
     * stop with stale flags): the per-instruction hook stops it, exactly */
    run_budget(2, CODE + 6);
    cr_assert_eq(vtx_engine_probe_count(eng), 1);
    run_budget(9, CODE);
    cr_assert_eq(vtx_engine_probe_count(eng), 1);
}

/* A run from CODE that stops before the CPUID in the block (a probe there, for
 * the stop set, not a budget). */
static void run_to_cpuid(uint64_t want_retired)
{
    vtx_cpu_state s = flat64(CODE);
    cr_assert_eq(vtx_engine_set_state(eng, &s, NULL), 0);
    vtx_stop st;
    vtx_class_set cpuid = {1ull << VTX_IC_CPUID};
    cr_assert_eq(vtx_engine_run(eng, 0, cpuid, false, &st), 0);
    cr_assert_eq(st.reason, VTX_STOP_BEFORE, "reason %d", (int)st.reason);
    cr_assert_eq(st.retired, want_retired, "retired %llu", (unsigned long long)st.retired);
}

/* ENG-PRB-2: a probe only a budget's end armed goes at the next run's start
 * (a timer's deadlines end budgets anywhere in a hot loop: left there it would
 * cost a hook call at every pass); one a stop-set instruction armed stays
 * (ENG-PRB-1's age), also when a budget ended there too. Every stop is exact. */
Test(engine_blocks, budget_probe_goes_at_the_next_run_stop_set_probe_stays)
{
    VTX_COVERS("ENG-PRB-2", "ENG-PRB-1", "ENG-CNT-1");
    write_inc_loop();
    run_budget(3, CODE + 9);
    cr_assert_eq(vtx_engine_probe_count(eng), 1, "a probe at the budget's end: %u", vtx_engine_probe_count(eng));
    run_budget(9, CODE); /* a whole pass: the budget's probe went at this run's start */
    cr_assert_eq(vtx_engine_probe_count(eng), 0, "the budget's probe is still there");
    run_budget(13, CODE + 12);
    run_budget(5, CODE + 15); /* the probe at CODE + 12 went, one at CODE + 15 came */
    cr_assert_eq(vtx_engine_probe_count(eng), 1);

    /* INC RAX three times, CPUID, JMP back: a probe before the CPUID (stop set) */
    memcpy(mem + CODE, (const uint8_t[]){0x48, 0xff, 0xc0, 0x48, 0xff, 0xc0, 0x48, 0xff, 0xc0, 0x0f, 0xa2, 0xeb, 0xf3},
           13);
    run_to_cpuid(3);
    cr_assert_eq(vtx_engine_probe_count(eng), 1, "the stop set's probe: %u", vtx_engine_probe_count(eng));
    /* a budget ending at the same place (the CPUID not in this run's stop set):
     * the probe stays the stop set's */
    vtx_cpu_state s = flat64(CODE);
    cr_assert_eq(vtx_engine_set_state(eng, &s, NULL), 0);
    vtx_stop st;
    cr_assert_eq(vtx_engine_run(eng, 3, (vtx_class_set){0}, false, &st), 0);
    cr_assert(st.reason == VTX_STOP_COUNT && st.retired == 3, "reason %d, retired %llu", (int)st.reason,
              (unsigned long long)st.retired);
    cr_assert_eq(vtx_engine_probe_count(eng), 1);
    run_budget(2, CODE + 6); /* a budget's probe besides */
    cr_assert_eq(vtx_engine_probe_count(eng), 2);
    run_to_cpuid(3);
    cr_assert_eq(vtx_engine_probe_count(eng), 1, "the stop set's probe went or the budget's stayed: %u",
                 vtx_engine_probe_count(eng));
}
