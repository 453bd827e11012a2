/* A modelled processor: creation, physical memory, root-mode environment. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "execute.h"
#include "vmm_check_internal.h"

vtx_status vtx_machine_config_init(vtx_machine_config *c, const vtx_profile *profile)
{
    if (!c || !profile)
        return VTX_ERR_INVALID_ARG;
    memset(c, 0, sizeof *c);
    c->profile = *profile;
    vtx_root_state *r = &c->root;
    /* A 64-bit VMM at CPL 0 that has done what VMXON needs. ET, MP and WP are
     * what a long-mode kernel runs with. */
    r->cr0 = VTX_CR0_PE | (1u << 1) /* MP */ | (1u << 4) /* ET */ | VTX_CR0_NE | (1u << 16) /* WP */ |
             VTX_CR0_PG;
    r->cr0 |= profile->msr[VTX_CAP_IA32_VMX_CR0_FIXED0];
    r->cr4 = VTX_CR4_PAE | VTX_CR4_VMXE | profile->msr[VTX_CAP_IA32_VMX_CR4_FIXED0];
    r->efer = VTX_EFER_LME | VTX_EFER_LMA;
    r->rflags = 0x2;
    r->cs_l = true;
    r->cpl = 0;
    r->feature_control = VTX_FEATURE_CONTROL_LOCK | VTX_FEATURE_CONTROL_VMX_OUTSIDE_SMX;
    c->costs = (vtx_cycle_costs){.vm_entry = 400, .vm_exit = 400};
    for (int i = 0; i < VTX_IC_COUNT; i++)
        c->costs.by_class[i] = vtx_insn_class_default_cost((vtx_insn_class)i);
    c->limits = (vtx_run_limits){.instructions = 100000000, .cycles = 0};
    return VTX_OK;
}

static bool mem_read_cb(void *ctx, uint64_t pa, void *buf, size_t len)
{
    return vtx_mem_read(ctx, pa, buf, len, NULL) == VTX_OK;
}

static bool mem_write_cb(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    return vtx_mem_write(ctx, pa, buf, len, NULL) == VTX_OK;
}

vtx_status vtx_machine_create(const vtx_machine_config *c, vtx_machine **out, vtx_diag *diag)
{
    if (!c || !out)
        return VTX_ERR_INVALID_ARG;
    *out = NULL;
    vtx_status st = vtx_profile_validate(&c->profile, diag);
    if (st != VTX_OK)
        return st;
    if (c->root.cpl > 3) {
        vtx_diag_set(diag, NULL, 0, "root state: CPL %u is not 0..3", c->root.cpl);
        return VTX_ERR_INVALID_ARG;
    }
    for (int i = 0; i < VTX_IC_COUNT; i++)
        if (c->costs.by_class[i] == 0) {
            vtx_diag_set(diag, NULL, 0, "cycle costs: class %s costs 0 cycles (every instruction costs at least 1)",
                         vtx_insn_class_name((vtx_insn_class)i));
            return VTX_ERR_INVALID_ARG;
        }
    vtx_machine *m = calloc(1, sizeof *m);
    if (!m)
        return VTX_ERR_NO_MEMORY;
    m->profile = c->profile;
    m->root = c->root;
    m->costs = c->costs;
    m->limits = c->limits;
    m->full_entry_checks = c->full_entry_checks;
    vtx_vmcs_support_init(&m->support, &m->profile);
    m->phys = (vtx_phys_mem){.ctx = m, .read = mem_read_cb, .write = mem_write_cb};
    vtx_ept_init(m);
    m->g.cpu.dr6 = 0xFFFF0FF0u; /* DR6 after reset (SDM Vol. 3A "Debug Status Register") */
    *out = m;
    return VTX_OK;
}

