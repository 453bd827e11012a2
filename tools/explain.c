/*
 * vtxref explain: the explainer (tools/explain.h). It receives the runner's
 * callbacks, keeps the last boundaries in a ring, tracks where blocking came
 * from, limits output to --from/--to, and collapses repeats:
 *
 * A boundary whose key (RIP, IF, blocking, activity, action, winner and every
 * event's verdict; explain_key) equals the key P boundaries back (P = 1..64,
 * smallest first) starts a tentative repeat of period P. While each new boundary
 * equals the one P back, it is held, not printed; once a repeat breaks (or an
 * exit, the end of the window or the end of the run comes), the held complete
 * periods become one line ("... the loop busy..busy+3 ran 999 998 more times")
 * and the held partial period is printed in full. Nothing in the hot path
 * allocates or formats text, so a 10^6-iteration loop costs a memcmp or two per
 * boundary.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "explain.h"

#define RING 256u     /* boundaries remembered (power of two) */
#define MAX_PERIOD 64 /* longest loop body (in boundaries) that is collapsed */

struct explainer {
    explain_ctx ctx;
    vtx_scenario_view view; /* a copy: the runner's struct may not outlive on_start (its RAM does) */
    FILE *out;
    explain_pos from, to;
    bool started, ended;   /* the --from / --to window */
    bool end_after_exit;   /* --to matched a boundary that exits: show that exit, then end */
    bool last_executes;    /* the last boundary let its instruction execute */
    uint64_t last_linear;
    uint64_t hidden_boundaries, hidden_exits;
    /* where blocking came from */
    bool have_prev;
    uint64_t prev_linear;
    uint32_t prev_intr;
    explain_src sti_src, movss_src, nmi_src;
    uint64_t sti_at, movss_at, nmi_since;
    bool prev_delivered_nmi;
    /* the ring and the repeat being collapsed */
    explain_entry ring[RING];
    uint64_t n;            /* entries pushed (in the window) */
    size_t period;         /* 0: no repeat */
    uint64_t held;         /* boundaries held in the repeat */
    uint64_t held_from;    /* instruction count of the first held boundary */
    uint64_t window_start; /* n when the window (or the last flush) began: no match reaches before it */
    /* expectations met, gathered per exit and printed as one line */
    uint32_t ok_exit;
    char ok_list[1024];
};

explainer *explainer_new(const vtx_scenario *s, FILE *out, const explain_pos *from, const explain_pos *to)
{
    explainer *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->ctx.s = s;
    ex->out = out;
    ex->from = *from;
    ex->to = *to;
    ex->started = from->kind == EXPLAIN_POS_NONE;
    return ex;
}

void explainer_free(explainer *ex)
{
    free(ex);
}

void explainer_header(explainer *ex)
{
    char title[600];
    snprintf(title, sizeof title, "Scenario %s (%s)", vtx_scenario_name(ex->ctx.s), vtx_scenario_source(ex->ctx.s));
    explainer_header_titled(ex, title, vtx_scenario_description(ex->ctx.s));
}

void explainer_header_titled(explainer *ex, const char *title, const char *d)
{
    FILE *o = ex->out;
    fprintf(o, "%s\n", title);
    if (d && d[0]) {
        fprintf(o, "\n");
        /* indent each line of the description */
        const char *p = d;
        while (*p) {
            size_t n = strcspn(p, "\n");
            fprintf(o, "  %.*s\n", (int)n, p);
            p += n;
            if (*p == '\n')
                p++;
        }
    }
    fprintf(o, "\nEach instruction boundary: instructions retired so far, the next instruction's address\n"
               "(and label), the instruction, RFLAGS.IF, blocking (STI, MOV-SS, NMI), activity state, and what\n"
               "the model decided; below it, every pending event and the rule that decided its fate.\n\n");
    fprintf(o, "%9s  %-26s %-26s %-4s %-10s %-8s %s\n", "count", "address", "instruction", "IF", "blocking",
            "activity", "decision");
}

/* ---- printing and collapsing ---- */

