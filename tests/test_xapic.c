/*
 * The platform's local xAPIC (platform/xapic.h, docs/platform.md): the
 * register page, TPR/CR8, PPR/APR, IRR/ISR with priority arbitration, EOI, the
 * ESR, self-IPIs (fixed and NMI), IPIs without a target on one CPU, the LVT
 * timer on the cycle clock, software disable and IA32_APIC_BASE (own rules
 * APIC-* in docs/rules-own.tsv).
 */
#include <criterion/criterion.h>
#include <string.h>
#include "covers.h"
#include "../platform/xapic.h"

#define ID 0x20u
#define LVR 0x30u
#define TPR 0x80u
#define APR 0x90u
#define PPR 0xA0u
#define EOI 0xB0u
#define LDR 0xD0u
#define DFR 0xE0u
#define SPIV 0xF0u
#define ISR0 0x100u
#define TMR0 0x180u
#define IRR0 0x200u
#define ESR 0x280u
#define ICR_LO 0x300u
#define ICR_HI 0x310u
#define LVTT 0x320u
#define LVT_THERMAL 0x330u
#define LVT_PERF 0x340u
#define LINT0 0x350u
#define LINT1 0x360u
#define LVT_ERR 0x370u
#define TMICT 0x380u
#define TMCCT 0x390u
#define TDCR 0x3E0u

#define MASKED 0x10000u
#define PERIODIC 0x20000u
#define SH_SELF (1u << 18)
#define SH_ALL (2u << 18)
#define SH_OTHERS (3u << 18)
#define DM_NMI (4u << 8)
#define DM_INIT (5u << 8)
#define DM_SIPI (6u << 8)
#define LEVEL_ASSERT (1u << 14)
#define TRIG_LEVEL (1u << 15)
#define LOGICAL (1u << 11)

static vtx_xapic x;

static uint32_t rd(uint64_t now, uint32_t off)
{
    uint32_t v = 0xDEADBEEF;
    vtx_status st = vtx_xapic_mmio_read(&x, now, off, &v);
    cr_assert_eq(st, VTX_OK, "read %#x: status %d (%s)", off, st, x.why);
    return v;
}

static void wr(uint64_t now, uint32_t off, uint32_t v)
{
    vtx_status st = vtx_xapic_mmio_write(&x, now, off, v);
    cr_assert_eq(st, VTX_OK, "write %#x = %#x: status %d (%s)", off, v, st, x.why);
}

/* The 256-bit register at @p base holds @p vector. */
static bool has(uint32_t base, unsigned vector) { return (rd(0, base + 0x10u * (vector / 32)) >> (vector % 32)) & 1u; }

/* ESR as software reads it: write, then read. */
static uint32_t esr(void)
{
    wr(0, ESR, 0);
    return rd(0, ESR);
}

/* APIC ID 2, software-enabled (SPIV 0x1FF) as kvm-unit-tests' enable_apic leaves it. */
static void enabled(void)
{
    cr_assert_eq(vtx_xapic_init(&x, 2), VTX_OK);
    wr(0, SPIV, 0x1FF);
}

TestSuite(xapic, .init = enabled);

Test(xapic, power_up_state)
{
    VTX_COVERS("APIC-RESET-1");
    cr_assert_eq(vtx_xapic_init(&x, 3), VTX_OK);
    cr_assert_eq(vtx_xapic_get_base(&x), 0xFEE00900u, "base 0xFEE00000 | EN | BSP");
    cr_assert_eq(rd(0, ID), 0x03000000u);
    cr_assert_eq(rd(0, LVR), 0x00050014u, "version 0x14, max LVT entry 5");
    cr_assert_eq(rd(0, TPR), 0);
    cr_assert_eq(rd(0, PPR), 0);
    cr_assert_eq(rd(0, LDR), 0);
    cr_assert_eq(rd(0, DFR), 0xFFFFFFFFu);
    cr_assert_eq(rd(0, SPIV), 0xFFu);
    for (uint32_t off = LVTT; off <= LVT_ERR; off += 0x10)
        cr_assert_eq(rd(0, off), MASKED, "LVT %#x masked at reset", off);
    cr_assert_eq(rd(0, TMICT), 0);
    cr_assert_eq(rd(0, TMCCT), 0);
    cr_assert_eq(rd(0, TDCR), 0);
    cr_assert_eq(rd(0, ICR_LO), 0);
    cr_assert_eq(rd(0, ICR_HI), 0);
    for (uint32_t i = 0; i < 8; i++) {
        cr_assert_eq(rd(0, ISR0 + 0x10 * i), 0);
        cr_assert_eq(rd(0, TMR0 + 0x10 * i), 0);
        cr_assert_eq(rd(0, IRR0 + 0x10 * i), 0);
    }
    cr_assert_eq(esr(), 0);
    cr_assert_eq(vtx_xapic_pending(&x, 0), -1);
    cr_assert_eq(vtx_xapic_next_deadline(&x), UINT64_MAX);
}

