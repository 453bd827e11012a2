/* `vtxref boot` (tools/cmd_boot.c), its observers (tools/boot_observe.c) and the
 * replay of boot traces (tools/boot_replay.c). */
#ifndef VTX_TOOLS_BOOT_H
#define VTX_TOOLS_BOOT_H

#include <stdio.h>
#include "boot_observe.h"

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
    BOOT_VMM_CHECK = 107,     /* --vmm-check: an error finding (instead of the kernel's code 0..99) */
    BOOT_USAGE = 120,         /* bad command line */
    BOOT_INPUT = 121,         /* unreadable or malformed kernel, module, profile or output file */
};

/* One boot: what the command line (or a boot trace's header) says. */
typedef struct boot_args {
    const char *kernel, *append;
    const char *mods[VTX_TRACE_BOOT_MODULES];
    size_t n_mods;
    vtx_profile profile;
    FILE *serial;             /* NULL: standard output */
    uint64_t max_cycles, max_insns, ram_mib;
    bool open_bus;
} boot_args;

/* Boot, observe, run, close the observers; the status of `vtxref boot`. With
 * @p keep the observers are handed back (the replay reads its result there;
 * free with boot_obs_free), else freed. */
int boot_execute(const boot_args *a, const boot_obs_options *oo, boot_obs **keep);
/* True when the observers verify against a trace (replay: no summary line). */
bool boot_obs_replaying(const boot_obs *b);

/* What `vtxref replay` was asked for, for a boot trace. */
typedef struct boot_replay_opts {
    const char *vcd, *html, *serial;
    const char *explain;            /* --explain FILE: the replayed run in sentences */
    const vtx_profile *profile;     /* --profile, or NULL: the trace's */
    uint32_t knobs_set, knobs_clear;
    bool vmm_check, allow_changed;
} boot_replay_opts;
/* Is @p path a boot trace? 1 (header and profile copied), 0 not one (or malformed: the
 * replay reports it), -1 unreadable (message printed). */
int boot_trace_head(const char *path, vtx_trace_boot *boot, vtx_profile *profile);
/* vtxref replay of a boot trace (boot_replay.c): an exit status of `vtxref replay`. */
int boot_replay(const char *path, const vtx_trace_boot *boot, const vtx_profile *recorded, const boot_replay_opts *o);

#endif
