/**
 * @file checks_entry_guest.h
 * @brief VM-entry checks on the guest-state area (SDM "Checks on the Guest State Area": control registers, debug registers, MSRs, segment registers, descriptor-table registers, RIP and RFLAGS, non-register state; catalogue F.3 ENT-GS-*). Failure: VM-entry failure exit, reason 33 | 0x80000000.
 *
 * Rows: X(NAME, "rule ID" or NULL, "one-line text"). Included by checks.h.
 */
#ifndef VTXREF_CHECKS_ENTRY_GUEST_H
#define VTXREF_CHECKS_ENTRY_GUEST_H

/* clang-format off */
#define VTX_ENTRY_GUEST_CHECKS(X)
/* clang-format on */

#endif
