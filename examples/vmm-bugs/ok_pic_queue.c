/*
 * ok_pic_queue: a correct VMM with an interrupt controller (no finding expected).
 *
 * External-interrupt exiting with "acknowledge interrupt on exit". Every
 * acknowledged vector goes into a pending set; an in-service stack follows the
 * guest's EOIs (OUT to port 0x20). The highest pending vector goes in when its
 * priority class is above the one in service and the guest can take an
 * interrupt (IF = 1, no STI or MOV-SS blocking); if it cannot, and only then,
 * interrupt-window exiting is armed; the window is disarmed as soon as nothing
 * injectable is left. Six interrupts arrive, some with IF = 0, some while a
 * handler runs; all six are handled, highest priority first.
 */
#include <stdio.h>
#include "gallery.h"

typedef struct vmm {
    gal *g;
    bool pending[256];
    uint8_t isr[16];
    unsigned n_isr;
    int handled;
} vmm;

static int highest_pending(const vmm *v)
{
    for (int vec = 255; vec >= 16; vec--)
        if (v->pending[vec])
            return vec;
    return -1;
}

static void deliver(vmm *v)
{
    gal *g = v->g;
    int vec = highest_pending(v);
    bool injectable = vec >= 0 && (!v->n_isr || (vec >> 4) > (v->isr[v->n_isr - 1] >> 4));
    bool open = (gal_rd(g, VTX_VMCS_GUEST_RFLAGS) & VTX_RFLAGS_IF) && !(gal_rd(g, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 3);
    if (injectable && open) {
        gal_inject(g, GAL_EVENT(0, vec), 0, 0);
        v->pending[vec] = false;
        v->isr[v->n_isr++] = (uint8_t)vec;
        vec = highest_pending(v);
        injectable = vec >= 0 && (vec >> 4) > (v->isr[v->n_isr - 1] >> 4);
    }
    /* arm the window only for something that could go in once it opens */
    if (injectable)
        gal_set(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    else
        gal_clr(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
}

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    vtx_gprs r;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_EXTERNAL_INTERRUPT:
        v->pending[gal_rd(g, VTX_VMCS_EXIT_INTR_INFO) & 0xFF] = true;
        break;
    case VTX_EXIT_REASON_INTERRUPT_WINDOW:
        break;
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        vtx_machine_get_gprs(m, &r);
        if ((exit->exit_qualification >> 16) == 0x20) { /* EOI */
            if (v->n_isr)
                v->n_isr--;
        } else {
            printf("  guest: handled vector 0x%02x\n", (unsigned)(r.rax & 0xFF));
            v->handled++;
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
    gal_init(&g, argc, argv, "an interrupt controller with priorities, EOIs and interrupt-window exiting", 0);
    /* cli; mov ecx, 20; l: dec ecx; jnz l; sti; mov ecx, 60; l2: dec ecx; jnz l2; vmcall */
    static const uint8_t code[] = {0xfa, 0xb9, 0x14, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0xfb,
                                   0xb9, 0x3c, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x01, 0xc1};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    static const uint8_t vectors[] = {0x31, 0x52, 0x30, 0x41, 0x61, 0x33};
    static const uint64_t when[] = {3, 5, 50, 51, 80, 81};
    for (unsigned i = 0; i < sizeof vectors; i++) {
        /* mov al, vec; out 0x80, al; out 0x20, al (EOI); iretq */
        const uint8_t h[] = {0xb0, vectors[i], 0xe6, 0x80, 0xe6, 0x20, 0x48, 0xcf};
        gal_handler(&g, vectors[i], h, sizeof h);
        gal_irq(&g, vectors[i], when[i]);
    }
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    gal_set(&g, VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    vmm v = {.g = &g};
    gal_run(&g, handle, &v, 200);
    printf("  the guest handled %d of 6 interrupts\n", v.handled);
    int rc = gal_verdict(&g, GAL_NO_BUG);
    return rc ? rc : v.handled == 6 ? 0 : 1;
}
