/*
 * The model's own handling of the instructions the engine stops before
 * (execute.c runs the engine; the classes are in insn_table.h): each
 * instruction class the model carries out or steps the engine over, with the
 * faults, VM exits and emulated results of each (MOV to and from CRs and DRs,
 * RDTSC, RDMSR/WRMSR, I/O, the VMX instructions' #UD, LMSW/SMSW, SYSCALL and
 * its kin, APIC-virtualized accesses, task switches). Their effect on event
 * state is in the file of each concept: shadows.c (STI, MOV SS, POP SS),
 * nmi_blocking.c (IRET), mtf.c, pending_debug.c, preemption_timer.c.
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
    vtx_retired(m, 1, (vtx_insn_class)insn->cls);
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
        return vtx_raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
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
        return vtx_raise_exception(m, tc->vector, VTX_EVT_HW_EXC, true, tc->error_code, tc->address, 0, ex, r, st);
    default:
        return vtx_step_stop(r, st, VTX_ERR_UNMAPPED,
                     "the task switch of '%s' at RIP 0x%llx reads guest-physical address 0x%llx, which is not mapped",
                     insn->text, (unsigned long long)m->g.cpu.rip, (unsigned long long)tc->address);
    }
}

/* The model's handling of an instruction the engine stopped before. */
vtx_step vtx_exec_insn(vtx_machine *m, const vtx_insn *insn, vtx_exit_info *ex, vtx_insn_result *r,
                       vtx_status *st)
{
    vtx_guest *g = &m->g;
    vtx_cpu_state *c = &g->cpu;

    if (insn->cls == VTX_IC_UD && insn->len == 0) {
        /* PG-11: bytes the engine could not read, not an invalid instruction:
         * Unicorn fetches it again through a new walk (and faults there) */
        vtx_engine_refetch(m->engine);
        return vtx_step_engine(m, VTX_IC_OTHER, ex, r, st);
    }
    if (insn->cls == VTX_IC_UD)
        return vtx_raise_exception(m, 6, VTX_EVT_HW_EXC, false, 0, 0, 0, ex, r, st);
    /* The instruction table (insn_table.h): #UD where the feature is absent or the
     * secondary control gating it is 0 ("activate secondary controls" = 0 counts
     * as 0), then the privilege faults; both have priority over VM exits (SDM16
     * 25.1.1 "Relative Priority of Faults and VM Exits", 25.3). */
    const vtx_insn_row *row = vtx_insn_row_of(insn);
    m->ept_fault.pending = false;
    switch (vtx_insn_row_pre(m, insn, row)) {
    case VTX_IROW_UD: return vtx_raise_exception(m, 6, VTX_EVT_HW_EXC, false, 0, 0, 0, ex, r, st);
    case VTX_IROW_GP:
        /* EPT-V-4: the EPT refused a read of the check itself (the TSS's I/O
         * permission bit map, io_permission.c) */
        if (vtx_ept_fault_exit(m, m->ept_fault.lin, ex))
            return VTX_STEP_EXIT;
        return vtx_raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
    case VTX_IROW_GO: break;
    }
    /* LMSW's memory operand is fetched first: its fault has priority over the VM
     * exit that depends on its contents (SDM "Relative Priority of Faults and VM Exits"). */
    uint16_t lmsw_src = 0;
    if (insn->cls == VTX_IC_LMSW) {
        vtx_linear_fault lf;
        if (!vtx_lmsw_source(m, insn, false, &lmsw_src, &lf))
            return lf.kind == VTX_LINEAR_PF
                       ? vtx_raise_exception(m, 14, VTX_EVT_HW_EXC, true, lf.error_code, lf.address, 0, ex, r, st)
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
            return vtx_raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
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
                return vtx_raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
            *cr = nv;
            retire_emulated(m, insn);
            return VTX_STEP_CONTINUE;
        }
        if (insn->cr == 3 && cr_value_faults(m, 3, v))
            return vtx_raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
        if (insn->cr == 8 && m->has_bus && m->bus.cr8_write) {
            /* EXE-CR8-1: without CR8-load exiting or "use TPR shadow" MOV to CR8
             * writes the processor's APIC TPR (the platform's xAPIC); bits 63:4 #GP(0) */
            if (v >> 4)
                return vtx_raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
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
        int rc = vtx_step_one(m, &s);
        if (rc == 0 && s.retired == 1 && !vtx_smsw_store(m, insn, la))
            return vtx_step_stop(r, st, VTX_ERR_UNMAPPED, "SMSW at RIP 0x%llx: its destination cannot be written",
                        (unsigned long long)insn->rip);
        if (rc != 0 || s.reason != VTX_STOP_COUNT || s.retired != 1)
            return vtx_step_after(m, &s, (vtx_insn_class)insn->cls, ex, r, st);
        vtx_retired(m, 1, (vtx_insn_class)insn->cls);
        return VTX_STEP_CONTINUE;
    }
    case VTX_IC_FAST_SYSCALL: {
        /* Not by Unicorn, which skips them (fast_syscall.c). RIP is the target:
         * retire without adding the length. */
        bool tf = c->rflags & VTX_RFLAGS_TF;
        unsigned fault = vtx_fast_syscall(m, insn);
        if (fault)
            return vtx_raise_exception(m, (uint8_t)fault, VTX_EVT_HW_EXC, fault == 13, 0, 0, 0, ex, r, st);
        /* Single-step: a trap after it when TF was 1 and it kept TF (a SYSCALL whose
         * IA32_FMASK clears TF traps no more; SYSRET setting TF traps one later). */
        if (tf && (c->rflags & VTX_RFLAGS_TF))
            vtx_pending_db_single_step(g);
        m->engine_dirty = true;
        vtx_retired(m, 1, (vtx_insn_class)insn->cls);
        return VTX_STEP_CONTINUE;
    }
    case VTX_IC_MOV_TO_DR: {
        unsigned fault = vtx_mov_to_dr(m, insn); /* never by Unicorn (guest_insn.h) */
        if (fault)
            return vtx_raise_exception(m, (uint8_t)fault, VTX_EVT_HW_EXC, fault == 13, 0, 0, 0, ex, r, st);
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
            return vtx_raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
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
            return vtx_raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
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
        case VTX_EMUL_GP: return vtx_raise_exception(m, 13, VTX_EVT_HW_EXC, true, 0, 0, 0, ex, r, st);
        case VTX_EMUL_PF: return vtx_raise_exception(m, 14, VTX_EVT_HW_EXC, true, em.error, em.address, 0, ex, r, st);
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
        return vtx_raise_exception(m, 3, VTX_EVT_SW_EXC, false, 0, 0, insn->len, ex, r, st);
    case VTX_IC_INTO:
        if (!(c->rflags & VTX_RFLAGS_OF)) {
            retire_emulated(m, insn);
            return VTX_STEP_CONTINUE;
        }
        return vtx_raise_exception(m, 4, VTX_EVT_SW_EXC, false, 0, 0, insn->len, ex, r, st);
    case VTX_IC_INT1:
        return vtx_raise_exception(m, 1, VTX_EVT_PRIV_SW, false, 0, 0, insn->len, ex, r, st);
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
