/* The baseline VMCS passes VM entry on every built-in profile. */
#include "baseline.h"

static void passes(const char *profile)
{
    vt_env e;
    vt_setup(&e, profile);
    vt_baseline(&e);
    vt_expect_entry_passes(&e, profile);
    vt_teardown(&e);
}

Test(baseline, passes_on_core2) { passes("core2"); }
Test(baseline, passes_on_server) { passes("server"); }
Test(baseline, passes_on_teaching) { passes("teaching"); }
