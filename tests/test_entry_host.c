/*
 * VM-entry checks on the host-state area (SDM Vol. 3 "Checks on Host Control
 * Registers and MSRs", "Checks on Host Segment and Descriptor-Table
 * Registers", "Checks Related to Address-Space Size"): VMfailValid, error 8.
 *
 * Each test starts from the baseline VMCS (tests/baseline.c), breaks one
 * host field, expects the named check, then makes the smallest change that
 * flips the outcome. Follows kvm-unit-tests vmx_host_state_area_test
 * (test_host_ctl_regs, test_host_efer, test_load_host_pat,
 * test_host_segment_regs, test_host_desc_tables, test_host_addr_size).
 *
 * "passes" = every VM-entry check passes; "past" = the control and host-state
 * checks pass (used with a 32-bit root, where the 64-bit baseline guest is
 * left to the guest-state checks).
 */
#include <stdlib.h>
#include <string.h>
#include "baseline.h"

#define NONCANONICAL 0x0000800000000000ull
#define CANONICAL_HIGH 0xFFFF800000000000ull

/* ---- fixtures ---- */

static void fails(vt_env *e, const char *step, vtx_check check) { vt_expect_entry_vmfail(e, step, 8, check); }


/* Put the root (the VMM executing VMLAUNCH) outside IA-32e mode: 32-bit
 * protected mode with PAE paging, or back into 64-bit mode. VMWRITE the
 * 64-bit values before leaving 64-bit mode. */
static void root_ia32e(vt_env *e, bool on)
{
    vtx_root_state r = vt_root(e);
    r.efer = on ? (VTX_EFER_LME | VTX_EFER_LMA) : 0;
    r.cs_l = on;
    vt_set_root(e, &r);
}

/* A 32-bit host: "host address-space size" = 0, "IA-32e mode guest" = 0, RIP below 4 GiB. */
static void host32(vt_env *e)
{
    vt_clear_bits(e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_HOST_ADDR_SPACE_SIZE);
    vt_clear_bits(e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    vt_vmwrite(e, VTX_VMCS_HOST_RIP, 0x81000000);
}

/* ======== control registers ======== */

/* kut test_host_ctl_regs: clearing each IA32_VMX_CR0_FIXED0 bit (PE, NE, PG). */
Test(host_cr, cr0_fixed0)
{
    static const unsigned bits[] = {0, 5, 31};
    vt_env e;
    vt_start(&e, "server");
    uint64_t cr0 = vt_vmread(&e, VTX_VMCS_HOST_CR0);
    for (size_t i = 0; i < 3; i++) {
        char step[48];
        snprintf(step, sizeof step, "host CR0 bit %u cleared", bits[i]);
        vt_vmwrite(&e, VTX_VMCS_HOST_CR0, cr0 & ~(1ull << bits[i]));
        fails(&e, step, VTX_CHECK_HOST_CR0_FIXED0);
    }
    vt_vmwrite(&e, VTX_VMCS_HOST_CR0, cr0 & ~(1ull << 16));
    vt_expect_entry_passes(&e, "host CR0.WP cleared (not fixed)");
    vt_teardown(&e);
}

Test(host_cr, cr0_fixed1)
{
    vt_env e;
    vt_start(&e, "server");
    uint64_t cr0 = vt_vmread(&e, VTX_VMCS_HOST_CR0);
    for (unsigned b = 32; b < 64; b += 7) {
        char step[48];
        snprintf(step, sizeof step, "host CR0 bit %u set", b);
        vt_vmwrite(&e, VTX_VMCS_HOST_CR0, cr0 | (1ull << b));
        fails(&e, step, VTX_CHECK_HOST_CR0_FIXED1);
    }
    vt_vmwrite(&e, VTX_VMCS_HOST_CR0, cr0 | (1ull << 18));
    vt_expect_entry_passes(&e, "host CR0.AM set");
    vt_teardown(&e);
}

/* SDM footnote: CR0.NW and CR0.CD are never checked (VM exit leaves them), even
 * where IA32_VMX_CR0_FIXED1 reports them as 0. */
Test(host_cr, cr0_nw_cd_not_checked)
{
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_CR0_FIXED1] = 0x8FFFFFFFull; /* bits 28, 29, 30 fixed to 0 */
    vt_env e;
    vt_start_with(&e, &p);
    uint64_t cr0 = vt_vmread(&e, VTX_VMCS_HOST_CR0);
    vt_vmwrite(&e, VTX_VMCS_HOST_CR0, cr0 | (1ull << 28));
    fails(&e, "host CR0 bit 28 with FIXED1 bit 28 = 0", VTX_CHECK_HOST_CR0_FIXED1);
    vt_vmwrite(&e, VTX_VMCS_HOST_CR0, cr0 | (1ull << 29) | (1ull << 30));
    vt_expect_entry_passes(&e, "host CR0.NW and CR0.CD with FIXED1 bits 29, 30 = 0");
    vt_teardown(&e);
}

