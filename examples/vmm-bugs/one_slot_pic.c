/*
 * one_slot_pic: LOST_ACKED_INTERRUPT (EXIT-4).
 *
 * External-interrupt exiting with "acknowledge interrupt on exit": each exit
 * hands the VMM an interrupt the interrupt controller now considers delivered.
 * This VMM keeps one pending slot. The guest runs with IF = 0 for a while; two
 * interrupts (0x30, then 0x31) arrive before it re-enables interrupts. The
 * second overwrites the slot: 0x30 is gone — the device that raised it waits
 * forever for its handler.
 * Fix: queue every acknowledged vector until it is injected.
 */
#include <stdio.h>
#include <string.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    uint8_t q[8];
    unsigned n;
    unsigned handled;
} vmm;

static bool window_open(gal *g)
{
    return (gal_rd(g, VTX_VMCS_GUEST_RFLAGS) & VTX_RFLAGS_IF) && !(gal_rd(g, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 3);
}

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_EXTERNAL_INTERRUPT: {
        uint8_t vec = (uint8_t)gal_rd(g, VTX_VMCS_EXIT_INTR_INFO);
        if (g->fixed || v->n == 0)
            v->q[v->n++] = vec;
        else
            v->q[0] = vec; /* the one slot */
        break;
    }
    case VTX_EXIT_REASON_INTERRUPT_WINDOW:
        break;
    case VTX_EXIT_REASON_IO_INSTRUCTION: {
        vtx_gprs r;
        vtx_machine_get_gprs(m, &r);
        printf("  guest: handled vector 0x%02x\n", (unsigned)(r.rax & 0xFF));
        v->handled++;
        gal_skip(g);
        break;
    }
    default:
        return VTX_VMM_STOP;
    }
    if (v->n && window_open(g)) {
        gal_inject(g, GAL_EVENT(0, v->q[0]), 0, 0);
        memmove(v->q, v->q + 1, --v->n);
    }
    if (v->n)
        gal_set(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    else
        gal_clr(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    return VTX_VMM_RESUME;
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "a one-slot pending-interrupt register", 0);
    /* cli; mov ecx, 20; l: dec ecx; jnz l; sti; nop; mov ecx, 5; l2: dec ecx; jnz l2; vmcall */
    static const uint8_t code[] = {0xfa, 0xb9, 0x14, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0xfb, 0x90,
                                   0xb9, 0x05, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x01, 0xc1};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    for (uint8_t vec = 0x30; vec <= 0x31; vec++) {
        /* mov al, vec; out 0x80, al; iretq */
        const uint8_t h[] = {0xb0, vec, 0xe6, 0x80, 0x48, 0xcf};
        gal_handler(&g, vec, h, sizeof h);
    }
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    gal_set(&g, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    gal_irq(&g, 0x30, 4);
    gal_irq(&g, 0x31, 10);
    vmm v = {.g = &g};
    gal_run(&g, handle, &v, 100);
    printf("  the guest handled %u of 2 interrupts\n", v.handled);
    return gal_verdict(&g, VTX_VMM_LOST_ACKED_INTERRUPT);
}
