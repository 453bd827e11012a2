/* The VMX-operation observer (vmx.h, vtx_machine_set_vmx_observer): every
 * successful VMWRITE and every VMLAUNCH/VMRESUME, before and after, reported
 * to one callback whoever executes them (a C VMM or a kernel in root
 * operation). `vtxref boot --explain/--record` are built on it. The observer
 * only reads: the call sites pass what the instruction did and nothing else. */
#include "machine_internal.h"

vtx_status vtx_machine_set_vmx_observer(vtx_machine *m, vtx_vmx_observer observer, void *user)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    m->vmx_observer = observer;
    m->vmx_observer_user = user;
    return VTX_OK;
}

vtx_status vtx_machine_request_stop(vtx_machine *m)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    m->bus_stop = true; /* vtx_root_run() ends at its next boundary (root_run.c) */
    return VTX_OK;
}

void vtx_vmx_observe(vtx_machine *m, const vtx_vmx_op *op)
{
    if (m->vmx_observer)
        m->vmx_observer(m->vmx_observer_user, m, op);
}
