/* vtx_machine_save / vtx_machine_restore: a machine put back in a saved state
 * (with its memory put back by the caller) behaves as it did when saved, and as
 * a machine set up afresh does, whatever ran in between: the same exits, saved
 * RIPs, instruction counts and VMCS fields. */
#include <stdlib.h>
#include <string.h>
#include "helpers.h"

#define CODE 0x10000u

/* Guest: set RAX, store it at 0x30000, CPUID (exit), HLT (exit). */
static const uint8_t guest[] = {
    0x48, 0xc7, 0xc0, 0x44, 0x33, 0x22, 0x11, /* mov rax, 0x11223344 */
    0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x03, 0x00, /* mov [0x30000], rax */
    0x0f, 0xa2,                                /* cpuid */
    0xf4,                                      /* hlt */
};

static void setup(vt_env *e)
{
    vt_setup(e, "server");
    memcpy(e->ram + CODE, guest, sizeof guest);
    vt_vmxon(e);
    vt_load_vmcs(e, VT_VMCS_PA);
    vtx_flat64 f = {.rip = CODE, .rsp = 0x80000, .rflags = 0x2, .tables = 0x20000, .handlers = 0};
    vtx_diag d = {0};
    cr_assert_eq(vtx_setup_flat64(e->m, &f, &d), VTX_OK, "%s", d.message);
    vt_vmwrite(e, VTX_VMCS_PROC_CONTROLS, vt_vmread(e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING);
}

typedef struct outcome {
    uint32_t reason[3];
    uint64_t rip[3], insns, rax, mem;
} outcome;

/* VMLAUNCH, skip the CPUID, VMRESUME to the HLT exit. */
static outcome run(vt_env *e)
{
    outcome o = {0};
    uint64_t before = vtx_machine_instructions(e->m);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e->m, &r);
    cr_assert_eq(st, VTX_OK, "%s", r.why);
    o.reason[0] = r.exit_reason;
    o.rip[0] = vt_vmread(e, VTX_VMCS_GUEST_RIP);
    vt_vmwrite(e, VTX_VMCS_GUEST_RIP, o.rip[0] + vt_vmread(e, VTX_VMCS_EXIT_INSTRUCTION_LEN));
    st = vtx_vmresume(e->m, &r);
    cr_assert_eq(st, VTX_OK, "%s", r.why);
    o.reason[1] = r.exit_reason;
    o.rip[1] = vt_vmread(e, VTX_VMCS_GUEST_RIP);
    /* VMRESUME again without skipping: HLT exits again at the same RIP. */
    st = vtx_vmresume(e->m, &r);
    cr_assert_eq(st, VTX_OK, "%s", r.why);
    o.reason[2] = r.exit_reason;
    o.rip[2] = vt_vmread(e, VTX_VMCS_GUEST_RIP);
    o.insns = vtx_machine_instructions(e->m) - before;
    vtx_gprs g;
    vtx_machine_get_gprs(e->m, &g);
    o.rax = g.rax;
    memcpy(&o.mem, e->ram + 0x30000, 8);
    return o;
}

static void same(const outcome *a, const outcome *b, const char *what)
{
    for (int i = 0; i < 3; i++)
        cr_assert(a->reason[i] == b->reason[i] && a->rip[i] == b->rip[i],
                  "%s: exit %d was reason %u at 0x%llx, then reason %u at 0x%llx", what, i, a->reason[i],
                  (unsigned long long)a->rip[i], b->reason[i], (unsigned long long)b->rip[i]);
    cr_assert(a->insns == b->insns && a->rax == b->rax && a->mem == b->mem,
              "%s: %llu instructions, RAX 0x%llx, memory 0x%llx, then %llu, 0x%llx, 0x%llx", what,
              (unsigned long long)a->insns, (unsigned long long)a->rax, (unsigned long long)a->mem,
              (unsigned long long)b->insns, (unsigned long long)b->rax, (unsigned long long)b->mem);
}

