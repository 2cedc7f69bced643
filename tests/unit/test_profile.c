/* test_profile: profile_load over the shared-file cases in fixtures/profiles.
 *
 * A case is a folder $FIXTURES/profiles/CASE/ holding an optional
 * `credentials` and an optional `config` (a missing one is passed to
 * profile_load all the same, since a missing file is not an error) and an
 * `expected` file. Every file's first line is a comment saying why it
 * exists. `expected` lists the profiles to load, one block each:
 *
 *   [NAME]                  profile_load(credentials, config, "NAME")
 *   found = 0|1             p.found
 *   aws_access_key_id = V   each field that must be set, with its value;
 *   ...                     a field not listed must be NULL
 *   error = TEXT            instead: the load fails with ERR_USAGE, the
 *                           message contains "CASE-FOLDER/TEXT" (so
 *                           "config:4:" checks FILE:LINE), and every
 *                           field is NULL again
 *
 * A block with `chain` or `chain_error` checks profile_chain_load instead:
 *
 *   chain = PLAN            the plan, rendered as the source (keys(PROFILE),
 *                           env, imds or none) then " > PROFILE(ROLE_ARN)"
 *                           per role in the order they are assumed, with
 *                           ";external_id=X", ";session=X", ";duration=N"
 *                           inside the parentheses when set
 *   chain_error = TEXT      the load fails with ERR_USAGE, the message
 *                           contains TEXT, and the chain is left empty
 *
 * Blanks around '=' and '#' comment lines are ignored, as in the inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "profile.h"
#include "testutil.h"
#include "util.h"

#define MAX_BLOCKS 64

static const struct {
	const char *key;
	size_t offset;
} fields[] = {
	{ "aws_access_key_id", offsetof(struct profile, access_key) },
	{ "aws_secret_access_key", offsetof(struct profile, secret_key) },
	{ "aws_session_token", offsetof(struct profile, session_token) },
	{ "region", offsetof(struct profile, region) },
	{ "role_arn", offsetof(struct profile, role_arn) },
	{ "source_profile", offsetof(struct profile, source_profile) },
	{ "credential_source", offsetof(struct profile, credential_source) },
	{ "external_id", offsetof(struct profile, external_id) },
	{ "role_session_name", offsetof(struct profile, role_session_name) },
	{ "duration_seconds", offsetof(struct profile, duration_seconds) },
	{ "mfa_serial", offsetof(struct profile, mfa_serial) },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
#define FIELD(p, i) (*(char **)((char *)(p) + fields[i].offset))

/* An input file, when it is a regular file, must open with a comment. */
static void
check_why_line(const char *path)
{
	struct buf b;

	if (!tu_exists(path))
		return;
	tu_slurp(path, &b);
	if (b.data[0] != '#' && b.data[0] != ';')
		fail_msg("%s: the first line is not a comment saying why the "
		    "file exists", path);
	buf_free(&b);
}

struct block {
	const char *name;
	const char *found;		/* NULL: not listed */
	const char *error;
	const char *chain, *chain_error;
	const char *vals[NFIELDS];
	int line;
};

/* Splits the expected file (in place) into blocks; returns how many. */
static size_t
parse_expected(const char *path, char *text, struct block *bl)
{
	char *line, *next, *eq, *k, *v;
	struct block *cur = NULL;
	size_t n = 0, i;
	int lineno = 0;

	if (text[0] != '#')
		fail_msg("%s: the first line is not a comment saying why the "
		    "case exists", path);
	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		util_trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if (*line == '[') {
			if (n == MAX_BLOCKS || line[strlen(line) - 1] != ']')
				fail_msg("%s:%d: bad block header", path, lineno);
			line[strlen(line) - 1] = '\0';
			cur = &bl[n++];
			memset(cur, 0, sizeof(*cur));
			cur->name = line + 1;
			cur->line = lineno;
			continue;
		}
		if (cur == NULL || (eq = strchr(line, '=')) == NULL) {
			fail_msg("%s:%d: expected '[NAME]' or 'key = value'",
			    path, lineno);
			return 0;	/* not reached */
		}
		*eq = '\0';
		k = util_trim(line);
		v = util_trim(eq + 1);
		if (strcmp(k, "found") == 0) {
			cur->found = v;
			continue;
		}
		if (strcmp(k, "error") == 0) {
			cur->error = v;
			continue;
		}
		if (strcmp(k, "chain") == 0) {
			cur->chain = v;
			continue;
		}
		if (strcmp(k, "chain_error") == 0) {
			cur->chain_error = v;
			continue;
		}
		for (i = 0; i < NFIELDS; i++)
			if (strcmp(k, fields[i].key) == 0)
				break;
		if (i == NFIELDS)
			fail_msg("%s:%d: unknown key '%s'", path, lineno, k);
		cur->vals[i] = v;
	}
	if (n == 0)
		fail_msg("%s: no [NAME] block", path);
	return n;
}

