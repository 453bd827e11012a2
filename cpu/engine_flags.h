/*
 * engine: RFLAGS from Unicorn's lazy condition codes (ENG-FL-1; see
 * engine_flags.c). Static inline: the per-instruction hook computes it at
 * every boundary it passes to a boundary function.
 */
#ifndef VTX_CPU_ENGINE_FLAGS_H
#define VTX_CPU_ENGINE_FLAGS_H

#include "engine_internal.h"

/* QEMU 5.0 CPUX86State: eflags and the lazy flags lie between eip and hflags
 * (whose offsets vtx_eng_probe_layout verifies). */
enum {
    ENV_EFLAGS = ENV_EIP + 8,
    ENV_CC_DST = ENV_EIP + 16,
    ENV_CC_SRC = ENV_EIP + 24,
    ENV_CC_SRC2 = ENV_EIP + 32,
    ENV_CC_OP = ENV_EIP + 40,
    ENV_DF = ENV_EIP + 44,
};
_Static_assert(ENV_DF + 4 == ENV_HFLAGS, "the lazy flags end where hflags starts");

/* QEMU's CCOp (target/i386/cpu.h, the same in Unicorn 2.0.1 and 2.1.1): groups
 * of four, byte, word, long, quad. */
#define VTX_CC_OPS(X)                                                                               \
    X(DYNAMIC) X(EFLAGS) X(MULB) X(MULW) X(MULL) X(MULQ) X(ADDB) X(ADDW) X(ADDL) X(ADDQ) X(ADCB)    \
    X(ADCW) X(ADCL) X(ADCQ) X(SUBB) X(SUBW) X(SUBL) X(SUBQ) X(SBBB) X(SBBW) X(SBBL) X(SBBQ)         \
    X(LOGICB) X(LOGICW) X(LOGICL) X(LOGICQ) X(INCB) X(INCW) X(INCL) X(INCQ) X(DECB) X(DECW) X(DECL) \
    X(DECQ) X(SHLB) X(SHLW) X(SHLL) X(SHLQ) X(SARB) X(SARW) X(SARL) X(SARQ) X(BMILGB) X(BMILGW)     \
    X(BMILGL) X(BMILGQ) X(ADCX) X(ADOX) X(ADCOX) X(CLR) X(POPCNT)
enum cc_op {
#define VTX_X_CC(n) CC_##n,
    VTX_CC_OPS(VTX_X_CC)
#undef VTX_X_CC
    CC_COUNT
};

#define FL_CF 0x001u
#define FL_PF 0x004u
#define FL_AF 0x010u
#define FL_ZF 0x040u
#define FL_SF 0x080u
#define FL_DF 0x400u
#define FL_OF 0x800u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* PF, ZF and SF of a result of `bits` bits (r already masked). */
static inline __attribute__((always_inline)) uint32_t flags_pzs(uint64_t r, unsigned bits)
{
    return (__builtin_parity((unsigned)(r & 0xff)) ? 0 : FL_PF) | (r == 0 ? FL_ZF : 0) |
           (uint32_t)((r >> (bits - 1)) & 1) * FL_SF;
}

/* OF from the sign bit of x. */
static inline __attribute__((always_inline)) uint32_t sign_of(uint64_t x, unsigned bits)
{
    return (uint32_t)((x >> (bits - 1)) & 1) * FL_OF;
}

/* The groups of four operation codes (one per operand width), from MULB on. */
enum cc_group { G_MUL, G_ADD, G_ADC, G_SUB, G_SBB, G_LOGIC, G_INC, G_DEC, G_SHL, G_SAR, G_BMILG };

/* The six arithmetic flags of group g at width bits (both constants where
 * called: each operation code gets its own straight-line code). */
