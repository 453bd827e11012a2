/*
 * vtxref: the command-line face of the model. Looks things up for a student
 * (profiles, VMCS fields, exit reasons, VM-instruction errors, named checks).
 *
 * Exit status: 0 success; 2 bad command line; 3 bad input (unknown profile or
 * field, malformed or contradictory profile file); 4 I/O error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "rules_table.h"
#include "vtxref/vtxref.h"

#include "cli.h"

const char *prog = "vtxref";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s COMMAND [ARGS]\n"
            "\n"
            "A reference model of an Intel VT-x (VMX) processor.\n"
            "\n"
            "commands:\n"
            "  profiles                     list the built-in CPU profiles\n"
            "  profiles show PROFILE        decode a profile's capability MSRs and controls\n"
            "  profiles dump PROFILE        write a profile in the file format (docs/profiles.md)\n"
            "  profiles check FILE          read and validate a profile file\n"
            "  fields [--profile P] [TEXT]  list VMCS fields (optionally those whose name contains TEXT)\n"
            "  field ENCODING|NAME [--profile P]\n"
            "                               decode one VMCS field encoding (e.g. 0x681e, 0x2001, GUEST_RIP)\n"
            "  exit-reasons                 list the basic VM-exit reasons\n"
            "  errors                       list the VM-instruction error numbers\n"
            "  checks                       list the named checks of the VMX instructions and VM entry\n"
            "  rules [--uncovered] [ID]     the rules catalogue's IDs with the tests that cite them and the\n"
            "                               model checks that implement them; last line: rules covered: N/M\n"
            "  instructions [ROW]           every instruction of SDM 25.1.2/25.1.3/25.3 in VMX non-root operation:\n"
            "                               condition, exit reason, qualification, length, instruction\n"
            "                               information, address fields, SDM section, status and test; refused\n"
            "                               rows listed; last line: instructions covered: N/M\n"
            "  run SCENARIO [--json] [--vmm-check]\n"
            "                               run a scenario file (docs/scenarios.md): every exit, reaction and\n"
            "                               expectation; --json: JSON Lines, one object per exit and a summary;\n"
            "                               --vmm-check: every VMM checker finding where it happens\n"
            "  check DIR|FILE... [--junit FILE] [-j N] [--no-vmm-check]\n"
            "                               run scenarios with expectations as a suite: one line each, N passed, N failed\n"
            "                               (the VMM checker is on: an unexpected error finding fails a scenario)\n"
            "  explain SCENARIO [--from N|ADDR|LABEL] [--to N|ADDR|LABEL] [--vmm-check]\n"
            "                               walk a scenario boundary by boundary, in sentences\n"
            "  record SCENARIO -o TRACE [--vcd F] [--html F]\n"
            "                               run a scenario and record it as a trace (docs/traces.md)\n"
            "  replay TRACE [--profile P] [--knob CFG-X=on|off] [--vcd F] [--html F] [--vmm-check]\n"
            "       [--allow-changed] [--serial F] [--explain F]\n"
            "                               re-execute a trace; exit 1 and show the first divergence\n"
            "                               (a boot trace boots its kernel again: exit 3 when the kernel\n"
            "                               changed, unless --allow-changed; 4 when it is missing)\n"
            "                               (--vmm-check: the VMM checker's findings; exit 1 on an error)\n"
            "  diff TRACE_A TRACE_B         compare two traces record by record (exit 1: they differ)\n"
            "                               (run, record and replay take --vcd FILE and --html FILE: a\n"
            "                               waveform and a timeline page of the run, docs/traces.md)\n"            "  boot KERNEL [--module F]... [--append C] [--profile P] [--max-cycles N] [--explain F|-]\n"
            "       [--boundaries F] [--vmm-check] [--record TRACE] [--vcd F] [--html F] ...\n"
            "                               boot a Multiboot bare-metal VMM in VMX root operation and run its\n"
            "                               guests (docs/platform.md; statuses 0-99 the kernel's, 100-121 the\n"
            "                               platform's: `vtxref boot --help`); replay takes its boot traces\n"
            "\n"
            "PROFILE is a built-in name (core2, server, teaching) or a profile file path.\n"
            "\n"
            "options:\n"
            "  -h, --help      show this help\n"
            "  -V, --version   show the version\n"
            "\n"
            "exit status: 0 success, 1 a scenario's expectation failed (run, check) or a replay/diff\n"
            "found a difference, 2 bad command line, 3 bad input\n"
            "(unknown profile or field, malformed or contradictory profile, malformed scenario with\n"
            "file:line:column), 4 I/O error, 5 a tool a scenario needs (nasm) is missing.\n",
            prog);
}

static int fail_input(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_input(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_INPUT;
}

static int load_profile(const char *name, vtx_profile *p)
{
    vtx_diag d = {0};
    vtx_status st = vtx_profile_resolve(name, p, &d);
    if (st == VTX_OK)
        return EXIT_OK;
    fprintf(stderr, "%s: %s\n", prog, d.message[0] ? d.message : vtx_status_name(st));
    return st == VTX_ERR_IO ? EXIT_IO : EXIT_INPUT;
}

/* ---- profiles ---- */

