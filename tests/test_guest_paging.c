/*
 * Guest paging and EPT on the engine (docs/platforms.md; rules PG-1..7 and
 * EPT-ID-1/2 of docs/rules-own.tsv). Some tests expect different, equally
 * checked outcomes on the two platforms: Unicorn 2.0.1 (Debian 12) runs only
 * identity page tables and refuses others by name (PG-1); Unicorn 2.1 (Debian
 * 13) translates through any mapping (PG-3..6).
 *
 * Memory (test RAM, 1 MiB at 0): the baseline's GDT/IDT/TSS; guest code at
 * physical 0x10000; this file's 4-level page tables at PT (PML4, PDPT, PD, and
 * one page table for the first 2 MiB, identity unless a test changes it);
 * data pages at 0x50000 and up.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "../cpu/engine.h"
#include "baseline.h"
#include "ept_identity.h"

#define PT 0x60000u
#define EPT_TABLES 0x80000u
#define DATA 0x50000u

static vt_env e;

static void setup(void) { vt_start(&e, "server"); }
static void teardown(void) { vt_teardown(&e); }
TestSuite(guest_paging, .init = setup, .fini = teardown);

static uint64_t *pte(uint64_t lin) { return (uint64_t *)(e.ram + PT + 0x3000) + ((lin >> 12) & 511); }

/* 4-KiB identity tables for the first 2 MiB (R/W, supervisor), CR3 = PT. */
static void tables(void)
{
    uint64_t *pml4 = (uint64_t *)(e.ram + PT), *pdpt = pml4 + 512, *pd = pdpt + 512, *pt = pd + 512;
    memset(pml4, 0, 4 * 4096);
    pml4[0] = (PT + 0x1000) | 3;
    pdpt[0] = (PT + 0x2000) | 3;
    pd[0] = (PT + 0x3000) | 3;
    for (uint64_t i = 0; i < 512; i++)
        pt[i] = (i << 12) | 3;
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR3, PT);
}

static vtx_insn_result launch(vtx_status *st)
{
    vtx_insn_result r;
    *st = vtx_vmlaunch(e.m, &r);
    return r;
}

static void expect_exit(const char *step, vtx_status st, const vtx_insn_result *r, uint32_t reason)
{
    cr_assert_eq(st, VTX_OK, "%s: status %s (%s)", step, vtx_status_name(st), r->why);
    cr_assert_eq(r->outcome, VTX_VMEXIT, "%s: outcome %d (%s)", step, r->outcome, r->why);
    cr_assert_eq(r->exit_reason, reason, "%s: exit reason %u, want %u (%s)", step, r->exit_reason, reason, r->why);
}

static uint64_t rd(uint32_t enc) { return vt_vmread(&e, enc); }

static uint64_t rax(void)
{
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    return g.rax;
}

/* After a VMCALL exit: go on after it. */
static vtx_insn_result resume_after_vmcall(vtx_status *st)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rd(VTX_VMCS_GUEST_RIP) + 3);
    vtx_insn_result r;
    *st = vtx_vmresume(e.m, &r);
    return r;
}

/*
 * PG-2: with VPID off, the VM exit and the VM entry invalidate the linear
 * mappings the guest used: the VMM clears the present bit of a page the guest
 * has just read, and the guest's next read of it faults (#PF, exiting through
 * the exception bitmap with the linear address as the qualification, PG-5)
 * instead of reading the page through a stale TLB entry. Both platforms.
 *   G+0  mov rax, [DATA]  ; vmcall ; mov rax, [DATA] ; vmcall
 */
Test(guest_paging, pg_2_cleared_present_bit_faults_after_the_next_entry)
{
    VTX_COVERS("PG-2");
    tables();
    static const uint8_t code[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1,
                                   0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    memcpy(e.ram + DATA, &(uint64_t){0x1122334455667788ull}, 8);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    expect_exit("first read", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rax(), 0x1122334455667788ull, "the page was read");
    *pte(DATA) &= ~1ull; /* the VMM makes the page not present */
    r = resume_after_vmcall(&st);
    expect_exit("second read", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    uint32_t info = (uint32_t)rd(VTX_VMCS_EXIT_INTR_INFO);
    cr_assert_eq(info & 0xff, 14, "vector %u, want #PF", info & 0xff);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_ERROR_CODE), 0, "read, not present, supervisor");
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), DATA, "the qualification is the linear address");
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 11, "RIP at the faulting MOV");
}