Test(machine_state, a_restored_machine_runs_as_a_fresh_one)
{
    vt_env fresh, e;
    setup(&fresh);
    outcome want = run(&fresh);
    cr_assert_eq(want.reason[0], VTX_EXIT_REASON_CPUID);
    cr_assert_eq(want.reason[1], VTX_EXIT_REASON_HLT);
    cr_assert_eq(want.reason[2], VTX_EXIT_REASON_HLT);
    vt_teardown(&fresh);

    setup(&e);
    vtx_machine_state *s;
    cr_assert_eq(vtx_machine_save(e.m, &s), VTX_OK);
    uint8_t *pristine = malloc(VT_RAM_SIZE);
    cr_assert_not_null(pristine);
    memcpy(pristine, e.ram, VT_RAM_SIZE);
    for (int round = 0; round < 3; round++) {
        outcome got = run(&e);
        same(&want, &got, round ? "after a restore" : "before any restore");
        /* Something else in between: other code, fields and a VMCS of its own. */
        e.ram[CODE] = 0xf4;
        vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, CODE);
        vtx_insn_result r;
        cr_assert_eq(vtx_vmresume(e.m, &r), VTX_OK);
        cr_assert_eq(r.exit_reason, VTX_EXIT_REASON_HLT);
        vt_load_vmcs(&e, VT_VMCS2_PA);
        memcpy(e.ram, pristine, VT_RAM_SIZE);
        cr_assert_eq(vtx_machine_restore(e.m, s), VTX_OK);
        cr_assert_eq(vtx_machine_current_vmcs(e.m), VT_VMCS_PA, "the current VMCS is the one saved");
    }
    vtx_machine_state_free(s);
    free(pristine);
    vt_teardown(&e);
}

Test(machine_state, restore_refuses_another_machine_and_a_changed_memory_map)
{
    vt_env a, b;
    setup(&a);
    setup(&b);
    vtx_machine_state *s;
    cr_assert_eq(vtx_machine_save(a.m, &s), VTX_OK);
    cr_assert_eq(vtx_machine_restore(b.m, s), VTX_ERR_INVALID_ARG, "a state saved from another machine");
    static uint8_t extra[4096] __attribute__((aligned(4096)));
    cr_assert_eq(vtx_machine_map(a.m, 0x40000000, sizeof extra, extra, VTX_MEM_RWX, NULL), VTX_OK);
    cr_assert_eq(vtx_machine_restore(a.m, s), VTX_ERR_STATE, "the memory map changed since the save");
    vtx_machine_state_free(s);
    vt_teardown(&a);
    vt_teardown(&b);
}

Test(machine_state, restore_leaves_a_guest_stopped_inside_a_run)
{
    vt_env e;
    vtx_profile p = vt_profile_copy("server");
    vtx_machine_config cfg;
    cr_assert_eq(vtx_machine_config_init(&cfg, &p), VTX_OK);
    cfg.limits.instructions = 1; /* stop after one instruction, inside the guest */
    vt_setup_config(&e, &cfg);
    memcpy(e.ram + CODE, guest, sizeof guest);
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
    vtx_flat64 f = {.rip = CODE, .rsp = 0x80000, .rflags = 0x2, .tables = 0x20000, .handlers = 0};
    cr_assert_eq(vtx_setup_flat64(e.m, &f, NULL), VTX_OK);
    vtx_machine_state *s;
    cr_assert_eq(vtx_machine_save(e.m, &s), VTX_OK);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_OK);
    cr_assert_eq(r.outcome, VTX_GUEST_STOPPED, "the budget stops the guest inside its run");
    cr_assert(vtx_machine_in_guest(e.m));
    cr_assert_eq(vtx_machine_restore(e.m, s), VTX_OK);
    cr_assert(!vtx_machine_in_guest(e.m), "the saved machine was in root operation");
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_OK);
    cr_assert_eq(r.outcome, VTX_GUEST_STOPPED, "VMLAUNCH again (the launch state is the saved one: clear)");
    vtx_machine_state_free(s);
    vt_teardown(&e);
}

/* A guest on a restored machine that, run on a fresh one, would start with the
 * fresh one's state: set up with `code` at CODE and run up to its CPUID exit. */
