#!/usr/bin/env bash
# scripts/kut.sh - kvm-unit-tests' VMX tests (x86/vmx.flat) on vtxref, one boot per
# test group, summarized as a Markdown table (issue 14 item 4, docs/kvm-unit-tests.md).
#
# usage: scripts/kut.sh KUT_DIR [--vtxref PATH] [--groups LIST] [--budget N]
#                       [--timeout SECONDS] [--profile P] [--keep DIR]
#
#   KUT_DIR          a kvm-unit-tests tree built with `./configure --arch=x86_64 && make`
#                    (the project neither contains nor downloads it)
#   --vtxref PATH    the vtxref binary (default: build/vtxref of this checkout, else
#                    `vtxref` on PATH)
#   --groups LIST    comma- or blank-separated vmx test groups (vmx.flat arguments: a test
#                    name with blanks as `_`, or a glob); `pretests` stands for the 11
#                    pre-tests. Default: the groups of issue 14 item 4 (see DEFAULT_GROUPS).
#   --budget N       per-group cycle budget, passed as `vtxref boot --max-cycles N`
#                    (default 2000000000)
#   --timeout S      per-group wall-clock limit in seconds (default 900; 0 = none)
#   --profile P      passed as `vtxref boot --profile P`
#   --keep DIR       keep each group's serial output (DIR/GROUP.out) and vtxref's
#                    messages (DIR/GROUP.err; a / in GROUP becomes _)
#
# Each group is one `vtxref boot KUT_DIR/x86/vmx.flat --module ENV --append "vmx.flat
# GROUP-ARGS"` with the one-CPU environment module NR_CPUS=1, MEMSIZE=128,
# TEST_DEVICE=0 (kvm-unit-tests reads it instead of fw_cfg). The serial output is
# parsed as docs/kvm-unit-tests.md section 3 ("Read the table") describes: PASS/FAIL/XPASS/XFAIL/
# KFAIL/SKIP lines grouped by the `Test suite:` line before them, the SUMMARY line
# cross-checked against them, the kernel's exit code (port 0xF4: 0 pass, 1 failures,
# 38 all skipped, 63 abort) as vtxref's exit status; no SUMMARY line means the kernel
# hung or crashed (or the budget ran out). The table goes to standard output,
# progress to standard error.
#
# Exit status:
#   0  every group passed (status 0, a SUMMARY line, no FAIL or XPASS line) or skipped
#      all its tests (status 38)
#   1  at least one group failed, aborted, hung, crashed or ran out of budget
#   2  usage error
#   3  KUT_DIR missing, or no KUT_DIR/x86/vmx.flat in it (build kvm-unit-tests first)
#   4  vtxref missing, not executable, or without the `boot` command
set -uo pipefail
set -f   # group names may be globs for vmx.flat, never for the shell

DEFAULT_GROUPS="pretests vmx_intr_window_test vmx_nmi_window_test vmentry_movss_shadow_test \
vmx_db_test vmx_mtf_test preemption_timer vmx_preemption_timer_zero_test \
vmx_preemption_timer_tf_test vmx_preemption_timer_expiry_test vmx_pending_event_test \
vmx_pending_event_hlt_test vmx_store_tsc_test vmx_controls_test interrupt"
DETAIL_RE='^FAIL: VMWRITE/VMREAD [0-9a-f]+ \(expected: '
# Groups whose guests touch ports no device claims (the v1 "I/O bitmap" test lets IN
# from port 0x5000 through to the platform): booted with `vtxref boot --open-bus`
# (PLAT-PORT-1: all ones on IN, OUT dropped); every other group stays strict.
OPEN_BUS_GROUPS="I/O_bitmap"
PRETESTS="test_vmx_feature_control test_vmxon test_vmptrld test_vmclear test_vmptrst \
test_vmwrite_vmread test_vmcs_high test_vmcs_lifecycle test_vmx_caps \
test_vmread_flags_touch test_vmwrite_flags_touch"

usage() {
    sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() { # die STATUS MESSAGE
    echo "kut.sh: $2" >&2
    exit "$1"
}

here=$(cd "$(dirname "$0")/.." && pwd)
kut_dir=""
vtxref=""
groups="$DEFAULT_GROUPS"
budget=2000000000
timeout_s=900
profile=""
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
    --vtxref) [ $# -ge 2 ] || usage; vtxref=$2; shift 2 ;;
    --groups) [ $# -ge 2 ] || usage; groups=${2//,/ }; shift 2 ;;
    --budget) [ $# -ge 2 ] || usage; budget=$2; shift 2 ;;
    --timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
    --profile) [ $# -ge 2 ] || usage; profile=$2; shift 2 ;;
    --keep) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "kut.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$kut_dir" ] || usage; kut_dir=$1; shift ;;
    esac
