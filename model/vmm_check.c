/* The VMM checker (vmm_check.h): its API, the findings table, and the hooks
 * for the VMM's own operations between exits. The checks on exits and entries
 * are in vmm_check_events.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "vmm_check_internal.h"

typedef struct finding_info {
    const char *name;
    vtx_vmm_severity severity;
    const char *rules, *sdm, *summary;
} finding_info;

static const finding_info findings[VTX_VMM_FINDING_COUNT] = {
#define VTX_X_VF(n, s, r, sdm, d) [VTX_VMM_##n] = {#n, VTX_VMM_##s, r, sdm, d},
    VTX_VMM_FINDINGS(VTX_X_VF)
#undef VTX_X_VF
};

vtx_status vtx_vmm_check_config_init(vtx_vmm_check_config *config)
{
    if (!config)
        return VTX_ERR_INVALID_ARG;
    memset(config, 0, sizeof *config);
    return VTX_OK;
}

vtx_status vtx_vmm_check_create(const vtx_vmm_check_config *config, vtx_vmm_checker **checker)
{
    if (!checker)
        return VTX_ERR_INVALID_ARG;
    *checker = NULL;
    vtx_vmm_checker *c = calloc(1, sizeof *c);
    if (!c)
        return VTX_ERR_NO_MEMORY;
    if (config)
        c->cfg = *config;
    if (!c->cfg.storm_exits)
        c->cfg.storm_exits = 3;
    *checker = c;
    return VTX_OK;
}

void vtx_vmm_check_destroy(vtx_vmm_checker *c)
{
    if (!c)
        return;
    if (c->m && c->m->vmm_monitor == c)
        c->m->vmm_monitor = NULL;
    free(c->acks);
    free(c);
}

vtx_status vtx_vmm_check_attach(vtx_machine *m, vtx_vmm_checker *c)
{
    if (!m || !c)
        return VTX_ERR_INVALID_ARG;
    if (m->vmm_monitor == c && c->m == m)
        return VTX_OK;
    if (m->vmm_monitor || c->m)
        return VTX_ERR_STATE;
    m->vmm_monitor = c;
    c->m = m;
    return VTX_OK;
}

vtx_status vtx_vmm_check_detach(vtx_machine *m)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    if (m->vmm_monitor)
        m->vmm_monitor->m = NULL;
    m->vmm_monitor = NULL;
    return VTX_OK;
}

vtx_vmm_checker *vtx_vmm_check_attached(const vtx_machine *m) { return m ? m->vmm_monitor : NULL; }

vtx_status vtx_vmm_check_drop_event(vtx_vmm_checker *c)
{
    if (!c)
        return VTX_ERR_INVALID_ARG;
    /* the newest owed event, if the last exit reported it */
    if (!c->n_idt || !c->have_exit || c->idt[c->n_idt - 1].exit_index != c->last.index)
        return VTX_ERR_STATE;
    c->n_idt--;
    return VTX_OK;
}

vtx_status vtx_vmm_check_get_report(const vtx_vmm_checker *c, vtx_vmm_check_report *report)
{
    if (!c || !report)
        return VTX_ERR_INVALID_ARG;
    *report = c->rep;
    return VTX_OK;
}

const char *vtx_vmm_finding_name(vtx_vmm_finding_kind kind)
{
    return (unsigned)kind < VTX_VMM_FINDING_COUNT ? findings[kind].name : NULL;
}

vtx_status vtx_vmm_finding_lookup(const char *name, vtx_vmm_finding_kind *kind)
{
    if (!name || !kind)
        return VTX_ERR_INVALID_ARG;
    for (unsigned i = 0; i < VTX_VMM_FINDING_COUNT; i++)
        if (!strcmp(findings[i].name, name)) {
            *kind = (vtx_vmm_finding_kind)i;
            return VTX_OK;
        }
    return VTX_ERR_NOT_FOUND;
}

