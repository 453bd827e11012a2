/**
 * @file xapic.h
 * @brief The local xAPIC of the platform (one CPU): registers, priority
 * arbitration, self-IPIs, the LVT timer and IA32_APIC_BASE (SDM Vol. 3A
 * "Advanced Programmable Interrupt Controller (APIC)"). Own rules APIC-* in
 * docs/rules-own.tsv; what is and is not modelled is in docs/platform.md ("Local xAPIC").
 *
 * The device knows nothing of the CPU: the caller (the machine's bus and
 * interrupt logic) routes 32-bit MMIO accesses at the page of
 * vtx_xapic_get_base() to vtx_xapic_mmio_read()/vtx_xapic_mmio_write() while the
 * APIC is enabled, WRMSR/RDMSR of IA32_APIC_BASE (0x1B) to vtx_xapic_set_base()/
 * vtx_xapic_get_base(), MOV to/from CR8 to vtx_xapic_set_cr8()/vtx_xapic_get_cr8(),
 * and asks vtx_xapic_pending()/vtx_xapic_take_nmi() at instruction boundaries.
 *
 * Time is the machine's cycle clock (`now`, non-decreasing; a smaller value
 * than one already seen is taken as the latest one seen). The APIC timer's
 * counter decrements once every `divide` cycles counted from the TMICT write
 * (the cycle clock stands for the SDM's bus clock).
 *
 * Every function returns a status; on a failure other than a NULL pointer,
 * vtx_xapic::why names what was refused ("xAPIC: ICR: delivery mode SMI to
 * self is not modelled"), for the caller to report.
 */
#ifndef VTXREF_PLATFORM_XAPIC_H
#define VTXREF_PLATFORM_XAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include <vtxref/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Number of LVT entries: timer, thermal, performance counters, LINT0, LINT1, error (no CMCI). */
#define VTX_XAPIC_NLVT 6
/** @brief Power-up IA32_APIC_BASE address (bits 35:12 of the MSR). */
#define VTX_XAPIC_DEFAULT_BASE 0xFEE00000u
/** @brief IA32_APIC_BASE bit 8: this processor is the bootstrap processor. */
#define VTX_XAPIC_BASE_BSP (1ull << 8)
/** @brief IA32_APIC_BASE bit 10: x2APIC mode (reserved here: no x2APIC, a write of 1 is #GP). */
#define VTX_XAPIC_BASE_EXTD (1ull << 10)
/** @brief IA32_APIC_BASE bit 11: APIC global enable. */
#define VTX_XAPIC_BASE_EN (1ull << 11)
/** @brief The version register's value: version 0x14 (integrated xAPIC), max LVT entry 5, no EOI-broadcast suppression. */
#define VTX_XAPIC_LVR (0x14u | ((VTX_XAPIC_NLVT - 1u) << 16))

/** @brief The LVT entries, in register order (0x320 + 0x10 * index). */
typedef enum vtx_xapic_lvt {
    VTX_XAPIC_LVT_TIMER = 0,   /**< 0x320 */
    VTX_XAPIC_LVT_THERMAL = 1, /**< 0x330 */
    VTX_XAPIC_LVT_PERF = 2,    /**< 0x340 */
    VTX_XAPIC_LVT_LINT0 = 3,   /**< 0x350 */
    VTX_XAPIC_LVT_LINT1 = 4,   /**< 0x360 */
    VTX_XAPIC_LVT_ERROR = 5,   /**< 0x370 */
} vtx_xapic_lvt;

/**
 * @brief State of one local xAPIC. Caller-owned, plain data (copyable);
 * initialise with vtx_xapic_init(). Read the fields for introspection only;
 * change them through the functions.
 */
