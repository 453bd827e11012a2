/* Guest instructions as text (tools/disasm.h): Zydis 4, Intel syntax, lower-case hex. */
#include "disasm.h"
#include <stdbool.h>
#include <stdio.h>
#include <Zydis/Zydis.h>

typedef struct {
    bool ready;
    ZydisDecoder decoder;
    ZydisFormatter formatter;
} disasm_mode;

static disasm_mode modes[3]; /* 16, 32, 64 */

static disasm_mode *mode_for(unsigned bits)
{
    int i = bits == 64 ? 2 : bits == 32 ? 1 : 0;
    disasm_mode *m = &modes[i];
    if (!m->ready) {
        static const ZydisMachineMode mm[3] = {ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_MACHINE_MODE_LEGACY_32,
                                               ZYDIS_MACHINE_MODE_LONG_64};
        static const ZydisStackWidth sw[3] = {ZYDIS_STACK_WIDTH_16, ZYDIS_STACK_WIDTH_32, ZYDIS_STACK_WIDTH_64};
        if (!ZYAN_SUCCESS(ZydisDecoderInit(&m->decoder, mm[i], sw[i])) ||
            !ZYAN_SUCCESS(ZydisFormatterInit(&m->formatter, ZYDIS_FORMATTER_STYLE_INTEL)))
            return NULL;
        ZydisFormatterSetProperty(&m->formatter, ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, ZYAN_FALSE);
        ZydisFormatterSetProperty(&m->formatter, ZYDIS_FORMATTER_PROP_ADDR_PADDING_ABSOLUTE, ZYDIS_PADDING_DISABLED);
        ZydisFormatterSetProperty(&m->formatter, ZYDIS_FORMATTER_PROP_ADDR_PADDING_RELATIVE, ZYDIS_PADDING_DISABLED);
        m->ready = true;
    }
    return m;
}

unsigned vtx_disasm(const uint8_t *ram, size_t ram_size, unsigned bits, uint64_t linear, char *buf, size_t size,
                    uint64_t *target)
{
    if (target)
        *target = UINT64_MAX;
    if (!ram || linear >= ram_size) {
        snprintf(buf, size, "(outside RAM)");
        return 0;
    }
    disasm_mode *m = mode_for(bits);
    size_t avail = ram_size - (size_t)linear;
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!m || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&m->decoder, ram + linear, avail < 15 ? avail : 15, &insn, ops))) {
        snprintf(buf, size, "(undecodable: %02x)", ram[linear]);
        return 0;
    }
    if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&m->formatter, &insn, ops, insn.operand_count_visible, buf,
                                                      size, linear, ZYAN_NULL)))
        snprintf(buf, size, "(unformattable)");
    if (target && (insn.attributes & ZYDIS_ATTRIB_IS_RELATIVE) && insn.operand_count_visible > 0 &&
        ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        ZyanU64 abs;
        if (ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn, &ops[0], linear, &abs)))
            *target = abs;
    }
    return insn.length;
}
