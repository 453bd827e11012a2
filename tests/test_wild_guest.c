/* Guest code that misbehaves ends in a reported condition, never a hang or a
 * crash of the caller: running off mapped memory, garbage bytes, an endless loop. */
#include <string.h>
#include "baseline.h"

static vt_env e;

static void setup(void)
{
    /* A small instruction budget so that the endless loop ends quickly. */
    vtx_profile p = vt_profile_copy("server");
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &p);
    cfg.limits.instructions = 100000;
    vt_setup_config(&e, &cfg);
    vt_baseline(&e);
}
static void teardown(void) { vt_teardown(&e); }
TestSuite(wild_guest, .init = setup, .fini = teardown);

Test(wild_guest, jump_off_mapped_memory)
{
    /* mov eax, 0x200000; jmp rax -- inside the identity map, beyond the 1-MiB RAM. */
    static const uint8_t code[] = {0xb8, 0x00, 0x00, 0x20, 0x00, 0xff, 0xe0};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert_eq(st, VTX_ERR_UNMAPPED, "running off mapped memory: expected VTX_ERR_UNMAPPED, got %s (%s)",
                 vtx_status_name(st), r.why);
    cr_assert_eq(r.outcome, VTX_GUEST_STOPPED);
    cr_assert(strstr(r.why, "0x200000"), "the report names the address: %s", r.why);
}

/* A store to unmapped memory in the middle of a block, with no observer (the
 * fast path). Where the engine cannot make that stop exact (Unicorn 2.0.1: RIP
 * at the block's start, RFLAGS stale), going on would run
 * the block's first instructions a second time: vtx_continue refuses, and
 * nothing runs. Where the stop is exact (Unicorn 2.1.1 translates through the
 * guest's page tables and stops on the store), going on meets the same store
 * again. Either way the count does not move. */
Test(wild_guest, no_run_goes_on_from_an_inexact_unmapped_stop)
{
    VTX_COVERS("ENG-UNM-1");
    /* inc eax; inc eax; mov ebx, 0x200000; mov [rbx], eax; hlt */
    static const uint8_t code[] = {0xff, 0xc0, 0xff, 0xc0, 0xbb, 0x00, 0x00, 0x20, 0x00, 0x89, 0x03, 0xf4};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert_eq(st, VTX_ERR_UNMAPPED, "the store beyond RAM: %s (%s)", vtx_status_name(st), r.why);
    bool inexact = strstr(r.why, "not exact") != NULL;
    uint64_t n = vtx_machine_instructions(e.m);
    vtx_gprs g0, g1;
    vtx_machine_get_gprs(e.m, &g0);
    st = vtx_continue(e.m, &r);
    cr_assert_eq(st, VTX_ERR_UNMAPPED, "going on: %s (%s)", vtx_status_name(st), r.why);
    cr_assert_eq(r.outcome, VTX_GUEST_STOPPED);
    cr_assert_eq(vtx_machine_instructions(e.m), n, "nothing retired going on (%s)", r.why);
    vtx_machine_get_gprs(e.m, &g1);
    cr_assert_eq(g1.rax, g0.rax, "RAX 0x%llx, was 0x%llx: the INCs ran again", (unsigned long long)g1.rax,
                 (unsigned long long)g0.rax);
    if (inexact)
        cr_assert(strstr(r.why, "cannot go on"), "the refusal says why: %s", r.why);
}

Test(wild_guest, garbage_bytes_end_in_a_triple_fault)
{
    VTX_COVERS("INJ-16");
    /* ud2 with an empty IDT: #UD, then #NP delivering it, then #DF, then a triple
     * fault: exit 2 (INJ-16's chain for a guest-raised exception). */
    static const uint8_t code[] = {0x0f, 0x0b};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_TRIPLE_FAULT,
              "ud2 with an empty IDT: expected a triple-fault exit (2), got %s", r.why);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), VT_GUEST_RIP, "RIP stays on the faulting ud2");
}

Test(wild_guest, garbage_bytes_with_ud_intercepted)
{
    /* The flip: with #UD in the exception bitmap the same bytes give exit 0, vector 6. */
    static const uint8_t code[] = {0x0f, 0x0b};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXCEPTION_NMI,
              "ud2 with #UD intercepted: expected exit 0");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO), 0x80000306, "hardware exception, vector 6, valid");
}

Test(wild_guest, endless_loop_stops_at_the_budget)
{
    /* jmp $ : the run stops at the instruction budget, in the guest, and can go on. */
    static const uint8_t code[] = {0xeb, 0xfe};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_GUEST_STOPPED, "jmp $: expected a budget stop");
    cr_assert(strstr(r.why, "instruction budget of 100000"), "the stop names the budget: %s", r.why);
    uint64_t n = vtx_machine_instructions(e.m);
    st = vtx_continue(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_GUEST_STOPPED, "and again after vtx_continue");
    cr_assert_eq(vtx_machine_instructions(e.m) - n, 100000, "each run executes exactly the budget");
}

