/*
 * EPT translation (SDM Vol. 3C "EPT Translation Mechanism", "EPT-Induced VM
 * Exits", "Accessed and Dirty Flags for EPT"): the walk of the EPT paging
 * structures the VMM built (4 levels, 2-MiB and 1-GiB pages, R/W/X, execute-only
 * where IA32_VMX_EPT_VPID_CAP[0] allows it), EPT misconfigurations and
 * violations with their exit information, and the EPT accessed/dirty flags.
 * Own rule IDs EPT-W-n, EPT-V-n, EPT-M-n, EPT-AD-n (docs/rules-own.tsv).
 *
 * Used by every guest-physical access of non-root operation with "enable EPT"
 * = 1: the engine's (Unicorn 2.1, through vtx_engine_set_xlate: instruction
 * fetches, data, and the guest paging-structure reads and A/D writes) and the
 * model's own (event delivery, IDT/GDT/TSS, emulated instructions) through
 * m->gphys. Unicorn 2.1's TLB fill hook passes real-mode and paging-off
 * accesses too, with guest-physical = linear (EPT-W-4: unrestricted guests).
 * Unicorn 2.0.1 cannot translate: there ept.c refuses any EPT but
 * the identity (EPT-ID-1/2).
 */
#include "execute.h"

/* EPT paging-structure entry bits (SDM Tables "Format of an EPT ... Entry"). */
#define EPT_R 1ull
#define EPT_W 2ull
#define EPT_X 4ull
#define EPT_RWX 7ull
#define EPT_PS (1ull << 7)
#define EPT_A (1ull << 8)
#define EPT_D (1ull << 9)
#define EPTP_AD (1ull << 6)
/* IA32_VMX_EPT_VPID_CAP bits. */
#define CAP_EXEC_ONLY (1ull << 0)
#define CAP_2M (1ull << 16)
#define CAP_1G (1ull << 17)
/* EPT-violation exit qualification bits (SDM Table "Exit Qualification for EPT Violations"). */
#define Q_READ 1ull
#define Q_WRITE 2ull
#define Q_FETCH 4ull
#define Q_PERM_SHIFT 3
#define Q_LIN_VALID (1ull << 7)
#define Q_FINAL (1ull << 8)
#define Q_NMI_UNBLOCK (1ull << 12)

/* The reasons an EPT entry is misconfigured (SDM "EPT Misconfigurations"), as a table. */
#define VTX_EPT_MISCONFIGS(X)                                                                           \
    X(WRITE_NO_READ, "EPT-M-1", "write access without read access (bits 2:0 are 010b or 110b)")        \
    X(EXEC_ONLY, "EPT-M-2", "execute-only (100b) but IA32_VMX_EPT_VPID_CAP[0] is 0")                  \
    X(ADDR_BITS, "EPT-M-3", "reserved physical-address bits (51:MAXPHYADDR) are set")                  \
    X(NONLEAF_BITS, "EPT-M-4", "reserved bits 7:3 of a non-leaf entry are set")                         \
    X(MEMTYPE, "EPT-M-5", "the memory type (bits 5:3) of a leaf is reserved (2, 3 or 7)")             \
    X(LARGE_BITS, "EPT-M-6", "a large page: bit 7 where the page size is not supported, or reserved " \
                             "bits 20:12 (2 MiB) / 29:12 (1 GiB) set")
#define X(name, rule, text) MC_##name,
enum { MC_NONE = 0, VTX_EPT_MISCONFIGS(X) };
#undef X

static uint64_t ept_cap(const vtx_machine *m)
{
    uint64_t v = 0;
    return vtx_profile_read_msr(&m->profile, VTX_MSR_IA32_VMX_EPT_VPID_CAP, &v) == VTX_OK ? v : 0;
}

/* The misconfiguration of a present entry at `level` (4 PML4E ... 1 PTE), or MC_NONE;
 * *leaf tells whether it maps a page. */
