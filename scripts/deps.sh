#!/usr/bin/env bash
# Install what vtxref needs from Debian 12 packages, only if something is missing.
# Usage: scripts/deps.sh            (as root, or with sudo available)
#        scripts/deps.sh --test     also what the tests of the pictures and the trace schema
#                                   use: Chromium, GTKWave, python3-jsonschema (scripts/test.sh)
set -euo pipefail

PKGS=(build-essential cmake pkg-config nasm xxd
      libunicorn-dev libzydis-dev libcriterion-dev
      libfyaml-dev libjson-c-dev
      clang libclang-rt-dev)

# Only the tests need these (headless Chromium loads the HTML picture, GTKWave reads
# the waveform, jsonschema checks traces against docs/trace.schema.json).
TEST_PKGS=(chromium gtkwave python3-jsonschema)
[ "${1:-}" = "--test" ] && PKGS+=("${TEST_PKGS[@]}")

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "deps: installing ${missing[*]}" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
