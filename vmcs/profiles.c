/*
 * Built-in CPU profiles and the capability queries the model makes of a profile
 * (SDM Vol. 3 Appendix A, "VMX Capability Reporting Facility"; catalogue L.4).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "vmcs_internal.h"

/* Default1 classes (catalogue L.4; SDM Appendix A.2). */
#define PIN_DEFAULT1 0x00000016u
#define PROC_DEFAULT1 0x0401E172u
#define EXIT_DEFAULT1 0x00036DFFu
#define ENTRY_DEFAULT1 0x000011FFu

/* A control capability MSR: allowed-0 (must-be-1) word low, allowed-1 word high. */
#define CTLS(must1, may1) (((uint64_t)(may1) << 32) | (uint32_t)(must1))

/* ---- core2: an early-VMX part (Penryn-class). No TRUE MSRs, no secondary
 * controls (so no EPT, VPID or unrestricted guest), no preemption timer, no MTF. */
#define CORE2_PIN (PIN_DEFAULT1 | VTX_PIN_EXT_INTR_EXITING | VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS)
#define CORE2_PROC                                                                              \
    (PROC_DEFAULT1 | VTX_PROC_INTR_WINDOW_EXITING | VTX_PROC_TSC_OFFSETTING | VTX_PROC_HLT_EXITING | \
     VTX_PROC_INVLPG_EXITING | VTX_PROC_MWAIT_EXITING | VTX_PROC_RDPMC_EXITING |                 \
     VTX_PROC_RDTSC_EXITING | VTX_PROC_CR8_LOAD_EXITING | VTX_PROC_CR8_STORE_EXITING |           \
     VTX_PROC_TPR_SHADOW | VTX_PROC_NMI_WINDOW_EXITING | VTX_PROC_MOV_DR_EXITING |              \
     VTX_PROC_UNCOND_IO_EXITING | VTX_PROC_IO_BITMAPS | VTX_PROC_MSR_BITMAPS |                  \
     VTX_PROC_MONITOR_EXITING | VTX_PROC_PAUSE_EXITING)
#define CORE2_EXIT (EXIT_DEFAULT1 | VTX_EXIT_HOST_ADDR_SPACE_SIZE | VTX_EXIT_ACK_INTR_ON_EXIT)
#define CORE2_ENTRY (ENTRY_DEFAULT1 | VTX_ENTRY_IA32E_MODE_GUEST | VTX_ENTRY_ENTRY_TO_SMM | \
                     VTX_ENTRY_DEACT_DUAL_MONITOR)

/* ---- server: a Skylake-SP-class part. Capability MSRs laid out as on such a
 * part (revision, region size, MISC, fixed bits, EPT/VPID capabilities), with the
 * allowed-1 settings limited to the controls vtxref models. */
#define SERVER_PIN (CORE2_PIN | VTX_PIN_PREEMPTION_TIMER)
#define SERVER_PROC (CORE2_PROC | VTX_PROC_MONITOR_TRAP_FLAG | VTX_PROC_SECONDARY_CONTROLS)
#define SERVER_PROC2                                                                              \
    (VTX_PROC2_ENABLE_EPT | VTX_PROC2_DESC_TABLE_EXITING | VTX_PROC2_ENABLE_RDTSCP |             \
     VTX_PROC2_ENABLE_VPID | VTX_PROC2_WBINVD_EXITING | VTX_PROC2_UNRESTRICTED_GUEST |            \
     VTX_PROC2_RDRAND_EXITING | VTX_PROC2_ENABLE_INVPCID | VTX_PROC2_RDSEED_EXITING |             \
     VTX_PROC2_TSC_SCALING | VTX_PROC2_VIRT_X2APIC | VTX_PROC2_VIRT_INTR_DELIVERY)
#define SERVER_EXIT (CORE2_EXIT | VTX_EXIT_SAVE_PAT | VTX_EXIT_LOAD_PAT | VTX_EXIT_SAVE_EFER | \
                     VTX_EXIT_LOAD_EFER | VTX_EXIT_SAVE_PREEMPTION_TIMER)
#define SERVER_ENTRY (CORE2_ENTRY | VTX_ENTRY_LOAD_PAT | VTX_ENTRY_LOAD_EFER)
/* TRUE MSRs: CR3-load/-store exiting, "save debug controls" and "load debug
 * controls" may be 0 (the usual TRUE relaxations; catalogue L.4). */