Test(host_cr, cr4_vmxe)
{
    vt_env e;
    vt_start(&e, "teaching");
    vt_clear_bits(&e, VTX_VMCS_HOST_CR4, VTX_CR4_VMXE);
    fails(&e, "host CR4.VMXE = 0", VTX_CHECK_HOST_CR4_VMXE);
    vt_set_bits(&e, VTX_VMCS_HOST_CR4, VTX_CR4_VMXE);
    vt_expect_entry_passes(&e, "host CR4.VMXE = 1");
    vt_teardown(&e);
}

/* A profile whose IA32_VMX_CR4_FIXED0 has a bit besides VMXE (OSFXSR, bit 9). */
Test(host_cr, cr4_fixed0)
{
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_CR4_FIXED0] |= 1ull << 9;
    vt_env e;
    vt_start_with(&e, &p);
    fails(&e, "host CR4 without OSFXSR (IA32_VMX_CR4_FIXED0 bit 9)", VTX_CHECK_HOST_CR4_FIXED0);
    vt_set_bits(&e, VTX_VMCS_HOST_CR4, 1ull << 9);
    vt_expect_entry_past_vmfail_checks(&e, "host CR4 with OSFXSR (the baseline guest CR4 lacks it: guest-state checks)");
    vt_teardown(&e);
}

/* The same host CR4 (SMXE, bit 14) is refused by teaching (FIXED1 0x27ff) and accepted by server. */
Test(host_cr, cr4_fixed1)
{
    vt_env e;
    vt_start(&e, "teaching");
    vt_set_bits(&e, VTX_VMCS_HOST_CR4, VTX_CR4_SMXE);
    fails(&e, "teaching: host CR4.SMXE", VTX_CHECK_HOST_CR4_FIXED1);
    vt_vmwrite(&e, VTX_VMCS_HOST_CR4, vt_vmread(&e, VTX_VMCS_HOST_CR4) | (1ull << 40));
    fails(&e, "teaching: host CR4 bit 40", VTX_CHECK_HOST_CR4_FIXED1);
    vt_teardown(&e);
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_HOST_CR4, VTX_CR4_SMXE);
    vt_expect_entry_passes(&e, "server: host CR4.SMXE");
    vt_teardown(&e);
}

/* kut test_host_ctl_regs: CR3 bits maxphyaddr..63. */
Test(host_cr, cr3_width)
{
    static const struct { const char *profile; unsigned width; } p[] = {{"core2", 36}, {"server", 46}};
    for (size_t i = 0; i < 2; i++) {
        vt_env e;
        vt_start(&e, p[i].profile);
        for (unsigned b = p[i].width; b < 64; b++) {
            char step[64];
            snprintf(step, sizeof step, "%s: host CR3 bit %u", p[i].profile, b);
            vt_vmwrite(&e, VTX_VMCS_HOST_CR3, VT_HOST_CR3 | (1ull << b));
            fails(&e, step, VTX_CHECK_HOST_CR3_WIDTH);
        }
        vt_vmwrite(&e, VTX_VMCS_HOST_CR3, VT_HOST_CR3 | (1ull << (p[i].width - 1)));
        vt_expect_entry_passes(&e, "host CR3 with the highest bit below the width");
        vt_teardown(&e);
    }
}

