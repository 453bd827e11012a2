/*
 * iw_classic: the interrupt-window exit, end to end (rules IW-1, IW-9, BLK-STI-1..3,
 * INJ-*). Public API only.
 *
 * 1. An external interrupt (vector 0x30) arrives while the guest runs with IF = 0.
 *    External-interrupt exiting makes it exit (reason 1) and the VMM acknowledges it.
 * 2. The guest cannot take it now (IF = 0), so the VMM sets interrupt-window
 *    exiting and resumes.
 * 3. The guest executes STI; the instruction after it runs in the STI shadow;
 *    the exit (reason 7) comes at the boundary after that instruction.
 * 4. The VMM clears the control and injects vector 0x30; the guest's handler runs.
 *
 * Every exit is printed with its fields decoded by name, and the boundaries
 * around the STI with the model's reasons ("why no exit here?").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "iw_classic_guest.h" /* generated from iw_classic.asm: iw_classic_bin[] */
#include "vtxref/vtxref.h"

#define RAM_SIZE (4u << 20)
#define VMXON_PA 0x1000u
#define VMCS_PA 0x2000u
#define GUEST_ORG 0x10000u
#define TABLES 0x100000u
#define VECTOR 0x30u

static vtx_machine *m;
static bool watch; /* print boundary reports (after the VMM arms the window) */

static uint64_t rd(uint32_t enc)
{
    vtx_insn_result r;
    vtx_vmread(m, enc, &r);
    return r.value;
}

static void wr(uint32_t enc, uint64_t v)
{
    vtx_insn_result r;
    if (vtx_vmwrite(m, enc, v, &r) != VTX_OK || r.outcome != VTX_VMSUCCEED) {
        char line[400];
        vtx_insn_result_format(&r, line, sizeof line);
        fprintf(stderr, "iw_classic: VMWRITE 0x%x: %s\n", enc, line);
        exit(1);
    }
}

static void print_event_field(const char *label, uint32_t info)
{
    if (!(info >> 31)) {
        printf("    %-28s not valid\n", label);
        return;
    }
    printf("    %-28s valid, vector 0x%02x, %s%s\n", label, info & 0xFF, vtx_interruption_type_description(info >> 8),
           (info >> 11) & 1 ? ", error code" : "");
}

static void print_exit(const char *why_now)
{
    uint32_t reason = (uint32_t)rd(VTX_VMCS_EXIT_REASON);
    uint64_t rflags = rd(VTX_VMCS_GUEST_RFLAGS);
    uint32_t intr = (uint32_t)rd(VTX_VMCS_GUEST_INTERRUPTIBILITY);
    printf("\nVM exit %u (%s) at guest RIP 0x%llx  -- %s\n", reason & 0xFFFF,
           vtx_exit_reason_description(reason & 0xFFFF), (unsigned long long)rd(VTX_VMCS_GUEST_RIP), why_now);
    printf("    %-28s 0x%llx\n", "exit qualification", (unsigned long long)rd(VTX_VMCS_EXIT_QUALIFICATION));
    print_event_field("VM-exit interruption info", (uint32_t)rd(VTX_VMCS_EXIT_INTR_INFO));
    print_event_field("IDT-vectoring info", (uint32_t)rd(VTX_VMCS_IDT_VECTORING_INFO));
    printf("    %-28s %llu\n", "VM-exit instruction length", (unsigned long long)rd(VTX_VMCS_EXIT_INSTRUCTION_LEN));
    printf("    %-28s IF=%d  blocking by STI=%d, by MOV SS=%d, by NMI=%d  activity=%s\n", "guest state",
           (int)((rflags >> 9) & 1), (int)(intr & 1), (int)((intr >> 1) & 1), (int)((intr >> 3) & 1),
           rd(VTX_VMCS_GUEST_ACTIVITY_STATE) ? "HLT" : "active");
    printf("    %-28s %llu instructions, %llu cycles\n", "clock",
           (unsigned long long)vtx_machine_instructions(m), (unsigned long long)vtx_machine_cycles(m));
}

