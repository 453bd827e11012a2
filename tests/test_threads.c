/* One machine per thread: the library keeps no mutable state outside the
 * machine (vtx_setup_flat64 used function-local static buffers, so two threads
 * setting up two machines raced). Several threads set up and run their own
 * machine at once; each must get exactly what the same work gets alone. The
 * threads make no Criterion assertion (those belong to the test's thread): they
 * record what they saw, and the test compares. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"

enum { THREADS = 4, ROUNDS = 3000, RAM = 1u << 20 };
#define TABLES 0x40000u
#define CODE_PA 0x10000u
#define HANDLERS(t) (0x20000u + 0x1000u * (t))

typedef struct outcome {
    int failed_at;     /* 0 if every step worked, else the step that did not (-1: cut short) */
    uint64_t idt_bad;  /* rounds whose IDT in memory was not this machine's */
    uint32_t reason1, reason2;
    uint64_t rip1, rip2, rax, rbx, cycles, instructions;
} outcome;

/* Guest: mov ecx, 200; l: inc rax; loop l; int3 (handler: inc rbx; iretq); cpuid.
 * Run 1 ends in the CPUID exit (10); run 2 restarts at the loop with the
 * preemption timer armed and ends in the timer exit (52). */
static const uint8_t code[] = {0xb9, 0xc8, 0x00, 0x00, 0x00, 0x48, 0xff, 0xc0, 0xe2, 0xfb, 0xcc, 0x0f, 0xa2};
static const uint8_t handler[] = {0x48, 0xff, 0xc3, 0x48, 0xcf};

static uint64_t rd(vtx_machine *m, uint32_t enc)
{
    vtx_insn_result r;
    vtx_vmread(m, enc, &r);
    return r.value;
}

static bool wr(vtx_machine *m, uint32_t enc, uint64_t v)
{
    vtx_insn_result r;
    return vtx_vmwrite(m, enc, v, &r) == VTX_OK && r.outcome == VTX_VMSUCCEED;
}

static void work(unsigned t, outcome *o, pthread_barrier_t *start)
{
    memset(o, 0, sizeof *o);
    o->failed_at = -1;
    vtx_machine_config cfg;
    vtx_machine *m = NULL;
    uint8_t *ram = aligned_alloc(4096, RAM);
    if (!ram || vtx_machine_config_init(&cfg, vtx_profile_builtin(1)) != VTX_OK ||
        vtx_machine_create(&cfg, &m, NULL) != VTX_OK) {
        o->failed_at = 1;
        free(ram);
        if (start)
            pthread_barrier_wait(start);
        return;
    }
    memset(ram, 0, RAM);
    uint32_t rev = vtx_basic_revision(cfg.profile.msr[VTX_CAP_IA32_VMX_BASIC]);
    memcpy(ram + 0x1000, &rev, 4);
    memcpy(ram + 0x2000, &rev, 4);
    memcpy(ram + CODE_PA, code, sizeof code);
    memcpy(ram + HANDLERS(t) + 3 * 16, handler, sizeof handler);
    vtx_insn_result r;
    if (vtx_machine_map(m, 0, RAM, ram, VTX_MEM_RWX, NULL) != VTX_OK || vtx_vmxon(m, 0x1000, &r) != VTX_OK ||
        r.outcome != VTX_VMSUCCEED || vtx_vmclear(m, 0x2000, &r) != VTX_OK || vtx_vmptrld(m, 0x2000, &r) != VTX_OK) {
        o->failed_at = 2;
        if (start)
            pthread_barrier_wait(start);
        goto out;
    }
    /* The threads start setting up together (creating a machine takes long). */
    if (start)
        pthread_barrier_wait(start);
    vtx_flat64 g = {.rip = CODE_PA, .rsp = 0x9000, .rflags = 0x2, .tables = TABLES, .handlers = HANDLERS(t)};
    /* Set the guest up many times while the other threads do the same: the IDT
     * in memory must point at this machine's handlers each time. */
    for (int i = 0; i < ROUNDS; i++) {
        if (vtx_setup_flat64(m, &g, NULL) != VTX_OK) {
            o->failed_at = 3;
            goto out;
        }
        uint64_t gate[2];
        memcpy(gate, ram + TABLES + 0x4000 + 3 * 16, sizeof gate);
        uint64_t target = (gate[0] & 0xFFFF) | ((gate[0] >> 32) & 0xFFFF0000ull) | (gate[1] << 32);
        uint64_t pde1;
        memcpy(&pde1, ram + TABLES + 0x2000 + 8, sizeof pde1);
        if (target != HANDLERS(t) + 3 * 16 || pde1 != ((1ull << 21) | 0x83))
            o->idt_bad++;
    }
    if (vtx_vmlaunch(m, &r) != VTX_OK || r.outcome != VTX_VMEXIT) {
        o->failed_at = 4;
        goto out;
    }
    o->reason1 = r.exit_reason;
    o->rip1 = rd(m, VTX_VMCS_GUEST_RIP);
    bool ok = wr(m, VTX_VMCS_GUEST_RIP, CODE_PA) &&
              wr(m, VTX_VMCS_PIN_CONTROLS, rd(m, VTX_VMCS_PIN_CONTROLS) | VTX_PIN_PREEMPTION_TIMER) &&
              wr(m, VTX_VMCS_PREEMPTION_TIMER_VALUE, 7);
    if (!ok || vtx_vmresume(m, &r) != VTX_OK || r.outcome != VTX_VMEXIT) {
        o->failed_at = 5;
        goto out;
    }
    o->reason2 = r.exit_reason;
    o->rip2 = rd(m, VTX_VMCS_GUEST_RIP);
    vtx_gprs gp;
    vtx_machine_get_gprs(m, &gp);
    o->rax = gp.rax;
    o->rbx = gp.rbx;
    o->cycles = vtx_machine_cycles(m);
    o->instructions = vtx_machine_instructions(m);
    o->failed_at = 0;
out:
    vtx_machine_destroy(m);
    free(ram);
}

