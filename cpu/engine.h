/*
 * Guest execution on Unicorn 2 with a Zydis decode cache. Knows nothing of VMX:
 * it runs guest code, stops exactly where the model asks, and reports what it
 * saw. Read docs/architecture.md ("Speed") before changing anything here.
 */
#ifndef VTX_ENGINE_H
#define VTX_ENGINE_H

#include "cpu_state.h"

/* The instruction classes the model must see, with their default cycle costs:
 * include/vtxref/insn_class.h (public, so that costs can be configured). */
#include "vtxref/insn_class.h"


/* A decoded instruction: what the model needs for boundary rules and exits. */
/* The instructions of class VTX_IC_FAST_SYSCALL (one class: the stop set holds 64). */
enum { VTX_FS_SYSCALL = 0, VTX_FS_SYSRET = 1, VTX_FS_SYSENTER = 2, VTX_FS_SYSEXIT = 3 };

typedef struct vtx_insn {
    uint64_t rip;            /* linear address it was decoded at */
    uint8_t len;
    uint8_t cls;             /* vtx_insn_class */
    uint8_t bytes[15];
    /* Operands the VM-exit information needs (0 when not applicable). */
    uint8_t imm8;            /* INT n vector; IN/OUT imm8 port */
    bool port_in_dx;         /* IN/OUT/INS/OUTS: port in DX */
    uint8_t op_size;         /* IN/OUT/INS/OUTS access size 1/2/4; otherwise operand size in bytes */
    bool rep;                /* REP prefix (INS/OUTS) */
    uint8_t cr;              /* MOV CR/DR: the control/debug register number */
    uint8_t gpr;             /* MOV CR/DR, LMSW (reg form): the general-purpose register number */
    bool mem_operand;        /* LMSW/INVLPG/LGDT...: a memory operand */
    bool far_direct;         /* JMP/CALL far ptr16:16 / ptr16:32: the selector is far_sel (else the
                                far pointer is in memory: offset, then the selector at op_size) */
    uint16_t far_sel;
    bool keeps_rflags;       /* changes no bit of RFLAGS (the decoder lists no flag it modifies, sets,
                                clears or leaves undefined; the engine's step path then passes the
                                RFLAGS of the boundary before it at the boundary after it) */
    bool writes_mem;         /* may write memory (an explicit or implicit memory operand it writes:
                                stores, PUSH, CALL, string stores...; used by the engine's fast path) */
    uint8_t fast_syscall;    /* FAST_SYSCALL: which one (VTX_FS_SYSCALL, _SYSRET, _SYSENTER, _SYSEXIT) */
    bool mode_change;        /* may change the mode, paging or CS (far branch, IRET, MOV CR, WRMSR,
                                LMSW, SYSCALL/SYSRET/SYSENTER/SYSEXIT, RSM, INVLPG, INVPCID) */
    uint16_t mnemonic;       /* the decoder's mnemonic (a ZydisMnemonic; ZYDIS_MNEMONIC_INVALID for bad
                                bytes): tells apart the instructions of one class (VMX, UMWAIT/TPAUSE/
                                UMONITOR, ENCLS/ENCLU/ENCLV) without reading the text */
    char text[48];           /* Intel syntax, for teaching output only ("mov ss, ax") */
    /* Operand details for the VM-exit instruction-information field and the
     * displacement / linear-address exit qualifications (SDM Vol. 3 "VM-Exit
     * Instruction Information"; catalogue EXIT-3). Register numbers are in x86
     * encoding order (0 RAX ... 15 R15; 16- and 32-bit registers by the same
     * numbers), VTX_GPR_NONE when there is none. */
    uint8_t addr_width;      /* effective address size in bits: 16, 32 or 64 */
    bool has_mem;            /* the memory operand below is filled: the first explicit memory operand,
                                else the first implicit one (INS: ES:[(E)DI], OUTS: seg:[(E)SI]) */
    uint8_t mem_seg;         /* its segment register, the override or the default: 0 ES, 1 CS, 2 SS,
                                3 DS, 4 FS, 5 GS (VTX_S_* order) */
    uint8_t mem_base;        /* its base register, VTX_GPR_NONE when none or RIP-relative */
    uint8_t mem_index;       /* its index register, VTX_GPR_NONE when none */
    uint8_t mem_scale;       /* its scale factor 1, 2, 4 or 8 (0 without an index register) */
    bool mem_rip_rel;        /* RIP-relative (64-bit mode): the address is disp + the next instruction's RIP */
    int64_t mem_disp;        /* its displacement, sign-extended (0 when it has none) */
    uint16_t mem_size;       /* its access size in bytes (0 for an address generation, LEA) */
    uint8_t rm_gpr;          /* register form of a ModRM r/m operand: that GPR (VMREAD/VMWRITE Reg1,
                                SLDT/STR/LLDT/LTR reg form, RDRAND/RDSEED destination), else VTX_GPR_NONE */
    uint8_t reg_gpr;         /* a GPR in ModRM.reg (VMREAD/VMWRITE Reg2, INVEPT/INVVPID/INVPCID type
                                register), else VTX_GPR_NONE */
} vtx_insn;

