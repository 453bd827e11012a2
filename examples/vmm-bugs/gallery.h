/*
 * The buggy-VMM gallery (examples/vmm-bugs/README.md): the harness every
 * program shares. Public API only. Each program is a small VMM that makes one
 * mistake the way a real hypervisor would; run with --fixed it is its correct
 * twin. The VMM checker (vmm_check.h) watches the run; the program exits 0
 * when the verdict is the expected one: exactly one finding of the expected
 * kind for the bug, none for the fix (and none at all for the correct VMMs).
 *
 * Guest memory layout (identity mapped, flat 64-bit, vtx_setup_flat64):
 *   GUEST     0x10000  guest code
 *   HANDLERS  0x20000  handler of vector v at HANDLERS + 16 * v (16 bytes each)
 *   STACK     0x80000  initial RSP
 *   TABLES   0x100000  page tables, GDT, IDT (5 pages)
 */
#ifndef VTX_GALLERY_H
#define VTX_GALLERY_H

#include <stdbool.h>
#include <stdint.h>
#include "vtxref/vtxref.h"

#define GAL_GUEST 0x10000u
#define GAL_HANDLERS 0x20000u
#define GAL_STACK 0x80000u
#define GAL_TABLES 0x100000u
#define GAL_RAM (4u << 20)
#define GAL_HANDLER(v) (GAL_HANDLERS + 16u * (v))
/* Interruption information: valid, type, vector (INJ-1). */
#define GAL_EVENT(type, vec) (0x80000000u | ((uint32_t)(type) << 8) | (uint32_t)(vec))
#define GAL_NO_BUG (-1)

typedef struct gal {
    const char *name;
    bool fixed;                /* --fixed: the correct twin */
    vtx_machine *m;
    uint8_t *ram;
    vtx_profile profile;
    vtx_vmm_checker *chk;
    int findings;
    int exits;
    bool quiet_exits;          /* do not print each exit */
} gal;

/* Parse the command line (--fixed), build a machine on the "server" profile
 * (with IA32_VMX_MISC |= misc_or), map RAM, VMXON, a VMCS with the flat guest,
 * and create the checker (its findings are printed as they come). */
void gal_init(gal *g, int argc, char **argv, const char *title, uint64_t misc_or);
/* Guest code at a guest-physical address; a handler of vector v (<= 16 bytes), interrupt gate. */
void gal_code(gal *g, uint64_t pa, const void *bytes, size_t n);
void gal_handler(gal *g, uint8_t vector, const void *bytes, size_t n);
/* VMREAD / VMWRITE that must succeed. */
uint64_t gal_rd(gal *g, uint32_t enc);
void gal_wr(gal *g, uint32_t enc, uint64_t value);
void gal_set(gal *g, uint32_t enc, uint64_t bits);
void gal_clr(gal *g, uint32_t enc, uint64_t bits);
/* Platform inputs after `after` more guest instructions. */
void gal_irq(gal *g, uint8_t vector, uint64_t after);
void gal_nmi(gal *g, uint64_t after);
/* Inject an event (INJ-1, INJ-3). */
void gal_inject(gal *g, uint32_t info, uint32_t error_code, uint32_t len);
/* Demand paging of guest memory in 2..4 MiB (4-KiB pages there): make the page at
 * @pa not present / present again in the guest's own page tables. */
void gal_unmap_4k(gal *g, uint64_t pa);
void gal_map_4k(gal *g, uint64_t pa);
/* Advance the guest RIP past the instruction that exited. */
void gal_skip(gal *g);
/* Run the VMM: vtx_run_vmm with the checker attached through the loop. */
vtx_vmm_report gal_run(gal *g, vtx_exit_handler handler, void *user, uint64_t max_exits);
/* Print one line for the exit just taken (unless quiet). */
void gal_print_exit(gal *g, const vtx_insn_result *exit);
/* Finalize the checker and give the verdict: the process exit status. */
int gal_verdict(gal *g, int expected_bug);

#endif