/* ======== MSRs ======== */

Test(host_msr, sysenter_canonical)
{
    static const uint32_t f[] = {VTX_VMCS_HOST_IA32_SYSENTER_ESP, VTX_VMCS_HOST_IA32_SYSENTER_EIP};
    vt_env e;
    vt_start(&e, "server");
    for (size_t i = 0; i < 2; i++) {
        vt_vmwrite(&e, f[i], NONCANONICAL);
        fails(&e, "host IA32_SYSENTER_ESP/EIP 0x0000800000000000", VTX_CHECK_HOST_SYSENTER_CANONICAL);
        vt_vmwrite(&e, f[i], CANONICAL_HIGH);
    }
    vt_expect_entry_passes(&e, "host IA32_SYSENTER_ESP/EIP 0xffff800000000000");
    vt_teardown(&e);
}

/* kut test_load_host_pat: each byte must be 0, 1, 4, 5, 6 or 7. */
Test(host_msr, pat)
{
    vt_env e;
    vt_start(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_HOST_IA32_PAT, 0x0202020202020202ull);
    vt_expect_entry_passes(&e, "bad host PAT without \"load IA32_PAT\"");
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_LOAD_PAT);
    for (unsigned byte = 0; byte < 8; byte += 7) {
        for (unsigned t = 0; t < 256; t++) {
            bool ok = t == 0 || t == 1 || (t >= 4 && t <= 7);
            if (ok)
                continue;
            char step[64];
            snprintf(step, sizeof step, "host PAT entry %u = %u", byte, t);
            vt_vmwrite(&e, VTX_VMCS_HOST_IA32_PAT,
               (0x0007040600070406ull & ~(0xFFull << (8 * byte))) | ((uint64_t)t << (8 * byte)));
            fails(&e, step, VTX_CHECK_HOST_PAT);
        }
    }
    vt_vmwrite(&e, VTX_VMCS_HOST_IA32_PAT, 0x0706050401000706ull);
    vt_expect_entry_passes(&e, "host PAT with every memory type");
    vt_teardown(&e);
}

/* kut test_host_efer: reserved bits and LMA/LME against "host address-space size". */
Test(host_msr, efer_reserved)
{
    vt_env e;
    vt_start(&e, "server");
    const uint64_t good = VTX_EFER_LMA | VTX_EFER_LME | 1 /* SCE */ | (1ull << 11) /* NXE */;
    vt_vmwrite(&e, VTX_VMCS_HOST_IA32_EFER, good | (1ull << 1));
    vt_expect_entry_passes(&e, "reserved host EFER bit without \"load IA32_EFER\"");
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_LOAD_EFER);
    static const unsigned bits[] = {1, 9, 12, 14, 32, 63};
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        char step[48];
        snprintf(step, sizeof step, "host EFER bit %u", bits[i]);
        vt_vmwrite(&e, VTX_VMCS_HOST_IA32_EFER, good | (1ull << bits[i]));
        fails(&e, step, VTX_CHECK_HOST_EFER_RESERVED);
    }
    vt_vmwrite(&e, VTX_VMCS_HOST_IA32_EFER, good);
    vt_expect_entry_passes(&e, "host EFER SCE|LME|LMA|NXE");
    vt_teardown(&e);
}

Test(host_msr, efer_lma_lme)
{
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_LOAD_EFER);
    vt_vmwrite(&e, VTX_VMCS_HOST_IA32_EFER, VTX_EFER_LME);
    fails(&e, "64-bit host, EFER.LMA = 0", VTX_CHECK_HOST_EFER_LMA_LME);
    vt_vmwrite(&e, VTX_VMCS_HOST_IA32_EFER, VTX_EFER_LMA);
    fails(&e, "64-bit host, EFER.LME = 0", VTX_CHECK_HOST_EFER_LMA_LME);
    vt_vmwrite(&e, VTX_VMCS_HOST_IA32_EFER, 0);
    fails(&e, "64-bit host, EFER 0", VTX_CHECK_HOST_EFER_LMA_LME);
    vt_vmwrite(&e, VTX_VMCS_HOST_IA32_EFER, VTX_EFER_LMA | VTX_EFER_LME);
    vt_expect_entry_passes(&e, "64-bit host, EFER.LMA = EFER.LME = 1");
    vt_teardown(&e);
}

