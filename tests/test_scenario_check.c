/*
 * `vtxref check` on the conformance scenarios (tests/scenarios) and the lessons
 * (examples/lessons), run as the built command (VTX_CLI_PATH).
 *
 * Mutation table: for each scenario, one expected value is changed in a copy (in
 * a temporary directory); `vtxref check` must then report FAIL at the right
 * exit and field and end with status 1. A check command that passed everything
 * would fail every row. The values changed are the SDM facts the scenarios
 * teach: IW-1/IW-4 (interrupt-window RIP), BLK-STI-6/BLK-STI-8 (saved STI
 * shadow), EXIT-3 (qualification), EXIT-4 (interruption information), EXIT-6
 * (instruction length), EXIT-7 (saved RIP), VNMI-1, NW-7, HLT-3, HLT-6, PT-3,
 * PT-5, MTF-4, ENT-GS-4, ENT-GS-9, INJ-CHK-2, INJ-7.
 *
 * Bad input: a missing file is status 4, a malformed scenario status 3 with
 * file:line:column; --junit writes well-formed, escaped XML, and nothing on a
 * bad command line; the output is the same with -j1 and -j4.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"


static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = 0;
    fclose(f);
    return b;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static char tmpdir[64];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vtx_scncheck_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
    if (tmpdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

TestSuite(scenario_check, .init = make_tmp, .fini = rm_tmp);

/* ---- the suites pass as committed ---- */

Test(scenario_check, lessons_pass)
{
    char *out;
    int st = vt_sh(&out, "'%s' check '%s/examples/lessons'", VTX_CLI_PATH, VTX_SOURCE_DIR);
    cr_expect_eq(st, 0, "status %d:\n%s", st, out);
    cr_expect_null(strstr(out, "FAIL"), "%s", out);
    cr_expect_not_null(strstr(out, " passed, 0 failed"), "%s", out);
    free(out);
}

Test(scenario_check, scenarios_pass)
{
    char *out;
    int st = vt_sh(&out, "'%s' check '%s/tests/scenarios'", VTX_CLI_PATH, VTX_SOURCE_DIR);
    cr_expect_eq(st, 0, "status %d:\n%s", st, out);
    cr_expect_not_null(strstr(out, " passed, 0 failed"), "%s", out);
    free(out);
}

/* ---- one expected value changed: FAIL at that exit and field ---- */

typedef struct {
    const char *file;  /* relative to the source tree */
    const char *from;  /* text that occurs exactly once */
    const char *to;    /* its replacement */
    const char *where; /* "exit N" (or "vmfail", "end") in the mismatch sentence */
    const char *field; /* the field named in it */
} mutation;

