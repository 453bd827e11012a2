/* CPU profiles: the built-ins, which capability MSRs exist, the allowed
 * settings VM entry uses, and validation against the rules of SDM Vol. 3
 * Appendix A "VMX Capability Reporting Facility" (catalogue L.4). */
#include <string.h>
#include "helpers.h"

#define CTLS(must1, may1) (((uint64_t)(may1) << 32) | (uint32_t)(must1))

static vtx_profile copy_of(const char *name)
{
    const vtx_profile *p = NULL;
    cr_assert_eq(vtx_profile_find(name, &p, NULL), VTX_OK, "built-in profile %s exists", name);
    return *p;
}

static uint32_t allowed1(const vtx_profile *p, vtx_cap_msr c) { return (uint32_t)(p->msr[c] >> 32); }
static uint32_t allowed0(const vtx_profile *p, vtx_cap_msr c) { return (uint32_t)p->msr[c]; }

/* Validate p, expect it refused, and expect each substring in the message. */
static void expect_invalid(const char *what, const vtx_profile *p, const char *const *subs)
{
    vtx_diag d;
    memset(&d, 0, sizeof d);
    vtx_status st = vtx_profile_validate(p, &d);
    cr_assert_eq(st, VTX_ERR_PROFILE_INVALID, "%s: expected VTX_ERR_PROFILE_INVALID, got %s", what,
                 vtx_status_name(st));
    for (; *subs; subs++)
        cr_assert(strstr(d.message, *subs), "%s: the message should contain \"%s\" but is \"%s\"", what, *subs,
                  d.message);
    /* The machine refuses it too. */
    vtx_machine_config cfg;
    cr_assert_eq(vtx_machine_config_init(&cfg, p), VTX_OK);
    vtx_machine *m = (vtx_machine *)1;
    cr_assert_eq(vtx_machine_create(&cfg, &m, NULL), VTX_ERR_PROFILE_INVALID, "%s: machine_create accepted it", what);
    cr_assert_null(m, "%s: machine_create must leave *machine NULL on failure", what);
}
#define EXPECT_INVALID(what, p, ...) expect_invalid(what, p, (const char *const[]){__VA_ARGS__, NULL})

/* ---- built-ins ---- */

Test(builtin, core2_server_and_teaching_exist_and_validate)
{
    static const char *const names[] = {"core2", "server", "teaching"};
    cr_assert_geq(vtx_profile_builtin_count(), 3u);
    for (size_t i = 0; i < 3; i++) {
        const vtx_profile *p = NULL;
        cr_assert_eq(vtx_profile_find(names[i], &p, NULL), VTX_OK, "built-in %s is missing", names[i]);
        cr_assert_str_eq(p->name, names[i]);
        cr_assert(p->description[0], "%s has no description", names[i]);
        vtx_diag d = {0};
        cr_assert_eq(vtx_profile_validate(p, &d), VTX_OK, "built-in %s fails validation: %s", names[i], d.message);
    }
    for (size_t i = 0; i < vtx_profile_builtin_count(); i++) {
        vtx_diag d = {0};
        cr_assert_eq(vtx_profile_validate(vtx_profile_builtin(i), &d), VTX_OK, "built-in #%zu: %s", i, d.message);
    }
    cr_assert_null(vtx_profile_builtin(vtx_profile_builtin_count()), "index past the end gives NULL");
}

Test(builtin, unknown_name_lists_the_choices)
{
    const vtx_profile *p = NULL;
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_find("nosuch", &p, &d), VTX_ERR_NOT_FOUND);
    cr_assert(strstr(d.message, "nosuch"), "message names the unknown profile: %s", d.message);
    cr_assert(strstr(d.message, "core2") && strstr(d.message, "server") && strstr(d.message, "teaching"),
              "message lists the built-ins: %s", d.message);
    cr_assert_eq(vtx_profile_find(NULL, &p, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_profile_find("server", NULL, NULL), VTX_ERR_INVALID_ARG);
}

