/*
 * "Virtualize x2APIC mode" (secondary processor-based control bit 4): RDMSR and
 * WRMSR of x2APIC MSRs that the MSR bitmap does not make exit (SDM Vol. 3
 * "Virtualizing MSR-Based APIC Accesses"), without "APIC-register virtualization"
 * (refused at VM entry). The MSRs are the table VTX_X2APIC_VIRT_MSRS (apic_virt.h).
 *
 * - RDMSR 808H (TPR): EDX:EAX <- the 8 bytes at offset 80H (VTPR and the 4 bytes
 *   above it), whether or not the local APIC is in x2APIC mode. Other x2APIC MSRs
 *   read normally (the model has no local APIC: #GP, msr.c).
 * - WRMSR 808H; 80BH and 83FH with "virtual-interrupt delivery": #GP(0) for the
 *   register's reserved bits; else EDX:EAX is stored at offset (ECX & FFH) << 4 and
 *   TPR virtualization, EOI virtualization, or self-IPI virtualization follows
 *   (a self-IPI vector with bits 7:4 = 0 is a trap-like APIC-write exit, reason 56,
 *   qualification 3F0H). Other x2APIC MSRs write normally (#GP, msr.c).
 */
#include "apic_virt.h"

typedef struct x2apic_msr {
    uint32_t msr;
    uint64_t reserved; /* bits of EDX:EAX that must be 0 */
    bool needs_vid;
} x2apic_msr;

static const x2apic_msr msrs[] = {
#define VTX_X_X2(n, msr, rsvd, vid) {msr, rsvd, vid},
    VTX_X2APIC_VIRT_MSRS(VTX_X_X2)
#undef VTX_X_X2
};

enum {
#define VTX_X_X2N(n, msr, rsvd, vid) X2APIC_##n = msr,
    VTX_X2APIC_VIRT_MSRS(VTX_X_X2N)
#undef VTX_X_X2N
};

vtx_vapic_result vtx_x2apic_msr(vtx_machine *m, bool write)
{
    uint32_t proc2 = vtx_vapic_proc2(m);
    if (!(proc2 & VTX_PROC2_VIRT_X2APIC))
        return VTX_VAPIC_NOT_MINE;
    vtx_cpu_state *c = &m->g.cpu;
    uint32_t index = (uint32_t)c->gpr[VTX_R_RCX];
    const x2apic_msr *x = NULL;
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++)
        if (msrs[i].msr == index && (!msrs[i].needs_vid || (proc2 & VTX_PROC2_VIRT_INTR_DELIVERY)))
            x = &msrs[i];
    if (!x)
        return VTX_VAPIC_NOT_MINE;
    unsigned offset = (index & 0xFF) << 4;
    if (!write) {
        if (index != X2APIC_TPR)
            return VTX_VAPIC_NOT_MINE;
        uint32_t lo, hi;
        if (!vtx_vapic_read32(m, offset, &lo) || !vtx_vapic_read32(m, offset + 4, &hi))
            return VTX_VAPIC_UNMAPPED;
        c->gpr[VTX_R_RAX] = lo;
        c->gpr[VTX_R_RDX] = hi;
        return VTX_VAPIC_DONE;
    }
    uint64_t v = (c->gpr[VTX_R_RDX] << 32) | (uint32_t)c->gpr[VTX_R_RAX];
    if (v & x->reserved)
        return VTX_VAPIC_GP;
    if (!vtx_vapic_write(m, offset, &v, 8))
        return VTX_VAPIC_UNMAPPED;
    switch (index) {
    case X2APIC_TPR:
        vtx_tpr_virtualize(m);
        break;
    case X2APIC_EOI:
        vtx_eoi_virtualize(m);
        break;
    default: /* X2APIC_SELF_IPI */
        if (v & 0xF0) {
            vtx_self_ipi_virtualize(m, (uint8_t)v);
        } else {
            m->g.apic_trap = VTX_EXIT_REASON_APIC_WRITE;
            m->g.apic_trap_qual = VTX_VAPIC_SELF_IPI;
        }
        break;
    }
    return VTX_VAPIC_DONE;
}
