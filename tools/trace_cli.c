/* What record, replay and run share: the --vcd/--html pictures, removing
 * temporary files when interrupted, and progress on a terminal. */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_picture_option(int argc, char **argv, int *i, const char **vcd, const char **html)
{
    const char *a = argv[*i];
    const char **dst = strcmp(a, "--vcd") == 0 ? vcd : strcmp(a, "--html") == 0 ? html : NULL;
    if (!dst)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *dst = argv[++*i];
    return 1;
}

static int open_one(vtx_picture **pic, vtx_picture_kind kind, const char *path, const char *title)
{
    if (!path)
        return EXIT_OK;
    vtx_trace_error err = {0};
    if (vtx_picture_open(kind, path, title, pic, &err) != VTX_OK) {
        char msg[900];
        vtx_trace_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s: %s\n", prog, msg);
        return EXIT_IO;
    }
    return EXIT_OK;
}

int cli_pictures_open(cli_pictures *p, const char *vcd, const char *html, const char *title)
{
    memset(p, 0, sizeof *p);
    int rc = open_one(&p->vcd, VTX_PICTURE_VCD, vcd, title);
    if (rc == EXIT_OK)
        rc = open_one(&p->html, VTX_PICTURE_HTML, html, title);
    if (rc != EXIT_OK) {
        cli_pictures_close(p, false);
        return rc;
    }
    cli_cleanup_add(vtx_picture_temp_path(p->vcd));
    cli_cleanup_add(vtx_picture_temp_path(p->html));
    return EXIT_OK;
}

void cli_pictures_boundary(void *user, const vtx_boundary_report *b)
{
    cli_pictures *p = user;
    if (p->vcd)
        vtx_picture_boundary(p->vcd, b);
    if (p->html)
        vtx_picture_boundary(p->html, b);
}

void cli_pictures_entry(cli_pictures *p, vtx_machine *m, const vtx_insn_result *r)
{
    if (p->vcd)
        vtx_picture_on_entry(p->vcd, m, r);
    if (p->html)
        vtx_picture_on_entry(p->html, m, r);
}

int cli_pictures_close(cli_pictures *p, bool ok)
{
    int rc = EXIT_OK;
    vtx_picture *all[2] = {p->vcd, p->html};
    for (int i = 0; i < 2; i++) {
        if (!all[i])
            continue;
        vtx_trace_error err = {0};
        if (vtx_picture_close(all[i], ok, &err) != VTX_OK && ok) {
            char msg[900];
            vtx_trace_error_format(&err, msg, sizeof msg);
            fprintf(stderr, "%s: %s\n", prog, msg);
            rc = EXIT_IO;
        }
    }
    memset(p, 0, sizeof *p);
    cli_cleanup_clear();
    return rc;
}

/* ---- interrupted commands leave no temporary files ---- */
static char *cleanup[8];
static volatile sig_atomic_t ncleanup;

static void on_signal(int sig)
{
    for (int i = 0; i < ncleanup; i++)
        if (cleanup[i])
            unlink(cleanup[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_cleanup_add(const char *tmp)
{
    if (!tmp || ncleanup == 8)
        return;
    cleanup[ncleanup] = strdup(tmp);
    ncleanup++;
    if (ncleanup == 1) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
    }
}

void cli_cleanup_clear(void)
{
    int n = ncleanup;
    ncleanup = 0;
    for (int i = 0; i < n; i++) {
        free(cleanup[i]);
        cleanup[i] = NULL;
    }
}

void cli_progress(const char *what, uint64_t exits, uint64_t instructions, bool final)
{
    static int tty = -1;
    static struct timespec last;
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    if (!tty)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - last.tv_sec) + (double)(now.tv_nsec - last.tv_nsec) / 1e9;
    if (!final && dt < 0.25)
        return;
    if (final && last.tv_sec == 0)
        return; /* nothing shown: nothing to end */
    last = now;
    fprintf(stderr, "\r%s: %llu exits, %llu instructions%s", what, (unsigned long long)exits,
            (unsigned long long)instructions, final ? "\n" : "");
    fflush(stderr);
}

int cli_trace_status(vtx_status st)
{
    return st == VTX_OK ? EXIT_OK : st == VTX_ERR_IO ? EXIT_IO : EXIT_INPUT;
}

/* Print the members of two records side by side: every member that differs, and the main ones. */
void cli_side_by_side(const char *expected, const char *actual)
{
    json_object *e = json_tokener_parse(expected), *a = actual[0] ? json_tokener_parse(actual) : NULL;
    static const char *const main_keys[] = {"type", "index", "reason", "reason_name", "instructions", "cycles",
                                            "GUEST_RIP", "GUEST_INTERRUPTIBILITY", "GUEST_ACTIVITY_STATE", NULL};
    printf("  %-32s %-22s %-22s\n", "member", "expected (trace)", "actual (replay)");
    for (int pass = 0; pass < 2 && e; pass++) {
        json_object *eo = e, *ao = a;
        if (pass == 1) {
            eo = ao = NULL;
            json_object_object_get_ex(e, "fields", &eo);
            if (a)
                json_object_object_get_ex(a, "fields", &ao);
            if (!eo || !ao)
                break; /* one side has no fields: the differences say so */
        }
        json_object_object_foreach(eo, k, ev)
        {
            if (json_object_is_type(ev, json_type_object))
                continue;
            json_object *av = NULL;
            if (ao)
                json_object_object_get_ex(ao, k, &av);
            bool differs = !av || !json_object_equal(ev, av);
            bool is_main = false;
            for (const char *const *m = main_keys; *m; m++)
                is_main |= strcmp(*m, k) == 0;
            if (!differs && !is_main)
                continue;
            printf("%c %-32s %-22s %-22s\n", differs ? '*' : ' ', k, json_object_get_string(ev),
                   av ? json_object_get_string(av) : "(none)");
        }
    }
    json_object_put(e);
    json_object_put(a);
}

void cli_print_lines(const char *title, const char *text)
{
    printf("%s\n", title);
    for (const char *l = text; *l;) {
        const char *nl = strchr(l, '\n');
        printf("  %.*s\n", nl ? (int)(nl - l) : (int)strlen(l), l);
        l = nl ? nl + 1 : l + strlen(l);
    }
}
