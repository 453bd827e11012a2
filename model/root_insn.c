/*
 * The instructions a root-mode run stops before (root_run.c): what Unicorn
 * cannot do in root operation (CPUID, RDMSR/WRMSR, RDTSC, IN/OUT, MOV CR, HLT,
 * the VMX instructions), what changes the root-mode boundary (STI, MOV SS,
 * POP SS, POPF, IRET), and software interrupts, delivered through the host IDT.
 */
#include "guest_insn.h"
#include "msr.h"
#include "root_internal.h"

#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR4_PCE (1ull << 8) /* performance-monitoring counter enable */

static bool long64(const vtx_machine *m) { return vtx_cpu_mode_of(&m->host) == VTX_MODE_LONG64; }

uint64_t vtx_root_linear(const vtx_machine *m, const vtx_insn *insn)
{
    const vtx_cpu_state *c = &m->host;
    uint64_t ea = vtx_insn_offset_in(c, insn);
    unsigned seg = insn->mem_seg < VTX_S_LDTR ? insn->mem_seg : VTX_S_DS;
    if (long64(m))
        return (seg == VTX_S_FS || seg == VTX_S_GS) ? ea + c->seg[seg].base : ea;
    return (uint32_t)(ea + c->seg[seg].base);
}

int vtx_root_mem(vtx_machine *m, uint64_t la, void *buf, size_t len, bool write, uint32_t *pf_err, uint64_t *pf_addr)
{
    const vtx_paging_caps caps = {.maxphyaddr = m->profile.phys_addr_width, .pages_1g = false};
    unsigned access = (write ? VTX_ACC_WRITE : 0) | (vtx_cpu_cpl(&m->host) == 3 ? VTX_ACC_USER : 0);
    uint64_t pa[16];
    size_t n = 0;
    /* Translate every page first: a fault leaves memory untouched. */
    for (size_t off = 0; off < len; n++) {
        uint64_t a = la + off;
        uint32_t err = 0;
        vtx_xlate_status xs = vtx_translate_ex(&m->host, &m->phys, &caps, a, access, &pa[n], &err);
        if (xs == VTX_XLATE_PF) {
            *pf_err = err;
            *pf_addr = a;
            return 1;
        }
        if (xs == VTX_XLATE_UNMAPPED) {
            *pf_addr = pa[n];
            return 2;
        }
        size_t chunk = 4096 - (a & 0xFFF);
        off += chunk < len - off ? chunk : len - off;
    }
    uint8_t *b = buf;
    n = 0;
    for (size_t off = 0; off < len; n++) {
        uint64_t a = la + off;
        size_t chunk = 4096 - (a & 0xFFF);
        if (chunk > len - off)
            chunk = len - off;
        bool ok = write ? m->phys.write(m->phys.ctx, pa[n], b + off, chunk) : m->phys.read(m->phys.ctx, pa[n], b + off, chunk);
        if (!ok) {
            *pf_addr = pa[n];
            return 2;
        }
        off += chunk;
    }
    return 0;
}

/* Capability MSRs of the profile (0x480-0x491), read-only. */
static bool cap_msr(const vtx_machine *m, uint32_t index, uint64_t *v)
{
    return index >= 0x480 && index <= 0x491 && vtx_profile_read_msr(&m->profile, index, v) == VTX_OK;
}

/* ROOT-MSR-1: RDMSR/WRMSR in root operation reach the bus first (IA32_APIC_BASE
 * with a local APIC), then the capability MSRs of the profile (read-only), then
 * the model's MSR file with the host's copies of the VMCS-switched MSRs (msr.h);
 * anything else raises #GP(0). */
bool vtx_root_rdmsr(vtx_machine *m, uint32_t index, uint64_t *value)
{
    if (m->has_bus && m->bus.msr_read) {
        vtx_bus_rc rc = m->bus.msr_read(m->bus.user, m->cycles, index, value);
        if (rc != VTX_BUS_NOT_MINE)
            return rc == VTX_BUS_OK;
    }
    if (cap_msr(m, index, value))
        return true;
    vtx_root_sync(m);
    return vtx_msr_read(m, VTX_MSR_HOST, index, value);
}