/* A 32-bit host wants LMA = LME = 0. */
Test(host_msr, efer_lma_lme_32bit_host)
{
    vt_env e;
    vt_start(&e, "server");
    host32(&e);
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_LOAD_EFER);
    vt_vmwrite(&e, VTX_VMCS_HOST_IA32_EFER, VTX_EFER_LMA | VTX_EFER_LME);
    root_ia32e(&e, false);
    fails(&e, "32-bit host, EFER.LMA = EFER.LME = 1", VTX_CHECK_HOST_EFER_LMA_LME);
    root_ia32e(&e, true);
    vt_vmwrite(&e, VTX_VMCS_HOST_IA32_EFER, 0);
    root_ia32e(&e, false);
    vt_expect_entry_past_vmfail_checks(&e, "32-bit host, EFER 0");
    vt_teardown(&e);
}

/* ======== segment and descriptor-table registers ======== */

/* kut test_host_segment_regs: RPL and TI of CS, SS, DS, ES, FS, GS, TR. */
Test(host_seg, selector_rpl_ti)
{
    static const uint32_t sel[] = {VTX_VMCS_HOST_CS_SELECTOR, VTX_VMCS_HOST_SS_SELECTOR, VTX_VMCS_HOST_DS_SELECTOR,
                                   VTX_VMCS_HOST_ES_SELECTOR, VTX_VMCS_HOST_FS_SELECTOR, VTX_VMCS_HOST_GS_SELECTOR,
                                   VTX_VMCS_HOST_TR_SELECTOR};
    vt_env e;
    vt_start(&e, "server");
    for (size_t i = 0; i < 7; i++) {
        uint64_t v = vt_vmread(&e, sel[i]);
        for (unsigned b = 0; b < 3; b++) {
            char step[64];
            snprintf(step, sizeof step, "host selector 0x%04x: 0x%llx", sel[i], (unsigned long long)(v | (1u << b)));
            vt_vmwrite(&e, sel[i], v | (1u << b));
            fails(&e, step, VTX_CHECK_HOST_SEL_RPL_TI);
        }
        vt_vmwrite(&e, sel[i], v | 8);
    }
    vt_expect_entry_passes(&e, "every host selector with RPL = 0, TI = 0 (index + 1)");
    vt_teardown(&e);
}

Test(host_seg, cs_tr_not_zero)
{
    vt_env e;
    vt_start(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_HOST_CS_SELECTOR, 0);
    fails(&e, "host CS 0000H", VTX_CHECK_HOST_CS_ZERO);
    vt_vmwrite(&e, VTX_VMCS_HOST_CS_SELECTOR, 0x08);
    vt_vmwrite(&e, VTX_VMCS_HOST_TR_SELECTOR, 0);
    fails(&e, "host TR 0000H", VTX_CHECK_HOST_TR_ZERO);
    vt_vmwrite(&e, VTX_VMCS_HOST_TR_SELECTOR, 0x18);
    vt_vmwrite(&e, VTX_VMCS_HOST_DS_SELECTOR, 0);
    vt_vmwrite(&e, VTX_VMCS_HOST_ES_SELECTOR, 0);
    vt_expect_entry_passes(&e, "host DS, ES, FS, GS 0000H");
    vt_teardown(&e);
}

/* kut: "SS field can not be 0x0000 if host address-space size is 0". */
Test(host_seg, ss_zero_only_for_64bit_host)
{
    vt_env e;
    vt_start(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_HOST_SS_SELECTOR, 0);
    vt_expect_entry_passes(&e, "64-bit host, SS 0000H");
    host32(&e);
    root_ia32e(&e, false);
    fails(&e, "32-bit host, SS 0000H", VTX_CHECK_HOST_SS_ZERO);
    root_ia32e(&e, true);
    vt_vmwrite(&e, VTX_VMCS_HOST_SS_SELECTOR, 0x10);
    root_ia32e(&e, false);
    vt_expect_entry_past_vmfail_checks(&e, "32-bit host, SS 0010H");
    vt_teardown(&e);
}

