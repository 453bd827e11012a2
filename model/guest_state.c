/*
 * Guest state between the VMCS and the processor: loading at VM entry (SDM Vol. 3
 * "Loading Guest State", catalogue BLK-LOAD-1..3) and saving at VM exit ("Saving
 * Guest State", BLK-SAVE-1, EXIT-9).
 */
#include "apic_virt.h"

#define G(f, name) vtx_vmcs_get(f, VTX_SLOT_##name)
#define S(f, name, v) vtx_vmcs_set(f, VTX_SLOT_##name, (v))

#define SEG_SLOTS(N) {VTX_SLOT_GUEST_##N##_SELECTOR, VTX_SLOT_GUEST_##N##_BASE, VTX_SLOT_GUEST_##N##_LIMIT, VTX_SLOT_GUEST_##N##_AR}
static const enum vtx_slot seg_slots[VTX_S_COUNT][4] = {
    SEG_SLOTS(ES), SEG_SLOTS(CS), SEG_SLOTS(SS), SEG_SLOTS(DS),
    SEG_SLOTS(FS), SEG_SLOTS(GS), SEG_SLOTS(LDTR), SEG_SLOTS(TR),
};

void vtx_guest_load(vtx_machine *m, const vtx_vmcs_values *f)
{
    vtx_guest *g = &m->g;
    uint32_t entry = (uint32_t)G(f, ENTRY_CONTROLS);
    bool ia32e = entry & VTX_ENTRY_IA32E_MODE_GUEST;
    g->cpu.cr0 = G(f, GUEST_CR0);
    g->cpu.cr3 = G(f, GUEST_CR3);
    g->cpu.cr4 = G(f, GUEST_CR4);
    /* What VM entry does not load keeps the processor's current value, which is
     * the host's (SDM "Loading Guest Control Registers, Debug Registers, and MSRs"). */
    if (entry & VTX_ENTRY_LOAD_DEBUG_CONTROLS) {
        g->cpu.dr7 = G(f, GUEST_DR7);
        g->debugctl = G(f, GUEST_IA32_DEBUGCTL);
    } else {
        g->debugctl = m->host_msr.debugctl;
    }
    g->sysenter_cs = (uint32_t)G(f, GUEST_IA32_SYSENTER_CS);
    g->sysenter_esp = G(f, GUEST_IA32_SYSENTER_ESP);
    g->sysenter_eip = G(f, GUEST_IA32_SYSENTER_EIP);
    if (entry & VTX_ENTRY_LOAD_PERF_GLOBAL_CTRL)
        g->perf_global_ctrl = G(f, GUEST_IA32_PERF_GLOBAL_CTRL);
    g->pat = (entry & VTX_ENTRY_LOAD_PAT) ? G(f, GUEST_IA32_PAT) : m->host_msr.pat;
    if (entry & VTX_ENTRY_LOAD_EFER) {
        g->cpu.efer = G(f, GUEST_IA32_EFER);
    } else {
        /* Without "load IA32_EFER", the host's EFER with LMA from "IA-32e mode
         * guest", and LME too when paging is on. */
        g->cpu.efer = m->root.efer & ~(uint64_t)(VTX_EFER_LMA | VTX_EFER_LME);
        if (ia32e)
            g->cpu.efer |= VTX_EFER_LMA | ((g->cpu.cr0 & VTX_CR0_PG) ? VTX_EFER_LME : 0);
    }
    if (entry & VTX_ENTRY_LOAD_BNDCFGS)
        g->bndcfgs = G(f, GUEST_IA32_BNDCFGS);
    for (int i = 0; i < VTX_S_COUNT; i++) {
        g->cpu.seg[i].sel = (uint16_t)vtx_vmcs_get(f, seg_slots[i][0]);
        g->cpu.seg[i].base = vtx_vmcs_get(f, seg_slots[i][1]);
        g->cpu.seg[i].limit = (uint32_t)vtx_vmcs_get(f, seg_slots[i][2]);
        g->cpu.seg[i].ar = (uint32_t)vtx_vmcs_get(f, seg_slots[i][3]);
    }
    g->cpu.gdtr_base = G(f, GUEST_GDTR_BASE);
    g->cpu.gdtr_limit = (uint32_t)G(f, GUEST_GDTR_LIMIT);
    g->cpu.idtr_base = G(f, GUEST_IDTR_BASE);
    g->cpu.idtr_limit = (uint32_t)G(f, GUEST_IDTR_LIMIT);
    g->cpu.rip = G(f, GUEST_RIP);
    g->cpu.gpr[VTX_R_RSP] = G(f, GUEST_RSP);
    g->cpu.rflags = G(f, GUEST_RFLAGS);
    g->smbase = (uint32_t)G(f, GUEST_SMBASE);
    g->pending_dbg = G(f, GUEST_PENDING_DBG_EXCEPTIONS);

    /* Non-register state. BLK-LOAD-1/2: blocking by STI / MOV SS only after a
     * non-vectoring entry, each for one instruction. BLK-LOAD-3: bit 3 is
     * blocking by NMI, or virtual-NMI blocking when "virtual NMIs" = 1. */
    uint32_t intr = (uint32_t)G(f, GUEST_INTERRUPTIBILITY);
    uint32_t inj = (uint32_t)G(f, ENTRY_INTR_INFO);
    unsigned inj_type = (inj >> 8) & 7;
    bool vectoring = (inj >> 31) && inj_type != 7;
    g->block_sti = !vectoring && (intr & VTX_INTR_STI);
    g->block_movss = !vectoring && (intr & VTX_INTR_MOV_SS);
    g->block_nmi = intr & VTX_INTR_NMI;
    /* SDM "Guest Non-Register State": a vectoring entry ends active (INJ-13). */
    g->activity = vectoring ? VTX_ACTIVE : (uint32_t)G(f, GUEST_ACTIVITY_STATE);
    /* INJ-17 / MTF-2: "other event" type 7 vector 0 makes an MTF exit pending. */
    g->mtf_pending = (inj >> 31) && inj_type == 7;
    /* APIC virtualization: the post-entry TPR-threshold exit (IW-8); RVI/SVI, PPR
     * virtualization and the evaluation of pending virtual interrupts (IW-7). */
    vtx_tpr_entry(m, f);
    vtx_vid_entry(m, f);
}

