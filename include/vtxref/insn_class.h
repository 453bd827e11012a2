/**
 * @file insn_class.h
 * @brief The instruction classes the model tells apart, with their default cycle costs.
 *
 * Every instruction the guest executes falls in one class: the ones the VMX
 * rules single out (STI, MOV SS, IRET, HLT, CPUID, I/O, MOV CR, the VMX
 * instructions, far JMP/CALL, which can start a task switch, ...) and OTHER for
 * plain computation. The deterministic cycle
 * clock charges each retired instruction the cost of its class
 * (vtx_cycle_costs::by_class); the defaults below are model costs chosen to be
 * plausible and distinct, not measurements of any processor.
 *
 * Rows: X(NAME, default cost in cycles).
 */
#ifndef VTXREF_INSN_CLASS_H
#define VTXREF_INSN_CLASS_H

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */
#define VTX_INSN_CLASSES(X) \
    X(OTHER, 1) X(STI, 1) X(CLI, 1) X(MOV_SS, 2) X(POP_SS, 2) X(POPF, 3) X(IRET, 20) X(HLT, 1) \
    X(INT_N, 20) X(INT3, 20) X(INTO, 20) X(INT1, 20) X(CPUID, 100) X(IN, 50) X(OUT, 50) X(INS, 50) \
    X(OUTS, 50) X(RDTSC, 20) X(RDTSCP, 25) X(RDMSR, 50) X(WRMSR, 50) X(MOV_TO_CR, 10) X(MOV_FROM_CR, 2) \
    X(MOV_TO_DR, 10) X(MOV_FROM_DR, 2) X(CLTS, 5) X(LMSW, 5) X(INVLPG, 20) X(INVD, 100) X(WBINVD, 100) \
    X(RDPMC, 20) X(PAUSE, 10) X(MONITOR, 20) X(MWAIT, 20) X(XSETBV, 20) X(GETSEC, 100) X(RDRAND, 100) \
    X(RDSEED, 100) X(LGDT, 10) X(LIDT, 10) X(SGDT, 2) X(SIDT, 2) X(LLDT, 10) X(LTR, 10) X(SLDT, 2) \
    X(STR, 2) X(VMCALL, 1) X(VMFUNC, 10) X(VMX, 1) X(INVPCID, 20) X(UD, 1) X(JMP_FAR, 15) X(CALL_FAR, 20) \
    X(SMSW, 2) X(RET_FAR, 15) X(SYSCALL, 20) X(SYSRET, 20) X(SYSENTER, 20) X(SYSEXIT, 20)
/* clang-format on */

/** @brief Instruction classes: `VTX_IC_STI`, `VTX_IC_MOV_SS`, ... */
typedef enum vtx_insn_class {
#define VTX_X_IC(n, cost) VTX_IC_##n,
    VTX_INSN_CLASSES(VTX_X_IC)
#undef VTX_X_IC
    VTX_IC_COUNT
} vtx_insn_class;

/** @brief The class's name without the prefix ("MOV_SS"); "?" when out of range. */
VTX_API const char *vtx_insn_class_name(vtx_insn_class c);
/** @brief The class's default cost in cycles (0 when out of range). */
VTX_API unsigned vtx_insn_class_default_cost(vtx_insn_class c);

#ifdef __cplusplus
}
#endif
#endif
