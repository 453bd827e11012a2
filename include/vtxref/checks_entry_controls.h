/**
 * @file checks_entry_controls.h
 * @brief VM-entry checks on VMX controls (SDM "Checks on VMX Controls"; catalogue F.2 ENT-CTL-*). Failure: VMfailValid, error 7.
 *
 * Rows: X(NAME, "rule ID" or NULL, "one-line text"). Included by checks.h.
 */
#ifndef VTXREF_CHECKS_ENTRY_CONTROLS_H
#define VTXREF_CHECKS_ENTRY_CONTROLS_H

/* clang-format off */
#define VTX_ENTRY_CONTROLS_CHECKS(X)
/* clang-format on */

#endif
