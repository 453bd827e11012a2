#!/usr/bin/env bash
# Run a command in a Debian 13 ("trixie") build root: Unicorn 2.1.1, Zydis 4.1,
# Criterion 2.4, gcc 14 (docs/platforms.md). The root is made once with
# debootstrap (minbase) plus the build packages of scripts/deps.sh, kept outside
# the work tree, and made again when the package list or this script's recipe
# changes. The work tree is bind-mounted at the same path inside the root, in a
# private mount namespace (unshare -m), so no mount outlives the command.
#
# Usage: scripts/debian13.sh [--rebuild] [--fuzz] [--] COMMAND [ARG...]
#        scripts/debian13.sh [--fuzz] --root   (prints the root's path, building it if needed)
# --fuzz: the root with clang and its fuzzing runtime too (for libFuzzer campaigns
#         on Unicorn 2.1.1, scripts/fuzz.sh --debian13), kept beside the other
#         (ROOT-fuzz) and made from a copy of it.
# Environment: VTX_DEBIAN13_ROOT  where the root lives (default /var/cache/vtxref/debian13)
#              VTX_DEBIAN_MIRROR  the archive (default: the deb.debian.org URI of apt's sources)
# Needs root. Exit status: the command's; 2 for bad usage; 3 when the root cannot be made.
set -euo pipefail
cd "$(dirname "$0")/.."
TREE=$PWD
ROOT=${VTX_DEBIAN13_ROOT:-/var/cache/vtxref/debian13}
RECIPE=1   # bump when the way the root is made changes

die() { echo "debian13: $1" >&2; exit "${2:-3}"; }
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot and mounts)" 2

rebuild=0 print_root=0 fuzz=0
while [ $# -gt 0 ]; do
  case $1 in
    --rebuild) rebuild=1; shift ;;
    --fuzz) fuzz=1; shift ;;
    --root) print_root=1; shift ;;
    --) shift; break ;;
    -*) die "unknown option $1 (usage: scripts/debian13.sh [--rebuild] [--fuzz] [--] COMMAND...)" 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || [ "$print_root" -eq 1 ] || die "no command given (usage: scripts/debian13.sh [--rebuild] [--] COMMAND...)" 2

# The packages: those of scripts/deps.sh (one list for both platforms), minus the
# clang fuzzing/sanitizer tool chain, which only the host steps use.
mapfile -t PKGS < <(sed -n '/^PKGS=(/,/)/p' scripts/deps.sh | tr -d '()' | sed 's/^PKGS=//' |
                    tr ' \t' '\n\n' | grep -v '^$' | grep -v -e '^clang' -e '^libclang')
