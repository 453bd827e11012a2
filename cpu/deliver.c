/* deliver: see the header. SDM Vol. 3 chapter 6 and Vol. 2 "INT n" operation. */
#include <string.h>

#include "engine.h"
#include "deliver.h"
#include "task_switch.h"

#define VEC_DF 8
#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14

/* ---- buffered guest memory: nothing reaches the real memory before commit ---- */

#define OVL_MAX 256

typedef struct ovl_ent {
    uint64_t pa;
    uint8_t len;
    uint8_t b[8];
} ovl_ent;

typedef struct dctx {
    const vtx_phys_mem *real;
    vtx_phys_mem view; /* reads see the buffered writes; writes are buffered */
    const vtx_paging_caps *caps;
    ovl_ent ent[OVL_MAX];
    unsigned n;
    bool full;
    vtx_cpu_state st;      /* the working copy */
    vtx_deliver_result *res;
    uint32_t ext;          /* EXT bit of the nested error codes (INJ-15) */
} dctx;

static bool ovl_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    dctx *c = ctx;
    if (!c->real->read || !c->real->read(c->real->ctx, pa, buf, len))
        return false;
    uint8_t *out = buf;
    for (unsigned i = 0; i < c->n; i++) {
        const ovl_ent *e = &c->ent[i];
        for (unsigned k = 0; k < e->len; k++) {
            uint64_t off = e->pa + k - pa;
            if (e->pa + k >= pa && off < len)
                out[off] = e->b[k];
        }
    }
    return true;
}

static bool ovl_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    dctx *c = ctx;
    const uint8_t *in = buf;
    uint8_t probe[8];
    while (len) {
        uint8_t n = len > 8 ? 8 : (uint8_t)len;
        /* A write to unmapped (or not writable) memory must be seen now: probe
         * it (vtx_phys_mem.writable, else by reading). */
        if (c->real->writable ? !c->real->writable(c->real->ctx, pa, n)
                              : (!c->real->read || !c->real->read(c->real->ctx, pa, probe, n)))
            return false;
        if (c->n == OVL_MAX) {
            c->full = true;
            return false;
        }
        ovl_ent *e = &c->ent[c->n++];
        e->pa = pa;
        e->len = n;
        memcpy(e->b, in, n);
        pa += n;
        in += n;
        len -= n;
    }
    return true;
}

/* ---- results ---- */

static bool fail_fault(dctx *c, uint8_t vector, bool has_ec, uint32_t ec)
{
    c->res->outcome = VTX_DELIVER_FAULT;
    c->res->fault = (vtx_delivery){ .vector = vector, .type = VTX_EVT_HW_EXC, .has_error_code = has_ec,
                                    .error_code = has_ec ? ec : 0, .insn_len = 0 };
    c->res->address = 0;
    return false;
}

static bool fail_unmapped(dctx *c, uint64_t pa)
{
    c->res->outcome = VTX_DELIVER_UNMAPPED;
    c->res->address = pa;
    return false;
}

/* The same, for an access to linear address la (final: to its translation,
 * else to a paging-structure entry of it). */
static bool fail_unmapped_at(dctx *c, uint64_t pa, uint64_t la, bool final)
{
    c->res->linear_valid = true;
    c->res->linear = la;
    c->res->at_final = final;
    return fail_unmapped(c, pa);
}

/* error_code(vector, IDT = 1, EXT) and error_code(selector, IDT = 0, EXT) (Vol. 2 INT n; SDM 6.13). */
static uint32_t idt_ec(const dctx *c, uint8_t vector) { return (uint32_t)vector * 8 + 2 + c->ext; }
static uint32_t sel_ec(const dctx *c, uint16_t sel) { return (uint32_t)(sel & 0xFFFC) | c->ext; }

/* ---- mode, CPL, linear memory ---- */

static bool in_ia32e(const vtx_cpu_state *s) { return (s->efer & VTX_EFER_LMA) && (s->cr0 & VTX_CR0_PE); }

