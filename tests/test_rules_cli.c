/* `vtxref rules` and the table behind it (scripts/rules-coverage.sh): a rule is
 * covered only by a VTX_COVERS declaration in a test body (tests/covers.h); a
 * mention in a comment, a string or a test name does not count, and a bad
 * declaration fails with file:line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"

typedef vt_run run;

/* Run argv[0] (a path) with stdout and stderr captured together. */
static run spawn_capture(const char *const *argv) { return vt_spawn(argv); }

/* ---- the generator, on a scratch catalogue and test directory ---- */

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void scratch(void)
{
    snprintf(dir, sizeof dir, "/tmp/vtx-rules-cli.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    write_file("rules.tsv", "IW-1\tB. Interrupt window\tfirst\n"
                            "IW-2\tB. Interrupt window\tsecond\n"
                            "IW-3\tB. Interrupt window\tthird\n"
                            "IW-4\tB. Interrupt window\tfourth\n");
}

static void scratch_cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Run the generator; the table (or NULL if it failed) and its output. */
static char *generate(run *r)
{
    char script[512], rules[128], out[128];
    snprintf(script, sizeof script, "%s/scripts/rules-coverage.sh", VTX_SOURCE_DIR);
    snprintf(rules, sizeof rules, "%s/rules.tsv", dir);
    snprintf(out, sizeof out, "%s/table.c", dir);
    const char *argv[] = {script, rules, dir, out, NULL};
    *r = spawn_capture(argv);
    FILE *f = fopen(out, "r");
    if (!f)
        return NULL;
    static char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The tests column of a rule's row in the generated table. */
static void expect_row(const char *table, const char *id, const char *tests)
{
    char want[256];
    snprintf(want, sizeof want, "{\"%s\", \"B. Interrupt window\", ", id);
    const char *row = strstr(table, want);
    cr_assert_not_null(row, "no row for %s in:\n%s", id, table);
    const char *end = strchr(row, '\n');
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(end - row), row);
    snprintf(want, sizeof want, "\"%s\"},", tests);
    cr_assert(strstr(line, want), "%s: expected the tests \"%s\", got: %s", id, tests, line);
}

TestSuite(rules_gen, .init = scratch, .fini = scratch_cleanup);

Test(rules_gen, only_declarations_in_a_test_body_count)
{
    write_file("test_fake.c",
               "/* File header: IW-1 is what this file is about. Not covered: IW-3. */\n"
               "#include \"covers.h\"\n"
               "static const char *s = \"VTX_COVERS(\\\"IW-4\\\")\";\n"
               "/* IW-1: the test below checks it. VTX_COVERS(\"IW-4\") in a comment. */\n"
               "Test(fake, iw_1_named_after_the_rule)\n"
               "{\n"
               "    /* IW-1 again */\n"
               "    cr_assert(1, \"IW-1: %s\", s); // VTX_COVERS(\"IW-4\")\n"
               "}\n"
               "\n"
               "Test(fake, declared, .init = nothing)\n"
               "{\n"
               "    if (1) {\n"
               "        VTX_COVERS(\"IW-2\",\n"
               "                   \"IW-3\");\n"
               "    }\n"
               "}\n");
    run r;
    const char *table = generate(&r);
    cr_assert_eq(r.status, 0, "the generator failed: %s", r.out);
    cr_assert_not_null(table);
    expect_row(table, "IW-1", "");
    expect_row(table, "IW-2", "test_fake.c:fake/declared");
    expect_row(table, "IW-3", "test_fake.c:fake/declared");
    expect_row(table, "IW-4", "");
    free(r.out);
}

static void expect_error(const char *source, const char *where, const char *what)
{
    write_file("test_bad.c", source);
    run r;
    const char *table = generate(&r);
    cr_assert_neq(r.status, 0, "the generator accepted a bad declaration:\n%s", source);
    cr_assert_null(table, "a failed run left a table behind");
    cr_assert(strstr(r.out, where) && strstr(r.out, what), "expected '%s' and '%s' in: %s", where, what, r.out);
    free(r.out);
}

Test(rules_gen, bad_declarations_fail_with_file_and_line)
{
    expect_error("Test(bad, t)\n{\n    VTX_COVERS(\"IW-9\");\n}\n", "test_bad.c:3:", "\"IW-9\" is not a rule ID");
    expect_error("static void helper(void)\n{\n    VTX_COVERS(\"IW-1\");\n}\n", "test_bad.c:3:",
                 "outside the body of a Test");
    expect_error("Test(bad, t)\n{\n    const char *id = \"IW-1\";\n    VTX_COVERS(id);\n}\n", "test_bad.c:4:",
                 "string literals only");
}

/* ---- the command, on this repository's table ---- */

static run cli(const char *a1, const char *a2)
{
    const char *argv[] = {VTX_CLI_PATH, a1, a2, NULL};
    return spawn_capture(argv);
}

Test(rules_cli, a_declared_rule_lists_its_tests)
{
    run r = cli("rules", "BLK-MSS-3");
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strncmp(r.out, "BLK-MSS-3    covered", 20) == 0, "got:\n%s", r.out);
    cr_assert(strstr(r.out, "test_vmentry_basic.c:entry_basic/ENT_BASIC_3_mov_ss_blocking_is_error_26_before_invalid"),
              "the declaring test is listed:\n%s", r.out);
    free(r.out);
}

Test(rules_cli, the_count_matches_the_uncovered_list)
{
    run all = cli("rules", NULL), unc = cli("rules", "--uncovered");
    cr_assert_eq(all.status, 0);
    cr_assert_eq(unc.status, 0);
    unsigned covered = 0, total = 0, listed = 0;
    const char *last = strstr(all.out, "rules covered: ");
    cr_assert_not_null(last, "%s", all.out);
    cr_assert_eq(sscanf(last, "rules covered: %u/%u", &covered, &total), 2);
    for (const char *p = unc.out; (p = strstr(p, " UNCOVERED ")); p++)
        listed++;
    cr_assert_eq(total - covered, listed, "%u/%u covered but %u listed as uncovered", covered, total, listed);
    free(all.out);
    free(unc.out);
}
