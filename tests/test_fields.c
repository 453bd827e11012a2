/* The VMCS field table against SDM Appendix B "Field Encoding in VMCS"
 * (rules catalogue L.2) and the encoding layout of SDM "VMREAD, VMWRITE, and
 * Encodings of VMCS Fields": bit 0 access type, 9:1 index, 11:10 type, bit 12
 * reserved, 14:13 width, 31:15 reserved. */
#include <string.h>
#include <strings.h>
#include "helpers.h"

typedef struct l2_row {
    uint32_t enc;
    unsigned width; /* 16, 32, 64, or 0 for natural width, as in the catalogue column */
    const char *name;
    bool ro;        /* marked (RO) in the catalogue */
} l2_row;

#define W16 16
#define W32 32
#define W64 64
#define WNAT 0

/* Every row of catalogue L.2, written out from the catalogue (not from the header). */
static const l2_row l2[] = {
    {0x0000, W16, "VPID", false},
    {0x0002, W16, "POSTED_INTR_NV", false},
    {0x0004, W16, "EPTP_INDEX", false},
    {0x0800, W16, "GUEST_ES_SELECTOR", false},
    {0x0802, W16, "GUEST_CS_SELECTOR", false},
    {0x0804, W16, "GUEST_SS_SELECTOR", false},
    {0x0806, W16, "GUEST_DS_SELECTOR", false},
    {0x0808, W16, "GUEST_FS_SELECTOR", false},
    {0x080A, W16, "GUEST_GS_SELECTOR", false},
    {0x080C, W16, "GUEST_LDTR_SELECTOR", false},
    {0x080E, W16, "GUEST_TR_SELECTOR", false},
    {0x0810, W16, "GUEST_INTR_STATUS", false},
    {0x0812, W16, "GUEST_PML_INDEX", false},
    {0x0C00, W16, "HOST_ES_SELECTOR", false},
    {0x0C02, W16, "HOST_CS_SELECTOR", false},
    {0x0C04, W16, "HOST_SS_SELECTOR", false},
    {0x0C06, W16, "HOST_DS_SELECTOR", false},
    {0x0C08, W16, "HOST_FS_SELECTOR", false},
    {0x0C0A, W16, "HOST_GS_SELECTOR", false},
    {0x0C0C, W16, "HOST_TR_SELECTOR", false},
    {0x2000, W64, "IO_BITMAP_A", false},
    {0x2002, W64, "IO_BITMAP_B", false},
    {0x2004, W64, "MSR_BITMAP", false},
    {0x2006, W64, "EXIT_MSR_STORE_ADDR", false},
    {0x2008, W64, "EXIT_MSR_LOAD_ADDR", false},
    {0x200A, W64, "ENTRY_MSR_LOAD_ADDR", false},
    {0x200C, W64, "EXECUTIVE_VMCS_PTR", false},
    {0x200E, W64, "PML_ADDRESS", false},
    {0x2010, W64, "TSC_OFFSET", false},
    {0x2012, W64, "VIRTUAL_APIC_ADDR", false},
    {0x2014, W64, "APIC_ACCESS_ADDR", false},
    {0x2016, W64, "POSTED_INTR_DESC_ADDR", false},
    {0x2018, W64, "VM_FUNCTION_CONTROLS", false},
    {0x201A, W64, "EPT_POINTER", false},
    {0x201C, W64, "EOI_EXIT_BITMAP0", false},
    {0x201E, W64, "EOI_EXIT_BITMAP1", false},
    {0x2020, W64, "EOI_EXIT_BITMAP2", false},
    {0x2022, W64, "EOI_EXIT_BITMAP3", false},
    {0x2024, W64, "EPTP_LIST_ADDR", false},
    {0x2026, W64, "VMREAD_BITMAP", false},
    {0x2028, W64, "VMWRITE_BITMAP", false},
    {0x202A, W64, "VE_INFO_ADDR", false},
    {0x202C, W64, "XSS_EXITING_BITMAP", false},
    {0x2032, W64, "TSC_MULTIPLIER", false},
    {0x2034, W64, "TERTIARY_PROC_CONTROLS", false},
    {0x2400, W64, "GUEST_PHYSICAL_ADDR", true},
    {0x2800, W64, "VMCS_LINK_POINTER", false},
    {0x2802, W64, "GUEST_IA32_DEBUGCTL", false},
    {0x2804, W64, "GUEST_IA32_PAT", false},
    {0x2806, W64, "GUEST_IA32_EFER", false},
    {0x2808, W64, "GUEST_IA32_PERF_GLOBAL_CTRL", false},
    {0x280A, W64, "GUEST_PDPTE0", false},
    {0x280C, W64, "GUEST_PDPTE1", false},
    {0x280E, W64, "GUEST_PDPTE2", false},
    {0x2810, W64, "GUEST_PDPTE3", false},
    {0x2812, W64, "GUEST_IA32_BNDCFGS", false},
    {0x2C00, W64, "HOST_IA32_PAT", false},
    {0x2C02, W64, "HOST_IA32_EFER", false},
    {0x2C04, W64, "HOST_IA32_PERF_GLOBAL_CTRL", false},
    {0x4000, W32, "PIN_CONTROLS", false},
    {0x4002, W32, "PROC_CONTROLS", false},
    {0x4004, W32, "EXCEPTION_BITMAP", false},
    {0x4006, W32, "PF_ERROR_CODE_MASK", false},
    {0x4008, W32, "PF_ERROR_CODE_MATCH", false},
    {0x400A, W32, "CR3_TARGET_COUNT", false},
    {0x400C, W32, "EXIT_CONTROLS", false},
    {0x400E, W32, "EXIT_MSR_STORE_COUNT", false},
    {0x4010, W32, "EXIT_MSR_LOAD_COUNT", false},
    {0x4012, W32, "ENTRY_CONTROLS", false},
    {0x4014, W32, "ENTRY_MSR_LOAD_COUNT", false},
    {0x4016, W32, "ENTRY_INTR_INFO", false},
    {0x4018, W32, "ENTRY_EXCEPTION_ERROR_CODE", false},
    {0x401A, W32, "ENTRY_INSTRUCTION_LEN", false},
    {0x401C, W32, "TPR_THRESHOLD", false},
    {0x401E, W32, "PROC_CONTROLS2", false},
    {0x4020, W32, "PLE_GAP", false},
    {0x4022, W32, "PLE_WINDOW", false},
    {0x4400, W32, "VM_INSTRUCTION_ERROR", true},
    {0x4402, W32, "EXIT_REASON", true},
    {0x4404, W32, "EXIT_INTR_INFO", true},
    {0x4406, W32, "EXIT_INTR_ERROR_CODE", true},
    {0x4408, W32, "IDT_VECTORING_INFO", true},
    {0x440A, W32, "IDT_VECTORING_ERROR_CODE", true},
    {0x440C, W32, "EXIT_INSTRUCTION_LEN", true},
    {0x440E, W32, "EXIT_INSTRUCTION_INFO", true},
    {0x4800, W32, "GUEST_ES_LIMIT", false},
    {0x4802, W32, "GUEST_CS_LIMIT", false},
    {0x4804, W32, "GUEST_SS_LIMIT", false},
    {0x4806, W32, "GUEST_DS_LIMIT", false},
    {0x4808, W32, "GUEST_FS_LIMIT", false},
    {0x480A, W32, "GUEST_GS_LIMIT", false},
    {0x480C, W32, "GUEST_LDTR_LIMIT", false},
    {0x480E, W32, "GUEST_TR_LIMIT", false},
    {0x4810, W32, "GUEST_GDTR_LIMIT", false},
    {0x4812, W32, "GUEST_IDTR_LIMIT", false},
    {0x4814, W32, "GUEST_ES_AR", false},
    {0x4816, W32, "GUEST_CS_AR", false},
    {0x4818, W32, "GUEST_SS_AR", false},
    {0x481A, W32, "GUEST_DS_AR", false},
    {0x481C, W32, "GUEST_FS_AR", false},
    {0x481E, W32, "GUEST_GS_AR", false},
    {0x4820, W32, "GUEST_LDTR_AR", false},
    {0x4822, W32, "GUEST_TR_AR", false},
    {0x4824, W32, "GUEST_INTERRUPTIBILITY", false},
    {0x4826, W32, "GUEST_ACTIVITY_STATE", false},
    {0x4828, W32, "GUEST_SMBASE", false},
    {0x482A, W32, "GUEST_IA32_SYSENTER_CS", false},
    {0x482E, W32, "PREEMPTION_TIMER_VALUE", false},
    {0x4C00, W32, "HOST_IA32_SYSENTER_CS", false},
    {0x6000, WNAT, "CR0_GUEST_HOST_MASK", false},
    {0x6002, WNAT, "CR4_GUEST_HOST_MASK", false},
    {0x6004, WNAT, "CR0_READ_SHADOW", false},
    {0x6006, WNAT, "CR4_READ_SHADOW", false},
    {0x6008, WNAT, "CR3_TARGET_VALUE0", false},
    {0x600A, WNAT, "CR3_TARGET_VALUE1", false},
    {0x600C, WNAT, "CR3_TARGET_VALUE2", false},
    {0x600E, WNAT, "CR3_TARGET_VALUE3", false},
    {0x6400, WNAT, "EXIT_QUALIFICATION", true},
    {0x6402, WNAT, "IO_RCX", true},
    {0x6404, WNAT, "IO_RSI", true},
    {0x6406, WNAT, "IO_RDI", true},
    {0x6408, WNAT, "IO_RIP", true},
    {0x640A, WNAT, "GUEST_LINEAR_ADDR", true},
    {0x6800, WNAT, "GUEST_CR0", false},
    {0x6802, WNAT, "GUEST_CR3", false},
    {0x6804, WNAT, "GUEST_CR4", false},
    {0x6806, WNAT, "GUEST_ES_BASE", false},
    {0x6808, WNAT, "GUEST_CS_BASE", false},
    {0x680A, WNAT, "GUEST_SS_BASE", false},
    {0x680C, WNAT, "GUEST_DS_BASE", false},
    {0x680E, WNAT, "GUEST_FS_BASE", false},
    {0x6810, WNAT, "GUEST_GS_BASE", false},
    {0x6812, WNAT, "GUEST_LDTR_BASE", false},
    {0x6814, WNAT, "GUEST_TR_BASE", false},
    {0x6816, WNAT, "GUEST_GDTR_BASE", false},
    {0x6818, WNAT, "GUEST_IDTR_BASE", false},
    {0x681A, WNAT, "GUEST_DR7", false},
    {0x681C, WNAT, "GUEST_RSP", false},
    {0x681E, WNAT, "GUEST_RIP", false},
    {0x6820, WNAT, "GUEST_RFLAGS", false},
    {0x6822, WNAT, "GUEST_PENDING_DBG_EXCEPTIONS", false},
    {0x6824, WNAT, "GUEST_IA32_SYSENTER_ESP", false},
    {0x6826, WNAT, "GUEST_IA32_SYSENTER_EIP", false},
    {0x6C00, WNAT, "HOST_CR0", false},
    {0x6C02, WNAT, "HOST_CR3", false},
    {0x6C04, WNAT, "HOST_CR4", false},
    {0x6C06, WNAT, "HOST_FS_BASE", false},
    {0x6C08, WNAT, "HOST_GS_BASE", false},
    {0x6C0A, WNAT, "HOST_TR_BASE", false},
    {0x6C0C, WNAT, "HOST_GDTR_BASE", false},
    {0x6C0E, WNAT, "HOST_IDTR_BASE", false},
    {0x6C10, WNAT, "HOST_IA32_SYSENTER_ESP", false},
    {0x6C12, WNAT, "HOST_IA32_SYSENTER_EIP", false},
    {0x6C14, WNAT, "HOST_RSP", false},
    {0x6C16, WNAT, "HOST_RIP", false},
};
#define L2_COUNT (sizeof l2 / sizeof l2[0])

