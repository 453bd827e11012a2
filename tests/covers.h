/* Rule coverage: a test declares the catalogue rules it checks with
 *
 *     VTX_COVERS("IW-5", "BLK-STI-2");
 *
 * as a statement in its body. scripts/rules-coverage.sh reads these
 * declarations (and nothing else: not test names, not comments) to build the
 * table of `vtxref rules`; an ID that is not in docs/rules.tsv, or a
 * declaration outside a test body, fails the build with file:line. Declare only
 * what the test's assertions check; a rule the test merely mentions (or says it
 * does not cover) must not be declared. The macro checks that its arguments are
 * string literals and generates no code. */
#ifndef VTX_TEST_COVERS_H
#define VTX_TEST_COVERS_H

#define VTX_COVERS(...) ((void)sizeof((const char *const[]){__VA_ARGS__}))

#endif
