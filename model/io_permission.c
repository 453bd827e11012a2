/*
 * I/O protection of IN, OUT, INS and OUTS (SDM Vol. 1 "I/O Privilege Level" and
 * "I/O Permission Bit Map"): in protected mode with CPL > IOPL, and always in
 * virtual-8086 mode, the access is allowed only if every bit for its ports is 0
 * in the TSS's I/O permission bit map; otherwise #GP(0). SDM Vol. 3C "Relative
 * Priority of Faults and VM Exits": this #GP has priority over the I/O VM exit.
 * Unicorn 2.0.1 does not check it (docs/unicorn-audit.md).
 * Rules INS-IO-2 (docs/rules-own.tsv).
 */
#include "guest_insn.h"

bool vtx_io_denied_on(const vtx_cpu_state *c, uint16_t port, unsigned size, vtx_io_read_fn rd, void *ctx)
{
    if (!(c->cr0 & VTX_CR0_PE))
        return false;
    bool v86 = (c->rflags & VTX_RFLAGS_VM) && !(c->efer & VTX_EFER_LMA);
    if (!v86 && vtx_cpu_cpl(c) <= VTX_RFLAGS_IOPL(c->rflags))
        return false;
    const vtx_cpu_seg *tr = &c->seg[VTX_S_TR];
    unsigned type = tr->ar & 0xF;
    if ((tr->ar & VTX_AR_UNUSABLE) || (type != 9 && type != 11))
        return true; /* no 32/64-bit TSS, no bit map */
    /* The I/O map base (TSS offset 66H), then the two bytes holding the port's
     * bits; a bit beyond the TSS limit counts as 1. Implicit supervisor reads. */
    if (tr->limit < 0x67)
        return true;
    uint8_t b[2];
    if (!rd(ctx, tr->base + 0x66, b, 2))
        return true;
    uint32_t off = (uint32_t)(b[0] | b[1] << 8) + port / 8u;
    if (off + 1 > tr->limit)
        return true;
    if (!rd(ctx, tr->base + off, b, 2))
        return true;
    uint32_t bits = (uint32_t)(b[0] | b[1] << 8) >> (port & 7);
    return (bits & ((1u << size) - 1)) != 0;
}

static bool guest_read(void *ctx, uint64_t la, void *buf, size_t len)
{
    vtx_linear_fault f;
    return vtx_guest_linear_access(ctx, la, buf, len, false, VTX_LIN_IMPLICIT, &f);
}

bool vtx_io_denied(const vtx_machine *m, const vtx_insn *insn)
{
    const vtx_cpu_state *c = &m->g.cpu;
    uint16_t port = insn->port_in_dx ? (uint16_t)c->gpr[VTX_R_RDX] : insn->imm8;
    return vtx_io_denied_on(c, port, insn->op_size ? insn->op_size : 1, guest_read, (void *)m);
}
