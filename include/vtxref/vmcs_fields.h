/**
 * @file vmcs_fields.h
 * @brief Every VMCS field of SDM Appendix B ("Field Encoding in VMCS") as one data table.
 *
 * The table is the X-macro ::VTX_VMCS_FIELDS. Each row is
 * `X(NAME, ENCODING, FEATURE, "Description")`:
 * - `NAME` gives the enumerator `VTX_VMCS_<NAME>` (its value is the encoding);
 * - `ENCODING` is the 32-bit field encoding of the full field; the width, type and
 *   index are derived from it (SDM "VMREAD, VMWRITE, and Encodings of VMCS Fields");
 * - `FEATURE` names the capability (a ::vtx_feature) a processor must support for
 *   the field to exist; VMREAD/VMWRITE of a field the profile lacks fail with
 *   VM-instruction error 12 exactly like an unknown encoding;
 * - the description is the SDM's name for the field.
 *
 * 64-bit fields also have a "high" encoding (full + 1) that accesses bits 63:32;
 * it is not a separate row. Fields are listed in encoding order. Rows marked
 * "(newer SDM)" post-date the 2016 edition the rules catalogue pins.
 */
#ifndef VTXREF_VMCS_FIELDS_H
#define VTXREF_VMCS_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */
#define VTX_VMCS_FIELDS(X) \
    /* 16-bit control fields */ \
    X(VPID,                          0x0000, VPID,        "Virtual-processor identifier (VPID)") \
    X(POSTED_INTR_NV,                0x0002, POSTED_INTR, "Posted-interrupt notification vector") \
    X(EPTP_INDEX,                    0x0004, EPT_VE,      "EPTP index") \
    /* 16-bit guest-state fields */ \
    X(GUEST_ES_SELECTOR,             0x0800, ALWAYS,      "Guest ES selector") \
    X(GUEST_CS_SELECTOR,             0x0802, ALWAYS,      "Guest CS selector") \
    X(GUEST_SS_SELECTOR,             0x0804, ALWAYS,      "Guest SS selector") \
    X(GUEST_DS_SELECTOR,             0x0806, ALWAYS,      "Guest DS selector") \
    X(GUEST_FS_SELECTOR,             0x0808, ALWAYS,      "Guest FS selector") \
    X(GUEST_GS_SELECTOR,             0x080A, ALWAYS,      "Guest GS selector") \
    X(GUEST_LDTR_SELECTOR,           0x080C, ALWAYS,      "Guest LDTR selector") \
    X(GUEST_TR_SELECTOR,             0x080E, ALWAYS,      "Guest TR selector") \
    X(GUEST_INTR_STATUS,             0x0810, VID,         "Guest interrupt status (RVI, SVI)") \
    X(GUEST_PML_INDEX,               0x0812, PML,         "PML index") \
    /* 16-bit host-state fields */ \
    X(HOST_ES_SELECTOR,              0x0C00, ALWAYS,      "Host ES selector") \
    X(HOST_CS_SELECTOR,              0x0C02, ALWAYS,      "Host CS selector") \
    X(HOST_SS_SELECTOR,              0x0C04, ALWAYS,      "Host SS selector") \
    X(HOST_DS_SELECTOR,              0x0C06, ALWAYS,      "Host DS selector") \
    X(HOST_FS_SELECTOR,              0x0C08, ALWAYS,      "Host FS selector") \
    X(HOST_GS_SELECTOR,              0x0C0A, ALWAYS,      "Host GS selector") \
    X(HOST_TR_SELECTOR,              0x0C0C, ALWAYS,      "Host TR selector") \
    /* 64-bit control fields */ \
    X(IO_BITMAP_A,                   0x2000, ALWAYS,      "Address of I/O bitmap A") \
    X(IO_BITMAP_B,                   0x2002, ALWAYS,      "Address of I/O bitmap B") \
    X(MSR_BITMAP,                    0x2004, MSR_BITMAP,  "Address of MSR bitmaps") \
    X(EXIT_MSR_STORE_ADDR,           0x2006, ALWAYS,      "VM-exit MSR-store address") \
    X(EXIT_MSR_LOAD_ADDR,            0x2008, ALWAYS,      "VM-exit MSR-load address") \
    X(ENTRY_MSR_LOAD_ADDR,           0x200A, ALWAYS,      "VM-entry MSR-load address") \
    X(EXECUTIVE_VMCS_PTR,            0x200C, ALWAYS,      "Executive-VMCS pointer") \
    X(PML_ADDRESS,                   0x200E, PML,         "PML address") \
    X(TSC_OFFSET,                    0x2010, ALWAYS,      "TSC offset") \
    X(VIRTUAL_APIC_ADDR,             0x2012, TPR_SHADOW,  "Virtual-APIC address") \
    X(APIC_ACCESS_ADDR,              0x2014, APIC_ACCESS, "APIC-access address") \
    X(POSTED_INTR_DESC_ADDR,         0x2016, POSTED_INTR, "Posted-interrupt descriptor address") \
    X(VM_FUNCTION_CONTROLS,          0x2018, VMFUNC,      "VM-function controls") \
    X(EPT_POINTER,                   0x201A, EPT,         "EPT pointer (EPTP)") \
    X(EOI_EXIT_BITMAP0,              0x201C, VID,         "EOI-exit bitmap 0") \
    X(EOI_EXIT_BITMAP1,              0x201E, VID,         "EOI-exit bitmap 1") \
    X(EOI_EXIT_BITMAP2,              0x2020, VID,         "EOI-exit bitmap 2") \
    X(EOI_EXIT_BITMAP3,              0x2022, VID,         "EOI-exit bitmap 3") \
    X(EPTP_LIST_ADDR,                0x2024, EPTP_SWITCH, "EPTP-list address") \
    X(VMREAD_BITMAP,                 0x2026, SHADOW_VMCS, "VMREAD-bitmap address") \
    X(VMWRITE_BITMAP,                0x2028, SHADOW_VMCS, "VMWRITE-bitmap address") \
    X(VE_INFO_ADDR,                  0x202A, EPT_VE,      "Virtualization-exception information address") \
    X(XSS_EXITING_BITMAP,            0x202C, XSAVES,      "XSS-exiting bitmap") \
    X(ENCLS_EXITING_BITMAP,          0x202E, ENCLS,       "ENCLS-exiting bitmap") \
    X(SPP_TABLE_PTR,                 0x2030, SPP,         "Sub-page-permission-table pointer (newer SDM)") \
    X(TSC_MULTIPLIER,                0x2032, TSC_SCALING, "TSC multiplier") \
    X(TERTIARY_PROC_CONTROLS,        0x2034, TERTIARY,    "Tertiary processor-based VM-execution controls (newer SDM)") \
    X(ENCLV_EXITING_BITMAP,          0x2036, ENCLV,       "ENCLV-exiting bitmap (newer SDM)") \
    /* 64-bit read-only data field */ \
    X(GUEST_PHYSICAL_ADDR,           0x2400, EPT,         "Guest-physical address") \
    /* 64-bit guest-state fields */ \
    X(VMCS_LINK_POINTER,             0x2800, ALWAYS,      "VMCS link pointer") \
    X(GUEST_IA32_DEBUGCTL,           0x2802, ALWAYS,      "Guest IA32_DEBUGCTL") \
    X(GUEST_IA32_PAT,                0x2804, PAT,         "Guest IA32_PAT") \
    X(GUEST_IA32_EFER,               0x2806, EFER,        "Guest IA32_EFER") \
    X(GUEST_IA32_PERF_GLOBAL_CTRL,   0x2808, PERF_GLOBAL_ENTRY, "Guest IA32_PERF_GLOBAL_CTRL") \
    X(GUEST_PDPTE0,                  0x280A, EPT,         "Guest PDPTE0") \
    X(GUEST_PDPTE1,                  0x280C, EPT,         "Guest PDPTE1") \
    X(GUEST_PDPTE2,                  0x280E, EPT,         "Guest PDPTE2") \
    X(GUEST_PDPTE3,                  0x2810, EPT,         "Guest PDPTE3") \
    X(GUEST_IA32_BNDCFGS,            0x2812, BNDCFGS,     "Guest IA32_BNDCFGS") \
    X(GUEST_IA32_RTIT_CTL,           0x2814, RTIT,        "Guest IA32_RTIT_CTL (newer SDM)") \
    X(GUEST_IA32_LBR_CTL,            0x2816, LBR,         "Guest IA32_LBR_CTL (newer SDM)") \
    X(GUEST_IA32_PKRS,               0x2818, PKRS,        "Guest IA32_PKRS (newer SDM)") \
    /* 64-bit host-state fields */ \
    X(HOST_IA32_PAT,                 0x2C00, HOST_PAT,    "Host IA32_PAT") \
    X(HOST_IA32_EFER,                0x2C02, HOST_EFER,   "Host IA32_EFER") \
    X(HOST_IA32_PERF_GLOBAL_CTRL,    0x2C04, PERF_GLOBAL_EXIT, "Host IA32_PERF_GLOBAL_CTRL") \
    X(HOST_IA32_PKRS,                0x2C06, PKRS,        "Host IA32_PKRS (newer SDM)") \
    /* 32-bit control fields */ \
    X(PIN_CONTROLS,                  0x4000, ALWAYS,      "Pin-based VM-execution controls") \
    X(PROC_CONTROLS,                 0x4002, ALWAYS,      "Primary processor-based VM-execution controls") \
    X(EXCEPTION_BITMAP,              0x4004, ALWAYS,      "Exception bitmap") \
    X(PF_ERROR_CODE_MASK,            0x4006, ALWAYS,      "Page-fault error-code mask") \
    X(PF_ERROR_CODE_MATCH,           0x4008, ALWAYS,      "Page-fault error-code match") \
    X(CR3_TARGET_COUNT,              0x400A, ALWAYS,      "CR3-target count") \
    X(EXIT_CONTROLS,                 0x400C, ALWAYS,      "Primary VM-exit controls") \
    X(EXIT_MSR_STORE_COUNT,          0x400E, ALWAYS,      "VM-exit MSR-store count") \
    X(EXIT_MSR_LOAD_COUNT,           0x4010, ALWAYS,      "VM-exit MSR-load count") \
    X(ENTRY_CONTROLS,                0x4012, ALWAYS,      "VM-entry controls") \
    X(ENTRY_MSR_LOAD_COUNT,          0x4014, ALWAYS,      "VM-entry MSR-load count") \
    X(ENTRY_INTR_INFO,               0x4016, ALWAYS,      "VM-entry interruption-information field") \
    X(ENTRY_EXCEPTION_ERROR_CODE,    0x4018, ALWAYS,      "VM-entry exception error code") \
    X(ENTRY_INSTRUCTION_LEN,         0x401A, ALWAYS,      "VM-entry instruction length") \
    X(TPR_THRESHOLD,                 0x401C, TPR_SHADOW,  "TPR threshold") \
    X(PROC_CONTROLS2,                0x401E, SECONDARY,   "Secondary processor-based VM-execution controls") \
    X(PLE_GAP,                       0x4020, PLE,         "PLE_Gap") \
    X(PLE_WINDOW,                    0x4022, PLE,         "PLE_Window") \
    /* 32-bit read-only data fields */ \
    X(VM_INSTRUCTION_ERROR,          0x4400, ALWAYS,      "VM-instruction error") \
    X(EXIT_REASON,                   0x4402, ALWAYS,      "Exit reason") \
    X(EXIT_INTR_INFO,                0x4404, ALWAYS,      "VM-exit interruption information") \
    X(EXIT_INTR_ERROR_CODE,          0x4406, ALWAYS,      "VM-exit interruption error code") \
    X(IDT_VECTORING_INFO,            0x4408, ALWAYS,      "IDT-vectoring information field") \
    X(IDT_VECTORING_ERROR_CODE,      0x440A, ALWAYS,      "IDT-vectoring error code") \
    X(EXIT_INSTRUCTION_LEN,          0x440C, ALWAYS,      "VM-exit instruction length") \
    X(EXIT_INSTRUCTION_INFO,         0x440E, ALWAYS,      "VM-exit instruction information") \
    /* 32-bit guest-state fields */ \
    X(GUEST_ES_LIMIT,                0x4800, ALWAYS,      "Guest ES limit") \
    X(GUEST_CS_LIMIT,                0x4802, ALWAYS,      "Guest CS limit") \
    X(GUEST_SS_LIMIT,                0x4804, ALWAYS,      "Guest SS limit") \
    X(GUEST_DS_LIMIT,                0x4806, ALWAYS,      "Guest DS limit") \
    X(GUEST_FS_LIMIT,                0x4808, ALWAYS,      "Guest FS limit") \
    X(GUEST_GS_LIMIT,                0x480A, ALWAYS,      "Guest GS limit") \
    X(GUEST_LDTR_LIMIT,              0x480C, ALWAYS,      "Guest LDTR limit") \
    X(GUEST_TR_LIMIT,                0x480E, ALWAYS,      "Guest TR limit") \
    X(GUEST_GDTR_LIMIT,              0x4810, ALWAYS,      "Guest GDTR limit") \
    X(GUEST_IDTR_LIMIT,              0x4812, ALWAYS,      "Guest IDTR limit") \
    X(GUEST_ES_AR,                   0x4814, ALWAYS,      "Guest ES access rights") \
    X(GUEST_CS_AR,                   0x4816, ALWAYS,      "Guest CS access rights") \
    X(GUEST_SS_AR,                   0x4818, ALWAYS,      "Guest SS access rights") \
    X(GUEST_DS_AR,                   0x481A, ALWAYS,      "Guest DS access rights") \
    X(GUEST_FS_AR,                   0x481C, ALWAYS,      "Guest FS access rights") \
    X(GUEST_GS_AR,                   0x481E, ALWAYS,      "Guest GS access rights") \
    X(GUEST_LDTR_AR,                 0x4820, ALWAYS,      "Guest LDTR access rights") \
    X(GUEST_TR_AR,                   0x4822, ALWAYS,      "Guest TR access rights") \
    X(GUEST_INTERRUPTIBILITY,        0x4824, ALWAYS,      "Guest interruptibility state") \
    X(GUEST_ACTIVITY_STATE,          0x4826, ALWAYS,      "Guest activity state") \
    X(GUEST_SMBASE,                  0x4828, ALWAYS,      "Guest SMBASE") \
    X(GUEST_IA32_SYSENTER_CS,        0x482A, ALWAYS,      "Guest IA32_SYSENTER_CS") \
    X(PREEMPTION_TIMER_VALUE,        0x482E, PREEMPTION_TIMER, "VMX-preemption timer value") \
    /* 32-bit host-state field */ \
    X(HOST_IA32_SYSENTER_CS,         0x4C00, ALWAYS,      "Host IA32_SYSENTER_CS") \
    /* natural-width control fields */ \
    X(CR0_GUEST_HOST_MASK,           0x6000, ALWAYS,      "CR0 guest/host mask") \
    X(CR4_GUEST_HOST_MASK,           0x6002, ALWAYS,      "CR4 guest/host mask") \
    X(CR0_READ_SHADOW,               0x6004, ALWAYS,      "CR0 read shadow") \
    X(CR4_READ_SHADOW,               0x6006, ALWAYS,      "CR4 read shadow") \
    X(CR3_TARGET_VALUE0,             0x6008, ALWAYS,      "CR3-target value 0") \
    X(CR3_TARGET_VALUE1,             0x600A, ALWAYS,      "CR3-target value 1") \
    X(CR3_TARGET_VALUE2,             0x600C, ALWAYS,      "CR3-target value 2") \
    X(CR3_TARGET_VALUE3,             0x600E, ALWAYS,      "CR3-target value 3") \
    /* natural-width read-only data fields */ \
    X(EXIT_QUALIFICATION,            0x6400, ALWAYS,      "Exit qualification") \
    X(IO_RCX,                        0x6402, ALWAYS,      "I/O RCX") \
    X(IO_RSI,                        0x6404, ALWAYS,      "I/O RSI") \
    X(IO_RDI,                        0x6406, ALWAYS,      "I/O RDI") \
    X(IO_RIP,                        0x6408, ALWAYS,      "I/O RIP") \
    X(GUEST_LINEAR_ADDR,             0x640A, ALWAYS,      "Guest-linear address") \
    /* natural-width guest-state fields */ \
    X(GUEST_CR0,                     0x6800, ALWAYS,      "Guest CR0") \
    X(GUEST_CR3,                     0x6802, ALWAYS,      "Guest CR3") \
    X(GUEST_CR4,                     0x6804, ALWAYS,      "Guest CR4") \
    X(GUEST_ES_BASE,                 0x6806, ALWAYS,      "Guest ES base") \
    X(GUEST_CS_BASE,                 0x6808, ALWAYS,      "Guest CS base") \
    X(GUEST_SS_BASE,                 0x680A, ALWAYS,      "Guest SS base") \
    X(GUEST_DS_BASE,                 0x680C, ALWAYS,      "Guest DS base") \
    X(GUEST_FS_BASE,                 0x680E, ALWAYS,      "Guest FS base") \
    X(GUEST_GS_BASE,                 0x6810, ALWAYS,      "Guest GS base") \
    X(GUEST_LDTR_BASE,               0x6812, ALWAYS,      "Guest LDTR base") \
    X(GUEST_TR_BASE,                 0x6814, ALWAYS,      "Guest TR base") \
    X(GUEST_GDTR_BASE,               0x6816, ALWAYS,      "Guest GDTR base") \
    X(GUEST_IDTR_BASE,               0x6818, ALWAYS,      "Guest IDTR base") \
    X(GUEST_DR7,                     0x681A, ALWAYS,      "Guest DR7") \
    X(GUEST_RSP,                     0x681C, ALWAYS,      "Guest RSP") \
    X(GUEST_RIP,                     0x681E, ALWAYS,      "Guest RIP") \
    X(GUEST_RFLAGS,                  0x6820, ALWAYS,      "Guest RFLAGS") \
    X(GUEST_PENDING_DBG_EXCEPTIONS,  0x6822, ALWAYS,      "Guest pending debug exceptions") \
    X(GUEST_IA32_SYSENTER_ESP,       0x6824, ALWAYS,      "Guest IA32_SYSENTER_ESP") \
    X(GUEST_IA32_SYSENTER_EIP,       0x6826, ALWAYS,      "Guest IA32_SYSENTER_EIP") \
    X(GUEST_S_CET,                   0x6828, CET,         "Guest IA32_S_CET (newer SDM)") \
    X(GUEST_SSP,                     0x682A, CET,         "Guest SSP (newer SDM)") \
    X(GUEST_INTR_SSP_TABLE_ADDR,     0x682C, CET,         "Guest IA32_INTERRUPT_SSP_TABLE_ADDR (newer SDM)") \
    /* natural-width host-state fields */ \
    X(HOST_CR0,                      0x6C00, ALWAYS,      "Host CR0") \
    X(HOST_CR3,                      0x6C02, ALWAYS,      "Host CR3") \
    X(HOST_CR4,                      0x6C04, ALWAYS,      "Host CR4") \
    X(HOST_FS_BASE,                  0x6C06, ALWAYS,      "Host FS base") \
    X(HOST_GS_BASE,                  0x6C08, ALWAYS,      "Host GS base") \
    X(HOST_TR_BASE,                  0x6C0A, ALWAYS,      "Host TR base") \
    X(HOST_GDTR_BASE,                0x6C0C, ALWAYS,      "Host GDTR base") \
    X(HOST_IDTR_BASE,                0x6C0E, ALWAYS,      "Host IDTR base") \
    X(HOST_IA32_SYSENTER_ESP,        0x6C10, ALWAYS,      "Host IA32_SYSENTER_ESP") \
    X(HOST_IA32_SYSENTER_EIP,        0x6C12, ALWAYS,      "Host IA32_SYSENTER_EIP") \
    X(HOST_RSP,                      0x6C14, ALWAYS,      "Host RSP") \
    X(HOST_RIP,                      0x6C16, ALWAYS,      "Host RIP") \
    X(HOST_S_CET,                    0x6C18, CET,         "Host IA32_S_CET (newer SDM)") \
    X(HOST_SSP,                      0x6C1A, CET,         "Host SSP (newer SDM)") \
    X(HOST_INTR_SSP_TABLE_ADDR,      0x6C1C, CET,         "Host IA32_INTERRUPT_SSP_TABLE_ADDR (newer SDM)")
