/*
 * cpu/engine_flags.h (ENG-FL-2, ENG-FL-3): the RFLAGS the per-instruction hook
 * passes to a boundary function, taken from Unicorn's own sync before the
 * hooked instruction when there was one (env->eflags without the engine's
 * mark), passed on from the boundary before after an instruction that changes
 * no bit of RFLAGS (LEA, MOV, PUSH, POP, SETcc, CMOVcc, BSWAP, XCHG, LAHF, NOP,
 * Jcc), and computed from the lazy flags otherwise, is RFLAGS at that boundary: at every
 * boundary of a loop of flag-setting instructions (operation codes repeated
 * back to back, where Unicorn does not sync, and changing, where it does; CLI,
 * STI, STD, CLD, SAHF, instructions that set no flag) it equals the engine's
 * computation from the live lazy flags (ENG-FL-1, checked against Unicorn's
 * register API by test_engine_flags.c), and every synced value taken equals
 * what Unicorn's register API returns at that moment (vtx_engine_flags_audit).
 * Checked to fail with the mark left out after a boundary (a stale sync is then
 * taken at the next instruction whose operation code repeats), and with every
 * instruction taken to change no flag.
 */
#include "covers.h"
#include "engine_rig.h"

#define MEM_SIZE (4u << 20)
#define PT_AT 0x100000u
#define CODE 0x20000u
#define ITERS 200u

/*
 *     mov ecx, ITERS ; mov eax, 0x7ffffff0 ; mov rbx, -3
 * top:
 *     add eax, 1 ; add ebx, eax ; adc rbx, rax ; sub edx, eax ; sbb dl, 0x80 ;
 *     cmp bx, ax ; shl rbx, 3 ; sar eax, 1 ; imul edx, ebx ; neg esi ; inc di ;
 *     dec r8b ; xor r9d, r9d ; test r10, r11 ; or r10d, eax ; std ;
 *     lea r11, [rax+rbx] ; cld ; stc ; cmc ; lahf ; xor ah, 0xd5 ; sahf ;
 *     bsf r12, rbx ; bt eax, 3 ; rol edx, 5 ; cli ; mov r13, rax ; sti ;
 *     add r14, 7 ; push rax ; pop r15 ; setc r15b ; cmovz r15, rbx ; bswap r15d ;
 *     xchg r15, r13 ; nop ; dec ecx ; jnz top
 *     hlt
 */
static const uint8_t code[] = {
    0xb9, 0xc8, 0x00, 0x00, 0x00, 0xb8, 0xf0, 0xff, 0xff, 0x7f, 0x48, 0xc7, 0xc3, 0xfd, 0xff, 0xff, 0xff,
    0x83, 0xc0, 0x01, 0x01, 0xc3, 0x48, 0x11, 0xc3, 0x29, 0xc2, 0x80, 0xda, 0x80, 0x66, 0x39, 0xc3,
    0x48, 0xc1, 0xe3, 0x03, 0xd1, 0xf8, 0x0f, 0xaf, 0xd3, 0xf7, 0xde, 0x66, 0xff, 0xc7, 0x41, 0xfe,
    0xc8, 0x45, 0x31, 0xc9, 0x4d, 0x85, 0xda, 0x41, 0x09, 0xc2, 0xfd, 0x4c, 0x8d, 0x1c, 0x18, 0xfc,
    0xf9, 0xf5, 0x9f, 0x80, 0xf4, 0xd5, 0x9e, 0x4c, 0x0f, 0xbc, 0xe3, 0x0f, 0xba, 0xe0, 0x03, 0xc1,
    0xc2, 0x05, 0xfa, 0x49, 0x89, 0xc5, 0xfb, 0x49, 0x83, 0xc6, 0x07, 0x50, 0x41, 0x5f, 0x41, 0x0f,
    0x92, 0xc7, 0x4c, 0x0f, 0x44, 0xfb, 0x41, 0x0f, 0xcf, 0x4d, 0x87, 0xfd, 0x90, 0xff, 0xc9, 0x75,
    0x9f, 0xf4};
#define BODY 39u /* instructions of the loop body */

static uint8_t *mem;
static vtx_engine *eng;

typedef struct seen {
    uint64_t boundaries, wrong, df_set, if_clear;
    uint64_t first_wrong_rip, first_wrong_got, first_wrong_want;
} seen;

static void at_boundary(void *user, uint64_t rip, uint64_t rflags)
{
    seen *s = user;
    uint64_t want = vtx_engine_rflags(eng);
    s->boundaries++;
    s->df_set += (rflags & 0x400) != 0;
    s->if_clear += (rflags & 0x200) == 0;
    if (rflags != want && !s->wrong++) {
        s->first_wrong_rip = rip;
        s->first_wrong_got = rflags;
        s->first_wrong_want = want;
    }
}

/* A new engine over identity-paged memory, in 64-bit mode at CODE with c
 * there; false: no live Unicorn state on this platform (the test skips). */
static bool start_engine(const uint8_t *c, size_t n)
{
    rig_new(&mem, &eng, MEM_SIZE);
    uint64_t counts[3];
    if (vtx_engine_flags_audit(eng, true, counts) != 0) {
        rig_free(mem, eng);
        return false;
    }
    rig_identity_tables(mem, PT_AT);
    memcpy(mem + CODE, c, n);

    vtx_cpu_state s = rig_flat64(CODE, PT_AT, 0);
    s.rflags = 0x202;
    const char *why = NULL;
    cr_assert_eq(vtx_engine_set_state(eng, &s, &why), 0, "set_state: %s", why ? why : "?");

    return true;
}

