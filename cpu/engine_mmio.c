/*
 * engine: the MMIO window (vtx_engine_map_mmio). One window of device memory
 * (the platform's local APIC page) answered by the caller's callbacks from any
 * instruction, with the exact retired count at the access (BUS-MMIO-1) and a stop
 * after a write at the boundary after its instruction (BUS-MMIO-2, ENG-MMIO-1).
 */
#include "engine_internal.h"

/* A memory hook bounded to the window's addresses runs before each access to it
 * (linear == physical, as the local APIC page is mapped); with a memory hook
 * Unicorn keeps RIP exact at memory instructions, so the accessing instruction
 * is known: how many instructions of the run retired before it (mmio_before),
 * which gives the MMIO callbacks the exact cycle clock. */
static void hook_mmio_access(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *ud)
{
    vtx_engine *e = ud;
    (void)type, (void)address, (void)size, (void)value;
    uint64_t rip = 0;
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    uint64_t lin = vtx_eng_linear_of(e, rip);
    e->mmio_seen = true;
    e->mmio_j = -1;
    if (e->slow) {
        e->mmio_before = e->started ? e->started - 1 : 0; /* counted when it started */
        return;
    }
    int j = e->cur ? blk_index(e->cur, lin) : -1;
    e->mmio_before = j >= 0 && (uint32_t)j < e->cur_count ? vtx_eng_cur_before(e) + (uint32_t)j : e->started;
    e->mmio_lin = lin;
    e->mmio_j = j >= 0 && (uint32_t)j < e->cur_count ? j : -1;
}

/*
 * ENG-MMIO-1: the boundary right after a writing instruction on the fast path.
 * The block hook counted the whole block when it entered it, and Unicorn runs a
 * translation block to its end; only a probe (a code hook at one address, see
 * engine_blocks.c) stops inside one. When the writer is not the last counted
 * instruction of its block, the run must be able to stop before the next one:
 *  - a probe is there: the write goes to the device, and if the device asks for
 *    the stop (vtx_engine_stop_after_access) the probe is armed, the count
 *    becomes the instructions up to and including the writer;
 *  - no probe yet: Unicorn stops at once inside the writer (uc_emu_stop from the
 *    callback ends the block right after the access, with RIP on the writer and
 *    nothing after it executed, Unicorn 2.0.1 and 2.1.1 alike). The device does
 *    not see this write: the run adds a probe after the writer and goes on at the
 *    writer, which executes again in full, its write included. Reads the writer
 *    made before its write are made twice (the xAPIC's reads have no side
 *    effects). Returns true when it stopped so.
 */
static bool redo_with_probe(uc_engine *uc, vtx_engine *e)
{
    if (e->slow || !e->mmio_seen || !e->cur || e->mmio_j < 0 || (uint32_t)e->mmio_j + 1 >= e->cur_count)
        return false;
    if ((e->stop_bits >> e->cur->cls[e->mmio_j]) & 1)
        return false; /* a stop-set instruction the run let through once (skip_first): not again */
    uint64_t next = e->cur->lin + e->cur->off[e->mmio_j + 1];
    e->mmio_next = next;
    if (vtx_eng_probe_at(e, next, false))
        return false;
    e->want_probe = next;
    e->want_budget = false;
    e->hstop = HS_PROBE;
    e->started = vtx_eng_cur_before(e) + (uint32_t)e->mmio_j;
    e->blk_stop = true;
    e->blk_stop_lin = e->mmio_lin;
    e->cur = NULL;
    e->armed_on = false;
    e->mmio_seen = false;
    uc_emu_stop(uc);
    return true;
}

static uint64_t mmio_read_cb(uc_engine *uc, uint64_t offset, unsigned size, void *ud)
{
    vtx_engine *e = ud;
    (void)uc;
    uint64_t v = e->mmio.rd ? e->mmio.rd(e->mmio.user, offset, size) : ~0ull;
    e->mmio_seen = false;
    vtx_eng_code_may_change(e); /* the callback may write guest code through host pointers */
    return v;
}

static void mmio_write_cb(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *ud)
{
    vtx_engine *e = ud;
    e->mmio_next = UINT64_MAX;
    if (redo_with_probe(uc, e))
        return;
    bool stop_before = e->mmio_stop;
    if (e->mmio.wr)
        e->mmio.wr(e->mmio.user, offset, size, value);
    if (!stop_before && e->mmio_stop && e->mmio_next != UINT64_MAX) {
        /* the probe after the writer stops the run there */
        e->armed_on = true;
        e->armed = e->mmio_next;
        e->armed_kind = HS_BOUNDARY;
        e->started = vtx_eng_cur_before(e) + (uint32_t)e->mmio_j + 1;
        e->cur_count = (uint32_t)e->mmio_j + 1; /* (cur_before stays) */
    }
    e->mmio_seen = false;
    vtx_eng_code_may_change(e); /* the callback may write guest code through host pointers */
}

bool vtx_eng_mmio_attach(vtx_engine *e)
{
    const uint64_t pa = e->mmio.pa, size = e->mmio.size;
    return uc_mmio_map(e->uc, pa, size, mmio_read_cb, e, mmio_write_cb, e) == UC_ERR_OK &&
           uc_hook_add(e->uc, &e->h_mmio, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)hook_mmio_access, e, pa,
                       pa + size - 1) == UC_ERR_OK;
}

uint64_t vtx_engine_mmio_retired(const vtx_engine *e)
{
    if (!e)
        return 0;
    return e->mmio_seen ? e->mmio_before : (e->cur ? vtx_eng_cur_before(e) : e->started);
}

void vtx_engine_stop_after_access(vtx_engine *e)
{
    if (!e || e->mmio_stop)
        return;
    /* Not uc_emu_stop here: Unicorn would leave the instruction to run again
     * (its RIP is synced before the access). The next hook stops instead: the
     * probe after the writer (mmio_write_cb), the per-instruction hook, or the
     * block hook before the next block. */
    e->mmio_stop = true;
    e->step_next = UINT64_MAX; /* the per-instruction hook leaves its step path (engine_step.c) */
}

int vtx_engine_map_mmio(vtx_engine *e, uint64_t pa, uint64_t size, vtx_engine_mmio_read_fn rd,
                        vtx_engine_mmio_write_fn wr, void *user)
{
    if (!e || e->broken || e->mmio.on || !size || ((pa | size) & 0xfff))
        return -1;
    for (size_t i = 0; i < e->nreg; i++)
        if (pa < e->reg[i].pa + e->reg[i].size && e->reg[i].pa < pa + size)
            return -1;
    e->again.on = false; /* Unicorn flushes its TLB when the map changes */
    e->mmio.pa = pa, e->mmio.size = size, e->mmio.rd = rd, e->mmio.wr = wr, e->mmio.user = user;
    if (!vtx_eng_mmio_attach(e))
        return -1;
    e->mmio.on = true;
    return 0;
}
