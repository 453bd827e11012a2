/*
 * cpu/engine_drops.c: dropping every translation Unicorn holds changes nothing
 * a run can see (ENG-BUF-2). On Unicorn 2.0.x the engine does it by going on
 * in a new Unicorn (QEMU's flush clears its whole 1 GiB code buffer, hundreds
 * of milliseconds), so everything the old one held must be there again: the
 * CPU state with the arithmetic flags QEMU keeps apart, the memory, the device
 * window, the addresses Unicorn must not translate (the exit list), and the
 * hooks that count instructions exactly. On 2.1 the flush stays, and the same
 * observables hold. vtx_engine_invalidate is the drop the tests make (INVEPT
 * and INVVPID make it); the buffer's own (ENG-BUF-1) and the others take the
 * same path.
 */
#include "covers.h"
#include "engine_rig.h"

#define MEM_SIZE (1u << 20)
#define CODE 0x1000u
#define WIN 0xFEE00000u

RIG_SUITE(engine_drop, MEM_SIZE);

static vtx_stop run(uint64_t budget)
{
    vtx_stop st;
    vtx_class_set none = {0};
    cr_assert_eq(vtx_engine_run(eng, budget, none, false, &st), 0);
    return st;
}

/* The code at CODE, and the CPU at its start in state s. */
static void start(const uint8_t *code, size_t n, vtx_cpu_state s)
{
    memcpy(mem + CODE, code, n);
    s.rip = CODE;
    cr_assert_eq(vtx_engine_set_state(eng, &s, NULL), 0);
}

static vtx_cpu_state state(void)
{
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
    return s;
}

/* A run ends right after a CMP; every translation goes; the next run's SETE and
 * ADC see the flags the CMP left, the registers are the first run's, and the
 * counts stay exact (the hooks are back). Twice: a second drop in the new
 * Unicorn too. */
Test(engine_drop, state_and_flags_survive_dropping_every_translation)
{
    VTX_COVERS("ENG-BUF-2");
    static const uint8_t code[] = {
        0x48, 0xC7, 0xC0, 0x05, 0x00, 0x00, 0x00, /* 0x1000 mov rax, 5 */
        0x48, 0xC7, 0xC3, 0x05, 0x00, 0x00, 0x00, /* 0x1007 mov rbx, 5 */
        0x48, 0x39, 0xD8,                         /* 0x100E cmp rax, rbx (ZF = 1, CF = 0) */
        0x0F, 0x94, 0xC1,                         /* 0x1011 sete cl */
        0x48, 0x83, 0xFB, 0x06,                   /* 0x1014 cmp rbx, 6 (CF = 1) */
        0x48, 0x83, 0xD2, 0x00,                   /* 0x1018 adc rdx, 0 */
        0xF4,                                     /* 0x101C hlt */
    };
    start(code, sizeof code, rig_flat64(CODE, 0, 0));

    vtx_stop st = run(3);
    vtx_cpu_state s;
    cr_assert_eq(st.reason, VTX_STOP_COUNT, "reason %d", (int)st.reason);
    cr_assert_eq(st.retired, 3);
    vtx_engine_invalidate(eng);
    s = state();
    cr_assert_eq(s.rip, 0x1011u, "RIP %#llx after the drop", (unsigned long long)s.rip);
    cr_assert_eq(s.rflags & 0x41, 0x40, "RFLAGS %#llx after the drop: ZF from the CMP", (unsigned long long)s.rflags);

    st = run(2); /* sete, cmp */
    cr_assert_eq(st.reason, VTX_STOP_COUNT, "reason %d", (int)st.reason);
    cr_assert_eq(st.retired, 2, "retired %llu after the drop", (unsigned long long)st.retired);
    vtx_engine_invalidate(eng);

    st = run(100);
    cr_assert_eq(st.reason, VTX_STOP_HLT, "reason %d", (int)st.reason);
    cr_assert_eq(st.retired, 2, "retired %llu: ADC and HLT", (unsigned long long)st.retired);
    s = state();
    cr_expect_eq(s.gpr[VTX_R_RAX], 5);
    cr_expect_eq(s.gpr[VTX_R_RBX], 5);
    cr_expect_eq(s.gpr[VTX_R_RCX] & 0xff, 1, "SETE after the drop found ZF clear");
    cr_expect_eq(s.gpr[VTX_R_RDX], 1, "ADC after the second drop found CF clear");
    cr_expect_eq(s.rip, 0x101Du);
}

/* The device window: a store into it before the drop and one after reach the
 * device, each stopping the run right after its instruction. */
static unsigned writes;
static uint64_t last_value;

static uint64_t dev_rd(void *user, uint64_t offset, unsigned size)
{
    (void)user, (void)offset, (void)size;
    return 0x1234;
}

static void dev_wr(void *user, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset, (void)size;
    writes++;
    last_value = value;
    vtx_engine_stop_after_access(user);
}

