/*
 * engine: self-modifying code (ENG-SMC-1, ENG-SMC-2). A guest store into code
 * Unicorn has translated must take effect for the next execution of that code
 * (SDM Vol. 3A "Self-Modifying Code": a write to a linear address of code
 * already fetched or decoded is detected and the code is fetched again), and
 * like every store it happens once. QEMU checks a store for translated code on
 * its page only while the store's TLB entry carries its "not dirty" mark.
 *
 * ENG-SMC-1. Unicorn 2.0.1 never clears that mark (its dirty bitmaps are stubs
 * that call every page clean): every store to guest RAM takes QEMU's store
 * helper and is checked. Unicorn 2.1.0 and 2.1.1 clear it at the first store
 * through the entry, so that later stores run at full speed, and set it again
 * only when they translate a block on that page. So a store to data on a page
 * of code, then a store into code already translated on it, left the stale
 * translation to run (measured on Debian 13's 2.1.1; test
 * engine::store_into_translated_code_after_a_store_to_data_on_its_page).
 * Unicorn 2.1.2 fixed it: it keeps the mark on entries that also fetch code.
 * 2.1.0 and 2.1.1 keep the mark while a memory-access hook exists: the write
 * hook below is that hook.
 *
 * ENG-SMC-2. A misaligned store through an entry with the mark (or one that
 * crosses a page) is done by QEMU's store helper one byte at a time, each
 * byte checked for translated code on its own. When a byte reaches the block
 * running, QEMU abandons the block and runs the store again as a
 * one-instruction block, with the registers as they were before it; but the
 * bytes stored before that one stay stored. An instruction that reads what it
 * writes (ADD [m],r and the like) then reads its own partial result and stores
 * a wrong value: ADD [RAX],EAX at RAX = 0xd9 into a block that began at 0xda
 * added EAX twice (found by check mode's chunked machine, whose runs start its
 * blocks elsewhere). Only a store that begins before the block running and
 * reaches into it can leave bytes behind (the bytes go in ascending order),
 * so the write hook keeps the old values of the bytes before the block's
 * start for such a store; where the block hook then sees the store run again
 * alone, with no instruction started since (the abandonment), it puts them
 * back first. Also, QEMU leaves the abandoned byte loop without restoring its
 * "inside a split access" count (size_recur_mem), which turns every memory
 * hook off (this one, the MMIO window's) until the next uc_emu_start: the
 * engine ends the run before the next block and goes on with a new one (test
 * engine::split_store_into_the_block_running_is_done_once). Not covered: a
 * raw run (no block hook), a store by the last instruction of its block (the
 * block hook cannot tell that from a loop back to it), a second store of one
 * instruction before the byte that abandons it.
 *
 * The price: the hook is called for every guest store (2.0.1 calls QEMU's
 * store helper for each anyway; 2.1.1 does for every load and store while a
 * memory hook exists: README, "Speed"). The hook gets the linear address on
 * 2.0.1, the physical one on 2.1. Knows nothing of VMX.
 */
#include "engine_internal.h"

/* The physical address of byte i (< d) of a store of `size` at `addr` (the
 * hook's address) whose byte d is the start of the block running (linear s,
 * physical sp). */
static bool split_byte_pa(const vtx_engine *e, uint64_t addr, unsigned i, unsigned d, uint64_t sp, uint64_t *pa)
{
#if VTX_UC_21
    (void)e;
    const unsigned c = 4096 - (unsigned)(addr & 0xfff); /* bytes on the store's first page */
    if (d < c)
        *pa = addr + i;
    else
        *pa = i < c ? addr + i : (sp & ~0xfffull) + (i - c);
    return true;
#else
    (void)d, (void)sp;
    return vtx_eng_lin_to_phys(e, addr + i, pa);
#endif
}

/* A split store reaching into the block running from before it (rare): keep
 * the bytes before the block's start as they are now. */
static __attribute__((noinline)) void split_record(vtx_engine *e, uint64_t addr, unsigned size, uint64_t s)
{
    e->split.on = false;
    const unsigned d = (unsigned)((s - addr) & 0xfff);
    uint64_t sp = s;
#if VTX_UC_21
    if (!vtx_eng_lin_to_phys(e, s, &sp))
        return;
    const unsigned c = 4096 - (unsigned)(addr & 0xfff);
    if (d < c ? addr + d != sp : (sp & 0xfff) != d - c)
        return; /* not the block's bytes */
#else
    if (s - addr != d)
        return;
#endif
    for (unsigned i = 0; i < d; i++) {
        uint64_t pa, avail;
        const uint8_t *h;
        if (!split_byte_pa(e, addr, i, d, sp, &pa) || !(h = host_of(e, pa, &avail)))
            return;
        e->split.host[i] = (uint8_t *)(uintptr_t)h;
        e->split.old[i] = *h;
    }
    e->split.n = (uint8_t)d;
    e->split.tb = s;
    e->split.started = e->started;
    e->split.on = true;
}

static void hook_write(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud)
{
    (void)uc, (void)type, (void)value;
    vtx_engine *e = ud;
    /* QEMU splits only a misaligned store (a page-crossing one is misaligned) */
    if (size < 2 || !(addr & (uint64_t)(size - 1)))
        return;
    /* the block running starts inside the store, after its first byte (by the
     * offset in the page: the same in both address spaces). The block running:
     * the one the fast path entered (cur), else, with the per-instruction hook
     * on, the one vtx_eng_step_block recorded (UINT64_MAX: none, and then no
     * run again of the store can be seen either) */
    const uint64_t s = e->cur ? e->cur->lin : e->step_prev_lin;
    const uint64_t d = (s - addr) & 0xfff;
    if (d == 0 || d >= (uint64_t)size)
        return;
    split_record(e, addr, (unsigned)size, s);
}

bool vtx_eng_split_again(vtx_engine *e, uint64_t tb, uint64_t started)
{
    if (!e->split.on)
        return false;
    e->split.on = false;
    if (e->split.tb != tb || e->split.started != started)
        return false;
    for (unsigned i = 0; i < e->split.n; i++)
        *e->split.host[i] = e->split.old[i];
    return true;
}

bool vtx_eng_smc_setup(vtx_engine *e)
{
    uc_hook h;
    return uc_hook_add(e->uc, &h, UC_HOOK_MEM_WRITE, (void *)hook_write, e, 1, 0) == UC_ERR_OK;
}
