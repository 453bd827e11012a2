/* Placeholder until the loader lands: the library needs one source file. */
#include "vtxref/scenario.h"
