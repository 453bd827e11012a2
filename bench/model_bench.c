/*
 * model_bench: the whole model running guest code, through the public API only
 * (raw Unicorn is linked directly for the reference figure). Guest loop:
 *   add eax,1; add ebx,eax; dec ecx; jnz   (4 instructions per iteration)
 * raw            bare Unicorn (UC_MODE_64, no hooks) on the same loop
 * idle           VMLAUNCH of a flat 64-bit guest running the loop, nothing armed
 *                (HLT exiting ends it)
 * window-shut    the same with interrupt-window exiting armed and IF = 0 throughout
 * stepping       the same with a boundary observer installed (every boundary evaluated)
 * exit-roundtrip guest `cpuid; jmp $-2`: VM exit to this program, RIP += exit
 *                instruction length, VMRESUME (ns per round trip)
 * Prints "bench: NAME VALUE UNIT" lines (medians of 5 runs) and ratios to raw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>
#include "bench_util.h"

#include "vtxref/vtxref.h"

#define RAM (4u << 20)
#define VMXON_PA 0x1000u
#define VMCS_PA 0x2000u
#define CODE 0x10000u
#define CPUID_CODE 0x11000u
#define TABLES 0x100000u
static const uint8_t cpuid_code[] = {0x0f, 0xa2, 0xeb, 0xfc};

static void die(const char *what, const vtx_insn_result *r)
{
    char line[400] = "";
    if (r)
        vtx_insn_result_format(r, line, sizeof line);
    fprintf(stderr, "model_bench: %s %s\n", what, line);
    exit(1);
}

static double bench_raw(uint64_t iters)
{
    uint8_t *mem = aligned_alloc(4096, RAM);
    uc_engine *uc;
    if (!mem)
        die("out of memory", NULL);
    memset(mem, 0xf4, RAM);
    memcpy(mem + CODE, loop_code, sizeof loop_code);
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK || uc_mem_map_ptr(uc, 0, RAM, UC_PROT_ALL, mem) != UC_ERR_OK)
        die("unicorn setup failed", NULL);
    double r[RUNS];
    for (int i = 0; i < RUNS; i++) {
        uint64_t rcx = iters, z = 0;
        uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
        uc_reg_write(uc, UC_X86_REG_RAX, &z);
        double t = now();
        uc_err err = uc_emu_start(uc, CODE, 0xffffffffffffffffull, 0, 0);
        t = now() - t;
        if (err != UC_ERR_OK)
            die("raw run failed", NULL);
        r[i] = (double)(iters * 4 + 1) / t;
    }
    uc_close(uc);
    free(mem);
    return median(r);
}

typedef struct rig {
    vtx_machine *m;
    uint8_t *ram;
    bool launched;
} rig;

static uint64_t rd(rig *g, uint32_t enc)
{
    vtx_insn_result r;
    vtx_vmread(g->m, enc, &r);
    return r.value;
}

static void wr(rig *g, uint32_t enc, uint64_t v)
{
    vtx_insn_result r;
    if (vtx_vmwrite(g->m, enc, v, &r) != VTX_OK || r.outcome != VTX_VMSUCCEED)
        die("VMWRITE failed:", &r);
}

static void observe(void *user, const vtx_boundary_report *rep)
{
    (void)rep;
    ++*(uint64_t *)user;
}

/* A machine in VMX operation with a flat 64-bit guest at rip (not launched). */
static void rig_open(rig *g, uint64_t rip, uint64_t rflags)
{
    vtx_profile p;
    vtx_diag d = {0};
    vtx_machine_config cfg;
    if (vtx_profile_resolve("teaching", &p, &d) != VTX_OK)
        die(d.message, NULL);
    vtx_machine_config_init(&cfg, &p);
    cfg.limits.instructions = 0;
    if (vtx_machine_create(&cfg, &g->m, &d) != VTX_OK)
        die(d.message, NULL);
    g->ram = aligned_alloc(4096, RAM);
    if (!g->ram)
        die("out of memory", NULL);
    memset(g->ram, 0, RAM);
    memcpy(g->ram + CODE, loop_code, sizeof loop_code);
    memcpy(g->ram + CPUID_CODE, cpuid_code, sizeof cpuid_code);
    vtx_machine_map(g->m, 0, RAM, g->ram, VTX_MEM_RWX, NULL);
    uint32_t rev = vtx_basic_revision(p.msr[VTX_CAP_IA32_VMX_BASIC]);
    memcpy(g->ram + VMXON_PA, &rev, 4);
    memcpy(g->ram + VMCS_PA, &rev, 4);
    vtx_insn_result r;
    vtx_vmxon(g->m, VMXON_PA, &r);
    vtx_vmclear(g->m, VMCS_PA, &r);
    vtx_vmptrld(g->m, VMCS_PA, &r);
    vtx_flat64 f = {.rip = rip, .rsp = 0x80000, .rflags = rflags, .tables = TABLES, .handlers = 0};
    if (vtx_setup_flat64(g->m, &f, &d) != VTX_OK)
        die(d.message, NULL);
    wr(g, VTX_VMCS_PROC_CONTROLS, rd(g, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING);
    g->launched = false;
}

static void rig_close(rig *g)
{
    vtx_machine_destroy(g->m);
    free(g->ram);
}

static void enter(rig *g, uint32_t want)
{
    vtx_insn_result r;
    vtx_status st = g->launched ? vtx_vmresume(g->m, &r) : vtx_vmlaunch(g->m, &r);
    g->launched = true;
    if (st != VTX_OK || r.outcome != VTX_VMEXIT || r.exit_reason != want)
        die("unexpected result of VM entry:", &r);
}

/* Guest instructions per second of the loop run by the model. */
static double bench_model(uint64_t iters, bool window, bool observer)
{
    rig g;
    rig_open(&g, CODE, 0x2);
    uint64_t seen = 0;
    if (window)
        wr(&g, VTX_VMCS_PROC_CONTROLS, rd(&g, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_INTR_WINDOW_EXITING);
    if (observer)
        vtx_machine_set_observer(g.m, observe, &seen);
    double r[RUNS];
    for (int i = 0; i < RUNS; i++) {
        wr(&g, VTX_VMCS_GUEST_RIP, CODE);
        wr(&g, VTX_VMCS_GUEST_ACTIVITY_STATE, 0);
        vtx_gprs gp;
        vtx_machine_get_gprs(g.m, &gp);
        gp.rcx = iters;
        vtx_machine_set_gprs(g.m, &gp);
        uint64_t before = vtx_machine_instructions(g.m);
        double t = now();
        enter(&g, 12); /* HLT */
        t = now() - t;
        uint64_t n = vtx_machine_instructions(g.m) - before;
        if (n != iters * 4) /* the HLT exits before it retires */
            die("wrong instruction count", NULL);
        if (observer && seen < n)
            die("the observer missed boundaries", NULL);
        r[i] = (double)n / t;
    }
    rig_close(&g);
    return median(r);
}

/* ns per CPUID exit + VMRESUME round trip. */
static double bench_roundtrip(unsigned trips)
{
    rig g;
    rig_open(&g, CPUID_CODE, 0x2);
    double r[RUNS];
    enter(&g, 10);
    for (int i = 0; i < RUNS; i++) {
        double t = now();
        for (unsigned k = 0; k < trips; k++) {
            wr(&g, VTX_VMCS_GUEST_RIP, rd(&g, VTX_VMCS_GUEST_RIP) + rd(&g, VTX_VMCS_EXIT_INSTRUCTION_LEN));
            enter(&g, 10);
        }
        t = now() - t;
        r[i] = t * 1e9 / trips;
    }
    rig_close(&g);
    return median(r);
}

/* Usage: model_bench [scale] [figure]  (figure: raw, idle, window-shut, stepping or
 * exit-roundtrip, to run only that one, e.g. under perf; ratios need raw). */
int main(int argc, char **argv)
{
    uint64_t scale = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    const char *only = argc > 2 ? argv[2] : NULL;
    if (!scale)
        scale = 1;
#define WANT(name) (!only || strcmp(only, name) == 0)
    double raw = 0, idle = 0, shut = 0, step = 0, trip = 0;
    if (WANT("raw"))
        raw = bench_raw(25000000ull * scale);
    if (WANT("idle"))
        idle = bench_model(25000000ull * scale, false, false);
    if (WANT("window-shut"))
        shut = bench_model(25000000ull * scale, true, false);
    if (WANT("stepping"))
        step = bench_model(2500000ull * scale, false, true);
    if (WANT("exit-roundtrip"))
        trip = bench_roundtrip(20000u * (unsigned)scale);
    if (raw)
        printf("bench: raw %.1f Minsn/s\n", raw / 1e6);
    if (idle)
        printf("bench: idle %.1f Minsn/s\n", idle / 1e6);
    if (shut)
        printf("bench: window-shut %.1f Minsn/s\n", shut / 1e6);
    if (step)
        printf("bench: stepping %.2f Minsn/s\n", step / 1e6);
    if (trip)
        printf("bench: exit-roundtrip %.0f ns\n", trip);
    if (raw && idle)
        printf("bench: idle_ratio %.3f x_raw\n", idle / raw);
    if (raw && shut)
        printf("bench: window-shut_ratio %.3f x_raw\n", shut / raw);
    if (raw && step)
        printf("bench: stepping_ratio %.4f x_raw\n", step / raw);
    return 0;
}
