/*
 * The instruction table (model/insn_table.h) as an array, the lookup of a
 * decoded instruction's row, and the decisions the model reads from it: the
 * faults with priority over the exit (SDM16 25.1.1), the #UD gates of the
 * secondary controls (25.3), and the controls VM entry refuses by row name.
 */
#include <Zydis/Zydis.h>
#include "guest_insn.h"
#include "insn_table.h"

#include <stdio.h>
#include <string.h>

/* clang-format off */
static const vtx_insn_row rows[] = {
#define VTX_X_IROW(id, name, cond, gf, gb, ef, eb, rf, rb, reason, qual, info, lin, pre, sdm, status, note) \
    {#id, name, VTX_IROW_##cond, {VTX_IROW_F_##gf, VTX_##gf##_##gb}, {VTX_IROW_F_##ef, VTX_##ef##_##eb},        \
     {VTX_IROW_F_##rf, VTX_##rf##_##rb}, VTX_EXIT_REASON_##reason, VTX_IROW_Q_##qual, VTX_IROW_I_##info, lin,   \
     false, VTX_IROW_PRE_##pre, sdm, VTX_IROW_##status, note},
    VTX_INSN_ROWS(VTX_X_IROW)
#undef VTX_X_IROW
};
/* clang-format on */
_Static_assert(sizeof rows / sizeof rows[0] == VTX_IROW_COUNT, "one array entry per row");

unsigned vtx_insn_row_count(void) { return VTX_IROW_COUNT; }

const vtx_insn_row *vtx_insn_row_at(unsigned i) { return i < VTX_IROW_COUNT ? &rows[i] : NULL; }

const vtx_insn_row *vtx_insn_row_by_id(const char *id)
{
    for (unsigned i = 0; id && i < VTX_IROW_COUNT; i++)
        if (strcmp(rows[i].id, id) == 0)
            return &rows[i];
    return NULL;
}

const char *vtx_irow_cond_name(vtx_irow_cond c)
{
    static const char *const n[] = {"unconditional", "control", "condition", "no exit"};
    return (unsigned)c < sizeof n / sizeof n[0] ? n[c] : "?";
}

const char *vtx_irow_qual_name(vtx_irow_qual q)
{
    static const char *const n[] = {"0", "displacement", "linear address", "CR access", "MOV DR", "I/O", "MWAIT"};
    return (unsigned)q < sizeof n / sizeof n[0] ? n[q] : "?";
}

const char *vtx_irow_info_name(vtx_irow_info i)
{
    static const char *const n[] = {"-", "INS/OUTS", "INVEPT/INVPCID/INVVPID", "LGDT/LIDT/SGDT/SIDT",
                                    "LLDT/LTR/SLDT/STR", "RDRAND/RDSEED/TPAUSE/UMWAIT",
                                    "VMCLEAR/VMPTRLD/VMPTRST/VMXON/XRSTORS/XSAVES", "VMREAD/VMWRITE", "LOADIWKEY"};
    return (unsigned)i < sizeof n / sizeof n[0] ? n[i] : "?";
}

const char *vtx_irow_status_name(vtx_irow_status s)
{
    static const char *const n[] = {"implemented", "implemented; refused at VM entry when its control is 1",
                                    "implemented in part; the rest refused at the instruction", "pending"};
    return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}

static const vtx_insn_row *row(vtx_irow_id id) { return &rows[id]; }

/* The decoder's mnemonic (vtx_insn.mnemonic) tells apart the instructions of one class. */
static bool mnemonic_is(const vtx_insn *insn, ZydisMnemonic mn)
{
    return insn->mnemonic == (uint16_t)mn;
}

/* WBNOINVD is WBINVD (0F 09) with an F3 prefix. */
static bool has_f3_prefix(const vtx_insn *insn)
{
    for (unsigned i = 0; i + 1 < insn->len && i < sizeof insn->bytes; i++) {
        if (insn->bytes[i] == 0x0F)
            return false;
        if (insn->bytes[i] == 0xF3)
            return true;
    }
    return false;
}

static const vtx_insn_row *vmx_row(const vtx_insn *insn)
{
    switch (vtx_vmx_insn_exit_reason(insn)) {
    case VTX_EXIT_REASON_VMCLEAR: return row(VTX_IROW_VMCLEAR);
    case VTX_EXIT_REASON_VMLAUNCH: return row(VTX_IROW_VMLAUNCH);
    case VTX_EXIT_REASON_VMPTRLD: return row(VTX_IROW_VMPTRLD);
    case VTX_EXIT_REASON_VMPTRST: return row(VTX_IROW_VMPTRST);
    case VTX_EXIT_REASON_VMREAD: return row(VTX_IROW_VMREAD);
    case VTX_EXIT_REASON_VMRESUME: return row(VTX_IROW_VMRESUME);
    case VTX_EXIT_REASON_VMWRITE: return row(VTX_IROW_VMWRITE);
    case VTX_EXIT_REASON_VMXOFF: return row(VTX_IROW_VMXOFF);
    case VTX_EXIT_REASON_VMXON: return row(VTX_IROW_VMXON);
    case VTX_EXIT_REASON_INVEPT: return row(VTX_IROW_INVEPT);
    case VTX_EXIT_REASON_INVVPID: return row(VTX_IROW_INVVPID);
    default: return NULL;
    }
}

static const vtx_insn_row *cr_row(const vtx_insn *insn, bool to)
{
    switch (insn->cr) {
    case 0: return row(to ? VTX_IROW_MOV_TO_CR0 : VTX_IROW_MOV_FROM_CR0);
    case 3: return row(to ? VTX_IROW_MOV_TO_CR3 : VTX_IROW_MOV_FROM_CR3);
    case 4: return row(to ? VTX_IROW_MOV_TO_CR4 : VTX_IROW_MOV_FROM_CR4);
    case 8: return row(to ? VTX_IROW_MOV_TO_CR8 : VTX_IROW_MOV_FROM_CR8);
    default: return NULL;
    }
}

const vtx_insn_row *vtx_insn_row_of(const vtx_insn *insn)
{
    /* Classes with one row each. */
    static const struct { uint8_t cls; uint8_t id; } one[] = {
        {VTX_IC_CPUID, VTX_IROW_CPUID}, {VTX_IC_GETSEC, VTX_IROW_GETSEC}, {VTX_IC_INVD, VTX_IROW_INVD},
        {VTX_IC_XSETBV, VTX_IROW_XSETBV}, {VTX_IC_VMCALL, VTX_IROW_VMCALL}, {VTX_IC_CLTS, VTX_IROW_CLTS},
        {VTX_IC_HLT, VTX_IROW_HLT}, {VTX_IC_IN, VTX_IROW_IN}, {VTX_IC_INS, VTX_IROW_INS}, {VTX_IC_OUT, VTX_IROW_OUT},
        {VTX_IC_OUTS, VTX_IROW_OUTS}, {VTX_IC_INVLPG, VTX_IROW_INVLPG}, {VTX_IC_INVPCID, VTX_IROW_INVPCID},
        {VTX_IC_LGDT, VTX_IROW_LGDT}, {VTX_IC_LIDT, VTX_IROW_LIDT}, {VTX_IC_SGDT, VTX_IROW_SGDT},
        {VTX_IC_SIDT, VTX_IROW_SIDT}, {VTX_IC_LLDT, VTX_IROW_LLDT}, {VTX_IC_LTR, VTX_IROW_LTR},
        {VTX_IC_SLDT, VTX_IROW_SLDT}, {VTX_IC_STR, VTX_IROW_STR}, {VTX_IC_LMSW, VTX_IROW_LMSW},
        {VTX_IC_MONITOR, VTX_IROW_MONITOR}, {VTX_IC_MOV_TO_DR, VTX_IROW_MOV_DR}, {VTX_IC_MOV_FROM_DR, VTX_IROW_MOV_DR},
        {VTX_IC_MWAIT, VTX_IROW_MWAIT}, {VTX_IC_PAUSE, VTX_IROW_PAUSE}, {VTX_IC_PCONFIG, VTX_IROW_PCONFIG},
        {VTX_IC_RDMSR, VTX_IROW_RDMSR}, {VTX_IC_RDPMC, VTX_IROW_RDPMC}, {VTX_IC_RDRAND, VTX_IROW_RDRAND},
        {VTX_IC_RDSEED, VTX_IROW_RDSEED}, {VTX_IC_RDTSC, VTX_IROW_RDTSC}, {VTX_IC_RDTSCP, VTX_IROW_RDTSCP},
        {VTX_IC_RSM, VTX_IROW_RSM}, {VTX_IC_WRMSR, VTX_IROW_WRMSR}, {VTX_IC_XRSTORS, VTX_IROW_XRSTORS},
        {VTX_IC_XSAVES, VTX_IROW_XSAVES}, {VTX_IC_VMFUNC, VTX_IROW_VMFUNC}, {VTX_IC_RDPID, VTX_IROW_RDPID},
        {VTX_IC_IRET, VTX_IROW_IRET}, {VTX_IC_SMSW, VTX_IROW_SMSW},
    };
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
        if (one[i].cls == insn->cls)
            return row((vtx_irow_id)one[i].id);
    switch (insn->cls) {
    case VTX_IC_VMX: return vmx_row(insn);
    case VTX_IC_MOV_TO_CR: return cr_row(insn, true);
    case VTX_IC_MOV_FROM_CR: return cr_row(insn, false);
    case VTX_IC_WBINVD: return row(has_f3_prefix(insn) ? VTX_IROW_WBNOINVD : VTX_IROW_WBINVD);
    case VTX_IC_UWAIT:
        return row(mnemonic_is(insn, ZYDIS_MNEMONIC_UMWAIT) ? VTX_IROW_UMWAIT
                   : mnemonic_is(insn, ZYDIS_MNEMONIC_TPAUSE) ? VTX_IROW_TPAUSE : VTX_IROW_UMONITOR);
    case VTX_IC_SGX:
        return row(mnemonic_is(insn, ZYDIS_MNEMONIC_ENCLS) ? VTX_IROW_ENCLS
                   : mnemonic_is(insn, ZYDIS_MNEMONIC_ENCLV) ? VTX_IROW_ENCLV : VTX_IROW_ENCLU);
    default: return NULL;
    }
}

bool vtx_insn_row_ctl(const vtx_machine *m, vtx_irow_ctl c)
{
    if (!c.mask)
        return false;
    uint32_t proc = (uint32_t)vtx_vmcs_get(&m->current->f, VTX_SLOT_PROC_CONTROLS);
    switch (c.field) {
    case VTX_CTL_PROC: return (proc & c.mask) != 0;
    case VTX_CTL_PROC2:
        /* "Activate secondary controls" = 0: every secondary control acts as 0. */
        return (proc & VTX_PROC_SECONDARY_CONTROLS) &&
               ((uint32_t)vtx_vmcs_get(&m->current->f, VTX_SLOT_PROC_CONTROLS2) & c.mask);
    default: return false;
    }
}

vtx_irow_verdict vtx_insn_row_pre(const vtx_machine *m, const vtx_insn *insn, const vtx_insn_row *r)
{
    const vtx_cpu_state *c = &m->g.cpu;
    unsigned cpl = vtx_cpu_cpl(c);
    if (!r) /* MOV to/from CR2 and the other registers no row names: still privileged */
        return (insn->cls == VTX_IC_MOV_TO_CR || insn->cls == VTX_IC_MOV_FROM_CR) && cpl > 0 ? VTX_IROW_GP : VTX_IROW_GO;
    /* #UD first: the feature is absent, a CR4 enable is 0, or the secondary control gating it is 0. */
    if (r->pre & VTX_IROW_PRE_UD_ALWAYS)
        return VTX_IROW_UD;
    if (r->gate.mask && !vtx_insn_row_ctl(m, r->gate))
        return VTX_IROW_UD;
    vtx_cpu_mode mode = vtx_cpu_mode_of(c);
    if ((r->pre & VTX_IROW_PRE_UD_VMX_MODE) &&
        (mode == VTX_MODE_REAL || mode == VTX_MODE_V8086 || mode == VTX_MODE_COMPAT))
        return VTX_IROW_UD;
    if ((r->pre & VTX_IROW_PRE_UD_EAX64) && (uint32_t)c->gpr[VTX_R_RAX] >= 64)
        return VTX_IROW_UD;
    if (((r->pre & VTX_IROW_PRE_UD_SMXE) && !(c->cr4 & VTX_CR4_SMXE)) ||
        ((r->pre & VTX_IROW_PRE_UD_OSXSAVE) && !(c->cr4 & (1u << 18))) || ((r->pre & VTX_IROW_PRE_UD_CPL) && cpl > 0))
        return VTX_IROW_UD;
    /* Then the privilege faults. */
    if (((r->pre & VTX_IROW_PRE_GP_CPL) && cpl > 0) || ((r->pre & VTX_IROW_PRE_TSD) && cpl > 0 && (c->cr4 & (1u << 2))) ||
        ((r->pre & VTX_IROW_PRE_PCE) && cpl > 0 && !(c->cr4 & (1u << 8))) ||
        ((r->pre & VTX_IROW_PRE_IOPERM) && vtx_io_denied(m, insn))) /* io_permission.c */
        return VTX_IROW_GP;
    return VTX_IROW_GO;
}

/* The controls some row refuses at VM entry, per control field (constants, from the table):
 * an entry that sets none of them (every entry of a usual VMCS) needs no walk of the rows. */
#define VTX_X_REFUSED(field)                                                                                    \
    (0u VTX_INSN_ROWS(VTX_X_REFUSED_##field))
#define VTX_X_REFUSED_ONE_(F, rf, rb, status)                                                                   \
    | ((VTX_IROW_##status == VTX_IROW_ENTRY && VTX_IROW_F_##rf == F) ? (uint32_t)VTX_##rf##_##rb : 0u)
#define VTX_X_REFUSED_PROC(id, name, cond, gf, gb, ef, eb, rf, rb, reason, qual, info, lin, pre, sdm, status, note) \
    VTX_X_REFUSED_ONE_(VTX_CTL_PROC, rf, rb, status)
#define VTX_X_REFUSED_PROC2(id, name, cond, gf, gb, ef, eb, rf, rb, reason, qual, info, lin, pre, sdm, status, note) \
    VTX_X_REFUSED_ONE_(VTX_CTL_PROC2, rf, rb, status)
static const uint32_t refused_proc = VTX_X_REFUSED(PROC), refused_proc2 = VTX_X_REFUSED(PROC2);

const vtx_insn_row *vtx_insn_rows_entry_refused(const vtx_vmcs_values *f, char *why, size_t n)
{
    uint32_t proc = (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS);
    uint32_t proc2 = (proc & VTX_PROC_SECONDARY_CONTROLS) ? (uint32_t)vtx_vmcs_get(f, VTX_SLOT_PROC_CONTROLS2) : 0;
    if (!(proc & refused_proc) && !(proc2 & refused_proc2))
        return NULL;
    const vtx_insn_row *first = NULL;
    size_t k = 0;
    for (unsigned i = 0; i < VTX_IROW_COUNT; i++) {
        const vtx_irow_ctl c = rows[i].refuse;
        if (rows[i].status != VTX_IROW_ENTRY || !c.mask || !((c.field == VTX_CTL_PROC ? proc : proc2) & c.mask))
            continue;
        if (first && (first->refuse.field != c.field || first->refuse.mask != c.mask))
            continue; /* one control at a time: every row it belongs to */
        if (!first)
            first = &rows[i];
        if (why && k < n)
            k += (size_t)snprintf(why + k, n - k, "%sinstruction row %s", k ? ", " : "", rows[i].id);
    }
    if (first && why && k < n)
        snprintf(why + k, n - k, ": \"%s\" = 1 is not modelled (%s: %s)",
                 vtx_control_bit_name(first->refuse.field, (unsigned)__builtin_ctz(first->refuse.mask)), first->id,
                 first->note);
    return first;
}
