/*
 * VM-entry checks on the guest segment registers and descriptor-table registers
 * (SDM Vol. 3 "Checks on Guest Segment Registers", "Checks on Guest
 * Descriptor-Table Registers").
 *
 * Each test starts from the baseline VMCS (a 64-bit guest that passes every
 * check), breaks one thing, expects the VM-entry failure exit 33 | 0x80000000
 * with the right qualification and named check, then makes the small change
 * that flips the outcome and expects VM entry to pass (tests/entry_guest_fixture.h).
 */
#include "entry_guest_fixture.h"

/* ===================== segment registers ===================== */

Test(guest_seg, tr_selector_ti)
{
    start("server");
    W(GUEST_TR_SELECTOR, 0x1C);
    FAIL("TR selector TI = 1", 0, GUEST_TR_SEL_TI);
    W(GUEST_TR_SELECTOR, 0x18);
    PASS("TR selector TI = 0");
    done();
}

Test(guest_seg, ldtr_selector_ti_only_if_usable)
{
    start("server");
    W(GUEST_LDTR_SELECTOR, 0x2C);
    PASS("unusable LDTR with TI = 1");
    SEG(LDTR, 0x2C, 0x7000, 0xFF, 0x82);
    FAIL("usable LDTR with TI = 1", 0, GUEST_LDTR_SEL_TI);
    W(GUEST_LDTR_SELECTOR, 0x28);
    PASS("usable LDTR with TI = 0");
    done();
}

Test(guest_seg, ss_rpl_equals_cs_rpl)
{
    start("server");
    W(GUEST_SS_SELECTOR, 0x13);
    FAIL("SS.RPL 3, CS.RPL 0", 0, GUEST_SS_RPL_CS_RPL);
    enable_ug();
    PASS("the same selectors with unrestricted guest");
    done();
}

Test(guest_seg, v86_base_limit_ar)
{
    start("server");
    guest_v86();
    W(GUEST_DS_BASE, 0x20010);
    FAIL("v86 DS base not selector * 16", 0, GUEST_V86_SEG_BASE);
    W(GUEST_DS_BASE, 0x20000);
    W(GUEST_ES_LIMIT, 0xFFFE);
    FAIL("v86 ES limit 0xFFFE", 0, GUEST_V86_SEG_LIMIT);
    W(GUEST_ES_LIMIT, 0xFFFF);
    W(GUEST_SS_AR, 0x93);
    FAIL("v86 SS access rights 0x93 (DPL 0)", 0, GUEST_V86_SEG_AR);
    W(GUEST_SS_AR, 0xF3);
    W(GUEST_CS_AR, 0x100F3);
    FAIL("v86 CS marked unusable", 0, GUEST_V86_SEG_AR);
    W(GUEST_CS_AR, 0xF3);
    PASS("v86 segments fixed");
    done();
}

Test(guest_seg, base_canonical_tr_fs_gs_ldtr)
{
    start("server");
    W(GUEST_FS_BASE, 0x0000800000000000ull);
    FAIL("FS base non-canonical", 0, GUEST_SEG_BASE_CANONICAL);
    W(GUEST_FS_BASE, 0xFFFF800000000000ull);
    PASS("FS base canonical");
    W(GUEST_GS_AR, 0x10000);
    W(GUEST_GS_BASE, 0x0001000000000000ull);
    FAIL("GS base non-canonical even when unusable", 0, GUEST_SEG_BASE_CANONICAL);
    W(GUEST_GS_BASE, 0);
    W(GUEST_TR_BASE, 0x8000000000000000ull);
    FAIL("TR base non-canonical", 0, GUEST_SEG_BASE_CANONICAL);
    W(GUEST_TR_BASE, VT_GUEST_TSS);
    W(GUEST_LDTR_BASE, 0x0000800000000000ull);
    PASS("unusable LDTR with a non-canonical base");
    SEG(LDTR, 0x28, 0x0000800000000000ull, 0xFF, 0x82);
    FAIL("usable LDTR with a non-canonical base", 0, GUEST_SEG_BASE_CANONICAL);
    done();
}

Test(guest_seg, base_high_cs_ss_ds_es)
{
    start("server");
    W(GUEST_CS_BASE, 1ull << 32);
    FAIL("CS base bit 32", 0, GUEST_SEG_BASE_HIGH);
    W(GUEST_CS_BASE, 0);
    W(GUEST_DS_BASE, 1ull << 32);
    FAIL("usable DS base bit 32", 0, GUEST_SEG_BASE_HIGH);
    W(GUEST_DS_AR, 0x1C093);
    PASS("unusable DS base bit 32");
    done();
}

Test(guest_seg, cs_type)
{
    start("server");
    W(GUEST_CS_AR, 0xA098);
    FAIL("CS type 8 (not accessed)", 0, GUEST_CS_AR_TYPE);
    W(GUEST_CS_AR, 0xA093);
    FAIL("CS type 3 without unrestricted guest", 0, GUEST_CS_AR_TYPE);
    W(GUEST_CS_AR, 0xA099);
    PASS("CS type 9 (execute-only accessed)");
    done();
}

