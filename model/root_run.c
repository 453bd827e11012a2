/*
 * Running code in VMX root operation (include/vtxref/root.h): the root-mode
 * processor (m->host) runs on the same engine as guests, which stops before
 * every instruction the model carries out itself (root_insn.c, root_vmx.c).
 * Between those the engine runs plain computation; at every stop the model
 * evaluates the root-mode boundary: a single-step #DB, an NMI (ROOT-NMI-1), a
 * maskable interrupt (ROOT-INTR-1), the HLT activity state (ROOT-IDLE-1).
 */
#include <stdarg.h>
#include "msr.h"
#include "root_internal.h"

#define RFLAGS_RF (1ull << 16)

static const char *const end_names[] = {"budget", "bus-stop", "triple-fault", "hang", "unmapped", "unsupported",
                                         "engine-limit"};

const char *vtx_root_end_name(vtx_root_end end)
{
    return (unsigned)end < sizeof end_names / sizeof end_names[0] ? end_names[end] : "?";
}

vtx_rstep vtx_root_stop(vtx_root_result *res, vtx_root_end end, uint64_t rip, const char *fmt, ...)
{
    res->end = end;
    res->rip = rip;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->why, sizeof res->why, fmt, ap);
    va_end(ap);
    return VTX_RSTEP_END;
}

static vtx_cpu_seg flat(uint16_t sel, uint32_t ar)
{
    return (vtx_cpu_seg){.sel = sel, .base = 0, .limit = 0xFFFFFFFFu, .ar = ar};
}

vtx_status vtx_root_start(vtx_machine *m, const vtx_root_entry *entry)
{
    if (!m || !entry)
        return VTX_ERR_INVALID_ARG;
    if (m->vmx_on || m->in_guest)
        return VTX_ERR_STATE;
    vtx_cpu_state *h = &m->host;
    memset(h, 0, sizeof *h);
    h->rip = entry->eip;
    h->gpr[VTX_R_RAX] = entry->eax;
    h->gpr[VTX_R_RBX] = entry->ebx;
    h->rflags = 2;
    h->cr0 = VTX_CR0_PE | 0x10; /* PE | ET */
    h->dr7 = 0x400;
    h->dr6 = 0xFFFF0FF0u;
    h->seg[VTX_S_CS] = flat(0x10, 0xC09B);
    for (int s = VTX_S_ES; s <= VTX_S_GS; s++)
        if (s != VTX_S_CS)
            h->seg[s] = flat(0x18, 0xC093);
    h->seg[VTX_S_LDTR] = (vtx_cpu_seg){.ar = 0x10082};
    h->seg[VTX_S_TR] = (vtx_cpu_seg){.limit = 0xFFFF, .ar = 0x8B};
    h->gdtr_limit = h->idtr_limit = 0xFFFF;
    m->root.cr0 = h->cr0;
    m->root.cr4 = 0;
    m->root.efer = 0;
    m->root.rflags = 2;
    m->root.cs_l = false;
    m->root.cpl = 0;
    m->root.feature_control = 0; /* unlocked: the kernel enables VMX itself */
    m->root.blocking_by_mov_ss = false;
    vtx_msr_power_on(m);
    m->host_block_sti = m->host_block_movss = m->host_block_nmi = m->host_halted = false;
    m->host_pending_db = 0;
    m->host_running = true;
    return VTX_OK;
}

vtx_status vtx_root_set_trace(vtx_machine *m, FILE *out)
{
    if (!m)
        return VTX_ERR_INVALID_ARG;
    m->root_trace = out;
    return VTX_OK;
}

void vtx_root_sync(vtx_machine *m)
{
    const vtx_cpu_state *h = &m->host;
    vtx_root_state *r = &m->root;
    r->cr0 = h->cr0;
    r->cr4 = h->cr4;
    r->efer = h->efer;
    r->rflags = h->rflags;
    r->cs_l = (h->seg[VTX_S_CS].ar >> 13) & 1;
    r->cpl = (uint8_t)vtx_cpu_cpl(h);
    r->blocking_by_mov_ss = m->host_block_movss;
    m->host_msr.fs_base = h->seg[VTX_S_FS].base;
    m->host_msr.gs_base = h->seg[VTX_S_GS].base;
}

void vtx_root_retire(vtx_machine *m, uint64_t n, vtx_insn_class cls)
{
    if (!n)
        return;
    m->instructions += n;
    m->cycles += n * m->costs.by_class[cls == VTX_IC_CLI ? VTX_IC_OTHER : cls];
    m->host_block_sti = m->host_block_movss = false;
    if (cls != VTX_IC_IRET)
        m->host.rflags &= ~RFLAGS_RF;
}

