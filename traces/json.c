/* The JSON form of trace records (docs/traces.md), shared by the recorder and
 * the replayer so that a replayed run's records compare with the recorded ones
 * member by member. Public API only. */
#include <string.h>
#include "trace_internal.h"

const char *const trace_gpr_names[15] = {"rax", "rcx", "rdx", "rbx", "rbp", "rsi", "rdi", "r8",
                                         "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

static const char *const type_names[VTX_TR_COUNT] = {
#define VTX_X_TRN(n, s) s,
    VTX_TRACE_RECORDS(VTX_X_TRN)
#undef VTX_X_TRN
};

const char *vtx_trace_type_name(vtx_trace_type t) { return (unsigned)t < VTX_TR_COUNT ? type_names[t] : NULL; }

static void add(json_object *o, const char *k, json_object *v) { json_object_object_add(o, k, v); }

static json_object *record(vtx_trace_type t)
{
    json_object *o = json_object_new_object();
    add(o, "type", json_object_new_string(type_names[t]));
    return o;
}

json_object *trace_json_header(const char *source)
{
    json_object *o = record(VTX_TR_HEADER);
    add(o, "format", json_object_new_string(TRACE_FORMAT));
    add(o, "version", json_object_new_int(VTX_TRACE_VERSION));
    add(o, "generator", json_object_new_string("vtxref " VTX_VERSION_STRING));
    add(o, "source", json_object_new_string(source ? source : ""));
    return o;
}

json_object *trace_json_profile(const vtx_profile *p)
{
    json_object *o = record(VTX_TR_PROFILE);
    add(o, "name", json_object_new_string(p->name));
    add(o, "description", json_object_new_string(p->description));
    add(o, "phys_addr_width", json_object_new_int(p->phys_addr_width));
    json_object *k = json_object_new_object();
    for (unsigned b = 0; b < VTX_KNOB_COUNT; b++)
        add(k, vtx_knob_id(b), json_object_new_boolean((p->knobs >> b) & 1));
    add(o, "knobs", k);
    json_object *msr = json_object_new_object();
    static const char *const names[] = {
#define VTX_X_MSRN(n, i, d) #n,
        VTX_CAP_MSRS(VTX_X_MSRN)
#undef VTX_X_MSRN
    };
    for (unsigned i = 0; i < VTX_CAP_MSR_COUNT; i++)
        add(msr, names[i], trace_hex(p->msr[i]));
    add(o, "msr", msr);
    return o;
}

json_object *trace_json_machine(const vtx_machine_config *c)
{
    json_object *o = record(VTX_TR_MACHINE);
    json_object *r = json_object_new_object();
    add(r, "cr0", trace_hex(c->root.cr0));
    add(r, "cr4", trace_hex(c->root.cr4));
    add(r, "efer", trace_hex(c->root.efer));
    add(r, "rflags", trace_hex(c->root.rflags));
    add(r, "cs_l", json_object_new_boolean(c->root.cs_l));
    add(r, "cpl", json_object_new_int(c->root.cpl));
    add(r, "feature_control", trace_hex(c->root.feature_control));
    add(r, "in_smx", json_object_new_boolean(c->root.in_smx));
    add(r, "blocking_by_mov_ss", json_object_new_boolean(c->root.blocking_by_mov_ss));
    add(o, "root", r);
    json_object *k = json_object_new_object();
    add(k, "vm_entry", json_object_new_int64(c->costs.vm_entry));
    add(k, "vm_exit", json_object_new_int64(c->costs.vm_exit));
    json_object *bc = json_object_new_object();
    for (int i = 0; i < VTX_IC_COUNT; i++)
        add(bc, vtx_insn_class_name((vtx_insn_class)i), json_object_new_int64(c->costs.by_class[i]));
    add(k, "by_class", bc);
    add(o, "costs", k);
    json_object *l = json_object_new_object();
    add(l, "instructions", json_object_new_uint64(c->limits.instructions));
    add(l, "cycles", json_object_new_uint64(c->limits.cycles));
    add(o, "limits", l);
    return o;
}

static const char *const input_kinds[] = {"nmi", "intr", "intr-clear", "init", "sipi"};

json_object *trace_json_input(const vtx_input *in, bool scheduled)
{
    json_object *o = record(VTX_TR_INPUT);
    add(o, "op", json_object_new_string(scheduled ? "schedule" : "raise"));
    add(o, "kind", json_object_new_string((unsigned)in->kind < 5 ? input_kinds[in->kind] : "?"));
    if (in->kind == VTX_INPUT_INTR_ASSERT || in->kind == VTX_INPUT_SIPI)
        add(o, "vector", json_object_new_int(in->vector));
    if (scheduled) {
        add(o, "at", json_object_new_string(in->at_cycle ? "cycle" : "instruction"));
        add(o, "when", json_object_new_uint64(in->when));
    }
    return o;
}

json_object *trace_json_gprs(const vtx_gprs *g, uint32_t mask)
{
    json_object *o = json_object_new_object();
    const uint64_t *v = &g->rax;
    for (int i = 0; i < 15; i++)
        if (mask & (1u << i))
            add(o, trace_gpr_names[i], trace_hex(v[i]));
    return o;
}

bool trace_field_exists(const vtx_profile *p, const vtx_field_info *fi)
{
    return vtx_profile_has_feature(p, fi->feature);
}

json_object *trace_json_outcome(vtx_machine *m, uint64_t index, vtx_status st, const vtx_insn_result *r)
{
    if (st == VTX_OK && (r->outcome == VTX_VMFAIL_INVALID || r->outcome == VTX_VMFAIL_VALID ||
                         r->outcome == VTX_INSN_FAULT)) {
        json_object *o = record(VTX_TR_VMFAIL);
        add(o, "index", json_object_new_uint64(index));
        add(o, "outcome", json_object_new_string(vtx_insn_outcome_name(r->outcome)));
        add(o, "vm_error", json_object_new_int64(r->vm_error));
        return o;
    }
    if (st != VTX_OK || r->outcome != VTX_VMEXIT) {
        json_object *o = record(VTX_TR_STOP);
        add(o, "index", json_object_new_uint64(index));
        add(o, "instructions", json_object_new_uint64(vtx_machine_instructions(m)));
        add(o, "cycles", json_object_new_uint64(vtx_machine_cycles(m)));
        char why[300];
        snprintf(why, sizeof why, "%s%s%s", st != VTX_OK ? vtx_status_name(st) : "", st != VTX_OK ? ": " : "", r->why);
        add(o, "why", json_object_new_string(why));
        return o;
    }
    json_object *o = record(VTX_TR_EXIT);
    add(o, "index", json_object_new_uint64(index));
    uint64_t reason = 0;
    vtx_machine_peek_field(m, VTX_VMCS_EXIT_REASON, &reason);
    const char *rn = vtx_exit_reason_name((uint32_t)reason & 0xFFFF);
    add(o, "reason", trace_hex(reason));
    add(o, "reason_name", json_object_new_string(rn ? rn : "?"));
    add(o, "instructions", json_object_new_uint64(vtx_machine_instructions(m)));
    add(o, "cycles", json_object_new_uint64(vtx_machine_cycles(m)));
    const vtx_profile *p = vtx_machine_profile(m);
    size_t n;
    const vtx_field_info *fi = vtx_vmcs_fields(&n);
    json_object *f = json_object_new_object();
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        if ((fi[i].type != VTX_TYPE_RO_DATA && fi[i].type != VTX_TYPE_GUEST) || !trace_field_exists(p, &fi[i]) ||
            vtx_machine_peek_field(m, fi[i].encoding, &v) != VTX_OK)
            continue;
        add(f, fi[i].name, trace_hex(v));
    }
    add(o, "fields", f);
    vtx_gprs g;
    vtx_machine_get_gprs(m, &g);
    add(o, "gprs", trace_json_gprs(&g, 0x7FFF));
    return o;
}

