/* Shared fixtures for the Criterion tests: a machine with RAM, VMX bring-up,
 * and assertions whose failure messages read like sentences. */
#ifndef VTX_TEST_HELPERS_H
#define VTX_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <stdint.h>
#include "vtxref/vtxref.h"
#include "covers.h"

#define VT_RAM_SIZE (1u << 20) /* 1 MiB mapped at physical address 0 */
#define VT_VMXON_PA 0x1000u
#define VT_VMCS_PA 0x2000u
#define VT_VMCS2_PA 0x3000u

typedef struct vt_env {
    vtx_machine *m;
    uint8_t *ram;
    vtx_profile profile;
    uint32_t rev; /* the profile's VMCS revision identifier */
} vt_env;

/* Create a machine on a built-in profile with VT_RAM_SIZE bytes mapped at 0,
 * in the default root environment (64-bit, CPL 0, VMXON allowed). */
void vt_setup(vt_env *e, const char *profile);
/* The same for any profile (a built-in one edited by the test), or a whole config
 * (costs, limits). */
void vt_setup_profile(vt_env *e, const vtx_profile *p);
void vt_setup_config(vt_env *e, const vtx_machine_config *cfg);
/* A copy of a built-in profile, to edit. */
vtx_profile vt_profile_copy(const char *name);
void vt_teardown(vt_env *e);
/* Write a 32-bit value (a revision identifier) at a physical address. */
void vt_poke32(vt_env *e, uint64_t pa, uint32_t v);
/* VMXON at VT_VMXON_PA with the right revision; asserts VMsucceed. */
void vt_vmxon(vt_env *e);
/* VMCLEAR + VMPTRLD of a region holding the right revision; asserts VMsucceed. */
void vt_load_vmcs(vt_env *e, uint64_t pa);
/* Read-modify-write the root environment; asserts the machine accepts it. */
vtx_root_state vt_root(vt_env *e);
void vt_set_root(vt_env *e, const vtx_root_state *root);

/* Assert an outcome (and, for VMfailValid, the error number); the message
 * names the step and what happened instead. */
void vt_expect(const char *step, vtx_status st, const vtx_insn_result *r, vtx_insn_outcome outcome,
               uint32_t vm_error);
/* Assert a fault with the given vector. */
void vt_expect_fault(const char *step, vtx_status st, const vtx_insn_result *r, uint8_t vector);
/* Run a shell command (printf-style); its standard output and error, together, in *out
 * (malloc'd, NUL-terminated; the caller frees it). Returns the exit status (128 when the
 * command did not exit normally). */
int vt_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A program run by vt_spawn: its exit status (-1 when it did not exit normally) and its
 * standard output and error together (malloc'd, NUL-terminated; the caller frees out). */
typedef struct vt_run {
    int status;
    char *out;
    size_t len;
} vt_run;
/* Run argv[0] (a path) with argv (NULL-terminated), without a shell, and wait for it;
 * asserts that it started. */
vt_run vt_spawn(const char *const *argv);
/* VMREAD that must succeed; returns the value. */
uint64_t vt_vmread(vt_env *e, uint64_t enc);
/* VMWRITE that must succeed. */
void vt_vmwrite(vt_env *e, uint64_t enc, uint64_t value);

#endif
