/*
 * The model's MSRs and the MSR areas of VM entry and VM exit (msr.h says which
 * MSRs exist, where each value lives and what WRMSR faults on).
 *
 * SDM Vol. 3 "Loading MSRs" (VM entries): each entry of the VM-entry MSR-load
 * area (16 bytes: index 31:0, reserved 63:32, value 127:64) is processed in
 * order as WRMSR would write it; processing fails for IA32_FS_BASE/GS_BASE, the
 * x2APIC MSRs (index 31:8 = 000008H), an MSR writable only in SMM outside SMM,
 * bits 63:32 not 0, or a value WRMSR would #GP on. The failure is a VM-entry
 * failure exit 34 | 0x80000000 with the 1-based entry number as the exit
 * qualification (catalogue ENT-BASIC-5). "Saving MSRs" / "Loading MSRs" (VM
 * exits): the same per entry for the MSR-store and MSR-load areas; a failure
 * there is a VMX abort (SDM "VMX Aborts"), which the model does not model.
 */
#include <inttypes.h>
#include <stdio.h>
#include "msr.h"

/* IA32_DEBUGCTL bits that exist: LBR (0), BTF (1), TR..RTM_DEBUG (15:6) (as entry_guest.c). */
#define DEBUGCTL_VALID 0xFFC3ull
/* IA32_EFER bits that exist: SCE (0), LME (8), LMA (10), NXE (11). */

/* Canonical for 48-bit linear addresses: bits 63:47 all equal. */
static bool canonical(uint64_t v)
{
    uint64_t top = v >> 47;
    return top == 0 || top == 0x1FFFF;
}

/* Every byte of an IA32_PAT value is a valid memory type (0, 1, 4, 5, 6, 7). */
static bool pat_ok(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        unsigned t = (unsigned)(v >> (8 * i)) & 0xFF;
        if (!(t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || t == 7))
            return false;
    }
    return true;
}

void vtx_msr_power_on(vtx_machine *m)
{
    if (m->msr.ready)
        return;
    m->msr = (vtx_msr_file){.ready = true, .apic_base = 0xFEE00900ull};
    m->g.pat = VTX_PAT_POWER_ON;
    m->host_msr.pat = VTX_PAT_POWER_ON;
}

uint64_t vtx_msr_tsc(const vtx_machine *m) { return m->cycles + m->msr.tsc_adjust; }

uint32_t vtx_msr_list_max(const vtx_machine *m)
{
    return 512u * ((uint32_t)((m->profile.msr[VTX_CAP_IA32_VMX_MISC] >> 25) & 7) + 1);
}

bool vtx_msr_read(const vtx_machine *m, vtx_msr_side side, uint32_t index, uint64_t *value)
{
    const vtx_guest *g = &m->g;
    const vtx_host_msrs *h = &m->host_msr;
    bool guest = side == VTX_MSR_GUEST;
    uint64_t v;
    switch (index) {
    case VTX_MSR_P5_MC_ADDR: case VTX_MSR_P5_MC_TYPE: v = 0; break;
    case VTX_MSR_TSC: v = vtx_msr_tsc(m); break;
    case VTX_MSR_APIC_BASE: v = m->msr.apic_base; break;
    case VTX_MSR_FEATURE_CONTROL: v = m->root.feature_control; break;
    case VTX_MSR_SYSENTER_CS: v = guest ? g->sysenter_cs : h->sysenter_cs; break;
    case VTX_MSR_SYSENTER_ESP: v = guest ? g->sysenter_esp : h->sysenter_esp; break;
    case VTX_MSR_SYSENTER_EIP: v = guest ? g->sysenter_eip : h->sysenter_eip; break;
    case VTX_MSR_DEBUGCTL: v = guest ? g->debugctl : h->debugctl; break;
    case VTX_MSR_PAT: v = guest ? g->pat : h->pat; break;
    case VTX_MSR_EFER: v = guest ? g->cpu.efer : m->root.efer; break;
    case VTX_MSR_STAR: v = m->msr.star; break;
    case VTX_MSR_LSTAR: v = m->msr.lstar; break;
    case VTX_MSR_CSTAR: v = m->msr.cstar; break;
    case VTX_MSR_FMASK: v = m->msr.fmask; break;
    case VTX_MSR_FS_BASE: v = guest ? g->cpu.seg[VTX_S_FS].base : h->fs_base; break;
    case VTX_MSR_GS_BASE: v = guest ? g->cpu.seg[VTX_S_GS].base : h->gs_base; break;
    case VTX_MSR_KERNEL_GS_BASE: v = m->msr.kernel_gs_base; break;
    case VTX_MSR_TSC_AUX: v = m->msr.tsc_aux; break;
    default: return false;
    }
    *value = v;
    return true;
}

