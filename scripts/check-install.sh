#!/usr/bin/env bash
# Install a built tree into a temporary prefix and build a small consumer
# against it twice: with pkg-config (static and shared) and with find_package(vtxref).
set -euo pipefail
BUILD=${1:?usage: check-install.sh BUILD_DIR}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null
cat > "$TMP/consumer.c" <<'C'
#include <stdio.h>
#include <vtxref/vtxref.h>
int main(void)
{
    const vtx_profile *p;
    if (vtx_profile_find("teaching", &p, NULL) != VTX_OK)
        return 1;
    vtx_machine_config cfg;
    vtx_machine *m;
    vtx_machine_config_init(&cfg, p);
    if (vtx_machine_create(&cfg, &m, NULL) != VTX_OK)
        return 1;
    vtx_insn_result r;
    vtx_vmxoff(m, &r); /* outside VMX operation: #UD */
    vtx_machine_destroy(m);
    printf("vtxref %s: VMXOFF -> %s\n", vtx_version(), vtx_insn_outcome_name(r.outcome));
    return r.outcome == VTX_INSN_FAULT ? 0 : 1;
}
C
LIBDIR=$(ls -d "$TMP"/prefix/lib*/pkgconfig | head -1)
export PKG_CONFIG_PATH="$LIBDIR"
cc "$TMP/consumer.c" $(pkg-config --cflags vtxref) "$(dirname "$LIBDIR")/libvtxref.a" $(pkg-config --libs-only-l --static vtxref | sed "s/-lvtxref//") -o "$TMP/consumer-static"
"$TMP/consumer-static"
cc "$TMP/consumer.c" $(pkg-config --cflags --libs vtxref) -o "$TMP/consumer-shared"
LD_LIBRARY_PATH="$(dirname "$LIBDIR")" "$TMP/consumer-shared"
mkdir -p "$TMP/cm"
cat > "$TMP/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(vtxref REQUIRED)
add_executable(consumer ../consumer.c)
target_link_libraries(consumer PRIVATE vtxref::vtxref)
CM
cmake -S "$TMP/cm" -B "$TMP/cm/build" -DCMAKE_PREFIX_PATH="$TMP/prefix" >/dev/null
cmake --build "$TMP/cm/build" >/dev/null
"$TMP/cm/build/consumer"
"$TMP/prefix/bin/vtxref" --version
