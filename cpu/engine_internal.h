/*
 * engine internals shared by cpu/engine*.c: the engine's state, the QEMU
 * CPUX86State offsets, the decode/block cache types, the small helpers every
 * part uses (static inline, so the per-instruction and per-block paths make no
 * extra calls) and the functions one part calls in another.
 *
 *   engine.c         create/destroy, the decode cache, the code hook, the run loop
 *   engine_paging.c  the guest's paging walk, the identity-paging check, TLB flushes
 *   engine_blocks.c  the fast path: block cache, block tags, block hook
 *   engine_drops.c   Unicorn's translations the engine drops, and when (ENG-CNT-1, ENG-RST-1)
 *   engine_probes.c  probes: one-address code hooks where a fast-path run stops (ENG-PRB-1/2)
 *   engine_abort.c   the SIGABRT guard around uc_emu_start and reopening past it
 *   engine_state.c   Unicorn state transfer and the QEMU CPUX86State layout
 *   engine_xlate.c   the caller's second translation stage (EPT) on Unicorn 2.1's TLB fill hook
 *   engine_flags.c   RFLAGS from Unicorn's lazy condition codes (ENG-FL-1)
 */
#ifndef VTX_CPU_ENGINE_INTERNAL_H
#define VTX_CPU_ENGINE_INTERNAL_H

#include "engine.h"

#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include "uc_compat.h"

/* ---- QEMU 5.0 CPUX86State offsets (verified at create) ----
 * One table for both Unicorn versions: target/i386/cpu.h (CPUX86State) is the
 * same in Unicorn 2.0.1 and 2.1.1 (only the context blob's header around it
 * grew, see vtx_eng_find_live), and vtx_eng_probe_layout checks every offset on
 * the Unicorn that runs. */
enum {
    ENV_REGS = 0,
    ENV_EIP = 128,
    ENV_HFLAGS = 176,
    ENV_SEGS = 184, /* SegmentCache { u32 selector; u64 base; u32 limit; u32 flags; } = 24 bytes */
    SEG_SZ = 24,
    ENV_LDT = ENV_SEGS + 6 * SEG_SZ,
    ENV_TR = ENV_LDT + SEG_SZ,
    ENV_GDT = ENV_TR + SEG_SZ,
    ENV_IDT = ENV_GDT + SEG_SZ,
    ENV_CR = ENV_IDT + SEG_SZ, /* target_ulong cr[5] */
    ENV_EFER = 560,
    /* relative to env->dr[0], found by search: */
    DR_ERROR_CODE = -16,
    DR_IS_INT = -12,
    DR_OLD_EXCEPTION = 8 * 8 + 4 * 8,
};
/* QEMU segment register order: ES CS SS DS FS GS, the same as VTX_S_*. */

#define HF_CPL_MASK 3u
#define HF_INHIBIT_IRQ (1u << 3)
#define HF_CS32 (1u << 4)
#define HF_SS32 (1u << 5)
#define HF_ADDSEG (1u << 6)
#define HF_PE (1u << 7)
#define HF_MP_SHIFT 9
#define HF_LMA (1u << 14)
#define HF_CS64 (1u << 15)
#define HF_KEEP ((1u << 19) | (1u << 20) | (1u << 21)) /* SMM, SVME, GUEST */
#define HF_OSFXSR (1u << 22)
#define HF_SMAP (1u << 23)
/* Hook-set tags in hflags bits QEMU 5.0 leaves unused (HF_* ends at bit 26 in
 * 2.0.1 and 2.1.1): QEMU keys its translated blocks on hflags (the TB flags), so
 * blocks translated with the per-instruction hook and those translated without
 * it, and those with and without the block hook, are kept apart and each is
 * found only while its hooks are installed (ENG-MODE-1, vtx_eng_mode_tag). */
#define HF_TAG_CODE (1u << 28)
#define HF_TAG_BLOCK (1u << 29)

#define DC_SIZE 4096u
#define CODE_XLAT 64u /* PG-10's translations of code pages (a power of 2) */
#define ID_CACHE_TABLES 64u
#define RUN_UNTIL 0xffffffffffffffffull /* ignored: the engine enables exits with an empty set */
#define DUMMY_PA 0xfffffff000ull        /* mapped/unmapped to flush QEMU's TLB */

typedef struct dc_entry {
    uint64_t lin;
    uint32_t gen;
    bool fast;           /* 16 bytes from host are in one page: compare two masked words */
    uint8_t vlen;        /* ENG-DC-1: the bytes compared with memory on a hit: the
                            instruction's, or all the decoder rejected (up to 15) */
    const uint8_t *host; /* the bytes in guest memory (NULL: re-fetch on every use) */
    uint64_t w[2], m[2]; /* the compared bytes and their mask, as little-endian words */
    vtx_insn insn;
} dc_entry;

typedef enum { HS_NONE, HS_BEFORE, HS_COUNT, HS_PROBE, HS_SLOW, HS_BOUNDARY, HS_RETRANSLATE } hook_stop;

/* ---- the fast path's block cache (see "Fast path" above vtx_engine_run) ---- */
#define BC_SIZE 1024u
#define BC_MAX_INSNS 512u
#define NPROBE 32u
/* ENG-BUF-1: the host code a new translation of `size` guest bytes can take, at
 * most (QEMU caps a block's code at 64 KiB, plus its search data and header;
 * 256 bytes per guest byte is well above what a block of one-byte instructions
 * with the engine's hooks takes), and the sum after which Unicorn's code buffer
 * is flushed the first time: a quarter of it (2.1: the 32 MiB of uc_compat.h;
 * 2.0: 1 GiB). */
