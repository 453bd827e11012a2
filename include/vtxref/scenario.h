/**
 * @file scenario.h
 * @brief Scenario files: one complete VMX experiment in a YAML file a person writes.
 *
 * A scenario (format: docs/scenarios.md) says everything a VMM sets up before
 * VMLAUNCH (profile, knobs, guest environment and code in nasm source, controls,
 * fields, an event to inject), the platform events of the run, the VMM's
 * reactions to exits, and optionally the exits it expects. vtx_scenario_load_file()
 * parses and assembles it (every error names file, line and column);
 * vtx_scenario_run() builds a machine, plays the VMM and reports every exit, every
 * expectation checked and (with an observer) every instruction boundary through
 * caller-supplied callbacks; vtx_scenario_run_with() also runs the VMM checker
 * (vmm_check.h) and checks the scenario's `expect: findings:`. The `vtxref run`,
 * `check` and `explain` commands are built on this API only.
 *
 * Library: `vtxref_scenario` (static), which needs libvtxref and libfyaml.
 * A loaded scenario is immutable; running it twice gives the same exits, counts
 * and cycles. One scenario may be run from several threads at once.
 */
#ifndef VTXREF_SCENARIO_H
#define VTXREF_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "checks.h"
#include "machine.h"
#include "observer.h"
#include "status.h"
#include "vmm_check.h"
#include "vmx.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A loaded scenario (opaque, immutable after loading). */
typedef struct vtx_scenario vtx_scenario;

/** @brief Where a scenario went wrong (caller-owned). Line and column are 1-based, 0 when unknown. */
typedef struct vtx_scenario_error {
    char file[256];    /**< The scenario file (as given), or the source name for text input. */
    int line;          /**< Line in the scenario file (nasm errors are mapped back to it). */
    int column;        /**< Column in the scenario file. */
    char message[512]; /**< The reason, one sentence ("unknown control 'interupt-window exiting' in proc"). */
} vtx_scenario_error;

/** @brief Format an error as "file:line:column: message" (as snprintf). */
VTX_API int vtx_scenario_error_format(const vtx_scenario_error *err, char *buf, size_t size);

/**
 * @brief Load a scenario file: parse the YAML, check every key and value, run nasm
 * on the guest code.
 * @return ::VTX_OK; ::VTX_ERR_IO (missing or unreadable file); ::VTX_ERR_PARSE (syntax,
 * unknown key, unknown name, value out of range, nasm error, empty or binary file);
 * ::VTX_ERR_UNSUPPORTED (nasm is not installed: the message says how to install it).
 * @p err says where and why.
 */
VTX_API vtx_status vtx_scenario_load_file(const char *path, vtx_scenario **out, vtx_scenario_error *err);

/**
 * @brief Load a scenario from text. @p source names it in errors; @p base_dir resolves
 * relative paths in it (profile files), NULL for the current directory.
 */
VTX_API vtx_status vtx_scenario_load_text(const char *text, size_t len, const char *source, const char *base_dir,
                                          vtx_scenario **out, vtx_scenario_error *err);

/** @brief Free a scenario (NULL is ignored). */
VTX_API void vtx_scenario_free(vtx_scenario *s);

/** @brief The scenario's name (its `name:` key, else the file name without extension). */
VTX_API const char *vtx_scenario_name(const vtx_scenario *s);
/** @brief Its `description:` text, or "" when it has none. */
VTX_API const char *vtx_scenario_description(const vtx_scenario *s);
/** @brief The file it was loaded from (or the source name). */
VTX_API const char *vtx_scenario_source(const vtx_scenario *s);
/** @brief True when the scenario has an `expect:` section. */
VTX_API bool vtx_scenario_has_expectations(const vtx_scenario *s);

/**
 * @brief Name a guest address by the nasm labels of the scenario's code: "busy",
 * "after_shadow+0x2", "handler_0x30". Writes "" and returns false when no label
 * precedes @p linear in the same code block.
 */
VTX_API bool vtx_scenario_label(const vtx_scenario *s, uint64_t linear, char *buf, size_t size);

/**
 * @brief The address of a label expression of the scenario's code: "busy", "busy+2",
 * "handler_0x30", "default_0x0d", "after_shadow-0x1". @p linear receives its linear
 * address, @p rip (may be NULL) its RIP (its offset in its code segment: the same as
 * the linear address except in the 16-bit modes). Returns false for an unknown label
 * or a malformed expression.
 */
VTX_API bool vtx_scenario_label_address(const vtx_scenario *s, const char *expr, uint64_t *linear, uint64_t *rip);