static int misconfigured(uint64_t e, int level, uint64_t cap, uint64_t amask, bool *leaf)
{
    *leaf = level == 1;
    if ((e & (EPT_R | EPT_W)) == EPT_W)
        return MC_WRITE_NO_READ; /* EPT-M-1 */
    if ((e & EPT_RWX) == EPT_X && !(cap & CAP_EXEC_ONLY))
        return MC_EXEC_ONLY; /* EPT-M-2 */
    if (e & ~amask & 0x000FFFFFFFFFF000ull)
        return MC_ADDR_BITS; /* EPT-M-3 */
    if (level >= 2 && (e & EPT_PS)) {
        bool ok = (level == 2 && (cap & CAP_2M)) || (level == 3 && (cap & CAP_1G));
        if (!ok)
            return level == 4 ? MC_NONLEAF_BITS : MC_LARGE_BITS; /* EPT-M-4, EPT-M-6 */
        uint64_t size = 1ull << (12 + 9 * (level - 1));
        if (e & (size - 1) & ~0xFFFull)
            return MC_LARGE_BITS; /* EPT-M-6 */
        *leaf = true;
    }
    if (!*leaf && (e & 0xF8))
        return MC_NONLEAF_BITS; /* EPT-M-4 */
    if (*leaf) {
        unsigned t = (e >> 3) & 7;
        if (t == 2 || t == 3 || t == 7)
            return MC_MEMTYPE; /* EPT-M-5 */
    }
    return MC_NONE;
}

const char *vtx_ept_misconfig_text(int why)
{
    switch (why) {
#define X(name, rule, text) case MC_##name: return rule ": " text;
        VTX_EPT_MISCONFIGS(X)
#undef X
    default:
        return "no misconfiguration";
    }
}

vtx_ept_outcome vtx_ept_walk(vtx_machine *m, uint64_t eptp, uint64_t gpa, unsigned access, bool set_ad,
                             vtx_ept_walk_result *res)
{
    const uint64_t cap = ept_cap(m);
    const unsigned maxpa = m->profile.phys_addr_width ? m->profile.phys_addr_width : 52;
    const uint64_t amask = ((maxpa >= 52) ? 0x000FFFFFFFFFFFFFull : ((1ull << maxpa) - 1)) & ~0xFFFull;
    const int levels = (int)((eptp >> 3) & 7) + 1;
    uint64_t table = eptp & amask;
    uint64_t ent_pa[8], ent[8];
    int n = 0;
    *res = (vtx_ept_walk_result){.perms = EPT_RWX};
    /* EPT-W-1: the walk, from the EPT PML4 table (EPTP bits 51:12), 9 bits of the
     * guest-physical address per level. */
    for (int level = levels; level >= 1; level--) {
        const unsigned shift = 12 + 9 * (unsigned)(level - 1);
        uint64_t pa = table + ((gpa >> shift) & 511) * 8, e = 0;
        if (vtx_mem_read(m, pa, &e, 8, NULL) != VTX_OK) {
            res->entry_pa = pa;
            return VTX_EPT_BAD_MEMORY;
        }
        res->perms &= (unsigned)(e & EPT_RWX); /* EPT-V-2: the AND of the levels' R/W/X */
        if (!(e & EPT_RWX))
            return VTX_EPT_VIOLATION; /* EPT-V-1: not present */
        bool leaf;
        int why = misconfigured(e, level, cap, amask, &leaf);
        if (why != MC_NONE) {
            res->misconfig = why;
            res->entry_pa = pa;
            return VTX_EPT_MISCONFIG;
        }
        ent_pa[n] = pa;
        ent[n++] = e;
        if (leaf) {
            /* EPT-W-2: a PTE maps 4 KiB, a PDE with bit 7 2 MiB, a PDPTE with bit 7 1 GiB. */
            uint64_t size = 1ull << shift;
            res->page_size = size;
            res->hpa = (e & amask & ~(size - 1)) | (gpa & (size - 1));
            break;
        }
        table = e & amask;
    }
    /* EPT-V-1: an access the translation does not allow (EPT-W-3: execute-only
     * pages are neither readable nor writable). */
    if ((access & res->perms & EPT_RWX) != (access & EPT_RWX))
        return VTX_EPT_VIOLATION;
    /* EPT-AD-1/2: with EPTP bit 6 the walk sets the accessed flag of every entry it
     * used, and a write sets the dirty flag of the leaf. */
    if (set_ad && (eptp & EPTP_AD)) {
        for (int i = 0; i < n; i++) {
            uint64_t e = ent[i] | EPT_A;
            if (i == n - 1 && (access & EPT_W))
                e |= EPT_D;
            if (e != ent[i])
                vtx_mem_write(m, ent_pa[i], &e, 8, NULL);
        }
    }
    return VTX_EPT_OK;
}