static unsigned cpl_of(const vtx_cpu_state *s)
{
    if (!(s->cr0 & VTX_CR0_PE))
        return 0;
    if ((s->rflags & VTX_RFLAGS_VM) && !in_ia32e(s))
        return 3;
    return vtx_ar_dpl(s->seg[VTX_S_SS].ar); /* SS.DPL is the CPL (SDM 26.3.1.5 / 27.3.2) */
}

static uint64_t lin_mask(const dctx *c, uint64_t la) { return in_ia32e(&c->st) ? la : (la & 0xFFFFFFFFull); }

/* Read or write linear memory page by page through the guest's paging. On a
 * failure the result is filled (#PF with CR2 = the first byte that fails, or
 * UNMAPPED) and false returned. */
static bool lin_access(dctx *c, uint64_t la, void *buf, size_t len, unsigned acc)
{
    uint8_t *p = buf;
    la = lin_mask(c, la);
    while (len) {
        size_t n = 0x1000 - (la & 0xFFF);
        if (n > len)
            n = len;
        uint64_t pa = 0;
        uint32_t ec = 0;
        vtx_xlate_status st = vtx_translate_ex(&c->st, &c->view, c->caps, la, acc, &pa, &ec);
        if (st == VTX_XLATE_PF) {
            fail_fault(c, VEC_PF, true, ec);
            c->res->address = la;
            return false;
        }
        if (st == VTX_XLATE_UNMAPPED)
            return c->full ? fail_unmapped(c, ~0ull) : fail_unmapped_at(c, pa, la, false);
        bool ok = (acc & VTX_ACC_WRITE) ? ovl_write(c, pa, p, n) : ovl_read(c, pa, p, n);
        if (!ok)
            return c->full ? fail_unmapped(c, ~0ull) : fail_unmapped_at(c, pa, la, true);
        la = lin_mask(c, la + n);
        p += n;
        len -= n;
    }
    return true;
}

static bool sys_read(dctx *c, uint64_t la, void *buf, size_t len)
{
    return lin_access(c, la, buf, len, VTX_ACC_IMPLICIT);
}

static uint64_t le(const uint8_t *b, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* ---- descriptors ---- */

typedef struct desc {
    uint64_t raw;
    uint64_t la;  /* where it was read (for the accessed bit) */
    uint16_t sel;
    vtx_cpu_seg seg; /* base, limit (G applied), ar in VMCS layout */
} desc;

static void parse_desc(desc *d)
{
    uint64_t r = d->raw;
    uint32_t limit = (uint32_t)((r & 0xFFFF) | (((r >> 48) & 0xF) << 16));
    d->seg.ar = (uint32_t)((r >> 40) & 0xF0FF);
    if (d->seg.ar & (1u << 15))
        limit = (limit << 12) | 0xFFF;
    d->seg.limit = limit;
    d->seg.base = ((r >> 16) & 0xFFFFFF) | (((r >> 56) & 0xFF) << 24);
    d->seg.sel = d->sel;
}

/* Fetch the descriptor of a (non-null) selector from the GDT or LDT; outside
 * the table → vector(selector | EXT). */
static bool fetch_desc(dctx *c, uint16_t sel, uint8_t vector, desc *out)
{
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        const vtx_cpu_seg *ldtr = &c->st.seg[VTX_S_LDTR];
        if ((ldtr->ar & VTX_AR_UNUSABLE) || (ldtr->sel & 0xFFFC) == 0)
            return fail_fault(c, vector, true, sel_ec(c, sel));
        base = ldtr->base;
        limit = ldtr->limit;
    } else {
        base = c->st.gdtr_base;
        limit = c->st.gdtr_limit;
    }
    if ((uint64_t)(sel | 7) > limit)
        return fail_fault(c, vector, true, sel_ec(c, sel));
    uint8_t b[8];
    out->la = base + (sel & 0xFFF8);
    if (!sys_read(c, out->la, b, 8))
        return false;
    out->raw = le(b, 8);
    out->sel = sel;
    parse_desc(out);
    return true;
}

/* Loading a segment register sets the descriptor's accessed bit (SDM 3.4.5). */
static bool touch_desc(dctx *c, desc *d)
{
    if (d->seg.ar & 1)
        return true;
    d->seg.ar |= 1;
    uint8_t ar = (uint8_t)(d->raw >> 40) | 1;
    return lin_access(c, d->la + 5, &ar, 1, VTX_ACC_IMPLICIT | VTX_ACC_WRITE);
}

