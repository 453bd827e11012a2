/**
 * @file bus.h
 * @brief The machine's platform side: port I/O, one MMIO window and an interrupt source.
 *
 * A ::vtx_bus is a table of callbacks a platform (platform/, `vtxref boot`)
 * attaches to a machine with vtx_machine_set_bus(). The model calls it from
 * VMX root operation (root.h) and from VMX non-root operation alike:
 * - IN/OUT that do not exit go to io_in / io_out;
 * - every access to the MMIO window [mmio_base, mmio_base + mmio_size) goes to
 *   mmio_read / mmio_write, in the middle of the instruction, with `now` the
 *   cycle clock of that instruction; after a write the run ends (before the
 *   next translation block) so the boundary sees what the write changed;
 * - at every instruction boundary the interrupt source is sampled: a pending
 *   maskable interrupt (intr_pending), an NMI (nmi_take); a delivered
 *   interrupt, or one acknowledged on VM exit ("acknowledge interrupt on exit"),
 *   is acknowledged (intr_ack);
 * - HLT fast-forwards the cycle clock to next_deadline;
 * - msr_read / msr_write see RDMSR/WRMSR first (IA32_APIC_BASE), cr8_* MOV CR8.
 * Any callback may be NULL (no device). A callback returning ::VTX_BUS_STOP
 * ends the run; the platform keeps the reason.
 */
#ifndef VTXREF_BUS_H
#define VTXREF_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include "machine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief What a bus callback asks of the run. */
typedef enum vtx_bus_rc {
    VTX_BUS_OK = 0,   /**< Go on. */
    VTX_BUS_STOP = 1, /**< End the run after this access (debug exit, unknown port, unmodelled device). */
    VTX_BUS_GP = 2,   /**< msr_write: the write raises #GP(0). */
    VTX_BUS_NOT_MINE = 3, /**< msr_read / msr_write: the model's MSR file handles it. */
} vtx_bus_rc;

/** @brief The callbacks (caller-owned; must outlive the machine or be detached). */
typedef struct vtx_bus {
    void *user; /**< Passed to every callback. */
    /** IN of @p size bytes (1, 2, 4) from @p port at @p rip; *value (zero-extended) is the result. */
    vtx_bus_rc (*io_in)(void *user, uint64_t rip, uint16_t port, unsigned size, uint32_t *value);
    /** OUT of @p size bytes. */
    vtx_bus_rc (*io_out)(void *user, uint64_t rip, uint16_t port, unsigned size, uint32_t value);
    uint64_t mmio_base; /**< The MMIO window (4-KiB aligned; size 0: none). */
    uint64_t mmio_size; /**< Its size. */
    /** A read of @p size bytes at @p offset into the window, at cycle @p now. */
    uint64_t (*mmio_read)(void *user, uint64_t now, uint64_t offset, unsigned size);
    /** A write. */
    void (*mmio_write)(void *user, uint64_t now, uint64_t offset, unsigned size, uint64_t value);
    /** The highest-priority maskable interrupt the source presents, or -1. */
    int (*intr_pending)(void *user, uint64_t now);
    /** The processor acknowledged @p vector (INTA: IRR to ISR). */
    void (*intr_ack)(void *user, uint64_t now, uint8_t vector);
    /** True (once) when an NMI is delivered to the processor. */
    bool (*nmi_take)(void *user, uint64_t now);
    /** The next cycle at which the source changes by itself (a timer), or UINT64_MAX. */
    uint64_t (*next_deadline)(void *user);
    /** RDMSR: ::VTX_BUS_OK with *value, ::VTX_BUS_GP, or ::VTX_BUS_NOT_MINE. */
    vtx_bus_rc (*msr_read)(void *user, uint64_t now, uint32_t index, uint64_t *value);
    /** WRMSR: ::VTX_BUS_OK, ::VTX_BUS_GP, or ::VTX_BUS_NOT_MINE. */
    vtx_bus_rc (*msr_write)(void *user, uint64_t now, uint32_t index, uint64_t value);
    /** MOV to CR8 (TPR bits 7:4 = CR8[3:0]). */
    void (*cr8_write)(void *user, uint64_t now, uint64_t cr8);
    /** MOV from CR8. */
    uint64_t (*cr8_read)(void *user, uint64_t now);
} vtx_bus;

/** @brief Attach a bus (NULL detaches). The table is copied; `user` stays the caller's. */
VTX_API vtx_status vtx_machine_set_bus(vtx_machine *machine, const vtx_bus *bus);

#ifdef __cplusplus
}
#endif
#endif
