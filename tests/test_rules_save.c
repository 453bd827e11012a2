/*
 * What a VM exit saves in the interruptibility state for #MF and for blocking
 * by SMI (bit 2) (catalogue A.5 and A.4), on an executing 64-bit guest. Guest code at G = 0x10000, handlers at H(v) =
 * 0x12000 + 0x10 * v, RSP 0x9000.
 *
 * #MF: CR0.NE = 1 (VMX fixes it to 1), an x87 control word that unmasks the
 * zero-divide exception, FDIVP of 1 by 0 (the exception is now pending), then
 * FWAIT raises #MF (vector 16, a fault on the FWAIT). The engine raises #MF only
 * at FWAIT, not at the next waiting x87 instruction (x87_error.c).
 *
 * Not covered: SMI and machine-check exits (no SMM, no #MC in the model); the
 * INIT half of BLK-SAVE-2 cannot arise here (INIT is not blocked by STI or MOV
 * SS, so a pending INIT wins the boundary before the x87 instruction already).
 */
#include "rules_fixture.h"

#define R_EXC VTX_EXIT_REASON_EXCEPTION_NMI
#define R_EXT VTX_EXIT_REASON_EXTERNAL_INTERRUPT
#define IS_SMI 0x4u

TestSuite(rules_save, .init = rf_setup, .fini = rf_teardown);

/* The x87 prologue at G (14 bytes, 5 instructions), then `shadow` (STI or MOV SS),
 * then `last` (FWAIT, UD2, ...), then VMCALL; the control word at G+0x40.
 *   G+0 db e3 fninit ; G+2 d9 2d 38 00 00 00 fldcw [rip+0x38] ; G+8 d9 e8 fld1 ;
 *   G+a d9 ee fldz ; G+c de f9 fdivp ; G+e shadow ; then last ; then 0f 01 c1 vmcall */
#define X87_SETUP 0xdb, 0xe3, 0xd9, 0x2d, 0x38, 0x00, 0x00, 0x00, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9
#define X87_INSNS 5u
static void x87_code(const uint8_t *shadow, size_t ns, const uint8_t *last, size_t nl)
{
    static const uint8_t setup[] = {X87_SETUP};
    uint8_t code[64];
    size_t n = 0;
    memcpy(code + n, setup, sizeof setup), n += sizeof setup;
    memcpy(code + n, shadow, ns), n += ns;
    memcpy(code + n, last, nl), n += nl;
    memcpy(code + n, VMCALL, sizeof VMCALL), n += sizeof VMCALL;
    rf_code(code, n);
    const uint8_t cw[] = {0x7b, 0x03}; /* 037FH with ZM (bit 2) clear: zero-divide unmasked */
    vt_code(&e, G + 0x40, cw, sizeof cw);
}
static const uint8_t STI[] = {0xfb};
static const uint8_t MOV_SS_AX[] = {0x8e, 0xd0};
static const uint8_t FWAIT[] = {0x9b};
static const uint8_t UD2[] = {0x0f, 0x0b};
static const uint8_t DIV_ECX[] = {0xf7, 0xf1};

/* The RIP of the instruction after the shadow instruction. */
static uint64_t last_rip(size_t ns) { return G + 14 + ns; }

static void expect_exception_exit(const char *step, uint8_t vector, uint64_t rip, uint32_t intr)
{
    rf_launch_exit(step, R_EXC);
    rf_field(step, VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, vector));
    rf_saved(step, rip, intr, ACT_ACTIVE);
}

/* ---- BLK-SAVE-2: exits caused directly by #MF ---- */

Test(rules_save, blk_save_2_mf_in_the_sti_shadow_saves_no_blocking)
{
    VTX_COVERS("BLK-SAVE-2");
    /* BLK-SAVE-2: FWAIT in the STI shadow (IF = 0 before STI) raises #MF, which
     * exits (exception bitmap bit 16): bits 0 and 1 saved as 0, RIP on the FWAIT. */
    x87_code(STI, sizeof STI, FWAIT, sizeof FWAIT);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 16);
    expect_exception_exit("STI; FWAIT (#MF)", 16, last_rip(1), 0);
}

Test(rules_save, blk_save_2_mf_in_the_mov_ss_shadow_saves_no_blocking)
{
    VTX_COVERS("BLK-SAVE-2");
    /* BLK-SAVE-2: the same in the MOV-SS shadow (AX = 0x10, the SS it has). */
    x87_code(MOV_SS_AX, sizeof MOV_SS_AX, FWAIT, sizeof FWAIT);
    rf_gprs_rax(0x10, 0, 0);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 16);
    expect_exception_exit("MOV SS; FWAIT (#MF)", 16, last_rip(2), 0);
}

Test(rules_save, blk_save_2_flip_ud_in_the_sti_shadow_keeps_bit_0)
{
    VTX_COVERS("BLK-SAVE-2", "BLK-SAVE-1", "BLK-STI-8");
    /* Flip (BLK-SAVE-1, BLK-STI-8): #UD of UD2 in the same shadow exits with the
     * shadow saved: bit 0 = 1. */
    x87_code(STI, sizeof STI, UD2, sizeof UD2);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    expect_exception_exit("STI; UD2 (#UD)", 6, last_rip(1), IS_STI);
}