/* kut test_host_segment_regs / test_host_desc_tables: FS, GS, GDTR, IDTR, TR bases canonical. */
Test(host_seg, bases_canonical)
{
    static const uint32_t f[] = {VTX_VMCS_HOST_FS_BASE, VTX_VMCS_HOST_GS_BASE, VTX_VMCS_HOST_GDTR_BASE,
                                 VTX_VMCS_HOST_IDTR_BASE, VTX_VMCS_HOST_TR_BASE};
    vt_env e;
    vt_start(&e, "server");
    for (size_t i = 0; i < 5; i++) {
        uint64_t v = vt_vmread(&e, f[i]);
        char step[48];
        snprintf(step, sizeof step, "host base field 0x%04x non-canonical", f[i]);
        vt_vmwrite(&e, f[i], NONCANONICAL);
        fails(&e, step, VTX_CHECK_HOST_BASE_CANONICAL);
        vt_vmwrite(&e, f[i], 0xFFFF7FFFFFFFFFFFull);
        fails(&e, step, VTX_CHECK_HOST_BASE_CANONICAL);
        vt_vmwrite(&e, f[i], v);
    }
    vt_vmwrite(&e, VTX_VMCS_HOST_FS_BASE, 0x00007FFFFFFFF000ull);
    vt_vmwrite(&e, VTX_VMCS_HOST_GS_BASE, CANONICAL_HIGH);
    vt_expect_entry_passes(&e, "host FS base 0x00007ffffffff000, GS base 0xffff800000000000");
    vt_teardown(&e);
}

/* ======== address-space size ======== */

Test(host_size, in_ia32e_mode_host_must_be_64bit)
{
    vt_env e;
    vt_start(&e, "server");
    vt_clear_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_HOST_ADDR_SPACE_SIZE);
    fails(&e, "64-bit root, host address-space size 0", VTX_CHECK_HOST_ADDR_SIZE_IN_IA32E);
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_HOST_ADDR_SPACE_SIZE);
    vt_expect_entry_passes(&e, "64-bit root, host address-space size 1");
    vt_teardown(&e);
}

Test(host_size, outside_ia32e_mode_host_must_be_32bit)
{
    vt_env e;
    vt_start(&e, "core2");
    vt_vmwrite(&e, VTX_VMCS_HOST_RIP, 0x81000000);
    vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    root_ia32e(&e, false);
    fails(&e, "32-bit root, host address-space size 1", VTX_CHECK_HOST_ADDR_SIZE_OUTSIDE_IA32E);
    root_ia32e(&e, true);
    vt_clear_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_HOST_ADDR_SPACE_SIZE);
    root_ia32e(&e, false);
    vt_expect_entry_past_vmfail_checks(&e, "32-bit root, host address-space size 0");
    vt_teardown(&e);
}

Test(host_size, ia32e_guest_needs_64bit_host)
{
    vt_env e;
    vt_start(&e, "server");
    host32(&e);
    vt_set_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    root_ia32e(&e, false);
    fails(&e, "32-bit root and host, IA-32e mode guest", VTX_CHECK_HOST_IA32E_GUEST_32BIT_HOST);
    root_ia32e(&e, true);
    vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    root_ia32e(&e, false);
    vt_expect_entry_past_vmfail_checks(&e, "32-bit root and host, 32-bit guest");
    vt_teardown(&e);
}

Test(host_size, pcide_needs_64bit_host)
{
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_HOST_CR4, 1ull << 17);
    vt_expect_entry_passes(&e, "64-bit host with CR4.PCIDE"); /* kut test_host_addr_size "CR4.PCIDE set" */
    host32(&e);
    root_ia32e(&e, false);
    fails(&e, "32-bit host with CR4.PCIDE", VTX_CHECK_HOST_CR4_PCIDE_32BIT_HOST);
    root_ia32e(&e, true);
    vt_clear_bits(&e, VTX_VMCS_HOST_CR4, 1ull << 17);
    root_ia32e(&e, false);
    vt_expect_entry_past_vmfail_checks(&e, "32-bit host without CR4.PCIDE");
    vt_teardown(&e);
}

