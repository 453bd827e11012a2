/*
 * VM-entry checks on the rest of the guest non-register state, pending debug
 * exceptions and the VMCS link pointer (SDM Vol. 3 "Checks on Guest
 * Non-Register State"; catalogue F.3 ENT-GS-14, ENT-GS-15), and on the guest
 * PDPTEs (SDM "Checks on Guest Page-Directory-Pointer-Table Entries",
 * qualification 2). Activity and interruptibility state: test_entry_guest_activity.c.
 *
 * Each test starts from the baseline VMCS (a 64-bit guest that passes every
 * check), breaks one thing, expects the VM-entry failure exit 33 | 0x80000000
 * with the right qualification and named check, then makes the small change
 * that flips the outcome and expects VM entry to pass (tests/entry_guest_fixture.h).
 */
#include "entry_guest_fixture.h"

/* ===================== pending debug exceptions (ENT-GS-14) ===================== */

Test(guest_pending_dbg, ent_gs_14_reserved_bits)
{
    VTX_COVERS("ENT-GS-14");
    start("server");
    W(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 4);
    FAIL("ENT-GS-14: pending debug bit 4", 0, GUEST_PENDING_DBG_RESERVED);
    W(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 13);
    FAIL("ENT-GS-14: pending debug bit 13", 0, GUEST_PENDING_DBG_RESERVED);
    W(GUEST_PENDING_DBG_EXCEPTIONS, 1ull << 17);
    FAIL("ENT-GS-14: pending debug bit 17", 0, GUEST_PENDING_DBG_RESERVED);
    W(GUEST_PENDING_DBG_EXCEPTIONS, 0x100F);
    PASS("ENT-GS-14: B3-B0 and enabled breakpoint (bit 12)");
    done();
}

/* Every reserved bit on its own (63:17, 15, 13, 11:4): each fails the entry with
 * the reserved-bits check; the defined bits (B3-B0, enabled breakpoint, BS, RTM)
 * never do. RTM (bit 16) has a check of its own. */
Test(guest_pending_dbg, ent_gs_14_each_reserved_bit)
{
    VTX_COVERS("ENT-GS-14");
    start("server");
    const uint64_t defined = 0xFull | 1ull << 12 | 1ull << 14 | 1ull << 16;
    for (unsigned bit = 0; bit < 64; bit++) {
        if ((defined >> bit) & 1)
            continue;
        char step[80];
        snprintf(step, sizeof step, "ENT-GS-14: pending debug exceptions bit %u alone", bit);
        W(GUEST_PENDING_DBG_EXCEPTIONS, 1ull << bit);
        FAIL(step, 0, GUEST_PENDING_DBG_RESERVED);
    }
    W(GUEST_PENDING_DBG_EXCEPTIONS, 1ull << 16);
    FAIL("ENT-GS-14: RTM (bit 16) on a processor without RTM", 0, GUEST_PENDING_DBG_RTM);
    W(GUEST_PENDING_DBG_EXCEPTIONS, 0x500F);
    PASS("ENT-GS-14: B3-B0, enabled breakpoint and BS together");
    done();
}

Test(guest_pending_dbg, ent_gs_14_bs_required_for_single_step_in_shadow)
{
    VTX_COVERS("ENT-GS-14", "HLT-5");
    start("server");
    W(GUEST_RFLAGS, IF_ON | VTX_RFLAGS_TF);
    W(GUEST_INTERRUPTIBILITY, STI);
    FAIL("ENT-GS-14: STI blocking, TF = 1, BTF = 0, BS = 0", 0, GUEST_PENDING_DBG_BS_CLEAR);
    W(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 14);
    PASS("ENT-GS-14: STI blocking, TF = 1, BS = 1");
    W(GUEST_PENDING_DBG_EXCEPTIONS, 0);
    W(GUEST_INTERRUPTIBILITY, 0);
    PASS("ENT-GS-14: no blocking, not HLT: BS not checked");
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    FAIL("ENT-GS-14: MOV-SS blocking, TF = 1, BS = 0", 0, GUEST_PENDING_DBG_BS_CLEAR);
    W(GUEST_INTERRUPTIBILITY, 0);
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    FAIL("ENT-GS-14 (HLT-5): HLT, TF = 1, BS = 0", 0, GUEST_PENDING_DBG_BS_CLEAR);
    W(GUEST_IA32_DEBUGCTL, 0x2);
    PASS("ENT-GS-14: HLT, TF = 1, BTF = 1, BS = 0");
    done();
}