static explain_entry *at(explainer *ex, uint64_t i)
{
    return &ex->ring[i & (RING - 1)];
}

/* End the repeat being held: one line for its complete periods, the partial period in full. */
static void flush_repeat(explainer *ex)
{
    if (!ex->period)
        return;
    uint64_t full = ex->held / ex->period, part = ex->held % ex->period;
    if (full < 2) { /* one repeat is shown as it is */
        part = ex->held;
        full = 0;
    }
    if (full) {
        /* The last complete period is still in the ring (the first may not be); same keys. */
        uint64_t last = ex->n - part - ex->period;
        const explain_entry *ents[MAX_PERIOD];
        for (size_t i = 0; i < ex->period; i++)
            ents[i] = at(ex, last + i);
        explain_print_repeat(&ex->ctx, ex->out, ents, ex->period, full, ex->held_from,
                             at(ex, ex->n - part - 1)->instructions);
    }
    for (uint64_t i = ex->n - part; i < ex->n; i++)
        explain_print_boundary(&ex->ctx, ex->out, at(ex, i));
    ex->period = 0;
    ex->held = 0;
}

static void flush_checks(explainer *ex)
{
    if (!ex->ok_list[0])
        return;
    if (ex->ok_exit)
        fprintf(ex->out, "    as expected at exit %u: %s\n", ex->ok_exit, ex->ok_list);
    else
        fprintf(ex->out, "    as expected at the end: %s\n", ex->ok_list);
    ex->ok_list[0] = 0;
}

/* Everything held is printed; no later boundary is compared with what came before. */
static void flush_all(explainer *ex)
{
    flush_checks(ex);
    flush_repeat(ex);
    ex->window_start = ex->n;
}

static void push(explainer *ex, const explain_entry *e)
{
    if (ex->period) {
        if (memcmp(&at(ex, ex->n - ex->period)->key, &e->key, sizeof e->key) == 0) {
            *at(ex, ex->n++) = *e;
            ex->held++;
            return;
        }
        flush_repeat(ex);
    }
    for (size_t p = 1; p <= MAX_PERIOD && ex->n >= ex->window_start + p; p++) {
        const explain_entry *old = at(ex, ex->n - p);
        if (old->key.rip == e->key.rip && memcmp(&old->key, &e->key, sizeof e->key) == 0) {
            ex->period = p;
            ex->held = 1;
            ex->held_from = e->instructions;
            *at(ex, ex->n++) = *e;
            return;
        }
    }
    *at(ex, ex->n++) = *e;
    explain_print_boundary(&ex->ctx, ex->out, e);
}

/* ---- the window ---- */

int explain_parse_pos(const char *cmd, const char *opt, const char *v, explain_pos *p)
{
    if (!v || !*v) {
        fprintf(stderr, "%s: %s: %s needs a count, an address or a label\n", prog, cmd, opt);
        return -1;
    }
    char *end;
    if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        p->kind = EXPLAIN_POS_ADDR;
        p->value = strtoull(v, &end, 16);
    } else if (v[0] >= '0' && v[0] <= '9') {
        p->kind = EXPLAIN_POS_COUNT;
        p->value = strtoull(v, &end, 10);
    } else {
        /* LABEL or LABEL+N / LABEL-N */
        size_t n = strcspn(v, "+-");
        if (n == 0 || n >= sizeof p->label) {
            fprintf(stderr, "%s: %s: %s '%s' is not a count, an address or a label\n", prog, cmd, opt, v);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            char ch = v[i];
            bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '.' || ch == '?' ||
                      ch == '@' || ch == '$' || (i > 0 && ((ch >= '0' && ch <= '9') || ch == '#' || ch == '~'));
            if (!ok) {
                fprintf(stderr, "%s: %s: %s '%s' is not a count, an address or a label\n", prog, cmd, opt, v);
                return -1;
            }
        }
        memcpy(p->label, v, n);
        p->label[n] = 0;
        p->kind = EXPLAIN_POS_LABEL;
        p->offset = 0;
        end = (char *)v + n;
        if (v[n]) {
            long long off = strtoll(v + n + 1, &end, 0);
            p->offset = v[n] == '-' ? -off : off;
            if (end == v + n + 1)
                end = (char *)"x"; /* "busy+" */
        }
    }
    if (*end) {
        fprintf(stderr, "%s: %s: %s '%s' is not a count, an address or a label\n", prog, cmd, opt, v);
        return -1;
    }
    return 0;
}


