/*
 * cpu/engine: what the block hook's fast path keys on (cpu/engine_blocks.c,
 * "Block tags" and vtx_eng_hook_block). It takes a block from its cache entry
 * without looking at guest memory or the CPU state when nothing irregular is
 * pending (CR0.AM among those: then CPL and EFLAGS.AC are looked at, ENG-AC-1)
 * and the entry's key (epoch, size, tag) is the one of the translation that
 * runs in this epoch. These tests change what the fast path must not miss: the
 * guest's EFLAGS.AC inside a run with CR0.AM = 1 (no run start, no callback in
 * between), and guest code the caller rewrote after every 16-bit epoch was used
 * (the epochs start again: an entry stamped in an epoch that comes again must
 * not be taken).
 */
#include "covers.h"
#include "engine_rig.h"

#define MEM_SIZE (1u << 20)
#define CODE 0x20000u
#define DATA 0x7000u

RIG_SUITE(engine_fast_key, MEM_SIZE);

static vtx_stop run_from(uint64_t rip, unsigned cpl, uint64_t cr0_or, uint64_t max_insns)
{
    vtx_cpu_state s = rig_flat64(rip, 0, cpl);
    s.cr0 |= cr0_or;
    cr_assert_eq(vtx_engine_set_state(eng, &s, NULL), 0);
    vtx_stop st;
    vtx_class_set stop = {1ull << VTX_IC_CPUID}; /* never comes: counted, on the fast path */
    cr_assert_eq(vtx_engine_run(eng, max_insns, stop, false, &st), 0);
    return st;
}

/* CR0.AM = 1 at CPL 3 (Linux sets AM): a loop with a misaligned load runs its
 * passes with EFLAGS.AC clear (the fast path takes the block, through its
 * alignment check, hook_block_am), then the guest sets AC with POPF in the same
 * run and branches back to the block: the load faults with #AC(0), RIP on it,
 * the instructions before it counted. (QEMU keys its translations on EFLAGS.AC:
 * the block after the POPF is another translation, whose first pass takes the
 * slow path; tests/mutations.tsv ENG-AC-1-fast-am.) */
Test(engine_fast_key, ac_set_inside_a_run_with_am_faults_at_the_fast_path_block)
{
    VTX_COVERS("ENG-AC-1");
    static const uint8_t code[] = {
        0xb9, 0x03, 0x00, 0x00, 0x00,             /* 0x00 mov ecx, 3 */
        0xeb, 0x00,                               /* 0x05 jmp $+2 (L is a block of its own) */
        0x8b, 0x04, 0x25, 0x01, 0x70, 0x00, 0x00, /* 0x07 L: mov eax, [DATA + 1] (misaligned) */
        0xff, 0xc9,                               /* 0x0e dec ecx */
        0x75, 0xf5,                               /* 0x10 jnz L */
        0x9c,                                     /* 0x12 pushfq */
        0x81, 0x0c, 0x24, 0x00, 0x00, 0x04, 0x00, /* 0x13 or dword [rsp], 0x40000 (AC) */
        0x9d,                                     /* 0x1a popfq */
        0xeb, 0xea,                               /* 0x1b jmp L */
    };
    memcpy(mem + CODE, code, sizeof code);
    vtx_stop st = run_from(CODE, 3, VTX_CR0_AM, 1000);
    cr_assert_eq(st.reason, VTX_STOP_EXCEPTION, "reason %d (retired %llu)", (int)st.reason,
                 (unsigned long long)st.retired);
    cr_assert_eq(st.vector, 17, "vector %u", st.vector);
    cr_assert_eq(st.error_code, 0);
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
    cr_assert_eq(s.rip, CODE + 7, "RIP 0x%llx: on the load", (unsigned long long)s.rip);
    /* mov, jmp, three passes of three, pushfq, or, popfq, jmp; the load faults */
    cr_assert_eq(st.retired, 2 + 3 * 3 + 4, "retired %llu", (unsigned long long)st.retired);

    /* the loop alone with AC clear: no fault, it ends before the CPUID after it
     * (the run's stop set; HLT at CPL 3 would be a #GP) */
    static const uint8_t code2[] = {
        0xb9, 0x03, 0x00, 0x00, 0x00,             /* 0x00 mov ecx, 3 */
        0xeb, 0x00,                               /* 0x05 jmp $+2 */
        0x8b, 0x04, 0x25, 0x01, 0x70, 0x00, 0x00, /* 0x07 L: mov eax, [DATA + 1] */
        0xff, 0xc9,                               /* 0x0e dec ecx */
        0x75, 0xf5,                               /* 0x10 jnz L */
        0x0f, 0xa2,                               /* 0x12 cpuid */
    };
    memset(mem + CODE, 0xf4, 0x40);
    memcpy(mem + CODE, code2, sizeof code2);
    st = run_from(CODE, 3, VTX_CR0_AM, 1000);
    cr_assert_eq(st.reason, VTX_STOP_BEFORE, "AC clear: reason %d", (int)st.reason);
    cr_assert_eq(st.retired, 2 + 3 * 3, "AC clear: retired %llu", (unsigned long long)st.retired);
}

