/*
 * vmx_bringup: a VMM's first steps on a modelled CPU, with the mistakes a
 * hypervisor engineer makes and how the processor reports each one.
 *
 * Uses only the public API. Run: ./vmx_bringup [PROFILE]   (default: teaching)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vtxref/vtxref.h"

#define PAGE 4096u
#define VMXON_PA 0x1000u
#define VMCS_A 0x2000u
#define VMCS_B 0x3000u

static vtx_machine *m;
static int step_no;

static void show(const char *what, vtx_status st, const vtx_insn_result *r)
{
    char line[400];
    if (st != VTX_OK && st != VTX_ERR_UNSUPPORTED) {
        printf("%2d. %-44s -> call failed: %s (%s)\n", ++step_no, what, vtx_status_name(st), r->why);
        return;
    }
    if (st == VTX_ERR_UNSUPPORTED) {
        printf("%2d. %-44s -> not modelled yet: %s\n", ++step_no, what, r->why);
        return;
    }
    vtx_insn_result_format(r, line, sizeof line);
    printf("%2d. %-44s -> %s\n", ++step_no, what, line);
}

static void set_root(void (*edit)(vtx_root_state *))
{
    vtx_root_state root;
    vtx_machine_get_root(m, &root);
    edit(&root);
    vtx_diag d = {0};
    if (vtx_machine_set_root(m, &root, &d) != VTX_OK)
        printf("    environment change refused: %s\n", d.message);
}

static void clear_vmxe(vtx_root_state *r) { r->cr4 &= ~(uint64_t)VTX_CR4_VMXE; }
static void set_vmxe(vtx_root_state *r) { r->cr4 |= VTX_CR4_VMXE; }
static void mov_ss(vtx_root_state *r) { r->blocking_by_mov_ss = true; }
static void no_mov_ss(vtx_root_state *r) { r->blocking_by_mov_ss = false; }
static void to_compat(vtx_root_state *r) { r->cs_l = false; }
static void to_64(vtx_root_state *r) { r->cs_l = true; }

int main(int argc, char **argv)
{
    const char *pname = argc > 1 ? argv[1] : "teaching";
    vtx_machine_config cfg;
    vtx_diag d = {0};
    if (vtx_profile_resolve(pname, &cfg.profile, &d) != VTX_OK) {
        fprintf(stderr, "vmx_bringup: %s\n", d.message);
        return 3;
    }
    vtx_profile profile = cfg.profile;
    vtx_machine_config_init(&cfg, &profile);
    if (vtx_machine_create(&cfg, &m, &d) != VTX_OK) {
        fprintf(stderr, "vmx_bringup: %s\n", d.message);
        return 3;
    }
    static uint8_t ram[16 * PAGE] __attribute__((aligned(PAGE)));
    vtx_machine_map(m, 0, sizeof ram, ram, VTX_MEM_RWX, NULL);
    uint32_t rev = vtx_basic_revision(profile.msr[VTX_CAP_IA32_VMX_BASIC]);
    printf("vtxref %s: VMX bring-up on profile '%s' (VMCS revision 0x%x)\n\n", vtx_version(), profile.name, rev);

    vtx_insn_result r;
    vtx_status st;

    set_root(clear_vmxe);
    st = vtx_vmxon(m, VMXON_PA, &r); show("VMXON with CR4.VMXE = 0", st, &r);
    set_root(set_vmxe);
    st = vtx_vmxon(m, VMXON_PA, &r); show("VMXON before writing the revision id", st, &r);
    memcpy(ram + VMXON_PA, &rev, 4);
    st = vtx_vmxon(m, VMXON_PA + 8, &r); show("VMXON with a misaligned pointer", st, &r);
    st = vtx_vmxon(m, VMXON_PA, &r); show("VMXON", st, &r);
    st = vtx_vmxon(m, VMXON_PA, &r); show("VMXON again (no current VMCS)", st, &r);

    st = vtx_vmread(m, VTX_VMCS_GUEST_RIP, &r); show("VMREAD with no current VMCS", st, &r);
    st = vtx_vmptrld(m, VMCS_A, &r); show("VMPTRLD before writing the revision id", st, &r);
    memcpy(ram + VMCS_A, &rev, 4);
    memcpy(ram + VMCS_B, &rev, 4);
    st = vtx_vmclear(m, VMCS_A, &r); show("VMCLEAR A", st, &r);
    st = vtx_vmptrld(m, VMCS_A, &r); show("VMPTRLD A", st, &r);
    st = vtx_vmptrld(m, VMXON_PA, &r); show("VMPTRLD of the VMXON region", st, &r);
    st = vtx_vmxon(m, VMXON_PA, &r); show("VMXON again (A is current)", st, &r);

    st = vtx_vmwrite(m, VTX_VMCS_GUEST_RIP, 0xFFFFFFFF80001000ull, &r); show("VMWRITE GUEST_RIP", st, &r);
    st = vtx_vmread(m, VTX_VMCS_GUEST_RIP, &r); show("VMREAD GUEST_RIP", st, &r);
    printf("    value 0x%016llx\n", (unsigned long long)r.value);
    st = vtx_vmwrite(m, VTX_VMCS_GUEST_CS_SELECTOR, 0xABCD0008, &r); show("VMWRITE 0xABCD0008 to GUEST_CS_SELECTOR", st, &r);
    st = vtx_vmread(m, VTX_VMCS_GUEST_CS_SELECTOR, &r); show("VMREAD GUEST_CS_SELECTOR", st, &r);
    printf("    value 0x%llx (16-bit field: bits 15:0 kept)\n", (unsigned long long)r.value);
    st = vtx_vmwrite(m, VTX_VMCS_TSC_OFFSET + 1, 0x12345678, &r); show("VMWRITE TSC_OFFSET high half", st, &r);
    st = vtx_vmread(m, VTX_VMCS_TSC_OFFSET, &r); show("VMREAD TSC_OFFSET", st, &r);
    printf("    value 0x%016llx\n", (unsigned long long)r.value);
    set_root(to_compat);
    st = vtx_vmread(m, VTX_VMCS_GUEST_RIP, &r); show("VMREAD GUEST_RIP in compatibility mode", st, &r);
    set_root(to_64);
    st = vtx_vmwrite(m, VTX_VMCS_EXIT_REASON, 7, &r); show("VMWRITE EXIT_REASON (read-only)", st, &r);
    st = vtx_vmwrite(m, 0x6C40, 0, &r); show("VMWRITE encoding 0x6c40", st, &r);
    st = vtx_vmread(m, VTX_VMCS_VM_INSTRUCTION_ERROR, &r); show("VMREAD VM_INSTRUCTION_ERROR", st, &r);
    printf("    value %llu (%s)\n", (unsigned long long)r.value, vtx_vm_insn_error_text((uint32_t)r.value));

    set_root(mov_ss);
    st = vtx_vmlaunch(m, &r); show("MOV SS; VMLAUNCH", st, &r);
    set_root(no_mov_ss);
    st = vtx_vmresume(m, &r); show("VMRESUME of a clear VMCS", st, &r);
    st = vtx_vmlaunch(m, &r); show("VMLAUNCH", st, &r);

    st = vtx_vmptrld(m, VMCS_B, &r); show("VMPTRLD B", st, &r);
    st = vtx_vmread(m, VTX_VMCS_GUEST_RIP, &r); show("VMREAD GUEST_RIP of B", st, &r);
    printf("    value 0x%llx (B has its own contents)\n", (unsigned long long)r.value);
    st = vtx_vmptrld(m, VMCS_A, &r); show("VMPTRLD A", st, &r);
    st = vtx_vmread(m, VTX_VMCS_GUEST_RIP, &r); show("VMREAD GUEST_RIP of A", st, &r);
    printf("    value 0x%016llx (A kept its contents)\n", (unsigned long long)r.value);
    st = vtx_vmptrst(m, &r); show("VMPTRST", st, &r);
    printf("    current VMCS 0x%llx\n", (unsigned long long)r.value);

    vtx_invvpid_desc vd = {.vpid = 0, .linear_addr = 0};
    st = vtx_invvpid(m, VTX_INVVPID_SINGLE_CONTEXT, &vd, &r); show("INVVPID single-context, VPID 0", st, &r);
    vtx_invept_desc ed = {.eptp = 0x5000 | (3 << 3) | 6};
    st = vtx_invept(m, VTX_INVEPT_SINGLE_CONTEXT, &ed, &r); show("INVEPT single-context", st, &r);

    st = vtx_vmclear(m, VMCS_A, &r); show("VMCLEAR A", st, &r);
    st = vtx_vmxoff(m, &r); show("VMXOFF", st, &r);
    st = vtx_vmxoff(m, &r); show("VMXOFF again", st, &r);
    vtx_machine_destroy(m);
    return 0;
}
