/*
 * The local xAPIC of the one-CPU platform (SDM Vol. 3A "Advanced Programmable
 * Interrupt Controller (APIC)"): the register page, task and processor
 * priority, interrupt acceptance (IRR -> ISR -> EOI), the error status
 * register, the interrupt command register for IPIs to this CPU, and
 * IA32_APIC_BASE. The timer is in platform/xapic_timer.c. Own rules APIC-* in
 * docs/rules-own.tsv; docs/platform.md ("Local xAPIC") says what is not modelled.
 */
#include <stdio.h>
#include <string.h>
#include "xapic_internal.h"

/* The register page (SDM "Local APIC Register Address Map"): offset, name, writable bits.
 * Read-only registers have no writable bits; EOI is write-only (reads 0). The
 * 256-bit ISR, TMR and IRR (eight registers each) are handled as ranges. */
#define VTX_XAPIC_REGS(X)                                                                   \
    X(0x020, "ID", 0xFF000000u)         X(0x030, "LVR", 0)                                  \
    X(0x080, "TPR", 0x000000FFu)        X(0x090, "APR", 0)                                  \
    X(0x0A0, "PPR", 0)                  X(0x0B0, "EOI", 0)                                  \
    X(0x0C0, "RRD", 0)                  X(0x0D0, "LDR", 0xFF000000u)                        \
    X(0x0E0, "DFR", 0xF0000000u)        X(0x0F0, "SPIV", 0x000001FFu)                       \
    X(0x280, "ESR", 0)                  X(0x300, "ICR_LO", 0x000CCFFFu)                     \
    X(0x310, "ICR_HI", 0xFF000000u)     X(0x320, "LVT_TIMER", 0x000300FFu)                  \
    X(0x330, "LVT_THERMAL", 0x000107FFu) X(0x340, "LVT_PERF", 0x000107FFu)                  \
    X(0x350, "LVT_LINT0", 0x0001A7FFu)  X(0x360, "LVT_LINT1", 0x0001A7FFu)                  \
    X(0x370, "LVT_ERROR", 0x000100FFu)  X(0x380, "TMICT", 0xFFFFFFFFu)                      \
    X(0x390, "TMCCT", 0)                X(0x3E0, "TDCR", 0x0000000Bu)

typedef struct xapic_reg {
    uint32_t offset;
    const char *name;
    uint32_t writable;
} xapic_reg;

static const xapic_reg regs[] = {
#define VTX_REG_ROW(off, name, w) {off, name, w},
    VTX_XAPIC_REGS(VTX_REG_ROW)
#undef VTX_REG_ROW
};

static const xapic_reg *reg_at(uint32_t offset)
{
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
        if (regs[i].offset == offset)
            return &regs[i];
    return NULL;
}

#define OFF_ISR 0x100u
#define OFF_TMR 0x180u
#define OFF_IRR 0x200u
#define OFF_LVT0 0x320u

vtx_status vtx_xapic_refuse(vtx_xapic *x, vtx_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why, sizeof x->why, fmt, ap);
    va_end(ap);
    return st;
}

/* ---- 256-bit registers ---- */

static bool bit_test(const uint32_t r[8], unsigned v) { return (r[v / 32] >> (v % 32)) & 1u; }
static void bit_set(uint32_t r[8], unsigned v) { r[v / 32] |= 1u << (v % 32); }
static void bit_clear(uint32_t r[8], unsigned v) { r[v / 32] &= ~(1u << (v % 32)); }

/* The highest vector set in @p r, or -1. */
static int highest(const uint32_t r[8])
{
    for (int i = 7; i >= 0; i--)
        if (r[i])
            return i * 32 + 31 - __builtin_clz(r[i]);
    return -1;
}

/* ---- priorities ---- */

