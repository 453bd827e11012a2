/*
 * cpu/engine: guest execution on Unicorn with exact instruction boundaries.
 * Guest code: tests/guests/<name>.asm, assembled into VTX_GUEST_DIR; each binary
 * starts with a table of label addresses (dq) at its org (0x1000).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/engine.h"
#include "covers.h"

#define MEM_SIZE (4u << 20)
#define GUEST_AT 0x1000u
#define PT_AT 0x100000u /* page tables built by the tests */

typedef struct rig {
    uint8_t *mem;
    vtx_engine *e;
    uint64_t tab[64];
} rig;

static rig R;

static void rig_init(void)
{
    R.mem = aligned_alloc(4096, MEM_SIZE);
    cr_assert_not_null(R.mem);
    memset(R.mem, 0xf4, MEM_SIZE); /* stray execution ends in HLT */
    vtx_engine_region reg = {.pa = 0, .size = MEM_SIZE, .host = R.mem};
    cr_assert_eq(vtx_engine_create(&R.e, &reg, 1, NULL), 0);
}

static void rig_fini(void)
{
    vtx_engine_destroy(R.e);
    free(R.mem);
}

static void load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", VTX_GUEST_DIR, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s", path);
    size_t n = fread(R.mem + GUEST_AT, 1, MEM_SIZE - GUEST_AT - 0x200000, f);
    fclose(f);
    cr_assert_gt(n, 256u);
    memcpy(R.tab, R.mem + GUEST_AT, sizeof R.tab);
}

static void seg(vtx_cpu_seg *s, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    s->sel = sel, s->base = base, s->limit = limit, s->ar = ar;
}

static vtx_cpu_state real_state(uint64_t ip)
{
    vtx_cpu_state s;
    memset(&s, 0, sizeof s);
    s.rip = ip;
    s.rflags = 2;
    s.cr0 = 0x10;
    s.gpr[VTX_R_RSP] = 0x8000;
    for (int i = 0; i < 6; i++)
        seg(&s.seg[i], 0, 0, 0xffff, i == VTX_S_CS ? 0x9b : 0x93);
    seg(&s.seg[VTX_S_LDTR], 0, 0, 0xffff, 0x82);
    seg(&s.seg[VTX_S_TR], 0, 0, 0xffff, 0x8b);
    s.idtr_limit = 0x3ff;
    s.gdtr_limit = 0xffff;
    return s;
}

static vtx_cpu_state pm_state(uint64_t eip, bool d32)
{
    vtx_cpu_state s = real_state(eip);
    s.cr0 = 0x11;
    s.gpr[VTX_R_RSP] = 0x8000;
    for (int i = 0; i < 6; i++)
        seg(&s.seg[i], 0x10, 0, 0xffffffff, 0xc093);
    if (d32)
        seg(&s.seg[VTX_S_CS], 0x08, 0, 0xffffffff, 0xc09b);
    else
        seg(&s.seg[VTX_S_CS], 0x18, 0, 0xffff, 0x9b);
    seg(&s.seg[VTX_S_LDTR], 0, 0, 0, 0x10000);
    seg(&s.seg[VTX_S_TR], 0, 0, 0x67, 0x8b);
    s.gdtr_base = R.tab[4];
    s.gdtr_limit = (uint32_t)(R.tab[5] - R.tab[4] - 1);
    return s;
}

static vtx_cpu_state lm_state(uint64_t rip, bool paging)
{
    vtx_cpu_state s = real_state(rip);
    s.cr0 = paging ? 0x80000011 : 0x11;
    s.cr4 = 0x20;
    s.efer = 0x500;
    s.cr3 = paging ? PT_AT : 0;
    s.gpr[VTX_R_RSP] = 0x8000;
    for (int i = 0; i < 6; i++)
        seg(&s.seg[i], 0x10, 0, 0xffffffff, 0xc093);
    seg(&s.seg[VTX_S_CS], 0x08, 0, 0xffffffff, 0xa09b);
    seg(&s.seg[VTX_S_LDTR], 0, 0, 0, 0x10000);
    seg(&s.seg[VTX_S_TR], 0, 0, 0x67, 0x8b);
    s.gdtr_base = R.tab[31];
    s.gdtr_limit = (uint32_t)(R.tab[32] - R.tab[31] - 1);
    return s;
}

