/*
 * Executing guest instructions in VMX non-root operation on the cpu/ engine.
 *
 * The engine runs guest code in chunks and stops BEFORE every instruction the
 * model must see: those that can cause a VM exit, those that change
 * interruptibility (STI, MOV SS, POP SS, POPF, IRET), HLT, software interrupts,
 * and those whose results the model owns (RDTSC, MOV from CR0/CR4, I/O). The
 * model handles each of them one at a time (exec_insn.c); everything in between is
 * ordinary computation with no event boundary that could differ. While a
 * shadow is live, an MTF is armed or the timer is about to expire, the engine
 * runs exactly as many instructions as keep every boundary exact.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "apic_virt.h"
#include "execute.h"
#include "guest_insn.h"
#include "insn_table.h"
#include "msr.h"
#include "mtf.h"
#include "nmi_blocking.h"
#include "pending_debug.h"
#include "shadows.h"
#include "task_switch.h"
#include "../cpu/seg_accessed.h"

void vtx_execute_release(vtx_machine *m)
{
    if (m->engine)
        vtx_engine_destroy(m->engine);
    m->engine = NULL;
    m->mmio_on_engine = false;
}

vtx_step vtx_step_stop(vtx_insn_result *r, vtx_status *st, vtx_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    r->outcome = VTX_GUEST_STOPPED;
    *st = code;
    return VTX_STEP_STOP;
}

/* Create the engine over the machine's memory (again, when the map changed),
 * and load the guest state into it when the model changed it. */
bool vtx_engine_make(vtx_machine *m, const char **why)
{
    /* A new engine when the memory map changed, or after Unicorn aborted in the
     * old one (engine.h, vtx_engine_broken). */
    if (m->engine && (m->engine_gen != m->regions_gen || vtx_engine_broken(m->engine)))
        vtx_execute_release(m);
    if (!m->engine) {
        vtx_engine_region *rg = calloc(m->n_regions ? m->n_regions : 1, sizeof *rg);
        if (!rg) {
            *why = "out of memory";
            return false;
        }
        for (size_t i = 0; i < m->n_regions; i++)
            rg[i] = (vtx_engine_region){m->regions[i].pa, m->regions[i].size, m->regions[i].host};
        int rc = vtx_engine_create(&m->engine, rg, m->n_regions, &m->phys);
        free(rg);
        if (rc != 0) {
            m->engine = NULL;
            *why = "the execution engine could not be created";
            return false;
        }
        m->engine_gen = m->regions_gen;
        m->engine_dirty = true;
        m->engine_xl_on = false;
        m->mmio_on_engine = false;
    }
    /* EPT-W-1: with EPT every access of the engine goes through the EPT walk. */
    if (m->ept_on != m->engine_xl_on) {
        if (vtx_engine_set_xlate(m->engine, m->ept_on ? vtx_ept_engine_xlate(m) : NULL) != 0) {
            *why = "the execution engine cannot translate through the EPT";
            return false;
        }
        m->engine_xl_on = m->ept_on;
    }
    if (!vtx_bus_engine_setup(m)) {
        *why = "the bus's MMIO window could not be mapped";
        return false;
    }
    return true;
}

bool vtx_engine_ready(vtx_machine *m, const char **why)
{
    if (!vtx_engine_make(m, why))
        return false;
    if (m->engine_dirty) {
        if (vtx_engine_set_state_tlb(m->engine, &m->g.cpu, vtx_tlb_kept(m), why) != 0) /* PG-9 */
            return false;
        m->engine_dirty = false;
    }
    return true;
}


/* Instructions of one class retired: they cost their class's cycles; the shadow
 * of the previous one is over (BLK-STI-2, BLK-MSS-5; shadows.h); with the monitor
 * trap flag, an MTF exit is pending (MTF-4; mtf.h). A run of plain computation is
 * class OTHER (CLI, which the engine runs among it, costs the same). */
