/* decode: see the header. */
#include "engine.h"
#include "deliver.h"