/* ---- stack frames ---- */

typedef struct frame {
    unsigned n;
    uint64_t val[12];
    uint8_t size[12];
} frame;

static void fpush(frame *f, uint64_t v, unsigned size)
{
    f->val[f->n] = v;
    f->size[f->n] = (uint8_t)size;
    f->n++;
}

/* Whether [off, off+size) is inside a (data) segment for a stack access. */
static bool seg_room(const vtx_cpu_seg *sg, uint32_t off, unsigned size, bool big)
{
    uint64_t last = (uint64_t)off + size - 1, upper = big ? 0xFFFFFFFFull : 0xFFFFull;
    if (last > upper)
        return false;
    if (vtx_ar_type(sg->ar) & 4) /* expand-down */
        return off > sg->limit;
    return last <= sg->limit;
}

/* Legacy stack (16/32-bit, in a segment): room check of the whole frame. */
static bool legacy_room(const vtx_cpu_seg *ss, uint64_t sp, const frame *f)
{
    bool big = ss->ar & VTX_AR_DB;
    uint32_t mask = big ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t off = (uint32_t)sp & mask;
    for (unsigned i = 0; i < f->n; i++) {
        off = (off - f->size[i]) & mask;
        if (!seg_room(ss, off, f->size[i], big))
            return false;
    }
    return true;
}

/* Write a checked frame on a legacy stack; returns the new stack pointer. */
static bool legacy_write(dctx *c, const vtx_cpu_seg *ss, uint64_t sp, const frame *f, unsigned acc, uint64_t *new_sp)
{
    bool big = ss->ar & VTX_AR_DB;
    uint32_t mask = big ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t off = (uint32_t)sp & mask;
    for (unsigned i = 0; i < f->n; i++) {
        uint8_t b[8];
        off = (off - f->size[i]) & mask;
        for (unsigned k = 0; k < f->size[i]; k++)
            b[k] = (uint8_t)(f->val[i] >> (8 * k));
        if (!lin_access(c, ss->base + off, b, f->size[i], acc | VTX_ACC_WRITE))
            return false;
    }
    *new_sp = (sp & ~(uint64_t)mask) | off;
    return true;
}

static bool canonical(const vtx_cpu_state *s, uint64_t a)
{
    unsigned bits = (s->cr4 & VTX_CR4_LA57) ? 57 : 48;
    uint64_t top = a >> (bits - 1);
    return top == 0 || top == (~0ull >> (bits - 1));
}

/* ---- the flags after delivery ---- */

static uint64_t handler_flags(uint64_t rflags, bool interrupt_gate)
{
    rflags &= ~(VTX_RFLAGS_TF | VTX_RFLAGS_NT | VTX_RFLAGS_RF | VTX_RFLAGS_VM);
    if (interrupt_gate)
        rflags &= ~VTX_RFLAGS_IF;
    return rflags;
}

/* ---- real-address mode (Vol. 2 INT n, REAL-ADDRESS-MODE; INJ-6) ---- */

static bool deliver_real(dctx *c, const vtx_delivery *d, uint64_t ret_ip)
{
    vtx_cpu_state *s = &c->st;
    if ((uint64_t)d->vector * 4 + 3 > s->idtr_limit)
        return fail_fault(c, VEC_GP, false, 0);
    frame f = { 0 };
    fpush(&f, s->rflags & 0xFFFF, 2);
    fpush(&f, s->seg[VTX_S_CS].sel, 2);
    fpush(&f, ret_ip & 0xFFFF, 2);
    const vtx_cpu_seg ss = s->seg[VTX_S_SS];
    if (!legacy_room(&ss, s->gpr[VTX_R_RSP], &f))
        return fail_fault(c, VEC_SS, false, 0);
    uint8_t ivt[4];
    if (!sys_read(c, s->idtr_base + (uint64_t)d->vector * 4, ivt, 4))
        return false;
    uint16_t ip = (uint16_t)le(ivt, 2), cs = (uint16_t)le(ivt + 2, 2);
    /* CS.limit does not change in real mode; the new IP must be inside it. */
    if (ip > s->seg[VTX_S_CS].limit)
        return fail_fault(c, VEC_GP, false, 0);
    uint64_t sp;
    if (!legacy_write(c, &ss, s->gpr[VTX_R_RSP], &f, 0, &sp))
        return false;
    s->gpr[VTX_R_RSP] = sp;
    s->seg[VTX_S_CS].sel = cs;
    s->seg[VTX_S_CS].base = (uint64_t)cs << 4;
    s->rip = ip;
    s->rflags &= ~(VTX_RFLAGS_IF | VTX_RFLAGS_TF | VTX_RFLAGS_AC | VTX_RFLAGS_RF);
    return true;
}

