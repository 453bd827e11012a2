/* paging: see the header. SDM Vol. 3 chapter 4 "Paging". */
#include "engine.h"
#include "deliver.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

/* One paging-structure entry used by a walk (for the accessed/dirty updates). */
typedef struct walked {
    uint64_t pa;
    uint64_t val;
    unsigned width; /* 4 or 8 */
    bool leaf;
    bool has_ad;    /* PAE PDPTEs have no accessed bit */
} walked;

static unsigned maxphyaddr_of(const vtx_paging_caps *caps)
{
    if (caps && caps->maxphyaddr >= 32 && caps->maxphyaddr <= 52)
        return caps->maxphyaddr;
    return 52;
}

/* Read a paging-structure entry; false (and *bad) when the memory is unmapped. */
static bool read_entry(const vtx_phys_mem *mem, uint64_t pa, unsigned width, uint64_t *val)
{
    uint8_t b[8] = { 0 };
    if (!mem->read || !mem->read(mem->ctx, pa, b, width))
        return false;
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)b[i] << (8 * i);
    *val = v;
    return true;
}

static bool write_entry(const vtx_phys_mem *mem, uint64_t pa, unsigned width, uint64_t val)
{
    uint8_t b[8];
    for (unsigned i = 0; i < width; i++)
        b[i] = (uint8_t)(val >> (8 * i));
    return mem->write && mem->write(mem->ctx, pa, b, width);
}

