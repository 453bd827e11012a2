/*
 * iret_fault: IRET_NMI_BLOCKING_NOT_RESTORED (VNMI-7, VNMI-9, BLK-SAVE-1).
 *
 * The VMM intercepts #GP (it emulates a backdoor port for its guest tools) and
 * reflects every other #GP into the guest. The guest's NMI handler returns with
 * an IRET whose frame is bad (CS beyond the GDT limit): the IRET faults. The
 * processor cleared virtual-NMI blocking before the exit (VNMI-9) and says so
 * in bit 12 of the exit interruption information. The VMM reflects the #GP at
 * the IRET as it stands: the guest's #GP handler, still inside the NMI handler
 * that the IRET never left, now runs without NMI blocking.
 * Fix: when bit 12 is set, the IDT-vectoring information is invalid and the
 * vector is not #DF, set bit 3 of the guest interruptibility state again before
 * resuming at the IRET.
 */
#include <stdio.h>
#include "gallery.h"

#define NMI_BODY 0x30000u

static vtx_vmm_action handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    gal *g = user;
    (void)m;
    switch (exit->exit_reason) {
    case VTX_EXIT_REASON_EXCEPTION_NMI: {
        uint32_t info = (uint32_t)gal_rd(g, VTX_VMCS_EXIT_INTR_INFO);
        uint32_t idt = (uint32_t)gal_rd(g, VTX_VMCS_IDT_VECTORING_INFO);
        if (g->fixed && (info & 0x1000u) && !(idt >> 31) && (info & 0xFF) != 8)
            gal_set(g, VTX_VMCS_GUEST_INTERRUPTIBILITY, 8); /* VNMI-9 */
        printf("  VMM: not the backdoor: reflect #GP(0x%llx)\n",
               (unsigned long long)gal_rd(g, VTX_VMCS_EXIT_INTR_ERROR_CODE));
        gal_inject(g, GAL_EVENT(3, 13) | 0x800u, (uint32_t)gal_rd(g, VTX_VMCS_EXIT_INTR_ERROR_CODE), 0);
        return VTX_VMM_RESUME;
    }
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        printf("  guest: #GP handler runs with %s\n",
               gal_rd(g, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 8 ? "NMIs blocked" : "NMIs UNBLOCKED");
        return VTX_VMM_STOP;
    default:
        return VTX_VMM_STOP;
    }
}

int main(int argc, char **argv)
{
    gal g;
    gal_init(&g, argc, argv, "a faulting IRET reflected without restoring NMI blocking", 0);
    static const uint8_t code[] = {0x0f, 0x01, 0xc1}; /* vmcall (never reached) */
    /* NMI handler: mov eax, NMI_BODY; jmp rax */
    static const uint8_t nmi[] = {0xb8, 0x00, 0x00, 0x03, 0x00, 0xff, 0xe0};
    /* its body: an IRETQ frame with CS 0x1234 (beyond the GDT limit), then iretq:
     * mov rax, rsp; push 0x10; push rax; pushfq; push 0x1234; lea rcx, [rip]; push rcx; iretq */
    static const uint8_t body[] = {0x48, 0x89, 0xe0, 0x6a, 0x10, 0x50, 0x9c, 0x68, 0x34, 0x12, 0, 0,
                                   0x48, 0x8d, 0x0d, 0, 0, 0, 0, 0x51, 0x48, 0xcf};
    /* #GP handler: out 0x80, al; hlt */
    static const uint8_t gp[] = {0xe6, 0x80, 0xf4};
    gal_code(&g, GAL_GUEST, code, sizeof code);
    gal_code(&g, NMI_BODY, body, sizeof body);
    gal_handler(&g, 2, nmi, sizeof nmi);
    gal_handler(&g, 13, gp, sizeof gp);
    gal_set(&g, VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS);
    gal_set(&g, VTX_VMCS_PROC_CONTROLS, VTX_PROC_UNCOND_IO_EXITING);
    gal_wr(&g, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    gal_inject(&g, GAL_EVENT(2, 2), 0, 0); /* the guest's NMI */
    gal_run(&g, handle, &g, 100);
    return gal_verdict(&g, VTX_VMM_IRET_NMI_BLOCKING_NOT_RESTORED);
}