bool vtx_root_wrmsr(vtx_machine *m, uint32_t index, uint64_t value)
{
    if (m->has_bus && m->bus.msr_write) {
        vtx_bus_rc rc = m->bus.msr_write(m->bus.user, m->cycles, index, value);
        if (rc != VTX_BUS_NOT_MINE)
            return rc == VTX_BUS_OK;
    }
    uint64_t dummy;
    if (cap_msr(m, index, &dummy))
        return false;
    vtx_root_sync(m);
    if (!vtx_msr_write(m, VTX_MSR_HOST, index, value, NULL))
        return false;
    vtx_cpu_state *h = &m->host;
    h->efer = m->root.efer;
    h->seg[VTX_S_FS].base = m->host_msr.fs_base;
    h->seg[VTX_S_GS].base = m->host_msr.gs_base;
    return true;
}

/* ROOT-CR-1: MOV to CR0/CR3/CR4 in root operation, with the #GP(0) of reserved
 * bits, PG without PE, NW without CD, clearing PG or PAE in IA-32e mode, and in
 * VMX operation the IA32_VMX_CR0/CR4_FIXED0/1 bits (SDM "Restrictions on VMX
 * Operation"). Returns false on #GP. */
static bool mov_to_cr(vtx_machine *m, unsigned cr, uint64_t v)
{
    vtx_cpu_state *h = &m->host;
    bool ia32e = h->efer & VTX_EFER_LMA;
    const uint64_t *cap = m->profile.msr;
    switch (cr) {
    case 0: {
        if ((v >> 32) || ((v & VTX_CR0_PG) && !(v & VTX_CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)))
            return false;
        if (ia32e && !(v & VTX_CR0_PG))
            return false;
        if ((v & VTX_CR0_PG) && !(h->cr0 & VTX_CR0_PG) && (h->efer & VTX_EFER_LME) && !(h->cr4 & VTX_CR4_PAE))
            return false;
        if (m->vmx_on && (((v & cap[VTX_CAP_IA32_VMX_CR0_FIXED0]) != cap[VTX_CAP_IA32_VMX_CR0_FIXED0]) ||
                          (v & ~cap[VTX_CAP_IA32_VMX_CR0_FIXED1])))
            return false;
        bool pg_on = (v & VTX_CR0_PG) && !(h->cr0 & VTX_CR0_PG);
        bool pg_off = !(v & VTX_CR0_PG) && (h->cr0 & VTX_CR0_PG);
        h->cr0 = v | 0x10; /* ET is fixed to 1 */
        if (pg_on && (h->efer & VTX_EFER_LME))
            h->efer |= VTX_EFER_LMA;
        if (pg_off)
            h->efer &= ~(uint64_t)VTX_EFER_LMA;
        return true;
    }
    case 2:
        h->cr2 = long64(m) ? v : (uint32_t)v;
        return true;
    case 3: {
        uint64_t addr = ia32e ? v & ~(1ull << 63) : v;
        if (ia32e ? (addr >> m->profile.phys_addr_width) != 0 : (v >> 32) != 0)
            return false;
        h->cr3 = addr;
        return true;
    }
    case 4:
        if (v & ~cap[VTX_CAP_IA32_VMX_CR4_FIXED1] & ~(uint64_t)VTX_CR4_VMXE)
            return false;
        if (ia32e && !(v & VTX_CR4_PAE))
            return false;
        if (m->vmx_on && (v & cap[VTX_CAP_IA32_VMX_CR4_FIXED0]) != cap[VTX_CAP_IA32_VMX_CR4_FIXED0])
            return false;
        h->cr4 = v;
        return true;
    case 8:
        if (v >> 4)
            return false;
        h->cr8 = v;
        if (m->has_bus && m->bus.cr8_write)
            m->bus.cr8_write(m->bus.user, m->cycles, v);
        return true;
    default:
        return false;
    }
}

static void set_sized(uint64_t *r, uint64_t v, unsigned bytes)
{
    switch (bytes) {
    case 1: *r = (*r & ~0xFFull) | (v & 0xFF); break;
    case 2: *r = (*r & ~0xFFFFull) | (v & 0xFFFF); break;
    default: *r = (uint32_t)v; break;
    }
}

