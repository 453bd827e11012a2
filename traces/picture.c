/* Pictures of a run (docs/traces.md "Pictures"): the lanes every picture shows,
 * computed from boundary reports and the VMCS at each entry, and the VCD writer
 * (IEEE 1364 value change dump on the cycle clock, 1 cycle = 1 ns, for GTKWave).
 * The HTML page is in html.c. Public API only. */
#include <stdlib.h>
#include <string.h>
#include "picture_internal.h"

/* The lanes: X(id, name, width). */
#define LANES(X) \
    X(L_GUEST, "in_guest", 1) X(L_IF, "IF", 1) X(L_STI, "blocking_by_sti", 1) X(L_MOVSS, "blocking_by_mov_ss", 1) \
    X(L_NMIB, "blocking_by_nmi", 1) X(L_VNMIB, "virtual_nmi_blocking", 1) X(L_ACT, "activity", 2) \
    X(L_INTR, "intr_pending", 1) X(L_NMI, "nmi_pending", 1) X(L_IW, "intr_window_exiting", 1) \
    X(L_NW, "nmi_window_exiting", 1) X(L_EXIT, "exit", 1) X(L_REASON, "exit_reason", 32) X(L_RIP, "rip", 64)
enum {
#define X_ID(id, n, w) id,
    LANES(X_ID)
#undef X_ID
    L_COUNT
};
static const char *const lane_name[L_COUNT] = {
#define X_N(id, n, w) n,
    LANES(X_N)
#undef X_N
};
static const unsigned lane_width[L_COUNT] = {
#define X_W(id, n, w) w,
    LANES(X_W)
#undef X_W
};

void pic_lanes_of(const pic_state *s, const vtx_boundary_report *b, pic_lanes *l)
{
    l->bits = 0;
    l->bits |= (uint32_t)((b->rflags >> 9) & 1) << PIC_IF;
    l->bits |= (uint32_t)(b->interruptibility & 1) << PIC_STI;
    l->bits |= (uint32_t)((b->interruptibility >> 1) & 1) << PIC_MOVSS;
    const uint32_t nmib = (b->interruptibility >> 3) & 1;
    l->bits |= (s->virtual_nmis ? 0 : nmib) << PIC_NMIB;
    l->bits |= (s->virtual_nmis ? nmib : 0) << PIC_VNMIB;
    l->bits |= (uint32_t)(b->events[VTX_EV_EXT_INTR].state != VTX_EVS_IDLE) << PIC_INTR;
    l->bits |= (uint32_t)(b->events[VTX_EV_NMI].state != VTX_EVS_IDLE) << PIC_NMI;
    l->bits |= (uint32_t)s->intr_window << PIC_IW;
    l->bits |= (uint32_t)s->nmi_window << PIC_NW;
    l->activity = b->activity & 3;
}

/* ---- VCD ---- */

static void vcd_id(unsigned lane, char id[3])
{
    id[0] = (char)('!' + lane);
    id[1] = 0;
}

static void vcd_value(FILE *f, unsigned lane, uint64_t v)
{
    char id[3];
    vcd_id(lane, id);
    if (lane_width[lane] == 1) {
        fprintf(f, "%u%s\n", (unsigned)(v & 1), id);
        return;
    }
    char bits[65];
    int n = 0;
    for (int b = (int)lane_width[lane] - 1; b >= 0; b--)
        if (n || ((v >> b) & 1) || b == 0)
            bits[n++] = (char)('0' + ((v >> b) & 1));
    bits[n] = 0;
    fprintf(f, "b%s %s\n", bits, id);
}

static void vcd_time(vtx_picture *p, uint64_t t)
{
    if (t < p->vcd_time)
        t = p->vcd_time;
    if (!p->vcd_started || t > p->vcd_time) {
        fprintf(p->out.f, "#%llu\n", (unsigned long long)t);
        p->vcd_time = t;
        p->vcd_started = true;
    }
}

static void vcd_set(vtx_picture *p, unsigned lane, uint64_t v)
{
    if (p->vcd_have[lane] && p->vcd_last[lane] == v)
        return;
    p->vcd_have[lane] = true;
    p->vcd_last[lane] = v;
    vcd_value(p->out.f, lane, v);
}