typedef struct vtx_xapic {
    uint8_t initial_id;       /**< The APIC ID of vtx_xapic_init() (restored by a reset). */
    uint8_t maxphyaddr;       /**< Physical-address width: IA32_APIC_BASE bits at and above it are reserved (default 36). */
    uint64_t base_msr;        /**< IA32_APIC_BASE. */
    uint32_t id;              /**< 0x020 APIC ID (bits 31:24). */
    uint32_t tpr;             /**< 0x080 task priority (bits 7:0). */
    uint32_t ldr;             /**< 0x0D0 logical destination (bits 31:24). */
    uint32_t dfr;             /**< 0x0E0 destination format (bits 31:28; 27:0 read 1). */
    uint32_t spiv;            /**< 0x0F0 spurious-interrupt vector (bit 8: APIC software enable). */
    uint32_t esr;             /**< 0x280 error status as last latched by an ESR write. */
    uint32_t esr_pending;     /**< Errors detected since the last ESR write (not yet visible). */
    uint32_t icr_lo;          /**< 0x300 interrupt command, low half (bit 12 always reads 0). */
    uint32_t icr_hi;          /**< 0x310 interrupt command, destination (bits 31:24). */
    uint32_t lvt[VTX_XAPIC_NLVT]; /**< 0x320-0x370 local vector table (delivery status always reads 0). */
    uint32_t tdcr;            /**< 0x3E0 divide configuration (bits 0, 1, 3). */
    uint32_t tmict;           /**< 0x380 timer initial count. */
    uint32_t irr[8];          /**< 0x200-0x270 interrupt request register, 256 bits. */
    uint32_t isr[8];          /**< 0x100-0x170 in-service register, 256 bits. */
    uint32_t tmr[8];          /**< 0x180-0x1F0 trigger mode register, 256 bits (no modelled source is level-triggered). */
    bool nmi_pending;         /**< An NMI was delivered to the core and not yet taken (vtx_xapic_take_nmi()). */
    bool timer_armed;         /**< The timer counts: TMICT != 0 and not a one-shot that reached 0. */
    uint64_t timer_base;      /**< Cycle at which the current count was loaded (TMICT or TDCR write). */
    uint32_t timer_base_count;/**< The current count at timer_base. */
    uint64_t timer_next;      /**< Cycle of the next expiry not yet processed (valid while timer_armed). */
    uint64_t last_now;        /**< Latest `now` seen. */
    char why[160];            /**< What the last refused call refused, in words; empty after a success. */
} vtx_xapic;

/**
 * @brief Power-up state (APIC-RESET-1): ID = @p apic_id, IA32_APIC_BASE =
 * 0xFEE00000 | EN | BSP, TPR/PPR/IRR/ISR/TMR/ICR/LDR/ESR/TMICT/TMCCT/TDCR 0, DFR
 * all ones, SPIV 0xFF (software-disabled), every LVT masked, MAXPHYADDR 36.
 * ::VTX_ERR_INVALID_ARG if @p x is NULL.
 */
vtx_status vtx_xapic_init(vtx_xapic *x, uint8_t apic_id);

/**
 * @brief Set the physical-address width that bounds IA32_APIC_BASE (the CPU
 * profile's CPUID.80000008H:EAX[7:0]); ::VTX_ERR_INVALID_ARG outside 32..52.
 */
vtx_status vtx_xapic_set_maxphyaddr(vtx_xapic *x, uint8_t maxphyaddr);

/**
 * @brief A 32-bit load from the APIC page at @p offset (0..0xFFF) at cycle @p now
 * (APIC-REG-1). Registers read as the SDM says (PPR, APR, TMCCT computed; EOI
 * and write-only bits read 0; delivery-status bits 0). A reserved offset reads 0
 * and sets ESR bit 7 (illegal register address), as the SDM says.
 *
 * ::VTX_OK; ::VTX_ERR_UNSUPPORTED for an offset that is not 16-byte aligned
 * (the SDM makes such accesses model-specific); ::VTX_ERR_STATE while the APIC is
 * disabled in IA32_APIC_BASE (its page is not decoded); ::VTX_ERR_INVALID_ARG
 * for NULL or an offset beyond the page. Accesses of another width than 4 bytes
 * are model-specific too (SDM "Local APIC Register Address Map"): the caller
 * reports them as unmodelled (::VTX_ERR_UNSUPPORTED) without calling this.
 */
vtx_status vtx_xapic_mmio_read(vtx_xapic *x, uint64_t now, uint32_t offset, uint32_t *value);

/**
 * @brief A 32-bit store to the APIC page at @p offset at cycle @p now. Writable
 * bits take @p value, reserved and read-only bits are ignored; EOI ends the
 * highest in-service interrupt; ICR low sends the IPI; ESR latches the errors;
 * TMICT/TDCR (re)start the timer. Statuses as vtx_xapic_mmio_read(), plus
 * ::VTX_ERR_UNSUPPORTED for an IPI the model does not carry out (INIT or SMI to
 * this CPU, a reserved delivery mode, an undefined DFR model, a combination the
 * SDM's ICR table calls invalid): the register keeps the value, nothing is
 * delivered, and vtx_xapic::why names it.
 */
