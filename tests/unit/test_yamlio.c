/* test_yamlio: yamlio_parse (YAML 1.2 core scalars, refusals, limits) and
 * yamlio_emit (strings that survive any YAML reader), as tables.
 *
 * Three tables, one cmocka test per row:
 *   strings[]   each string is emitted as a value, as a key and inside a
 *               list, then read back with yamlio_parse: it must come back
 *               as the identical VAL_STR. yamlio_parse refuses the plain
 *               scalars YAML 1.1 would misread, so a string the emitter
 *               forgot to quote fails here. The row says whether the
 *               emitter may write it plain.
 *   parses[]    YAML text and what yamlio_parse makes of it, as a dump
 *               (see dump()), or "error: TEXT" where TEXT must be in the
 *               message (file name "t.yaml", so TEXT can hold the
 *               position: "t.yaml:3:1: duplicate key 'a'").
 *   floats[]    doubles and the exact text the emitter writes for them.
 * Beside them: a corpus of short strings checked against the YAML 1.1 and
 * 1.2 resolvers (a plain-safe string must be a string to both), the node
 * budget, the nesting limit and alias sharing.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "retry.h"
#include "testutil.h"
#include "value.h"
#include "yamlio.h"

#define NAME "t.yaml"
#define BUDGET_MAX_MS 1000

/* ---- helpers ---- */

/* The shortest %g that reads back as f. */
static void
put_float(struct buf *out, double f)
{
	char num[64];
	int p;

	if (isnan(f)) {
		assert_int_equal(buf_puts(out, "nan"), 0);
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(num, sizeof(num), "%.*g", p, f);
		if (strtod(num, NULL) == f)
			break;
	}
	if (f == floor(f) && fabs(f) < 1e15)
		snprintf(num, sizeof(num), "%.0f", f);
	if (f == 0 && signbit(f))
		snprintf(num, sizeof(num), "-0");
	assert_int_equal(buf_puts(out, num), 0);
}

/* A typed one-line dump: ~, true, false, i:N, f:N, "str", [a, b],
 * {"k": v}. */
static void
dump(struct buf *out, const struct value *v)
{
	size_t i;

	switch (v->type) {
	case VAL_NULL:
		assert_int_equal(buf_puts(out, "~"), 0);
		return;
	case VAL_BOOL:
		assert_int_equal(buf_puts(out, v->b ? "true" : "false"), 0);
		return;
	case VAL_INT:
		assert_int_equal(buf_printf(out, "i:%lld", v->i), 0);
		return;
	case VAL_FLOAT:
		assert_int_equal(buf_puts(out, "f:"), 0);
		put_float(out, v->f);
		return;
	case VAL_STR:
		assert_non_null(v->s);
		tu_put_quoted(out, v->s);
		return;
	case VAL_LIST:
		assert_int_equal(buf_putc(out, '['), 0);
		for (i = 0; i < v->n; i++) {
			if (i > 0)
				assert_int_equal(buf_puts(out, ", "), 0);
			dump(out, v->items[i]);
		}
		assert_int_equal(buf_putc(out, ']'), 0);
		return;
	case VAL_MAP:
		assert_int_equal(buf_putc(out, '{'), 0);
		for (i = 0; i < v->n; i++) {
			if (i > 0)
				assert_int_equal(buf_puts(out, ", "), 0);
			tu_put_quoted(out, v->keys[i]);
			assert_int_equal(buf_puts(out, ": "), 0);
			dump(out, v->items[i]);
		}
		assert_int_equal(buf_putc(out, '}'), 0);
		return;
	}
	fail_msg("value of unknown type %d", (int)v->type);
}

static char *
dump_str(const struct value *v)
{
	struct buf b;
	char *s;

	buf_init(&b, 0);
	dump(&b, v);
	assert_non_null(s = buf_steal(&b));
	return s;
}

static char *
emit_str(const struct value *v)
{
	struct buf b;
	struct err e;
	char *s;

	buf_init(&b, 0);
	err_clear(&e);
	if (yamlio_emit(v, &b, &e) != 0)
		fail_msg("yamlio_emit: %s", e.msg);
	assert_non_null(s = buf_steal(&b));
	return s;
}

static struct value *
parse_ok(const char *text, size_t len, const char *why)
{
	struct value *v;
	struct err e;

	err_clear(&e);
	if (yamlio_parse(text, len, NAME, &v, &e) != 0)
		fail_msg("%s: cannot read back\n%s\n: %s", why, text, e.msg);
	assert_non_null(v);
	return v;
}

