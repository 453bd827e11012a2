/*
 * engine: state transfer between vtx_cpu_state and Unicorn, which reads and
 * writes Unicorn's internal CPU state (QEMU's CPUX86State) directly; the
 * offsets are in engine_internal.h, and probe_layout verifies them at every
 * vtx_engine_create. Why:
 *
 * Unicorn internals
 * -----------------
 * Unicorn 2.0.1's register API cannot express what a VM entry loads: writing a
 * selector reloads the cache from the GDT (or, in UC_MODE_64, only sets the
 * selector), CPL 3 cannot be entered, CR0/CR4 writes skip QEMU's hidden-flag
 * updates, and nothing reads the hidden caches back. It does give a byte-exact
 * copy of QEMU's CPUX86State through uc_context_save/restore. The engine
 * therefore reads and writes that copy at the QEMU 5.0 (Unicorn 2.0.x, x86_64
 * build) offsets in engine_internal.h, and verifies every offset at
 * vtx_engine_create by writing marker values through the public API and
 * finding them where expected; an unknown layout makes create fail rather than
 * run wrongly.
 * What it writes: GPRs, EIP, hflags (recomputed like QEMU's
 * cpu_x86_load_seg_cache / update_cr0 / update_cr4 do), the six segment caches,
 * LDTR, TR, GDTR, IDTR, CR0-CR4, EFER, DR6, DR7 and old_exception; RFLAGS goes
 * through the API (QEMU splits it into lazy condition codes).
 * What it reads in the exception hook: error_code, exception_is_int (INT n /
 * INT3 / INTO are traps) and CR2.
 * old_exception is what makes QEMU escalate a second fault to #DF (Unicorn never
 * calls do_interrupt, which clears it); the engine sets it back to -1 after each
 * exception, the effect of the "pristine context restore" of the notes without
 * losing the state.
 * One UC_MODE_64 engine runs every mode: the uc mode only selects the register
 * API's view, while QEMU's x86-64 CPU takes its mode from hflags/CR0/EFER, so a
 * guest can also switch modes itself (and CPUID reports long mode, like every
 * VT-x processor).
 *
 * Live state
 * ----------
 * uc_context_save and uc_context_restore copy the whole CPUX86State (5.5 KB)
 * and the CPU's jump buffer: the engine used to save after every run and
 * around every full state load, 15 % of a VM exit round trip. Unicorn keeps the
 * state at uc->cpu->env_ptr, and the context copy is a plain memcpy of it, so
 * reading and writing it in place at the same offsets is the same as copying
 * it out, changing it and copying it back with no run in between. The engine
 * finds that address at vtx_engine_create (vtx_eng_find_live): a pointer in
 * Unicorn's uc_struct (uc->cpu) to an object whose first words hold a pointer
 * into the object itself (cpu->env_ptr) at which the bytes of a context just
 * saved are found, every read bounded by the readable mappings of
 * /proc/self/maps; then a register written through the API must appear there.
 * The two offsets are kept for the next engines (which are verified the same
 * way). Not found: the engine copies, as before (e->live == NULL).
 * Found on Unicorn 2.0.1 and 2.1.1 alike (tests/test_engine_live.c): uc_struct,
 * CPUState and CPUX86State have the same layout where the engine reads them;
 * only the context blob's header grew in 2.1 (see vtx_eng_find_live), which
 * made the search give up on Debian 13 until 2026-12-07.
 */
#define _GNU_SOURCE /* must come first: nothing else defines it in this file */
#include "engine_internal.h"
#include "bulk.h"
#include "engine_flags.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* Take the mode/paging shadows from e->ctx (just saved). */
static void absorb(vtx_engine *e)
{
    const uint8_t *env = env_of(e);
    uint32_t hf = rd32(env, ENV_HFLAGS);
    uint64_t cr0 = rd64(env, ENV_CR), cr3 = rd64(env, ENV_CR + 24), cr4 = rd64(env, ENV_CR + 32);
    uint64_t efer = rd64(env, ENV_EFER);
    unsigned width = (hf & HF_CS64) ? 64 : (hf & HF_CS32) ? 32 : 16;
    if (vtx_eng_paging_key_changed(e, cr0, cr3, cr4, efer) || width != e->width)
        e->gen += 2;
    vtx_eng_set_cr0(e, cr0);
    e->cr3 = cr3, e->cr4 = cr4, e->efer = efer, e->hflags = hf, e->width = width;
    e->cs_base = rd64(env, ENV_SEGS + VTX_S_CS * SEG_SZ + 8);
}