/* Record why an access was refused, for the VM exit (vtx_ept_fault_exit). */
static void record(vtx_machine *m, vtx_ept_outcome o, const vtx_ept_walk_result *w, uint64_t gpa, unsigned access,
                   bool lin_valid, bool final, uint64_t lin)
{
    vtx_ept_fault *f = &m->ept_fault;
    *f = (vtx_ept_fault){.pending = true, .outcome = o, .gpa = gpa, .lin = lin, .entry_pa = w->entry_pa,
                         .misconfig = w->misconfig, .final = lin_valid && final};
    if (o == VTX_EPT_VIOLATION) {
        /* EPT-V-3: bits 2:0 the access, 5:3 the translation's permissions, 7 the
         * guest-linear address valid, 8 the final translation (vs a guest
         * paging-structure entry). */
        f->qual = (access & 7) | ((uint64_t)(w->perms & 7) << Q_PERM_SHIFT);
        if (lin_valid)
            f->qual |= Q_LIN_VALID | (final ? Q_FINAL : 0);
    }
}

/* The access bits of an engine access: guest paging-structure accesses are
 * writes when EPT A/D flags are on (EPT-AD-3). */
static unsigned ept_access(const vtx_machine *m, unsigned xl)
{
    if ((xl & VTX_XL_ENTRY) && (m->eptp & EPTP_AD))
        return (unsigned)EPT_W;
    return xl & (VTX_XL_READ | VTX_XL_WRITE | VTX_XL_FETCH); /* the same bits as EPT R/W/X */
}

static int engine_translate(void *ctx, uint64_t gpa, unsigned access, uint64_t lin, uint64_t *hpa, unsigned *perms)
{
    vtx_machine *m = ctx;
    vtx_ept_walk_result w;
    if (access & VTX_XL_PEEK) {
        if (vtx_ept_walk(m, m->eptp, gpa, 0, false, &w) != VTX_EPT_OK)
            return -1;
        *hpa = w.hpa;
        *perms = w.perms;
        return 0;
    }
    unsigned acc = ept_access(m, access);
    vtx_ept_outcome o = vtx_ept_walk(m, m->eptp, gpa, acc, true, &w);
    if (o == VTX_EPT_OK) {
        *hpa = w.hpa;
        *perms = w.perms;
        return 0;
    }
    record(m, o, &w, gpa, acc, true, !(access & VTX_XL_ENTRY), lin);
    return -1;
}

/* EPT-W-5: the PDPTE registers VM entry loaded, while the guest's CR3 is the
 * one they came with (a MOV to CR3 reloads them from memory on the processor;
 * the walk then reads memory). */
static bool engine_pdptes(void *ctx, uint64_t cr3, uint64_t out[4])
{
    const vtx_machine *m = ctx;
    if (!m->pdpte_on || cr3 != m->pdpte_cr3)
        return false;
    memcpy(out, m->pdpte, sizeof m->pdpte);
    return true;
}

const vtx_engine_xlate *vtx_ept_engine_xlate(vtx_machine *m)
{
    m->ept_xl = (vtx_engine_xlate){.ctx = m, .maxphyaddr = m->profile.phys_addr_width, .translate = engine_translate,
                                   .pdptes = engine_pdptes};
    return &m->ept_xl;
}

/* The model's own guest-physical accesses (event delivery, descriptor tables,
 * emulated instructions) through the EPT: m->gphys while EPT is on. The guest
 * linear address is not known here (exit qualification bit 7 = 0). */
static bool gphys_copy(vtx_machine *m, uint64_t gpa, void *buf, size_t len, bool write)
{
    uint8_t *p = buf;
    while (len) {
        size_t n = 0x1000 - (gpa & 0xFFF);
        if (n > len)
            n = len;
        vtx_ept_walk_result w;
        unsigned acc = write ? (unsigned)EPT_W : (unsigned)EPT_R;
        vtx_ept_outcome o = vtx_ept_walk(m, m->eptp, gpa, acc, true, &w);
        if (o != VTX_EPT_OK) {
            record(m, o, &w, gpa, acc, false, false, 0);
            return false;
        }
        vtx_status st = write ? vtx_mem_write(m, w.hpa, p, n, NULL) : vtx_mem_read(m, w.hpa, p, n, NULL);
        if (st != VTX_OK)
            return false;
        gpa += n;
        p += n;
        len -= n;
    }
    return true;
}

static bool gphys_read(void *ctx, uint64_t pa, void *buf, size_t len) { return gphys_copy(ctx, pa, buf, len, false); }
static bool gphys_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    return gphys_copy(ctx, pa, (void *)(uintptr_t)buf, len, true);
}

/* A write the model is about to make (event delivery's frame): allowed by the
 * EPT? A refusal is recorded as a write; A/D flags wait for the write itself. */
