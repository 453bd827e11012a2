/* libFuzzer target: arbitrary bytes as guest code in a flat 64-bit guest, with
 * arbitrary window and exiting controls, RFLAGS, interruptibility, activity,
 * an injected event and platform inputs. Every run must end in a VM exit (a
 * triple fault included), a VM-entry failure, or a stop with a reason; never a
 * crash, a hang or a sanitizer report.
 *
 * Machines are reused across inputs (issue 15): one per profile, set up once
 * (VMXON, VMCLEAR, VMPTRLD, vtx_setup_flat64), saved with vtx_machine_save and
 * put back before each input with vtx_machine_restore and a copy of its memory,
 * so that the engine (its Unicorn and its translated code) lives on. An input's
 * outcome must not depend on the inputs before it (a crash must reproduce from
 * its input alone); the environment variable VTX_FUZZ_GUEST_MODE chooses:
 *   reuse  (default) restore a machine set up once;
 *   fresh  create and destroy a machine per input (the way before issue 15);
 *   check  run each input on a fresh machine and on a reused one and abort()
 *          when the outcomes differ (exit reasons, qualifications, guest RIP,
 *          RFLAGS, interruptibility and activity, instruction counts, registers,
 *          memory), after printing both; then on a fresh machine with an
 *          observer (every instruction on the engine's per-instruction path),
 *          and on a fresh machine whose runs end every 7 to 37 instructions
 *          (vtx_machine_set_limits), each continued where the last stopped: the
 *          same outcome both times. scripts/fuzz.sh --short runs it, and
 *          ctest replays the seeds in it (fuzz_guest_replay, tests/fuzz/replay.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vtxref/vtxref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (2u << 20)
#define CODE 0x10000u
#define HANDLERS 0x20000u /* vector v at HANDLERS + 16 * v */
/* What the code and handler pages hold past the input's bytes: HLT, so that a
 * run ends where the input's code does (in the HLT state or a HLT exit) instead
 * of running ADD [RAX],AL (00 00) up to the instruction budget, which Unicorn
 * translated anew for every input in blocks of 512 instructions. */
#define FILL 0xF4
#define STEPS 6 /* VMLAUNCH, up to 4 VMRESUMEs, a continue */
#define BUDGET_INSNS 2000u /* of each run */
#define BUDGET_CYCLES 200000u

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint64_t take(reader *r, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && r->n; i++, r->p++, r->n--)
        v |= (uint64_t)*r->p << (8 * i);
    return v;
}

static void vmw(vtx_machine *m, uint32_t enc, uint64_t v)
{
    vtx_insn_result r;
    vtx_vmwrite(m, enc, v, &r);
}

static uint64_t vmr(vtx_machine *m, uint32_t enc)
{
    vtx_insn_result r;
    vtx_vmread(m, enc, &r);
    return r.value;
}

static void check(vtx_status st, const vtx_insn_result *r)
{
    if (st != VTX_OK && st != VTX_ERR_UNSUPPORTED && st != VTX_ERR_UNMAPPED && st != VTX_ERR_STATE)
        abort();
    if (st == VTX_ERR_STATE)
        return;
    if (r->outcome == VTX_VMEXIT && !vtx_exit_reason_name(r->exit_reason & 0xFFFF))
        abort();
    if (st == VTX_OK && r->outcome != VTX_VMEXIT && r->outcome != VTX_GUEST_STOPPED &&
        r->outcome != VTX_VMFAIL_VALID && r->outcome != VTX_VMFAIL_INVALID)
        abort();
}

/* ---- a machine ready for an input: VMX on, a flat 64-bit guest set up ---- */

#define PAGES (RAM / 4096)

typedef struct env {
    vtx_machine *m;
    uint8_t *ram;
    uint8_t *ram0;          /* reused: the memory as set up */
    vtx_machine_state *s0;  /* reused: the machine as set up */
    unsigned chunk; /* check mode's chunked machine: its runs end every `chunk` instructions */
} env;

/* An observer of every boundary: the engine then runs each instruction on its
 * per-instruction path, which must give what its fast path gives. */
static void observe_nothing(void *user, const vtx_boundary_report *report)
{
    (void)user, (void)report;
}

