/*
 * EPT translation on Unicorn 2.1 (model/ept_walk.c, cpu/engine_xlate.c; own
 * rules EPT-W-n, EPT-V-n, EPT-M-n, EPT-AD-n of docs/rules-own.tsv): every
 * guest-physical access of the guest goes through the EPT the VMM built. On
 * Unicorn 2.0.1 each of these EPTs is refused at VM entry by name (EPT-ID-1/2).
 * The machine: tests/ept_fixture.h. Guest code (64-bit, identity guest paging
 * unless a test says otherwise) at VT_GUEST_RIP = 0x10000.
 */
#include "ept_fixture.h"

TestSuite(ept_walk, .init = ept_setup, .fini = ept_teardown);

static const uint8_t VMCALL[] = {0x0f, 0x01, 0xc1};

/* mov rax, [abs32] / mov [abs32], rax */
static size_t ld(uint8_t *p, uint32_t a)
{
    const uint8_t op[] = {0x48, 0x8b, 0x04, 0x25, (uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16), (uint8_t)(a >> 24)};
    memcpy(p, op, sizeof op);
    return sizeof op;
}
static size_t st_(uint8_t *p, uint32_t a)
{
    const uint8_t op[] = {0x48, 0x89, 0x04, 0x25, (uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16), (uint8_t)(a >> 24)};
    memcpy(p, op, sizeof op);
    return sizeof op;
}

/* Guest code at host-physical `hpa`: the accesses, then VMCALL. */
static void code_at(uint64_t hpa, const uint8_t *c, size_t n)
{
    memcpy(e.ram + hpa, c, n);
    memcpy(e.ram + hpa + n, VMCALL, sizeof VMCALL);
}

/*
 * EPT-W-1: a non-identity EPT. Guest-physical 0x10000 (the code) is host-physical
 * 0x70000, DATA is 0x71000, and the guest's own paging structures (GPT..GPT+16K)
 * are at host-physical 0x90000: the guest walk reads them through the EPT (the
 * copy at host-physical GPT is wiped) and its accessed flag lands there too.
 *   mov rax, [DATA+8] ; mov [DATA+0x10], rax ; vmcall
 */
Test(ept_walk, ept_w_1_every_access_goes_through_the_ept)
{
    VTX_COVERS("EPT-W-1");
    uint8_t c[32];
    size_t n = ld(c, DATA + 8);
    n += st_(c + n, DATA + 0x10);
    code_at(0x70000, c, n);
    memcpy(e.ram + 0x71008, &(uint64_t){0x1234567887654321ull}, 8);
    *ept_pte(0x10000) = 0x70000 | EPT_WB | 7;
    *ept_pte(DATA) = 0x71000 | EPT_WB | 7;
    memcpy(e.ram + 0x90000, e.ram + GPT, 0x4000);
    for (unsigned i = 0; i < 4; i++)
        *ept_pte(GPT + i * 0x1000) = (0x90000 + i * 0x1000) | EPT_WB | 7;
    ((uint64_t *)(e.ram + 0x93000))[0x10] &= ~0x20ull; /* the code PTE, not yet accessed */
    memset(e.ram + GPT, 0, 0x4000);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("non-identity EPT", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rax(), 0x1234567887654321ull, "the load read host-physical 0x71008");
    uint64_t v;
    memcpy(&v, e.ram + 0x71010, 8);
    cr_assert_eq(v, 0x1234567887654321ull, "the store wrote host-physical 0x71010");
    memcpy(&v, e.ram + DATA + 0x10, 8);
    cr_assert_eq(v, 0, "nothing written at host-physical == guest-physical");
    cr_assert(((uint64_t *)(e.ram + 0x93000))[0x10] & 0x20, "the guest PTE's accessed flag was set through the EPT");
}

/* One violation: the code runs at VT_GUEST_RIP + off (identity EPT but for what
 * the test changed) and exits 48 at that RIP. */
static void violation(const char *step, size_t off, const uint8_t *c, size_t n, uint64_t qual, uint64_t gpa,
                      uint64_t lin)
{
    code_at(VT_GUEST_RIP + off, c, n);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, VT_GUEST_RIP + off);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_violation(step, st, &r, qual, gpa, lin, VT_GUEST_RIP + off);
}