static int
matches(const char *re, const char *s)
{
	regex_t r;
	int ok;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		fail_msg("bad regex %s", re);
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

/* ---- strings that must survive emit + parse ---- */

struct str_case {
	const char *why;
	const char *s;
	int plain;	/* the emitter may write it plain */
};

static const struct str_case strings[] = {
	{ "YAML 1.1 false", "no", 0 },
	{ "YAML 1.1 true", "yes", 0 },
	{ "YAML 1.1 true (on)", "on", 0 },
	{ "YAML 1.1 false (off)", "off", 0 },
	{ "a boolean", "true", 0 },
	{ "a boolean", "false", 0 },
	{ "null", "null", 0 },
	{ "null as ~", "~", 0 },
	{ "a hexadecimal integer", "0x1F", 0 },
	{ "a YAML 1.2 float, a YAML 1.1 string", "1e3", 0 },
	{ "a YAML 1.1 octal", "012", 0 },
	{ "a date (YAML 1.1 timestamp)", "2024-01-01", 0 },
	{ "a timestamp with time", "2024-01-01T10:00:00Z", 0 },
	{ "an alias", "*ref", 0 },
	{ "an anchor", "&a", 0 },
	{ "a tag", "!tag", 0 },
	{ "a secondary tag", "!!str", 0 },
	{ "a block sequence entry", "- x", 0 },
	{ "a mapping", "a: b", 0 },
	{ "a comment", "#x", 0 },
	{ "a comment after a space", "a #x", 0 },
	{ "a leading space", " x", 0 },
	{ "a trailing space", "x ", 0 },
	{ "only a space", " ", 0 },
	{ "empty", "", 0 },
	{ "a newline inside", "a\nb", 0 },
	{ "a trailing newline", "a\n", 0 },
	{ "only a newline", "\n", 0 },
	{ "CRLF", "a\r\nb", 0 },
	{ "a tab", "a\tb", 0 },
	{ "a leading tab", "\tx", 0 },
	{ "a double quote", "say \"hi\"", 0 },
	{ "a single quote", "it's", 0 },
	{ "a lone single quote", "'", 0 },
	{ "a backslash", "C:\\dir\\n", 0 },
	{ "non-ASCII (Latin)", "Gr\xc3\xbc\xc3\x9f" "e", 0 },
	{ "non-ASCII first", "\xc3\x89t\xc3\xa9", 0 },
	{ "CJK", "\xe6\x9d\xb1\xe4\xba\xac", 0 },
	{ "an emoji (4-byte UTF-8)", "\xf0\x9f\x9a\x80", 0 },
	{ "U+2028 LINE SEPARATOR", "a\xe2\x80\xa8" "b", 0 },
	{ "U+2029 PARAGRAPH SEPARATOR", "a\xe2\x80\xa9" "b", 0 },
	{ "U+0085 NEXT LINE", "a\xc2\x85" "b", 0 },
	{ "U+FEFF BOM first", "\xef\xbb\xbfx", 0 },
	{ "U+00A0 no-break space", "a\xc2\xa0", 0 },
	{ "control characters", "\x01\x02\x1b[0m\x7f", 0 },
	{ "a bell and a backspace", "a\x07\x08", 0 },
	{ "a lone '-'", "-", 0 },
	{ "a lone ':'", ":", 0 },
	{ "a lone '?'", "?", 0 },
	{ "a '?' key indicator", "? x", 0 },
	{ "a directive", "%YAML 1.1", 0 },
	{ "a lone '%'", "%", 0 },
	{ "a reserved '@'", "@x", 0 },
	{ "a reserved backtick", "`x`", 0 },
	{ "a literal block", "|", 0 },
	{ "a folded block", ">", 0 },
	{ "YAML 1.1 value key", "=", 0 },
	{ "YAML 1.1 merge key", "<<", 0 },
	{ "infinity", ".inf", 0 },
	{ "negative infinity", "-.inf", 0 },
	{ "not a number", ".nan", 0 },
	{ "a YAML 1.1 binary", "0b1", 0 },
	{ "a YAML 1.1 sexagesimal", "1:30", 0 },
	{ "a YAML 1.1 integer with '_'", "1_000", 0 },
	{ "a signed integer", "+1", 0 },
	{ "a negative integer", "-1", 0 },
	{ "a YAML 1.2 octal", "0o7", 0 },
	{ "capitalised YAML 1.1 true", "Yes", 0 },
	{ "upper-case YAML 1.1 false", "NO", 0 },
	{ "YAML 1.1 y", "y", 0 },
	{ "YAML 1.1 n", "n", 0 },
	{ "YAML 1.1 Y", "Y", 0 },
	{ "null upper-case", "NULL", 0 },
	{ "a capitalised boolean", "True", 0 },
	{ "Psych reads any case of yes", "yEs", 0 },
	{ "an integer", "42", 0 },
	{ "zero", "0", 0 },
	{ "a float", "10.5", 0 },
	{ "a float with an exponent", "1.0e+3", 0 },
	{ "a version number", "1.2.3", 0 },
	{ "a leading dot", ".hidden", 0 },
	{ "a flow sequence", "[a, b]", 0 },
	{ "a flow mapping", "{a: b}", 0 },
	{ "a comma", "a,b", 0 },
	{ "a document start", "---", 0 },
	{ "a document end", "...", 0 },
	{ "a Ruby symbol for Psych", ":sym", 0 },
	{ "a colon at the end", "a:", 0 },
	{ "an EC2 ARN", "arn:aws:iam::123456789012:role/x", 0 },
	{ "a URL", "https://example.com/a?b=c#d", 0 },
	{ "a word", "web01", 1 },
	{ "a host name", "ip-10-0-0-1.ec2.internal", 1 },
	{ "an instance id", "i-0123456789abcdef0", 1 },
	{ "a path after a letter", "a/b/c", 1 },
	{ "a word starting with y", "yesterday", 1 },
	{ "a word starting with n", "nothing", 1 },
	{ "e3 is no number", "e3", 1 },
	{ "inf without a dot is a string", "inf", 1 },
	{ "nan without a dot is a string", "nan", 1 },
	{ "a mixed-case word", "CamelCase_x", 1 },
};

/* Emits v, reads it back and checks it is the same tree; returns the
 * emitted text (malloc'd). */
static char *
roundtrip(const struct value *v, const char *why)
{
	struct value *back;
	char *text, *want, *got;

	text = emit_str(v);
	back = parse_ok(text, strlen(text), why);
	want = dump_str(v);
	got = dump_str(back);
	if (strcmp(want, got) != 0)
		fail_msg("%s: wrote\n%s\nread back\n  %s\nexpected\n  %s", why,
		    text, got, want);
	free(want);
	free(got);
	value_free(back);
	return text;
}

static void
check_string(const char *s, int plain, const char *why)
{
	struct value *m, *l, *k;
	struct buf want;
	char *text;

	if (plain >= 0 && yamlio_plain_safe(s) != plain)
		fail_msg("%s: yamlio_plain_safe is %d, expected %d", why,
		    yamlio_plain_safe(s), plain);

	/* as a value */
	assert_non_null(m = value_map());
	assert_int_equal(value_map_set(m, "k", value_str(s)), 0);
	text = roundtrip(m, why);
	buf_init(&want, 0);
	assert_int_equal(buf_printf(&want, "---\nk: %s\n", s), 0);
	if (plain == 1 && strcmp(text, want.data) != 0)
		fail_msg("%s: not written plain:\n%s", why, text);
	if (plain == 0 && strncmp(text, "---\nk: \"", 8) != 0)
		fail_msg("%s: not double-quoted:\n%s", why, text);
	buf_free(&want);
	free(text);
	value_free(m);

	/* as a key, and inside a list */
	assert_non_null(k = value_map());
	assert_int_equal(value_map_set(k, s, value_str("v")), 0);
	assert_non_null(l = value_list());
	assert_int_equal(value_list_add(l, value_str(s)), 0);
	assert_int_equal(value_list_add(l, value_str(s)), 0);
	assert_int_equal(value_map_set(k, "list", l), 0);
	free(roundtrip(k, why));
	value_free(k);
}

static void
test_string(void **state)
{
	const struct str_case *c = *state;

	check_string(c->s, c->plain, c->why);
}

/* Long strings: plain up to 128 characters, quoted beyond; never folded. */
static void
test_long_strings(void **state)
{
	static const size_t lens[] = { 127, 128, 129, 256, 1024, 70000 };
	char *s;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		assert_non_null(s = malloc(lens[i] + 1));
		for (j = 0; j < lens[i]; j++)
			s[j] = (char)('a' + j % 26);
		s[lens[i]] = '\0';
		check_string(s, lens[i] <= 128, "a long word");
		for (j = 7; j < lens[i]; j += 8)
			s[j] = ' ';
		check_string(s, 0, "a long string with spaces");
		free(s);
	}
}