bool vtx_eng_save_absorb(vtx_engine *e)
{
    if (!e->live && uc_context_save(e->uc, e->ctx) != UC_ERR_OK)
        return false;
    absorb(e);
    e->ctx_fresh = true;
    return true;
}

static const int gpr_ids[VTX_R_COUNT] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

/* Find and verify the CPUX86State offsets (see "Unicorn internals"). */
bool vtx_eng_probe_layout(vtx_engine *e)
{
    uc_engine *uc = e->uc;
    uint64_t v;
    for (int i = 0; i < VTX_R_COUNT; i++) {
        v = 0x5a17c0de00000000ull + (uint64_t)i * 0x1010101ull;
        if (uc_reg_write(uc, gpr_ids[i], &v) != UC_ERR_OK)
            return false;
    }
    v = 0x5a17c0de77770000ull;
    uc_reg_write(uc, UC_X86_REG_RIP, &v);
    for (int i = 0; i < 4; i++) {
        v = 0xd0d0c0de00000000ull + (uint64_t)i;
        uc_reg_write(uc, UC_X86_REG_DR0 + i, &v);
    }
    v = 0xf5f5c0de0000ull;
    uc_reg_write(uc, UC_X86_REG_FS_BASE, &v);
    v = 0x3c3c3000ull;
    uc_reg_write(uc, UC_X86_REG_CR3, &v);
    uc_x86_mmr g = {.base = 0x6d6dc0de000ull, .limit = 0x1237};
    uc_reg_write(uc, UC_X86_REG_GDTR, &g);
    uc_x86_mmr t = {.selector = 0x28, .base = 0x7a7ac0de000ull, .limit = 0x67, .flags = 0x8b00};
    uc_reg_write(uc, UC_X86_REG_TR, &t);
    if (uc_context_save(uc, e->ctx) != UC_ERR_OK)
        return false;
    size_t csize = uc_context_size(uc);
    const uint8_t *p = (const uint8_t *)e->ctx;
    e->hdr = SIZE_MAX;
    for (size_t off = 0; off + 8 <= 256 && off + 8 <= csize; off += 4)
        if (rd64(p, off) == 0x5a17c0de00000000ull) {
            e->hdr = off;
            break;
        }
    if (e->hdr == SIZE_MAX || csize < e->hdr + 2048)
        return false;
    const uint8_t *env = p + e->hdr;
    for (int i = 0; i < VTX_R_COUNT; i++)
        if (rd64(env, ENV_REGS + 8 * (size_t)i) != 0x5a17c0de00000000ull + (uint64_t)i * 0x1010101ull)
            return false;
    if (rd64(env, ENV_EIP) != 0x5a17c0de77770000ull || rd64(env, ENV_SEGS + 4 * SEG_SZ + 8) != 0xf5f5c0de0000ull ||
        rd64(env, ENV_CR + 24) != 0x3c3c3000ull || rd64(env, ENV_GDT + 8) != 0x6d6dc0de000ull ||
        rd32(env, ENV_GDT + 16) != 0x1237 || rd32(env, ENV_TR) != 0x28 || rd64(env, ENV_TR + 8) != 0x7a7ac0de000ull ||
        rd32(env, ENV_TR + 16) != 0x67 || rd32(env, ENV_TR + 20) != 0x8b00)
        return false;
    uint32_t hf = rd32(env, ENV_HFLAGS);
    if ((hf & (HF_LMA | HF_CS64 | HF_PE)) != (HF_LMA | HF_CS64 | HF_PE))
        return false;
    if ((rd64(env, ENV_EFER) & 0x500) != 0x500 || rd64(env, ENV_EFER) > 0xffff)
        return false;
    e->off_dr = 0;
    for (size_t off = ENV_EFER + 8; off + 32 <= csize - e->hdr; off += 8)
        if (rd64(env, off) == 0xd0d0c0de00000000ull && rd64(env, off + 8) == 0xd0d0c0de00000001ull &&
            rd64(env, off + 16) == 0xd0d0c0de00000002ull && rd64(env, off + 24) == 0xd0d0c0de00000003ull) {
            e->off_dr = off;
            break;
        }
    if (!e->off_dr || (int32_t)rd32(env, e->off_dr + DR_OLD_EXCEPTION) != -1)
        return false;
    v = 0;
    for (int i = 0; i < 4; i++)
        uc_reg_write(uc, UC_X86_REG_DR0 + i, &v);
    return true;
}

