/**
 * @file trace.h
 * @brief Recorded runs: write, read, replay and compare traces (docs/traces.md).
 *
 * A trace is a JSON Lines file that holds everything needed to re-execute one
 * run of one virtual CPU on the model without the scenario or the VMM that
 * produced it: the profile and machine configuration, the mapped memory as it
 * was before the first VM entry, the VMCS and guest registers at that point,
 * then, between exits, every change the VMM made (VMWRITEs, guest registers,
 * guest memory, platform inputs), every VM entry and every outcome (each VM
 * exit with its exit-information fields and the guest state saved). The format
 * is the contract (docs/traces.md, docs/trace.schema.json); this API is one
 * implementation of it, built on the public API only (library `vtxref_traces`,
 * which needs json-c and zlib).
 *
 * Recording a VMM of your own: open a recorder, bring the machine up to the
 * first VM entry as usual (VMXON, VMPTRLD, VMWRITEs, memory), call
 * vtx_trace_record_start(), then enter the guest with vtx_trace_enter() instead
 * of vtx_vmlaunch()/vtx_vmresume(). Before each entry the recorder compares the
 * VMCS, the guest registers and the recorded memory with what it saw after the
 * previous exit, and writes each change as an action: the VMM may keep using
 * vtx_vmwrite(), vtx_machine_set_gprs() or write into its guest memory directly.
 * What the recorder cannot see through the public API are platform inputs:
 * raise and schedule them through vtx_trace_raise() / vtx_trace_schedule().
 * Comparing the memory costs two passes over it per exit; a VMM that reports
 * its memory writes (vtx_trace_options::explicit_memory) avoids them.
 * VMWRITEs appear as their net effect per field (a VMWRITE of the value a field
 * already holds, and VMREADs, leave no record). One VMCS per trace: a VMM that
 * switches VMCS between exits is refused (::VTX_ERR_UNSUPPORTED).
 *
 * Traces are written to a temporary file beside the target and renamed when
 * vtx_trace_record_close() writes the closing `end` record; a run that is
 * interrupted leaves no file under the target's name. Readers stream: memory use
 * does not grow with the length of the run.
 */
#ifndef VTXREF_TRACE_H
#define VTXREF_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "machine.h"
#include "observer.h"
#include "status.h"
#include "vmx.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The format version this library writes and reads (the `version` of the header record). */
#define VTX_TRACE_VERSION 1

/** @brief Where a trace went wrong (caller-owned). */
typedef struct vtx_trace_error {
    char file[256];    /**< The trace file (as given). */
    long line;         /**< 1-based line of the offending record, 0 when the file as a whole is at fault. */
    char message[512]; /**< The reason, one sentence. */
} vtx_trace_error;

/** @brief Format an error as "file:line: message" (as snprintf). */
VTX_API int vtx_trace_error_format(const vtx_trace_error *err, char *buf, size_t size);

/* ---------------------------------------------------------------- recording */

/** @brief A region of physical memory the recorder follows (caller-owned host memory). */
typedef struct vtx_trace_region {
    uint64_t pa;   /**< Physical address (4-KiB aligned). */
    uint64_t size; /**< Size in bytes (multiple of 4 KiB). */
    const void *host; /**< The memory mapped there (the recorder reads it; it never writes it). */
    unsigned perms;   /**< VTX_MEM_* permissions it is mapped with. */
} vtx_trace_region;

/** @brief How a recording is written (caller-owned; zero is a good default). */
typedef struct vtx_trace_options {
    const char *source;   /**< What produced the run (a scenario file), stored in the header; NULL for none. */
    bool no_compress;     /**< Store pages as plain base64 instead of zlib-compressed base64. */
    bool explicit_memory; /**< The VMM reports every memory write it makes between exits (vtx_trace_write_phys(),
                               vtx_trace_record_memory()): the recorder then does not compare the recorded memory
                               at each entry, which costs two passes over it per exit (and a copy of it). */
} vtx_trace_options;

/** @brief An opaque recorder. */
typedef struct vtx_trace_recorder vtx_trace_recorder;

/** @brief Create a recorder that writes @p path (through a temporary file, renamed at close). */
VTX_API vtx_status vtx_trace_record_open(const char *path, const vtx_trace_options *options,
                                         vtx_trace_recorder **rec, vtx_trace_error *err);
/**
 * @brief Write the initial state: call it once, before the first VM entry, with
 * the machine in VMX operation and its VMCS current. @p config is the
 * configuration the machine was created with; @p regions the memory to record
 * (every region the guest or the VMCS use). ::VTX_ERR_STATE when the machine has
 * already run guest code or has no current VMCS.
 */