/* Identity-map the first 4 MiB with 4-KiB pages (4 levels), linear 0x3ff000
 * not present, and (if alias_pa) linear 0x300000 -> physical alias_pa, which
 * Unicorn 2.0.1 cannot run (it accesses physical == linear). */
static void build_page_tables(uint64_t alias_pa)
{
    uint64_t *pml4 = (uint64_t *)(R.mem + PT_AT), *pdpt = pml4 + 512, *pd = pdpt + 512, *pt = pd + 512;
    memset(pml4, 0, 4096 * 5);
    pml4[0] = (PT_AT + 0x1000) | 3;
    pdpt[0] = (PT_AT + 0x2000) | 3;
    for (int i = 0; i < 2; i++)
        pd[i] = (PT_AT + 0x3000 + 0x1000 * (uint64_t)i) | 3;
    for (int i = 0; i < 1024; i++)
        pt[i] = ((uint64_t)i << 12) | 3;
    if (alias_pa)
        pt[0x300] = alias_pa | 3;
    pt[0x3ff] = 0;
}

static void set(const vtx_cpu_state *s)
{
    const char *why = NULL;
    int rc = vtx_engine_set_state(R.e, s, &why);
    cr_assert_eq(rc, 0, "set_state: %s", why ? why : "?");
}

static uint64_t rip(void)
{
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(R.e, &s), 0);
    return s.rip;
}

static vtx_stop run(uint64_t max, uint64_t classes, bool skip)
{
    vtx_stop st;
    vtx_class_set cs = {classes};
    cr_assert_eq(vtx_engine_run(R.e, max, cs, skip, &st), 0);
    return st;
}

#define C(x) (1ull << VTX_IC_##x)

TestSuite(engine, .init = rig_init, .fini = rig_fini);

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

/* ---- stop BEFORE an instruction; skip_first executes it ---- */
static void stop_before_class(vtx_insn_class c, uint64_t at, uint64_t entry, const vtx_cpu_state *s0)
{
    vtx_cpu_state s = *s0;
    s.rip = entry;
    set(&s);
    vtx_stop st = run(0, 1ull << c, false);
    cr_assert_eq(st.reason, VTX_STOP_BEFORE, "%s: reason %d %s", vtx_insn_class_name(c), st.reason,
                 st.why ? st.why : "");
    cr_assert_eq(rip(), at, "%s: rip %#llx want %#llx", vtx_insn_class_name(c), (unsigned long long)rip(),
                 (unsigned long long)at);
    cr_assert_eq(st.insn->cls, c, "%s: got %s (%s)", vtx_insn_class_name(c), vtx_insn_class_name(st.insn->cls),
                 st.insn->text);
    /* again: it stops at the same place (it was not executed) */
    st = run(0, 1ull << c, false);
    cr_assert_eq(st.reason, VTX_STOP_BEFORE);
    cr_assert_eq(rip(), at);
    cr_assert_eq(st.retired, 0);
    /* skip_first: it executes (exactly one instruction) */
    st = run(1, 1ull << c, true);
    if (c == VTX_IC_VMCALL || c == VTX_IC_VMX || c == VTX_IC_VMFUNC) {
        cr_assert_eq(st.reason, VTX_STOP_EXCEPTION);
        cr_assert_eq(st.vector, 6);
        cr_assert_eq(rip(), at);
    } else if (c == VTX_IC_HLT) {
        cr_assert_eq(st.reason, VTX_STOP_HLT);
        cr_assert_eq(rip(), at + 1);
    } else {
        cr_assert_eq(st.reason, VTX_STOP_COUNT, "%s: reason %d", vtx_insn_class_name(c), st.reason);
        cr_assert_neq(rip(), at);
        cr_assert_eq(st.retired, 1);
    }
}

