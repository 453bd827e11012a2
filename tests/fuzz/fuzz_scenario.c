/* libFuzzer target: the scenario loader (docs/scenarios.md). Any input loads or
 * fails with VTX_ERR_PARSE naming the source, never a crash or a leak. Inputs that
 * load are not run (loading only); they do spawn nasm for their code. */
#include <stdlib.h>
#include <string.h>
#include "vtxref/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vtx_scenario *s = NULL;
    vtx_scenario_error e;
    vtx_status st = vtx_scenario_load_text((const char *)data, size, "fuzz", NULL, &s, &e);
    if (st != VTX_OK) {
        if (s || (st != VTX_ERR_PARSE && st != VTX_ERR_IO && st != VTX_ERR_UNSUPPORTED))
            abort();
        if (strcmp(e.file, "fuzz") != 0 || !e.message[0]) /* every error names its source and says why */
            abort();
        char buf[1024];
        vtx_scenario_error_format(&e, buf, sizeof buf);
        return 0;
    }
    char l[64];
    vtx_scenario_label(s, 0x10000, l, sizeof l);
    if (!vtx_scenario_name(s) || !vtx_scenario_description(s))
        abort();
    vtx_scenario_free(s);
    return 0;
}