#define TRUE_PROC_MUST1 (PROC_DEFAULT1 & ~(VTX_PROC_CR3_LOAD_EXITING | VTX_PROC_CR3_STORE_EXITING))
#define TRUE_EXIT_MUST1 (EXIT_DEFAULT1 & ~VTX_EXIT_SAVE_DEBUG_CONTROLS)
#define TRUE_ENTRY_MUST1 (ENTRY_DEFAULT1 & ~VTX_ENTRY_LOAD_DEBUG_CONTROLS)

/* EPT/VPID capabilities (SDM A.10): execute-only (0), 4-level walk (6), UC (8),
 * WB (14), 2-MB (16) and 1-GB (17) pages, INVEPT (20), single-context (25) and
 * all-context (26) INVEPT, INVVPID (32) with all four types (40-43). */
#define EPT_VPID_SERVER 0x00000F0106134141ull

/* IA32_VMX_MISC: timer rate (4:0), LMA saved on exit (5), activity states HLT,
 * shutdown, wait-for-SIPI (6-8), CR3-target count (24:16), VMWRITE to any
 * field (29), zero-length injection (30). */
#define MISC(rate, lma, activity, cr3t, vmwrite_any) \
    ((uint64_t)(rate) | ((uint64_t)(lma) << 5) | ((uint64_t)(activity) << 6) | \
     ((uint64_t)(cr3t) << 16) | ((uint64_t)(vmwrite_any) << 29))

#define CR0_FIXED0_VMX 0x80000021ull /* PE, NE, PG */
#define CR4_FIXED0_VMX 0x00002000ull /* VMXE */

