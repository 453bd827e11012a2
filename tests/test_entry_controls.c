/*
 * VM-entry checks on the VMX controls (SDM Vol. 3 "Checks on VMX Controls";
 * catalogue F.2 ENT-CTL-1..9, E.2 INJ-CHK-1..6): VMfailValid, error 7.
 *
 * Each test starts from the baseline VMCS (tests/baseline.c), breaks one
 * control, expects the named check, then makes the smallest change that
 * flips the outcome. Ports the kvm-unit-tests scenarios (docs/kut.tsv) 6.7 (test_invalid_event_injection)
 * and 6.8 (test_nmi_ctrls, test_virtual_intr_ctls, test_posted_intr,
 * test_tpr_threshold, test_vmx_preemption_timer) of kvm-unit-tests vmx_tests.c.
 *
 * "passes" = every VM-entry check passes; "past" = the control and host-state
 * checks pass (used where the test leaves the guest state to the guest-state
 * checks, e.g. a real-mode guest CR0 or an injected event).
 */
#include <stdlib.h>
#include <string.h>
#include "baseline.h"

/* Physical pages the tests point control fields at (inside the test RAM). */
#define PG_VAPIC 0x40000u
#define PG_APIC_ACCESS 0x41000u
#define PG_IO_A 0x42000u
#define PG_IO_B 0x43000u
#define PG_MSR_BITMAP 0x44000u
#define PG_PI_DESC 0x45000u
#define PG_PML 0x46000u
#define PG_EPTP_LIST 0x47000u
#define PG_VMREAD 0x48000u
#define PG_VMWRITE 0x49000u
#define PG_VE_INFO 0x4A000u
#define PG_MSR_AREA 0x4B000u
#define EPTP_OK (0x50000ull | 6 | (3 << 3)) /* WB, 4-level walk */

/* ---- fixtures ---- */

/* Add allowed-1 bits to a control capability MSR (and its TRUE twin). */
static void allow(vtx_profile *p, vtx_cap_msr plain, vtx_cap_msr tru, uint32_t bits)
{
    p->msr[plain] |= (uint64_t)bits << 32;
    if (tru != plain && vtx_basic_true_ctls(p->msr[VTX_CAP_IA32_VMX_BASIC]))
        p->msr[tru] |= (uint64_t)bits << 32;
}

/* "server" plus the controls the built-in profiles leave out: posted
 * interrupts, APIC virtualization, VM functions (EPTP switching), VMCS
 * shadowing, PML and EPT-violation #VE. */
static vtx_profile apicv_profile(void)
{
    vtx_profile p = vt_profile_copy("server");
    snprintf(p.name, sizeof p.name, "server-apicv");
    allow(&p, VTX_CAP_IA32_VMX_PINBASED_CTLS, VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS, VTX_PIN_POSTED_INTR);
    allow(&p, VTX_CAP_IA32_VMX_PROCBASED_CTLS2, VTX_CAP_IA32_VMX_PROCBASED_CTLS2,
          VTX_PROC2_VIRT_APIC_ACCESSES | VTX_PROC2_VIRT_X2APIC | VTX_PROC2_APIC_REG_VIRT |
              VTX_PROC2_VIRT_INTR_DELIVERY | VTX_PROC2_ENABLE_VMFUNC | VTX_PROC2_VMCS_SHADOWING |
              VTX_PROC2_ENABLE_PML | VTX_PROC2_EPT_VIOLATION_VE);
    p.msr[VTX_CAP_IA32_VMX_VMFUNC] = 1; /* EPTP switching */
    return p;
}

static void fails(vt_env *e, const char *step, vtx_check check) { vt_expect_entry_vmfail(e, step, 7, check); }


/* Activate the secondary controls with the given bits. */
static void proc2(vt_env *e, uint32_t bits)
{
    vt_set_bits(e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    vt_vmwrite(e, VTX_VMCS_PROC_CONTROLS2, bits);
}

/* ======== ENT-CTL-1: allowed settings of each control field ======== */

Test(ctl_allowed, pin_allowed0_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "server");
    vt_clear_bits(&e, VTX_VMCS_PIN_CONTROLS, 1u << 1); /* a default1 bit, must be 1 in the TRUE MSR too */
    fails(&e, "pin-based bit 1 cleared", VTX_CHECK_CTL_PIN_ALLOWED);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, 1u << 1);
    vt_expect_entry_passes(&e, "pin-based bit 1 restored");
    vt_teardown(&e);
}

Test(ctl_allowed, pin_allowed1_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_POSTED_INTR);
    fails(&e, "process posted interrupts on a part without it", VTX_CHECK_CTL_PIN_ALLOWED);
    vt_clear_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_POSTED_INTR);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_expect_entry_passes(&e, "activate VMX-preemption timer (allowed)");
    vt_teardown(&e);
}

/* Clearing CR3-load exiting: the plain MSR of core2 forbids it, the TRUE MSR of server allows it. */
Test(ctl_allowed, proc_allowed0_true_msr_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "core2");
    vt_clear_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_LOAD_EXITING);
    fails(&e, "core2: CR3-load exiting = 0 (IA32_VMX_PROCBASED_CTLS)", VTX_CHECK_CTL_PROC_ALLOWED);
    vt_teardown(&e);
    vt_start(&e, "server");
    vt_clear_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_LOAD_EXITING);
    vt_expect_entry_passes(&e, "server: CR3-load exiting = 0 (IA32_VMX_TRUE_PROCBASED_CTLS)");
    vt_teardown(&e);
}

Test(ctl_allowed, proc_allowed1_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "core2");
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_TRAP_FLAG);
    fails(&e, "core2: monitor trap flag", VTX_CHECK_CTL_PROC_ALLOWED);
    vt_clear_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_MONITOR_TRAP_FLAG);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    vt_expect_entry_passes(&e, "core2: HLT exiting");
    vt_teardown(&e);
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_TERTIARY_CONTROLS);
    fails(&e, "server: activate tertiary controls (newer than the 2016 SDM, not allowed)",
          VTX_CHECK_CTL_PROC_ALLOWED);
    vt_teardown(&e);
}

/* Secondary controls are checked only when activated, and count as 0 otherwise. */
Test(ctl_allowed, proc2_only_if_activated_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "server");
    proc2(&e, VTX_PROC2_VIRT_APIC_ACCESSES);
    fails(&e, "activated secondary controls with virtualize APIC accesses", VTX_CHECK_CTL_PROC2_ALLOWED);
    vt_clear_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    vt_expect_entry_passes(&e, "same secondary controls, not activated");
    vt_teardown(&e);
    vt_start(&e, "core2");
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    fails(&e, "core2: activate secondary controls", VTX_CHECK_CTL_PROC_ALLOWED);
    vt_teardown(&e);
}

