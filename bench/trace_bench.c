/*
 * trace_bench: what recording and replaying cost (docs/traces.md "Throughput").
 * The scenario bench/cpuid-storm.yaml (a guest looping over CPUID, the VMM
 * skipping each: 5 000 exits) runs three ways, each in a child process:
 *   plain   vtx_scenario_run() with no callbacks
 *   record  the same, recorded into a trace as `vtxref record` does (the runner's memory steps reported:
 *           vtx_trace_options::explicit_memory)
 *   record-scan  recorded comparing the 4-MiB RAM at every entry (`vtxref record --scan-memory`, and the
 *           C API's default)
 *   replay  vtx_trace_replay() of that trace
 * For each: exits per CPU second (user + system time of the child: the machine
 * is shared, wall time is not a measure) and peak resident memory (ru_maxrss),
 * and the ratios to plain. Prints "bench: NAME VALUE UNIT" lines.
 * Usage: trace_bench [SCENARIO]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vtxref/scenario.h"
#include "vtxref/trace.h"
#include "vtxref/vtxref.h"

typedef struct rec_ctx {
    vtx_trace_recorder *rec;
    bool started;
    vtx_status failed;
} rec_ctx;

static void on_input(void *user, const vtx_input *in, bool scheduled)
{
    rec_ctx *c = user;
    if (vtx_trace_record_input(c->rec, in, scheduled) != VTX_OK)
        c->failed = VTX_ERR_IO;
}

static void on_entry(void *user, vtx_machine *m, const vtx_scenario_setup *setup, const vtx_insn_result *r)
{
    rec_ctx *c = user;
    vtx_status st = VTX_OK;
    if (!r && !c->started) {
        const vtx_trace_region regions[2] = {
            {0, setup->ram_size, setup->ram, VTX_MEM_RWX},
            {setup->vmx_pa, setup->vmx_size, setup->vmx, VTX_MEM_READ | VTX_MEM_WRITE},
        };
        c->started = true;
        st = vtx_trace_record_start(c->rec, m, setup->config, regions, 2, NULL);
    }
    if (st == VTX_OK)
        st = r ? vtx_trace_record_outcome(c->rec, m, VTX_OK, r) : vtx_trace_record_entry(c->rec, m);
    if (st != VTX_OK)
        c->failed = st;
}

/* The child: one mode; exits with 0 and writes the exit count to fd. */
static int child(const char *mode, const char *scn, const char *trace, int fd)
{
    uint64_t exits = 0;
    if (strcmp(mode, "replay") == 0) {
        vtx_replay_result *res = malloc(sizeof *res);
        vtx_trace_error err;
        if (!res || vtx_trace_replay(trace, NULL, res, &err) != VTX_OK || res->diverged) {
            fprintf(stderr, "trace_bench: replay failed: %s\n", err.message);
            return 1;
        }
        exits = res->exits;
    } else {
        vtx_scenario *s;
        vtx_scenario_error serr;
        if (vtx_scenario_load_file(scn, &s, &serr) != VTX_OK) {
            fprintf(stderr, "trace_bench: %s:%d: %s\n", serr.file, serr.line, serr.message);
            return 1;
        }
        rec_ctx c = {0};
        vtx_scenario_callbacks cb = {.user = &c, .on_entry = on_entry, .on_input = on_input};
        bool rec = strncmp(mode, "record", 6) == 0;
        vtx_trace_options opt = {.explicit_memory = strcmp(mode, "record") == 0};
        if (rec && vtx_trace_record_open(trace, &opt, &c.rec, NULL) != VTX_OK)
            return 1;
        vtx_scenario_result res;
        if (vtx_scenario_run(s, rec ? &cb : NULL, &res, &serr) != VTX_OK || c.failed != VTX_OK)
            return 1;
        if (rec && vtx_trace_record_close(c.rec, res.end, NULL) != VTX_OK)
            return 1;
        exits = res.exits;
        vtx_scenario_free(s);
    }
    return write(fd, &exits, sizeof exits) == sizeof exits ? 0 : 1;
}

typedef struct figure {
    double exits_per_s;
    long maxrss_kb;
} figure;

static figure measure(const char *mode, const char *scn, const char *trace)
{
    int fds[2];
    if (pipe(fds) != 0)
        exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        _exit(child(mode, scn, trace, fds[1]));
    }
    close(fds[1]);
    uint64_t exits = 0;
    ssize_t n = read(fds[0], &exits, sizeof exits);
    close(fds[0]);
    int ws;
    struct rusage ru;
    if (wait4(pid, &ws, 0, &ru) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || n != sizeof exits) {
        fprintf(stderr, "trace_bench: %s failed\n", mode);
        exit(1);
    }
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
    return (figure){(double)exits / (cpu > 0 ? cpu : 1e-6), ru.ru_maxrss};
}

int main(int argc, char **argv)
{
    const char *scn = argc > 1 ? argv[1] : VTX_SOURCE_DIR "/bench/cpuid-storm.yaml";
    char trace[] = "/tmp/trace_bench_XXXXXX";
    int fd = mkstemp(trace);
    if (fd < 0)
        return 1;
    close(fd);
    figure plain = measure("plain", scn, trace);
    figure scan = measure("record-scan", scn, trace);
    figure rec = measure("record", scn, trace);
    figure rep = measure("replay", scn, trace);
    unlink(trace);
    printf("bench: trace-plain %.0f exits/cpu-s\n", plain.exits_per_s);
    printf("bench: trace-record %.0f exits/cpu-s (%.3f of plain)\n", rec.exits_per_s, rec.exits_per_s / plain.exits_per_s);
    printf("bench: trace-record-scan %.0f exits/cpu-s (%.3f of plain)\n", scan.exits_per_s,
           scan.exits_per_s / plain.exits_per_s);
    printf("bench: trace-replay %.0f exits/cpu-s (%.3f of plain)\n", rep.exits_per_s, rep.exits_per_s / plain.exits_per_s);
    printf("bench: trace-plain-peak-rss %ld KiB\n", plain.maxrss_kb);
    printf("bench: trace-record-peak-rss %ld KiB (%.2fx plain)\n", rec.maxrss_kb, (double)rec.maxrss_kb / (double)plain.maxrss_kb);
    printf("bench: trace-record-scan-peak-rss %ld KiB (%.2fx plain)\n", scan.maxrss_kb,
           (double)scan.maxrss_kb / (double)plain.maxrss_kb);
    printf("bench: trace-replay-peak-rss %ld KiB (%.2fx plain)\n", rep.maxrss_kb, (double)rep.maxrss_kb / (double)plain.maxrss_kb);
    return 0;
}
