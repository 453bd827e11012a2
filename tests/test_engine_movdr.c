/*
 * cpu/engine: Unicorn never executes MOV to DR (ENG-DR-1, docs/unicorn-audit.md).
 * kvm-unit-tests' debug_controls group crashed vtxref (SIGSEGV in Unicorn's generated
 * code) after root-mode code ran MOV DR7 = 0x402 on the engine and then reached
 * linear 0: a MOV to DR the caller lets through is carried out by the engine on the
 * CPU state (never by Unicorn), so the breakpoint is stored, not armed, and
 * executing at its address does not crash.
 */
#include "covers.h"
#include "engine_rig.h"

#define MEM_SIZE (1u << 20)

RIG_SUITE(engine_movdr, MEM_SIZE);

/* real mode (CPL 0) at 0x1000: NOP; MOV DR7, EAX (0F 23 F8); JMP 0 (where HLT is) */
static void start(void)
{
    static const uint8_t code[] = {0x90, 0x0f, 0x23, 0xf8, 0xe9, 0xf9, 0xef};
    memcpy(mem + 0x1000, code, sizeof code);
    vtx_cpu_state s;
    memset(&s, 0, sizeof s);
    s.rip = 0x1000;
    s.rflags = 2;
    s.cr0 = 0x10;
    s.dr7 = 0x400;
    s.dr6 = 0xffff0ff0;
    s.gpr[VTX_R_RAX] = 0x402; /* G0: an instruction breakpoint at linear 0 */
    s.gpr[VTX_R_RSP] = 0x8000;
    for (int i = 0; i < 6; i++)
        s.seg[i] = (vtx_cpu_seg){.limit = 0xffff, .ar = i == VTX_S_CS ? 0x9b : 0x93};
    s.seg[VTX_S_LDTR] = (vtx_cpu_seg){.limit = 0xffff, .ar = 0x82};
    s.seg[VTX_S_TR] = (vtx_cpu_seg){.limit = 0xffff, .ar = 0x8b};
    s.idtr_limit = 0x3ff;
    s.gdtr_limit = 0xffff;
    const char *why = NULL;
    cr_assert_eq(vtx_engine_set_state(eng, &s, &why), 0, "%s", why ? why : "");
}

Test(engine_movdr, counted_run_carries_out_mov_to_dr_and_runs_on_over_the_breakpoint)
{
    VTX_COVERS("ENG-DR-1");
    start();
    vtx_stop st;
    vtx_class_set none = {0};
    vtx_cpu_state s;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(vtx_engine_run(eng, 10, none, false, &st), 0);
        cr_assert_neq(st.reason, VTX_STOP_ERROR, "%s", st.why ? st.why : "");
        if (st.reason == VTX_STOP_HLT)
            break;
    }
    cr_assert_eq(st.reason, VTX_STOP_HLT, "reason %d", (int)st.reason);
    cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
    cr_assert_eq(s.rip, 0x1u); /* HLT at linear 0, the armed address, retired */
    cr_assert_eq(s.dr7, 0x402u);
}

Test(engine_movdr, single_step_with_skip_first_carries_out_mov_to_dr)
{
    VTX_COVERS("ENG-DR-1");
    start();
    vtx_stop st;
    vtx_class_set none = {0};
    cr_assert_eq(vtx_engine_run(eng, 1, none, true, &st), 0); /* the NOP */
    cr_assert_eq(vtx_engine_run(eng, 1, none, true, &st), 0);
    cr_assert_eq(st.reason, VTX_STOP_COUNT, "reason %d", (int)st.reason);
    cr_assert_eq(st.retired, 1u);
    vtx_cpu_state s;
    cr_assert_eq(vtx_engine_get_state(eng, &s), 0);
    cr_assert_eq(s.rip, 0x1004u);
    cr_assert_eq(s.dr7, 0x402u);
}
