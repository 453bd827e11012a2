/* vtxref run SCENARIO [--json] [--vmm-check]: run one scenario file (docs/scenarios.md) and show
 * every exit, every reaction step and every expectation as it is checked; in
 * --json mode, JSON Lines (one object per exit, then a summary) and nothing else
 * on stdout. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include "vtxref/scenario.h"
#include "vtxref/vtxref.h"

#include "cli.h"

typedef struct run_out {
    bool json;
    cli_pictures pics; /* --vcd, --html (docs/traces.md) */
    json_object *cur; /* the exit object being filled (JSON mode) */
    json_object *end_checks;
    json_object *findings; /* --vmm-check in JSON mode: every finding, in the summary */
} run_out;

static json_object *event_json(uint32_t info, uint32_t error)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "valid", json_object_new_boolean(info >> 31));
    if (info >> 31) {
        json_object_object_add(o, "vector", json_object_new_int((int)(info & 0xFF)));
        json_object_object_add(o, "type", json_object_new_string(vtx_interruption_type_name(info >> 8)));
        json_object_object_add(o, "error_code_valid", json_object_new_boolean((info >> 11) & 1));
        if ((info >> 11) & 1)
            json_object_object_add(o, "error_code", json_object_new_int64(error));
        json_object_object_add(o, "nmi_unblocking", json_object_new_boolean((info >> 12) & 1));
    }
    return o;
}

static void flush_exit(run_out *o)
{
    if (o->cur) {
        puts(json_object_to_json_string_ext(o->cur, JSON_C_TO_STRING_PLAIN));
        json_object_put(o->cur);
        o->cur = NULL;
    }
}

static void on_exit_cb(void *user, const vtx_scenario_exit *x)
{
    run_out *o = user;
    if (!o->json) {
        char buf[4096];
        vtx_scenario_exit_format(x, "", buf, sizeof buf);
        printf("\n%s", buf);
        return;
    }
    flush_exit(o);
    json_object *j = json_object_new_object();
    const uint32_t basic = x->reason & 0xFFFF;
    const char *name = vtx_exit_reason_name(basic);
    static const char *const act[] = {"active", "hlt", "shutdown", "wait-for-sipi"};
    static const char *const blk[] = {"sti", "mov-ss", "smi", "nmi"};
    json_object_object_add(j, "type", json_object_new_string("exit"));
    json_object_object_add(j, "index", json_object_new_int64(x->index));
    json_object_object_add(j, "reason", json_object_new_int64(x->reason));
    json_object_object_add(j, "reason_name", json_object_new_string(name ? name : "?"));
    json_object_object_add(j, "entry_failure", json_object_new_boolean(x->reason >> 31));
    if (x->reason >> 31) {
        const char *cn = vtx_check_name(x->check);
        json_object_object_add(j, "check", json_object_new_string(cn ? cn : "?"));
    }
    json_object_object_add(j, "qualification", json_object_new_uint64(x->qualification));
    json_object_object_add(j, "guest_linear", json_object_new_uint64(x->guest_linear));
    json_object_object_add(j, "guest_physical", json_object_new_uint64(x->guest_physical));
    json_object_object_add(j, "intr_info", json_object_new_int64(x->intr_info));
    json_object_object_add(j, "intr_error", json_object_new_int64(x->intr_error));
    json_object_object_add(j, "intr_info_decoded", event_json(x->intr_info, x->intr_error));
    json_object_object_add(j, "idt_vectoring", json_object_new_int64(x->idt_vectoring));
    json_object_object_add(j, "idt_vectoring_error", json_object_new_int64(x->idt_vectoring_error));
    json_object_object_add(j, "idt_vectoring_decoded", event_json(x->idt_vectoring, x->idt_vectoring_error));
    json_object_object_add(j, "length", json_object_new_int64(x->length));
    json_object_object_add(j, "insn_info", json_object_new_int64(x->insn_info));
    json_object_object_add(j, "rip", json_object_new_uint64(x->rip));
    json_object_object_add(j, "rip_label", json_object_new_string(x->rip_label));
    json_object_object_add(j, "cs_base", json_object_new_uint64(x->cs_base));
    json_object_object_add(j, "rflags", json_object_new_uint64(x->rflags));
    json_object_object_add(j, "interruptibility", json_object_new_int64(x->interruptibility));
    json_object *names = json_object_new_array();
    for (int b = 0; b < 4; b++)
        if (x->interruptibility & (1u << b))
            json_object_array_add(names, json_object_new_string(blk[b]));
    json_object_object_add(j, "blocking", names);
    json_object_object_add(j, "activity", json_object_new_int64(x->activity));
    json_object_object_add(j, "activity_name", json_object_new_string(x->activity < 4 ? act[x->activity] : "?"));
    json_object_object_add(j, "pending_debug", json_object_new_uint64(x->pending_debug));
    json_object_object_add(j, "preemption_timer", json_object_new_uint64(x->preemption_timer));
    json_object_object_add(j, "instructions", json_object_new_uint64(x->instructions));
    json_object_object_add(j, "cycles", json_object_new_uint64(x->cycles));
    char text[4096];
    vtx_scenario_exit_format(x, "", text, sizeof text);
    json_object_object_add(j, "text", json_object_new_string(text));
    json_object_object_add(j, "checks", json_object_new_array());
    json_object_object_add(j, "actions", json_object_new_array());
    o->cur = j;
}

