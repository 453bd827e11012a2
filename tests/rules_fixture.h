/* Shared static fixture of the rule-conformance tests (test_rules_*.c,
 * test_kut_events.c): a "server" machine with the baseline guest, guest code
 * and handlers in the test RAM, and assertions on what a VM exit saved.
 * Everything here is static inline so each test file gets its own copy. */
#ifndef VTX_TEST_RULES_FIXTURE_H
#define VTX_TEST_RULES_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include "baseline.h"

#define G VT_GUEST_RIP          /* guest code */
#define HANDLERS 0x12000u       /* handler of vector v at HANDLERS + 0x10 * v */
#define H(v) (HANDLERS + 0x10u * (v))
#define IS_STI 0x1u
#define IS_MOVSS 0x2u
#define IS_NMI 0x8u
#define ACT_ACTIVE 0u
#define ACT_HLT 1u
#define ACT_SHUTDOWN 2u
#define ACT_SIPI 3u
#define PENDING_BS 0x4000u
#define RFLAGS_IF 0x200u
#define RFLAGS_TF 0x100u
/* Interruption-information values (INJ-1, INJ-2). */
#define INTR(type, vec) (0x80000000u | ((uint32_t)(type) << 8) | (uint32_t)(vec))
#define INTR_EC(type, vec) (INTR(type, vec) | 0x800u)

static vt_env e;

/* Every scenario runs twice: with an observer (the boundary reports below, and the
 * per-instruction path of the engine) and without one (the fast path most users
 * take: runs of many instructions). tests/CMakeLists.txt builds the rule test
 * files a second time as <name>_no_observer with VTX_RF_NO_OBSERVER defined; a
 * test that reads the recorder checks rf_observed() first. */
#ifdef VTX_RF_NO_OBSERVER
static inline bool rf_observed(void) { return false; }
#else
static inline bool rf_observed(void) { return true; }
#endif

typedef struct rf_recorder {
    int n;
    int max_intr_both; /* boundaries that showed blocking by STI and MOV SS together */
    vtx_boundary_report first, last;
} rf_recorder;
static rf_recorder rec;

static inline void rf_record(void *user, const vtx_boundary_report *rep)
{
    rf_recorder *r = user;
    if (r->n++ == 0)
        r->first = *rep;
    r->last = *rep;
    if ((rep->interruptibility & 3) == 3)
        r->max_intr_both++;
}

/* A machine on the "server" profile with its knobs changed (a profile copy). */
static inline void rf_setup_knobs(uint32_t clear, uint32_t set)
{
    memset(&e, 0, sizeof e);
    vtx_profile p = *vtx_profile_builtin(1);
    cr_assert_str_eq(p.name, "server");
    p.knobs = (p.knobs & ~clear) | set;
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &p);
    cr_assert_eq(vtx_machine_create(&cfg, &e.m, NULL), VTX_OK);
    e.profile = p;
    e.rev = vtx_basic_revision(p.msr[VTX_CAP_IA32_VMX_BASIC]);
    e.ram = aligned_alloc(4096, VT_RAM_SIZE);
    memset(e.ram, 0, VT_RAM_SIZE);
    cr_assert_eq(vtx_machine_map(e.m, 0, VT_RAM_SIZE, e.ram, VTX_MEM_RWX, NULL), VTX_OK);
    vt_baseline(&e);
    rec = (rf_recorder){0};
    if (rf_observed())
        vtx_machine_set_observer(e.m, rf_record, &rec);
}

static inline void rf_setup(void) { rf_setup_knobs(0, 0); }
static inline void rf_teardown(void) { vt_teardown(&e); }

/* Rebuild the machine with other knobs (inside a test). */
static inline void rf_rebuild_knobs(uint32_t clear, uint32_t set)
{
    vt_teardown(&e);
    rf_setup_knobs(clear, set);
}

static inline void rf_set(uint32_t enc, uint64_t bits) { vt_vmwrite(&e, enc, vt_vmread(&e, enc) | bits); }
static inline void rf_clr(uint32_t enc, uint64_t bits) { vt_vmwrite(&e, enc, vt_vmread(&e, enc) & ~bits); }

/* Guest code at G. */
static inline void rf_code(const uint8_t *bytes, size_t n) { vt_code(&e, G, bytes, n); }
#define CODE(...)                                                                                  \
    do {                                                                                           \
        static const uint8_t code_[] = {__VA_ARGS__};                                              \
        rf_code(code_, sizeof code_);                                                              \
    } while (0)
/* Handler code for vector v at H(v), reached through an interrupt gate (or a trap gate). */
static inline void rf_handler(uint8_t v, const uint8_t *bytes, size_t n, bool trap_gate)
{
    vt_code(&e, H(v), bytes, n);
    vt_idt_gate(&e, v, H(v), trap_gate);
}
static const uint8_t VMCALL[] = {0x0f, 0x01, 0xc1};
static const uint8_t IRETQ[] = {0x48, 0xcf};
static const uint8_t HLT_[] = {0xf4};
/* A handler that is just "vmcall" (exit 18 at its first byte). */
static inline void rf_vmcall_handler(uint8_t v, bool trap_gate) { rf_handler(v, VMCALL, sizeof VMCALL, trap_gate); }

