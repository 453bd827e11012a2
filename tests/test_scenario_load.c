/* Scenario files (docs/scenarios.md): the loader. Every class of bad input is an
 * error naming the line and column of what is wrong (asserted here), never a crash;
 * good input gives the names, labels and expectations the file says. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helpers.h"
#include "vtxref/scenario.h"

static vtx_status load(const char *text, vtx_scenario **s, vtx_scenario_error *e)
{
    return vtx_scenario_load_text(text, strlen(text), "t.yaml", NULL, s, e);
}

/* Loading @p text fails with @p st at line:col and a message containing @p sub. */
static void bad(const char *what, const char *text, vtx_status st, int line, int col, const char *sub)
{
    vtx_scenario *s = (vtx_scenario *)1;
    vtx_scenario_error e;
    vtx_status got = load(text, &s, &e);
    char msg[1024];
    vtx_scenario_error_format(&e, msg, sizeof msg);
    cr_assert_eq(got, st, "%s: expected %s, got %s (%s)", what, vtx_status_name(st), vtx_status_name(got), msg);
    cr_assert_null(s, "%s: no scenario on failure", what);
    cr_assert_str_eq(e.file, "t.yaml", "%s: the error names the file", what);
    cr_assert_eq(e.line, line, "%s: line %d expected, got %s", what, line, msg);
    if (col)
        cr_assert_eq(e.column, col, "%s: column %d expected, got %s", what, col, msg);
    cr_assert(strstr(e.message, sub), "%s: message should contain '%s': %s", what, sub, msg);
}

#define GUEST "guest:\n  mode: long64\n  code: hlt\n"

Test(scenario_load, syntax_error_has_line_and_column)
{
    bad("a plain scalar starting with @", "name: x\nname2: @foo\n", VTX_ERR_PARSE, 2, 8,
        "YAML syntax error: plain scalar cannot start with '@'");
    bad("missing comma", "name: x\nguest: {mode: long64 code: hlt}\n", VTX_ERR_PARSE, 2, 0,
        "YAML syntax error: missing comma in flow mapping");
    bad("unclosed quote", "name: x\nguest:\n  mode: long64\n  code: \"hlt\n", VTX_ERR_PARSE, 4, 0,
        "double-quoted scalar without closing quote");
}

Test(scenario_load, unknown_key_anywhere)
{
    bad("top level", GUEST "reactons: []\n", VTX_ERR_PARSE, 4, 1, "unknown key 'reactons'");
    bad("in guest", "guest:\n  mode: long64\n  code: hlt\n  stak: 0x9000\n", VTX_ERR_PARSE, 4, 3, "unknown key 'stak' in guest");
    bad("in a reaction", GUEST "reactions:\n  - on: {exit: HLT}\n    than: stop\n", VTX_ERR_PARSE, 6, 5,
        "unknown key 'than' in reaction 1");
    bad("in an expected exit", GUEST "expect:\n  exits:\n    - {reason: HLT, ripp: 0}\n", VTX_ERR_PARSE, 6, 21,
        "unknown key 'ripp' in expected exit 1");
    bad("duplicate", "guest:\n  mode: long64\n  mode: pm32\n  code: hlt\n", VTX_ERR_PARSE, 3, 3, "appears twice");
}

Test(scenario_load, unknown_names)
{
    bad("control", GUEST "controls:\n  proc: [hlt exiting, interupt-window exiting]\n", VTX_ERR_PARSE, 5, 23,
        "unknown control 'interupt-window exiting' in proc");
    bad("field", GUEST "fields:\n  GUEST_RIPP: 1\n", VTX_ERR_PARSE, 5, 3, "unknown VMCS field 'GUEST_RIPP'");
    bad("field encoding", GUEST "fields:\n  0x1234: 1\n", VTX_ERR_PARSE, 5, 3, "not the encoding of a VMCS field");
    bad("exit reason", GUEST "reactions:\n  - on: {exit: HALT}\n", VTX_ERR_PARSE, 5, 16, "unknown exit reason 'HALT'");
    bad("mode", "guest:\n  mode: long32\n  code: hlt\n", VTX_ERR_PARSE, 2, 9, "unknown guest mode 'long32'");
    bad("interruption type", GUEST "inject: {type: extrenal, vector: 0x30}\n", VTX_ERR_PARSE, 4, 16,
        "unknown event type 'extrenal'");
    bad("activity", "guest:\n  mode: long64\n  code: hlt\n  activity: sleeping\n", VTX_ERR_PARSE, 4, 13,
        "unknown activity state");
    bad("blocking", "guest:\n  mode: long64\n  code: hlt\n  interruptibility: [sti, cli]\n", VTX_ERR_PARSE, 4, 27,
        "unknown blocking 'cli'");
    bad("check", GUEST "expect:\n  exits:\n    - {check: GUEST_NO_SUCH_CHECK}\n", VTX_ERR_PARSE, 6, 15, "unknown check");
    bad("label", "guest:\n  mode: long64\n  code: |\n    here: hlt\nexpect:\n  exits:\n    - {rip: there}\n",
        VTX_ERR_PARSE, 7, 13, "unknown label 'there' (the code's labels: here)");
    bad("knob", GUEST "knobs: {CFG-nope: on}\n", VTX_ERR_PARSE, 4, 9, "unknown knob 'CFG-nope'");
    bad("profile", "profile: pentium\n" GUEST, VTX_ERR_PARSE, 1, 10, "profile 'pentium'");
}

