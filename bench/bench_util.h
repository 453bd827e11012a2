/* What the benchmarks share: the guest loop, a monotonic clock, medians. */
#ifndef VTX_BENCH_UTIL_H
#define VTX_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 5

/* add eax, 1; add ebx, eax; dec ecx; jnz (back 9 bytes); hlt -- 4 instructions per iteration */
static const uint8_t loop_code[] = {0x83, 0xc0, 0x01, 0x01, 0xc3, 0xff, 0xc9, 0x75, 0xf7, 0xf4};

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