Test(xapic, writable_bits_of_each_register)
{
    VTX_COVERS("APIC-REG-1", "APIC-LVT-1");
    static const struct { uint32_t off, after_ones, after_zero; } rows[] = {
        {ID, 0xFF000000u, 0},         {TPR, 0xFFu, 0},
        {LDR, 0xFF000000u, 0},        {DFR, 0xFFFFFFFFu, 0x0FFFFFFFu},
        {SPIV, 0x1FFu, 0}, /* bit 9 (focus checking) is reserved since the Pentium 4 */ {ICR_HI, 0xFF000000u, 0},
        {ICR_LO, 0x000CCFFFu, 0}, /* all ones: reserved mode 111b to all excluding self, no target */
        {LVTT, 0x300FFu, 0},          {LVT_THERMAL, 0x107FFu, 0},
        {LVT_PERF, 0x107FFu, 0},      {LINT0, 0x1A7FFu, 0},
        {LINT1, 0x1A7FFu, 0},         {LVT_ERR, 0x100FFu, 0},
        {TDCR, 0xBu, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        enabled();
        wr(0, rows[i].off, 0xFFFFFFFFu);
        cr_assert_eq(rd(0, rows[i].off), rows[i].after_ones, "%#x after writing ones", rows[i].off);
        wr(0, rows[i].off, 0);
        cr_assert_eq(rd(0, rows[i].off), rows[i].after_zero, "%#x after writing zero", rows[i].off);
    }
    /* Read-only registers keep their values. */
    wr(0, LVR, 0);
    cr_assert_eq(rd(0, LVR), 0x00050014u);
    wr(0, PPR, 0xFF);
    cr_assert_eq(rd(0, PPR), 0);
    wr(0, IRR0 + 0x70, 0xFFFFFFFFu);
    cr_assert_eq(rd(0, IRR0 + 0x70), 0);
    wr(0, TMCCT, 55);
    cr_assert_eq(rd(0, TMCCT), 0);
    /* EOI is write-only: it reads 0. */
    cr_assert_eq(rd(0, EOI), 0);
    /* None of these is a reserved register. */
    cr_assert_eq(esr(), 0);
}

Test(xapic, lvt_timer_has_no_tsc_deadline_mode)
{
    VTX_COVERS("APIC-LVT-1");
    wr(0, LVTT, (2u << 17) | 0xEF); /* TSC-deadline mode: bit 18 is reserved without TSC-deadline */
    cr_assert_eq(rd(0, LVTT), 0xEFu);
    wr(0, LVTT, PERIODIC | 0xEF);
    cr_assert_eq(rd(0, LVTT), PERIODIC | 0xEFu);
}

Test(xapic, reserved_register_reads_zero_and_sets_esr_bit_7)
{
    VTX_COVERS("APIC-REG-1", "APIC-ESR-1");
    cr_assert_eq(rd(0, 0x40), 0);
    cr_assert_eq(rd(0, ESR), 0, "the error shows only after an ESR write");
    wr(0, ESR, 0);
    cr_assert_eq(rd(0, ESR), 0x80u, "illegal register address");
    cr_assert_eq(esr(), 0, "the next write clears it");
    wr(0, 0x3F0, 1);
    cr_assert_eq(esr(), 0x80u);
    cr_assert_eq(rd(0, 0x2F0), 0, "no CMCI: LVT CMCI is a reserved register");
    cr_assert_eq(esr(), 0x80u);
    cr_assert_eq(rd(0, 0xC0), 0, "RRD reads 0");
    cr_assert_eq(esr(), 0, "RRD is not reserved");
}

Test(xapic, unmodelled_accesses_return_a_status)
{
    VTX_COVERS("APIC-REG-1");
    uint32_t v;
    cr_assert_eq(vtx_xapic_mmio_read(&x, 0, 0x24, &v), VTX_ERR_UNSUPPORTED);
    cr_assert(strstr(x.why, "0x24") && strstr(x.why, "aligned"), "why: %s", x.why);
    cr_assert_eq(vtx_xapic_mmio_write(&x, 0, 0x84, 1), VTX_ERR_UNSUPPORTED);
    cr_assert_eq(rd(0, TPR), 0, "the unaligned write changed nothing");
    cr_assert_eq(vtx_xapic_mmio_read(&x, 0, 0x1000, &v), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_xapic_mmio_read(NULL, 0, 0x20, &v), VTX_ERR_INVALID_ARG);
    rd(0, TPR);
    cr_assert_str_eq(x.why, "", "a success clears why");
}

Test(xapic, tpr_and_cr8)
{
    VTX_COVERS("APIC-TPR-1");
    wr(0, TPR, 0x5A);
    cr_assert_eq(vtx_xapic_get_cr8(&x), 5);
    cr_assert_eq(vtx_xapic_set_cr8(&x, 9), VTX_OK);
    cr_assert_eq(rd(0, TPR), 0x90u, "CR8 writes TPR[7:4] and clears TPR[3:0]");
    cr_assert_eq(vtx_xapic_set_cr8(&x, 16), VTX_ERR_INVALID_ARG, "CR8 bits 63:4 are reserved");
    cr_assert_eq(rd(0, TPR), 0x90u);
    cr_assert_eq(vtx_xapic_set_cr8(&x, 0), VTX_OK);
    cr_assert_eq(rd(0, TPR), 0);
}

Test(xapic, ppr_is_the_higher_of_tpr_and_isr)
{
    VTX_COVERS("APIC-PPR-1");
    wr(0, TPR, 0x3F);
    cr_assert_eq(rd(0, PPR), 0x3Fu, "empty ISR: PPR = TPR, sub-class included");
    vtx_xapic_raise(&x, 0, 0x61);
    cr_assert_eq(vtx_xapic_ack(&x, 0, 0x61), VTX_OK);
    cr_assert_eq(rd(0, PPR), 0x60u, "ISRV class 6 above TPR class 3: ISRV[7:4]:0");
    wr(0, TPR, 0x65);
    cr_assert_eq(rd(0, PPR), 0x65u, "TPR class = ISRV class: TPR");
    wr(0, TPR, 0x7A);
    cr_assert_eq(rd(0, PPR), 0x7Au);
    cr_assert_eq(vtx_xapic_ppr(&x), 0x7Au);
}

Test(xapic, apr_from_tpr_irr_and_isr)
{
    VTX_COVERS("APIC-PPR-1");
    wr(0, TPR, 0x62);
    vtx_xapic_raise(&x, 0, 0x51);
    cr_assert_eq(rd(0, APR), 0x62u, "TPR class >= IRRV's and > ISRV's: APR = TPR");
    wr(0, TPR, 0x22);
    cr_assert_eq(rd(0, APR), 0x50u, "else max(TPR & ISRV class, IRRV class)");
}

Test(xapic, priority_arbitration_with_tpr_and_isr)
{
    VTX_COVERS("APIC-IRR-1", "APIC-EOI-1", "APIC-PPR-1");
    vtx_xapic_raise(&x, 0, 0x31);
    vtx_xapic_raise(&x, 0, 0x82);
    vtx_xapic_raise(&x, 0, 0x45);
    cr_assert(has(IRR0, 0x31) && has(IRR0, 0x82) && has(IRR0, 0x45));
    cr_assert_eq(vtx_xapic_pending(&x, 0), 0x82, "the highest vector");
    wr(0, TPR, 0x80);
    cr_assert_eq(vtx_xapic_pending(&x, 0), -1, "class 8 is not above PPR class 8");
    wr(0, TPR, 0x7F);
    cr_assert_eq(vtx_xapic_pending(&x, 0), 0x82);
    wr(0, TPR, 0);
    cr_assert_eq(vtx_xapic_ack(&x, 0, 0x82), VTX_OK);
    cr_assert(has(ISR0, 0x82) && !has(IRR0, 0x82), "INTA: IRR -> ISR");
    cr_assert_eq(vtx_xapic_pending(&x, 0), -1, "0x45 (class 4) waits for the in-service 0x82 (class 8)");
    vtx_xapic_raise(&x, 0, 0x90);
    cr_assert_eq(vtx_xapic_pending(&x, 0), 0x90, "a higher class nests");
    cr_assert_eq(vtx_xapic_ack(&x, 0, 0x90), VTX_OK);
    wr(0, EOI, 0);
    cr_assert(!has(ISR0, 0x90) && has(ISR0, 0x82), "EOI ends the highest in-service vector only");
    cr_assert_eq(vtx_xapic_pending(&x, 0), -1);
    wr(0, EOI, 0);
    cr_assert(!has(ISR0, 0x82));
    cr_assert_eq(vtx_xapic_pending(&x, 0), 0x45, "after EOI the lower vector is taken");
    cr_assert_eq(vtx_xapic_ack(&x, 0, 0x45), VTX_OK);
    cr_assert_eq(vtx_xapic_pending(&x, 0), -1, "0x31 (class 3) is below the in-service 0x45");
    wr(0, EOI, 0);
    cr_assert_eq(vtx_xapic_pending(&x, 0), 0x31);
}

Test(xapic, same_class_waits_for_eoi)
{
    VTX_COVERS("APIC-IRR-1", "APIC-EOI-1");
    vtx_xapic_raise(&x, 0, 0x41);
    cr_assert_eq(vtx_xapic_ack(&x, 0, 0x41), VTX_OK);
    vtx_xapic_raise(&x, 0, 0x4F);
    cr_assert_eq(vtx_xapic_pending(&x, 0), -1, "0x4F is in the class of the in-service 0x41");
    wr(0, EOI, 0);
    cr_assert_eq(vtx_xapic_pending(&x, 0), 0x4F);
}

Test(xapic, ack_of_a_vector_not_requested)
{
    VTX_COVERS("APIC-IRR-1");
    cr_assert_eq(vtx_xapic_ack(&x, 0, 0x50), VTX_ERR_STATE);
    cr_assert(!has(ISR0, 0x50));
    wr(0, EOI, 0); /* nothing in service: no effect */
    cr_assert_eq(rd(0, ISR0 + 0x20), 0);
}

Test(xapic, self_ipi_fixed_by_shorthand_own_id_and_broadcast)
{
    VTX_COVERS("APIC-ICR-1", "APIC-IRR-1");
    wr(0, ICR_LO, SH_SELF | LEVEL_ASSERT | (1u << 12) | 0xF1); /* kvm-unit-tests' pending-event test */
    cr_assert(has(IRR0, 0xF1));
    cr_assert_eq(rd(0, ICR_LO) & (1u << 12), 0, "delivery status: idle (read-only)");
    cr_assert_eq(rd(0, ICR_LO), SH_SELF | LEVEL_ASSERT | 0xF1u);
    cr_assert_eq(vtx_xapic_pending(&x, 0), 0xF1);
    wr(0, ICR_HI, 2u << 24);
    wr(0, ICR_LO, 0xE2); /* physical, own ID */
    cr_assert(has(IRR0, 0xE2));
    wr(0, ICR_HI, 0xFFu << 24);
    wr(0, ICR_LO, 0xD3); /* physical broadcast */
    cr_assert(has(IRR0, 0xD3));
    wr(0, ICR_LO, SH_ALL | 0xC4); /* all including self */
    cr_assert(has(IRR0, 0xC4));
    cr_assert_eq(rd(0, TMR0 + 0x70), 0, "edge-triggered: TMR clear");
    cr_assert_eq(esr(), 0);
}

Test(xapic, self_nmi_by_own_id_and_shorthand)
{
    VTX_COVERS("APIC-ICR-1", "APIC-NMI-1");
    cr_assert_not(vtx_xapic_take_nmi(&x, 0));
    wr(0, ICR_HI, 2u << 24);
    wr(0, ICR_LO, DM_NMI | LEVEL_ASSERT); /* kvm-unit-tests' apic_icr_write(APIC_DM_NMI | APIC_INT_ASSERT, id) */
    cr_assert(vtx_xapic_take_nmi(&x, 0));
    cr_assert_not(vtx_xapic_take_nmi(&x, 0), "taken once");
    wr(0, ICR_LO, SH_SELF | DM_NMI | 0x33);
    wr(0, ICR_LO, SH_SELF | DM_NMI);
    cr_assert(vtx_xapic_take_nmi(&x, 0));
    cr_assert_not(vtx_xapic_take_nmi(&x, 0), "two NMIs before the core takes one merge");
    cr_assert_eq(vtx_xapic_pending(&x, 0), -1, "an NMI bypasses IRR");
    cr_assert_eq(rd(0, IRR0 + 0x10), 0, "vector 0x33 was not requested");
}

Test(xapic, ipis_without_a_target_on_one_cpu)
{
    VTX_COVERS("APIC-ICR-2");
    /* kvm-unit-tests' bringup_aps: INIT, then SIPI vector 0, to all excluding self. */
    wr(0, ICR_LO, SH_OTHERS | DM_INIT | LEVEL_ASSERT);
    wr(0, ICR_LO, SH_OTHERS | DM_SIPI);
    cr_assert_eq(rd(0, ICR_LO) & (1u << 12), 0, "delivery status: idle");
    wr(0, ICR_LO, SH_OTHERS | 0x70);
    wr(0, ICR_LO, SH_OTHERS | DM_NMI);
    wr(0, ICR_HI, 5u << 24);
    wr(0, ICR_LO, 0x71); /* another physical ID */
    wr(0, ICR_LO, DM_NMI);
    cr_assert_eq(rd(0, IRR0 + 0x60), 0);
    cr_assert_not(vtx_xapic_take_nmi(&x, 0));
    cr_assert_eq(esr(), 0);
    /* A SIPI to this running CPU is ignored; INIT to it is not modelled, named. */
    wr(0, ICR_HI, 2u << 24);
    wr(0, ICR_LO, DM_SIPI | 0x10);
    cr_assert_eq(vtx_xapic_mmio_write(&x, 0, ICR_LO, DM_INIT | LEVEL_ASSERT), VTX_ERR_UNSUPPORTED);
    cr_assert(strstr(x.why, "INIT"), "why: %s", x.why);
    cr_assert_eq(vtx_xapic_mmio_write(&x, 0, ICR_LO, DM_INIT | TRIG_LEVEL), VTX_ERR_UNSUPPORTED,
                 "no INIT level de-assert on this xAPIC: the level bit is always issued as 1");
    cr_assert_eq(vtx_xapic_mmio_write(&x, 0, ICR_LO, 2u << 8), VTX_ERR_UNSUPPORTED, "SMI to self");
    cr_assert(strstr(x.why, "SMI"), "why: %s", x.why);
    cr_assert_eq(vtx_xapic_mmio_write(&x, 0, ICR_LO, SH_ALL | DM_NMI), VTX_ERR_UNSUPPORTED,
                 "NMI to all including self: invalid in the SDM's ICR table");
    cr_assert_not(vtx_xapic_take_nmi(&x, 0));
}

Test(xapic, logical_destinations)
{
    VTX_COVERS("APIC-ICR-1", "APIC-ICR-2");
    wr(0, LDR, 0x24u << 24);
    wr(0, ICR_HI, 0x04u << 24);
    wr(0, ICR_LO, LOGICAL | 0x81); /* flat: bit 2 is this APIC's */
    cr_assert(has(IRR0, 0x81));
    wr(0, ICR_HI, 0x08u << 24);
    wr(0, ICR_LO, LOGICAL | 0x82);
    cr_assert_not(has(IRR0, 0x82));
    wr(0, DFR, 0); /* cluster: cluster 2, member bit 2 */
    wr(0, ICR_HI, 0x24u << 24);
    wr(0, ICR_LO, LOGICAL | 0x83);
    cr_assert(has(IRR0, 0x83));
    wr(0, ICR_HI, 0x14u << 24);
    wr(0, ICR_LO, LOGICAL | 0x84);
    cr_assert_not(has(IRR0, 0x84), "another cluster");
    wr(0, DFR, 0x50000000u);
    cr_assert_eq(vtx_xapic_mmio_write(&x, 0, ICR_LO, LOGICAL | 0x85), VTX_ERR_UNSUPPORTED);
    cr_assert(strstr(x.why, "DFR"), "why: %s", x.why);
}

Test(xapic, written_id_is_the_physical_destination)
{
    VTX_COVERS("APIC-ICR-1", "APIC-REG-1");
    wr(0, ID, 7u << 24);
    wr(0, ICR_HI, 2u << 24);
    wr(0, ICR_LO, 0x61);
    cr_assert_not(has(IRR0, 0x61), "the old ID");
    wr(0, ICR_HI, 7u << 24);
    wr(0, ICR_LO, 0x62);
    cr_assert(has(IRR0, 0x62));
}

Test(xapic, level_and_trigger_bits_are_ignored)
{
    VTX_COVERS("APIC-ICR-1");
    /* The Pentium 4 and later xAPIC issues every IPI edge-triggered and asserted. */
    wr(0, ICR_LO, SH_SELF | TRIG_LEVEL | 0x91);
    cr_assert(has(IRR0, 0x91), "level 0: still sent");
    wr(0, ICR_LO, SH_SELF | TRIG_LEVEL | LEVEL_ASSERT | 0x92);
    cr_assert(has(IRR0, 0x92));
    wr(0, ICR_LO, SH_SELF | 0x93);
    cr_assert(has(IRR0, 0x93), "level 0, edge");
    cr_assert_eq(rd(0, TMR0 + 0x40), 0, "edge: TMR clear");
    cr_assert_eq(rd(0, ICR_LO), SH_SELF | 0x93u);
    wr(0, ICR_HI, 2u << 24);
    wr(0, ICR_LO, TRIG_LEVEL | DM_NMI);
    cr_assert(vtx_xapic_take_nmi(&x, 0));
}

Test(xapic, illegal_vectors_set_esr)
{
    VTX_COVERS("APIC-ESR-1");
    wr(0, ICR_LO, SH_SELF | 0x05);
    cr_assert_eq(rd(0, IRR0), 0);
    cr_assert_eq(esr(), 0x20u, "send illegal vector");
    cr_assert_eq(vtx_xapic_raise(&x, 0, 0x0F), VTX_OK);
    cr_assert_eq(rd(0, IRR0), 0);
    cr_assert_eq(esr(), 0x40u, "receive illegal vector");
    cr_assert_eq(esr(), 0);
}

Test(xapic, error_lvt_raises_its_vector)
{
    VTX_COVERS("APIC-ESR-1", "APIC-LVT-1");
    rd(0, 0x50); /* masked error LVT: recorded only */
    cr_assert_eq(rd(0, IRR0 + 0x70), 0);
    wr(0, LVT_ERR, 0xFE);
    rd(0, 0x50);
    cr_assert(has(IRR0, 0xFE));
    cr_assert_eq(esr(), 0x80u);
}

Test(xapic, software_disable)
{
    VTX_COVERS("APIC-SPIV-1");
    wr(0, LVTT, 0xDE);
    wr(0, LVT_ERR, 0xFE);
    vtx_xapic_raise(&x, 0, 0x55);
    wr(0, SPIV, 0xFF);
    for (uint32_t off = LVTT; off <= LVT_ERR; off += 0x10)
        cr_assert(rd(0, off) & MASKED, "LVT %#x masked by software disable", off);
    wr(0, LVTT, 0xDE);
    cr_assert_eq(rd(0, LVTT), MASKED | 0xDEu, "the mask cannot be cleared");
    cr_assert(has(IRR0, 0x55), "a requested interrupt is held");
    cr_assert_eq(vtx_xapic_pending(&x, 0), 0x55);
    wr(0, ICR_LO, SH_SELF | 0x66);
    cr_assert_not(has(IRR0, 0x66), "fixed interrupts are not accepted");
    wr(0, ICR_LO, SH_SELF | DM_NMI);
    cr_assert(vtx_xapic_take_nmi(&x, 0), "NMIs are");
    wr(0, SPIV, 0x1FF);
    cr_assert_eq(rd(0, LVTT), MASKED | 0xDEu, "enabling again leaves the masks set");
    wr(0, LVTT, 0xDE);
    cr_assert_eq(rd(0, LVTT), 0xDEu);
}

Test(xapic, timer_one_shot_counts_on_the_clock)
{
    VTX_COVERS("APIC-TMR-1");
    wr(1000, LVTT, 0xDE); /* TDCR 0: divide by 2 */
    wr(1000, TMICT, 100);
    cr_assert_eq(vtx_xapic_next_deadline(&x), 1200u);
    cr_assert_eq(rd(1000, TMCCT), 100);
    cr_assert_eq(rd(1001, TMCCT), 100);
    cr_assert_eq(rd(1002, TMCCT), 99);
    cr_assert_eq(rd(1101, TMCCT), 50);
    cr_assert_eq(rd(1199, TMCCT), 1);
    cr_assert_eq(vtx_xapic_pending(&x, 1199), -1);
    cr_assert_not(has(IRR0, 0xDE));
    cr_assert_eq(vtx_xapic_pending(&x, 1200), 0xDE, "expired at 1000 + 100 * 2");
    cr_assert_eq(rd(1200, TMCCT), 0);
    cr_assert_eq(vtx_xapic_next_deadline(&x), UINT64_MAX);
    cr_assert_eq(vtx_xapic_ack(&x, 1201, 0xDE), VTX_OK);
    wr(1202, EOI, 0);
    cr_assert_eq(vtx_xapic_pending(&x, 100000), -1, "one-shot: once");
    cr_assert_eq(rd(100000, TMCCT), 0);
    cr_assert_eq(rd(100000, TMICT), 100);
}

Test(xapic, timer_periodic_reloads)
{
    VTX_COVERS("APIC-TMR-2");
    wr(0, TDCR, 0xB); /* divide by 1 */
    wr(0, LVTT, PERIODIC | 0xD0);
    wr(0, TMICT, 10);
    cr_assert_eq(vtx_xapic_next_deadline(&x), 10u);
    cr_assert_eq(vtx_xapic_pending(&x, 9), -1);
    cr_assert_eq(vtx_xapic_pending(&x, 10), 0xD0);
    cr_assert_eq(rd(10, TMCCT), 10, "reloaded");
    cr_assert_eq(vtx_xapic_next_deadline(&x), 20u);
    cr_assert_eq(vtx_xapic_ack(&x, 11, 0xD0), VTX_OK);
    wr(12, EOI, 0);
    cr_assert_eq(rd(15, TMCCT), 5);
    cr_assert_eq(vtx_xapic_pending(&x, 19), -1);
    cr_assert_eq(vtx_xapic_pending(&x, 20), 0xD0, "again one period later");
    cr_assert_eq(vtx_xapic_ack(&x, 20, 0xD0), VTX_OK);
    wr(20, EOI, 0);
    /* Several periods without a look: one request (one IRR bit), the phase kept. */
    cr_assert_eq(vtx_xapic_pending(&x, 55), 0xD0);
    cr_assert_eq(rd(55, TMCCT), 5);
    cr_assert_eq(vtx_xapic_next_deadline(&x), 60u);
    /* Back to one-shot: the next expiry is the last. */
    wr(56, LVTT, 0xD0);
    cr_assert_eq(vtx_xapic_ack(&x, 56, 0xD0), VTX_OK);
    wr(56, EOI, 0);
    cr_assert_eq(vtx_xapic_pending(&x, 60), 0xD0);
    cr_assert_eq(rd(61, TMCCT), 0);
    cr_assert_eq(vtx_xapic_next_deadline(&x), UINT64_MAX);
}

Test(xapic, timer_divide_values)
{
    VTX_COVERS("APIC-TMR-3");
    static const struct { uint32_t tdcr, divide; } rows[] = {
        {0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        enabled();
        wr(0, LVTT, 0xDE);
        wr(0, TDCR, rows[i].tdcr);
        wr(500, TMICT, 7);
        cr_assert_eq(vtx_xapic_next_deadline(&x), 500u + 7u * rows[i].divide, "TDCR %#x", rows[i].tdcr);
        cr_assert_eq(rd(500 + rows[i].divide, TMCCT), 6, "TDCR %#x: one tick per %u cycles", rows[i].tdcr,
                     rows[i].divide);
        cr_assert_eq(vtx_xapic_pending(&x, 500 + 7 * rows[i].divide - 1), -1);
        cr_assert_eq(vtx_xapic_pending(&x, 500 + 7 * rows[i].divide), 0xDE);
    }
}

Test(xapic, timer_divide_change_while_counting)
{
    VTX_COVERS("APIC-TMR-3");
    wr(0, LVTT, 0xDE);
    wr(0, TMICT, 100); /* divide by 2: 0 at 200 */
    cr_assert_eq(rd(50, TMCCT), 75);
    wr(50, TDCR, 0xB); /* divide by 1 from here */
    cr_assert_eq(rd(50, TMCCT), 75);
    cr_assert_eq(rd(60, TMCCT), 65);
    cr_assert_eq(vtx_xapic_next_deadline(&x), 125u);
    cr_assert_eq(vtx_xapic_pending(&x, 125), 0xDE);
}

Test(xapic, tmict_zero_stops_the_timer)
{
    VTX_COVERS("APIC-TMR-4");
    wr(0, LVTT, PERIODIC | 0xDE);
    wr(0, TMICT, 1000);
    cr_assert_eq(rd(100, TMCCT), 950);
    wr(100, TMICT, 0);
    cr_assert_eq(rd(100, TMCCT), 0);
    cr_assert_eq(vtx_xapic_next_deadline(&x), UINT64_MAX);
    cr_assert_eq(vtx_xapic_pending(&x, 1000000), -1);
    /* kvm-unit-tests' "interrupt": TMICT = 1 fires after one tick. */
    wr(2000000, LVTT, 0xDE);
    wr(2000000, TMICT, 1);
    cr_assert_eq(vtx_xapic_pending(&x, 2000001), -1);
    cr_assert_eq(vtx_xapic_pending(&x, 2000002), 0xDE);
}

Test(xapic, masked_timer_counts_without_interrupt)
{
    VTX_COVERS("APIC-TMR-4", "APIC-LVT-1");
    wr(0, LVTT, MASKED | PERIODIC | 0xDE);
    wr(0, TMICT, 10);
    cr_assert_eq(vtx_xapic_next_deadline(&x), UINT64_MAX, "a masked expiry makes nothing pending");
    cr_assert_eq(rd(6, TMCCT), 7);
    cr_assert_eq(vtx_xapic_pending(&x, 25), -1);
    cr_assert_not(has(IRR0, 0xDE));
    cr_assert_eq(rd(26, TMCCT), 7, "still counting, periodic");
    wr(26, LVTT, PERIODIC | 0xDE);
    cr_assert_eq(vtx_xapic_next_deadline(&x), 40u);
    cr_assert_eq(vtx_xapic_pending(&x, 40), 0xDE);
}

Test(xapic, apic_base_reserved_bits)
{
    VTX_COVERS("APIC-BASE-1");
    static const uint64_t bad[] = {
        0xFEE00900ull | 1, 0xFEE00900ull | 0x80, 0xFEE00900ull | (1ull << 9),
        0xFEE00900ull | (1ull << 10) /* EXTD: no x2APIC */, 0xFEE00900ull | (1ull << 36) /* MAXPHYADDR 36 */,
        0xFEE00400ull, /* EXTD without EN */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(vtx_xapic_set_base(&x, 0, bad[i]), VTX_ERR_INVALID_ARG, "%#llx", (unsigned long long)bad[i]);
        cr_assert_eq(vtx_xapic_get_base(&x), 0xFEE00900u);
        cr_assert(x.why[0], "why is named");
    }
    cr_assert(strstr(x.why, "reserved"), "why: %s", x.why);
    cr_assert_eq(vtx_xapic_set_maxphyaddr(&x, 31), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_xapic_set_maxphyaddr(&x, 53), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_xapic_set_maxphyaddr(&x, 39), VTX_OK);
    cr_assert_eq(vtx_xapic_set_base(&x, 0, 0xFEE00900ull | (1ull << 36)), VTX_OK);
    cr_assert_eq(vtx_xapic_get_base(&x), 0x10FEE00900ull);
    cr_assert_eq(vtx_xapic_set_base(&x, 0, 0xFED00800ull), VTX_OK, "base and BSP are read/write");
    cr_assert_eq(vtx_xapic_get_base(&x), 0xFED00800ull);
    cr_assert_eq(rd(0, SPIV), 0x1FFu, "moving the page keeps the state");
}

Test(xapic, disable_then_enable_resets)
{
    VTX_COVERS("APIC-BASE-1", "APIC-RESET-1");
    wr(0, ID, 9u << 24);
    wr(0, TPR, 0x40);
    wr(0, LVTT, PERIODIC | 0xDE);
    wr(0, TDCR, 3);
    wr(0, TMICT, 100);
    wr(0, LDR, 1u << 24);
    vtx_xapic_raise(&x, 0, 0x77);
    cr_assert_eq(vtx_xapic_ack(&x, 0, 0x77), VTX_OK);
    vtx_xapic_raise(&x, 0, 0x99);
    rd(0, 0x40); /* an error */
    /* kvm-unit-tests' reset_apic: EN and EXTD cleared, then EN set. */
    cr_assert_eq(vtx_xapic_set_base(&x, 10, 0xFEE00100u), VTX_OK);
    cr_assert_not(vtx_xapic_enabled(&x));
    uint32_t v;
    cr_assert_eq(vtx_xapic_mmio_read(&x, 10, SPIV, &v), VTX_ERR_STATE, "the page is not decoded");
    cr_assert_eq(vtx_xapic_pending(&x, 10), -1);
    cr_assert_eq(vtx_xapic_next_deadline(&x), UINT64_MAX);
    cr_assert_eq(vtx_xapic_raise(&x, 10, 0x88), VTX_ERR_STATE);
    cr_assert_eq(vtx_xapic_set_base(&x, 20, 0xFEE00900u), VTX_OK);
    cr_assert_eq(rd(20, ID), 2u << 24, "the initial ID");
    cr_assert_eq(rd(20, TPR), 0);
    cr_assert_eq(rd(20, SPIV), 0xFFu);
    cr_assert_eq(rd(20, LDR), 0);
    cr_assert_eq(rd(20, LVTT), MASKED);
    cr_assert_eq(rd(20, TDCR), 0);
    cr_assert_eq(rd(20, TMICT), 0);
    cr_assert_eq(rd(20, TMCCT), 0);
    cr_assert_eq(vtx_xapic_next_deadline(&x), UINT64_MAX);
    cr_assert_not(has(IRR0, 0x99));
    cr_assert_not(has(ISR0, 0x77));
    cr_assert_eq(vtx_xapic_pending(&x, 1000000), -1);
    cr_assert_eq(esr(), 0);
    /* Writing EN again while enabled changes nothing. */
    wr(20, SPIV, 0x1FF);
    cr_assert_eq(vtx_xapic_set_base(&x, 30, 0xFEE00900u), VTX_OK);
    cr_assert_eq(rd(30, SPIV), 0x1FFu);
}

Test(xapic, clock_never_goes_back)
{
    VTX_COVERS("APIC-TMR-1");
    wr(0, LVTT, 0xDE);
    wr(100, TMICT, 10);
    cr_assert_eq(rd(110, TMCCT), 5);
    cr_assert_eq(rd(50, TMCCT), 5, "an earlier now is the latest seen");
}

/* The order in which kvm-unit-tests' x86/vmx.flat uses the APIC on one CPU
 * (docs/platform.md, "Local xAPIC"; docs/kvm-unit-tests.md), step by step on the device. */
Test(xapic, kvm_unit_tests_sequence)
{
    VTX_COVERS("APIC-BASE-1", "APIC-ICR-1", "APIC-ICR-2", "APIC-TPR-1", "APIC-IRR-1", "APIC-EOI-1", "APIC-TMR-1");
    cr_assert_eq(vtx_xapic_init(&x, 0), VTX_OK);
    uint64_t t = 100;
    /* pre_boot_apic_id: EXTD is clear. reset_apic: EN and EXTD cleared, EN set, SPIV 0x1FF. */
    uint64_t base = vtx_xapic_get_base(&x);
    cr_assert_eq(base & (1u << 10), 0);
    cr_assert_eq(vtx_xapic_set_base(&x, t, base & ~0xC00ull), VTX_OK);
    cr_assert_eq(vtx_xapic_set_base(&x, t, (base & ~0xC00ull) | 0x800), VTX_OK);
    wr(t, SPIV, 0x1FF);
    cr_assert_eq(rd(t, ID) >> 24, 0, "save_id");
    /* bringup_aps: poll the busy bit, then INIT and SIPI to all excluding self. */
    cr_assert_eq(rd(t, ICR_LO) & (1u << 12), 0);
    wr(t, ICR_HI, 0);
    wr(t, ICR_LO, SH_OTHERS | DM_INIT | LEVEL_ASSERT);
    cr_assert_eq(rd(t, ICR_LO) & (1u << 12), 0);
    wr(t, ICR_LO, SH_OTHERS | DM_SIPI);
    cr_assert_eq(vtx_xapic_pending(&x, t), -1);
    cr_assert_not(vtx_xapic_take_nmi(&x, t));
    /* vmx_pending_event_test: a self-IPI 0xF1 waits while L1 runs with IF = 0, then is taken. */
    wr(t, ICR_LO, SH_SELF | LEVEL_ASSERT | 0xF1);
    cr_assert_eq(vtx_xapic_pending(&x, t), 0xF1);
    cr_assert_eq(vtx_xapic_ack(&x, t, 0xF1), VTX_OK);
    wr(t, EOI, 0);
    /* vmx_apic_passthrough_tpr_threshold_test: CR8 holds a self-IPI back. */
    cr_assert_eq(vtx_xapic_set_cr8(&x, 0xF), VTX_OK);
    wr(t, ICR_LO, SH_SELF | LEVEL_ASSERT | 0xF2);
    cr_assert_eq(vtx_xapic_pending(&x, t), -1);
    cr_assert_eq(vtx_xapic_set_cr8(&x, 0), VTX_OK);
    cr_assert_eq(vtx_xapic_pending(&x, t), 0xF2);
    cr_assert_eq(vtx_xapic_ack(&x, t, 0xF2), VTX_OK);
    wr(t, EOI, 0);
    /* "interrupt": LVTT one-shot vector 222, TMICT 1 and then 1,000,000, TMICT 0 to stop. */
    wr(t, LVTT, 222);
    wr(t, TMICT, 1);
    cr_assert_eq(vtx_xapic_next_deadline(&x), t + 2);
    cr_assert_eq(vtx_xapic_pending(&x, t + 2), 222);
    cr_assert_eq(vtx_xapic_ack(&x, t + 2, 222), VTX_OK);
    wr(t + 3, EOI, 0);
    t = 10000;
    wr(t, TMICT, 1000000);
    uint64_t deadline = vtx_xapic_next_deadline(&x);
    cr_assert_gt(deadline - t, 1000000, "the TSC advances more than 1,000,000 before the interrupt");
    cr_assert_eq(vtx_xapic_pending(&x, deadline), 222, "HLT fast-forward to the deadline wakes on the timer");
    cr_assert_eq(vtx_xapic_ack(&x, deadline, 222), VTX_OK);
    wr(deadline, EOI, 0);
    wr(deadline, TMICT, 1000000);
    wr(deadline + 5, TMICT, 0);
    cr_assert_eq(vtx_xapic_next_deadline(&x), UINT64_MAX);
    cr_assert_eq(vtx_xapic_pending(&x, deadline + 5000000), -1);
    cr_assert_eq(esr(), 0);
}

/* Random register traffic (fixed seed): the invariants the SDM gives hold after every step. */
Test(xapic, invariants_under_random_traffic)
{
    VTX_COVERS("APIC-IRR-1", "APIC-PPR-1", "APIC-TMR-1", "APIC-ICR-1");
    static const uint32_t offs[] = {TPR, EOI, SPIV, ESR, ICR_LO, ICR_HI, LVTT, LVT_ERR, TMICT, TDCR, LDR, DFR, 0x40};
    uint64_t s = 0x9E3779B97F4A7C15ull, now = 0;
    for (int i = 0; i < 20000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        now += (s >> 40) & 0x3F;
        uint32_t off = offs[(s >> 8) % (sizeof offs / sizeof offs[0])], v = (uint32_t)(s >> 20);
        if (off == ICR_LO)
            v = (v & ~(3u << 18) & ~(7u << 8)) | (((s >> 3) & 1) ? SH_SELF : SH_OTHERS); /* fixed: never refused */
        if (off == TMICT)
            v &= 0xFF;
        if (off == DFR)
            v = (s & 1) ? 0xFFFFFFFFu : 0;
        wr(now, off, v);
        if ((s & 7) == 0)
            vtx_xapic_raise(&x, now, (uint8_t)(s >> 32));
        int p = vtx_xapic_pending(&x, now);
        if (p >= 0) {
            cr_assert_gt((unsigned)p & 0xF0u, vtx_xapic_ppr(&x) & 0xF0u, "step %d", i);
            cr_assert(has(IRR0, (unsigned)p));
            if ((s >> 5) & 1)
                cr_assert_eq(vtx_xapic_ack(&x, now, (uint8_t)p), VTX_OK);
        }
        cr_assert_eq(rd(now, IRR0) & 0xFFFFu, 0, "step %d: vectors 0-15 are never requested", i);
        cr_assert_eq(rd(now, ISR0) & 0xFFFFu, 0);
        cr_assert_leq(rd(now, TMCCT), rd(now, TMICT));
        cr_assert_eq(rd(now, ICR_LO) & (1u << 12), 0);
        cr_assert_gt(vtx_xapic_next_deadline(&x), now, "step %d: every expiry up to now is processed", i);
    }
}
