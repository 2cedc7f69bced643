/* testutil: the plumbing the cmocka unit tests share (fixtures, files, groups). */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "buf.h"

#define TU_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The largest fixture tu_slurp reads. */
#define TU_FIXTURE_MAX (4u * 1024 * 1024)

/* The fixtures folder: $FIXTURES, or "fixtures" when unset or empty. */
const char *tu_fixtures(void);
/* Nonzero when REGENERATE=1 asks to rewrite expected files. */
int tu_regenerate(void);
/* Nonzero when path is a regular file. */
int tu_exists(const char *path);
/* What follows the last '/' of path (all of it when there is none). */
const char *tu_base_name(const char *path);

/* Reads path into b (buf_init'd here, NUL-terminated, "" when empty);
 * fails the test when it cannot or the file passes TU_FIXTURE_MAX. */
void tu_slurp(const char *path, struct buf *b);
/* Checks got against the file path, failing with the first differing
 * line; under REGENERATE=1 writes got to path first. */
void tu_check_file(const char *path, const struct buf *got);
/* Appends s double-quoted: '"' and '\' backslash-escaped, bytes below
 * 0x20 and 0x7f as \xNN, every other byte as it is. */
void tu_put_quoted(struct buf *out, const char *s);

/* A cmocka group built at run time: TU_GROUP("name"), then tu_add*,
 * then tu_run, which frees it. */
struct tu_group {
	const char *name;		/* the group; "test_NAME" in messages */
	struct CMUnitTest *tests;
	size_t n;
	char **kept;			/* strings tu_run frees */
	size_t nkept;
	int failed;			/* nonzero: tu_run runs nothing */
};
#define TU_GROUP(group) { .name = (group) }

/* Appends one test; state is its initial_state. */
void tu_add(struct tu_group *g, const char *name, CMUnitTestFunction fn,
    void *state);
/* Appends n tests as they are (cmocka_unit_test entries). */
void tu_add_tests(struct tu_group *g, const struct CMUnitTest *tests,
    size_t n);
/* Appends one test per row of a case table, named by the row's why. */
#define TU_ADD_ROWS(g, table, fn) \
	do { \
		size_t tu_row_; \
		for (tu_row_ = 0; tu_row_ < TU_NELEM(table); tu_row_++) \
			tu_add((g), (table)[tu_row_].why, (fn), \
			    (void *)&(table)[tu_row_]); \
	} while (0)
/* Hands s (malloc'd, may be NULL) to g, to be freed by tu_run; returns s. */
char *tu_keep(struct tu_group *g, char *s);
/* Appends one test per path matching tu_fixtures()/pattern, in glob
 * order, named by the path, with the path as its state (a pattern that
 * ends in '/' matches folders: their '/' is cut). Returns how many; none
 * is a failure of the group, reported on stderr. */
size_t tu_add_glob(struct tu_group *g, const char *pattern,
    CMUnitTestFunction fn);
/* Runs the group with the given group fixtures (either may be NULL) and
 * frees it; returns cmocka's result, or 1 when building it failed. */
int tu_run(struct tu_group *g, CMFixtureFunction setup,
    CMFixtureFunction teardown);

#endif
