/* libFuzzer target: the profile-file parser. Any input must give VTX_OK with a
 * profile that validates and round-trips, or a parse/validation error with a
 * message naming the source; never a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vtxref/vtxref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vtx_profile p;
    vtx_diag d = {0};
    vtx_status st = vtx_profile_parse((const char *)data, size, "fuzz", &p, &d);
    if (st != VTX_OK) {
        if (st != VTX_ERR_PARSE && st != VTX_ERR_PROFILE_INVALID)
            abort();
        if (strncmp(d.message, "fuzz", 4) != 0) /* every message names its source */
            abort();
        return 0;
    }
    if (vtx_profile_validate(&p, NULL) != VTX_OK)
        abort();
    /* Whatever parses writes back out and parses to the same profile. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f || vtx_profile_write(&p, f) != VTX_OK)
        abort();
    fclose(f);
    vtx_profile q;
    if (vtx_profile_parse(buf, len, "fuzz-rt", &q, NULL) != VTX_OK || memcmp(&p, &q, sizeof p) != 0)
        abort();
    free(buf);
    return 0;
}