VTX_API vtx_status vtx_trace_record_start(vtx_trace_recorder *rec, vtx_machine *m, const vtx_machine_config *config,
                                          const vtx_trace_region *regions, size_t nregions, vtx_trace_error *err);
/**
 * @brief Record a platform input that the VMM raised at once (@p scheduled false:
 * `vector` as for vtx_machine_set_intr()/raise_sipi(), `when` ignored) or
 * scheduled (@p scheduled true). Inputs given before vtx_trace_record_start() are
 * written right after the initial state. Does not touch the machine.
 */
VTX_API vtx_status vtx_trace_record_input(vtx_trace_recorder *rec, const vtx_input *input, bool scheduled);
/** @brief Raise @p input on @p m now (vtx_machine_raise_nmi(), set_intr(), ...) and record it. */
VTX_API vtx_status vtx_trace_raise(vtx_trace_recorder *rec, vtx_machine *m, const vtx_input *input);
/** @brief vtx_machine_schedule() @p input on @p m and record it. */
VTX_API vtx_status vtx_trace_schedule(vtx_trace_recorder *rec, vtx_machine *m, const vtx_input *input);
/**
 * @brief Record that the VMM wrote @p len bytes at @p pa (inside a recorded region): their current contents are
 * written as a `memory` record now. Needed with vtx_trace_options::explicit_memory; harmless without.
 */
VTX_API vtx_status vtx_trace_record_memory(vtx_trace_recorder *rec, uint64_t pa, size_t len);
/** @brief vtx_machine_write_phys() and vtx_trace_record_memory() of the bytes written. */
VTX_API vtx_status vtx_trace_write_phys(vtx_trace_recorder *rec, vtx_machine *m, uint64_t pa, const void *buf,
                                        size_t len, vtx_diag *diag);
/**
 * @brief Record what the VMM changed since the last exit (VMCS fields, guest
 * registers, recorded memory). vtx_trace_enter() calls it; call it yourself only
 * to enter the guest by other means.
 */
VTX_API vtx_status vtx_trace_record_sync(vtx_trace_recorder *rec, vtx_machine *m, vtx_trace_error *err);
/**
 * @brief Enter the guest: record the VMM's changes, VMLAUNCH (VMCS clear) or
 * VMRESUME (launched), and record the outcome (a VM exit with every
 * exit-information and guest-state field, a VMfail, or a stop at a budget).
 * The status and @p result are those of the VMX instruction.
 */
VTX_API vtx_status vtx_trace_enter(vtx_trace_recorder *rec, vtx_machine *m, vtx_insn_result *result);
/**
 * @brief For a VMM loop that executes VMLAUNCH/VMRESUME itself: call
 * vtx_trace_record_entry() right before the instruction (it records the changes
 * and the entry) and vtx_trace_record_outcome() right after it with the
 * instruction's status and result. vtx_trace_enter() is the two around the instruction.
 */
VTX_API vtx_status vtx_trace_record_entry(vtx_trace_recorder *rec, vtx_machine *m);
/** @brief See vtx_trace_record_entry(). */
VTX_API vtx_status vtx_trace_record_outcome(vtx_trace_recorder *rec, vtx_machine *m, vtx_status status,
                                            const vtx_insn_result *result);
/** @brief Exits recorded so far. */
VTX_API uint64_t vtx_trace_record_exits(const vtx_trace_recorder *rec);
/**
 * @brief Write the `end` record (with @p why, a sentence saying how the run
 * ended), close and rename the file into place, and free the recorder. On
 * failure the temporary file is removed and nothing appears under the name.
 */
VTX_API vtx_status vtx_trace_record_close(vtx_trace_recorder *rec, const char *why, vtx_trace_error *err);
/** @brief Abandon a recording: remove the temporary file and free the recorder (NULL is ignored). */
VTX_API void vtx_trace_record_abort(vtx_trace_recorder *rec);
/** @brief The temporary file being written (for a signal handler that must unlink it), or NULL. */
VTX_API const char *vtx_trace_record_temp_path(const vtx_trace_recorder *rec);

/* ---------------------------------------------------------------- reading */

/** @brief Record types, in the order a trace may hold them (docs/traces.md): X(NAME, "json type"). */
#define VTX_TRACE_RECORDS(X) \
    X(HEADER, "header") X(PROFILE, "profile") X(MACHINE, "machine") X(REGION, "region") X(PAGE, "page") \
    X(START, "start") X(VMWRITE, "vmwrite") X(GPRS, "gprs") X(MEMORY, "memory") X(INPUT, "input") \
    X(ENTER, "enter") X(EXIT, "exit") X(VMFAIL, "vmfail") X(STOP, "stop") X(END, "end")