static bool gphys_writable(void *ctx, uint64_t gpa, size_t len)
{
    vtx_machine *m = ctx;
    uint64_t end = gpa + len;
    for (uint64_t p = gpa; p < end; p = (p & ~0xFFFull) + 0x1000) {
        vtx_ept_walk_result w;
        vtx_ept_outcome o = vtx_ept_walk(m, m->eptp, p, (unsigned)EPT_W, false, &w);
        if (o != VTX_EPT_OK) {
            record(m, o, &w, p, (unsigned)EPT_W, false, false, 0);
            return false;
        }
        uint8_t b;
        if (vtx_mem_read(m, w.hpa, &b, 1, NULL) != VTX_OK)
            return false;
    }
    return true;
}

void vtx_ept_fault_at_linear(vtx_machine *m, uint64_t lin, bool final)
{
    vtx_ept_fault *f = &m->ept_fault;
    if (!f->pending || (f->qual & Q_LIN_VALID))
        return;
    f->lin = lin;
    f->final = final;
    if (f->outcome == VTX_EPT_VIOLATION)
        f->qual |= Q_LIN_VALID | (final ? Q_FINAL : 0); /* EPT-V-3 */
}

static const enum vtx_slot pdpte_slot[4] = {VTX_SLOT_GUEST_PDPTE0, VTX_SLOT_GUEST_PDPTE1, VTX_SLOT_GUEST_PDPTE2,
                                            VTX_SLOT_GUEST_PDPTE3};

static bool pae_paging(uint64_t cr0, uint64_t cr4, bool lma)
{
    return (cr0 & VTX_CR0_PG) && (cr4 & VTX_CR4_PAE) && !lma;
}

void vtx_ept_load_pdptes(vtx_machine *m, const vtx_vmcs_values *f)
{
    m->pdpte_on = pae_paging(vtx_vmcs_get(f, VTX_SLOT_GUEST_CR0), vtx_vmcs_get(f, VTX_SLOT_GUEST_CR4),
                             (vtx_vmcs_get(f, VTX_SLOT_ENTRY_CONTROLS) & VTX_ENTRY_IA32E_MODE_GUEST) != 0);
    m->pdpte_cr3 = vtx_vmcs_get(f, VTX_SLOT_GUEST_CR3);
    for (int i = 0; i < 4; i++)
        m->pdpte[i] = m->pdpte_on ? vtx_vmcs_get(f, pdpte_slot[i]) : 0;
}

void vtx_ept_store_pdptes(vtx_machine *m, vtx_vmcs_values *f)
{
    const vtx_cpu_state *c = &m->g.cpu;
    if (!m->ept_on || !pae_paging(c->cr0, c->cr4, (c->efer & (1ull << 10)) != 0))
        return;
    uint64_t v[4];
    if (m->pdpte_on && c->cr3 == m->pdpte_cr3)
        memcpy(v, m->pdpte, sizeof v);
    else if (!gphys_read(m, c->cr3 & 0xFFFFFFE0ull, v, sizeof v)) /* reloaded by the guest's MOV to CR3 */
        return;
    for (int i = 0; i < 4; i++)
        vtx_vmcs_set(f, pdpte_slot[i], v[i]);
}

void vtx_ept_init(vtx_machine *m) { m->gphys = (vtx_phys_mem){.ctx = m, .read = gphys_read, .write = gphys_write, .writable = gphys_writable}; }

bool vtx_ept_fault_exit(vtx_machine *m, uint64_t lin, vtx_exit_info *ex)
{
    vtx_ept_fault *f = &m->ept_fault;
    if (!f->pending || (f->outcome != VTX_EPT_VIOLATION && f->outcome != VTX_EPT_MISCONFIG))
        return false;
    f->pending = false;
    /* EPT-V-5: the guest-physical address of the access; for the final access
     * it keeps the page offset of the linear address (Unicorn gives pages). */
    *ex = (vtx_exit_info){.has_guest_phys = true,
                          .guest_phys = f->final ? (f->gpa & ~0xFFFull) | (lin & 0xFFF) : f->gpa};
    if (f->outcome == VTX_EPT_MISCONFIG) {
        ex->reason = VTX_EXIT_REASON_EPT_MISCONFIG; /* EPT-M-7: exit 49, qualification 0 */
        return true;
    }
    ex->reason = VTX_EXIT_REASON_EPT_VIOLATION; /* EPT-V-4: exit 48 */
    ex->qualification = f->qual;
    if (f->qual & Q_LIN_VALID) {
        ex->has_guest_linear = true; /* EPT-V-5 */
        ex->guest_linear = lin;
    }
    /* EPT-V-6: an EPT violation of an IRET that removed (virtual-)NMI blocking. */
    if (m->iret_unblocked_nmi)
        ex->qualification |= Q_NMI_UNBLOCK;
    return true;
}