static vtx_field_width width_of(unsigned w)
{
    switch (w) {
    case W16: return VTX_WIDTH_16;
    case W32: return VTX_WIDTH_32;
    case W64: return VTX_WIDTH_64;
    default: return VTX_WIDTH_NATURAL;
    }
}

/* L.2: every field of the catalogue is in the table under its encoding, with the
 * catalogue's width and read-only marking. */
Test(fields, every_catalogue_field_is_present_with_its_encoding)
{
    for (size_t i = 0; i < L2_COUNT; i++) {
        const vtx_field_info *fi = NULL;
        bool high = true;
        vtx_status st = vtx_vmcs_field_lookup(l2[i].enc, &fi, &high);
        cr_assert_eq(st, VTX_OK, "encoding 0x%04x (%s) of catalogue L.2 is not in the field table: %s", l2[i].enc,
                     l2[i].name, vtx_status_name(st));
        cr_assert_str_eq(fi->name, l2[i].name, "encoding 0x%04x should be %s, the table calls it %s", l2[i].enc,
                         l2[i].name, fi->name);
        cr_assert_eq(fi->encoding, l2[i].enc, "%s: table encoding 0x%04x, catalogue 0x%04x", fi->name, fi->encoding,
                     l2[i].enc);
        cr_assert(!high, "%s: the full encoding 0x%04x was reported as a high access", fi->name, l2[i].enc);
        cr_assert_eq(fi->width, width_of(l2[i].width), "%s: width %s, the catalogue says %s", fi->name,
                     vtx_field_width_name(fi->width), vtx_field_width_name(width_of(l2[i].width)));
        cr_assert_eq(fi->read_only, l2[i].ro, "%s: read_only is %d, the catalogue marks it %s", fi->name,
                     fi->read_only, l2[i].ro ? "(RO)" : "writable");
        cr_assert(fi->description && fi->description[0], "%s has no description", fi->name);
    }
}