/** @brief Record types: `VTX_TR_HEADER`, ... */
typedef enum vtx_trace_type {
#define VTX_X_TR(n, s) VTX_TR_##n,
    VTX_TRACE_RECORDS(VTX_X_TR)
#undef VTX_X_TR
    VTX_TR_COUNT
} vtx_trace_type;

/** @brief The JSON `type` of a record type ("exit"), or NULL. */
VTX_API const char *vtx_trace_type_name(vtx_trace_type type);

struct vtx_trace_boot;
/** @brief Most VMCS fields one record can hold. */
#define VTX_TRACE_MAX_FIELDS 256

/** @brief One decoded record (owned by the reader; valid until the next vtx_trace_next()). */
typedef struct vtx_trace_record {
    vtx_trace_type type;
    long line;                    /**< Its line in the file. */
    const char *text;             /**< The record's line as read (no newline). */
    uint32_t version;             /**< HEADER */
    const char *source;           /**< HEADER: what produced the run, or "". */
    const struct vtx_trace_boot *boot; /**< HEADER: a boot trace's description, NULL for other traces. */
    int status;                   /**< END: a boot trace's exit status, -1 when not given. */
    vtx_profile profile;          /**< PROFILE */
    vtx_machine_config config;    /**< MACHINE (the profile member is that of the PROFILE record) */
    uint64_t pa, size;            /**< REGION, PAGE, MEMORY: address; REGION: size */
    unsigned perms;               /**< REGION */
    const uint8_t *data;          /**< PAGE (4096 bytes), MEMORY: the bytes */
    size_t len;                   /**< their length */
    uint64_t vmcs_pa;             /**< START; ENTER: the `vmcs` member (boot traces), else UINT64_MAX */
    bool launched;                /**< START: the VMCS's launch state; ENTER: false for VMLAUNCH */
    uint64_t index;               /**< ENTER, EXIT, VMFAIL, STOP: 1-based entry number */
    uint64_t instructions, cycles;/**< START, EXIT, STOP, END: the clock */
    uint32_t nfields;             /**< START, EXIT: fields given; VMWRITE: 1 */
    uint32_t enc[VTX_TRACE_MAX_FIELDS];   /**< their encodings */
    uint64_t value[VTX_TRACE_MAX_FIELDS]; /**< their values */
    vtx_gprs gprs;                /**< START, GPRS, EXIT */
    uint32_t gprs_mask;           /**< which of them are given (bit i: the i-th member of vtx_gprs) */
    vtx_input input;              /**< INPUT */
    bool scheduled;               /**< INPUT: scheduled (else raised at once) */
    uint32_t reason;              /**< EXIT: the exit reason */
    uint32_t outcome;             /**< VMFAIL: a ::vtx_insn_outcome */
    uint32_t vm_error;            /**< VMFAIL */
    uint64_t exits;               /**< END: exits in the trace */
    const char *why;              /**< STOP, END: the sentence, or "". */
} vtx_trace_record;

/** @brief An opaque streaming reader. */
typedef struct vtx_trace_reader vtx_trace_reader;

/** @brief Open a trace file for reading (::VTX_ERR_IO when it cannot be opened). */
VTX_API vtx_status vtx_trace_reader_open(const char *path, vtx_trace_reader **r, vtx_trace_error *err);
/** @brief Read a trace held in memory (@p name names it in errors); the buffer must outlive the reader. */
VTX_API vtx_status vtx_trace_reader_open_mem(const void *data, size_t len, const char *name, vtx_trace_reader **r,
                                             vtx_trace_error *err);
/**
 * @brief Read, check and decode the next record.
 * @return ::VTX_OK with @p rec filled; ::VTX_ERR_NOT_FOUND after the `end` record;
 * ::VTX_ERR_PARSE for a malformed record (not JSON, unknown type, missing or
 * out-of-range field, wrong version, out of order, trailing data after `end`, or
 * a file that stops before its `end` record: "truncated after line N"); ::VTX_ERR_IO.
 * @p err says file, line and why.
 */
VTX_API vtx_status vtx_trace_next(vtx_trace_reader *r, vtx_trace_record *rec, vtx_trace_error *err);
/** @brief Close a reader (NULL is ignored). */
VTX_API void vtx_trace_reader_close(vtx_trace_reader *r);

/* ---------------------------------------------------------------- replay and diff */

/** @brief Called for each exit record replayed (progress), with the count so far. */
typedef void (*vtx_trace_progress_fn)(void *user, uint64_t exits, uint64_t instructions);

