/*
 * os_like_bench: a guest that works as an operating system's code does, under a
 * VMM that takes its timer tick, as ratios to the same code on bare Unicorn.
 *
 * The guest (flat 64-bit, IF = 1): a loop that CALLs a copy routine (REP MOVSQ
 * of 512 bytes between page-aligned buffers), CALLs a checksum over the copy
 * (with interrupts off: CLI ... STI, as a kernel's critical section) and a
 * memory-operand update of a counter; ends with HLT. Its timer handler (vector
 * 0x20) counts ticks and IRETs.
 * The platform: an interrupt on vector 0x20 every 100,000 cycles
 * (vtx_machine_schedule at a cycle).
 * The VMM: external-interrupt exiting (exit 1); it takes the interrupt off the
 * line and injects it at the next VM entry when the guest can take it (RFLAGS.IF
 * = 1, no STI/MOV-SS blocking), else arms interrupt-window exiting and injects at
 * the interrupt-window exit (exit 7); it schedules the next tick; HLT exiting
 * ends the run.
 * Figures: os-like guest instructions per second and VM exits per second, and
 * os-like_ratio = instructions per second / those of bare Unicorn (no hooks) on
 * the same code and work (its handler never runs there: no interrupts).
 * Usage: os_like_bench [scale]
 */
#define _GNU_SOURCE /* bench_util.h: sched_setaffinity */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include "bench_util.h"

#include "vtxref/vtxref.h"

#define RAM (4u << 20)
#define VMXON_PA 0x1000u
#define VMCS_PA 0x2000u
#define CODE 0x10000u
#define HANDLERS 0x20000u
#define SRC 0x30000u
#define DST 0x31000u
#define COUNTER 0x32000u
#define TICKS 0x32008u
#define TABLES 0x100000u
#define TICK_CYCLES 100000u
#define VECTOR 0x20u

/* main: (rcx = iterations)
 *   loop: call copy; call csum; add [COUNTER], rax; dec rcx; jnz loop; hlt
 *   copy: push rcx; mov esi, SRC; mov edi, DST; mov ecx, 64; rep movsq; pop rcx; ret
 *   csum: cli; mov esi, DST; xor eax, eax; mov edx, 64;
 *         l: add rax, [rsi]; add rsi, 8; dec edx; jnz l; sti; ret */
static const uint8_t guest_code[] = {
    /* 0x00 loop */
    0xe8, 0x15, 0x00, 0x00, 0x00,             /* call copy (0x1a) */
    0xe8, 0x28, 0x00, 0x00, 0x00,             /* call csum (0x32) */
    0x48, 0x01, 0x04, 0x25, 0x00, 0x20, 0x03, 0x00, /* add [0x32000], rax */
    0x48, 0xff, 0xc9,                         /* dec rcx */
    0x75, 0xe9,                               /* jnz loop (0x00) */
    0xf4,                                     /* hlt */
    0x90, 0x90,                               /* pad to 0x1a */
    /* 0x1a copy */
    0x51,                                     /* push rcx */
    0xbe, 0x00, 0x00, 0x03, 0x00,             /* mov esi, SRC */
    0xbf, 0x00, 0x10, 0x03, 0x00,             /* mov edi, DST */
    0xb9, 0x40, 0x00, 0x00, 0x00,             /* mov ecx, 64 */
    0xf3, 0x48, 0xa5,                         /* rep movsq */
    0x59,                                     /* pop rcx */
    0xc3,                                     /* ret */
    0x90, 0x90, 0x90,                         /* pad to 0x32 */
    /* 0x32 csum */
    0xfa,                                     /* cli */
    0xbe, 0x00, 0x10, 0x03, 0x00,             /* mov esi, DST */
    0x31, 0xc0,                               /* xor eax, eax */
    0xba, 0x40, 0x00, 0x00, 0x00,             /* mov edx, 64 */
    0x48, 0x03, 0x06,                         /* l: add rax, [rsi] */
    0x48, 0x83, 0xc6, 0x08,                   /* add rsi, 8 */
    0xff, 0xca,                               /* dec edx */
    0x75, 0xf5,                               /* jnz l */
    0xfb,                                     /* sti */
    0xc3,                                     /* ret */
};
/* timer handler: inc qword [TICKS]; iretq */
static const uint8_t handler_code[] = {0x48, 0xff, 0x04, 0x25, 0x08, 0x20, 0x03, 0x00, 0x48, 0xcf};

