/* Internal state of a modelled machine, shared by the files of model/. */
#ifndef VTX_MACHINE_INTERNAL_H
#define VTX_MACHINE_INTERNAL_H

#include <stdio.h>
#include "../vmcs/vmcs_internal.h"
#include "vtxref/machine.h"
#include "vtxref/vmx.h"

#define VTX_NO_VMCS (~(uint64_t)0)

typedef struct vtx_mem_region {
    uint64_t pa, size;
    uint8_t *host;
    unsigned perms;
} vtx_mem_region;

/* One VMCS the processor has seen: its launch state and field data. The data
 * stands for the implementation-specific part of the VMCS region; the region
 * in memory holds the revision identifier and shadow-VMCS indicator. */
typedef struct vtx_vmcs {
    uint64_t pa;
    bool active;          /* VMPTRLDed and not VMCLEARed since */
    bool shadow;          /* loaded with region bit 31 = 1 */
    bool crossed_vmxoff;  /* active across VMXOFF: VMRESUME fails with error 6 */
    vtx_launch_state launch;
    vtx_vmcs_values f;
} vtx_vmcs;

struct vtx_machine {
    vtx_profile profile;
    vtx_root_state root;
    vtx_vmcs_support support;

    vtx_mem_region *regions;
    size_t n_regions, cap_regions;

    bool vmx_on;           /* in VMX operation */
    uint64_t vmxon_ptr;
    vtx_vmcs *current;     /* NULL when the current-VMCS pointer is invalid */

    vtx_vmcs **vmcs;       /* every VMCS seen (stable pointers) */
    size_t n_vmcs, cap_vmcs;
};

/* Physical memory helpers. */
vtx_status vtx_mem_read(const vtx_machine *m, uint64_t pa, void *buf, size_t len, vtx_diag *diag);
vtx_status vtx_mem_write(vtx_machine *m, uint64_t pa, const void *buf, size_t len, vtx_diag *diag);

/* VMCS bookkeeping. */
vtx_vmcs *vtx_vmcs_lookup(const vtx_machine *m, uint64_t pa);
vtx_status vtx_vmcs_get_or_create(vtx_machine *m, uint64_t pa, vtx_vmcs **out);

/* Outcome helpers: set the result, RFLAGS and the VM-instruction error field.
 * The named check gives the result's check and rule; fmt gives its "why". */
void vtx_res_reset(vtx_insn_result *r);
void vtx_vmsucceed(vtx_machine *m, vtx_insn_result *r);
void vtx_vmfail_invalid(vtx_machine *m, vtx_insn_result *r, vtx_check check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* VMfail(error): VMfailValid when there is a current VMCS, else VMfailInvalid. */
void vtx_vmfail(vtx_machine *m, vtx_insn_result *r, vtx_vm_insn_error err, vtx_check check,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void vtx_fault(vtx_insn_result *r, uint8_t vector, vtx_check check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Mode tests on the root state. */
bool vtx_root_64bit(const vtx_root_state *root);
/* The checks every VMX instruction other than VMXON makes first (#UD outside
 * VMX operation, in V8086 or compatibility mode; #GP(0) at CPL > 0). Returns
 * true (and fills r) when the instruction faults. */
bool vtx_vmx_insn_faults(vtx_machine *m, vtx_insn_result *r, const char *insn);
/* VMXON's own #UD mode check (CR0.PE, RFLAGS.VM, compatibility mode). */
bool vtx_vmxon_mode_faults(vtx_machine *m, vtx_insn_result *r);
/* Physical address valid for a VMX region: 4-KiB aligned, within the width. */
bool vtx_vmx_addr_ok(const vtx_machine *m, uint64_t pa);
unsigned vtx_vmx_addr_width(const vtx_machine *m);
/* EPTP validity (SDM "VM-Execution Control Fields", EPTP checks): memory type,
 * page-walk length, A/D enable and reserved bits against IA32_VMX_EPT_VPID_CAP.
 * On false, *why says which part is wrong. */
bool vtx_eptp_valid(const vtx_machine *m, uint64_t eptp, const char **why);

#endif