/* core2: an early part, no TRUE MSRs (BASIC[55] = 0), no secondary controls, no
 * preemption timer, no monitor trap flag (their allowed-1 bits are 0). */
Test(builtin, core2_lacks_true_msrs_secondary_controls_timer_and_mtf)
{
    vtx_profile p = copy_of("core2");
    cr_assert(!vtx_basic_true_ctls(p.msr[VTX_CAP_IA32_VMX_BASIC]), "core2: IA32_VMX_BASIC[55] must be 0");
    cr_assert(!(allowed1(&p, VTX_CAP_IA32_VMX_PROCBASED_CTLS) & VTX_PROC_SECONDARY_CONTROLS),
              "core2: 'activate secondary controls' must not be allowed");
    cr_assert(!(allowed1(&p, VTX_CAP_IA32_VMX_PROCBASED_CTLS) & VTX_PROC_MONITOR_TRAP_FLAG),
              "core2: 'monitor trap flag' must not be allowed");
    cr_assert(!(allowed1(&p, VTX_CAP_IA32_VMX_PINBASED_CTLS) & VTX_PIN_PREEMPTION_TIMER),
              "core2: 'activate VMX-preemption timer' must not be allowed");
    cr_assert(!vtx_profile_has_feature(&p, VTX_FEAT_PREEMPTION_TIMER));
    cr_assert(!vtx_profile_has_feature(&p, VTX_FEAT_SECONDARY));
    cr_assert(!vtx_profile_has_feature(&p, VTX_FEAT_EPT));
    cr_assert(!vtx_profile_has_feature(&p, VTX_FEAT_VPID));
    cr_assert(vtx_profile_has_feature(&p, VTX_FEAT_ALWAYS));
    cr_assert(vtx_profile_has_feature(&p, VTX_FEAT_TPR_SHADOW), "core2 has 'use TPR shadow'");
    uint32_t must1 = 1, may1 = 1;
    vtx_profile_ctl_caps(&p, VTX_CTL_PROC2, &must1, &may1);
    cr_assert(must1 == 0 && may1 == 0, "core2: without secondary controls every secondary control must be 0");
}

static void modern(const char *name)
{
    vtx_profile p = copy_of(name);
    cr_assert(vtx_basic_true_ctls(p.msr[VTX_CAP_IA32_VMX_BASIC]), "%s: IA32_VMX_BASIC[55] must be 1", name);
    uint64_t v;
    for (uint32_t idx = VTX_MSR_IA32_VMX_TRUE_PINBASED_CTLS; idx <= VTX_MSR_IA32_VMX_TRUE_ENTRY_CTLS; idx++)
        cr_assert_eq(vtx_profile_read_msr(&p, idx, &v), VTX_OK, "%s: RDMSR 0x%x should work", name, idx);
    uint32_t pin1, proc1, proc2;
    vtx_profile_ctl_caps(&p, VTX_CTL_PIN, NULL, &pin1);
    vtx_profile_ctl_caps(&p, VTX_CTL_PROC, NULL, &proc1);
    vtx_profile_ctl_caps(&p, VTX_CTL_PROC2, NULL, &proc2);
    cr_assert(pin1 & VTX_PIN_PREEMPTION_TIMER, "%s: preemption timer", name);
    cr_assert(proc1 & VTX_PROC_MONITOR_TRAP_FLAG, "%s: monitor trap flag", name);
    cr_assert(proc1 & VTX_PROC_SECONDARY_CONTROLS, "%s: secondary controls", name);
    cr_assert(proc2 & VTX_PROC2_UNRESTRICTED_GUEST, "%s: unrestricted guest", name);
    cr_assert(proc2 & VTX_PROC2_ENABLE_EPT, "%s: EPT", name);
    cr_assert(proc2 & VTX_PROC2_ENABLE_VPID, "%s: VPID", name);
    cr_assert(vtx_profile_has_feature(&p, VTX_FEAT_EPT) && vtx_profile_has_feature(&p, VTX_FEAT_VPID) &&
                  vtx_profile_has_feature(&p, VTX_FEAT_PREEMPTION_TIMER),
              "%s: EPT, VPID and preemption-timer fields exist", name);
    cr_assert_eq(vtx_profile_read_msr(&p, VTX_MSR_IA32_VMX_PROCBASED_CTLS2, &v), VTX_OK);
    cr_assert_eq(vtx_profile_read_msr(&p, VTX_MSR_IA32_VMX_EPT_VPID_CAP, &v), VTX_OK);
    cr_assert_eq(v, p.msr[VTX_CAP_IA32_VMX_EPT_VPID_CAP]);
}

