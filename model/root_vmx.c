/*
 * The VMX instructions a root-mode processor executes (root.h): the operands
 * are read as the instruction reads them (register or memory, 64 bits in
 * 64-bit mode and 32 outside it; memory through the host's paging, a #PF
 * delivered through the host's IDT), and the instruction itself is the vmx.h
 * function with its SDM outcome (ROOT-VMX-1). A successful VM entry runs the
 * guest; its VM exit continues root code at HOST_RIP with the host state
 * loaded (ROOT-RET-1).
 */
#include "root_internal.h"

/* The flags of a VMX instruction (CF, PF, AF, ZF, SF, OF) into the root-mode processor. */
static void flags_back(vtx_machine *m)
{
    const uint64_t mask = 0x8D5;
    m->host.rflags = (m->host.rflags & ~mask) | (m->root.rflags & mask);
}

static bool long64(const vtx_machine *m) { return vtx_cpu_mode_of(&m->host) == VTX_MODE_LONG64; }

/* The memory operand of a VMX instruction: the segmentation checks first
 * (ROOT-SEG-1: 3 with the vector in *pf_err), then the page walk (vtx_root_mem). */
static int operand(vtx_machine *m, const vtx_insn *insn, void *buf, size_t len, bool write, uint32_t *pf_err,
                   uint64_t *pf_addr)
{
    uint8_t vec = vtx_root_operand_fault(m, insn, len, write);
    if (vec) {
        *pf_err = vec;
        return 3;
    }
    return vtx_root_mem(m, vtx_root_linear(m, insn), buf, len, write, pf_err, pf_addr);
}

/* Register or memory operand (r/m) of `bytes` bytes. */
static int read_rm(vtx_machine *m, const vtx_insn *insn, unsigned bytes, uint64_t *v, uint32_t *pf_err,
                   uint64_t *pf_addr)
{
    if (insn->rm_gpr != VTX_GPR_NONE) {
        *v = m->host.gpr[insn->rm_gpr & 15];
        if (bytes == 4)
            *v = (uint32_t)*v;
        return 0;
    }
    *v = 0;
    return operand(m, insn, v, bytes, false, pf_err, pf_addr);
}

static vtx_rstep mem_fault(vtx_machine *m, int rc, uint32_t pf_err, uint64_t pf_addr, vtx_root_result *res)
{
    if (rc == 1)
        return vtx_root_exception(m, 14, true, pf_err, pf_addr, res);
    if (rc == 3)
        return vtx_root_exception(m, (uint8_t)pf_err, true, 0, 0, res);
    return vtx_root_stop(res, VTX_ROOT_UNMAPPED, m->host.rip,
                        "a VMX instruction at RIP 0x%llx accesses physical address 0x%llx, which is not mapped",
                        (unsigned long long)m->host.rip, (unsigned long long)pf_addr);
}

/* The outcome of a vmx.h function, applied to the root-mode processor. */
static vtx_rstep outcome(vtx_machine *m, const vtx_insn *insn, vtx_status st, const vtx_insn_result *r,
                         vtx_root_result *res)
{
    if (m->root_trace) {
        char line[400];
        vtx_insn_result_format(r, line, sizeof line);
        fprintf(m->root_trace, "root: RIP 0x%llx '%s': %s\n", (unsigned long long)m->host.rip, insn->text, line);
    }
    if (st != VTX_OK)
        return vtx_root_stop(res, strstr(r->why, "identity paging") ? VTX_ROOT_ENGINE_LIMIT : VTX_ROOT_UNSUPPORTED,
                             m->host.rip, "'%s' at RIP 0x%llx: %s", insn->text,
                            (unsigned long long)m->host.rip, r->why);
    if (r->outcome == VTX_INSN_FAULT)
        return vtx_root_exception(m, r->fault_vector, r->fault_vector == VTX_VECTOR_GP, r->fault_error_code, 0, res);
    flags_back(m);
    vtx_root_retire_emulated(m, insn);
    return VTX_RSTEP_GO;
}

static vtx_cpu_seg host_seg(uint16_t sel, uint64_t base, bool code, bool l)
{
    if (!code && sel == 0)
        return (vtx_cpu_seg){.sel = 0, .base = base, .limit = 0, .ar = 0x10000}; /* unusable */
    uint32_t ar = code ? (l ? 0xA09B : 0xC09B) : 0xC093;
    return (vtx_cpu_seg){.sel = sel, .base = base, .limit = 0xFFFFFFFFu, .ar = ar};
}