/* clang-format off */
static const mutation mutations[] = {
    /* the conformance scenarios */
    {"tests/scenarios/env-real.yaml",        "length: 2,",                      "length: 3,",                     "exit 1", "length"},        /* EXIT-6 */
    {"tests/scenarios/env-real.yaml",        "registers: {rcx: 0xbeef, rdx",    "registers: {rcx: 0xbeee, rdx",   "exit 2", "rcx"},
    {"tests/scenarios/env-real.yaml",        "u16: 0x1234}]}",                  "u16: 0x1235}]}",                 "exit 1", "memory"},
    {"tests/scenarios/env-pm16.yaml",        "rbx: 0x21}",                      "rbx: 0x22}",                     "exit 1", "rbx"},
    {"tests/scenarios/env-pm32.yaml",        "intr_info: 0x80000306",           "intr_info: 0x80000305",          "exit 1", "intr_info"},     /* EXIT-4 */
    {"tests/scenarios/env-pm32.yaml",        "u32: 6}",                         "u32: 5}",                        "exit 2", "memory"},
    {"tests/scenarios/env-pm32-paging.yaml", "qualification: 0x200000",         "qualification: 0x200001",        "exit 1", "qualification"}, /* EXIT-3 */
    {"tests/scenarios/env-long64-cpl3.yaml", "intr_error: 0}",                  "intr_error: 1}",                 "exit 2", "intr_error"},
    {"tests/scenarios/env-long64-cpl3.yaml", "rip: the_hlt",                    "rip: the_vmcall",                "exit 2", "rip"},           /* EXIT-7 */
    {"tests/scenarios/reactions-window.yaml", "intr_info: 0x80000040",          "intr_info: 0x80000041",          "exit 2", "intr_info"},
    {"tests/scenarios/reactions-window.yaml", "registers: {rbx: 0x40}",         "registers: {rbx: 0x41}",         "exit 4", "rbx"},
    {"tests/scenarios/entry-failure-sti-if0.yaml", "check: GUEST_INTR_STI_IF0", "check: GUEST_ACT_NOT_ACTIVE_SHADOW", "exit 1", "check"},  /* ENT-GS-9 */
    {"tests/scenarios/vmfail-inject-nmi-vector.yaml", "error: 7",               "error: 8",                       "end of run", "error expected 8"},         /* INJ-CHK-2 */
    {"tests/scenarios/end-state.yaml",       "instructions: 8",                 "instructions: 9",                "end",    "instructions"},
    {"tests/scenarios/end-state.yaml",       "u32: 0xfeed}",                    "u32: 0xfeee}",                   "end",    "memory"},
    {"tests/scenarios/raise-nmi.yaml",       "intr_info: 0x80000202",           "intr_info: 0x80000203",          "exit 2", "intr_info"},     /* VNMI-1 */
    /* the lessons */
    {"examples/lessons/01-iw-classic.yaml",  "rip: after_shadow,",              "rip: after_shadow+1,",           "exit 2", "rip"},           /* IW-1, IW-4 */
    {"examples/lessons/01-iw-classic.yaml",  "intr_info: 0x80000030,",          "intr_info: 0,",                  "exit 1", "intr_info"},
    {"examples/lessons/02-mov-ss-shadow.yaml", "interruptibility: 2}",          "interruptibility: 0}",           "exit 2", "interruptibility"}, /* BLK-STI-8 */
    {"examples/lessons/03-nmi-window.yaml",  "rip: start,",                     "rip: start+1,",                  "exit 2", "rip"},           /* NW-7 */
    {"examples/lessons/04-sti-hlt.yaml",     "interruptibility: 1, activity",   "interruptibility: 0, activity",  "exit 1", "interruptibility"}, /* BLK-STI-6 */
    {"examples/lessons/04-sti-hlt.yaml",     "activity: hlt}",                  "activity: active}",              "exit 2", "activity"},      /* HLT-3 */
    {"examples/lessons/05-entry-fails-shadow.yaml", "check: GUEST_ACT_NOT_ACTIVE_SHADOW", "check: GUEST_INTR_STI_IF0", "exit 2", "check"}, /* ENT-GS-4 */
    {"examples/lessons/06-inject-software.yaml", "rbx: 0x10001, rax",           "rbx: 0x10000, rax",              "exit 2", "rbx"},           /* INJ-7 */
    {"examples/lessons/07-preemption-timer.yaml", "activity: hlt,",             "activity: active,",              "exit 1", "activity"},      /* PT-4 */
    {"examples/lessons/08-mtf-single-step.yaml", "rip: after_hlt,",             "rip: the_hlt,",                  "exit 3", "rip"},           /* HLT-6 */
    {"examples/lessons/08-mtf-single-step.yaml", "interruptibility: 1,",        "interruptibility: 0,",           "exit 1", "interruptibility"}, /* MTF-4 */
    {"examples/lessons/09-iw-no-ack.yaml",   "registers: {rbx: 0xcafe}}",       "registers: {rbx: 0xcaff}}",      "exit 4", "rbx"},
    {"examples/lessons/09-iw-no-ack.yaml",   "intr_info: 0, interruptibility: 0}\n    - {reason: INTERRUPT_WINDOW",
                                             "intr_info: 0x80000030, interruptibility: 0}\n    - {reason: INTERRUPT_WINDOW",
                                                                                                                  "exit 2", "intr_info"},     /* EXIT-4 */
    {"examples/lessons/10-nmi-blocking.yaml", "registers: {rbx: 2, rcx: 0}",    "registers: {rbx: 3, rcx: 0}",    "exit 1", "rbx"},           /* BLK-NMI-1 */
    {"examples/lessons/11-vmfail-nmi-window.yaml", "check: CTL_NMI_WINDOW_WITHOUT_VNMI", "check: CTL_VNMI_WITHOUT_NMI_EXITING",
                                                                                                                  "end of run", "check"},     /* ENT-CTL-3 */
    {"examples/lessons/13-init-sipi.yaml",   "qualification: 0x9,",             "qualification: 0x8,",            "exit 2", "qualification"}, /* EXIT-3 */
    {"examples/lessons/13-init-sipi.yaml",   "activity: wait-for-sipi}",        "activity: active}",              "exit 2", "activity"},      /* HLT-8 */
    {"examples/lessons/14-iw-from-hlt.yaml", "interruptibility: 0, activity: hlt}", "interruptibility: 0, activity: active}",
                                                                                                                  "exit 1", "activity"},      /* IW-5, HLT-3 */
    {"examples/lessons/14-iw-from-hlt.yaml", "rbx: 0x10002}",                   "rbx: 0x10001}",                  "exit 2", "rbx"},           /* HLT-4 */
    {"examples/lessons/12-real-mode-iw.yaml", "rip: after_shadow,",             "rip: after_shadow+1,",           "exit 1", "rip"},           /* IW-1 */
    /* expect: findings (the VMM checker, on by default in `check`): an error finding no longer expected fails the
     * scenario at its exit, naming it; an expected finding that does not occur fails it at the end of the run. */
    {"tests/scenarios/vmm-check/forced-injection-if.yaml", "findings: [FORCED_INJECTION_IF]", "findings: []",
                                                                                                                  "exit 1", "FORCED_INJECTION_IF"}, /* ENT-GS-1, INJ-5 */
    {"tests/scenarios/vmm-check/lost-idt-vectoring.yaml", "findings: [LOST_IDT_VECTORING]", "findings: []",
                                                                                                                  "exit 1", "LOST_IDT_VECTORING at exit 1 (EXCEPTION_NMI, RIP 0x10000), entry 2"}, /* EXIT-5, INJ-18 */
    {"tests/scenarios/raise-nmi.yaml",       "findings: [LOST_NMI]",            "findings: []",                   "exit 2", "LOST_NMI"},      /* VNMI-1 */
    {"tests/scenarios/vmm-check/hlt-resumed-at-hlt.yaml", "findings: [HLT_RESUMED_AT_HLT]", "findings: [LOST_NMI]",
                                                                                                                  "end of run", "finding LOST_NMI expected"},
    {"tests/scenarios/vmm-check/intr-window-storm.yaml", "findings: [INTR_WINDOW_STORM]", "findings: [NMI_WINDOW_STORM]",
                                                                                                                  "end of run", "finding NMI_WINDOW_STORM expected"}, /* IW-6 */
};
/* clang-format on */