/*
 * PG-2 on the instruction that exited: the VMM does not advance RIP past the
 * CPUID and clears the present bit of the code's page; VMRESUME then starts
 * where the last run stopped, before that CPUID, and the fetch faults (#PF,
 * instruction fetch) instead of the CPUID exiting again. The engine reports a
 * run that would only stop before the instruction it stopped before last without
 * entering Unicorn (cpu/engine.c, stops_again): the TLB flush of this entry must
 * end that. Both platforms.
 *   G+0  nop ; cpuid
 */
Test(guest_paging, pg_2_code_page_cleared_at_the_exiting_instruction_faults)
{
    VTX_COVERS("PG-2");
    tables();
    static const uint8_t code[] = {0x90, 0x0f, 0xa2};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    expect_exit("CPUID", st, &r, VTX_EXIT_REASON_CPUID);
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 1);
    r = (vtx_insn_result){0};
    st = vtx_vmresume(e.m, &r); /* RIP stays: the CPUID exits again */
    expect_exit("CPUID again", st, &r, VTX_EXIT_REASON_CPUID);
    *pte(VT_GUEST_RIP) &= ~1ull; /* the VMM makes the code's page not present */
    st = vtx_vmresume(e.m, &r);
    expect_exit("fetch", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    uint32_t info = (uint32_t)rd(VTX_VMCS_EXIT_INTR_INFO);
    cr_assert_eq(info & 0xff, 14, "vector %u, want #PF", info & 0xff);
    /* not present, supervisor; the I/D bit is 0 with IA32_EFER.NXE = 0 and CR4.SMEP = 0
     * (SDM Vol. 3A "Page-Fault Error Code") */
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_ERROR_CODE), 0, "error code %#llx", (unsigned long long)rd(VTX_VMCS_EXIT_INTR_ERROR_CODE));
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), VT_GUEST_RIP + 1, "the qualification is the CPUID's address");
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 1);
}

/* PG-7: with VPID on, INVVPID (all contexts) after the VMM's change: the guest's
 * next read faults. Both platforms. */
Test(guest_paging, pg_7_invvpid_makes_the_change_visible)
{
    VTX_COVERS("PG-7");
    tables();
    static const uint8_t code[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1,
                                   0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_VPID);
    vt_vmwrite(&e, VTX_VMCS_VPID, 1);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    expect_exit("first read", st, &r, VTX_EXIT_REASON_VMCALL);
    *pte(DATA) &= ~1ull;
    vtx_invvpid_desc d = {.vpid = 0};
    cr_assert_eq(vtx_invvpid(e.m, VTX_INVVPID_ALL_CONTEXT, &d, &r), VTX_OK);
    cr_assert_eq(r.outcome, VTX_VMSUCCEED, "INVVPID all-context: %s", r.why);
    r = resume_after_vmcall(&st);
    expect_exit("second read", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_INFO) & 0xff, 14);
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), DATA);
}

/*
 * PG-1 / PG-3 / PG-6: code at linear 0x400000 on physical 0x70000, data at
 * linear 0x401000 on physical 0x71000. Unicorn 2.1: fetches, loads and stores
 * go to the physical pages, the walk sets A on the entries and D on the written
 * leaf only. Unicorn 2.0.1: VM entry is refused by name (it would access
 * physical == linear, outside the test RAM).
 *   0x400000  mov rax, [0x401000] ; mov [0x401008], rax ; vmcall
 */