static void on_action_cb(void *user, uint32_t exit_index, const char *text)
{
    run_out *o = user;
    (void)exit_index;
    if (!o->json) {
        printf("  -> %s\n", text);
        return;
    }
    json_object *a;
    if (o->cur && json_object_object_get_ex(o->cur, "actions", &a))
        json_object_array_add(a, json_object_new_string(text));
}

static void on_check_cb(void *user, const vtx_scenario_check *c)
{
    run_out *o = user;
    if (!o->json) {
        if (c->ok && c->exit_index)
            printf("  ok exit %u %s = %s\n", c->exit_index, c->what, c->actual);
        else if (c->ok)
            printf("  ok end %s = %s\n", c->what, c->actual);
        else
            printf("  MISMATCH %s (line %d)\n", c->sentence, c->line);
        return;
    }
    json_object *j = json_object_new_object();
    json_object_object_add(j, "exit", json_object_new_int64(c->exit_index));
    json_object_object_add(j, "what", json_object_new_string(c->what));
    json_object_object_add(j, "ok", json_object_new_boolean(c->ok));
    json_object_object_add(j, "expected", json_object_new_string(c->expected));
    json_object_object_add(j, "actual", json_object_new_string(c->actual));
    json_object_object_add(j, "line", json_object_new_int(c->line));
    json_object_object_add(j, "sentence", json_object_new_string(c->sentence));
    json_object *arr;
    if (c->exit_index && o->cur && json_object_object_get_ex(o->cur, "checks", &arr))
        json_object_array_add(arr, j);
    else
        json_object_array_add(o->end_checks, j);
}

/* --vmm-check: each finding where it happens, in the checker's own format. */
static void on_finding_cb(void *user, const vtx_vmm_finding *f, bool expected)
{
    run_out *o = user;
    char line[768];
    vtx_vmm_finding_format(f, line, sizeof line);
    if (!o->json) {
        printf("  vmm-check: %s%s\n", line, expected ? " (expected)" : "");
        return;
    }
    json_object *j = json_object_new_object();
    json_object_object_add(j, "name", json_object_new_string(f->name));
    json_object_object_add(j, "severity", json_object_new_string(vtx_vmm_severity_name(f->severity)));
    json_object_object_add(j, "rules", json_object_new_string(f->rules));
    json_object_object_add(j, "exit", json_object_new_uint64(f->exit_index));
    json_object_object_add(j, "entry", json_object_new_uint64(f->entry_index));
    json_object_object_add(j, "expected", json_object_new_boolean(expected));
    json_object_object_add(j, "text", json_object_new_string(line));
    json_object_array_add(o->findings, j);
}

static void on_boundary_cb(void *user, const vtx_boundary_report *b)
{
    cli_pictures_boundary(&((run_out *)user)->pics, b);
}

static void on_entry_cb(void *user, vtx_machine *m, const vtx_scenario_setup *setup, const vtx_insn_result *r)
{
    (void)setup;
    cli_pictures_entry(&((run_out *)user)->pics, m, r);
}

static int load_status(vtx_status st)
{
    return st == VTX_ERR_IO ? EXIT_IO : st == VTX_ERR_UNSUPPORTED ? EXIT_TOOL : EXIT_INPUT;
}

