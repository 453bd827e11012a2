/* The accessed bit of loaded segment descriptors (seg_accessed.c). */
#ifndef VTX_SEG_ACCESSED_H
#define VTX_SEG_ACCESSED_H

#include "deliver.h"

/* For each of ES, CS, SS, DS, FS, GS holding a usable code or data segment
 * (protected or IA-32e mode, non-null selector) whose access rights have the
 * accessed bit clear: set the bit in its GDT/LDT descriptor in guest memory and
 * in the access rights. Descriptors the guest's paging does not map, or outside
 * the table limit, are left alone. A TR whose access rights say "available TSS"
 * (after Unicorn's LTR) is made busy. Returns how many it changed (0: *s unchanged). */
unsigned vtx_seg_set_accessed(vtx_cpu_state *s, const vtx_phys_mem *mem, const vtx_paging_caps *caps);
/* Whether vtx_seg_set_accessed has anything to look at in *s (a segment or TR
 * its tests select; no memory is read): false after most runs, which then need
 * no paging capabilities and no descriptor reads. */
bool vtx_seg_accessed_pending(const vtx_cpu_state *s);

#endif
