/*
 * The architectural state of the guest processor as cpu/ sees it, and the
 * physical-memory accessor cpu/ uses. cpu/ executes x86 and knows nothing of
 * VMX: model/ fills this from the VMCS and reads it back at VM exit.
 */
#ifndef VTX_CPU_STATE_H
#define VTX_CPU_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vtxref/x86_bits.h" /* the bits of these registers, and the access-rights layout */

/* A segment register with its hidden part. Access rights in the VMCS layout:
 * bits 3:0 type, 4 S, 6:5 DPL, 7 P, 12 AVL, 13 L, 14 D/B, 15 G, 16 unusable
 * (VTX_AR_*, x86_bits.h). */
typedef struct vtx_cpu_seg {
    uint16_t sel;
    uint64_t base;
    uint32_t limit; /* byte granular (already expanded by G) */
    uint32_t ar;
} vtx_cpu_seg;

enum { VTX_R_RAX, VTX_R_RCX, VTX_R_RDX, VTX_R_RBX, VTX_R_RSP, VTX_R_RBP, VTX_R_RSI, VTX_R_RDI,
       VTX_R_R8, VTX_R_R9, VTX_R_R10, VTX_R_R11, VTX_R_R12, VTX_R_R13, VTX_R_R14, VTX_R_R15, VTX_R_COUNT };
enum { VTX_S_ES, VTX_S_CS, VTX_S_SS, VTX_S_DS, VTX_S_FS, VTX_S_GS, VTX_S_LDTR, VTX_S_TR, VTX_S_COUNT };

typedef struct vtx_cpu_state {
    uint64_t gpr[VTX_R_COUNT]; /* x86 encoding order */
    uint64_t rip, rflags;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t dr7;
    uint64_t dr6;              /* not in the VMCS: the processor's (VM entries and exits keep it) */
    uint64_t dr[4];            /* DR0-DR3, likewise (stored; breakpoints are not modelled) */
    vtx_cpu_seg seg[VTX_S_COUNT];
    uint64_t gdtr_base, idtr_base;
    uint32_t gdtr_limit, idtr_limit;
} vtx_cpu_state;

/* Execution mode, derived from CR0.PE, RFLAGS.VM, EFER.LMA and CS.L / CS.D. */
typedef enum vtx_cpu_mode {
    VTX_MODE_REAL,     /* CR0.PE = 0 */
    VTX_MODE_V8086,    /* RFLAGS.VM = 1 */
    VTX_MODE_PROT16,   /* protected mode, CS.D = 0 */
    VTX_MODE_PROT32,   /* protected mode, CS.D = 1 */
    VTX_MODE_COMPAT,   /* IA-32e mode, CS.L = 0 */
    VTX_MODE_LONG64,   /* IA-32e mode, CS.L = 1 */
} vtx_cpu_mode;

/* The execution mode of `s`: REAL if CR0.PE=0, else V8086 if RFLAGS.VM=1 (outside
 * IA-32e mode), else in IA-32e mode (EFER.LMA) LONG64 if CS.L else COMPAT, else
 * PROT32 if CS.D/B else PROT16. */
vtx_cpu_mode vtx_cpu_mode_of(const vtx_cpu_state *s);
/* CPL: SS.DPL in protected/IA-32e mode (what VMX and QEMU use; equal to CS.DPL
 * except with conforming code), 0 in real mode, 3 in V8086. */
unsigned vtx_cpu_cpl(const vtx_cpu_state *s);
/* MOV to DRn of the value v (already truncated to 32 bits outside 64-bit mode):
 * DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD), DR6/DR7 with bits 63:32 set are
 * #GP(0), DR6/DR7 keep their fixed bits. Returns 0 (written), 6 or 13 (the fault;
 * nothing written). CPL and DR7.GD are the caller's (SDM Vol. 3A "Debug Registers"). */
unsigned vtx_cpu_write_dr(vtx_cpu_state *s, unsigned n, uint64_t v);

/* Guest-physical memory as the machine maps it. Reads/writes of unmapped
 * memory return false (the caller turns that into a report, never a crash). */
typedef struct vtx_phys_mem {
    void *ctx;
    bool (*read)(void *ctx, uint64_t pa, void *buf, size_t len);
    bool (*write)(void *ctx, uint64_t pa, const void *buf, size_t len);
    /* Optional: whether a write of len bytes at pa would succeed, without
     * writing (event delivery probes its buffered frame writes with it; a
     * memory that checks write access, such as the model's EPT, refuses them
     * as writes). NULL: a read probes instead. */
    bool (*writable)(void *ctx, uint64_t pa, size_t len);
} vtx_phys_mem;

#endif