Test(guest_pending_dbg, ent_gs_14_bs_forbidden_without_single_step)
{
    VTX_COVERS("ENT-GS-14");
    start("server");
    W(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 14);
    PASS("ENT-GS-14: BS = 1 with no blocking (not checked)");
    W(GUEST_RFLAGS, IF_ON);
    W(GUEST_INTERRUPTIBILITY, STI);
    FAIL("ENT-GS-14: STI blocking, TF = 0, BS = 1", 0, GUEST_PENDING_DBG_BS_SET);
    W(GUEST_RFLAGS, IF_ON | VTX_RFLAGS_TF);
    W(GUEST_IA32_DEBUGCTL, 0x2);
    FAIL("ENT-GS-14: STI blocking, TF = 1, BTF = 1, BS = 1", 0, GUEST_PENDING_DBG_BS_SET);
    W(GUEST_IA32_DEBUGCTL, 0);
    PASS("ENT-GS-14: STI blocking, TF = 1, BTF = 0, BS = 1");
    done();
}

Test(guest_pending_dbg, ent_gs_14_rtm_unsupported)
{
    VTX_COVERS("ENT-GS-14");
    start("server");
    W(GUEST_PENDING_DBG_EXCEPTIONS, (1u << 16) | (1u << 12));
    FAIL("ENT-GS-14: RTM bit 16 on a part without RTM", 0, GUEST_PENDING_DBG_RTM);
    W(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 12);
    PASS("ENT-GS-14: enabled breakpoint only");
    done();
}

/* ===================== VMCS link pointer (ENT-GS-15, qualification 4) ===================== */

Test(guest_link, ent_gs_15_alignment)
{
    VTX_COVERS("ENT-GS-15");
    start("server");
    vt_poke32(&e, LINK_PA, e.rev);
    W(VMCS_LINK_POINTER, LINK_PA + 0x10);
    FAIL("ENT-GS-15: link pointer not 4-KiB aligned", 4, GUEST_LINK_PTR_ALIGN);
    W(VMCS_LINK_POINTER, LINK_PA);
    PASS("ENT-GS-15: aligned link pointer to a region with the right revision");
    done();
}

Test(guest_link, ent_gs_15_physical_width)
{
    VTX_COVERS("ENT-GS-15");
    start("core2"); /* 36-bit physical addresses */
    W(VMCS_LINK_POINTER, 1ull << 36);
    FAIL("ENT-GS-15: core2 link pointer bit 36", 4, GUEST_LINK_PTR_WIDTH);
    done();
    start("server");
    W(VMCS_LINK_POINTER, 1ull << 46);
    FAIL("ENT-GS-15: server link pointer bit 46", 4, GUEST_LINK_PTR_WIDTH);
    done();
}

Test(guest_link, ent_gs_15_unmapped)
{
    VTX_COVERS("ENT-GS-15");
    start("server");
    W(VMCS_LINK_POINTER, VT_RAM_SIZE);
    FAIL("ENT-GS-15: link pointer to unmapped memory", 4, GUEST_LINK_PTR_UNMAPPED);
    done();
}

Test(guest_link, ent_gs_15_revision)
{
    VTX_COVERS("ENT-GS-15");
    start("server");
    W(VMCS_LINK_POINTER, LINK_PA);
    FAIL("ENT-GS-15: link region revision 0", 4, GUEST_LINK_PTR_REVISION);
    vt_poke32(&e, LINK_PA, e.rev + 1);
    FAIL("ENT-GS-15: link region revision off by one", 4, GUEST_LINK_PTR_REVISION);
    vt_poke32(&e, LINK_PA, e.rev);
    PASS("ENT-GS-15: link region revision right");
    done();
}

Test(guest_link, ent_gs_15_shadow_indicator)
{
    VTX_COVERS("ENT-GS-15");
    start("server");
    W(VMCS_LINK_POINTER, LINK_PA);
    vt_poke32(&e, LINK_PA, e.rev | 0x80000000u);
    FAIL("ENT-GS-15: shadow indicator 1 without VMCS shadowing", 4, GUEST_LINK_PTR_SHADOW);
    done();
}

