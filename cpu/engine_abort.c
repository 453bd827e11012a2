#include "engine_internal.h"

#include <setjmp.h>
#include <signal.h>

/*
 * Unicorn 2.0.1 calls abort() on some guest code while translating it: QEMU's
 * code generator fails ("tcg fatal error") on a far CALL or JMP with a register
 * operand (FF /3, FF /5 with mod = 3, which hardware rejects with #UD), found by
 * the guest fuzz target. Guest code must never take the caller's process down,
 * so the engine catches that abort: while a run is in Unicorn, SIGABRT jumps
 * back to vtx_engine_run, which goes on past the culprit (reopen_past) or, if
 * it cannot, reports the run as failed and the engine as broken. Outside runs
 * (and in other threads) the handler that was installed before gets the
 * signal. Installed once, at the first engine's creation.
 */
static _Thread_local sigjmp_buf *abort_guard;
static struct sigaction prev_abrt;
pthread_once_t vtx_eng_abort_guard_once = PTHREAD_ONCE_INIT;

static void on_abrt(int sig, siginfo_t *si, void *uctx)
{
    sigjmp_buf *jb = abort_guard;
    if (jb) {
        abort_guard = NULL;
        siglongjmp(*jb, 1);
    }
    if ((prev_abrt.sa_flags & SA_SIGINFO) && prev_abrt.sa_sigaction) {
        prev_abrt.sa_sigaction(sig, si, uctx);
    } else if (!(prev_abrt.sa_flags & SA_SIGINFO) && prev_abrt.sa_handler != SIG_DFL &&
               prev_abrt.sa_handler != SIG_IGN) {
        prev_abrt.sa_handler(sig);
    } else {
        signal(SIGABRT, SIG_DFL);
        raise(SIGABRT);
    }
}

void vtx_eng_install_abort_guard(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_abrt;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER; /* SIGABRT stays unblocked after the jump */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGABRT, &sa, &prev_abrt);
}

/* uc_emu_start under the abort guard; true if Unicorn aborted. */
bool vtx_eng_guarded_emu_start(vtx_engine *e, uint64_t rip, uc_err *err)
{
    sigjmp_buf jb;
    if (sigsetjmp(jb, 0)) {
        e->broken = true;
        e->in_uc = false;
        return true;
    }
    abort_guard = &jb;
    e->in_uc = true;
    *err = uc_emu_start(e->uc, rip, RUN_UNTIL, 0, 0);
    e->in_uc = false;
    abort_guard = NULL;
    return false;
}

/*
 * After Unicorn aborted translating the block at `lin`: find the first
 * instruction from there the decoder rejects (at most 64 on; if it is not the
 * culprit, the abort comes again and the engine stays broken), and go on in a
 * new Unicorn with the same CPU state (the abort came before the block ran, so
 * the old one's state is intact, vtx_eng_reopen) that stops before that
 * instruction instead of translating it: its address goes on Unicorn's exit
 * list, and a run that gets there ends as a stop before an undecodable
 * instruction (the model's #UD). False when no such instruction is found or
 * Unicorn cannot be set up again (the engine then stays broken).
 */
bool vtx_eng_reopen_past(vtx_engine *e, uint64_t lin)
{
    uint64_t bad = UINT64_MAX;
    for (unsigned i = 0, pos = 0; i < 64 && bad == UINT64_MAX; i++) {
        uint8_t buf[15];
        const uint8_t *host;
        size_t n = vtx_eng_lin_read(e, lin + pos, buf, sizeof buf, &host);
        vtx_insn in;
        if (!n)
            return false;
        if (vtx_decode_bytes(buf, n, e->width, lin + pos, &in) != 0) {
            bad = lin + pos;
            break;
        }
        pos += in.len;
    }
    if (bad == UINT64_MAX || vtx_eng_is_exit(e, bad) || e->nexits == sizeof e->exits / sizeof e->exits[0])
        return false;
    e->exits[e->nexits++] = bad;
    if (vtx_eng_reopen(e))
        return true;
    e->nexits--;
    return false;
}

/*
 * ENG-EXIT-1: an exit stands for the bytes reopen_past found there, which
 * Unicorn cannot translate. Once the guest (an exception frame pushed over its
 * handler's code, found by the guest fuzz target) or the caller has written
 * other bytes there, the run must execute them: a stop before them would come
 * again at every run started there, and the model, which decodes and hands
 * the instruction back to the engine, recursed until its stack overflowed (a
 * SIGSEGV). So each run starts by dropping the exits whose bytes the decoder
 * now accepts, and the translated blocks that end at them (QEMU ends a block
 * at an exit with a stop in place of the instruction). On Unicorn 2.0.1, where
 * linear == physical for every run (ROOT-ENG-1), those are the blocks holding
 * the byte before the exit or the exit itself, what Unicorn drops for its own
 * exits (uc_exit_invalidate_iter); elsewhere every translation goes.
 */
void vtx_eng_drop_stale_exits(vtx_engine *e)
{
    size_t kept = 0;
    bool all = false;
    for (size_t i = 0; i < e->nexits; i++) {
        uint8_t buf[15];
        const uint8_t *host;
        vtx_insn in;
        uint64_t x = e->exits[i];
        size_t n = vtx_eng_lin_read(e, x, buf, sizeof buf, &host);
        if (!n || vtx_decode_bytes(buf, n, e->width, x, &in) != 0) {
            e->exits[kept++] = x; /* still not an instruction */
            continue;
        }
        if (VTX_UC_21 || x == 0 || uc_ctl_remove_cache(e->uc, x - 1, x + 1) != UC_ERR_OK)
            all = true;
    }
    if (kept == e->nexits)
        return;
    e->nexits = kept;
    if (uc_ctl_set_exits(e->uc, e->exits, e->nexits) != UC_ERR_OK)
        e->broken = true;
    if (all)
        vtx_eng_drop_translations(e);
    e->again.on = false;
}
