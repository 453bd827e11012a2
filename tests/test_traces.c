/* Recorded runs (docs/traces.md): record and replay every lesson, determinism,
 * divergences reported at the altered record (exit reason, a field, a VMM action,
 * a platform event moved by one instruction), diff, malformed traces (file, line,
 * reason, exit status 3, no partial output), and the C API recording a VMM of the
 * test's own. The lessons' runs cover IW-9, IW-6, EXIT-4 and EXIT-7 end to end:
 * a replay matches only when every exit field does. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"
#include "vtxref/trace.h"
#include "vtxref/vtxref.h"

typedef vt_run run;

/* Run VTX_CLI_PATH with args (NULL-terminated), capturing stdout+stderr. */
static run cli_argv(const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = VTX_CLI_PATH;
    for (; *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    return vt_spawn(argv);
}
#define CLI(...) cli_argv((const char *const[]){__VA_ARGS__, NULL})

static char dir[64];
static void mkdir_tmp(void)
{
    snprintf(dir, sizeof dir, "/tmp/vtx_traces_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}
static void rm_tmp(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[400];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}
TestSuite(traces, .init = mkdir_tmp, .fini = rm_tmp);

static const char *path(const char *name)
{
    static char buf[8][300];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 300, "%s/%s", dir, name);
    return p;
}

static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "cannot read %s", p);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return s;
}

static void spit(const char *p, const char *s)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    fputs(s, f);
    fclose(f);
}

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* 1-based line of the n-th (1-based) line containing @p key. */
static int line_of(const char *text, const char *key, int n)
{
    int line = 1;
    for (const char *l = text; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char *copy = strndup(l, len);
        bool hit = strstr(copy, key) != NULL;
        free(copy);
        if (hit && --n == 0)
            return line;
        line++;
        l = nl ? nl + 1 : l + len;
    }
    return 0;
}

/* The text with, on line @p line only, the first @p from replaced by @p to (NULL @p from: the line replaced). */
static char *alter(const char *text, int line, const char *from, const char *to)
{
    size_t cap = strlen(text) + strlen(to) + 16;
    char *o = malloc(cap), *w = o;
    int ln = 1;
    for (const char *l = text; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) + 1 : strlen(l);
        if (ln == line) {
            char *copy = strndup(l, len);
            char *at = from ? strstr(copy, from) : NULL;
            cr_assert(!from || at, "line %d has no '%s': %.200s", line, from, copy);
            if (from) {
                w += sprintf(w, "%.*s%s%s", (int)(at - copy), copy, to, at + strlen(from));
            } else {
                w += sprintf(w, "%s\n", to);
            }
            free(copy);
        } else {
            memcpy(w, l, len);
            w += len;
        }
        ln++;
        l += len;
    }
    *w = 0;
    return o;
}

static const char *lesson(const char *name)
{
    static char p[300];
    snprintf(p, sizeof p, "%s/examples/lessons/%s.yaml", VTX_SOURCE_DIR, name);
    return p;
}

/* Record lesson 01 (three exits: external interrupt, interrupt window, HLT) into "base.trace". */
static char *base_trace(void)
{
    run r = CLI("record", lesson("01-iw-classic"), "-o", path("base.trace"));
    cr_assert_eq(r.status, 0, "%s", r.out);
    free(r.out);
    return slurp(path("base.trace"), NULL);
}

Test(traces, every_lesson_records_and_replays_and_records_identically)
{
    DIR *d = opendir(VTX_SOURCE_DIR "/examples/lessons");
    cr_assert_not_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
            continue;
        char src[400];
        snprintf(src, sizeof src, "%s/examples/lessons/%s", VTX_SOURCE_DIR, e->d_name);
        run r1 = CLI("record", src, "-o", path("one.trace"));
        cr_assert_eq(r1.status, 0, "%s: %s", e->d_name, r1.out);
        run r2 = CLI("record", src, "-o", path("two.trace"));
        cr_assert_eq(r2.status, 0, "%s: %s", e->d_name, r2.out);
        size_t l1, l2;
        char *a = slurp(path("one.trace"), &l1), *b = slurp(path("two.trace"), &l2);
        cr_assert(l1 == l2 && memcmp(a, b, l1) == 0, "%s: two recordings differ", e->d_name);
        run p = CLI("replay", path("one.trace"));
        cr_assert_eq(p.status, 0, "%s: %s", e->d_name, p.out);
        cr_assert(strstr(p.out, "every outcome matches"), "%s", p.out);
        run df = CLI("diff", path("one.trace"), path("two.trace"));
        cr_assert_eq(df.status, 0, "%s", df.out);
        free(a), free(b), free(r1.out), free(r2.out), free(p.out), free(df.out);
        n++;
    }
    closedir(d);
    cr_assert_geq(n, 10, "only %d lessons", n);
}