Test(guest_paging, pg_3_non_identity_mapping_runs_or_is_refused_by_name)
{
    VTX_COVERS("PG-1", "PG-3", "PG-6");
    tables();
    uint64_t *pd = (uint64_t *)(e.ram + PT + 0x2000);
    pd[2] = (PT + 0x4000) | 3; /* the page table for linear 4 MiB..6 MiB */
    uint64_t *pt2 = (uint64_t *)(e.ram + PT + 0x4000);
    memset(pt2, 0, 4096);
    pt2[0] = 0x70000 | 3;
    pt2[1] = 0x71000 | 3;
    static const uint8_t code[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x40, 0x00,
                                   0x48, 0x89, 0x04, 0x25, 0x08, 0x10, 0x40, 0x00, 0x0f, 0x01, 0xc1};
    vt_code(&e, 0x70000, code, sizeof code);
    memcpy(e.ram + 0x71000, &(uint64_t){0xfeedc0de12345678ull}, 8);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x400000);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (!vtx_engine_translates_paging()) {
        cr_assert_eq(st, VTX_ERR_UNSUPPORTED, "PG-1: Unicorn 2.0.1 refuses non-identity paging (%s)", r.why);
        cr_assert_not_null(strstr(r.why, "identity"), "why: %s", r.why);
        cr_assert_not_null(strstr(r.why, "Unicorn 2.0.1"), "why: %s", r.why);
        return;
    }
    expect_exit("non-identity guest", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), 0x400010, "RIP is linear");
    cr_assert_eq(rax(), 0xfeedc0de12345678ull, "the load read physical 0x71000");
    uint64_t stored;
    memcpy(&stored, e.ram + 0x71008, 8);
    cr_assert_eq(stored, 0xfeedc0de12345678ull, "the store wrote physical 0x71008");
    cr_assert_eq(e.ram[0x400008 & 0xfffff], 0, "nothing written at physical == linear");
    /* PG-6: accessed flags on the entries used, dirty only on the written leaf */
    cr_assert(pt2[0] & 0x20, "code PTE accessed");
    cr_assert_not(pt2[0] & 0x40, "code PTE not dirty");
    cr_assert(pt2[1] & 0x20, "data PTE accessed");
    cr_assert(pt2[1] & 0x40, "data PTE dirty");
    cr_assert(pd[2] & 0x20, "PDE accessed");
}

/*
 * PG-4 / PG-5 with a non-identity mapping (Unicorn 2.1): a write to a
 * not-present page at linear 0x402000. The exception bitmap has bit 14 set and
 * the #PF error-code mask/match select writes: the first fault exits with
 * CR2 = the qualification and error code W; then with match = 0 (no match, so
 * bit 14 is inverted) the #PF is delivered through the guest IDT, whose handler
 * also sits on a non-identity page, and reads CR2 and its error code.
 *   0x400000  mov [0x402000], rax
 *   0x400100  handler: mov rax, cr2 ; pop rbx ; vmcall
 */