uint32_t vtx_xapic_ppr(const vtx_xapic *x)
{
    if (!x)
        return 0;
    /* APIC-PPR-1: PPR = TPR when TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0 (ISRV 0 when ISR is empty). */
    int isrv = highest(x->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0u;
    return (x->tpr & 0xF0u) >= isr_class ? x->tpr : isr_class;
}

/* APIC-PPR-1: the arbitration priority (SDM "Arbitration Priority Register"). */
static uint32_t apr(const vtx_xapic *x)
{
    int irrv = highest(x->irr), isrv = highest(x->isr);
    uint32_t tpr_c = x->tpr & 0xF0u, irr_c = irrv < 0 ? 0 : (uint32_t)irrv & 0xF0u;
    uint32_t isr_c = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0u;
    if (tpr_c >= irr_c && tpr_c > isr_c)
        return x->tpr;
    uint32_t a = tpr_c & isr_c;
    return a > irr_c ? a : irr_c;
}

/* ---- acceptance ---- */

static bool sw_enabled(const vtx_xapic *x) { return x->spiv & VTX_APIC_SPIV_ENABLE; }

static void accept_fixed(vtx_xapic *x, uint8_t vector, bool level);

/* APIC-ESR-1: an error is recorded for the next ESR write, and raises the error LVT's interrupt. */
static void apic_error(vtx_xapic *x, uint32_t bits)
{
    x->esr_pending |= bits;
    uint32_t lvt = x->lvt[VTX_XAPIC_LVT_ERROR];
    if (lvt & VTX_APIC_LVT_MASKED)
        return;
    if ((lvt & VTX_APIC_VECTOR) < 16)
        x->esr_pending |= VTX_APIC_ESR_RECV_ILLEGAL; /* reported, not raised again */
    else
        accept_fixed(x, (uint8_t)(lvt & VTX_APIC_VECTOR), false);
}

/* APIC-IRR-1: a fixed interrupt sets its IRR bit (and TMR bit for level-triggered). Vectors 0-15
 * are illegal (ESR bit 6); a software-disabled APIC does not accept fixed interrupts (APIC-SPIV-1). */
static void accept_fixed(vtx_xapic *x, uint8_t vector, bool level)
{
    if (vector < 16) {
        apic_error(x, VTX_APIC_ESR_RECV_ILLEGAL);
        return;
    }
    if (!sw_enabled(x))
        return;
    bit_set(x->irr, vector);
    if (level)
        bit_set(x->tmr, vector);
    else
        bit_clear(x->tmr, vector);
}

void vtx_xapic_lvt_fire(vtx_xapic *x, vtx_xapic_lvt lvt)
{
    uint32_t e = x->lvt[lvt];
    if (e & VTX_APIC_LVT_MASKED)
        return;
    /* Only the timer fires (and the error entry, by apic_error): neither has a delivery-mode
     * field, both deliver fixed. Thermal, performance-counter and LINT0/LINT1 entries are
     * registers only: the platform has no source that drives them. */
    accept_fixed(x, (uint8_t)(e & VTX_APIC_VECTOR), false);
}

/* ---- reset ---- */

/* APIC-RESET-1: the power-up state of the registers (SDM "Local APIC State After Power-Up or Reset"). */
static void reset_registers(vtx_xapic *x)
{
    x->id = (uint32_t)x->initial_id << 24;
    x->tpr = x->ldr = 0;
    x->dfr = 0xFFFFFFFFu;
    x->spiv = 0xFFu;
    x->esr = x->esr_pending = 0;
    x->icr_lo = x->icr_hi = 0;
    for (int i = 0; i < VTX_XAPIC_NLVT; i++)
        x->lvt[i] = VTX_APIC_LVT_MASKED;
    memset(x->irr, 0, sizeof x->irr);
    memset(x->isr, 0, sizeof x->isr);
    memset(x->tmr, 0, sizeof x->tmr);
    vtx_xapic_timer_reset(x);
}

vtx_status vtx_xapic_init(vtx_xapic *x, uint8_t apic_id)
{
    if (!x)
        return VTX_ERR_INVALID_ARG;
    memset(x, 0, sizeof *x);
    x->initial_id = apic_id;
    x->maxphyaddr = 36;
    x->base_msr = VTX_XAPIC_DEFAULT_BASE | VTX_XAPIC_BASE_EN | VTX_XAPIC_BASE_BSP;
    reset_registers(x);
    return VTX_OK;
}

vtx_status vtx_xapic_set_maxphyaddr(vtx_xapic *x, uint8_t maxphyaddr)
{
    if (!x)
        return VTX_ERR_INVALID_ARG;
    x->why[0] = 0;
    if (maxphyaddr < 32 || maxphyaddr > 52)
        return vtx_xapic_refuse(x, VTX_ERR_INVALID_ARG, "xAPIC: MAXPHYADDR %u is outside 32..52", maxphyaddr);
    x->maxphyaddr = maxphyaddr;
    return VTX_OK;
}

bool vtx_xapic_enabled(const vtx_xapic *x) { return x && (x->base_msr & VTX_XAPIC_BASE_EN); }

/* Bring the device to @p now (the clock never goes back) and process timer expiries. */
static uint64_t tick(vtx_xapic *x, uint64_t now)
{
    if (now < x->last_now)
        now = x->last_now;
    x->last_now = now;
    vtx_xapic_timer_update(x, now);
    return now;
}

/* ---- IA32_APIC_BASE ---- */

vtx_status vtx_xapic_set_base(vtx_xapic *x, uint64_t now, uint64_t msr_value)
{
    if (!x)
        return VTX_ERR_INVALID_ARG;
    x->why[0] = 0;
    /* APIC-BASE-1: bits 7:0 and 9 are reserved, EXTD too without x2APIC, and the base above MAXPHYADDR. */
    uint64_t reserved = 0xFFull | (1ull << 9) | VTX_XAPIC_BASE_EXTD | ~((1ull << x->maxphyaddr) - 1);
    if (msr_value & reserved)
        return vtx_xapic_refuse(x, VTX_ERR_INVALID_ARG,
                                "xAPIC: IA32_APIC_BASE value %#llx sets reserved bits %#llx%s (#GP)",
                                (unsigned long long)msr_value, (unsigned long long)(msr_value & reserved),
                                (msr_value & VTX_XAPIC_BASE_EXTD) ? " (EXTD: x2APIC is not modelled)" : "");
    tick(x, now);
    bool was_enabled = x->base_msr & VTX_XAPIC_BASE_EN;
    x->base_msr = msr_value;
    /* APIC-BASE-1, APIC-RESET-1: disabling loses the APIC's state, which returns to power-up;
     * enabling again starts from there. */
    if (was_enabled && !(msr_value & VTX_XAPIC_BASE_EN))
        reset_registers(x);
    return VTX_OK;
}

uint64_t vtx_xapic_get_base(const vtx_xapic *x) { return x ? x->base_msr : 0; }

/* ---- CR8 ---- */

vtx_status vtx_xapic_set_cr8(vtx_xapic *x, uint64_t v)
{
    if (!x)
        return VTX_ERR_INVALID_ARG;
    x->why[0] = 0;
    if (v > 15)
        return vtx_xapic_refuse(x, VTX_ERR_INVALID_ARG, "xAPIC: CR8 value %#llx sets reserved bits 63:4 (#GP)",
                                (unsigned long long)v);
    x->tpr = (uint32_t)v << 4; /* APIC-TPR-1: CR8[3:0] = TPR[7:4]; TPR[3:0] cleared */
    return VTX_OK;
}

uint8_t vtx_xapic_get_cr8(const vtx_xapic *x) { return x ? (uint8_t)((x->tpr >> 4) & 0xFu) : 0; }

/* ---- interrupts to the core ---- */

int vtx_xapic_pending(vtx_xapic *x, uint64_t now)
{
    if (!vtx_xapic_enabled(x))
        return -1;
    tick(x, now);
    /* APIC-IRR-1: the highest requested vector, when its class is above the processor priority's. */
    int v = highest(x->irr);
    if (v < 0 || ((uint32_t)v & 0xF0u) <= (vtx_xapic_ppr(x) & 0xF0u))
        return -1;
    return v;
}

vtx_status vtx_xapic_ack(vtx_xapic *x, uint64_t now, uint8_t vector)
{
    if (!x)
        return VTX_ERR_INVALID_ARG;
    x->why[0] = 0;
    if (!vtx_xapic_enabled(x))
        return vtx_xapic_refuse(x, VTX_ERR_STATE, "xAPIC: acknowledge while disabled in IA32_APIC_BASE");
    tick(x, now);
    if (!bit_test(x->irr, vector))
        return vtx_xapic_refuse(x, VTX_ERR_STATE, "xAPIC: acknowledge of vector %u, which is not requested", vector);
    bit_clear(x->irr, vector); /* APIC-IRR-1: INTA moves the vector from IRR to ISR */
    bit_set(x->isr, vector);
    return VTX_OK;
}

bool vtx_xapic_take_nmi(vtx_xapic *x, uint64_t now)
{
    if (!x)
        return false;
    tick(x, now);
    bool nmi = x->nmi_pending; /* APIC-NMI-1: consumed once */
    x->nmi_pending = false;
    return nmi;
}

uint64_t vtx_xapic_next_deadline(const vtx_xapic *x)
{
    if (!vtx_xapic_enabled(x) || !x->timer_armed || (x->lvt[VTX_XAPIC_LVT_TIMER] & VTX_APIC_LVT_MASKED))
        return UINT64_MAX;
    return x->timer_next;
}

vtx_status vtx_xapic_raise(vtx_xapic *x, uint64_t now, uint8_t vector)
{
    if (!x)
        return VTX_ERR_INVALID_ARG;
    x->why[0] = 0;
    if (!vtx_xapic_enabled(x))
        return vtx_xapic_refuse(x, VTX_ERR_STATE, "xAPIC: interrupt %u raised while disabled in IA32_APIC_BASE", vector);
    tick(x, now);
    accept_fixed(x, vector, false);
    return VTX_OK;
}

/* ---- the interrupt command register ---- */

static const char *const dm_names[8] = {"fixed", "lowest priority", "SMI", "reserved (011)",
                                        "NMI", "INIT", "start-up", "reserved (111)"};

/* Does the destination field (no shorthand) name this APIC? APIC-ICR-2 */
static vtx_status dest_is_self(vtx_xapic *x, bool logical, uint8_t dest, bool *self)
{
    if (dest == 0xFF) { /* broadcast, physical and logical */
        *self = true;
        return VTX_OK;
    }
    if (!logical) {
        *self = dest == (uint8_t)(x->id >> 24);
        return VTX_OK;
    }
    uint8_t ldr = (uint8_t)(x->ldr >> 24);
    switch (x->dfr >> 28) {
    case 0xF: /* flat: a bit per APIC */
        *self = (dest & ldr) != 0;
        return VTX_OK;
    case 0x0: /* cluster: cluster in bits 7:4, a bit per APIC in bits 3:0 */
        *self = (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xFu) != 0;
        return VTX_OK;
    default:
        return vtx_xapic_refuse(x, VTX_ERR_UNSUPPORTED, "xAPIC: ICR: logical destination with DFR model %#x "
                                "(neither flat 1111b nor cluster 0000b) is not modelled", x->dfr >> 28);
    }
}

/* APIC-ICR-1, APIC-ICR-2: the IPI the ICR low write sends. There is one CPU: an IPI either
 * targets this APIC or nobody. */
static vtx_status send_ipi(vtx_xapic *x)
{
    uint32_t lo = x->icr_lo;
    uint8_t vector = (uint8_t)(lo & VTX_APIC_VECTOR);
    unsigned dm = VTX_APIC_DELIVERY_MODE(lo), shorthand = (lo >> 18) & 3u;
    bool logical = lo & (1u << 11);
    bool self = false;
    vtx_status st;

    switch (shorthand) {
    case 0: /* the destination field */
        if ((st = dest_is_self(x, logical, (uint8_t)(x->icr_hi >> 24), &self)) != VTX_OK)
            return st;
        break;
    case 1: /* self: the SDM's table of valid ICR combinations allows only fixed. NMI to self is
             * delivered all the same (the own-ID form is valid and kernels use both). */
    case 2: /* all including self: only fixed is valid */
        if (dm != VTX_APIC_DM_FIXED && !(shorthand == 1 && dm == VTX_APIC_DM_NMI))
            return vtx_xapic_refuse(x, VTX_ERR_UNSUPPORTED,
                                    "xAPIC: ICR: delivery mode %s with shorthand %s is invalid in the SDM's "
                                    "ICR table and not modelled", dm_names[dm],
                                    shorthand == 1 ? "self" : "all-including-self");
        self = true;
        break;
    default: /* all excluding self: nobody on one CPU */
        self = false;
        break;
    }
    /* The level (14) and trigger mode (15) bits have no meaning on the Pentium 4 and later xAPIC:
     * every IPI is issued edge-triggered, asserted (SDM "Interrupt Command Register", and note 2 of
     * its table of valid combinations). So there is no INIT level de-assert either. */
    if ((dm == VTX_APIC_DM_FIXED || dm == VTX_APIC_DM_LOWEST) && vector < 16) {
        apic_error(x, VTX_APIC_ESR_SEND_ILLEGAL); /* APIC-ESR-1 */
        return VTX_OK;
    }
    if (!self)
        return VTX_OK; /* APIC-ICR-2: no other CPU (INIT/SIPI to all-excluding-self at boot) */
    switch (dm) {
    case VTX_APIC_DM_FIXED:
    case VTX_APIC_DM_LOWEST: /* this CPU is the lowest-priority one of a set of one */
        accept_fixed(x, vector, false);
        return VTX_OK;
    case VTX_APIC_DM_NMI:
        x->nmi_pending = true; /* APIC-NMI-1: bypasses IRR and ISR */
        return VTX_OK;
    case VTX_APIC_DM_STARTUP:
        return VTX_OK; /* APIC-ICR-2: a running CPU (not waiting for SIPI) ignores a SIPI */
    case VTX_APIC_DM_INIT:
        return vtx_xapic_refuse(x, VTX_ERR_UNSUPPORTED, "xAPIC: ICR: INIT to this CPU (a processor reset) is not modelled");
    default:
        return vtx_xapic_refuse(x, VTX_ERR_UNSUPPORTED, "xAPIC: ICR: delivery mode %s to this CPU is not modelled",
                                dm_names[dm]);
    }
}

/* ---- the register page ---- */

static vtx_status page_access(vtx_xapic *x, uint32_t offset, const char *what)
{
    if (offset > 0xFFCu)
        return vtx_xapic_refuse(x, VTX_ERR_INVALID_ARG, "xAPIC: %s at offset %#x, outside the 4-KiB page", what, offset);
    if (!vtx_xapic_enabled(x))
        return vtx_xapic_refuse(x, VTX_ERR_STATE, "xAPIC: %s at offset %#x while disabled in IA32_APIC_BASE", what,
                                offset);
    if (offset & 0xFu)
        return vtx_xapic_refuse(x, VTX_ERR_UNSUPPORTED,
                                "xAPIC: %s at offset %#x, not 16-byte aligned (model-specific in the SDM, not modelled)",
                                what, offset);
    return VTX_OK;
}

vtx_status vtx_xapic_mmio_read(vtx_xapic *x, uint64_t now, uint32_t offset, uint32_t *value)
{
    if (!x || !value)
        return VTX_ERR_INVALID_ARG;
    x->why[0] = 0;
    *value = 0;
    vtx_status st = page_access(x, offset, "32-bit read");
    if (st != VTX_OK)
        return st;
    now = tick(x, now);
    if (offset >= OFF_ISR && offset < OFF_IRR + 0x80u) { /* ISR, TMR, IRR */
        const uint32_t *r = offset < OFF_TMR ? x->isr : offset < OFF_IRR ? x->tmr : x->irr;
        *value = r[(offset & 0x7Fu) >> 4];
        return VTX_OK;
    }
    if (offset >= OFF_LVT0 && offset < OFF_LVT0 + 0x10u * VTX_XAPIC_NLVT) {
        *value = x->lvt[(offset - OFF_LVT0) >> 4]; /* delivery status (bit 12) is never set: always idle */
        return VTX_OK;
    }
    switch (offset) {
    case 0x020: *value = x->id; break;
    case 0x030: *value = VTX_XAPIC_LVR; break;
    case 0x080: *value = x->tpr; break;
    case 0x090: *value = apr(x); break;
    case 0x0A0: *value = vtx_xapic_ppr(x); break;
    case 0x0B0: /* EOI: write-only */
    case 0x0C0: *value = 0; break; /* RRD: no remote read */
    case 0x0D0: *value = x->ldr; break;
    case 0x0E0: *value = x->dfr; break;
    case 0x0F0: *value = x->spiv; break;
    case 0x280: *value = x->esr; break;
    case 0x300: *value = x->icr_lo; break; /* APIC-ICR-1: delivery status (bit 12) reads 0: idle */
    case 0x310: *value = x->icr_hi; break;
    case 0x380: *value = x->tmict; break;
    case 0x390: *value = vtx_xapic_current_count(x, now); break;
    case 0x3E0: *value = x->tdcr; break;
    default:
        apic_error(x, VTX_APIC_ESR_ILLEGAL_REG); /* APIC-REG-1: a reserved register reads 0 */
        break;
    }
    return VTX_OK;
}

vtx_status vtx_xapic_mmio_write(vtx_xapic *x, uint64_t now, uint32_t offset, uint32_t value)
{
    if (!x)
        return VTX_ERR_INVALID_ARG;
    x->why[0] = 0;
    vtx_status st = page_access(x, offset, "32-bit write");
    if (st != VTX_OK)
        return st;
    now = tick(x, now);
    const xapic_reg *r = reg_at(offset);
    if (!r) {
        if (!(offset >= OFF_ISR && offset < OFF_IRR + 0x80u))
            apic_error(x, VTX_APIC_ESR_ILLEGAL_REG); /* APIC-REG-1: a reserved register */
        return VTX_OK;                               /* ISR, TMR, IRR are read-only */
    }
    uint32_t v = value & r->writable; /* APIC-REG-1: reserved and read-only bits keep their values */
    switch (offset) {
    case 0x020: x->id = v; break;
    case 0x080: x->tpr = v; break; /* APIC-TPR-1 */
    case 0x0B0: {                  /* APIC-EOI-1: the highest in-service vector ends */
        int isrv = highest(x->isr);
        if (isrv >= 0)
            bit_clear(x->isr, (unsigned)isrv);
        break;
    }
    case 0x0D0: x->ldr = v; break;
    case 0x0E0: x->dfr = v | 0x0FFFFFFFu; break;
    case 0x0F0:
        x->spiv = v;
        if (!(v & VTX_APIC_SPIV_ENABLE)) /* APIC-SPIV-1: software disable masks every LVT entry */
            for (int i = 0; i < VTX_XAPIC_NLVT; i++)
                x->lvt[i] |= VTX_APIC_LVT_MASKED;
        break;
    case 0x280: /* APIC-ESR-1: a write makes the errors since the last write visible and starts over */
        x->esr = x->esr_pending;
        x->esr_pending = 0;
        break;
    case 0x300:
        x->icr_lo = v;
        return send_ipi(x);
    case 0x310: x->icr_hi = v; break;
    case 0x380: vtx_xapic_timer_set_initial(x, now, v); break;
    case 0x3E0: vtx_xapic_timer_set_divide(x, now, v); break;
    default:
        if (offset >= OFF_LVT0 && offset < OFF_LVT0 + 0x10u * VTX_XAPIC_NLVT) {
            /* APIC-LVT-1; APIC-SPIV-1: a software-disabled APIC keeps the mask bits set */
            x->lvt[(offset - OFF_LVT0) >> 4] = sw_enabled(x) ? v : v | VTX_APIC_LVT_MASKED;
        }
        break; /* LVR, APR, PPR, RRD, TMCCT: read-only */
    }
    return VTX_OK;
}
