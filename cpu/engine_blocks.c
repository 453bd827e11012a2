/*
 * engine: the fast path (see "Fast path" above vtx_engine_run in engine.c):
 * the block cache, the block hook and its slow path. What Unicorn's translated
 * code the engine drops, and when, is in engine_drops.c; probes in
 * engine_probes.c.
 */
#include "engine_flags.h"

#include <stdlib.h>

/* ---- fast path: block cache, block hook ---- */

/* The host bytes of [lin, lin+size) when they are contiguous in one region. */
static const uint8_t *block_host(const vtx_engine *e, uint64_t lin, uint32_t size)
{
    uint64_t pa0, pa1, avail;
    if (!size || !vtx_eng_lin_to_phys(e, lin, &pa0) || !vtx_eng_lin_to_phys(e, lin + size - 1, &pa1) ||
        pa1 - pa0 != size - 1)
        return NULL;
    const uint8_t *h = host_of(e, pa0, &avail);
    return h && avail >= size ? h : NULL;
}

static bool blk_reserve(blk_entry *b, uint32_t size, uint32_t n)
{
    if (size > b->cap) {
        uint8_t *p = realloc(b->bytes, size);
        if (!p)
            return false;
        b->bytes = p, b->cap = size;
    }
    if (n + 1 > b->icap) {
        uint16_t *o = realloc(b->off, (n + 1) * sizeof *o);
        if (o)
            b->off = o;
        uint8_t *c = realloc(b->cls, n + 1);
        if (c)
            b->cls = c;
        uint8_t *w = realloc(b->wmem, n + 1);
        if (w)
            b->wmem = w;
        if (!o || !c || !w)
            return false;
        b->icap = n + 1;
    }
    return true;
}

/*
 * The block at lin has the entry bc[i] and its copy for the fast path at offset
 * fb_off(lin) of the table e->fb (see vtx_eng_fb_alloc): bits 16:12 of the
 * offset are i's page of the table, bits 9:5 its place in the page's quarter.
 * The hash puts linear address bits 19:0 and 26:22 there with two shifts and
 * one mask, so the fast path finds its copy without computing i.
 */
#define FB_MASK (((BC_SIZE / FB_PER_PAGE - 1) << 12) | ((FB_PER_PAGE - 1) * (unsigned)sizeof(fb_entry)))
_Static_assert(sizeof(fb_entry) == 32 && FB_PER_PAGE == 32 && BC_SIZE / FB_PER_PAGE == 32, "FB_MASK: bits 16:12, 9:5");
static inline size_t fb_off(uint64_t lin) { return (size_t)((lin ^ (lin << 5) ^ (lin >> 10)) & FB_MASK); }
static inline size_t bc_index(uint64_t lin)
{
    size_t o = fb_off(lin);
    return (o >> 12) * FB_PER_PAGE + (o / sizeof(fb_entry)) % FB_PER_PAGE;
}

/* The fast path's copy of bc[i] (see "Block tags"): fb_at(e, bc_index(lin)) is
 * e->fb + fb_off(lin). */
static inline fb_entry *fb_at(const vtx_engine *e, size_t i)
{
    return (fb_entry *)(void *)(e->fb + ((i / FB_PER_PAGE) << 12) + (i % FB_PER_PAGE) * sizeof(fb_entry));
}

static void fb_sync(vtx_engine *e, const blk_entry *b)
{
    fb_entry *f = fb_at(e, (size_t)(b - e->bc));
    f->lin = b->lin;
    f->key = b->key;
    f->blk = (blk_entry *)(uintptr_t)b;
    f->smc_lim = b->smc_lim;
    f->n = b->n;
}

void vtx_eng_epoch_wrap(vtx_engine *e)
{
    for (size_t i = 0; i < BC_SIZE; i++) {
        e->bc[i].key = 0;
        if (e->fb)
            fb_sync(e, &e->bc[i]);
    }
    e->ekey = EPOCH_ONE;
}