#define BUF_TB_MAX(size) ((size) * 256u + 1024u < (68u << 10) ? (size) * 256u + 1024u : (68u << 10))
#define BUF_FLUSH_AT (VTX_UC_21 ? (uint64_t)VTX_UC_TCG_BUFFER / 4 : (uint64_t)1 << 28)
#define PROBE_AGE 256u

typedef struct blk_entry {
    /* what the block hook's fast path reads, together at the start */
    uint64_t lin;         /* linear address of the translation block */
    /* The fast path (see "Block tags" in engine_blocks.c): the entry vouches for
     * the translation Unicorn made with tag `key & 0xffff` of the block of size
     * `(uint32_t)(key >> 16)` while the engine's epoch is `key >> 48` (0: none). */
    uint64_t key;         /* epoch << 48 | size << 16 | tag (BLK_KEY) */
    uint32_t smc_lim;     /* wmem_early ? size : 0 (the next block hook checks for an abandoned block) */
    uint16_t n;           /* instructions */
    uint32_t size;        /* its size in bytes, as Unicorn reports it */
    uint32_t gen;
    uint8_t width;
    bool mc_last;         /* an instruction of it may change the mode (resync after the block) */
    bool wmem_early;      /* an instruction before the last may write memory */
    bool usable;          /* decoded: the engine can vouch for it (else only its bytes are kept) */
    uint16_t bad_at;      /* index of an undecodable instruction (class UD, the block's end for
                             the engine), or UINT16_MAX */
    bool hot;             /* usable, !mc_last, decoded to its end: hook_block may take it (the paging
                             generation also changes with the code width, so gen covers width) */
    uint64_t classes;     /* bit set of the classes it contains */
    uint64_t keeps_rf;    /* bit i: instruction i changes no bit of RFLAGS (vtx_insn.keeps_rflags; i < 64) */
    const uint8_t *host;  /* its bytes in guest memory (contiguous) */
    uint8_t *bytes;       /* the bytes it was decoded from */
    uint16_t *off;        /* off[i]: offset of instruction i; off[n] = size */
    uint8_t *cls;         /* cls[i]: class of instruction i */
    uint8_t *wmem;        /* wmem[i]: instruction i may write memory */
    uint32_t cap;         /* capacity of bytes; of off/cls/wmem (instructions) */
    uint32_t icap;
    bool fast;            /* size <= 16 with 16 readable bytes: compare w/m */
    uint64_t w[2], m[2];
} blk_entry;

/* What the block hook's fast path reads of a cache entry, in a table of its own
 * (vtx_engine.fb, engine_blocks.c "Block tags"): bc[i]'s is fb_at(e, i). */
typedef struct fb_entry {
    uint64_t lin;
    uint64_t key;     /* blk_entry.key */
    blk_entry *blk;   /* the entry itself */
    uint32_t smc_lim, n;
} fb_entry;
#define FB_PER_PAGE 32u /* entries in each 4 KiB page of the table: one quarter of it */
/* An entry's key: the translation with `tag` of a block of `size` bytes, in the
 * epoch of the engine's ekey (its bits 63:48; see "Block tags"). */
#define BLK_KEY(ekey, size, tag) ((ekey) | (uint64_t)(uint32_t)(size) << 16 | (uint64_t)(tag))
#define EPOCH_ONE (1ull << 48)

/* The engine is allocated at a multiple of ENG_ALIGN: the block hook's user data
 * is the engine's address plus a tag (1 .. ENG_ALIGN - 1, engine_blocks.c). */
#define ENG_ALIGN 65536u
_Static_assert(ENG_ALIGN <= 65536u, "a tag fits the 16 bits BLK_KEY gives it");

