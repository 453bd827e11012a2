/*
 * VM-entry checks on the guest control registers, debug registers and MSRs
 * (SDM Vol. 3 "Checks on Guest Control Registers, Debug Registers, and MSRs";
 * catalogue F.1 ENT-BASIC-5), and the baselines of the guest modes the other
 * guest-state tests start from (64-bit, 32-bit PAE, unrestricted real mode,
 * virtual-8086).
 *
 * Each test starts from the baseline VMCS (a 64-bit guest that passes every
 * check), breaks one thing, expects the VM-entry failure exit 33 | 0x80000000
 * with the right qualification and named check, then makes the small change
 * that flips the outcome and expects VM entry to pass (tests/entry_guest_fixture.h).
 */
#include "entry_guest_fixture.h"

/* ===================== baselines for the other guest modes ===================== */

Test(guest_modes, baseline_64bit_passes_on_every_profile)
{
    const char *p[] = {"core2", "server", "teaching"};
    for (int i = 0; i < 3; i++) {
        start(p[i]);
        PASS(p[i]);
        done();
    }
}

Test(guest_modes, protected_mode_32bit_with_pae_passes)
{
    start("core2");
    guest32();
    PASS("32-bit PAE guest on core2");
    done();
}

Test(guest_modes, unrestricted_real_mode_passes)
{
    start("server");
    guest_real();
    PASS("unrestricted guest in real mode");
    done();
}

Test(guest_modes, virtual_8086_passes)
{
    start("server");
    guest_v86();
    PASS("virtual-8086 guest");
    done();
}

Test(guest_modes, entry_failure_leaves_launch_state_clear)
{
    VTX_COVERS("ENT-BASIC-5");
    start("server");
    W(GUEST_RFLAGS, 0);
    FAIL("ENT-BASIC-5: broken guest state", 0, GUEST_RFLAGS_BIT1);
    W(GUEST_RFLAGS, 2);
    PASS("VMLAUNCH again (launch state still clear) after fixing RFLAGS");
    done();
}

/* ===================== control registers, debug registers, MSRs ===================== */

Test(guest_cr, cr0_fixed0_ne_clear)
{
    start("server");
    W(GUEST_CR0, 0x80000011);
    FAIL("CR0.NE = 0", 0, GUEST_CR0_FIXED0);
    W(GUEST_CR0, 0x80000031);
    PASS("CR0.NE = 1");
    done();
}

Test(guest_cr, cr0_pe_pg_fixed_without_unrestricted_guest)
{
    start("server");
    guest32();
    W(GUEST_CR0, 0x30);
    W(GUEST_CR4, VTX_CR4_VMXE);
    FAIL("CR0.PE = PG = 0 without unrestricted guest", 0, GUEST_CR0_FIXED0);
    enable_ug();
    SEG(TR, 0x18, VT_GUEST_TSS, 0x67, 0x8B);
    SEG(CS, 0x08, 0, 0xFFFFFFFF, 0xC09B);
    PASS("the same CR0 with unrestricted guest (PE and PG exempt)");
    done();
}

Test(guest_cr, cr0_nw_cd_never_checked)
{
    start("server");
    W(GUEST_CR0, 0xE0000031);
    PASS("CR0.NW and CR0.CD set are not checked");
    done();
}

Test(guest_cr, cr0_fixed1_high_bits)
{
    start("server");
    W(GUEST_CR0, 0x180000031ull);
    FAIL("CR0 bit 32 set", 0, GUEST_CR0_FIXED1);
    W(GUEST_CR0, 0x80000031);
    PASS("CR0 bits 63:32 clear");
    done();
}

Test(guest_cr, cr0_pg_without_pe_with_unrestricted_guest)
{
    start("server");
    guest_real();
    W(GUEST_CR0, 0x80000030);
    FAIL("unrestricted guest CR0.PG = 1, PE = 0", 0, GUEST_CR0_PG_WITHOUT_PE);
    W(GUEST_CR0, 0x30);
    PASS("unrestricted guest CR0.PG = 0, PE = 0");
    done();
}

Test(guest_cr, cr4_fixed0_vmxe)
{
    start("server");
    W(GUEST_CR4, VTX_CR4_PAE);
    FAIL("CR4.VMXE = 0", 0, GUEST_CR4_FIXED0);
    W(GUEST_CR4, VTX_CR4_PAE | VTX_CR4_VMXE);
    PASS("CR4.VMXE = 1");
    done();
}