/*
 * The table takes one quarter of each of its pages, the quarter farthest from
 * where the registers of Unicorn's CPU state lie in a page: the translated code
 * stores the guest's registers there just before it calls the block hook, and a
 * load of the hook at the same offset in a page (bits 11:0) waits for those
 * stores (the processor's "4K aliasing"). Measured: a third of the hook's time
 * when the benchmark loop's entry fell 16 bytes from RAX's offset.
 */
bool vtx_eng_fb_alloc(vtx_engine *e)
{
    _Static_assert(BC_SIZE % FB_PER_PAGE == 0 && FB_PER_PAGE * sizeof(fb_entry) == 1024, "a quarter of a page");
    e->fb_mem = aligned_alloc(4096, (BC_SIZE / FB_PER_PAGE) * 4096);
    if (!e->fb_mem)
        return false;
    memset(e->fb_mem, 0, (BC_SIZE / FB_PER_PAGE) * 4096);
    unsigned regs = e->live ? (unsigned)((uintptr_t)e->live & 0xfff) : 0; /* RAX's offset; the rest follows */
    unsigned mid = (regs + 0x60) & 0xfff;                                 /* the middle of the registers, EIP, EFLAGS, cc */
    unsigned q = ((mid >> 10) + 2) & 3;                                   /* the opposite quarter */
    e->fb = e->fb_mem + q * 1024u;
    return true;
}

void vtx_eng_fb_free(vtx_engine *e)
{
    free(e->fb_mem);
    e->fb_mem = e->fb = NULL;
}

static inline size_t victim_index(uint64_t lin) { return (lin ^ (lin >> 7) ^ (lin >> 17)) & (BC_SIZE - 1); }

/* Block b is replaced by another: keep its bytes in the victim cache (the entry
 * there, if any, is lost: its address is marked evicted). */
static void victim_keep(vtx_engine *e, blk_entry *b)
{
    __typeof__(e->victim[0]) *v = &e->victim[victim_index(b->lin)];
    if (v->lin != UINT64_MAX && v->lin != b->lin)
        evicted_set(e, v->lin, true);
    uint8_t *bytes = v->bytes;
    uint32_t cap = v->cap;
    v->bytes = b->bytes, v->cap = b->cap;
    b->bytes = bytes, b->cap = cap;
    v->lin = b->lin;
    v->size = b->size;
}

/* Unicorn may translate the block at lin from other bytes than memory holds
 * now, though the block cache has no entry for it. */
static bool victim_stale(vtx_engine *e, uint64_t lin, uint32_t size)
{
    __typeof__(e->victim[0]) *v = &e->victim[victim_index(lin)];
    if (v->lin != lin)
        return evicted_test(e, lin);
    v->lin = UINT64_MAX;
    if (v->size != size)
        vtx_eng_lost_add(e, lin);
    const uint8_t *h = block_host(e, lin, v->size);
    return !h || !eq_bytes(h, v->bytes, v->size) || evicted_test(e, lin);
}

static bool retranslated_in_run(const vtx_engine *e, uint64_t lin)
{
    for (unsigned i = 0; i < e->nretrans; i++)
        if (e->retrans[i] == lin)
            return true;
    return false;
}

/*
 * The decoded translation block at `lin` of `size` bytes, or NULL when the
 * engine cannot vouch for it (bytes not contiguous or not fetchable, a decode
 * that does not add up to Unicorn's size, too many instructions): the caller
 * then takes the slow path.
 * A cached entry is used only while the bytes in guest memory are the ones it
 * was decoded from, in the same mode and paging generation.
 * *stale is set (and NULL returned) when Unicorn's translation of the block may
 * have been made from other bytes than memory now holds: the cached bytes
 * differ from memory, or the entry was replaced since. The guest's own stores
 * into its code make QEMU retranslate by itself, but writes through the
 * caller's host pointers (a VMM patching guest code between exits) are
 * invisible to it: the caller then has the block retranslated (HS_RETRANSLATE)
 * before it runs. Once per block and run: after that a difference is the
 * guest's own doing, already retranslated.
 */
