/* The VMM checker's rules (vmm_check.h): what each VM exit leaves the VMM to
 * do, and whether the next VM entry did it. Each check names the catalogue
 * rules (docs/rules.md) it rests on; vmm_check.c holds the findings table. */
#include <stdlib.h>
#include <string.h>
#include "vmm_check_internal.h"

#define INFO_VALID 0x80000000u
#define INFO_ERROR_CODE 0x800u
#define INFO_NMI_UNBLOCKING 0x1000u
#define TYPE(info) (((info) >> 8) & 7u)
#define VEC(info) ((uint8_t)((info) & 0xFFu))
enum { T_EXT = 0, T_NMI = 2, T_HW = 3, T_SWINT = 4, T_PRIV = 5, T_SWEXC = 6, T_OTHER = 7 };

/* What a successful VM entry loaded, as the VMM left it in the VMCS. */
typedef struct vmm_entry {
    uint64_t index, rip, rflags;
    uint32_t inj, inj_error, inj_len, intr, activity, pin, proc;
} vmm_entry;

/* An injection (INJ-1): valid and not type 7 (MTF, which is not an event). */
static bool injects(uint32_t info) { return (info & INFO_VALID) && TYPE(info) != T_OTHER; }

/* Exits after which a VMM may emulate an arbitrary guest instruction (one that
 * may set IF or execute IRET): a fault it intercepts, a task switch, an access
 * to memory it emulates. After an instruction exit (HLT, CPUID, I/O, ...) the
 * instruction is known and changes neither IF nor NMI blocking. */
static bool emulating_exit(uint32_t reason)
{
    switch (reason) {
    case VTX_EXIT_REASON_EXCEPTION_NMI: case VTX_EXIT_REASON_TASK_SWITCH: case VTX_EXIT_REASON_APIC_ACCESS:
    case VTX_EXIT_REASON_EPT_VIOLATION: case VTX_EXIT_REASON_EPT_MISCONFIG:
        return true;
    default:
        return false;
    }
}

static vmm_where where(const vmm_exit *ex, const vmm_entry *en, uint8_t vector)
{
    return (vmm_where){.exit_index = ex ? ex->index : 0, .exit_reason = ex ? ex->reason : 0,
                       .exit_rip = ex ? ex->rip : 0, .entry_index = en ? en->index : 0,
                       .entry_rip = en ? en->rip : 0, .vector = vector};
}

static vmm_where owed_where(const vmm_owed *o, const vmm_entry *en)
{
    return (vmm_where){.exit_index = o->exit_index, .exit_reason = o->exit_reason, .exit_rip = o->exit_rip,
                       .entry_index = en ? en->index : 0, .entry_rip = en ? en->rip : 0, .vector = VEC(o->info)};
}

static void remove_idt(vtx_vmm_checker *c, unsigned i)
{
    memmove(&c->idt[i], &c->idt[i + 1], (c->n_idt - i - 1) * sizeof c->idt[0]);
    c->n_idt--;
}

static void report_lost_idt(vtx_vmm_checker *c, const vmm_owed *o, const vmm_entry *en)
{
    char ev[64];
    vtx_vmm_event_text(o->info, ev, sizeof ev);
    vmm_where w = owed_where(o, en);
    const char *hint = o->read ? "" : " (the VMM never read the IDT-vectoring information field, 0x4408, after that exit)";
    unsigned t = TYPE(o->info);
    if (en && en->rip == o->exit_rip && t >= T_HW && t <= T_SWEXC)
        hint = o->read ? " (the instruction at that RIP raised it and re-executes: a VMM that relies on this "
                         "declares the drop)"
                       : " (the VMM never read the IDT-vectoring information field, 0x4408; the instruction at that "
                         "RIP raised the event and re-executes: a VMM that relies on this declares the drop)";
    if (en)
        vtx_vmm_report(c, VTX_VMM_LOST_IDT_VECTORING, &w,
                       "exit %llu interrupted the delivery of %s (IDT-vectoring information 0x%08x); entry %llu "
                       "injects nothing, so the guest never receives it%s: copy the IDT-vectoring information, "
                       "error code and instruction length into the VM-entry fields, or declare the drop "
                       "(vtx_vmm_check_drop_event)",
                       (unsigned long long)o->exit_index, ev, o->info, (unsigned long long)en->index, hint);
    else
        vtx_vmm_report(c, VTX_VMM_LOST_IDT_VECTORING, &w,
                       "exit %llu interrupted the delivery of %s (IDT-vectoring information 0x%08x); it was still "
                       "not re-injected when the run ended%s",
                       (unsigned long long)o->exit_index, ev, o->info, hint);
}

