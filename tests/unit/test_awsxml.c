/* test_awsxml: awsxml_describe_instances and awsxml_error over fixtures/xml;
 * awsxml_assume_role over the table of STS answers below.
 *
 * A case is $FIXTURES/xml/NAME.xml with NAME.expected beside it. The first
 * line of NAME.xml is an XML comment saying why the case exists; the test
 * strips that line (so a body may start with <?xml ...?>, or be empty, or
 * not be XML) and hands the rest to both parsers with region "us-east-1".
 * NAME.expected is this dump of what they returned, compared exactly:
 *
 *   instance                        one block per callback, in order
 *     instance_id "i-0123..."       every instance_fields entry, in order
 *     ...
 *     group "sg-0123" "web"         each security group: id, name
 *     tag "Name" "web01"            each tag: key, value
 *   awsxml_describe_instances RC    0, or the ERR_* code returned
 *   count N                         only when RC is 0: *count
 *   next_token "TOKEN"              only when RC is 0; or: next_token NULL
 *   awsxml_error -1                 or: awsxml_error 0 "CODE" "MESSAGE"
 *
 * Strings are double-quoted; '"' and '\' are backslash-escaped, bytes below
 * 0x20 and 0x7f are \xNN, every other byte (UTF-8 included) is copied.
 * Beyond the dump every case checks: a failure fills e (same code, message
 * not empty) and leaves *next_token NULL; *count equals the callbacks made;
 * awsxml_error leaves both outputs NULL on -1; and each parse takes less
 * than PARSE_MAX_MS (a DTD must be refused, not expanded).
 * REGENERATE=1 rewrites every NAME.expected from the parsers, for review.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "awsxml.h"
#include "buf.h"
#include "instance.h"
#include "retry.h"
#include "testutil.h"

#define REGION "us-east-1"
#define PARSE_MAX_MS 2000
struct dump {
	struct buf *out;
	size_t calls;
};

static int
dump_instance(const struct instance *in, void *arg, struct err *e)
{
	struct dump *d = arg;
	size_t i;

	(void)e;
	d->calls++;
	assert_int_equal(buf_puts(d->out, "instance\n"), 0);
	for (i = 0; i < instance_nfields; i++) {
		assert_non_null(INSTANCE_FIELD(in, &instance_fields[i]));
		assert_int_equal(buf_printf(d->out, "  %s ",
		    instance_fields[i].name), 0);
		tu_put_quoted(d->out, INSTANCE_FIELD(in, &instance_fields[i]));
		assert_int_equal(buf_putc(d->out, '\n'), 0);
	}
	for (i = 0; i < in->ngroups; i++) {
		assert_int_equal(buf_puts(d->out, "  group "), 0);
		tu_put_quoted(d->out, in->groups[i].id);
		assert_int_equal(buf_putc(d->out, ' '), 0);
		tu_put_quoted(d->out, in->groups[i].name);
		assert_int_equal(buf_putc(d->out, '\n'), 0);
	}
	for (i = 0; i < in->ntags; i++) {
		assert_int_equal(buf_puts(d->out, "  tag "), 0);
		tu_put_quoted(d->out, in->tags[i].key);
		assert_int_equal(buf_putc(d->out, ' '), 0);
		tu_put_quoted(d->out, in->tags[i].value);
		assert_int_equal(buf_putc(d->out, '\n'), 0);
	}
	return 0;
}

/* The body of a fixture: everything after its first line, which must be
 * an XML comment. */
static const char *
fixture_body(const char *path, const struct buf *file, size_t *len)
{
	const char *nl = memchr(file->data, '\n', file->len);
	size_t first;

	if (nl == NULL)
		fail_msg("%s: no first line saying why the case exists", path);
	first = (size_t)(nl - file->data);
	if (first < 7 || strncmp(file->data, "<!--", 4) != 0 ||
	    strncmp(nl - 3, "-->", 3) != 0)
		fail_msg("%s: the first line is not an XML comment saying why "
		    "the case exists", path);
	*len = file->len - first - 1;
	return nl + 1;
}

