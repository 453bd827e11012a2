/*
 * engine_bench: guest instructions per second on the loop
 *   add eax,1; add ebx,eax; dec ecx; jnz   (4 instructions per iteration)
 * raw       bare Unicorn (UC_MODE_64, no hooks) - the reference
 * uncounted vtx_engine_run, empty stop set, max_insns 0: no hook at all (the
 *           model never runs this way: it needs exact counts)
 * counted   vtx_engine_run, stop before CPUID (never comes): the fast path, a
 *           block hook that counts every block's instructions exactly
 * per-insn  the same with a boundary function installed (it never stops the run): the
 *           per-instruction hook and the decode cache run on every instruction
 * drop-all  vtx_engine_invalidate after a counted run: every translation dropped
 *           (ENG-BUF-2: a new Unicorn on 2.0.x), in milliseconds
 * uc-flush  the reference: UC_CTL_TB_FLUSH on a bare Unicorn after a run, which
 *           clears QEMU's whole code buffer (1 GiB on 2.0.1, 32 MiB as the
 *           engine sets it on 2.1); uc-flush-first is a Unicorn's first, when
 *           the kernel also faults that memory in
 * Prints "bench: NAME VALUE UNIT" lines; each figure is the median of 5 runs.
 */
#define _GNU_SOURCE /* bench_util.h: sched_setaffinity */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>
#include "bench_util.h"

#include "../cpu/engine.h"
#include "../cpu/uc_compat.h"

#define MEM (2u << 20)
#define CODE 0x1000u

static double bench_raw(uint8_t *mem, uint64_t iters)
{
    uc_engine *uc;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK || uc_mem_map_ptr(uc, 0, MEM, UC_PROT_ALL, mem) != UC_ERR_OK) {
        fprintf(stderr, "engine_bench: unicorn setup failed\n");
        exit(1);
    }
    double r[RUNS];
    for (int i = 0; i < RUNS; i++) {
        uint64_t rcx = iters, z = 0;
        uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
        uc_reg_write(uc, UC_X86_REG_RAX, &z);
        double t = now();
        uc_err err = uc_emu_start(uc, CODE, 0xffffffffffffffffull, 0, 0);
        t = now() - t;
        if (err != UC_ERR_OK) {
            fprintf(stderr, "engine_bench: raw run failed: %s\n", uc_strerror(err));
            exit(1);
        }
        r[i] = (double)(iters * 4 + 1) / t;
    }
    uc_close(uc);
    return median(r);
}

static void no_stop(void *user, uint64_t rip, uint64_t rflags)
{
    (void)user, (void)rip, (void)rflags;
}

static vtx_cpu_state lm_state(uint64_t iters)
{
    vtx_cpu_state s;
    memset(&s, 0, sizeof s);
    s.rip = CODE;
    s.rflags = 2;
    s.cr0 = 0x11;
    s.cr4 = 0x20;
    s.efer = 0x500;
    s.gpr[VTX_R_RCX] = iters;
    s.gpr[VTX_R_RSP] = 0x8000;
    for (int i = 0; i < 6; i++)
        s.seg[i] = (vtx_cpu_seg){0x10, 0, 0xffffffff, 0xc093};
    s.seg[VTX_S_CS] = (vtx_cpu_seg){0x08, 0, 0xffffffff, 0xa09b};
    s.seg[VTX_S_LDTR] = (vtx_cpu_seg){0, 0, 0, 0x10000};
    s.seg[VTX_S_TR] = (vtx_cpu_seg){0, 0, 0x67, 0x8b};
    return s;
}

static double bench_engine(vtx_engine *e, uint64_t iters, vtx_class_set stop)
{
    double r[RUNS];
    for (int i = 0; i < RUNS; i++) {
        vtx_cpu_state s = lm_state(iters);
        const char *why = NULL;
        vtx_stop st;
        if (vtx_engine_set_state(e, &s, &why) != 0) {
            fprintf(stderr, "engine_bench: set_state: %s\n", why);
            exit(1);
        }
        double t = now();
        vtx_engine_run(e, 0, stop, false, &st);
        t = now() - t;
        if (st.reason != VTX_STOP_HLT) {
            fprintf(stderr, "engine_bench: run stopped with reason %d\n", st.reason);
            exit(1);
        }
        r[i] = (double)(iters * 4 + 1) / t;
    }
    return median(r);
}

