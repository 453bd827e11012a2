/**
 * @file insn_table.h
 * @brief Every instruction the SDM's chapter on VMX non-root operation names, as data.
 *
 * One row per instruction of SDM Vol. 3C (2016 numbering, the edition the rules
 * catalogue pins) 25.1.2 "Instructions That Cause VM Exits Unconditionally",
 * 25.1.3 "Instructions That Cause VM Exits Conditionally" and 25.3 "Changes to
 * Instruction Behavior in VMX Non-Root Operation" (plus VMFUNC, 25.5.5, and the
 * newer-SDM rows PCONFIG, UMWAIT, TPAUSE, UMONITOR, LOADIWKEY, ENCLV, WBNOINVD):
 * how it behaves (exits always, exits by a control, exits on a condition, never
 * exits but behaves differently), the secondary control that gates it with #UD,
 * the exit reason, the exit-qualification and instruction-information layouts,
 * whether the guest-linear / guest-physical address fields are defined, the
 * fault that has priority over its exit, the SDM section, and what the model
 * does with it (implemented, or refused by name at VM entry or at the
 * instruction). The table itself is the X-macro in model/insn_table.h; the
 * model's exit decisions read it (model/insn_exits.c, model/execute.c), and
 * `vtxref instructions` prints it with the tests that cover each row.
 */
#ifndef VTXREF_INSN_TABLE_H
#define VTXREF_INSN_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include "arch.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief How a row's instruction behaves in VMX non-root operation. */
typedef enum vtx_irow_cond {
    VTX_IROW_UNCOND = 0,    /**< Exits unconditionally (25.1.2). */
    VTX_IROW_CONTROL = 1,   /**< Exits when its exit control is 1 (25.1.3). */
    VTX_IROW_CONDITION = 2, /**< Exits on a condition: bitmaps, masks, operands (25.1.3; the note says which). */
    VTX_IROW_NO_EXIT = 3,   /**< Never exits; its behaviour changes (25.3). */
} vtx_irow_cond;

/** @brief Exit-qualification layout of a row's exit (SDM16 27.2.1). */
typedef enum vtx_irow_qual {
    VTX_IROW_Q_ZERO = 0, /**< None defined: written as 0 (EXIT-3). */
    VTX_IROW_Q_DISP,     /**< Displacement of the memory operand (Table "... Due to Instructions"). */
    VTX_IROW_Q_LINEAR,   /**< Linear address of the operand (INVLPG). */
    VTX_IROW_Q_CR,       /**< Control-register access (Table 27-3). */
    VTX_IROW_Q_DR,       /**< MOV DR (Table 27-4). */
    VTX_IROW_Q_IO,       /**< I/O instruction (Table 27-5). */
    VTX_IROW_Q_MWAIT,    /**< MWAIT: bit 0 "monitoring hardware armed" (newer SDM). */
} vtx_irow_qual;

/** @brief VM-exit instruction-information layout of a row's exit (SDM16 27.2.4). */
typedef enum vtx_irow_info {
    VTX_IROW_I_NONE = 0,  /**< Not defined. */
    VTX_IROW_I_INS_OUTS,  /**< Table 27-8 (INS, OUTS; only with IA32_VMX_BASIC[54]). */
    VTX_IROW_I_INVEPT,    /**< Table 27-9 (INVEPT, INVPCID, INVVPID). */
    VTX_IROW_I_GDT,       /**< Table 27-10 (LIDT, LGDT, SIDT, SGDT). */
    VTX_IROW_I_LDT,       /**< Table 27-11 (LLDT, LTR, SLDT, STR). */
    VTX_IROW_I_RDRAND,    /**< Table 27-12 (RDRAND, RDSEED; newer SDM: TPAUSE, UMWAIT). */
    VTX_IROW_I_VMCLEAR,   /**< Table 27-13 (VMCLEAR, VMPTRLD, VMPTRST, VMXON, XRSTORS, XSAVES). */
    VTX_IROW_I_VMREAD,    /**< Table 27-14 (VMREAD, VMWRITE). */
    VTX_IROW_I_LOADIWKEY, /**< Newer SDM: LOADIWKEY (Reg1, Reg2). */
} vtx_irow_info;

