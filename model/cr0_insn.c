/*
 * SMSW and LMSW in VMX non-root operation: the CR0 guest/host mask and the CR0
 * read shadow (SDM Vol. 3C "Changes to Instruction Behavior in VMX Non-Root
 * Operation": LMSW, SMSW; "Instructions That Cause VM Exits Conditionally":
 * LMSW; "Relative Priority of Faults and VM Exits": faults while fetching an
 * operand come before a VM exit conditioned on its contents), and the guest's
 * linear memory they read and write.
 * Rules INS-SMSW-1, INS-LMSW-1 (docs/rules-own.tsv).
 */
#include "guest_insn.h"

#include "msr.h"

/* The modelled processor's paging capabilities (execute.c uses the same). */
static vtx_paging_caps caps_of(const vtx_machine *m)
{
    return vtx_guest_caps(m);
}

bool vtx_guest_linear_access(const vtx_machine *m, uint64_t la, void *buf, size_t len, bool write, unsigned how,
                             vtx_linear_fault *f)
{
    const vtx_cpu_state *c = &m->g.cpu;
    const vtx_paging_caps caps = caps_of(m);
    bool long64 = vtx_cpu_mode_of(c) == VTX_MODE_LONG64;
    unsigned acc = (write ? VTX_ACC_WRITE : 0) | ((how & VTX_LIN_PROBE) ? VTX_ACC_NO_AD : 0) |
                   ((how & VTX_LIN_IMPLICIT) ? VTX_ACC_IMPLICIT : vtx_cpu_cpl(c) == 3 ? VTX_ACC_USER : 0);
    uint8_t *p = buf;
    *f = (vtx_linear_fault){0};
    while (len) {
        if (!long64)
            la = (uint32_t)la;
        size_t n = 0x1000 - (la & 0xFFF);
        if (n > len)
            n = len;
        uint64_t pa = 0;
        uint32_t ec = 0;
        vtx_machine *mm = (vtx_machine *)(uintptr_t)m; /* the EPT records its faults in the machine */
        mm->ept_fault.pending = false;
        vtx_xlate_status xs = vtx_translate_ex(c, vtx_gmem(m), &caps, la, acc, &pa, &ec);
        if (xs == VTX_XLATE_PF) {
            *f = (vtx_linear_fault){.kind = VTX_LINEAR_PF, .error_code = ec, .address = la};
            return false;
        }
        bool ok = xs == VTX_XLATE_OK && (write ? vtx_gmem(m)->write(vtx_gmem(m)->ctx, pa, p, n) : vtx_gmem(m)->read(vtx_gmem(m)->ctx, pa, p, n));
        if (!ok) {
            vtx_ept_fault_at_linear(mm, la, xs == VTX_XLATE_OK); /* EPT-V-3: bits 7 and 8 */
            *f = (vtx_linear_fault){.kind = VTX_LINEAR_UNMAPPED, .address = pa};
            return false;
        }
        la += n;
        p += n;
        len -= n;
    }
    return true;
}

bool vtx_lmsw_source(const vtx_machine *m, const vtx_insn *insn, bool probe, uint16_t *src, vtx_linear_fault *f)
{
    *f = (vtx_linear_fault){0};
    if (!insn->mem_operand) {
        *src = (uint16_t)m->g.cpu.gpr[insn->gpr & 15];
        return true;
    }
    uint8_t b[2] = {0, 0};
    if (!vtx_guest_linear_access(m, vtx_insn_linear(m, insn), b, 2, false, probe ? VTX_LIN_PROBE : 0, f))
        return false;
    *src = (uint16_t)(b[0] | b[1] << 8);
    return true;
}

uint64_t vtx_lmsw_result(const vtx_machine *m, uint16_t src)
{
    uint64_t cr0 = m->g.cpu.cr0;
    uint64_t mask = vtx_vmcs_get(&m->current->f, VTX_SLOT_CR0_GUEST_HOST_MASK);
    /* LMSW writes CR0 bits 3:0 (PE, MP, EM, TS) and never clears PE; bits the
     * host owns (mask 1) keep their value. */
    uint64_t writable = 0xFull & ~mask;
    uint64_t v = (cr0 & ~writable) | (src & writable);
    if (cr0 & VTX_CR0_PE)
        v |= VTX_CR0_PE;
    return v;
}

uint64_t vtx_smsw_value(const vtx_machine *m)
{
    uint64_t mask = vtx_vmcs_get(&m->current->f, VTX_SLOT_CR0_GUEST_HOST_MASK);
    uint64_t shadow = vtx_vmcs_get(&m->current->f, VTX_SLOT_CR0_READ_SHADOW);
    return (shadow & mask) | (m->g.cpu.cr0 & ~mask);
}

bool vtx_smsw_store(vtx_machine *m, const vtx_insn *insn, uint64_t la)
{
    uint64_t v = vtx_smsw_value(m);
    if (insn->mem_operand) {
        /* The memory form stores 16 bits; the engine's store went through, so
         * the translation exists (no accessed/dirty bits left to set). */
        uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
        vtx_linear_fault f;
        return vtx_guest_linear_access(m, la, b, 2, true, VTX_LIN_PROBE, &f);
    }
    if (insn->rm_gpr == VTX_GPR_NONE)
        return false;
    uint64_t *r = &m->g.cpu.gpr[insn->rm_gpr & 15];
    /* r16: the low 16 bits; r32: zero-extended; r64: all of it (the bits above
     * 15 are CR0's, which the SDM calls undefined; the shadow applies to them too). */
    if (insn->op_size == 2)
        *r = (*r & ~0xFFFFull) | (v & 0xFFFF);
    else if (insn->op_size == 4)
        *r = (uint32_t)v;
    else
        *r = v;
    m->engine_dirty = true;
    return true;
}