void vtx_machine_destroy(vtx_machine *m)
{
    if (!m)
        return;
    vtx_vmm_check_detach(m);
    vtx_execute_release(m);
    for (size_t i = 0; i < m->n_vmcs; i++)
        free(m->vmcs[i]);
    free(m->vmcs);
    free(m->regions);
    free(m);
}

const vtx_profile *vtx_machine_profile(const vtx_machine *m) { return m ? &m->profile : NULL; }

/* ---- physical memory ---- */

vtx_status vtx_machine_map(vtx_machine *m, uint64_t pa, uint64_t size, void *host, unsigned perms,
                           vtx_diag *diag)
{
    if (!m || !host || size == 0 || (perms & ~(unsigned)VTX_MEM_RWX)) {
        vtx_diag_set(diag, NULL, 0, "map: needs a machine, host memory, a non-zero size and RWX permissions");
        return VTX_ERR_INVALID_ARG;
    }
    if ((pa | size) & 0xFFF) {
        vtx_diag_set(diag, NULL, 0, "map: address 0x%llx and size 0x%llx must be multiples of 4096",
              (unsigned long long)pa, (unsigned long long)size);
        return VTX_ERR_INVALID_ARG;
    }
    if (pa + size < pa || (pa + size - 1) >> m->profile.phys_addr_width) {
        vtx_diag_set(diag, NULL, 0, "map: region 0x%llx+0x%llx lies beyond the %u-bit physical-address width",
              (unsigned long long)pa, (unsigned long long)size, m->profile.phys_addr_width);
        return VTX_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < m->n_regions; i++) {
        const vtx_mem_region *r = &m->regions[i];
        if (pa < r->pa + r->size && r->pa < pa + size) {
            vtx_diag_set(diag, NULL, 0, "map: region 0x%llx+0x%llx overlaps the region at 0x%llx",
                  (unsigned long long)pa, (unsigned long long)size, (unsigned long long)r->pa);
            return VTX_ERR_OVERLAP;
        }
    }
    if (m->n_regions == m->cap_regions) {
        size_t cap = m->cap_regions ? m->cap_regions * 2 : 8;
        vtx_mem_region *n = realloc(m->regions, cap * sizeof *n);
        if (!n)
            return VTX_ERR_NO_MEMORY;
        m->regions = n;
        m->cap_regions = cap;
    }
    m->regions[m->n_regions++] = (vtx_mem_region){pa, size, host, perms};
    m->regions_gen++;
    return VTX_OK;
}

vtx_status vtx_machine_unmap(vtx_machine *m, uint64_t pa)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    for (size_t i = 0; i < m->n_regions; i++) {
        if (m->regions[i].pa == pa) {
            m->regions[i] = m->regions[--m->n_regions];
            m->regions_gen++;
            return VTX_OK;
        }
    }
    return VTX_ERR_NOT_FOUND;
}

/* Copy between the caller's buffer and physical memory, region by region. */
static vtx_status mem_copy(const vtx_machine *m, uint64_t pa, void *buf, size_t len, bool write, vtx_diag *diag)
{
    uint8_t *b = buf;
    while (len) {
        const vtx_mem_region *r = NULL;
        for (size_t i = 0; i < m->n_regions; i++)
            if (pa >= m->regions[i].pa && pa - m->regions[i].pa < m->regions[i].size) {
                r = &m->regions[i];
                break;
            }
        if (!r) {
            vtx_diag_set(diag, NULL, 0, "physical address 0x%llx is not mapped", (unsigned long long)pa);
            return VTX_ERR_UNMAPPED;
        }
        uint64_t off = pa - r->pa;
        size_t n = (size_t)(r->size - off < len ? r->size - off : len);
        if (write)
            memcpy(r->host + off, b, n);
        else
            memcpy(b, r->host + off, n);
        b += n;
        pa += n;
        len -= n;
    }
    return VTX_OK;
}

vtx_status vtx_mem_read(const vtx_machine *m, uint64_t pa, void *buf, size_t len, vtx_diag *diag)
{
    return mem_copy(m, pa, buf, len, false, diag);
}

