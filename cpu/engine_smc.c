/*
 * engine: self-modifying code (ENG-SMC-1). A guest store into code Unicorn has
 * translated must take effect for the next execution of that code (SDM Vol. 3A
 * "Self-Modifying Code": a write to a linear address of code already fetched
 * or decoded is detected and the code is fetched again). QEMU checks a store
 * for translated code on its page only while the store's TLB entry carries
 * its "not dirty" mark.
 *
 * Unicorn 2.0.1 never clears that mark (its dirty bitmaps are stubs that call
 * every page clean): every store to guest RAM takes QEMU's store helper and is
 * checked. Unicorn 2.1.0 and 2.1.1 clear it at the first store through the
 * entry, so that later stores run at full speed, and set it again only when
 * they translate a block on that page. So a store to data on a page of code,
 * then a store into code already translated on it, left the stale translation
 * to run (measured on Debian 13's 2.1.1; test
 * engine::store_into_translated_code_after_a_store_to_data_on_its_page).
 * Unicorn 2.1.2 fixed it: it keeps the mark on entries that also fetch code.
 *
 * 2.1.0 and 2.1.1 keep the mark while a memory-access hook exists, so on those
 * versions (the library's, at run time) the engine adds a write hook that
 * covers no address. The price: translated code then calls QEMU's helpers for
 * every load and store, not only for stores as on 2.0.1 (README, "Speed").
 * Knows nothing of VMX.
 */
#include "engine_internal.h"

static void hook_write_none(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud)
{
    (void)uc, (void)type, (void)addr, (void)size, (void)value, (void)ud;
}

static bool smc_guarded(void)
{
    const unsigned v = vtx_uc_runtime_version();
    return v >= 0x020100 && v < 0x020102;
}

bool vtx_eng_smc_setup(vtx_engine *e)
{
    if (!smc_guarded())
        return true;
    /* begin = end = the last byte of the physical space: no access is there */
    uc_hook h;
    return uc_hook_add(e->uc, &h, UC_HOOK_MEM_WRITE, (void *)hook_write_none, e, UINT64_MAX, UINT64_MAX) ==
           UC_ERR_OK;
}