void vtx_retired(vtx_machine *m, uint64_t n, vtx_insn_class cls)
{
    if (!n)
        return;
    m->instructions += n;
    m->cycles += n * m->costs.by_class[cls == VTX_IC_CLI ? VTX_IC_OTHER : cls];
    vtx_shadows_end(&m->g);
    vtx_mtf_after(m);
    /* RF is cleared when an instruction completes, except by IRET, which loads
     * it (SDM Vol. 3A "Debug Exceptions", RF); Unicorn leaves it set. */
    if ((m->g.cpu.rflags & VTX_RFLAGS_RF) && cls != VTX_IC_IRET) {
        m->g.cpu.rflags &= ~VTX_RFLAGS_RF;
        m->engine_dirty = true;
    }
}

/* An exception raised by a guest instruction (or a trap after it). */
vtx_step vtx_raise_exception(vtx_machine *m, uint8_t vector, vtx_event_type type, bool has_err, uint32_t err,
                             uint64_t pf_addr, uint8_t insn_len, vtx_exit_info *ex, vtx_insn_result *r,
                             vtx_status *st)
{
    bool pe = m->g.cpu.cr0 & 1;
    if (!pe)
        has_err = false; /* no error codes in real mode (EXIT-4) */
    if (vtx_exception_exits(m, vector, err)) {
        *ex = (vtx_exit_info){
            .reason = VTX_EXIT_REASON_EXCEPTION_NMI,
            .qualification = vector == 14 ? pf_addr : 0,
            .intr_info = vtx_intr_info(vector, type, has_err),
            .intr_error = has_err ? err : 0,
            .instruction_len = type >= VTX_EVT_SW_INT ? insn_len : 0,
        };
        return VTX_STEP_EXIT; /* a #PF that exits does not write CR2 */
    }
    if (vector == 14) {
        m->g.cpu.cr2 = pf_addr;
        m->engine_dirty = true;
    }
    vtx_delivery d = {.vector = vector, .type = type, .has_error_code = has_err, .error_code = err, .insn_len = insn_len,
                      .push_rf = type == VTX_EVT_HW_EXC && vtx_exception_is_fault(vector)};
    return vtx_deliver_event(m, d, ex, r, st);
}

/* The accessed bits of the descriptors the engine loaded (seg_accessed.h). */
static void mark_accessed(vtx_machine *m)
{
    if (!vtx_seg_accessed_pending(&m->g.cpu))
        return;
    const vtx_paging_caps caps = vtx_guest_caps(m);
    if (vtx_seg_set_accessed(&m->g.cpu, vtx_gmem(m), &caps))
        m->engine_dirty = true;
}

/* Step the engine over exactly the instruction at RIP (which the model has
 * looked at), leaving the stop information in *s. */
int vtx_step_one(vtx_machine *m, vtx_stop *s)
{
    vtx_class_set none = {0};
    m->dr6_before_run = m->g.cpu.dr6;
    int rc = vtx_engine_run(m->engine, 1, none, true, s);
    vtx_engine_get_state(m->engine, &m->g.cpu);
    mark_accessed(m);
    return rc;
}

vtx_step vtx_step_engine(vtx_machine *m, vtx_insn_class cls, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st)
{
    vtx_stop s;
    if (vtx_step_one(m, &s) != 0 || s.reason != VTX_STOP_COUNT || s.retired != 1)
        return vtx_step_after(m, &s, cls, ex, r, st);
    vtx_retired(m, 1, cls);
    return VTX_STEP_CONTINUE;
}

vtx_step vtx_step_retire(vtx_machine *m, const vtx_insn *insn, bool *retired_one, vtx_exit_info *ex,
                         vtx_insn_result *r, vtx_status *st)
{
    vtx_stop s;
    int rc = vtx_step_one(m, &s);
    *retired_one = true;
    if (rc == 0 && s.reason == VTX_STOP_EXCEPTION && s.vector == 1 && s.trap && s.retired == 1) {
        /* It retired, then its single-step #DB trap: a pending #DB (after_engine). */
        (void)vtx_step_after(m, &s, (vtx_insn_class)insn->cls, ex, r, st);
        return VTX_STEP_CONTINUE;
    }
    if (rc != 0 || s.reason != VTX_STOP_COUNT || s.retired != 1) {
        vtx_step next = vtx_step_after(m, &s, (vtx_insn_class)insn->cls, ex, r, st);
        *retired_one = next == VTX_STEP_CONTINUE && s.retired == 1;
        return next;
    }
    vtx_retired(m, 1, (vtx_insn_class)insn->cls);
    return VTX_STEP_CONTINUE;
}

