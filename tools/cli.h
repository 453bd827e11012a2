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
/* vtxref instructions [ROW] (tools/cmd_instructions.c) */
int cmd_instructions(int argc, char **argv);

#endif