/* The enumerators of vmcs_fields.h carry the catalogue encodings. */
Test(fields, enumerators_carry_the_catalogue_encodings)
{
    cr_assert_eq(VTX_VMCS_VPID, 0x0000);
    cr_assert_eq(VTX_VMCS_TSC_OFFSET, 0x2010);
    cr_assert_eq(VTX_VMCS_EPT_POINTER, 0x201A);
    cr_assert_eq(VTX_VMCS_VMCS_LINK_POINTER, 0x2800);
    cr_assert_eq(VTX_VMCS_VM_INSTRUCTION_ERROR, 0x4400);
    cr_assert_eq(VTX_VMCS_GUEST_INTERRUPTIBILITY, 0x4824);
    cr_assert_eq(VTX_VMCS_PREEMPTION_TIMER_VALUE, 0x482E);
    cr_assert_eq(VTX_VMCS_EXIT_QUALIFICATION, 0x6400);
    cr_assert_eq(VTX_VMCS_GUEST_RIP, 0x681E);
    cr_assert_eq(VTX_VMCS_HOST_RIP, 0x6C16);
}

/* Width (14:13), type (11:10) and index (9:1) are decoded from the encoding. */
Test(fields, width_type_and_index_decode_from_the_encoding)
{
    size_t n;
    const vtx_field_info *f = vtx_vmcs_fields(&n);
    for (size_t i = 0; i < n; i++) {
        uint32_t e = f[i].encoding;
        cr_assert_eq(f[i].width, (vtx_field_width)((e >> 13) & 3), "%s (0x%04x): width %d, bits 14:13 say %u",
                     f[i].name, e, f[i].width, (e >> 13) & 3);
        cr_assert_eq(f[i].type, (vtx_field_type)((e >> 10) & 3), "%s (0x%04x): type %d, bits 11:10 say %u",
                     f[i].name, e, f[i].type, (e >> 10) & 3);
        cr_assert_eq(f[i].index, (e >> 1) & 0x1FF, "%s (0x%04x): index %u, bits 9:1 say %u", f[i].name, e,
                     f[i].index, (e >> 1) & 0x1FF);
        cr_assert_eq(f[i].read_only, f[i].type == VTX_TYPE_RO_DATA,
                     "%s: read_only must be set exactly for type 1 (read-only data)", f[i].name);
        cr_assert_eq(e & 1, 0u, "%s: a full encoding has access type 0", f[i].name);
        cr_assert_eq(e & ~0x6FFFu, 0u, "%s: encoding 0x%x sets reserved bits", f[i].name, e);
    }
    /* The inline decoders agree on a known example: GUEST_CS_AR 0x4816 = 32-bit guest-state index 11. */
    cr_assert_eq(vtx_encoding_width(0x4816), VTX_WIDTH_32);
    cr_assert_eq(vtx_encoding_type(0x4816), VTX_TYPE_GUEST);
    cr_assert_eq(vtx_encoding_index(0x4816), 11u);
    cr_assert_eq(vtx_encoding_type(0x6C16), VTX_TYPE_HOST);
    cr_assert_eq(vtx_encoding_type(0x4402), VTX_TYPE_RO_DATA);
    cr_assert_eq(vtx_encoding_width(0x2011), VTX_WIDTH_64);
}