/* Turn an engine stop (other than BEFORE) into the model's next step. */
vtx_step vtx_step_after(vtx_machine *m, const vtx_stop *s, vtx_insn_class cls, vtx_exit_info *ex,
                        vtx_insn_result *r, vtx_status *st)
{
    vtx_guest *g = &m->g;
    switch (s->reason) {
    case VTX_STOP_COUNT:
        vtx_retired(m, s->retired, cls);
        return VTX_STEP_CONTINUE;
    case VTX_STOP_HLT:
        vtx_retired(m, s->retired, cls);
        g->activity = VTX_HLT;
        return VTX_STEP_CONTINUE;
    case VTX_STOP_EXCEPTION: {
        /* A trap retires its instruction; a fault does not. */
        vtx_retired(m, s->retired, cls);
        if (s->vector == 1 && s->trap) {
            /* Single-step: a pending #DB trap, taken at the next boundary unless
             * MOV-SS blocking holds it (BLK-MSS-1, PRI-5). DR6 is written when it is
             * delivered, not if it exits (run.c): undo Unicorn's DR6.BS. */
            vtx_pending_db_single_step(g); /* BS, after an instruction the engine ran */
            if (g->cpu.dr6 != m->dr6_before_run) {
                g->cpu.dr6 = m->dr6_before_run;
                m->engine_dirty = true;
            }
            return VTX_STEP_CONTINUE;
        }
        /* PRI-1: a fault of an instruction after others of this run retired (the
         * engine went on to fetch it) comes after the boundary before it, where an
         * interrupt or a VMX event may win: the fault is discarded here and recurs
         * when that instruction runs. */
        if (!s->trap && s->retired) {
            /* EXEC-FLT-1: when nothing wins there either, the fault is raised as it
             * came (vtx_execute), not by running the instruction again: a second
             * run may fetch it through another translation (Unicorn's TLB may have
             * been flushed since, by the engine's own map changes, ENG-NC-2), and
             * a guest that broke its page tables would fault otherwise; the
             * per-instruction path, which evaluated that boundary inside the run,
             * raises this one. */
            m->fault_again = true;
            m->fault_again_stop = *s;
            m->fault_again_stop.retired = 0;
            m->fault_again_rip = m->g.cpu.rip;
            m->fault_again_insns = m->instructions;
            return VTX_STEP_CONTINUE;
        }
        /* An exception that exits directly leaves blocking by STI / MOV SS as it was
         * (BLK-STI-8; delivery drops it), except #MF (BLK-SAVE-2, x87_error.c). */
        if (s->vector == 16 && vtx_x87_error_yields(m))
            return VTX_STEP_CONTINUE;
        vtx_step res = vtx_raise_exception(m, s->vector, VTX_EVT_HW_EXC, s->has_error_code, s->error_code, s->address, 0,
                                       ex, r, st);
        /* VNMI-7, VNMI-9: an IRET that faults and exits reports "NMI unblocking due to IRET". */
        if (res == VTX_STEP_EXIT)
            vtx_nmi_iret_fault_exit(m, s->vector, ex);
        return res;
    }
    case VTX_STOP_XLATE: {
        /* EPT-V-4: the access the EPT refused did not happen; the instruction
         * does not complete (RIP stays on it). As for a fault (PRI-1), one after
         * others of this run retired recurs when it runs first. */
        vtx_retired(m, s->retired, cls);
        if (s->retired) {
            m->ept_fault.pending = false;
            return VTX_STEP_CONTINUE;
        }
        if (!vtx_ept_fault_exit(m, s->address, ex)) {
            const vtx_ept_fault *f = &m->ept_fault;
            return vtx_step_stop(r, st, VTX_ERR_UNMAPPED,
                                 "the EPT paging-structure entry at host-physical address 0x%llx (for "
                                 "guest-physical 0x%llx) is not in memory (RIP 0x%llx)",
                                 (unsigned long long)f->entry_pa, (unsigned long long)f->gpa,
                                 (unsigned long long)g->cpu.rip);
        }
        return VTX_STEP_EXIT;
    }
    case VTX_STOP_UNMAPPED:
        vtx_retired(m, s->retired, cls);
        m->guest_inexact = s->inexact; /* ENG-UNM-1 */
        return vtx_step_stop(r, st, VTX_ERR_UNMAPPED,
                    "the guest accessed guest-physical address 0x%llx, which is not mapped (RIP 0x%llx%s)",
                    (unsigned long long)s->address, (unsigned long long)g->cpu.rip,
                    s->inexact ? ", where Unicorn left it in the block holding the access: the stop is not exact" : "");
    case VTX_STOP_ERROR:
    default:
        vtx_retired(m, s->retired, cls);
        return vtx_step_stop(r, st, VTX_ERR_UNSUPPORTED, "the execution engine failed at RIP 0x%llx: %s",
                    (unsigned long long)g->cpu.rip, s->why ? s->why : "unknown error");
    case VTX_STOP_BEFORE:
        /* Instructions retired before the stop end at a boundary of their own,
         * which the caller evaluates first; the model's instruction waits for the
         * next step (it is then the first one, with nothing retired before it). */
        if (s->retired) {
            vtx_retired(m, s->retired, cls);
            return VTX_STEP_CONTINUE;
        }
        return vtx_exec_insn(m, s->insn, ex, r, st);
    }
}

