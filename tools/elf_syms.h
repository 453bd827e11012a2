/* The symbols of an ELF file (tools/elf_syms.c), for `vtxref boot --explain` to name
 * guest addresses ("0x40a1c3 (vmx_intr_window_test_guest+0x3)") when the kernel
 * carries a symbol table (kvm-unit-tests' x86 .flat files do; the nasm kernels of tests/vmm do not). */
#ifndef VTX_TOOLS_ELF_SYMS_H
#define VTX_TOOLS_ELF_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct elf_syms elf_syms;

/* The function and untyped symbols of an ELF32 or ELF64 file; NULL when it has none (or is no ELF file). */
elf_syms *elf_syms_load(const char *path);
void elf_syms_free(elf_syms *s);
/* "name" or "name+0x5" for the symbol at or below @p addr (within its size, or below the next
 * symbol when it has none); false when none. The signature of explain's label function. */
bool elf_syms_label(void *syms, uint64_t addr, char *buf, size_t size);
/* The address of symbol @p name; false when there is none. */
bool elf_syms_address(const elf_syms *s, const char *name, uint64_t *addr);

#endif
