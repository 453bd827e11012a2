/*
 * PG-9 (docs/rules-own.tsv; SDM Vol. 3C "VPID", "Invalidation of TLBs and
 * Paging-Structure Caches"): a page-table entry the VMM rewrites through its
 * host pointer. With VPID off the next VM entry invalidates the guest's
 * translations (PG-2), so the rewrite is seen there; with VPID on VM entries
 * keep them, and the rewrite is seen only after an invalidation: the VMM's
 * INVVPID, or the guest's own INVLPG or MOV to CR3 (PG-8). Until then the guest
 * keeps the translation it cached (the processor may; the model does, which
 * catches a VMM that forgets its INVVPID).
 *
 * The rewrite maps DATA's linear page to another physical page: Unicorn 2.1
 * then reads the other page; Unicorn 2.0.1 runs identity page tables only
 * (PG-1) and refuses the mapping by name where it is checked, which with VPID
 * on is the invalidation point (docs/platforms.md).
 *
 * Memory (test RAM, 1 MiB at 0): guest code at VT_GUEST_RIP; 4-level identity
 * tables for the first 2 MiB at PT; DATA and OTHER hold different values.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "../cpu/engine.h"
#include "baseline.h"

#define PT 0x60000u
#define DATA 0x50000u
#define OTHER 0x51000u
#define OLD_VALUE 0x1111111111111111ull
#define NEW_VALUE 0x2222222222222222ull

static vt_env e;

static void setup(void) { vt_start(&e, "server"); }
static void teardown(void) { vt_teardown(&e); }
TestSuite(tlb_vpid, .init = setup, .fini = teardown);

static uint64_t *pte(uint64_t lin) { return (uint64_t *)(e.ram + PT + 0x3000) + ((lin >> 12) & 511); }

/* Identity tables, the two data pages, the guest code; VPID on or off. */
static void prepare(const uint8_t *code, size_t n, bool vpid)
{
    uint64_t *pml4 = (uint64_t *)(e.ram + PT), *pdpt = pml4 + 512, *pd = pdpt + 512, *pt = pd + 512;
    memset(pml4, 0, 4 * 4096);
    pml4[0] = (PT + 0x1000) | 3;
    pdpt[0] = (PT + 0x2000) | 3;
    pd[0] = (PT + 0x3000) | 3;
    for (uint64_t i = 0; i < 512; i++)
        pt[i] = (i << 12) | 3;
    vt_vmwrite(&e, VTX_VMCS_GUEST_CR3, PT);
    memcpy(e.ram + DATA, &(uint64_t){OLD_VALUE}, 8);
    memcpy(e.ram + OTHER, &(uint64_t){NEW_VALUE}, 8);
    vt_code(&e, VT_GUEST_RIP, code, n);
    if (vpid) {
        vt_set_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
        vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_ENABLE_VPID);
        vt_vmwrite(&e, VTX_VMCS_VPID, 1);
    }
}

static uint64_t rax(void)
{
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    return g.rax;
}

static void expect_vmcall(const char *step, vtx_status st, const vtx_insn_result *r)
{
    cr_assert_eq(st, VTX_OK, "%s: status %s (%s)", step, vtx_status_name(st), r->why);
    cr_assert_eq(r->outcome, VTX_VMEXIT, "%s: outcome %d (%s)", step, r->outcome, r->why);
    cr_assert_eq(r->exit_reason, VTX_EXIT_REASON_VMCALL, "%s: exit reason %u (%s)", step, r->exit_reason, r->why);
}

/* The read after the invalidation: the new page on Unicorn 2.1; on 2.0.1 the
 * refusal of the non-identity mapping (PG-1), by name. */
static void expect_new_mapping(const char *step, vtx_status st, const vtx_insn_result *r)
{
    if (!vtx_engine_translates_paging()) {
        cr_assert_eq(st, VTX_ERR_UNSUPPORTED, "%s: PG-1 refuses the mapping on Unicorn 2.0.1: status %s (%s)", step,
                     vtx_status_name(st), r->why);
        cr_assert(strstr(r->why, "identity") || strstr(r->why, "different physical address"), "%s: why: %s", step,
                  r->why);
        return;
    }
    expect_vmcall(step, st, r);
    cr_assert_eq(rax(), NEW_VALUE, "%s: the guest reads the page the rewritten entry maps", step);
}

