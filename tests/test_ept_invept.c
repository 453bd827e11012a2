/*
 * EPT across VM exits and entries (model/tlb.c, model/invalidate.c; own rules
 * EPT-INV-n), and unrestricted guests through a non-identity EPT (EPT-W-4).
 * The machine: tests/ept_fixture.h. On Unicorn 2.0.1 each of these EPTs is
 * refused at VM entry by name (EPT-ID-1).
 */
#include "ept_fixture.h"

TestSuite(ept_invept, .init = ept_setup, .fini = ept_teardown);

/* mov rax, [DATA] ; vmcall ; mov rax, [DATA] ; vmcall */
static const uint8_t TWO_READS[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1,
                                    0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1};

/* With VPID on (translations survive exits and entries), the guest reads DATA,
 * the VMM takes read access away in the EPT and invalidates with INVEPT of
 * `type`: the guest's next read is an EPT violation. Without the INVEPT the
 * processor may go on using the cached translation; that is not asserted. */
static void invept_case(uint64_t type)
{
    vt_code(&e, VT_GUEST_RIP, TWO_READS, sizeof TWO_READS);
    *ept_pte(DATA) = 0x71000 | EPT_WB | 7; /* non-identity, so Unicorn 2.0.1 refuses it */
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_VPID);
    vt_vmwrite(&e, VTX_VMCS_VPID, 1);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("first read", st, &r, VTX_EXIT_REASON_VMCALL);
    *ept_pte(DATA) = 0;
    vtx_invept_desc d = {.eptp = eptp};
    cr_assert_eq(vtx_invept(e.m, type, &d, &r), VTX_OK);
    cr_assert_eq(r.outcome, VTX_VMSUCCEED, "INVEPT: %s", r.why);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rd(VTX_VMCS_GUEST_RIP) + 3);
    r = resume(&st);
    expect_violation("second read", st, &r, Q_R | Q_LIN | Q_FINAL, DATA, DATA, VT_GUEST_RIP + 11);
}

Test(ept_invept, ept_inv_1_single_context_invalidates)
{
    VTX_COVERS("EPT-INV-1");
    invept_case(VTX_INVEPT_SINGLE_CONTEXT);
}

Test(ept_invept, ept_inv_2_all_context_invalidates)
{
    VTX_COVERS("EPT-INV-2");
    invept_case(VTX_INVEPT_ALL_CONTEXT);
}

/* EPT-INV-3: with VPID on, a VM entry with another EPTP does not use the
 * combined mappings made with the old one: the second EPT maps DATA elsewhere
 * and the guest's second read sees it, without any INVEPT. */
Test(ept_invept, ept_inv_3_another_eptp_sees_its_own_tables)
{
    VTX_COVERS("EPT-INV-3");
    vt_code(&e, VT_GUEST_RIP, TWO_READS, sizeof TWO_READS);
    memcpy(e.ram + 0x71000, &(uint64_t){111}, 8);
    memcpy(e.ram + 0x72000, &(uint64_t){222}, 8);
    *ept_pte(DATA) = 0x71000 | EPT_WB | 7;
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_VPID);
    vt_vmwrite(&e, VTX_VMCS_VPID, 1);
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("first read", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rax(), 111);
    /* A second EPT at 0x84000: a copy of the first with DATA at 0x72000. */
    memcpy(e.ram + 0x84000, e.ram + EPT_TABLES, 0x4000);
    uint64_t *x = (uint64_t *)(e.ram + 0x84000);
    x[0] = (0x85000) | 7;
    x[512] = (0x86000) | 7;
    x[1024] = (0x87000) | 7;
    x[1536 + (DATA >> 12)] = 0x72000 | EPT_WB | 7;
    set_eptp(0x84000 | 6u | (3u << 3));
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rd(VTX_VMCS_GUEST_RIP) + 3);
    r = resume(&st);
    expect_exit("second read", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rax(), 222, "the new EPTP's mapping is used");
}

/*
 * EPT-W-4: an unrestricted guest in real mode through a non-identity EPT. CS
 * base 0x10000 (guest-physical, the code) is host-physical 0x70000; DS base
 * DATA is host-physical 0x71000.
 *   0000  mov ax, [0x123] ; vmcall ; mov [0x1000], ax
 * Then the VMM maps DS elsewhere and the load runs again (the exit and entry
 * invalidate combined mappings without paging too). The second page of DS
 * (guest-physical DATA + 0x1000) is not present: the store after the VMCALL is
 * an EPT violation with the real-mode linear address.
 */
