/* Event windows and blocking at an instruction boundary. Each function returns
 * true when the event may be taken now; otherwise *rule and *why name what
 * blocks it (static strings). */
#ifndef VTX_WINDOWS_H
#define VTX_WINDOWS_H

#include "machine_internal.h"

bool vtx_intr_window_open(const vtx_machine *m, const char **rule, const char **why); /* interrupt_window.c */
bool vtx_maskable_held(const vtx_machine *m, const char *if_rule, const char **rule, const char **why); /* interrupt_window.c */
bool vtx_nmi_window_open(const vtx_machine *m, const char **rule, const char **why);  /* nmi_window.c */
bool vtx_nmi_unblocked(const vtx_machine *m, const char **rule, const char **why);    /* nmi_blocking.c */
bool vtx_extint_unblocked(const vtx_machine *m, const char **rule, const char **why); /* external_interrupt.c */

#endif
