/* Replaying a trace (docs/traces.md "Replay"): build the machine the trace
 * describes, apply its records in order, and compare each outcome the model
 * produces with the recorded one; stop at the first difference. Public API only. */
#include <stdlib.h>
#include <string.h>
#include "trace_internal.h"

#define MAX_REGIONS 64

typedef struct replayer {
    const vtx_replay_options *opt;
    vtx_replay_result *res;
    vtx_trace_error *err;
    vtx_trace_reader *rd;
    const char *file;
    vtx_machine_config cfg;
    vtx_machine *m;
    uint8_t *host[MAX_REGIONS];
    uint64_t pa[MAX_REGIONS], size[MAX_REGIONS];
    size_t nregions;
    uint8_t *vmxon;
    uint64_t vmcs_pa;
    uint32_t hist_next; /* ring of the last boundaries */
    vtx_boundary_report ring[VTX_REPLAY_HISTORY];
    uint64_t nboundaries;
    char actions[2048];  /* the records since the last matching outcome */
} replayer;

static void observe(void *user, const vtx_boundary_report *b)
{
    replayer *P = user;
    P->ring[P->hist_next] = *b;
    P->hist_next = (P->hist_next + 1) % VTX_REPLAY_HISTORY;
    P->nboundaries++;
    if (P->opt && P->opt->observer)
        P->opt->observer(P->opt->user, b);
}

