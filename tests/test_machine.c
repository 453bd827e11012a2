/* The machine API: creation, the physical-memory map, physical reads and
 * writes, the root state defaults, and the name tables. */
#include <stdlib.h>
#include <string.h>
#include "helpers.h"

static vtx_machine *m;
static uint8_t *pages; /* 4 pages of host memory */

static void make(const char *profile)
{
    const vtx_profile *p;
    cr_assert_eq(vtx_profile_find(profile, &p, NULL), VTX_OK);
    vtx_machine_config cfg;
    cr_assert_eq(vtx_machine_config_init(&cfg, p), VTX_OK);
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_create(&cfg, &m, &d), VTX_OK, "%s", d.message);
    pages = aligned_alloc(4096, 4 * 4096);
    cr_assert_not_null(pages);
    memset(pages, 0, 4 * 4096);
}
static void up_core2(void) { make("core2"); }
static void up_server(void) { make("server"); }
static void down(void)
{
    vtx_machine_destroy(m);
    free(pages);
}

static void map_ok(uint64_t pa, uint64_t size, void *host)
{
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_map(m, pa, size, host, VTX_MEM_RWX, &d), VTX_OK, "map 0x%llx+0x%llx: %s",
                 (unsigned long long)pa, (unsigned long long)size, d.message);
}

static void map_fails(const char *what, uint64_t pa, uint64_t size, void *host, unsigned perms, vtx_status want,
                      const char *sub)
{
    vtx_diag d = {0};
    vtx_status st = vtx_machine_map(m, pa, size, host, perms, &d);
    cr_assert_eq(st, want, "%s: expected %s, got %s (%s)", what, vtx_status_name(want), vtx_status_name(st),
                 d.message);
    if (sub)
        cr_assert(strstr(d.message, sub), "%s: the message should contain \"%s\": %s", what, sub, d.message);
}

/* ---- creation ---- */

Test(machine, create_rejects_an_invalid_profile_with_a_message)
{
    const vtx_profile *p;
    cr_assert_eq(vtx_profile_find("server", &p, NULL), VTX_OK);
    vtx_machine_config cfg;
    cr_assert_eq(vtx_machine_config_init(&cfg, p), VTX_OK);
    cfg.profile.msr[VTX_CAP_IA32_VMX_CR4_FIXED0] = 0;
    vtx_diag d = {0};
    vtx_machine *mm = (vtx_machine *)&cfg;
    cr_assert_eq(vtx_machine_create(&cfg, &mm, &d), VTX_ERR_PROFILE_INVALID);
    cr_assert_null(mm, "no machine on failure");
    cr_assert(strstr(d.message, "IA32_VMX_CR4_FIXED0"), "the message names the MSR: %s", d.message);
    cfg.profile = *p;
    cfg.profile.phys_addr_width = 64;
    cr_assert_eq(vtx_machine_create(&cfg, &mm, &d), VTX_ERR_PROFILE_INVALID);
    cr_assert(strstr(d.message, "physical-address-width"), "%s", d.message);
}

Test(machine, create_rejects_cpl_above_3)
{
    const vtx_profile *p;
    cr_assert_eq(vtx_profile_find("server", &p, NULL), VTX_OK);
    vtx_machine_config cfg;
    cr_assert_eq(vtx_machine_config_init(&cfg, p), VTX_OK);
    cfg.root.cpl = 4;
    vtx_diag d = {0};
    vtx_machine *mm = NULL;
    cr_assert_eq(vtx_machine_create(&cfg, &mm, &d), VTX_ERR_INVALID_ARG);
    cr_assert_null(mm);
    cr_assert(strstr(d.message, "CPL 4"), "%s", d.message);
}