/* Why WRMSR of v to `index` would raise #GP(0), or NULL when it would not. */
static const char *write_fault(const vtx_machine *m, vtx_msr_side side, uint32_t index, uint64_t v)
{
    bool guest = side == VTX_MSR_GUEST;
    switch (index) {
    case VTX_MSR_P5_MC_ADDR: case VTX_MSR_P5_MC_TYPE:
        return v ? "only 0 may be written (machine-check bank 0 address/status)" : NULL;
    case VTX_MSR_TSC: case VTX_MSR_STAR:
        return NULL;
    case VTX_MSR_APIC_BASE: {
        unsigned w = m->profile.phys_addr_width;
        uint64_t valid = ((w >= 64 ? ~0ull : ((1ull << w) - 1)) & ~0xFFFull) | (1ull << 8) | (1ull << 11);
        return (v & ~valid) ? "sets a reserved bit (7:0, 9, 10 = x2APIC mode, or beyond MAXPHYADDR)" : NULL;
    }
    case VTX_MSR_FEATURE_CONTROL:
        if (m->root.feature_control & 1)
            return "IA32_FEATURE_CONTROL is locked (bit 0), as it always is in VMX operation";
        return (v & ~7ull) ? "sets a bit other than 2:0" : NULL;
    case VTX_MSR_SYSENTER_CS:
        return NULL;
    case VTX_MSR_SYSENTER_ESP: case VTX_MSR_SYSENTER_EIP: case VTX_MSR_LSTAR: case VTX_MSR_CSTAR:
    case VTX_MSR_FS_BASE: case VTX_MSR_GS_BASE: case VTX_MSR_KERNEL_GS_BASE:
        return canonical(v) ? NULL : "the address is not canonical";
    case VTX_MSR_DEBUGCTL:
        return (v & ~DEBUGCTL_VALID) ? "sets a reserved bit (only 0, 1 and 15:6 exist)" : NULL;
    case VTX_MSR_PAT:
        return pat_ok(v) ? NULL : "a byte is not a memory type 0, 1, 4, 5, 6 or 7";
    case VTX_MSR_EFER: {
        if (v & ~VTX_EFER_DEFINED)
            return "sets a reserved bit (only SCE 0, LME 8, LMA 10, NXE 11 exist)";
        uint64_t cur = guest ? m->g.cpu.efer : m->root.efer;
        uint64_t cr0 = guest ? m->g.cpu.cr0 : m->root.cr0;
        if ((cr0 & VTX_CR0_PG) && ((v ^ cur) & VTX_EFER_LME))
            return "changes LME while CR0.PG = 1";
        return NULL;
    }
    case VTX_MSR_FMASK: case VTX_MSR_TSC_AUX:
        return (v >> 32) ? "bits 63:32 are reserved" : NULL;
    default:
        return "the model has no such MSR";
    }
}

bool vtx_msr_write(vtx_machine *m, vtx_msr_side side, uint32_t index, uint64_t v, const char **why)
{
    const char *fault = write_fault(m, side, index, v);
    if (fault) {
        if (why)
            *why = fault;
        return false;
    }
    vtx_guest *g = &m->g;
    vtx_host_msrs *h = &m->host_msr;
    bool guest = side == VTX_MSR_GUEST;
    switch (index) {
    case VTX_MSR_TSC: m->msr.tsc_adjust = v - m->cycles; break;
    case VTX_MSR_APIC_BASE: m->msr.apic_base = v; break;
    case VTX_MSR_FEATURE_CONTROL: m->root.feature_control = v; break;
    case VTX_MSR_SYSENTER_CS: if (guest) g->sysenter_cs = (uint32_t)v; else h->sysenter_cs = (uint32_t)v; break;
    case VTX_MSR_SYSENTER_ESP: if (guest) g->sysenter_esp = v; else h->sysenter_esp = v; break;
    case VTX_MSR_SYSENTER_EIP: if (guest) g->sysenter_eip = v; else h->sysenter_eip = v; break;
    case VTX_MSR_DEBUGCTL: if (guest) g->debugctl = v; else h->debugctl = v; break;
    case VTX_MSR_PAT: if (guest) g->pat = v; else h->pat = v; break;
    case VTX_MSR_EFER: {
        uint64_t *efer = guest ? &g->cpu.efer : &m->root.efer;
        *efer = (v & ~(uint64_t)VTX_EFER_LMA) | (*efer & VTX_EFER_LMA); /* LMA is ignored on write */
        break;
    }
    case VTX_MSR_STAR: m->msr.star = v; break;
    case VTX_MSR_LSTAR: m->msr.lstar = v; break;
    case VTX_MSR_CSTAR: m->msr.cstar = v; break;
    case VTX_MSR_FMASK: m->msr.fmask = v; break;
    case VTX_MSR_FS_BASE: if (guest) g->cpu.seg[VTX_S_FS].base = v; else h->fs_base = v; break;
    case VTX_MSR_GS_BASE: if (guest) g->cpu.seg[VTX_S_GS].base = v; else h->gs_base = v; break;
    case VTX_MSR_KERNEL_GS_BASE: m->msr.kernel_gs_base = v; break;
    case VTX_MSR_TSC_AUX: m->msr.tsc_aux = v; break;
    default: break; /* P5_MC_ADDR/TYPE: 0 written, nothing kept */
    }
    if (guest)
        m->engine_dirty = true;
    return true;
}

