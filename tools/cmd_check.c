/* vtxref check: see docs/scenarios.md. */
#include <stdio.h>
#include "cli.h"

int cmd_check(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "%s: check: not built yet\n", prog);
    return EXIT_USAGE;
}