/* Replay @p text and expect a divergence reported at @p line, with @p what in the output. */
static void expect_divergence(const char *text, int line, const char *what)
{
    spit(path("alt.trace"), text);
    run r = CLI("replay", path("alt.trace"));
    cr_assert_eq(r.status, 1, "status %d: %s", r.status, r.out);
    char where[340];
    snprintf(where, sizeof where, "%s:%d: the replayed run differs", path("alt.trace"), line);
    cr_assert(strstr(r.out, where), "expected '%s' in:\n%s", where, r.out);
    cr_assert(strstr(r.out, what), "expected '%s' in:\n%s", what, r.out);
    cr_assert(strstr(r.out, "the last instruction boundaries before it"), "%s", r.out);
    free(r.out);
}

Test(traces, an_altered_exit_reason_is_reported_at_its_record)
{
    char *t = base_trace();
    int l = line_of(t, "\"type\":\"exit\"", 2);
    char *a = alter(t, l, "\"reason\":\"0x7\"", "\"reason\":\"0x8\"");
    expect_divergence(a, l, "reason: expected \"0x8\", got \"0x7\"");
    free(a), free(t);
}

Test(traces, an_altered_exit_field_is_reported_at_its_record)
{
    char *t = base_trace();
    int l = line_of(t, "\"type\":\"exit\"", 3);
    char *a = alter(t, l, "\"GUEST_ACTIVITY_STATE\":\"0x0\"", "\"GUEST_ACTIVITY_STATE\":\"0x1\"");
    expect_divergence(a, l, "fields.GUEST_ACTIVITY_STATE: expected \"0x1\", got \"0x0\"");
    free(a), free(t);
}

Test(traces, an_altered_vmm_action_shows_at_the_next_exit)
{
    /* The VMM's reaction to exit 2 clears interrupt-window exiting (IW-6); leave it set and the guest exits
     * again for the window instead of reaching its HLT. */
    char *t = base_trace();
    int l = line_of(t, "\"field\":\"PROC_CONTROLS\"", 2);
    char *a = alter(t, l, "\"value\":\"0x40061f2\"", "\"value\":\"0x40061f6\"");
    int exit3 = line_of(t, "\"type\":\"exit\"", 3);
    cr_assert_gt(exit3, l);
    expect_divergence(a, exit3, "reason_name: expected \"HLT\", got \"INTERRUPT_WINDOW\"");
    /* and the report lists the altered action among those applied since the last matching exit */
    char action[80];
    snprintf(action, sizeof action, "  %d: {\"type\":\"vmwrite\",\"field\":\"PROC_CONTROLS\"", l);
    run r = CLI("replay", path("alt.trace"));
    cr_assert(strstr(r.out, action), "expected '%s' in:\n%s", action, r.out);
    free(r.out);
    free(a), free(t);
}

Test(traces, a_platform_event_moved_by_one_instruction_shows_at_the_next_exit)
{
    char *t = base_trace();
    int l = line_of(t, "\"type\":\"input\"", 1);
    char *a = alter(t, l, "\"when\":5", "\"when\":6");
    expect_divergence(a, line_of(t, "\"type\":\"exit\"", 1), "instructions: expected 5, got 6");
    char action[40];
    snprintf(action, sizeof action, "  %d: {\"type\":\"input\"", l);
    run r = CLI("replay", path("alt.trace"));
    cr_assert(strstr(r.out, action), "expected '%s' in:\n%s", action, r.out);
    free(r.out);
    free(a), free(t);
}

