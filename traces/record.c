/* Recording a run (docs/traces.md "Recording"): the initial state before the
 * first VM entry, then before each entry the VMM's changes since the last exit
 * (found by comparing the VMCS, the guest registers and the recorded memory with
 * copies taken after the exit), each entry and its outcome. Public API only. */
#include <stdlib.h>
#include <string.h>
#include "trace_internal.h"

#define MAX_REGIONS 64
#define MAX_EARLY_INPUTS 64

typedef struct region {
    vtx_trace_region r;
    uint8_t *shadow; /* the memory as the recorder last saw it */
} region;

struct vtx_trace_recorder {
    trace_out out;
    bool compress, started, explicit_memory;
    char *source;
    vtx_status failed;   /* sticky write error */
    const vtx_profile *profile;
    region regions[MAX_REGIONS];
    size_t nregions;
    uint64_t vmcs_pa;
    uint64_t *fields;    /* by row of the field table */
    vtx_gprs gprs;
    vtx_input early[MAX_EARLY_INPUTS];
    bool early_sched[MAX_EARLY_INPUTS];
    size_t nearly;
    uint64_t entries, exits;
    bool boot;               /* a boot trace (vtx_trace_record_boot): no regions, VMCS switches allowed */
    trace_verifier *verify;  /* compare with a trace instead of writing (verify.c) */
    int status;              /* boot traces: the exit status for the end record, -1: none */
};

static const vtx_field_info *table(size_t *n) { return vtx_vmcs_fields(n); }

static void emit(vtx_trace_recorder *rec, json_object *j)
{
    if (!j) {
        rec->failed = VTX_ERR_NO_MEMORY;
        return;
    }
    if (rec->verify) {
        vtx_status st = rec->failed == VTX_OK ? trace_verify_record(rec->verify, j) : VTX_OK;
        if (st != VTX_OK)
            rec->failed = st;
    } else if (rec->failed == VTX_OK && trace_out_line(&rec->out, j) != VTX_OK) {
        rec->failed = VTX_ERR_IO;
    }
    json_object_put(j);
}

vtx_status vtx_trace_record_open(const char *path, const vtx_trace_options *opt, vtx_trace_recorder **out,
                                 vtx_trace_error *err)
{
    if (!path || !out)
        return VTX_ERR_INVALID_ARG;
    size_t n;
    table(&n);
    vtx_trace_recorder *rec = calloc(1, sizeof *rec);
    if (!rec || !(rec->fields = calloc(n, sizeof *rec->fields))) {
        free(rec);
        return trace_fail(err, path, 0, VTX_ERR_NO_MEMORY, "out of memory");
    }
    rec->status = -1;
    rec->compress = !(opt && opt->no_compress);
    rec->explicit_memory = opt && opt->explicit_memory;
    rec->source = strdup(opt && opt->source ? opt->source : "");
    vtx_status st = trace_out_open(&rec->out, path, err);
    if (st != VTX_OK || !rec->source) {
        free(rec->source);
        free(rec->fields);
        free(rec);
        return st != VTX_OK ? st : VTX_ERR_NO_MEMORY;
    }
    *out = rec;
    return VTX_OK;
}

const char *vtx_trace_record_temp_path(const vtx_trace_recorder *rec) { return rec ? rec->out.tmp : NULL; }
uint64_t vtx_trace_record_exits(const vtx_trace_recorder *rec) { return rec ? rec->exits : 0; }

static json_object *data_record(vtx_trace_type t, uint64_t pa, const uint8_t *d, size_t len, bool compress)
{
    json_object *o = json_object_new_object();
    const char *enc = "base64";
    json_object *data = trace_encode(d, len, compress, &enc);
    if (!data) {
        json_object_put(o);
        return NULL;
    }
    json_object_object_add(o, "type", json_object_new_string(vtx_trace_type_name(t)));
    json_object_object_add(o, "pa", trace_hex(pa));
    json_object_object_add(o, "encoding", json_object_new_string(enc));
    json_object_object_add(o, "data", data);
    return o;
}

