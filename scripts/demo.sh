#!/usr/bin/env bash
# Build vtxref and run the demo: a VMM's bring-up on a modelled CPU, step by step.
# Usage: scripts/demo.sh [PROFILE]     (PROFILE: core2, server, teaching or a profile file)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/vmx_bringup "$@"
