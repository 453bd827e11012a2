/* The EPT pointer (EPTP) as the processor validates it, shared by VM entry and INVEPT. */
#include "machine_internal.h"

/* EPTP validity as VM entry checks it (SDM "VM-Execution Control Fields"):
 * a supported memory type, a supported page-walk length, A/D only if supported,
 * reserved bits 11:7 and those beyond the physical-address width clear. */
bool vtx_eptp_valid(const vtx_machine *m, uint64_t eptp, const char **why)
{
    uint64_t cap = 0;
    vtx_profile_read_msr(&m->profile, VTX_MSR_IA32_VMX_EPT_VPID_CAP, &cap);
    unsigned mt = eptp & 7, walk = (eptp >> 3) & 7;
    if (!((mt == 0 && (cap & (1u << 8))) || (mt == 6 && (cap & (1u << 14))))) {
        *why = "memory type (bits 2:0) is not one IA32_VMX_EPT_VPID_CAP allows";
        return false;
    }
    if (!((walk == 3 && (cap & (1u << 6))) || (walk == 4 && (cap & (1u << 7))))) {
        *why = "page-walk length (bits 5:3) is not one IA32_VMX_EPT_VPID_CAP allows";
        return false;
    }
    if ((eptp & (1u << 6)) && !(cap & (1u << 21))) {
        *why = "bit 6 (accessed/dirty flags) is set but A/D flags are not supported";
        return false;
    }
    if ((eptp & 0xF80) || (eptp >> m->profile.phys_addr_width)) {
        *why = "reserved bits (11:7 or beyond the physical-address width) are set";
        return false;
    }
    return true;
}
