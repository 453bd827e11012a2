/* Filling a caller's vtx_diag (every layer uses this one helper). */
#include <stdarg.h>
#include <stdio.h>
#include "vmcs_internal.h"

void vtx_diag_set(vtx_diag *d, const char *rule, int line, const char *fmt, ...)
{
    if (!d)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
    d->rule = rule;
    d->line = line;
}
