/*
 * VM-entry checks on the VMX controls (SDM Vol. 3 "Checks on VMX Controls":
 * "VM-Execution Control Fields", "VM-Exit Control Fields", "VM-Entry Control
 * Fields"; catalogue F.2 ENT-CTL-1..9 and E.2 INJ-CHK-1..6). Any failure is
 * VMfailValid with VM-instruction error 7 (vmentry.c reports it).
 *
 * One static function per SDM check group, in the SDM's order; each failure
 * names its check (checks_entry_controls.h) and says which field, which value
 * and which rule. The secondary controls are read only when "activate
 * secondary controls" is 1 and are treated as 0 otherwise, as the SDM says.
 */
#include "entry_checks.h"

/* The control words as VM entry sees them. */
typedef struct ctl_view {
    const vtx_machine *m;
    const vtx_vmcs_values *f;
    uint32_t pin, proc, proc2, exit, entry;
} ctl_view;

static uint64_t get(const ctl_view *c, enum vtx_slot s) { return vtx_vmcs_get(c->f, s); }

/* A 4-KiB-aligned physical address within the width VMX data structures may
 * use (IA32_VMX_BASIC[48], else the physical-address width). */
static bool page_addr_ok(const ctl_view *c, uint64_t pa) { return vtx_vmx_addr_ok(c->m, pa); }
static bool within_width(const ctl_view *c, uint64_t pa) { return !(pa >> vtx_vmx_addr_width(c->m)); }

static const char *page_addr_problem(const ctl_view *c, uint64_t pa)
{
    return (pa & 0xFFF) ? "is not 4-KiB aligned" : "sets bits beyond the physical-address width";
}

/* ---- ENT-CTL-1: allowed-0 and allowed-1 settings of each control field ---- */

static const char *cap_msr_for(const ctl_view *c, vtx_ctl_field field)
{
    bool tru = vtx_basic_true_ctls(c->m->profile.msr[VTX_CAP_IA32_VMX_BASIC]);
    switch (field) {
    case VTX_CTL_PIN: return tru ? "IA32_VMX_TRUE_PINBASED_CTLS" : "IA32_VMX_PINBASED_CTLS";
    case VTX_CTL_PROC: return tru ? "IA32_VMX_TRUE_PROCBASED_CTLS" : "IA32_VMX_PROCBASED_CTLS";
    case VTX_CTL_PROC2: return "IA32_VMX_PROCBASED_CTLS2";
    case VTX_CTL_EXIT: return tru ? "IA32_VMX_TRUE_EXIT_CTLS" : "IA32_VMX_EXIT_CTLS";
    default: return tru ? "IA32_VMX_TRUE_ENTRY_CTLS" : "IA32_VMX_ENTRY_CTLS";
    }
}

static bool check_allowed(const ctl_view *c, vtx_ctl_field field, uint32_t value, vtx_check check,
                          vtx_entry_fail *fail)
{
    uint32_t must1, may1;
    vtx_profile_ctl_caps(&c->m->profile, field, &must1, &may1);
    uint32_t missing = must1 & ~value, extra = value & ~may1;
    if (!missing && !extra)
        return true;
    int bit = __builtin_ctz(missing ? missing : extra);
    const char *name = vtx_control_bit_name(field, (unsigned)bit);
    if (!name)
        name = (vtx_ctl_default1(field) >> bit) & 1 ? "a default1 bit" : "reserved";
    return vtx_entry_failf(fail, check, 0, "%s 0x%08x: bit %d (%s) must be %d (allowed-%d settings of %s)",
                           vtx_control_field_name(field), value, bit, name,
                           missing ? 1 : 0, missing ? 0 : 1, cap_msr_for(c, field));
}

static bool check_exec_allowed(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!check_allowed(c, VTX_CTL_PIN, c->pin, VTX_CHECK_CTL_PIN_ALLOWED, fail) ||
        !check_allowed(c, VTX_CTL_PROC, c->proc, VTX_CHECK_CTL_PROC_ALLOWED, fail))
        return false;
    /* Secondary controls: checked only when activated (c->proc2 is 0 otherwise). */
    if ((c->proc & VTX_PROC_SECONDARY_CONTROLS) &&
        !check_allowed(c, VTX_CTL_PROC2, c->proc2, VTX_CHECK_CTL_PROC2_ALLOWED, fail))
        return false;
    return true;
}

