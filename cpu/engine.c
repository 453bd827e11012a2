/*
 * engine: see the header and docs/architecture.md ("Speed").
 *
 * Unicorn internals
 * -----------------
 * Unicorn 2.0.1's register API cannot express what a VM entry loads: writing a
 * selector reloads the cache from the GDT (or, in UC_MODE_64, only sets the
 * selector), CPL 3 cannot be entered, CR0/CR4 writes skip QEMU's hidden-flag
 * updates, and nothing reads the hidden caches back. It does give a byte-exact
 * copy of QEMU's CPUX86State through uc_context_save/restore. The engine
 * therefore reads and writes that copy at the QEMU 5.0 (Unicorn 2.0.x, x86_64
 * build) offsets below, and verifies every offset at vtx_engine_create by
 * writing marker values through the public API and finding them where
 * expected; an unknown layout makes create fail rather than run wrongly.
 * What it writes: GPRs, EIP, hflags (recomputed like QEMU's
 * cpu_x86_load_seg_cache / update_cr0 / update_cr4 do), the six segment caches,
 * LDTR, TR, GDTR, IDTR, CR0-CR4, EFER, DR6, DR7 and old_exception; RFLAGS goes
 * through the API (QEMU splits it into lazy condition codes).
 * What it reads in the exception hook: error_code, exception_is_int (INT n /
 * INT3 / INTO are traps) and CR2.
 * old_exception is what makes QEMU escalate a second fault to #DF (Unicorn never
 * calls do_interrupt, which clears it); the engine sets it back to -1 after each
 * exception, the effect of the "pristine context restore" of the notes without
 * losing the state.
 * One UC_MODE_64 engine runs every mode: the uc mode only selects the register
 * API's view, while QEMU's x86-64 CPU takes its mode from hflags/CR0/EFER, so a
 * guest can also switch modes itself (and CPUID reports long mode, like every
 * VT-x processor).
 */
#include "engine.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include "uc_compat.h"

/* ---- QEMU 5.0 CPUX86State offsets (verified at create) ---- */
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

#define DESC_P (1u << 15)
#define DESC_L (1u << 21)
#define DESC_B (1u << 22)

#define CR0_PE 1ull
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_SMAP (1ull << 21)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define RFLAGS_VM (1ull << 17)
#define AR_UNUSABLE (1u << 16)

#define DC_SIZE 4096u
#define ID_CACHE_TABLES 64u
#define RUN_UNTIL 0xffffffffffffffffull /* ignored: the engine enables exits with an empty set */
#define DUMMY_PA 0xfffffff000ull        /* mapped/unmapped to flush QEMU's TLB */

typedef struct dc_entry {
    uint64_t lin;
    uint32_t gen;
    bool fast;           /* 16 bytes from host are in one page: compare two masked words */
    const uint8_t *host; /* the bytes in guest memory (NULL: re-fetch on every use) */
    uint64_t w[2], m[2]; /* the instruction's bytes and their mask, as little-endian words */
    vtx_insn insn;
} dc_entry;

typedef enum { HS_NONE, HS_BEFORE, HS_COUNT, HS_PROBE, HS_SLOW, HS_BOUNDARY, HS_RETRANSLATE } hook_stop;

/* ---- the fast path's block cache (see "Fast path" above vtx_engine_run) ---- */
#define BC_SIZE 1024u
#define BC_MAX_INSNS 512u
#define NPROBE 32u

typedef struct blk_entry {
    uint64_t lin;         /* linear address of the translation block */
    uint32_t size;        /* its size in bytes, as Unicorn reports it */
    uint32_t gen;
    uint16_t n;           /* instructions */
    uint8_t width;
    bool mc_last;         /* an instruction of it may change the mode (resync after the block) */
    bool wmem_early;      /* an instruction before the last may write memory */
    bool usable;          /* decoded: the engine can vouch for it (else only its bytes are kept) */
    uint16_t bad_at;      /* index of an undecodable instruction (class UD, the block's end for
                             the engine), or UINT16_MAX */
    bool hot;             /* usable, !mc_last, decoded to its end: hook_block may take it (the paging
                             generation also changes with the code width, so gen covers width) */
    uint64_t classes;     /* bit set of the classes it contains */
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

struct vtx_engine {
    uc_engine *uc;
    uc_context *ctx;
    size_t hdr;    /* offset of CPUX86State in the context */
    size_t off_dr; /* offset of env->dr[0] in CPUX86State */
    vtx_engine_region *reg;
    size_t nreg;
    vtx_phys_mem mem;
    bool have_mem;
    void *dummy;
    uc_hook h_intr, h_unmapped, h_code, h_block;
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
    bool translated;      /* Unicorn may hold translated code (a run since the last flush) */
    bool broken;          /* Unicorn aborted inside a run (see abort_guard): only destroy is left */
    uint64_t exits[16];   /* linear addresses Unicorn must not translate (see reopen_past) */
    size_t nexits;
    uint64_t retrans[16]; /* blocks retranslated in the run in progress */
    unsigned nretrans;
    uint64_t retrans_lo, retrans_hi;
    struct { uint64_t lin; uc_hook h; } probe[NPROBE];
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
    vtx_cpu_state held; /* what Unicorn holds, as last loaded or read (while held_valid) */
    bool held_valid;    /* no run since: set_state of a state that differs only in
                           GPRs, RIP and RFLAGS writes just those */

    /* The run in progress. */
    uint64_t stop_bits, budget, started, stop_lin, last_lin;
    bool last_valid;
    /* The block hook's fast path runs only while all of these are clear (one load). */
    union {
        struct {
            bool slow;         /* the per-instruction code hook does the work (fallback, or a boundary function) */
            bool unmapped;     /* an unmapped access was reported (unmapped_*) */
            bool resync;       /* the mode may have changed: take it from Unicorn at the next hook */
            bool skip_pending; /* the run's first instruction is not checked against the stop set */
            uint8_t hstop;     /* hook_stop: why a hook stopped the run */
            uint8_t irregular_pad_[3];
        };
        uint64_t irregular;
    };
    bool exc;
    uint32_t exc_vec, exc_err;
    int32_t exc_is_int;
    uint64_t exc_cr2;
    int unmapped_type;
    uint64_t unmapped_addr;
    vtx_insn stop_insn;
    /* fast path, the run in progress */
    uint64_t start_lin;
    blk_entry *cur;       /* the block entered last (NULL: none, or it did not start) */
    uint64_t cur_before;  /* `started` when it was entered */
    uint32_t cur_count;   /* instructions of it counted at entry */
    bool armed_on;        /* a probe must stop before `armed` */
    uint64_t armed;
    hook_stop armed_kind;
    uint64_t want_probe;
    bool blk_stop;        /* the block hook stopped before the block at blk_stop_lin */
    uint64_t blk_stop_lin;
};

/* ---- little helpers on the context copy ---- */
static uint8_t *env_of(const vtx_engine *e) { return (uint8_t *)e->ctx + e->hdr; }
static uint64_t rd64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }
static uint32_t rd32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static void wr64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }
static void wr32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }

static uint32_t ar_to_flags(uint32_t ar) { return (ar & AR_UNUSABLE) ? 0 : (ar & 0xf0ffu) << 8; }
static uint32_t flags_to_ar(uint32_t f) { return f == 0 ? AR_UNUSABLE : (f >> 8) & 0xf0ffu; }

/* ---- guest-physical and linear memory ---- */
static const uint8_t *host_of(const vtx_engine *e, uint64_t pa, uint64_t *avail)
{
    for (size_t i = 0; i < e->nreg; i++)
        if (pa >= e->reg[i].pa && pa - e->reg[i].pa < e->reg[i].size) {
            *avail = e->reg[i].size - (pa - e->reg[i].pa);
            return (const uint8_t *)e->reg[i].host + (pa - e->reg[i].pa);
        }
    return NULL;
}

static bool phys_read(const vtx_engine *e, uint64_t pa, void *buf, size_t len)
{
    uint64_t avail;
    const uint8_t *h = host_of(e, pa, &avail);
    if (h && avail >= len) {
        memcpy(buf, h, len);
        return true;
    }
    return e->have_mem && e->mem.read && e->mem.read(e->mem.ctx, pa, buf, len);
}

/* Linear -> guest-physical through the guest's paging (no permission checks:
 * Unicorn has already fetched what the engine decodes). */
