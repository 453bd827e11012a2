/*
 * engine_step.c: the per-instruction path. The decode cache (instructions
 * decoded once per address and checked against guest memory on every hit),
 * Unicorn's per-instruction hook (its step path for a block the block hook
 * found clean, and the general case: stop set, budget, boundary function,
 * alignment check) and vtx_engine_decode. See docs/architecture.md ("Speed",
 * "Stepping").
 */
#include "engine_flags.h"

/* ---- decode cache ---- */
dc_entry *vtx_eng_dc_slot(vtx_engine *e, uint64_t lin)
{
    return &e->dc[(lin ^ (lin >> 12) ^ (lin >> 24)) & (DC_SIZE - 1)];
}

static const vtx_insn *dc_fill(vtx_engine *e, dc_entry *d, uint64_t lin, bool *ok)
{
    uint8_t buf[15];
    const uint8_t *host;
    size_t n = vtx_eng_lin_read(e, lin, buf, sizeof buf, &host);
    /* PG-11: bytes that end short of an instruction were not all readable (an
     * instruction Unicorn fetched in full): not an invalid one */
    const bool decoded = vtx_decode_bytes(buf, n, e->width, lin, &d->insn) == 0;
    *ok = decoded || n == sizeof buf;
    d->lin = lin;
    d->gen = e->gen;
    /* ENG-DC-1: the entry is validated against guest memory on every hit, over
     * the instruction's bytes, or for bytes the decoder rejected over all it was
     * given (its #UD has a length of 1, and a store into the bytes after the
     * first can make them an instruction); only bytes wholly inside one mapped
     * page keep a host pointer. */
    d->vlen = (uint8_t)(decoded ? d->insn.len : n);
    d->host = (n > 0 && host && ((lin & 0xfff) + d->vlen <= 4096)) ? host : NULL;
    if (!d->host)
        d->gen = e->gen - 1; /* never a hit: re-fetched next time */
    d->fast = d->host && (lin & 0xfff) + 16 <= 4096;
    d->w[0] = d->w[1] = d->m[0] = d->m[1] = 0;
    for (unsigned i = 0; i < d->vlen && i < 16; i++) {
        d->w[i / 8] |= (uint64_t)d->insn.bytes[i] << (8 * (i % 8));
        d->m[i / 8] |= 0xffull << (8 * (i % 8));
    }
    return &d->insn;
}

static inline const vtx_insn *dc_lookup(vtx_engine *e, uint64_t lin)
{
    dc_entry *d = vtx_eng_dc_slot(e, lin);
    if (d->lin == lin && d->gen == e->gen && vtx_eng_dc_valid(d))
        return &d->insn;
    bool ok;
    return dc_fill(e, d, lin, &ok);
}

/* ---- hooks ---- */

/* The instruction at `addr` counted as started, then the boundary before it
 * (the boundary function, when set and an instruction has run in this run; it
 * may end the run there: vtx_engine_stop_at_boundary takes the count back).
 * Inline, with the boundary function's call last: the step path's tail call. */
static inline __attribute__((always_inline)) void start_then_boundary(vtx_engine *e, uint64_t addr)
{
    e->bnd_prev_lin = e->last_lin;
    e->bnd_prev_valid = e->last_valid;
    const uint64_t before = e->started++;
    e->last_lin = addr;
    e->last_valid = true;
    if (e->bfn && before) {
        uint64_t rip = e->width == 64 ? addr : ((addr - e->cs_base) & 0xffffffffull);
        uint64_t rf = vtx_eng_rflags_hook(e);
        e->rf_last = rf;
        e->bfn(e->bfn_user, rip, rf);
    } else {
        vtx_eng_flags_mark(e); /* the instruction runs: ENG-FL-2 */
        e->step_keeps &= ~1ull; /* no RFLAGS known at this boundary */
    }
}

/* start_then_boundary with RFLAGS known (the boundary function set, an
 * instruction of this run started). */
static inline __attribute__((always_inline)) void start_then_boundary_rf(vtx_engine *e, uint64_t addr, uint64_t rf)
{
    e->bnd_prev_lin = e->last_lin;
    e->bnd_prev_valid = e->last_valid;
    e->started++;
    e->last_lin = addr;
    e->last_valid = true;
    uint64_t rip = e->width == 64 ? addr : ((addr - e->cs_base) & 0xffffffffull);
    e->bfn(e->bfn_user, rip, rf);
}