/* ---- ENT-CTL-9: CR3-target count and the I/O and MSR bitmaps ---- */

static bool check_cr3_targets(const ctl_view *c, vtx_entry_fail *fail)
{
    uint32_t count = (uint32_t)get(c, VTX_SLOT_CR3_TARGET_COUNT);
    unsigned max = vtx_misc_cr3_targets(c->m->profile.msr[VTX_CAP_IA32_VMX_MISC]);
    if (count > max)
        return vtx_entry_failf(fail, VTX_CHECK_CTL_CR3_TARGET_COUNT, 0,
                               "CR3-target count %u is greater than %u (IA32_VMX_MISC[24:16])", count, max);
    return true;
}

static bool check_bitmaps(const ctl_view *c, vtx_entry_fail *fail)
{
    if (c->proc & VTX_PROC_IO_BITMAPS) {
        uint64_t a = get(c, VTX_SLOT_IO_BITMAP_A), b = get(c, VTX_SLOT_IO_BITMAP_B);
        if (!page_addr_ok(c, a))
            return vtx_entry_failf(fail, VTX_CHECK_CTL_IO_BITMAP_ADDR, 0,
                                   "\"use I/O bitmaps\" = 1 but I/O-bitmap A address 0x%llx %s",
                                   (unsigned long long)a, page_addr_problem(c, a));
        if (!page_addr_ok(c, b))
            return vtx_entry_failf(fail, VTX_CHECK_CTL_IO_BITMAP_ADDR, 0,
                                   "\"use I/O bitmaps\" = 1 but I/O-bitmap B address 0x%llx %s",
                                   (unsigned long long)b, page_addr_problem(c, b));
    }
    if (c->proc & VTX_PROC_MSR_BITMAPS) {
        uint64_t a = get(c, VTX_SLOT_MSR_BITMAP);
        if (!page_addr_ok(c, a))
            return vtx_entry_failf(fail, VTX_CHECK_CTL_MSR_BITMAP_ADDR, 0,
                                   "\"use MSR bitmaps\" = 1 but MSR-bitmap address 0x%llx %s",
                                   (unsigned long long)a, page_addr_problem(c, a));
    }
    return true;
}

/* ---- "use TPR shadow": virtual-APIC page and TPR threshold (ENT-CTL-5) ---- */

static bool check_tpr_shadow(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!(c->proc & VTX_PROC_TPR_SHADOW))
        return true;
    uint64_t vapic = get(c, VTX_SLOT_VIRTUAL_APIC_ADDR);
    if (!page_addr_ok(c, vapic))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_VIRTUAL_APIC_ADDR, 0,
                               "\"use TPR shadow\" = 1 but virtual-APIC address 0x%llx %s",
                               (unsigned long long)vapic, page_addr_problem(c, vapic));
    if (c->proc2 & VTX_PROC2_VIRT_INTR_DELIVERY)
        return true;
    uint32_t threshold = (uint32_t)get(c, VTX_SLOT_TPR_THRESHOLD);
    if (threshold & 0xFFFFFFF0u)
        return vtx_entry_failf(fail, VTX_CHECK_CTL_TPR_THRESHOLD_RESERVED, 0,
                               "TPR threshold 0x%x has bits 31:4 set (\"use TPR shadow\" = 1, "
                               "\"virtual-interrupt delivery\" = 0)", threshold);
    if (c->proc2 & VTX_PROC2_VIRT_APIC_ACCESSES)
        return true;
    /* VTPR is byte 80H of the virtual-APIC page. The model reads it from
     * mapped memory; when the page is not mapped it cannot know VTPR and
     * makes no comparison. */
    uint8_t vtpr;
    if (vtx_mem_read(c->m, vapic + 0x80, &vtpr, 1, NULL) != VTX_OK)
        return true;
    if ((threshold & 0xF) > (unsigned)(vtpr >> 4))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_TPR_THRESHOLD_VTPR, 0,
                               "TPR threshold %u is greater than VTPR[7:4] = %u (VTPR 0x%02x at 0x%llx; "
                               "APIC-access virtualization and virtual-interrupt delivery are 0)",
                               threshold & 0xF, vtpr >> 4, vtpr, (unsigned long long)(vapic + 0x80));
    return true;
}

