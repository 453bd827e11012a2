/*
 * Whether a pending MTF VM exit is taken at this boundary (catalogue F, MTF-6,
 * MTF-7). When it is made pending: mtf.h.
 */
#include "mtf.h"
#include "windows.h"

bool vtx_mtf_open(const vtx_machine *m, const char **rule, const char **why)
{
    const vtx_guest *g = &m->g;
    if (g->activity == VTX_SHUTDOWN || g->activity == VTX_WAIT_SIPI) {
        *rule = "MTF-7";
        *why = "no MTF exits in shutdown or wait-for-SIPI";
        return false;
    }
    *rule = "MTF-6";
    return true;
}