Test(rules_save, blk_save_2_flip_de_in_the_mov_ss_shadow_keeps_bit_1)
{
    VTX_COVERS("BLK-SAVE-2");
    /* Flip: a #DE the engine raises (DIV by ECX = 0) in the MOV-SS shadow exits with
     * bit 1 = 1: only #MF drops the blocking. */
    x87_code(MOV_SS_AX, sizeof MOV_SS_AX, DIV_ECX, sizeof DIV_ECX);
    rf_gprs_rax(0x10, 0, 0);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 0);
    expect_exception_exit("MOV SS; DIV (#DE)", 0, last_rip(2), IS_MOVSS);
}

Test(rules_save, blk_save_2_flip_fwait_without_a_pending_x87_error)
{
    VTX_COVERS("BLK-SAVE-2");
    /* Flip: FWAIT in the shadow with nothing pending (no FDIVP) raises nothing: the
     * VMCALL after it exits. */
    static const uint8_t code[] = {0xfb, 0x9b, 0x0f, 0x01, 0xc1}; /* sti ; fwait ; vmcall */
    rf_code(code, sizeof code);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 16);
    rf_launch_exit("STI; FWAIT, no x87 error", VTX_EXIT_REASON_VMCALL);
    rf_saved("STI; FWAIT, no x87 error", G + 2, 0, ACT_ACTIVE);
}

/* ---- BLK-SAVE-2: events unblocked by and prioritised over a pending #MF ---- */

Test(rules_save, blk_save_2_interrupt_unblocked_by_mf_exits_first)
{
    VTX_COVERS("BLK-SAVE-2", "PRI-1");
    /* BLK-SAVE-2, PRI-1: an external interrupt (external-interrupt exiting, held by
     * the STI shadow under CFG-EXTINT-SHADOW) arrives at the boundary before FWAIT.
     * The #MF ends the shadow; the interrupt now wins over it: exit 1 with RIP on the
     * FWAIT and bits 0/1 saved as 0. The #MF was discarded: the next entry runs the
     * FWAIT again and it exits with #MF. */
    x87_code(STI, sizeof STI, FWAIT, sizeof FWAIT);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 16);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x30,
                    .when = vtx_machine_instructions(e.m) + X87_INSNS + 1};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    rf_launch_exit("interrupt unblocked by #MF", R_EXT);
    rf_field("interrupt", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(0, 0x30));
    rf_saved("interrupt unblocked by #MF", last_rip(1), 0, ACT_ACTIVE);
    rf_resume_exit("then the #MF", R_EXC);
    rf_field("then the #MF", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR(3, 16));
    rf_saved("then the #MF", last_rip(1), 0, ACT_ACTIVE);
}

Test(rules_save, blk_save_2_nmi_unblocked_by_mf_is_delivered_first)
{
    VTX_COVERS("BLK-SAVE-2");
    /* BLK-SAVE-2: an NMI (delivered, NMI exiting = 0) held by MOV-SS blocking
     * (CFG-MSS-NMI) at the boundary before FWAIT: the #MF unblocks it and it is
     * delivered first, with the FWAIT as its return address; the handler's VMCALL
     * exits (NMI blocking now in effect). */
    x87_code(MOV_SS_AX, sizeof MOV_SS_AX, FWAIT, sizeof FWAIT);
    rf_gprs_rax(0x10, 0, 0);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 16);
    rf_vmcall_handler(2, false);
    vtx_input in = {.kind = VTX_INPUT_NMI, .when = vtx_machine_instructions(e.m) + X87_INSNS + 1};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    rf_launch_exit("NMI unblocked by #MF", VTX_EXIT_REASON_VMCALL);
    rf_saved("NMI handler", H(2), IS_NMI, ACT_ACTIVE);
    uint64_t rsp = vt_vmread(&e, VTX_VMCS_GUEST_RSP);
    cr_assert_eq(rf_mem64(rsp), last_rip(2), "the NMI's return address is the FWAIT (the #MF was discarded)");
}

Test(rules_save, blk_save_2_flip_ud_does_not_unblock_the_interrupt)
{
    VTX_COVERS("BLK-SAVE-2");
    /* Flip: the same interrupt with UD2 in the shadow: the #UD exits first, with
     * the shadow saved (bit 0 = 1); the interrupt is still pending. */
    x87_code(STI, sizeof STI, UD2, sizeof UD2);
    rf_set(VTX_VMCS_EXCEPTION_BITMAP, 1u << 6);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_set(VTX_VMCS_EXIT_CONTROLS, VTX_EXIT_ACK_INTR_ON_EXIT);
    vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = 0x30,
                    .when = vtx_machine_instructions(e.m) + X87_INSNS + 1};
    cr_assert_eq(vtx_machine_schedule(e.m, &in), VTX_OK);
    expect_exception_exit("interrupt and #UD in the STI shadow", 6, last_rip(1), IS_STI);
}

/* ---- BLK-SMI-1: bit 2 outside SMM ---- */