/* ENG-OVR-1: the instruction at lin, of which Unicorn's block holds only the
 * first `in_block` bytes, decodes from the bytes in memory to one longer than
 * that (QEMU stopped decoding it, and ended the block, before its end). */
static bool overruns(const vtx_engine *e, uint64_t lin, uint32_t in_block, vtx_insn *in)
{
    uint8_t buf[15];
    const uint8_t *host;
    size_t got = vtx_eng_lin_read(e, lin, buf, sizeof buf, &host);
    return got > in_block && vtx_decode_bytes_quick(buf, got, e->width, lin, in) == 0 && in->len > in_block &&
           in->len <= got;
}

static blk_entry *blk_get(vtx_engine *e, uint64_t lin, uint32_t size, bool *stale)
{
    blk_entry *b = &e->bc[bc_index(lin)];
    *stale = false;
    if (__builtin_expect(b->lin == lin && b->size == size && b->gen == e->gen && b->width == e->width, 1)) {
        if (size <= 16 && b->fast) {
            uint64_t x0, x1;
            memcpy(&x0, b->host, 8);
            memcpy(&x1, b->host + 8, 8);
            if (((x0 ^ b->w[0]) & b->m[0]) == 0 && ((x1 ^ b->w[1]) & b->m[1]) == 0)
                return b->usable ? b : NULL;
        } else if (eq_bytes(b->host, b->bytes, size)) {
            return b->usable ? b : NULL;
        }
    }
    if (b->lin == lin) {
        /* the same block address: its bytes as they were decoded still in memory? */
        const uint8_t *h = block_host(e, lin, b->size);
        *stale = !h || !eq_bytes(h, b->bytes, b->size);
        if (b->size != size)
            vtx_eng_lost_add(e, lin); /* another translation at lin: dropped at the next run's start */
    } else {
        if (b->lin != UINT64_MAX)
            victim_keep(e, b);
        *stale = victim_stale(e, lin, size);
    }
    if (*stale && retranslated_in_run(e, lin))
        *stale = false;
    b->lin = UINT64_MAX;
    b->key = 0;
    fb_sync(e, b);
    if (*stale)
        return NULL;
    const uint8_t *h = block_host(e, lin, size);
    if (!h || !blk_reserve(b, size, 16))
        return NULL;
    /* From here on the entry records the block's bytes, whether or not the
     * engine can vouch for its decode (`usable`): they are what tells a later
     * change of the code. */
    memcpy(b->bytes, h, size);
    b->host = h;
    uint64_t pa = 0, avail = 0;
    /* blocks of up to 16 bytes compare as two masked words when 16 bytes are readable */
    b->fast = size <= 16 && vtx_eng_lin_to_phys(e, lin, &pa) && host_of(e, pa, &avail) == h && avail >= 16;
    b->w[0] = b->w[1] = b->m[0] = b->m[1] = 0;
    for (uint32_t i = 0; i < size && i < 16; i++) {
        b->w[i / 8] |= (uint64_t)b->bytes[i] << (8 * (i % 8));
        b->m[i / 8] |= 0xffull << (8 * (i % 8));
    }
    b->gen = e->gen;
    b->width = (uint8_t)e->width;
    b->size = size;
    b->lin = lin;
    b->usable = b->hot = false;
    uint32_t pos = 0, n = 0;
    uint64_t classes = 0;
    bool mc_last = false;
    b->bad_at = UINT16_MAX;
    b->keeps_rf = 0;
    while (pos < size) {
        if (n >= BC_MAX_INSNS || !blk_reserve(b, size, n + 1))
            return NULL;
        vtx_insn in;
        bool last = false;
        if (vtx_decode_bytes_quick(b->bytes + pos, size - pos, e->width, lin + pos, &in) != 0 || !in.len ||
            pos + in.len > size) {
            if (!overruns(e, lin + pos, size - pos, &in)) {
                /* Bytes Zydis cannot decode (the model's #UD): the block is known
                 * up to before them; a run may go no further on the fast path. */
                b->off[n] = (uint16_t)pos;
                b->cls[n] = VTX_IC_UD;
                b->wmem[n] = 0;
                classes |= 1ull << VTX_IC_UD;
                b->bad_at = (uint16_t)n++;
                pos = size;
                break;
            }
            /* ENG-OVR-1: QEMU ended the block inside this instruction (it raises
             * a fault there, MULPS with CR4.OSFXSR = 0 say, decided before it
             * read the rest): the block's last instruction, of the class the
             * bytes in memory decode to, and the fast path runs it */
            last = true;
        }
        /* An instruction that may change the mode inside the block (WRMSR,
         * INVLPG...; those that change CS or the code width end QEMU's blocks):
         * QEMU runs the rest of the block as it translated it, in the block's
         * mode, which is how it is decoded here too. */
        b->off[n] = (uint16_t)pos;
        b->cls[n] = in.cls;
        b->wmem[n] = in.writes_mem;
        if (in.keeps_rflags && n < 64)
            b->keeps_rf |= 1ull << n;
        classes |= 1ull << in.cls;
        mc_last |= in.mode_change;
        pos = last ? size : pos + in.len;
        n++;
    }
    b->off[n] = (uint16_t)pos;
    b->n = (uint16_t)n;
    b->wmem_early = false;
    for (uint32_t i = 0; i + 1 < n; i++)
        b->wmem_early |= b->wmem[i] != 0;
    b->classes = classes;
    b->mc_last = mc_last;
    b->usable = true;
    b->hot = !mc_last && b->bad_at == UINT16_MAX;
    b->smc_lim = b->wmem_early ? size : 0;
    return b;
}

