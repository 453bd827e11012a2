/*
 * vtxref check DIR|FILE... [--junit FILE] [-j N] [--no-vmm-check]: run scenario files as a
 * conformance suite (docs/scenarios.md, "Commands").
 *
 * Every *.yaml under a directory (recursively, sorted by path) and every file
 * named on the command line is one job. Jobs run in fork()ed worker processes,
 * at most N at a time (default: the online cores): the library is not
 * thread-safe yet, and a crash in one scenario must not end the whole run.
 * Each worker sends one fixed-size record through its own pipe; the parent
 * prints the records in job order, whatever order the workers finish in, so the
 * output is the same for every N.
 *
 * Output, one line per job: `PASS name`, `FAIL name: first mismatch`,
 * `SKIP name: no expectations`, `ERROR file:line:col: reason`; then
 * `N passed, N failed[, N skipped][, N errors]`. Exit status (tools/cli.h): 0 all
 * passed, 1 a scenario failed (or crashed), 3 a scenario is bad input, 4 a file
 * is missing or unreadable or the JUnit file cannot be written, 5 nasm is
 * missing; the highest applies.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check_report.h"
#include "cli.h"
#include "vtxref/scenario.h"

/* ---- the list of scenario files ---- */

typedef struct {
    char **v;
    size_t n, cap;
} path_list;

static int list_push(path_list *l, const char *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(p);
    return l->v[l->n] ? (int)l->n++ : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_yaml_ext(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/* Add every *.yaml below @p dir to @p out, sorted by path. Returns 0, or -1 (errno) when unreadable. */
static int collect_dir(const char *dir, path_list *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    path_list here = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p;
        if (asprintf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name) < 0)
            continue;
        struct stat st;
        if (stat(p, &st) == 0 && (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && has_yaml_ext(e->d_name))))
            list_push(&here, p);
        free(p);
    }
    closedir(d);
    qsort(here.v, here.n, sizeof *here.v, cmp_str);
    for (size_t i = 0; i < here.n; i++) {
        struct stat st;
        if (stat(here.v[i], &st) == 0 && S_ISDIR(st.st_mode))
            collect_dir(here.v[i], out); /* an unreadable subdirectory is skipped */
        else
            list_push(out, here.v[i]);
        free(here.v[i]);
    }
    free(here.v);
    return 0;
}

/* ---- one job, in a worker process ---- */

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* Load and run one scenario file; fill @p r. Runs in the worker. */
static bool vmm_check = true; /* --no-vmm-check turns it off */

static void run_job(const char *path, check_record *r)
{
    memset(r, 0, sizeof *r);
    r->magic = CHECK_RECORD_MAGIC;
    vtx_scenario *s = NULL;
    vtx_scenario_error err = {0};
    vtx_status st = vtx_scenario_load_file(path, &s, &err);
    if (st != VTX_OK) {
        r->kind = CHECK_ERROR;
        r->status = st == VTX_ERR_IO ? EXIT_IO : st == VTX_ERR_UNSUPPORTED ? EXIT_TOOL : EXIT_INPUT;
        if (!err.file[0])
            copy_str(err.file, sizeof err.file, path);
        vtx_scenario_error_format(&err, r->message, sizeof r->message);
        copy_str(r->name, sizeof r->name, path);
        return;
    }
    copy_str(r->name, sizeof r->name, vtx_scenario_name(s));
    if (!vtx_scenario_has_expectations(s)) {
        r->kind = CHECK_SKIP;
        copy_str(r->message, sizeof r->message, "no expectations");
        vtx_scenario_free(s);
        return;
    }
    vtx_scenario_result res;
    memset(&res, 0, sizeof res);
    vtx_scenario_callbacks cb = {0};
    vtx_scenario_run_options opts = {.vmm_check = vmm_check};
    memset(&err, 0, sizeof err);
    st = vtx_scenario_run_with(s, &cb, &opts, &res, &err);
    if (st != VTX_OK) {
        r->kind = CHECK_ERROR;
        r->status = st == VTX_ERR_IO ? EXIT_IO : st == VTX_ERR_UNSUPPORTED ? EXIT_TOOL : EXIT_INPUT;
        if (!err.file[0])
            copy_str(err.file, sizeof err.file, path);
        vtx_scenario_error_format(&err, r->message, sizeof r->message);
    } else if (res.outcome == VTX_SCN_PASS) {
        r->kind = CHECK_PASS;
    } else if (res.outcome == VTX_SCN_MISMATCH) {
        r->kind = CHECK_FAIL;
        r->status = EXIT_MISMATCH;
        copy_str(r->message, sizeof r->message, res.first_mismatch[0] ? res.first_mismatch : res.end);
    } else {
        r->kind = CHECK_FAIL;
        r->status = EXIT_MISMATCH;
        snprintf(r->message, sizeof r->message, "the run could not be carried out: %s", res.end);
    }
    r->exits = res.exits;
    r->instructions = res.instructions;
    vtx_scenario_free(s);
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        len -= (size_t)w;
    }
}

