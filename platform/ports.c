/*
 * The platform's I/O ports as a table (docs/platform.md, "Ports"). A port no
 * row claims ends the run with VTX_PLAT_UNKNOWN_PORT and a message naming the
 * port, the access and the RIP: nothing is silently ignored, unless the
 * platform was made with an open bus (vtxref boot --open-bus, PLAT-PORT-1):
 * then an unclaimed port reads all ones and an OUT to it is dropped, as on a PC.
 */
#include <string.h>
#include "platform.h"

typedef vtx_bus_rc (*port_in_fn)(vtx_platform *p, uint16_t port, unsigned size, uint32_t *v);
typedef vtx_bus_rc (*port_out_fn)(vtx_platform *p, uint64_t rip, uint16_t port, unsigned size, uint32_t v);

/* COM1: THR bytes to the serial output; LSR reads THRE | TEMT (0x60), always ready. */
static vtx_bus_rc com1_in(vtx_platform *p, uint16_t port, unsigned size, uint32_t *v)
{
    (void)p, (void)size;
    *v = port == 0x3FD ? 0x60 : 0;
    return VTX_BUS_OK;
}

static vtx_bus_rc com1_out(vtx_platform *p, uint64_t rip, uint16_t port, unsigned size, uint32_t v)
{
    (void)rip, (void)size;
    if (port == 0x3F8) {
        fputc((int)(v & 0xFF), p->serial);
        if ((v & 0xFF) == '\n')
            fflush(p->serial);
    }
    return VTX_BUS_OK;
}

/* isa-debug-exit: an OUT ends the run with the value written (its access size). */
static vtx_bus_rc exit_out(vtx_platform *p, uint64_t rip, uint16_t port, unsigned size, uint32_t v)
{
    (void)port;
    p->stopped = true;
    p->stop_end = VTX_PLAT_EXIT;
    p->exit_code = size == 1 ? (v & 0xFF) : size == 2 ? (v & 0xFFFF) : v;
    snprintf(p->stop_why, sizeof p->stop_why, "the kernel wrote %u to the debug-exit port 0xF4 (RIP 0x%llx)",
             p->exit_code, (unsigned long long)rip);
    return VTX_BUS_STOP;
}

static vtx_bus_rc sink_in(vtx_platform *p, uint16_t port, unsigned size, uint32_t *v)
{
    (void)p, (void)port, (void)size;
    *v = 0;
    return VTX_BUS_OK;
}

static vtx_bus_rc ones_in(vtx_platform *p, uint16_t port, unsigned size, uint32_t *v)
{
    (void)p, (void)port;
    *v = size == 1 ? 0xFF : size == 2 ? 0xFFFF : 0xFFFFFFFFu;
    return VTX_BUS_OK;
}

static vtx_bus_rc sink_out(vtx_platform *p, uint64_t rip, uint16_t port, unsigned size, uint32_t v)
{
    (void)p, (void)rip, (void)port, (void)size, (void)v;
    return VTX_BUS_OK;
}

/* Rows: X(first, last, in, out, name). */
/* clang-format off */
#define VTX_PLATFORM_PORTS(X) \
    X(0x3F8, 0x3FF, com1_in, com1_out, "COM1 (16550 UART: THR output, LSR = 0x60, other registers sinks)") \
    X(0x0F4, 0x0F7, ones_in, exit_out, "isa-debug-exit (OUT ends the run with the value)") \
    X(0x020, 0x021, sink_in, sink_out, "PIC 1 (command/mask: sink, no PIC is modelled)") \
    X(0x0A0, 0x0A1, sink_in, sink_out, "PIC 2 (command/mask: sink)") \
    X(0x080, 0x080, sink_in, sink_out, "POST code (sink)") \
    X(0x8900, 0x8900, sink_in, sink_out, "Bochs/QEMU shutdown string (sink)") \
    X(0xCF8, 0xCFF, ones_in, sink_out, "PCI configuration (reads all ones: no device)")
/* clang-format on */

static const struct port_row {
    uint16_t first, last;
    port_in_fn in;
    port_out_fn out;
    const char *name;
} rows[] = {
#define VTX_X_PORT(f, l, i, o, n) {f, l, i, o, n},
    VTX_PLATFORM_PORTS(VTX_X_PORT)
#undef VTX_X_PORT
};

static const struct port_row *find(uint16_t port)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (port >= rows[i].first && port <= rows[i].last)
            return &rows[i];
    return NULL;
}

static vtx_bus_rc unknown(vtx_platform *p, uint64_t rip, uint16_t port, unsigned size, bool in)
{
    p->stopped = true;
    p->stop_end = VTX_PLAT_UNKNOWN_PORT;
    snprintf(p->stop_why, sizeof p->stop_why,
             "%s of %u byte%s %s port 0x%x at RIP 0x%llx: no device of this platform claims the port "
             "(docs/platform.md lists the ports)", in ? "IN" : "OUT", size, size == 1 ? "" : "s",
             in ? "from" : "to", port, (unsigned long long)rip);
    return VTX_BUS_STOP;
}

vtx_bus_rc vtx_plat_io_in(void *user, uint64_t rip, uint16_t port, unsigned size, uint32_t *value)
{
    vtx_platform *p = user;
    const struct port_row *r = find(port);
    if (!r && p->open_bus) /* PLAT-PORT-1: nothing drives the bus: all ones */
        return ones_in(p, port, size, value);
    return r ? r->in(p, port, size, value) : unknown(p, rip, port, size, true);
}

vtx_bus_rc vtx_plat_io_out(void *user, uint64_t rip, uint16_t port, unsigned size, uint32_t value)
{
    vtx_platform *p = user;
    const struct port_row *r = find(port);
    if (!r && p->open_bus) /* PLAT-PORT-1: nobody listens: the write is lost */
        return sink_out(p, rip, port, size, value);
    return r ? r->out(p, rip, port, size, value) : unknown(p, rip, port, size, false);
}