/* "No register" in the register-number fields of vtx_insn. */
#define VTX_GPR_NONE 0xFFu

/*
 * Decode one instruction from `bytes` (n available, at most 15 used) with the
 * default operand/address size `width` (16, 32 or 64) at linear address `rip`
 * (used for the text of relative branches). Never fails: bytes that are not a
 * valid instruction (or too few of them) give class VTX_IC_UD, len 1 (or n when
 * n < 1 is impossible), text "(bad)". Returns 0, or -1 if the bytes were not a
 * valid instruction (out is still filled, as UD).
 */
int vtx_decode_bytes(const void *bytes, size_t n, unsigned width, uint64_t rip, vtx_insn *out);
/* vtx_decode_bytes without the text (out->text is ""): for the engine's block
 * decode, which needs only the instructions' lengths and classes; formatting
 * took a third of Zydis's time there. */
int vtx_decode_bytes_quick(const void *bytes, size_t n, unsigned width, uint64_t rip, vtx_insn *out);

typedef struct vtx_engine vtx_engine;

/* Create an engine over the given memory regions (host pointers stay the caller's;
 * each region is 4-KiB aligned). */
typedef struct vtx_engine_region { uint64_t pa, size; void *host; } vtx_engine_region;
/*
 * One Unicorn engine (UC_MODE_64: QEMU's x86-64 CPU runs every mode, real to
 * 64-bit, the mode is in its hidden flags) over the regions, mapped with
 * uc_mem_map_ptr (the guest writes the caller's memory directly). `mem` may be
 * NULL; it is used for guest-physical reads outside the regions. Returns 0, or
 * -1 (bad arguments, Unicorn failure, or a Unicorn build whose CPU-state layout
 * the engine does not recognise: see "Unicorn internals" in engine_state.c).
 * The engine starts in real mode at 0000:0000 with every register 0.
 */
int vtx_engine_create(vtx_engine **out, const vtx_engine_region *regions, size_t n, const vtx_phys_mem *mem);
/* A device window: Unicorn calls these for every guest access to it (any
 * instruction, any size 1/2/4/8; offset from the window's start). */
typedef uint64_t (*vtx_engine_mmio_read_fn)(void *user, uint64_t offset, unsigned size);
typedef void (*vtx_engine_mmio_write_fn)(void *user, uint64_t offset, unsigned size, uint64_t value);
/*
 * Map one MMIO window (4-KiB aligned, outside the memory regions) whose
 * accesses call rd / wr, during the run, in the middle of the instruction.
 * Kept across the engine's internal reopening of Unicorn. At most one window
 * per engine. Returns 0, or -1 (bad arguments, overlap, a window already there).
 */
int vtx_engine_map_mmio(vtx_engine *e, uint64_t pa, uint64_t size, vtx_engine_mmio_read_fn rd,
                        vtx_engine_mmio_write_fn wr, void *user);
/* Inside an MMIO callback: the number of instructions the run in progress
 * retired before the one making the access (exact when the window is mapped at
 * linear == physical, as the local APIC is; else the count at the start of the
 * translation block). The caller's cycle clock plus this gives the access's time. */
uint64_t vtx_engine_mmio_retired(const vtx_engine *e);
/* Inside an MMIO callback: end the run at the boundary right after the
 * accessing instruction, reported as VTX_STOP_BOUNDARY (a device state change,
 * such as an interrupt made pending, is then seen by the model). On the fast
 * path a write whose instruction has instructions after it in its translation
 * block is made at most twice to reach that boundary: the first time Unicorn is
 * stopped inside the instruction before the write callback runs, and the
 * instruction executes again with a probe after it (ENG-MMIO-1, engine_mmio.c);
 * the write callback sees the write once. Exact when the window is at linear ==
 * physical (as the local APIC page is). */
