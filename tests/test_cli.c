/* The `vtxref` command: exit statuses (0 ok, 2 usage, 3 bad input, 4 I/O) and
 * what it prints. Runs the built binary (VTX_CLI_PATH) with stderr merged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"

typedef vt_run run;

/* Run VTX_CLI_PATH with args (NULL-terminated), capturing stdout+stderr. */
static run cli_argv(const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = VTX_CLI_PATH;
    for (; *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    return vt_spawn(argv);
}
#define CLI(...) cli_argv((const char *const[]){__VA_ARGS__, NULL})

static void expect_status(const char *cmd, const run *r, int status)
{
    cr_assert_eq(r->status, status, "`vtxref %s`: expected exit status %d, got %d; output:\n%s", cmd, status,
                 r->status, r->out);
}

static void expect_out(const char *cmd, const run *r, const char *sub)
{
    cr_assert(strstr(r->out, sub), "`vtxref %s`: the output should contain \"%s\"; it is:\n%s", cmd, sub, r->out);
}

/* The output line that contains @key, copied into @line. */
static bool line_with(const run *r, const char *key, char *line, size_t size)
{
    const char *at = strstr(r->out, key);
    if (!at)
        return false;
    const char *start = at;
    while (start > r->out && start[-1] != '\n')
        start--;
    const char *end = strchr(at, '\n');
    size_t n = end ? (size_t)(end - start) : strlen(start);
    if (n >= size)
        n = size - 1;
    memcpy(line, start, n);
    line[n] = '\0';
    return true;
}

static char tmpdir[64];
static void mk_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vtx-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
}
static char made[4][128];
static size_t n_made;
static void rm_tmpdir(void)
{
    for (size_t i = 0; i < n_made; i++)
        unlink(made[i]);
    rmdir(tmpdir);
}
static const char *write_tmp(const char *name, const char *data, size_t len)
{
    cr_assert_lt(n_made, 4u);
    char *path = made[n_made++];
    snprintf(path, sizeof made[0], "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* ---- general ---- */

Test(cli, help_exits_0_with_usage)
{
    run r = CLI("--help");
    expect_status("--help", &r, 0);
    expect_out("--help", &r, "usage:");
    expect_out("--help", &r, "profiles");
    free(r.out);
    r = CLI("-h");
    expect_status("-h", &r, 0);
    expect_out("-h", &r, "usage:");
    free(r.out);
}

Test(cli, version_exits_0_and_prints_the_version)
{
    run r = CLI("--version");
    expect_status("--version", &r, 0);
    expect_out("--version", &r, "vtxref " VTX_VERSION_STRING);
    free(r.out);
    r = CLI("-V");
    expect_status("-V", &r, 0);
    expect_out("-V", &r, VTX_VERSION_STRING);
    free(r.out);
}

Test(cli, no_arguments_is_a_usage_error)
{
    run r = cli_argv((const char *const[]){NULL});
    expect_status("", &r, 2);
    expect_out("", &r, "usage:");
    free(r.out);
}

Test(cli, unknown_command_is_a_usage_error)
{
    run r = CLI("frobnicate");
    expect_status("frobnicate", &r, 2);
    expect_out("frobnicate", &r, "unknown command 'frobnicate'");
    free(r.out);
    r = CLI("profiles", "explode", "server");
    expect_status("profiles explode server", &r, 2);
    expect_out("profiles explode server", &r, "unknown subcommand 'explode'");
    free(r.out);
    r = CLI("errors", "extra");
    expect_status("errors extra", &r, 2);
    free(r.out);
}

/* ---- profiles ---- */

Test(cli, profiles_lists_the_builtins)
{
    run r = CLI("profiles");
    expect_status("profiles", &r, 0);
    expect_out("profiles", &r, "core2");
    expect_out("profiles", &r, "server");
    expect_out("profiles", &r, "teaching");
    free(r.out);
}

Test(cli, profiles_show_decodes_server)
{
    run r = CLI("profiles", "show", "server");
    expect_status("profiles show server", &r, 0);
    expect_out("profiles show server", &r, "profile server:");
    expect_out("profiles show server", &r, "IA32_VMX_BASIC: revision 0x4, regions of 1024 bytes, memory type WB");
    expect_out("profiles show server", &r, "TRUE MSRs present");
    expect_out("profiles show server", &r, "physical-address width: 46 bits");
    expect_out("profiles show server", &r, "VMWRITE to exit-information fields allowed");
    char line[256];
    cr_assert(line_with(&r, "Monitor trap flag", line, sizeof line), "no MTF line:\n%s", r.out);
    cr_assert(strstr(line, "0 or 1"), "server may set the monitor trap flag: '%s'", line);
    cr_assert(line_with(&r, "Enable EPT", line, sizeof line), "no EPT line:\n%s", r.out);
    cr_assert(strstr(line, "0 or 1"), "server may enable EPT: '%s'", line);
    free(r.out);
}

Test(cli, profiles_show_core2_marks_missing_msrs)
{
    run r = CLI("profiles", "show", "core2");
    expect_status("profiles show core2", &r, 0);
    char line[256];
    cr_assert(line_with(&r, "IA32_VMX_TRUE_PINBASED_CTLS", line, sizeof line));
    cr_assert(strstr(line, "does not exist"), "core2 has no TRUE MSRs: '%s'", line);
    expect_out("profiles show core2", &r, "TRUE MSRs absent");
    expect_out("profiles show core2", &r, "refused (error 13)");
    cr_assert(line_with(&r, "Monitor trap flag", line, sizeof line));
    cr_assert(strstr(line, "must be 0"), "core2 has no monitor trap flag: '%s'", line);
    free(r.out);
}

Test(cli, profiles_show_unknown_names_the_builtins)
{
    run r = CLI("profiles", "show", "nosuch");
    expect_status("profiles show nosuch", &r, 3);
    expect_out("profiles show nosuch", &r, "nosuch");
    expect_out("profiles show nosuch", &r, "core2");
    expect_out("profiles show nosuch", &r, "server");
    expect_out("profiles show nosuch", &r, "teaching");
    free(r.out);
}

Test(cli, profiles_dump_output_passes_profiles_check, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    run r = CLI("profiles", "dump", "teaching");
    expect_status("profiles dump teaching", &r, 0);
    expect_out("profiles dump teaching", &r, "name = teaching");
    const char *path = write_tmp("teaching.profile", r.out, r.len);
    free(r.out);
    r = CLI("profiles", "check", path);
    expect_status("profiles check <dump of teaching>", &r, 0);
    expect_out("profiles check <dump of teaching>", &r, "profile 'teaching' is valid");
    free(r.out);
    /* The dumped file is also a PROFILE argument. */
    r = CLI("profiles", "show", path);
    expect_status("profiles show <dump of teaching>", &r, 0);
    expect_out("profiles show <dump of teaching>", &r, "profile teaching:");
    free(r.out);
}

Test(cli, profiles_check_of_a_malformed_file_names_file_and_line, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    static const char text[] = "base = server\n# ok so far\nIA32_VMX_MISC 0x5\n";
    const char *path = write_tmp("bad.profile", text, sizeof text - 1);
    run r = CLI("profiles", "check", path);
    expect_status("profiles check bad.profile", &r, 3);
    char want[192];
    snprintf(want, sizeof want, "%s:3:", path);
    expect_out("profiles check bad.profile", &r, want);
    free(r.out);
}

Test(cli, profiles_check_of_a_contradictory_file_is_bad_input, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    static const char text[] = "base = core2\nIA32_VMX_TRUE_EXIT_CTLS = 0x36dff\n";
    const char *path = write_tmp("contra.profile", text, sizeof text - 1);
    run r = CLI("profiles", "check", path);
    expect_status("profiles check contra.profile", &r, 3);
    expect_out("profiles check contra.profile", &r, "IA32_VMX_TRUE_EXIT_CTLS");
    free(r.out);
}

Test(cli, profiles_check_of_a_missing_file_is_an_io_error)
{
    run r = CLI("profiles", "check", "/nonexistent");
    expect_status("profiles check /nonexistent", &r, 4);
    expect_out("profiles check /nonexistent", &r, "/nonexistent");
    expect_out("profiles check /nonexistent", &r, strerror(ENOENT));
    free(r.out);
}

/* ---- fields ---- */

Test(cli, field_decodes_guest_rip)
{
    run r = CLI("field", "0x681e");
    expect_status("field 0x681e", &r, 0);
    expect_out("field 0x681e", &r, "GUEST_RIP (0x681e)");
    expect_out("field 0x681e", &r, "natural");
    expect_out("field 0x681e", &r, "guest state");
    free(r.out);
    r = CLI("field", "guest_rip");
    expect_status("field guest_rip", &r, 0);
    expect_out("field guest_rip", &r, "GUEST_RIP (0x681e)");
    free(r.out);
}

Test(cli, field_decodes_a_high_half)
{
    run r = CLI("field", "0x2011");
    expect_status("field 0x2011", &r, 0);
    expect_out("field 0x2011", &r, "TSC_OFFSET (0x2011), high half (bits 63:32)");
    free(r.out);
}

Test(cli, field_rejects_reserved_bits_and_wide_encodings)
{
    run r = CLI("field", "0x12345678");
    expect_status("field 0x12345678", &r, 3);
    expect_out("field 0x12345678", &r, "reserved bits");
    expect_out("field 0x12345678", &r, "error 12");
    free(r.out);
    r = CLI("field", "0x781e");
    expect_status("field 0x781e", &r, 3);
    expect_out("field 0x781e", &r, "bit 12");
    free(r.out);
    r = CLI("field", "0x100000000");
    expect_status("field 0x100000000", &r, 3);
    expect_out("field 0x100000000", &r, "63:32");
    free(r.out);
}

Test(cli, field_rejects_unassigned_encodings_and_unknown_names)
{
    run r = CLI("field", "0x6c40");
    expect_status("field 0x6c40", &r, 3);
    expect_out("field 0x6c40", &r, "names no VMCS field");
    free(r.out);
    r = CLI("field", "0x4001");
    expect_status("field 0x4001 (high access to a 32-bit field)", &r, 3);
    free(r.out);
    r = CLI("field", "nosuch");
    expect_status("field nosuch", &r, 3);
    expect_out("field nosuch", &r, "'nosuch'");
    free(r.out);
    r = CLI("field");
    expect_status("field", &r, 2);
    free(r.out);
}

Test(cli, fields_with_a_profile_marks_unsupported_fields)
{
    run r = CLI("fields", "--profile", "core2", "VPID");
    expect_status("fields --profile core2 VPID", &r, 0);
    char line[256];
    cr_assert(line_with(&r, "0x0000", line, sizeof line), "no VPID row:\n%s", r.out);
    cr_assert(strstr(line, "VPID") && strstr(line, "[no: error 12]"), "core2 has no VPID field: '%s'", line);
    free(r.out);
    r = CLI("fields", "--profile", "server", "VPID");
    expect_status("fields --profile server VPID", &r, 0);
    cr_assert(line_with(&r, "0x0000", line, sizeof line), "no VPID row:\n%s", r.out);
    cr_assert(strstr(line, "[yes]"), "server has the VPID field: '%s'", line);
    free(r.out);
    r = CLI("field", "VPID", "--profile", "core2");
    expect_status("field VPID --profile core2", &r, 0);
    expect_out("field VPID --profile core2", &r, "in core2:  no");
    free(r.out);
    r = CLI("fields", "zzznomatch");
    expect_status("fields zzznomatch", &r, 3);
    free(r.out);
    r = CLI("fields", "--profile", "nosuch");
    expect_status("fields --profile nosuch", &r, 3);
    free(r.out);
}

Test(cli, fields_lists_the_whole_table)
{
    run r = CLI("fields");
    expect_status("fields", &r, 0);
    expect_out("fields", &r, "0x681e   GUEST_RIP");
    expect_out("fields", &r, "0x4400   VM_INSTRUCTION_ERROR");
    size_t lines = 0;
    for (const char *s = r.out; *s; s++)
        lines += *s == '\n';
    cr_assert_eq(lines, (size_t)VTX_VMCS_FIELD_COUNT + 1, "a header line plus one line per field, got %zu lines",
                 lines);
    free(r.out);
}

/* ---- tables ---- */

Test(cli, exit_reasons_lists_interrupt_window_as_7)
{
    run r = CLI("exit-reasons");
    expect_status("exit-reasons", &r, 0);
    expect_out("exit-reasons", &r, "  7  INTERRUPT_WINDOW");
    expect_out("exit-reasons", &r, " 33  INVALID_GUEST_STATE");
    free(r.out);
}

Test(cli, errors_lists_26)
{
    run r = CLI("errors");
    expect_status("errors", &r, 0);
    expect_out("errors", &r, " 26  ENTRY_EVENTS_BLOCKED_MOV_SS");
    expect_out("errors", &r, "VM entry with events blocked by MOV SS");
    expect_out("errors", &r, " 28  INVALID_INVEPT_INVVPID");
    free(r.out);
}

Test(cli, checks_lists_ent_basic_3)
{
    run r = CLI("checks");
    expect_status("checks", &r, 0);
    char line[320];
    cr_assert(line_with(&r, "ENTRY_MOV_SS_BLOCKING", line, sizeof line), "no MOV-SS check:\n%s", r.out);
    cr_assert(strstr(line, "ENT-BASIC-3"), "the MOV-SS check cites ENT-BASIC-3: '%s'", line);
    expect_out("checks", &r, "VMXON_REVISION");
    free(r.out);
}

/* ---- run (scenario files, docs/scenarios.md) ---- */

static const char scn_ok[] = "guest:\n  mode: long64\n  code: |\n    top: hlt\ncontrols: {proc: [hlt exiting]}\n"
                             "expect:\n  exits:\n    - {reason: HLT, rip: top}\n";

Test(cli, run_passes_with_0_and_shows_exits_and_checks)
{
    mk_tmpdir();
    const char *p = write_tmp("ok.yaml", scn_ok, sizeof scn_ok - 1);
    run r = CLI("run", p);
    expect_status("run ok.yaml", &r, 0);
    expect_out("run ok.yaml", &r, "exit 1: HLT (reason 12: HLT)");
    expect_out("run ok.yaml", &r, "  ok exit 1 rip = 0x10000 (top)");
    expect_out("run ok.yaml", &r, "PASS: 1 exit, 2 expectations met, 0 failed");
    free(r.out);
    /* --json: JSON Lines only, one exit then the summary */
    r = CLI("run", p, "--json");
    expect_status("run --json", &r, 0);
    const char *second = strchr(r.out, '\n');
    cr_assert(r.out[0] == '{' && second && second[1] == '{', "JSON Lines only:\n%s", r.out);
    cr_assert(strstr(r.out, "\"type\":\"exit\"") && strstr(second, "\"type\":\"summary\""), "%s", r.out);
    cr_assert(strstr(second, "\"outcome\":\"pass\""), "%s", r.out);
    cr_assert_eq(strchr(second + 1, '\n'), r.out + r.len - 1, "exactly two lines:\n%s", r.out);
    free(r.out);
    rm_tmpdir();
}

Test(cli, run_mismatch_exits_1)
{
    mk_tmpdir();
    static const char text[] = "guest:\n  mode: long64\n  code: hlt\ncontrols: {proc: [hlt exiting]}\n"
                               "expect:\n  exits:\n    - {reason: CPUID}\n";
    run r = CLI("run", write_tmp("m.yaml", text, sizeof text - 1));
    expect_status("run m.yaml", &r, 1);
    expect_out("run m.yaml", &r, "MISMATCH exit 1 (HLT): reason expected CPUID (10), got HLT (12) (line 7)");
    expect_out("run m.yaml", &r, "FAIL: 1 exit");
    free(r.out);
    rm_tmpdir();
}

Test(cli, run_bad_scenario_exits_3_4_5)
{
    mk_tmpdir();
    static const char text[] = "guest:\n  mode: long64\n  code: hlt\ncontrols:\n  proc: [hlt exitting]\n";
    const char *p = write_tmp("bad.yaml", text, sizeof text - 1);
    run r = CLI("run", p);
    expect_status("run bad.yaml", &r, 3);
    char want[200];
    snprintf(want, sizeof want, "%s:5:10: unknown control 'hlt exitting' in proc", p);
    expect_out("run bad.yaml", &r, want);
    free(r.out);
    r = CLI("run", "/nonexistent/x.yaml");
    expect_status("run /nonexistent/x.yaml", &r, 4);
    expect_out("run missing", &r, "/nonexistent/x.yaml: cannot open the scenario");
    free(r.out);
    r = CLI("run");
    expect_status("run", &r, 2);
    free(r.out);
    setenv("PATH", "/nonexistent-dir", 1); /* the child inherits it: no nasm */
    r = CLI("run", write_tmp("ok.yaml", scn_ok, sizeof scn_ok - 1));
    expect_status("run without nasm", &r, 5);
    expect_out("run without nasm", &r, "nasm is not installed: apt-get install nasm");
    free(r.out);
    rm_tmpdir();
}