static bool walk_paging(const vtx_engine *e, uint64_t lin, uint64_t *pa)
{
    if (!(e->cr0 & CR0_PG)) {
        *pa = (e->efer & EFER_LMA) ? lin : (lin & 0xffffffffull);
        return true;
    }
    const uint64_t amask = 0x000ffffffffff000ull;
    if (e->efer & EFER_LMA) {
        uint64_t t = e->cr3 & amask, ent;
        for (int level = 3; level >= 0; level--) {
            unsigned idx = (unsigned)(lin >> (12 + 9 * level)) & 511;
            if (!phys_read(e, t + idx * 8ull, &ent, 8) || !(ent & 1))
                return false;
            if (level > 0 && level < 3 && (ent & 0x80)) {
                uint64_t size = 1ull << (12 + 9 * level);
                *pa = (ent & amask & ~(size - 1)) | (lin & (size - 1));
                return true;
            }
            t = ent & amask;
        }
        *pa = t | (lin & 0xfff);
        return true;
    }
    lin &= 0xffffffffull;
    if (e->cr4 & CR4_PAE) {
        uint64_t ent;
        if (!phys_read(e, (e->cr3 & 0xffffffe0ull) + ((lin >> 30) & 3) * 8, &ent, 8) || !(ent & 1))
            return false;
        if (!phys_read(e, (ent & amask) + ((lin >> 21) & 511) * 8, &ent, 8) || !(ent & 1))
            return false;
        if (ent & 0x80) {
            *pa = (ent & amask & ~0x1fffffull) | (lin & 0x1fffff);
            return true;
        }
        if (!phys_read(e, (ent & amask) + ((lin >> 12) & 511) * 8, &ent, 8) || !(ent & 1))
            return false;
        *pa = (ent & amask) | (lin & 0xfff);
        return true;
    }
    uint32_t ent;
    if (!phys_read(e, (e->cr3 & 0xfffff000ull) + ((lin >> 22) & 1023) * 4, &ent, 4) || !(ent & 1))
        return false;
    if ((ent & 0x80) && (e->cr4 & CR4_PSE)) {
        *pa = ((uint64_t)(ent & 0xffc00000u) | ((uint64_t)(ent >> 13) & 0xff) << 32) | (lin & 0x3fffff);
        return true;
    }
    if (!phys_read(e, (ent & 0xfffff000u) + ((lin >> 12) & 1023) * 4, &ent, 4) || !(ent & 1))
        return false;
    *pa = (ent & 0xfffff000u) | (lin & 0xfff);
    return true;
}

/* What Unicorn 2.0.1 does: the page walk decides presence (#PF), then the
 * access goes to physical address == linear address (excp_helper.c:
 * "Unicorn: identity map guest virtual address"). set_state refuses page
 * tables that map anything elsewhere, so this equals walk_paging there. */
static bool lin_to_phys(const vtx_engine *e, uint64_t lin, uint64_t *pa)
{
    uint64_t walked;
    if (!walk_paging(e, lin, &walked))
        return false;
#if VTX_UC_21
    *pa = walked; /* Unicorn 2.1 translates through the guest's tables */
#else
    *pa = (e->cr0 & CR0_PG) ? ((e->efer & EFER_LMA) ? lin : (lin & 0xffffffffull)) : walked;
#endif
    return true;
}

/* Unicorn 2.0.1: every present leaf of the paging structures must map linear
 * == physical (see lin_to_phys). Returns NULL or why not. Visits at most 4096
 * tables. On both versions the walk keeps copies of the tables it read (up to
 * ID_CACHE_TABLES), which tell whether the paging structures changed. */
typedef struct idwalk {
    vtx_engine *e;
    unsigned tables;
    const char *why;
    bool cacheable; /* every table read was in a region and fits the cache */
} idwalk;

/* Remember a table the walk read (the copy is compared at the next check). */
static void id_record(idwalk *w, const uint8_t *tab, uint32_t len)
{
    vtx_engine *e = w->e;
    if (!w->cacheable)
        return;
    if (!tab || e->idc.n >= ID_CACHE_TABLES) {
        w->cacheable = false;
        return;
    }
    unsigned i = e->idc.n;
    if (!e->idc.t[i].copy && !(e->idc.t[i].copy = malloc(4096))) {
        w->cacheable = false;
        return;
    }
    memcpy(e->idc.t[i].copy, tab, len);
    e->idc.t[i].host = tab;
    e->idc.t[i].len = len;
    e->idc.n = i + 1;
}

/* The linear address of entry i of a table at `level` covering lin_base. */
static uint64_t id_entry_lin(uint64_t lin_base, unsigned i, unsigned shift, int level, bool lma)
{
    uint64_t lin = lin_base + ((uint64_t)i << shift);
    if (lma && level == 3 && (lin >> 47))
        lin |= 0xffff000000000000ull;
    return lin;
}

/*
 * Every present leaf must map linear == physical: inside mapped guest-physical
 * memory a non-identity mapping would silently run wrong, and outside it Unicorn
 * would report an unmapped access at the linear address (vtx_stop.address)
 * where the processor accesses the physical one.
 */
static void id_table(idwalk *w, uint64_t table, int level, unsigned esz, unsigned bits, uint64_t lin_base,
                     unsigned nent, bool lma, bool pse)
{
    if (w->why)
        return;
    if (++w->tables > 4096) {
        w->why = "paging structures too large to verify (Unicorn 2.0.1 needs identity paging)";
        return;
    }
    const uint64_t amask = 0x000ffffffffff000ull;
    const unsigned shift = 12 + bits * (unsigned)level;
    /* Every entry: a non-identity leaf outside mapped memory would not run as
     * the tables say either (Unicorn reports an unmapped access at the linear
     * address, where the processor would access the physical one). */
    const unsigned lo = 0, hi = nent - 1;
    uint64_t avail = 0;
    const uint8_t *tab = host_of(w->e, table, &avail); /* the whole table at once when it is in a region */
    if (tab && avail < (uint64_t)nent * esz)
        tab = NULL;
    id_record(w, tab ? tab + (size_t)lo * esz : NULL, (hi - lo + 1) * esz);
    for (unsigned i = lo; i <= hi && !w->why; i++) {
        uint64_t lin = id_entry_lin(lin_base, i, shift, level, lma);
        uint64_t ent = 0;
        if (tab)
            memcpy(&ent, tab + (size_t)i * esz, esz);
        else if (!phys_read(w->e, table + (uint64_t)i * esz, &ent, esz))
            continue; /* unreadable: Unicorn faults there too */
        if (!(ent & 1))
            continue;
        bool leaf = level == 0 || ((ent & 0x80) && (level == 1 || (lma && level == 2)) && (esz == 8 || pse));
        if (!leaf) {
            uint64_t next = esz == 8 ? (ent & amask) : (ent & 0xfffff000u);
            id_table(w, next, level - 1, esz, bits, lin, esz == 8 ? 512 : 1024, lma, pse);
            continue;
        }
        uint64_t pa;
        if (esz == 4 && level == 1)
            pa = (uint64_t)(ent & 0xffc00000u) | ((uint64_t)(ent >> 13) & 0xff) << 32;
        else
            pa = ent & amask & ~((1ull << shift) - 1);
        if (pa != lin && !VTX_UC_21) /* 2.1 translates: the walk only records the tables */
            w->why = "the page tables map a linear address to a different physical address: Unicorn 2.0.1 "
                     "ignores page-table addresses (it checks presence/permissions, then accesses "
                     "physical == linear), so only identity paging can run";
    }
}

/* The cached verdict still holds: same CR3 and paging mode, and every table the
 * walk read still holds the same bytes (the caller may rewrite page tables
 * through its host pointers at any time, so nothing less is enough). */
static bool id_cache_hit(const vtx_engine *e, const uint64_t key[4])
{
    if (!e->idc.valid || memcmp(key, e->idc.key, sizeof e->idc.key) != 0)
        return false;
    for (unsigned i = 0; i < e->idc.n; i++)
        if (memcmp(e->idc.t[i].host, e->idc.t[i].copy, e->idc.t[i].len) != 0)
            return false;
    return true;
}

