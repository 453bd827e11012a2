/* vtxref record SCENARIO -o TRACE [--vcd F] [--html F] [--no-compress]: run a
 * scenario and record the run as a trace (docs/traces.md). The recorder follows
 * the scenario runner through its on_entry and on_input callbacks. */
#include <stdio.h>
#include <string.h>
#include "vtxref/scenario.h"
#include "vtxref/vtxref.h"

#include "cli.h"

typedef struct rec_ctx {
    cli_pictures pics; /* first: the boundary observer gets the context as its cli_pictures */
    vtx_trace_recorder *rec;
    bool started;
    vtx_status failed;
    vtx_trace_error err;
    uint64_t exits;
} rec_ctx;

static void note(rec_ctx *c, vtx_status st, const char *what)
{
    if (st != VTX_OK && c->failed == VTX_OK) {
        c->failed = st;
        if (!c->err.message[0])
            snprintf(c->err.message, sizeof c->err.message, "%s failed: %s", what, vtx_status_name(st));
    }
}

static void on_input(void *user, const vtx_input *in, bool scheduled)
{
    rec_ctx *c = user;
    note(c, vtx_trace_record_input(c->rec, in, scheduled), "recording an input");
}

/* The runner's memory steps are its only memory writes between exits; their action text is documented
 * (scenario.h: "memory 0x50000: 4 bytes"), so the recorder need not compare the RAM at every entry. */
static void on_action(void *user, uint32_t exit_index, const char *text)
{
    rec_ctx *c = user;
    unsigned long long pa;
    size_t len;
    (void)exit_index;
    if (c->started && sscanf(text, "memory 0x%llx: %zu byte", &pa, &len) == 2)
        note(c, vtx_trace_record_memory(c->rec, pa, len), "recording a memory write");
}

static void on_entry(void *user, vtx_machine *m, const vtx_scenario_setup *setup, const vtx_insn_result *r)
{
    rec_ctx *c = user;
    if (c->failed != VTX_OK)
        return;
    if (!r) {
        if (!c->started) {
            const vtx_trace_region regions[2] = {
                {0, setup->ram_size, setup->ram, VTX_MEM_RWX},
                {setup->vmx_pa, setup->vmx_size, setup->vmx, VTX_MEM_READ | VTX_MEM_WRITE},
            };
            c->started = true;
            vtx_status st = vtx_trace_record_start(c->rec, m, setup->config, regions, 2, &c->err);
            note(c, st, "starting the recording");
            if (st != VTX_OK)
                return;
        }
        note(c, vtx_trace_record_entry(c->rec, m), "recording an entry");
    } else {
        note(c, vtx_trace_record_outcome(c->rec, m, VTX_OK, r), "recording an outcome");
        if (r->outcome == VTX_VMEXIT)
            cli_progress("record", ++c->exits, vtx_machine_instructions(m), false);
    }
    cli_pictures_entry(&c->pics, m, r);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "%s: record: %s (usage: %s record SCENARIO -o TRACE [--vcd FILE] [--html FILE] [--no-compress] [--scan-memory])\n",
            prog, msg, prog);
    return EXIT_USAGE;
}

int cmd_record(int argc, char **argv)
{
    const char *path = NULL, *out = NULL, *vcd = NULL, *html = NULL;
    bool no_compress = false, scan_memory = false;
    for (int i = 0; i < argc; i++) {
        int p = cli_picture_option(argc, argv, &i, &vcd, &html);
        if (p < 0)
            return usage_error("--vcd and --html need a file");
        if (p)
            continue;
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            if (i + 1 >= argc)
                return usage_error("-o needs a file");
            out = argv[++i];
        } else if (strcmp(argv[i], "--no-compress") == 0) {
            no_compress = true;
        } else if (strcmp(argv[i], "--scan-memory") == 0) {
            scan_memory = true; /* compare the RAM at every entry instead (slower; a cross-check) */
        } else if (argv[i][0] == '-' && argv[i][1]) {
            char m[300];
            snprintf(m, sizeof m, "unknown option '%.200s'", argv[i]);
            return usage_error(m);
        } else if (path) {
            return usage_error("one scenario at a time");
        } else {
            path = argv[i];
        }
    }
    if (!path || !out)
        return usage_error(!path ? "no scenario" : "no output file (-o TRACE)");
    vtx_scenario *s = NULL;
    vtx_scenario_error serr;
    char msg[1200];
    vtx_status st = vtx_scenario_load_file(path, &s, &serr);
    if (st != VTX_OK) {
        vtx_scenario_error_format(&serr, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        return st == VTX_ERR_IO ? EXIT_IO : st == VTX_ERR_UNSUPPORTED ? EXIT_TOOL : EXIT_INPUT;
    }
    rec_ctx c = {0};
    vtx_trace_options opt = {.source = path, .no_compress = no_compress, .explicit_memory = !scan_memory};
    int rc = cli_pictures_open(&c.pics, vcd, html, vtx_scenario_name(s));
    if (rc != EXIT_OK) {
        vtx_scenario_free(s);
        return rc;
    }
    if ((st = vtx_trace_record_open(out, &opt, &c.rec, &c.err)) != VTX_OK) {
        vtx_trace_error_format(&c.err, msg, sizeof msg);
        fprintf(stderr, "%s: %s\n", prog, msg);
        cli_pictures_close(&c.pics, false);
        vtx_scenario_free(s);
        return cli_trace_status(st);
    }
    cli_cleanup_add(vtx_trace_record_temp_path(c.rec));
    vtx_scenario_callbacks cb = {.user = &c, .on_entry = on_entry, .on_input = on_input, .on_action = on_action};
    cb.observer = (c.pics.vcd || c.pics.html) ? cli_pictures_boundary : NULL;
    vtx_scenario_result res;
    st = vtx_scenario_run(s, &cb, &res, &serr);
    cli_progress("record", c.exits, res.instructions, true);
    if (st != VTX_OK) {
        vtx_scenario_error_format(&serr, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        vtx_trace_record_abort(c.rec);
        cli_pictures_close(&c.pics, false);
        cli_cleanup_clear();
        vtx_scenario_free(s);
        return st == VTX_ERR_IO ? EXIT_IO : EXIT_INPUT;
    }
    if (c.failed != VTX_OK) {
        snprintf(c.err.file, sizeof c.err.file, "%s", out);
        vtx_trace_error_format(&c.err, msg, sizeof msg);
        fprintf(stderr, "%s: %s\n", prog, msg);
        vtx_trace_record_abort(c.rec);
        cli_pictures_close(&c.pics, false);
        cli_cleanup_clear();
        vtx_scenario_free(s);
        return c.failed == VTX_ERR_IO ? EXIT_IO : EXIT_INPUT;
    }
    st = vtx_trace_record_close(c.rec, res.end, &c.err);
    cli_cleanup_clear();
    rc = cli_pictures_close(&c.pics, st == VTX_OK);
    if (st != VTX_OK) {
        vtx_trace_error_format(&c.err, msg, sizeof msg);
        fprintf(stderr, "%s: %s\n", prog, msg);
        vtx_scenario_free(s);
        return cli_trace_status(st);
    }
    printf("recorded %s: %u exit%s, %llu instructions, %llu cycles (%s) -> %s\n", vtx_scenario_name(s), res.exits,
           res.exits == 1 ? "" : "s", (unsigned long long)res.instructions, (unsigned long long)res.cycles, res.end,
           out);
    vtx_scenario_free(s);
    return rc;
}