/* ---- live state (see "Live state" above) ---- */
typedef struct span { uintptr_t lo, hi; } span;
typedef struct maps { span s[512]; size_t n; } maps;

/* The readable mappings of this process. */
static bool maps_load(maps *mp)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    mp->n = 0;
    if (!f)
        return false;
    while (mp->n < sizeof mp->s / sizeof mp->s[0] && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perm[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3 && perm[0] == 'r')
            mp->s[mp->n++] = (span){lo, hi};
    }
    fclose(f);
    return mp->n > 0;
}

static bool readable(const maps *mp, uintptr_t a, size_t len)
{
    for (size_t i = 0; i < mp->n; i++)
        if (a >= mp->s[i].lo && a + len >= a && a + len <= mp->s[i].hi)
            return true;
    return false;
}

/* Reads of Unicorn's memory at addresses not yet known to be objects (bounded by
 * readable() instead): not instrumented, so that a sanitizer build does not take
 * a look past an allocation for an overflow. */
__attribute__((no_sanitize_address)) static uint64_t raw64(uintptr_t a) { return *(const volatile uint64_t *)a; }

__attribute__((no_sanitize_address)) static bool raw_equal(uintptr_t a, const uint8_t *b, size_t n)
{
    const volatile uint8_t *p = (const volatile uint8_t *)a;
    for (size_t i = 0; i < n; i++)
        if (p[i] != b[i])
            return false;
    return true;
}

/* `cand` is Unicorn's CPUX86State: it holds what e->ctx (saved just before)
 * holds, and RAX written through the API appears there. */
static bool live_is_env(vtx_engine *e, const maps *mp, uintptr_t cand, size_t csize)
{
    const uint8_t *data = (const uint8_t *)e->ctx + e->hdr;
    if (!cand || (cand & 7) || !readable(mp, cand, csize) || !raw_equal(cand, data, 64) ||
        !raw_equal(cand, data, csize))
        return false;
    uint64_t old = 0, mark = 0x11fec0de5a5a0000ull, now;
    if (uc_reg_read(e->uc, UC_X86_REG_RAX, &old) != UC_ERR_OK || uc_reg_write(e->uc, UC_X86_REG_RAX, &mark) != UC_ERR_OK)
        return false;
    now = raw64(cand + ENV_REGS);
    return uc_reg_write(e->uc, UC_X86_REG_RAX, &old) == UC_ERR_OK && now == mark;
}

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static bool live_known;
static size_t live_off_cpu, live_off_ptr; /* uc->cpu in uc_struct; cpu->env_ptr in the CPU object */

void vtx_eng_find_live(vtx_engine *e)
{
    e->live = NULL;
    if (uc_context_save(e->uc, e->ctx) != UC_ERR_OK)
        return;
    /* The context blob (struct uc_context, Unicorn's include/uc_priv.h) is a
     * header, then the CPUX86State (at e->hdr, found by vtx_eng_probe_layout);
     * the header begins with size_t context_size, the state's size. 2.0.1's
     * header is context_size, mode, arch: 16 bytes, the state at 16. 2.1.1 adds
     * int snapshot_level: the state at 20, and sizeof(struct uc_context), which
     * uc_context_size adds to the state's size, is 24 (padded to size_t's
     * alignment). Either way the blob is the header rounded up to 8 plus the
     * state, and the state is what uc_context_save copies from env_ptr. */
    size_t csize = (size_t)rd64((const uint8_t *)e->ctx, 0);
    size_t total = uc_context_size(e->uc), head = (e->hdr + 7) & ~(size_t)7;
    if (csize < 2048 || csize > (1u << 20) || e->hdr < 8 || head + csize != total)
        return;
    static maps mp; /* under live_lock */
    pthread_mutex_lock(&live_lock);
    uintptr_t uc = (uintptr_t)e->uc, found = 0;
    if (maps_load(&mp)) {
        if (live_known && readable(&mp, uc + live_off_cpu, 8)) {
            uintptr_t cpu = raw64(uc + live_off_cpu);
            if (readable(&mp, cpu + live_off_ptr, 8) && live_is_env(e, &mp, raw64(cpu + live_off_ptr), csize))
                found = raw64(cpu + live_off_ptr);
        }
        for (size_t i = 0; !found && i < 8192 && readable(&mp, uc + i, 8); i += 8) {
            uintptr_t cpu = raw64(uc + i);
            if (!cpu || (cpu & 7))
                continue;
            for (size_t j = 0; !found && j < 4096 && readable(&mp, cpu + j, 8); j += 8) {
                uintptr_t env = raw64(cpu + j);
                if (env > cpu && env - cpu < (1u << 20) && live_is_env(e, &mp, env, csize)) {
                    found = env;
                    live_known = true;
                    live_off_cpu = i;
                    live_off_ptr = j;
                }
            }
        }
    }
    pthread_mutex_unlock(&live_lock);
    e->live = (uint8_t *)found;
}

