/**
 * @file fwcfg.h
 * @brief The QEMU firmware-configuration device (fw_cfg), I/O-port interface
 * only, with the three items kvm-unit-tests reads (own rules FWCFG-*,
 * docs/platform.md "fw_cfg").
 *
 * OUT of a 16-bit key to the selector port 0x510 selects an item and rewinds
 * it; each 8-bit IN from the data port 0x511 returns the item's next byte
 * (items are little-endian integers; past the end, and for a key without an
 * item, a read returns 0). The device decodes ports 0x510..0x51B (QEMU's
 * selector, data and DMA address registers); accesses it does not model return
 * ::VTX_ERR_UNSUPPORTED with vtx_fwcfg::why naming them, never silently.
 */
#ifndef VTXREF_PLATFORM_FWCFG_H
#define VTXREF_PLATFORM_FWCFG_H

#include <stdbool.h>
#include <stdint.h>
#include <vtxref/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Selector port (16-bit OUT). */
#define VTX_FWCFG_PORT_SELECTOR 0x510u
/** @brief Data port (8-bit IN). */
#define VTX_FWCFG_PORT_DATA 0x511u
/** @brief First port the device decodes. */
#define VTX_FWCFG_PORT_FIRST 0x510u
/** @brief Last port the device decodes (the DMA address register ends at 0x51B; DMA is not modelled). */
#define VTX_FWCFG_PORT_LAST 0x51Bu

/** @brief Item keys (the selector values), their sizes in bytes and what they hold. */
#define VTX_FWCFG_ITEMS(X)                                                     \
    X(VTX_FWCFG_RAM_SIZE, 0x03, 8, "RAM size in bytes")                        \
    X(VTX_FWCFG_NB_CPUS, 0x05, 2, "number of CPUs")                            \
    X(VTX_FWCFG_MAX_RAM, 0x11, 8, "highest RAM address + 1 (kvm-unit-tests)")

/** @brief The item keys. */
enum vtx_fwcfg_key {
#define VTX_FWCFG_KEY_ROW(name, key, size, what) name = key,
    VTX_FWCFG_ITEMS(VTX_FWCFG_KEY_ROW)
#undef VTX_FWCFG_KEY_ROW
};

/** @brief What the device reports (caller-owned). */
typedef struct vtx_fwcfg_config {
    uint64_t ram_size; /**< Key 0x03, 8 bytes. */
    uint16_t nb_cpus;  /**< Key 0x05, 2 bytes; at least 1. */
    uint64_t max_ram;  /**< Key 0x11, 8 bytes. */
} vtx_fwcfg_config;

/** @brief State of the device (caller-owned, plain data). */
typedef struct vtx_fwcfg {
    vtx_fwcfg_config cfg; /**< The values served. */
    uint16_t selector;    /**< The selected key (0 at reset). */
    uint32_t offset;      /**< Next byte of the selected item. */
    char why[160];        /**< What the last refused call refused; empty after a success. */
} vtx_fwcfg;

/**
 * @brief Reset the device to serve @p cfg (key 0 selected). ::VTX_ERR_INVALID_ARG
 * for NULL or nb_cpus 0 (a kernel would wait for 65535 other CPUs), with why.
 */
vtx_status vtx_fwcfg_init(vtx_fwcfg *f, const vtx_fwcfg_config *cfg);

/** @brief True for the ports the device decodes (0x510..0x51B), for the caller's port table. */
bool vtx_fwcfg_claims(uint16_t port);

/**
 * @brief OUT of @p size bytes (1, 2 or 4) of @p value to @p port (FWCFG-1).
 * A 16-bit OUT to 0x510 selects key @p value and rewinds. ::VTX_ERR_UNSUPPORTED
 * (named in why) for any other access to 0x510..0x51B: another width at 0x510,
 * a write to the data port (QEMU's legacy write path), the DMA registers
 * (FWCFG-3). ::VTX_ERR_INVALID_ARG for a port outside 0x510..0x51B or a size
 * other than 1, 2, 4.
 */
vtx_status vtx_fwcfg_out(vtx_fwcfg *f, uint16_t port, unsigned size, uint32_t value);

/**
 * @brief IN of @p size bytes from @p port into @p value (FWCFG-1, FWCFG-2). An
 * 8-bit IN from 0x511 returns the next byte of the selected item (0 past its
 * end or for a key without an item). Other accesses as vtx_fwcfg_out(); *value
 * is all ones for a refused access.
 */
vtx_status vtx_fwcfg_in(vtx_fwcfg *f, uint16_t port, unsigned size, uint32_t *value);

#ifdef __cplusplus
}
#endif
#endif
