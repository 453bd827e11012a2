/* ELF symbol tables (tools/elf_syms.h): the SHT_SYMTAB section and its string
 * table, ELF32 or ELF64, little endian (the System V ABI's layout). Only
 * STT_FUNC and STT_NOTYPE symbols with a non-zero value and a name are kept,
 * sorted by address. Anything malformed gives no symbols, never an error: the
 * symbols only name addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "elf_syms.h"

typedef struct sym {
    uint64_t value, size;
    const char *name;
} sym;

struct elf_syms {
    char *file; /* the file's bytes (names point into it) */
    sym *v;
    size_t n;
};

static uint64_t get(const uint8_t *p, unsigned bytes)
{
    uint64_t x = 0;
    for (unsigned i = bytes; i-- > 0;)
        x = x << 8 | p[i];
    return x;
}

static int by_value(const void *a, const void *b)
{
    const sym *x = a, *y = b;
    return x->value < y->value ? -1 : x->value > y->value ? 1 : strcmp(x->name, y->name);
}

void elf_syms_free(elf_syms *s)
{
    if (!s)
        return;
    free(s->file);
    free(s->v);
    free(s);
}

elf_syms *elf_syms_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = len > 64 && len < (1L << 30) ? malloc((size_t)len + 1) : NULL;
    if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        fclose(f);
        return NULL;
    }
    fclose(f);
    b[len] = 0;
    size_t n = (size_t)len;
    elf_syms *s = calloc(1, sizeof *s);
    if (!s || memcmp(b, "\x7f" "ELF", 4) != 0 || b[5] != 1 || (b[4] != 1 && b[4] != 2))
        goto none;
    s->file = (char *)b;
    bool e64 = b[4] == 2;
    uint64_t shoff = e64 ? get(b + 0x28, 8) : get(b + 0x20, 4);
    unsigned shentsize = (unsigned)get(b + (e64 ? 0x3A : 0x2E), 2), shnum = (unsigned)get(b + (e64 ? 0x3C : 0x30), 2);
    if (!shoff || shentsize < (e64 ? 64u : 40u) || shoff > n || (uint64_t)shnum * shentsize > n - shoff)
        goto none;
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *sh = b + shoff + (uint64_t)i * shentsize;
        if (get(sh + 4, 4) != 2) /* SHT_SYMTAB */
            continue;
        uint64_t off = e64 ? get(sh + 0x18, 8) : get(sh + 0x10, 4), size = e64 ? get(sh + 0x20, 8) : get(sh + 0x14, 4);
        unsigned link = (unsigned)get(sh + (e64 ? 0x28 : 0x18), 4);
        uint64_t entsize = e64 ? get(sh + 0x38, 8) : get(sh + 0x24, 4);
        if (link >= shnum || entsize < (e64 ? 24u : 16u) || off > n || size > n - off)
            continue;
        const uint8_t *st = b + shoff + (uint64_t)link * shentsize;
        uint64_t stroff = e64 ? get(st + 0x18, 8) : get(st + 0x10, 4), strsize = e64 ? get(st + 0x20, 8) : get(st + 0x14, 4);
        if (stroff > n || strsize > n - stroff || !strsize || b[stroff + strsize - 1])
            continue;
        size_t count = (size_t)(size / entsize);
        sym *v = realloc(s->v, (s->n + count) * sizeof *v);
        if (!v)
            goto none;
        s->v = v;
        for (size_t k = 0; k < count; k++) {
            const uint8_t *e = b + off + k * entsize;
            uint64_t name = get(e, 4);
            uint64_t value = e64 ? get(e + 8, 8) : get(e + 4, 4), sz = e64 ? get(e + 16, 8) : get(e + 8, 4);
            unsigned type = (e64 ? e[4] : e[12]) & 0xF;
            if ((type != 0 && type != 2) || !value || !name || name >= strsize)
                continue; /* STT_NOTYPE or STT_FUNC, with a value and a name */
            const char *nm = (const char *)b + stroff + name;
            if (nm[0] == '.' || nm[0] == '$')
                continue;
            v[s->n++] = (sym){value, sz, nm};
        }
    }
    if (!s->n)
        goto none;
    qsort(s->v, s->n, sizeof *s->v, by_value);
    return s;
none:
    if (!s || !s->file)
        free(b);
    elf_syms_free(s);
    return NULL;
}

bool elf_syms_label(void *syms, uint64_t addr, char *buf, size_t size)
{
    const elf_syms *s = syms;
    if (buf && size)
        buf[0] = 0;
    if (!s || !s->n || addr < s->v[0].value)
        return false;
    size_t lo = 0, hi = s->n; /* the last symbol with value <= addr */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->v[mid].value <= addr)
            lo = mid;
        else
            hi = mid;
    }
    const sym *y = &s->v[lo];
    uint64_t end = y->size ? y->value + y->size : lo + 1 < s->n ? s->v[lo + 1].value : y->value + 0x1000;
    if (addr >= end)
        return false;
    if (addr == y->value)
        snprintf(buf, size, "%s", y->name);
    else
        snprintf(buf, size, "%s+0x%llx", y->name, (unsigned long long)(addr - y->value));
    return true;
}

bool elf_syms_address(const elf_syms *s, const char *name, uint64_t *addr)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0) {
            *addr = s->v[i].value;
            return true;
        }
    return false;
}
