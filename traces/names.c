/* VMCS fields by name, as trace records name them (docs/traces.md). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "trace_internal.h"

/* Field names sorted once for binary search (vtx_vmcs_field_by_name() is a case-insensitive linear scan: the
 * replay of an exit record looks up some eighty names). Misses fall back to it. */
static const vtx_field_info **sorted_fields;
static size_t nsorted;
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const vtx_field_info *const *)a)->name, (*(const vtx_field_info *const *)b)->name);
}

static void sort_fields(void)
{
    const vtx_field_info *fi = vtx_vmcs_fields(&nsorted);
    sorted_fields = malloc(nsorted * sizeof *sorted_fields);
    if (!sorted_fields) {
        nsorted = 0;
        return;
    }
    for (size_t i = 0; i < nsorted; i++)
        sorted_fields[i] = &fi[i];
    qsort(sorted_fields, nsorted, sizeof *sorted_fields, by_name);
}

vtx_status trace_field_by_name(const char *name, const vtx_field_info **out)
{
    pthread_once(&sorted_once, sort_fields);
    size_t lo = 0, hi = nsorted;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, sorted_fields[mid]->name);
        if (c == 0) {
            *out = sorted_fields[mid];
            return VTX_OK;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return vtx_vmcs_field_by_name(name, out);
}