void vtx_root_retire_emulated(vtx_machine *m, const vtx_insn *insn)
{
    if ((m->host.rflags & VTX_RFLAGS_TF) && insn->cls != VTX_IC_HLT)
        m->host_pending_db |= 1u << 14;
    m->host.rip += insn->len;
    if (vtx_cpu_mode_of(&m->host) != VTX_MODE_LONG64)
        m->host.rip = (uint32_t)m->host.rip;
    vtx_root_retire(m, 1, (vtx_insn_class)insn->cls);
}

/* ROOT-EXC-1: exceptions and interrupts in root operation are delivered through
 * the host's IDT (cpu/deliver.c); ROOT-EXC-2: a fault while delivering makes a
 * #DF as SDM Table 6-5 says, and a fault while delivering a #DF a triple fault,
 * which ends the run (shutdown). */
vtx_rstep vtx_root_deliver(vtx_machine *m, vtx_delivery d, vtx_root_result *res)
{
    const vtx_paging_caps caps = {.maxphyaddr = m->profile.phys_addr_width, .pages_1g = false};
    vtx_exc_class first = vtx_deliver_class(d.vector, d.type);
    uint8_t first_vector = d.vector;
    for (int depth = 0; depth < 3; depth++) {
        vtx_deliver_result dr;
        vtx_deliver_ex(&m->host, &m->phys, &caps, &d, &dr);
        switch (dr.outcome) {
        case VTX_DELIVERED:
            m->host_halted = false;
            m->host_block_sti = m->host_block_movss = false;
            if (d.type == VTX_EVT_NMI)
                m->host_block_nmi = true; /* ROOT-NMI-1: blocked until the next IRET */
            m->cycles += m->costs.by_class[VTX_IC_INT_N];
            return VTX_RSTEP_GO;
        case VTX_DELIVER_UNMAPPED:
            return vtx_root_stop(res, VTX_ROOT_UNMAPPED, m->host.rip,
                                "delivering vector %u in root operation reads physical address 0x%llx, which is not "
                                "mapped (RIP 0x%llx)", d.vector, (unsigned long long)dr.address,
                                (unsigned long long)m->host.rip);
        case VTX_DELIVER_TASK_GATE:
            return vtx_root_stop(res, VTX_ROOT_UNSUPPORTED, m->host.rip,
                                "vector %u in root operation goes through a task gate (TSS selector 0x%llx): task "
                                "switches are not modelled in root operation", d.vector,
                                (unsigned long long)dr.address);
        case VTX_DELIVER_FAULT: {
            vtx_exc_class second = vtx_deliver_class(dr.fault.vector, VTX_EVT_HW_EXC);
            if (first == VTX_EXC_DOUBLE_FAULT && vtx_deliver_makes_triple(first, second))
                return vtx_root_stop(res, VTX_ROOT_TRIPLE_FAULT, m->host.rip,
                                    "triple fault in root operation: #%u while delivering #DF (RIP 0x%llx)",
                                    dr.fault.vector, (unsigned long long)m->host.rip);
            if (dr.fault.vector == 14)
                m->host.cr2 = dr.address;
            if (vtx_deliver_makes_df(first, second)) {
                d = (vtx_delivery){.vector = 8, .type = VTX_EVT_HW_EXC, .has_error_code = true};
                first = VTX_EXC_DOUBLE_FAULT;
            } else {
                d = dr.fault;
                first = second;
            }
            (void)first_vector;
            break;
        }
        }
    }
    return vtx_root_stop(res, VTX_ROOT_TRIPLE_FAULT, m->host.rip,
                        "triple fault in root operation: nested faults delivering vector %u (RIP 0x%llx)",
                        first_vector, (unsigned long long)m->host.rip);
}

vtx_rstep vtx_root_exception(vtx_machine *m, uint8_t vector, bool has_err, uint32_t err, uint64_t cr2,
                             vtx_root_result *res)
{
    if (!(m->host.cr0 & VTX_CR0_PE))
        has_err = false;
    if (vector == 14)
        m->host.cr2 = cr2;
    vtx_delivery d = {.vector = vector, .type = VTX_EVT_HW_EXC, .has_error_code = has_err, .error_code = err,
                      .push_rf = vtx_exception_is_fault(vector)};
    return vtx_root_deliver(m, d, res);
}

