/*
 * nmi_reentry: NMI_IN_NMI_HANDLER (BLK-NMI-1, VNMI-3, VNMI-4, ENT-GS-12).
 *
 * Virtual NMIs: the VMM injects the guest's NMIs from a queue. A second NMI
 * (the VMM's virtual watchdog) comes due while the guest is still in its NMI
 * handler. The entry check refuses an NMI injection with virtual-NMI blocking
 * (ENT-GS-12); this VMM clears the blocking bit to make it pass. Hardware
 * accepts, and the guest's NMI handler is re-entered on its own stack frame —
 * what NMI blocking exists to prevent.
 * Fix: while the exit saved virtual-NMI blocking, arm NMI-window exiting and
 * inject at the NMI-window exit, after the handler's IRET.
 */
#include <stdio.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    int queued;   /* NMIs waiting for the guest */
    int depth, max_depth, runs;
} vmm;

static void deliver(vmm *v)
{
    gal *g = v->g;
    if (!v->queued)
        return;
    bool blocked = gal_rd(g, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 8;
    if (blocked && g->fixed) {
        gal_set(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
        return;
    }
    if (blocked) /* "the entry failed with exit 33, so clear it" */
        gal_clr(g, VTX_VMCS_GUEST_INTERRUPTIBILITY, 8);
    gal_inject(g, GAL_EVENT(2, 2), 0, 0);
    v->queued--;
}

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    vtx_gprs r;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_IO_INSTRUCTION: /* the NMI handler reports entry (al = 1) or exit (al = 2) */
        vtx_machine_get_gprs(m, &r);
        if ((r.rax & 0xFF) == 1) {
            v->runs++;
            if (++v->depth > v->max_depth)
                v->max_depth = v->depth;
            if (v->runs == 1)
                v->queued++; /* the watchdog fires now */
        } else {
            v->depth--;
        }
        gal_skip(g);
        deliver(v);
        return VTX_VMM_RESUME;
    case VTX_EXIT_REASON_NMI_WINDOW:
        gal_clr(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
        deliver(v);
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "a VMM that clears virtual-NMI blocking to inject the next NMI", 0);
    /* nop; nop; vmcall */
    static const uint8_t code[] = {0x90, 0x90, 0x0f, 0x01, 0xc1};
    /* NMI handler: mov al, 1; out 0x80, al; mov al, 2; out 0x80, al; iretq */
    static const uint8_t nmi[] = {0xb0, 0x01, 0xe6, 0x80, 0xb0, 0x02, 0xe6, 0x80, 0x48, 0xcf};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 2, nmi, sizeof nmi);
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    vmm v = {.g = &g, .queued = 1};
    deliver(&v);
    gal_run(&g, handle, &v, 100);
    printf("  the NMI handler ran %d time(s), nested %d deep\n", v.runs, v.max_depth);
    return gal_verdict(&g, VTX_VMM_NMI_IN_NMI_HANDLER);
}
