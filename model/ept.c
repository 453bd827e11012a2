/*
 * "Enable EPT" = 1 on an engine that does not translate guest-physical
 * addresses: Unicorn 2.0.1 (SDM Vol. 3 "EPT Translation Mechanism"; rules
 * EPT-ID-1, EPT-ID-2 of docs/rules-own.tsv). It accesses guest-physical ==
 * host-physical and has no TLB fill hook through which the model could walk
 * the EPT (on Unicorn 2.1 it does: ept_walk.c), so a run with EPT is faithful
 * only when the EPT maps every page of mapped guest-physical memory to itself
 * with read, write and execute access and a valid memory type, every present
 * leaf outside it to itself too (no access can then cause an EPT violation or
 * misconfiguration, or go elsewhere), and when accessed/dirty flags are off
 * (EPTP bit 6: nothing would set them). VM entry refuses anything else with
 * VTX_ERR_UNSUPPORTED, naming EPT and the Unicorn version, instead of running
 * with the EPT silently ignored.
 */
#include <stdio.h>
#include "execute.h"

#define EPT_R 1ull
#define EPT_W 2ull
#define EPT_X 4ull
#define EPT_PS (1ull << 7)
#define CAP_EXEC_ONLY (1ull << 0)
#define CAP_2M (1ull << 16)
#define CAP_1G (1ull << 17)

/* EPT memory types 2, 3 and 7 are reserved (SDM "EPT Misconfigurations"). */
static bool bad_memtype(uint64_t e) { unsigned t = (e >> 3) & 7; return t == 2 || t == 3 || t == 7; }

/* Walk the EPT for gpa: the leaf's problem (NULL when it maps gpa to itself
 * with R/W/X) and the size of the region it covers. */
static const char *walk_one(const vtx_machine *m, uint64_t eptp, uint64_t cap, uint64_t gpa, uint64_t *span)
{
    const unsigned maxpa = m->profile.phys_addr_width ? m->profile.phys_addr_width : 52;
    const uint64_t amask = ((maxpa >= 64) ? ~0ull : ((1ull << maxpa) - 1)) & ~0xFFFull;
    const int levels = (int)((eptp >> 3) & 7) + 1;
    uint64_t table = eptp & amask;
    *span = 4096;
    for (int level = levels; level >= 1; level--) {
        unsigned shift = 12 + 9 * (unsigned)(level - 1);
        uint64_t e = 0;
        if (vtx_mem_read(m, table + ((gpa >> shift) & 511) * 8, &e, 8, NULL) != VTX_OK)
            return "an EPT entry is outside memory";
        if (!(e & 7))
            return "a page is not present in the EPT (EPT violation)";
        if ((e & (EPT_R | EPT_W)) == EPT_W || ((e & 7) == EPT_X && !(cap & CAP_EXEC_ONLY)))
            return "an entry is write-only or unsupported execute-only (EPT misconfiguration)";
        if (e & ~amask & ((1ull << 52) - 1) & ~0xFFFull)
            return "an entry has reserved address bits set (EPT misconfiguration)";
        bool leaf = level == 1 || ((e & EPT_PS) && ((level == 2 && (cap & CAP_2M)) || (level == 3 && (cap & CAP_1G))));
        if (!leaf && (e & 0xF8))
            return "a non-leaf entry has reserved bits 7:3 set (EPT misconfiguration)";
        if (!leaf) {
            table = e & amask;
            continue;
        }
        *span = 1ull << shift;
        if (bad_memtype(e))
            return "a leaf has a reserved memory type (EPT misconfiguration)";
        if ((e & 7) != 7)
            return "a leaf lacks read, write or execute (EPT violation)";
        if ((e & amask & ~(*span - 1)) != (gpa & ~(*span - 1)))
            return "a page maps to another host-physical address";
        return NULL;
    }
    return "the EPT walk did not end";
}

/* Every present leaf of the EPT, also outside the mapped memory, maps its
 * guest-physical address to itself (Unicorn 2.0.1 would access the
 * guest-physical address where the EPT maps another). At most 4096 tables. */
static const char *walk_all(const vtx_machine *m, uint64_t table, int level, uint64_t base, uint64_t cap,
                            unsigned *tables, uint64_t *at)
{
    const uint64_t amask = 0x000FFFFFFFFFF000ull;
    if (++*tables > 4096)
        return "the EPT is too large to verify";
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = 0, gpa = base + ((uint64_t)i << (12 + 9 * (level - 1)));
        if (vtx_mem_read(m, table + i * 8ull, &e, 8, NULL) != VTX_OK) {
            *at = gpa;
            return "an EPT entry is outside memory";
        }
        if (!(e & 7))
            continue;
        bool leaf = level == 1 || ((e & EPT_PS) && ((level == 2 && (cap & CAP_2M)) || (level == 3 && (cap & CAP_1G))));
        if (!leaf) {
            const char *why = level > 1 ? walk_all(m, e & amask, level - 1, gpa, cap, tables, at) : NULL;
            if (why)
                return why;
            continue;
        }
        uint64_t size = 1ull << (12 + 9 * (level - 1));
        if ((e & amask & ~(size - 1)) != gpa) {
            *at = gpa;
            return "a page maps to another host-physical address"; /* EPT-ID-1 */
        }
    }
    return NULL;
}

const char *vtx_ept_refused(const vtx_machine *m, uint64_t eptp, char *buf, size_t len)
{
    uint64_t cap = 0;
    vtx_profile_read_msr(&m->profile, VTX_MSR_IA32_VMX_EPT_VPID_CAP, &cap);
    const char *what = NULL;
    uint64_t at = 0;
    if (eptp & (1ull << 6)) {
        what = "EPTP bit 6 enables accessed/dirty flags, which nothing would set";
    } else {
        for (size_t i = 0; i < m->n_regions && !what; i++) {
            uint64_t end = m->regions[i].pa + m->regions[i].size;
            for (uint64_t gpa = m->regions[i].pa; gpa < end && !what;) {
                uint64_t span;
                what = walk_one(m, eptp, cap, gpa, &span); /* EPT-ID-1 */
                at = gpa;
                gpa = (gpa & ~(span - 1)) + span;
            }
        }
        unsigned tables = 0;
        if (!what)
            what = walk_all(m, eptp & 0x000FFFFFFFFFF000ull, (int)((eptp >> 3) & 7) + 1, 0, cap, &tables, &at);
    }
    if (!what)
        return NULL;
    char where[64] = "";
    if (!(eptp & (1ull << 6)))
        snprintf(where, sizeof where, " at GPA 0x%llx", (unsigned long long)at);
    snprintf(buf, len, "EPT needs Unicorn 2.1 (Unicorn %s accesses guest-physical == host-physical; only an "
             "identity R/W/X EPT runs): %s%s", vtx_engine_unicorn_version(), what, where);
    return buf;
}