Test(builtin, server_has_true_msrs_timer_mtf_ug_ept_vpid) { modern("server"); }
Test(builtin, teaching_has_true_msrs_timer_mtf_ug_ept_vpid) { modern("teaching"); }

/* RDMSR of a capability MSR the processor does not have would #GP: VTX_ERR_NOT_FOUND. */
Test(builtin, read_msr_reports_msrs_a_profile_lacks)
{
    vtx_profile core2 = copy_of("core2"), server = copy_of("server");
    uint64_t v = 0xAA;
    for (uint32_t idx = VTX_MSR_IA32_VMX_TRUE_PINBASED_CTLS; idx <= VTX_MSR_IA32_VMX_TRUE_ENTRY_CTLS; idx++)
        cr_assert_eq(vtx_profile_read_msr(&core2, idx, &v), VTX_ERR_NOT_FOUND,
                     "core2 has no TRUE MSRs (BASIC[55] = 0), but 0x%x was read", idx);
    cr_assert_eq(vtx_profile_read_msr(&core2, VTX_MSR_IA32_VMX_PROCBASED_CTLS2, &v), VTX_ERR_NOT_FOUND,
                 "core2 cannot activate secondary controls, so IA32_VMX_PROCBASED_CTLS2 does not exist");
    cr_assert_eq(vtx_profile_read_msr(&core2, VTX_MSR_IA32_VMX_EPT_VPID_CAP, &v), VTX_ERR_NOT_FOUND);
    cr_assert_eq(vtx_profile_read_msr(&core2, VTX_MSR_IA32_VMX_VMFUNC, &v), VTX_ERR_NOT_FOUND);
    cr_assert_eq(vtx_profile_read_msr(&server, VTX_MSR_IA32_VMX_VMFUNC, &v), VTX_ERR_NOT_FOUND,
                 "server cannot enable VM functions, so IA32_VMX_VMFUNC does not exist");
    cr_assert_eq(vtx_profile_read_msr(&server, 0x492, &v), VTX_ERR_NOT_FOUND, "0x492 is not a profile MSR");
    cr_assert_eq(vtx_profile_read_msr(&server, 0x47F, &v), VTX_ERR_NOT_FOUND);
    cr_assert_eq(v, 0xAAu, "a failed read must not write the value");
    /* Every processor with VMX has these. */
    for (uint32_t idx = VTX_MSR_IA32_VMX_BASIC; idx <= VTX_MSR_IA32_VMX_VMCS_ENUM; idx++) {
        cr_assert_eq(vtx_profile_read_msr(&core2, idx, &v), VTX_OK, "core2 must have MSR 0x%x", idx);
        cr_assert_eq(v, core2.msr[idx - VTX_MSR_IA32_VMX_BASIC]);
    }
    cr_assert_eq(vtx_profile_read_msr(NULL, VTX_MSR_IA32_VMX_BASIC, &v), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_profile_read_msr(&core2, VTX_MSR_IA32_VMX_BASIC, NULL), VTX_ERR_INVALID_ARG);
}

