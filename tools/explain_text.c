/*
 * vtxref explain: one boundary in words (tools/explain.h). The verdicts and
 * rule IDs are the model's (include/vtxref/observer.h); this file only phrases
 * them for a student and adds where a blocking came from ("set by the sti at
 * 0x1000b"), which explain.c tracks from one boundary to the next.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "disasm.h"
#include "explain.h"

/* clang-format off */
/* Each boundary event as a noun for sentences: X(EVENT, noun, is_window) */
#define EXPLAIN_EVENT_NOUNS(X) \
    X(SIPI,             "SIPI",                            0) \
    X(TPR_THRESHOLD,    "TPR-below-threshold exit",        0) \
    X(APIC_TRAP,        "APIC-write / virtualized-EOI exit", 0) \
    X(INIT,             "INIT",                            0) \
    X(MTF,              "monitor-trap-flag exit",          0) \
    X(PENDING_DB,       "pending debug exception",         0) \
    X(PREEMPTION_TIMER, "preemption-timer exit",           0) \
    X(NMI_WINDOW,       "NMI window",                      1) \
    X(NMI,              "NMI",                             0) \
    X(INTR_WINDOW,      "interrupt window",                1) \
    X(VIRTUAL_INTR,     "virtual interrupt",               0) \
    X(EXT_INTR,         "external interrupt",              0)
/* clang-format on */

static const char *noun(int e)
{
    switch (e) {
#define X(n, s, w) \
    case VTX_EV_##n: return s;
        EXPLAIN_EVENT_NOUNS(X)
#undef X
    default: return "event";
    }
}

static bool is_window(int e)
{
    switch (e) {
#define X(n, s, w) \
    case VTX_EV_##n: return w;
        EXPLAIN_EVENT_NOUNS(X)
#undef X
    default: return false;
    }
}

void explain_group(uint64_t v, char *buf, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ' ';
        buf[o++] = digits[i];
    }
    buf[o < size ? o : size - 1] = 0;
}

bool explain_label(const explain_ctx *c, uint64_t linear, char *buf, size_t size)
{
    return c->label ? c->label(c->label_user, linear, buf, size) : vtx_scenario_label(c->s, linear, buf, size);
}

void explain_addr(const explain_ctx *c, uint64_t linear, char *buf, size_t size)
{
    char label[128] = "";
    if (explain_label(c, linear, label, sizeof label) && label[0])
        snprintf(buf, size, "0x%" PRIx64 " (%s)", linear, label);
    else
        snprintf(buf, size, "0x%" PRIx64, linear);
}

static void insn_at(const explain_ctx *c, uint64_t linear, char *buf, size_t size)
{
    if (!c->view) {
        snprintf(buf, size, "?");
        return;
    }
    uint64_t target;
    char text[80];
    vtx_disasm(c->view->ram, c->view->ram_size, c->view->code_bits, linear, text, sizeof text, &target);
    char label[64] = "";
    if (target != UINT64_MAX && explain_label(c, c->view->cs_base + target, label, sizeof label) && label[0])
        snprintf(buf, size, "%.60s (%.30s)", text, label);
    else
        snprintf(buf, size, "%s", text);
}

static const char *activity_name(uint32_t a)
{
    static const char *const n[] = {"active", "HLT", "shutdown", "wait-SIPI"};
    return a < 4 ? n[a] : "?";
}

static const char *action_short(const explain_key *k)
{
    switch ((vtx_boundary_action)k->action) {
    case VTX_ACT_EXIT: return "-> VM exit";
    case VTX_ACT_DELIVER: return "-> delivered";
    case VTX_ACT_IDLE: return "-> stays halted";
    default: return "-> executes";
    }
}

/* Where a blocking came from, as a clause: ", set by the sti at 0x1000b". */
static void source_clause(const explain_ctx *c, explain_src src, uint64_t at, char *buf, size_t size)
{
    char insn[96], addr[160];
    switch (src) {
    case EXPLAIN_SRC_INSN:
        insn_at(c, at, insn, sizeof insn);
        explain_addr(c, at, addr, sizeof addr);
        snprintf(buf, size, ", set by the `%.60s` at %.120s", insn, addr);
        break;
    case EXPLAIN_SRC_ENTRY:
        snprintf(buf, size, ", loaded by VM entry from the interruptibility field");
        break;
    default:
        buf[0] = 0;
        break;
    }
}

