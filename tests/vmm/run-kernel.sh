#!/bin/sh
# tests/vmm/run-kernel.sh - the ctest wrapper of the project's Multiboot VMMs
# (tests/vmm/*.asm, docs/boot-tests.md): boots one kernel with `vtxref boot` and
# judges the run by what the kernel reported.
#
# usage: run-kernel.sh VTXREF KERNEL [MAX_CYCLES]
#
# The run passes when all of these hold:
#   - `vtxref boot` exits with status 0 (the kernel wrote 0 to the debug-exit port
#     0xF4; a triple fault, a budget, an unmodelled device or a failing kernel give
#     another status),
#   - the serial output has at least one `PASS: ` line and no `FAIL: ` line,
#   - the serial output ends the checks with a `SUMMARY: ` line.
# The serial output and vtxref's messages are printed in full either way, so
# `ctest --output-on-failure` shows them.
#
# Exit status: 0 the run passed; 1 it did not (the reason is printed last);
# 2 usage error, or VTXREF or KERNEL missing.
set -u
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: run-kernel.sh VTXREF KERNEL [MAX_CYCLES]" >&2
    exit 2
fi
vtxref=$1
kernel=$2
budget=${3:-}
if [ ! -x "$vtxref" ]; then
    echo "run-kernel.sh: $vtxref: not an executable vtxref" >&2
    exit 2
fi
if [ ! -f "$kernel" ]; then
    echo "run-kernel.sh: $kernel: no such kernel (build the vtx_vmm_kernels target)" >&2
    exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vtx-boot.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -n "$budget" ]; then
    "$vtxref" boot "$kernel" --max-cycles "$budget" >"$tmp/out" 2>"$tmp/err"
else
    "$vtxref" boot "$kernel" >"$tmp/out" 2>"$tmp/err"
fi
rc=$?
tr -d '\r' <"$tmp/out" >"$tmp/serial"
echo "---- serial output of $(basename "$kernel") ----"
cat "$tmp/serial"
if [ -s "$tmp/err" ]; then
    echo "---- vtxref messages ----"
    cat "$tmp/err"
fi
echo "---- verdict ----"
verdict=0
if [ "$rc" -ne 0 ]; then
    echo "vtxref boot exited with status $rc (expected 0: the kernel's exit code for all checks passed)"
    verdict=1
fi
nfail=$(grep -c '^FAIL: ' "$tmp/serial")
npass=$(grep -c '^PASS: ' "$tmp/serial")
if [ "$nfail" -ne 0 ]; then
    echo "$nfail FAIL line(s); the first: $(grep -m1 '^FAIL: ' "$tmp/serial")"
    verdict=1
fi
if [ "$npass" -eq 0 ]; then
    echo "no PASS line"
    verdict=1
fi
if ! grep -q '^SUMMARY: ' "$tmp/serial"; then
    echo "no SUMMARY line: the kernel did not finish (hang, crash or budget)"
    verdict=1
fi
if [ "$verdict" -eq 0 ]; then
    echo "passed: $npass checks"
fi
exit "$verdict"