/* The IDT-vectoring events owed (EXIT-5, INJ-18): the next entry re-injects
 * each, exactly (vector, type, error code, and for types 4-6 the instruction
 * length, INJ-3, INJ-7). Three deviations are correct: a contributory or page
 * fault that the VMM merges with a new one into #DF (SDM 6.15 Table 6-5); an
 * interrupt or NMI held back behind a hardware exception the VMM injects first
 * (it stays owed); and a new hardware exception that replaces an event raised
 * by the instruction at the saved RIP when the entry resumes there (the
 * instruction re-executes and raises it again). Returns true when the entry's injection re-injects an
 * owed event (it is then no new event). */
static bool check_idt(vtx_vmm_checker *c, const vmm_entry *en)
{
    if (!c->n_idt)
        return false;
    if (!injects(en->inj)) {
        for (unsigned i = 0; i < c->n_idt; i++)
            report_lost_idt(c, &c->idt[i], en);
        c->n_idt = 0;
        return false;
    }
    char want[64], got[64];
    vtx_vmm_event_text(en->inj, got, sizeof got);
    for (unsigned i = c->n_idt; i-- > 0;) {
        const vmm_owed *o = &c->idt[i];
        if (VEC(o->info) != VEC(en->inj) || TYPE(o->info) != TYPE(en->inj))
            continue;
        vmm_where w = owed_where(o, en);
        unsigned t = TYPE(o->info);
        bool ec_o = o->info & INFO_ERROR_CODE, ec_i = en->inj & INFO_ERROR_CODE;
        vtx_vmm_event_text(o->info, want, sizeof want);
        if (ec_o != ec_i || (ec_o && o->error != en->inj_error))
            vtx_vmm_report(c, VTX_VMM_REINJECT_MISMATCH, &w,
                           "exit %llu interrupted %s with error code %s0x%x; entry %llu re-injects it with error "
                           "code %s0x%x: copy the IDT-vectoring error code (0x440A) into the VM-entry exception "
                           "error code (0x4018)",
                           (unsigned long long)o->exit_index, want, ec_o ? "" : "(none) ", ec_o ? o->error : 0,
                           (unsigned long long)en->index, ec_i ? "" : "(none) ", ec_i ? en->inj_error : 0);
        else if ((t == T_SWINT || t == T_PRIV || t == T_SWEXC) && en->inj_len != o->len)
            vtx_vmm_report(c, VTX_VMM_REINJECT_MISMATCH, &w,
                           "exit %llu interrupted %s raised by a %u-byte instruction; entry %llu re-injects it "
                           "with instruction length %u, so the guest's handler returns to RIP + %u instead of "
                           "after the instruction: copy the VM-exit instruction length (0x440C) into the "
                           "VM-entry instruction length (0x401A)",
                           (unsigned long long)o->exit_index, want, o->len, (unsigned long long)en->index,
                           en->inj_len, en->inj_len);
        remove_idt(c, i);
        return true;
    }
    vmm_owed *o = &c->idt[c->n_idt - 1];
    unsigned ot = TYPE(o->info), it = TYPE(en->inj);
    if (ot == T_HW && it == T_HW && VEC(en->inj) == 8) {
        remove_idt(c, c->n_idt - 1); /* merged into #DF */
        return true;
    }
    if (it == T_HW && (ot == T_EXT || ot == T_NMI))
        return false; /* held back behind the exception; still owed */
    if (it == T_HW && ot != T_EXT && ot != T_NMI && en->rip == o->exit_rip) {
        /* The new fault replaces an event the instruction at RIP raised; resuming
         * there re-executes it and raises the event again (SDM 6.15 "handle
         * serially"; the pattern of a VMM that reflects the fault it intercepted). */
        remove_idt(c, c->n_idt - 1);
        return false;
    }
    vtx_vmm_event_text(o->info, want, sizeof want);
    vmm_where w = owed_where(o, en);
    vtx_vmm_report(c, VTX_VMM_REINJECT_MISMATCH, &w,
                   "exit %llu interrupted the delivery of %s (IDT-vectoring information 0x%08x); entry %llu injects "
                   "%s instead, and the interrupted event is lost",
                   (unsigned long long)o->exit_index, want, o->info, (unsigned long long)en->index, got);
    remove_idt(c, c->n_idt - 1);
    return false;
}