/* ---- protected and IA-32e mode (Vol. 2 INT n PROTECTED-MODE / IA-32e-MODE) ---- */

/* Read len bytes at byte offset off of the current TSS (the SSn:ESPn, RSPn or
 * ISTn field); beyond TR.limit (or TR unusable) → #TS(TR selector | EXT). */
static bool tss_read(dctx *c, uint32_t off, unsigned len, uint8_t *b)
{
    const vtx_cpu_seg *tr = &c->st.seg[VTX_S_TR];
    if ((tr->ar & VTX_AR_UNUSABLE) || (uint64_t)off + len - 1 > tr->limit)
        return fail_fault(c, VEC_TS, true, sel_ec(c, tr->sel));
    return sys_read(c, tr->base + off, b, len);
}

static bool deliver_protected(dctx *c, const vtx_delivery *d, uint64_t ret_ip)
{
    vtx_cpu_state *s = &c->st;
    const bool lm = in_ia32e(s);
    const bool v86 = !lm && (s->rflags & VTX_RFLAGS_VM);
    const unsigned cpl = cpl_of(s);
    const unsigned esz = lm ? 16 : 8;

    /* The gate (SDM 6.10, 6.11, 6.14.1). */
    if ((uint64_t)d->vector * esz + esz - 1 > s->idtr_limit)
        return fail_fault(c, VEC_GP, true, idt_ec(c, d->vector));
    uint8_t g[16];
    if (!sys_read(c, s->idtr_base + (uint64_t)d->vector * esz, g, esz))
        return false;
    uint64_t lo = le(g, 8);
    unsigned gtype = (lo >> 40) & 0xF, gdpl = (lo >> 45) & 3;
    bool gs = (lo >> 44) & 1, gp = (lo >> 47) & 1;
    bool type_ok = !gs && (lm ? (gtype == 0xE || gtype == 0xF)
                              : (gtype == 5 || gtype == 6 || gtype == 7 || gtype == 0xE || gtype == 0xF));
    if (!type_ok)
        return fail_fault(c, VEC_GP, true, idt_ec(c, d->vector));
    /* INJ-10: only INT n, INT3 and INTO check the gate DPL (EXT = 0 for them). */
    if ((d->type == VTX_EVT_SW_INT || d->type == VTX_EVT_SW_EXC) && gdpl < cpl)
        return fail_fault(c, VEC_GP, true, (uint32_t)d->vector * 8 + 2);
    if (!gp)
        return fail_fault(c, VEC_NP, true, idt_ec(c, d->vector));
    if (gtype == 5) {
        /* A task gate: the checks on its TSS selector (task_switch.h); the switch
         * itself is the caller's (VMX exits on it). Nothing is written. */
        vtx_task_check tc;
        vtx_task_check_gate(s, &c->view, c->caps, (uint16_t)(lo >> 16), c->ext, &tc);
        if (tc.outcome == VTX_TASK_SWITCH) {
            c->res->outcome = VTX_DELIVER_TASK_GATE;
            c->res->address = tc.tss_selector;
            return false;
        }
        if (tc.outcome == VTX_TASK_FAULT) {
            fail_fault(c, tc.vector, true, tc.error_code);
            c->res->address = tc.address;
            return false;
        }
        return fail_unmapped(c, tc.address);
    }
    const bool gate16 = gtype == 6 || gtype == 7, int_gate = !(gtype & 1);
    const uint16_t csel = (uint16_t)(lo >> 16);
    uint64_t target = (lo & 0xFFFF) | (((lo >> 48) & 0xFFFF) << 16);
    if (lm)
        target |= le(g + 8, 4) << 32;
    if (gate16)
        target &= 0xFFFF;
    const unsigned ist = lm ? (unsigned)((lo >> 32) & 7) : 0;

    /* The target code segment. */
    if ((csel & 0xFFFC) == 0)
        return fail_fault(c, VEC_GP, true, c->ext);
    desc cs;
    if (!fetch_desc(c, csel, VEC_GP, &cs))
        return false;
    uint32_t car = cs.seg.ar;
    unsigned cdpl = vtx_ar_dpl(car);
    if (!(car & VTX_AR_S) || !(vtx_ar_type(car) & 8) || cdpl > cpl)
        return fail_fault(c, VEC_GP, true, sel_ec(c, csel));
    if (lm && (!(car & VTX_AR_L) || (car & VTX_AR_DB))) /* SDM 6.14.1: a 64-bit code segment */
        return fail_fault(c, VEC_GP, true, sel_ec(c, csel));
    if (!(car & VTX_AR_P))
        return fail_fault(c, VEC_NP, true, sel_ec(c, csel));
    const bool conforming = vtx_ar_type(car) & 4;
    bool inner;
    if (!conforming && cdpl < cpl) {
        if (v86 && cdpl != 0)
            return fail_fault(c, VEC_GP, true, sel_ec(c, csel));
        inner = true;
    } else {
        if (v86)
            return fail_fault(c, VEC_GP, true, sel_ec(c, csel));
        if (!conforming && cdpl != cpl)
            return fail_fault(c, VEC_GP, true, sel_ec(c, csel));
        inner = false;
    }
    const unsigned new_cpl = inner ? cdpl : cpl;
    const unsigned stack_acc = new_cpl == 3 ? VTX_ACC_USER : 0;
    const vtx_cpu_seg old_ss = s->seg[VTX_S_SS];
    const uint64_t old_rsp = s->gpr[VTX_R_RSP];
    const uint16_t old_cs = s->seg[VTX_S_CS].sel;
    frame f = { 0 };

    if (lm) {
        /* SDM 6.14.2-6.14.5: RSPn on a privilege change, ISTn whenever the gate names one. */
        uint64_t new_rsp = old_rsp;
        if (inner || ist) {
            uint8_t b[8];
            if (!tss_read(c, ist ? ist * 8 + 28 : new_cpl * 8 + 4, 8, b))
                return false;
            new_rsp = le(b, 8);
        }
        if (!canonical(s, new_rsp))
            return fail_fault(c, VEC_SS, true, c->ext);
        new_rsp &= ~0xFull;
        fpush(&f, old_ss.sel, 8);
        fpush(&f, old_rsp, 8);
        fpush(&f, s->rflags, 8);
        fpush(&f, old_cs, 8);
        fpush(&f, ret_ip, 8);
        if (d->has_error_code)
            fpush(&f, d->error_code, 8);
        for (unsigned i = 1; i <= f.n; i++)
            if (!canonical(s, new_rsp - 8ull * i))
                return fail_fault(c, VEC_SS, true, c->ext);
        if (!canonical(s, target))
            return fail_fault(c, VEC_GP, true, c->ext);
        uint64_t sp = new_rsp;
        for (unsigned i = 0; i < f.n; i++) {
            uint8_t b[8];
            sp -= 8;
            for (unsigned k = 0; k < 8; k++)
                b[k] = (uint8_t)(f.val[i] >> (8 * k));
            if (!lin_access(c, sp, b, 8, stack_acc | VTX_ACC_WRITE))
                return false;
        }
        if (!touch_desc(c, &cs))
            return false;
        s->gpr[VTX_R_RSP] = sp;
        if (inner) {
            /* NULL SS with RPL = new CPL; SS.DPL keeps the CPL (SDM 27.3.2). */
            s->seg[VTX_S_SS] = (vtx_cpu_seg){ .sel = (uint16_t)new_cpl, .base = 0, .limit = 0,
                                              .ar = VTX_AR_UNUSABLE | (new_cpl << 5) };
        }
    } else {
        const unsigned isz = gate16 ? 2 : 4;
        vtx_cpu_seg new_ss = old_ss;
        uint64_t sp0 = old_rsp;
        desc ssd = { 0 };
        if (inner) {
            /* SS:ESP for the new CPL from the current TSS (SDM 7.2.1 / 8.2.1 Figures 7-2, 7-11). */
            const vtx_cpu_seg *tr = &s->seg[VTX_S_TR];
            bool tss32 = vtx_ar_type(tr->ar) & 8;
            uint8_t b[6];
            uint16_t nss;
            if (tss32) {
                if (!tss_read(c, new_cpl * 8 + 4, 6, b))
                    return false;
                sp0 = le(b, 4);
                nss = (uint16_t)le(b + 4, 2);
            } else {
                if (!tss_read(c, new_cpl * 4 + 2, 4, b))
                    return false;
                sp0 = le(b, 2);
                nss = (uint16_t)le(b + 2, 2);
            }
            if ((nss & 0xFFFC) == 0)
                return fail_fault(c, VEC_TS, true, c->ext);
            if (!fetch_desc(c, nss, VEC_TS, &ssd))
                return false;
            uint32_t sar = ssd.seg.ar;
            if ((nss & 3) != new_cpl || vtx_ar_dpl(sar) != new_cpl || !(sar & VTX_AR_S) || (vtx_ar_type(sar) & 8) ||
                !(vtx_ar_type(sar) & 2))
                return fail_fault(c, VEC_TS, true, sel_ec(c, nss));
            if (!(sar & VTX_AR_P))
                return fail_fault(c, VEC_SS, true, sel_ec(c, nss));
            new_ss = ssd.seg;
            if (v86) {
                fpush(&f, s->seg[VTX_S_GS].sel, isz);
                fpush(&f, s->seg[VTX_S_FS].sel, isz);
                fpush(&f, s->seg[VTX_S_DS].sel, isz);
                fpush(&f, s->seg[VTX_S_ES].sel, isz);
            }
            fpush(&f, old_ss.sel, isz);
            fpush(&f, old_rsp & (gate16 ? 0xFFFF : 0xFFFFFFFF), isz);
        }
        fpush(&f, s->rflags & (gate16 ? 0xFFFF : 0xFFFFFFFF), isz);
        fpush(&f, old_cs, isz);
        fpush(&f, ret_ip & (gate16 ? 0xFFFF : 0xFFFFFFFF), isz);
        if (d->has_error_code)
            fpush(&f, d->error_code & (gate16 ? 0xFFFF : 0xFFFFFFFF), isz);
        if (!legacy_room(&new_ss, sp0, &f))
            return fail_fault(c, VEC_SS, true, inner ? sel_ec(c, ssd.sel) : c->ext);
        if (target > cs.seg.limit)
            return fail_fault(c, VEC_GP, true, c->ext);
        uint64_t sp;
        if (!legacy_write(c, &new_ss, sp0, &f, stack_acc, &sp))
            return false;
        if (!touch_desc(c, &cs))
            return false;
        if (inner) {
            if (!touch_desc(c, &ssd))
                return false;
            new_ss = ssd.seg;
            new_ss.sel = (uint16_t)((ssd.sel & 0xFFFC) | new_cpl);
            s->seg[VTX_S_SS] = new_ss;
            if (v86) {
                static const int nulls[] = { VTX_S_ES, VTX_S_DS, VTX_S_FS, VTX_S_GS };
                for (unsigned i = 0; i < 4; i++)
                    s->seg[nulls[i]] = (vtx_cpu_seg){ .sel = 0, .base = 0, .limit = 0, .ar = VTX_AR_UNUSABLE };
            }
        }
        s->gpr[VTX_R_RSP] = sp;
    }
    s->seg[VTX_S_CS] = cs.seg;
    s->seg[VTX_S_CS].sel = (uint16_t)((csel & 0xFFFC) | new_cpl);
    s->rip = target;
    s->rflags = handler_flags(s->rflags, int_gate);
    return true;
}

