/*
 * What `vtxref boot` shows of the guests a bare-metal VMM runs (docs/platform.md
 * "Observing the guests", docs/traces.md "Boot traces"): --explain, --record
 * with `vtxref replay` and `vtxref diff`, --vcd/--html, --vmm-check, and the
 * help. The kernels are the project's own (tests/vmm/), booted by the CLI.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"
#include "vtxref/trace.h"

#define VMM_DIR VTX_GUEST_DIR "/../vmm"

static char *out; /* stdout and stderr of the last command */
static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/vtx-bootobs-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(boot_observe, .init = setup, .fini = teardown);

/* Run vtxref with @p args (NULL-terminated); its exit status, the output in `out`. */
static int vtxref(const char *const *args)
{
    const char *argv[32] = {VTX_CLI_PATH};
    size_t n = 1;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    vt_run r = vt_spawn(argv);
    free(out);
    out = r.out;
    return r.status;
}

static const char *kernel(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s.elf", VMM_DIR, name);
    cr_assert_eq(access(buf, R_OK), 0, "%s: %s (build the vtx_vmm_kernels target)", buf, strerror(errno));
    return buf;
}

static char *path_in(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

static void spill(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* The boundary line of the explanation at address @p addr after @p from, or NULL. */
static const char *boundary_at(const char *from, unsigned long long addr)
{
    char needle[40];
    snprintf(needle, sizeof needle, "  0x%llx ", addr);
    const char *p = strstr(from, needle);
    return p;
}

Test(boot_observe, explain_names_the_boundary_where_the_window_opens_and_its_exit)
{
    VTX_COVERS("IW-1", "BLK-STI-2");
    char k[512], ex[512];
    int st = vtxref((const char *[]){"boot", kernel("intr_window", k, sizeof k), "--explain", path_in("x.txt", ex, sizeof ex),
                                     NULL});
    cr_assert_eq(st, 0, "%s", out);
    char *text = slurp(ex);
    /* Written under a temporary name and renamed: nothing else is left in the directory. */
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int others = 0;
    for (struct dirent *de; (de = readdir(d));)
        others += de->d_name[0] != '.' && strcmp(de->d_name, "x.txt") != 0;
    closedir(d);
    cr_expect_eq(others, 0, "a temporary file was left beside x.txt");
    /* Case 2 of intr_window: IF = 0, then `sti; mov ebx, 2`; the exit comes before the next instruction. */
    const char *sti = strstr(text, " sti ");
    cr_assert_not_null(sti, "no sti boundary in:\n%s", text);
    const char *line = sti;
    while (line > text && line[-1] != '\n')
        line--;
    unsigned long long a = 0, count = 0;
    cr_assert_eq(sscanf(line, "%llu 0x%llx", &count, &a), 2, "%.200s", line);
    const char *shadow = boundary_at(sti, a + 1);
    cr_assert_not_null(shadow, "no boundary at 0x%llx after the sti:\n%s", a + 1, text);
    cr_expect_not_null(strstr(shadow, "IF=1 STI"), "%.300s", shadow);
    const char *exit_b = boundary_at(shadow, a + 6);
    cr_assert_not_null(exit_b, "no boundary at 0x%llx (after the instruction in the shadow)", a + 6);
    cr_expect_eq(strncmp(strstr(exit_b, "->"), "-> VM exit", 10), 0, "%.300s", exit_b);
    cr_expect_not_null(strstr(exit_b, "interrupt window is open: it wins the boundary and causes a VM exit (IW-1)"));
    const char *x = strstr(exit_b, "VM exit 2: INTERRUPT_WINDOW (reason 7");
    cr_assert_not_null(x, "%.600s", exit_b);
    char rip[64];
    snprintf(rip, sizeof rip, "rip              0x%llx\n", a + 6);
    cr_expect_not_null(strstr(x, rip), "the exit's RIP is not 0x%llx:\n%.600s", a + 6, x);
    /* What the host did before the entry: the VMRESUME and its VMWRITEs, decoded. */
    cr_expect_not_null(strstr(text, "VM entry 2: VMRESUME at guest RIP"));
    cr_expect_not_null(strstr(text, "VMWRITE PROC_CONTROLS = 0x"));
    cr_expect_not_null(strstr(text, "interrupt-window exiting off"));
    /* --from/--to by guest RIP limit the boundaries shown. */
    char from[32], to[32];
    snprintf(from, sizeof from, "0x%llx", a);
    snprintf(to, sizeof to, "0x%llx", a + 6);
    st = vtxref((const char *[]){"boot", k, "--explain", "-", "--from", from, "--to", to, NULL});
    cr_assert_eq(st, 0, "%s", out);
    cr_expect_not_null(strstr(out, "boundaries before --from not shown"), "%s", out);
    cr_expect_not_null(strstr(out, "VM exit 2: INTERRUPT_WINDOW"), "%s", out);
    cr_expect_null(strstr(out, "VM exit 3:"), "%s", out);
    cr_expect_null(strstr(out, "VM exit 1:"), "%s", out);
    free(text);
}

Test(boot_observe, record_then_replay_matches_and_diff_is_equal)
{
    char k[512], t[512], t2[512];
    cr_assert_eq(vtxref((const char *[]){"boot", kernel("intr_window", k, sizeof k), "--record", path_in("a.trace", t, sizeof t),
                                         NULL}),
                 0, "%s", out);
    cr_assert_eq(vtxref((const char *[]){"replay", t, NULL}), 0, "%s", out);
    cr_expect_not_null(strstr(out, "every record matches"), "%s", out);
    /* The replayed run in sentences. */
    cr_assert_eq(vtxref((const char *[]){"replay", t, "--explain", "-", NULL}), 0, "%s", out);
    cr_expect_not_null(strstr(out, "VM exit 2: INTERRUPT_WINDOW (reason 7"), "%s", out);
    cr_assert_eq(vtxref((const char *[]){"boot", k, "--record", path_in("b.trace", t2, sizeof t2), NULL}), 0, "%s", out);
    cr_expect_eq(vtxref((const char *[]){"diff", t, t2, NULL}), 0, "%s", out);
    /* The header names the kernel with its SHA-256; the reader decodes it. */
    vtx_trace_reader *rd;
    vtx_trace_error err;
    cr_assert_eq(vtx_trace_reader_open(t, &rd, &err), VTX_OK);
    vtx_trace_record *rec = malloc(sizeof *rec);
    cr_assert_eq(vtx_trace_next(rd, rec, &err), VTX_OK, "%s", err.message);
    cr_assert_not_null(rec->boot);
    char sha[65];
    cr_assert_eq(vtx_trace_sha256_file(k, sha, NULL), VTX_OK);
    cr_expect_str_eq(rec->boot->kernel_sha256, sha);
    cr_expect_str_eq(rec->boot->kernel, k);
    cr_expect_str_eq(rec->boot->profile, "server");
    uint64_t exits = 0;
    vtx_status st;
    while ((st = vtx_trace_next(rd, rec, &err)) == VTX_OK)
        exits = rec->type == VTX_TR_END ? rec->exits : exits;
    cr_expect_eq(st, VTX_ERR_NOT_FOUND, "%s:%ld: %s", err.file, err.line, err.message);
    cr_expect_eq(exits, 8); /* intr_window: 9 entries, one VMfailValid(26) */
    /* The library's replay of scenario traces refuses a boot trace by name (vtxref replay boots it). */
    vtx_replay_result *res = malloc(sizeof *res);
    cr_expect_eq(vtx_trace_replay(t, NULL, res, &err), VTX_ERR_UNSUPPORTED);
    cr_expect_not_null(strstr(err.message, "a boot trace of"), "%s", err.message);
    free(res);
    vtx_trace_reader_close(rd);
    free(rec);
}

Test(boot_observe, sha256_of_known_messages)
{
    char h[65];
    vtx_trace_sha256("abc", 3, h);
    cr_expect_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    vtx_trace_sha256("", 0, h);
    cr_expect_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes: two blocks */
    vtx_trace_sha256(two, strlen(two), h);
    cr_expect_str_eq(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(boot_observe, a_trace_edited_by_one_field_diverges_there)
{
    char k[512], t[512], e[512];
    cr_assert_eq(vtxref((const char *[]){"boot", kernel("intr_window", k, sizeof k), "--record", path_in("a.trace", t, sizeof t),
                                         NULL}),
                 0, "%s", out);
    char *text = slurp(t);
    /* The second exit's reason: 7 (interrupt window) -> 1. */
    char *x = strstr(text, "\"type\":\"exit\",\"index\":2,\"reason\":\"0x7\"");
    cr_assert_not_null(x);
    long line = 1;
    for (char *p = text; p < x; p++)
        line += *p == '\n';
    strstr(x, "0x7")[2] = '1';
    spill(path_in("edited.trace", e, sizeof e), text, strlen(text));
    cr_assert_eq(vtxref((const char *[]){"replay", e, NULL}), 1, "%s", out);
    char where[1200];
    snprintf(where, sizeof where, "%s:%ld: the replayed run differs from the trace at entry 2 (after 1 matching outcome)",
             e, line);
    cr_expect_not_null(strstr(out, where), "no '%s' in:\n%s", where, out);
    cr_expect_not_null(strstr(out, "reason: expected \"0x1\", got \"0x7\""), "%s", out);
    cr_expect_not_null(strstr(out, "the last instruction boundaries before it:"), "%s", out);
    cr_expect_eq(vtxref((const char *[]){"diff", t, e, NULL}), 1, "%s", out);
    free(text);
}

Test(boot_observe, a_changed_or_missing_kernel_is_a_clear_error)
{
    char k[512], copy[512], t[512];
    char *img = slurp(kernel("intr_window", k, sizeof k));
    FILE *f = fopen(k, "rb");
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fclose(f);
    spill(path_in("k.elf", copy, sizeof copy), img, n);
    cr_assert_eq(vtxref((const char *[]){"boot", copy, "--record", path_in("k.trace", t, sizeof t), NULL}), 0, "%s", out);
    /* One byte of the guest's code: `sti; mov ebx, 2` becomes `sti; mov ebx, 5`. */
    static const unsigned char pat[] = {0xFB, 0xBB, 0x02, 0x00, 0x00, 0x00};
    unsigned char *p = NULL;
    for (size_t i = 0; !p && i + sizeof pat <= n; i++)
        if (memcmp(img + i, pat, sizeof pat) == 0)
            p = (unsigned char *)img + i;
    cr_assert_not_null(p);
    p[2] = 0x05;
    spill(copy, img, n);
    cr_assert_eq(vtxref((const char *[]){"replay", t, NULL}), 3, "%s", out);
    cr_expect_not_null(strstr(out, "changed since the recording: SHA-256"), "%s", out);
    cr_assert_eq(vtxref((const char *[]){"replay", t, "--allow-changed", NULL}), 1, "%s", out);
    cr_expect_not_null(strstr(out, "the replayed run differs from the trace at entry 2"), "%s", out);
    cr_expect_not_null(strstr(out, "gprs.rbx: expected \"0x2\", got \"0x5\""), "%s", out);
    /* diff compares the runs of the two versions record by record, and says the kernels differ. */
    char t2[512];
    /* (exit 1: the changed kernel's own check of RBX fails) */
    cr_assert_eq(vtxref((const char *[]){"boot", copy, "--record", path_in("k2.trace", t2, sizeof t2), NULL}), 1, "%s", out);
    cr_assert_eq(vtxref((const char *[]){"diff", t, t2, NULL}), 1, "%s", out);
    cr_expect_not_null(strstr(out, "note: the traces boot different kernels"), "%s", out);
    cr_expect_not_null(strstr(out, "gprs.rbx: expected \"0x2\", got \"0x5\""), "%s", out);
    unlink(copy);
    cr_assert_eq(vtxref((const char *[]){"replay", t, NULL}), 4, "%s", out);
    cr_expect_not_null(strstr(out, "cannot be read"), "%s", out);
    free(img);
}

Test(boot_observe, vmm_check_names_a_forced_injection_hardware_lets_through)
{
    char k[512];
    /* The kernel's own checks pass: the bug is invisible to it. */
    cr_assert_eq(vtxref((const char *[]){"boot", kernel("forced_if", k, sizeof k), NULL}), 0, "%s", out);
    cr_assert_eq(vtxref((const char *[]){"boot", k, "--vmm-check", NULL}), 107, "%s", out);
    cr_expect_not_null(strstr(out, "vmm-check: error FORCED_INJECTION_IF at exit 1 (VMCALL, RIP 0x"), "%s", out);
    cr_expect_not_null(strstr(out, "vmm-check: 1 error, 0 warnings"), "%s", out);
    /* In the explanation, where it happens: after the host's VMWRITEs, before the entry's first boundary. */
    cr_assert_eq(vtxref((const char *[]){"boot", k, "--vmm-check", "--explain", "-", NULL}), 107, "%s", out);
    const char *w = strstr(out, "VMWRITE GUEST_RFLAGS = 0x202: the guest's IF = 1");
    const char *f = strstr(out, "VMM CHECK: error FORCED_INJECTION_IF");
    cr_assert_not_null(w, "%s", out);
    cr_assert_not_null(f, "%s", out);
    cr_expect_lt(w, f);
    cr_expect_not_null(strstr(w, "VMWRITE ENTRY_INTR_INFO = 0x80000040: inject external interrupt 0x40"));
}

Test(boot_observe, the_project_kernels_run_clean_under_the_checker)
{
    static const char *const names[] = {"intr_window", "nmi_window", "inject"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char k[512];
        cr_expect_eq(vtxref((const char *[]){"boot", kernel(names[i], k, sizeof k), "--vmm-check", NULL}), 0, "%s: %s",
                     names[i], out);
        cr_expect_not_null(strstr(out, "vmm-check: 0 errors, 0 warnings"), "%s: %s", names[i], out);
    }
}

Test(boot_observe, pictures_show_the_guest_windows_and_exits)
{
    char k[512], v[512], h[512];
    cr_assert_eq(vtxref((const char *[]){"boot", kernel("intr_window", k, sizeof k), "--vcd", path_in("r.vcd", v, sizeof v),
                                         "--html", path_in("r.html", h, sizeof h), NULL}),
                 0, "%s", out);
    char *vcd = slurp(v), *html = slurp(h);
    cr_expect_not_null(strstr(vcd, "intr_window_exiting"));
    cr_expect_not_null(strstr(vcd, "b111 "), "no exit reason 7 in the waveform"); /* exit_reason = 7 */
    cr_expect_not_null(strstr(html, "INTERRUPT_WINDOW"));
    free(vcd);
    free(html);
}

Test(boot_observe, help)
{
    cr_expect_eq(vtxref((const char *[]){"boot", "--help", NULL}), 0, "%s", out);
    cr_expect_not_null(strstr(out, "usage: "), "%s", out);
    cr_expect_not_null(strstr(out, "107 --vmm-check found an"), "%s", out);
    cr_expect_eq(vtxref((const char *[]){"--help", NULL}), 0);
    cr_expect_not_null(strstr(out, "\n  boot KERNEL"), "%s", out);
    cr_expect_eq(vtxref((const char *[]){"boot", "x.elf", "--from", "5", NULL}), 120, "%s", out);
}

/* The reader checks the boot member of the header (traces/boot.c); the fuzz seed is a valid boot trace. */
Test(boot_observe, the_reader_checks_the_boot_header)
{
    char *seed = slurp(VTX_SOURCE_DIR "/tests/fuzz/trace/boot.trace");
    static const struct {
        const char *from, *to, *why;
    } cases[] = {
        {NULL, NULL, NULL},
        {"\"sha256\":\"e3", "\"sha256\":\"E3", "member 'sha256' is not 64 lowercase hex digits"},
        {"\"open_bus\":false", "\"open_bus\":0", "member 'open_bus' is missing or not true/false"},
        {"\"modules\":[]", "\"modules\":{}", "member 'modules' must be an array"},
        {"\"ram_mib\":128", "\"ram_mib\":128,\"ram\":1", "unknown member 'ram' in 'boot'"},
        {"\"cmdline\":", "\"cmdlin\":", "unknown member 'cmdlin'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[1 << 14];
        cr_assert_lt(strlen(seed) + 64, sizeof buf);
        strcpy(buf, seed);
        if (cases[i].from) {
            char *p = strstr(buf, cases[i].from);
            cr_assert_not_null(p, "%s", cases[i].from);
            size_t fl = strlen(cases[i].from), tl = strlen(cases[i].to);
            memmove(p + tl, p + fl, strlen(p + fl) + 1);
            memcpy(p, cases[i].to, tl);
        }
        vtx_trace_reader *rd;
        vtx_trace_error err = {0};
        cr_assert_eq(vtx_trace_reader_open_mem(buf, strlen(buf), "boot.trace", &rd, &err), VTX_OK);
        vtx_trace_record *rec = malloc(sizeof *rec);
        vtx_status st;
        int n = 0;
        while ((st = vtx_trace_next(rd, rec, &err)) == VTX_OK)
            n++;
        if (!cases[i].why) {
            cr_expect_eq(st, VTX_ERR_NOT_FOUND, "%s:%ld: %s", err.file, err.line, err.message);
            cr_expect_eq(n, 8);
        } else {
            cr_expect_eq(st, VTX_ERR_PARSE, "case %zu", i);
            cr_expect_eq(err.line, 1);
            cr_expect_not_null(strstr(err.message, cases[i].why), "case %zu: %s", i, err.message);
        }
        vtx_trace_reader_close(rd);
        free(rec);
    }
    /* vtxref replay refuses it as malformed (exit 3), naming the line. */
    char t[512];
    char *bad = strstr(seed, "\"sha256\":\"e3");
    cr_assert_not_null(bad);
    bad[10] = 'E';
    spill(path_in("bad.trace", t, sizeof t), seed, strlen(seed));
    cr_expect_eq(vtxref((const char *[]){"replay", t, NULL}), 3, "%s", out);
    cr_expect_not_null(strstr(out, "bad.trace:1: header record: member 'boot'"), "%s", out);
    free(seed);
}

/* Append a symbol table (.symtab, .strtab, .shstrtab and the section headers) naming @p value
 * @p name to the ELF32 kernel at @p path, which has no sections (the nasm images). */
static void add_symbol(const char *path, const char *name, uint32_t value)
{
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    while (end % 4) {
        fputc(0, f);
        end++;
    }
    uint8_t strtab[64] = {0}, shstr[] = "\0.symtab\0.strtab\0.shstrtab";
    size_t nl = strlen(name);
    memcpy(strtab + 1, name, nl);
    uint32_t strtab_size = (uint32_t)((nl + 2 + 3) & ~3u);
    uint8_t sym[32] = {0}; /* the null symbol, then ours: name 1, value, size 0, STB_GLOBAL | STT_FUNC, shndx 1 */
    sym[16] = 1;
    memcpy(sym + 20, &value, 4);
    sym[28] = 0x12;
    sym[30] = 1;
    uint32_t off_sym = (uint32_t)end, off_str = off_sym + 32, off_shstr = off_str + strtab_size;
    uint32_t off_sh = (off_shstr + (uint32_t)sizeof shstr + 3) & ~3u;
    fwrite(sym, 1, 32, f);
    fwrite(strtab, 1, strtab_size, f);
    fwrite(shstr, 1, sizeof shstr, f);
    for (uint32_t p = off_shstr + (uint32_t)sizeof shstr; p < off_sh; p++)
        fputc(0, f);
    uint32_t sh[4][10] = {
        {0},
        {1, 2, 0, 0, off_sym, 32, 2, 1, 4, 16},            /* .symtab: link .strtab, one local (the null) */
        {9, 3, 0, 0, off_str, strtab_size, 0, 0, 1, 0},    /* .strtab */
        {17, 3, 0, 0, off_shstr, (uint32_t)sizeof shstr, 0, 0, 1, 0},
    };
    fwrite(sh, 1, sizeof sh, f);
    uint16_t shentsize = 40, shnum = 4, shstrndx = 3;
    fseek(f, 0x20, SEEK_SET);
    fwrite(&off_sh, 4, 1, f);
    fseek(f, 0x2E, SEEK_SET);
    fwrite(&shentsize, 2, 1, f);
    fwrite(&shnum, 2, 1, f);
    fwrite(&shstrndx, 2, 1, f);
    fclose(f);
}

Test(boot_observe, explain_names_guest_addresses_by_the_kernels_symbols)
{
    char k[512], copy[512];
    char *img = slurp(kernel("intr_window", k, sizeof k));
    FILE *f = fopen(k, "rb");
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fclose(f);
    static const unsigned char pat[] = {0xFB, 0xBB, 0x02, 0x00, 0x00, 0x00}; /* sti; mov ebx, 2 */
    long at = -1;
    for (size_t i = 0; at < 0 && i + sizeof pat <= n; i++)
        if (memcmp(img + i, pat, sizeof pat) == 0)
            at = (long)i;
    cr_assert_geq(at, 0);
    uint32_t sti = 0x100000u + (uint32_t)at; /* one PT_LOAD of the whole file at 1 MiB (tests/vmm/boot.inc) */
    spill(path_in("k.elf", copy, sizeof copy), img, n);
    add_symbol(copy, "case2_sti", sti);
    cr_assert_eq(vtxref((const char *[]){"boot", copy, "--explain", "-", "--from", "case2_sti", "--to", "case2_sti+6",
                                         NULL}),
                 0, "%s", out);
    char want[200];
    snprintf(want, sizeof want, "  0x%x (case2_sti)", sti);
    cr_expect_not_null(strstr(out, want), "no '%s' in:\n%s", want, out);
    snprintf(want, sizeof want, "  0x%x (case2_sti+0x1)", sti + 1);
    cr_expect_not_null(strstr(out, want), "no '%s' in:\n%s", want, out);
    snprintf(want, sizeof want, "rip              0x%x (case2_sti+0x6)", sti + 6);
    cr_expect_not_null(strstr(out, want), "no '%s' in:\n%s", want, out);
    cr_expect_null(strstr(out, "VM exit 3:"), "%s", out);
    cr_expect_eq(vtxref((const char *[]){"boot", copy, "--explain", "-", "--from", "nosuch", NULL}), 120, "%s", out);
    cr_expect_not_null(strstr(out, "'nosuch' is not a symbol of"), "%s", out);
    cr_expect_eq(vtxref((const char *[]){"boot", k, "--explain", "-", "--from", "case2_sti", NULL}), 120, "%s", out);
    cr_expect_not_null(strstr(out, "(it has no symbol table)"), "%s", out);
    free(img);
}
