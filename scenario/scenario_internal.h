/* Scenario files (docs/scenarios.md): what the loader builds and the runner reads.
 * Internal to the vtxref_scenario library. */
#ifndef VTX_SCENARIO_INTERNAL_H
#define VTX_SCENARIO_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vtxref/scenario.h"
#include "vtxref/vtxref.h"

/* ---- the YAML tree (yaml.c): libfyaml events turned into nodes that keep their position ---- */

typedef enum { Y_SCALAR, Y_SEQ, Y_MAP } ytype;

typedef struct ynode ynode;
struct ynode {
    ytype type;
    int line, col;   /* 1-based position of the node's first character */
    bool literal;    /* a literal block scalar (`|`): its position is its first content line; content line k is file line line + k */
    bool quoted;     /* a quoted scalar (never a number or a null) */
    char *text;      /* scalar: NUL-terminated content */
    size_t len;      /* scalar: content length */
    ynode **items;   /* sequence: the items; mapping: key, value, key, value, ... */
    size_t n;        /* number of entries of items[] */
};

/* Parse YAML text into a tree (NULL for an empty document). On a syntax error
 * returns VTX_ERR_PARSE with err's line, column and message set. */
vtx_status scn_yaml_parse(const char *text, size_t len, ynode **root, vtx_scenario_error *err);
void scn_yaml_free(ynode *n);
/* The value of key @p key in mapping @p map, or NULL. */
ynode *scn_ymap_get(const ynode *map, const char *key);
/* The key node of that member (its position is where an empty value is reported: libfyaml
 * versions place an empty scalar's mark differently). */
ynode *scn_ymap_key(const ynode *map, const char *key);

/* ---- what a scenario holds ---- */

typedef struct scn_loc {
    int line, col;
} scn_loc;

/* A guest address as written: a number, or a label with an offset (resolved after nasm). */
typedef struct scn_addr {
    uint64_t value;  /* resolved value */
    char *label;     /* NULL for a number */
    int64_t offset;  /* label + offset */
    bool as_rip;     /* resolve to the RIP of the label (its offset in its code segment), not its linear address */
    scn_loc loc;
} scn_addr;

/* Guest modes of `guest.mode`. */
typedef enum { SCN_REAL, SCN_PM16, SCN_PM32, SCN_PM32_PAGING, SCN_LONG64 } scn_mode;
/* What vectors without a handler get. */
typedef enum { SCN_DEF_HLT, SCN_DEF_IRET, SCN_DEF_NOT_PRESENT } scn_default;

/* A block of nasm source assembled at its own address. */
typedef struct scn_block {
    char *what;        /* "code", "handler 0x30", "memory item 2" */
    char *src;         /* the source as written */
    uint64_t linear;   /* where its bytes go */
    uint64_t org;      /* nasm's org: RIP of the first byte (linear minus the code segment's base) */
    unsigned bits;     /* 16, 32 or 64 */
    int first_line;    /* scenario line of the source's first line */
    int col;           /* column of the source */
    bool literal;      /* a block scalar: source lines are consecutive file lines */
    uint8_t *bytes;
    size_t size;
    size_t max_size;   /* room at its address (0: no limit but the RAM) */
} scn_block;

typedef struct scn_label {
    char *name;
    uint64_t value;  /* nasm's value (the RIP in its code segment) */
    uint64_t linear; /* its linear address */
    size_t block;
} scn_label;

/* Registers by name: X(name) in the order of vtx_gprs, then the VMCS ones. */
#define SCN_REGS(X) \
    X(rax) X(rcx) X(rdx) X(rbx) X(rbp) X(rsi) X(rdi) X(r8) X(r9) X(r10) X(r11) X(r12) X(r13) X(r14) X(r15) \
    X(rsp) X(rip) X(rflags)
typedef enum {
#define SCN_X_REG(n) SCN_REG_##n,
    SCN_REGS(SCN_X_REG)
#undef SCN_X_REG
    SCN_REG_COUNT
} scn_reg;
#define SCN_GPR_COUNT 15 /* rax..r15: the vtx_gprs members, in order */

typedef struct scn_regs {
    uint32_t mask; /* bit r: register r is given */
    uint64_t v[SCN_REG_COUNT];
    scn_addr rip;  /* rip may be a label */
    scn_loc loc[SCN_REG_COUNT];
} scn_regs;

