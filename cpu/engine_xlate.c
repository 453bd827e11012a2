/*
 * engine: a second translation stage supplied by the caller (engine.h,
 * vtx_engine_set_xlate). On Unicorn 2.1 the engine switches Unicorn to
 * UC_TLB_VIRTUAL and fills every TLB entry itself (UC_HOOK_TLB_FILL): the
 * guest's paging (cpu/paging.c, whose paging-structure reads and
 * accessed/dirty writes go through the second stage), then the second stage
 * for the final guest-physical address. Unicorn 2.0.1 has no TLB fill hook:
 * there the second stage cannot be installed. Knows nothing of VMX.
 *
 * Unicorn 2.1.1 facts used here (measured; recorded in
 * docs/platforms.md): the hook gets the page-aligned linear address and the
 * access type, not the mmu index; returning false ends uc_emu_start with an
 * error and RIP on the faulting instruction (the access did not happen); each
 * TLB entry carries the permissions the hook returned, and an access they do
 * not allow calls the hook again (so a write after a read comes back: dirty
 * flags are set at the first write).
 */
#include "engine_internal.h"
#include "deliver.h"

#define MSR_EFER 0xC0000080u

/* ---- the engine's own reads (decoding): peek through the second stage ---- */
bool vtx_eng_gpa_to_hpa(const vtx_engine *e, uint64_t gpa, uint64_t *hpa)
{
    if (!e->xl_on) {
        *hpa = gpa;
        return true;
    }
    unsigned perms = 0;
    return e->xl.translate(e->xl.ctx, gpa, VTX_XL_PEEK, gpa, hpa, &perms) == 0;
}

bool vtx_eng_xl_read(const vtx_engine *e, uint64_t gpa, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len) {
        size_t n = 4096 - (gpa & 0xfff);
        if (n > len)
            n = len;
        uint64_t hpa;
        if (!vtx_eng_gpa_to_hpa(e, gpa, &hpa) || !phys_read(e, hpa, out, n))
            return false;
        gpa += n;
        out += n;
        len -= n;
    }
    return true;
}

#if VTX_UC_21
/* The guest walk's memory: guest-physical, through the second stage as
 * paging-structure-entry accesses made for one linear address. */
typedef struct walk_mem {
    vtx_engine *e;
    uint64_t lin;
    bool refused; /* the second stage refused an access (it recorded why) */
} walk_mem;

static bool walk_access(walk_mem *w, uint64_t gpa, void *buf, size_t len, bool write)
{
    vtx_engine *e = w->e;
    uint64_t hpa, avail;
    unsigned perms = 0;
    if (e->xl.translate(e->xl.ctx, gpa, (write ? VTX_XL_WRITE : VTX_XL_READ) | VTX_XL_ENTRY, w->lin, &hpa,
                        &perms) != 0) {
        w->refused = true;
        return false;
    }
    uint8_t *h = (uint8_t *)host_of(e, hpa, &avail); /* the regions are the caller's writable memory */
    if (!h || avail < len) {
        if (write)
            return false;
        return phys_read(e, hpa, buf, len);
    }
    if (write)
        memcpy(h, buf, len);
    else
        memcpy(buf, h, len);
    return true;
}

static bool walk_read(void *ctx, uint64_t pa, void *buf, size_t len) { return walk_access(ctx, pa, buf, len, false); }
static bool walk_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    return walk_access(ctx, pa, (void *)(uintptr_t)buf, len, true);
}

static bool xf_fail(vtx_engine *e, uint8_t kind, unsigned access, uint64_t page, uint32_t ec, uint64_t addr)
{
    e->xf.on = true;
    e->xf.kind = kind;
    e->xf.access = (uint8_t)access;
    e->xf.page = page;
    e->xf.ec = ec;
    e->xf.addr = addr;
    return false;
}

