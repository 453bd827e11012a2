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
 *    (IW-1, IW-6), HLT_RESUMED_AT_HLT (EXIT-7, HLT-3), FORCED_INJECTION_IF
 *    (ENT-GS-1, INJ-5) and LOST_IDT_VECTORING (EXIT-5, INJ-18) from YAML: counted in the result, passed to on_finding
 *    as expected; without the checker (vtx_scenario_run) nothing is counted.
 *  - `expect: findings:` names are checked at load time (file:line:column).
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vtxref/scenario.h"
#include "helpers.h"

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
    {"lost-idt-vectoring.yaml", "LOST_IDT_VECTORING", 1, 0},   /* EXIT-5, INJ-18 */
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

/* ---- the commands: run/explain --vmm-check, check (on by default, --no-vmm-check) ---- */


#define FORCED VTX_SOURCE_DIR "/tests/scenarios/vmm-check/forced-injection-if.yaml"

static char tmp[64];

static void mk_tmp(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/vtx_vmmcli_XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
}

/* tmp/forced.yaml: forced-injection-if.yaml without its expectation of the finding. */
static void write_unexpected(void)
{
    char *out;
    int st = vt_sh(&out, "sed 's/findings: \\[FORCED_INJECTION_IF\\]/findings: []/' '%s' > '%s/forced.yaml'", FORCED, tmp);
    cr_assert_eq(st, 0, "%s", out);
    free(out);
}

Test(scenario_vmm_check, run_prints_each_finding_where_it_happens)
{
    char *out;
    int st = vt_sh(&out, "'%s' run --vmm-check '%s'", VTX_CLI_PATH, FORCED);
    cr_expect_eq(st, 0, "%s", out);
    const char *f = strstr(out, "  vmm-check: error FORCED_INJECTION_IF at exit 1 (EXTERNAL_INTERRUPT, RIP 0x10008), "
                                "entry 2 (RIP 0x10008) [ENT-GS-1, INJ-5, BLK-STI-9]: ");
    cr_expect_not_null(f, "%s", out);
    /* Where it happens: after the reaction to exit 1, before exit 2. */
    const char *resume = strstr(out, "  -> resume"), *exit2 = strstr(out, "exit 2: HLT");
    cr_expect(f && resume && exit2 && resume < f && f < exit2, "%s", out);
    cr_expect_not_null(strstr(out, "(expected)\n"), "%s", out);
    cr_expect_not_null(strstr(out, "\nvmm-check: 1 error, 0 warnings\n"), "%s", out);
    free(out);

    st = vt_sh(&out, "'%s' run '%s'", VTX_CLI_PATH, FORCED);
    cr_expect_eq(st, 0, "%s", out);
    cr_expect_null(strstr(out, "FORCED_INJECTION_IF at"), "without --vmm-check: %s", out);
    cr_expect_null(strstr(out, "\nvmm-check: "), "without --vmm-check: %s", out);
    free(out);

    st = vt_sh(&out, "'%s' run --vmm-check --json '%s' | tail -1", VTX_CLI_PATH, FORCED);
    cr_expect_not_null(strstr(out, "\"findings\":[{\"name\":\"FORCED_INJECTION_IF\",\"severity\":\"error\","
                                   "\"rules\":\"ENT-GS-1, INJ-5, BLK-STI-9\",\"exit\":1,\"entry\":2,\"expected\":true"),
                       "%s", out);
    cr_expect_not_null(strstr(out, "\"findings_errors\":1,\"findings_warnings\":0"), "%s", out);
    free(out);

    /* A lesson: the checker runs and finds nothing. */
    st = vt_sh(&out, "'%s' run --vmm-check '%s/examples/lessons/01-iw-classic.yaml'", VTX_CLI_PATH, VTX_SOURCE_DIR);
    cr_expect_eq(st, 0, "%s", out);
    cr_expect_not_null(strstr(out, "\nvmm-check: 0 errors, 0 warnings\n"), "%s", out);
    free(out);
}