/* Runs both parsers on body and appends the dump to out. */
static void
run_case(const char *name, const char *body, size_t len, struct buf *out)
{
	static char unset[] = "unset";	/* tells "left alone" from NULL */
	struct dump d = { out, 0 };
	struct err e;
	char *tok = unset, *code = unset, *msg = unset;
	size_t count = SIZE_MAX;
	long long t0, ms;
	int rc;

	err_clear(&e);
	t0 = retry_now_ms();
	rc = awsxml_describe_instances(body, len, REGION, dump_instance, &d,
	    &tok, &count, &e);
	ms = retry_now_ms() - t0;
	if (ms > PARSE_MAX_MS)
		fail_msg("%s: awsxml_describe_instances took %lld ms", name, ms);
	assert_int_equal(buf_printf(out, "awsxml_describe_instances %d\n", rc),
	    0);
	if (tok == unset)
		fail_msg("%s: *next_token left unset (rc %d)", name, rc);
	if (rc == 0) {
		if (count != d.calls)
			fail_msg("%s: *count %zu but %zu callbacks", name, count,
			    d.calls);
		assert_int_equal(buf_printf(out, "count %zu\nnext_token ",
		    count), 0);
		if (tok == NULL)
			assert_int_equal(buf_puts(out, "NULL"), 0);
		else {
			if (*tok == '\0')
				fail_msg("%s: empty next token instead of NULL",
				    name);
			tu_put_quoted(out, tok);
		}
		assert_int_equal(buf_putc(out, '\n'), 0);
		free(tok);
	} else {
		if (tok != NULL)
			fail_msg("%s: failed with rc %d but set a next token",
			    name, rc);
		if (e.msg[0] == '\0' || (int)e.code != rc)
			fail_msg("%s: rc %d but err code %d, message '%s'", name,
			    rc, (int)e.code, e.msg);
	}

	t0 = retry_now_ms();
	rc = awsxml_error(body, len, &code, &msg);
	ms = retry_now_ms() - t0;
	if (ms > PARSE_MAX_MS)
		fail_msg("%s: awsxml_error took %lld ms", name, ms);
	assert_int_equal(buf_printf(out, "awsxml_error %d", rc), 0);
	if (code == unset || msg == unset)
		fail_msg("%s: awsxml_error left an output unset", name);
	if (rc == 0) {
		assert_non_null(code);
		assert_non_null(msg);
		assert_int_equal(buf_putc(out, ' '), 0);
		tu_put_quoted(out, code);
		assert_int_equal(buf_putc(out, ' '), 0);
		tu_put_quoted(out, msg);
		free(code);
		free(msg);
	} else {
		assert_int_equal(rc, -1);
		assert_null(code);
		assert_null(msg);
	}
	assert_int_equal(buf_putc(out, '\n'), 0);
}

static void
test_fixture(void **state)
{
	const char *xml = *state;
	struct buf file, got;
	char expected[4096];
	const char *body;
	size_t len;

	tu_slurp(xml, &file);
	body = fixture_body(xml, &file, &len);
	buf_init(&got, 0);
	run_case(xml, body, len, &got);
	assert_non_null(got.data);

	assert_true(strlen(xml) > 4);
	assert_true((size_t)snprintf(expected, sizeof(expected), "%.*s.expected",
	    (int)(strlen(xml) - 4), xml) < sizeof(expected));
	tu_check_file(expected, &got);
	buf_free(&got);
	buf_free(&file);
}

/* The body of fixture NAME.xml, malloc'd and NUL-terminated. */
static char *
load_body(const char *name, size_t *len)
{
	char path[4096];
	struct buf file;
	const char *body;
	char *copy;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/xml/%s",
	    tu_fixtures(), name) < sizeof(path));
	tu_slurp(path, &file);
	body = fixture_body(path, &file, len);
	assert_non_null(copy = malloc(*len + 1));
	memcpy(copy, body, *len);
	copy[*len] = '\0';
	buf_free(&file);
	return copy;
}

