/*
 * The local APIC timer (SDM Vol. 3A "APIC Timer"): TMICT loads the count, which
 * decrements once every `divide` cycles of the machine's cycle clock (standing
 * for the bus clock) from the write; at 0 the LVT timer entry raises its
 * interrupt (unless masked, the counting goes on regardless); one-shot mode then
 * stays at 0, periodic mode reloads TMICT and counts again (APIC-TMR-1,
 * APIC-TMR-2). TDCR selects the divide value (APIC-TMR-3); a TMICT of 0 stops
 * the timer (APIC-TMR-4). No TSC-deadline mode: LVT timer bit 18 is reserved
 * (the model's CPUID does not report TSC-deadline).
 *
 * The count is not stepped: it is computed from the cycle at which it was last
 * loaded (timer_base, timer_base_count), and timer_next is the next expiry.
 */
#include "xapic_internal.h"

/* TDCR bits 3, 1:0 (as a 3-bit index, bit 3 on top) -> divide value (SDM "Divide Configuration Register"). */
#define VTX_XAPIC_DIVIDE_TABLE(X) \
    X(0, 2) X(1, 4) X(2, 8) X(3, 16) X(4, 32) X(5, 64) X(6, 128) X(7, 1)

static uint32_t divide_of(uint32_t tdcr)
{
    static const uint32_t table[8] = {
#define VTX_DIV_ROW(index, divide) [index] = divide,
        VTX_XAPIC_DIVIDE_TABLE(VTX_DIV_ROW)
#undef VTX_DIV_ROW
    };
    return table[((tdcr >> 1) & 4u) | (tdcr & 3u)];
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* Load @p count at @p now with the current divide value. */
static void load(vtx_xapic *x, uint64_t now, uint32_t count)
{
    x->timer_base = now;
    x->timer_base_count = count;
    x->timer_next = sat_add(now, (uint64_t)count * divide_of(x->tdcr));
    x->timer_armed = true;
}

void vtx_xapic_timer_update(vtx_xapic *x, uint64_t now)
{
    if (!x->timer_armed || now < x->timer_next)
        return;
    /* Expiries between two updates raise one interrupt: IRR holds one bit per vector. */
    vtx_xapic_lvt_fire(x, VTX_XAPIC_LVT_TIMER);
    if (!(x->lvt[VTX_XAPIC_LVT_TIMER] & VTX_APIC_TIMER_PERIODIC) || x->tmict == 0) {
        x->timer_armed = false; /* APIC-TMR-1: a one-shot count stays at 0 */
        return;
    }
    /* APIC-TMR-2: periodic mode reloads TMICT at each expiry; the last reload at or before now is the new base. */
    uint64_t period = (uint64_t)x->tmict * divide_of(x->tdcr);
    uint64_t reloads = (now - x->timer_next) / period;
    load(x, x->timer_next + reloads * period, x->tmict);
}

uint32_t vtx_xapic_current_count(const vtx_xapic *x, uint64_t now)
{
    if (!x || !x->timer_armed)
        return 0;
    if (now < x->last_now)
        now = x->last_now;
    uint32_t d = divide_of(x->tdcr);
    if (now < x->timer_next)
        return x->timer_base_count - (uint32_t)((now - x->timer_base) / d);
    /* An expiry not yet processed (a const reader): one-shot is at 0, periodic has reloaded. */
    if (!(x->lvt[VTX_XAPIC_LVT_TIMER] & VTX_APIC_TIMER_PERIODIC) || x->tmict == 0)
        return 0;
    return x->tmict - (uint32_t)(((now - x->timer_next) / d) % x->tmict);
}

void vtx_xapic_timer_set_initial(vtx_xapic *x, uint64_t now, uint32_t value)
{
    x->tmict = value;
    if (value == 0)
        x->timer_armed = false; /* APIC-TMR-4: a write of 0 stops the timer in both modes */
    else
        load(x, now, value);
}

void vtx_xapic_timer_set_divide(vtx_xapic *x, uint64_t now, uint32_t value)
{
    /* APIC-TMR-3: a running count goes on from its current value at the new rate (the partial
     * tick in progress starts over). The SDM does not say more about a change mid-count. */
    uint32_t count = x->timer_armed ? vtx_xapic_current_count(x, now) : 0;
    x->tdcr = value & 0xBu;
    if (count)
        load(x, now, count);
}

void vtx_xapic_timer_reset(vtx_xapic *x)
{
    x->tmict = 0;
    x->tdcr = 0;
    x->timer_armed = false;
    x->timer_base = x->timer_next = 0;
    x->timer_base_count = 0;
}
