/* The deterministic cycle clock: costs by instruction class, overridable; the
 * guest's TSC reads the clock (issue: "every retired instruction advances a
 * deterministic cycle count (default cost table by instruction class, overridable)"). */
#include <string.h>
#include "baseline.h"

/* rdtsc; mov esi, eax; rdtsc; hlt -- with HLT exiting; ESI and EAX hold two TSC reads. */
static const uint8_t code[] = {0x0f, 0x31, 0x89, 0xc6, 0x0f, 0x31, 0xf4};

static uint64_t tsc_gap(const vtx_machine_config *cfg)
{
    vt_env e;
    vt_setup_config(&e, cfg);
    vt_baseline(&e);
    vt_code(&e, VT_GUEST_RIP, code, sizeof code);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS, vt_vmread(&e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_OK);
    cr_assert_eq(r.exit_reason, VTX_EXIT_REASON_HLT);
    vtx_gprs g;
    vtx_machine_get_gprs(e.m, &g);
    uint64_t gap = (uint32_t)g.rax - (uint32_t)g.rsi;
    vt_teardown(&e);
    return gap;
}

Test(cycles, default_cost_table_by_class)
{
    /* Between the two reads retire the first RDTSC (20) and a MOV (OTHER, 1). */
    vtx_profile p = vt_profile_copy("server");
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &p);
    cr_assert_eq(cfg.costs.by_class[VTX_IC_RDTSC], vtx_insn_class_default_cost(VTX_IC_RDTSC));
    cr_assert_eq(tsc_gap(&cfg), vtx_insn_class_default_cost(VTX_IC_RDTSC) + vtx_insn_class_default_cost(VTX_IC_OTHER),
                 "the TSC advances by the costs of the instructions retired in between");
}

Test(cycles, costs_are_overridable)
{
    vtx_profile p = vt_profile_copy("server");
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &p);
    cfg.costs.by_class[VTX_IC_RDTSC] = 7;
    cfg.costs.by_class[VTX_IC_OTHER] = 3;
    cr_assert_eq(tsc_gap(&cfg), 10, "RDTSC costs 7 and MOV 3: the reads differ by 10");
}

Test(cycles, same_inputs_same_counts)
{
    vtx_profile p = vt_profile_copy("teaching");
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &p);
    cr_assert_eq(tsc_gap(&cfg), tsc_gap(&cfg), "two identical runs read identical TSC gaps");
}

Test(cycles, zero_cost_is_refused)
{
    vtx_profile p = vt_profile_copy("server");
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &p);
    cfg.costs.by_class[VTX_IC_HLT] = 0;
    vtx_machine *m = NULL;
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_create(&cfg, &m, &d), VTX_ERR_INVALID_ARG);
    cr_assert_null(m);
    cr_assert(strstr(d.message, "HLT costs 0 cycles"), "message: %s", d.message);
}
