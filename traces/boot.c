/* The `boot` member of a boot trace's header (docs/traces.md "Boot traces"):
 * written by vtx_trace_record_boot(), checked and decoded by the reader. */
#include <string.h>
#include "trace_internal.h"

json_object *trace_json_boot(const vtx_trace_boot *b)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kernel", json_object_new_string(b->kernel));
    json_object_object_add(o, "sha256", json_object_new_string(b->kernel_sha256));
    json_object *mods = json_object_new_array();
    for (uint32_t i = 0; i < b->nmodules && i < VTX_TRACE_BOOT_MODULES; i++) {
        json_object *m = json_object_new_object();
        json_object_object_add(m, "path", json_object_new_string(b->module[i]));
        json_object_object_add(m, "sha256", json_object_new_string(b->module_sha256[i]));
        json_object_array_add(mods, m);
    }
    json_object_object_add(o, "modules", mods);
    json_object_object_add(o, "cmdline", json_object_new_string(b->cmdline));
    json_object_object_add(o, "profile", json_object_new_string(b->profile));
    json_object_object_add(o, "ram_mib", json_object_new_uint64(b->ram_mib));
    json_object_object_add(o, "max_cycles", json_object_new_uint64(b->max_cycles));
    json_object_object_add(o, "max_insns", json_object_new_uint64(b->max_insns));
    json_object_object_add(o, "open_bus", json_object_new_boolean(b->open_bus));
    return o;
}

static bool is_sha256(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* One member of type t, copied when it is a string; false with the reason. */
static bool str(json_object *o, const char *k, char *dst, size_t size, bool sha, char *why, size_t whysize)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string)) {
        snprintf(why, whysize, "member '%s' is missing or not a string", k);
        return false;
    }
    const char *s = json_object_get_string(v);
    if (strlen(s) >= size) {
        snprintf(why, whysize, "member '%s' is longer than %zu characters", k, size - 1);
        return false;
    }
    if (sha && !is_sha256(s)) {
        snprintf(why, whysize, "member '%s' is not 64 lowercase hex digits (a SHA-256): %s", k, s);
        return false;
    }
    snprintf(dst, size, "%s", s);
    return true;
}

static bool num(json_object *o, const char *k, uint64_t *dst, char *why, size_t whysize)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < 0) {
        snprintf(why, whysize, "member '%s' is missing or not a non-negative integer", k);
        return false;
    }
    *dst = json_object_get_uint64(v);
    return true;
}

static bool only(json_object *o, const char *const *keys, const char *what, char *why, size_t whysize)
{
    json_object_object_foreach(o, k, v)
    {
        (void)v;
        bool ok = false;
        for (const char *const *p = keys; *p && !ok; p++)
            ok = strcmp(*p, k) == 0;
        if (!ok) {
            snprintf(why, whysize, "unknown member '%s' in %s", k, what);
            return false;
        }
    }
    return true;
}

bool trace_boot_parse(json_object *o, vtx_trace_boot *b, char *why, size_t whysize)
{
    memset(b, 0, sizeof *b);
    if (!json_object_is_type(o, json_type_object)) {
        snprintf(why, whysize, "member 'boot' must be an object");
        return false;
    }
    static const char *const keys[] = {"kernel", "sha256", "modules", "cmdline", "profile", "ram_mib",
                                       "max_cycles", "max_insns", "open_bus", NULL};
    json_object *mods, *ob;
    if (!only(o, keys, "'boot'", why, whysize) || !str(o, "kernel", b->kernel, sizeof b->kernel, false, why, whysize) ||
        !str(o, "sha256", b->kernel_sha256, sizeof b->kernel_sha256, true, why, whysize) ||
        !str(o, "cmdline", b->cmdline, sizeof b->cmdline, false, why, whysize) ||
        !str(o, "profile", b->profile, sizeof b->profile, false, why, whysize) ||
        !num(o, "ram_mib", &b->ram_mib, why, whysize) || !num(o, "max_cycles", &b->max_cycles, why, whysize) ||
        !num(o, "max_insns", &b->max_insns, why, whysize))
        return false;
    if (!json_object_object_get_ex(o, "open_bus", &ob) || !json_object_is_type(ob, json_type_boolean)) {
        snprintf(why, whysize, "member 'open_bus' is missing or not true/false");
        return false;
    }
    b->open_bus = json_object_get_boolean(ob);
    if (!json_object_object_get_ex(o, "modules", &mods) || !json_object_is_type(mods, json_type_array) ||
        json_object_array_length(mods) > VTX_TRACE_BOOT_MODULES) {
        snprintf(why, whysize, "member 'modules' must be an array of at most %d modules", VTX_TRACE_BOOT_MODULES);
        return false;
    }
    static const char *const mkeys[] = {"path", "sha256", NULL};
    for (size_t i = 0; i < json_object_array_length(mods); i++) {
        json_object *m = json_object_array_get_idx(mods, i);
        if (!json_object_is_type(m, json_type_object) || !only(m, mkeys, "a module", why, whysize) ||
            !str(m, "path", b->module[i], sizeof b->module[i], false, why, whysize) ||
            !str(m, "sha256", b->module_sha256[i], sizeof b->module_sha256[i], true, why, whysize))
            return false;
        b->nmodules = (uint32_t)i + 1;
    }
    return true;
}

bool trace_boot_header(json_object *header, vtx_trace_boot *b, bool *is_boot, char *why, size_t whysize)
{
    json_object *o = NULL;
    *is_boot = json_object_object_get_ex(header, "boot", &o);
    return !*is_boot || trace_boot_parse(o, b, why, whysize);
}