/* ENT-CTL-1: with IA32_VMX_BASIC[55] = 1, VM entry uses the TRUE MSRs; else the plain ones. */
Test(builtin, ctl_caps_uses_true_msrs_when_basic_bit_55_is_set)
{
    VTX_COVERS("ENT-CTL-1");
    vtx_profile p = copy_of("server");
    uint32_t must1, may1;
    vtx_profile_ctl_caps(&p, VTX_CTL_PROC, &must1, &may1);
    cr_assert_eq(must1, allowed0(&p, VTX_CAP_IA32_VMX_TRUE_PROCBASED_CTLS), "server: TRUE proc allowed-0");
    cr_assert_eq(may1, allowed1(&p, VTX_CAP_IA32_VMX_TRUE_PROCBASED_CTLS));
    cr_assert(!(must1 & VTX_PROC_CR3_LOAD_EXITING), "server's TRUE MSR lets CR3-load exiting be 0");
    vtx_profile_ctl_caps(&p, VTX_CTL_ENTRY, &must1, NULL);
    cr_assert_eq(must1, allowed0(&p, VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS));
    vtx_profile_ctl_caps(&p, VTX_CTL_EXIT, &must1, NULL);
    cr_assert_eq(must1, allowed0(&p, VTX_CAP_IA32_VMX_TRUE_EXIT_CTLS));
    vtx_profile_ctl_caps(&p, VTX_CTL_PIN, &must1, NULL);
    cr_assert_eq(must1, allowed0(&p, VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS));
    vtx_profile_ctl_caps(&p, VTX_CTL_PROC2, &must1, &may1);
    cr_assert_eq(may1, allowed1(&p, VTX_CAP_IA32_VMX_PROCBASED_CTLS2), "secondary controls have no TRUE MSR");

    /* The same profile without BASIC[55] (and hence without TRUE MSRs) uses the plain MSRs. */
    p.msr[VTX_CAP_IA32_VMX_BASIC] &= ~(1ull << 55);
    for (vtx_cap_msr c = VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS; c <= VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS; c++)
        p.msr[c] = 0;
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_OK, "%s", d.message);
    vtx_profile_ctl_caps(&p, VTX_CTL_PROC, &must1, &may1);
    cr_assert_eq(must1, allowed0(&p, VTX_CAP_IA32_VMX_PROCBASED_CTLS), "without BASIC[55]: plain proc allowed-0");
    cr_assert(must1 & VTX_PROC_CR3_LOAD_EXITING, "the plain MSR reports CR3-load exiting as must-be-1");

    vtx_profile c = copy_of("core2");
    vtx_profile_ctl_caps(&c, VTX_CTL_EXIT, &must1, &may1);
    cr_assert_eq(must1, allowed0(&c, VTX_CAP_IA32_VMX_EXIT_CTLS));
    cr_assert_eq(may1, allowed1(&c, VTX_CAP_IA32_VMX_EXIT_CTLS));
    /* NULL outputs are allowed. */
    vtx_profile_ctl_caps(&c, VTX_CTL_EXIT, NULL, NULL);
}

/* Catalogue L.4 default1 classes. */
Test(builtin, default1_classes)
{
    cr_assert_eq(vtx_ctl_default1(VTX_CTL_PIN), 0x00000016u);
    cr_assert_eq(vtx_ctl_default1(VTX_CTL_PROC), 0x0401E172u);
    cr_assert_eq(vtx_ctl_default1(VTX_CTL_EXIT), 0x00036DFFu);
    cr_assert_eq(vtx_ctl_default1(VTX_CTL_ENTRY), 0x000011FFu);
    cr_assert_eq(vtx_ctl_default1(VTX_CTL_PROC2), 0u);
}

