/*
 * nmi_window_storm: NMI_WINDOW_STORM (NW-2, NW-3).
 *
 * A virtual-NMI queue with NMI-window exiting. This VMM arms the NMI window
 * whenever the guest is in its NMI handler and never disarms it: once the
 * handler's IRET removes virtual-NMI blocking the window stays open, and the
 * guest exits before every instruction (NW-2).
 * Fix: disarm NMI-window exiting at the exit when no NMI is queued.
 */
#include <stdio.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    int queued;
} vmm;

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_NMI_WINDOW:
        if (v->queued) {
            gal_inject(g, GAL_EVENT(2, 2), 0, 0);
            v->queued--;
        }
        if (!v->queued && g->fixed)
            gal_clr(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "NMI-window exiting left armed with no NMI queued", 0);
    /* mov ecx, 10; l: dec ecx; jnz l; vmcall */
    static const uint8_t code[] = {0xb9, 0x0a, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x01, 0xc1};
    static const uint8_t nmi[] = {0x90, 0x48, 0xcf}; /* nop; iretq */
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 2, nmi, sizeof nmi);
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    /* two NMIs queued: the first goes in at launch, the second waits for the window */
    gal_inject(&g, GAL_EVENT(2, 2), 0, 0);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    vmm v = {&g, 1};
    g.quiet_exits = g.quiet_exits || !g.fixed;
    vtx_vmm_report rep = gal_run(&g, handle, &v, 40);
    printf("  %llu exits; the guest %s its VMCALL\n", (unsigned long long)rep.exits,
           rep.end == VTX_VMM_END_HANDLER ? "reached" : "never reached");
    return gal_verdict(&g, VTX_VMM_NMI_WINDOW_STORM);
}
