/*
 * VM-entry checks on the guest RIP and RFLAGS (SDM Vol. 3 "Checks on Guest RIP,
 * RFLAGS, and SSP"; catalogue F.3 ENT-GS-1).
 *
 * Each test starts from the baseline VMCS (a 64-bit guest that passes every
 * check), breaks one thing, expects the VM-entry failure exit 33 | 0x80000000
 * with the right qualification and named check, then makes the small change
 * that flips the outcome and expects VM entry to pass (tests/entry_guest_fixture.h).
 */
#include "entry_guest_fixture.h"

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
