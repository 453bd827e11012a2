/*
 * The project's own Multiboot VMMs (tests/vmm/NAME.asm, docs/boot-tests.md) booted
 * by `vtxref boot`: bare-metal hypervisors that execute VMXON, VMWRITE and
 * VMLAUNCH themselves and check the VM exits they get. Each test boots one
 * kernel and requires exit status 0 (the kernel's code at port 0xF4), no FAIL
 * line, and the PASS lines of the checks that observe the rules it declares.
 * The ctests vmm_<kernel> boot the same kernels through tests/vmm/run-kernel.sh
 * (with the whole serial output on failure); this file names what they cover.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helpers.h"

/* The kernels are built next to the engine tests' guests (tests/vmm/CMakeLists.txt). */
#define VMM_DIR VTX_GUEST_DIR "/../vmm"
#define BUDGET "400000000"

static struct {
    int status; /* vtxref's exit status, or -1 */
    char *out;  /* "\n" + serial output and vtxref's messages */
} r;

/* Boot VMM_DIR/<kernel>.elf and collect its output (stdout and stderr). */
static void boot(const char *kernel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.elf", VMM_DIR, kernel);
    cr_assert_eq(access(path, R_OK), 0, "%s: %s (build the vtx_vmm_kernels target)", path, strerror(errno));
    vt_run v = vt_spawn((const char *const[]){VTX_CLI_PATH, "boot", path, "--max-cycles", BUDGET, NULL});
    free(r.out);
    r.out = malloc(v.len + 2);
    cr_assert_not_null(r.out);
    r.out[0] = '\n';
    memcpy(r.out + 1, v.out, v.len + 1);
    free(v.out);
    r.status = v.status;
    cr_expect_eq(r.status, 0, "vtxref boot %s exited with %d:%s", kernel, r.status, r.out);
    cr_expect_null(strstr(r.out, "\nFAIL: "), "%s reported a failure:%s", kernel, r.out);
    cr_expect_not_null(strstr(r.out, "\nSUMMARY: "), "%s did not finish:%s", kernel, r.out);
}

/* The kernel printed "PASS: <check>" as a whole line. */
static void passed(const char *check)
{
    char line[320];
    snprintf(line, sizeof line, "\nPASS: %s\r\n", check);
    cr_expect_not_null(strstr(r.out, line), "no line 'PASS: %s' in:%s", check, r.out);
}

Test(vmm_kernels, interrupt_window)
{
    VTX_COVERS("IW-1", "IW-2", "IW-4", "BLK-STI-1", "BLK-STI-2", "BLK-STI-4", "BLK-MSS-1", "BLK-LOAD-2",
               "BLK-MSS-3", "ROOT-MSS-1");
    boot("intr_window");
    passed("IF=1, no blocking: the exit is at the guest's first instruction");
    passed("IF=1, no blocking: exit qualification 0");
    passed("IF=0 then STI: the exit is after the instruction in the STI shadow");
    passed("IF=0 then STI: the instruction in the STI shadow ran, the next did not");
    passed("IF=0 then STI: no blocking by STI or MOV SS saved");
    passed("entry with blocking by STI: the exit is after one guest instruction");
    passed("entry with blocking by MOV SS: the exit is after one guest instruction");
    passed("IF=0 then STI; STI: the exit is after the second STI");
    passed("IF=0 throughout: the guest ran to its VMCALL");
    passed("VMRESUME after MOV SS in root operation: VM-instruction error 26");
}

Test(vmm_kernels, nmi_window)
{
    VTX_COVERS("NW-2", "NW-3", "NW-6", "NW-7", "NW-8", "INJ-13");
    boot("nmi_window");
    passed("no blocking: the exit is at the guest's first instruction");
    passed("virtual-NMI blocking, guest IRET: the exit is right after the IRET");
    passed("virtual-NMI blocking, guest IRET: no blocking by NMI saved");
    passed("entry with blocking by MOV SS: the exit is after one guest instruction");
    passed("injected NMI: the guest NMI handler ran exactly once");
    passed("injected NMI: the exit is at the RIP the handler returned to");
}

