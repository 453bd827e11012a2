/*
 * model_bench: the whole model running guest code, through the public API only
 * (raw Unicorn is linked directly for the reference figures). Two guest loops
 * (bench_util.h): the 4-instruction loop of the stack notes (one translation
 * block per 4 instructions, the worst case for anything done per block) and a
 * 32-instruction loop (suffix "-32").
 * raw            bare Unicorn (UC_MODE_64, no hooks) on the loop: the limit
 * block-hook-ceiling  bare Unicorn with an empty UC_HOOK_BLOCK callback: the
 *                limit of anything that counts instructions exactly (Unicorn
 *                2.0.1 offers no cheaper exact count than one call per block)
 * code-hook-ceiling  bare Unicorn with an empty UC_HOOK_CODE callback (one call
 *                per instruction): the limit of anything that looks at every
 *                instruction boundary, such as `stepping`
 * idle           VMLAUNCH of a flat 64-bit guest running the loop, nothing armed
 *                (HLT exiting ends it)
 * window-shut    the same with interrupt-window exiting armed and IF = 0 throughout
 * stepping       the same with a boundary observer installed (every boundary
 *                evaluated and reported)
 * exit-roundtrip guest `cpuid; jmp $-2`: VM exit to this program, RIP += exit
 *                instruction length, VMRESUME (ns per round trip), with "enable
 *                VPID" = 1 (VPID 1), as KVM runs its guests: VM entries keep
 *                the guest's cached translations (PG-9)
 * exit-roundtrip-novpid  the same with VPID off: every VM entry and exit
 *                invalidate the guest's translations (PG-2), so every entry
 *                compares the guest's page tables with the last walk's copies
 * Prints "bench: NAME VALUE UNIT" lines (medians of 5 runs) and ratios.
 */
#define _GNU_SOURCE /* bench_util.h: sched_setaffinity */
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

static void empty_block_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    (void)uc, (void)addr, (void)size;
    ++*(uint64_t *)user;
}

static void empty_code_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    (void)uc, (void)addr, (void)size;
    ++*(uint64_t *)user;
}

enum raw_hook { RAW_NONE, RAW_BLOCK, RAW_CODE };

/* Bare Unicorn on the loop, with no hook, an empty block hook or an empty code hook. */
static double bench_raw(const bench_loop *lp, uint64_t iters, enum raw_hook hook)
{
    uint8_t *mem = aligned_alloc(4096, RAM);
    uc_engine *uc;
    uc_hook h;
    uint64_t blocks = 0;
    if (!mem)
        die("out of memory", NULL);
    memset(mem, 0xf4, RAM);
    memcpy(mem + CODE, lp->code, lp->len);
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK || uc_mem_map_ptr(uc, 0, RAM, UC_PROT_ALL, mem) != UC_ERR_OK)
        die("unicorn setup failed", NULL);
    if (hook == RAW_BLOCK && uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)empty_block_hook, &blocks, 1, 0) != UC_ERR_OK)
        die("unicorn hook failed", NULL);
    if (hook == RAW_CODE && uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)empty_code_hook, &blocks, 1, 0) != UC_ERR_OK)
        die("unicorn hook failed", NULL);
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
        r[i] = (double)(iters * lp->per_iter + 1) / t;
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
static void rig_open(rig *g, const bench_loop *lp, uint64_t rip, uint64_t rflags)
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
    memcpy(g->ram + CODE, lp->code, lp->len);
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
static double bench_model(const bench_loop *lp, uint64_t iters, bool window, bool observer)
{
    rig g;
    rig_open(&g, lp, CODE, 0x2);
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
        if (n != iters * lp->per_iter) /* the HLT exits before it retires */
            die("wrong instruction count", NULL);
        if (observer && seen < n)
            die("the observer missed boundaries", NULL);
        r[i] = (double)n / t;
    }
    rig_close(&g);
    return median(r);
}