/* Labels were turned into addresses by cmd_explain. */
static bool pos_matches(const explain_pos *p, const vtx_boundary_report *r, uint64_t linear)
{
    switch (p->kind) {
    case EXPLAIN_POS_COUNT:
        return r->instructions >= p->value;
    case EXPLAIN_POS_ADDR:
        return linear == p->value || r->rip == p->value;
    default:
        return false;
    }
}

static void end_window(explainer *ex)
{
    ex->ended = true;
    fprintf(ex->out, "      ...  (--to reached: later boundaries and exits not shown)\n");
}

/* ---- callbacks ---- */

static void on_start(void *user, const vtx_scenario *s, const vtx_scenario_view *view)
{
    explainer *ex = user;
    (void)s;
    ex->view = *view;
    ex->ctx.view = &ex->view;
}

static void observe(void *user, const vtx_boundary_report *r)
{
    explainer *ex = user;
    uint64_t cs_base = ex->ctx.view ? ex->ctx.view->cs_base : 0;
    uint64_t linear = cs_base + r->rip;

    /* Where the blocking at this boundary came from (tracked in and out of the window). */
    uint32_t intr = r->interruptibility;
    if (r->after_entry) {
        ex->sti_src = (intr & 1) ? EXPLAIN_SRC_ENTRY : EXPLAIN_SRC_UNKNOWN;
        ex->movss_src = (intr & 2) ? EXPLAIN_SRC_ENTRY : EXPLAIN_SRC_UNKNOWN;
        if (intr & 8) {
            if (!(ex->have_prev && (ex->prev_intr & 8)))
                ex->nmi_src = EXPLAIN_SRC_ENTRY;
        } else {
            ex->nmi_src = EXPLAIN_SRC_UNKNOWN;
        }
    } else if (ex->have_prev) {
        if ((intr & 1) && !(ex->prev_intr & 1)) {
            ex->sti_src = EXPLAIN_SRC_INSN;
            ex->sti_at = ex->prev_linear;
        }
        if ((intr & 2) && !(ex->prev_intr & 2)) {
            ex->movss_src = EXPLAIN_SRC_INSN;
            ex->movss_at = ex->prev_linear;
        }
        if ((intr & 8) && !(ex->prev_intr & 8)) {
            ex->nmi_src = ex->prev_delivered_nmi ? EXPLAIN_SRC_DELIVERY : EXPLAIN_SRC_UNKNOWN;
            ex->nmi_since = r->instructions;
        }
    }
    ex->have_prev = true;
    ex->prev_linear = linear;
    ex->prev_intr = intr;
    ex->prev_delivered_nmi = r->action == VTX_ACT_DELIVER && r->winner == VTX_EV_NMI;
    ex->last_executes = r->action == VTX_ACT_EXECUTE;
    ex->last_linear = linear;

    /* The window. */
    if (!ex->started) {
        if (!pos_matches(&ex->from, r, linear)) {
            ex->hidden_boundaries++;
            return;
        }
        ex->started = true;
        fprintf(ex->out, "      ...  (%" PRIu64 " boundaries before --from not shown)\n", ex->hidden_boundaries);
    }
    if (ex->ended) {
        ex->hidden_boundaries++;
        return;
    }

    if (ex->ok_list[0])
        flush_checks(ex);
    explain_entry e;
    memset(&e, 0, sizeof e);
    e.key.rip = r->rip;
    e.key.interruptibility = intr;
    e.key.activity = r->activity;
    e.key.if_flag = (uint8_t)((r->rflags >> 9) & 1);
    e.key.after_entry = r->after_entry;
    e.key.action = (uint8_t)r->action;
    e.key.winner = (int8_t)r->winner;
    for (int i = 0; i < VTX_EV_COUNT; i++) {
        e.key.states[i] = (uint8_t)r->events[i].state;
        if (r->events[i].state != VTX_EVS_IDLE) {
            e.key.rules[i] = r->events[i].rule;
            e.key.whys[i] = r->events[i].why;
        }
    }
    e.linear = linear;
    e.instructions = r->instructions;
    e.cycle = r->cycle;
    e.rflags = r->rflags;
    e.sti_src = ex->sti_src;
    e.sti_at = ex->sti_at;
    e.movss_src = ex->movss_src;
    e.movss_at = ex->movss_at;
    e.nmi_src = ex->nmi_src;
    e.nmi_since = ex->nmi_since;
    push(ex, &e);

    if (ex->to.kind != EXPLAIN_POS_NONE && pos_matches(&ex->to, r, linear)) {
        flush_all(ex);
        if (r->action == VTX_ACT_EXIT)
            ex->end_after_exit = true;
        else
            end_window(ex);
    }
}

