/*
 * "Use TPR shadow" (primary processor-based control bit 21): the virtual-APIC
 * page and its VTPR (SDM Vol. 3 "Virtualizing CR8-Based TPR Accesses", "TPR
 * Virtualization"), and the TPR-below-threshold VM exit (reason 43): trap-like
 * after an instruction that wrote VTPR, and right after VM entry (SDM "VM Exits
 * Induced by the TPR Threshold"; catalogue IW-8, PRI-2 item 1).
 *
 * The virtual-APIC page is guest memory: the model reads and writes it through
 * the machine's mapped memory, where the VMM sees every change.
 */
#include <stdio.h>
#include "apic_virt.h"

static uint64_t field(const vtx_machine *m, enum vtx_slot s) { return vtx_vmcs_get(&m->current->f, s); }

bool vtx_tpr_shadow(const vtx_machine *m)
{
    return field(m, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_TPR_SHADOW;
}

/* Secondary controls count only when "activate secondary controls" is 1. */
static uint32_t proc2_of(const vtx_vmcs_values *f)
{
    if (!(vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_SECONDARY_CONTROLS))
        return 0;
    return (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS2);
}

uint32_t vtx_vapic_proc2(const vtx_machine *m) { return proc2_of(&m->current->f); }

bool vtx_vapic_read32(const vtx_machine *m, unsigned offset, uint32_t *v)
{
    *v = 0;
    return vtx_mem_read(m, field(m, VTX_SLOT_VIRTUAL_APIC_ADDR) + offset, v, 4, NULL) == VTX_OK;
}

bool vtx_vapic_write(vtx_machine *m, unsigned offset, const void *v, size_t len)
{
    return vtx_mem_write(m, field(m, VTX_SLOT_VIRTUAL_APIC_ADDR) + offset, v, len, NULL) == VTX_OK;
}

/* ---- VM entry ---- */

/* Is [pa, pa + 4 KiB) entirely (all) or in any part (!all) in mapped memory? */
static bool page_mapped(const vtx_machine *m, uint64_t pa, bool all)
{
    uint64_t covered = 0;
    for (size_t i = 0; i < m->n_regions; i++) {
        const vtx_mem_region *r = &m->regions[i];
        uint64_t lo = pa > r->pa ? pa : r->pa;
        uint64_t hi = pa + 4096 < r->pa + r->size ? pa + 4096 : r->pa + r->size;
        if (lo < hi)
            covered += hi - lo; /* regions never overlap (vtx_machine_map) */
    }
    return all ? covered == 4096 : covered != 0;
}

bool vtx_vapic_entry_refused(const vtx_machine *m, const vtx_vmcs_values *f, char *why, size_t n)
{
    uint32_t proc = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS), proc2 = proc2_of(f);
    if (proc & VTX_PROC_TPR_SHADOW) {
        uint64_t pa = vtx_vmcs_get(f, VTX_SLOT_VIRTUAL_APIC_ADDR);
        if (!page_mapped(m, pa, true)) {
            snprintf(why, n, "the virtual-APIC page 0x%llx (\"Use TPR shadow\") is not in mapped memory, where "
                     "the model keeps the virtual APIC", (unsigned long long)pa);
            return true;
        }
    }
    if (proc2 & VTX_PROC2_VIRT_APIC_ACCESSES) {
        uint64_t pa = vtx_vmcs_get(f, VTX_SLOT_APIC_ACCESS_ADDR);
        if (page_mapped(m, pa, false)) {
            /* APIC-access VM exits and the virtualization of accesses to the page are
             * not modelled: with the page outside mapped memory, an access stops the run. */
            snprintf(why, n, "\"Virtualize APIC accesses\" with the APIC-access page 0x%llx in mapped memory is "
                     "not modelled yet (APIC-access VM exits; outside mapped memory an access stops the run)",
                     (unsigned long long)pa);
            return true;
        }
    }
    return false;
}

/* IW-8 (SDM "VM Exits Induced by the TPR Threshold"): with "use TPR shadow" and
 * "virtualize APIC accesses" both 1 and "virtual-interrupt delivery" 0, a VM exit
 * is pending right after VM entry when TPR threshold[3:0] > VTPR[7:4]. (Without
 * "virtualize APIC accesses" the entry check of ENT-CTL-5 makes this impossible.)
 * It follows event injection and is taken at the first boundary with the highest
 * priority; IF and interruptibility do not block it; it wakes HLT, and waits out
 * shutdown and wait-for-SIPI (vtx_tpr_exit_open). */
