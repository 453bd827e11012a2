/* Root-mode execution, shared by root_run.c, root_insn.c, root_vmx.c and root_cpuid.c. */
#ifndef VTX_ROOT_INTERNAL_H
#define VTX_ROOT_INTERNAL_H

#include "execute.h"

/* What handling one root-mode instruction or event led to. */
typedef enum vtx_rstep {
    VTX_RSTEP_GO = 0,  /* next boundary */
    VTX_RSTEP_END = 1, /* the run ends: res is filled */
} vtx_rstep;

/* Retire n root-mode instructions of a class: clock, count, shadows over, RF cleared. */
void vtx_root_retire(vtx_machine *m, uint64_t n, vtx_insn_class cls);
/* Retire an instruction the model carried out: RIP past it, then vtx_root_retire. */
void vtx_root_retire_emulated(vtx_machine *m, const vtx_insn *insn);
/* Raise a hardware exception in root operation (fault: RIP stays) through the host IDT. */
vtx_rstep vtx_root_exception(vtx_machine *m, uint8_t vector, bool has_err, uint32_t err, uint64_t cr2,
                             vtx_root_result *res);
/* Deliver any event through the host IDT (#DF and triple-fault escalation, ROOT-EXC-1/2). */
vtx_rstep vtx_root_deliver(vtx_machine *m, vtx_delivery d, vtx_root_result *res);
/* End the run with a sentence. */
vtx_rstep vtx_root_stop(vtx_root_result *res, vtx_root_end end, uint64_t rip, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The engine executes the instruction the run stopped before (and nothing more). */
vtx_rstep vtx_root_step_engine(vtx_machine *m, const vtx_insn *insn, vtx_root_result *res);
/* The model's handling of an instruction the root-mode run stopped before (root_insn.c). */
vtx_rstep vtx_root_insn(vtx_machine *m, const vtx_insn *insn, vtx_root_result *res);
/* A VMX instruction in root operation (root_vmx.c). */
vtx_rstep vtx_root_vmx(vtx_machine *m, const vtx_insn *insn, vtx_root_result *res);
/* CPUID from the profile (root_cpuid.c): leaf/subleaf in, EAX..EDX out. */
void vtx_root_cpuid(const vtx_machine *m, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
/* RDMSR/WRMSR in root operation (root_insn.c): false = #GP(0). */
bool vtx_root_rdmsr(vtx_machine *m, uint32_t index, uint64_t *value);
bool vtx_root_wrmsr(vtx_machine *m, uint32_t index, uint64_t value);
/* Copy the root-mode processor into the root environment the vmx.h functions check. */
void vtx_root_sync(vtx_machine *m);
/* Root-mode linear memory (paging of the host's CR3): 0 ok, else a #PF (*pf_err,
 * *pf_addr) returns 1, unmapped physical memory returns 2 (*pf_addr = address). */
int vtx_root_mem(vtx_machine *m, uint64_t la, void *buf, size_t len, bool write, uint32_t *pf_err, uint64_t *pf_addr);
/* ROOT-ENG-1: an unmapped access at @p lin from processor state @p s that the
 * page tables map to another physical address: the engine's (Unicorn 2.0.1's)
 * identity-paging limit. Ends the run (true) with ::VTX_ROOT_ENGINE_LIMIT. */
bool vtx_root_engine_limit(vtx_machine *m, const vtx_cpu_state *s, uint64_t lin, vtx_root_result *res);
/* The effective linear address of the instruction's memory operand in root operation. */
uint64_t vtx_root_linear(const vtx_machine *m, const vtx_insn *insn);

/* ROOT-SEG-1 (root_operand.c): the segmentation checks of the instruction's
 * memory operand of @p len bytes, made before the page walk: 0 when it passes,
 * else the vector of the fault (#GP(0) = 13, #SS(0) = 12; error code 0). */
uint8_t vtx_root_operand_fault(const vtx_machine *m, const vtx_insn *insn, size_t len, bool write);
/* The same checks for @p len bytes at offset @p off (linear address @p la) in
 * segment register @p seg of processor state @p c (string instructions). */
uint8_t vtx_root_seg_fault(const vtx_cpu_state *c, unsigned seg, uint64_t off, uint64_t la, size_t len, bool write);

/* ROOT-IO-2 (root_io.c): the TSS I/O permission bit map denies @p size bytes at
 * @p port to the root-mode processor (CPL > IOPL in protected mode). */
bool vtx_root_io_denied(vtx_machine *m, uint16_t port, unsigned size);
/* ROOT-IO-3 (root_io.c): INS/OUTS, with REP, through the bus's port table. */
vtx_rstep vtx_root_string_io(vtx_machine *m, const vtx_insn *insn, vtx_root_result *res);

/* After a VM exit (or a VM-entry failure exit): the root-mode processor from the
 * host-state area (ROOT-RET-1), the GPRs other than RSP from the shared file. */
void vtx_root_after_exit(vtx_machine *m);
/* A guest stopped inside VMLAUNCH/VMRESUME or vtx_continue: say why the run ends. */
vtx_rstep vtx_root_guest_stopped(vtx_machine *m, const vtx_insn_result *r, vtx_status st, bool budget_used,
                                 vtx_root_result *res);

#endif