/* IA32_VMX_VMCS_ENUM is not written above: builtin_init derives it (PRF-ENUM-1). */
static vtx_profile builtin[] = {
    {
        .name = "core2",
        .description = "Early-VMX part (Core 2 / Penryn class): no TRUE MSRs, no secondary controls, "
                       "no preemption timer, no MTF, no unrestricted guest",
        .phys_addr_width = 36,
        .knobs = VTX_KNOBS_DEFAULT,
        .msr = {
            [VTX_CAP_IA32_VMX_BASIC] = 0x001A04000000000Dull, /* rev 0xD, 1 KiB, WB, dual-monitor */
            [VTX_CAP_IA32_VMX_PINBASED_CTLS] = CTLS(PIN_DEFAULT1, CORE2_PIN),
            [VTX_CAP_IA32_VMX_PROCBASED_CTLS] = CTLS(PROC_DEFAULT1, CORE2_PROC),
            [VTX_CAP_IA32_VMX_EXIT_CTLS] = CTLS(EXIT_DEFAULT1, CORE2_EXIT),
            [VTX_CAP_IA32_VMX_ENTRY_CTLS] = CTLS(ENTRY_DEFAULT1, CORE2_ENTRY),
            [VTX_CAP_IA32_VMX_MISC] = MISC(0, 0, 1, 4, 0), /* HLT only */
            [VTX_CAP_IA32_VMX_CR0_FIXED0] = CR0_FIXED0_VMX,
            [VTX_CAP_IA32_VMX_CR0_FIXED1] = 0xFFFFFFFFull,
            [VTX_CAP_IA32_VMX_CR4_FIXED0] = CR4_FIXED0_VMX,
            [VTX_CAP_IA32_VMX_CR4_FIXED1] = 0x000067FFull,
        },
    },
    {
        .name = "server",
        .description = "Modern server part (Skylake-SP class), limited to the controls vtxref models: "
                       "TRUE MSRs, preemption timer (rate 5), MTF, EPT, VPID, unrestricted guest, TPR shadow, "
                       "virtual-interrupt delivery, virtualize x2APIC mode",
        .phys_addr_width = 46,
        .knobs = VTX_KNOBS_DEFAULT,
        .msr = {
            [VTX_CAP_IA32_VMX_BASIC] = 0x00DA040000000004ull, /* rev 4, 1 KiB, WB, INS/OUTS info, TRUE */
            [VTX_CAP_IA32_VMX_PINBASED_CTLS] = CTLS(PIN_DEFAULT1, SERVER_PIN),
            [VTX_CAP_IA32_VMX_PROCBASED_CTLS] = CTLS(PROC_DEFAULT1, SERVER_PROC),
            [VTX_CAP_IA32_VMX_EXIT_CTLS] = CTLS(EXIT_DEFAULT1, SERVER_EXIT),
            [VTX_CAP_IA32_VMX_ENTRY_CTLS] = CTLS(ENTRY_DEFAULT1, SERVER_ENTRY),
            [VTX_CAP_IA32_VMX_MISC] = MISC(5, 1, 7, 4, 1),
            [VTX_CAP_IA32_VMX_CR0_FIXED0] = CR0_FIXED0_VMX,
            [VTX_CAP_IA32_VMX_CR0_FIXED1] = 0xFFFFFFFFull,
            [VTX_CAP_IA32_VMX_CR4_FIXED0] = CR4_FIXED0_VMX,
            [VTX_CAP_IA32_VMX_CR4_FIXED1] = 0x003767FFull,
            [VTX_CAP_IA32_VMX_PROCBASED_CTLS2] = CTLS(0, SERVER_PROC2),
            [VTX_CAP_IA32_VMX_EPT_VPID_CAP] = EPT_VPID_SERVER,
            [VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS] = CTLS(PIN_DEFAULT1, SERVER_PIN),
            [VTX_CAP_IA32_VMX_TRUE_PROCBASED_CTLS] = CTLS(TRUE_PROC_MUST1, SERVER_PROC),
            [VTX_CAP_IA32_VMX_TRUE_EXIT_CTLS] = CTLS(TRUE_EXIT_MUST1, SERVER_EXIT),
            [VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS] = CTLS(TRUE_ENTRY_MUST1, SERVER_ENTRY),
        },
    },
    {
        .name = "teaching",
        .description = "Teaching part: the server controls with round numbers: revision 1, 4-KiB "
                       "regions, preemption timer ticking with every TSC increment (rate 0), "
                       "VMWRITE to exit-information fields refused",
        .phys_addr_width = 39,
        .knobs = VTX_KNOBS_DEFAULT,
        .msr = {
            [VTX_CAP_IA32_VMX_BASIC] = 0x0098100000000001ull, /* rev 1, 4 KiB, WB, TRUE */
            [VTX_CAP_IA32_VMX_PINBASED_CTLS] = CTLS(PIN_DEFAULT1, SERVER_PIN),
            [VTX_CAP_IA32_VMX_PROCBASED_CTLS] = CTLS(PROC_DEFAULT1, SERVER_PROC),
            [VTX_CAP_IA32_VMX_EXIT_CTLS] = CTLS(EXIT_DEFAULT1, SERVER_EXIT),
            [VTX_CAP_IA32_VMX_ENTRY_CTLS] = CTLS(ENTRY_DEFAULT1, SERVER_ENTRY),
            [VTX_CAP_IA32_VMX_MISC] = MISC(0, 1, 7, 4, 0),
            [VTX_CAP_IA32_VMX_CR0_FIXED0] = CR0_FIXED0_VMX,
            [VTX_CAP_IA32_VMX_CR0_FIXED1] = 0xFFFFFFFFull,
            [VTX_CAP_IA32_VMX_CR4_FIXED0] = CR4_FIXED0_VMX,
            [VTX_CAP_IA32_VMX_CR4_FIXED1] = 0x000027FFull,
            [VTX_CAP_IA32_VMX_PROCBASED_CTLS2] = CTLS(0, SERVER_PROC2),
            [VTX_CAP_IA32_VMX_EPT_VPID_CAP] = EPT_VPID_SERVER,
            [VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS] = CTLS(PIN_DEFAULT1, SERVER_PIN),
            [VTX_CAP_IA32_VMX_TRUE_PROCBASED_CTLS] = CTLS(TRUE_PROC_MUST1, SERVER_PROC),
            [VTX_CAP_IA32_VMX_TRUE_EXIT_CTLS] = CTLS(TRUE_EXIT_MUST1, SERVER_EXIT),
            [VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS] = CTLS(TRUE_ENTRY_MUST1, SERVER_ENTRY),
        },
    },
};

#define BUILTIN_COUNT (sizeof builtin / sizeof builtin[0])