/* Record a divergence at @p rec: expected is the record, actual the run's own. */
static void diverge(replayer *P, const vtx_trace_record *rec, json_object *actual, const char *why)
{
    vtx_replay_result *R = P->res;
    R->diverged = true;
    R->line = rec->line;
    R->index = rec->index;
    trace_copy_line(R->expected, sizeof R->expected, rec->text);
    if (actual) {
        trace_copy_line(R->actual, sizeof R->actual,
                        json_object_to_json_string_ext(actual, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        trace_json_compare(trace_reader_json(P->rd), actual, false, NULL, R->differences, sizeof R->differences);
    }
    if (why) {
        size_t n = strlen(R->differences);
        snprintf(R->differences + n, sizeof R->differences - n, "%s\n", why);
    }
    snprintf(R->actions, sizeof R->actions, "%s", P->actions);
    uint32_t k = P->nboundaries < VTX_REPLAY_HISTORY ? (uint32_t)P->nboundaries : VTX_REPLAY_HISTORY;
    R->nhistory = k;
    for (uint32_t i = 0; i < k; i++)
        R->history[i] = P->ring[(P->hist_next + VTX_REPLAY_HISTORY - k + i) % VTX_REPLAY_HISTORY];
}

static vtx_status setup_machine(replayer *P, const vtx_trace_record *rec)
{
    P->cfg = rec->config;
    if (P->opt && P->opt->profile)
        P->cfg.profile = *P->opt->profile;
    if (P->opt)
        P->cfg.profile.knobs = (P->cfg.profile.knobs | P->opt->knobs_set) & ~P->opt->knobs_clear;
    vtx_diag d = {0};
    vtx_status st = vtx_machine_create(&P->cfg, &P->m, &d);
    if (st != VTX_OK)
        return trace_fail(P->err, P->file, rec->line, VTX_ERR_STATE, "cannot create the machine: %s",
                          d.message[0] ? d.message : vtx_status_name(st));
    vtx_machine_set_observer(P->m, observe, P);
    return VTX_OK;
}

static vtx_status map_region(replayer *P, const vtx_trace_record *rec)
{
    uint8_t *h = aligned_alloc(TRACE_PAGE, rec->size);
    if (!h)
        return trace_fail(P->err, P->file, rec->line, VTX_ERR_NO_MEMORY, "out of memory for the region");
    memset(h, 0, rec->size);
    vtx_diag d = {0};
    vtx_status st = vtx_machine_map(P->m, rec->pa, rec->size, h, rec->perms, &d);
    if (st != VTX_OK) {
        free(h);
        return trace_fail(P->err, P->file, rec->line, VTX_ERR_STATE, "cannot map the region: %s", d.message);
    }
    P->host[P->nregions] = h;
    P->pa[P->nregions] = rec->pa;
    P->size[P->nregions++] = rec->size;
    return VTX_OK;
}

static uint8_t *host_of(replayer *P, uint64_t pa)
{
    for (size_t i = 0; i < P->nregions; i++)
        if (pa >= P->pa[i] && pa - P->pa[i] < P->size[i])
            return P->host[i] + (pa - P->pa[i]);
    return NULL;
}

static bool insn_ok(vtx_status st, const vtx_insn_result *r, char *why, size_t size)
{
    if (st == VTX_OK && r->outcome == VTX_VMSUCCEED)
        return true;
    if (st != VTX_OK)
        snprintf(why, size, "%s: %s", vtx_status_name(st), r->why);
    else
        vtx_insn_result_format(r, why, size);
    return false;
}

/* VMXON on a page of its own (the trace does not hold the VMXON region: it has no effect on the guest), then
 * VMCLEAR and VMPTRLD of the trace's VMCS, the fields and the registers. Returns 1 on a divergence. */
static int start(replayer *P, const vtx_trace_record *rec, vtx_status *st)
{
    uint64_t top = P->cfg.profile.phys_addr_width >= 32 ? 0xFFFFF000ull : 0;
    while (host_of(P, top) || host_of(P, top + TRACE_PAGE - 1))
        top -= TRACE_PAGE;
    P->vmxon = aligned_alloc(TRACE_PAGE, TRACE_PAGE);
    if (!P->vmxon) {
        *st = trace_fail(P->err, P->file, rec->line, VTX_ERR_NO_MEMORY, "out of memory");
        return 0;
    }
    memset(P->vmxon, 0, TRACE_PAGE);
    uint32_t rev = vtx_basic_revision(P->cfg.profile.msr[VTX_CAP_IA32_VMX_BASIC]);
    memcpy(P->vmxon, &rev, 4);
    uint8_t *vmcs = host_of(P, rec->vmcs_pa);
    memcpy(vmcs, &rev, 4); /* the replay profile's revision (the recorded one differs on another profile) */
    vtx_diag d = {0};
    vtx_insn_result r;
    char why[300];
    if ((*st = vtx_machine_map(P->m, top, TRACE_PAGE, P->vmxon, VTX_MEM_READ | VTX_MEM_WRITE, &d)) != VTX_OK) {
        *st = trace_fail(P->err, P->file, rec->line, VTX_ERR_STATE, "cannot map a VMXON region: %s", d.message);
        return 0;
    }
    vtx_status s2 = vtx_vmxon(P->m, top, &r);
    if (!insn_ok(s2, &r, why, sizeof why) || (s2 = vtx_vmclear(P->m, rec->vmcs_pa, &r), !insn_ok(s2, &r, why, sizeof why)) ||
        (s2 = vtx_vmptrld(P->m, rec->vmcs_pa, &r), !insn_ok(s2, &r, why, sizeof why))) {
        *st = trace_fail(P->err, P->file, rec->line, VTX_ERR_STATE, "cannot enter VMX operation: %s", why);
        return 0;
    }
    /* The VMXON region is not touched again: unmap it, so that the replay machine maps exactly
     * what the recorded one did (an identity EPT of the trace then still covers all memory). */
    vtx_machine_unmap(P->m, top);
    P->vmcs_pa = rec->vmcs_pa;
    char diffs[1024] = "";
    size_t used = 0;
    for (uint32_t i = 0; i < rec->nfields; i++) {
        const vtx_field_info *fi;
        vtx_vmcs_field_lookup(rec->enc[i], &fi, NULL);
        if (fi->read_only)
            continue;
        if (!trace_field_exists(&P->cfg.profile, fi) && rec->value[i] == 0)
            continue; /* another profile without the field: nothing lost */
        s2 = vtx_vmwrite(P->m, rec->enc[i], rec->value[i], &r);
        if (!insn_ok(s2, &r, why, sizeof why) && used < sizeof diffs)
            used += (size_t)snprintf(diffs + used, sizeof diffs - used, "%s: VMWRITE 0x%llx failed: %s\n", fi->name,
                                     (unsigned long long)rec->value[i], why);
    }
    vtx_gprs g;
    vtx_machine_get_gprs(P->m, &g);
    uint64_t *gv = &g.rax;
    const uint64_t *rv = &rec->gprs.rax;
    for (int i = 0; i < 15; i++)
        if (rec->gprs_mask & (1u << i))
            gv[i] = rv[i];
    vtx_machine_set_gprs(P->m, &g);
    if (diffs[0]) {
        diverge(P, rec, NULL, diffs);
        return 1;
    }
    return 0;
}

static int action(replayer *P, const vtx_trace_record *rec, vtx_status *st)
{
    vtx_insn_result r;
    char why[300];
    switch (rec->type) {
    case VTX_TR_VMWRITE: {
        vtx_status s2 = vtx_vmwrite(P->m, rec->enc[0], rec->value[0], &r);
        if (!insn_ok(s2, &r, why, sizeof why)) {
            char d[400];
            snprintf(d, sizeof d, "the VMWRITE failed: %s", why);
            json_object *a = json_object_new_object();
            json_object_object_add(a, "type", json_object_new_string("vmwrite"));
            json_object_object_add(a, "failed", json_object_new_string(why));
            diverge(P, rec, NULL, d);
            trace_copy_line(P->res->actual, sizeof P->res->actual, json_object_to_json_string(a));
            json_object_put(a);
            return 1;
        }
        return 0;
    }
    case VTX_TR_GPRS: {
        vtx_gprs g;
        vtx_machine_get_gprs(P->m, &g);
        uint64_t *gv = &g.rax;
        const uint64_t *rv = &rec->gprs.rax;
        for (int i = 0; i < 15; i++)
            if (rec->gprs_mask & (1u << i))
                gv[i] = rv[i];
        vtx_machine_set_gprs(P->m, &g);
        return 0;
    }
    case VTX_TR_MEMORY: {
        vtx_diag d = {0};
        if (vtx_machine_write_phys(P->m, rec->pa, rec->data, rec->len, &d) != VTX_OK)
            *st = trace_fail(P->err, P->file, rec->line, VTX_ERR_STATE, "cannot write memory: %s", d.message);
        return 0;
    }
    case VTX_TR_INPUT: {
        vtx_status s2;
        if (rec->scheduled)
            s2 = vtx_machine_schedule(P->m, &rec->input);
        else
            switch (rec->input.kind) {
            case VTX_INPUT_NMI: s2 = vtx_machine_raise_nmi(P->m); break;
            case VTX_INPUT_INTR_ASSERT: s2 = vtx_machine_set_intr(P->m, true, rec->input.vector); break;
            case VTX_INPUT_INTR_CLEAR: s2 = vtx_machine_set_intr(P->m, false, 0); break;
            case VTX_INPUT_INIT: s2 = vtx_machine_raise_init(P->m); break;
            default: s2 = vtx_machine_raise_sipi(P->m, rec->input.vector); break;
            }
        if (s2 != VTX_OK)
            *st = trace_fail(P->err, P->file, rec->line, VTX_ERR_STATE, "cannot apply the input: %s",
                             vtx_status_name(s2));
        return 0;
    }
    default: return 0;
    }
}

/* ENTER: run the guest, read the outcome record, compare. */
static int enter(replayer *P, const vtx_trace_record *rec, vtx_status *st)
{
    vtx_insn_result r;
    if (P->opt && P->opt->on_entry)
        P->opt->on_entry(P->opt->user, P->m, NULL);
    vtx_status s2 = rec->launched ? vtx_vmresume(P->m, &r) : vtx_vmlaunch(P->m, &r);
    if (P->opt && P->opt->on_entry)
        P->opt->on_entry(P->opt->user, P->m, &r);
    json_object *actual = trace_json_outcome(P->m, rec->index, s2, &r);
    vtx_trace_record out;
    vtx_status rs = vtx_trace_next(P->rd, &out, P->err);
    if (rs != VTX_OK) {
        json_object_put(actual);
        *st = rs;
        return 0;
    }
    if (P->opt && P->opt->on_record)
        P->opt->on_record(P->opt->user, &out);
    char diffs[8];
    int n = trace_json_compare(trace_reader_json(P->rd), actual, false, NULL, diffs, sizeof diffs);
    P->res->instructions = vtx_machine_instructions(P->m);
    P->res->cycles = vtx_machine_cycles(P->m);
    if (n) {
        diverge(P, &out, actual, NULL);
        json_object_put(actual);
        return 1;
    }
    json_object_put(actual);
    P->actions[0] = 0;
    P->res->exits++;
    if (P->opt && P->opt->progress)
        P->opt->progress(P->opt->user, P->res->exits, P->res->instructions);
    return 0;
}

vtx_status vtx_trace_replay(const char *path, const vtx_replay_options *opt, vtx_replay_result *res,
                            vtx_trace_error *err)
{
    vtx_trace_error edummy;
    if (!err)
        err = &edummy;
    if (!path || !res)
        return VTX_ERR_INVALID_ARG;
    memset(res, 0, sizeof *res);
    memset(err, 0, sizeof *err);
    replayer *P = calloc(1, sizeof *P);
    if (!P)
        return VTX_ERR_NO_MEMORY;
    P->opt = opt;
    P->res = res;
    P->err = err;
    P->file = path;
    vtx_status st = vtx_trace_reader_open(path, &P->rd, err);
    vtx_trace_record *rec = malloc(sizeof *rec);
    if (!rec)
        st = VTX_ERR_NO_MEMORY;
    while (st == VTX_OK) {
        vtx_status rs = vtx_trace_next(P->rd, rec, err);
        if (rs == VTX_ERR_NOT_FOUND)
            break;
        if (rs != VTX_OK) {
            st = rs;
            break;
        }
        if (opt && opt->on_record)
            opt->on_record(opt->user, rec);
        int stop = 0;
        switch (rec->type) {
        case VTX_TR_HEADER:
            if (rec->boot) /* its run is the kernel's: `vtxref replay` boots it (tools/boot_replay.c) */
                st = trace_fail(err, path, rec->line, VTX_ERR_UNSUPPORTED,
                                "a boot trace of %s: replay it with `vtxref replay`, which boots the kernel again",
                                rec->boot->kernel);
            break;
        case VTX_TR_MACHINE: st = setup_machine(P, rec); break;
        case VTX_TR_REGION: st = map_region(P, rec); break;
        case VTX_TR_PAGE: memcpy(host_of(P, rec->pa), rec->data, TRACE_PAGE); break;
        case VTX_TR_START: stop = start(P, rec, &st); break;
        case VTX_TR_VMWRITE:
        case VTX_TR_GPRS:
        case VTX_TR_MEMORY:
        case VTX_TR_INPUT:
            trace_note_action(P->actions, sizeof P->actions, rec);
            stop = action(P, rec, &st);
            break;
        case VTX_TR_ENTER:
            trace_note_action(P->actions, sizeof P->actions, rec);
            stop = enter(P, rec, &st);
            break;
        default: break;
        }
        if (stop)
            break;
    }
    if (P->m) {
        res->instructions = vtx_machine_instructions(P->m);
        res->cycles = vtx_machine_cycles(P->m);
    }
    free(rec);
    vtx_trace_reader_close(P->rd);
    vtx_machine_destroy(P->m);
    for (size_t i = 0; i < P->nregions; i++)
        free(P->host[i]);
    free(P->vmxon);
    free(P);
    return st;
}
