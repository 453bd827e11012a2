/* vtx_setup_flat64: a valid starting VMCS on every profile, and clear errors. */
#include <string.h>
#include "helpers.h"

static vtx_flat64 layout(void)
{
    return (vtx_flat64){.rip = 0x10000, .rsp = 0x9000, .rflags = 0x202, .tables = 0x40000, .handlers = 0x11000};
}

static void valid_on(const char *profile)
{
    vt_env e;
    vt_setup(&e, profile);
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_flat64 g = layout();
    vtx_diag d = {0};
    cr_assert_eq(vtx_setup_flat64(e.m, &g, &d), VTX_OK, "%s: %s", profile, d.message);
    /* IW-1: with IF = 1 the interrupt-window exit comes before the first instruction,
     * which proves VM entry accepted every field. */
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS, vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_INTR_WINDOW_EXITING);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    char got[400];
    vtx_insn_result_format(&r, got, sizeof got);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_INTERRUPT_WINDOW,
              "%s: flat64 guest with IW exiting: expected exit 7, got %s", profile, got);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), g.rip);
    /* The identity map and the IDT are in memory where the layout says. */
    uint64_t pde0;
    vtx_machine_read_phys(e.m, g.tables + 0x2000, &pde0, 8, NULL);
    cr_assert_eq(pde0, 0x83, "first 2-MiB page: present, writable, large, at 0");
    uint64_t gate3[2];
    vtx_machine_read_phys(e.m, g.tables + 0x4000 + 3 * 16, gate3, 16, NULL);
    uint64_t target = (gate3[0] & 0xFFFF) | ((gate3[0] >> 32) & 0xFFFF0000ull) | (gate3[1] << 32);
    cr_assert_eq(target, g.handlers + 3 * 16, "gate 3 points at handlers + 48");
    vt_teardown(&e);
}

Test(guest_setup, valid_on_core2) { valid_on("core2"); }
Test(guest_setup, valid_on_server) { valid_on("server"); }
Test(guest_setup, valid_on_teaching) { valid_on("teaching"); }

Test(guest_setup, refuses_without_current_vmcs)
{
    vt_env e;
    vt_setup(&e, "server");
    vt_vmxon(&e);
    vtx_flat64 g = layout();
    vtx_diag d = {0};
    cr_assert_eq(vtx_setup_flat64(e.m, &g, &d), VTX_ERR_STATE);
    cr_assert(strstr(d.message, "current VMCS"), "message: %s", d.message);
    vt_teardown(&e);
}

Test(guest_setup, refuses_misaligned_and_unmapped_tables)
{
    vt_env e;
    vt_setup(&e, "server");
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_flat64 g = layout();
    vtx_diag d = {0};
    g.tables = 0x40010;
    cr_assert_eq(vtx_setup_flat64(e.m, &g, &d), VTX_ERR_INVALID_ARG);
    cr_assert(strstr(d.message, "aligned"), "message: %s", d.message);
    g.tables = VT_RAM_SIZE - 0x1000; /* the second page lies beyond the RAM */
    cr_assert_eq(vtx_setup_flat64(e.m, &g, &d), VTX_ERR_UNMAPPED);
    cr_assert(strstr(d.message, "not mapped"), "message: %s", d.message);
    vt_teardown(&e);
}