/* PRF-ENUM-1 (SDM Appendix A.9): IA32_VMX_VMCS_ENUM bits 9:1 = the highest index
 * of the VMCS field encodings the profile accepts (the field table, filtered by
 * the profile's features); the other bits are 0. */
static uint64_t vmcs_enum_of(const vtx_profile *p)
{
    size_t n = 0;
    const vtx_field_info *f = vtx_vmcs_fields(&n);
    unsigned hi = 0;
    for (size_t i = 0; i < n; i++)
        if (vtx_profile_has_feature(p, f[i].feature) && f[i].index > hi)
            hi = f[i].index;
    return (uint64_t)(hi & 0x1FF) << 1;
}

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void builtin_init(void)
{
    for (size_t i = 0; i < BUILTIN_COUNT; i++)
        builtin[i].msr[VTX_CAP_IA32_VMX_VMCS_ENUM] = vmcs_enum_of(&builtin[i]);
}

/* Every reader of `builtin` goes through here (thread-safe, once). */
static const vtx_profile *builtins(void)
{
    pthread_once(&builtin_once, builtin_init);
    return builtin;
}

size_t vtx_profile_builtin_count(void) { return BUILTIN_COUNT; }

const vtx_profile *vtx_profile_builtin(size_t i) { return i < BUILTIN_COUNT ? &builtins()[i] : NULL; }

vtx_status vtx_profile_find(const char *name, const vtx_profile **profile, vtx_diag *diag)
{
    if (!name || !profile)
        return VTX_ERR_INVALID_ARG;
    const vtx_profile *all = builtins();
    for (size_t i = 0; i < BUILTIN_COUNT; i++) {
        if (strcasecmp(name, all[i].name) == 0) {
            *profile = &all[i];
            return VTX_OK;
        }
    }
    if (diag) {
        int n = snprintf(diag->message, sizeof diag->message, "unknown profile '%s'; built-in profiles:",
                         name);
        for (size_t i = 0; i < BUILTIN_COUNT && n > 0 && (size_t)n < sizeof diag->message; i++)
            n += snprintf(diag->message + n, sizeof diag->message - (size_t)n, "%s %s",
                          i ? "," : "", builtin[i].name);
        diag->rule = NULL;
        diag->line = 0;
    }
    return VTX_ERR_NOT_FOUND;
}

uint32_t vtx_ctl_default1(vtx_ctl_field field)
{
    switch (field) {
    case VTX_CTL_PIN: return PIN_DEFAULT1;
    case VTX_CTL_PROC: return PROC_DEFAULT1;
    case VTX_CTL_EXIT: return EXIT_DEFAULT1;
    case VTX_CTL_ENTRY: return ENTRY_DEFAULT1;
    default: return 0;
    }
}

void vtx_profile_ctl_caps(const vtx_profile *p, vtx_ctl_field field, uint32_t *must_be_1,
                          uint32_t *may_be_1)
{
    static const vtx_cap_msr plain[] = {VTX_CAP_IA32_VMX_PINBASED_CTLS, VTX_CAP_IA32_VMX_PROCBASED_CTLS,
                                        VTX_CAP_IA32_VMX_PROCBASED_CTLS2, VTX_CAP_IA32_VMX_EXIT_CTLS,
                                        VTX_CAP_IA32_VMX_ENTRY_CTLS};
    static const vtx_cap_msr truem[] = {VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS,
                                        VTX_CAP_IA32_VMX_TRUE_PROCBASED_CTLS,
                                        VTX_CAP_IA32_VMX_PROCBASED_CTLS2, VTX_CAP_IA32_VMX_TRUE_EXIT_CTLS,
                                        VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS};
    uint64_t v = 0;
    if ((unsigned)field < VTX_CTL_FIELD_COUNT_) {
        bool use_true = vtx_basic_true_ctls(p->msr[VTX_CAP_IA32_VMX_BASIC]);
        v = p->msr[use_true ? truem[field] : plain[field]];
        /* IA32_VMX_PROCBASED_CTLS2 exists only if "activate secondary controls" may be 1. */
        if (field == VTX_CTL_PROC2 &&
            !((p->msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS] >> 32) & VTX_PROC_SECONDARY_CONTROLS))
            v = 0;
    }
    if (must_be_1)
        *must_be_1 = (uint32_t)v;
    if (may_be_1)
        *may_be_1 = (uint32_t)(v >> 32);
}

