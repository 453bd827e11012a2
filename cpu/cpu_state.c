/* cpu_state: see the header. */
#include "cpu_state.h"

vtx_cpu_mode vtx_cpu_mode_of(const vtx_cpu_state *s)
{
    if (!(s->cr0 & 1))
        return VTX_MODE_REAL;
    if (s->efer & (1u << 10)) /* EFER.LMA */
        return (s->seg[VTX_S_CS].ar & VTX_AR_L) ? VTX_MODE_LONG64 : VTX_MODE_COMPAT;
    if (s->rflags & (1u << 17))
        return VTX_MODE_V8086;
    return (s->seg[VTX_S_CS].ar & VTX_AR_DB) ? VTX_MODE_PROT32 : VTX_MODE_PROT16;
}

unsigned vtx_cpu_cpl(const vtx_cpu_state *s)
{
    switch (vtx_cpu_mode_of(s)) {
    case VTX_MODE_REAL: return 0;
    case VTX_MODE_V8086: return 3;
    default: return (s->seg[VTX_S_SS].ar >> 5) & 3;
    }
}