static const int uc_gpr[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

/*
 * Unicorn does not say whether a data access at CPL 3 is an implicit
 * supervisor access (QEMU's descriptor-table and TSS reads for a segment load,
 * a far transfer, a gate...). It is taken as one when the page holds part of
 * the GDT, LDT, IDT or TSS and the instruction's explicit memory operand (if
 * any) does not lie in that page; otherwise it is a user access.
 */
static bool implicit_access(vtx_engine *e, uc_engine *uc, uint64_t page)
{
    static const int tables[4] = {UC_X86_REG_GDTR, UC_X86_REG_LDTR, UC_X86_REG_IDTR, UC_X86_REG_TR};
    bool in_table = false;
    for (int i = 0; i < 4 && !in_table; i++) {
        uc_x86_mmr t = {0};
        if (uc_reg_read(uc, tables[i], &t) != UC_ERR_OK || (i == 1 && !t.selector))
            continue;
        in_table = t.base <= page + 0xfff && page <= t.base + t.limit;
    }
    if (!in_table)
        return false;
    uint64_t rip = 0;
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    const vtx_insn *in = NULL;
    if (vtx_engine_decode(e, e->width == 64 ? rip : ((e->cs_base + rip) & 0xffffffffull), &in) != 0 ||
        !in->has_mem)
        return true;
    uint64_t ea = (uint64_t)in->mem_disp, v = 0;
    if (in->mem_base != VTX_GPR_NONE && uc_reg_read(uc, uc_gpr[in->mem_base & 15], &v) == UC_ERR_OK)
        ea += v;
    v = 0;
    if (in->mem_index != VTX_GPR_NONE && uc_reg_read(uc, uc_gpr[in->mem_index & 15], &v) == UC_ERR_OK)
        ea += v * in->mem_scale;
    if (in->mem_rip_rel)
        ea += in->rip + in->len;
    if (in->addr_width == 32)
        ea &= 0xffffffffull;
    else if (in->addr_width == 16)
        ea &= 0xffff;
    if (in->mem_seg == 4 || in->mem_seg == 5) {
        v = 0;
        uc_reg_read(uc, in->mem_seg == 4 ? UC_X86_REG_FS_BASE : UC_X86_REG_GS_BASE, &v);
        ea += v;
    }
    return (ea & ~0xfffull) != page; /* flat segments otherwise (a non-zero base is not looked at) */
}

static bool hook_tlb_fill(uc_engine *uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *res, void *ud)
{
    vtx_engine *e = ud;
    /* the caller's translation and the walk's accessed/dirty flags write guest
     * memory through host pointers: the fast path compares blocks again */
    vtx_eng_code_may_change(e);
    unsigned access = type == UC_MEM_WRITE ? VTX_XL_WRITE : type == UC_MEM_FETCH ? VTX_XL_FETCH : VTX_XL_READ;
    uint64_t cr0 = 0, cr3 = 0, cr4 = 0, rflags = 0, cs = 0;
    uc_x86_msr efer = {.rid = MSR_EFER};
    uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &rflags);
    uc_reg_read(uc, UC_X86_REG_MSR, &efer);
    uint64_t gpa = (efer.value & VTX_EFER_LMA) ? vaddr : (vaddr & 0xffffffffull);
    if (cr0 & VTX_CR0_PG) {
        uc_reg_read(uc, UC_X86_REG_CR3, &cr3);
        uc_reg_read(uc, UC_X86_REG_CR4, &cr4);
        uc_reg_read(uc, UC_X86_REG_CS, &cs);
        /* CPL: CS.RPL in protected mode, 3 in virtual-8086 mode; an implicit
         * supervisor access is not a user access (implicit_access). */
        bool cpl3 = (rflags & VTX_RFLAGS_VM) || (cs & 3) == 3;
        bool implicit = cpl3 && access != VTX_XL_FETCH && implicit_access(e, uc, vaddr & ~0xfffull);
        bool user = cpl3 && !implicit;
        vtx_cpu_state s;
        memset(&s, 0, sizeof s);
        s.cr0 = cr0, s.cr3 = cr3, s.cr4 = cr4, s.efer = efer.value, s.rflags = rflags;
        walk_mem w = {e, vaddr, false};
        const vtx_phys_mem mem = {.ctx = &w, .read = walk_read, .write = walk_write};
        uint64_t pdpte[4];
        bool regs = (cr4 & VTX_CR4_PAE) && !(efer.value & VTX_EFER_LMA) && e->xl.pdptes &&
                    e->xl.pdptes(e->xl.ctx, cr3, pdpte);
        const vtx_paging_caps caps = {.maxphyaddr = e->xl.maxphyaddr, .pages_1g = false,
                                      .pdptes = regs ? pdpte : NULL};
        unsigned acc = (access == VTX_XL_WRITE ? VTX_ACC_WRITE : 0) | (access == VTX_XL_FETCH ? VTX_ACC_FETCH : 0) |
                       (user ? VTX_ACC_USER : 0) | (implicit ? VTX_ACC_IMPLICIT : 0);
        uint32_t ec = 0;
        uint64_t lin = (efer.value & VTX_EFER_LMA) ? vaddr : (vaddr & 0xffffffffull);
        vtx_xlate_status st = vtx_translate_ex(&s, &mem, &caps, lin, acc, &gpa, &ec);
        if (st == VTX_XLATE_PF)
            return xf_fail(e, XF_PF, access, vaddr, ec, 0);
        if (st != VTX_XLATE_OK)
            return xf_fail(e, w.refused ? XF_REFUSED : XF_UNMAPPED, access, vaddr, 0, gpa);
    }
    uint64_t hpa;
    unsigned perms = 0;
    if (e->xl.translate(e->xl.ctx, gpa & ~0xfffull, access, vaddr, &hpa, &perms) != 0)
        return xf_fail(e, XF_REFUSED, access, vaddr, 0, gpa);
    res->paddr = hpa & ~0xfffull;
    /* Only what this access needs: a later write or fetch in the page comes back
     * here, so that dirty flags (guest and second stage) are set at the first
     * write and execute permission is checked at the first fetch. */
    res->perms = access == VTX_XL_WRITE ? (uc_prot)(UC_PROT_READ | UC_PROT_WRITE)
                 : access == VTX_XL_FETCH ? UC_PROT_EXEC
                                          : UC_PROT_READ;
    return true;
}
#endif