/* A 64-bit field's high encoding (full + 1) names the same field with high = true. */
Test(fields, high_encoding_of_a_64bit_field_resolves_with_high_set)
{
    size_t n, n64 = 0;
    const vtx_field_info *f = vtx_vmcs_fields(&n);
    for (size_t i = 0; i < n; i++) {
        const vtx_field_info *fi = NULL;
        bool high = false;
        vtx_status st = vtx_vmcs_field_lookup(f[i].encoding + 1, &fi, &high);
        if (f[i].width == VTX_WIDTH_64) {
            n64++;
            cr_assert_eq(st, VTX_OK, "%s: high encoding 0x%04x is not a field", f[i].name, f[i].encoding + 1);
            cr_assert_eq(fi, &f[i], "%s: high encoding 0x%04x resolves to %s", f[i].name, f[i].encoding + 1,
                         fi->name);
            cr_assert(high, "%s: high encoding 0x%04x did not report a high access", f[i].name, f[i].encoding + 1);
        } else {
            /* Access type 1 is allowed only for 64-bit fields. */
            cr_assert_eq(st, VTX_ERR_NOT_FOUND, "%s (%s): encoding 0x%04x (high access) must not be a field",
                         f[i].name, vtx_field_width_name(f[i].width), f[i].encoding + 1);
        }
    }
    cr_assert_gt(n64, 40, "expected the 64-bit fields of Appendix B, found %zu", n64);
    const vtx_field_info *fi;
    bool high = false;
    cr_assert_eq(vtx_vmcs_field_lookup(0x2011, &fi, &high), VTX_OK);
    cr_assert_str_eq(fi->name, "TSC_OFFSET");
    cr_assert(high, "0x2011 is the high half of TSC_OFFSET");
    /* high may be NULL. */
    cr_assert_eq(vtx_vmcs_field_lookup(0x2011, &fi, NULL), VTX_OK);
}

