/*
 * Whether a pending external (maskable) interrupt can be taken at this boundary.
 * Without "external-interrupt exiting" it needs RFLAGS.IF = 1 and no blocking by
 * STI or MOV SS (SDM "Interrupt and Exception Handling"; BLK-STI-3, BLK-MSS-1).
 * With it, RFLAGS.IF no longer matters (IW-9) and the shadows hold the exit off
 * only when CFG-EXTINT-SHADOW is on. Shutdown and wait-for-SIPI block it (HLT-8).
 */
#include "windows.h"

bool vtx_extint_unblocked(const vtx_machine *m, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    uint32_t pin = (uint32_t)vtx_vmcs_get(&m->current->f, VTX_SLOT_PIN_CONTROLS);
    if (g->activity == VTX_SHUTDOWN || g->activity == VTX_WAIT_SIPI) {
        *rule = "HLT-8";
        *why = "external interrupts are blocked in shutdown and wait-for-SIPI";
        return false;
    }
    bool shadow = g->block_sti || g->block_movss;
    if (pin & VTX_PIN_EXT_INTR_EXITING) {
        if (shadow && (m->profile.knobs & VTX_KNOB_EXTINT_SHADOW)) {
            *rule = "CFG-EXTINT-SHADOW";
            *why = g->block_sti ? "blocking by STI (CFG-EXTINT-SHADOW on)" : "blocking by MOV SS (CFG-EXTINT-SHADOW on)";
            return false;
        }
        return true;
    }
    return vtx_maskable_unblocked(m, NULL, rule, why);
}
