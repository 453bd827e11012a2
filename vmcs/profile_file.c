/*
 * Profile files: a line-oriented "key = value" text (docs/profiles.md).
 * Every error names the source, the line and the key.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "vmcs_internal.h"

enum key_kind { KEY_NAME, KEY_DESCRIPTION, KEY_BASE, KEY_PAW, KEY_MSR, KEY_KNOB };

typedef struct parse_state {
    const char *source;
    vtx_diag *diag;
    int seen_line[VTX_CAP_MSR_COUNT + VTX_KNOB_COUNT + 4];
} parse_state;

static vtx_status perr(parse_state *ps, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static vtx_status perr(parse_state *ps, int line, const char *fmt, ...)
{
    if (ps->diag) {
        int n = snprintf(ps->diag->message, sizeof ps->diag->message, "%s:%d: ", ps->source, line);
        if (n < 0 || (size_t)n >= sizeof ps->diag->message)
            n = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->diag->message + n, sizeof ps->diag->message - (size_t)n, fmt, ap);
        va_end(ap);
        ps->diag->line = line;
        ps->diag->rule = NULL;
    }
    return VTX_ERR_PARSE;
}

static const char *const msr_names[] = {
#define VTX_X_MN(n, i, d) #n,
    VTX_CAP_MSRS(VTX_X_MN)
#undef VTX_X_MN
};
static const uint32_t msr_index[] = {
#define VTX_X_MI(n, i, d) i,
    VTX_CAP_MSRS(VTX_X_MI)
#undef VTX_X_MI
};

/* Which key is this? *which receives the MSR or knob position. */
static bool classify(const char *key, enum key_kind *kind, int *which)
{
    if (strcasecmp(key, "name") == 0) { *kind = KEY_NAME; return true; }
    if (strcasecmp(key, "description") == 0) { *kind = KEY_DESCRIPTION; return true; }
    if (strcasecmp(key, "base") == 0) { *kind = KEY_BASE; return true; }
    if (strcasecmp(key, "physical-address-width") == 0) { *kind = KEY_PAW; return true; }
    for (int i = 0; i < VTX_CAP_MSR_COUNT; i++) {
        char num[16];
        snprintf(num, sizeof num, "0x%x", msr_index[i]);
        if (strcasecmp(key, msr_names[i]) == 0 || strcasecmp(key, num) == 0) {
            *kind = KEY_MSR;
            *which = i;
            return true;
        }
    }
    for (int i = 0; i < VTX_KNOB_COUNT; i++) {
        if (strcasecmp(key, vtx_knob_id((unsigned)i)) == 0) {
            *kind = KEY_KNOB;
            *which = i;
            return true;
        }
    }
    return false;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"}, *const no[] = {"off", "false", "no", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = true; return true; }
        if (strcasecmp(s, no[i]) == 0) { *out = false; return true; }
    }
    return false;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Keys every processor with VMX has, required when there is no base profile. */
static const vtx_cap_msr required_msrs[] = {
    VTX_CAP_IA32_VMX_BASIC, VTX_CAP_IA32_VMX_PINBASED_CTLS, VTX_CAP_IA32_VMX_PROCBASED_CTLS,
    VTX_CAP_IA32_VMX_EXIT_CTLS, VTX_CAP_IA32_VMX_ENTRY_CTLS, VTX_CAP_IA32_VMX_MISC,
    VTX_CAP_IA32_VMX_CR0_FIXED0, VTX_CAP_IA32_VMX_CR0_FIXED1, VTX_CAP_IA32_VMX_CR4_FIXED0,
    VTX_CAP_IA32_VMX_CR4_FIXED1, VTX_CAP_IA32_VMX_VMCS_ENUM,
};