/* Bits 31:15 and bit 12 are reserved; in 64-bit mode bits 63:32 of the operand
 * must be 0: such encodings name no field. */
Test(fields, reserved_encoding_bits_make_an_encoding_no_field)
{
    static const uint32_t samples[] = {0x0000, 0x2010, 0x2011, 0x4400, 0x681E, 0x6C16};
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        const vtx_field_info *fi;
        uint64_t base = samples[s];
        cr_assert_eq(vtx_vmcs_field_lookup(base, &fi, NULL), VTX_OK, "0x%llx should be a field",
                     (unsigned long long)base);
        for (unsigned b = 15; b < 64; b++) {
            uint64_t enc = base | (1ull << b);
            cr_assert_eq(vtx_vmcs_field_lookup(enc, &fi, NULL), VTX_ERR_NOT_FOUND,
                         "encoding 0x%llx sets reserved bit %u but was accepted as %s", (unsigned long long)enc, b,
                         fi->name);
        }
        uint64_t enc12 = base | 0x1000;
        cr_assert_eq(vtx_vmcs_field_lookup(enc12, &fi, NULL), VTX_ERR_NOT_FOUND,
                     "encoding 0x%llx sets reserved bit 12 but was accepted", (unsigned long long)enc12);
    }
    const vtx_field_info *fi;
    cr_assert_eq(vtx_vmcs_field_lookup(0x12345678, &fi, NULL), VTX_ERR_NOT_FOUND);
    cr_assert_eq(vtx_vmcs_field_lookup(0x100000000ull | 0x681E, &fi, NULL), VTX_ERR_NOT_FOUND);
    cr_assert_eq(vtx_vmcs_field_lookup(~0ull, &fi, NULL), VTX_ERR_NOT_FOUND);
}

