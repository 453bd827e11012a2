/* Profile files: write/parse round trips, "base =" profiles, knobs, and every
 * class of malformed input with the file:line the message names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helpers.h"

#define SRC "t.profile"

static char tmpdir[64];
static char made[8][128];
static size_t n_made;

static void mk_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vtx-profile-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
    n_made = 0;
}

static void rm_tmpdir(void)
{
    for (size_t i = 0; i < n_made; i++)
        unlink(made[i]);
    rmdir(tmpdir);
}

/* Write @len bytes to a new file in the temp directory; returns its path. */
static const char *tmpfile_with(const char *name, const char *data, size_t len)
{
    cr_assert_lt(n_made, sizeof made / sizeof made[0]);
    char *path = made[n_made++];
    snprintf(path, sizeof made[0], "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* A profile in the file format, as a malloc'd string. */
static char *dump(const vtx_profile *p, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    cr_assert_not_null(f);
    cr_assert_eq(vtx_profile_write(p, f), VTX_OK);
    cr_assert_eq(fclose(f), 0);
    if (len)
        *len = n;
    return buf;
}

static vtx_profile builtin(const char *name)
{
    const vtx_profile *p;
    cr_assert_eq(vtx_profile_find(name, &p, NULL), VTX_OK);
    return *p;
}

/* Parse text that must fail with @want; the message must contain every substring. */
static void expect_parse_fail(const char *what, const char *text, size_t len, vtx_status want, int line,
                              const char *const *subs)
{
    vtx_profile out;
    memset(&out, 0x5A, sizeof out);
    vtx_profile before = out;
    vtx_diag d;
    memset(&d, 0, sizeof d);
    vtx_status st = vtx_profile_parse(text, len, SRC, &out, &d);
    cr_assert_eq(st, want, "%s: expected %s, got %s (%s)", what, vtx_status_name(want), vtx_status_name(st),
                 d.message);
    if (line > 0) {
        char loc[64];
        snprintf(loc, sizeof loc, SRC ":%d: ", line);
        cr_assert(strncmp(d.message, loc, strlen(loc)) == 0, "%s: the message should start with \"%s\" but is \"%s\"",
                  what, loc, d.message);
        cr_assert_eq(d.line, line, "%s: diag.line is %d, expected %d", what, d.line, line);
    }
    for (; *subs; subs++)
        cr_assert(strstr(d.message, *subs), "%s: the message should contain \"%s\" but is \"%s\"", what, *subs,
                  d.message);
    cr_assert(memcmp(&out, &before, sizeof out) == 0, "%s: a failed parse must not write the output profile", what);
}
#define PARSE_FAIL(what, text, want, line, ...)                                                       \
    expect_parse_fail(what, text, strlen(text), want, line, (const char *const[]){__VA_ARGS__, NULL})

static vtx_profile parse_ok(const char *what, const char *text)
{
    vtx_profile out;
    memset(&out, 0, sizeof out);
    vtx_diag d = {0};
    vtx_status st = vtx_profile_parse(text, strlen(text), SRC, &out, &d);
    cr_assert_eq(st, VTX_OK, "%s: parse failed with %s: %s", what, vtx_status_name(st), d.message);
    return out;
}

/* ---- round trips ---- */

static void round_trip(const vtx_profile *p)
{
    size_t len;
    char *text = dump(p, &len);
    vtx_profile back;
    memset(&back, 0, sizeof back);
    vtx_diag d = {0};
    vtx_status st = vtx_profile_parse(text, len, p->name, &back, &d);
    cr_assert_eq(st, VTX_OK, "%s: its own dump does not parse: %s\n%s", p->name, d.message, text);
    cr_assert_str_eq(back.name, p->name);
    cr_assert_str_eq(back.description, p->description);
    cr_assert_eq(back.phys_addr_width, p->phys_addr_width);
    cr_assert_eq(back.knobs, p->knobs, "%s: knobs 0x%x came back as 0x%x", p->name, p->knobs, back.knobs);
    for (int i = 0; i < VTX_CAP_MSR_COUNT; i++)
        cr_assert_eq(back.msr[i], p->msr[i], "%s: capability MSR #%d was 0x%llx, came back as 0x%llx", p->name, i,
                     (unsigned long long)p->msr[i], (unsigned long long)back.msr[i]);
    cr_assert(memcmp(&back, p, sizeof back) == 0, "%s: the parsed profile differs from the written one", p->name);
    free(text);
}

Test(profile_file, every_builtin_round_trips_through_write_and_parse)
{
    for (size_t i = 0; i < vtx_profile_builtin_count(); i++)
        round_trip(vtx_profile_builtin(i));
}

Test(profile_file, non_default_knobs_round_trip)
{
    vtx_profile p = builtin("server");
    p.knobs = VTX_KNOB_MSS_CHAIN | VTX_KNOB_PT_SHADOW | VTX_KNOB_STI_SMI;
    round_trip(&p);
    p.knobs = 0;
    round_trip(&p);
}

Test(profile_file, dump_names_msrs_and_knobs)
{
    vtx_profile p = builtin("core2");
    char *text = dump(&p, NULL);
    cr_assert(strstr(text, "name = core2\n"), "%s", text);
    cr_assert(strstr(text, "physical-address-width = 36\n"), "%s", text);
    cr_assert(strstr(text, "IA32_VMX_BASIC"), "%s", text);
    cr_assert(strstr(text, "CFG-STI-NMI"), "%s", text);
    /* MSRs core2 does not have are not written. */
    cr_assert_null(strstr(text, "IA32_VMX_TRUE_PINBASED_CTLS"), "core2 has no TRUE MSRs:\n%s", text);
    cr_assert_null(strstr(text, "IA32_VMX_PROCBASED_CTLS2"), "core2 has no secondary controls:\n%s", text);
    free(text);
    cr_assert_eq(vtx_profile_write(NULL, stdout), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_profile_write(&p, NULL), VTX_ERR_INVALID_ARG);
}

/* ---- base profiles, overrides, knobs ---- */

Test(profile_file, base_server_with_overrides)
{
    vtx_profile p = parse_ok("base = server + overrides",
                             "# my part\n"
                             "base = server\n"
                             "\n"
                             "name = my-server.v2\n"
                             "description = a server with a wider bus\n"
                             "physical-address-width = 48   # trailing comment\n"
                             "IA32_VMX_MISC = 0x20000c1\n"
                             "CFG-MSS-CHAIN = on\n"
                             "cfg-sti-nmi = off\n");
    vtx_profile s = builtin("server");
    cr_assert_str_eq(p.name, "my-server.v2");
    cr_assert_str_eq(p.description, "a server with a wider bus");
    cr_assert_eq(p.phys_addr_width, 48);
    cr_assert_eq(p.msr[VTX_CAP_IA32_VMX_MISC], 0x20000C1ull);
    cr_assert_eq(p.knobs, (s.knobs | VTX_KNOB_MSS_CHAIN) & ~(uint32_t)VTX_KNOB_STI_NMI);
    for (int i = 0; i < VTX_CAP_MSR_COUNT; i++)
        if (i != VTX_CAP_IA32_VMX_MISC)
            cr_assert_eq(p.msr[i], s.msr[i], "MSR #%d must come from the base", i);
}

Test(profile_file, base_alone_gives_the_base_profile)
{
    vtx_profile p = parse_ok("base = teaching", "base = teaching\n");
    vtx_profile t = builtin("teaching");
    cr_assert(memcmp(&p, &t, sizeof p) == 0, "'base = teaching' alone must give the teaching profile");
}

Test(profile_file, msr_keys_by_index_and_crlf_lines)
{
    vtx_profile p = parse_ok("MSR by index", "base = core2\r\n0x485 = 0x10041\r\nname = x\r\n");
    cr_assert_eq(p.msr[VTX_CAP_IA32_VMX_MISC], 0x10041ull);
    cr_assert_str_eq(p.name, "x");
}

Test(profile_file, knob_spellings)
{
    static const char *const on[] = {"on", "ON", "true", "yes", "1"};
    static const char *const off[] = {"off", "Off", "false", "no", "0"};
    for (size_t i = 0; i < 5; i++) {
        char text[128];
        snprintf(text, sizeof text, "base = core2\nCFG-PT-SHADOW = %s\nCFG-MSS-NMI = %s\n", on[i], off[i]);
        vtx_profile p = parse_ok(text, text);
        cr_assert(p.knobs & VTX_KNOB_PT_SHADOW, "'CFG-PT-SHADOW = %s' must turn the knob on", on[i]);
        cr_assert(!(p.knobs & VTX_KNOB_MSS_NMI), "'CFG-MSS-NMI = %s' must turn the knob off", off[i]);
    }
}

Test(profile_file, a_complete_profile_without_base)
{
    vtx_profile c = builtin("core2");
    char *text = dump(&c, NULL);
    vtx_profile p = parse_ok("core2 dump", text);
    cr_assert_eq(p.knobs, c.knobs);
    free(text);
    /* Knobs omitted: the catalogue 0.1 defaults. */
    char buf[2048];
    int n = snprintf(buf, sizeof buf, "name = bare\nphysical-address-width = 36\n");
    static const char *const keys[] = {"IA32_VMX_BASIC", "IA32_VMX_PINBASED_CTLS", "IA32_VMX_PROCBASED_CTLS",
                                       "IA32_VMX_EXIT_CTLS", "IA32_VMX_ENTRY_CTLS", "IA32_VMX_MISC",
                                       "IA32_VMX_CR0_FIXED0", "IA32_VMX_CR0_FIXED1", "IA32_VMX_CR4_FIXED0",
                                       "IA32_VMX_CR4_FIXED1", "IA32_VMX_VMCS_ENUM"};
    for (int i = 0; i < 11; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s = 0x%llx\n", keys[i], (unsigned long long)c.msr[i]);
    p = parse_ok("bare core2", buf);
    cr_assert_eq(p.knobs, (uint32_t)VTX_KNOBS_DEFAULT);
    cr_assert_eq(p.description[0], '\0');
}

/* ---- malformed input: file:line and what ---- */

Test(profile_file, unknown_key)
{
    PARSE_FAIL("unknown key", "base = server\n# comment\nIA32_VMX_BOGUS = 1\n", VTX_ERR_PARSE, 3,
               "unknown key 'IA32_VMX_BOGUS'");
}

Test(profile_file, missing_equals)
{
    PARSE_FAIL("missing '='", "base = server\nname server2\n", VTX_ERR_PARSE, 2, "expected 'key = value'",
               "name server2");
    PARSE_FAIL("missing key", "base = server\n= 5\n", VTX_ERR_PARSE, 2, "missing key");
    PARSE_FAIL("missing value", "base = server\n\nname =   \n", VTX_ERR_PARSE, 3, "'name' has no value");
}

Test(profile_file, duplicate_key_names_the_first_line)
{
    PARSE_FAIL("duplicate key", "base = server\nname = a\n\nNAME = b\n", VTX_ERR_PARSE, 4, "given twice",
               "first on line 2");
    PARSE_FAIL("duplicate MSR by name and index", "base = server\nIA32_VMX_MISC = 0\n0x485 = 0\n", VTX_ERR_PARSE,
               3, "given twice", "first on line 2");
    PARSE_FAIL("duplicate base", "base = server\nbase = server\n", VTX_ERR_PARSE, 2, "given twice");
}

Test(profile_file, bad_numbers)
{
    PARSE_FAIL("junk after a number", "base = server\nIA32_VMX_MISC = 0x12zz\n", VTX_ERR_PARSE, 2,
               "IA32_VMX_MISC", "0x12zz", "not a 64-bit number");
    PARSE_FAIL("negative number", "base = server\nIA32_VMX_MISC = -1\n", VTX_ERR_PARSE, 2, "not a 64-bit number");
    PARSE_FAIL("number wider than 64 bits", "base = server\nIA32_VMX_MISC = 0x10000000000000000\n", VTX_ERR_PARSE,
               2, "not a 64-bit number");
    PARSE_FAIL("width not a number", "base = server\nphysical-address-width = wide\n", VTX_ERR_PARSE, 2,
               "physical-address-width", "wide");
}

Test(profile_file, values_out_of_range)
{
    PARSE_FAIL("width 60", "base = server\nphysical-address-width = 60\n", VTX_ERR_PARSE, 2, "32..52");
    PARSE_FAIL("width 31", "base = server\nphysical-address-width = 31\n", VTX_ERR_PARSE, 2, "32..52");
    PARSE_FAIL("knob not on/off", "base = server\nCFG-STI-NMI = maybe\n", VTX_ERR_PARSE, 2, "CFG-STI-NMI",
               "not on or off");
    PARSE_FAIL("name too long", "base = server\nname = abcdefghijklmnopqrstuvwxyz0123456789\n", VTX_ERR_PARSE, 2,
               "longer than 31");
    PARSE_FAIL("name with a space", "base = server\nname = my server\n", VTX_ERR_PARSE, 2, "may contain only");
}

Test(profile_file, missing_required_msr_is_named)
{
    vtx_profile c = builtin("core2");
    char *full = dump(&c, NULL);
    /* Drop the IA32_VMX_MISC line. */
    char *at = strstr(full, "IA32_VMX_MISC");
    cr_assert_not_null(at);
    char *eol = strchr(at, '\n');
    memmove(at, eol + 1, strlen(eol + 1) + 1);
    int lines = 0;
    for (const char *s = full; *s; s++)
        lines += *s == '\n';
    PARSE_FAIL("no IA32_VMX_MISC", full, VTX_ERR_PARSE, lines, "missing IA32_VMX_MISC");
    free(full);
    PARSE_FAIL("no name", "physical-address-width = 36\n", VTX_ERR_PARSE, 1, "missing 'name'");
    PARSE_FAIL("no width", "name = x\nIA32_VMX_BASIC = 0x1\n", VTX_ERR_PARSE, 2, "missing 'physical-address-width'");
}

Test(profile_file, empty_file)
{
    PARSE_FAIL("empty", "", VTX_ERR_PARSE, 1, "empty profile");
    PARSE_FAIL("only comments", "# nothing\n\n   # here\n", VTX_ERR_PARSE, 3, "empty profile");
}

Test(profile_file, nul_byte)
{
    static const char text[] = "base = server\nna\0me = x\n";
    expect_parse_fail("NUL byte", text, sizeof text - 1, VTX_ERR_PARSE, 2,
                      (const char *const[]){"NUL byte", NULL});
}

Test(profile_file, line_too_long)
{
    size_t n = 2000;
    char *text = malloc(n + 64);
    cr_assert_not_null(text);
    int k = sprintf(text, "base = server\ndescription = ");
    memset(text + k, 'd', n);
    strcpy(text + k + n, "\n");
    expect_parse_fail("2000-character line", text, strlen(text), VTX_ERR_PARSE, 2,
                      (const char *const[]){"longer than 1023", NULL});
    free(text);
    /* A 1023-character line is fine as a comment. */
    char ok[1100];
    int m = sprintf(ok, "base = server\n#");
    memset(ok + m, 'c', 1022);
    strcpy(ok + m + 1022, "\n");
    parse_ok("1023-character comment line", ok);
}

Test(profile_file, base_must_come_first)
{
    PARSE_FAIL("base after a setting", "name = x\nbase = server\n", VTX_ERR_PARSE, 2,
               "'base' must come before every other setting");
}

Test(profile_file, unknown_base)
{
    PARSE_FAIL("unknown base", "\nbase = nosuch\n", VTX_ERR_PARSE, 2, "base profile 'nosuch'",
               "not a built-in profile");
}

/* A profile that contradicts itself is VTX_ERR_PROFILE_INVALID naming the source, MSR and bit. */
Test(profile_file, contradictory_profile_names_msr_and_bit)
{
    vtx_profile c = builtin("core2");
    char text[256];
    snprintf(text, sizeof text, "base = core2\nIA32_VMX_PINBASED_CTLS = 0x%llx\n",
             (unsigned long long)(c.msr[VTX_CAP_IA32_VMX_PINBASED_CTLS] | VTX_PIN_PREEMPTION_TIMER));
    PARSE_FAIL("pin bit 6 must-be-1 but not allowed", text, VTX_ERR_PROFILE_INVALID, 0, SRC ": ",
               "IA32_VMX_PINBASED_CTLS bit 6");
    PARSE_FAIL("TRUE MSR on core2", "base = core2\nIA32_VMX_TRUE_PINBASED_CTLS = 0x7f00000016\n",
               VTX_ERR_PROFILE_INVALID, 0, "IA32_VMX_TRUE_PINBASED_CTLS", "bit 55");
}

Test(profile_file, parse_rejects_null_arguments)
{
    vtx_profile p;
    cr_assert_eq(vtx_profile_parse(NULL, 0, SRC, &p, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_profile_parse("base = server\n", 14, SRC, NULL, NULL), VTX_ERR_INVALID_ARG);
    /* Without a source name the messages still say where. */
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_parse("bogus = 1\n", 10, NULL, &p, &d), VTX_ERR_PARSE);
    cr_assert(strstr(d.message, ":1: "), "%s", d.message);
}

/* ---- files ---- */

Test(profile_file, load_file_round_trip, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    vtx_profile t = builtin("teaching");
    size_t len;
    char *text = dump(&t, &len);
    const char *path = tmpfile_with("teaching.profile", text, len);
    free(text);
    vtx_profile p;
    memset(&p, 0, sizeof p);
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_load_file(path, &p, &d), VTX_OK, "%s", d.message);
    cr_assert(memcmp(&p, &t, sizeof p) == 0, "the loaded profile differs from teaching");
    /* resolve: a path, and a built-in name. */
    memset(&p, 0, sizeof p);
    cr_assert_eq(vtx_profile_resolve(path, &p, &d), VTX_OK, "%s", d.message);
    cr_assert_str_eq(p.name, "teaching");
    cr_assert_eq(vtx_profile_resolve("core2", &p, &d), VTX_OK);
    cr_assert_str_eq(p.name, "core2");
    cr_assert_eq(vtx_profile_resolve("nosuch", &p, &d), VTX_ERR_NOT_FOUND);
    cr_assert(strstr(d.message, "server"), "resolve of an unknown name lists the built-ins: %s", d.message);
}

Test(profile_file, errors_in_a_file_name_the_path_and_line, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    static const char text[] = "base = server\n\nfrobnicate = 1\n";
    const char *path = tmpfile_with("bad.profile", text, sizeof text - 1);
    vtx_profile p;
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_load_file(path, &p, &d), VTX_ERR_PARSE);
    char want[192];
    snprintf(want, sizeof want, "%s:3: ", path);
    cr_assert(strncmp(d.message, want, strlen(want)) == 0, "message should start with \"%s\": %s", want, d.message);
}

Test(profile_file, missing_file_is_an_io_error_with_path_and_reason, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/does-not-exist.profile", tmpdir);
    vtx_profile p;
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_load_file(path, &p, &d), VTX_ERR_IO);
    cr_assert(strstr(d.message, path), "the message names the path: %s", d.message);
    cr_assert(strstr(d.message, strerror(ENOENT)), "the message gives the reason (%s): %s", strerror(ENOENT),
              d.message);
    cr_assert_eq(vtx_profile_resolve(path, &p, &d), VTX_ERR_IO, "resolve of a missing path is an I/O error");
    cr_assert_eq(vtx_profile_load_file(NULL, &p, &d), VTX_ERR_INVALID_ARG);
}