/* EPT-V-1, V-3, V-4, V-5: a read of a page not present in the EPT: bits 2:0 = read,
 * 5:3 = 0 (not readable, writable or executable), 7 and 8 set; the exact
 * guest-physical and guest-linear addresses; RIP on the MOV. */
Test(ept_walk, ept_v_1_read_of_a_not_present_page)
{
    VTX_COVERS("EPT-V-1", "EPT-V-3", "EPT-V-4", "EPT-V-5");
    uint8_t c[16];
    size_t n = ld(c, DATA + 0x123);
    *ept_pte(DATA) = 0;
    violation("read, not present", 0, c, n, Q_R | Q_LIN | Q_FINAL, DATA + 0x123, DATA + 0x123);
    cr_assert_eq(rax(), 0, "the load did not complete");
}

/* EPT-V-2, V-3: a write to a read-only page (R at the leaf, R/W/X above: the AND is R). */
Test(ept_walk, ept_v_2_write_to_a_read_only_page)
{
    VTX_COVERS("EPT-V-2", "EPT-V-3", "EPT-V-4", "EPT-V-5");
    uint8_t c[16];
    size_t n = st_(c, DATA + 0xff8);
    *ept_pte(DATA) = DATA | EPT_WB | 1;
    violation("write, read-only", 0x40, c, n, Q_W | (1u << 3) | Q_LIN | Q_FINAL, DATA + 0xff8, DATA + 0xff8);
    uint64_t v;
    memcpy(&v, e.ram + DATA + 0xff8, 8);
    cr_assert_eq(v, 0, "the store did not happen");
}

/* EPT-V-2, V-3: a fetch from a page without execute access (R/W at the leaf; the
 * AND with the PDE's R/W is still R/W). */
Test(ept_walk, ept_v_2_fetch_from_a_non_executable_page)
{
    VTX_COVERS("EPT-V-2", "EPT-V-3", "EPT-V-4", "EPT-V-5");
    *ept_pte(VT_GUEST_RIP) = VT_GUEST_RIP | EPT_WB | 3;
    ept_pd()[0] = (EPT_TABLES + 0x3000) | 3; /* the PDE without X too */
    violation("fetch, not executable", 0x80, VMCALL, 0, Q_X | (3u << 3) | Q_LIN | Q_FINAL, VT_GUEST_RIP + 0x80,
              VT_GUEST_RIP + 0x80);
}

/*
 * EPT-V-3 bit 8 = 0: the guest's page table for linear 2 MiB..4 MiB (at
 * guest-physical 0x64000) is not present in the EPT: the violation is on the
 * guest paging-structure entry (its exact address, 0x64000 + 5 * 8), bit 7 set
 * (the guest-linear address is valid), bit 8 clear.
 */
Test(ept_walk, ept_v_3_violation_on_a_guest_paging_structure_entry)
{
    VTX_COVERS("EPT-V-3", "EPT-V-5");
    gpt_pd()[1] = 0x64000 | 0x23;
    ((uint64_t *)(e.ram + 0x64000))[5] = DATA | 0x63;
    *ept_pte(0x64000) = 0;
    uint8_t c[16];
    size_t n = ld(c, 0x205010);
    violation("guest paging-structure entry", 0, c, n, Q_R | Q_LIN, 0x64028, 0x205010);
}

/* EPT-M-1, M-5, M-7: a misconfigured leaf (write without read, then the reserved
 * memory type 7) is exit 49 with the guest-physical address; the VMM's fix lets
 * the MOV complete. */
