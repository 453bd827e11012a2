/* decode: see the header. Zydis 4 decoding and classification. */
#include "engine.h"

#include <Zydis/Zydis.h>
#include <stdio.h>
#include <string.h>

static const char *const class_names[] = {
#define VTX_X_NAME(n, cost) #n,
    VTX_INSN_CLASSES(VTX_X_NAME)
#undef VTX_X_NAME
};

const char *vtx_insn_class_name(vtx_insn_class c)
{
    return (unsigned)c < VTX_IC_COUNT ? class_names[c] : "?";
}

unsigned vtx_insn_class_default_cost(vtx_insn_class c)
{
    static const unsigned costs[] = {
#define VTX_X_COST(n, cost) cost,
        VTX_INSN_CLASSES(VTX_X_COST)
#undef VTX_X_COST
    };
    return (unsigned)c < VTX_IC_COUNT ? costs[c] : 0;
}

static bool is_reg(const ZydisDecodedOperand *op, ZydisRegister r)
{
    return op->type == ZYDIS_OPERAND_TYPE_REGISTER && op->reg.value == r;
}

static bool is_regclass(const ZydisDecodedOperand *op, ZydisRegisterClass c)
{
    return op->type == ZYDIS_OPERAND_TYPE_REGISTER && ZydisRegisterGetClass(op->reg.value) == c;
}

static uint8_t gpr_id(const ZydisDecodedOperand *op)
{
    ZyanI8 id = ZydisRegisterGetId(op->reg.value);
    return id < 0 ? 0 : (uint8_t)id;
}