static inline __attribute__((always_inline)) uint32_t group_flags(enum cc_group g, unsigned bits, uint64_t dst,
                                                                  uint64_t src, uint64_t src2)
{
    const uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    uint64_t r = dst & mask, b = src & mask, c = src2 & mask, a;
    switch (g) {
    case G_MUL: /* MUL, IMUL: CF = OF = the upper half is significant (cc_src, all 64 bits) */
        return flags_pzs(r, bits) | (src != 0 ? FL_CF | FL_OF : 0);
    case G_ADD: /* r = a + b, b = cc_src */
        a = (r - b) & mask;
        return flags_pzs(r, bits) | (r < b ? FL_CF : 0) | ((r ^ a ^ b) & FL_AF) | sign_of(~(a ^ b) & (b ^ r), bits);
    case G_ADC: /* r = a + b + carry-in (cc_src2) */
        a = (r - b - c) & mask;
        return flags_pzs(r, bits) | ((c ? r <= b : r < b) ? FL_CF : 0) | ((r ^ a ^ b) & FL_AF) |
               sign_of(~(a ^ b) & (b ^ r), bits);
    case G_SUB: /* SUB, CMP, NEG: r = a - b, b = cc_src */
        a = (r + b) & mask;
        return flags_pzs(r, bits) | (a < b ? FL_CF : 0) | ((r ^ a ^ b) & FL_AF) | sign_of((a ^ b) & (a ^ r), bits);
    case G_SBB: /* r = a - b - borrow-in (cc_src2) */
        a = (r + b + c) & mask;
        return flags_pzs(r, bits) | ((c ? a <= b : a < b) ? FL_CF : 0) | ((r ^ a ^ b) & FL_AF) |
               sign_of((a ^ b) & (a ^ r), bits);
    case G_LOGIC: /* AND, OR, XOR, TEST: CF = OF = AF = 0 */
        return flags_pzs(r, bits);
    case G_INC: /* CF kept (cc_src holds it, as QEMU keeps it: its low 32 bits of the operand width) */
        return flags_pzs(r, bits) | (uint32_t)b | ((r ^ ((r - 1) & mask) ^ 1) & FL_AF) |
               (r == 1ull << (bits - 1) ? FL_OF : 0);
    case G_DEC:
        return flags_pzs(r, bits) | (uint32_t)b | ((r ^ ((r + 1) & mask) ^ 1) & FL_AF) |
               (r == (1ull << (bits - 1)) - 1 ? FL_OF : 0);
    case G_SHL: /* cc_src is the operand shifted by count - 1: CF its top bit; OF the sign change */
        return flags_pzs(r, bits) | (uint32_t)((b >> (bits - 1)) & 1) | sign_of(b ^ r, bits);
    case G_SAR: /* SAR, SHR, ROR...: cc_src shifted by count - 1: CF its low bit */
        return flags_pzs(r, bits) | (uint32_t)(b & 1) | sign_of(b ^ r, bits);
    case G_BMILG: /* BMI's ANDN, BLSI...: CF = source is 0, ZF, SF; the rest 0 */
    default:
        return (r == 0 ? FL_ZF : 0) | (uint32_t)((r >> (bits - 1)) & 1) * FL_SF | (b == 0 ? FL_CF : 0);
    }
}

/* The six arithmetic flags of operation op, or UINT64_MAX when the engine does
 * not compute it (Unicorn is asked). */
static inline __attribute__((always_inline)) uint64_t arith_flags(uint32_t op, uint64_t dst, uint64_t src,
                                                                  uint64_t src2)
{
    switch (op) {
#define VTX_X_CCG(G, n)                                    \
    case CC_##n##B: return group_flags(G, 8, dst, src, src2);  \
    case CC_##n##W: return group_flags(G, 16, dst, src, src2); \
    case CC_##n##L: return group_flags(G, 32, dst, src, src2); \
    case CC_##n##Q: return group_flags(G, 64, dst, src, src2);
        VTX_X_CCG(G_MUL, MUL)
        VTX_X_CCG(G_ADD, ADD)
        VTX_X_CCG(G_ADC, ADC)
        VTX_X_CCG(G_SUB, SUB)
        VTX_X_CCG(G_SBB, SBB)
        VTX_X_CCG(G_LOGIC, LOGIC)
        VTX_X_CCG(G_INC, INC)
        VTX_X_CCG(G_DEC, DEC)
        VTX_X_CCG(G_SHL, SHL)
        VTX_X_CCG(G_SAR, SAR)
        VTX_X_CCG(G_BMILG, BMILG)
#undef VTX_X_CCG
    case CC_EFLAGS: /* the flags themselves, in cc_src */
        return (uint32_t)src;
    case CC_CLR: /* XOR of a register with itself */
        return FL_ZF | FL_PF;
    case CC_POPCNT:
        return src ? 0 : FL_ZF;
    default:
        return UINT64_MAX;
    }
}

