/* `vtxref boot` on the project's own Multiboot kernels (tests/boot/ files): a
 * bare-metal VMM that enters long mode, VMXON, VMLAUNCH and takes a VMCALL
 * exit; VMX instruction outcomes in root operation (error 26 under a MOV-SS
 * shadow, #UD through the host's IDT with the faulting RIP); and each
 * documented status of docs/platform.md with its message. Runs the built CLI. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../cpu/engine.h"
#include "helpers.h"

typedef vt_run run;

/* Run `vtxref boot KERNEL args...` with stdout and stderr merged. */
static run boot(const char *kernel, const char *a1, const char *a2)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.elf", VTX_BOOT_DIR, kernel);
    return vt_spawn((const char *const[]){VTX_CLI_PATH, "boot", path, a1, a2, NULL});
}

#define EXPECT(r, code, text)                                                                                       \
    do {                                                                                                            \
        cr_expect_eq((r).status, (code), "status %d, want %d; output:\n%s", (r).status, (code), (r).out);          \
        cr_expect(strstr((r).out, (text)) != NULL, "no '%s' in:\n%s", (text), (r).out);                            \
        free((r).out);                                                                                              \
    } while (0)

Test(boot, vmm_enters_guest_and_takes_vmcall_exit)
{
    VTX_COVERS("ROOT-VMX-1", "ROOT-RET-1", "ROOT-MSR-1", "ROOT-CR-1", "ROOT-IO-1", "ROOT-CPUID-1", "ROOT-BUS-1");
    run r = boot("vmm_hello", "--max-cycles", "100000000");
    EXPECT(r, 0, "vmm_hello: VM exit");
}

/* --boundaries: the guest's boundaries as the observer reports them (the one
 * right after VM entry is always written). */
Test(boot, boundaries_option_reports_the_guest_boundaries)
{
    run r = boot("vmm_hello", "--boundaries", "-");
    cr_expect(strstr(r.out, "guest boundary: instruction ") != NULL, "%s", r.out);
    EXPECT(r, 0, "(after VM entry) -> execute");
}

Test(boot, vmlaunch_in_mov_ss_shadow_fails_with_error_26)
{
    VTX_COVERS("ROOT-MSS-1");
    run r = boot("vmm_hello_v_movss", "--max-cycles", "100000000");
    EXPECT(r, 26, "wrote 26 to the debug-exit port");
}

Test(boot, vmx_insn_outside_vmx_ud_reaches_host_idt_with_faulting_rip)
{
    VTX_COVERS("ROOT-EXC-1", "ROOT-VMX-1");
    run r = boot("vmm_hello_v_ud", "--max-cycles", "100000000");
    EXPECT(r, 60, "wrote 60 to the debug-exit port");
}

Test(boot, kernel_exit_code_is_the_status)
{
    run r = boot("status_v_exit", "--max-cycles", "1000000");
    EXPECT(r, 7, "status kernel");
}

Test(boot, unknown_port_ends_with_status_and_names_port_and_rip)
{
    VTX_COVERS("ROOT-IO-1");
    run r = boot("status_v_unknown_port", "--max-cycles", "1000000");
    EXPECT(r, 102, "OUT of 1 byte to port 0x99 at RIP 0x");
}

/* --open-bus: an unclaimed port reads all ones (1, 2 and 4 bytes) and an OUT to
 * it is dropped; without it the same kernel ends with status 102 (strict default). */
Test(boot, open_bus_reads_all_ones_and_drops_out)
{
    VTX_COVERS("PLAT-PORT-1");
    run r = boot("status_v_open_bus", "--open-bus", NULL); /* a short kernel: no budget needed */
    EXPECT(r, 7, "wrote 7 to the debug-exit port");
    run s = boot("status_v_open_bus", "--max-cycles", "1000000");
    EXPECT(s, 102, "OUT of 1 byte to port 0x99 at RIP 0x");
}

Test(boot, unmodelled_mmio_ends_with_status_and_names_device)
{
    run r = boot("status_v_mmio", "--max-cycles", "1000000");
    EXPECT(r, 103, "unmodelled physical address 0xfec00000 (the I/O APIC");
}

Test(boot, triple_fault_ends_with_status)
{
    VTX_COVERS("ROOT-EXC-2");
    run r = boot("status_v_triple", "--max-cycles", "1000000");
    EXPECT(r, 100, "triple fault in root operation");
}

