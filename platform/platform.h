/*
 * A small PC-like platform around one modelled processor (docs/platform.md):
 * RAM at 0, a Multiboot (v1) loader, a port bus (COM1, the debug-exit port,
 * sinks), one MMIO window for the local APIC page, and the run that ends with
 * the kernel's debug-exit code or a documented status. Used by `vtxref boot`.
 */
#ifndef VTX_PLATFORM_H
#define VTX_PLATFORM_H

#include <stdio.h>
#include "vtxref/bus.h"
#include "vtxref/root.h"
#include "vtxref/vtxref.h"
#include "xapic.h"

/* How a platform run ended (the statuses `vtxref boot` exits with, docs/platform.md). */
typedef enum vtx_plat_end {
    VTX_PLAT_EXIT = 0,          /* the kernel wrote its code to the debug-exit port 0xF4 */
    VTX_PLAT_TRIPLE_FAULT = 1,  /* shutdown after a triple fault in root operation */
    VTX_PLAT_BUDGET = 2,        /* --max-cycles / the instruction budget ran out */
    VTX_PLAT_UNKNOWN_PORT = 3,  /* IN/OUT to a port no device claims */
    VTX_PLAT_UNMODELLED_MMIO = 4, /* an access to physical memory that is neither RAM nor a modelled device */
    VTX_PLAT_HANG = 5,          /* HLT with nothing armed that can wake the processor */
    VTX_PLAT_UNSUPPORTED = 6,   /* the model cannot go on (why says what) */
    VTX_PLAT_ENGINE_LIMIT = 7,  /* the engine cannot run it: Unicorn 2.0.1 and non-identity paging */
} vtx_plat_end;

typedef struct vtx_platform vtx_platform;

typedef struct vtx_platform_config {
    vtx_profile profile;
    uint64_t ram_bytes;   /* RAM at physical 0 (a multiple of 2 MiB; 128 MiB by default) */
    FILE *serial;         /* COM1 output (stdout when NULL) */
    bool open_bus;        /* PLAT-PORT-1: an unclaimed port reads all ones and drops OUT (PC open
                           * bus) instead of ending the run with VTX_PLAT_UNKNOWN_PORT */
} vtx_platform_config;

/* Create the platform: the machine, its RAM and the bus. */
vtx_status vtx_platform_create(const vtx_platform_config *cfg, vtx_platform **out, vtx_diag *diag);
void vtx_platform_destroy(vtx_platform *p);
/* The machine inside (owned by the platform). */
vtx_machine *vtx_platform_machine(vtx_platform *p);

/* A Multiboot module: its file and the string passed with it. */
typedef struct vtx_mb_module { const char *path; const char *string; } vtx_mb_module;

/* Load a Multiboot (v1) ELF32 kernel with its command line and modules and put
 * the processor at its entry (docs/platform.md, "Multiboot"). Bad input:
 * VTX_ERR_IO (unreadable) or VTX_ERR_INVALID_ARG with diag naming the file and why. */
vtx_status vtx_platform_load_multiboot(vtx_platform *p, const char *kernel, const char *cmdline,
                                       const vtx_mb_module *mods, size_t n_mods, vtx_diag *diag);

typedef struct vtx_platform_result {
    vtx_plat_end end;
    uint32_t exit_code;   /* VTX_PLAT_EXIT: the value written to port 0xF4 */
    uint64_t rip;
    char why[640];        /* one sentence naming the port, address, RIP ... */
} vtx_platform_result;

/* Run until the kernel exits, or a status of vtx_plat_end (0: no limit). */
vtx_status vtx_platform_run(vtx_platform *p, uint64_t max_insns, uint64_t max_cycles, vtx_platform_result *res);
const char *vtx_plat_end_name(vtx_plat_end end);

/* ---- inside the platform (the files of platform/) ---- */
struct vtx_platform {
    vtx_machine *m;
    uint8_t *ram;
    uint64_t ram_bytes;
    FILE *serial;
    bool open_bus;           /* vtx_platform_config.open_bus */
    bool serial_cr;          /* last byte was '\r' (the kernel sends "\r\n": both pass through) */
    /* Why the bus stopped the run. */
    bool stopped;
    vtx_plat_end stop_end;
    uint32_t exit_code;
    char stop_why[320];
    vtx_xapic apic;          /* the local xAPIC at IA32_APIC_BASE (platform/xapic.c) */
};

/* The port bus (ports.c) and the MMIO window (platform.c) behind the machine's bus. */
vtx_bus_rc vtx_plat_io_in(void *user, uint64_t rip, uint16_t port, unsigned size, uint32_t *value);
vtx_bus_rc vtx_plat_io_out(void *user, uint64_t rip, uint16_t port, unsigned size, uint32_t value);

#endif
