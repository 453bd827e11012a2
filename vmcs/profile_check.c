/*
 * Consistency of a CPU profile: the rules the SDM states about the capability
 * MSRs (Vol. 3 Appendix A). A profile that breaks one describes no processor;
 * the message names the MSR and the bit.
 */
#include <stdarg.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "vmcs_internal.h"

/* Report a contradiction: `return fail(diag, "...", ...)`. */
#define fail(diag, ...) (vtx_diag_set((diag), NULL, 0, __VA_ARGS__), VTX_ERR_PROFILE_INVALID)

static const char *msr_name(vtx_cap_msr c)
{
    static const char *const names[] = {
#define VTX_X_N(n, i, d) #n,
        VTX_CAP_MSRS(VTX_X_N)
#undef VTX_X_N
    };
    return names[c];
}

static int lowest_bit(uint32_t v) { return __builtin_ctz(v); }

static const char *bit_label(vtx_ctl_field f, int bit)
{
    const char *n = vtx_control_bit_name(f, (unsigned)bit);
    return n ? n : "unnamed control";
}

/* Allowed-0 bits (must be 1) must be allowed to be 1 (A.3-A.5). */
static vtx_status check_ctls(const vtx_profile *p, vtx_cap_msr c, vtx_ctl_field f, vtx_diag *diag)
{
    uint32_t must1 = (uint32_t)p->msr[c], may1 = (uint32_t)(p->msr[c] >> 32);
    uint32_t bad = must1 & ~may1;
    if (bad) {
        int b = lowest_bit(bad);
        return fail(diag, "%s bit %d (%s): allowed-0 says it must be 1 but allowed-1 says it cannot be 1",
                    msr_name(c), b, bit_label(f, b));
    }
    return VTX_OK;
}

/* The plain MSR reports every default1 control as must-be-1 (A.2). */
static vtx_status check_default1(const vtx_profile *p, vtx_cap_msr c, vtx_ctl_field f, vtx_diag *diag)
{
    uint32_t missing = vtx_ctl_default1(f) & ~(uint32_t)p->msr[c];
    if (missing) {
        int b = lowest_bit(missing);
        return fail(diag, "%s bit %d (%s): a default1 control, but allowed-0 reports it may be 0 "
                    "(only the TRUE MSR may relax default1 bits)",
                    msr_name(c), b, bit_label(f, b));
    }
    return VTX_OK;
}

/* A TRUE MSR has the allowed-1 settings of its plain MSR and may relax only
 * default1 bits of the allowed-0 settings (A.3.1, A.3.2, A.4, A.5). */
static vtx_status check_true(const vtx_profile *p, vtx_cap_msr plain, vtx_cap_msr truem, vtx_ctl_field f,
                             vtx_diag *diag)
{
    uint32_t pm1 = (uint32_t)p->msr[plain], tm1 = (uint32_t)p->msr[truem];
    uint32_t pa1 = (uint32_t)(p->msr[plain] >> 32), ta1 = (uint32_t)(p->msr[truem] >> 32);
    if (pa1 != ta1) {
        int b = lowest_bit(pa1 ^ ta1);
        return fail(diag, "%s bit %d (%s): allowed-1 differs from %s (the TRUE MSR reports the same "
                    "allowed-1 settings)", msr_name(truem), 32 + b, bit_label(f, b), msr_name(plain));
    }
    uint32_t stricter = tm1 & ~pm1;
    if (stricter) {
        int b = lowest_bit(stricter);
        return fail(diag, "%s bit %d (%s): must be 1 here but may be 0 in %s (a TRUE MSR is never "
                    "stricter than its plain MSR)", msr_name(truem), b, bit_label(f, b), msr_name(plain));
    }
    uint32_t relaxed = pm1 & ~tm1 & ~vtx_ctl_default1(f);
    if (relaxed) {
        int b = lowest_bit(relaxed);
        return fail(diag, "%s bit %d (%s): allowed to be 0 although %s requires it to be 1 and it is "
                    "not a default1 bit (a TRUE MSR may relax only default1 bits)",
                    msr_name(truem), b, bit_label(f, b), msr_name(plain));
    }
    return VTX_OK;
}

static vtx_status check_fixed(const vtx_profile *p, vtx_cap_msr f0, vtx_cap_msr f1, vtx_diag *diag)
{
    uint64_t bad = p->msr[f0] & ~p->msr[f1];
    if (bad) {
        int b = __builtin_ctzll(bad);
        return fail(diag, "%s bit %d is fixed to 1 but %s bit %d says it may not be 1", msr_name(f0), b,
                    msr_name(f1), b);
    }
    return VTX_OK;
}

/* A control that can be 1 only together with another control the profile never
 * allows is a contradiction: every VMCS using it would fail VM entry. */
