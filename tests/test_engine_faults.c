/*
 * cpu/engine faults: exceptions (faults and traps) stop with the instruction's
 * RIP and count, repeated faults never escalate, unmapped fetches and reads,
 * wild code never hangs, self-modifying code, non-canonical data accesses
 * (ENG-NC-1), stores into translated code (ENG-SMC-1), and split into bytes
 * (ENG-SMC-2), and into bytes the decoder rejected (ENG-DC-1).
 */
#include "engine_fixture.h"

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

/* ENG-UNM-4: where an unmapped data access stops a counted run inexactly (RIP
 * where Unicorn last synced it, at or before the access), the count is of the
 * instructions before that RIP, also when RIP is the start of the block holding
 * the access: the count and RIP agree whatever blocks the translations held. */
Test(engine, inexact_unmapped_stop_counts_the_instructions_before_its_rip)
{
    VTX_COVERS("ENG-UNM-4");
    /* inc ecx; inc ecx; mov eax, [rbx]; inc ecx; hlt (a load: on Unicorn 2.1.1 the
     * engine's write hook, ENG-SMC-1, has Unicorn keep RIP at stores) */
    static const uint8_t code[] = {0xff, 0xc1, 0xff, 0xc1, 0x8b, 0x03, 0xff, 0xc1, 0xf4};
    static const uint8_t starts[] = {0, 2, 4, 6, 8}; /* each instruction's offset */
    load("lm64");
    memcpy(R.mem + 0x380000, code, sizeof code);
    for (int pass = 0; pass < 2; pass++) { /* a new translation, then the one held */
        vtx_cpu_state s = lm_state(0x380000, false);
        s.gpr[VTX_R_RBX] = 0x10000000; /* beyond the memory */
        set(&s);
        vtx_stop st = run(100, 0, false);
        cr_assert_eq(st.reason, VTX_STOP_UNMAPPED, "pass %d: reason %d", pass, (int)st.reason);
        const uint64_t at = rip() - 0x380000;
        int before = -1;
        for (int i = 0; i < (int)sizeof starts; i++)
            if (starts[i] == at)
                before = i;
        cr_assert(before >= 0 && before <= 2, "pass %d: RIP 0x%llx, not at or before the load", pass,
                  (unsigned long long)rip());
        cr_assert_eq(st.retired, (uint64_t)before,
                     "pass %d (%s stop): RIP 0x%llx with %llu retired, not the %d before it", pass,
                     st.inexact ? "an inexact" : "an exact", (unsigned long long)rip(), (unsigned long long)st.retired,
                     before);
    }
}

static void ignore_boundary(void *user, uint64_t rip, uint64_t rflags)
{
    (void)user, (void)rip, (void)rflags;
}

/* ENG-UNM-5: an x87 store to unmapped memory, then a fault later in its block
 * (DIV by 0): Unicorn 2.0.1 drops the store (made by a helper) and runs on to
 * the DIV, whose #DE reached the caller as the run's stop, the access lost (a
 * MOV's store does not run on). The access came first: every path stops at it. */
