/* The guest environment of a scenario: descriptor tables, page tables, handlers
 * and stubs in guest RAM, and a VMCS that passes every VM-entry check (host and
 * guest state), written with vtx_vmwrite() like a VMM would. Public API only.
 *
 * Modes (docs/scenarios.md): real (unrestricted guest, CR0.PE = PG = 0), pm16 and
 * pm32 (CR0.PE = 1, PG = 0: also unrestricted guest, since without it CR0.PG is
 * fixed to 1, ENT-GST checks on CR0 against IA32_VMX_CR0_FIXED0), pm32-paging
 * (32-bit paging, 4-MiB PSE pages, identity), long64 (IA-32e, 4-level identity
 * paging with 2-MiB pages). Unrestricted guest needs "enable EPT": the EPT pointer names an identity
 * EPT (guest-physical = host-physical) that run.c lays out above the guest's RAM.
 */
#include <stdio.h>
#include <string.h>
#include "scenario_internal.h"

typedef struct wr {
    vtx_machine *m;
    vtx_status st;
    char why[300];
} wr;

static void W(wr *w, uint32_t enc, uint64_t v)
{
    if (w->st != VTX_OK)
        return;
    vtx_insn_result r;
    vtx_status st = vtx_vmwrite(w->m, enc, v, &r);
    if (st != VTX_OK || r.outcome != VTX_VMSUCCEED) {
        const vtx_field_info *fi = NULL;
        vtx_vmcs_field_lookup(enc, &fi, NULL);
        snprintf(w->why, sizeof w->why, "VMWRITE %s = 0x%llx failed: %s", fi ? fi->name : "?", (unsigned long long)v,
                 st != VTX_OK ? vtx_status_name(st) : r.why);
        w->st = st != VTX_OK ? st : VTX_ERR_STATE;
    }
}

static void put64(uint8_t *ram, uint64_t at, uint64_t v) { memcpy(ram + at, &v, 8); }
static void put32(uint8_t *ram, uint64_t at, uint32_t v) { memcpy(ram + at, &v, 4); }

/* A code or data descriptor. */
static uint64_t desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    return (limit & 0xFFFFull) | ((uint64_t)(base & 0xFFFFFF) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xF) << 48) | ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

/* The address vector v's gate points at. */
static uint64_t vector_target(const vtx_scenario *s, unsigned v)
{
    if (s->handler_block[v] >= 0)
        return s->blocks[s->handler_block[v]].linear;
    return s->bits == 16 ? s->seg_base + SCN_SEG16_STUBS + 16u * v : SCN_STUBS + 16u * v;
}

static bool has_error_code(unsigned v) { return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21; }

/* Default handlers: 16 bytes a vector. */
static void write_stubs(const vtx_scenario *s, uint8_t *ram)
{
    if (s->default_handler == SCN_DEF_NOT_PRESENT)
        return;
    for (unsigned v = 0; v < 256; v++) {
        if (s->handler_block[v] >= 0)
            continue;
        uint8_t *p = ram + vector_target(s, v);
        size_t n = 0;
        if (s->default_handler == SCN_DEF_HLT) {
            p[n++] = 0xF4; /* hlt */
            p[n++] = 0xEB; /* jmp short back to the hlt */
            p[n++] = 0xFD;
        } else {
            if (has_error_code(v) && s->mode != SCN_REAL) { /* pop the error code */
                if (s->bits == 64)
                    p[n++] = 0x48;
                p[n++] = 0x83, p[n++] = 0xC4, p[n++] = (uint8_t)(s->bits == 64 ? 8 : s->bits == 32 ? 4 : 2);
            }
            if (s->bits == 64)
                p[n++] = 0x48; /* iretq */
            p[n++] = 0xCF;
        }
    }
}