Test(rules_save, blk_smi_1_entry_with_bit_2_fails_outside_smm)
{
    VTX_COVERS("BLK-SMI-1", "ENT-GS-11");
    /* BLK-SMI-1, ENT-GS-11: outside SMM a VM entry with blocking by SMI fails (exit
     * 33, qualification 0); the failure saves no guest state, so the field still
     * holds the VMM's bit 2. */
    rf_state(G, 0x2, IS_SMI, ACT_ACTIVE);
    vt_expect_entry_guest_fail(&e, "interruptibility bit 2 outside SMM", 0, VTX_CHECK_GUEST_INTR_SMI_NOT_SMM);
    rf_field("after the failure", VTX_VMCS_GUEST_INTERRUPTIBILITY, "interruptibility (not saved)", IS_SMI);
}

Test(rules_save, blk_smi_1_flip_bit_2_clear_enters_and_exits_with_0)
{
    VTX_COVERS("BLK-SMI-1");
    /* Flip: bit 2 = 0: the entry succeeds, and the exit saves bit 2 as 0 next to
     * the bits it does save (NMI blocking here). */
    CODE(0x0f, 0x01, 0xc1);
    rf_state(G, 0x2, IS_NMI, ACT_ACTIVE);
    rf_launch_exit("VMCALL", VTX_EXIT_REASON_VMCALL);
    rf_saved("VMCALL", G, IS_NMI, ACT_ACTIVE);
}

Test(rules_save, blk_smi_1_wait_for_sipi_saves_bit_2_as_0)
{
    VTX_COVERS("BLK-SMI-1");
    /* BLK-SMI-1 (the Bochs bug it cites): INIT exit; the VMM puts the guest in
     * wait-for-SIPI (where SMIs are blocked on hardware); the SIPI exit saves bit 2
     * as 0, so the VMM's next entry with the saved field does not fail. */
    CODE(0x90, 0x0f, 0x01, 0xc1);
    cr_assert_eq(vtx_machine_raise_init(e.m), VTX_OK);
    rf_launch_exit("INIT", VTX_EXIT_REASON_INIT_SIGNAL);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY) & IS_SMI, 0, "INIT exit: bit 2 = 0");
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_SIPI);
    vtx_input sipi = {.kind = VTX_INPUT_SIPI, .vector = 0x10, .at_cycle = true, .when = vtx_machine_cycles(e.m) + 1000};
    cr_assert_eq(vtx_machine_schedule(e.m, &sipi), VTX_OK);
    rf_resume_exit("SIPI", VTX_EXIT_REASON_SIPI);
    rf_saved("SIPI", G, 0, ACT_SIPI);
    vt_vmwrite(&e, VTX_VMCS_GUEST_ACTIVITY_STATE, ACT_ACTIVE);
    rf_resume_exit("re-entry with the saved field", VTX_EXIT_REASON_VMCALL);
}

Test(rules_save, blk_smi_1_exits_of_every_kind_save_bit_2_as_0)
{
    VTX_COVERS("BLK-SMI-1");
    /* BLK-SMI-1: an instruction exit, an exception exit, an exit during delivery
     * (a #GP in the bitmap while delivering INT n), NMI, external-interrupt and
     * triple-fault exits: bit 2 is 0 in each (there is no SMI blocking outside
     * SMM to save). */
    static const struct { uint8_t code[4]; size_t n; uint32_t reason; const char *what; } t[] = {
        {{0x0f, 0xa2}, 2, VTX_EXIT_REASON_CPUID, "CPUID"},
        {{0x0f, 0x0b}, 2, R_EXC, "#UD in the bitmap"},
        {{0xcd, 0x41}, 2, R_EXC, "INT 0x41 through an empty IDT entry: #GP in the bitmap during delivery"},
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (i) {
            rf_teardown();
            rf_setup();
        }
        rf_code(t[i].code, t[i].n);
        rf_set(VTX_VMCS_EXCEPTION_BITMAP, (1u << 6) | (1u << 13));
        rf_launch_exit(t[i].what, t[i].reason);
        cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY) & IS_SMI, 0, "%s: bit 2 saved as 0", t[i].what);
    }
    rf_teardown();
    rf_setup();
    CODE(0x90);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING | VTX_PIN_EXT_INTR_EXITING);
    cr_assert_eq(vtx_machine_raise_nmi(e.m), VTX_OK);
    cr_assert_eq(vtx_machine_set_intr(e.m, true, 0x30), VTX_OK);
    rf_launch_exit("NMI", R_EXC);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY) & IS_SMI, 0, "NMI exit: bit 2 saved as 0");
    rf_resume_exit("external interrupt", R_EXT);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY) & IS_SMI, 0, "interrupt exit: bit 2 saved as 0");
    /* A triple fault: #DF injected through an empty IDT entry. */
    rf_inject(INTR_EC(3, 8), 0, 0);
    rf_clr(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_resume_exit("triple fault", VTX_EXIT_REASON_TRIPLE_FAULT);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY) & IS_SMI, 0, "triple fault: bit 2 saved as 0");
}