struct stopper {
	size_t calls;
	size_t stop_at;
};

static int
stop_at(const struct instance *in, void *arg, struct err *e)
{
	struct stopper *s = arg;

	assert_non_null(in->id);
	if (++s->calls == s->stop_at)
		return err_set(e, ERR_FAIL, "stopped at %s", in->id);
	return 0;
}

/* A callback's non-zero value stops the parse and comes back as is. */
static void
test_callback_stops_parse(void **state)
{
	static char unset[] = "unset";
	struct stopper s = { 0, 2 };
	struct err e;
	char *tok = unset;
	size_t len, count = 99;
	char *body = load_body("page-2016.xml", &len);
	int rc;

	(void)state;
	err_clear(&e);
	rc = awsxml_describe_instances(body, len, REGION, stop_at, &s, &tok,
	    &count, &e);
	assert_int_equal(rc, ERR_FAIL);
	assert_int_equal(s.calls, 2);
	assert_null(tok);
	assert_string_equal(e.msg, "stopped at i-0fedcba9876543210");

	/* Any non-zero value, not only ERR_* codes. */
	s.calls = 0;
	s.stop_at = 1;
	rc = awsxml_describe_instances(body, len, REGION, stop_at, &s, &tok,
	    NULL, &e);
	assert_int_equal(rc, ERR_FAIL);
	assert_int_equal(s.calls, 1);
	free(body);
}

static int
return_42(const struct instance *in, void *arg, struct err *e)
{
	(void)in;
	(*(int *)arg)++;
	err_set(e, ERR_FAIL, "forty-two");
	return 42;
}

static void
test_callback_value_returned(void **state)
{
	static char unset[] = "unset";
	struct err e;
	char *tok = unset;
	size_t len;
	char *body = load_body("page-2016.xml", &len);
	int calls = 0;

	(void)state;
	assert_int_equal(awsxml_describe_instances(body, len, REGION, return_42,
	    &calls, &tok, NULL, &e), 42);
	assert_int_equal(calls, 1);
	assert_null(tok);
	free(body);
}

