#include "vtxref/version.h"

const char *vtx_version(void) { return VTX_VERSION_STRING; }
