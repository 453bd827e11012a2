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
    static const char *const seq[] = {"regress-abort-flags.bin"};
    run_sequence(seq, sizeof seq / sizeof seq[0]);
}

/* ENG-STI-2: STI; IDIV (#DE) in a #DE handler, an interrupt pending. QEMU's
 * interrupt-inhibit flag, set by one pass's STI and left set by the fault,
 * made the next pass's STI look like one inside a shadow, so the fast path saw
 * no shadow where a budget ended right after it, and the interrupt came in the
 * shadow (the guest then halted in its handler); with an observer it never came. */
Test(guest_reuse, sti_shadow_after_a_fault_in_the_last_one)
{
    VTX_COVERS("ENG-STI-2");
    static const char *const seq[] = {"regress-sti-shadow-after-a-fault.bin"};
    run_sequence(seq, sizeof seq / sizeof seq[0]);
}
