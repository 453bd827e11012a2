#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan + UBSan) and run them.
#   scripts/fuzz.sh --short            every target, a fixed number of runs from a fixed seed (CI;
#                                      nearly the same exploration every time)
#   scripts/fuzz.sh TARGET SECONDS     one target for a longer campaign
#   scripts/fuzz.sh --fast TARGET SECONDS
#                                      the same in build-fuzz-fast/: UBSan without ASan and LSan,
#                                      for throughput campaigns (docs/reliability.md); a crash found
#                                      there is reproduced in the ASan build (build-fuzz/) too
#   scripts/fuzz.sh --debian13 ARGS...  any of the above on Unicorn 2.1.1, in the Debian 13 fuzzing
#                                      root (scripts/debian13.sh --fuzz; needs root); its build
#                                      directories end in -deb13 (build-fuzz-deb13/, ...)
# The guest target reuses its machines across inputs (tests/fuzz/fuzz_guest.c); its short
# run is in check mode (each input also on a fresh machine, and on one with an observer: the
# per-instruction path; the outcomes must agree).
# The committed seed corpus (tests/fuzz/<target>/) is read, never modified;
# new inputs go to build-fuzz/corpus/<target>/ (from either build; build-fuzz-deb13/ on Debian 13). A crash leaves its input in
# the build directory and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--debian13" ]; then shift; exec scripts/debian13.sh --fuzz -- scripts/fuzz.sh "$@"; fi
scripts/deps.sh
BUILD=build-fuzz SANITIZERS=address,undefined
if [ "${1:-}" = "--fast" ]; then BUILD=build-fuzz-fast SANITIZERS=undefined; shift; fi
# Debian 13 (Unicorn 2.1.1) builds beside Debian 12's in the same work tree.
CORPORA=build-fuzz # corpora of both builds
if grep -qs '^VERSION_CODENAME=trixie' /etc/os-release; then BUILD=$BUILD-deb13 CORPORA=build-fuzz-deb13; fi
CC=clang cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVTX_FUZZ=ON -DVTX_BUILD_TESTS=OFF \
  -DVTX_FUZZ_SANITIZERS=$SANITIZERS >/dev/null
cmake --build $BUILD -j"$(nproc)" >/dev/null
TARGETS=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')

# Executions of a short run (about 10-20 s each on this machine).
short_runs() {
  case $1 in
    profile) echo 600000 ;;
    vmx_ops) echo 40000 ;; # two machines per input, and entries that run guests
    guest) echo 500 ;; # check mode: a fresh, a reused and an observed machine per input
    trace) echo 3000 ;;
    scenario) echo 12000 ;;
    *) echo 10000 ;;
  esac
}

# run TARGET SECONDS, or run TARGET --runs N (seeded, in a fresh corpus directory)
run() {
  local t=$1 limit corpus mode=reuse
  if [ "$2" = "--runs" ]; then
    mode=check
    limit="-runs=$3 -seed=1"
    corpus="$CORPORA/corpus-short/$t"
    rm -rf "$corpus"
    echo "fuzz: $t for $3 runs (seed 1)"
  else
    limit="-max_total_time=$2"
    corpus="$CORPORA/corpus/$t"
    echo "fuzz: $t for ${2}s ($BUILD)"
  fi
  mkdir -p "$corpus"
  # guest: libFuzzer's own memory limit (2 GiB). Until ENG-BUF-2 (2026-12-08) it
  # was 6 GiB: each flush of Unicorn 2.0.1's translation buffer wrote all of its
  # 1 GiB, and the seed regress-translation-buffer-fill-unicorn21.bin peaked at
  # 3.2 GB in check mode (163 MB since: fuzz_guest_replay --mode=check under
  # /usr/bin/time -f %M). In a campaign, libFuzzer's leak check after every input
  # whose allocations outlive it (the reused machines' do) scans their whole
  # heap, a tenth of the rate, so leaks are left to the short runs.
  local extra=""
  if [ "$t" = guest ]; then
    [ "$mode" = reuse ] && extra="-detect_leaks=0"
  fi
  (cd $BUILD && LSAN_OPTIONS="suppressions=$PWD/../tests/lsan.supp" VTX_FUZZ_GUEST_MODE=$mode \
      ./"fuzz_$t" $limit $extra -print_final_stats=1 \
      "../$corpus" "../tests/fuzz/$t" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::new_units_added|==|SUMMARY|#.*DONE)" || true)
  # libFuzzer exits non-zero on a crash; the pipe above hides that, so look for its artifacts.
  local found
  found=$(find $BUILD -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -print)
  if [ -n "$found" ]; then
    echo "fuzz: $t found a failure; reproduce with: $BUILD/fuzz_$t $found" >&2
    exit 1
  fi
}

rm -f $BUILD/crash-* $BUILD/leak-* $BUILD/timeout-* $BUILD/oom-*
if [ "${1:-}" = "--short" ]; then
  for t in $TARGETS; do run "$t" --runs "$(short_runs "$t")"; done
elif [ $# -eq 2 ]; then
  echo "$TARGETS" | grep -qx "$1" || { echo "fuzz: unknown target '$1' (targets: $(echo $TARGETS))" >&2; exit 2; }
  run "$1" "$2"
else
  echo "usage: scripts/fuzz.sh [--debian13] --short | [--debian13] [--fast] TARGET SECONDS   (targets: $(echo $TARGETS))" >&2
  exit 2
fi
