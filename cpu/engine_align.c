/*
 * engine: alignment checking (ENG-AC-1). QEMU's TCG never raises #AC; the
 * engine does, for the first explicit memory operand of an instruction, while
 * the per-instruction hook runs (SDM Vol. 3 §6.15 "Interrupt 17—Alignment Check
 * Exception (#AC)", Table 6-7 "Alignment Requirements by Data Type"): CR0.AM = 1,
 * EFLAGS.AC = 1 and CPL 3, and a word, doubleword, quadword or 80-bit access at an
 * address that is not a multiple of 2, 4, 8 or 8. #AC(0) is a fault: nothing of
 * the instruction happens.
 * Limits: only the instruction's first explicit memory operand (implicit stack
 * accesses of PUSH/CALL and the second operand of MOVS/CMPS are not checked),
 * 128-bit and larger operands are not checked, and the condition is tested at
 * block starts (a POPF that sets EFLAGS.AC applies from the next block).
 */
#include "engine_internal.h"

enum { ENV_EFLAGS = ENV_EIP + 8 };

bool vtx_eng_ac_on(const vtx_engine *e)
{
    uint64_t cr0, rf;
    uint32_t cpl;
    if (e->live) {
        cr0 = rd64(e->live, ENV_CR);
        if (!(cr0 & VTX_CR0_AM))
            return false;
        cpl = rd32(e->live, ENV_HFLAGS) & 3;
        rf = rd64(e->live, ENV_EFLAGS);
    } else {
        uc_reg_read(e->uc, UC_X86_REG_CR0, &cr0);
        if (!(cr0 & VTX_CR0_AM))
            return false;
        uint64_t cs = 0;
        uc_reg_read(e->uc, UC_X86_REG_CS, &cs);
        cpl = (uint32_t)cs & 3; /* protected mode with CR0.AM: CS.RPL is the CPL */
        uc_reg_read(e->uc, UC_X86_REG_RFLAGS, &rf);
    }
    return cpl == 3 && (rf & VTX_RFLAGS_AC);
}

static uint64_t gpr_of(const vtx_engine *e, unsigned n)
{
    static const int regs[16] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                                 UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                                 UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
                                 UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
    uint64_t v = 0;
    if (n < 16) {
        if (e->live)
            v = rd64(e->live, ENV_REGS + 8 * n);
        else
            uc_reg_read(e->uc, regs[n], &v);
    }
    return v;
}

/* The alignment an access of `size` bytes needs (Table 6-7), 0 for none checked. */
static unsigned ac_alignment(unsigned size)
{
    switch (size) {
    case 2: return 2;
    case 4: return 4;
    case 6: return 4;  /* 48-bit far pointer / GDTR image: SDM: 32-bit boundary */
    case 8: return 8;
    case 10: return 8; /* 80-bit */
    default: return 0;
    }
}

bool vtx_eng_ac_fault(const vtx_engine *e, const vtx_insn *in, uint64_t lin)
{
    unsigned align = in->has_mem ? ac_alignment(in->mem_size) : 0;
    if (!align)
        return false;
    uint64_t ea = (uint64_t)in->mem_disp;
    if (in->mem_rip_rel)
        ea += (e->width == 64 ? lin : lin - e->cs_base) + in->len;
    if (in->mem_base != VTX_GPR_NONE)
        ea += gpr_of(e, in->mem_base);
    if (in->mem_index != VTX_GPR_NONE)
        ea += gpr_of(e, in->mem_index) * in->mem_scale;
    if (in->addr_width == 32)
        ea = (uint32_t)ea;
    else if (in->addr_width == 16)
        ea = (uint16_t)ea;
    uint64_t base = 0;
    if (in->mem_seg < 6) {
        if (e->live)
            base = rd64(e->live, ENV_SEGS + (size_t)in->mem_seg * SEG_SZ + 8);
        else if (in->mem_seg >= 4)
            uc_reg_read(e->uc, in->mem_seg == 4 ? UC_X86_REG_FS_BASE : UC_X86_REG_GS_BASE, &base);
    }
    if (e->width == 64 && in->mem_seg < 4)
        base = 0; /* 64-bit mode: ES, CS, SS and DS have base 0 */
    return ((base + ea) & (align - 1)) != 0;
}
