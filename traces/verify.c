/* A recorder that compares instead of writing (trace.h, vtx_trace_verify_open):
 * every record the run produces is compared with the next record of a trace,
 * as replay.c compares outcomes (the members the trace gives must match). Used
 * to replay boot traces, whose run is the kernel's own re-execution. The first
 * difference is kept with the records matched since the last outcome and the
 * last boundaries; after it, records are ignored. */
#include <stdlib.h>
#include <string.h>
#include "trace_internal.h"

struct trace_verifier {
    vtx_trace_reader *rd;
    char *path;
    vtx_trace_record *rec;
    vtx_replay_result *res;
    bool diverged, ended;
    vtx_trace_error err;
    uint64_t index;                   /* the last enter's index */
    uint32_t hist_next;
    uint64_t nboundaries;
    vtx_boundary_report ring[VTX_REPLAY_HISTORY];
};

void trace_verifier_free(trace_verifier *v)
{
    if (!v)
        return;
    vtx_trace_reader_close(v->rd);
    free(v->path);
    free(v->rec);
    free(v->res);
    free(v);
}

vtx_status vtx_trace_verify_open(const char *path, vtx_trace_recorder **out, vtx_trace_error *err)
{
    if (!path || !out)
        return VTX_ERR_INVALID_ARG;
    trace_verifier *v = calloc(1, sizeof *v);
    if (!v || !(v->path = strdup(path)) || !(v->rec = malloc(sizeof *v->rec)) || !(v->res = calloc(1, sizeof *v->res))) {
        trace_verifier_free(v);
        return trace_fail(err, path, 0, VTX_ERR_NO_MEMORY, "out of memory");
    }
    vtx_status st = vtx_trace_reader_open(path, &v->rd, err);
    if (st != VTX_OK) {
        trace_verifier_free(v);
        return st;
    }
    return trace_record_new_verifying(v, out);
}

void trace_verify_boundary(trace_verifier *v, const vtx_boundary_report *b)
{
    v->ring[v->hist_next] = *b;
    v->hist_next = (v->hist_next + 1) % VTX_REPLAY_HISTORY;
    v->nboundaries++;
}

static void diverge(trace_verifier *v, const vtx_trace_record *rec, json_object *actual, const char *why)
{
    vtx_replay_result *R = v->res;
    v->diverged = true;
    R->diverged = true;
    R->line = rec ? rec->line : 0;
    R->index = rec && rec->index ? rec->index : v->index;
    R->expected[0] = 0;
    if (rec)
        trace_copy_line(R->expected, sizeof R->expected, rec->text);
    trace_copy_line(R->actual, sizeof R->actual,
                    json_object_to_json_string_ext(actual, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    R->differences[0] = 0;
    if (rec)
        trace_json_compare(trace_reader_json(v->rd), actual, false, NULL, R->differences, sizeof R->differences);
    if (why) {
        size_t n = strlen(R->differences);
        snprintf(R->differences + n, sizeof R->differences - n, "%s\n", why);
    }
    uint32_t k = v->nboundaries < VTX_REPLAY_HISTORY ? (uint32_t)v->nboundaries : VTX_REPLAY_HISTORY;
    R->nhistory = k;
    for (uint32_t i = 0; i < k; i++)
        R->history[i] = v->ring[(v->hist_next + VTX_REPLAY_HISTORY - k + i) % VTX_REPLAY_HISTORY];
}

vtx_status trace_verify_record(trace_verifier *v, json_object *actual)
{
    if (v->diverged || !actual)
        return VTX_OK;
    if (v->ended) {
        diverge(v, NULL, actual, "the trace has ended; the replayed run goes on");
        return VTX_OK;
    }
    vtx_status st = vtx_trace_next(v->rd, v->rec, &v->err);
    if (st == VTX_ERR_NOT_FOUND) {
        v->ended = true;
        diverge(v, NULL, actual, "the trace has ended; the replayed run goes on");
        return VTX_OK;
    }
    if (st != VTX_OK)
        return st;
    json_object *t = NULL;
    json_object_object_get_ex(actual, "type", &t);
    const char *type = t ? json_object_get_string(t) : "";
    const vtx_trace_record *rec = v->rec;
    if (rec->type == VTX_TR_HEADER || rec->type == VTX_TR_PROFILE) {
        /* Read, not compared: the caller built the run from them. */
        if (strcmp(type, vtx_trace_type_name(rec->type)) != 0)
            diverge(v, rec, actual, NULL);
        return VTX_OK;
    }
    char diffs[8];
    if (trace_json_compare(trace_reader_json(v->rd), actual, false, NULL, diffs, sizeof diffs)) {
        diverge(v, rec, actual, NULL);
        return VTX_OK;
    }
    switch (rec->type) {
    case VTX_TR_ENTER:
        v->index = rec->index;
        trace_note_action(v->res->actions, sizeof v->res->actions, rec);
        break;
    case VTX_TR_VMWRITE:
    case VTX_TR_GPRS:
    case VTX_TR_MEMORY:
    case VTX_TR_INPUT:
        trace_note_action(v->res->actions, sizeof v->res->actions, rec);
        break;
    case VTX_TR_EXIT:
    case VTX_TR_VMFAIL:
    case VTX_TR_STOP:
        v->res->exits++;
        v->res->actions[0] = 0;
        break;
    case VTX_TR_END:
        v->ended = true;
        break;
    default:
        break;
    }
    return VTX_OK;
}

bool vtx_trace_verify_diverged(const vtx_trace_recorder *rec)
{
    const trace_verifier *v = trace_record_verifier(rec);
    return v && v->diverged;
}

vtx_status vtx_trace_verify_close(vtx_trace_recorder *rec, const char *why, vtx_replay_result *result,
                                  vtx_trace_error *err)
{
    trace_verifier *v = trace_record_verifier(rec);
    if (!v || !result) {
        vtx_trace_record_abort(rec);
        return VTX_ERR_INVALID_ARG;
    }
    vtx_status st = trace_record_finish(rec, why);
    if (st == VTX_OK && !v->diverged) {
        /* The trace must end where the run ended. */
        vtx_status rs = vtx_trace_next(v->rd, v->rec, &v->err);
        if (rs == VTX_OK)
            st = trace_fail(&v->err, v->path, v->rec->line, VTX_ERR_PARSE, "records after the end record");
        else if (rs != VTX_ERR_NOT_FOUND)
            st = rs;
    }
    if (st != VTX_OK && err)
        *err = v->err;
    *result = *v->res;
    vtx_trace_record_abort(rec);
    return st;
}
