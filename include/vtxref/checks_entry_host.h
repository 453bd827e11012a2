/**
 * @file checks_entry_host.h
 * @brief VM-entry checks on the host-state area (SDM "Checks on Host Control Registers, MSRs and Segment and Descriptor-Table Registers"). Failure: VMfailValid, error 8.
 *
 * Rows: X(NAME, "rule ID" or NULL, "one-line text"). Included by checks.h.
 */
#ifndef VTXREF_CHECKS_ENTRY_HOST_H
#define VTXREF_CHECKS_ENTRY_HOST_H

/* clang-format off */
#define VTX_ENTRY_HOST_CHECKS(X)
/* clang-format on */

#endif