static void show_ctls(const vtx_profile *p, vtx_ctl_field f)
{
    uint32_t must1, may1;
    vtx_profile_ctl_caps(p, f, &must1, &may1);
    printf("\n%s (as VM entry checks them)\n", vtx_control_field_name(f));
    for (unsigned b = 0; b < 32; b++) {
        const char *n = vtx_control_bit_name(f, b);
        bool m1 = (must1 >> b) & 1, a1 = (may1 >> b) & 1;
        const char *s = m1 ? "must be 1" : a1 ? "0 or 1" : "must be 0";
        bool d1 = (vtx_ctl_default1(f) >> b) & 1;
        if (!n && !m1 && !a1)
            continue;
        printf("  bit %2u  %-10s %s%s\n", b, s, n ? n : "(reserved)", d1 && !n ? " (default1)" : "");
    }
}

static int profile_show(const char *name)
{
    vtx_profile p;
    int rc = load_profile(name, &p);
    if (rc)
        return rc;
    const uint64_t *msr = p.msr;
    uint64_t basic = msr[VTX_CAP_IA32_VMX_BASIC], misc = msr[VTX_CAP_IA32_VMX_MISC];
    printf("profile %s: %s\n", p.name, p.description);
    printf("physical-address width: %u bits\n\n", p.phys_addr_width);
    for (unsigned i = 0; i < VTX_CAP_MSR_COUNT; i++) {
        static const uint32_t idx[] = {
#define X(n, i, d) i,
            VTX_CAP_MSRS(X)
#undef X
        };
        uint64_t v;
        if (vtx_profile_read_msr(&p, idx[i], &v) == VTX_OK)
            printf("  0x%03x %-28s 0x%016llx\n", idx[i], vtx_cap_msr_name(idx[i]), (unsigned long long)v);
        else
            printf("  0x%03x %-28s (does not exist: RDMSR raises #GP)\n", idx[i], vtx_cap_msr_name(idx[i]));
    }
    printf("\nIA32_VMX_BASIC: revision 0x%x, regions of %u bytes, memory type %s, %s, TRUE MSRs %s\n",
           vtx_basic_revision(basic), vtx_basic_region_size(basic),
           ((basic >> 50) & 0xF) == 6 ? "WB" : "UC", vtx_basic_32bit_addrs(basic) ? "32-bit addresses" : "full addresses",
           vtx_basic_true_ctls(basic) ? "present" : "absent");
    printf("IA32_VMX_MISC: preemption timer ticks every 2^%u TSC increments; activity states:%s%s%s; "
           "%u CR3-target values; VMWRITE to exit-information fields %s; zero-length injection %s\n",
           vtx_misc_timer_rate(misc), (misc >> 6) & 1 ? " HLT" : "", (misc >> 7) & 1 ? " shutdown" : "",
           (misc >> 8) & 1 ? " wait-for-SIPI" : "", vtx_misc_cr3_targets(misc),
           vtx_misc_vmwrite_any(misc) ? "allowed" : "refused (error 13)",
           vtx_misc_zero_len_inject(misc) ? "allowed" : "refused");
    for (vtx_ctl_field f = 0; f < VTX_CTL_FIELD_COUNT_; f++)
        show_ctls(&p, f);
    printf("\nImplementation-specific behaviour (CFG-* knobs)\n");
    for (unsigned i = 0; i < VTX_KNOB_COUNT; i++)
        printf("  %-18s %-3s  %s\n", vtx_knob_id(i), (p.knobs >> i) & 1 ? "on" : "off", vtx_knob_description(i));
    return EXIT_OK;
}