/* A 256-character tag value of awkward characters. */
static void
test_long_awkward(void **state)
{
	static const char unit[] = "no: \"x\"\\ \xc3\xa9#";
	char s[257];
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++)
		s[i] = unit[i % (sizeof(unit) - 1)];
	s[256] = '\0';
	/* don't cut the 2-byte UTF-8 character in half */
	if ((unsigned char)s[255] == 0xc3)
		s[255] = 'x';
	check_string(s, 0, "256 awkward characters");
}

/* ---- the resolvers a plain scalar must not trigger ---- */

/* The oracles' patterns, compiled once (test_corpus asks ~20000 times). */
struct oracle {
	const char *const *res;
	size_t n;
	regex_t *compiled;
};

static int
oracle_match(struct oracle *o, const char *s)
{
	size_t i;

	if (o->compiled == NULL) {
		assert_non_null(o->compiled = calloc(o->n, sizeof(regex_t)));
		for (i = 0; i < o->n; i++)
			if (regcomp(&o->compiled[i], o->res[i], REG_EXTENDED |
			    REG_NOSUB) != 0)
				fail_msg("bad regex %s", o->res[i]);
	}
	for (i = 0; i < o->n; i++)
		if (regexec(&o->compiled[i], s, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

static void
oracle_free(struct oracle *o)
{
	size_t i;

	for (i = 0; o->compiled != NULL && i < o->n; i++)
		regfree(&o->compiled[i]);
	free(o->compiled);
	o->compiled = NULL;
}

/* Nonzero when some YAML 1.1 reader (the spec's types, and Ruby Psych,
 * which Puppet uses) would not read plain s as the string s. */
static const char *const yaml11_res[] = {
	/* bool (Psych: any case), null */
	"^([yY][eE][sS]|[nN][oO]|[oO][nN]|[oO][fF][fF]|[tT][rR][uU][eE]"
	"|[fF][aA][lL][sS][eE]|y|Y|n|N)$",
	"^(~|[nN][uU][lL][lL]|)$",
	/* int */
	"^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)"
	"|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
	/* Psych's integers with commas */
	"^[-+]?(0|[1-9]([0-9]|,[0-9]|_[0-9])*)$",
	/* float */
	"^([-+]?([0-9][0-9_]*)?\\.[0-9.]*([eE][-+][0-9]+)?"
	"|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*"
	"|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
	/* timestamp */
	"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
	"(([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\\.[0-9]*)?"
	"(([ \t]*)Z|[-+][0-9][0-9]?(:[0-9][0-9])?)?)?$",
	/* merge, value; Psych symbols */
	"^(<<|=)$",
	"^:",
};
static struct oracle yaml11 = { yaml11_res,
    sizeof(yaml11_res) / sizeof(yaml11_res[0]), NULL };

static int
yaml11_special(const char *s)
{
	return oracle_match(&yaml11, s);
}

/* Nonzero when YAML 1.2's core schema reads plain s as no string. */
static const char *const yaml12_res[] = {
	"^(null|Null|NULL|~|)$",
	"^(true|True|TRUE|false|False|FALSE)$",
	"^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
	"^([-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?"
	"|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
};
static struct oracle yaml12 = { yaml12_res,
    sizeof(yaml12_res) / sizeof(yaml12_res[0]), NULL };

static int
yaml12_special(const char *s)
{
	return oracle_match(&yaml12, s);
}

static int
free_oracles(void **state)
{
	(void)state;
	oracle_free(&yaml11);
	oracle_free(&yaml12);
	return 0;
}

/* Every row the table calls special is special to one of the oracles,
 * and the plain ones to neither: the oracles themselves are checked. */
static void
test_oracles(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (strings[i].plain && (yaml11_special(strings[i].s) ||
		    yaml12_special(strings[i].s)))
			fail_msg("%s: '%s' is special to an oracle",
			    strings[i].why, strings[i].s);
	assert_true(yaml11_special("yes") && yaml11_special("012") &&
	    yaml11_special("2024-01-01") && yaml11_special("1:30") &&
	    yaml11_special("1,000") && yaml11_special("1.5") &&
	    yaml11_special("<<") && yaml11_special(":x"));
	assert_false(yaml11_special("1e3"));
	assert_true(yaml12_special("1e3") && yaml12_special("0o7") &&
	    yaml12_special("-1") && yaml12_special(".5"));
	assert_false(yaml12_special("yes") || yaml12_special("2024-01-01"));
}

static void
corpus_check(const char *s)
{
	struct value *m;

	if (yamlio_plain_safe(s) && (yaml11_special(s) || yaml12_special(s)))
		fail_msg("'%s' is plain-safe but YAML reads it as no string", s);
	assert_non_null(m = value_map());
	assert_int_equal(value_map_set(m, "k", value_str(s)), 0);
	free(roundtrip(m, s));
	value_free(m);
}

/* Every printable ASCII string of one or two characters, three-letter
 * strings over the letters and signs that make YAML words and numbers,
 * and every case of the YAML 1.1 words. */
static void
test_corpus(void **state)
{
	static const char small[] = "yesnoftrulYNO01.-_:e+x";
	static const char *const words[] = { "yes", "no", "on", "off", "true",
	    "false", "null", "y", "n", NULL };
	char s[8];
	size_t i, j, k, n, mask;

	(void)state;
	for (i = 0x20; i < 0x7f; i++) {
		s[0] = (char)i;
		s[1] = '\0';
		corpus_check(s);
		for (j = 0x20; j < 0x7f; j++) {
			s[1] = (char)j;
			s[2] = '\0';
			corpus_check(s);
		}
	}
	for (i = 0; small[i]; i++)
		for (j = 0; small[j]; j++)
			for (k = 0; small[k]; k++) {
				s[0] = small[i];
				s[1] = small[j];
				s[2] = small[k];
				s[3] = '\0';
				corpus_check(s);
			}
	for (i = 0; words[i] != NULL; i++) {
		n = strlen(words[i]);
		for (mask = 0; mask < (1u << n); mask++) {
			for (j = 0; j < n; j++)
				s[j] = (char)(mask & (1u << j) ?
				    words[i][j] - 'a' + 'A' : words[i][j]);
			s[n] = '\0';
			if (yamlio_plain_safe(s))
				fail_msg("'%s' is plain-safe", s);
			corpus_check(s);
		}
	}
}

/* ---- yamlio_parse ---- */

struct parse_case {
	const char *why;
	const char *yaml;
	const char *want;	/* a dump, or "error: TEXT" */
};

static const struct parse_case parses[] = {
	/* YAML 1.2 core: integers */
	{ "zero", "0", "i:0" },
	{ "minus zero", "-0", "i:0" },
	{ "a signed integer", "+17", "i:17" },
	{ "a negative integer", "-17", "i:-17" },
	{ "the largest integer", "9223372036854775807",
	    "i:9223372036854775807" },
	{ "the smallest integer", "-9223372036854775808",
	    "i:-9223372036854775808" },
	{ "an integer too large", "x: 9223372036854775808",
	    "error: t.yaml:1:4: integer out of range: '9223372036854775808'" },
	{ "hexadecimal", "0x1F", "i:31" },
	{ "hexadecimal, lower case", "0xff", "i:255" },
	{ "YAML 1.2 octal", "0o17", "i:15" },
	{ "0o with a digit 8 is no octal", "0o8", "\"0o8\"" },
	{ "0X (upper case) is no hexadecimal in the core schema", "0X1F",
	    "\"0X1F\"" },
	{ "hexadecimal too large", "0x10000000000000000",
	    "error: integer out of range" },
	/* floats */
	{ "a float", "10.5", "f:10.5" },
	{ "an exponent without a dot is a float", "1e3", "f:1000" },
	{ "an upper-case exponent", "1E3", "f:1000" },
	{ "a negative exponent", "-1.5e-3", "f:-0.0015" },
	{ "a leading dot", ".5", "f:0.5" },
	{ "a trailing dot", "1.", "f:1" },
	{ "infinity", ".inf", "f:inf" },
	{ "positive infinity", "+.inf", "f:inf" },
	{ "negative infinity", "-.Inf", "f:-inf" },
	{ "INF", ".INF", "f:inf" },
	{ "not a number", ".nan", "f:nan" },
	{ "NaN", ".NaN", "f:nan" },
	{ "a float too large", "1e400", "error: t.yaml:1:1: float out of "
	    "range: '1e400'" },
	{ "a lone dot is a string", ".", "\".\"" },
	{ "inf without the dot is a string", "inf", "\"inf\"" },
	/* null */
	{ "an empty document", "", "~" },
	{ "only a comment", "# nothing\n", "~" },
	{ "only a document marker", "---\n", "~" },
	{ "~", "~", "~" },
	{ "null", "null", "~" },
	{ "Null", "Null", "~" },
	{ "NULL", "NULL", "~" },
	{ "nULL is a string", "nULL", "\"nULL\"" },
	{ "an empty value", "a:\nb: ~\n", "{\"a\": ~, \"b\": ~}" },
	/* booleans */
	{ "true", "[true, True, TRUE]", "[true, true, true]" },
	{ "false", "[false, False, FALSE]", "[false, false, false]" },
	{ "tRUE is a string", "tRUE", "\"tRUE\"" },
	/* strings */
	{ "a plain string", "hello world", "\"hello world\"" },
	{ "quoted yes is a string", "'yes'", "\"yes\"" },
	{ "double-quoted 012 is a string", "\"012\"", "\"012\"" },
	{ "!!str makes a string", "!!str 012", "\"012\"" },
	{ "!!str on yes", "!!str yes", "\"yes\"" },
	{ "a date stays a string", "2024-01-01", "\"2024-01-01\"" },
	{ "a block literal", "x: |\n  a\n  b\n", "{\"x\": \"a\\x0ab\\x0a\"}" },
	{ "a folded block", "x: >-\n  a\n  b\n", "{\"x\": \"a b\"}" },
	{ "escapes", "\"\\t\\u00e9\\x01\\L\"",
	    "\"\\x09\xc3\xa9\\x01\xe2\x80\xa8\"" },
	{ "an integer key is a string key", "1: a\n0x10: b\n",
	    "{\"1\": \"a\", \"16\": \"b\"}" },
	/* ambiguous plain scalars */
	{ "yes", "a: yes", "error: t.yaml:1:4: ambiguous boolean" },
	{ "no", "- no", "error: t.yaml:1:3: ambiguous boolean" },
	{ "on", "on", "error: t.yaml:1:1: ambiguous boolean" },
	{ "off", "x:\n  k: off\n", "error: t.yaml:2:6: ambiguous boolean" },
	{ "y", "[y]", "error: t.yaml:1:2: ambiguous boolean: write true or "
	    "false, or quote it for a string: 'y'" },
	{ "n", "{a: n}", "error: t.yaml:1:5: ambiguous boolean: write true or "
	    "false, or quote it for a string: 'n'" },
	{ "Yes", "Yes", "error: or quote it for a string: 'Yes'" },
	{ "NO", "NO", "error: or quote it for a string: 'NO'" },
	{ "oFF", "oFF", "error: ambiguous boolean" },
	{ "a key yes", "yes: 1", "error: t.yaml:1:1: ambiguous boolean" },
	{ "octal 012", "a: 012", "error: t.yaml:1:4: ambiguous number: quote it "
	    "for a string, or write it in decimal: '012'" },
	{ "negative octal", "-012", "error: ambiguous number" },
	{ "00", "00", "error: ambiguous number" },
	{ "1_000", "a:\n- 1_000\n", "error: t.yaml:2:3: ambiguous number: " },
	{ "1_000, the value", "1_000", "error: write it in decimal: '1_000'" },
	{ "1:30", "1:30", "error: t.yaml:1:1: ambiguous number: quote it "
	    "for a string, or write it in decimal: '1:30'" },
	{ "1:30:00.5", "1:30:00.5", "error: ambiguous number" },
	{ "0b1", "[0b1]", "error: t.yaml:1:2: ambiguous number: quote it "
	    "for a string, or write it in decimal: '0b1'" },
	{ "-0b101", "-0b101", "error: ambiguous number" },
	/* duplicate keys */
	{ "a duplicate key", "a: 1\nb: 2\na: 3\n",
	    "error: t.yaml:3:1: duplicate key 'a'" },
	{ "a nested duplicate key", "x:\n  a: 1\n  a: 1\n",
	    "error: t.yaml:3:3: duplicate key 'a'" },
	{ "a duplicate in flow", "{a: 1, a: 2}",
	    "error: t.yaml:1:8: duplicate key 'a'" },
	{ "a quoted and a plain key are the same", "a: 1\n\"a\": 2\n",
	    "error: t.yaml:2:1: duplicate key 'a'" },
	{ "an integer and a string key are the same", "1: a\n'1': b\n",
	    "error: t.yaml:2:1: duplicate key '1'" },
	{ "the same key in two maps is fine", "x: {a: 1}\nz: {a: 2}\n",
	    "{\"x\": {\"a\": i:1}, \"z\": {\"a\": i:2}}" },
	/* anchors and aliases */
	{ "an aliased hash", "base: &b {x: 1}\nweb: *b\n",
	    "{\"base\": {\"x\": i:1}, \"web\": {\"x\": i:1}}" },
	{ "an aliased scalar", "a: &s str\nb: *s\n",
	    "{\"a\": \"str\", \"b\": \"str\"}" },
	{ "an aliased list", "- &l [1, 2]\n- *l\n", "[[i:1, i:2], [i:1, i:2]]" },
	{ "an anchored key used as a value", "{&a k: 1, b: *a}",
	    "{\"k\": i:1, \"b\": \"k\"}" },
	{ "an alias as a key", "- &a x\n- {*a : 1}\n",
	    "[\"x\", {\"x\": i:1}]" },
	{ "an anchored key, aliased as a key elsewhere",
	    "a: {&k key: 1}\nb: {*k : 2}\nc: *k\n",
	    "{\"a\": {\"key\": i:1}, \"b\": {\"key\": i:2}, \"c\": \"key\"}" },
	{ "an anchor redefined: the latest wins", "- &a 1\n- &a 2\n- *a\n",
	    "[i:1, i:2, i:2]" },
	{ "an unknown alias", "a: *nope\n",
	    "error: t.yaml:1:4: unknown or recursive alias 'nope'" },
	{ "a recursive list", "&a [1, *a]",
	    "error: t.yaml:1:8: unknown or recursive alias 'a'" },
	{ "a recursive hash", "x: &a\n  k: *a\n",
	    "error: t.yaml:2:6: unknown or recursive alias 'a'" },
	{ "an alias used as a duplicate key", "- &a k\n- {k: 1, *a : 2}\n",
	    "error: duplicate key 'k'" },
	/* keys */
	{ "a list as a key", "? [a]\n: 1\n", "error: hash keys must be "
	    "strings" },
	{ "a hash as a key", "? {a: 1}\n: 1\n", "error: hash keys must be "
	    "strings" },
	{ "a flow list as a key", "{[a]: 1}", "error: hash keys must be "
	    "strings" },
	{ "an aliased hash as a key", "- &h {a: 1}\n- {*h : 1}\n",
	    "error: hash keys must be strings" },
	{ "null as a key", "~: 1", "error: t.yaml:1:1: hash keys must be "
	    "strings" },
	{ "a boolean as a key", "true: 1", "error: hash keys must be strings" },
	{ "a float as a key", "1.5: 1", "error: hash keys must be strings" },
	/* JSON */
	{ "JSON", "{\"a\": [1, 2.5, -3e2, true, false, null, \"x\"], "
	    "\"b\": {\"c\": \"yes\", \"d\": {}}, \"e\": []}",
	    "{\"a\": [i:1, f:2.5, f:-300, true, false, ~, \"x\"], "
	    "\"b\": {\"c\": \"yes\", \"d\": {}}, \"e\": []}" },
	{ "JSON with an escaped NUL", "{\"a\": \"x\\u0000y\"}",
	    "error: t.yaml:1:7: NUL character in a string" },
	{ "JSON duplicate keys", "{\"a\": 1, \"a\": 2}",
	    "error: t.yaml:1:10: duplicate key 'a'" },
	/* documents */
	{ "two documents", "a: 1\n---\nb: 2\n",
	    "error: t.yaml:2:1: more than one document" },
	{ "two explicit documents", "--- 1\n...\n--- 2\n",
	    "error: more than one document" },
	{ "an explicit document", "---\na: 1\n...\n", "{\"a\": i:1}" },
	{ "a YAML 1.1 directive is still one document", "%YAML 1.1\n---\n"
	    "a: 1\n", "{\"a\": i:1}" },
	/* tags */
	{ "!!int", "!!int 3", "error: t.yaml:1:1: tags are not supported: "
	    "'tag:yaml.org,2002:int'" },
	{ "!!float", "a: !!float 1", "error: t.yaml:1:4: tags are not "
	    "supported" },
	{ "!!bool", "!!bool yes", "error: tags are not supported" },
	{ "!!null", "!!null ''", "error: tags are not supported" },
	{ "!!binary", "!!binary aGk=", "error: tags are not supported" },
	{ "a local tag", "!foo x", "error: tags are not supported: '!foo'" },
	{ "a local tag on a hash", "x: !foo {a: 1}",
	    "error: t.yaml:1:4: tags are not supported: '!foo'" },
	{ "a local tag on a list", "!foo [1]", "error: tags are not "
	    "supported: '!foo'" },
	{ "!!set", "!!set {a, b}", "error: tags are not supported" },
	{ "!!omap", "!!omap [{a: 1}]", "error: tags are not supported" },
	{ "!!map on a hash is its own type", "!!map {a: 1}", "{\"a\": i:1}" },
	{ "!!seq on a list is its own type", "!!seq [1]", "[i:1]" },
	{ "!!map on a list", "!!map [1]", "error: tags are not supported" },
	/* syntax */
	{ "an unclosed flow list", "a: [1, 2\n", "error: t.yaml:2:1:" },
	{ "a: b: c", "a: b: c", "error: t.yaml:1:5: mapping values are not "
	    "allowed" },
	{ "a tab as indentation", "a:\n\tb: 1\n", "error: t.yaml:2:" },
	{ "an unclosed quote", "a: \"x\n", "error: t.yaml:" },
	{ "invalid UTF-8", "a: \xff\xfe", "error: t.yaml:" },
};

static void
test_parse(void **state)
{
	const struct parse_case *c = *state;
	struct value *v = (struct value *)(uintptr_t)1;
	struct err e;
	char *got;
	int rc;

	err_clear(&e);
	rc = yamlio_parse(c->yaml, strlen(c->yaml), NAME, &v, &e);
	if (strncmp(c->want, "error: ", 7) == 0) {
		if (rc == 0) {
			got = dump_str(v);
			fail_msg("%s: accepted as %s, expected '%s'", c->why, got,
			    c->want + 7);
		}
		if (rc != ERR_USAGE || e.code != ERR_USAGE ||
		    strstr(e.msg, c->want + 7) == NULL)
			fail_msg("%s: rc %d code %d '%s', expected ERR_USAGE with "
			    "'%s'", c->why, rc, (int)e.code, e.msg, c->want + 7);
		assert_null(v);
		return;
	}
	if (rc != 0)
		fail_msg("%s: refused: %s", c->why, e.msg);
	got = dump_str(v);
	if (strcmp(got, c->want) != 0)
		fail_msg("%s: got\n  %s\nexpected\n  %s", c->why, got, c->want);
	free(got);
	value_free(v);
}

/* The parser reads text[0..len), not up to a NUL. */
static void
test_parse_len(void **state)
{
	static const char text[] = "a: 1\nb: [";
	struct value *v;
	struct err e;

	(void)state;
	v = parse_ok(text, 5, "the first line only");
	assert_int_equal(v->type, VAL_MAP);
	assert_int_equal(v->n, 1);
	value_free(v);
	assert_int_equal(yamlio_parse(text, sizeof(text) - 1, NAME, &v, &e),
	    ERR_USAGE);
	/* A NUL byte inside the text is no end of it. */
	assert_int_equal(yamlio_parse("a: 1\0b: 2", 9, NAME, &v, &e),
	    ERR_USAGE);
	assert_null(v);
}

/* Positions: values carry their 1-based line and column. */
static void
test_positions(void **state)
{
	static const char text[] = "# c\na:\n  b: [x, {c: 1}]\n";
	struct value *v, *b;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, "positions");
	assert_int_equal(v->line, 2);
	assert_int_equal(v->col, 1);
	b = value_map_get(value_map_get(v, "a"), "b");
	assert_non_null(b);
	assert_int_equal(b->line, 3);
	assert_int_equal(b->col, 6);
	assert_int_equal(b->items[0]->line, 3);
	assert_int_equal(b->items[0]->col, 7);
	assert_int_equal(b->items[1]->col, 10);
	assert_int_equal(value_map_get(b->items[1], "c")->col, 14);
	value_free(v);
}

/* An alias shares the anchored value; it is not a copy. */
static void
test_alias_shares(void **state)
{
	static const char text[] = "base: &b {x: [1, 2]}\nweb: *b\ndb: *b\n";
	struct value *v, *base;

	(void)state;
	v = parse_ok(text, sizeof(text) - 1, "sharing");
	base = value_map_get(v, "base");
	assert_ptr_equal(value_map_get(v, "web"), base);
	assert_ptr_equal(value_map_get(v, "db"), base);
	assert_int_equal(base->refs, 3);
	value_free(v);
}

static char *
laughs(int levels, int width)
{
	struct buf b;
	int l, i;

	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "l0: &l0 [lol"), 0);
	for (i = 1; i < width; i++)
		assert_int_equal(buf_puts(&b, ", lol"), 0);
	assert_int_equal(buf_puts(&b, "]\n"), 0);
	for (l = 1; l <= levels; l++) {
		assert_int_equal(buf_printf(&b, "l%d: &l%d [", l, l), 0);
		for (i = 0; i < width; i++)
			assert_int_equal(buf_printf(&b, "%s*l%d", i ? ", " : "",
			    l - 1), 0);
		assert_int_equal(buf_puts(&b, "]\n"), 0);
	}
	return buf_steal(&b);
}

