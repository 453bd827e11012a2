/*
 * engine: Unicorn's translated code the engine has it drop, and when. QEMU
 * drops the translations of code the guest writes itself; what it cannot see
 * (the caller's writes through host pointers, translations of sizes the block
 * cache does not record, a reset that must leave the engine as a new one) the
 * engine drops: everything (vtx_eng_drop_translations), the lost addresses at a
 * run's start (ENG-CNT-1, vtx_eng_drop_lost), the pages where blocks ran at a
 * reset (ENG-RST-1, vtx_eng_drop_since_reset).
 */
#include "engine_internal.h"

#include <string.h>

/*
 * Have Unicorn drop all its translated code, when it has any.
 * ENG-BUF-2: on Unicorn 2.0.x that is a new Unicorn with the same CPU state
 * (vtx_eng_reopen), not UC_CTL_TB_FLUSH: QEMU's flush clears the whole code
 * buffer (tcg_region_reset_all memsets it), 1 GiB there, whose size cannot be
 * set. Measured on this project's 2-core machine (bench/engine_bench.c): a
 * Unicorn's first flush about 3 s (the kernel faults the 1 GiB in), later ones
 * 36-43 ms, a new Unicorn 0.6-1.8 ms. The guest fuzz target's campaign corpus
 * spent 45 % of its replay in four first flushes (of Unicorns new since an
 * abort, engine_abort.c). On 2.1 (32 MiB) a flush costs 0.75 ms after the
 * first (86 ms) and stays: Unicorn's TLB holds the guest's translations there
 * (ROOT-ENG-1), which a new Unicorn would forget. So it does when a new
 * Unicorn cannot be made (the old one is then kept as it was). Never called
 * inside uc_emu_start (ENG-INV-1).
 */
/* Unicorn holds no translation now: nothing of the bookkeeping about them stays. */
static void translations_gone(vtx_engine *e)
{
    e->translated = false;
    e->nlost = 0;
    e->lost_pages = false;
    e->lost_all = false;
    e->ntpages = 0;
    e->tpages_all = false;
    memset(e->evicted, 0, sizeof e->evicted);
    for (size_t i = 0; i < BC_SIZE; i++)
        e->victim[i].lin = UINT64_MAX;
}

void vtx_eng_drop_translations(vtx_engine *e)
{
    if (!e->translated)
        return;
    if (VTX_UC_21 || !vtx_eng_reopen(e)) { /* (vtx_eng_reopen: translations_gone) */
        vtx_uc_flush_tb(e->uc); /* UC_CTL_TB_FLUSH: drops translated code (uc_compat.h) */
        e->buf_unset = false;   /* ENG-BUF-1: the regions are set now */
        translations_gone(e);
    }
}

/*
 * Go on in a new Unicorn with the CPU state, memory, exits, permanent hooks and
 * device window of the one in use and none of its translated code, TLB or
 * per-run hooks (the code and block hooks: vtx_engine_run sets them after
 * every drop it makes); the old one is closed once the new one is ready.
 * False, the old one kept as it was (e->ctx aside), when the new one cannot be
 * made. Used past an abort (engine_abort.c) and to drop every translation on
 * 2.0.x (ENG-BUF-2).
 */
bool vtx_eng_reopen(vtx_engine *e)
{
    /* ENG-ABT-1: a jump out of the translator (an abort) skipped QEMU's exit
     * from its execution loop, which folds DF and the lazily kept arithmetic
     * flags back into EFLAGS; a context taken as it is would lose them (the
     * new Unicorn's loop takes them from EFLAGS alone). RFLAGS as the register
     * API computes it goes into the new Unicorn explicitly. */
    uint64_t rflags;
    if (uc_reg_read(e->uc, UC_X86_REG_RFLAGS, &rflags) != UC_ERR_OK || uc_context_save(e->uc, e->ctx) != UC_ERR_OK)
        return false;
    uc_engine *old = e->uc, *nu = NULL;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &nu) != UC_ERR_OK)
        return false;
    /* vtx_eng_uc_setup records the new hooks' handles; of the permanent ones
     * only the second stage's is ever deleted (engine_xlate.c) */
    const uc_hook h_tlb = e->h_tlb;
    e->uc = nu;
    if (!vtx_uc_after_open(nu) || !vtx_eng_uc_setup(e) ||
        (e->nexits && uc_ctl_set_exits(nu, e->exits, e->nexits) != UC_ERR_OK) ||
        uc_context_restore(nu, e->ctx) != UC_ERR_OK || uc_reg_write(nu, UC_X86_REG_RFLAGS, &rflags) != UC_ERR_OK) {
        uc_close(nu);
        e->uc = old;
        e->h_tlb = h_tlb;
        return false;
    }
    uc_close(old);
    vtx_eng_buffer_setup(e); /* ENG-BUF-1: a new code buffer */
    e->live = NULL; /* freed with the old Unicorn: the copy is the state until found again */
    e->n_nc = 0;    /* ENG-NC-2's pages go with it */
    e->code_on = e->block_on = false; /* the caller sets them before the next run */
    e->tag_ptr = NULL; /* the block hook went with the old Unicorn */
    vtx_eng_code_may_change(e);
    e->nprobe = e->probe_next = 0;
    e->armed_on = false;
    translations_gone(e);
    e->ctx_fresh = false;
    vtx_eng_find_live(e); /* the new Unicorn's state is elsewhere */
    vtx_eng_flags_setup(e); /* and may not be found: RFLAGS then from Unicorn (ENG-FL-1, ENG-FL-2) */
    e->broken = false;
    return true;
}

