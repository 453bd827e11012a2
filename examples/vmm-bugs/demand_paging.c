/*
 * demand_paging: LOST_IDT_VECTORING (EXIT-5, INJ-18).
 *
 * A VMM that pages guest memory in on demand (here: the guest's stack page, in
 * the guest's own page tables, with #PF intercepted). A timer interrupt (0x30)
 * arrives while the guest runs with IF = 1; delivering it pushes onto the stack,
 * whose page is not present: #PF during event delivery, a VM exit whose
 * IDT-vectoring information holds the interrupt. The VMM maps the page and
 * resumes — and forgets that the exit interrupted a delivery. The guest never
 * gets its timer tick.
 * Fix: copy the IDT-vectoring information (and error code, instruction length)
 * into the VM-entry interruption fields before resuming.
 */
#include <stdio.h>
#include "gallery.h"

#define STACK_PAGE 0x3FF000u

typedef struct vmm {
    gal *g;
    int ticks; /* timer handler runs the guest reported */
} vmm;

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_EXCEPTION_NMI: {
        uint64_t addr = gal_rd(g, VTX_VMCS_EXIT_QUALIFICATION);
        printf("  VMM: #PF at 0x%llx: page it in\n", (unsigned long long)addr);
        gal_map_4k(g, addr & ~0xFFFull);
        if (g->fixed) {
            uint32_t idt = (uint32_t)gal_rd(g, VTX_VMCS_IDT_VECTORING_INFO);
            if (idt >> 31) {
                printf("  VMM: the exit interrupted a delivery: re-inject it\n");
                gal_inject(g, idt, (uint32_t)gal_rd(g, VTX_VMCS_IDT_VECTORING_ERROR_CODE),
                           (uint32_t)gal_rd(g, VTX_VMCS_EXIT_INSTRUCTION_LEN));
            }
        }
        return VTX_VMM_RESUME;
    }
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        v->ticks++;
        gal_skip(g);
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "a demand-paging VMM and a #PF during interrupt delivery", 0);
    /* mov ecx, 50; l: dec ecx; jnz l; vmcall */
    static const uint8_t code[] = {0xb9, 0x32, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x01, 0xc1};
    /* timer handler: out 0x80, al (tell the VMM); iretq */
    static const uint8_t tick[] = {0xe6, 0x80, 0x48, 0xcf};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 0x30, tick, sizeof tick);
    gal_unmap_4k(&g, STACK_PAGE);
    gal_wr(&g, VTX_VMCS_GUEST_RSP, STACK_PAGE + 0x1000);
    gal_wr(&g, VTX_VMCS_GUEST_RFLAGS, 0x202);
    gal_wr(&g, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    gal_irq(&g, 0x30, 4);
    vmm v = {&g, 0};
    gal_run(&g, handle, &v, 100);
    printf("  the guest's timer handler ran %d time(s) (1 interrupt was sent)\n", v.ticks);
    return gal_verdict(&g, VTX_VMM_LOST_IDT_VECTORING);
}