static bool showing(const explainer *ex)
{
    return ex->started && !ex->ended;
}

static void on_exit_cb(void *user, const vtx_scenario_exit *x)
{
    explainer *ex = user;
    if (!showing(ex)) {
        ex->hidden_exits++;
        return;
    }
    flush_all(ex);
    char buf[4096];
    vtx_scenario_exit_format(x, "    ", buf, sizeof buf);
    if (ex->last_executes && !(x->reason & 0x80000000u)) {
        char addr[160];
        explain_addr(&ex->ctx, ex->last_linear, addr, sizeof addr);
        fprintf(ex->out, "           the instruction at %s causes this exit itself (an instruction or exception exit).\n",
                addr);
    }
    ex->last_executes = false;
    fprintf(ex->out, "\n  VM %s", buf + 4);
    if (ex->end_after_exit) {
        ex->end_after_exit = false;
        end_window(ex);
    }
    if (buf[0] && buf[strlen(buf) - 1] != '\n')
        fputc('\n', ex->out);
}

static void on_action(void *user, uint32_t exit_index, const char *text)
{
    explainer *ex = user;
    if (!showing(ex))
        return;
    flush_all(ex);
    fprintf(ex->out, "    the VMM (after exit %u): %s\n", exit_index, text);
}

static void on_check(void *user, const vtx_scenario_check *c)
{
    explainer *ex = user;
    if (!showing(ex) && c->ok)
        return;
    if (c->ok) {
        flush_repeat(ex);
        if (ex->ok_list[0] && ex->ok_exit != c->exit_index)
            flush_checks(ex);
        ex->ok_exit = c->exit_index;
        size_t n = strlen(ex->ok_list);
        snprintf(ex->ok_list + n, sizeof ex->ok_list - n, "%s%s = %s", n ? ", " : "", c->what, c->actual);
        return;
    }
    flush_all(ex);
    fprintf(ex->out, "    MISMATCH: %s\n", c->sentence);
}

void explainer_set_labels(explainer *ex, bool (*label)(void *user, uint64_t linear, char *buf, size_t size),
                          void *user)
{
    ex->ctx.label = label;
    ex->ctx.label_user = user;
}

void explainer_line(explainer *ex, const char *text)
{
    if (!showing(ex))
        return;
    flush_all(ex);
    fprintf(ex->out, "    %s\n", text);
}

void explainer_callbacks(explainer *ex, vtx_scenario_callbacks *cb)
{
    memset(cb, 0, sizeof *cb);
    cb->user = ex;
    cb->on_start = on_start;
    cb->on_exit = on_exit_cb;
    cb->on_action = on_action;
    cb->on_check = on_check;
    cb->observer = observe;
}

void explainer_finish(explainer *ex)
{
    flush_all(ex);
    if (ex->hidden_exits)
        fprintf(ex->out, "      ...  (%" PRIu64 " VM exit%s outside --from/--to not shown)\n", ex->hidden_exits,
                ex->hidden_exits == 1 ? "" : "s");
}