Test(guest_cr, cr4_fixed1_depends_on_profile)
{
    /* CR4.PCIDE (bit 17): allowed by server's IA32_VMX_CR4_FIXED1, not by teaching's. */
    start("teaching");
    SET(GUEST_CR4, 1u << 17);
    FAIL("teaching: CR4.PCIDE outside IA32_VMX_CR4_FIXED1", 0, GUEST_CR4_FIXED1);
    done();
    start("server");
    SET(GUEST_CR4, 1u << 17);
    PASS("server: CR4.PCIDE allowed in a 64-bit guest");
    SET(GUEST_CR4, 1u << 22);
    FAIL("server: CR4 bit 22 outside IA32_VMX_CR4_FIXED1", 0, GUEST_CR4_FIXED1);
    done();
}

Test(guest_cr, debugctl_reserved_only_with_load_debug_controls)
{
    start("server");
    W(GUEST_IA32_DEBUGCTL, 1u << 2);
    PASS("server: load debug controls = 0, IA32_DEBUGCTL not checked");
    SET(ENTRY_CONTROLS, VTX_ENTRY_LOAD_DEBUG_CONTROLS);
    FAIL("load debug controls = 1, IA32_DEBUGCTL bit 2 reserved", 0, GUEST_DEBUGCTL_RESERVED);
    W(GUEST_IA32_DEBUGCTL, 0x3); /* LBR | BTF */
    PASS("IA32_DEBUGCTL LBR | BTF");
    done();
}

Test(guest_cr, debugctl_checked_unconditionally_on_core2)
{
    /* core2 supports only the 1-setting of "load debug controls" (default1). */
    start("core2");
    W(GUEST_IA32_DEBUGCTL, 1ull << 32);
    FAIL("core2: IA32_DEBUGCTL bit 32", 0, GUEST_DEBUGCTL_RESERVED);
    done();
}

Test(guest_cr, ia32e_requires_cr0_pg)
{
    start("server");
    enable_ug();
    W(GUEST_CR0, 0x31);
    FAIL("IA-32e mode guest with CR0.PG = 0 (unrestricted guest)", 0, GUEST_IA32E_CR0_PG);
    W(GUEST_CR0, 0x80000031);
    PASS("IA-32e mode guest with CR0.PG = 1");
    done();
}

Test(guest_cr, ia32e_requires_cr4_pae)
{
    start("server");
    W(GUEST_CR4, VTX_CR4_VMXE);
    FAIL("IA-32e mode guest with CR4.PAE = 0", 0, GUEST_IA32E_CR4_PAE);
    guest32();
    PASS("32-bit guest with CR4.PAE = 0 (32-bit paging)");
    done();
}

