/*
 * vtxref instructions [ROW]: the instruction table (model/insn_table.h, SDM
 * Vol. 3C 25.1.2, 25.1.3, 25.3) with, for every row, the test that covers it
 * (a Test(insn_rows, ROW), collected at build time by scripts/insn-coverage.sh)
 * and what the model does: implemented, or refused and why. The refused rows
 * are listed at the end; the last line is "instructions covered: N/M" (rows
 * implemented and tested / rows).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "cli.h"
#include "insn_coverage.h"
#include "vtxref/insn_table.h"
#include "vtxref/profile.h"

static const char *test_of(const char *row)
{
    for (const vtx_insn_cov *c = vtx_insn_cov_rows; c->row; c++)
        if (strcmp(c->row, row) == 0)
            return c->test;
    return NULL;
}

static const char *ctl_name(vtx_irow_ctl c)
{
    const char *n = c.mask ? vtx_control_bit_name(c.field, (unsigned)__builtin_ctz(c.mask)) : NULL;
    return n ? n : "?";
}

/* The faults with priority over the exit, in words ("-" when none). */
static void faults_first(uint32_t pre, char *buf, size_t n)
{
    static const struct { uint32_t bit; const char *text; } t[] = {
        {VTX_IROW_PRE_UD_ALWAYS, "#UD (feature absent)"},
        {VTX_IROW_PRE_UD_VMX_MODE, "#UD in real-address, virtual-8086 and compatibility mode"},
        {VTX_IROW_PRE_UD_EAX64, "#UD if EAX >= 64"},
        {VTX_IROW_PRE_UD_SMXE, "#UD if CR4.SMXE = 0"},
        {VTX_IROW_PRE_UD_OSXSAVE, "#UD if CR4.OSXSAVE = 0"},
        {VTX_IROW_PRE_UD_CPL, "#UD at CPL > 0"},
        {VTX_IROW_PRE_GP_CPL, "#GP(0) at CPL > 0"},
        {VTX_IROW_PRE_TSD, "#GP(0) at CPL > 0 with CR4.TSD = 1"},
        {VTX_IROW_PRE_PCE, "#GP(0) at CPL > 0 with CR4.PCE = 0"},
        {VTX_IROW_PRE_IOPERM, "#GP(0) when CPL > IOPL (or virtual-8086 mode) and the TSS I/O bitmap denies a port"},
    };
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof t / sizeof t[0] && k < n; i++)
        if (pre & t[i].bit)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? "; " : "", t[i].text);
    if (!k)
        snprintf(buf, n, "-");
}

/* "unconditional", "control \"HLT exiting\"", "#UD gate \"Enable RDTSCP\"; control ...". */
static void condition(const vtx_insn_row *r, char *buf, size_t n)
{
    size_t k = 0;
    if (r->pre & VTX_IROW_PRE_UD_ALWAYS)
        k += (size_t)snprintf(buf + k, n - k, "#UD (feature absent); ");
    if (r->gate.mask && k < n)
        k += (size_t)snprintf(buf + k, n - k, "#UD gate \"%s\"; ", ctl_name(r->gate));
    if (k >= n)
        return;
    switch (r->cond) {
    case VTX_IROW_UNCOND: snprintf(buf + k, n - k, "unconditional"); break;
    case VTX_IROW_CONTROL: snprintf(buf + k, n - k, "control \"%s\"", ctl_name(r->exit_ctl)); break;
    case VTX_IROW_CONDITION: snprintf(buf + k, n - k, "condition (see note)"); break;
    case VTX_IROW_NO_EXIT: snprintf(buf + k, n - k, "changed behaviour, no exit"); break;
    }
}

/* The built-in profiles that let the control be 1 ("server, teaching"), or "no built-in profile". */
static void profiles_allowing(vtx_irow_ctl c, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < vtx_profile_builtin_count() && k < n; i++) {
        const vtx_profile *p = vtx_profile_builtin(i);
        uint32_t must1 = 0, may1 = 0;
        vtx_profile_ctl_caps(p, c.field, &must1, &may1); /* secondary: 0 unless they can be activated */
        if (may1 & c.mask)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "", p->name);
    }
    if (!k)
        snprintf(buf, n, "no built-in profile");
}