void vtx_guest_save(vtx_machine *m, vtx_vmcs_values *f)
{
    const vtx_guest *g = &m->g;
    uint32_t exit_ctls = (uint32_t)G(f, EXIT_CONTROLS);
    S(f, GUEST_CR0, g->cpu.cr0);
    S(f, GUEST_CR3, g->cpu.cr3);
    S(f, GUEST_CR4, g->cpu.cr4);
    if (exit_ctls & VTX_EXIT_SAVE_DEBUG_CONTROLS) {
        S(f, GUEST_DR7, g->cpu.dr7);
        S(f, GUEST_IA32_DEBUGCTL, g->debugctl);
    }
    S(f, GUEST_IA32_SYSENTER_CS, g->sysenter_cs);
    S(f, GUEST_IA32_SYSENTER_ESP, g->sysenter_esp);
    S(f, GUEST_IA32_SYSENTER_EIP, g->sysenter_eip);
    if (exit_ctls & VTX_EXIT_SAVE_PAT)
        S(f, GUEST_IA32_PAT, g->pat);
    if (exit_ctls & VTX_EXIT_SAVE_EFER)
        S(f, GUEST_IA32_EFER, g->cpu.efer);
    for (int i = 0; i < VTX_S_COUNT; i++) {
        vtx_vmcs_set(f, seg_slots[i][0], g->cpu.seg[i].sel);
        vtx_vmcs_set(f, seg_slots[i][1], g->cpu.seg[i].base);
        vtx_vmcs_set(f, seg_slots[i][2], g->cpu.seg[i].limit);
        vtx_vmcs_set(f, seg_slots[i][3], g->cpu.seg[i].ar);
    }
    S(f, GUEST_GDTR_BASE, g->cpu.gdtr_base);
    S(f, GUEST_GDTR_LIMIT, g->cpu.gdtr_limit);
    S(f, GUEST_IDTR_BASE, g->cpu.idtr_base);
    S(f, GUEST_IDTR_LIMIT, g->cpu.idtr_limit);
    S(f, GUEST_RIP, g->cpu.rip);
    S(f, GUEST_RSP, g->cpu.gpr[VTX_R_RSP]);
    S(f, GUEST_RFLAGS, g->cpu.rflags);
    S(f, GUEST_SMBASE, g->smbase);
    /* EXIT-9 / BLK-SAVE-1: the interruptibility the processor had; bit 2 is 0
     * outside SMM (BLK-SMI-1). Bit 3 is virtual-NMI blocking with "virtual NMIs". */
    uint32_t intr = (g->block_sti ? VTX_INTR_STI : 0) | (g->block_movss ? VTX_INTR_MOV_SS : 0) |
                    (g->block_nmi ? VTX_INTR_NMI : 0);
    S(f, GUEST_INTERRUPTIBILITY, intr);
    S(f, GUEST_ACTIVITY_STATE, g->activity);
    S(f, GUEST_PENDING_DBG_EXCEPTIONS, g->pending_dbg);
    /* PT-5: the remaining timer value, if the save control is 1. */
    if (exit_ctls & VTX_EXIT_SAVE_PREEMPTION_TIMER)
        S(f, PREEMPTION_TIMER_VALUE, g->timer_armed ? vtx_timer_remaining(m, m->cycles) : 0);
    vtx_vid_save(m, f);
}
