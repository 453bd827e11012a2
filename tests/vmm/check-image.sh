#!/bin/sh
# tests/vmm/check-image.sh - checks that each kernel image is what a Multiboot v1
# loader expects (docs/boot-tests.md), without booting it: an ELF32 i386 EXEC file
# whose first program header is a PT_LOAD at physical 1 MiB, and a Multiboot header
# (magic 0x1BADB002, flags, checksum summing to 0) 4-byte aligned in the first 8 KiB.
#
# usage: check-image.sh KERNEL...
# Exit status: 0 every image is well formed; 1 one is not (named with the reason);
# 2 usage error.
set -u
[ $# -ge 1 ] || { echo "usage: check-image.sh KERNEL..." >&2; exit 2; }
# u32 FILE OFFSET: the little-endian 32-bit word at OFFSET
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
u16() { od -An -tu2 -j "$2" -N2 "$1" | tr -d ' '; }
status=0
for k in "$@"; do
    bad() { echo "$k: $*"; status=1; }
    if [ ! -f "$k" ]; then bad "no such file"; continue; fi
    [ "$(od -An -tx1 -N6 "$k" | tr -d ' ')" = "7f454c460101" ] || { bad "not an ELF32 little-endian file"; continue; }
    [ "$(u16 "$k" 16)" = 2 ] || bad "e_type is not ET_EXEC"
    [ "$(u16 "$k" 18)" = 3 ] || bad "e_machine is not EM_386"
    phoff=$(u32 "$k" 28)
    [ "$(u32 "$k" "$phoff")" = 1 ] || bad "the first program header is not PT_LOAD"
    [ "$(u32 "$k" $((phoff + 12)))" = 1048576 ] || bad "the PT_LOAD is not at physical 1 MiB"
    filesz=$(u32 "$k" $((phoff + 16)))
    memsz=$(u32 "$k" $((phoff + 20)))
    [ "$filesz" = "$(wc -c <"$k" | tr -d ' ')" ] || bad "p_filesz $filesz is not the file size"
    [ "$memsz" -ge "$filesz" ] || bad "p_memsz $memsz < p_filesz $filesz"
    found=0
    off=0
    while [ $off -lt 8192 ] && [ $off -lt "$filesz" ]; do
        if [ "$(u32 "$k" $off)" = 464367618 ]; then
            sum=$(( (464367618 + $(u32 "$k" $((off + 4))) + $(u32 "$k" $((off + 8)))) % 4294967296 ))
            [ $sum -eq 0 ] || bad "Multiboot checksum at offset $off does not sum to 0"
            found=1
            break
        fi
        off=$((off + 4))
    done
    [ $found -eq 1 ] || bad "no Multiboot header in the first 8 KiB"
done
exit $status
