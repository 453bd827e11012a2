/*
 * The machine's bus (include/vtxref/bus.h): what the platform behind the
 * processor answers. Port I/O and the MMIO window reach it from root and
 * non-root operation; the interrupt source is sampled at every boundary of
 * both (rule ROOT-INTR-1), and an interrupt is acknowledged where the
 * processor takes it: delivery, or a VM exit with "acknowledge interrupt on
 * exit" (EXIT-4).
 */
#include "execute.h"

vtx_status vtx_machine_set_bus(vtx_machine *m, const vtx_bus *bus)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    if (bus && bus->mmio_size && ((bus->mmio_base | bus->mmio_size) & 0xfff))
        return VTX_ERR_INVALID_ARG;
    m->has_bus = bus != NULL;
    if (bus)
        m->bus = *bus;
    else
        memset(&m->bus, 0, sizeof m->bus);
    /* A window already mapped stays in the engine; a new engine gets the new one. */
    vtx_execute_release(m);
    return VTX_OK;
}

/* The cycle clock at the MMIO access in progress (BUS-MMIO-1): the clock at
 * the run's start plus the instructions the engine retired before the accessing
 * one (those a boundary hook already counted excepted), at the cost the run
 * retires them with. */
static uint64_t mmio_now(const vtx_machine *m)
{
    uint64_t before = vtx_engine_mmio_retired(m->engine);
    const uint64_t hooked = vtx_hook_retired(m);
    before = before > hooked ? before - hooked : 0;
    return m->cycles + before * m->costs.by_class[VTX_IC_OTHER];
}

/* These two are the engine's window callbacks: they run only inside an engine run. */
static uint64_t mmio_rd(void *user, uint64_t offset, unsigned size)
{
    vtx_machine *m = user;
    return m->bus.mmio_read ? m->bus.mmio_read(m->bus.user, mmio_now(m), offset, size) : ~0ull;
}

/* BUS-MMIO-2: a write can make an interrupt or NMI pending (ICR self-IPI, EOI,
 * TPR, SPIV) or arm a timer whose deadline falls inside the run: the run ends
 * after the writing instruction and the boundary samples the bus again. */
static void mmio_wr(void *user, uint64_t offset, unsigned size, uint64_t value)
{
    vtx_machine *m = user;
    if (m->bus.mmio_write)
        m->bus.mmio_write(m->bus.user, mmio_now(m), offset, size, value);
    vtx_engine_stop_after_access(m->engine);
}

bool vtx_bus_engine_setup(vtx_machine *m)
{
    if (!m->has_bus || !m->bus.mmio_size || m->mmio_on_engine || !m->engine)
        return true;
    if (vtx_engine_map_mmio(m->engine, m->bus.mmio_base, m->bus.mmio_size, mmio_rd, mmio_wr, m) != 0)
        return false;
    m->mmio_on_engine = true;
    return true;
}

void vtx_bus_sample(vtx_machine *m)
{
    if (!m->has_bus)
        return;
    if (m->bus.nmi_take && m->bus.nmi_take(m->bus.user, m->cycles))
        m->nmi_pending = true;
    if (m->bus.intr_pending) {
        int v = m->bus.intr_pending(m->bus.user, m->cycles);
        m->intr_line = v >= 0;
        m->intr_vector = v >= 0 ? (uint8_t)v : 0;
    }
}

void vtx_bus_ack(vtx_machine *m, uint8_t vector)
{
    if (m->has_bus && m->bus.intr_ack)
        m->bus.intr_ack(m->bus.user, m->cycles, vector);
}

uint64_t vtx_bus_deadline(const vtx_machine *m)
{
    if (!m->has_bus || !m->bus.next_deadline)
        return UINT64_MAX;
    return m->bus.next_deadline(m->bus.user);
}

bool vtx_bus_in(vtx_machine *m, uint64_t rip, uint16_t port, unsigned size, uint32_t *value)
{
    *value = size == 1 ? 0xFF : size == 2 ? 0xFFFF : 0xFFFFFFFFu; /* no device: all ones */
    if (!m->has_bus || !m->bus.io_in)
        return true;
    if (m->bus.io_in(m->bus.user, rip, port, size, value) == VTX_BUS_STOP) {
        m->bus_stop = true;
        return false;
    }
    return true;
}

bool vtx_bus_out(vtx_machine *m, uint64_t rip, uint16_t port, unsigned size, uint32_t value)
{
    if (!m->has_bus || !m->bus.io_out)
        return true;
    if (m->bus.io_out(m->bus.user, rip, port, size, value) == VTX_BUS_STOP) {
        m->bus_stop = true;
        return false;
    }
    return true;
}
