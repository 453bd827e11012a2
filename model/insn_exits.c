/*
 * Instruction-caused VM exits (SDM Vol. 3 "Instructions That Cause VM Exits
 * Unconditionally / Conditionally", "Exit Qualification for ... " tables;
 * catalogue EXIT-3, EXIT-6, EXIT-7). Fault-like: the instruction does not
 * execute, RIP stays on it, and blocking by STI/MOV SS is not consumed (BLK-STI-8).
 */
#include "execute.h"

static uint32_t ctl(const vtx_machine *m, enum vtx_slot s) { return (uint32_t)vtx_vmcs_get(&m->current->f, s); }

static bool proc2(const vtx_machine *m, uint32_t bit)
{
    return (ctl(m, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_SECONDARY_CONTROLS) && (ctl(m, VTX_SLOT_PROC_CONTROLS2) & bit);
}

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
        uint16_t src = (uint16_t)v; /* register form (execute.c refuses the memory form for now) */
        bool exits = ((src ^ shadow) & mask & 0xE) || ((mask & 1) && (src & 1) && !(shadow & 1));
        if (exits)
            return set_exit(ex, insn, VTX_EXIT_REASON_CR_ACCESS,
                            (3u << 4) | (insn->mem_operand ? 1u << 6 : 0) | ((uint64_t)src << 16));
        return false;
    }
    default:
        return false;
    }
}

bool vtx_insn_exit(const vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex)
{
    uint32_t proc = ctl(m, VTX_SLOT_PROC_CONTROLS);
    const vtx_guest *g = &m->g;
    switch (insn->cls) {
    /* Unconditional (SDM "Instructions That Cause VM Exits Unconditionally"). */
    case VTX_IC_CPUID: return set_exit(ex, insn, VTX_EXIT_REASON_CPUID, 0);
    case VTX_IC_GETSEC: return set_exit(ex, insn, VTX_EXIT_REASON_GETSEC, 0);
    case VTX_IC_INVD: return set_exit(ex, insn, VTX_EXIT_REASON_INVD, 0);
    case VTX_IC_XSETBV: return set_exit(ex, insn, VTX_EXIT_REASON_XSETBV, 0);
    case VTX_IC_VMCALL: return set_exit(ex, insn, VTX_EXIT_REASON_VMCALL, 0);
    case VTX_IC_VMX: return set_exit(ex, insn, vtx_vmx_insn_exit_reason(insn), 0);
    /* Conditional. */
    case VTX_IC_HLT: return (proc & VTX_PROC_HLT_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_HLT, 0);
    case VTX_IC_INVLPG: return (proc & VTX_PROC_INVLPG_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_INVLPG, 0);
    case VTX_IC_RDPMC: return (proc & VTX_PROC_RDPMC_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_RDPMC, 0);
    case VTX_IC_RDTSC: return (proc & VTX_PROC_RDTSC_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_RDTSC, 0);
    case VTX_IC_RDTSCP: return (proc & VTX_PROC_RDTSC_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_RDTSCP, 0);
    case VTX_IC_MWAIT: return (proc & VTX_PROC_MWAIT_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_MWAIT, 0);
    case VTX_IC_MONITOR: return (proc & VTX_PROC_MONITOR_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_MONITOR, 0);
    case VTX_IC_PAUSE: return (proc & VTX_PROC_PAUSE_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_PAUSE, 0);
    case VTX_IC_WBINVD: return proc2(m, VTX_PROC2_WBINVD_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_WBINVD, 0);
    case VTX_IC_RDRAND: return proc2(m, VTX_PROC2_RDRAND_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_RDRAND, 0);
    case VTX_IC_RDSEED: return proc2(m, VTX_PROC2_RDSEED_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_RDSEED, 0);
    case VTX_IC_MOV_TO_DR:
    case VTX_IC_MOV_FROM_DR:
        /* Qualification: DR number 2:0, direction 4 (1 = MOV from DR), register 11:8. */
        return (proc & VTX_PROC_MOV_DR_EXITING) &&
               set_exit(ex, insn, VTX_EXIT_REASON_DR_ACCESS,
                        (insn->cr & 7) | (insn->cls == VTX_IC_MOV_FROM_DR ? 1u << 4 : 0) | ((insn->gpr & 15u) << 8));
    case VTX_IC_LGDT: case VTX_IC_LIDT: case VTX_IC_SGDT: case VTX_IC_SIDT:
        return proc2(m, VTX_PROC2_DESC_TABLE_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_GDTR_IDTR, 0);
    case VTX_IC_LLDT: case VTX_IC_LTR: case VTX_IC_SLDT: case VTX_IC_STR:
        return proc2(m, VTX_PROC2_DESC_TABLE_EXITING) && set_exit(ex, insn, VTX_EXIT_REASON_LDTR_TR, 0);
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
        return false;
    }
}

uint32_t vtx_vmx_insn_exit_reason(const vtx_insn *insn)
{
    /* The mnemonic tells VMX instructions apart. */
    static const struct { const char *mn; uint32_t reason; } t[] = {
        {"vmclear", VTX_EXIT_REASON_VMCLEAR}, {"vmlaunch", VTX_EXIT_REASON_VMLAUNCH},
        {"vmptrld", VTX_EXIT_REASON_VMPTRLD}, {"vmptrst", VTX_EXIT_REASON_VMPTRST},
        {"vmread", VTX_EXIT_REASON_VMREAD},   {"vmresume", VTX_EXIT_REASON_VMRESUME},
        {"vmwrite", VTX_EXIT_REASON_VMWRITE}, {"vmxoff", VTX_EXIT_REASON_VMXOFF},
        {"vmxon", VTX_EXIT_REASON_VMXON},     {"invept", VTX_EXIT_REASON_INVEPT},
        {"invvpid", VTX_EXIT_REASON_INVVPID},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t n = strlen(t[i].mn);
        if (strncmp(insn->text, t[i].mn, n) == 0 && (insn->text[n] == ' ' || insn->text[n] == '\0'))
            return t[i].reason;
    }
    return VTX_EXIT_REASON_VMCALL;
}