static bool may1(const vtx_profile *p, vtx_ctl_field f, uint32_t bits)
{
    uint32_t allowed1;
    vtx_profile_ctl_caps(p, f, NULL, &allowed1);
    return (allowed1 & bits) != 0;
}

bool vtx_profile_has_feature(const vtx_profile *p, vtx_feature feature)
{
    switch (feature) {
    case VTX_FEAT_ALWAYS: return true;
    case VTX_FEAT_VPID: return may1(p, VTX_CTL_PROC2, VTX_PROC2_ENABLE_VPID);
    case VTX_FEAT_POSTED_INTR: return may1(p, VTX_CTL_PIN, VTX_PIN_POSTED_INTR);
    case VTX_FEAT_EPT_VE: return may1(p, VTX_CTL_PROC2, VTX_PROC2_EPT_VIOLATION_VE);
    case VTX_FEAT_VID: return may1(p, VTX_CTL_PROC2, VTX_PROC2_VIRT_INTR_DELIVERY);
    case VTX_FEAT_PML: return may1(p, VTX_CTL_PROC2, VTX_PROC2_ENABLE_PML);
    case VTX_FEAT_MSR_BITMAP: return may1(p, VTX_CTL_PROC, VTX_PROC_MSR_BITMAPS);
    case VTX_FEAT_TPR_SHADOW: return may1(p, VTX_CTL_PROC, VTX_PROC_TPR_SHADOW);
    case VTX_FEAT_APIC_ACCESS: return may1(p, VTX_CTL_PROC2, VTX_PROC2_VIRT_APIC_ACCESSES);
    case VTX_FEAT_VMFUNC: return may1(p, VTX_CTL_PROC2, VTX_PROC2_ENABLE_VMFUNC);
    case VTX_FEAT_EPT: return may1(p, VTX_CTL_PROC2, VTX_PROC2_ENABLE_EPT);
    case VTX_FEAT_EPTP_SWITCH:
        return may1(p, VTX_CTL_PROC2, VTX_PROC2_ENABLE_VMFUNC) && (p->msr[VTX_CAP_IA32_VMX_VMFUNC] & 1);
    case VTX_FEAT_SHADOW_VMCS: return may1(p, VTX_CTL_PROC2, VTX_PROC2_VMCS_SHADOWING);
    case VTX_FEAT_XSAVES: return may1(p, VTX_CTL_PROC2, VTX_PROC2_ENABLE_XSAVES);
    case VTX_FEAT_ENCLS: return may1(p, VTX_CTL_PROC2, VTX_PROC2_ENCLS_EXITING);
    case VTX_FEAT_SPP: return may1(p, VTX_CTL_PROC2, VTX_PROC2_SUBPAGE_WRITE_PERM);
    case VTX_FEAT_TSC_SCALING: return may1(p, VTX_CTL_PROC2, VTX_PROC2_TSC_SCALING);
    case VTX_FEAT_TERTIARY: return may1(p, VTX_CTL_PROC, VTX_PROC_TERTIARY_CONTROLS);
    case VTX_FEAT_ENCLV: return may1(p, VTX_CTL_PROC2, VTX_PROC2_ENCLV_EXITING);
    case VTX_FEAT_PAT:
        return may1(p, VTX_CTL_ENTRY, VTX_ENTRY_LOAD_PAT) || may1(p, VTX_CTL_EXIT, VTX_EXIT_SAVE_PAT);
    case VTX_FEAT_EFER:
        return may1(p, VTX_CTL_ENTRY, VTX_ENTRY_LOAD_EFER) || may1(p, VTX_CTL_EXIT, VTX_EXIT_SAVE_EFER);
    case VTX_FEAT_PERF_GLOBAL_ENTRY: return may1(p, VTX_CTL_ENTRY, VTX_ENTRY_LOAD_PERF_GLOBAL_CTRL);
    case VTX_FEAT_BNDCFGS:
        return may1(p, VTX_CTL_ENTRY, VTX_ENTRY_LOAD_BNDCFGS) || may1(p, VTX_CTL_EXIT, VTX_EXIT_CLEAR_BNDCFGS);
    case VTX_FEAT_RTIT:
        return may1(p, VTX_CTL_ENTRY, VTX_ENTRY_LOAD_RTIT_CTL) || may1(p, VTX_CTL_EXIT, VTX_EXIT_CLEAR_RTIT_CTL);
    case VTX_FEAT_LBR:
        return may1(p, VTX_CTL_ENTRY, VTX_ENTRY_LOAD_LBR_CTL) || may1(p, VTX_CTL_EXIT, VTX_EXIT_CLEAR_LBR_CTL);
    case VTX_FEAT_PKRS:
        return may1(p, VTX_CTL_ENTRY, VTX_ENTRY_LOAD_PKRS) || may1(p, VTX_CTL_EXIT, VTX_EXIT_LOAD_PKRS);
    case VTX_FEAT_CET:
        return may1(p, VTX_CTL_ENTRY, VTX_ENTRY_LOAD_CET_STATE) || may1(p, VTX_CTL_EXIT, VTX_EXIT_LOAD_CET_STATE);
    case VTX_FEAT_HOST_PAT: return may1(p, VTX_CTL_EXIT, VTX_EXIT_LOAD_PAT);
    case VTX_FEAT_HOST_EFER: return may1(p, VTX_CTL_EXIT, VTX_EXIT_LOAD_EFER);
    case VTX_FEAT_PERF_GLOBAL_EXIT: return may1(p, VTX_CTL_EXIT, VTX_EXIT_LOAD_PERF_GLOBAL_CTRL);
    case VTX_FEAT_SECONDARY: return may1(p, VTX_CTL_PROC, VTX_PROC_SECONDARY_CONTROLS);
    case VTX_FEAT_PLE: return may1(p, VTX_CTL_PROC2, VTX_PROC2_PAUSE_LOOP_EXITING);
    case VTX_FEAT_PREEMPTION_TIMER: return may1(p, VTX_CTL_PIN, VTX_PIN_PREEMPTION_TIMER);
    default: return false;
    }
}