/* ---- the parent: a pool of workers ---- */

typedef struct {
    pid_t pid;
    int fd;     /* read end of the worker's pipe */
    size_t got; /* bytes of the record received */
    bool done;
    check_record rec;
} job;

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void worker_died(job *j, const char *path, int wstatus)
{
    if (j->got == sizeof j->rec && j->rec.magic == CHECK_RECORD_MAGIC)
        return;
    char name[sizeof j->rec.name];
    const char *b = base_name(path);
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".yaml") == 0)
        n -= 5;
    snprintf(name, sizeof name, "%.*s", (int)n, b);
    check_record *r = &j->rec;
    memset(r, 0, sizeof *r);
    r->magic = CHECK_RECORD_MAGIC;
    r->kind = CHECK_FAIL;
    r->status = EXIT_MISMATCH;
    copy_str(r->name, sizeof r->name, name);
    if (WIFSIGNALED(wstatus))
        snprintf(r->message, sizeof r->message, "the run crashed (signal %d, %s)", WTERMSIG(wstatus),
                 strsignal(WTERMSIG(wstatus)));
    else
        snprintf(r->message, sizeof r->message, "the worker ended (status %d) without a result",
                 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
}

static int start_job(job *j, const char *path)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        fcntl(p[1], F_SETFD, FD_CLOEXEC); /* nasm, run by the loader, must not hold the pipe open */
        check_record *r = calloc(1, sizeof *r);
        if (!r)
            _exit(EXIT_IO);
        run_job(path, r);
        write_all(p[1], r, sizeof *r);
        _exit(0);
    }
    close(p[1]);
    j->pid = pid;
    j->fd = p[0];
    j->got = 0;
    return 0;
}

