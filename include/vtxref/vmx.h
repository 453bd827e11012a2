/**
 * @file vmx.h
 * @brief The VMX instructions as a VMM executes them in root operation.
 *
 * Each function models one instruction (SDM Vol. 3 chapter "VMX Instruction
 * Reference") against the machine's root state: it applies the same checks in
 * the same order, and reports in a caller-owned ::vtx_insn_result what the
 * instruction did:
 * - ::VTX_VMSUCCEED: CF = PF = AF = ZF = SF = OF = 0;
 * - ::VTX_VMFAIL_INVALID: CF = 1, others 0 (no current VMCS to hold an error);
 * - ::VTX_VMFAIL_VALID: ZF = 1, others 0, and the error number is written to the
 *   VM-instruction error field (0x4400) of the current VMCS;
 * - ::VTX_INSN_FAULT: the instruction raised #UD or #GP(0) and changed nothing.
 * The flags are applied to vtx_root_state::rflags of the machine as well.
 *
 * The function's own ::vtx_status says whether the call could be carried out
 * (bad arguments, unmapped memory); VMfail outcomes are successful calls.
 */
#ifndef VTXREF_VMX_H
#define VTXREF_VMX_H

#include <stdint.h>
#include "checks.h"
#include "machine.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Architectural outcome of a VMX instruction. */
typedef enum vtx_insn_outcome {
    VTX_VMSUCCEED = 0,      /**< VMsucceed. */
    VTX_VMFAIL_INVALID = 1, /**< VMfailInvalid (CF = 1). */
    VTX_VMFAIL_VALID = 2,   /**< VMfailValid (ZF = 1); vtx_insn_result::vm_error holds the number. */
    VTX_INSN_FAULT = 3,     /**< #UD or #GP(0); see vtx_insn_result::fault_vector. */
    VTX_VMEXIT = 4,         /**< VMLAUNCH/VMRESUME: control came back through a VM exit, or a
                                 VM-entry failure exit (exit_reason bit 31 set); the exit fields of
                                 the VMCS say which, as on hardware. */
    VTX_GUEST_STOPPED = 5,  /**< VMLAUNCH/VMRESUME/vtx_continue(): the guest is still in VMX non-root
                                 operation; the run stopped at a budget or where the model cannot
                                 go on (`why` says which). vtx_continue() resumes it. */
} vtx_insn_outcome;

/** @brief Exception vectors a VMX instruction can raise in root operation. */
enum { VTX_VECTOR_UD = 6, VTX_VECTOR_GP = 13 };

/** @brief What one VMX instruction did (caller-owned; fully overwritten by each call). */
typedef struct vtx_insn_result {
    vtx_insn_outcome outcome; /**< What happened. */
    uint32_t vm_error;        /**< VM-instruction error number for ::VTX_VMFAIL_VALID, else 0. */
    uint8_t fault_vector;     /**< 6 (#UD) or 13 (#GP) for ::VTX_INSN_FAULT, else 0. */
    uint32_t fault_error_code;/**< Error code of the fault (0 for #GP(0)). */
    uint64_t value;           /**< VMREAD: the destination operand; VMPTRST: the pointer stored. */
    uint32_t exit_reason;     /**< ::VTX_VMEXIT: the exit-reason field (bit 31 = VM-entry failure). */
    uint64_t exit_qualification; /**< ::VTX_VMEXIT: the exit-qualification field. */
    uint64_t rflags;          /**< RFLAGS after the instruction. */
    vtx_check check;          /**< The named check that decided the outcome (::VTX_CHECK_NONE on VMsucceed). */
    const char *rule;         /**< Rules-catalogue ID of that check, or NULL. */
    char why[240];            /**< One sentence saying why ("VMXON region 0x1234 is not 4-KiB aligned"). */
} vtx_insn_result;

/** @brief Name of an outcome: "VMsucceed", "VMfailInvalid", "VMfailValid", "fault". */
VTX_API const char *vtx_insn_outcome_name(vtx_insn_outcome outcome);

