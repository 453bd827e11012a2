/*
 * Guest execution on Unicorn 2 with a Zydis decode cache. Knows nothing of VMX:
 * it runs guest code, stops exactly where the model asks, and reports what it
 * saw. Read ../shared/spec/stack-notes.md before changing anything here.
 */
#ifndef VTX_ENGINE_H
#define VTX_ENGINE_H

#include "cpu_state.h"

/* Instruction classes the model must see (issue 3 item 2): X(NAME). */
#define VTX_INSN_CLASSES(X) \
    X(OTHER) X(STI) X(CLI) X(MOV_SS) X(POP_SS) X(POPF) X(IRET) X(HLT) X(INT_N) X(INT3) X(INTO) X(INT1) \
    X(CPUID) X(IN) X(OUT) X(INS) X(OUTS) X(RDTSC) X(RDTSCP) X(RDMSR) X(WRMSR) X(MOV_TO_CR) X(MOV_FROM_CR) \
    X(MOV_TO_DR) X(MOV_FROM_DR) X(CLTS) X(LMSW) X(INVLPG) X(INVD) X(WBINVD) X(RDPMC) X(PAUSE) X(MONITOR) \
    X(MWAIT) X(XSETBV) X(GETSEC) X(RDRAND) X(RDSEED) X(LGDT) X(LIDT) X(SGDT) X(SIDT) X(LLDT) X(LTR) \
    X(SLDT) X(STR) X(VMCALL) X(VMFUNC) X(VMX) X(INVPCID) X(UD)

typedef enum vtx_insn_class {
#define VTX_X_IC(n) VTX_IC_##n,
    VTX_INSN_CLASSES(VTX_X_IC)
#undef VTX_X_IC
    VTX_IC_COUNT
} vtx_insn_class;

const char *vtx_insn_class_name(vtx_insn_class c);

/* A decoded instruction: what the model needs for boundary rules and exits. */
typedef struct vtx_insn {
    uint64_t rip;            /* linear address it was decoded at */
    uint8_t len;
    uint8_t cls;             /* vtx_insn_class */
    uint8_t bytes[15];
    /* Operands the VM-exit information needs (0 when not applicable). */
    uint8_t imm8;            /* INT n vector; IN/OUT imm8 port */
    bool port_in_dx;         /* IN/OUT/INS/OUTS: port in DX */
    uint8_t op_size;         /* IN/OUT/INS/OUTS access size 1/2/4; otherwise operand size in bytes */
    bool rep;                /* REP prefix (INS/OUTS) */
    uint8_t cr;              /* MOV CR/DR: the control/debug register number */
    uint8_t gpr;             /* MOV CR/DR, LMSW (reg form): the general-purpose register number */
    bool mem_operand;        /* LMSW/INVLPG/LGDT...: a memory operand */
    char text[48];           /* Intel syntax, for teaching output ("mov ss, ax") */
} vtx_insn;

typedef struct vtx_engine vtx_engine;

/* Create an engine over the given memory regions (host pointers stay the caller's;
 * each region is 4-KiB aligned). */
typedef struct vtx_engine_region { uint64_t pa, size; void *host; } vtx_engine_region;
int vtx_engine_create(vtx_engine **out, const vtx_engine_region *regions, size_t n, const vtx_phys_mem *mem);
void vtx_engine_destroy(vtx_engine *e);
/* Load the architectural state into Unicorn (any of the modes of cpu_state.h) /
 * read it back. Returns 0, or -1 with *why naming what Unicorn could not take. */
int vtx_engine_set_state(vtx_engine *e, const vtx_cpu_state *s, const char **why);
int vtx_engine_get_state(vtx_engine *e, vtx_cpu_state *s);

/* Decode the instruction at the current RIP (cached per linear address;
 * invalidated when the guest writes to a page holding cached code). */
int vtx_engine_decode(vtx_engine *e, uint64_t rip, const vtx_insn **out);

/* Why a run stopped. */
typedef enum vtx_stop_reason {
    VTX_STOP_BEFORE = 0,    /* the next instruction's class is in the stop set (not executed) */
    VTX_STOP_COUNT = 1,     /* the instruction budget was used up */
    VTX_STOP_EXCEPTION = 2, /* the instruction raised an exception (not delivered; state at the fault/trap point) */
    VTX_STOP_HLT = 3,       /* HLT retired; RIP is after it */
    VTX_STOP_UNMAPPED = 4,  /* fetch or access of unmapped guest-physical memory (address) */
    VTX_STOP_ERROR = 5,     /* Unicorn failed in a way the engine cannot explain (why) */
} vtx_stop_reason;

typedef struct vtx_stop {
    vtx_stop_reason reason;
    uint64_t retired;        /* instructions retired by this run */
    const vtx_insn *insn;    /* BEFORE: the instruction not executed; EXCEPTION/HLT: the one that did it */
    uint8_t vector;          /* EXCEPTION */
    bool has_error_code;
    uint32_t error_code;
    bool trap;               /* EXCEPTION: trap-like (RIP after the instruction; #DB single-step, INT n/INT3/INTO) */
    uint64_t address;        /* UNMAPPED: the address; #PF: CR2 */
    const char *why;         /* ERROR: text */
} vtx_stop;

/* Bit set of instruction classes. */
typedef struct vtx_class_set { uint64_t bits; } vtx_class_set;
static inline void vtx_class_add(vtx_class_set *s, vtx_insn_class c) { s->bits |= 1ull << c; }
static inline bool vtx_class_has(const vtx_class_set *s, vtx_insn_class c) { return (s->bits >> c) & 1; }

/*
 * Run up to max_insns instructions (0: no limit), stopping BEFORE any
 * instruction whose class is in `stop_before`, and after any exception, HLT or
 * unmapped access. The boundary at the current RIP is not checked against
 * `stop_before` when `skip_first` is true (to execute an instruction the model
 * has already looked at). Fast when nothing is armed: no per-instruction hook
 * unless stop_before is non-empty or max_insns is small.
 */
int vtx_engine_run(vtx_engine *e, uint64_t max_insns, vtx_class_set stop_before, bool skip_first, vtx_stop *stop);

#endif