Test(wild_guest, mov_cr3_with_reserved_bits_raises_gp)
{
    /* mov rax, 1 << 62; mov cr3, rax: bits beyond the physical-address width -> #GP(0)
     * (kut 6.11.3's faulting instruction). With #GP intercepted: exit 0, vector 13,
     * error code 0, RIP at the mov cr3 (a fault). */
    static const uint8_t code[] = {0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x0f, 0x22, 0xd8};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXCEPTION_NMI,
              "mov cr3 with bit 62: expected exit 0 (#GP), got %s", r.why);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO), 0x80000b0d, "#GP with an error code, valid");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_ERROR_CODE), 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 10, "RIP on the mov cr3");
}

Test(wild_guest, mov_cr3_valid_value_loads)
{
    /* The flip: a value within the width loads; the next instruction (hlt) runs. */
    static const uint8_t code[] = {0x48, 0xb8, 0, 0, 0x02, 0, 0, 0, 0, 0, 0x0f, 0x22, 0xd8, 0xf4};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS, vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_HLT,
              "mov cr3 with the page-table address: expected the HLT exit, got %s", r.why);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_CR3), 0x20000, "the guest's CR3 is saved at the exit");
}

/* ENG-ABT-1: the run the translator's abort interrupted goes on in the new
 * Unicorn with RFLAGS as it was: DF and the arithmetic flags of the block before
 * (found by the guest fuzz target with an observer: the exception frames pushed
 * after the abort had lost DF, ZF and PF). */
Test(wild_guest, flags_survive_the_translators_abort)
{
    VTX_COVERS("ENG-ABT-1");
    /* std; xor eax, eax (ZF, PF); jmp $+2 (the block ends); call far ebp */
    static const uint8_t code[] = {0xfd, 0x31, 0xc0, 0xeb, 0x00, 0xff, 0xdd};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXCEPTION_NMI,
              "call far ebp: expected exit 0 (#UD), got %s (%s)", vtx_status_name(st), r.why);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 5, "RIP on the far call");
    uint64_t rf = vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS);
    cr_assert_eq(rf & 0xcd5, 0x444, "RFLAGS 0x%llx: DF, ZF and PF set, CF, AF, SF and OF clear", (unsigned long long)rf);
}

Test(wild_guest, far_branch_with_register_operand_is_ud)
{
    /* FF DD / FF ED are a far CALL / JMP with a register operand: #UD on hardware.
     * Unicorn 2.0.1 calls abort() translating them ("tcg fatal error"); the engine
     * catches that, goes on in a new Unicorn that stops before the instruction
     * instead of translating it, and the model raises the #UD (found by the guest
     * fuzz target; it used to kill the caller's process).
     *   G+0 nop ; G+1 call far ebp (ff dd) -- then, second entry, jmp far ebp (ff ed) */
    static const uint8_t code[] = {0x90, 0xff, 0xdd};
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    uint64_t i0 = vtx_machine_instructions(e.m);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXCEPTION_NMI,
              "call far ebp: expected exit 0 (#UD), got %s (%s)", vtx_status_name(st), r.why);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) & 0x80000FFFu, 0x80000306u, "#UD, hardware exception");
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 1, "RIP on the faulting instruction");
    cr_assert_eq(vtx_machine_instructions(e.m) - i0, 1, "only the nop retired");
    /* The same engine goes on: again at the same instruction, then the JMP form. */
    st = vtx_vmresume(e.m, &r);
    cr_assert(st == VTX_OK && r.exit_reason == VTX_EXIT_REASON_EXCEPTION_NMI &&
                  vt_vmread(&e, VTX_VMCS_GUEST_RIP) == VT_GUEST_RIP + 1,
              "again: %s (%s)", vtx_status_name(st), r.why);
    e.ram[VT_GUEST_RIP + 2] = 0xed;
    st = vtx_vmresume(e.m, &r);
    cr_assert(st == VTX_OK && r.exit_reason == VTX_EXIT_REASON_EXCEPTION_NMI &&
                  vt_vmread(&e, VTX_VMCS_GUEST_RIP) == VT_GUEST_RIP + 1,
              "jmp far ebp: %s (%s)", vtx_status_name(st), r.why);
}

static void observe_nothing(void *user, const vtx_boundary_report *report)
{
    (void)user, (void)report;
}

/* A new machine, as set up, with an observer of every boundary from now on. */
static void renew_observed(vtx_boundary_observer observer, void *user)
{
    vt_teardown(&e);
    setup();
    vtx_machine_set_observer(e.m, observer, user);
}

/* VMLAUNCH, which must stop exactly at an access to 0x200000 (beyond RAM); the
 * report goes to why, and the instructions retired are returned. */
static uint64_t launch_to_unmapped(int observed, char *why, size_t n)
{
    uint64_t i0 = vtx_machine_instructions(e.m);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert_eq(st, VTX_ERR_UNMAPPED, "observer %d: %s (%s)", observed, vtx_status_name(st), r.why);
    cr_assert(strstr(r.why, "0x200000") && strstr(r.why, "not mapped") && !strstr(r.why, "not exact"),
              "observer %d: the report names the access, exactly: %s", observed, r.why);
    snprintf(why, n, "%s", r.why);
    return vtx_machine_instructions(e.m) - i0;
}

