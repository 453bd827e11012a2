#include "helpers.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

vtx_profile vt_profile_copy(const char *name)
{
    const vtx_profile *p;
    cr_assert_eq(vtx_profile_find(name, &p, NULL), VTX_OK, "built-in profile %s exists", name);
    return *p;
}

void vt_setup_config(vt_env *e, const vtx_machine_config *cfg)
{
    memset(e, 0, sizeof *e);
    e->profile = cfg->profile;
    e->rev = vtx_basic_revision(cfg->profile.msr[VTX_CAP_IA32_VMX_BASIC]);
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_create(cfg, &e->m, &d), VTX_OK, "machine on profile %s: %s", cfg->profile.name,
                 d.message);
    e->ram = aligned_alloc(4096, VT_RAM_SIZE);
    cr_assert_not_null(e->ram);
    memset(e->ram, 0, VT_RAM_SIZE);
    cr_assert_eq(vtx_machine_map(e->m, 0, VT_RAM_SIZE, e->ram, VTX_MEM_RWX, &d), VTX_OK, "%s", d.message);
}

void vt_setup_profile(vt_env *e, const vtx_profile *p)
{
    vtx_machine_config cfg;
    cr_assert_eq(vtx_machine_config_init(&cfg, p), VTX_OK);
    vt_setup_config(e, &cfg);
}

void vt_setup(vt_env *e, const char *profile)
{
    vtx_profile p = vt_profile_copy(profile);
    vt_setup_profile(e, &p);
}

void vt_teardown(vt_env *e)
{
    vtx_machine_destroy(e->m);
    free(e->ram);
    e->m = NULL;
    e->ram = NULL;
}

void vt_poke32(vt_env *e, uint64_t pa, uint32_t v)
{
    cr_assert_eq(vtx_machine_write_phys(e->m, pa, &v, sizeof v, NULL), VTX_OK);
}

void vt_expect(const char *step, vtx_status st, const vtx_insn_result *r, vtx_insn_outcome outcome,
               uint32_t vm_error)
{
    char got[400];
    vtx_insn_result_format(r, got, sizeof got);
    cr_assert_eq(st, VTX_OK, "%s: the call failed with %s (%s)", step, vtx_status_name(st), r->why);
    if (outcome == VTX_VMFAIL_VALID)
        cr_assert(r->outcome == outcome && r->vm_error == vm_error, "%s: expected VMfailValid(%u), got %s",
                  step, vm_error, got);
    else
        cr_assert(r->outcome == outcome, "%s: expected %s, got %s", step, vtx_insn_outcome_name(outcome), got);
    /* The flags are part of the outcome (SDM VMX instruction conventions). */
    uint64_t cf = r->rflags & VTX_RFLAGS_CF, zf = r->rflags & VTX_RFLAGS_ZF;
    if (outcome == VTX_VMSUCCEED)
        cr_assert(!cf && !zf, "%s: VMsucceed must clear CF and ZF (RFLAGS 0x%llx)", step,
                  (unsigned long long)r->rflags);
    if (outcome == VTX_VMFAIL_INVALID)
        cr_assert(cf && !zf, "%s: VMfailInvalid must set CF, clear ZF (RFLAGS 0x%llx)", step,
                  (unsigned long long)r->rflags);
    if (outcome == VTX_VMFAIL_VALID)
        cr_assert(zf && !cf, "%s: VMfailValid must set ZF, clear CF (RFLAGS 0x%llx)", step,
                  (unsigned long long)r->rflags);
}

void vt_expect_fault(const char *step, vtx_status st, const vtx_insn_result *r, uint8_t vector)
{
    char got[400];
    vtx_insn_result_format(r, got, sizeof got);
    cr_assert_eq(st, VTX_OK, "%s: the call failed with %s", step, vtx_status_name(st));
    cr_assert(r->outcome == VTX_INSN_FAULT && r->fault_vector == vector, "%s: expected %s, got %s", step,
              vector == 6 ? "#UD" : "#GP(0)", got);
}

void vt_vmxon(vt_env *e)
{
    vtx_insn_result r;
    vt_poke32(e, VT_VMXON_PA, e->rev);
    vt_expect("VMXON", vtx_vmxon(e->m, VT_VMXON_PA, &r), &r, VTX_VMSUCCEED, 0);
}

void vt_load_vmcs(vt_env *e, uint64_t pa)
{
    vtx_insn_result r;
    vt_poke32(e, pa, e->rev);
    vt_expect("VMCLEAR", vtx_vmclear(e->m, pa, &r), &r, VTX_VMSUCCEED, 0);
    vt_expect("VMPTRLD", vtx_vmptrld(e->m, pa, &r), &r, VTX_VMSUCCEED, 0);
}

vtx_root_state vt_root(vt_env *e)
{
    vtx_root_state root;
    cr_assert_eq(vtx_machine_get_root(e->m, &root), VTX_OK);
    return root;
}

void vt_set_root(vt_env *e, const vtx_root_state *root)
{
    vtx_diag d = {0};
    cr_assert_eq(vtx_machine_set_root(e->m, root, &d), VTX_OK, "root state refused: %s", d.message);
}

uint64_t vt_vmread(vt_env *e, uint64_t enc)
{
    vtx_insn_result r;
    char step[64];
    snprintf(step, sizeof step, "VMREAD 0x%llx", (unsigned long long)enc);
    vt_expect(step, vtx_vmread(e->m, enc, &r), &r, VTX_VMSUCCEED, 0);
    return r.value;
}

void vt_vmwrite(vt_env *e, uint64_t enc, uint64_t value)
{
    vtx_insn_result r;
    char step[64];
    snprintf(step, sizeof step, "VMWRITE 0x%llx", (unsigned long long)enc);
    vt_expect(step, vtx_vmwrite(e->m, enc, value, &r), &r, VTX_VMSUCCEED, 0);
}

int vt_sh(char **out, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (n + 1 >= cap) {
            buf = realloc(buf, cap *= 2);
            cr_assert_not_null(buf);
        }
    }
    buf[n] = 0;
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

vt_run vt_spawn(const char *const *argv)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot run %s: %s", argv[0], strerror(rc));
    close(fds[1]);
    vt_run r = {.status = -1};
    size_t cap = 1 << 16;
    r.out = malloc(cap);
    cr_assert_not_null(r.out);
    for (;;) {
        if (r.len + 1024 > cap) {
            r.out = realloc(r.out, cap *= 2);
            cr_assert_not_null(r.out);
        }
        ssize_t k = read(fds[0], r.out + r.len, cap - r.len - 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        r.len += (size_t)k;
    }
    r.out[r.len] = '\0';
    close(fds[0]);
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        cr_assert_eq(errno, EINTR, "waitpid %s: %s", argv[0], strerror(errno));
    r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    return r;
}
