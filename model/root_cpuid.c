/*
 * CPUID in root operation (ROOT-CPUID-1): what the modelled processor offers,
 * and nothing it does not implement. GenuineIntel; leaf 1 with VMX (ECX[5])
 * and without x2APIC, PDCM, MONITOR, XSAVE, RDRAND; leaf 7 and leaf 0xA
 * (no PMU) read 0; 0x80000008 gives the profile's MAXPHYADDR.
 * Rows: X(leaf, EAX, EBX, ECX, EDX); leaf 0x80000008 EAX is computed.
 */
#include "root_internal.h"

/* clang-format off */
#define VTX_ROOT_CPUID_LEAVES(X) \
    X(0x00000000u, 0x0000000Du, 0x756E6547u, 0x6C65746Eu, 0x49656E69u) /* max leaf, "GenuineIntel" */ \
    X(0x00000001u, 0x00050654u, 0x00010800u, 0x00882221u, 0x078BB37Fu) /* fam 6; SSE3 VMX SSSE3 CX16 SSE4.1/2 POPCNT... */ \
    X(0x80000000u, 0x80000008u, 0, 0, 0) \
    X(0x80000001u, 0, 0, 0x00000001u, 0x28100800u) /* LAHF; SYSCALL NX RDTSCP LM */
/* clang-format on */

void vtx_root_cpuid(const vtx_machine *m, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    (void)subleaf;
    out[0] = out[1] = out[2] = out[3] = 0;
#define VTX_X_LEAF(l, a, b, c, d) \
    if (leaf == (l)) { out[0] = (a); out[1] = (b); out[2] = (c); out[3] = (d); return; }
    VTX_ROOT_CPUID_LEAVES(VTX_X_LEAF)
#undef VTX_X_LEAF
    if (leaf == 0x80000008u)
        out[0] = m->profile.phys_addr_width | (48u << 8);
    /* Every other leaf up to the maxima reads 0 (leaf 7: no RTM, no extended features;
     * leaf 0xA: no performance monitoring). */
}