/* The classes the engine must stop before: everything but plain computation and CLI. */
static vtx_class_set model_classes(void)
{
    /* A constant: every class bit below VTX_IC_COUNT except OTHER and CLI. */
    _Static_assert(VTX_IC_COUNT <= 64, "vtx_class_set holds 64 classes");
    const uint64_t all = VTX_IC_COUNT == 64 ? ~0ull : (1ull << VTX_IC_COUNT) - 1;
    return (vtx_class_set){all & ~((1ull << VTX_IC_OTHER) | (1ull << VTX_IC_CLI))};
}

/*
 * With an observer installed every boundary is evaluated and reported. Those
 * inside a run of plain computation are evaluated here, in the engine's
 * per-instruction hook, without stopping Unicorn: the instruction before the
 * boundary retired (it was plain computation or CLI: the model's classes stop
 * the run before they execute), so the boundary sees exactly what the run loop
 * would see. A boundary where anything but "execute" wins stops the run, and
 * the run loop evaluates it again, takes the event and reports it (this one is
 * not reported twice). Platform inputs never fall due inside a run (the run's
 * budget ends there).
 */
/* Everything the verdicts of a boundary inside a run depend on that can change
 * inside the run: the controls and the activity state stay as they are; IF,
 * the shadows, the pending flags and the timer may change (the observer itself
 * may raise an input). A boundary with the same key has the same verdicts as
 * the last one. The key holds those fields as they lie in memory, a few of
 * their neighbours with them (which only makes it stricter: a difference there
 * costs an evaluation): a handful of loads, at every boundary of an observed
 * run. */
