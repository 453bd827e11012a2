/*
 * two_paths: DUPLICATE_INTERRUPT (EXIT-4, INJ-11).
 *
 * Two delivery paths that do not know of each other. The slow path: an
 * acknowledged interrupt goes into a pending slot and interrupt-window exiting
 * delivers it when the guest can take it. The fast path, added later for
 * latency: if the guest can take it right now, inject it at once — but the
 * fast path forgets to empty the pending slot, so the window is armed as well,
 * and when the handler's IRET opens the window the slow path injects the same
 * interrupt again. The guest handles one device interrupt twice (and sends
 * two EOIs).
 * Fix: one place that takes a vector out of the pending state when it is injected.
 */
#include <stdio.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    int pending; /* vector, or -1 */
    int handled;
} vmm;

static bool window_open(gal *g)
{
    return (gal_rd(g, VTX_VMCS_GUEST_RFLAGS) & VTX_RFLAGS_IF) && !(gal_rd(g, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 3);
}

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_EXTERNAL_INTERRUPT:
        v->pending = (uint8_t)gal_rd(g, VTX_VMCS_EXIT_INTR_INFO);
        if (window_open(g)) { /* the fast path */
            gal_inject(g, GAL_EVENT(0, v->pending), 0, 0);
            if (g->fixed)
                v->pending = -1;
        }
        if (v->pending >= 0)
            gal_set(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
        return VTX_VMM_RESUME;
    case VTX_EXIT_REASON_INTERRUPT_WINDOW: /* the slow path */
        if (v->pending >= 0)
            gal_inject(g, GAL_EVENT(0, v->pending), 0, 0);
        v->pending = -1;
        gal_clr(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
        return VTX_VMM_RESUME;
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        v->handled++;
        gal_skip(g);
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "a fast path that injects without emptying the pending slot", 0);
    /* mov ecx, 20; l: dec ecx; jnz l; vmcall */
    static const uint8_t code[] = {0xb9, 0x14, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x01, 0xc1};
    /* disk handler: out 0x80, al; iretq */
    static const uint8_t disk[] = {0xe6, 0x80, 0x48, 0xcf};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 0x30, disk, sizeof disk);
    gal_wr(&g, VTX_VMCS_GUEST_RFLAGS, 0x202);
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    gal_set(&g, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    gal_irq(&g, 0x30, 5);
    vmm v = {&g, -1, 0};
    gal_run(&g, handle, &v, 100);
    printf("  the disk raised 1 interrupt; the guest handled %d\n", v.handled);
    return gal_verdict(&g, VTX_VMM_DUPLICATE_INTERRUPT);
}
