/* The gallery harness (gallery.h). Public API only. */
#include "gallery.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VMXON_PA 0x1000u
#define VMCS_PA 0x2000u

static void die(gal *g, const char *what, const char *why)
{
    fprintf(stderr, "%s: %s: %s\n", g->name, what, why);
    exit(2);
}

static void print_finding(void *user, const vtx_vmm_finding *f)
{
    gal *g = user;
    char line[700];
    vtx_vmm_finding_format(f, line, sizeof line);
    printf("  CHECKER: %s\n", line);
    g->findings++;
}

void gal_init(gal *g, int argc, char **argv, const char *title, uint64_t misc_or)
{
    memset(g, 0, sizeof *g);
    g->name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fixed"))
            g->fixed = true;
        else if (!strcmp(argv[i], "--quiet"))
            g->quiet_exits = true;
        else {
            fprintf(stderr, "usage: %s [--fixed] [--quiet]\n", g->name);
            exit(2);
        }
    }
    printf("%s (%s): %s\n", g->name, g->fixed ? "fixed" : "as shipped", title);
    vtx_diag d = {0};
    if (vtx_profile_resolve("server", &g->profile, &d) != VTX_OK)
        die(g, "profile", d.message);
    g->profile.msr[VTX_CAP_IA32_VMX_MISC] |= misc_or;
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, &g->profile);
    if (vtx_machine_create(&cfg, &g->m, &d) != VTX_OK)
        die(g, "machine", d.message);
    g->ram = aligned_alloc(4096, GAL_RAM);
    if (!g->ram)
        die(g, "RAM", "out of memory");
    memset(g->ram, 0, GAL_RAM);
    vtx_machine_map(g->m, 0, GAL_RAM, g->ram, VTX_MEM_RWX, NULL);
    uint32_t rev = vtx_basic_revision(g->profile.msr[VTX_CAP_IA32_VMX_BASIC]);
    memcpy(g->ram + VMXON_PA, &rev, 4);
    memcpy(g->ram + VMCS_PA, &rev, 4);
    vtx_insn_result r;
    vtx_vmxon(g->m, VMXON_PA, &r);
    vtx_vmclear(g->m, VMCS_PA, &r);
    vtx_vmptrld(g->m, VMCS_PA, &r);
    vtx_flat64 fl = {.rip = GAL_GUEST, .rsp = GAL_STACK, .rflags = 0x2, .tables = GAL_TABLES,
                     .handlers = GAL_HANDLERS};
    if (vtx_setup_flat64(g->m, &fl, &d) != VTX_OK)
        die(g, "guest setup", d.message);
    vtx_vmm_check_config cc;
    vtx_vmm_check_config_init(&cc);
    cc.on_finding = print_finding;
    cc.user = g;
    if (vtx_vmm_check_create(&cc, &g->chk) != VTX_OK)
        die(g, "checker", "cannot create it");
}

void gal_code(gal *g, uint64_t pa, const void *bytes, size_t n) { memcpy(g->ram + pa, bytes, n); }

void gal_handler(gal *g, uint8_t vector, const void *bytes, size_t n)
{
    if (n > 16)
        die(g, "handler", "longer than 16 bytes");
    gal_code(g, GAL_HANDLER(vector), bytes, n);
}

uint64_t gal_rd(gal *g, uint32_t enc)
{
    vtx_insn_result r;
    if (vtx_vmread(g->m, enc, &r) != VTX_OK || r.outcome != VTX_VMSUCCEED)
        die(g, "VMREAD", r.why);
    return r.value;
}

void gal_wr(gal *g, uint32_t enc, uint64_t value)
{
    vtx_insn_result r;
    if (vtx_vmwrite(g->m, enc, value, &r) != VTX_OK || r.outcome != VTX_VMSUCCEED)
        die(g, "VMWRITE", r.why);
}

void gal_set(gal *g, uint32_t enc, uint64_t bits) { gal_wr(g, enc, gal_rd(g, enc) | bits); }
void gal_clr(gal *g, uint32_t enc, uint64_t bits) { gal_wr(g, enc, gal_rd(g, enc) & ~bits); }

void gal_irq(gal *g, uint8_t vector, uint64_t after)
{
    vtx_input in = {.kind = VTX_INPUT_INTR_ASSERT, .vector = vector, .when = vtx_machine_instructions(g->m) + after};
    vtx_machine_schedule(g->m, &in);
}

void gal_nmi(gal *g, uint64_t after)
{
    vtx_input in = {.kind = VTX_INPUT_NMI, .when = vtx_machine_instructions(g->m) + after};
    vtx_machine_schedule(g->m, &in);
}

