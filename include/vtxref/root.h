/**
 * @file root.h
 * @brief Running code in VMX root operation: a bare-metal VMM on the model.
 *
 * The machine runs the root-mode processor's own code on the same engine as
 * guest code (model/root_run.c). The model carries out what Unicorn cannot or
 * must not: every VMX instruction (through the vmx.h functions, with the SDM
 * outcome in RFLAGS, the VM-instruction error field, #UD and #GP), exceptions
 * and interrupts through the host's IDT, STI / MOV-SS shadows and NMI blocking,
 * RDMSR/WRMSR (the model's MSR file, the capability MSRs of the profile, the
 * bus), CPUID (from the profile), RDTSC/RDTSCP (the cycle clock), MOV CR, IN/OUT
 * (the bus) and HLT. A successful VM entry runs the guest; its VM exit loads the
 * host state and root code goes on at HOST_RIP. Rules: ROOT-* in
 * docs/rules-own.tsv.
 */
#ifndef VTXREF_ROOT_H
#define VTXREF_ROOT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "machine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Why a root-mode run ended. */
typedef enum vtx_root_end {
    VTX_ROOT_BUDGET = 0,       /**< The instruction or cycle budget is used up. */
    VTX_ROOT_BUS_STOP = 1,     /**< A bus callback ended the run (the platform knows why). */
    VTX_ROOT_TRIPLE_FAULT = 2, /**< A triple fault in root operation (shutdown). */
    VTX_ROOT_HANG = 3,         /**< HLT with nothing armed that can wake the processor. */
    VTX_ROOT_UNMAPPED = 4,     /**< An access to physical memory that is neither RAM nor a device. */
    VTX_ROOT_UNSUPPORTED = 5,  /**< Something the model cannot carry out (why says what). */
    VTX_ROOT_ENGINE_LIMIT = 6, /**< The execution engine cannot run what the kernel set up: Unicorn 2.0.1
                                    runs only identity paging (linear == physical); Unicorn 2.1 runs it. */
} vtx_root_end;

/** @brief How a root-mode run ended (caller-owned). */
typedef struct vtx_root_result {
    vtx_root_end end;   /**< Why it ended. */
    uint64_t rip;       /**< RIP of the root-mode (or, when in_guest, the guest) processor. */
    bool in_guest;      /**< It ended while a guest ran. */
    uint64_t address;   /**< ::VTX_ROOT_UNMAPPED: the physical address; ::VTX_ROOT_ENGINE_LIMIT: the linear one. */
    char why[256];      /**< One sentence. */
} vtx_root_result;

/** @brief The root-mode processor's entry state for a Multiboot (v1) kernel. */
typedef struct vtx_root_entry {
    uint32_t eip;       /**< Entry point (32-bit protected mode, flat segments, paging off). */
    uint32_t eax, ebx;  /**< EAX (0x2BADB002) and EBX (the Multiboot information). */
} vtx_root_entry;

/**
 * @brief Put the root-mode processor in the Multiboot entry state: 32-bit
 * protected mode, CS/DS/ES/SS/FS/GS flat 4-GiB (CS 0x10, data 0x18), CR0 = PE|ET,
 * paging off, EFLAGS = 2 (IF = 0), IA32_FEATURE_CONTROL = 0 (unlocked).
 * ::VTX_ERR_STATE in VMX operation or while a guest runs.
 */
VTX_API vtx_status vtx_root_start(vtx_machine *machine, const vtx_root_entry *entry);

/**
 * @brief Run root-mode code (and the guests it enters) until a budget, a bus
 * stop, a triple fault, a hang or a point the model cannot go on from.
 * @p max_insns and @p max_cycles bound this call (0: no limit).
 * ::VTX_ERR_STATE before vtx_root_start().
 */
VTX_API vtx_status vtx_root_run(vtx_machine *machine, uint64_t max_insns, uint64_t max_cycles,
                                vtx_root_result *result);

/** @brief Write one line per root-mode VMX instruction (its outcome, with the check
 * that decided it) and per VM exit to @p out (NULL: off). */
VTX_API vtx_status vtx_root_set_trace(vtx_machine *machine, FILE *out);

/** @brief Name of a ::vtx_root_end ("budget", "bus-stop", "triple-fault", "hang", "unmapped", "unsupported",
 * "engine-limit"). */
VTX_API const char *vtx_root_end_name(vtx_root_end end);

#ifdef __cplusplus
}
#endif
#endif