/* The sentence for one event that is not idle. */
static void event_sentence(const explain_ctx *c, FILE *out, const explain_entry *e, int ev)
{
    const explain_key *k = &e->key;
    const char *rule = k->rules[ev], *why = k->whys[ev];
    char extra[320] = "";
    switch ((vtx_event_state)k->states[ev]) {
    case VTX_EVS_TAKEN:
        if (k->action == VTX_ACT_EXIT)
            fprintf(out, "           %s%s: it wins the boundary and causes a VM exit (%s).\n", noun(ev),
                    is_window(ev) ? " is open" : " pending", rule ? rule : "PRI-2");
        else
            fprintf(out, "           %s pending: it wins and is delivered through the guest IDT (%s).\n", noun(ev),
                    rule ? rule : "PRI-2");
        break;
    case VTX_EVS_BEATEN:
        fprintf(out, "           %s%s too, but it waits: the %s comes first (PRI-2).\n", noun(ev),
                is_window(ev) ? " open" : " pending", k->winner >= 0 ? noun(k->winner) : "other event");
        break;
    case VTX_EVS_BLOCKED: {
        const char *what = why ? why : "blocked";
        if (why && strstr(why, "blocking by STI")) {
            char src[200];
            source_clause(c, e->sti_src, e->sti_at, src, sizeof src);
            snprintf(extra, sizeof extra, "%s; it ends after this instruction (BLK-STI-2)", src);
        } else if (why && strstr(why, "blocking by MOV SS")) {
            char src[200];
            source_clause(c, e->movss_src, e->movss_at, src, sizeof src);
            snprintf(extra, sizeof extra, "%s; it ends after this instruction (BLK-MSS-5)", src);
        } else if (why && (strstr(why, "blocking by NMI") || strstr(why, "virtual-NMI blocking"))) {
            const char *ends = strstr(why, "virtual") ? "; only an IRET ends it (VNMI-4)" : "; only an IRET ends it";
            if (e->nmi_src == EXPLAIN_SRC_ENTRY)
                snprintf(extra, sizeof extra, ", loaded by VM entry from the interruptibility field%s", ends);
            else if (e->nmi_src == EXPLAIN_SRC_DELIVERY)
                snprintf(extra, sizeof extra, ", since the NMI delivered at instruction %" PRIu64 "%s", e->nmi_since,
                         ends);
            else
                snprintf(extra, sizeof extra, "%s", ends);
        } else if (why && strcmp(why, "RFLAGS.IF = 0") == 0) {
            snprintf(extra, sizeof extra, "; it opens once IF = 1 (STI, POPF, IRET)");
        }
        if (is_window(ev))
            fprintf(out, "           %s shut: %s (%s)%s.\n", noun(ev), what, rule ? rule : "?", extra);
        else
            fprintf(out, "           %s pending, held: %s (%s)%s.\n", noun(ev), what, rule ? rule : "?", extra);
        break;
    }
    default:
        break;
    }
}

void explain_print_boundary(const explain_ctx *c, FILE *out, const explain_entry *e)
{
    const explain_key *k = &e->key;
    char addr[160], insn[96], blk[40] = "";
    explain_addr(c, e->linear, addr, sizeof addr);
    if (k->activity == 0)
        insn_at(c, e->linear, insn, sizeof insn);
    else
        snprintf(insn, sizeof insn, "(halted)");
    if (k->interruptibility & 1)
        strcat(blk, "STI ");
    if (k->interruptibility & 2)
        strcat(blk, "MOV-SS ");
    if (k->interruptibility & 8)
        strcat(blk, "NMI ");
    if (!blk[0])
        strcpy(blk, "- ");
    blk[strlen(blk) - 1] = 0;
    char when[48] = "";
    if (k->activity != 0)
        snprintf(when, sizeof when, " at cycle %" PRIu64, e->cycle);
    fprintf(out, "%9" PRIu64 "  %-26s %-26s IF=%u %-10s %-8s %s%s%s\n", e->instructions, addr, insn, k->if_flag, blk,
            activity_name(k->activity), action_short(k), when,
            k->after_entry ? "  (first boundary after VM entry)" : "");
    for (int ev = 0; ev < VTX_EV_COUNT; ev++)
        if (k->states[ev] != VTX_EVS_IDLE)
            event_sentence(c, out, e, ev);
}

void explain_print_repeat(const explain_ctx *c, FILE *out, const explain_entry *const *ents, size_t period,
                          uint64_t times, uint64_t first_count, uint64_t last_count)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < period; i++) {
        char tmp[96];
        unsigned len = c->view && ents[i]->key.activity == 0
                           ? vtx_disasm(c->view->ram, c->view->ram_size, c->view->code_bits, ents[i]->linear, tmp,
                                        sizeof tmp, NULL)
                           : 1;
        if (ents[i]->linear < lo)
            lo = ents[i]->linear;
        if (ents[i]->linear + (len ? len : 1) - 1 > hi)
            hi = ents[i]->linear + (len ? len : 1) - 1;
    }
    char n[40], a[160], b[160], la[128] = "", lb[128] = "";
    explain_group(times, n, sizeof n);
    explain_label(c, lo, la, sizeof la);
    explain_label(c, hi, lb, sizeof lb);
    snprintf(a, sizeof a, "%s", la[0] ? la : "");
    snprintf(b, sizeof b, "%s", lb[0] ? lb : "");
    if (!a[0])
        snprintf(a, sizeof a, "0x%" PRIx64, lo);
    if (!b[0])
        snprintf(b, sizeof b, "0x%" PRIx64, hi);
    if (period == 1 && ents[0]->key.activity != 0)
        fprintf(out, "      ...  the guest stayed halted at %s for %s more boundaries with the same verdicts"
                     " (instructions %" PRIu64 "..%" PRIu64 ")\n",
                a, n, first_count, last_count);
    else if (period == 1)
        fprintf(out, "      ...  the instruction at %s ran %s more times with the same verdicts"
                     " (instructions %" PRIu64 "..%" PRIu64 ")\n",
                a, n, first_count, last_count);
    else
        fprintf(out, "      ...  the loop %s..%s ran %s more times with the same verdicts"
                     " (instructions %" PRIu64 "..%" PRIu64 ")\n",
                a, b, n, first_count, last_count);
}