Test(guest_paging, pg_4_page_fault_cr2_error_code_and_mask_match)
{
    VTX_COVERS("PG-4", "PG-5");
    if (!vtx_engine_translates_paging()) {
        cr_skip_test("needs Unicorn 2.1 (this build has Unicorn %s: identity paging only)",
                     vtx_engine_unicorn_version());
        return;
    }
    tables();
    uint64_t *pd = (uint64_t *)(e.ram + PT + 0x2000);
    pd[2] = (PT + 0x4000) | 3;
    uint64_t *pt2 = (uint64_t *)(e.ram + PT + 0x4000);
    memset(pt2, 0, 4096);
    pt2[0] = 0x70000 | 3;
    static const uint8_t code[] = {0x48, 0x89, 0x04, 0x25, 0x00, 0x20, 0x40, 0x00};
    static const uint8_t handler[] = {0x0f, 0x20, 0xd0, 0x5b, 0x0f, 0x01, 0xc1};
    vt_code(&e, 0x70000, code, sizeof code);
    vt_code(&e, 0x70100, handler, sizeof handler);
    vt_idt_gate(&e, 14, 0x400100, false);
    /* The IDT and the stack are on non-identity pages too: the model's event
     * delivery reads the gate and pushes the frame through the guest's paging. */
    pt2[3] = VT_GUEST_IDT | 3;  /* linear 0x403000 -> the IDT at physical 0x5000 */
    pt2[4] = 0x8000 | 3;        /* linear 0x404000 -> physical 0x8000 (the stack page) */
    vt_vmwrite(&e, VTX_VMCS_GUEST_IDTR_BASE, 0x403000);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RSP, 0x405000);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x400000);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    vt_vmwrite(&e, VTX_VMCS_PF_ERROR_CODE_MASK, 2);
    vt_vmwrite(&e, VTX_VMCS_PF_ERROR_CODE_MATCH, 2);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    expect_exit("write fault, PFEC matches", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_INFO) & 0xff, 14);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_ERROR_CODE), 2, "W, not present, supervisor");
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), 0x402000);
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), 0x400000);
    /* no match: bit 14 inverted, the #PF is delivered to the guest */
    vt_vmwrite(&e, VTX_VMCS_PF_ERROR_CODE_MATCH, 0);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, 0);
    r = (vtx_insn_result){0};
    st = vtx_vmresume(e.m, &r);
    expect_exit("handler", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), 0x400104, "the handler ran at its linear address");
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    cr_assert_eq(g.rax, 0x402000, "CR2 = the faulting linear address");
    cr_assert_eq(g.rbx, 2, "error code pushed: W");
    uint64_t ret;
    memcpy(&ret, e.ram + 0x8fd8, 8); /* frame from 0x404fd0: error code, RIP, CS, RFLAGS, RSP, SS */
    cr_assert_eq(ret, 0x400000, "the frame's RIP is on physical 0x8fd8 (linear 0x404fd8)");
    cr_assert_eq(rd(VTX_VMCS_GUEST_RSP), 0x405000 - 40, "RSP after the pop of the error code");
}

/* The 32-bit guest of these tests: flat segments, CR3 = pd, at linear 0x410000
 * (physical 0x10000 through a mapping the test adds):
 *   mov eax, [0x470000] ; mov [0x470008], eax ; vmcall    (data at physical 0x70000) */
static void guest32_code(uint64_t pd)
{
    vt_guest_flat32(&e, 0x08, 0x10, 0x18, pd, VT_GUEST_GDT, 0x1F, VT_GUEST_IDT);
    static const uint8_t code[] = {0xa1, 0x00, 0x00, 0x47, 0x00, 0xa3, 0x08, 0x00, 0x47, 0x00, 0x0f, 0x01, 0xc1};
    vt_code(&e, 0x10000, code, sizeof code);
    memcpy(e.ram + 0x70000, &(uint32_t){0xc0dec0de}, 4);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x410000);
}

static void expect_guest32_ran(vtx_status st, const vtx_insn_result *r, const char *mode)
{
    if (!vtx_engine_translates_paging()) {
        cr_assert_eq(st, VTX_ERR_UNSUPPORTED, "PG-1: %s non-identity paging refused on Unicorn 2.0.1 (%s)", mode,
                     r->why);
        cr_assert_not_null(strstr(r->why, "identity"), "why: %s", r->why);
        return;
    }
    expect_exit(mode, st, r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), 0x41000a, "%s: RIP", mode);
    cr_assert_eq((uint32_t)rax(), 0xc0dec0de, "%s: the load read physical 0x70000", mode);
    uint32_t stored;
    memcpy(&stored, e.ram + 0x70008, 4);
    cr_assert_eq(stored, 0xc0dec0de, "%s: the store wrote physical 0x70008", mode);
}

/* PG-3 / PG-6, 32-bit paging with CR4.PSE: a 4-MiB page maps linear 4 MiB to
 * physical 0; the walk sets A and D on that PDE. */
Test(guest_paging, pg_3_pse_4mib_page_not_identity)
{
    VTX_COVERS("PG-3");
    const uint64_t pd = 0x24000;
    guest32_code(pd);
    uint32_t *pde = (uint32_t *)(e.ram + pd);
    pde[1] = 0x83; /* linear 0x400000-0x7fffff -> physical 0, 4-MiB page */
    vtx_status st;
    vtx_insn_result r = launch(&st);
    expect_guest32_ran(st, &r, "32-bit paging, PSE");
    if (vtx_engine_translates_paging())
        cr_assert_eq(pde[1] & 0x60, 0x60, "PG-6: the 4-MiB PDE is accessed and dirty (0x%x)", pde[1]);
}