void vtx_tpr_entry(vtx_machine *m, const vtx_vmcs_values *f)
{
    m->g.tpr_exit = 0;
    m->g.apic_trap = 0;
    uint32_t proc2 = proc2_of(f);
    if (!(vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS) & VTX_PROC_TPR_SHADOW) ||
        !(proc2 & VTX_PROC2_VIRT_APIC_ACCESSES) || (proc2 & VTX_PROC2_VIRT_INTR_DELIVERY))
        return;
    uint32_t vtpr;
    if (!vtx_vapic_read32(m, VTX_VAPIC_VTPR, &vtpr))
        return;
    if ((vtx_vmcs_get(f, VTX_SLOT_TPR_THRESHOLD) & 0xF) > ((vtpr >> 4) & 0xF))
        m->g.tpr_exit = VTX_TPR_EXIT_AFTER_ENTRY;
}

/* ---- TPR virtualization and MOV CR8 ---- */

/* SDM "TPR Virtualization": without virtual-interrupt delivery, a trap-like
 * TPR-below-threshold exit when VTPR[7:4] < TPR threshold[3:0]; with it, PPR
 * virtualization and the evaluation of pending virtual interrupts. */
void vtx_tpr_virtualize(vtx_machine *m)
{
    if (vtx_vapic_proc2(m) & VTX_PROC2_VIRT_INTR_DELIVERY) {
        vtx_ppr_virtualize(m);
        vtx_vid_evaluate(m);
        return;
    }
    uint32_t vtpr;
    vtx_vapic_read32(m, VTX_VAPIC_VTPR, &vtpr);
    if (((vtpr >> 4) & 0xF) < (field(m, VTX_SLOT_TPR_THRESHOLD) & 0xF))
        m->g.tpr_exit = VTX_TPR_EXIT_TRAP;
}

/* SDM "Virtualizing CR8-Based TPR Accesses": a MOV CR8 that does not exit (CR8-load
 * / CR8-store exiting, insn_exits.c) with "use TPR shadow" = 1. MOV from CR8 loads
 * VTPR[7:4] into bits 3:0 of the destination and clears bits 63:4; MOV to CR8
 * (#GP(0) when source bits 63:4 are set, as for CR8 itself) stores source[3:0]
 * in VTPR[7:4] and clears the rest of the 32-bit VTPR, then TPR virtualization. */
vtx_vapic_result vtx_tpr_mov_cr8(vtx_machine *m, const vtx_insn *insn)
{
    if (insn->cr != 8 || !vtx_tpr_shadow(m))
        return VTX_VAPIC_NOT_MINE;
    uint64_t *reg = &m->g.cpu.gpr[insn->gpr & 15];
    uint32_t vtpr;
    if (insn->cls == VTX_IC_MOV_FROM_CR) {
        if (!vtx_vapic_read32(m, VTX_VAPIC_VTPR, &vtpr))
            return VTX_VAPIC_UNMAPPED;
        *reg = (vtpr >> 4) & 0xF;
        return VTX_VAPIC_DONE;
    }
    if (*reg >> 4)
        return VTX_VAPIC_GP;
    vtpr = (uint32_t)(*reg & 0xF) << 4;
    if (!vtx_vapic_write(m, VTX_VAPIC_VTPR, &vtpr, 4))
        return VTX_VAPIC_UNMAPPED;
    vtx_tpr_virtualize(m);
    return VTX_VAPIC_DONE;
}

vtx_vapic_result vtx_vapic_insn(vtx_machine *m, const vtx_insn *insn)
{
    switch (insn->cls) {
    case VTX_IC_MOV_TO_CR:
    case VTX_IC_MOV_FROM_CR:
        return vtx_tpr_mov_cr8(m, insn);
    case VTX_IC_RDMSR:
    case VTX_IC_WRMSR:
        return vtx_x2apic_msr(m, insn->cls == VTX_IC_WRMSR);
    default:
        return VTX_VAPIC_NOT_MINE;
    }
}

/* ---- the boundary ---- */

bool vtx_tpr_exit_open(const vtx_machine *m, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    if (g->activity == VTX_SHUTDOWN || g->activity == VTX_WAIT_SIPI) {
        /* SDM "VM Exits Induced by the TPR Threshold": not in shutdown (it waits for an
         * event that leaves it) or wait-for-SIPI. */
        *rule = "IW-8";
        *why = g->activity == VTX_SHUTDOWN ? "no TPR-below-threshold exit in the shutdown state"
                                           : "no TPR-below-threshold exit in wait-for-SIPI";
        return false;
    }
    *rule = g->tpr_exit == VTX_TPR_EXIT_AFTER_ENTRY ? "IW-8" : "PRI-2";
    *why = NULL;
    return true;
}
