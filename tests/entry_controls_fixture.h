/* Shared static fixture of the VM-entry control-check tests
 * (test_entry_controls_*.c; SDM Vol. 3 "Checks on VMX Controls"; catalogue F.2
 * ENT-CTL-1..9, E.2 INJ-CHK-1..6): the physical pages the tests point control
 * fields at, a "server" profile with the controls the built-in profiles leave
 * out, and the error-7 expectation. Everything here is static (inline) so each
 * test file gets its own copy.
 */
#ifndef VTX_TEST_ENTRY_CONTROLS_FIXTURE_H
#define VTX_TEST_ENTRY_CONTROLS_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include "baseline.h"

/* Physical pages the tests point control fields at (inside the test RAM). */
#define PG_VAPIC 0x40000u
#define PG_APIC_ACCESS 0x41000u
#define PG_IO_A 0x42000u
#define PG_IO_B 0x43000u
#define PG_MSR_BITMAP 0x44000u
#define PG_PI_DESC 0x45000u
#define PG_PML 0x46000u
#define PG_EPTP_LIST 0x47000u
#define PG_VMREAD 0x48000u
#define PG_VMWRITE 0x49000u
#define PG_VE_INFO 0x4A000u
#define PG_MSR_AREA 0x4B000u
#define EPTP_OK (0x50000ull | 6 | (3 << 3)) /* WB, 4-level walk */

/* ---- fixtures ---- */

/* Add allowed-1 bits to a control capability MSR (and its TRUE twin). */
static inline void allow(vtx_profile *p, vtx_cap_msr plain, vtx_cap_msr tru, uint32_t bits)
{
    p->msr[plain] |= (uint64_t)bits << 32;
    if (tru != plain && vtx_basic_true_ctls(p->msr[VTX_CAP_IA32_VMX_BASIC]))
        p->msr[tru] |= (uint64_t)bits << 32;
}

/* "server" plus the controls the built-in profiles leave out: posted
 * interrupts, APIC virtualization, VM functions (EPTP switching), VMCS
 * shadowing, PML and EPT-violation #VE. */
static inline vtx_profile apicv_profile(void)
{
    vtx_profile p = vt_profile_copy("server");
    snprintf(p.name, sizeof p.name, "server-apicv");
    allow(&p, VTX_CAP_IA32_VMX_PINBASED_CTLS, VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS, VTX_PIN_POSTED_INTR);
    allow(&p, VTX_CAP_IA32_VMX_PROCBASED_CTLS2, VTX_CAP_IA32_VMX_PROCBASED_CTLS2,
          VTX_PROC2_VIRT_APIC_ACCESSES | VTX_PROC2_VIRT_X2APIC | VTX_PROC2_APIC_REG_VIRT |
              VTX_PROC2_VIRT_INTR_DELIVERY | VTX_PROC2_ENABLE_VMFUNC | VTX_PROC2_VMCS_SHADOWING |
              VTX_PROC2_ENABLE_PML | VTX_PROC2_EPT_VIOLATION_VE);
    p.msr[VTX_CAP_IA32_VMX_VMFUNC] = 1; /* EPTP switching */
    return p;
}

static inline void fails(vt_env *e, const char *step, vtx_check check) { vt_expect_entry_vmfail(e, step, 7, check); }


/* Activate the secondary controls with the given bits. */
static inline void proc2(vt_env *e, uint32_t bits)
{
    vt_set_bits(e, VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    vt_vmwrite(e, VTX_VMCS_PROC_CONTROLS2, bits);
}

#endif
