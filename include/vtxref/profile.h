/**
 * @file profile.h
 * @brief CPU profiles: the VMX capability MSRs and implementation-specific
 * behaviour of one processor model, as data.
 *
 * A profile carries every capability MSR of the rules catalogue section L.4
 * (IA32_VMX_BASIC ... IA32_VMX_VMFUNC), the physical-address width (CPUID
 * 80000008H:EAX[7:0]) and the CFG-* knobs of catalogue section 0.1 for the
 * behaviour the SDM leaves to the implementation. Built-in profiles are listed
 * by vtx_profile_builtin(); others are read from a profile file (docs/profiles.md
 * documents the format, and `vtxref profiles --dump NAME` writes one).
 */
#ifndef VTXREF_PROFILE_H
#define VTXREF_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "arch.h"
#include "status.h"
#include "vmcs_fields.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Position of each capability MSR in vtx_profile::msr (from ::VTX_CAP_MSRS). */
typedef enum vtx_cap_msr {
#define VTX_X_CAPID(n, i, d) VTX_CAP_##n,
    VTX_CAP_MSRS(VTX_X_CAPID)
#undef VTX_X_CAPID
    VTX_CAP_MSR_COUNT
} vtx_cap_msr;

/* clang-format off */
/**
 * @brief The CFG-* knobs (catalogue section 0.1): X(NAME, "CFG-name", default, "meaning").
 * Each gives a bit `VTX_KNOB_<NAME>` in vtx_profile::knobs.
 */
#define VTX_KNOBS(X) \
    X(STI_NMI,        "CFG-STI-NMI",        1, "Blocking by STI also blocks NMIs and NMI VM exits for one instruction") \
    X(STI_NW,         "CFG-STI-NW",         1, "Blocking by STI suppresses NMI-window exits") \
    X(STI_SMI,        "CFG-STI-SMI",        0, "Blocking by STI delays SMIs") \
    X(MSS_NMI,        "CFG-MSS-NMI",        1, "Blocking by MOV SS blocks NMIs") \
    X(EXTINT_SHADOW,  "CFG-EXTINT-SHADOW",  1, "With external-interrupt exiting, STI/MOV-SS blocking delays external-interrupt exits") \
    X(NMI_STI_ENTRY,  "CFG-NMI-STI-ENTRY",  1, "VM entry injecting an NMI with blocking by STI fails (reason 33, qualification 3)") \
    X(MSS_CHAIN,      "CFG-MSS-CHAIN",      0, "A MOV SS inside MOV-SS blocking re-arms the blocking") \
    X(PT_SHADOW,      "CFG-PT-SHADOW",      0, "STI/MOV-SS blocking delays VMX-preemption-timer exits")
/* clang-format on */

/** @brief Knob bits for vtx_profile::knobs. */
enum {
#define VTX_X_KNOBBIT(n, id, def, d) VTX_KNOB_BIT_##n,
    VTX_KNOBS(VTX_X_KNOBBIT)
#undef VTX_X_KNOBBIT
    VTX_KNOB_COUNT
};
enum {
#define VTX_X_KNOB(n, id, def, d) VTX_KNOB_##n = 1u << VTX_KNOB_BIT_##n,
    VTX_KNOBS(VTX_X_KNOB)
#undef VTX_X_KNOB
};
/** @brief The recommended knob defaults of catalogue section 0.1. */
#define VTX_KNOBS_DEFAULT (0u VTX_KNOBS(VTX_X_KNOBDEF_))
#define VTX_X_KNOBDEF_(n, id, def, d) | ((def) ? VTX_KNOB_##n : 0u)

/** @brief A CPU profile. Caller-owned; copy it freely. */
typedef struct vtx_profile {
    char name[32];            /**< Short name used to select it ("server"). */
    char description[256];    /**< One line for humans. */
    uint8_t phys_addr_width;  /**< MAXPHYADDR, 32..52. */
    uint32_t knobs;           /**< VTX_KNOB_* bits. */
    uint64_t msr[VTX_CAP_MSR_COUNT]; /**< Capability MSR values, indexed by ::vtx_cap_msr. */
} vtx_profile;

/** @brief Number of built-in profiles. */
VTX_API size_t vtx_profile_builtin_count(void);
/** @brief Built-in profile @p i (0-based), or NULL when out of range. */
VTX_API const vtx_profile *vtx_profile_builtin(size_t i);
/** @brief Find a built-in profile by name; ::VTX_ERR_NOT_FOUND names the choices in @p diag. */
VTX_API vtx_status vtx_profile_find(const char *name, const vtx_profile **profile, vtx_diag *diag);

