/*
 * Exception classes and the double-fault/triple-fault table (cpu/deliver.c;
 * SDM Vol. 3 6.15 Tables 6-4 and 6-5), and delivery's robustness against
 * garbage descriptors, limits, vectors and modes.
 * The garbage test fills the flat guest-physical buffer of tests/deliver_fixture.h.
 */
#include "deliver_fixture.h"

/* ================================================================ #DF classes */

/* SDM 6.15 Table 6-4 "Interrupt and Exception Classes" and Table 6-5 "Conditions for Generating a Double Fault". */
Test(deliver, exception_classes)
{
    static const uint8_t contributory[] = { 0, 10, 11, 12, 13, 21 };
    for (unsigned i = 0; i < sizeof contributory; i++)
        cr_expect_eq(vtx_deliver_class(contributory[i], VTX_EVT_HW_EXC), VTX_EXC_CONTRIBUTORY, "vector %u",
                     contributory[i]);
    cr_expect_eq(vtx_deliver_class(14, VTX_EVT_HW_EXC), VTX_EXC_PAGE_FAULT);
    cr_expect_eq(vtx_deliver_class(20, VTX_EVT_HW_EXC), VTX_EXC_PAGE_FAULT);
    cr_expect_eq(vtx_deliver_class(8, VTX_EVT_HW_EXC), VTX_EXC_DOUBLE_FAULT);
    static const uint8_t benign[] = { 1, 2, 3, 4, 5, 6, 7, 9, 16, 17, 18, 19, 32, 255 };
    for (unsigned i = 0; i < sizeof benign; i++)
        cr_expect_eq(vtx_deliver_class(benign[i], VTX_EVT_HW_EXC), VTX_EXC_BENIGN, "vector %u", benign[i]);
    cr_expect_eq(vtx_deliver_class(13, VTX_EVT_SW_INT), VTX_EXC_BENIGN, "INT 13 is an interrupt");
    cr_expect_eq(vtx_deliver_class(14, VTX_EVT_EXTINT), VTX_EXC_BENIGN);
    cr_expect_eq(vtx_deliver_class(2, VTX_EVT_NMI), VTX_EXC_BENIGN);
    cr_expect_eq(vtx_deliver_class(3, VTX_EVT_SW_EXC), VTX_EXC_BENIGN);
}

Test(deliver, double_fault_table)
{
    const vtx_exc_class B = VTX_EXC_BENIGN, C = VTX_EXC_CONTRIBUTORY, P = VTX_EXC_PAGE_FAULT,
                        D = VTX_EXC_DOUBLE_FAULT;
    /* rows: first; columns: second (benign, contributory, page fault) */
    const vtx_exc_class firsts[] = { B, C, P, D }, seconds[] = { B, C, P };
    const bool df[4][3] = { { 0, 0, 0 }, { 0, 1, 0 }, { 0, 1, 1 }, { 0, 0, 0 } };
    const bool tf[4][3] = { { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 1, 1 } };
    for (unsigned i = 0; i < 4; i++)
        for (unsigned j = 0; j < 3; j++) {
            cr_expect_eq(vtx_deliver_makes_df(firsts[i], seconds[j]), df[i][j], "#DF for %u then %u", i, j);
            cr_expect_eq(vtx_deliver_makes_triple(firsts[i], seconds[j]), tf[i][j], "triple for %u then %u", i, j);
        }
}

/* ================================================================ robustness */

/* No crash on garbage: random descriptors, limits, vectors, modes (under ASan/UBSan). */
Test(deliver, garbage_never_crashes)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    for (unsigned i = 0; i < 0x20000; i += 8) {
        uint64_t v = RND();
        memcpy(mem + i, &v, 8);
    }
    for (unsigned it = 0; it < 20000; it++) {
        vtx_cpu_state s;
        for (unsigned k = 0; k < sizeof s; k++)
            ((uint8_t *)&s)[k] = (uint8_t)RND();
        s.idtr_base &= (RND() & 1) ? 0x1FFFF : ~0ull;
        s.gdtr_base &= (RND() & 1) ? 0x1FFFF : ~0ull;
        s.cr3 &= (RND() & 1) ? 0x1F000 : ~0ull;
        s.seg[VTX_S_TR].base &= 0x1FFFF;
        s.seg[VTX_S_SS].base &= (RND() & 1) ? 0x1FFFF : ~0ull;
        vtx_cpu_state before = s;
        vtx_delivery d = { .vector = (uint8_t)RND(), .type = (vtx_event_type)(RND() % 9),
                           .has_error_code = RND() & 1, .error_code = (uint32_t)RND(), .insn_len = (uint8_t)RND() };
        vtx_deliver_result r;
        vtx_deliver(&s, &pm, &d, &r);
        cr_assert(r.outcome <= VTX_DELIVER_UNMAPPED);
        if (r.outcome != VTX_DELIVERED)
            cr_assert(memcmp(&before, &s, sizeof s) == 0, "state changed on outcome %d", r.outcome);
    }
    vtx_deliver(NULL, &pm, NULL, NULL);
    vtx_deliver_result r;
    vtx_deliver(NULL, NULL, NULL, &r);
    cr_expect_eq(r.outcome, VTX_DELIVER_UNMAPPED);
#undef RND
}