struct vtx_engine {
    uc_engine *uc;
    uc_context *ctx;
    uc_context *pristine; /* the CPU as vtx_engine_create left it (vtx_engine_reset) */
    size_t hdr;    /* offset of CPUX86State in the context */
    uint8_t *live; /* Unicorn's own CPUX86State (engine_state.c, "Live state"), or NULL: use ctx */
    bool flags_live; /* RFLAGS computed from live's lazy flags (engine_flags.c, ENG-FL-1) */
    bool flags_audit; /* vtx_engine_flags_audit: check every synced RFLAGS (ENG-FL-2) */
    uint64_t flags_counts[3]; /* its counts: synced values taken, computed, synced values wrong */
    size_t off_dr; /* offset of env->dr[0] in CPUX86State */
    vtx_engine_region *reg;
    size_t nreg;
    vtx_phys_mem mem;
    bool have_mem;
    void *dummy;
    uc_hook h_intr, h_unmapped, h_code, h_block;
    /* One MMIO window (vtx_engine_map_mmio), mapped again in every new Unicorn. */
    struct { bool on; uint64_t pa, size; vtx_engine_mmio_read_fn rd; vtx_engine_mmio_write_fn wr; void *user; } mmio;
    bool code_on, block_on;
    vtx_engine_boundary_fn bfn;
    void *bfn_user;
    blk_entry bc[BC_SIZE]; /* in the engine itself: one dependent load less per block */
    /* A block-cache entry replaced by another block's keeps its bytes here (the
     * victim cache, indexed by another hash), so that the block, when it runs
     * again, is compared with them rather than retranslated. */
    struct { uint64_t lin; uint32_t size, cap; uint8_t *bytes; } victim[BC_SIZE];
    /* Addresses whose bytes the engine lost (a victim entry replaced in turn)
     * since Unicorn last dropped all its translated code: Unicorn may still hold
     * a translation of them, made from bytes the engine no longer has to compare
     * with (a hash bit per address; see blk_get). */
    uint64_t evicted[1024];
    /* Addresses where Unicorn ran translations of more than one size in a run
     * (QEMU keeps a translation per address and mode flags: an interrupt
     * shadow or TF ends a block after one instruction, and so does its precise
     * self-modifying code), while the block cache records one size per address:
     * the others are dropped at the next run's start (vtx_eng_drop_lost), before
     * the caller's writes through host pointers could make them stale unseen.
     * lost_pages (Unicorn 2.0.1): more addresses than fit, so lost[] holds
     * their 4-KiB pages; lost_all: more than fit (drop all). */
    uint64_t lost[32];
    unsigned nlost;
    bool lost_pages;
    bool lost_all;
    bool translated;      /* Unicorn may hold translated code (a run since the last flush) */
    bool in_uc;           /* inside uc_emu_start (a hook runs): nothing may drop Unicorn's code (ENG-INV-1) */
    bool invalidate_due;  /* ENG-INV-1: vtx_engine_invalidate asked for inside a run */
    /* ENG-BUF-1 (engine_drops.c): Unicorn's code buffer not flushed yet (its
     * regions unset: before 2.1.3), and the new translations seen since (2.0). */
    bool buf_unset;
    uint64_t buf_bytes; /* the most host code the translations seen since can take (BUF_TB_MAX) */
    /* ENG-RST-1: the 4-KiB pages where a block ran (hook_block_slow sees every
     * block's first run) since Unicorn's translations were last dropped, so that
     * vtx_engine_reset can drop them all; tpages_all: more than fit. */
    uint64_t tpages[64];
    unsigned ntpages;
    bool tpages_all;
    bool broken;          /* Unicorn aborted inside a run (see abort_guard): only destroy is left */
    uint64_t exits[16];   /* linear addresses Unicorn must not translate (see reopen_past) */
    size_t nexits;
    uint64_t retrans[16]; /* blocks retranslated in the run in progress */
    unsigned nretrans;
    uint64_t retrans_lo, retrans_hi;
    /* Block tags (engine_blocks.c): the tag Unicorn's next translation gets, where
     * Unicorn keeps the block hook's user data (NULL: not found, no fast path),
     * and the epoch (changed whenever guest memory may have changed behind QEMU's
     * back: a run's start, a caller's callback, a tag wrap). */
    uint32_t tag_cur;
    void **tag_ptr;
    uint8_t *fb_mem;   /* BC_SIZE / FB_PER_PAGE pages */
    /* used: the run that last armed it; budget_only: only budgets ended there (ENG-PRB-2) */
    struct { uint64_t lin; uc_hook h; uint64_t used; bool budget_only; } probe[NPROBE];
    uint64_t runno; /* runs started (vtx_engine_run), for the probes' age */
    unsigned nprobe, probe_next;

    /* What Unicorn holds, as of the last set_state/run/resync. */
    uint64_t cr0, cr3, cr4, efer, cs_base;
    uint32_t hflags;
    unsigned width;
    uint64_t cr8;
    uint32_t seg_flags_set[VTX_S_COUNT], seg_ar_set[VTX_S_COUNT];

    dc_entry *dc;
    uint32_t gen;
    vtx_insn scratch;

    /* PG-10: the code pages' translations the engine's reads of instruction
     * bytes found since Unicorn's TLB was last flushed (engine_paging.c,
     * vtx_eng_lin_to_phys), CODE_XLAT entries by linear page. An entry is
     * current while `gen` is what it was when it was made (a TLB flush moves
     * gen on). */
    struct code_xlat { uint64_t page, pa; uint32_t gen; } *cx;

    /* The last identity-paging verdict that passed (check_identity_paging), with
     * a copy of every paging-structure table it read, so that the next VM entry
     * with the same CR3 and paging mode costs a comparison instead of a walk. */
    struct {
        bool valid;
        uint64_t key[4];  /* CR3, CR0.PG|CR4.PAE|CR4.PSE|EFER.LMA of the walk */
        unsigned n;
        struct { const uint8_t *host; uint8_t *copy; uint32_t len; } t[ID_CACHE_TABLES];
    } idc;
    bool ctx_fresh; /* e->ctx holds exactly what Unicorn holds (saved, nothing written since) */
    /* vtx_engine_flush_tlb: the flush is carried out at the next run (after the
     * paging check of the state loaded for it). idc_walks counts the paging
     * check's walks (cache misses); a requested flush is skipped while the paging
     * structures are what they were at the last flush (no walk since: every
     * check since hit). A flush costs tens of microseconds on 2.0.1, and on both
     * versions it drops the decode cache. */
    bool tlb_want;
    uint32_t idc_walks, idc_walks_at_flush;
    /* PG-9: a load with the translations kept (vtx_engine_set_state_tlb) trusts
     * the cached paging verdict without comparing the tables (idc_unverified
     * then says so); the comparison is made where the translations are
     * invalidated: a requested flush (tlb_want), or verify_want
     * (vtx_engine_verify_paging: the guest's INVLPG or MOV to CR3; an engine
     * reset), at the next full check or run start (vtx_eng_paging_verify). */
    bool idc_unverified, verify_want;
    /* The last run stopped before the instruction at `lin` (in its caller's stop
     * set) and nothing ran or changed since (see stops_again in engine.c): a run
     * starting there stops there again without entering Unicorn. Cleared by
     * every run, full state load, TLB flush and map change; `gen` is the
     * engine's generation at the stop. */
    struct { bool on; uint64_t lin; uint32_t gen; } again;
    vtx_cpu_state held; /* what Unicorn holds, as last loaded or read (while held_valid) */
    bool held_exact;    /* held was read from Unicorn (get_state): while held_valid too,
                           get_state copies it (a run that stopped without entering
                           Unicorn, stops_again, changed nothing) */
    bool held_valid;    /* no run since: set_state of a state that differs only in
                           GPRs, RIP and RFLAGS writes just those */