/* Billion laughs: 9 levels of 10 aliases would be 10^10 nodes; counted
 * with aliases expanded it is refused, fast, and nothing is copied. */
static void
test_billion_laughs(void **state)
{
	struct value *v = NULL;
	struct err e;
	long long t0, ms;
	char *text;
	int rc;

	(void)state;
	text = laughs(9, 10);
	err_clear(&e);
	t0 = retry_now_ms();
	rc = yamlio_parse(text, strlen(text), NAME, &v, &e);
	ms = retry_now_ms() - t0;
	assert_int_equal(rc, ERR_USAGE);
	assert_null(v);
	if (strstr(e.msg, "document too large") == NULL ||
	    strncmp(e.msg, NAME ":", strlen(NAME) + 1) != 0)
		fail_msg("message '%s'", e.msg);
	if (ms > BUDGET_MAX_MS)
		fail_msg("took %lld ms", ms);
	free(text);

	/* Four levels (11111 nodes expanded) are fine. */
	text = laughs(4, 10);
	v = parse_ok(text, strlen(text), "four levels of laughs");
	assert_int_equal(value_map_get(v, "l4")->n, 10);
	assert_ptr_equal(value_map_get(v, "l4")->items[3], value_map_get(v,
	    "l3"));
	value_free(v);
	free(text);
}