/* Milliseconds per drop of every translation, each after a run that translated the loop. */
static double bench_drop(vtx_engine *e, vtx_class_set stop)
{
    double r[RUNS];
    for (int i = 0; i < RUNS; i++) {
        vtx_cpu_state s = lm_state(1000);
        const char *why = NULL;
        vtx_stop st;
        if (vtx_engine_set_state(e, &s, &why) != 0 || vtx_engine_run(e, 0, stop, false, &st) != 0) {
            fprintf(stderr, "engine_bench: drop-all's run failed\n");
            exit(1);
        }
        double t = now();
        vtx_engine_invalidate(e);
        r[i] = (now() - t) * 1e3;
    }
    return median(r);
}

/* Milliseconds per flush: the Unicorn's first (*first) and the median of the next RUNS. */
static double bench_uc_flush(uint8_t *mem, double *first)
{
    uc_engine *uc;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK || !vtx_uc_after_open(uc) || /* the engine's buffer size */
        uc_mem_map_ptr(uc, 0, MEM, UC_PROT_ALL, mem) != UC_ERR_OK) {
        fprintf(stderr, "engine_bench: unicorn setup failed\n");
        exit(1);
    }
    double r[RUNS];
    for (int i = -1; i < RUNS; i++) {
        uint64_t rcx = 1000;
        uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
        uc_emu_start(uc, CODE, 0xffffffffffffffffull, 0, 0);
        double t = now();
        uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0));
        t = (now() - t) * 1e3;
        if (i < 0)
            *first = t;
        else
            r[i] = t;
    }
    uc_close(uc);
    return median(r);
}

int main(int argc, char **argv)
{
    uint64_t scale = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    pin_to_one_cpu();
    if (!scale)
        scale = 1;
    uint8_t *mem = aligned_alloc(4096, MEM);
    if (!mem)
        return 1;
    memset(mem, 0xf4, MEM);
    memcpy(mem + CODE, loop_code, sizeof loop_code);

    double raw = bench_raw(mem, 25000000ull * scale);
    vtx_engine *e;
    vtx_engine_region reg = {0, MEM, mem};
    if (vtx_engine_create(&e, &reg, 1, NULL) != 0) {
        fprintf(stderr, "engine_bench: vtx_engine_create failed\n");
        return 1;
    }
    vtx_class_set none = {0}, cpuid = {0};
    vtx_class_add(&cpuid, VTX_IC_CPUID);
    double idle = bench_engine(e, 25000000ull * scale, none);
    double counted = bench_engine(e, 25000000ull * scale, cpuid);
    vtx_engine_set_boundary_fn(e, no_stop, NULL);
    double step = bench_engine(e, 5000000ull * scale, cpuid);
    vtx_engine_set_boundary_fn(e, NULL, NULL);
    double drop = bench_drop(e, cpuid);
    double flush_first = 0, flush = bench_uc_flush(mem, &flush_first);
    vtx_engine_destroy(e);
    free(mem);

    printf("bench: raw %.1f Minsn/s\n", raw / 1e6);
    printf("bench: uncounted %.1f Minsn/s\n", idle / 1e6);
    printf("bench: counted %.1f Minsn/s\n", counted / 1e6);
    printf("bench: per-insn %.1f Minsn/s\n", step / 1e6);
    printf("bench: uncounted_ratio %.3f x_raw\n", idle / raw);
    printf("bench: counted_ratio %.3f x_raw\n", counted / raw);
    printf("bench: per-insn_ratio %.3f x_raw\n", step / raw);
    printf("bench: drop-all %.3f ms\n", drop);
    printf("bench: uc-flush-first %.3f ms\n", flush_first);
    printf("bench: uc-flush %.3f ms\n", flush);
    return 0;
}
