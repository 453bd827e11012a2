/* An exit as readable lines (vtx_scenario_exit_format): the reason by name, the
 * exit qualification decoded for the common reasons (SDM "Exit Qualification for
 * ..." tables), interruption and IDT-vectoring information decoded, RIP with its
 * label, blocking and activity by name, the clock. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "scenario_internal.h"

typedef struct out {
    char *buf;
    size_t size, len;
    const char *indent;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    char tmp[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    int n = snprintf(o->len < o->size ? o->buf + o->len : NULL, o->len < o->size ? o->size - o->len : 0, "%s%s\n",
                     o->indent, tmp);
    if (n > 0)
        o->len += (size_t)n;
}

static const char *const gpr_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

static const char *const exc_names[32] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09",
                                          "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
                                          "#VE", "#CP", "#22", "#23", "#24", "#25", "#26", "#27", "#28", "#29",
                                          "#30", "#31"};

/* Interruption information (VM-exit or IDT-vectoring): valid, vector, type, error code. */
static void event_text(uint32_t info, uint32_t error, bool exit_info, char *buf, size_t size)
{
    if (!(info >> 31)) {
        snprintf(buf, size, "not valid (0x%x)", info);
        return;
    }
    const uint32_t vec = info & 0xFF, type = (info >> 8) & 7;
    char vname[16] = "";
    if (type == 3 || type == 5 || type == 6 || type == 2)
        snprintf(vname, sizeof vname, " %s", vec < 32 ? exc_names[vec] : "");
    size_t n = (size_t)snprintf(buf, size, "0x%08x: vector 0x%02x%s, %s", info, vec, vname, vtx_interruption_type_description(type));
    if ((info >> 11) & 1 && n < size)
        n += (size_t)snprintf(buf + n, size - n, ", error code 0x%x", error);
    if (exit_info && (info >> 12) & 1 && n < size)
        snprintf(buf + n, size - n, ", NMI unblocking due to IRET");
}

static void qualification(out *o, const vtx_scenario_exit *x)
{
    const uint64_t q = x->qualification;
    const uint32_t basic = x->reason & 0xFFFF;
    if (x->reason & VTX_EXIT_REASON_ENTRY_FAILURE) {
        static const char *const why[] = {"0: no further information", "1: not used", "2: PDPTE loading",
                                          "3: NMI injection with blocking by STI", "4: VMCS link pointer"};
        if (basic == VTX_EXIT_REASON_MSR_LOADING)
            put(o, "%-16s %llu (the failing MSR-load entry)", "qualification", (unsigned long long)q);
        else
            put(o, "%-16s 0x%llx (%s)", "qualification", (unsigned long long)q, q < 5 ? why[q] : "?");
        return;
    }
    switch (basic) {
    case VTX_EXIT_REASON_CR_ACCESS: {
        static const char *const acc[] = {"MOV to CR", "MOV from CR", "CLTS", "LMSW"};
        const unsigned cr = q & 0xF, type = (q >> 4) & 3, reg = (q >> 8) & 0xF;
        if (type <= 1)
            put(o, "%-16s 0x%llx (%s%u, register %s)", "qualification", (unsigned long long)q, acc[type], cr,
                gpr_names[reg]);
        else if (type == 3)
            put(o, "%-16s 0x%llx (LMSW, source data 0x%llx, %s operand)", "qualification", (unsigned long long)q,
                (unsigned long long)((q >> 16) & 0xFFFF), (q >> 6) & 1 ? "memory" : "register");
        else
            put(o, "%-16s 0x%llx (CLTS)", "qualification", (unsigned long long)q);
        return;
    }
    case VTX_EXIT_REASON_DR_ACCESS:
        put(o, "%-16s 0x%llx (MOV %s DR%u, register %s)", "qualification", (unsigned long long)q,
            (q >> 4) & 1 ? "from" : "to", (unsigned)(q & 7), gpr_names[(q >> 8) & 0xF]);
        return;
    case VTX_EXIT_REASON_IO_INSTRUCTION:
        put(o, "%-16s 0x%llx (%s, %u byte%s, port 0x%04x%s%s%s)", "qualification", (unsigned long long)q,
            (q >> 3) & 1 ? "IN" : "OUT", (unsigned)(q & 7) + 1, (q & 7) ? "s" : "", (unsigned)(q >> 16) & 0xFFFF,
            (q >> 4) & 1 ? ", string" : "", (q >> 5) & 1 ? ", REP" : "", (q >> 6) & 1 ? ", immediate port" : ", port in DX");
        return;
    case VTX_EXIT_REASON_TASK_SWITCH: {
        static const char *const src[] = {"CALL", "IRET", "JMP", "task gate in the IDT"};
        put(o, "%-16s 0x%llx (selector 0x%04x, by %s)", "qualification", (unsigned long long)q,
            (unsigned)(q & 0xFFFF), src[(q >> 30) & 3]);
        return;
    }
    case VTX_EXIT_REASON_EXCEPTION_NMI: {
        const uint32_t vec = x->intr_info & 0xFF;
        if ((x->intr_info >> 31) && vec == 14) {
            put(o, "%-16s 0x%llx (the faulting linear address)", "qualification", (unsigned long long)q);
            return;
        }
        if ((x->intr_info >> 31) && vec == 1) {
            char bits[120] = "";
            size_t n = 0;
            for (int b = 0; b < 4; b++)
                if (q & (1u << b))
                    n += (size_t)snprintf(bits + n, sizeof bits - n, "%sB%d", n ? ", " : "", b);
            if (q & (1u << 13))
                n += (size_t)snprintf(bits + n, sizeof bits - n, "%sBD", n ? ", " : "");
            if (q & (1u << 14))
                snprintf(bits + n, sizeof bits - n, "%sBS", n ? ", " : "");
            put(o, "%-16s 0x%llx (#DB: %s)", "qualification", (unsigned long long)q, bits[0] ? bits : "none");
            return;
        }
        break;
    }
    case VTX_EXIT_REASON_SIPI:
        put(o, "%-16s 0x%llx (SIPI vector 0x%02x)", "qualification", (unsigned long long)q, (unsigned)(q & 0xFF));
        return;
    case VTX_EXIT_REASON_EPT_VIOLATION:
        put(o, "%-16s 0x%llx (%s%s%s access)", "qualification", (unsigned long long)q, q & 1 ? "read " : "",
            q & 2 ? "write " : "", q & 4 ? "fetch " : "");
        return;
    default:
        break;
    }
    put(o, "%-16s 0x%llx", "qualification", (unsigned long long)q);
}

