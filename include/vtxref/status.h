/**
 * @file status.h
 * @brief Status codes returned by every vtxref function.
 *
 * A vtxref function returns a ::vtx_status that says whether the *call* worked.
 * What a modelled instruction did architecturally (VMsucceed, VMfailInvalid,
 * VMfailValid, a fault) is reported separately, in a ::vtx_insn_result
 * (see vmx.h): a VMXON that ends in VMfailInvalid is a successful call.
 */
#ifndef VTXREF_STATUS_H
#define VTXREF_STATUS_H

/** @brief Marks the functions the shared library exports. */
#if defined(VTX_BUILDING_LIBRARY) && defined(__GNUC__)
#define VTX_API __attribute__((visibility("default")))
#else
#define VTX_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Result of a vtxref API call. Zero is success; every failure is negative. */
typedef enum vtx_status {
    VTX_OK = 0,                  /**< The call did what it was asked. */
    VTX_ERR_INVALID_ARG = -1,    /**< A NULL pointer or an out-of-range argument. */
    VTX_ERR_NO_MEMORY = -2,      /**< An allocation failed. */
    VTX_ERR_NOT_FOUND = -3,      /**< A named item (profile, field, MSR) does not exist. */
    VTX_ERR_PARSE = -4,          /**< A file or string could not be parsed; see the diagnostic. */
    VTX_ERR_PROFILE_INVALID = -5,/**< A CPU profile contradicts itself; see the diagnostic. */
    VTX_ERR_IO = -6,             /**< A file could not be opened, read or written. */
    VTX_ERR_UNMAPPED = -7,       /**< A physical address the model had to access is not mapped. */
    VTX_ERR_OVERLAP = -8,        /**< A memory region overlaps one already mapped. */
    VTX_ERR_UNSUPPORTED = -9,    /**< The model does not implement this yet; the diagnostic says what. */
    VTX_ERR_STATE = -10,         /**< The call is not valid in the machine's current state. */
} vtx_status;

/** @brief Stable upper-case name of a status ("VTX_ERR_PARSE"); "VTX_ERR_?" if unknown. */
VTX_API const char *vtx_status_name(vtx_status status);

/** @brief True when @p status is ::VTX_OK. */
#define VTX_SUCCESS(status) ((status) == VTX_OK)

/**
 * @brief A human-readable diagnostic filled by functions that can fail for a
 * reason worth explaining (parsers, profile validation, memory access).
 *
 * Caller-owned. Every function taking a `vtx_diag *` accepts NULL when the
 * caller does not want the text. On failure `message` names what was wrong and
 * where ("profile.txt:12: IA32_VMX_PINBASED_CTLS: bit 3 ...").
 */
typedef struct vtx_diag {
    char message[512]; /**< NUL-terminated text; empty when there is nothing to say. */
    const char *rule;  /**< Rule ID (stated in docs/rules.md), or NULL. */
    int line;          /**< 1-based line of the offending input, or 0. */
} vtx_diag;

#ifdef __cplusplus
}
#endif
#endif