/* clang-format on */

/** @brief VMCS field encodings: `VTX_VMCS_GUEST_RIP` = 0x681E, and so on. */
typedef enum vtx_vmcs_field {
#define VTX_X_ENUM(name, enc, feat, desc) VTX_VMCS_##name = (enc),
    VTX_VMCS_FIELDS(VTX_X_ENUM)
#undef VTX_X_ENUM
} vtx_vmcs_field;

/** @brief Number of rows in ::VTX_VMCS_FIELDS. */
#define VTX_VMCS_FIELD_COUNT (0 VTX_VMCS_FIELDS(VTX_X_COUNT_))
#define VTX_X_COUNT_(name, enc, feat, desc) + 1

/** @brief Field width, encoding bits 14:13. */
typedef enum vtx_field_width {
    VTX_WIDTH_16 = 0,      /**< 16-bit field. */
    VTX_WIDTH_64 = 1,      /**< 64-bit field (has a high-half encoding). */
    VTX_WIDTH_32 = 2,      /**< 32-bit field. */
    VTX_WIDTH_NATURAL = 3, /**< Natural width: 64 bits on Intel 64 processors. */
} vtx_field_width;

/** @brief Field type, encoding bits 11:10. */
typedef enum vtx_field_type {
    VTX_TYPE_CONTROL = 0, /**< VM-execution, VM-exit or VM-entry control field. */
    VTX_TYPE_RO_DATA = 1, /**< Read-only data: VM-exit information and the VM-instruction error. */
    VTX_TYPE_GUEST = 2,   /**< Guest-state area. */
    VTX_TYPE_HOST = 3,    /**< Host-state area. */
} vtx_field_type;