Test(ept_walk, ept_m_1_misconfigurations_exit_49)
{
    VTX_COVERS("EPT-M-1", "EPT-M-3", "EPT-M-5", "EPT-M-7");
    uint8_t c[16];
    size_t n = ld(c, DATA + 0x123);
    code_at(VT_GUEST_RIP, c, n);
    memcpy(e.ram + DATA + 0x123, &(uint64_t){42}, 8);
    *ept_pte(DATA) = DATA | EPT_WB | 2;
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("write-only", st, &r, VTX_EXIT_REASON_EPT_MISCONFIG);
    cr_assert_eq(rd(VTX_VMCS_GUEST_PHYSICAL_ADDR), DATA + 0x123);
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP);
    *ept_pte(DATA) = DATA | (7u << 3) | 7;
    r = resume(&st);
    expect_exit("memory type 7", st, &r, VTX_EXIT_REASON_EPT_MISCONFIG);
    cr_assert_eq(rd(VTX_VMCS_GUEST_PHYSICAL_ADDR), DATA + 0x123);
    cr_assert_lt(vtx_machine_profile(e.m)->phys_addr_width, 51, "the profile's MAXPHYADDR leaves bit 50 reserved");
    *ept_pte(DATA) = DATA | (1ull << 50) | EPT_WB | 7;
    r = resume(&st);
    expect_exit("address bit 50", st, &r, VTX_EXIT_REASON_EPT_MISCONFIG);
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), 0, "no qualification");
    *ept_pte(DATA) = DATA | EPT_WB | 7;
    r = resume(&st);
    expect_exit("fixed", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rax(), 42);
}

/* EPT-M-4, M-6: reserved bits 7:3 in a non-leaf PDPTE, then a 2-MiB PDE with a
 * reserved address bit 12 set: both exit 49. */
Test(ept_walk, ept_m_4_reserved_bits_exit_49)
{
    VTX_COVERS("EPT-M-4", "EPT-M-6", "EPT-M-7");
    uint8_t c[16];
    size_t n = ld(c, 0x200000);
    code_at(VT_GUEST_RIP, c, n);
    gpt_pd()[1] = 0x200000 | 0xe3; /* guest: a 2-MiB page, linear 2 MiB = guest-physical 2 MiB */
    ept_pdpt()[0] |= 1u << 4;
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("PDPTE bit 4", st, &r, VTX_EXIT_REASON_EPT_MISCONFIG);
    ept_pdpt()[0] &= ~(1ull << 4);
    ept_pd()[1] = 0x201000 | (1u << 7) | EPT_WB | 7;
    r = resume(&st);
    expect_exit("2-MiB PDE with bit 12", st, &r, VTX_EXIT_REASON_EPT_MISCONFIG);
    cr_assert_eq(rd(VTX_VMCS_GUEST_PHYSICAL_ADDR), 0x200000);
}

/* EPT-W-2: a 2-MiB EPT page (guest-physical 2 MiB -> host-physical 0) and a
 * 1-GiB EPT page (guest-physical 1 GiB -> host-physical 0), reached through
 * guest 2-MiB pages: the loads read host-physical DATA + 8. */
Test(ept_walk, ept_w_2_two_mib_and_one_gib_pages)
{
    VTX_COVERS("EPT-W-2");
    uint8_t c[32];
    size_t n = ld(c, 0x200000 + DATA + 8);
    c[n++] = 0x48, c[n++] = 0x89, c[n++] = 0xc3; /* mov rbx, rax */
    n += ld(c + n, 0x40000000 + DATA + 8);
    code_at(VT_GUEST_RIP, c, n);
    memcpy(e.ram + DATA + 8, &(uint64_t){0xabcdef0123456789ull}, 8);
    gpt_pd()[1] = 0x200000 | 0xe3;                       /* guest 2 MiB: linear 2 MiB -> guest-physical 2 MiB */
    gpt_pdpt()[1] = 0x65000 | 0x23;                      /* guest: linear 1 GiB ... */
    memset(e.ram + 0x65000, 0, 4096);
    ((uint64_t *)(e.ram + 0x65000))[0] = 0x40000000 | 0xe3; /* ... -> guest-physical 1 GiB (2 MiB page) */
    ept_pd()[1] = 0 | (1u << 7) | EPT_WB | 7;            /* EPT 2 MiB: guest-physical 2 MiB -> host 0 */
    ept_pdpt()[1] = 0 | (1u << 7) | EPT_WB | 7;          /* EPT 1 GiB: guest-physical 1 GiB -> host 0 */
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("large EPT pages", st, &r, VTX_EXIT_REASON_VMCALL);
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    cr_assert_eq(g.rbx, 0xabcdef0123456789ull, "through the 2-MiB page");
    cr_assert_eq(g.rax, 0xabcdef0123456789ull, "through the 1-GiB page");
}

