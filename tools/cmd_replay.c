/* vtxref replay TRACE [--profile P] [--knob CFG-X=on|off]... [--vcd F] [--html F] [--vmm-check]:
 * re-execute a trace on the model; exit 0 when every outcome matches, else show
 * the first divergence (both records, the members that differ, the last
 * boundaries with their verdicts) and exit 1. --vmm-check attaches the VMM
 * checker to the replay machine before its first entry (the trace's VMM actions
 * go through the public API, so it sees them), prints each finding where it
 * happens and makes an error finding exit 1 too.
 * vtxref diff A B: compare two traces record by record (tools/cmd_diff.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vtxref/vtxref.h"

#include "boot.h"
#include "cli.h"

typedef struct rp_ctx {
    cli_pictures pics; /* first: the observer's user pointer */
    vtx_vmm_checker *chk; /* --vmm-check */
} rp_ctx;

static void rp_entry(void *user, vtx_machine *m, const vtx_insn_result *r)
{
    rp_ctx *c = user;
    if (c->chk && !r && vtx_vmm_check_attached(m) != c->chk)
        vtx_vmm_check_attach(m, c->chk); /* before the first entry of the replay machine */
    cli_pictures_entry(&c->pics, m, r);
}

static void rp_finding(void *user, const vtx_vmm_finding *f)
{
    (void)user;
    char line[768];
    vtx_vmm_finding_format(f, line, sizeof line);
    printf("  vmm-check: %s\n", line);
}

static void rp_progress(void *user, uint64_t exits, uint64_t insns)
{
    (void)user;
    cli_progress("replay", exits, insns, false);
}

static int usage_error(const char *msg)
{
    fprintf(stderr,
            "%s: replay: %s (usage: %s replay TRACE [--profile P] [--knob CFG-X=on|off]... [--vcd FILE] "
            "[--html FILE] [--vmm-check] [--allow-changed] [--serial FILE] [--explain FILE])\n",
            prog, msg, prog);
    return EXIT_USAGE;
}

static void print_boundary(const vtx_boundary_report *b)
{
    static const char *const act[] = {"activity active", "HLT", "shutdown", "wait-for-SIPI"};
    static const char *const st[] = {"idle", "blocked", "beaten", "taken"};
    printf("  instruction %llu, cycle %llu, rip 0x%llx: IF=%llu", (unsigned long long)b->instructions,
           (unsigned long long)b->cycle, (unsigned long long)b->rip, (unsigned long long)((b->rflags >> 9) & 1));
    if (b->interruptibility & 1)
        printf(", blocking by STI");
    if (b->interruptibility & 2)
        printf(", blocking by MOV SS");
    if (b->interruptibility & 8)
        printf(", NMI blocking");
    if (b->activity)
        printf(", %s", act[b->activity & 3]);
    printf("%s -> %s%s%s\n", b->after_entry ? " (after VM entry)" : "", vtx_boundary_action_name(b->action),
           b->winner >= 0 ? ": " : "", b->winner >= 0 ? vtx_event_name((vtx_event)b->winner) : "");
    for (int e = 0; e < VTX_EV_COUNT; e++) {
        const vtx_event_verdict *v = &b->events[e];
        if (v->state == VTX_EVS_IDLE)
            continue;
        printf("      %-16s %s", vtx_event_name((vtx_event)e), st[v->state]);
        if (v->rule || v->why)
            printf(" (%s%s%s)", v->rule ? v->rule : "", v->rule && v->why ? ": " : "", v->why ? v->why : "");
        printf("\n");
    }
}

void replay_report_divergence(const char *path, const vtx_replay_result *res)
{
    printf("%s:%ld: the replayed run differs from the trace", path, res->line);
    if (res->index)
        printf(" at entry %llu", (unsigned long long)res->index);
    printf(" (after %llu matching outcome%s)\n", (unsigned long long)res->exits, res->exits == 1 ? "" : "s");
    if (res->actual[0])
        cli_side_by_side(res->expected, res->actual);
    cli_print_lines("differences:", res->differences);
    if (res->actions[0])
        cli_print_lines("what the trace applied since the last matching outcome (line: record):", res->actions);
    if (res->nhistory) {
        printf("the last instruction boundaries before it:\n");
        for (uint32_t i = 0; i < res->nhistory; i++)
            print_boundary(&res->history[i]);
    }
    printf("expected: %s\nactual:   %s\n", res->expected, res->actual[0] ? res->actual : "(none)");
}

static bool parse_knob(const char *arg, uint32_t *set, uint32_t *clear)
{
    const char *eq = strchr(arg, '=');
    if (!eq)
        return false;
    for (unsigned b = 0; b < VTX_KNOB_COUNT; b++) {
        const char *id = vtx_knob_id(b);
        if (strlen(id) != (size_t)(eq - arg) || strncasecmp(id, arg, (size_t)(eq - arg)) != 0)
            continue;
        if (strcmp(eq + 1, "on") == 0 || strcmp(eq + 1, "1") == 0)
            *set |= 1u << b, *clear &= ~(1u << b);
        else if (strcmp(eq + 1, "off") == 0 || strcmp(eq + 1, "0") == 0)
            *clear |= 1u << b, *set &= ~(1u << b);
        else
            return false;
        return true;
    }
    return false;
}

