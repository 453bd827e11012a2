/* Guest instructions whose behaviour VMX non-root operation changes and that
 * the model carries out itself, beyond execute.c's switch: SMSW / LMSW with the
 * CR0 guest/host mask and read shadow (cr0_insn.c), and the general-detect
 * debug exception of MOV DR (debug_regs.c). */
#ifndef VTX_GUEST_INSN_H
#define VTX_GUEST_INSN_H

#include "execute.h"

/* Why a linear access of the model's failed. */
typedef enum vtx_linear_fault_kind {
    VTX_LINEAR_OK = 0,
    VTX_LINEAR_PF = 1,       /* a #PF: error_code, address = the linear address (CR2) */
    VTX_LINEAR_UNMAPPED = 2, /* guest-physical memory that is not mapped: address = that address */
} vtx_linear_fault_kind;
typedef struct vtx_linear_fault {
    vtx_linear_fault_kind kind;
    uint32_t error_code;
    uint64_t address;
} vtx_linear_fault;

/* How vtx_guest_linear_access accesses memory. */
#define VTX_LIN_PROBE 0x1u    /* do not set accessed/dirty bits */
#define VTX_LIN_IMPLICIT 0x2u /* an implicit supervisor access (TSS, descriptor tables) */
/* Read or write len bytes of guest-linear memory at la through the guest's
 * paging, as a data access at the current CPL unless VTX_LIN_IMPLICIT
 * (accessed/dirty bits are set unless VTX_LIN_PROBE). False with *f filled when
 * it fails. Segment limits and protection key checks are not made. */
bool vtx_guest_linear_access(const vtx_machine *m, uint64_t la, void *buf, size_t len, bool write, unsigned how,
                             vtx_linear_fault *f);

/* LMSW's 16-bit source: its register, or its memory operand (probe: without
 * setting accessed bits, for the VM-exit decision after the fetch was made). */
bool vtx_lmsw_source(const vtx_machine *m, const vtx_insn *insn, bool probe, uint16_t *src, vtx_linear_fault *f);
/* CR0 after an LMSW of src that does not exit: bits 3:0 from src where the CR0
 * guest/host mask is 0, PE never cleared; the rest unchanged. */
uint64_t vtx_lmsw_result(const vtx_machine *m, uint16_t src);
/* What SMSW (and MOV from CR0) reads: the read shadow where the mask is 1, CR0 elsewhere. */
uint64_t vtx_smsw_value(const vtx_machine *m);
/* After the engine executed SMSW: replace what it stored (the real CR0) by
 * vtx_smsw_value, in the register or at the linear address la of the memory
 * operand. False when the destination could not be written. */
bool vtx_smsw_store(vtx_machine *m, const vtx_insn *insn, uint64_t la);

/* MOV DR with DR7.GD = 1 (debug_regs.c): true when it raises the
 * general-detect #DB fault instead of executing. */
bool vtx_mov_dr_general_detect(const vtx_machine *m, const vtx_insn *insn);
/* MOV to DR carried out by the model (after the exit, #GP and #DB checks): the
 * value goes to DR0-DR3, DR6 or DR7 (DR4/DR5 alias DR6/DR7 with CR4.DE = 0).
 * Unicorn must not execute it: it would arm a breakpoint, and Unicorn 2.0.1
 * crashes when an armed instruction breakpoint is hit. Returns 0, or the vector
 * of the fault it raises instead: 6 (#UD: DR4/DR5 with CR4.DE = 1), 13 (#GP(0):
 * bits 63:32 set in a value for DR6/DR7). */
unsigned vtx_mov_to_dr(vtx_machine *m, const vtx_insn *insn);

/* IN/OUT/INS/OUTS (io_permission.c): true when the I/O permission bit map (CPL >
 * IOPL in protected mode, or virtual-8086 mode) denies the access: #GP(0), which
 * comes before the I/O VM exit. */
bool vtx_io_denied(const vtx_machine *m, const vtx_insn *insn);
/* Reads len bytes of linear memory as an implicit supervisor access; false when it cannot. */
typedef bool (*vtx_io_read_fn)(void *ctx, uint64_t la, void *buf, size_t len);
/* The same check on processor state @p c for @p size bytes at @p port, reading the
 * TSS through @p rd (ROOT-IO-2 in root operation). */
bool vtx_io_denied_on(const vtx_cpu_state *c, uint16_t port, unsigned size, vtx_io_read_fn rd, void *ctx);

/* SYSCALL, SYSRET, SYSENTER, SYSEXIT (fast_syscall.c): carried out on the guest
 * state (RIP, RSP, RCX, R11, RFLAGS, CS, SS from the MSRs); 0, or the vector of
 * the fault it raises instead (6 #UD, 13 #GP(0)) with the state unchanged. */
unsigned vtx_fast_syscall(vtx_machine *m, const vtx_insn *insn);
/* The MSRs SYSCALL ... SYSEXIT read: STAR, LSTAR, FMASK (one copy for root and
 * non-root operation) and the SYSENTER MSRs of the side that executes. */
typedef struct vtx_fast_msrs {
    uint64_t star, lstar, fmask, sysenter_esp, sysenter_eip;
    uint32_t sysenter_cs;
} vtx_fast_msrs;
/* The same on any processor state @p c (the guest's, or the root-mode processor's). */
unsigned vtx_fast_syscall_on(vtx_cpu_state *c, const vtx_fast_msrs *msr, const vtx_insn *insn);

#endif
