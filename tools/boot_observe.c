/*
 * vtxref boot: what a user sees of the guests a bare-metal VMM runs
 * (tools/boot_observe.h). One boundary observer and one VMX-operation observer
 * (vmx.h) on the platform's machine feed:
 *  - --boundaries: the observer's report, one line per interesting boundary;
 *  - --explain: the sentences of `vtxref explain` (tools/explain*.c, the same
 *    explainer with no scenario: no labels), plus a line at each VM entry (what
 *    the host wrote since the last exit, decoded: injection, window controls,
 *    RFLAGS.IF, interruptibility) and each VM exit (decoded as for scenarios);
 *  - --vcd / --html: the pictures of traces (tools/trace_cli.c);
 *  - --vmm-check: the VMM checker (vmm_check.h), findings printed where they happen;
 *  - --record (a boot trace) or, for `vtxref replay`, a verifying recorder.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "boot.h"
#include "cli.h"
#include "elf_syms.h"

#define MAX_WRITES 48  /* VMWRITEs kept between two entries for the explanation */

struct boot_obs {
    cli_pictures pics; /* first: cli_pictures_boundary gets the boot_obs as its cli_pictures */
    vtx_platform *p;
    FILE *bounds, *explain_out;
    char *bounds_tmp, *explain_tmp;       /* written under a temporary name, renamed when complete */
    const char *bounds_path, *explain_path;
    explainer *ex;
    elf_syms *syms; /* the kernel's symbols, naming guest addresses in the explanation */
    vtx_scenario_callbacks xcb; /* the explainer's callbacks */
    vtx_scenario_view view;
    vtx_vmm_checker *chk;
    vtx_trace_recorder *rec;
    vtx_status rec_failed;
    vtx_trace_error rec_err;
    bool verifying;
    vtx_replay_result *replay;
    const char *record_path;
    uint32_t exits, entries;
    uint32_t nwrites, writes_total;
    uint32_t wenc[MAX_WRITES];
    uint64_t wval[MAX_WRITES];
};

/* ---- --boundaries ---- */

/* One line per boundary where something was pending or the guest did not simply
 * execute on: clock, RIP, IF, blocking, the action and the winner, then each
 * event blocked, beaten or taken with the rule that decided. */
static void dump_boundary(FILE *f, const vtx_boundary_report *b)
{
    static const char *const st[] = {"idle", "blocked", "beaten", "taken"};
    static const char *const act[] = {"active", "HLT", "shutdown", "wait-for-SIPI"};
    bool any = b->action != VTX_ACT_EXECUTE || b->after_entry;
    for (int e = 0; e < VTX_EV_COUNT && !any; e++)
        any = b->events[e].state != VTX_EVS_IDLE;
    if (!any)
        return;
    fprintf(f, "guest boundary: instruction %llu, cycle %llu, RIP 0x%llx, IF=%u%s%s%s, %s%s -> %s%s%s\n",
            (unsigned long long)b->instructions, (unsigned long long)b->cycle, (unsigned long long)b->rip,
            (unsigned)((b->rflags >> 9) & 1), (b->interruptibility & 1) ? ", blocking by STI" : "",
            (b->interruptibility & 2) ? ", blocking by MOV SS" : "", (b->interruptibility & 8) ? ", NMI blocking" : "",
            act[b->activity & 3], b->after_entry ? " (after VM entry)" : "", vtx_boundary_action_name(b->action),
            b->winner >= 0 ? ": " : "", b->winner >= 0 ? vtx_event_name((vtx_event)b->winner) : "");
    for (int e = 0; e < VTX_EV_COUNT; e++) {
        const vtx_event_verdict *v = &b->events[e];
        if (v->state == VTX_EVS_IDLE)
            continue;
        fprintf(f, "    %-16s %s", vtx_event_name((vtx_event)e), st[v->state & 3]);
        if (v->rule || v->why)
            fprintf(f, " (%s%s%s)", v->rule ? v->rule : "", v->rule && v->why ? ": " : "", v->why ? v->why : "");
        fputc('\n', f);
    }
}

static void on_boundary(void *user, const vtx_boundary_report *b)
{
    boot_obs *o = user;
    if (o->bounds)
        dump_boundary(o->bounds, b);
    if (o->ex)
        o->xcb.observer(o->ex, b);
    if (o->pics.vcd || o->pics.html)
        cli_pictures_boundary(&o->pics, b);
    if (o->rec)
        vtx_trace_record_boundary(o->rec, b);
}