void vtx_engine_stop_after_access(vtx_engine *e);
/* Close Unicorn and free the engine (NULL is fine). */
void vtx_engine_destroy(vtx_engine *e);
/*
 * Load the architectural state into Unicorn (every mode of cpu_state.h: real,
 * virtual-8086, 16/32-bit protected, compatibility and 64-bit mode, with or
 * without paging, at any CPL). The hidden segment caches are taken from `s` as
 * they are (they need not match the GDT, which need not even exist), as a VM
 * entry does. Returns 0, or -1 with *why (a static string) naming what Unicorn
 * cannot represent; Unicorn is then unchanged.
 * Refused: EFER.LMA=1 with CR0.PE=0, or with CR0.PG=1 and CR4.PAE=0; RFLAGS.VM=1
 * in IA-32e mode; CS.base != 0 in 64-bit mode (QEMU adds it to RIP); RIP >= 4 GiB
 * outside 64-bit mode; with CR0.PG=1 on Unicorn 2.0.1 only, page tables that
 * map any linear address to another physical address (2.0.1 accesses physical
 * == linear; Unicorn 2.1 translates through the tables, so any mapping runs).
 * The paging check is cached with a copy of the entries it read and revalidated
 * by comparing them. Accepted although not an x86 state: EFER.LMA=1 with
 * CR0.PG=0 (QEMU runs IA-32e code with identity translation, as Unicorn's
 * UC_MODE_64 does by default; handy for tests). Kept by the engine but not by Unicorn: CR8 (round-trips; the
 * guest's MOV CR8 sees Unicorn's value, so the model stops before MOV CR8).
 * DR7 is stored but Unicorn arms no hardware breakpoints from it. The
 * unusable bit (AR bit 16) becomes a not-present cache in Unicorn and reads back
 * with the original AR value while Unicorn has not reloaded the segment.
 * The decode cache and Unicorn's TLB are flushed when CR0/CR3/CR4/EFER change.
 */
int vtx_engine_set_state(vtx_engine *e, const vtx_cpu_state *s, const char **why);
/*
 * vtx_engine_set_state with tlb_kept: the caller's cached translations survive
 * this load (PG-9: a VM entry with VPID on and nothing to invalidate, SDM Vol.
 * 3C "VPID"). The paging check then trusts its cached verdict for the same CR3
 * and paging mode without comparing the tables, unless a TLB flush
 * (vtx_engine_flush_tlb) or a verification (vtx_engine_verify_paging) was asked
 * for since: tables rewritten through the host pointers are seen (compared,
 * walked, and on Unicorn 2.0.1 refused when not the identity) where the
 * translations are invalidated, at the next full check or run start; a run
 * whose start finds a refused mapping stops with VTX_STOP_ERROR and the reason.
 * Until then Unicorn's TLB keeps the translations it holds, as the processor's
 * may. With tlb_kept false it is vtx_engine_set_state.
 */
int vtx_engine_set_state_tlb(vtx_engine *e, const vtx_cpu_state *s, bool tlb_kept, const char **why);
/* Read the architectural state back from Unicorn (hidden caches included).
 * Returns 0, or -1 if Unicorn failed. */
int vtx_engine_get_state(vtx_engine *e, vtx_cpu_state *s);
/*
 * Forget everything derived from guest memory: the decode cache, Unicorn's
 * translated code and its TLB. Call it after the model (not the guest) changed
 * guest code or paging structures behind Unicorn's back (writes through the
 * host pointers are invisible to QEMU's self-modifying-code detection). Called
 * inside a run (from an MMIO callback), it takes effect at the next run's start
 * (ENG-INV-1): stop the run after the access to have it at once.
 */
void vtx_engine_invalidate(vtx_engine *e);

/*
 * Decode the instruction at linear address `rip` (CS.base + RIP) in the
 * engine's current mode, translating through the guest's paging when CR0.PG=1.
 * Cached per linear address; a cached entry is revalidated against the bytes in
 * guest memory on every use, so guest (or model) writes to code are always
 * seen. *out stays valid until the next decode or run on this engine.
 * Returns 0, or -1 if the address cannot be fetched (not mapped in the guest
 * page tables or in guest-physical memory), or the bytes that can be end short
 * of an instruction; *out is then a UD with len 0 (PG-11: not an invalid
 * instruction). A walk that fails falls back to the translation an earlier
 * decode found for the page while Unicorn's TLB was not flushed (PG-10).
 */