/* Exactly YAMLIO_MAX_NODES nodes pass; one more is refused. Aliases
 * count as the nodes they stand for, which also keeps the text short:
 * [&a [999 items], *a x 198, 999 items] is 1 + 1000 + 198000 + 999. */
static void
test_node_budget(void **state)
{
	struct value *v;
	struct err e;
	struct buf b;
	size_t i;

	(void)state;
	assert_int_equal(YAMLIO_MAX_NODES, 200000);
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "[&a [1"), 0);
	for (i = 1; i < 999; i++)
		assert_int_equal(buf_puts(&b, ",1"), 0);
	assert_int_equal(buf_putc(&b, ']'), 0);
	for (i = 0; i < 198; i++)
		assert_int_equal(buf_puts(&b, ",*a"), 0);
	for (i = 0; i < 999; i++)
		assert_int_equal(buf_puts(&b, ",2"), 0);
	assert_int_equal(buf_putc(&b, ']'), 0);
	v = parse_ok(b.data, b.len, "the node budget");
	assert_int_equal(v->n, 1 + 198 + 999);
	value_free(v);
	b.data[b.len - 1] = ',';
	assert_int_equal(buf_puts(&b, "2]"), 0);
	err_clear(&e);
	assert_int_equal(yamlio_parse(b.data, b.len, NAME, &v, &e), ERR_USAGE);
	if (strstr(e.msg, "document too large") == NULL)
		fail_msg("message '%s'", e.msg);
	assert_null(v);
	buf_free(&b);

	/* without aliases, the same boundary: a list of 199999 empty lists
	 * (empty, so that no scalar costs time) passes, 200000 do not */
	buf_init(&b, 0);
	assert_int_equal(buf_putc(&b, '['), 0);
	for (i = 0; i < YAMLIO_MAX_NODES - 1; i++)
		assert_int_equal(buf_puts(&b, i ? ",[]" : "[]"), 0);
	assert_int_equal(buf_putc(&b, ']'), 0);
	v = parse_ok(b.data, b.len, "the node budget without aliases");
	assert_int_equal(v->n, YAMLIO_MAX_NODES - 1);
	value_free(v);
	b.data[b.len - 1] = ',';
	assert_int_equal(buf_puts(&b, "[]]"), 0);
	assert_int_equal(yamlio_parse(b.data, b.len, NAME, &v, &e), ERR_USAGE);
	if (strstr(e.msg, "document too large") == NULL)
		fail_msg("message '%s'", e.msg);
	buf_free(&b);
}