static void appendf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t size, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, size - n, fmt, ap);
    va_end(ap);
}

/* A value as text, cut at 80 characters (an object of fields stands for itself). */
static const char *text(json_object *j, char *buf, size_t size)
{
    if (!j)
        return "(missing)";
    trace_copy_line(buf, size, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    return buf;
}

static int compare(json_object *e, json_object *a, bool sym, const char *const *skip, const char *prefix, char *diffs,
                   size_t size)
{
    int n = 0;
    char path[160];
    json_object_object_foreach(e, k, ev)
    {
        bool skipped = false;
        for (const char *const *s = skip; s && *s; s++)
            skipped |= strcmp(*s, k) == 0;
        if (skipped)
            continue;
        snprintf(path, sizeof path, "%s%s", prefix, k);
        json_object *av = NULL;
        json_object_object_get_ex(a, k, &av);
        if (ev && av && json_object_is_type(ev, json_type_object) && json_object_is_type(av, json_type_object)) {
            char p2[170];
            snprintf(p2, sizeof p2, "%s.", path);
            n += compare(ev, av, sym, NULL, p2, diffs, size);
        } else if (!av || !json_object_equal(ev, av)) {
            n++;
            {
                char t1[84], t2[84];
                appendf(diffs, size, "%s: expected %s, got %s\n", path, text(ev, t1, sizeof t1), text(av, t2, sizeof t2));
            }
        }
    }
    if (sym) {
        json_object_object_foreach(a, k2, av2)
        {
            (void)av2;
            bool skipped = false;
            for (const char *const *s = skip; s && *s; s++)
                skipped |= strcmp(*s, k2) == 0;
            if (!skipped && !json_object_object_get_ex(e, k2, NULL)) {
                n++;
                char t3[84];
                appendf(diffs, size, "%s%s: expected (missing), got %s\n", prefix, k2, text(av2, t3, sizeof t3));
            }
        }
    }
    return n;
}

int trace_json_compare(json_object *exp, json_object *act, bool symmetric, const char *const *skip, char *diffs,
                       size_t size)
{
    if (size)
        diffs[0] = 0;
    return compare(exp, act, symmetric, skip, "", diffs, size);
}