/* One 16-byte entry of an MSR area. */
typedef struct msr_entry {
    uint32_t index, reserved;
    uint64_t value;
} msr_entry;

/* Read entry i of the area at `area` (little-endian); false when unmapped. */
static bool read_entry(const vtx_machine *m, uint64_t area, uint32_t i, msr_entry *e)
{
    uint8_t b[16];
    if (vtx_mem_read(m, area + 16ull * i, b, sizeof b, NULL) != VTX_OK)
        return false;
    e->index = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    e->reserved = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    e->value = 0;
    for (int k = 7; k >= 0; k--)
        e->value = (e->value << 8) | b[8 + k];
    return true;
}

/* The index checks shared by the two load areas (SDM: the same list for VM
 * entry and VM exit). Returns the check that fails, or VTX_CHECK_NONE. */
static vtx_check load_index_check(const msr_entry *e)
{
    if (e->reserved)
        return VTX_CHECK_GUEST_MSR_LOAD_RESERVED;
    if (e->index == VTX_MSR_FS_BASE || e->index == VTX_MSR_GS_BASE)
        return VTX_CHECK_GUEST_MSR_LOAD_FS_GS_BASE;
    if ((e->index >> 8) == 0x000008)
        return VTX_CHECK_GUEST_MSR_LOAD_X2APIC;
    /* The model is never in SMM: IA32_SMM_MONITOR_CTL (and IA32_SMBASE) cannot be loaded. */
    if (e->index == VTX_MSR_SMM_MONITOR_CTL || e->index == VTX_MSR_SMBASE)
        return VTX_CHECK_GUEST_MSR_LOAD_SMM;
    return VTX_CHECK_NONE;
}

/* The sentence of a load_index_check() failure. */
static const char *load_index_text(vtx_check c)
{
    switch (c) {
    case VTX_CHECK_GUEST_MSR_LOAD_RESERVED: return "bits 63:32 of the entry are not 0";
    case VTX_CHECK_GUEST_MSR_LOAD_FS_GS_BASE: return "IA32_FS_BASE and IA32_GS_BASE cannot be loaded from an MSR area";
    case VTX_CHECK_GUEST_MSR_LOAD_X2APIC: return "an x2APIC MSR (index bits 31:8 = 000008H) cannot be loaded";
    case VTX_CHECK_GUEST_MSR_LOAD_SMM: return "the MSR can be written only in SMM, and the processor is not in SMM";
    default: return "?";
    }
}

