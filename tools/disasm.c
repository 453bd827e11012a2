/* Guest instructions as text (tools/disasm.h): Zydis 4, Intel syntax. */
#include "disasm.h"
#include <stdio.h>
#include <Zydis/Zydis.h>

unsigned vtx_disasm(const uint8_t *ram, size_t ram_size, unsigned bits, uint64_t linear, char *buf, size_t size)
{
    if (!ram || linear >= ram_size) {
        snprintf(buf, size, "(outside RAM)");
        return 0;
    }
    ZydisMachineMode mode = bits == 64   ? ZYDIS_MACHINE_MODE_LONG_64
                            : bits == 32 ? ZYDIS_MACHINE_MODE_LEGACY_32
                                         : ZYDIS_MACHINE_MODE_LEGACY_16;
    size_t avail = ram_size - (size_t)linear;
    ZydisDisassembledInstruction insn;
    if (!ZYAN_SUCCESS(ZydisDisassembleIntel(mode, linear, ram + linear, avail < 15 ? avail : 15, &insn))) {
        snprintf(buf, size, "(undecodable: %02x)", ram[linear]);
        return 0;
    }
    snprintf(buf, size, "%s", insn.text);
    return insn.info.length;
}