static void env_setup(env *e, const vtx_profile *p, int keep, int observed)
{
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, p);
    cfg.limits.instructions = BUDGET_INSNS;
    cfg.limits.cycles = BUDGET_CYCLES;
    if (vtx_machine_create(&cfg, &e->m, NULL) != VTX_OK)
        abort();
    if (observed && vtx_machine_set_observer(e->m, observe_nothing, NULL) != VTX_OK)
        abort();
    e->ram = aligned_alloc(4096, RAM);
    if (!e->ram)
        abort();
    memset(e->ram, 0, RAM);
    memset(e->ram + CODE, FILL, 4096);
    memset(e->ram + HANDLERS, FILL, 4096);
    vtx_machine_map(e->m, 0, RAM, e->ram, VTX_MEM_RWX, NULL);
    uint32_t rev = vtx_basic_revision(p->msr[VTX_CAP_IA32_VMX_BASIC]);
    memcpy(e->ram + 0x1000, &rev, 4);
    memcpy(e->ram + 0x2000, &rev, 4);
    vtx_insn_result r;
    vtx_vmxon(e->m, 0x1000, &r);
    vtx_vmclear(e->m, 0x2000, &r);
    vtx_vmptrld(e->m, 0x2000, &r);
    vtx_flat64 g = {.rip = CODE, .rsp = 0x90000, .rflags = 0x2, .tables = 0x100000, .handlers = HANDLERS};
    if (vtx_setup_flat64(e->m, &g, NULL) != VTX_OK)
        abort();
    e->ram0 = NULL;
    e->s0 = NULL;
    if (keep) {
        e->ram0 = malloc(RAM);
        if (!e->ram0 || vtx_machine_save(e->m, &e->s0) != VTX_OK)
            abort();
        memcpy(e->ram0, e->ram, RAM);
    }
}

static void env_free(env *e)
{
    vtx_machine_destroy(e->m);
    vtx_machine_state_free(e->s0);
    free(e->ram);
    free(e->ram0);
    e->m = NULL;
    e->s0 = NULL;
}

/* Back to the state set up, memory included: the pages that differ from the
 * copy made at set-up are put back. Comparing 2 MiB costs less than the
 * alternatives measured: copying them all (a fifth of the time, 2026-12-06),
 * or write-protecting the memory and recording each page's first write from
 * SIGSEGV (an mprotect and a fault per written page and three mprotects per
 * input, with their TLB shootdowns: the fastest half of a campaign corpus
 * went from 2 400-2 500 to 3 000 inputs per second without them). */
static void env_restore(env *e)
{
    if (vtx_machine_restore(e->m, e->s0) != VTX_OK)
        abort();
    for (size_t pg = 0; pg < PAGES; pg++)
        if (memcmp(e->ram + pg * 4096, e->ram0 + pg * 4096, 4096) != 0)
            memcpy(e->ram + pg * 4096, e->ram0 + pg * 4096, 4096);
}

/* ---- what an input did (compared in check mode) ---- */

typedef struct step {
    vtx_status st;
    vtx_insn_outcome outcome;
    uint32_t exit_reason, vm_error;
    uint64_t qual, rip, rflags, intr, activity, insn_len, instructions;
    char why[240];
} step;

typedef struct outcome {
    int n;
    step s[STEPS];
    vtx_gprs g;
    uint64_t ram_hash;
} outcome;

static void record(outcome *o, vtx_machine *m, vtx_status st, const vtx_insn_result *r)
{
    if (!o || o->n >= STEPS)
        return;
    step *s = &o->s[o->n++];
    s->st = st;
    s->outcome = r->outcome;
    s->exit_reason = r->exit_reason;
    s->vm_error = r->vm_error;
    s->qual = r->exit_qualification;
    s->rip = vmr(m, VTX_VMCS_GUEST_RIP);
    s->rflags = vmr(m, VTX_VMCS_GUEST_RFLAGS);
    s->intr = vmr(m, VTX_VMCS_GUEST_INTERRUPTIBILITY);
    s->activity = vmr(m, VTX_VMCS_GUEST_ACTIVITY_STATE);
    s->insn_len = vmr(m, VTX_VMCS_EXIT_INSTRUCTION_LEN);
    s->instructions = vtx_machine_instructions(m);
    snprintf(s->why, sizeof s->why, "%s", r->why);
}

static uint64_t hash_ram(const uint8_t *p)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < RAM; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211ull;
    }
    return h;
}

