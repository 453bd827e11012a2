/*
 * Whether a pending NMI can be taken at this boundary (catalogue A.4, D: BLK-NMI-*,
 * VNMI-*): with "virtual NMIs" = 0, blocking by NMI holds it off (VNMI-5, VNMI-6);
 * with "virtual NMIs" = 1 the bit is virtual-NMI blocking, which does not hold
 * off real NMIs (VNMI-2). Blocking by STI and MOV SS hold it off per the knobs
 * CFG-STI-NMI and CFG-MSS-NMI (VNMI-11). Wait-for-SIPI blocks NMIs (HLT-8).
 */
#include "windows.h"

bool vtx_nmi_unblocked(const vtx_machine *m, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    uint32_t pin = (uint32_t)vtx_vmcs_get(&m->current->f, VTX_SLOT_PIN_CONTROLS);
    if (g->activity == VTX_WAIT_SIPI) {
        *rule = "HLT-8";
        *why = "NMIs are blocked in wait-for-SIPI";
        return false;
    }
    if (g->block_nmi && !(pin & VTX_PIN_VIRTUAL_NMIS)) {
        *rule = "BLK-NMI-1";
        *why = "blocking by NMI (until IRET)";
        return false;
    }
    if (g->block_movss && (m->profile.knobs & VTX_KNOB_MSS_NMI)) {
        *rule = "CFG-MSS-NMI";
        *why = "blocking by MOV SS (CFG-MSS-NMI on)";
        return false;
    }
    if (g->block_sti && (m->profile.knobs & VTX_KNOB_STI_NMI)) {
        *rule = "CFG-STI-NMI";
        *why = "blocking by STI (CFG-STI-NMI on)";
        return false;
    }
    return true;
}
