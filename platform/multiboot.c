/*
 * The Multiboot (v1) loader (docs/platform.md, "Multiboot"): an ELF32 kernel
 * with a Multiboot header in its first 8 KiB (magic 0x1BADB002, flags, checksum
 * adding to 0; the a.out kludge, flag 16, is refused). PT_LOAD program headers
 * are copied to their physical addresses and the rest of each memsz is zeroed
 * (the BSS). The information structure (flags mem | cmdline | mods) is built in
 * low memory: MBI at 0x9000, the module list at 0x9080, strings from 0x9100,
 * module contents from 0x10000 (page-aligned, below 640 KiB). The processor
 * starts at the ELF entry in 32-bit protected mode, paging off, EAX =
 * 0x2BADB002, EBX = 0x9000.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MBI_PA 0x9000u
#define MODS_PA 0x9080u
#define STR_PA 0x9100u
#define STR_END 0xA000u
#define MOD_PA 0x10000u
#define MOD_END 0x9F000u

static uint32_t rd32(const uint8_t *b) { return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24; }
static uint16_t rd16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }
static void wr32(uint8_t *b, uint32_t v) { b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 24); }

static vtx_status fail(vtx_diag *diag, vtx_status st, const char *path, const char *fmt, const char *what)
    __attribute__((format(printf, 4, 0)));
static vtx_status fail(vtx_diag *diag, vtx_status st, const char *path, const char *fmt, const char *what)
{
    if (diag) {
        char msg[400];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(msg, sizeof msg, fmt, what);
#pragma GCC diagnostic pop
        snprintf(diag->message, sizeof diag->message, "%s: %s", path, msg);
    }
    return st;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        uint8_t *nb = realloc(buf, cap *= 2);
        if (!nb) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static vtx_status load_elf(vtx_platform *p, const char *path, const uint8_t *img, size_t len, uint32_t *entry,
                           vtx_diag *diag)
{
    /* The Multiboot header: 4-byte aligned in the first 8192 bytes. */
    bool found = false;
    for (size_t off = 0; off + 12 <= len && off < 8192; off += 4) {
        if (rd32(img + off) != MB_MAGIC)
            continue;
        uint32_t flags = rd32(img + off + 4), sum = rd32(img + off + 8);
        if ((uint32_t)(MB_MAGIC + flags + sum) != 0)
            return fail(diag, VTX_ERR_INVALID_ARG, path, "%s", "the Multiboot header checksum is wrong");
        if (flags & (1u << 16))
            return fail(diag, VTX_ERR_INVALID_ARG, path, "%s",
                        "the Multiboot header asks for the a.out kludge (flag 16), which this loader does not support");
        if (flags & 0xFFFCu)
            return fail(diag, VTX_ERR_INVALID_ARG, path, "%s",
                        "the Multiboot header requires video or other information this loader does not provide");
        found = true;
        break;
    }
    if (!found)
        return fail(diag, VTX_ERR_INVALID_ARG, path, "%s", "no Multiboot (v1) header in the first 8 KiB");
    if (len < 52 || memcmp(img, "\177ELF", 4) != 0)
        return fail(diag, VTX_ERR_INVALID_ARG, path, "%s", "not an ELF file");
    if (img[4] != 1 || img[5] != 1 || rd16(img + 18) != 3)
        return fail(diag, VTX_ERR_INVALID_ARG, path, "%s", "not a little-endian ELF32 i386 file (objcopy -O elf32-i386)");
    uint32_t phoff = rd32(img + 28);
    uint16_t phentsize = rd16(img + 42), phnum = rd16(img + 44);
    if (phentsize < 32 || (uint64_t)phoff + (uint64_t)phnum * phentsize > len)
        return fail(diag, VTX_ERR_INVALID_ARG, path, "%s", "the program headers lie outside the file");
    unsigned loads = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (size_t)i * phentsize;
        if (rd32(ph) != 1) /* PT_LOAD */
            continue;
        uint32_t off = rd32(ph + 4), paddr = rd32(ph + 12), filesz = rd32(ph + 16), memsz = rd32(ph + 20);
        char what[160];
        snprintf(what, sizeof what, "program header %u", i);
        if (filesz > memsz || (uint64_t)off + filesz > len)
            return fail(diag, VTX_ERR_INVALID_ARG, path, "%s: its file range lies outside the file", what);
        if ((uint64_t)paddr + memsz > p->ram_bytes)
            return fail(diag, VTX_ERR_INVALID_ARG, path, "%s: it loads beyond the end of RAM (use more RAM)", what);
        memcpy(p->ram + paddr, img + off, filesz);
        memset(p->ram + paddr + filesz, 0, memsz - filesz); /* the BSS */
        loads++;
    }
    if (!loads)
        return fail(diag, VTX_ERR_INVALID_ARG, path, "%s", "no PT_LOAD program header");
    *entry = rd32(img + 24);
    return VTX_OK;
}

