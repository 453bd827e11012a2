/* vtxref explain: the explainer behind tools/cmd_explain.c (tools/explain.c, tools/explain_text.c). */
#ifndef VTX_TOOLS_EXPLAIN_H
#define VTX_TOOLS_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "vtxref/scenario.h"

/** @brief Where --from / --to point: nowhere, a count of instructions, an address, a label(+offset). */
typedef enum { EXPLAIN_POS_NONE = 0, EXPLAIN_POS_COUNT, EXPLAIN_POS_ADDR, EXPLAIN_POS_LABEL } explain_pos_kind;

/** @brief A --from or --to position. */
typedef struct explain_pos {
    explain_pos_kind kind;
    uint64_t value;   /**< Count or address. */
    char label[96];   /**< Label name (EXPLAIN_POS_LABEL). */
    long long offset; /**< Offset from the label. */
} explain_pos;

/** @brief The state of one explain run (opaque). */
typedef struct explainer explainer;

/** @brief A new explainer printing to @p out; NULL when out of memory. */
explainer *explainer_new(const vtx_scenario *s /* NULL: no labels */, FILE *out, const explain_pos *from, const explain_pos *to);
/** @brief Print the scenario's name and description and the column legend. */
void explainer_header(explainer *ex);
/** @brief The same with a title and description of the caller's (NULL: none); `vtxref boot --explain`. */
void explainer_header_titled(explainer *ex, const char *title, const char *description);
/** @brief Name addresses with @p label (e.g. ELF symbols) instead of the scenario's labels. */
void explainer_set_labels(explainer *ex, bool (*label)(void *user, uint64_t linear, char *buf, size_t size),
                          void *user);
/** @brief Print one indented line at this point of the run (inside the --from/--to window only). */
void explainer_line(explainer *ex, const char *text);
/** @brief Parse a --from/--to value (N, 0xADDR, LABEL[+-N]) of command @p cmd; -1 with a message on stderr. */
int explain_parse_pos(const char *cmd, const char *opt, const char *v, explain_pos *p);
/** @brief Fill @p cb with the explainer's callbacks (user = @p ex). */
void explainer_callbacks(explainer *ex, vtx_scenario_callbacks *cb);
/** @brief Flush what is held back (a collapsed loop) after the run. */
void explainer_finish(explainer *ex);
/** @brief Free it (NULL is ignored). */
void explainer_free(explainer *ex);

/** @brief One boundary as explain keeps it: what is compared to find repeats, and context. */
typedef struct explain_key {
    uint64_t rip;
    uint32_t interruptibility;
    uint32_t activity;
    uint8_t if_flag;
    uint8_t after_entry;
    uint8_t action;
    int8_t winner;
    uint8_t states[VTX_EV_COUNT];
    const char *rules[VTX_EV_COUNT];
    const char *whys[VTX_EV_COUNT];
} explain_key;

/** @brief Where a blocking came from, for "set by the sti at 0x1000b". */
typedef enum { EXPLAIN_SRC_UNKNOWN = 0, EXPLAIN_SRC_INSN, EXPLAIN_SRC_ENTRY, EXPLAIN_SRC_DELIVERY } explain_src;

typedef struct explain_entry {
    explain_key key;     /**< Compared with memcmp (zero-initialised, padding included). */
    uint64_t linear;     /**< Linear address of the next instruction. */
    uint64_t instructions, cycle, rflags;
    explain_src sti_src, movss_src, nmi_src;
    uint64_t sti_at, movss_at; /**< Linear address of the instruction that set the shadow. */
    uint64_t nmi_since;        /**< Instruction count when NMI blocking began. */
} explain_entry;

/** @brief Context for the sentences: the scenario and guest memory. */
typedef struct explain_ctx {
    const vtx_scenario *s;
    const vtx_scenario_view *view;
    /** Names an address instead of the scenario's labels (`vtxref boot`: the kernel's ELF symbols), or NULL. */
    bool (*label)(void *user, uint64_t linear, char *buf, size_t size);
    void *label_user;
} explain_ctx;

/** @brief The label of a linear address: the context's label function, else the scenario's labels. */
bool explain_label(const explain_ctx *c, uint64_t linear, char *buf, size_t size);

/** @brief Name a linear address: "0x1000b (after_shadow)" or "0x1000b". */
void explain_addr(const explain_ctx *c, uint64_t linear, char *buf, size_t size);
/** @brief Print one boundary: the line of state and the sentences of the decision. */
void explain_print_boundary(const explain_ctx *c, FILE *out, const explain_entry *e);
/** @brief Print "  ... the loop A..B ran N more times with the same verdicts". */
void explain_print_repeat(const explain_ctx *c, FILE *out, const explain_entry *const *period_entries,
                          size_t period, uint64_t times, uint64_t first_count, uint64_t last_count);
/** @brief Format @p v with a space every three digits ("999 998"). */
void explain_group(uint64_t v, char *buf, size_t size);

#endif
