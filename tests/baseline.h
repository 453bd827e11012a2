/* A VMCS that passes every VM-entry check on every built-in profile: a 64-bit
 * guest and a 64-bit host. Tests break one field at a time and name the rule. */
#ifndef VTX_TEST_BASELINE_H
#define VTX_TEST_BASELINE_H

#include "helpers.h"

/* Guest and host layout inside the test RAM (VT_RAM_SIZE at 0). */
#define VT_GUEST_RIP 0x10000u
#define VT_GUEST_RSP 0x9000u
#define VT_GUEST_GDT 0x4000u
#define VT_GUEST_IDT 0x5000u
#define VT_GUEST_TSS 0x6000u
#define VT_GUEST_CR3 0x20000u
#define VT_HOST_RIP 0xFFFFFFFF81000000ull
#define VT_HOST_CR3 0x30000u

/* Write the valid controls / host state / guest state into the current VMCS. */
void vt_baseline_controls(vt_env *e);
void vt_baseline_host(vt_env *e);
void vt_baseline_guest(vt_env *e);
/* vt_setup (or vt_setup_profile) then vt_baseline. */
void vt_start(vt_env *e, const char *profile);
void vt_start_with(vt_env *e, const vtx_profile *p);
/* Read-modify-write a field of the current VMCS. */
void vt_set_bits(vt_env *e, uint32_t enc, uint64_t bits);
void vt_clear_bits(vt_env *e, uint32_t enc, uint64_t bits);

/* VMXON, VMCLEAR + VMPTRLD VT_VMCS_PA, and all three baselines, with the
 * memory they describe: identity page tables, a GDT, an empty IDT; the guest
 * code at VT_GUEST_RIP is a single HLT. */
void vt_baseline(vt_env *e);

/* Write a 64-bit IDT gate (interrupt or trap gate, DPL 0, CS 0x08) into the guest IDT. */
void vt_idt_gate(vt_env *e, uint8_t vector, uint64_t handler, bool trap_gate);
/* The guest-state fields of a flat 32-bit protected-mode guest with paging by one
 * identity 4-MiB page (CR4.PSE; the page directory at pd gets entry 0): CS = code_sel,
 * SS/DS/ES/FS/GS = data_sel (4 GiB, flat), TR = tr_sel (a busy 32-bit TSS at
 * VT_GUEST_TSS), GDTR = gdt/gdt_limit, IDTR = idt/0x7FF; "IA-32e mode guest" off.
 * The caller writes the GDT, the IDT and RSP/RIP. */
void vt_guest_flat32(vt_env *e, uint16_t code_sel, uint16_t data_sel, uint16_t tr_sel, uint64_t pd, uint64_t gdt,
                     uint32_t gdt_limit, uint64_t idt);
/* Copy guest code into the test RAM at a guest-physical (= linear) address. */
void vt_code(vt_env *e, uint64_t pa, const void *bytes, size_t n);

/* The profile's must-be-1 (allowed-0) bits of a control field, as VM entry checks them. */
uint32_t vt_must1(vt_env *e, vtx_ctl_field f);
uint32_t vt_may1(vt_env *e, vtx_ctl_field f);

/* VMLAUNCH and expect it to get past every VM-entry check (the guest enters and,
 * with the baseline's HLT, stops halted with nothing to wake it).
 * Afterwards the machine is back in root operation (an INIT exit if needed) and
 * the same VMCS is current again with launch state clear, so the test can go on. */
void vt_expect_entry_passes(vt_env *e, const char *step);
/* VMLAUNCH and expect it past the checks that end in VMfail (controls, host
 * state): a VM exit of any kind or a running guest, brought back to root by INIT,
 * and the VMCS made launchable again with its contents. */
void vt_expect_entry_past_vmfail_checks(vt_env *e, const char *step);
/* VMLAUNCH and expect VMfailValid(error) with the named check. */
void vt_expect_entry_vmfail(vt_env *e, const char *step, uint32_t error, vtx_check check);
/* VMLAUNCH and expect a VM-entry failure exit 33 | 0x80000000 with the
 * qualification and the named check. */
void vt_expect_entry_guest_fail(vt_env *e, const char *step, uint32_t qualification, vtx_check check);

#endif
