/* What the benchmarks share: the guest loop, a monotonic clock, medians. */
#ifndef VTX_BENCH_UTIL_H
#define VTX_BENCH_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_setaffinity, sched_getcpu */
#endif
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 5

/* add eax, 1; add ebx, eax; dec ecx; jnz (back 9 bytes); hlt -- 4 instructions per iteration
 * (one 4-instruction translation block) */
static const uint8_t loop_code[] = {0x83, 0xc0, 0x01, 0x01, 0xc3, 0xff, 0xc9, 0x75, 0xf7, 0xf4};

/* A 32-instruction loop body (one translation block), closer to real code:
 * 7 x (add eax, 1; add ebx, eax; xor edx, ebx; lea esi, [rdx+rbx]), add eax, 1;
 * add ebx, eax; dec ecx; jnz; hlt */
#define LOOP32_GROUP 0x83, 0xc0, 0x01, 0x01, 0xc3, 0x31, 0xda, 0x8d, 0x34, 0x1a
static const uint8_t loop32_code[] = {LOOP32_GROUP, LOOP32_GROUP, LOOP32_GROUP, LOOP32_GROUP, LOOP32_GROUP,
                                      LOOP32_GROUP, LOOP32_GROUP, 0x83, 0xc0, 0x01, 0x01, 0xc3, 0xff, 0xc9,
                                      0x75, 0xb1, 0xf4};

/* A guest loop of the benchmarks. */
typedef struct bench_loop {
    const char *suffix; /* "" or "-32" in the figure names */
    const uint8_t *code;
    size_t len;
    unsigned per_iter;  /* instructions per iteration */
} bench_loop;
static const bench_loop bench_loops[] = {
    {"", loop_code, sizeof loop_code, 4},
    {"-32", loop32_code, sizeof loop32_code, 32},
};

/* Stay on the CPU the benchmark started on: a migration in the middle of a
 * measurement adds noise. (On this 2-vCPU VM whole processes still run at one
 * of two speeds, about 1.6x apart, pinned or not: all of the model's code is
 * slower alike, as when the host shares the core. Repeat a run to see which.) */
static inline void pin_to_one_cpu(void)
{
    int cpu = sched_getcpu();
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu < 0 ? 0 : cpu, &set);
    (void)sched_setaffinity(0, sizeof set, &set);
}

static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of RUNS values (sorts them). */
static inline double median(double *v)
{
    qsort(v, RUNS, sizeof *v, cmp_double);
    return v[RUNS / 2];
}

#endif