#define KEY_G_AT offsetof(vtx_guest, pending_dbg)
#define KEY_M_AT offsetof(vtx_machine, nmi_pending)
#define KEY_IN(at, n, type, f) (offsetof(type, f) >= (at) && offsetof(type, f) + sizeof(((type *)0)->f) <= (at) + (n))
_Static_assert(KEY_IN(KEY_G_AT, 24, vtx_guest, block_sti) && KEY_IN(KEY_G_AT, 24, vtx_guest, block_movss) &&
                   KEY_IN(KEY_G_AT, 24, vtx_guest, block_nmi) && KEY_IN(KEY_G_AT, 24, vtx_guest, mtf_pending) &&
                   KEY_IN(KEY_G_AT, 24, vtx_guest, pending_dbg) && KEY_IN(KEY_G_AT, 24, vtx_guest, timer_armed) &&
                   offsetof(vtx_guest, timer_deadline) >= KEY_G_AT + 24,
               "the guest's event state the key reads lies in 24 bytes from pending_dbg");
_Static_assert(KEY_IN(KEY_M_AT, 8, vtx_machine, intr_line) && KEY_IN(KEY_M_AT, 8, vtx_machine, init_pending) &&
                   KEY_IN(KEY_M_AT, 8, vtx_machine, sipi_pending) &&
                   offsetof(vtx_machine, scheduled) >= KEY_M_AT + 8,
               "the platform inputs the key reads lie in 8 bytes from nmi_pending");
static inline void memo_key(const vtx_machine *m, uint64_t rflags, uint64_t k[5])
{
    const uint8_t *g = (const uint8_t *)&m->g + KEY_G_AT;
    k[0] = (rflags & VTX_RFLAGS_IF) | (uint64_t)vtx_timer_expired(m);
    memcpy(&k[1], g, 8);
    memcpy(&k[2], g + 8, 8);
    memcpy(&k[3], g + 16, 8);
    memcpy(&k[4], (const uint8_t *)m + KEY_M_AT, 8);
}

/* rflags: RFLAGS at the boundary (the guest state's copy is not kept up to
 * date on the memo's path, boundary_in_run). The four words of event state
 * are compared as two 16-byte vectors (the key is compared at every boundary
 * of an observed run). */
typedef uint64_t memo_v2 __attribute__((vector_size(16), aligned(1), may_alias));
static inline bool memo_hit(const vtx_machine *m, uint64_t rflags)
{
    const uint8_t *g = (const uint8_t *)&m->g + KEY_G_AT;
    uint64_t g2, in;
    memcpy(&g2, g + 16, 8);
    memcpy(&in, (const uint8_t *)m + KEY_M_AT, 8);
    const memo_v2 a = *(const memo_v2 *)g ^ *(const memo_v2 *)&m->memo_key[1];
    const memo_v2 b = (memo_v2){g2, in} ^ *(const memo_v2 *)&m->memo_key[3];
    const memo_v2 d = a | b;
    const uint64_t k0 = (rflags & VTX_RFLAGS_IF) | (uint64_t)vtx_timer_expired(m);
    return ((d[0] | d[1]) | (k0 ^ m->memo_key[0])) == 0;
}

/* The boundary at rip inside a run, its instruction retired: evaluated (or its
 * verdicts taken from the memo) and reported; or the run stops there. */
static __attribute__((noinline)) void boundary_in_run_eval(vtx_machine *m, uint64_t rip)
{
    if (!m->observer) {
        vtx_engine_stop_at_boundary(m->engine);
        return;
    }
    if (m->memo_valid && memo_hit(m, m->g.cpu.rflags)) {
        vtx_boundary_report *rep = &m->memo_rep;
        rep->rip = rip;
        rep->rflags = m->g.cpu.rflags;
        rep->cycle = m->cycles;
        rep->instructions = m->instructions;
        m->observer(m->observer_user, rep);
        return;
    }
    uint64_t key[5];
    memo_key(m, m->g.cpu.rflags, key); /* what the evaluation sees */
    vtx_boundary_report rep;
    vtx_exit_info ex;
    vtx_boundary_evaluate(m, false, &rep, &ex);
    if (rep.action != VTX_ACT_EXECUTE) {
        vtx_engine_stop_at_boundary(m->engine);
        return;
    }
    m->memo_rep = rep;
    memcpy(m->memo_key, key, sizeof key);
    /* With RF set the next boundary takes retired() (RF is cleared when an
     * instruction completes); RF does not change inside a run (the model
     * steps IRET and POPF), so the memo's path need not test it. */
    m->memo_valid = !(m->g.cpu.rflags & VTX_RFLAGS_RF);
    m->observer(m->observer_user, &rep);
}

