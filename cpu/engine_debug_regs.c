/*
 * engine: MOV to a debug register (ENG-DR-1). Unicorn would arm a QEMU
 * breakpoint from DR7, and hitting one crashes the process
 * (docs/unicorn-audit.md): the engine never lets Unicorn execute MOV to DR.
 */
#include "engine_internal.h"

/* ENG-DR-1: a MOV to DR the caller let through, carried out on the CPU state (written
 * into Unicorn's registers directly: no breakpoint is armed). Only the fault-free case
 * (CPL 0, no DR4/DR5 with CR4.DE, no bits 63:32 for DR6/DR7, DR7.GD clear); otherwise
 * false and the run ends with VTX_STOP_ERROR. */
bool vtx_eng_own_mov_to_dr(vtx_engine *e, const vtx_insn *in)
{
    vtx_cpu_state c;
    if (vtx_engine_get_state(e, &c) != 0 || vtx_cpu_cpl(&c) != 0 || (c.dr7 & VTX_DR7_GD))
        return false;
    uint64_t v = c.gpr[in->gpr & 15];
    if (vtx_cpu_mode_of(&c) != VTX_MODE_LONG64)
        v = (uint32_t)v;
    if (vtx_cpu_write_dr(&c, in->cr, v) != 0)
        return false;
    c.rip += in->len;
    if (vtx_cpu_mode_of(&c) != VTX_MODE_LONG64)
        c.rip = (uint32_t)c.rip;
    return vtx_engine_set_state(e, &c, NULL) == 0;
}