/** @brief Faults that have priority over the row's exit (SDM16 25.1.1), as bits. */
enum {
    VTX_IROW_PRE_GP_CPL = 1u << 0,     /**< #GP(0) if CPL > 0. */
    VTX_IROW_PRE_UD_CPL = 1u << 1,     /**< #UD if CPL > 0 (MONITOR, MWAIT). */
    VTX_IROW_PRE_TSD = 1u << 2,        /**< #GP(0) if CPL > 0 and CR4.TSD = 1 (RDTSC, RDTSCP). */
    VTX_IROW_PRE_UD_SMXE = 1u << 3,    /**< #UD if CR4.SMXE = 0 (GETSEC). */
    VTX_IROW_PRE_UD_OSXSAVE = 1u << 4, /**< #UD if CR4.OSXSAVE = 0 (XSETBV). */
    VTX_IROW_PRE_UD_ALWAYS = 1u << 5,  /**< #UD: the profile's processor lacks the feature (SGX, SMM, Key Locker). */
    VTX_IROW_PRE_UD_VMX_MODE = 1u << 6, /**< #UD in real-address, virtual-8086 and compatibility mode (VMX instructions but VMCALL). */
    VTX_IROW_PRE_UD_EAX64 = 1u << 7,   /**< #UD if EAX >= 64 (VMFUNC). */
    VTX_IROW_PRE_PCE = 1u << 8,        /**< #GP(0) if CPL > 0 and CR4.PCE = 0 (RDPMC). */
    VTX_IROW_PRE_IOPERM = 1u << 9,     /**< #GP(0) if CPL > IOPL (or virtual-8086 mode) and the TSS I/O bitmap denies a port. */
};

/** @brief What the model does with a row. */
typedef enum vtx_irow_status {
    VTX_IROW_IMPLEMENTED = 0, /**< Carried out as the SDM says, whatever the controls. */
    VTX_IROW_ENTRY = 1,       /**< Carried out with its "refuse" control 0; VM entry refuses that control = 1 by row name. */
    VTX_IROW_INSN = 2,        /**< Carried out in part; the rest stops the run (VTX_ERR_UNSUPPORTED) naming the row. */
    VTX_IROW_PENDING = 3,     /**< Not carried out yet (the note says where it is being fixed). */
} vtx_irow_status;

/** @brief A control bit: the field it lives in and its mask (mask 0: none). */
typedef struct vtx_irow_ctl {
    vtx_ctl_field field;
    uint32_t mask;
} vtx_irow_ctl;

/** @brief One row of the instruction table. */
typedef struct vtx_insn_row {
    const char *id;          /**< Row name, a C identifier ("RDTSCP", "MOV_TO_CR0"). */
    const char *insn;        /**< The instruction as the SDM names it. */
    vtx_irow_cond cond;      /**< How it behaves. */
    vtx_irow_ctl gate;       /**< Secondary control whose 0 makes it #UD (mask 0: none). */
    vtx_irow_ctl exit_ctl;   /**< Control whose 1 makes it exit (CONTROL rows; documentation otherwise). */
    vtx_irow_ctl refuse;     /**< Control the model refuses at VM entry when 1 (ENTRY rows). */
    int32_t reason;          /**< Basic exit reason, -1 when it never exits. */
    vtx_irow_qual qual;      /**< Exit-qualification layout. */
    vtx_irow_info info;      /**< Instruction-information layout. */
    bool linear;             /**< Guest-linear address field defined (INS/OUTS, LMSW with a memory operand). */
    bool physical;           /**< Guest-physical address field defined (only EPT exits: never for these rows). */
    uint32_t pre;            /**< VTX_IROW_PRE_* bits. */
    const char *sdm;         /**< SDM section (2016 numbering). */
    vtx_irow_status status;  /**< What the model does. */
    const char *note;        /**< The condition, the changed behaviour, and any refusal, in words. */
} vtx_insn_row;

/** @brief Number of rows. */
VTX_API unsigned vtx_insn_row_count(void);
/** @brief Row i (NULL when out of range). */
VTX_API const vtx_insn_row *vtx_insn_row_at(unsigned i);
/** @brief The row with this name (case-sensitive), or NULL. */
VTX_API const vtx_insn_row *vtx_insn_row_by_id(const char *id);
/** @brief "unconditional", "control", "condition", "no exit". */
VTX_API const char *vtx_irow_cond_name(vtx_irow_cond c);
/** @brief Short name of a qualification layout ("displacement", "CR access", ...). */
VTX_API const char *vtx_irow_qual_name(vtx_irow_qual q);
/** @brief Short name of an instruction-information layout ("-", "INVEPT/INVPCID/INVVPID", ...). */
VTX_API const char *vtx_irow_info_name(vtx_irow_info i);
/** @brief "implemented", "refused at VM entry when ...", ... */
VTX_API const char *vtx_irow_status_name(vtx_irow_status s);

#ifdef __cplusplus
}
#endif
#endif