/** @brief A processor capability a VMCS field depends on (the FEATURE column). */
typedef enum vtx_feature {
#define VTX_FEATURES(X) \
    X(ALWAYS) X(VPID) X(POSTED_INTR) X(EPT_VE) X(VID) X(PML) X(MSR_BITMAP) X(TPR_SHADOW) \
    X(APIC_ACCESS) X(VMFUNC) X(EPT) X(EPTP_SWITCH) X(SHADOW_VMCS) X(XSAVES) X(ENCLS) X(SPP) \
    X(TSC_SCALING) X(TERTIARY) X(ENCLV) X(PAT) X(EFER) X(PERF_GLOBAL_ENTRY) X(BNDCFGS) X(RTIT) \
    X(LBR) X(PKRS) X(HOST_PAT) X(HOST_EFER) X(PERF_GLOBAL_EXIT) X(SECONDARY) X(PLE) \
    X(PREEMPTION_TIMER) X(CET)
#define VTX_X_FEAT(name) VTX_FEAT_##name,
    VTX_FEATURES(VTX_X_FEAT)
#undef VTX_X_FEAT
    VTX_FEAT_COUNT_
} vtx_feature;

/** @brief One row of the field table, with the encoding decoded. */
typedef struct vtx_field_info {
    const char *name;        /**< Symbolic name without prefix, e.g. "GUEST_RIP". */
    const char *description; /**< The SDM's name, e.g. "Guest RIP". */
    uint32_t encoding;       /**< Encoding of the full field. */
    vtx_field_width width;   /**< Width from encoding bits 14:13. */
    vtx_field_type type;     /**< Type from encoding bits 11:10. */
    unsigned index;          /**< Index from encoding bits 9:1. */
    vtx_feature feature;     /**< Capability the field needs (::VTX_FEAT_ALWAYS for none). */
    bool read_only;          /**< True for type 1 (read-only data) fields. */
} vtx_field_info;