/* ROOT-PMC-1: RDPMC (SDM Vol. 2 "RDPMC"): #GP(0) at CPL > 0 with CR4.PCE = 0;
 * ECX selects a general-purpose counter (bit 30 clear: index below CPUID.0AH:
 * EAX[15:8]) or a fixed one (bit 30 set: index below CPUID.0AH:EDX[4:0], with
 * version 2 or later); any other ECX is #GP(0). The counters are those of the
 * root-mode CPUID (root_cpuid.c), which reports no performance monitoring (leaf
 * 0xA reads 0): every RDPMC that passes the privilege check is #GP(0). Were
 * counters reported, they would read 0 (nothing counts events). */
static vtx_rstep rdpmc(vtx_machine *m, const vtx_insn *insn, vtx_root_result *res)
{
    vtx_cpu_state *h = &m->host;
    if (vtx_cpu_cpl(h) > 0 && !(h->cr4 & CR4_PCE))
        return vtx_root_exception(m, 13, true, 0, 0, res);
    uint32_t pmu[4];
    vtx_root_cpuid(m, 0xA, 0, pmu);
    uint32_t ecx = (uint32_t)h->gpr[VTX_R_RCX];
    uint32_t index = ecx & ~(1u << 30);
    bool fixed = ecx & (1u << 30);
    uint32_t version = pmu[0] & 0xFF;
    uint32_t n = fixed ? (version >= 2 ? pmu[3] & 0x1F : 0) : (pmu[0] >> 8) & 0xFF;
    if (index >= n)
        return vtx_root_exception(m, 13, true, 0, 0, res);
    h->gpr[VTX_R_RAX] = 0;
    h->gpr[VTX_R_RDX] = 0;
    vtx_root_retire_emulated(m, insn);
    return VTX_RSTEP_GO;
}