vtx_xlate_status vtx_translate_ex(const vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps,
                                  uint64_t linear, unsigned access, uint64_t *pa, uint32_t *pf_error)
{
    uint64_t dummy_pa;
    uint32_t dummy_ec;
    if (!pa)
        pa = &dummy_pa;
    if (!pf_error)
        pf_error = &dummy_ec;
    *pf_error = 0;
    if (!s || !mem) {
        *pa = 0;
        return VTX_XLATE_UNMAPPED;
    }
    if (!(s->cr0 & VTX_CR0_PG)) {
        /* Without paging, linear = physical (32-bit linear addresses: IA-32e mode needs CR0.PG). */
        *pa = linear & 0xFFFFFFFFull;
        return VTX_XLATE_OK;
    }

    const bool write = access & VTX_ACC_WRITE, user = access & VTX_ACC_USER, fetch = access & VTX_ACC_FETCH;
    const bool implicit = access & VTX_ACC_IMPLICIT;
    const bool pae = s->cr4 & VTX_CR4_PAE, lma = s->efer & VTX_EFER_LMA, nxe = (s->efer & VTX_EFER_NXE) && pae;
    const bool smep = s->cr4 & VTX_CR4_SMEP, smap = s->cr4 & VTX_CR4_SMAP;
    const unsigned m = maxphyaddr_of(caps);
    const uint64_t addr_mask = (m >= 64) ? ~0ull : ((1ull << m) - 1);
    const uint64_t frame_mask = addr_mask & ~0xFFFull;

    /* SDM 4.7: W/R, U/S, and I/D (fetch with SMEP, or with PAE/4-level paging and NXE). */
    uint32_t ec = (write ? VTX_PF_W : 0) | (user ? VTX_PF_U : 0);
    if (fetch && (smep || nxe))
        ec |= VTX_PF_ID;

    walked w[6];
    unsigned nw = 0;
    bool rw = true, us = true, xd = false;
    uint64_t out;

    if (!pae) {
        /* 32-bit paging (SDM 4.3). */
        const uint32_t la = (uint32_t)linear;
        uint64_t pde_pa = (s->cr3 & 0xFFFFF000ull) + (uint64_t)(la >> 22) * 4, pde;
        if (!read_entry(mem, pde_pa, 4, &pde)) {
            *pa = pde_pa;
            return VTX_XLATE_UNMAPPED;
        }
        if (!(pde & PTE_P)) {
            *pf_error = ec;
            return VTX_XLATE_PF;
        }
        rw = pde & PTE_RW;
        us = pde & PTE_US;
        if ((s->cr4 & VTX_CR4_PSE) && (pde & PTE_PS)) {
            /* 4-MiB page: PDE bits 20:13 are PA bits 39:32 (PSE-36); bits 21:(M-19) reserved. */
            unsigned mm = m > 40 ? 40 : m;
            uint64_t rsvd = (1ull << 22) - (1ull << (mm - 19));
            if (pde & rsvd) {
                *pf_error = ec | VTX_PF_P | VTX_PF_RSVD;
                return VTX_XLATE_PF;
            }
            w[nw++] = (walked){ pde_pa, pde, 4, true, true };
            out = (((pde >> 13) & 0xFF) << 32) | (pde & 0xFFC00000ull) | (la & 0x3FFFFFu);
        } else {
            w[nw++] = (walked){ pde_pa, pde, 4, false, true };
            uint64_t pte_pa = (pde & 0xFFFFF000ull) + (uint64_t)((la >> 12) & 0x3FF) * 4, pte;
            if (!read_entry(mem, pte_pa, 4, &pte)) {
                *pa = pte_pa;
                return VTX_XLATE_UNMAPPED;
            }
            if (!(pte & PTE_P)) {
                *pf_error = ec;
                return VTX_XLATE_PF;
            }
            rw = rw && (pte & PTE_RW);
            us = us && (pte & PTE_US);
            w[nw++] = (walked){ pte_pa, pte, 4, true, true };
            out = (pte & 0xFFFFF000ull) | (la & 0xFFFu);
        }
    } else {
        /* Bits 51:M (4-level) or 62:M (PAE) of every entry are reserved, and bit 63 unless NXE. */
        const uint64_t hi_rsvd = lma ? (~addr_mask & ((1ull << 52) - 1)) : (~addr_mask & ~PTE_XD);
        const uint64_t xd_rsvd = nxe ? 0 : PTE_XD;
        uint64_t table;
        int level;
        if (!lma) {
            /* PAE paging (SDM 4.4): the PDPTE "register" is read from CR3[31:5]. */
            const uint32_t la = (uint32_t)linear;
            uint64_t pdpte_pa = (s->cr3 & 0xFFFFFFE0ull) + (uint64_t)((la >> 30) & 3) * 8, pdpte;
            if (caps && caps->pdptes)
                pdpte = caps->pdptes[(la >> 30) & 3]; /* the registers (no memory access) */
            else if (!read_entry(mem, pdpte_pa, 8, &pdpte)) {
                *pa = pdpte_pa;
                return VTX_XLATE_UNMAPPED;
            }
            if (!(pdpte & PTE_P)) {
                *pf_error = ec;
                return VTX_XLATE_PF;
            }
            if (pdpte & (0x1E6ull | ~addr_mask)) {
                *pf_error = ec | VTX_PF_P | VTX_PF_RSVD;
                return VTX_XLATE_PF;
            }
            w[nw++] = (walked){ pdpte_pa, pdpte, 8, false, false };
            table = pdpte & frame_mask;
            level = 2;
            linear = la;
        } else {
            /* 4-level / 5-level paging (SDM 4.5). */
            table = s->cr3 & frame_mask;
            level = (s->cr4 & VTX_CR4_LA57) ? 5 : 4;
        }
        for (;; level--) {
            unsigned shift = 12 + 9 * (unsigned)(level - 1);
            uint64_t e_pa = table + ((linear >> shift) & 0x1FF) * 8, e;
            if (!read_entry(mem, e_pa, 8, &e)) {
                *pa = e_pa;
                return VTX_XLATE_UNMAPPED;
            }
            if (!(e & PTE_P)) {
                *pf_error = ec;
                return VTX_XLATE_PF;
            }
            uint64_t rsvd = hi_rsvd | xd_rsvd;
            bool leaf = level == 1;
            if (level >= 4)
                rsvd |= PTE_PS; /* PML5E/PML4E bit 7 is reserved */
            else if (level == 3 && (e & PTE_PS)) {
                if (caps && caps->pages_1g) {
                    rsvd |= 0x3FFFE000ull; /* bits 29:13 of a 1-GiB page entry */
                    leaf = true;
                } else {
                    rsvd |= PTE_PS;
                }
            } else if (level == 2 && (e & PTE_PS)) {
                rsvd |= 0x1FE000ull; /* bits 20:13 of a 2-MiB page entry */
                leaf = true;
            }
            if (e & rsvd) {
                *pf_error = ec | VTX_PF_P | VTX_PF_RSVD;
                return VTX_XLATE_PF;
            }
            rw = rw && (e & PTE_RW);
            us = us && (e & PTE_US);
            if (nxe && (e & PTE_XD))
                xd = true;
            w[nw++] = (walked){ e_pa, e, 8, leaf, true };
            if (leaf) {
                uint64_t off_mask = (1ull << shift) - 1;
                out = (e & frame_mask & ~off_mask) | (linear & off_mask);
                break;
            }
            table = e & frame_mask;
        }
    }

    /* Access rights (SDM 4.6). */
    bool denied;
    if (user) {
        denied = !us || (write && !rw) || (fetch && xd);
    } else {
        denied = (write && !rw && (s->cr0 & VTX_CR0_WP)) || (fetch && xd) || (fetch && smep && us) ||
                 (!fetch && smap && us && (implicit || !(s->rflags & VTX_RFLAGS_AC)));
    }
    if (denied) {
        *pf_error = ec | VTX_PF_P;
        return VTX_XLATE_PF;
    }

    /* Accessed and dirty flags (SDM 4.8), only for a successful translation. */
    if (!(access & VTX_ACC_NO_AD)) {
        for (unsigned i = 0; i < nw; i++) {
            if (!w[i].has_ad)
                continue;
            uint64_t v = w[i].val | PTE_A;
            if (w[i].leaf && write)
                v |= PTE_D;
            if (v != w[i].val && !write_entry(mem, w[i].pa, w[i].width, v)) {
                *pa = w[i].pa;
                return VTX_XLATE_UNMAPPED;
            }
        }
    }
    *pa = out;
    return VTX_XLATE_OK;
}

bool vtx_translate(const vtx_cpu_state *s, const vtx_phys_mem *mem, uint64_t linear, bool write, bool user,
                   bool fetch, uint64_t *pa, uint32_t *pf_error)
{
    unsigned acc = (write ? VTX_ACC_WRITE : 0) | (user ? VTX_ACC_USER : 0) | (fetch ? VTX_ACC_FETCH : 0);
    uint64_t p = 0;
    uint32_t ec = 0;
    vtx_xlate_status st = vtx_translate_ex(s, mem, NULL, linear, acc, &p, &ec);
    if (pa)
        *pa = p;
    if (pf_error)
        *pf_error = st == VTX_XLATE_OK ? 0 : st == VTX_XLATE_PF ? ec : VTX_PF_UNMAPPED;
    return st == VTX_XLATE_OK;
}
