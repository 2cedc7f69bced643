/* test_sigv4: every case of AWS's SigV4 suite, each stage byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "sigv4.h"
#include "testutil.h"

#define MAXH 16

/* The case file DIR/NAME.EXT, malloc'd. */
static char *
slurp(const char *dir, const char *name, const char *ext)
{
	char path[1024];
	struct buf b;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	tu_slurp(path, &b);
	return buf_steal(&b);
}

/* A .req file: "METHOD URI HTTP/1.1", headers (a line starting with a
 * blank continues the previous header as another value), blank line, body. */
struct req {
	char *text;
	struct sigv4_header h[MAXH];
	size_t nh;
	struct sigv4_request r;
	char *date;
};

static void
parse_req(char *text, struct req *q)
{
	char *line, *next, *sp, *last, *colon, *qm;
	const char *prev = NULL;

	memset(q, 0, sizeof(*q));
	q->text = text;
	line = text;
	next = strchr(line, '\n');
	assert_non_null(next);
	*next++ = '\0';
	sp = strchr(line, ' ');
	last = strrchr(line, ' ');
	assert_true(sp != NULL && last > sp);
	*sp = *last = '\0';
	q->r.method = line;
	q->r.path = sp + 1;
	if ((qm = strchr(sp + 1, '?')) != NULL) {
		*qm = '\0';
		q->r.query = qm + 1;
	}
	for (line = next; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '\0')
			break;	/* the blank line before the body */
		assert_true(q->nh < MAXH);
		if (*line == ' ' || *line == '\t') {
			assert_non_null(prev);
			q->h[q->nh].name = prev;
			q->h[q->nh++].value = line;
			continue;
		}
		colon = strchr(line, ':');
		assert_non_null(colon);
		*colon = '\0';
		q->h[q->nh].name = prev = line;
		q->h[q->nh++].value = colon + 1;
		if (strcmp(line, "X-Amz-Date") == 0)
			q->date = colon + 1;
	}
	q->r.headers = q->h;
	q->r.nheaders = q->nh;
	if (next != NULL) {
		q->r.payload = next;
		q->r.payload_len = strlen(next);
	}
	assert_non_null(q->date);
}

static void
run_case(const char *dir)
{
	const char *name = strrchr(dir, '/') + 1;
	char *req_text = slurp(dir, name, "req");
	char *creq = slurp(dir, name, "creq");
	char *sts = slurp(dir, name, "sts");
	char *authz = slurp(dir, name, "authz");
	struct buf got_creq, sh, got_sts, got_authz, all;
	struct sigv4_scope scope;
	struct req q;
	char sig[65];

	parse_req(req_text, &q);
	scope = (struct sigv4_scope){ q.date, "us-east-1", "service" };
	buf_init(&got_creq, 0);
	buf_init(&sh, 0);
	buf_init(&got_sts, 0);
	buf_init(&got_authz, 0);
	buf_init(&all, 0);

	assert_int_equal(sigv4_canonical_request(&q.r, &got_creq, &sh), 0);
	assert_string_equal(got_creq.data, creq);
	assert_int_equal(sigv4_string_to_sign(&scope, got_creq.data,
	    got_creq.len, &got_sts), 0);
	assert_string_equal(got_sts.data, sts);
	assert_int_equal(sigv4_signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    &scope, got_sts.data, got_sts.len, sig), 0);
	assert_int_equal(sigv4_authorization("AKIDEXAMPLE", &scope, sh.data,
	    sig, &got_authz), 0);
	assert_string_equal(got_authz.data, authz);
	/* and all stages at once */
	assert_int_equal(sigv4_sign(&q.r, "AKIDEXAMPLE",
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", &scope, &all), 0);
	assert_string_equal(all.data, authz);

	buf_free(&got_creq);
	buf_free(&sh);
	buf_free(&got_sts);
	buf_free(&got_authz);
	buf_free(&all);
	free(req_text);
	free(creq);
	free(sts);
	free(authz);
}

static void
test_case(void **state)
{
	run_case(*state);
}

static void
test_amz_date(void **state)
{
	char d[17];

	(void)state;
	sigv4_amz_date(1440938160, d);	/* 2015-08-30T12:36:00Z */
	assert_string_equal(d, "20150830T123600Z");
}

static void
test_bad_date_refused(void **state)
{
	struct sigv4_scope scope = { "2015-08-30", "us-east-1", "ec2" };
	struct buf b;
	char sig[65];

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(sigv4_string_to_sign(&scope, "x", 1, &b), -1);
	assert_int_equal(sigv4_signature("k", &scope, "x", 1, sig), -1);
	buf_free(&b);
}

static void
test_uri_encode(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(sigv4_uri_encode(&b, "a b+c/d~é", strlen("a b+c/d~é"),
	    0), 0);
	assert_string_equal(b.data, "a%20b%2Bc%2Fd~%C3%A9");
	buf_reset(&b);
	assert_int_equal(sigv4_uri_encode(&b, "/x y/", 5, 1), 0);
	assert_string_equal(b.data, "/x%20y/");
	buf_free(&b);
}

/* One test per case folder under $FIXTURES/sigv4, plus the fixed ones. */
int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_amz_date),
		cmocka_unit_test(test_bad_date_refused),
		cmocka_unit_test(test_uri_encode),
	};
	struct tu_group g = TU_GROUP("sigv4");
	struct err e = { 0 };
	size_t i;

	if (sigv4_init(&e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	if (tu_add_glob(&g, "sigv4/*/", test_case) != 31) {
		fprintf(stderr, "%s/sigv4/*/: expected the 31 SigV4 suite "
		    "cases\n", tu_fixtures());
		g.failed = 1;
	}
	for (i = 0; i < g.n; i++)	/* a case is named by its folder */
		g.tests[i].name = tu_base_name(g.tests[i].name);
	tu_add_tests(&g, fixed, TU_NELEM(fixed));
	return tu_run(&g, NULL, NULL);
}
