/**
 * @file vtxref.h
 * @brief vtxref: a software reference model of an Intel VT-x (VMX) processor.
 *
 * Include this header for the whole public API. Every item carries the `vtx_`
 * or `VTX_` prefix; every function returns a ::vtx_status.
 */
#ifndef VTXREF_VTXREF_H
#define VTXREF_VTXREF_H

#include "arch.h"
#include "checks.h"
#include "guest_setup.h"
#include "insn_class.h"
#include "insn_table.h"
#include "vmm_loop.h"
#include "vmm_check.h"
#include "machine.h"
#include "observer.h"
#include "profile.h"
#include "status.h"
#include <vtxref/version.h>
#include "vmcs_fields.h"
#include "vmx.h"

#endif
