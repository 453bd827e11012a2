/* What the `vtxref` subcommands in tools/cmd_*.c share: exit statuses and the program name. */
#ifndef VTX_TOOLS_CLI_H
#define VTX_TOOLS_CLI_H

/* Exit statuses of every vtxref command (documented in `vtxref --help` and docs/scenarios.md). */
enum {
    EXIT_OK = 0,       /* success: every expectation met */
    EXIT_MISMATCH = 1, /* a scenario's expectation failed (run, check) */
    EXIT_USAGE = 2,    /* bad command line */
    EXIT_INPUT = 3,    /* bad input: unknown profile or field, malformed profile or scenario */
    EXIT_IO = 4,       /* I/O error: missing or unreadable file, unwritable output */
    EXIT_TOOL = 5,     /* a tool the scenario needs (nasm) is missing */
};

extern const char *prog;

/* vtxref run SCENARIO [--json] (tools/cmd_run.c) */
int cmd_run(int argc, char **argv);
/* vtxref check DIR|FILE... [--junit FILE] [-j N] (tools/cmd_check.c) */
int cmd_check(int argc, char **argv);
/* vtxref explain SCENARIO [--from X] [--to X] (tools/cmd_explain.c) */
int cmd_explain(int argc, char **argv);
/* vtxref boot KERNEL [--module F] [--append C] [--profile P] [--max-cycles N] [--serial F] (tools/cmd_boot.c) */
int cmd_boot(int argc, char **argv);
/* vtxref instructions [ROW] (tools/cmd_instructions.c) */
int cmd_instructions(int argc, char **argv);

/* vtxref record SCENARIO -o TRACE [--vcd F] [--html F] (tools/cmd_record.c) */
int cmd_record(int argc, char **argv);
/* vtxref replay TRACE [--profile P] [--knob CFG-X=on|off] [--vcd F] [--html F] (tools/cmd_replay.c) */
int cmd_replay(int argc, char **argv);
/* vtxref diff A B (tools/cmd_diff.c) */
int cmd_diff(int argc, char **argv);

/* ---- shared by record, replay and run (tools/trace_cli.c) ---- */
#include <stdbool.h>
#include <stdint.h>
#include "vtxref/trace.h"

/* The pictures a command was asked for (--vcd, --html). */
typedef struct cli_pictures {
    vtx_picture *vcd, *html;
} cli_pictures;
/* Parse "--vcd F" / "--html F" at argv[*i] (advancing *i); 1 taken, 0 not ours, -1 missing argument. */
int cli_picture_option(int argc, char **argv, int *i, const char **vcd, const char **html);
/* Open the pictures (an exit status: EXIT_OK or EXIT_IO with a message). */
int cli_pictures_open(cli_pictures *p, const char *vcd, const char *html, const char *title);
/* A vtx_boundary_observer for both pictures (user: the cli_pictures). */
void cli_pictures_boundary(void *user, const vtx_boundary_report *b);
void cli_pictures_entry(cli_pictures *p, vtx_machine *m, const vtx_insn_result *r);
/* Close them (removed when !ok); an exit status. */
int cli_pictures_close(cli_pictures *p, bool ok);
/* Temporary files removed if the command is interrupted (SIGINT, SIGTERM, SIGHUP). */
void cli_cleanup_add(const char *tmp);
void cli_cleanup_clear(void);
/* Progress on stderr when it is a terminal, at most a few times a second; final ends the line. */
void cli_progress(const char *what, uint64_t exits, uint64_t instructions, bool final);
/* Two records (JSON lines) member by member: those that differ (marked *) and the main ones. */
void cli_side_by_side(const char *expected, const char *actual);
/* A title, then each line of text indented. */
void cli_print_lines(const char *title, const char *text);
/* The first divergence of a replay, as `vtxref replay` prints it (tools/cmd_replay.c). */
void replay_report_divergence(const char *path, const vtx_replay_result *res);
/* Exit status of a trace error status. */
int cli_trace_status(vtx_status st);

#endif
