/*
 * engine: see the header and docs/architecture.md ("Speed").
 *
 * This file: create/destroy, hook installation and the run loop.
 * The rest is split by concept (see engine_internal.h): the guest's paging in
 * engine_paging.c, the second-stage translation in engine_xlate.c, the fast path
 * in engine_blocks.c, the SIGABRT guard in engine_abort.c, Unicorn state transfer
 * and the QEMU CPUX86State layout ("Unicorn internals") in engine_state.c, the
 * MMIO window in engine_mmio.c, MOV to DR in engine_debug_regs.c, canonical
 * addresses in engine_canonical.c, alignment checking in engine_align.c, the
 * decode cache and the per-instruction hook in engine_step.c, data accesses to
 * unmapped memory in engine_unmapped.c, self-modifying code in engine_smc.c.
 */
#include "engine_flags.h"

#include <stdlib.h>

static void hook_intr(uc_engine *uc, uint32_t intno, void *ud)
{
    vtx_engine *e = ud;
    if (!e->exc) {
        e->exc = true;
        e->exc_vec = intno;
        e->exc_err = 0;
        e->exc_is_int = 0;
        if (e->live || uc_context_save(uc, e->ctx) == UC_ERR_OK) {
            const uint8_t *env = env_of(e);
            e->exc_err = rd32(env, e->off_dr + DR_ERROR_CODE);
            e->exc_is_int = (int32_t)rd32(env, e->off_dr + DR_IS_INT);
            e->exc_cr2 = rd64(env, ENV_CR + 16);
        }
    }
    uc_emu_stop(uc);
}

/* ---- create / destroy ---- */
bool vtx_engine_broken(const vtx_engine *e) { return e && e->broken; }

bool vtx_engine_reusable(const vtx_engine *e) { return e && !e->broken && e->nexits == 0; }

void vtx_engine_watch_sti(vtx_engine *e)
{
    if (e)
        e->sti_watch = true;
}

unsigned vtx_engine_probe_count(const vtx_engine *e) { return e ? e->nprobe : 0; }

bool vtx_engine_translates_paging(void) { return VTX_UC_21; }

const char *vtx_engine_unicorn_version(void) { return VTX_UC_VERSION_STRING; }

bool vtx_eng_is_exit(const vtx_engine *e, uint64_t lin)
{
    for (size_t i = 0; i < e->nexits; i++)
        if (e->exits[i] == lin)
            return true;
    return false;
}

/* Map the regions and add the engine's permanent hooks to a new Unicorn. */
bool vtx_eng_uc_setup(vtx_engine *e)
{
    if (uc_ctl_exits_enable(e->uc) != UC_ERR_OK)
        return false;
    for (size_t i = 0; i < e->nreg; i++)
        if (uc_mem_map_ptr(e->uc, e->reg[i].pa, e->reg[i].size, UC_PROT_ALL, e->reg[i].host) != UC_ERR_OK)
            return false;
    if (e->mmio.on && !vtx_eng_mmio_attach(e))
        return false;
    return uc_hook_add(e->uc, &e->h_intr, UC_HOOK_INTR, (void *)hook_intr, e, 1, 0) == UC_ERR_OK &&
           uc_hook_add(e->uc, &e->h_unmapped, UC_HOOK_MEM_UNMAPPED, (void *)vtx_eng_hook_unmapped, e, 1, 0) == UC_ERR_OK &&
           vtx_eng_smc_setup(e) && vtx_eng_xlate_setup(e);
}

