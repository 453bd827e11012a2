/*
 * SYSCALL, SYSRET, SYSENTER and SYSEXIT, carried out by the model (SDM Vol. 2
 * "SYSCALL", "SYSRET", "SYSENTER", "SYSEXIT": the Operation sections). Unicorn
 * 2.0.1 does not execute them: SYSCALL and SYSRET only call its instruction
 * hooks and go on with the next instruction (no #UD with IA32_EFER.SCE = 0, no
 * jump to IA32_LSTAR), and SYSENTER sees none of the guest's IA32_SYSENTER_*
 * MSRs (docs/unicorn-audit.md). None of them reads a descriptor: CS and SS get
 * fixed flat descriptors, so no accessed bit is involved.
 * Rules INS-SYS-1 (docs/rules-own.tsv); in root operation ROOT-SYS-1
 * (root_insn.c carries them out on the root-mode processor with the host's
 * SYSENTER MSRs, through vtx_fast_syscall_on).
 */
#include "guest_insn.h"

/* Access rights (VMCS layout) of the flat segments these instructions load. */
#define FLAT_CODE64(dpl) (11u | VTX_AR_S | VTX_AR_P | VTX_AR_L | VTX_AR_G | (dpl) << 5)  /* 0xA09B at DPL 0 */
#define FLAT_CODE32(dpl) (11u | VTX_AR_S | VTX_AR_P | VTX_AR_DB | VTX_AR_G | (dpl) << 5) /* 0xC09B */
#define FLAT_STACK(dpl) (3u | VTX_AR_S | VTX_AR_P | VTX_AR_DB | VTX_AR_G | (dpl) << 5)   /* 0xC093 */

static void flat(vtx_cpu_seg *s, uint16_t sel, uint32_t ar)
{
    *s = (vtx_cpu_seg){.sel = sel, .base = 0, .limit = 0xFFFFFFFFu, .ar = ar};
}

/* Canonical for the linear-address width (57 bits with CR4.LA57, else 48). */
static bool canonical(const vtx_cpu_state *c, uint64_t v)
{
    unsigned bits = (c->cr4 & (1u << 12)) ? 57 : 48;
    int64_t s = (int64_t)(v << (64 - bits)) >> (64 - bits);
    return (uint64_t)s == v;
}

unsigned vtx_fast_syscall_on(vtx_cpu_state *c, const vtx_fast_msrs *msr, const vtx_insn *insn)
{
    const bool long64 = vtx_cpu_mode_of(c) == VTX_MODE_LONG64;
    const bool ia32e = c->efer & VTX_EFER_LMA;
    const bool sce = c->efer & 1u;
    const uint64_t next = c->rip + insn->len;
    const uint16_t star_cs = (uint16_t)(msr->star >> 32), star_ret = (uint16_t)(msr->star >> 48);
    switch (insn->fast_syscall) {
    case VTX_FS_SYSCALL:
        if (!long64 || !sce)
            return 6;
        c->gpr[VTX_R_RCX] = next;
        c->gpr[VTX_R_R11] = c->rflags;
        c->rflags &= ~msr->fmask;
        c->rflags &= ~VTX_RFLAGS_RF;
        c->rip = msr->lstar;
        flat(&c->seg[VTX_S_CS], star_cs & 0xFFFC, FLAT_CODE64(0));
        flat(&c->seg[VTX_S_SS], (uint16_t)(star_cs + 8), FLAT_STACK(0));
        break;
    case VTX_FS_SYSRET: {
        if (!long64 || !sce)
            return 6;
        bool w64 = insn->op_size == 8;
        if (vtx_cpu_cpl(c) != 0 || (w64 && !canonical(c, c->gpr[VTX_R_RCX])))
            return 13;
        c->rip = w64 ? c->gpr[VTX_R_RCX] : (uint32_t)c->gpr[VTX_R_RCX];
        c->rflags = (c->gpr[VTX_R_R11] & 0x3C7FD7u) | 2u;
        flat(&c->seg[VTX_S_CS], (uint16_t)((w64 ? star_ret + 16 : star_ret) | 3), w64 ? FLAT_CODE64(3) : FLAT_CODE32(3));
        flat(&c->seg[VTX_S_SS], (uint16_t)((star_ret + 8) | 3), FLAT_STACK(3));
        break;
    }
    case VTX_FS_SYSENTER: {
        uint16_t cs = (uint16_t)msr->sysenter_cs;
        if (!(c->cr0 & VTX_CR0_PE) || !(cs & 0xFFFC))
            return 13;
        c->rflags &= ~(VTX_RFLAGS_VM | VTX_RFLAGS_IF | VTX_RFLAGS_RF);
        c->gpr[VTX_R_RSP] = ia32e ? msr->sysenter_esp : (uint32_t)msr->sysenter_esp;
        c->rip = ia32e ? msr->sysenter_eip : (uint32_t)msr->sysenter_eip;
        flat(&c->seg[VTX_S_CS], cs & 0xFFFC, ia32e ? FLAT_CODE64(0) : FLAT_CODE32(0));
        flat(&c->seg[VTX_S_SS], (uint16_t)((cs & 0xFFFC) + 8), FLAT_STACK(0));
        break;
    }
    case VTX_FS_SYSEXIT: {
        uint16_t cs = (uint16_t)msr->sysenter_cs;
        bool w64 = insn->op_size == 8;
        if (!(c->cr0 & VTX_CR0_PE) || !(cs & 0xFFFC) || vtx_cpu_cpl(c) != 0)
            return 13;
        if (w64 && (!canonical(c, c->gpr[VTX_R_RCX]) || !canonical(c, c->gpr[VTX_R_RDX])))
            return 13;
        c->gpr[VTX_R_RSP] = w64 ? c->gpr[VTX_R_RCX] : (uint32_t)c->gpr[VTX_R_RCX];
        c->rip = w64 ? c->gpr[VTX_R_RDX] : (uint32_t)c->gpr[VTX_R_RDX];
        uint16_t ncs = (uint16_t)((cs + (w64 ? 32 : 16)) | 3);
        flat(&c->seg[VTX_S_CS], ncs, w64 ? FLAT_CODE64(3) : FLAT_CODE32(3));
        flat(&c->seg[VTX_S_SS], (uint16_t)(ncs + 8), FLAT_STACK(3));
        break;
    }
    default:
        return 6;
    }
    return 0;
}

unsigned vtx_fast_syscall(vtx_machine *m, const vtx_insn *insn)
{
    const vtx_fast_msrs msr = {.star = m->msr.star, .lstar = m->msr.lstar, .fmask = m->msr.fmask,
                               .sysenter_cs = m->g.sysenter_cs, .sysenter_esp = m->g.sysenter_esp,
                               .sysenter_eip = m->g.sysenter_eip};
    unsigned fault = vtx_fast_syscall_on(&m->g.cpu, &msr, insn);
    if (!fault)
        m->engine_dirty = true;
    return fault;
}
