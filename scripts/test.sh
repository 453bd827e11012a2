#!/usr/bin/env bash
# Build and run every test: the Criterion suite in a normal build and in an
# AddressSanitizer + UndefinedBehaviorSanitizer build (leaks fail it too), the
# install (pkg-config and CMake consumers), and short fuzzing runs.
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=$(nproc)
scripts/deps.sh

step() { printf '\n== %s\n' "$*"; }

step "rules catalogue: docs/rules.tsv up to date"
if [ -r ../shared/spec/sdm-rules.md ]; then scripts/update-rules.sh --check; else echo "(catalogue not present; skipped)"; fi

step "build (RelWithDebInfo) and test"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
(cd build && ctest --output-on-failure -j"$JOBS")

step "build with ASan + UBSan and test (any finding or leak fails)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVTX_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp" \
   ctest --output-on-failure -j"$JOBS")

step "install, then build a program against it with pkg-config and with CMake"
scripts/check-install.sh "$ROOT/build"

step "fuzz: short, seeded runs of every target"
scripts/fuzz.sh --short

step "rule coverage"
build/vtxref rules | tail -1

echo
echo "all tests passed"
