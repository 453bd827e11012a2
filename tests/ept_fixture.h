/*
 * The EPT tests' machine (tests/test_ept_*.c): the baseline 64-bit guest on a
 * profile whose IA32_VMX_EPT_VPID_CAP offers execute-only pages, 2-MiB and 1-GiB
 * pages and A/D flags, with "enable EPT" = 1 and
 *   - guest 4-level page tables at GPT (PML4, PDPT, PD, PT; identity for the
 *     first 2 MiB, accessed and dirty flags already set so that the guest's
 *     walk writes nothing unless a test says otherwise),
 *   - an EPT at EPT_TABLES (PML4, PDPT, PD, PT: 4-KiB pages, identity over the
 *     test RAM, R/W/X, write-back), 4-level walk.
 * On Unicorn 2.0.1 any EPT but the identity (and EPT A/D flags) is refused at
 * VM entry by name (EPT-ID-1/2): ept_refused_on_2_0 checks that.
 */
#ifndef VT_EPT_FIXTURE_H
#define VT_EPT_FIXTURE_H

#include <criterion/criterion.h>
#include <string.h>
#include "../cpu/engine.h"
#include "baseline.h"

#define GPT 0x60000u        /* guest paging: PML4 +0, PDPT +0x1000, PD +0x2000, PT +0x3000 */
#define EPT_TABLES 0x80000u /* EPT: PML4 +0, PDPT +0x1000, PD +0x2000, PT +0x3000 */
#define DATA 0x50000u
#define EPT_WB (6u << 3)
#define EPT_AD_BIT (1ull << 6)
#define Q_R 1u
#define Q_W 2u
#define Q_X 4u
#define Q_LIN 0x80u
#define Q_FINAL 0x100u

static vt_env e;
static uint64_t eptp;

static inline void ept_setup_caps(uint64_t clear_caps)
{
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_EPT_VPID_CAP] |= (1ull << 0) | (1ull << 16) | (1ull << 17) | (1ull << 21);
    p.msr[VTX_CAP_IA32_VMX_EPT_VPID_CAP] &= ~clear_caps;
    vt_start_with(&e, &p);
    uint64_t *g = (uint64_t *)(e.ram + GPT);
    memset(g, 0, 4 * 4096);
    g[0] = (GPT + 0x1000) | 0x23;
    g[512] = (GPT + 0x2000) | 0x23;
    g[1024] = (GPT + 0x3000) | 0x23;
    for (uint64_t i = 0; i < 512; i++)
        g[1536 + i] = (i << 12) | 0x63;
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR3, GPT);
    uint64_t *x = (uint64_t *)(e.ram + EPT_TABLES);
    memset(x, 0, 4 * 4096);
    x[0] = (EPT_TABLES + 0x1000) | 7;
    x[512] = (EPT_TABLES + 0x2000) | 7;
    x[1024] = (EPT_TABLES + 0x3000) | 7;
    for (uint64_t i = 0; i < VT_RAM_SIZE / 4096; i++)
        x[1536 + i] = (i << 12) | EPT_WB | 7;
    eptp = EPT_TABLES | 6u | (3u << 3);
    vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_EPT);
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, eptp);
}

static inline void ept_setup(void) { ept_setup_caps(0); }
static inline void ept_teardown(void) { vt_teardown(&e); }

/* The EPT entries: the PTE of a guest-physical page in the first 1 MiB, the PDEs, the PDPTEs. */
static inline uint64_t *ept_pte(uint64_t gpa) { return (uint64_t *)(e.ram + EPT_TABLES + 0x3000) + (gpa >> 12); }
static inline uint64_t *ept_pd(void) { return (uint64_t *)(e.ram + EPT_TABLES + 0x2000); }
static inline uint64_t *ept_pdpt(void) { return (uint64_t *)(e.ram + EPT_TABLES + 0x1000); }
static inline uint64_t *ept_pml4(void) { return (uint64_t *)(e.ram + EPT_TABLES); }
/* The guest's paging structures (at guest-physical = host-physical GPT). */
static inline uint64_t *gpt_pdpt(void) { return (uint64_t *)(e.ram + GPT + 0x1000); }
static inline uint64_t *gpt_pd(void) { return (uint64_t *)(e.ram + GPT + 0x2000); }

