#!/usr/bin/env bash
# Build vtxref and run the demo: the interrupt-window exit end to end (an
# interrupt arrives while the guest has IF = 0; sti; the shadowed instruction;
# exit 7; injection; the handler runs), every exit decoded by name.
# Usage: scripts/demo.sh [PROFILE]           (PROFILE: core2, server, teaching or a profile file)
#        scripts/demo.sh bringup [PROFILE]   (a VMM's VMX bring-up and its mistakes, step by step)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
if [ "${1:-}" = "bringup" ]; then
  shift
  exec build/vmx_bringup "$@"
fi
exec build/iw_classic "$@"
