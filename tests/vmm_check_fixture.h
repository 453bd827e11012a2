/* Shared fixture of the VMM checker tests (test_vmm_check*.c): the rules fixture,
 * a checker attached to its machine whose findings are recorded, and assertions on
 * them. Everything is static inline so each test file gets its own copy. */
#ifndef VTX_TEST_VMM_CHECK_FIXTURE_H
#define VTX_TEST_VMM_CHECK_FIXTURE_H

#include "rules_fixture.h"

#define R_EXC VTX_EXIT_REASON_EXCEPTION_NMI
#define R_VMCALL VTX_EXIT_REASON_VMCALL

static vtx_vmm_checker *chk;
static struct {
    int n;
    vtx_vmm_finding f[16];
} got;

static inline void on_finding(void *user, const vtx_vmm_finding *f)
{
    (void)user;
    if (got.n < 16)
        got.f[got.n] = *f;
    got.n++;
}

static inline void attach_checker(void)
{
    got.n = 0;
    vtx_vmm_check_config cc;
    cr_assert_eq(vtx_vmm_check_config_init(&cc), VTX_OK);
    cc.on_finding = on_finding;
    cr_assert_eq(vtx_vmm_check_create(&cc, &chk), VTX_OK);
    cr_assert_eq(vtx_vmm_check_attach(e.m, chk), VTX_OK);
}

static inline void ck_setup(void)
{
    rf_setup();
    attach_checker();
}

static inline void ck_teardown(void)
{
    vtx_vmm_check_destroy(chk);
    chk = NULL;
    rf_teardown();
}

static inline const char *all_findings(void)
{
    static char buf[4096];
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < got.n && i < 16 && n < sizeof buf - 2; i++) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\n  ");
        if (n < sizeof buf)
            n += (size_t)vtx_vmm_finding_format(&got.f[i], buf + n, sizeof buf - n);
    }
    return got.n ? buf : " (none)";
}

/* Finalize, then exactly one finding of @kind at exit @exit_index and entry @entry_index. */
static inline void expect_only(vtx_vmm_finding_kind kind, uint64_t exit_index, uint64_t entry_index)
{
    vtx_vmm_check_report rep;
    cr_assert_eq(vtx_vmm_check_finalize(chk, &rep), VTX_OK);
    const char *name = vtx_vmm_finding_name(kind);
    cr_assert_eq(got.n, 1, "expected exactly one %s, got %d:%s", name, got.n, all_findings());
    cr_assert_str_eq(got.f[0].name, name, "expected %s, got:%s", name, all_findings());
    cr_assert_eq(got.f[0].exit_index, exit_index, "%s: expected exit %llu:%s", name, (unsigned long long)exit_index,
                 all_findings());
    cr_assert_eq(got.f[0].entry_index, entry_index, "%s: expected entry %llu:%s", name,
                 (unsigned long long)entry_index, all_findings());
    cr_assert_eq(rep.by_kind[kind], 1);
    cr_assert_eq(rep.errors + rep.warnings, 1);
}

static inline void expect_none(void)
{
    vtx_vmm_check_report rep;
    cr_assert_eq(vtx_vmm_check_finalize(chk, &rep), VTX_OK);
    cr_assert_eq(got.n, 0, "expected no finding, got %d:%s", got.n, all_findings());
    cr_assert_eq(rep.errors + rep.warnings, 0);
}

static inline void reinject_idt_vectoring(void)
{
    rf_inject((uint32_t)vt_vmread(&e, VTX_VMCS_IDT_VECTORING_INFO) & ~0x1000u,
              (uint32_t)vt_vmread(&e, VTX_VMCS_IDT_VECTORING_ERROR_CODE),
              (uint32_t)vt_vmread(&e, VTX_VMCS_EXIT_INSTRUCTION_LEN));
}

/* ---- LOST_IDT_VECTORING (EXIT-5, INJ-18) ----
 * An injected external interrupt 0x30 whose gate is missing: #GP intercepted,
 * exit 1 with IDT-vectoring information = the interrupt. The VMM "demand-faults"
 * the gate in (writes it) and resumes.   G+0 0f 01 c1 vmcall */
static inline void idt_fault_exit(void)
{
    CODE(0x0f, 0x01, 0xc1);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_launch_exit("EXIT-5: interrupt 0x30 through a missing gate", R_EXC);
    rf_field("EXIT-5", VTX_VMCS_IDT_VECTORING_INFO, "IDT-vectoring information", INTR(0, 0x30));
    rf_vmcall_handler(0x30, false);
}

/* ---- INTR_WINDOW_STORM, NMI_WINDOW_STORM (IW-6, NW-2) ---- */
typedef struct window_vmm {
    uint32_t reason;  /* the window exit */
    uint64_t control; /* its control */
    bool fixed;
} window_vmm;

static inline vtx_vmm_action window_handler(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    const window_vmm *w = user;
    vtx_insn_result r;
    if (exit->exit_reason != w->reason)
        return VTX_VMM_STOP;
    if (w->fixed) {
        vtx_vmread(m, VTX_VMCS_PROC_CONTROLS, &r);
        vtx_vmwrite(m, VTX_VMCS_PROC_CONTROLS, r.value & ~w->control, &r);
    }
    return VTX_VMM_RESUME;
}

#endif
