/*
 * Event delivery in real mode (through the IVT), in 16-bit protected mode, and
 * from virtual-8086 mode to ring 0 (cpu/deliver.c; SDM Vol. 3 chapter 6 and
 * 20.1.4 "Interrupt and Exception Handling" in real-address mode).
 *
 * Each test lays out GDT, IDT, TSS and page tables by hand in a flat
 * guest-physical buffer (tests/deliver_fixture.h), delivers one event and
 * checks the resulting state and the pushed frame byte by byte.
 */
#include "deliver_fixture.h"

/* ================================================================ real mode */

/* Vol. 2 INT n REAL-ADDRESS-MODE; INJ-6: 4-byte IVT entries, FLAGS, CS, IP pushed,
 * IF, TF, AC (and RF) cleared, no error code. */
static vtx_cpu_state real_state(void)
{
    vtx_cpu_state s = base_state();
    s.idtr_base = 0;
    s.idtr_limit = 0x3FF;
    s.seg[VTX_S_CS] = seg(0x0100, 0x1000, 0xFFFF, 0x9B);
    s.seg[VTX_S_SS] = seg(0x2000, 0x20000, 0xFFFF, 0x93);
    s.seg[VTX_S_DS] = s.seg[VTX_S_ES] = s.seg[VTX_S_SS];
    s.gpr[VTX_R_RSP] = 0xABCD0100; /* upper ESP bits are kept: a 16-bit stack uses SP */
    s.rip = 0x0200;
    s.rflags = 0x2 | F_IF | F_TF | F_AC | F_RF | 0x80 /* SF */;
    put(0x21 * 4, 0x12345678, 4); /* 1234:5678 */
    return s;
}

Test(deliver, real_mode_int_n_pushes_flags_cs_ip)
{
    vtx_cpu_state s = real_state();
    vtx_deliver_result r = run(&s, 0x21, VTX_EVT_SW_INT, false, 0, 2);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    /* SS.base 0x20000 + SP 0x00FA: IP (after the 2-byte INT), CS, FLAGS. */
    const uint8_t frame[] = { 0x02, 0x02, 0x00, 0x01, 0x82, 0x03 };
    expect_bytes("real-mode frame", 0x200FA, frame, sizeof frame);
    cr_expect_eq(s.gpr[VTX_R_RSP], 0xABCD00FAull);
    cr_expect_eq(s.seg[VTX_S_CS].sel, 0x1234);
    cr_expect_eq(s.seg[VTX_S_CS].base, 0x12340);
    cr_expect_eq(s.seg[VTX_S_CS].limit, 0xFFFF, "real mode keeps the CS limit");
    cr_expect_eq(s.rip, 0x5678);
    cr_expect_eq(s.rflags, 0x2 | 0x80ull, "IF, TF, AC, RF cleared; others kept: %#llx",
                 (unsigned long long)s.rflags);
}

