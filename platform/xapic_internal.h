/*
 * Shared between the xAPIC's files (platform/xapic.c: registers, priority,
 * IPIs, IA32_APIC_BASE; platform/xapic_timer.c: the LVT timer). Not public.
 */
#ifndef VTX_PLATFORM_XAPIC_INTERNAL_H
#define VTX_PLATFORM_XAPIC_INTERNAL_H

#include <stdarg.h>
#include "xapic.h"

/* LVT and ICR fields (SDM "Local Vector Table", "Interrupt Command Register"). */
#define VTX_APIC_VECTOR 0xFFu
#define VTX_APIC_DELIVERY_MODE(v) (((v) >> 8) & 7u)
#define VTX_APIC_LVT_MASKED (1u << 16)
#define VTX_APIC_TIMER_PERIODIC (1u << 17)
#define VTX_APIC_SPIV_ENABLE (1u << 8)

/* Delivery modes (ICR and LVT bits 10:8). */
enum vtx_apic_dm {
    VTX_APIC_DM_FIXED = 0, VTX_APIC_DM_LOWEST = 1, VTX_APIC_DM_SMI = 2, VTX_APIC_DM_RESERVED3 = 3,
    VTX_APIC_DM_NMI = 4, VTX_APIC_DM_INIT = 5, VTX_APIC_DM_STARTUP = 6, VTX_APIC_DM_EXTINT = 7,
};

/* ESR bits (SDM "Error Handling"; the Pentium 4 and later set bits 4-7). */
#define VTX_APIC_ESR_REDIRECTABLE_IPI (1u << 4)
#define VTX_APIC_ESR_SEND_ILLEGAL (1u << 5)
#define VTX_APIC_ESR_RECV_ILLEGAL (1u << 6)
#define VTX_APIC_ESR_ILLEGAL_REG (1u << 7)

/* The LVT entry @p lvt (the timer, at expiry) raises its fixed vector unless masked. In platform/xapic.c. */
void vtx_xapic_lvt_fire(vtx_xapic *x, vtx_xapic_lvt lvt);
/* Record @p fmt in x->why and return @p st. In platform/xapic.c. */
vtx_status vtx_xapic_refuse(vtx_xapic *x, vtx_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The timer (platform/xapic_timer.c). */
/* Process every expiry at or before @p now (each sets the timer's IRR bit via vtx_xapic_lvt_fire). */
void vtx_xapic_timer_update(vtx_xapic *x, uint64_t now);
/* TMICT written with @p value at @p now: load the count, or stop the timer for 0. */
void vtx_xapic_timer_set_initial(vtx_xapic *x, uint64_t now, uint32_t value);
/* TDCR written with @p value at @p now: keep the current count, count on at the new rate. */
void vtx_xapic_timer_set_divide(vtx_xapic *x, uint64_t now, uint32_t value);
/* Stop the timer (reset). */
void vtx_xapic_timer_reset(vtx_xapic *x);

#endif
