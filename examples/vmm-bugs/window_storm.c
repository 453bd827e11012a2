/*
 * window_storm: INTR_WINDOW_STORM (IW-1, IW-6).
 *
 * An interrupt queue with interrupt-window exiting: arm the window when an
 * interrupt cannot go in now, inject at the window exit. This VMM disarms the
 * window only where interrupts arrive, not where the last queued one goes in.
 * After the last injection the handler IRETs, the window opens, and it stays
 * open: the guest exits before every instruction, never retiring one (IW-6).
 * Fix: disarm the window when the queue becomes empty.
 */
#include <stdio.h>
#include <string.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    uint8_t q[8];
    unsigned n;
} vmm;

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_EXTERNAL_INTERRUPT:
        v->q[v->n++] = (uint8_t)gal_rd(g, VTX_VMCS_EXIT_INTR_INFO);
        gal_set(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
        return VTX_VMM_RESUME;
    case VTX_EXIT_REASON_INTERRUPT_WINDOW:
        if (v->n) {
            gal_inject(g, GAL_EVENT(0, v->q[0]), 0, 0);
            memmove(v->q, v->q + 1, --v->n);
        }
        if (!v->n && g->fixed)
            gal_clr(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "interrupt-window exiting left armed after the last interrupt", 0);
    /* cli; mov ecx, 10; l: dec ecx; jnz l; sti; mov ecx, 10; l2: dec ecx; jnz l2; vmcall */
    static const uint8_t code[] = {0xfa, 0xb9, 0x0a, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0xfb,
                                   0xb9, 0x0a, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x01, 0xc1};
    static const uint8_t h[] = {0x48, 0xcf}; /* iretq */
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 0x30, h, sizeof h);
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    gal_set(&g, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    gal_irq(&g, 0x30, 3);
    vmm v = {.g = &g};
    g.quiet_exits = g.quiet_exits || !g.fixed; /* the storm is long */
    vtx_vmm_report rep = gal_run(&g, handle, &v, 40);
    printf("  %llu exits; the guest %s its VMCALL\n", (unsigned long long)rep.exits,
           rep.end == VTX_VMM_END_HANDLER ? "reached" : "never reached");
    return gal_verdict(&g, VTX_VMM_INTR_WINDOW_STORM);
}
