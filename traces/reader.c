/* Reading a trace as a stream (docs/traces.md): one line at a time, each checked
 * (JSON, type, members, ranges, order) and decoded into a vtx_trace_record.
 * Memory use is bounded by the longest line, not by the length of the run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "trace_internal.h"

#define MAX_REGIONS 64
#define MAX_MEMORY (64u * 1024)

enum phase { P_HEADER, P_PROFILE, P_MACHINE, P_REGIONS, P_PAGES, P_BODY, P_OUTCOME, P_DONE };

struct vtx_trace_reader {
    FILE *f;               /* file input, or */
    const char *mem;       /* memory input */
    size_t memlen, mempos;
    char *file;
    char *line;            /* the current line */
    size_t cap;
    long lineno;
    enum phase phase;
    vtx_trace_type last;   /* the last complete record's type */
    json_object *json;     /* the current record */
    json_tokener *tok;
    vtx_profile profile;
    uint32_t nregions;
    uint64_t rpa[MAX_REGIONS], rsize[MAX_REGIONS];
    uint64_t entries, exits, last_instructions, last_cycles;
    uint8_t data[MAX_MEMORY];
    bool boot;             /* a boot trace: header, profile, then the body (boot.c) */
    vtx_trace_boot bootinfo;
    vtx_trace_error err;   /* a sticky error: reading stops at the first */
    bool failed;
};

json_object *trace_reader_json(const vtx_trace_reader *r) { return r->json; }
const char *trace_reader_file(const vtx_trace_reader *r) { return r->file; }

static vtx_status open_common(vtx_trace_reader **out, const char *name, vtx_trace_error *err)
{
    vtx_trace_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->file = strdup(name)) || !(r->tok = json_tokener_new())) {
        if (r)
            free(r->file);
        free(r);
        return trace_fail(err, name, 0, VTX_ERR_NO_MEMORY, "out of memory");
    }
    *out = r;
    return VTX_OK;
}

vtx_status vtx_trace_reader_open(const char *path, vtx_trace_reader **out, vtx_trace_error *err)
{
    if (!path || !out)
        return VTX_ERR_INVALID_ARG;
    FILE *f = fopen(path, "rb");
    if (!f)
        return trace_fail(err, path, 0, VTX_ERR_IO, "cannot open: %s", strerror(errno));
    vtx_status st = open_common(out, path, err);
    if (st != VTX_OK) {
        fclose(f);
        return st;
    }
    (*out)->f = f;
    return VTX_OK;
}

vtx_status vtx_trace_reader_open_mem(const void *data, size_t len, const char *name, vtx_trace_reader **out,
                                     vtx_trace_error *err)
{
    if (!data && len)
        return VTX_ERR_INVALID_ARG;
    vtx_status st = open_common(out, name ? name : "(memory)", err);
    if (st == VTX_OK) {
        (*out)->mem = data ? data : "";
        (*out)->memlen = len;
    }
    return st;
}

void vtx_trace_reader_close(vtx_trace_reader *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    if (r->json)
        json_object_put(r->json);
    json_tokener_free(r->tok);
    free(r->line);
    free(r->file);
    free(r);
}

/* Read one line; 1 complete (ends in '\n'), 2 incomplete last line, 0 end of input, -1 error. */
static int read_line(vtx_trace_reader *r, size_t *len)
{
    if (r->f) {
        ssize_t n = getline(&r->line, &r->cap, r->f);
        if (n < 0)
            return ferror(r->f) ? -1 : 0;
        *len = (size_t)n;
        if (n > 0 && r->line[n - 1] == '\n') {
            r->line[--*len] = 0;
            return 1;
        }
        return 2;
    }
    if (r->mempos >= r->memlen)
        return 0;
    const char *s = r->mem + r->mempos, *nl = memchr(s, '\n', r->memlen - r->mempos);
    size_t n = nl ? (size_t)(nl - s) : r->memlen - r->mempos;
    if (n + 1 > r->cap) {
        char *l = realloc(r->line, n + 1);
        if (!l)
            return -1;
        r->line = l;
        r->cap = n + 1;
    }
    memcpy(r->line, s, n);
    r->line[n] = 0;
    r->mempos += n + (nl ? 1 : 0);
    *len = n;
    return nl ? 1 : 2;
}

/* ---- member access: every failure sets the reader's error ---- */

