/* libFuzzer target: arbitrary sequences of VMX instructions, VMCS field values,
 * controls and root-environment changes against every built-in profile. Each
 * instruction must end in VMsucceed, VMfailInvalid, VMfailValid with a defined
 * error number, a #UD/#GP, or a VM-entry failure exit; never a crash. Every
 * operation runs on two machines, one with the incremental VM-entry checks
 * (model/entry_memo.c) and one with full_entry_checks: their results must be
 * the same (outcome, error number, exit reason and qualification, the check
 * named and its sentence). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vtxref/vtxref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (64u * 1024)

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint64_t take(reader *r, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v |= (uint64_t)(r->n ? *r->p : 0) << (8 * i);
        if (r->n) {
            r->p++;
            r->n--;
        }
    }
    return v;
}

static void check(vtx_status st, const vtx_insn_result *res)
{
    /* VTX_ERR_STATE: an instruction of root operation while a guest is stopped
     * inside its run (its budget ran out) */
    if (st != VTX_OK && st != VTX_ERR_UNMAPPED && st != VTX_ERR_UNSUPPORTED && st != VTX_ERR_STATE)
        abort();
    if (st != VTX_OK)
        return;
    switch (res->outcome) {
    case VTX_VMSUCCEED:
    case VTX_VMFAIL_INVALID:
    case VTX_GUEST_STOPPED:
        break;
    case VTX_VMFAIL_VALID:
        if (!vtx_vm_insn_error_text(res->vm_error))
            abort();
        break;
    case VTX_INSN_FAULT:
        if (res->fault_vector != VTX_VECTOR_UD && res->fault_vector != VTX_VECTOR_GP)
            abort();
        break;
    case VTX_VMEXIT:
        if (!vtx_exit_reason_name(res->exit_reason & 0xFFFF))
            abort();
        break;
    default:
        abort();
    }
}

/* Addresses mostly inside RAM, page-aligned, sometimes not. */
static uint64_t addr(reader *r)
{
    uint64_t a = take(r, 2);
    return (a & 0x8000) ? take(r, 8) : ((a & 0xF) << 12) | ((a & 0x10) ? 8 : 0);
}

