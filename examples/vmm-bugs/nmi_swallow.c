/*
 * nmi_swallow: LOST_NMI (VNMI-1).
 *
 * NMI exiting = 1: every NMI exits to the VMM. This VMM uses NMIs for its own
 * profiler and treats every NMI exit as a profiler sample — including the one
 * the platform meant for the guest (its watchdog). The guest never sees it.
 * Fix: an NMI the VMM did not cause itself is the guest's: inject it (with
 * virtual NMIs, arming NMI-window exiting while the guest blocks NMIs).
 */
#include <stdio.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    int profiler_samples_due; /* NMIs the VMM's own profiler raised */
    int guest_nmis;
} vmm;

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_EXCEPTION_NMI:
        if (v->profiler_samples_due > 0) {
            v->profiler_samples_due--;
            printf("  VMM: profiler sample\n");
        } else if (g->fixed) {
            printf("  VMM: not ours: the guest's NMI\n");
            gal_inject(g, GAL_EVENT(2, 2), 0, 0);
        } else {
            printf("  VMM: profiler sample (it was not)\n");
        }
        return VTX_VMM_RESUME;
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        v->guest_nmis++;
        gal_skip(g);
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "an NMI exit swallowed as a host NMI", 0);
    /* mov ecx, 20; l: dec ecx; jnz l; vmcall */
    static const uint8_t code[] = {0xb9, 0x14, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x01, 0xc1};
    /* watchdog NMI handler: out 0x80, al; iretq */
    static const uint8_t nmi[] = {0xe6, 0x80, 0x48, 0xcf};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 2, nmi, sizeof nmi);
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    gal_nmi(&g, 5);
    vmm v = {&g, 0, 0};
    gal_run(&g, handle, &v, 100);
    printf("  the platform sent the guest 1 NMI; the guest's handler ran %d time(s)\n", v.guest_nmis);
    return gal_verdict(&g, VTX_VMM_LOST_NMI);
}