/**
 * @brief Format a result as one line, e.g. "VMfailValid(12: VMREAD/VMWRITE from/to
 * unsupported VMCS component): encoding 0x00006c40 is not a VMCS field of this processor".
 * @return the number of characters written (as snprintf).
 */
VTX_API int vtx_insn_result_format(const vtx_insn_result *result, char *buf, size_t size);

/** @brief VMXON with the VMXON region at physical address @p region_pa. */
VTX_API vtx_status vtx_vmxon(vtx_machine *m, uint64_t region_pa, vtx_insn_result *result);
/** @brief VMXOFF. */
VTX_API vtx_status vtx_vmxoff(vtx_machine *m, vtx_insn_result *result);
/** @brief VMCLEAR of the VMCS at @p vmcs_pa: its data go to the region in memory in the
 * model's format (docs/vmcs-format.md), launch state clear; ::VTX_ERR_UNMAPPED when the
 * region is not mapped. */
VTX_API vtx_status vtx_vmclear(vtx_machine *m, uint64_t vmcs_pa, vtx_insn_result *result);
/** @brief VMPTRLD of the VMCS at @p vmcs_pa: a VMCS that is not active takes its data
 * from the region when it is in the model's format (docs/vmcs-format.md; a byte copy of a
 * cleared region is a VMCS), else it keeps the model's data (fields 0 for a new one). */
VTX_API vtx_status vtx_vmptrld(vtx_machine *m, uint64_t vmcs_pa, vtx_insn_result *result);
/** @brief VMPTRST: result->value receives the current-VMCS pointer. */
VTX_API vtx_status vtx_vmptrst(vtx_machine *m, vtx_insn_result *result);
/**
 * @brief VMREAD of the field @p encoding (the register operand, 64 bits in
 * 64-bit mode, else its low 32 bits). result->value receives the destination
 * operand: 64 bits in 64-bit mode, 32 bits outside it, zero-extended or
 * truncated per the SDM.
 */
VTX_API vtx_status vtx_vmread(vtx_machine *m, uint64_t encoding, vtx_insn_result *result);
/** @brief VMWRITE of @p value (the source operand, truncated to 32 bits outside 64-bit mode). */
VTX_API vtx_status vtx_vmwrite(vtx_machine *m, uint64_t encoding, uint64_t value, vtx_insn_result *result);

/**
 * @brief VMLAUNCH. Applies ENT-BASIC-1..3 (#UD/#GP, VMfailInvalid without a
 * current VMCS or with a shadow VMCS, errors 26, 4), then the checks on the
 * controls (VMfailValid 7), on the host state (VMfailValid 8) and on the guest
 * state (a VM-entry failure exit, reason 33 | 0x80000000, with the host state
 * loaded). For every failure vtx_insn_result::check names the check that failed,
 * which the hardware cannot tell you.
 * A VM entry that passes every check needs guest execution, which is not
 * modelled yet: it returns ::VTX_ERR_UNSUPPORTED with the result's `why` saying
 * so, and changes nothing.
 */
VTX_API vtx_status vtx_vmlaunch(vtx_machine *m, vtx_insn_result *result);
/** @brief VMRESUME: as vtx_vmlaunch(), with errors 5 and 6 for the launch state. */
VTX_API vtx_status vtx_vmresume(vtx_machine *m, vtx_insn_result *result);

/**
 * @brief Continue a guest whose run stopped (::VTX_GUEST_STOPPED) until the next
 * VM exit or stop. ::VTX_ERR_STATE if the machine is not in non-root operation.
 */
VTX_API vtx_status vtx_continue(vtx_machine *m, vtx_insn_result *result);

