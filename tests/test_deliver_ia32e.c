/*
 * Event delivery in IA-32e mode (cpu/deliver.c; SDM Vol. 3 6.14 "Exception and
 * Interrupt Handling in 64-bit Mode"): the 64-bit frame, RSP0 and IST stacks,
 * gate and target checks, and page faults during delivery.
 *
 * Each test lays out GDT, IDT, TSS and page tables by hand in a flat
 * guest-physical buffer (tests/deliver_fixture.h), delivers one event and
 * checks the resulting state and the pushed frame byte by byte.
 */
#include "deliver_fixture.h"

/* 16-byte IA-32e gate (SDM 6.14.1 Figure 6-8). */
static void idt64_set(uint8_t vec, uint16_t sel, uint64_t off, unsigned type, unsigned dpl, unsigned ist,
                      bool present)
{
    uint64_t lo = (off & 0xFFFFull) | ((uint64_t)sel << 16) | ((uint64_t)ist << 32) | ((uint64_t)type << 40) |
                  ((uint64_t)dpl << 45) | ((uint64_t)present << 47) | (((off >> 16) & 0xFFFF) << 48);
    put(IDT + vec * 16u, lo, 8);
    put(IDT + vec * 16u + 8, off >> 32, 8);
}

/* IA-32e paging tables identity-mapping the low 8 MiB (4 x 2-MiB pages, U/S = 1). */
#define PML4 0x100000u
#define PDPT 0x101000u
#define PD 0x102000u
#define PT 0x103000u
static void map_identity_64(void)
{
    put(PML4, PDPT | 0x7, 8);
    put(PDPT, PD | 0x7, 8);
    for (unsigned i = 0; i < 4; i++)
        put(PD + 8 * i, (i << 21) | 0x87, 8);
}
/* Replace the first 2 MiB by 4-KiB pages (PT), all present/RW/US. */
static void split_first_2m(void)
{
    put(PD, PT | 0x7, 8);
    for (unsigned i = 0; i < 512; i++)
        put(PT + 8 * i, (i << 12) | 0x7, 8);
}

static vtx_cpu_state long64(unsigned cpl)
{
    build_gdt();
    map_identity_64();
    vtx_cpu_state s = base_state();
    s.cr0 = 0x80010011; /* PG, WP, ET, PE */
    s.cr3 = PML4;
    s.cr4 = 0x20;       /* PAE */
    s.efer = 0xD00;     /* NXE, LMA, LME */
    s.gdtr_base = GDT;
    s.gdtr_limit = SEL_GDT_END - 1;
    s.idtr_base = IDT;
    s.idtr_limit = 256 * 16 - 1;
    if (cpl == 3) {
        s.seg[VTX_S_CS] = seg(SEL_UCODE64 | 3, 0, 0xFFFFFFFF, AR_CODE64_3);
        s.seg[VTX_S_SS] = seg(SEL_UDATA64 | 3, 0, 0xFFFFFFFF, AR_DATA32_3);
        s.gpr[VTX_R_RSP] = STK3 - 0x18 + 3; /* deliberately misaligned */
    } else {
        s.seg[VTX_S_CS] = seg(SEL_CODE64, 0, 0xFFFFFFFF, AR_CODE64_0);
        s.seg[VTX_S_SS] = seg(SEL_DATA32, 0, 0xFFFFFFFF, AR_DATA32_0);
        s.gpr[VTX_R_RSP] = STK0 - 8; /* misaligned by 8 */
    }
    s.seg[VTX_S_TR] = seg(SEL_TSS, TSS, 0x67, AR_TSS64_BUSY);
    /* 64-bit TSS (SDM 8.7 Figure 8-11): RSP0 at 4, IST1 at 0x24. */
    put(TSS + 4, STK0, 8);
    put(TSS + 0x24, ISTK + 8, 8); /* misaligned IST pointer */
    s.rip = 0x401234; /* inside the identity map */
    return s;
}

/* ================================================================ IA-32e mode */

/* SDM 6.14.2 "64-Bit Mode Stack Frame": SS:RSP always pushed, 8-byte values,
 * RSP aligned to 16 before the pushes. */