/* EPT-W-3: an execute-only code page (IA32_VMX_EPT_VPID_CAP[0] = 1): the code
 * runs, and its read of its own page is an EPT violation whose bits 5:3 say
 * "executable only". */
Test(ept_walk, ept_w_3_execute_only_code_runs_but_cannot_be_read)
{
    VTX_COVERS("EPT-W-3", "EPT-V-3");
    uint8_t c[16];
    size_t n = ld(c, VT_GUEST_RIP + 0x800);
    *ept_pte(VT_GUEST_RIP) = VT_GUEST_RIP | EPT_WB | 4;
    violation("read of execute-only", 0, c, n, Q_R | (4u << 3) | Q_LIN | Q_FINAL, VT_GUEST_RIP + 0x800,
              VT_GUEST_RIP + 0x800);
}

/* EPT-M-2: without the execute-only capability, an execute-only entry is a misconfiguration. */
Test(ept_walk, ept_m_2_execute_only_without_the_capability)
{
    VTX_COVERS("EPT-M-2", "EPT-M-7");
    vt_teardown(&e);
    ept_setup_caps(1ull << 0);
    code_at(VT_GUEST_RIP, VMCALL, 0);
    *ept_pte(VT_GUEST_RIP) = VT_GUEST_RIP | EPT_WB | 4;
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("execute-only without the capability", st, &r, VTX_EXIT_REASON_EPT_MISCONFIG);
    cr_assert_eq(rd(VTX_VMCS_GUEST_PHYSICAL_ADDR), VT_GUEST_RIP);
}

/*
 * EPT-AD-1, AD-2, AD-3: with EPTP bit 6 the walk sets the accessed flag of every
 * EPT entry used and the dirty flag of the leaf written; the guest's paging
 * structures (whose own A/D flags are already set, so the guest walk writes
 * nothing) are accessed as writes: their EPT leaf is dirty too.
 *   mov rax, [DATA] ; mov [DATA+0x1000], rax ; vmcall
 */
Test(ept_walk, ept_ad_accessed_and_dirty_flags)
{
    VTX_COVERS("EPT-AD-1", "EPT-AD-2", "EPT-AD-3");
    uint8_t c[32];
    size_t n = ld(c, DATA);
    n += st_(c + n, DATA + 0x1000);
    code_at(VT_GUEST_RIP, c, n);
    set_eptp(eptp | EPT_AD_BIT);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("A/D", st, &r, VTX_EXIT_REASON_VMCALL);
    const uint64_t A = 1u << 8, D = 1u << 9;
    cr_assert(ept_pml4()[0] & A, "PML4E accessed");
    cr_assert(ept_pdpt()[0] & A, "PDPTE accessed");
    cr_assert(ept_pd()[0] & A, "PDE accessed");
    cr_assert_eq(*ept_pte(VT_GUEST_RIP) & (A | D), A, "code: accessed, not dirty");
    cr_assert_eq(*ept_pte(DATA) & (A | D), A, "read page: accessed, not dirty");
    cr_assert_eq(*ept_pte(DATA + 0x1000) & (A | D), A | D, "written page: accessed and dirty");
    cr_assert_eq(*ept_pte(GPT + 0x3000) & (A | D), A | D, "guest page table: accessed as a write");
    cr_assert_eq(*ept_pte(0x70000) & (A | D), 0, "a page nobody used: neither");
}

/* EPT-AD-3 with EPT-V-3: with A/D on, a guest page table in an EPT read-only page
 * is an EPT violation (a write) on the paging-structure entry. */
Test(ept_walk, ept_ad_3_read_only_guest_page_table_faults_with_ad)
{
    VTX_COVERS("EPT-AD-3", "EPT-V-3");
    set_eptp(eptp | EPT_AD_BIT);
    gpt_pd()[1] = 0x64000 | 0x23;
    ((uint64_t *)(e.ram + 0x64000))[5] = DATA | 0x63;
    *ept_pte(0x64000) = 0x64000 | EPT_WB | 1;
    uint8_t c[16];
    size_t n = ld(c, 0x205010);
    violation("read-only guest page table with A/D", 0, c, n, Q_W | (1u << 3) | Q_LIN, 0x64028, 0x205010);
}