Test(guest_seg, cs_type3_with_unrestricted_guest)
{
    start("server");
    guest_real();
    W(GUEST_CS_AR, 0x93);
    PASS("unrestricted guest CS type 3, DPL 0");
    W(GUEST_CS_AR, 0xB3);
    FAIL("unrestricted guest CS type 3, DPL 1", 0, GUEST_CS_AR_DPL_TYPE3);
    done();
}

Test(guest_seg, ss_type)
{
    start("server");
    W(GUEST_SS_AR, 0xC091);
    FAIL("SS type 1 (read-only)", 0, GUEST_SS_AR_TYPE);
    W(GUEST_SS_AR, 0xC097);
    PASS("SS type 7 (expand-down read/write)");
    W(GUEST_SS_AR, 0x1C091);
    PASS("unusable SS with type 1");
    done();
}

Test(guest_seg, data_segment_type)
{
    start("server");
    W(GUEST_DS_AR, 0xC092);
    FAIL("DS type 2 (not accessed)", 0, GUEST_DATA_SEG_AR_TYPE);
    W(GUEST_DS_AR, 0xC099);
    FAIL("DS type 9 (execute-only code)", 0, GUEST_DATA_SEG_AR_TYPE);
    W(GUEST_DS_AR, 0xC09B);
    PASS("DS type 11 (readable code)");
    W(GUEST_FS_AR, 0x10000);
    PASS("unusable FS with type 0");
    done();
}

Test(guest_seg, s_bit)
{
    start("server");
    W(GUEST_ES_AR, 0xC083);
    FAIL("ES S = 0", 0, GUEST_SEG_AR_S);
    W(GUEST_ES_AR, 0x1C083);
    PASS("unusable ES with S = 0");
    W(GUEST_CS_AR, 0xA08B);
    FAIL("CS S = 0", 0, GUEST_SEG_AR_S);
    done();
}

Test(guest_seg, cs_dpl_nonconforming_equals_ss_dpl)
{
    start("server");
    W(GUEST_CS_AR, 0xA0BB);
    FAIL("non-conforming CS DPL 1, SS DPL 0", 0, GUEST_CS_AR_DPL_NONCONF);
    W(GUEST_CS_AR, 0xA09B);
    PASS("non-conforming CS DPL 0");
    done();
}

Test(guest_seg, cs_dpl_conforming_not_above_ss_dpl)
{
    start("server");
    W(GUEST_CS_AR, 0xA0DF);
    FAIL("conforming CS DPL 2 > SS DPL 0", 0, GUEST_CS_AR_DPL_CONF);
    W(GUEST_CS_AR, 0xA09F);
    PASS("conforming CS DPL 0");
    done();
}

Test(guest_seg, ss_dpl_equals_rpl)
{
    start("server");
    W(GUEST_CS_AR, 0xA0FB);
    W(GUEST_SS_AR, 0xC0F3);
    FAIL("SS DPL 3 with selector RPL 0", 0, GUEST_SS_AR_DPL_RPL);
    W(GUEST_CS_SELECTOR, 0x0B);
    W(GUEST_SS_SELECTOR, 0x13);
    PASS("CPL 3 guest: CS/SS RPL 3, DPL 3");
    done();
}

Test(guest_seg, ss_dpl_zero_in_real_mode)
{
    start("server");
    guest_real();
    W(GUEST_CS_AR, 0xFB);
    W(GUEST_SS_AR, 0xF3);
    FAIL("unrestricted real mode with SS.DPL 3", 0, GUEST_SS_AR_DPL_ZERO);
    W(GUEST_CR0, 0x31);
    PASS("unpaged protected mode (unrestricted guest) with SS.DPL 3");
    done();
}

Test(guest_seg, data_segment_dpl_not_below_rpl)
{
    start("server");
    W(GUEST_DS_SELECTOR, 0x13);
    FAIL("DS RPL 3, DPL 0", 0, GUEST_DATA_SEG_AR_DPL_RPL);
    W(GUEST_DS_AR, 0xC09F);
    PASS("DS conforming code (type 15): no DPL/RPL rule");
    W(GUEST_DS_AR, 0xC093);
    enable_ug();
    PASS("DS RPL 3, DPL 0 with unrestricted guest");
    done();
}

Test(guest_seg, present_bit)
{
    start("server");
    W(GUEST_GS_AR, 0xC013);
    FAIL("GS P = 0", 0, GUEST_SEG_AR_P);
    W(GUEST_GS_AR, 0x1C013);
    PASS("unusable GS with P = 0");
    W(GUEST_TR_AR, 0x0B);
    FAIL("TR P = 0", 0, GUEST_SEG_AR_P);
    W(GUEST_TR_AR, 0x8B);
    SEG(LDTR, 0x28, 0x7000, 0xFF, 0x02);
    FAIL("usable LDTR P = 0", 0, GUEST_SEG_AR_P);
    done();
}

