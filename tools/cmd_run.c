/* vtxref run: see docs/scenarios.md. */
#include <stdio.h>
#include "cli.h"

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "%s: run: not built yet\n", prog);
    return EXIT_USAGE;
}
