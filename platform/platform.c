/*
 * The platform (platform.h, docs/platform.md): the machine, RAM at physical 0,
 * the bus (ports.c, the local APIC window), and the run with its statuses.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "platform.h"

static const char *const end_names[] = {"exit", "triple-fault", "budget", "unknown-port", "unmodelled-mmio", "hang",
                                        "unsupported", "engine-limit"};

const char *vtx_plat_end_name(vtx_plat_end end)
{
    return (unsigned)end < sizeof end_names / sizeof end_names[0] ? end_names[end] : "?";
}

/* Physical ranges a kernel may touch that are not modelled: named in the message. */
static const char *device_name(uint64_t pa)
{
    if (pa >= 0xFEC00000u && pa < 0xFEC01000u)
        return "the I/O APIC (not modelled)";
    if (pa >= 0xFED00000u && pa < 0xFED01000u)
        return "the HPET (not modelled)";
    if (pa >= 0xFEE00000u && pa < 0xFEE01000u)
        return "the local APIC page while the APIC is disabled or moved";
    if (pa >= 0xA0000u && pa < 0x100000u)
        return "legacy VGA/BIOS memory (not modelled)";
    return "no device";
}

/* The local xAPIC behind the machine's bus (bus.h): its page at 0xFEE00000,
 * IA32_APIC_BASE, CR8 <-> TPR, the interrupt source and the timer deadline. */
static uint64_t apic_mmio_read(void *user, uint64_t now, uint64_t offset, unsigned size)
{
    vtx_platform *p = user;
    uint32_t v = 0;
    if (vtx_xapic_mmio_read(&p->apic, now, (uint32_t)(offset & ~3ull), &v) != VTX_OK)
        return 0;
    (void)size;
    return v >> ((offset & 3) * 8);
}

static void apic_mmio_write(void *user, uint64_t now, uint64_t offset, unsigned size, uint64_t value)
{
    vtx_platform *p = user;
    (void)size;
    (void)vtx_xapic_mmio_write(&p->apic, now, (uint32_t)(offset & ~3ull), (uint32_t)value);
}

static int apic_pending(void *user, uint64_t now) { return vtx_xapic_pending(&((vtx_platform *)user)->apic, now); }
static void apic_ack(void *user, uint64_t now, uint8_t v) { (void)vtx_xapic_ack(&((vtx_platform *)user)->apic, now, v); }
static bool apic_nmi(void *user, uint64_t now) { return vtx_xapic_take_nmi(&((vtx_platform *)user)->apic, now); }
static uint64_t apic_deadline(void *user) { return vtx_xapic_next_deadline(&((vtx_platform *)user)->apic); }

static vtx_bus_rc apic_msr_read(void *user, uint64_t now, uint32_t index, uint64_t *value)
{
    (void)now;
    if (index != 0x1B)
        return VTX_BUS_NOT_MINE;
    *value = vtx_xapic_get_base(&((vtx_platform *)user)->apic);
    return VTX_BUS_OK;
}

static vtx_bus_rc apic_msr_write(void *user, uint64_t now, uint32_t index, uint64_t value)
{
    if (index != 0x1B)
        return VTX_BUS_NOT_MINE;
    return vtx_xapic_set_base(&((vtx_platform *)user)->apic, now, value) == VTX_OK ? VTX_BUS_OK : VTX_BUS_GP;
}

static void apic_cr8_write(void *user, uint64_t now, uint64_t v)
{
    (void)now;
    (void)vtx_xapic_set_cr8(&((vtx_platform *)user)->apic, v);
}

static uint64_t apic_cr8_read(void *user, uint64_t now)
{
    (void)now;
    return vtx_xapic_get_cr8(&((vtx_platform *)user)->apic);
}

