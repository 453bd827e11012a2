/* Incremental VM-entry checks (model/entry_memo.c): a machine that re-makes only
 * the checks fed by the fields that changed since the last entry gives the same
 * verdict as one that makes every check (vtx_machine_config.full_entry_checks),
 * on a long random sequence of VMWRITEs and VM entries from a fixed seed: the
 * outcome, VM-instruction error, exit reason and qualification, the check named
 * and its sentence, after every step; and the same VMCS at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"

#define CODE 0x10000u
#define STEPS 30000

typedef struct twin {
    vt_env e[2]; /* e[0] incremental, e[1] full checks */
} twin;

/* variant 0: the flat guest; 1: with "use TPR shadow" (virtual-APIC page at
 * 0x6000, whose VTPR the sequence rewrites); 2: with a VMCS link pointer (to
 * 0x5000, whose revision the sequence rewrites). */
static void twin_open(twin *t, unsigned variant)
{
    for (int k = 0; k < 2; k++) {
        vtx_profile p = vt_profile_copy("server");
        vtx_machine_config cfg;
        cr_assert_eq(vtx_machine_config_init(&cfg, &p), VTX_OK);
        cfg.limits.instructions = 200;
        cfg.full_entry_checks = k == 1;
        vt_setup_config(&t->e[k], &cfg);
        vt_env *e = &t->e[k];
        e->ram[CODE] = 0x0f, e->ram[CODE + 1] = 0xa2; /* cpuid */
        e->ram[CODE + 2] = 0xf4;                      /* hlt */
        vt_vmxon(e);
        vt_load_vmcs(e, VT_VMCS_PA);
        vt_poke32(e, 0x5000, e->rev); /* a VMCS link region for the link pointer's bit flips */
        vtx_flat64 f = {.rip = CODE, .rsp = 0x80000, .rflags = 0x2, .tables = 0x20000, .handlers = 0};
        vtx_diag d = {0};
        cr_assert_eq(vtx_setup_flat64(e->m, &f, &d), VTX_OK, "%s", d.message);
        vt_vmwrite(e, VTX_VMCS_PROC_CONTROLS, vt_vmread(e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_HLT_EXITING);
        if (variant == 1) {
            vt_vmwrite(e, VTX_VMCS_PROC_CONTROLS, vt_vmread(e, VTX_VMCS_PROC_CONTROLS) | VTX_PROC_TPR_SHADOW);
            vt_vmwrite(e, VTX_VMCS_VIRTUAL_APIC_ADDR, 0x6000);
            vt_vmwrite(e, VTX_VMCS_TPR_THRESHOLD, 2);
            e->ram[0x6080] = 0x40;
        } else if (variant == 2) {
            vt_vmwrite(e, VTX_VMCS_VMCS_LINK_POINTER, 0x5000);
        }
    }
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

typedef struct tally {
    unsigned entries_run, bad_controls, bad_host, bad_guest, restarts;
} tally;

/* The same operation on both machines; the results must be the same. */
static void same(twin *t, const char *what, unsigned step, vtx_status st[2], vtx_insn_result r[2], tally *n)
{
    char a[400], b[400];
    vtx_insn_result_format(&r[0], a, sizeof a);
    vtx_insn_result_format(&r[1], b, sizeof b);
    cr_assert(st[0] == st[1] && r[0].outcome == r[1].outcome && r[0].vm_error == r[1].vm_error &&
                  r[0].exit_reason == r[1].exit_reason && r[0].exit_qualification == r[1].exit_qualification &&
                  r[0].check == r[1].check && strcmp(r[0].why, r[1].why) == 0 && strcmp(a, b) == 0,
              "step %u, %s: the incremental checks say\n  %s (%s)\nbut the full checks say\n  %s (%s)", step, what, a,
              vtx_status_name(st[0]), b, vtx_status_name(st[1]));
    (void)t;
    if (!n || st[0] != VTX_OK)
        return;
    if (r[0].outcome == VTX_VMFAIL_VALID && r[0].vm_error == VTX_VMERR_ENTRY_INVALID_CONTROLS)
        n->bad_controls++;
    else if (r[0].outcome == VTX_VMFAIL_VALID && r[0].vm_error == VTX_VMERR_ENTRY_INVALID_HOST_STATE)
        n->bad_host++;
    else if (r[0].outcome == VTX_VMEXIT && r[0].exit_reason == (0x80000000u | VTX_EXIT_REASON_INVALID_GUEST_STATE))
        n->bad_guest++;
    else if (r[0].outcome == VTX_VMEXIT && !(r[0].exit_reason >> 31))
        n->entries_run++;
}

Test(entry_memo, incremental_checks_agree_with_full_checks_on_random_sequences)
{
    VTX_COVERS("ENT-BASIC-4", "ENT-BASIC-5");
    twin t;
    twin_open(&t, 0);
    size_t nfields;
    const vtx_field_info *fields = vtx_vmcs_fields(&nfields);
    uint64_t *base = calloc(nfields, sizeof *base); /* the values after setup (0 for fields VMREAD refuses) */
    cr_assert_not_null(base);
    for (size_t i = 0; i < nfields; i++) {
        vtx_insn_result r;
        if (vtx_vmread(t.e[0].m, fields[i].encoding, &r) == VTX_OK && r.outcome == VTX_VMSUCCEED)
            base[i] = r.value;
    }
    unsigned dirty[2], ndirty = 0; /* fields changed from their setup value, restored later */
    tally n = {0};
    bool root32 = false;
    uint64_t seed = 0x5eed1234abcdull;
    for (unsigned step = 0; step < STEPS; step++) {
        uint64_t x = rng_next(&seed);
        unsigned op = x % 100;
        vtx_status st[2];
        vtx_insn_result r[2];
        if (op < 45) {
            /* Break a field (a bit flip or a random value), or restore one. */
            bool restore = ndirty == sizeof dirty / sizeof dirty[0] || (ndirty && (x >> 8) % 2 == 0);
            unsigned fi;
            uint64_t v;
            if (restore) {
                unsigned k = (unsigned)((x >> 16) % ndirty);
                fi = dirty[k];
                dirty[k] = dirty[--ndirty];
                v = base[fi];
            } else {
                /* a quarter of the time a field most checks read, else any field */
                static const uint32_t hot[] = {VTX_VMCS_PIN_CONTROLS, VTX_VMCS_PROC_CONTROLS,
                                               VTX_VMCS_PROC_CONTROLS2, VTX_VMCS_EXIT_CONTROLS,
                                               VTX_VMCS_ENTRY_CONTROLS, VTX_VMCS_ENTRY_INTR_INFO,
                                               VTX_VMCS_GUEST_CR0, VTX_VMCS_GUEST_CR4,
                                               VTX_VMCS_GUEST_RFLAGS, VTX_VMCS_GUEST_INTERRUPTIBILITY,
                                               VTX_VMCS_GUEST_ACTIVITY_STATE, VTX_VMCS_GUEST_CS_AR};
                fi = (unsigned)((x >> 16) % nfields);
                if ((x >> 40) % 4 == 0)
                    for (size_t i = 0; i < nfields; i++)
                        if (fields[i].encoding == hot[(x >> 44) % (sizeof hot / sizeof hot[0])])
                            fi = (unsigned)i;
                uint64_t y = rng_next(&seed);
                unsigned bits = vtx_encoding_width(fields[fi].encoding) == VTX_WIDTH_16   ? 16
                                : vtx_encoding_width(fields[fi].encoding) == VTX_WIDTH_32 ? 32
                                                                                          : 64;
                v = (y & 3) ? base[fi] ^ (1ull << ((y >> 8) % bits)) : rng_next(&seed) >> ((y >> 16) % 64);
                dirty[ndirty++] = fi;
            }
            for (int k = 0; k < 2; k++)
                st[k] = vtx_vmwrite(t.e[k].m, fields[fi].encoding, v, &r[k]);
            char what[96];
            snprintf(what, sizeof what, "VMWRITE %s <- 0x%llx", fields[fi].name, (unsigned long long)v);
            same(&t, what, step, st, r, NULL);
        } else if (op < 47) {
            /* Memory the checks read: VTPR (variant 1), the link region (variant 2). */
            uint64_t y = rng_next(&seed);
            for (int k = 0; k < 2; k++) {
                t.e[k].ram[0x6080] = (uint8_t)y;
                vt_poke32(&t.e[k], 0x5000, (y & 0x100) ? t.e[k].rev : t.e[k].rev ^ (1u << ((y >> 9) % 32)));
            }
        } else if (op < 49 && (root32 || (x >> 24) % 4 == 0)) {
            /* The root leaves IA-32e mode for a while (host-state checks read it). */
            root32 = !root32;
            for (int k = 0; k < 2; k++) {
                vtx_root_state root;
                vtx_machine_get_root(t.e[k].m, &root);
                root.efer ^= VTX_EFER_LMA | VTX_EFER_LME;
                root.cs_l = (root.efer & VTX_EFER_LMA) != 0;
                st[k] = vtx_machine_set_root(t.e[k].m, &root, NULL);
            }
            cr_assert_eq(st[0], st[1], "step %u: set_root", step);
        } else if (op < 52) {
            for (int k = 0; k < 2; k++)
                st[k] = vtx_vmwrite(t.e[k].m, VTX_VMCS_GUEST_RIP, CODE, &r[k]);
            same(&t, "VMWRITE GUEST_RIP", step, st, r, NULL);
        } else {
            /* VMRESUME, or VMLAUNCH while the launch state is clear. */
            for (int k = 0; k < 2; k++) {
                st[k] = vtx_vmresume(t.e[k].m, &r[k]);
                if (st[k] == VTX_OK && r[k].outcome == VTX_VMFAIL_VALID &&
                    r[k].vm_error == VTX_VMERR_VMRESUME_NONLAUNCHED)
                    st[k] = vtx_vmlaunch(t.e[k].m, &r[k]);
                if (vtx_machine_in_guest(t.e[k].m)) /* stopped inside the guest: leave it */
                    st[k] = vtx_continue(t.e[k].m, &r[k]);
            }
            same(&t, "VM entry", step, st, r, &n);
            if (vtx_machine_in_guest(t.e[0].m)) {
                /* Stuck in the guest (an event delivery to unmapped memory, say): start again. */
                for (int k = 0; k < 2; k++)
                    vt_teardown(&t.e[k]);
                n.restarts++;
                twin_open(&t, n.restarts % 3);
                root32 = false;
                ndirty = 0;
            }
        }
    }
    for (size_t i = 0; i < nfields; i++) {
        vtx_insn_result r[2];
        vtx_status st[2];
        for (int k = 0; k < 2; k++)
            st[k] = vtx_vmread(t.e[k].m, fields[i].encoding, &r[k]);
        cr_assert(st[0] == st[1] && r[0].value == r[1].value, "at the end, %s differs: 0x%llx and 0x%llx",
                  fields[i].name, (unsigned long long)r[0].value, (unsigned long long)r[1].value);
    }
    /* The sequence reached every verdict often (it tests something). */
    cr_assert(n.entries_run >= 500 && n.bad_controls >= 50 && n.bad_host >= 50 && n.bad_guest >= 50,
              "entries that ran %u, failed controls %u, host %u, guest %u (%u restarts)", n.entries_run, n.bad_controls,
              n.bad_host, n.bad_guest, n.restarts);
    free(base);
    for (int k = 0; k < 2; k++)
        vt_teardown(&t.e[k]);
}