typedef struct ctx {
    vtx_trace_reader *r;
    const char *type;
} ctx;

static vtx_status bad(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static vtx_status bad(ctx *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return trace_fail(&c->r->err, c->r->file, c->r->lineno, VTX_ERR_PARSE, "%s record: %s", c->type, msg);
}

static json_object *member(ctx *c, json_object *o, const char *k, json_type t, const char *tname, vtx_status *st)
{
    json_object *v = NULL;
    if (*st != VTX_OK)
        return NULL;
    if (!json_object_object_get_ex(o, k, &v) || !v) {
        *st = bad(c, "missing member '%s'", k);
        return NULL;
    }
    if (!json_object_is_type(v, t)) {
        *st = bad(c, "member '%s' must be %s", k, tname);
        return NULL;
    }
    return v;
}

static const char *get_str(ctx *c, json_object *o, const char *k, vtx_status *st)
{
    json_object *v = member(c, o, k, json_type_string, "a string", st);
    return v ? json_object_get_string(v) : "";
}

static uint64_t get_hex(ctx *c, json_object *o, const char *k, vtx_status *st)
{
    json_object *v = member(c, o, k, json_type_string, "a \"0x...\" hex string", st);
    uint64_t x = 0;
    if (v && !trace_parse_hex(json_object_get_string(v), &x))
        *st = bad(c, "member '%s' is not a \"0x...\" hex string of at most 64 bits: %s", k, json_object_get_string(v));
    return x;
}

static uint64_t get_uint(ctx *c, json_object *o, const char *k, uint64_t max, vtx_status *st)
{
    json_object *v = member(c, o, k, json_type_int, "an integer", st);
    if (!v)
        return 0;
    errno = 0;
    int64_t s = json_object_get_int64(v);
    uint64_t x = s >= 0 ? (uint64_t)s : 0;
    if (s == INT64_MAX)
        x = json_object_get_uint64(v);
    if (s < 0 || (max && x > max)) {
        *st = bad(c, "member '%s' is out of range (0..%llu): %s", k, (unsigned long long)(max ? max : UINT64_MAX),
                  json_object_to_json_string(v));
        return 0;
    }
    return x;
}

static bool get_bool(ctx *c, json_object *o, const char *k, vtx_status *st)
{
    json_object *v = member(c, o, k, json_type_boolean, "true or false", st);
    return v && json_object_get_boolean(v);
}

static bool has(json_object *o, const char *k) { return json_object_object_get_ex(o, k, NULL); }

/* Only the listed members (plus "type"). */
static vtx_status only(ctx *c, json_object *o, const char *const *keys)
{
    json_object_object_foreach(o, k, v)
    {
        (void)v;
        bool ok = strcmp(k, "type") == 0;
        for (const char *const *p = keys; *p && !ok; p++)
            ok = strcmp(*p, k) == 0;
        if (!ok)
            return bad(c, "unknown member '%s'", k);
    }
    return VTX_OK;
}

static vtx_status gprs(ctx *c, json_object *o, vtx_gprs *g, uint32_t *mask)
{
    vtx_status st = VTX_OK;
    uint64_t *v = &g->rax;
    memset(g, 0, sizeof *g);
    *mask = 0;
    json_object_object_foreach(o, k, val)
    {
        (void)val;
        int i = 0;
        while (i < 15 && strcmp(trace_gpr_names[i], k) != 0)
            i++;
        if (i == 15)
            return bad(c, "unknown register '%s' (rax ... r15)", k);
        v[i] = get_hex(c, o, k, &st);
        *mask |= 1u << i;
    }
    return st;
}

static vtx_status fields(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    rec->nfields = 0;
    json_object_object_foreach(o, k, val)
    {
        (void)val;
        const vtx_field_info *fi;
        if (trace_field_by_name(k, &fi) != VTX_OK)
            return bad(c, "unknown VMCS field '%s'", k);
        if (rec->nfields >= VTX_TRACE_MAX_FIELDS)
            return bad(c, "more than %d fields", VTX_TRACE_MAX_FIELDS);
        rec->enc[rec->nfields] = fi->encoding;
        rec->value[rec->nfields++] = get_hex(c, o, k, &st);
        if (st != VTX_OK)
            return st;
    }
    return st;
}

static vtx_status data(ctx *c, json_object *o, vtx_trace_record *rec, size_t cap)
{
    vtx_status st = VTX_OK;
    const char *enc = get_str(c, o, "encoding", &st);
    const char *text = get_str(c, o, "data", &st);
    if (st != VTX_OK)
        return st;
    char why[160];
    if (!trace_decode(enc, text, c->r->data, cap, &rec->len, why, sizeof why))
        return bad(c, "member 'data': %s", why);
    rec->data = c->r->data;
    return VTX_OK;
}

static int region_of(const vtx_trace_reader *r, uint64_t pa, uint64_t len)
{
    for (uint32_t i = 0; i < r->nregions; i++)
        if (pa >= r->rpa[i] && len <= r->rsize[i] && pa - r->rpa[i] <= r->rsize[i] - len)
            return (int)i;
    return -1;
}

/* ---- the records ---- */

static vtx_status d_header(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    const char *fmt = get_str(c, o, "format", &st);
    if (st == VTX_OK && strcmp(fmt, TRACE_FORMAT) != 0)
        return bad(c, "format is '%s', not '" TRACE_FORMAT "'", fmt);
    rec->version = (uint32_t)get_uint(c, o, "version", 1u << 30, &st);
    if (st == VTX_OK && rec->version != VTX_TRACE_VERSION)
        return bad(c, "version %u is not supported (this vtxref reads version %d)", rec->version, VTX_TRACE_VERSION);
    rec->source = has(o, "source") ? get_str(c, o, "source", &st) : "";
    if (has(o, "generator"))
        get_str(c, o, "generator", &st);
    char why[300];
    if (st == VTX_OK && !trace_boot_header(o, &c->r->bootinfo, &c->r->boot, why, sizeof why))
        return bad(c, "member 'boot': %s", why);
    rec->boot = c->r->boot ? &c->r->bootinfo : NULL;
    return st != VTX_OK ? st
                        : only(c, o, (const char *const[]){"format", "version", "generator", "source", "boot", NULL});
}

static vtx_status d_profile(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    vtx_profile *p = &rec->profile;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", get_str(c, o, "name", &st));
    if (has(o, "description"))
        snprintf(p->description, sizeof p->description, "%s", get_str(c, o, "description", &st));
    p->phys_addr_width = (uint8_t)get_uint(c, o, "phys_addr_width", 52, &st);
    if (st == VTX_OK && p->phys_addr_width < 32)
        return bad(c, "member 'phys_addr_width' is out of range (32..52): %u", p->phys_addr_width);
    json_object *k = member(c, o, "knobs", json_type_object, "an object", &st);
    if (k) {
        p->knobs = VTX_KNOBS_DEFAULT;
        json_object_object_foreach(k, key, v)
        {
            (void)v;
            unsigned b = 0;
            while (b < VTX_KNOB_COUNT && strcmp(vtx_knob_id(b), key) != 0)
                b++;
            if (b == VTX_KNOB_COUNT)
                return bad(c, "unknown knob '%s'", key);
            if (get_bool(c, k, key, &st))
                p->knobs |= 1u << b;
            else
                p->knobs &= ~(1u << b);
        }
    }
    json_object *msr = member(c, o, "msr", json_type_object, "an object", &st);
    static const char *const names[] = {
#define VTX_X_MSRN(n, i, d) #n,
        VTX_CAP_MSRS(VTX_X_MSRN)
#undef VTX_X_MSRN
    };
    if (msr) {
        json_object_object_foreach(msr, key, v)
        {
            (void)v;
            unsigned i = 0;
            while (i < VTX_CAP_MSR_COUNT && strcmp(names[i], key) != 0)
                i++;
            if (i == VTX_CAP_MSR_COUNT)
                return bad(c, "unknown capability MSR '%s'", key);
        }
        for (unsigned i = 0; i < VTX_CAP_MSR_COUNT && st == VTX_OK; i++)
            p->msr[i] = get_hex(c, msr, names[i], &st);
    }
    if (st != VTX_OK)
        return st;
    vtx_diag d = {0};
    if (vtx_profile_validate(p, &d) != VTX_OK)
        return bad(c, "the profile contradicts itself: %s", d.message);
    c->r->profile = *p;
    return only(c, o, (const char *const[]){"name", "description", "phys_addr_width", "knobs", "msr", NULL});
}

static vtx_status d_machine(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    vtx_machine_config *cfg = &rec->config;
    vtx_machine_config_init(cfg, &c->r->profile);
    json_object *r = member(c, o, "root", json_type_object, "an object", &st);
    if (r) {
        cfg->root.cr0 = get_hex(c, r, "cr0", &st);
        cfg->root.cr4 = get_hex(c, r, "cr4", &st);
        cfg->root.efer = get_hex(c, r, "efer", &st);
        cfg->root.rflags = get_hex(c, r, "rflags", &st);
        cfg->root.cs_l = get_bool(c, r, "cs_l", &st);
        cfg->root.cpl = (uint8_t)get_uint(c, r, "cpl", 3, &st);
        cfg->root.feature_control = get_hex(c, r, "feature_control", &st);
        cfg->root.in_smx = get_bool(c, r, "in_smx", &st);
        cfg->root.blocking_by_mov_ss = get_bool(c, r, "blocking_by_mov_ss", &st);
    }
    json_object *k = member(c, o, "costs", json_type_object, "an object", &st);
    if (k) {
        cfg->costs.vm_entry = (uint32_t)get_uint(c, k, "vm_entry", UINT32_MAX, &st);
        cfg->costs.vm_exit = (uint32_t)get_uint(c, k, "vm_exit", UINT32_MAX, &st);
        json_object *bc = has(k, "by_class") ? member(c, k, "by_class", json_type_object, "an object", &st) : NULL;
        if (bc) {
            json_object_object_foreach(bc, key, v)
            {
                (void)v;
                int i = 0;
                while (i < VTX_IC_COUNT && strcmp(vtx_insn_class_name((vtx_insn_class)i), key) != 0)
                    i++;
                if (i == VTX_IC_COUNT)
                    return bad(c, "unknown instruction class '%s' in costs.by_class", key);
                cfg->costs.by_class[i] = (uint32_t)get_uint(c, bc, key, UINT32_MAX, &st);
            }
        }
    }
    json_object *l = member(c, o, "limits", json_type_object, "an object", &st);
    if (l) {
        cfg->limits.instructions = get_uint(c, l, "instructions", 0, &st);
        cfg->limits.cycles = get_uint(c, l, "cycles", 0, &st);
    }
    return st != VTX_OK ? st : only(c, o, (const char *const[]){"root", "costs", "limits", NULL});
}

static vtx_status d_region(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    vtx_trace_reader *r = c->r;
    rec->pa = get_hex(c, o, "pa", &st);
    rec->size = get_hex(c, o, "size", &st);
    const char *perms = get_str(c, o, "perms", &st);
    if (st != VTX_OK)
        return st;
    if ((rec->pa | rec->size) & (TRACE_PAGE - 1) || !rec->size || rec->size > (1ull << 32) ||
        rec->pa + rec->size < rec->pa || (rec->pa + rec->size) >> r->profile.phys_addr_width)
        return bad(c, "region 0x%llx + 0x%llx is not 4-KiB aligned, empty, larger than 4 GiB or beyond MAXPHYADDR",
                   (unsigned long long)rec->pa, (unsigned long long)rec->size);
    rec->perms = 0;
    for (const char *p = perms; *p; p++) {
        unsigned b = *p == 'r' ? VTX_MEM_READ : *p == 'w' ? VTX_MEM_WRITE : *p == 'x' ? VTX_MEM_EXEC : 0;
        if (!b || (rec->perms & b))
            return bad(c, "member 'perms' must be letters of \"rwx\": %s", perms);
        rec->perms |= b;
    }
    for (uint32_t i = 0; i < r->nregions; i++)
        if (rec->pa < r->rpa[i] + r->rsize[i] && r->rpa[i] < rec->pa + rec->size)
            return bad(c, "region 0x%llx overlaps the region at 0x%llx", (unsigned long long)rec->pa,
                       (unsigned long long)r->rpa[i]);
    if (r->nregions == MAX_REGIONS)
        return bad(c, "more than %d regions", MAX_REGIONS);
    r->rpa[r->nregions] = rec->pa;
    r->rsize[r->nregions++] = rec->size;
    return only(c, o, (const char *const[]){"pa", "size", "perms", NULL});
}

static vtx_status d_page(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    rec->pa = get_hex(c, o, "pa", &st);
    if (st == VTX_OK && (rec->pa & (TRACE_PAGE - 1)))
        return bad(c, "page address 0x%llx is not 4-KiB aligned", (unsigned long long)rec->pa);
    if (st == VTX_OK && region_of(c->r, rec->pa, TRACE_PAGE) < 0)
        return bad(c, "page 0x%llx is in no region", (unsigned long long)rec->pa);
    if (st != VTX_OK || (st = data(c, o, rec, TRACE_PAGE)) != VTX_OK)
        return st;
    if (rec->len != TRACE_PAGE)
        return bad(c, "a page holds 4096 bytes, this one %zu", rec->len);
    return only(c, o, (const char *const[]){"pa", "encoding", "data", NULL});
}

static vtx_status d_start(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    rec->vmcs_pa = get_hex(c, o, "vmcs", &st);
    if (st == VTX_OK && ((rec->vmcs_pa & (TRACE_PAGE - 1)) || region_of(c->r, rec->vmcs_pa, TRACE_PAGE) < 0))
        return bad(c, "the VMCS at 0x%llx is not a 4-KiB page of a region", (unsigned long long)rec->vmcs_pa);
    rec->instructions = get_uint(c, o, "instructions", 0, &st);
    rec->cycles = get_uint(c, o, "cycles", 0, &st);
    json_object *f = member(c, o, "fields", json_type_object, "an object", &st);
    if (f && (st = fields(c, f, rec)) != VTX_OK)
        return st;
    json_object *g = member(c, o, "gprs", json_type_object, "an object", &st);
    if (g && (st = gprs(c, g, &rec->gprs, &rec->gprs_mask)) != VTX_OK)
        return st;
    c->r->last_instructions = rec->instructions;
    c->r->last_cycles = rec->cycles;
    return st != VTX_OK ? st : only(c, o, (const char *const[]){"vmcs", "instructions", "cycles", "fields", "gprs", NULL});
}

static vtx_status d_vmwrite(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    const char *name = get_str(c, o, "field", &st);
    const vtx_field_info *fi;
    if (st == VTX_OK && trace_field_by_name(name, &fi) != VTX_OK)
        return bad(c, "unknown VMCS field '%s'", name);
    rec->value[0] = get_hex(c, o, "value", &st);
    if (st != VTX_OK)
        return st;
    rec->enc[0] = fi->encoding;
    rec->nfields = 1;
    return only(c, o, (const char *const[]){"field", "value", NULL});
}

static vtx_status d_gprs(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    json_object *g = member(c, o, "gprs", json_type_object, "an object", &st);
    if (g && (st = gprs(c, g, &rec->gprs, &rec->gprs_mask)) == VTX_OK && !rec->gprs_mask)
        return bad(c, "no register given");
    return st != VTX_OK ? st : only(c, o, (const char *const[]){"gprs", NULL});
}

static vtx_status d_memory(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    rec->pa = get_hex(c, o, "pa", &st);
    if (st != VTX_OK || (st = data(c, o, rec, MAX_MEMORY)) != VTX_OK)
        return st;
    if (!rec->len || region_of(c->r, rec->pa, rec->len) < 0)
        return bad(c, "%zu bytes at 0x%llx are not inside one region", rec->len, (unsigned long long)rec->pa);
    return only(c, o, (const char *const[]){"pa", "encoding", "data", NULL});
}

static vtx_status d_input(ctx *c, json_object *o, vtx_trace_record *rec)
{
    static const char *const kinds[] = {"nmi", "intr", "intr-clear", "init", "sipi"};
    vtx_status st = VTX_OK;
    const char *op = get_str(c, o, "op", &st), *kind = get_str(c, o, "kind", &st);
    if (st != VTX_OK)
        return st;
    if (strcmp(op, "raise") && strcmp(op, "schedule"))
        return bad(c, "member 'op' must be \"raise\" or \"schedule\": %s", op);
    rec->scheduled = op[0] == 's';
    memset(&rec->input, 0, sizeof rec->input);
    unsigned k = 0;
    while (k < 5 && strcmp(kinds[k], kind))
        k++;
    if (k == 5)
        return bad(c, "unknown input kind '%s' (nmi, intr, intr-clear, init, sipi)", kind);
    rec->input.kind = (vtx_input_kind)k;
    if (k == VTX_INPUT_INTR_ASSERT || k == VTX_INPUT_SIPI)
        rec->input.vector = (uint8_t)get_uint(c, o, "vector", 255, &st);
    else if (has(o, "vector"))
        return bad(c, "a '%s' input has no vector", kind);
    if (rec->scheduled) {
        const char *at = get_str(c, o, "at", &st);
        if (st == VTX_OK && strcmp(at, "cycle") && strcmp(at, "instruction"))
            return bad(c, "member 'at' must be \"instruction\" or \"cycle\": %s", at);
        rec->input.at_cycle = at[0] == 'c';
        rec->input.when = get_uint(c, o, "when", 0, &st);
    } else if (has(o, "at") || has(o, "when")) {
        return bad(c, "a raised input has no 'at' or 'when' (those are for \"schedule\")");
    }
    return st != VTX_OK ? st : only(c, o, (const char *const[]){"op", "kind", "vector", "at", "when", NULL});
}

static vtx_status d_enter(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    const char *insn = get_str(c, o, "insn", &st);
    rec->index = get_uint(c, o, "index", 0, &st);
    if (st != VTX_OK)
        return st;
    if (strcmp(insn, "vmlaunch") && strcmp(insn, "vmresume"))
        return bad(c, "member 'insn' must be \"vmlaunch\" or \"vmresume\": %s", insn);
    rec->launched = strcmp(insn, "vmresume") == 0;
    if (rec->index != c->r->entries + 1)
        return bad(c, "out of order: entry %llu follows entry %llu", (unsigned long long)rec->index,
                   (unsigned long long)c->r->entries);
    c->r->entries = rec->index;
    rec->vmcs_pa = has(o, "vmcs") ? get_hex(c, o, "vmcs", &st) : UINT64_MAX;
    return st != VTX_OK ? st : only(c, o, (const char *const[]){"insn", "index", "vmcs", NULL});
}

static vtx_status clock(ctx *c, json_object *o, vtx_trace_record *rec, vtx_status st)
{
    rec->instructions = get_uint(c, o, "instructions", 0, &st);
    rec->cycles = get_uint(c, o, "cycles", 0, &st);
    if (st == VTX_OK && (rec->instructions < c->r->last_instructions || rec->cycles < c->r->last_cycles))
        return bad(c, "out of order: the clock goes back (instructions %llu, cycles %llu after %llu, %llu)",
                   (unsigned long long)rec->instructions, (unsigned long long)rec->cycles,
                   (unsigned long long)c->r->last_instructions, (unsigned long long)c->r->last_cycles);
    c->r->last_instructions = rec->instructions;
    c->r->last_cycles = rec->cycles;
    return st;
}

static vtx_status outcome_index(ctx *c, json_object *o, vtx_trace_record *rec, vtx_status st)
{
    rec->index = get_uint(c, o, "index", 0, &st);
    if (st == VTX_OK && rec->index != c->r->entries)
        return bad(c, "out of order: the outcome of entry %llu follows entry %llu", (unsigned long long)rec->index,
                   (unsigned long long)c->r->entries);
    return st;
}

static vtx_status d_exit(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = outcome_index(c, o, rec, VTX_OK);
    uint64_t reason = get_hex(c, o, "reason", &st);
    if (st == VTX_OK && (reason >> 32 || (reason & 0x7FFF0000u)))
        return bad(c, "member 'reason' is out of range (bits 15:0 and 31 only): 0x%llx", (unsigned long long)reason);
    if ((st = clock(c, o, rec, st)) != VTX_OK)
        return st;
    if (has(o, "reason_name"))
        get_str(c, o, "reason_name", &st);
    rec->nfields = 0;
    if (has(o, "fields")) {
        json_object *f = member(c, o, "fields", json_type_object, "an object", &st);
        if (f && (st = fields(c, f, rec)) != VTX_OK)
            return st;
    }
    rec->gprs_mask = 0;
    if (has(o, "gprs")) {
        json_object *g = member(c, o, "gprs", json_type_object, "an object", &st);
        if (g && (st = gprs(c, g, &rec->gprs, &rec->gprs_mask)) != VTX_OK)
            return st;
    }
    c->r->exits++;
    rec->reason = (uint32_t)reason;
    return st != VTX_OK ? st
                        : only(c, o, (const char *const[]){"index", "reason", "reason_name", "instructions", "cycles",
                                                           "fields", "gprs", NULL});
}

static vtx_status d_vmfail(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = outcome_index(c, o, rec, VTX_OK);
    const char *oc = get_str(c, o, "outcome", &st);
    rec->vm_error = (uint32_t)get_uint(c, o, "vm_error", 255, &st);
    if (st != VTX_OK)
        return st;
    vtx_insn_outcome k = VTX_VMFAIL_INVALID;
    while (k <= VTX_INSN_FAULT && strcmp(vtx_insn_outcome_name(k), oc))
        k++;
    if (k > VTX_INSN_FAULT)
        return bad(c, "member 'outcome' must be VMfailInvalid, VMfailValid or fault: %s", oc);
    rec->outcome = k;
    return only(c, o, (const char *const[]){"index", "outcome", "vm_error", NULL});
}

static vtx_status d_stop(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = outcome_index(c, o, rec, VTX_OK);
    if ((st = clock(c, o, rec, st)) != VTX_OK)
        return st;
    rec->why = has(o, "why") ? get_str(c, o, "why", &st) : "";
    return st != VTX_OK ? st : only(c, o, (const char *const[]){"index", "instructions", "cycles", "why", NULL});
}

static vtx_status d_end(ctx *c, json_object *o, vtx_trace_record *rec)
{
    vtx_status st = VTX_OK;
    rec->exits = get_uint(c, o, "exits", 0, &st);
    rec->why = has(o, "why") ? get_str(c, o, "why", &st) : "";
    rec->status = has(o, "status") ? (int)get_uint(c, o, "status", 255, &st) : -1;
    if (st == VTX_OK && rec->exits != c->r->exits)
        return bad(c, "says %llu exits, the trace holds %llu", (unsigned long long)rec->exits,
                   (unsigned long long)c->r->exits);
    return st != VTX_OK ? st : only(c, o, (const char *const[]){"exits", "why", "status", NULL});
}

typedef vtx_status (*decoder)(ctx *, json_object *, vtx_trace_record *);
static const decoder decoders[VTX_TR_COUNT] = {d_header, d_profile, d_machine, d_region, d_page,
                                               d_start,  d_vmwrite, d_gprs,    d_memory, d_input,
                                               d_enter,  d_exit,    d_vmfail,  d_stop,   d_end};

/* May a record of type t come now?  On success, the phase moves on. */
static bool order(vtx_trace_reader *r, vtx_trace_type t, const char **expected)
{
    switch (r->phase) {
    case P_HEADER: *expected = "header"; if (t == VTX_TR_HEADER) { r->phase = P_PROFILE; return true; } return false;
    case P_PROFILE: *expected = "profile"; if (t == VTX_TR_PROFILE) { r->phase = r->boot ? P_BODY : P_MACHINE; return true; } return false;
    case P_MACHINE: *expected = "machine"; if (t == VTX_TR_MACHINE) { r->phase = P_REGIONS; return true; } return false;
    case P_REGIONS:
    case P_PAGES:
        *expected = r->phase == P_REGIONS ? "region, page or start" : "page or start";
        if (t == VTX_TR_REGION && r->phase == P_REGIONS)
            return true;
        if (t == VTX_TR_PAGE && r->nregions) {
            r->phase = P_PAGES;
            return true;
        }
        if (t == VTX_TR_START && r->nregions) {
            r->phase = P_BODY;
            return true;
        }
        return false;
    case P_BODY:
        *expected = "vmwrite, gprs, memory, input, enter or end";
        if (t == VTX_TR_ENTER)
            r->phase = P_OUTCOME;
        else if (t == VTX_TR_END)
            r->phase = P_DONE;
        return t >= VTX_TR_VMWRITE && t <= VTX_TR_ENTER ? true : t == VTX_TR_END;
    case P_OUTCOME:
        *expected = "exit, vmfail or stop";
        if (t == VTX_TR_EXIT || t == VTX_TR_VMFAIL || t == VTX_TR_STOP) {
            r->phase = P_BODY;
            return true;
        }
        return false;
    case P_DONE: *expected = "nothing"; return false;
    }
    return false;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

vtx_status vtx_trace_next(vtx_trace_reader *r, vtx_trace_record *rec, vtx_trace_error *err)
{
    if (!r || !rec)
        return VTX_ERR_INVALID_ARG;
    if (r->failed) {
        if (err)
            *err = r->err;
        return VTX_ERR_PARSE;
    }
    if (r->json) {
        json_object_put(r->json);
        r->json = NULL;
    }
    vtx_status st;
    size_t len = 0;
    int got;
    for (;;) {
        got = read_line(r, &len);
        if (got <= 0)
            break;
        r->lineno++;
        if (r->phase != P_DONE || !blank(r->line, len))
            break;
        if (got == 2)
            break;
    }
    if (got < 0) {
        st = trace_fail(&r->err, r->file, r->lineno, VTX_ERR_IO, "read error: %s", strerror(errno));
        goto fail;
    }
    if (got == 0 || (r->phase == P_DONE && blank(r->line, len))) {
        if (r->phase == P_DONE)
            return VTX_ERR_NOT_FOUND;
        if (r->lineno == 0)
            st = trace_fail(&r->err, r->file, 0, VTX_ERR_PARSE, "empty file: not a trace");
        else
            st = trace_fail(&r->err, r->file, r->lineno, VTX_ERR_PARSE,
                            "truncated after line %ld (its last complete record is a '%s' record; a complete trace "
                            "ends with an 'end' record)",
                            r->lineno, vtx_trace_type_name(r->last));
        goto fail;
    }
    if (got == 2 && r->phase != P_DONE) {
        st = trace_fail(&r->err, r->file, r->lineno, VTX_ERR_PARSE,
                        "truncated: the last line has no newline (the trace was cut in the middle of a record; "
                        "the last complete record is line %ld)",
                        r->lineno - 1);
        goto fail;
    }
    if (r->phase == P_DONE) {
        st = trace_fail(&r->err, r->file, r->lineno, VTX_ERR_PARSE, "data after the 'end' record");
        goto fail;
    }
    if (memchr(r->line, 0, len)) {
        st = trace_fail(&r->err, r->file, r->lineno, VTX_ERR_PARSE, "not JSON: a NUL byte in the line");
        goto fail;
    }
    json_tokener_reset(r->tok);
    r->json = json_tokener_parse_ex(r->tok, r->line, (int)len);
    enum json_tokener_error je = json_tokener_get_error(r->tok);
    if (!r->json || je != json_tokener_success || (size_t)json_tokener_get_parse_end(r->tok) < len) {
        bool trailing = r->json && je == json_tokener_success;
        st = trace_fail(&r->err, r->file, r->lineno, VTX_ERR_PARSE, "not JSON: %s",
                        trailing ? "more than one value on the line"
                        : je == json_tokener_continue ? "the line ends inside a value"
                                                      : json_tokener_error_desc(je));
        goto fail;
    }
    if (!json_object_is_type(r->json, json_type_object)) {
        st = trace_fail(&r->err, r->file, r->lineno, VTX_ERR_PARSE, "a record must be a JSON object");
        goto fail;
    }
    json_object *t;
    if (!json_object_object_get_ex(r->json, "type", &t) || !json_object_is_type(t, json_type_string)) {
        st = trace_fail(&r->err, r->file, r->lineno, VTX_ERR_PARSE, "a record needs a string member 'type'");
        goto fail;
    }
    const char *tn = json_object_get_string(t);
    int type = 0;
    while (type < VTX_TR_COUNT && strcmp(vtx_trace_type_name((vtx_trace_type)type), tn))
        type++;
    if (type == VTX_TR_COUNT) {
        st = trace_fail(&r->err, r->file, r->lineno, VTX_ERR_PARSE, "unknown record type '%.60s'", tn);
        goto fail;
    }
    const char *expected = "";
    if (!order(r, (vtx_trace_type)type, &expected)) {
        st = trace_fail(&r->err, r->file, r->lineno, VTX_ERR_PARSE,
                        "records out of order: a '%s' record here, where the format has %s", tn, expected);
        goto fail;
    }
    memset(rec, 0, offsetof(vtx_trace_record, enc));
    rec->type = (vtx_trace_type)type;
    rec->line = r->lineno;
    rec->text = r->line;
    rec->why = "";
    rec->source = "";
    ctx c = {r, tn};
    if ((st = decoders[type](&c, r->json, rec)) != VTX_OK)
        goto fail;
    r->last = (vtx_trace_type)type;
    return VTX_OK;
fail:
    r->failed = true;
    if (err)
        *err = r->err;
    return st;
}
