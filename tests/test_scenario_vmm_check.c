/*
 * The VMM checker where users run scenarios (vtx_scenario_run_with, `expect:
 * findings:`, docs/scenarios.md and docs/vmm-check.md).
 *
 *  - No false positive on the suite: every lesson (examples/lessons/ *.yaml) and
 *    every conformance scenario (tests/scenarios/ *.yaml) runs under the checker
 *    and draws no finding it does not declare; the only declared one
 *    (raise-nmi: its VMM stops at the NMI exit, LOST_NMI, VNMI-1) must be
 *    reported, so the suite test fails when the checker is not attached.
 *  - The scenarios of tests/scenarios/vmm-check reproduce INTR_WINDOW_STORM
 *    (IW-1, IW-6), HLT_RESUMED_AT_HLT (EXIT-7, HLT-3) and FORCED_INJECTION_IF
 *    (ENT-GS-1, INJ-5) from YAML: counted in the result, passed to on_finding
 *    as expected; without the checker (vtx_scenario_run) nothing is counted.
 *  - `expect: findings:` names are checked at load time (file:line:column).
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include "vtxref/scenario.h"

typedef struct seen {
    unsigned expected, unexpected;
    char first_unexpected[512];
} seen;

static void on_finding(void *user, const vtx_vmm_finding *f, bool expected)
{
    seen *s = user;
    if (expected) {
        s->expected++;
        return;
    }
    if (!s->unexpected++)
        vtx_vmm_finding_format(f, s->first_unexpected, sizeof s->first_unexpected);
}

static vtx_scenario *load(const char *path)
{
    vtx_scenario *s = NULL;
    vtx_scenario_error e;
    vtx_status st = vtx_scenario_load_file(path, &s, &e);
    cr_assert_eq(st, VTX_OK, "%s: %s", path, e.message);
    return s;
}

static void run_checked(const char *path, seen *sn, vtx_scenario_result *res)
{
    vtx_scenario *s = load(path);
    vtx_scenario_callbacks cb = {.user = sn};
    vtx_scenario_run_options opts = {.vmm_check = true, .on_finding = on_finding};
    vtx_scenario_error e;
    cr_assert_eq(vtx_scenario_run_with(s, &cb, &opts, res, &e), VTX_OK, "%s: %s", path, e.message);
    vtx_scenario_free(s);
}

/* Every lesson and conformance scenario: no finding it does not declare (the checker has no false positive). */
Test(scenario_vmm_check, suite_draws_no_undeclared_finding)
{
    static const char *const patterns[] = {"examples/lessons/*.yaml", "tests/scenarios/*.yaml"};
    unsigned files = 0, expected = 0;
    for (size_t p = 0; p < 2; p++) {
        char pat[1024];
        snprintf(pat, sizeof pat, "%s/%s", VTX_SOURCE_DIR, patterns[p]);
        glob_t g;
        cr_assert_eq(glob(pat, 0, NULL, &g), 0, "no file matches %s", pat);
        for (size_t i = 0; i < g.gl_pathc; i++) {
            seen sn = {0};
            vtx_scenario_result res;
            run_checked(g.gl_pathv[i], &sn, &res);
            cr_expect_eq(sn.unexpected, 0, "%s: finding: %s", g.gl_pathv[i], sn.first_unexpected);
            cr_expect_eq(res.outcome, VTX_SCN_PASS, "%s: %s %s", g.gl_pathv[i], res.first_mismatch, res.end);
            cr_expect_eq(res.findings_errors + res.findings_warnings, sn.expected, "%s", g.gl_pathv[i]);
            expected += sn.expected;
            files++;
        }
        globfree(&g);
    }
    cr_expect_geq(files, 24);
    /* raise-nmi declares LOST_NMI (VNMI-1): the checker really ran. */
    cr_expect_eq(expected, 1, "declared findings reported: %u", expected);
}

typedef struct {
    const char *file;
    const char *name;
    uint32_t errors, warnings;
} repro;

static const repro repros[] = {
    {"intr-window-storm.yaml", "INTR_WINDOW_STORM", 0, 1},     /* IW-1, IW-6 */
    {"hlt-resumed-at-hlt.yaml", "HLT_RESUMED_AT_HLT", 0, 1},   /* EXIT-7, HLT-3, HLT-4 */
    {"forced-injection-if.yaml", "FORCED_INJECTION_IF", 1, 0}, /* ENT-GS-1, INJ-5, BLK-STI-9 */
};

