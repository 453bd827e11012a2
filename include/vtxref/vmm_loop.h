/**
 * @file vmm_loop.h
 * @brief Drive a guest from a VMM's exit handler, with budgets.
 *
 * vtx_run_vmm() is the loop every VMM under test writes: VMLAUNCH (or VMRESUME),
 * hand each VM exit to a C handler, resume. It adds what a test harness needs:
 * an exit budget, and a stop with a clear report when the VMM re-enters the
 * same state again and again (the guest exits at the same place with the same
 * reason without retiring an instruction — e.g. an interrupt-window exit whose
 * control the handler never clears, IW-6).
 */
#ifndef VTXREF_VMM_LOOP_H
#define VTXREF_VMM_LOOP_H

#include <stdint.h>
#include "machine.h"
#include "status.h"
#include "vmm_check.h"
#include "vmx.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief What the handler wants after an exit. */
typedef enum vtx_vmm_action {
    VTX_VMM_RESUME = 0, /**< VMRESUME the guest. */
    VTX_VMM_STOP = 1,   /**< End the loop (the VMM is done). */
} vtx_vmm_action;

/** @brief A VMM's exit handler: the exit is in @p exit and in the VMCS (vtx_vmread). */
typedef vtx_vmm_action (*vtx_exit_handler)(void *user, vtx_machine *m, const vtx_insn_result *exit);

/** @brief The loop's handler and budgets (caller-owned). */
typedef struct vtx_vmm_loop {
    vtx_exit_handler handler; /**< Called for every VM exit (VM-entry failure exits included). */
    void *user;               /**< Passed to the handler. */
    uint64_t max_exits;       /**< Exit budget (0: 1 000 000). */
    uint32_t max_repeats;     /**< Identical exits in a row with no instruction retired before the loop stops (0: 100). */
    vtx_vmm_checker *checker; /**< VMM checker (vmm_check.h) attached for the loop and detached after it
                                   (NULL: none; one already attached to the machine stays attached).
                                   The loop does not finalize it: call vtx_vmm_check_finalize(). */
} vtx_vmm_loop;

/** @brief Why the loop ended. */
typedef enum vtx_vmm_end {
    VTX_VMM_END_HANDLER = 0,  /**< The handler returned ::VTX_VMM_STOP. */
    VTX_VMM_END_EXITS = 1,    /**< The exit budget was reached. */
    VTX_VMM_END_REPEAT = 2,   /**< The VMM re-entered the same state max_repeats times. */
    VTX_VMM_END_GUEST = 3,    /**< A run stopped without a VM exit (::VTX_GUEST_STOPPED: budget, idle HLT, not modelled). */
    VTX_VMM_END_VMFAIL = 4,   /**< VMLAUNCH/VMRESUME failed as an instruction (VMfail, #UD, #GP). */
} vtx_vmm_end;

/** @brief How the loop ended (caller-owned). */
typedef struct vtx_vmm_report {
    vtx_vmm_end end;
    uint64_t exits;           /**< VM exits handled. */
    vtx_insn_result last;     /**< The last VMLAUNCH/VMRESUME result. */
    char why[320];            /**< One sentence. */
} vtx_vmm_report;

/**
 * @brief Run the guest of the current VMCS under @p loop: VMLAUNCH when its
 * launch state is clear, else VMRESUME; then, after each VM exit, the handler.
 * @return the status of the last VMLAUNCH/VMRESUME call (::VTX_OK, or e.g.
 * ::VTX_ERR_UNMAPPED when the guest ran off mapped memory); @p report says why
 * the loop ended. ::VTX_ERR_STATE (nothing run) when vtx_vmm_loop::checker cannot
 * be attached (the machine has another checker, or it watches another machine).
 */
VTX_API vtx_status vtx_run_vmm(vtx_machine *m, const vtx_vmm_loop *loop, vtx_vmm_report *report);

#ifdef __cplusplus
}
#endif
#endif