/* Load the host into the engine (which then no longer holds the guest). */
static bool host_on_engine(vtx_machine *m, vtx_root_result *res)
{
    const char *why = NULL;
    bool ok = vtx_engine_make(m, &why);
    m->engine_dirty = true; /* the engine holds the host from now on: a guest is loaded again */
    if (!ok || !m->engine) {
        vtx_root_stop(res, VTX_ROOT_UNSUPPORTED, m->host.rip, "the execution engine is not available: %s",
                     why ? why : "unknown");
        return false;
    }
    if (vtx_engine_set_state(m->engine, &m->host, &why) != 0) {
        vtx_root_stop(res, why && strstr(why, "identity paging") ? VTX_ROOT_ENGINE_LIMIT : VTX_ROOT_UNSUPPORTED, m->host.rip, "the root-mode state cannot be executed at RIP 0x%llx: %s",
                     (unsigned long long)m->host.rip, why ? why : "unknown");
        return false;
    }
    return true;
}

/* The classes root-mode runs stop before: what root_insn.c carries out or must see. */
static vtx_class_set root_classes(void)
{
    static const vtx_insn_class engine_runs[] = {
        VTX_IC_OTHER, VTX_IC_CLI, VTX_IC_JMP_FAR, VTX_IC_CALL_FAR, VTX_IC_RET_FAR, VTX_IC_LGDT, VTX_IC_LIDT,
        VTX_IC_SGDT, VTX_IC_SIDT, VTX_IC_LLDT, VTX_IC_LTR, VTX_IC_SLDT, VTX_IC_STR, VTX_IC_SMSW, VTX_IC_INVLPG,
        VTX_IC_PAUSE, VTX_IC_WBINVD, VTX_IC_INVD, VTX_IC_MOV_FROM_DR, VTX_IC_MOV_TO_DR, VTX_IC_CLTS, VTX_IC_LMSW,
    };
    uint64_t bits = VTX_IC_COUNT == 64 ? ~0ull : (1ull << VTX_IC_COUNT) - 1;
    for (size_t i = 0; i < sizeof engine_runs / sizeof engine_runs[0]; i++)
        bits &= ~(1ull << engine_runs[i]);
    return (vtx_class_set){bits};
}

static vtx_rstep after_stop(vtx_machine *m, const vtx_stop *s, vtx_insn_class cls, vtx_root_result *res);

/* ROOT-ENG-1: Unicorn 2.0.1 checks a linear address's page-table entries and then
 * accesses physical == linear, so a kernel whose tables map a linear address
 * elsewhere (kvm-unit-tests' vmap at the top of the address space) makes an
 * access to "physical" memory at the linear address. When the stop's address is
 * a linear address the tables map to a different physical one, the run ends
 * naming that limit (Unicorn 2.1 translates, docs/platforms.md), not as an
 * access to unmodelled memory. */
bool vtx_root_engine_limit(vtx_machine *m, const vtx_cpu_state *s, uint64_t lin, vtx_root_result *res)
{
    if (vtx_engine_translates_paging() || !(s->cr0 & VTX_CR0_PG))
        return false;
    const vtx_paging_caps caps = {.maxphyaddr = m->profile.phys_addr_width, .pages_1g = true};
    uint64_t pa = 0;
    uint32_t err = 0;
    if (vtx_translate_ex(s, &m->phys, &caps, lin, VTX_ACC_NO_AD, &pa, &err) != VTX_XLATE_OK || pa == lin)
        return false;
    res->address = lin;
    vtx_root_stop(res, VTX_ROOT_ENGINE_LIMIT, s->rip,
                  "the page tables map linear address 0x%llx to physical address 0x%llx, and Unicorn %s runs only "
                  "identity paging (linear == physical; Unicorn 2.1 runs any mapping, docs/platforms.md) "
                  "(near RIP 0x%llx)", (unsigned long long)lin, (unsigned long long)pa,
                  vtx_engine_unicorn_version(), (unsigned long long)s->rip);
    return true;
}

vtx_rstep vtx_root_step_engine(vtx_machine *m, const vtx_insn *insn, vtx_root_result *res)
{
    vtx_stop s;
    vtx_class_set none = {0};
    if (vtx_engine_run(m->engine, 1, none, true, &s) != 0 && s.reason != VTX_STOP_ERROR)
        return vtx_root_stop(res, VTX_ROOT_UNSUPPORTED, m->host.rip, "the execution engine failed");
    vtx_engine_get_state(m->engine, &m->host);
    if (s.reason == VTX_STOP_COUNT && s.retired == 1) {
        vtx_root_retire(m, 1, (vtx_insn_class)insn->cls);
        return VTX_RSTEP_GO;
    }
    return after_stop(m, &s, (vtx_insn_class)insn->cls, res);
}

