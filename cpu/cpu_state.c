/* cpu_state: see the header. */
#include "engine.h"
#include "deliver.h"
