/* Internal to the vtxref_traces library: the JSON form of records (shared by the
 * recorder, which writes them, and the replayer, which compares the run's own
 * records with the trace's), encodings, and the atomic output file. */
#ifndef VTX_TRACE_INTERNAL_H
#define VTX_TRACE_INTERNAL_H

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include "vtxref/trace.h"
#include "vtxref/vtxref.h"

#define TRACE_FORMAT "vtxref-trace"
#define TRACE_PAGE 4096u

/* ---- an output file written under a temporary name and renamed when complete (out.c) ---- */
typedef struct trace_out {
    FILE *f;
    char *path;   /* the final name */
    char *tmp;    /* the temporary file */
} trace_out;
vtx_status trace_out_open(trace_out *o, const char *path, vtx_trace_error *err);
/* Write one JSON object as a line. */
vtx_status trace_out_line(trace_out *o, json_object *j);
vtx_status trace_out_close(trace_out *o, vtx_trace_error *err); /* flush, rename */
void trace_out_abort(trace_out *o);                              /* remove the temporary file */

/* ---- errors ---- */
vtx_status trace_fail(vtx_trace_error *err, const char *file, long line, vtx_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- encodings (codec.c) ---- */
json_object *trace_hex(uint64_t v);                 /* "0x1f" */
bool trace_parse_hex(const char *s, uint64_t *v);   /* "0x..." only, at most 64 bits */
/* Page data: "zlib+base64" (compress) or "base64"; returns a JSON string. */
json_object *trace_encode(const uint8_t *data, size_t len, bool compress, const char **encoding);
/* Decode @p text in @p encoding ("hex", "base64", "zlib+base64") into @p out (capacity @p cap); *len its length. */
bool trace_decode(const char *encoding, const char *text, uint8_t *out, size_t cap, size_t *len, char *why,
                  size_t whysize);

/* ---- the JSON form of records (json.c) ---- */
extern const char *const trace_gpr_names[15];
json_object *trace_json_header(const char *source);
json_object *trace_json_profile(const vtx_profile *p);
json_object *trace_json_machine(const vtx_machine_config *cfg);
json_object *trace_json_input(const vtx_input *in, bool scheduled);
json_object *trace_json_gprs(const vtx_gprs *g, uint32_t mask);
/* The outcome of entry @p index: exit, vmfail or stop, read from the machine (the current VMCS). */
json_object *trace_json_outcome(vtx_machine *m, uint64_t index, vtx_status st, const vtx_insn_result *r);
/* Compare @p exp with @p act: every member of exp must be in act with the same value (objects recursively);
 * @p symmetric also reports members only act has. Appends "path: expected X, got Y\n" lines to @p diffs.
 * Returns the number of differences. @p skip: top-level keys not compared (NULL-terminated) or NULL. */
int trace_json_compare(json_object *exp, json_object *act, bool symmetric, const char *const *skip, char *diffs,
                       size_t size);
/* A VMCS field by its exact name (binary search), else vtx_vmcs_field_by_name() (names.c). */
vtx_status trace_field_by_name(const char *name, const vtx_field_info **out);
/* True when field @p fi exists on a processor with profile @p p. */
bool trace_field_exists(const vtx_profile *p, const vtx_field_info *fi);

/* ---- reader internals ---- */
json_object *trace_reader_json(const vtx_trace_reader *r); /* the current record's object */
const char *trace_reader_file(const vtx_trace_reader *r);

/* Copy a JSON line into a fixed buffer, marking truncation. */
void trace_copy_line(char *dst, size_t size, const char *src);
/* Append "LINE: record" to a replay's list of the records applied since the last
 * outcome (actions, a NUL-terminated buffer of `size` bytes), dropping the oldest
 * lines when it is full. */
void trace_note_action(char *actions, size_t size, const vtx_trace_record *rec);

/* ---- boot traces (boot.c, verify.c) ---- */
json_object *trace_json_boot(const vtx_trace_boot *b);
/* Decode the header's `boot` member; false with the reason. */
bool trace_boot_parse(json_object *o, vtx_trace_boot *b, char *why, size_t whysize);
/* A header's `boot` member, if it has one (*is_boot); false with the reason when it is malformed. */
bool trace_boot_header(json_object *header, vtx_trace_boot *b, bool *is_boot, char *why, size_t whysize);
/* A recorder comparing instead of writing (verify.c): the records it would write. */
typedef struct trace_verifier trace_verifier;
/* Compare one record with the trace's next; VTX_OK unless the trace is malformed or unreadable. */
vtx_status trace_verify_record(trace_verifier *v, json_object *actual);
void trace_verify_boundary(trace_verifier *v, const vtx_boundary_report *b);
/* Create a recorder around a verifier (record.c); it takes the verifier. */
vtx_status trace_record_new_verifying(trace_verifier *v, vtx_trace_recorder **out);
trace_verifier *trace_record_verifier(const vtx_trace_recorder *rec);
void trace_verifier_free(trace_verifier *v);
/* Emit (compare) the end record; the recorder's sticky status. */
vtx_status trace_record_finish(vtx_trace_recorder *rec, const char *why);

#endif