/* ENG-STI-1 (vtx_engine_watch_sti): block b at addr runs its first k
 * instructions, and STI is among them (the last: an STI ends QEMU's translation
 * block). Where the instruction after it starts and whether it finds IF = 0:
 * IF as the block starts (QEMU keeps IF in env->eflags, never lazily), changed
 * by CLI and STI before it (POPF, IRET and the like are in the run's stop set). */
static void sti_note(vtx_engine *e, const blk_entry *b, uint64_t addr, unsigned k)
{
    bool if_on = (rd64(env_of(e), ENV_EFLAGS) & VTX_RFLAGS_IF) != 0;
    for (unsigned i = 0; i < k; i++) {
        if (b->cls[i] == VTX_IC_CLI) {
            if_on = false;
        } else if (b->cls[i] == VTX_IC_STI) {
            e->sti_next = addr + b->off[i + 1];
            e->sti_if0 = !if_on;
            if_on = true;
        }
    }
}

/* Stop before the block at lin (none of it runs). Unicorn does not put RIP
 * back on the block when a hook stops it there (cpu_tb_exec skips
 * synchronize_from_tb once a stop is requested): the run does, from blk_stop. */
static void fast_stop(vtx_engine *e, uc_engine *uc, hook_stop why, uint64_t lin)
{
    e->hstop = why;
    e->stop_lin = lin;
    e->blk_stop = true;
    e->blk_stop_lin = lin;
    e->cur = NULL;
    uc_emu_stop(uc);
}

/* Stop before the block at lin (none of it runs) to have Unicorn translate it again. */
static void retranslate_stop(vtx_engine *e, uc_engine *uc, uint64_t lin, uint32_t size)
{
    e->retrans_lo = lin;
    e->retrans_hi = lin + size;
    fast_stop(e, uc, HS_RETRANSLATE, lin);
}

