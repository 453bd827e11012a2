/*
 * VM-entry checks on the VM-execution control fields other than the APIC ones
 * (SDM Vol. 3 "VM-Execution Control Fields"; catalogue F.2 ENT-CTL-2/3,
 * ENT-CTL-9): CR3-target count, I/O and MSR bitmaps, the NMI controls (kut 6.8
 * test_nmi_ctrls), VPID, EPT, unrestricted guest, PML, VM functions, VMCS
 * shadowing and #VE.
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
