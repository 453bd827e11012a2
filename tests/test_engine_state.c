/*
 * cpu/engine_state.c: loading a CPU state into the engine. A load that differs
 * from what the engine holds only in the registers a VM entry after an exit
 * changes (GPRs, RIP, RFLAGS, CR8) takes a shortcut that writes only those and
 * remembers only those; every load, shortcut or not, must leave the engine
 * holding exactly the state loaded, however many loads come without a run in
 * between (a VM entry that injects an event loads twice).
 */
#include "engine_rig.h"

#define MEM_SIZE (1u << 20)

static void assert_holds(vtx_engine *e, const vtx_cpu_state *want, const char *when)
{
    vtx_cpu_state got;
    cr_assert_eq(vtx_engine_get_state(e, &got), 0);
    cr_assert_eq(got.rip, want->rip, "%s: RIP 0x%llx, loaded 0x%llx", when, (unsigned long long)got.rip,
                 (unsigned long long)want->rip);
    cr_assert_eq(got.rflags, want->rflags, "%s: RFLAGS 0x%llx, loaded 0x%llx", when, (unsigned long long)got.rflags,
                 (unsigned long long)want->rflags);
    cr_assert_eq(got.cr8, want->cr8, "%s: CR8 %llu, loaded %llu", when, (unsigned long long)got.cr8,
                 (unsigned long long)want->cr8);
    for (int i = 0; i < VTX_R_COUNT; i++)
        cr_assert_eq(got.gpr[i], want->gpr[i], "%s: GPR %d 0x%llx, loaded 0x%llx", when, i,
                     (unsigned long long)got.gpr[i], (unsigned long long)want->gpr[i]);
}

Test(engine_state, loads_without_a_run_between_leave_the_last_state_loaded)
{
    uint8_t *mem;
    vtx_engine *e;
    rig_new(&mem, &e, MEM_SIZE);
    vtx_cpu_state a = rig_flat64(0x1000, 0, 0);
    a.gpr[VTX_R_RAX] = 0x1111;
    a.cr8 = 2;
    cr_assert_eq(vtx_engine_set_state(e, &a, NULL), 0);
    assert_holds(e, &a, "first load");

    /* b differs from a only in registers: the shortcut; then a again, which
     * must not be taken for what the engine already holds. */
    vtx_cpu_state b = a;
    b.rip = 0x2000;
    b.rflags = 0x2 | 0x1 | 0x40 | 0x200; /* CF, ZF, IF */
    b.gpr[VTX_R_RAX] = 0x2222;
    b.gpr[VTX_R_R15] = 0xf0f0;
    b.cr8 = 5;
    cr_assert_eq(vtx_engine_set_state(e, &b, NULL), 0);
    cr_assert_eq(vtx_engine_set_state(e, &a, NULL), 0);
    assert_holds(e, &a, "a, b, then a again");

    /* And after a run: HLT at 0x1000 stops it before anything retires. */
    cr_assert_eq(vtx_engine_set_state(e, &b, NULL), 0);
    vtx_stop st;
    vtx_class_set none = {0};
    b.rip = 0x3000; /* HLT (the memory is full of it) */
    cr_assert_eq(vtx_engine_set_state(e, &b, NULL), 0);
    cr_assert_eq(vtx_engine_run(e, 1, none, true, &st), 0);
    cr_assert_eq(vtx_engine_set_state(e, &a, NULL), 0);
    assert_holds(e, &a, "after a run, a");
    rig_free(mem, e);
}