/* ns per CPUID exit + VMRESUME round trip, with VPID on (VPID 1) or off. */
static double bench_roundtrip(unsigned trips, bool vpid)
{
    rig g;
    rig_open(&g, &bench_loops[0], CPUID_CODE, 0x2);
    if (vpid) {
        wr(&g, VTX_VMCS_PROC_CONTROLS, rd(&g, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_SECONDARY_CONTROLS);
        wr(&g, VTX_VMCS_PROC_CONTROLS2, rd(&g, VTX_VMCS_PROC_CONTROLS2) | VTX_PROC2_ENABLE_VPID);
        wr(&g, VTX_VMCS_VPID, 1);
    }
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

/* Usage: model_bench [scale] [figure]  (figure: one name, e.g. idle or
 * exit-roundtrip, to run only that one, e.g. under perf; ratios need raw). */
int main(int argc, char **argv)
{
    uint64_t scale = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    pin_to_one_cpu();
    const char *only = argc > 2 ? argv[2] : NULL;
    if (!scale)
        scale = 1;
    enum { RAW, CEIL, IDLE, SHUT, NFIG };
    static const char *const fig[NFIG] = {"raw", "block-hook-ceiling", "idle", "window-shut"};
    double code_ceil = 0;
    double v[2][NFIG] = {{0}};
    double step = 0, trip = 0, trip_novpid = 0;
    char name[64];
    for (int l = 0; l < 2; l++) {
        const bench_loop *lp = &bench_loops[l];
        uint64_t iters = 100000000ull * scale / lp->per_iter;
        for (int f = 0; f < NFIG; f++) {
            snprintf(name, sizeof name, "%s%s", fig[f], lp->suffix);
            if (only && strcmp(only, name) != 0)
                continue;
            v[l][f] = f == RAW ? bench_raw(lp, iters, RAW_NONE) : f == CEIL ? bench_raw(lp, iters, RAW_BLOCK)
                                                                           : bench_model(lp, iters, f == SHUT, false);
        }
    }
    if (!only || strcmp(only, "stepping") == 0 || strcmp(only, "code-hook-ceiling") == 0)
        code_ceil = bench_raw(&bench_loops[0], 10000000ull * scale / bench_loops[0].per_iter, RAW_CODE);
    if (!only || strcmp(only, "stepping") == 0)
        step = bench_model(&bench_loops[0], 10000000ull * scale, false, true);
    if (!only || strcmp(only, "exit-roundtrip") == 0)
        trip = bench_roundtrip(20000u * (unsigned)scale, true);
    if (!only || strcmp(only, "exit-roundtrip-novpid") == 0)
        trip_novpid = bench_roundtrip(20000u * (unsigned)scale, false);

    for (int l = 0; l < 2; l++)
        for (int f = 0; f < NFIG; f++)
            if (v[l][f])
                printf("bench: %s%s %.1f Minsn/s\n", fig[f], bench_loops[l].suffix, v[l][f] / 1e6);
    if (code_ceil)
        printf("bench: code-hook-ceiling %.1f Minsn/s\n", code_ceil / 1e6);
    if (step)
        printf("bench: stepping %.2f Minsn/s\n", step / 1e6);
    if (trip)
        printf("bench: exit-roundtrip %.0f ns\n", trip);
    if (trip_novpid)
        printf("bench: exit-roundtrip-novpid %.0f ns\n", trip_novpid);
    for (int l = 0; l < 2; l++) {
        const char *sfx = bench_loops[l].suffix;
        for (int f = CEIL; f < NFIG; f++)
            if (v[l][RAW] && v[l][f])
                printf("bench: %s%s_ratio %.3f x_raw\n", fig[f], sfx, v[l][f] / v[l][RAW]);
        for (int f = IDLE; f < NFIG; f++)
            if (v[l][CEIL] && v[l][f])
                printf("bench: %s%s_vs_ceiling %.3f x_block-hook-ceiling\n", fig[f], sfx, v[l][f] / v[l][CEIL]);
    }
    if (v[0][RAW] && step)
        printf("bench: stepping_ratio %.4f x_raw\n", step / v[0][RAW]);
    if (code_ceil && step)
        printf("bench: stepping_vs_ceiling %.3f x_code-hook-ceiling\n", step / code_ceil);
    return 0;
}
