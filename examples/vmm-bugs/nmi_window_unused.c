/*
 * nmi_window_unused: NMI_WINDOW_UNUSED (NW-2, NW-6).
 *
 * The VMM's virtual watchdog raises an NMI while the guest is in its NMI
 * handler; the VMM queues it and arms NMI-window exiting. At the NMI-window
 * exit it disarms the window and calls its "inject pending events" routine —
 * which looks at the interrupt queue, not the NMI counter. The window was
 * armed for nothing and the watchdog's NMI never arrives.
 * Fix: the NMI-window exit injects the queued NMI.
 */
#include <stdio.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    int nmi_queued, irq_queued, handler_runs;
} vmm;

static void inject_pending(vmm *v, bool nmi_window)
{
    gal *g = v->g;
    if ((g->fixed || !nmi_window) && v->nmi_queued && !(gal_rd(g, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 8)) {
        gal_inject(g, GAL_EVENT(2, 2), 0, 0);
        v->nmi_queued--;
    } else if (v->irq_queued) {
        gal_inject(g, GAL_EVENT(0, 0x30), 0, 0);
        v->irq_queued--;
    }
}

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_IO_INSTRUCTION: /* the NMI handler runs; the watchdog fires once */
        if (v->handler_runs++ == 0) {
            v->nmi_queued++;
            gal_set(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
        }
        gal_skip(g);
        return VTX_VMM_RESUME;
    case VTX_EXIT_REASON_NMI_WINDOW:
        gal_clr(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
        inject_pending(v, true);
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "an NMI-window exit answered without an NMI", 0);
    static const uint8_t code[] = {0x90, 0x90, 0x0f, 0x01, 0xc1}; /* nop; nop; vmcall */
    static const uint8_t nmi[] = {0xe6, 0x80, 0x48, 0xcf};         /* out 0x80, al; iretq */
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 2, nmi, sizeof nmi);
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    vmm v = {.g = &g, .nmi_queued = 1};
    inject_pending(&v, false);
    gal_run(&g, handle, &v, 100);
    printf("  2 NMIs were due; the guest's NMI handler ran %d time(s)\n", v.handler_runs);
    return gal_verdict(&g, VTX_VMM_NMI_WINDOW_UNUSED);
}