bool vtx_msr_entry_load(vtx_machine *m, const vtx_vmcs_values *f, vtx_entry_fail *fail)
{
    uint32_t count = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_ENTRY_MSR_LOAD_COUNT);
    uint64_t area = vtx_vmcs_get(f, VTX_SLOT_ENTRY_MSR_LOAD_ADDR);
    uint32_t max = vtx_msr_list_max(m);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t n = i + 1;
        /* The SDM leaves a count above the recommended maximum undefined (possibly a
         * machine check); the model fails the first entry beyond it. */
        if (i >= max)
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_MSR_LOAD_COUNT, n,
                                   "VM-entry MSR-load count %u exceeds the maximum of %u entries (512 * "
                                   "(IA32_VMX_MISC[27:25] + 1)): entry %u fails", count, max, n);
        msr_entry e;
        if (!read_entry(m, area, i, &e))
            return vtx_entry_failf(fail, VTX_CHECK_GUEST_MSR_LOAD_UNREADABLE, n,
                                   "VM-entry MSR-load entry %u at 0x%" PRIx64 " cannot be read (unmapped memory)",
                                   n, (uint64_t)(area + 16u * (uint64_t)i));
        vtx_check c = load_index_check(&e);
        if (c != VTX_CHECK_NONE)
            return vtx_entry_failf(fail, c, n, "VM-entry MSR-load entry %u (MSR 0x%x, bits 63:32 0x%x): %s", n,
                                   e.index, e.reserved, load_index_text(c));
        uint64_t old;
        bool known = vtx_msr_read(m, VTX_MSR_GUEST, e.index, &old);
        const char *why = NULL;
        if (!vtx_msr_write(m, VTX_MSR_GUEST, e.index, e.value, &why))
            return vtx_entry_failf(fail, known ? VTX_CHECK_GUEST_MSR_LOAD_VALUE : VTX_CHECK_GUEST_MSR_LOAD_UNKNOWN, n,
                                   "VM-entry MSR-load entry %u: WRMSR of 0x%" PRIx64 " to MSR 0x%x would raise "
                                   "#GP(0): %s", n, e.value, e.index, why);
    }
    return true;
}

bool vtx_msr_exit_store(vtx_machine *m, const vtx_vmcs_values *f, char *why, size_t why_len)
{
    uint32_t count = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_MSR_STORE_COUNT);
    uint64_t area = vtx_vmcs_get(f, VTX_SLOT_EXIT_MSR_STORE_ADDR);
    uint32_t max = vtx_msr_list_max(m);
    /* Pass 0 checks every entry (rewriting each value slot with the bytes it
     * holds, to prove it writable) so that a failing entry leaves memory as it
     * was; pass 1 stores the values. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < count; i++) {
            uint32_t n = i + 1;
            msr_entry e = {0};
            const char *problem = NULL;
            uint64_t v = 0;
            if (i >= max)
                problem = "the count exceeds 512 * (IA32_VMX_MISC[27:25] + 1) (undefined behaviour)";
            else if (!read_entry(m, area, i, &e))
                problem = "the entry cannot be read (unmapped memory)";
            else if (e.reserved)
                problem = "bits 63:32 of the entry are not 0";
            else if ((e.index >> 8) == 0x000008)
                problem = "an x2APIC MSR (index bits 31:8 = 000008H) cannot be stored";
            else if (e.index == VTX_MSR_SMBASE)
                problem = "IA32_SMBASE can be read only in SMM";
            else if (!vtx_msr_read(m, VTX_MSR_GUEST, e.index, &v))
                problem = "RDMSR of it would raise #GP(0): the model has no such MSR";
            else {
                uint8_t b[8];
                uint64_t w = pass ? v : e.value;
                for (int k = 0; k < 8; k++)
                    b[k] = (uint8_t)(w >> (8 * k));
                if (vtx_mem_write(m, area + 16ull * i + 8, b, sizeof b, NULL) != VTX_OK)
                    problem = "the entry cannot be written (unmapped or read-only memory)";
            }
            if (problem) {
                snprintf(why, why_len, "VM-exit MSR-store entry %u (MSR 0x%x) fails: %s", n, e.index, problem);
                return false;
            }
        }
    }
    return true;
}

bool vtx_msr_exit_load(vtx_machine *m, const vtx_vmcs_values *f, char *why, size_t why_len)
{
    uint32_t count = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_MSR_LOAD_COUNT);
    uint64_t area = vtx_vmcs_get(f, VTX_SLOT_EXIT_MSR_LOAD_ADDR);
    uint32_t max = vtx_msr_list_max(m);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t n = i + 1;
        msr_entry e = {0};
        const char *problem = NULL;
        vtx_check c;
        if (i >= max)
            problem = "the count exceeds 512 * (IA32_VMX_MISC[27:25] + 1) (undefined behaviour)";
        else if (!read_entry(m, area, i, &e))
            problem = "the entry cannot be read (unmapped memory)";
        else if ((c = load_index_check(&e)) != VTX_CHECK_NONE)
            problem = load_index_text(c);
        else
            (void)vtx_msr_write(m, VTX_MSR_HOST, e.index, e.value, &problem); /* sets problem on #GP */
        if (problem) {
            snprintf(why, why_len, "VM-exit MSR-load entry %u (MSR 0x%x, value 0x%" PRIx64 ") fails: %s", n,
                     e.index, e.value, problem);
            return false;
        }
    }
    return true;
}