/* EPT-V-7: an EPT violation while delivering an event (the IDT page is not
 * present in the EPT): exit 48 with IDT-vectoring information for it. INT3. */
Test(ept_walk, ept_v_7_violation_during_event_delivery)
{
    VTX_COVERS("EPT-V-7");
    static const uint8_t c[] = {0xcc};
    code_at(VT_GUEST_RIP, c, sizeof c);
    *ept_pte(VT_GUEST_IDT) = 0;
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("INT3 through an unmapped IDT", st, &r, VTX_EXIT_REASON_EPT_VIOLATION);
    cr_assert_eq(rd(VTX_VMCS_GUEST_PHYSICAL_ADDR), VT_GUEST_IDT + 3 * 16, "the gate's guest-physical address");
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), Q_R | Q_LIN | Q_FINAL, "a read of the gate, nothing allowed");
    cr_assert_eq(rd(VTX_VMCS_GUEST_LINEAR_ADDR), VT_GUEST_IDT + 3 * 16, "the gate's linear address");
    cr_assert_eq(rd(VTX_VMCS_IDT_VECTORING_INFO), 0x80000603u, "IDT-vectoring: INT3 (software exception)");
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP, "RIP on the INT3");
}

/*
 * PG-4 under EPT: the guest's own #PF, found by the engine's walk of the guest
 * paging (the TLB is filled by the model there): a read of a page the guest
 * maps not present exits through the exception bitmap with CR2 as the
 * qualification; a write to it, with bit 14 clear, is delivered to the guest's
 * handler (on an EPT page mapped elsewhere), which reads CR2 and its error code.
 *   G+0      mov rax, [DATA+0x123] ; vmcall
 *   G+0x40   mov [DATA+0x456], rax
 *   G+0x100  handler: mov rax, cr2 ; pop rbx ; vmcall
 */
Test(ept_walk, ept_guest_page_fault_under_ept)
{
    VTX_COVERS("EPT-W-1", "PG-4");
    uint8_t c[16];
    size_t n = ld(c, DATA + 0x123);
    code_at(0x70000, c, n);
    n = st_(c, DATA + 0x456);
    code_at(0x70040, c, n);
    static const uint8_t handler[] = {0x0f, 0x20, 0xd0, 0x5b};
    code_at(0x70100, handler, sizeof handler);
    *ept_pte(VT_GUEST_RIP) = 0x70000 | EPT_WB | 7;
    ((uint64_t *)(e.ram + GPT + 0x3000))[DATA >> 12] &= ~1ull; /* guest: DATA not present */
    vt_idt_gate(&e, 14, VT_GUEST_RIP + 0x100, false);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("read of a not-present page", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_INFO) & 0xff, 14, "#PF");
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_ERROR_CODE), 0, "read, not present, supervisor");
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), DATA + 0x123, "the qualification is CR2");
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP, "RIP on the MOV");
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 0);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, VT_GUEST_RIP + 0x40);
    r = resume(&st);
    expect_exit("write, delivered", st, &r, VTX_EXIT_REASON_VMCALL);
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    cr_assert_eq(g.rax, DATA + 0x456, "the handler read CR2 = 0x%llx", (unsigned long long)g.rax);
    cr_assert_eq(g.rbx, 2, "error code W, not present, supervisor: 0x%llx", (unsigned long long)g.rbx);
}

/* EPT-V-6, VNMI-8/9: an IRET that removes NMI blocking and whose frame is in a
 * page not present in the EPT: qualification bit 12 ("NMI unblocking due to
 * IRET"), and the saved interruptibility has NMI blocking cleared. */
Test(ept_walk, ept_v_6_iret_nmi_unblocking)
{
    VTX_COVERS("EPT-V-6", "EPT-V-3", "VNMI-8", "VNMI-9");
    static const uint8_t iretq[] = {0x48, 0xcf};
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, 1u << 3); /* blocking by NMI */
    vt_vmwrite(&e, VTX_VMCS_GUEST_RSP, DATA + 0x100);
    *ept_pte(DATA) = 0;
    violation("IRET with an unmapped frame", 0, iretq, sizeof iretq, Q_R | Q_LIN | Q_FINAL | 0x1000, DATA + 0x100,
              DATA + 0x100);
    if (vtx_engine_translates_paging())
        cr_assert_eq(rd(VTX_VMCS_GUEST_INTERRUPTIBILITY) & 8, 0, "NMI blocking saved as cleared");
}