static void write_idt(const vtx_scenario *s, uint8_t *ram)
{
    const unsigned dpl = s->cpl;
    for (unsigned v = 0; v < 256; v++) {
        uint64_t h = vector_target(s, v);
        bool present = !s->not_present[v] &&
                       (s->handler_block[v] >= 0 || s->default_handler != SCN_DEF_NOT_PRESENT);
        unsigned p = present ? 0x80 : 0;
        switch (s->mode) {
        case SCN_REAL:
            put32(ram, 4u * v, (uint32_t)((h - s->seg_base) | ((s->seg_base >> 4) << 16)));
            break;
        case SCN_PM16: /* 16-bit interrupt gate (type 6), offset in the code segment */
            put64(ram, SCN_IDT + 8u * v, ((h - s->seg_base) & 0xFFFF) | (0x08ull << 16) |
                                             ((uint64_t)(p | (dpl << 5) | 0x06) << 40));
            break;
        case SCN_PM32:
        case SCN_PM32_PAGING:
            put64(ram, SCN_IDT + 8u * v, (h & 0xFFFF) | (0x08ull << 16) | ((uint64_t)(p | (dpl << 5) | 0x0E) << 40) |
                                             ((h >> 16) << 48));
            break;
        case SCN_LONG64:
            put64(ram, SCN_IDT + 16u * v, (h & 0xFFFF) | (0x08ull << 16) |
                                              ((uint64_t)(p | (dpl << 5) | 0x0E) << 40) | (((h >> 16) & 0xFFFF) << 48));
            put64(ram, SCN_IDT + 16u * v + 8, h >> 32);
            break;
        }
    }
}

/* GDT: 0 null, 0x08 code (ring 0), 0x10 data (ring 0), 0x18 code (ring 3),
 * 0x20 data (ring 3), 0x28 the busy TSS (16 bytes in IA-32e mode). */
static void write_gdt(const vtx_scenario *s, uint8_t *ram)
{
    uint64_t code, data;
    switch (s->mode) {
    case SCN_LONG64: code = desc(0, 0xFFFFF, 0x9B, 0xA); data = desc(0, 0xFFFFF, 0x93, 0xC); break;
    case SCN_PM16: code = desc((uint32_t)s->seg_base, 0xFFFF, 0x9B, 0x0); data = desc(0, 0xFFFFF, 0x93, 0x8); break;
    default: code = desc(0, 0xFFFFF, 0x9B, 0xC); data = desc(0, 0xFFFFF, 0x93, 0xC); break;
    }
    const uint64_t dpl3 = 3ull << 45;
    put64(ram, SCN_GDT + 0x00, 0);
    put64(ram, SCN_GDT + 0x08, code);
    put64(ram, SCN_GDT + 0x10, data);
    put64(ram, SCN_GDT + 0x18, code | dpl3);
    put64(ram, SCN_GDT + 0x20, data | dpl3);
    put64(ram, SCN_GDT + 0x28, desc(SCN_TSS, 0x67, 0x8B, 0));
    put64(ram, SCN_GDT + 0x30, 0);
    /* TSS: the ring-0 stack for a CPL-3 guest's interrupts; no I/O bitmap */
    memset(ram + SCN_TSS, 0, 0x68);
    if (s->mode == SCN_LONG64) {
        put64(ram, SCN_TSS + 4, SCN_STACK0);
    } else {
        put32(ram, SCN_TSS + 4, SCN_STACK0);
        put32(ram, SCN_TSS + 8, 0x10);
    }
    put32(ram, SCN_TSS + 0x64, 0x68u << 16);
}

static void write_paging(const vtx_scenario *s, uint8_t *ram)
{
    if (s->mode == SCN_LONG64) { /* PML4, PDPT, PD: the first GiB, 2-MiB pages, user-accessible */
        put64(ram, SCN_PAGING, (SCN_PAGING + 0x1000) | 7);
        put64(ram, SCN_PAGING + 0x1000, (SCN_PAGING + 0x2000) | 7);
        for (uint64_t i = 0; i < 512; i++)
            put64(ram, SCN_PAGING + 0x2000 + 8 * i, (i << 21) | 0x87);
    } else if (s->mode == SCN_PM32_PAGING) { /* one PD of 4-MiB pages: the whole 4 GiB */
        for (uint32_t i = 0; i < 1024; i++)
            put32(ram, SCN_PAGING + 4 * i, (i << 22) | 0x87);
    }
}

static void seg(wr *w, uint32_t sel_enc, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    /* the selector, base, limit and AR encodings of one register are sel, +0x6006-ish apart; use the table */
    const uint32_t idx = (sel_enc - VTX_VMCS_GUEST_ES_SELECTOR) / 2;
    W(w, sel_enc, sel);
    W(w, VTX_VMCS_GUEST_ES_BASE + 2 * idx, base);
    W(w, VTX_VMCS_GUEST_ES_LIMIT + 2 * idx, limit);
    W(w, VTX_VMCS_GUEST_ES_AR + 2 * idx, ar);
}