static void die(const char *what, const vtx_insn_result *r)
{
    char line[400] = "";
    if (r)
        vtx_insn_result_format(r, line, sizeof line);
    fprintf(stderr, "os_like_bench: %s %s\n", what, line);
    exit(1);
}

static void fill(uint8_t *mem)
{
    memcpy(mem + CODE, guest_code, sizeof guest_code);
    memcpy(mem + HANDLERS + 16 * VECTOR, handler_code, sizeof handler_code);
    for (unsigned i = 0; i < 4096; i++)
        mem[SRC + i] = (uint8_t)(i * 7 + 1);
}

/* Seconds for bare Unicorn to run `iters` iterations (no hooks, no interrupts). */
static double bench_raw(uint64_t iters)
{
    uint8_t *mem = aligned_alloc(4096, RAM);
    uc_engine *uc;
    if (!mem)
        die("out of memory", NULL);
    memset(mem, 0, RAM);
    fill(mem);
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK || uc_mem_map_ptr(uc, 0, RAM, UC_PROT_ALL, mem) != UC_ERR_OK)
        die("unicorn setup failed", NULL);
    double r[RUNS];
    for (int i = 0; i < RUNS; i++) {
        uint64_t rcx = iters, rsp = 0x80000;
        uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
        uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
        double t = now();
        uc_err err = uc_emu_start(uc, CODE, CODE + 0x17, 0, 0); /* until the HLT */
        t = now() - t;
        if (err != UC_ERR_OK)
            die("raw run failed", NULL);
        r[i] = t;
    }
    uc_close(uc);
    free(mem);
    return median(r);
}

static uint64_t rd(vtx_machine *m, uint32_t enc)
{
    vtx_insn_result r;
    vtx_vmread(m, enc, &r);
    return r.value;
}

static void wr(vtx_machine *m, uint32_t enc, uint64_t v)
{
    vtx_insn_result r;
    if (vtx_vmwrite(m, enc, v, &r) != VTX_OK || r.outcome != VTX_VMSUCCEED)
        die("VMWRITE failed:", &r);
}

static void tick_at(vtx_machine *m, uint64_t cycle)
{
    vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = VECTOR, .at_cycle = true, .when = cycle};
    if (vtx_machine_schedule(m, &in) != VTX_OK)
        die("cannot schedule the tick", NULL);
}

typedef struct result {
    double seconds;
    uint64_t insns, exits, injected;
} result;