/* A2: two 2-byte NOPs and a JMP to the next byte (3 instructions), the same 6
 * bytes as four NOPs and the JMP (5 instructions). */
static const uint8_t block_a2[6] = {0x66, 0x90, 0x66, 0x90, 0xeb, 0x00};

/* Two loops, each five passes through a block (A at CODE + 7, B at CODE +
 * 0x107), stamped for Unicorn's translations of them in two runs one after the
 * other; then runs that start on a HLT elsewhere, each a new epoch (no block
 * translated again, so no tag rotation: one epoch a run), 65534 of them; then
 * the caller rewrites A and B into A2 (through its host pointer: Unicorn does not
 * see it) and runs both loops in one run. That run's epoch is 65536 epochs after
 * A's stamp and 65535 after B's: the same epoch again if the 16-bit epochs
 * simply wrapped around, or if they started again at 1 with the stamps kept.
 * The engine must compare A and B with memory again (count A2's instructions
 * and have both retranslated), not take the old stamps. */
Test(engine_fast_key, host_rewrite_after_every_epoch_was_used_counts_new_instructions)
{
    VTX_COVERS("ENG-CNT-1");
    static const uint8_t to_b[5] = {0xe9, 0xea, 0x00, 0x00, 0x00}; /* 0x11 jmp CODE + 0x100 */
    memcpy(mem + CODE, rig_loop_a, sizeof rig_loop_a);
    memcpy(mem + CODE + 0x100, rig_loop_a, sizeof rig_loop_a);
    for (unsigned at = 0; at <= 0x100; at += 0x100) {
        vtx_stop st = run_from(CODE + at, 0, 0, 0);
        cr_assert_eq(st.reason, VTX_STOP_HLT);
        cr_assert_eq(st.retired, 2 + 5 * (5 + 2) + 1, "loop at +0x%x: retired %llu", at,
                     (unsigned long long)st.retired);
    }
    for (unsigned i = 0; i < 65534; i++) {
        vtx_stop st = run_from(CODE + 0x80, 0, 0, 0);
        if (st.reason != VTX_STOP_HLT || st.retired != 1)
            cr_assert_fail("run %u elsewhere: reason %d retired %llu", i, (int)st.reason,
                           (unsigned long long)st.retired);
    }
    memcpy(mem + CODE + 7, block_a2, sizeof block_a2);
    memcpy(mem + CODE + 0x107, block_a2, sizeof block_a2);
    memcpy(mem + CODE + 0x11, to_b, sizeof to_b);
    vtx_stop st = run_from(CODE, 0, 0, 0);
    cr_assert_eq(st.reason, VTX_STOP_HLT);
    cr_assert_eq(st.retired, (2 + 5 * (3 + 2)) + 1 + (2 + 5 * (3 + 2)) + 1, "after the host's rewrite: retired %llu",
                 (unsigned long long)st.retired);
}
