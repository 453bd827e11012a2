/**
 * @file x86_bits.h
 * @brief Architectural x86 bit definitions, the one place the project defines them:
 * CR0, CR4, IA32_EFER, RFLAGS, DR7, segment access rights and segment-descriptor bits
 * (SDM Vol. 3A "Control Registers", "EFLAGS Register", "Debug Registers", "Segment
 * Descriptors"). VMX facts (controls, exit reasons, errors) are in arch.h.
 *
 * Register bits are 64-bit constants (`~VTX_CR0_PG` clears one bit of a 64-bit
 * register, nothing else). Segment access rights use the layout of the VMCS
 * guest-state access-rights fields (SDM "Guest Register State"), which is the
 * descriptor's bits 47:40 and 55:52 with bit 16 "unusable": cpu/ keeps segments
 * in this layout too (cpu_state.h), so one set of masks serves both.
 */
#ifndef VTXREF_X86_BITS_H
#define VTXREF_X86_BITS_H

#include <stdint.h>

/* clang-format off */

/** @name CR0 */
/**@{*/
#define VTX_CR0_PE (1ull << 0)  /**< Protection enable. */
#define VTX_CR0_MP (1ull << 1)  /**< Monitor coprocessor. */
#define VTX_CR0_TS (1ull << 3)  /**< Task switched. */
#define VTX_CR0_NE (1ull << 5)  /**< Numeric error. */
#define VTX_CR0_WP (1ull << 16) /**< Write protect. */
#define VTX_CR0_AM (1ull << 18) /**< Alignment mask. */
#define VTX_CR0_NW (1ull << 29) /**< Not write-through. */
#define VTX_CR0_CD (1ull << 30) /**< Cache disable. */
#define VTX_CR0_PG (1ull << 31) /**< Paging. */
/**@}*/

/** @name CR4 */
/**@{*/
#define VTX_CR4_PSE    (1ull << 4)  /**< Page-size extensions. */
#define VTX_CR4_PAE    (1ull << 5)  /**< Physical-address extension. */
#define VTX_CR4_PGE    (1ull << 7)  /**< Page-global enable. */
#define VTX_CR4_OSFXSR (1ull << 9)  /**< FXSAVE/FXRSTOR and SSE enabled. */
#define VTX_CR4_LA57   (1ull << 12) /**< 57-bit linear addresses. */
#define VTX_CR4_VMXE   (1ull << 13) /**< VMX enable. */
#define VTX_CR4_SMXE   (1ull << 14) /**< SMX enable. */
#define VTX_CR4_PCIDE  (1ull << 17) /**< PCID enable. */
#define VTX_CR4_SMEP   (1ull << 20) /**< Supervisor-mode execution prevention. */
#define VTX_CR4_SMAP   (1ull << 21) /**< Supervisor-mode access prevention. */
/**@}*/

/** @name IA32_EFER */
/**@{*/
#define VTX_EFER_SCE (1ull << 0)  /**< SYSCALL enable. */
#define VTX_EFER_LME (1ull << 8)  /**< IA-32e mode enable. */
#define VTX_EFER_LMA (1ull << 10) /**< IA-32e mode active. */
#define VTX_EFER_NXE (1ull << 11) /**< Execute-disable enable. */
/** The bits the model's processor defines (SCE, LME, LMA, NXE); the others are reserved. */
#define VTX_EFER_DEFINED (VTX_EFER_SCE | VTX_EFER_LME | VTX_EFER_LMA | VTX_EFER_NXE)
/**@}*/