/* EPT-V-3/V-4 for an access the model makes itself: LMSW's memory operand (the
 * model reads it before deciding on the CR0 exit) in a page not present in the
 * EPT: exit 48 with the operand's guest-physical and linear addresses.
 *   lmsw [DATA+0x10] */
Test(ept_walk, ept_v_4_model_read_of_an_lmsw_operand)
{
    VTX_COVERS("EPT-V-3", "EPT-V-4", "EPT-V-5");
    static const uint8_t lmsw[] = {0x0f, 0x01, 0x34, 0x25, 0x10, 0x00, 0x05, 0x00};
    *ept_pte(DATA) = 0;
    violation("LMSW operand", 0, lmsw, sizeof lmsw, Q_R | Q_LIN | Q_FINAL, DATA + 0x10, DATA + 0x10);
}

/* EPT-V-3, V-7: the frame of an event pushed onto a stack page that is not
 * present in the EPT: the violation is a write (demand-populating VMMs map the
 * page writable on this bit), with the frame's linear address. INT3. */
Test(ept_walk, ept_v_7_frame_push_is_a_write)
{
    VTX_COVERS("EPT-V-3", "EPT-V-7");
    static const uint8_t c[] = {0xcc};
    code_at(VT_GUEST_RIP, c, sizeof c);
    vt_idt_gate(&e, 3, VT_GUEST_RIP + 0x100, false);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RSP, DATA + 0x800);
    *ept_pte(DATA) = 0;
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("INT3 onto an unmapped stack", st, &r, VTX_EXIT_REASON_EPT_VIOLATION);
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), Q_W | Q_LIN | Q_FINAL, "a write of the frame: 0x%llx",
                 (unsigned long long)rd(VTX_VMCS_EXIT_QUALIFICATION));
    uint64_t gpa = rd(VTX_VMCS_GUEST_PHYSICAL_ADDR);
    cr_assert(gpa >= DATA + 0x800 - 40 && gpa < DATA + 0x800, "in the frame: 0x%llx", (unsigned long long)gpa);
    cr_assert_eq(rd(VTX_VMCS_GUEST_LINEAR_ADDR), gpa, "identity guest paging: the same linear address");
    cr_assert_eq(rd(VTX_VMCS_IDT_VECTORING_INFO), 0x80000603u, "IDT-vectoring: INT3");
    cr_assert_eq(rd(VTX_VMCS_GUEST_RSP), DATA + 0x800, "nothing pushed");
}

/*
 * EPT-W-1 with a user-mode guest: at CPL 3 the descriptor read of MOV DS is an
 * implicit supervisor access (SDM 4.6), allowed on the supervisor-only GDT
 * page, while the explicit read of the same page faults (#PF, U/S).
 *   CPL 3:  mov ax, 0x33 ; mov ds, ax ; vmcall ; mov rax, [VT_GUEST_GDT]
 */
Test(ept_walk, ept_user_mode_segment_load_is_a_supervisor_access)
{
    VTX_COVERS("EPT-W-1");
    uint64_t *gdt = (uint64_t *)(e.ram + VT_GUEST_GDT);
    gdt[5] = 0x00AFFB000000FFFFull; /* 0x28: 64-bit code, DPL 3 */
    gdt[6] = 0x00CFF3000000FFFFull; /* 0x30: data, DPL 3 */
    vt_vmwrite(&e, VTX_VMCS_GUEST_GDTR_LIMIT, 0x37);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_SELECTOR, 0x2B);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_AR, 0xA0FB);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_SELECTOR, 0x33);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_AR, 0xC0F3);
    uint64_t *g = (uint64_t *)(e.ram + GPT);
    g[0] |= 4, g[512] |= 4, g[1024] |= 4;                /* user-accessible above the page tables */
    g[1536 + (VT_GUEST_RIP >> 12)] |= 4;                  /* the code page */
    g[1536 + ((VT_GUEST_RSP - 8) >> 12)] |= 4;            /* the stack page */
    *ept_pte(DATA) = 0;                                   /* so that Unicorn 2.0.1 refuses this EPT */
    static const uint8_t c[] = {0x66, 0xb8, 0x33, 0x00, 0x8e, 0xd8, 0x0f, 0x01, 0xc1,
                                0x48, 0x8b, 0x04, 0x25, 0x00, 0x40, 0x00, 0x00};
    code_at(VT_GUEST_RIP, c, sizeof c);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("MOV DS at CPL 3", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rd(VTX_VMCS_GUEST_DS_SELECTOR), 0x33, "DS loaded");
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rd(VTX_VMCS_GUEST_RIP) + 3);
    r = resume(&st);
    expect_exit("explicit read of the GDT page", st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_INFO) & 0xff, 14, "#PF");
    cr_assert_eq(rd(VTX_VMCS_EXIT_INTR_ERROR_CODE), 5, "present, read, user");
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), VT_GUEST_GDT);
}

