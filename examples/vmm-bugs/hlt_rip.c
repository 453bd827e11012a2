/*
 * hlt_rip: HLT_RESUMED_AT_HLT (EXIT-7, HLT-3, HLT-4).
 *
 * HLT exiting: the VMM emulates HLT by waiting for the guest's next timer
 * event and injecting it. The exit saved the HLT's own RIP (EXIT-7); this VMM
 * injects there without advancing RIP. The timer handler returns to the HLT
 * and the guest halts again at once: the wake-up it waited for never happens
 * (and a VMM with no further timer leaves it halted for good).
 * Fix: advance RIP by the VM-exit instruction length before resuming.
 */
#include <stdio.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    int timer_events; /* events the VMM's virtual timer still has */
    bool woke;
} vmm;

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_HLT:
        if (!v->timer_events) {
            printf("  VMM: the guest halted with no timer armed: idle forever\n");
            return VTX_VMM_STOP;
        }
        v->timer_events--;
        if (g->fixed)
            gal_skip(g);
        gal_inject(g, GAL_EVENT(0, 0x40), 0, 0);
        return VTX_VMM_RESUME;
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        v->woke = true;
        gal_skip(g);
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "HLT emulated without advancing RIP", 0);
    /* sti; nop; hlt; out 0x80, al (woke up); vmcall */
    static const uint8_t code[] = {0xfb, 0x90, 0xf4, 0xe6, 0x80, 0x0f, 0x01, 0xc1};
    static const uint8_t timer[] = {0x48, 0xcf}; /* iretq */
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 0x40, timer, sizeof timer);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING | VTX_PROC_UNCOND_IO_EXITING);
    vmm v = {&g, 1, false};
    gal_run(&g, handle, &v, 100);
    printf("  the guest %s after its HLT\n", v.woke ? "woke up and went on" : "never went on");
    return gal_verdict(&g, VTX_VMM_HLT_RESUMED_AT_HLT);
}