static const char *check_identity_paging(vtx_engine *e, const vtx_cpu_state *s)
{
    if (!(s->cr0 & CR0_PG))
        return NULL;
    const uint64_t key[4] = {s->cr3, s->cr4 & (CR4_PAE | CR4_PSE), s->efer & EFER_LMA, 1};
    if (id_cache_hit(e, key))
        return NULL;
    idwalk w = {e, 0, NULL, true};
    e->idc_walks++;
    e->idc.valid = false;
    e->idc.n = 0;
    if (s->efer & EFER_LMA) {
        id_table(&w, s->cr3 & 0x000ffffffffff000ull, 3, 8, 9, 0, 512, true, true);
    } else if (s->cr4 & CR4_PAE) {
        uint64_t avail = 0;
        const uint8_t *pdpt = host_of(e, s->cr3 & 0xffffffe0ull, &avail);
        id_record(&w, pdpt && avail >= 32 ? pdpt : NULL, 32);
        for (unsigned i = 0; i < 4 && !w.why; i++) {
            uint64_t pdpte = 0;
            if (phys_read(e, (s->cr3 & 0xffffffe0ull) + i * 8, &pdpte, 8) && (pdpte & 1))
                id_table(&w, pdpte & 0x000ffffffffff000ull, 1, 8, 9, (uint64_t)i << 30, 512, false, true);
        }
    } else {
        id_table(&w, s->cr3 & 0xfffff000ull, 1, 4, 10, 0, 1024, false, (s->cr4 & CR4_PSE) != 0);
    }
    if (!w.why && w.cacheable) {
        memcpy(e->idc.key, key, sizeof key);
        e->idc.valid = true;
    }
    /* Unicorn 2.1 translates for real, so any mapping runs: the walk only keeps
     * copies of the tables, for the TLB flushes (tlb_flush_wanted). */
    return VTX_UC_21 ? NULL : w.why;
}

/* Read up to `len` bytes at a linear address; returns how many were readable.
 * *host is set when all of them are contiguous in one region page. */
static size_t lin_read(const vtx_engine *e, uint64_t lin, uint8_t *buf, size_t len, const uint8_t **host)
{
    size_t got = 0;
    *host = NULL;
    while (got < len) {
        uint64_t pa, avail;
        if (!lin_to_phys(e, lin + got, &pa))
            break;
        size_t chunk = 4096 - ((lin + got) & 0xfff);
        if (chunk > len - got)
            chunk = len - got;
        const uint8_t *h = host_of(e, pa, &avail);
        if (h && avail >= chunk) {
            memcpy(buf + got, h, chunk);
            if (got == 0 && chunk == len)
                *host = h;
        } else {
            size_t n = 0;
            while (n < chunk && phys_read(e, pa + n, buf + got + n, 1))
                n++;
            got += n;
            if (n < chunk)
                break;
            continue;
        }
        got += chunk;
    }
    return got;
}

/* ---- decode cache ---- */
static dc_entry *dc_slot(vtx_engine *e, uint64_t lin)
{
    return &e->dc[(lin ^ (lin >> 12) ^ (lin >> 24)) & (DC_SIZE - 1)];
}

static const vtx_insn *dc_fill(vtx_engine *e, dc_entry *d, uint64_t lin, bool *ok)
{
    uint8_t buf[15];
    const uint8_t *host;
    size_t n = lin_read(e, lin, buf, sizeof buf, &host);
    *ok = n > 0;
    vtx_decode_bytes(buf, n, e->width, lin, &d->insn);
    d->lin = lin;
    d->gen = e->gen;
    /* The entry is validated against guest memory on every hit; only an
     * instruction wholly inside one mapped page keeps a host pointer. */
    d->host = (n > 0 && host && ((lin & 0xfff) + d->insn.len <= 4096)) ? host : NULL;
    if (!d->host)
        d->gen = e->gen - 1; /* never a hit: re-fetched next time */
    d->fast = d->host && (lin & 0xfff) + 16 <= 4096;
    d->w[0] = d->w[1] = d->m[0] = d->m[1] = 0;
    for (unsigned i = 0; i < d->insn.len && i < 16; i++) {
        d->w[i / 8] |= (uint64_t)d->insn.bytes[i] << (8 * (i % 8));
        d->m[i / 8] |= 0xffull << (8 * (i % 8));
    }
    return &d->insn;
}

/* The cached bytes are still what guest memory holds. */
static inline bool dc_valid(const dc_entry *d)
{
    if (__builtin_expect(d->fast, 1)) {
        uint64_t a, b;
        memcpy(&a, d->host, 8);
        memcpy(&b, d->host + 8, 8);
        return ((a & d->m[0]) ^ d->w[0]) == 0 && ((b & d->m[1]) ^ d->w[1]) == 0;
    }
    return memcmp(d->host, d->insn.bytes, d->insn.len) == 0;
}

static inline const vtx_insn *dc_lookup(vtx_engine *e, uint64_t lin)
{
    dc_entry *d = dc_slot(e, lin);
    if (d->lin == lin && d->gen == e->gen && dc_valid(d))
        return &d->insn;
    bool ok;
    return dc_fill(e, d, lin, &ok);
}

/* ---- synchronisation with Unicorn ---- */
static uint64_t paging_key_changed(const vtx_engine *e, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
    return ((cr0 ^ e->cr0) & (CR0_PG | CR0_WP | CR0_PE)) | (cr3 ^ e->cr3) | ((cr4 ^ e->cr4) & ~0x3ull) |
           ((efer ^ e->efer) & (EFER_LMA | EFER_NXE));
}

static void flush_tlb(vtx_engine *e)
{
    e->tlb_want = false;
    e->idc_walks_at_flush = e->idc_walks;
#if VTX_UC_21
    /* 2.1 has a TLB flush of its own (uc_context_restore does not flush). */
    if (uc_ctl_flush_tlb(e->uc) == UC_ERR_OK)
        return;
#endif
    /* Unicorn 2.0.1 has no TLB flush API; mapping a page calls tlb_flush(). */
    if (uc_mem_map_ptr(e->uc, DUMMY_PA, 4096, UC_PROT_READ, e->dummy) == UC_ERR_OK)
        uc_mem_unmap(e->uc, DUMMY_PA, 4096);
}

/* Take the mode/paging shadows from e->ctx (just saved). */
static void absorb(vtx_engine *e)
{
    const uint8_t *env = env_of(e);
    uint32_t hf = rd32(env, ENV_HFLAGS);
    uint64_t cr0 = rd64(env, ENV_CR), cr3 = rd64(env, ENV_CR + 24), cr4 = rd64(env, ENV_CR + 32);
    uint64_t efer = rd64(env, ENV_EFER);
    unsigned width = (hf & HF_CS64) ? 64 : (hf & HF_CS32) ? 32 : 16;
    if (paging_key_changed(e, cr0, cr3, cr4, efer) || width != e->width)
        e->gen += 2;
    e->cr0 = cr0, e->cr3 = cr3, e->cr4 = cr4, e->efer = efer, e->hflags = hf, e->width = width;
    e->cs_base = rd64(env, ENV_SEGS + VTX_S_CS * SEG_SZ + 8);
}

static bool save_absorb(vtx_engine *e)
{
    if (uc_context_save(e->uc, e->ctx) != UC_ERR_OK)
        return false;
    absorb(e);
    e->ctx_fresh = true;
    return true;
}

static uint64_t linear_of(const vtx_engine *e, uint64_t rip)
{
    if (e->width == 64)
        return rip;
    return (e->cs_base + rip) & 0xffffffffull;
}

/* ---- hooks ---- */

static void hook_code(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    vtx_engine *e = ud;
    (void)size;
    if (__builtin_expect(e->resync, 0)) {
        e->resync = false;
        save_absorb(e);
    }
    const vtx_insn *in = dc_lookup(e, addr);
    if (__builtin_expect((e->stop_bits >> in->cls) & 1, 0) && !e->skip_pending) {
        e->hstop = HS_BEFORE;
        e->stop_lin = addr;
        uc_emu_stop(uc);
        return;
    }
    e->skip_pending = false;
    if (e->budget && e->started == e->budget) {
        e->hstop = HS_COUNT;
        e->stop_lin = addr;
        uc_emu_stop(uc);
        return;
    }
    if (e->bfn && e->started) {
        uint64_t rip = e->width == 64 ? addr : ((addr - e->cs_base) & 0xffffffffull);
        if (e->bfn(e->bfn_user, rip, in)) {
            e->hstop = HS_BOUNDARY;
            e->stop_lin = addr;
            uc_emu_stop(uc);
            return;
        }
    }
    e->started++;
    e->last_lin = addr;
    e->last_valid = true;
    if (in->mode_change)
        e->resync = true;
}

void vtx_engine_set_boundary_fn(vtx_engine *e, vtx_engine_boundary_fn fn, void *user)
{
    if (!e)
        return;
    e->bfn = fn;
    e->bfn_user = user;
}

uint64_t vtx_engine_rflags(vtx_engine *e)
{
    uint64_t rf = 0;
    if (e && !e->broken)
        uc_reg_read(e->uc, UC_X86_REG_RFLAGS, &rf);
    return rf;
}

