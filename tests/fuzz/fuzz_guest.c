/* libFuzzer target: arbitrary bytes as guest code in a flat 64-bit guest, with
 * arbitrary window and exiting controls, RFLAGS, interruptibility, activity,
 * an injected event and platform inputs. Every run must end in a VM exit (a
 * triple fault included), a VM-entry failure, or a stop with a reason; never a
 * crash, a hang or a sanitizer report. */
#include <stdlib.h>
#include <string.h>
#include "vtxref/vtxref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (2u << 20)
#define CODE 0x10000u

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint64_t take(reader *r, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && r->n; i++, r->p++, r->n--)
        v |= (uint64_t)*r->p << (8 * i);
    return v;
}

static void vmw(vtx_machine *m, uint32_t enc, uint64_t v)
{
    vtx_insn_result r;
    vtx_vmwrite(m, enc, v, &r);
}

static uint64_t vmr(vtx_machine *m, uint32_t enc)
{
    vtx_insn_result r;
    vtx_vmread(m, enc, &r);
    return r.value;
}

static void check(vtx_status st, const vtx_insn_result *r)
{
    if (st != VTX_OK && st != VTX_ERR_UNSUPPORTED && st != VTX_ERR_UNMAPPED && st != VTX_ERR_STATE)
        abort();
    if (st == VTX_ERR_STATE)
        return;
    if (r->outcome == VTX_VMEXIT && !vtx_exit_reason_name(r->exit_reason & 0xFFFF))
        abort();
    if (st == VTX_OK && r->outcome != VTX_VMEXIT && r->outcome != VTX_GUEST_STOPPED &&
        r->outcome != VTX_VMFAIL_VALID && r->outcome != VTX_VMFAIL_INVALID)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd = {data, size};
    const vtx_profile *p = vtx_profile_builtin(1 + take(&rd, 1) % 2); /* server or teaching */
    vtx_machine_config cfg;
    vtx_machine_config_init(&cfg, p);
    cfg.limits.instructions = 2000;
    cfg.limits.cycles = 200000;
    vtx_machine *m;
    if (vtx_machine_create(&cfg, &m, NULL) != VTX_OK)
        abort();
    uint8_t *ram = aligned_alloc(4096, RAM);
    memset(ram, 0, RAM);
    vtx_machine_map(m, 0, RAM, ram, VTX_MEM_RWX, NULL);
    uint32_t rev = vtx_basic_revision(p->msr[VTX_CAP_IA32_VMX_BASIC]);
    memcpy(ram + 0x1000, &rev, 4);
    memcpy(ram + 0x2000, &rev, 4);
    vtx_insn_result r;
    vtx_vmxon(m, 0x1000, &r);
    vtx_vmclear(m, 0x2000, &r);
    vtx_vmptrld(m, 0x2000, &r);
    vtx_flat64 g = {.rip = CODE, .rsp = 0x90000, .rflags = 0x2, .tables = 0x100000, .handlers = 0x20000};
    if (vtx_setup_flat64(m, &g, NULL) != VTX_OK)
        abort();

    /* Controls and state from the input. */
    uint32_t pin = (uint32_t)take(&rd, 1), proc = (uint32_t)take(&rd, 4);
    uint32_t pin_ok = VTX_PIN_EXT_INTR_EXITING | VTX_PIN_NMI_EXITING | VTX_PIN_VIRTUAL_NMIS | VTX_PIN_PREEMPTION_TIMER;
    uint32_t proc_ok = VTX_PROC_INTR_WINDOW_EXITING | VTX_PROC_HLT_EXITING | VTX_PROC_NMI_WINDOW_EXITING |
                       VTX_PROC_MONITOR_TRAP_FLAG | VTX_PROC_RDTSC_EXITING | VTX_PROC_UNCOND_IO_EXITING |
                       VTX_PROC_TSC_OFFSETTING | VTX_PROC_MOV_DR_EXITING | VTX_PROC_CR8_LOAD_EXITING;
    vmw(m, VTX_VMCS_PIN_CONTROLS, vmr(m, VTX_VMCS_PIN_CONTROLS) | (pin & pin_ok));
    vmw(m, VTX_VMCS_PROC_CONTROLS, vmr(m, VTX_VMCS_PROC_CONTROLS) | (proc & proc_ok));
    vmw(m, VTX_VMCS_EXCEPTION_BITMAP, take(&rd, 4));
    vmw(m, VTX_VMCS_PREEMPTION_TIMER_VALUE, take(&rd, 2));
    vmw(m, VTX_VMCS_GUEST_RFLAGS, 0x2 | (take(&rd, 4) & 0x244ED5)); /* IF, TF, DF, arithmetic flags, AC, ID */
    vmw(m, VTX_VMCS_GUEST_INTERRUPTIBILITY, take(&rd, 1) & 0xB);
    vmw(m, VTX_VMCS_GUEST_ACTIVITY_STATE, take(&rd, 1) & 1);
    vmw(m, VTX_VMCS_ENTRY_INTR_INFO, take(&rd, 4) & 0x80000FFFu);
    vmw(m, VTX_VMCS_ENTRY_EXCEPTION_ERROR_CODE, take(&rd, 2));
    vmw(m, VTX_VMCS_ENTRY_INSTRUCTION_LEN, take(&rd, 1) & 15);
    unsigned inputs = (unsigned)take(&rd, 1);
    if (inputs & 1)
        vtx_machine_schedule(m, &(vtx_input){.kind = VTX_INPUT_NMI, .when = take(&rd, 1)});
    if (inputs & 2)
        vtx_machine_schedule(m, &(vtx_input){.kind = VTX_INPUT_INTR_ASSERT, .vector = (uint8_t)take(&rd, 1),
                                             .when = take(&rd, 1)});
    /* The rest is guest code, and handlers full of it too. */
    size_t n = rd.n < 4096 ? rd.n : 4096;
    memcpy(ram + CODE, rd.p, n);
    memcpy(ram + 0x20000, rd.p, n);

    vtx_status st = vtx_vmlaunch(m, &r);
    check(st, &r);
    for (int i = 0; i < 4 && st == VTX_OK && r.outcome == VTX_VMEXIT && !(r.exit_reason >> 31); i++) {
        /* Skip an instruction exit, as a VMM would, and resume. */
        vmw(m, VTX_VMCS_GUEST_RIP, vmr(m, VTX_VMCS_GUEST_RIP) + vmr(m, VTX_VMCS_EXIT_INSTRUCTION_LEN));
        st = vtx_vmresume(m, &r);
        check(st, &r);
    }
    if (vtx_machine_in_guest(m)) {
        st = vtx_continue(m, &r);
        check(st, &r);
    }
    vtx_machine_destroy(m);
    free(ram);
    return 0;
}
