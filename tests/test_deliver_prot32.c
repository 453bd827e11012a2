/*
 * Event delivery in 32-bit protected mode (cpu/deliver.c; SDM Vol. 3 6.10-6.13):
 * interrupt, trap and task gates, privilege changes through the TSS, and the
 * faults of gate, target-segment and stack checks.
 *
 * Each test lays out GDT, IDT, TSS and page tables by hand in a flat
 * guest-physical buffer (tests/deliver_fixture.h), delivers one event and
 * checks the resulting state and the pushed frame byte by byte.
 */
#include "deliver_fixture.h"

/* ================================================================ 32-bit protected mode */

/* SDM 6.12.1 Figure 6-4 "Stack Usage on Transfers to Interrupt and Exception
 * Handling Routines", no privilege change; interrupt gate clears IF. */
Test(deliver, prot32_same_privilege_interrupt_gate)
{
    VTX_COVERS("INJ-8");
    vtx_cpu_state s = prot32(0);
    s.rflags = 0x2 | F_IF | F_TF | F_NT | F_RF | 0x1 /* CF */;
    idt32_set(0x20, SEL_CODE32, 0x00405000, 0xE, 0, true);
    vtx_deliver_result r = run(&s, 0x20, VTX_EVT_EXTINT, false, 0, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    const uint8_t frame[] = {
        0x34, 0x12, 0x40, 0x00, /* EIP */
        0x08, 0x00, 0x00, 0x00, /* CS, zero-padded to 32 bits */
        0x03, 0x43, 0x01, 0x00, /* EFLAGS as it was (RF included, INJ-8) */
    };
    expect_bytes("32-bit frame", STK0 - 12, frame, sizeof frame);
    cr_expect_eq(s.gpr[VTX_R_RSP], STK0 - 12);
    cr_expect_eq(s.rip, 0x405000);
    cr_expect_eq(s.seg[VTX_S_CS].sel, SEL_CODE32);
    cr_expect_eq(s.seg[VTX_S_CS].ar, AR_CODE32_0, "CS loaded from the descriptor, accessed: %#x",
                 s.seg[VTX_S_CS].ar);
    cr_expect_eq(s.seg[VTX_S_CS].limit, 0xFFFFFFFF);
    cr_expect_eq(s.rflags, 0x3ull, "IF, TF, NT, RF cleared: %#llx", (unsigned long long)s.rflags);
    cr_expect_eq(mem[GDT + SEL_CODE32 + 5], 0x9B, "the accessed bit of the CS descriptor is set");
}

Test(deliver, prot32_trap_gate_keeps_if_and_pushes_error_code)
{
    vtx_cpu_state s = prot32(0);
    s.rflags = 0x2 | F_IF | F_TF;
    idt32_set(13, SEL_CODE32, 0x00406000, 0xF, 0, true);
    vtx_deliver_result r = run(&s, 13, VTX_EVT_HW_EXC, true, 0x12345678, 3);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    const uint8_t frame[] = {
        0x78, 0x56, 0x34, 0x12, /* error code (32 bits) */
        0x34, 0x12, 0x40, 0x00, /* EIP = RIP for type 3 (insn_len ignored) */
        0x08, 0x00, 0x00, 0x00, 0x02, 0x03, 0x00, 0x00,
    };
    expect_bytes("32-bit frame with error code", STK0 - 16, frame, sizeof frame);
    cr_expect_eq(s.gpr[VTX_R_RSP], STK0 - 16);
    cr_expect_eq(s.rflags, 0x2ull | F_IF, "a trap gate keeps IF, clears TF");
}

/* SDM 6.12.1 Figure 6-4 with a privilege-level change; SS0:ESP0 from the 32-bit TSS. */
Test(deliver, prot32_cpl3_to_ring0_switches_stack_through_tss)
{
    vtx_cpu_state s = prot32(3);
    s.rflags = 0x2 | F_IF | 0x3000 /* IOPL 3 */;
    idt32_set(0x80, SEL_CODE32, 0x00407000, 0xE, 3, true);
    vtx_deliver_result r = run(&s, 0x80, VTX_EVT_SW_INT, false, 0, 2);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    const uint8_t frame[] = {
        0x36, 0x12, 0x40, 0x00, /* EIP after INT 0x80 */
        0x1B, 0x00, 0x00, 0x00, /* old CS */
        0x02, 0x32, 0x00, 0x00, /* EFLAGS */
        0x00, 0x90, 0x00, 0x00, /* old ESP */
        0x23, 0x00, 0x00, 0x00, /* old SS */
    };
    expect_bytes("inter-privilege frame", STK0 - 20, frame, sizeof frame);
    cr_expect_eq(s.gpr[VTX_R_RSP], STK0 - 20);
    cr_expect_eq(s.seg[VTX_S_SS].sel, SEL_DATA32);
    cr_expect_eq(s.seg[VTX_S_SS].ar, AR_DATA32_0, "SS from its descriptor (accessed): %#x", s.seg[VTX_S_SS].ar);
    cr_expect_eq(s.seg[VTX_S_CS].sel, SEL_CODE32);
    cr_expect_eq(s.rip, 0x407000);
    cr_expect_eq(s.rflags, 0x3002ull);
    cr_expect_eq(mem[GDT + SEL_DATA32 + 5], 0x93, "SS descriptor accessed bit set");
}

Test(deliver, prot32_inter_privilege_with_error_code)
{
    vtx_cpu_state s = prot32(3);
    idt32_set(14, SEL_CODE32, 0x00408000, 0xE, 0, true);
    vtx_deliver_result r = run(&s, 14, VTX_EVT_HW_EXC, true, 0x7, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(s.gpr[VTX_R_RSP], STK0 - 24);
    cr_expect_eq(get(STK0 - 24, 4), 7, "error code");
    cr_expect_eq(get(STK0 - 20, 4), 0x401234, "EIP = RIP for a fault");
    cr_expect_eq(get(STK0 - 4, 4), SEL_UDATA32 | 3);
}

/* INJ-10 / Vol. 2 INT n: DPL >= CPL only for INT n, INT3, INTO; #GP(vector*8+2) with EXT = 0. */
Test(deliver, int_n_from_cpl3_to_dpl0_gate_is_gp_without_ext)
{
    VTX_COVERS("INJ-10");
    vtx_cpu_state s = prot32(3);
    idt32_set(0x80, SEL_CODE32, 0x00407000, 0xE, 0, true);
    vtx_cpu_state before = s;
    vtx_deliver_result r = run(&s, 0x80, VTX_EVT_SW_INT, false, 0, 2);
    expect_fault(&r, 13, true, 0x80 * 8 + 2);
    expect_unchanged(&before, &s);
    r = run(&s, 0x80, VTX_EVT_SW_EXC, false, 0, 1);
    expect_fault(&r, 13, true, 0x80 * 8 + 2);
    /* The same vector injected as an external interrupt (type 0) skips the check. */
    r = run(&s, 0x80, VTX_EVT_EXTINT, false, 0, 0);
    cr_expect_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(get(STK0 - 20, 4), 0x401234, "type 0 pushes RIP itself");
}

Test(deliver, icebp_type5_skips_gate_dpl_check)
{
    VTX_COVERS("INJ-10", "INJ-7");
    vtx_cpu_state s = prot32(3);
    idt32_set(1, SEL_CODE32, 0x00409000, 0xE, 0, true);
    vtx_deliver_result r = run(&s, 1, VTX_EVT_PRIV_SW, false, 0, 1);
    cr_assert_eq(r.outcome, VTX_DELIVERED, "INJ-10: type 5 skips the DPL check");
    cr_expect_eq(get(STK0 - 20, 4), 0x401235, "INJ-7: RIP + insn_len for type 5");
}

/* SDM 6.13 "Error Code": EXT = 1 for external events, IDT bit = 1 for gate errors. */
Test(deliver, not_present_gate_is_np_with_ext)
{
    VTX_COVERS("INJ-15");
    vtx_cpu_state s = prot32(0);
    idt32_set(0x30, SEL_CODE32, 0x1000, 0xE, 3, false);
    vtx_cpu_state before = s;
    vtx_deliver_result r = run(&s, 0x30, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 11, true, 0x30 * 8 + 2 + 1);
    expect_unchanged(&before, &s);
    r = run(&s, 0x30, VTX_EVT_SW_INT, false, 0, 2);
    expect_fault(&r, 11, true, 0x30 * 8 + 2); /* INJ-15: EXT = 0 for INT n */
    r = run(&s, 0x30, VTX_EVT_NMI, false, 0, 0);
    expect_fault(&r, 11, true, 0x30 * 8 + 3);
}

Test(deliver, idt_limit_is_gp_with_idt_bit)
{
    vtx_cpu_state s = prot32(0);
    s.idtr_limit = 0x30 * 8 + 6; /* one byte short of the gate */
    idt32_set(0x30, SEL_CODE32, 0x1000, 0xE, 0, true);
    vtx_deliver_result r = run(&s, 0x30, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 13, true, 0x30 * 8 + 3);
    r = run(&s, 0x30, VTX_EVT_SW_INT, false, 0, 2);
    expect_fault(&r, 13, true, 0x30 * 8 + 2);
    s.idtr_limit = 0x30 * 8 + 7;
    r = run(&s, 0x30, VTX_EVT_HW_EXC, false, 0, 0);
    cr_expect_eq(r.outcome, VTX_DELIVERED);
}

Test(deliver, bad_gate_types_are_gp)
{
    static const unsigned bad[] = { 0, 1, 2, 3, 4, 8, 9, 0xA, 0xB, 0xC, 0xD };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vtx_cpu_state s = prot32(0);
        idt32_set(0x40, SEL_CODE32, 0x1000, bad[i], 0, true);
        vtx_deliver_result r = run(&s, 0x40, VTX_EVT_HW_EXC, false, 0, 0);
        expect_fault(&r, 13, true, 0x40 * 8 + 3);
    }
    /* A code/data descriptor (S = 1) in the IDT is not a gate either. */
    vtx_cpu_state s = prot32(0);
    put(IDT + 0x40 * 8, desc_raw(0, 0xFFFFF, 0x9A, 0xC), 8);
    vtx_deliver_result r = run(&s, 0x40, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 13, true, 0x40 * 8 + 3);
}

/* A task gate in the IDT (Vol. 2 INT n, TASK-GATE; cpu/task_switch.h): once the
 * checks on its TSS selector pass, delivery stops with TASK_GATE (the switch is
 * the caller's: VMX exits on it) and changes nothing. SEL_DATA32_3_AS_SS0 is
 * turned into the TSS the gate names. */
#define SEL_NEW_TSS SEL_DATA32_3_AS_SS0

Test(deliver, task_gate_is_reported)
{
    vtx_cpu_state s = prot32(0);
    gdt_set(SEL_NEW_TSS, desc_raw(0x3800, 0x67, 0x89, 0x0)); /* available 32-bit TSS */
    idt32_set(8, SEL_NEW_TSS, 0, 0x5, 0, true);
    vtx_cpu_state before = s;
    uint8_t gdt_before[SEL_GDT_END];
    memcpy(gdt_before, mem + GDT, sizeof gdt_before);
    vtx_deliver_result r = run(&s, 8, VTX_EVT_HW_EXC, true, 0, 0);
    cr_expect_eq(r.outcome, VTX_DELIVER_TASK_GATE);
    cr_expect_eq(r.address, SEL_NEW_TSS, "the TSS selector from the gate");
    expect_unchanged(&before, &s);
    cr_expect(memcmp(gdt_before, mem + GDT, sizeof gdt_before) == 0, "no busy bit or accessed bit is written");
    /* A 16-bit TSS needs a limit of 2BH. */
    gdt_set(SEL_NEW_TSS, desc_raw(0x3800, 0x2B, 0x81, 0x0));
    r = run(&s, 8, VTX_EVT_HW_EXC, true, 0, 0);
    cr_expect_eq(r.outcome, VTX_DELIVER_TASK_GATE, "16-bit TSS with limit 2BH");
}

Test(deliver, task_gate_tss_checks_fault_with_ext)
{
    /* The TSS selector's checks in order; EXT = 1 for an exception, 0 for INT n. */
    static const struct { uint16_t sel; uint64_t desc; uint8_t vec; const char *what; } t[] = {
        {SEL_NEW_TSS | 4, 0, 13, "TI = 1 (TSS descriptors live in the GDT)"},
        {SEL_GDT_END + 0x18, 0, 13, "beyond the GDT limit"},
        {SEL_TSS, 0, 13, "a busy TSS"},
        {SEL_CODE32, 0, 13, "a code segment, not a TSS"},
        {SEL_NEW_TSS, 0x0000090000000067ull | (0x3800ull << 16), 11, "an available TSS, not present"},
        {SEL_NEW_TSS, 0x0000890000000066ull | (0x3800ull << 16), 10, "a 32-bit TSS with limit 66H"},
        {SEL_NEW_TSS, 0x000081000000002Aull | (0x3800ull << 16), 10, "a 16-bit TSS with limit 2AH"},
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        vtx_cpu_state s = prot32(0);
        if (t[i].desc)
            gdt_set(SEL_NEW_TSS, t[i].desc);
        idt32_set(8, t[i].sel, 0, 0x5, 0, true);
        idt32_set(0x80, t[i].sel, 0, 0x5, 0, true);
        vtx_cpu_state before = s;
        vtx_deliver_result r = run(&s, 8, VTX_EVT_HW_EXC, true, 0, 0);
        cr_expect_eq(r.outcome, VTX_DELIVER_FAULT, "%s: a fault", t[i].what);
        cr_expect_eq(r.fault.vector, t[i].vec, "%s: vector %u, expected %u", t[i].what, r.fault.vector, t[i].vec);
        cr_expect_eq(r.fault.error_code, (t[i].sel & 0xFFFCu) | 1, "%s: error code %#x", t[i].what, r.fault.error_code);
        expect_unchanged(&before, &s);
        r = run(&s, 0x80, VTX_EVT_SW_INT, false, 0, 2);
        cr_expect_eq(r.fault.vector, t[i].vec, "%s (INT 80H): vector", t[i].what);
        cr_expect_eq(r.fault.error_code, t[i].sel & 0xFFFCu, "%s (INT 80H): EXT = 0", t[i].what);
    }
}

Test(deliver, unmapped_idt_is_reported_with_the_address)
{
    vtx_cpu_state s = prot32(0);
    s.idtr_base = MEM_SIZE + 0x100;
    vtx_cpu_state before = s;
    vtx_deliver_result r = run(&s, 2, VTX_EVT_NMI, false, 0, 0);
    cr_expect_eq(r.outcome, VTX_DELIVER_UNMAPPED);
    cr_expect_eq(r.address, MEM_SIZE + 0x100 + 16);
    expect_unchanged(&before, &s);
}

/* Vol. 2 INT n TRAP-OR-INTERRUPT-GATE: the checks of the target code segment. */
Test(deliver, target_code_segment_checks)
{
    vtx_cpu_state s = prot32(0);
    idt32_set(0x41, 0x0003, 0x1000, 0xE, 0, true); /* NULL selector → #GP(EXT) */
    vtx_deliver_result r = run(&s, 0x41, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 13, true, 1);
    idt32_set(0x41, 0x0400, 0x1000, 0xE, 0, true); /* beyond the GDT limit */
    r = run(&s, 0x41, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 13, true, 0x0400 | 1);
    idt32_set(0x41, 0x0404 | 2, 0x1000, 0xE, 0, true); /* LDT selector, LDTR unusable; RPL dropped, TI kept */
    r = run(&s, 0x41, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 13, true, 0x0404 | 1);
    idt32_set(0x41, SEL_DATA_AS_CODE, 0x1000, 0xE, 0, true); /* not code */
    r = run(&s, 0x41, VTX_EVT_SW_INT, false, 0, 2);
    expect_fault(&r, 13, true, SEL_DATA_AS_CODE); /* EXT = 0 for INT n */
    idt32_set(0x41, SEL_NP_CODE, 0x1000, 0xE, 0, true); /* not present → #NP(sel | EXT) */
    r = run(&s, 0x41, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 11, true, SEL_NP_CODE | 1);
    vtx_cpu_state u = prot32(3);
    idt32_set(0x41, SEL_CODE32_1, 0x1000, 0xE, 0, true); /* DPL 1 < CPL 3: needs SS1, a null selector */
    r = run(&u, 0x41, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 10, true, 1);
    vtx_cpu_state k = prot32(0);
    idt32_set(0x41, SEL_UCODE32, 0x1000, 0xE, 0, true); /* DPL 3 > CPL 0 */
    r = run(&k, 0x41, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 13, true, SEL_UCODE32 | 1);
    /* EIP beyond the CS limit → #GP(EXT) (error code 0 + EXT). */
    gdt_set(SEL_CODE32, desc_raw(0, 0x0FFF, 0x9B, 0x4));
    idt32_set(0x41, SEL_CODE32, 0x1000, 0xE, 0, true);
    r = run(&k, 0x41, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 13, true, 1);
}

/* A conforming segment: no privilege change, no stack switch, CS.RPL = CPL. */
Test(deliver, conforming_target_keeps_cpl_and_stack)
{
    vtx_cpu_state s = prot32(3);
    idt32_set(0x42, SEL_CONF, 0x00410000, 0xE, 3, true);
    vtx_deliver_result r = run(&s, 0x42, VTX_EVT_SW_INT, false, 0, 2);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(s.seg[VTX_S_CS].sel, SEL_CONF | 3);
    cr_expect_eq(s.seg[VTX_S_SS].sel, SEL_UDATA32 | 3);
    cr_expect_eq(s.gpr[VTX_R_RSP], STK3 - 12);
    cr_expect_eq(get(STK3 - 8, 4), SEL_UCODE32 | 3);
}

/* Vol. 2 INT n INTER-PRIVILEGE-LEVEL-INTERRUPT: the TSS and new SS checks → #TS / #SS. */
Test(deliver, tss_stack_checks)
{
    vtx_cpu_state s = prot32(3);
    idt32_set(0x50, SEL_CODE32, 0x1000, 0xE, 3, true);
    vtx_cpu_state before = s;
    put(TSS + 8, 0, 2); /* SS0 null → #TS(EXT) */
    vtx_deliver_result r = run(&s, 0x50, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 10, true, 1);
    put(TSS + 8, SEL_DATA32 | 1, 2); /* RPL != new CPL */
    r = run(&s, 0x50, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 10, true, SEL_DATA32 | 1);
    put(TSS + 8, SEL_DATA32_3_AS_SS0, 2); /* DPL 3 != 0 */
    r = run(&s, 0x50, VTX_EVT_SW_INT, false, 0, 2);
    expect_fault(&r, 10, true, SEL_DATA32_3_AS_SS0);
    put(TSS + 8, SEL_CODE32, 2); /* not a writable data segment */
    r = run(&s, 0x50, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 10, true, SEL_CODE32 | 1);
    put(TSS + 8, SEL_DATA32, 2);
    gdt_set(SEL_DATA32, desc_raw(0, 0xFFFFF, 0x12, 0xC)); /* not present → #SS(sel | EXT) */
    r = run(&s, 0x50, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 12, true, SEL_DATA32 | 1);
    gdt_set(SEL_DATA32, desc_raw(0, 0x7, 0x92, 0xC)); /* limit 0x7FFF: 20 bytes below 0x8000 fit */
    r = run(&s, 0x50, VTX_EVT_EXTINT, false, 0, 0);
    cr_expect_eq(r.outcome, VTX_DELIVERED);
    s = before;
    gdt_set(SEL_DATA32, desc_raw(0, 0x7, 0x92, 0x4)); /* byte granular: limit 7 → #SS(sel | EXT) */
    r = run(&s, 0x50, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 12, true, SEL_DATA32 | 1);
    s.seg[VTX_S_TR].limit = 8; /* SS0 is at bytes 8-9: a limit of 8 cuts it → #TS(TR | EXT) */
    r = run(&s, 0x50, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 10, true, SEL_TSS | 1);
}

/* Intra-privilege stack room: #SS(EXT) with a NULL-selector error code. */
Test(deliver, intra_privilege_stack_limit_is_ss)
{
    vtx_cpu_state s = prot32(0);
    s.seg[VTX_S_SS] = seg(SEL_DATA32, 0, STK0 - 9, AR_DATA32_0); /* 12 bytes do not fit below STK0 */
    idt32_set(0x20, SEL_CODE32, 0x1000, 0xE, 0, true);
    vtx_cpu_state before = s;
    vtx_deliver_result r = run(&s, 0x20, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 12, true, 1);
    expect_unchanged(&before, &s);
    /* Expand-down stack: valid offsets are above the limit. */
    s.seg[VTX_S_SS] = seg(SEL_DATA32, 0, STK0 - 13, AR_DATA32_0 | 4);
    r = run(&s, 0x20, VTX_EVT_EXTINT, false, 0, 0);
    cr_expect_eq(r.outcome, VTX_DELIVERED);
}
