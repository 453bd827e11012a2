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
    return e->unmapped && e->unmapped_type != UC_MEM_FETCH_UNMAPPED && e->width == 64 &&
           !canonical48(a);
}
