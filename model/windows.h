/* Event windows and blocking at an instruction boundary, one file a concept.
 * Polarity: each predicate returns true when the event may be taken now (the
 * window is open, the event is unblocked); otherwise *rule and *why name what
 * holds it (static strings). When it returns true, *rule may name the rule
 * that lets it through and *why is left as it was. */
#ifndef VTX_WINDOWS_H
#define VTX_WINDOWS_H

#include "machine_internal.h"

/* RFLAGS.IF = 1 and no blocking by STI or MOV SS: what a maskable interrupt, the
 * interrupt window and a virtual interrupt all need; `if_rule` is the rule
 * reported for IF = 0 (interrupt_window.c). */
bool vtx_maskable_unblocked(const vtx_machine *m, const char *if_rule, const char **rule, const char **why);
bool vtx_intr_window_open(const vtx_machine *m, const char **rule, const char **why); /* interrupt_window.c */
bool vtx_nmi_window_open(const vtx_machine *m, const char **rule, const char **why);  /* nmi_window.c */
bool vtx_nmi_unblocked(const vtx_machine *m, const char **rule, const char **why);    /* nmi_blocking.c */
bool vtx_extint_unblocked(const vtx_machine *m, const char **rule, const char **why); /* external_interrupt.c */
/* A pending MTF VM exit: not in shutdown or wait-for-SIPI (MTF-7; mtf.c). */
bool vtx_mtf_open(const vtx_machine *m, const char **rule, const char **why);
/* A pending #DB trap: held by blocking by MOV SS (BLK-MSS-1) and in wait-for-SIPI
 * (HLT-8; pending_debug.c). */
bool vtx_pending_db_open(const vtx_machine *m, const char **rule, const char **why);
/* An expired VMX-preemption timer: not in wait-for-SIPI (PT-4), held by the
 * shadows with CFG-PT-SHADOW (preemption_timer.c). */
bool vtx_timer_open(const vtx_machine *m, const char **rule, const char **why);

#endif