/* ---- fast path: block cache, block hook, probes ---- */

/* The host bytes of [lin, lin+size) when they are contiguous in one region. */
static const uint8_t *block_host(const vtx_engine *e, uint64_t lin, uint32_t size)
{
    uint64_t pa0, pa1, avail;
    if (!size || !lin_to_phys(e, lin, &pa0) || !lin_to_phys(e, lin + size - 1, &pa1) || pa1 - pa0 != size - 1)
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

static inline size_t bc_index(uint64_t lin) { return (lin ^ (lin >> 10) ^ (lin >> 20)) & (BC_SIZE - 1); }

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

/*
 * Have Unicorn drop all its translated code, when it has any: Unicorn 2.0.1's
 * first flush in an engine resets every region of QEMU's code buffer, which
 * costs about 120 ms and faults in about 1 GiB; later ones about 15 ms. An
 * engine that only ever runs one way (hooks set before its first run) never
 * pays it.
 */
static void drop_translations(vtx_engine *e)
{
    if (!e->translated)
        return;
    vtx_uc_flush_tb(e->uc); /* UC_CTL_TB_FLUSH: drops translated code (uc_compat.h) */
    e->translated = false;
    memset(e->evicted, 0, sizeof e->evicted);
    for (size_t i = 0; i < BC_SIZE; i++)
        e->victim[i].lin = UINT64_MAX;
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
static bool victim_stale(vtx_engine *e, uint64_t lin)
{
    __typeof__(e->victim[0]) *v = &e->victim[victim_index(lin)];
    if (v->lin != lin)
        return evicted_test(e, lin);
    v->lin = UINT64_MAX;
    const uint8_t *h = block_host(e, lin, v->size);
    return !h || memcmp(h, v->bytes, v->size) != 0 || evicted_test(e, lin);
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
        } else if (memcmp(b->host, b->bytes, size) == 0) {
            return b->usable ? b : NULL;
        }
    }
    if (b->lin == lin) {
        /* the same block address: its bytes as they were decoded still in memory? */
        const uint8_t *h = block_host(e, lin, b->size);
        *stale = !h || memcmp(h, b->bytes, b->size) != 0;
    } else {
        if (b->lin != UINT64_MAX)
            victim_keep(e, b);
        *stale = victim_stale(e, lin);
    }
    if (*stale && retranslated_in_run(e, lin))
        *stale = false;
    b->lin = UINT64_MAX;
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
    b->fast = size <= 16 && lin_to_phys(e, lin, &pa) && host_of(e, pa, &avail) == h && avail >= 16;
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
    while (pos < size) {
        if (n >= BC_MAX_INSNS || !blk_reserve(b, size, n + 1))
            return NULL;
        vtx_insn in;
        if (vtx_decode_bytes(b->bytes + pos, size - pos, e->width, lin + pos, &in) != 0 || !in.len ||
            pos + in.len > size) {
            /* Bytes Zydis cannot decode (the model's #UD): the block is known up
             * to before them; a run may go no further on the fast path. */
            b->off[n] = (uint16_t)pos;
            b->cls[n] = VTX_IC_UD;
            b->wmem[n] = 0;
            classes |= 1ull << VTX_IC_UD;
            b->bad_at = (uint16_t)n++;
            pos = size;
            break;
        }
        /* An instruction that may change the mode inside the block (WRMSR,
         * INVLPG...; those that change CS or the code width end QEMU's blocks):
         * QEMU runs the rest of the block as it translated it, in the block's
         * mode, which is how it is decoded here too. */
        b->off[n] = (uint16_t)pos;
        b->cls[n] = in.cls;
        b->wmem[n] = in.writes_mem;
        classes |= 1ull << in.cls;
        mc_last |= in.mode_change;
        pos += in.len;
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
    return b;
}

/* Index of the instruction boundary `lin` in block b (n for its end), or -1. */
static int blk_index(const blk_entry *b, uint64_t lin)
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

static bool probe_at(const vtx_engine *e, uint64_t lin)
{
    for (unsigned i = 0; i < e->nprobe; i++)
        if (e->probe[i].lin == lin)
            return true;
    return false;
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
 * Called by Unicorn before each translation block runs (before its exit
 * check, so a uc_emu_stop here stops with nothing of the block executed).
 * hook_block is the common case (a cached block, unchanged, nothing to stop
 * for, nothing pending), kept small: it runs once per block and is most of what
 * the fast path costs. Everything else is hook_block_slow.
 */
static __attribute__((noinline)) void hook_block_slow(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    vtx_engine *e = ud;
    bool stale;
    if (e->slow) {
        /* the per-instruction hook counts; the block hook only makes sure
         * Unicorn's translation is of the bytes in memory */
        if (e->hstop == HS_NONE && !e->unmapped && !blk_get(e, addr, size, &stale) && stale)
            retranslate_stop(e, uc, addr, size);
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
            size == (uint32_t)(p->off[j + 1] - p->off[j]))
            e->started = e->cur_before + (uint32_t)j;
    }
    e->cur = NULL;
    e->armed_on = false;
    if (e->resync) {
        e->resync = false;
        save_absorb(e);
    }
    blk_entry *b = blk_get(e, addr, size, &stale);
    if (!b) {
        if (stale)
            retranslate_stop(e, uc, addr, size);
        else
            fast_stop(e, uc, HS_SLOW, addr);
        return;
    }
    unsigned k = b->n;
    hook_stop kind = HS_NONE;
    if (b->classes & e->stop_bits) {
        unsigned i = (e->skip_pending && addr == e->start_lin) ? 1 : 0;
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
        if (!probe_at(e, x)) {
            e->want_probe = x;
            fast_stop(e, uc, HS_PROBE, addr);
            return;
        }
        e->armed_on = true;
        e->armed = x;
        e->armed_kind = kind;
    } else if (b->mc_last) {
        e->resync = true;
    }
    e->skip_pending = false;
    e->cur = b;
    e->cur_before = e->started;
    e->cur_count = k;
    e->started += k;
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    vtx_engine *e = ud;
    blk_entry *b = &e->bc[bc_index(addr)];
    const blk_entry *p = e->cur;
    if (__builtin_expect(!e->irregular && b->lin == addr && b->size == size && b->gen == e->gen && b->hot &&
                             !(b->classes & e->stop_bits) &&
                             (!e->budget || e->budget - e->started >= b->n) &&
                             !(p && p->wmem_early && size < p->size),
                         1)) {
        bool same;
        if (b->fast) {
            uint64_t x0, x1;
            memcpy(&x0, b->host, 8);
            memcpy(&x1, b->host + 8, 8);
            same = ((x0 ^ b->w[0]) & b->m[0]) == 0 && ((x1 ^ b->w[1]) & b->m[1]) == 0;
        } else {
            same = memcmp(b->host, b->bytes, size) == 0;
        }
        if (same) {
            e->armed_on = false;
            e->cur = b;
            e->cur_before = e->started;
            e->cur_count = b->n;
            e->started += b->n;
            return;
        }
    }
    hook_block_slow(uc, addr, size, ud);
}

/* A probe: a code hook bounded to one address, compiled into the blocks that
 * contain it; it stops there when the block hook armed it. */
static void hook_probe(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    vtx_engine *e = ud;
    (void)size;
    if (e->armed_on && addr == e->armed) {
        e->armed_on = false;
        if (e->unmapped) {
            uc_emu_stop(uc);
            return;
        }
        e->hstop = e->armed_kind;
        e->stop_lin = addr;
        uc_emu_stop(uc);
    }
}

/* Add a probe at lin (outside emulation) and drop the translated code that contains it. */
static bool add_probe(vtx_engine *e, uint64_t lin)
{
    unsigned i;
    if (e->nprobe < NPROBE) {
        i = e->nprobe++;
    } else {
        i = e->probe_next;
        e->probe_next = (e->probe_next + 1) % NPROBE;
        uc_hook_del(e->uc, e->probe[i].h);
    }
    e->probe[i].lin = UINT64_MAX;
    if (uc_hook_add(e->uc, &e->probe[i].h, UC_HOOK_CODE, (void *)hook_probe, e, lin, lin) != UC_ERR_OK) {
        e->probe[i] = e->probe[--e->nprobe];
        return false;
    }
    e->probe[i].lin = lin;
    return uc_ctl(e->uc, UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2), lin, lin + 1) == UC_ERR_OK;
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *ud)
{
    vtx_engine *e = ud;
    if (!e->exc) {
        e->exc = true;
        e->exc_vec = intno;
        e->exc_err = 0;
        e->exc_is_int = 0;
        if (uc_context_save(uc, e->ctx) == UC_ERR_OK) {
            const uint8_t *env = env_of(e);
            e->exc_err = rd32(env, e->off_dr + DR_ERROR_CODE);
            e->exc_is_int = (int32_t)rd32(env, e->off_dr + DR_IS_INT);
            e->exc_cr2 = rd64(env, ENV_CR + 16);
        }
    }
    uc_emu_stop(uc);
}