/* ---- state ---- */
static uint32_t compute_hflags(const vtx_cpu_state *s, uint32_t old)
{
    uint32_t hf = old & HF_KEEP;
    uint32_t csf = ar_to_flags(s->seg[VTX_S_CS].ar), ssf = ar_to_flags(s->seg[VTX_S_SS].ar);
    hf |= vtx_cpu_cpl(s) & HF_CPL_MASK;
    if (s->cr0 & VTX_CR0_PE)
        hf |= HF_PE;
    hf |= (uint32_t)((s->cr0 >> 1) & 7) << HF_MP_SHIFT;
    if (s->efer & VTX_EFER_LMA)
        hf |= HF_LMA;
    if ((s->efer & VTX_EFER_LMA) && (csf & VTX_DESC_HI_L))
        hf |= HF_CS32 | HF_CS64;
    else if (csf & VTX_DESC_HI_DB)
        hf |= HF_CS32;
    if (ssf & VTX_DESC_HI_DB)
        hf |= HF_SS32;
    if (!(hf & HF_CS64)) {
        if (!(s->cr0 & VTX_CR0_PE) || (s->rflags & VTX_RFLAGS_VM) || !(hf & HF_CS32))
            hf |= HF_ADDSEG;
        else if (s->seg[VTX_S_DS].base | s->seg[VTX_S_ES].base | s->seg[VTX_S_SS].base)
            hf |= HF_ADDSEG;
    }
    if (s->cr4 & VTX_CR4_OSFXSR)
        hf |= HF_OSFXSR;
    if (s->cr4 & VTX_CR4_SMAP)
        hf |= HF_SMAP;
    return hf;
}

static void put_seg(uint8_t *env, size_t off, const vtx_cpu_seg *sg)
{
    wr32(env, off, sg->sel);
    wr64(env, off + 8, sg->base);
    wr32(env, off + 16, sg->limit);
    wr32(env, off + 20, ar_to_flags(sg->ar));
}

static void get_seg(const vtx_engine *e, const uint8_t *env, size_t off, int i, vtx_cpu_seg *sg)
{
    uint32_t f = rd32(env, off + 20);
    sg->sel = (uint16_t)rd32(env, off);
    sg->base = rd64(env, off + 8);
    sg->limit = rd32(env, off + 16);
    sg->ar = f == e->seg_flags_set[i] ? e->seg_ar_set[i] : flags_to_ar(f);
}

/* a and b differ at most in the GPRs, RIP, RFLAGS (not in RFLAGS.VM, which is
 * part of the mode) and CR8 (kept by the engine, not by Unicorn). */
static bool only_regs_differ(const vtx_cpu_state *a, const vtx_cpu_state *b)
{
    if (((a->rflags ^ b->rflags) & VTX_RFLAGS_VM) || a->cr0 != b->cr0 || a->cr2 != b->cr2 || a->cr3 != b->cr3 ||
        a->cr4 != b->cr4 || a->efer != b->efer || a->dr7 != b->dr7 || a->dr6 != b->dr6 || memcmp(a->dr, b->dr, sizeof a->dr) || a->gdtr_base != b->gdtr_base ||
        a->idtr_base != b->idtr_base || a->gdtr_limit != b->gdtr_limit || a->idtr_limit != b->idtr_limit)
        return false;
    for (int i = 0; i < VTX_S_COUNT; i++)
        if (a->seg[i].sel != b->seg[i].sel || a->seg[i].base != b->seg[i].base ||
            a->seg[i].limit != b->seg[i].limit || a->seg[i].ar != b->seg[i].ar)
            return false;
    return true;
}

_Static_assert(offsetof(vtx_cpu_state, gpr) == 0 && offsetof(vtx_cpu_state, rip) < offsetof(vtx_cpu_state, cr0) &&
                   offsetof(vtx_cpu_state, rflags) + 8 == offsetof(vtx_cpu_state, cr0),
               "the registers a VM entry after an exit changes come first in vtx_cpu_state");

int vtx_engine_set_state(vtx_engine *e, const vtx_cpu_state *s, const char **why)
{
    return vtx_engine_set_state_tlb(e, s, false, why);
}