/* ---- the host's VMWRITEs and the entries, in words ---- */

static uint64_t peek(vtx_machine *m, uint32_t enc)
{
    uint64_t v = 0;
    vtx_machine_peek_field(m, enc, &v);
    return v;
}

static const char *event_text(uint32_t info, char *buf, size_t size)
{
    static const char *const type[] = {"external interrupt", "reserved type 1", "NMI", "hardware exception",
                                       "software interrupt", "privileged software exception", "software exception",
                                       "other event (MTF)"};
    if (!(info >> 31))
        snprintf(buf, size, "nothing (valid bit 0)");
    else
        snprintf(buf, size, "%s 0x%02x%s", type[(info >> 8) & 7], info & 0xFF,
                 (info & 0x800) ? " with an error code" : "");
    return buf;
}

/* What one VMWRITE means for events: "VMWRITE ENTRY_INTR_INFO = 0x80000040: inject external interrupt 0x40". */
static void write_text(uint32_t enc, uint64_t v, char *buf, size_t size)
{
    const vtx_field_info *fi = NULL;
    vtx_vmcs_field_lookup(enc, &fi, NULL);
    int n = snprintf(buf, size, "VMWRITE %s = 0x%llx", fi ? fi->name : "?", (unsigned long long)v);
    char ev[80];
    size_t rest = n > 0 && (size_t)n < size ? size - (size_t)n : 0;
    switch (enc) {
    case VTX_VMCS_ENTRY_INTR_INFO:
        snprintf(buf + n, rest, ": inject %s", event_text((uint32_t)v, ev, sizeof ev));
        break;
    case VTX_VMCS_PROC_CONTROLS:
        snprintf(buf + n, rest, ": interrupt-window exiting %s, NMI-window exiting %s", (v >> 2) & 1 ? "on" : "off",
                 (v >> 22) & 1 ? "on" : "off");
        break;
    case VTX_VMCS_GUEST_RFLAGS:
        snprintf(buf + n, rest, ": the guest's IF = %u", (unsigned)((v >> 9) & 1));
        break;
    case VTX_VMCS_GUEST_INTERRUPTIBILITY:
        snprintf(buf + n, rest, ": blocking by STI %u, by MOV SS %u, by NMI %u", (unsigned)(v & 1),
                 (unsigned)((v >> 1) & 1), (unsigned)((v >> 3) & 1));
        break;
    case VTX_VMCS_GUEST_ACTIVITY_STATE:
        snprintf(buf + n, rest, ": activity state %s", v == 0 ? "active" : v == 1 ? "HLT" : v == 2 ? "shutdown"
                                                                                   : "wait-for-SIPI");
        break;
    default:
        break;
    }
}

static void note_write(boot_obs *o, uint64_t enc, uint64_t v)
{
    o->writes_total++;
    for (uint32_t i = 0; i < o->nwrites; i++)
        if (o->wenc[i] == (uint32_t)enc) {
            o->wval[i] = v; /* the net effect per field */
            return;
        }
    if (o->nwrites < MAX_WRITES) {
        o->wenc[o->nwrites] = (uint32_t)enc;
        o->wval[o->nwrites++] = v;
    }
}

/* How the guest's code is decoded: from its CS access rights at entry. */
static void update_view(boot_obs *o, vtx_machine *m)
{
    uint64_t ar = peek(m, VTX_VMCS_GUEST_CS_AR);
    o->view.ram = o->p->ram;
    o->view.ram_size = o->p->ram_bytes;
    o->view.code_bits = (ar >> 13) & 1 ? 64 : (ar >> 14) & 1 ? 32 : 16;
    o->view.cs_base = peek(m, VTX_VMCS_GUEST_CS_BASE);
    o->xcb.on_start(o->ex, NULL, &o->view);
}