int cmd_run(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false, vmm_check = false;
    const char *vcd = NULL, *html = NULL;
    for (int i = 0; i < argc; i++) {
        int pic = cli_picture_option(argc, argv, &i, &vcd, &html);
        if (pic < 0) {
            fprintf(stderr, "%s: run: --vcd and --html need a file\n", prog);
            return EXIT_USAGE;
        }
        if (pic)
            continue;
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--vmm-check") == 0)
            vmm_check = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "%s: run: unknown option '%s' (usage: %s run SCENARIO [--json] [--vmm-check])\n", prog, argv[i], prog);
            return EXIT_USAGE;
        } else if (path) {
            fprintf(stderr, "%s: run: one scenario at a time (usage: %s run SCENARIO [--json] [--vmm-check]; `check` runs many)\n",
                    prog, prog);
            return EXIT_USAGE;
        } else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: %s run SCENARIO [--json] [--vmm-check]\n", prog);
        return EXIT_USAGE;
    }
    vtx_scenario *s = NULL;
    vtx_scenario_error err;
    char msg[1024];
    vtx_status st = vtx_scenario_load_file(path, &s, &err);
    if (st != VTX_OK) {
        vtx_scenario_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        return load_status(st);
    }
    run_out o = {.json = json, .end_checks = json_object_new_array()};
    int prc = cli_pictures_open(&o.pics, vcd, html, vtx_scenario_name(s));
    if (prc != EXIT_OK) {
        json_object_put(o.end_checks);
        vtx_scenario_free(s);
        return prc;
    }
    vtx_scenario_callbacks cb = {.user = &o, .on_exit = on_exit_cb, .on_action = on_action_cb, .on_check = on_check_cb};
    if (vcd || html) {
        cb.observer = on_boundary_cb;
        cb.on_entry = on_entry_cb;
    }
    if (!json)
        printf("scenario %s (%s)\n", vtx_scenario_name(s), vtx_scenario_source(s));
    vtx_scenario_result res;
    vtx_scenario_run_options opts = {.vmm_check = vmm_check, .on_finding = on_finding_cb};
    if (vmm_check && json)
        o.findings = json_object_new_array();
    st = vtx_scenario_run_with(s, &cb, &opts, &res, &err);
    if (json)
        flush_exit(&o);
    int rc;
    if (st != VTX_OK) {
        vtx_scenario_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        rc = load_status(st);
    } else {
        static const char *const outcome[] = {"pass", "mismatch", "error"};
        rc = res.outcome == VTX_SCN_PASS ? EXIT_OK : res.outcome == VTX_SCN_MISMATCH ? EXIT_MISMATCH : EXIT_INPUT;
        if (json) {
            json_object *j = json_object_new_object();
            json_object_object_add(j, "type", json_object_new_string("summary"));
            json_object_object_add(j, "scenario", json_object_new_string(vtx_scenario_name(s)));
            json_object_object_add(j, "source", json_object_new_string(vtx_scenario_source(s)));
            json_object_object_add(j, "outcome", json_object_new_string(outcome[res.outcome]));
            json_object_object_add(j, "has_expectations", json_object_new_boolean(vtx_scenario_has_expectations(s)));
            json_object_object_add(j, "exits", json_object_new_int64(res.exits));
            json_object_object_add(j, "checks_passed", json_object_new_int64(res.checks_passed));
            json_object_object_add(j, "checks_failed", json_object_new_int64(res.checks_failed));
            json_object_object_add(j, "instructions", json_object_new_uint64(res.instructions));
            json_object_object_add(j, "cycles", json_object_new_uint64(res.cycles));
            json_object_object_add(j, "end", json_object_new_string(res.end));
            json_object_object_add(j, "first_mismatch", json_object_new_string(res.first_mismatch));
            json_object_object_add(j, "mismatch_line", json_object_new_int(res.mismatch_line));
            json_object_object_add(j, "end_checks", json_object_get(o.end_checks));
            if (o.findings) {
                json_object_object_add(j, "findings", json_object_get(o.findings));
                json_object_object_add(j, "findings_errors", json_object_new_int64(res.findings_errors));
                json_object_object_add(j, "findings_warnings", json_object_new_int64(res.findings_warnings));
            }
            puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
            json_object_put(j);
        } else {
            printf("\n%s\n", res.end);
            if (res.outcome == VTX_SCN_MISMATCH)
                printf("MISMATCH: %s (%s:%d)\n", res.first_mismatch, vtx_scenario_source(s), res.mismatch_line);
            else if (res.outcome == VTX_SCN_ERROR)
                printf("ERROR: the run could not be carried out\n");
            printf("%s: %u exit%s, %u expectation%s met, %u failed; %llu instructions, %llu cycles\n",
                   res.outcome == VTX_SCN_PASS ? "PASS" : res.outcome == VTX_SCN_MISMATCH ? "FAIL" : "ERROR", res.exits,
                   res.exits == 1 ? "" : "s", res.checks_passed, res.checks_passed == 1 ? "" : "s", res.checks_failed,
                   (unsigned long long)res.instructions, (unsigned long long)res.cycles);
            if (vmm_check)
                printf("vmm-check: %u error%s, %u warning%s\n", res.findings_errors,
                       res.findings_errors == 1 ? "" : "s", res.findings_warnings,
                       res.findings_warnings == 1 ? "" : "s");
        }
    }
    prc = cli_pictures_close(&o.pics, st == VTX_OK);
    json_object_put(o.end_checks);
    json_object_put(o.findings);
    vtx_scenario_free(s);
    return rc != EXIT_OK ? rc : prc;
}
