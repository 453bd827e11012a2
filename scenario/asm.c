/* The guest's nasm source -> bytes and labels. Each block is assembled on its own
 * (`bits N`, `org ADDR`) in a private temporary directory; nasm's `%line` makes
 * its messages name the scenario file's own lines, and `[map symbols]` lists the
 * labels. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "scenario_internal.h"

enum { MAX_OUTPUT = 4 << 20, NASM_CPU_SECONDS = 20 };

/* nasm on PATH, or false. */
static bool find_nasm(char *out, size_t size)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        if (n > 0 && n + 6 < size) {
            snprintf(out, size, "%.*s/nasm", (int)n, path);
            if (access(out, X_OK) == 0)
                return true;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return false;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = (n + 4096 + 1) * 2;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r < 4096)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Run nasm; its stdout and stderr go to @p log. Returns its exit status, or -1 (not run), or 128+signal. */
static int run_nasm(const char *nasm, const char *src, const char *bin, const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        struct rlimit fs = {MAX_OUTPUT, MAX_OUTPUT}, cpu = {NASM_CPU_SECONDS, NASM_CPU_SECONDS};
        setrlimit(RLIMIT_FSIZE, &fs);
        setrlimit(RLIMIT_CPU, &cpu);
        char *const argv[] = {(char *)nasm, "-f", "bin", "-w-all", "-o", (char *)bin, (char *)src, NULL};
        execv(nasm, argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* Column of the first non-blank character of file line @p line (1-based), or 1. */
static int first_col(const char *text, size_t len, int line)
{
    int l = 1;
    size_t i = 0;
    while (i < len && l < line)
        if (text[i++] == '\n')
            l++;
    int col = 1;
    while (i < len && (text[i] == ' ' || text[i] == '\t'))
        i++, col++;
    return i < len && text[i] != '\n' ? col : 1;
}

/* The first error of nasm's output: its line and message. */
static bool nasm_error(const char *out, int *line, const char **msg, size_t *msglen)
{
    for (const char *p = out; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        static const char *const kinds[] = {": error: ", ": fatal: ", ": panic: "};
        for (int k = 0; k < 3; k++) {
            const char *e = NULL;
            for (const char *q = p; q + strlen(kinds[k]) <= p + n; q++)
                if (strncmp(q, kinds[k], strlen(kinds[k])) == 0) {
                    e = q;
                    break;
                }
            if (!e)
                continue;
            const char *d = e;
            while (d > p && d[-1] >= '0' && d[-1] <= '9')
                d--;
            *line = (d < e && d > p && d[-1] == ':') ? atoi(d) : 0;
            *msg = e + strlen(kinds[k]);
            *msglen = (size_t)(p + n - *msg);
            return true;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    return false;
}

static bool add_label(vtx_scenario *s, const char *name, size_t nlen, uint64_t value, uint64_t linear, size_t block)
{
    scn_label *l = scn_push((void **)&s->labels, &s->nlabels, sizeof *l);
    if (!l)
        return false;
    l->name = scn_strndup(name, nlen);
    l->value = value;
    l->linear = linear;
    l->block = block;
    return l->name != NULL;
}

/* The map file's symbols: rows "REAL VIRTUAL NAME" in the section tables. */
static bool read_map(vtx_scenario *s, size_t bi, const char *map)
{
    const scn_block *b = &s->blocks[bi];
    bool in_section = false;
    for (const char *p = map; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        if (strncmp(line, "---- Section", 12) == 0)
            in_section = true;
        else if (strncmp(line, "----", 4) == 0 || strncmp(line, "--", 2) == 0)
            in_section = false;
        else if (in_section) {
            char name[256];
            unsigned long long real, virt;
            if (sscanf(line, "%llx %llx %255s", &real, &virt, name) == 3 && strcmp(name, "Name") != 0) {
                uint64_t linear = b->linear + (virt - b->org);
                if (!add_label(s, name, strlen(name), virt, linear, bi))
                    return false;
            }
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    return true;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[1024];
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static vtx_status assemble_one(vtx_scenario *s, size_t bi, const char *nasm, const char *dir, const char *text,
                               size_t len, vtx_scenario_error *err)
{
    scn_block *b = &s->blocks[bi];
    char src[512], bin[512], log[512], map[512];
    snprintf(src, sizeof src, "%s/b%zu.asm", dir, bi);
    snprintf(bin, sizeof bin, "%s/b%zu.bin", dir, bi);
    snprintf(log, sizeof log, "%s/b%zu.log", dir, bi);
    snprintf(map, sizeof map, "%s/b%zu.map", dir, bi);
    FILE *f = fopen(src, "w");
    if (!f)
        return scn_fail(err, NULL, 0, 0, "cannot write a temporary file %s: %s", src, strerror(errno)), VTX_ERR_IO;
    /* Source lines of a literal block scalar are consecutive file lines (`%line N+1`: the
     * next line is N + 1); any other scalar is one place (`+0`). The file name nasm
     * prints is a fixed word: only the line number is read back, and the scenario's
     * own name could hold anything. */
    fprintf(f, "[map symbols %s]\nbits %u\norg 0x%llx\n%%line %d+%d scenario\n%s\n", map, b->bits,
            (unsigned long long)b->org, b->literal ? b->first_line - 1 : b->first_line, b->literal ? 1 : 0, b->src);
    if (fclose(f) != 0)
        return scn_fail(err, NULL, 0, 0, "cannot write a temporary file %s", src), VTX_ERR_IO;
    int rc = run_nasm(nasm, src, bin, log);
    size_t olen = 0;
    char *out = read_all(log, &olen);
    if (rc != 0) {
        int line = 0;
        const char *msg = NULL;
        size_t mlen = 0;
        vtx_status st;
        if (rc == -1 || rc == 127)
            st = scn_fail(err, NULL, b->first_line, b->col, "could not run nasm (%s) for %s", nasm, b->what);
        else if (rc > 128)
            st = scn_fail(err, NULL, b->first_line, b->col,
                          "nasm was stopped (signal %d) assembling %s: output over %d MiB or over %d s of CPU?", rc - 128,
                          b->what, MAX_OUTPUT >> 20, NASM_CPU_SECONDS);
        else if (out && nasm_error(out, &line, &msg, &mlen)) {
            if (line <= 0)
                line = b->first_line;
            int col = b->literal ? first_col(text, len, line) : b->col;
            st = scn_fail(err, NULL, line, col, "nasm (%s): %.*s", b->what, (int)(mlen > 300 ? 300 : mlen), msg);
        } else {
            st = scn_fail(err, NULL, b->first_line, b->col, "nasm failed on %s: %.200s", b->what,
                          out && *out ? out : "no message");
        }
        free(out);
        return st;
    }
    free(out);
    size_t blen = 0;
    uint8_t *bytes = (uint8_t *)read_all(bin, &blen);
    if (!bytes)
        return scn_fail(err, NULL, b->first_line, b->col, "nasm wrote no output for %s", b->what);
    b->bytes = bytes;
    b->size = blen;
    if (b->max_size && blen > b->max_size)
        return scn_fail(err, NULL, b->first_line, b->col, "%s is %zu bytes; it has room for %zu at 0x%llx", b->what,
                        blen, b->max_size, (unsigned long long)b->linear);
    if (b->linear + blen > SCN_RAM_SIZE)
        return scn_fail(err, NULL, b->first_line, b->col, "%s (0x%llx + %zu bytes) does not fit in the 4-MiB RAM",
                        b->what, (unsigned long long)b->linear, blen);
    /* handler_0xNN names the handler's first byte */
    if (strncmp(b->what, "handler_", 8) == 0 && !add_label(s, b->what, strlen(b->what), b->org, b->linear, bi))
        return VTX_ERR_NO_MEMORY;
    size_t mlen = 0;
    char *m = read_all(map, &mlen);
    bool ok = !m || read_map(s, bi, m);
    free(m);
    return ok ? VTX_OK : VTX_ERR_NO_MEMORY;
}

vtx_status scn_assemble(vtx_scenario *s, size_t first_block, const char *text, size_t len, vtx_scenario_error *err)
{
    if (first_block >= s->nblocks)
        return VTX_OK;
    char nasm[512];
    if (!find_nasm(nasm, sizeof nasm)) {
        scn_fail(err, NULL, 0, 0, "nasm is not installed: apt-get install nasm");
        return VTX_ERR_UNSUPPORTED;
    }
    const char *tmp = getenv("TMPDIR");
    char dir[400];
    /* the directory's name goes into nasm's [map] directive: keep it plain */
    if (!tmp || !*tmp || strlen(tmp) >= 300 || strpbrk(tmp, " \t\n\"'[];%"))
        tmp = "/tmp";
    snprintf(dir, sizeof dir, "%s/vtxref-scenario-XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        scn_fail(err, NULL, 0, 0, "cannot create a temporary directory %s: %s", dir, strerror(errno));
        return VTX_ERR_IO;
    }
    vtx_status st = VTX_OK;
    for (size_t i = first_block; st == VTX_OK && i < s->nblocks; i++)
        st = assemble_one(s, i, nasm, dir, text, len, err);
    remove_dir(dir);
    return st;
}

vtx_status scn_stub_labels(vtx_scenario *s)
{
    if (s->default_handler == SCN_DEF_NOT_PRESENT)
        return VTX_OK;
    scn_block *b = scn_push((void **)&s->blocks, &s->nblocks, sizeof *b);
    if (!b)
        return VTX_ERR_NO_MEMORY;
    const uint64_t base = s->bits == 16 ? s->seg_base + SCN_SEG16_STUBS : SCN_STUBS;
    b->what = scn_strdup("default handlers");
    b->linear = base;
    b->org = s->bits == 16 ? base - s->seg_base : base;
    b->bits = s->bits;
    b->size = 256 * 16; /* the bytes are written by env.c */
    if (!b->what)
        return VTX_ERR_NO_MEMORY;
    const size_t bi = s->nblocks - 1;
    for (unsigned v = 0; v < 256; v++) {
        if (s->handler_block[v] >= 0)
            continue;
        char name[32];
        snprintf(name, sizeof name, "default_0x%02x", v);
        if (!add_label(s, name, strlen(name), b->org + 16u * v, base + 16u * v, bi))
            return VTX_ERR_NO_MEMORY;
    }
    return VTX_OK;
}

/* The code and the handlers must not overlap each other or the loader's tables. */
vtx_status scn_check_layout(const vtx_scenario *s, vtx_scenario_error *err)
{
    struct area {
        uint64_t lo, hi;
        const char *what;
    } fixed[7];
    size_t nf = 0;
    if (s->mode == SCN_REAL)
        fixed[nf++] = (struct area){0, 0x400, "the IVT"};
    fixed[nf++] = (struct area){SCN_GDT, SCN_TSS + 0x68, "the GDT and TSS"};
    if (s->mode != SCN_REAL)
        fixed[nf++] = (struct area){SCN_IDT, SCN_IDT + (s->mode == SCN_LONG64 ? 0x1000u : 0x800u), "the IDT"};
    if (s->mode == SCN_LONG64 || s->mode == SCN_PM32_PAGING)
        fixed[nf++] = (struct area){SCN_PAGING, SCN_PAGING + (s->mode == SCN_LONG64 ? 0x3000u : 0x1000u),
                                    "the page tables"};
    if (s->default_handler != SCN_DEF_NOT_PRESENT) {
        const uint64_t stubs = s->bits == 16 ? s->seg_base + SCN_SEG16_STUBS : SCN_STUBS;
        fixed[nf++] = (struct area){stubs, stubs + 0x1000, "the default handlers"};
    }
    for (size_t i = 0; i < s->nblocks; i++) {
        const scn_block *b = &s->blocks[i];
        if (!b->src || !b->size || strncmp(b->what, "memory", 6) == 0)
            continue;
        for (size_t f = 0; f < nf; f++)
            if (b->linear < fixed[f].hi && fixed[f].lo < b->linear + b->size)
                return scn_fail(err, NULL, b->first_line, b->col,
                                "%s (0x%llx..0x%llx) overlaps %s (0x%llx..0x%llx); move it with code_at", b->what,
                                (unsigned long long)b->linear, (unsigned long long)(b->linear + b->size),
                                fixed[f].what, (unsigned long long)fixed[f].lo, (unsigned long long)fixed[f].hi);
        for (size_t j = 0; j < i; j++) {
            const scn_block *o = &s->blocks[j];
            if (o->src && o->size && strncmp(o->what, "memory", 6) != 0 && b->linear < o->linear + o->size &&
                o->linear < b->linear + b->size)
                return scn_fail(err, NULL, b->first_line, b->col, "%s (0x%llx..0x%llx) overlaps %s (0x%llx..0x%llx)",
                                b->what, (unsigned long long)b->linear, (unsigned long long)(b->linear + b->size),
                                o->what, (unsigned long long)o->linear, (unsigned long long)(o->linear + o->size));
        }
    }
    return VTX_OK;
}
