/* YAML text -> a small tree of nodes that keep their line and column (libfyaml's
 * event parser; its document API does not expose the marks of collections). */
#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>
#include "scenario_internal.h"

enum { MAX_DEPTH = 64 };

static ynode *new_node(ytype t, const struct fy_mark *m)
{
    ynode *n = calloc(1, sizeof *n);
    if (n) {
        n->type = t;
        n->line = m ? m->line + 1 : 0;
        n->col = m ? m->column + 1 : 0;
    }
    return n;
}

void scn_yaml_free(ynode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        scn_yaml_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n);
}

static bool add_item(ynode *parent, ynode *child)
{
    ynode **items = realloc(parent->items, (parent->n + 1) * sizeof *items);
    if (!items)
        return false;
    parent->items = items;
    parent->items[parent->n++] = child;
    return true;
}

ynode *scn_ymap_get(const ynode *map, const char *key)
{
    if (!map || map->type != Y_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (map->items[i]->type == Y_SCALAR && strcmp(map->items[i]->text, key) == 0)
            return map->items[i + 1];
    return NULL;
}

ynode *scn_ymap_key(const ynode *map, const char *key)
{
    if (!map || map->type != Y_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (map->items[i]->type == Y_SCALAR && strcmp(map->items[i]->text, key) == 0)
            return map->items[i];
    return NULL;
}

/* The first error libfyaml collected, as the scenario's error. */
static void syntax_error(struct fy_diag *diag, vtx_scenario_error *err, const struct fy_mark *fallback)
{
    void *it = NULL;
    struct fy_diag_error *e = diag ? fy_diag_errors_iterate(diag, &it) : NULL;
    if (e) {
        scn_fail(err, NULL, e->line, e->column, "YAML syntax error: %s", e->msg ? e->msg : "malformed");
        return;
    }
    scn_fail(err, NULL, fallback ? fallback->line + 1 : 0, fallback ? fallback->column + 1 : 0,
             "YAML syntax error");
}

vtx_status scn_yaml_parse(const char *text, size_t len, ynode **root, vtx_scenario_error *err)
{
    *root = NULL;
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = NULL;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag)
        return VTX_ERR_NO_MEMORY;
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {.search_path = "", .flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2, .diag = diag};
    struct fy_parser *fyp = fy_parser_create(&cfg);
    if (!fyp) {
        fy_diag_destroy(diag);
        return VTX_ERR_NO_MEMORY;
    }
    vtx_status st = VTX_OK;
    if (fy_parser_set_string(fyp, text, len) != 0) {
        fy_parser_destroy(fyp);
        fy_diag_destroy(diag);
        return VTX_ERR_NO_MEMORY;
    }
    ynode *stack[MAX_DEPTH];
    int depth = 0, docs = 0;
    ynode *top = NULL;
    struct fy_mark last = {0, 0, 0};
    for (;;) {
        struct fy_event *ev = fy_parser_parse(fyp);
        if (!ev) {
            if (fy_parser_get_stream_error(fyp)) {
                syntax_error(diag, err, &last);
                st = VTX_ERR_PARSE;
            }
            break;
        }
        const struct fy_mark *m = fy_event_start_mark(ev);
        if (m)
            last = *m;
        ynode *n = NULL;
        bool done = false;
        switch (ev->type) {
        case FYET_DOCUMENT_START:
            if (++docs > 1) {
                st = scn_fail(err, NULL, last.line + 1, last.column + 1,
                              "a scenario file holds one YAML document; this is a second one");
            }
            break;
        case FYET_ALIAS:
            st = scn_fail(err, NULL, last.line + 1, last.column + 1, "YAML aliases (*name) are not supported here");
            break;
        case FYET_SCALAR: {
            n = new_node(Y_SCALAR, m);
            size_t l = 0;
            const char *t = fy_token_get_text(ev->scalar.value, &l);
            if (!n || !(n->text = scn_strndup(t ? t : "", t ? l : 0))) {
                st = VTX_ERR_NO_MEMORY;
                break;
            }
            n->len = t ? l : 0;
            enum fy_scalar_style ss = fy_token_scalar_style(ev->scalar.value);
            n->literal = ss == FYSS_LITERAL;
            n->quoted = ss != FYSS_PLAIN;
            break;
        }
        case FYET_SEQUENCE_START:
        case FYET_MAPPING_START:
            n = new_node(ev->type == FYET_SEQUENCE_START ? Y_SEQ : Y_MAP, m);
            if (!n)
                st = VTX_ERR_NO_MEMORY;
            break;
        case FYET_SEQUENCE_END:
        case FYET_MAPPING_END:
            if (depth > 0)
                depth--;
            break;
        case FYET_STREAM_END:
            done = true;
            break;
        default:
            break;
        }
        fy_parser_event_free(fyp, ev);
        if (st == VTX_OK && n && n->line == 0 && depth > 0) {
            /* an empty value has no position of its own: use its key's (or its collection's) */
            const ynode *parent = stack[depth - 1], *near = parent->n ? parent->items[parent->n - 1] : parent;
            n->line = near->line;
            n->col = near->col;
        }
        if (st == VTX_OK && n) {
            bool attached = false;
            if (depth > 0) {
                ynode *parent = stack[depth - 1];
                if (parent->type == Y_MAP && parent->n % 2 == 0) {
                    /* a key: only scalars, and each once */
                    if (n->type != Y_SCALAR)
                        st = scn_fail(err, NULL, n->line, n->col, "a key must be a plain name or number");
                    else
                        for (size_t i = 0; i < parent->n && st == VTX_OK; i += 2)
                            if (strcmp(parent->items[i]->text, n->text) == 0)
                                st = scn_fail(err, NULL, n->line, n->col, "key '%s' appears twice (first at line %d)",
                                              n->text, parent->items[i]->line);
                }
                if (st == VTX_OK) {
                    attached = add_item(parent, n);
                    if (!attached)
                        st = VTX_ERR_NO_MEMORY;
                }
            } else if (!top) {
                top = n;
                attached = true;
            }
            if (!attached) {
                scn_yaml_free(n);
            } else if (n->type != Y_SCALAR) {
                if (depth >= MAX_DEPTH)
                    st = scn_fail(err, NULL, n->line, n->col, "nested more than %d levels deep", MAX_DEPTH);
                else
                    stack[depth++] = n;
            }
        } else if (n) {
            scn_yaml_free(n);
        }
        if (st != VTX_OK || done)
            break;
    }
    fy_parser_destroy(fyp);
    fy_diag_destroy(diag);
    if (st != VTX_OK) {
        scn_yaml_free(top);
        return st;
    }
    *root = top;
    return VTX_OK;
}
