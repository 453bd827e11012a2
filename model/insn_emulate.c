/*
 * Instructions of the instruction table (insn_table.h) that the model carries
 * out itself when they do not exit, because the engine (Unicorn 2.0.1) cannot:
 * it raises #UD for RDRAND, RDSEED, RDPID and INVPCID, which the profile's
 * processor has (SDM Vol. 2 RDRAND, RDSEED, RDPID, INVPCID; SDM Vol. 3C 25.3).
 */
#include "insn_table.h"

/* Write v to a general-purpose register with the operand size (bytes): 16-bit
 * writes keep bits 63:16, 32-bit writes zero-extend, 64-bit writes it all. */
static void set_gpr(vtx_cpu_state *c, unsigned reg, uint64_t v, unsigned size)
{
    uint64_t *r = &c->gpr[reg & 15];
    *r = size == 8 ? v : size == 2 ? (*r & ~0xFFFFull) | (v & 0xFFFF) : (uint32_t)v;
}

void vtx_emulate_rdrand(vtx_machine *m, const vtx_insn *insn)
{
    /* Any value is architectural; the model's is a deterministic function of the
     * retired-instruction and cycle counts (splitmix64), with CF = 1 (a value was
     * available) and OF, SF, ZF, AF, PF = 0. */
    vtx_cpu_state *c = &m->g.cpu;
    uint64_t z = m->instructions * 0x9E3779B97F4A7C15ull + m->cycles;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    set_gpr(c, insn->gpr, z, insn->op_size);
    c->rflags = (c->rflags & ~(uint64_t)(VTX_RFLAGS_OF | VTX_RFLAGS_SF | VTX_RFLAGS_ZF | VTX_RFLAGS_AF | VTX_RFLAGS_PF)) |
                VTX_RFLAGS_CF;
}

void vtx_emulate_rdpid(vtx_machine *m, const vtx_insn *insn)
{
    /* IA32_TSC_AUX into r64 in 64-bit mode, r32 otherwise (25.3: with "enable RDTSCP" = 1). */
    vtx_cpu_state *c = &m->g.cpu;
    set_gpr(c, insn->gpr, m->msr.tsc_aux, vtx_cpu_mode_of(c) == VTX_MODE_LONG64 ? 8 : 4);
}

static bool canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

vtx_emul vtx_emulate_invpcid(vtx_machine *m, const vtx_insn *insn)
{
    vtx_cpu_state *c = &m->g.cpu;
    const bool long64 = vtx_cpu_mode_of(c) == VTX_MODE_LONG64;
    vtx_emul res = {.outcome = VTX_EMUL_GP};
    /* The descriptor's linear address: offset plus the segment base (in 64-bit
     * mode only FS and GS have one); a non-canonical one is #GP(0). */
    uint64_t lin = vtx_insn_offset(m, insn);
    unsigned seg = insn->mem_seg < VTX_S_LDTR ? insn->mem_seg : VTX_S_DS;
    if (!long64 || seg == VTX_S_FS || seg == VTX_S_GS)
        lin += c->seg[seg].base;
    if (!long64)
        lin = (uint32_t)lin;
    uint64_t type = c->gpr[insn->reg_gpr & 15];
    if (!long64)
        type = (uint32_t)type;
    if ((long64 && !canonical(lin)) || type > 3)
        return res;
    /* Read the 16-byte descriptor through the guest's paging. */
    uint64_t desc[2] = {0, 0};
    const vtx_paging_caps caps = vtx_guest_caps(m);
    for (unsigned i = 0; i < 16;) {
        uint64_t pa;
        uint32_t pf;
        unsigned n = 4096 - (unsigned)((lin + i) & 0xFFF);
        if (n > 16 - i)
            n = 16 - i;
        vtx_xlate_status xs = vtx_translate_ex(c, vtx_gmem(m), &caps, lin + i, vtx_cpu_cpl(c) == 3 ? VTX_ACC_USER : 0,
                                               &pa, &pf);
        if (xs == VTX_XLATE_PF)
            return (vtx_emul){.outcome = VTX_EMUL_PF, .error = pf, .address = lin + i};
        if (xs == VTX_XLATE_UNMAPPED || vtx_mem_read(m, pa, (uint8_t *)desc + i, n, NULL) != VTX_OK)
            return (vtx_emul){.outcome = VTX_EMUL_UNMAPPED, .address = pa};
        i += n;
    }
    uint64_t pcid = desc[0] & 0xFFF;
    /* Reserved descriptor bits; a non-canonical address for type 0; a PCID other
     * than 0 for types 0 and 1 while CR4.PCIDE = 0. */
    if ((desc[0] >> 12) || (type == 0 && !canonical(desc[1])) || (type <= 1 && !(c->cr4 & (1u << 17)) && pcid))
        return res;
    /* Invalidate: the model drops every translation the engine caches (more
     * than the type asks is allowed: a processor may invalidate more). */
    if (m->engine)
        vtx_engine_invalidate(m->engine);
    return (vtx_emul){.outcome = VTX_EMUL_DONE};
}