/** @brief Every exit-information field of one VM exit, plus the clock (caller-owned copy). */
typedef struct vtx_scenario_exit {
    uint32_t index;              /**< 1-based number of the exit in the run. */
    uint32_t reason;             /**< Exit-reason field (bit 31: VM-entry failure). */
    uint64_t qualification;      /**< Exit qualification. */
    uint64_t guest_linear;       /**< Guest-linear address field. */
    uint64_t guest_physical;     /**< Guest-physical address field. */
    uint32_t intr_info;          /**< VM-exit interruption information. */
    uint32_t intr_error;         /**< VM-exit interruption error code. */
    uint32_t idt_vectoring;      /**< IDT-vectoring information. */
    uint32_t idt_vectoring_error;/**< IDT-vectoring error code. */
    uint32_t length;             /**< VM-exit instruction length. */
    uint32_t insn_info;          /**< VM-exit instruction information. */
    uint64_t rip;                /**< Guest RIP saved. */
    uint64_t rflags;             /**< Guest RFLAGS saved. */
    uint32_t interruptibility;   /**< Guest interruptibility state saved. */
    uint32_t activity;           /**< Guest activity state saved. */
    uint64_t pending_debug;      /**< Guest pending debug exceptions saved. */
    uint64_t preemption_timer;   /**< VMX-preemption timer value saved (when saved; else the field). */
    uint64_t cycles;             /**< Cycle clock after the exit. */
    uint64_t instructions;       /**< Guest instructions retired since the machine was created. */
    vtx_check check;             /**< For a VM-entry failure: the named check (else ::VTX_CHECK_NONE). */
    uint64_t cs_base;            /**< Guest CS base saved (the linear address of RIP is cs_base + rip). */
    char rip_label[64];          /**< The label of cs_base + rip (vtx_scenario_label()), or "". */
} vtx_scenario_exit;

/**
 * @brief One expectation as it is checked (valid only during the callback).
 *
 * Besides the keys of docs/scenarios.md (`what` = "reason", "rip", "rax", "memory
 * 0x50000", "GUEST_RIP" for `fields`, "check", "instructions", "cycles", "error" for
 * a VMfail's number), the runner reports "exits" (an extra exit, or missing exits at
 * the end of the run), "vmfail" (VMLAUNCH failed or did not, against `expect.vmfail`)
 * and "entry" (a VMfail where an exit was expected); with a VMM checker (vtx_scenario_run_with()),
 * "finding NAME" (an expected finding reported or not at the end of the run, or an error finding the
 * scenario does not expect, at its exit).
 */
typedef struct vtx_scenario_check {
    uint32_t exit_index;   /**< The exit it concerns (1-based), or 0 for the end of the run (and VMfail). */
    const char *what;      /**< What was compared: "reason", "qualification", "rax", "memory 0x2000", ... */
    bool ok;               /**< It matched. */
    const char *expected;  /**< Expected value as text ("0x1000c (after_shadow)", "HLT (12)"). */
    const char *actual;    /**< Actual value as text. */
    int line;              /**< Line of the expectation in the scenario file (0 when unknown). */
    const char *sentence;  /**< The report as a sentence: "exit 2 (INTERRUPT_WINDOW): rip expected 0x1000c
                                (after_shadow), got 0x10006 (busy)"; when it matched "exit 2 (INTERRUPT_WINDOW):
                                rip = 0x1000c (after_shadow)"; at the end "end of run: rbx = 0xcafe". */
} vtx_scenario_check;

/** @brief What the runner shows of the guest to its callbacks: the structure itself is valid
 * during on_start only (copy it); `ram` stays valid for the whole run (until vtx_scenario_run returns). */
typedef struct vtx_scenario_view {
    const uint8_t *ram;    /**< Guest physical memory (host copy the machine maps at physical 0). */
    size_t ram_size;       /**< Its size in bytes. */
    unsigned code_bits;    /**< 16, 32 or 64: how the scenario's code is decoded. */
    uint64_t cs_base;      /**< CS base at entry (linear = cs_base + RIP in real and 16-bit modes). */
} vtx_scenario_view;

/** @brief What the runner built before the first VM entry (valid during vtx_scenario_callbacks::on_entry). */
typedef struct vtx_scenario_setup {
    const vtx_machine_config *config; /**< The configuration the machine was created with. */
    const uint8_t *ram;               /**< Guest RAM, mapped at physical 0 (read, write, execute). */
    size_t ram_size;                  /**< Its size. */
    uint64_t vmx_pa;                  /**< Physical address of the VMXON region; the VMCS follows 4 KiB later. */
    const uint8_t *vmx;               /**< Their memory (read, write). */
    size_t vmx_size;                  /**< Its size. */
} vtx_scenario_setup;

/** @brief Callbacks of a run (caller-owned; every member may be NULL). */
typedef struct vtx_scenario_callbacks {
    void *user;  /**< Passed to every callback. */
    /** Before the first VM entry. */
    void (*on_start)(void *user, const vtx_scenario *s, const vtx_scenario_view *view);
    /** Every VM exit (VM-entry failure exits included), before the reaction. */
    void (*on_exit)(void *user, const vtx_scenario_exit *exit);
    /** Every reaction step taken ("clear proc: Interrupt-window exiting", "inject external 0x30",
     *  "skip 1 byte: rip -> 0x10001", "write TPR_THRESHOLD = 0x5", "registers rax = 0x1", "memory 0x50000: 4 bytes",
     *  "raise nmi"), then "resume" or "stop". @p exit_index is the exit it reacts to. */
    void (*on_action)(void *user, uint32_t exit_index, const char *text);
    /** Every expectation as it is checked (for an exit: after on_exit, before its reaction). */
    void (*on_check)(void *user, const vtx_scenario_check *check);
    /** Every instruction boundary (observer.h: must not call into the machine). */
    vtx_boundary_observer observer;
    /** Right before every VMLAUNCH/VMRESUME (@p result NULL) and right after it (@p result: what it did), with
     * the machine, which the callback may inspect but must not change (trace recording, traces/). */
    void (*on_entry)(void *user, vtx_machine *m, const vtx_scenario_setup *setup, const vtx_insn_result *result);
    /** Every platform input as the runner schedules it (@p scheduled) or raises it at once (`when` unused). */
    void (*on_input)(void *user, const vtx_input *input, bool scheduled);
} vtx_scenario_callbacks;

