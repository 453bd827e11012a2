/*
 * engine: canonical addresses (ENG-NC-1; SDM Vol. 3A "Canonical Address
 * Checking"). In 64-bit mode a data access at a non-canonical linear address is
 * #GP(0), or #SS(0) when it references SS: a fault, not an access to unmapped
 * memory.
 */
#include "engine_internal.h"

static bool canonical48(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

/* ENG-NC-1 where the engine checks canonical addresses itself (Unicorn 2.1 raises
 * #GP for every one, also for an SS-based operand): the instruction at `lin` has an
 * explicit SS-based memory operand at a non-canonical address, so the fault is #SS(0). */
bool vtx_eng_ss_noncanonical(vtx_engine *e, uint64_t lin)
{
    const vtx_insn *in;
    if (vtx_engine_decode(e, lin, &in) != 0 || !in->has_mem || in->mem_seg != 2)
        return false;
    uint64_t a = vtx_eng_mem_linear(e, in);
    return !canonical48(a);
}

/* ENG-NC-1 where Unicorn reports the access as unmapped (2.0.1): the run stopped on a
 * data access at a non-canonical address in 64-bit mode. */
bool vtx_eng_noncanonical_data(const vtx_engine *e)
{
    uint64_t a = e->unmapped_addr;
    return vtx_eng_unmapped_data(e) && e->width == 64 && !canonical48(a);
}

/*
 * ENG-NC-2: on Unicorn 2.0.1 a data access at a non-canonical address reaches
 * the unmapped-access hook before QEMU's page walk (Unicorn looks the linear
 * address up in its memory map first), and a refused access ends the run where
 * nothing is exact on the fast path: a load leaves RIP on its block's start and
 * the lazy flags as they were synced last, a store lets the rest of its block
 * run. The #GP that hardware raises must come at the instruction, after the
 * ones before it and before the ones after it. So the hook maps a page at the
 * address instead and lets the access go on: QEMU's page walk then finds the
 * address non-canonical and raises #GP(0) the way it raises every fault, with
 * RIP and the flags restored to the instruction (the engine turns it into
 * #SS(0) for an SS-based operand, vtx_eng_ss_noncanonical). No page is ever
 * accessed: the walk refuses the address before it reads a table. The pages go
 * when the run ends.
 */
bool vtx_eng_nc_map(vtx_engine *e, int type, uint64_t a)
{
    if (type == UC_MEM_FETCH_UNMAPPED || e->width != 64 || canonical48(a) || !(e->cr0 & VTX_CR0_PG) ||
        e->n_nc == sizeof e->nc_page / sizeof e->nc_page[0])
        return false;
    uint64_t page = a & ~0xfffull;
    for (unsigned i = 0; i < e->n_nc; i++)
        if (e->nc_page[i] == page)
            return false; /* mapped already, and the access still came here */
    if (uc_mem_map(e->uc, page, 4096, UC_PROT_READ | UC_PROT_WRITE) != UC_ERR_OK)
        return false;
    e->nc_page[e->n_nc++] = page;
    return true;
}

void vtx_eng_nc_unmap(vtx_engine *e)
{
    for (unsigned i = 0; i < e->n_nc; i++)
        uc_mem_unmap(e->uc, e->nc_page[i], 4096);
    e->n_nc = 0;
}