Test(scenario_load, values_out_of_range_and_wrong_types)
{
    bad("16-bit field", GUEST "fields:\n  VPID: 0x10000\n", VTX_ERR_PARSE, 5, 9, "VPID 0x10000 is out of range");
    bad("vector", GUEST "inject: {type: external, vector: 256}\n", VTX_ERR_PARSE, 4, 34, "out of range");
    bad("cpl 2", "guest:\n  mode: long64\n  cpl: 2\n  code: hlt\n", VTX_ERR_PARSE, 3, 8, "guest.cpl must be 0 or 3");
    bad("not a number", "guest:\n  mode: long64\n  code: hlt\n  stack: lots\n", VTX_ERR_PARSE, 4, 10, "must be a number");
    bad("negative", GUEST "limits: {exits: -1}\n", VTX_ERR_PARSE, 4, 17, "must be a number");
    bad("a list for a mapping", "guest: [long64]\n", VTX_ERR_PARSE, 1, 8, "guest must be a mapping, not a list");
    bad("a mapping for a list", GUEST "events: {cycle: 5}\n", VTX_ERR_PARSE, 4, 9, "events must be a list");
    bad("event without time", GUEST "events:\n  - {nmi: true}\n", VTX_ERR_PARSE, 5, 5, "needs a time");
    bad("two events in one item", GUEST "events:\n  - {cycle: 5, nmi: true, init: true}\n", VTX_ERR_PARSE, 5, 27,
        "two events");
    bad("then", GUEST "reactions:\n  - on: {exit: HLT}\n    then: pause\n", VTX_ERR_PARSE, 6, 11,
        "then must be resume or stop");
    bad("missing guest", "name: x\n", VTX_ERR_PARSE, 1, 1, "needs 'guest:'");
    bad("missing code", "guest:\n  mode: long64\n", VTX_ERR_PARSE, 2, 3, "guest needs 'code:'");
    bad("empty code", "guest:\n  mode: long64\n  code:\n", VTX_ERR_PARSE, 3, 3, "guest.code is empty");
    bad("memory outside RAM", GUEST "  memory: [{at: 0x3ffffe, u32: 1}]\n", VTX_ERR_PARSE, 4, 12,
        "memory at 0x3ffffe (4 bytes) is outside the 4-MiB guest RAM");
    bad("exits and vmfail", GUEST "expect:\n  exits: []\n  vmfail: true\n", VTX_ERR_PARSE, 6, 11, "both exits and vmfail");
}

Test(scenario_load, control_the_profile_cannot_set)
{
    /* core2 has no secondary controls: no unrestricted guest, so no real mode (ENT-CTL rules on allowed settings). */
    bad("real mode on core2", "profile: core2\nguest:\n  mode: real\n  code: hlt\n", VTX_ERR_PARSE, 3, 9,
        "guest mode real needs the proc2 control 'Unrestricted guest', which profile core2 cannot set");
    bad("preemption timer on core2", "profile: core2\n" GUEST "controls:\n  pin: [activate vmx-preemption timer]\n",
        VTX_ERR_PARSE, 6, 9, "profile core2 cannot set the pin control 'Activate VMX-preemption timer'");
    bad("set in a reaction", "profile: core2\n" GUEST "reactions:\n  - on: {exit: HLT}\n    do:\n"
        "      - set: {pin: [activate vmx-preemption timer]}\n", VTX_ERR_PARSE, 8, 9,
        "profile core2 cannot set the pin control 'Activate VMX-preemption timer'");
    bad("field of a feature core2 lacks", "profile: core2\n" GUEST "fields: {VPID: 1}\n", VTX_ERR_PARSE, 5, 10,
        "VMCS field VPID does not exist on profile core2");
}

