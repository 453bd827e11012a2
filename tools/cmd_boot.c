/*
 * vtxref boot KERNEL [--module FILE]... [--append CMDLINE] [--profile P] [--max-cycles N]
 *                    [--max-insns N] [--serial FILE] [--ram MIB] [--open-bus]
 *                    [--boundaries FILE] [--explain FILE [--from X] [--to X]] [--vmm-check]
 *                    [--record TRACE] [--vcd FILE] [--html FILE]
 * Boots a Multiboot (v1) kernel on the platform (docs/platform.md) in VMX root
 * operation, streams COM1 to standard output (or FILE), and exits with the
 * kernel's debug-exit code or a documented status. What the guests of the
 * kernel do is shown by tools/boot_observe.c; a boot trace is replayed by
 * tools/boot_replay.c through boot_execute().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "boot.h"
#include "cli.h"

static void usage_boot(FILE *f)
{
    fprintf(f,
            "usage: %s boot KERNEL [--module FILE]... [--append CMDLINE] [--profile P] [--max-cycles N]\n"
            "       [--max-insns N] [--serial FILE] [--ram MIB] [--open-bus] [--boundaries FILE]\n"
            "       [--explain FILE|- [--from X] [--to X]] [--vmm-check[=all]] [--record TRACE]\n"
            "       [--vcd FILE] [--html FILE]\n"
            "Boot a Multiboot (v1) kernel in VMX root operation on one modelled processor (docs/platform.md):\n"
            "the kernel's VMX instructions are the model's, and so are the guests it runs.\n"
            "  --boundaries FILE  the observer's report of the guests' boundaries (-: standard error)\n"
            "  --explain FILE     every boundary of the guests in sentences, as `vtxref explain` (-: standard\n"
            "                     output), each VM entry with the host's VMWRITEs and each VM exit decoded;\n"
            "                     --from/--to: a count of instructions (the machine's), a guest RIP (0x...)\n"
            "                     or a symbol of the kernel (SYM, SYM+N), which also names addresses\n"
            "  --vmm-check[=all]  the VMM checker's findings (docs/vmm-check.md) on standard error where they\n"
            "                     happen; =all adds the checks that take every interrupt acknowledged on exit\n"
            "                     for the guest's (LOST_ACKED_INTERRUPT, DUPLICATE_INTERRUPT)\n"
            "  --record TRACE     record the run as a boot trace (docs/traces.md); `vtxref replay TRACE`\n"
            "  --vcd/--html FILE  a waveform / a timeline page of the guests' windows and exits\n"
            "exit status: the kernel's debug-exit code 0-99; 100 triple fault, 101 budget, 102 unknown port,\n"
            "103 unmodelled memory, 104 hang, 105 unsupported, 106 engine limit, 107 --vmm-check found an\n"
            "error (the kernel's code is in the summary line), 120 bad command line, 121 unreadable or\n"
            "malformed kernel, module, profile or output file.\n",
            prog);
}

static int usage_err(const char *msg)
{
    fprintf(stderr, "%s boot: %s\n", prog, msg);
    usage_boot(stderr);
    return BOOT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *v = x;
    return true;
}

/* The status of a platform run (docs/platform.md, "Statuses"). */
static int status_of(const vtx_platform_result *res)
{
    switch (res->end) {
    case VTX_PLAT_EXIT: return res->exit_code > BOOT_CODE_MAX ? BOOT_CODE_MAX : (int)res->exit_code;
    case VTX_PLAT_TRIPLE_FAULT: return BOOT_TRIPLE_FAULT;
    case VTX_PLAT_BUDGET: return BOOT_BUDGET;
    case VTX_PLAT_UNKNOWN_PORT: return BOOT_UNKNOWN_PORT;
    case VTX_PLAT_UNMODELLED_MMIO: return BOOT_UNMODELLED_MMIO;
    case VTX_PLAT_HANG: return BOOT_HANG;
    case VTX_PLAT_ENGINE_LIMIT: return BOOT_ENGINE_LIMIT;
    default: return BOOT_UNSUPPORTED;
    }
}