int vtx_scenario_exit_format(const vtx_scenario_exit *x, const char *indent, char *buf, size_t size)
{
    if (buf && size)
        buf[0] = 0;
    if (!x)
        return 0;
    out o = {buf, buf ? size : 0, 0, indent ? indent : ""};
    const uint32_t basic = x->reason & 0xFFFF;
    const char *name = vtx_exit_reason_name(basic), *desc = vtx_exit_reason_description(basic);
    if (x->reason & VTX_EXIT_REASON_ENTRY_FAILURE) {
        const char *cn = vtx_check_name(x->check), *ct = vtx_check_text(x->check), *rule = vtx_check_rule(x->check);
        put(&o, "exit %u: VM-entry failure, %s (reason 0x%08x: %s)", x->index, name ? name : "?", x->reason,
            desc ? desc : "?");
        if (x->check != VTX_CHECK_NONE)
            put(&o, "%-16s %s%s%s%s: %s", "check", cn ? cn : "?", rule ? " (" : "", rule ? rule : "", rule ? ")" : "",
                ct ? ct : "");
    } else {
        put(&o, "exit %u: %s (reason %u: %s)", x->index, name ? name : "?", basic, desc ? desc : "?");
    }
    qualification(&o, x);
    if (x->guest_linear)
        put(&o, "%-16s 0x%llx", "guest linear", (unsigned long long)x->guest_linear);
    if (x->guest_physical)
        put(&o, "%-16s 0x%llx", "guest physical", (unsigned long long)x->guest_physical);
    char t[200];
    event_text(x->intr_info, x->intr_error, true, t, sizeof t);
    put(&o, "%-16s %s", "interruption", t);
    event_text(x->idt_vectoring, x->idt_vectoring_error, false, t, sizeof t);
    put(&o, "%-16s %s", "idt-vectoring", t);
    put(&o, "%-16s %u   instruction info 0x%x", "length", x->length, x->insn_info);
    if (x->rip_label[0])
        put(&o, "%-16s 0x%llx (%s)", "rip", (unsigned long long)x->rip, x->rip_label);
    else
        put(&o, "%-16s 0x%llx", "rip", (unsigned long long)x->rip);
    put(&o, "%-16s 0x%llx (IF=%d)", "rflags", (unsigned long long)x->rflags, (int)((x->rflags >> 9) & 1));
    static const char *const blk[] = {"blocking by STI", "blocking by MOV SS", "blocking by SMI", "blocking by NMI"};
    char b[160] = "";
    size_t n = 0;
    for (int i = 0; i < 4; i++)
        if (x->interruptibility & (1u << i))
            n += (size_t)snprintf(b + n, sizeof b - n, "%s%s", n ? ", " : "", blk[i]);
    put(&o, "%-16s 0x%x (%s)", "interruptibility", x->interruptibility, n ? b : "none");
    put(&o, "%-16s %s", "activity", scn_activity_name(x->activity));
    if (x->pending_debug)
        put(&o, "%-16s 0x%llx", "pending debug", (unsigned long long)x->pending_debug);
    put(&o, "%-16s %llu instructions, %llu cycles", "clock", (unsigned long long)x->instructions,
        (unsigned long long)x->cycles);
    return (int)o.len;
}