/*
 * Block tags (ENG-CNT-1)
 * -----------------------
 * The fast path counts a block from its cache entry without looking at guest
 * memory; what it must know is that Unicorn's translation of the block running
 * is of the bytes the entry was decoded from. The block hook's user data says
 * which translation runs: Unicorn 2.0 and 2.1 pass a single block hook to the
 * translated code as a constant read from its `struct hook` when the block is
 * translated (gen_uc_tracecode, "inline hook"), so the engine writes its address
 * plus a tag there, and every block translated gets the tag current at that
 * time. The first time a block with the current tag runs, the slow path
 * rotates the tag: a tag then names the translations made before one block
 * hook call (in practice the one block, translated just before it runs).
 * An entry is stamped with the tag of the translation the slow path checked it
 * against (blk_get: bytes compared with memory, or decoded from it) and with
 * the epoch: one 64-bit key of epoch, size and tag (BLK_KEY), which the fast
 * path compares with one instruction. The epoch has 16 bits: when all were
 * used, every entry is unstamped and it starts again (vtx_eng_epoch_wrap).
 * Within an epoch only the guest writes memory, and QEMU drops the
 * translations of code the guest writes (precise self-modifying code): the
 * translation made again has another tag, so its first run takes the slow
 * path (even with the same address and size and other instructions). Every
 * moment guest memory may change behind QEMU's back starts a new epoch: a run's
 * start (the caller's writes through host pointers), the caller's callbacks
 * during a run (MMIO, the second stage's translation), a tag wrap (a tag used
 * again), a new Unicorn. When the user data is not where it is expected, no
 * entry is stamped and every block takes the slow path.
 */
static inline vtx_engine *eng_of(void *ud) { return (vtx_engine *)((uintptr_t)ud & ~(uintptr_t)(ENG_ALIGN - 1)); }
static inline uint32_t tag_of(void *ud) { return (uint32_t)((uintptr_t)ud & (ENG_ALIGN - 1)); }

static void tag_rotate(vtx_engine *e)
{
    if (!e->tag_ptr)
        return;
    if (++e->tag_cur >= ENG_ALIGN) {
        e->tag_cur = 1;
        vtx_eng_code_may_change(e); /* stamps of the old tag 1.. would name new translations */
    }
    *e->tag_ptr = (char *)e + e->tag_cur;
}

/* Unicorn's `struct hook` (include/uc_priv.h, the same in 2.0.1 and 2.1.1): the
 * uc_hook handle is its address; begin and end at 24 and 32, callback at 40,
 * user_data at 48. Used only when every one of them holds what was passed. */
enum { HOOK_BEGIN = 24, HOOK_END = 32, HOOK_CALLBACK = 40, HOOK_USER_DATA = 48 };

bool vtx_eng_block_hook_add(vtx_engine *e)
{
    if (e->tag_cur == 0 || e->tag_cur >= ENG_ALIGN)
        e->tag_cur = 1;
    void *ud = (char *)e + e->tag_cur;
    void (*cb)(uc_engine *, uint64_t, uint32_t, void *) = vtx_eng_hook_block;
    e->tag_ptr = NULL;
    if (uc_hook_add(e->uc, &e->h_block, UC_HOOK_BLOCK, (void *)cb, ud, 1, 0) != UC_ERR_OK)
        return false;
    uint8_t *h = (uint8_t *)(uintptr_t)e->h_block;
    uint64_t begin, end;
    void *fn, *data;
    memcpy(&begin, h + HOOK_BEGIN, 8);
    memcpy(&end, h + HOOK_END, 8);
    memcpy(&fn, h + HOOK_CALLBACK, sizeof fn);
    memcpy(&data, h + HOOK_USER_DATA, sizeof data);
    if (begin == 1 && end == 0 && fn == (void *)cb && data == ud)
        e->tag_ptr = (void **)(void *)(h + HOOK_USER_DATA);
    vtx_eng_code_may_change(e);
    return true;
}

/* Stamp b for Unicorn's translation with `tag` of the block of `size` bytes in
 * this epoch (see "Block tags"), when nothing in it is to be stopped before (the
 * stop set changes only at a run's start, a new epoch) and it can be decoded to
 * its end; else unstamp it. */
