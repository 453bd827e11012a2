/* Shared fixture of the instruction-table tests (test_insn_rows*.c): one
 * Test(insn_rows, ROW) per row of model/insn_table.h, named exactly as the row
 * (scripts/insn-coverage.sh reads those names for `vtxref instructions`).
 * Guest code at G = 0x10000 in the baseline 64-bit guest at CPL 0; #UD and #GP
 * are in the exception bitmap so a fault shows as exit 0 at the instruction. */
#ifndef VTX_TEST_INSN_ROWS_FIXTURE_H
#define VTX_TEST_INSN_ROWS_FIXTURE_H

#include "rules_fixture.h"
#include <vtxref/insn_table.h>

#define BITMAPS 0xB000u /* zeroed MSR bitmaps (nothing exits by them) */
#define DATA 0x7000u    /* scratch memory operands */

static bool launched;

static inline void ir_setup_profile(const vtx_profile *p)
{
    memset(&e, 0, sizeof e);
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, p);
    cr_assert_eq(vtx_machine_create(&cfg, &e.m, NULL), VTX_OK);
    e.profile = *p;
    e.rev = vtx_basic_revision(p->msr[VTX_CAP_IA32_VMX_BASIC]);
    e.ram = aligned_alloc(4096, VT_RAM_SIZE);
    memset(e.ram, 0, VT_RAM_SIZE);
    cr_assert_eq(vtx_machine_map(e.m, 0, VT_RAM_SIZE, e.ram, VTX_MEM_RWX, NULL), VTX_OK);
    vt_baseline(&e);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, (1u << 6) | (1u << 13));
    launched = false;
}

static inline void ir_setup(void) { ir_setup_profile(vtx_profile_builtin(1)); }

/* Rebuild the machine on "server" with more secondary controls allowed to be 1
 * (a profile the model must then refuse by row name at VM entry). */
static inline void ir_rebuild_allowing(vtx_ctl_field field, uint32_t bits)
{
    vt_teardown(&e);
    vtx_profile p = *vtx_profile_builtin(1);
    if (field == VTX_CTL_PROC2) {
        p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] |= (uint64_t)bits << 32;
    } else {
        p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS] |= (uint64_t)bits << 32;
        p.msr[VTX_CAP_IA32_VMX_TRUE_PROCBASED_CTLS] |= (uint64_t)bits << 32;
    }
    ir_setup_profile(&p);
}

/* The table row says what the SDM says: exit reason, qualification and
 * instruction-information layouts, guest-linear address field. */
static inline const vtx_insn_row *ir_row(const char *id, int32_t reason, vtx_irow_qual qual, vtx_irow_info info,
                                         bool linear)
{
    const vtx_insn_row *r = vtx_insn_row_by_id(id);
    cr_assert_not_null(r, "row %s is in the table", id);
    cr_assert_eq(r->reason, reason, "row %s: exit reason %d, the table says %d", id, reason, r->reason);
    cr_assert_eq(r->qual, qual, "row %s: qualification layout %s, the table says %s", id, vtx_irow_qual_name(qual),
                 vtx_irow_qual_name(r->qual));
    cr_assert_eq(r->info, info, "row %s: instruction information %s, the table says %s", id, vtx_irow_info_name(info),
                 vtx_irow_info_name(r->info));
    cr_assert_eq(r->linear, linear, "row %s: guest-linear address field %s", id, linear ? "defined" : "undefined");
    cr_assert_not(r->physical, "row %s: no guest-physical address (only EPT exits define it)", id);
    return r;
}

static inline vtx_status ir_go(vtx_insn_result *r)
{
    vtx_status st = launched ? vtx_vmresume(e.m, r) : vtx_vmlaunch(e.m, r);
    launched = true;
    return st;
}

static inline void ir_gprs(uint64_t rax, uint64_t rcx, uint64_t rdx)
{
    rf_gprs_rax(rax, rcx, rdx);
}

static inline vtx_gprs ir_regs(void)
{
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    return g;
}

static inline void ir_proc2(uint32_t bits)
{
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, bits);
}

/* Run from rip and expect an instruction exit there: reason, saved RIP, length
 * (EXIT-6), qualification (EXIT-3) and instruction information. */
static inline void ir_exit(const char *step, uint64_t rip, uint32_t reason, uint32_t len, uint64_t qual, uint32_t info)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rip);
    vtx_insn_result r;
    vtx_status st = ir_go(&r);
    rf_check_exit(step, st, &r, reason);
    rf_saved_rip(step, rip);
    rf_field(step, VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length (EXIT-6)", len);
    rf_field(step, VTX_VMCS_EXIT_QUALIFICATION, "exit qualification (EXIT-3)", qual);
    rf_field(step, VTX_VMCS_EXIT_INSTRUCTION_INFO, "VM-exit instruction information", info);
}

/* Run from rip and expect the instruction there to fault: #UD (vector 6) or #GP(0) (13). */
static inline void ir_fault(const char *step, uint64_t rip, unsigned vector)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rip);
    vtx_insn_result r;
    vtx_status st = ir_go(&r);
    rf_check_exit(step, st, &r, VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field(step, VTX_VMCS_EXIT_INTR_INFO, "interruption information",
             vector == 6 ? INTR(3, 6) : INTR_EC(3, vector));
    rf_saved_rip(step, rip);
}
static inline void ir_ud(const char *step, uint64_t rip) { ir_fault(step, rip, 6); }

/* Run from rip and expect the instruction there to execute without an exit: the
 * VMCALL after it exits at `next`. */
static inline void ir_runs(const char *step, uint64_t rip, uint64_t next)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rip);
    vtx_insn_result r;
    vtx_status st = ir_go(&r);
    rf_check_exit(step, st, &r, VTX_EXIT_REASON_VMCALL);
    rf_saved_rip(step, next);
}

/* Run from rip and expect the run to stop with VTX_ERR_UNSUPPORTED and a reason
 * that names the row ("instruction row ID"). */
static inline void ir_refused(const char *step, uint64_t rip, const char *row)
{
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rip);
    vtx_insn_result r;
    vtx_status st = ir_go(&r);
    char want[64];
    snprintf(want, sizeof want, "instruction row %s", row);
    cr_assert_eq(st, VTX_ERR_UNSUPPORTED, "%s: refused (VTX_ERR_UNSUPPORTED), got %s", step, vtx_status_name(st));
    cr_assert(strstr(r.why, want), "%s: the reason names the row ('%s'): %s", step, want, r.why);
}

/* An ENTRY row: on a profile that lets its control be 1, VM entry with it 1 is
 * refused by row name (never run with behaviour from outside VMX). */
static inline void ir_entry_refused(const char *row, vtx_ctl_field field, uint32_t bit)
{
    ir_rebuild_allowing(field, bit);
    if (field == VTX_CTL_PROC2)
        ir_proc2(bit);
    else
        rf_set(VTX_VMCS_PROC_CONTROLS, bit);
    ir_refused("VM entry with the row's control 1", G, row);
}

#endif
