/*
 * An identity EPT for test guests (EPT-ID-1): guest-physical == host-physical
 * for the whole test RAM (VT_RAM_SIZE at 0), read/write/execute, write-back,
 * 4-KiB pages (no large-page capability needed), 4-level walk. The four
 * tables take 16 KiB at table_pa. Returns the EPTP to write.
 */
#ifndef VT_EPT_IDENTITY_H
#define VT_EPT_IDENTITY_H

#include <string.h>
#include "helpers.h"

static inline uint64_t vt_ept_identity(vt_env *env, uint64_t table_pa)
{
    uint64_t *pml4 = (uint64_t *)(env->ram + table_pa), *pdpt = pml4 + 512, *pd = pdpt + 512, *pt = pd + 512;
    memset(pml4, 0, 4 * 4096);
    pml4[0] = (table_pa + 0x1000) | 7;
    pdpt[0] = (table_pa + 0x2000) | 7;
    pd[0] = (table_pa + 0x3000) | 7;
    for (uint64_t i = 0; i < VT_RAM_SIZE / 4096; i++)
        pt[i] = (i << 12) | (6u << 3) | 7; /* WB, R/W/X */
    return table_pa | 6u | (3u << 3);      /* EPTP: WB, 4-level walk */
}

#endif
