/*
 * `vtxref explain` (tools/cmd_explain.c), run as the built command: what a
 * student reads must name the rules that decided (IW-1, BLK-STI-2, BLK-STI-3,
 * IW-9), where a shadow came from, every exit decoded, every reaction step; long
 * loops collapse to a line with a count; --from/--to limit the boundaries shown.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"


static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

#define LESSON1 VTX_SOURCE_DIR "/examples/lessons/01-iw-classic.yaml"

Test(explain, lesson1_in_sentences)
{
    char *out;
    int st = vt_sh(&out, "'%s' explain '%s'", VTX_CLI_PATH, LESSON1);
    cr_assert_eq(st, 0, "status %d\n%s", st, out);
    /* the description first */
    cr_expect_not_null(strstr(out, "Lesson 1: the interrupt window"), "%s", out);
    cr_expect_lt(strstr(out, "Lesson 1") - out, 200);
    /* disassembly (Zydis, Intel syntax) and labels */
    cr_expect_not_null(strstr(out, "dec ecx"), "%s", out);
    cr_expect_not_null(strstr(out, "(after_shadow)"), "%s", out);
    /* IW-1: shut while IF = 0 */
    cr_expect_not_null(strstr(out, "window shut: RFLAGS.IF = 0"), "%s", out);
    /* BLK-STI-2/3: the shadow, where it came from and when it ends */
    cr_expect_not_null(strstr(out, "blocking by STI (BLK-STI-3), set by the `sti` at 0x1000a"), "%s", out);
    cr_expect_not_null(strstr(out, "it ends after this instruction (BLK-STI-2)"), "%s", out);
    /* the exits decoded, the reaction steps */
    cr_expect_not_null(strstr(out, "VM exit 1"), "%s", out);
    cr_expect_not_null(strstr(out, "VM exit 2"), "%s", out);
    cr_expect_not_null(strstr(out, "VM exit 3"), "%s", out);
    cr_expect_not_null(strstr(out, "interrupt-window exiting"), "%s", out);
    cr_expect_not_null(strstr(out, "the VMM (after exit 2)"), "%s", out);
    /* IW-1: the window opens after the shadowed instruction; the exit wins */
    cr_expect_not_null(strstr(out, "(IW-1)"), "%s", out);
    /* the busy loop is collapsed */
    cr_expect_not_null(strstr(out, "the loop busy..busy+0x3 ran"), "%s", out);
    cr_expect_not_null(strstr(out, "Every expectation held"), "%s", out);
    free(out);
}

Test(explain, a_million_iterations_stay_short)
{
    char dir[] = "/tmp/vtx_explain_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/loop.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("name: loop\nguest:\n  mode: long64\n  code: |\n    start:\n        mov ecx, 1000000\n    busy:\n"
          "        dec ecx\n        nop\n        jnz busy\n        hlt\ncontrols:\n  proc: [hlt exiting]\n",
          f);
    fclose(f);
    char *out;
    int st = vt_sh(&out, "'%s' explain '%s'", VTX_CLI_PATH, path);
    cr_expect_eq(st, 0, "status %d\n%s", st, out);
    cr_expect_lt(lines(out), 60, "%zu lines:\n%.4000s", lines(out), out);
    cr_expect_not_null(strstr(out, "the loop busy..busy+0x4 ran 999 999 more times with the same verdicts"), "%s",
                       out);
    free(out);
    unlink(path);
    rmdir(dir);
}

Test(explain, from_and_to)
{
    char *all, *part;
    vt_sh(&all, "'%s' explain '%s'", VTX_CLI_PATH, LESSON1);
    int st = vt_sh(&part, "'%s' explain '%s' --from after_shadow-1 --to after_shadow", VTX_CLI_PATH, LESSON1);
    cr_expect_eq(st, 0, "status %d\n%s", st, part);
    cr_expect_lt(lines(part), lines(all));
    cr_expect_null(strstr(part, "dec ecx"), "%s", part);
    cr_expect_not_null(strstr(part, "nop"), "%s", part);
    cr_expect_not_null(strstr(part, "--to reached"), "%s", part);
    free(part);
    st = vt_sh(&part, "'%s' explain '%s' --from 0x1000a --to 3", VTX_CLI_PATH, LESSON1);
    cr_expect_eq(st, 0, "status %d\n%s", st, part);
    free(part);
    free(all);
}

Test(explain, bad_usage_and_input)
{
    char *out;
    cr_expect_eq(vt_sh(&out, "'%s' explain", VTX_CLI_PATH), 2, "%s", out);
    free(out);
    cr_expect_eq(vt_sh(&out, "'%s' explain '%s' --from", VTX_CLI_PATH, LESSON1), 2, "%s", out);
    free(out);
    cr_expect_eq(vt_sh(&out, "'%s' explain '%s' --to 'x y'", VTX_CLI_PATH, LESSON1), 2, "%s", out);
    free(out);
    cr_expect_eq(vt_sh(&out, "'%s' explain /nonexistent/x.yaml", VTX_CLI_PATH), 4, "%s", out);
    free(out);
}

/* A failed expectation is shown where it happens and makes the status 1 (IW-1: the window opens at after_shadow). */
Test(explain, mismatch_is_shown_and_status_1)
{
    char dir[] = "/tmp/vtx_explain_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *out;
    int st = vt_sh(&out, "sed 's/rip: after_shadow,/rip: after_shadow+1,/' '%s' > '%s/m.yaml' && '%s' explain '%s/m.yaml'",
                 LESSON1, dir, VTX_CLI_PATH, dir);
    cr_expect_eq(st, 1, "status %d\n%s", st, out);
    cr_expect_not_null(strstr(out, "MISMATCH: exit 2 (INTERRUPT_WINDOW): rip expected 0x1000d"), "%s", out);
    free(out);
    char path[128];
    snprintf(path, sizeof path, "%s/m.yaml", dir);
    unlink(path);
    rmdir(dir);
}

/* An instruction exit is said to be the instruction's own doing (EXIT-7: saved RIP = that instruction). */
Test(explain, instruction_exit_is_named)
{
    char *out;
    int st = vt_sh(&out, "'%s' explain '%s/examples/lessons/02-mov-ss-shadow.yaml'", VTX_CLI_PATH, VTX_SOURCE_DIR);
    cr_expect_eq(st, 0, "status %d\n%s", st, out);
    cr_expect_not_null(strstr(out, "the instruction at 0x10009 (the_cpuid) causes this exit itself"), "%s", out);
    cr_expect_not_null(strstr(out, "set by the `pop ss` at 0x10002"), "%s", out);
    free(out);
}