static void stamp(vtx_engine *e, blk_entry *b, uint32_t tag, uint32_t size)
{
    if (b->hot && e->tag_ptr && !(b->classes & (e->stop_bits | e->watch_bits))) {
        b->key = BLK_KEY(e->ekey, size, tag);
    } else {
        b->key = 0;
    }
    fb_sync(e, b);
}

/*
 * Called by Unicorn before each translation block runs (before its exit
 * check, so a uc_emu_stop here stops with nothing of the block executed).
 * hook_block is the common case (a cached block, unchanged, nothing to stop
 * for, nothing pending), kept small: it runs once per block and is most of what
 * the fast path costs. Everything else is hook_block_slow.
 */
static __attribute__((noinline)) void hook_block_slow(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    vtx_engine *e = eng_of(ud);
    const uint32_t tag = tag_of(ud);
    bool stale;
    vtx_eng_tpages_note(e, addr, size); /* ENG-RST-1 */
    if (tag == e->tag_cur) {
        tag_rotate(e); /* translated since the last rotation: later translations get another tag */
        vtx_eng_buffer_note(e, size); /* ENG-BUF-1 */
    }
    if (e->mmio_stop) {
        /* vtx_engine_stop_after_access: before the next block (nothing of it runs) */
        e->cur = NULL;
        e->armed_on = false;
        fast_stop(e, uc, HS_BOUNDARY, addr);
        return;
    }
    if (e->split_restart && e->hstop == HS_NONE) {
        /* ENG-SMC-2: the store QEMU ran again left its memory hooks off: go on
         * with a new uc_emu_start from this block (nothing of it runs) */
        e->split_restart = false;
        e->armed_on = false;
        fast_stop(e, uc, HS_SLOW, addr);
        return;
    }
    if (e->slow) {
        /* the per-instruction hook counts; the block hook only makes sure
         * Unicorn's translation is of the bytes in memory */
        vtx_eng_flags_mark(e); /* ENG-FL-2 (Unicorn may have entered its loop again) */
        blk_entry *b = NULL;
        bool again = vtx_eng_step_again(e, addr, size);
        if (again && vtx_eng_split_again(e, e->step_prev_lin, e->started))
            e->split_restart = true; /* ENG-SMC-2: stop before the next block */
        if (e->hstop == HS_NONE && !e->unmapped && !(b = blk_get(e, addr, size, &stale)) && stale)
            retranslate_stop(e, uc, addr, size);
        if (b) {
            /* stamped as the fast path stamps (vtx_eng_hook_block takes the
             * translation with this tag without blk_get in this epoch) */
            stamp(e, b, tag, size);
        }
        vtx_eng_step_block(e, b, again);
        return;
    }
    if (e->unmapped || e->hstop != HS_NONE) {
        /* Unicorn finishes the block of an unmapped access and enters the next one:
         * stop before it */
        if (!e->blk_stop) {
            e->blk_stop = true;
            e->blk_stop_lin = addr;
        }
        uc_emu_stop(uc);
        return;
    }
    blk_entry *p = e->cur;
    /* (a one-instruction block inside a block with a store before its last
     * instruction; a branch back to the block's start, a loop, is not that) */
    if (p && p->wmem_early && size < p->size && addr >= p->lin && addr < p->lin + p->size) {
        /* QEMU's precise self-modifying code: a store into the block running
         * abandons it at the store, which runs again as a one-instruction block.
         * A branch back into the block cannot look like that: the block QEMU
         * translates at an instruction that did not end the block is longer
         * than one instruction. The last instruction is excluded: REP string
         * instructions and self-branches re-enter themselves as one-instruction
         * blocks (a store by the last instruction into its own block is the
         * one case this cannot tell apart; it is counted as not abandoned). */
        int j = blk_index(p, addr);
        if (j >= 0 && (uint32_t)j < e->cur_count && j + 2 <= p->n && p->wmem[j] &&
            size == (uint32_t)(p->off[j + 1] - p->off[j])) {
            const uint64_t was = e->started;
            e->started = vtx_eng_cur_before(e) + (uint32_t)j;
            if (vtx_eng_split_again(e, p->lin, was)) {
                /* ENG-SMC-2: the bytes the store left behind are back; it runs
                 * again in a new uc_emu_start, with Unicorn's memory hooks on */
                fast_stop(e, uc, HS_SLOW, addr);
                return;
            }
        }
    }
    e->cur = NULL;
    e->armed_on = false;
    if (e->resync) {
        e->resync = false;
        vtx_eng_save_absorb(e);
        /* the paging generation or the code width may have changed: the entries
         * stamped so far were checked under the old ones */
        vtx_eng_code_may_change(e);
    }
    if (vtx_eng_ac_on(e)) {
        /* ENG-AC-1: alignment checking needs the per-instruction hook */
        fast_stop(e, uc, HS_SLOW, addr);
        return;
    }
    blk_entry *b = blk_get(e, addr, size, &stale);
    if (!b) {
        if (stale)
            retranslate_stop(e, uc, addr, size);
        else
            fast_stop(e, uc, HS_SLOW, addr);
        return;
    }
    /* Unicorn's translation with this tag is of the bytes b was decoded from
     * (blk_get compared them with memory, or decoded them from it) */
    /* The fast path may take it from now on in this epoch when nothing in it is
     * to be stopped before (the stop set changes only at a run's start, a new
     * epoch) and it can be decoded to its end. */
    stamp(e, b, tag, size);
    unsigned k = b->n;
    hook_stop kind = HS_NONE;
    if (b->classes & e->stop_bits) {
        unsigned i = (e->skip_pending && addr == e->start_lin && !((e->own_bits >> b->cls[0]) & 1)) ? 1 : 0;
        for (; i < b->n; i++)
            if ((e->stop_bits >> b->cls[i]) & 1)
                break;
        if (i < k)
            k = i, kind = HS_BEFORE;
    }
    if (e->budget && e->budget - e->started < k)
        k = (unsigned)(e->budget - e->started), kind = HS_COUNT;
    if (b->bad_at != UINT16_MAX && k > b->bad_at) {
        /* the run would go past bytes the engine cannot decode */
        fast_stop(e, uc, HS_SLOW, addr);
        return;
    }
    if (k == 0) {
        fast_stop(e, uc, kind, addr);
        return;
    }
    if (k < b->n) {
        uint64_t x = addr + b->off[k];
        if (vtx_eng_probe_in(e, addr, x)) {
            /* ENG-PRB-3: a probe hook before x in this block. Unicorn syncs the
             * lazy flags before a hooked instruction only where the operation
             * code it tracked while translating differs from the one at the hook
             * before; where they are equal but an instruction in between wrote
             * another one at run time (a rotate by CL), the run would stop at x
             * with the condition codes of a stale operation (RFLAGS with
             * reserved bits set). The per-instruction hook, whose every
             * instruction syncs on a change, takes the rest of the run. */
            fast_stop(e, uc, HS_SLOW, addr);
            return;
        }
        /* ENG-PRB-2: a one-instruction budget is a step over an instruction
         * the caller stopped before and looked at (the model's SMSW, POPF,
         * IRET, ...): it ends there again whenever the code passes there */
        const bool budget = kind == HS_COUNT && e->budget > 1;
        if (!vtx_eng_probe_at(e, x, budget)) {
            e->want_probe = x;
            e->want_budget = budget;
            fast_stop(e, uc, HS_PROBE, addr);
            return;
        }
        e->armed_on = true;
        e->armed = x;
        e->armed_kind = kind;
    } else if (b->mc_last) {
        e->resync = true;
    }
    if (b->classes & e->watch_bits)
        sti_note(e, b, addr, k);
    if (e->skip_pending)
        e->skip_pending = false; /* (only when set: see vtx_eng_step_block) */
    e->cur = b;
    e->cur_count = k;
    e->started += k;
    e->smc_lim = b->smc_lim;
}