/** @brief How a trace is replayed (caller-owned; zero is a good default). */
typedef struct vtx_replay_options {
    const vtx_profile *profile;   /**< Replay on this profile instead of the recorded one (NULL: recorded). */
    uint32_t knobs_set;           /**< Knob bits (VTX_KNOB_*) forced on. */
    uint32_t knobs_clear;         /**< Knob bits forced off. */
    vtx_boundary_observer observer; /**< Also called at every boundary (pictures), or NULL. */
    void (*on_record)(void *user, const vtx_trace_record *rec); /**< Each record as replayed (expected), or NULL. */
    /** Right before each VMLAUNCH/VMRESUME (@p result NULL) and right after it, or NULL. */
    void (*on_entry)(void *user, vtx_machine *m, const vtx_insn_result *result);
    vtx_trace_progress_fn progress; /**< Or NULL. */
    void *user;                   /**< Passed to the callbacks. */
} vtx_replay_options;

/** @brief Boundaries kept before a divergence (the last instructions). */
#define VTX_REPLAY_HISTORY 8

/** @brief What a replay found (caller-owned; fully overwritten). */
typedef struct vtx_replay_result {
    bool diverged;            /**< The run differed from the trace. */
    uint64_t exits;           /**< Outcomes (exits, VMfails, stops) that matched. */
    uint64_t instructions, cycles; /**< The replayed run's clock at the end (or at the divergence). */
    long line;                /**< Line of the record where the run first differs (0 when it does not). */
    uint64_t index;           /**< Its entry number. */
    char expected[4096];      /**< The record as the trace has it (one JSON line). */
    char actual[4096];        /**< The record the replayed run produced (one JSON line). */
    char differences[1024];   /**< The fields that differ, "name: expected X, got Y", one per line. */
    char actions[2048];       /**< The records applied since the last matching outcome (the VMM's actions,
                                   inputs and the entry), "LINE: JSON" one per line, the last ones when many. */
    uint32_t nhistory;        /**< Boundaries in `history` (oldest first). */
    vtx_boundary_report history[VTX_REPLAY_HISTORY]; /**< The last boundaries before the divergence. */
} vtx_replay_result;

/**
 * @brief Re-execute a trace on the model and compare every outcome with the record.
 * @return ::VTX_OK when the replay was carried out (diverged or not: see @p result);
 * ::VTX_ERR_PARSE / ::VTX_ERR_IO for a bad trace (@p err); ::VTX_ERR_STATE when the
 * trace's actions cannot be applied to the machine (@p err names the record);
 * ::VTX_ERR_UNSUPPORTED for a boot trace (its run is a kernel's: `vtxref replay` boots it).
 */
VTX_API vtx_status vtx_trace_replay(const char *path, const vtx_replay_options *options, vtx_replay_result *result,
                                    vtx_trace_error *err);

/** @brief What vtx_trace_diff() found (caller-owned). */
typedef struct vtx_diff_result {
    bool differ;               /**< The traces differ. */
    uint64_t records;          /**< Records compared equal. */
    long line_a, line_b;       /**< Lines of the first differing records (0: that trace ended). */
    char a[4096], b[4096];     /**< The two records (JSON lines; "" when one trace ended). */
    char differences[1024];    /**< The fields that differ, one per line. */
} vtx_diff_result;

/**
 * @brief Compare two traces record by record (the header's `source` is not
 * compared). ::VTX_OK when both were read to their end (see @p result);
 * ::VTX_ERR_PARSE / ::VTX_ERR_IO for a bad trace (@p err names it).
 */
VTX_API vtx_status vtx_trace_diff(const char *path_a, const char *path_b, vtx_diff_result *result,
                                  vtx_trace_error *err);

/* ---------------------------------------------------------------- boot traces */

/** @brief Most Multiboot modules a boot trace names. */
#define VTX_TRACE_BOOT_MODULES 8

/**
 * @brief What a boot trace's header says about the run (docs/traces.md "Boot traces"):
 * `vtxref boot` with these arguments reproduces it. Files are named as given and
 * identified by their SHA-256 (64 lowercase hex digits).
 */
typedef struct vtx_trace_boot {
    char kernel[512];                                    /**< The kernel file as given. */
    char kernel_sha256[65];                              /**< Its SHA-256. */
    uint32_t nmodules;                                   /**< Modules, in order. */
    char module[VTX_TRACE_BOOT_MODULES][512];            /**< Each module file as given (also its string). */
    char module_sha256[VTX_TRACE_BOOT_MODULES][65];      /**< Their SHA-256. */
    char cmdline[1024];                                  /**< The Multiboot command line. */
    char profile[256];                                   /**< The profile as given (a name or a file). */
    uint64_t ram_mib;                                    /**< RAM in MiB. */
    uint64_t max_cycles, max_insns;                      /**< The budget (0: none). */
    bool open_bus;                                       /**< --open-bus. */
} vtx_trace_boot;