vtx_status vtx_profile_read_msr(const vtx_profile *p, uint32_t index, uint64_t *value)
{
    if (!p || !value)
        return VTX_ERR_INVALID_ARG;
    static const uint32_t idx[] = {
#define VTX_X_IDX(n, i, d) i,
        VTX_CAP_MSRS(VTX_X_IDX)
#undef VTX_X_IDX
    };
    for (size_t c = 0; c < VTX_CAP_MSR_COUNT; c++) {
        if (idx[c] != index)
            continue;
        /* SDM Appendix A: which capability MSRs exist. */
        bool exists = true;
        uint32_t proc1 = (uint32_t)(p->msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS] >> 32);
        uint32_t proc2 = (uint32_t)(p->msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] >> 32);
        bool secondary = proc1 & VTX_PROC_SECONDARY_CONTROLS;
        if (c >= VTX_CAP_IA32_VMX_TRUE_PINBASED_CTLS && c <= VTX_CAP_IA32_VMX_TRUE_ENTRY_CTLS)
            exists = vtx_basic_true_ctls(p->msr[VTX_CAP_IA32_VMX_BASIC]);
        else if (c == VTX_CAP_IA32_VMX_PROCBASED_CTLS2)
            exists = secondary;
        else if (c == VTX_CAP_IA32_VMX_EPT_VPID_CAP)
            exists = secondary && (proc2 & (VTX_PROC2_ENABLE_EPT | VTX_PROC2_ENABLE_VPID));
        else if (c == VTX_CAP_IA32_VMX_VMFUNC)
            exists = secondary && (proc2 & VTX_PROC2_ENABLE_VMFUNC);
        if (!exists)
            return VTX_ERR_NOT_FOUND;
        *value = p->msr[c];
        return VTX_OK;
    }
    return VTX_ERR_NOT_FOUND;
}

const char *vtx_knob_id(unsigned bit)
{
    static const char *const ids[] = {
#define VTX_X_KID(n, id, def, d) id,
        VTX_KNOBS(VTX_X_KID)
#undef VTX_X_KID
    };
    return bit < VTX_KNOB_COUNT ? ids[bit] : NULL;
}

const char *vtx_knob_description(unsigned bit)
{
    static const char *const ds[] = {
#define VTX_X_KD(n, id, def, d) d,
        VTX_KNOBS(VTX_X_KD)
#undef VTX_X_KD
    };
    return bit < VTX_KNOB_COUNT ? ds[bit] : NULL;
}