static int cmd_profiles(int argc, char **argv)
{
    if (argc == 0) {
        for (size_t i = 0; i < vtx_profile_builtin_count(); i++) {
            const vtx_profile *p = vtx_profile_builtin(i);
            printf("%-10s rev 0x%-4x %s\n", p->name, vtx_basic_revision(p->msr[VTX_CAP_IA32_VMX_BASIC]),
                   p->description);
        }
        return EXIT_OK;
    }
    if (argc != 2) {
        fprintf(stderr, "%s: profiles: expected 'profiles [show|dump|check] PROFILE'\n", prog);
        return EXIT_USAGE;
    }
    if (strcmp(argv[0], "show") == 0)
        return profile_show(argv[1]);
    if (strcmp(argv[0], "dump") == 0) {
        vtx_profile p;
        int rc = load_profile(argv[1], &p);
        if (rc)
            return rc;
        return vtx_profile_write(&p, stdout) == VTX_OK && fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
    }
    if (strcmp(argv[0], "check") == 0) {
        vtx_profile p;
        vtx_diag d = {0};
        vtx_status st = vtx_profile_load_file(argv[1], &p, &d);
        if (st != VTX_OK) {
            fprintf(stderr, "%s: %s\n", prog, d.message);
            return st == VTX_ERR_IO ? EXIT_IO : EXIT_INPUT;
        }
        printf("%s: profile '%s' is valid\n", argv[1], p.name);
        return EXIT_OK;
    }
    fprintf(stderr, "%s: profiles: unknown subcommand '%s' (show, dump, check)\n", prog, argv[0]);
    return EXIT_USAGE;
}

/* ---- fields ---- */

static const char *opt_profile(int *argc, char **argv)
{
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--profile") == 0 && i + 1 < *argc) {
            const char *v = argv[i + 1];
            memmove(&argv[i], &argv[i + 2], (size_t)(*argc - i - 2) * sizeof *argv);
            *argc -= 2;
            return v;
        }
    }
    return NULL;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

static int cmd_fields(int argc, char **argv)
{
    const char *pname = opt_profile(&argc, argv);
    if (argc > 1 || (argc == 1 && argv[0][0] == '-')) {
        fprintf(stderr, "%s: fields: expected 'fields [--profile P] [TEXT]'\n", prog);
        return EXIT_USAGE;
    }
    vtx_profile p;
    if (pname) {
        int rc = load_profile(pname, &p);
        if (rc)
            return rc;
    }
    size_t n;
    const vtx_field_info *f = vtx_vmcs_fields(&n);
    printf("%-8s %-30s %-7s %-14s %s%s\n", "ENCODING", "NAME", "WIDTH", "TYPE", "DESCRIPTION",
           pname ? "  [in profile]" : "");
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc == 1 && !contains_ci(f[i].name, argv[0]) && !contains_ci(f[i].description, argv[0]))
            continue;
        const char *in = "";
        if (pname)
            in = vtx_profile_has_feature(&p, f[i].feature) ? "  [yes]" : "  [no: error 12]";
        printf("0x%04x   %-30s %-7s %-14s %s%s\n", f[i].encoding, f[i].name, vtx_field_width_name(f[i].width),
               vtx_field_type_name(f[i].type), f[i].description, in);
        shown++;
    }
    if (argc == 1 && shown == 0)
        return fail_input("fields: no VMCS field matches '%s'", argv[0]);
    return EXIT_OK;
}