static bool hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *ud)
{
    vtx_engine *e = ud;
    (void)uc, (void)size, (void)value;
    if (!e->unmapped) {
        e->unmapped = true;
        e->unmapped_type = type;
        e->unmapped_addr = address;
    }
    return false;
}

/* ---- create / destroy ---- */
static const int gpr_ids[VTX_R_COUNT] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

/* Find and verify the CPUX86State offsets (see "Unicorn internals"). */
static bool probe_layout(vtx_engine *e)
{
    uc_engine *uc = e->uc;
    uint64_t v;
    for (int i = 0; i < VTX_R_COUNT; i++) {
        v = 0x5a17c0de00000000ull + (uint64_t)i * 0x1010101ull;
        if (uc_reg_write(uc, gpr_ids[i], &v) != UC_ERR_OK)
            return false;
    }
    v = 0x5a17c0de77770000ull;
    uc_reg_write(uc, UC_X86_REG_RIP, &v);
    for (int i = 0; i < 4; i++) {
        v = 0xd0d0c0de00000000ull + (uint64_t)i;
        uc_reg_write(uc, UC_X86_REG_DR0 + i, &v);
    }
    v = 0xf5f5c0de0000ull;
    uc_reg_write(uc, UC_X86_REG_FS_BASE, &v);
    v = 0x3c3c3000ull;
    uc_reg_write(uc, UC_X86_REG_CR3, &v);
    uc_x86_mmr g = {.base = 0x6d6dc0de000ull, .limit = 0x1237};
    uc_reg_write(uc, UC_X86_REG_GDTR, &g);
    uc_x86_mmr t = {.selector = 0x28, .base = 0x7a7ac0de000ull, .limit = 0x67, .flags = 0x8b00};
    uc_reg_write(uc, UC_X86_REG_TR, &t);
    if (uc_context_save(uc, e->ctx) != UC_ERR_OK)
        return false;
    size_t csize = uc_context_size(uc);
    const uint8_t *p = (const uint8_t *)e->ctx;
    e->hdr = SIZE_MAX;
    for (size_t off = 0; off + 8 <= 256 && off + 8 <= csize; off += 4)
        if (rd64(p, off) == 0x5a17c0de00000000ull) {
            e->hdr = off;
            break;
        }
    if (e->hdr == SIZE_MAX || csize < e->hdr + 2048)
        return false;
    const uint8_t *env = p + e->hdr;
    for (int i = 0; i < VTX_R_COUNT; i++)
        if (rd64(env, ENV_REGS + 8 * (size_t)i) != 0x5a17c0de00000000ull + (uint64_t)i * 0x1010101ull)
            return false;
    if (rd64(env, ENV_EIP) != 0x5a17c0de77770000ull || rd64(env, ENV_SEGS + 4 * SEG_SZ + 8) != 0xf5f5c0de0000ull ||
        rd64(env, ENV_CR + 24) != 0x3c3c3000ull || rd64(env, ENV_GDT + 8) != 0x6d6dc0de000ull ||
        rd32(env, ENV_GDT + 16) != 0x1237 || rd32(env, ENV_TR) != 0x28 || rd64(env, ENV_TR + 8) != 0x7a7ac0de000ull ||
        rd32(env, ENV_TR + 16) != 0x67 || rd32(env, ENV_TR + 20) != 0x8b00)
        return false;
    uint32_t hf = rd32(env, ENV_HFLAGS);
    if ((hf & (HF_LMA | HF_CS64 | HF_PE)) != (HF_LMA | HF_CS64 | HF_PE))
        return false;
    if ((rd64(env, ENV_EFER) & 0x500) != 0x500 || rd64(env, ENV_EFER) > 0xffff)
        return false;
    e->off_dr = 0;
    for (size_t off = ENV_EFER + 8; off + 32 <= csize - e->hdr; off += 8)
        if (rd64(env, off) == 0xd0d0c0de00000000ull && rd64(env, off + 8) == 0xd0d0c0de00000001ull &&
            rd64(env, off + 16) == 0xd0d0c0de00000002ull && rd64(env, off + 24) == 0xd0d0c0de00000003ull) {
            e->off_dr = off;
            break;
        }
    if (!e->off_dr || (int32_t)rd32(env, e->off_dr + DR_OLD_EXCEPTION) != -1)
        return false;
    v = 0;
    for (int i = 0; i < 4; i++)
        uc_reg_write(uc, UC_X86_REG_DR0 + i, &v);
    return true;
}

/*
 * Unicorn 2.0.1 calls abort() on some guest code while translating it: QEMU's
 * code generator fails ("tcg fatal error") on a far CALL or JMP with a register
 * operand (FF /3, FF /5 with mod = 3, which hardware rejects with #UD), found by
 * the guest fuzz target. Guest code must never take the caller's process down,
 * so the engine catches that abort: while a run is in Unicorn, SIGABRT jumps
 * back to vtx_engine_run, which goes on past the culprit (reopen_past) or, if
 * it cannot, reports the run as failed and the engine as broken. Outside runs
 * (and in other threads) the handler that was installed before gets the
 * signal. Installed once, at the first engine's creation.
 */
static _Thread_local sigjmp_buf *abort_guard;
static struct sigaction prev_abrt;
static pthread_once_t abort_guard_once = PTHREAD_ONCE_INIT;

static void on_abrt(int sig, siginfo_t *si, void *uctx)
{
    sigjmp_buf *jb = abort_guard;
    if (jb) {
        abort_guard = NULL;
        siglongjmp(*jb, 1);
    }
    if ((prev_abrt.sa_flags & SA_SIGINFO) && prev_abrt.sa_sigaction) {
        prev_abrt.sa_sigaction(sig, si, uctx);
    } else if (!(prev_abrt.sa_flags & SA_SIGINFO) && prev_abrt.sa_handler != SIG_DFL &&
               prev_abrt.sa_handler != SIG_IGN) {
        prev_abrt.sa_handler(sig);
    } else {
        signal(SIGABRT, SIG_DFL);
        raise(SIGABRT);
    }
}

static void install_abort_guard(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_abrt;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER; /* SIGABRT stays unblocked after the jump */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGABRT, &sa, &prev_abrt);
}

/* uc_emu_start under the abort guard; true if Unicorn aborted. */
static bool guarded_emu_start(vtx_engine *e, uint64_t rip, uc_err *err)
{
    sigjmp_buf jb;
    if (sigsetjmp(jb, 0)) {
        e->broken = true;
        return true;
    }
    abort_guard = &jb;
    *err = uc_emu_start(e->uc, rip, RUN_UNTIL, 0, 0);
    abort_guard = NULL;
    return false;
}

bool vtx_engine_broken(const vtx_engine *e) { return e && e->broken; }

bool vtx_engine_translates_paging(void) { return VTX_UC_21; }

const char *vtx_engine_unicorn_version(void) { return VTX_UC_VERSION_STRING; }

void vtx_engine_flush_tlb(vtx_engine *e)
{
    if (!e || e->broken)
        return;
    e->tlb_want = true;
}

/* A flush vtx_engine_flush_tlb asked for, at the start of a run. Without paging
 * every TLB entry is the identity with full rights (a change of CR0, CR3, CR4 or
 * EFER flushes at set_state). With paging the entries can only be stale where
 * the paging structures changed, which the paging check sees as a walk (its
 * cache compares every table); a transient change by the guest itself, undone
 * before the next VM entry, is not seen (docs/platforms.md). */
static void tlb_flush_wanted(vtx_engine *e)
{
    if (!e->tlb_want)
        return;
    e->tlb_want = false;
    if (!(e->cr0 & CR0_PG))
        return;
    if (e->idc.valid && e->idc_walks == e->idc_walks_at_flush)
        return;
    e->gen += 2; /* decoded bytes were found through the old translations */
    flush_tlb(e);
}

static bool is_exit(const vtx_engine *e, uint64_t lin)
{
    for (size_t i = 0; i < e->nexits; i++)
        if (e->exits[i] == lin)
            return true;
    return false;
}