static bool push_ack(vtx_vmm_checker *c, const vmm_owed *o)
{
    if (c->n_acks == c->cap_acks) {
        size_t cap = c->cap_acks ? 2 * c->cap_acks : 16;
        vmm_owed *n = realloc(c->acks, cap * sizeof *n);
        if (!n)
            return false;
        c->acks = n, c->cap_acks = cap;
    }
    c->acks[c->n_acks++] = *o;
    return true;
}

/* A new injection (not a re-injection): it uses the oldest interrupt of its
 * vector acknowledged on exit (EXIT-4), or the oldest NMI that exited
 * (VNMI-1). A vector acknowledged on exit before and injected with none left
 * is a duplicate (INJ-11: an injection never acknowledges anything itself).
 * Vectors never acknowledged on exit come from the VMM's own devices. */
static void account_injection(vtx_vmm_checker *c, const vmm_entry *en)
{
    unsigned t = TYPE(en->inj);
    uint8_t v = VEC(en->inj);
    if (t != T_EXT && t != T_NMI)
        return;
    if (t == T_EXT && !c->tracked[v])
        return;
    for (size_t i = 0; i < c->n_acks; i++) {
        const vmm_owed *a = &c->acks[i];
        if (TYPE(a->info) == t && (t == T_NMI || VEC(a->info) == v)) {
            c->consumed_exit[v] = a->exit_index;
            c->consumed_rip[v] = a->exit_rip;
            memmove(&c->acks[i], &c->acks[i + 1], (c->n_acks - i - 1) * sizeof c->acks[0]);
            c->n_acks--;
            return;
        }
    }
    if (t == T_NMI)
        return; /* virtual NMIs of the VMM's own */
    vmm_where w = {.exit_index = c->consumed_exit[v], .exit_rip = c->consumed_rip[v], .entry_index = en->index, .entry_rip = en->rip, .vector = v};
    w.exit_reason = VTX_EXIT_REASON_EXTERNAL_INTERRUPT;
    vtx_vmm_report(c, VTX_VMM_DUPLICATE_INTERRUPT, &w,
                   "entry %llu injects external interrupt 0x%02x, but every acknowledgement of that vector on exit "
                   "(the last at exit %llu) has been injected already: the guest takes the interrupt twice (and "
                   "sends its EOI twice)",
                   (unsigned long long)en->index, v, (unsigned long long)c->consumed_exit[v]);
}

/* An injection that passes the entry checks only because the VMM changed the
 * guest's own state since the exit (ENT-GS-1: IF = 1 for type 0; ENT-GS-10:
 * no blocking by STI or MOV SS for type 0, no MOV SS for type 2). Hardware
 * accepts and delivers; the guest never agreed. Explained by an instruction
 * the VMM emulated: any RIP change ends a shadow (BLK-STI-2, BLK-MSS-5); only
 * an emulated instruction after an exit that may be any instruction (a fault,
 * a task switch) may set IF. */