Test(boot, budget_ends_with_status)
{
    run r = boot("status_v_budget", "--max-cycles", "200000");
    EXPECT(r, 101, "budget");
}

Test(boot, hlt_with_nothing_armed_is_a_hang)
{
    VTX_COVERS("ROOT-IDLE-1");
    run r = boot("status_v_hang", "--max-cycles", "1000000");
    EXPECT(r, 104, "HLT at RIP 0x");
}

/* Root-mode VMX instruction handling, checked by tests/boot/vmx_ops.asm itself
 * (its exit code names the first check that failed: see the file's header).
 * 64-bit mode: VMXON with CR4.VMXE = 0 is #UD; in VMX operation MOV CR0 clearing
 * NE and MOV CR4 clearing VMXE are #GP (CR0/CR4_FIXED0); VMWRITE/VMREAD with
 * register and memory operands move 64 bits, a 32-bit field zero-extends; a
 * non-canonical memory operand of VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE,
 * INVEPT, INVVPID is #GP(0), #SS(0) when SS-based, not #PF (exits 32..37); CPL 3
 * VMREAD is #GP(0); VMCALL is #UD outside VMX operation and VMfailValid(1) in it,
 * RDRAND is #UD (not in the model's CPUID), RDTSC reads IA32_TIME_STAMP_COUNTER as
 * written plus the cycles since (exits 40..43). */
Test(boot, vmx_insns_64bit_operands_fixed_bits_and_cpl)
{
    VTX_COVERS("ROOT-VMX-1", "ROOT-VMX-2", "ROOT-VMX-3", "ROOT-CR-1", "ROOT-EXC-1", "ROOT-SEG-1", "ROOT-UD-1", "ROOT-TSC-1");
    run r = boot("vmx_ops", "--max-cycles", "10000000");
    EXPECT(r, 0, "wrote 0 to the debug-exit port");
}

/* IA32_FEATURE_CONTROL: VMXON while it is unlocked, and while it is locked
 * without "VMX outside SMX", is #GP(0); WRMSR to it once locked is #GP(0). */
Test(boot, vmxon_needs_feature_control_locked_and_enabled)
{
    VTX_COVERS("ROOT-MSR-1", "ROOT-VMX-1");
    run r = boot("vmx_ops_v_fc", "--max-cycles", "10000000");
    EXPECT(r, 0, "wrote 0 to the debug-exit port");
}

/* 32-bit protected mode (paging on): VMWRITE/VMREAD register and memory
 * operands are 32 bits; a VMREAD to memory writes one dword. ROOT-SEG-1's
 * segment limits: a VMREAD/VMPTRLD operand past an expand-up data segment's
 * limit (FS) is #GP(0) while one ending at the limit is fine; below an
 * expand-down segment's limit (ES) #GP(0), above it fine; SS-based (an SS
 * override, or an EBP base) #SS(0); an INS element past ES's limit and an OUTS
 * element past FS's (an override) #GP(0), one ending at the limit fine. */
Test(boot, vmx_insns_32bit_operands)
{
    VTX_COVERS("ROOT-VMX-2", "ROOT-SEG-1", "ROOT-IO-3");
    run r = boot("vmx_ops_v_pm32", "--max-cycles", "10000000");
    EXPECT(r, 0, "wrote 0 to the debug-exit port");
}

/* Root-mode instructions Unicorn cannot carry out, checked by
 * tests/boot/root_insns.asm itself (its exit code names the first failed check):
 * ROOT-IO-3: REP OUTSB with an FS override (FS.base from IA32_FS_BASE), REP
 * OUTSW with DF = 1, a32 REP OUTSD (ESI, RSI zero-extended after), REP INSW /
 * REP INSD with DF = 1 / REP INSB with count 0 / INSB, each index and count as
 * the SDM says; ROOT-SYS-1: SYSCALL and SYSRET #UD with EFER.SCE = 0, SYSCALL to
 * LSTAR with RCX, R11, FMASK, CS/SS from STAR, SYSRET to CPL 3 and back, #GP(0)
 * for a non-canonical RCX and at CPL 3; ROOT-PMC-1: RDPMC #GP(0) at CPL 0 (no
 * counter in the model's CPUID leaf 0xA) and at CPL 3 with CR4.PCE = 0;
 * ROOT-IO-2: at CPL 3 > IOPL the TSS I/O bit map allows port 0x3F8, denies port
 * 0x80 (OUT and INS) and every port beyond the TSS limit with #GP(0). */
