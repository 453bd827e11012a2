/*
 * ok_vnmi_queue: a correct VMM with a virtual-NMI queue (no finding expected).
 *
 * NMI exiting and virtual NMIs: every NMI exits to the VMM, which queues it
 * for the guest. A queued NMI goes in when the guest is not in its NMI handler
 * (no virtual-NMI blocking saved) and nothing else is being injected;
 * otherwise NMI-window exiting is armed, and disarmed when the queue is empty.
 * Four NMIs arrive, two of them while the guest's handler runs; the guest's
 * handler runs four times, never nested.
 */
#include <stdio.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    int queued, runs, depth, max_depth;
} vmm;

static void deliver(vmm *v)
{
    gal *g = v->g;
    bool blocked = gal_rd(g, VTX_VMCS_GUEST_INTERRUPTIBILITY) & (8 | 2); /* virtual NMIs, MOV SS */
    if (v->queued && !blocked && !(gal_rd(g, VTX_VMCS_ENTRY_INTR_INFO) >> 31)) {
        gal_inject(g, GAL_EVENT(2, 2), 0, 0);
        v->queued--;
    }
    if (v->queued)
        gal_set(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
    else
        gal_clr(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_NMI_WINDOW_EXITING);
}

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    vtx_gprs r;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_EXCEPTION_NMI:
        v->queued++;
        break;
    case VTX_EXIT_REASON_NMI_WINDOW:
        break;
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        vtx_machine_get_gprs(m, &r);
        if ((r.rax & 0xFF) == 1) {
            v->runs++;
            if (++v->depth > v->max_depth)
                v->max_depth = v->depth;
        } else {
            v->depth--;
        }
        gal_skip(g);
        break;
    default:
        return VTX_VMM_STOP;
    }
    deliver(v);
    return VTX_VMM_RESUME;
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "a virtual-NMI queue with NMI-window exiting", 0);
    /* mov ecx, 60; l: dec ecx; jnz l; vmcall */
    static const uint8_t code[] = {0xb9, 0x3c, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x01, 0xc1};
    /* mov al, 1; out 0x80, al; nop; nop; nop; mov al, 2; out 0x80, al; iretq */
    static const uint8_t nmi[] = {0xb0, 0x01, 0xe6, 0x80, 0x90, 0x90, 0x90, 0xb0, 0x02, 0xe6, 0x80, 0x48, 0xcf};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 2, nmi, sizeof nmi);
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    static const uint64_t when[] = {5, 8, 9, 60};
    for (unsigned i = 0; i < 4; i++)
        gal_nmi(&g, when[i]);
    vmm v = {.g = &g};
    gal_run(&g, handle, &v, 200);
    printf("  4 NMIs; the guest's handler ran %d time(s), nested at most %d deep\n", v.runs, v.max_depth);
    int rc = gal_verdict(&g, GAL_NO_BUG);
    return rc ? rc : v.runs == 4 && v.max_depth == 1 ? 0 : 1;
}
