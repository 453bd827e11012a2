/* The VMCS field table (SDM Appendix B) and encoding lookup. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "vmcs_internal.h"

static const vtx_field_info field_table[VTX_SLOT_COUNT] = {
#define VTX_X_INFO(nm, enc, feat, desc)                                                    \
    {.name = #nm, .description = desc, .encoding = (enc),                               \
     .width = (vtx_field_width)(((enc) >> 13) & 3), .type = (vtx_field_type)(((enc) >> 10) & 3), \
     .index = ((enc) >> 1) & 0x1FF, .feature = VTX_FEAT_##feat, .read_only = (((enc) >> 10) & 3) == 1},
    VTX_VMCS_FIELDS(VTX_X_INFO)
#undef VTX_X_INFO
};

/* Encodings of full fields are even and below 0x8000: index the table by enc >> 1.
 * Entries hold slot + 1 so that zero means "no field". */
#define SLOT_MAP_SIZE 0x4000
static const uint8_t slot_map[SLOT_MAP_SIZE] = {
#define VTX_X_MAP(nm, enc, feat, desc) [(enc) >> 1] = VTX_SLOT_##nm + 1,
    VTX_VMCS_FIELDS(VTX_X_MAP)
#undef VTX_X_MAP
};
_Static_assert(VTX_SLOT_COUNT < 255, "slot_map holds slot + 1 in a byte");

int vtx_vmcs_slot(uint64_t encoding, bool *high)
{
    /* Bits 63:15 and bit 12 are reserved in every encoding. */
    if (encoding & ~(uint64_t)0x6FFF)
        return -1;
    unsigned slot = slot_map[(encoding & 0x7FFF) >> 1];
    if (slot == 0)
        return -1;
    bool h = encoding & 1;
    /* The access-type bit may be 1 only for 64-bit fields. */
    if (h && vtx_encoding_width((uint32_t)encoding) != VTX_WIDTH_64)
        return -1;
    if (high)
        *high = h;
    return (int)slot - 1;
}

const vtx_field_info *vtx_vmcs_fields(size_t *count)
{
    if (count)
        *count = VTX_SLOT_COUNT;
    return field_table;
}

vtx_status vtx_vmcs_field_lookup(uint64_t encoding, const vtx_field_info **info, bool *high)
{
    if (!info)
        return VTX_ERR_INVALID_ARG;
    bool h = false;
    int slot = vtx_vmcs_slot(encoding, &h);
    if (slot < 0)
        return VTX_ERR_NOT_FOUND;
    *info = &field_table[slot];
    if (high)
        *high = h;
    return VTX_OK;
}

static bool name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
            return false;
    return *a == *b;
}

vtx_status vtx_vmcs_field_by_name(const char *name, const vtx_field_info **info)
{
    if (!name || !info)
        return VTX_ERR_INVALID_ARG;
    if (strncasecmp(name, "VTX_VMCS_", 9) == 0)
        name += 9;
    for (size_t i = 0; i < VTX_SLOT_COUNT; i++) {
        if (name_eq(name, field_table[i].name)) {
            *info = &field_table[i];
            return VTX_OK;
        }
    }
    return VTX_ERR_NOT_FOUND;
}

const char *vtx_field_width_name(vtx_field_width w)
{
    static const char *const names[] = {"16-bit", "64-bit", "32-bit", "natural"};
    return (unsigned)w < 4 ? names[w] : "?";
}

const char *vtx_field_type_name(vtx_field_type t)
{
    static const char *const names[] = {"control", "read-only data", "guest state", "host state"};
    return (unsigned)t < 4 ? names[t] : "?";
}

const char *vtx_feature_name(vtx_feature f)
{
    static const char *const names[] = {
#define VTX_X_FEATNAME(n) #n,
        VTX_FEATURES(VTX_X_FEATNAME)
#undef VTX_X_FEATNAME
    };
    return (unsigned)f < VTX_FEAT_COUNT_ ? names[f] : "?";
}