void vtx_root_after_exit(vtx_machine *m)
{
    const vtx_vmcs_values *f = &m->current->f;
    vtx_cpu_state *h = &m->host;
    uint64_t rsp = vtx_vmcs_get(f, VTX_SLOT_HOST_RSP);
    memcpy(h->gpr, m->g.cpu.gpr, sizeof h->gpr);
    bool l = vtx_vmcs_get(f, VTX_SLOT_EXIT_CONTROLS) & VTX_EXIT_HOST_ADDR_SPACE_SIZE;
    h->gpr[VTX_R_RSP] = rsp;
    h->rip = vtx_vmcs_get(f, VTX_SLOT_HOST_RIP);
    h->rflags = m->root.rflags; /* 2 (vmexit.c) */
    h->cr0 = m->root.cr0;
    h->cr3 = vtx_vmcs_get(f, VTX_SLOT_HOST_CR3);
    h->cr4 = m->root.cr4;
    h->efer = m->root.efer;
    /* ROOT-DR-1: VM exit loads none of DR0-DR3 and DR6 (the host keeps the
     * guest's) and sets DR7 to 0x400 (SDM "Loading Host Control Registers,
     * Debug Registers, MSRs"). */
    memcpy(h->dr, m->g.cpu.dr, sizeof h->dr);
    h->dr6 = m->g.cpu.dr6;
    h->dr7 = 0x400;
    h->seg[VTX_S_CS] = host_seg((uint16_t)vtx_vmcs_get(f, VTX_SLOT_HOST_CS_SELECTOR), 0, true, l);
    h->seg[VTX_S_SS] = host_seg((uint16_t)vtx_vmcs_get(f, VTX_SLOT_HOST_SS_SELECTOR), 0, false, l);
    h->seg[VTX_S_SS].ar &= ~0x60u; /* DPL 0 even when unusable */
    h->seg[VTX_S_DS] = host_seg((uint16_t)vtx_vmcs_get(f, VTX_SLOT_HOST_DS_SELECTOR), 0, false, l);
    h->seg[VTX_S_ES] = host_seg((uint16_t)vtx_vmcs_get(f, VTX_SLOT_HOST_ES_SELECTOR), 0, false, l);
    h->seg[VTX_S_FS] = host_seg((uint16_t)vtx_vmcs_get(f, VTX_SLOT_HOST_FS_SELECTOR), m->host_msr.fs_base, false, l);
    h->seg[VTX_S_GS] = host_seg((uint16_t)vtx_vmcs_get(f, VTX_SLOT_HOST_GS_SELECTOR), m->host_msr.gs_base, false, l);
    h->seg[VTX_S_TR] = (vtx_cpu_seg){.sel = (uint16_t)vtx_vmcs_get(f, VTX_SLOT_HOST_TR_SELECTOR),
                                     .base = vtx_vmcs_get(f, VTX_SLOT_HOST_TR_BASE), .limit = 0x67, .ar = 0x8B};
    h->seg[VTX_S_LDTR] = (vtx_cpu_seg){.ar = 0x10082};
    h->gdtr_base = vtx_vmcs_get(f, VTX_SLOT_HOST_GDTR_BASE);
    h->idtr_base = vtx_vmcs_get(f, VTX_SLOT_HOST_IDTR_BASE);
    h->gdtr_limit = h->idtr_limit = 0xFFFF;
    m->host_block_sti = m->host_block_movss = false;
    m->host_halted = false;
    /* An exit caused by an NMI leaves NMIs blocked in root operation (SDM "Updating
     * Non-Register State": the NMI is blocked after an exit due to one). */
    uint32_t reason = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_REASON);
    uint32_t info = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_INTR_INFO);
    if ((reason & 0xFFFF) == VTX_EXIT_REASON_EXCEPTION_NMI && (info >> 31) && ((info >> 8) & 7) == VTX_EVT_NMI)
        m->host_block_nmi = true;
    m->engine_dirty = true;
}

/* VMLAUNCH / VMRESUME: the GPRs go to the shared register file, the guest runs
 * within what is left of this root run, and control comes back to root code
 * through a VM exit (or stays in the guest when the run stops). */