static void explain_vm_entry(boot_obs *o, vtx_machine *m, bool launch)
{
    char line[400];
    if (!o->exits) {
        snprintf(line, sizeof line, "the VMM wrote %u VMCS fields before its first VM entry%s", o->writes_total,
                 o->writes_total ? "; those that concern events:" : "");
        explainer_line(o->ex, line);
    } else if (!o->writes_total) {
        snprintf(line, sizeof line, "the VMM (after exit %u): no VMWRITE", o->exits);
        explainer_line(o->ex, line);
    }
    for (uint32_t i = 0; i < o->nwrites; i++) {
        uint32_t e = o->wenc[i];
        bool events = e == VTX_VMCS_ENTRY_INTR_INFO || e == VTX_VMCS_PROC_CONTROLS || e == VTX_VMCS_GUEST_RFLAGS ||
                      e == VTX_VMCS_GUEST_INTERRUPTIBILITY || e == VTX_VMCS_GUEST_ACTIVITY_STATE ||
                      e == VTX_VMCS_ENTRY_EXCEPTION_ERROR_CODE || e == VTX_VMCS_ENTRY_INSTRUCTION_LEN ||
                      e == VTX_VMCS_PIN_CONTROLS || e == VTX_VMCS_GUEST_RIP;
        if (o->exits || events) {
            char w[300];
            write_text(e, o->wval[i], w, sizeof w);
            if (o->exits)
                snprintf(line, sizeof line, "the VMM (after exit %u): %s", o->exits, w);
            else
                snprintf(line, sizeof line, "  %s", w);
            explainer_line(o->ex, line);
        }
    }
    if (o->writes_total > o->nwrites && o->exits) {
        snprintf(line, sizeof line, "the VMM (after exit %u): %u more VMWRITEs not shown", o->exits,
                 o->writes_total - o->nwrites);
        explainer_line(o->ex, line);
    }
    char ev[80];
    uint32_t inj = (uint32_t)peek(m, VTX_VMCS_ENTRY_INTR_INFO);
    uint64_t rfl = peek(m, VTX_VMCS_GUEST_RFLAGS);
    snprintf(line, sizeof line, "VM entry %u: %s at guest RIP 0x%llx, IF=%u, interruptibility 0x%llx, injecting %s",
             o->entries + 1, launch ? "VMLAUNCH" : "VMRESUME", (unsigned long long)peek(m, VTX_VMCS_GUEST_RIP),
             (unsigned)((rfl >> 9) & 1), (unsigned long long)peek(m, VTX_VMCS_GUEST_INTERRUPTIBILITY),
             (inj >> 31) ? event_text(inj, ev, sizeof ev) : "nothing");
    explainer_line(o->ex, line);
}

static void explain_outcome(boot_obs *o, vtx_machine *m, vtx_status st, const vtx_insn_result *r)
{
    char line[600];
    if (st == VTX_OK && r->outcome == VTX_VMEXIT) {
        vtx_scenario_exit x = {
            .index = o->exits,
            .reason = r->exit_reason,
            .qualification = r->exit_qualification,
            .guest_linear = peek(m, VTX_VMCS_GUEST_LINEAR_ADDR),
            .guest_physical = peek(m, VTX_VMCS_GUEST_PHYSICAL_ADDR),
            .intr_info = (uint32_t)peek(m, VTX_VMCS_EXIT_INTR_INFO),
            .intr_error = (uint32_t)peek(m, VTX_VMCS_EXIT_INTR_ERROR_CODE),
            .idt_vectoring = (uint32_t)peek(m, VTX_VMCS_IDT_VECTORING_INFO),
            .idt_vectoring_error = (uint32_t)peek(m, VTX_VMCS_IDT_VECTORING_ERROR_CODE),
            .length = (uint32_t)peek(m, VTX_VMCS_EXIT_INSTRUCTION_LEN),
            .insn_info = (uint32_t)peek(m, VTX_VMCS_EXIT_INSTRUCTION_INFO),
            .rip = peek(m, VTX_VMCS_GUEST_RIP),
            .rflags = peek(m, VTX_VMCS_GUEST_RFLAGS),
            .interruptibility = (uint32_t)peek(m, VTX_VMCS_GUEST_INTERRUPTIBILITY),
            .activity = (uint32_t)peek(m, VTX_VMCS_GUEST_ACTIVITY_STATE),
            .pending_debug = peek(m, VTX_VMCS_GUEST_PENDING_DBG_EXCEPTIONS),
            .preemption_timer = peek(m, VTX_VMCS_PREEMPTION_TIMER_VALUE),
            .cycles = vtx_machine_cycles(m),
            .instructions = vtx_machine_instructions(m),
            .check = r->check,
            .cs_base = peek(m, VTX_VMCS_GUEST_CS_BASE),
        };
        elf_syms_label(o->syms, x.cs_base + x.rip, x.rip_label, sizeof x.rip_label);
        o->xcb.on_exit(o->ex, &x);
        snprintf(line, sizeof line, "the host continues at HOST_RIP 0x%llx", (unsigned long long)peek(m, VTX_VMCS_HOST_RIP));
        explainer_line(o->ex, line);
    } else if (st == VTX_OK && r->outcome == VTX_GUEST_STOPPED) {
        snprintf(line, sizeof line, "the run stopped in the guest: %s", r->why);
        explainer_line(o->ex, line);
    } else {
        char res[400];
        vtx_insn_result_format(r, res, sizeof res);
        snprintf(line, sizeof line, "VM entry %u failed as an instruction: %s", o->entries, res);
        explainer_line(o->ex, line);
    }
}