static void check_forced(vtx_vmm_checker *c, const vmm_exit *ex, const vmm_entry *en)
{
    if (!injects(en->inj))
        return;
    unsigned t = TYPE(en->inj);
    bool moved = en->rip != ex->rip;
    char ev[64];
    vtx_vmm_event_text(en->inj, ev, sizeof ev);
    vmm_where w = where(ex, en, VEC(en->inj));
    if (t == T_EXT && !(ex->rflags & VTX_RFLAGS_IF) && (en->rflags & VTX_RFLAGS_IF) &&
        !(moved && emulating_exit(ex->reason))) {
        vtx_vmm_report(c, VTX_VMM_FORCED_INJECTION_IF, &w,
                       "the guest had RFLAGS.IF = 0 at exit %llu; entry %llu sets IF = 1%s%s and injects %s, "
                       "which the entry checks then accept (ENT-GS-1): the guest is interrupted inside code that "
                       "disabled interrupts. Keep IF, arm interrupt-window exiting, inject when it exits",
                       (unsigned long long)ex->index, (unsigned long long)en->index,
                       c->wrote_rflags ? " (VMWRITE of the guest RFLAGS)" : "",
                       moved ? ", after an exit whose instruction does not set IF" : " without emulating any instruction",
                       ev);
    }
    uint32_t need = t == T_EXT ? (VTX_INTR_STI | VTX_INTR_MOV_SS) : t == T_NMI ? VTX_INTR_MOV_SS : 0;
    uint32_t cleared = ex->intr & need & ~en->intr;
    if (cleared && !moved) {
        vtx_vmm_report(c, VTX_VMM_FORCED_INJECTION_SHADOW, &w,
                       "the guest was in the shadow of %s at exit %llu; entry %llu clears blocking by %s at the "
                       "same RIP, without emulating an instruction%s, and injects %s, which the entry checks then "
                       "accept (ENT-GS-10): the one instruction the shadow protects is interrupted. Arm the "
                       "window and inject when it exits",
                       cleared & VTX_INTR_STI ? "STI" : "MOV SS", (unsigned long long)ex->index,
                       (unsigned long long)en->index, cleared & VTX_INTR_STI ? "STI" : "MOV SS",
                       c->gprs_written ? " (it wrote the guest's registers but left RIP at the instruction)" : "",
                       ev);
    }
}

/* An NMI injected while the guest's NMI handler has not executed its IRET:
 * the exit saved blocking by NMI (NMI exiting = 0, BLK-NMI-1) or virtual-NMI
 * blocking (VNMI-3, VNMI-4). Re-injecting an NMI whose own delivery exited is
 * correct (it set the blocking, VNMI-3 (c), BLK-NMI-3). With NMI exiting = 1
 * and virtual NMIs = 0 no IRET clears the bit (VNMI-5): nothing to check. */
static void check_nmi_handler(vtx_vmm_checker *c, const vmm_exit *ex, const vmm_entry *en, bool reinjected)
{
    if (!injects(en->inj) || TYPE(en->inj) != T_NMI || reinjected)
        return;
    bool nmi_exiting = en->pin & VTX_PIN_NMI_EXITING, vnmi = en->pin & VTX_PIN_VIRTUAL_NMIS;
    if ((nmi_exiting && !vnmi) || !(ex->intr & VTX_INTR_NMI))
        return;
    if (en->rip != ex->rip && emulating_exit(ex->reason))
        return; /* the VMM may have emulated the handler's IRET */
    vmm_where w = where(ex, en, 2);
    const char *what = vnmi ? "virtual-NMI blocking" : "blocking by NMI";
    if (en->intr & VTX_INTR_NMI)
        vtx_vmm_report(c, VTX_VMM_NMI_IN_NMI_HANDLER, &w,
                       "exit %llu saved %s (the guest's NMI handler has not executed its IRET); entry %llu injects "
                       "an NMI anyway, which the entry checks allow with virtual NMIs = 0: the handler is "
                       "re-entered. Arm NMI-window exiting (virtual NMIs) or wait for the IRET",
                       (unsigned long long)ex->index, what, (unsigned long long)en->index);
    else
        vtx_vmm_report(c, VTX_VMM_NMI_IN_NMI_HANDLER, &w,
                       "exit %llu saved %s (the guest's NMI handler has not executed its IRET); entry %llu clears it "
                       "to make an NMI injection pass the entry checks (ENT-GS-12): the handler is re-entered. "
                       "Arm NMI-window exiting and inject when it exits",
                       (unsigned long long)ex->index, what, (unsigned long long)en->index);
}