/* PG-3 / PG-6, PAE paging: PDPTE 0 -> a page directory whose entry 2 maps
 * linear 4 MiB to physical 0 with a 2-MiB page. */
Test(guest_paging, pg_3_pae_2mib_page_not_identity)
{
    VTX_COVERS("PG-3");
    const uint64_t pdpt = 0x24000, pd = 0x25000;
    guest32_code(pdpt);
    memset(e.ram + pdpt, 0, 4096);
    memset(e.ram + pd, 0, 4096);
    uint64_t *pdpte = (uint64_t *)(e.ram + pdpt), *pde = (uint64_t *)(e.ram + pd);
    pdpte[0] = pd | 1;
    pde[0] = 0x83;
    pde[2] = 0x83; /* linear 0x400000-0x5fffff -> physical 0, 2-MiB page */
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR4, VTX_CR4_PAE | VTX_CR4_VMXE);
    vt_vmwrite(&e, VTX_VMCS_CR4_READ_SHADOW, VTX_CR4_PAE);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    expect_guest32_ran(st, &r, "PAE paging");
    if (vtx_engine_translates_paging()) {
        cr_assert_eq(pde[2] & 0x60, 0x60, "PG-6: the 2-MiB PDE is accessed and dirty");
        cr_assert_eq(pde[0] & 0x40, 0, "PDE 0 was not written through");
    }
}

/* EPT-ID-1: an identity EPT with R/W/X runs; one page mapped elsewhere, or not
 * present, is refused at VM entry naming EPT (and Unicorn 2.0.1 there), with
 * nothing changed. Both platforms. */
Test(guest_paging, ept_id_1_only_an_identity_ept_runs)
{
    VTX_COVERS("EPT-ID-1");
    if (vtx_engine_translates_paging()) {
        cr_skip_test("EPT-ID-1 is Unicorn 2.0.1's (this build has Unicorn %s: any EPT runs, tests/test_ept_*.c)",
                     vtx_engine_unicorn_version());
        return;
    }
    static const uint8_t code[] = {0x0f, 0x01, 0xc1};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_EPT);
    uint64_t eptp = vt_ept_identity(&e, EPT_TABLES);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, eptp);
    uint64_t *ept_pt = (uint64_t *)(e.ram + EPT_TABLES + 0x3000);
    ept_pt[0x10] = 0x70000 | (6u << 3) | 7; /* guest-physical 0x10000 -> host-physical 0x70000 */
    vtx_status st;
    vtx_insn_result r = launch(&st);
    cr_assert_eq(st, VTX_ERR_UNSUPPORTED, "a non-identity EPT is refused (%s)", r.why);
    cr_assert_not_null(strstr(r.why, "EPT"), "why: %s", r.why);
    cr_assert_not_null(strstr(r.why, "0x10000"), "why names the guest-physical address: %s", r.why);
    cr_assert_not_null(strstr(r.why, "Unicorn 2.0.1"), "why: %s", r.why);
    ept_pt[0x10] = 0x10000 | (6u << 3) | 3; /* identity but not executable */
    r = launch(&st);
    cr_assert_eq(st, VTX_ERR_UNSUPPORTED, "R/W without X is refused (%s)", r.why);
    ept_pt[0x10] = 0x10000 | (6u << 3) | 7;
    r = launch(&st);
    expect_exit("identity EPT", st, &r, VTX_EXIT_REASON_VMCALL);
}

/* EPT-ID-2: EPT accessed/dirty flags (EPTP bit 6) are refused (on a profile
 * that supports them, so that VM entry gets that far). */