typedef struct job {
    unsigned t;
    pthread_barrier_t *start;
    outcome o;
} job;

static void *thread_main(void *arg)
{
    job *j = arg;
    work(j->t, &j->o, j->start);
    return NULL;
}

static void expect_same(unsigned t, const outcome *alone, const outcome *threaded)
{
    cr_assert_eq(threaded->failed_at, 0, "thread %u: step %d failed", t, threaded->failed_at);
    cr_assert_eq(threaded->idt_bad, 0, "thread %u: %llu of %d setups left another machine's tables", t,
                 (unsigned long long)threaded->idt_bad, ROUNDS);
    cr_assert_eq(threaded->reason1, alone->reason1, "thread %u: first exit", t);
    cr_assert_eq(threaded->rip1, alone->rip1, "thread %u: RIP of the first exit", t);
    cr_assert_eq(threaded->reason2, alone->reason2, "thread %u: second exit", t);
    cr_assert_eq(threaded->rip2, alone->rip2, "thread %u: RIP of the second exit", t);
    cr_assert_eq(threaded->rax, alone->rax, "thread %u: RAX", t);
    cr_assert_eq(threaded->rbx, alone->rbx, "thread %u: RBX", t);
    cr_assert_eq(threaded->cycles, alone->cycles, "thread %u: cycles", t);
    cr_assert_eq(threaded->instructions, alone->instructions, "thread %u: instructions", t);
}

Test(threads, one_machine_per_thread_gives_the_results_of_one_alone)
{
    outcome alone[THREADS];
    for (unsigned t = 0; t < THREADS; t++) {
        work(t, &alone[t], NULL);
        cr_assert_eq(alone[t].failed_at, 0, "alone %u: step %d failed", t, alone[t].failed_at);
        cr_assert_eq(alone[t].idt_bad, 0);
        cr_assert_eq(alone[t].reason1, VTX_EXIT_REASON_CPUID, "the guest ran to its CPUID");
        cr_assert_eq(alone[t].rip1, CODE_PA + 11);
        cr_assert_eq(alone[t].reason2, VTX_EXIT_REASON_PREEMPTION_TIMER);
        cr_assert_eq(alone[t].rbx, 1, "the #BP handler ran once");
    }
    pthread_barrier_t start;
    cr_assert_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
    job jobs[THREADS];
    pthread_t tid[THREADS];
    for (unsigned t = 0; t < THREADS; t++) {
        jobs[t] = (job){.t = t, .start = &start};
        cr_assert_eq(pthread_create(&tid[t], NULL, thread_main, &jobs[t]), 0);
    }
    for (unsigned t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_join(tid[t], NULL), 0);
    pthread_barrier_destroy(&start);
    for (unsigned t = 0; t < THREADS; t++)
        expect_same(t, &alone[t], &jobs[t].o);
}