    /* The run in progress. */
    uint64_t stop_bits, budget, stop_lin, last_lin;
    /* last_lin and last_valid before the boundary function's instruction was
     * counted as started (vtx_engine_stop_at_boundary puts them back) */
    uint64_t bnd_prev_lin;
    bool bnd_prev_valid;
    uint64_t own_bits; /* ENG-DR-1: classes the caller did not ask to stop before, stopped before anyway */
    bool last_valid;
    /* What the block hook's fast path reads and writes, in one cache line
     * (fast path, the run in progress). */
    _Alignas(64) uint64_t started; /* instructions of the run started (counted) */
    uint64_t lim;      /* the run's budget, UINT64_MAX for none */
    uint64_t ekey;     /* see tag_cur: the epoch (1 .. 65535) in bits 63:48, the rest 0 */
    uint8_t *fb;       /* fb_mem plus the quarter of each page the table uses */
    blk_entry *cur;    /* the block entered last (NULL: none, or it did not start) */
    /* smc_lim, cur_count: in the order of fb_entry's smc_lim, n (one 8-byte copy) */
    uint32_t smc_lim;   /* the block entered last: its smc_lim */
    uint32_t cur_count; /* instructions of it counted at entry (`started` was
                           started - cur_count then: vtx_eng_cur_before) */
    /* The block hook's fast path runs only while all of these are clear (one load). */
    union {
        struct {
            bool slow;         /* the per-instruction code hook does the work (fallback, or a boundary function) */
            bool unmapped;     /* an unmapped access was reported (unmapped_*) */
            bool resync;       /* the mode may have changed: take it from Unicorn at the next hook */
            bool skip_pending; /* the run's first instruction is not checked against the stop set */
            uint8_t hstop;     /* hook_stop: why a hook stopped the run */
            bool armed_on;     /* a probe must stop before `armed` */
            bool mmio_stop;    /* vtx_engine_stop_after_access: end the run at the next boundary */
            bool am;           /* cr0 has AM set (vtx_eng_set_cr0): the fast path also looks at CPL
                                  and EFLAGS.AC (ENG-AC-1, hook_block_am) */
        };
        uint64_t irregular;
    };
    bool exc;
    bool ac_stop; /* ENG-AC-1: exc is the #AC the per-instruction hook found (RIP on the instruction) */
    uint32_t exc_vec, exc_err;
    int32_t exc_is_int;
    uint64_t exc_cr2;
    int unmapped_type;
    uint64_t unmapped_addr;
    /* ENG-NC-2: the pages mapped for this run at non-canonical addresses
     * (engine_canonical.c), unmapped when it ends */
    uint64_t nc_page[4];
    unsigned n_nc;
    vtx_insn stop_insn;
    /* The second stage (vtx_engine_set_xlate, engine_xlate.c) and the fault its
     * TLB fill hook found in the run in progress (Unicorn ends the run with an
     * error, RIP on the faulting instruction). */
    bool xl_on;
    vtx_engine_xlate xl;
    uc_hook h_tlb;
    struct {
        bool on;
        uint8_t kind;      /* XF_* */
        uint8_t access;    /* VTX_XL_READ / WRITE / FETCH */
        uint32_t ec;       /* XF_PF: the #PF error code */
        uint64_t page;     /* the linear page Unicorn asked for */
        uint64_t addr;     /* XF_UNMAPPED: the guest-physical address */
    } xf;
    /* fast path, the run in progress */
    uint64_t start_lin;
    uint64_t armed;
    hook_stop armed_kind;
    uint64_t want_probe;
    bool want_budget;     /* the probe wanted is for a budget's end (ENG-PRB-2) */
    /* ENG-STI-1 (vtx_engine_watch_sti): asked for; the run in progress lets STI
     * run (watch_bits = its class bit, else 0); where the instruction after the
     * last STI the block hook let run starts (UINT64_MAX: none) and whether that
     * STI found IF = 0 */
    bool sti_watch;
    uint64_t watch_bits;
    uint64_t sti_next;
    bool sti_if0;
    bool blk_stop;        /* the block hook stopped before the block at blk_stop_lin */
    uint64_t blk_stop_lin;
    /* The per-instruction hook's step path (vtx_eng_step_block): where the next
     * instruction of the clean block the block hook entered last starts
     * (UINT64_MAX: none; the general case), that block's address and its entry
     * in the block's offsets (off[]) of the instruction hooked last. */
    uint64_t step_next;
    uint64_t step_lin;
    const uint16_t *step_off;
    /* ENG-FL-3: bit 0, the instruction hooked last on the step path changes
     * no bit of RFLAGS and RFLAGS at its boundary is rf_last; bits 1 and up,
     * keeps_rf of the rest of that block (bit 1 the next instruction's) */
    uint64_t step_keeps;
    uint64_t rf_last;
    /* The step path's shortcut applies (vtx_eng_step_block): a boundary
     * function, RFLAGS from the live state (flags_live) without the audit,
     * 64-bit code (RIP is the linear address), an instruction of the run
     * started before the block (last_valid). None of these changes inside a
     * clean block. */
    bool step_fast;
    /* last_lin and last_valid when that block was entered (the instruction
     * before its first; vtx_engine_stop_at_boundary) */
    bool step_entry_valid;
    uint64_t step_entry_lin;
    /* The block the block hook entered last with the per-instruction hook on
     * (and its address: the entry may be reused), and a store QEMU runs again
     * after abandoning its block (vtx_eng_step_again; UINT64_MAX: none). */
    const blk_entry *step_prev;
    uint64_t step_prev_lin, again_lin;
    /* ENG-SMC-2 (engine_smc.c): the bytes before the start of the block
     * running that a split store reaching into it was about to overwrite
     * (`started` then), and a stop wanted before the next block (the abandoned
     * store left Unicorn's memory hooks off). */
    struct {
        bool on;
        uint8_t n;
        uint64_t tb, started;
        uint8_t *host[8];
        uint8_t old[8];
    } split;
    bool split_restart;
    /* The MMIO window's access in progress (hook_mmio_access, before the callback). */
    bool mmio_seen;       /* hook_mmio_access ran for it: mmio_before is exact */
    uint64_t mmio_before; /* instructions of the run retired before the accessing one */
    uint64_t mmio_lin;    /* the accessing instruction's linear address */
    int mmio_j;           /* its index in the block entered last (counted part), or -1 */
    uint64_t mmio_next;   /* ENG-MMIO-1: the probed instruction after a writer, or UINT64_MAX */
    uc_hook h_mmio;
};
/* `irregular` with only `slow` set: stepping with nothing else pending (the
 * block hook's stepping shortcut, engine_blocks.c). */