static bool zero_page(const uint8_t *p)
{
    static const uint8_t z[TRACE_PAGE];
    return memcmp(p, z, TRACE_PAGE) == 0;
}

/* Copy the machine's VMCS fields (existing, writable) and registers into the shadows. */
static void snapshot_state(vtx_trace_recorder *rec, vtx_machine *m)
{
    size_t n;
    const vtx_field_info *fi = table(&n);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = 0;
        if (!fi[i].read_only && trace_field_exists(rec->profile, &fi[i]) &&
            vtx_machine_peek_field(m, fi[i].encoding, &v) == VTX_OK)
            rec->fields[i] = v;
    }
    vtx_machine_get_gprs(m, &rec->gprs);
}

static void snapshot_memory(vtx_trace_recorder *rec)
{
    for (size_t i = 0; i < rec->nregions && !rec->explicit_memory; i++)
        memcpy(rec->regions[i].shadow, rec->regions[i].r.host, rec->regions[i].r.size);
}

/* After an exit: bring the copy up to date with what the guest wrote (comparing first is cheaper than copying
 * all: most pages did not change, and reading both costs less than writing one). */
static void refresh_memory(vtx_trace_recorder *rec)
{
    for (size_t i = 0; i < rec->nregions && !rec->explicit_memory; i++) {
        region *g = &rec->regions[i];
        const uint8_t *h = g->r.host;
        for (uint64_t off = 0; off < g->r.size; off += TRACE_PAGE)
            if (memcmp(h + off, g->shadow + off, TRACE_PAGE) != 0)
                memcpy(g->shadow + off, h + off, TRACE_PAGE);
    }
}

/* Free the copies of the regions (a failed start, or the end). */
static void free_regions(vtx_trace_recorder *rec)
{
    for (size_t i = 0; i < rec->nregions; i++) {
        free(rec->regions[i].shadow);
        rec->regions[i].shadow = NULL;
    }
    rec->nregions = 0;
}

