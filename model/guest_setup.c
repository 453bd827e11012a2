/* A known-good flat 64-bit guest and 64-bit host (see guest_setup.h). */
#include <stdarg.h>
#include <string.h>
#include "machine_internal.h"
#include "vtxref/guest_setup.h"

/* Report a problem: `return say(d, VTX_ERR_..., "...", ...)`. */
#define say(d, st, ...) (vtx_diag_set((d), NULL, 0, __VA_ARGS__), (st))

typedef struct writer {
    vtx_machine *m;
    vtx_diag *d;
    vtx_status st;
} writer;

static void w(writer *wr, uint32_t enc, uint64_t v)
{
    if (wr->st != VTX_OK)
        return;
    vtx_insn_result r;
    vtx_status st = vtx_vmwrite(wr->m, enc, v, &r);
    if (st == VTX_OK && r.outcome != VTX_VMSUCCEED) {
        const vtx_field_info *fi = NULL;
        vtx_vmcs_field_lookup(enc, &fi, NULL);
        st = say(wr->d, VTX_ERR_STATE, "VMWRITE %s failed: %s", fi ? fi->name : "?", r.why);
    }
    wr->st = st;
}

static uint64_t must1(const vtx_machine *m, vtx_ctl_field f)
{
    uint32_t m1, a1;
    vtx_profile_ctl_caps(&m->profile, f, &m1, &a1);
    return m1;
}