/* IN/OUT operand: the port (imm8 or DX) and the accumulator size. */
static void io_operands(vtx_insn *out, const ZydisDecodedOperand *port, const ZydisDecodedOperand *acc)
{
    if (port->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
        out->imm8 = (uint8_t)port->imm.value.u;
    else
        out->port_in_dx = true;
    out->op_size = (uint8_t)(acc->size / 8);
}

static void classify(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops, vtx_insn *out)
{
    vtx_insn_class c = VTX_IC_OTHER;
    out->op_size = (uint8_t)(in->operand_width / 8);
    if (in->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
        out->mode_change = true;
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_STI: c = VTX_IC_STI; break;
    case ZYDIS_MNEMONIC_CLI: c = VTX_IC_CLI; break;
    case ZYDIS_MNEMONIC_MOV:
        if (is_reg(&ops[0], ZYDIS_REGISTER_SS)) {
            c = VTX_IC_MOV_SS;
        } else if (is_regclass(&ops[0], ZYDIS_REGCLASS_CONTROL)) {
            c = VTX_IC_MOV_TO_CR;
            out->cr = gpr_id(&ops[0]);
            out->gpr = gpr_id(&ops[1]);
            out->mode_change = true;
        } else if (is_regclass(&ops[1], ZYDIS_REGCLASS_CONTROL)) {
            c = VTX_IC_MOV_FROM_CR;
            out->cr = gpr_id(&ops[1]);
            out->gpr = gpr_id(&ops[0]);
        } else if (is_regclass(&ops[0], ZYDIS_REGCLASS_DEBUG)) {
            c = VTX_IC_MOV_TO_DR;
            out->cr = gpr_id(&ops[0]);
            out->gpr = gpr_id(&ops[1]);
        } else if (is_regclass(&ops[1], ZYDIS_REGCLASS_DEBUG)) {
            c = VTX_IC_MOV_FROM_DR;
            out->cr = gpr_id(&ops[1]);
            out->gpr = gpr_id(&ops[0]);
        }
        break;
    case ZYDIS_MNEMONIC_POP:
        if (is_reg(&ops[0], ZYDIS_REGISTER_SS))
            c = VTX_IC_POP_SS;
        break;
    case ZYDIS_MNEMONIC_POPF: case ZYDIS_MNEMONIC_POPFD: case ZYDIS_MNEMONIC_POPFQ: c = VTX_IC_POPF; break;
    case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_IRETD: case ZYDIS_MNEMONIC_IRETQ:
        c = VTX_IC_IRET;
        out->mode_change = true;
        break;
    case ZYDIS_MNEMONIC_HLT: c = VTX_IC_HLT; break;
    case ZYDIS_MNEMONIC_JMP:
    case ZYDIS_MNEMONIC_CALL:
        /* Far JMP/CALL may name a TSS or a task gate (a task switch). */
        if (in->meta.branch_type != ZYDIS_BRANCH_TYPE_FAR)
            break;
        c = in->mnemonic == ZYDIS_MNEMONIC_JMP ? VTX_IC_JMP_FAR : VTX_IC_CALL_FAR;
        if (ops[0].type == ZYDIS_OPERAND_TYPE_POINTER) {
            out->far_direct = true;
            out->far_sel = ops[0].ptr.segment;
        }
        break;
    case ZYDIS_MNEMONIC_RET:
        /* A far RET loads CS from a descriptor: the model sets its accessed bit
         * right after it (cpu/seg_accessed.c). */
        if (in->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
            c = VTX_IC_RET_FAR;
        break;
    case ZYDIS_MNEMONIC_INT:
        c = VTX_IC_INT_N;
        out->imm8 = (uint8_t)ops[0].imm.value.u;
        break;
    case ZYDIS_MNEMONIC_INT3: c = VTX_IC_INT3; out->imm8 = 3; break;
    case ZYDIS_MNEMONIC_INTO: c = VTX_IC_INTO; out->imm8 = 4; break;
    case ZYDIS_MNEMONIC_INT1: c = VTX_IC_INT1; out->imm8 = 1; break;
    case ZYDIS_MNEMONIC_CPUID: c = VTX_IC_CPUID; break;
    case ZYDIS_MNEMONIC_IN: c = VTX_IC_IN; io_operands(out, &ops[1], &ops[0]); break;
    case ZYDIS_MNEMONIC_OUT: c = VTX_IC_OUT; io_operands(out, &ops[0], &ops[1]); break;
    case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
    case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD: {
        bool ins = in->mnemonic == ZYDIS_MNEMONIC_INSB || in->mnemonic == ZYDIS_MNEMONIC_INSW ||
                   in->mnemonic == ZYDIS_MNEMONIC_INSD;
        c = ins ? VTX_IC_INS : VTX_IC_OUTS;
        out->port_in_dx = true;
        out->op_size = (in->mnemonic == ZYDIS_MNEMONIC_INSB || in->mnemonic == ZYDIS_MNEMONIC_OUTSB) ? 1
                       : (in->mnemonic == ZYDIS_MNEMONIC_INSW || in->mnemonic == ZYDIS_MNEMONIC_OUTSW) ? 2 : 4;
        out->rep = (in->attributes & ZYDIS_ATTRIB_HAS_REP) != 0;
        break;
    }
    case ZYDIS_MNEMONIC_RDTSC: c = VTX_IC_RDTSC; break;
    case ZYDIS_MNEMONIC_RDTSCP: c = VTX_IC_RDTSCP; break;
    case ZYDIS_MNEMONIC_RDMSR: c = VTX_IC_RDMSR; break;
    case ZYDIS_MNEMONIC_WRMSR: c = VTX_IC_WRMSR; out->mode_change = true; break;
    case ZYDIS_MNEMONIC_CLTS: c = VTX_IC_CLTS; break;
    case ZYDIS_MNEMONIC_LMSW:
        c = VTX_IC_LMSW;
        out->mode_change = true;
        if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY)
            out->mem_operand = true;
        else
            out->gpr = gpr_id(&ops[0]);
        break;
    case ZYDIS_MNEMONIC_SMSW: /* reads the CR0 read shadow in VMX non-root operation */
        c = VTX_IC_SMSW;
        out->mem_operand = ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY;
        break;
    case ZYDIS_MNEMONIC_INVLPG: c = VTX_IC_INVLPG; out->mem_operand = true; out->mode_change = true; break;
    case ZYDIS_MNEMONIC_INVD: c = VTX_IC_INVD; break;
    case ZYDIS_MNEMONIC_WBINVD: c = VTX_IC_WBINVD; break;
    case ZYDIS_MNEMONIC_RDPMC: c = VTX_IC_RDPMC; break;
    case ZYDIS_MNEMONIC_PAUSE: c = VTX_IC_PAUSE; break;
    case ZYDIS_MNEMONIC_MONITOR: c = VTX_IC_MONITOR; break;
    case ZYDIS_MNEMONIC_MWAIT: c = VTX_IC_MWAIT; break;
    case ZYDIS_MNEMONIC_XSETBV: c = VTX_IC_XSETBV; break;
    case ZYDIS_MNEMONIC_GETSEC: c = VTX_IC_GETSEC; break;
    case ZYDIS_MNEMONIC_RDRAND: c = VTX_IC_RDRAND; out->gpr = gpr_id(&ops[0]); break;
    case ZYDIS_MNEMONIC_RDSEED: c = VTX_IC_RDSEED; out->gpr = gpr_id(&ops[0]); break;
    case ZYDIS_MNEMONIC_LGDT: c = VTX_IC_LGDT; out->mem_operand = true; break;
    case ZYDIS_MNEMONIC_LIDT: c = VTX_IC_LIDT; out->mem_operand = true; break;
    case ZYDIS_MNEMONIC_SGDT: c = VTX_IC_SGDT; out->mem_operand = true; break;
    case ZYDIS_MNEMONIC_SIDT: c = VTX_IC_SIDT; out->mem_operand = true; break;
    case ZYDIS_MNEMONIC_LLDT: case ZYDIS_MNEMONIC_LTR: case ZYDIS_MNEMONIC_SLDT: case ZYDIS_MNEMONIC_STR:
        c = in->mnemonic == ZYDIS_MNEMONIC_LLDT ? VTX_IC_LLDT : in->mnemonic == ZYDIS_MNEMONIC_LTR ? VTX_IC_LTR
            : in->mnemonic == ZYDIS_MNEMONIC_SLDT ? VTX_IC_SLDT : VTX_IC_STR;
        if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY)
            out->mem_operand = true;
        else
            out->gpr = gpr_id(&ops[0]);
        break;
    case ZYDIS_MNEMONIC_VMCALL: c = VTX_IC_VMCALL; break;
    case ZYDIS_MNEMONIC_VMFUNC: c = VTX_IC_VMFUNC; break;
    case ZYDIS_MNEMONIC_VMXON: case ZYDIS_MNEMONIC_VMXOFF: case ZYDIS_MNEMONIC_VMCLEAR:
    case ZYDIS_MNEMONIC_VMPTRLD: case ZYDIS_MNEMONIC_VMPTRST: case ZYDIS_MNEMONIC_VMREAD:
    case ZYDIS_MNEMONIC_VMWRITE: case ZYDIS_MNEMONIC_VMLAUNCH: case ZYDIS_MNEMONIC_VMRESUME:
    case ZYDIS_MNEMONIC_INVEPT: case ZYDIS_MNEMONIC_INVVPID:
        c = VTX_IC_VMX;
        for (unsigned i = 0; i < in->operand_count_visible; i++)
            if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
                out->mem_operand = true;
        break;
    case ZYDIS_MNEMONIC_INVPCID: c = VTX_IC_INVPCID; out->mem_operand = true; out->mode_change = true; break;
    case ZYDIS_MNEMONIC_UD0: case ZYDIS_MNEMONIC_UD1: case ZYDIS_MNEMONIC_UD2: c = VTX_IC_UD; break;
    case ZYDIS_MNEMONIC_SYSCALL: case ZYDIS_MNEMONIC_SYSRET: case ZYDIS_MNEMONIC_SYSENTER:
    case ZYDIS_MNEMONIC_SYSEXIT:
        /* The model carries these out (Unicorn does not: model/fast_syscall.c). */
        c = VTX_IC_FAST_SYSCALL;
        out->fast_syscall = in->mnemonic == ZYDIS_MNEMONIC_SYSCALL ? VTX_FS_SYSCALL
                            : in->mnemonic == ZYDIS_MNEMONIC_SYSRET ? VTX_FS_SYSRET
                            : in->mnemonic == ZYDIS_MNEMONIC_SYSENTER ? VTX_FS_SYSENTER : VTX_FS_SYSEXIT;
        out->mode_change = true;
        break;
    /* Instructions VMX non-root operation gates or intercepts (model/insn_table.h). */
    case ZYDIS_MNEMONIC_RSM: c = VTX_IC_RSM; out->mode_change = true; break;
    case ZYDIS_MNEMONIC_XSAVES: case ZYDIS_MNEMONIC_XSAVES64: c = VTX_IC_XSAVES; break;
    case ZYDIS_MNEMONIC_XRSTORS: case ZYDIS_MNEMONIC_XRSTORS64: c = VTX_IC_XRSTORS; out->mode_change = true; break;
    case ZYDIS_MNEMONIC_RDPID: c = VTX_IC_RDPID; out->gpr = gpr_id(&ops[0]); break;
    case ZYDIS_MNEMONIC_UMONITOR: case ZYDIS_MNEMONIC_UMWAIT: case ZYDIS_MNEMONIC_TPAUSE:
        c = VTX_IC_UWAIT;
        out->gpr = gpr_id(&ops[0]);
        break;
    case ZYDIS_MNEMONIC_ENCLS: case ZYDIS_MNEMONIC_ENCLU: case ZYDIS_MNEMONIC_ENCLV: c = VTX_IC_SGX; break;
    case ZYDIS_MNEMONIC_PCONFIG: c = VTX_IC_PCONFIG; break;
    default: break;
    }
    out->cls = (uint8_t)c;
}