/*
 * One VMLAUNCH, VMRESUME or continue. On the chunked machine of check mode its
 * budget is spent in runs of e->chunk instructions, each after the first a
 * vtx_continue from the budget's stop: the engine's runs then start and stop at
 * other boundaries, which must change nothing the guest, the VMM or the clock
 * can see (state Unicorn keeps from one run to the next: ENG-STI-2, ENG-DF-1).
 * The result is the one the whole budget gives, its stop's sentence included.
 */
static vtx_status call(env *e, vtx_status (*fn)(vtx_machine *, vtx_insn_result *), vtx_insn_result *r)
{
    vtx_machine *m = e->m;
    if (!e->chunk)
        return fn(m, r);
    const uint64_t i0 = vtx_machine_instructions(m), c0 = vtx_machine_cycles(m);
    vtx_machine_set_limits(m, &(vtx_run_limits){.instructions = e->chunk, .cycles = BUDGET_CYCLES});
    vtx_status st = fn(m, r);
    for (;;) {
        uint64_t di = vtx_machine_instructions(m) - i0, dc = vtx_machine_cycles(m) - c0;
        if (st != VTX_OK || r->outcome != VTX_GUEST_STOPPED || (strncmp(r->why, "instruction budget", 18) != 0 &&
                                                               strncmp(r->why, "cycle budget", 12) != 0))
            break;
        const char *at = strstr(r->why, " reached at RIP ");
        if (di >= BUDGET_INSNS || dc >= BUDGET_CYCLES) {
            /* the whole budget: the sentence it gives (instructions first, as run.c checks) */
            char tail[120];
            snprintf(tail, sizeof tail, "%s", at ? at : "");
            if (di >= BUDGET_INSNS)
                snprintf(r->why, sizeof r->why, "instruction budget of %u%s", BUDGET_INSNS, tail);
            else
                snprintf(r->why, sizeof r->why, "cycle budget of %u%s", BUDGET_CYCLES, tail);
            break;
        }
        vtx_machine_set_limits(m, &(vtx_run_limits){.instructions = BUDGET_INSNS - di < e->chunk ? BUDGET_INSNS - di : e->chunk,
                                                     .cycles = BUDGET_CYCLES - dc});
        st = vtx_continue(m, r);
    }
    vtx_machine_set_limits(m, &(vtx_run_limits){.instructions = BUDGET_INSNS, .cycles = BUDGET_CYCLES});
    return st;
}