int cmd_replay(int argc, char **argv)
{
    const char *path = NULL, *vcd = NULL, *html = NULL, *profile_name = NULL;
    vtx_replay_options opt = {0};
    bool vmm_check = false, allow_changed = false;
    const char *serial = NULL, *explain = NULL;
    for (int i = 0; i < argc; i++) {
        int p = cli_picture_option(argc, argv, &i, &vcd, &html);
        if (p < 0)
            return usage_error("--vcd and --html need a file");
        if (p)
            continue;
        if (strcmp(argv[i], "--profile") == 0) {
            if (i + 1 >= argc)
                return usage_error("--profile needs a profile");
            profile_name = argv[++i];
        } else if (strcmp(argv[i], "--knob") == 0) {
            if (i + 1 >= argc || !parse_knob(argv[i + 1], &opt.knobs_set, &opt.knobs_clear)) {
                char m[400];
                snprintf(m, sizeof m, "--knob needs CFG-X=on|off with a knob of `vtxref profiles show`%s%.200s",
                         i + 1 < argc ? ", not " : "", i + 1 < argc ? argv[i + 1] : "");
                return usage_error(m);
            }
            i++;
        } else if (strcmp(argv[i], "--vmm-check") == 0) {
            vmm_check = true;
        } else if (strcmp(argv[i], "--allow-changed") == 0) {
            allow_changed = true; /* boot traces: replay a kernel whose SHA-256 differs */
        } else if (strcmp(argv[i], "--explain") == 0) {
            if (i + 1 >= argc)
                return usage_error("--explain needs a file (or -)");
            explain = argv[++i]; /* boot traces: the replayed run in sentences */
        } else if (strcmp(argv[i], "--serial") == 0) {
            if (i + 1 >= argc)
                return usage_error("--serial needs a file");
            serial = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            char m[300];
            snprintf(m, sizeof m, "unknown option '%.200s'", argv[i]);
            return usage_error(m);
        } else if (path) {
            return usage_error("one trace at a time");
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return usage_error("no trace");
    vtx_profile prof;
    if (profile_name) {
        vtx_diag d = {0};
        if (vtx_profile_resolve(profile_name, &prof, &d) != VTX_OK) {
            fprintf(stderr, "%s: replay: %s\n", prog, d.message);
            return EXIT_INPUT;
        }
        opt.profile = &prof;
    }
    /* A boot trace re-boots its kernel (tools/boot_replay.c). */
    vtx_trace_boot boot;
    vtx_profile recorded;
    int kind = boot_trace_head(path, &boot, &recorded);
    if (kind < 0)
        return EXIT_IO;
    if (kind > 0) {
        boot_replay_opts bo = {.vcd = vcd, .html = html, .profile = opt.profile, .knobs_set = opt.knobs_set,
                               .knobs_clear = opt.knobs_clear, .vmm_check = vmm_check,
                               .allow_changed = allow_changed, .serial = serial, .explain = explain};
        return boot_replay(path, &boot, &recorded, &bo);
    }
    if (allow_changed || serial || explain)
        return usage_error("--allow-changed, --serial and --explain are for boot traces (vtxref boot --record; "
                           "vtxref explain SCENARIO explains a scenario)");
    rp_ctx c = {0};
    if (vmm_check) {
        vtx_vmm_check_config cc;
        vtx_vmm_check_config_init(&cc);
        cc.on_finding = rp_finding;
        if (vtx_vmm_check_create(&cc, &c.chk) != VTX_OK)
            return EXIT_IO;
    }
    int rc = cli_pictures_open(&c.pics, vcd, html, path);
    if (rc != EXIT_OK) {
        vtx_vmm_check_destroy(c.chk);
        return rc;
    }
    opt.user = &c;
    opt.on_entry = rp_entry;
    opt.observer = (c.pics.vcd || c.pics.html) ? cli_pictures_boundary : NULL;
    opt.progress = rp_progress;
    vtx_replay_result *res = malloc(sizeof *res);
    if (!res) {
        vtx_vmm_check_destroy(c.chk);
        return EXIT_IO;
    }
    vtx_trace_error err;
    vtx_status st = vtx_trace_replay(path, &opt, res, &err);
    cli_progress("replay", res->exits, res->instructions, true);
    vtx_vmm_check_report rep = {0};
    if (c.chk) {
        /* The replay machine is gone (it detached the checker): report what is still owed. */
        vtx_vmm_check_finalize(c.chk, &rep);
        vtx_vmm_check_destroy(c.chk);
        if (st == VTX_OK)
            printf("vmm-check: %u error%s, %u warning%s\n", rep.errors, rep.errors == 1 ? "" : "s", rep.warnings,
                   rep.warnings == 1 ? "" : "s");
    }
    if (st != VTX_OK) {
        char msg[900];
        vtx_trace_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s: replay: %s\n", prog, msg);
        cli_pictures_close(&c.pics, false);
        free(res);
        return cli_trace_status(st);
    }
    rc = cli_pictures_close(&c.pics, true);
    if (!res->diverged) {
        printf("replay %s: every outcome matches (%llu, %llu instructions, %llu cycles)\n", path,
               (unsigned long long)res->exits, (unsigned long long)res->instructions,
               (unsigned long long)res->cycles);
        free(res);
        return rc != EXIT_OK ? rc : rep.errors ? EXIT_MISMATCH : EXIT_OK;
    }
    replay_report_divergence(path, res);
    free(res);
    return EXIT_MISMATCH;
}