/* profile_chain_load's plan as one line (see the top of the file). */
static void
render_chain(const struct profile_chain *c, struct buf *out)
{
	static const char *const sources[] = { "none", "keys", "env",
	    "imds" };
	const struct profile_role *r;
	size_t i;

	assert_int_equal(buf_puts(out, sources[c->source]), 0);
	if (c->source == PROFILE_SOURCE_KEYS) {
		assert_non_null(c->access_key);
		assert_non_null(c->secret_key);
		assert_int_equal(buf_printf(out, "(%s)", c->keys_profile), 0);
	} else {
		assert_null(c->keys_profile);
		assert_null(c->access_key);
	}
	for (i = 0; i < c->nroles; i++) {
		r = &c->roles[i];
		assert_int_equal(buf_printf(out, " > %s(%s", r->profile,
		    r->role_arn), 0);
		if (r->external_id != NULL)
			assert_int_equal(buf_printf(out, ";external_id=%s",
			    r->external_id), 0);
		if (r->session_name != NULL)
			assert_int_equal(buf_printf(out, ";session=%s",
			    r->session_name), 0);
		if (r->duration != 0)
			assert_int_equal(buf_printf(out, ";duration=%d",
			    r->duration), 0);
		assert_int_equal(buf_putc(out, ')'), 0);
	}
}

static void
check_chain(const char *expected, const char *creds, const char *config,
    const struct block *b)
{
	struct profile_chain c;
	struct buf got;
	struct err e;
	int rc;

	err_clear(&e);
	memset(&c, 0xa5, sizeof(c));	/* must not rely on it */
	rc = profile_chain_load(creds, config, b->name, &c, &e);
	if (b->chain_error != NULL) {
		if (rc != ERR_USAGE || e.code != ERR_USAGE ||
		    strstr(e.msg, b->chain_error) == NULL)
			fail_msg("%s:%d: [%s]: want ERR_USAGE with '%s', got "
			    "rc %d '%s'", expected, b->line, b->name,
			    b->chain_error, rc, e.msg);
		assert_int_equal(c.nroles, 0);
		assert_null(c.keys_profile);
		assert_null(c.secret_key);
		return;
	}
	if (rc != 0)
		fail_msg("%s:%d: [%s]: rc %d '%s'", expected, b->line, b->name,
		    rc, e.msg);
	buf_init(&got, 0);
	render_chain(&c, &got);
	if (strcmp(got.data, b->chain) != 0)
		fail_msg("%s:%d: [%s]: chain\n  '%s', expected\n  '%s'",
		    expected, b->line, b->name, got.data, b->chain);
	buf_free(&got);
	profile_chain_cleanup(&c);
	assert_int_equal(c.nroles, 0);
	assert_null(c.secret_key);
	profile_chain_cleanup(NULL);
}