/* VNMI-7, VNMI-9: a fault on an IRET that unblocked NMIs clears the blocking
 * before the exit and says so in bit 12. A VMM that resumes at the IRET (to
 * re-execute it, or to reflect the fault) must set bit 3 again; one that
 * emulates the IRET (RIP moves) may not. Bit 12 is undefined with NMI exiting
 * = 1 and virtual NMIs = 0, with valid IDT-vectoring information, and for #DF. */
static void check_iret(vtx_vmm_checker *c, const vmm_exit *ex, const vmm_entry *en)
{
    uint32_t ii = ex->intr_info;
    if (ex->reason != VTX_EXIT_REASON_EXCEPTION_NMI || !(ii & INFO_VALID) || !(ii & INFO_NMI_UNBLOCKING))
        return;
    if ((ex->idt_info & INFO_VALID) || VEC(ii) == 8)
        return;
    if ((ex->pin & VTX_PIN_NMI_EXITING) && !(ex->pin & VTX_PIN_VIRTUAL_NMIS))
        return;
    if (en->rip != ex->rip || (en->intr & VTX_INTR_NMI))
        return;
    char ev[64];
    vtx_vmm_event_text(ii, ev, sizeof ev);
    vmm_where w = where(ex, en, VEC(ii));
    vtx_vmm_report(c, VTX_VMM_IRET_NMI_BLOCKING_NOT_RESTORED, &w,
                   "exit %llu was %s on an IRET that had unblocked NMIs (\"NMI unblocking due to IRET\" = 1, bit 12 "
                   "of 0x%08x); entry %llu resumes at the IRET with %s still clear, so an NMI can arrive inside the "
                   "handler the IRET had not left: set bit 3 of the guest interruptibility state before resuming",
                   (unsigned long long)ex->index, ev, ii, (unsigned long long)en->index,
                   (ex->pin & VTX_PIN_VIRTUAL_NMIS) ? "virtual-NMI blocking" : "blocking by NMI");
}

/* EXIT-7: an HLT exit saves the HLT's own RIP. Resuming there halts the guest
 * again (HLT-4: the handler of an injected interrupt returns to the HLT). A VMM
 * that clears HLT exiting and resumes at the HLT with nothing to inject lets
 * the processor halt: that is not reported. */
static void check_hlt(vtx_vmm_checker *c, const vmm_exit *ex, const vmm_entry *en)
{
    if (ex->reason != VTX_EXIT_REASON_HLT || en->rip != ex->rip)
        return;
    bool inj = injects(en->inj);
    if (!(en->proc & VTX_PROC_HLT_EXITING) && !inj && en->activity == VTX_ACTIVE)
        return;
    vmm_where w = where(ex, en, inj ? VEC(en->inj) : 0);
    vtx_vmm_report(c, VTX_VMM_HLT_RESUMED_AT_HLT, &w,
                   "exit %llu was the guest's HLT at RIP 0x%llx; entry %llu resumes at that same HLT (%s%s), so the "
                   "guest halts again as soon as it is back there: advance RIP by the VM-exit instruction length "
                   "(and enter in the HLT activity state to model the halt)",
                   (unsigned long long)ex->index, (unsigned long long)ex->rip, (unsigned long long)en->index,
                   en->activity == VTX_HLT ? "in the HLT activity state" : "active",
                   inj ? ", with an injection" : "");
}

/* NW-2: an NMI-window exit says the guest can take an NMI now; answering it
 * by disarming the window without an NMI means the window was armed for
 * nothing, or the NMI the VMM meant to inject is lost. A VMM that kept the
 * window armed while it injected its last NMI and disarms it at the next
 * window exit (a lazy disarm) is not reported: the entry before that exit
 * injected. */
static void check_nmi_window(vtx_vmm_checker *c, const vmm_exit *ex, const vmm_entry *en)
{
    if (ex->reason != VTX_EXIT_REASON_NMI_WINDOW || (injects(en->inj) && TYPE(en->inj) == T_NMI))
        return;
    if (ex->injected_before)
        return;
    if (en->proc & VTX_PROC_NMI_WINDOW_EXITING)
        return; /* still armed: the storm check follows it */
    vmm_where w = where(ex, en, 2);
    vtx_vmm_report(c, VTX_VMM_NMI_WINDOW_UNUSED, &w,
                   "exit %llu was an NMI-window exit; entry %llu disarms NMI-window exiting and injects no NMI: "
                   "the window was armed for nothing, or the pending NMI was forgotten",
                   (unsigned long long)ex->index, (unsigned long long)en->index);
}

