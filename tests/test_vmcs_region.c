/* The VMCS data live in the VMCS region after VMCLEAR (SDM Vol. 3 VMCLEAR:
 * "ensures that VMCS data for the VMCS ... are copied to the VMCS region in
 * memory"; the launch state becomes clear). A copy of a cleared region is a VMCS
 * of its own: VMPTRLD of the copy reads every field back. The model's format is
 * docs/vmcs-format.md (rules VMCS-MEM-1..4 in docs/rules-own.tsv). */
#include <string.h>
#include "baseline.h"

static vt_env e;

#define COPY_PA 0x7000u /* a free page of the test RAM (baseline.h uses 0x4000-0x6FFF and 0x9000 up) */

static void up(void)
{
    /* IA32_VMX_MISC[29]: VMWRITE reaches the read-only fields too, so every row of the table is written. */
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_MISC] |= 1ull << 29;
    vt_setup_profile(&e, &p);
    vt_vmxon(&e);
    vt_load_vmcs(&e, VT_VMCS_PA);
}
static void down(void) { vt_teardown(&e); }

/* A value for a field that differs from every other field's and fills its width. */
static uint64_t pattern(const vtx_field_info *f)
{
    uint64_t v = 0x0123456789ABCDEFull ^ ((uint64_t)f->encoding * 0x9E3779B97F4A7C15ull);
    switch (f->width) {
    case VTX_WIDTH_16: return v & 0xFFFF;
    case VTX_WIDTH_32: return v & 0xFFFFFFFFu;
    default: return v;
    }
}

/* VMWRITE every field the profile has; returns how many. */
static size_t write_all(void)
{
    size_t n, written = 0;
    const vtx_field_info *f = vtx_vmcs_fields(&n);
    for (size_t i = 0; i < n; i++) {
        if (!vtx_profile_has_feature(&e.profile, f[i].feature))
            continue;
        vt_vmwrite(&e, f[i].encoding, pattern(&f[i]));
        written++;
    }
    return written;
}

/* VMREAD every field (full and, for 64-bit fields, high access) and compare. */
static void expect_all(const char *where)
{
    size_t n;
    const vtx_field_info *f = vtx_vmcs_fields(&n);
    for (size_t i = 0; i < n; i++) {
        if (!vtx_profile_has_feature(&e.profile, f[i].feature))
            continue;
        uint64_t want = pattern(&f[i]);
        uint64_t got = vt_vmread(&e, f[i].encoding);
        cr_assert_eq(got, want, "%s: %s (0x%04x, %s) reads 0x%llx, VMCLEAR stored 0x%llx", where, f[i].name,
                     f[i].encoding, vtx_field_width_name(f[i].width), (unsigned long long)got,
                     (unsigned long long)want);
        if (f[i].width == VTX_WIDTH_64) {
            got = vt_vmread(&e, f[i].encoding | 1);
            cr_assert_eq(got, want >> 32, "%s: %s high access reads 0x%llx, want 0x%llx", where, f[i].name,
                         (unsigned long long)got, (unsigned long long)(want >> 32));
        }
    }
}

/* The VMCS region size of IA32_VMX_BASIC[44:32]: what software copies (1 KiB on "server"). */
static size_t region_size(void) { return (size_t)((e.profile.msr[VTX_CAP_IA32_VMX_BASIC] >> 32) & 0x1FFF); }

/* Where guest RIP lies in a region in the format of docs/vmcs-format.md: from
 * byte 16, every field the profile supports in table order, at its width
 * (2, 8, 4, 8 bytes by encoding width). */
static size_t rip_offset(void)
{
    static const size_t bytes[4] = {2, 8, 4, 8};
    size_t n, off = 16;
    const vtx_field_info *f = vtx_vmcs_fields(&n);
    for (size_t i = 0; i < n && f[i].encoding != VTX_VMCS_GUEST_RIP; i++)
        if (vtx_profile_has_feature(&e.profile, f[i].feature))
            off += bytes[f[i].width];
    return off;
}

static void vmclear(uint64_t pa)
{
    vtx_insn_result r;
    vt_expect("VMCLEAR", vtx_vmclear(e.m, pa, &r), &r, VTX_VMSUCCEED, 0);
}
static void vmptrld(uint64_t pa)
{
    vtx_insn_result r;
    vt_expect("VMPTRLD", vtx_vmptrld(e.m, pa, &r), &r, VTX_VMSUCCEED, 0);
}