[ ${#PKGS[@]} -gt 0 ] || die "could not read the package list of scripts/deps.sh"
STAMP="recipe=$RECIPE trixie minbase ${PKGS[*]}"

mirror() {
  [ -n "${VTX_DEBIAN_MIRROR:-}" ] && { echo "$VTX_DEBIAN_MIRROR"; return; }
  local m
  m=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
      grep -o -E 'https?://[^ ]*/debian/?( |$)' | head -1 | tr -d ' ')
  echo "${m:-http://deb.debian.org/debian}"
}

build_root() {
  command -v debootstrap >/dev/null || {
    echo "debian13: installing debootstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  local url tmp
  url=$(mirror)
  mkdir -p "$(dirname "$ROOT")"
  tmp=$(mktemp -d "$ROOT.new.XXXXXX")
  echo "debian13: making the build root from $url (debootstrap trixie, then ${PKGS[*]})" >&2
  local t0=$SECONDS
  debootstrap --variant=minbase trixie "$tmp" "$url" >"$tmp.log" 2>&1 ||
    { tail -20 "$tmp.log" >&2; rm -rf "$tmp"; die "debootstrap failed (log above)"; }
  chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${PKGS[@]}" >>"$tmp.log" 2>&1 ||
    { tail -20 "$tmp.log" >&2; rm -rf "$tmp"; die "package install failed (log above)"; }
  chroot "$tmp" apt-get clean
  echo "$STAMP" >"$tmp/.vtxref-stamp"
  rm -f "$tmp.log"
  # Replace the old root only once the new one is complete.
  if [ -d "$ROOT" ]; then rm -rf "$ROOT.old"; mv "$ROOT" "$ROOT.old"; fi
  mv "$tmp" "$ROOT"
  rm -rf "$ROOT.old"
  echo "debian13: build root ready in $((SECONDS - t0)) s: $ROOT" >&2
}

if [ "$rebuild" -eq 1 ] || [ ! -f "$ROOT/.vtxref-stamp" ] || [ "$(cat "$ROOT/.vtxref-stamp")" != "$STAMP" ]; then
  mkdir -p "$(dirname "$ROOT")"
  ( exec 9>"$ROOT.lock"; flock 9
    if [ "$rebuild" -eq 1 ] || [ ! -f "$ROOT/.vtxref-stamp" ] || [ "$(cat "$ROOT/.vtxref-stamp")" != "$STAMP" ]; then
      build_root
    fi )
fi
# The fuzzing root: a copy of the root above plus the clang packages of
# scripts/deps.sh (libFuzzer and the sanitizer runtimes).
if [ "$fuzz" -eq 1 ]; then
  mapfile -t FPKGS < <(sed -n '/^PKGS=(/,/)/p' scripts/deps.sh | tr -d '()' | sed 's/^PKGS=//' |
                       tr ' \t' '\n\n' | grep -e '^clang' -e '^libclang')
  [ ${#FPKGS[@]} -gt 0 ] || die "could not read the clang packages of scripts/deps.sh"
  BASE=$ROOT ROOT=$ROOT-fuzz
  FSTAMP="$STAMP + ${FPKGS[*]}"
  if [ "$rebuild" -eq 1 ] || [ ! -f "$ROOT/.vtxref-stamp" ] || [ "$(cat "$ROOT/.vtxref-stamp")" != "$FSTAMP" ]; then
    ( exec 9>"$ROOT.lock"; flock 9
      if [ "$rebuild" -eq 1 ] || [ ! -f "$ROOT/.vtxref-stamp" ] || [ "$(cat "$ROOT/.vtxref-stamp")" != "$FSTAMP" ]; then
        tmp=$(mktemp -d "$ROOT.new.XXXXXX")
        echo "debian13: making the fuzzing root from $BASE, then ${FPKGS[*]}" >&2
        cp -a "$BASE/." "$tmp/"
        { chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
          chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${FPKGS[@]}"; } >"$tmp.log" 2>&1 ||
          { tail -20 "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; die "package install failed (log above)"; }
        chroot "$tmp" apt-get clean
        echo "$FSTAMP" >"$tmp/.vtxref-stamp"
        rm -f "$tmp.log"
        if [ -d "$ROOT" ]; then rm -rf "$ROOT.old"; mv "$ROOT" "$ROOT.old"; fi
        mv "$tmp" "$ROOT"
        rm -rf "$ROOT.old"
        echo "debian13: fuzzing root ready: $ROOT" >&2
      fi )
  fi
fi
if [ "$print_root" -eq 1 ]; then echo "$ROOT"; [ $# -gt 0 ] || exit 0; fi

# Run the command: private mount namespace, work tree at its own path, /proc, /dev, /tmp.
exec unshare -m -- bash -c '
  set -e
  root=$1 tree=$2; shift 2
  mount --make-rprivate /
  mkdir -p "$root$tree"
  mount --bind "$tree" "$root$tree"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs tmpfs "$root/tmp"
  cd "$tree"
  exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
       TERM="${TERM:-dumb}" LANG=C.UTF-8 /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$tree" "$@"
' vtx-debian13 "$ROOT" "$TREE" "$@"