/* ---- ENT-CTL-2, ENT-CTL-3: NMI exiting, virtual NMIs, NMI-window exiting ---- */

static bool check_nmi_controls(const ctl_view *c, vtx_entry_fail *fail)
{
    if ((c->pin & VTX_PIN_VIRTUAL_NMIS) && !(c->pin & VTX_PIN_NMI_EXITING))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_VNMI_WITHOUT_NMI_EXITING, 0,
                               "pin-based controls 0x%08x: \"virtual NMIs\" (bit 5) = 1 requires "
                               "\"NMI exiting\" (bit 3) = 1", c->pin);
    if ((c->proc & VTX_PROC_NMI_WINDOW_EXITING) && !(c->pin & VTX_PIN_VIRTUAL_NMIS))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_NMI_WINDOW_WITHOUT_VNMI, 0,
                               "primary controls 0x%08x: \"NMI-window exiting\" (bit 22) = 1 requires "
                               "\"virtual NMIs\" (pin bit 5) = 1", c->proc);
    return true;
}

/* ---- APIC virtualization (ENT-CTL-6) ---- */

static bool check_apic_access(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!(c->proc2 & VTX_PROC2_VIRT_APIC_ACCESSES))
        return true;
    uint64_t a = get(c, VTX_SLOT_APIC_ACCESS_ADDR);
    if (!page_addr_ok(c, a))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_APIC_ACCESS_ADDR, 0,
                               "\"virtualize APIC accesses\" = 1 but APIC-access address 0x%llx %s",
                               (unsigned long long)a, page_addr_problem(c, a));
    return true;
}

static bool check_apicv(const ctl_view *c, vtx_entry_fail *fail)
{
    const uint32_t need_tpr =
        VTX_PROC2_VIRT_X2APIC | VTX_PROC2_APIC_REG_VIRT | VTX_PROC2_VIRT_INTR_DELIVERY;
    if (!(c->proc & VTX_PROC_TPR_SHADOW) && (c->proc2 & need_tpr)) {
        int bit = __builtin_ctz(c->proc2 & need_tpr);
        return vtx_entry_failf(fail, VTX_CHECK_CTL_APICV_WITHOUT_TPR_SHADOW, 0,
                               "secondary controls 0x%08x: \"%s\" (bit %d) = 1 requires \"use TPR shadow\" = 1",
                               c->proc2, vtx_control_bit_name(VTX_CTL_PROC2, (unsigned)bit), bit);
    }
    if ((c->proc2 & VTX_PROC2_VIRT_X2APIC) && (c->proc2 & VTX_PROC2_VIRT_APIC_ACCESSES))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_X2APIC_WITH_APIC_ACCESSES, 0,
                               "secondary controls 0x%08x: \"virtualize x2APIC mode\" (bit 4) = 1 requires "
                               "\"virtualize APIC accesses\" (bit 0) = 0", c->proc2);
    if ((c->proc2 & VTX_PROC2_VIRT_INTR_DELIVERY) && !(c->pin & VTX_PIN_EXT_INTR_EXITING))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_VID_WITHOUT_EXT_INTR_EXITING, 0,
                               "\"virtual-interrupt delivery\" = 1 requires \"external-interrupt exiting\" = 1 "
                               "(pin-based controls 0x%08x)", c->pin);
    return true;
}

static bool check_posted_interrupts(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!(c->pin & VTX_PIN_POSTED_INTR))
        return true;
    if (!(c->proc2 & VTX_PROC2_VIRT_INTR_DELIVERY))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_POSTED_INTR_WITHOUT_VID, 0,
                               "\"process posted interrupts\" = 1 requires \"virtual-interrupt delivery\" = 1 "
                               "(secondary controls 0x%08x)", c->proc2);
    if (!(c->exit & VTX_EXIT_ACK_INTR_ON_EXIT))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_POSTED_INTR_WITHOUT_ACK, 0,
                               "\"process posted interrupts\" = 1 requires the \"acknowledge interrupt on exit\" "
                               "VM-exit control (bit 15) = 1 (VM-exit controls 0x%08x)", c->exit);
    uint64_t nv = get(c, VTX_SLOT_POSTED_INTR_NV);
    if (nv & 0xFF00)
        return vtx_entry_failf(fail, VTX_CHECK_CTL_POSTED_INTR_VECTOR, 0,
                               "posted-interrupt notification vector 0x%llx is not in 0..255 (bits 15:8 must be 0)",
                               (unsigned long long)nv);
    uint64_t desc = get(c, VTX_SLOT_POSTED_INTR_DESC_ADDR);
    if ((desc & 0x3F) || !within_width(c, desc))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_POSTED_INTR_DESC_ADDR, 0,
                               "posted-interrupt descriptor address 0x%llx %s", (unsigned long long)desc,
                               (desc & 0x3F) ? "is not 64-byte aligned (bits 5:0 must be 0)"
                                             : "sets bits beyond the physical-address width");
    return true;
}