int vtx_engine_create(vtx_engine **out, const vtx_engine_region *regions, size_t n, const vtx_phys_mem *mem)
{
    if (!out)
        return -1;
    *out = NULL;
    if (n && !regions)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!regions[i].host || !regions[i].size || ((regions[i].pa | regions[i].size) & 0xfff) ||
            ((uintptr_t)regions[i].host & 0xfff) ||
            (DUMMY_PA + 4096 > regions[i].pa && DUMMY_PA < regions[i].pa + regions[i].size))
            return -1;
    pthread_once(&vtx_eng_abort_guard_once, vtx_eng_install_abort_guard);
    /* at a multiple of ENG_ALIGN: the block hook finds it from its tagged user data */
    vtx_engine *e = aligned_alloc(ENG_ALIGN, (sizeof *e + ENG_ALIGN - 1) / ENG_ALIGN * ENG_ALIGN);
    if (!e)
        return -1;
    memset(e, 0, sizeof *e);
    e->reg = n ? calloc(n, sizeof *e->reg) : NULL;
    e->dc = calloc(DC_SIZE, sizeof *e->dc);
    e->cx = calloc(CODE_XLAT, sizeof *e->cx);
    e->dummy = aligned_alloc(4096, 4096);
    if ((n && !e->reg) || !e->dc || !e->cx || !e->dummy)
        goto fail;
    for (size_t i = 0; i < BC_SIZE; i++)
        e->bc[i].lin = e->victim[i].lin = UINT64_MAX;
    if (n)
        memcpy(e->reg, regions, n * sizeof *regions);
    e->nreg = n;
    if (mem) {
        e->mem = *mem;
        e->have_mem = true;
    }
    for (size_t i = 0; i < DC_SIZE; i++)
        e->dc[i].lin = UINT64_MAX;
    e->gen = 2;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &e->uc) != UC_ERR_OK) {
        e->uc = NULL;
        goto fail;
    }
    if (!vtx_uc_after_open(e->uc))
        goto fail;
    if (uc_context_alloc(e->uc, &e->ctx) != UC_ERR_OK) {
        e->ctx = NULL;
        goto fail;
    }
    if (!vtx_eng_probe_layout(e))
        goto fail;
    vtx_eng_find_live(e);
    vtx_eng_flags_setup(e);
    if (!vtx_eng_fb_alloc(e)) /* after find_live: it keeps clear of the live state's registers */
        goto fail;
    /* Runs end only through the hooks (uc_emu_stop), HLT or a fault: with an
     * empty exit set Unicorn neither stops at `until` nor, after every run, looks
     * the `until` address up through the guest's paging (uc_exit_invalidate_iter
     * in softmmu/cpus.c), a walk that costs time and, where the guest's tables
     * do not map that address, leaves a #PF in QEMU's fault history that would
     * turn the guest's next exception into #DF. */
    if (!vtx_eng_uc_setup(e))
        goto fail;
    vtx_eng_buffer_setup(e); /* ENG-BUF-1 */
    /* Start in real mode at 0000:0000, everything 0 (a defined state). */
    vtx_cpu_state s;
    memset(&s, 0, sizeof s);
    s.rflags = 2;
    s.cr0 = 0x10;
    for (int i = 0; i < VTX_S_COUNT; i++) {
        s.seg[i].limit = 0xffff;
        s.seg[i].ar = i == VTX_S_CS ? 0x9b : i == VTX_S_LDTR ? 0x82 : i == VTX_S_TR ? 0x8b : 0x93;
    }
    s.gdtr_limit = s.idtr_limit = 0xffff;
    vtx_eng_set_cr0(e, ~0ull); /* force the first flush */
    if (vtx_engine_set_state(e, &s, NULL) != 0)
        goto fail;
    if (uc_context_alloc(e->uc, &e->pristine) != UC_ERR_OK) {
        e->pristine = NULL;
        goto fail;
    }
    if (uc_context_save(e->uc, e->pristine) != UC_ERR_OK)
        goto fail;
    *out = e;
    return 0;
fail:
    vtx_engine_destroy(e);
    return -1;
}

void vtx_engine_destroy(vtx_engine *e)
{
    if (!e)
        return;
    if (e->ctx)
        uc_context_free(e->ctx);
    if (e->pristine)
        uc_context_free(e->pristine);
    if (e->uc)
        uc_close(e->uc);
    free(e->dummy);
    for (size_t i = 0; i < BC_SIZE; i++) {
        free(e->victim[i].bytes);
        free(e->bc[i].bytes);
        free(e->bc[i].off);
        free(e->bc[i].cls);
        free(e->bc[i].wmem);
    }
    for (unsigned i = 0; i < ID_CACHE_TABLES; i++)
        free(e->idc.t[i].copy);
    vtx_eng_fb_free(e);
    free(e->dc);
    free(e->cx);
    free(e->reg);
    free(e);
}

void vtx_engine_reset(vtx_engine *e)
{
    if (!e || e->broken)
        return;
    if (uc_context_restore(e->uc, e->pristine) != UC_ERR_OK ||
        (!e->live && uc_context_save(e->uc, e->ctx) != UC_ERR_OK)) {
        e->broken = true; /* not reusable: vtx_machine_restore makes a new one */
        return;
    }
    /* Probes (code hooks bounded to one address, engine_blocks.c) are compiled
     * into the blocks that hold them, and change where Unicorn stops on an
     * unmapped access there: a new engine has none. */
    vtx_eng_drop_probes(e, true);
    vtx_eng_drop_since_reset(e); /* ENG-RST-1: a new engine has no translations either */
    e->armed_on = false;
    e->ctx_fresh = false;
    e->held_valid = false; /* the next set_state loads in full */
    vtx_eng_set_cr0(e, ~0ull); /* ... and flushes the TLB, as the first one did (the
                                  paging check's cached walk stays: it compares every
                                  table, and walking is what it would do again) */
    e->gen += 2;           /* decoded bytes were found through the old translations */
    e->verify_want = true; /* PG-9: the next load compares the tables */
}