const char *vtx_vmm_severity_name(vtx_vmm_severity s) { return s == VTX_VMM_ERROR ? "error" : "warning"; }

int vtx_vmm_finding_format(const vtx_vmm_finding *f, char *buf, size_t size)
{
    if (!f || (!buf && size))
        return -1;
    char ex[96] = "", en[64] = "";
    if (f->exit_index) {
        const char *n = vtx_exit_reason_name(f->exit_reason);
        snprintf(ex, sizeof ex, " at exit %llu (%s, RIP 0x%llx)", (unsigned long long)f->exit_index, n ? n : "?",
                 (unsigned long long)f->exit_rip);
    }
    if (f->entry_index)
        snprintf(en, sizeof en, "%s entry %llu (RIP 0x%llx)", f->exit_index ? "," : " at",
                 (unsigned long long)f->entry_index, (unsigned long long)f->entry_rip);
    return snprintf(buf, size, "%s %s%s%s [%s]: %s", vtx_vmm_severity_name(f->severity), f->name, ex, en, f->rules,
                    f->message);
}

void vtx_vmm_finding_fprint(void *user, const vtx_vmm_finding *finding)
{
    if (!finding)
        return;
    char line[800];
    vtx_vmm_finding_format(finding, line, sizeof line);
    fprintf(user ? (FILE *)user : stderr, "%s\n", line);
}

const char *vtx_vmm_event_text(uint32_t info, char *buf, size_t size)
{
    static const char *const type[] = {"external interrupt", "reserved-type event", "NMI", "hardware exception",
                                       "software interrupt", "privileged software exception",
                                       "software exception", "other event"};
    if (!(info >> 31))
        snprintf(buf, size, "nothing");
    else
        snprintf(buf, size, "%s 0x%02x", type[(info >> 8) & 7], info & 0xFF);
    return buf;
}

void vtx_vmm_report(vtx_vmm_checker *c, vtx_vmm_finding_kind kind, const vmm_where *w, const char *fmt, ...)
{
    if (c->cfg.disabled & (1u << kind))
        return;
    vtx_vmm_finding f = {.kind = kind,
                         .name = findings[kind].name,
                         .severity = findings[kind].severity,
                         .rules = findings[kind].rules,
                         .sdm = findings[kind].sdm,
                         .exit_index = w->exit_index,
                         .exit_reason = w->exit_reason,
                         .exit_rip = w->exit_rip,
                         .entry_index = w->entry_index,
                         .entry_rip = w->entry_rip,
                         .vector = w->vector};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.message, sizeof f.message, fmt, ap);
    va_end(ap);
    c->rep.by_kind[kind]++;
    if (f.severity == VTX_VMM_ERROR)
        c->rep.errors++;
    else
        c->rep.warnings++;
    if (c->cfg.on_finding)
        c->cfg.on_finding(c->cfg.user, &f);
}

/* Only the VMCS the checker follows counts. */
static bool followed(vtx_vmm_checker *c, const vtx_machine *m)
{
    return m->current && c->have_vmcs && m->current->pa == c->vmcs_pa;
}

void vtx_vmm_mon_vmwrite(vtx_machine *m, uint64_t encoding, uint64_t value)
{
    vtx_vmm_checker *c = m->vmm_monitor;
    (void)value;
    if (!followed(c, m))
        return;
    if (encoding == VTX_VMCS_GUEST_RFLAGS)
        c->wrote_rflags = true;
}

void vtx_vmm_mon_vmread(vtx_machine *m, uint64_t encoding)
{
    vtx_vmm_checker *c = m->vmm_monitor;
    if (followed(c, m) && encoding == VTX_VMCS_IDT_VECTORING_INFO && c->n_idt)
        c->idt[c->n_idt - 1].read = true;
}

void vtx_vmm_mon_gprs(vtx_machine *m)
{
    vtx_vmm_checker *c = m->vmm_monitor;
    if (!m->in_guest)
        c->gprs_written = true;
}
