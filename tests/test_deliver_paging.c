/*
 * Guest paging as event delivery uses it (cpu/paging.c; SDM Vol. 3 chapter 4
 * "Paging"): 32-bit, PAE, 4-level and 5-level translation, access rights,
 * reserved bits, accessed/dirty bits and unmapped tables.
 *
 * Each test lays out GDT, IDT, TSS and page tables by hand in a flat
 * guest-physical buffer (tests/deliver_fixture.h), delivers one event and
 * checks the resulting state and the pushed frame byte by byte.
 */
#include "deliver_fixture.h"

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
