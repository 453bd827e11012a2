/*
 * VM exit round trips on the fast path (ENG-AGAIN-1, model/execute.c): the step
 * that reaches the exiting instruction after a run retired the ones before it is
 * made without a second engine run, state read or accessed-bit pass. The
 * machine's state after many round trips must be exactly that of a reference
 * machine that never takes that path (a boundary observer installed: every
 * boundary evaluated, every step through the engine's per-instruction hook),
 * with a VMM that changes RIP, GPRs and RFLAGS (RF too), re-executes the
 * exiting instruction and rewrites the guest's code between trips. Checked to
 * fail with a fast path that miscounted its stop (retired 1 instead of 0).
 */
#include <stdlib.h>
#include <string.h>
#include "helpers.h"

#define CODE 0x10000u

/* add rax, 1; inc rcx; cpuid; jmp back to the add (11 bytes) */
static const uint8_t guest[] = {0x48, 0x83, 0xc0, 0x01, 0x48, 0xff, 0xc1, 0x0f, 0xa2, 0xeb, 0xf5};

static void count(void *user, const vtx_boundary_report *rep)
{
    (void)rep;
    ++*(uint64_t *)user;
}

static void setup(vt_env *e, uint64_t *seen)
{
    vt_setup(e, "server");
    memcpy(e->ram + CODE, guest, sizeof guest);
    vt_vmxon(e);
    vt_load_vmcs(e, VT_VMCS_PA);
    vtx_flat64 f = {.rip = CODE, .rsp = 0x80000, .rflags = 0x2, .tables = 0x20000, .handlers = 0};
    vtx_diag d = {0};
    cr_assert_eq(vtx_setup_flat64(e->m, &f, &d), VTX_OK, "%s", d.message);
    vt_vmwrite(e, VTX_VMCS_PROC_CONTROLS,
               vt_vmread(e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING | VTX_PROC_SECONDARY_CONTROLS);
    vt_vmwrite(e, VTX_VMCS_PROC_CONTROLS2, vt_vmread(e, VTX_VMCS_PROC_CONTROLS2) | VTX_PROC2_ENABLE_VPID);
    vt_vmwrite(e, VTX_VMCS_VPID, 1);
    if (seen)
        cr_assert_eq(vtx_machine_set_observer(e->m, count, seen), VTX_OK);
}

/* The VMM's handling of exit k (the same on both machines). */
static void vmm(vt_env *e, unsigned k)
{
    uint64_t rip = vt_vmread(e, VTX_VMCS_GUEST_RIP), len = vt_vmread(e, VTX_VMCS_EXIT_INSTRUCTION_LEN);
    if (k % 7 != 3)
        rip += len; /* else the CPUID again */
    vt_vmwrite(e, VTX_VMCS_GUEST_RIP, rip);
    if (k % 3 == 0) {
        vtx_gprs g;
        cr_assert_eq(vtx_machine_get_gprs(e->m, &g), VTX_OK);
        g.rbx = k, g.rcx ^= 0x5a5a;
        cr_assert_eq(vtx_machine_set_gprs(e->m, &g), VTX_OK);
    }
    if (k % 5 == 0) /* CF, and RF every other time (the next instruction runs alone) */
        vt_vmwrite(e, VTX_VMCS_GUEST_RFLAGS, 0x2 | (k & 1) | ((k & 2) ? 0x10000 : 0));
    if (k % 13 == 6) /* the add becomes add rax, 2 through the host pointer */
        e->ram[CODE + 3] = (uint8_t)(1 + (k & 1));
}

static void same_fields(vt_env *a, vt_env *b, unsigned k)
{
    size_t n = 0;
    const vtx_field_info *fi = vtx_vmcs_fields(&n);
    for (size_t i = 0; i < n; i++) {
        vtx_insn_result ra, rb;
        vtx_vmread(a->m, fi[i].encoding, &ra);
        vtx_vmread(b->m, fi[i].encoding, &rb);
        cr_assert_eq(ra.outcome, rb.outcome, "exit %u: VMREAD of %s", k, fi[i].name);
        cr_assert_eq(ra.value, rb.value, "exit %u: %s is 0x%llx, the reference's 0x%llx", k, fi[i].name,
                     (unsigned long long)ra.value, (unsigned long long)rb.value);
    }
}

Test(roundtrip_fast, many_round_trips_end_where_the_reference_machine_does)
{
    VTX_COVERS("ENG-AGAIN-1");
    vt_env a, b;
    uint64_t seen = 0;
    setup(&a, NULL);
    setup(&b, &seen);
    for (unsigned k = 0; k < 300; k++) {
        vtx_insn_result ra, rb;
        vtx_status sa = k ? vtx_vmresume(a.m, &ra) : vtx_vmlaunch(a.m, &ra);
        vtx_status sb = k ? vtx_vmresume(b.m, &rb) : vtx_vmlaunch(b.m, &rb);
        cr_assert_eq(sa, VTX_OK, "exit %u: %s", k, ra.why);
        cr_assert_eq(sb, VTX_OK, "exit %u: %s", k, rb.why);
        cr_assert_eq(ra.outcome, VTX_VMEXIT, "exit %u: %s", k, ra.why);
        cr_assert_eq(ra.exit_reason, 10, "exit %u: reason %u", k, ra.exit_reason);
        cr_assert_eq(rb.exit_reason, ra.exit_reason);
        cr_assert_eq(vtx_machine_instructions(a.m), vtx_machine_instructions(b.m), "exit %u: instructions", k);
        cr_assert_eq(vtx_machine_cycles(a.m), vtx_machine_cycles(b.m), "exit %u: cycles", k);
        vtx_gprs ga, gb;
        cr_assert_eq(vtx_machine_get_gprs(a.m, &ga), VTX_OK);
        cr_assert_eq(vtx_machine_get_gprs(b.m, &gb), VTX_OK);
        cr_assert_eq(memcmp(&ga, &gb, sizeof ga), 0, "exit %u: the GPRs differ (RAX 0x%llx, reference 0x%llx)", k,
                     (unsigned long long)ga.rax, (unsigned long long)gb.rax);
        same_fields(&a, &b, k);
        vmm(&a, k);
        vmm(&b, k);
    }
    cr_assert_gt(seen, 0, "the reference machine's observer saw its boundaries");
    /* the guest's work: one add per pass, the instructions counted */
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(a.m, &g), VTX_OK);
    cr_assert_gt(g.rax, 200);
    vt_teardown(&a);
    vt_teardown(&b);
}
