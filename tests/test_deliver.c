/*
 * Event delivery through the IVT/IDT and guest paging, in pure C (cpu/deliver.c,
 * cpu/paging.c). Each test lays out GDT, IDT, TSS and page tables by hand in a
 * flat guest-physical buffer, delivers one event and checks the resulting state
 * and the pushed frame byte by byte.
 *
 * References: SDM Vol. 3 chapter 6 "Interrupt and Exception Handling" (6.10
 * "Interrupt Descriptor Table", 6.11 "IDT Descriptors", 6.12 "Exception and
 * Interrupt Handling", 6.13 "Error Code", 6.14 "Exception and Interrupt Handling
 * in 64-bit Mode", 6.15 "Exception and Interrupt Reference" Tables 6-4/6-5),
 * Vol. 2 "INT n/INTO/INT3/INT1" operation, chapter 4 "Paging", and the rules
 * catalogue E.3 (INJ-6..10, INJ-15).
 */
#include <criterion/criterion.h>
#include "covers.h"
#include <stdlib.h>
#include <string.h>

#include "../cpu/deliver.h"

/* ---------------------------------------------------------------- memory */

#define MEM_SIZE (8u << 20) /* 8 MiB at guest-physical 0; everything above is unmapped */

static uint8_t *mem;
static vtx_phys_mem pm;
static unsigned mem_writes;

static bool tm_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    (void)ctx;
    if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
        return false;
    memcpy(buf, mem + pa, len);
    return true;
}

static bool tm_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    (void)ctx;
    if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
        return false;
    memcpy(mem + pa, buf, len);
    mem_writes++;
    return true;
}

static void put(uint64_t pa, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        mem[pa + i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get(uint64_t pa, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)mem[pa + i] << (8 * i);
    return v;
}

/* Assert the bytes at pa, naming the first one that differs. */
static void expect_bytes(const char *what, uint64_t pa, const uint8_t *exp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(mem[pa + i], exp[i], "%s: byte %zu at %#llx is %#04x, expected %#04x", what, i,
                     (unsigned long long)(pa + i), mem[pa + i], exp[i]);
}

static void setup(void)
{
    mem = calloc(1, MEM_SIZE);
    cr_assert(mem);
    pm = (vtx_phys_mem){ .ctx = NULL, .read = tm_read, .write = tm_write };
    mem_writes = 0;
}
static void teardown(void) { free(mem); }

TestSuite(deliver, .init = setup, .fini = teardown);

/* ---------------------------------------------------------------- layout */

#define GDT 0x1000u
#define IDT 0x2000u
#define TSS 0x3000u
#define STK0 0x8000u   /* ring-0 stack top */
#define STK3 0x9000u   /* ring-3 stack top */
#define ISTK 0xA000u   /* IST stack top */

/* GDT selectors. */
enum {
    SEL_CODE32 = 0x08, SEL_DATA32 = 0x10, SEL_UCODE32 = 0x18, SEL_UDATA32 = 0x20, SEL_CODE64 = 0x28,
    SEL_UCODE64 = 0x30, SEL_UDATA64 = 0x38, SEL_TSS = 0x40, SEL_CODE16 = 0x48, SEL_DATA16 = 0x50,
    SEL_CONF = 0x58, SEL_NP_CODE = 0x60, SEL_DATA_AS_CODE = 0x68, SEL_CODE32_1 = 0x70, SEL_DATA32_3_AS_SS0 = 0x78,
    SEL_GDT_END = 0x80,
};

/* Access-rights values (VMCS layout) for the hidden parts. */
#define AR_CODE32_0 0xC09Bu
#define AR_DATA32_0 0xC093u
#define AR_CODE32_3 0xC0FBu
#define AR_DATA32_3 0xC0F3u
#define AR_CODE64_0 0xA09Bu
#define AR_CODE64_3 0xA0FBu
#define AR_CODE16_0 0x009Bu
#define AR_DATA16_0 0x0093u
#define AR_TSS32_BUSY 0x008Bu
#define AR_TSS64_BUSY 0x008Bu

#define F_IF 0x200ull
#define F_TF 0x100ull
#define F_NT 0x4000ull
#define F_RF 0x10000ull
#define F_VM 0x20000ull
#define F_AC 0x40000ull

static uint64_t desc_raw(uint32_t base, uint32_t limit20, uint8_t access, uint8_t flags4)
{
    return (limit20 & 0xFFFFull) | ((uint64_t)(base & 0xFFFFFF) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit20 >> 16) & 0xF) << 48) | ((uint64_t)(flags4 & 0xF) << 52) |
           ((uint64_t)(base >> 24) << 56);
}
static void gdt_set(uint16_t sel, uint64_t raw) { put(GDT + (sel & ~7u), raw, 8); }