/**
 * @brief Check that a profile does not contradict itself (the SDM's rules on the
 * capability MSRs, Appendix A). On failure returns ::VTX_ERR_PROFILE_INVALID and
 * @p diag names the MSR and the bit, e.g. "IA32_VMX_PINBASED_CTLS bit 3 (NMI exiting):
 * allowed-0 says it must be 1 but allowed-1 says it cannot be 1".
 */
VTX_API vtx_status vtx_profile_validate(const vtx_profile *profile, vtx_diag *diag);

/**
 * @brief Parse profile text (the format of docs/profiles.md). @p source names the
 * input in messages ("my.profile"). The result is validated.
 * @return ::VTX_OK, ::VTX_ERR_PARSE (diag says file:line and what), or
 * ::VTX_ERR_PROFILE_INVALID.
 */
VTX_API vtx_status vtx_profile_parse(const char *text, size_t len, const char *source, vtx_profile *out,
                             vtx_diag *diag);
/** @brief Read and parse a profile file; ::VTX_ERR_IO if it cannot be read. */
VTX_API vtx_status vtx_profile_load_file(const char *path, vtx_profile *out, vtx_diag *diag);
/** @brief Write a profile in the file format; vtx_profile_parse() reads it back unchanged. */
VTX_API vtx_status vtx_profile_write(const vtx_profile *profile, FILE *out);
/** @brief Resolve a name: a built-in profile name, or else a path to a profile file. */
VTX_API vtx_status vtx_profile_resolve(const char *name_or_path, vtx_profile *out, vtx_diag *diag);

/** @brief Value of a capability MSR by index (0x480...); ::VTX_ERR_NOT_FOUND if the
 *  profile's processor does not have it (RDMSR would #GP). */
VTX_API vtx_status vtx_profile_read_msr(const vtx_profile *profile, uint32_t index, uint64_t *value);

/**
 * @brief Allowed settings of a control field as VM entry checks them (ENT-CTL-1):
 * the TRUE MSR when IA32_VMX_BASIC[55] = 1 (pin, proc, exit, entry), else the
 * plain MSR. For the secondary controls, zero when "activate secondary controls"
 * cannot be 1. @p must_be_1 gets the allowed-0 word, @p may_be_1 the allowed-1 word.
 */
VTX_API void vtx_profile_ctl_caps(const vtx_profile *profile, vtx_ctl_field field, uint32_t *must_be_1,
                          uint32_t *may_be_1);
/** @brief The default1 class of a control field (catalogue L.4), 0 for the secondary controls. */
VTX_API uint32_t vtx_ctl_default1(vtx_ctl_field field);
/** @brief True when the profile's processor supports @p feature (gates VMCS fields). */
VTX_API bool vtx_profile_has_feature(const vtx_profile *profile, vtx_feature feature);

/** @brief "CFG-STI-NMI" for a knob bit index, or NULL. */
VTX_API const char *vtx_knob_id(unsigned bit);
/** @brief One-line meaning of a knob bit index, or NULL. */
VTX_API const char *vtx_knob_description(unsigned bit);

/* Fields of the capability MSRs used by the model (SDM Appendix A). */
/** @brief IA32_VMX_BASIC[30:0]: VMCS revision identifier. */
static inline uint32_t vtx_basic_revision(uint64_t basic) { return (uint32_t)(basic & 0x7FFFFFFFu); }
/** @brief IA32_VMX_BASIC[44:32]: bytes of the VMXON and VMCS regions. */
static inline uint32_t vtx_basic_region_size(uint64_t basic) { return (uint32_t)((basic >> 32) & 0x1FFF); }
/** @brief IA32_VMX_BASIC[48]: physical addresses of VMX regions limited to 32 bits. */
static inline bool vtx_basic_32bit_addrs(uint64_t basic) { return (basic >> 48) & 1; }
/** @brief IA32_VMX_BASIC[55]: the TRUE_* control MSRs exist. */
static inline bool vtx_basic_true_ctls(uint64_t basic) { return (basic >> 55) & 1; }
/** @brief IA32_VMX_MISC[4:0]: the preemption timer ticks when TSC bit X changes. */
static inline unsigned vtx_misc_timer_rate(uint64_t misc) { return (unsigned)(misc & 0x1F); }
/** @brief IA32_VMX_MISC[24:16]: number of CR3-target values. */
static inline unsigned vtx_misc_cr3_targets(uint64_t misc) { return (unsigned)((misc >> 16) & 0x1FF); }
/** @brief IA32_VMX_MISC[29]: VMWRITE may write the VM-exit information fields. */
static inline bool vtx_misc_vmwrite_any(uint64_t misc) { return (misc >> 29) & 1; }
/** @brief IA32_VMX_MISC[30]: software events may be injected with instruction length 0. */
static inline bool vtx_misc_zero_len_inject(uint64_t misc) { return (misc >> 30) & 1; }

#ifdef __cplusplus
}
#endif
#endif
