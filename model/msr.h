/*
 * The model's MSRs (msr.c): the MSRs a guest can read and write with RDMSR and
 * WRMSR when they do not exit, and the MSR areas of VM entry and VM exit (SDM
 * Vol. 3 "Loading MSRs" in "VM Entries", "Saving MSRs" and "Loading MSRs" in
 * "VM Exits"; catalogue ENT-BASIC-5).
 *
 * Where the values live (one source of truth each):
 * - MSRs the VMCS switches (IA32_EFER, IA32_PAT, IA32_DEBUGCTL,
 *   IA32_SYSENTER_CS/ESP/EIP, IA32_FS_BASE/GS_BASE as the FS/GS segment bases):
 *   the guest's value is the guest state the model already has (m->g, m->g.cpu);
 *   the host's value is m->root.efer for IA32_EFER and m->host_msr for the others
 *   (set from the host-state area at every VM exit, vmexit.c).
 * - Every other MSR of the list below is a register of the processor, one copy
 *   shared by root and non-root operation exactly as on hardware (m->msr): what
 *   the VM-exit MSR-load area writes there is what the next guest reads unless
 *   the VM-entry MSR-load area loads something else.
 *
 * The MSRs the model knows, with what WRMSR (CPL 0) raises #GP(0) on:
 *   0x0, 0x1   IA32_P5_MC_ADDR / IA32_P5_MC_TYPE: read 0 (they map to the
 *              machine-check bank 0 address/status, and no machine check is
 *              modelled); only 0 may be written.
 *   0x10       IA32_TIME_STAMP_COUNTER: the TSC is the cycle clock plus an
 *              adjustment (m->msr.tsc_adjust, 0 at power-on); WRMSR sets the
 *              adjustment so the TSC reads the value written at that cycle. A
 *              guest reads it (RDMSR, RDTSC, RDTSCP) offset and scaled as the
 *              controls say; the MSR areas see it unoffset.
 *   0x1B       IA32_APIC_BASE: 0xFEE00900 at power-on (base 0xFEE00000, enabled,
 *              BSP). The model has no local APIC: a write is kept and read back
 *              but moves or disables nothing. Reserved: bits 7:0, 9, 10 (x2APIC
 *              mode: the model offers no x2APIC) and bits at or above MAXPHYADDR.
 *   0x3A       IA32_FEATURE_CONTROL: the root state's value; read-only while
 *              locked (bit 0), which it always is in VMX operation.
 *   0x174      IA32_SYSENTER_CS: bits 31:0 are kept; bits 63:32 are dropped on
 *              write and read as 0 (the VMCS field is 32 bits).
 *   0x175/176  IA32_SYSENTER_ESP/EIP: must be canonical.
 *   0x1D9      IA32_DEBUGCTL: only bits 0, 1 and 15:6 exist (as the VM-entry check).
 *   0x277      IA32_PAT: each byte 0, 1, 4, 5, 6 or 7; power-on 0x0007040600070406.
 *   0xC0000080 IA32_EFER: SCE (0), LME (8), LMA (10, ignored on write), NXE
 *              (11); changing LME while CR0.PG = 1 faults.
 *   0xC0000081 IA32_STAR: any value.
 *   0xC0000082/83 IA32_LSTAR / IA32_CSTAR: must be canonical.
 *   0xC0000084 IA32_FMASK: bits 63:32 reserved.
 *   0xC0000100/101/102 IA32_FS_BASE / GS_BASE / KERNEL_GS_BASE: canonical.
 *   0xC0000103 IA32_TSC_AUX: bits 63:32 reserved (RDTSCP returns it in ECX).
 * Every other index raises #GP(0) on RDMSR and WRMSR. Power-on values not named
 * above are 0.
 */
#ifndef VTX_MSR_H
#define VTX_MSR_H

#include "entry_checks.h"

