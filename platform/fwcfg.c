/*
 * The fw_cfg device's port interface (platform/fwcfg.h): a selected item read
 * byte by byte (own rules FWCFG-1..3 in docs/rules-own.tsv). Only what
 * kvm-unit-tests reads is modelled: RAM_SIZE, NB_CPUS and MAX_RAM
 * (lib/x86/fwcfg.c reads each as a little-endian integer of 8 or 2 bytes).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "fwcfg.h"

static vtx_status refuse(vtx_fwcfg *f, vtx_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static vtx_status refuse(vtx_fwcfg *f, vtx_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof f->why, fmt, ap);
    va_end(ap);
    return st;
}

vtx_status vtx_fwcfg_init(vtx_fwcfg *f, const vtx_fwcfg_config *cfg)
{
    if (!f || !cfg)
        return VTX_ERR_INVALID_ARG;
    memset(f, 0, sizeof *f);
    if (cfg->nb_cpus == 0)
        return refuse(f, VTX_ERR_INVALID_ARG, "fw_cfg: NB_CPUS 0 (at least 1)");
    f->cfg = *cfg;
    return VTX_OK;
}

bool vtx_fwcfg_claims(uint16_t port) { return port >= VTX_FWCFG_PORT_FIRST && port <= VTX_FWCFG_PORT_LAST; }

/* FWCFG-2: the selected item's value and size in bytes; false for a key without an item. */
static bool item(const vtx_fwcfg *f, uint16_t key, uint64_t *value, unsigned *size)
{
    switch (key) {
#define VTX_FWCFG_ITEM_ROW(name, k, sz, what) \
    case k:                                   \
        *size = sz;                           \
        break;
        VTX_FWCFG_ITEMS(VTX_FWCFG_ITEM_ROW)
#undef VTX_FWCFG_ITEM_ROW
    default:
        return false;
    }
    *value = key == VTX_FWCFG_RAM_SIZE ? f->cfg.ram_size : key == VTX_FWCFG_NB_CPUS ? f->cfg.nb_cpus : f->cfg.max_ram;
    return true;
}

/* Common checks: the port is ours and the size is an x86 port size. */
static vtx_status check(vtx_fwcfg *f, uint16_t port, unsigned size, const char *dir)
{
    if (!vtx_fwcfg_claims(port))
        return refuse(f, VTX_ERR_INVALID_ARG, "fw_cfg: %s port %#x is not the device's (0x510..0x51B)", dir, port);
    if (size != 1 && size != 2 && size != 4)
        return refuse(f, VTX_ERR_INVALID_ARG, "fw_cfg: %s of %u bytes", dir, size);
    return VTX_OK;
}

vtx_status vtx_fwcfg_out(vtx_fwcfg *f, uint16_t port, unsigned size, uint32_t value)
{
    if (!f)
        return VTX_ERR_INVALID_ARG;
    f->why[0] = 0;
    vtx_status st = check(f, port, size, "OUT to");
    if (st != VTX_OK)
        return st;
    if (port == VTX_FWCFG_PORT_SELECTOR && size == 2) {
        f->selector = (uint16_t)value; /* FWCFG-1: select and rewind */
        f->offset = 0;
        return VTX_OK;
    }
    /* FWCFG-3 */
    if (port == VTX_FWCFG_PORT_DATA)
        return refuse(f, VTX_ERR_UNSUPPORTED, "fw_cfg: OUT to the data port 0x511 (item writes) is not modelled");
    if (port >= 0x514)
        return refuse(f, VTX_ERR_UNSUPPORTED, "fw_cfg: OUT to the DMA address register %#x is not modelled", port);
    return refuse(f, VTX_ERR_UNSUPPORTED, "fw_cfg: %u-byte OUT to port %#x is not modelled (the selector is a "
                  "16-bit OUT to 0x510)", size, port);
}

vtx_status vtx_fwcfg_in(vtx_fwcfg *f, uint16_t port, unsigned size, uint32_t *value)
{
    if (!f || !value)
        return VTX_ERR_INVALID_ARG;
    f->why[0] = 0;
    *value = 0xFFFFFFFFu;
    vtx_status st = check(f, port, size, "IN from");
    if (st != VTX_OK)
        return st;
    if (port != VTX_FWCFG_PORT_DATA || size != 1)
        return refuse(f, VTX_ERR_UNSUPPORTED, "fw_cfg: %u-byte IN from port %#x is not modelled (the data port "
                      "is an 8-bit IN from 0x511)", size, port);
    uint64_t v = 0;
    unsigned len = 0;
    *value = 0; /* FWCFG-2: a key without an item, or past the end of one, reads 0 */
    if (item(f, f->selector, &v, &len) && f->offset < len)
        *value = (uint32_t)(v >> (8 * f->offset)) & 0xFFu; /* FWCFG-1: little-endian, byte by byte */
    if (f->offset < UINT32_MAX)
        f->offset++;
    return VTX_OK;
}