static void setup_code(vt_env *e, const uint8_t *code, size_t n)
{
    vt_setup(e, "server");
    memcpy(e->ram + CODE, code, n);
    vt_vmxon(e);
    vt_load_vmcs(e, VT_VMCS_PA);
    vtx_flat64 f = {.rip = CODE, .rsp = 0x80000, .rflags = 0x2, .tables = 0x20000, .handlers = 0};
    vtx_diag d = {0};
    cr_assert_eq(vtx_setup_flat64(e->m, &f, &d), VTX_OK, "%s", d.message);
}

static uint64_t run_to_cpuid(vt_env *e)
{
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(e->m, &r), VTX_OK, "%s", r.why);
    cr_assert_eq(r.outcome, VTX_VMEXIT, "%s", r.why);
    cr_assert_eq(r.exit_reason, VTX_EXIT_REASON_CPUID);
    vtx_gprs g;
    vtx_machine_get_gprs(e->m, &g);
    return g.rax;
}

Test(machine_state, a_restored_machine_starts_with_a_new_x87_state)
{
    /* FLD1 pushes onto the x87 stack (TOP goes 0 -> 7); FNSTSW AX shows TOP in
     * bits 13:11. The model holds no x87 state: the second run on the restored
     * machine must not start with the first run's stack. */
    static const uint8_t fpu[] = {
        0xd9, 0xe8,       /* fld1 */
        0x31, 0xc0,       /* xor eax, eax */
        0xdf, 0xe0,       /* fnstsw ax */
        0x0f, 0xa2,       /* cpuid */
    };
    vt_env e;
    setup_code(&e, fpu, sizeof fpu);
    vtx_machine_state *s;
    cr_assert_eq(vtx_machine_save(e.m, &s), VTX_OK);
    uint8_t *pristine = malloc(VT_RAM_SIZE);
    cr_assert_not_null(pristine);
    memcpy(pristine, e.ram, VT_RAM_SIZE);
    uint64_t first = run_to_cpuid(&e);
    cr_assert_eq((first >> 11) & 7, 7, "FLD1 on a new x87 stack leaves TOP = 7 (FSW 0x%llx)",
                 (unsigned long long)first);
    memcpy(e.ram, pristine, VT_RAM_SIZE);
    cr_assert_eq(vtx_machine_restore(e.m, s), VTX_OK);
    uint64_t again = run_to_cpuid(&e);
    cr_assert_eq(again & 0xffff, first & 0xffff, "FSW after a restore 0x%llx, on a fresh machine 0x%llx",
                 (unsigned long long)again, (unsigned long long)first);
    vtx_machine_state_free(s);
    free(pristine);
    vt_teardown(&e);
}

Test(machine_state, a_restored_machine_sets_accessed_bits_again)
{
    /* PG-2: a VM entry without VPID invalidates the guest's translations, so the
     * first access after it walks the paging structures and sets their accessed
     * bits. Memory put back by the caller clears them; the run after the restore
     * must set them again, as on a fresh machine. */
    VTX_COVERS("PG-2");
    static const uint8_t code[] = {0x8b, 0x04, 0x25, 0x00, 0x00, 0x03, 0x00, /* mov eax, [0x30000] */
                                   0x0f, 0xa2};                              /* cpuid */
    vt_env e;
    setup_code(&e, code, sizeof code);
    vtx_machine_state *s;
    cr_assert_eq(vtx_machine_save(e.m, &s), VTX_OK);
    uint8_t *pristine = malloc(VT_RAM_SIZE);
    cr_assert_not_null(pristine);
    memcpy(pristine, e.ram, VT_RAM_SIZE);
    cr_assert_eq(e.ram[0x20000] & 0x20, 0, "the PML4 entry starts with its accessed bit clear");
    run_to_cpuid(&e);
    uint8_t first = e.ram[0x20000];
    cr_assert_eq(first & 0x20, 0x20, "the walk set the PML4 entry's accessed bit");
    memcpy(e.ram, pristine, VT_RAM_SIZE);
    cr_assert_eq(vtx_machine_restore(e.m, s), VTX_OK);
    run_to_cpuid(&e);
    cr_assert_eq(e.ram[0x20000], first, "PML4 entry 0x%02x after a restore, 0x%02x on a fresh machine",
                 e.ram[0x20000], first);
    vtx_machine_state_free(s);
    free(pristine);
    vt_teardown(&e);
}
