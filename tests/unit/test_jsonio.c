/* test_jsonio: value trees written as JSON, and UTF-8 repair.
 *
 * Two tables, one cmocka test per row: strings (as a value or as a map
 * key) and the exact JSON jsonio_emit must write for them, and byte
 * strings with what util_utf8_repair must make of them. A new case is a
 * new row.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonio.h"
#include "testutil.h"
#include "util.h"

struct string_case {
	const char *why;
	const char *in;
	const char *json;	/* the string as JSON, quotes included */
};

static const struct string_case string_cases[] = {
	{ "plain ASCII", "web01", "\"web01\"" },
	{ "empty", "", "\"\"" },
	{ "a double quote", "say \"hi\"", "\"say \\\"hi\\\"\"" },
	{ "a backslash", "C:\\dir", "\"C:\\\\dir\"" },
	{ "newline, tab, carriage return", "a\nb\tc\rd",
	    "\"a\\nb\\tc\\rd\"" },
	{ "other control characters as \\u escapes", "\x01\x1f",
	    "\"\\u0001\\u001F\"" },
	{ "DEL passes (it is not a JSON control character)", "\x7f",
	    "\"\x7f\"" },
	{ "a slash is not escaped", "a/b", "\"a/b\"" },
	{ "non-ASCII stays UTF-8", "Z\xc3\xbcrich \xe6\x9d\xb1",
	    "\"Z\xc3\xbcrich \xe6\x9d\xb1\"" },
	{ "a 4-byte character", "\xf0\x9f\x9a\x80", "\"\xf0\x9f\x9a\x80\"" },
	{ "U+2028 stays as it is (valid JSON)", "\xe2\x80\xa8",
	    "\"\xe2\x80\xa8\"" },
	{ "a lone 0xff becomes U+FFFD", "a\xff" "b", "\"a\xef\xbf\xbd" "b\"" },
	{ "Latin-1 e-acute becomes U+FFFD", "caf\xe9",
	    "\"caf\xef\xbf\xbd\"" },
	{ "a truncated sequence becomes U+FFFD", "x\xe6\x9d",
	    "\"x\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "an overlong '/' is not passed", "\xc0\xaf",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "a UTF-8 encoded surrogate is not passed", "\xed\xa0\x80",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
};

static char *
emit(const struct value *v)
{
	struct buf out;
	struct err e = { 0 };

	buf_init(&out, 0);
	if (jsonio_emit(v, &out, &e) != 0)
		fail_msg("jsonio_emit: %s", e.msg);
	return buf_steal(&out);
}

/* The string as a list item and as a map key. */
static void
test_string(void **state)
{
	const struct string_case *c = *state;
	struct value *list = value_list(), *map = value_map();
	char *got, want[512];

	assert_int_equal(value_list_add(list, value_str(c->in)), 0);
	got = emit(list);
	snprintf(want, sizeof(want), "[\n  %s\n]\n", c->json);
	assert_string_equal(got, want);
	free(got);

	assert_int_equal(value_map_set(map, c->in, value_int(1)), 0);
	got = emit(map);
	snprintf(want, sizeof(want), "{\n  %s: 1\n}\n", c->json);
	assert_string_equal(got, want);
	free(got);
	value_free(list);
	value_free(map);
}

/* Map order is kept, every type has its JSON form. */
static void
test_document(void **state)
{
	struct value *m = value_map(), *l = value_list();
	char *got;

	(void)state;
	assert_int_equal(value_map_set(m, "z", value_null()), 0);
	assert_int_equal(value_map_set(m, "a", value_bool(1)), 0);
	assert_int_equal(value_map_set(m, "m", value_int(-9007199254740993LL)),
	    0);
	assert_int_equal(value_map_set(m, "f", value_float(2.5)), 0);
	assert_int_equal(value_map_set(m, "l", l), 0);
	assert_int_equal(value_map_set(m, "e", value_map()), 0);
	assert_int_equal(value_list_add(l, value_bool(0)), 0);
	got = emit(m);
	assert_string_equal(got, "{\n  \"z\": null,\n  \"a\": true,\n"
	    "  \"m\": -9007199254740993,\n  \"f\": 2.5,\n"
	    "  \"l\": [\n    false\n  ],\n  \"e\": {}\n}\n");
	free(got);
	value_free(m);
}

/* A float JSON cannot hold is refused, not written as "nan". */
static void
test_not_finite(void **state)
{
	double bad[] = { NAN, INFINITY, -INFINITY };
	struct buf out;
	struct err e = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < TU_NELEM(bad); i++) {
		struct value *l = value_list();

		assert_int_equal(value_list_add(l, value_float(bad[i])), 0);
		buf_init(&out, 0);
		assert_int_equal(jsonio_emit(l, &out, &e), ERR_USAGE);
		assert_int_equal(out.len, 0);
		assert_non_null(strstr(e.msg, "no JSON form"));
		buf_free(&out);
		value_free(l);
	}
}

/* util_utf8_repair keeps valid text byte for byte. */
static void
test_repair_keeps_valid(void **state)
{
	const char *valid[] = { "", "abc", "Z\xc3\xbcrich",
	    "\xe6\x9d\xb1\xe4\xba\xac", "\xf0\x9f\x9a\x80",
	    "\xf4\x8f\xbf\xbf" };
	size_t i;

	(void)state;
	for (i = 0; i < TU_NELEM(valid); i++) {
		char *got = util_utf8_repair(valid[i]);

		assert_string_equal(got, valid[i]);
		assert_true(util_utf8_valid(got, strlen(got)));
		free(got);
	}
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_not_finite),
		cmocka_unit_test(test_repair_keeps_valid),
	};
	struct tu_group g = TU_GROUP("jsonio");

	tu_add_tests(&g, fixed, TU_NELEM(fixed));
	TU_ADD_ROWS(&g, string_cases, test_string);
	return tu_run(&g, NULL, NULL);
}