/* One run of `iters` iterations under the VMM. */
static result run_model(uint64_t iters)
{
    vtx_profile p;
    vtx_diag d = {0};
    vtx_machine_config cfg;
    vtx_machine *m;
    if (vtx_profile_resolve("teaching", &p, &d) != VTX_OK)
        die(d.message, NULL);
    vtx_machine_config_init(&cfg, &p);
    cfg.limits.instructions = 0;
    if (vtx_machine_create(&cfg, &m, &d) != VTX_OK)
        die(d.message, NULL);
    uint8_t *mem = aligned_alloc(4096, RAM);
    if (!mem)
        die("out of memory", NULL);
    memset(mem, 0, RAM);
    fill(mem);
    vtx_machine_map(m, 0, RAM, mem, VTX_MEM_RWX, NULL);
    uint32_t rev = vtx_basic_revision(p.msr[VTX_CAP_IA32_VMX_BASIC]);
    memcpy(mem + VMXON_PA, &rev, 4);
    memcpy(mem + VMCS_PA, &rev, 4);
    vtx_insn_result r;
    vtx_vmxon(m, VMXON_PA, &r);
    vtx_vmclear(m, VMCS_PA, &r);
    vtx_vmptrld(m, VMCS_PA, &r);
    vtx_flat64 f = {.rip = CODE, .rsp = 0x80000, .rflags = 0x202, .tables = TABLES, .handlers = HANDLERS};
    if (vtx_setup_flat64(m, &f, &d) != VTX_OK)
        die(d.message, NULL);
    wr(m, VTX_VMCS_PIN_CONTROLS, rd(m, VTX_VMCS_PIN_CONTROLS) | VTX_PIN_EXT_INTR_EXITING);
    uint64_t proc = rd(m, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING;
    wr(m, VTX_VMCS_PROC_CONTROLS, proc);
    vtx_gprs g;
    vtx_machine_get_gprs(m, &g);
    g.rcx = iters;
    vtx_machine_set_gprs(m, &g);

    result res = {0};
    uint64_t insns0 = vtx_machine_instructions(m);
    bool pending = false, launched = false;
    tick_at(m, vtx_machine_cycles(m) + TICK_CYCLES);
    double t = now();
    for (;;) {
        if (pending) {
            uint64_t rflags = rd(m, VTX_VMCS_GUEST_RFLAGS), intr = rd(m, VTX_VMCS_GUEST_INTERRUPTIBILITY);
            if ((rflags & VTX_RFLAGS_IF) && !(intr & 3)) {
                wr(m, VTX_VMCS_ENTRY_INTR_INFO, 0x80000000u | VECTOR); /* external interrupt */
                wr(m, VTX_VMCS_PROC_CONTROLS, proc);
                pending = false;
                res.injected++;
            } else {
                wr(m, VTX_VMCS_PROC_CONTROLS, proc | VTX_PROC_INTR_WINDOW_EXITING);
            }
        }
        vtx_status st = launched ? vtx_vmresume(m, &r) : vtx_vmlaunch(m, &r);
        launched = true;
        if (st != VTX_OK || r.outcome != VTX_VMEXIT)
            die("unexpected result of VM entry:", &r);
        res.exits++;
        if (r.exit_reason == 12) /* HLT: the work is done */
            break;
        if (r.exit_reason == 1) { /* external interrupt: take it off the line, inject it */
            vtx_machine_set_intr(m, false, 0);
            pending = true;
            tick_at(m, vtx_machine_cycles(m) + TICK_CYCLES);
        } else if (r.exit_reason != 7) {
            die("unexpected VM exit:", &r);
        }
    }
    res.seconds = now() - t;
    res.insns = vtx_machine_instructions(m) - insns0;
    uint64_t ticks;
    memcpy(&ticks, mem + TICKS, 8);
    if (ticks != res.injected)
        die("the guest did not see every tick", NULL);
    vtx_machine_destroy(m);
    free(mem);
    return res;
}

int main(int argc, char **argv)
{
    uint64_t scale = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    if (!scale)
        scale = 1;
    pin_to_one_cpu();
    uint64_t iters = 30000ull * scale;
    double raw = bench_raw(iters);
    result runs[RUNS];
    double secs[RUNS];
    for (int i = 0; i < RUNS; i++) {
        runs[i] = run_model(iters);
        secs[i] = runs[i].seconds;
    }
    double med = median(secs);
    result r = runs[0];
    for (int i = 0; i < RUNS; i++)
        if (runs[i].seconds == med)
            r = runs[i];
    /* the work itself (without the handler's instructions) in the model and raw */
    double ips = (double)r.insns / r.seconds;
    double raw_ips = (double)(r.insns - 2 * r.injected) / raw;
    printf("bench: os-like %.1f Minsn/s (%llu instructions, %llu ticks injected)\n", ips / 1e6,
           (unsigned long long)r.insns, (unsigned long long)r.injected);
    printf("bench: os-like-exits %.0f exits/s (%llu exits)\n", (double)r.exits / r.seconds,
           (unsigned long long)r.exits);
    printf("bench: os-like-raw %.1f Minsn/s\n", raw_ips / 1e6);
    printf("bench: os-like_ratio %.3f x_raw\n", ips / raw_ips);
    return 0;
}