Test(builtin, knob_ids)
{
    cr_assert_str_eq(vtx_knob_id(VTX_KNOB_BIT_STI_NMI), "CFG-STI-NMI");
    cr_assert_str_eq(vtx_knob_id(VTX_KNOB_BIT_PT_SHADOW), "CFG-PT-SHADOW");
    cr_assert_null(vtx_knob_id(VTX_KNOB_COUNT));
    cr_assert_not_null(vtx_knob_description(0));
    cr_assert_null(vtx_knob_description(VTX_KNOB_COUNT));
    /* Catalogue 0.1 recommended defaults. */
    cr_assert(VTX_KNOBS_DEFAULT & VTX_KNOB_STI_NMI);
    cr_assert(VTX_KNOBS_DEFAULT & VTX_KNOB_MSS_NMI);
    cr_assert(!(VTX_KNOBS_DEFAULT & VTX_KNOB_MSS_CHAIN));
    cr_assert(!(VTX_KNOBS_DEFAULT & VTX_KNOB_PT_SHADOW));
    cr_assert(!(VTX_KNOBS_DEFAULT & VTX_KNOB_STI_SMI));
}

/* ---- validation: each contradiction, with the MSR and the bit named ---- */

Test(validate, null_profile_and_null_diag)
{
    cr_assert_eq(vtx_profile_validate(NULL, NULL), VTX_ERR_INVALID_ARG);
    vtx_profile p = copy_of("server");
    p.phys_addr_width = 20;
    cr_assert_eq(vtx_profile_validate(&p, NULL), VTX_ERR_PROFILE_INVALID, "diag may be NULL");
}

/* A.3: a control reported as must-be-1 (allowed-0) must be allowed to be 1. */
Test(validate, allowed0_bit_not_in_allowed1)
{
    vtx_profile p = copy_of("core2");
    p.msr[VTX_CAP_IA32_VMX_PINBASED_CTLS] |= VTX_PIN_PREEMPTION_TIMER; /* must be 1, may not be 1 */
    EXPECT_INVALID("core2 with pin bit 6 in allowed-0 only", &p, "IA32_VMX_PINBASED_CTLS", "bit 6",
                   "Activate VMX-preemption timer", "allowed-0", "allowed-1");
    p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] |= VTX_PROC2_VMCS_SHADOWING;
    EXPECT_INVALID("server with secondary bit 14 in allowed-0 only", &p, "IA32_VMX_PROCBASED_CTLS2", "bit 14");
}

/* A.2: the plain MSRs report every default1 control as must-be-1. */
Test(validate, default1_bit_missing_from_plain_allowed0)
{
    vtx_profile p = copy_of("core2");
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS] &= ~(uint64_t)VTX_PROC_CR3_LOAD_EXITING;
    EXPECT_INVALID("core2 plain proc MSR with CR3-load exiting may-be-0", &p, "IA32_VMX_PROCBASED_CTLS", "bit 15",
                   "CR3-load exiting", "default1");
    p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_ENTRY_CTLS] &= ~(uint64_t)VTX_ENTRY_LOAD_DEBUG_CONTROLS;
    EXPECT_INVALID("server plain entry MSR with bit 2 may-be-0", &p, "IA32_VMX_ENTRY_CTLS", "bit 2", "default1");
}

/* A.3.1: a TRUE MSR reports the same allowed-1 settings as its plain MSR. */
Test(validate, true_msr_allowed1_differs_from_plain)
{
    vtx_profile p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS] &= ~((uint64_t)VTX_PIN_EXT_INTR_EXITING << 32);
    EXPECT_INVALID("server TRUE pin allowed-1 without bit 0", &p, "IA32_VMX_TRUE_PINBASED_CTLS", "bit 32",
                   "External-interrupt exiting", "allowed-1", "IA32_VMX_PINBASED_CTLS");
}

/* A TRUE MSR may only relax: it never requires a control the plain MSR lets be 0. */
Test(validate, true_msr_stricter_than_plain)
{
    vtx_profile p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_TRUE_PROCBASED_CTLS] |= VTX_PROC_HLT_EXITING;
    EXPECT_INVALID("server TRUE proc requiring HLT exiting", &p, "IA32_VMX_TRUE_PROCBASED_CTLS", "bit 7",
                   "HLT exiting", "stricter");
}

