/* What `vtxref boot` shows of the guests a bare-metal VMM runs (tools/boot_observe.c):
 * the observer dump (--boundaries), the explain sentences (--explain), the
 * pictures (--vcd, --html), the VMM checker (--vmm-check) and the trace
 * (--record; replay verifies against one). One fan-out behind the machine's
 * boundary observer and VMX-operation observer (vmx.h). */
#ifndef VTX_TOOLS_BOOT_OBSERVE_H
#define VTX_TOOLS_BOOT_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>
#include "explain.h"
#include "platform.h"
#include "vtxref/trace.h"

/* What to observe (all optional). */
typedef struct boot_obs_options {
    const char *title;          /* the run, for the explain header and the pictures */
    const char *kernel;         /* the kernel file: its ELF symbols name guest addresses in --explain */
    const char *boundaries;     /* --boundaries FILE ("-": standard error) */
    const char *explain;        /* --explain FILE ("-": standard output) */
    explain_pos from, to;       /* --from / --to */
    bool vmm_check;             /* --vmm-check */
    bool vmm_check_all;         /* --vmm-check=all: also the checks on interrupts acknowledged on exit */
    const char *vcd, *html;     /* --vcd / --html */
    const char *record;         /* --record TRACE */
    bool no_compress;           /* unused by boot traces (no pages); kept for symmetry */
    const char *verify;         /* replay: the trace the run is compared with */
    const vtx_trace_boot *boot; /* the header of a recorded boot trace */
} boot_obs_options;

typedef struct boot_obs boot_obs;

/* Install the observers on the platform's machine. Returns an exit status of
 * `vtxref boot` (0, or 121 with a message naming the file that cannot be
 * written or read). */
int boot_obs_open(boot_obs **out, vtx_platform *p, const boot_obs_options *o);
/* The run is over: flush the explanation, finalize the checker, close the
 * pictures and the trace (@p summary: how it ended, one sentence; @p status:
 * `vtxref boot`'s status). Returns 0, or 121 when an output could not be
 * written (the message is printed). */
int boot_obs_close(boot_obs *b, const char *summary, int status, bool ok);
/* Error findings of the VMM checker so far. */
uint32_t boot_obs_check_errors(const boot_obs *b);
/* Replay: the run differed from the trace (stop early), and the result. */
bool boot_obs_diverged(const boot_obs *b);
const vtx_replay_result *boot_obs_replay_result(const boot_obs *b);
/* Take the observers off the machine (before the platform goes). */
void boot_obs_detach(boot_obs *b);
void boot_obs_free(boot_obs *b);

#endif