/* ---- VPID, EPT, PML, unrestricted guest ---- */

static bool check_vpid(const ctl_view *c, vtx_entry_fail *fail)
{
    if ((c->proc2 & VTX_PROC2_ENABLE_VPID) && (get(c, VTX_SLOT_VPID) & 0xFFFF) == 0)
        return vtx_entry_failf(fail, VTX_CHECK_CTL_VPID_ZERO, 0,
                               "\"enable VPID\" = 1 but the VPID field is 0000H (VPID 0 belongs to VMX root operation)");
    return true;
}

static bool check_ept(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!(c->proc2 & VTX_PROC2_ENABLE_EPT))
        return true;
    uint64_t eptp = get(c, VTX_SLOT_EPT_POINTER);
    const char *why = "";
    if (!vtx_eptp_valid(c->m, eptp, &why))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_EPTP_INVALID, 0, "\"enable EPT\" = 1 but EPTP 0x%llx: %s",
                               (unsigned long long)eptp, why);
    return true;
}

static bool check_pml(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!(c->proc2 & VTX_PROC2_ENABLE_PML))
        return true;
    if (!(c->proc2 & VTX_PROC2_ENABLE_EPT))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_PML_WITHOUT_EPT, 0,
                               "secondary controls 0x%08x: \"enable PML\" (bit 17) = 1 requires \"enable EPT\" = 1",
                               c->proc2);
    uint64_t a = get(c, VTX_SLOT_PML_ADDRESS);
    if (!page_addr_ok(c, a))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_PML_ADDR, 0, "\"enable PML\" = 1 but PML address 0x%llx %s",
                               (unsigned long long)a, page_addr_problem(c, a));
    return true;
}

static bool check_unrestricted_guest(const ctl_view *c, vtx_entry_fail *fail)
{
    if ((c->proc2 & VTX_PROC2_UNRESTRICTED_GUEST) && !(c->proc2 & VTX_PROC2_ENABLE_EPT))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_UNRESTRICTED_WITHOUT_EPT, 0,
                               "secondary controls 0x%08x: \"unrestricted guest\" (bit 7) = 1 requires "
                               "\"enable EPT\" (bit 1) = 1", c->proc2);
    return true;
}

/* ---- VM functions, VMCS shadowing, EPT-violation #VE ---- */

static bool check_vmfunc(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!(c->proc2 & VTX_PROC2_ENABLE_VMFUNC))
        return true;
    uint64_t ctl = get(c, VTX_SLOT_VM_FUNCTION_CONTROLS);
    uint64_t allowed = c->m->profile.msr[VTX_CAP_IA32_VMX_VMFUNC];
    if (ctl & ~allowed)
        return vtx_entry_failf(fail, VTX_CHECK_CTL_VMFUNC_ALLOWED, 0,
                               "VM-function controls 0x%llx: bit %d is not allowed by IA32_VMX_VMFUNC 0x%llx",
                               (unsigned long long)ctl, __builtin_ctzll(ctl & ~allowed),
                               (unsigned long long)allowed);
    if (!(ctl & 1))
        return true;
    if (!(c->proc2 & VTX_PROC2_ENABLE_EPT))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_EPTP_SWITCH_WITHOUT_EPT, 0,
                               "VM-function control bit 0 (EPTP switching) = 1 requires \"enable EPT\" = 1");
    uint64_t a = get(c, VTX_SLOT_EPTP_LIST_ADDR);
    if (!page_addr_ok(c, a))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_EPTP_LIST_ADDR, 0,
                               "EPTP switching enabled but EPTP-list address 0x%llx %s", (unsigned long long)a,
                               page_addr_problem(c, a));
    return true;
}

