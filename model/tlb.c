/*
 * Cached translation information across VM entries and exits (SDM Vol. 3
 * "Invalidating Cached Translation Information" and "VPID"): the model's TLB is
 * Unicorn's (linear -> physical, from the guest's paging structures); this file
 * decides when the processor invalidates it. Rule PG-2 (docs/rules-own.tsv):
 * with "enable VPID" = 0 every VM entry and every VM exit invalidate all linear
 * and combined mappings of VPID 0000H, so a VMM that changes a guest
 * paging-structure entry between two exits sees the guest use the new entry
 * (a cleared present bit gives the guest a #PF). With VPID on, translations
 * of the guest's VPID survive entries and exits (the VMM uses INVVPID); the
 * engine's TLB is not tagged, so it is flushed when the VPID entered differs
 * from the one whose translations it holds. INVVPID and INVEPT flush it (PG-7).
 * PG-9: paging structures rewritten through the caller's host pointers are
 * therefore seen at the next entry with VPID off, and with VPID on only where
 * the translations are invalidated (INVVPID, INVEPT, a VPID or EPTP change, the
 * guest's INVLPG, MOV to CR3 or paging-mode change): between those the engine
 * does not compare the tables at each entry (cpu/engine.h,
 * vtx_engine_set_state_tlb), and Unicorn keeps the translations it cached.
 */
#include "execute.h"

static bool vpid_on(const vtx_vmcs_values *f)
{
    return (vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_SECONDARY_CONTROLS) &&
           (vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS2) & VTX_PROC2_ENABLE_VPID);
}

void vtx_tlb_flush(vtx_machine *m)
{
    m->tlb_pending = false;
    m->tlb_vpid_valid = false;
    if (m->engine)
        vtx_engine_flush_tlb(m->engine);
}

void vtx_tlb_on_exit(vtx_machine *m, const vtx_vmcs_values *f)
{
    /* PG-2: the exit's invalidation (VPID off) is carried out at the next VM
     * entry: until then nothing runs on the engine (the VMM is not executed). */
    if (!vpid_on(f))
        m->tlb_pending = true;
    m->ept_on = false; /* the VMM runs without EPT */
}

void vtx_tlb_on_entry(vtx_machine *m, const vtx_vmcs_values *f)
{
    bool on = vpid_on(f);
    uint16_t vpid = on ? (uint16_t)vtx_vmcs_get(f, VTX_SLOT_VPID) : 0;
    /* EPT-INV-3: combined mappings are tagged by the EPTP (EP4TA) they were made
     * with; the engine's TLB is not, so it is flushed when the EPTP changes. */
    uint64_t eptp = m->ept_on ? m->eptp : 0;
    if (!on || m->tlb_pending || !m->tlb_vpid_valid || m->tlb_vpid != vpid || m->tlb_eptp != eptp)
        vtx_tlb_flush(m); /* PG-2 */
    m->tlb_eptp = eptp;
    m->tlb_vpid = vpid;
    m->tlb_vpid_valid = on;
}

bool vtx_tlb_kept(const vtx_machine *m)
{
    return m->in_guest && m->tlb_vpid_valid;
}

void vtx_tlb_guest_invalidates(vtx_machine *m)
{
    if (m->engine)
        vtx_engine_verify_paging(m->engine); /* PG-9 */
}