static inline void rf_state(uint64_t rip, uint64_t rflags, uint32_t intr, uint32_t activity)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rip);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RFLAGS, rflags);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY, intr);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, activity);
}

static inline void rf_inject(uint32_t info, uint32_t error_code, uint32_t len)
{
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INTR_INFO, info);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
    vt_vmwrite(&e, VTX_VMCS_ENTRY_INSTRUCTION_LEN, len);
}

static inline void rf_gprs_rax(uint64_t rax, uint64_t rcx, uint64_t rdx)
{
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    g.rax = rax, g.rcx = rcx, g.rdx = rdx;
    cr_assert_eq(vtx_machine_set_gprs(e.m, &g), VTX_OK);
}

/* Check a finished VMLAUNCH/VMRESUME/continue against an expected exit. */
static inline void rf_check_exit(const char *step, vtx_status st, const vtx_insn_result *r, uint32_t reason)
{
    char got[400];
    vtx_insn_result_format(r, got, sizeof got);
    cr_assert(st == VTX_OK && r->outcome == VTX_VMEXIT && r->exit_reason == reason,
              "%s: expected VM exit %u (%s), got %s (%s)", step, reason, vtx_exit_reason_name(reason), got,
              vtx_status_name(st));
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_REASON), reason, "%s: the exit-reason field holds %u", step, reason);
}
static inline vtx_insn_result rf_launch_exit(const char *step, uint32_t reason)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    rf_check_exit(step, st, &r, reason);
    return r;
}
static inline vtx_insn_result rf_resume_exit(const char *step, uint32_t reason)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmresume(e.m, &r);
    rf_check_exit(step, st, &r, reason);
    return r;
}
static inline vtx_insn_result rf_continue_exit(const char *step, uint32_t reason)
{
    vtx_insn_result r;
    vtx_status st = vtx_continue(e.m, &r);
    rf_check_exit(step, st, &r, reason);
    return r;
}
/* The guest runs and stops without a VM exit (halted with nothing to wake it). */
static inline void rf_check_stopped(const char *step, vtx_status st, const vtx_insn_result *r)
{
    char got[400];
    vtx_insn_result_format(r, got, sizeof got);
    cr_assert(st == VTX_OK && r->outcome == VTX_GUEST_STOPPED,
              "%s: expected no VM exit (the guest stays in non-root operation), got %s", step, got);
}
static inline void rf_launch_stopped(const char *step)
{
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    rf_check_stopped(step, st, &r);
}
static inline void rf_continue_stopped(const char *step)
{
    vtx_insn_result r;
    vtx_status st = vtx_continue(e.m, &r);
    rf_check_stopped(step, st, &r);
}

static inline void rf_saved_rip(const char *step, uint64_t rip)
{
    uint64_t got = vt_vmread(&e, VTX_VMCS_GUEST_RIP);
    cr_assert_eq(got, rip, "%s: expected the saved RIP 0x%llx, got 0x%llx", step, (unsigned long long)rip,
                 (unsigned long long)got);
}
static inline void rf_saved(const char *step, uint64_t rip, uint32_t intr, uint32_t activity)
{
    rf_saved_rip(step, rip);
    uint64_t is = vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY);
    cr_assert_eq(is, intr, "%s: expected the saved interruptibility 0x%x, got 0x%llx", step, intr,
                 (unsigned long long)is);
    uint64_t as = vt_vmread(&e, VTX_VMCS_GUEST_ACTIVITY_STATE);
    cr_assert_eq(as, activity, "%s: expected the saved activity state %u, got %llu", step, activity,
                 (unsigned long long)as);
}
static inline void rf_field(const char *step, uint32_t enc, const char *what, uint64_t want)
{
    uint64_t got = vt_vmread(&e, enc);
    cr_assert_eq(got, want, "%s: expected the %s 0x%llx, got 0x%llx", step, what, (unsigned long long)want,
                 (unsigned long long)got);
}
/* A 64-bit word of guest memory (identity paging: linear = physical). */
static inline uint64_t rf_mem64(uint64_t pa)
{
    uint64_t v;
    memcpy(&v, e.ram + pa, sizeof v);
    return v;
}
static inline void rf_poke64(uint64_t pa, uint64_t v) { memcpy(e.ram + pa, &v, sizeof v); }

/* Advance the saved RIP past an instruction the VMM emulated (or skipped). */
static inline void rf_skip(uint64_t len) { vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, vt_vmread(&e, VTX_VMCS_GUEST_RIP) + len); }

static inline unsigned rf_timer_rate(void) { return vtx_misc_timer_rate(e.profile.msr[VTX_CAP_IA32_VMX_MISC]); }

#endif