static void
check_block(const char *dir, const char *expected, const char *creds,
    const char *config, const struct block *b)
{
	struct profile p;
	struct err e;
	char want[4096];
	size_t i;
	int rc;

	if (b->chain != NULL || b->chain_error != NULL) {
		check_chain(expected, creds, config, b);
		return;
	}
	err_clear(&e);
	memset(&p, 0xa5, sizeof(p));	/* profile_load must not rely on it */
	rc = profile_load(creds, config, b->name, &p, &e);
	if (b->error != NULL) {
		assert_true((size_t)snprintf(want, sizeof(want), "%s/%s", dir,
		    b->error) < sizeof(want));
		if (rc != ERR_USAGE || e.code != ERR_USAGE ||
		    strstr(e.msg, want) == NULL)
			fail_msg("%s:%d: [%s]: want ERR_USAGE with '%s', got "
			    "rc %d '%s'", expected, b->line, b->name, want, rc,
			    e.msg);
		for (i = 0; i < NFIELDS; i++)
			if (FIELD(&p, i) != NULL)
				fail_msg("%s:%d: [%s]: %s left set after an "
				    "error", expected, b->line, b->name,
				    fields[i].key);
		assert_int_equal(p.found, 0);
		profile_cleanup(&p);
		return;
	}
	if (rc != 0)
		fail_msg("%s:%d: [%s]: rc %d '%s'", expected, b->line, b->name,
		    rc, e.msg);
	if (b->found == NULL || p.found != atoi(b->found))
		fail_msg("%s:%d: [%s]: found %d, expected %s", expected, b->line,
		    b->name, p.found, b->found ? b->found : "(not listed)");
	for (i = 0; i < NFIELDS; i++) {
		const char *got = FIELD(&p, i), *exp = b->vals[i];

		if (exp == NULL && got != NULL)
			fail_msg("%s:%d: [%s]: %s is '%s', expected NULL",
			    expected, b->line, b->name, fields[i].key, got);
		if (exp != NULL && (got == NULL || strcmp(got, exp) != 0))
			fail_msg("%s:%d: [%s]: %s is %s%s%s, expected '%s'",
			    expected, b->line, b->name, fields[i].key,
			    got ? "'" : "", got ? got : "NULL", got ? "'" : "",
			    exp);
	}
	profile_cleanup(&p);
	for (i = 0; i < NFIELDS; i++)
		assert_null(FIELD(&p, i));
	assert_int_equal(p.found, 0);
}

static void
test_case(void **state)
{
	const char *expected = *state;
	char dir[4096], creds[4096], config[4096];
	struct block bl[MAX_BLOCKS];
	struct buf text;
	size_t i, n;

	assert_true(strlen(expected) > strlen("/expected"));
	assert_true((size_t)snprintf(dir, sizeof(dir), "%.*s",
	    (int)(strlen(expected) - strlen("/expected")), expected) <
	    sizeof(dir));
	assert_true((size_t)snprintf(creds, sizeof(creds), "%s/credentials",
	    dir) < sizeof(creds));
	assert_true((size_t)snprintf(config, sizeof(config), "%s/config",
	    dir) < sizeof(config));
	check_why_line(creds);
	check_why_line(config);
	tu_slurp(expected, &text);
	n = parse_expected(expected, text.data, bl);
	for (i = 0; i < n; i++)
		check_block(dir, expected, creds, config, &bl[i]);
	buf_free(&text);
}

/* Either path may be NULL: nothing is read and nothing is found. */
static void
test_null_paths(void **state)
{
	struct profile p;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(profile_load(NULL, NULL, "default", &p, &e), 0);
	assert_int_equal(p.found, 0);
	assert_null(p.access_key);
	assert_null(p.region);
	profile_cleanup(&p);
	profile_cleanup(NULL);
}

/* One file given, the other NULL: the given one is still read. */
static void
test_one_path_null(void **state)
{
	char path[4096];
	struct profile p;
	struct err e;

	(void)state;
	assert_true((size_t)snprintf(path, sizeof(path),
	    "%s/profiles/basic/config", tu_fixtures()) < sizeof(path));
	assert_int_equal(profile_load(NULL, path, "x", &p, &e), 0);
	assert_int_equal(p.found, 1);
	assert_string_equal(p.region, "eu-west-1");
	assert_null(p.access_key);
	profile_cleanup(&p);

	assert_true((size_t)snprintf(path, sizeof(path),
	    "%s/profiles/basic/credentials", tu_fixtures()) < sizeof(path));
	assert_int_equal(profile_load(path, NULL, "x", &p, &e), 0);
	assert_int_equal(p.found, 1);
	assert_string_equal(p.access_key, "AKIDX");
	assert_null(p.region);
	profile_cleanup(&p);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_null_paths),
		cmocka_unit_test(test_one_path_null),
	};
	struct tu_group g = TU_GROUP("profile");

	tu_add_tests(&g, fixed, TU_NELEM(fixed));
	tu_add_glob(&g, "profiles/*/expected", test_case);
	return tu_run(&g, NULL, NULL);
}