/* (the fast path's alignment check: CR0.AM is set, so look at CPL and EFLAGS.AC) */
static __attribute__((noinline)) void hook_block_am(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    vtx_engine *e = eng_of(ud);
    blk_entry *b = &e->bc[bc_index(addr)];
    if (vtx_eng_ac_on(e)) {
        hook_block_slow(uc, addr, size, ud);
        return;
    }
    e->cur = b;
    e->cur_count = b->n;
    e->started += b->n;
    e->smc_lim = b->smc_lim;
}

/* b (the fast path's copy of an entry) was stamped for the translation of the
 * block at addr of size bytes that runs (its tag in ud), in this epoch. */
static inline bool stamped_for(const vtx_engine *e, const fb_entry *b, uint64_t addr, uint32_t size, void *ud)
{
    return b->lin == addr && b->key == BLK_KEY(e->ekey, size, tag_of(ud));
}

/* The block can be counted from b without a look at memory: stamped for the
 * translation that runs, the budget not reached (started <= lim, and lim is
 * UINT64_MAX without one: no overflow), no block abandoned by a store
 * (size < smc_lim). */
static inline bool fast_ok(const vtx_engine *e, const fb_entry *b, uint64_t addr, uint32_t size, void *ud)
{
    return stamped_for(e, b, addr, size, ud) && e->started + b->n <= e->lim && size >= e->smc_lim;
}