Test(ctl_allowed, exit_allowed_ent_ctl_1)
{
    vt_env e;
    vt_start(&e, "server");
    vt_clear_bits(&e, VTX_VMCS_EXIT_CONTROLS, 1u << 0);
    fails(&e, "VM-exit control bit 0 (default1) cleared", VTX_CHECK_CTL_EXIT_ALLOWED);
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, 1u << 0);
    vt_clear_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_DEBUG_CONTROLS);
    vt_expect_entry_passes(&e, "server: save debug controls = 0 (TRUE MSR)");
    vt_teardown(&e);
    vt_start(&e, "core2");
    vt_clear_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_DEBUG_CONTROLS);
    fails(&e, "core2: save debug controls = 0", VTX_CHECK_CTL_EXIT_ALLOWED);
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_DEBUG_CONTROLS);
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_LOAD_EFER);
    fails(&e, "core2: load IA32_EFER", VTX_CHECK_CTL_EXIT_ALLOWED);
    vt_teardown(&e);
}

Test(ctl_allowed, entry_allowed_ent_ctl_1)
{
    VTX_COVERS("ENT-CTL-1");
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_PERF_GLOBAL_CTRL);
    fails(&e, "load IA32_PERF_GLOBAL_CTRL on a part without it", VTX_CHECK_CTL_ENTRY_ALLOWED);
    vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_PERF_GLOBAL_CTRL);
    vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_DEBUG_CONTROLS);
    vt_expect_entry_passes(&e, "server: load debug controls = 0 (TRUE MSR)");
    vt_teardown(&e);
    vt_start(&e, "core2");
    vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_LOAD_DEBUG_CONTROLS);
    fails(&e, "core2: load debug controls = 0", VTX_CHECK_CTL_ENTRY_ALLOWED);
    vt_teardown(&e);
}

/* ======== ENT-CTL-9: CR3-target count, I/O and MSR bitmaps ======== */

Test(ctl_exec, cr3_target_count_ent_ctl_9)
{
    VTX_COVERS("ENT-CTL-9");
    vt_env e;
    vt_start(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_CR3_TARGET_COUNT, 5);
    fails(&e, "CR3-target count 5 (IA32_VMX_MISC says 4)", VTX_CHECK_CTL_CR3_TARGET_COUNT);
    vt_vmwrite(&e, VTX_VMCS_CR3_TARGET_COUNT, 4);
    vt_expect_entry_passes(&e, "CR3-target count 4");
    vt_teardown(&e);
}

/* The limit is IA32_VMX_MISC[24:16], not a constant 4 (Bochs uses 4). */
Test(ctl_exec, cr3_target_count_from_misc_ent_ctl_9)
{
    VTX_COVERS("ENT-CTL-9");
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_MISC] = (p.msr[VTX_CAP_IA32_VMX_MISC] & ~(0x1FFull << 16)) | (2ull << 16);
    vt_env e;
    vt_start_with(&e, &p);
    vt_vmwrite(&e, VTX_VMCS_CR3_TARGET_COUNT, 3);
    fails(&e, "CR3-target count 3 with IA32_VMX_MISC[24:16] = 2", VTX_CHECK_CTL_CR3_TARGET_COUNT);
    vt_vmwrite(&e, VTX_VMCS_CR3_TARGET_COUNT, 2);
    vt_expect_entry_passes(&e, "CR3-target count 2");
    vt_teardown(&e);
}

Test(ctl_exec, io_bitmaps_ent_ctl_9)
{
    VTX_COVERS("ENT-CTL-9");
    vt_env e;
    vt_start(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_IO_BITMAP_A, PG_IO_A + 0x800);
    vt_vmwrite(&e, VTX_VMCS_IO_BITMAP_B, 1ull << 46);
    vt_expect_entry_passes(&e, "bad I/O-bitmap addresses are ignored without \"use I/O bitmaps\"");
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_IO_BITMAPS);
    fails(&e, "I/O bitmap A not 4-KiB aligned", VTX_CHECK_CTL_IO_BITMAP_ADDR);
    vt_vmwrite(&e, VTX_VMCS_IO_BITMAP_A, PG_IO_A);
    fails(&e, "I/O bitmap B beyond the 46-bit width", VTX_CHECK_CTL_IO_BITMAP_ADDR);
    vt_vmwrite(&e, VTX_VMCS_IO_BITMAP_B, (1ull << 46) - 0x1000);
    vt_expect_entry_passes(&e, "I/O bitmap B at the last page below the width");
    vt_teardown(&e);
}

Test(ctl_exec, msr_bitmap_ent_ctl_9)
{
    VTX_COVERS("ENT-CTL-9");
    vt_env e;
    vt_start(&e, "core2");
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_MSR_BITMAPS);
    vt_vmwrite(&e, VTX_VMCS_MSR_BITMAP, 1ull << 36);
    fails(&e, "core2: MSR bitmap at 2^36 (36-bit width)", VTX_CHECK_CTL_MSR_BITMAP_ADDR);
    vt_vmwrite(&e, VTX_VMCS_MSR_BITMAP, PG_MSR_BITMAP | 8);
    fails(&e, "MSR bitmap not 4-KiB aligned", VTX_CHECK_CTL_MSR_BITMAP_ADDR);
    vt_vmwrite(&e, VTX_VMCS_MSR_BITMAP, PG_MSR_BITMAP);
    vt_expect_entry_passes(&e, "MSR bitmap 4-KiB aligned");
    vt_teardown(&e);
}

/* ======== "use TPR shadow" (ENT-CTL-5), kut 6.8 test_tpr_threshold ======== */

static void set_vtpr(vt_env *e, uint8_t vtpr)
{
    cr_assert_eq(vtx_machine_write_phys(e->m, PG_VAPIC + 0x80, &vtpr, 1, NULL), VTX_OK);
}

static void tpr_shadow_on(vt_env *e)
{
    vt_set_bits(e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_TPR_SHADOW);
    vt_vmwrite(e, VTX_VMCS_VIRTUAL_APIC_ADDR, PG_VAPIC);
    vt_vmwrite(e, VTX_VMCS_TPR_THRESHOLD, 0);
}