int boot_execute(const boot_args *a, const boot_obs_options *oo, boot_obs **keep)
{
    vtx_platform_config cfg = {.profile = a->profile, .ram_bytes = a->ram_mib << 20, .open_bus = a->open_bus,
                               .serial = a->serial};
    vtx_diag diag = {0};
    vtx_mb_module mods[VTX_TRACE_BOOT_MODULES];
    for (size_t i = 0; i < a->n_mods; i++)
        mods[i] = (vtx_mb_module){a->mods[i], a->mods[i]};
    vtx_platform *p = NULL;
    vtx_status st = vtx_platform_create(&cfg, &p, &diag);
    if (st == VTX_OK)
        st = vtx_platform_load_multiboot(p, a->kernel, a->append ? a->append : a->kernel, mods, a->n_mods, &diag);
    if (st != VTX_OK) {
        fprintf(stderr, "%s boot: %s\n", prog, diag.message[0] ? diag.message : vtx_status_name(st));
        vtx_platform_destroy(p);
        return BOOT_INPUT;
    }
    if (getenv("VTXREF_ROOT_TRACE"))
        vtx_root_set_trace(vtx_platform_machine(p), stderr);
    boot_obs *obs = NULL;
    int rc = boot_obs_open(&obs, p, oo);
    if (rc) {
        boot_obs_free(obs);
        vtx_platform_destroy(p);
        return rc;
    }
    vtx_platform_result res;
    st = vtx_platform_run(p, a->max_insns, a->max_cycles, &res);
    char summary[900];
    vtx_machine *m = vtx_platform_machine(p);
    if (st != VTX_OK) {
        fprintf(stderr, "%s boot: the run failed: %s\n", prog, vtx_status_name(st));
        snprintf(summary, sizeof summary, "the run failed: %s", vtx_status_name(st));
        rc = BOOT_UNSUPPORTED;
    } else {
        rc = status_of(&res);
        snprintf(summary, sizeof summary, "%s: %s [%llu instructions, %llu cycles]", vtx_plat_end_name(res.end),
                 res.why, (unsigned long long)vtx_machine_instructions(m), (unsigned long long)vtx_machine_cycles(m));
        if (!boot_obs_replaying(obs))
            fprintf(stderr, "%s boot: %s\n", prog, summary);
    }
    int orc = boot_obs_close(obs, summary, rc, st == VTX_OK); /* the trace's end record: the run's own status */
    /* An error finding of --vmm-check replaces the kernel's own code (0-99), not the platform's
     * statuses (100-106), which say the run itself did not complete (docs/platform.md). */
    if (rc <= BOOT_CODE_MAX && boot_obs_check_errors(obs))
        rc = BOOT_VMM_CHECK;
    if (orc)
        rc = orc;
    boot_obs_detach(obs);
    if (keep)
        *keep = obs;
    else
        boot_obs_free(obs);
    vtx_platform_destroy(p);
    return rc;
}

/* The boot trace's header: the files with their SHA-256 and the arguments. */
static int describe(const boot_args *a, const char *profile_name, vtx_trace_boot *b)
{
    memset(b, 0, sizeof *b);
    vtx_trace_error err = {0};
    snprintf(b->kernel, sizeof b->kernel, "%s", a->kernel);
    vtx_status st = vtx_trace_sha256_file(a->kernel, b->kernel_sha256, &err);
    for (size_t i = 0; st == VTX_OK && i < a->n_mods; i++) {
        snprintf(b->module[i], sizeof b->module[i], "%s", a->mods[i]);
        st = vtx_trace_sha256_file(a->mods[i], b->module_sha256[i], &err);
    }
    if (st != VTX_OK) {
        char msg[900];
        vtx_trace_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s boot: %s\n", prog, msg);
        return BOOT_INPUT;
    }
    b->nmodules = (uint32_t)a->n_mods;
    snprintf(b->cmdline, sizeof b->cmdline, "%s", a->append ? a->append : a->kernel);
    snprintf(b->profile, sizeof b->profile, "%s", profile_name);
    b->ram_mib = a->ram_mib;
    b->max_cycles = a->max_cycles;
    b->max_insns = a->max_insns;
    b->open_bus = a->open_bus;
    return 0;
}