Test(guest_paging, ept_id_2_accessed_dirty_flags_are_refused)
{
    VTX_COVERS("EPT-ID-2");
    if (vtx_engine_translates_paging()) {
        cr_skip_test("EPT-ID-2 is Unicorn 2.0.1's (this build has Unicorn %s: EPT A/D flags are set, "
                     "tests/test_ept_walk.c)", vtx_engine_unicorn_version());
        return;
    }
    vt_teardown(&e);
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_EPT_VPID_CAP] |= 1ull << 21;
    vt_start_with(&e, &p);
    static const uint8_t code[] = {0x0f, 0x01, 0xc1};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_EPT);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, vt_ept_identity(&e, EPT_TABLES) | (1u << 6));
    vtx_status st;
    vtx_insn_result r = launch(&st);
    cr_assert_eq(st, VTX_ERR_UNSUPPORTED, "(%s)", r.why);
    cr_assert_not_null(strstr(r.why, "EPT"), "why: %s", r.why);
    cr_assert_not_null(strstr(r.why, "bit 6"), "why: %s", r.why);
}

/*
 * PG-8: the guest's own invalidations. The guest reads DATA (its translation is
 * now cached), clears the present bit of DATA's PTE (at linear = physical
 * 0x63280), invalidates with INVLPG, or with MOV to CR3, and reads DATA again:
 * #PF (exiting through the exception bitmap). Both platforms.
 *   G+0   mov rax, [0x50000]
 *   G+8   and qword [0x63280], -2
 *   G+17  invlpg [0x50000]           (or: G+17 mov rax, cr3 ; mov cr3, rax)
 *   G+25  mov rax, [0x50000]         (G+23 with MOV CR3)
 */
static void guest_invalidates(const uint8_t *inval, size_t n)
{
    tables();
    uint8_t code[64];
    static const uint8_t head[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00,
                                   0x48, 0x83, 0x24, 0x25, 0x80, 0x32, 0x06, 0x00, 0xfe};
    static const uint8_t tail[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1};
    memcpy(code, head, sizeof head);
    memcpy(code + sizeof head, inval, n);
    memcpy(code + sizeof head + n, tail, sizeof tail);
    vt_code(&e, VT_GUEST_RIP, code, sizeof head + n + sizeof tail);
    cr_assert_eq((uintptr_t)pte(DATA) - (uintptr_t)e.ram, 0x63280);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    expect_exit("read after the invalidation", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_INFO) & 0xff, 14);
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), DATA);
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + sizeof head + n, "RIP at the second read");
}

Test(guest_paging, pg_8_invlpg_in_the_guest)
{
    VTX_COVERS("PG-8");
    static const uint8_t invlpg[] = {0x0f, 0x01, 0x3c, 0x25, 0x00, 0x00, 0x05, 0x00};
    guest_invalidates(invlpg, sizeof invlpg);
}

Test(guest_paging, pg_8_mov_to_cr3_in_the_guest)
{
    VTX_COVERS("PG-8");
    vt_clear_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_LOAD_EXITING | VTX_PROC_CR3_STORE_EXITING);
    static const uint8_t movcr3[] = {0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8};
    guest_invalidates(movcr3, sizeof movcr3);
}

/* PG-7: INVEPT (single context) makes a VMM's change visible too, with EPT
 * (identity) and VPID on, where VM entries and exits keep translations. */
Test(guest_paging, pg_7_invept_makes_the_change_visible)
{
    VTX_COVERS("PG-7");
    tables();
    static const uint8_t code[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1,
                                   0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_VPID | VTX_PROC2_ENABLE_EPT);
    vt_vmwrite(&e, VTX_VMCS_VPID, 1);
    uint64_t eptp = vt_ept_identity(&e, EPT_TABLES);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, eptp);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    expect_exit("first read", st, &r, VTX_EXIT_REASON_VMCALL);
    *pte(DATA) &= ~1ull;
    vtx_invept_desc d = {.eptp = eptp};
    cr_assert_eq(vtx_invept(e.m, VTX_INVEPT_SINGLE_CONTEXT, &d, &r), VTX_OK);
    cr_assert_eq(r.outcome, VTX_VMSUCCEED, "INVEPT single-context: %s", r.why);
    r = resume_after_vmcall(&st);
    expect_exit("second read", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_INFO) & 0xff, 14);
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), DATA);
}