bool vtx_eng_xlate_setup(vtx_engine *e)
{
#if VTX_UC_21
    if (!e->xl_on)
        return true;
    return uc_hook_add(e->uc, &e->h_tlb, UC_HOOK_TLB_FILL, (void *)hook_tlb_fill, e, 1, 0) == UC_ERR_OK &&
           uc_ctl_tlb_mode(e->uc, UC_TLB_VIRTUAL) == UC_ERR_OK;
#else
    return !e->xl_on;
#endif
}

int vtx_engine_set_xlate(vtx_engine *e, const vtx_engine_xlate *x)
{
    if (!e || e->broken)
        return -1;
#if VTX_UC_21
    bool on = x != NULL;
    if (on)
        e->xl = *x;
    if (on == e->xl_on) {
        e->tlb_want = true; /* another second stage, maybe: nothing cached may survive */
        return 0;
    }
    if (on) {
        e->xl_on = true;
        if (!vtx_eng_xlate_setup(e)) {
            e->xl_on = false;
            return -1;
        }
    } else {
        uc_hook_del(e->uc, e->h_tlb);
        if (uc_ctl_tlb_mode(e->uc, UC_TLB_CPU) != UC_ERR_OK)
            return -1;
        e->xl_on = false;
    }
    vtx_eng_drop_translations(e);
    vtx_eng_flush_tlb(e); /* (and the decodes made through the old translation go) */
    return 0;
#else
    return x ? -1 : 0;
#endif
}

/* ---- the exact address of a faulting access ---- */
static uint64_t gpr_of(const vtx_engine *e, unsigned r) { return rd64(env_of(e), ENV_REGS + 8 * (size_t)(r & 15)); }
static uint64_t seg_base_of(const vtx_engine *e, unsigned s)
{
    return rd64(env_of(e), ENV_SEGS + (size_t)s * SEG_SZ + 8);
}

/* The linear address of the instruction's memory operand (in->has_mem) from the
 * registers as they are now: base + index * scale + displacement (+ the next RIP
 * when RIP-relative), truncated to the address size, plus the segment base
 * (in 64-bit mode only FS and GS have one). Not truncated to the mode's width. */
uint64_t vtx_eng_mem_linear(const vtx_engine *e, const vtx_insn *in)
{
    uint64_t ea = (uint64_t)in->mem_disp;
    if (in->mem_base != VTX_GPR_NONE)
        ea += gpr_of(e, in->mem_base);
    if (in->mem_index != VTX_GPR_NONE)
        ea += gpr_of(e, in->mem_index) * in->mem_scale;
    if (in->mem_rip_rel)
        ea += in->rip + in->len;
    if (in->addr_width == 16)
        ea &= 0xffff;
    else if (in->addr_width == 32)
        ea &= 0xffffffffull;
    if (e->width != 64 || in->mem_seg >= 4)
        ea += seg_base_of(e, in->mem_seg);
    return ea;
}

/* Unicorn's TLB fill hook gets the page only. The access that faulted was the
 * first one of the instruction into that page: for a fetch the instruction's
 * first byte when it starts there (else the page's first byte); for data the
 * memory operand's linear address when it lies in the page (else the access
 * began in the page before and crossed into it: the page's first byte); a
 * stack access (PUSH/CALL/POP/RET...) at RSP - size or RSP. */
uint64_t vtx_eng_xf_linear(const vtx_engine *e, const vtx_insn *in, uint64_t lin)
{
    const uint64_t page = e->xf.page & ~0xfffull;
    const uint64_t wmask = e->width == 64 ? ~0ull : 0xffffffffull;
    if (e->xf.access == VTX_XL_FETCH)
        return ((lin & ~0xfffull) == page) ? lin : page;
    uint64_t cand[2];
    unsigned n = 0;
    if (in && in->has_mem) {
        cand[n++] = vtx_eng_mem_linear(e, in) & wmask;
    } else if (in) {
        uint64_t sp = gpr_of(e, 4);
        if (e->width != 64 && !(rd32(env_of(e), ENV_SEGS + 2 * SEG_SZ + 20) & VTX_DESC_HI_DB))
            sp &= 0xffff;
        uint64_t base = e->width == 64 ? 0 : seg_base_of(e, 2);
        unsigned sz = in->op_size ? in->op_size : (e->width == 64 ? 8 : 4);
        cand[n++] = (base + (e->xf.access == VTX_XL_WRITE ? sp - sz : sp)) & wmask;
    }
    for (unsigned i = 0; i < n; i++)
        if ((cand[i] & ~0xfffull) == page)
            return cand[i];
    return page;
}