/* Flags nibble: G=8, D/B=4, L=2. */
static void build_gdt(void)
{
    gdt_set(SEL_CODE32, desc_raw(0, 0xFFFFF, 0x9A, 0xC)); /* not yet accessed */
    gdt_set(SEL_DATA32, desc_raw(0, 0xFFFFF, 0x92, 0xC));
    gdt_set(SEL_UCODE32, desc_raw(0, 0xFFFFF, 0xFB, 0xC));
    gdt_set(SEL_UDATA32, desc_raw(0, 0xFFFFF, 0xF3, 0xC));
    gdt_set(SEL_CODE64, desc_raw(0, 0xFFFFF, 0x9A, 0xA));
    gdt_set(SEL_UCODE64, desc_raw(0, 0xFFFFF, 0xFB, 0xA));
    gdt_set(SEL_UDATA64, desc_raw(0, 0xFFFFF, 0xF3, 0xC));
    gdt_set(SEL_TSS, desc_raw(TSS, 0x67, 0x8B, 0x0));
    gdt_set(SEL_CODE16, desc_raw(0x10000, 0xFFFF, 0x9B, 0x0));
    gdt_set(SEL_DATA16, desc_raw(0x20000, 0xFFFF, 0x93, 0x0));
    gdt_set(SEL_CONF, desc_raw(0, 0xFFFFF, 0x9F, 0xC));
    gdt_set(SEL_NP_CODE, desc_raw(0, 0xFFFFF, 0x1B, 0xC));
    gdt_set(SEL_DATA_AS_CODE, desc_raw(0, 0xFFFFF, 0x93, 0xC));
    gdt_set(SEL_CODE32_1, desc_raw(0, 0xFFFFF, 0xBB, 0xC));
    gdt_set(SEL_DATA32_3_AS_SS0, desc_raw(0, 0xFFFFF, 0xF3, 0xC));
}

/* 8-byte protected-mode gate (SDM 6.11 Figure 6-2): type 5 task, 6/7 16-bit, 0xE/0xF 32-bit. */
static void idt32_set(uint8_t vec, uint16_t sel, uint32_t off, unsigned type, unsigned dpl, bool present)
{
    uint64_t g = (off & 0xFFFFull) | ((uint64_t)sel << 16) | ((uint64_t)type << 40) | ((uint64_t)dpl << 45) |
                 ((uint64_t)present << 47) | ((uint64_t)(off >> 16) << 48);
    put(IDT + vec * 8u, g, 8);
}

/* 16-byte IA-32e gate (SDM 6.14.1 Figure 6-8). */
static void idt64_set(uint8_t vec, uint16_t sel, uint64_t off, unsigned type, unsigned dpl, unsigned ist,
                      bool present)
{
    uint64_t lo = (off & 0xFFFFull) | ((uint64_t)sel << 16) | ((uint64_t)ist << 32) | ((uint64_t)type << 40) |
                  ((uint64_t)dpl << 45) | ((uint64_t)present << 47) | (((off >> 16) & 0xFFFF) << 48);
    put(IDT + vec * 16u, lo, 8);
    put(IDT + vec * 16u + 8, off >> 32, 8);
}

static vtx_cpu_seg seg(uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    return (vtx_cpu_seg){ .sel = sel, .base = base, .limit = limit, .ar = ar };
}

static vtx_cpu_state base_state(void)
{
    vtx_cpu_state s;
    memset(&s, 0, sizeof s);
    s.rflags = 0x2;
    s.seg[VTX_S_LDTR] = seg(0, 0, 0, VTX_AR_UNUSABLE);
    return s;
}