/** @brief How a run ended. */
typedef enum vtx_scenario_outcome {
    VTX_SCN_PASS = 0,     /**< Every expectation matched (or there were none and the run ended normally). */
    VTX_SCN_MISMATCH = 1, /**< An expectation did not match; `first_mismatch` says which. */
    VTX_SCN_ERROR = 2,    /**< The run could not be carried out (`why` says why). */
} vtx_scenario_outcome;

/** @brief What a run did (caller-owned; fully overwritten). */
typedef struct vtx_scenario_result {
    vtx_scenario_outcome outcome; /**< Pass, mismatch or error. */
    uint32_t exits;               /**< VM exits in the run. */
    uint32_t checks_passed;       /**< Expectations that matched. */
    uint32_t checks_failed;       /**< Expectations that did not (the run stops at the first). */
    uint64_t instructions;        /**< Guest instructions retired. */
    uint64_t cycles;              /**< Cycle clock at the end. */
    char end[320];                /**< How the run ended, one sentence ("stopped by the reaction to exit 3 (HLT)"). */
    char first_mismatch[512];     /**< The first mismatch as a sentence, or "". */
    int mismatch_line;            /**< Its line in the scenario file, or 0. */
    uint32_t findings_errors;     /**< With a VMM checker (vtx_scenario_run_with()): findings of severity error. */
    uint32_t findings_warnings;   /**< With a VMM checker: findings of severity warning. */
} vtx_scenario_result;

/**
 * @brief Options of vtx_scenario_run_with() (caller-owned; zero-initialise it: every member may be 0/NULL).
 */
typedef struct vtx_scenario_run_options {
    /** Attach a VMM checker (vmm_check.h) to the machine before the first VM entry and finalize it at the end
     * of the run. Each finding goes to on_finding and is counted in the result. With the checker, the scenario's
     * `expect: findings:` are checked: a finding it lists that does not occur, or an error finding it does not
     * list, is a mismatch (the run goes on; the first mismatch is kept). Without it they are not checked. */
    bool vmm_check;
    /** Each finding as the checker reports it (during the VMX operation or exit it concerns, or at the end of
     * the run), with @p expected true when the scenario lists it in `expect: findings:`. @p user is
     * vtx_scenario_callbacks::user. May be NULL. */
    void (*on_finding)(void *user, const vtx_vmm_finding *finding, bool expected);
} vtx_scenario_run_options;

/**
 * @brief Run a scenario: build the machine, VMXON, set up the VMCS and guest memory,
 * VMLAUNCH, then play the reactions until a reaction stops, an exit has no reaction,
 * a budget is reached or an expectation fails.
 * The run also ends when the guest stops without an exit (HLT with nothing to wake
 * it, a budget), on a VMfail, or when the same exit repeats 100 times with no
 * instruction retired; `result->end` says how. A run the model cannot carry on (the
 * guest touched unmapped memory) has the outcome ::VTX_SCN_ERROR and still returns ::VTX_OK.
 * @return ::VTX_OK when the run was carried out (whatever its outcome); ::VTX_ERR_PARSE
 * when the scenario asks for something impossible that loading could not see (a
 * VMWRITE in `fields` or a reaction that fails, an event that cannot be scheduled),
 * with @p err naming its line; another status when the machine could not be set up
 * (::VTX_ERR_NO_MEMORY, ::VTX_ERR_STATE, with @p err saying why). The result is
 * filled either way.
 */
VTX_API vtx_status vtx_scenario_run(const vtx_scenario *s, const vtx_scenario_callbacks *cb,
                                    vtx_scenario_result *result, vtx_scenario_error *err);

/**
 * @brief vtx_scenario_run() with options (@p opts NULL: the same as vtx_scenario_run()): run the scenario
 * under the VMM checker (`vtxref run --vmm-check`, on by default in `vtxref check`).
 */
VTX_API vtx_status vtx_scenario_run_with(const vtx_scenario *s, const vtx_scenario_callbacks *cb,
                                         const vtx_scenario_run_options *opts, vtx_scenario_result *result,
                                         vtx_scenario_error *err);

/**
 * @brief Decode an exit as a readable block of lines (reason by name, qualification,
 * interruption and IDT-vectoring information decoded, length, RIP, interruptibility,
 * activity, clock). @p indent is prepended to every line. Returns the length (as snprintf).
 */
VTX_API int vtx_scenario_exit_format(const vtx_scenario_exit *exit, const char *indent, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