/* A memory item: bytes at an address (or nasm source, assembled into a block). */
typedef struct scn_mem {
    scn_addr at;
    uint8_t *bytes;
    size_t len;
    size_t block; /* for `asm:`: its block, else (size_t)-1 */
    scn_loc loc;
} scn_mem;

typedef struct scn_write {
    uint32_t enc;
    uint64_t value;
    scn_loc loc;
} scn_write;

/* An event to inject at VM entry. */
typedef struct scn_inject {
    bool present;
    uint32_t type, vector, error_code, length;
    bool has_error_code, length_exit;
    scn_loc loc;
} scn_inject;

typedef struct scn_event {
    vtx_input in;
    scn_loc loc;
} scn_event;

/* Reaction steps. */
typedef enum { ST_SET, ST_CLEAR, ST_INJECT, ST_SKIP, ST_WRITE, ST_REGS, ST_MEMORY, ST_RAISE } scn_step_kind;

typedef struct scn_step {
    scn_step_kind kind;
    scn_loc loc;
    uint32_t ctl[VTX_CTL_FIELD_COUNT_]; /* set/clear */
    scn_inject inject;
    scn_write *writes;
    size_t nwrites;
    scn_regs regs;
    scn_mem *mem;
    size_t nmem;
    vtx_input raise;
} scn_step;

typedef struct scn_reaction {
    scn_loc loc;
    bool any_failure;  /* on: {exit: ENTRY_FAILURE} */
    uint32_t reason;   /* basic reason */
    uint32_t occurrence; /* 0: every */
    bool has_qual, has_rip;
    uint64_t qual;
    scn_addr rip;
    scn_step *steps;
    size_t nsteps;
    bool stop;
} scn_reaction;

/* The exit keys an expectation may compare: X(key, member, is_address). */
#define SCN_EXIT_KEYS(X) \
    X(reason, reason) X(qualification, qualification) X(guest_linear, guest_linear) \
    X(guest_physical, guest_physical) X(intr_info, intr_info) X(intr_error, intr_error) \
    X(idt_vectoring, idt_vectoring) X(idt_vectoring_error, idt_vectoring_error) X(length, length) \
    X(insn_info, insn_info) X(rip, rip) X(rflags, rflags) X(interruptibility, interruptibility) \
    X(activity, activity) X(pending_debug, pending_debug)
typedef enum {
#define SCN_X_KEY(k, m) SCN_K_##k,
    SCN_EXIT_KEYS(SCN_X_KEY)
#undef SCN_X_KEY
    SCN_K_COUNT
} scn_key;

/* One comparison of an expectation. */
typedef enum { CMP_EXIT, CMP_CHECK, CMP_REG, CMP_MEM, CMP_FIELD, CMP_INSTR, CMP_CYCLES, CMP_VMERROR } scn_cmp_kind;
typedef struct scn_cmp {
    scn_cmp_kind kind;
    int key;          /* CMP_EXIT: scn_key; CMP_REG: scn_reg */
    uint64_t value;   /* expected */
    bool any_failure; /* reason: ENTRY_FAILURE (bit 31, any basic reason) */
    scn_addr addr;    /* rip (CMP_EXIT rip, CMP_REG rip) or the memory address */
    uint8_t *bytes;   /* CMP_MEM */
    size_t len;
    uint32_t enc;     /* CMP_FIELD */
    scn_loc loc;
} scn_cmp;

typedef struct scn_expect {
    scn_loc loc;
    scn_cmp *cmps;
    size_t n;
} scn_expect;

struct vtx_scenario {
    char *name, *description, *source, *base_dir;
    vtx_profile profile;
    uint64_t lim_instructions, lim_cycles, lim_exits;

    /* guest */
    scn_mode mode;
    unsigned bits, cpl;
    uint64_t code_at, stack, rflags, pending_debug;
    uint64_t seg_base; /* 16-bit modes: base of the code segment (handlers and stubs live in it) */
    uint32_t interruptibility, activity;
    scn_regs regs;
    scn_default default_handler;
    bool not_present[256];
    int handler_block[256]; /* -1: none */
    scn_block *blocks;
    size_t nblocks;
    scn_label *labels;
    size_t nlabels;
    scn_mem *mem;
    size_t nmem;