Test(ctl_tpr, virtual_apic_addr)
{
    vt_env e;
    vt_start(&e, "core2");
    tpr_shadow_on(&e);
    vt_vmwrite(&e, VTX_VMCS_VIRTUAL_APIC_ADDR, PG_VAPIC | 0x80);
    fails(&e, "virtual-APIC address not 4-KiB aligned", VTX_CHECK_CTL_VIRTUAL_APIC_ADDR);
    vt_vmwrite(&e, VTX_VMCS_VIRTUAL_APIC_ADDR, PG_VAPIC);
    vt_expect_entry_passes(&e, "virtual-APIC address aligned");
    vt_teardown(&e);
}

/* Without "use TPR shadow" neither the virtual-APIC address nor the TPR threshold is checked. */
Test(ctl_tpr, unchecked_without_tpr_shadow)
{
    vt_env e;
    vt_start(&e, "core2");
    vt_vmwrite(&e, VTX_VMCS_VIRTUAL_APIC_ADDR, PG_VAPIC | 0x80);
    vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, 0xFFFFFFFF);
    vt_expect_entry_passes(&e, "bad virtual-APIC address and threshold, use TPR shadow = 0");
    vt_teardown(&e);
}

/* Model choice: VTPR is read from mapped memory; a virtual-APIC page outside
 * every mapped region cannot be read, and the comparison is not made. */
Test(ctl_tpr, vtpr_unmapped_page_not_compared)
{
    vt_env e;
    vt_start(&e, "server");
    tpr_shadow_on(&e);
    vt_vmwrite(&e, VTX_VMCS_VIRTUAL_APIC_ADDR, 0x200000); /* beyond the 1-MiB test RAM */
    vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, 0xF);
    vt_expect_entry_passes(&e, "threshold 15, virtual-APIC page not mapped");
    vt_teardown(&e);
}

/* kut test_tpr_threshold_values: threshold bits 31:4 must be 0 (VTPR class 0xF). */
Test(ctl_tpr, threshold_bits_31_4_ent_ctl_5)
{
    VTX_COVERS("ENT-CTL-5");
    vt_env e;
    vt_start(&e, "server");
    tpr_shadow_on(&e);
    set_vtpr(&e, 0xFF);
    for (unsigned i = 4; i < 32; i++) {
        char step[64];
        snprintf(step, sizeof step, "TPR threshold 0x%x", 1u << i);
        vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, 1u << i);
        fails(&e, step, VTX_CHECK_CTL_TPR_THRESHOLD_RESERVED);
    }
    vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, 0xFFFFFFFF);
    fails(&e, "TPR threshold 0xffffffff", VTX_CHECK_CTL_TPR_THRESHOLD_RESERVED);
    for (unsigned t = 0; t < 16; t++) {
        char step[64];
        snprintf(step, sizeof step, "TPR threshold %u, VTPR 0xff", t);
        vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, t);
        vt_expect_entry_passes(&e, step);
    }
    vt_teardown(&e);
}

/* kut try_tpr_threshold_and_vtpr: threshold[3:0] <= VTPR[7:4] without APIC-access virtualization or VID. */
Test(ctl_tpr, threshold_vs_vtpr_ent_ctl_5)
{
    VTX_COVERS("ENT-CTL-5");
    vt_env e;
    vt_start(&e, "server");
    tpr_shadow_on(&e);
    vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, 5);
    set_vtpr(&e, 0x4F);
    fails(&e, "threshold 5, VTPR class 4", VTX_CHECK_CTL_TPR_THRESHOLD_VTPR);
    set_vtpr(&e, 0x50);
    vt_expect_entry_passes(&e, "threshold 5, VTPR class 5");
    set_vtpr(&e, 0x60);
    vt_expect_entry_passes(&e, "threshold 5, VTPR class 6");
    vt_teardown(&e);
}

/* With "virtualize APIC accesses" the VTPR comparison is not made; bits 31:4 still are. */
Test(ctl_tpr, vtpr_not_compared_with_apic_accesses_ent_ctl_5)
{
    VTX_COVERS("ENT-CTL-5");
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    tpr_shadow_on(&e);
    vt_vmwrite(&e, VTX_VMCS_APIC_ACCESS_ADDR, PG_APIC_ACCESS);
    vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, 0xF);
    set_vtpr(&e, 0x00);
    fails(&e, "threshold 15 > VTPR class 0, no APIC-access virtualization", VTX_CHECK_CTL_TPR_THRESHOLD_VTPR);
    proc2(&e, VTX_PROC2_VIRT_APIC_ACCESSES);
    vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, 0x10);
    fails(&e, "threshold 0x10 with APIC-access virtualization", VTX_CHECK_CTL_TPR_THRESHOLD_RESERVED);
    vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, 0xF);
    vt_expect_entry_passes(&e, "threshold 15 > VTPR class 0 with APIC-access virtualization");
    vt_teardown(&e);
}

/* With virtual-interrupt delivery the TPR threshold is not checked at all. */
Test(ctl_tpr, threshold_unchecked_with_vid_ent_ctl_5)
{
    VTX_COVERS("ENT-CTL-5");
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    tpr_shadow_on(&e);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, 0xFFFFFFFF);
    fails(&e, "threshold 0xffffffff without VID", VTX_CHECK_CTL_TPR_THRESHOLD_RESERVED);
    proc2(&e, VTX_PROC2_VIRT_INTR_DELIVERY);
    vt_expect_entry_passes(&e, "threshold 0xffffffff with VID");
    vt_teardown(&e);
}

/* ======== ENT-CTL-2/3: NMI controls, kut 6.8 test_nmi_ctrls ======== */

Test(ctl_nmi, vnmi_without_nmi_exiting_ent_ctl_2)
{
    vt_env e;
    vt_start(&e, "core2");
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_VIRTUAL_NMIS);
    fails(&e, "virtual NMIs without NMI exiting", VTX_CHECK_CTL_VNMI_WITHOUT_NMI_EXITING);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    vt_expect_entry_passes(&e, "virtual NMIs with NMI exiting");
    vt_teardown(&e);
}

Test(ctl_nmi, nmi_window_without_vnmi_ent_ctl_3)
{
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    fails(&e, "NMI-window exiting without virtual NMIs", VTX_CHECK_CTL_NMI_WINDOW_WITHOUT_VNMI);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_VIRTUAL_NMIS);
    vt_expect_entry_passes(&e, "NMI-window exiting with virtual NMIs");
    vt_teardown(&e);
}