int vtx_engine_decode(vtx_engine *e, uint64_t rip, const vtx_insn **out);

/* Why a run stopped. */
typedef enum vtx_stop_reason {
    VTX_STOP_BEFORE = 0,    /* the next instruction's class is in the stop set (not executed) */
    VTX_STOP_COUNT = 1,     /* the instruction budget was used up */
    VTX_STOP_EXCEPTION = 2, /* the instruction raised an exception (not delivered; state at the fault/trap point) */
    VTX_STOP_HLT = 3,       /* HLT retired; RIP is after it */
    VTX_STOP_UNMAPPED = 4,  /* fetch or access of unmapped guest-physical memory (address) */
    VTX_STOP_ERROR = 5,     /* Unicorn failed in a way the engine cannot explain (why) */
    VTX_STOP_BOUNDARY = 6,  /* the boundary function asked to stop before insn (not executed) */
    VTX_STOP_XLATE = 7,     /* the second-stage translation (vtx_engine_xlate) refused an access of
                               insn: not executed, RIP on it; address is the linear address of the
                               access (see vtx_engine_set_xlate) */
} vtx_stop_reason;

typedef struct vtx_stop {
    vtx_stop_reason reason;
    uint64_t retired;        /* instructions retired by this run (only when counted) */
    bool counted;            /* the run counted instructions (stop set non-empty or max_insns != 0:
                                the fast path or the per-instruction hook), so `retired` is exact;
                                a raw run (nothing armed) does not count and reports 0 */
    const vtx_insn *insn;    /* BEFORE: the instruction not executed; EXCEPTION/HLT: the one that did it */
    uint8_t vector;          /* EXCEPTION */
    bool has_error_code;     /* vectors 8, 10-14, 17 */
    uint32_t error_code;     /* QEMU's own error code for the fault (env->error_code) */
    bool trap;               /* EXCEPTION: trap-like (RIP after the instruction; #DB single-step, INT n/INT3/INTO) */
    uint64_t address;        /* UNMAPPED: the address as Unicorn reports it (linear; equal to the
                                guest-physical one without paging); #PF: CR2.
                                UNMAPPED data access: on the per-instruction path RIP is put
                                back on the accessing instruction (insn), whose destination
                                Unicorn may have written with 0; on the fast path and in a raw
                                run the stop is not exact (insn is NULL): Unicorn 2.0.1 leaves
                                the translation block at the access without restoring the CPU
                                state, so the registers and memory hold the effects of the
                                instructions before the access but RIP is where Unicorn last
                                synced it (the block's start, or an instruction before the
                                access), `retired` counts the instructions before that RIP
                                (ENG-UNM-4) and the lazy RFLAGS is stale
                                (with the MMIO window mapped RIP and `retired` are exact,
                                RFLAGS is not; docs/reliability.md).
                                Unicorn 2.0.1 checks the LINEAR address of every access against
                                its physical map (cputlb.c load_helper), so with paging a linear
                                address outside mapped guest-physical memory is UNMAPPED even
                                when the page tables map it. */
    const char *why;         /* ERROR: text */
    bool inexact;            /* UNMAPPED: a data access whose stop is not exact (the fast path or a
                                raw run; see `address`): the state cannot be gone on from (ENG-UNM-1) */
    bool sti_shadow;         /* vtx_engine_watch_sti: the run's last retired instruction was an STI
                                that found IF = 0, and nothing retired after it (the boundary
                                where the run stopped is in its shadow, BLK-STI-1; ENG-STI-1) */
} vtx_stop;

/* Bit set of instruction classes. */
typedef struct vtx_class_set { uint64_t bits; } vtx_class_set;
static inline void vtx_class_add(vtx_class_set *s, vtx_insn_class c) { s->bits |= 1ull << c; }
static inline bool vtx_class_has(const vtx_class_set *s, vtx_insn_class c) { return (s->bits >> c) & 1; }