/* Write the mutated copy of m->file as @p dst. */
static void write_mutation(const mutation *m, const char *dst)
{
    char src[1024];
    snprintf(src, sizeof src, "%s/%s", VTX_SOURCE_DIR, m->file);
    char *text = slurp(src);
    cr_assert_not_null(text, "cannot read %s", src);
    char *hit = strstr(text, m->from);
    cr_assert_not_null(hit, "%s: '%s' not found", m->file, m->from);
    cr_assert_null(strstr(hit + 1, m->from), "%s: '%s' occurs more than once", m->file, m->from);
    size_t pre = (size_t)(hit - text);
    char *mut = malloc(strlen(text) + strlen(m->to) + 1);
    memcpy(mut, text, pre);
    strcpy(mut + pre, m->to);
    strcat(mut, hit + strlen(m->from));
    spit(dst, mut);
    free(mut);
    free(text);
}

/* The FAIL line (one line of @p out) must name m->where and m->field. */
static void expect_fail_line(const mutation *m, const char *line)
{
    cr_expect_eq(strncmp(line, "FAIL ", 5), 0, "%s ('%s' -> '%s'): not a FAIL line: %s", m->file, m->from, m->to, line);
    char want[64];
    snprintf(want, sizeof want, ": %s", m->where);
    cr_expect_not_null(strstr(line, want), "%s ('%s' -> '%s'): expected the mismatch at '%s': %s", m->file, m->from,
                       m->to, m->where, line);
    cr_expect_not_null(strstr(line, m->field), "%s ('%s' -> '%s'): expected '%s' in: %s", m->file, m->from, m->to,
                       m->field, line);
}

static void check_mutation(const mutation *m)
{
    char dst[1024];
    snprintf(dst, sizeof dst, "%s/%s", tmpdir, strrchr(m->file, '/') + 1);
    write_mutation(m, dst);
    char *out;
    int st = vt_sh(&out, "'%s' check '%s'", VTX_CLI_PATH, dst);
    cr_expect_eq(st, 1, "%s ('%s' -> '%s'): status %d\n%s", m->file, m->from, m->to, st, out);
    cr_expect_not_null(strstr(out, "0 passed, 1 failed"), "%s", out);
    char *eol = strchr(out, '\n');
    if (eol)
        *eol = 0;
    expect_fail_line(m, out);
    free(out);
    unlink(dst);
}

