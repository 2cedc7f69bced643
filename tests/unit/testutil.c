/* testutil: fixture files, expected-file checks and run-time cmocka groups. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

const char *
tu_fixtures(void)
{
	const char *f = getenv("FIXTURES");

	return f != NULL && *f != '\0' ? f : "fixtures";
}

int
tu_regenerate(void)
{
	const char *r = getenv("REGENERATE");

	return r != NULL && *r == '1';
}

int
tu_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char *
tu_base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

void
tu_slurp(const char *path, struct buf *b)
{
	FILE *f;
	char chunk[4096];
	size_t n;

	buf_init(b, TU_FIXTURE_MAX);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("%s: cannot open", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) == -1)
			fail_msg("%s: larger than %u bytes", path, TU_FIXTURE_MAX);
	assert_false(ferror(f));
	fclose(f);
	if (b->data == NULL)
		assert_int_equal(buf_puts(b, ""), 0);
}

static void
write_file(const char *path, const struct buf *b)
{
	FILE *f;

	if ((f = fopen(path, "wb")) == NULL)
		fail_msg("%s: cannot write", path);
	assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
	assert_int_equal(fclose(f), 0);
}

/* Fails with the first differing line of got against want. */
static void
compare(const char *path, const char *want, const char *got)
{
	const char *w = want, *g = got;
	int line = 1;
	size_t wl, gl;

	if (strcmp(want, got) == 0)
		return;
	for (;;) {
		wl = strcspn(w, "\n");
		gl = strcspn(g, "\n");
		if (wl != gl || memcmp(w, g, wl) != 0 || w[wl] != g[gl] ||
		    w[wl] == '\0')
			break;
		w += wl + 1;
		g += gl + 1;
		line++;
	}
	fail_msg("%s:%d: expected\n  %.*s\ngot\n  %.*s\n(REGENERATE=1 "
	    "rewrites the file for review)", path, line, (int)wl, w, (int)gl,
	    g);
}

void
tu_check_file(const char *path, const struct buf *got)
{
	struct buf want;

	assert_non_null(got->data);
	if (tu_regenerate())
		write_file(path, got);
	tu_slurp(path, &want);
	compare(path, want.data, got->data);
	buf_free(&want);
}

void
tu_put_quoted(struct buf *out, const char *s)
{
	const unsigned char *p;

	assert_int_equal(buf_putc(out, '"'), 0);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			assert_int_equal(buf_printf(out, "\\%c", *p), 0);
		else if (*p < 0x20 || *p == 0x7f)
			assert_int_equal(buf_printf(out, "\\x%02x", *p), 0);
		else
			assert_int_equal(buf_putc(out, (char)*p), 0);
	}
	assert_int_equal(buf_putc(out, '"'), 0);
}

void
tu_add(struct tu_group *g, const char *name, CMUnitTestFunction fn,
    void *state)
{
	struct CMUnitTest *t;

	if (g->failed)
		return;
	if ((t = realloc(g->tests, (g->n + 1) * sizeof(*t))) == NULL) {
		g->failed = 1;
		return;
	}
	g->tests = t;
	memset(&t[g->n], 0, sizeof(*t));
	t[g->n].name = name;
	t[g->n].test_func = fn;
	t[g->n].initial_state = state;
	g->n++;
}

void
tu_add_tests(struct tu_group *g, const struct CMUnitTest *tests, size_t n)
{
	struct CMUnitTest *t;

	if (g->failed || n == 0)
		return;
	if ((t = realloc(g->tests, (g->n + n) * sizeof(*t))) == NULL) {
		g->failed = 1;
		return;
	}
	g->tests = t;
	memcpy(&t[g->n], tests, n * sizeof(*t));
	g->n += n;
}

char *
tu_keep(struct tu_group *g, char *s)
{
	char **k;

	if (s == NULL || (k = realloc(g->kept, (g->nkept + 1) *
	    sizeof(*k))) == NULL) {
		free(s);
		g->failed = 1;
		return NULL;
	}
	g->kept = k;
	k[g->nkept++] = s;
	return s;
}

size_t
tu_add_glob(struct tu_group *g, const char *pattern, CMUnitTestFunction fn)
{
	char full[4096], *path;
	glob_t gl;
	size_t i, len;

	if (g->failed)
		return 0;
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", tu_fixtures(),
	    pattern) >= sizeof(full)) {
		g->failed = 1;
		return 0;
	}
	memset(&gl, 0, sizeof(gl));
	if (glob(full, 0, NULL, &gl) != 0 || gl.gl_pathc == 0) {
		fprintf(stderr, "test_%s: no fixtures match %s\n", g->name, full);
		globfree(&gl);
		g->failed = 1;
		return 0;
	}
	for (i = 0; i < gl.gl_pathc; i++) {
		if ((path = tu_keep(g, strdup(gl.gl_pathv[i]))) == NULL)
			break;
		len = strlen(path);
		if (len > 1 && path[len - 1] == '/')
			path[len - 1] = '\0';
		tu_add(g, path, fn, path);
	}
	globfree(&gl);
	return i;
}

int
tu_run(struct tu_group *g, CMFixtureFunction setup,
    CMFixtureFunction teardown)
{
	size_t i;
	int rc = 1;

	if (!g->failed)
		rc = _cmocka_run_group_tests(g->name, g->tests, g->n, setup,
		    teardown);
	for (i = 0; i < g->nkept; i++)
		free(g->kept[i]);
	free(g->kept);
	free(g->tests);
	g->kept = NULL;
	g->tests = NULL;
	g->n = g->nkept = 0;
	return rc;
}
