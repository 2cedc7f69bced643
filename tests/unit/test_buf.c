/* test_buf: struct buf (cap, growth, steal) and the util string helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "testutil.h"
#include "util.h"

/* A refused append leaves data, len and size exactly as they were. */
static void
test_cap_refusal_unchanged(void **state)
{
	struct buf b;
	char *data;
	size_t size;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345"), 0);
	data = b.data;
	size = b.size;

	assert_int_equal(buf_puts(&b, "6789"), -1);
	assert_int_equal(buf_printf(&b, "%d", 6789), -1);
	assert_int_equal(buf_append(&b, "6789", 4), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.size, size);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "12345");

	/* Exactly up to the cap is fine; one more byte is not. */
	assert_int_equal(buf_printf(&b, "%s", "678"), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(buf_putc(&b, '9'), -1);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	buf_free(&b);
}

/* Refused before anything was stored: the buffer stays unallocated. */
static void
test_cap_refusal_on_empty(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4);
	assert_int_equal(buf_puts(&b, "hello"), -1);
	assert_int_equal(buf_printf(&b, "%s", "hello"), -1);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.size, 0);
	buf_free(&b);
}

/* cap 0 means "no cap beyond SIZE_MAX/2", which still stops size_t wrap. */
static void
test_no_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(b.cap, SIZE_MAX / 2);
	assert_int_equal(buf_puts(&b, "abc"), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 1), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX / 2), -1);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	buf_free(&b);
}

/* buf_printf grows across many reallocations and one big jump, and the
 * result always matches what snprintf makes of the same arguments. */
static void
test_printf_growth(void **state)
{
	struct buf b;
	char *want, *big;
	size_t off = 0, i, wantsz = 1 << 20;

	(void)state;
	assert_non_null(want = malloc(wantsz));
	buf_init(&b, 0);
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	for (i = 0; i < 1000; i++) {
		assert_int_equal(buf_printf(&b, "[%zu:%s]", i, "abc"), 0);
		off += (size_t)snprintf(want + off, wantsz - off, "[%zu:%s]", i,
		    "abc");
		assert_int_equal(b.len, off);
		assert_true(b.size > b.len);
	}
	assert_string_equal(b.data, want);

	assert_non_null(big = malloc(100001));
	memset(big, 'z', 100000);
	big[100000] = '\0';
	assert_int_equal(buf_printf(&b, "<%s>", big), 0);
	off += (size_t)snprintf(want + off, wantsz - off, "<%s>", big);
	assert_int_equal(b.len, off);
	assert_int_equal(strlen(b.data), b.len);
	assert_string_equal(b.data, want);
	free(big);
	free(want);
	buf_free(&b);
}

/* Binary data with NUL bytes is counted in len and kept. */
static void
test_append_binary(void **state)
{
	static const char bin[] = { 'a', '\0', 'b', '\0' };
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, bin, sizeof(bin)), 0);
	assert_int_equal(buf_putc(&b, '\0'), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "a\0b\0\0", 6);
	buf_free(&b);
}

/* buf_steal on a never-used buffer gives "", never NULL and never
 * uninitialised bytes. The heap is dirtied first so that storage the
 * library forgets to terminate is noticed without a sanitizer too. */
static void
test_steal_empty(void **state)
{
	struct buf b;
	char *p, *dirty;
	int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		assert_non_null(dirty = malloc(64));
		memset(dirty, 'X', 64);
		free(dirty);
		buf_init(&b, 0);
		p = buf_steal(&b);
		assert_non_null(p);
		assert_string_equal(p, "");
		assert_null(b.data);
		assert_int_equal(b.len, 0);
		free(p);
	}
}

/* After a reset the buffer is empty but keeps its storage; a steal then
 * gives "" and leaves the buffer usable. */
static void
test_reset_and_steal(void **state)
{
	struct buf b;
	char *p, *data;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "some text"), 0);
	data = b.data;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, data);
	assert_string_equal(b.data, "");
	p = buf_steal(&b);
	assert_string_equal(p, "");
	free(p);

	assert_int_equal(buf_puts(&b, "again"), 0);
	p = buf_steal(&b);
	assert_string_equal(p, "again");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.size, 0);
	free(p);
	assert_int_equal(buf_puts(&b, "reused"), 0);
	assert_string_equal(b.data, "reused");
	buf_wipe(&b);
	assert_null(b.data);
	buf_free(NULL);
	buf_wipe(NULL);
	buf_reset(&b);		/* on a freed buffer: no crash */
}

struct utf8_case {
	const char *why;
	const char *s;
	size_t n;
	int valid;
};

#define U(why, lit, valid) { why, lit, sizeof(lit) - 1, valid }