/* All mutants in one directory, one `vtxref check` run (in parallel): line i is mutant i's FAIL. */
Test(scenario_check, every_mutation_fails_at_its_exit_and_field)
{
    size_t n = sizeof mutations / sizeof mutations[0];
    for (size_t i = 0; i < n; i++) {
        char dst[1024];
        snprintf(dst, sizeof dst, "%s/m%02zu-%s", tmpdir, i, strrchr(mutations[i].file, '/') + 1);
        write_mutation(&mutations[i], dst);
    }
    char *out;
    int st = vt_sh(&out, "'%s' check -j 2 '%s'", VTX_CLI_PATH, tmpdir);
    cr_expect_eq(st, 1, "status %d\n%s", st, out);
    char summary[64];
    snprintf(summary, sizeof summary, "\n0 passed, %zu failed\n", n);
    cr_expect_not_null(strstr(out, summary), "%s", out);
    char *line = out;
    for (size_t i = 0; i < n && line && *line; i++) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = 0;
        expect_fail_line(&mutations[i], line);
        line = eol ? eol + 1 : NULL;
    }
    free(out);
}

/* A missing expected exit and an extra one are mismatches too. */
Test(scenario_check, missing_and_extra_exit)
{
    mutation drop = {"examples/lessons/01-iw-classic.yaml",
                     "    - {reason: HLT, rip: the_end, qualification: 0, length: 1, interruptibility: 0,\n"
                     "       registers: {rbx: 0xcafe, rax: 1}}\n",
                     "", "exit 3", "got one more"};
    check_mutation(&drop);
    mutation extra = {"tests/scenarios/env-pm16.yaml", "registers: {rax: 7, rbx: 0x21}, memory: [{at: 0x600, u16: 7}]}",
                      "registers: {rax: 7, rbx: 0x21}, memory: [{at: 0x600, u16: 7}]}\n    - {reason: HLT}",
                      "end of run", "exits expected 2 exits, got 1"};
    check_mutation(&extra);
}

/* ---- bad input, usage, JUnit, determinism ---- */

Test(scenario_check, missing_file_is_status_4)
{
    char *out;
    int st = vt_sh(&out, "'%s' check '%s/nope.yaml'", VTX_CLI_PATH, tmpdir);
    cr_expect_eq(st, 4, "status %d\n%s", st, out);
    cr_expect_not_null(strstr(out, "ERROR"), "%s", out);
    cr_expect_not_null(strstr(out, "nope.yaml"), "%s", out);
    free(out);
}

Test(scenario_check, malformed_scenario_is_status_3_with_position)
{
    char path[256];
    snprintf(path, sizeof path, "%s/bad.yaml", tmpdir);
    spit(path, "name: bad\nprofile: server\nguset:\n  mode: long64\n");
    char *out;
    int st = vt_sh(&out, "'%s' check '%s'", VTX_CLI_PATH, path);
    cr_expect_eq(st, 3, "status %d\n%s", st, out);
    cr_expect_not_null(strstr(out, "ERROR "), "%s", out);
    cr_expect_not_null(strstr(out, "bad.yaml:3:1:"), "want file:line:col in\n%s", out);
    free(out);
}