/* Segment register number (VTX_S_* order: ES, CS, SS, DS, FS, GS) of a Zydis
 * segment register; DS for anything else. */
static uint8_t seg_number(ZydisRegister r)
{
    switch (r) {
    case ZYDIS_REGISTER_ES: return 0;
    case ZYDIS_REGISTER_CS: return 1;
    case ZYDIS_REGISTER_SS: return 2;
    case ZYDIS_REGISTER_FS: return 4;
    case ZYDIS_REGISTER_GS: return 5;
    default: return 3;
    }
}

/* Register number (0-15) of a 16-, 32- or 64-bit general-purpose register;
 * VTX_GPR_NONE for none or any other register (RIP, EIP, segment, ...). */
static uint8_t gpr_number(ZydisRegister r)
{
    ZydisRegisterClass c = ZydisRegisterGetClass(r);
    if (c != ZYDIS_REGCLASS_GPR16 && c != ZYDIS_REGCLASS_GPR32 && c != ZYDIS_REGCLASS_GPR64)
        return VTX_GPR_NONE;
    ZyanI8 id = ZydisRegisterGetId(r);
    return id < 0 || id > 15 ? VTX_GPR_NONE : (uint8_t)id;
}

/* The operand details of vtx_insn for the VM-exit instruction information:
 * address size, the memory operand (explicit first, else implicit), and the
 * GPR operands in ModRM.rm and ModRM.reg. */
