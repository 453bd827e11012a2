/* task_switch: see the header. SDM Vol. 3 "Task Switching" (the TSS descriptor
 * and task-gate checks, Table "Conditions Checked During a Task Switch") and
 * Vol. 2 CALL / JMP / IRET / INT n operation. */
#include "task_switch.h"

#define VEC_TS 10
#define VEC_NP 11
#define VEC_GP 13
#define VEC_PF 14

/* Descriptor types (S = 0). */
#define T_TSS16_AVAIL 1
#define T_TSS16_BUSY 3
#define T_TASK_GATE 5
#define T_TSS32_AVAIL 9
#define T_TSS32_BUSY 11

typedef struct tctx {
    const vtx_cpu_state *s;
    const vtx_phys_mem *mem;
    const vtx_paging_caps *caps;
    vtx_task_check *out;
} tctx;

/* The fields of a raw 8-byte descriptor. */
static unsigned d_type(uint64_t d) { return (unsigned)(d >> 40) & 0xF; }
static bool d_system(uint64_t d) { return !((d >> 44) & 1); }
static unsigned d_dpl(uint64_t d) { return (unsigned)(d >> 45) & 3; }
static bool d_present(uint64_t d) { return (d >> 47) & 1; }
static uint32_t d_limit(uint64_t d)
{
    uint32_t limit = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
    return ((d >> 55) & 1) ? (limit << 12) | 0xFFF : limit;
}
static bool is_tss(unsigned type)
{
    return type == T_TSS16_AVAIL || type == T_TSS16_BUSY || type == T_TSS32_AVAIL || type == T_TSS32_BUSY;
}

static void fault(tctx *t, uint8_t vector, uint32_t error_code)
{
    t->out->outcome = VTX_TASK_FAULT;
    t->out->vector = vector;
    t->out->error_code = error_code;
    t->out->address = 0;
}

/* Read linear memory (implicit supervisor accesses, outside IA-32e mode: 32-bit
 * linear addresses) through the guest's paging. On failure the outcome is #PF
 * (address = the linear address) or UNMAPPED, and false is returned. */
static bool lin_read(tctx *t, uint64_t la, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        la &= 0xFFFFFFFFull;
        size_t n = 0x1000 - (la & 0xFFF);
        if (n > len)
            n = len;
        uint64_t pa = 0;
        uint32_t ec = 0;
        vtx_xlate_status st = vtx_translate_ex(t->s, t->mem, t->caps, la, VTX_ACC_IMPLICIT, &pa, &ec);
        if (st == VTX_XLATE_PF) {
            fault(t, VEC_PF, ec);
            t->out->address = la;
            return false;
        }
        if (st == VTX_XLATE_OK && t->mem->read && t->mem->read(t->mem->ctx, pa, p, n)) {
            la += n;
            p += n;
            len -= n;
            continue;
        }
        t->out->outcome = VTX_TASK_UNMAPPED;
        t->out->address = pa;
        return false;
    }
    return true;
}

/* Whether `sel` lies within its descriptor table (the GDT, or the LDT when TI =
 * 1 and `ldt_ok`), and that table's base. */
static bool in_table(const vtx_cpu_state *s, uint16_t sel, bool ldt_ok, uint64_t *base)
{
    uint32_t last = (uint32_t)(sel & 0xFFF8) + 7;
    if (sel & 4) {
        const vtx_cpu_seg *ldt = &s->seg[VTX_S_LDTR];
        if (!ldt_ok || (ldt->ar & VTX_AR_UNUSABLE) || last > ldt->limit)
            return false;
        *base = ldt->base;
        return true;
    }
    if (last > s->gdtr_limit)
        return false;
    *base = s->gdtr_base;
    return true;
}

static bool read_desc(tctx *t, uint64_t table, uint16_t sel, uint64_t *raw)
{
    uint8_t b[8];
    if (!lin_read(t, table + (sel & 0xFFF8), b, sizeof b))
        return false;
    *raw = 0;
    for (unsigned i = 0; i < 8; i++)
        *raw |= (uint64_t)b[i] << (8 * i);
    return true;
}

/* The last check before the switch: the new TSS's limit covers the fields a
 * task switch reads (67H for a 32-bit TSS, 2BH for a 16-bit one), else #TS. */
static void limit_then_switch(tctx *t, uint16_t sel, uint64_t raw, uint32_t ext)
{
    unsigned type = d_type(raw);
    uint32_t min = (type == T_TSS32_AVAIL || type == T_TSS32_BUSY) ? 0x67 : 0x2B;
    if (d_limit(raw) < min) {
        fault(t, VEC_TS, (sel & 0xFFFCu) | ext);
        return;
    }
    t->out->outcome = VTX_TASK_SWITCH;
    t->out->tss_selector = sel;
}