Test(guest_cr, pcide_requires_ia32e)
{
    start("server");
    guest32();
    SET(GUEST_CR4, 1u << 17);
    FAIL("CR4.PCIDE = 1 without IA-32e mode guest", 0, GUEST_CR4_PCIDE);
    SET(ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    SEG(CS, 0x08, 0, 0xFFFFFFFF, 0xA09B);
    PASS("CR4.PCIDE = 1 in IA-32e mode");
    done();
}

Test(guest_cr, cr3_beyond_physical_width)
{
    start("server"); /* MAXPHYADDR 46 */
    W(GUEST_CR3, 1ull << 46);
    FAIL("CR3 bit 46 with a 46-bit width", 0, GUEST_CR3_WIDTH);
    W(GUEST_CR3, 1ull << 45);
    PASS("CR3 bit 45");
    done();
    start("core2"); /* MAXPHYADDR 36 */
    W(GUEST_CR3, 1ull << 36);
    FAIL("core2: CR3 bit 36", 0, GUEST_CR3_WIDTH);
    done();
}

Test(guest_cr, dr7_high_with_load_debug_controls)
{
    start("server");
    W(GUEST_DR7, 0x100000400ull);
    PASS("DR7 bit 32 ignored without load debug controls");
    SET(ENTRY_CONTROLS, VTX_ENTRY_LOAD_DEBUG_CONTROLS);
    FAIL("DR7 bit 32 with load debug controls", 0, GUEST_DR7_HIGH);
    W(GUEST_DR7, 0xFFFF0400ull);
    PASS("DR7 bits 31:0 only");
    done();
}

Test(guest_cr, sysenter_esp_eip_canonical)
{
    start("server");
    W(GUEST_IA32_SYSENTER_ESP, 0x0000800000000000ull);
    FAIL("SYSENTER_ESP non-canonical", 0, GUEST_SYSENTER_ESP);
    W(GUEST_IA32_SYSENTER_ESP, 0xFFFF800000000000ull);
    PASS("SYSENTER_ESP canonical (upper half)");
    W(GUEST_IA32_SYSENTER_EIP, 0x8000000000000000ull);
    FAIL("SYSENTER_EIP non-canonical", 0, GUEST_SYSENTER_EIP);
    W(GUEST_IA32_SYSENTER_EIP, 0x00007FFFFFFFFFFFull);
    PASS("SYSENTER_EIP canonical (lower half)");
    done();
}

Test(guest_msr, perf_global_ctrl_reserved)
{
    vtx_profile p = server_plus(VTX_ENTRY_LOAD_PERF_GLOBAL_CTRL, 0);
    start_with(&p);
    W(GUEST_IA32_PERF_GLOBAL_CTRL, 1u << 4);
    PASS("PERF_GLOBAL_CTRL not loaded");
    SET(ENTRY_CONTROLS, VTX_ENTRY_LOAD_PERF_GLOBAL_CTRL);
    FAIL("PERF_GLOBAL_CTRL bit 4 (no fifth counter)", 0, GUEST_PERF_GLOBAL_RESERVED);
    W(GUEST_IA32_PERF_GLOBAL_CTRL, 0x70000000Full);
    PASS("PERF_GLOBAL_CTRL: 4 general-purpose and 3 fixed counters");
    done();
}

Test(guest_msr, pat_memory_types)
{
    start("server");
    W(GUEST_IA32_PAT, 0x0007040600070402ull);
    PASS("PAT with type 2 not loaded");
    SET(ENTRY_CONTROLS, VTX_ENTRY_LOAD_PAT);
    FAIL("PAT entry 0 = 2 (reserved type)", 0, GUEST_PAT);
    W(GUEST_IA32_PAT, 0x0007040600070406ull);
    PASS("power-on PAT");
    W(GUEST_IA32_PAT, 0x0800000000000000ull);
    FAIL("PAT entry 7 = 8", 0, GUEST_PAT);
    done();
}

Test(guest_msr, efer_reserved)
{
    start("server");
    SET(ENTRY_CONTROLS, VTX_ENTRY_LOAD_EFER);
    W(GUEST_IA32_EFER, 0xD02);
    FAIL("EFER bit 1 reserved", 0, GUEST_EFER_RESERVED);
    W(GUEST_IA32_EFER, 0xD01);
    PASS("EFER SCE LME LMA NXE");
    done();
}

Test(guest_msr, efer_lma_matches_ia32e_mode_guest)
{
    start("server");
    SET(ENTRY_CONTROLS, VTX_ENTRY_LOAD_EFER);
    W(GUEST_IA32_EFER, VTX_EFER_LME);
    FAIL("EFER.LMA = 0 with IA-32e mode guest", 0, GUEST_EFER_LMA);
    guest32();
    W(GUEST_IA32_EFER, 0);
    PASS("32-bit guest with EFER.LMA = LME = 0");
    W(GUEST_IA32_EFER, VTX_EFER_LMA | VTX_EFER_LME);
    FAIL("EFER.LMA = 1 without IA-32e mode guest", 0, GUEST_EFER_LMA);
    done();
}

Test(guest_msr, efer_lme_matches_lma_only_with_paging)
{
    start("server");
    guest32();
    SET(ENTRY_CONTROLS, VTX_ENTRY_LOAD_EFER);
    W(GUEST_IA32_EFER, VTX_EFER_LME);
    FAIL("EFER.LME = 1, LMA = 0 with CR0.PG = 1", 0, GUEST_EFER_LME);
    guest_real();
    PASS("EFER.LME = 1, LMA = 0 with CR0.PG = 0 (unrestricted guest)");
    done();
}

Test(guest_msr, bndcfgs_reserved_and_canonical)
{
    vtx_profile p = server_plus(VTX_ENTRY_LOAD_BNDCFGS, 0);
    start_with(&p);
    SET(ENTRY_CONTROLS, VTX_ENTRY_LOAD_BNDCFGS);
    W(GUEST_IA32_BNDCFGS, 0x4);
    FAIL("BNDCFGS bit 2 reserved", 0, GUEST_BNDCFGS_RESERVED);
    W(GUEST_IA32_BNDCFGS, 0x0000800000000003ull);
    FAIL("BNDCFGS base non-canonical", 0, GUEST_BNDCFGS_CANONICAL);
    W(GUEST_IA32_BNDCFGS, 0xFFFF800000000003ull);
    PASS("BNDCFGS EN | PRESERVE with a canonical base");
    done();
}