/* Copy a NUL-terminated string into the string area; its physical address. */
static bool put_str(vtx_platform *p, uint32_t *next, const char *s, uint32_t *pa)
{
    size_t n = strlen(s) + 1;
    if (*next + n > STR_END)
        return false;
    memcpy(p->ram + *next, s, n);
    *pa = *next;
    *next += (uint32_t)n;
    return true;
}

vtx_status vtx_platform_load_multiboot(vtx_platform *p, const char *kernel, const char *cmdline,
                                       const vtx_mb_module *mods, size_t n_mods, vtx_diag *diag)
{
    if (!p || !kernel || (n_mods && !mods))
        return VTX_ERR_INVALID_ARG;
    if (n_mods > 8)
        return fail(diag, VTX_ERR_INVALID_ARG, kernel, "%s", "at most 8 modules");
    size_t len = 0;
    uint8_t *img = slurp(kernel, &len);
    if (!img)
        return fail(diag, VTX_ERR_IO, kernel, "cannot read it: %s", strerror(errno));
    uint32_t entry = 0;
    vtx_status st = load_elf(p, kernel, img, len, &entry, diag);
    free(img);
    if (st != VTX_OK)
        return st;
    uint8_t *mbi = p->ram + MBI_PA;
    memset(mbi, 0, 0x80);
    uint32_t next_str = STR_PA, cmd_pa = 0;
    if (!put_str(p, &next_str, cmdline ? cmdline : kernel, &cmd_pa))
        return fail(diag, VTX_ERR_INVALID_ARG, kernel, "%s", "the command line is longer than 3.5 KiB");
    uint32_t mod_next = MOD_PA;
    for (size_t i = 0; i < n_mods; i++) {
        size_t mlen = 0;
        uint8_t *mimg = slurp(mods[i].path, &mlen);
        if (!mimg)
            return fail(diag, VTX_ERR_IO, mods[i].path, "cannot read the module: %s", strerror(errno));
        if (mod_next + mlen > MOD_END) {
            free(mimg);
            return fail(diag, VTX_ERR_INVALID_ARG, mods[i].path, "%s",
                        "the modules do not fit in 0x10000-0x9F000 (572 KiB)");
        }
        memcpy(p->ram + mod_next, mimg, mlen);
        free(mimg);
        uint32_t spa = 0;
        if (!put_str(p, &next_str, mods[i].string ? mods[i].string : mods[i].path, &spa))
            return fail(diag, VTX_ERR_INVALID_ARG, mods[i].path, "%s", "the module strings do not fit");
        uint8_t *e = p->ram + MODS_PA + 16 * i;
        wr32(e, mod_next);
        wr32(e + 4, mod_next + (uint32_t)mlen);
        wr32(e + 8, spa);
        wr32(e + 12, 0);
        mod_next = (uint32_t)((mod_next + mlen + 0xFFF) & ~0xFFFull);
    }
    /* flags: mem (0), cmdline (2), mods (3); mem_lower 639 KiB, mem_upper = RAM above 1 MiB. */
    wr32(mbi + 0, (1u << 0) | (1u << 2) | (1u << 3));
    wr32(mbi + 4, 639);
    wr32(mbi + 8, (uint32_t)((p->ram_bytes - 0x100000) / 1024));
    wr32(mbi + 16, cmd_pa);
    wr32(mbi + 20, (uint32_t)n_mods);
    wr32(mbi + 24, MODS_PA);
    vtx_root_entry e = {.eip = entry, .eax = MB_BOOT_MAGIC, .ebx = MBI_PA};
    st = vtx_root_start(p->m, &e);
    if (st != VTX_OK)
        return fail(diag, st, kernel, "%s", "the processor cannot be put at the entry point");
    return VTX_OK;
}