static int
count_only(const struct instance *in, void *arg, struct err *e)
{
	(void)in;
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

/* The parser reads xml[0..len), not up to a NUL; count may be NULL. */
static void
test_len_bounds_the_body(void **state)
{
	struct err e;
	char *tok = NULL;
	size_t len, calls = 0;
	char *body = load_body("page-2016.xml", &len);
	char *padded;

	(void)state;
	assert_non_null(padded = malloc(len + 32));
	memcpy(padded, body, len);
	memcpy(padded + len, "<garbage>&nope;<", 17);
	assert_int_equal(awsxml_describe_instances(padded, len, REGION,
	    count_only, &calls, &tok, NULL, &e), 0);
	assert_int_equal(calls, 3);
	assert_non_null(tok);
	free(tok);
	tok = NULL;

	/* One byte short of the closing '>' is no longer well-formed. */
	while (len > 0 && padded[len - 1] != '>')
		len--;
	calls = 0;
	assert_int_not_equal(awsxml_describe_instances(padded, len - 1, REGION,
	    count_only, &calls, &tok, NULL, &e), 0);
	assert_null(tok);
	assert_int_equal(calls, 0);

	/* And zero bytes is an error for both parsers. */
	assert_int_equal(awsxml_describe_instances(padded, 0, REGION,
	    count_only, &calls, &tok, NULL, &e), ERR_UNAVAILABLE);
	{
		char *code = NULL, *msg = NULL;

		assert_int_equal(awsxml_error(padded, 0, &code, &msg), -1);
		assert_null(code);
		assert_null(msg);
	}
	free(padded);
	free(body);
}

/* The region argument is copied, not borrowed. */
static int
check_region(const struct instance *in, void *arg, struct err *e)
{
	const char *want = arg;

	(void)e;
	assert_string_equal(in->region, want);
	assert_true(in->region != want);
	return 0;
}

static void
test_region_copied(void **state)
{
	struct err e;
	char *tok = NULL;
	size_t len, count = 0;
	char *body = load_body("group-scope.xml", &len);
	char region[] = "eu-north-1";

	(void)state;
	assert_int_equal(awsxml_describe_instances(body, len, region,
	    check_region, region, &tok, &count, &e), 0);
	assert_int_equal(count, 1);
	assert_null(tok);
	free(body);
}

/* ---- awsxml_assume_role */

#define STS_OPEN "<AssumeRoleResponse " \
	"xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
#define STS_CREDS(ak, sk, tok, exp) \
	"<AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::222222222222:" \
	"assumed-role/r/s</Arn><AssumedRoleId>AROAX:s</AssumedRoleId>" \
	"</AssumedRoleUser><Credentials><AccessKeyId>" ak "</AccessKeyId>" \
	"<SecretAccessKey>" sk "</SecretAccessKey><SessionToken>" tok \
	"</SessionToken><Expiration>" exp "</Expiration></Credentials>" \
	"</AssumeRoleResult>"
#define STS_CLOSE "<ResponseMetadata><RequestId>c6104cbe</RequestId>" \
	"</ResponseMetadata></AssumeRoleResponse>"

struct sts_case {
	const char *why;
	const char *xml;
	int rc;
	const char *ak, *sk, *tok, *exp;	/* rc 0 */
	const char *msg;			/* rc != 0: in e.msg */
};

static const struct sts_case sts_cases[] = {
	{ "an AssumeRoleResponse as STS sends it",
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" STS_OPEN
	    STS_CREDS("ASIA0123456789ABCDEF", "sk/0123+abc", "tok+/=0123",
	    "2026-11-22T05:00:00Z") STS_CLOSE,
	    0, "ASIA0123456789ABCDEF", "sk/0123+abc", "tok+/=0123",
	    "2026-11-22T05:00:00Z", NULL },
	{ "a namespace prefix, whitespace around the values, an entity and "
	  "a CDATA section are all the same text",
	    "<s:AssumeRoleResponse xmlns:s=\"https://sts.amazonaws.com/doc/"
	    "2011-06-15/\"><s:AssumeRoleResult><s:Credentials>"
	    "<s:AccessKeyId>\n  ASIAX\n</s:AccessKeyId>"
	    "<s:SecretAccessKey>a&amp;b</s:SecretAccessKey>"
	    "<s:SessionToken><![CDATA[t<o>k]]></s:SessionToken>"
	    "<s:Expiration>2026-11-22T05:00:00.000Z</s:Expiration>"
	    "</s:Credentials></s:AssumeRoleResult></s:AssumeRoleResponse>",
	    0, "ASIAX", "a&b", "t<o>k", "2026-11-22T05:00:00.000Z", NULL },
	{ "an STS error document is not credentials",
	    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
	    "<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no"
	    "</Message></Error><RequestId>x</RequestId></ErrorResponse>",
	    ERR_UNAVAILABLE, NULL, NULL, NULL, NULL, "not an AssumeRoleResponse" },
	{ "the root in no namespace",
	    "<AssumeRoleResponse>" STS_CREDS("A", "B", "C",
	    "2026-11-22T05:00:00Z") "</AssumeRoleResponse>",
	    ERR_UNAVAILABLE, NULL, NULL, NULL, NULL, "namespace" },
	{ "the root in EC2's namespace",
	    "<AssumeRoleResponse xmlns=\"http://ec2.amazonaws.com/doc/"
	    "2016-11-15/\">" STS_CREDS("A", "B", "C", "2026-11-22T05:00:00Z")
	    "</AssumeRoleResponse>",
	    ERR_UNAVAILABLE, NULL, NULL, NULL, NULL, "namespace" },
	{ "no SessionToken",
	    STS_OPEN "<AssumeRoleResult><Credentials><AccessKeyId>A"
	    "</AccessKeyId><SecretAccessKey>B</SecretAccessKey><Expiration>"
	    "2026-11-22T05:00:00Z</Expiration></Credentials>"
	    "</AssumeRoleResult>" STS_CLOSE,
	    ERR_UNAVAILABLE, NULL, NULL, NULL, NULL,
	    "without Credentials/SessionToken" },
	{ "an empty SecretAccessKey",
	    STS_OPEN STS_CREDS("A", " ", "C", "2026-11-22T05:00:00Z")
	    STS_CLOSE,
	    ERR_UNAVAILABLE, NULL, NULL, NULL, NULL,
	    "empty Credentials/SecretAccessKey" },
	{ "Credentials outside AssumeRoleResult do not count",
	    STS_OPEN "<Credentials><AccessKeyId>A</AccessKeyId>"
	    "<SecretAccessKey>B</SecretAccessKey><SessionToken>C"
	    "</SessionToken><Expiration>2026-11-22T05:00:00Z</Expiration>"
	    "</Credentials>" STS_CLOSE,
	    ERR_UNAVAILABLE, NULL, NULL, NULL, NULL,
	    "without Credentials/AccessKeyId" },
	{ "a truncated answer",
	    STS_OPEN STS_CREDS("A", "B", "C", "2026-11-22T05:00:00Z"),
	    ERR_UNAVAILABLE, NULL, NULL, NULL, NULL, "not well-formed" },
	{ "an internal DTD (entities) is refused",
	    "<!DOCTYPE AssumeRoleResponse [<!ENTITY k \"leak\">]>" STS_OPEN
	    STS_CREDS("A", "&k;", "C", "2026-11-22T05:00:00Z") STS_CLOSE,
	    ERR_UNAVAILABLE, NULL, NULL, NULL, NULL, "not well-formed" },
	{ "an empty body",
	    "",
	    ERR_UNAVAILABLE, NULL, NULL, NULL, NULL, "not well-formed" },
};

static void
test_assume_role(void **state)
{
	const struct sts_case *c = *state;
	static char unset[] = "unset";
	char *v[4] = { unset, unset, unset, unset };
	const char *want[4];
	struct err e;
	size_t i;
	int rc;

	want[0] = c->ak;
	want[1] = c->sk;
	want[2] = c->tok;
	want[3] = c->exp;
	err_clear(&e);
	rc = awsxml_assume_role(c->xml, strlen(c->xml), &v[0], &v[1], &v[2],
	    &v[3], &e);
	if (rc != c->rc)
		fail_msg("%s: rc %d '%s', expected %d", c->why, rc, e.msg,
		    c->rc);
	for (i = 0; i < 4; i++) {
		if (rc != 0) {
			if (v[i] != NULL)
				fail_msg("%s: output %zu set on failure", c->why,
				    i);
			continue;
		}
		if (v[i] == NULL || strcmp(v[i], want[i]) != 0)
			fail_msg("%s: output %zu is '%s', expected '%s'",
			    c->why, i, v[i] ? v[i] : "NULL", want[i]);
		free(v[i]);
	}
	if (rc != 0 && ((int)e.code != rc || strstr(e.msg, c->msg) == NULL))
		fail_msg("%s: code %d '%s', expected '%s'", c->why,
		    (int)e.code, e.msg, c->msg);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_callback_stops_parse),
		cmocka_unit_test(test_callback_value_returned),
		cmocka_unit_test(test_len_bounds_the_body),
		cmocka_unit_test(test_region_copied),
	};
	struct tu_group g = TU_GROUP("awsxml");

	tu_add_tests(&g, fixed, TU_NELEM(fixed));
	tu_add_glob(&g, "xml/*.xml", test_fixture);
	TU_ADD_ROWS(&g, sts_cases, test_assume_role);
	return tu_run(&g, NULL, NULL);
}
