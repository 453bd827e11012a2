/* Names a scenario file may use: control bits (arch.h), exit reasons, checks,
 * activity states, interruptibility bits, event types, registers, exit keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "scenario_internal.h"

static const char *const ctl_keys[VTX_CTL_FIELD_COUNT_] = {"pin", "proc", "proc2", "exit", "entry"};

bool scn_ctl_field_by_key(const char *key, vtx_ctl_field *f)
{
    for (int i = 0; i < VTX_CTL_FIELD_COUNT_; i++)
        if (strcmp(key, ctl_keys[i]) == 0) {
            *f = (vtx_ctl_field)i;
            return true;
        }
    return false;
}

const char *scn_ctl_key(vtx_ctl_field f) { return (unsigned)f < VTX_CTL_FIELD_COUNT_ ? ctl_keys[f] : "?"; }

/* Case-insensitive, and '-', '_' and ' ' are the same ("interrupt-window exiting",
 * "INTERRUPT_WINDOW_EXITING"). */
static bool same_name(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a, y = *b;
        if (x == '-' || x == '_')
            x = ' ';
        if (y == '-' || y == '_')
            y = ' ';
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
        if (!x)
            return true;
    }
}

bool scn_control_by_name(vtx_ctl_field f, const char *name, unsigned *bit)
{
    for (unsigned b = 0; b < 32; b++) {
        const char *n = vtx_control_bit_name(f, b);
        if (n && same_name(n, name)) {
            *bit = b;
            return true;
        }
    }
    return false;
}

bool scn_exit_reason_by_name(const char *name, uint32_t *reason)
{
    for (uint32_t r = 0; r < 128; r++) {
        const char *n = vtx_exit_reason_name(r);
        if (n && same_name(n, name)) {
            *reason = r;
            return true;
        }
    }
    return false;
}

bool scn_check_by_name(const char *name, vtx_check *check)
{
    const char *n = name;
    if (strncasecmp(n, "VTX_CHECK_", 10) == 0)
        n += 10;
    for (int c = 0; c < VTX_CHECK_COUNT_; c++) {
        const char *cn = vtx_check_name((vtx_check)c);
        if (cn && same_name(cn, n)) {
            *check = (vtx_check)c;
            return true;
        }
    }
    return false;
}

static const char *const activity_names[] = {"active", "hlt", "shutdown", "wait-for-sipi"};

bool scn_activity_by_name(const char *name, uint32_t *v)
{
    for (uint32_t i = 0; i < 4; i++)
        if (same_name(activity_names[i], name)) {
            *v = i;
            return true;
        }
    return false;
}

const char *scn_activity_name(uint32_t v) { return v < 4 ? activity_names[v] : "?"; }

bool scn_intr_bit_by_name(const char *name, uint32_t *bit)
{
    static const char *const names[] = {"sti", "mov-ss", "smi", "nmi"};
    for (uint32_t i = 0; i < 4; i++)
        if (same_name(names[i], name)) {
            *bit = 1u << i;
            return true;
        }
    return false;
}

bool scn_event_type_by_name(const char *name, uint32_t *type)
{
    for (uint32_t i = 0; i < 8; i++)
        if (i != 1 && same_name(vtx_interruption_type_name(i), name)) {
            *type = i;
            return true;
        }
    return false;
}

static const char *const reg_names[SCN_REG_COUNT] = {
#define SCN_X_REGNAME(n) #n,
    SCN_REGS(SCN_X_REGNAME)
#undef SCN_X_REGNAME
};

bool scn_reg_by_name(const char *name, scn_reg *r)
{
    for (int i = 0; i < SCN_REG_COUNT; i++)
        if (strcasecmp(reg_names[i], name) == 0) {
            *r = (scn_reg)i;
            return true;
        }
    return false;
}

const char *scn_reg_name(scn_reg r) { return (unsigned)r < SCN_REG_COUNT ? reg_names[r] : "?"; }

static const char *const key_names[SCN_K_COUNT] = {
#define SCN_X_KEYNAME(k, m) #k,
    SCN_EXIT_KEYS(SCN_X_KEYNAME)
#undef SCN_X_KEYNAME
};

const char *scn_key_name(scn_key k) { return (unsigned)k < SCN_K_COUNT ? key_names[k] : "?"; }

bool scn_key_by_name(const char *name, scn_key *k)
{
    for (int i = 0; i < SCN_K_COUNT; i++)
        if (strcmp(key_names[i], name) == 0) {
            *k = (scn_key)i;
            return true;
        }
    return false;
}