/*
 * ENG-BUF-1: Unicorn before 2.1.3 leaves the region bookkeeping of QEMU's code
 * buffer unset until its first flush (upstream commit 2128e01e, "Init tcg
 * region buffer", in 2.1.3). So the first time the buffer fills, QEMU takes
 * the region again without dropping what is in it: the old translations stay
 * in its lookup table and in its tree of code addresses while new code is
 * written over them. Blocks then ran stale or garbage code, and the state at a
 * fault could not be restored (the fault came at the block's start): found on
 * 2.1.1 by the guest fuzz target, an input that translates one block some 2 400
 * times. Every later fill flushes properly. So the engine has the buffer
 * flushed once before it can fill, at the start of the run after the new
 * translations it saw could have taken a quarter of it (BUF_FLUSH_AT, with the
 * most a block of that size can take, BUF_TB_MAX). A flush at once would be
 * simpler, but a Unicorn's first flush costs about 86 ms on 2.1.1 (32 MiB)
 * and 3 s on 2.0.1 (1 GiB, whose size cannot be set; a new Unicorn there
 * instead, ENG-BUF-2, 1 ms), for every machine made; this way only the
 * machines that translate that much pay it, once. The limit:
 * new translations are seen by the block hook, so the blocks of raw runs (no
 * hooks, which the model never makes) are not counted, and one run after the
 * quarter would have to translate the other three quarters. Versions from 2.1.3
 * need none of it.
 */
void vtx_eng_buffer_setup(vtx_engine *e)
{
    e->buf_unset = vtx_uc_runtime_version() < 0x020103;
    e->buf_bytes = 0;
}

/*
 * A translation of another size than the one recorded runs at lin (ENG-CNT-1):
 * QEMU keeps both, the engine records one (blk_get). Within a run only the guest
 * writes code, and QEMU drops what it writes over; between runs the caller may
 * write through host pointers, which QEMU does not see, and the engine compares
 * only the recorded size's bytes. So the translations at lin are dropped at the
 * next run's start (found with Unicorn 2.1.1 by the guest fuzz target: a block
 * translated in an interrupt shadow, one instruction, recorded over the whole
 * block's record, and the whole block's translation run on a reused machine
 * after the caller rewrote its bytes beyond the first instruction).
 */
void vtx_eng_lost_add(vtx_engine *e, uint64_t lin)
{
    if (e->lost_all)
        return;
    if (e->lost_pages)
        lin &= ~0xfffull;
    for (unsigned i = 0; i < e->nlost; i++)
        if (e->lost[i] == lin)
            return;
    if (e->nlost < sizeof e->lost / sizeof e->lost[0]) {
        e->lost[e->nlost++] = lin;
        return;
    }
    if (e->lost_pages || VTX_UC_21) {
        e->lost_all = true;
        return;
    }
    /* Unicorn 2.0.1: more addresses than fit (a guest single-stepping, or code
     * that writes into its own block, which QEMU runs again as one-instruction
     * blocks): their pages instead. Dropping every translation there was a
     * flush of the whole 1 GiB code buffer then (tcg_region_assign), 45 % of
     * the guest fuzz target's campaign time; it is a new Unicorn now (ENG-BUF-2,
     * about 1 ms), after which every block is translated again, still more than
     * a few pages cost. On 2.1.1 the full drop stays:
     * with pages the seed sequence regress-unicorn21-reuse-* diverges there,
     * a block the bookkeeping does not name (docs/reliability.md, open). */
    unsigned n = e->nlost;
    e->nlost = 0;
    e->lost_pages = true;
    for (unsigned i = 0; i < n; i++)
        vtx_eng_lost_add(e, e->lost[i]);
    vtx_eng_lost_add(e, lin);
}

void vtx_eng_drop_lost(vtx_engine *e)
{
    if (e->lost_all) {
        vtx_eng_drop_translations(e);
        return;
    }
    for (unsigned i = 0; i < e->nlost; i++)
        uc_ctl_remove_cache(e->uc, e->lost[i], e->lost[i] + (e->lost_pages ? 4096 : 1));
    e->nlost = 0;
    e->lost_pages = false;
}

void vtx_eng_tpages_note(vtx_engine *e, uint64_t lin, uint32_t size)
{
    if (e->ntpages && e->tpages[e->ntpages - 1] == (lin & ~0xfffull) && (lin & 0xfff) + size <= 4096)
        return; /* the page noted last (most blocks follow one in the same page) */
    for (uint64_t pg = lin & ~0xfffull; !e->tpages_all && pg <= ((lin + (size ? size - 1 : 0)) & ~0xfffull);
         pg += 4096) {
        unsigned i = 0;
        while (i < e->ntpages && e->tpages[i] != pg)
            i++;
        if (i < e->ntpages)
            continue;
        if (e->ntpages == sizeof e->tpages / sizeof e->tpages[0])
            e->tpages_all = true;
        else
            e->tpages[e->ntpages++] = pg;
    }
}

/*
 * ENG-RST-1: a reset engine is to run as a new one, which holds no translation.
 * Translations are made only of blocks that run, and the first run of every
 * block in a run goes through hook_block_slow, which notes its pages; dropping
 * those pages drops everything made since the last drop (a whole drop is a
 * new Unicorn on 2.0.x, about 1 ms and every block translated again; a page a
 * few microseconds). Found by the guest
 * fuzz target in check mode: one-byte HLT blocks of earlier inputs still ran at
 * addresses where the next input has POPFs, although the engine's record there
 * had been brought up to date (tests/fuzz/guest/regress-reset-pages-*.bin).
 */
void vtx_eng_drop_since_reset(vtx_engine *e)
{
    if (e->tpages_all) {
        vtx_eng_drop_translations(e);
        return;
    }
    for (unsigned i = 0; i < e->ntpages; i++)
        uc_ctl_remove_cache(e->uc, e->tpages[i], e->tpages[i] + 4096);
    e->ntpages = 0;
}