/* kut test_nmi_ctrls: every valid combination is accepted. */
Test(ctl_nmi, all_valid_combinations_ent_ctl_2_3)
{
    VTX_COVERS("ENT-CTL-2");
    static const struct { uint32_t pin, proc; const char *step; } ok[] = {
        {0, 0, "none"},
        {VTX_PIN_NMI_EXITING, 0, "NMI exiting"},
        {VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS, 0, "NMI exiting + virtual NMIs"},
        {VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS, VTX_PROC_NMI_WINDOW_EXITING,
         "NMI exiting + virtual NMIs + NMI-window exiting"},
    };
    vt_env e;
    vt_start(&e, "server");
    uint32_t pin = (uint32_t)vt_vmread(&e, VTX_VMCS_PIN_CONTROLS), proc = (uint32_t)vt_vmread(&e, VTX_VMCS_PROC_CONTROLS);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        vt_vmwrite(&e, VTX_VMCS_PIN_CONTROLS, pin | ok[i].pin);
        vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS, proc | ok[i].proc);
        vt_expect_entry_passes(&e, ok[i].step);
    }
    vt_teardown(&e);
}

/* ======== APIC virtualization (ENT-CTL-6), kut 6.8 test_virtual_intr_ctls / test_posted_intr ======== */

Test(ctl_apic, apic_access_addr)
{
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    proc2(&e, VTX_PROC2_VIRT_APIC_ACCESSES);
    vt_vmwrite(&e, VTX_VMCS_APIC_ACCESS_ADDR, PG_APIC_ACCESS | 0x800);
    fails(&e, "APIC-access address not aligned", VTX_CHECK_CTL_APIC_ACCESS_ADDR);
    vt_vmwrite(&e, VTX_VMCS_APIC_ACCESS_ADDR, 1ull << 46);
    fails(&e, "APIC-access address beyond the width", VTX_CHECK_CTL_APIC_ACCESS_ADDR);
    vt_vmwrite(&e, VTX_VMCS_APIC_ACCESS_ADDR, PG_APIC_ACCESS);
    vt_expect_entry_passes(&e, "APIC-access address aligned");
    vt_teardown(&e);
}

Test(ctl_apic, apicv_requires_tpr_shadow_ent_ctl_6)
{
    VTX_COVERS("ENT-CTL-6");
    static const uint32_t bits[] = {VTX_PROC2_VIRT_X2APIC, VTX_PROC2_APIC_REG_VIRT, VTX_PROC2_VIRT_INTR_DELIVERY};
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    vt_vmwrite(&e, VTX_VMCS_VIRTUAL_APIC_ADDR, PG_VAPIC);
    for (size_t i = 0; i < 3; i++) {
        proc2(&e, bits[i]);
        fails(&e, "APIC virtualization without use TPR shadow", VTX_CHECK_CTL_APICV_WITHOUT_TPR_SHADOW);
    }
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_TPR_SHADOW);
    for (size_t i = 0; i < 3; i++) {
        proc2(&e, bits[i]);
        vt_expect_entry_passes(&e, "APIC virtualization with use TPR shadow");
    }
    vt_teardown(&e);
}

Test(ctl_apic, x2apic_excludes_apic_accesses)
{
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    tpr_shadow_on(&e);
    vt_vmwrite(&e, VTX_VMCS_APIC_ACCESS_ADDR, PG_APIC_ACCESS);
    proc2(&e, VTX_PROC2_VIRT_X2APIC | VTX_PROC2_VIRT_APIC_ACCESSES);
    fails(&e, "virtualize x2APIC mode with virtualize APIC accesses", VTX_CHECK_CTL_X2APIC_WITH_APIC_ACCESSES);
    proc2(&e, VTX_PROC2_VIRT_X2APIC);
    vt_expect_entry_passes(&e, "virtualize x2APIC mode alone");
    vt_teardown(&e);
}

/* kut test_virtual_intr_ctls */
Test(ctl_apic, vid_requires_ext_intr_exiting_ent_ctl_6)
{
    VTX_COVERS("ENT-CTL-6");
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    tpr_shadow_on(&e);
    proc2(&e, VTX_PROC2_VIRT_INTR_DELIVERY);
    fails(&e, "virtual-interrupt delivery without external-interrupt exiting",
          VTX_CHECK_CTL_VID_WITHOUT_EXT_INTR_EXITING);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    vt_expect_entry_passes(&e, "virtual-interrupt delivery with external-interrupt exiting");
    vt_teardown(&e);
}

/* kut test_posted_intr */
Test(ctl_apic, posted_interrupts_ent_ctl_6)
{
    VTX_COVERS("ENT-CTL-6");
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    tpr_shadow_on(&e);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING | VTX_PIN_POSTED_INTR);
    vt_vmwrite(&e, VTX_VMCS_POSTED_INTR_NV, 0xF2);
    vt_vmwrite(&e, VTX_VMCS_POSTED_INTR_DESC_ADDR, PG_PI_DESC);
    fails(&e, "posted interrupts without virtual-interrupt delivery", VTX_CHECK_CTL_POSTED_INTR_WITHOUT_VID);
    proc2(&e, VTX_PROC2_VIRT_INTR_DELIVERY);
    fails(&e, "posted interrupts without acknowledge interrupt on exit", VTX_CHECK_CTL_POSTED_INTR_WITHOUT_ACK);
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    vt_vmwrite(&e, VTX_VMCS_POSTED_INTR_NV, 0x100);
    fails(&e, "notification vector 0x100", VTX_CHECK_CTL_POSTED_INTR_VECTOR);
    vt_vmwrite(&e, VTX_VMCS_POSTED_INTR_NV, 0xFF);
    vt_vmwrite(&e, VTX_VMCS_POSTED_INTR_DESC_ADDR, PG_PI_DESC + 0x20);
    fails(&e, "descriptor 32-byte but not 64-byte aligned", VTX_CHECK_CTL_POSTED_INTR_DESC_ADDR);
    vt_vmwrite(&e, VTX_VMCS_POSTED_INTR_DESC_ADDR, 1ull << 46);
    fails(&e, "descriptor beyond the width", VTX_CHECK_CTL_POSTED_INTR_DESC_ADDR);
    vt_vmwrite(&e, VTX_VMCS_POSTED_INTR_DESC_ADDR, PG_PI_DESC + 0x40);
    vt_expect_entry_passes(&e, "notification vector 0xff, descriptor 64-byte aligned (not page aligned)");
    vt_teardown(&e);
}

