/*
 * VM-entry checks on the APIC VM-execution controls (SDM Vol. 3 "VM-Execution
 * Control Fields"; catalogue F.2 ENT-CTL-5, ENT-CTL-6): "use TPR shadow", the
 * TPR threshold, APIC-access page, virtual-interrupt delivery and posted
 * interrupts. Ports the kvm-unit-tests scenario (docs/kut.tsv) 6.8
 * (test_tpr_threshold, test_virtual_intr_ctls, test_posted_intr).
 *
 * Each test starts from the baseline VMCS (tests/baseline.c), breaks one
 * control, expects the named check (VMfailValid, error 7), then makes the
 * smallest change that flips the outcome (tests/entry_controls_fixture.h).
 *
 * "passes" = every VM-entry check passes; "past" = the control and host-state
 * checks pass (used where the test leaves the guest state to the guest-state
 * checks, e.g. a real-mode guest CR0 or an injected event).
 */
#include "entry_controls_fixture.h"

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
