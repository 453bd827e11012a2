/*
 * The fw_cfg device (platform/fwcfg.h): the selector and data ports, the three
 * items kvm-unit-tests reads, and the accesses it refuses by name (own rules
 * FWCFG-1..3 in docs/rules-own.tsv).
 */
#include <criterion/criterion.h>
#include <string.h>
#include "covers.h"
#include "../platform/fwcfg.h"

static vtx_fwcfg f;

static void setup(void)
{
    vtx_fwcfg_config cfg = {.ram_size = 0x0000000108000000ull, .nb_cpus = 0x0102, .max_ram = 0x1122334455667788ull};
    cr_assert_eq(vtx_fwcfg_init(&f, &cfg), VTX_OK);
}

TestSuite(fwcfg, .init = setup);

static void select_key(uint16_t key) { cr_assert_eq(vtx_fwcfg_out(&f, 0x510, 2, key), VTX_OK, "%s", f.why); }

static uint8_t byte(void)
{
    uint32_t v = 0xDEAD;
    cr_assert_eq(vtx_fwcfg_in(&f, 0x511, 1, &v), VTX_OK, "%s", f.why);
    cr_assert_leq(v, 0xFFu);
    return (uint8_t)v;
}

/* kvm-unit-tests' fwcfg_get_u: select, then @p n bytes, least significant first. */
static uint64_t read_le(uint16_t key, unsigned n)
{
    select_key(key);
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)byte() << (8 * i);
    return v;
}

Test(fwcfg, items_read_little_endian)
{
    VTX_COVERS("FWCFG-1", "FWCFG-2");
    cr_assert_eq(read_le(0x03, 8), 0x0000000108000000ull);
    cr_assert_eq(read_le(0x05, 2), 0x0102u);
    cr_assert_eq(read_le(0x11, 8), 0x1122334455667788ull);
    select_key(0x11);
    cr_assert_eq(byte(), 0x88, "the least significant byte first");
    cr_assert_eq(byte(), 0x77);
}

Test(fwcfg, selecting_rewinds)
{
    VTX_COVERS("FWCFG-1");
    select_key(0x11);
    byte();
    byte();
    select_key(0x11);
    cr_assert_eq(byte(), 0x88);
    select_key(0x05);
    cr_assert_eq(byte(), 0x02);
}

Test(fwcfg, past_the_end_and_unknown_keys_read_zero)
{
    VTX_COVERS("FWCFG-2");
    cr_assert_eq(read_le(0x05, 8), 0x0102u, "NB_CPUS is 2 bytes: the rest read 0");
    cr_assert_eq(read_le(0x00, 8), 0, "no signature item");
    cr_assert_eq(read_le(0x04, 8), 0);
    cr_assert_eq(read_le(0x8003, 8), 0, "an arch-local key is another key");
    cr_assert_eq(read_le(0xFFFF, 4), 0);
}

Test(fwcfg, unmodelled_accesses_are_named)
{
    VTX_COVERS("FWCFG-3");
    uint32_t v;
    cr_assert_eq(vtx_fwcfg_out(&f, 0x510, 1, 3), VTX_ERR_UNSUPPORTED);
    cr_assert(strstr(f.why, "0x510"), "why: %s", f.why);
    cr_assert_eq(vtx_fwcfg_out(&f, 0x511, 1, 3), VTX_ERR_UNSUPPORTED);
    cr_assert(strstr(f.why, "data port"), "why: %s", f.why);
    cr_assert_eq(vtx_fwcfg_out(&f, 0x514, 4, 0), VTX_ERR_UNSUPPORTED);
    cr_assert(strstr(f.why, "DMA"), "why: %s", f.why);
    cr_assert_eq(vtx_fwcfg_in(&f, 0x510, 2, &v), VTX_ERR_UNSUPPORTED);
    cr_assert_eq(v, 0xFFFFFFFFu);
    cr_assert_eq(vtx_fwcfg_in(&f, 0x511, 2, &v), VTX_ERR_UNSUPPORTED);
    cr_assert_eq(vtx_fwcfg_out(&f, 0x3F8, 1, 0), VTX_ERR_INVALID_ARG, "not the device's port");
    cr_assert_eq(vtx_fwcfg_out(&f, 0x510, 3, 0), VTX_ERR_INVALID_ARG);
    /* A refused access leaves the selection alone. */
    select_key(0x03);
    cr_assert_eq(vtx_fwcfg_out(&f, 0x510, 1, 5), VTX_ERR_UNSUPPORTED);
    cr_assert_eq(byte(), 0x00);
    cr_assert_eq(byte(), 0x00);
    cr_assert_eq(byte(), 0x00);
    cr_assert_eq(byte(), 0x08);
    cr_assert_str_eq((byte(), f.why), "", "a success clears why");
}

Test(fwcfg, claims_its_ports)
{
    VTX_COVERS("FWCFG-3");
    cr_assert(vtx_fwcfg_claims(0x510) && vtx_fwcfg_claims(0x511) && vtx_fwcfg_claims(0x51B));
    cr_assert(!vtx_fwcfg_claims(0x50F) && !vtx_fwcfg_claims(0x51C));
}

Test(fwcfg, config_needs_a_cpu)
{
    VTX_COVERS("FWCFG-2");
    vtx_fwcfg_config cfg = {.ram_size = 1, .nb_cpus = 0};
    cr_assert_eq(vtx_fwcfg_init(&f, &cfg), VTX_ERR_INVALID_ARG);
    cr_assert(strstr(f.why, "NB_CPUS"), "why: %s", f.why);
    cr_assert_eq(vtx_fwcfg_init(&f, NULL), VTX_ERR_INVALID_ARG);
}