/*
 * With an observer installed every boundary is evaluated and reported. Those
 * inside a run of plain computation are evaluated here, in the engine's
 * per-instruction hook, without stopping Unicorn: the instruction before the
 * boundary retired (it was plain computation or CLI: the model's classes stop
 * the run before they execute), so the boundary sees exactly what the run loop
 * would see. A boundary where anything but "execute" wins stops the run, and
 * the run loop evaluates it again, takes the event and reports it (this one is
 * not reported twice). Platform inputs never fall due inside a run (the run's
 * budget ends there). The common case (the verdicts of the last boundary, the
 * observer called last: a tail call) is kept free of calls before it.
 */
static void boundary_in_run(void *user, uint64_t rip, uint64_t rflags)
{
    vtx_machine *m = user;
    vtx_guest *g = &m->g;
    if (__builtin_expect(m->memo_valid, 1)) {
        /* A boundary of this run was evaluated since its first instruction
         * retired (retired() then ended the shadows and, with the monitor trap
         * flag, made an MTF exit pending; nothing inside a run starts a shadow or
         * clears that, and the controls do not change): retiring one more
         * instruction only counts it. (The memo is not valid while RF is set:
         * boundary_in_run_eval.) The guest state's RIP and RFLAGS are written only
         * where the boundary is evaluated: nothing reads them inside the run
         * but the evaluation, and the state is read back from the engine after
         * it (the instructions retired here are m->instructions less
         * m->run_instructions, see vtx_execute). */
        m->instructions++;
        m->cycles += m->costs.by_class[VTX_IC_OTHER];
        if (__builtin_expect(memo_hit(m, rflags), 1)) {
            vtx_boundary_report *rep = &m->memo_rep;
            rep->rip = rip;
            rep->rflags = rflags;
            rep->cycle = m->cycles;
            rep->instructions = m->instructions;
            m->observer(m->observer_user, rep);
            return;
        }
        g->cpu.rip = rip;
        g->cpu.rflags = rflags;
        boundary_in_run_eval(m, rip);
        return;
    }
    vtx_retired(m, 1, VTX_IC_OTHER);
    g->cpu.rip = rip;
    g->cpu.rflags = rflags;
    boundary_in_run_eval(m, rip);
}

