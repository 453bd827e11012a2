/**
 * @file observer.h
 * @brief What the model decided at each instruction boundary, and why.
 *
 * In VMX non-root operation the model evaluates every instruction boundary
 * (including the one right after VM entry, and repeatedly while the guest is in
 * HLT) in the priority order of the rules catalogue, section G.1 / PRI-2. For
 * each boundary it can report, in a caller-owned ::vtx_boundary_report, every
 * event it considered: whether it was pending, whether something blocked it
 * (and which rule says so), and which one won. "Why was there no exit here?"
 * is answered by the report of that boundary.
 */
#ifndef VTXREF_OBSERVER_H
#define VTXREF_OBSERVER_H

#include <stdbool.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */
/**
 * @brief The events of a boundary, highest priority first (PRI-2): X(NAME, "description").
 *
 * SIPI comes first because catalogue G.1 checks the wait-for-SIPI state before
 * anything else: there a SIPI is the only event that acts (HLT-8). A SIPI that
 * arrives in any other activity state is reported blocked (rule HLT-2 or HLT-8)
 * at the boundary that discards it. Use the names (`VTX_EV_INIT`, ...), not
 * numbers: the order follows the catalogue.
 *
 * TPR_THRESHOLD and APIC_TRAP are PRI-2 item 1, above INIT: the TPR-below-threshold
 * exit right after VM entry (IW-8) or trap-like after a write to the virtual TPR,
 * and the trap-like virtualized-EOI and APIC-write exits. VIRTUAL_INTR is the
 * delivery of a recognised virtual interrupt, at the priority of interrupt-window
 * exits (IW-7; never both: with interrupt-window exiting no virtual interrupt is
 * recognised).
 */
#define VTX_BOUNDARY_EVENTS(X) \
    X(SIPI,             "start-up IPI (SIPI)") \
    X(TPR_THRESHOLD,    "TPR-below-threshold VM exit") \
    X(APIC_TRAP,        "virtualized-EOI or APIC-write VM exit (trap-like)") \
    X(INIT,             "INIT signal") \
    X(MTF,              "monitor-trap-flag VM exit") \
    X(PENDING_DB,       "pending debug exception (trap)") \
    X(PREEMPTION_TIMER, "VMX-preemption timer expiry") \
    X(NMI_WINDOW,       "NMI-window VM exit") \
    X(NMI,              "non-maskable interrupt") \
    X(INTR_WINDOW,      "interrupt-window VM exit") \
    X(VIRTUAL_INTR,     "virtual-interrupt delivery") \
    X(EXT_INTR,         "external interrupt")
/* clang-format on */

/** @brief Boundary events: `VTX_EV_NMI_WINDOW`, ... in priority order. */
typedef enum vtx_event {
#define VTX_X_EV(n, d) VTX_EV_##n,
    VTX_BOUNDARY_EVENTS(VTX_X_EV)
#undef VTX_X_EV
    VTX_EV_COUNT
} vtx_event;

/** @brief What happened to one event at one boundary. */
typedef enum vtx_event_state {
    VTX_EVS_IDLE = 0,    /**< Not pending (or its control is off). */
    VTX_EVS_BLOCKED = 1, /**< Pending (or its condition is armed) but blocked; see `rule`/`why`. */
    VTX_EVS_BEATEN = 2,  /**< Pending and unblocked, but a higher-priority event won. */
    VTX_EVS_TAKEN = 3,   /**< This event won the boundary. */
} vtx_event_state;

/** @brief One event's line in a boundary report. */
typedef struct vtx_event_verdict {
    vtx_event_state state;
    const char *rule; /**< Rule ID that decided (e.g. "BLK-STI-3", "IW-1"), or NULL. */
    const char *why;  /**< Short static text ("blocking by STI"), or NULL. */
} vtx_event_verdict;

/** @brief What the boundary led to. */
typedef enum vtx_boundary_action {
    VTX_ACT_EXIT = 0,    /**< A VM exit (the winning event exits). */
    VTX_ACT_DELIVER = 1, /**< An event is delivered through the guest IDT. */
    VTX_ACT_EXECUTE = 2, /**< Nothing won: the next instruction executes. */
    VTX_ACT_IDLE = 3,    /**< Nothing won and the guest is in HLT (or shutdown): it stays idle. */
} vtx_boundary_action;

/** @brief Everything the model decided at one instruction boundary (caller-owned). */
typedef struct vtx_boundary_report {
    uint64_t rip;              /**< Guest RIP of the next instruction. */
    uint64_t rflags;           /**< Guest RFLAGS at the boundary. */
    uint64_t cycle;            /**< Cycle clock. */
    uint64_t instructions;     /**< Guest instructions retired since the machine was created. */
    uint32_t interruptibility; /**< Live blocking, in the VMCS field's bit layout (bit 0 STI, 1 MOV SS, 3 NMI/virtual NMI). */
    uint32_t activity;         /**< Activity state (0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI). */
    bool after_entry;          /**< The boundary right after VM entry. */
    vtx_boundary_action action;/**< What followed. */
    int winner;                /**< The winning ::vtx_event, or -1. */
    vtx_event_verdict events[VTX_EV_COUNT]; /**< Indexed by ::vtx_event. */
} vtx_boundary_report;

/**
 * @brief Called for every evaluated boundary. The report is valid only during the call.
 *
 * Most boundaries are reported from inside a run of guest code, while the
 * guest's registers live in the execution engine: the observer must not call
 * the library's functions on the machine it observes (the report is what there
 * is to see then). Copy what it needs; act on the machine after the VM exit.
 */
typedef void (*vtx_boundary_observer)(void *user, const vtx_boundary_report *report);

/** @brief Name of an event ("NMI_WINDOW"), or NULL. */
VTX_API const char *vtx_event_name(vtx_event event);
/** @brief Description of an event ("NMI-window VM exit"), or NULL. */
VTX_API const char *vtx_event_description(vtx_event event);
/** @brief Name of an action ("exit", "deliver", "execute", "idle"). */
VTX_API const char *vtx_boundary_action_name(vtx_boundary_action action);

#ifdef __cplusplus
}
#endif
#endif
