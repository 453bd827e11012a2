/*
 * Copying and clearing structures of a few hundred bytes on the VM-exit round
 * trip (the engine's held CPU state, the boundary report) with 16-byte vector
 * moves. A plain struct assignment or a memset of a known size this large
 * compiles (gcc -O2/-O3, generic tuning) to `rep movsq` / `rep stosq`, whose
 * start-up cost made them the hottest instructions of vtx_engine_get_state and
 * vtx_boundary_evaluate (perf annotate of model_bench exit-roundtrip). The
 * empty asm hides the zero from the compiler, which would otherwise turn the
 * loop back into a memset.
 */
#ifndef VTX_CPU_BULK_H
#define VTX_CPU_BULK_H

#include <stddef.h>
#include <string.h>

typedef unsigned long long vtx_bulk_v2 __attribute__((vector_size(16), aligned(1), may_alias));

static inline void vtx_bulk_copy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    size_t i = 0;
#pragma GCC unroll 32 /* straight-line moves for the sizes known at compile time */
    for (; i + 16 <= n; i += 16)
        *(vtx_bulk_v2 *)(d + i) = *(const vtx_bulk_v2 *)(s + i);
    if (i < n)
        memcpy(d + i, s + i, n - i);
}

static inline void vtx_bulk_zero(void *dst, size_t n)
{
    unsigned char *d = dst;
    vtx_bulk_v2 z = {0, 0};
    __asm__("" : "+x"(z));
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        *(vtx_bulk_v2 *)(d + i) = z;
    for (; i < n; i++)
        d[i] = 0;
}

#endif