Test(scenario_load, nasm_error_at_the_scenario_line)
{
    /* line 6 is the third line of the code block */
    bad("code", "name: x\nguest:\n  mode: long64\n  code: |\n    nop\n    mvo eax, 1\n    hlt\n", VTX_ERR_PARSE, 6, 5,
        "nasm (code): parser: instruction expected");
    bad("code after a blank line", "guest:\n  mode: pm32\n  code: |\n\n    nop\n        mov eax, [\n", VTX_ERR_PARSE, 6,
        9, "nasm (code)");
    bad("handler", GUEST "  handlers:\n    0x30: |\n      nop\n      iretq rax\n", VTX_ERR_PARSE, 7, 7,
        "nasm (handler_0x30)");
    bad("one-line code", "guest:\n  mode: long64\n  code: 'mov eax, ['\n", VTX_ERR_PARSE, 3, 10, "nasm (code)");
    bad("code over the GDT", "guest:\n  mode: long64\n  code_at: 0x1000\n  code: hlt\n", VTX_ERR_PARSE, 4, 9,
        "code (0x1000..0x1001) overlaps the GDT and TSS (0x1000..0x1868)");
    bad("code into the handlers", "guest:\n  mode: pm32\n  code_at: 0x1f000\n  code: 'times 0x1001 nop'\n"
        "  handlers: {3: iretd}\n", VTX_ERR_PARSE, 5, 17, "handler_0x03 (0x20000..0x20001) overlaps code");
    bad("too big for a 16-bit handler", "guest:\n  mode: real\n  code: hlt\n  handlers:\n    8: 'times 600 nop'\n",
        VTX_ERR_PARSE, 5, 9, "handler_0x08 is 600 bytes");
}

Test(scenario_load, missing_empty_and_binary_files)
{
    vtx_scenario *s = NULL;
    vtx_scenario_error e;
    cr_assert_eq(vtx_scenario_load_file("/nonexistent/x.yaml", &s, &e), VTX_ERR_IO);
    cr_assert_str_eq(e.file, "/nonexistent/x.yaml");
    cr_assert(strstr(e.message, "cannot open"), "%s", e.message);
    bad("empty", "", VTX_ERR_PARSE, 1, 1, "the file is empty");
    bad("comments only", "# nothing\n\n", VTX_ERR_PARSE, 1, 1, "the file is empty");
    cr_assert_eq(vtx_scenario_load_text("guest:\0\1\2", 9, "t.yaml", NULL, &s, &e), VTX_ERR_PARSE);
    cr_assert_eq(e.line, 1);
    cr_assert_eq(e.column, 7);
    cr_assert(strstr(e.message, "binary file"), "%s", e.message);
    bad("not UTF-8", "name: x\nguest: \xff\xfe\n", VTX_ERR_PARSE, 2, 8, "not UTF-8");
    bad("not a mapping", "- a\n- b\n", VTX_ERR_PARSE, 1, 1, "a scenario is a mapping");
}

Test(scenario_load, nasm_missing)
{
    /* Criterion runs each test in its own process: PATH can be changed here. */
    setenv("PATH", "/nonexistent-dir", 1);
    vtx_scenario *s = NULL;
    vtx_scenario_error e;
    cr_assert_eq(load(GUEST, &s, &e), VTX_ERR_UNSUPPORTED);
    cr_assert_str_eq(e.message, "nasm is not installed: apt-get install nasm");
}