_Static_assert(offsetof(struct vtx_engine, slow) == offsetof(struct vtx_engine, irregular) &&
                   __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "slow is the low byte of irregular");
#define IRREGULAR_SLOW_ONLY 1u
_Static_assert(offsetof(struct vtx_engine, irregular) + 8 - offsetof(struct vtx_engine, started) <= 64 &&
                   offsetof(struct vtx_engine, cur_count) == offsetof(struct vtx_engine, smc_lim) + 4 &&
                   offsetof(fb_entry, n) == offsetof(fb_entry, smc_lim) + 4,
               "the block hook's fields in one cache line; smc_lim and cur_count copied as one");
/* `irregular` with only `am` set: the fast path with the alignment check. */
_Static_assert(offsetof(struct vtx_engine, am) == offsetof(struct vtx_engine, irregular) + 7, "am is the top byte");
#define IRREGULAR_AM (1ull << 56)

/* `started` when the block entered last (cur, not NULL) was entered: the block
 * hook counted cur_count of its instructions then, and whatever changes
 * `started` while cur is set changes cur_count alike or clears cur (the block
 * hook stores one field less per block). */
static inline uint64_t vtx_eng_cur_before(const vtx_engine *e) { return e->started - e->cur_count; }

/* Every change of the engine's copy of CR0 goes through here (am follows it). */
static inline void vtx_eng_set_cr0(vtx_engine *e, uint64_t cr0)
{
    e->cr0 = cr0;
    e->am = (cr0 & VTX_CR0_AM) != 0;
}


/* ---- little helpers on the context copy ---- */
/* The CPUX86State the engine reads and writes: Unicorn's own when it was found
 * (no copies), else the context copy (saved and restored around each access). */
static inline uint8_t *env_of(const vtx_engine *e) { return e->live ? e->live : (uint8_t *)e->ctx + e->hdr; }
static inline uint64_t rd64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }
static inline uint32_t rd32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static inline void wr64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }
static inline void wr32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }

/* a and b hold the same n bytes (guest code against a block's bytes, page tables
 * against their copies: at every block and VM entry). A fuzzing build's memcmp
 * interceptor feeds every byte of every call to the fuzzer's comparison tables
 * (40 % of the guest fuzz target's time): there it is a loop with one
 * comparison per call. Elsewhere libc's memcmp, which is faster. */
static inline bool eq_bytes(const void *a, const void *b, size_t n)
{
#ifdef VTX_FUZZ_BUILD
    const uint8_t *p = a, *q = b;
    uint64_t diff = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, p + i, 8);
        memcpy(&y, q + i, 8);
        diff |= x ^ y;
    }
    for (; i < n; i++)
        diff |= (uint64_t)(p[i] ^ q[i]);
    return diff == 0;
#else
    return memcmp(a, b, n) == 0;
#endif
}

/* RIP as Unicorn holds it (outside a run): in place with the live state. */
static inline uint64_t vtx_eng_rip(const vtx_engine *e)
{
    uint64_t rip = 0;
    if (e->live)
        return rd64(e->live, ENV_EIP);
    uc_reg_read(e->uc, UC_X86_REG_RIP, &rip);
    return rip;
}

static inline uint32_t ar_to_flags(uint32_t ar) { return (ar & VTX_AR_UNUSABLE) ? 0 : (ar & 0xf0ffu) << 8; }
static inline uint32_t flags_to_ar(uint32_t f) { return f == 0 ? VTX_AR_UNUSABLE : (f >> 8) & 0xf0ffu; }

