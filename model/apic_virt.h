/*
 * APIC virtualization (SDM Vol. 3 "APIC Virtualization and Virtual Interrupts";
 * catalogue IW-7, IW-8, PRI-2 item 1, ENT-CTL-5/6): the virtual-APIC page in
 * guest memory, "use TPR shadow" (tpr_shadow.c), "virtual-interrupt delivery"
 * (virtual_interrupt.c) and "virtualize x2APIC mode" (x2apic_virt.c).
 *
 * What is modelled and what is refused by name:
 * - "use TPR shadow": MOV CR8 reads and writes VTPR; TPR virtualization; the
 *   TPR-below-threshold exit (reason 43), trap-like after a TPR write and right
 *   after VM entry. VM entry refuses a virtual-APIC page outside mapped memory.
 * - "virtual-interrupt delivery": RVI/SVI, VIRR/VISR/VPPR, PPR virtualization,
 *   evaluation and delivery of virtual interrupts, EOI virtualization with the
 *   EOI-exit bitmap (reason 45), self-IPI virtualization.
 * - "virtualize x2APIC mode": RDMSR 808H, WRMSR 808H/80BH/83FH (APIC write, reason
 *   56, for a self-IPI vector below 16), when the MSR bitmap lets them through.
 * - "virtualize APIC accesses": only with the APIC-access page outside mapped
 *   memory (VM entry refuses it otherwise): its effects on VM entry (ENT-CTL-5,
 *   the post-entry TPR-threshold exit of IW-8) are modelled; any guest access to
 *   the page stops the run (APIC-access VM exits are not modelled).
 * - Refused at VM entry (vmentry.c): "APIC-register virtualization" and "process
 *   posted interrupts".
 */
#ifndef VTX_APIC_VIRT_H
#define VTX_APIC_VIRT_H

#include "../cpu/engine.h"
#include "machine_internal.h"

/* clang-format off */
/* Virtual-APIC page registers the model uses (SDM "Virtualized APIC Registers"):
 * X(NAME, page offset, "description"). VISR and VIRR are 256 bits: bit v is bit
 * (v & 1FH) of the 32-bit field at offset + ((v & E0H) >> 1). */
#define VTX_VAPIC_REGS(X) \
    X(VTPR,     0x080, "virtual task-priority register") \
    X(VPPR,     0x0A0, "virtual processor-priority register") \
    X(VEOI,     0x0B0, "virtual end-of-interrupt register") \
    X(VISR,     0x100, "virtual interrupt-service register") \
    X(VIRR,     0x200, "virtual interrupt-request register") \
    X(SELF_IPI, 0x3F0, "x2APIC SELF IPI register")

/* x2APIC MSRs whose WRMSR "virtualize x2APIC mode" virtualizes (SDM "Virtualizing
 * MSR-Based APIC Accesses"): X(NAME, MSR, bits of EDX:EAX that must be 0 (else
 * #GP), needs "virtual-interrupt delivery"). WRMSR stores EDX:EAX at page offset
 * (MSR & FFH) << 4, then does the register's virtualization. RDMSR is virtualized
 * for 808H only (without "APIC-register virtualization", which is refused). */
#define VTX_X2APIC_VIRT_MSRS(X) \
    X(TPR,      0x808, 0xFFFFFFFFFFFFFF00ull, false) \
    X(EOI,      0x80B, 0xFFFFFFFFFFFFFFFFull, true) \
    X(SELF_IPI, 0x83F, 0xFFFFFFFFFFFFFF00ull, true)
/* clang-format on */

enum {
#define VTX_X_VREG(n, off, d) VTX_VAPIC_##n = off,
    VTX_VAPIC_REGS(VTX_X_VREG)
#undef VTX_X_VREG
};

/* vtx_guest::tpr_exit */
enum { VTX_TPR_EXIT_AFTER_ENTRY = 1, VTX_TPR_EXIT_TRAP = 2 };