/* Encodings with a valid layout but an index Appendix B does not assign. */
Test(fields, unassigned_indexes_are_not_fields)
{
    static const uint32_t unassigned[] = {0x0040, 0x0840, 0x0C40, 0x2040, 0x2440, 0x2840, 0x2C40, 0x4040,
                                          0x4440, 0x4840, 0x482C, 0x4C40, 0x6040, 0x6440, 0x6840, 0x6C40};
    for (size_t i = 0; i < sizeof unassigned / sizeof unassigned[0]; i++) {
        const vtx_field_info *fi = NULL;
        vtx_status st = vtx_vmcs_field_lookup(unassigned[i], &fi, NULL);
        cr_assert_eq(st, VTX_ERR_NOT_FOUND, "encoding 0x%04x is unassigned in Appendix B but resolved to %s",
                     unassigned[i], st == VTX_OK ? fi->name : "?");
    }
}

Test(fields, lookup_rejects_a_null_result_pointer)
{
    cr_assert_eq(vtx_vmcs_field_lookup(0x681E, NULL, NULL), VTX_ERR_INVALID_ARG);
    cr_assert_eq(vtx_vmcs_field_by_name("GUEST_RIP", NULL), VTX_ERR_INVALID_ARG);
    const vtx_field_info *fi;
    cr_assert_eq(vtx_vmcs_field_by_name(NULL, &fi), VTX_ERR_INVALID_ARG);
}

/* Names are looked up case-insensitively, with or without the VTX_VMCS_ prefix. */
Test(fields, lookup_by_name_ignores_case_and_the_prefix)
{
    static const char *const spellings[] = {"GUEST_RIP", "guest_rip", "Guest_Rip", "VTX_VMCS_GUEST_RIP",
                                            "vtx_vmcs_guest_rip", "Vtx_Vmcs_GUEST_rip"};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        const vtx_field_info *fi = NULL;
        cr_assert_eq(vtx_vmcs_field_by_name(spellings[i], &fi), VTX_OK, "'%s' should name GUEST_RIP",
                     spellings[i]);
        cr_assert_eq(fi->encoding, 0x681Eu, "'%s' resolved to %s", spellings[i], fi->name);
    }
    static const char *const not_names[] = {"", "GUEST_RIPX", "GUEST_RI", "VTX_VMCS_", "VMCS_GUEST_RIP",
                                            "GUEST RIP", "0x681e"};
    for (size_t i = 0; i < sizeof not_names / sizeof not_names[0]; i++) {
        const vtx_field_info *fi = NULL;
        vtx_status st = vtx_vmcs_field_by_name(not_names[i], &fi);
        cr_assert_eq(st, VTX_ERR_NOT_FOUND, "'%s' is not a field name but resolved to %s", not_names[i],
                     st == VTX_OK ? fi->name : "?");
    }
    /* Every table name finds its own row. */
    size_t n;
    const vtx_field_info *f = vtx_vmcs_fields(&n);
    for (size_t i = 0; i < n; i++) {
        const vtx_field_info *fi = NULL;
        cr_assert_eq(vtx_vmcs_field_by_name(f[i].name, &fi), VTX_OK, "%s is not found by its own name", f[i].name);
        cr_assert_eq(fi, &f[i], "%s resolves to %s", f[i].name, fi->name);
    }
}