vtx_status vtx_trace_record_start(vtx_trace_recorder *rec, vtx_machine *m, const vtx_machine_config *config,
                                  const vtx_trace_region *regions, size_t nregions, vtx_trace_error *err)
{
    if (!rec || !m || !config || (!regions && nregions))
        return VTX_ERR_INVALID_ARG;
    const char *file = rec->out.path;
    if (rec->started)
        return trace_fail(err, file, 0, VTX_ERR_STATE, "the recording has already started");
    vtx_vmcs_status vs;
    rec->vmcs_pa = vtx_machine_current_vmcs(m);
    if (!vtx_machine_in_vmx(m) || rec->vmcs_pa == UINT64_MAX ||
        vtx_machine_vmcs_status(m, rec->vmcs_pa, &vs) != VTX_OK)
        return trace_fail(err, file, 0, VTX_ERR_STATE, "start recording in VMX operation with a current VMCS");
    if (vs.launch != VTX_LAUNCH_CLEAR || vtx_machine_instructions(m) || vtx_machine_cycles(m) || vtx_machine_in_guest(m))
        return trace_fail(err, file, 0, VTX_ERR_STATE,
                          "start recording before the first VM entry (the VMCS must be clear, the clock at 0)");
    free_regions(rec); /* a start that failed before */
    if (nregions > MAX_REGIONS)
        return trace_fail(err, file, 0, VTX_ERR_INVALID_ARG, "more than %d regions", MAX_REGIONS);
    bool vmcs_inside = false;
    for (size_t i = 0; i < nregions; i++) {
        const vtx_trace_region *r = &regions[i];
        if ((r->pa | r->size) & (TRACE_PAGE - 1) || !r->size || !r->host)
            return trace_fail(err, file, 0, VTX_ERR_INVALID_ARG, "region %zu is not whole 4-KiB pages", i);
        vmcs_inside |= rec->vmcs_pa >= r->pa && rec->vmcs_pa - r->pa < r->size;
        rec->regions[i].r = *r;
        if (!rec->explicit_memory && !(rec->regions[i].shadow = malloc(r->size))) {
            rec->nregions = i;
            return trace_fail(err, file, 0, VTX_ERR_NO_MEMORY, "out of memory");
        }
        rec->nregions = i + 1;
    }
    if (!vmcs_inside) {
        free_regions(rec);
        return trace_fail(err, file, 0, VTX_ERR_INVALID_ARG, "the VMCS (0x%llx) is in none of the regions",
                          (unsigned long long)rec->vmcs_pa);
    }
    rec->profile = vtx_machine_profile(m);
    rec->started = true;
    emit(rec, trace_json_header(rec->source));
    emit(rec, trace_json_profile(rec->profile));
    vtx_machine_config cfg = *config;
    vtx_machine_get_root(m, &cfg.root);
    emit(rec, trace_json_machine(&cfg));
    static const char *const perms[8] = {"", "r", "w", "rw", "x", "rx", "wx", "rwx"};
    for (size_t i = 0; i < nregions; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("region"));
        json_object_object_add(o, "pa", trace_hex(regions[i].pa));
        json_object_object_add(o, "size", trace_hex(regions[i].size));
        json_object_object_add(o, "perms", json_object_new_string(perms[regions[i].perms & 7]));
        emit(rec, o);
    }
    for (size_t i = 0; i < nregions; i++) {
        const uint8_t *h = regions[i].host;
        for (uint64_t off = 0; off < regions[i].size; off += TRACE_PAGE)
            if (!zero_page(h + off))
                emit(rec, data_record(VTX_TR_PAGE, regions[i].pa + off, h + off, TRACE_PAGE, rec->compress));
    }
    snapshot_state(rec, m);
    snapshot_memory(rec);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("start"));
    json_object_object_add(o, "vmcs", trace_hex(rec->vmcs_pa));
    json_object_object_add(o, "instructions", json_object_new_int(0));
    json_object_object_add(o, "cycles", json_object_new_int(0));
    json_object *f = json_object_new_object();
    size_t n;
    const vtx_field_info *fi = table(&n);
    for (size_t i = 0; i < n; i++)
        if (!fi[i].read_only && trace_field_exists(rec->profile, &fi[i]))
            json_object_object_add(f, fi[i].name, trace_hex(rec->fields[i]));
    json_object_object_add(o, "fields", f);
    json_object_object_add(o, "gprs", trace_json_gprs(&rec->gprs, 0x7FFF));
    emit(rec, o);
    for (size_t i = 0; i < rec->nearly; i++)
        emit(rec, trace_json_input(&rec->early[i], rec->early_sched[i]));
    if (rec->failed != VTX_OK)
        return trace_fail(err, file, 0, rec->failed, "cannot write the trace");
    return VTX_OK;
}

vtx_status vtx_trace_record_boot(vtx_trace_recorder *rec, vtx_machine *m, const vtx_trace_boot *boot,
                                 vtx_trace_error *err)
{
    if (!rec || !m || !boot)
        return VTX_ERR_INVALID_ARG;
    const char *file = rec->out.path ? rec->out.path : "(verify)";
    if (rec->started)
        return trace_fail(err, file, 0, VTX_ERR_STATE, "the recording has already started");
    rec->profile = vtx_machine_profile(m);
    rec->started = rec->boot = true;
    rec->vmcs_pa = UINT64_MAX;
    json_object *h = trace_json_header(rec->source);
    if (h)
        json_object_object_add(h, "boot", trace_json_boot(boot));
    emit(rec, h);
    emit(rec, trace_json_profile(rec->profile));
    snapshot_state(rec, m);
    if (rec->failed != VTX_OK)
        return trace_fail(err, file, 0, rec->failed, "cannot write the trace");
    return VTX_OK;
}