static void write_guest_segments(const vtx_scenario *s, wr *w)
{
    const unsigned rpl = s->cpl, dpl = s->cpl << 5;
    static const uint32_t data_regs[] = {VTX_VMCS_GUEST_SS_SELECTOR, VTX_VMCS_GUEST_DS_SELECTOR,
                                         VTX_VMCS_GUEST_ES_SELECTOR, VTX_VMCS_GUEST_FS_SELECTOR,
                                         VTX_VMCS_GUEST_GS_SELECTOR};
    if (s->mode == SCN_REAL) {
        seg(w, VTX_VMCS_GUEST_CS_SELECTOR, (uint16_t)(s->seg_base >> 4), s->seg_base, 0xFFFF, 0x9B);
        for (size_t i = 0; i < 5; i++)
            seg(w, data_regs[i], 0, 0, 0xFFFF, 0x93);
        seg(w, VTX_VMCS_GUEST_TR_SELECTOR, 0, 0, 0xFFFF, 0x8B);
    } else {
        uint32_t code_ar, data_ar;
        switch (s->mode) {
        case SCN_LONG64: code_ar = 0xA09B; data_ar = 0xC093; break;
        case SCN_PM16: code_ar = 0x009B; data_ar = 0x8093; break;
        default: code_ar = 0xC09B; data_ar = 0xC093; break;
        }
        const uint16_t cs = (uint16_t)((s->cpl ? 0x18 : 0x08) | rpl), ds = (uint16_t)((s->cpl ? 0x20 : 0x10) | rpl);
        seg(w, VTX_VMCS_GUEST_CS_SELECTOR, cs, s->mode == SCN_PM16 ? s->seg_base : 0,
            s->mode == SCN_PM16 ? 0xFFFF : 0xFFFFFFFF, code_ar | dpl);
        for (size_t i = 0; i < 5; i++)
            seg(w, data_regs[i], ds, 0, 0xFFFFFFFF, data_ar | dpl);
        seg(w, VTX_VMCS_GUEST_TR_SELECTOR, 0x28, SCN_TSS, 0x67, 0x8B);
    }
    seg(w, VTX_VMCS_GUEST_LDTR_SELECTOR, 0, 0, 0, 0x10000); /* unusable */
    W(w, VTX_VMCS_GUEST_GDTR_BASE, SCN_GDT);
    W(w, VTX_VMCS_GUEST_GDTR_LIMIT, 0x37);
    W(w, VTX_VMCS_GUEST_IDTR_BASE, s->mode == SCN_REAL ? 0 : SCN_IDT);
    W(w, VTX_VMCS_GUEST_IDTR_LIMIT, s->mode == SCN_REAL ? 0x3FF : s->mode == SCN_LONG64 ? 0xFFF : 0x7FF);
}

static void write_host(wr *w)
{
    /* A 64-bit host (the host never runs in the model; it must pass the checks). */
    W(w, VTX_VMCS_HOST_CR0, 0x80050033);
    W(w, VTX_VMCS_HOST_CR3, SCN_PAGING);
    W(w, VTX_VMCS_HOST_CR4, VTX_CR4_PAE | VTX_CR4_VMXE);
    W(w, VTX_VMCS_HOST_CS_SELECTOR, 0x08);
    W(w, VTX_VMCS_HOST_SS_SELECTOR, 0x10);
    W(w, VTX_VMCS_HOST_DS_SELECTOR, 0x10);
    W(w, VTX_VMCS_HOST_ES_SELECTOR, 0x10);
    W(w, VTX_VMCS_HOST_FS_SELECTOR, 0);
    W(w, VTX_VMCS_HOST_GS_SELECTOR, 0);
    W(w, VTX_VMCS_HOST_TR_SELECTOR, 0x28);
    W(w, VTX_VMCS_HOST_FS_BASE, 0);
    W(w, VTX_VMCS_HOST_GS_BASE, 0);
    W(w, VTX_VMCS_HOST_TR_BASE, SCN_TSS);
    W(w, VTX_VMCS_HOST_GDTR_BASE, SCN_GDT);
    W(w, VTX_VMCS_HOST_IDTR_BASE, SCN_IDT);
    W(w, VTX_VMCS_HOST_IA32_SYSENTER_CS, 0);
    W(w, VTX_VMCS_HOST_IA32_SYSENTER_ESP, 0);
    W(w, VTX_VMCS_HOST_IA32_SYSENTER_EIP, 0);
    W(w, VTX_VMCS_HOST_RSP, 0x8000);
    W(w, VTX_VMCS_HOST_RIP, 0xFFFFFFFF81000000ull);
}