void vtx_engine_invalidate(vtx_engine *e)
{
    if (!e || e->broken)
        return;
    if (e->in_uc) {
        /* ENG-INV-1: from inside a run (a device's callback), where Unicorn can
         * neither drop the code it is running nor change its memory map (QEMU's
         * flush would clear the code under the instruction running; the
         * process crashed): at the next run's start */
        e->invalidate_due = true;
        return;
    }
    e->invalidate_due = false;
    e->verify_want = true; /* PG-9 */
    vtx_eng_drop_translations(e);
    vtx_eng_flush_tlb(e);
}

/*
 * ENG-MODE-1: switching hooks without dropping translations. Unicorn compiles
 * the hooks installed when it translates a block into the block's code, so a
 * block translated without the per-instruction hook never calls it, and one
 * translated with it calls it even after the engine went back to the fast path.
 * Dropping every translation at each switch was exact but, on Unicorn 2.0.1,
 * costs about 125 ms and faults in the whole 1 GiB translation buffer
 * (tcg_region_reset_all): the guest fuzz target ran at 35-48 inputs/s.
 * Instead each hook set gets its own tag in two hflags bits QEMU does not use
 * (HF_TAG_CODE, HF_TAG_BLOCK), written into Unicorn's CPU state before every
 * uc_emu_start: QEMU looks translated blocks up by PC, CS base, TB flags
 * (hflags) and cflags, and its direct block chaining links only blocks found
 * by such a lookup, so a run only ever reaches blocks translated under the
 * hook set it runs with. Both kinds live on side by side; a hook deleted also
 * drops the blocks it was compiled into (uc_hook_del invalidates the regions
 * the hook instrumented, 2.0.1 and 2.1.1). The tags never reach the model:
 * the state the engine reads back takes its hflags bits one by one
 * (engine_state.c), and a state load recomputes hflags from the VMCS view.
 * Without the live state (e->live NULL) the tags cannot be written without a
 * context copy, and the engine drops every translation as before.
 */
static void mode_tag(vtx_engine *e)
{
    if (!e->live)
        return;
    uint32_t hf = rd32(e->live, ENV_HFLAGS) & ~(HF_TAG_CODE | HF_TAG_BLOCK);
    hf |= (e->code_on ? HF_TAG_CODE : 0) | (e->block_on ? HF_TAG_BLOCK : 0);
    wr32(e->live, ENV_HFLAGS, hf);
}

static bool set_code_hook(vtx_engine *e, bool on)
{
    if (on == e->code_on)
        return true;
    if (on) {
        if (uc_hook_add(e->uc, &e->h_code, UC_HOOK_CODE, (void *)vtx_eng_hook_code, e, 1, 0) != UC_ERR_OK)
            return false;
    } else {
        uc_hook_del(e->uc, e->h_code);
    }
    e->code_on = on;
    if (!e->live)
        vtx_eng_drop_translations(e); /* the hook is compiled into translated blocks */
    return true;
}

static bool set_block_hook(vtx_engine *e, bool on)
{
    if (on == e->block_on)
        return true;
    if (on) {
        if (!vtx_eng_block_hook_add(e))
            return false;
    } else {
        uc_hook_del(e->uc, e->h_block);
        e->tag_ptr = NULL;
    }
    e->block_on = on;
    if (!e->live)
        vtx_eng_drop_translations(e); /* compiled into translated blocks, like the code hook */
    return true;
}

/* Fast-path bookkeeping after a stop that was not the block hook's or a probe's
 * own: put `started` and `last_lin` where the per-instruction hook would have
 * left them, from where RIP (lin) is in the block entered last. A fault leaves
 * RIP on the faulting instruction (counted when it started, as in the slow
 * path); a trap, HLT or ICEBP after the instruction (or, for a trap at the
 * block's first instruction, after a branch back to it from the last). */
static void fast_fixup(vtx_engine *e, uint64_t lin, bool fault, bool inside)
{
    blk_entry *b = e->cur;
    e->last_valid = false;
    if (!b)
        return;
    const uint64_t before = vtx_eng_cur_before(e);
    int j = blk_index(b, lin);
    if (j < 0 || (uint32_t)j > e->cur_count) /* elsewhere: the whole counted part ran */
        j = -1;
    if (fault && j >= 0 && (uint32_t)j < e->cur_count) {
        e->started = before + (uint32_t)j + 1;
        e->last_lin = b->lin + b->off[j];
        e->last_valid = true;
        return;
    }
    if (fault) {
        /* the fault is on the next block's first instruction (its fetch): the
         * counted part ran, and the faulting instruction counts as started */
        e->started = before + e->cur_count + 1;
        return;
    }
    if (j == 0 && !inside)
        j = -1; /* back at the block's start: it ran to its end (a loop) */
    uint32_t done = j < 0 ? e->cur_count : (uint32_t)j;
    e->started = before + done;
    if (done) {
        e->last_lin = b->lin + b->off[done - 1];
        e->last_valid = true;
    }
}

