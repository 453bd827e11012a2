#!/bin/sh
# Check an HTML picture of a run (docs/traces.md "Pictures") in headless Chromium:
# it loads without a console message (errors, uncaught exceptions) and shows the
# expected number of exits (one .exit-row element each, after its script ran).
#   scripts/check-html.sh PAGE.html EXITS [SCREENSHOT.png]
# Exit 0 when both hold, 1 when not, 2 on bad usage or without Chromium
# (install it with `apt-get install -y chromium`). Runs Chromium as root with a
# fresh profile and no network services.
set -eu
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 PAGE.html EXITS [SCREENSHOT.png]" >&2
  exit 2
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "check-html: chromium is not installed (apt-get install -y chromium)" >&2
  exit 2
fi
page=$(realpath "$1")
want=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {
  "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$tmp/profile" "$@"
}
run --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom "file://$page" >"$tmp/dom.html" 2>"$tmp/log.txt" || true
status=0
# Every console message (console.log/error, uncaught exceptions) is logged as ...:CONSOLE(line)] "text"
if grep -F ':CONSOLE' "$tmp/log.txt" >"$tmp/console.txt"; then
  echo "check-html: console messages in $1:" >&2
  cat "$tmp/console.txt" >&2
  status=1
fi
got=$(grep -o 'class="exit-row' "$tmp/dom.html" | wc -l)
if [ "$got" -ne "$want" ]; then
  echo "check-html: $1 shows $got exits, expected $want" >&2
  status=1
fi
if ! grep -q '<svg id="tl"[^>]*width=' "$tmp/dom.html"; then
  echo "check-html: $1: the timeline was not drawn" >&2
  status=1
fi
if [ $# -eq 3 ]; then
  run --hide-scrollbars --window-size=1200,820 --screenshot="$(realpath -m "$3")" "file://$page" >/dev/null 2>&1
fi
[ $status -eq 0 ] && echo "check-html: $1 loads without console messages and shows $got exits"
exit $status