/* Run one input on a machine set up by env_setup (fresh or restored). */
static void run(env *e, reader rd, outcome *o)
{
    vtx_machine *m = e->m;
    uint8_t *ram = e->ram;
    /* Controls and state from the input. */
    uint32_t pin = (uint32_t)take(&rd, 1), proc = (uint32_t)take(&rd, 4);
    uint32_t pin_ok = VTX_PIN_EXT_INTR_EXITING | VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS | VTX_PIN_PREEMPTION_TIMER;
    uint32_t proc_ok = VTX_PROC_INTR_WINDOW_EXITING | VTX_PROC_HLT_EXITING | VTX_PROC_NMI_WINDOW_EXITING |
                       VTX_PROC_MONITOR_TRAP_FLAG | VTX_PROC_RDTSC_EXITING | VTX_PROC_UNCOND_IO_EXITING |
                       VTX_PROC_TSC_OFFSETTING | VTX_PROC_MOV_DR_EXITING | VTX_PROC_CR8_LOAD_EXITING;
    vmw(m, VTX_VMCS_PIN_CONTROLS, vmr(m, VTX_VMCS_PIN_CONTROLS) | (pin & pin_ok));
    vmw(m, VTX_VMCS_PROC_CONTROLS, vmr(m, VTX_VMCS_PROC_CONTROLS) | (proc & proc_ok));
    vmw(m, VTX_VMCS_EXCEPTION_BITMAP, take(&rd, 4));
    vmw(m, VTX_VMCS_PREEMPTION_TIMER_VALUE, take(&rd, 2));
    vmw(m, VTX_VMCS_GUEST_RFLAGS, 0x2 | (take(&rd, 4) & 0x244ED5)); /* IF, TF, DF, arithmetic flags, AC, ID */
    vmw(m, VTX_VMCS_GUEST_INTERRUPTIBILITY, take(&rd, 1) & 0xB);
    vmw(m, VTX_VMCS_GUEST_ACTIVITY_STATE, take(&rd, 1) & 1);
    vmw(m, VTX_VMCS_ENTRY_INTR_INFO, take(&rd, 4) & 0x80000FFFu);
    vmw(m, VTX_VMCS_ENTRY_EXCEPTION_ERROR_CODE, take(&rd, 2));
    vmw(m, VTX_VMCS_ENTRY_INSTRUCTION_LEN, take(&rd, 1) & 15);
    unsigned inputs = (unsigned)take(&rd, 1);
    if (inputs & 1)
        vtx_machine_schedule(m, &(vtx_input){.kind = VTX_INPUT_NMI, .when = take(&rd, 1)});
    if (inputs & 2)
        vtx_machine_schedule(m, &(vtx_input){.kind = VTX_INPUT_INTR_ASSERT, .vector = (uint8_t)take(&rd, 1),
                                             .when = take(&rd, 1)});
    /* The rest is guest code, and handlers full of it too. */
    size_t n = rd.n < 4096 ? rd.n : 4096;
    memcpy(ram + CODE, rd.p, n);
    memcpy(ram + HANDLERS, rd.p, n);

    vtx_insn_result r;
    vtx_status st = call(e, vtx_vmlaunch, &r);
    check(st, &r);
    record(o, m, st, &r);
    for (int i = 0; i < 4 && st == VTX_OK && r.outcome == VTX_VMEXIT && !(r.exit_reason >> 31); i++) {
        /* Skip an instruction exit, as a VMM would, and resume. */
        vmw(m, VTX_VMCS_GUEST_RIP, vmr(m, VTX_VMCS_GUEST_RIP) + vmr(m, VTX_VMCS_EXIT_INSTRUCTION_LEN));
        st = call(e, vtx_vmresume, &r);
        check(st, &r);
        record(o, m, st, &r);
    }
    if (vtx_machine_in_guest(m)) {
        st = call(e, vtx_continue, &r);
        check(st, &r);
        record(o, m, st, &r);
    }
    if (o) {
        vtx_machine_get_gprs(m, &o->g);
        o->ram_hash = hash_ram(ram);
    }
}

/* ---- modes ---- */

enum { MODE_REUSE, MODE_FRESH, MODE_CHECK };

static int mode(void)
{
    static int m = -1;
    if (m < 0) {
        const char *v = getenv("VTX_FUZZ_GUEST_MODE");
        m = !v || !*v || !strcmp(v, "reuse") ? MODE_REUSE
            : !strcmp(v, "fresh")            ? MODE_FRESH
            : !strcmp(v, "check")            ? MODE_CHECK
                                             : -1;
        if (m < 0) {
            fprintf(stderr, "fuzz_guest: VTX_FUZZ_GUEST_MODE=%s is not reuse, fresh or check\n", v);
            exit(2);
        }
    }
    return m;
}

static void print_outcome(const char *what, const outcome *o)
{
    fprintf(stderr, "%s: %d steps, RAX %llx RBX %llx, memory hash %llx\n", what, o->n,
            (unsigned long long)o->g.rax, (unsigned long long)o->g.rbx, (unsigned long long)o->ram_hash);
    for (int i = 0; i < o->n; i++) {
        const step *s = &o->s[i];
        fprintf(stderr,
                "  status %d outcome %d reason 0x%x error %u qual 0x%llx rip 0x%llx rflags 0x%llx intr 0x%llx "
                "activity %llu len %llu instructions %llu: %s\n",
                (int)s->st, (int)s->outcome, s->exit_reason, s->vm_error, (unsigned long long)s->qual,
                (unsigned long long)s->rip, (unsigned long long)s->rflags, (unsigned long long)s->intr,
                (unsigned long long)s->activity, (unsigned long long)s->insn_len,
                (unsigned long long)s->instructions, s->why);
    }
}

/* An input that ended at a stop the engine says is not exact (ENG-UNM-1: an
 * unmapped data access on the fast path): where it stopped depends on the path. */
static int inexact(const outcome *o)
{
    for (int i = 0; i < o->n; i++)
        if (strstr(o->s[i].why, "not exact"))
            return 1;
    return 0;
}