Test(deliver, long64_same_privilege_aligns_and_pushes_ss_rsp)
{
    vtx_cpu_state s = long64(0);
    s.rflags = 0x2 | F_IF | F_RF | 0x40 /* ZF */;
    idt64_set(0x20, SEL_CODE64, 0x402000, 0xE, 0, 0, true);
    uint64_t old_rsp = s.gpr[VTX_R_RSP];
    vtx_deliver_result r = run(&s, 0x20, VTX_EVT_EXTINT, false, 0, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    uint64_t base = STK0 - 16 - 40; /* 0x7FF8 aligned down to 0x7FF0 */
    cr_expect_eq(s.gpr[VTX_R_RSP], base);
    const uint8_t frame[] = {
        0x34, 0x12, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, /* RIP */
        0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* CS */
        0x42, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, /* RFLAGS as it was */
        0xF8, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* old RSP (unaligned) */
        0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* old SS */
    };
    cr_expect_eq(old_rsp, 0x7FF8);
    expect_bytes("64-bit frame", base, frame, sizeof frame);
    cr_expect_eq(s.rip, 0x402000);
    cr_expect_eq(s.seg[VTX_S_CS].sel, SEL_CODE64);
    cr_expect_eq(s.seg[VTX_S_SS].sel, SEL_DATA32, "no SS change without a privilege change");
    cr_expect_eq(s.rflags, 0x42ull, "IF and RF cleared");
}

Test(deliver, long64_error_code_is_8_bytes)
{
    vtx_cpu_state s = long64(0);
    s.gpr[VTX_R_RSP] = STK0; /* already aligned */
    idt64_set(14, SEL_CODE64, 0x403000, 0xF, 0, 0, true);
    vtx_deliver_result r = run(&s, 14, VTX_EVT_HW_EXC, true, 0x80000011u, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(s.gpr[VTX_R_RSP], STK0 - 48);
    const uint8_t ec[] = { 0x11, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00 };
    expect_bytes("64-bit error code, zero-extended", STK0 - 48, ec, sizeof ec);
    cr_expect_eq(get(STK0 - 16, 8), STK0, "old RSP");
}

/* SDM 6.14 "Exception and Interrupt Handling in 64-bit Mode" also applies to
 * compatibility mode: 64-bit gates and frames; the pushed EIP (+ length) wraps at 32 bits. */
Test(deliver, compat_mode_uses_64_bit_frame)
{
    vtx_cpu_state s = long64(3);
    s.seg[VTX_S_CS] = seg(SEL_UCODE32 | 3, 0, 0xFFFFFFFF, AR_CODE32_3);
    s.rip = 0xFFFFFFFF;
    idt64_set(0x80, SEL_CODE64, 0x404000, 0xE, 3, 0, true);
    vtx_deliver_result r = run(&s, 0x80, VTX_EVT_SW_INT, false, 0, 2);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(s.gpr[VTX_R_RSP], STK0 - 40);
    cr_expect_eq(get(STK0 - 40, 8), 1, "EIP + 2 wrapped at 32 bits");
    cr_expect_eq(get(STK0 - 32, 8), SEL_UCODE32 | 3);
    cr_expect_eq(s.seg[VTX_S_CS].ar, AR_CODE64_0);
}

/* SDM 6.14.4 "Stack Switching in IA-32e Mode": RSP0 from the TSS, SS = NULL with RPL = new CPL. */
Test(deliver, long64_cpl3_to_ring0_via_rsp0)
{
    vtx_cpu_state s = long64(3);
    s.rflags = 0x2 | F_IF | F_AC;
    idt64_set(0x80, SEL_CODE64, 0x404000, 0xE, 3, 0, true);
    uint64_t old_rsp = s.gpr[VTX_R_RSP];
    vtx_deliver_result r = run(&s, 0x80, VTX_EVT_SW_INT, false, 0, 2);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(s.gpr[VTX_R_RSP], STK0 - 40);
    const uint64_t vals[] = { 0x401236, SEL_UCODE64 | 3, 0x2 | F_IF | F_AC, old_rsp, SEL_UDATA64 | 3 };
    for (unsigned i = 0; i < 5; i++)
        cr_expect_eq(get(STK0 - 40 + 8 * i, 8), vals[i], "qword %u: %#llx", i,
                     (unsigned long long)get(STK0 - 40 + 8 * i, 8));
    cr_expect_eq(s.seg[VTX_S_SS].sel, 0);
    cr_expect(s.seg[VTX_S_SS].ar & VTX_AR_UNUSABLE);
    cr_expect_eq((s.seg[VTX_S_SS].ar >> 5) & 3, 0);
    cr_expect_eq(s.seg[VTX_S_CS].sel, SEL_CODE64);
    cr_expect_eq(s.rflags, 0x2ull | F_AC, "AC is not cleared in IA-32e mode");
}

/* SDM 6.14.5 "Interrupt Stack Table": the IST pointer replaces RSP even without a privilege change. */
Test(deliver, long64_ist_stack)
{
    vtx_cpu_state s = long64(0);
    idt64_set(2, SEL_CODE64, 0x405000, 0xE, 0, 1, true);
    uint64_t old_rsp = s.gpr[VTX_R_RSP];
    vtx_deliver_result r = run(&s, 2, VTX_EVT_NMI, false, 0, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(s.gpr[VTX_R_RSP], ISTK - 40, "IST1 0x%x+8 aligned down to 0x%x", ISTK, ISTK);
    cr_expect_eq(get(ISTK - 16, 8), old_rsp);
    cr_expect_eq(get(ISTK - 8, 8), SEL_DATA32);
    /* From CPL 3 with IST: the IST stack, SS = NULL. */
    vtx_cpu_state u = long64(3);
    r = run(&u, 2, VTX_EVT_NMI, false, 0, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(u.gpr[VTX_R_RSP], ISTK - 40);
    cr_expect_eq(u.seg[VTX_S_SS].sel, 0);
    /* An IST slot beyond the TSS limit → #TS(TR | EXT). */
    vtx_cpu_state t = long64(0);
    t.seg[VTX_S_TR].limit = 0x2A;
    r = run(&t, 2, VTX_EVT_NMI, false, 0, 0);
    expect_fault(&r, 10, true, SEL_TSS | 1);
}

Test(deliver, long64_gate_and_target_checks)
{
    vtx_cpu_state s = long64(0);
    idt64_set(0x70, SEL_CODE64, 0x1000, 0x6, 0, 0, true); /* 16-bit gates do not exist in IA-32e mode */
    vtx_deliver_result r = run(&s, 0x70, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 13, true, 0x70 * 8 + 3);
    idt64_set(0x70, SEL_CODE64, 0x1000, 0x5, 0, 0, true); /* nor task gates */
    r = run(&s, 0x70, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 13, true, 0x70 * 8 + 3);
    idt64_set(0x70, SEL_CODE32, 0x1000, 0xE, 0, 0, true); /* target must be 64-bit code */
    r = run(&s, 0x70, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 13, true, SEL_CODE32 | 1);
    idt64_set(0x70, SEL_CODE64, 0x0000800000000000ull, 0xE, 0, 0, true); /* non-canonical RIP */
    r = run(&s, 0x70, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 13, true, 1);
    s.idtr_limit = 0x70 * 16 + 14; /* 16-byte gates */
    idt64_set(0x70, SEL_CODE64, 0x1000, 0xE, 0, 0, true);
    r = run(&s, 0x70, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 13, true, 0x70 * 8 + 3);
    s = long64(0);
    put(TSS + 0x24, 0x0000900000000000ull, 8); /* non-canonical IST → #SS(EXT) */
    idt64_set(0x70, SEL_CODE64, 0x1000, 0xE, 0, 1, true);
    r = run(&s, 0x70, VTX_EVT_HW_EXC, false, 0, 0);
    expect_fault(&r, 12, true, 1);
}

/* SDM 6.13 / 4.7: a #PF while pushing the frame; CR2 is returned, the state and memory untouched. */
Test(deliver, page_fault_during_delivery_leaves_everything_unchanged)
{
    vtx_cpu_state s = long64(0);
    split_first_2m();
    put(PT + 8 * 7, 0x7000 | 0x6, 8); /* page 0x7000 not present */
    s.gpr[VTX_R_RSP] = 0x8010;        /* SS, RSP go to 0x8008/0x8000, then 0x7FF8 faults */
    idt64_set(0x20, SEL_CODE64, 0x1000, 0xE, 0, 0, true);
    vtx_cpu_state before = s;
    uint8_t *snap = malloc(MEM_SIZE);
    cr_assert(snap);
    memcpy(snap, mem, MEM_SIZE);
    unsigned writes = mem_writes;
    vtx_deliver_result r = run(&s, 0x20, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 14, true, VTX_PF_W);
    cr_expect_eq(r.address, 0x7FF8, "CR2 = the faulting push: %#llx", (unsigned long long)r.address);
    expect_unchanged(&before, &s);
    cr_expect_eq(mem_writes, writes, "no write reached memory");
    cr_expect(memcmp(snap, mem, MEM_SIZE) == 0, "memory unchanged (frame and A/D bits)");
    free(snap);
    /* From CPL 3 the RSP0 stack write is a supervisor access: P=0, W=1, U=0. */
    vtx_cpu_state u = long64(3);
    split_first_2m();
    put(PT + 8 * 7, 0x7000 | 0x6, 8);
    put(TSS + 4, 0x8000, 8);
    idt64_set(0x21, SEL_CODE64, 0x1000, 0xE, 0, 0, true);
    r = run(&u, 0x21, VTX_EVT_EXTINT, false, 0, 0);
    expect_fault(&r, 14, true, VTX_PF_W);
    cr_expect_eq(r.address, 0x7FF8);
}

Test(deliver, page_fault_on_idt_read_is_supervisor_read)
{
    vtx_cpu_state s = long64(3);
    split_first_2m();
    put(PT + 8 * 2, 0x2000 | 0x6, 8); /* IDT page not present */
    vtx_deliver_result r = run(&s, 0x20, VTX_EVT_SW_INT, false, 0, 2);
    expect_fault(&r, 14, true, 0);
    cr_expect_eq(r.address, IDT + 0x20 * 16);
}

Test(deliver, accessed_and_dirty_bits_set_by_delivery)
{
    vtx_cpu_state s = long64(0);
    split_first_2m();
    idt64_set(0x20, SEL_CODE64, 0x1000, 0xE, 0, 0, true);
    vtx_deliver_result r = run(&s, 0x20, VTX_EVT_EXTINT, false, 0, 0);
    cr_assert_eq(r.outcome, VTX_DELIVERED);
    cr_expect_eq(get(PT + 8 * 7, 8), 0x7000 | 0x67ull, "stack page: A and D");
    cr_expect_eq(get(PT + 8 * 2, 8), 0x2000 | 0x27ull, "IDT page: A only");
    cr_expect_eq(get(PT + 8 * 1, 8), 0x1000 | 0x67ull, "GDT page: A and D (CS accessed bit written)");
    cr_expect_eq(get(PML4, 8), PDPT | 0x27ull);
}