/*
 * PG-2 with the guest's own change: the guest reads DATA, clears the present bit
 * of DATA's PTE without invalidating it, and exits (VMCALL); the VM exit and the
 * next VM entry invalidate its mappings, so its next read of DATA faults. The
 * engine finds the change by comparing the page tables with the copy of its last
 * walk at the VM entry (cpu/engine_paging.c); without that the entry's TLB flush
 * would be skipped. Both platforms.
 *   G+0   mov rax, [0x50000]
 *   G+8   and qword [0x63280], -2
 *   G+17  vmcall
 *   G+20  mov rax, [0x50000]
 */
Test(guest_paging, pg_2_the_guests_own_table_change_is_seen_after_the_next_entry)
{
    VTX_COVERS("PG-2");
    tables();
    static const uint8_t code[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x48, 0x83, 0x24, 0x25,
                                   0x80, 0x32, 0x06, 0x00, 0xfe, 0x0f, 0x01, 0xc1, 0x48, 0x8b, 0x04, 0x25,
                                   0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    cr_assert_eq((uintptr_t)pte(DATA) - (uintptr_t)e.ram, 0x63280);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    expect_exit("VMCALL", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(*pte(DATA) & 1, 0, "the guest cleared the present bit");
    r = resume_after_vmcall(&st);
    expect_exit("second read", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_INFO) & 0xff, 14);
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), DATA);
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 20, "RIP at the second read");
}

/*
 * PG-10: the guest clears the present bit of its own code page's PTE (at
 * linear = physical 0x63080) without invalidating it, then runs on in that
 * page: STI (IF = 0), NOP, HLT. The fetches go on through the translation the
 * processor cached (the SDM lets a processor use it until software
 * invalidates it), as Unicorn's TLB does; the engine decodes them through the
 * same translation. With an observer the engine stops before the STI and reads
 * it again: before PG-10 its walk failed there and the model raised #UD. Both
 * paths must end at the HLT exit after the same three instructions.
 *   G+0   and qword [0x63080], -2
 *   G+9   sti
 *   G+10  nop
 *   G+11  hlt
 */
static void observe_nothing(void *user, const vtx_boundary_report *report)
{
    (void)user;
    (void)report;
}

static void code_page_made_not_present(bool observed)
{
    tables();
    static const uint8_t code[] = {0x48, 0x83, 0x24, 0x25, 0x80, 0x30, 0x06, 0x00, 0xfe, 0xfb, 0x90, 0xf4};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    cr_assert_eq((uintptr_t)pte(VT_GUEST_RIP) - (uintptr_t)e.ram, 0x63080);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, (1u << 6) | (1u << 8) | (1u << 14));
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    if (observed)
        cr_assert_eq(vtx_machine_set_observer(e.m, observe_nothing, NULL), VTX_OK);
    uint64_t before = vtx_machine_instructions(e.m);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    cr_assert_eq(*pte(VT_GUEST_RIP) & 1, 0, "the guest cleared the present bit");
    expect_exit(observed ? "HLT, observed" : "HLT", st, &r, VTX_EXIT_REASON_HLT);
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 11, "RIP at the HLT");
    cr_assert_eq(vtx_machine_instructions(e.m) - before, 3, "AND, STI and NOP retired");
    cr_assert(rd(VTX_VMCS_GUEST_RFLAGS) & VTX_RFLAGS_IF, "the STI ran");
}

Test(guest_paging, pg_10_code_fetched_through_a_cleared_pte_before_an_invalidation)
{
    VTX_COVERS("PG-10");
    code_page_made_not_present(false);
}

Test(guest_paging, pg_10_code_fetched_through_a_cleared_pte_with_an_observer)
{
    VTX_COVERS("PG-10");
    code_page_made_not_present(true);
}