static void operand_details(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops, vtx_insn *out)
{
    out->addr_width = (uint8_t)in->address_width;
    out->mem_base = out->mem_index = out->rm_gpr = out->reg_gpr = VTX_GPR_NONE;
    const ZydisDecodedOperand *mem = NULL;
    for (unsigned pass = 0; pass < 2 && !mem; pass++) {
        unsigned from = pass ? in->operand_count_visible : 0;
        unsigned to = pass ? in->operand_count : in->operand_count_visible;
        for (unsigned i = from; i < to && !mem; i++)
            if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
                (ops[i].mem.type == ZYDIS_MEMOP_TYPE_MEM || ops[i].mem.type == ZYDIS_MEMOP_TYPE_AGEN))
                mem = &ops[i];
    }
    if (mem) {
        out->has_mem = true;
        out->mem_seg = seg_number(mem->mem.segment);
        out->mem_rip_rel = mem->mem.base == ZYDIS_REGISTER_RIP || mem->mem.base == ZYDIS_REGISTER_EIP;
        out->mem_base = gpr_number(mem->mem.base);
        out->mem_index = gpr_number(mem->mem.index);
        out->mem_scale = out->mem_index == VTX_GPR_NONE ? 0 : (mem->mem.scale ? mem->mem.scale : 1);
        out->mem_disp = mem->mem.disp.has_displacement ? mem->mem.disp.value : 0;
        /* ENG-AC-1: the access size (none for LEA's address generation) */
        out->mem_size = mem->mem.type == ZYDIS_MEMOP_TYPE_MEM ? (uint16_t)(mem->size / 8) : 0;
    }
    for (unsigned i = 0; i < in->operand_count_visible; i++) {
        if (ops[i].type != ZYDIS_OPERAND_TYPE_REGISTER)
            continue;
        if (ops[i].encoding == ZYDIS_OPERAND_ENCODING_MODRM_RM)
            out->rm_gpr = gpr_number(ops[i].reg.value);
        else if (ops[i].encoding == ZYDIS_OPERAND_ENCODING_MODRM_REG)
            out->reg_gpr = gpr_number(ops[i].reg.value);
    }
}

