#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan + UBSan) and run them.
#   scripts/fuzz.sh --short            every target, a fixed number of runs from a fixed seed (CI;
#                                      nearly the same exploration every time)
#   scripts/fuzz.sh TARGET SECONDS     one target for a longer campaign
# The committed seed corpus (tests/fuzz/<target>/) is read, never modified;
# new inputs go to build-fuzz/corpus/<target>/. A crash leaves its input in
# build-fuzz/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVTX_FUZZ=ON -DVTX_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
TARGETS=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')

# Executions of a short run (about 10-20 s each on this machine).
short_runs() {
  case $1 in
    profile) echo 600000 ;;
    vmx_ops) echo 40000 ;; # two machines per input, and entries that run guests
    guest) echo 200 ;;
    trace) echo 3000 ;;
    scenario) echo 12000 ;;
    *) echo 10000 ;;
  esac
}

# run TARGET SECONDS, or run TARGET --runs N (seeded, in a fresh corpus directory)
run() {
  local t=$1 limit corpus
  if [ "$2" = "--runs" ]; then
    limit="-runs=$3 -seed=1"
    corpus="build-fuzz/corpus-short/$t"
    rm -rf "$corpus"
    echo "fuzz: $t for $3 runs (seed 1)"
  else
    limit="-max_total_time=$2"
    corpus="build-fuzz/corpus/$t"
    echo "fuzz: $t for ${2}s"
  fi
  mkdir -p "$corpus"
  (cd build-fuzz && LSAN_OPTIONS="suppressions=$PWD/../tests/lsan.supp" ./"fuzz_$t" $limit -print_final_stats=1 \
      "../$corpus" "../tests/fuzz/$t" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::new_units_added|==|SUMMARY|#.*DONE)" || true)
  # libFuzzer exits non-zero on a crash; the pipe above hides that, so look for its artifacts.
  local found
  found=$(find build-fuzz -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -print)
  if [ -n "$found" ]; then
    echo "fuzz: $t found a failure; reproduce with: build-fuzz/fuzz_$t $found" >&2
    exit 1
  fi
}

rm -f build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* build-fuzz/oom-*
if [ "${1:-}" = "--short" ]; then
  for t in $TARGETS; do run "$t" --runs "$(short_runs "$t")"; done
elif [ $# -eq 2 ]; then
  echo "$TARGETS" | grep -qx "$1" || { echo "fuzz: unknown target '$1' (targets: $(echo $TARGETS))" >&2; exit 2; }
  run "$1" "$2"
else
  echo "usage: scripts/fuzz.sh --short | TARGET SECONDS   (targets: $(echo $TARGETS))" >&2
  exit 2
fi
