/*
 * The instructions that share a class are told apart by the decoder's mnemonic
 * (vtx_insn.mnemonic), never by their disassembly text: the VMX instructions'
 * exit reasons (SDM Vol. 3C Appendix C) and the instruction-table rows of
 * UMWAIT/TPAUSE/UMONITOR and ENCLS/ENCLU/ENCLV. Uses the internal headers
 * cpu/engine.h (the decoder), model/execute.h and model/insn_table.h.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "../cpu/engine.h"
#include "../model/execute.h"
#include "../model/insn_table.h"

typedef struct case_ {
    const char *what;
    uint8_t bytes[6];
    uint8_t len;
    uint32_t reason; /* for the VMX instructions */
    const char *row; /* instruction-table row */
} case_;

static vtx_insn decode(const case_ *c)
{
    vtx_insn in;
    cr_assert_eq(vtx_decode_bytes(c->bytes, c->len, 64, 0x1000, &in), 0, "%s decodes", c->what);
    cr_assert_eq(in.len, c->len, "%s: length", c->what);
    return in;
}

Test(insn_mnemonic, vmx_exit_reasons_come_from_the_mnemonic)
{
    static const case_ cases[] = {
        {"VMCALL", {0x0F, 0x01, 0xC1}, 3, VTX_EXIT_REASON_VMCALL, "VMCALL"},
        {"VMLAUNCH", {0x0F, 0x01, 0xC2}, 3, VTX_EXIT_REASON_VMLAUNCH, "VMLAUNCH"},
        {"VMRESUME", {0x0F, 0x01, 0xC3}, 3, VTX_EXIT_REASON_VMRESUME, "VMRESUME"},
        {"VMXOFF", {0x0F, 0x01, 0xC4}, 3, VTX_EXIT_REASON_VMXOFF, "VMXOFF"},
        {"VMREAD rax, rbx", {0x0F, 0x78, 0xD8}, 3, VTX_EXIT_REASON_VMREAD, "VMREAD"},
        {"VMWRITE rbx, rax", {0x0F, 0x79, 0xD8}, 3, VTX_EXIT_REASON_VMWRITE, "VMWRITE"},
        {"VMPTRLD [rax]", {0x0F, 0xC7, 0x30}, 3, VTX_EXIT_REASON_VMPTRLD, "VMPTRLD"},
        {"VMPTRST [rax]", {0x0F, 0xC7, 0x38}, 3, VTX_EXIT_REASON_VMPTRST, "VMPTRST"},
        {"VMCLEAR [rax]", {0x66, 0x0F, 0xC7, 0x30}, 4, VTX_EXIT_REASON_VMCLEAR, "VMCLEAR"},
        {"VMXON [rax]", {0xF3, 0x0F, 0xC7, 0x30}, 4, VTX_EXIT_REASON_VMXON, "VMXON"},
        {"INVEPT rcx, [rax]", {0x66, 0x0F, 0x38, 0x80, 0x08}, 5, VTX_EXIT_REASON_INVEPT, "INVEPT"},
        {"INVVPID rcx, [rax]", {0x66, 0x0F, 0x38, 0x81, 0x08}, 5, VTX_EXIT_REASON_INVVPID, "INVVPID"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vtx_insn in = decode(&cases[i]);
        cr_expect_eq(vtx_vmx_insn_exit_reason(&in), cases[i].reason, "%s: exit reason %u", cases[i].what,
                     cases[i].reason);
        const vtx_insn_row *row = vtx_insn_row_of(&in);
        cr_assert_not_null(row, "%s has a row", cases[i].what);
        cr_expect_str_eq(row->id, cases[i].row, "%s: row", cases[i].what);
        /* The text is for people: a different text does not change the verdict. */
        strcpy(in.text, "nop");
        cr_expect_eq(vtx_vmx_insn_exit_reason(&in), cases[i].reason, "%s: not read from the text", cases[i].what);
    }
}

Test(insn_mnemonic, rows_of_one_class_come_from_the_mnemonic)
{
    static const case_ cases[] = {
        {"UMWAIT ecx", {0xF2, 0x0F, 0xAE, 0xF1}, 4, 0, "UMWAIT"},
        {"TPAUSE ecx", {0x66, 0x0F, 0xAE, 0xF1}, 4, 0, "TPAUSE"},
        {"UMONITOR rax", {0xF3, 0x0F, 0xAE, 0xF0}, 4, 0, "UMONITOR"},
        {"ENCLS", {0x0F, 0x01, 0xCF}, 3, 0, "ENCLS"},
        {"ENCLU", {0x0F, 0x01, 0xD7}, 3, 0, "ENCLU"},
        {"ENCLV", {0x0F, 0x01, 0xC0}, 3, 0, "ENCLV"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vtx_insn in = decode(&cases[i]);
        strcpy(in.text, "nop"); /* not read */
        const vtx_insn_row *row = vtx_insn_row_of(&in);
        cr_assert_not_null(row, "%s has a row", cases[i].what);
        cr_expect_str_eq(row->id, cases[i].row, "%s: row", cases[i].what);
    }
}