Test(engine_drop, device_window_survives_dropping_every_translation)
{
    VTX_COVERS("ENG-BUF-2");
    cr_assert_eq(vtx_engine_map_mmio(eng, WIN, 4096, dev_rd, dev_wr, eng), 0);
    static const uint8_t code[] = {
        0xFF, 0xC0,                   /* 0x1000 inc eax */
        0xA3, 0x00, 0x03, 0xE0, 0xFE, /* 0x1002 mov [0xFEE00300], eax */
        0xFF, 0xC0,                   /* 0x1007 inc eax */
        0xA3, 0x00, 0x03, 0xE0, 0xFE, /* 0x1009 mov [0xFEE00300], eax */
        0x8B, 0x1D, 0x00, 0x03, 0xE0, 0xFE, /* 0x100E mov ebx, [0xFEE00300]: reads 0x1234 */
        0xF4,                         /* 0x1014 hlt */
    };
    start(code, sizeof code, rig_pm32(CODE, 0)); /* 32-bit: the window's addresses as 32-bit displacements */

    vtx_stop st = run(100);
    cr_assert_eq(st.reason, VTX_STOP_BOUNDARY, "reason %d", (int)st.reason);
    cr_assert_eq(st.retired, 2);
    cr_assert_eq(writes, 1);
    vtx_engine_invalidate(eng);

    st = run(100);
    cr_assert_eq(st.reason, VTX_STOP_BOUNDARY, "reason %d after the drop", (int)st.reason);
    cr_assert_eq(st.retired, 2, "retired %llu", (unsigned long long)st.retired);
    cr_assert_eq(writes, 2, "the device saw %u writes", writes);
    cr_assert_eq(last_value, 2);
    vtx_engine_invalidate(eng);

    st = run(100);
    cr_assert_eq(st.reason, VTX_STOP_HLT, "reason %d", (int)st.reason);
    vtx_cpu_state s = state();
    cr_assert_eq(s.gpr[VTX_R_RBX], 0x1234, "RBX %#llx: the load after the drop reached the device",
                 (unsigned long long)s.gpr[VTX_R_RBX]);
}

/* The exit list: on Unicorn 2.0.1 a far JMP with a register operand made
 * Unicorn abort, and the engine went on in a Unicorn that stops before it;
 * after a drop a run there still stops before it (not a second abort, after
 * which the engine would be broken). On 2.1.1 Unicorn raises #UD itself. */
Test(engine_drop, exit_list_survives_dropping_every_translation)
{
    VTX_COVERS("ENG-BUF-2");
    static const uint8_t code[] = {0x90, 0xFF, 0xEF, 0xF4}; /* nop; jmp far (register operand); hlt */
    for (int i = 0; i < 3; i++) {
        start(code, sizeof code, rig_flat64(CODE, 0, 0));
        vtx_stop st = run(100);
        cr_assert(st.reason == VTX_STOP_BEFORE || st.reason == VTX_STOP_EXCEPTION, "run %d: reason %d (%s)", i,
                  (int)st.reason, st.why ? st.why : "");
        cr_assert_eq(st.retired, 1, "run %d: retired %llu, only the NOP", i, (unsigned long long)st.retired);
        cr_assert_eq(state().rip, CODE + 1u);
        cr_assert_not(vtx_engine_broken(eng), "run %d", i);
        vtx_engine_invalidate(eng);
    }
}

/* ENG-INV-1: a device whose write invalidates everything the engine derived
 * from memory (as a DMA into guest code would have its model do), from inside
 * the run: the invalidation waits for the next run's start (Unicorn cannot drop
 * the code it is running: QEMU's flush there crashed the process), the run
 * stops after the writing instruction, and the next run executes the code the
 * device rewrote. */
static uint8_t *dma_target;

static void dma_wr(void *user, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset, (void)size, (void)value;
    dma_target[0] = 0xFF; /* inc eax -> dec eax (FF C0 -> FF C8) */
    dma_target[1] = 0xC8;
    vtx_engine_invalidate(user);
    vtx_engine_stop_after_access(user);
}

Test(engine_drop, device_invalidating_inside_the_run_waits_for_its_end)
{
    VTX_COVERS("ENG-INV-1");
    cr_assert_eq(vtx_engine_map_mmio(eng, WIN, 4096, dev_rd, dma_wr, eng), 0);
    static const uint8_t code[] = {
        0xFF, 0xC0,                   /* 0x1000 inc eax */
        0xA3, 0x00, 0x03, 0xE0, 0xFE, /* 0x1002 mov [0xFEE00300], eax */
        0xFF, 0xC0,                   /* 0x1007 inc eax: the device makes it dec eax */
        0xF4,                         /* 0x1009 hlt */
    };
    start(code, sizeof code, rig_pm32(CODE, 0));
    dma_target = mem + CODE + 7;
    vtx_stop st = run(100);
    cr_assert_eq(st.reason, VTX_STOP_BOUNDARY, "reason %d", (int)st.reason);
    cr_assert_eq(st.retired, 2);
    st = run(100);
    cr_assert_eq(st.reason, VTX_STOP_HLT, "reason %d (%s)", (int)st.reason, st.why ? st.why : "");
    vtx_cpu_state s = state();
    cr_assert_eq(s.gpr[VTX_R_RAX], 0, "RAX %llu: the rewritten instruction ran", (unsigned long long)s.gpr[VTX_R_RAX]);
}