void gal_inject(gal *g, uint32_t info, uint32_t error_code, uint32_t len)
{
    gal_wr(g, VTX_VMCS_ENTRY_INTR_INFO, info);
    gal_wr(g, VTX_VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
    gal_wr(g, VTX_VMCS_ENTRY_INSTRUCTION_LEN, len);
}

void gal_skip(gal *g)
{
    gal_wr(g, VTX_VMCS_GUEST_RIP, gal_rd(g, VTX_VMCS_GUEST_RIP) + gal_rd(g, VTX_VMCS_EXIT_INSTRUCTION_LEN));
}

/* The 2-MiB page 2..4 MiB (PD entry 1) split into a page table at PT_PA. */
#define PT_PA 0x50000u
static void split_2m(gal *g)
{
    uint64_t *pd = (uint64_t *)(g->ram + GAL_TABLES + 0x2000);
    uint64_t *pt = (uint64_t *)(g->ram + PT_PA);
    if ((pd[1] & 0x80) == 0)
        return;
    for (unsigned i = 0; i < 512; i++)
        pt[i] = (0x200000u + 0x1000ull * i) | 3;
    pd[1] = PT_PA | 3;
}

void gal_unmap_4k(gal *g, uint64_t pa)
{
    if (pa < 0x200000u || pa >= 0x400000u)
        die(g, "demand paging", "only 2..4 MiB is paged in 4-KiB pages");
    split_2m(g);
    ((uint64_t *)(g->ram + PT_PA))[(pa - 0x200000u) >> 12] &= ~1ull;
}

void gal_map_4k(gal *g, uint64_t pa)
{
    split_2m(g);
    ((uint64_t *)(g->ram + PT_PA))[(pa - 0x200000u) >> 12] |= 1ull;
}

static const char *event_text(uint32_t info, char *buf, size_t n)
{
    static const char *const t[] = {"ext-int", "?", "NMI", "exception", "soft-int", "priv-exc", "soft-exc", "other"};
    snprintf(buf, n, "%s 0x%02x", t[(info >> 8) & 7], info & 0xFF);
    return buf;
}

void gal_print_exit(gal *g, const vtx_insn_result *exit)
{
    g->exits++;
    if (g->quiet_exits)
        return;
    uint32_t reason = exit->exit_reason & 0xFFFF;
    const char *n = vtx_exit_reason_name(reason);
    printf("  exit %d: %s at RIP 0x%llx", g->exits, n ? n : "?", (unsigned long long)gal_rd(g, VTX_VMCS_GUEST_RIP));
    char b[40];
    uint32_t ii = (uint32_t)gal_rd(g, VTX_VMCS_EXIT_INTR_INFO), idt = (uint32_t)gal_rd(g, VTX_VMCS_IDT_VECTORING_INFO);
    if (ii >> 31)
        printf(", %s", event_text(ii, b, sizeof b));
    if (idt >> 31)
        printf(", during delivery of %s", event_text(idt, b, sizeof b));
    printf("\n");
}

typedef struct wrap {
    gal *g;
    vtx_exit_handler inner;
    void *user;
} wrap;

static vtx_vmm_action print_then_handle(void *user, vtx_machine *m, const vtx_insn_result *exit)
{
    wrap *w = user;
    gal_print_exit(w->g, exit);
    return w->inner(w->user, m, exit);
}

vtx_vmm_report gal_run(gal *g, vtx_exit_handler handler, void *user, uint64_t max_exits)
{
    wrap w = {g, handler, user};
    vtx_vmm_loop loop = {.handler = print_then_handle, .user = &w, .max_exits = max_exits, .checker = g->chk};
    vtx_vmm_report rep;
    vtx_status st = vtx_run_vmm(g->m, &loop, &rep);
    if (st != VTX_OK)
        die(g, "VMM loop", rep.why);
    printf("  loop ended: %s\n", rep.why);
    return rep;
}

int gal_verdict(gal *g, int expected_bug)
{
    vtx_vmm_check_report rep;
    vtx_vmm_check_finalize(g->chk, &rep);
    int ok;
    if (expected_bug == GAL_NO_BUG || g->fixed)
        ok = rep.errors + rep.warnings == 0;
    else
        ok = rep.errors + rep.warnings == 1 && rep.by_kind[expected_bug] == 1;
    const char *want = expected_bug == GAL_NO_BUG || g->fixed ? "no finding"
                                                             : vtx_vmm_finding_name((vtx_vmm_finding_kind)expected_bug);
    printf("verdict: %u error(s), %u warning(s) over %llu exits; expected %s: %s\n", rep.errors, rep.warnings,
           (unsigned long long)rep.exits, want, ok ? "OK" : "UNEXPECTED");
    vtx_vmm_check_detach(g->m);
    vtx_vmm_check_destroy(g->chk);
    vtx_machine_destroy(g->m);
    free(g->ram);
    return ok ? 0 : 1;
}
