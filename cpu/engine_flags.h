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
static inline uint32_t flags_pzs(uint64_t r, unsigned bits)
{
    return (__builtin_parity((unsigned)(r & 0xff)) ? 0 : FL_PF) | (r == 0 ? FL_ZF : 0) |
           (uint32_t)((r >> (bits - 1)) & 1) * FL_SF;
}

/* OF from the sign bit of x. */
static inline uint32_t sign_of(uint64_t x, unsigned bits) { return (uint32_t)((x >> (bits - 1)) & 1) * FL_OF; }

/* The six arithmetic flags of operation op, or false when the engine does not
 * compute it (Unicorn is asked). */
static inline bool arith_flags(uint32_t op, uint64_t dst, uint64_t src, uint64_t src2, uint32_t *out)
{
    if (op >= CC_MULB && op <= CC_BMILGQ) {
        static const unsigned width[4] = {8, 16, 32, 64};
        unsigned bits = width[(op - CC_MULB) & 3];
        uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
        uint64_t r = dst & mask, b = src & mask, c = src2 & mask;
        switch ((op - CC_MULB) >> 2) {
        case 0: /* MUL, IMUL: CF = OF = the upper half is significant (cc_src, all 64 bits) */
            *out = flags_pzs(r, bits) | (src != 0 ? FL_CF | FL_OF : 0);
            return true;
        case 1: { /* ADD: r = a + b, b = cc_src */
            uint64_t a = (r - b) & mask;
            *out = flags_pzs(r, bits) | (r < b ? FL_CF : 0) | ((r ^ a ^ b) & FL_AF) | sign_of(~(a ^ b) & (b ^ r), bits);
            return true;
        }
        case 2: { /* ADC: r = a + b + carry-in (cc_src2) */
            uint64_t a = (r - b - c) & mask;
            *out = flags_pzs(r, bits) | ((c ? r <= b : r < b) ? FL_CF : 0) | ((r ^ a ^ b) & FL_AF) |
                   sign_of(~(a ^ b) & (b ^ r), bits);
            return true;
        }
        case 3: { /* SUB, CMP, NEG: r = a - b, b = cc_src */
            uint64_t a = (r + b) & mask;
            *out = flags_pzs(r, bits) | (a < b ? FL_CF : 0) | ((r ^ a ^ b) & FL_AF) | sign_of((a ^ b) & (a ^ r), bits);
            return true;
        }
        case 4: { /* SBB: r = a - b - borrow-in (cc_src2) */
            uint64_t a = (r + b + c) & mask;
            *out = flags_pzs(r, bits) | ((c ? a <= b : a < b) ? FL_CF : 0) | ((r ^ a ^ b) & FL_AF) |
                   sign_of((a ^ b) & (a ^ r), bits);
            return true;
        }
        case 5: /* AND, OR, XOR, TEST: CF = OF = AF = 0 */
            *out = flags_pzs(r, bits);
            return true;
        case 6: /* INC: CF kept (cc_src holds it, as QEMU keeps it: its low 32 bits of the operand width) */
            *out = flags_pzs(r, bits) | (uint32_t)b | ((r ^ ((r - 1) & mask) ^ 1) & FL_AF) |
                   (r == 1ull << (bits - 1) ? FL_OF : 0);
            return true;
        case 7: /* DEC */
            *out = flags_pzs(r, bits) | (uint32_t)b | ((r ^ ((r + 1) & mask) ^ 1) & FL_AF) |
                   (r == (1ull << (bits - 1)) - 1 ? FL_OF : 0);
            return true;
        case 8: /* SHL: cc_src is the operand shifted by count - 1: CF its top bit; OF the sign change */
            *out = flags_pzs(r, bits) | (uint32_t)((b >> (bits - 1)) & 1) | sign_of(b ^ r, bits);
            return true;
        case 9: /* SAR, SHR, ROR...: cc_src shifted by count - 1: CF its low bit */
            *out = flags_pzs(r, bits) | (uint32_t)(b & 1) | sign_of(b ^ r, bits);
            return true;
        default: /* BMI's ANDN, BLSI...: CF = source is 0, ZF, SF; the rest 0 */
            *out = (r == 0 ? FL_ZF : 0) | (uint32_t)((r >> (bits - 1)) & 1) * FL_SF | (b == 0 ? FL_CF : 0);
            return true;
        }
    }
    switch (op) {
    case CC_EFLAGS: /* the flags themselves, in cc_src */
        *out = (uint32_t)src;
        return true;
    case CC_CLR: /* XOR of a register with itself */
        *out = FL_ZF | FL_PF;
        return true;
    case CC_POPCNT:
        *out = src ? 0 : FL_ZF;
        return true;
    default:
        return false;
    }
}

/* RFLAGS as Unicorn would return it, from the live state; false: ask Unicorn. */
static inline bool rflags_live(const vtx_engine *e, uint64_t *rf)
{
    const uint8_t *env = e->live;
    uint32_t fl;
    if (!env || !arith_flags(rd32(env, ENV_CC_OP), rd64(env, ENV_CC_DST), rd64(env, ENV_CC_SRC),
                             rd64(env, ENV_CC_SRC2), &fl))
        return false;
    uint32_t v = ((uint32_t)rd64(env, ENV_EFLAGS) & ~(FL_ARITH | FL_DF)) | fl | (rd32(env, ENV_DF) & FL_DF);
    *rf = v;
    return true;
}

/* RFLAGS as uc_reg_read returns it, computed from the live state when it can be. */
static inline uint64_t vtx_eng_rflags_now(vtx_engine *e)
{
    uint64_t rf = 0;
    if (__builtin_expect(e->flags_live, 1) && rflags_live(e, &rf))
        return rf;
    uc_reg_read(e->uc, UC_X86_REG_RFLAGS, &rf);
    return rf;
}

#endif