vtx_status vtx_xapic_mmio_write(vtx_xapic *x, uint64_t now, uint32_t offset, uint32_t value);

/**
 * @brief WRMSR IA32_APIC_BASE at cycle @p now (APIC-BASE-1). Bits 0-7, 9, 10
 * (EXTD: no x2APIC) and MAXPHYADDR..63 are reserved: ::VTX_ERR_INVALID_ARG (the
 * CPU raises #GP(0)) and nothing changes. Clearing EN (bit 11) disables the
 * APIC and returns it to its power-up state (APIC-RESET-1; the ID to the
 * initial one); setting it again enables that state. BSP and the base address
 * are read/write.
 */
vtx_status vtx_xapic_set_base(vtx_xapic *x, uint64_t now, uint64_t msr_value);

/** @brief RDMSR IA32_APIC_BASE (0 for NULL). */
uint64_t vtx_xapic_get_base(const vtx_xapic *x);

/** @brief True when IA32_APIC_BASE.EN is set (the page is decoded and interrupts flow). */
bool vtx_xapic_enabled(const vtx_xapic *x);

/**
 * @brief The vector the CPU would accept at cycle @p now, or -1 (APIC-IRR-1):
 * the highest IRR vector whose priority class (bits 7:4) is above PPR's. Timer
 * expiries up to @p now are processed first (they set IRR). -1 while the APIC
 * is disabled in IA32_APIC_BASE or for NULL. RFLAGS.IF and interrupt shadows are
 * the CPU's business.
 */
int vtx_xapic_pending(vtx_xapic *x, uint64_t now);

/**
 * @brief Interrupt acknowledge (INTA): move @p vector from IRR to ISR
 * (APIC-IRR-1). ::VTX_ERR_STATE when its IRR bit is clear (after processing
 * timers up to @p now) or the APIC is disabled.
 */
vtx_status vtx_xapic_ack(vtx_xapic *x, uint64_t now, uint8_t vector);

/**
 * @brief True once per NMI the APIC delivered to the core by an ICR write,
 * which this call consumes (APIC-NMI-1). (LVT entries with NMI delivery mode
 * belong to LINT0/LINT1, thermal and performance-counter sources, which the
 * platform does not have.) NMIs
 * delivered while one is waiting merge into it. Timers up to @p now are
 * processed first.
 */
bool vtx_xapic_take_nmi(vtx_xapic *x, uint64_t now);

/**
 * @brief The cycle of the next timer expiry that will set an IRR bit, or
 * UINT64_MAX when nothing is armed (timer stopped, one-shot done, LVT timer
 * masked, APIC disabled). A value <= the current cycle means an expiry is due
 * and not yet processed. For HLT fast-forward (APIC-TMR-1).
 */
uint64_t vtx_xapic_next_deadline(const vtx_xapic *x);

/**
 * @brief MOV to CR8: TPR[7:4] = @p v, TPR[3:0] = 0 (APIC-TPR-1).
 * ::VTX_ERR_INVALID_ARG when @p v > 15 (bits 63:4 of CR8 are reserved: #GP).
 */
vtx_status vtx_xapic_set_cr8(vtx_xapic *x, uint64_t v);

/** @brief MOV from CR8: TPR[7:4] (APIC-TPR-1); 0 for NULL. */
uint8_t vtx_xapic_get_cr8(const vtx_xapic *x);

/**
 * @brief An external source delivers fixed, edge-triggered @p vector at @p now
 * (as an I/O APIC message would). It sets IRR as a self-IPI does; dropped while
 * the APIC is software-disabled; a vector below 16 sets ESR bit 6 (received
 * illegal vector) instead. ::VTX_ERR_STATE while disabled in IA32_APIC_BASE.
 */
vtx_status vtx_xapic_raise(vtx_xapic *x, uint64_t now, uint8_t vector);

/** @brief The processor priority (PPR) as register 0x0A0 reads it (APIC-PPR-1); 0 for NULL. */
uint32_t vtx_xapic_ppr(const vtx_xapic *x);

/** @brief The timer's current count (TMCCT, register 0x390) at cycle @p now, without side effects (APIC-TMR-1). */
uint32_t vtx_xapic_current_count(const vtx_xapic *x, uint64_t now);

#ifdef __cplusplus
}
#endif
#endif