/* ---- the VMX-operation observer ---- */

static void rec_note(boot_obs *o, vtx_status st, const char *what)
{
    if (st != VTX_OK && o->rec_failed == VTX_OK) {
        o->rec_failed = st;
        if (!o->rec_err.message[0])
            snprintf(o->rec_err.message, sizeof o->rec_err.message, "%s failed: %s", what, vtx_status_name(st));
    }
}

static void on_vmx(void *user, vtx_machine *m, const vtx_vmx_op *op)
{
    boot_obs *o = user;
    switch (op->kind) {
    case VTX_VMX_OP_VMWRITE:
        note_write(o, op->encoding, op->value);
        return;
    case VTX_VMX_OP_ENTER:
        if (o->ex) {
            update_view(o, m);
            explain_vm_entry(o, m, op->launch);
        }
        o->nwrites = o->writes_total = 0;
        if (o->rec && o->rec_failed == VTX_OK)
            rec_note(o, vtx_trace_record_entry(o->rec, m), "recording an entry");
        cli_pictures_entry(&o->pics, m, NULL);
        return;
    case VTX_VMX_OP_OUTCOME:
        o->entries++;
        if (op->status == VTX_OK && op->result->outcome == VTX_VMEXIT)
            o->exits++;
        if (o->ex)
            explain_outcome(o, m, op->status, op->result);
        if (o->rec && o->rec_failed == VTX_OK)
            rec_note(o, vtx_trace_record_outcome(o->rec, m, op->status, op->result), "recording an outcome");
        cli_pictures_entry(&o->pics, m, op->result);
        if (o->verifying && (vtx_trace_verify_diverged(o->rec) || o->rec_failed != VTX_OK))
            vtx_machine_request_stop(m); /* the replay has its answer */
        return;
    }
}

static void on_finding(void *user, const vtx_vmm_finding *f)
{
    boot_obs *o = user;
    char line[800];
    vtx_vmm_finding_format(f, line, sizeof line);
    fprintf(stderr, "%s boot: vmm-check: %s\n", prog, line);
    if (o->ex) {
        char t[840];
        snprintf(t, sizeof t, "VMM CHECK: %s", line);
        explainer_line(o->ex, t);
    }
}

/* ---- open and close ---- */

/* An output file: "-" is @p dash; a file is written as PATH.tmp.XXXXXX (*tmp) and renamed at the end. */
static FILE *open_out(const char *path, FILE *dash, char **tmp)
{
    if (strcmp(path, "-") == 0)
        return dash;
    size_t n = strlen(path) + 16;
    *tmp = malloc(n);
    int fd = -1;
    if (*tmp) {
        snprintf(*tmp, n, "%s.tmp.XXXXXX", path);
        fd = mkstemp(*tmp);
    }
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "%s boot: %s: cannot write it: %s\n", prog, path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(*tmp);
        }
        free(*tmp);
        *tmp = NULL;
        return NULL;
    }
    cli_cleanup_add(*tmp);
    return f;
}

/* Close an output file; rename it into place when @p keep, else remove it. 0, or 121 with a message. */
static int close_out(FILE **f, char **tmp, const char *path, bool keep)
{
    int rc = 0;
    if (*f && *tmp) {
        bool bad = fclose(*f) != 0;
        if (keep && (bad || rename(*tmp, path) != 0)) {
            fprintf(stderr, "%s boot: %s: cannot write it: %s\n", prog, path, strerror(errno));
            rc = BOOT_INPUT;
        }
        if (!keep || rc)
            unlink(*tmp);
    } else if (*f) {
        fflush(*f);
    }
    *f = NULL;
    free(*tmp);
    *tmp = NULL;
    return rc;
}