static void observe(void *user, const vtx_boundary_report *rep)
{
    (void)user;
    if (!watch)
        return;
    const vtx_event_verdict *iw = &rep->events[VTX_EV_INTR_WINDOW];
    printf("  boundary at RIP 0x%llx: IF=%d, STI shadow=%d -> ", (unsigned long long)rep->rip,
           (int)((rep->rflags >> 9) & 1), (int)(rep->interruptibility & 1));
    if (iw->state == VTX_EVS_TAKEN)
        printf("interrupt window OPEN (%s): exit 7\n", iw->rule);
    else if (iw->state == VTX_EVS_BLOCKED)
        printf("no exit: interrupt window shut by %s (%s); %s\n", iw->why, iw->rule,
               vtx_boundary_action_name(rep->action));
    else
        printf("%s\n", vtx_boundary_action_name(rep->action));
}

static void check(vtx_status st, const vtx_insn_result *r, const char *what, uint32_t reason)
{
    if (st != VTX_OK || r->outcome != VTX_VMEXIT || r->exit_reason != reason) {
        char line[400];
        vtx_insn_result_format(r, line, sizeof line);
        fprintf(stderr, "iw_classic: %s: expected exit %u (%s), got %s (%s)\n", what, reason,
                vtx_exit_reason_name(reason), line, vtx_status_name(st));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    const char *pname = argc > 1 ? argv[1] : "teaching";
    vtx_machine_config cfg;
    vtx_diag d = {0};
    vtx_profile p;
    if (vtx_profile_resolve(pname, &p, &d) != VTX_OK) {
        fprintf(stderr, "iw_classic: %s\n", d.message);
        return 3;
    }
    vtx_machine_config_init(&cfg, &p);
    if (vtx_machine_create(&cfg, &m, &d) != VTX_OK) {
        fprintf(stderr, "iw_classic: %s\n", d.message);
        return 3;
    }
    uint8_t *ram = aligned_alloc(4096, RAM_SIZE);
    memset(ram, 0, RAM_SIZE);
    vtx_machine_map(m, 0, RAM_SIZE, ram, VTX_MEM_RWX, NULL);
    memcpy(ram + GUEST_ORG, iw_classic_bin, iw_classic_bin_len);
    uint32_t rev = vtx_basic_revision(p.msr[VTX_CAP_IA32_VMX_BASIC]);
    memcpy(ram + VMXON_PA, &rev, 4);
    memcpy(ram + VMCS_PA, &rev, 4);
    vtx_machine_set_observer(m, observe, NULL);

    vtx_insn_result r;
    vtx_vmxon(m, VMXON_PA, &r);
    vtx_vmclear(m, VMCS_PA, &r);
    vtx_vmptrld(m, VMCS_PA, &r);
    /* iw_classic.asm places the handler at offset 0x20; all IDT gates point at
     * handlers + 16 * vector, so vector 0x30's lands on it. */
    const uint64_t handler = GUEST_ORG + 0x20;
    vtx_flat64 g = {.rip = GUEST_ORG, .rsp = 0x80000, .rflags = 0x2, .tables = TABLES,
                    .handlers = handler - 16 * VECTOR};
    if (vtx_setup_flat64(m, &g, &d) != VTX_OK) {
        fprintf(stderr, "iw_classic: %s\n", d.message);
        return 1;
    }
    wr(VTX_VMCS_PIN_CONTROLS, rd(VTX_VMCS_PIN_CONTROLS) | VTX_PIN_EXT_INTR_EXITING);
    wr(VTX_VMCS_EXIT_CONTROLS, rd(VTX_VMCS_EXIT_CONTROLS) | VTX_EXIT_ACK_INTR_ON_EXIT);
    wr(VTX_VMCS_PROC_CONTROLS, rd(VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING | VTX_PROC_UNCOND_IO_EXITING);

    printf("vtxref %s, profile '%s': the interrupt-window exit, end to end\n", vtx_version(), p.name);
    printf("guest: cli; busy loop; sti; nop; mov eax, 1; hlt   handler for vector 0x%x at 0x%llx\n", VECTOR,
           (unsigned long long)handler);

    /* 1. The interrupt arrives at the guest's 6th instruction, inside the busy loop. */
    vtx_input irq = {.kind = VTX_INPUT_INTR_ASSERT, .vector = VECTOR, .when = vtx_machine_instructions(m) + 6};
    vtx_machine_schedule(m, &irq);
    check(vtx_vmlaunch(m, &r), &r, "VMLAUNCH", VTX_EXIT_REASON_EXTERNAL_INTERRUPT);
    print_exit("external-interrupt exiting takes it although IF = 0 (IW-9); acknowledged on exit");
    uint32_t vector = (uint32_t)rd(VTX_VMCS_EXIT_INTR_INFO) & 0xFF;

    /* 2. IF = 0: injecting now would fail VM entry (ENT-GS-1). Ask for the window. */
    printf("\nVMM: guest IF = 0, so vector 0x%x cannot be injected now; set interrupt-window exiting\n", vector);
    wr(VTX_VMCS_PROC_CONTROLS, rd(VTX_VMCS_PROC_CONTROLS) | VTX_PROC_INTR_WINDOW_EXITING);
    watch = true;
    check(vtx_vmresume(m, &r), &r, "VMRESUME with the window armed", VTX_EXIT_REASON_INTERRUPT_WINDOW);
    watch = false;
    print_exit("IF = 1 and no blocking by STI or MOV SS (IW-1): the boundary after the shadowed nop");

    /* 4. The window is open: inject and let the handler run. */
    printf("\nVMM: clear interrupt-window exiting, inject vector 0x%x (external interrupt)\n", vector);
    wr(VTX_VMCS_PROC_CONTROLS, rd(VTX_VMCS_PROC_CONTROLS) & ~(uint64_t)VTX_PROC_INTR_WINDOW_EXITING);
    wr(VTX_VMCS_ENTRY_INTR_INFO, 0x80000000u | vector);
    check(vtx_vmresume(m, &r), &r, "VMRESUME with the injection", VTX_EXIT_REASON_IO_INSTRUCTION);
    vtx_gprs regs;
    vtx_machine_get_gprs(m, &regs);
    print_exit("the guest's handler runs: out 0x80 exits (unconditional I/O exiting)");
    printf("    %-28s port 0x%llx, %s, %llu byte(s); RBX = 0x%llx (set by the handler)\n", "I/O qualification",
           (unsigned long long)(rd(VTX_VMCS_EXIT_QUALIFICATION) >> 16),
           (rd(VTX_VMCS_EXIT_QUALIFICATION) >> 3) & 1 ? "in" : "out",
           (unsigned long long)(rd(VTX_VMCS_EXIT_QUALIFICATION) & 7) + 1, (unsigned long long)regs.rbx);

    /* The VMM emulates the OUT and resumes after it; the handler IRETs. */
    wr(VTX_VMCS_GUEST_RIP, rd(VTX_VMCS_GUEST_RIP) + rd(VTX_VMCS_EXIT_INSTRUCTION_LEN));
    check(vtx_vmresume(m, &r), &r, "VMRESUME after the OUT", VTX_EXIT_REASON_HLT);
    print_exit("IRETQ returned to the interrupted code; HLT exits (HLT exiting)");

    if (regs.rbx != 0xcafe || rd(VTX_VMCS_GUEST_RIP) != GUEST_ORG + 0x11) {
        fprintf(stderr, "iw_classic: the handler did not run or the guest did not return to its HLT\n");
        return 1;
    }
    vtx_machine_destroy(m);
    free(ram);
    return 0;
}