/* 32-bit protected mode, flat, paging off, at the given CPL. */
static vtx_cpu_state prot32(unsigned cpl)
{
    build_gdt();
    vtx_cpu_state s = base_state();
    s.cr0 = 0x11; /* PE, ET */
    s.gdtr_base = GDT;
    s.gdtr_limit = SEL_GDT_END - 1;
    s.idtr_base = IDT;
    s.idtr_limit = 256 * 8 - 1;
    if (cpl == 3) {
        s.seg[VTX_S_CS] = seg(SEL_UCODE32 | 3, 0, 0xFFFFFFFF, AR_CODE32_3);
        s.seg[VTX_S_SS] = seg(SEL_UDATA32 | 3, 0, 0xFFFFFFFF, AR_DATA32_3);
        s.gpr[VTX_R_RSP] = STK3;
    } else {
        s.seg[VTX_S_CS] = seg(SEL_CODE32, 0, 0xFFFFFFFF, AR_CODE32_0);
        s.seg[VTX_S_SS] = seg(SEL_DATA32, 0, 0xFFFFFFFF, AR_DATA32_0);
        s.gpr[VTX_R_RSP] = STK0;
    }
    s.seg[VTX_S_DS] = s.seg[VTX_S_ES] = s.seg[VTX_S_SS];
    s.seg[VTX_S_TR] = seg(SEL_TSS, TSS, 0x67, AR_TSS32_BUSY);
    /* 32-bit TSS (SDM 8.2.1 Figure 8-2): ESP0 at 4, SS0 at 8. */
    put(TSS + 4, STK0, 4);
    put(TSS + 8, SEL_DATA32, 2);
    s.rip = 0x401234;
    return s;
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

static vtx_deliver_result run(vtx_cpu_state *s, uint8_t vec, vtx_event_type type, bool has_ec, uint32_t ec,
                              uint8_t len)
{
    vtx_delivery d = { .vector = vec, .type = type, .has_error_code = has_ec, .error_code = ec, .insn_len = len };
    vtx_deliver_result r;
    memset(&r, 0xAA, sizeof r);
    vtx_deliver(s, &pm, &d, &r);
    return r;
}

static void expect_fault(const vtx_deliver_result *r, uint8_t vec, bool has_ec, uint32_t ec)
{
    cr_assert_eq(r->outcome, VTX_DELIVER_FAULT, "outcome %d, expected a nested fault", r->outcome);
    cr_expect_eq(r->fault.vector, vec, "nested vector %u, expected %u", r->fault.vector, vec);
    cr_expect_eq(r->fault.type, VTX_EVT_HW_EXC);
    cr_expect_eq(r->fault.has_error_code, has_ec, "nested has_error_code %d", r->fault.has_error_code);
    if (has_ec)
        cr_expect_eq(r->fault.error_code, ec, "nested error code %#x, expected %#x", r->fault.error_code, ec);
}

static void expect_unchanged(const vtx_cpu_state *before, const vtx_cpu_state *after)
{
    cr_expect(memcmp(before, after, sizeof *before) == 0, "the state changed on a failed delivery");
}

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

/* ================================================================ #DF classes */

/* SDM 6.15 Table 6-4 "Interrupt and Exception Classes" and Table 6-5 "Conditions for Generating a Double Fault". */
Test(deliver, exception_classes)
{
    static const uint8_t contributory[] = { 0, 10, 11, 12, 13, 21 };
    for (unsigned i = 0; i < sizeof contributory; i++)
        cr_expect_eq(vtx_deliver_class(contributory[i], VTX_EVT_HW_EXC), VTX_EXC_CONTRIBUTORY, "vector %u",
                     contributory[i]);
    cr_expect_eq(vtx_deliver_class(14, VTX_EVT_HW_EXC), VTX_EXC_PAGE_FAULT);
    cr_expect_eq(vtx_deliver_class(20, VTX_EVT_HW_EXC), VTX_EXC_PAGE_FAULT);
    cr_expect_eq(vtx_deliver_class(8, VTX_EVT_HW_EXC), VTX_EXC_DOUBLE_FAULT);
    static const uint8_t benign[] = { 1, 2, 3, 4, 5, 6, 7, 9, 16, 17, 18, 19, 32, 255 };
    for (unsigned i = 0; i < sizeof benign; i++)
        cr_expect_eq(vtx_deliver_class(benign[i], VTX_EVT_HW_EXC), VTX_EXC_BENIGN, "vector %u", benign[i]);
    cr_expect_eq(vtx_deliver_class(13, VTX_EVT_SW_INT), VTX_EXC_BENIGN, "INT 13 is an interrupt");
    cr_expect_eq(vtx_deliver_class(14, VTX_EVT_EXTINT), VTX_EXC_BENIGN);
    cr_expect_eq(vtx_deliver_class(2, VTX_EVT_NMI), VTX_EXC_BENIGN);
    cr_expect_eq(vtx_deliver_class(3, VTX_EVT_SW_EXC), VTX_EXC_BENIGN);
}

Test(deliver, double_fault_table)
{
    const vtx_exc_class B = VTX_EXC_BENIGN, C = VTX_EXC_CONTRIBUTORY, P = VTX_EXC_PAGE_FAULT,
                        D = VTX_EXC_DOUBLE_FAULT;
    /* rows: first; columns: second (benign, contributory, page fault) */
    const vtx_exc_class firsts[] = { B, C, P, D }, seconds[] = { B, C, P };
    const bool df[4][3] = { { 0, 0, 0 }, { 0, 1, 0 }, { 0, 1, 1 }, { 0, 0, 0 } };
    const bool tf[4][3] = { { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 1, 1 } };
    for (unsigned i = 0; i < 4; i++)
        for (unsigned j = 0; j < 3; j++) {
            cr_expect_eq(vtx_deliver_makes_df(firsts[i], seconds[j]), df[i][j], "#DF for %u then %u", i, j);
            cr_expect_eq(vtx_deliver_makes_triple(firsts[i], seconds[j]), tf[i][j], "triple for %u then %u", i, j);
        }
}

/* ================================================================ paging */

static vtx_cpu_state paging_state(uint64_t cr0, uint64_t cr4, uint64_t efer, uint64_t cr3)
{
    vtx_cpu_state s = base_state();
    s.cr0 = cr0 | 0x80000011;
    s.cr4 = cr4;
    s.efer = efer;
    s.cr3 = cr3;
    return s;
}

static void xl_ok(const vtx_cpu_state *s, const vtx_paging_caps *caps, uint64_t la, unsigned acc, uint64_t exp_pa)
{
    uint64_t pa = 0;
    uint32_t ec = 0xFFFF;
    vtx_xlate_status st = vtx_translate_ex(s, &pm, caps, la, acc, &pa, &ec);
    cr_assert_eq(st, VTX_XLATE_OK, "translate %#llx acc %#x: status %d ec %#x", (unsigned long long)la, acc, st, ec);
    cr_expect_eq(pa, exp_pa, "translate %#llx: pa %#llx, expected %#llx", (unsigned long long)la,
                 (unsigned long long)pa, (unsigned long long)exp_pa);
}

static void xl_pf(const vtx_cpu_state *s, const vtx_paging_caps *caps, uint64_t la, unsigned acc, uint32_t exp_ec)
{
    uint64_t pa = 0;
    uint32_t ec = 0xFFFF;
    vtx_xlate_status st = vtx_translate_ex(s, &pm, caps, la, acc, &pa, &ec);
    cr_assert_eq(st, VTX_XLATE_PF, "translate %#llx acc %#x: status %d, expected #PF", (unsigned long long)la, acc,
                 st);
    cr_expect_eq(ec, exp_ec, "translate %#llx acc %#x: error %#x, expected %#x", (unsigned long long)la, acc, ec,
                 exp_ec);
}

/* SDM 4.5 "4-Level Paging": 4-KiB and 2-MiB pages, A/D (4.8). */
Test(deliver, paging_4level_4k_and_2m_with_accessed_dirty)
{
    put(0x10000, 0x11000 | 0x7, 8);                 /* PML4[0] */
    put(0x11000, 0x12000 | 0x7, 8);                 /* PDPT[0] */
    put(0x12000, 0x13000 | 0x7, 8);                 /* PD[0] → PT */
    put(0x12008, 0x400000 | 0x87, 8);               /* PD[1]: 2 MiB at 4 MiB */
    put(0x13000 + 8 * 1, 0x5000 | 0x7, 8);          /* PT[1]: 0x1000 → 0x5000 */
    vtx_cpu_state s = paging_state(0, 0x20, 0xD00, 0x10000);
    xl_ok(&s, NULL, 0x1ABC, 0, 0x5ABC);
    cr_expect_eq(get(0x10000, 8), 0x11000 | 0x27ull, "PML4E accessed");
    cr_expect_eq(get(0x11000, 8), 0x12000 | 0x27ull, "PDPTE accessed");
    cr_expect_eq(get(0x12000, 8), 0x13000 | 0x27ull, "PDE accessed");
    cr_expect_eq(get(0x13008, 8), 0x5000 | 0x27ull, "PTE accessed, not dirty after a read");
    xl_ok(&s, NULL, 0x1ABC, VTX_ACC_WRITE, 0x5ABC);
    cr_expect_eq(get(0x13008, 8), 0x5000 | 0x67ull, "PTE dirty after a write");
    cr_expect_eq(get(0x12000, 8), 0x13000 | 0x27ull, "non-leaf entries never get D");
    xl_ok(&s, NULL, 0x2ABCDE, VTX_ACC_WRITE, 0x4ABCDE);
    cr_expect_eq(get(0x12008, 8), 0x400000 | 0xE7ull, "2-MiB PDE: A and D");
    /* NO_AD probes leave the tables alone. */
    put(0x13008, 0x5000 | 0x7, 8);
    xl_ok(&s, NULL, 0x1000, VTX_ACC_NO_AD | VTX_ACC_WRITE, 0x5000);
    cr_expect_eq(get(0x13008, 8), 0x5000 | 0x7ull);
    /* Not present: P = 0 in the error code; W and U as accessed. */
    xl_pf(&s, NULL, 0x2000, 0, 0);
    xl_pf(&s, NULL, 0x2000, VTX_ACC_WRITE | VTX_ACC_USER, VTX_PF_W | VTX_PF_U);
    /* No A bit is set by a failing walk. */
    put(0x13000 + 8 * 3, 0x9000 | 0x5, 8);
    put(0x10000, 0x11000 | 0x7, 8);
    xl_pf(&s, NULL, 0x3000, VTX_ACC_WRITE | VTX_ACC_USER, VTX_PF_P | VTX_PF_W | VTX_PF_U);
    cr_expect_eq(get(0x10000, 8), 0x11000 | 0x7ull, "no A bit on a faulting walk");
}

/* SDM 4.6 "Access Rights": U/S, R/W with CR0.WP, XD with EFER.NXE, SMEP. */
Test(deliver, paging_access_rights)
{
    put(0x10000, 0x11000 | 0x7, 8);
    put(0x11000, 0x12000 | 0x7, 8);
    put(0x12000, 0x13000 | 0x7, 8);
    put(0x13000 + 8 * 1, 0x5000 | 0x3, 8);                 /* supervisor RW */
    put(0x13000 + 8 * 2, 0x6000 | 0x5, 8);                 /* user RO */
    put(0x13000 + 8 * 3, 0x7000 | 0x7 | (1ull << 63), 8);  /* user RW XD */
    vtx_cpu_state s = paging_state(0, 0x20, 0xD00, 0x10000);
    xl_pf(&s, NULL, 0x1000, VTX_ACC_USER, VTX_PF_P | VTX_PF_U);
    xl_ok(&s, NULL, 0x1000, VTX_ACC_WRITE, 0x5000);
    xl_pf(&s, NULL, 0x2000, VTX_ACC_USER | VTX_ACC_WRITE, VTX_PF_P | VTX_PF_W | VTX_PF_U);
    xl_ok(&s, NULL, 0x2000, VTX_ACC_USER, 0x6000);
    /* Supervisor write to a read-only page: allowed with WP = 0, #PF with WP = 1. */
    xl_ok(&s, NULL, 0x2000, VTX_ACC_WRITE, 0x6000);
    s.cr0 |= 1ull << 16;
    xl_pf(&s, NULL, 0x2000, VTX_ACC_WRITE, VTX_PF_P | VTX_PF_W);
    /* Read-only at a higher level also counts (rights are ANDed). */
    put(0x12000, 0x13000 | 0x5, 8);
    xl_pf(&s, NULL, 0x1000, VTX_ACC_WRITE, VTX_PF_P | VTX_PF_W);
    put(0x12000, 0x13000 | 0x7, 8);
    /* XD: fetch faults with I/D; data accesses are fine. */
    xl_ok(&s, NULL, 0x3000, VTX_ACC_WRITE | VTX_ACC_USER, 0x7000);
    xl_pf(&s, NULL, 0x3000, VTX_ACC_FETCH | VTX_ACC_USER, VTX_PF_P | VTX_PF_U | VTX_PF_ID);
    xl_pf(&s, NULL, 0x3000, VTX_ACC_FETCH, VTX_PF_P | VTX_PF_ID);
    /* Without NXE, bit 63 is reserved: RSVD, and no I/D (no SMEP, no NXE). */
    s.efer = 0x500;
    xl_pf(&s, NULL, 0x3000, VTX_ACC_FETCH, VTX_PF_P | VTX_PF_RSVD);
    /* SMEP: a supervisor fetch from a user page. */
    s.efer = 0xD00;
    s.cr4 |= 1ull << 20;
    xl_pf(&s, NULL, 0x2000, VTX_ACC_FETCH, VTX_PF_P | VTX_PF_ID);
    xl_ok(&s, NULL, 0x1000, VTX_ACC_FETCH, 0x5000);
    /* SMAP: supervisor data access to a user page unless RFLAGS.AC (explicit only). */
    s.cr4 |= 1ull << 21;
    xl_pf(&s, NULL, 0x2000, 0, VTX_PF_P);
    s.rflags |= 1ull << 18;
    xl_ok(&s, NULL, 0x2000, 0, 0x6000);
    xl_pf(&s, NULL, 0x2000, VTX_ACC_IMPLICIT, VTX_PF_P);
}

/* SDM 4.5 Tables 4-14..4-20: reserved bits → RSVD (P = 1). */
Test(deliver, paging_reserved_bits)
{
    const vtx_paging_caps caps36 = { .maxphyaddr = 36, .pages_1g = false };
    const vtx_paging_caps caps1g = { .maxphyaddr = 36, .pages_1g = true };
    put(0x10000, 0x11000 | 0x7, 8);
    put(0x11000, 0x12000 | 0x7, 8);
    put(0x12000, 0x13000 | 0x7, 8);
    put(0x13000 + 8 * 1, 0x5000 | 0x7 | (1ull << 40), 8); /* bit 40 ≥ MAXPHYADDR 36 */
    vtx_cpu_state s = paging_state(0, 0x20, 0xD00, 0x10000);
    xl_pf(&s, &caps36, 0x1000, 0, VTX_PF_P | VTX_PF_RSVD);
    xl_pf(&s, &caps36, 0x1000, VTX_ACC_WRITE | VTX_ACC_USER, VTX_PF_P | VTX_PF_W | VTX_PF_U | VTX_PF_RSVD);
    xl_ok(&s, NULL, 0x1000, 0, 0x10000005000ull); /* MAXPHYADDR 52: a valid address */
    /* Bits 62:52 are ignored in 4-level paging. */
    put(0x13000 + 8 * 1, 0x5000 | 0x7 | (1ull << 55), 8);
    xl_ok(&s, &caps36, 0x1000, 0, 0x5000);
    /* PML4E bit 7 is reserved. */
    put(0x10000, 0x11000 | 0x87, 8);
    xl_pf(&s, &caps36, 0x1000, 0, VTX_PF_P | VTX_PF_RSVD);
    put(0x10000, 0x11000 | 0x7, 8);
    /* 2-MiB PDE: bits 20:13 reserved. */
    put(0x12008, 0x400000 | 0x87 | (1ull << 13), 8);
    xl_pf(&s, &caps36, 0x200000, 0, VTX_PF_P | VTX_PF_RSVD);
    /* PDPTE PS: reserved without 1-GiB pages, a 1-GiB page with them. */
    put(0x11008, 0x40000000 | 0x87, 8);
    xl_pf(&s, &caps36, 0x40000123, 0, VTX_PF_P | VTX_PF_RSVD);
    xl_ok(&s, &caps1g, 0x40000123, 0, 0x40000123);
    put(0x11008, 0x40000000 | 0x87 | (1ull << 20), 8);
    xl_pf(&s, &caps1g, 0x40000123, 0, VTX_PF_P | VTX_PF_RSVD);
    /* A reserved bit in a non-present entry does not matter. */
    put(0x13000 + 8 * 4, 0xFFFFFFFFFFFFFFFEull, 8);
    xl_pf(&s, &caps36, 0x4000, 0, 0);
}

/* SDM 4.5 with CR4.LA57: five levels, bits 56:48 index the PML5. */
Test(deliver, paging_5level)
{
    put(0x10000 + 8 * 1, 0x11000 | 0x7, 8); /* PML5[1] */
    put(0x11000, 0x12000 | 0x7, 8);         /* PML4[0] */
    put(0x12000, 0x13000 | 0x7, 8);         /* PDPT[0] */
    put(0x13000, 0x600000 | 0x87, 8);       /* PD[0]: 2 MiB at 6 MiB */
    vtx_cpu_state s = paging_state(0, 0x20 | (1ull << 12), 0xD00, 0x10000);
    xl_ok(&s, NULL, 0x0001000000012345ull, 0, 0x612345);
    cr_expect_eq(get(0x10008, 8), 0x11000 | 0x27ull);
    s.cr4 = 0x20; /* 4-level: the same address uses PML4[0] of the table at CR3, which is empty */
    xl_pf(&s, NULL, 0x0001000000012345ull, 0, 0);
}

/* SDM 4.3 "32-Bit Paging": 4-KiB and 4-MiB (CR4.PSE) pages, PSE-36. */
Test(deliver, paging_32bit)
{
    put(0x10000, 0x11000 | 0x7, 4);                          /* PDE[0] → PT */
    put(0x10004, 0x00400000 | 0x87 | (0x3ull << 13), 4);      /* PDE[1]: 4 MiB, PA bits 33:32 = 3 */
    put(0x11000 + 4 * 2, 0x9000 | 0x7, 4);                   /* PT[2]: 0x2000 → 0x9000 */
    vtx_cpu_state s = paging_state(0, 0x10 /* PSE */, 0, 0x10000);
    xl_ok(&s, NULL, 0x2345, VTX_ACC_WRITE, 0x9345);
    cr_expect_eq(get(0x11008, 4), 0x9000 | 0x67ull);
    cr_expect_eq(get(0x10000, 4), 0x11000 | 0x27ull);
    xl_ok(&s, NULL, 0x00512345, 0, 0x300512345ull);
    const vtx_paging_caps c32 = { .maxphyaddr = 32 };
    xl_pf(&s, &c32, 0x00512345, 0, VTX_PF_P | VTX_PF_RSVD); /* PSE-36 bits above MAXPHYADDR */
    /* Bit 21 of a 4-MiB PDE is always reserved. */
    put(0x10004, 0x00400000 | 0x87 | (1ull << 21), 4);
    xl_pf(&s, NULL, 0x00512345, 0, VTX_PF_P | VTX_PF_RSVD);
    /* Without CR4.PSE, PS is ignored: the PDE points to a page table. */
    put(0x10004, 0x00011000 | 0x87, 4);
    s.cr4 = 0;
    xl_ok(&s, NULL, 0x00402345, 0, 0x9345);
    /* No XD in 32-bit paging: a fetch faults only on P; I/D only with SMEP. */
    xl_pf(&s, NULL, 0x00803000, VTX_ACC_FETCH, 0);
    s.cr4 = 1ull << 20;
    xl_pf(&s, NULL, 0x00803000, VTX_ACC_FETCH, VTX_PF_ID);
    /* Paging off: identity on 32 bits. */
    s.cr0 = 0x11;
    xl_ok(&s, NULL, 0x1234567890ull, 0, 0x34567890);
}

/* SDM 4.4 "PAE Paging": PDPTEs at CR3[31:5], 2-MiB and 4-KiB pages. */
Test(deliver, paging_pae)
{
    put(0x10020, 0x11000 | 0x1, 8);                   /* PDPTE[0] (CR3 = 0x10020) */
    put(0x10028, 0x12000 | 0x1, 8);                   /* PDPTE[1] */
    put(0x11000, 0x13000 | 0x7, 8);                   /* PD0[0] → PT */
    put(0x13000 + 8 * 5, 0x8000 | 0x7, 8);            /* 0x5000 → 0x8000 */
    put(0x12000 + 8 * 3, 0x00600000 | 0x87 | (1ull << 63), 8); /* 0x40600000: 2 MiB, XD */
    vtx_cpu_state s = paging_state(0, 0x20, 0x800, 0x10020);
    xl_ok(&s, NULL, 0x5123, VTX_ACC_WRITE, 0x8123);
    cr_expect_eq(get(0x10020, 8), 0x11000 | 0x1ull, "PDPTEs have no accessed bit");
    cr_expect_eq(get(0x13028, 8), 0x8000 | 0x67ull);
    xl_ok(&s, NULL, 0x40654321, 0, 0x654321);
    xl_pf(&s, NULL, 0x40654321, VTX_ACC_FETCH, VTX_PF_P | VTX_PF_ID);
    s.efer = 0;
    xl_pf(&s, NULL, 0x40654321, 0, VTX_PF_P | VTX_PF_RSVD); /* bit 63 reserved without NXE */
    s.efer = 0x800;
    put(0x10028, 0x12000 | 0x1 | 0x2, 8);                   /* PDPTE bit 1 reserved */
    xl_pf(&s, NULL, 0x40654321, 0, VTX_PF_P | VTX_PF_RSVD);
    put(0x10030, 0, 8);                                      /* PDPTE[2] not present */
    xl_pf(&s, NULL, 0x80000000, VTX_ACC_WRITE, VTX_PF_W);
}

Test(deliver, paging_unmapped_table)
{
    vtx_cpu_state s = paging_state(0, 0x20, 0xD00, MEM_SIZE + 0x1000);
    uint64_t pa = 0;
    uint32_t ec = 0;
    cr_expect_eq(vtx_translate_ex(&s, &pm, NULL, 0x1000, 0, &pa, &ec), VTX_XLATE_UNMAPPED);
    cr_expect_eq(pa, MEM_SIZE + 0x1000);
    cr_expect_not(vtx_translate(&s, &pm, 0x1000, false, false, false, &pa, &ec));
    cr_expect_eq(ec, VTX_PF_UNMAPPED);
    /* The legacy wrapper on a normal #PF. */
    put(0x10000, 0, 8);
    s.cr3 = 0x10000;
    cr_expect_not(vtx_translate(&s, &pm, 0x1000, true, true, false, &pa, &ec));
    cr_expect_eq(ec, VTX_PF_W | VTX_PF_U);
}

/* ================================================================ robustness */

/* No crash on garbage: random descriptors, limits, vectors, modes (under ASan/UBSan). */
Test(deliver, garbage_never_crashes)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    for (unsigned i = 0; i < 0x20000; i += 8) {
        uint64_t v = RND();
        memcpy(mem + i, &v, 8);
    }
    for (unsigned it = 0; it < 20000; it++) {
        vtx_cpu_state s;
        for (unsigned k = 0; k < sizeof s; k++)
            ((uint8_t *)&s)[k] = (uint8_t)RND();
        s.idtr_base &= (RND() & 1) ? 0x1FFFF : ~0ull;
        s.gdtr_base &= (RND() & 1) ? 0x1FFFF : ~0ull;
        s.cr3 &= (RND() & 1) ? 0x1F000 : ~0ull;
        s.seg[VTX_S_TR].base &= 0x1FFFF;
        s.seg[VTX_S_SS].base &= (RND() & 1) ? 0x1FFFF : ~0ull;
        vtx_cpu_state before = s;
        vtx_delivery d = { .vector = (uint8_t)RND(), .type = (vtx_event_type)(RND() % 9),
                           .has_error_code = RND() & 1, .error_code = (uint32_t)RND(), .insn_len = (uint8_t)RND() };
        vtx_deliver_result r;
        vtx_deliver(&s, &pm, &d, &r);
        cr_assert(r.outcome <= VTX_DELIVER_UNMAPPED);
        if (r.outcome != VTX_DELIVERED)
            cr_assert(memcmp(&before, &s, sizeof s) == 0, "state changed on outcome %d", r.outcome);
    }
    vtx_deliver(NULL, &pm, NULL, NULL);
    vtx_deliver_result r;
    vtx_deliver(NULL, NULL, NULL, &r);
    cr_expect_eq(r.outcome, VTX_DELIVER_UNMAPPED);
#undef RND
}