vtx_rstep vtx_root_insn(vtx_machine *m, const vtx_insn *insn, vtx_root_result *res)
{
    vtx_cpu_state *h = &m->host;
    unsigned cpl = vtx_cpu_cpl(h);
    if (insn->cls == VTX_IC_UD && insn->len == 0) {
        /* PG-11: bytes the engine could not read, not an invalid instruction */
        vtx_insn other = *insn;
        other.cls = VTX_IC_OTHER;
        vtx_engine_refetch(m->engine);
        return vtx_root_step_engine(m, &other, res);
    }
    switch (insn->cls) {
    case VTX_IC_UD:
    case VTX_IC_VMFUNC:
    case VTX_IC_XSAVES: case VTX_IC_XRSTORS: case VTX_IC_UWAIT: case VTX_IC_SGX: case VTX_IC_PCONFIG:
    case VTX_IC_RSM: case VTX_IC_GETSEC: case VTX_IC_MONITOR: case VTX_IC_MWAIT: case VTX_IC_XSETBV:
    case VTX_IC_RDRAND: case VTX_IC_RDSEED: case VTX_IC_RDPID: case VTX_IC_INVPCID:
        /* ROOT-UD-1: not offered by the CPUID of root_cpuid.c: #UD. */
        return vtx_root_exception(m, 6, false, 0, 0, res);
    case VTX_IC_VMX:
        return vtx_root_vmx(m, insn, res);
    case VTX_IC_VMCALL: {
        /* ROOT-VMX-3: VMCALL in VMX root operation without the dual-monitor
         * treatment fails with error 1; outside VMX operation it is #UD. */
        if (!m->vmx_on)
            return vtx_root_exception(m, 6, false, 0, 0, res);
        if (cpl > 0)
            return vtx_root_exception(m, 13, true, 0, 0, res);
        vtx_root_sync(m);
        vtx_insn_result r;
        vtx_res_reset(&r);
        vtx_vmfail(m, &r, (vtx_vm_insn_error)1, VTX_CHECK_NONE, "VMCALL executed in VMX root operation");
        h->rflags = (h->rflags & ~0x8D5ull) | (m->root.rflags & 0x8D5ull);
        vtx_root_retire_emulated(m, insn);
        return VTX_RSTEP_GO;
    }
    case VTX_IC_HLT:
        if (cpl > 0)
            return vtx_root_exception(m, 13, true, 0, 0, res);
        vtx_root_retire_emulated(m, insn);
        m->host_halted = true; /* ROOT-IDLE-1 */
        return VTX_RSTEP_GO;
    case VTX_IC_CPUID: {
        uint32_t out[4];
        vtx_root_cpuid(m, (uint32_t)h->gpr[VTX_R_RAX], (uint32_t)h->gpr[VTX_R_RCX], out);
        h->gpr[VTX_R_RAX] = out[0];
        h->gpr[VTX_R_RBX] = out[1];
        h->gpr[VTX_R_RCX] = out[2];
        h->gpr[VTX_R_RDX] = out[3];
        vtx_root_retire_emulated(m, insn);
        return VTX_RSTEP_GO;
    }
    case VTX_IC_RDTSC:
    case VTX_IC_RDTSCP: {
        /* ROOT-TSC-1: the TSC is the cycle clock plus IA32_TIME_STAMP_COUNTER's adjustment. */
        if ((h->cr4 & (1u << 2)) && cpl > 0)
            return vtx_root_exception(m, 13, true, 0, 0, res);
        uint64_t tsc = vtx_msr_tsc(m);
        h->gpr[VTX_R_RAX] = (uint32_t)tsc;
        h->gpr[VTX_R_RDX] = tsc >> 32;
        if (insn->cls == VTX_IC_RDTSCP)
            h->gpr[VTX_R_RCX] = (uint32_t)m->msr.tsc_aux;
        vtx_root_retire_emulated(m, insn);
        return VTX_RSTEP_GO;
    }
    case VTX_IC_RDMSR:
    case VTX_IC_WRMSR: {
        if (cpl > 0)
            return vtx_root_exception(m, 13, true, 0, 0, res);
        uint32_t index = (uint32_t)h->gpr[VTX_R_RCX];
        if (insn->cls == VTX_IC_RDMSR) {
            uint64_t v;
            if (!vtx_root_rdmsr(m, index, &v))
                return vtx_root_exception(m, 13, true, 0, 0, res);
            h->gpr[VTX_R_RAX] = (uint32_t)v;
            h->gpr[VTX_R_RDX] = v >> 32;
        } else {
            uint64_t v = (h->gpr[VTX_R_RDX] << 32) | (uint32_t)h->gpr[VTX_R_RAX];
            if (!vtx_root_wrmsr(m, index, v))
                return vtx_root_exception(m, 13, true, 0, 0, res);
            if (m->engine)
                vtx_engine_flush_tlb(m->engine);
        }
        vtx_root_retire_emulated(m, insn);
        return VTX_RSTEP_GO;
    }
    case VTX_IC_IN:
    case VTX_IC_OUT: {
        /* ROOT-IO-1: port I/O goes to the bus; ROOT-IO-2: CPL > IOPL consults
         * the TSS's I/O permission bit map (#GP(0) when a bit is set). */
        uint16_t port = insn->port_in_dx ? (uint16_t)h->gpr[VTX_R_RDX] : insn->imm8;
        if (vtx_root_io_denied(m, port, insn->op_size))
            return vtx_root_exception(m, 13, true, 0, 0, res);
        uint64_t rip = h->rip;
        bool go;
        if (insn->cls == VTX_IC_IN) {
            uint32_t v;
            go = vtx_bus_in(m, rip, port, insn->op_size, &v);
            set_sized(&h->gpr[VTX_R_RAX], v, insn->op_size);
        } else {
            go = vtx_bus_out(m, rip, port, insn->op_size, (uint32_t)h->gpr[VTX_R_RAX]);
        }
        vtx_root_retire_emulated(m, insn);
        if (!go)
            return vtx_root_stop(res, VTX_ROOT_BUS_STOP, rip, "the platform ended the run at port 0x%x (RIP 0x%llx)",
                                port, (unsigned long long)rip);
        return VTX_RSTEP_GO;
    }
    case VTX_IC_INS:
    case VTX_IC_OUTS:
        return vtx_root_string_io(m, insn, res);
    case VTX_IC_RDPMC:
        return rdpmc(m, insn, res);
    case VTX_IC_FAST_SYSCALL: {
        /* ROOT-SYS-1: SYSCALL, SYSRET, SYSENTER, SYSEXIT as in non-root operation
         * (fast_syscall.c), with the host's SYSENTER MSRs. RIP becomes the target. */
        const vtx_fast_msrs msr = {.star = m->msr.star, .lstar = m->msr.lstar, .fmask = m->msr.fmask,
                                   .sysenter_cs = m->host_msr.sysenter_cs,
                                   .sysenter_esp = m->host_msr.sysenter_esp,
                                   .sysenter_eip = m->host_msr.sysenter_eip};
        bool tf = h->rflags & VTX_RFLAGS_TF;
        unsigned fault = vtx_fast_syscall_on(h, &msr, insn);
        if (fault)
            return vtx_root_exception(m, (uint8_t)fault, fault == 13, 0, 0, res);
        if (tf && (h->rflags & VTX_RFLAGS_TF))
            m->host_pending_db |= 1u << 14;
        vtx_root_retire(m, 1, (vtx_insn_class)insn->cls);
        return VTX_RSTEP_GO;
    }
    case VTX_IC_MOV_TO_CR:
        if (cpl > 0 || !mov_to_cr(m, insn->cr, long64(m) ? h->gpr[insn->gpr & 15] : (uint32_t)h->gpr[insn->gpr & 15]))
            return vtx_root_exception(m, 13, true, 0, 0, res);
        if (m->engine)
            vtx_engine_flush_tlb(m->engine);
        vtx_root_retire_emulated(m, insn);
        return VTX_RSTEP_GO;
    case VTX_IC_MOV_FROM_CR: {
        if (cpl > 0)
            return vtx_root_exception(m, 13, true, 0, 0, res);
        uint64_t v;
        switch (insn->cr) {
        case 0: v = h->cr0; break;
        case 2: v = h->cr2; break;
        case 3: v = h->cr3; break;
        case 4: v = h->cr4; break;
        case 8: v = (m->has_bus && m->bus.cr8_read) ? m->bus.cr8_read(m->bus.user, m->cycles) : h->cr8; break;
        default: return vtx_root_exception(m, 6, false, 0, 0, res);
        }
        h->gpr[insn->gpr & 15] = long64(m) ? v : (uint32_t)v;
        vtx_root_retire_emulated(m, insn);
        return VTX_RSTEP_GO;
    }
    case VTX_IC_INT_N:
        return vtx_root_deliver(m, (vtx_delivery){.vector = insn->imm8, .type = VTX_EVT_SW_INT, .insn_len = insn->len},
                                res);
    case VTX_IC_INT3:
        return vtx_root_deliver(m, (vtx_delivery){.vector = 3, .type = VTX_EVT_SW_EXC, .insn_len = insn->len}, res);
    case VTX_IC_INTO:
        if (long64(m))
            return vtx_root_exception(m, 6, false, 0, 0, res);
        if (!(h->rflags & VTX_RFLAGS_OF)) {
            vtx_root_retire_emulated(m, insn);
            return VTX_RSTEP_GO;
        }
        return vtx_root_deliver(m, (vtx_delivery){.vector = 4, .type = VTX_EVT_SW_EXC, .insn_len = insn->len}, res);
    case VTX_IC_INT1:
        return vtx_root_deliver(m, (vtx_delivery){.vector = 1, .type = VTX_EVT_PRIV_SW, .insn_len = insn->len}, res);
    case VTX_IC_STI: {
        /* ROOT-STI-1: STI that sets IF blocks interrupts for one instruction. */
        bool if_before = h->rflags & VTX_RFLAGS_IF;
        vtx_rstep s = vtx_root_step_engine(m, insn, res);
        if (s == VTX_RSTEP_GO && !if_before && (h->rflags & VTX_RFLAGS_IF) && h->rip != insn->rip)
            m->host_block_sti = true;
        return s;
    }
    case VTX_IC_MOV_SS:
    case VTX_IC_POP_SS: {
        /* ROOT-MSS-1: MOV SS / POP SS block interrupts, NMIs and #DB for one
         * instruction; VMLAUNCH/VMRESUME there fail with error 26 (ENT-BASIC-2). */
        uint64_t rip = h->rip;
        vtx_rstep s = vtx_root_step_engine(m, insn, res);
        if (s == VTX_RSTEP_GO && h->rip != rip)
            m->host_block_movss = true;
        return s;
    }
    case VTX_IC_IRET:
        /* ROOT-NMI-1: IRET ends blocking by NMI. */
        m->host_block_nmi = false;
        return vtx_root_step_engine(m, insn, res);
    default:
        return vtx_root_step_engine(m, insn, res);
    }
}