vtx_status vtx_mem_write(vtx_machine *m, uint64_t pa, const void *buf, size_t len, vtx_diag *diag)
{
    return mem_copy(m, pa, (void *)buf, len, true, diag);
}

vtx_status vtx_machine_read_phys(vtx_machine *m, uint64_t pa, void *buf, size_t len, vtx_diag *diag)
{
    if (!m || (!buf && len))
        return VTX_ERR_INVALID_ARG;
    return vtx_mem_read(m, pa, buf, len, diag);
}

vtx_status vtx_machine_write_phys(vtx_machine *m, uint64_t pa, const void *buf, size_t len, vtx_diag *diag)
{
    if (!m || (!buf && len))
        return VTX_ERR_INVALID_ARG;
    return vtx_mem_write(m, pa, buf, len, diag);
}

/* ---- root-mode environment ---- */

vtx_status vtx_machine_get_root(const vtx_machine *m, vtx_root_state *root)
{
    if (!m || !root)
        return VTX_ERR_INVALID_ARG;
    *root = m->root;
    return VTX_OK;
}

static bool fixed_ok(uint64_t v, uint64_t f0, uint64_t f1) { return (v & f0) == f0 && !(v & ~f1); }

vtx_status vtx_machine_set_root(vtx_machine *m, const vtx_root_state *root, vtx_diag *diag)
{
    if (!m || !root)
        return VTX_ERR_INVALID_ARG;
    if (root->cpl > 3) {
        vtx_diag_set(diag, NULL, 0, "CPL %u is not 0..3", root->cpl);
        return VTX_ERR_INVALID_ARG;
    }
    const uint64_t *msr = m->profile.msr;
    if (m->in_guest) {
        vtx_diag_set(diag, NULL, 0, "the machine is in VMX non-root operation (a run stopped); the root environment "
              "comes back with the next VM exit");
        return VTX_ERR_STATE;
    }
    if (m->vmx_on) {
        /* In VMX operation, MOV to CR0/CR4 #GPs on a value outside the fixed bits. */
        if (!fixed_ok(root->cr0, msr[VTX_CAP_IA32_VMX_CR0_FIXED0], msr[VTX_CAP_IA32_VMX_CR0_FIXED1])) {
            vtx_diag_set(diag, NULL, 0, "CR0 0x%llx breaks IA32_VMX_CR0_FIXED0/1 in VMX operation "
                  "(MOV to CR0 would #GP)", (unsigned long long)root->cr0);
            return VTX_ERR_STATE;
        }
        if (!fixed_ok(root->cr4, msr[VTX_CAP_IA32_VMX_CR4_FIXED0], msr[VTX_CAP_IA32_VMX_CR4_FIXED1])) {
            vtx_diag_set(diag, NULL, 0, "CR4 0x%llx breaks IA32_VMX_CR4_FIXED0/1 in VMX operation "
                  "(MOV to CR4 would #GP; CR4.VMXE cannot be cleared before VMXOFF)",
                  (unsigned long long)root->cr4);
            return VTX_ERR_STATE;
        }
    }
    if ((m->root.feature_control & VTX_FEATURE_CONTROL_LOCK) &&
        root->feature_control != m->root.feature_control) {
        vtx_diag_set(diag, NULL, 0, "IA32_FEATURE_CONTROL is locked (bit 0); WRMSR to it would #GP until reset");
        return VTX_ERR_STATE;
    }
    m->root = *root;
    return VTX_OK;
}

/* ---- VMCS introspection ---- */

vtx_vmcs *vtx_vmcs_lookup(const vtx_machine *m, uint64_t pa)
{
    for (size_t i = 0; i < m->n_vmcs; i++)
        if (m->vmcs[i]->pa == pa)
            return m->vmcs[i];
    return NULL;
}

