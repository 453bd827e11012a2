#!/usr/bin/env bash
# Build vtxref and run the demo: the classic interrupt-window lesson
# (examples/lessons/01-iw-classic.yaml) through `vtxref explain`: an interrupt
# arrives while the guest has IF = 0 (exit 1); the VMM sets interrupt-window
# exiting; sti; the shadowed instruction; exit 7; injection; the handler runs.
# Every boundary in sentences with the rule that decided, every exit decoded.
# Usage: scripts/demo.sh [PROFILE]           (PROFILE: core2, server, teaching or a profile file)
#        scripts/demo.sh lesson N [PROFILE]  (another lesson: examples/lessons/N*.yaml, e.g. 03)
#        scripts/demo.sh lessons             (check every lesson: vtxref check examples/lessons)
#        scripts/demo.sh c [PROFILE]         (the same story written in C: examples/iw_classic.c)
#        scripts/demo.sh bringup [PROFILE]   (a VMM's VMX bring-up and its mistakes, step by step)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

# explain LESSON_FILE [PROFILE]: the lesson as written, or a copy on another profile.
explain() {
  local lesson=$1 profile=${2:-}
  if [ -z "$profile" ]; then
    exec build/vtxref explain "$lesson"
  fi
  case "$profile" in
    core2|server|teaching) ;;
    *) profile=$(realpath "$profile") ;;   # a profile file, relative to where the user stands
  esac
  demo_tmp=$(mktemp -d)
  trap 'rm -rf "$demo_tmp"' EXIT
  sed "s|^profile: .*|profile: $profile|" "$lesson" > "$demo_tmp/$(basename "$lesson")"
  build/vtxref explain "$demo_tmp/$(basename "$lesson")"
}

case "${1:-}" in
  bringup) shift; exec build/vmx_bringup "$@" ;;
  c) shift; exec build/iw_classic "$@" ;;
  lessons) exec build/vtxref check examples/lessons ;;
  lesson)
    n=${2:?usage: scripts/demo.sh lesson N [PROFILE]}
    f=$(ls examples/lessons/"$n"*.yaml 2>/dev/null | head -n 1)
    [ -n "$f" ] || { echo "demo.sh: no lesson $n in examples/lessons" >&2; exit 2; }
    explain "$f" "${3:-}" ;;
  *) explain examples/lessons/01-iw-classic.yaml "${1:-}" ;;
esac