/*
 * Run up to max_insns instructions (0: no limit), stopping BEFORE any
 * instruction whose class is in `stop_before`, and after any exception, HLT or
 * unmapped access. The boundary at the current RIP is not checked against
 * `stop_before` when `skip_first` is true (to execute an instruction the model
 * has already looked at). A raw run (empty stop set, max_insns 0) has neither
 * the block hook nor the per-instruction hook (only those every run has: for
 * interrupts, unmapped accesses and stores, ENG-SMC-1/2). A counted run takes
 * the fast path: a block hook decodes each translation block once (cached per
 * address, size, mode and bytes), adds its
 * instruction count, and stops before a block that starts with a stop-set
 * instruction or the budget's end; a stop inside a block goes through a
 * "probe" (a code hook bounded to that one address, compiled into the blocks
 * that contain it; at most 32, added once per address, about a block
 * retranslation each). Exceptions, HLT and the like inside a block are counted
 * by RIP's position in it; QEMU's abandoning of a block on a store into itself
 * is recognised. Blocks the engine cannot vouch for (see blk_get in engine_blocks.c)
 * fall back to the per-instruction code hook for the rest of the run (which
 * a boundary function also selects; the block hook then only checks bytes).
 * Guest code written behind Unicorn's back (through the host pointers, between
 * runs) is run as it now is: every counted run's block hook compares each
 * block's bytes with those it saw before (or knows it lost track of them) and
 * has Unicorn translate a changed block again before it runs.
 * Switching between raw and counted runs, or to and from the fallback, drops
 * Unicorn's translated code (about 175 ns per instruction retranslated). Exceptions are not delivered: the state is at the fault (RIP
 * of the faulting instruction) or after the trap (RIP after INT n / INT3 / INTO /
 * single-step), and QEMU's fault history is cleared so the next fault is never
 * escalated to #DF. Returns 0 (see *stop), or -1 for bad arguments.
 */
int vtx_engine_run(vtx_engine *e, uint64_t max_insns, vtx_class_set stop_before, bool skip_first, vtx_stop *stop);
/*
 * ENG-AGAIN-1: the run that vtx_engine_run(e, any budget, stop_before, false,
 * stop) would make now, when it ends before its first instruction without
 * entering Unicorn: the last run stopped before the instruction at RIP, which
 * is in stop_before (a MOV to DR let through is the engine's own stop, ENG-DR-1:
 * never stopped at once), and since then no
 * boundary function, state load, TLB flush, paging verification or map change
 * came, and the state was read (vtx_engine_get_state) after that run, so the
 * state the caller read is the state now. The instruction is decoded again
 * from memory (changed bytes: false). Returns true with *stop as that run
 * would fill it (VTX_STOP_BEFORE, nothing retired); false (nothing done) when
 * a run is needed. The caller need not read the state again.
 */
bool vtx_engine_stops_at_once(vtx_engine *e, vtx_class_set stop_before, vtx_stop *stop);

/*
 * A boundary function: called by a counted run at every instruction boundary
 * inside the run, that is before each instruction it is about to start except
 * the run's first (the caller has looked at that boundary already), and after
 * the stop-set and budget checks (a boundary where the run stops for those is
 * not passed to it). `rip` is the architectural RIP of the next instruction,
 * `rflags` RFLAGS there (what vtx_engine_rflags returns). To stop the run
 * there (VTX_STOP_BOUNDARY; the next instruction not executed) it calls
 * vtx_engine_stop_at_boundary. It may call vtx_engine_rflags too, but nothing
 * else of the engine. (It returns nothing: the per-instruction hook calls it
 * last, as a tail call.)
 */
typedef void (*vtx_engine_boundary_fn)(void *user, uint64_t rip, uint64_t rflags);
/* Inside a boundary function only: the run stops at its boundary. */
void vtx_engine_stop_at_boundary(vtx_engine *e);
/*
 * Install (or, with NULL, remove) the boundary function. While one is
 * installed every counted run takes the per-instruction hook (about 190 M
 * instructions per second before the function's own work) instead of the
 * block-hook fast path; switching drops Unicorn's translated code, so keep it
 * installed for as long as it is wanted.
 */
void vtx_engine_set_boundary_fn(vtx_engine *e, vtx_engine_boundary_fn fn, void *user);
/* RFLAGS as it is now (also inside a boundary function): the value
 * uc_reg_read returns, computed by the engine from Unicorn's lazy flags where
 * it can (engine_flags.c, ENG-FL-1). */