Test(scenario_check, bad_usage_is_status_2_and_writes_no_junit)
{
    char junit[256], *out;
    snprintf(junit, sizeof junit, "%s/out.xml", tmpdir);
    int st = vt_sh(&out, "'%s' check --junit '%s'", VTX_CLI_PATH, junit);
    cr_expect_eq(st, 2, "status %d\n%s", st, out);
    free(out);
    st = vt_sh(&out, "'%s' check -j 0 '%s/tests/scenarios' --junit '%s'", VTX_CLI_PATH, VTX_SOURCE_DIR, junit);
    cr_expect_eq(st, 2, "status %d\n%s", st, out);
    free(out);
    st = vt_sh(&out, "'%s' check --frobnicate '%s/tests/scenarios'", VTX_CLI_PATH, VTX_SOURCE_DIR);
    cr_expect_eq(st, 2, "status %d\n%s", st, out);
    free(out);
    cr_expect_neq(access(junit, F_OK), 0, "a JUnit file was written on a bad command line");
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

Test(scenario_check, junit_is_well_formed_and_escaped)
{
    char pass[256], fail[256], junit[256];
    snprintf(pass, sizeof pass, "%s/a.yaml", tmpdir);
    snprintf(fail, sizeof fail, "%s/b.yaml", tmpdir);
    snprintf(junit, sizeof junit, "%s/report.xml", tmpdir);
    char src[1024];
    snprintf(src, sizeof src, "%s/tests/scenarios/env-pm16.yaml", VTX_SOURCE_DIR);
    char *text = slurp(src);
    cr_assert_not_null(text);
    spit(pass, text);
    /* a name with XML specials, and a failing expectation */
    char *b = strdup(text);
    char *n = strstr(b, "name: env-pm16");
    cr_assert_not_null(n);
    char *mut = malloc(strlen(b) + 64);
    size_t pre = (size_t)(n - b);
    memcpy(mut, b, pre);
    strcpy(mut + pre, "name: \"a<b & 'c'\"");
    strcat(mut, n + strlen("name: env-pm16"));
    char *r = strstr(mut, "rbx: 0x21}");
    cr_assert_not_null(r);
    r[8] = '3'; /* rbx: 0x23 */
    spit(fail, mut);
    char *out;
    int st = vt_sh(&out, "'%s' check --junit '%s' '%s'", VTX_CLI_PATH, junit, tmpdir);
    cr_expect_eq(st, 1, "status %d\n%s", st, out);
    char *x = slurp(junit);
    cr_assert_not_null(x, "no JUnit file\n%s", out);
    cr_expect_eq(strncmp(x, "<?xml version=\"1.0\"", 19), 0);
    cr_expect_eq(count(x, "<testsuite "), 1);
    cr_expect_eq(count(x, "</testsuite>"), 1);
    cr_expect_eq(count(x, "<testcase "), 2, "%s", x);
    cr_expect_eq(count(x, "<failure "), 1, "%s", x);
    cr_expect_eq(count(x, "</failure>"), 1, "%s", x);
    cr_expect_not_null(strstr(x, "a&lt;b &amp; &apos;c&apos;"), "%s", x);
    cr_expect_null(strstr(x, "a<b"), "%s", x);
    cr_expect_not_null(strstr(x, "tests=\"2\" failures=\"1\""), "%s", x);
    /* no temporary file left next to it */
    free(out);
    st = vt_sh(&out, "ls '%s' | grep -c tmp || true", tmpdir);
    cr_expect_eq(atoi(out), 0, "%s", out);
    free(out);
    free(x);
    free(mut);
    free(b);
    free(text);
}

Test(scenario_check, same_output_for_any_number_of_jobs)
{
    char *one, *four;
    int s1 = vt_sh(&one, "'%s' check -j 1 '%s/tests/scenarios'", VTX_CLI_PATH, VTX_SOURCE_DIR);
    int s4 = vt_sh(&four, "'%s' check -j4 '%s/tests/scenarios'", VTX_CLI_PATH, VTX_SOURCE_DIR);
    cr_expect_eq(s1, s4);
    cr_expect_str_eq(one, four);
    /* piped: no progress line (no carriage return) */
    cr_expect_null(strchr(one, '\r'));
    free(one);
    free(four);
}

Test(scenario_check, skipped_without_expectations)
{
    char path[256], *out;
    snprintf(path, sizeof path, "%s/noexp.yaml", tmpdir);
    spit(path, "name: noexp\nguest:\n  mode: long64\n  code: |\n    hlt\ncontrols:\n  proc: [hlt exiting]\n");
    int st = vt_sh(&out, "'%s' check '%s'", VTX_CLI_PATH, tmpdir);
    cr_expect_eq(st, 0, "status %d\n%s", st, out);
    cr_expect_not_null(strstr(out, "SKIP noexp"), "%s", out);
    cr_expect_not_null(strstr(out, "0 passed, 0 failed, 1 skipped"), "%s", out);
    free(out);
}

/* docs/scenarios.md's example for each environment is a committed, tested file: the text must be the same. */
Test(scenario_check, docs_examples_are_the_committed_files)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/scenarios.md", VTX_SOURCE_DIR);
    char *doc = slurp(path);
    cr_assert_not_null(doc);
    static const char *const envs[] = {"env-real", "env-pm16", "env-pm32", "env-pm32-paging", "env-long64-cpl3"};
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        char head[128];
        snprintf(head, sizeof head, "`tests/scenarios/%s.yaml`:\n\n```yaml\n", envs[i]);
        char *at = strstr(doc, head);
        cr_expect_not_null(at, "docs/scenarios.md has no example %s", envs[i]);
        if (!at)
            continue;
        at += strlen(head);
        char *end = strstr(at, "```\n");
        cr_assert_not_null(end);
        snprintf(path, sizeof path, "%s/tests/scenarios/%s.yaml", VTX_SOURCE_DIR, envs[i]);
        char *file = slurp(path);
        cr_assert_not_null(file, "%s", path);
        cr_expect(strlen(file) == (size_t)(end - at) && strncmp(file, at, (size_t)(end - at)) == 0,
                  "the example %s in docs/scenarios.md differs from %s", envs[i], path);
        free(file);
    }
    free(doc);
}