/** @name RFLAGS */
/**@{*/
#define VTX_RFLAGS_CF (1ull << 0)  /**< Carry. */
#define VTX_RFLAGS_FIXED1 (1ull << 1) /**< Bit 1, always 1. */
#define VTX_RFLAGS_PF (1ull << 2)  /**< Parity. */
#define VTX_RFLAGS_AF (1ull << 4)  /**< Auxiliary carry. */
#define VTX_RFLAGS_ZF (1ull << 6)  /**< Zero. */
#define VTX_RFLAGS_SF (1ull << 7)  /**< Sign. */
#define VTX_RFLAGS_TF (1ull << 8)  /**< Trap (single-step). */
#define VTX_RFLAGS_IF (1ull << 9)  /**< Interrupt enable. */
#define VTX_RFLAGS_OF (1ull << 11) /**< Overflow. */
#define VTX_RFLAGS_IOPL_SHIFT 12   /**< I/O privilege level, bits 13:12. */
#define VTX_RFLAGS_NT (1ull << 14) /**< Nested task. */
#define VTX_RFLAGS_RF (1ull << 16) /**< Resume. */
#define VTX_RFLAGS_VM (1ull << 17) /**< Virtual-8086 mode. */
#define VTX_RFLAGS_AC (1ull << 18) /**< Alignment check / access control. */
/** @brief IOPL, bits 13:12. */
#define VTX_RFLAGS_IOPL(f) ((unsigned)(((f) >> VTX_RFLAGS_IOPL_SHIFT) & 3u))
/** Reserved bits: 63:22, 15, 5 and 3 (bit 1 is reserved as 1). */
#define VTX_RFLAGS_RESERVED 0xFFFFFFFFFFC08028ull
/**@}*/

/** @name DR7 */
/**@{*/
#define VTX_DR7_GD (1ull << 13) /**< General detect enable. */
/**@}*/

/** @name Segment access rights (VMCS layout)
 * Masks, and readers of each field that return it shifted down (0 or 1 for flags). */
/**@{*/
#define VTX_AR_TYPE     0xFu       /**< Type, bits 3:0. */
#define VTX_AR_ACCESSED 1u         /**< Type bit 0: accessed (code and data segments). */
#define VTX_AR_S        (1u << 4)  /**< Descriptor type: 1 code or data, 0 system. */
#define VTX_AR_DPL      (3u << 5)  /**< Descriptor privilege level, bits 6:5. */
#define VTX_AR_P        (1u << 7)  /**< Present. */
#define VTX_AR_AVL      (1u << 12) /**< Available to software. */
#define VTX_AR_L        (1u << 13) /**< 64-bit code segment. */
#define VTX_AR_DB       (1u << 14) /**< Default operation size / big. */
#define VTX_AR_G        (1u << 15) /**< Granularity. */
#define VTX_AR_UNUSABLE (1u << 16) /**< Segment unusable (VMX; a null selector loaded). */
#define VTX_AR_RESERVED 0xFFFE0F00u /**< Reserved: 31:17 and 11:8. */
/**@}*/
/** @brief Segment type, bits 3:0. */
static inline unsigned vtx_ar_type(uint32_t ar) { return ar & VTX_AR_TYPE; }
/** @brief DPL, bits 6:5. */
static inline unsigned vtx_ar_dpl(uint32_t ar) { return (ar & VTX_AR_DPL) >> 5; }
/** @brief S (1 code or data, 0 system). */
static inline unsigned vtx_ar_s(uint32_t ar) { return (ar & VTX_AR_S) != 0; }
/** @brief P. */
static inline unsigned vtx_ar_p(uint32_t ar) { return (ar & VTX_AR_P) != 0; }
/** @brief L. */
static inline unsigned vtx_ar_l(uint32_t ar) { return (ar & VTX_AR_L) != 0; }
/** @brief D/B. */
static inline unsigned vtx_ar_db(uint32_t ar) { return (ar & VTX_AR_DB) != 0; }
/** @brief G. */
static inline unsigned vtx_ar_g(uint32_t ar) { return (ar & VTX_AR_G) != 0; }
/** @brief Unusable. */
static inline unsigned vtx_ar_unusable(uint32_t ar) { return (ar & VTX_AR_UNUSABLE) != 0; }

/** @name Segment descriptor, high doubleword (bits 63:32 of the descriptor)
 * The access-rights layout above is this doubleword's bits 23:8. */
/**@{*/
#define VTX_DESC_HI_ACCESSED (1u << 8)  /**< Type bit 0: accessed. */
#define VTX_DESC_HI_S        (1u << 12) /**< S. */
#define VTX_DESC_HI_P        (1u << 15) /**< P. */
#define VTX_DESC_HI_L        (1u << 21) /**< L. */
#define VTX_DESC_HI_DB       (1u << 22) /**< D/B. */
/**@}*/

/* clang-format on */

#endif
