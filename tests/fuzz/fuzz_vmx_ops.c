/* libFuzzer target: arbitrary sequences of VMX instructions, VMCS field values,
 * controls and root-environment changes against every built-in profile. Each
 * instruction must end in VMsucceed, VMfailInvalid, VMfailValid with a defined
 * error number, a #UD/#GP, or a VM-entry failure exit; never a crash. */
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
    if (st != VTX_OK && st != VTX_ERR_UNMAPPED && st != VTX_ERR_UNSUPPORTED)
        abort();
    if (st != VTX_OK)
        return;
    switch (res->outcome) {
    case VTX_VMSUCCEED:
    case VTX_VMFAIL_INVALID:
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd = {data, size};
    const vtx_profile *p = vtx_profile_builtin(take(&rd, 1) % vtx_profile_builtin_count());
    vtx_machine_config cfg;
    vtx_machine *m;
    vtx_machine_config_init(&cfg, p);
    if (vtx_machine_create(&cfg, &m, NULL) != VTX_OK)
        abort();
    uint8_t *ram = calloc(1, RAM);
    vtx_machine_map(m, 0, RAM, ram, VTX_MEM_RWX, NULL);
    uint32_t rev = vtx_basic_revision(p->msr[VTX_CAP_IA32_VMX_BASIC]);
    for (unsigned pg = 0; pg < RAM / 4096; pg++)
        memcpy(ram + pg * 4096, &rev, 4);

    size_t nfields;
    const vtx_field_info *fields = vtx_vmcs_fields(&nfields);
    vtx_insn_result res;
    for (int steps = 0; rd.n && steps < 256; steps++) {
        unsigned op = (unsigned)take(&rd, 1);
        vtx_status st = VTX_OK;
        switch (op % 12) {
        case 0: st = vtx_vmxon(m, addr(&rd), &res); break;
        case 1: st = vtx_vmxoff(m, &res); break;
        case 2: st = vtx_vmclear(m, addr(&rd), &res); break;
        case 3: st = vtx_vmptrld(m, addr(&rd), &res); break;
        case 4: st = vtx_vmptrst(m, &res); break;
        case 5: { /* a real field most of the time, any encoding otherwise */
            uint64_t enc = (op & 0x80) ? take(&rd, 4) : fields[take(&rd, 1) % nfields].encoding;
            st = vtx_vmwrite(m, enc, take(&rd, 8), &res);
            break;
        }
        case 6: {
            uint64_t enc = (op & 0x80) ? take(&rd, 8) : fields[take(&rd, 1) % nfields].encoding;
            st = vtx_vmread(m, enc, &res);
            break;
        }
        case 7: st = vtx_vmlaunch(m, &res); break;
        case 8: st = vtx_vmresume(m, &res); break;
        case 9: {
            vtx_invept_desc d = {take(&rd, 8), take(&rd, 1)};
            st = vtx_invept(m, take(&rd, 1) % 5, &d, &res);
            break;
        }
        case 10: {
            vtx_invvpid_desc d = {take(&rd, 3), take(&rd, 8)};
            st = vtx_invvpid(m, take(&rd, 1) % 5, &d, &res);
            break;
        }
        case 11: { /* change the root environment; the model may refuse */
            vtx_root_state root;
            vtx_machine_get_root(m, &root);
            unsigned what = (unsigned)take(&rd, 1);
            if (what & 1) root.cr4 ^= 1ull << (take(&rd, 1) % 24);
            if (what & 2) root.cr0 ^= 1ull << (take(&rd, 1) % 32);
            if (what & 4) root.cpl = (uint8_t)(take(&rd, 1) & 3);
            if (what & 8) root.cs_l = !root.cs_l;
            if (what & 16) root.blocking_by_mov_ss = !root.blocking_by_mov_ss;
            if (what & 32) root.rflags ^= VTX_RFLAGS_VM;
            vtx_machine_set_root(m, &root, NULL);
            continue;
        }
        }
        check(st, &res);
    }
    vtx_machine_destroy(m);
    free(ram);
    return 0;
}