Test(scenario_load, names_labels_and_defaults)
{
    const char *text = "description: |\n  two lines\n  of text\n"
                       "guest:\n  mode: long64\n  code: |\n    start:\n      cli\n    busy:\n      dec ecx\n"
                       "      jnz busy\n    .inner:\n      hlt\n"
                       "  handlers:\n    0x30: |\n      iretq\n";
    vtx_scenario *s = NULL;
    vtx_scenario_error e;
    cr_assert_eq(vtx_scenario_load_text(text, strlen(text), "dir/my-test.yaml", NULL, &s, &e), VTX_OK, "%s", e.message);
    cr_assert_str_eq(vtx_scenario_name(s), "my-test");
    cr_assert_str_eq(vtx_scenario_source(s), "dir/my-test.yaml");
    cr_assert_str_eq(vtx_scenario_description(s), "two lines\nof text\n");
    cr_assert_not(vtx_scenario_has_expectations(s));
    char l[64];
    cr_assert(vtx_scenario_label(s, 0x10000, l, sizeof l));
    cr_assert_str_eq(l, "start");
    cr_assert(vtx_scenario_label(s, 0x10001, l, sizeof l)); /* cli is one byte */
    cr_assert_str_eq(l, "busy");
    cr_assert(vtx_scenario_label(s, 0x10003, l, sizeof l)); /* dec ecx is two */
    cr_assert_str_eq(l, "busy+0x2");
    cr_assert(vtx_scenario_label(s, 0x10005, l, sizeof l));
    cr_assert_str_eq(l, "busy.inner");
    cr_assert(vtx_scenario_label(s, 0x20000, l, sizeof l), "handlers are at 0x20000 + 0x1000 * i");
    cr_assert_str_eq(l, "handler_0x30");
    cr_assert(vtx_scenario_label(s, 0xB000 + 16 * 0x0D, l, sizeof l));
    cr_assert_str_eq(l, "default_0x0d");
    cr_assert_not(vtx_scenario_label(s, 0x50000, l, sizeof l));
    cr_assert_str_eq(l, "");
    uint64_t lin = 0, rip = 0;
    cr_assert(vtx_scenario_label_address(s, "busy+2", &lin, &rip));
    cr_assert_eq(lin, 0x10003);
    cr_assert_eq(rip, 0x10003);
    cr_assert(vtx_scenario_label_address(s, "handler_0x30", &lin, NULL));
    cr_assert_eq(lin, 0x20000);
    cr_assert(vtx_scenario_label_address(s, "busy.inner-0x1", &lin, NULL));
    cr_assert_eq(lin, 0x10004);
    cr_assert_not(vtx_scenario_label_address(s, "nowhere", &lin, NULL));
    cr_assert_not(vtx_scenario_label_address(s, "busy+", &lin, NULL));
    vtx_scenario_free(s);

    /* real mode: labels are offsets in the code segment (RIP values), linear = CS base + RIP */
    const char *real = "guest:\n  mode: real\n  code_at: 0x12340\n  code: |\n    nop\n    there: hlt\n";
    cr_assert_eq(load(real, &s, &e), VTX_OK, "%s", e.message);
    cr_assert(vtx_scenario_label_address(s, "there", &lin, &rip));
    cr_assert_eq(lin, 0x12341);
    cr_assert_eq(rip, 0x1);
    cr_assert(vtx_scenario_label(s, 0x12341, l, sizeof l));
    cr_assert_str_eq(l, "there");
    vtx_scenario_free(s);

    const char *named = "name: given\n" GUEST "expect:\n  end: {instructions: 1}\n";
    cr_assert_eq(load(named, &s, &e), VTX_OK, "%s", e.message);
    cr_assert_str_eq(vtx_scenario_name(s), "given");
    cr_assert(vtx_scenario_has_expectations(s));
    vtx_scenario_free(s);
    vtx_scenario_free(NULL);
}