/* Read what a worker sent so far (non-blocking once it has ended). */
static void drain(job *j)
{
    while (j->got < sizeof j->rec) {
        ssize_t r = read(j->fd, (char *)&j->rec + j->got, sizeof j->rec - j->got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        j->got += (size_t)r;
    }
}

static void print_record(const job *j, const char *path)
{
    const check_record *r = &j->rec;
    switch (r->kind) {
    case CHECK_PASS:
        printf("PASS %s\n", r->name);
        break;
    case CHECK_FAIL:
        printf("FAIL %s: %s\n", r->name[0] ? r->name : base_name(path), r->message);
        break;
    case CHECK_SKIP:
        printf("SKIP %s: %s\n", r->name, r->message);
        break;
    default:
        printf("ERROR %s\n", r->message);
        break;
    }
}

static void progress(bool tty, size_t done, size_t total, size_t running)
{
    if (!tty)
        return;
    fprintf(stderr, "\r\033[K[%zu/%zu] %zu running", done, total, running);
    fflush(stderr);
}

static void progress_clear(bool tty)
{
    if (tty) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

static void usage_check(FILE *out)
{
    fprintf(out,
            "usage: %s check DIR|FILE... [--junit FILE] [-j N] [--no-vmm-check]\n"
            "Run every scenario with expectations (*.yaml under each DIR, recursively, and each FILE);\n"
            "one line per scenario (PASS, FAIL with the first mismatch, SKIP, ERROR), then\n"
            "'N passed, N failed'. -j N: run N at a time (default: the number of cores).\n"
            "--junit FILE: also write the results as JUnit XML.\n"
            "The VMM checker (docs/vmm-check.md) watches every run: an error finding the scenario does not\n"
            "expect (expect: findings:) fails it, and so does an expected finding that does not occur;\n"
            "--no-vmm-check turns it off.\n"
            "exit status: 0 all passed, 1 a scenario failed, 2 bad command line, 3 a malformed\n"
            "scenario, 4 a missing or unreadable file (or an unwritable --junit file), 5 nasm missing.\n",
            prog);
}

int cmd_check(int argc, char **argv)
{
    const char *junit = NULL;
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    path_list args = {0};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage_check(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--junit") == 0 || strncmp(a, "--junit=", 8) == 0) {
            if (a[7] == '=')
                junit = a + 8;
            else if (i + 1 < argc)
                junit = argv[++i];
            else
                junit = "";
            if (!junit[0]) {
                fprintf(stderr, "%s: check: --junit needs a file name\n", prog);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "-j") == 0 || strncmp(a, "-j", 2) == 0 || strncmp(a, "--jobs", 6) == 0) {
            const char *v = NULL;
            if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0)
                v = i + 1 < argc ? argv[++i] : "";
            else if (strncmp(a, "--jobs=", 7) == 0)
                v = a + 7;
            else if (a[1] == 'j')
                v = a + 2;
            char *end = NULL;
            long n = v && *v ? strtol(v, &end, 10) : 0;
            if (!v || !*v || *end || n < 1 || n > 1024) {
                fprintf(stderr, "%s: check: -j needs a number of jobs from 1 to 1024\n", prog);
                return EXIT_USAGE;
            }
            jobs = n;
        } else if (strcmp(a, "--no-vmm-check") == 0) {
            vmm_check = false;
        } else if (strcmp(a, "--vmm-check") == 0) {
            vmm_check = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: check: unknown option '%s'\n", prog, a);
            usage_check(stderr);
            return EXIT_USAGE;
        } else {
            list_push(&args, a);
        }
    }
    if (args.n == 0) {
        fprintf(stderr, "%s: check: no scenario directory or file given\n", prog);
        usage_check(stderr);
        return EXIT_USAGE;
    }
    if (jobs < 1)
        jobs = 1;

    /* The jobs: each argument's files; an argument that is missing is an ERROR job of its own. */
    path_list files = {0};
    path_list missing = {0}; /* "path: reason" of the arguments that could not be read, by job index */
    int status = EXIT_OK;
    for (size_t i = 0; i < args.n; i++) {
        struct stat st;
        bool bad = stat(args.v[i], &st) != 0 || (S_ISDIR(st.st_mode) && collect_dir(args.v[i], &files) != 0);
        if (bad) {
            char *msg;
            if (asprintf(&msg, "%s: %s", args.v[i], strerror(errno)) >= 0) {
                while (missing.n < files.n)
                    list_push(&missing, "");
                list_push(&files, args.v[i]);
                list_push(&missing, msg);
                free(msg);
            }
        } else if (!S_ISDIR(st.st_mode)) {
            list_push(&files, args.v[i]);
        }
    }
    while (missing.n < files.n)
        list_push(&missing, "");

    bool tty = isatty(STDERR_FILENO);
    job *js = calloc(files.n ? files.n : 1, sizeof *js);
    if (!js) {
        fprintf(stderr, "%s: check: out of memory\n", prog);
        return EXIT_IO;
    }
    size_t next = 0, printed = 0, finished = 0, running = 0;
    for (size_t i = 0; i < files.n; i++) {
        js[i].fd = -1;
        if (missing.v[i][0]) {
            check_record *r = &js[i].rec;
            r->magic = CHECK_RECORD_MAGIC;
            r->kind = CHECK_ERROR;
            r->status = EXIT_IO;
            copy_str(r->name, sizeof r->name, files.v[i]);
            copy_str(r->message, sizeof r->message, missing.v[i]);
            js[i].got = sizeof *r;
            js[i].done = true;
            finished++;
        }
    }
    size_t passed = 0, failed = 0, skipped = 0, errors = 0;
    signal(SIGPIPE, SIG_IGN);
    while (printed < files.n) {
        while (next < files.n && running < (size_t)jobs) {
            if (js[next].done) {
                next++;
                continue;
            }
            if (start_job(&js[next], files.v[next]) != 0) {
                if (running == 0) { /* cannot fork at all: run it here */
                    run_job(files.v[next], &js[next].rec);
                    js[next].got = sizeof js[next].rec;
                    js[next].done = true;
                    finished++;
                    next++;
                }
                break;
            }
            running++;
            next++;
        }
        progress(tty, finished, files.n, running);
        if (running) {
            /* Read from the workers while waiting, so no pipe ever fills. */
            struct pollfd *pf = calloc(running, sizeof *pf);
            size_t *ix = calloc(running, sizeof *ix);
            size_t k = 0;
            for (size_t i = printed; i < next && pf && ix; i++)
                if (!js[i].done && js[i].fd >= 0) {
                    pf[k].fd = js[i].fd;
                    pf[k].events = POLLIN;
                    ix[k++] = i;
                }
            if (pf && ix && poll(pf, k, 1000) > 0) {
                for (size_t q = 0; q < k; q++)
                    if (pf[q].revents)
                        drain(&js[ix[q]]);
            }
            free(pf);
            free(ix);
            int ws;
            pid_t pid;
            while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
                for (size_t i = printed; i < next; i++)
                    if (js[i].pid == pid && !js[i].done) {
                        drain(&js[i]);
                        close(js[i].fd);
                        js[i].fd = -1;
                        worker_died(&js[i], files.v[i], ws);
                        js[i].done = true;
                        running--;
                        finished++;
                        break;
                    }
            }
        }
        /* Print what is complete, in job order. */
        bool cleared = false;
        while (printed < files.n && js[printed].done) {
            if (!cleared) {
                progress_clear(tty);
                cleared = true;
            }
            print_record(&js[printed], files.v[printed]);
            const check_record *r = &js[printed].rec;
            if (r->kind == CHECK_PASS)
                passed++;
            else if (r->kind == CHECK_FAIL)
                failed++;
            else if (r->kind == CHECK_SKIP)
                skipped++;
            else
                errors++;
            if (r->status > status)
                status = r->status;
            printed++;
        }
        fflush(stdout);
    }
    progress_clear(tty);
    printf("%zu passed, %zu failed", passed, failed);
    if (skipped)
        printf(", %zu skipped", skipped);
    if (errors)
        printf(", %zu error%s", errors, errors == 1 ? "" : "s");
    printf("\n");
    fflush(stdout);

    if (junit) {
        check_result_list rl = {files.n, NULL, NULL};
        const check_record **recs = calloc(files.n ? files.n : 1, sizeof *recs);
        if (recs) {
            for (size_t i = 0; i < files.n; i++)
                recs[i] = &js[i].rec;
            rl.records = recs;
            rl.paths = (const char *const *)files.v;
            if (check_write_junit(junit, &rl) != 0) {
                fprintf(stderr, "%s: check: cannot write %s: %s\n", prog, junit, strerror(errno));
                if (status < EXIT_IO)
                    status = EXIT_IO;
            }
            free(recs);
        }
    }
    for (size_t i = 0; i < files.n; i++) {
        free(files.v[i]);
        free(missing.v[i]);
    }
    free(missing.v);
    for (size_t i = 0; i < args.n; i++)
        free(args.v[i]);
    free(files.v);
    free(args.v);
    free(js);
    return status;
}
