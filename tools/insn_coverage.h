/* The instruction-row coverage of `vtxref instructions`, generated at build time
 * by scripts/insn-coverage.sh from the Test(insn_rows, ID) tests. */
#ifndef VTX_INSN_COVERAGE_H
#define VTX_INSN_COVERAGE_H

typedef struct vtx_insn_cov {
    const char *row;  /* row name of model/insn_table.h ("RDTSCP"); NULL ends the table */
    const char *test; /* "test_insn_rows.c:insn_rows/RDTSCP" */
} vtx_insn_cov;

extern const vtx_insn_cov vtx_insn_cov_rows[];

#endif
