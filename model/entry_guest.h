/*
 * What the VM-entry checks on the guest-state area share (entry_guest.c: control
 * registers, MSRs, segments, descriptor tables, RIP/RFLAGS; entry_guest_nonreg.c:
 * non-register state and PDPTEs): the guest state, decoded once, and the bit
 * layouts the checks read.
 */
#ifndef VTX_MODEL_ENTRY_GUEST_H
#define VTX_MODEL_ENTRY_GUEST_H

#include "entry_checks.h"

#define LINEAR_WIDTH 48u

/* IA32_DEBUGCTL bits that exist: LBR (0), BTF (1), TR..RTM_DEBUG (15:6). */
#define DEBUGCTL_VALID 0xFFC3ull
/* IA32_PERF_GLOBAL_CTRL bits that exist: 4 general-purpose counters (3:0) and
 * 3 fixed counters (34:32), as on the Skylake-SP class "server" part. */
#define PERF_GLOBAL_VALID 0x70000000Full
#define DEBUGCTL_BTF (1ull << 1)

/* Interruptibility state (catalogue A.1). */
#define INTR_STI 0x1u
#define INTR_MOVSS 0x2u
#define INTR_SMI 0x4u
#define INTR_NMI 0x8u
#define INTR_ENCLAVE 0x10u

/* Activity states. */
enum { ACT_ACTIVE = 0, ACT_HLT = 1, ACT_SHUTDOWN = 2, ACT_WAIT_SIPI = 3 };
/* Interruption types of the VM-entry interruption-information field. */
enum { INTR_TYPE_EXT = 0, INTR_TYPE_NMI = 2, INTR_TYPE_HW_EXC = 3, INTR_TYPE_OTHER = 7 };

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

typedef struct seg {
    const char *name;
    uint16_t sel;
    uint64_t base;
    uint32_t limit;
    uint32_t ar;
} seg;

/* What the checks read, decoded once. */
typedef struct guest {
    const vtx_machine *m;
    const vtx_vmcs_values *f;
    uint32_t pin, proc, proc2, entry;
    bool ia32e, ug, ept, v86;
    uint64_t cr0, cr3, cr4, rflags;
    uint32_t intr, activity;
    bool inject;
    unsigned inj_type, inj_vector;
    seg s[SEG_COUNT];
} guest;

static inline uint64_t get(const guest *g, enum vtx_slot s) { return vtx_vmcs_get(g->f, s); }

static inline bool canonical(uint64_t v)
{
    return (uint64_t)((int64_t)(v << (64 - LINEAR_WIDTH)) >> (64 - LINEAR_WIDTH)) == v;
}

static inline bool usable(const seg *s) { return !vtx_ar_unusable(s->ar); }
static inline bool injecting(const guest *g, unsigned type) { return g->inject && g->inj_type == type; }

/* SDM "Checks on Guest Non-Register State" and "... Page-Directory-Pointer-Table
 * Entries" (entry_guest_nonreg.c), in the SDM's order. */
bool vtx_eg_check_activity(const guest *g, vtx_entry_fail *fail);
bool vtx_eg_check_interruptibility(const guest *g, vtx_entry_fail *fail);
bool vtx_eg_check_pending_debug(const guest *g, vtx_entry_fail *fail);
bool vtx_eg_check_link_pointer(const guest *g, vtx_entry_fail *fail);
bool vtx_eg_check_pdptes(const guest *g, vtx_entry_fail *fail);

#endif
