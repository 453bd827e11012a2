/*
 * vtxref explain SCENARIO [--from N|ADDR|LABEL] [--to N|ADDR|LABEL] [--vmm-check]: run a scenario
 * and say, at every instruction boundary, what the model decided and why
 * (docs/scenarios.md, "Commands"). Built on the runner's callbacks only:
 *  - on_start gives guest RAM, which tools/disasm.c decodes (Zydis, Intel syntax);
 *  - the observer (include/vtxref/observer.h) gives each boundary's verdicts with
 *    rule IDs; tools/explain_text.c turns them into sentences;
 *  - on_exit, on_action and on_check give the exits (decoded by
 *    vtx_scenario_exit_format), the VMM's reaction steps and the expectations.
 * Repeated boundaries (a loop, a halted guest) are collapsed by
 * tools/explain_collapse.c into one line with a count. --vmm-check runs the VMM
 * checker (docs/vmm-check.md) and prints each finding where it happens.
 *
 * Exit status: 0 the run ended and every expectation held, 1 an expectation
 * failed, 2 bad command line, 3 bad input, 4 I/O error, 5 nasm missing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "explain.h"
#include "vtxref/scenario.h"

static void usage_explain(FILE *out)
{
    fprintf(out,
            "usage: %s explain SCENARIO [--from N|ADDR|LABEL] [--to N|ADDR|LABEL] [--vmm-check]\n"
            "Run SCENARIO and explain every instruction boundary: the instruction, IF, blocking,\n"
            "activity, what is pending and what the model decided, with the rule that decided.\n"
            "--from/--to limit the boundaries shown: N is a count of guest instructions retired\n"
            "(decimal), ADDR a guest address (0x...), LABEL a label of the scenario's code\n"
            "(busy, busy+2). Repeated identical boundaries (loops, HLT) are shown once with a count.\n"
            "--vmm-check: run the VMM checker and show each finding where it happens; an error\n"
            "finding the scenario does not expect is a mismatch.\n"
            "exit status: 0 every expectation held, 1 one failed, 2 bad command line, 3 bad input,\n"
            "4 I/O error, 5 nasm missing.\n",
            prog);
}

/* --vmm-check: a finding, in the checker's own format, where it happens. */
static void on_finding(void *user, const vtx_vmm_finding *f, bool expected)
{
    (void)user;
    char line[768];
    vtx_vmm_finding_format(f, line, sizeof line);
    printf("    VMM CHECK: %s%s\n", line, expected ? " (expected by the scenario)" : "");
}

/* Turn a LABEL[+-N] position into the linear address of the label (the loader's
 * vtx_scenario_label_address), plus N. */
static int resolve_label(const vtx_scenario *s, const char *opt, explain_pos *p)
{
    if (p->kind != EXPLAIN_POS_LABEL)
        return 0;
    uint64_t lin;
    if (vtx_scenario_label_address(s, p->label, &lin, NULL)) {
        p->kind = EXPLAIN_POS_ADDR;
        p->value = lin + (uint64_t)p->offset;
        return 0;
    }
    fprintf(stderr, "%s: explain: %s: '%s' is not a label of the scenario's code\n", prog, opt, p->label);
    return -1;
}

static int status_of(vtx_status st)
{
    return st == VTX_ERR_IO ? EXIT_IO : st == VTX_ERR_UNSUPPORTED ? EXIT_TOOL : EXIT_INPUT;
}

int cmd_explain(int argc, char **argv)
{
    const char *path = NULL;
    explain_pos from = {0}, to = {0};
    bool vmm_check = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage_explain(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) {
            if (explain_parse_pos("explain", a, i + 1 < argc ? argv[i + 1] : NULL, a[2] == 'f' ? &from : &to) != 0)
                return EXIT_USAGE;
            i++;
        } else if (strncmp(a, "--from=", 7) == 0) {
            if (explain_parse_pos("explain", "--from", a + 7, &from) != 0)
                return EXIT_USAGE;
        } else if (strncmp(a, "--to=", 5) == 0) {
            if (explain_parse_pos("explain", "--to", a + 5, &to) != 0)
                return EXIT_USAGE;
        } else if (strcmp(a, "--vmm-check") == 0) {
            vmm_check = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: explain: unknown option '%s'\n", prog, a);
            usage_explain(stderr);
            return EXIT_USAGE;
        } else if (path) {
            fprintf(stderr, "%s: explain: one scenario at a time ('%s' and '%s')\n", prog, path, a);
            return EXIT_USAGE;
        } else {
            path = a;
        }
    }
    if (!path) {
        fprintf(stderr, "%s: explain: no scenario file given\n", prog);
        usage_explain(stderr);
        return EXIT_USAGE;
    }

    vtx_scenario *s = NULL;
    vtx_scenario_error err = {0};
    vtx_status st = vtx_scenario_load_file(path, &s, &err);
    if (st != VTX_OK) {
        char msg[1024];
        if (!err.file[0])
            snprintf(err.file, sizeof err.file, "%s", path);
        vtx_scenario_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s: %s\n", prog, msg);
        return status_of(st);
    }

    if (resolve_label(s, "--from", &from) != 0 || resolve_label(s, "--to", &to) != 0) {
        vtx_scenario_free(s);
        return EXIT_USAGE;
    }
    explainer *ex = explainer_new(s, stdout, &from, &to);
    if (!ex) {
        fprintf(stderr, "%s: explain: out of memory\n", prog);
        vtx_scenario_free(s);
        return EXIT_IO;
    }
    explainer_header(ex);
    vtx_scenario_callbacks cb;
    explainer_callbacks(ex, &cb);
    vtx_scenario_result res;
    memset(&res, 0, sizeof res);
    memset(&err, 0, sizeof err);
    vtx_scenario_run_options opts = {.vmm_check = vmm_check, .on_finding = on_finding};
    st = vtx_scenario_run_with(s, &cb, &opts, &res, &err);
    explainer_finish(ex);
    int status = EXIT_OK;
    if (st != VTX_OK) {
        char msg[1024];
        if (!err.file[0])
            snprintf(err.file, sizeof err.file, "%s", path);
        vtx_scenario_error_format(&err, msg, sizeof msg);
        fflush(stdout);
        fprintf(stderr, "%s: %s\n", prog, msg);
        status = status_of(st);
    } else {
        printf("\nThe run: %s. %u VM exit%s, %llu guest instruction%s, %llu cycles.\n", res.end, res.exits,
               res.exits == 1 ? "" : "s", (unsigned long long)res.instructions, res.instructions == 1 ? "" : "s",
               (unsigned long long)res.cycles);
        if (vmm_check)
            printf("The VMM checker: %u error%s, %u warning%s.\n", res.findings_errors,
                   res.findings_errors == 1 ? "" : "s", res.findings_warnings, res.findings_warnings == 1 ? "" : "s");
        if (res.outcome == VTX_SCN_PASS) {
            if (vtx_scenario_has_expectations(s))
                printf("Every expectation held (%u checked).\n", res.checks_passed);
        } else if (res.outcome == VTX_SCN_MISMATCH) {
            printf("MISMATCH: %s\n", res.first_mismatch);
            status = EXIT_MISMATCH;
        } else {
            printf("The run could not be carried out.\n");
            status = EXIT_MISMATCH;
        }
    }
    explainer_free(ex);
    vtx_scenario_free(s);
    return status;
}