void vtx_eng_clear_fault_history(vtx_engine *e)
{
    /* env_of(e) is Unicorn's state, or the copy saved after the run. */
    wr32(env_of(e), e->off_dr + DR_OLD_EXCEPTION, (uint32_t)-1);
    if (!e->live)
        uc_context_restore(e->uc, e->ctx);
}

void vtx_eng_stop_insn_at(vtx_engine *e, uint64_t lin, vtx_stop *stop)
{
    const vtx_insn *in = &e->scratch;
    vtx_engine_decode(e, lin, &in); /* always sets `in` (to e->scratch) */
    e->stop_insn = *in;
    stop->insn = &e->stop_insn;
}

static bool has_error_code(uint32_t v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

/*
 * A run that would stop before its first instruction without running anything:
 * the last run stopped before the instruction at `lin` (one of its caller's stop
 * classes; Unicorn had fetched it), and since then nothing ran, no full state
 * load, TLB flush or map change happened (e->again), the instruction's bytes are
 * unchanged (its decode-cache entry is still valid) and it is in this run's stop
 * set. Unicorn would fetch it through the same TLB and stop before it again
 * (the hooks check the stop set before anything else): the run ends there at
 * once, without uc_emu_start (a VM exit's instruction, reached by a run that
 * retired the instructions before it, costs one Unicorn run instead of two).
 */
static bool stops_again(vtx_engine *e, uint64_t lin, bool skip_first)
{
    if (!e->again.on || skip_first || e->again.lin != lin || e->again.gen != e->gen)
        return false;
    const dc_entry *d = vtx_eng_dc_slot(e, lin);
    return d->lin == lin && d->gen == e->gen && vtx_eng_dc_valid(d) && ((e->stop_bits >> d->insn.cls) & 1) &&
           !((e->own_bits >> d->insn.cls) & 1);
}

/* ENG-AGAIN-1 (engine.h): the run vtx_engine_run would make now ends at once
 * (stops_again), and its start would change nothing the caller sees. */
bool vtx_engine_stops_at_once(vtx_engine *e, vtx_class_set stop_before, vtx_stop *stop)
{
    /* A flush or verification due at a run's start clears `again` or may stop
     * the run; translations due to be dropped (nlost) stay due until a run. */
    if (!e || !stop || e->broken || e->bfn || !e->held_valid || !e->held_exact || e->tlb_want ||
        (e->idc_unverified && e->verify_want))
        return false;
    uint64_t lin = vtx_eng_linear_of(e, vtx_eng_rip(e));
    /* as the run sets them (a stop of ENG-DR-1's own is not stopped at once) */
    e->own_bits = (1ull << VTX_IC_MOV_TO_DR) & ~stop_before.bits;
    e->stop_bits = stop_before.bits | e->own_bits;
    if (!stops_again(e, lin, false))
        return false;
    /* What a run's start does that outlasts it (engine_probes.c: the probes' age). */
    e->runno++;
    if (e->nprobe) /* "(void)": not the text of the run's own call, which tests/mutations.tsv mutates */
        (void)vtx_eng_drop_probes(e, false);
    memset(stop, 0, sizeof *stop);
    stop->reason = VTX_STOP_BEFORE;
    stop->counted = true;
    e->stop_lin = lin;
    /* stop_insn is still the decode of the instruction at `lin`: the run that
     * armed `again` put it there, nothing but a run writes it, and the decode
     * cache's entry it came from is unchanged (stops_again) */
    stop->insn = &e->stop_insn;
    return true; /* `again` stays as that run left it */
}

int vtx_engine_run(vtx_engine *e, uint64_t max_insns, vtx_class_set stop_before, bool skip_first, vtx_stop *stop)
{
    if (!e || !stop)
        return -1;
    memset(stop, 0, sizeof *stop);
    const bool sti_watch = e->sti_watch; /* vtx_engine_watch_sti: this run only, also one that ends at once */
    e->sti_watch = false;
    if (e->broken) {
        stop->reason = VTX_STOP_ERROR;
        stop->why = "the engine is broken (Unicorn aborted in an earlier run)";
        return 0;
    }
    if (e->invalidate_due)
        vtx_engine_invalidate(e); /* ENG-INV-1: asked for inside the last run */
    const char *unverified = vtx_eng_paging_verify(e); /* PG-9 */
    if (unverified) {
        stop->reason = VTX_STOP_ERROR;
        stop->why = unverified;
        return 0;
    }
    if (e->nexits) {
        vtx_eng_drop_stale_exits(e); /* ENG-EXIT-1 */
        if (e->broken) {
            stop->reason = VTX_STOP_ERROR;
            stop->why = "cannot change Unicorn's exit list";
            return 0;
        }
    }
    vtx_eng_tlb_flush_wanted(e);
    /* Drops first: on Unicorn 2.0.x dropping everything takes a new Unicorn
     * (ENG-BUF-2), which has none of the hooks set below */
    if (vtx_eng_buffer_due(e))
        vtx_eng_drop_translations(e); /* ENG-BUF-1 */
    if (e->nlost || e->lost_all)
        vtx_eng_drop_lost(e); /* translations at an address the block cache no longer records */
    e->runno++;
    if (e->nprobe)
        vtx_eng_drop_probes(e, false);
    bool hooked = stop_before.bits != 0 || max_insns != 0 || e->bfn;
    /* A counted run starts on the fast path (block hook), or with a boundary
     * function on the per-instruction hook; a raw run has no hook at all. */
    bool slow = e->bfn != NULL;
    if (!set_code_hook(e, slow) || !set_block_hook(e, hooked)) {
        stop->reason = VTX_STOP_ERROR;
        stop->why = "cannot install the engine's hooks";
        return 0;
    }
    e->slow = slow;
    /* ENG-DR-1: Unicorn never executes MOV to DR (it would arm a QEMU breakpoint,
     * and hitting it crashes the process, docs/unicorn-audit.md): a run whose caller
     * lets it through stops before it with VTX_STOP_ERROR, even on skip_first. */
    e->own_bits = (1ull << VTX_IC_MOV_TO_DR) & ~stop_before.bits;
    e->stop_bits = stop_before.bits | e->own_bits;
    /* ENG-STI-1: an STI the caller lets through is watched (engine_blocks.c,
     * sti_note); on the per-instruction hook the run stops before it instead */
    e->watch_bits = sti_watch && hooked ? (1ull << VTX_IC_STI) & ~e->stop_bits : 0;
    e->sti_next = UINT64_MAX;
    if (slow)
        e->stop_bits |= e->watch_bits;
    e->skip_pending = skip_first;
    e->budget = max_insns;
    e->lim = max_insns ? max_insns : UINT64_MAX;
    e->started = 0;
    /* the caller may have written guest code through its host pointers since the
     * last run: every block is compared with memory once more (engine_blocks.c) */
    vtx_eng_code_may_change(e);
    e->hstop = HS_NONE;
    e->resync = false;
    e->exc = false;
    e->ac_stop = false;
    e->xf.on = false;
    e->unmapped = false;
    e->last_valid = false;
    e->cur = NULL;
    e->step_next = UINT64_MAX;
    e->step_keeps = 0;
    e->step_prev = NULL;
    e->again_lin = UINT64_MAX;
    e->split.on = false;
    e->split_restart = false;
    e->armed_on = false;
    e->blk_stop = false;
    e->nretrans = 0;
    e->mmio_stop = false;
    e->mmio_seen = false;
    e->mmio_j = -1;
    e->mmio_next = UINT64_MAX;
    uint64_t rip = vtx_eng_rip(e);
    uint64_t start_lin = vtx_eng_linear_of(e, rip);
    e->start_lin = start_lin;
    uc_err err = UC_ERR_OK;
    /* ENG-STI-2: QEMU's interrupt-inhibit flag from an earlier run (an STI, then
     * a fault the model delivered) made it take this run's STI for one inside a
     * shadow, which sets none (ENG-STI-1 then saw no shadow); shadows are the model's */
    if (e->live)
        wr32(e->live, ENV_HFLAGS, rd32(e->live, ENV_HFLAGS) & ~HF_INHIBIT_IRQ);
    bool again = stops_again(e, start_lin, skip_first);
    e->again.on = false;
    if (again) {
        e->hstop = HS_BEFORE;
        e->stop_lin = start_lin;
    }
    while (!again) {
        e->blk_stop = false;
        e->ctx_fresh = false;
        e->held_valid = false;
        e->translated = true;
        mode_tag(e); /* ENG-MODE-1: the blocks of the hooks installed now */
        /* ENG-DF-1: QEMU's record of the last fault, which turns a second one
         * into #DF, clear at every start: a cache removal between runs
         * (uc_ctl_remove_cache) walks the guest's tables and, where the walk
         * faults, leaves a #PF recorded that the run's first fault escalated */
        if (e->live)
            wr32(e->live, e->off_dr + DR_OLD_EXCEPTION, (uint32_t)-1);
        if (vtx_eng_guarded_emu_start(e, rip, &err)) {
            /* the abort came translating the block at RIP (Unicorn's, which is
             * intact): go on past it if the culprit can be found */
            uint64_t at = 0;
            uc_reg_read(e->uc, UC_X86_REG_RIP, &at);
            if (vtx_eng_reopen_past(e, vtx_eng_linear_of(e, at)) && set_code_hook(e, e->slow) && set_block_hook(e, hooked)) {
                rip = at;
                continue;
            }
            e->broken = true;
            vtx_eng_nc_unmap(e);
            stop->reason = VTX_STOP_ERROR;
            stop->why = "Unicorn 2.0.1 aborted while translating the guest code (for instance a far CALL or "
                        "JMP with a register operand, FF /3 or FF /5, which is #UD on hardware); the engine "
                        "cannot run this code";
            return 0;
        }
        if (e->ac_stop) {
            /* ENG-AC-1: the code hook stopped before the instruction: RIP on it */
            uint64_t r = e->width == 64 ? e->last_lin : ((e->last_lin - e->cs_base) & 0xffffffffull);
            uc_reg_write(e->uc, UC_X86_REG_RIP, &r);
        } else if (e->blk_stop && !e->exc) {
            uint64_t r = e->width == 64 ? e->blk_stop_lin : ((e->blk_stop_lin - e->cs_base) & 0xffffffffull);
            uc_reg_write(e->uc, UC_X86_REG_RIP, &r);
        } else if ((e->hstop == HS_BEFORE || e->hstop == HS_COUNT || e->hstop == HS_BOUNDARY) && !e->exc &&
                   e->width != 64 && e->cs_base) {
            /* A code hook or probe that stops before the instruction at stop_lin
             * leaves the linear address (CS.base + EIP) in EIP: Unicorn syncs the
             * PC for the hook without subtracting CS.base. Put the offset back
             * (seen with real-mode guests, CS.base != 0; IW-4 and INJ-7 need the
             * right RIP). */
            uint64_t r = (e->stop_lin - e->cs_base) & 0xffffffffull;
            uc_reg_write(e->uc, UC_X86_REG_RIP, &r);
        }
        if ((e->hstop != HS_PROBE && e->hstop != HS_SLOW && e->hstop != HS_RETRANSLATE) || e->exc || e->unmapped ||
            err != UC_ERR_OK)
            break;
        /* The block hook stopped before a block (nothing of it ran) to add a probe
         * or to go on with the per-instruction hook; then the run goes on. */
        bool ok;
        if (e->hstop == HS_RETRANSLATE) {
            /* Drop Unicorn's translation of the block; it is translated again
             * from the bytes in memory when the run goes on. */
            ok = uc_ctl_remove_cache(e->uc, e->retrans_lo, e->retrans_hi) == UC_ERR_OK;
            evicted_set(e, e->retrans_lo, false);
            if (e->nretrans < sizeof e->retrans / sizeof e->retrans[0])
                e->retrans[e->nretrans++] = e->retrans_lo;
        } else if (e->hstop == HS_PROBE) {
            ok = vtx_eng_add_probe(e, e->want_probe);
        } else {
            ok = set_code_hook(e, true);
            e->slow = ok;
            e->stop_bits |= e->watch_bits; /* ENG-STI-1: the per-instruction hook stops before STI */
        }
        if (!ok) {
            vtx_eng_nc_unmap(e);
            if (!vtx_eng_save_absorb(e)) {
                stop->reason = VTX_STOP_ERROR;
                stop->why = "uc_context_save failed";
                return 0;
            }
            stop->reason = VTX_STOP_ERROR;
            stop->why = "cannot add the engine's hooks";
            stop->counted = true;
            stop->retired = e->started;
            return 0;
        }
        e->hstop = HS_NONE;
        e->cur = NULL;
        e->armed_on = false;
        uc_reg_read(e->uc, UC_X86_REG_RIP, &rip);
    }
    if (e->n_nc)
        vtx_eng_nc_unmap(e); /* ENG-NC-2 */
    if (!vtx_eng_save_absorb(e)) {
        stop->reason = VTX_STOP_ERROR;
        stop->why = "uc_context_save failed";
        return 0;
    }
    rip = vtx_eng_rip(e);
    uint64_t lin = vtx_eng_linear_of(e, rip);
    /* The second stage's TLB fill refused an access (engine_xlate.c): Unicorn
     * ended the run with an error, RIP on the faulting instruction. */
    const bool xfault = e->xf.on && !e->exc && err != UC_ERR_OK;
    /* ENG-UNM-5: Unicorn refused a data access and ran on (the rest of the block),
     * where a later instruction raised an exception: the access came first */
    const bool unm_first = vtx_eng_unmapped_data(e);
    if (hooked && !e->slow && e->hstop == HS_NONE) {
        /* Stopped by something else than the hooks' own stops: count by position. */
        bool fault = (e->exc && !unm_first && !(e->exc_is_int != 0 || e->exc_vec == 1)) || xfault ||
                     (!e->exc && err == UC_ERR_INSN_INVALID) ||
                     vtx_eng_noncanonical_data(e); /* ENG-NC-1: a fault, below */
        bool icebp = false;
        uint8_t b0 = 0;
        const uint8_t *hp;
        if (!e->exc && err == UC_ERR_OK && vtx_eng_lin_read(e, lin, &b0, 1, &hp) == 1 && b0 == 0xf1)
            icebp = true;
        /* ENG-UNM-4: a data access to unmapped memory ended the run inside its
         * block (no block hook stopped the run after it): RIP is where Unicorn
         * last synced it, also the block's start, and what counts is the
         * instructions before RIP (not the translation's length) */
        const bool inside = !e->blk_stop && (unm_first || err == UC_ERR_READ_UNMAPPED || err == UC_ERR_WRITE_UNMAPPED);
        if (icebp) {
            const uint64_t before = vtx_eng_cur_before(e); /* (fast_fixup changes started) */
            fast_fixup(e, lin, false, false);
            int j = e->cur ? blk_index(e->cur, lin) : -1;
            if (j >= 0 && (uint32_t)j < e->cur_count)
                e->started = before + (uint32_t)j;
        } else {
            fast_fixup(e, lin, fault, inside);
        }
        if (e->unmapped || err == UC_ERR_READ_UNMAPPED || err == UC_ERR_WRITE_UNMAPPED || err == UC_ERR_FETCH_UNMAPPED)
            e->last_valid = false; /* Unicorn ran on to the end of the block: RIP stays where it stopped */
    }
    stop->counted = hooked;
    stop->retired = hooked ? e->started : 0;
    /* ENG-STI-1: the run stopped right after an STI it let run, that found IF =
     * 0: QEMU's inhibit flag says the last translation block run ended in an
     * STI (the block after it clears the flag as it ends; a run that retired
     * nothing may still hold an earlier run's), and RIP is where the
     * instruction after the last STI the block hook let run starts. */
    stop->sti_shadow = e->watch_bits && stop->retired && e->sti_if0 && lin == e->sti_next &&
                       (rd32(env_of(e), ENV_HFLAGS) & HF_INHIBIT_IRQ);

    if (e->hstop == HS_BEFORE || e->hstop == HS_COUNT || e->hstop == HS_BOUNDARY) {
        stop->reason = e->hstop == HS_BEFORE ? VTX_STOP_BEFORE : e->hstop == HS_COUNT ? VTX_STOP_COUNT
                                                                                       : VTX_STOP_BOUNDARY;
        if (e->hstop != HS_COUNT)
            vtx_eng_stop_insn_at(e, e->stop_lin, stop);
        if (e->hstop == HS_BEFORE && !e->exc && err == UC_ERR_OK && !e->unmapped && stop->insn &&
            stop->insn->len && !((e->own_bits >> stop->insn->cls) & 1)) {
            e->again.on = true; /* stops_again */
            e->again.lin = e->stop_lin;
            e->again.gen = e->gen;
        }
        if (e->hstop == HS_BEFORE && stop->insn && ((e->own_bits >> stop->insn->cls) & 1)) {
            if (e->budget && e->started >= e->budget) {
                stop->reason = VTX_STOP_COUNT; /* the budget ended there: the caller's stop */
                return 0;
            }
            if (vtx_eng_own_mov_to_dr(e, stop->insn)) {
                stop->retired++;
                stop->reason = e->budget && stop->retired >= e->budget ? VTX_STOP_COUNT : VTX_STOP_BOUNDARY;
                return 0;
            }
            stop->reason = VTX_STOP_ERROR; /* ENG-DR-1 */
            stop->why = "MOV to a debug register must be carried out by the caller (vtx_mov_to_dr): Unicorn would "
                        "arm a breakpoint, which crashes it (docs/unicorn-audit.md)";
        }
        return 0;
    }
    if (e->exc && !unm_first) {
        stop->reason = VTX_STOP_EXCEPTION;
        stop->vector = (uint8_t)e->exc_vec;
        stop->trap = e->exc_is_int != 0 || e->exc_vec == 1;
        stop->has_error_code = !stop->trap && has_error_code(e->exc_vec);
        stop->error_code = stop->has_error_code ? e->exc_err : 0;
        if (e->exc_vec == 13 && e->width == 64 && vtx_eng_ss_noncanonical(e, lin)) {
            stop->vector = 12; /* ENG-NC-1 */
            stop->error_code = 0;
        }
        if (e->exc_vec == 14) {
            /* QEMU may retry the access after the hook and overwrite CR2: keep the first */
            stop->address = e->exc_cr2;
            wr64(env_of(e), ENV_CR + 16, e->exc_cr2);
        }
        if (e->slow && !stop->trap && e->last_valid && e->last_lin != lin) {
            /* a fault fetching an instruction the per-instruction hook never saw
             * start (its translation faulted): the one before it retired */
            stop->retired++;
            e->last_valid = false;
        }
        if (hooked && !stop->trap && stop->retired)
            stop->retired--; /* the faulting instruction was counted when it started */
        if (e->last_valid)
            vtx_eng_stop_insn_at(e, e->last_lin, stop);
        else if (!stop->trap)
            vtx_eng_stop_insn_at(e, lin, stop);
        vtx_eng_clear_fault_history(e);
        return 0;
    }
    if (xfault) {
        if (e->slow && e->last_valid && e->last_lin != lin) {
            stop->retired++; /* as for an exception: the fetch of an instruction never seen start */
            e->last_valid = false;
        }
        if (hooked && stop->retired)
            stop->retired--;
        vtx_eng_stop_insn_at(e, e->last_valid ? e->last_lin : lin, stop);
        stop->address = vtx_eng_xf_linear(e, stop->insn, e->last_valid ? e->last_lin : lin);
        if (e->xf.kind == XF_PF) {
            /* The guest's own #PF, found by the engine's walk: CR2 as QEMU would set it. */
            stop->reason = VTX_STOP_EXCEPTION;
            stop->vector = 14;
            stop->has_error_code = true;
            stop->error_code = e->xf.ec;
            wr64(env_of(e), ENV_CR + 16, stop->address);
        } else if (e->xf.kind == XF_UNMAPPED) {
            stop->reason = VTX_STOP_UNMAPPED;
            stop->address = e->xf.addr;
        } else {
            stop->reason = VTX_STOP_XLATE;
        }
        vtx_eng_clear_fault_history(e); /* also restores the context (CR2 through the blob, never uc_reg_write) */
        return 0;
    }
    if (err == UC_ERR_INSN_INVALID) {
        stop->reason = VTX_STOP_EXCEPTION;
        stop->vector = 6;
        if (hooked && stop->retired)
            stop->retired--;
        vtx_eng_stop_insn_at(e, lin, stop);
        vtx_eng_clear_fault_history(e);
        return 0;
    }
    if (e->unmapped || err == UC_ERR_READ_UNMAPPED || err == UC_ERR_WRITE_UNMAPPED ||
        err == UC_ERR_FETCH_UNMAPPED) {
        vtx_eng_unmapped_stop(e, err, lin, start_lin, hooked, stop); /* engine_unmapped.c */
        return 0;
    }
    if (err != UC_ERR_OK) {
        stop->reason = VTX_STOP_ERROR;
        stop->why = uc_strerror(err);
        vtx_eng_clear_fault_history(e);
        return 0;
    }
    /* Unicorn ended quietly: at an address on its exit list (reopen_past), or
     * after HLT (it is not hookable). */
    if (vtx_eng_is_exit(e, lin)) {
        stop->reason = VTX_STOP_BEFORE;
        vtx_eng_stop_insn_at(e, lin, stop);
        return 0;
    }
    uint8_t b = 0;
    const uint8_t *host;
    if (lin != start_lin || stop->retired) {
        if (vtx_eng_lin_read(e, lin - 1, &b, 1, &host) == 1 && b == 0xf4) {
            stop->reason = VTX_STOP_HLT;
            vtx_eng_stop_insn_at(e, lin - 1, stop);
            return 0;
        }
    }
    if (vtx_eng_lin_read(e, lin, &b, 1, &host) == 1 && b == 0xf1) {
        /* ICEBP: QEMU raises its internal debug exit, not vector 1. */
        stop->reason = VTX_STOP_EXCEPTION;
        stop->vector = 1;
        stop->trap = true;
        vtx_eng_stop_insn_at(e, lin, stop);
        rip += 1;
        uc_reg_write(e->uc, UC_X86_REG_RIP, &rip);
        e->ctx_fresh = false;
        if (hooked)
            stop->retired++;
        return 0;
    }
    stop->reason = VTX_STOP_ERROR;
    stop->why = "Unicorn stopped without a reason (triple fault?)";
    return 0;
}