    uint32_t ctl[VTX_CTL_FIELD_COUNT_]; /* the controls written before VMLAUNCH */
    bool need_ept;                      /* real mode: an EPT pointer is written */
    scn_write *fields;
    size_t nfields;
    scn_inject inject;
    scn_event *events;
    size_t nevents;
    scn_reaction *reactions;
    size_t nreactions;

    bool has_expect, expect_exits, expect_vmfail;
    scn_expect *exp;
    size_t nexp;
    scn_expect vmfail;
    scn_expect end;
    /* expect.findings: the kinds (vtx_vmm_finding_kind) the run must report, in the order given */
    uint32_t *findings;
    size_t nfindings;
    scn_loc findings_loc;
};

/* ---- the memory layout (env.c; documented in docs/scenarios.md) ---- */
#define SCN_RAM_SIZE (4ull << 20)   /* guest RAM at guest-physical 0 */
#define SCN_VMX_PA SCN_RAM_SIZE     /* VMXON region, then the VMCS, then the EPT, outside the guest's RAM */
#define SCN_VMX_SIZE 0x8000u        /* VMXON, VMCS, and the identity EPT: PML4, PDPT, PD, three PTs */
#define SCN_EPT_PA (SCN_VMX_PA + 0x2000u)
#define SCN_GDT 0x1000u
#define SCN_TSS 0x1800u
#define SCN_IDT 0x2000u             /* protected and long mode; real mode: the IVT at 0 */
#define SCN_PAGING 0x3000u          /* PML4, PDPT, PD (long64); the 4-MiB PD (pm32-paging) */
#define SCN_STACK0 0xA000u          /* ring-0 stack of a CPL-3 guest (TSS) */
#define SCN_STUBS 0xB000u           /* default handlers, 16 bytes a vector (32- and 64-bit modes) */
#define SCN_HANDLERS 0x20000u       /* handlers, 4 KiB each (32- and 64-bit modes) */
#define SCN_HANDLER_ROOM 0x1000u
/* 16-bit modes keep code, handlers and stubs in one 64-KiB code segment at seg_base. */
#define SCN_SEG16_CODE_ROOM 0x8000u
#define SCN_SEG16_HANDLERS 0x8000u  /* seg_base + this + 0x200 * i */
#define SCN_SEG16_HANDLER_ROOM 0x200u
#define SCN_SEG16_STUBS 0xE000u     /* seg_base + this + 16 * vector */

/* ---- helpers shared by the files ---- */