Test(traces, replay_on_another_knob_setting_or_profile)
{
    /* CFG-STI-NMI (BLK-STI-3): with the knob on, the NMI that arrives in the STI shadow exits one instruction
     * later (RIP after the NOP); replayed with the knob off it exits at once: the replay says where. */
    spit(path("knob.yaml"), "profile: server\nguest:\n  mode: long64\n  code: |\n    sti\n    nop\n    nop\n    hlt\n"
                            "controls:\n  pin: [nmi exiting]\nevents:\n  - {instruction: 1, nmi: true}\n");
    run r = CLI("record", path("knob.yaml"), "-o", path("k.trace"));
    cr_assert_eq(r.status, 0, "%s", r.out);
    run same = CLI("replay", path("k.trace"), "--knob", "CFG-STI-NMI=on");
    cr_assert_eq(same.status, 0, "%s", same.out);
    run p = CLI("replay", path("k.trace"), "--knob", "CFG-STI-NMI=off");
    cr_assert_eq(p.status, 1, "%d: %s", p.status, p.out);
    cr_assert(strstr(p.out, "fields.GUEST_RIP: expected \"0x10002\", got \"0x10001\"") &&
                  strstr(p.out, "fields.GUEST_INTERRUPTIBILITY: expected \"0x0\", got \"0x1\""),
              "%s", p.out);
    /* Core 2 has no IA32_PAT/EFER fields: the recorded VMCS cannot be loaded there, and the replay says which. */
    run q = CLI("replay", path("k.trace"), "--profile", "core2");
    cr_assert_eq(q.status, 1, "%d: %s", q.status, q.out);
    cr_assert(strstr(q.out, "GUEST_IA32_PAT: VMWRITE"), "%s", q.out);
    run u = CLI("replay", path("k.trace"), "--knob", "CFG-nope=on");
    cr_assert_eq(u.status, 2, "%s", u.out);
    run v = CLI("replay", path("k.trace"), "--profile", "no-such-profile");
    cr_assert_eq(v.status, 3, "%s", v.out);
    free(r.out), free(same.out), free(p.out), free(q.out), free(u.out), free(v.out);
}

Test(traces, diff_reports_the_first_differing_record)
{
    char *t = base_trace();
    run same = CLI("diff", path("base.trace"), path("base.trace"));
    cr_assert_eq(same.status, 0, "%s", same.out);
    int l = line_of(t, "\"type\":\"exit\"", 2);
    char *a = alter(t, l, "\"instructions\":44", "\"instructions\":45");
    spit(path("alt.trace"), a);
    run d = CLI("diff", path("base.trace"), path("alt.trace"));
    cr_assert_eq(d.status, 1, "%s", d.out);
    char where[64];
    snprintf(where, sizeof where, ":%d and ", l);
    cr_assert(strstr(d.out, where) && strstr(d.out, "instructions: expected 44, got 45"), "%s", d.out);
    run u = CLI("diff", path("base.trace"));
    cr_assert_eq(u.status, 2);
    free(t), free(a), free(same.out), free(d.out), free(u.out);
}

/* A malformed trace: replay and diff exit 3 naming file:line and the reason, and write no picture. */
static void expect_bad(const char *text, int line, const char *reason)
{
    spit(path("bad.trace"), text);
    unlink(path("bad.vcd"));
    run r = CLI("replay", path("bad.trace"), "--vcd", path("bad.vcd"));
    cr_assert_eq(r.status, 3, "status %d: %s", r.status, r.out);
    char where[340];
    snprintf(where, sizeof where, "%s:%d: ", path("bad.trace"), line);
    cr_assert(strstr(r.out, where) && strstr(r.out, reason), "expected '%s' and '%s' in: %s", where, reason, r.out);
    cr_assert(!exists(path("bad.vcd")), "a partial picture was left");
    run d = CLI("diff", path("base.trace"), path("bad.trace"));
    cr_assert_eq(d.status, 3, "diff status %d: %s", d.status, d.out);
    free(r.out), free(d.out);
}

