/*
 * ok_preempt_sched: a correct VMM scheduling its guest with the VMX-preemption
 * timer (no finding expected).
 *
 * Each VM entry starts a time slice (PT-3). At each timer exit the VMM "runs
 * its other work" and delivers the guest's virtual timer tick (vector 0x20):
 * at once if the guest can take it, else at the interrupt-window exit. The
 * guest idles with HLT between ticks; the VMM emulates HLT by advancing RIP
 * and entering in the HLT activity state, from which the next timer exit wakes
 * it (PT-4, HLT-3). The guest counts five ticks, then stops.
 */
#include <stdio.h>
#include "gallery.h"

#define COUNTER 0x70000u

typedef struct vmm {
    gal *g;
    int slices, ticks_pending, halts;
} vmm;

static void deliver(vmm *v)
{
    gal *g = v->g;
    bool open = (gal_rd(g, VTX_VMCS_GUEST_RFLAGS) & VTX_RFLAGS_IF) && !(gal_rd(g, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 3);
    if (v->ticks_pending && open) {
        gal_inject(g, GAL_EVENT(0, 0x20), 0, 0); /* a vectoring entry wakes the guest (INJ-13) */
        v->ticks_pending--;
    }
    if (v->ticks_pending)
        gal_set(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    else
        gal_clr(g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
}

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_PREEMPTION_TIMER:
        v->slices++;
        v->ticks_pending++;
        break;
    case VTX_EXIT_REASON_INTERRUPT_WINDOW:
        break;
    case VTX_EXIT_REASON_HLT:
        v->halts++;
        gal_skip(g);
        gal_wr(g, VTX_VMCS_GUEST_ACTIVITY_STATE, 1); /* halt until the next slice ends */
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
    gal_init(&g, argc, argv, "a preemption-timer scheduler with HLT emulation", 0);
    /* sti; l: cmp dword [COUNTER], 5; jae done; hlt; jmp l; done: vmcall */
    static const uint8_t code[] = {0xfb, 0x83, 0x3c, 0x25, 0x00, 0x00, 0x07, 0x00, 0x05, 0x73, 0x03,
                                   0xf4, 0xeb, 0xf3, 0x0f, 0x01, 0xc1};
    /* tick: inc dword [COUNTER]; iretq */
    static const uint8_t tick[] = {0xff, 0x04, 0x25, 0x00, 0x00, 0x07, 0x00, 0x48, 0xcf};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 0x20, tick, sizeof tick);
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_PREEMPTION_TIMER);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING);
    gal_wr(&g, VTX_VMCS_PREEMPTION_TIMER_VALUE, 50);
    vmm v = {.g = &g};
    gal_run(&g, handle, &v, 200);
    uint32_t count;
    vtx_machine_read_phys(g.m, COUNTER, &count, sizeof count, NULL);
    printf("  %d time slices, %d HLTs emulated; the guest counted %u ticks\n", v.slices, v.halts, count);
    int rc = gal_verdict(&g, GAL_NO_BUG);
    return rc ? rc : count == 5 ? 0 : 1;
}