/*
 * ENG-DF-1: a fault after a cache removal that walked a broken table. The guest
 * clears its code page's present bit, then STI ends Unicorn's block and DIV ECX
 * (ECX = 0) starts the next one and faults: a #DE exit (exception bitmap). The
 * VM exit and entry invalidate the mappings (PG-2), and the entry runs one
 * instruction (the exit left RFLAGS.RF set): the engine puts a probe after the
 * DIV, in the block it knows, and drops Unicorn's translation there first,
 * whose walk now faults. So the DIV's fetch faults: a #PF exit at the DIV, not
 * the #DF QEMU makes of a second fault while it still records the first.
 *   G+0   and qword [0x63080], -2
 *   G+9   sti
 *   G+10  div ecx
 *   G+12  hlt
 */
Test(guest_paging, fetch_fault_after_a_cache_removal_that_faulted_is_a_page_fault)
{
    VTX_COVERS("ENG-DF-1");
    VTX_COVERS("PG-2");
    tables();
    static const uint8_t code[] = {0x48, 0x83, 0x24, 0x25, 0x80, 0x30, 0x06, 0x00, 0xfe, 0xfb, 0xf7, 0xf1, 0xf4};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, (1u << 0) | (1u << 8) | (1u << 14));
    vtx_status st;
    vtx_insn_result r = launch(&st);
    expect_exit("the DIV's #DE", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_INFO) & 0xff, 0, "#DE");
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 10);
    st = vtx_vmresume(e.m, &r);
    expect_exit("the DIV's fetch", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    uint32_t info = (uint32_t)rd(VTX_VMCS_EXIT_INTR_INFO);
    cr_assert_eq(info & 0xff, 14, "vector %u, want #PF (not #DF)", info & 0xff);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_ERROR_CODE), 0, "not present, supervisor, read");
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), VT_GUEST_RIP + 10, "the DIV's address");
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 10);
}

/*
 * PG-11: code on a page whose translation Unicorn cached for a data read only.
 * The guest reads a byte of page P (0x11000: NOP, HLT), clears P's present bit
 * without invalidating, and jumps there. Unicorn fetches through the
 * translation its read cached; the engine never decoded code there (PG-10 has
 * nothing to fall back to) and its walk fails. The instruction is not an
 * invalid one: the engine has Unicorn fetch it again through a new walk, which
 * faults: a #PF exit at P (before PG-11, the unreadable bytes were the
 * model's #UD). Both paths.
 *   G+0   mov al, [0x11000]
 *   G+7   and qword [0x63088], -2
 *   G+16  jmp 0x11000
 */
static void code_on_a_page_read_as_data(bool observed)
{
    tables();
    static const uint8_t code[] = {0x8a, 0x04, 0x25, 0x00, 0x10, 0x01, 0x00, 0x48, 0x83, 0x24, 0x25,
                                   0x88, 0x30, 0x06, 0x00, 0xfe, 0xe9, 0xeb, 0x0f, 0x00, 0x00};
    static const uint8_t at_p[] = {0x90, 0xf4};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_code(&e, 0x11000, at_p, sizeof at_p);
    cr_assert_eq((uintptr_t)pte(0x11000) - (uintptr_t)e.ram, 0x63088);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, (1u << 6) | (1u << 8) | (1u << 14));
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    if (observed)
        cr_assert_eq(vtx_machine_set_observer(e.m, observe_nothing, NULL), VTX_OK);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    cr_assert_eq(*pte(0x11000) & 1, 0, "the guest cleared the present bit");
    expect_exit(observed ? "fetch at P, observed" : "fetch at P", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    uint32_t info = (uint32_t)rd(VTX_VMCS_EXIT_INTR_INFO);
    cr_assert_eq(info & 0xff, 14, "vector %u, want #PF", info & 0xff);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_ERROR_CODE), 0, "not present, supervisor");
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), 0x11000, "the fetch's address");
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), 0x11000);
}

Test(guest_paging, pg_11_code_on_a_page_read_as_data_refetched)
{
    VTX_COVERS("PG-11");
    code_on_a_page_read_as_data(false);
}

Test(guest_paging, pg_11_code_on_a_page_read_as_data_refetched_with_an_observer)
{
    VTX_COVERS("PG-11");
    code_on_a_page_read_as_data(true);
}
