/*
 * MOV DR in VMX non-root operation: the general-detect debug exception
 * (SDM Vol. 3A "Debug Control Register (DR7)", GD; "Debug Status Register
 * (DR6)", BD; Vol. 2 "MOV—Move to/from Debug Registers": #DB if any debug
 * register is accessed while DR7.GD = 1).
 *
 * Order (execute.c): the "MOV-DR exiting" VM exit first, then #GP(0) for CPL > 0,
 * then the general-detect #DB. SDM Vol. 3C "Relative Priority of Faults and VM
 * Exits": fault-like VM exits have priority over exceptions other than #UD,
 * privilege-level faults and TSS I/O-permission #GP, and "Instructions That Cause
 * VM Exits Conditionally", MOV DR: its VM exits also take priority over the #GP
 * based on privilege level and the #UD of DR4/DR5 with CR4.DE = 1. The #DB of
 * general detect is none of those, so "MOV-DR exiting" wins over it.
 * Rules INS-DR-1 (docs/rules-own.tsv).
 */
#include "guest_insn.h"

bool vtx_mov_dr_general_detect(const vtx_machine *m, const vtx_insn *insn)
{
    return (insn->cls == VTX_IC_MOV_TO_DR || insn->cls == VTX_IC_MOV_FROM_DR) && (m->g.cpu.dr7 & VTX_DR7_GD);
}

unsigned vtx_mov_to_dr(vtx_machine *m, const vtx_insn *insn)
{
    vtx_cpu_state *c = &m->g.cpu;
    unsigned n = insn->cr & 7;
    uint64_t v = c->gpr[insn->gpr & 15];
    if (vtx_cpu_mode_of(c) != VTX_MODE_LONG64)
        v = (uint32_t)v; /* 32-bit operands outside 64-bit mode */
    if (n == 4 || n == 5) {
        if (c->cr4 & (1u << 3)) /* CR4.DE */
            return 6;
        n += 2;
    }
    if (n >= 6 && (v >> 32))
        return 13;
    switch (n) {
    case 6:
        /* B0-B3, BD, BS, BT are written; bits 4-11 and 16-31 read as 1, bit 12 as 0. */
        c->dr6 = (v & 0xE00Full) | 0xFFFF0FF0ull;
        break;
    case 7:
        /* Bit 10 reads as 1; bits 11, 12, 14 and 15 as 0. */
        c->dr7 = (v & 0xFFFF23FFull) | 0x400ull;
        break;
    default:
        c->dr[n] = v;
        break;
    }
    m->engine_dirty = true;
    return 0;
}