void vtx_trace_record_set_status(vtx_trace_recorder *rec, int status)
{
    if (rec)
        rec->status = status;
}

vtx_status trace_record_new_verifying(trace_verifier *v, vtx_trace_recorder **out)
{
    size_t n;
    table(&n);
    vtx_trace_recorder *rec = calloc(1, sizeof *rec);
    if (!rec || !(rec->fields = calloc(n, sizeof *rec->fields)) || !(rec->source = strdup(""))) {
        if (rec)
            free(rec->fields);
        free(rec);
        trace_verifier_free(v);
        return VTX_ERR_NO_MEMORY;
    }
    rec->status = -1;
    rec->explicit_memory = true;
    rec->verify = v;
    *out = rec;
    return VTX_OK;
}

trace_verifier *trace_record_verifier(const vtx_trace_recorder *rec) { return rec ? rec->verify : NULL; }

void vtx_trace_record_boundary(vtx_trace_recorder *rec, const vtx_boundary_report *b)
{
    if (rec && rec->verify && b)
        trace_verify_boundary(rec->verify, b);
}

vtx_status vtx_trace_record_input(vtx_trace_recorder *rec, const vtx_input *in, bool scheduled)
{
    if (!rec || !in || (unsigned)in->kind > VTX_INPUT_SIPI)
        return VTX_ERR_INVALID_ARG;
    if (!rec->started) {
        if (rec->nearly == MAX_EARLY_INPUTS)
            return VTX_ERR_NO_MEMORY;
        rec->early[rec->nearly] = *in;
        rec->early_sched[rec->nearly++] = scheduled;
        return VTX_OK;
    }
    emit(rec, trace_json_input(in, scheduled));
    return rec->failed;
}

vtx_status vtx_trace_raise(vtx_trace_recorder *rec, vtx_machine *m, const vtx_input *in)
{
    if (!rec || !m || !in)
        return VTX_ERR_INVALID_ARG;
    vtx_status st;
    switch (in->kind) {
    case VTX_INPUT_NMI: st = vtx_machine_raise_nmi(m); break;
    case VTX_INPUT_INTR_ASSERT: st = vtx_machine_set_intr(m, true, in->vector); break;
    case VTX_INPUT_INTR_CLEAR: st = vtx_machine_set_intr(m, false, 0); break;
    case VTX_INPUT_INIT: st = vtx_machine_raise_init(m); break;
    case VTX_INPUT_SIPI: st = vtx_machine_raise_sipi(m, in->vector); break;
    default: return VTX_ERR_INVALID_ARG;
    }
    return st != VTX_OK ? st : vtx_trace_record_input(rec, in, false);
}

vtx_status vtx_trace_schedule(vtx_trace_recorder *rec, vtx_machine *m, const vtx_input *in)
{
    if (!rec || !m || !in)
        return VTX_ERR_INVALID_ARG;
    vtx_status st = vtx_machine_schedule(m, in);
    return st != VTX_OK ? st : vtx_trace_record_input(rec, in, true);
}

vtx_status vtx_trace_record_memory(vtx_trace_recorder *rec, uint64_t pa, size_t len)
{
    if (!rec || !len)
        return VTX_ERR_INVALID_ARG;
    if (!rec->started)
        return VTX_ERR_STATE;
    for (size_t i = 0; i < rec->nregions; i++) {
        region *g = &rec->regions[i];
        if (pa < g->r.pa || len > g->r.size || pa - g->r.pa > g->r.size - len)
            continue;
        const uint8_t *h = (const uint8_t *)g->r.host + (pa - g->r.pa);
        for (size_t done = 0; done < len;) { /* records of at most 64 KiB */
            size_t n = len - done > 0x10000 ? 0x10000 : len - done;
            emit(rec, data_record(VTX_TR_MEMORY, pa + done, h + done, n, rec->compress && n >= 256));
            done += n;
        }
        if (g->shadow)
            memcpy(g->shadow + (pa - g->r.pa), h, len);
        return rec->failed;
    }
    return VTX_ERR_UNMAPPED;
}