enum {
    VTX_MSR_P5_MC_ADDR = 0x0,
    VTX_MSR_P5_MC_TYPE = 0x1,
    VTX_MSR_TSC = 0x10,
    VTX_MSR_APIC_BASE = 0x1B,
    VTX_MSR_FEATURE_CONTROL = 0x3A,
    VTX_MSR_SMM_MONITOR_CTL = 0x9B,
    VTX_MSR_SMBASE = 0x9E,
    VTX_MSR_SYSENTER_CS = 0x174,
    VTX_MSR_SYSENTER_ESP = 0x175,
    VTX_MSR_SYSENTER_EIP = 0x176,
    VTX_MSR_DEBUGCTL = 0x1D9,
    VTX_MSR_PAT = 0x277,
    VTX_MSR_EFER = 0xC0000080u,
    VTX_MSR_STAR = 0xC0000081u,
    VTX_MSR_LSTAR = 0xC0000082u,
    VTX_MSR_CSTAR = 0xC0000083u,
    VTX_MSR_FMASK = 0xC0000084u,
    VTX_MSR_FS_BASE = 0xC0000100u,
    VTX_MSR_GS_BASE = 0xC0000101u,
    VTX_MSR_KERNEL_GS_BASE = 0xC0000102u,
    VTX_MSR_TSC_AUX = 0xC0000103u,
};

/* IA32_PAT at power-on and reset. */
#define VTX_PAT_POWER_ON 0x0007040600070406ull

/* Whose copy of a VMCS-switched MSR an access means (the shared ones have one copy). */
typedef enum vtx_msr_side {
    VTX_MSR_GUEST = 0, /* the guest's: m->g / m->g.cpu (guest RDMSR/WRMSR, entry load, exit store) */
    VTX_MSR_HOST = 1,  /* the host's: m->root.efer, m->host_msr (VM-exit MSR-load area) */
} vtx_msr_side;

/* Put the MSRs at their power-on values, once per machine (the first VM entry
 * calls it before loading guest state; nothing can read an MSR before that). */
void vtx_msr_power_on(vtx_machine *m);

/* The TSC as the MSR areas and WRMSR see it: the cycle clock plus the adjustment. */
uint64_t vtx_msr_tsc(const vtx_machine *m);

/* RDMSR at CPL 0 of `side`'s copy: false when RDMSR would raise #GP(0). The TSC
 * is returned unoffset (the caller applies a guest's offset and scaling). */
bool vtx_msr_read(const vtx_machine *m, vtx_msr_side side, uint32_t index, uint64_t *value);

/* WRMSR at CPL 0 to `side`'s copy: false (nothing written, *why -- when not NULL
 * -- set to a phrase such as "bits 63:32 are reserved") when WRMSR would raise
 * #GP(0). A write to the guest's state marks the engine state dirty. */
bool vtx_msr_write(vtx_machine *m, vtx_msr_side side, uint32_t index, uint64_t value, const char **why);

/* The recommended maximum number of entries of each MSR area: 512 * (IA32_VMX_MISC[27:25] + 1). */
uint32_t vtx_msr_list_max(const vtx_machine *m);

/* VM-entry MSR-load area (SDM "Loading MSRs", VM entries): process the entries
 * in order into the guest's MSRs. False on the first entry that fails, with
 * *fail naming the check and holding its 1-based number as the qualification;
 * the entries before it stay loaded. */
bool vtx_msr_entry_load(vtx_machine *m, const vtx_vmcs_values *f, vtx_entry_fail *fail);

/* VM-exit MSR-store area (SDM "Saving MSRs"): store the guest's value of each
 * listed MSR into bits 127:64 of its entry. False on a failure (a VMX abort on
 * hardware), with why[] saying which entry and why; the caller undoes the exit. */
bool vtx_msr_exit_store(vtx_machine *m, const vtx_vmcs_values *f, char *why, size_t why_len);

/* VM-exit MSR-load area (SDM "Loading MSRs", VM exits; also after a VM-entry
 * failure exit): load each listed value into the host's MSRs. False on a failure
 * (a VMX abort on hardware), with why[] set; the caller undoes the exit. */
bool vtx_msr_exit_load(vtx_machine *m, const vtx_vmcs_values *f, char *why, size_t why_len);

/* A VM-entry failure exit (reason basic | 0x80000000; vtx_entry_failure_exit)
 * followed by the VM-exit MSR-load area, as SDM "VM-Entry Failures During or
 * After Loading Guest State" says. VTX_ERR_UNSUPPORTED (a VMX abort on hardware)
 * when an entry of that area fails: the failure exit is then undone and r->why
 * says why. (vmexit.c) */
vtx_status vtx_entry_fail_exit(vtx_machine *m, vtx_insn_result *r, uint32_t basic_reason, const vtx_entry_fail *fail);

#endif
