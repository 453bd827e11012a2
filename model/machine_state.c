/*
 * Saving and restoring a machine's state (vtx_machine_save/restore): a copy of
 * struct vtx_machine and of every VMCS it has seen. Restore keeps what is not
 * state but equipment: the execution engine (creating a Unicorn costs
 * milliseconds, and its first translation-cache flush about 120 ms), the memory
 * map (which must be the one saved) and a VMM checker (refused: its state is
 * not saved).
 *
 * The engine after a restore behaves as a new one would: its guest state is
 * loaded again before the next run (engine_dirty), its caches check the bytes
 * they were made from (code rewritten through host pointers is seen,
 * docs/architecture.md "Changed code"), and vtx_engine_reset puts the CPU
 * state Unicorn holds back to the one of a new engine (x87 and SSE registers,
 * which the model does not hold, carried over from the runs since otherwise)
 * and makes the next VM entry walk the paging structures and flush the TLB
 * whatever they hold (a flush skipped because the tables restored are the
 * ones last walked would leave the accessed and dirty bits Unicorn set since
 * clear, where a new engine's first walk sets them). Its translated code is kept: dropping it (Unicorn 2.0.1's
 * TB flush) cost hundreds of milliseconds and hundreds of MiB per flush in the
 * guest fuzz target. An engine that reopened Unicorn past an abort (its exit
 * list is not empty) or is broken is not kept.
 */
#include <stdlib.h>
#include <string.h>
#include "execute.h"

struct vtx_machine_state {
    const vtx_machine *from;
    vtx_machine m;    /* the machine; its pointers are not used */
    vtx_mem_region *regions;
    size_t n_regions;
    vtx_vmcs *vmcs;   /* copies of every VMCS */
    size_t n_vmcs;
    size_t current;   /* index of the current VMCS, or n_vmcs for none */
};

void vtx_machine_state_free(vtx_machine_state *s)
{
    if (!s)
        return;
    free(s->regions);
    free(s->vmcs);
    free(s);
}

vtx_status vtx_machine_save(const vtx_machine *m, vtx_machine_state **out)
{
    if (!m || !out)
        return VTX_ERR_INVALID_ARG;
    *out = NULL;
    vtx_machine_state *s = calloc(1, sizeof *s);
    if (!s)
        return VTX_ERR_NO_MEMORY;
    s->regions = malloc((m->n_regions ? m->n_regions : 1) * sizeof *s->regions);
    s->vmcs = malloc((m->n_vmcs ? m->n_vmcs : 1) * sizeof *s->vmcs);
    if (!s->regions || !s->vmcs) {
        vtx_machine_state_free(s);
        return VTX_ERR_NO_MEMORY;
    }
    s->from = m;
    s->m = *m;
    if (m->n_regions)
        memcpy(s->regions, m->regions, m->n_regions * sizeof *s->regions);
    s->n_regions = m->n_regions;
    s->n_vmcs = m->n_vmcs;
    s->current = m->n_vmcs;
    for (size_t i = 0; i < m->n_vmcs; i++) {
        s->vmcs[i] = *m->vmcs[i];
        if (m->vmcs[i] == m->current)
            s->current = i;
    }
    *out = s;
    return VTX_OK;
}

vtx_status vtx_machine_restore(vtx_machine *m, const vtx_machine_state *s)
{
    if (!m || !s || s->from != m)
        return VTX_ERR_INVALID_ARG;
    if (m->vmm_monitor)
        return VTX_ERR_UNSUPPORTED;
    if (m->n_regions != s->n_regions ||
        (s->n_regions && memcmp(m->regions, s->regions, s->n_regions * sizeof *s->regions) != 0))
        return VTX_ERR_STATE;
    /* Room for every saved VMCS first, so that nothing changes on failure. */
    if (m->cap_vmcs < s->n_vmcs) {
        vtx_vmcs **n = realloc(m->vmcs, s->n_vmcs * sizeof *n);
        if (!n)
            return VTX_ERR_NO_MEMORY;
        m->vmcs = n;
        m->cap_vmcs = s->n_vmcs;
    }
    while (m->n_vmcs < s->n_vmcs) {
        vtx_vmcs *v = calloc(1, sizeof *v);
        if (!v)
            return VTX_ERR_NO_MEMORY;
        m->vmcs[m->n_vmcs++] = v;
    }
    while (m->n_vmcs > s->n_vmcs)
        free(m->vmcs[--m->n_vmcs]);
    for (size_t i = 0; i < s->n_vmcs; i++)
        *m->vmcs[i] = s->vmcs[i];

    /* The equipment stays; the rest is the saved machine. */
    vtx_machine keep = *m;
    *m = s->m;
    m->regions = keep.regions;
    m->n_regions = keep.n_regions;
    m->cap_regions = keep.cap_regions;
    m->regions_gen = keep.regions_gen;
    m->vmcs = keep.vmcs;
    m->n_vmcs = keep.n_vmcs;
    m->cap_vmcs = keep.cap_vmcs;
    m->current = s->current < s->n_vmcs ? m->vmcs[s->current] : NULL;
    m->engine = keep.engine;
    m->engine_gen = keep.engine_gen;
    m->vmm_monitor = NULL;
    m->phys = keep.phys;
    if (m->engine && !vtx_engine_reusable(m->engine))
        vtx_execute_release(m);
    m->engine_dirty = true;
    m->tlb_pending = true; /* PG-2, see above */
    if (m->engine)
        vtx_engine_reset(m->engine); /* the CPU as a new engine's, TLB forgotten */
    m->tlb_vpid_valid = false;
    return VTX_OK;
}
