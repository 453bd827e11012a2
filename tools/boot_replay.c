/*
 * vtxref replay of a boot trace (docs/traces.md "Boot traces"): the header names
 * the kernel, its modules (each with its SHA-256), the command line, the
 * profile, the RAM and the budget. Replay checks the files, boots the kernel
 * again on the trace's profile (or --profile) and compares every record the run
 * produces with the trace's (tools/boot_observe.c with a verifying recorder,
 * vtx_trace_verify_open): the first difference is reported as for scenario
 * traces. Statuses: 0 every record matches, 1 the run differs (or --vmm-check
 * found an error), 3 malformed trace, kernel changed since the recording
 * (SHA-256 differs; --allow-changed replays it anyway) or not bootable, 4 a
 * kernel or module missing or unreadable.
 */
#include <stdlib.h>
#include <string.h>
#include "boot.h"
#include "cli.h"

int boot_trace_head(const char *path, vtx_trace_boot *boot, vtx_profile *profile)
{
    vtx_trace_reader *rd = NULL;
    vtx_trace_error err = {0};
    if (vtx_trace_reader_open(path, &rd, &err) != VTX_OK) {
        char msg[900];
        vtx_trace_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s: replay: %s\n", prog, msg);
        return -1;
    }
    vtx_trace_record *rec = malloc(sizeof *rec);
    int kind = 0;
    if (rec && vtx_trace_next(rd, rec, &err) == VTX_OK && rec->type == VTX_TR_HEADER && rec->boot) {
        *boot = *rec->boot;
        if (vtx_trace_next(rd, rec, &err) == VTX_OK && rec->type == VTX_TR_PROFILE) {
            *profile = rec->profile;
            kind = 1;
        }
    }
    free(rec);
    vtx_trace_reader_close(rd);
    return kind; /* a malformed trace is reported by the replay that reads it again */
}

/* The kernel and modules are there and unchanged: 0, else an exit status with a message. */
static int check_file(const char *trace, const char *what, const char *file, const char *want, bool allow)
{
    char got[65];
    vtx_trace_error err = {0};
    if (vtx_trace_sha256_file(file, got, &err) != VTX_OK) {
        fprintf(stderr, "%s: replay: %s: the %s the trace boots, %s, cannot be read: %s\n", prog, trace, what, file,
                err.message);
        return EXIT_IO;
    }
    if (strcmp(got, want) == 0)
        return 0;
    fprintf(stderr, "%s: replay: %s: the %s %s changed since the recording: SHA-256 %s, the trace says %s%s\n",
            prog, trace, what, file, got, want,
            allow ? " (replayed anyway: --allow-changed)" : "; --allow-changed replays it anyway and shows where the "
                                                           "run first differs");
    return allow ? 0 : EXIT_INPUT;
}

int boot_replay(const char *path, const vtx_trace_boot *b, const vtx_profile *recorded, const boot_replay_opts *o)
{
    int rc = check_file(path, "kernel", b->kernel, b->kernel_sha256, o->allow_changed);
    for (uint32_t i = 0; !rc && i < b->nmodules; i++)
        rc = check_file(path, "module", b->module[i], b->module_sha256[i], o->allow_changed);
    if (rc)
        return rc;
    boot_args a = {.kernel = b->kernel, .append = b->cmdline, .n_mods = b->nmodules, .profile = *recorded,
                   .max_cycles = b->max_cycles, .max_insns = b->max_insns, .ram_mib = b->ram_mib,
                   .open_bus = b->open_bus};
    if (o->profile)
        a.profile = *o->profile;
    a.profile.knobs = (a.profile.knobs | o->knobs_set) & ~o->knobs_clear;
    for (uint32_t i = 0; i < b->nmodules; i++)
        a.mods[i] = b->module[i];
    a.serial = fopen(o->serial ? o->serial : "/dev/null", "wb");
    if (!a.serial) {
        fprintf(stderr, "%s: replay: %s: cannot write it\n", prog, o->serial ? o->serial : "/dev/null");
        return EXIT_IO;
    }
    char title[700];
    snprintf(title, sizeof title, "Replay of %s (%s)", path, b->kernel);
    boot_obs_options oo = {.title = title, .vcd = o->vcd, .html = o->html, .vmm_check = o->vmm_check, .verify = path,
                           .boot = b, .explain = o->explain, .kernel = b->kernel};
    boot_obs *obs = NULL;
    int status = boot_execute(&a, &oo, &obs);
    fclose(a.serial);
    const vtx_replay_result *res = boot_obs_replay_result(obs);
    if (!res) {
        /* The trace is malformed, or the kernel could not be booted (the message is printed). */
        boot_obs_free(obs);
        return EXIT_INPUT;
    }
    if (res->diverged) {
        replay_report_divergence(path, res);
        boot_obs_free(obs);
        return EXIT_MISMATCH;
    }
    printf("replay %s: every record matches (%llu outcome%s, %llu instructions, %llu cycles; the run's status %d)\n",
           path, (unsigned long long)res->exits, res->exits == 1 ? "" : "s", (unsigned long long)res->instructions,
           (unsigned long long)res->cycles, status);
    boot_obs_free(obs);
    return status == BOOT_VMM_CHECK ? EXIT_MISMATCH : EXIT_OK;
}