int vtx_engine_set_state_tlb(vtx_engine *e, const vtx_cpu_state *s, bool tlb_kept, const char **why)
{
    const char *w = NULL;
    if (!e || !s)
        w = "no engine or state";
    else if (e->broken)
        w = "the engine is broken (Unicorn aborted in an earlier run)";
    else if ((s->efer & VTX_EFER_LMA) && (!(s->cr0 & VTX_CR0_PE) || ((s->cr0 & VTX_CR0_PG) && !(s->cr4 & VTX_CR4_PAE))))
        w = "EFER.LMA=1 needs CR0.PE=1, and CR4.PAE=1 when CR0.PG=1";
    else if ((s->efer & VTX_EFER_LMA) && (s->rflags & VTX_RFLAGS_VM))
        w = "RFLAGS.VM=1 in IA-32e mode";
    else if (vtx_cpu_mode_of(s) == VTX_MODE_LONG64 && s->seg[VTX_S_CS].base)
        w = "CS.base != 0 in 64-bit mode: QEMU adds CS.base to RIP in every mode";
    else if (vtx_cpu_mode_of(s) != VTX_MODE_LONG64 && (s->rip >> 32))
        w = "RIP bits 63:32 set outside 64-bit mode";
    else
        w = vtx_eng_check_identity_paging(e, s, tlb_kept);
    if (w) {
        if (why)
            *why = w;
        return -1;
    }
    if (e->held_valid && only_regs_differ(&e->held, s)) {
        /* A VM entry after an exit with RIP (and perhaps GPRs or RFLAGS) changed:
         * no context copies (see `held`). With the live state the GPRs and RIP
         * are written in place, as the register API would write them (RIP is
         * written again by uc_emu_start); RFLAGS goes through the API (QEMU keeps
         * the arithmetic flags apart). */
        if (e->live) {
            for (int i = 0; i < VTX_R_COUNT; i++)
                wr64(e->live, ENV_REGS + 8 * (size_t)i, s->gpr[i]);
            wr64(e->live, ENV_EIP, s->rip);
        } else {
            for (int i = 0; i < VTX_R_COUNT; i++)
                if (s->gpr[i] != e->held.gpr[i] && uc_reg_write(e->uc, gpr_ids[i], &s->gpr[i]) != UC_ERR_OK)
                    goto write_failed;
            if (s->rip != e->held.rip && uc_reg_write(e->uc, UC_X86_REG_RIP, &s->rip) != UC_ERR_OK)
                goto write_failed;
        }
        if (s->rflags != e->held.rflags && uc_reg_write(e->uc, UC_X86_REG_RFLAGS, &s->rflags) != UC_ERR_OK)
            goto write_failed;
        e->cr8 = s->cr8;
        /* only what can differ: the GPRs, RIP and RFLAGS (together at the start) and CR8 */
        vtx_bulk_copy(&e->held, s, offsetof(vtx_cpu_state, cr0));
        e->held.cr8 = s->cr8;
        e->held_exact = false;
        e->ctx_fresh = false;
        return 0;
    write_failed:
        e->held_valid = false; /* the full load below writes everything */
    }
    e->again.on = false; /* the mode, privilege or segments may change: a run must fetch again */
    if (!e->live && uc_context_save(e->uc, e->ctx) != UC_ERR_OK) {
        if (why)
            *why = "uc_context_save failed";
        return -1;
    }
    uint8_t *env = env_of(e);
    for (int i = 0; i < VTX_R_COUNT; i++)
        wr64(env, ENV_REGS + 8 * (size_t)i, s->gpr[i]);
    wr64(env, ENV_EIP, s->rip);
    wr32(env, ENV_HFLAGS, compute_hflags(s, rd32(env, ENV_HFLAGS)));
    for (int i = 0; i < 6; i++) {
        put_seg(env, ENV_SEGS + (size_t)i * SEG_SZ, &s->seg[i]);
        e->seg_flags_set[i] = ar_to_flags(s->seg[i].ar);
        e->seg_ar_set[i] = s->seg[i].ar;
    }
    put_seg(env, ENV_LDT, &s->seg[VTX_S_LDTR]);
    put_seg(env, ENV_TR, &s->seg[VTX_S_TR]);
    for (int i = VTX_S_LDTR; i <= VTX_S_TR; i++) {
        e->seg_flags_set[i] = ar_to_flags(s->seg[i].ar);
        e->seg_ar_set[i] = s->seg[i].ar;
    }
    wr64(env, ENV_GDT + 8, s->gdtr_base);
    wr32(env, ENV_GDT + 16, s->gdtr_limit);
    wr64(env, ENV_IDT + 8, s->idtr_base);
    wr32(env, ENV_IDT + 16, s->idtr_limit);
    wr64(env, ENV_CR, s->cr0);
    wr64(env, ENV_CR + 16, s->cr2);
    wr64(env, ENV_CR + 24, s->cr3);
    wr64(env, ENV_CR + 32, s->cr4);
    wr64(env, ENV_EFER, s->efer);
    wr64(env, e->off_dr + 7 * 8, s->dr7);
    wr64(env, e->off_dr + 6 * 8, s->dr6);
    for (int i = 0; i < 4; i++) /* written here, never through MOV DR: no breakpoint gets armed */
        wr64(env, e->off_dr + (size_t)i * 8, s->dr[i]);
    wr32(env, e->off_dr + DR_OLD_EXCEPTION, (uint32_t)-1);
    uint64_t rf = s->rflags;
    if ((!e->live && uc_context_restore(e->uc, e->ctx) != UC_ERR_OK) ||
        uc_reg_write(e->uc, UC_X86_REG_RFLAGS, &rf) != UC_ERR_OK) {
        if (why)
            *why = "uc_context_restore failed";
        return -1;
    }
    bool flush = vtx_eng_paging_key_changed(e, s->cr0, s->cr3, s->cr4, s->efer) != 0;
    e->cr8 = s->cr8;
    /* e->ctx is what Unicorn now holds but for RFLAGS (written through the API,
     * which absorb does not read): no second save. */
    absorb(e);
    e->ctx_fresh = false;
    vtx_bulk_copy(&e->held, s, sizeof *s);
    e->held_exact = false;
    e->held_valid = true;
    if (flush)
        vtx_eng_flush_tlb(e);
    return 0;
}

