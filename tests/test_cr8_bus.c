/*
 * MOV CR8 in VMX non-root operation without "use TPR shadow" and without CR8-load /
 * CR8-store exiting (EXE-CR8-1): the instruction reaches the processor's own APIC
 * TPR, which the machine's bus (a platform's xAPIC, vtx_machine_set_bus) holds.
 * kvm-unit-tests' vmx_apic_passthrough_tpr_threshold_test relies on it ("TPR was
 * zero by guest": L2 writes CR8 = 0, L1 reads it back from its APIC).
 *
 * Guest code at G = 0x10000 (rules_fixture.h), 64-bit mode, CPL 0.
 */
#include "rules_fixture.h"
#include <vtxref/bus.h>

#define MOV_RAX_CR8 0x44, 0x0f, 0x20, 0xc0
#define MOV_CR8_RBX 0x44, 0x0f, 0x22, 0xc3
#define VMCALL_ 0x0f, 0x01, 0xc1

TestSuite(cr8_bus, .init = rf_setup, .fini = rf_teardown);

/* The bus side: the TPR the APIC holds (CR8[3:0] = TPR[7:4]) and how often it was written. */
static uint64_t apic_cr8;
static unsigned apic_writes;

static void bus_cr8_write(void *user, uint64_t now, uint64_t v)
{
    (void)user, (void)now;
    apic_cr8 = v;
    apic_writes++;
}

static uint64_t bus_cr8_read(void *user, uint64_t now)
{
    (void)user, (void)now;
    return apic_cr8;
}

static void attach_bus(uint64_t cr8)
{
    static vtx_bus bus;
    memset(&bus, 0, sizeof bus);
    bus.cr8_write = bus_cr8_write;
    bus.cr8_read = bus_cr8_read;
    apic_cr8 = cr8;
    apic_writes = 0;
    cr_assert_eq(vtx_machine_set_bus(e.m, &bus), VTX_OK);
}

static vtx_gprs gprs(void)
{
    vtx_gprs g;
    vtx_machine_get_gprs(e.m, &g);
    return g;
}

Test(cr8_bus, non_root_mov_to_cr8_writes_the_apic_tpr)
{
    VTX_COVERS("EXE-CR8-1");
    /* G+0 mov cr8, rbx ; G+4 vmcall */
    CODE(MOV_CR8_RBX, VMCALL_);
    attach_bus(0xF);
    vtx_gprs g = gprs();
    g.rbx = 0;
    vtx_machine_set_gprs(e.m, &g);
    rf_launch_exit("mov cr8, rbx (0) without TPR shadow or CR8 exiting", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(apic_writes, 1, "the APIC saw one CR8 write, got %u", apic_writes);
    cr_assert_eq(apic_cr8, 0, "the APIC's TPR[7:4] = 0, got 0x%llx", (unsigned long long)apic_cr8);
}

Test(cr8_bus, non_root_mov_from_cr8_reads_the_apic_tpr)
{
    VTX_COVERS("EXE-CR8-1");
    /* G+0 mov rax, cr8 ; G+4 vmcall */
    CODE(MOV_RAX_CR8, VMCALL_);
    attach_bus(0x9);
    vtx_gprs g = gprs();
    g.rax = ~0ull;
    vtx_machine_set_gprs(e.m, &g);
    rf_launch_exit("mov rax, cr8 without TPR shadow or CR8 exiting", VTX_EXIT_REASON_VMCALL);
    cr_assert_eq(gprs().rax, 9, "RAX = the APIC's TPR[7:4] = 9, got 0x%llx", (unsigned long long)gprs().rax);
}

Test(cr8_bus, non_root_mov_to_cr8_reserved_bits_fault_without_a_write)
{
    VTX_COVERS("EXE-CR8-1");
    /* CR8 bits 63:4 are reserved: #GP(0), RIP on the MOV, the APIC untouched. */
    CODE(MOV_CR8_RBX, VMCALL_);
    attach_bus(0x3);
    vtx_gprs g = gprs();
    g.rbx = 0x10;
    vtx_machine_set_gprs(e.m, &g);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("mov cr8, rbx (0x10)", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field("#GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", 0x80000B0Du);
    rf_saved_rip("#GP is a fault", G);
    cr_assert_eq(apic_writes, 0, "no APIC write");
    cr_assert_eq(apic_cr8, 3);
}