/* Resume at a given RIP. */
static vtx_status resume_at(uint64_t rip, vtx_insn_result *r)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rip);
    *r = (vtx_insn_result){0};
    return vtx_vmresume(e.m, r);
}

/*   G+0   mov rax, [DATA] ; vmcall
 *   G+11  mov rax, [DATA] ; vmcall */
static const uint8_t two_reads[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1,
                                    0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00, 0x0f, 0x01, 0xc1};

/* VPID on: the VMM remaps DATA; VMRESUME keeps the guest's translation (it
 * reads the old page, on both platforms) until INVVPID, after which the guest
 * sees the new entry. */
Test(tlb_vpid, pg_9_vpid_on_rewrite_seen_only_after_invvpid)
{
    VTX_COVERS("PG-9", "PG-7");
    prepare(two_reads, sizeof two_reads, true);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    expect_vmcall("first read", st, &r);
    cr_assert_eq(rax(), OLD_VALUE);
    *pte(DATA) = OTHER | 3; /* the VMM remaps DATA, and forgets its INVVPID */
    st = resume_at(VT_GUEST_RIP + 11, &r);
    expect_vmcall("read after VMRESUME", st, &r);
    cr_assert_eq(rax(), OLD_VALUE, "VPID on: the entry kept the guest's cached translation");
    st = resume_at(VT_GUEST_RIP + 11, &r); /* a second entry keeps it too */
    expect_vmcall("read after a second VMRESUME", st, &r);
    cr_assert_eq(rax(), OLD_VALUE, "VPID on: still the cached translation");
    vtx_invvpid_desc d = {.vpid = 1};
    cr_assert_eq(vtx_invvpid(e.m, VTX_INVVPID_SINGLE_CONTEXT, &d, &r), VTX_OK);
    cr_assert_eq(r.outcome, VTX_VMSUCCEED, "INVVPID single-context: %s", r.why);
    st = resume_at(VT_GUEST_RIP + 11, &r);
    expect_new_mapping("read after INVVPID", st, &r);
}

/* VPID off: the same rewrite is seen at the next VM entry (PG-2). */
Test(tlb_vpid, pg_9_vpid_off_rewrite_seen_at_the_next_entry)
{
    VTX_COVERS("PG-9", "PG-2");
    prepare(two_reads, sizeof two_reads, false);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    expect_vmcall("first read", st, &r);
    cr_assert_eq(rax(), OLD_VALUE);
    *pte(DATA) = OTHER | 3;
    st = resume_at(VT_GUEST_RIP + 11, &r);
    expect_new_mapping("read after VMRESUME", st, &r);
}

/*
 * VPID on: the guest's own invalidation after the VMM's rewrite (PG-8): the
 * guest's INVLPG, or its MOV to CR3, makes the new entry seen (on Unicorn 2.0.1
 * the mapping is refused there, at the run that starts with the invalidation,
 * rather than run as the identity).
 *   G+0   mov rax, [DATA] ; vmcall
 *   G+11  invlpg [DATA]            (or: mov rax, cr3 ; mov cr3, rax)
 *         mov rax, [DATA] ; vmcall
 */
static void guest_invalidates_after_rewrite(const uint8_t *inval, size_t n)
{
    uint8_t code[64];
    memcpy(code, two_reads, 11);
    memcpy(code + 11, inval, n);
    memcpy(code + 11 + n, two_reads + 11, 11);
    prepare(code, 22 + n, true);
    vt_clear_bits(&e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR3_LOAD_EXITING | VTX_PROC_CR3_STORE_EXITING);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    expect_vmcall("first read", st, &r);
    cr_assert_eq(rax(), OLD_VALUE);
    *pte(DATA) = OTHER | 3;
    st = resume_at(VT_GUEST_RIP + 11, &r);
    expect_new_mapping("read after the guest's invalidation", st, &r);
}

Test(tlb_vpid, pg_9_guest_invlpg_after_the_vmms_rewrite)
{
    VTX_COVERS("PG-9", "PG-8");
    static const uint8_t invlpg[] = {0x0f, 0x01, 0x3c, 0x25, 0x00, 0x00, 0x05, 0x00};
    guest_invalidates_after_rewrite(invlpg, sizeof invlpg);
}

Test(tlb_vpid, pg_9_guest_mov_to_cr3_after_the_vmms_rewrite)
{
    VTX_COVERS("PG-9", "PG-8");
    static const uint8_t movcr3[] = {0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8};
    guest_invalidates_after_rewrite(movcr3, sizeof movcr3);
}