uint64_t vtx_engine_rflags(vtx_engine *e);
/*
 * For tests of ENG-FL-1: put QEMU's lazy-flags state (operation code op, its
 * result dst, operand src, carry-in src2) in the engine's Unicorn, read RFLAGS
 * the engine's way (*engine) and Unicorn's (*unicorn), and restore the state.
 * Returns 0, 1 when the engine leaves op to Unicorn (nothing compared), -1 on
 * error (no live state).
 */
int vtx_engine_flags_crosscheck(vtx_engine *e, uint32_t op, uint64_t dst, uint64_t src, uint64_t src2,
                                uint64_t *engine, uint64_t *unicorn);

/*
 * For tests of ENG-FL-2: with `on`, the per-instruction hook checks every RFLAGS
 * it takes from Unicorn's sync (engine_flags.h) against Unicorn's register API,
 * and counts. counts (when not NULL) receives the counts so far: [0] synced
 * values taken, [1] values computed (from the lazy flags, or by Unicorn for an operation
 * the engine leaves to it), [2] synced values that
 * differed from Unicorn's. Turning it on clears them. Returns 0, -1 when the
 * engine computes no RFLAGS from the live state (nothing to check).
 */
int vtx_engine_flags_audit(vtx_engine *e, bool on, uint64_t counts[3]);

/*
 * True once Unicorn aborted inside a run of this engine and the engine could
 * not go on past the guest code that made it abort (Unicorn 2.0.1 calls abort()
 * translating some invalid guest code; the engine catches it, and normally
 * goes on in a new Unicorn that stops before that code: VTX_STOP_BEFORE an
 * undecodable instruction). A broken engine refuses everything; destroy it and
 * create another.
 */
bool vtx_engine_broken(const vtx_engine *e);
/* The engine runs any code as a new one would: not broken, and no address on
 * the exit list a reopen past an abort made (a caller that restores an earlier
 * state keeps such an engine; else it creates another). */
bool vtx_engine_reusable(const vtx_engine *e);

/*
 * ENG-STI-1: for the next run only, when STI is not in its stop set, let STI
 * run inside the run and report in vtx_stop.sti_shadow whether the run
 * stopped right after one that found IF = 0. The engine takes that from
 * QEMU's own interrupt-inhibit flag (set by the STI that ended the last
 * translation block, cleared by the next block) and from IF before the STI,
 * which the block hook reads when it enters the block ending in the STI (such
 * blocks always take its slow path). A run on the per-instruction hook
 * (a fallback mid-run, or a boundary function) stops before STI instead
 * (VTX_STOP_BEFORE), as it would with STI in the stop set.
 */
void vtx_engine_watch_sti(vtx_engine *e);

/* Diagnostics: how many probes (one-address code hooks, see vtx_engine_run) the
 * engine holds now. A probe no run armed in the last 256 runs is dropped at the
 * next run's start (ENG-PRB-1); one only budgets ended at, at the next run's
 * start (ENG-PRB-2). */
unsigned vtx_engine_probe_count(const vtx_engine *e);

/*
 * True when the Unicorn the engine was built with translates linear addresses
 * through the guest's paging structures (Unicorn 2.1 and later: any mapping
 * runs); false on Unicorn 2.0.1, which accesses physical == linear, so that
 * vtx_engine_set_state refuses page tables that are not the identity.
 */
bool vtx_engine_translates_paging(void);
/* The Unicorn version the engine was built with ("2.0.1", "2.1.1"). */
const char *vtx_engine_unicorn_version(void);
/*
 * Flush Unicorn's TLB (its cached linear -> physical translations, derived from
 * the guest's paging structures), keeping translated code. The model calls it
 * where the processor invalidates linear and combined mappings (VM entry and
 * exit without VPID, INVVPID, INVEPT; SDM Vol. 3 "Invalidating Cached
 * Translation Information"). The decode cache is forgotten too. The flush is
 * carried out at the next run; without paging, and on Unicorn 2.0.1 while the
 * paging structures are unchanged since the last flush (the identity-paging
 * check's cache sees every change at set_state), it is not needed and skipped
 * (a flush costs tens of microseconds there).
 */
void vtx_engine_flush_tlb(vtx_engine *e);
/*
 * The guest invalidates translations itself here (INVLPG, MOV to CR3; Unicorn
 * carries out the invalidation): after loads with tlb_kept
 * (vtx_engine_set_state_tlb) the next run's start, or the next load, compares
 * the paging structures again (PG-9) without flushing Unicorn's TLB.
 */