void vtx_deliver_ex(vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps, const vtx_delivery *d,
                    vtx_deliver_result *res)
{
    if (!res)
        return;
    memset(res, 0, sizeof *res);
    if (!s || !mem || !d) {
        res->outcome = VTX_DELIVER_UNMAPPED;
        return;
    }
    dctx ctx; /* about 7 KiB */
    dctx *c = &ctx;
    memset(c, 0, sizeof *c);
    c->real = mem;
    c->view = (vtx_phys_mem){ .ctx = c, .read = ovl_read, .write = ovl_write };
    c->caps = caps;
    c->st = *s;
    c->res = res;
    /* SDM Vol. 3A "Debug Exceptions" (RF): the RFLAGS image pushed for a
     * fault-class exception has RF = 1; everything else pushes RF as it is (INS-RF-1). */
    if (d->push_rf)
        c->st.rflags |= VTX_RFLAGS_RF;
    /* INJ-15: EXT = 1 unless the event is INT n, INT3 or INTO. */
    c->ext = (d->type == VTX_EVT_SW_INT || d->type == VTX_EVT_SW_EXC) ? 0 : 1;

    /* INJ-7: the return address (wrapped to the code size). */
    uint64_t ret = s->rip;
    if (d->type == VTX_EVT_SW_INT || d->type == VTX_EVT_PRIV_SW || d->type == VTX_EVT_SW_EXC)
        ret += d->insn_len;
    const uint32_t car = s->seg[VTX_S_CS].ar;
    if (!(in_ia32e(s) && (car & VTX_AR_L)))
        ret &= (car & VTX_AR_DB) && (s->cr0 & VTX_CR0_PE) && !(s->rflags & VTX_RFLAGS_VM) ? 0xFFFFFFFFull : 0xFFFFull;

    bool ok = (s->cr0 & VTX_CR0_PE) ? deliver_protected(c, d, ret) : deliver_real(c, d, ret);
    if (!ok)
        return;
    /* Commit: the buffered writes in order, then the state. */
    for (unsigned i = 0; i < c->n; i++) {
        const ovl_ent *e = &c->ent[i];
        if (!mem->write || !mem->write(mem->ctx, e->pa, e->b, e->len)) {
            res->outcome = VTX_DELIVER_UNMAPPED;
            res->address = e->pa;
            return;
        }
    }
    *s = c->st;
    res->outcome = VTX_DELIVERED;
}