Test(scenario_load, every_documented_key_loads)
{
    const char *text =
        "name: all-keys\ndescription: every key\nprofile: server\n"
        "knobs: {CFG-STI-NMI: off, CFG-MSS-NMI: on}\nlimits: {instructions: 1000, cycles: 100000, exits: 10}\n"
        "guest:\n  mode: long64\n  cpl: 0\n  code: |\n    top: hlt\n  code_at: 0x30000\n  stack: 0x8000\n"
        "  handlers: {2: iretq}\n  default_handler: iret\n  not_present: [3, 4]\n  rflags: 0x202\n"
        "  registers: {rax: 1, r15: 2}\n  interruptibility: 0\n  activity: active\n  pending_debug: 0\n"
        "  memory:\n    - {at: 0x50000, bytes: [1, 2, 3]}\n    - {at: 0x50010, u8: 1}\n    - {at: 0x50020, u16: 2}\n"
        "    - {at: 0x50030, u32: 3}\n    - {at: 0x50040, u64: 4}\n    - {at: 0x60000, asm: 'mov eax, 1'}\n"
        "controls:\n  pin: [nmi exiting, virtual nmis]\n  proc: [hlt exiting, 7]\n  proc2: [enable vpid]\n"
        "  exit: [acknowledge interrupt on exit]\n  entry: []\n"
        "fields: {VPID: 1, 0x4004: 0x4000}\n"
        "inject: {type: hardware-exception, vector: 13, error_code: 0, length: 0}\n"
        "events:\n  - {instruction: 1, nmi: true}\n  - {cycle: 10, interrupt: 0x30}\n  - {cycle: 20, interrupt: off}\n"
        "  - {cycle: 30, init: true}\n  - {cycle: 40, sipi: 9}\n"
        "reactions:\n  - on: {exit: HLT, occurrence: 1, qualification: 0, rip: top}\n"
        "    do:\n      - set: {proc: [interrupt-window exiting]}\n      - clear: {proc: [interrupt-window exiting]}\n"
        "      - inject: {type: external, vector: 0x30, length: exit}\n      - skip: true\n"
        "      - write: {GUEST_RSP: 0x7000}\n      - registers: {rax: 5, rip: top, rsp: 0x8000, rflags: 2}\n"
        "      - memory: [{at: top, u8: 0xf4}]\n      - raise: nmi\n      - raise: {interrupt: 0x31}\n"
        "      - raise: {interrupt: off}\n      - raise: init\n      - raise: {sipi: 3}\n"
        "    then: resume\n  - on: {exit: ENTRY_FAILURE}\n    then: stop\n"
        "expect:\n  exits:\n    - {reason: EXCEPTION_NMI, qualification: 0, guest_linear: 0, guest_physical: 0,\n"
        "       intr_info: 0x80000b0d, intr_error: 0, idt_vectoring: 0, idt_vectoring_error: 0, length: 0,\n"
        "       insn_info: 0, rip: top+1, rflags: 0x202, interruptibility: [nmi], activity: hlt,\n"
        "       pending_debug: 0, registers: {rax: 1, rip: top}, memory: [{at: 0x50000, bytes: [1]}],\n"
        "       fields: {VPID: 1}}\n    - {reason: ENTRY_FAILURE, check: GUEST_ACT_NOT_ACTIVE_SHADOW}\n"
        "  end: {registers: {rbx: 0}, memory: [{at: 0x50010, u8: 1}], instructions: 3, cycles: 1000}\n";
    vtx_scenario *s = NULL;
    vtx_scenario_error e;
    char msg[1024];
    vtx_status st = load(text, &s, &e);
    vtx_scenario_error_format(&e, msg, sizeof msg);
    cr_assert_eq(st, VTX_OK, "%s", msg);
    cr_assert_str_eq(vtx_scenario_name(s), "all-keys");
    char l[64];
    cr_assert(vtx_scenario_label(s, 0x30000, l, sizeof l));
    cr_assert_str_eq(l, "top");
    vtx_scenario_free(s);
}

Test(scenario_load, interruption_type_names)
{
    /* the tokens `inject: {type: ...}` takes, from the library's table (bits 10:8 of the field) */
    cr_assert_str_eq(vtx_interruption_type_name(0), "external");
    cr_assert_str_eq(vtx_interruption_type_name(0x80000b0eu >> 8), "hardware-exception");
    cr_assert_str_eq(vtx_interruption_type_description(5), "privileged software exception");
    cr_assert_str_eq(vtx_interruption_type_name(7), "other");
    vtx_scenario *s = NULL;
    vtx_scenario_error e;
    cr_assert_eq(load(GUEST "inject: {type: privileged-software-exception, vector: 1}\n", &s, &e), VTX_OK, "%s",
                 e.message);
    vtx_scenario_free(s);
    cr_assert_eq(load(GUEST "inject: {type: reserved, vector: 1}\n", &s, &e), VTX_ERR_PARSE, "type 1 is reserved");
}

Test(scenario_load, error_format)
{
    vtx_scenario_error e = {.file = "a.yaml", .line = 3, .column = 7, .message = "bad"};
    char buf[100];
    vtx_scenario_error_format(&e, buf, sizeof buf);
    cr_assert_str_eq(buf, "a.yaml:3:7: bad");
    e.line = e.column = 0;
    vtx_scenario_error_format(&e, buf, sizeof buf);
    cr_assert_str_eq(buf, "a.yaml: bad");
}