Test(vmm_kernels, injection)
{
    VTX_COVERS("INJ-4", "INJ-6", "INJ-7", "INJ-8", "INJ-9");
    boot("inject");
    passed("external interrupt 0x40: the exit is at the handler's VMCALL");
    passed("external interrupt 0x40: the pushed RIP is the entry RIP");
    passed("external interrupt 0x40: the pushed RFLAGS has IF = 1");
    passed("external interrupt 0x40: the interrupt gate cleared IF");
    passed("external interrupt 0x40: the VM exit cleared the valid bit of the entry interruption information");
    passed("#GP injected: the pushed error code is the VM-entry exception error code");
    passed("software interrupt 0x41: the pushed RIP is the entry RIP + the instruction length");
    passed("software exception #BP: the pushed RIP is the entry RIP + 1");
}

Test(vmm_kernels, apic_timer)
{
    VTX_COVERS("IW-9", "EXIT-4", "ROOT-INTR-2", "ROOT-IDLE-1", "APIC-TMR-1", "APIC-EOI-1");
    boot("apic_timer");
    passed("timer, acknowledge on exit: exit interruption information = valid, external interrupt, vector 0x50");
    passed("timer, acknowledge on exit: the vector is in service (ISR) after the exit");
    passed("timer, acknowledge on exit: one-shot current count is 0 after expiry");
    passed("timer, acknowledge on exit: EOI clears the ISR bit");
    passed("timer, no acknowledge: exit interruption information not valid");
    passed("root-mode HLT: the timer interrupt woke the host and its handler ran");
}

Test(vmm_kernels, self_ipi)
{
    VTX_COVERS("IW-9", "APIC-ICR-1", "APIC-IRR-1", "ROOT-STI-1");
    boot("self_ipi");
    passed("self-IPI: ICR delivery status reads idle");
    passed("self-IPI with IF=0: the vector is requested (IRR)");
    passed("pending self-IPI at VM entry: the exit is before the first guest instruction");
    passed("host STI; NOP: delivered after the instruction in the STI shadow");
    passed("IPI to the own APIC ID: delivered to the host once");
}

Test(vmm_kernels, interrupts_pending_while_running)
{
    VTX_COVERS("ROOT-INTR-1", "BUS-MMIO-2", "IW-9");
    boot("ipi_running");
    passed("self-IPI with IF=1: delivered while the host's loop ran");
    passed("timer armed with IF=1: its interrupt was taken while the host's loop ran");
    passed("guest self-IPI: exit interruption information = valid, external interrupt, vector 0x61");
    passed("guest self-IPI: the exit came before the guest's loop ended");
}

Test(vmm_kernels, debug_registers)
{
    VTX_COVERS("ROOT-DR-1");
    boot("debug_regs");
    passed("load debug controls = 0: guest DR0 is the host's");
    passed("load debug controls = 0: guest DR3 is the host's");
    passed("load debug controls = 0: guest DR6 is the host's");
    passed("load debug controls = 0: guest DR7 is the host's");
    passed("VM exit: host DR0 is the guest's");
    passed("VM exit: host DR6 is the guest's");
    passed("VM exit: host DR7 is 0x400");
    passed("load debug controls = 1: guest DR0 is the host's");
    passed("load debug controls = 1: guest DR7 is GUEST_DR7");
}

Test(vmm_kernels, guest_cr8_reaches_the_xapic_tpr)
{
    VTX_COVERS("EXE-CR8-1");
    boot("tpr_cr8");
    passed("guest MOV from CR8 reads the host's TPR class 0xF");
    passed("guest MOV to CR8 = 5: the xAPIC TPR is 0x50");
    passed("guest MOV to CR8 = 5: the host's CR8 reads 5");
}
