/*
 * engine: RFLAGS from Unicorn's lazy condition codes, without a call into
 * Unicorn (ENG-FL-1).
 *
 * QEMU keeps the arithmetic flags of the last flag-setting operation as an
 * operation code and its operands (CPUX86State cc_op, cc_dst, cc_src, cc_src2)
 * and computes them when asked. uc_reg_read(UC_X86_REG_RFLAGS) does that
 * through three calls and a switch (about a third of the time of a run with a
 * boundary function, which wants RFLAGS at every instruction boundary). With
 * Unicorn's own CPUX86State at hand (e->live, engine_state.c) the engine reads
 * those fields and computes the flags itself, from the x86 definitions of each
 * operation's flags (SDM Vol. 1, Appendix A "EFLAGS Cross-Reference" and the
 * instructions' "Flags Affected"), in the form QEMU records them:
 *
 *   result  = cc_dst;  the operation's source operand = cc_src;  carry-in = cc_src2
 *
 * and with what Unicorn reports for the flags x86 leaves undefined (AF after
 * logic, shifts and multiplies is 0; OF after a shift is the sign change).
 * The value is the one Unicorn returns (cpu_compute_eflags: the 32 bits of
 * env->eflags without the six arithmetic flags and DF, those from cc_*, DF from
 * env->df), which tests/test_engine_flags.c checks against uc_reg_read for
 * every operation code the engine computes, at many operand values, on both
 * Unicorn versions. Any other operation code (or no live state) asks Unicorn.
 */
#include "engine_flags.h"

uint64_t vtx_engine_rflags(vtx_engine *e)
{
    if (!e || e->broken)
        return 0;
    return vtx_eng_rflags_now(e);
}

/* The same value both ways for the state Unicorn holds now. */
static bool agrees(vtx_engine *e)
{
    uint64_t mine = 0, theirs = 0;
    if (!rflags_live(e, &mine))
        return true; /* an operation the engine leaves to Unicorn */
    return uc_reg_read(e->uc, UC_X86_REG_RFLAGS, &theirs) == UC_ERR_OK && mine == theirs;
}

void vtx_eng_flags_setup(vtx_engine *e)
{
    /* One check of the layout on the state a new engine holds; the test checks
     * the rest. */
    e->flags_live = e->live && agrees(e);
}

int vtx_engine_flags_crosscheck(vtx_engine *e, uint32_t op, uint64_t dst, uint64_t src, uint64_t src2,
                                uint64_t *engine, uint64_t *unicorn)
{
    if (!e || !e->live || e->broken || !engine || !unicorn)
        return -1;
    uint8_t *env = e->live;
    uint8_t saved[ENV_DF - ENV_CC_DST];
    memcpy(saved, env + ENV_CC_DST, sizeof saved);
    wr64(env, ENV_CC_DST, dst);
    wr64(env, ENV_CC_SRC, src);
    wr64(env, ENV_CC_SRC2, src2);
    wr32(env, ENV_CC_OP, op);
    int rc = 1;
    if (rflags_live(e, engine)) {
        rc = uc_reg_read(e->uc, UC_X86_REG_RFLAGS, unicorn) == UC_ERR_OK ? 0 : -1;
    }
    memcpy(env + ENV_CC_DST, saved, sizeof saved);
    return rc;
}

void vtx_eng_flags_audit_one(vtx_engine *e, uint64_t synced)
{
    uint64_t theirs = 0;
    e->flags_counts[0]++;
    if (uc_reg_read(e->uc, UC_X86_REG_RFLAGS, &theirs) != UC_ERR_OK || theirs != synced)
        e->flags_counts[2]++;
}

int vtx_engine_flags_audit(vtx_engine *e, bool on, uint64_t counts[3])
{
    if (!e || !e->flags_live || e->broken)
        return -1;
    if (on && !e->flags_audit)
        memset(e->flags_counts, 0, sizeof e->flags_counts);
    e->flags_audit = on;
    if (counts)
        memcpy(counts, e->flags_counts, sizeof e->flags_counts);
    return 0;
}

__attribute__((noinline, cold)) uint64_t vtx_eng_rflags_asked(vtx_engine *e)
{
    uint64_t rf = 0;
    uc_reg_read(e->uc, UC_X86_REG_RFLAGS, &rf);
    return rf;
}

uint64_t vtx_eng_rflags_unsynced(vtx_engine *e)
{
    uint64_t rf = 0;
    if (e->flags_live) {
        vtx_eng_flags_mark(e);
        if (e->flags_audit)
            e->flags_counts[1]++;
        if (rflags_live(e, &rf))
            return rf;
    }
    return vtx_eng_rflags_asked(e);
}