static bool follow(vtx_vmm_checker *c, const vtx_machine *m)
{
    if (!m->current)
        return false;
    if (!c->have_vmcs) {
        c->have_vmcs = true;
        c->vmcs_pa = m->current->pa;
    }
    return m->current->pa == c->vmcs_pa;
}

void vtx_vmm_mon_entry(vtx_machine *m)
{
    vtx_vmm_checker *c = m->vmm_monitor;
    if (!follow(c, m))
        return;
    const vtx_vmcs_values *f = &m->current->f;
    vmm_entry en = {
        .index = ++c->rep.entries,
        .rip = vtx_vmcs_get(f, VTX_SLOT_GUEST_RIP),
        .rflags = vtx_vmcs_get(f, VTX_SLOT_GUEST_RFLAGS),
        .inj = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_ENTRY_INTR_INFO),
        .inj_error = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_ENTRY_EXCEPTION_ERROR_CODE),
        .inj_len = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_ENTRY_INSTRUCTION_LEN),
        .intr = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_GUEST_INTERRUPTIBILITY),
        .activity = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_GUEST_ACTIVITY_STATE),
        .pin = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PIN_CONTROLS),
        .proc = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS),
    };
    const vmm_exit *ex = c->have_exit && !c->entered_since_exit ? &c->last : NULL;
    bool reinjected = check_idt(c, &en);
    if (injects(en.inj) && !reinjected)
        account_injection(c, &en);
    if (ex) {
        check_forced(c, ex, &en);
        check_nmi_handler(c, ex, &en, reinjected);
        check_iret(c, ex, &en);
        check_hlt(c, ex, &en);
        check_nmi_window(c, ex, &en);
    }
    c->entered_since_exit = true;
    c->last_entry_injected = injects(en.inj);
    c->last_entry_rip = en.rip;
}

/* IW-6 / NW-2: a window exit whose control stays armed exits again at once
 * while the condition holds. Window exits of one kind in a row, with no
 * instruction retired and nothing injected in between, make a storm, reported
 * once (a new storm needs a retired instruction or an injection first). */
static void check_storm(vtx_vmm_checker *c, const vmm_exit *ex)
{
    int k = ex->reason == VTX_EXIT_REASON_INTERRUPT_WINDOW ? 0 : ex->reason == VTX_EXIT_REASON_NMI_WINDOW ? 1 : -1;
    if (k < 0)
        return;
    bool again = c->have_exit && c->last.reason == ex->reason && c->last.instructions == ex->instructions &&
                 !ex->injected_before;
    c->storm_run[k] = again ? c->storm_run[k] + 1 : 1;
    if (!again)
        c->storm_reported[k] = false;
    if (c->storm_run[k] < c->cfg.storm_exits || c->storm_reported[k])
        return;
    c->storm_reported[k] = true;
    vmm_where w = {.exit_index = ex->index, .exit_reason = ex->reason, .exit_rip = ex->rip,
                   .entry_index = c->rep.entries, .entry_rip = c->last_entry_rip};
    vtx_vmm_report(c, k ? VTX_VMM_NMI_WINDOW_STORM : VTX_VMM_INTR_WINDOW_STORM, &w,
                   "%u %s exits in a row at RIP 0x%llx with no instruction retired and nothing injected: the VMM "
                   "left %s armed with nothing to inject, so the guest exits at every boundary. Clear the control "
                   "when the last pending %s goes in",
                   c->storm_run[k], k ? "NMI-window" : "interrupt-window", (unsigned long long)ex->rip,
                   k ? "NMI-window exiting" : "interrupt-window exiting", k ? "NMI" : "interrupt");
}

