/* Pictures (picture.c: lanes and VCD; html.c: the HTML page). Internal. */
#ifndef VTX_PICTURE_INTERNAL_H
#define VTX_PICTURE_INTERNAL_H

#include "trace_internal.h"

/* One-bit lanes of a boundary, as bits of pic_lanes::bits. */
enum { PIC_IF, PIC_STI, PIC_MOVSS, PIC_NMIB, PIC_VNMIB, PIC_INTR, PIC_NMI, PIC_IW, PIC_NW, PIC_NBITS };

typedef struct pic_lanes {
    uint32_t bits;
    uint32_t activity;
} pic_lanes;

typedef struct pic_state {
    bool intr_window, nmi_window, virtual_nmis; /* from the VMCS at the last entry */
} pic_state;

/* The HTML page keeps at most this many boundaries (those where a lane or the action changes, and the first). */
#define PIC_HTML_MAX_BOUNDARIES 200000

struct vtx_picture {
    vtx_picture_kind kind;
    trace_out out;
    pic_state state;
    uint64_t entries, exits;
    /* VCD */
    bool vcd_started;
    uint64_t vcd_time;
    bool vcd_have[16];
    uint64_t vcd_last[16];
    /* HTML */
    uint64_t kept, dropped, seen;
    bool have_prev;
    uint32_t prev_key;
};

void pic_lanes_of(const pic_state *s, const vtx_boundary_report *b, pic_lanes *l);
void html_header(vtx_picture *p, const char *title);
void html_boundary(vtx_picture *p, const vtx_boundary_report *b, const pic_lanes *l);
void html_exit(vtx_picture *p, json_object *exit);
void html_footer(vtx_picture *p);

#endif