void vtx_deliver(vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_delivery *d, vtx_deliver_result *res)
{
    vtx_deliver_ex(s, mem, NULL, d, res);
}

vtx_exc_class vtx_deliver_class(uint8_t vector, vtx_event_type type)
{
    if (type != VTX_EVT_HW_EXC)
        return VTX_EXC_BENIGN; /* interrupts, NMI, INT n, INT1, INT3, INTO */
    switch (vector) {
    case 0: case 10: case 11: case 12: case 13: case 21:
        return VTX_EXC_CONTRIBUTORY;
    case 14: case 20:
        return VTX_EXC_PAGE_FAULT;
    case VEC_DF:
        return VTX_EXC_DOUBLE_FAULT;
    default:
        return VTX_EXC_BENIGN;
    }
}

bool vtx_exception_is_fault(uint8_t vector)
{
    switch (vector) {
    case 0: case 5: case 6: case 7: case 10: case 11: case 12: case 13: case 14: case 16: case 17: case 19:
    case 20: case 21:
        return true;
    default:
        return false;
    }
}

bool vtx_deliver_makes_df(vtx_exc_class first, vtx_exc_class second)
{
    if (first == VTX_EXC_CONTRIBUTORY)
        return second == VTX_EXC_CONTRIBUTORY;
    if (first == VTX_EXC_PAGE_FAULT)
        return second == VTX_EXC_CONTRIBUTORY || second == VTX_EXC_PAGE_FAULT;
    return false;
}

bool vtx_deliver_makes_triple(vtx_exc_class first, vtx_exc_class second)
{
    return first == VTX_EXC_DOUBLE_FAULT &&
           (second == VTX_EXC_CONTRIBUTORY || second == VTX_EXC_PAGE_FAULT || second == VTX_EXC_DOUBLE_FAULT);
}