/*
 * EPT-W-1 with 32-bit guests: 32-bit paging with a 4-MiB page, then PAE paging
 * with a 2-MiB page, both mapping linear 4 MiB to guest-physical 0; the guest's
 * paging structures (at guest-physical 0x24000/0x25000) and the data page
 * (guest-physical DATA) are elsewhere in host-physical memory (0x94000/0x95000,
 * 0x71000).
 *   linear 0x410000: mov eax, [0x450000] ; mov [0x450008], eax ; vmcall
 */
static void guest32_under_ept(bool pae)
{
    const uint64_t t = 0x24000;
    vt_guest_flat32(&e, 0x08, 0x10, 0x18, t, VT_GUEST_GDT, 0x1F, VT_GUEST_IDT);
    static const uint8_t c[] = {0xa1, 0x00, 0x00, 0x45, 0x00, 0xa3, 0x08, 0x00, 0x45, 0x00, 0x0f, 0x01, 0xc1};
    vt_code(&e, VT_GUEST_RIP, c, sizeof c);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x400000 + VT_GUEST_RIP);
    uint8_t *h = e.ram + 0x94000;
    memset(h, 0, 0x2000);
    if (pae) {
        ((uint64_t *)h)[0] = 0x25000 | 1;          /* PDPTE 0 -> PD at guest-physical 0x25000 */
        ((uint64_t *)(h + 0x1000))[2] = 0x83;      /* linear 4 MiB -> guest-physical 0, 2 MiB */
        vt_vmwrite(&e, VTX_VMCS_GUEST_CR4, VTX_CR4_PAE | VTX_CR4_VMXE);
        vt_vmwrite(&e, VTX_VMCS_CR4_READ_SHADOW, VTX_CR4_PAE);
        vt_vmwrite(&e, VTX_VMCS_GUEST_PDPTE0, 0x25000 | 1); /* the PDPTE registers VM entry loads with EPT */
    } else {
        ((uint32_t *)h)[1] = 0x83;                  /* linear 4 MiB -> guest-physical 0, 4 MiB */
    }
    memset(e.ram + 0x24000, 0xff, 0x2000);          /* the host-physical copies are garbage */
    *ept_pte(0x24000) = 0x94000 | EPT_WB | 7;
    *ept_pte(0x25000) = 0x95000 | EPT_WB | 7;
    *ept_pte(DATA) = 0x71000 | EPT_WB | 7;
    memcpy(e.ram + 0x71000, &(uint32_t){0x5eed1234}, 4);
}

Test(ept_walk, ept_w_1_thirty_two_bit_and_pae_guests)
{
    VTX_COVERS("EPT-W-1");
    for (int pae = 0; pae < 2; pae++) {
        if (pae) {
            vt_teardown(&e);
            ept_setup();
        }
        guest32_under_ept(pae);
        vtx_status st;
        vtx_insn_result r = launch(&st);
        if (ept_refused_on_2_0(st, &r))
            return;
        expect_exit(pae ? "PAE" : "32-bit paging", st, &r, VTX_EXIT_REASON_VMCALL);
        cr_assert_eq((uint32_t)rax(), 0x5eed1234, "%s: the load read host-physical 0x71000", pae ? "PAE" : "32-bit");
        uint32_t v;
        memcpy(&v, e.ram + 0x71008, 4);
        cr_assert_eq(v, 0x5eed1234, "the store wrote host-physical 0x71008");
        uint64_t pde = pae ? ((uint64_t *)(e.ram + 0x95000))[2] : ((uint32_t *)(e.ram + 0x94000))[1];
        cr_assert_eq(pde & 0x60, 0x60, "the guest's large-page PDE, accessed and dirty through the EPT");
    }
}