Test(engine_flags_sync, every_boundary_gets_rflags_as_unicorn_holds_it)
{
    VTX_COVERS("ENG-FL-2", "ENG-FL-3");
    if (!start_engine(code, sizeof code))
        cr_skip_test("no live Unicorn state on this platform: the engine asks Unicorn");
    uint64_t counts[3];
    seen sn = {0};
    vtx_engine_set_boundary_fn(eng, at_boundary, &sn);
    vtx_stop st;
    cr_assert_eq(vtx_engine_run(eng, 0, (vtx_class_set){0}, false, &st), 0);
    cr_assert_eq(st.reason, VTX_STOP_HLT, "stop %d vector %u retired %llu", (int)st.reason, (unsigned)st.vector, (unsigned long long)st.retired);
    const uint64_t insns = 3 + (uint64_t)ITERS * BODY + 1; /* the HLT retires */
    cr_assert_eq(st.retired, insns, "retired %llu", (unsigned long long)st.retired);
    /* one boundary before each instruction after the run's first */
    cr_assert_eq(sn.boundaries, insns - 1, "boundaries %llu", (unsigned long long)sn.boundaries);
    cr_assert_eq(sn.wrong, 0, "%llu boundaries with the wrong RFLAGS, the first before RIP 0x%llx: 0x%llx, not 0x%llx",
                 (unsigned long long)sn.wrong, (unsigned long long)sn.first_wrong_rip,
                 (unsigned long long)sn.first_wrong_got, (unsigned long long)sn.first_wrong_want);
    cr_assert_eq(sn.df_set, ITERS * 2, "DF seen set after STD and LEA"); /* before LEA and CLD */
    cr_assert_eq(sn.if_clear, ITERS * 2, "IF seen clear after CLI and MOV"); /* before MOV and STI */
    cr_assert_eq(vtx_engine_flags_audit(eng, false, counts), 0);
    cr_assert_gt(counts[0], ITERS, "Unicorn's syncs are taken");
    cr_assert_gt(counts[1], ITERS, "values are computed where Unicorn did not sync");
    /* the rest were passed on after the 11 instructions that change no flag */
    const uint64_t kept = insns - 1 - counts[0] - counts[1];
    cr_assert(kept >= ITERS * 8 && kept <= ITERS * 11 + 3, "%llu synced, %llu computed, %llu passed on",
              (unsigned long long)counts[0], (unsigned long long)counts[1], (unsigned long long)kept);
    cr_assert_eq(counts[2], 0, "%llu synced values differ from Unicorn's", (unsigned long long)counts[2]);
    vtx_engine_destroy(eng);
    free(mem);
}

/*
 *     mov ecx, 100 ; xor r8d, r8d
 * top:
 *     add eax, 1 ; pushfq ; pop rbx ; or r8, rbx ; stc ; pushfq ; pop rdx ;
 *     or r8, rdx ; dec ecx ; jnz top
 *     hlt
 */
static const uint8_t pushf_code[] = {
    0xb9, 0x64, 0x00, 0x00, 0x00, 0x45, 0x31, 0xc0, 0x83, 0xc0, 0x01, 0x9c, 0x5b, 0x49, 0x09, 0xd8,
    0xf9, 0x9c, 0x5a, 0x49, 0x09, 0xd0, 0xff, 0xc9, 0x75, 0xee, 0xf4};

static void count_boundary(void *user, uint64_t rip, uint64_t rflags)
{
    (void)rip, (void)rflags;
    ++*(uint64_t *)user;
}

/* The engine's mark in env->eflags (ENG-FL-2) is never seen by the guest:
 * PUSHFQ at boundaries where it is set pushes RFLAGS with only defined bits.
 * Checked to fail with the mark moved to bit 15 (QEMU then pushes it). */
Test(engine_flags_sync, the_mark_never_reaches_the_guest)
{
    VTX_COVERS("ENG-FL-2");
    if (!start_engine(pushf_code, sizeof pushf_code))
        cr_skip_test("no live Unicorn state on this platform: the engine asks Unicorn");
    uint64_t n = 0;
    vtx_engine_set_boundary_fn(eng, count_boundary, &n);
    vtx_stop st;
    cr_assert_eq(vtx_engine_run(eng, 0, (vtx_class_set){0}, false, &st), 0);
    cr_assert_eq(st.reason, VTX_STOP_HLT, "stop %d", (int)st.reason);
    cr_assert_eq(n, 2 + 100u * 10, "boundaries %llu", (unsigned long long)n);
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
    uint64_t ored = s.gpr[VTX_R_R8];
    cr_assert_eq(ored & ~0x3f7fd7ull, 0, "PUSHFQ pushed 0x%llx: bits outside RFLAGS' defined ones", (unsigned long long)ored);
    cr_assert_eq(ored & 0x203, 0x203, "PUSHFQ pushed 0x%llx: IF, bit 1 and CF expected", (unsigned long long)ored);
    cr_assert_eq(s.rflags >> 32, 0, "RFLAGS 0x%llx", (unsigned long long)s.rflags);
    vtx_engine_destroy(eng);
    free(mem);
}