/* ---- guest-physical and linear memory ---- */
static inline const uint8_t *host_of(const vtx_engine *e, uint64_t pa, uint64_t *avail)
{
    for (size_t i = 0; i < e->nreg; i++)
        if (pa >= e->reg[i].pa && pa - e->reg[i].pa < e->reg[i].size) {
            *avail = e->reg[i].size - (pa - e->reg[i].pa);
            return (const uint8_t *)e->reg[i].host + (pa - e->reg[i].pa);
        }
    return NULL;
}

static inline bool phys_read(const vtx_engine *e, uint64_t pa, void *buf, size_t len)
{
    uint64_t avail;
    const uint8_t *h = host_of(e, pa, &avail);
    if (h && avail >= len) {
        memcpy(buf, h, len);
        return true;
    }
    return e->have_mem && e->mem.read && e->mem.read(e->mem.ctx, pa, buf, len);
}

/* ---- the block cache's eviction bits and instruction index (engine_blocks.c) ---- */
static inline unsigned evict_bit(uint64_t lin) { return (unsigned)((lin ^ (lin >> 16) ^ (lin >> 32)) & 0xffff); }
static inline bool evicted_test(const vtx_engine *e, uint64_t lin)
{
    unsigned b = evict_bit(lin);
    return (e->evicted[b / 64] >> (b % 64)) & 1;
}
static inline void evicted_set(vtx_engine *e, uint64_t lin, bool on)
{
    unsigned b = evict_bit(lin);
    if (on)
        e->evicted[b / 64] |= 1ull << (b % 64);
    else
        e->evicted[b / 64] &= ~(1ull << (b % 64));
}

/* Index of the instruction boundary `lin` in block b (n for its end), or -1. */
static inline int blk_index(const blk_entry *b, uint64_t lin)
{
    if (lin < b->lin || lin - b->lin > b->size)
        return -1;
    uint32_t off = (uint32_t)(lin - b->lin);
    unsigned lo = 0, hi = b->n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (b->off[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return b->off[lo] == off ? (int)lo : -1;
}

/* ---- engine_paging.c ---- */
bool vtx_eng_lin_to_phys(const vtx_engine *e, uint64_t lin, uint64_t *pa);
const char *vtx_eng_check_identity_paging(vtx_engine *e, const vtx_cpu_state *s, bool tlb_kept);
const char *vtx_eng_paging_verify(vtx_engine *e);
size_t vtx_eng_lin_read(const vtx_engine *e, uint64_t lin, uint8_t *buf, size_t len, const uint8_t **host);
uint64_t vtx_eng_paging_key_changed(const vtx_engine *e, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer);
void vtx_eng_flush_tlb(vtx_engine *e);
void vtx_eng_tlb_flush_wanted(vtx_engine *e);

/* ---- engine_xlate.c ---- */
enum { XF_PF = 1, XF_REFUSED = 2, XF_UNMAPPED = 3 };
/* Guest-physical read through the second stage (peeking). */
bool vtx_eng_xl_read(const vtx_engine *e, uint64_t gpa, void *buf, size_t len);
/* Guest-physical read for the engine's own walk: through the second stage
 * when one is installed. */
static inline bool vtx_eng_gphys_read(const vtx_engine *e, uint64_t gpa, void *buf, size_t len)
{
    return e->xl_on ? vtx_eng_xl_read(e, gpa, buf, len) : phys_read(e, gpa, buf, len);
}
/* Guest-physical -> host-physical for the engine's own reads (peek). */
bool vtx_eng_gpa_to_hpa(const vtx_engine *e, uint64_t gpa, uint64_t *hpa);
/* Install the TLB fill hook in a (new) Unicorn when the second stage is on. */
bool vtx_eng_xlate_setup(vtx_engine *e);
/* ENG-SMC-1, ENG-SMC-2 (engine_smc.c): the write hook, on a new Unicorn. */
bool vtx_eng_smc_setup(vtx_engine *e);
/* ENG-SMC-2: the block hook sees a store run again alone after QEMU abandoned
 * the block starting at tb, with `started` instructions of the run started:
 * puts back the bytes a split store left behind before the block's start
 * (true), if that is what abandoned it. */
bool vtx_eng_split_again(vtx_engine *e, uint64_t tb, uint64_t started);
/* The linear address of the access that faulted in page e->xf.page, made by
 * `in` at linear RIP `lin` (Unicorn reports only the page). */
uint64_t vtx_eng_xf_linear(const vtx_engine *e, const vtx_insn *in, uint64_t lin);
/* The linear address of a decoded instruction's memory operand from the current registers (engine_xlate.c). */
uint64_t vtx_eng_mem_linear(const vtx_engine *e, const vtx_insn *in);
/* The linear address of RIP (CS.base + RIP outside 64-bit mode). */
static inline uint64_t vtx_eng_linear_of(const vtx_engine *e, uint64_t rip)
{
    if (e->width == 64)
        return rip;
    return (e->cs_base + rip) & 0xffffffffull;
}
/* Map the MMIO window e->mmio into (a new) Unicorn with its access hook (engine_mmio.c). */
bool vtx_eng_mmio_attach(vtx_engine *e);
/* ENG-DR-1 (engine_debug_regs.c): carry out a MOV to DR on the CPU state; false when it would fault. */
bool vtx_eng_own_mov_to_dr(vtx_engine *e, const vtx_insn *in);
/* ENG-NC-1 (engine_canonical.c): the stopped run's data access was at a non-canonical
 * address (Unicorn 2.0.1 reports it unmapped); the instruction at `lin` has an explicit
 * SS-based operand at a non-canonical address (Unicorn 2.1 raised #GP: it is #SS). */
bool vtx_eng_noncanonical_data(const vtx_engine *e);
bool vtx_eng_ss_noncanonical(vtx_engine *e, uint64_t lin);
/* ENG-NC-2 (engine_canonical.c): from the unmapped-access hook, a data access at
 * the non-canonical address `a`: map a page there for the rest of the run so
 * that QEMU's page walk raises the #GP itself, exactly (true); false when it
 * cannot. vtx_eng_nc_unmap takes those pages away at the run's end. */
bool vtx_eng_nc_map(vtx_engine *e, int type, uint64_t a);
void vtx_eng_nc_unmap(vtx_engine *e);

/* ---- engine_unmapped.c ---- */
bool vtx_eng_hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *ud);
void vtx_eng_unmapped_stop(vtx_engine *e, uc_err err, uint64_t lin, uint64_t start_lin, bool hooked, vtx_stop *stop);
/* The run's hook saw a data access (not a fetch) to unmapped memory (ENG-UNM-5). */
static inline bool vtx_eng_unmapped_data(const vtx_engine *e)
{
    return e->unmapped && e->unmapped_type != UC_MEM_FETCH_UNMAPPED;
}

/* ---- engine.c: the run's stop ---- */
void vtx_eng_clear_fault_history(vtx_engine *e);
void vtx_eng_stop_insn_at(vtx_engine *e, uint64_t lin, vtx_stop *stop);

/* ---- engine_drops.c ---- */
void vtx_eng_drop_translations(vtx_engine *e);
bool vtx_eng_reopen(vtx_engine *e);
/* ENG-BUF-1: on a new Unicorn, before any translation. */
void vtx_eng_buffer_setup(vtx_engine *e);
/* ENG-BUF-1: a new translation of `size` guest bytes ran (the block hook's tag rotation). */
static inline void vtx_eng_buffer_note(vtx_engine *e, uint32_t size)
{
    if (e->buf_unset)
        e->buf_bytes += BUF_TB_MAX((uint64_t)size);
}
/* ENG-BUF-1: the buffer is flushed at the start of the run after this. */
static inline bool vtx_eng_buffer_due(const vtx_engine *e)
{
    return e->buf_unset && e->buf_bytes >= BUF_FLUSH_AT;
}
/* At a run's start: drop Unicorn's translations at the addresses in e->lost. */
void vtx_eng_drop_lost(vtx_engine *e);
/* ENG-RST-1 (vtx_engine_reset): drop every translation made since the last drop. */
void vtx_eng_drop_since_reset(vtx_engine *e);
/* ENG-CNT-1: a translation at lin the block cache does not record (another size,
 * an entry replaced): dropped at the next run's start (engine_drops.c). */
void vtx_eng_lost_add(vtx_engine *e, uint64_t lin);
/* ENG-RST-1: note the pages of the block at lin (up to two: a block may cross a
 * page boundary), for vtx_eng_drop_since_reset. */
void vtx_eng_tpages_note(vtx_engine *e, uint64_t lin, uint32_t size);
void vtx_eng_hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud);
/* engine_step.c: the decode cache's slot for a linear address, and Unicorn's
 * per-instruction hook (installed while a boundary function is set or the run
 * is stepped). */
