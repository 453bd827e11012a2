/*
 * The accessed bit of segment descriptors the engine loaded (SDM Vol. 3A
 * "Segment Descriptors", type field: the processor sets the accessed bit when it
 * loads a code or data segment descriptor into a segment register). Unicorn 2.0.1
 * (QEMU 5.0) sets it only for MOV/POP to a data segment register; far JMP,
 * CALL, RET and IRET leave it clear (docs/unicorn-audit.md). Those are classes
 * the model steps one at a time, so it sets the bit right after them. The
 * model's own deliveries set it themselves; task switches exit.
 * Rules INS-SEG-1 (docs/rules-own.tsv).
 */
#include "deliver.h"
#include "seg_accessed.h"

/* Real-address or virtual-8086 mode: no descriptors. */
static bool no_descriptors(const vtx_cpu_state *s)
{
    return !(s->cr0 & 1) || ((s->rflags & (1u << 17)) && !(s->efer & (1u << 10)));
}

/* A usable code or data segment with a non-null selector and the accessed bit clear. */
static bool unaccessed(const vtx_cpu_seg *g)
{
    return (g->ar & (VTX_AR_UNUSABLE | VTX_AR_S | VTX_AR_ACCESSED)) == VTX_AR_S && (g->sel & ~3u) != 0;
}

/* TR holds an available TSS (16- or 32-bit). */
static bool tr_available(const vtx_cpu_seg *tr)
{
    return !(tr->ar & VTX_AR_UNUSABLE) && ((tr->ar & 0x1F) == 9 || (tr->ar & 0x1F) == 1);
}

bool vtx_seg_accessed_pending(const vtx_cpu_state *s)
{
    if (no_descriptors(s))
        return false;
    for (int i = VTX_S_ES; i <= VTX_S_GS; i++)
        if (unaccessed(&s->seg[i]))
            return true;
    return tr_available(&s->seg[VTX_S_TR]);
}

unsigned vtx_seg_set_accessed(vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps)
{
    if (no_descriptors(s))
        return 0;
    bool ia32e = s->efer & (1u << 10);
    unsigned changed = 0;
    for (int i = VTX_S_ES; i <= VTX_S_GS; i++) {
        vtx_cpu_seg *g = &s->seg[i];
        if (!unaccessed(g))
            continue;
        bool ldt = g->sel & 4;
        uint64_t table = ldt ? s->seg[VTX_S_LDTR].base : s->gdtr_base;
        uint32_t limit = ldt ? s->seg[VTX_S_LDTR].limit : s->gdtr_limit;
        if ((uint32_t)(g->sel | 7u) > limit || (ldt && (s->seg[VTX_S_LDTR].ar & VTX_AR_UNUSABLE)))
            continue;
        uint64_t la = table + (g->sel & ~7u) + 5; /* the type byte */
        if (!ia32e)
            la = (uint32_t)la;
        uint64_t pa = 0;
        uint32_t ec = 0;
        /* An implicit supervisor access, like the load's own read of the descriptor. */
        if (vtx_translate_ex(s, mem, caps, la, VTX_ACC_IMPLICIT | VTX_ACC_WRITE, &pa, &ec) != VTX_XLATE_OK)
            continue;
        uint8_t type = 0;
        if (!mem->read(mem->ctx, pa, &type, 1) || !(type & (uint8_t)(VTX_DESC_HI_S >> 8)))
            continue;
        type |= (uint8_t)(VTX_DESC_HI_ACCESSED >> 8);
        if (!mem->write(mem->ctx, pa, &type, 1))
            continue;
        g->ar |= VTX_AR_ACCESSED;
        changed++;
    }
    /* LTR marks the descriptor busy in memory but Unicorn keeps the available
     * type in TR's hidden part: TR always holds a busy TSS (SDM Vol. 2 LTR; VM
     * entry requires it, SDM "Checks on Guest Segment Registers"). */
    vtx_cpu_seg *tr = &s->seg[VTX_S_TR];
    if (tr_available(tr)) {
        tr->ar |= 2;
        changed++;
    }
    return changed;
}
