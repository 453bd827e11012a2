/*
 * vtxref boot KERNEL [--module FILE] [--append CMDLINE] [--profile P] [--max-cycles N]
 *                    [--max-insns N] [--serial FILE] [--ram MIB] [--boundaries FILE] [--open-bus]
 * Boots a Multiboot (v1) kernel on the platform (docs/platform.md) in VMX root
 * operation, streams COM1 to standard output (or FILE), and exits with the
 * kernel's debug-exit code or a documented status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "platform.h"

/* The exit statuses of `vtxref boot` (docs/platform.md, "Statuses"). */
enum {
    BOOT_CODE_MAX = 99,       /* the kernel's code 0..99 is the status (larger codes give 99) */
    BOOT_TRIPLE_FAULT = 100,
    BOOT_BUDGET = 101,
    BOOT_UNKNOWN_PORT = 102,
    BOOT_UNMODELLED_MMIO = 103,
    BOOT_HANG = 104,
    BOOT_UNSUPPORTED = 105,
    BOOT_ENGINE_LIMIT = 106,  /* Unicorn 2.0.1 cannot run the kernel's non-identity paging */
    BOOT_USAGE = 120,         /* bad command line */
    BOOT_INPUT = 121,         /* unreadable or malformed kernel, module or profile */
};

/* --boundaries: the observer (observer.h) of the guests the kernel runs. One
 * line per boundary where something was pending or the guest did not simply
 * execute on: the clock, RIP, IF, blocking, the action and the winner, then one
 * line per event that was blocked, beaten or taken, with the rule that decided. */
static void boot_boundary(void *user, const vtx_boundary_report *b)
{
    FILE *f = user;
    static const char *const st[] = {"idle", "blocked", "beaten", "taken"};
    static const char *const act[] = {"active", "HLT", "shutdown", "wait-for-SIPI"};
    bool any = b->action != VTX_ACT_EXECUTE || b->after_entry;
    for (int e = 0; e < VTX_EV_COUNT && !any; e++)
        any = b->events[e].state != VTX_EVS_IDLE;
    if (!any)
        return;
    fprintf(f, "guest boundary: instruction %llu, cycle %llu, RIP 0x%llx, IF=%u%s%s%s, %s%s -> %s%s%s\n",
            (unsigned long long)b->instructions, (unsigned long long)b->cycle, (unsigned long long)b->rip,
            (unsigned)((b->rflags >> 9) & 1), (b->interruptibility & 1) ? ", blocking by STI" : "",
            (b->interruptibility & 2) ? ", blocking by MOV SS" : "", (b->interruptibility & 8) ? ", NMI blocking" : "",
            act[b->activity & 3], b->after_entry ? " (after VM entry)" : "", vtx_boundary_action_name(b->action),
            b->winner >= 0 ? ": " : "", b->winner >= 0 ? vtx_event_name((vtx_event)b->winner) : "");
    for (int e = 0; e < VTX_EV_COUNT; e++) {
        const vtx_event_verdict *v = &b->events[e];
        if (v->state == VTX_EVS_IDLE)
            continue;
        fprintf(f, "    %-16s %s", vtx_event_name((vtx_event)e), st[v->state & 3]);
        if (v->rule || v->why)
            fprintf(f, " (%s%s%s)", v->rule ? v->rule : "", v->rule && v->why ? ": " : "", v->why ? v->why : "");
        fputc('\n', f);
    }
}