static vtx_rstep after_stop(vtx_machine *m, const vtx_stop *s, vtx_insn_class cls, vtx_root_result *res)
{
    switch (s->reason) {
    case VTX_STOP_COUNT:
    case VTX_STOP_BOUNDARY:
        vtx_root_retire(m, s->retired, cls);
        return VTX_RSTEP_GO;
    case VTX_STOP_HLT:
        vtx_root_retire(m, s->retired, cls);
        m->host_halted = true;
        return VTX_RSTEP_GO;
    case VTX_STOP_EXCEPTION:
        vtx_root_retire(m, s->retired, cls);
        if (s->vector == 1 && s->trap) {
            m->host_pending_db |= 1u << 14;
            return VTX_RSTEP_GO;
        }
        if (!s->trap && s->retired)
            return VTX_RSTEP_GO; /* the fault recurs at its own boundary */
        return vtx_root_exception(m, s->vector, s->has_error_code, s->error_code, s->address, res);
    case VTX_STOP_UNMAPPED:
        vtx_root_retire(m, s->retired, cls);
        res->address = s->address;
        if (vtx_root_engine_limit(m, &m->host, s->address, res))
            return VTX_RSTEP_END;
        return vtx_root_stop(res, VTX_ROOT_UNMAPPED, m->host.rip,
                            "root-mode code accessed physical address 0x%llx, which is neither RAM nor a modelled "
                            "device (near RIP 0x%llx)", (unsigned long long)s->address,
                            (unsigned long long)(s->insn ? s->insn->rip : m->host.rip));
    case VTX_STOP_BEFORE:
        if (s->retired) {
            vtx_root_retire(m, s->retired, cls);
            return VTX_RSTEP_GO;
        }
        return vtx_root_insn(m, s->insn, res);
    case VTX_STOP_ERROR:
    default:
        vtx_root_retire(m, s->retired, cls);
        return vtx_root_stop(res, VTX_ROOT_UNSUPPORTED, m->host.rip, "the execution engine failed at RIP 0x%llx: %s",
                            (unsigned long long)m->host.rip, s->why ? s->why : "unknown error");
    }
}

vtx_rstep vtx_root_guest_stopped(vtx_machine *m, const vtx_insn_result *r, vtx_status st, bool budget_used,
                                 vtx_root_result *res)
{
    res->in_guest = true;
    vtx_root_end end = m->bus_stop ? VTX_ROOT_BUS_STOP
                       : budget_used ? VTX_ROOT_BUDGET
                       : strstr(r->why, "identity paging")
                           ? VTX_ROOT_ENGINE_LIMIT
                       : st == VTX_ERR_UNMAPPED ? VTX_ROOT_UNMAPPED
                       : strstr(r->why, "nothing armed") ? VTX_ROOT_HANG
                       : VTX_ROOT_UNSUPPORTED;
    return vtx_root_stop(res, end, m->g.cpu.rip, "in the guest: %s", r->why);
}