int vtx_engine_get_state(vtx_engine *e, vtx_cpu_state *s)
{
    if (!e || !s || e->broken)
        return -1;
    if (e->held_valid && e->held_exact) {
        vtx_bulk_copy(s, &e->held, sizeof *s); /* read since, and nothing ran */
        return 0;
    }
    if (!e->ctx_fresh && !vtx_eng_save_absorb(e))
        return -1;
    /* From the lazy flags in the live state (ENG-FL-1), else through the API
     * (which computes them the same way: 2-3 % of an exit round trip). */
    uint64_t rf = 0;
    if (!(e->flags_live && rflags_live(e, &rf)) && uc_reg_read(e->uc, UC_X86_REG_RFLAGS, &rf) != UC_ERR_OK)
        return -1;
    const uint8_t *env = env_of(e);
    /* every field is assigned below (no memset: 4 % of an exit round trip) */
    for (int i = 0; i < VTX_R_COUNT; i++)
        s->gpr[i] = rd64(env, ENV_REGS + 8 * (size_t)i);
    s->rip = rd64(env, ENV_EIP);
    s->rflags = rf;
    for (int i = 0; i < 6; i++)
        get_seg(e, env, ENV_SEGS + (size_t)i * SEG_SZ, i, &s->seg[i]);
    get_seg(e, env, ENV_LDT, VTX_S_LDTR, &s->seg[VTX_S_LDTR]);
    get_seg(e, env, ENV_TR, VTX_S_TR, &s->seg[VTX_S_TR]);
    s->gdtr_base = rd64(env, ENV_GDT + 8);
    s->gdtr_limit = rd32(env, ENV_GDT + 16);
    s->idtr_base = rd64(env, ENV_IDT + 8);
    s->idtr_limit = rd32(env, ENV_IDT + 16);
    s->cr0 = rd64(env, ENV_CR);
    s->cr2 = rd64(env, ENV_CR + 16);
    s->cr3 = rd64(env, ENV_CR + 24);
    s->cr4 = rd64(env, ENV_CR + 32);
    s->cr8 = e->cr8;
    s->efer = rd64(env, ENV_EFER);
    s->dr7 = rd64(env, e->off_dr + 7 * 8);
    s->dr6 = rd64(env, e->off_dr + 6 * 8);
    for (int i = 0; i < 4; i++)
        s->dr[i] = rd64(env, e->off_dr + (size_t)i * 8);
    vtx_bulk_copy(&e->held, s, sizeof *s);
    e->held_exact = true;
    e->held_valid = true;
    return 0;
}
