/*
 * VM-entry checks on the guest-state area (SDM Vol. 3 "Checks on the Guest State
 * Area"; catalogue F.1 ENT-BASIC-5, F.3 ENT-GS-1..15, I HLT-5/HLT-7, 0.1
 * CFG-NMI-STI-ENTRY). Each test starts from the baseline VMCS (a 64-bit guest
 * that passes every check), breaks one thing, expects the VM-entry failure exit
 * 33 | 0x80000000 with the right qualification and named check, then makes the
 * small change that flips the outcome and expects VM entry to pass.
 *
 * The kvm-unit-tests scenario 6.9 (docs/kut.tsv) notes the public suites do not test the activity-state and
 * interruptibility rules; those are covered here in depth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "baseline.h"
/* Model internals, only for the entry-to-SMM rows (see the smm_* tests). */
#include "../model/entry_checks.h"

static vt_env e;

#define W(field, v) vt_vmwrite(&e, VTX_VMCS_##field, (v))
#define R(field) vt_vmread(&e, VTX_VMCS_##field)
#define SET(field, bits) W(field, R(field) | (bits))
#define CLR(field, bits) W(field, R(field) & ~(uint64_t)(bits))
#define FAIL(step, q, check) vt_expect_entry_guest_fail(&e, step, q, VTX_CHECK_##check)
#define PASS(step) pass_checks(step)

#define LINK_PA 0x50000u
#define EPTP (0x40000u | 6u | (3u << 3)) /* WB, 4-level walk */

/* Interruption-information values (bits 7:0 vector, 10:8 type, 11 error code, 31 valid). */
#define INJ(type, vec) (0x80000000u | ((uint32_t)(type) << 8) | (vec))
#define INJ_EXT(vec) INJ(0, vec)
#define INJ_NMI INJ(2, 2)
#define INJ_DB INJ(3, 1)
#define INJ_MC INJ(3, 18)
#define INJ_GP (INJ(3, 13) | 0x800u)
#define INJ_SWINT(vec) INJ(4, vec)
#define INJ_BP INJ(6, 3)
#define INJ_MTF INJ(7, 0)

enum { ACT_ACTIVE, ACT_HLT, ACT_SHUTDOWN, ACT_SIPI };
enum { STI = 1, MOVSS = 2, SMI = 4, NMIB = 8, ENCLAVE = 16 };
#define IF_ON 0x202u

static void start(const char *profile)
{
    vt_setup(&e, profile);
    vt_baseline(&e);
}

/* As vt_setup(), for a profile that is not built in (a variant of one). */
static void start_with(const vtx_profile *p)
{
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_validate(p, &d), VTX_OK, "test profile: %s", d.message);
    vt_setup_profile(&e, p);
    vt_baseline(&e);
}

/* "server" with extra allowed-1 settings. */
static vtx_profile server_plus(uint32_t entry1, uint32_t proc2_1)
{
    const vtx_profile *s;
    cr_assert_eq(vtx_profile_find("server", &s, NULL), VTX_OK);
    vtx_profile p = *s;
    p.msr[VTX_CAP_IA32_VMX_ENTRY_CTLS] |= (uint64_t)entry1 << 32;
    p.msr[VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS] |= (uint64_t)entry1 << 32;
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] |= (uint64_t)proc2_1 << 32;
    return p;
}


/* VM entry gets past every guest-state check. Since guest execution is modelled
 * the entry may really run the guest (it stops, INIT makes it exit) or be
 * refused as not modelled yet (event injection): both mean the checks passed.
 * The guest-state fields are put back afterwards (the VM exit saved new ones)
 * and the VMCS is made clear again, so a test can go on changing one field.
 * A guest entered in wait-for-SIPI ignores INIT: such a step must come last. */