Test(engine, unmapped_store_before_a_fault_in_its_block_stops_at_the_access)
{
    VTX_COVERS("ENG-UNM-5");
    /* inc ecx; fld1; fstp tword [rbx]; inc ecx; div edi; hlt */
    static const uint8_t code[] = {0xff, 0xc1, 0xd9, 0xe8, 0xdb, 0x3b, 0xff, 0xc1, 0xf7, 0xf7, 0xf4};
    load("lm64");
    memcpy(R.mem + 0x380000, code, sizeof code);
    for (int mode = 0; mode < 3; mode++) { /* a budget (fast path), raw, a boundary function (per-instruction) */
        vtx_engine_set_boundary_fn(R.e, mode == 2 ? ignore_boundary : NULL, NULL);
        vtx_cpu_state s = lm_state(0x380000, false);
        s.gpr[VTX_R_RBX] = 0x10000000; /* beyond the memory */
        set(&s);
        vtx_stop st = run(mode == 1 ? 0 : 100, 0, false);
        cr_assert_eq(st.reason, VTX_STOP_UNMAPPED, "mode %d: reason %d (vector %u): the access was lost", mode,
                     (int)st.reason, st.vector);
        cr_assert_eq(st.address, 0x10000000u, "mode %d: address 0x%llx", mode, (unsigned long long)st.address);
        if (!st.inexact) {
            cr_assert_eq(rip(), 0x380004u, "mode %d: an exact stop is on the store, not at 0x%llx", mode,
                         (unsigned long long)rip());
            if (mode != 1)
                cr_assert_eq(st.retired, 2u, "mode %d: retired %llu", mode, (unsigned long long)st.retired);
        }
    }
    vtx_engine_set_boundary_fn(R.e, NULL, NULL);
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

/* ENG-NC-1, ENG-NC-2: the faulting access in the middle of a block, a load, a
 * store and an SS-based load. The instruction before it retired, the ones after
 * it did not run, RIP is on it, on the fast path (a budget), on a raw run and
 * on the per-instruction path alike (found by the guest fuzz target: on Unicorn
 * 2.0.1 the #GP came at the block's start, after the whole block had run). */
Test(engine, noncanonical_access_inside_a_block_faults_at_its_instruction)
{
    VTX_COVERS("ENG-NC-1", "ENG-NC-2");
    static const struct {
        uint8_t code[13];
        int reg;
        uint64_t addr;
        uint8_t vector;
        const char *what;
    } cases[] = {
        /* inc rcx; mov rax, [rbx]; inc rcx; inc rcx; hlt */
        {{0x48, 0xff, 0xc1, 0x48, 0x8b, 0x03, 0x48, 0xff, 0xc1, 0x48, 0xff, 0xc1, 0xf4}, VTX_R_RBX,
         0xaaaaaaaaaaaaaaaaull, 13, "load"},
        /* inc rcx; mov [rbx], rax; inc rcx; inc rcx; hlt */
        {{0x48, 0xff, 0xc1, 0x48, 0x89, 0x03, 0x48, 0xff, 0xc1, 0x48, 0xff, 0xc1, 0xf4}, VTX_R_RBX,
         0x8000000000001000ull, 13, "store"},
        /* inc rcx; mov rax, [rbp]; inc rcx; inc rcx; hlt (13 bytes with a nop) */
        {{0x48, 0xff, 0xc1, 0x48, 0x8b, 0x45, 0x00, 0x48, 0xff, 0xc1, 0x48, 0xff, 0xc1}, VTX_R_RBP,
         0x0000800000000000ull, 12, "stack load"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int mode = 0; mode < 3; mode++) { /* a budget (fast path), a raw run, a stop set (per-instruction) */
            vtx_stop st = noncanonical_load(cases[c].code, sizeof cases[c].code, cases[c].reg, cases[c].addr);
            if (mode) {
                vtx_cpu_state s = lm_state(0x380000, true);
                s.gpr[cases[c].reg] = cases[c].addr;
                set(&s);
                st = run(mode == 1 ? 0 : 10, mode == 1 ? 0 : C(VMCALL), false);
            }
            cr_assert_eq(st.reason, VTX_STOP_EXCEPTION, "%s, mode %d: reason %d", cases[c].what, mode, (int)st.reason);
            cr_assert_eq(st.vector, cases[c].vector, "%s, mode %d: vector %u", cases[c].what, mode, st.vector);
            cr_assert(st.has_error_code && st.error_code == 0);
            cr_assert_eq(rip(), 0x380003u, "%s, mode %d: RIP 0x%llx, not on the access", cases[c].what, mode,
                         (unsigned long long)rip());
            if (mode != 1)
                cr_assert_eq(st.retired, 1u, "%s, mode %d: retired %llu", cases[c].what, mode,
                             (unsigned long long)st.retired);
            vtx_cpu_state out;
            vtx_engine_get_state(R.e, &out);
            cr_assert_eq(out.gpr[VTX_R_RCX], 1u, "%s, mode %d: RCX %llu: the INCs after the access ran",
                         cases[c].what, mode, (unsigned long long)out.gpr[VTX_R_RCX]);
        }
    }
}

/* ENG-OVR-1: MULPS with CR4.OSFXSR = 0 is #UD; QEMU decides so before it reads the
 * ModRM byte and ends its block inside the instruction. The engine counts it as
 * the block's last instruction: the fault comes at it, after the INC before it,
 * on the fast path (a budget, and a one-instruction step from it), on a raw run
 * and on the per-instruction path alike. */
Test(engine, fault_in_an_instruction_the_block_ends_inside)
{
    VTX_COVERS("ENG-OVR-1");
    /* inc rcx; mulps xmm3, [rsi+0x5e]; inc rcx; hlt */
    static const uint8_t code[] = {0x48, 0xff, 0xc1, 0x0f, 0x59, 0x5e, 0x5e, 0x48, 0xff, 0xc1, 0xf4};
    load("lm64");
    build_page_tables(0);
    memcpy(R.mem + 0x380000, code, sizeof code);
    for (int mode = 0; mode < 4; mode++) { /* budget, raw, per-instruction, a step from the MULPS */
        vtx_cpu_state s = lm_state(mode == 3 ? 0x380003 : 0x380000, true);
        set(&s);
        vtx_stop st = mode == 0 ? run(10, 0, false) : mode == 1 ? run(0, 0, false) : mode == 2 ? run(10, C(VMCALL), false)
                                                                                            : run(1, 0, true);
        cr_assert_eq(st.reason, VTX_STOP_EXCEPTION, "mode %d: reason %d", mode, (int)st.reason);
        cr_assert_eq(st.vector, 6, "mode %d: vector %u", mode, st.vector);
        cr_assert_eq(rip(), 0x380003u, "mode %d: RIP 0x%llx, not on the MULPS", mode, (unsigned long long)rip());
        if (mode != 1)
            cr_assert_eq(st.retired, mode == 3 ? 0u : 1u, "mode %d: retired %llu", mode,
                         (unsigned long long)st.retired);
        vtx_cpu_state out;
        vtx_engine_get_state(R.e, &out);
        cr_assert_eq(out.gpr[VTX_R_RCX], mode == 3 ? 0u : 1u, "mode %d: RCX %llu", mode,
                     (unsigned long long)out.gpr[VTX_R_RCX]);
    }
}

/* ENG-SMC-1 (SDM Vol. 3A "Self-Modifying Code"): a store into code already
 * translated takes effect for the next fetch of it, also when an earlier store
 * went to data on the same page. Unicorn 2.1.1 stops checking a page's stores
 * for translated code after the first store through a TLB entry (until it
 * translates again on that page); 2.0.1 checks every store. The block at
 * `target` runs once as CMP BH, BH, then the loop stores to data at 0x380800
 * and rewrites `target` into MOV AL, 0xFF, which must be what runs. Where
 * Unicorn walks the guest's page tables (2.1), the stores go through a second
 * mapping of the page too (linear 0x300000 -> physical 0x380000). */
Test(engine, store_into_translated_code_after_a_store_to_data_on_its_page)
{
    VTX_COVERS("ENG-SMC-1");
    static const uint8_t code[] = {
        0xeb, 0x08,             /* 0x00: jmp target */
        0xc6, 0x03, 0x01,       /* 0x02 back: mov byte [rbx], 1 (data on this page) */
        0xc6, 0x02, 0xb0,       /* 0x05: mov byte [rdx], 0xb0 (target: MOV AL, imm8) */
        0xeb, 0x00,             /* 0x08: jmp target (ends the block) */
        0x3a, 0xff,             /* 0x0a target: cmp bh, bh / mov al, 0xff */
        0x48, 0xff, 0xc1,       /* 0x0c: inc rcx */
        0x48, 0x83, 0xf9, 0x02, /* 0x0f: cmp rcx, 2 */
        0x75, 0xed,             /* 0x13: jne back */
        0xf4,                   /* 0x15: hlt */
    };
    load("lm64");
    const bool alias = vtx_engine_translates_paging();
    build_page_tables(alias ? 0x380000 : 0);
    for (int i = 0; i < (alias ? 6 : 3); i++) {
        const int mode = i % 3; /* a budget (fast path), raw, a boundary function (per-instruction) */
        const uint64_t via = i < 3 ? 0x380000 : 0x300000; /* where the stores go */
        memcpy(R.mem + 0x380000, code, sizeof code);
        vtx_engine_invalidate(R.e);
        vtx_engine_set_boundary_fn(R.e, mode == 2 ? ignore_boundary : NULL, NULL);
        vtx_cpu_state s = lm_state(0x380000, true);
        s.gpr[VTX_R_RBX] = via + 0x800;
        s.gpr[VTX_R_RDX] = via + 0xa;
        set(&s);
        vtx_stop st = run(mode == 1 ? 0 : 100, 0, false);
        cr_assert_eq(st.reason, VTX_STOP_HLT, "mode %d via 0x%llx: reason %d", mode, (unsigned long long)via,
                     (int)st.reason);
        vtx_cpu_state out;
        vtx_engine_get_state(R.e, &out);
        cr_assert_eq(out.gpr[VTX_R_RCX], 2u, "mode %d via 0x%llx: RCX %llu", mode, (unsigned long long)via,
                     (unsigned long long)out.gpr[VTX_R_RCX]);
        cr_assert_eq(out.gpr[VTX_R_RAX] & 0xff, 0xffu,
                     "mode %d via 0x%llx: AL 0x%llx: the stale translation of the rewritten instruction ran", mode,
                     (unsigned long long)via, (unsigned long long)(out.gpr[VTX_R_RAX] & 0xff));
        if (mode != 1)
            cr_assert_eq(st.retired, 13u, "mode %d via 0x%llx: retired %llu", mode, (unsigned long long)via,
                         (unsigned long long)st.retired);
    }
    vtx_engine_set_boundary_fn(R.e, NULL, NULL);
}

/* ENG-SMC-2: a store happens once. QEMU stores a misaligned dword on a page
 * of translated code byte by byte, and abandons the block running at the first
 * byte inside it, to run the store again alone; the bytes before that one are
 * stored already. Each ADD [reg], EAX here, the third instruction of a block
 * that a JMP starts, adds to the dword from the JMP's two bytes (before the
 * block) to the two NOPs (its first two instructions): run again on the
 * half-written dword, it added EAX twice to the low half (0xa1b26773, not
 * 0xa1b2342f). QEMU leaves the byte loop with its memory hooks off until the
 * next uc_emu_start: the second ADD, in the same run, needs them on again. A
 * raw run has no block hook to see a store run again: not covered. */
Test(engine, split_store_into_the_block_running_is_done_once)
{
    VTX_COVERS("ENG-SMC-2");
    static const uint8_t code[] = {
        0xeb, 0x00, /* 0x380001: jmp 0x380003 (ends the block) */
        0x90, 0x90, /* 0x380003: nop; nop */
        0x01, 0x03, /* 0x380005: add [rbx], eax (RBX = 0x380001: eb 00 90 90) */
        0xeb, 0x00, /* 0x380007: jmp 0x380009 */
        0x90, 0x90, /* 0x380009: nop; nop */
        0x01, 0x02, /* 0x38000b: add [rdx], eax (RDX = 0x380007: eb 00 90 90) */
        0xf4,       /* hlt */
    };
    const uint32_t want = 0x909000ebu + 0x11223344u;
    load("lm64");
    build_page_tables(0);
    for (int mode = 0; mode < 2; mode++) { /* a budget (fast path), a boundary function (per-instruction) */
        memcpy(R.mem + 0x380001, code, sizeof code);
        vtx_engine_invalidate(R.e);
        vtx_engine_set_boundary_fn(R.e, mode == 1 ? ignore_boundary : NULL, NULL);
        vtx_cpu_state s = lm_state(0x380001, true);
        s.gpr[VTX_R_RAX] = 0x11223344;
        s.gpr[VTX_R_RBX] = 0x380001;
        s.gpr[VTX_R_RDX] = 0x380007;
        set(&s);
        vtx_stop st = run(100, 0, false);
        cr_assert_eq(st.reason, VTX_STOP_HLT, "mode %d: reason %d", mode, (int)st.reason);
        for (int k = 0; k < 2; k++) {
            uint32_t got;
            memcpy(&got, R.mem + 0x380001 + 6 * k, 4);
            cr_assert_eq(got, want, "mode %d: the dword of ADD %d is 0x%x, not 0x%x: the ADD ran twice on it", mode,
                         k + 1, got, want);
        }
        cr_assert_eq(st.retired, 9u, "mode %d: retired %llu", mode, (unsigned long long)st.retired);
    }
    vtx_engine_set_boundary_fn(R.e, NULL, NULL);
}

/* ENG-DC-1: bytes the decoder rejected, then made an instruction by a store
 * into them after their first byte, are decoded again. 4F 06 (REX.WRXB, then
 * PUSH ES, invalid in 64-bit mode) is a #UD of length 1; the code at 0x390000
 * then stores 0x0D over the 06 (4F 0D FF FF 00 00: OR RAX, 0xFFFF) and jumps
 * there. The per-instruction hook's decode cache held the rejected bytes and
 * compared only their first with memory: the run stopped before a #UD again
 * (found by check mode's chunked machine on Unicorn 2.1.1: its budgets end
 * inside blocks, whose instructions the per-instruction hook then looks up in
 * that cache instead of taking them on its step path). */
Test(engine, bytes_rejected_then_stored_into_are_decoded_again)
{
    VTX_COVERS("ENG-DC-1");
    static const uint8_t store_and_jump[] = {
        0xc6, 0x04, 0x25, 0x11, 0x00, 0x39, 0x00, 0x0d, /* 0x390000: mov byte [0x390011], 0x0d */
        0xe9, 0x03, 0x00, 0x00, 0x00,                   /* 0x390008: jmp 0x390010 */
    };
    static const uint8_t rejected[] = {0x4f, 0x06, 0xff, 0xff, 0x00, 0x00, 0xf4}; /* 0x390010 */
    load("lm64");
    build_page_tables(0);
    memcpy(R.mem + 0x390000, store_and_jump, sizeof store_and_jump);
    memcpy(R.mem + 0x390010, rejected, sizeof rejected);
    vtx_engine_set_boundary_fn(R.e, ignore_boundary, NULL);
    vtx_cpu_state s = lm_state(0x390010, true);
    set(&s);
    vtx_stop st = run(100, C(UD), false);
    cr_assert_eq(st.reason, VTX_STOP_BEFORE, "reason %d", (int)st.reason);
    cr_assert_eq(st.insn->cls, VTX_IC_UD, "4F 06 is rejected");
    /* a budget that ends inside the block at 0x390010 (MOV, JMP, then OR, HLT):
     * the per-instruction hook looks each of its instructions up */
    s = lm_state(0x390000, true);
    set(&s);
    st = run(3, C(UD), false);
    cr_assert_eq(st.reason, VTX_STOP_COUNT, "reason %d at RIP 0x%llx: the bytes stored into were taken for the #UD "
                 "decoded before", (int)st.reason, (unsigned long long)rip());
    cr_assert_eq(rip(), 0x390016u, "RIP 0x%llx: after the OR", (unsigned long long)rip());
    vtx_cpu_state out;
    vtx_engine_get_state(R.e, &out);
    cr_assert_eq(out.gpr[VTX_R_RAX] & 0xffff, 0xffffu, "the OR ran");
    vtx_engine_set_boundary_fn(R.e, NULL, NULL);
}

/* ENG-BUF-1: Unicorn before 2.1.3 starts with its code buffer's region
 * bookkeeping unset, so the first time the buffer fills it takes the region
 * again without dropping the translations in it: they stay in QEMU's lookup
 * structures while new code overwrites them, and a fault inside a block was
 * then reported at the block's start (found on 2.1.1, whose buffer the engine
 * makes 32 MiB; 2.0.1's is 1 GiB, which this test does not fill). Thousands of
 * runs with budgets ending all over a block of 300 memory additions translate
 * it again each time (a probe at each end; about 40 KiB of host code), past
 * 32 MiB; then the DIV at its end must fault on its own address. */
Test(engine, fault_after_the_translation_buffer_filled_is_at_its_instruction)
{
    VTX_COVERS("ENG-BUF-1");
    enum { N = 300, RUNS = 300 };
    uint8_t code[2 * N + 3];
    for (int i = 0; i < N; i++)
        code[2 * i] = 0x01, code[2 * i + 1] = 0x0b; /* add [rbx], ecx */
    code[2 * N] = 0xf6, code[2 * N + 1] = 0xf6;     /* div dh (DH = 0: #DE) */
    code[2 * N + 2] = 0xf4;                         /* hlt */
    load("lm64");
    memcpy(R.mem + 0x380000, code, sizeof code);
    for (int i = 0; i < 2 * RUNS; i++) { /* a budget inside the block, then a run to its DIV */
        vtx_cpu_state s = lm_state(0x380000, false);
        s.gpr[VTX_R_RBX] = 0x300000;
        set(&s);
        vtx_stop st = run(i % 2 ? 1000 : 1 + (uint64_t)(i / 2 % (N - 1)), 0, false);
        if (i % 2 == 0) {
            cr_assert_eq(st.reason, VTX_STOP_COUNT, "run %d: reason %d", i, (int)st.reason);
            continue;
        }
        cr_assert_eq(st.reason, VTX_STOP_EXCEPTION, "run %d: reason %d", i, (int)st.reason);
        cr_assert_eq(st.vector, 0);
        cr_assert_eq(rip(), 0x380000u + 2 * N, "run %d: the #DE at RIP 0x%llx, not on the DIV", i,
                     (unsigned long long)rip());
        cr_assert_eq(st.retired, (uint64_t)N, "run %d: retired %llu", i, (unsigned long long)st.retired);
    }
}