/* ======== VPID, EPT, unrestricted guest, PML ======== */

Test(ctl_exec, vpid_nonzero)
{
    vt_env e;
    vt_start(&e, "server");
    proc2(&e, VTX_PROC2_ENABLE_VPID);
    vt_vmwrite(&e, VTX_VMCS_VPID, 0);
    fails(&e, "enable VPID with VPID 0", VTX_CHECK_CTL_VPID_ZERO);
    vt_vmwrite(&e, VTX_VMCS_VPID, 1);
    vt_expect_entry_passes(&e, "enable VPID with VPID 1");
    vt_teardown(&e);
}

Test(ctl_exec, eptp_valid)
{
    vt_env e;
    vt_start(&e, "server");
    proc2(&e, VTX_PROC2_ENABLE_EPT);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, (EPTP_OK & ~7ull) | 1);
    fails(&e, "EPTP memory type 1 (WC)", VTX_CHECK_CTL_EPTP_INVALID);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, (EPTP_OK & ~0x38ull) | (2 << 3));
    fails(&e, "EPTP 3-level walk", VTX_CHECK_CTL_EPTP_INVALID);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, EPTP_OK | (1ull << 6));
    fails(&e, "EPTP A/D flags without support", VTX_CHECK_CTL_EPTP_INVALID);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, EPTP_OK | (1ull << 46));
    fails(&e, "EPTP beyond the width", VTX_CHECK_CTL_EPTP_INVALID);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, EPTP_OK);
    vt_expect_entry_passes(&e, "EPTP WB, 4-level");
    vt_teardown(&e);
}

Test(ctl_exec, unrestricted_guest_requires_ept)
{
    vt_env e;
    vt_start(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, EPTP_OK);
    proc2(&e, VTX_PROC2_UNRESTRICTED_GUEST);
    fails(&e, "unrestricted guest without EPT", VTX_CHECK_CTL_UNRESTRICTED_WITHOUT_EPT);
    proc2(&e, VTX_PROC2_UNRESTRICTED_GUEST | VTX_PROC2_ENABLE_EPT);
    vt_expect_entry_passes(&e, "unrestricted guest with EPT");
    vt_teardown(&e);
}

Test(ctl_exec, pml)
{
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, EPTP_OK);
    vt_vmwrite(&e, VTX_VMCS_PML_ADDRESS, PG_PML);
    proc2(&e, VTX_PROC2_ENABLE_PML);
    fails(&e, "PML without EPT", VTX_CHECK_CTL_PML_WITHOUT_EPT);
    proc2(&e, VTX_PROC2_ENABLE_PML | VTX_PROC2_ENABLE_EPT);
    vt_vmwrite(&e, VTX_VMCS_PML_ADDRESS, PG_PML | 0x10);
    fails(&e, "PML address not aligned", VTX_CHECK_CTL_PML_ADDR);
    vt_vmwrite(&e, VTX_VMCS_PML_ADDRESS, PG_PML);
    vt_expect_entry_passes(&e, "PML with EPT and an aligned address");
    vt_teardown(&e);
}

/* ======== VM functions, VMCS shadowing, #VE ======== */

Test(ctl_exec, vm_functions)
{
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, EPTP_OK);
    vt_vmwrite(&e, VTX_VMCS_EPTP_LIST_ADDR, PG_EPTP_LIST);
    proc2(&e, VTX_PROC2_ENABLE_VMFUNC | VTX_PROC2_ENABLE_EPT);
    vt_vmwrite(&e, VTX_VMCS_VM_FUNCTION_CONTROLS, 2);
    fails(&e, "VM function 1 (IA32_VMX_VMFUNC allows only 0)", VTX_CHECK_CTL_VMFUNC_ALLOWED);
    vt_vmwrite(&e, VTX_VMCS_VM_FUNCTION_CONTROLS, 1);
    vt_vmwrite(&e, VTX_VMCS_EPTP_LIST_ADDR, PG_EPTP_LIST | 0x100);
    fails(&e, "EPTP-list address not aligned", VTX_CHECK_CTL_EPTP_LIST_ADDR);
    vt_vmwrite(&e, VTX_VMCS_EPTP_LIST_ADDR, PG_EPTP_LIST);
    proc2(&e, VTX_PROC2_ENABLE_VMFUNC);
    fails(&e, "EPTP switching without EPT", VTX_CHECK_CTL_EPTP_SWITCH_WITHOUT_EPT);
    proc2(&e, VTX_PROC2_ENABLE_VMFUNC | VTX_PROC2_ENABLE_EPT);
    vt_expect_entry_passes(&e, "EPTP switching with EPT");
    vt_teardown(&e);
}

Test(ctl_exec, vm_function_controls_ignored_when_disabled)
{
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    vt_vmwrite(&e, VTX_VMCS_VM_FUNCTION_CONTROLS, ~0ull);
    proc2(&e, 0);
    vt_expect_entry_passes(&e, "VM-function controls all ones, enable VM functions = 0");
    vt_teardown(&e);
}

Test(ctl_exec, vmcs_shadowing_bitmaps_ent_ctl_9)
{
    VTX_COVERS("ENT-CTL-9");
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    proc2(&e, VTX_PROC2_VMCS_SHADOWING);
    vt_vmwrite(&e, VTX_VMCS_VMREAD_BITMAP, PG_VMREAD | 1);
    vt_vmwrite(&e, VTX_VMCS_VMWRITE_BITMAP, PG_VMWRITE);
    fails(&e, "VMREAD bitmap not aligned", VTX_CHECK_CTL_VMCS_SHADOW_BITMAP_ADDR);
    vt_vmwrite(&e, VTX_VMCS_VMREAD_BITMAP, PG_VMREAD);
    vt_vmwrite(&e, VTX_VMCS_VMWRITE_BITMAP, ~0ull << 12);
    fails(&e, "VMWRITE bitmap beyond the width", VTX_CHECK_CTL_VMCS_SHADOW_BITMAP_ADDR);
    vt_vmwrite(&e, VTX_VMCS_VMWRITE_BITMAP, PG_VMWRITE);
    vt_expect_entry_passes(&e, "both bitmaps aligned");
    vt_teardown(&e);
}

