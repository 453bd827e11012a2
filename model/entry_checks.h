/*
 * The VM-entry checks of SDM Vol. 3 "Checks on VMX Controls and Host-State Area"
 * and "Checks on the Guest State Area", one small function per check group,
 * each failure naming itself (a ::vtx_check from checks_entry_*.h).
 */
#ifndef VTX_ENTRY_CHECKS_H
#define VTX_ENTRY_CHECKS_H

#include <stdarg.h>
#include "machine_internal.h"

/* Why a VM-entry check failed. */
typedef struct vtx_entry_fail {
    vtx_check check;        /* the named check */
    uint32_t qualification; /* guest checks: exit qualification 0, 2 (PDPTE), 3 (NMI with STI blocking), 4 (link pointer) */
    char why[240];          /* one sentence naming the field, its value and the rule */
} vtx_entry_fail;

/* Fill *fail and return false: `return vtx_entry_failf(fail, VTX_CHECK_X, 0, "...", ...);` */
bool vtx_entry_failf(vtx_entry_fail *fail, vtx_check check, uint32_t qualification, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Each returns true when every check of its group passes; else fills *fail.
 * f is the current VMCS; m gives the profile (capability MSRs, knobs) and memory. */
bool vtx_entry_check_controls(const vtx_machine *m, const vtx_vmcs_values *f, vtx_entry_fail *fail); /* error 7 */
bool vtx_entry_check_host(const vtx_machine *m, const vtx_vmcs_values *f, vtx_entry_fail *fail);     /* error 8 */
bool vtx_entry_check_guest(const vtx_machine *m, const vtx_vmcs_values *f, vtx_entry_fail *fail);    /* exit 33 */

/* The guest-state checks in parts, for the incremental checks (entry_memo.c): RIP
 * (the RIP/RFLAGS group), MEMORY (the VMCS link pointer and PDPTEs, which read
 * memory), REST (every check, in the SDM's order). Only the checks of the parts
 * given run, in the SDM's order. */
enum { VTX_EG_PART_RIP = 1u, VTX_EG_PART_MEMORY = 2u, VTX_EG_PART_REST = 4u, VTX_EG_PART_ALL = 7u };
bool vtx_entry_check_guest_parts(const vtx_machine *m, const vtx_vmcs_values *f, unsigned parts,
                                 vtx_entry_fail *fail);

/* The checks of ENT-BASIC-4/5 in their order (controls, host state, guest state).
 * Without "full_entry_checks" a VMLAUNCH/VMRESUME of a VMCS whose checks passed
 * before re-runs only the checks fed by the fields whose values changed since
 * (entry_memo.c). Returns the group that failed, with *fail filled. */
typedef enum { VTX_ENTRY_PASS, VTX_ENTRY_BAD_CONTROLS, VTX_ENTRY_BAD_HOST, VTX_ENTRY_BAD_GUEST } vtx_entry_verdict;
vtx_entry_verdict vtx_entry_checks(vtx_machine *m, vtx_vmcs *v, vtx_entry_fail *fail);

/* Load the host state of f into the root environment (VM exit and entry failure). */
void vtx_load_host_state(vtx_machine *m, const vtx_vmcs_values *f);
/* Finish VMLAUNCH/VMRESUME with a VM-entry failure exit (reason basic | 0x80000000). */
void vtx_entry_failure_exit(vtx_machine *m, vtx_insn_result *r, uint32_t basic_reason, const vtx_entry_fail *fail);

#endif
