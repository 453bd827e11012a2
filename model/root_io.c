/*
 * Port I/O protection and the string I/O instructions in root operation
 * (SDM Vol. 1 "I/O Privilege Level", "I/O Permission Bit Map"; Vol. 2 "INS/
 * INSB/INSW/INSD", "OUTS/OUTSB/OUTSW/OUTSD", "REP/REPE/REPZ/REPNE/REPNZ").
 * ROOT-IO-2: in protected mode with CPL > IOPL an IN, OUT, INS or OUTS is
 * allowed only when the TSS's I/O permission bit map clears every bit of its
 * ports, else #GP(0) (the same check as non-root operation, io_permission.c).
 * ROOT-IO-3: INS and OUTS move one element per iteration between the port (the
 * bus's port table, as IN/OUT) and ES:(E/R)DI (INS, no override) or
 * seg:(E/R)SI (OUTS, DS or the override), stepping the index by the access
 * size, down with RFLAGS.DF = 1; the address size (16, 32, 64) picks SI/ESI/RSI,
 * DI/EDI/RDI and CX/ECX/RCX. With REP the count register says how many
 * iterations run (none at 0). A fault in an iteration leaves the registers as
 * the completed iterations left them, RIP on the instruction.
 * Each element gets ROOT-SEG-1's segment checks (root_operand.c). Not
 * modelled: the interruption of a long REP between iterations (all of them run
 * at one boundary).
 */
#include "guest_insn.h"
#include "root_internal.h"

#define RFLAGS_DF (1ull << 10) /* direction */

/* An implicit supervisor read of linear memory through the host's paging. */
static bool host_read(void *ctx, uint64_t la, void *buf, size_t len)
{
    vtx_machine *m = ctx;
    const vtx_paging_caps caps = {.maxphyaddr = m->profile.phys_addr_width, .pages_1g = false};
    uint8_t *b = buf;
    for (size_t i = 0; i < len; i++) {
        uint64_t pa = 0;
        uint32_t err = 0;
        if (vtx_translate_ex(&m->host, &m->phys, &caps, la + i, VTX_ACC_NO_AD, &pa, &err) != VTX_XLATE_OK ||
            !m->phys.read(m->phys.ctx, pa, b + i, 1))
            return false;
    }
    return true;
}

bool vtx_root_io_denied(vtx_machine *m, uint16_t port, unsigned size)
{
    return vtx_io_denied_on(&m->host, port, size, host_read, m);
}

static uint64_t width_mask(unsigned bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }

/* Write the low `bits` of a register as an instruction of that address size does
 * (a 32-bit write zero-extends, a 16-bit write keeps the rest). */
static void set_reg(uint64_t *r, uint64_t v, unsigned bits)
{
    if (bits == 16)
        *r = (*r & ~0xFFFFull) | (v & 0xFFFF);
    else
        *r = v & width_mask(bits);
}

vtx_rstep vtx_root_string_io(vtx_machine *m, const vtx_insn *insn, vtx_root_result *res)
{
    vtx_cpu_state *h = &m->host;
    const bool in = insn->cls == VTX_IC_INS;
    const unsigned size = insn->op_size ? insn->op_size : 1;
    const uint16_t port = (uint16_t)h->gpr[VTX_R_RDX]; /* INS/OUTS take the port in DX */
    if (vtx_root_io_denied(m, port, size))
        return vtx_root_exception(m, VTX_VECTOR_GP, true, 0, 0, res); /* ROOT-IO-2 */
    const unsigned abits = insn->addr_width ? insn->addr_width : 32;
    const uint64_t amask = width_mask(abits);
    const unsigned seg = in ? VTX_S_ES : (insn->mem_seg < VTX_S_LDTR ? insn->mem_seg : VTX_S_DS);
    const unsigned idx = in ? VTX_R_RDI : VTX_R_RSI;
    const bool long64 = vtx_cpu_mode_of(h) == VTX_MODE_LONG64;
    const uint64_t base = long64 ? ((seg == VTX_S_FS || seg == VTX_S_GS) ? h->seg[seg].base : 0) : h->seg[seg].base;
    uint64_t count = insn->rep ? h->gpr[VTX_R_RCX] & amask : 1;
    const uint64_t rip = h->rip;
    bool go = true;
    while (count && go) {
        uint64_t off = h->gpr[idx] & amask;
        uint64_t la = base + off;
        if (!long64)
            la = (uint32_t)la;
        uint8_t vec = vtx_root_seg_fault(h, seg, off, la, size, in); /* ROOT-SEG-1's checks */
        if (vec)
            return vtx_root_exception(m, vec, true, 0, 0, res);
        uint32_t pf_err = 0;
        uint64_t pf_addr = 0;
        uint8_t buf[4] = {0};
        int rc = 0;
        if (in) {
            uint32_t v = 0;
            go = vtx_bus_in(m, rip, port, size, &v);
            memcpy(buf, &v, size); /* little-endian host */
            rc = vtx_root_mem(m, la, buf, size, true, &pf_err, &pf_addr);
        } else {
            rc = vtx_root_mem(m, la, buf, size, false, &pf_err, &pf_addr);
            if (!rc) {
                uint32_t v = 0;
                memcpy(&v, buf, size);
                go = vtx_bus_out(m, rip, port, size, v);
            }
        }
        if (rc == 1)
            return vtx_root_exception(m, 14, true, pf_err, pf_addr, res);
        if (rc == 2) {
            res->address = pf_addr;
            return vtx_root_stop(res, VTX_ROOT_UNMAPPED, rip,
                                 "'%s' at RIP 0x%llx accesses physical address 0x%llx, which is neither RAM nor a "
                                 "modelled device", insn->text, (unsigned long long)rip, (unsigned long long)pf_addr);
        }
        uint64_t step = (h->rflags & RFLAGS_DF) ? (uint64_t)0 - size : size;
        set_reg(&h->gpr[idx], off + step, abits);
        count--;
        if (insn->rep)
            set_reg(&h->gpr[VTX_R_RCX], count, abits);
    }
    vtx_root_retire_emulated(m, insn);
    if (!go)
        return vtx_root_stop(res, VTX_ROOT_BUS_STOP, rip, "the platform ended the run at port 0x%x (RIP 0x%llx)",
                             port, (unsigned long long)rip);
    return VTX_RSTEP_GO;
}