int boot_obs_open(boot_obs **out, vtx_platform *p, const boot_obs_options *opt)
{
    boot_obs *o = calloc(1, sizeof *o);
    *out = o;
    if (!o)
        return BOOT_INPUT;
    o->p = p;
    vtx_machine *m = vtx_platform_machine(p);
    o->bounds_path = opt->boundaries;
    o->explain_path = opt->explain;
    if (opt->boundaries && !(o->bounds = open_out(opt->boundaries, stderr, &o->bounds_tmp)))
        return BOOT_INPUT;
    if (opt->explain) {
        o->syms = opt->kernel ? elf_syms_load(opt->kernel) : NULL;
        explain_pos from = opt->from, to = opt->to;
        explain_pos *pos[2] = {&from, &to};
        for (int i = 0; i < 2; i++) {
            if (pos[i]->kind != EXPLAIN_POS_LABEL)
                continue;
            uint64_t a;
            if (!elf_syms_address(o->syms, pos[i]->label, &a)) {
                fprintf(stderr, "%s boot: %s: '%s' is not a symbol of %s%s\n", prog, i ? "--to" : "--from",
                        pos[i]->label, opt->kernel ? opt->kernel : "the kernel",
                        o->syms ? "" : " (it has no symbol table)");
                return BOOT_USAGE;
            }
            pos[i]->kind = EXPLAIN_POS_ADDR;
            pos[i]->value = a + (uint64_t)pos[i]->offset;
        }
        if (!(o->explain_out = open_out(opt->explain, stdout, &o->explain_tmp)))
            return BOOT_INPUT;
        if (!(o->ex = explainer_new(NULL, o->explain_out, &from, &to)))
            return BOOT_INPUT;
        if (o->syms)
            explainer_set_labels(o->ex, elf_syms_label, o->syms);
        explainer_callbacks(o->ex, &o->xcb);
        explainer_header_titled(o->ex, opt->title,
                                "Every instruction boundary of the guests the bare-metal VMM runs (the count is the\n"
                                "machine's: host and guest instructions), each VM entry with what the host wrote\n"
                                "since the last exit, and each VM exit decoded.");
    }
    if (cli_pictures_open(&o->pics, opt->vcd, opt->html, opt->title) != EXIT_OK)
        return BOOT_INPUT;
    if (opt->vmm_check) {
        vtx_vmm_check_config cc;
        vtx_vmm_check_config_init(&cc);
        cc.on_finding = on_finding;
        cc.user = o;
        /* A bare-metal VMM owns the interrupt controller: an interrupt acknowledged on exit is
         * usually its own (a timer it EOIs itself), not one owed to the guest, so the two checks
         * that assume every acknowledged interrupt is the guest's are off unless asked for
         * (--vmm-check=all; docs/platform.md "The VMM checker"). */
        if (!opt->vmm_check_all)
            cc.disabled = (1u << VTX_VMM_LOST_ACKED_INTERRUPT) | (1u << VTX_VMM_DUPLICATE_INTERRUPT);
        if (vtx_vmm_check_create(&cc, &o->chk) != VTX_OK || vtx_vmm_check_attach(m, o->chk) != VTX_OK)
            return BOOT_INPUT;
    }
    vtx_trace_error err = {0};
    char msg[900];
    vtx_status st = VTX_OK;
    if (opt->record) {
        vtx_trace_options to = {.source = opt->boot ? opt->boot->kernel : NULL};
        st = vtx_trace_record_open(opt->record, &to, &o->rec, &err);
        if (st == VTX_OK)
            cli_cleanup_add(vtx_trace_record_temp_path(o->rec));
        o->record_path = opt->record;
    } else if (opt->verify) {
        st = vtx_trace_verify_open(opt->verify, &o->rec, &err);
        o->verifying = true;
    }
    if (st == VTX_OK && o->rec && opt->boot)
        st = vtx_trace_record_boot(o->rec, m, opt->boot, &err);
    if (st != VTX_OK) {
        vtx_trace_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s boot: %s\n", prog, msg);
        return BOOT_INPUT;
    }
    vtx_machine_set_observer(m, (o->bounds || o->ex || o->pics.vcd || o->pics.html || o->verifying) ? on_boundary : NULL,
                             o);
    if (o->ex || o->rec || o->pics.vcd || o->pics.html)
        vtx_machine_set_vmx_observer(m, on_vmx, o);
    return 0;
}