done
[ -n "$kut_dir" ] || usage
[[ "$budget" =~ ^[0-9]+$ ]] || die 2 "--budget: '$budget' is not a number of cycles"
[[ "$timeout_s" =~ ^[0-9]+$ ]] || die 2 "--timeout: '$timeout_s' is not a number of seconds"
[ -n "${groups// /}" ] || die 2 "--groups: empty list"

[ -d "$kut_dir" ] || die 3 "$kut_dir: no such directory (a kvm-unit-tests tree; docs/kvm-unit-tests.md says how to build one)"
flat="$kut_dir/x86/vmx.flat"
[ -f "$flat" ] || die 3 "$flat: missing; build kvm-unit-tests first: cd $kut_dir && ./configure --arch=x86_64 && make"

if [ -z "$vtxref" ]; then
    if [ -x "$here/build/vtxref" ]; then
        vtxref="$here/build/vtxref"
    else
        vtxref=$(command -v vtxref || true)
    fi
fi
[ -n "$vtxref" ] || die 4 "no vtxref: build it (cmake --build build) or pass --vtxref PATH"
[ -x "$vtxref" ] || die 4 "$vtxref: not an executable"
# `vtxref boot` without a kernel prints its usage; a vtxref without the command does not.
if ! { "$vtxref" boot 2>&1 || true; } | grep -q 'usage: .*boot KERNEL'; then
    die 4 "$vtxref has no 'boot' command (it needs the root-mode machine of issue 14)"
fi

kut_commit=$(git -C "$kut_dir" rev-parse HEAD 2>/dev/null || echo "unknown (not a git checkout)")
vtx_version=$("$vtxref" --version 2>/dev/null | head -1)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kut.XXXXXX") || die 1 "mktemp failed"
trap 'rm -rf "$tmp"' EXIT INT TERM
printf 'NR_CPUS=1\nMEMSIZE=128\nTEST_DEVICE=0\n' >"$tmp/env"
if [ -n "$keep" ]; then
    mkdir -p "$keep" || die 2 "--keep: cannot create $keep"
fi