Test(machine, null_arguments_are_refused, .init = up_server, .fini = down)
{
    const vtx_profile *p = vtx_machine_profile(m);
    vtx_machine_config cfg;
    vtx_machine *mm = NULL;
    vtx_root_state root;
    uint64_t v;
    uint8_t b[4];
    cr_assert_eq(vtx_machine_config_init(NULL, p), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_config_init(&cfg, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_config_init(&cfg, p), VTX_OK);
    cr_assert_eq(vtx_machine_create(NULL, &mm, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_create(&cfg, NULL, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_map(NULL, 0, 4096, pages, VTX_MEM_RWX, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_map(m, 0, 4096, NULL, VTX_MEM_RWX, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_unmap(NULL, 0), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_read_phys(NULL, 0, b, 4, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_read_phys(m, 0, NULL, 4, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_write_phys(NULL, 0, b, 4, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_write_phys(m, 0, NULL, 4, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_get_root(NULL, &root), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_get_root(m, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_set_root(NULL, &root, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_set_root(m, NULL, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_peek_field(NULL, VTX_VMCS_GUEST_RIP, &v), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_machine_peek_field(m, VTX_VMCS_GUEST_RIP, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_null(vtx_machine_profile(NULL));
    cr_assert(!vtx_machine_in_vmx(NULL));
    cr_assert_eq(vtx_machine_current_vmcs(NULL), ~0ull);
}

/* The documented default environment: 64-bit mode, CPL 0, ready for VMXON. */
Test(machine, config_init_gives_a_vmm_environment_ready_for_vmxon, .init = up_core2, .fini = down)
{
    vtx_root_state r;
    cr_assert_eq(vtx_machine_get_root(m, &r), VTX_OK);
    const vtx_profile *p = vtx_machine_profile(m);
    cr_assert_str_eq(p->name, "core2");
    uint64_t f0 = p->msr[VTX_CAP_IA32_VMX_CR0_FIXED0], f4 = p->msr[VTX_CAP_IA32_VMX_CR4_FIXED0];
    cr_assert_eq(r.cr0 & f0, f0, "CR0 0x%llx has the FIXED0 bits", (unsigned long long)r.cr0);
    cr_assert(r.cr0 & VTX_CR0_PE && r.cr0 & VTX_CR0_PG && r.cr0 & VTX_CR0_NE);
    cr_assert_eq(r.cr4 & f4, f4);
    cr_assert(r.cr4 & VTX_CR4_VMXE && r.cr4 & VTX_CR4_PAE);
    cr_assert_eq(r.efer, (uint64_t)(VTX_EFER_LME | VTX_EFER_LMA));
    cr_assert(r.cs_l);
    cr_assert_eq(r.cpl, 0);
    cr_assert_eq(r.rflags, 2u);
    cr_assert_eq(r.feature_control, (uint64_t)(VTX_FEATURE_CONTROL_LOCK | VTX_FEATURE_CONTROL_VMX_OUTSIDE_SMX));
    cr_assert(!r.in_smx && !r.blocking_by_mov_ss);
    cr_assert(!vtx_machine_in_vmx(m));
    cr_assert_eq(vtx_machine_current_vmcs(m), ~0ull);
    uint64_t v;
    cr_assert_eq(vtx_machine_peek_field(m, VTX_VMCS_GUEST_RIP, &v), VTX_ERR_STATE, "no current VMCS to peek at");
}

/* ---- the memory map ---- */

Test(memory, map_needs_4k_alignment_and_a_non_zero_size, .init = up_core2, .fini = down)
{
    map_fails("map at 0x1001", 0x1001, 4096, pages, VTX_MEM_RWX, VTX_ERR_INVALID_ARG, "multiples of 4096");
    map_fails("map of 0x800 bytes", 0x1000, 0x800, pages, VTX_MEM_RWX, VTX_ERR_INVALID_ARG, "multiples of 4096");
    map_fails("map of 0 bytes", 0x1000, 0, pages, VTX_MEM_RWX, VTX_ERR_INVALID_ARG, NULL);
    map_fails("map with permission bit 3", 0x1000, 4096, pages, 8, VTX_ERR_INVALID_ARG, NULL);
    map_ok(0x1000, 4096, pages);
}

Test(memory, map_refuses_overlap, .init = up_core2, .fini = down)
{
    map_ok(0x10000, 2 * 4096, pages);
    map_fails("map over the same range", 0x10000, 2 * 4096, pages + 2 * 4096, VTX_MEM_RWX, VTX_ERR_OVERLAP,
              "overlaps the region at 0x10000");
    map_fails("map over the second page", 0x11000, 4096, pages + 2 * 4096, VTX_MEM_RWX, VTX_ERR_OVERLAP, NULL);
    map_fails("map covering the region", 0xF000, 4 * 4096, pages, VTX_MEM_RWX, VTX_ERR_OVERLAP, NULL);
    map_fails("map whose last page is the region's first", 0xF000, 2 * 4096, pages, VTX_MEM_RWX, VTX_ERR_OVERLAP,
              NULL);
    map_fails("map whose first page is the region's last", 0x11000, 2 * 4096, pages, VTX_MEM_RWX, VTX_ERR_OVERLAP,
              NULL);
    /* Adjacent on both sides is fine. */
    map_ok(0xF000, 4096, pages + 2 * 4096);
    map_ok(0x12000, 4096, pages + 3 * 4096);
}

Test(memory, map_refuses_addresses_beyond_the_physical_width, .init = up_core2, .fini = down)
{
    uint64_t top = 1ull << 36; /* core2: MAXPHYADDR 36 */
    map_fails("map at 2^36", top, 4096, pages, VTX_MEM_RWX, VTX_ERR_INVALID_ARG, "36-bit");
    map_fails("map straddling 2^36", top - 4096, 2 * 4096, pages, VTX_MEM_RWX, VTX_ERR_INVALID_ARG, NULL);
    map_fails("map wrapping around 2^64", 0xFFFFFFFFFFFFF000ull, 2 * 4096, pages, VTX_MEM_RWX, VTX_ERR_INVALID_ARG,
              NULL);
    map_ok(top - 4096, 4096, pages);
    uint32_t v = 0x11223344, back = 0;
    cr_assert_eq(vtx_machine_write_phys(m, top - 4, &v, 4, NULL), VTX_OK);
    cr_assert_eq(vtx_machine_read_phys(m, top - 4, &back, 4, NULL), VTX_OK);
    cr_assert_eq(back, v);
}

Test(memory, unmap_removes_a_region, .init = up_core2, .fini = down)
{
    map_ok(0x20000, 4096, pages);
    uint8_t b = 0;
    cr_assert_eq(vtx_machine_read_phys(m, 0x20000, &b, 1, NULL), VTX_OK);
    cr_assert_eq(vtx_machine_unmap(m, 0x20000), VTX_OK);
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_read_phys(m, 0x20000, &b, 1, &d), VTX_ERR_UNMAPPED, "read after unmap");
    cr_assert_eq(vtx_machine_unmap(m, 0x20000), VTX_ERR_NOT_FOUND, "a second unmap finds nothing");
    cr_assert_eq(vtx_machine_unmap(m, 0x30000), VTX_ERR_NOT_FOUND);
    /* The range can be mapped again. */
    map_ok(0x20000, 4096, pages + 4096);
}

Test(memory, reads_and_writes_cross_adjacent_regions, .init = up_server, .fini = down)
{
    map_ok(0x10000, 4096, pages);             /* host page 0 */
    map_ok(0x11000, 4096, pages + 2 * 4096);  /* host page 2: not contiguous in host memory */
    uint8_t out[16], in[16];
    for (int i = 0; i < 16; i++)
        out[i] = (uint8_t)(0xA0 + i);
    cr_assert_eq(vtx_machine_write_phys(m, 0x10FF8, out, sizeof out, NULL), VTX_OK);
    cr_assert(memcmp(pages + 4096 - 8, out, 8) == 0, "the first 8 bytes go to the end of the first region");
    cr_assert(memcmp(pages + 2 * 4096, out + 8, 8) == 0, "the last 8 bytes go to the start of the second region");
    cr_assert_eq(pages[4096], 0, "host memory between the regions must not be written");
    memset(in, 0, sizeof in);
    cr_assert_eq(vtx_machine_read_phys(m, 0x10FF8, in, sizeof in, NULL), VTX_OK);
    cr_assert(memcmp(in, out, sizeof in) == 0, "reading back across the boundary");
    cr_assert_eq(vtx_machine_read_phys(m, 0x10000, in, 0, NULL), VTX_OK, "a zero-length read is fine");
}

Test(memory, unmapped_access_names_the_address, .init = up_server, .fini = down)
{
    map_ok(0x10000, 4096, pages);
    uint8_t buf[32];
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_read_phys(m, 0x5000, buf, 4, &d), VTX_ERR_UNMAPPED);
    cr_assert(strstr(d.message, "0x5000"), "the message names 0x5000: %s", d.message);
    /* A read running off the end of a region names the first unmapped byte. */
    memset(&d, 0, sizeof d);
    cr_assert_eq(vtx_machine_read_phys(m, 0x10FF0, buf, 32, &d), VTX_ERR_UNMAPPED);
    cr_assert(strstr(d.message, "0x11000"), "the message names 0x11000: %s", d.message);
    memset(&d, 0, sizeof d);
    cr_assert_eq(vtx_machine_write_phys(m, 0x9FFFF000, buf, 4, &d), VTX_ERR_UNMAPPED);
    cr_assert(strstr(d.message, "0x9ffff000"), "the message names 0x9ffff000: %s", d.message);
    cr_assert_eq(vtx_machine_read_phys(m, 0x5000, buf, 4, NULL), VTX_ERR_UNMAPPED, "diag may be NULL");
}

/* ---- names ---- */

Test(names, status_names)
{
    static const struct {
        vtx_status s;
        const char *n;
    } t[] = {
        {VTX_OK, "VTX_OK"},
        {VTX_ERR_INVALID_ARG, "VTX_ERR_INVALID_ARG"},
        {VTX_ERR_NO_MEMORY, "VTX_ERR_NO_MEMORY"},
        {VTX_ERR_NOT_FOUND, "VTX_ERR_NOT_FOUND"},
        {VTX_ERR_PARSE, "VTX_ERR_PARSE"},
        {VTX_ERR_PROFILE_INVALID, "VTX_ERR_PROFILE_INVALID"},
        {VTX_ERR_IO, "VTX_ERR_IO"},
        {VTX_ERR_UNMAPPED, "VTX_ERR_UNMAPPED"},
        {VTX_ERR_OVERLAP, "VTX_ERR_OVERLAP"},
        {VTX_ERR_UNSUPPORTED, "VTX_ERR_UNSUPPORTED"},
        {VTX_ERR_STATE, "VTX_ERR_STATE"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        cr_assert_str_eq(vtx_status_name(t[i].s), t[i].n);
    cr_assert_str_eq(vtx_status_name((vtx_status)-99), "VTX_ERR_?");
    cr_assert_str_eq(vtx_status_name((vtx_status)1), "VTX_ERR_?");
}

Test(names, outcome_error_exit_reason_check_and_msr_names)
{
    cr_assert_str_eq(vtx_insn_outcome_name(VTX_VMSUCCEED), "VMsucceed");
    cr_assert_str_eq(vtx_insn_outcome_name(VTX_VMFAIL_INVALID), "VMfailInvalid");
    cr_assert_str_eq(vtx_insn_outcome_name(VTX_VMFAIL_VALID), "VMfailValid");
    cr_assert_str_eq(vtx_insn_outcome_name(VTX_INSN_FAULT), "fault");
    /* L.3 */
    cr_assert_str_eq(vtx_vm_insn_error_text(26), "VM entry with events blocked by MOV SS");
    cr_assert_str_eq(vtx_vm_insn_error_name(12), "UNSUPPORTED_COMPONENT");
    cr_assert_str_eq(vtx_vm_insn_error_text(28), "Invalid operand to INVEPT/INVVPID");
    cr_assert_null(vtx_vm_insn_error_text(14), "14 is reserved");
    cr_assert_null(vtx_vm_insn_error_text(21), "21 is reserved");
    cr_assert_null(vtx_vm_insn_error_text(27), "27 is reserved");
    cr_assert_null(vtx_vm_insn_error_text(0));
    /* Appendix C */
    cr_assert_str_eq(vtx_exit_reason_name(7), "INTERRUPT_WINDOW");
    cr_assert_str_eq(vtx_exit_reason_name(33), "INVALID_GUEST_STATE");
    cr_assert_null(vtx_exit_reason_name(35), "35 is not assigned");
    cr_assert_str_eq(vtx_exit_reason_description(8), "NMI window");
    /* Checks */
    cr_assert_str_eq(vtx_check_name(VTX_CHECK_ENTRY_MOV_SS_BLOCKING), "ENTRY_MOV_SS_BLOCKING");
    cr_assert_str_eq(vtx_check_rule(VTX_CHECK_ENTRY_MOV_SS_BLOCKING), "ENT-BASIC-3");
    cr_assert_str_eq(vtx_check_rule(VTX_CHECK_NO_CURRENT_VMCS), "ENT-BASIC-2");
    cr_assert_null(vtx_check_rule(VTX_CHECK_VMXON_REVISION));
    cr_assert_not_null(vtx_check_text(VTX_CHECK_VMXON_REVISION));
    cr_assert_null(vtx_check_name(VTX_CHECK_COUNT_));
    /* MSRs */
    cr_assert_str_eq(vtx_cap_msr_name(0x480), "IA32_VMX_BASIC");
    cr_assert_str_eq(vtx_cap_msr_name(0x491), "IA32_VMX_VMFUNC");
    cr_assert_str_eq(vtx_cap_msr_name(0x3A), "IA32_FEATURE_CONTROL");
    cr_assert_null(vtx_cap_msr_name(0x47F));
    /* Controls */
    cr_assert_str_eq(vtx_control_bit_name(VTX_CTL_PROC, 22), "NMI-window exiting");
    cr_assert_str_eq(vtx_control_bit_name(VTX_CTL_PIN, 6), "Activate VMX-preemption timer");
    cr_assert_null(vtx_control_bit_name(VTX_CTL_PIN, 1), "pin bit 1 is a reserved default1 bit");
    cr_assert_str_eq(vtx_control_field_name(VTX_CTL_ENTRY), "VM-entry controls");
    cr_assert_null(vtx_control_field_name(VTX_CTL_FIELD_COUNT_));
}

/* vtx_insn_result_format gives the outcome, the error text, the check and its rule. */
Test(names, insn_result_format, .init = up_server, .fini = down)
{
    static uint8_t ram[0x4000] __attribute__((aligned(4096)));
    map_ok(0, sizeof ram, ram);
    uint32_t rev = vtx_basic_revision(vtx_machine_profile(m)->msr[VTX_CAP_IA32_VMX_BASIC]);
    cr_assert_eq(vtx_machine_write_phys(m, 0x1000, &rev, 4, NULL), VTX_OK);
    cr_assert_eq(vtx_machine_write_phys(m, 0x2000, &rev, 4, NULL), VTX_OK);
    vtx_insn_result r;
    char buf[400];
    cr_assert_eq(vtx_vmxon(m, 0x1000, &r), VTX_OK);
    vtx_insn_result_format(&r, buf, sizeof buf);
    cr_assert_str_eq(buf, "VMsucceed");
    cr_assert_eq(vtx_vmptrld(m, 0x2000, &r), VTX_OK);
    cr_assert_eq(vtx_vmread(m, 0x6C40, &r), VTX_OK);
    vtx_insn_result_format(&r, buf, sizeof buf);
    cr_assert(strstr(buf, "VMfailValid(12: VMREAD/VMWRITE from/to unsupported VMCS component)") &&
                  strstr(buf, "VMCS_UNSUPPORTED_FIELD") && strstr(buf, "6c40"),
              "format: %s", buf);
    vtx_root_state root;
    vtx_machine_get_root(m, &root);
    root.blocking_by_mov_ss = true;
    cr_assert_eq(vtx_machine_set_root(m, &root, NULL), VTX_OK);
    cr_assert_eq(vtx_vmlaunch(m, &r), VTX_OK);
    vtx_insn_result_format(&r, buf, sizeof buf);
    cr_assert(strstr(buf, "VMfailValid(26") && strstr(buf, "ENT-BASIC-3"), "format: %s", buf);
    root.cpl = 3;
    cr_assert_eq(vtx_machine_set_root(m, &root, NULL), VTX_OK);
    cr_assert_eq(vtx_vmlaunch(m, &r), VTX_OK);
    vtx_insn_result_format(&r, buf, sizeof buf);
    cr_assert(strncmp(buf, "#GP(0)", 6) == 0, "format: %s", buf);
    cr_assert_eq(vtx_insn_result_format(NULL, buf, sizeof buf), -1);
}