int cmd_boot(int argc, char **argv)
{
    boot_args a = {.ram_mib = 128};
    const char *profile = "server", *serial = NULL;
    boot_obs_options oo = {0};
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool has = i + 1 < argc;
        int pic = cli_picture_option(argc, argv, &i, &oo.vcd, &oo.html);
        if (pic < 0)
            return usage_err("--vcd and --html need a file");
        if (pic)
            continue;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage_boot(stdout);
            return 0;
        } else if (strcmp(arg, "--module") == 0 && has) {
            if (a.n_mods == VTX_TRACE_BOOT_MODULES)
                return usage_err("at most 8 --module");
            a.mods[a.n_mods++] = argv[++i];
        } else if (strcmp(arg, "--append") == 0 && has) {
            a.append = argv[++i];
        } else if (strcmp(arg, "--profile") == 0 && has) {
            profile = argv[++i];
        } else if (strcmp(arg, "--serial") == 0 && has) {
            serial = argv[++i];
        } else if (strcmp(arg, "--boundaries") == 0 && has) {
            oo.boundaries = argv[++i];
        } else if (strcmp(arg, "--explain") == 0 && has) {
            oo.explain = argv[++i];
        } else if ((strcmp(arg, "--from") == 0 || strcmp(arg, "--to") == 0) && has) {
            explain_pos *pos = arg[2] == 'f' ? &oo.from : &oo.to;
            if (explain_parse_pos("boot", arg, argv[++i], pos) != 0)
                return usage_err("--from and --to take a count of instructions, a guest RIP (0x...) or a symbol");
        } else if (strcmp(arg, "--vmm-check") == 0 || strcmp(arg, "--vmm-check=all") == 0) {
            oo.vmm_check = true;
            oo.vmm_check_all = arg[11] == '=';
        } else if (strcmp(arg, "--record") == 0 && has) {
            oo.record = argv[++i];
        } else if (strcmp(arg, "--open-bus") == 0) {
            a.open_bus = true;
        } else if (strcmp(arg, "--max-cycles") == 0 && has) {
            if (!parse_u64(argv[++i], &a.max_cycles))
                return usage_err("--max-cycles needs a number");
        } else if (strcmp(arg, "--max-insns") == 0 && has) {
            if (!parse_u64(argv[++i], &a.max_insns))
                return usage_err("--max-insns needs a number");
        } else if (strcmp(arg, "--ram") == 0 && has) {
            if (!parse_u64(argv[++i], &a.ram_mib) || a.ram_mib < 4 || a.ram_mib > 3072 || (a.ram_mib & 1))
                return usage_err("--ram needs an even number of MiB, 4..3072");
        } else if (arg[0] == '-' && arg[1]) {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown option or missing value: '%s'", arg);
            return usage_err(msg);
        } else if (!a.kernel) {
            a.kernel = arg;
        } else {
            return usage_err("one KERNEL only");
        }
    }
    if (!a.kernel)
        return usage_err("no KERNEL given");
    if ((oo.from.kind || oo.to.kind) && !oo.explain)
        return usage_err("--from and --to need --explain");
    vtx_diag diag = {0};
    if (vtx_profile_resolve(profile, &a.profile, &diag) != VTX_OK) {
        fprintf(stderr, "%s boot: profile '%s': %s\n", prog, profile, diag.message);
        return BOOT_INPUT;
    }
    vtx_trace_boot desc;
    if (oo.record) {
        int rc = describe(&a, profile, &desc);
        if (rc)
            return rc;
        oo.boot = &desc;
    }
    char title[700];
    snprintf(title, sizeof title, "Boot of %s (profile %s%s%s)", a.kernel, a.profile.name, a.append ? ", command line " : "",
             a.append ? a.append : "");
    oo.title = title;
    oo.kernel = a.kernel;
    if (serial) {
        a.serial = fopen(serial, "wb");
        if (!a.serial) {
            fprintf(stderr, "%s boot: %s: cannot write it: %s\n", prog, serial, strerror(errno));
            return BOOT_INPUT;
        }
    }
    int rc = boot_execute(&a, &oo, NULL);
    if (a.serial)
        fclose(a.serial);
    return rc;
}