Test(ctl_exec, ve_info_addr)
{
    vtx_profile p = apicv_profile();
    vt_env e;
    vt_start_with(&e, &p);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, EPTP_OK);
    proc2(&e, VTX_PROC2_EPT_VIOLATION_VE | VTX_PROC2_ENABLE_EPT);
    vt_vmwrite(&e, VTX_VMCS_VE_INFO_ADDR, PG_VE_INFO + 4);
    fails(&e, "#VE information address not aligned", VTX_CHECK_CTL_VE_INFO_ADDR);
    vt_vmwrite(&e, VTX_VMCS_VE_INFO_ADDR, PG_VE_INFO);
    vt_expect_entry_passes(&e, "#VE information address aligned");
    vt_teardown(&e);
}

/* ======== VM-exit controls ======== */

/* kut 6.8 test_vmx_preemption_timer */
Test(ctl_exit, save_timer_requires_timer_ent_ctl_4)
{
    VTX_COVERS("ENT-CTL-4");
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_SAVE_PREEMPTION_TIMER);
    fails(&e, "save VMX-preemption timer value without the timer", VTX_CHECK_CTL_SAVE_TIMER_WITHOUT_TIMER);
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    vt_expect_entry_passes(&e, "save VMX-preemption timer value with the timer");
    vt_teardown(&e);
}

/* DIFF-10 (VirtualBox #313): ENT-CTL-4 looks at exit-control bit 22, not primary
 * bit 22 (NMI-window exiting), so this valid VMCS must pass. */
Test(ctl_exit, nmi_window_is_not_save_timer_diff_10)
{
    VTX_COVERS("ENT-CTL-4");
    vt_env e;
    vt_start(&e, "server");
    vt_set_bits(&e, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    vt_expect_entry_passes(&e, "NMI-window exiting (primary bit 22) without the preemption timer");
    vt_teardown(&e);
}

/* The area checks: 16-byte aligned, first and last byte within the width. The
 * top page of the physical-address space is mapped so that the area that
 * passes exists if a later model reads it. */
static void msr_area_case(const char *profile, uint32_t count_enc, uint32_t addr_enc, vtx_check check,
                          unsigned width)
{
    static uint8_t top[4096] __attribute__((aligned(4096)));
    vt_env e;
    vt_start(&e, profile);
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_map(e.m, (1ull << width) - 4096, sizeof top, top, VTX_MEM_RWX, &d), VTX_OK, "%s",
                 d.message);
    vt_vmwrite(&e, addr_enc, 0x12345678); /* ignored while the count is 0 */
    vt_expect_entry_passes(&e, "count 0, unaligned address");
    vt_vmwrite(&e, count_enc, 1);
    fails(&e, "count 1, address not 16-byte aligned", check);
    vt_vmwrite(&e, addr_enc, 1ull << width);
    fails(&e, "count 1, address beyond the width", check);
    vt_vmwrite(&e, addr_enc, (1ull << width) - 16);
    vt_vmwrite(&e, count_enc, 2);
    fails(&e, "count 2, last byte beyond the width", check);
    vt_vmwrite(&e, count_enc, 1);
    vt_expect_entry_past_vmfail_checks(&e, "count 1, last byte is the last byte below the width");
    vt_teardown(&e);
}

Test(ctl_exit, exit_msr_store_area)
{
    msr_area_case("server", VTX_VMCS_EXIT_MSR_STORE_COUNT, VTX_VMCS_EXIT_MSR_STORE_ADDR,
                  VTX_CHECK_CTL_EXIT_MSR_STORE_ADDR, 46);
}

Test(ctl_exit, exit_msr_load_area)
{
    msr_area_case("core2", VTX_VMCS_EXIT_MSR_LOAD_COUNT, VTX_VMCS_EXIT_MSR_LOAD_ADDR,
                  VTX_CHECK_CTL_EXIT_MSR_LOAD_ADDR, 36);
}

/* ======== VM-entry controls ======== */

Test(ctl_entry, entry_msr_load_area)
{
    msr_area_case("teaching", VTX_VMCS_ENTRY_MSR_LOAD_COUNT, VTX_VMCS_ENTRY_MSR_LOAD_ADDR,
                  VTX_CHECK_CTL_ENTRY_MSR_LOAD_ADDR, 39);
}

/* ENT-CTL-7: the model is never in SMM. core2 and server allow both controls as 1-settings. */
Test(ctl_entry, smm_controls_outside_smm_ent_ctl_7)
{
    VTX_COVERS("ENT-CTL-7");
    static const char *const profiles[] = {"core2", "server"};
    for (size_t i = 0; i < 2; i++) {
        vt_env e;
        vt_start(&e, profiles[i]);
        vt_set_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_ENTRY_TO_SMM);
        fails(&e, "entry to SMM outside SMM", VTX_CHECK_CTL_ENTRY_TO_SMM);
        vt_set_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_DEACT_DUAL_MONITOR);
        fails(&e, "entry to SMM and deactivate dual-monitor treatment", VTX_CHECK_CTL_ENTRY_TO_SMM);
        vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_ENTRY_TO_SMM);
        fails(&e, "deactivate dual-monitor treatment outside SMM", VTX_CHECK_CTL_DEACT_DUAL_MONITOR);
        vt_clear_bits(&e, VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_DEACT_DUAL_MONITOR);
        vt_expect_entry_passes(&e, "both 0");
        vt_teardown(&e);
    }
}

/* ======== Event injection: INJ-CHK-1..6, kut 6.7 test_invalid_event_injection ======== */

#define VALID (1u << 31)
#define ERRC (1u << 11)
#define TYPE(t) ((uint32_t)(t) << 8)