vtx_status vtx_platform_create(const vtx_platform_config *cfg, vtx_platform **out, vtx_diag *diag)
{
    if (!cfg || !out)
        return VTX_ERR_INVALID_ARG;
    *out = NULL;
    uint64_t ram = cfg->ram_bytes ? cfg->ram_bytes : 128ull << 20;
    if ((ram & 0x1FFFFF) || ram < (4ull << 20) || ram > (3ull << 30)) {
        if (diag)
            snprintf(diag->message, sizeof diag->message, "RAM of %llu bytes: it must be a multiple of 2 MiB "
                     "between 4 MiB and 3 GiB", (unsigned long long)ram);
        return VTX_ERR_INVALID_ARG;
    }
    vtx_platform *p = calloc(1, sizeof *p);
    if (!p)
        return VTX_ERR_NO_MEMORY;
    p->ram_bytes = ram;
    p->serial = cfg->serial ? cfg->serial : stdout;
    p->open_bus = cfg->open_bus;
    void *mem = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        free(p);
        return VTX_ERR_NO_MEMORY;
    }
    p->ram = mem;
    vtx_machine_config mc;
    vtx_status st = vtx_machine_config_init(&mc, &cfg->profile);
    if (st == VTX_OK)
        st = vtx_machine_create(&mc, &p->m, diag);
    if (st == VTX_OK)
        st = vtx_machine_map(p->m, 0, ram, p->ram, VTX_MEM_RWX, diag);
    if (st == VTX_OK) {
        vtx_xapic_init(&p->apic, 0);
        vtx_xapic_set_maxphyaddr(&p->apic, cfg->profile.phys_addr_width);
        vtx_bus bus = {.user = p, .io_in = vtx_plat_io_in, .io_out = vtx_plat_io_out,
                       .mmio_base = 0xFEE00000u, .mmio_size = 0x1000, .mmio_read = apic_mmio_read,
                       .mmio_write = apic_mmio_write, .intr_pending = apic_pending, .intr_ack = apic_ack,
                       .nmi_take = apic_nmi, .next_deadline = apic_deadline, .msr_read = apic_msr_read,
                       .msr_write = apic_msr_write, .cr8_write = apic_cr8_write, .cr8_read = apic_cr8_read};
        st = vtx_machine_set_bus(p->m, &bus);
    }
    if (st != VTX_OK) {
        vtx_platform_destroy(p);
        return st;
    }
    *out = p;
    return VTX_OK;
}

void vtx_platform_destroy(vtx_platform *p)
{
    if (!p)
        return;
    vtx_machine_destroy(p->m);
    if (p->ram)
        munmap(p->ram, p->ram_bytes);
    free(p);
}

vtx_machine *vtx_platform_machine(vtx_platform *p) { return p ? p->m : NULL; }

vtx_status vtx_platform_run(vtx_platform *p, uint64_t max_insns, uint64_t max_cycles, vtx_platform_result *res)
{
    if (!p || !res)
        return VTX_ERR_INVALID_ARG;
    memset(res, 0, sizeof *res);
    p->stopped = false;
    vtx_root_result rr;
    vtx_status st = vtx_root_run(p->m, max_insns, max_cycles, &rr);
    fflush(p->serial);
    if (st != VTX_OK)
        return st;
    res->rip = rr.rip;
    const char *where = rr.in_guest ? " (in VMX non-root operation)" : "";
    switch (rr.end) {
    case VTX_ROOT_BUS_STOP:
        if (p->stopped) {
            res->end = p->stop_end;
            res->exit_code = p->exit_code;
            snprintf(res->why, sizeof res->why, "%s%s", p->stop_why, where);
            return VTX_OK;
        }
        res->end = VTX_PLAT_UNSUPPORTED;
        break;
    case VTX_ROOT_BUDGET: res->end = VTX_PLAT_BUDGET; break;
    case VTX_ROOT_TRIPLE_FAULT: res->end = VTX_PLAT_TRIPLE_FAULT; break;
    case VTX_ROOT_HANG: res->end = VTX_PLAT_HANG; break;
    case VTX_ROOT_ENGINE_LIMIT: res->end = VTX_PLAT_ENGINE_LIMIT; break;
    case VTX_ROOT_UNMAPPED:
        res->end = VTX_PLAT_UNMODELLED_MMIO;
        snprintf(res->why, sizeof res->why, "unmodelled physical address 0x%llx (%s): %s%s",
                 (unsigned long long)rr.address, device_name(rr.address), rr.why, where);
        return VTX_OK;
    default: res->end = VTX_PLAT_UNSUPPORTED; break;
    }
    snprintf(res->why, sizeof res->why, "%s%s", rr.why, where);
    return VTX_OK;
}
