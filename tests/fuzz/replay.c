/* Replay inputs through a fuzz target's entry point without libFuzzer (and
 * without its instrumentation): for measuring where an input's time goes
 * outside the fuzzing build, on either Unicorn version, and for ctest to run
 * the committed seeds (tests/fuzz/<target>/) through a target in its check
 * mode.
 *
 * Usage: fuzz_<target>_replay [--mode=reuse|fresh|check] [--repeat=N] [--verbose]
 *                             [--slowest=K] FILE|DIR...
 * Runs every file (a directory: every file in it, sorted by name) N times
 * (default 1), in order, and prints the number of inputs, the time and the rate
 * (--verbose: each input's name before it runs; --slowest: the K inputs that
 * took the most CPU time, summed over the repeats, with their share of the
 * whole).
 * --mode sets VTX_FUZZ_GUEST_MODE (fuzz_guest.c). Exit status: 0; 2 for bad
 * usage; 3 for an unreadable input; a failing input aborts, as under libFuzzer.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct input {
    char *name;
    uint8_t *data;
    size_t size;
    double cpu; /* seconds of CPU time, summed over the repeats (--slowest) */
} input;

static input *inputs;
static size_t n_inputs, cap_inputs;

static void add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        exit(3);
    }
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *b = realloc(buf, cap);
            if (!b)
                exit(3);
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: %s: read error\n", path);
        exit(3);
    }
    fclose(f);
    if (n_inputs == cap_inputs) {
        cap_inputs = cap_inputs ? 2 * cap_inputs : 64;
        input *in = realloc(inputs, cap_inputs * sizeof *in);
        if (!in)
            exit(3);
        inputs = in;
    }
    inputs[n_inputs++] = (input){strdup(path), buf, n, 0};
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int by_cpu_desc(const void *a, const void *b)
{
    double x = ((const input *)a)->cpu, y = ((const input *)b)->cpu;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        exit(3);
    }
    if (!S_ISDIR(st.st_mode)) {
        add_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        exit(3);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                exit(3);
            names = nn;
        }
        size_t len = strlen(path) + strlen(de->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n])
            exit(3);
        snprintf(names[n++], len, "%s/%s", path, de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        add_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    long repeat = 1, slowest = 0;
    int verbose = 0;
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strncmp(argv[i], "--mode=", 7)) {
            setenv("VTX_FUZZ_GUEST_MODE", argv[i] + 7, 1);
        } else if (!strcmp(argv[i], "--verbose")) {
            verbose = 1;
        } else if (!strncmp(argv[i], "--slowest=", 10)) {
            char *end;
            slowest = strtol(argv[i] + 10, &end, 10);
            if (*end || slowest < 1) {
                fprintf(stderr, "replay: --slowest needs a positive number, not '%s'\n", argv[i] + 10);
                return 2;
            }
        } else if (!strncmp(argv[i], "--repeat=", 9)) {
            char *end;
            repeat = strtol(argv[i] + 9, &end, 10);
            if (*end || repeat < 1) {
                fprintf(stderr, "replay: --repeat needs a positive number, not '%s'\n", argv[i] + 9);
                return 2;
            }
        } else {
            fprintf(stderr, "replay: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (i == argc) {
        fprintf(stderr, "usage: %s [--mode=reuse|fresh|check] [--repeat=N] [--verbose] [--slowest=K] FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (; i < argc; i++)
        add_path(argv[i]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long r = 0; r < repeat; r++)
        for (size_t k = 0; k < n_inputs; k++) {
            if (verbose)
                fprintf(stderr, "replay: %s\n", inputs[k].name);
            double c0 = slowest ? cpu_now() : 0;
            LLVMFuzzerTestOneInput(inputs[k].data, inputs[k].size);
            if (slowest)
                inputs[k].cpu += cpu_now() - c0;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    unsigned long runs = (unsigned long)repeat * n_inputs;
    printf("replay: %lu inputs in %.3f s: %.0f inputs/s\n", runs, s, s > 0 ? (double)runs / s : 0.0);
    if (slowest) {
        double all = 0;
        for (size_t k = 0; k < n_inputs; k++)
            all += inputs[k].cpu;
        qsort(inputs, n_inputs, sizeof *inputs, by_cpu_desc);
        printf("replay: %.3f s of CPU time in the target; the slowest inputs:\n", all);
        for (size_t k = 0; k < n_inputs && k < (size_t)slowest; k++)
            printf("  %8.3f ms  %5.1f %%  %s\n", inputs[k].cpu * 1e3 / (double)repeat,
                   all > 0 ? 100.0 * inputs[k].cpu / all : 0.0, inputs[k].name);
    }
    for (size_t k = 0; k < n_inputs; k++) {
        free(inputs[k].name);
        free(inputs[k].data);
    }
    free(inputs);
    return 0;
}
