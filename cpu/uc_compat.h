/*
 * What differs between the Unicorn versions the engine runs on (docs/platforms.md,
 * docs/unicorn-audit.md): Unicorn 2.0.1 (Debian 12) and 2.1.1
 * (Debian 13). Selected at compile time from unicorn.h's version macros; CMake
 * reports the version it found. Only cpu/ includes this (it needs unicorn.h), and
 * bench/engine_bench.c for its bare-Unicorn reference figures.
 */
#ifndef VTX_UC_COMPAT_H
#define VTX_UC_COMPAT_H

#include <stdbool.h>
#include <unicorn/unicorn.h>

/* VTX_UC_21: Unicorn 2.1 or later. Its guest paging translates for real (the
 * access goes to the physical address the guest's tables give), uc_ctl has a
 * TLB flush of its own, and the translation buffer size can be set. */
#if defined(UC_API_MAJOR) && (UC_API_MAJOR > 2 || (UC_API_MAJOR == 2 && UC_API_MINOR >= 1))
#define VTX_UC_21 1
#else
#define VTX_UC_21 0
#endif

/* The QEMU translation buffer: 32 MiB makes the first flush of translated code
 * cost about 5 ms and 30 MiB instead of about 150 ms and 1 GiB (2.1 only). */
#define VTX_UC_TCG_BUFFER (32u << 20)

/* The Unicorn library's version at run time (it may be newer than the headers'):
 * 0xMMmmpp (major, minor, patch). */
static inline unsigned vtx_uc_runtime_version(void)
{
    return uc_version(NULL, NULL) >> 8;
}

/* Set up a freshly opened Unicorn (before any mapping or run). */
static inline bool vtx_uc_after_open(uc_engine *uc)
{
#if VTX_UC_21
    return uc_ctl_set_tcg_buffer_size(uc, VTX_UC_TCG_BUFFER) == UC_ERR_OK;
#else
    (void)uc;
    return true;
#endif
}

/* Drop every translated block. 2.0.1 spells it uc_ctl_flush_tlb (it is
 * UC_CTL_TB_FLUSH there); in 2.1.1 uc_ctl_flush_tlb only flushes the TLB. */
static inline uc_err vtx_uc_flush_tb(uc_engine *uc)
{
#if VTX_UC_21
    return uc_ctl_flush_tb(uc);
#else
    return uc_ctl_flush_tlb(uc);
#endif
}

/* The Unicorn version as a string, for diagnostics. */
#define VTX_UC_STR_(x) #x
#define VTX_UC_STR(x) VTX_UC_STR_(x)
#define VTX_UC_VERSION_STRING VTX_UC_STR(UC_API_MAJOR) "." VTX_UC_STR(UC_API_MINOR) "." VTX_UC_STR(UC_API_PATCH)

#endif