Test(host_size, rip_high_bits_32bit_host)
{
    vt_env e;
    vt_start(&e, "server");
    host32(&e);
    vt_vmwrite(&e, VTX_VMCS_HOST_RIP, 0x100000000ull);
    root_ia32e(&e, false);
    fails(&e, "32-bit host, RIP 0x100000000", VTX_CHECK_HOST_RIP_HIGH_32BIT_HOST);
    root_ia32e(&e, true);
    vt_vmwrite(&e, VTX_VMCS_HOST_RIP, 0xFFFFFFFFull);
    root_ia32e(&e, false);
    vt_expect_entry_past_vmfail_checks(&e, "32-bit host, RIP 0xffffffff");
    vt_teardown(&e);
}

/* kut test_host_addr_size: "CR4.PAE unset" fails with a 64-bit host. */
Test(host_size, pae_needs_64bit_host)
{
    vt_env e;
    vt_start(&e, "server");
    vt_clear_bits(&e, VTX_VMCS_HOST_CR4, VTX_CR4_PAE);
    fails(&e, "64-bit host without CR4.PAE", VTX_CHECK_HOST_CR4_PAE_64BIT_HOST);
    vt_set_bits(&e, VTX_VMCS_HOST_CR4, VTX_CR4_PAE);
    vt_expect_entry_passes(&e, "64-bit host with CR4.PAE");
    vt_teardown(&e);
}

/* A 32-bit host may run without PAE. */
Test(host_size, no_pae_32bit_host)
{
    vt_env e;
    vt_start(&e, "server");
    host32(&e);
    vt_clear_bits(&e, VTX_VMCS_HOST_CR4, VTX_CR4_PAE);
    root_ia32e(&e, false);
    vt_expect_entry_past_vmfail_checks(&e, "32-bit host without CR4.PAE");
    vt_teardown(&e);
}

/* kut test_host_addr_size: non-canonical RIP fails with a 64-bit host. */
Test(host_size, rip_canonical_64bit_host)
{
    vt_env e;
    vt_start(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_HOST_RIP, NONCANONICAL);
    fails(&e, "64-bit host, RIP 0x0000800000000000", VTX_CHECK_HOST_RIP_CANONICAL);
    vt_vmwrite(&e, VTX_VMCS_HOST_RIP, 0x00007FFFFFFFFFFFull);
    vt_expect_entry_passes(&e, "64-bit host, RIP 0x00007fffffffffff");
    vt_teardown(&e);
}

/* Host-state failures are error 8 even when the controls are also used by
 * the host checks; controls (error 7) are checked first in this model. */
Test(host_order, controls_before_host)
{
    vt_env e;
    vt_start(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_HOST_CS_SELECTOR, 0);
    vt_vmwrite(&e, VTX_VMCS_CR3_TARGET_COUNT, 5);
    vt_expect_entry_vmfail(&e, "bad controls and bad host state", 7, VTX_CHECK_CTL_CR3_TARGET_COUNT);
    vt_vmwrite(&e, VTX_VMCS_CR3_TARGET_COUNT, 0);
    fails(&e, "bad host state only", VTX_CHECK_HOST_CS_ZERO);
    vt_teardown(&e);
}

Test(host_names, every_check_named)
{
    cr_assert_str_eq(vtx_check_name(VTX_CHECK_HOST_CR4_VMXE), "HOST_CR4_VMXE");
    for (int c = VTX_CHECK_HOST_CR0_FIXED0; c <= VTX_CHECK_HOST_RIP_CANONICAL; c++) {
        cr_assert_not_null(vtx_check_name((vtx_check)c));
        cr_assert_not_null(vtx_check_text((vtx_check)c));
    }
}