static void pass_checks(const char *step)
{
    size_t n;
    const vtx_field_info *fi = vtx_vmcs_fields(&n);
    static uint64_t saved[VTX_VMCS_FIELD_COUNT];
    static bool have[VTX_VMCS_FIELD_COUNT];
    vtx_insn_result r;
    for (size_t i = 0; i < n; i++) {
        have[i] = fi[i].type == VTX_TYPE_GUEST && vtx_vmread(e.m, fi[i].encoding, &r) == VTX_OK &&
                  r.outcome == VTX_VMSUCCEED;
        saved[i] = r.value;
    }
    uint64_t activity = R(GUEST_ACTIVITY_STATE);
    uint64_t injection = R(ENTRY_INTR_INFO); /* the VM exit clears its valid bit (INJ-4) */
    vtx_status st = vtx_vmlaunch(e.m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    /* Entered: the guest runs (its run may stop later for its own reasons) or exits normally. */
    bool entered = (st == VTX_ERR_UNSUPPORTED && r.outcome == VTX_VMSUCCEED) || r.outcome == VTX_GUEST_STOPPED ||
                   (st == VTX_OK && r.outcome == VTX_VMEXIT && !(r.exit_reason & VTX_EXIT_REASON_ENTRY_FAILURE));
    cr_assert(entered, "%s: expected VM entry to pass every guest-state check, got %s (%s)", step, got,
              vtx_status_name(st));
    if (r.outcome == VTX_GUEST_STOPPED) {
        if (activity == ACT_SIPI)
            return;
        cr_assert_eq(vtx_machine_raise_init(e.m), VTX_OK);
        vtx_continue(e.m, &r);
        cr_assert(r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_INIT_SIGNAL,
                  "%s: INIT after the entry should give exit 3", step);
    }
    vt_expect("VMCLEAR after entry", vtx_vmclear(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMPTRLD after entry", vtx_vmptrld(e.m, VT_VMCS_PA, &r), &r, VTX_VMSUCCEED, 0);
    for (size_t i = 0; i < n; i++)
        if (have[i])
            vt_vmwrite(&e, fi[i].encoding, saved[i]);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, injection);
}

static void done(void) { vt_teardown(&e); }

static void seg(uint32_t sel_enc, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    vt_vmwrite(&e, sel_enc, sel);
    vt_vmwrite(&e, sel_enc + 0x6006, base); /* GUEST_ES_SELECTOR 0x0800 -> GUEST_ES_BASE 0x6806 */
    vt_vmwrite(&e, sel_enc + 0x4000, limit); /* -> GUEST_ES_LIMIT 0x4800 */
    vt_vmwrite(&e, sel_enc + 0x4014, ar);    /* -> GUEST_ES_AR 0x4814 */
}
#define SEG(N, sel, base, limit, ar) seg(VTX_VMCS_GUEST_##N##_SELECTOR, sel, base, limit, ar)

static void data_segs(uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    SEG(SS, sel, base, limit, ar);
    SEG(DS, sel, base, limit, ar);
    SEG(ES, sel, base, limit, ar);
    SEG(FS, sel, base, limit, ar);
    SEG(GS, sel, base, limit, ar);
}

/* A 32-bit protected-mode guest with PAE paging ("IA-32e mode guest" = 0). Its
 * PDPT is the first 32 bytes at CR3, where the baseline keeps a 4-level PML4:
 * clear them (not-present PDPTEs pass every PDPTE check). */
static void guest32(void)
{
    static const uint64_t zero[4];
    cr_assert_eq(vtx_machine_write_phys(e.m, VT_GUEST_CR3, zero, sizeof zero, NULL), VTX_OK);
    CLR(ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    SEG(CS, 0x08, 0, 0xFFFFFFFF, 0xC09B); /* 32-bit code, G, D */
}

/* Activate EPT and unrestricted guest (server, teaching). */
static void enable_ug(void)
{
    SET(PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    W(PROC_CONTROLS2, VTX_PROC2_ENABLE_EPT | VTX_PROC2_UNRESTRICTED_GUEST);
    W(EPT_POINTER, EPTP);
}

/* An unrestricted-guest real-mode guest: CR0.PE = PG = 0, 16-bit segments. */
static void guest_real(void)
{
    enable_ug();
    CLR(ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    W(GUEST_CR0, 0x30); /* ET NE */
    W(GUEST_CR4, VTX_CR4_VMXE);
    SEG(CS, 0xF000, 0xF0000, 0xFFFF, 0x9B);
    data_segs(0, 0, 0xFFFF, 0x93);
    SEG(TR, 0, 0, 0xFFFF, 0x8B);
    W(GUEST_RIP, 0xFFF0);
}

/* A virtual-8086 guest inside 32-bit protected mode. */
static void guest_v86(void)
{
    guest32();
    SEG(CS, 0x1000, 0x10000, 0xFFFF, 0xF3);
    data_segs(0x2000, 0x20000, 0xFFFF, 0xF3);
    W(GUEST_RFLAGS, 0x20002);
    W(GUEST_RIP, 0x100);
}

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

/* ===================== RIP and RFLAGS (ENT-GS-1) ===================== */

Test(guest_rip, high_bits_outside_64bit_mode)
{
    start("server");
    guest32();
    W(GUEST_RIP, 1ull << 32);
    FAIL("32-bit guest with RIP bit 32", 0, GUEST_RIP_HIGH);
    SET(ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    W(GUEST_CS_AR, 0xC09B);
    FAIL("compatibility mode (CS.L = 0) with RIP bit 32", 0, GUEST_RIP_HIGH);
    W(GUEST_CS_AR, 0xA09B);
    PASS("64-bit mode with RIP bit 32");
    done();
}

Test(guest_rip, linear_width_in_64bit_mode)
{
    start("server");
    W(GUEST_RIP, 0x0001000000000000ull);
    FAIL("64-bit RIP bits 63:48 not identical", 0, GUEST_RIP_LINEAR_WIDTH);
    W(GUEST_RIP, 0xFFFF800000001000ull);
    PASS("RIP in the upper canonical half");
    /* SDM: only bits 63:N must be identical; bit 47 is not compared. */
    W(GUEST_RIP, 0x0000800000000000ull);
    PASS("RIP 0x0000800000000000 (bits 63:48 identical, non-canonical)");
    done();
}

Test(guest_rflags, ent_gs_1_reserved_bits)
{
    VTX_COVERS("ENT-GS-1");
    start("server");
    W(GUEST_RFLAGS, 0xA);
    FAIL("ENT-GS-1: RFLAGS bit 3", 0, GUEST_RFLAGS_RESERVED);
    W(GUEST_RFLAGS, 0x8002);
    FAIL("ENT-GS-1: RFLAGS bit 15", 0, GUEST_RFLAGS_RESERVED);
    W(GUEST_RFLAGS, 0x400002);
    FAIL("ENT-GS-1: RFLAGS bit 22", 0, GUEST_RFLAGS_RESERVED);
    W(GUEST_RFLAGS, 0x3D7FD7);
    PASS("ENT-GS-1: every defined RFLAGS bit except VM (ID, VIP, VIF, AC, RF, NT, IOPL, ...)");
    done();
}

Test(guest_rflags, ent_gs_1_bit1)
{
    VTX_COVERS("ENT-GS-1");
    start("server");
    W(GUEST_RFLAGS, 0);
    FAIL("ENT-GS-1: RFLAGS bit 1 = 0", 0, GUEST_RFLAGS_BIT1);
    W(GUEST_RFLAGS, 2);
    PASS("ENT-GS-1: RFLAGS bit 1 = 1");
    done();
}

Test(guest_rflags, ent_gs_1_vm_in_ia32e_mode)
{
    VTX_COVERS("ENT-GS-1");
    start("server");
    guest_v86();
    SET(ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    FAIL("ENT-GS-1: RFLAGS.VM = 1 in an IA-32e mode guest", 0, GUEST_RFLAGS_VM);
    CLR(ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    PASS("ENT-GS-1: RFLAGS.VM = 1 in 32-bit protected mode");
    done();
}

Test(guest_rflags, ent_gs_1_vm_with_pe_clear)
{
    VTX_COVERS("ENT-GS-1");
    start("server");
    guest_real();
    SEG(CS, 0xF000, 0xF0000, 0xFFFF, 0xF3);
    data_segs(0, 0, 0xFFFF, 0xF3);
    W(GUEST_RFLAGS, 0x20002);
    FAIL("ENT-GS-1: RFLAGS.VM = 1 with CR0.PE = 0", 0, GUEST_RFLAGS_VM);
    done();
}

Test(guest_rflags, ent_gs_1_if_for_external_interrupt)
{
    VTX_COVERS("ENT-GS-1");
    start("server");
    W(ENTRY_INTR_INFO, INJ_EXT(0x20));
    FAIL("ENT-GS-1: injecting vector 0x20 with IF = 0", 0, GUEST_RFLAGS_IF_EXTINT);
    W(GUEST_RFLAGS, IF_ON);
    PASS("ENT-GS-1: injecting vector 0x20 with IF = 1");
    W(GUEST_RFLAGS, 2);
    W(ENTRY_INTR_INFO, INJ_NMI);
    PASS("ENT-GS-1: an NMI does not need IF = 1");
    W(ENTRY_INTR_INFO, INJ_EXT(0x20) & ~0x80000000u);
    PASS("ENT-GS-1: an invalid (bit 31 = 0) external interrupt does not need IF = 1");
    done();
}

/* ===================== activity state (ENT-GS-2..6, HLT-5, HLT-7) ===================== */

Test(guest_activity, ent_gs_2_range)
{
    VTX_COVERS("ENT-GS-2");
    start("server");
    W(GUEST_ACTIVITY_STATE, 4);
    FAIL("ENT-GS-2: activity state 4", 0, GUEST_ACT_STATE_RANGE);
    W(GUEST_ACTIVITY_STATE, 3);
    PASS("ENT-GS-2: activity state 3 (wait-for-SIPI) on server");
    done();
}

Test(guest_activity, ent_gs_2_supported_per_misc)
{
    VTX_COVERS("ENT-GS-2");
    start("core2"); /* IA32_VMX_MISC: HLT only */
    W(GUEST_ACTIVITY_STATE, ACT_SHUTDOWN);
    FAIL("ENT-GS-2: core2 shutdown (MISC bit 7 = 0)", 0, GUEST_ACT_STATE_UNSUPPORTED);
    W(GUEST_ACTIVITY_STATE, ACT_SIPI);
    FAIL("ENT-GS-2: core2 wait-for-SIPI (MISC bit 8 = 0)", 0, GUEST_ACT_STATE_UNSUPPORTED);
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    PASS("ENT-GS-2: core2 HLT (MISC bit 6 = 1)");
    done();
    start("server");
    W(GUEST_ACTIVITY_STATE, ACT_SHUTDOWN);
    PASS("ENT-GS-2: server shutdown");
    done();
}

Test(guest_activity, ent_gs_3_hlt_needs_ss_dpl_0)
{
    VTX_COVERS("ENT-GS-3", "HLT-5");
    /* HLT-5: a CPL-3 guest cannot be entered in the HLT state. */
    start("server");
    W(GUEST_CS_SELECTOR, 0x0B);
    W(GUEST_CS_AR, 0xA0FB);
    W(GUEST_SS_SELECTOR, 0x13);
    W(GUEST_SS_AR, 0xC0F3);
    PASS("ENT-GS-3: CPL 3 guest, active");
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    FAIL("ENT-GS-3 (HLT-5): HLT with SS.DPL 3", 0, GUEST_ACT_HLT_SS_DPL);
    W(GUEST_ACTIVITY_STATE, ACT_SHUTDOWN);
    PASS("ENT-GS-3: shutdown with SS.DPL 3 (the rule is HLT-only)");
    done();
}

Test(guest_activity, ent_gs_4_hlt7_sti_hlt_emulated_without_clearing_bit0)
{
    VTX_COVERS("ENT-GS-4", "HLT-7");
    /* HLT-7: "STI; HLT" with HLT exiting; the VMM re-enters with activity HLT
     * but forgets to clear interruptibility bit 0. */
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    W(GUEST_INTERRUPTIBILITY, STI);
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    FAIL("ENT-GS-4 (HLT-7): HLT with blocking by STI", 0, GUEST_ACT_NOT_ACTIVE_SHADOW);
    W(GUEST_INTERRUPTIBILITY, 0);
    PASS("ENT-GS-4 (HLT-7): HLT after clearing bit 0");
    done();
}

Test(guest_activity, ent_gs_4_movss_and_other_states)
{
    VTX_COVERS("ENT-GS-4");
    start("server");
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    PASS("ENT-GS-4: blocking by MOV SS while active");
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    FAIL("ENT-GS-4: HLT with blocking by MOV SS", 0, GUEST_ACT_NOT_ACTIVE_SHADOW);
    W(GUEST_ACTIVITY_STATE, ACT_SHUTDOWN);
    FAIL("ENT-GS-4: shutdown with blocking by MOV SS", 0, GUEST_ACT_NOT_ACTIVE_SHADOW);
    W(GUEST_ACTIVITY_STATE, ACT_SIPI);
    W(GUEST_RFLAGS, IF_ON);
    W(GUEST_INTERRUPTIBILITY, STI);
    FAIL("ENT-GS-4: wait-for-SIPI with blocking by STI", 0, GUEST_ACT_NOT_ACTIVE_SHADOW);
    W(GUEST_INTERRUPTIBILITY, NMIB);
    PASS("ENT-GS-4: wait-for-SIPI with blocking by NMI only");
    done();
}

/* ENT-GS-5: which injected events each activity state accepts. */
static void inject_into(uint32_t activity, uint32_t info, bool ok, vtx_check check, const char *what)
{
    char step[160];
    snprintf(step, sizeof step, "ENT-GS-5: activity %u, injecting %s", activity, what);
    W(GUEST_ACTIVITY_STATE, activity);
    W(ENTRY_INTR_INFO, info);
    W(ENTRY_EXCEPTION_ERROR_CODE, 0);
    W(ENTRY_INSTRUCTION_LEN, 2);
    if (ok)
        PASS(step);
    else
        vt_expect_entry_guest_fail(&e, step, 0, check);
}

Test(guest_activity, ent_gs_5_hlt_row)
{
    VTX_COVERS("ENT-GS-5");
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    vtx_check c = VTX_CHECK_GUEST_ACT_HLT_EVENT;
    inject_into(ACT_HLT, INJ_EXT(0x30), true, c, "an external interrupt");
    inject_into(ACT_HLT, INJ_NMI, true, c, "an NMI");
    inject_into(ACT_HLT, INJ_DB, true, c, "#DB (type 3, vector 1)");
    inject_into(ACT_HLT, INJ_MC, true, c, "#MC (type 3, vector 18)");
    inject_into(ACT_HLT, INJ_MTF, true, c, "a pending MTF VM exit (type 7, vector 0)");
    inject_into(ACT_HLT, INJ_GP, false, c, "#GP (type 3, vector 13)");
    inject_into(ACT_HLT, INJ(3, 6), false, c, "#UD (type 3, vector 6)");
    inject_into(ACT_HLT, INJ_SWINT(0x80), false, c, "INT 0x80 (type 4)");
    inject_into(ACT_HLT, INJ(5, 1), false, c, "INT1 (type 5, vector 1): only type 3 #DB is allowed");
    inject_into(ACT_HLT, INJ_BP, false, c, "#BP (type 6)");
    inject_into(ACT_HLT, INJ_SWINT(18), false, c, "INT 18 (type 4, vector 18): only type 3 #MC is allowed");
    done();
}

Test(guest_activity, ent_gs_5_shutdown_row)
{
    VTX_COVERS("ENT-GS-5");
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    vtx_check c = VTX_CHECK_GUEST_ACT_SHUTDOWN_EVENT;
    inject_into(ACT_SHUTDOWN, INJ_NMI, true, c, "an NMI");
    inject_into(ACT_SHUTDOWN, INJ_MC, true, c, "#MC");
    inject_into(ACT_SHUTDOWN, INJ_EXT(0x30), false, c, "an external interrupt");
    inject_into(ACT_SHUTDOWN, INJ_DB, false, c, "#DB");
    inject_into(ACT_SHUTDOWN, INJ_MTF, false, c, "a pending MTF VM exit");
    inject_into(ACT_SHUTDOWN, INJ_SWINT(18), false, c, "INT 18 (type 4, vector 18)");
    done();
}

Test(guest_activity, ent_gs_5_wait_for_sipi_row)
{
    VTX_COVERS("ENT-GS-5");
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    vtx_check c = VTX_CHECK_GUEST_ACT_SIPI_EVENT;
    inject_into(ACT_SIPI, INJ_NMI, false, c, "an NMI");
    inject_into(ACT_SIPI, INJ_MC, false, c, "#MC");
    inject_into(ACT_SIPI, INJ_EXT(0x30), false, c, "an external interrupt");
    inject_into(ACT_SIPI, INJ_MTF, false, c, "a pending MTF VM exit");
    inject_into(ACT_SIPI, INJ_NMI & ~0x80000000u, true, c, "nothing (valid bit 0)");
    done();
}

Test(guest_activity, ent_gs_5_active_accepts_everything)
{
    VTX_COVERS("ENT-GS-5");
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    vtx_check c = VTX_CHECK_NONE;
    inject_into(ACT_ACTIVE, INJ_GP, true, c, "#GP");
    inject_into(ACT_ACTIVE, INJ_SWINT(0x80), true, c, "INT 0x80");
    inject_into(ACT_ACTIVE, INJ_BP, true, c, "#BP");
    inject_into(ACT_ACTIVE, INJ(5, 1), true, c, "INT1");
    done();
}

/* The entry-to-SMM rows (ENT-GS-6, second half of ENT-GS-11) cannot be reached
 * through VMLAUNCH: the model is never in SMM, so ENT-CTL-7 rejects "entry to
 * SMM" = 1 first. They are exercised on the guest-check function directly. */
static bool guest_check(vtx_entry_fail *fail)
{
    vtx_vmcs_status st;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, VT_VMCS_PA, &st), VTX_OK);
    memset(fail, 0, sizeof *fail);
    return vtx_entry_check_guest(e.m, &e.m->current->f, fail);
}

Test(guest_activity, ent_gs_6_wait_for_sipi_with_entry_to_smm)
{
    VTX_COVERS("ENT-GS-6", "ENT-GS-11");
    start("server");
    vtx_entry_fail f;
    SET(ENTRY_CONTROLS, VTX_ENTRY_ENTRY_TO_SMM);
    W(GUEST_ACTIVITY_STATE, ACT_SIPI);
    cr_assert(!guest_check(&f) && f.check == VTX_CHECK_GUEST_ACT_SIPI_SMM && f.qualification == 0,
              "ENT-GS-6: wait-for-SIPI with entry to SMM, got %s (%s)", vtx_check_name(f.check), f.why);
    W(GUEST_ACTIVITY_STATE, ACT_HLT);
    cr_assert(!guest_check(&f) && f.check == VTX_CHECK_GUEST_INTR_SMI_ENTRY_SMM,
              "ENT-GS-11: entry to SMM without blocking by SMI, got %s (%s)", vtx_check_name(f.check), f.why);
    done();
}

/* ===================== interruptibility state (ENT-GS-7..13) ===================== */

Test(guest_intr, ent_gs_7_reserved_bits)
{
    VTX_COVERS("ENT-GS-7");
    start("server");
    W(GUEST_INTERRUPTIBILITY, 0x20);
    FAIL("ENT-GS-7: interruptibility bit 5", 0, GUEST_INTR_RESERVED);
    W(GUEST_INTERRUPTIBILITY, 0x80000000u);
    FAIL("ENT-GS-7: interruptibility bit 31", 0, GUEST_INTR_RESERVED);
    W(GUEST_INTERRUPTIBILITY, NMIB);
    PASS("ENT-GS-7: blocking by NMI only");
    done();
}

Test(guest_intr, ent_gs_8_sti_and_movss)
{
    VTX_COVERS("ENT-GS-8", "BLK-STI-5");
    /* BLK-STI-5: STI; MOV SS is saved as MOV-SS blocking only. */
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    W(GUEST_INTERRUPTIBILITY, STI | MOVSS);
    FAIL("ENT-GS-8: bits 0 and 1 both set", 0, GUEST_INTR_STI_AND_MOVSS);
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    PASS("ENT-GS-8: MOV-SS blocking alone");
    W(GUEST_INTERRUPTIBILITY, STI);
    PASS("ENT-GS-8: STI blocking alone");
    done();
}

Test(guest_intr, ent_gs_9_sti_needs_if)
{
    VTX_COVERS("ENT-GS-9", "BLK-STI-1");
    /* BLK-STI-1: STI blocking exists only after an STI that set IF. */
    start("server");
    W(GUEST_INTERRUPTIBILITY, STI);
    FAIL("ENT-GS-9: blocking by STI with IF = 0", 0, GUEST_INTR_STI_IF0);
    W(GUEST_RFLAGS, IF_ON);
    PASS("ENT-GS-9: blocking by STI with IF = 1");
    W(GUEST_RFLAGS, 2);
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    PASS("ENT-GS-9: blocking by MOV SS with IF = 0");
    done();
}

Test(guest_intr, ent_gs_10_external_interrupt_in_shadow)
{
    VTX_COVERS("ENT-GS-10");
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    W(ENTRY_INTR_INFO, INJ_EXT(0x40));
    W(GUEST_INTERRUPTIBILITY, STI);
    FAIL("ENT-GS-10: external interrupt with blocking by STI", 0, GUEST_INTR_EXTINT_SHADOW);
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    FAIL("ENT-GS-10: external interrupt with blocking by MOV SS", 0, GUEST_INTR_EXTINT_SHADOW);
    W(GUEST_INTERRUPTIBILITY, NMIB);
    PASS("ENT-GS-10: external interrupt with blocking by NMI");
    W(GUEST_INTERRUPTIBILITY, STI);
    W(ENTRY_INTR_INFO, INJ_GP);
    W(ENTRY_EXCEPTION_ERROR_CODE, 0);
    PASS("ENT-GS-10: a hardware exception may be injected in an STI shadow");
    done();
}

Test(guest_intr, ent_gs_10_nmi_with_movss)
{
    VTX_COVERS("ENT-GS-10");
    start("server");
    W(ENTRY_INTR_INFO, INJ_NMI);
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    FAIL("ENT-GS-10: NMI with blocking by MOV SS", 0, GUEST_INTR_NMI_MOVSS);
    W(GUEST_INTERRUPTIBILITY, 0);
    PASS("ENT-GS-10: NMI without blocking");
    done();
}

Test(guest_intr, ent_gs_10_nmi_with_sti_qualification_3)
{
    VTX_COVERS("ENT-GS-10");
    /* CFG-NMI-STI-ENTRY on (default): qualification 3 (Bochs: 0, DIFF-8c). */
    start("server");
    W(GUEST_RFLAGS, IF_ON);
    W(ENTRY_INTR_INFO, INJ_NMI);
    W(GUEST_INTERRUPTIBILITY, STI);
    FAIL("ENT-GS-10 / CFG-NMI-STI-ENTRY: NMI with blocking by STI", 3, GUEST_INTR_NMI_STI);
    W(GUEST_INTERRUPTIBILITY, 0);
    PASS("ENT-GS-10: NMI without STI blocking");
    done();
}

Test(guest_intr, ent_gs_10_nmi_with_sti_knob_off)
{
    VTX_COVERS("ENT-GS-10");
    const vtx_profile *s;
    cr_assert_eq(vtx_profile_find("server", &s, NULL), VTX_OK);
    vtx_profile p = *s;
    p.knobs &= ~(uint32_t)VTX_KNOB_NMI_STI_ENTRY;
    start_with(&p);
    W(GUEST_RFLAGS, IF_ON);
    W(ENTRY_INTR_INFO, INJ_NMI);
    W(GUEST_INTERRUPTIBILITY, STI);
    PASS("CFG-NMI-STI-ENTRY off: NMI with blocking by STI is allowed");
    W(GUEST_INTERRUPTIBILITY, MOVSS);
    FAIL("CFG-NMI-STI-ENTRY off: NMI with MOV-SS blocking still fails", 0, GUEST_INTR_NMI_MOVSS);
    done();
}

Test(guest_intr, ent_gs_11_smi_blocking_outside_smm)
{
    VTX_COVERS("ENT-GS-11");
    start("server");
    W(GUEST_INTERRUPTIBILITY, SMI);
    FAIL("ENT-GS-11: blocking by SMI outside SMM", 0, GUEST_INTR_SMI_NOT_SMM);
    W(GUEST_INTERRUPTIBILITY, 0);
    PASS("ENT-GS-11: no SMI blocking");
    done();
}

Test(guest_intr, ent_gs_11_entry_to_smm_needs_smi_blocking)
{
    VTX_COVERS("ENT-GS-11");
    start("server");
    vtx_entry_fail f;
    SET(ENTRY_CONTROLS, VTX_ENTRY_ENTRY_TO_SMM);
    cr_assert(!guest_check(&f) && f.check == VTX_CHECK_GUEST_INTR_SMI_ENTRY_SMM,
              "ENT-GS-11: entry to SMM with bit 2 = 0, got %s (%s)", vtx_check_name(f.check), f.why);
    CLR(ENTRY_CONTROLS, VTX_ENTRY_ENTRY_TO_SMM);
    cr_assert(guest_check(&f), "ENT-GS-11: without entry to SMM: %s", f.why);
    done();
}

Test(guest_intr, ent_gs_12_virtual_nmi_blocking_with_injected_nmi)
{
    VTX_COVERS("ENT-GS-12");
    start("server");
    SET(PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    W(ENTRY_INTR_INFO, INJ_NMI);
    W(GUEST_INTERRUPTIBILITY, NMIB);
    FAIL("ENT-GS-12: virtual NMIs, injecting an NMI with virtual-NMI blocking", 0, GUEST_INTR_VNMI_BLOCKED);
    W(ENTRY_INTR_INFO, 0);
    PASS("ENT-GS-12: virtual-NMI blocking without injection");
    CLR(PIN_CONTROLS, VTX_PIN_VIRTUAL_NMIS);
    W(ENTRY_INTR_INFO, INJ_NMI);
    PASS("ENT-GS-12 note: no such rule when virtual NMIs = 0");
    done();
}

Test(guest_intr, ent_gs_13_enclave_without_sgx)
{
    VTX_COVERS("ENT-GS-13");
    start("server");
    W(GUEST_INTERRUPTIBILITY, ENCLAVE);
    FAIL("ENT-GS-13: enclave interruption on a part without SGX", 0, GUEST_INTR_ENCLAVE_NO_SGX);
    done();
}

Test(guest_intr, ent_gs_13_enclave_and_movss)
{
    VTX_COVERS("ENT-GS-13");
    vtx_profile p = server_plus(0, VTX_PROC2_ENCLS_EXITING);
    start_with(&p);
    W(GUEST_INTERRUPTIBILITY, ENCLAVE | MOVSS);
    FAIL("ENT-GS-13: enclave interruption with blocking by MOV SS", 0, GUEST_INTR_ENCLAVE_MOVSS);
    W(GUEST_INTERRUPTIBILITY, ENCLAVE);
    PASS("ENT-GS-13: enclave interruption on an SGX part");
    done();
}

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