/* vtx_eng_hook_block when something irregular is pending or the entry cannot
 * be taken (Unicorn's handle is the engine's: not passed, one register less for
 * the fast path to keep). */
static __attribute__((noinline)) void hook_block_irregular(void *ud, uint64_t addr, uint32_t size)
{
    vtx_engine *e = eng_of(ud);
    const fb_entry *b = (const fb_entry *)(const void *)(e->fb + fb_off(addr));
    /* Stepping (the per-instruction hook on, nothing else irregular but CR0.AM,
     * which vtx_eng_step_block looks at): a block stamped for this translation
     * in this epoch needs no comparison with memory; hook_block_slow takes the
     * rest, and every block entered after one that may store into itself (an
     * abandoned block run again, vtx_eng_step_again). */
    if ((e->irregular & ~IRREGULAR_AM) == IRREGULAR_SLOW_ONLY && stamped_for(e, b, addr, size, ud) &&
        !(e->step_prev && e->step_prev->wmem_early) && !e->split_restart) {
        vtx_eng_flags_mark(e); /* ENG-FL-2 (Unicorn may have entered its loop again) */
        vtx_eng_step_block(e, b->blk, false);
        return;
    }
    if (e->irregular == IRREGULAR_AM && fast_ok(e, b, addr, size, ud)) {
        hook_block_am(e->uc, addr, size, ud); /* ENG-AC-1 */
        return;
    }
    hook_block_slow(e->uc, addr, size, ud);
}

/* (at the start of a cache line: where it falls otherwise moves with unrelated
 * code, and with it how many fetch lines its fast path spans) */
__attribute__((aligned(64))) void vtx_eng_hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    (void)uc; /* e->uc */
    vtx_engine *e = eng_of(ud);
    const fb_entry *b = (const fb_entry *)(const void *)(e->fb + fb_off(addr));
    /* Nothing irregular pending (CR0.AM clear too), and the entry can be taken
     * (fast_ok). */
    if (__builtin_expect(e->irregular == 0 && fast_ok(e, b, addr, size, ud), 1)) {
        e->cur = b->blk;
        e->started += b->n;
        memcpy(&e->smc_lim, &b->smc_lim, 8); /* smc_lim and cur_count = n */
        return;
    }
    hook_block_irregular(ud, addr, size);
}