/* "implemented+tested", "refused: ...", "pending: ...". */
static void status(const vtx_insn_row *r, bool tested, char *buf, size_t n)
{
    const char *t = tested ? "implemented+tested" : "implemented (UNTESTED)";
    switch (r->status) {
    case VTX_IROW_IMPLEMENTED: snprintf(buf, n, "%s", t); break;
    case VTX_IROW_ENTRY: {
        char who[96];
        profiles_allowing(r->refuse, who, sizeof who);
        snprintf(buf, n, "%s; refused: \"%s\" = 1 is refused at VM entry (allowed by: %s)", t, ctl_name(r->refuse),
                 who);
        break;
    }
    case VTX_IROW_INSN: snprintf(buf, n, "%s; refused in part at the instruction (see note)", t); break;
    case VTX_IROW_PENDING: snprintf(buf, n, "PENDING: %s", r->note); break;
    }
}

int cmd_instructions(int argc, char **argv)
{
    const char *only = NULL;
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] != '-' && !only) {
            only = argv[i];
        } else {
            fprintf(stderr, "%s: instructions: expected 'instructions [ROW]'\n", prog);
            return EXIT_USAGE;
        }
    }
    unsigned rows = vtx_insn_row_count(), covered = 0, shown = 0;
    if (!only)
        printf("%-14s %-58s %-22s %-14s %-3s %-26s %-7s %-19s %s\n", "ROW", "CONDITION", "EXIT REASON",
               "QUALIFICATION", "LEN", "INSN-INFO", "LIN/PHY", "SDM (2016)", "STATUS");
    for (unsigned i = 0; i < rows; i++) {
        const vtx_insn_row *r = vtx_insn_row_at(i);
        const char *test = test_of(r->id);
        bool done = test && r->status != VTX_IROW_PENDING;
        covered += done;
        if (only && strcasecmp(only, r->id) != 0)
            continue;
        shown++;
        char cond[160], st[200], reason[40];
        condition(r, cond, sizeof cond);
        status(r, test != NULL, st, sizeof st);
        if (r->reason >= 0)
            snprintf(reason, sizeof reason, "%d %s", r->reason, vtx_exit_reason_name((uint32_t)r->reason));
        else
            snprintf(reason, sizeof reason, "-");
        bool exits = r->reason >= 0;
        printf("%-14s %-58s %-22s %-14s %-3s %-26s %-7s %-19s %s\n", r->id, cond, reason,
               exits ? vtx_irow_qual_name(r->qual) : "-", exits ? "yes" : "-",
               exits ? vtx_irow_info_name(r->info) : "-",
               exits ? (r->linear ? (r->physical ? "yes/yes" : "yes/no") : (r->physical ? "no/yes" : "no/no")) : "-",
               r->sdm, st);
        if (only) {
            char pre[256];
            faults_first(r->pre, pre, sizeof pre);
            printf("    instruction  %s\n    faults first %s\n    note         %s\n    test         %s\n", r->insn, pre,
                   r->note, test ? test : "(none)");
        }
    }
    if (only && !shown) {
        fprintf(stderr, "%s: instructions: '%s' is not a row of the instruction table (see 'vtxref instructions')\n",
                prog, only);
        return EXIT_INPUT;
    }
    if (!only) {
        printf("\nrefused rows (what the model stops on, by row name):\n");
        for (unsigned i = 0; i < rows; i++) {
            const vtx_insn_row *r = vtx_insn_row_at(i);
            if (r->status == VTX_IROW_ENTRY)
                printf("  %-14s at VM entry, \"%s\" = 1: %s\n", r->id, ctl_name(r->refuse), r->note);
            else if (r->status == VTX_IROW_INSN)
                printf("  %-14s at the instruction: %s\n", r->id, r->note);
            else if (r->status == VTX_IROW_PENDING)
                printf("  %-14s pending: %s\n", r->id, r->note);
        }
    }
    printf("instructions covered: %u/%u\n", covered, rows);
    return EXIT_OK;
}
