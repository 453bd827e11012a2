/*
 * "Virtual-interrupt delivery" (secondary processor-based control bit 9; SDM Vol. 3
 * "Evaluation and Delivery of Virtual Interrupts", "PPR Virtualization", "EOI
 * Virtualization", "Self-IPI Virtualization"; catalogue IW-7, PRI-2 item 8).
 *
 * RVI and SVI (the guest interrupt status, low and high byte) are processor state
 * between VM entry and VM exit; VIRR, VISR and VPPR live on the virtual-APIC page.
 * A virtual interrupt is recognised only by an evaluation (VM entry, TPR, EOI and
 * self-IPI virtualization), and only when "interrupt-window exiting" is 0 and
 * RVI[7:4] > VPPR[7:4]; once recognised it is delivered at the first boundary
 * with RFLAGS.IF = 1 and no blocking by STI or MOV SS, at the priority of an
 * interrupt-window exit (IW-7).
 */
#include "apic_virt.h"
#include "windows.h"

static bool vid(const vtx_machine *m) { return vtx_vapic_proc2(m) & VTX_PROC2_VIRT_INTR_DELIVERY; }

/* VISR / VIRR: bit v is bit (v & 1FH) of the 32-bit field at base + ((v & E0H) >> 1). */
static void set_vector(vtx_machine *m, unsigned base, uint8_t v, bool on)
{
    unsigned off = base + ((v & 0xE0u) >> 1);
    uint32_t w;
    vtx_vapic_read32(m, off, &w);
    w = on ? w | (1u << (v & 31)) : w & ~(1u << (v & 31));
    vtx_vapic_write(m, off, &w, 4);
}

/* The highest vector set in VISR or VIRR, 0 when none. */
static uint8_t highest_vector(const vtx_machine *m, unsigned base)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t w;
        if (vtx_vapic_read32(m, base + 16u * (unsigned)i, &w) && w)
            return (uint8_t)(32 * i + 31 - __builtin_clz(w));
    }
    return 0;
}

static uint8_t vppr(const vtx_machine *m)
{
    uint32_t v;
    vtx_vapic_read32(m, VTX_VAPIC_VPPR, &v);
    return (uint8_t)v;
}