Test(guest_seg, reserved_access_rights_bits)
{
    start("server");
    W(GUEST_FS_AR, 0xC193);
    FAIL("FS AR bit 8", 0, GUEST_SEG_AR_RESERVED);
    W(GUEST_FS_AR, 0x2C093);
    FAIL("FS AR bit 17", 0, GUEST_SEG_AR_RESERVED);
    W(GUEST_FS_AR, 0x1C193);
    PASS("unusable FS with AR bit 8");
    W(GUEST_TR_AR, 0x2008B);
    FAIL("TR AR bit 17", 0, GUEST_SEG_AR_RESERVED);
    W(GUEST_TR_AR, 0x48B);
    FAIL("TR AR bit 10", 0, GUEST_SEG_AR_RESERVED);
    done();
}

Test(guest_seg, cs_l_and_db)
{
    start("server");
    W(GUEST_CS_AR, 0xE09B);
    FAIL("64-bit CS with D/B = 1", 0, GUEST_CS_AR_L_DB);
    guest32();
    W(GUEST_CS_AR, 0xE09B);
    PASS("CS L = D/B = 1 outside IA-32e mode is not checked");
    done();
}

Test(guest_seg, g_bit_against_limit)
{
    start("server");
    W(GUEST_DS_LIMIT, 0xFFFFF000);
    FAIL("DS limit[11:0] = 0 with G = 1", 0, GUEST_SEG_AR_G_LIMIT);
    W(GUEST_DS_LIMIT, 0x100000);
    W(GUEST_DS_AR, 0x4093);
    FAIL("DS limit 0x100000 with G = 0", 0, GUEST_SEG_AR_G_LIMIT);
    W(GUEST_DS_LIMIT, 0xFFFFF);
    PASS("DS limit 0xFFFFF with G = 0");
    W(GUEST_TR_AR, 0x808B);
    FAIL("TR limit 0x67 with G = 1", 0, GUEST_SEG_AR_G_LIMIT);
    done();
}

Test(guest_seg, tr_type)
{
    start("server");
    W(GUEST_TR_AR, 0x83);
    FAIL("TR type 3 in an IA-32e mode guest", 0, GUEST_TR_AR_TYPE);
    guest32();
    PASS("TR type 3 (busy 16-bit TSS) in a 32-bit guest");
    W(GUEST_TR_AR, 0x89);
    FAIL("TR type 9 (available TSS)", 0, GUEST_TR_AR_TYPE);
    done();
}

Test(guest_seg, tr_s_and_unusable)
{
    start("server");
    W(GUEST_TR_AR, 0x9B);
    FAIL("TR S = 1", 0, GUEST_TR_AR_S);
    W(GUEST_TR_AR, 0x1008B);
    FAIL("TR unusable", 0, GUEST_TR_UNUSABLE);
    W(GUEST_TR_AR, 0x8B);
    PASS("TR busy 64-bit TSS");
    done();
}

Test(guest_seg, ldtr_type_and_s)
{
    start("server");
    SEG(LDTR, 0x28, 0x7000, 0xFF, 0x83);
    FAIL("usable LDTR type 3", 0, GUEST_LDTR_AR_TYPE);
    W(GUEST_LDTR_AR, 0x92);
    FAIL("usable LDTR S = 1", 0, GUEST_LDTR_AR_S);
    W(GUEST_LDTR_AR, 0x82);
    PASS("usable LDTR type 2");
    W(GUEST_LDTR_AR, 0x10092);
    PASS("unusable LDTR: no access-rights checks");
    done();
}

/* ===================== descriptor-table registers ===================== */

Test(guest_dtr, gdtr_idtr_base_canonical)
{
    start("server");
    W(GUEST_GDTR_BASE, 0x0000800000000000ull);
    FAIL("GDTR base non-canonical", 0, GUEST_DTR_BASE_CANONICAL);
    W(GUEST_GDTR_BASE, VT_GUEST_GDT);
    W(GUEST_IDTR_BASE, 0x00F0000000000000ull);
    FAIL("IDTR base non-canonical", 0, GUEST_DTR_BASE_CANONICAL);
    W(GUEST_IDTR_BASE, 0xFFFFFFFFFFFFF000ull);
    PASS("IDTR base canonical");
    done();
}

Test(guest_dtr, gdtr_idtr_limit_16_bits)
{
    start("server");
    W(GUEST_GDTR_LIMIT, 0x10000);
    FAIL("GDTR limit bit 16", 0, GUEST_DTR_LIMIT);
    W(GUEST_GDTR_LIMIT, 0xFFFF);
    W(GUEST_IDTR_LIMIT, 0x80000000u);
    FAIL("IDTR limit bit 31", 0, GUEST_DTR_LIMIT);
    W(GUEST_IDTR_LIMIT, 0xFFFF);
    PASS("limits 0xFFFF");
    done();
}