uint32_t boot_obs_check_errors(const boot_obs *o)
{
    vtx_vmm_check_report rep = {0};
    if (o && o->chk)
        vtx_vmm_check_get_report(o->chk, &rep);
    return rep.errors;
}

bool boot_obs_replaying(const boot_obs *o) { return o && o->verifying; }
bool boot_obs_diverged(const boot_obs *o) { return o && o->replay && o->replay->diverged; }
const vtx_replay_result *boot_obs_replay_result(const boot_obs *o) { return o ? o->replay : NULL; }

int boot_obs_close(boot_obs *o, const char *summary, int status, bool ok)
{
    int rc = 0;
    vtx_machine *m = vtx_platform_machine(o->p);
    if (o->ex)
        explainer_finish(o->ex);
    if (o->chk) {
        vtx_vmm_check_report rep;
        vtx_vmm_check_finalize(o->chk, &rep); /* what is still owed is reported now */
        vtx_vmm_check_detach(m);
        fprintf(stderr, "%s boot: vmm-check: %u error%s, %u warning%s\n", prog, rep.errors, rep.errors == 1 ? "" : "s",
                rep.warnings, rep.warnings == 1 ? "" : "s");
        if (o->ex) {
            char line[120];
            snprintf(line, sizeof line, "The VMM checker: %u error%s, %u warning%s.", rep.errors,
                     rep.errors == 1 ? "" : "s", rep.warnings, rep.warnings == 1 ? "" : "s");
            fprintf(o->explain_out, "%s\n", line);
        }
    }
    if (o->ex)
        fprintf(o->explain_out, "\nThe run: %s. %u VM exit%s.\n", summary, o->exits, o->exits == 1 ? "" : "s");
    char msg[900];
    if (o->rec) {
        vtx_trace_record_set_status(o->rec, status);
        vtx_trace_error err = {0};
        vtx_status st;
        if (o->verifying) {
            o->replay = malloc(sizeof *o->replay);
            st = o->replay ? vtx_trace_verify_close(o->rec, summary, o->replay, &err) : VTX_ERR_NO_MEMORY;
            if (st == VTX_OK) {
                o->replay->instructions = vtx_machine_instructions(m);
                o->replay->cycles = vtx_machine_cycles(m);
            } else {
                free(o->replay); /* no answer: the trace is at fault (the message follows) */
                o->replay = NULL;
            }
        } else if (o->rec_failed != VTX_OK || !ok) {
            vtx_trace_record_abort(o->rec);
            st = o->rec_failed != VTX_OK ? o->rec_failed : VTX_OK;
            err = o->rec_err;
            snprintf(err.file, sizeof err.file, "%s", o->record_path);
        } else {
            st = vtx_trace_record_close(o->rec, summary, &err);
        }
        o->rec = NULL;
        cli_cleanup_clear();
        if (st != VTX_OK) {
            vtx_trace_error_format(&err, msg, sizeof msg);
            fprintf(stderr, "%s boot: %s\n", prog, msg);
            rc = BOOT_INPUT;
        }
    }
    if (cli_pictures_close(&o->pics, ok) != EXIT_OK && !rc)
        rc = BOOT_INPUT;
    /* The explanation and the boundaries are complete even when the run ended early. */
    int r1 = close_out(&o->explain_out, &o->explain_tmp, o->explain_path, true);
    int r2 = close_out(&o->bounds, &o->bounds_tmp, o->bounds_path, true);
    return rc ? rc : r1 ? r1 : r2;
}

void boot_obs_detach(boot_obs *o)
{
    vtx_machine *m = o && o->p ? vtx_platform_machine(o->p) : NULL;
    if (m) {
        vtx_machine_set_observer(m, NULL, NULL);
        vtx_machine_set_vmx_observer(m, NULL, NULL);
        if (o->chk)
            vtx_vmm_check_detach(m);
    }
    if (o)
        o->p = NULL;
}

void boot_obs_free(boot_obs *o)
{
    if (!o)
        return;
    boot_obs_detach(o);
    vtx_vmm_check_destroy(o->chk);
    if (o->rec)
        vtx_trace_record_abort(o->rec);
    if (o->pics.vcd || o->pics.html)
        cli_pictures_close(&o->pics, false);
    explainer_free(o->ex);
    elf_syms_free(o->syms);
    close_out(&o->bounds, &o->bounds_tmp, o->bounds_path, false);
    close_out(&o->explain_out, &o->explain_tmp, o->explain_path, false);
    free(o->replay);
    free(o);
}
