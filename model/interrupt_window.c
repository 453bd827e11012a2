/*
 * Where the interrupt window is decided (catalogue B, IW-1..9): with
 * "interrupt-window exiting" = 1, a VM exit occurs before any instruction when
 * RFLAGS.IF = 1 and there is no blocking by STI or by MOV SS. Nothing else
 * matters: not whether an interrupt is pending, not NMI blocking, not the TPR.
 */
#include "windows.h"

/* RFLAGS.IF = 0, blocking by STI, blocking by MOV SS: what holds a maskable
 * interrupt, the interrupt window and a virtual interrupt alike (IW-1, BLK-STI-3,
 * BLK-MSS-1). `if_rule` is the rule reported for IF = 0. */
bool vtx_maskable_unblocked(const vtx_machine *m, const char *if_rule, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    if (!(g->cpu.rflags & VTX_RFLAGS_IF)) {
        *rule = if_rule;
        *why = "RFLAGS.IF = 0";
        return false;
    }
    if (g->block_sti) {
        *rule = "BLK-STI-3";
        *why = "blocking by STI";
        return false;
    }
    if (g->block_movss) {
        *rule = "BLK-MSS-1";
        *why = "blocking by MOV SS";
        return false;
    }
    return true;
}

bool vtx_intr_window_open(const vtx_machine *m, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    if (g->activity == VTX_SHUTDOWN || g->activity == VTX_WAIT_SIPI) {
        *rule = "IW-5";
        *why = g->activity == VTX_SHUTDOWN ? "no interrupt-window exits in the shutdown state"
                                           : "no interrupt-window exits in wait-for-SIPI";
        return false;
    }
    return vtx_maskable_unblocked(m, "IW-1", rule, why);
}