vtx_status vtx_vmcs_get_or_create(vtx_machine *m, uint64_t pa, vtx_vmcs **out)
{
    vtx_vmcs *v = vtx_vmcs_lookup(m, pa);
    if (!v) {
        if (m->n_vmcs == m->cap_vmcs) {
            size_t cap = m->cap_vmcs ? m->cap_vmcs * 2 : 8;
            vtx_vmcs **n = realloc(m->vmcs, cap * sizeof *n);
            if (!n)
                return VTX_ERR_NO_MEMORY;
            m->vmcs = n;
            m->cap_vmcs = cap;
        }
        v = calloc(1, sizeof *v);
        if (!v)
            return VTX_ERR_NO_MEMORY;
        v->pa = pa;
        v->launch = VTX_LAUNCH_CLEAR;
        m->vmcs[m->n_vmcs++] = v;
    }
    *out = v;
    return VTX_OK;
}

bool vtx_machine_in_vmx(const vtx_machine *m) { return m && m->vmx_on; }

uint64_t vtx_machine_current_vmcs(const vtx_machine *m)
{
    return m && m->current ? m->current->pa : VTX_NO_VMCS;
}

vtx_status vtx_machine_vmcs_status(const vtx_machine *m, uint64_t pa, vtx_vmcs_status *s)
{
    if (!m || !s)
        return VTX_ERR_INVALID_ARG;
    const vtx_vmcs *v = vtx_vmcs_lookup(m, pa);
    if (!v)
        return VTX_ERR_NOT_FOUND;
    *s = (vtx_vmcs_status){.pa = pa, .current = v == m->current, .active = v->active, .shadow = v->shadow,
                           .launch = v->launch, .crossed_vmxoff = v->crossed_vmxoff};
    return VTX_OK;
}

vtx_status vtx_machine_peek_field(const vtx_machine *m, uint32_t encoding, uint64_t *value)
{
    if (!m || !value)
        return VTX_ERR_INVALID_ARG;
    if (!m->current)
        return VTX_ERR_STATE;
    bool high;
    int slot = vtx_vmcs_slot(encoding, &high);
    if (slot < 0 || high)
        return VTX_ERR_NOT_FOUND;
    *value = m->current->f.v[slot];
    return VTX_OK;
}

/* ---- registers, observer, platform inputs, clock ---- */

vtx_status vtx_machine_get_gprs(const vtx_machine *m, vtx_gprs *gprs)
{
    if (!m || !gprs)
        return VTX_ERR_INVALID_ARG;
    const uint64_t *r = m->g.cpu.gpr;
    *gprs = (vtx_gprs){r[VTX_R_RAX], r[VTX_R_RCX], r[VTX_R_RDX], r[VTX_R_RBX], r[VTX_R_RBP], r[VTX_R_RSI],
                       r[VTX_R_RDI], r[VTX_R_R8], r[VTX_R_R9], r[VTX_R_R10], r[VTX_R_R11], r[VTX_R_R12],
                       r[VTX_R_R13], r[VTX_R_R14], r[VTX_R_R15]};
    return VTX_OK;
}

vtx_status vtx_machine_set_gprs(vtx_machine *m, const vtx_gprs *gprs)
{
    if (!m || !gprs)
        return VTX_ERR_INVALID_ARG;
    uint64_t *r = m->g.cpu.gpr;
    r[VTX_R_RAX] = gprs->rax, r[VTX_R_RCX] = gprs->rcx, r[VTX_R_RDX] = gprs->rdx, r[VTX_R_RBX] = gprs->rbx;
    r[VTX_R_RBP] = gprs->rbp, r[VTX_R_RSI] = gprs->rsi, r[VTX_R_RDI] = gprs->rdi, r[VTX_R_R8] = gprs->r8;
    r[VTX_R_R9] = gprs->r9, r[VTX_R_R10] = gprs->r10, r[VTX_R_R11] = gprs->r11, r[VTX_R_R12] = gprs->r12;
    r[VTX_R_R13] = gprs->r13, r[VTX_R_R14] = gprs->r14, r[VTX_R_R15] = gprs->r15;
    if (m->in_guest)
        m->engine_dirty = true;
    if (m->vmm_monitor) vtx_vmm_mon_gprs(m);
    return VTX_OK;
}