static int cmd_field(int argc, char **argv)
{
    const char *pname = opt_profile(&argc, argv);
    if (argc != 1) {
        fprintf(stderr, "%s: field: expected 'field ENCODING|NAME [--profile P]'\n", prog);
        return EXIT_USAGE;
    }
    vtx_profile p;
    if (pname) {
        int rc = load_profile(pname, &p);
        if (rc)
            return rc;
    }
    const char *arg = argv[0];
    const vtx_field_info *fi = NULL;
    bool high = false;
    uint64_t enc = 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 0);
    if (*arg && *arg != '-' && *end == '\0' && !errno) {
        enc = v;
        if (enc >> 32)
            return fail_input("field: %s is wider than 32 bits; in 64-bit mode VMREAD/VMWRITE fail with "
                              "error 12 when bits 63:32 of the encoding are set", arg);
        if (enc & ~0x6FFFull) {
            return fail_input("field: encoding 0x%llx sets reserved bits (%s); VMREAD/VMWRITE fail with error 12",
                              (unsigned long long)enc, (enc >> 15) ? "bits 31:15 must be 0" : "bit 12 must be 0");
        }
        if (vtx_vmcs_field_lookup(enc, &fi, &high) != VTX_OK) {
            printf("encoding 0x%04llx: width %s, type %s, index %u, access %s\n", (unsigned long long)enc,
                   vtx_field_width_name(vtx_encoding_width((uint32_t)enc)), vtx_field_type_name(vtx_encoding_type((uint32_t)enc)),
                   vtx_encoding_index((uint32_t)enc), (enc & 1) ? "high" : "full");
            return fail_input("field: encoding %s names no VMCS field; VMREAD/VMWRITE fail with error 12", arg);
        }
    } else if (vtx_vmcs_field_by_name(arg, &fi) == VTX_OK) {
        enc = fi->encoding;
    } else {
        return fail_input("field: '%s' is neither a number nor a VMCS field name (see 'vtxref fields')", arg);
    }
    printf("%s (0x%04llx)%s\n", fi->name, (unsigned long long)enc, high ? ", high half (bits 63:32)" : "");
    printf("  description: %s\n", fi->description);
    printf("  width:       %s%s\n", vtx_field_width_name(fi->width),
           fi->width == VTX_WIDTH_64 ? " (high half at encoding + 1)" : "");
    printf("  type:        %s%s\n", vtx_field_type_name(fi->type),
           fi->read_only ? " (VMWRITE fails with error 13 unless IA32_VMX_MISC[29] = 1)" : "");
    printf("  index:       %u\n", fi->index);
    printf("  needs:       %s\n", fi->feature == VTX_FEAT_ALWAYS ? "nothing (every VMX processor)" : vtx_feature_name(fi->feature));
    if (pname)
        printf("  in %s:  %s\n", p.name,
               vtx_profile_has_feature(&p, fi->feature) ? "yes" : "no (VMREAD/VMWRITE fail with error 12)");
    return EXIT_OK;
}

/* ---- tables ---- */

static int cmd_exit_reasons(void)
{
    for (uint32_t r = 0; r < 128; r++)
        if (vtx_exit_reason_name(r))
            printf("%3u  %-22s %s\n", r, vtx_exit_reason_name(r), vtx_exit_reason_description(r));
    return EXIT_OK;
}

static int cmd_errors(void)
{
    for (uint32_t e = 1; e < 64; e++)
        if (vtx_vm_insn_error_text(e))
            printf("%3u  %-30s %s\n", e, vtx_vm_insn_error_name(e), vtx_vm_insn_error_text(e));
    return EXIT_OK;
}

static int cmd_checks(void)
{
    for (vtx_check c = 1; c < VTX_CHECK_COUNT_; c++)
        printf("%-32s %-12s %s\n", vtx_check_name(c), vtx_check_rule(c) ? vtx_check_rule(c) : "-",
               vtx_check_text(c));
    return EXIT_OK;
}

static void print_wrapped(const char *label, const char *text)
{
    /* Break a ", "-separated list over lines of at most ~100 columns. */
    int col = printf("    %-8s", label);
    const char *p = text;
    while (*p) {
        const char *q = strstr(p, ", ");
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (col + (int)n > 100 && col > 12) {
            printf("\n%12s", "");
            col = 12;
        }
        col += printf("%.*s%s", (int)n, p, q ? "," : "");
        if (q && col + 1 <= 100)
            col += printf(" ");
        p = q ? q + 2 : p + n;
    }
    putchar('\n');
}