/* The table is in encoding order, without duplicate encodings or names, and
 * has VTX_VMCS_FIELD_COUNT rows. */
Test(fields, field_list_is_sorted_and_unique)
{
    size_t n = 0;
    const vtx_field_info *f = vtx_vmcs_fields(&n);
    cr_assert_not_null(f);
    cr_assert_eq(n, (size_t)VTX_VMCS_FIELD_COUNT, "vtx_vmcs_fields reports %zu rows, VTX_VMCS_FIELD_COUNT is %d", n,
                 VTX_VMCS_FIELD_COUNT);
    cr_assert_geq(n, L2_COUNT, "the table has %zu rows, fewer than the %zu of catalogue L.2", n, L2_COUNT);
    cr_assert_not_null(vtx_vmcs_fields(NULL), "count may be NULL");
    for (size_t i = 1; i < n; i++)
        cr_assert_lt(f[i - 1].encoding, f[i].encoding, "fields out of encoding order: %s (0x%04x) before %s (0x%04x)",
                     f[i - 1].name, f[i - 1].encoding, f[i].name, f[i].encoding);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_assert(strcasecmp(f[i].name, f[j].name) != 0, "the name %s appears twice", f[i].name);
}

Test(fields, width_type_and_feature_names)
{
    cr_assert_str_eq(vtx_field_width_name(VTX_WIDTH_16), "16-bit");
    cr_assert_str_eq(vtx_field_width_name(VTX_WIDTH_64), "64-bit");
    cr_assert_str_eq(vtx_field_width_name(VTX_WIDTH_32), "32-bit");
    cr_assert_str_eq(vtx_field_width_name(VTX_WIDTH_NATURAL), "natural");
    cr_assert_str_eq(vtx_field_type_name(VTX_TYPE_CONTROL), "control");
    cr_assert_str_eq(vtx_field_type_name(VTX_TYPE_RO_DATA), "read-only data");
    cr_assert_str_eq(vtx_field_type_name(VTX_TYPE_GUEST), "guest state");
    cr_assert_str_eq(vtx_field_type_name(VTX_TYPE_HOST), "host state");
    cr_assert_str_eq(vtx_feature_name(VTX_FEAT_EPT), "EPT");
    cr_assert_str_eq(vtx_feature_name(VTX_FEAT_ALWAYS), "ALWAYS");
    const vtx_field_info *fi;
    cr_assert_eq(vtx_vmcs_field_by_name("EPT_POINTER", &fi), VTX_OK);
    cr_assert_eq(fi->feature, VTX_FEAT_EPT, "EPT_POINTER exists only with EPT");
    cr_assert_eq(vtx_vmcs_field_by_name("VPID", &fi), VTX_OK);
    cr_assert_eq(fi->feature, VTX_FEAT_VPID, "VPID exists only with VPID support");
    cr_assert_eq(vtx_vmcs_field_by_name("PREEMPTION_TIMER_VALUE", &fi), VTX_OK);
    cr_assert_eq(fi->feature, VTX_FEAT_PREEMPTION_TIMER);
    cr_assert_eq(vtx_vmcs_field_by_name("GUEST_RIP", &fi), VTX_OK);
    cr_assert_eq(fi->feature, VTX_FEAT_ALWAYS);
}