static int usage_err(const char *msg)
{
    fprintf(stderr, "%s boot: %s\nusage: %s boot KERNEL [--module FILE]... [--append CMDLINE] [--profile P] "
            "[--max-cycles N] [--max-insns N] [--serial FILE] [--ram MIB] [--boundaries FILE] [--open-bus]\n", prog, msg, prog);
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

int cmd_boot(int argc, char **argv)
{
    const char *kernel = NULL, *append = NULL, *profile = "server", *serial = NULL, *bounds = NULL;
    vtx_mb_module mods[8];
    size_t n_mods = 0;
    uint64_t max_cycles = 0, max_insns = 0, ram_mib = 128;
    bool open_bus = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--module") == 0 && has) {
            if (n_mods == 8)
                return usage_err("at most 8 --module");
            mods[n_mods].path = argv[++i];
            mods[n_mods].string = mods[n_mods].path;
            n_mods++;
        } else if (strcmp(a, "--append") == 0 && has) {
            append = argv[++i];
        } else if (strcmp(a, "--profile") == 0 && has) {
            profile = argv[++i];
        } else if (strcmp(a, "--serial") == 0 && has) {
            serial = argv[++i];
        } else if (strcmp(a, "--boundaries") == 0 && has) {
            bounds = argv[++i];
        } else if (strcmp(a, "--open-bus") == 0) {
            open_bus = true;
        } else if (strcmp(a, "--max-cycles") == 0 && has) {
            if (!parse_u64(argv[++i], &max_cycles))
                return usage_err("--max-cycles needs a number");
        } else if (strcmp(a, "--max-insns") == 0 && has) {
            if (!parse_u64(argv[++i], &max_insns))
                return usage_err("--max-insns needs a number");
        } else if (strcmp(a, "--ram") == 0 && has) {
            if (!parse_u64(argv[++i], &ram_mib) || ram_mib < 4 || ram_mib > 3072 || (ram_mib & 1))
                return usage_err("--ram needs an even number of MiB, 4..3072");
        } else if (a[0] == '-' && a[1]) {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown option or missing value: '%s'", a);
            return usage_err(msg);
        } else if (!kernel) {
            kernel = a;
        } else {
            return usage_err("one KERNEL only");
        }
    }
    if (!kernel)
        return usage_err("no KERNEL given");
    vtx_platform_config cfg = {.ram_bytes = ram_mib << 20, .open_bus = open_bus};
    vtx_diag diag = {0};
    if (vtx_profile_resolve(profile, &cfg.profile, &diag) != VTX_OK) {
        fprintf(stderr, "%s boot: profile '%s': %s\n", prog, profile, diag.message);
        return BOOT_INPUT;
    }
    FILE *out = NULL;
    if (serial) {
        out = fopen(serial, "wb");
        if (!out) {
            fprintf(stderr, "%s boot: %s: cannot write it: %s\n", prog, serial, strerror(errno));
            return BOOT_INPUT;
        }
        cfg.serial = out;
    }
    vtx_platform *p = NULL;
    vtx_status st = vtx_platform_create(&cfg, &p, &diag);
    if (st == VTX_OK)
        st = vtx_platform_load_multiboot(p, kernel, append ? append : kernel, mods, n_mods, &diag);
    if (st != VTX_OK) {
        fprintf(stderr, "%s boot: %s\n", prog, diag.message[0] ? diag.message : vtx_status_name(st));
        vtx_platform_destroy(p);
        if (out)
            fclose(out);
        return BOOT_INPUT;
    }
    if (getenv("VTXREF_ROOT_TRACE"))
        vtx_root_set_trace(vtx_platform_machine(p), stderr);
    FILE *bf = NULL;
    if (bounds) {
        bf = strcmp(bounds, "-") == 0 ? stderr : fopen(bounds, "w");
        if (!bf) {
            fprintf(stderr, "%s boot: %s: cannot write it: %s\n", prog, bounds, strerror(errno));
            vtx_platform_destroy(p);
            if (out)
                fclose(out);
            return BOOT_INPUT;
        }
        vtx_machine_set_observer(vtx_platform_machine(p), boot_boundary, bf);
    }
    vtx_platform_result res;
    st = vtx_platform_run(p, max_insns, max_cycles, &res);
    int rc;
    if (st != VTX_OK) {
        fprintf(stderr, "%s boot: the run failed: %s\n", prog, vtx_status_name(st));
        rc = BOOT_UNSUPPORTED;
    } else {
        switch (res.end) {
        case VTX_PLAT_EXIT: rc = res.exit_code > BOOT_CODE_MAX ? BOOT_CODE_MAX : (int)res.exit_code; break;
        case VTX_PLAT_TRIPLE_FAULT: rc = BOOT_TRIPLE_FAULT; break;
        case VTX_PLAT_BUDGET: rc = BOOT_BUDGET; break;
        case VTX_PLAT_UNKNOWN_PORT: rc = BOOT_UNKNOWN_PORT; break;
        case VTX_PLAT_UNMODELLED_MMIO: rc = BOOT_UNMODELLED_MMIO; break;
        case VTX_PLAT_HANG: rc = BOOT_HANG; break;
        case VTX_PLAT_ENGINE_LIMIT: rc = BOOT_ENGINE_LIMIT; break;
        default: rc = BOOT_UNSUPPORTED; break;
        }
        vtx_machine *m = vtx_platform_machine(p);
        fprintf(stderr, "%s boot: %s: %s [%llu instructions, %llu cycles]\n", prog, vtx_plat_end_name(res.end),
                res.why, (unsigned long long)vtx_machine_instructions(m), (unsigned long long)vtx_machine_cycles(m));
    }
    vtx_platform_destroy(p);
    if (bf && bf != stderr)
        fclose(bf);
    if (out)
        fclose(out);
    return rc;
}
