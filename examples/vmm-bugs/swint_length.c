/*
 * swint_length: REINJECT_MISMATCH (EXIT-6, INJ-3, INJ-7).
 *
 * The guest makes a system call with INT 0x80 on a stack page the VMM pages in
 * on demand: #PF during the delivery of a software interrupt. This VMM does
 * re-inject the IDT-vectoring event — but leaves the VM-entry instruction
 * length at 0 ("instruction length is for exits caused by instructions, and
 * this is a #PF exit"). On a processor that allows length 0
 * (IA32_VMX_MISC[30] = 1) the entry passes; the guest's handler then returns to
 * RIP + 0, the INT 0x80 itself: the system call runs twice.
 * Fix: for software interrupts and software / privileged software exceptions,
 * copy the VM-exit instruction length (0x440C) into the VM-entry instruction
 * length (0x401A).
 */
#include <stdio.h>
#include "gallery.h"

#define STACK_PAGE 0x3FF000u

typedef struct vmm {
    gal *g;
    int syscalls;
} vmm;

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    vmm *v = user;
    gal *g = v->g;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_EXCEPTION_NMI: {
        gal_map_4k(g, gal_rd(g, VTX_VMCS_EXIT_QUALIFICATION) & ~0xFFFull);
        uint32_t idt = (uint32_t)gal_rd(g, VTX_VMCS_IDT_VECTORING_INFO);
        if (idt >> 31)
            gal_inject(g, idt, (uint32_t)gal_rd(g, VTX_VMCS_IDT_VECTORING_ERROR_CODE),
                       g->fixed ? (uint32_t)gal_rd(g, VTX_VMCS_EXIT_INSTRUCTION_LEN) : 0);
        return VTX_VMM_RESUME;
    }
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        v->syscalls++;
        gal_skip(g);
        return VTX_VMM_RESUME;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "a software interrupt re-injected with instruction length 0", 1ull << 30);
    /* int 0x80; vmcall */
    static const uint8_t code[] = {0xcd, 0x80, 0x0f, 0x01, 0xc1};
    /* system-call handler: out 0x80, al; iretq */
    static const uint8_t sys[] = {0xe6, 0x80, 0x48, 0xcf};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_handler(&g, 0x80, sys, sizeof sys);
    gal_unmap_4k(&g, STACK_PAGE);
    gal_wr(&g, VTX_VMCS_GUEST_RSP, STACK_PAGE + 0x1000);
    gal_wr(&g, VTX_VMCS_EXCEPTION_BITMAP, 1u << 14);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    vmm v = {&g, 0};
    gal_run(&g, handle, &v, 100);
    printf("  the guest made 1 system call; its handler ran %d time(s)\n", v.syscalls);
    return gal_verdict(&g, VTX_VMM_REINJECT_MISMATCH);
}
