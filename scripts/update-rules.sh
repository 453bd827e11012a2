#!/usr/bin/env bash
# Regenerate docs/rules.tsv (rule ID, section, summary) from the rules catalogue.
# Usage: scripts/update-rules.sh [--check] [path/to/sdm-rules.md]   (default ../shared/spec/sdm-rules.md)
#   --check: do not write; fail if docs/rules.tsv differs from the catalogue.
# The catalogue's DIFF-* entries record disagreements, not rules, and are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK=0
if [ "${1:-}" = "--check" ]; then CHECK=1; shift; fi
SPEC=${1:-../shared/spec/sdm-rules.md}
KUT=$(dirname "$SPEC")/kut-scenarios.md
[ -r "$SPEC" ] || { echo "update-rules: cannot read $SPEC" >&2; exit 4; }
tmp=$(mktemp docs/rules.tsv.XXXXXX)
trap 'rm -f "$tmp"' EXIT
awk '
  /^## / || /^### / { sec = $0; sub(/^#+ */, "", sec); next }
  {
    line = $0
    while (match(line, /\*\*[A-Z]+(-[A-Z]+)*-[0-9]+[a-z]?/)) {
      id = substr(line, RSTART + 2, RLENGTH - 2)
      rest = substr(line, RSTART + RLENGTH)
      line = rest
      if (id ~ /^DIFF-/ || seen[id]++) continue
      gsub(/\*\*/, "", rest); gsub(/^[ .:]+/, "", rest); gsub(/\t/, " ", rest)
      if (length(rest) > 90) rest = substr(rest, 1, 87) "..."
      printf "%s\t%s\t%s\n", id, sec, rest
    }
  }' "$SPEC" | sort -t- -k1,1 -k2,2 -V > "$tmp"
# The kvm-unit-tests scenarios: "6.N<TAB>title" from the "### 6.N Title" headings.
ktmp=$(mktemp docs/kut.tsv.XXXXXX)
trap 'rm -f "$tmp" "$ktmp"' EXIT
if [ -r "$KUT" ]; then
  sed -n 's/^### \(6\.[0-9]*\) \(.*\)$/\1\t\2/p' "$KUT" > "$ktmp"
else
  cp docs/kut.tsv "$ktmp" 2>/dev/null || : > "$ktmp"
fi
if [ $CHECK = 1 ]; then
  if ! cmp -s "$ktmp" docs/kut.tsv; then
    echo "update-rules: docs/kut.tsv is out of date with $KUT; run scripts/update-rules.sh" >&2
    exit 1
  fi
  if ! cmp -s "$tmp" docs/rules.tsv; then
    echo "update-rules: docs/rules.tsv is out of date with $SPEC; run scripts/update-rules.sh" >&2
    diff docs/rules.tsv "$tmp" | head -20 >&2
    exit 1
  fi
  echo "update-rules: docs/rules.tsv matches $SPEC"
  exit 0
fi
mv "$tmp" docs/rules.tsv
mv "$ktmp" docs/kut.tsv
trap - EXIT
echo "update-rules: $(wc -l < docs/rules.tsv) rule IDs written to docs/rules.tsv"