/*
 * EPT-W-5: PAE paging with EPT. VM entry loads the PDPTE registers from the
 * VMCS (PDPTE0 -> the page directory that maps the code and data), not from
 * the PDPT in memory (whose PDPTE0 names an empty page directory); the guest's
 * MOV to CR3 then loads a new PDPT from memory, and the VM exit stores its
 * PDPTEs into the VMCS.
 *   linear 0x410000: mov eax, [0x450000] ; mov ecx, 0x27000 ; mov cr3, ecx ; vmcall
 */
Test(ept_walk, ept_w_5_pae_pdptes_come_from_the_vmcs)
{
    VTX_COVERS("EPT-W-5");
    guest32_under_ept(true);
    static const uint8_t c[] = {0xa1, 0x00, 0x00, 0x45, 0x00, 0xb9, 0x00, 0x70, 0x02, 0x00,
                                0x0f, 0x22, 0xd9, 0x0f, 0x01, 0xc1};
    vt_code(&e, VT_GUEST_RIP, c, sizeof c);
    ((uint64_t *)(e.ram + 0x94000))[0] = 0x26000 | 1; /* memory's PDPTE0: an empty page directory */
    memset(e.ram + 0x26000, 0, 0x3000);
    uint64_t *pdpt2 = (uint64_t *)(e.ram + 0x27000);
    pdpt2[0] = 0x25000 | 1;
    pdpt2[1] = 0x28000 | 1;
    vt_vmwrite(&e, VTX_VMCS_GUEST_PDPTE0, 0x25000 | 1);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("PAE with the VMCS PDPTEs", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq((uint32_t)rax(), 0x5eed1234, "the load went through the VMCS's PDPTE0");
    cr_assert_eq(rd(VTX_VMCS_GUEST_CR3), 0x27000);
    cr_assert_eq(rd(VTX_VMCS_GUEST_PDPTE0), 0x25000 | 1, "the exit stored the PDPTEs of the new CR3");
    cr_assert_eq(rd(VTX_VMCS_GUEST_PDPTE1), 0x28000 | 1, "the exit stored the PDPTEs of the new CR3");
}

/* EPT-V-4 for the model's read of the I/O permission bit map: at CPL 3 (IOPL 0)
 * IN reads the TSS's I/O map base; the TSS page is not present in the EPT: an
 * EPT violation at that read (not #GP), with its linear address.
 *   CPL 3:  in al, 0x60 */
Test(ept_walk, ept_v_4_io_permission_read_of_the_tss)
{
    VTX_COVERS("EPT-V-4", "EPT-V-5");
    uint64_t *gdt = (uint64_t *)(e.ram + VT_GUEST_GDT);
    gdt[5] = 0x00AFFB000000FFFFull; /* 0x28: 64-bit code, DPL 3 */
    gdt[6] = 0x00CFF3000000FFFFull; /* 0x30: data, DPL 3 */
    vt_vmwrite(&e, VTX_VMCS_GUEST_GDTR_LIMIT, 0x37);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_SELECTOR, 0x2B);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CS_AR, 0xA0FB);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_SELECTOR, 0x33);
    vt_vmwrite(&e, VTX_VMCS_GUEST_SS_AR, 0xC0F3);
    uint64_t *g = (uint64_t *)(e.ram + GPT);
    g[0] |= 4, g[512] |= 4, g[1024] |= 4;
    g[1536 + (VT_GUEST_RIP >> 12)] |= 4;
    static const uint8_t in60[] = {0xe4, 0x60};
    *ept_pte(VT_GUEST_TSS) = 0;
    violation("IN at CPL 3, TSS not present in the EPT", 0, in60, sizeof in60, Q_R | Q_LIN | Q_FINAL,
              VT_GUEST_TSS + 0x66, VT_GUEST_TSS + 0x66);
}
