/* Comparing two traces record by record (docs/traces.md "diff"): both are read
 * as streams; the first pair of records that differ is reported with the members
 * that differ. The header's `source`, `generator` and (boot traces) `boot` are not
 * compared: two versions of a kernel can be compared run against run. */
#include <stdlib.h>
#include <string.h>
#include "trace_internal.h"

vtx_status vtx_trace_diff(const char *path_a, const char *path_b, vtx_diff_result *res, vtx_trace_error *err)
{
    vtx_trace_error edummy;
    if (!err)
        err = &edummy;
    if (!path_a || !path_b || !res)
        return VTX_ERR_INVALID_ARG;
    memset(res, 0, sizeof *res);
    memset(err, 0, sizeof *err);
    vtx_trace_reader *ra = NULL, *rb = NULL;
    vtx_trace_record *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    vtx_status st = a && b ? VTX_OK : VTX_ERR_NO_MEMORY;
    if (st == VTX_OK && (st = vtx_trace_reader_open(path_a, &ra, err)) == VTX_OK)
        st = vtx_trace_reader_open(path_b, &rb, err);
    static const char *const skip[] = {"source", "generator", "boot", NULL};
    while (st == VTX_OK) {
        vtx_status sa = vtx_trace_next(ra, a, err);
        if (sa != VTX_OK && sa != VTX_ERR_NOT_FOUND) {
            st = sa;
            break;
        }
        vtx_status sb = vtx_trace_next(rb, b, err);
        if (sb != VTX_OK && sb != VTX_ERR_NOT_FOUND) {
            st = sb;
            break;
        }
        if (sa == VTX_ERR_NOT_FOUND && sb == VTX_ERR_NOT_FOUND)
            break;
        if (sa == VTX_ERR_NOT_FOUND || sb == VTX_ERR_NOT_FOUND) {
            /* cannot happen for two valid traces (both end with `end`), kept for safety */
            res->differ = true;
            break;
        }
        int n = trace_json_compare(trace_reader_json(ra), trace_reader_json(rb), true,
                                   a->type == VTX_TR_HEADER ? skip : NULL, res->differences, sizeof res->differences);
        if (n) {
            res->differ = true;
            res->line_a = a->line;
            res->line_b = b->line;
            trace_copy_line(res->a, sizeof res->a, a->text);
            trace_copy_line(res->b, sizeof res->b, b->text);
            /* Read both to their end: a difference in a malformed trace is bad input, not a difference. */
            while ((sa = vtx_trace_next(ra, a, err)) == VTX_OK)
                ;
            if (sa != VTX_ERR_NOT_FOUND) {
                st = sa;
                break;
            }
            while ((sb = vtx_trace_next(rb, b, err)) == VTX_OK)
                ;
            if (sb != VTX_ERR_NOT_FOUND)
                st = sb;
            break;
        }
        res->records++;
    }
    vtx_trace_reader_close(ra);
    vtx_trace_reader_close(rb);
    free(a);
    free(b);
    return st;
}