Test(scenario_vmm_check, an_unexpected_error_finding_fails_run_explain_and_check, .init = mk_tmp, .fini = rm_tmp)
{
    write_unexpected();
    char *out;
    int st = vt_sh(&out, "'%s' run --vmm-check '%s/forced.yaml'", VTX_CLI_PATH, tmp);
    cr_expect_eq(st, 1, "%s", out);
    cr_expect_not_null(strstr(out, "MISMATCH: exit 1 (EXTERNAL_INTERRUPT): unexpected VMM finding: error "
                                   "FORCED_INJECTION_IF at exit 1"), "%s", out);
    free(out);
    st = vt_sh(&out, "'%s' run '%s/forced.yaml'", VTX_CLI_PATH, tmp);
    cr_expect_eq(st, 0, "run without --vmm-check: %s", out);
    free(out);

    st = vt_sh(&out, "'%s' explain --vmm-check '%s/forced.yaml'", VTX_CLI_PATH, tmp);
    cr_expect_eq(st, 1, "%s", out);
    cr_expect_not_null(strstr(out, "    VMM CHECK: error FORCED_INJECTION_IF at exit 1"), "%s", out);
    cr_expect_not_null(strstr(out, "The VMM checker: 1 error, 0 warnings."), "%s", out);
    free(out);
    st = vt_sh(&out, "'%s' explain '%s/forced.yaml'", VTX_CLI_PATH, tmp);
    cr_expect_eq(st, 0, "explain without --vmm-check: %s", out);
    cr_expect_null(strstr(out, "VMM CHECK"), "%s", out);
    free(out);

    st = vt_sh(&out, "'%s' check '%s/forced.yaml'", VTX_CLI_PATH, tmp);
    cr_expect_eq(st, 1, "check (the checker on by default): %s", out);
    cr_expect_not_null(strstr(out, "FAIL vmm-check-forced-injection-if: exit 1 (EXTERNAL_INTERRUPT): unexpected VMM "
                                   "finding: error FORCED_INJECTION_IF at exit 1"), "%s", out);
    cr_expect_not_null(strstr(out, "0 passed, 1 failed"), "%s", out);
    free(out);
    st = vt_sh(&out, "'%s' check --no-vmm-check '%s/forced.yaml'", VTX_CLI_PATH, tmp);
    cr_expect_eq(st, 0, "check --no-vmm-check: %s", out);
    cr_expect_not_null(strstr(out, "PASS vmm-check-forced-injection-if"), "%s", out);
    free(out);
}

Test(scenario_vmm_check, explain_prints_expected_findings)
{
    char *out;
    int st = vt_sh(&out, "'%s' explain --vmm-check '%s/tests/scenarios/vmm-check/hlt-resumed-at-hlt.yaml'", VTX_CLI_PATH,
                VTX_SOURCE_DIR);
    cr_expect_eq(st, 0, "%s", out);
    cr_expect_not_null(strstr(out, "    VMM CHECK: warning HLT_RESUMED_AT_HLT at exit 1 (HLT, RIP 0x10005), entry 2 "
                                   "(RIP 0x10005) [EXIT-7, HLT-3, HLT-4]: "), "%s", out);
    cr_expect_not_null(strstr(out, "(expected by the scenario)"), "%s", out);
    cr_expect_not_null(strstr(out, "The VMM checker: 0 errors, 1 warning."), "%s", out);
    free(out);
}

/* replay --vmm-check: the checker on the replay machine sees the trace's VMWRITEs (the forced IF). */
Test(scenario_vmm_check, replay_reports_the_findings_of_the_trace, .init = mk_tmp, .fini = rm_tmp)
{
    char *out;
    int st = vt_sh(&out, "'%s' record '%s' -o '%s/f.trace' && '%s' record '%s/examples/lessons/01-iw-classic.yaml' -o "
                "'%s/l.trace'", VTX_CLI_PATH, FORCED, tmp, VTX_CLI_PATH, VTX_SOURCE_DIR, tmp);
    cr_assert_eq(st, 0, "%s", out);
    free(out);
    st = vt_sh(&out, "'%s' replay --vmm-check '%s/f.trace'", VTX_CLI_PATH, tmp);
    cr_expect_eq(st, 1, "an error finding: status 1\n%s", out);
    cr_expect_not_null(strstr(out, "  vmm-check: error FORCED_INJECTION_IF at exit 1 (EXTERNAL_INTERRUPT, RIP 0x10008), "
                                   "entry 2 (RIP 0x10008) [ENT-GS-1, INJ-5, BLK-STI-9]: "), "%s", out);
    cr_expect_not_null(strstr(out, "vmm-check: 1 error, 0 warnings\n"), "%s", out);
    cr_expect_not_null(strstr(out, "every outcome matches"), "%s", out);
    free(out);
    st = vt_sh(&out, "'%s' replay '%s/f.trace'", VTX_CLI_PATH, tmp);
    cr_expect_eq(st, 0, "without --vmm-check\n%s", out);
    free(out);
    st = vt_sh(&out, "'%s' replay --vmm-check '%s/l.trace'", VTX_CLI_PATH, tmp);
    cr_expect_eq(st, 0, "%s", out);
    cr_expect_not_null(strstr(out, "vmm-check: 0 errors, 0 warnings\n"), "%s", out);
    free(out);
}