static void inject(vt_env *e, uint32_t info, uint32_t error_code, uint32_t len)
{
    vt_vmwrite(e, VTX_VMCS_ENTRY_INTR_INFO, info);
    vt_vmwrite(e, VTX_VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
    vt_vmwrite(e, VTX_VMCS_ENTRY_INSTRUCTION_LEN, len);
}

static void start_inj(vt_env *e, const char *profile)
{
    vt_start(e, profile);
    vt_vmwrite(e, VTX_VMCS_GUEST_RFLAGS, 0x202); /* IF = 1, so an external interrupt may be injected (ENT-GS-1) */
}

/* kut: "RESERVED interruption type invalid [-]" / "[+]" */
Test(ctl_inject, type_reserved_inj_chk_1)
{
    VTX_COVERS("INJ-CHK-1");
    vt_env e;
    start_inj(&e, "server");
    inject(&e, VALID | TYPE(1) | 0, 0, 1);
    fails(&e, "interruption type 1", VTX_CHECK_CTL_INJ_TYPE_RESERVED);
    inject(&e, VALID | TYPE(0) | 0, 0, 1);
    vt_expect_entry_past_vmfail_checks(&e, "interruption type 0 (external interrupt)");
    vt_teardown(&e);
}

/* Type 7 (other event) exists only with "monitor trap flag" support. */
Test(ctl_inject, type_other_needs_mtf_inj_chk_1)
{
    vt_env e;
    start_inj(&e, "core2");
    inject(&e, VALID | TYPE(7) | 0, 0, 0);
    fails(&e, "core2: type 7 without MTF support", VTX_CHECK_CTL_INJ_TYPE_RESERVED);
    vt_teardown(&e);
    start_inj(&e, "server");
    inject(&e, VALID | TYPE(7) | 0, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "server: type 7 vector 0 (pending MTF)");
    vt_teardown(&e);
}

Test(ctl_inject, vector_consistent_with_type_inj_chk_2)
{
    VTX_COVERS("INJ-CHK-2");
    vt_env e;
    start_inj(&e, "server");
    inject(&e, VALID | TYPE(7) | 1, 0, 0);
    fails(&e, "other event with vector 1 (#DB)", VTX_CHECK_CTL_INJ_VECTOR);
    inject(&e, VALID | TYPE(2) | 0, 0, 0);
    fails(&e, "NMI with vector 0", VTX_CHECK_CTL_INJ_VECTOR);
    inject(&e, VALID | TYPE(3) | 0x20, 0, 0);
    fails(&e, "hardware exception 0x20", VTX_CHECK_CTL_INJ_VECTOR);
    inject(&e, VALID | TYPE(3) | 0x1F, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "hardware exception 31");
    inject(&e, VALID | TYPE(2) | 2, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "NMI with vector 2");
    vt_teardown(&e);
}

/* kut: "error code <-> (!URG || prot_mode)" without unrestricted guest: CR0.PE = 0
 * in the guest CR0 field still counts as protected mode. */
Test(ctl_inject, errcode_real_mode_without_urg_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    vt_env e;
    start_inj(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, vt_vmread(&e, VTX_VMCS_GUEST_CR0) & ~(uint64_t)(VTX_CR0_PE | VTX_CR0_PG));
    inject(&e, VALID | TYPE(3) | 13, 0, 0);
    fails(&e, "#GP without error code, CR0.PE = 0, no unrestricted guest", VTX_CHECK_CTL_INJ_ERRCODE_MISSING);
    inject(&e, VALID | ERRC | TYPE(3) | 13, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP with error code, CR0.PE = 0, no unrestricted guest");
    vt_teardown(&e);
}

/* kut: with unrestricted guest, CR0.PE decides. */
Test(ctl_inject, errcode_real_mode_with_urg_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    vt_env e;
    start_inj(&e, "server");
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, EPTP_OK);
    proc2(&e, VTX_PROC2_ENABLE_EPT | VTX_PROC2_UNRESTRICTED_GUEST);
    inject(&e, VALID | TYPE(3) | 13, 0, 0);
    fails(&e, "#GP without error code, unrestricted guest, CR0.PE = 1", VTX_CHECK_CTL_INJ_ERRCODE_MISSING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR0, vt_vmread(&e, VTX_VMCS_GUEST_CR0) & ~(uint64_t)(VTX_CR0_PE | VTX_CR0_PG));
    inject(&e, VALID | ERRC | TYPE(3) | 13, 0, 0);
    fails(&e, "#GP with error code into a real-mode guest", VTX_CHECK_CTL_INJ_ERRCODE_UNEXPECTED);
    inject(&e, VALID | TYPE(3) | 13, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP without error code into a real-mode guest");
    vt_teardown(&e);
}

/* kut: "error code <-> HW exception": deliver-error-code only with type 3. */
Test(ctl_inject, errcode_only_for_hw_exception_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    static const struct { unsigned type, vector, len; } ev[] = {
        {0, 13, 0}, {2, 2, 0}, {4, 0x80, 2}, {5, 1, 1}, {6, 3, 1}, {7, 0, 0},
    };
    vt_env e;
    start_inj(&e, "server");
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
        char step[64];
        snprintf(step, sizeof step, "type %u vector %u with deliver-error-code", ev[i].type, ev[i].vector);
        inject(&e, VALID | ERRC | TYPE(ev[i].type) | ev[i].vector, 0, ev[i].len);
        fails(&e, step, VTX_CHECK_CTL_INJ_ERRCODE_UNEXPECTED);
    }
    inject(&e, VALID | TYPE(4) | 0x80, 0, 2);
    vt_expect_entry_past_vmfail_checks(&e, "INT 80h without error code");
    vt_teardown(&e);
}

/* kut: "error code <-> vector delivers error code" for vectors 0..31. */
Test(ctl_inject, errcode_iff_vector_pushes_one_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    const uint32_t with_code = (1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 17);
    vt_env e;
    start_inj(&e, "server");
    for (unsigned v = 0; v < 32; v++) {
        bool has = (with_code >> v) & 1;
        char step[80];
        snprintf(step, sizeof step, "exception %u %s error code", v, has ? "without" : "with");
        inject(&e, VALID | (has ? 0 : ERRC) | TYPE(3) | v, 0, 0);
        fails(&e, step, has ? VTX_CHECK_CTL_INJ_ERRCODE_MISSING : VTX_CHECK_CTL_INJ_ERRCODE_UNEXPECTED);
        snprintf(step, sizeof step, "exception %u %s error code", v, has ? "with" : "without");
        inject(&e, VALID | (has ? ERRC : 0) | TYPE(3) | v, 0, 0);
        vt_expect_entry_past_vmfail_checks(&e, step);
    }
    vt_teardown(&e);
}

/* CFG-ERRCODE-RELAX (IA32_VMX_BASIC[56] = 1, kut no_hw_errcode_cc): a hardware
 * exception may come with or without an error code; other types still may not. */
Test(ctl_inject, errcode_relaxed_by_basic_56_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_BASIC] |= 1ull << 56;
    vt_env e;
    vt_start_with(&e, &p);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
    inject(&e, VALID | TYPE(3) | 13, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP without error code");
    inject(&e, VALID | ERRC | TYPE(3) | 6, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#UD with error code");
    inject(&e, VALID | ERRC | TYPE(0) | 0x20, 0, 0);
    fails(&e, "external interrupt with error code", VTX_CHECK_CTL_INJ_ERRCODE_UNEXPECTED);
    vt_teardown(&e);
}

/* #CP (21) pushes an error code on a processor with CET (not in the 2016 list). */
Test(ctl_inject, errcode_cp_with_cet_inj_chk_3)
{
    VTX_COVERS("INJ-CHK-3");
    vtx_profile p = vt_profile_copy("server");
    allow(&p, VTX_CAP_IA32_VMX_ENTRY_CTLS, VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS, VTX_ENTRY_LOAD_CET_STATE);
    vt_env e;
    vt_start_with(&e, &p);
    inject(&e, VALID | TYPE(3) | 21, 0, 0);
    fails(&e, "CET part: #CP without error code", VTX_CHECK_CTL_INJ_ERRCODE_MISSING);
    inject(&e, VALID | ERRC | TYPE(3) | 21, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "CET part: #CP with error code");
    vt_teardown(&e);
}

/* kut: "reserved bits clear", each of bits 30:12. */
Test(ctl_inject, reserved_bits_inj_chk_4)
{
    VTX_COVERS("INJ-CHK-4");
    vt_env e;
    start_inj(&e, "server");
    for (unsigned b = 12; b <= 30; b++) {
        char step[64];
        snprintf(step, sizeof step, "#GP injection with bit %u set", b);
        inject(&e, VALID | ERRC | TYPE(3) | 13 | (1u << b), 0, 0);
        fails(&e, step, VTX_CHECK_CTL_INJ_RESERVED_BITS);
    }
    inject(&e, VALID | ERRC | TYPE(3) | 13, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP injection, reserved bits clear");
    vt_teardown(&e);
}

/* kut: "VM-entry exception error code[31:16] clear"; DIFF-3: bit 15 is allowed
 * (KVM 567926cca99b: a #GP with error code 0x9f00 must enter). */
Test(ctl_inject, errcode_bits_31_16_inj_chk_5_diff_3)
{
    VTX_COVERS("INJ-CHK-5");
    vt_env e;
    start_inj(&e, "server");
    for (unsigned b = 16; b <= 31; b++) {
        char step[64];
        snprintf(step, sizeof step, "#GP error code 0x%x", 1u << b);
        inject(&e, VALID | ERRC | TYPE(3) | 13, 1u << b, 0);
        fails(&e, step, VTX_CHECK_CTL_INJ_ERRCODE_RESERVED);
    }
    inject(&e, VALID | ERRC | TYPE(3) | 13, 0x8000, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP error code 0x8000 (bit 15)");
    inject(&e, VALID | ERRC | TYPE(3) | 13, 0x9F00, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#GP error code 0x9f00");
    inject(&e, VALID | TYPE(3) | 6, 0xFFFF0000u, 0);
    vt_expect_entry_past_vmfail_checks(&e, "#UD without deliver-error-code: the error-code field is ignored");
    vt_teardown(&e);
}

/* kut: "VM-entry instruction-length check": -1 and 16 rejected for types 4, 5, 6. */
Test(ctl_inject, instruction_length_inj_chk_6)
{
    VTX_COVERS("INJ-CHK-6");
    static const struct { unsigned type, vector; } ev[] = {{4, 0x80}, {6, 3}, {5, 1}};
    vt_env e;
    start_inj(&e, "server");
    for (size_t i = 0; i < 3; i++) {
        char step[64];
        inject(&e, VALID | TYPE(ev[i].type) | ev[i].vector, 0, 0xFFFFFFFFu);
        snprintf(step, sizeof step, "type %u, length 0xffffffff", ev[i].type);
        fails(&e, step, VTX_CHECK_CTL_INJ_INSN_LEN);
        inject(&e, VALID | TYPE(ev[i].type) | ev[i].vector, 0, 16);
        snprintf(step, sizeof step, "type %u, length 16", ev[i].type);
        fails(&e, step, VTX_CHECK_CTL_INJ_INSN_LEN);
        inject(&e, VALID | TYPE(ev[i].type) | ev[i].vector, 0, 15);
        snprintf(step, sizeof step, "type %u, length 15", ev[i].type);
        vt_expect_entry_past_vmfail_checks(&e, step);
    }
    inject(&e, VALID | TYPE(3) | 6, 0, 16);
    vt_expect_entry_past_vmfail_checks(&e, "hardware exception: the length field is ignored");
    vt_teardown(&e);
}

/* CFG-ZERO-ILEN: length 0 only with IA32_VMX_MISC[30] = 1. */
Test(ctl_inject, zero_length_needs_misc_30_inj_chk_6)
{
    VTX_COVERS("INJ-CHK-6");
    vt_env e;
    start_inj(&e, "server");
    inject(&e, VALID | TYPE(6) | 3, 0, 0);
    fails(&e, "INT3 with length 0, IA32_VMX_MISC[30] = 0", VTX_CHECK_CTL_INJ_INSN_LEN_ZERO);
    vt_teardown(&e);
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_MISC] |= 1ull << 30;
    vt_start_with(&e, &p);
    inject(&e, VALID | TYPE(6) | 3, 0, 0);
    vt_expect_entry_past_vmfail_checks(&e, "INT3 with length 0, IA32_VMX_MISC[30] = 1");
    vt_teardown(&e);
}

Test(ctl_inject, invalid_field_ignored_without_valid_bit)
{
    vt_env e;
    vt_start(&e, "server");
    inject(&e, 0x7FFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu);
    vt_expect_entry_passes(&e, "valid bit 0, every other bit set");
    vt_teardown(&e);
}

/* The names, rule IDs and texts of the checks are part of the interface. */
Test(ctl_names, every_check_named)
{
    cr_assert_str_eq(vtx_check_name(VTX_CHECK_CTL_PIN_ALLOWED), "CTL_PIN_ALLOWED");
    cr_assert_str_eq(vtx_check_rule(VTX_CHECK_CTL_VNMI_WITHOUT_NMI_EXITING), "ENT-CTL-2");
    cr_assert_str_eq(vtx_check_rule(VTX_CHECK_CTL_INJ_ERRCODE_RESERVED), "INJ-CHK-5");
    for (int c = VTX_CHECK_CTL_PIN_ALLOWED; c <= VTX_CHECK_CTL_DEACT_DUAL_MONITOR; c++) {
        cr_assert_not_null(vtx_check_name((vtx_check)c));
        cr_assert_not_null(vtx_check_text((vtx_check)c));
    }
}