void vtx_engine_stop_at_boundary(vtx_engine *e)
{
    if (!e || !e->started)
        return;
    e->started--;
    e->hstop = HS_BOUNDARY;
    e->stop_lin = e->last_lin;
    if (e->step_next != UINT64_MAX) {
        /* the hook came on the step path (vtx_eng_hook_code, which keeps no
         * copy): the instruction before is the block's one before this one,
         * or, before the block's first, the one started last when the block
         * was entered (vtx_eng_step_block) */
        const uint16_t *cur = e->step_off - 1;
        if (cur > e->step_prev->off) {
            e->last_lin = e->step_lin + cur[-1];
            e->last_valid = true;
        } else {
            e->last_lin = e->step_entry_lin;
            e->last_valid = e->step_entry_valid;
        }
    } else {
        e->last_lin = e->bnd_prev_lin;
        e->last_valid = e->bnd_prev_valid;
    }
    uc_emu_stop(e->uc);
}

/* start_then_boundary off the step path; false: the run stops before the
 * instruction. */
static bool boundary_then_start(vtx_engine *e, uint64_t addr)
{
    start_then_boundary(e, addr);
    e->step_keeps = 0; /* ENG-FL-3 only on the step path */
    return e->hstop != HS_BOUNDARY;
}

/* The per-instruction hook's general case (hook_code has the step path). */
static __attribute__((noinline)) void hook_code_full(uc_engine *uc, uint64_t addr, vtx_engine *e)
{
    if (__builtin_expect(e->unmapped, 0)) {
        /* ENG-UNM-3: the instruction before made an unmapped data access (the
         * hook cleared step_next to come here): it did not complete, so no
         * boundary follows it; the run ends, RIP put back on it */
        uc_emu_stop(uc);
        return;
    }
    if (__builtin_expect(e->mmio_stop, 0)) {
        /* an MMIO access asked for the boundary after its instruction */
        e->hstop = HS_BOUNDARY;
        e->stop_lin = addr;
        uc_emu_stop(uc);
        return;
    }
    if (__builtin_expect(e->resync, 0)) {
        e->resync = false;
        vtx_eng_save_absorb(e);
    }
    if (__builtin_expect(addr == e->again_lin, 0)) {
        /* a store run again after QEMU abandoned its block (vtx_eng_step_again):
         * the same instruction, started, counted and its boundary passed */
        e->again_lin = UINT64_MAX;
        vtx_eng_flags_mark(e); /* the instruction runs: ENG-FL-2 */
        e->step_keeps = 0;
        return;
    }
    const vtx_insn *in = dc_lookup(e, addr);
    if (__builtin_expect((e->stop_bits >> in->cls) & 1, 0) && (!e->skip_pending || ((e->own_bits >> in->cls) & 1))) {
        e->hstop = HS_BEFORE;
        e->stop_lin = addr;
        uc_emu_stop(uc);
        return;
    }
    if (e->skip_pending)
        e->skip_pending = false; /* (only when set: see vtx_eng_step_block) */
    if (e->budget && e->started == e->budget) {
        e->hstop = HS_COUNT;
        e->stop_lin = addr;
        uc_emu_stop(uc);
        return;
    }
    if (!boundary_then_start(e, addr))
        return;
    if (__builtin_expect(in->has_mem, 0) && vtx_eng_ac_on(e) && vtx_eng_ac_fault(e, in, addr)) {
        /* ENG-AC-1: #AC(0), a fault before the access (counted as started, as the
         * faults the interrupt hook reports) */
        e->exc = true;
        e->ac_stop = true;
        e->exc_vec = 17;
        e->exc_err = 0;
        e->exc_is_int = 0;
        uc_emu_stop(uc);
        return;
    }
    if (in->mode_change)
        e->resync = true;
}

/* The step path's boundary when Unicorn made no sync for this hook (the
 * mark, ENG-FL-2, still set and left): RFLAGS computed from the lazy flags,
 * kept for ENG-FL-3, the boundary function's tail call. A leaf apart from
 * that call (Unicorn is asked only where the engine does not compute). */
static __attribute__((noinline, cold)) void boundary_asked(vtx_engine *e, uint64_t rip)
{
    const uint64_t rf = vtx_eng_rflags_asked(e);
    e->rf_last = rf;
    e->bfn(e->bfn_user, rip, rf);
}

