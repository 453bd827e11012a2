/*
 * cpu/engine stops and counts: a run stops BEFORE an instruction of its stop set
 * (skip_first executes it) in 64-bit, real and 32-bit protected mode; a budget
 * of one retires exactly one instruction; the decoder's classes and operands.
 */
#include "engine_fixture.h"

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