/* Set @p err (file = the scenario's source) and return VTX_ERR_PARSE. */
vtx_status scn_fail(vtx_scenario_error *err, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void scn_set_error(vtx_scenario_error *err, const char *file, int line, int col, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
char *scn_strdup(const char *s);
char *scn_strndup(const char *s, size_t n);
/* Grow an array by one zeroed element: `T *x = scn_push((void **)&arr, &n, sizeof *arr)`; NULL when out of memory. */
void *scn_push(void **arr, size_t *n, size_t size);


/* ---- the loader's helpers (values.c), shared by load.c and load_vmm.c ---- */
typedef struct scn_ld {
    vtx_scenario *s;
    vtx_scenario_error *err;
} scn_ld;

/* A number: decimal or 0x hexadecimal, no sign. */
bool scn_parse_number(const char *t, uint64_t *v);
/* "a mapping", "a list", "a single value". */
const char *scn_type_word(ytype t);
/* Fail at a node: VTX_ERR_PARSE with its line and column. */
vtx_status scn_ld_fail(scn_ld *L, const ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Every key of @p map is in @p allowed (NULL-terminated); @p what names the mapping in errors. */
vtx_status scn_ld_keys(scn_ld *L, const ynode *map, const char *what, const char *const *allowed);
vtx_status scn_ld_type(scn_ld *L, const ynode *n, ytype t, const char *what);
vtx_status scn_ld_u64(scn_ld *L, const ynode *n, const char *what, uint64_t max, uint64_t *v);
vtx_status scn_ld_bool(scn_ld *L, const ynode *n, const char *what, bool *b);
vtx_status scn_ld_addr(scn_ld *L, const ynode *n, const char *what, bool as_rip, scn_addr *a);
/* {rax: V, ...}; @p vmcs_regs allows rsp, rip and rflags. */
vtx_status scn_ld_regs(scn_ld *L, const ynode *n, const char *what, bool vmcs_regs, scn_regs *r);
/* [{at: A, bytes/u8/u16/u32/u64: V}, ...]; @p allow_asm allows {at, asm} (guest.memory). */
vtx_status scn_ld_mem(scn_ld *L, const ynode *n, const char *what, bool allow_asm, scn_mem **items, size_t *count);
/* {FIELD: V, ...} with fields the profile has. */
vtx_status scn_ld_writes(scn_ld *L, const ynode *n, const char *what, scn_write **w, size_t *count);
/* {pin: [names], ...} into ctl[] (bits named; not checked against the profile). */
vtx_status scn_ld_controls(scn_ld *L, const ynode *n, const char *what, uint32_t ctl[VTX_CTL_FIELD_COUNT_]);
/* {type, vector, error_code, length}; @p allow_exit_length allows `length: exit`. */
vtx_status scn_ld_inject(scn_ld *L, const ynode *n, const char *what, bool allow_exit_length, scn_inject *in);
/* A platform event: nmi | init | {interrupt: V|off} | {sipi: V} (a mapping of one key, or a bare word). */
vtx_status scn_ld_event_kind(scn_ld *L, const ynode *key, const ynode *val, vtx_input *in);
/* load_vmm.c */
vtx_status scn_ld_events(scn_ld *L, const ynode *n);
vtx_status scn_ld_reactions(scn_ld *L, const ynode *n);
vtx_status scn_ld_expect(scn_ld *L, const ynode *n);
/* Resolve every label reference (after nasm). */
vtx_status scn_ld_resolve(scn_ld *L, scn_addr *a);
vtx_status scn_ld_resolve_all(scn_ld *L);

/* names.c */
bool scn_ctl_field_by_key(const char *key, vtx_ctl_field *f);
const char *scn_ctl_key(vtx_ctl_field f);
bool scn_control_by_name(vtx_ctl_field f, const char *name, unsigned *bit);
bool scn_exit_reason_by_name(const char *name, uint32_t *reason);
bool scn_check_by_name(const char *name, vtx_check *check);
bool scn_activity_by_name(const char *name, uint32_t *v);
const char *scn_activity_name(uint32_t v);
bool scn_intr_bit_by_name(const char *name, uint32_t *bit);
bool scn_event_type_by_name(const char *name, uint32_t *type);
bool scn_reg_by_name(const char *name, scn_reg *r);
const char *scn_reg_name(scn_reg r);
const char *scn_key_name(scn_key k);
bool scn_key_by_name(const char *name, scn_key *k);

/* asm.c: assemble every block (err names the scenario line of a nasm error). */
vtx_status scn_assemble(vtx_scenario *s, size_t first_block, const char *text, size_t len, vtx_scenario_error *err);
/* The code and the handlers do not overlap each other or the loader's tables. */
vtx_status scn_check_layout(const vtx_scenario *s, vtx_scenario_error *err);
/* The default handlers' labels (default_0xNN) and their block (after scn_assemble). */
vtx_status scn_stub_labels(vtx_scenario *s);
/* Look up a label by name: true with its label record. */
const scn_label *scn_label_find(const vtx_scenario *s, const char *name);

/* env.c: build the guest in RAM and the VMCS (current VMCS, VMX operation). */
vtx_status scn_env_setup(const vtx_scenario *s, vtx_machine *m, uint8_t *ram, vtx_scenario_error *err);
/* Write memory items into RAM. */
vtx_status scn_env_write_mem(const vtx_scenario *s, uint8_t *ram, const scn_mem *items, size_t n, char *why,
                             size_t whysize);

/* expect.c */
typedef struct scn_run_view {
    vtx_machine *m;
    const uint8_t *ram;
    const vtx_scenario_exit *exit; /* NULL at the end of the run */
    uint32_t vm_error;             /* a VMfail's error number (expect.vmfail) */
} scn_run_view;
/* Check one comparison; fills the texts; returns true when it matched. */
bool scn_cmp_check(const vtx_scenario *s, const scn_cmp *c, const scn_run_view *v, char *what, size_t wsz,
                   char *expected, size_t esz, char *actual, size_t asz);
/* A value as text, named by a label when @p rip (hex plus " (label)"). */
void scn_addr_text(const vtx_scenario *s, uint64_t v, uint64_t cs_base, char *buf, size_t size);


#endif