vtx_status vtx_machine_set_observer(vtx_machine *m, vtx_boundary_observer observer, void *user)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    m->observer = observer;
    m->observer_user = user;
    return VTX_OK;
}

vtx_status vtx_machine_raise_nmi(vtx_machine *m)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    m->nmi_pending = true;
    return VTX_OK;
}

vtx_status vtx_machine_set_intr(vtx_machine *m, bool asserted, uint8_t vector)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    m->intr_line = asserted;
    m->intr_vector = vector;
    return VTX_OK;
}

vtx_status vtx_machine_raise_init(vtx_machine *m)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    m->init_pending = true;
    return VTX_OK;
}

/* A SIPI arrives: in non-root operation it is latched until the next boundary,
 * which takes it (wait-for-SIPI) or discards it (HLT-2, HLT-8); in root
 * operation the processor is not in wait-for-SIPI and it is discarded now. */
static void sipi_arrives(vtx_machine *m, uint8_t vector)
{
    if (!m->in_guest)
        return;
    m->sipi_pending = true;
    m->sipi_vector = vector;
}

vtx_status vtx_machine_raise_sipi(vtx_machine *m, uint8_t vector)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    sipi_arrives(m, vector);
    return VTX_OK;
}

vtx_status vtx_machine_set_limits(vtx_machine *m, const vtx_run_limits *limits)
{
    if (!m || !limits)
        return VTX_ERR_INVALID_ARG;
    m->limits = *limits;
    return VTX_OK;
}

uint64_t vtx_machine_cycles(const vtx_machine *m) { return m ? m->cycles : 0; }
uint64_t vtx_machine_instructions(const vtx_machine *m) { return m ? m->instructions : 0; }
bool vtx_machine_in_guest(const vtx_machine *m) { return m && m->in_guest; }

/* ---- scheduled inputs ---- */

static void apply_input(vtx_machine *m, const vtx_input *in)
{
    switch (in->kind) {
    case VTX_INPUT_NMI: m->nmi_pending = true; break;
    case VTX_INPUT_INTR_ASSERT: m->intr_line = true, m->intr_vector = in->vector; break;
    case VTX_INPUT_INTR_CLEAR: m->intr_line = false; break;
    case VTX_INPUT_INIT: m->init_pending = true; break;
    case VTX_INPUT_SIPI: sipi_arrives(m, in->vector); break;
    }
}

vtx_status vtx_machine_schedule(vtx_machine *m, const vtx_input *in)
{
    if (!m || !in || (unsigned)in->kind > VTX_INPUT_SIPI)
        return VTX_ERR_INVALID_ARG;
    if (m->n_scheduled == sizeof m->scheduled / sizeof m->scheduled[0])
        return VTX_ERR_NO_MEMORY;
    /* Inputs due at the same boundary take effect in the order they were scheduled. */
    m->scheduled[m->n_scheduled++] = *in;
    return VTX_OK;
}

void vtx_inputs_apply(vtx_machine *m, uint64_t *next_insn, uint64_t *next_cycle)
{
    *next_insn = *next_cycle = UINT64_MAX;
    unsigned kept = 0;
    for (unsigned i = 0; i < m->n_scheduled; i++) {
        const vtx_input *in = &m->scheduled[i];
        uint64_t now = in->at_cycle ? m->cycles : m->instructions;
        if (in->when <= now) {
            apply_input(m, in);
            continue;
        }
        uint64_t *next = in->at_cycle ? next_cycle : next_insn;
        if (in->when < *next)
            *next = in->when;
        m->scheduled[kept++] = *in;
    }
    m->n_scheduled = kept;
}