vtx_status vtx_trace_write_phys(vtx_trace_recorder *rec, vtx_machine *m, uint64_t pa, const void *buf, size_t len,
                                vtx_diag *diag)
{
    if (!rec || !m)
        return VTX_ERR_INVALID_ARG;
    vtx_status st = vtx_machine_write_phys(m, pa, buf, len, diag);
    return st != VTX_OK ? st : vtx_trace_record_memory(rec, pa, len);
}

/* Memory the VMM changed: one record per changed run of bytes within a page. */
static void sync_memory(vtx_trace_recorder *rec)
{
    for (size_t i = 0; i < rec->nregions && !rec->explicit_memory; i++) {
        region *g = &rec->regions[i];
        const uint8_t *h = g->r.host;
        for (uint64_t off = 0; off < g->r.size; off += TRACE_PAGE) {
            if (memcmp(h + off, g->shadow + off, TRACE_PAGE) == 0)
                continue;
            size_t a = 0, b = TRACE_PAGE;
            while (h[off + a] == g->shadow[off + a])
                a++;
            while (h[off + b - 1] == g->shadow[off + b - 1])
                b--;
            emit(rec, data_record(VTX_TR_MEMORY, g->r.pa + off + a, h + off + a, b - a, rec->compress && b - a >= 256));
            memcpy(g->shadow + off + a, h + off + a, b - a);
        }
    }
}

vtx_status vtx_trace_record_sync(vtx_trace_recorder *rec, vtx_machine *m, vtx_trace_error *err)
{
    if (!rec || !m)
        return VTX_ERR_INVALID_ARG;
    if (!rec->started)
        return trace_fail(err, rec->out.path, 0, VTX_ERR_STATE, "vtx_trace_record_start() has not been called");
    if (rec->boot)
        rec->vmcs_pa = vtx_machine_current_vmcs(m); /* a kernel may switch VMCS: the enter record names it */
    else if (vtx_machine_current_vmcs(m) != rec->vmcs_pa)
        return trace_fail(err, rec->out.path, 0, VTX_ERR_UNSUPPORTED,
                          "the VMM switched to the VMCS at 0x%llx: a trace follows one VMCS (0x%llx)",
                          (unsigned long long)vtx_machine_current_vmcs(m), (unsigned long long)rec->vmcs_pa);
    size_t n;
    const vtx_field_info *fi = table(&n);
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        if (fi[i].read_only || !trace_field_exists(rec->profile, &fi[i]) ||
            vtx_machine_peek_field(m, fi[i].encoding, &v) != VTX_OK || v == rec->fields[i])
            continue;
        rec->fields[i] = v;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("vmwrite"));
        json_object_object_add(o, "field", json_object_new_string(fi[i].name));
        json_object_object_add(o, "value", trace_hex(v));
        emit(rec, o);
    }
    vtx_gprs g;
    vtx_machine_get_gprs(m, &g);
    const uint64_t *a = &g.rax, *b = &rec->gprs.rax;
    uint32_t mask = 0;
    for (int i = 0; i < 15; i++)
        if (a[i] != b[i])
            mask |= 1u << i;
    if (mask) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("gprs"));
        json_object_object_add(o, "gprs", trace_json_gprs(&g, mask));
        emit(rec, o);
        rec->gprs = g;
    }
    sync_memory(rec);
    if (rec->failed != VTX_OK)
        return trace_fail(err, rec->out.path, 0, rec->failed, "cannot write the trace");
    return VTX_OK;
}