/* A TRUE MSR may relax only default1 bits. */
Test(validate, true_msr_relaxing_a_non_default1_bit)
{
    vtx_profile p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS] |= VTX_PROC_HLT_EXITING; /* plain: HLT exiting must be 1 */
    EXPECT_INVALID("server TRUE proc relaxing HLT exiting", &p, "IA32_VMX_TRUE_PROCBASED_CTLS", "bit 7",
                   "HLT exiting", "default1");
    /* Relaxing a default1 bit is what TRUE MSRs are for. */
    p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS] &= ~(uint64_t)(1u << 4);
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_OK, "relaxing default1 pin bit 4 must be valid: %s", d.message);
}

Test(validate, true_msrs_set_while_basic_bit_55_clear)
{
    vtx_profile p = copy_of("core2");
    p.msr[VTX_CAP_IA32_VMX_TRUE_EXIT_CTLS] = p.msr[VTX_CAP_IA32_VMX_EXIT_CTLS];
    EXPECT_INVALID("core2 with a TRUE exit MSR", &p, "IA32_VMX_TRUE_EXIT_CTLS", "IA32_VMX_BASIC bit 55");
}

Test(validate, ctls2_set_without_activate_secondary_controls)
{
    vtx_profile p = copy_of("core2");
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] = CTLS(0, VTX_PROC2_ENABLE_RDTSCP);
    EXPECT_INVALID("core2 with IA32_VMX_PROCBASED_CTLS2", &p, "IA32_VMX_PROCBASED_CTLS2",
                   "IA32_VMX_PROCBASED_CTLS bit 63", "activate secondary controls");
}

Test(validate, ept_vpid_cap_without_ept_or_vpid)
{
    vtx_profile p = copy_of("server");
    uint64_t drop = (uint64_t)(VTX_PROC2_ENABLE_EPT | VTX_PROC2_ENABLE_VPID | VTX_PROC2_UNRESTRICTED_GUEST) << 32;
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] &= ~drop;
    EXPECT_INVALID("server without EPT and VPID but with EPT_VPID_CAP", &p, "IA32_VMX_EPT_VPID_CAP", "enable EPT",
                   "enable VPID");
    /* With VPID alone the MSR exists. */
    p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] &= ~((uint64_t)(VTX_PROC2_ENABLE_EPT | VTX_PROC2_UNRESTRICTED_GUEST) << 32);
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_OK, "VPID without EPT keeps IA32_VMX_EPT_VPID_CAP: %s", d.message);
}

Test(validate, vmfunc_without_enable_vm_functions)
{
    vtx_profile p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_VMFUNC] = 1;
    EXPECT_INVALID("server with IA32_VMX_VMFUNC", &p, "IA32_VMX_VMFUNC", "enable VM functions");
}

/* A.7/A.8: a bit fixed to 1 (FIXED0) must be allowed to be 1 (FIXED1). */
Test(validate, cr_fixed0_bit_not_in_fixed1)
{
    vtx_profile p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_CR0_FIXED1] &= ~(uint64_t)VTX_CR0_NE;
    EXPECT_INVALID("CR0 NE fixed to 1 but not allowed", &p, "IA32_VMX_CR0_FIXED0 bit 5", "IA32_VMX_CR0_FIXED1");
    p = copy_of("teaching");
    p.msr[VTX_CAP_IA32_VMX_CR4_FIXED0] |= 1u << 12; /* teaching's FIXED1 does not allow CR4 bit 12 */
    EXPECT_INVALID("CR4 bit 12 fixed to 1 but not allowed", &p, "IA32_VMX_CR4_FIXED0 bit 12",
                   "IA32_VMX_CR4_FIXED1");
}

Test(validate, cr4_fixed0_without_vmxe)
{
    vtx_profile p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_CR4_FIXED0] &= ~(uint64_t)VTX_CR4_VMXE;
    EXPECT_INVALID("CR4_FIXED0 without VMXE", &p, "IA32_VMX_CR4_FIXED0", "bit 13", "VMXE");
}