Test(engine, stop_before_long64)
{
    load("lm64");
    vtx_cpu_state s = lm_state(0, false);
    const struct { vtx_insn_class c; int at; } t[] = {
        {VTX_IC_STI, 3}, {VTX_IC_MOV_SS, 4}, {VTX_IC_POPF, 5}, {VTX_IC_IRET, 6}, {VTX_IC_CPUID, 7},
        {VTX_IC_IN, 8}, {VTX_IC_OUT, 9}, {VTX_IC_HLT, 10},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        stop_before_class(t[i].c, R.tab[t[i].at], R.tab[2], &s);
    stop_before_class(VTX_IC_VMCALL, R.tab[13], R.tab[12], &s);
    stop_before_class(VTX_IC_VMX, R.tab[14], R.tab[14], &s);
    stop_before_class(VTX_IC_VMFUNC, R.tab[34], R.tab[34], &s);
    /* the decode details */
    const vtx_insn *in;
    cr_assert_eq(vtx_engine_decode(R.e, R.tab[8], &in), 0);
    cr_assert_eq(in->cls, VTX_IC_IN);
    cr_assert_eq(in->imm8, 0x60);
    cr_assert_eq(in->op_size, 1);
    cr_assert(!in->port_in_dx);
    cr_assert_str_eq(in->text, "in al, 0x60");
    cr_assert_eq(vtx_engine_decode(R.e, R.tab[35], &in), 0);
    cr_assert_eq(in->cls, VTX_IC_VMX);
    cr_assert_eq(vtx_engine_decode(R.e, R.tab[36], &in), 0);
    cr_assert_eq(in->cls, VTX_IC_VMX);
    cr_assert_eq(vtx_engine_decode(R.e, R.tab[37], &in), 0);
    cr_assert_eq(in->cls, VTX_IC_INT1);
}

Test(engine, stop_before_real_mode)
{
    load("rm16");
    vtx_cpu_state s = real_state(0);
    const struct { vtx_insn_class c; int at; } t[] = {
        {VTX_IC_STI, 3}, {VTX_IC_MOV_SS, 7}, {VTX_IC_POP_SS, 8}, {VTX_IC_POPF, 9}, {VTX_IC_CPUID, 21},
        {VTX_IC_IRET, 10}, {VTX_IC_HLT, 11},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        stop_before_class(t[i].c, R.tab[t[i].at], R.tab[2], &s);
    stop_before_class(VTX_IC_VMCALL, R.tab[19], R.tab[18], &s);
    stop_before_class(VTX_IC_VMX, R.tab[20], R.tab[20], &s);
}

Test(engine, stop_before_prot32)
{
    load("pm");
    vtx_cpu_state s = pm_state(0, true);
    const struct { vtx_insn_class c; int at; } t[] = {
        {VTX_IC_STI, 7}, {VTX_IC_POPF, 8}, {VTX_IC_CPUID, 9}, {VTX_IC_OUT, 15}, {VTX_IC_IRET, 10}, {VTX_IC_HLT, 11},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        stop_before_class(t[i].c, R.tab[t[i].at], R.tab[6], &s);
}

/* ---- counting boundaries ---- */
Test(engine, step_exactly_one)
{
    load("lm64");
    vtx_cpu_state s = lm_state(R.tab[20], false); /* sti; nop; sti; nop; hlt */
    set(&s);
    uint64_t at = R.tab[20];
    for (int i = 0; i < 4; i++) {
        vtx_stop st = run(1, 0, false);
        cr_assert_eq(st.reason, VTX_STOP_COUNT);
        cr_assert_eq(st.retired, 1);
        cr_assert_eq(rip(), at + (uint64_t)i + 1);
    }
    vtx_stop st = run(1, 0, false);
    cr_assert_eq(st.reason, VTX_STOP_HLT);
    cr_assert_eq(rip(), R.tab[21]);
    /* with STI in the stop set and skip_first: sti|nop|sti boundaries */
    set(&s);
    st = run(0, C(STI), false);
    cr_assert_eq(st.reason, VTX_STOP_BEFORE);
    cr_assert_eq(rip(), at);
    cr_assert_eq(st.retired, 0);
    st = run(0, C(STI), true);
    cr_assert_eq(st.reason, VTX_STOP_BEFORE);
    cr_assert_eq(rip(), at + 2);
    cr_assert_eq(st.retired, 2);
    st = run(0, C(STI), true);
    cr_assert_eq(st.reason, VTX_STOP_HLT);
    cr_assert_eq(st.retired, 3);
    vtx_cpu_state a;
    vtx_engine_get_state(R.e, &a);
    cr_assert(a.rflags & 0x200);
    /* budget of 3 from the start */
    set(&s);
    st = run(3, 0, false);
    cr_assert_eq(st.reason, VTX_STOP_COUNT);
    cr_assert_eq(rip(), at + 3);
}

/* ---- exceptions ---- */
Test(engine, exceptions_fault_and_trap)
{
    load("lm64");
    for (int hooked = 0; hooked < 2; hooked++) {
        uint64_t cls = hooked ? C(VMCALL) : 0;
        vtx_cpu_state s = lm_state(R.tab[15], false);
        set(&s);
        vtx_stop st = run(0, cls, false);
        cr_assert_eq(st.reason, VTX_STOP_EXCEPTION);
        cr_assert_eq(st.vector, 0);
        cr_assert(!st.trap);
        cr_assert_eq(rip(), R.tab[16]);
        cr_assert_str_eq(st.insn->text, "div ecx");
        if (hooked)
            cr_assert_eq(st.retired, 2);
        /* skip the div by hand: INT3 is a trap, RIP after it */
        s = lm_state(R.tab[17], false);
        set(&s);
        st = run(0, cls, false);
        cr_assert_eq(st.reason, VTX_STOP_EXCEPTION);
        cr_assert_eq(st.vector, 3);
        cr_assert(st.trap);
        cr_assert_eq(rip(), R.tab[18]);
        if (hooked)
            cr_assert_eq(st.retired, 1);
        st = run(0, cls, false); /* nop; ud2 */
        cr_assert_eq(st.reason, VTX_STOP_EXCEPTION);
        cr_assert_eq(st.vector, 6);
        cr_assert(!st.trap);
        cr_assert_eq(rip(), R.tab[19]);
        /* #GP with QEMU's error code (selector beyond the GDT limit) */
        s = lm_state(R.tab[24], false);
        set(&s);
        st = run(0, cls, false);
        cr_assert_eq(st.reason, VTX_STOP_EXCEPTION);
        cr_assert_eq(st.vector, 13);
        cr_assert(st.has_error_code);
        cr_assert_eq(st.error_code, 0x1234);
        cr_assert_eq(rip(), R.tab[25]);
    }
}

Test(engine, repeated_faults_never_escalate)
{
    load("lm64");
    vtx_cpu_state s = lm_state(R.tab[16], false);
    set(&s);
    for (int i = 0; i < 5; i++) {
        /* without set_state in between: the engine clears QEMU's fault history */
        vtx_stop st = run(0, i & 1 ? C(VMCALL) : 0, false);
        cr_assert_eq(st.reason, VTX_STOP_EXCEPTION, "round %d: reason %d %s", i, st.reason, st.why ? st.why : "");
        cr_assert_eq(st.vector, 0, "round %d: vector %u", i, st.vector);
        cr_assert_eq(rip(), R.tab[16]);
    }
    s = lm_state(R.tab[24], false);
    set(&s);
    for (int i = 0; i < 3; i++) {
        vtx_stop st = run(0, 0, false);
        cr_assert_eq(st.reason, VTX_STOP_EXCEPTION);
        cr_assert_eq(st.vector, 13, "round %d: vector %u", i, st.vector);
    }
}

Test(engine, unmapped_fetch_and_read)
{
    load("lm64");
    for (int hooked = 0; hooked < 2; hooked++) {
        vtx_cpu_state s = lm_state(R.tab[26], false);
        set(&s);
        vtx_stop st = run(0, hooked ? C(CPUID) : 0, false);
        cr_assert_eq(st.reason, VTX_STOP_UNMAPPED, "reason %d %s", st.reason, st.why ? st.why : "");
        cr_assert_eq(st.address, 0x10000000);
        s = lm_state(R.tab[27], false);
        set(&s);
        st = run(0, hooked ? C(CPUID) : 0, false);
        cr_assert_eq(st.reason, VTX_STOP_UNMAPPED);
        cr_assert_eq(st.address, 0x10000000);
        /* An unmapped data access is precise only on the per-instruction path;
         * counted runs take the fast path, where it is reported like a raw run
         * (see vtx_stop): no instruction, RIP where Unicorn stopped. */
        if (hooked && st.insn)
            cr_assert_eq(rip(), R.tab[28], "rip %#llx want %#llx", (unsigned long long)rip(), (unsigned long long)R.tab[28]);
    }
    /* and the engine still works */
    vtx_cpu_state s = lm_state(R.tab[0], false);
    set(&s);
    cr_assert_eq(run(0, 0, false).reason, VTX_STOP_HLT);
}

Test(engine, garbage_never_hangs)
{
    uint32_t x = 12345;
    for (int round = 0; round < 60; round++) {
        for (uint32_t i = 0; i < 4096; i++) {
            x = x * 1103515245u + 12345u;
            R.mem[0x10000 + i] = (uint8_t)(x >> 16);
        }
        vtx_engine_invalidate(R.e);
        vtx_cpu_state s;
        int mode = round % 3;
        if (mode == 0)
            s = real_state(0x10000 - 0x10000), s.seg[VTX_S_CS].sel = 0x1000, s.seg[VTX_S_CS].base = 0x10000;
        else if (mode == 1)
            load("pm"), s = pm_state(0x10000, true);
        else
            load("lm64"), s = lm_state(0x10000, false);
        set(&s);
        for (int k = 0; k < 20; k++) {
            vtx_stop st = run(2000, C(VMCALL), false);
            cr_assert(st.reason <= VTX_STOP_ERROR);
            if (st.reason == VTX_STOP_ERROR || st.reason == VTX_STOP_HLT || st.reason == VTX_STOP_UNMAPPED)
                break;
            if (st.reason == VTX_STOP_BEFORE || st.reason == VTX_STOP_EXCEPTION) {
                /* step over by hand, like a model that gave up on it */
                vtx_cpu_state a;
                vtx_engine_get_state(R.e, &a);
                a.rip += st.insn && st.insn->len ? st.insn->len : 1;
                if (mode != 2)
                    a.rip &= 0xffff;
                if (vtx_engine_set_state(R.e, &a, NULL) != 0)
                    break;
            }
        }
        memset(R.mem + 0x10000, 0xf4, 4096);
    }
}

Test(engine, self_modifying_code)
{
    load("lm64");
    vtx_cpu_state s = lm_state(R.tab[22], false);
    set(&s);
    vtx_stop st = run(0, C(CPUID), false);
    cr_assert_eq(st.reason, VTX_STOP_BEFORE, "reason %d", st.reason);
    cr_assert_eq(rip(), R.tab[23]);
    cr_assert_eq(st.insn->cls, VTX_IC_CPUID);
    vtx_cpu_state a;
    vtx_engine_get_state(R.e, &a);
    cr_assert_eq(a.gpr[VTX_R_RCX], 1); /* the second pass */
    /* mov ecx; nop; nop; mov (abandons its block); dec; jnz: exact despite the store into the block */
    cr_assert_eq(st.retired, 6, "retired %llu", (unsigned long long)st.retired);
    /* the model rewrites code behind Unicorn's back: invalidate */
    R.mem[R.tab[0] + 0] = 0xb8; /* mov eax, 7; hlt */
    memcpy(R.mem + R.tab[0] + 1, "\x07\x00\x00\x00\xf4", 5);
    vtx_engine_invalidate(R.e);
    s = lm_state(R.tab[0], false);
    set(&s);
    st = run(0, 0, false);
    cr_assert_eq(st.reason, VTX_STOP_HLT);
    vtx_engine_get_state(R.e, &a);
    cr_assert_eq(a.gpr[VTX_R_RAX], 7);
    cr_assert_eq(a.rip, R.tab[0] + 6);
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

Test(engine, decode_bytes_classes)
{
    const struct { const char *b; size_t n; unsigned w; vtx_insn_class c; } t[] = {
        {"\xfb", 1, 64, VTX_IC_STI},        {"\xfa", 1, 64, VTX_IC_CLI},
        {"\x8e\xd0", 2, 16, VTX_IC_MOV_SS}, {"\x8e\x17", 2, 16, VTX_IC_MOV_SS},
        {"\x17", 1, 16, VTX_IC_POP_SS},     {"\x9d", 1, 32, VTX_IC_POPF},
        {"\x48\xcf", 2, 64, VTX_IC_IRET},   {"\xf4", 1, 16, VTX_IC_HLT},
        {"\xcd\x21", 2, 16, VTX_IC_INT_N},  {"\xcc", 1, 64, VTX_IC_INT3},
        {"\xce", 1, 32, VTX_IC_INTO},       {"\xf1", 1, 64, VTX_IC_INT1},
        {"\x0f\xa2", 2, 64, VTX_IC_CPUID},  {"\xec", 1, 64, VTX_IC_IN},
        {"\xee", 1, 64, VTX_IC_OUT},        {"\xf3\x6c", 2, 64, VTX_IC_INS},
        {"\xf3\x6f", 2, 64, VTX_IC_OUTS},   {"\x0f\x31", 2, 64, VTX_IC_RDTSC},
        {"\x0f\x01\xf9", 3, 64, VTX_IC_RDTSCP}, {"\x0f\x32", 2, 64, VTX_IC_RDMSR},
        {"\x0f\x30", 2, 64, VTX_IC_WRMSR},  {"\x0f\x22\xd8", 3, 64, VTX_IC_MOV_TO_CR},
        {"\x0f\x20\xc0", 3, 64, VTX_IC_MOV_FROM_CR}, {"\x0f\x23\xf8", 3, 64, VTX_IC_MOV_TO_DR},
        {"\x0f\x21\xf8", 3, 64, VTX_IC_MOV_FROM_DR}, {"\x0f\x06", 2, 64, VTX_IC_CLTS},
        {"\x0f\x01\xf0", 3, 64, VTX_IC_LMSW}, {"\x0f\x01\x38", 3, 64, VTX_IC_INVLPG},
        {"\x0f\x08", 2, 64, VTX_IC_INVD},   {"\x0f\x09", 2, 64, VTX_IC_WBINVD},
        {"\x0f\x33", 2, 64, VTX_IC_RDPMC},  {"\xf3\x90", 2, 64, VTX_IC_PAUSE},
        {"\x0f\x01\xc8", 3, 64, VTX_IC_MONITOR}, {"\x0f\x01\xc9", 3, 64, VTX_IC_MWAIT},
        {"\x0f\x01\xd1", 3, 64, VTX_IC_XSETBV}, {"\x0f\x37", 2, 32, VTX_IC_GETSEC},
        {"\x0f\xc7\xf0", 3, 64, VTX_IC_RDRAND}, {"\x0f\xc7\xf8", 3, 64, VTX_IC_RDSEED},
        {"\x0f\x01\x10", 3, 64, VTX_IC_LGDT}, {"\x0f\x01\x18", 3, 64, VTX_IC_LIDT},
        {"\x0f\x01\x00", 3, 64, VTX_IC_SGDT}, {"\x0f\x01\x08", 3, 64, VTX_IC_SIDT},
        {"\x0f\x00\xd0", 3, 64, VTX_IC_LLDT}, {"\x0f\x00\xd8", 3, 64, VTX_IC_LTR},
        {"\x0f\x00\xc0", 3, 64, VTX_IC_SLDT}, {"\x0f\x00\xc8", 3, 64, VTX_IC_STR},
        {"\x0f\x01\xc1", 3, 64, VTX_IC_VMCALL}, {"\x0f\x01\xd4", 3, 64, VTX_IC_VMFUNC},
        {"\xf3\x0f\xc7\x30", 4, 64, VTX_IC_VMX}, {"\x0f\x01\xc4", 3, 64, VTX_IC_VMX},
        {"\x66\x0f\xc7\x30", 4, 64, VTX_IC_VMX}, {"\x0f\xc7\x30", 3, 64, VTX_IC_VMX},
        {"\x0f\xc7\x38", 3, 64, VTX_IC_VMX}, {"\x0f\x78\xc3", 3, 64, VTX_IC_VMX},
        {"\x0f\x79\xc3", 3, 64, VTX_IC_VMX}, {"\x0f\x01\xc2", 3, 64, VTX_IC_VMX},
        {"\x0f\x01\xc3", 3, 64, VTX_IC_VMX}, {"\x66\x0f\x38\x80\x00", 5, 64, VTX_IC_VMX},
        {"\x66\x0f\x38\x81\x00", 5, 64, VTX_IC_VMX}, {"\x66\x0f\x38\x82\x00", 5, 64, VTX_IC_INVPCID},
        {"\x0f\x0b", 2, 64, VTX_IC_UD},     {"\x0f\xff", 1, 64, VTX_IC_UD},
        {"\x90", 1, 64, VTX_IC_OTHER},      {"", 0, 64, VTX_IC_UD},
        {"\xea\0\0\0\0\x28\0", 7, 32, VTX_IC_JMP_FAR}, {"\xff\x2d\0\x10\0\0", 6, 32, VTX_IC_JMP_FAR},
        {"\x9a\0\0\x28\0", 5, 16, VTX_IC_CALL_FAR}, {"\x48\xff\x18", 3, 64, VTX_IC_CALL_FAR},
        {"\xe9\0\0\0\0", 5, 32, VTX_IC_OTHER}, {"\xff\xe0", 2, 64, VTX_IC_OTHER}, /* near JMP */
        {"\xe8\0\0\0\0", 5, 64, VTX_IC_OTHER}, {"\xcb", 1, 64, VTX_IC_RET_FAR},   /* near CALL, RETF */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        vtx_insn in;
        vtx_decode_bytes(t[i].b, t[i].n, t[i].w, 0x1000, &in);
        cr_assert_eq(in.cls, t[i].c, "#%zu: got %s want %s (%s)", i, vtx_insn_class_name(in.cls),
                     vtx_insn_class_name(t[i].c), in.text);
    }
    vtx_insn in;
    vtx_decode_bytes("\x0f\x22\xd8", 3, 64, 0, &in);
    cr_assert_eq(in.cr, 3);
    cr_assert_eq(in.gpr, VTX_R_RAX);
    cr_assert_str_eq(in.text, "mov cr3, rax");
    vtx_decode_bytes("\x66\xe5\x40", 3, 64, 0, &in); /* in ax, 0x40 */
    cr_assert_eq(in.op_size, 2);
    cr_assert_eq(in.imm8, 0x40);
    vtx_decode_bytes("\xf3\x6d", 2, 32, 0, &in); /* rep insd */
    cr_assert(in.rep);
    cr_assert_eq(in.op_size, 4);
    cr_assert(in.port_in_dx);
    vtx_decode_bytes("\xea\x78\x56\x34\x12\x2b\0", 7, 32, 0, &in); /* jmp 0x2b:0x12345678 */
    cr_assert(in.far_direct);
    cr_assert_eq(in.far_sel, 0x2b);
    vtx_decode_bytes("\x66\xff\x1d\0\x10\0\0", 7, 32, 0, &in); /* call far word [0x1000]: m16:16 */
    cr_assert(!in.far_direct && in.has_mem);
    cr_assert_eq(in.op_size, 2, "the selector follows a 2-byte offset");
    cr_assert_str_eq(vtx_insn_class_name(VTX_IC_MOV_SS), "MOV_SS");
}

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

/* ENG-NC-1 (SDM Vol. 3A "Canonical Address Checking"; Vol. 1 "64-Bit Mode"): a data
 * access at a non-canonical linear address in 64-bit mode is #GP(0), or #SS(0) when
 * it references SS; a fault (RIP stays), not an access to unmodelled memory. */
static vtx_stop noncanonical_load(const uint8_t *code, size_t n, int reg, uint64_t addr)
{
    load("lm64");
    build_page_tables(0);
    memcpy(R.mem + 0x380000, code, n);
    vtx_cpu_state s = lm_state(0x380000, true);
    s.gpr[reg] = addr;
    set(&s);
    return run(10, 0, false);
}

Test(engine, noncanonical_data_load_is_gp0)
{
    VTX_COVERS("ENG-NC-1");
    static const uint8_t code[] = {0x48, 0x8b, 0x03, 0xf4}; /* mov rax, [rbx]; hlt */
    vtx_stop st = noncanonical_load(code, sizeof code, VTX_R_RBX, 0xaaaaaaaaaaaaaaaaull);
    cr_assert_eq(st.reason, VTX_STOP_EXCEPTION, "reason %d addr %llx rip %llx retired %llu", (int)st.reason,
                 (unsigned long long)st.address, (unsigned long long)rip(), (unsigned long long)st.retired);
    cr_assert_eq(st.vector, 13);
    cr_assert(st.has_error_code && st.error_code == 0);
    cr_assert_eq(st.retired, 0u);
    cr_assert_eq(rip(), 0x380000u);
}

Test(engine, noncanonical_stack_load_is_ss0)
{
    VTX_COVERS("ENG-NC-1");
    static const uint8_t code[] = {0x48, 0x8b, 0x45, 0x00, 0xf4}; /* mov rax, [rbp]; hlt */
    vtx_stop st = noncanonical_load(code, sizeof code, VTX_R_RBP, 0x8000000000000000ull);
    cr_assert_eq(st.reason, VTX_STOP_EXCEPTION, "reason %d", (int)st.reason);
    cr_assert_eq(st.vector, 12);
    cr_assert(st.has_error_code && st.error_code == 0);
    cr_assert_eq(rip(), 0x380000u);
}
