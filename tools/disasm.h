/* Guest instructions as text for `vtxref explain` (tools/disasm.c; Zydis 4, Intel syntax). */
#ifndef VTX_TOOLS_DISASM_H
#define VTX_TOOLS_DISASM_H

#include <stddef.h>
#include <stdint.h>

/**
 * @brief Disassemble the instruction at guest-linear @p linear of @p ram (identity-mapped
 * guest memory, @p ram_size bytes), decoded as @p bits (16, 32 or 64) code.
 * Writes the text ("mov eax, 1") to @p buf and returns the instruction's length,
 * or 0 (and "(undecodable)" or "(outside RAM)") when there is none. For a relative
 * branch, *@p target (if not NULL) gets its destination, else UINT64_MAX.
 */
unsigned vtx_disasm(const uint8_t *ram, size_t ram_size, unsigned bits, uint64_t linear, char *buf, size_t size,
                    uint64_t *target);

#endif
