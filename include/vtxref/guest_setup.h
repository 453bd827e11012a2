/**
 * @file guest_setup.h
 * @brief A known-good starting point: a flat 64-bit guest and a 64-bit host.
 *
 * Writing a VMCS that passes every VM-entry check takes some sixty VMWRITEs and
 * descriptor tables in memory. vtx_setup_flat64() does it the way a minimal VMM
 * would, through vtx_vmwrite() (so every write obeys the VMWRITE rules), and
 * lays out in guest memory: a GDT (null, 64-bit code 0x08, data 0x10, a 64-bit
 * TSS 0x18), an IDT whose 256 interrupt gates point at `handlers + 16 * vector`
 * (or are not present when `handlers` is 0), and identity page tables mapping
 * the first GiB with 2-MiB pages. Change any field afterwards with vtx_vmwrite().
 */
#ifndef VTXREF_GUEST_SETUP_H
#define VTXREF_GUEST_SETUP_H

#include <stdint.h>
#include "machine.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Where the flat 64-bit guest lives (caller-owned). All addresses are guest-physical = linear. */
typedef struct vtx_flat64 {
    uint64_t rip;       /**< First instruction. */
    uint64_t rsp;       /**< Initial stack pointer. */
    uint64_t rflags;    /**< Initial RFLAGS (bit 1 is forced to 1). */
    uint64_t tables;    /**< 4-KiB aligned start of 5 free pages: PML4, PDPT, PD, GDT + TSS, IDT. */
    uint64_t handlers;  /**< Base of the interrupt handlers (vector v at handlers + 16 * v), or 0 for no IDT gates. */
} vtx_flat64;

/**
 * @brief Write the tables into guest memory and a complete, valid VMCS into the
 * current VMCS: controls at their must-be-1 settings plus "IA-32e mode guest"
 * and "host address-space size"; a 64-bit host; the guest of @p g.
 * @return ::VTX_OK; ::VTX_ERR_STATE without a current VMCS (or outside VMX
 * operation); ::VTX_ERR_UNMAPPED if the tables do not fit in mapped memory;
 * ::VTX_ERR_INVALID_ARG for a misaligned or out-of-range layout. @p diag says which.
 */
VTX_API vtx_status vtx_setup_flat64(vtx_machine *m, const vtx_flat64 *g, vtx_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