Test(deliver, real_mode_hw_exception_never_pushes_an_error_code)
{
    vtx_cpu_state s = real_state();
    put(13 * 4, 0x00001111, 4);
    vtx_deliver_result r = run(&s, 13, VTX_EVT_HW_EXC, true, 0xBEEF, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(s.gpr[VTX_R_RSP] & 0xFFFF, 0x00FA, "6 bytes only, no error code");
    const uint8_t frame[] = { 0x00, 0x02, 0x00, 0x01, 0x82, 0x03 }; /* return IP = RIP for type 3 */
    expect_bytes("real-mode #GP frame", 0x200FA, frame, sizeof frame);
    cr_expect_eq(s.rip, 0x1111);
    cr_expect_eq(s.seg[VTX_S_CS].sel, 0);
}

Test(deliver, real_mode_ivt_limit_is_gp_without_error_code)
{
    vtx_cpu_state s = real_state();
    s.idtr_limit = 0x86; /* vector 0x21 needs 0x84..0x87 */
    vtx_cpu_state before = s;
    uint8_t snap[0x100];
    memcpy(snap, mem + 0x20000, sizeof snap);
    vtx_deliver_result r = run(&s, 0x21, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 13, false, 0);
    expect_unchanged(&before, &s);
    cr_expect(memcmp(snap, mem + 0x20000, sizeof snap) == 0, "nothing pushed");
    s.idtr_limit = 0x87;
    r = run(&s, 0x21, VTX_EVT_EXTINT, false, 0, 0);
    cr_expect_eq(r.outcome, VTX_DELIVERED);
}

Test(deliver, real_mode_stack_wrap_is_ss_fault)
{
    vtx_cpu_state s = real_state();
    s.gpr[VTX_R_RSP] = 1; /* the first push would straddle 0xFFFF/0x10000 */
    vtx_cpu_state before = s;
    vtx_deliver_result r = run(&s, 0x21, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 12, false, 0);
    expect_unchanged(&before, &s);
    /* SP = 0 wraps cleanly to 0xFFFE (SDM: the stack wraps in 16-bit mode). */
    s.gpr[VTX_R_RSP] = 0;
    r = run(&s, 0x21, VTX_EVT_EXTINT, false, 0, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(s.gpr[VTX_R_RSP], 0xFFFA);
    cr_expect_eq(get(0x20000 + 0xFFFE, 2), 0x0382);
}

/* ================================================================ 16-bit protected mode */

/* SDM 6.12.1: a 16-bit gate pushes 16-bit values (FLAGS, CS, IP, error code). */
Test(deliver, prot16_gate_pushes_16_bit_frame)
{
    vtx_cpu_state s = prot32(0);
    s.seg[VTX_S_CS] = seg(SEL_CODE16, 0x10000, 0xFFFF, AR_CODE16_0);
    s.seg[VTX_S_SS] = seg(SEL_DATA16, 0x20000, 0xFFFF, AR_DATA16_0);
    s.gpr[VTX_R_RSP] = 0x1000;
    s.rip = 0xFFFF; /* INT n at FFFF: the return IP wraps to 0x0001 */
    s.rflags = 0x2 | F_IF | F_TF | 0x10000;
    idt32_set(0x60, SEL_CODE16, 0x12345678, 0x6, 0, true); /* 16-bit interrupt gate: offset & 0xFFFF */
    vtx_deliver_result r = run(&s, 0x60, VTX_EVT_SW_INT, false, 0, 2);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    const uint8_t frame[] = { 0x01, 0x00, 0x48, 0x00, 0x02, 0x03 };
    expect_bytes("16-bit frame", 0x20000 + 0x1000 - 6, frame, sizeof frame);
    cr_expect_eq(s.gpr[VTX_R_RSP], 0x1000 - 6);
    cr_expect_eq(s.rip, 0x5678);
    cr_expect_eq(s.seg[VTX_S_CS].base, 0x10000);
    cr_expect_eq(s.rflags, 0x2ull);
    /* With an error code: truncated to 16 bits; 16-bit trap gate keeps IF. */
    vtx_cpu_state t = prot32(0);
    t.seg[VTX_S_CS] = seg(SEL_CODE16, 0x10000, 0xFFFF, AR_CODE16_0);
    t.seg[VTX_S_SS] = seg(SEL_DATA16, 0x20000, 0xFFFF, AR_DATA16_0);
    t.gpr[VTX_R_RSP] = 0x2000;
    t.rip = 0x0100;
    t.rflags = 0x2 | F_IF;
    idt32_set(13, SEL_CODE16, 0x0200, 0x7, 0, true);
    r = run(&t, 13, VTX_EVT_HW_EXC, true, 0x12340058, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    const uint8_t frame2[] = { 0x58, 0x00, 0x00, 0x01, 0x48, 0x00, 0x02, 0x02 };
    expect_bytes("16-bit frame with error code", 0x20000 + 0x2000 - 8, frame2, sizeof frame2);
    cr_expect_eq(t.rflags, 0x2ull | F_IF);
}

/* 16-bit gate with a privilege change: SS:SP, FLAGS, CS, IP as words. */
Test(deliver, prot16_gate_inter_privilege)
{
    vtx_cpu_state s = prot32(3);
    s.gpr[VTX_R_RSP] = 0x12349000;
    idt32_set(0x61, SEL_CODE32, 0x5000, 0x6, 3, true);
    vtx_deliver_result r = run(&s, 0x61, VTX_EVT_SW_INT, false, 0, 2);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    const uint8_t frame[] = { 0x36, 0x12, 0x1B, 0x00, 0x02, 0x00, 0x00, 0x90, 0x23, 0x00 };
    expect_bytes("16-bit inter-privilege frame", STK0 - 10, frame, sizeof frame);
    cr_expect_eq(s.gpr[VTX_R_RSP], STK0 - 10);
}

/* ================================================================ V8086 → ring 0 */

/* Vol. 2 INT n INTERRUPT-FROM-VIRTUAL-8086-MODE: GS, FS, DS, ES, SS, ESP,
 * EFLAGS, CS, EIP pushed on the ring-0 stack, data segments nulled. */
Test(deliver, v8086_to_ring0_pushes_data_segments)
{
    vtx_cpu_state s = prot32(0);
    s.rflags = 0x2 | F_VM | F_IF;
    s.seg[VTX_S_CS] = seg(0x1000, 0x10000, 0xFFFF, 0xF3);
    s.seg[VTX_S_SS] = seg(0x2000, 0x20000, 0xFFFF, 0xF3);
    s.seg[VTX_S_DS] = seg(0x3000, 0x30000, 0xFFFF, 0xF3);
    s.seg[VTX_S_ES] = seg(0x4000, 0x40000, 0xFFFF, 0xF3);
    s.seg[VTX_S_FS] = seg(0x5000, 0x50000, 0xFFFF, 0xF3);
    s.seg[VTX_S_GS] = seg(0x6000, 0x60000, 0xFFFF, 0xF3);
    s.gpr[VTX_R_RSP] = 0x0FFE;
    s.rip = 0x0123;
    idt32_set(13, SEL_CODE32, 0x00420000, 0xE, 0, true);
    vtx_deliver_result r = run(&s, 13, VTX_EVT_HW_EXC, true, 0, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    const uint32_t exp[] = { 0, 0x0123, 0x1000, 0x2 | F_VM | F_IF, 0x0FFE, 0x2000, 0x4000, 0x3000, 0x5000, 0x6000 };
    for (unsigned i = 0; i < 10; i++)
        cr_expect_eq(get(STK0 - 40 + 4 * i, 4), exp[i], "dword %u of the V8086 frame: %#llx", i,
                     (unsigned long long)get(STK0 - 40 + 4 * i, 4));
    cr_expect_eq(s.gpr[VTX_R_RSP], STK0 - 40);
    cr_expect_eq(s.rflags, 0x2ull, "VM and IF cleared");
    cr_expect_eq(s.seg[VTX_S_DS].sel, 0);
    cr_expect(s.seg[VTX_S_DS].ar & VTX_AR_UNUSABLE);
    cr_expect_eq(s.seg[VTX_S_SS].sel, SEL_DATA32);
    /* A DPL-3 handler from V8086 is #GP(selector + EXT). */
    vtx_cpu_state t = s;
    t = prot32(0);
    t.rflags = 0x2 | F_VM;
    idt32_set(13, SEL_UCODE32, 0x1000, 0xE, 0, true);
    r = run(&t, 13, VTX_EVT_HW_EXC, true, 0, 0);
    expect_fault(&r, 13, true, SEL_UCODE32 | 1);
}