static bool iw_exiting(const vtx_machine *m)
{
    return vtx_vmcs_get(&m->current->f, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_INTR_WINDOW_EXITING;
}

/* SDM "PPR Virtualization": VPPR <- VTPR & FFH if VTPR[7:4] >= SVI[7:4], else
 * SVI & F0H; bytes 3:1 of VPPR are cleared. */
void vtx_ppr_virtualize(vtx_machine *m)
{
    uint32_t vtpr;
    vtx_vapic_read32(m, VTX_VAPIC_VTPR, &vtpr);
    uint32_t ppr = ((vtpr >> 4) & 0xF) >= (m->g.svi >> 4) ? vtpr & 0xFF : m->g.svi & 0xF0u;
    vtx_vapic_write(m, VTX_VAPIC_VPPR, &ppr, 4);
}

/* SDM "Evaluation of Pending Virtual Interrupts" (IW-7): recognised when
 * "interrupt-window exiting" is 0 and RVI[7:4] > VPPR[7:4]; otherwise not. */
void vtx_vid_evaluate(vtx_machine *m)
{
    m->g.vintr_recognized = !iw_exiting(m) && (m->g.rvi >> 4) > (vppr(m) >> 4);
}

/* SDM "EOI Virtualization": the vector in service (SVI) leaves VISR, SVI becomes the
 * next one in service, PPR virtualization; then a trap-like "virtualized EOI" exit
 * (reason 45, qualification = the vector) if its EOI-exit bitmap bit is 1, else an
 * evaluation of pending virtual interrupts. */
void vtx_eoi_virtualize(vtx_machine *m)
{
    vtx_guest *g = &m->g;
    uint8_t v = g->svi;
    set_vector(m, VTX_VAPIC_VISR, v, false);
    g->svi = highest_vector(m, VTX_VAPIC_VISR);
    vtx_ppr_virtualize(m);
    uint64_t bitmap = vtx_vmcs_get(&m->current->f, (enum vtx_slot)(VTX_SLOT_EOI_EXIT_BITMAP0 + v / 64));
    if ((bitmap >> (v % 64)) & 1) {
        g->apic_trap = VTX_EXIT_REASON_VIRTUALIZED_EOI;
        g->apic_trap_qual = v;
    } else {
        vtx_vid_evaluate(m);
    }
}

/* SDM "Self-IPI Virtualization": VIRR[v] <- 1, RVI <- max(RVI, v), evaluation. */
void vtx_self_ipi_virtualize(vtx_machine *m, uint8_t v)
{
    set_vector(m, VTX_VAPIC_VIRR, v, true);
    if (v > m->g.rvi)
        m->g.rvi = v;
    vtx_vid_evaluate(m);
}

/* SDM "Updating Non-Register State" (VM entry): with virtual-interrupt delivery,
 * RVI and SVI come from the guest interrupt status, then PPR virtualization and the
 * evaluation of pending virtual interrupts (the delivery waits for the boundary
 * after event injection, SDM "Interrupt-Window Exiting and Virtual-Interrupt
 * Delivery"). */
void vtx_vid_entry(vtx_machine *m, const vtx_vmcs_values *f)
{
    vtx_guest *g = &m->g;
    g->vintr_recognized = false;
    if (!vid(m))
        return;
    uint16_t status = (uint16_t)vtx_vmcs_get(f, VTX_SLOT_GUEST_INTR_STATUS);
    g->rvi = (uint8_t)status;
    g->svi = (uint8_t)(status >> 8);
    vtx_ppr_virtualize(m);
    vtx_vid_evaluate(m);
}

/* VM exit: the guest interrupt status is saved (RVI low byte, SVI high byte). */
void vtx_vid_save(const vtx_machine *m, vtx_vmcs_values *f)
{
    if (vid(m))
        vtx_vmcs_set(f, VTX_SLOT_GUEST_INTR_STATUS, (uint16_t)(m->g.rvi | (m->g.svi << 8)));
}

/* ---- the boundary ---- */

bool vtx_virtual_intr_open(const vtx_machine *m, bool *armed, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    *armed = g->vintr_recognized;
    if (!*armed) {
        /* IW-7: with interrupt-window exiting = 1 no virtual interrupt is recognised,
         * however RVI compares with VPPR; the IW exit is taken instead. Reported so. */
        if (vid(m) && iw_exiting(m) && (g->rvi >> 4) > (vppr(m) >> 4)) {
            *armed = true;
            *rule = "IW-7";
            *why = "interrupt-window exiting = 1: no virtual interrupt is recognised";
        }
        return false;
    }
    if (g->activity == VTX_SHUTDOWN || g->activity == VTX_WAIT_SIPI) {
        /* SDM "Virtual-Interrupt Delivery": it wakes HLT, not shutdown or wait-for-SIPI. */
        *rule = "IW-7";
        *why = g->activity == VTX_SHUTDOWN ? "no virtual-interrupt delivery in the shutdown state"
                                           : "no virtual-interrupt delivery in wait-for-SIPI";
        return false;
    }
    if (!vtx_maskable_unblocked(m, "IW-7", rule, why))
        return false;
    *rule = "IW-7";
    *why = NULL;
    return true;
}

/* SDM "Virtual-Interrupt Delivery": Vector <- RVI; VISR[Vector] <- 1; SVI <- Vector;
 * VPPR <- Vector & F0H; VIRR[Vector] <- 0; RVI <- the highest vector left in VIRR
 * (0 when none); recognition ceases. The delivery through the guest IDT (as an
 * external interrupt) follows (run.c). */
void vtx_virtual_intr_acknowledge(vtx_machine *m)
{
    vtx_guest *g = &m->g;
    uint8_t v = g->rvi;
    set_vector(m, VTX_VAPIC_VISR, v, true);
    g->svi = v;
    uint32_t ppr = v & 0xF0u;
    vtx_vapic_write(m, VTX_VAPIC_VPPR, &ppr, 4);
    set_vector(m, VTX_VAPIC_VIRR, v, false);
    g->rvi = highest_vector(m, VTX_VAPIC_VIRR);
    g->vintr_recognized = false;
    m->delivered_vector = v;
}