static inline void set_eptp(uint64_t v)
{
    eptp = v;
    vt_vmwrite(&e, VTX_VMCS_EPT_POINTER, v);
}

static inline uint64_t rd(uint32_t enc) { return vt_vmread(&e, enc); }

static inline uint64_t rax(void)
{
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    return g.rax;
}

static inline vtx_insn_result launch(vtx_status *st)
{
    vtx_insn_result r;
    *st = vtx_vmlaunch(e.m, &r);
    return r;
}

static inline vtx_insn_result resume(vtx_status *st)
{
    vtx_insn_result r;
    *st = vtx_vmresume(e.m, &r);
    return r;
}

static inline void expect_exit(const char *step, vtx_status st, const vtx_insn_result *r, uint32_t reason)
{
    cr_assert_eq(st, VTX_OK, "%s: status %s (%s)", step, vtx_status_name(st), r->why);
    cr_assert_eq(r->outcome, VTX_VMEXIT, "%s: outcome %d (%s)", step, r->outcome, r->why);
    cr_assert_eq(r->exit_reason, reason, "%s: exit reason %u, want %u (%s)", step, r->exit_reason, reason, r->why);
}

/* Unicorn 2.0.1: the VM entry was refused naming EPT and the version
 * (EPT-ID-1/2); true when the test ends there. */
static inline bool ept_refused_on_2_0(vtx_status st, const vtx_insn_result *r)
{
    if (vtx_engine_translates_paging())
        return false;
    cr_assert_eq(st, VTX_ERR_UNSUPPORTED, "Unicorn 2.0.1 refuses this EPT (%s)", r->why);
    cr_assert_not_null(strstr(r->why, "EPT"), "why: %s", r->why);
    cr_assert_not_null(strstr(r->why, "Unicorn 2.0.1"), "why: %s", r->why);
    return true;
}

/* An EPT-violation exit with this qualification, guest-physical and (when the
 * qualification says it is valid) guest-linear address, RIP on the instruction. */
static inline void expect_violation(const char *step, vtx_status st, const vtx_insn_result *r, uint64_t qual, uint64_t gpa,
                             uint64_t lin, uint64_t rip)
{
    expect_exit(step, st, r, VTX_EXIT_REASON_EPT_VIOLATION);
    cr_assert_eq(rd(VTX_VMCS_EXIT_QUALIFICATION), qual, "%s: qualification 0x%llx, want 0x%llx", step,
                 (unsigned long long)rd(VTX_VMCS_EXIT_QUALIFICATION), (unsigned long long)qual);
    cr_assert_eq(rd(VTX_VMCS_GUEST_PHYSICAL_ADDR), gpa, "%s: guest-physical 0x%llx, want 0x%llx", step,
                 (unsigned long long)rd(VTX_VMCS_GUEST_PHYSICAL_ADDR), (unsigned long long)gpa);
    if (qual & Q_LIN)
        cr_assert_eq(rd(VTX_VMCS_GUEST_LINEAR_ADDR), lin, "%s: guest-linear 0x%llx, want 0x%llx", step,
                     (unsigned long long)rd(VTX_VMCS_GUEST_LINEAR_ADDR), (unsigned long long)lin);
    cr_assert_eq(rd(VTX_VMCS_GUEST_RIP), rip, "%s: RIP 0x%llx, want 0x%llx (the faulting instruction)", step,
                 (unsigned long long)rd(VTX_VMCS_GUEST_RIP), (unsigned long long)rip);
}

#endif