/** @brief What a VMX-operation observer is told about (vtx_machine_set_vmx_observer()). */
typedef enum vtx_vmx_op_kind {
    VTX_VMX_OP_VMWRITE = 0, /**< A VMWRITE succeeded (VMsucceed): `encoding`, `value` as stored. */
    VTX_VMX_OP_ENTER = 1,   /**< A VMLAUNCH (`launch`) or VMRESUME is about to be carried out. */
    VTX_VMX_OP_OUTCOME = 2, /**< That VMLAUNCH/VMRESUME is done: `status` and `result` (a VM exit, a VMfail, a
                                 fault, or a guest still running when the run stopped). */
} vtx_vmx_op_kind;

/** @brief One VMX operation (valid during the callback only). */
typedef struct vtx_vmx_op {
    vtx_vmx_op_kind kind;
    uint64_t encoding;              /**< VMWRITE: the field encoding. */
    uint64_t value;                 /**< VMWRITE: the value written (before the field's width is applied). */
    bool launch;                    /**< ENTER, OUTCOME: VMLAUNCH (true) or VMRESUME. */
    vtx_status status;              /**< OUTCOME: the function's status. */
    const vtx_insn_result *result;  /**< OUTCOME: what the instruction did. */
} vtx_vmx_op;

/**
 * @brief Called for every successful VMWRITE and around every VMLAUNCH/VMRESUME,
 * whoever executes them: a C VMM through this API, or a kernel in VMX root
 * operation (root.h), whose VMX instructions are these functions. The observer
 * may read the machine (vtx_machine_peek_field(), ...) but must not change it.
 */
typedef void (*vtx_vmx_observer)(void *user, vtx_machine *m, const vtx_vmx_op *op);

/** @brief Install a VMX-operation observer (NULL removes it). Installing one changes nothing the guest or the
 * VMM sees. */
VTX_API vtx_status vtx_machine_set_vmx_observer(vtx_machine *m, vtx_vmx_observer observer, void *user);

/**
 * @brief Ask a root-mode run (vtx_root_run()) to end at the next root-mode boundary, as a bus callback
 * returning ::VTX_BUS_STOP does (the run ends with ::VTX_ROOT_BUS_STOP). For an observer that has seen
 * enough (a replay that diverged). Has no effect outside vtx_root_run().
 */
VTX_API vtx_status vtx_machine_request_stop(vtx_machine *m);

/** @brief INVEPT descriptor (128 bits in memory). */
typedef struct vtx_invept_desc {
    uint64_t eptp;     /**< EPT pointer (used by single-context invalidation). */
    uint64_t reserved; /**< Bits 127:64; reserved. */
} vtx_invept_desc;

/** @brief INVVPID descriptor (128 bits in memory). */
typedef struct vtx_invvpid_desc {
    uint64_t vpid;        /**< Bits 15:0 VPID; bits 63:16 must be 0. */
    uint64_t linear_addr; /**< Linear address (individual-address invalidation). */
} vtx_invvpid_desc;

/** @brief INVEPT types. */
enum { VTX_INVEPT_SINGLE_CONTEXT = 1, VTX_INVEPT_ALL_CONTEXT = 2 };
/** @brief INVVPID types. */
enum {
    VTX_INVVPID_INDIVIDUAL_ADDR = 0, VTX_INVVPID_SINGLE_CONTEXT = 1,
    VTX_INVVPID_ALL_CONTEXT = 2, VTX_INVVPID_SINGLE_CONTEXT_GLOBALS = 3,
};

/** @brief INVEPT with register operand @p type; error 28 for an unsupported type or bad EPTP. */
VTX_API vtx_status vtx_invept(vtx_machine *m, uint64_t type, const vtx_invept_desc *desc,
                      vtx_insn_result *result);
/** @brief INVVPID with register operand @p type; error 28 for an unsupported type or bad descriptor. */
VTX_API vtx_status vtx_invvpid(vtx_machine *m, uint64_t type, const vtx_invvpid_desc *desc,
                       vtx_insn_result *result);

#ifdef __cplusplus
}
#endif
#endif