/** @brief The SHA-256 of a file as 64 lowercase hex digits (::VTX_ERR_IO when it cannot be read). */
VTX_API vtx_status vtx_trace_sha256_file(const char *path, char hex[65], vtx_trace_error *err);
/** @brief The SHA-256 of @p len bytes as 64 lowercase hex digits. */
VTX_API void vtx_trace_sha256(const void *data, size_t len, char hex[65]);

/**
 * @brief Begin a boot trace instead of vtx_trace_record_start(): the header (with
 * @p boot) and the profile of @p m. No regions, pages or start record: the kernel
 * is the initial state. Then call vtx_trace_record_entry() / vtx_trace_record_outcome()
 * around each VMLAUNCH/VMRESUME the kernel executes (a VMX-operation observer, vmx.h);
 * the `vmwrite` and `gprs` records before each `enter` are what the kernel changed
 * since the last outcome, and the `enter` record names the current VMCS (a kernel may
 * switch VMCS between entries).
 */
VTX_API vtx_status vtx_trace_record_boot(vtx_trace_recorder *rec, vtx_machine *m, const vtx_trace_boot *boot,
                                         vtx_trace_error *err);
/** @brief The status `vtxref boot` exits with, written in the `end` record (boot traces). */
VTX_API void vtx_trace_record_set_status(vtx_trace_recorder *rec, int status);

/**
 * @brief A recorder that writes nothing: each record it would write is compared
 * with the next record of the trace at @p path, member by member as vtx_trace_replay()
 * compares outcomes (`header` and `profile` are read, not compared). The first
 * difference is kept (vtx_trace_verify_close()); later records are ignored. For
 * runs that re-execute themselves, such as a boot trace's kernel.
 */
VTX_API vtx_status vtx_trace_verify_open(const char *path, vtx_trace_recorder **rec, vtx_trace_error *err);
/** @brief The run differed from the trace already (the caller may stop it). */
VTX_API bool vtx_trace_verify_diverged(const vtx_trace_recorder *rec);
/** @brief Remember a boundary (the last ones are shown with a divergence); a writing recorder ignores it. */
VTX_API void vtx_trace_record_boundary(vtx_trace_recorder *rec, const vtx_boundary_report *b);
/**
 * @brief Compare the `end` record (@p why, the status set), check that the trace ends
 * there too, fill @p result as vtx_trace_replay() does, and free the recorder.
 * ::VTX_ERR_PARSE / ::VTX_ERR_IO for a bad trace (@p err).
 */
VTX_API vtx_status vtx_trace_verify_close(vtx_trace_recorder *rec, const char *why, vtx_replay_result *result,
                                          vtx_trace_error *err);

/* ---------------------------------------------------------------- pictures */

/** @brief An opaque picture writer (VCD waveform or HTML page). */
typedef struct vtx_picture vtx_picture;

/** @brief The kinds of picture. */
typedef enum vtx_picture_kind { VTX_PICTURE_VCD = 0, VTX_PICTURE_HTML = 1 } vtx_picture_kind;

/** @brief Open a picture written to @p path (through a temporary file); @p title names the run. */
VTX_API vtx_status vtx_picture_open(vtx_picture_kind kind, const char *path, const char *title, vtx_picture **pic,
                                    vtx_trace_error *err);
/** @brief A boundary: a ::vtx_boundary_observer (pass the picture as its user pointer). */
VTX_API void vtx_picture_boundary(void *pic, const vtx_boundary_report *report);
/**
 * @brief Call right before each VMLAUNCH/VMRESUME (@p result NULL: the picture reads the
 * window controls in force) and right after it (the picture reads the exit, if any).
 */
VTX_API void vtx_picture_on_entry(vtx_picture *pic, vtx_machine *m, const vtx_insn_result *result);
/** @brief The temporary file being written (for a signal handler that must unlink it). */
VTX_API const char *vtx_picture_temp_path(const vtx_picture *pic);
/** @brief Finish the picture and rename it into place (or remove it when @p ok is false); frees @p pic. */
VTX_API vtx_status vtx_picture_close(vtx_picture *pic, bool ok, vtx_trace_error *err);

#ifdef __cplusplus
}
#endif
#endif
