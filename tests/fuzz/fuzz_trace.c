/* libFuzzer target: the trace reader (docs/traces.md). Any input is read record
 * by record until the end, an error or 10 000 records; an error must be a parse
 * error naming the source with a line inside the input, never a crash. */
#include <stdlib.h>
#include <string.h>
#include "vtxref/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vtx_trace_reader *r;
    vtx_trace_error err;
    if (vtx_trace_reader_open_mem(data, size, "fuzz", &r, &err) != VTX_OK)
        abort();
    static vtx_trace_record rec;
    long lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    vtx_status st = VTX_OK;
    for (int n = 0; n < 10000 && (st = vtx_trace_next(r, &rec, &err)) == VTX_OK; n++)
        if (rec.line < 1 || rec.line > lines)
            abort();
    if (st != VTX_OK && st != VTX_ERR_NOT_FOUND) {
        if (st != VTX_ERR_PARSE || strcmp(err.file, "fuzz") != 0 || err.line < 0 || err.line > lines ||
            !err.message[0])
            abort();
    }
    vtx_trace_reader_close(r);
    return 0;
}
