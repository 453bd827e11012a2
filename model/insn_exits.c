/*
 * Instruction-caused VM exits (SDM Vol. 3 "Instructions That Cause VM Exits
 * Unconditionally / Conditionally", "Exit Qualification for ... " tables;
 * catalogue EXIT-3, EXIT-6, EXIT-7). Fault-like: the instruction does not
 * execute, RIP stays on it, and blocking by STI/MOV SS is not consumed (BLK-STI-8).
 */
#include <Zydis/Zydis.h>
#include "execute.h"
#include "guest_insn.h"
#include "insn_table.h"

static uint32_t ctl(const vtx_machine *m, enum vtx_slot s) { return (uint32_t)vtx_vmcs_get(&m->current->f, s); }

/* I/O bitmaps: A covers ports 0-7FFF, B 8000-FFFF; an access exits if any byte's bit is set. */
static bool io_exits(const vtx_machine *m, uint16_t port, unsigned size)
{
    uint32_t proc = ctl(m, VTX_SLOT_PROC_CONTROLS);
    if (proc & VTX_PROC_IO_BITMAPS) {
        for (unsigned i = 0; i < size; i++) {
            unsigned p = (port + i) & 0x1FFFF;
            if (p > 0xFFFF)
                return true; /* wraps past FFFF: exits */
            uint64_t base = vtx_vmcs_get(&m->current->f, p < 0x8000 ? VTX_SLOT_IO_BITMAP_A : VTX_SLOT_IO_BITMAP_B);
            uint8_t byte = 0xFF;
            vtx_mem_read(m, base + ((p & 0x7FFF) >> 3), &byte, 1, NULL);
            if (byte & (1u << (p & 7)))
                return true;
        }
        return false;
    }
    return proc & VTX_PROC_UNCOND_IO_EXITING;
}

/* MSR bitmaps: read low 0-1FFF at 0, read high C0000000-C0001FFF at 1024,
 * write low at 2048, write high at 3072. Other MSRs always exit. */
