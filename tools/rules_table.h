/* The rule-coverage table of `vtxref rules`, generated at build time by
 * scripts/rules-coverage.sh from docs/rules.tsv and the tests. */
#ifndef VTX_RULES_TABLE_H
#define VTX_RULES_TABLE_H

typedef struct vtx_rule_row {
    const char *id;      /* "IW-1" */
    const char *section; /* "B. Interrupt-window exiting ..." */
    const char *summary; /* first words of the rule */
    const char *tests;   /* "test_x.c:suite/name, ..." or "" */
} vtx_rule_row;

extern const vtx_rule_row vtx_rule_rows[];
extern const unsigned vtx_rule_row_count;

typedef struct vtx_kut_row {
    const char *id;         /* "6.1" */
    const char *title;      /* "Interrupt window (`vmx_intr_window_test`)" */
    const char *tests;      /* test files that port it, or "" */
    const char *not_ported; /* "6.3 APIC-timer arming ...: reason" parts not ported, or "" */
} vtx_kut_row;

extern const vtx_kut_row vtx_kut_rows[];
extern const unsigned vtx_kut_row_count;

#endif