/* The entry about to happen: sync, then the enter record. */
static vtx_status record_entry(vtx_trace_recorder *rec, vtx_machine *m, bool *launch)
{
    vtx_status st = vtx_trace_record_sync(rec, m, NULL);
    if (st != VTX_OK)
        return st;
    vtx_vmcs_status vs;
    vtx_machine_vmcs_status(m, rec->vmcs_pa, &vs);
    *launch = vs.launch == VTX_LAUNCH_CLEAR;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("enter"));
    json_object_object_add(o, "insn", json_object_new_string(*launch ? "vmlaunch" : "vmresume"));
    json_object_object_add(o, "index", json_object_new_uint64(++rec->entries));
    if (rec->boot)
        json_object_object_add(o, "vmcs", trace_hex(rec->vmcs_pa));
    emit(rec, o);
    return rec->failed;
}

static vtx_status record_outcome(vtx_trace_recorder *rec, vtx_machine *m, vtx_status st, const vtx_insn_result *r)
{
    json_object *o = trace_json_outcome(m, rec->entries, st, r);
    json_object *t = NULL;
    if (o && json_object_object_get_ex(o, "type", &t) && strcmp(json_object_get_string(t), "exit") == 0)
        rec->exits++;
    emit(rec, o);
    snapshot_state(rec, m);
    refresh_memory(rec);
    return rec->failed;
}

/* For a runner that enters the guest itself (the scenario runner's on_entry hook). */
vtx_status vtx_trace_record_entry(vtx_trace_recorder *rec, vtx_machine *m)
{
    bool launch;
    return rec && m ? record_entry(rec, m, &launch) : VTX_ERR_INVALID_ARG;
}

vtx_status vtx_trace_record_outcome(vtx_trace_recorder *rec, vtx_machine *m, vtx_status st,
                                    const vtx_insn_result *r)
{
    return rec && m && r ? record_outcome(rec, m, st, r) : VTX_ERR_INVALID_ARG;
}

vtx_status vtx_trace_enter(vtx_trace_recorder *rec, vtx_machine *m, vtx_insn_result *result)
{
    if (!rec || !m || !result)
        return VTX_ERR_INVALID_ARG;
    bool launch;
    vtx_status st = record_entry(rec, m, &launch);
    if (st != VTX_OK)
        return st;
    st = launch ? vtx_vmlaunch(m, result) : vtx_vmresume(m, result);
    vtx_status wst = record_outcome(rec, m, st, result);
    return st != VTX_OK ? st : wst;
}

static void free_rec(vtx_trace_recorder *rec)
{
    free_regions(rec);
    free(rec->fields);
    free(rec->source);
    trace_verifier_free(rec->verify);
    free(rec);
}

/* The end record (written, or compared by a verifying recorder). */
static void emit_end(vtx_trace_recorder *rec, const char *why)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("end"));
    json_object_object_add(o, "exits", json_object_new_uint64(rec->exits));
    json_object_object_add(o, "why", json_object_new_string(why ? why : ""));
    if (rec->status >= 0)
        json_object_object_add(o, "status", json_object_new_int(rec->status));
    emit(rec, o);
}

vtx_status trace_record_finish(vtx_trace_recorder *rec, const char *why)
{
    emit_end(rec, why);
    return rec->failed;
}

vtx_status vtx_trace_record_close(vtx_trace_recorder *rec, const char *why, vtx_trace_error *err)
{
    if (!rec)
        return VTX_ERR_INVALID_ARG;
    vtx_status st;
    if (!rec->started) {
        st = trace_fail(err, rec->out.path, 0, VTX_ERR_STATE, "nothing was recorded (no VM entry)");
        trace_out_abort(&rec->out);
        free_rec(rec);
        return st;
    }
    emit_end(rec, why);
    if (rec->failed != VTX_OK) {
        st = trace_fail(err, rec->out.path, 0, rec->failed, "cannot write the trace");
        trace_out_abort(&rec->out);
    } else {
        st = trace_out_close(&rec->out, err);
    }
    free_rec(rec);
    return st;
}

void vtx_trace_record_abort(vtx_trace_recorder *rec)
{
    if (!rec)
        return;
    trace_out_abort(&rec->out);
    free_rec(rec);
}
