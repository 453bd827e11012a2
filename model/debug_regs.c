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
 */
#include "guest_insn.h"

#define DR7_GD (1ull << 13)

bool vtx_mov_dr_general_detect(const vtx_machine *m, const vtx_insn *insn)
{
    return (insn->cls == VTX_IC_MOV_TO_DR || insn->cls == VTX_IC_MOV_FROM_DR) && (m->g.cpu.dr7 & DR7_GD);
}