static vtx_status check_dependency(const vtx_profile *p, vtx_ctl_field f, uint32_t bit, vtx_ctl_field df,
                                   uint32_t dbit, const char *rule, vtx_diag *diag)
{
    uint32_t a1, d1;
    vtx_profile_ctl_caps(p, f, NULL, &a1);
    vtx_profile_ctl_caps(p, df, NULL, &d1);
    if ((a1 & bit) && !(d1 & dbit))
        return fail(diag, "%s: \"%s\" may be 1 but \"%s\" may not, so %s rejects every VMCS that uses it",
                    vtx_control_field_name(f), bit_label(f, lowest_bit(bit)),
                    bit_label(df, lowest_bit(dbit)), rule);
    return VTX_OK;
}

vtx_status vtx_profile_validate(const vtx_profile *p, vtx_diag *diag)
{
    if (!p)
        return VTX_ERR_INVALID_ARG;
    vtx_status st;
#define TRY(x) do { if ((st = (x)) != VTX_OK) return st; } while (0)
    if (p->name[0] == '\0')
        return fail(diag, "profile has no name");
    /* What the file format can carry unchanged (docs/profiles.md). */
    if (!memchr(p->name, '\0', sizeof p->name))
        return fail(diag, "profile name is not terminated");
    for (const char *c = p->name; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("._-", *c))
            return fail(diag, "profile name '%s' may contain only letters, digits, '.', '_' and '-'", p->name);
    if (!memchr(p->description, '\0', sizeof p->description))
        return fail(diag, "profile description is not terminated");
    size_t dl = strlen(p->description);
    if (strpbrk(p->description, "#\r\n") || (dl && (isspace((unsigned char)p->description[0]) ||
                                                   isspace((unsigned char)p->description[dl - 1]))))
        return fail(diag, "profile description may not contain '#' or line breaks, nor start or end with a space");
    if (p->phys_addr_width < 32 || p->phys_addr_width > 52)
        return fail(diag, "physical-address-width %u is outside 32..52", p->phys_addr_width);
    if (p->knobs & ~((1u << VTX_KNOB_COUNT) - 1))
        return fail(diag, "knobs 0x%x has bits that name no CFG-* knob", p->knobs);

    uint64_t basic = p->msr[VTX_CAP_IA32_VMX_BASIC];
    if (basic & (1ull << 31))
        return fail(diag, "IA32_VMX_BASIC bit 31: always 0 (the revision identifier has 31 bits)");
    uint32_t size = vtx_basic_region_size(basic);
    if (size == 0 || size > 4096)
        return fail(diag, "IA32_VMX_BASIC bits 44:32: region size %u is outside 1..4096", size);
    /* SDM A.1: bit 48 is always 0 on processors that support Intel 64 architecture,
     * which every modelled processor does. */
    if (basic & (1ull << 48))
        return fail(diag, "IA32_VMX_BASIC bit 48: 32-bit VMX addresses, but the modelled processor supports "
                    "Intel 64 architecture, where this bit is always 0");
    if (basic & (7ull << 45))
        return fail(diag, "IA32_VMX_BASIC bits 47:45: reserved, must be 0");
    unsigned memtype = (unsigned)((basic >> 50) & 0xF);
    if (memtype != 0 && memtype != 6)
        return fail(diag, "IA32_VMX_BASIC bits 53:50: memory type %u is neither 0 (UC) nor 6 (WB)", memtype);

    TRY(check_ctls(p, VTX_CAP_IA32_VMX_PINBASED_CTLS, VTX_CTL_PIN, diag));
    TRY(check_ctls(p, VTX_CAP_IA32_VMX_PROCBASED_CTLS, VTX_CTL_PROC, diag));
    TRY(check_ctls(p, VTX_CAP_IA32_VMX_EXIT_CTLS, VTX_CTL_EXIT, diag));
    TRY(check_ctls(p, VTX_CAP_IA32_VMX_ENTRY_CTLS, VTX_CTL_ENTRY, diag));
    TRY(check_ctls(p, VTX_CAP_IA32_VMX_PROCBASED_CTLS2, VTX_CTL_PROC2, diag));
    TRY(check_default1(p, VTX_CAP_IA32_VMX_PINBASED_CTLS, VTX_CTL_PIN, diag));
    TRY(check_default1(p, VTX_CAP_IA32_VMX_PROCBASED_CTLS, VTX_CTL_PROC, diag));
    TRY(check_default1(p, VTX_CAP_IA32_VMX_EXIT_CTLS, VTX_CTL_EXIT, diag));
    TRY(check_default1(p, VTX_CAP_IA32_VMX_ENTRY_CTLS, VTX_CTL_ENTRY, diag));

    if (vtx_basic_true_ctls(basic)) {
        TRY(check_ctls(p, VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS, VTX_CTL_PIN, diag));
        TRY(check_ctls(p, VTX_CAP_IA32_VMX_TRUE_PROCBASED_CTLS, VTX_CTL_PROC, diag));
        TRY(check_ctls(p, VTX_CAP_IA32_VMX_TRUE_EXIT_CTLS, VTX_CTL_EXIT, diag));
        TRY(check_ctls(p, VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS, VTX_CTL_ENTRY, diag));
        TRY(check_true(p, VTX_CAP_IA32_VMX_PINBASED_CTLS, VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS, VTX_CTL_PIN, diag));
        TRY(check_true(p, VTX_CAP_IA32_VMX_PROCBASED_CTLS, VTX_CAP_IA32_VMX_TRUE_PROCBASED_CTLS, VTX_CTL_PROC, diag));
        TRY(check_true(p, VTX_CAP_IA32_VMX_EXIT_CTLS, VTX_CAP_IA32_VMX_TRUE_EXIT_CTLS, VTX_CTL_EXIT, diag));
        TRY(check_true(p, VTX_CAP_IA32_VMX_ENTRY_CTLS, VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS, VTX_CTL_ENTRY, diag));
    } else {
        for (vtx_cap_msr c = VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS; c <= VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS; c++)
            if (p->msr[c])
                return fail(diag, "%s is set but IA32_VMX_BASIC bit 55 is 0, so the TRUE MSRs do not exist",
                            msr_name(c));
    }

    uint32_t proc_a1 = (uint32_t)(p->msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS] >> 32);
    uint32_t proc2_a1 = (uint32_t)(p->msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] >> 32);
    bool secondary = proc_a1 & VTX_PROC_SECONDARY_CONTROLS;
    if (!secondary && p->msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2])
        return fail(diag, "IA32_VMX_PROCBASED_CTLS2 is set but IA32_VMX_PROCBASED_CTLS bit 63 "
                    "(activate secondary controls) is 0, so it does not exist");
    if (p->msr[VTX_CAP_IA32_VMX_EPT_VPID_CAP] &&
        !(secondary && (proc2_a1 & (VTX_PROC2_ENABLE_EPT | VTX_PROC2_ENABLE_VPID))))
        return fail(diag, "IA32_VMX_EPT_VPID_CAP is set but neither \"enable EPT\" nor \"enable VPID\" may "
                    "be 1, so it does not exist");
    if (p->msr[VTX_CAP_IA32_VMX_VMFUNC] && !(secondary && (proc2_a1 & VTX_PROC2_ENABLE_VMFUNC)))
        return fail(diag, "IA32_VMX_VMFUNC is set but \"enable VM functions\" may not be 1, so it does "
                    "not exist");

    TRY(check_fixed(p, VTX_CAP_IA32_VMX_CR0_FIXED0, VTX_CAP_IA32_VMX_CR0_FIXED1, diag));
    TRY(check_fixed(p, VTX_CAP_IA32_VMX_CR4_FIXED0, VTX_CAP_IA32_VMX_CR4_FIXED1, diag));
    if (!(p->msr[VTX_CAP_IA32_VMX_CR4_FIXED0] & VTX_CR4_VMXE))
        return fail(diag, "IA32_VMX_CR4_FIXED0 bit 13 (VMXE) is 0, but CR4.VMXE is 1 in VMX operation");

    uint64_t misc = p->msr[VTX_CAP_IA32_VMX_MISC];
    if (vtx_misc_cr3_targets(misc) > 4)
        return fail(diag, "IA32_VMX_MISC bits 24:16: %u CR3-target values, but the VMCS has fields for 4",
                    vtx_misc_cr3_targets(misc));
    uint64_t en = p->msr[VTX_CAP_IA32_VMX_VMCS_ENUM];
    if (en & ~0x3FEull)
        return fail(diag, "IA32_VMX_VMCS_ENUM: bits other than 9:1 are reserved and must be 0");

    /* Control dependencies the VM-entry checks impose (ENT-CTL-2/3, unrestricted guest needs EPT). */
    TRY(check_dependency(p, VTX_CTL_PIN, VTX_PIN_VIRTUAL_NMIS, VTX_CTL_PIN, VTX_PIN_NMI_EXITING,
                         "ENT-CTL-2", diag));
    TRY(check_dependency(p, VTX_CTL_PROC, VTX_PROC_NMI_WINDOW_EXITING, VTX_CTL_PIN, VTX_PIN_VIRTUAL_NMIS,
                         "ENT-CTL-3", diag));
    TRY(check_dependency(p, VTX_CTL_EXIT, VTX_EXIT_SAVE_PREEMPTION_TIMER, VTX_CTL_PIN,
                         VTX_PIN_PREEMPTION_TIMER, "ENT-CTL-4", diag));
    TRY(check_dependency(p, VTX_CTL_PROC2, VTX_PROC2_UNRESTRICTED_GUEST, VTX_CTL_PROC2,
                         VTX_PROC2_ENABLE_EPT, "the VM-entry control checks", diag));
#undef TRY
    return VTX_OK;
}