/* RFLAGS as Unicorn would return it, from the live state; false: ask Unicorn. */
static inline __attribute__((always_inline)) bool rflags_live(const vtx_engine *e, uint64_t *rf)
{
    const uint8_t *env = e->live;
    if (!env)
        return false;
    uint64_t fl = arith_flags(rd32(env, ENV_CC_OP), rd64(env, ENV_CC_DST), rd64(env, ENV_CC_SRC), rd64(env, ENV_CC_SRC2));
    if (fl == UINT64_MAX)
        return false;
    *rf = ((uint32_t)rd64(env, ENV_EFLAGS) & ~(FL_ARITH | FL_DF)) | (uint32_t)fl | (rd32(env, ENV_DF) & FL_DF);
    return true;
}

/*
 * ENG-FL-2: RFLAGS at a boundary the per-instruction hook passes, taken from
 * Unicorn's own sync when it made one. Before a hooked instruction whose
 * translation-time operation code differs from the one it synced last, Unicorn
 * computes RFLAGS (helper_read_eflags, as uc_reg_read does) and stores it in
 * env->eflags (target/i386/translate.c sync_eflags, 2.0.1 and 2.1.1); then the
 * hook is called. The value is exact there, and stale at a later hook with no
 * sync in between. So every hook call (and every block hook with the
 * per-instruction hook on, which runs first after Unicorn enters or re-enters
 * its execution loop) leaves bit 63 of env->eflags set (FLAGS_MARK): QEMU reads
 * only bits 31:0 of it (cpu_compute_eflags returns 32 bits; the other readers
 * test single low bits), and keeps bit 63 through every update that is not a
 * store of a whole computed value (cli, sti, its loop entry's clearing of the
 * arithmetic flags; cpu_load_eflags with a partial mask). The sync stores a
 * 32-bit value (bit 63 clear); so do its loop exit and cpu_load_eflags with the
 * full mask, which store exact flags too. Bit 63 clear at a hook therefore
 * means env->eflags holds RFLAGS as uc_reg_read would return it now; set, the
 * engine computes it from the lazy flags (rflags_live). Checked at every
 * boundary of guest code by tests/test_engine_flags.c (vtx_engine_flags_audit).
 */
#define FLAGS_MARK (1ull << 63)

/* Leave the mark (see ENG-FL-2) when the live state is used. */
static inline __attribute__((always_inline)) void vtx_eng_flags_mark(vtx_engine *e)
{
    if (__builtin_expect(e->flags_live, 1))
        wr64(e->live, ENV_EFLAGS, rd64(e->live, ENV_EFLAGS) | FLAGS_MARK);
}

void vtx_eng_flags_audit_one(vtx_engine *e, uint64_t synced);
/* RFLAGS at a hook call with no sync of Unicorn's before it (the mark left). */
uint64_t vtx_eng_rflags_unsynced(vtx_engine *e);

/* RFLAGS at a hook call (ENG-FL-2), leaving the mark. Inline: the sync's value
 * costs a load; computing it is a call. */
static inline __attribute__((always_inline)) uint64_t vtx_eng_rflags_hook(vtx_engine *e)
{
    if (__builtin_expect(e->flags_live, 1)) {
        uint8_t *env = e->live;
        uint64_t ef = rd64(env, ENV_EFLAGS);
        if (!(ef & FLAGS_MARK)) {
            wr64(env, ENV_EFLAGS, ef | FLAGS_MARK);
            if (__builtin_expect(e->flags_audit, 0))
                vtx_eng_flags_audit_one(e, ef);
            return ef; /* Unicorn's sync before this hook */
        }
    }
    return vtx_eng_rflags_unsynced(e);
}

/* RFLAGS as uc_reg_read returns it, computed from the live state when it can be. */
static inline __attribute__((always_inline)) uint64_t vtx_eng_rflags_now(vtx_engine *e)
{
    uint64_t rf = 0;
    if (__builtin_expect(e->flags_live, 1) && rflags_live(e, &rf))
        return rf;
    uc_reg_read(e->uc, UC_X86_REG_RFLAGS, &rf);
    return rf;
}

#endif