Test(traces, malformed_traces_name_file_line_and_reason)
{
    char *t = base_trace(), *a;
    a = alter(t, 5, NULL, "{\"type\":\"region\",");
    expect_bad(a, 5, "not JSON");
    free(a);
    a = alter(t, 1, "\"version\":1", "\"version\":2");
    expect_bad(a, 1, "version 2 is not supported");
    free(a);
    int enter = line_of(t, "\"type\":\"enter\"", 1);
    a = alter(t, enter, "\"type\":\"enter\"", "\"type\":\"bogus\"");
    expect_bad(a, enter, "unknown record type 'bogus'");
    free(a);
    a = alter(t, enter, ",\"index\":1", "");
    expect_bad(a, enter, "missing member 'index'");
    free(a);
    int in = line_of(t, "\"type\":\"input\"", 1);
    a = alter(t, in, "\"vector\":48", "\"vector\":300");
    expect_bad(a, in, "out of range");
    free(a);
    a = alter(t, enter, "\"type\":\"enter\",\"insn\":\"vmlaunch\",\"index\":1", "\"type\":\"exit\",\"index\":1");
    expect_bad(a, enter, "records out of order");
    free(a);
    int e1 = line_of(t, "\"type\":\"exit\"", 1);
    a = alter(t, e1, "\"reason\":\"0x1\"", "\"reason\":\"0x1ffffffff\"");
    expect_bad(a, e1, "out of range");
    free(a);
    free(t);
}

Test(traces, truncated_traces_are_reported_at_their_last_complete_record)
{
    char *t = base_trace();
    int e2 = line_of(t, "\"type\":\"exit\"", 2);
    /* whole lines up to exit 2 */
    char *cut = strdup(t);
    char *p = cut;
    for (int i = 0; i < e2; i++)
        p = strchr(p, '\n') + 1;
    *p = 0;
    char reason[80];
    snprintf(reason, sizeof reason, "truncated after line %d", e2);
    expect_bad(cut, e2, reason);
    /* cut inside the next line */
    size_t n = strlen(cut);
    strncat(cut, p == cut + n ? t + n : "", 20);
    cut[n + 20] = 0;
    expect_bad(cut, e2 + 1, "truncated: the last line has no newline");
    free(cut), free(t);
}

Test(traces, a_trace_appears_only_when_complete)
{
    /* A scenario that fails to load leaves no trace and no temporary file. */
    spit(path("bad.yaml"), "guest: [\n");
    run r = CLI("record", path("bad.yaml"), "-o", path("none.trace"), "--html", path("none.html"));
    cr_assert_eq(r.status, 3, "%s", r.out);
    cr_assert(!exists(path("none.trace")) && !exists(path("none.html")));
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_assert(!strstr(e->d_name, ".tmp."), "temporary file %s left", e->d_name);
    closedir(d);
    free(r.out);
}

Test(traces, pictures_hold_every_exit)
{
    run r = CLI("record", lesson("01-iw-classic"), "-o", path("p.trace"), "--vcd", path("p.vcd"), "--html",
                path("p.html"));
    cr_assert_eq(r.status, 0, "%s", r.out);
    char *v = slurp(path("p.vcd"), NULL), *h = slurp(path("p.html"), NULL);
    cr_assert(strstr(v, "$enddefinitions $end") && strstr(v, "$var wire 1 \" IF $end"), "%.300s", v);
    /* the exit reasons as values: 1, 7, 12 */
    cr_assert(strstr(v, "b1 -") && strstr(v, "b111 -") && strstr(v, "b1100 -"), "%s", v);
    int exits = 0;
    for (const char *p = h; (p = strstr(p, "\nx({")); p++)
        exits++;
    cr_assert_eq(exits, 3);
    cr_assert(!strstr(h, "https:") && !strstr(h, " src=") && !strstr(h, " href=") && !strstr(h, "@import"),
              "the page refers to something outside it");
    run p = CLI("replay", path("p.trace"), "--vcd", path("q.vcd"));
    cr_assert_eq(p.status, 0, "%s", p.out);
    char *q = slurp(path("q.vcd"), NULL);
    cr_assert_str_eq(strstr(q, "$timescale"), strstr(v, "$timescale"), "replay and record draw different waves");
    free(v), free(h), free(q), free(r.out), free(p.out);
}