/* ENG-UNM-2: SMSW, which the model steps (one-instruction run), with its
 * destination beyond RAM: the same exact stop with and without an observer,
 * RIP on the SMSW, nothing retired by it, the report naming the access (found
 * by the guest fuzz target's check mode with an observer: without one the model
 * reported that the destination "cannot be written", after the engine had
 * counted the SMSW as retired). */
Test(wild_guest, smsw_to_unmapped_memory_stops_exactly_on_every_path)
{
    VTX_COVERS("ENG-UNM-2");
    /* mov ebx, 0x200000; inc eax; smsw [rbx]; hlt */
    static const uint8_t code[] = {0xbb, 0x00, 0x00, 0x20, 0x00, 0xff, 0xc0, 0x0f, 0x01, 0x23, 0xf4};
    char why[2][256];
    for (int observed = 0; observed < 2; observed++) {
        if (observed)
            renew_observed(observe_nothing, NULL);
        vt_code(&e, VT_GUEST_RIP, code, sizeof code);
        uint64_t count = launch_to_unmapped(observed, why[observed], sizeof why[observed]);
        cr_assert_eq(count, 2, "observer %d: the MOV and the INC retired, not the SMSW: %llu", observed,
                     (unsigned long long)count);
    }
    cr_assert_str_eq(why[0], why[1]);
}

/* ENG-UNM-3: an x87 store to unmapped memory, and an interrupt window that opens
 * at the boundary after it (the store is in a MOV-SS shadow, IF = 1,
 * interrupt-window exiting on). The store does not complete, so that boundary
 * never comes: the run stops on the store, with an observer as without one (found by the guest fuzz
 * target's check mode: with an observer the engine's per-instruction hook went on
 * to the boundary, the observer saw it and the model took the interrupt-window
 * exit after the store). */
static void observe_after_store(void *user, const vtx_boundary_report *report)
{
    if (report->rip == VT_GUEST_RIP + 3)
        ++*(int *)user;
}

Test(wild_guest, no_boundary_after_a_store_to_unmapped_memory)
{
    VTX_COVERS("ENG-UNM-3");
    int after = 0;
    /* fstp tword [rdx-0x25]; hlt (RDX = 0x200025: the store goes to 0x200000, in the
     * identity map, beyond RAM) */
    static const uint8_t code[] = {0xdb, 0x7a, 0xdb, 0xf4};
    char why[2][256];
    for (int observed = 0; observed < 2; observed++) {
        if (observed)
            renew_observed(observe_after_store, &after);
        vt_code(&e, VT_GUEST_RIP, code, sizeof code);
        vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, 0x202);
        vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, 2); /* blocking by MOV SS */
        vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS,
                   vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_INTR_WINDOW_EXITING);
        vtx_gprs g;
        vtx_machine_get_gprs(e.m, &g);
        g.rdx = 0x200025;
        vtx_machine_set_gprs(e.m, &g);
        cr_assert_eq(launch_to_unmapped(observed, why[observed], sizeof why[observed]), 0,
                     "observer %d: the store retired", observed);
        cr_assert(strstr(why[observed], "RIP 0x10000"), "observer %d: RIP on the store: %s", observed, why[observed]);
    }
    cr_assert_str_eq(why[0], why[1]);
    cr_assert_eq(after, 0, "the observer saw %d boundaries after the store", after);
}

/* EXEC-FLT-1: a fault after other instructions of the same run is put off to the
 * boundary before its instruction (PRI-1); nothing wins there, so it is raised as
 * it came, not by running the instruction again. Here the guest sets a reserved
 * bit in the 2-MiB PDE of its own code without invalidating (its translation
 * stays cached, as a processor may keep it), and its non-canonical load raises
 * #GP; on Unicorn 2.0.1 the engine maps a page for that access (ENG-NC-2), which
 * flushes Unicorn's TLB, and running the load again fetched it through a new
 * walk: a #PF (found by the guest fuzz target in check mode: the per-instruction
 * path raised the #GP). */
Test(wild_guest, fault_after_others_in_its_run_is_the_one_raised)
{
    VTX_COVERS("EXEC-FLT-1");
    static const uint8_t code[] = {
        0x48, 0xb8, 0x00, 0x20, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, /* mov rax, 0x22000: PDE 0 */
        0x48, 0x81, 0x08, 0x00, 0x20, 0x00, 0x00,                   /* or qword [rax], 0x2000: bit 13, reserved */
        0x90, 0x90,                                                 /* nop; nop */
        0x48, 0xa1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, /* mov rax, [0x8000000000000000]: #GP */
        0xf4,
    };
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, (1u << 13) | (1u << 14));
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_OK && r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_EXCEPTION_NMI,
              "expected an exception exit (0): %s", r.why);
    uint64_t info = vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO);
    cr_assert_eq(info & 0xff, 13, "vector %llu (CR2 0x%llx): the load's #GP, not a #PF fetching it again",
                 (unsigned long long)(info & 0xff), (unsigned long long)r.exit_qualification);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), VT_GUEST_RIP + 19u, "RIP on the load");
}