static vtx_rstep entry(vtx_machine *m, const vtx_insn *insn, bool launch, vtx_root_result *res)
{
    uint64_t guest_rsp = m->g.cpu.gpr[VTX_R_RSP];
    memcpy(m->g.cpu.gpr, m->host.gpr, sizeof m->g.cpu.gpr);
    m->g.cpu.gpr[VTX_R_RSP] = guest_rsp;
    /* ROOT-DR-1: VM entry loads none of DR0-DR3 and DR6, and DR7 only with "load
     * debug controls" (vtx_guest_load): the guest starts with the host's values. */
    memcpy(m->g.cpu.dr, m->host.dr, sizeof m->g.cpu.dr);
    m->g.cpu.dr6 = m->host.dr6;
    m->g.cpu.dr7 = m->host.dr7;
    m->engine_dirty = true;
    m->limits.instructions = m->host_insn_end == UINT64_MAX ? 0 : m->host_insn_end - m->instructions;
    m->limits.cycles = m->host_cycle_end == UINT64_MAX ? 0 : m->host_cycle_end - m->cycles;
    if (m->limits.instructions == 0 && m->host_insn_end != UINT64_MAX)
        m->limits.instructions = 1;
    vtx_insn_result r;
    vtx_status st = launch ? vtx_vmlaunch(m, &r) : vtx_vmresume(m, &r);
    if (m->in_guest) {
        bool used = m->instructions >= m->host_insn_end || m->cycles >= m->host_cycle_end;
        return vtx_root_guest_stopped(m, &r, st, used, res);
    }
    if (st == VTX_OK && r.outcome == VTX_VMEXIT) {
        if (m->root_trace) {
            const char *name = vtx_exit_reason_name(r.exit_reason & 0xFFFF);
            fprintf(m->root_trace, "root: VM exit %u (%s) qualification 0x%llx at guest RIP 0x%llx%s%s\n",
                    r.exit_reason & 0xFFFF, name ? name : "?", (unsigned long long)r.exit_qualification,
                    (unsigned long long)m->g.cpu.rip, (r.exit_reason >> 31) ? ": VM-entry failure: " : "",
                    (r.exit_reason >> 31) ? r.why : "");
        }
        vtx_root_after_exit(m);
        return VTX_RSTEP_GO;
    }
    return outcome(m, insn, st, &r, res);
}

