/* Shared static fixture of the event-delivery tests (test_deliver_*.c, one
 * Criterion suite "deliver"): event delivery through the IVT/IDT and guest
 * paging in pure C (cpu/deliver.c, cpu/paging.c), on a flat 8 MiB
 * guest-physical buffer with hand-built GDT, IDT, TSS and page tables.
 *
 * References: SDM Vol. 3 chapter 6 "Interrupt and Exception Handling" (6.10
 * "Interrupt Descriptor Table", 6.11 "IDT Descriptors", 6.12 "Exception and
 * Interrupt Handling", 6.13 "Error Code", 6.14 "Exception and Interrupt Handling
 * in 64-bit Mode", 6.15 "Exception and Interrupt Reference" Tables 6-4/6-5),
 * Vol. 2 "INT n/INTO/INT3/INT1" operation, chapter 4 "Paging", and the rules
 * catalogue E.3 (INJ-6..10, INJ-15). Everything here is static (inline) so
 * each test file gets its own copy.
 */
#ifndef VTX_TEST_DELIVER_FIXTURE_H
#define VTX_TEST_DELIVER_FIXTURE_H

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

static inline bool tm_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    (void)ctx;
    if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
        return false;
    memcpy(buf, mem + pa, len);
    return true;
}

static inline bool tm_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    (void)ctx;
    if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
        return false;
    memcpy(mem + pa, buf, len);
    mem_writes++;
    return true;
}

static inline void put(uint64_t pa, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        mem[pa + i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t get(uint64_t pa, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)mem[pa + i] << (8 * i);
    return v;
}

/* Assert the bytes at pa, naming the first one that differs. */
static inline void expect_bytes(const char *what, uint64_t pa, const uint8_t *exp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(mem[pa + i], exp[i], "%s: byte %zu at %#llx is %#04x, expected %#04x", what, i,
                     (unsigned long long)(pa + i), mem[pa + i], exp[i]);
}

static inline void setup(void)
{
    mem = calloc(1, MEM_SIZE);
    cr_assert(mem);
    pm = (vtx_phys_mem){ .ctx = NULL, .read = tm_read, .write = tm_write };
    mem_writes = 0;
}
static inline void teardown(void) { free(mem); }

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

static inline uint64_t desc_raw(uint32_t base, uint32_t limit20, uint8_t access, uint8_t flags4)
{
    return (limit20 & 0xFFFFull) | ((uint64_t)(base & 0xFFFFFF) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit20 >> 16) & 0xF) << 48) | ((uint64_t)(flags4 & 0xF) << 52) |
           ((uint64_t)(base >> 24) << 56);
}
static inline void gdt_set(uint16_t sel, uint64_t raw) { put(GDT + (sel & ~7u), raw, 8); }

/* Flags nibble: G=8, D/B=4, L=2. */
static inline void build_gdt(void)
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
static inline void idt32_set(uint8_t vec, uint16_t sel, uint32_t off, unsigned type, unsigned dpl, bool present)
{
    uint64_t g = (off & 0xFFFFull) | ((uint64_t)sel << 16) | ((uint64_t)type << 40) | ((uint64_t)dpl << 45) |
                 ((uint64_t)present << 47) | ((uint64_t)(off >> 16) << 48);
    put(IDT + vec * 8u, g, 8);
}

static inline vtx_cpu_seg seg(uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    return (vtx_cpu_seg){ .sel = sel, .base = base, .limit = limit, .ar = ar };
}

static inline vtx_cpu_state base_state(void)
{
    vtx_cpu_state s;
    memset(&s, 0, sizeof s);
    s.rflags = 0x2;
    s.seg[VTX_S_LDTR] = seg(0, 0, 0, VTX_AR_UNUSABLE);
    return s;
}

/* 32-bit protected mode, flat, paging off, at the given CPL. */
static inline vtx_cpu_state prot32(unsigned cpl)
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

static inline vtx_deliver_result run(vtx_cpu_state *s, uint8_t vec, vtx_event_type type, bool has_ec, uint32_t ec,
                                     uint8_t len)
{
    vtx_delivery d = { .vector = vec, .type = type, .has_error_code = has_ec, .error_code = ec, .insn_len = len };
    vtx_deliver_result r;
    memset(&r, 0xAA, sizeof r);
    vtx_deliver(s, &pm, &d, &r);
    return r;
}

static inline void expect_fault(const vtx_deliver_result *r, uint8_t vec, bool has_ec, uint32_t ec)
{
    cr_assert_eq(r->outcome, VTX_DELIVER_FAULT, "outcome %d, expected a nested fault", r->outcome);
    cr_expect_eq(r->fault.vector, vec, "nested vector %u, expected %u", r->fault.vector, vec);
    cr_expect_eq(r->fault.type, VTX_EVT_HW_EXC);
    cr_expect_eq(r->fault.has_error_code, has_ec, "nested has_error_code %d", r->fault.has_error_code);
    if (has_ec)
        cr_expect_eq(r->fault.error_code, ec, "nested error code %#x, expected %#x", r->fault.error_code, ec);
}

static inline void expect_unchanged(const vtx_cpu_state *before, const vtx_cpu_state *after)
{
    cr_expect(memcmp(before, after, sizeof *before) == 0, "the state changed on a failed delivery");
}

#endif