/* The first few byte ranges where two memories differ. */
static void print_ram_diff(const uint8_t *a, const uint8_t *b, const char *which)
{
    int shown = 0;
    for (size_t i = 0; i < RAM && shown < 8; i++) {
        if (a[i] == b[i])
            continue;
        size_t j = i;
        while (j < RAM && a[j] != b[j] && j - i < 16)
            j++;
        fprintf(stderr, "  memory differs at 0x%zx:", i);
        for (size_t k = i; k < j; k++)
            fprintf(stderr, " %02x/%02x", a[k], b[k]);
        fprintf(stderr, " (%s)\n", which);
        i = j;
        shown++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static env reused[2];
    reader rd = {data, size};
    unsigned pi = (unsigned)(take(&rd, 1) % 2);
    const vtx_profile *p = vtx_profile_builtin(1 + pi); /* server or teaching */
    int md = mode();
    outcome fresh_o, reused_o;
    memset(&fresh_o, 0, sizeof fresh_o);
    memset(&reused_o, 0, sizeof reused_o);
    env fe = {0};
    if (md == MODE_FRESH || md == MODE_CHECK) {
        env_setup(&fe, p, 0, 0);
        run(&fe, rd, md == MODE_CHECK ? &fresh_o : NULL);
        if (md == MODE_FRESH)
            env_free(&fe);
    }
    if (md == MODE_REUSE || md == MODE_CHECK) {
        env *e = &reused[pi];
        if (!e->m)
            env_setup(e, p, 1, 0);
        else
            env_restore(e);
        run(e, rd, md == MODE_CHECK ? &reused_o : NULL);
    }
    if (md == MODE_CHECK && inexact(&fresh_o) && inexact(&reused_o)) {
        /* ENG-UNM-1: both stopped where the engine says the state is not exact
         * (an unmapped store inside a block, the rest of which ran): the stop
         * itself must agree, the memory and registers after it need not */
        fresh_o.ram_hash = reused_o.ram_hash = 0;
        memset(&fresh_o.g, 0, sizeof fresh_o.g);
        memset(&reused_o.g, 0, sizeof reused_o.g);
    }
    if (md == MODE_CHECK && memcmp(&fresh_o, &reused_o, sizeof fresh_o) != 0) {
        fprintf(stderr, "fuzz_guest: the input ran differently on a reused machine than on a fresh one\n");
        print_outcome("fresh", &fresh_o);
        print_outcome("reused", &reused_o);
        print_ram_diff(fe.ram, reused[pi].ram, "fresh/reused");
        abort();
    }
    if (md == MODE_CHECK && !inexact(&fresh_o)) {
        /* The same input on a fresh machine with an observer: every instruction
         * on the engine's per-instruction path. */
        outcome obs_o;
        memset(&obs_o, 0, sizeof obs_o);
        env oe = {0};
        env_setup(&oe, p, 0, 1);
        run(&oe, rd, &obs_o);
        if (!inexact(&obs_o) && memcmp(&fresh_o, &obs_o, sizeof fresh_o) != 0) {
            fprintf(stderr, "fuzz_guest: the input ran differently with an observer than without one\n");
            print_outcome("fresh", &fresh_o);
            print_outcome("observed", &obs_o);
            print_ram_diff(fe.ram, oe.ram, "fresh/observed");
            abort();
        }
        env_free(&oe);
    }
    if (md == MODE_CHECK && !inexact(&fresh_o)) {
        /* And on a fresh machine whose runs end every few instructions (7 to
         * 37, by the input's size), each continued where the last one stopped. */
        outcome ch_o;
        memset(&ch_o, 0, sizeof ch_o);
        env ce = {0};
        env_setup(&ce, p, 0, 0);
        ce.chunk = 7 + (unsigned)(size % 31);
        run(&ce, rd, &ch_o);
        if (!inexact(&ch_o) && memcmp(&fresh_o, &ch_o, sizeof fresh_o) != 0) {
            fprintf(stderr, "fuzz_guest: the input ran differently in runs of %u instructions than in one run\n",
                    ce.chunk);
            print_outcome("fresh", &fresh_o);
            print_outcome("chunked", &ch_o);
            print_ram_diff(fe.ram, ce.ram, "fresh/chunked");
            abort();
        }
        env_free(&ce);
    }
    if (md == MODE_CHECK)
        env_free(&fe);
    return 0;
}