vtx_status vtx_setup_flat64(vtx_machine *m, const vtx_flat64 *g, vtx_diag *d)
{
    if (!m || !g)
        return VTX_ERR_INVALID_ARG;
    if (!m->vmx_on || !m->current)
        return say(d, VTX_ERR_STATE, "vtx_setup_flat64 needs VMX operation and a current VMCS");
    if (g->tables & 0xFFF)
        return say(d, VTX_ERR_INVALID_ARG, "tables 0x%llx is not 4-KiB aligned", (unsigned long long)g->tables);
    const uint64_t pml4 = g->tables, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000, gdt = pml4 + 0x3000,
                   tss = gdt + 0x100, idt = pml4 + 0x4000;

    /* Page tables: identity map of the first GiB with 2-MiB pages (P, RW, PS).
     * The buffers are automatic: two threads may set up two machines at once. */
    uint64_t page[512];
    memset(page, 0, sizeof page);
    page[0] = pdpt | 3;
    vtx_status st;
    if ((st = vtx_mem_write(m, pml4, page, sizeof page, d)) != VTX_OK)
        return st;
    page[0] = pd | 3;
    if ((st = vtx_mem_write(m, pdpt, page, sizeof page, d)) != VTX_OK)
        return st;
    for (uint64_t i = 0; i < 512; i++)
        page[i] = (i << 21) | 0x83;
    if ((st = vtx_mem_write(m, pd, page, sizeof page, d)) != VTX_OK)
        return st;

    /* GDT: null; 0x08 64-bit code (DPL 0); 0x10 data; 0x18 64-bit TSS (16 bytes, busy). */
    uint64_t gdt_e[5] = {0, 0x00AF9B000000FFFFull, 0x00CF93000000FFFFull, 0, 0};
    gdt_e[3] = 0x67 | ((tss & 0xFFFFFF) << 16) | (0x8Bull << 40) | (((tss >> 24) & 0xFF) << 56);
    gdt_e[4] = tss >> 32;
    if ((st = vtx_mem_write(m, gdt, gdt_e, sizeof gdt_e, d)) != VTX_OK)
        return st;
    uint8_t tss_b[0x68];
    memset(tss_b, 0, sizeof tss_b);
    uint64_t rsp0 = g->rsp;
    memcpy(tss_b + 4, &rsp0, 8);
    if ((st = vtx_mem_write(m, tss, tss_b, sizeof tss_b, d)) != VTX_OK)
        return st;

    /* IDT: 256 64-bit interrupt gates (type 0xE, DPL 0, present) to handlers + 16 * v. */
    uint64_t idt_e[512];
    memset(idt_e, 0, sizeof idt_e);
    if (g->handlers) {
        for (uint64_t v = 0; v < 256; v++) {
            uint64_t h = g->handlers + 16 * v;
            idt_e[2 * v] = (h & 0xFFFF) | (0x08ull << 16) | (0x8Eull << 40) | (((h >> 16) & 0xFFFF) << 48);
            idt_e[2 * v + 1] = h >> 32;
        }
    }
    if ((st = vtx_mem_write(m, idt, idt_e, sizeof idt_e, d)) != VTX_OK)
        return st;

    writer wr = {m, d, VTX_OK};
    /* Controls: the must-be-1 settings, a 64-bit guest, a 64-bit host. */
    w(&wr, VTX_VMCS_PIN_CONTROLS, must1(m, VTX_CTL_PIN));
    w(&wr, VTX_VMCS_PROC_CONTROLS, must1(m, VTX_CTL_PROC));
    w(&wr, VTX_VMCS_EXIT_CONTROLS, must1(m, VTX_CTL_EXIT) | VTX_EXIT_HOST_ADDR_SPACE_SIZE);
    w(&wr, VTX_VMCS_ENTRY_CONTROLS, must1(m, VTX_CTL_ENTRY) | VTX_ENTRY_IA32E_MODE_GUEST);
    w(&wr, VTX_VMCS_EXCEPTION_BITMAP, 0);
    w(&wr, VTX_VMCS_CR3_TARGET_COUNT, 0);
    w(&wr, VTX_VMCS_ENTRY_INTR_INFO, 0);
    w(&wr, VTX_VMCS_VMCS_LINK_POINTER, ~0ull);
    /* Host: the same flat layout (the host never runs in the model; it must pass the checks). */
    w(&wr, VTX_VMCS_HOST_CR0, 0x80050033);
    w(&wr, VTX_VMCS_HOST_CR3, pml4);
    w(&wr, VTX_VMCS_HOST_CR4, VTX_CR4_PAE | VTX_CR4_VMXE);
    w(&wr, VTX_VMCS_HOST_CS_SELECTOR, 0x08);
    w(&wr, VTX_VMCS_HOST_SS_SELECTOR, 0x10);
    w(&wr, VTX_VMCS_HOST_DS_SELECTOR, 0x10);
    w(&wr, VTX_VMCS_HOST_ES_SELECTOR, 0x10);
    w(&wr, VTX_VMCS_HOST_TR_SELECTOR, 0x18);
    w(&wr, VTX_VMCS_HOST_TR_BASE, tss);
    w(&wr, VTX_VMCS_HOST_GDTR_BASE, gdt);
    w(&wr, VTX_VMCS_HOST_IDTR_BASE, idt);
    w(&wr, VTX_VMCS_HOST_RSP, g->rsp);
    w(&wr, VTX_VMCS_HOST_RIP, g->rip);
    /* Guest: 64-bit, paging on, flat segments. */
    w(&wr, VTX_VMCS_GUEST_CR0, 0x80000031); /* PE ET NE PG */
    w(&wr, VTX_VMCS_GUEST_CR3, pml4);
    w(&wr, VTX_VMCS_GUEST_CR4, VTX_CR4_PAE | VTX_CR4_VMXE);
    w(&wr, VTX_VMCS_CR0_READ_SHADOW, 0x80000031);
    w(&wr, VTX_VMCS_CR4_READ_SHADOW, VTX_CR4_PAE);
    w(&wr, VTX_VMCS_GUEST_DR7, 0x400);
    static const struct { uint32_t sel, base, limit, ar; uint16_t s; uint32_t a, l; } segs[] = {
        {VTX_VMCS_GUEST_CS_SELECTOR, VTX_VMCS_GUEST_CS_BASE, VTX_VMCS_GUEST_CS_LIMIT, VTX_VMCS_GUEST_CS_AR, 0x08, 0xA09B, 0xFFFFFFFF},
        {VTX_VMCS_GUEST_SS_SELECTOR, VTX_VMCS_GUEST_SS_BASE, VTX_VMCS_GUEST_SS_LIMIT, VTX_VMCS_GUEST_SS_AR, 0x10, 0xC093, 0xFFFFFFFF},
        {VTX_VMCS_GUEST_DS_SELECTOR, VTX_VMCS_GUEST_DS_BASE, VTX_VMCS_GUEST_DS_LIMIT, VTX_VMCS_GUEST_DS_AR, 0x10, 0xC093, 0xFFFFFFFF},
        {VTX_VMCS_GUEST_ES_SELECTOR, VTX_VMCS_GUEST_ES_BASE, VTX_VMCS_GUEST_ES_LIMIT, VTX_VMCS_GUEST_ES_AR, 0x10, 0xC093, 0xFFFFFFFF},
        {VTX_VMCS_GUEST_FS_SELECTOR, VTX_VMCS_GUEST_FS_BASE, VTX_VMCS_GUEST_FS_LIMIT, VTX_VMCS_GUEST_FS_AR, 0x10, 0xC093, 0xFFFFFFFF},
        {VTX_VMCS_GUEST_GS_SELECTOR, VTX_VMCS_GUEST_GS_BASE, VTX_VMCS_GUEST_GS_LIMIT, VTX_VMCS_GUEST_GS_AR, 0x10, 0xC093, 0xFFFFFFFF},
        {VTX_VMCS_GUEST_LDTR_SELECTOR, VTX_VMCS_GUEST_LDTR_BASE, VTX_VMCS_GUEST_LDTR_LIMIT, VTX_VMCS_GUEST_LDTR_AR, 0, 0x10000, 0},
        {VTX_VMCS_GUEST_TR_SELECTOR, VTX_VMCS_GUEST_TR_BASE, VTX_VMCS_GUEST_TR_LIMIT, VTX_VMCS_GUEST_TR_AR, 0x18, 0x8B, 0x67},
    };
    for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++) {
        w(&wr, segs[i].sel, segs[i].s);
        w(&wr, segs[i].base, segs[i].sel == VTX_VMCS_GUEST_TR_SELECTOR ? tss : 0);
        w(&wr, segs[i].limit, segs[i].l);
        w(&wr, segs[i].ar, segs[i].a);
    }
    w(&wr, VTX_VMCS_GUEST_GDTR_BASE, gdt);
    w(&wr, VTX_VMCS_GUEST_GDTR_LIMIT, 0x27);
    w(&wr, VTX_VMCS_GUEST_IDTR_BASE, idt);
    w(&wr, VTX_VMCS_GUEST_IDTR_LIMIT, 0xFFF);
    w(&wr, VTX_VMCS_GUEST_RIP, g->rip);
    w(&wr, VTX_VMCS_GUEST_RSP, g->rsp);
    w(&wr, VTX_VMCS_GUEST_RFLAGS, g->rflags | 2);
    w(&wr, VTX_VMCS_GUEST_ACTIVITY_STATE, 0);
    w(&wr, VTX_VMCS_GUEST_INTERRUPTIBILITY, 0);
    w(&wr, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
    return wr.st;
}