/* What an instruction the APIC virtualization looked at does. */
typedef enum vtx_vapic_result {
    VTX_VAPIC_NOT_MINE = 0, /* not virtualized: the instruction runs as without these controls */
    VTX_VAPIC_DONE = 1,     /* virtualized: the instruction completes (a trap-like exit may be pending) */
    VTX_VAPIC_GP = 2,       /* #GP(0) (reserved bits in the value written) */
    VTX_VAPIC_UNMAPPED = 3, /* the virtual-APIC page is no longer in mapped memory */
} vtx_vapic_result;

/* The controls as the processor sees them (secondary controls count only when activated). */
bool vtx_tpr_shadow(const vtx_machine *m);
uint32_t vtx_vapic_proc2(const vtx_machine *m);

/* Registers of the virtual-APIC page (tpr_shadow.c): false when the page is not mapped. */
bool vtx_vapic_read32(const vtx_machine *m, unsigned offset, uint32_t *v);
bool vtx_vapic_write(vtx_machine *m, unsigned offset, const void *v, size_t len);

/* VM entry (vmentry.c): true, with *why, when the APIC-virtualization controls ask
 * for what the model cannot do (a virtual-APIC page outside mapped memory,
 * "virtualize APIC accesses" with the APIC-access page in mapped memory). */
bool vtx_vapic_entry_refused(const vtx_machine *m, const vtx_vmcs_values *f, char *why, size_t n);
/* VM entry, while loading the guest state (guest_state.c): the post-entry
 * TPR-threshold exit (IW-8, tpr_shadow.c), then RVI/SVI, PPR virtualization and the
 * evaluation of pending virtual interrupts (virtual_interrupt.c). */
void vtx_tpr_entry(vtx_machine *m, const vtx_vmcs_values *f);
void vtx_vid_entry(vtx_machine *m, const vtx_vmcs_values *f);
/* VM exit (guest_state.c): the guest interrupt status. */
void vtx_vid_save(const vtx_machine *m, vtx_vmcs_values *f);

/* An instruction that did not exit (execute.c): MOV CR8 with "use TPR shadow",
 * RDMSR/WRMSR of the virtualized x2APIC MSRs. */
vtx_vapic_result vtx_vapic_insn(vtx_machine *m, const vtx_insn *insn);
vtx_vapic_result vtx_tpr_mov_cr8(vtx_machine *m, const vtx_insn *insn); /* tpr_shadow.c */
vtx_vapic_result vtx_x2apic_msr(vtx_machine *m, bool write);          /* x2apic_virt.c */

/* The virtualizations of SDM "Virtual APIC State". */
void vtx_tpr_virtualize(vtx_machine *m);                /* TPR virtualization (tpr_shadow.c) */
void vtx_ppr_virtualize(vtx_machine *m);                /* PPR virtualization (virtual_interrupt.c) */
void vtx_vid_evaluate(vtx_machine *m);                  /* evaluation of pending virtual interrupts */
void vtx_eoi_virtualize(vtx_machine *m);                /* EOI virtualization */
void vtx_self_ipi_virtualize(vtx_machine *m, uint8_t v); /* self-IPI virtualization */

/* The boundary (boundary.c). A pending TPR-below-threshold exit: may it be taken now? */
bool vtx_tpr_exit_open(const vtx_machine *m, const char **rule, const char **why);
/* Virtual-interrupt delivery (IW-7): *armed when a virtual interrupt is recognised,
 * or would be but for "interrupt-window exiting"; true when it is delivered now. */
bool vtx_virtual_intr_open(const vtx_machine *m, bool *armed, const char **rule, const char **why);
/* The state changes of virtual-interrupt delivery before the IDT delivery of
 * m->delivered_vector (SDM "Virtual-Interrupt Delivery"). */
void vtx_virtual_intr_acknowledge(vtx_machine *m);

#endif
