/*
 * The instruction table as data (include/vtxref/insn_table.h, model/insn_table.h;
 * SDM Vol. 3C 2016 25.1.2, 25.1.3, 25.3) and `vtxref instructions`: every row is
 * well formed (names resolve in arch.h, a CONTROL row has its control, an ENTRY
 * row its refused control, a row without an exit has no exit layouts), the
 * unconditional list of 25.1.2 is complete, and the command prints every row,
 * its status and the coverage line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "helpers.h"
#include <vtxref/insn_table.h>

Test(insn_table, rows_are_well_formed)
{
    unsigned n = vtx_insn_row_count();
    cr_assert_geq(n, 60, "the chapter names some 70 instructions");
    for (unsigned i = 0; i < n; i++) {
        const vtx_insn_row *r = vtx_insn_row_at(i);
        cr_assert_not_null(r);
        cr_assert_eq(vtx_insn_row_by_id(r->id), r, "row %s is found by its name", r->id);
        for (unsigned j = 0; j < i; j++)
            cr_assert_str_neq(vtx_insn_row_at(j)->id, r->id, "row names are unique");
        cr_assert(r->sdm && r->sdm[0] && r->note && r->note[0], "row %s cites an SDM section and says why", r->id);
        if (r->reason >= 0)
            cr_assert_not_null(vtx_exit_reason_name((uint32_t)r->reason), "row %s: exit reason %d is in arch.h",
                               r->id, r->reason);
        else
            cr_assert(r->cond == VTX_IROW_NO_EXIT && r->qual == VTX_IROW_Q_ZERO && r->info == VTX_IROW_I_NONE &&
                          !r->linear,
                      "row %s has no exit and so no exit layouts", r->id);
        cr_assert_not(r->physical, "row %s: the guest-physical address is defined only for EPT exits", r->id);
        if (r->cond == VTX_IROW_CONTROL)
            cr_assert(r->exit_ctl.mask, "row %s exits by a control: the table names it", r->id);
        if (r->status == VTX_IROW_ENTRY)
            cr_assert(r->refuse.mask, "row %s is refused at VM entry: the table names the control", r->id);
        const vtx_irow_ctl c[] = {r->gate, r->exit_ctl, r->refuse};
        for (size_t k = 0; k < 3; k++)
            if (c[k].mask)
                cr_assert_not_null(vtx_control_bit_name(c[k].field, (unsigned)__builtin_ctz(c[k].mask)),
                                   "row %s: its controls are named in arch.h", r->id);
        if (r->gate.mask)
            cr_assert_eq(r->gate.field, VTX_CTL_PROC2, "row %s: #UD gates are secondary controls (25.3)", r->id);
    }
}

Test(insn_table, unconditional_list_of_25_1_2)
{
    /* 25.1.2: CPUID, GETSEC, INVD, XSETBV and the VMX instructions INVEPT, INVVPID,
     * VMCALL, VMCLEAR, VMLAUNCH, VMPTRLD, VMPTRST, VMRESUME, VMXOFF, VMXON. */
    static const char *const uncond[] = {"CPUID", "GETSEC", "INVD", "XSETBV", "INVEPT", "INVVPID", "VMCALL",
                                         "VMCLEAR", "VMLAUNCH", "VMPTRLD", "VMPTRST", "VMRESUME", "VMXOFF", "VMXON"};
    unsigned count = 0;
    for (unsigned i = 0; i < vtx_insn_row_count(); i++)
        count += vtx_insn_row_at(i)->cond == VTX_IROW_UNCOND;
    cr_assert_eq(count, sizeof uncond / sizeof uncond[0], "exactly the 25.1.2 rows are unconditional");
    for (size_t i = 0; i < sizeof uncond / sizeof uncond[0]; i++) {
        const vtx_insn_row *r = vtx_insn_row_by_id(uncond[i]);
        cr_assert(r && r->cond == VTX_IROW_UNCOND, "%s exits unconditionally", uncond[i]);
    }
}

/* Run `vtxref ARGS` and return its output (stdout and stderr) and exit status. */
static char *cli(const char *args, int *status)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", VTX_CLI_PATH, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "cannot run %s", cmd);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    for (size_t k; (k = fread(out + len, 1, cap - len - 1, p)) > 0;) {
        len += k;
        if (cap - len < 4096) {
            cap *= 2;
            out = realloc(out, cap);
            cr_assert_not_null(out);
        }
    }
    out[len] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

Test(insn_table, vtxref_instructions_prints_every_row_and_the_coverage)
{
    int status;
    char *out = cli("instructions", &status);
    cr_assert_eq(status, 0, "vtxref instructions exits 0:\n%s", out);
    for (unsigned i = 0; i < vtx_insn_row_count(); i++) {
        char key[64];
        snprintf(key, sizeof key, "\n%-14s ", vtx_insn_row_at(i)->id);
        cr_assert(strstr(out, key), "row %s is printed", vtx_insn_row_at(i)->id);
    }
    cr_assert(strstr(out, "\nRDTSCP         #UD gate \"Enable RDTSCP\"; control \"RDTSC exiting\""),
              "RDTSCP: its #UD gate and its exit control");
    cr_assert(strstr(out, "refused rows"), "the refused rows are listed");
    /* The last line: rows implemented and tested / rows. */
    char *last = out + strlen(out) - 1;
    while (last > out && last[-1] != '\n')
        last--;
    unsigned covered, rows;
    cr_assert_eq(sscanf(last, "instructions covered: %u/%u", &covered, &rows), 2, "last line: %s", last);
    cr_assert_eq(rows, vtx_insn_row_count());
    cr_assert_leq(covered, rows);
    free(out);
}

Test(insn_table, vtxref_instructions_row_detail_and_bad_row)
{
    int status;
    char *out = cli("instructions RDTSCP", &status);
    cr_assert_eq(status, 0, "%s", out);
    cr_assert(strstr(out, "test_insn_rows_gates.c:insn_rows/RDTSCP"), "the row's test is named:\n%s", out);
    free(out);
    out = cli("instructions NO_SUCH_ROW", &status);
    cr_assert_eq(status, 3, "an unknown row is bad input (exit status 3)");
    cr_assert(strstr(out, "NO_SUCH_ROW"), "the message names it");
    free(out);
}
