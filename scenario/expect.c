/* Expectations: one comparison against an exit or the end of the run, with the
 * expected and actual values as text (names for reasons, activity states,
 * blocking bits and checks; labels for addresses). */
#include <stdio.h>
#include <string.h>
#include "scenario_internal.h"

static uint64_t exit_value(const vtx_scenario_exit *x, scn_key k)
{
    switch (k) {
#define SCN_X_VAL(key, member) case SCN_K_##key: return x->member;
        SCN_EXIT_KEYS(SCN_X_VAL)
#undef SCN_X_VAL
    default: return 0;
    }
}

static void intr_text(uint64_t v, char *buf, size_t size)
{
    static const char *const names[] = {"sti", "mov-ss", "smi", "nmi"};
    size_t used = (size_t)snprintf(buf, size, "0x%llx", (unsigned long long)v);
    bool first = true;
    for (int b = 0; b < 4 && used < size; b++)
        if (v & (1u << b)) {
            used += (size_t)snprintf(buf + used, size - used, "%s%s", first ? " (" : ", ", names[b]);
            first = false;
        }
    if (!first && used < size)
        snprintf(buf + used, size - used, ")");
}

static void reason_value_text(uint64_t v, bool any_failure, char *buf, size_t size)
{
    if (any_failure) {
        snprintf(buf, size, "ENTRY_FAILURE");
        return;
    }
    const char *n = vtx_exit_reason_name((uint32_t)v & 0xFFFF);
    if (v & VTX_EXIT_REASON_ENTRY_FAILURE)
        snprintf(buf, size, "%s (0x%llx, VM-entry failure)", n ? n : "?", (unsigned long long)v);
    else
        snprintf(buf, size, "%s (%llu)", n ? n : "?", (unsigned long long)v);
}

static void mem_text(const uint8_t *b, size_t len, char *buf, size_t size)
{
    if (len == 1 || len == 2 || len == 4 || len == 8) {
        uint64_t v = 0;
        memcpy(&v, b, len);
        snprintf(buf, size, "0x%llx", (unsigned long long)v);
        return;
    }
    size_t used = (size_t)snprintf(buf, size, "[");
    for (size_t i = 0; i < len && used + 8 < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s0x%02x", i ? ", " : "", b[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

static uint64_t reg_value(const scn_run_view *v, scn_reg r)
{
    if (r < SCN_GPR_COUNT) {
        vtx_gprs g;
        if (vtx_machine_get_gprs(v->m, &g) != VTX_OK)
            return 0;
        return (&g.rax)[r];
    }
    uint32_t enc = r == SCN_REG_rsp ? VTX_VMCS_GUEST_RSP : r == SCN_REG_rip ? VTX_VMCS_GUEST_RIP : VTX_VMCS_GUEST_RFLAGS;
    uint64_t x = 0;
    vtx_machine_peek_field(v->m, enc, &x);
    return x;
}

bool scn_cmp_check(const vtx_scenario *s, const scn_cmp *c, const scn_run_view *v, char *what, size_t wsz,
                   char *expected, size_t esz, char *actual, size_t asz)
{
    const uint64_t cs_base = v->exit ? v->exit->cs_base : (s->bits == 16 ? s->seg_base : 0);
    uint64_t act = 0, exp = c->value;
    bool ok;
    switch (c->kind) {
    case CMP_EXIT: {
        const scn_key k = (scn_key)c->key;
        snprintf(what, wsz, "%s", scn_key_name(k));
        act = v->exit ? exit_value(v->exit, k) : 0;
        if (k == SCN_K_reason) {
            if (c->any_failure)
                ok = (act & VTX_EXIT_REASON_ENTRY_FAILURE) != 0;
            else if (exp & VTX_EXIT_REASON_ENTRY_FAILURE)
                ok = act == exp;
            else
                ok = (act & 0xFFFF) == exp && !(act & ~0xFFFFull & ~(uint64_t)VTX_EXIT_REASON_ENTRY_FAILURE);
            reason_value_text(exp, c->any_failure, expected, esz);
            reason_value_text(act, false, actual, asz);
            return ok;
        }
        if (k == SCN_K_rip) {
            exp = c->addr.value;
            scn_addr_text(s, exp, cs_base, expected, esz);
            scn_addr_text(s, act, cs_base, actual, asz);
            return act == exp;
        }
        if (k == SCN_K_activity) {
            snprintf(expected, esz, "%s", scn_activity_name((uint32_t)exp));
            snprintf(actual, asz, "%s", scn_activity_name((uint32_t)act));
            return act == exp;
        }
        if (k == SCN_K_interruptibility) {
            intr_text(exp, expected, esz);
            intr_text(act, actual, asz);
            return act == exp;
        }
        break;
    }
    case CMP_CHECK: {
        snprintf(what, wsz, "check");
        const char *en = vtx_check_name((vtx_check)exp);
        vtx_check a = v->exit ? v->exit->check : VTX_CHECK_NONE;
        const char *an = vtx_check_name(a);
        snprintf(expected, esz, "%s", en ? en : "?");
        snprintf(actual, asz, "%s", an ? an : "?");
        return (uint64_t)a == exp;
    }
    case CMP_REG:
        snprintf(what, wsz, "%s", scn_reg_name((scn_reg)c->key));
        act = reg_value(v, (scn_reg)c->key);
        if (c->key == SCN_REG_rip) {
            exp = c->addr.value;
            scn_addr_text(s, exp, cs_base, expected, esz);
            scn_addr_text(s, act, cs_base, actual, asz);
            return act == exp;
        }
        break;
    case CMP_MEM: {
        snprintf(what, wsz, "memory 0x%llx", (unsigned long long)c->addr.value);
        mem_text(c->bytes, c->len, expected, esz);
        if (c->addr.value > SCN_RAM_SIZE || c->len > SCN_RAM_SIZE - c->addr.value) {
            snprintf(actual, asz, "outside the 4-MiB guest RAM");
            return false;
        }
        mem_text(v->ram + c->addr.value, c->len, actual, asz);
        return memcmp(v->ram + c->addr.value, c->bytes, c->len) == 0;
    }
    case CMP_FIELD: {
        const vtx_field_info *fi = NULL;
        vtx_vmcs_field_lookup(c->enc, &fi, NULL);
        snprintf(what, wsz, "%s", fi ? fi->name : "field");
        vtx_machine_peek_field(v->m, c->enc, &act);
        break;
    }
    case CMP_INSTR:
        snprintf(what, wsz, "instructions");
        act = vtx_machine_instructions(v->m);
        snprintf(expected, esz, "%llu", (unsigned long long)exp);
        snprintf(actual, asz, "%llu", (unsigned long long)act);
        return act == exp;
    case CMP_CYCLES:
        snprintf(what, wsz, "cycles");
        act = vtx_machine_cycles(v->m);
        snprintf(expected, esz, "%llu", (unsigned long long)exp);
        snprintf(actual, asz, "%llu", (unsigned long long)act);
        return act == exp;
    case CMP_VMERROR: {
        snprintf(what, wsz, "error");
        act = v->vm_error;
        const char *et = vtx_vm_insn_error_name((uint32_t)exp), *at = vtx_vm_insn_error_name((uint32_t)act);
        snprintf(expected, esz, "%llu (%s)", (unsigned long long)exp, et ? et : "none");
        snprintf(actual, asz, "%llu (%s)", (unsigned long long)act, at ? at : "none");
        return act == exp;
    }
    }
    snprintf(expected, esz, "0x%llx", (unsigned long long)exp);
    snprintf(actual, asz, "0x%llx", (unsigned long long)act);
    return act == exp;
}