static bool check_vmcs_shadowing(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!(c->proc2 & VTX_PROC2_VMCS_SHADOWING))
        return true;
    uint64_t r = get(c, VTX_SLOT_VMREAD_BITMAP), w = get(c, VTX_SLOT_VMWRITE_BITMAP);
    if (!page_addr_ok(c, r))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_VMCS_SHADOW_BITMAP_ADDR, 0,
                               "\"VMCS shadowing\" = 1 but VMREAD-bitmap address 0x%llx %s", (unsigned long long)r,
                               page_addr_problem(c, r));
    if (!page_addr_ok(c, w))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_VMCS_SHADOW_BITMAP_ADDR, 0,
                               "\"VMCS shadowing\" = 1 but VMWRITE-bitmap address 0x%llx %s", (unsigned long long)w,
                               page_addr_problem(c, w));
    return true;
}

static bool check_ve_info(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!(c->proc2 & VTX_PROC2_EPT_VIOLATION_VE))
        return true;
    uint64_t a = get(c, VTX_SLOT_VE_INFO_ADDR);
    if (!page_addr_ok(c, a))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_VE_INFO_ADDR, 0,
                               "\"EPT-violation #VE\" = 1 but virtualization-exception information address 0x%llx %s",
                               (unsigned long long)a, page_addr_problem(c, a));
    return true;
}

/* ---- MSR-store / MSR-load areas (exit and entry) ---- */

static bool check_msr_area(const ctl_view *c, enum vtx_slot count_slot, enum vtx_slot addr_slot, const char *what,
                           vtx_check check, vtx_entry_fail *fail)
{
    uint32_t count = (uint32_t)get(c, count_slot);
    if (count == 0)
        return true;
    uint64_t addr = get(c, addr_slot);
    if (addr & 0xF)
        return vtx_entry_failf(fail, check, 0, "%s count %u but address 0x%llx is not 16-byte aligned (bits 3:0)",
                               what, count, (unsigned long long)addr);
    if (!within_width(c, addr))
        return vtx_entry_failf(fail, check, 0, "%s address 0x%llx sets bits beyond the physical-address width",
                               what, (unsigned long long)addr);
    uint64_t last = addr + (uint64_t)count * 16 - 1;
    if (!within_width(c, last))
        return vtx_entry_failf(fail, check, 0,
                               "%s area 0x%llx with %u entries ends at 0x%llx, beyond the physical-address width",
                               what, (unsigned long long)addr, count, (unsigned long long)last);
    return true;
}

/* ---- VM-exit control fields ---- */

static bool check_exit_controls(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!check_allowed(c, VTX_CTL_EXIT, c->exit, VTX_CHECK_CTL_EXIT_ALLOWED, fail))
        return false;
    /* ENT-CTL-4: exit-control bit 22, not primary bit 22 (DIFF-10). */
    if ((c->exit & VTX_EXIT_SAVE_PREEMPTION_TIMER) && !(c->pin & VTX_PIN_PREEMPTION_TIMER))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_SAVE_TIMER_WITHOUT_TIMER, 0,
                               "VM-exit controls 0x%08x: \"save VMX-preemption timer value\" (bit 22) = 1 requires "
                               "\"activate VMX-preemption timer\" (pin bit 6) = 1", c->exit);
    return check_msr_area(c, VTX_SLOT_EXIT_MSR_STORE_COUNT, VTX_SLOT_EXIT_MSR_STORE_ADDR, "VM-exit MSR-store",
                          VTX_CHECK_CTL_EXIT_MSR_STORE_ADDR, fail) &&
           check_msr_area(c, VTX_SLOT_EXIT_MSR_LOAD_COUNT, VTX_SLOT_EXIT_MSR_LOAD_ADDR, "VM-exit MSR-load",
                          VTX_CHECK_CTL_EXIT_MSR_LOAD_ADDR, fail);
}

/* ---- VM-entry control fields: event injection (ENT-CTL-8 = INJ-CHK-1..6) ---- */

enum {
    INJ_EXT_INT = 0, INJ_RESERVED = 1, INJ_NMI = 2, INJ_HW_EXC = 3,
    INJ_SW_INT = 4, INJ_PRIV_SW_EXC = 5, INJ_SW_EXC = 6, INJ_OTHER = 7,
};

