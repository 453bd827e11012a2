/* VM-entry checks: host (see entry_checks.h). */
#include "entry_checks.h"

bool vtx_entry_check_host(const vtx_machine *m, const vtx_vmcs_values *f, vtx_entry_fail *fail)
{
    (void)m;
    (void)f;
    (void)fail;
    return true;
}