/* A.1: IA32_VMX_BASIC. */
Test(validate, basic_bit_31_region_size_reserved_bits_and_memory_type)
{
    vtx_profile p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_BASIC] |= 1ull << 31;
    EXPECT_INVALID("BASIC bit 31", &p, "IA32_VMX_BASIC bit 31");

    p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_BASIC] &= ~(0x1FFFull << 32);
    EXPECT_INVALID("region size 0", &p, "IA32_VMX_BASIC bits 44:32", "size 0");

    p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_BASIC] = (p.msr[VTX_CAP_IA32_VMX_BASIC] & ~(0x1FFFull << 32)) | (4097ull << 32);
    EXPECT_INVALID("region size 4097", &p, "IA32_VMX_BASIC bits 44:32", "4097");

    p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_BASIC] = (p.msr[VTX_CAP_IA32_VMX_BASIC] & ~(0x1FFFull << 32)) | (4096ull << 32);
    vtx_diag d = {0};
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_OK, "a 4096-byte region is valid: %s", d.message);

    p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_BASIC] = (p.msr[VTX_CAP_IA32_VMX_BASIC] & ~(0xFull << 50)) | (3ull << 50);
    EXPECT_INVALID("memory type 3", &p, "IA32_VMX_BASIC bits 53:50", "memory type 3");
    p.msr[VTX_CAP_IA32_VMX_BASIC] &= ~(0xFull << 50); /* UC is allowed */
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_OK, "memory type 0 (UC) is valid: %s", d.message);

    p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_BASIC] |= 1ull << 46;
    EXPECT_INVALID("BASIC bit 46", &p, "IA32_VMX_BASIC bits 47:45");
}

/* The VMCS has four CR3-target value fields. */
Test(validate, misc_cr3_target_count_above_4)
{
    vtx_profile p = copy_of("core2");
    p.msr[VTX_CAP_IA32_VMX_MISC] = (p.msr[VTX_CAP_IA32_VMX_MISC] & ~(0x1FFull << 16)) | (5ull << 16);
    EXPECT_INVALID("5 CR3 targets", &p, "IA32_VMX_MISC bits 24:16", "5 CR3-target");
}

Test(validate, vmcs_enum_reserved_bits)
{
    vtx_profile p = copy_of("core2");
    p.msr[VTX_CAP_IA32_VMX_VMCS_ENUM] |= 1;
    EXPECT_INVALID("VMCS_ENUM bit 0", &p, "IA32_VMX_VMCS_ENUM");
}

/* PRF-ENUM-1 (SDM Appendix A.9): IA32_VMX_VMCS_ENUM bits 9:1 are the highest
 * index of a VMCS encoding the processor supports. kvm-unit-tests'
 * test_vmwrite_vmread finds the highest index VMREAD accepts and compares:
 * every built-in profile reports exactly that index (server and teaching
 * reported 0x17 while supporting the TSC multiplier, 2032H, index 0x19).
 * vmcs/profiles.c derives it from the field table (no literal to go stale): with
 * the derivation removed every profile reports index 0 and this test fails.
 * Profile files are not held to it (validation does not check it). */
Test(validate, vmcs_enum_is_the_highest_supported_index)
{
    VTX_COVERS("PRF-ENUM-1");
    for (size_t b = 0; b < vtx_profile_builtin_count(); b++) {
        const vtx_profile *p = vtx_profile_builtin(b);
        size_t n;
        const vtx_field_info *f = vtx_vmcs_fields(&n);
        unsigned hi = 0;
        for (size_t i = 0; i < n; i++)
            if (vtx_profile_has_feature(p, f[i].feature) && f[i].index > hi)
                hi = f[i].index;
        cr_expect_eq((unsigned)((p->msr[VTX_CAP_IA32_VMX_VMCS_ENUM] >> 1) & 0x1FF), hi,
                     "%s: VMCS_ENUM index 0x%x, highest supported field index 0x%x", p->name,
                     (unsigned)((p->msr[VTX_CAP_IA32_VMX_VMCS_ENUM] >> 1) & 0x1FF), hi);
    }
}

