/*
 * A machine put back with vtx_machine_restore runs as a new one (the guest fuzz
 * target's "reuse" of machines, and anyone who snapshots a machine), and an
 * observer changes nothing. The fuzz target's entry point runs here in its check
 * mode, which runs every input on a new machine, on a restored one and on a new
 * one with an observer (every instruction on the engine's per-instruction path)
 * and aborts when they differ, over input sequences that once differed
 * (tests/fuzz/guest/; the same files the seed replay of ctest runs, here one
 * sequence per test so that a failure names its rule).
 */
#include "fuzz/fuzz_guest.c" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>

#include "covers.h"

static void run_sequence(const char *const *names, size_t n)
{
    cr_assert_eq(setenv("VTX_FUZZ_GUEST_MODE", "check", 1), 0);
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/tests/fuzz/guest/%s", VTX_SOURCE_DIR, names[i]);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "%s", path);
        static uint8_t buf[8192];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len); /* aborts when the two machines differ */
    }
}

/* One input, in check mode. */
static void run_input(const char *name)
{
    run_sequence(&name, 1);
}

/* ENG-RST-1: after three short inputs ran one-byte HLT blocks in the handler
 * page, the fourth input's POPFs there ran as HLT on the restored machine. */
Test(guest_reuse, translations_made_before_a_restore_do_not_run_after_it)
{
    VTX_COVERS("ENG-RST-1");
    static const char *const seq[] = {"regress-reset-pages-1.bin", "regress-reset-pages-2.bin",
                                      "regress-reset-pages-3.bin", "regress-reset-pages-4.bin"};
    run_sequence(seq, sizeof seq / sizeof seq[0]);
}

/* ENG-UNM-1: going on from an inexact unmapped stop went where each engine's
 * translations took it. */
Test(guest_reuse, no_input_goes_on_from_an_inexact_unmapped_stop)
{
    VTX_COVERS("ENG-UNM-1");
    static const char *const seq[] = {"regress-unmapped-continue-1.bin", "regress-unmapped-continue-2.bin"};
    run_sequence(seq, sizeof seq / sizeof seq[0]);
}

/* ENG-NC-2: a store and a load at non-canonical addresses inside their blocks
 * (the handler's SUB [RCX], EBP and SBB [RAX], BL over and over): on the fast
 * path the #GP came at the block's start, after the rest of the block had run, so
 * the budget ended elsewhere than with an observer, and elsewhere again on a
 * restored machine whose blocks began elsewhere. */
Test(guest_reuse, noncanonical_accesses_fault_at_their_instruction_on_every_path)
{
    VTX_COVERS("ENG-NC-2");
    static const char *const seq[] = {"regress-noncanonical-in-block-1.bin", "regress-noncanonical-in-block-2.bin"};
    run_sequence(seq, sizeof seq / sizeof seq[0]);
}

/* ENG-ABT-1: after Unicorn 2.0.1 aborted translating a far JMP with a register
 * operand, the exception frames the guest pushed had lost DF, ZF and PF. */
Test(guest_reuse, flags_survive_the_translators_abort)
{
    VTX_COVERS("ENG-ABT-1");
    run_input("regress-abort-flags.bin");
}

/* ENG-STI-2: STI; IDIV (#DE) in a #DE handler, an interrupt pending. QEMU's
 * interrupt-inhibit flag, set by one pass's STI and left set by the fault,
 * made the next pass's STI look like one inside a shadow, so the fast path saw
 * no shadow where a budget ended right after it, and the interrupt came in the
 * shadow (the guest then halted in its handler); with an observer it never came. */
Test(guest_reuse, sti_shadow_after_a_fault_in_the_last_one)
{
    VTX_COVERS("ENG-STI-2");
    run_input("regress-sti-shadow-after-a-fault.bin");
}

/* ENG-CNT-2: guest code running through zeros (ADD [RAX], AL) stores into the
 * block it runs in, ahead of itself; QEMU abandons the block and runs the store
 * again alone. Where the engine then stopped before that one-instruction block
 * to have it translated again (its address held other bytes before), the run
 * went on with a whole block starting at the store, and the per-instruction
 * hook's step path counted the store's start a second time: with an observer
 * the budget ended one instruction short of where it ends without one. */
Test(guest_reuse, store_run_again_after_a_retranslation_counts_once)
{
    VTX_COVERS("ENG-CNT-2");
    run_input("regress-store-run-again-after-a-retranslation.bin");
}

/* PG-10: the input of guest-observed-pte-unicorn21 (tests/fuzz/open/README.md):
 * the guest broke its own code page's entry, then STI and IDIV ran on through
 * the translation Unicorn cached; the observed path took the STI's bytes for
 * unreadable (#UD), the fast path the IDIV's. And ten inputs that broke entries
 * too, whose last one ended 4 instructions apart on a restored machine. */
Test(guest_reuse, code_run_through_a_broken_entry_is_decoded_as_fetched)
{
    VTX_COVERS("PG-10");
    run_input("regress-pte-broken-under-cached-code.bin");
    static const char *const seq[] = {"regress-pte-history-00.bin", "regress-pte-history-01.bin",
                                      "regress-pte-history-02.bin", "regress-pte-history-03.bin",
                                      "regress-pte-history-04.bin", "regress-pte-history-05.bin",
                                      "regress-pte-history-06.bin", "regress-pte-history-07.bin",
                                      "regress-pte-history-08.bin", "regress-pte-history-09.bin"};
    run_sequence(seq, sizeof seq / sizeof seq[0]);
}

/* ENG-PRB-3: a run split after the #UD handler's first instruction left a probe
 * hook there; a later run through the same block stopped at a second probe
 * after ROR by CL, whose condition codes Unicorn writes at run time, and ADDs,
 * with the lazy flags of a stale operation: RFLAGS 0x2400ef (reserved bits 3
 * and 5 set), pushed by the #DE that followed. Check mode's machine whose runs
 * end every few instructions differed from the one run. */
Test(guest_reuse, a_stop_after_a_second_probe_in_a_block_has_exact_flags)
{
    VTX_COVERS("ENG-PRB-3");
    run_input("regress-two-probes-in-a-block-stale-flags.bin");
}