/** @brief The field table, in encoding order; @p count receives ::VTX_VMCS_FIELD_COUNT. */
VTX_API const vtx_field_info *vtx_vmcs_fields(size_t *count);

/**
 * @brief Look up an encoding. Accepts the full encoding of any field and the high
 * encoding (full + 1) of a 64-bit field; @p high is set to true for the latter.
 * @return ::VTX_OK, or ::VTX_ERR_NOT_FOUND for an encoding that names no field of
 * the table (reserved bits set, unknown index, or a high access to a non-64-bit field).
 */
VTX_API vtx_status vtx_vmcs_field_lookup(uint64_t encoding, const vtx_field_info **info, bool *high);

/** @brief Look up a field by name, case-insensitive, with or without "VTX_VMCS_" prefix. */
VTX_API vtx_status vtx_vmcs_field_by_name(const char *name, const vtx_field_info **info);

/** @brief Name of a width ("16-bit", "64-bit", "32-bit", "natural"). */
VTX_API const char *vtx_field_width_name(vtx_field_width width);
/** @brief Name of a type ("control", "read-only data", "guest state", "host state"). */
VTX_API const char *vtx_field_type_name(vtx_field_type type);
/** @brief Name of a feature token as written in the table ("EPT"). */
VTX_API const char *vtx_feature_name(vtx_feature feature);

/** @brief Width decoded from an encoding (bits 14:13). */
static inline vtx_field_width vtx_encoding_width(uint32_t enc) { return (vtx_field_width)((enc >> 13) & 3); }
/** @brief Type decoded from an encoding (bits 11:10). */
static inline vtx_field_type vtx_encoding_type(uint32_t enc) { return (vtx_field_type)((enc >> 10) & 3); }
/** @brief Index decoded from an encoding (bits 9:1). */
static inline unsigned vtx_encoding_index(uint32_t enc) { return (enc >> 1) & 0x1FF; }

#ifdef __cplusplus
}
#endif
#endif