vtx_step vtx_execute(vtx_machine *m, uint64_t budget, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st)
{
    const char *why = NULL;
    bool skip = m->exec_skip_first; /* an STI that runs on (shadows.c) */
    m->exec_skip_first = false;
    bool loaded = m->engine_dirty; /* the model changed the guest state since the engine's last stop */
    if (!vtx_engine_ready(m, &why))
        return vtx_step_stop(r, st, VTX_ERR_UNSUPPORTED, "the guest state cannot be executed: %s", why ? why : "unknown");
    vtx_guest *g = &m->g;
    vtx_stop s;
    if (m->fault_again) {
        /* EXEC-FLT-1: the fault put off at this boundary (vtx_step_after), where
         * nothing was delivered, nothing exited and nothing was loaded since */
        m->fault_again = false;
        if (!loaded && !skip && g->cpu.rip == m->fault_again_rip && m->instructions == m->fault_again_insns) {
            s = m->fault_again_stop;
            m->memo_valid = false;
            m->dr6_before_run = g->cpu.dr6;
            m->exec_budget = budget;
            return vtx_step_after(m, &s, VTX_IC_OTHER, ex, r, st);
        }
    }
    if (!loaded && !skip && !m->observer && vtx_engine_stops_at_once(m->engine, model_classes(), &s)) {
        /* ENG-AGAIN-1: the last run stopped before this instruction of the
         * model's classes (it retired the ones before it, whose boundary the run
         * loop has just evaluated) and nothing changed since: the run would stop
         * there again at once. The state is the one read after that run, whose
         * accessed bits were set then (mark_accessed changed nothing, or the
         * state would have been loaded again). */
        m->memo_valid = false; /* no run: vtx_hook_retired is 0 */
        m->dr6_before_run = g->cpu.dr6;
        m->exec_budget = budget;
        return vtx_step_after(m, &s, VTX_IC_OTHER, ex, r, st);
    }
    /* One instruction at a time while the next boundary depends on it: a live
     * shadow while an event is armed (with nothing armed the boundary where the
     * shadow ends executes like any other, and retiring ends the shadow:
     * BLK-STI-2, BLK-MSS-5), the monitor trap flag; and while an observer is
     * installed, which is promised every boundary. Otherwise as many as the budget allows (the
     * caller's budget already stops at the timer deadline and scheduled
     * inputs). The engine runs these on its fast path (a block hook, no
     * per-instruction hook) and still stops before every instruction of the
     * stop set and exactly at the budget, with an exact `retired` count, so
     * the cycle clock and the budgets stay exact. */
    if (!m->observer && (((g->block_sti || g->block_movss) && !vtx_boundary_nothing_armed(m)) ||
                         vtx_mtf_control(m)))
        budget = 1;
    if (g->cpu.rflags & VTX_RFLAGS_RF)
        budget = 1; /* the instruction that clears RF (retired) runs alone */
    /* The boundary function stays installed while the observer is: switching
     * costs Unicorn's translated code. */
    vtx_engine_set_boundary_fn(m->engine, m->observer ? boundary_in_run : NULL, m);
    m->run_instructions = m->instructions;
    m->in_execute_run = true;
    m->memo_valid = false;
    m->dr6_before_run = g->cpu.dr6;
    m->exec_budget = budget;
    vtx_class_set stop_set = model_classes();
    if (vtx_sti_runs_in_run(m)) {
        /* ENG-STI-1: with nothing armed no boundary inside the run can take or
         * block anything, so STI runs inside it (not a run of its own per
         * critical section); only where the run stops does its shadow matter,
         * and the engine reports it (vtx_sti_after_run below). */
        stop_set.bits &= ~(1ull << VTX_IC_STI);
        vtx_engine_watch_sti(m->engine);
    }
    int rc = vtx_engine_run(m->engine, budget, stop_set, skip, &s);
    const uint64_t hook_retired = vtx_hook_retired(m);
    m->in_execute_run = false;
    vtx_engine_get_state(m->engine, &g->cpu);
    mark_accessed(m); /* far RET and segment loads run among plain computation */
    if (rc != 0 && s.reason != VTX_STOP_ERROR)
        return vtx_step_stop(r, st, VTX_ERR_UNSUPPORTED, "the execution engine failed at RIP 0x%llx",
                    (unsigned long long)g->cpu.rip);
    /* What the boundaries inside the run accounted already is not retired again. */
    bool moved = s.retired != 0;
    s.retired -= hook_retired < s.retired ? hook_retired : s.retired;
    if (moved && (g->cpu.rflags & VTX_RFLAGS_RF)) {
        /* An instruction completed (never an IRET: the model steps those): RF is
         * cleared, also when the boundary hook accounted for it (retired). */
        g->cpu.rflags &= ~VTX_RFLAGS_RF;
        m->engine_dirty = true;
    }
    if (s.reason == VTX_STOP_BOUNDARY || (s.reason == VTX_STOP_BEFORE && moved)) {
        /* A boundary the run loop evaluates next. */
        vtx_retired(m, s.retired, VTX_IC_OTHER);
        vtx_sti_after_run(m, s.sti_shadow);
        return VTX_STEP_CONTINUE;
    }
    vtx_step next = vtx_step_after(m, &s, VTX_IC_OTHER, ex, r, st);
    if (next == VTX_STEP_CONTINUE)
        vtx_sti_after_run(m, s.sti_shadow); /* a budget's end, a fault after the STI (PRI-1) */
    return next;
}
