#!/usr/bin/env bash
# Build and run every test: the Criterion suite in a normal build and in an
# AddressSanitizer + UndefinedBehaviorSanitizer build (leaks fail it too), the
# install (pkg-config and CMake consumers), short fuzzing runs, and the build +
# suite again on Debian 13 (Unicorn 2.1.1, gcc 14) in the build root of
# scripts/debian13.sh (made once, about 4-5 minutes; needs root and Debian's
# mirror). The sanitizer and fuzz steps run on the host only.
# Usage: scripts/test.sh      (VTX_SKIP_DEBIAN13=1 skips the Debian 13 step)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=$(nproc)
scripts/deps.sh --test

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

step "Debian 13 (Unicorn 2.1.1, gcc 14): build and test in the build root (scripts/debian13.sh)"
if [ "${VTX_SKIP_DEBIAN13:-0}" = 1 ]; then
  echo "(skipped: VTX_SKIP_DEBIAN13=1)"
elif [ "$(id -u)" -ne 0 ]; then
  echo "(skipped: the Debian 13 build root needs root)"
else
  t0=$SECONDS
  uv=$(scripts/debian13.sh pkg-config --modversion unicorn)
  case $uv in 2.1.*) echo "Debian 13 root: Unicorn $uv" ;;
              *) echo "test: the Debian 13 root has Unicorn $uv, not 2.1 (scripts/debian13.sh --rebuild)" >&2; exit 1 ;; esac
  scripts/debian13.sh sh -c "cmake -S . -B build-deb13 -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build build-deb13 -j$JOBS && cd build-deb13 && ctest --output-on-failure -j$JOBS"
  echo "Debian 13 step: $((SECONDS - t0)) s"
fi

step "rule coverage"
build/vtxref rules | tail -1

echo
echo "all tests passed"