static int decode(const void *bytes, size_t n, unsigned width, uint64_t rip, vtx_insn *out, bool text)
{
    ZydisDecoder dec;
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisMachineMode mm = width == 64 ? ZYDIS_MACHINE_MODE_LONG_64
                          : width == 32 ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16;
    ZydisStackWidth sw = width == 64 ? ZYDIS_STACK_WIDTH_64 : width == 32 ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16;

    memset(out, 0, sizeof *out);
    out->rip = rip;
    out->mem_base = out->mem_index = out->rm_gpr = out->reg_gpr = VTX_GPR_NONE;
    if (n > sizeof out->bytes)
        n = sizeof out->bytes;
    if (bytes && n)
        memcpy(out->bytes, bytes, n);
    if (!bytes || n == 0 || !ZYAN_SUCCESS(ZydisDecoderInit(&dec, mm, sw)) ||
        !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &in, ops))) {
        out->len = n ? 1 : 0;
        out->cls = VTX_IC_UD;
        snprintf(out->text, sizeof out->text, "(bad)");
        return -1;
    }
    out->len = in.length;
    out->mnemonic = (uint16_t)in.mnemonic;
    classify(&in, ops, out);
    operand_details(&in, ops, out);
    for (unsigned i = 0; i < in.operand_count; i++)
        if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
            out->writes_mem = true;
    out->keeps_rflags = in.cpu_flags && !(in.cpu_flags->modified | in.cpu_flags->set_0 | in.cpu_flags->set_1 |
                                          in.cpu_flags->undefined);
    if (!text)
        return 0;
    ZydisFormatter fmt;
    if (!ZYAN_SUCCESS(ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL)) ||
        !ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&fmt, &in, ops, in.operand_count_visible, out->text,
                                                      sizeof out->text, rip, NULL)))
        snprintf(out->text, sizeof out->text, "(unformattable)");
    return 0;
}

int vtx_decode_bytes(const void *bytes, size_t n, unsigned width, uint64_t rip, vtx_insn *out)
{
    return decode(bytes, n, width, rip, out, true);
}

int vtx_decode_bytes_quick(const void *bytes, size_t n, unsigned width, uint64_t rip, vtx_insn *out)
{
    return decode(bytes, n, width, rip, out, false);
}