/* The two machines agree. */
static void same(vtx_status st[2], const vtx_insn_result r[2])
{
    char a[400], b[400];
    vtx_insn_result_format(&r[0], a, sizeof a);
    vtx_insn_result_format(&r[1], b, sizeof b);
    if (st[0] != st[1] || strcmp(a, b) != 0 || r[0].check != r[1].check || r[0].value != r[1].value) {
        fprintf(stderr, "incremental entry checks: %s\nfull entry checks:        %s\n", a, b);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd = {data, size};
    const vtx_profile *p = vtx_profile_builtin(take(&rd, 1) % vtx_profile_builtin_count());
    vtx_machine_config cfg;
    vtx_machine *ms[2];
    uint8_t *rams[2];
    vtx_machine_config_init(&cfg, p);
    cfg.limits.instructions = 1000; /* guests run whatever memory holds: keep runs short */
    uint32_t rev = vtx_basic_revision(p->msr[VTX_CAP_IA32_VMX_BASIC]);
    for (int k = 0; k < 2; k++) {
        cfg.full_entry_checks = k == 1;
        if (vtx_machine_create(&cfg, &ms[k], NULL) != VTX_OK)
            abort();
        rams[k] = aligned_alloc(4096, RAM); /* the engine maps page-aligned memory */
        if (!rams[k])
            abort();
        memset(rams[k], 0, RAM);
        vtx_machine_map(ms[k], 0, RAM, rams[k], VTX_MEM_RWX, NULL);
        for (unsigned pg = 0; pg < RAM / 4096; pg++)
            memcpy(rams[k] + pg * 4096, &rev, 4);
        rams[k][0x9010] = 0x0f, rams[k][0x9011] = 0xa2; /* CPUID, which exits, at the flat guest's RIP */
    }

    size_t nfields;
    const vtx_field_info *fields = vtx_vmcs_fields(&nfields);
    for (int steps = 0; rd.n && steps < 256; steps++) {
        unsigned op = (unsigned)take(&rd, 1);
        vtx_status st[2] = {VTX_OK, VTX_OK};
        vtx_insn_result res[2];
        memset(res, 0, sizeof res);
        /* The operands, decoded once. */
        uint64_t a = 0, v = 0;
        unsigned t = 0;
        vtx_invept_desc ed = {0};
        vtx_invvpid_desc vd = {0};
        vtx_root_state root;
        unsigned what = 0, bits[3] = {0};
        switch (op % 13) {
        case 0: case 2: case 3: a = addr(&rd); break;
        case 5: /* a real field most of the time, any encoding otherwise */
            a = (op & 0x80) ? take(&rd, 4) : fields[take(&rd, 1) % nfields].encoding;
            v = take(&rd, 8);
            break;
        case 6: a = (op & 0x80) ? take(&rd, 8) : fields[take(&rd, 1) % nfields].encoding; break;
        case 9: ed = (vtx_invept_desc){take(&rd, 8), take(&rd, 1)}; t = (unsigned)take(&rd, 1) % 5; break;
        case 10: vd = (vtx_invvpid_desc){take(&rd, 3), take(&rd, 8)}; t = (unsigned)take(&rd, 1) % 5; break;
        case 11:
            what = (unsigned)take(&rd, 1);
            if (what & 1) bits[0] = (unsigned)take(&rd, 1) % 24;
            if (what & 2) bits[1] = (unsigned)take(&rd, 1) % 32;
            if (what & 4) bits[2] = (unsigned)take(&rd, 1) & 3;
            break;
        default: break;
        }
        for (int k = 0; k < 2; k++) {
            vtx_machine *m = ms[k];
            vtx_insn_result *r = &res[k];
            switch (op % 13) {
            case 0: st[k] = vtx_vmxon(m, a, r); break;
            case 1: st[k] = vtx_vmxoff(m, r); break;
            case 2: st[k] = vtx_vmclear(m, a, r); break;
            case 3: st[k] = vtx_vmptrld(m, a, r); break;
            case 4: st[k] = vtx_vmptrst(m, r); break;
            case 5: st[k] = vtx_vmwrite(m, a, v, r); break;
            case 6: st[k] = vtx_vmread(m, a, r); break;
            case 7: st[k] = vtx_vmlaunch(m, r); break;
            case 8: st[k] = vtx_vmresume(m, r); break;
            case 9: st[k] = vtx_invept(m, t, &ed, r); break;
            case 10: st[k] = vtx_invvpid(m, t, &vd, r); break;
            case 11: /* change the root environment; the model may refuse */
                vtx_machine_get_root(m, &root);
                if (what & 1) root.cr4 ^= 1ull << bits[0];
                if (what & 2) root.cr0 ^= 1ull << bits[1];
                if (what & 4) root.cpl = (uint8_t)bits[2];
                if (what & 8) root.cs_l = !root.cs_l;
                if (what & 16) root.blocking_by_mov_ss = !root.blocking_by_mov_ss;
                if (what & 32) root.rflags ^= VTX_RFLAGS_VM;
                st[k] = vtx_machine_set_root(m, &root, NULL);
                break;
            case 12: { /* a whole valid VMCS (flat 64-bit guest), so that entries pass and the next
                          VMWRITEs change fields of a VMCS whose checks passed */
                vtx_flat64 fl = {.rip = 0x9010, .rsp = 0x9800, .rflags = 0x2, .tables = 0xA000, .handlers = 0};
                st[k] = vtx_setup_flat64(m, &fl, NULL);
                break;
            }
            }
        }
        if (op % 13 == 11 || op % 13 == 12) {
            if (st[0] != st[1])
                abort();
            continue;
        }
        check(st[0], &res[0]);
        same(st, res);
    }
    for (int k = 0; k < 2; k++) {
        vtx_machine_destroy(ms[k]);
        free(rams[k]);
    }
    return 0;
}