static int cmd_rules(int argc, char **argv)
{
    bool uncovered_only = false;
    const char *only = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--uncovered") == 0)
            uncovered_only = true;
        else if (argv[i][0] != '-' && !only)
            only = argv[i];
        else {
            fprintf(stderr, "%s: rules: expected 'rules [--uncovered] [ID]'\n", prog);
            return EXIT_USAGE;
        }
    }
    unsigned covered = 0, shown = 0;
    for (unsigned i = 0; i < vtx_rule_row_count; i++) {
        const vtx_rule_row *r = &vtx_rule_rows[i];
        bool is_covered = r->tests[0] != '\0';
        covered += is_covered;
        if ((only && strcasecmp(only, r->id) != 0) || (uncovered_only && is_covered))
            continue;
        shown++;
        printf("%-12s %-9s %s\n", r->id, is_covered ? "covered" : "UNCOVERED", r->summary);
        if (only)
            printf("    section  %s\n", r->section);
        if (is_covered)
            print_wrapped("tests", r->tests);
        char checks[2048] = "";
        size_t n = 0;
        for (vtx_check c = 1; c < VTX_CHECK_COUNT_; c++) {
            const char *rule = vtx_check_rule(c);
            if (rule && strcmp(rule, r->id) == 0 && n < sizeof checks - 64)
                n += (size_t)snprintf(checks + n, sizeof checks - n, "%s%s", n ? ", " : "", vtx_check_name(c));
        }
        if (n)
            print_wrapped("checks", checks);
    }
    if (only && !shown)
        return fail_input("rules: '%s' is not a rule ID of the catalogue (see 'vtxref rules')", only);
    unsigned named = 0, unruled = 0;
    for (vtx_check c = 1; c < VTX_CHECK_COUNT_; c++) {
        named++;
        unruled += vtx_check_rule(c) == NULL;
    }
    printf("named checks: %u (%u cite a rule ID; the rest follow SDM text the catalogue does not number; "
           "see 'vtxref checks')\n", named, named - unruled);
    if (!only && !uncovered_only) {
        printf("\nkvm-unit-tests scenarios (docs/kut.tsv)\n");
        for (unsigned i = 0; i < vtx_kut_row_count; i++) {
            const vtx_kut_row *k = &vtx_kut_rows[i];
            const char *state = k->tests[0] ? (k->not_ported[0] ? "in part" : "ported") : "NOT PORTED";
            printf("%-5s %-10s %s\n", k->id, state, k->title);
            if (k->tests[0])
                print_wrapped("tests", k->tests);
            if (k->not_ported[0])
                printf("    %-8s%s\n", "missing", k->not_ported);
        }
    }
    printf("rules covered: %u/%u\n", covered, vtx_rule_row_count);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("vtxref %s\n", vtx_version());
        return EXIT_OK;
    }
    int n = argc - 2;
    char **rest = argv + 2;
    if (strcmp(cmd, "profiles") == 0)
        return cmd_profiles(n, rest);
    if (strcmp(cmd, "fields") == 0)
        return cmd_fields(n, rest);
    if (strcmp(cmd, "field") == 0)
        return cmd_field(n, rest);
    if (n == 0 && strcmp(cmd, "exit-reasons") == 0)
        return cmd_exit_reasons();
    if (n == 0 && strcmp(cmd, "errors") == 0)
        return cmd_errors();
    if (n == 0 && strcmp(cmd, "checks") == 0)
        return cmd_checks();
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(n, rest);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(n, rest);
    if (strcmp(cmd, "record") == 0)
        return cmd_record(n, rest);
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(n, rest);
    if (strcmp(cmd, "diff") == 0)
        return cmd_diff(n, rest);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(n, rest);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(n, rest);
    if (strcmp(cmd, "instructions") == 0)
        return cmd_instructions(n, rest);
    if (strcmp(cmd, "boot") == 0)
        return cmd_boot(n, rest);
    fprintf(stderr, "%s: unknown command '%s'; try '%s --help'\n", prog, cmd, prog);
    return EXIT_USAGE;
}
