/* A loaded scenario: accessors, labels, freeing, errors (scenario.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scenario_internal.h"

void scn_set_error(vtx_scenario_error *err, const char *file, int line, int col, const char *fmt, va_list ap)
{
    if (!err)
        return;
    if (file)
        snprintf(err->file, sizeof err->file, "%s", file);
    err->line = line;
    err->column = col;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

vtx_status scn_fail(vtx_scenario_error *err, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    scn_set_error(err, file, line, col, fmt, ap);
    va_end(ap);
    return VTX_ERR_PARSE;
}

char *scn_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

char *scn_strdup(const char *s) { return s ? scn_strndup(s, strlen(s)) : NULL; }

void *scn_push(void **arr, size_t *n, size_t size)
{
    char *a = realloc(*arr, (*n + 1) * size);
    if (!a)
        return NULL;
    *arr = a;
    memset(a + *n * size, 0, size);
    return a + (*n)++ * size;
}

int vtx_scenario_error_format(const vtx_scenario_error *err, char *buf, size_t size)
{
    if (!err)
        return snprintf(buf, size, "?");
    if (err->line > 0 && err->column > 0)
        return snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line, err->column, err->message);
    if (err->line > 0)
        return snprintf(buf, size, "%s:%d: %s", err->file, err->line, err->message);
    return snprintf(buf, size, "%s: %s", err->file, err->message);
}

static void free_mem(scn_mem *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].at.label);
        free(m[i].bytes);
    }
    free(m);
}

static void free_expect(scn_expect *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->cmps[i].addr.label);
        free(e->cmps[i].bytes);
    }
    free(e->cmps);
}

void vtx_scenario_free(vtx_scenario *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->description);
    free(s->source);
    free(s->base_dir);
    free(s->regs.rip.label);
    for (size_t i = 0; i < s->nblocks; i++) {
        free(s->blocks[i].what);
        free(s->blocks[i].src);
        free(s->blocks[i].bytes);
    }
    free(s->blocks);
    for (size_t i = 0; i < s->nlabels; i++)
        free(s->labels[i].name);
    free(s->labels);
    free_mem(s->mem, s->nmem);
    free(s->fields);
    free(s->events);
    for (size_t i = 0; i < s->nreactions; i++) {
        scn_reaction *r = &s->reactions[i];
        free(r->rip.label);
        for (size_t j = 0; j < r->nsteps; j++) {
            free(r->steps[j].writes);
            free(r->steps[j].regs.rip.label);
            free_mem(r->steps[j].mem, r->steps[j].nmem);
        }
        free(r->steps);
    }
    free(s->reactions);
    for (size_t i = 0; i < s->nexp; i++)
        free_expect(&s->exp[i]);
    free(s->exp);
    free(s->findings);
    free_expect(&s->vmfail);
    free_expect(&s->end);
    free(s);
}

const char *vtx_scenario_name(const vtx_scenario *s) { return s && s->name ? s->name : ""; }
const char *vtx_scenario_description(const vtx_scenario *s) { return s && s->description ? s->description : ""; }
const char *vtx_scenario_source(const vtx_scenario *s) { return s && s->source ? s->source : ""; }
bool vtx_scenario_has_expectations(const vtx_scenario *s) { return s && s->has_expect; }

const scn_label *scn_label_find(const vtx_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return &s->labels[i];
    return NULL;
}

bool vtx_scenario_label(const vtx_scenario *s, uint64_t linear, char *buf, size_t size)
{
    if (buf && size)
        buf[0] = 0;
    if (!s)
        return false;
    const scn_label *best = NULL;
    for (size_t i = 0; i < s->nlabels; i++) {
        const scn_label *l = &s->labels[i];
        const scn_block *b = &s->blocks[l->block];
        if (linear < b->linear || linear > b->linear + b->size || l->linear > linear)
            continue;
        /* the nearest label before it; of labels at one address, the first defined */
        if (!best || l->linear > best->linear)
            best = l;
    }
    if (!best)
        return false;
    if (buf && size) {
        if (linear == best->linear)
            snprintf(buf, size, "%s", best->name);
        else
            snprintf(buf, size, "%s+0x%llx", best->name, (unsigned long long)(linear - best->linear));
    }
    return true;
}

void scn_addr_text(const vtx_scenario *s, uint64_t v, uint64_t cs_base, char *buf, size_t size)
{
    char l[128];
    if (vtx_scenario_label(s, cs_base + v, l, sizeof l))
        snprintf(buf, size, "0x%llx (%s)", (unsigned long long)v, l);
    else
        snprintf(buf, size, "0x%llx", (unsigned long long)v);
}

bool vtx_scenario_label_address(const vtx_scenario *s, const char *expr, uint64_t *linear, uint64_t *rip)
{
    if (!s || !expr)
        return false;
    size_t n = strcspn(expr, "+-");
    char name[128];
    if (n == 0 || n >= sizeof name)
        return false;
    memcpy(name, expr, n);
    name[n] = 0;
    const scn_label *l = scn_label_find(s, name);
    if (!l)
        return false;
    int64_t off = 0;
    if (expr[n]) {
        char *end;
        unsigned long long o = strtoull(expr + n + 1, &end, 0);
        if (end == expr + n + 1 || *end || expr[n + 1] == '-' || expr[n + 1] == '+')
            return false;
        off = expr[n] == '+' ? (int64_t)o : -(int64_t)o;
    }
    if (linear)
        *linear = l->linear + (uint64_t)off;
    if (rip)
        *rip = l->value + (uint64_t)off;
    return true;
}
