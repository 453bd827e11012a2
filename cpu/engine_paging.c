/*
 * engine: the guest's paging as the engine sees it: linear -> physical (the
 * walk, and what Unicorn 2.0.1 does with it), the identity-paging check with
 * its cache of the tables it read, reads at linear addresses, and the TLB
 * flushes. See docs/architecture.md ("Speed", "Identity paging").
 */
#include "engine_internal.h"

/* Linear -> guest-physical through the guest's paging (no permission checks:
 * Unicorn has already fetched what the engine decodes). */
static bool walk_paging(const vtx_engine *e, uint64_t lin, uint64_t *pa)
{
    if (!(e->cr0 & VTX_CR0_PG)) {
        *pa = (e->efer & VTX_EFER_LMA) ? lin : (lin & 0xffffffffull);
        return true;
    }
    const uint64_t amask = 0x000ffffffffff000ull;
    if (e->efer & VTX_EFER_LMA) {
        uint64_t t = e->cr3 & amask, ent;
        for (int level = 3; level >= 0; level--) {
            unsigned idx = (unsigned)(lin >> (12 + 9 * level)) & 511;
            if (!vtx_eng_gphys_read(e, t + idx * 8ull, &ent, 8) || !(ent & 1))
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
    if (e->cr4 & VTX_CR4_PAE) {
        uint64_t ent, regs[4];
        if (e->xl_on && e->xl.pdptes && e->xl.pdptes(e->xl.ctx, e->cr3, regs))
            ent = regs[(lin >> 30) & 3]; /* the PDPTE registers the second stage's owner holds */
        else if (!vtx_eng_gphys_read(e, (e->cr3 & 0xffffffe0ull) + ((lin >> 30) & 3) * 8, &ent, 8))
            return false;
        if (!(ent & 1))
            return false;
        if (!vtx_eng_gphys_read(e, (ent & amask) + ((lin >> 21) & 511) * 8, &ent, 8) || !(ent & 1))
            return false;
        if (ent & 0x80) {
            *pa = (ent & amask & ~0x1fffffull) | (lin & 0x1fffff);
            return true;
        }
        if (!vtx_eng_gphys_read(e, (ent & amask) + ((lin >> 12) & 511) * 8, &ent, 8) || !(ent & 1))
            return false;
        *pa = (ent & amask) | (lin & 0xfff);
        return true;
    }
    uint32_t ent;
    if (!vtx_eng_gphys_read(e, (e->cr3 & 0xfffff000ull) + ((lin >> 22) & 1023) * 4, &ent, 4) || !(ent & 1))
        return false;
    if ((ent & 0x80) && (e->cr4 & VTX_CR4_PSE)) {
        *pa = ((uint64_t)(ent & 0xffc00000u) | ((uint64_t)(ent >> 13) & 0xff) << 32) | (lin & 0x3fffff);
        return true;
    }
    if (!vtx_eng_gphys_read(e, (ent & 0xfffff000u) + ((lin >> 12) & 1023) * 4, &ent, 4) || !(ent & 1))
        return false;
    *pa = (ent & 0xfffff000u) | (lin & 0xfff);
    return true;
}

/* What Unicorn 2.0.1 does: the page walk decides presence (#PF), then the
 * access goes to physical address == linear address (excp_helper.c:
 * "Unicorn: identity map guest virtual address"). set_state refuses page
 * tables that map anything elsewhere, so this equals walk_paging there. */
static bool lin_to_phys_now(const vtx_engine *e, uint64_t lin, uint64_t *pa)
{
    uint64_t walked;
    if (!walk_paging(e, lin, &walked))
        return false;
#if VTX_UC_21
    *pa = walked; /* Unicorn 2.1 translates through the guest's tables */
    if (e->xl_on)
        return vtx_eng_gpa_to_hpa(e, walked, pa); /* and then the second stage (engine_xlate.c) */
#else
    *pa = (e->cr0 & VTX_CR0_PG) ? ((e->efer & VTX_EFER_LMA) ? lin : (lin & 0xffffffffull)) : walked;
#endif
    return true;
}

/*
 * PG-10: the engine reads instruction bytes Unicorn has fetched, through the
 * translation Unicorn's TLB held for them. A guest that writes its own
 * paging-structure entries without invalidating (INVLPG, MOV to CR3) may go on
 * fetching through the translation cached before (SDM Vol. 3, "Invalidation of
 * TLBs and Paging-Structure Caches": software must invalidate; until then the
 * processor may use the old translation), and Unicorn does, from its TLB. So a
 * walk that now fails (an entry made not present, or pointing outside memory
 * by reserved bits set) falls back to the translation an earlier read of the
 * page found while Unicorn's TLB was not flushed since (e->gen unchanged:
 * every flush moves it on, vtx_eng_flush_tlb); else the bytes would be unreadable, and the
 * instruction the model's #UD. Only a failing walk falls back: a walk that
 * succeeds is what Unicorn finds again after any flush the engine does not
 * count (a page mapped inside a run, ENG-NC-2).
 */
bool vtx_eng_lin_to_phys(const vtx_engine *e, uint64_t lin, uint64_t *pa)
{
    struct code_xlat *x = e->cx ? &e->cx[(lin >> 12) & (CODE_XLAT - 1)] : NULL;
    const uint64_t page = lin & ~0xfffull;
    if (lin_to_phys_now(e, lin, pa)) {
        if (x) {
            x->page = page;
            x->pa = *pa & ~0xfffull;
            x->gen = e->gen;
        }
        return true;
    }
    if (x && x->page == page && x->gen == e->gen) {
        *pa = x->pa | (lin & 0xfff);
        return true;
    }
    return false;
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
        if (!eq_bytes(e->idc.t[i].host, e->idc.t[i].copy, e->idc.t[i].len))
            return false;
    return true;
}

/*
 * PG-9: with tlb_kept (the caller's cached translations survive this load: a
 * VM entry with VPID on and nothing to invalidate) the cached verdict for the
 * same CR3 and paging mode is trusted without comparing the tables, unless a
 * flush or a verification was asked for since: tables rewritten through the
 * caller's host pointers are seen where the translations are invalidated
 * (vtx_eng_paging_verify), as on the processor, whose TLB may keep the old
 * translations until then. On Unicorn 2.0.1 the identity check (PG-1) of such
 * a rewrite is made there too.
 */
const char *vtx_eng_check_identity_paging(vtx_engine *e, const vtx_cpu_state *s, bool tlb_kept)
{
    if (!(s->cr0 & VTX_CR0_PG))
        return NULL;
    const uint64_t key[4] = {s->cr3, s->cr4 & (VTX_CR4_PAE | VTX_CR4_PSE), s->efer & VTX_EFER_LMA, 1};
    if (tlb_kept && !e->tlb_want && !e->verify_want && e->idc.valid &&
        memcmp(key, e->idc.key, sizeof e->idc.key) == 0) {
        e->idc_unverified = true;
        return NULL;
    }
    e->idc_unverified = false;
    e->verify_want = false;
    if (id_cache_hit(e, key))
        return NULL;
    idwalk w = {e, 0, NULL, true};
    e->idc_walks++;
    e->idc.valid = false;
    e->idc.n = 0;
    if (s->efer & VTX_EFER_LMA) {
        id_table(&w, s->cr3 & 0x000ffffffffff000ull, 3, 8, 9, 0, 512, true, true);
    } else if (s->cr4 & VTX_CR4_PAE) {
        uint64_t avail = 0;
        const uint8_t *pdpt = host_of(e, s->cr3 & 0xffffffe0ull, &avail);
        id_record(&w, pdpt && avail >= 32 ? pdpt : NULL, 32);
        for (unsigned i = 0; i < 4 && !w.why; i++) {
            uint64_t pdpte = 0;
            if (phys_read(e, (s->cr3 & 0xffffffe0ull) + i * 8, &pdpte, 8) && (pdpte & 1))
                id_table(&w, pdpte & 0x000ffffffffff000ull, 1, 8, 9, (uint64_t)i << 30, 512, false, true);
        }
    } else {
        id_table(&w, s->cr3 & 0xfffff000ull, 1, 4, 10, 0, 1024, false, (s->cr4 & VTX_CR4_PSE) != 0);
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
size_t vtx_eng_lin_read(const vtx_engine *e, uint64_t lin, uint8_t *buf, size_t len, const uint8_t **host)
{
    size_t got = 0;
    *host = NULL;
    while (got < len) {
        uint64_t pa, avail;
        if (!vtx_eng_lin_to_phys(e, lin + got, &pa))
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

/* ---- synchronisation with Unicorn ---- */
uint64_t vtx_eng_paging_key_changed(const vtx_engine *e, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
    return ((cr0 ^ e->cr0) & (VTX_CR0_PG | VTX_CR0_WP | VTX_CR0_PE)) | (cr3 ^ e->cr3) | ((cr4 ^ e->cr4) & ~0x3ull) |
           ((efer ^ e->efer) & (VTX_EFER_LMA | VTX_EFER_NXE));
}

void vtx_eng_flush_tlb(vtx_engine *e)
{
    e->tlb_want = false;
    e->gen += 2; /* decoded bytes were found through the old translations (and PG-10's are gone) */
    e->again.on = false; /* the next fetch walks the tables again */
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


void vtx_engine_flush_tlb(vtx_engine *e)
{
    if (!e || e->broken)
        return;
    e->tlb_want = true;
}

void vtx_engine_refetch(vtx_engine *e)
{
    if (!e || e->broken)
        return;
    vtx_eng_flush_tlb(e);
}

void vtx_engine_verify_paging(vtx_engine *e)
{
    if (!e || e->broken)
        return;
    e->verify_want = true;
}

/* PG-9: at a run's start, where translations are invalidated (a flush or a
 * verification asked for) after loads that trusted the cached paging verdict,
 * the tables are compared now (and walked if they changed; on Unicorn 2.0.1 a
 * non-identity mapping is refused here). Returns NULL or why the run cannot go
 * on. */
const char *vtx_eng_paging_verify(vtx_engine *e)
{
    if (!e->idc_unverified || !(e->tlb_want || e->verify_want)) {
        e->verify_want = false;
        return NULL;
    }
    if (!e->ctx_fresh && !vtx_eng_save_absorb(e))
        return "Unicorn's state could not be read";
    vtx_cpu_state s;
    memset(&s, 0, sizeof s);
    s.cr0 = e->cr0, s.cr3 = e->cr3, s.cr4 = e->cr4, s.efer = e->efer;
    uint32_t walks = e->idc_walks;
    const char *w = vtx_eng_check_identity_paging(e, &s, false);
    if (e->idc_walks != walks)
        e->gen += 2; /* decoded bytes were found through the old translations */
    return w;
}

/* A flush vtx_engine_flush_tlb asked for, at the start of a run. Without paging
 * every TLB entry is the identity with full rights (a change of CR0, CR3, CR4 or
 * EFER flushes at set_state). With paging the entries can only be stale where
 * the paging structures changed, which the paging check sees as a walk (its
 * cache compares every table); a transient change by the guest itself, undone
 * before the next VM entry, is not seen (docs/platforms.md). */
void vtx_eng_tlb_flush_wanted(vtx_engine *e)
{
    if (!e->tlb_want)
        return;
    e->tlb_want = false;
    /* With a second stage its tables may have changed too: always flush. */
    if (!(e->cr0 & VTX_CR0_PG) && !e->xl_on)
        return;
    if (!e->xl_on && e->idc.valid && e->idc_walks == e->idc_walks_at_flush)
        return;
    vtx_eng_flush_tlb(e);
}