Test(boot, root_string_io_syscall_rdpmc_and_io_bitmap)
{
    VTX_COVERS("ROOT-IO-2", "ROOT-IO-3", "ROOT-SYS-1", "ROOT-PMC-1");
    run r = boot("root_insns", "--max-cycles", "10000000");
    cr_expect(strstr(r.out, "[HELLO][XW][PQ]U") != NULL, "OUTS output missing:\n%s", r.out);
    EXPECT(r, 0, "root_insns: all passed");
}

/* BUS-MMIO-1: an MMIO read in the middle of a run sees the exact cycle clock:
 * two reads of the APIC timer's current count 1002 instructions apart differ by
 * 1002 (divide by 1, one cycle per instruction), not by 0 (the clock at the
 * run's start). */
Test(boot, apic_timer_current_count_mid_run_is_exact)
{
    VTX_COVERS("BUS-MMIO-1");
    run r = boot("apic_clock_v_tmcct", "--max-cycles", "1000000");
    EXPECT(r, 2, "wrote 2 to the debug-exit port");
}

/* BUS-MMIO-2: a self-IPI by an ICR write with IF = 1 is taken inside the loop
 * that follows, not when the run stops for another reason (after the loop). */
Test(boot, self_ipi_icr_write_is_taken_at_once)
{
    VTX_COVERS("BUS-MMIO-2", "ROOT-INTR-1");
    run r = boot("apic_clock_v_ipi", "--max-cycles", "10000000");
    cr_expect(r.status >= 0 && r.status <= 2, "the handler interrupted loop count %d (want 0..2; 99: never):\n%s",
              r.status, r.out);
    free(r.out);
}

/* BUS-MMIO-2: the self-IPI is recognised at the boundary right after the ICR
 * write, before any of the 20 INC ECX that follow it in the same straight line
 * (the handler exits with ECX: 0; 20 or more when the rest of the translation
 * block ran first). */
Test(boot, self_ipi_is_taken_at_the_boundary_after_the_icr_write)
{
    VTX_COVERS("BUS-MMIO-2", "ROOT-INTR-1");
    run r = boot("apic_clock_v_boundary", "--max-cycles", "10000000");
    EXPECT(r, 0, "wrote 0 to the debug-exit port");
}

/* ROOT-NMI-1: an NMI self-IPI (IF = 0) is delivered right after the ICR write
 * (the frame's EIP is the next instruction); a second one sent by the handler
 * stays pending while the handler spins (NMIs blocked until IRET) and is
 * delivered right after the handler's IRET, at the instruction it returned to
 * (tests/boot/apic_clock.asm, V_NMI: its exit code names the failed check). */
Test(boot, root_nmi_blocks_nmis_until_iret)
{
    VTX_COVERS("ROOT-NMI-1", "BUS-MMIO-2");
    run r = boot("apic_clock_v_nmi", "--max-cycles", "10000000");
    EXPECT(r, 0, "wrote 0 to the debug-exit port");
}

/* ROOT-ENG-1: a non-identity mapping runs on Unicorn 2.1; on 2.0.1 (which
 * accesses physical == linear) the run ends naming that limit, not as an access
 * to unmodelled memory at the linear address. */
Test(boot, non_identity_paging_runs_or_names_the_unicorn_2_0_1_limit)
{
    VTX_COVERS("ROOT-ENG-1");
    run r = boot("status_v_remap", "--max-cycles", "1000000");
    if (vtx_engine_translates_paging()) {
        EXPECT(r, 7, "wrote 7 to the debug-exit port");
    } else {
        cr_expect(strstr(r.out, "linear address 0xc0000010 to physical address 0x400010") != NULL, "%s", r.out);
        EXPECT(r, 106, "Unicorn 2.0.1 runs only identity paging");
    }
}

/* PG-11 in root operation (model/root_insn.c): code on a page Unicorn's TLB
 * cached for a data read, whose PTE the kernel then made not present without
 * INVLPG. The engine cannot read the bytes; they are fetched again and the
 * fetch faults: the #PF handler's exit 14, not the #UD handler's 6. */
Test(boot, root_code_on_a_page_read_as_data_refetched)
{
    VTX_COVERS("PG-11");
    run r = boot("status_v_pg11", "--max-cycles", "1000000");
    EXPECT(r, 14, "wrote 14 to the debug-exit port");
}

Test(boot, missing_kernel_is_an_input_error)
{
    run r = boot("no_such_kernel", NULL, NULL);
    EXPECT(r, 121, "cannot read it");
}