static vtx_status parse_line(parse_state *ps, int line, char *text, vtx_profile *p, bool *have_base,
                             bool *any_setting)
{
    char *hash = strchr(text, '#');
    if (hash)
        *hash = '\0';
    char *s = trim(text);
    if (!*s)
        return VTX_OK;
    char *eq = strchr(s, '=');
    if (!eq)
        return perr(ps, line, "expected 'key = value', got '%.60s'", s);
    *eq = '\0';
    char *key = trim(s), *val = trim(eq + 1);
    if (!*key)
        return perr(ps, line, "missing key before '='");
    enum key_kind kind;
    int which = 0;
    if (!classify(key, &kind, &which))
        return perr(ps, line, "unknown key '%.60s' (expected name, description, base, "
                    "physical-address-width, an IA32_VMX_* capability MSR or a CFG-* knob)", key);
    int slot = kind == KEY_MSR ? which : kind == KEY_KNOB ? VTX_CAP_MSR_COUNT + which
                                                          : VTX_CAP_MSR_COUNT + VTX_KNOB_COUNT + (int)kind;
    if (ps->seen_line[slot])
        return perr(ps, line, "'%s' given twice (first on line %d)", key, ps->seen_line[slot]);
    ps->seen_line[slot] = line;
    if (!*val)
        return perr(ps, line, "'%s' has no value", key);

    switch (kind) {
    case KEY_BASE: {
        if (*any_setting)
            return perr(ps, line, "'base' must come before every other setting");
        const vtx_profile *b;
        if (vtx_profile_find(val, &b, NULL) != VTX_OK)
            return perr(ps, line, "base profile '%.60s' is not a built-in profile", val);
        *p = *b;
        *have_base = true;
        return VTX_OK;
    }
    case KEY_NAME: {
        size_t n = strlen(val);
        if (n >= sizeof p->name)
            return perr(ps, line, "name '%.60s' is longer than %zu characters", val, sizeof p->name - 1);
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char)val[i]) && !strchr("._-", val[i]))
                return perr(ps, line, "name '%.60s' may contain only letters, digits, '.', '_' and '-'", val);
        memset(p->name, 0, sizeof p->name); /* parsed profiles are byte-for-byte canonical */
        memcpy(p->name, val, n + 1);
        break;
    }
    case KEY_DESCRIPTION:
        if (strlen(val) >= sizeof p->description)
            return perr(ps, line, "description is longer than %zu characters", sizeof p->description - 1);
        memset(p->description, 0, sizeof p->description);
        strcpy(p->description, val);
        break;
    case KEY_PAW: {
        uint64_t v;
        if (!parse_u64(val, &v) || v < 32 || v > 52)
            return perr(ps, line, "physical-address-width '%.60s' is not a number in 32..52", val);
        p->phys_addr_width = (uint8_t)v;
        break;
    }
    case KEY_MSR: {
        uint64_t v;
        if (!parse_u64(val, &v))
            return perr(ps, line, "%s: '%.60s' is not a 64-bit number (write it as 0x...)", msr_names[which], val);
        p->msr[which] = v;
        break;
    }
    case KEY_KNOB: {
        bool on;
        if (!parse_bool(val, &on))
            return perr(ps, line, "%s: '%.60s' is not on or off", vtx_knob_id((unsigned)which), val);
        if (on)
            p->knobs |= 1u << which;
        else
            p->knobs &= ~(1u << which);
        break;
    }
    }
    *any_setting = true;
    return VTX_OK;
}

vtx_status vtx_profile_parse(const char *text, size_t len, const char *source, vtx_profile *out,
                             vtx_diag *diag)
{
    if (!text || !out)
        return VTX_ERR_INVALID_ARG;
    parse_state ps = {.source = source ? source : "<profile>", .diag = diag};
    if (diag)
        diag->message[0] = '\0';
    vtx_profile p;
    memset(&p, 0, sizeof p);
    p.knobs = VTX_KNOBS_DEFAULT;
    bool have_base = false, any = false;
    int line = 0;
    size_t pos = 0;
    char buf[1024];
    while (pos < len) {
        line++;
        size_t start = pos;
        while (pos < len && text[pos] != '\n')
            pos++;
        size_t n = pos - start;
        if (pos < len)
            pos++; /* skip '\n' */
        if (n && text[start + n - 1] == '\r')
            n--;
        if (memchr(text + start, '\0', n))
            return perr(&ps, line, "contains a NUL byte; a profile is text");
        if (n >= sizeof buf)
            return perr(&ps, line, "line is longer than %zu characters", sizeof buf - 1);
        memcpy(buf, text + start, n);
        buf[n] = '\0';
        vtx_status st = parse_line(&ps, line, buf, &p, &have_base, &any);
        if (st != VTX_OK)
            return st;
    }
    if (!have_base) {
        if (!any)
            return perr(&ps, line ? line : 1, "no settings (an empty profile)");
        if (!ps.seen_line[VTX_CAP_MSR_COUNT + VTX_KNOB_COUNT + KEY_NAME])
            return perr(&ps, line, "missing 'name'");
        if (!ps.seen_line[VTX_CAP_MSR_COUNT + VTX_KNOB_COUNT + KEY_PAW])
            return perr(&ps, line, "missing 'physical-address-width'");
        for (size_t i = 0; i < sizeof required_msrs / sizeof required_msrs[0]; i++)
            if (!ps.seen_line[required_msrs[i]])
                return perr(&ps, line, "missing %s (every VMX processor has it; or start with 'base = NAME')",
                            msr_names[required_msrs[i]]);
    }
    vtx_diag vd;
    vtx_status st = vtx_profile_validate(&p, &vd);
    if (st != VTX_OK) {
        if (diag) {
            snprintf(diag->message, sizeof diag->message, "%.100s: %.400s", ps.source, vd.message);
            diag->line = 0;
            diag->rule = vd.rule;
        }
        return st;
    }
    *out = p;
    return VTX_OK;
}