static char *
nested(int depth, int flow)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < depth; i++)
		assert_int_equal(flow ? buf_putc(&b, '[') :
		    buf_printf(&b, "%*sk:\n", 2 * i, ""), 0);
	assert_int_equal(flow ? buf_putc(&b, '1') :
	    buf_printf(&b, "%*sleaf\n", 2 * depth, ""), 0);
	for (i = 0; flow && i < depth; i++)
		assert_int_equal(buf_putc(&b, ']'), 0);
	return buf_steal(&b);
}

/* 64 levels of lists or hashes are read; 65 are refused with the place. */
static void
test_depth(void **state)
{
	struct value *v;
	struct err e;
	const char *want;
	char *text;
	int flow;

	(void)state;
	for (flow = 0; flow <= 1; flow++) {
		text = nested(YAMLIO_MAX_DEPTH, flow);
		v = parse_ok(text, strlen(text), "64 levels");
		value_free(v);
		free(text);
		text = nested(YAMLIO_MAX_DEPTH + 1, flow);
		err_clear(&e);
		assert_int_equal(yamlio_parse(text, strlen(text), NAME, &v, &e),
		    ERR_USAGE);
		assert_null(v);
		/* the 65th container starts at line 65 (block) or column 65 */
		want = flow ? NAME ":1:65: nesting deeper" :
		    NAME ":65:129: nesting deeper";
		if (strstr(e.msg, want) == NULL)
			fail_msg("'%s', expected '%s'", e.msg, want);
		free(text);
	}
	/* far deeper than the limit: refused, no stack overflow */
	text = nested(100000, 1);
	assert_int_equal(yamlio_parse(text, strlen(text), NAME, &v, &e),
	    ERR_USAGE);
	free(text);
}