dc_entry *vtx_eng_dc_slot(vtx_engine *e, uint64_t lin);
void vtx_eng_hook_code(uc_engine *uc, uint64_t addr, uint32_t size, void *ud);

/* The cached bytes are still what guest memory holds. */
static inline bool vtx_eng_dc_valid(const dc_entry *d)
{
    if (__builtin_expect(d->fast, 1)) {
        uint64_t a, b;
        memcpy(&a, d->host, 8);
        memcpy(&b, d->host + 8, 8);
        return ((a & d->m[0]) ^ d->w[0]) == 0 && ((b & d->m[1]) ^ d->w[1]) == 0;
    }
    return eq_bytes(d->host, d->insn.bytes, d->vlen);
}

/* The fast path's table: allocate it (false: out of memory), free it. */
bool vtx_eng_fb_alloc(vtx_engine *e);
void vtx_eng_fb_free(vtx_engine *e);
/* Add the block hook to e->uc (its user data carries the tag); false on failure. */
bool vtx_eng_block_hook_add(vtx_engine *e);
/* Every epoch was used (engine_blocks.c): every entry unstamped, the epoch 1 again. */
void vtx_eng_epoch_wrap(vtx_engine *e);
/* Guest memory may have changed behind QEMU's back (a caller's callback ran):
 * every block is compared with memory again before the fast path takes it. */
static inline void vtx_eng_code_may_change(vtx_engine *e)
{
    e->ekey += EPOCH_ONE;
    if (__builtin_expect(e->ekey == 0, 0))
        vtx_eng_epoch_wrap(e); /* every epoch used: unstamp every entry, start at 1 again */
}
/* ENG-AC-1 (engine_align.c): alignment checking is on (CR0.AM, EFLAGS.AC, CPL 3), and
 * the instruction at lin (decoded as in) makes a misaligned access: #AC(0). */