/* Map the regions and add the engine's permanent hooks to a new Unicorn. */
static bool uc_setup(vtx_engine *e)
{
    if (uc_ctl_exits_enable(e->uc) != UC_ERR_OK)
        return false;
    for (size_t i = 0; i < e->nreg; i++)
        if (uc_mem_map_ptr(e->uc, e->reg[i].pa, e->reg[i].size, UC_PROT_ALL, e->reg[i].host) != UC_ERR_OK)
            return false;
    return uc_hook_add(e->uc, &e->h_intr, UC_HOOK_INTR, (void *)hook_intr, e, 1, 0) == UC_ERR_OK &&
           uc_hook_add(e->uc, &e->h_unmapped, UC_HOOK_MEM_UNMAPPED, (void *)hook_unmapped, e, 1, 0) == UC_ERR_OK;
}

/*
 * After Unicorn aborted translating the block at `lin`: find the first
 * instruction from there the decoder rejects (at most 64 on; if it is not the
 * culprit, the abort comes again and the engine stays broken), and go on in a
 * new Unicorn with the same CPU state (the abort came before the block ran, so
 * the old one's state is intact) that stops before that instruction instead of
 * translating it: its address goes on Unicorn's exit list, and a run that gets
 * there ends as a stop before an undecodable instruction (the model's #UD).
 * False when no such instruction is found or Unicorn cannot be set up again
 * (the engine then stays broken).
 */
static bool reopen_past(vtx_engine *e, uint64_t lin)
{
    uint64_t bad = UINT64_MAX;
    for (unsigned i = 0, pos = 0; i < 64 && bad == UINT64_MAX; i++) {
        uint8_t buf[15];
        const uint8_t *host;
        size_t n = lin_read(e, lin + pos, buf, sizeof buf, &host);
        vtx_insn in;
        if (!n)
            return false;
        if (vtx_decode_bytes(buf, n, e->width, lin + pos, &in) != 0) {
            bad = lin + pos;
            break;
        }
        pos += in.len;
    }
    if (bad == UINT64_MAX || is_exit(e, bad) || e->nexits == sizeof e->exits / sizeof e->exits[0])
        return false;
    if (uc_context_save(e->uc, e->ctx) != UC_ERR_OK)
        return false;
    uc_close(e->uc);
    e->uc = NULL;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &e->uc) != UC_ERR_OK) {
        e->uc = NULL;
        return false;
    }
    if (!vtx_uc_after_open(e->uc))
        return false;
    e->code_on = e->block_on = false;
    e->nprobe = e->probe_next = 0;
    e->armed_on = false;
    e->translated = false;
    memset(e->evicted, 0, sizeof e->evicted);
    for (size_t i = 0; i < BC_SIZE; i++)
        e->victim[i].lin = UINT64_MAX;
    e->exits[e->nexits++] = bad;
    if (!uc_setup(e) || uc_ctl_set_exits(e->uc, e->exits, e->nexits) != UC_ERR_OK ||
        uc_context_restore(e->uc, e->ctx) != UC_ERR_OK)
        return false;
    e->broken = false;
    return true;
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
    pthread_once(&abort_guard_once, install_abort_guard);
    vtx_engine *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->reg = n ? calloc(n, sizeof *e->reg) : NULL;
    e->dc = calloc(DC_SIZE, sizeof *e->dc);
    e->dummy = aligned_alloc(4096, 4096);
    if ((n && !e->reg) || !e->dc || !e->dummy)
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
    if (!probe_layout(e))
        goto fail;
    /* Runs end only through the hooks (uc_emu_stop), HLT or a fault: with an
     * empty exit set Unicorn neither stops at `until` nor, after every run, looks
     * the `until` address up through the guest's paging (uc_exit_invalidate_iter
     * in softmmu/cpus.c), a walk that costs time and, where the guest's tables
     * do not map that address, leaves a #PF in QEMU's fault history that would
     * turn the guest's next exception into #DF. */
    if (!uc_setup(e))
        goto fail;
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
    e->cr0 = ~0ull; /* force the first flush */
    if (vtx_engine_set_state(e, &s, NULL) != 0)
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
    free(e->dc);
    free(e->reg);
    free(e);
}

/* ---- state ---- */
static uint32_t compute_hflags(const vtx_cpu_state *s, uint32_t old)
{
    uint32_t hf = old & HF_KEEP;
    uint32_t csf = ar_to_flags(s->seg[VTX_S_CS].ar), ssf = ar_to_flags(s->seg[VTX_S_SS].ar);
    hf |= vtx_cpu_cpl(s) & HF_CPL_MASK;
    if (s->cr0 & CR0_PE)
        hf |= HF_PE;
    hf |= (uint32_t)((s->cr0 >> 1) & 7) << HF_MP_SHIFT;
    if (s->efer & EFER_LMA)
        hf |= HF_LMA;
    if ((s->efer & EFER_LMA) && (csf & DESC_L))
        hf |= HF_CS32 | HF_CS64;
    else if (csf & DESC_B)
        hf |= HF_CS32;
    if (ssf & DESC_B)
        hf |= HF_SS32;
    if (!(hf & HF_CS64)) {
        if (!(s->cr0 & CR0_PE) || (s->rflags & RFLAGS_VM) || !(hf & HF_CS32))
            hf |= HF_ADDSEG;
        else if (s->seg[VTX_S_DS].base | s->seg[VTX_S_ES].base | s->seg[VTX_S_SS].base)
            hf |= HF_ADDSEG;
    }
    if (s->cr4 & CR4_OSFXSR)
        hf |= HF_OSFXSR;
    if (s->cr4 & CR4_SMAP)
        hf |= HF_SMAP;
    return hf;
}

static void put_seg(uint8_t *env, size_t off, const vtx_cpu_seg *sg)
{
    wr32(env, off, sg->sel);
    wr64(env, off + 8, sg->base);
    wr32(env, off + 16, sg->limit);
    wr32(env, off + 20, ar_to_flags(sg->ar));
}

static void get_seg(const vtx_engine *e, const uint8_t *env, size_t off, int i, vtx_cpu_seg *sg)
{
    uint32_t f = rd32(env, off + 20);
    sg->sel = (uint16_t)rd32(env, off);
    sg->base = rd64(env, off + 8);
    sg->limit = rd32(env, off + 16);
    sg->ar = f == e->seg_flags_set[i] ? e->seg_ar_set[i] : flags_to_ar(f);
}

/* a and b differ at most in the GPRs, RIP, RFLAGS (not in RFLAGS.VM, which is
 * part of the mode) and CR8 (kept by the engine, not by Unicorn). */
static bool only_regs_differ(const vtx_cpu_state *a, const vtx_cpu_state *b)
{
    if (((a->rflags ^ b->rflags) & RFLAGS_VM) || a->cr0 != b->cr0 || a->cr2 != b->cr2 || a->cr3 != b->cr3 ||
        a->cr4 != b->cr4 || a->efer != b->efer || a->dr7 != b->dr7 || a->dr6 != b->dr6 || memcmp(a->dr, b->dr, sizeof a->dr) || a->gdtr_base != b->gdtr_base ||
        a->idtr_base != b->idtr_base || a->gdtr_limit != b->gdtr_limit || a->idtr_limit != b->idtr_limit)
        return false;
    for (int i = 0; i < VTX_S_COUNT; i++)
        if (a->seg[i].sel != b->seg[i].sel || a->seg[i].base != b->seg[i].base ||
            a->seg[i].limit != b->seg[i].limit || a->seg[i].ar != b->seg[i].ar)
            return false;
    return true;
}