vtx_status scn_env_write_mem(const vtx_scenario *s, uint8_t *ram, const scn_mem *items, size_t n, char *why,
                             size_t whysize)
{
    for (size_t i = 0; i < n; i++) {
        const scn_mem *m = &items[i];
        const uint8_t *bytes = m->bytes;
        size_t len = m->len;
        if (m->block != (size_t)-1) {
            bytes = s->blocks[m->block].bytes;
            len = s->blocks[m->block].size;
        }
        if (m->at.value > SCN_RAM_SIZE || len > SCN_RAM_SIZE - m->at.value) {
            snprintf(why, whysize, "memory at 0x%llx (%zu bytes) is outside the 4-MiB guest RAM",
                     (unsigned long long)m->at.value, len);
            return VTX_ERR_PARSE;
        }
        if (len)
            memcpy(ram + m->at.value, bytes, len);
    }
    return VTX_OK;
}

vtx_status scn_env_setup(const vtx_scenario *s, vtx_machine *m, uint8_t *ram, vtx_scenario_error *err)
{
    const vtx_profile *p = &s->profile;
    /* memory: tables, handlers, stubs, code */
    write_gdt(s, ram);
    write_paging(s, ram);
    write_stubs(s, ram);
    write_idt(s, ram);
    for (size_t i = 0; i < s->nblocks; i++)
        if (s->blocks[i].bytes)
            memcpy(ram + s->blocks[i].linear, s->blocks[i].bytes, s->blocks[i].size);
    char why[300];
    if (scn_env_write_mem(s, ram, s->mem, s->nmem, why, sizeof why) != VTX_OK)
        return scn_fail(err, NULL, s->mem ? s->mem[0].loc.line : 0, 0, "%s", why);

    wr w = {m, VTX_OK, ""};
    W(&w, VTX_VMCS_PIN_CONTROLS, s->ctl[VTX_CTL_PIN]);
    W(&w, VTX_VMCS_PROC_CONTROLS, s->ctl[VTX_CTL_PROC]);
    if (s->ctl[VTX_CTL_PROC] & VTX_PROC_SECONDARY_CONTROLS)
        W(&w, VTX_VMCS_PROC_CONTROLS2, s->ctl[VTX_CTL_PROC2]);
    W(&w, VTX_VMCS_EXIT_CONTROLS, s->ctl[VTX_CTL_EXIT]);
    W(&w, VTX_VMCS_ENTRY_CONTROLS, s->ctl[VTX_CTL_ENTRY]);
    W(&w, VTX_VMCS_EXCEPTION_BITMAP, 0);
    W(&w, VTX_VMCS_CR3_TARGET_COUNT, 0);
    W(&w, VTX_VMCS_EXIT_MSR_STORE_COUNT, 0);
    W(&w, VTX_VMCS_EXIT_MSR_LOAD_COUNT, 0);
    W(&w, VTX_VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    W(&w, VTX_VMCS_ENTRY_INTR_INFO, 0);
    W(&w, VTX_VMCS_VMCS_LINK_POINTER, ~0ull);
    if (s->need_ept) /* the identity EPT run.c lays out; WB, 4-level walk */
        W(&w, VTX_VMCS_EPT_POINTER, SCN_EPT_PA | 6u | (3u << 3));
    write_host(&w);

    /* Guest control registers: the mode's bits plus what IA32_VMX_CR0/CR4_FIXED0 require
     * (with unrestricted guest, PE and PG are free). */
    const uint64_t cr0_fixed0 = p->msr[VTX_CAP_IA32_VMX_CR0_FIXED0], cr4_fixed0 = p->msr[VTX_CAP_IA32_VMX_CR4_FIXED0];
    uint64_t cr0 = 0x30, cr4 = 0, cr3 = 0; /* ET NE */
    switch (s->mode) {
    case SCN_REAL: break;
    case SCN_PM16:
    case SCN_PM32: cr0 |= VTX_CR0_PE; break;
    case SCN_PM32_PAGING: cr0 |= VTX_CR0_PE | VTX_CR0_PG; cr4 |= 1u << 4 /* PSE */; cr3 = SCN_PAGING; break;
    case SCN_LONG64: cr0 |= VTX_CR0_PE | VTX_CR0_PG; cr4 |= VTX_CR4_PAE; cr3 = SCN_PAGING; break;
    }
    const uint64_t free_bits = (s->ctl[VTX_CTL_PROC2] & VTX_PROC2_UNRESTRICTED_GUEST) ? (VTX_CR0_PE | VTX_CR0_PG) : 0;
    W(&w, VTX_VMCS_GUEST_CR0, cr0 | (cr0_fixed0 & ~free_bits));
    W(&w, VTX_VMCS_CR0_READ_SHADOW, cr0);
    W(&w, VTX_VMCS_GUEST_CR3, cr3);
    W(&w, VTX_VMCS_GUEST_CR4, cr4 | cr4_fixed0);
    W(&w, VTX_VMCS_CR4_READ_SHADOW, cr4);
    W(&w, VTX_VMCS_GUEST_DR7, 0x400);
    W(&w, VTX_VMCS_GUEST_IA32_DEBUGCTL, 0);
    W(&w, VTX_VMCS_GUEST_IA32_SYSENTER_CS, 0);
    W(&w, VTX_VMCS_GUEST_IA32_SYSENTER_ESP, 0);
    W(&w, VTX_VMCS_GUEST_IA32_SYSENTER_EIP, 0);
    if (vtx_profile_has_feature(p, VTX_FEAT_EFER))
        W(&w, VTX_VMCS_GUEST_IA32_EFER, s->mode == SCN_LONG64 ? (VTX_EFER_LME | VTX_EFER_LMA) : 0);
    if (vtx_profile_has_feature(p, VTX_FEAT_HOST_EFER))
        W(&w, VTX_VMCS_HOST_IA32_EFER, VTX_EFER_LME | VTX_EFER_LMA);
    if (vtx_profile_has_feature(p, VTX_FEAT_PAT))
        W(&w, VTX_VMCS_GUEST_IA32_PAT, 0x0007040600070406ull);
    if (vtx_profile_has_feature(p, VTX_FEAT_HOST_PAT))
        W(&w, VTX_VMCS_HOST_IA32_PAT, 0x0007040600070406ull);
    write_guest_segments(s, &w);
    const scn_block *code = &s->blocks[0];
    W(&w, VTX_VMCS_GUEST_RIP, code->org);
    W(&w, VTX_VMCS_GUEST_RSP, s->stack);
    W(&w, VTX_VMCS_GUEST_RFLAGS, s->rflags | 2);
    W(&w, VTX_VMCS_GUEST_ACTIVITY_STATE, s->activity);
    W(&w, VTX_VMCS_GUEST_INTERRUPTIBILITY, s->interruptibility);
    W(&w, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, s->pending_debug);
    if (w.st != VTX_OK) {
        scn_fail(err, NULL, 0, 0, "setting up the guest: %s", w.why);
        return VTX_ERR_STATE;
    }
    /* fields: last, so they override what the loader derived */
    for (size_t i = 0; i < s->nfields; i++) {
        W(&w, s->fields[i].enc, s->fields[i].value);
        if (w.st != VTX_OK)
            return scn_fail(err, NULL, s->fields[i].loc.line, s->fields[i].loc.col, "%s", w.why);
    }
    if (s->inject.present) {
        const scn_inject *in = &s->inject;
        W(&w, VTX_VMCS_ENTRY_INTR_INFO, 0x80000000u | (in->type << 8) | in->vector | (in->has_error_code ? 1u << 11 : 0));
        W(&w, VTX_VMCS_ENTRY_EXCEPTION_ERROR_CODE, in->error_code);
        W(&w, VTX_VMCS_ENTRY_INSTRUCTION_LEN, in->length);
        if (w.st != VTX_OK)
            return scn_fail(err, NULL, in->loc.line, in->loc.col, "%s", w.why);
    }
    vtx_gprs g = {0};
    uint64_t *gp = &g.rax;
    for (int r = 0; r < SCN_GPR_COUNT; r++)
        if (s->regs.mask & (1u << r))
            gp[r] = s->regs.v[r];
    return vtx_machine_set_gprs(m, &g);
}
