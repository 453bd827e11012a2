/*
 * Where the NMI window is decided (catalogue C, NW-1..8): with "NMI-window
 * exiting" = 1, a VM exit occurs before any instruction when there is no
 * virtual-NMI blocking and no blocking by MOV SS; blocking by STI prevents it
 * too when CFG-STI-NW is on. RFLAGS.IF and pending NMIs do not matter.
 */
#include "windows.h"

bool vtx_nmi_window_open(const vtx_machine *m, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    if (g->activity == VTX_WAIT_SIPI) {
        *rule = "NW-5";
        *why = "no NMI-window exits in wait-for-SIPI";
        return false;
    }
    if (g->block_nmi) {
        *rule = "NW-2";
        *why = "virtual-NMI blocking";
        return false;
    }
    if (g->block_movss) {
        *rule = "BLK-MSS-1";
        *why = "blocking by MOV SS";
        return false;
    }
    if (g->block_sti && (m->profile.knobs & VTX_KNOB_STI_NW)) {
        *rule = "CFG-STI-NW";
        *why = "blocking by STI (CFG-STI-NW on)";
        return false;
    }
    return true;
}
