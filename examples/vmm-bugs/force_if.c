/*
 * force_if: FORCED_INJECTION_IF (ENT-GS-1).
 *
 * An interrupt arrives (acknowledged on exit) while the guest runs with
 * IF = 0, inside a critical section. The entry check (IF = 1 for an external
 * interrupt) refuses the injection; this VMM "fixes" that by setting the
 * guest's IF ("the guest will STI in a moment anyway; inject sooner"). The
 * hardware accepts. The handler runs inside the critical section, and its IRET
 * restores the forced IF = 1: the rest of the section runs with interrupts on.
 * Fix: leave IF alone, arm interrupt-window exiting, inject when it exits.
 */
#include <stdio.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    int pending;
} vmm;

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    vtx_gprs r;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_EXTERNAL_INTERRUPT:
        v->pending = (uint8_t)gal_rd(g, VTX_VMCS_EXIT_INTR_INFO);
        if (!(gal_rd(g, VTX_VMCS_GUEST_RFLAGS) & VTX_RFLAGS_IF)) {
            if (g->fixed) {
                gal_set(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
                return VTX_VMM_RESUME;
            }
            gal_set(g, VTX_VMCS_GUEST_RFLAGS, VTX_RFLAGS_IF);
        }
        gal_inject(g, GAL_EVENT(0, v->pending), 0, 0);
        return VTX_VMM_RESUME;
    case VTX_EXIT_REASON_INTERRUPT_WINDOW:
        gal_clr(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
        gal_inject(g, GAL_EVENT(0, v->pending), 0, 0);
        return VTX_VMM_RESUME;
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        vtx_machine_get_gprs(m, &r);
        printf("  guest: %s\n", (r.rax & 0xFF) == 0x30 ? "timer handler" : "critical section ends");
        gal_skip(g);
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "a VMM that sets the guest's IF to inject sooner", 0);
    /* cli; mov ecx, 20; l: dec ecx; jnz l; mov al, 1; out 0x80, al; sti; nop; vmcall */
    static const uint8_t code[] = {0xfa, 0xb9, 0x14, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0xb0, 0x01,
                                   0xe6, 0x80, 0xfb, 0x90, 0x0f, 0x01, 0xc1};
    /* timer handler: mov al, 0x30; out 0x80, al; iretq */
    static const uint8_t timer[] = {0xb0, 0x30, 0xe6, 0x80, 0x48, 0xcf};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 0x30, timer, sizeof timer);
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    gal_set(&g, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    gal_irq(&g, 0x30, 5);
    vmm v = {&g, -1};
    gal_run(&g, handle, &v, 100);
    return gal_verdict(&g, VTX_VMM_FORCED_INJECTION_IF);
}