void vtx_vmm_mon_exit(vtx_machine *m)
{
    vtx_vmm_checker *c = m->vmm_monitor;
    if (!follow(c, m))
        return;
    const vtx_vmcs_values *f = &m->current->f;
    vmm_exit ex = {
        .index = ++c->rep.exits,
        .reason = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_REASON) & 0xFFFFu,
        .intr_info = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_INTR_INFO),
        .idt_info = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_IDT_VECTORING_INFO),
        .idt_error = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_IDT_VECTORING_ERROR_CODE),
        .insn_len = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_INSTRUCTION_LEN),
        .rip = vtx_vmcs_get(f, VTX_SLOT_GUEST_RIP),
        .rflags = vtx_vmcs_get(f, VTX_SLOT_GUEST_RFLAGS),
        .intr = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_GUEST_INTERRUPTIBILITY),
        .activity = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_GUEST_ACTIVITY_STATE),
        .pin = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PIN_CONTROLS),
        .proc = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS),
        .instructions = m->instructions,
        .injected_before = c->entered_since_exit && c->last_entry_injected,
    };
    check_storm(c, &ex);
    vmm_owed o = {.exit_index = ex.index, .exit_rip = ex.rip, .exit_reason = ex.reason};
    /* EXIT-4: an interrupt acknowledged on exit, an NMI that exited (VNMI-1): the VMM owns them now. */
    if ((ex.intr_info & INFO_VALID) &&
        ((ex.reason == VTX_EXIT_REASON_EXTERNAL_INTERRUPT && TYPE(ex.intr_info) == T_EXT) ||
         (ex.reason == VTX_EXIT_REASON_EXCEPTION_NMI && TYPE(ex.intr_info) == T_NMI))) {
        o.info = ex.intr_info & (INFO_VALID | 0x7FFu);
        if (TYPE(o.info) == T_EXT)
            c->tracked[VEC(o.info)] = true;
        push_ack(c, &o);
    }
    /* EXIT-5: an event whose delivery the exit interrupted. A task switch through a task gate is
     * completed by the VMM's emulation of it, which delivers the event: nothing owed. */
    if ((ex.idt_info & INFO_VALID) && ex.reason != VTX_EXIT_REASON_TASK_SWITCH) {
        if (c->n_idt == VMM_MAX_IDT_OWED) {
            report_lost_idt(c, &c->idt[0], NULL);
            remove_idt(c, 0);
        }
        o.info = ex.idt_info & ~(uint32_t)INFO_NMI_UNBLOCKING; /* bit 12 is undefined there (EXIT-5) */
        o.error = ex.idt_error;
        o.len = ex.insn_len;
        o.read = false;
        c->idt[c->n_idt++] = o;
    }
    c->last = ex;
    c->have_exit = true;
    c->entered_since_exit = false;
    c->gprs_written = c->wrote_rflags = false;
}

vtx_status vtx_vmm_check_finalize(vtx_vmm_checker *c, vtx_vmm_check_report *report)
{
    if (!c)
        return VTX_ERR_INVALID_ARG;
    for (unsigned i = 0; i < c->n_idt; i++)
        report_lost_idt(c, &c->idt[i], NULL);
    c->n_idt = 0;
    for (size_t i = 0; i < c->n_acks; i++) {
        const vmm_owed *a = &c->acks[i];
        vmm_where w = owed_where(a, NULL);
        if (TYPE(a->info) == T_NMI)
            vtx_vmm_report(c, VTX_VMM_LOST_NMI, &w,
                           "the NMI that caused exit %llu (NMI exiting) was never injected: the guest never sees it. "
                           "Inject it (type 2), arming NMI-window exiting while the guest blocks NMIs",
                           (unsigned long long)a->exit_index);
        else
            vtx_vmm_report(c, VTX_VMM_LOST_ACKED_INTERRUPT, &w,
                           "external interrupt 0x%02x, acknowledged on exit %llu (\"acknowledge interrupt on exit\"), "
                           "was never injected: the interrupt controller considers it delivered, the guest never "
                           "saw it. Queue every acknowledged vector until it is injected",
                           VEC(a->info), (unsigned long long)a->exit_index);
    }
    c->n_acks = 0;
    if (report)
        *report = c->rep;
    return VTX_OK;
}
