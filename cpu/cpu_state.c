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

unsigned vtx_cpu_write_dr(vtx_cpu_state *s, unsigned n, uint64_t v)
{
    n &= 7;
    if (n == 4 || n == 5) {
        if (s->cr4 & (1u << 3)) /* CR4.DE */
            return 6;
        n += 2;
    }
    if (n >= 6 && (v >> 32))
        return 13;
    if (n == 6)
        s->dr6 = (v & 0xE00Full) | 0xFFFF0FF0ull; /* B0-B3, BD, BS, BT written; 4-11, 16-31 read 1, 12 reads 0 */
    else if (n == 7)
        s->dr7 = (v & 0xFFFF23FFull) | 0x400ull; /* bit 10 reads 1; 11, 12, 14, 15 read 0 */
    else
        s->dr[n] = v;
    return 0;
}