void vtx_engine_verify_paging(vtx_engine *e);
/*
 * PG-11: the engine could not read the instruction Unicorn fetched at a stop
 * (vtx_engine_decode failed, or its bytes ended short of an instruction:
 * the stop's insn has len 0), because Unicorn fetched it through a translation
 * its TLB cached (for a data access) before the guest broke the paging entry,
 * and PG-10 has no translation of that page to fall back to. Flush Unicorn's
 * TLB now, unconditionally: its next fetch walks the tables again, as the
 * engine's read did, so the next run faults where the engine could not read
 * (or runs what it can read again). The model steps the instruction on the
 * engine after this rather than calling the unreadable bytes invalid.
 */
void vtx_engine_refetch(vtx_engine *e);

/*
 * Put the engine back as vtx_engine_create left it, but for its translated code
 * (vtx_machine_restore: a machine put back in a saved state runs as a new one
 * would). The CPU state Unicorn holds returns to the one at creation, every
 * register the engine does not load included (x87, SSE, QEMU's hidden flags), so
 * the next vtx_engine_set_state loads a state in full; and what the engine knows
 * of the paging structures is forgotten, so that the next run walks them and
 * flushes Unicorn's TLB (memory put back by the caller may hold the tables last
 * walked, but without the accessed and dirty bits Unicorn set since: a TLB kept
 * across that would leave them clear where a new engine sets them). Translated
 * code stays: the engine's caches check the bytes they were made from.
 */
void vtx_engine_reset(vtx_engine *e);

/*
 * A second translation stage, guest-physical -> host-physical, supplied by the
 * caller (the model's EPT, model/ept_walk.c); cpu/ knows nothing of what it is.
 * Access bits passed to `translate`: */
#define VTX_XL_READ 0x1u
#define VTX_XL_WRITE 0x2u
#define VTX_XL_FETCH 0x4u
#define VTX_XL_ENTRY 0x8u  /* an access to a guest paging-structure entry (the walk's read, or its
                              accessed/dirty update), not to the translation of `lin` */
#define VTX_XL_PEEK 0x10u  /* the engine's own look (decoding): no permission check, nothing set
                              or recorded */
typedef struct vtx_engine_xlate {
    void *ctx;
    uint8_t maxphyaddr; /* the guest's paging: MAXPHYADDR (32..52; else 52) */
    /* Optional (NULL: none): PAE paging's four PDPTE registers for this CR3, when
     * the caller holds them (true; else the walk reads them from memory). */
    bool (*pdptes)(void *ctx, uint64_t cr3, uint64_t out[4]);
    /* Translate gpa for the access (VTX_XL_* bits) made for linear address `lin`
     * (4-KiB aligned when it comes from Unicorn's TLB fill). Returns 0 with *hpa
     * (host-physical, the address in the engine's regions) and *perms (VTX_XL_READ/
     * WRITE/FETCH: what the engine may do in that 4-KiB page without asking again;
     * at least the access itself), or -1 when the access is refused: the callback
     * keeps why (the run then stops with VTX_STOP_XLATE). */
    int (*translate)(void *ctx, uint64_t gpa, unsigned access, uint64_t lin, uint64_t *hpa, unsigned *perms);
} vtx_engine_xlate;
/*
 * Install (or, with NULL, remove) the second stage. With one installed, every
 * access of a run goes linear -> guest-physical (the guest's paging, whose
 * paging-structure reads and accessed/dirty writes go through `translate` as
 * VTX_XL_ENTRY accesses) -> host-physical (`translate`), on Unicorn 2.1's
 * UC_TLB_VIRTUAL with a UC_HOOK_TLB_FILL hook; the guest's #PF are then found
 * by the engine (cpu/paging.c) and reported as VTX_STOP_EXCEPTION 14 with the
 * error code and CR2. The engine's own reads (decoding) peek through it.
 * Unicorn's TLB holds each 4-KiB page's translation until a flush
 * (vtx_engine_flush_tlb, a guest MOV to CR3/CR0/CR4 or INVLPG); with a second
 * stage every requested flush is carried out. Returns 0, or -1 on Unicorn 2.0.1
 * (no TLB fill hook: the caller must refuse the run) or when Unicorn fails.
 * Unicorn does not say whether an access is an implicit supervisor access
 * (GDT/IDT/TSS at CPL 3): see implicit_access in engine_xlate.c.
 */
int vtx_engine_set_xlate(vtx_engine *e, const vtx_engine_xlate *x);

#endif