/* A profile file is at most 1 MiB; one byte more is refused before parsing. */
Test(profile_file, file_over_one_mib_is_refused, .init = mk_tmpdir, .fini = rm_tmpdir)
{
    size_t limit = 1u << 20;
    char *big = malloc(limit + 1);
    cr_assert_not_null(big);
    /* "base = server\n" then comment lines of 64 bytes; exactly 1 MiB is still a profile. */
    size_t k = (size_t)sprintf(big, "base = server\n");
    while (k < limit) {
        size_t n = limit - k < 64 ? limit - k : 64;
        memset(big + k, '#', n);
        big[k + n - 1] = '\n';
        k += n;
    }
    const char *ok = tmpfile_with("exactly-1MiB.profile", big, limit);
    vtx_profile p;
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_load_file(ok, &p, &d), VTX_OK, "a 1 MiB profile must be read: %s", d.message);
    big[limit] = '\n';
    const char *bad = tmpfile_with("over-1MiB.profile", big, limit + 1);
    free(big);
    vtx_status st = vtx_profile_load_file(bad, &p, &d);
    cr_assert_eq(st, VTX_ERR_PARSE, "a file of 1 MiB + 1 byte: expected VTX_ERR_PARSE, got %s", vtx_status_name(st));
    cr_assert(strstr(d.message, bad) && strstr(d.message, "1 MiB"), "message names the file and the limit: %s",
              d.message);
}

