/*
 * shadow_clear: FORCED_INJECTION_SHADOW (ENT-GS-10, BLK-STI-2).
 *
 * The guest's idle path is "sti; cpuid" (CPUID serializes; it exits
 * unconditionally). The exit saves blocking by STI: CPUID ran in the STI shadow
 * (BLK-STI-8). This VMM delivers pending interrupts before it handles the exit,
 * and when the entry failed (exit 33: an external interrupt cannot be injected
 * with blocking by STI) its author cleared the blocking bit. Hardware accepts:
 * the interrupt lands before the instruction the STI protected.
 * Fix: emulate the CPUID first (RIP + length ends the shadow, as on hardware),
 * then inject; or arm interrupt-window exiting.
 */
#include <stdio.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    bool timer_pending; /* the VMM's own virtual timer fired */
} vmm;

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_CPUID:
        if (v->timer_pending && !g->fixed) {
            /* deliver events first, handle the exit when the guest comes back */
            gal_wr(g, VTX_VMCS_GUEST_INTERRUPTIBILITY, 0);
        } else {
            gal_skip(g); /* emulate CPUID (the registers are left as they are) */
            gal_wr(g, VTX_VMCS_GUEST_INTERRUPTIBILITY, 0);
        }
        if (v->timer_pending) {
            gal_inject(g, GAL_EVENT(0, 0x40), 0, 0);
            v->timer_pending = false;
        }
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "a VMM that clears the STI shadow so an injection passes", 0);
    /* cli; sti; cpuid; vmcall */
    static const uint8_t code[] = {0xfa, 0xfb, 0x0f, 0xa2, 0x0f, 0x01, 0xc1};
    static const uint8_t timer[] = {0x48, 0xcf}; /* iretq */
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 0x40, timer, sizeof timer);
    vmm v = {&g, true};
    gal_run(&g, handle, &v, 100);
    return gal_verdict(&g, VTX_VMM_FORCED_INJECTION_SHADOW);
}