Test(ept_invept, ept_w_4_unrestricted_real_mode_guest)
{
    VTX_COVERS("EPT-W-4", "PG-2");
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_UNRESTRICTED_GUEST);
    vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, 0x30);
    vt_vmwrite(&e, VTX_VMCS_CR0_READ_SHADOW, 0x30);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR4, VTX_CR4_VMXE);
    vt_vmwrite(&e, VTX_VMCS_CR4_READ_SHADOW, 0);
#define SEG(N, sel, base, ar)                                                                              \
    do {                                                                                                   \
        vt_vmwrite(&e, VTX_VMCS_GUEST_##N##_SELECTOR, (sel));                                              \
        vt_vmwrite(&e, VTX_VMCS_GUEST_##N##_BASE, (base));                                                 \
        vt_vmwrite(&e, VTX_VMCS_GUEST_##N##_LIMIT, 0xFFFF);                                                \
        vt_vmwrite(&e, VTX_VMCS_GUEST_##N##_AR, (ar));                                                     \
    } while (0)
    SEG(CS, 0x1000, 0x10000, 0x9B);
    SEG(SS, 0x0800, 0x8000, 0x93);
    SEG(DS, DATA >> 4, DATA, 0x93);
    SEG(ES, 0, 0, 0x93);
    SEG(FS, 0, 0, 0x93);
    SEG(GS, 0, 0, 0x93);
    SEG(TR, 0, 0, 0x8B);
#undef SEG
    vt_vmwrite(&e, VTX_VMCS_GUEST_IDTR_BASE, VT_GUEST_IDT);
    vt_vmwrite(&e, VTX_VMCS_GUEST_IDTR_LIMIT, 0x3FF);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RSP, 0x1000);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0);
    static const uint8_t code[] = {0xa1, 0x23, 0x01, 0x0f, 0x01, 0xc1, 0xa3, 0x00, 0x10};
    memcpy(e.ram + 0x70000, code, sizeof code);
    memcpy(e.ram + 0x71123, &(uint16_t){0xbeef}, 2);
    *ept_pte(0x10000) = 0x70000 | EPT_WB | 7;
    *ept_pte(DATA) = 0x71000 | EPT_WB | 7;
    *ept_pte(DATA + 0x1000) = 0;
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("real-mode load", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rax() & 0xffff, 0xbeef, "the load read host-physical 0x71123");
    /* PG-2 without paging: the VMM maps DS elsewhere; the next entry sees it. */
    memcpy(e.ram + 0x72123, &(uint16_t){0xcafe}, 2);
    *ept_pte(DATA) = 0x72000 | EPT_WB | 7;
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0);
    r = resume(&st);
    expect_exit("real-mode load, remapped", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rax() & 0xffff, 0xcafe, "the load read host-physical 0x72123");
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 6);
    r = resume(&st);
    expect_violation("real-mode store", st, &r, Q_W | Q_LIN | Q_FINAL, DATA + 0x1000, DATA + 0x1000, 6);
}

/* PG-2 with EPT: with VPID off the VM exit and entry invalidate combined
 * mappings, so a VMM that maps the guest's code page elsewhere in the EPT
 * between two exits runs the new code (the engine's decoded blocks and
 * Unicorn's translations of the old page are not used).
 *   host 0x70000: mov eax, 1 ; vmcall      host 0x72000: mov eax, 2 ; vmcall */
Test(ept_invept, pg_2_remapped_code_page_runs_after_the_next_entry)
{
    VTX_COVERS("PG-2", "EPT-W-1");
    static const uint8_t one[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1};
    static const uint8_t two[] = {0xb8, 0x02, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1};
    memcpy(e.ram + 0x70000, one, sizeof one);
    memcpy(e.ram + 0x72000, two, sizeof two);
    *ept_pte(VT_GUEST_RIP) = 0x70000 | EPT_WB | 7;
    vtx_status st;
    vtx_insn_result r = launch(&st);
    if (ept_refused_on_2_0(st, &r))
        return;
    expect_exit("old page", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rax(), 1);
    *ept_pte(VT_GUEST_RIP) = 0x72000 | EPT_WB | 7;
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, VT_GUEST_RIP);
    r = resume(&st);
    expect_exit("new page", st, &r, VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(rax(), 2, "the code of the new host page ran");
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 5, "stopped before its VMCALL");
}