static void vcd_header(vtx_picture *p, const char *title)
{
    FILE *f = p->out.f;
    fprintf(f, "$comment vtxref run: %s $end\n$version vtxref " VTX_VERSION_STRING " $end\n", title);
    fprintf(f, "$timescale 1 ns $end\n$comment one ns is one cycle of the model's clock $end\n");
    fprintf(f, "$scope module vtx $end\n");
    for (unsigned l = 0; l < L_COUNT; l++) {
        char id[3];
        vcd_id(l, id);
        fprintf(f, "$var wire %u %s %s $end\n", lane_width[l], id, lane_name[l]);
    }
    fprintf(f, "$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n");
    for (unsigned l = 0; l < L_COUNT; l++)
        vcd_set(p, l, 0);
    fprintf(f, "$end\n");
    p->vcd_started = true;
}

static void vcd_boundary(vtx_picture *p, const vtx_boundary_report *b, const pic_lanes *l)
{
    vcd_time(p, b->cycle);
    vcd_set(p, L_GUEST, 1);
    vcd_set(p, L_EXIT, 0);
    static const unsigned map[] = {L_IF, L_STI, L_MOVSS, L_NMIB, L_VNMIB, L_INTR, L_NMI, L_IW, L_NW};
    for (unsigned i = 0; i < PIC_NBITS; i++)
        vcd_set(p, map[i], (l->bits >> i) & 1);
    vcd_set(p, L_ACT, l->activity);
    vcd_set(p, L_RIP, b->rip);
}

static void vcd_exit(vtx_picture *p, uint64_t cycle, uint32_t reason)
{
    vcd_time(p, cycle);
    vcd_set(p, L_GUEST, 0);
    vcd_set(p, L_EXIT, 1);
    vcd_set(p, L_REASON, reason);
}

/* ---- the public writer ---- */

vtx_status vtx_picture_open(vtx_picture_kind kind, const char *path, const char *title, vtx_picture **out,
                            vtx_trace_error *err)
{
    if (!path || !out || (kind != VTX_PICTURE_VCD && kind != VTX_PICTURE_HTML))
        return VTX_ERR_INVALID_ARG;
    vtx_picture *p = calloc(1, sizeof *p);
    if (!p)
        return VTX_ERR_NO_MEMORY;
    p->kind = kind;
    vtx_status st = trace_out_open(&p->out, path, err);
    if (st != VTX_OK) {
        free(p);
        return st;
    }
    if (kind == VTX_PICTURE_VCD)
        vcd_header(p, title ? title : "");
    else
        html_header(p, title ? title : "");
    *out = p;
    return VTX_OK;
}

void vtx_picture_boundary(void *user, const vtx_boundary_report *b)
{
    vtx_picture *p = user;
    if (!p || !b)
        return;
    pic_lanes l;
    pic_lanes_of(&p->state, b, &l);
    if (p->kind == VTX_PICTURE_VCD)
        vcd_boundary(p, b, &l);
    else
        html_boundary(p, b, &l);
}

void vtx_picture_on_entry(vtx_picture *p, vtx_machine *m, const vtx_insn_result *r)
{
    if (!p || !m)
        return;
    if (!r) {
        uint64_t proc = 0, pin = 0;
        vtx_machine_peek_field(m, VTX_VMCS_PROC_CONTROLS, &proc);
        vtx_machine_peek_field(m, VTX_VMCS_PIN_CONTROLS, &pin);
        p->state.intr_window = (proc & VTX_PROC_INTR_WINDOW_EXITING) != 0;
        p->state.nmi_window = (proc & VTX_PROC_NMI_WINDOW_EXITING) != 0;
        p->state.virtual_nmis = (pin & VTX_PIN_VIRTUAL_NMIS) != 0;
        p->entries++;
        return;
    }
    if (r->outcome != VTX_VMEXIT)
        return;
    uint64_t reason = 0;
    vtx_machine_peek_field(m, VTX_VMCS_EXIT_REASON, &reason);
    p->exits++;
    if (p->kind == VTX_PICTURE_VCD) {
        vcd_exit(p, vtx_machine_cycles(m), (uint32_t)reason);
        return;
    }
    json_object *j = trace_json_outcome(m, p->entries, VTX_OK, r);
    html_exit(p, j);
    json_object_put(j);
}

const char *vtx_picture_temp_path(const vtx_picture *p) { return p ? p->out.tmp : NULL; }

vtx_status vtx_picture_close(vtx_picture *p, bool ok, vtx_trace_error *err)
{
    if (!p)
        return VTX_ERR_INVALID_ARG;
    vtx_status st = VTX_OK;
    if (!ok) {
        trace_out_abort(&p->out);
    } else {
        if (p->kind == VTX_PICTURE_HTML)
            html_footer(p);
        else
            fprintf(p->out.f, "#%llu\n", (unsigned long long)p->vcd_time + 1);
        st = trace_out_close(&p->out, err);
    }
    free(p);
    return st;
}