/* ENT-CTL-2: "virtual NMIs" requires "NMI exiting"; a processor allowing the
 * first but never the second contradicts itself. */
Test(validate, virtual_nmis_allowed_without_nmi_exiting)
{
    vtx_profile p = copy_of("core2");
    p.msr[VTX_CAP_IA32_VMX_PINBASED_CTLS] &= ~((uint64_t)VTX_PIN_NMI_EXITING << 32);
    EXPECT_INVALID("virtual NMIs without NMI exiting", &p, "Pin-based VM-execution controls", "Virtual NMIs",
                   "NMI exiting", "ENT-CTL-2");
}

/* ENT-CTL-3: "NMI-window exiting" requires "virtual NMIs". */
Test(validate, nmi_window_allowed_without_virtual_nmis)
{
    vtx_profile p = copy_of("core2");
    p.msr[VTX_CAP_IA32_VMX_PINBASED_CTLS] &= ~((uint64_t)VTX_PIN_VIRTUAL_NMIS << 32);
    EXPECT_INVALID("NMI-window exiting without virtual NMIs", &p, "NMI-window exiting", "Virtual NMIs",
                   "ENT-CTL-3");
}

/* ENT-CTL-4: "save VMX-preemption timer value" requires the timer. */
Test(validate, save_preemption_timer_without_the_timer)
{
    vtx_profile p = copy_of("core2");
    p.msr[VTX_CAP_IA32_VMX_EXIT_CTLS] |= (uint64_t)VTX_EXIT_SAVE_PREEMPTION_TIMER << 32;
    EXPECT_INVALID("save preemption timer on core2", &p, "Save VMX-preemption timer value",
                   "Activate VMX-preemption timer");
}

Test(validate, unrestricted_guest_without_ept)
{
    vtx_profile p = copy_of("server");
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] &= ~((uint64_t)VTX_PROC2_ENABLE_EPT << 32);
    EXPECT_INVALID("unrestricted guest without EPT", &p, "Unrestricted guest", "Enable EPT");
}

/* CPUID 80000008H:EAX[7:0] is 32..52 on VMX processors the model accepts. */
Test(validate, physical_address_width_outside_32_to_52)
{
    vtx_profile p = copy_of("server");
    p.phys_addr_width = 31;
    EXPECT_INVALID("width 31", &p, "physical-address-width 31", "32..52");
    p.phys_addr_width = 53;
    EXPECT_INVALID("width 53", &p, "physical-address-width 53");
    p.phys_addr_width = 0;
    EXPECT_INVALID("width 0", &p, "physical-address-width 0");
    vtx_diag d = {0};
    p.phys_addr_width = 32;
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_OK, "width 32 is valid: %s", d.message);
    p.phys_addr_width = 52;
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_OK, "width 52 is valid: %s", d.message);
}

Test(validate, empty_name)
{
    vtx_profile p = copy_of("teaching");
    p.name[0] = '\0';
    EXPECT_INVALID("empty name", &p, "no name");
}

Test(validate, unknown_knob_bits)
{
    vtx_profile p = copy_of("teaching");
    p.knobs |= 1u << VTX_KNOB_COUNT;
    EXPECT_INVALID("knob bit past the last CFG-* knob", &p, "knobs");
}

/* SDM Appendix A.1: IA32_VMX_BASIC bit 48 is always 0 on Intel 64 processors. */
Test(profiles, basic_bit48_is_invalid)
{
    vtx_profile p = *vtx_profile_builtin(1);
    vtx_diag d = {0};
    p.msr[VTX_CAP_IA32_VMX_BASIC] |= 1ull << 48;
    cr_assert_eq(vtx_profile_validate(&p, &d), VTX_ERR_PROFILE_INVALID);
    cr_assert(strstr(d.message, "IA32_VMX_BASIC bit 48"), "message: %s", d.message);
}
