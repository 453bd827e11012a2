/*
 * Executing guest instructions in VMX non-root operation on the cpu/ engine.
 *
 * The engine runs guest code in chunks and stops BEFORE every instruction the
 * model must see: those that can cause a VM exit, those that change
 * interruptibility (STI, MOV SS, POP SS, POPF, IRET), HLT, software interrupts,
 * and those whose results the model owns (RDTSC, MOV from CR0/CR4, I/O). The
 * model handles each of them here, one at a time; everything in between is
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
static void retired(vtx_machine *m, uint64_t n, vtx_insn_class cls)
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

/* Retire an instruction the model executed itself. */
static void retire_emulated(vtx_machine *m, const vtx_insn *insn)
{
    /* With RFLAGS.TF = 1 a single-step #DB trap follows it, as it follows the
     * instructions the engine executes (SDM Vol. 3A "Single-Step Exception
     * Condition"); HLT keeps the model's HLT handling. */
    if ((m->g.cpu.rflags & VTX_RFLAGS_TF) && insn->cls != VTX_IC_HLT)
        vtx_pending_db_single_step(&m->g);
    m->g.cpu.rip += insn->len;
    m->engine_dirty = true;
    retired(m, 1, (vtx_insn_class)insn->cls);
}


/* An exception raised by a guest instruction (or a trap after it). */
static vtx_step raise_exception(vtx_machine *m, uint8_t vector, vtx_event_type type, bool has_err, uint32_t err,
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

/* The general-detect #DB of a MOV DR with DR7.GD = 1: a fault (RIP stays, RF = 1
 * in the pushed or saved RFLAGS). Through the exception bitmap it exits with BD
 * (bit 13) in the qualification and DR6 untouched (SDM "Exit Qualification for
 * Debug Exceptions"); delivered, it sets DR6.BD, and entering the handler
 * clears DR7.GD (SDM "Debug Control Register (DR7)"). */
static vtx_step general_detect(vtx_machine *m, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st)
{
    vtx_cpu_state *c = &m->g.cpu;
    m->engine_dirty = true;
    if (vtx_exception_exits(m, 1, 0)) {
        *ex = (vtx_exit_info){.reason = VTX_EXIT_REASON_EXCEPTION_NMI, .qualification = 1u << 13,
                              .intr_info = vtx_intr_info(1, VTX_EVT_HW_EXC, false)};
        c->rflags |= 1u << 16; /* EXIT-8: RF as a fault would push it */
        return VTX_STEP_EXIT;
    }
    c->dr6 = (c->dr6 & ~0xFull) | (1u << 13);
    vtx_delivery d = {.vector = 1, .type = VTX_EVT_HW_EXC, .push_rf = true};
    return vtx_deliver_event(m, d, ex, r, st);
}

/* The guest's TSC: the processor's TSC (the cycle clock plus what WRMSR to
 * IA32_TIME_STAMP_COUNTER adjusted, msr.h), scaled and offset as the controls say. */
static uint64_t guest_tsc(const vtx_machine *m)
{
    uint64_t tsc = vtx_msr_tsc(m);
    uint32_t proc = vtx_vmcs32(m, VTX_SLOT_PROC_CONTROLS);
    if ((proc & VTX_PROC_SECONDARY_CONTROLS) && (vtx_vmcs32(m, VTX_SLOT_PROC_CONTROLS2) & VTX_PROC2_TSC_SCALING)) {
        unsigned __int128 p = (unsigned __int128)tsc * vtx_vmcs_get(&m->current->f, VTX_SLOT_TSC_MULTIPLIER);
        tsc = (uint64_t)(p >> 48);
    }
    if (proc & VTX_PROC_TSC_OFFSETTING)
        tsc += vtx_vmcs_get(&m->current->f, VTX_SLOT_TSC_OFFSET);
    return tsc;
}

static void set_gpr_sized(vtx_cpu_state *s, unsigned reg, uint64_t v, unsigned bytes)
{
    uint64_t *r = &s->gpr[reg & 15];
    switch (bytes) {
    case 1: *r = (*r & ~0xFFull) | (v & 0xFF); break;
    case 2: *r = (*r & ~0xFFFFull) | (v & 0xFFFF); break;
    default: *r = (uint32_t)v; break; /* a 32-bit write zero-extends */
    }
}

/* The accessed bits of the descriptors the engine loaded (seg_accessed.h). */
static void mark_accessed(vtx_machine *m)
{
    const vtx_paging_caps caps = vtx_guest_caps(m);
    if (vtx_seg_set_accessed(&m->g.cpu, vtx_gmem(m), &caps))
        m->engine_dirty = true;
}

/* Step the engine over exactly the instruction at RIP (which the model has
 * looked at), leaving the stop information in *s. */
static int step_one(vtx_machine *m, vtx_stop *s)
{
    vtx_class_set none = {0};
    m->dr6_before_run = m->g.cpu.dr6;
    int rc = vtx_engine_run(m->engine, 1, none, true, s);
    vtx_engine_get_state(m->engine, &m->g.cpu);
    mark_accessed(m);
    return rc;
}

static vtx_step after_engine(vtx_machine *m, const vtx_stop *s, vtx_insn_class cls, vtx_exit_info *ex,
                             vtx_insn_result *r, vtx_status *st);

vtx_step vtx_step_engine(vtx_machine *m, vtx_insn_class cls, vtx_exit_info *ex, vtx_insn_result *r, vtx_status *st)
{
    vtx_stop s;
    if (step_one(m, &s) != 0 || s.reason != VTX_STOP_COUNT || s.retired != 1)
        return after_engine(m, &s, cls, ex, r, st);
    retired(m, 1, cls);
    return VTX_STEP_CONTINUE;
}

vtx_step vtx_step_retire(vtx_machine *m, const vtx_insn *insn, bool *retired_one, vtx_exit_info *ex,
                         vtx_insn_result *r, vtx_status *st)
{
    vtx_stop s;
    int rc = step_one(m, &s);
    *retired_one = true;
    if (rc == 0 && s.reason == VTX_STOP_EXCEPTION && s.vector == 1 && s.trap && s.retired == 1) {
        /* It retired, then its single-step #DB trap: a pending #DB (after_engine). */
        (void)after_engine(m, &s, (vtx_insn_class)insn->cls, ex, r, st);
        return VTX_STEP_CONTINUE;
    }
    if (rc != 0 || s.reason != VTX_STOP_COUNT || s.retired != 1) {
        vtx_step next = after_engine(m, &s, (vtx_insn_class)insn->cls, ex, r, st);
        *retired_one = next == VTX_STEP_CONTINUE && s.retired == 1;
        return next;
    }
    retired(m, 1, (vtx_insn_class)insn->cls);
    return VTX_STEP_CONTINUE;
}

/* Would MOV to CR0/CR3/CR4 of this value raise #GP(0)? (SDM Vol. 3 "Control
 * Registers": reserved bits, CR0.PG without PE, NW without CD, CR3 bits beyond
 * the physical-address width, clearing CR4.PAE or CR0.PG in IA-32e mode; CR4
 * bits the processor lacks, as IA32_VMX_CR4_FIXED1 reports them; and "Restrictions
 * on VMX Operation": the CR0/CR4 FIXED0 bits stay 1.) */
static bool cr_value_faults(const vtx_machine *m, unsigned cr, uint64_t v)
{
    const vtx_cpu_state *c = &m->g.cpu;
    bool ia32e = c->efer & VTX_EFER_LMA;
    uint32_t proc = (uint32_t)vtx_vmcs_get(&m->current->f, VTX_SLOT_PROC_CONTROLS);
    bool unrestricted = (proc & VTX_PROC_SECONDARY_CONTROLS) &&
                        (vtx_vmcs_get(&m->current->f, VTX_SLOT_PROC_CONTROLS2) & VTX_PROC2_UNRESTRICTED_GUEST);
    /* VMX operation keeps the FIXED0 bits set (PE and PG are free for an unrestricted guest). */
    uint64_t cr0_fixed0 = m->profile.msr[VTX_CAP_IA32_VMX_CR0_FIXED0] & ~(unrestricted ? (uint64_t)(VTX_CR0_PE | VTX_CR0_PG) : 0);
    switch (cr) {
    case 0:
        return (v >> 32) || ((v & VTX_CR0_PG) && !(v & VTX_CR0_PE)) || ((v & (1u << 29)) && !(v & (1u << 30))) ||
               (ia32e && !(v & VTX_CR0_PG)) || (v & cr0_fixed0) != cr0_fixed0;
    case 3: {
        uint64_t addr = ia32e ? v & ~(1ull << 63) : v; /* bit 63: no-flush with CR4.PCIDE */
        return ia32e ? (addr >> m->profile.phys_addr_width) != 0 : (v >> 32) != 0;
    }
    case 4:
        return (v & ~m->profile.msr[VTX_CAP_IA32_VMX_CR4_FIXED1]) || (ia32e && !(v & VTX_CR4_PAE)) ||
               (v & m->profile.msr[VTX_CAP_IA32_VMX_CR4_FIXED0]) != m->profile.msr[VTX_CAP_IA32_VMX_CR4_FIXED0];
    default:
        return false;
    }
}

/* An instruction the APIC virtualization carried out (apic_virt.h): it retires
 * (a trap-like exit it made pending is taken at the next boundary), or faults. */
static vtx_step vapic_done(vtx_machine *m, const vtx_insn *insn, vtx_vapic_result vr, vtx_exit_info *ex,
                           vtx_insn_result *r, vtx_status *st)
{
    if (vr == VTX_VAPIC_GP)
        return raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
    if (vr == VTX_VAPIC_UNMAPPED)
        return vtx_step_stop(r, st, VTX_ERR_UNMAPPED, "'%s' at RIP 0x%llx: the virtual-APIC page at 0x%llx is not mapped",
                    insn->text, (unsigned long long)m->g.cpu.rip,
                    (unsigned long long)vtx_vmcs_get(&m->current->f, VTX_SLOT_VIRTUAL_APIC_ADDR));
    retire_emulated(m, insn);
    return VTX_STEP_CONTINUE;
}

vtx_step vtx_task_switch_step(vtx_machine *m, const vtx_task_check *tc, const vtx_insn *insn, vtx_exit_info *ex,
                              vtx_insn_result *r, vtx_status *st)
{
    switch (tc->outcome) {
    case VTX_TASK_SWITCH:
        vtx_task_switch_exit(tc, insn, ex);
        return VTX_STEP_EXIT;
    case VTX_TASK_FAULT:
        return raise_exception(m, tc->vector, VTX_EVT_HW_EXC, true, tc->error_code, tc->address, 0, ex, r, st);
    default:
        return vtx_step_stop(r, st, VTX_ERR_UNMAPPED,
                     "the task switch of '%s' at RIP 0x%llx reads guest-physical address 0x%llx, which is not mapped",
                     insn->text, (unsigned long long)m->g.cpu.rip, (unsigned long long)tc->address);
    }
}

/* The model's handling of an instruction the engine stopped before. */
static vtx_step exec_insn(vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex, vtx_insn_result *r,
                          vtx_status *st)
{
    vtx_guest *g = &m->g;
    vtx_cpu_state *c = &g->cpu;

    if (insn->cls == VTX_IC_UD)
        return raise_exception(m, 6, VTX_EVT_HW_EXC, false, 0, 0, 0, ex, r, st);
    /* The instruction table (insn_table.h): #UD where the feature is absent or the
     * secondary control gating it is 0 ("activate secondary controls" = 0 counts
     * as 0), then the privilege faults; both have priority over VM exits (SDM16
     * 25.1.1 "Relative Priority of Faults and VM Exits", 25.3). */
    const vtx_insn_row *row = vtx_insn_row_of(insn);
    m->ept_fault.pending = false;
    switch (vtx_insn_row_pre(m, insn, row)) {
    case VTX_IROW_UD: return raise_exception(m, 6, VTX_EVT_HW_EXC, false, 0, 0, 0, ex, r, st);
    case VTX_IROW_GP:
        /* EPT-V-4: the EPT refused a read of the check itself (the TSS's I/O
         * permission bit map, io_permission.c) */
        if (vtx_ept_fault_exit(m, m->ept_fault.lin, ex))
            return VTX_STEP_EXIT;
        return raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
    case VTX_IROW_GO: break;
    }
    /* LMSW's memory operand is fetched first: its fault has priority over the VM
     * exit that depends on its contents (SDM "Relative Priority of Faults and VM Exits"). */
    uint16_t lmsw_src = 0;
    if (insn->cls == VTX_IC_LMSW) {
        vtx_linear_fault lf;
        if (!vtx_lmsw_source(m, insn, false, &lmsw_src, &lf))
            return lf.kind == VTX_LINEAR_PF
                       ? raise_exception(m, 14, VTX_EVT_HW_EXC, true, lf.error_code, lf.address, 0, ex, r, st)
                   : vtx_ept_fault_exit(m, m->ept_fault.lin, ex) ? VTX_STEP_EXIT /* EPT-V-4 */
                       : vtx_step_stop(r, st, VTX_ERR_UNMAPPED, "LMSW at RIP 0x%llx reads guest-physical address 0x%llx, "
                              "which is not mapped", (unsigned long long)c->rip, (unsigned long long)lf.address);
    }
    /* A far CALL/JMP to a TSS or a task gate: a task switch, which exits (reason 9)
     * once its checks pass (task_switch.c); anything else is an ordinary far transfer. */
    if (insn->cls == VTX_IC_JMP_FAR || insn->cls == VTX_IC_CALL_FAR) {
        vtx_task_check tc;
        vtx_task_switch_of_insn(m, insn, &tc);
        if (tc.outcome != VTX_TASK_NONE)
            return vtx_task_switch_step(m, &tc, insn, ex, r, st);
    }
    /* Instruction-caused VM exits (fault-like: RIP stays, shadows are kept; BLK-STI-8). */
    if (vtx_insn_exit(m, insn, ex))
        return VTX_STEP_EXIT;
    /* MOV DR: its VM exit (above) comes before #GP(0) at CPL > 0 and the
     * general-detect #DB (debug_regs.c has the SDM's order). */
    if (insn->cls == VTX_IC_MOV_TO_DR || insn->cls == VTX_IC_MOV_FROM_DR) {
        if (vtx_cpu_cpl(c) > 0)
            return raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
        if (vtx_mov_dr_general_detect(m, insn))
            return general_detect(m, ex, r, st);
    }
    /* APIC virtualization: MOV CR8 with "use TPR shadow", the x2APIC MSRs (apic_virt.h). */
    vtx_vapic_result vr = vtx_vapic_insn(m, insn);
    if (vr != VTX_VAPIC_NOT_MINE)
        return vapic_done(m, insn, vr, ex, r, st);

    vtx_stop s;
    switch (insn->cls) {
    case VTX_IC_HLT:
        /* HLT-1: the guest enters the HLT state; RIP is after HLT. */
        retire_emulated(m, insn);
        g->activity = VTX_HLT;
        return VTX_STEP_CONTINUE;
    case VTX_IC_RDTSC:
    case VTX_IC_RDTSCP: {
        uint64_t tsc = guest_tsc(m);
        c->gpr[VTX_R_RAX] = (uint32_t)tsc;
        c->gpr[VTX_R_RDX] = tsc >> 32;
        if (insn->cls == VTX_IC_RDTSCP)
            c->gpr[VTX_R_RCX] = (uint32_t)m->msr.tsc_aux; /* IA32_TSC_AUX (msr.h) */
        retire_emulated(m, insn);
        return VTX_STEP_CONTINUE;
    }
    case VTX_IC_MOV_FROM_CR:
        if (insn->cr == 0 || insn->cr == 4) {
            /* Reads see the read shadow for host-owned bits. */
            uint64_t mask = vtx_vmcs_get(&m->current->f, insn->cr ? VTX_SLOT_CR4_GUEST_HOST_MASK : VTX_SLOT_CR0_GUEST_HOST_MASK);
            uint64_t shadow = vtx_vmcs_get(&m->current->f, insn->cr ? VTX_SLOT_CR4_READ_SHADOW : VTX_SLOT_CR0_READ_SHADOW);
            uint64_t real = insn->cr ? c->cr4 : c->cr0;
            uint64_t v = (shadow & mask) | (real & ~mask);
            c->gpr[insn->gpr & 15] = vtx_cpu_mode_of(c) == VTX_MODE_LONG64 ? v : (uint32_t)v;
            retire_emulated(m, insn);
            return VTX_STEP_CONTINUE;
        }
        if (insn->cr == 8 && m->has_bus && m->bus.cr8_read) {
            /* EXE-CR8-1: without CR8-store exiting or "use TPR shadow" MOV from CR8
             * reads the processor's APIC TPR[7:4] (the platform's xAPIC) */
            c->cr8 = m->bus.cr8_read(m->bus.user, m->cycles) & 0xF;
            c->gpr[insn->gpr & 15] = c->cr8;
            retire_emulated(m, insn);
            return VTX_STEP_CONTINUE;
        }
        break;
    case VTX_IC_MOV_TO_CR: {
        /* The #GP(0) of an invalid value comes after the VM-exit decision above
         * (the exit is taken first); Unicorn does not check these itself. */
        uint64_t v = c->gpr[insn->gpr & 15];
        if (insn->cr == 0 || insn->cr == 4) {
            /* Host-owned bits keep their values; the rest come from the source. */
            uint64_t mask = vtx_vmcs_get(&m->current->f, insn->cr ? VTX_SLOT_CR4_GUEST_HOST_MASK : VTX_SLOT_CR0_GUEST_HOST_MASK);
            uint64_t *cr = insn->cr ? &c->cr4 : &c->cr0;
            uint64_t nv = (*cr & mask) | (v & ~mask);
            if (cr_value_faults(m, insn->cr, nv))
                return raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
            *cr = nv;
            retire_emulated(m, insn);
            return VTX_STEP_CONTINUE;
        }
        if (insn->cr == 3 && cr_value_faults(m, 3, v))
            return raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
        if (insn->cr == 8 && m->has_bus && m->bus.cr8_write) {
            /* EXE-CR8-1: without CR8-load exiting or "use TPR shadow" MOV to CR8
             * writes the processor's APIC TPR (the platform's xAPIC); bits 63:4 #GP(0) */
            if (v >> 4)
                return raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
            c->cr8 = v;
            m->bus.cr8_write(m->bus.user, m->cycles, v);
            retire_emulated(m, insn);
            return VTX_STEP_CONTINUE;
        }
        break;
    }
    case VTX_IC_CLTS: {
        uint64_t mask = vtx_vmcs_get(&m->current->f, VTX_SLOT_CR0_GUEST_HOST_MASK);
        if (!(mask & (1u << 3)))
            c->cr0 &= ~(uint64_t)(1u << 3);
        retire_emulated(m, insn);
        return VTX_STEP_CONTINUE;
    }
    case VTX_IC_LMSW:
        /* LMSW without a VM exit: CR0[3:0] with the mask (guest_insn.h). */
        c->cr0 = vtx_lmsw_result(m, lmsw_src);
        retire_emulated(m, insn);
        return VTX_STEP_CONTINUE;
    case VTX_IC_SMSW: {
        /* The engine stores CR0 (with its faults); the model then puts the read
         * shadow into the host-owned bits (SDM "Changes to Instruction Behavior in
         * VMX Non-Root Operation", SMSW). */
        uint64_t la = insn->mem_operand ? vtx_insn_linear(m, insn) : 0;
        int rc = step_one(m, &s);
        if (rc == 0 && s.retired == 1 && !vtx_smsw_store(m, insn, la))
            return vtx_step_stop(r, st, VTX_ERR_UNMAPPED, "SMSW at RIP 0x%llx: its destination cannot be written",
                        (unsigned long long)insn->rip);
        if (rc != 0 || s.reason != VTX_STOP_COUNT || s.retired != 1)
            return after_engine(m, &s, (vtx_insn_class)insn->cls, ex, r, st);
        retired(m, 1, (vtx_insn_class)insn->cls);
        return VTX_STEP_CONTINUE;
    }
    case VTX_IC_FAST_SYSCALL: {
        /* Not by Unicorn, which skips them (fast_syscall.c). RIP is the target:
         * retire without adding the length. */
        bool tf = c->rflags & VTX_RFLAGS_TF;
        unsigned fault = vtx_fast_syscall(m, insn);
        if (fault)
            return raise_exception(m, (uint8_t)fault, VTX_EVT_HW_EXC, fault == 13, 0, 0, 0, ex, r, st);
        /* Single-step: a trap after it when TF was 1 and it kept TF (a SYSCALL whose
         * IA32_FMASK clears TF traps no more; SYSRET setting TF traps one later). */
        if (tf && (c->rflags & VTX_RFLAGS_TF))
            vtx_pending_db_single_step(g);
        m->engine_dirty = true;
        retired(m, 1, (vtx_insn_class)insn->cls);
        return VTX_STEP_CONTINUE;
    }
    case VTX_IC_MOV_TO_DR: {
        unsigned fault = vtx_mov_to_dr(m, insn); /* never by Unicorn (guest_insn.h) */
        if (fault)
            return raise_exception(m, (uint8_t)fault, VTX_EVT_HW_EXC, fault == 13, 0, 0, 0, ex, r, st);
        retire_emulated(m, insn);
        return VTX_STEP_CONTINUE;
    }
    case VTX_IC_IN:
    case VTX_IC_OUT: {
        /* The bus (bus.h; all ones / dropped without a device there). ROOT-BUS-1:
         * the same ports answer in non-root operation when I/O does not exit. */
        uint16_t port = insn->port_in_dx ? (uint16_t)c->gpr[VTX_R_RDX] : insn->imm8;
        uint64_t rip = c->rip;
        bool go;
        if (insn->cls == VTX_IC_IN) {
            uint32_t v;
            go = vtx_bus_in(m, rip, port, insn->op_size, &v);
            set_gpr_sized(c, VTX_R_RAX, v, insn->op_size);
        } else {
            go = vtx_bus_out(m, rip, port, insn->op_size, (uint32_t)c->gpr[VTX_R_RAX]);
        }
        retire_emulated(m, insn);
        if (!go)
            return vtx_step_stop(r, st, VTX_OK, "the platform ended the run at port 0x%x (guest RIP 0x%llx)", port,
                                 (unsigned long long)rip);
        return VTX_STEP_CONTINUE;
    }
    case VTX_IC_RDMSR: {
        /* RDMSR without a VM exit (msr.h): EDX:EAX <- MSR[ECX]; #GP(0) for an MSR the
         * model does not have. The TSC reads as RDTSC does (offset and scaled). */
        uint32_t index = (uint32_t)c->gpr[VTX_R_RCX];
        uint64_t v;
        if (!vtx_msr_read(m, VTX_MSR_GUEST, index, &v))
            return raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
        if (index == VTX_MSR_TSC)
            v = guest_tsc(m);
        c->gpr[VTX_R_RAX] = (uint32_t)v;
        c->gpr[VTX_R_RDX] = v >> 32;
        retire_emulated(m, insn);
        return VTX_STEP_CONTINUE;
    }
    case VTX_IC_WRMSR: {
        /* WRMSR without a VM exit: MSR[ECX] <- EDX:EAX; #GP(0) for an unknown MSR or
         * a value the MSR refuses (reserved bits, non-canonical, locked). The engine
         * state is reloaded (IA32_EFER, the FS/GS bases). */
        uint32_t index = (uint32_t)c->gpr[VTX_R_RCX];
        uint64_t v = (c->gpr[VTX_R_RDX] << 32) | (uint32_t)c->gpr[VTX_R_RAX];
        if (!vtx_msr_write(m, VTX_MSR_GUEST, index, v, NULL))
            return raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
        retire_emulated(m, insn);
        return VTX_STEP_CONTINUE;
    }
    case VTX_IC_INS:
    case VTX_IC_OUTS:
    case VTX_IC_RDPMC:
        return vtx_step_stop(r, st, VTX_ERR_UNSUPPORTED,
                    "instruction row %s: the guest executes '%s' at RIP 0x%llx without a VM exit; the model has no devices or "
                    "performance counters behind it (make it exit with the I/O bitmaps or RDPMC exiting)",
                    row ? row->id : "?", insn->text, (unsigned long long)c->rip);
    case VTX_IC_RDRAND:
    case VTX_IC_RDSEED:
    case VTX_IC_RDPID:
    case VTX_IC_INVPCID: {
        /* Rows the engine cannot run (Unicorn 2.0.1 raises #UD): the model does (insn_emulate.c). */
        vtx_emul em = {.outcome = VTX_EMUL_DONE};
        if (insn->cls == VTX_IC_INVPCID)
            em = vtx_emulate_invpcid(m, insn);
        else if (insn->cls == VTX_IC_RDPID)
            vtx_emulate_rdpid(m, insn);
        else
            vtx_emulate_rdrand(m, insn);
        switch (em.outcome) {
        case VTX_EMUL_DONE: retire_emulated(m, insn); return VTX_STEP_CONTINUE;
        case VTX_EMUL_GP: return raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
        case VTX_EMUL_PF: return raise_exception(m, 14, VTX_EVT_HW_EXC, true, em.error, em.address, 0, ex, r, st);
        default:
            return vtx_step_stop(r, st, VTX_ERR_UNMAPPED, "'%s' at RIP 0x%llx reads guest-physical address 0x%llx, which is not mapped",
                        insn->text, (unsigned long long)c->rip, (unsigned long long)em.address);
        }
    }
    case VTX_IC_XSAVES: case VTX_IC_XRSTORS: case VTX_IC_UWAIT: case VTX_IC_SGX: case VTX_IC_PCONFIG: case VTX_IC_RSM:
        /* Reached only with a control VM entry refuses (insn_table.h): never run them as outside VMX. */
        return vtx_step_stop(r, st, VTX_ERR_UNSUPPORTED, "instruction row %s: '%s' at RIP 0x%llx is not modelled (%s)",
                    row ? row->id : "?", insn->text, (unsigned long long)c->rip, row ? row->note : "no row");
    case VTX_IC_MWAIT:
    case VTX_IC_MONITOR:
        retire_emulated(m, insn); /* no address-range monitoring: MWAIT returns at once */
        return VTX_STEP_CONTINUE;
    case VTX_IC_INT_N:
        return vtx_deliver_event(m, (vtx_delivery){.vector = insn->imm8, .type = VTX_EVT_SW_INT, .insn_len = insn->len},
                                 ex, r, st);
    case VTX_IC_INT3:
        return raise_exception(m, 3, VTX_EVT_SW_EXC, false, 0, 0, insn->len, ex, r, st);
    case VTX_IC_INTO:
        if (!(c->rflags & VTX_RFLAGS_OF)) {
            retire_emulated(m, insn);
            return VTX_STEP_CONTINUE;
        }
        return raise_exception(m, 4, VTX_EVT_SW_EXC, false, 0, 0, insn->len, ex, r, st);
    case VTX_IC_INT1:
        return raise_exception(m, 1, VTX_EVT_PRIV_SW, false, 0, 0, insn->len, ex, r, st);
    case VTX_IC_STI:
        return vtx_exec_sti(m, insn, ex, r, st); /* shadows.c */
    case VTX_IC_MOV_SS:
    case VTX_IC_POP_SS:
        return vtx_exec_ss_load(m, insn, ex, r, st); /* shadows.c */
    case VTX_IC_IRET:
        return vtx_exec_iret(m, insn, ex, r, st); /* nmi_blocking.c */
    default:
        break;
    }
    /* Everything else the engine executes itself. */
    if (insn->cls == VTX_IC_INVLPG || (insn->cls == VTX_IC_MOV_TO_CR && insn->cr == 3))
        vtx_tlb_guest_invalidates(m); /* PG-9 */
    return vtx_step_engine(m, (vtx_insn_class)insn->cls, ex, r, st);
}

/* Turn an engine stop (other than BEFORE) into the model's next step. */
static vtx_step after_engine(vtx_machine *m, const vtx_stop *s, vtx_insn_class cls, vtx_exit_info *ex,
                             vtx_insn_result *r, vtx_status *st)
{
    vtx_guest *g = &m->g;
    switch (s->reason) {
    case VTX_STOP_COUNT:
        retired(m, s->retired, cls);
        return VTX_STEP_CONTINUE;
    case VTX_STOP_HLT:
        retired(m, s->retired, cls);
        g->activity = VTX_HLT;
        return VTX_STEP_CONTINUE;
    case VTX_STOP_EXCEPTION: {
        /* A trap retires its instruction; a fault does not. */
        retired(m, s->retired, cls);
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
        if (!s->trap && s->retired)
            return VTX_STEP_CONTINUE;
        /* An exception that exits directly leaves blocking by STI / MOV SS as it was
         * (BLK-STI-8; delivery drops it), except #MF (BLK-SAVE-2, x87_error.c). */
        if (s->vector == 16 && vtx_x87_error_yields(m))
            return VTX_STEP_CONTINUE;
        vtx_step res = raise_exception(m, s->vector, VTX_EVT_HW_EXC, s->has_error_code, s->error_code, s->address, 0,
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
        retired(m, s->retired, cls);
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
        retired(m, s->retired, cls);
        return vtx_step_stop(r, st, VTX_ERR_UNMAPPED,
                    "the guest accessed guest-physical address 0x%llx, which is not mapped (RIP 0x%llx)",
                    (unsigned long long)s->address, (unsigned long long)g->cpu.rip);
    case VTX_STOP_ERROR:
    default:
        retired(m, s->retired, cls);
        return vtx_step_stop(r, st, VTX_ERR_UNSUPPORTED, "the execution engine failed at RIP 0x%llx: %s",
                    (unsigned long long)g->cpu.rip, s->why ? s->why : "unknown error");
    case VTX_STOP_BEFORE:
        /* Instructions retired before the stop end at a boundary of their own,
         * which the caller evaluates first; the model's instruction waits for the
         * next step (it is then the first one, with nothing retired before it). */
        if (s->retired) {
            retired(m, s->retired, cls);
            return VTX_STEP_CONTINUE;
        }
        return exec_insn(m, s->insn, ex, r, st);
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
    retired(m, 1, VTX_IC_OTHER);
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
        return after_engine(m, &s, VTX_IC_OTHER, ex, r, st);
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
        retired(m, s.retired, VTX_IC_OTHER);
        vtx_sti_after_run(m, s.sti_shadow);
        return VTX_STEP_CONTINUE;
    }
    vtx_step next = after_engine(m, &s, VTX_IC_OTHER, ex, r, st);
    if (next == VTX_STEP_CONTINUE)
        vtx_sti_after_run(m, s.sti_shadow); /* a budget's end, a fault after the STI (PRI-1) */
    return next;
}