Test(vmcs_region, copy_of_a_cleared_region_holds_every_field, .init = up, .fini = down)
{
    VTX_COVERS("VMCS-MEM-1", "VMCS-MEM-3");
    size_t written = write_all();
    cr_assert_gt(written, 100, "only %zu fields were written", written);
    vmclear(VT_VMCS_PA);
    memcpy(e.ram + COPY_PA, e.ram + VT_VMCS_PA, region_size());
    vmptrld(COPY_PA);
    expect_all("the copy");
    /* The original reads the same, and the copy is a VMCS of its own. */
    vmptrld(VT_VMCS_PA);
    expect_all("the original");
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x1234);
    vmptrld(COPY_PA);
    cr_assert_neq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0x1234, "a VMWRITE to the original changed the copy");
}

Test(vmcs_region, copy_is_clear_and_launches_with_the_copied_state)
{
    VTX_COVERS("VMCS-MEM-2", "VMCS-MEM-3");
    vt_start(&e, "server");
    uint64_t rip = vt_vmread(&e, VTX_VMCS_GUEST_RIP);
    /* Launch the original (the guest halts; INIT brings it back): its launch state is launched. */
    vtx_insn_result r;
    vtx_vmlaunch(e.m, &r);
    cr_assert_eq(r.outcome, VTX_GUEST_STOPPED, "the baseline guest should enter and halt (%s)", r.why);
    cr_assert_eq(vtx_machine_raise_init(e.m), VTX_OK);
    vtx_continue(e.m, &r);
    cr_assert(r.outcome == VTX_VMEXIT && r.exit_reason == VTX_EXIT_REASON_INIT_SIGNAL, "INIT should give exit 3");
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, rip); /* the exit saved the RIP after the HLT */
    vmclear(VT_VMCS_PA);
    memcpy(e.ram + COPY_PA, e.ram + VT_VMCS_PA, region_size());
    vmptrld(COPY_PA);
    vtx_vmcs_status s;
    cr_assert_eq(vtx_machine_vmcs_status(e.m, COPY_PA, &s), VTX_OK);
    cr_assert_eq(s.launch, VTX_LAUNCH_CLEAR, "the copy of a cleared VMCS must have launch state clear");
    /* SDM VMRESUME: a VMCS whose launch state is not launched fails with error 5. */
    vt_expect("VMRESUME of the copy", vtx_vmresume(e.m, &r), &r, VTX_VMFAIL_VALID, VTX_VMERR_VMRESUME_NONLAUNCHED);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), rip, "the copy's guest RIP");
    /* VMLAUNCH of the copy passes every check: the guest, host and control fields came with it. */
    vt_expect_entry_passes(&e, "VMLAUNCH of the copy");
    vt_teardown(&e);
}

Test(vmcs_region, memory_written_after_vmclear_is_the_vmcs, .init = up, .fini = down)
{
    VTX_COVERS("VMCS-MEM-3");
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x1111);
    vmclear(VT_VMCS_PA);
    uint64_t v = 0x2222;
    memcpy(e.ram + VT_VMCS_PA + rip_offset(), &v, 8);
    vmptrld(VT_VMCS_PA);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0x2222, "VMPTRLD after VMCLEAR must take the region's data");
}

Test(vmcs_region, region_without_the_tag_keeps_todays_behaviour, .init = up, .fini = down)
{
    VTX_COVERS("VMCS-MEM-4");
    /* A region the model never cleared: fields start at 0. */
    vt_poke32(&e, VT_VMCS2_PA, e.rev);
    memset(e.ram + VT_VMCS2_PA + 8, 0xA5, 4088);
    vmptrld(VT_VMCS2_PA);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0, "a fresh region's fields start at 0");
    /* A cleared region whose tag software wiped (the rest in the format): the model's data stay. */
    vmptrld(VT_VMCS_PA);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, 0x3333);
    vmclear(VT_VMCS_PA);
    uint64_t v = 0x4444;
    memcpy(e.ram + VT_VMCS_PA + rip_offset(), &v, 8);
    memset(e.ram + VT_VMCS_PA + 8, 0, 4);
    vmptrld(VT_VMCS_PA);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0x3333, "a region without the tag must not replace the data");
    /* An active VMCS made current again keeps the model's data, whatever its region holds. */
    vmptrld(VT_VMCS2_PA);
    memset(e.ram + VT_VMCS_PA + 8, 0, 4088);
    vmptrld(VT_VMCS_PA);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RIP), 0x3333, "an active VMCS must keep its data");
}