Test(scenario_vmm_check, yaml_reproductions_report_their_finding)
{
    for (size_t i = 0; i < sizeof repros / sizeof repros[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/scenarios/vmm-check/%s", VTX_SOURCE_DIR, repros[i].file);
        seen sn = {0};
        vtx_scenario_result res;
        run_checked(path, &sn, &res);
        cr_expect_eq(res.outcome, VTX_SCN_PASS, "%s: %s", repros[i].file, res.first_mismatch);
        cr_expect_eq(res.findings_errors, repros[i].errors, "%s", repros[i].file);
        cr_expect_eq(res.findings_warnings, repros[i].warnings, "%s", repros[i].file);
        cr_expect_eq(sn.expected, 1, "%s", repros[i].file);
        cr_expect_eq(sn.unexpected, 0, "%s: %s", repros[i].file, sn.first_unexpected);

        /* Without the checker: the same run, nothing counted, the expectation of findings not checked. */
        vtx_scenario *s = load(path);
        vtx_scenario_result plain;
        cr_assert_eq(vtx_scenario_run(s, NULL, &plain, NULL), VTX_OK);
        cr_expect_eq(plain.outcome, VTX_SCN_PASS, "%s: %s", repros[i].file, plain.first_mismatch);
        cr_expect_eq(plain.findings_errors + plain.findings_warnings, 0);
        cr_expect_eq(plain.exits, res.exits);
        cr_expect_eq(plain.instructions, res.instructions);
        cr_expect_eq(plain.cycles, res.cycles);
        vtx_scenario_free(s);
    }
}

static const char base[] = "guest:\n"
                           "  mode: long64\n"
                           "  code: |\n"
                           "    hlt\n"
                           "controls:\n"
                           "  proc: [hlt exiting]\n"
                           "expect:\n";

static void load_bad(const char *tail, int line, const char *words)
{
    char text[1024];
    snprintf(text, sizeof text, "%s%s", base, tail);
    vtx_scenario *s = NULL;
    vtx_scenario_error e;
    cr_assert_eq(vtx_scenario_load_text(text, strlen(text), "t.yaml", NULL, &s, &e), VTX_ERR_PARSE, "%s", tail);
    cr_expect_eq(e.line, line, "%s: line %d: %s", tail, e.line, e.message);
    cr_expect_not_null(strstr(e.message, words), "%s", e.message);
}

Test(scenario_vmm_check, expect_findings_names_are_checked)
{
    load_bad("  findings: [LOST_IDT_VECTORNG]\n", 8, "unknown VMM finding 'LOST_IDT_VECTORNG'");
    load_bad("  findings: [LOST_NMI, LOST_NMI]\n", 8, "listed twice");
    load_bad("  findings: LOST_NMI\n", 8, "expect.findings");
}

/* A finding the scenario expects and the run does not draw is a mismatch naming it; an unexpected error too. */
Test(scenario_vmm_check, mismatch_sentences_name_the_finding)
{
    char text[1024];
    snprintf(text, sizeof text, "%s  findings: [LOST_IDT_VECTORING]\n", base);
    vtx_scenario *s = NULL;
    vtx_scenario_error e;
    cr_assert_eq(vtx_scenario_load_text(text, strlen(text), "t.yaml", NULL, &s, &e), VTX_OK, "%s", e.message);
    vtx_scenario_run_options opts = {.vmm_check = true};
    vtx_scenario_result res;
    cr_assert_eq(vtx_scenario_run_with(s, NULL, &opts, &res, &e), VTX_OK);
    cr_expect_eq(res.outcome, VTX_SCN_MISMATCH);
    cr_expect_not_null(strstr(res.first_mismatch, "end of run: finding LOST_IDT_VECTORING expected"), "%s",
                       res.first_mismatch);
    cr_expect_eq(res.mismatch_line, 8);
    vtx_scenario_free(s);

    char path[1024];
    snprintf(path, sizeof path, "%s/tests/scenarios/vmm-check/forced-injection-if.yaml", VTX_SOURCE_DIR);
    char *src = NULL;
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t cap = 1 << 16;
    src = malloc(cap);
    size_t n = fread(src, 1, cap - 1, f);
    fclose(f);
    src[n] = 0;
    char *hit = strstr(src, "findings: [FORCED_INJECTION_IF]");
    cr_assert_not_null(hit);
    memcpy(hit, "findings: [                   ]", strlen("findings: [FORCED_INJECTION_IF]"));
    cr_assert_eq(vtx_scenario_load_text(src, n, "f.yaml", NULL, &s, &e), VTX_OK, "%s", e.message);
    cr_assert_eq(vtx_scenario_run_with(s, NULL, &opts, &res, &e), VTX_OK);
    cr_expect_eq(res.outcome, VTX_SCN_MISMATCH);
    cr_expect_not_null(strstr(res.first_mismatch, "exit 1 (EXTERNAL_INTERRUPT): unexpected VMM finding: error "
                                                  "FORCED_INJECTION_IF at exit 1"),
                       "%s", res.first_mismatch);
    cr_expect_not_null(strstr(res.first_mismatch, "entry 2"), "%s", res.first_mismatch);
    cr_expect_eq(res.findings_errors, 1);
    vtx_scenario_free(s);
    free(src);
}
