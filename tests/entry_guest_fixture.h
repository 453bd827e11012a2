/* Shared static fixture of the VM-entry guest-state tests (test_entry_guest_*.c,
 * SDM Vol. 3 "Checks on the Guest State Area"): the baseline machine, the
 * VMCS accessors, FAIL/PASS (the VM-entry failure exit 33 with its
 * qualification and named check, or an entry that gets past every guest-state
 * check), segment writers and the other guest modes (32-bit PAE, unrestricted
 * real mode, virtual-8086). Everything here is static (inline) so each test
 * file gets its own copy.
 */
#ifndef VTX_TEST_ENTRY_GUEST_FIXTURE_H
#define VTX_TEST_ENTRY_GUEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "baseline.h"

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

static inline void start(const char *profile)
{
    vt_setup(&e, profile);
    vt_baseline(&e);
}

/* As vt_setup(), for a profile that is not built in (a variant of one). */
static inline void start_with(const vtx_profile *p)
{
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_validate(p, &d), VTX_OK, "test profile: %s", d.message);
    vt_setup_profile(&e, p);
    vt_baseline(&e);
}

/* "server" with extra allowed-1 settings. */
static inline vtx_profile server_plus(uint32_t entry1, uint32_t proc2_1)
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
static inline void pass_checks(const char *step)
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

static inline void done(void) { vt_teardown(&e); }

static inline void seg(uint32_t sel_enc, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    vt_vmwrite(&e, sel_enc, sel);
    vt_vmwrite(&e, sel_enc + 0x6006, base); /* GUEST_ES_SELECTOR 0x0800 -> GUEST_ES_BASE 0x6806 */
    vt_vmwrite(&e, sel_enc + 0x4000, limit); /* -> GUEST_ES_LIMIT 0x4800 */
    vt_vmwrite(&e, sel_enc + 0x4014, ar);    /* -> GUEST_ES_AR 0x4814 */
}
#define SEG(N, sel, base, limit, ar) seg(VTX_VMCS_GUEST_##N##_SELECTOR, sel, base, limit, ar)

static inline void data_segs(uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
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
static inline void guest32(void)
{
    static const uint64_t zero[4];
    cr_assert_eq(vtx_machine_write_phys(e.m, VT_GUEST_CR3, zero, sizeof zero, NULL), VTX_OK);
    CLR(ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    SEG(CS, 0x08, 0, 0xFFFFFFFF, 0xC09B); /* 32-bit code, G, D */
}

/* Activate EPT and unrestricted guest (server, teaching). */
static inline void enable_ug(void)
{
    SET(PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    W(PROC_CONTROLS2, VTX_PROC2_ENABLE_EPT | VTX_PROC2_UNRESTRICTED_GUEST);
    W(EPT_POINTER, EPTP);
}

/* An unrestricted-guest real-mode guest: CR0.PE = PG = 0, 16-bit segments. */
static inline void guest_real(void)
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
static inline void guest_v86(void)
{
    guest32();
    SEG(CS, 0x1000, 0x10000, 0xFFFF, 0xF3);
    data_segs(0x2000, 0x20000, 0xFFFF, 0xF3);
    W(GUEST_RFLAGS, 0x20002);
    W(GUEST_RIP, 0x100);
}

#endif