Test(guest_link, ent_gs_15_shadow_indicator_with_shadowing)
{
    VTX_COVERS("ENT-GS-15");
    vtx_profile p = server_plus(0, VTX_PROC2_VMCS_SHADOWING);
    start_with(&p);
    SET(PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    W(PROC_CONTROLS2, VTX_PROC2_VMCS_SHADOWING);
    W(VMREAD_BITMAP, 0x60000);
    W(VMWRITE_BITMAP, 0x61000);
    W(VMCS_LINK_POINTER, LINK_PA);
    vt_poke32(&e, LINK_PA, e.rev);
    FAIL("ENT-GS-15: VMCS shadowing with an ordinary VMCS as link", 4, GUEST_LINK_PTR_SHADOW);
    vt_poke32(&e, LINK_PA, e.rev | 0x80000000u);
    PASS("ENT-GS-15: VMCS shadowing with a shadow VMCS as link");
    done();
}

Test(guest_link, ent_gs_15_not_the_current_vmcs)
{
    VTX_COVERS("ENT-GS-15");
    start("server");
    W(VMCS_LINK_POINTER, VT_VMCS_PA);
    FAIL("ENT-GS-15: link pointer is the current VMCS", 4, GUEST_LINK_PTR_CURRENT);
    vt_poke32(&e, VT_VMCS2_PA, e.rev);
    W(VMCS_LINK_POINTER, VT_VMCS2_PA);
    PASS("ENT-GS-15: link pointer to another VMCS region");
    done();
}

/* ===================== PDPTEs (qualification 2) ===================== */

static void write_pdpte(unsigned i, uint64_t v)
{
    cr_assert_eq(vtx_machine_write_phys(e.m, VT_GUEST_CR3 + 8u * i, &v, sizeof v, NULL), VTX_OK);
}

Test(guest_pdpte, reserved_bits_in_memory)
{
    start("server");
    guest32();
    write_pdpte(2, 0x70000 | 1 | 2);
    FAIL("PAE: present PDPTE2 with bit 1 set", 2, GUEST_PDPTE_RESERVED);
    write_pdpte(2, 0x70000 | 1 | (1ull << 63));
    FAIL("PAE: present PDPTE2 with bit 63 (XD) set", 2, GUEST_PDPTE_RESERVED);
    write_pdpte(2, 0x70000 | 1 | (1ull << 46));
    FAIL("PAE: present PDPTE2 beyond MAXPHYADDR", 2, GUEST_PDPTE_RESERVED);
    write_pdpte(2, 0x70000 | 1 | 0x18);
    PASS("PAE: present PDPTE2 with PWT/PCD");
    write_pdpte(3, 0xFFFFFFFFFFFFFFFEull);
    PASS("PAE: not-present PDPTE3 with every other bit set");
    write_pdpte(0, 0x1E7);
    FAIL("PAE: present PDPTE0 with bits 8:5 set", 2, GUEST_PDPTE_RESERVED);
    done();
}

Test(guest_pdpte, only_for_pae_paging)
{
    start("server");
    write_pdpte(0, 0x1E7);
    PASS("IA-32e mode: no PDPTE checks");
    guest32();
    write_pdpte(0, 0x1E7);
    FAIL("PAE paging: bad PDPTE0", 2, GUEST_PDPTE_RESERVED);
    W(GUEST_CR4, VTX_CR4_VMXE);
    PASS("32-bit paging (CR4.PAE = 0): no PDPTE checks");
    done();
}

Test(guest_pdpte, cr3_bits_31_5_locate_the_table)
{
    start("server");
    guest32();
    W(GUEST_CR3, VT_GUEST_CR3 + 0x20);
    cr_assert_eq(vtx_machine_write_phys(e.m, VT_GUEST_CR3 + 0x20, &(uint64_t){0x3}, 8, NULL), VTX_OK);
    FAIL("PAE: PDPT at CR3 + 0x20 has a bad entry", 2, GUEST_PDPTE_RESERVED);
    W(GUEST_CR3, VT_GUEST_CR3 + 0x40);
    PASS("PAE: PDPT at CR3 + 0x40 is clean");
    W(GUEST_CR3, VT_RAM_SIZE);
    FAIL("PAE: PDPT in unmapped memory", 2, GUEST_PDPTE_UNMAPPED);
    done();
}

Test(guest_pdpte, ept_checks_the_fields)
{
    start("server");
    guest32();
    write_pdpte(0, 0x1E7);
    SET(PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    W(PROC_CONTROLS2, VTX_PROC2_ENABLE_EPT);
    W(EPT_POINTER, EPTP);
    PASS("EPT: PDPTEs in memory are not checked");
    W(GUEST_PDPTE1, 0x70000 | 1 | 0x80);
    FAIL("EPT: PDPTE1 field with bit 7 set", 2, GUEST_PDPTE_FIELD_RESERVED);
    W(GUEST_PDPTE1, 0x70000 | 1);
    PASS("EPT: PDPTE1 field valid");
    done();
}