int vtx_engine_set_state(vtx_engine *e, const vtx_cpu_state *s, const char **why)
{
    const char *w = NULL;
    if (!e || !s)
        w = "no engine or state";
    else if (e->broken)
        w = "the engine is broken (Unicorn aborted in an earlier run)";
    else if ((s->efer & EFER_LMA) && (!(s->cr0 & CR0_PE) || ((s->cr0 & CR0_PG) && !(s->cr4 & CR4_PAE))))
        w = "EFER.LMA=1 needs CR0.PE=1, and CR4.PAE=1 when CR0.PG=1";
    else if ((s->efer & EFER_LMA) && (s->rflags & RFLAGS_VM))
        w = "RFLAGS.VM=1 in IA-32e mode";
    else if (vtx_cpu_mode_of(s) == VTX_MODE_LONG64 && s->seg[VTX_S_CS].base)
        w = "CS.base != 0 in 64-bit mode: QEMU adds CS.base to RIP in every mode";
    else if (vtx_cpu_mode_of(s) != VTX_MODE_LONG64 && (s->rip >> 32))
        w = "RIP bits 63:32 set outside 64-bit mode";
    else
        w = check_identity_paging(e, s);
    if (w) {
        if (why)
            *why = w;
        return -1;
    }
    if (e->held_valid && only_regs_differ(&e->held, s)) {
        /* A VM entry after an exit with RIP (and perhaps GPRs or RFLAGS) changed:
         * no context copies (see `held`). */
        for (int i = 0; i < VTX_R_COUNT; i++)
            if (s->gpr[i] != e->held.gpr[i] && uc_reg_write(e->uc, gpr_ids[i], &s->gpr[i]) != UC_ERR_OK)
                goto write_failed;
        if (s->rip != e->held.rip && uc_reg_write(e->uc, UC_X86_REG_RIP, &s->rip) != UC_ERR_OK)
            goto write_failed;
        if (s->rflags != e->held.rflags && uc_reg_write(e->uc, UC_X86_REG_RFLAGS, &s->rflags) != UC_ERR_OK)
            goto write_failed;
        e->cr8 = s->cr8;
        e->held = *s;
        e->ctx_fresh = false;
        return 0;
    write_failed:
        e->held_valid = false; /* the full load below writes everything */
    }
    if (uc_context_save(e->uc, e->ctx) != UC_ERR_OK) {
        if (why)
            *why = "uc_context_save failed";
        return -1;
    }
    uint8_t *env = env_of(e);
    for (int i = 0; i < VTX_R_COUNT; i++)
        wr64(env, ENV_REGS + 8 * (size_t)i, s->gpr[i]);
    wr64(env, ENV_EIP, s->rip);
    wr32(env, ENV_HFLAGS, compute_hflags(s, rd32(env, ENV_HFLAGS)));
    for (int i = 0; i < 6; i++) {
        put_seg(env, ENV_SEGS + (size_t)i * SEG_SZ, &s->seg[i]);
        e->seg_flags_set[i] = ar_to_flags(s->seg[i].ar);
        e->seg_ar_set[i] = s->seg[i].ar;
    }
    put_seg(env, ENV_LDT, &s->seg[VTX_S_LDTR]);
    put_seg(env, ENV_TR, &s->seg[VTX_S_TR]);
    for (int i = VTX_S_LDTR; i <= VTX_S_TR; i++) {
        e->seg_flags_set[i] = ar_to_flags(s->seg[i].ar);
        e->seg_ar_set[i] = s->seg[i].ar;
    }
    wr64(env, ENV_GDT + 8, s->gdtr_base);
    wr32(env, ENV_GDT + 16, s->gdtr_limit);
    wr64(env, ENV_IDT + 8, s->idtr_base);
    wr32(env, ENV_IDT + 16, s->idtr_limit);
    wr64(env, ENV_CR, s->cr0);
    wr64(env, ENV_CR + 16, s->cr2);
    wr64(env, ENV_CR + 24, s->cr3);
    wr64(env, ENV_CR + 32, s->cr4);
    wr64(env, ENV_EFER, s->efer);
    wr64(env, e->off_dr + 7 * 8, s->dr7);
    wr64(env, e->off_dr + 6 * 8, s->dr6);
    for (int i = 0; i < 4; i++) /* written here, never through MOV DR: no breakpoint gets armed */
        wr64(env, e->off_dr + (size_t)i * 8, s->dr[i]);
    wr32(env, e->off_dr + DR_OLD_EXCEPTION, (uint32_t)-1);
    uint64_t rf = s->rflags;
    if (uc_context_restore(e->uc, e->ctx) != UC_ERR_OK || uc_reg_write(e->uc, UC_X86_REG_RFLAGS, &rf) != UC_ERR_OK) {
        if (why)
            *why = "uc_context_restore failed";
        return -1;
    }
    bool flush = paging_key_changed(e, s->cr0, s->cr3, s->cr4, s->efer) != 0;
    e->cr8 = s->cr8;
    /* e->ctx is what Unicorn now holds but for RFLAGS (written through the API,
     * which absorb does not read): no second save. */
    absorb(e);
    e->ctx_fresh = false;
    e->held = *s;
    e->held_valid = true;
    if (flush) {
        flush_tlb(e);
        e->gen += 2;
    }
    return 0;
}

int vtx_engine_get_state(vtx_engine *e, vtx_cpu_state *s)
{
    if (!e || !s || e->broken)
        return -1;
    uint64_t rf = 0;
    if (!e->ctx_fresh && !save_absorb(e))
        return -1;
    if (uc_reg_read(e->uc, UC_X86_REG_RFLAGS, &rf) != UC_ERR_OK)
        return -1;
    const uint8_t *env = env_of(e);
    memset(s, 0, sizeof *s);
    for (int i = 0; i < VTX_R_COUNT; i++)
        s->gpr[i] = rd64(env, ENV_REGS + 8 * (size_t)i);
    s->rip = rd64(env, ENV_EIP);
    s->rflags = rf;
    for (int i = 0; i < 6; i++)
        get_seg(e, env, ENV_SEGS + (size_t)i * SEG_SZ, i, &s->seg[i]);
    get_seg(e, env, ENV_LDT, VTX_S_LDTR, &s->seg[VTX_S_LDTR]);
    get_seg(e, env, ENV_TR, VTX_S_TR, &s->seg[VTX_S_TR]);
    s->gdtr_base = rd64(env, ENV_GDT + 8);
    s->gdtr_limit = rd32(env, ENV_GDT + 16);
    s->idtr_base = rd64(env, ENV_IDT + 8);
    s->idtr_limit = rd32(env, ENV_IDT + 16);
    s->cr0 = rd64(env, ENV_CR);
    s->cr2 = rd64(env, ENV_CR + 16);
    s->cr3 = rd64(env, ENV_CR + 24);
    s->cr4 = rd64(env, ENV_CR + 32);
    s->cr8 = e->cr8;
    s->efer = rd64(env, ENV_EFER);
    s->dr7 = rd64(env, e->off_dr + 7 * 8);
    s->dr6 = rd64(env, e->off_dr + 6 * 8);
    for (int i = 0; i < 4; i++)
        s->dr[i] = rd64(env, e->off_dr + (size_t)i * 8);
    e->held = *s;
    e->held_valid = true;
    return 0;
}

void vtx_engine_invalidate(vtx_engine *e)
{
    if (!e || e->broken)
        return;
    e->gen += 2;
    drop_translations(e);
    flush_tlb(e);
}

