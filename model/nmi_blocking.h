/* Blocking by NMI and virtual-NMI blocking (catalogue A.4, D: BLK-NMI-*, VNMI-*),
 * one file for all of it (nmi_blocking.c): whether a pending NMI is held
 * (vtx_nmi_unblocked, windows.h), where the blocking starts (the delivery of
 * an NMI) and where IRET ends it. Loaded from and saved to the
 * interruptibility-state field at VM entry and exit (guest_state.c). */
#ifndef VTX_NMI_BLOCKING_H
#define VTX_NMI_BLOCKING_H

#include "execute.h"

/* An NMI's delivery started: blocking by NMI holds from then on (BLK-NMI-1),
 * also when that delivery ends in a nested exception that is delivered or
 * exits instead (BLK-NMI-3). `delivering_nmi`: the event was an NMI. */
void vtx_nmi_blocking_by_delivery(vtx_guest *g, bool delivering_nmi);

/* IRET: it removes (virtual-)NMI blocking, even if it faults, unless NMI exiting
 * = 1 and virtual NMIs = 0 (VNMI-4, VNMI-5, VNMI-6, BLK-NMI-1); its task-switch
 * exit comes first and keeps the blocking. Executed on the engine. */
vtx_step vtx_exec_iret(vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st);

/* An IRET that removed NMI blocking faulted and the fault exits directly (not
 * during event delivery): its exit reports "NMI unblocking due to IRET", bit 12
 * of the interruption information (VNMI-7, VNMI-9). A #DF is not marked: it is
 * not IRET's own fault. No effect outside an IRET. */
void vtx_nmi_iret_fault_exit(const vtx_machine *m, uint8_t vector, vtx_exit_info *ex);

#endif