vtx_status vtx_root_run(vtx_machine *m, uint64_t max_insns, uint64_t max_cycles, vtx_root_result *res)
{
    if (!m || !res)
        return VTX_ERR_INVALID_ARG;
    memset(res, 0, sizeof *res);
    if (!m->host_running)
        return VTX_ERR_STATE;
    const uint64_t start_insns = m->instructions, start_cycles = m->cycles;
    const uint64_t insn_end = max_insns ? start_insns + max_insns : UINT64_MAX;
    const uint64_t cycle_end = max_cycles ? start_cycles + max_cycles : UINT64_MAX;
    m->bus_stop = false;
    m->host_insn_end = insn_end;
    m->host_cycle_end = cycle_end;
    const vtx_class_set stop_set = root_classes();
    for (;;) {
        if (m->instructions >= insn_end || m->cycles >= cycle_end) {
            vtx_root_stop(res, VTX_ROOT_BUDGET, m->in_guest ? m->g.cpu.rip : m->host.rip,
                         "the budget of %llu instructions / %llu cycles is used up",
                         (unsigned long long)max_insns, (unsigned long long)max_cycles);
            res->in_guest = m->in_guest;
            return VTX_OK;
        }
        if (m->in_guest) {
            /* A guest whose run stopped at the budget goes on (VM exit or stop). */
            m->limits.instructions = insn_end == UINT64_MAX ? 0 : insn_end - m->instructions;
            m->limits.cycles = cycle_end == UINT64_MAX ? 0 : cycle_end - m->cycles;
            vtx_insn_result r;
            vtx_status st = vtx_continue(m, &r);
            if (m->in_guest) {
                bool used = m->instructions >= insn_end || m->cycles >= cycle_end;
                vtx_root_guest_stopped(m, &r, st, used, res);
                return VTX_OK;
            }
            vtx_root_after_exit(m);
            continue;
        }
        uint64_t input_insn, input_cycle;
        vtx_inputs_apply(m, &input_insn, &input_cycle);
        vtx_bus_sample(m);
        uint64_t deadline = vtx_bus_deadline(m);
        if (input_cycle < deadline)
            deadline = input_cycle;
        vtx_cpu_state *h = &m->host;
        bool shadow = m->host_block_sti || m->host_block_movss;
        /* The root-mode boundary: a pending single-step #DB first (a trap of the
         * instruction before), then NMI, then a maskable interrupt. */
        vtx_rstep rs = VTX_RSTEP_GO;
        if (m->host_pending_db && !m->host_block_movss) {
            h->dr6 |= m->host_pending_db & 0x400F;
            m->host_pending_db = 0;
            rs = vtx_root_deliver(m, (vtx_delivery){.vector = 1, .type = VTX_EVT_HW_EXC}, res);
        } else if (m->nmi_pending && !m->host_block_nmi && !m->host_block_movss &&
                   !(m->host_block_sti && (m->profile.knobs & VTX_KNOB_STI_NMI))) {
            m->nmi_pending = false; /* ROOT-NMI-1 */
            rs = vtx_root_deliver(m, (vtx_delivery){.vector = 2, .type = VTX_EVT_NMI}, res);
        } else if (m->intr_line && (h->rflags & VTX_RFLAGS_IF) && !shadow) {
            uint8_t v = m->intr_vector; /* ROOT-INTR-1 */
            m->intr_line = false;
            vtx_bus_ack(m, v);
            rs = vtx_root_deliver(m, (vtx_delivery){.vector = v, .type = VTX_EVT_EXTINT}, res);
        } else if (m->host_halted) {
            /* ROOT-IDLE-1: idle time goes straight to the next deadline. */
            if (deadline == UINT64_MAX || deadline <= m->cycles) {
                if (deadline <= m->cycles && deadline != UINT64_MAX)
                    continue;
                vtx_root_stop(res, VTX_ROOT_HANG, h->rip,
                             "HLT at RIP 0x%llx with %s and nothing armed that can wake the processor",
                             (unsigned long long)h->rip, (h->rflags & VTX_RFLAGS_IF) ? "IF = 1" : "IF = 0");
                return VTX_OK;
            }
            m->cycles = deadline < cycle_end ? deadline : cycle_end;
            continue;
        } else {
            if (!host_on_engine(m, res))
                return VTX_OK;
            uint64_t budget = insn_end == UINT64_MAX ? 0 : insn_end - m->instructions;
            uint64_t until = deadline < cycle_end ? deadline : cycle_end;
            if (input_insn != UINT64_MAX && (!budget || input_insn - m->instructions < budget))
                budget = input_insn > m->instructions ? input_insn - m->instructions : 1;
            if (until != UINT64_MAX) {
                uint64_t cost = m->costs.by_class[VTX_IC_OTHER];
                uint64_t n = until > m->cycles ? (until - m->cycles + cost - 1) / cost : 1;
                if (!budget || n < budget)
                    budget = n ? n : 1;
            }
            if (shadow || (h->rflags & RFLAGS_RF))
                budget = 1;
            vtx_engine_set_boundary_fn(m->engine, NULL, NULL);
            vtx_stop s;
            int rc = vtx_engine_run(m->engine, budget, stop_set, false, &s);
            vtx_engine_get_state(m->engine, h);
            if (rc != 0 && s.reason != VTX_STOP_ERROR) {
                vtx_root_stop(res, VTX_ROOT_UNSUPPORTED, h->rip, "the execution engine failed at RIP 0x%llx",
                             (unsigned long long)h->rip);
                return VTX_OK;
            }
            rs = after_stop(m, &s, VTX_IC_OTHER, res);
        }
        if (rs == VTX_RSTEP_END) {
            res->in_guest = m->in_guest;
            return VTX_OK;
        }
        if (m->bus_stop) {
            vtx_root_stop(res, VTX_ROOT_BUS_STOP, h->rip, "the platform ended the run (RIP 0x%llx)",
                         (unsigned long long)h->rip);
            return VTX_OK;
        }
    }
}