int vtx_engine_decode(vtx_engine *e, uint64_t rip, const vtx_insn **out)
{
    if (!e || !out)
        return -1;
    dc_entry *d = dc_slot(e, rip);
    if (d->lin == rip && d->gen == e->gen && dc_valid(d)) {
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
static bool set_code_hook(vtx_engine *e, bool on)
{
    if (on == e->code_on)
        return true;
    if (on) {
        if (uc_hook_add(e->uc, &e->h_code, UC_HOOK_CODE, (void *)hook_code, e, 1, 0) != UC_ERR_OK)
            return false;
    } else {
        uc_hook_del(e->uc, e->h_code);
    }
    e->code_on = on;
    drop_translations(e); /* the hook is compiled into translated blocks */
    return true;
}

static bool set_block_hook(vtx_engine *e, bool on)
{
    if (on == e->block_on)
        return true;
    if (on) {
        if (uc_hook_add(e->uc, &e->h_block, UC_HOOK_BLOCK, (void *)hook_block, e, 1, 0) != UC_ERR_OK)
            return false;
    } else {
        uc_hook_del(e->uc, e->h_block);
    }
    e->block_on = on;
    drop_translations(e); /* compiled into translated blocks, like the code hook */
    return true;
}

/* Fast-path bookkeeping after a stop that was not the block hook's or a probe's
 * own: put `started` and `last_lin` where the per-instruction hook would have
 * left them, from where RIP (lin) is in the block entered last. A fault leaves
 * RIP on the faulting instruction (counted when it started, as in the slow
 * path); a trap, HLT or ICEBP after the instruction (or, for a trap at the
 * block's first instruction, after a branch back to it from the last). */
static void fast_fixup(vtx_engine *e, uint64_t lin, bool fault)
{
    blk_entry *b = e->cur;
    e->last_valid = false;
    if (!b)
        return;
    int j = blk_index(b, lin);
    if (j < 0 || (uint32_t)j > e->cur_count) /* elsewhere: the whole counted part ran */
        j = -1;
    if (fault && j >= 0 && (uint32_t)j < e->cur_count) {
        e->started = e->cur_before + (uint32_t)j + 1;
        e->last_lin = b->lin + b->off[j];
        e->last_valid = true;
        return;
    }
    if (fault) {
        /* the fault is on the next block's first instruction (its fetch): the
         * counted part ran, and the faulting instruction counts as started */
        e->started = e->cur_before + e->cur_count + 1;
        return;
    }
    if (j == 0)
        j = -1;
    uint32_t done = j < 0 ? e->cur_count : (uint32_t)j;
    e->started = e->cur_before + done;
    if (done) {
        e->last_lin = b->lin + b->off[done - 1];
        e->last_valid = true;
    }
}

static void clear_fault_history(vtx_engine *e)
{
    /* e->ctx holds the current state (saved after the run). */
    wr32(env_of(e), e->off_dr + DR_OLD_EXCEPTION, (uint32_t)-1);
    uc_context_restore(e->uc, e->ctx);
}

static void stop_insn_at(vtx_engine *e, uint64_t lin, vtx_stop *stop)
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

int vtx_engine_run(vtx_engine *e, uint64_t max_insns, vtx_class_set stop_before, bool skip_first, vtx_stop *stop)
{
    if (!e || !stop)
        return -1;
    memset(stop, 0, sizeof *stop);
    if (e->broken) {
        stop->reason = VTX_STOP_ERROR;
        stop->why = "the engine is broken (Unicorn aborted in an earlier run)";
        return 0;
    }
    tlb_flush_wanted(e);
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
    e->stop_bits = stop_before.bits;
    e->skip_pending = skip_first;
    e->budget = max_insns;
    e->started = 0;
    e->hstop = HS_NONE;
    e->resync = false;
    e->exc = false;
    e->unmapped = false;
    e->last_valid = false;
    e->cur = NULL;
    e->armed_on = false;
    e->blk_stop = false;
    e->nretrans = 0;
    uint64_t rip = 0;
    uc_reg_read(e->uc, UC_X86_REG_RIP, &rip);
    uint64_t start_lin = linear_of(e, rip);
    e->start_lin = start_lin;
    uc_err err;
    for (;;) {
        e->blk_stop = false;
        e->ctx_fresh = false;
        e->held_valid = false;
        e->translated = true;
        if (guarded_emu_start(e, rip, &err)) {
            /* the abort came translating the block at RIP (Unicorn's, which is
             * intact): go on past it if the culprit can be found */
            uint64_t at = 0;
            uc_reg_read(e->uc, UC_X86_REG_RIP, &at);
            if (reopen_past(e, linear_of(e, at)) && set_code_hook(e, e->slow) && set_block_hook(e, hooked)) {
                rip = at;
                continue;
            }
            e->broken = true;
            stop->reason = VTX_STOP_ERROR;
            stop->why = "Unicorn 2.0.1 aborted while translating the guest code (for instance a far CALL or "
                        "JMP with a register operand, FF /3 or FF /5, which is #UD on hardware); the engine "
                        "cannot run this code";
            return 0;
        }
        if (e->blk_stop && !e->exc) {
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
            ok = add_probe(e, e->want_probe);
        } else {
            ok = set_code_hook(e, true);
            e->slow = ok;
        }
        if (!ok) {
            if (!save_absorb(e)) {
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
    if (!save_absorb(e)) {
        stop->reason = VTX_STOP_ERROR;
        stop->why = "uc_context_save failed";
        return 0;
    }
    uc_reg_read(e->uc, UC_X86_REG_RIP, &rip);
    uint64_t lin = linear_of(e, rip);
    if (hooked && !e->slow && e->hstop == HS_NONE) {
        /* Stopped by something else than the hooks' own stops: count by position. */
        bool fault = (e->exc && !(e->exc_is_int != 0 || e->exc_vec == 1)) || (!e->exc && err == UC_ERR_INSN_INVALID);
        bool icebp = false;
        uint8_t b0 = 0;
        const uint8_t *hp;
        if (!e->exc && err == UC_ERR_OK && lin_read(e, lin, &b0, 1, &hp) == 1 && b0 == 0xf1)
            icebp = true;
        if (icebp) {
            fast_fixup(e, lin, false);
            int j = e->cur ? blk_index(e->cur, lin) : -1;
            if (j >= 0 && (uint32_t)j < e->cur_count)
                e->started = e->cur_before + (uint32_t)j;
        } else {
            fast_fixup(e, lin, fault);
        }
        if (e->unmapped || err == UC_ERR_READ_UNMAPPED || err == UC_ERR_WRITE_UNMAPPED || err == UC_ERR_FETCH_UNMAPPED)
            e->last_valid = false; /* Unicorn ran on to the end of the block: RIP stays where it stopped */
    }
    stop->counted = hooked;
    stop->retired = hooked ? e->started : 0;

    if (e->hstop == HS_BEFORE || e->hstop == HS_COUNT || e->hstop == HS_BOUNDARY) {
        stop->reason = e->hstop == HS_BEFORE ? VTX_STOP_BEFORE : e->hstop == HS_COUNT ? VTX_STOP_COUNT
                                                                                       : VTX_STOP_BOUNDARY;
        if (e->hstop != HS_COUNT)
            stop_insn_at(e, e->stop_lin, stop);
        return 0;
    }
    if (e->exc) {
        stop->reason = VTX_STOP_EXCEPTION;
        stop->vector = (uint8_t)e->exc_vec;
        stop->trap = e->exc_is_int != 0 || e->exc_vec == 1;
        stop->has_error_code = !stop->trap && has_error_code(e->exc_vec);
        stop->error_code = stop->has_error_code ? e->exc_err : 0;
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
            stop_insn_at(e, e->last_lin, stop);
        else if (!stop->trap)
            stop_insn_at(e, lin, stop);
        clear_fault_history(e);
        return 0;
    }
    if (err == UC_ERR_INSN_INVALID) {
        stop->reason = VTX_STOP_EXCEPTION;
        stop->vector = 6;
        if (hooked && stop->retired)
            stop->retired--;
        stop_insn_at(e, lin, stop);
        clear_fault_history(e);
        return 0;
    }
    if (e->unmapped || err == UC_ERR_READ_UNMAPPED || err == UC_ERR_WRITE_UNMAPPED ||
        err == UC_ERR_FETCH_UNMAPPED) {
        stop->reason = VTX_STOP_UNMAPPED;
        stop->address = e->unmapped ? e->unmapped_addr : lin;
        bool fetch = e->unmapped ? e->unmapped_type == UC_MEM_FETCH_UNMAPPED : err == UC_ERR_FETCH_UNMAPPED;
        if (hooked && !fetch && e->last_valid) {
            /* Unicorn lets the access complete (reads 0, drops writes) and
             * stops at the next hook: put RIP back on the instruction. */
            if (stop->retired)
                stop->retired--;
            stop_insn_at(e, e->last_lin, stop);
            rip = e->width == 64 ? e->last_lin : ((e->last_lin - e->cs_base) & 0xffffffffull);
            uc_reg_write(e->uc, UC_X86_REG_RIP, &rip);
            if (!save_absorb(e)) {
                stop->reason = VTX_STOP_ERROR;
                stop->why = "uc_context_save failed";
                return 0;
            }
        }
        clear_fault_history(e);
        return 0;
    }
    if (err != UC_ERR_OK) {
        stop->reason = VTX_STOP_ERROR;
        stop->why = uc_strerror(err);
        clear_fault_history(e);
        return 0;
    }
    /* Unicorn ended quietly: at an address on its exit list (reopen_past), or
     * after HLT (it is not hookable). */
    if (is_exit(e, lin)) {
        stop->reason = VTX_STOP_BEFORE;
        stop_insn_at(e, lin, stop);
        return 0;
    }
    uint8_t b = 0;
    const uint8_t *host;
    if (lin != start_lin || stop->retired) {
        if (lin_read(e, lin - 1, &b, 1, &host) == 1 && b == 0xf4) {
            stop->reason = VTX_STOP_HLT;
            stop_insn_at(e, lin - 1, stop);
            return 0;
        }
    }
    if (lin_read(e, lin, &b, 1, &host) == 1 && b == 0xf1) {
        /* ICEBP: QEMU raises its internal debug exit, not vector 1. */
        stop->reason = VTX_STOP_EXCEPTION;
        stop->vector = 1;
        stop->trap = true;
        stop_insn_at(e, lin, stop);
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
