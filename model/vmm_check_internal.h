/* The VMM checker's state and the hooks the model calls (vmm_check.h). The
 * hooks only read the machine: attaching a checker changes nothing the guest
 * or the VMM sees. */
#ifndef VTX_VMM_CHECK_INTERNAL_H
#define VTX_VMM_CHECK_INTERNAL_H

#include "machine_internal.h"
#include "vtxref/vmm_check.h"

/* Hooks, called only when m->vmm_monitor is set (one line each at the call sites). */
void vtx_vmm_mon_exit(vtx_machine *m);   /* a VM exit completed (vmexit.c) */
void vtx_vmm_mon_entry(vtx_machine *m);  /* a VM entry passed its checks and loaded the guest (vmentry.c) */
void vtx_vmm_mon_vmwrite(vtx_machine *m, uint64_t encoding, uint64_t value); /* a VMWRITE succeeded */
void vtx_vmm_mon_vmread(vtx_machine *m, uint64_t encoding);  /* a VMREAD succeeded */
void vtx_vmm_mon_gprs(vtx_machine *m);   /* the VMM wrote the general-purpose registers */

/* What a VM exit saved, as the checker keeps it. */
typedef struct vmm_exit {
    uint64_t index;            /* 1-based */
    uint32_t reason;           /* basic reason */
    uint32_t intr_info, idt_info, idt_error, insn_len;
    uint64_t rip, rflags;
    uint32_t intr, activity;   /* interruptibility, activity state */
    uint32_t pin, proc;        /* controls in force during the run that exited */
    uint64_t instructions;     /* guest instructions retired when it happened */
    bool injected_before;      /* the entry before it injected an event */
} vmm_exit;

/* An event the VMM owes the guest: an IDT-vectoring event, or an interrupt or
 * NMI that exited (acknowledged on exit / NMI exiting). */
typedef struct vmm_owed {
    uint32_t info, error, len; /* interruption information, error code, instruction length */
    uint64_t exit_index, exit_rip;
    uint32_t exit_reason;
    bool read;                 /* the VMM read the IDT-vectoring information field after that exit */
} vmm_owed;

#define VMM_MAX_IDT_OWED 8

struct vtx_vmm_checker {
    vtx_vmm_check_config cfg;
    vtx_machine *m;            /* attached to, or NULL */
    bool have_vmcs;
    uint64_t vmcs_pa;          /* the VMCS followed */
    vtx_vmm_check_report rep;

    bool have_exit;            /* `last` holds an exit */
    bool entered_since_exit;   /* a successful entry followed `last` */
    vmm_exit last;
    bool last_entry_injected;  /* the last entry injected an event */
    uint64_t last_entry_rip;
    bool gprs_written;         /* since the last exit */
    bool wrote_rflags;         /* a VMWRITE of the guest RFLAGS since the last exit */

    vmm_owed idt[VMM_MAX_IDT_OWED]; /* IDT-vectoring events owed, oldest first */
    unsigned n_idt;
    vmm_owed *acks;            /* acknowledged interrupts and exited NMIs owed, oldest first */
    size_t n_acks, cap_acks;
    bool tracked[256];         /* vectors seen acknowledged on exit */
    uint64_t consumed_exit[256]; /* exit index of the last acknowledgement an injection used */
    uint64_t consumed_rip[256];  /* and the guest RIP that exit saved */

    unsigned storm_run[2];     /* interrupt window, NMI window */
    bool storm_reported[2];
};

/* Report a finding (vmm_check.c): fills the fixed parts from the table, counts it, calls back. */
typedef struct vmm_where {
    uint64_t exit_index, exit_rip, entry_index, entry_rip;
    uint32_t exit_reason;
    uint8_t vector;
} vmm_where;
void vtx_vmm_report(vtx_vmm_checker *c, vtx_vmm_finding_kind kind, const vmm_where *w, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Describe an interruption-information value ("external interrupt 0x30"). */
const char *vtx_vmm_event_text(uint32_t info, char *buf, size_t size);

#endif