bool vtx_eng_ac_on(const vtx_engine *e);
bool vtx_eng_ac_fault(const vtx_engine *e, const vtx_insn *in, uint64_t lin);
bool vtx_eng_add_probe(vtx_engine *e, uint64_t lin);
/* A probe is at lin (engine_blocks.c); it is armed now, for a budget's end or not (ENG-PRB-2). */
bool vtx_eng_probe_at(vtx_engine *e, uint64_t lin, bool budget);
/* A probe at an address in [lo, hi) (ENG-PRB-3). */
bool vtx_eng_probe_in(const vtx_engine *e, uint64_t lo, uint64_t hi);
/* ENG-PRB-1. Drop probes, each with the translated code it was compiled into:
 * all of them (a reset: a new engine has none), or at a run's start those no run
 * armed in the last PROBE_AGE runs (a probe costs Unicorn a hook call at every
 * execution of its instruction: one a budget once ended at, in a hot loop, would
 * cost there for ever). ENG-PRB-2: one only budgets ended at (a timer deadline
 * ends them anywhere) is dropped at the next run's start. */
void vtx_eng_drop_probes(vtx_engine *e, bool all);

/* The block hook, with the per-instruction hook on, entered block b (NULL: one
 * it could not vouch for). The per-instruction hook takes b's instructions on
 * its step path (hook_code), in order, without a decode or the stop-set and
 * budget checks, when b is clean: hot (decoded to its end, no instruction that
 * may change the mode, so CR0.AM and the code width stay as they are), no class
 * of the stop set in it, the budget not ending inside it, nothing left to
 * resynchronise (so e->cr0 is Unicorn's: a MOV to CR0 changes the mode and is
 * absorbed first), and CR0.AM clear (no #AC: that check needs the decode). b's
 * bytes were just compared with memory; a guest store into b ends QEMU's block
 * and enters a new one (the block hook runs again), and a difference made
 * through host pointers had the block retranslated before it ran. */
/* With the per-instruction hook on, the block at addr of size bytes is the
 * store just started (the last instruction the hook saw start, e->last_lin)
 * run again alone: QEMU's precise self-modifying code abandons a block at a
 * store into it and runs the store again as a one-instruction block (the same
 * test as hook_block_slow's for the fast path; p is the block entered before). */
static inline bool vtx_eng_step_again(const vtx_engine *e, uint64_t addr, uint32_t size)
{
    const blk_entry *p = e->step_prev;
    if (!p || !e->last_valid || addr != e->last_lin || !p->wmem_early || size >= p->size || addr < p->lin ||
        addr >= p->lin + p->size || p->lin != e->step_prev_lin)
        return false;
    int j = blk_index(p, addr);
    return j >= 0 && j + 2 <= p->n && p->wmem[j] && size == (uint32_t)(p->off[j + 1] - p->off[j]);
}

static inline void vtx_eng_step_block(vtx_engine *e, const blk_entry *b, bool again)
{
    e->step_prev = b;
    e->step_prev_lin = b ? b->lin : UINT64_MAX;
    if (again) {
        /* the store's boundary was passed and counted when it started */
        e->again_lin = e->last_lin;
        e->step_next = UINT64_MAX;
        return;
    }
    /* ENG-CNT-2: not a block that starts with a store still to be run again
     * (again_lin): its start was counted before QEMU abandoned the block the
     * store wrote into; the run stopped before the one-instruction block
     * (retranslate_stop) and now goes on with a whole block there. */
    bool clean = b && b->hot && !(b->classes & e->stop_bits) && (!e->budget || e->budget - e->started >= b->n) &&
                 !e->resync && !(e->cr0 & VTX_CR0_AM) && e->again_lin != b->lin;
    e->step_next = clean ? b->lin : UINT64_MAX;
    if (clean) {
        e->step_lin = b->lin;
        e->step_off = b->off;
        e->step_keeps = (e->step_keeps & 1) | (b->keeps_rf << 1); /* (a 64th instruction's bit is lost: computed) */
        e->step_fast = e->bfn && e->flags_live && !e->flags_audit && e->width == 64 && e->last_valid;
        e->step_entry_lin = e->last_lin;
        e->step_entry_valid = e->last_valid;
        /* it only matters before a class of the stop set; cleared only when set:
         * a byte stored into `irregular` makes the next block hook's load of it
         * wait for the store (no forwarding to a wider load) */
        if (e->skip_pending)
            e->skip_pending = false;
    }
}

/* ---- engine_abort.c ---- */
extern pthread_once_t vtx_eng_abort_guard_once;
void vtx_eng_install_abort_guard(void);
bool vtx_eng_guarded_emu_start(vtx_engine *e, uint64_t rip, uc_err *err);
bool vtx_eng_reopen_past(vtx_engine *e, uint64_t lin);
/* Drop the exits whose bytes the decoder now accepts (ENG-EXIT-1), at a run's start. */
void vtx_eng_drop_stale_exits(vtx_engine *e);

/* ---- engine_state.c ---- */
bool vtx_eng_save_absorb(vtx_engine *e);
bool vtx_eng_probe_layout(vtx_engine *e);
void vtx_eng_find_live(vtx_engine *e);

/* ---- engine_flags.c ---- */
/* Check once that RFLAGS from the live state is Unicorn's (sets flags_live). */
void vtx_eng_flags_setup(vtx_engine *e);

/* ---- engine.c ---- */
bool vtx_eng_is_exit(const vtx_engine *e, uint64_t lin);
bool vtx_eng_uc_setup(vtx_engine *e);

#endif