/* ---- yamlio_emit ---- */

struct float_case {
	double f;
	const char *text;
};

static void
test_emit_floats(void **state)
{
	static const struct float_case floats[] = {
		{ 10.5, "10.5" },
		{ 1e3, "1000.0" },
		{ 0.0, "0.0" },
		{ -0.0, "-0.0" },
		{ 1.0, "1.0" },
		{ -2.0, "-2.0" },
		{ 0.1, "0.1" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 1e20, "1.0e+20" },
		{ 1.5e20, "1.5e+20" },
		{ 1e-7, "1.0e-07" },
		{ 123456789.0, "123456789.0" },
		{ DBL_MAX, "1.7976931348623157e+308" },
		{ DBL_MIN, NULL },
		{ 5e-324, NULL },
		{ 1.0 / 3, NULL },
		{ INFINITY, ".inf" },
		{ -INFINITY, "-.inf" },
		{ NAN, ".nan" },
	};
	struct value *l, *back;
	char *text, *line, *next;
	size_t i;

	(void)state;
	assert_non_null(l = value_list());
	for (i = 0; i < sizeof(floats) / sizeof(floats[0]); i++)
		assert_int_equal(value_list_add(l, value_float(floats[i].f)), 0);
	text = emit_str(l);
	/* every line: the exact text where given, and always a float to
	 * YAML 1.1 (a '.', an exponent with a sign) and to YAML 1.2 */
	line = text + 4;
	for (i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
		assert_non_null(next = strchr(line, '\n'));
		*next = '\0';
		if (strncmp(line, "- ", 2) != 0)
			fail_msg("line '%s'", line);
		line += 2;
		if (floats[i].text != NULL && strcmp(line, floats[i].text) != 0)
			fail_msg("%.17g written as '%s', expected '%s'",
			    floats[i].f, line, floats[i].text);
		if (!matches("^[-+]?([0-9][0-9_]*)?\\.[0-9.]*([eE][-+][0-9]+)?$|"
		    "^-?\\.inf$|^\\.nan$", line) || !yaml12_special(line))
			fail_msg("%.17g written as '%s', not a float to YAML "
			    "1.1 and 1.2", floats[i].f, line);
		*next = '\n';
		line = next + 1;
	}
	back = parse_ok(text, strlen(text), "floats");
	assert_int_equal(back->n, l->n);
	for (i = 0; i < l->n; i++) {
		assert_int_equal(back->items[i]->type, VAL_FLOAT);
		if (!value_equal(back->items[i], l->items[i]) ||
		    signbit(back->items[i]->f) != signbit(l->items[i]->f))
			fail_msg("%.17g read back as %.17g", l->items[i]->f,
			    back->items[i]->f);
	}
	value_free(back);
	value_free(l);
	free(text);
}