static const struct utf8_case utf8_cases[] = {
	U("empty", "", 1),
	U("ASCII", "web01.example.com", 1),
	U("2-byte e-acute", "caf\xc3\xa9", 1),
	U("3-byte euro sign", "\xe2\x82\xac", 1),
	U("3-byte U+FFFF", "\xef\xbf\xbf", 1),
	U("3-byte U+E000 after the surrogates", "\xee\x80\x80", 1),
	U("4-byte U+1D11E", "\xf0\x9d\x84\x9e", 1),
	U("4-byte U+1F600 between ASCII", "a\xf0\x9f\x98\x80z", 1),
	U("4-byte U+10FFFF, the last code point", "\xf4\x8f\xbf\xbf", 1),
	U("an embedded NUL counted by n", "a\0b", 1),
	U("overlong 2-byte NUL", "\xc0\x80", 0),
	U("overlong 2-byte '?'", "\xc1\xbf", 0),
	U("overlong 3-byte", "\xe0\x80\xaf", 0),
	U("overlong 3-byte U+07FF", "\xe0\x9f\xbf", 0),
	U("overlong 4-byte", "\xf0\x80\x80\xaf", 0),
	U("overlong 4-byte U+FFFF", "\xf0\x8f\xbf\xbf", 0),
	U("surrogate U+D800", "\xed\xa0\x80", 0),
	U("surrogate U+DFFF", "\xed\xbf\xbf", 0),
	U("a surrogate pair as CESU-8", "\xed\xa0\xbd\xed\xb8\x80", 0),
	U("above U+10FFFF", "\xf4\x90\x80\x80", 0),
	U("an F5 lead byte", "\xf5\x80\x80\x80", 0),
	U("FE", "\xfe", 0),
	U("FF", "\xff", 0),
	U("a lone continuation byte", "a\x80", 0),
	U("truncated 2-byte at the end", "caf\xc3", 0),
	U("truncated 3-byte at the end", "\xe2\x82", 0),
	U("truncated 4-byte at the end", "\xf0\x9f\x98", 0),
	U("truncated 3-byte before ASCII", "\xe2\x82" "A", 0),
	U("a lead byte followed by a lead byte", "\xc3\xc3\xa9", 0),
};

static void
test_utf8(void **state)
{
	const struct utf8_case *c = *state;
	int got = util_utf8_valid(c->s, c->n) != 0;

	if (got != c->valid)
		fail_msg("%s: util_utf8_valid says %s", c->why,
		    got ? "valid" : "invalid");
}

/* n bounds the check: a valid sequence cut by n is truncated. */
static void
test_utf8_n(void **state)
{
	(void)state;
	assert_true(util_utf8_valid("caf\xc3\xa9", 5));
	assert_false(util_utf8_valid("caf\xc3\xa9", 4));
	assert_true(util_utf8_valid("caf\xc3\xa9", 3));
	assert_true(util_utf8_valid("\xff", 0));
}

struct trim_case {
	const char *in, *out;
};

static const struct trim_case trim_cases[] = {
	{ "abc", "abc" },
	{ "  abc", "abc" },
	{ "abc  ", "abc" },
	{ " \t\r\n abc \t\r\n", "abc" },
	{ "  a b\tc  ", "a b\tc" },
	{ "", "" },
	{ " ", "" },
	{ " \t \r\n ", "" },
	{ "x", "x" },
	{ "\vabc", "\vabc" },	/* only space, tab, CR and LF are blanks */
};

static void
test_trim(void **state)
{
	char s[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(trim_cases) / sizeof(trim_cases[0]); i++) {
		assert_true(strlen(trim_cases[i].in) < sizeof(s));
		strcpy(s, trim_cases[i].in);
		assert_ptr_equal(util_trim(s), s);
		if (strcmp(s, trim_cases[i].out) != 0)
			fail_msg("util_trim(\"%s\") = \"%s\", expected \"%s\"",
			    trim_cases[i].in, s, trim_cases[i].out);
	}
}

/* A list grown one item at a time holds 4, 8, 16, ... items, is left as
 * it is until full, keeps every item across the reallocations, and a
 * size that would overflow is refused. */
static void
test_list_room(void **state)
{
	int *list = NULL, *p;
	size_t n;

	(void)state;
	assert_int_equal(util_list_cap(0), 4);
	assert_int_equal(util_list_cap(3), 4);
	assert_int_equal(util_list_cap(4), 8);
	assert_int_equal(util_list_cap(9), 16);
	for (n = 0; n < 1000; n++) {
		if ((p = util_list_room(list, n, sizeof(*list))) == NULL)
			fail_msg("out of memory at %zu", n);
		if (n > 4 && (n & (n - 1)) != 0)	/* not full: kept */
			assert_ptr_equal(p, list);
		list = p;
		list[n] = (int)n;
	}
	for (n = 0; n < 1000; n++)
		assert_int_equal(list[n], (int)n);
	assert_null(util_list_room(list, 1024, SIZE_MAX / 1024));
	free(list);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_cap_refusal_unchanged),
		cmocka_unit_test(test_cap_refusal_on_empty),
		cmocka_unit_test(test_no_cap),
		cmocka_unit_test(test_printf_growth),
		cmocka_unit_test(test_append_binary),
		cmocka_unit_test(test_steal_empty),
		cmocka_unit_test(test_reset_and_steal),
		cmocka_unit_test(test_utf8_n),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_list_room),
	};
	struct tu_group g = TU_GROUP("buf");

	tu_add_tests(&g, fixed, TU_NELEM(fixed));
	TU_ADD_ROWS(&g, utf8_cases, test_utf8);
	return tu_run(&g, NULL, NULL);
}
