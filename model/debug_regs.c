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
    uint64_t v = c->gpr[insn->gpr & 15];
    if (vtx_cpu_mode_of(c) != VTX_MODE_LONG64)
        v = (uint32_t)v; /* 32-bit operands outside 64-bit mode */
    unsigned fault = vtx_cpu_write_dr(c, insn->cr, v);
    if (!fault)
        m->engine_dirty = true;
    return fault;
}