/* Every profile that validates writes out and reads back unchanged: the
 * validation refuses what the file format cannot carry. */
Test(profile_file, unwritable_names_and_descriptions_are_invalid)
{
    vtx_profile p = *vtx_profile_builtin(0);
    vtx_diag d = {0};
    strcpy(p.name, "my server");
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_ERR_PROFILE_INVALID, "a name with a space");
    cr_assert(strstr(d.message, "may contain only"), "message: %s", d.message);
    p = *vtx_profile_builtin(0);
    strcpy(p.description, "uses # sign");
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_ERR_PROFILE_INVALID, "a description with '#'");
    p = *vtx_profile_builtin(0);
    strcpy(p.description, " padded ");
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_ERR_PROFILE_INVALID, "a description with outer spaces");
    p = *vtx_profile_builtin(0);
    strcpy(p.description, "plain text, (with) punctuation: fine");
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_OK, "%s", d.message);
}

/* A name shorter than the base profile's leaves no stale bytes: a parsed
 * profile writes out and reads back byte for byte (found by fuzzing). */
Test(profile_file, shorter_name_than_base_round_trips_bytewise)
{
    const char *text = "base = teaching\nname = t6-\n";
    vtx_profile p, q;
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_parse(text, strlen(text), "t", &p, &d), VTX_OK, "%s", d.message);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(vtx_profile_write(&p, f), VTX_OK);
    fclose(f);
    cr_assert_eq(vtx_profile_parse(buf, len, "t2", &q, &d), VTX_OK, "%s", d.message);
    free(buf);
    cr_assert(memcmp(&p, &q, sizeof p) == 0, "the profile read back differs from the one written");
}