/* ---- the C API: a VMM of the test's own, recorded and replayed ---- */

Test(traces, the_c_api_records_a_vmm_of_its_own)
{
    vt_env e;
    vt_setup(&e, "server");
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
    static const uint8_t code[] = {0x0f, 0xa2, 0xf4, 0xf4}; /* cpuid; hlt */
    memcpy(e.ram + 0x10000, code, sizeof code);
    vtx_flat64 g = {.rip = 0x10000, .rsp = 0x9000, .rflags = 2, .tables = 0x20000, .handlers = 0};
    vtx_diag d = {0};
    cr_assert_eq(vtx_setup_flat64(e.m, &g, &d), VTX_OK, "%s", d.message);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS, vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING);
    vtx_trace_recorder *rec;
    vtx_trace_error err;
    cr_assert_eq(vtx_trace_record_open(path("api.trace"), NULL, &rec, &err), VTX_OK, "%s", err.message);
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &e.profile);
    vtx_trace_region reg = {0, VT_RAM_SIZE, e.ram, VTX_MEM_RWX};
    cr_assert_eq(vtx_trace_record_start(rec, e.m, &cfg, &reg, 1, &err), VTX_OK, "%s", err.message);
    vtx_insn_result r;
    cr_assert_eq(vtx_trace_enter(rec, e.m, &r), VTX_OK);
    cr_assert_eq(r.outcome, VTX_VMEXIT);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_REASON), 10u); /* CPUID exits unconditionally */
    /* The VMM's reaction, made behind the recorder's back: RIP, a register, guest memory. */
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, vt_vmread(&e, VTX_VMCS_GUEST_RIP) + 2);
    vtx_gprs gp;
    vtx_machine_get_gprs(e.m, &gp);
    gp.rbx = 0x1234;
    vtx_machine_set_gprs(e.m, &gp);
    e.ram[0x30000] = 0x5a;
    vtx_input drop = {.kind = VTX_INPUT_INTR_CLEAR};
    cr_assert_eq(vtx_trace_raise(rec, e.m, &drop), VTX_OK);
    cr_assert_eq(vtx_trace_enter(rec, e.m, &r), VTX_OK);
    cr_assert_eq(vtx_trace_record_close(rec, "test", &err), VTX_OK, "%s", err.message);
    vt_teardown(&e);

    vtx_trace_reader *rd;
    cr_assert_eq(vtx_trace_reader_open(path("api.trace"), &rd, &err), VTX_OK);
    vtx_trace_record *x = malloc(sizeof *x);
    int count[VTX_TR_COUNT] = {0};
    bool saw_rip = false;
    vtx_status st;
    while ((st = vtx_trace_next(rd, x, &err)) == VTX_OK) {
        count[x->type]++;
        if (x->type == VTX_TR_VMWRITE && x->enc[0] == VTX_VMCS_GUEST_RIP)
            saw_rip = x->value[0] == 0x10002;
        if (x->type == VTX_TR_GPRS)
            cr_assert(x->gprs_mask == 1u << 3 && x->gprs.rbx == 0x1234);
        if (x->type == VTX_TR_MEMORY)
            cr_assert(x->pa == 0x30000 && x->len == 1 && x->data[0] == 0x5a);
    }
    cr_assert_eq(st, VTX_ERR_NOT_FOUND, "%s", err.message);
    vtx_trace_reader_close(rd);
    free(x);
    cr_assert(saw_rip);
    cr_assert_eq(count[VTX_TR_ENTER], 2);
    cr_assert_eq(count[VTX_TR_EXIT], 2);
    cr_assert_eq(count[VTX_TR_GPRS], 1);
    cr_assert_eq(count[VTX_TR_MEMORY], 1);
    cr_assert_eq(count[VTX_TR_INPUT], 1);
    vtx_replay_result *res = malloc(sizeof *res);
    cr_assert_eq(vtx_trace_replay(path("api.trace"), NULL, res, &err), VTX_OK, "%s", err.message);
    cr_assert(!res->diverged, "%s\n%s", res->differences, res->actual);
    cr_assert_eq(res->exits, 2);
    free(res);
}