/* The TSS selector of a task gate (in the IDT, GDT or LDT): in the GDT and an
 * available TSS, present, large enough. No DPL check on the TSS descriptor. */
static void gate_tss(tctx *t, uint16_t sel, uint32_t ext)
{
    uint64_t table, raw;
    if (!in_table(t->s, sel, false, &table)) {
        fault(t, VEC_GP, (sel & 0xFFFCu) | ext);
        return;
    }
    if (!read_desc(t, table, sel, &raw))
        return;
    unsigned type = d_type(raw);
    if (!d_system(raw) || (type != T_TSS16_AVAIL && type != T_TSS32_AVAIL)) {
        fault(t, VEC_GP, (sel & 0xFFFCu) | ext); /* busy, or not a TSS */
        return;
    }
    if (!d_present(raw)) {
        fault(t, VEC_NP, (sel & 0xFFFCu) | ext);
        return;
    }
    limit_then_switch(t, sel, raw, ext);
}

/* Legacy protected mode: PE = 1, not virtual-8086, not IA-32e. */
static bool legacy_protected(const vtx_cpu_state *s)
{
    return (s->cr0 & VTX_CR0_PE) && !(s->rflags & VTX_RFLAGS_VM) && !(s->efer & VTX_EFER_LMA);
}

void vtx_task_check_far(const vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps,
                        vtx_task_source src, uint16_t selector, vtx_task_check *out)
{
    *out = (vtx_task_check){.outcome = VTX_TASK_NONE, .source = src};
    if (!s || !mem || !legacy_protected(s) || (selector & 0xFFFC) == 0)
        return;
    tctx t = {s, mem, caps, out};
    uint64_t table, raw;
    /* Outside the table, or unreadable: the engine's far transfer faults itself. */
    if (!in_table(s, selector, true, &table) || !read_desc(&t, table, selector, &raw)) {
        *out = (vtx_task_check){.outcome = VTX_TASK_NONE, .source = src};
        return;
    }
    unsigned type = d_type(raw), dpl = d_dpl(raw), cpl = vtx_cpu_cpl(s), rpl = selector & 3u;
    if (!d_system(raw))
        return; /* a code (or data) segment: an ordinary far transfer */
    uint16_t err = selector & 0xFFFC;
    if (type == T_TASK_GATE) {
        if (dpl < cpl || dpl < rpl) {
            fault(&t, VEC_GP, err);
            return;
        }
        if (!d_present(raw)) {
            fault(&t, VEC_NP, err);
            return;
        }
        gate_tss(&t, (uint16_t)(raw >> 16), 0);
        return;
    }
    if (!is_tss(type))
        return; /* a call gate or an invalid type: the engine's */
    /* TSS descriptors live only in the GDT (SDM "TSS Descriptor"). */
    if ((selector & 4) || dpl < cpl || dpl < rpl || type == T_TSS16_BUSY || type == T_TSS32_BUSY) {
        fault(&t, VEC_GP, err);
        return;
    }
    if (!d_present(raw)) {
        fault(&t, VEC_NP, err);
        return;
    }
    limit_then_switch(&t, selector, raw, 0);
}

void vtx_task_check_iret(const vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps,
                         vtx_task_check *out)
{
    *out = (vtx_task_check){.outcome = VTX_TASK_NONE, .source = VTX_TASK_IRET};
    if (!s || !mem || !legacy_protected(s) || !(s->rflags & VTX_RFLAGS_NT))
        return;
    tctx t = {s, mem, caps, out};
    uint8_t b[2];
    if (!lin_read(&t, s->seg[VTX_S_TR].base, b, 2))
        return;
    uint16_t link = (uint16_t)(b[0] | b[1] << 8);
    uint32_t err = link & 0xFFFCu;
    uint64_t table, raw;
    if (!in_table(s, link, false, &table)) {
        fault(&t, VEC_TS, err);
        return;
    }
    if (!read_desc(&t, table, link, &raw))
        return;
    unsigned type = d_type(raw);
    if (!d_system(raw) || (type != T_TSS16_BUSY && type != T_TSS32_BUSY)) {
        fault(&t, VEC_TS, err); /* the task returned to must be a busy TSS */
        return;
    }
    if (!d_present(raw)) {
        fault(&t, VEC_NP, err);
        return;
    }
    limit_then_switch(&t, link, raw, 0);
}

void vtx_task_check_gate(const vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps,
                         uint16_t tss_selector, uint32_t ext, vtx_task_check *out)
{
    *out = (vtx_task_check){.outcome = VTX_TASK_NONE, .source = VTX_TASK_IDT_GATE};
    if (!s || !mem)
        return;
    tctx t = {s, mem, caps, out};
    gate_tss(&t, tss_selector, ext & 1);
}