/* Integers, booleans and null are plain; the document is exact. */
static void
test_emit_exact(void **state)
{
	static const char want[] =
	    "---\n"
	    "int: 42\n"
	    "neg: -7\n"
	    "max: 9223372036854775807\n"
	    "min: -9223372036854775808\n"
	    "t: true\n"
	    "f: false\n"
	    "nil: ~\n"
	    "float: 2.5\n"
	    "str: web01\n"
	    "quoted: \"yes\"\n"
	    "empty_map: {}\n"
	    "empty_list: []\n"
	    "list:\n"
	    "- a\n"
	    "- \"1\"\n"
	    "map:\n"
	    "  \"no\": \"off\"\n"
	    "  nested:\n"
	    "    deeper: []\n";
	struct value *d, *l, *m, *n, *back;
	char *text;

	(void)state;
	assert_non_null(d = value_map());
	assert_int_equal(value_map_set(d, "int", value_int(42)), 0);
	assert_int_equal(value_map_set(d, "neg", value_int(-7)), 0);
	assert_int_equal(value_map_set(d, "max", value_int(LLONG_MAX)), 0);
	assert_int_equal(value_map_set(d, "min", value_int(LLONG_MIN)), 0);
	assert_int_equal(value_map_set(d, "t", value_bool(1)), 0);
	assert_int_equal(value_map_set(d, "f", value_bool(0)), 0);
	assert_int_equal(value_map_set(d, "nil", value_null()), 0);
	assert_int_equal(value_map_set(d, "float", value_float(2.5)), 0);
	assert_int_equal(value_map_set(d, "str", value_str("web01")), 0);
	assert_int_equal(value_map_set(d, "quoted", value_str("yes")), 0);
	assert_int_equal(value_map_set(d, "empty_map", value_map()), 0);
	assert_int_equal(value_map_set(d, "empty_list", value_list()), 0);
	assert_non_null(l = value_list());
	assert_int_equal(value_list_add(l, value_str("a")), 0);
	assert_int_equal(value_list_add(l, value_str("1")), 0);
	assert_int_equal(value_map_set(d, "list", l), 0);
	assert_non_null(m = value_map());
	assert_int_equal(value_map_set(m, "no", value_str("off")), 0);
	assert_non_null(n = value_map());
	assert_int_equal(value_map_set(n, "deeper", value_list()), 0);
	assert_int_equal(value_map_set(m, "nested", n), 0);
	assert_int_equal(value_map_set(d, "map", m), 0);
	text = emit_str(d);
	if (strcmp(text, want) != 0)
		fail_msg("got\n%s\nexpected\n%s", text, want);
	back = parse_ok(text, strlen(text), "exact");
	assert_true(value_equal(back, d));
	value_free(back);
	value_free(d);
	free(text);
}

/* yamlio_emit appends to what the buffer holds. */
static void
test_emit_appends(void **state)
{
	struct value *v;
	struct buf b;
	struct err e;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "# head\n"), 0);
	assert_non_null(v = value_str("x"));
	assert_int_equal(yamlio_emit(v, &b, &e), 0);
	assert_int_equal(yamlio_emit(v, &b, &e), 0);
	assert_string_equal(b.data, "# head\n--- x\n--- x\n");
	value_free(v);
	buf_free(&b);
}

/* A string that is not UTF-8 cannot be written; the error says so. */
static void
test_emit_invalid_utf8(void **state)
{
	struct value *m;
	struct buf b;
	struct err e;

	(void)state;
	assert_non_null(m = value_map());
	assert_int_equal(value_map_set(m, "k", value_str("a\xff")), 0);
	buf_init(&b, 0);
	err_clear(&e);
	assert_int_equal(yamlio_emit(m, &b, &e), ERR_FAIL);
	assert_int_equal(e.code, ERR_FAIL);
	if (strstr(e.msg, "UTF-8") == NULL)
		fail_msg("message '%s'", e.msg);
	buf_free(&b);
	value_free(m);
}

/* A buffer cap makes the emitter fail, not truncate silently. */
static void
test_emit_cap(void **state)
{
	struct value *m;
	struct buf b;
	struct err e;

	(void)state;
	assert_non_null(m = value_map());
	assert_int_equal(value_map_set(m, "k", value_str("0123456789")), 0);
	buf_init(&b, 8);
	err_clear(&e);
	assert_int_equal(yamlio_emit(m, &b, &e), ERR_FAIL);
	assert_int_equal(e.code, ERR_FAIL);
	buf_free(&b);
	value_free(m);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_long_awkward),
		cmocka_unit_test(test_oracles),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_parse_len),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_alias_shares),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_node_budget),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_emit_floats),
		cmocka_unit_test(test_emit_exact),
		cmocka_unit_test(test_emit_appends),
		cmocka_unit_test(test_emit_invalid_utf8),
		cmocka_unit_test(test_emit_cap),
	};
	struct tu_group g = TU_GROUP("yamlio");
	struct buf b;
	size_t i;

	tu_add_tests(&g, fixed, TU_NELEM(fixed));
	for (i = 0; i < TU_NELEM(strings); i++) {
		buf_init(&b, 0);
		if (buf_printf(&b, "string: %s ", strings[i].why) == -1)
			return 1;
		tu_put_quoted(&b, strings[i].s);
		tu_add(&g, tu_keep(&g, buf_steal(&b)), test_string,
		    (void *)(uintptr_t)&strings[i]);
	}
	for (i = 0; i < TU_NELEM(parses); i++) {
		buf_init(&b, 0);
		if (buf_printf(&b, "parse: %s", parses[i].why) == -1)
			return 1;
		tu_add(&g, tu_keep(&g, buf_steal(&b)), test_parse,
		    (void *)(uintptr_t)&parses[i]);
	}
	return tu_run(&g, NULL, free_oracles);
}