/* Exceptions that push an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC; #CP
 * (21) too on processors with CET (not in the 2016 SDM's list). */
static bool vector_has_error_code(const ctl_view *c, unsigned vector)
{
    if (vector == 21)
        return vtx_profile_has_feature(&c->m->profile, VTX_FEAT_CET);
    return vector < 32 && ((1u << vector) & ((1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13) |
                                             (1u << 14) | (1u << 17)));
}

static bool check_event_injection(const ctl_view *c, vtx_entry_fail *fail)
{
    uint32_t info = (uint32_t)get(c, VTX_SLOT_ENTRY_INTR_INFO);
    if (!(info >> 31))
        return true;
    unsigned vector = info & 0xFF, type = (info >> 8) & 7;
    bool deliver = (info >> 11) & 1;
    uint32_t may1_proc;
    vtx_profile_ctl_caps(&c->m->profile, VTX_CTL_PROC, NULL, &may1_proc);

    /* INJ-CHK-1: type 1 is reserved; type 7 needs "monitor trap flag" support. */
    if (type == INJ_RESERVED)
        return vtx_entry_failf(fail, VTX_CHECK_CTL_INJ_TYPE_RESERVED, 0,
                               "VM-entry interruption information 0x%08x: interruption type 1 is reserved", info);
    if (type == INJ_OTHER && !(may1_proc & VTX_PROC_MONITOR_TRAP_FLAG))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_INJ_TYPE_RESERVED, 0,
                               "VM-entry interruption information 0x%08x: type 7 (other event) is reserved on a "
                               "processor without the \"monitor trap flag\" control", info);
    /* INJ-CHK-2: vector consistent with the type. */
    if ((type == INJ_NMI && vector != 2) || (type == INJ_HW_EXC && vector > 31) || (type == INJ_OTHER && vector != 0))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_INJ_VECTOR, 0,
                               "VM-entry interruption information 0x%08x: vector %u with type %u (an NMI must be "
                               "vector 2, a hardware exception at most 31, other event 0)", info, vector, type);
    /* INJ-CHK-3: deliver-error-code. The guest counts as in protected mode
     * unless "unrestricted guest" = 1 and guest CR0.PE = 0 (KVM, Bochs and
     * hardware; the SDM text names only CR0.PE). IA32_VMX_BASIC[56]
     * (CFG-ERRCODE-RELAX) drops the "must be 1" half. */
    bool prot = !(c->proc2 & VTX_PROC2_UNRESTRICTED_GUEST) || (get(c, VTX_SLOT_GUEST_CR0) & VTX_CR0_PE);
    bool relaxed = (c->m->profile.msr[VTX_CAP_IA32_VMX_BASIC] >> 56) & 1;
    if (deliver && (type != INJ_HW_EXC || !prot))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_INJ_ERRCODE_UNEXPECTED, 0,
                               "VM-entry interruption information 0x%08x: deliver-error-code = 1 but %s", info,
                               type != INJ_HW_EXC ? "the type is not hardware exception (3)"
                                                  : "the guest is in real mode (unrestricted guest, CR0.PE = 0)");
    if (!relaxed && type == INJ_HW_EXC && prot) {
        bool want = vector_has_error_code(c, vector);
        if (want && !deliver)
            return vtx_entry_failf(fail, VTX_CHECK_CTL_INJ_ERRCODE_MISSING, 0,
                                   "VM-entry interruption information 0x%08x: exception %u pushes an error code, so "
                                   "deliver-error-code (bit 11) must be 1", info, vector);
        if (!want && deliver)
            return vtx_entry_failf(fail, VTX_CHECK_CTL_INJ_ERRCODE_UNEXPECTED, 0,
                                   "VM-entry interruption information 0x%08x: exception %u pushes no error code, so "
                                   "deliver-error-code (bit 11) must be 0", info, vector);
    }
    /* INJ-CHK-4: reserved bits 30:12. */
    if (info & 0x7FFFF000u)
        return vtx_entry_failf(fail, VTX_CHECK_CTL_INJ_RESERVED_BITS, 0,
                               "VM-entry interruption information 0x%08x: reserved bits 30:12 are 0x%x, not 0", info,
                               (info >> 12) & 0x7FFFF);
    /* INJ-CHK-5: error-code bits 31:16 (DIFF-3: the 2016 SDM printed 31:15). */
    uint32_t ec = (uint32_t)get(c, VTX_SLOT_ENTRY_EXCEPTION_ERROR_CODE);
    if (deliver && (ec & 0xFFFF0000u))
        return vtx_entry_failf(fail, VTX_CHECK_CTL_INJ_ERRCODE_RESERVED, 0,
                               "VM-entry exception error code 0x%08x: bits 31:16 must be 0 when an error code is "
                               "delivered", ec);
    /* INJ-CHK-6: instruction length for software interrupts and exceptions. */
    if (type == INJ_SW_INT || type == INJ_PRIV_SW_EXC || type == INJ_SW_EXC) {
        uint32_t len = (uint32_t)get(c, VTX_SLOT_ENTRY_INSTRUCTION_LEN);
        if (len > 15)
            return vtx_entry_failf(fail, VTX_CHECK_CTL_INJ_INSN_LEN, 0,
                                   "VM-entry instruction length %u is above 15 for an injected event of type %u",
                                   len, type);
        if (len == 0 && !vtx_misc_zero_len_inject(c->m->profile.msr[VTX_CAP_IA32_VMX_MISC]))
            return vtx_entry_failf(fail, VTX_CHECK_CTL_INJ_INSN_LEN_ZERO, 0,
                                   "VM-entry instruction length 0 for an injected event of type %u needs "
                                   "IA32_VMX_MISC[30] = 1", type);
    }
    return true;
}