vtx_rstep vtx_root_vmx(vtx_machine *m, const vtx_insn *insn, vtx_root_result *res)
{
    vtx_root_sync(m);
    uint32_t which = vtx_vmx_insn_exit_reason(insn);
    unsigned opb = long64(m) ? 8 : 4; /* operand size of VMREAD/VMWRITE and the type registers */
    vtx_insn_result r;
    vtx_status st;
    uint32_t pf_err = 0;
    uint64_t pf_addr = 0, v = 0;
    int rc;
    switch (which) {
    case VTX_EXIT_REASON_VMXON:
        if (!insn->has_mem || insn->rm_gpr != VTX_GPR_NONE)
            return vtx_root_exception(m, 6, false, 0, 0, res);
        if (!m->vmx_on) {
            rc = operand(m, insn, &v, 8, false, &pf_err, &pf_addr);
            if (rc) {
                /* The #UD/#GP checks come before the operand is read: probe them with
                 * an address VMXON refuses by VMfailInvalid (no state to change). */
                uint64_t rfl = m->root.rflags;
                st = vtx_vmxon(m, 1, &r);
                m->root.rflags = rfl;
                if (st == VTX_OK && r.outcome == VTX_INSN_FAULT)
                    return outcome(m, insn, st, &r, res);
                return mem_fault(m, rc, pf_err, pf_addr, res);
            }
        }
        st = vtx_vmxon(m, v, &r);
        return outcome(m, insn, st, &r, res);
    case VTX_EXIT_REASON_VMXOFF:
        st = vtx_vmxoff(m, &r);
        return outcome(m, insn, st, &r, res);
    case VTX_EXIT_REASON_VMLAUNCH:
    case VTX_EXIT_REASON_VMRESUME:
        if (vtx_vmx_insn_faults(m, &r, which == VTX_EXIT_REASON_VMLAUNCH ? "VMLAUNCH" : "VMRESUME"))
            return outcome(m, insn, VTX_OK, &r, res);
        return entry(m, insn, which == VTX_EXIT_REASON_VMLAUNCH, res);
    default:
        break;
    }
    /* The others: #UD / #GP(0) first, then the operands. */
    if (vtx_vmx_insn_faults(m, &r, insn->text))
        return outcome(m, insn, VTX_OK, &r, res);
    switch (which) {
    case VTX_EXIT_REASON_VMCLEAR:
    case VTX_EXIT_REASON_VMPTRLD:
        if (insn->rm_gpr != VTX_GPR_NONE || !insn->has_mem)
            return vtx_root_exception(m, 6, false, 0, 0, res);
        if ((rc = operand(m, insn, &v, 8, false, &pf_err, &pf_addr)))
            return mem_fault(m, rc, pf_err, pf_addr, res);
        st = which == VTX_EXIT_REASON_VMCLEAR ? vtx_vmclear(m, v, &r) : vtx_vmptrld(m, v, &r);
        return outcome(m, insn, st, &r, res);
    case VTX_EXIT_REASON_VMPTRST: {
        if (insn->rm_gpr != VTX_GPR_NONE || !insn->has_mem)
            return vtx_root_exception(m, 6, false, 0, 0, res);
        st = vtx_vmptrst(m, &r);
        if (st == VTX_OK && r.outcome == VTX_VMSUCCEED) {
            uint64_t p = r.value;
            if ((rc = operand(m, insn, &p, 8, true, &pf_err, &pf_addr)))
                return mem_fault(m, rc, pf_err, pf_addr, res);
        }
        return outcome(m, insn, st, &r, res);
    }
    case VTX_EXIT_REASON_VMREAD: {
        /* ROOT-VMX-2: the field encoding is Reg2 (ModRM.reg); the destination r/m is
         * 64 bits in 64-bit mode, 32 bits outside it. A memory destination that
         * faults leaves RFLAGS alone (the fault comes before the flags are written). */
        uint64_t enc = m->host.gpr[insn->reg_gpr & 15];
        if (opb == 4)
            enc = (uint32_t)enc;
        uint64_t rfl = m->root.rflags;
        st = vtx_vmread(m, enc, &r);
        if (st == VTX_OK && r.outcome == VTX_VMSUCCEED) {
            uint64_t val = r.value;
            if (insn->rm_gpr != VTX_GPR_NONE) {
                m->host.gpr[insn->rm_gpr & 15] = opb == 4 ? (uint32_t)val : val;
            } else if ((rc = operand(m, insn, &val, opb, true, &pf_err, &pf_addr))) {
                m->root.rflags = rfl;
                return mem_fault(m, rc, pf_err, pf_addr, res);
            }
        }
        return outcome(m, insn, st, &r, res);
    }
    case VTX_EXIT_REASON_VMWRITE: {
        uint64_t enc = m->host.gpr[insn->reg_gpr & 15];
        if (opb == 4)
            enc = (uint32_t)enc;
        if ((rc = read_rm(m, insn, opb, &v, &pf_err, &pf_addr)))
            return mem_fault(m, rc, pf_err, pf_addr, res);
        st = vtx_vmwrite(m, enc, v, &r);
        return outcome(m, insn, st, &r, res);
    }
    case VTX_EXIT_REASON_INVEPT:
    case VTX_EXIT_REASON_INVVPID: {
        if (insn->rm_gpr != VTX_GPR_NONE || !insn->has_mem)
            return vtx_root_exception(m, 6, false, 0, 0, res);
        uint64_t type = m->host.gpr[insn->reg_gpr & 15];
        if (opb == 4)
            type = (uint32_t)type;
        uint64_t desc[2] = {0, 0};
        if ((rc = operand(m, insn, desc, 16, false, &pf_err, &pf_addr)))
            return mem_fault(m, rc, pf_err, pf_addr, res);
        if (which == VTX_EXIT_REASON_INVEPT) {
            vtx_invept_desc d = {desc[0], desc[1]};
            st = vtx_invept(m, type, &d, &r);
        } else {
            vtx_invvpid_desc d = {desc[0], desc[1]};
            st = vtx_invvpid(m, type, &d, &r);
        }
        if (m->engine)
            vtx_engine_flush_tlb(m->engine);
        return outcome(m, insn, st, &r, res);
    }
    default:
        return vtx_root_exception(m, 6, false, 0, 0, res);
    }
}