Test(traces, the_recorder_refuses_what_it_cannot_replay)
{
    vt_env e;
    vt_setup(&e, "server");
    vt_vmxon(&e);
    vtx_trace_recorder *rec;
    vtx_trace_error err;
    cr_assert_eq(vtx_trace_record_open(path("r.trace"), NULL, &rec, &err), VTX_OK);
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &e.profile);
    vtx_trace_region reg = {0, VT_RAM_SIZE, e.ram, VTX_MEM_RWX};
    /* no current VMCS */
    cr_assert_eq(vtx_trace_record_start(rec, e.m, &cfg, &reg, 1, &err), VTX_ERR_STATE);
    cr_assert(strstr(err.message, "current VMCS"), "%s", err.message);
    vt_load_vmcs(&e, VT_VMCS_PA);
    /* a VMCS outside the recorded memory */
    vtx_trace_region small = {0x100000 - 0x1000, 0x1000, e.ram + 0x100000 - 0x1000, VTX_MEM_RWX};
    cr_assert_eq(vtx_trace_record_start(rec, e.m, &cfg, &small, 1, &err), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_trace_record_start(rec, e.m, &cfg, &reg, 1, &err), VTX_OK, "%s", err.message);
    cr_assert_eq(vtx_trace_record_start(rec, e.m, &cfg, &reg, 1, &err), VTX_ERR_STATE);
    /* a VMM that switches VMCS: one VMCS per trace */
    vt_load_vmcs(&e, VT_VMCS2_PA);
    cr_assert_eq(vtx_trace_record_sync(rec, e.m, &err), VTX_ERR_UNSUPPORTED);
    cr_assert(strstr(err.message, "one VMCS"), "%s", err.message);
    const char *tmp = vtx_trace_record_temp_path(rec);
    cr_assert(tmp && exists(tmp));
    char *copy = strdup(tmp);
    vtx_trace_record_abort(rec);
    cr_assert(!exists(copy) && !exists(path("r.trace")), "an abandoned recording left a file");
    free(copy);
    vt_teardown(&e);
}

Test(traces, the_vmms_memory_writes_are_recorded_both_ways)
{
    /* The reaction to the CPUID exit writes guest memory that the guest then loads: the write must be in the
     * trace (a `memory` record) whether the recorder follows the runner's memory steps or compares the RAM. */
    spit(path("mem.yaml"), "profile: server\nguest:\n  mode: long64\n  code: |\n    cpuid\n    mov eax, [0x600]\n"
                           "    hlt\ncontrols: {proc: [hlt exiting]}\nreactions:\n  - on: {exit: CPUID}\n    do:\n"
                           "      - skip: true\n      - memory: [{at: 0x600, u32: 0x1234}]\n");
    const char *modes[2][2] = {{"e.trace", NULL}, {"s.trace", "--scan-memory"}};
    for (int i = 0; i < 2; i++) {
        run r = modes[i][1] ? CLI("record", path("mem.yaml"), "-o", path(modes[i][0]), modes[i][1])
                            : CLI("record", path("mem.yaml"), "-o", path(modes[i][0]));
        cr_assert_eq(r.status, 0, "%s", r.out);
        char *t = slurp(path(modes[i][0]), NULL);
        int l = line_of(t, "\"type\":\"memory\"", 1);
        cr_assert_gt(l, 0, "%s: no memory record", modes[i][0]);
        cr_assert(strstr(t, "\"rax\":\"0x1234\""), "the guest did not load the VMM's value");
        run p = CLI("replay", path(modes[i][0]));
        cr_assert_eq(p.status, 0, "%s", p.out);
        /* without the write the guest loads 0: the replay diverges at the HLT exit */
        int ex = line_of(t, "\"type\":\"exit\"", 2);
        char *b = strdup(t);
        /* drop the memory line: replace it with a harmless register write */
        char *c = alter(b, l, NULL, "{\"type\":\"gprs\",\"gprs\":{\"r15\":\"0x0\"}}");
        expect_divergence(c, ex, "gprs.rax: expected \"0x1234\", got \"0x0\"");
        free(b), free(c), free(t), free(r.out), free(p.out);
    }
}