static __attribute__((noinline)) void boundary_unsynced(vtx_engine *e, uint64_t rip)
{
    uint64_t rf;
    if (__builtin_expect(e->flags_audit, 0))
        e->flags_counts[1]++;
    if (__builtin_expect(!rflags_live(e, &rf), 0)) {
        boundary_asked(e, rip); /* an operation the engine does not compute */
        return;
    }
    e->rf_last = rf;
    e->bfn(e->bfn_user, rip, rf);
}

/* The step path where it cannot take its shortcut (step_fast clear: no
 * boundary function, RFLAGS not from the live state or audited, code width
 * other than 64; or the run's first instruction). `kept`: the instruction
 * before this boundary changed no bit of RFLAGS (ENG-FL-3). */
static __attribute__((noinline)) void step_general(vtx_engine *e, uint64_t addr, bool kept)
{
    if (kept && e->bfn && e->started) {
        vtx_eng_flags_mark(e);
        start_then_boundary_rf(e, addr, e->rf_last);
        return;
    }
    start_then_boundary(e, addr);
}

/*
 * Unicorn's per-instruction hook. The step path: the next instruction of a
 * block the block hook found clean (vtx_eng_step_block: checked against
 * memory, nothing in it to stop before, the budget does not end in it, no
 * mode change, no #AC possible) needs no decode, no stop-set and no budget
 * check; only the boundary function and the count. Everything else is
 * hook_code_full. Every call on the step path is a tail call (no frame):
 * RFLAGS passed on (ENG-FL-3) or Unicorn's sync (ENG-FL-2) go to the boundary
 * function from here, a computation through boundary_unsynced. What the
 * shortcut needs of the engine's settings (a boundary function, RFLAGS from
 * the live state without the audit, 64-bit code) is one flag, step_fast,
 * set where the block was entered.
 */
void vtx_eng_hook_code(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    vtx_engine *e = ud;
    (void)size;
    /* (vtx_engine_stop_after_access ends the step path: mmio_stop is seen there) */
    if (__builtin_expect(addr != e->step_next, 0)) {
        e->step_next = UINT64_MAX; /* off the block's path: the rest of it takes the general case */
        hook_code_full(uc, addr, e);
        return;
    }
    e->step_next = e->step_lin + *++e->step_off;
    const uint64_t keeps = e->step_keeps;
    e->step_keeps = keeps >> 1;
    const uint64_t before = e->started;
    if (__builtin_expect(!e->step_fast || !before, 0)) {
        step_general(e, addr, keeps & 1);
        return;
    }
    /* start_then_boundary, the boundary function set and an instruction of
     * this run started (last_valid was set when the block was entered and
     * stays; vtx_engine_stop_at_boundary finds the instruction before from
     * the block) */
    e->started = before + 1;
    e->last_lin = addr;
    uint8_t *env = e->live;
    const uint64_t ef = rd64(env, ENV_EFLAGS);
    wr64(env, ENV_EFLAGS, ef | FLAGS_MARK); /* the instruction runs: ENG-FL-2 */
    if (keeps & 1) {
        /* ENG-FL-3: the instruction before this boundary changed no bit of
         * RFLAGS: it is what it was at the boundary before */
        e->bfn(e->bfn_user, addr, e->rf_last);
        return;
    }
    if (__builtin_expect(ef & FLAGS_MARK, 0)) {
        boundary_unsynced(e, addr); /* no sync before this hook */
        return;
    }
    e->rf_last = ef; /* Unicorn's sync before this hook */
    e->bfn(e->bfn_user, addr, ef);
}

void vtx_engine_set_boundary_fn(vtx_engine *e, vtx_engine_boundary_fn fn, void *user)
{
    if (!e)
        return;
    e->bfn = fn;
    e->bfn_user = user;
}

int vtx_engine_decode(vtx_engine *e, uint64_t rip, const vtx_insn **out)
{
    if (!e || !out)
        return -1;
    dc_entry *d = vtx_eng_dc_slot(e, rip);
    if (d->lin == rip && d->gen == e->gen && vtx_eng_dc_valid(d)) {
        e->scratch = d->insn;
    } else {
        bool ok;
        e->scratch = *dc_fill(e, d, rip, &ok);
        if (!ok) {
            e->scratch.len = 0;
            *out = &e->scratch;
            return -1;
        }
    }
    *out = &e->scratch;
    return 0;
}

/* ---- run ---- */
