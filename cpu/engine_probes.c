/*
 * engine: probes (ENG-PRB-1, ENG-PRB-2): a code hook bounded to one address,
 * where a run on the fast path must stop inside a translation block (an
 * instruction budget's end, an instruction of the stop set, the access after
 * an MMIO write). The block hook arms the probe of the block it enters.
 */
#include "engine_internal.h"

bool vtx_eng_probe_at(vtx_engine *e, uint64_t lin, bool budget)
{
    for (unsigned i = 0; i < e->nprobe; i++)
        if (e->probe[i].lin == lin) {
            e->probe[i].used = e->runno;
            e->probe[i].budget_only &= budget;
            return true;
        }
    return false;
}

bool vtx_eng_probe_in(const vtx_engine *e, uint64_t lo, uint64_t hi)
{
    for (unsigned i = 0; i < e->nprobe; i++)
        if (e->probe[i].lin >= lo && e->probe[i].lin < hi)
            return true;
    return false;
}

/* Probe i's hook goes, and so does the translated code it was compiled into. */
static void drop_probe(vtx_engine *e, unsigned i)
{
    uc_hook_del(e->uc, e->probe[i].h);
    if (e->probe[i].lin != UINT64_MAX)
        uc_ctl_remove_cache(e->uc, e->probe[i].lin, e->probe[i].lin + 1);
}

void vtx_eng_drop_probes(vtx_engine *e, bool all)
{
    for (unsigned i = 0; i < e->nprobe;) {
        /* ENG-PRB-2: a probe only budgets (of more than one instruction:
         * engine_blocks.c) ended at goes at the next run's start
         * (e->runno counts that run already): the next budget (a timer deadline,
         * a scheduled input) ends elsewhere, and this one would cost a hook call
         * at every pass through a hot loop until ENG-PRB-1 aged it out. */
        bool budget_old = e->probe[i].budget_only && e->probe[i].used < e->runno;
        if (!all && !budget_old && e->runno - e->probe[i].used <= PROBE_AGE) {
            i++;
            continue;
        }
        drop_probe(e, i);
        e->probe[i] = e->probe[--e->nprobe];
        e->probe_next = 0;
    }
}

/* A probe: a code hook bounded to one address, compiled into the blocks that
 * contain it; it stops there when the block hook armed it. */
static void hook_probe(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    vtx_engine *e = ud;
    (void)size;
    if (e->armed_on && addr == e->armed) {
        e->armed_on = false;
        if (e->unmapped) {
            uc_emu_stop(uc);
            return;
        }
        e->hstop = e->armed_kind;
        e->stop_lin = addr;
        uc_emu_stop(uc);
    }
}

/* Add a probe at lin (outside emulation) and drop the translated code that contains it. */
bool vtx_eng_add_probe(vtx_engine *e, uint64_t lin)
{
    unsigned i;
    if (e->nprobe < NPROBE) {
        i = e->nprobe++;
    } else {
        i = e->probe_next;
        e->probe_next = (e->probe_next + 1) % NPROBE;
        drop_probe(e, i);
    }
    e->probe[i].lin = UINT64_MAX;
    e->probe[i].used = e->runno;
    e->probe[i].budget_only = e->want_budget;
    if (uc_hook_add(e->uc, &e->probe[i].h, UC_HOOK_CODE, (void *)hook_probe, e, lin, lin) != UC_ERR_OK) {
        e->probe[i] = e->probe[--e->nprobe];
        return false;
    }
    e->probe[i].lin = lin;
    return uc_ctl(e->uc, UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2), lin, lin + 1) == UC_ERR_OK;
}
