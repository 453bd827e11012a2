/* vtxref diff A B: compare two traces record by record (docs/traces.md); exit 0
 * when equal, 1 with the first difference, 2 bad usage, 3 a malformed trace, 4 I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vtxref/vtxref.h"

#include "boot.h"
#include "cli.h"

int cmd_diff(int argc, char **argv)
{
    if (argc != 2 || argv[0][0] == '-' || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s diff TRACE_A TRACE_B\n", prog);
        return EXIT_USAGE;
    }
    vtx_diff_result *res = malloc(sizeof *res);
    if (!res)
        return EXIT_IO;
    vtx_trace_error err;
    vtx_status st = vtx_trace_diff(argv[0], argv[1], res, &err);
    if (st != VTX_OK) {
        char msg[900];
        vtx_trace_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s: diff: %s\n", prog, msg);
        free(res);
        return cli_trace_status(st);
    }
    /* Boot traces of different kernels (the header's boot member is not compared): say so first. */
    vtx_trace_boot ba, bb;
    vtx_profile pa, pb;
    if (boot_trace_head(argv[0], &ba, &pa) == 1 && boot_trace_head(argv[1], &bb, &pb) == 1 &&
        (strcmp(ba.kernel_sha256, bb.kernel_sha256) || strcmp(ba.cmdline, bb.cmdline)))
        printf("note: the traces boot different kernels or command lines:\n  A: %s (SHA-256 %s) %s\n  B: %s (SHA-256 "
               "%s) %s\n",
               ba.kernel, ba.kernel_sha256, ba.cmdline, bb.kernel, bb.kernel_sha256, bb.cmdline);
    if (!res->differ) {
        printf("the traces are equal (%llu records)\n", (unsigned long long)res->records);
        free(res);
        return EXIT_OK;
    }
    printf("%s:%ld and %s:%ld: the first difference (after %llu equal records)\n", argv[0], res->line_a, argv[1],
           res->line_b, (unsigned long long)res->records);
    cli_side_by_side(res->a, res->b);
    cli_print_lines("differences:", res->differences);
    printf("A: %s\nB: %s\n", res->a, res->b);
    free(res);
    return EXIT_MISMATCH;
}