vtx_status vtx_profile_load_file(const char *path, vtx_profile *out, vtx_diag *diag)
{
    if (!path || !out)
        return VTX_ERR_INVALID_ARG;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (diag) {
            snprintf(diag->message, sizeof diag->message, "%s: cannot open: %s", path, strerror(errno));
            diag->line = 0;
            diag->rule = NULL;
        }
        return VTX_ERR_IO;
    }
    enum { MAX_PROFILE = 1 << 20 };
    char *buf = malloc(MAX_PROFILE + 1);
    if (!buf) {
        fclose(f);
        return VTX_ERR_NO_MEMORY;
    }
    size_t n = fread(buf, 1, MAX_PROFILE + 1, f);
    int rerr = ferror(f);
    fclose(f);
    vtx_status st;
    if (rerr) {
        if (diag) {
            snprintf(diag->message, sizeof diag->message, "%s: read error", path);
            diag->line = 0;
            diag->rule = NULL;
        }
        st = VTX_ERR_IO;
    } else if (n > MAX_PROFILE) {
        if (diag) {
            snprintf(diag->message, sizeof diag->message, "%s: larger than 1 MiB; not a profile", path);
            diag->line = 0;
            diag->rule = NULL;
        }
        st = VTX_ERR_PARSE;
    } else {
        st = vtx_profile_parse(buf, n, path, out, diag);
    }
    free(buf);
    return st;
}

vtx_status vtx_profile_resolve(const char *name_or_path, vtx_profile *out, vtx_diag *diag)
{
    if (!name_or_path || !out)
        return VTX_ERR_INVALID_ARG;
    const vtx_profile *b;
    if (vtx_profile_find(name_or_path, &b, NULL) == VTX_OK) {
        *out = *b;
        return VTX_OK;
    }
    /* Not a built-in name: a path if it looks like one, else report the names. */
    if (!strchr(name_or_path, '/') && !strchr(name_or_path, '.'))
        return vtx_profile_find(name_or_path, &b, diag);
    return vtx_profile_load_file(name_or_path, out, diag);
}

vtx_status vtx_profile_write(const vtx_profile *p, FILE *out)
{
    if (!p || !out)
        return VTX_ERR_INVALID_ARG;
    fprintf(out, "# vtxref CPU profile (format: docs/profiles.md)\n");
    fprintf(out, "name = %s\n", p->name);
    if (p->description[0])
        fprintf(out, "description = %s\n", p->description);
    fprintf(out, "physical-address-width = %u\n\n", p->phys_addr_width);
    fprintf(out, "# Capability MSRs (SDM Vol. 3 Appendix A)\n");
    for (int i = 0; i < VTX_CAP_MSR_COUNT; i++) {
        uint64_t v;
        if (vtx_profile_read_msr(p, msr_index[i], &v) == VTX_OK)
            fprintf(out, "%-28s = 0x%016llx\n", msr_names[i], (unsigned long long)v);
    }
    fprintf(out, "\n# Behaviour the SDM leaves to the implementation (rules catalogue section 0.1)\n");
    for (unsigned i = 0; i < VTX_KNOB_COUNT; i++)
        fprintf(out, "%-18s = %-3s  # %s\n", vtx_knob_id(i), (p->knobs >> i) & 1 ? "on" : "off",
                vtx_knob_description(i));
    return ferror(out) ? VTX_ERR_IO : VTX_OK;
}