/* ---- VM-entry control fields ---- */

static bool check_entry_controls(const ctl_view *c, vtx_entry_fail *fail)
{
    if (!check_allowed(c, VTX_CTL_ENTRY, c->entry, VTX_CHECK_CTL_ENTRY_ALLOWED, fail) ||
        !check_event_injection(c, fail) ||
        !check_msr_area(c, VTX_SLOT_ENTRY_MSR_LOAD_COUNT, VTX_SLOT_ENTRY_MSR_LOAD_ADDR, "VM-entry MSR-load",
                        VTX_CHECK_CTL_ENTRY_MSR_LOAD_ADDR, fail))
        return false;
    /* ENT-CTL-7: the model is never in SMM, so both controls must be 0 (which
     * also covers "not both 1"). */
    if (c->entry & VTX_ENTRY_ENTRY_TO_SMM)
        return vtx_entry_failf(fail, VTX_CHECK_CTL_ENTRY_TO_SMM, 0,
                               "VM-entry controls 0x%08x: \"entry to SMM\" (bit 10) must be 0 outside SMM", c->entry);
    if (c->entry & VTX_ENTRY_DEACT_DUAL_MONITOR)
        return vtx_entry_failf(fail, VTX_CHECK_CTL_DEACT_DUAL_MONITOR, 0,
                               "VM-entry controls 0x%08x: \"deactivate dual-monitor treatment\" (bit 11) must be 0 "
                               "outside SMM", c->entry);
    return true;
}

bool vtx_entry_check_controls(const vtx_machine *m, const vtx_vmcs_values *f, vtx_entry_fail *fail)
{
    ctl_view c = {
        .m = m,
        .f = f,
        .pin = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PIN_CONTROLS),
        .proc = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS),
        .exit = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_EXIT_CONTROLS),
        .entry = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_ENTRY_CONTROLS),
    };
    if (c.proc & VTX_PROC_SECONDARY_CONTROLS)
        c.proc2 = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS2);
    /* VM-execution control fields, then VM-exit, then VM-entry (SDM order). */
    return check_exec_allowed(&c, fail) && check_cr3_targets(&c, fail) && check_bitmaps(&c, fail) &&
           check_tpr_shadow(&c, fail) && check_nmi_controls(&c, fail) && check_apic_access(&c, fail) &&
           check_apicv(&c, fail) && check_posted_interrupts(&c, fail) && check_vpid(&c, fail) &&
           check_ept(&c, fail) && check_pml(&c, fail) && check_unrestricted_guest(&c, fail) &&
           check_vmfunc(&c, fail) && check_vmcs_shadowing(&c, fail) && check_ve_info(&c, fail) &&
           check_exit_controls(&c, fail) && check_entry_controls(&c, fail);
}
