/*
 * The segmentation checks of a root-mode memory operand, made before the page
 * walk (ROOT-SEG-1; SDM Vol. 3 "VMX Instruction Reference", the protected-mode
 * and 64-bit-mode exceptions of VMXON ... INVVPID; Vol. 1 "Segment and Limit
 * Checks"): in 64-bit mode a non-canonical address is #GP(0), #SS(0) when the
 * operand is SS-based; outside it an unusable segment, an operand beyond the
 * segment limit or an access the segment's type forbids is #GP(0), #SS(0) for SS.
 */
#include "root_internal.h"

#define VECTOR_SS 12
#define AR_UNUSABLE (1u << 16)
#define AR_DB (1u << 14)
#define AR_CODE (1u << 3)
#define AR_EXPAND_DOWN (1u << 2) /* data segments */
#define AR_RW (1u << 1)          /* writable (data) / readable (code) */

/* Canonical for the current paging mode (48 or 57 bits). */
static bool canonical(const vtx_cpu_state *c, uint64_t a)
{
    unsigned bits = (c->cr4 & VTX_CR4_LA57) ? 57 : 48;
    int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
    return (uint64_t)s == a;
}

uint8_t vtx_root_seg_fault(const vtx_cpu_state *c, unsigned seg, uint64_t off, uint64_t la, size_t len, bool write)
{
    uint8_t vec = seg == VTX_S_SS ? VECTOR_SS : VTX_VECTOR_GP;
    if (vtx_cpu_mode_of(c) == VTX_MODE_LONG64)
        return canonical(c, la) && canonical(c, la + len - 1) ? 0 : vec;
    const vtx_cpu_seg *s = &c->seg[seg];
    if (s->ar & AR_UNUSABLE)
        return vec;
    if ((s->ar & AR_CODE) ? (write || !(s->ar & AR_RW)) : (write && !(s->ar & AR_RW)))
        return vec;
    uint64_t last = off + len - 1;
    if (!(s->ar & AR_CODE) && (s->ar & AR_EXPAND_DOWN)) {
        uint64_t upper = (s->ar & AR_DB) ? 0xFFFFFFFFull : 0xFFFFull;
        return off > s->limit && last <= upper ? 0 : vec;
    }
    return last <= s->limit ? 0 : vec;
}

uint8_t vtx_root_operand_fault(const vtx_machine *m, const vtx_insn *insn, size_t len, bool write)
{
    const vtx_cpu_state *c = &m->host;
    unsigned seg = insn->mem_seg < VTX_S_LDTR ? insn->mem_seg : VTX_S_DS;
    return vtx_root_seg_fault(c, seg, vtx_insn_offset_in(c, insn), vtx_root_linear(m, insn), len, write);
}
