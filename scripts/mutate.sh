#!/usr/bin/env bash
# Mutation testing of the suite: apply each mutant of tests/mutations.tsv to the
# model (one at a time), rebuild, run the Criterion suite (ctest, stopping at the
# first failure) and report which mutants no test kills.
#
# Usage: scripts/mutate.sh [--build DIR] [--only ID[,ID...]] [--check] [--restore]
#   --build DIR  build directory (default build-mutate; configured on first use)
#   --only IDS   run only these mutants
#   --check      only check that every original text occurs exactly once (no build)
#   --restore    put back files a killed run (SIGKILL) left mutated, and exit
#   --no-baseline  do not run the unmutated suite first (when it just passed)
# The tree is restored after each mutant and on any exit, interrupt or
# termination (trap); a file being mutated is kept as FILE.mutate-orig until
# then, so even a SIGKILL leaves a way back (--restore, or the next run).
# Report: DIR/mutate-report.txt; exit status 0 when every mutant was killed or
# is explained as equivalent, 1 when some survived, 2 on usage or a broken
# catalogue, 3 when the unmutated suite fails. Takes about a minute a mutant.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CAT=tests/mutations.tsv
BUILD=build-mutate
ONLY=""
CHECK=0
RESTORE=0
BASELINE=1
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=${2:?}; shift 2 ;;
    --only) ONLY=${2:?}; shift 2 ;;
    --check) CHECK=1; shift ;;
    --restore) RESTORE=1; shift ;;
    --no-baseline) BASELINE=0; shift ;;
    *) echo "usage: scripts/mutate.sh [--build DIR] [--only ID,...] [--check] [--restore]" >&2; exit 2 ;;
  esac
done

restore_all() {
  local f
  while IFS= read -r -d '' f; do
    cp "$f" "${f%.mutate-orig}" && rm -f "$f" && touch "${f%.mutate-orig}"
  done < <(find model vmcs cpu -name '*.mutate-orig' -print0 2>/dev/null)
}
restore_all
[ $RESTORE = 1 ] && { echo "mutate: tree restored"; exit 0; }
trap 'restore_all' EXIT
trap '[ -n "${CHILD:-}" ] && kill "$CHILD" 2>/dev/null; restore_all; echo "mutate: interrupted; tree restored" >&2; exit 130' INT TERM HUP

# apply FILE ORIG NEW: replace the one occurrence of ORIG (exit 3 if it is not exactly one).
apply() {
  python3 - "$@" <<'PY'
import sys
path, orig, new = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
n = text.count(orig)
if n != 1:
    sys.exit(3 if n == 0 else 4)
if new is not None:
    open(path, "w", encoding="utf-8").write(text.replace(orig, new, 1))
PY
}

mapfile -t LINES < <(grep -v '^#' "$CAT" | grep -v '^[[:space:]]*$')
bad=0
for l in "${LINES[@]}"; do
  IFS=$'\t' read -r id file orig new desc note <<<"$l"
  if [ -z "${desc:-}" ]; then echo "mutate: $CAT: '$id': expected at least 5 tab-separated fields" >&2; bad=1; continue; fi
  if [ ! -f "$file" ]; then echo "mutate: $CAT: '$id': no file $file" >&2; bad=1; continue; fi
  cp "$file" "/tmp/mutate-check.$$"
  apply "/tmp/mutate-check.$$" "$orig" "$new"; rc=$?
  rm -f "/tmp/mutate-check.$$"
  case $rc in
    0) ;;
    3) echo "mutate: $CAT: '$id': stale: the original text is not in $file" >&2; bad=1 ;;
    4) echo "mutate: $CAT: '$id': the original text occurs more than once in $file" >&2; bad=1 ;;
    *) echo "mutate: $CAT: '$id': cannot apply" >&2; bad=1 ;;
  esac
done
[ $bad = 0 ] || exit 2
if [ $CHECK = 1 ]; then echo "mutate: ${#LINES[@]} mutants, every original occurs once"; exit 0; fi

