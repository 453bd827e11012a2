/*
 * Incremental VM-entry checks (ENT-BASIC-4/5; SDM Vol. 3 "Checks on VMX Controls
 * and Host-State Area", "Checks on the Guest State Area"). Every check is still
 * made at every VMLAUNCH/VMRESUME, in effect: a check whose inputs are what they
 * were when it last passed passes again, so only the checks fed by a field whose
 * value changed since the last entry that passed them all are run again, plus
 * those that read memory (which can change behind the VMCS). The verdict, the
 * check named and its message are those of the full checks: the checks not run
 * passed, so the first failing check among those run is the first failing one
 * of all (each group runs its checks in the SDM's order).
 *
 Dirty fields: every write of a field marks it (vtx_vmcs_set, which the VM exit's
 * saves use, and VMWRITE, vmcs/access.c); the checks compare the marked fields
 * with a copy of the values they last passed on (vtx_entry_memo), so a field
 * written back with its old value feeds nothing, then clear the marks. The
 * invariant: a field not marked holds the value in the memo. A whole-struct
 * copy of the values (the undo of a VM exit before a VMX abort, of a failed
 * VM-entry MSR load, vtx_machine_restore) puts back values and marks of a time
 * since which the memo has not changed, so it keeps the invariant.
 *
 * What each field feeds (feeds_of), from the check files (entry_controls.c,
 * entry_host.c, entry_guest*.c):
 *   control fields     every group (the host and guest checks read the controls)
 *   read-only data     nothing (no check reads VM-exit information)
 *   host-state fields  the host checks
 *   guest-state fields the guest checks; guest CR0 also the control checks (event
 *                      injection, ENT-CTL-9); guest RIP only the RIP/RFLAGS
 *                      check; guest RSP nothing (no check reads it)
 * Inputs outside the VMCS: the profile (fixed for the machine), the root's
 * IA32_EFER.LMA (host checks; kept in the memo), memory (VTPR for the TPR
 * threshold check with "use TPR shadow" = 1, the VMCS link region and the
 * PDPTEs: those checks always run again) and the current-VMCS pointer (the link
 * pointer check, always run again).
 * tests/test_entry_memo.c and the vmx_ops fuzz target compare the verdicts with
 * those of a machine made with full_entry_checks on long random sequences.
 */
#include <string.h>
#include "entry_checks.h"

enum { FEED_CONTROLS = 1u, FEED_HOST = 2u, FEED_GUEST_RIP = 4u, FEED_GUEST = 8u, FEED_ALL = 15u };

static const uint32_t slot_encoding[VTX_SLOT_COUNT] = {
#define VTX_X_ENC(name, enc, feat, desc) [VTX_SLOT_##name] = (enc),
    VTX_VMCS_FIELDS(VTX_X_ENC)
#undef VTX_X_ENC
};

/* The check groups a field's value feeds (see the table above). */
static unsigned feeds_of(unsigned slot)
{
    switch (slot) {
    case VTX_SLOT_GUEST_CR0: return FEED_GUEST | FEED_CONTROLS;
    case VTX_SLOT_GUEST_RIP: return FEED_GUEST_RIP;
    case VTX_SLOT_GUEST_RSP: return 0;
    default: break;
    }
    switch (vtx_encoding_type(slot_encoding[slot])) {
    case VTX_TYPE_CONTROL: return FEED_ALL;
    case VTX_TYPE_RO_DATA: return 0;
    case VTX_TYPE_GUEST: return FEED_GUEST;
    case VTX_TYPE_HOST: return FEED_HOST;
    }
    return FEED_ALL;
}

/* The groups fed by the fields written since the marks were last consumed whose
 * values differ from those the checks passed on (a field written back with the
 * same value feeds nothing). */
static unsigned changed_feeds(const vtx_vmcs_values *now, const vtx_vmcs_values *then)
{
    unsigned feeds = 0;
    for (unsigned w = 0; w < sizeof now->written / sizeof now->written[0]; w++)
        for (uint64_t bits = now->written[w]; bits; bits &= bits - 1) {
            unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
            if (now->v[i] != then->v[i])
                feeds |= feeds_of(i);
        }
    return feeds;
}

vtx_entry_verdict vtx_entry_checks(vtx_machine *m, vtx_vmcs *v, vtx_entry_fail *fail)
{
    const vtx_vmcs_values *f = &v->f;
    vtx_entry_memo *memo = &v->memo;
    bool lma = (m->root.efer & VTX_EFER_LMA) != 0;
    unsigned feeds = FEED_ALL;
    bool incremental = !m->full_entry_checks && memo->valid;
    if (incremental) {
        feeds = changed_feeds(f, &memo->f);
        if (lma != memo->root_lma)
            feeds |= FEED_HOST;
        if (vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_TPR_SHADOW)
            feeds |= FEED_CONTROLS; /* the TPR threshold is checked against VTPR, in memory */
    }
    memo->valid = false;
    if ((feeds & FEED_CONTROLS) && !vtx_entry_check_controls(m, f, fail))
        return VTX_ENTRY_BAD_CONTROLS;
    if ((feeds & FEED_HOST) && !vtx_entry_check_host(m, f, fail))
        return VTX_ENTRY_BAD_HOST;
    unsigned parts = VTX_EG_PART_MEMORY;
    if (feeds & FEED_GUEST)
        parts = VTX_EG_PART_ALL;
    else if (feeds & FEED_GUEST_RIP)
        parts |= VTX_EG_PART_RIP;
    if (!vtx_entry_check_guest_parts(m, f, parts, fail))
        return VTX_ENTRY_BAD_GUEST;
    if (incremental) { /* only the marked fields can differ */
        for (unsigned w = 0; w < sizeof f->written / sizeof f->written[0]; w++)
            for (uint64_t bits = f->written[w]; bits; bits &= bits - 1) {
                unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
                memo->f.v[i] = f->v[i];
            }
    } else {
        memo->f = *f;
    }
    memset(v->f.written, 0, sizeof v->f.written);
    memo->root_lma = lma;
    memo->valid = true;
    return VTX_ENTRY_PASS;
}
