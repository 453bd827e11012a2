/*
 * cpu/engine_blocks.c, stepping (a boundary function on the per-instruction
 * hook): the block hook takes a block stamped for Unicorn's translation in the
 * current epoch without comparing its bytes with memory (ENG-CNT-1's "Block
 * tags", as the fast path does). The code that runs is still the code in
 * memory, with exact counts and a boundary before every instruction: after
 * the caller rewrites an instruction through its host pointer between runs (a
 * new epoch), and when the guest stores into an instruction of a block that
 * already ran in the same run (QEMU translates it again, with another tag).
 * Checked to fail with the epoch left out of the block hook's test.
 */
#include "covers.h"
#include "engine_rig.h"

#define MEM_SIZE (4u << 20)
#define PT_AT 0x100000u
#define CODE 0x20000u

static uint8_t *mem;
static vtx_engine *eng;
static uint64_t boundaries;

static void at_boundary(void *user, uint64_t rip, uint64_t rflags)
{
    (void)user, (void)rip, (void)rflags;
    boundaries++;
}

static void init(void)
{
    rig_new(&mem, &eng, MEM_SIZE);
    rig_identity_tables(mem, PT_AT);
    vtx_engine_set_boundary_fn(eng, at_boundary, NULL);
}

static void fini(void)
{
    rig_free(mem, eng);
}

TestSuite(engine_step_stamps, .init = init, .fini = fini);

/* Run from CODE (64-bit, CPL 0) to the HLT; returns RAX. */
static uint64_t run_to_hlt(uint64_t want_retired)
{
    vtx_cpu_state s = rig_flat64(CODE, PT_AT, 0);
    const char *why = NULL;
    cr_assert_eq(vtx_engine_set_state(eng, &s, &why), 0, "set_state: %s", why ? why : "?");
    boundaries = 0;
    vtx_stop st;
    cr_assert_eq(vtx_engine_run(eng, 0, (vtx_class_set){0}, false, &st), 0);
    cr_assert_eq(st.reason, VTX_STOP_HLT, "stop %d", (int)st.reason);
    cr_assert_eq(st.retired, want_retired, "retired %llu", (unsigned long long)st.retired);
    cr_assert_eq(boundaries, want_retired - 1, "boundaries %llu", (unsigned long long)boundaries);
    cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
    return s.gpr[VTX_R_RAX];
}

Test(engine_step_stamps, a_rewrite_through_the_host_pointer_between_runs_runs)
{
    VTX_COVERS("ENG-CNT-1");
    /* mov ecx, 1000; xor eax, eax; top: add eax, 1; dec ecx; jnz top; hlt */
    static const uint8_t loop[] = {0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xc0, 0x83, 0xc0,
                                   0x01, 0xff, 0xc9, 0x75, 0xf9, 0xf4};
    memcpy(mem + CODE, loop, sizeof loop);
    const uint64_t n = 2 + 3 * 1000 + 1;
    cr_assert_eq(run_to_hlt(n), 1000);
    mem[CODE + 9] = 2; /* add eax, 2 */
    cr_assert_eq(run_to_hlt(n), 2000);
    cr_assert_eq(run_to_hlt(n), 2000);
}

Test(engine_step_stamps, a_guest_store_into_a_block_that_ran_runs)
{
    VTX_COVERS("ENG-CNT-1");
    /* mov ecx, 3; xor eax, eax; top: add eax, 1; mov byte [rel top+2], 5; dec ecx; jnz top; hlt */
    static const uint8_t smc[] = {0xb9, 0x03, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x83, 0xc0, 0x01, 0xc6,
                                  0x05, 0xf8, 0xff, 0xff, 0xff, 0x05, 0xff, 0xc9, 0x75, 0xf2, 0xf4};
    memcpy(mem + CODE, smc, sizeof smc);
    cr_assert_eq(run_to_hlt(2 + 3 * 4 + 1), 1 + 5 + 5);
}