# md CELL: a Markdown table cell (| escaped, at most 320 characters)
md() {
    local s=${1//|/\\|}
    [ ${#s} -le 320 ] || s="${s:0:317}..."
    printf '%s' "$s"
}

rows=""
notes=""
overall=0
for g in $groups; do
    if [ "$g" = pretests ]; then args="$PRETESTS"; else args="$g"; fi
    f=${g//\//_}   # a file name for the group (test names such as I/O_bitmap hold a /)
    out="$tmp/$f.out"
    err="$tmp/$f.err"
    cmd=("$vtxref" boot "$flat" --module "$tmp/env" --append "vmx.flat $args" --max-cycles "$budget")
    [ -z "$profile" ] || cmd+=(--profile "$profile")
    for o in $OPEN_BUS_GROUPS; do
        [ "$g" != "$o" ] || cmd+=(--open-bus)
    done
    echo "kut.sh: $g ..." >&2
    start=$(date +%s)
    if [ "$timeout_s" -gt 0 ]; then
        timeout --kill-after=10 "$timeout_s" "${cmd[@]}" >"$out" 2>"$err"
    else
        "${cmd[@]}" >"$out" 2>"$err"
    fi
    rc=$?
    secs=$(($(date +%s) - start))
    tr -d '\r' <"$out" >"$out.txt"
    if [ -n "$keep" ]; then
        cp "$out.txt" "$keep/$f.out"
        cp "$err" "$keep/$f.err"
    fi
    # Tallies per `Test suite:` (pre-test results come before any suite line).
    # kvm-unit-tests also prints detail lines that look like results but are not
    # reports (x86/vmx.c check_vmcs_field: "FAIL: VMWRITE/VMREAD <field> (expected:
    # ..."); they are counted apart (DETAIL_RE) and never taken as the first failure.
    read -r npass nfail nxpass nxfail nkfail nskip ndetail nsuites suites < <(awk -v detail="$DETAIL_RE" '
        /^Test suite: / { s = substr($0, 13); if (!(s in seen)) { seen[s] = 1; order = order (order ? "," : "") s; ns++ } next }
        $0 ~ detail { d++; next }
        /^PASS: / { p++ } /^FAIL: / { f++ } /^XPASS: / { xp++ } /^XFAIL: / { xf++ }
        /^KFAIL: / { kf++ } /^SKIP: / { sk++ }
        END { printf "%d %d %d %d %d %d %d %d %s\n", p, f, xp, xf, kf, sk, d, ns, (order == "" ? "-" : order) }' "$out.txt")
    summary=$(grep -m1 '^SUMMARY: ' "$out.txt" || true)
    first=$(grep -E '^(FAIL|XPASS): ' "$out.txt" | grep -m1 -v -E "$DETAIL_RE" || true)
    failed=$((nfail + nxpass))
    passed=$npass
    note=""
    [ "$ndetail" -eq 0 ] || note="$ndetail FAIL detail lines (not reports)"
    if [ -n "$summary" ]; then
        # cross-check: SUMMARY's count includes silent passes (report_passed), so the
        # passes are N - failures - skips - known - expected failures; every
        # unexpected failure and every skip is a line
        s_n=$(sed -n 's/^SUMMARY: \([0-9]*\) tests.*/\1/p' <<<"$summary")
        s_fail=$(sed -n 's/.*, \([0-9]*\) unexpected failures.*/\1/p' <<<"$summary")
        s_kfail=$(sed -n 's/.*, \([0-9]*\) known failures.*/\1/p' <<<"$summary")
        s_xfail=$(sed -n 's/.*, \([0-9]*\) expected failures.*/\1/p' <<<"$summary")
        s_skip=$(sed -n 's/.*, \([0-9]*\) skipped.*/\1/p' <<<"$summary")
        passed=$((${s_n:-0} - ${s_fail:-0} - ${s_kfail:-0} - ${s_xfail:-0} - ${s_skip:-0}))
        [ "${s_fail:-0}" -eq "$failed" ] || note="${note:+$note; }SUMMARY says ${s_fail:-0} unexpected failures, $failed FAIL/XPASS lines"
        [ "${s_skip:-0}" -eq "$nskip" ] || note="${note:+$note; }SUMMARY says ${s_skip:-0} skipped, $nskip SKIP lines"
        failed=${s_fail:-0}
        if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]; then
            result=PASS
        elif [ "$rc" -eq 38 ] && [ "$failed" -eq 0 ]; then
            result=SKIP
        elif [ "$rc" -eq 63 ]; then
            result=ABORT
        elif [ "$nfail" -eq 0 ] && [ "$nxpass" -gt 0 ]; then
            # only expected failures that passed: kvm-unit-tests' report_xfail marks
            # a check it expects to fail (often for a KVM bug); it counts as a failure
            result="FAIL (XPASS only)"
        else
            result=FAIL
        fi
    else
        if [ "$timeout_s" -gt 0 ] && { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; }; then
            result="TIMEOUT (${timeout_s} s)"
        else
            result="NO SUMMARY"
        fi
    fi
    if [ -z "$first" ] && [ "$result" != PASS ] && [ "$result" != SKIP ]; then
        # no FAIL line: the abort message, vtxref's message, or the last serial line
        first=$(grep -m1 -E '^(ABORT: |Unhandled |.*Assertion failed)' "$out.txt" || true)
        [ -n "$first" ] || first=$(grep -v '^[[:space:]]*$' "$err" | tail -1)
        if [ -z "$first" ]; then
            last=$(grep -v '^[[:space:]]*$' "$out.txt" | tail -1)
            first="last serial line: ${last:-(no output)}"
        fi
    fi
    if [ "$nsuites" -gt 1 ] || { [ "$g" != pretests ] && [ "$nsuites" -eq 1 ] && [ "$suites" != "$g" ] && [ "${suites// /_}" != "$g" ]; }; then
        note="${note:+$note; }suites: $suites"
    fi
    [ "$nxfail" -eq 0 ] && [ "$nkfail" -eq 0 ] || note="${note:+$note; }$nxfail XFAIL, $nkfail KFAIL"
    case "$result" in PASS | SKIP) ;; *) overall=1 ;; esac
    rows+="| $g | $result | $passed | $failed | $nskip | $(md "${summary#SUMMARY: }") | $rc | $(md "$first") | ${secs} s |"$'\n'
    [ -z "$note" ] || notes+="- $g: $(md "$note")"$'\n'
    echo "kut.sh: $g: $result (status $rc, ${secs} s)" >&2
done

echo "kvm-unit-tests commit \`$kut_commit\`, \`x86/vmx.flat\` on ${vtx_version:-vtxref}${profile:+, profile $profile}, budget $budget cycles per group, $(date -u +%Y-%m-%d)."
echo
echo "| group | result | passed | failed | skipped | SUMMARY | exit | first failure | time |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s' "$rows"
if [ -n "$notes" ]; then
    echo
    printf '%s' "$notes"
fi
exit "$overall"