static bool msr_exits(const vtx_machine *m, uint32_t msr, bool write)
{
    if (!(ctl(m, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_MSR_BITMAPS))
        return true;
    uint64_t off;
    if (msr <= 0x1FFF)
        off = 0;
    else if (msr >= 0xC0000000u && msr <= 0xC0001FFFu)
        off = 1024;
    else
        return true;
    off += write ? 2048 : 0;
    uint32_t idx = msr & 0x1FFF;
    uint8_t byte = 0xFF;
    vtx_mem_read(m, vtx_vmcs_get(&m->current->f, VTX_SLOT_MSR_BITMAP) + off + idx / 8, &byte, 1, NULL);
    return (byte >> (idx & 7)) & 1;
}

static bool set_exit(vtx_exit_info *ex, const vtx_insn *insn, uint32_t reason, uint64_t qual)
{
    *ex = (vtx_exit_info){.reason = reason, .qualification = qual, .instruction_len = insn->len};
    return true;
}

/* MOV to/from CR, CLTS, LMSW (exit reason 28; qualification: CR number 3:0,
 * access type 5:4, LMSW operand type 6, register 11:8, LMSW source 31:16). */
static bool cr_exits(const vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex)
{
    const vtx_guest *g = &m->g;
    uint32_t proc = ctl(m, VTX_SLOT_PROC_CONTROLS);
    uint64_t v = g->cpu.gpr[insn->gpr & 15];
    uint64_t q_reg = (uint64_t)(insn->gpr & 15) << 8;
    switch (insn->cls) {
    case VTX_IC_MOV_TO_CR:
        if (insn->cr == 0 || insn->cr == 4) {
            /* Exits if a bit owned by the host (mask 1) would differ from the read shadow. */
            uint64_t mask = vtx_vmcs_get(&m->current->f, insn->cr ? VTX_SLOT_CR4_GUEST_HOST_MASK : VTX_SLOT_CR0_GUEST_HOST_MASK);
            uint64_t shadow = vtx_vmcs_get(&m->current->f, insn->cr ? VTX_SLOT_CR4_READ_SHADOW : VTX_SLOT_CR0_READ_SHADOW);
            if ((v ^ shadow) & mask)
                return set_exit(ex, insn, VTX_EXIT_REASON_CR_ACCESS, insn->cr | q_reg);
            return false;
        }
        if (insn->cr == 3) {
            if (!(proc & VTX_PROC_CR3_LOAD_EXITING))
                return false;
            /* No exit when the value equals one of the first CR3-target-count values. */
            uint32_t n = ctl(m, VTX_SLOT_CR3_TARGET_COUNT);
            for (uint32_t i = 0; i < n && i < 4; i++)
                if (vtx_vmcs_get(&m->current->f, (enum vtx_slot)(VTX_SLOT_CR3_TARGET_VALUE0 + i)) == v)
                    return false;
            return set_exit(ex, insn, VTX_EXIT_REASON_CR_ACCESS, 3 | q_reg);
        }
        if (insn->cr == 8 && (proc & VTX_PROC_CR8_LOAD_EXITING))
            return set_exit(ex, insn, VTX_EXIT_REASON_CR_ACCESS, 8 | q_reg);
        return false;
    case VTX_IC_MOV_FROM_CR:
        if (insn->cr == 3 && (proc & VTX_PROC_CR3_STORE_EXITING))
            return set_exit(ex, insn, VTX_EXIT_REASON_CR_ACCESS, 3 | (1u << 4) | q_reg);
        if (insn->cr == 8 && (proc & VTX_PROC_CR8_STORE_EXITING))
            return set_exit(ex, insn, VTX_EXIT_REASON_CR_ACCESS, 8 | (1u << 4) | q_reg);
        return false;
    case VTX_IC_CLTS: {
        /* Exits if CR0.TS is host-owned and its read-shadow bit is 1. */
        uint64_t mask = vtx_vmcs_get(&m->current->f, VTX_SLOT_CR0_GUEST_HOST_MASK);
        uint64_t shadow = vtx_vmcs_get(&m->current->f, VTX_SLOT_CR0_READ_SHADOW);
        if ((mask & shadow) & (1u << 3))
            return set_exit(ex, insn, VTX_EXIT_REASON_CR_ACCESS, 0 | (2u << 4));
        return false;
    }
    case VTX_IC_LMSW: {
        /* LMSW loads CR0 bits 3:0 (PE cannot be cleared). Exits if a host-owned bit
         * among 3:0 would differ from the shadow, or PE would be set with shadow PE 0. */
        uint64_t mask = vtx_vmcs_get(&m->current->f, VTX_SLOT_CR0_GUEST_HOST_MASK) & 0xF;
        uint64_t shadow = vtx_vmcs_get(&m->current->f, VTX_SLOT_CR0_READ_SHADOW);
        /* The source: the register, or the memory operand (execute.c fetched it
         * already: a fault of that fetch comes before the exit). */
        uint16_t src = (uint16_t)v;
        vtx_linear_fault f;
        if (insn->mem_operand && !vtx_lmsw_source(m, insn, true, &src, &f))
            return false;
        bool exits = ((src ^ shadow) & mask & 0xE) || ((mask & 1) && (src & 1) && !(shadow & 1));
        if (!exits)
            return false;
        set_exit(ex, insn, VTX_EXIT_REASON_CR_ACCESS,
                 (3u << 4) | (insn->mem_operand ? 1u << 6 : 0) | ((uint64_t)src << 16));
        /* SDM "Guest-Linear Address": LMSW with a memory operand gives its linear address (INS-LMSW-1). */
        if (insn->mem_operand) {
            ex->has_guest_linear = true;
            ex->guest_linear = vtx_insn_linear(m, insn);
        }
        return true;
    }
    default:
        return false;
    }
}

/* The exit decision and the reason, qualification and length of an
 * instruction-caused exit (vtx_insn_exit adds the operand information). Rows
 * of the instruction table that exit unconditionally or by one control are
 * decided from the table (insn_table.h); the rest by their own conditions. */
static bool insn_exit_basic(const vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex)
{
    const vtx_guest *g = &m->g;
    const vtx_insn_row *row = vtx_insn_row_of(insn);
    switch (insn->cls) {
    /* VMREAD/VMWRITE exit with "VMCS shadowing" = 0, the only setting VM entry
     * lets through (insn_table.h); the other VMX instructions always. */
    case VTX_IC_VMX: return set_exit(ex, insn, vtx_vmx_insn_exit_reason(insn), 0);
    /* VMFUNC (past its #UD gate): no VM function can be enabled (VM entry
     * refuses them), so every EAX exits (SDM16 25.5.5). */
    case VTX_IC_VMFUNC: return set_exit(ex, insn, VTX_EXIT_REASON_VMFUNC, 0);
    case VTX_IC_RDMSR:
    case VTX_IC_WRMSR:
        return msr_exits(m, (uint32_t)g->cpu.gpr[VTX_R_RCX], insn->cls == VTX_IC_WRMSR) &&
               set_exit(ex, insn, insn->cls == VTX_IC_WRMSR ? VTX_EXIT_REASON_WRMSR : VTX_EXIT_REASON_RDMSR, 0);
    case VTX_IC_IN: case VTX_IC_OUT: case VTX_IC_INS: case VTX_IC_OUTS: {
        uint16_t port = insn->port_in_dx ? (uint16_t)g->cpu.gpr[VTX_R_RDX] : insn->imm8;
        if (!io_exits(m, port, insn->op_size))
            return false;
        /* Qualification: size - 1 (2:0), direction 3 (1 = IN), string 4, REP 5,
         * operand encoding 6 (1 = immediate), port 31:16. */
        bool in = insn->cls == VTX_IC_IN || insn->cls == VTX_IC_INS;
        bool str = insn->cls == VTX_IC_INS || insn->cls == VTX_IC_OUTS;
        uint64_t q = (uint64_t)(insn->op_size - 1) | (in ? 1u << 3 : 0) | (str ? 1u << 4 : 0) |
                     (insn->rep ? 1u << 5 : 0) | (insn->port_in_dx ? 0 : 1u << 6) | ((uint64_t)port << 16);
        return set_exit(ex, insn, VTX_EXIT_REASON_IO_INSTRUCTION, q);
    }
    case VTX_IC_MOV_TO_CR: case VTX_IC_MOV_FROM_CR: case VTX_IC_CLTS: case VTX_IC_LMSW:
        return cr_exits(m, insn, ex);
    default:
        break;
    }
    if (!row || row->reason < 0)
        return false;
    if (row->cond == VTX_IROW_UNCOND || (row->cond == VTX_IROW_CONTROL && vtx_insn_row_ctl(m, row->exit_ctl))) {
        /* MOV DR qualification: DR number 2:0, direction 4 (1 = MOV from DR), register 11:8. */
        uint64_t q = row->qual != VTX_IROW_Q_DR ? 0
                     : (insn->cr & 7) | (insn->cls == VTX_IC_MOV_FROM_DR ? 1u << 4 : 0) | ((insn->gpr & 15u) << 8);
        return set_exit(ex, insn, (uint32_t)row->reason, q);
    }
    return false;
}

/* ---- VM-exit instruction information (0x440E) and displacement qualifications ----
 * SDM Vol. 3 "VM-Exit Instruction Information" and "Exit Qualification for
 * VM Exits Due to Instructions" (catalogue EXIT-3). Bits the SDM leaves
 * undefined (scaling without an index, the registers of an invalid
 * index/base, the memory fields of a register form, the operand size of LGDT &
 * co. in 64-bit mode, Reg1 of a memory form) are written as 0. */

/* Address size in the 9:7 encoding: 0 16-bit, 1 32-bit, 2 64-bit. */
static uint32_t info_addr_size(const vtx_insn *insn)
{
    return insn->addr_width == 64 ? 2u : insn->addr_width == 32 ? 1u : 0u;
}

/* The memory-operand bits common to the tables: scaling 1:0, address size 9:7,
 * segment register 17:15, IndexReg 21:18 and its invalid bit 22, BaseReg 26:23
 * and its invalid bit 27 (a RIP-relative operand has no base register). */
static uint32_t info_mem(const vtx_insn *insn)
{
    uint32_t v = info_addr_size(insn) << 7 | (uint32_t)(insn->mem_seg & 7) << 15;
    if (insn->mem_index == VTX_GPR_NONE) {
        v |= 1u << 22;
    } else {
        uint32_t scaling = insn->mem_scale == 8 ? 3u : insn->mem_scale == 4 ? 2u : insn->mem_scale == 2 ? 1u : 0u;
        v |= scaling | (uint32_t)(insn->mem_index & 15) << 18;
    }
    if (insn->mem_base == VTX_GPR_NONE)
        v |= 1u << 27;
    else
        v |= (uint32_t)(insn->mem_base & 15) << 23;
    return v;
}

/* A register-or-memory operand as Tables "LLDT, LTR, SLDT, and STR" and
 * "VMREAD and VMWRITE" give it: the register form sets bit 10 with Reg1 in
 * 6:3; the memory form has the memory bits. */
static uint32_t info_reg_or_mem(const vtx_insn *insn)
{
    if (insn->rm_gpr != VTX_GPR_NONE)
        return 1u << 10 | (uint32_t)(insn->rm_gpr & 15) << 3;
    return insn->has_mem ? info_mem(insn) : 0;
}

/* A register number for bits 31:28 (Reg2), 0 when there is none. */
static uint32_t info_reg2(const vtx_insn *insn)
{
    return insn->reg_gpr == VTX_GPR_NONE ? 0 : (uint32_t)(insn->reg_gpr & 15) << 28;
}

/* The exit qualification of the descriptor-table, VMX and INVEPT/INVVPID/INVPCID
 * exits: the displacement of the memory operand, sign-extended; for a
 * RIP-relative operand, the displacement plus the RIP of the next instruction;
 * 0 for a register operand. */
static uint64_t disp_qualification(const vtx_machine *m, const vtx_insn *insn)
{
    if (!insn->has_mem || insn->rm_gpr != VTX_GPR_NONE)
        return 0;
    uint64_t q = (uint64_t)insn->mem_disp;
    if (insn->mem_rip_rel)
        q += m->g.cpu.rip + insn->len;
    return q;
}

uint64_t vtx_insn_offset(const vtx_machine *m, const vtx_insn *insn) { return vtx_insn_offset_in(&m->g.cpu, insn); }

uint64_t vtx_insn_offset_in(const vtx_cpu_state *c, const vtx_insn *insn)
{
    uint64_t ea = (uint64_t)insn->mem_disp;
    if (insn->mem_base != VTX_GPR_NONE)
        ea += c->gpr[insn->mem_base & 15];
    if (insn->mem_index != VTX_GPR_NONE)
        ea += c->gpr[insn->mem_index & 15] * insn->mem_scale;
    if (insn->mem_rip_rel)
        ea += c->rip + insn->len;
    if (insn->addr_width == 32)
        ea = (uint32_t)ea;
    else if (insn->addr_width == 16)
        ea = (uint16_t)ea;
    return ea;
}

/* The linear address of the memory operand (INVLPG's exit qualification): its
 * offset plus the segment base (in 64-bit mode only FS and GS have one),
 * truncated to 32 bits outside 64-bit mode. */
static uint64_t linear_address(const vtx_machine *m, const vtx_insn *insn)
{
    const vtx_cpu_state *c = &m->g.cpu;
    uint64_t ea = vtx_insn_offset(m, insn);
    bool long64 = vtx_cpu_mode_of(c) == VTX_MODE_LONG64;
    unsigned seg = insn->mem_seg < VTX_S_LDTR ? insn->mem_seg : VTX_S_DS;
    if (!long64 || seg == VTX_S_FS || seg == VTX_S_GS)
        ea += c->seg[seg].base;
    return long64 ? ea : (uint32_t)ea;
}

uint64_t vtx_insn_linear(const vtx_machine *m, const vtx_insn *insn) { return linear_address(m, insn); }

/* Fill the instruction information and, where the SDM defines it so, the
 * displacement or linear-address exit qualification of an instruction exit. */
static void operand_info(const vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex)
{
    uint32_t info = 0;
    switch (ex->reason) {
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        /* Table "Format of the VM-Exit Instruction-Information Field as Used for INS
         * and OUTS": address size 9:7, segment register 17:15 (undefined for INS,
         * which always writes through ES); only with IA32_VMX_BASIC[54] = 1. */
        if ((insn->cls == VTX_IC_INS || insn->cls == VTX_IC_OUTS) &&
            ((m->profile.msr[VTX_CAP_IA32_VMX_BASIC] >> 54) & 1))
            info = info_addr_size(insn) << 7 | (uint32_t)(insn->mem_seg & 7) << 15;
        /* SDM "Guest-Linear Address": INS/OUTS give the linear address of the
         * memory operand (ES:rDI for INS; DS:rSI or the override for OUTS), with
         * the instruction's address size (INS-IO-1). */
        if ((insn->cls == VTX_IC_INS || insn->cls == VTX_IC_OUTS) && insn->has_mem) {
            ex->has_guest_linear = true;
            ex->guest_linear = linear_address(m, insn);
        }
        break;
    case VTX_EXIT_REASON_INVLPG:
        ex->qualification = linear_address(m, insn);
        break;
    case VTX_EXIT_REASON_GDTR_IDTR: {
        /* Table "... for LIDT, LGDT, SIDT, or SGDT": operand size 11 (0 16-bit,
         * 1 32-bit), identity 29:28 (0 SGDT, 1 SIDT, 2 LGDT, 3 LIDT). */
        uint32_t id = insn->cls == VTX_IC_SGDT ? 0u : insn->cls == VTX_IC_SIDT ? 1u : insn->cls == VTX_IC_LGDT ? 2u : 3u;
        bool long64 = vtx_cpu_mode_of(&m->g.cpu) == VTX_MODE_LONG64;
        info = info_mem(insn) | (!long64 && insn->op_size == 4 ? 1u << 11 : 0) | id << 28;
        ex->qualification = disp_qualification(m, insn);
        break;
    }
    case VTX_EXIT_REASON_LDTR_TR: {
        /* Table "... for LLDT, LTR, SLDT, and STR": identity 29:28 (0 SLDT, 1 STR, 2 LLDT, 3 LTR). */
        uint32_t id = insn->cls == VTX_IC_SLDT ? 0u : insn->cls == VTX_IC_STR ? 1u : insn->cls == VTX_IC_LLDT ? 2u : 3u;
        info = info_reg_or_mem(insn) | id << 28;
        ex->qualification = disp_qualification(m, insn);
        break;
    }
    case VTX_EXIT_REASON_RDRAND:
    case VTX_EXIT_REASON_RDSEED:
        /* Table "... for RDRAND, RDSEED, TPAUSE, and UMWAIT": destination register
         * 6:3, operand size 12:11 (0 16-bit, 1 32-bit, 2 64-bit). */
        info = (uint32_t)(insn->gpr & 15) << 3 | (insn->op_size == 8 ? 2u : insn->op_size == 4 ? 1u : 0u) << 11;
        break;
    case VTX_EXIT_REASON_VMCLEAR:
    case VTX_EXIT_REASON_VMPTRLD:
    case VTX_EXIT_REASON_VMPTRST:
    case VTX_EXIT_REASON_VMXON:
        /* Table "... for VMCLEAR, VMPTRLD, VMPTRST, VMXON, XRSTORS, and XSAVES". */
        info = insn->has_mem ? info_mem(insn) : 0;
        ex->qualification = disp_qualification(m, insn);
        break;
    case VTX_EXIT_REASON_VMREAD:
    case VTX_EXIT_REASON_VMWRITE:
        /* Table "... for VMREAD and VMWRITE": Reg1 / memory is the r/m operand
         * (VMREAD's destination, VMWRITE's source), Reg2 31:28 the field encoding. */
        info = info_reg_or_mem(insn) | info_reg2(insn);
        ex->qualification = disp_qualification(m, insn);
        break;
    case VTX_EXIT_REASON_INVEPT:
    case VTX_EXIT_REASON_INVVPID:
    case VTX_EXIT_REASON_INVPCID:
        /* Table "... for INVEPT, INVPCID, and INVVPID": the memory operand (the
         * descriptor), bit 10 = 0, Reg2 31:28 the type register. */
        info = (insn->has_mem ? info_mem(insn) : 0) | info_reg2(insn);
        ex->qualification = disp_qualification(m, insn);
        break;
    default:
        break;
    }
    ex->instruction_info = info;
}

bool vtx_insn_exit(const vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex)
{
    if (!insn_exit_basic(m, insn, ex))
        return false;
    operand_info(m, insn, ex);
    return true;
}

/* Exit reason of a VMX instruction from the decoder's mnemonic (SDM Appendix C;
 * VMCALL's reason for anything else). */
uint32_t vtx_vmx_insn_exit_reason(const vtx_insn *insn)
{
    switch ((ZydisMnemonic)insn->mnemonic) {
    case ZYDIS_MNEMONIC_VMCLEAR: return VTX_EXIT_REASON_VMCLEAR;
    case ZYDIS_MNEMONIC_VMLAUNCH: return VTX_EXIT_REASON_VMLAUNCH;
    case ZYDIS_MNEMONIC_VMPTRLD: return VTX_EXIT_REASON_VMPTRLD;
    case ZYDIS_MNEMONIC_VMPTRST: return VTX_EXIT_REASON_VMPTRST;
    case ZYDIS_MNEMONIC_VMREAD: return VTX_EXIT_REASON_VMREAD;
    case ZYDIS_MNEMONIC_VMRESUME: return VTX_EXIT_REASON_VMRESUME;
    case ZYDIS_MNEMONIC_VMWRITE: return VTX_EXIT_REASON_VMWRITE;
    case ZYDIS_MNEMONIC_VMXOFF: return VTX_EXIT_REASON_VMXOFF;
    case ZYDIS_MNEMONIC_VMXON: return VTX_EXIT_REASON_VMXON;
    case ZYDIS_MNEMONIC_INVEPT: return VTX_EXIT_REASON_INVEPT;
    case ZYDIS_MNEMONIC_INVVPID: return VTX_EXIT_REASON_INVVPID;
    default: return VTX_EXIT_REASON_VMCALL;
    }
}
