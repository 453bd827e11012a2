/* vtxref explain: see docs/scenarios.md. */
#include <stdio.h>
#include "cli.h"

int cmd_explain(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "%s: explain: not built yet\n", prog);
    return EXIT_USAGE;
}