mkdir -p "$BUILD"
LOG=$BUILD/mutate-log.txt
REPORT=$BUILD/mutate-report.txt
: > "$LOG"
# (Re)configure: the test files may have changed since the last run.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >> "$LOG" 2>&1 || { echo "mutate: configure failed (see $LOG)" >&2; exit 3; }
cmake --build "$BUILD" -j2 >> "$LOG" 2>&1 || { echo "mutate: the unmutated tree does not build (see $LOG)" >&2; exit 3; }
OUT=$BUILD/mutate-last.txt
# The tests most likely to kill a mutant of this logic run first (and are built
# first), so a killed mutant costs one small build and a few seconds of tests;
# a mutant that survives them meets the whole suite.
FIRST='^test_(rules_|kut_|entry_guest|entry_controls|post_entry|vmentry_basic|observer|modes)'
CHILD=
# run CMD...: in the background, so that a signal is handled at once (the trap kills it).
run() { "$@" & CHILD=$!; wait $CHILD; local rc=$?; CHILD=; return $rc; }
run_suite() { # 0: passed, 1: a test failed, 2: the build failed
  local first
  first=$(ctest --test-dir "$BUILD" -N -R "$FIRST" | sed -n 's/^ *Test *#[0-9]*: *//p' | tr '\n' ' ')
  # shellcheck disable=SC2086
  run cmake --build "$BUILD" -j2 --target $first > "$OUT" 2>&1 || { cat "$OUT" >> "$LOG"; return 2; }
  run ctest --test-dir "$BUILD" -j2 --stop-on-failure --timeout 300 -R "$FIRST" > "$OUT" 2>&1
  local rc=$?
  cat "$OUT" >> "$LOG"
  [ $rc = 0 ] || return 1
  run cmake --build "$BUILD" -j2 > "$OUT" 2>&1 || { cat "$OUT" >> "$LOG"; return 2; }
  run ctest --test-dir "$BUILD" -j2 --stop-on-failure --timeout 300 -E "$FIRST" > "$OUT" 2>&1
  rc=$?
  cat "$OUT" >> "$LOG"
  return $((rc != 0))
}
CHILD=
if [ $BASELINE = 1 ]; then
  echo "mutate: the unmutated suite first"
  run_suite; rc=$?
  if [ $rc != 0 ]; then echo "mutate: the unmutated suite does not pass (see $LOG)" >&2; exit 3; fi
fi

total=0 killed=0 nobuild=0 explained=0
survivors=()
start=$(date +%s)
for l in "${LINES[@]}"; do
  IFS=$'\t' read -r id file orig new desc note <<<"$l"
  if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$id,"* ]]; then continue; fi
  total=$((total + 1))
  cp "$file" "$file.mutate-orig"
  apply "$file" "$orig" "$new"
  echo "=== $id ($file): $desc" >> "$LOG"
  t0=$(date +%s)
  run_suite; rc=$?
  cp "$file.mutate-orig" "$file" && rm -f "$file.mutate-orig" && touch "$file"
  failed=$(grep -E '^[[:space:]]*[0-9]+ - test_' "$OUT" | head -3 | sed -E 's/^[[:space:]]*[0-9]+ - //' | tr '\n' ' ' | sed 's/ $//')
  case $rc in
    0) if [ -n "${note:-}" ]; then explained=$((explained + 1)); state="survived ($note)"
       else survivors+=("$id	$file	$desc"); state="SURVIVED"; fi ;;
    1) killed=$((killed + 1)); state="killed${failed:+ by $failed}" ;;
    2) nobuild=$((nobuild + 1)); state="does not build (catalogue error)" ;;
  esac
  printf 'mutate: %-24s %s (%ss)\n' "$id" "$state" "$(( $(date +%s) - t0 ))"
done
# Rebuild the unmutated tree so the build directory matches the sources.
cmake --build "$BUILD" -j2 >> "$LOG" 2>&1
{
  echo "mutation run $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(( $(date +%s) - start )) s"
  echo "mutants: $total; killed: $killed; explained as equivalent: $explained; survived: ${#survivors[@]}; did not build: $nobuild"
  echo "command: scripts/mutate.sh${ONLY:+ --only $ONLY}"
  valid=$((total - nobuild - explained))
  [ $valid -gt 0 ] && echo "kill rate: $killed/$valid ($(( 100 * killed / valid ))%) of the mutants that are not equivalent"
  for s in "${survivors[@]}"; do echo "SURVIVOR	$s"; done
} | tee "$REPORT"
[ ${#survivors[@]} = 0 ] && [ $nobuild = 0 ]
