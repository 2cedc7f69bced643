/* test_classify: instance + config -> the ENC document, over
 * fixtures/classify.
 *
 * A case is a folder $FIXTURES/classify/NAME/ holding
 *   why               one line: why the case exists
 *   config.yaml       the config (config_parse, named "config.yaml")
 *   instance.json     the instance as jsonio_instance writes it
 *                     (jsonio_instance_parse); without it the case is a
 *                     node EC2 does not know: classify_unknown, and the
 *                     config must have an `unknown` section
 * and either
 *   expected.yaml     what yamlio_emit writes for classify_enc_document's
 *                     document, compared exactly
 * or
 *   expected.error    line 1: the code (ERR_FAIL, ERR_USAGE, ... or its
 *                     number); line 2: text the message must contain
 * and optionally, each one item per line, compared exactly:
 *   expected.groups   r->groups, the applied groups in order
 *   expected.run_list r->run_list
 *   expected.explain  r->explain
 * Every successful case also checks: expected.yaml reads back (yamlio_parse)
 * as the very document, so every string survived; parameters.ec2_tags holds
 * the instance's tags, keys and values exact and in EC2's order; every
 * parameter name is one Puppet code can read and none is reserved; every
 * class name is valid; the environment is r->environment.
 * REGENERATE=1 rewrites expected.yaml (or writes it for a new case without
 * expected.error) and the optional files that exist, for review.
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
#include "classify.h"
#include "config.h"
#include "instance.h"
#include "jsonio.h"
#include "testutil.h"
#include "value.h"
#include "yamlio.h"

/* The file path in dir. */
static char *
in_dir(const char *dir, const char *file)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_printf(&b, "%s/%s", dir, file), 0);
	return buf_steal(&b);
}

/* Compares (or, regenerating, rewrites) an optional one-item-per-line
 * file against a list of strings. */
static void
check_lines(const char *dir, const char *file, const struct value *list)
{
	char *path = in_dir(dir, file);
	struct buf got;
	size_t i;

	if (!tu_exists(path)) {
		free(path);
		return;
	}
	assert_int_equal(list->type, VAL_LIST);
	buf_init(&got, 0);
	assert_int_equal(buf_puts(&got, ""), 0);
	for (i = 0; i < list->n; i++) {
		assert_int_equal(list->items[i]->type, VAL_STR);
		if (strchr(list->items[i]->s, '\n') != NULL)
			fail_msg("%s: item %zu has a newline", path, i);
		assert_int_equal(buf_printf(&got, "%s\n", list->items[i]->s), 0);
	}
	tu_check_file(path, &got);
	buf_free(&got);
	free(path);
}

static int
code_named(const char *path, const char *s)
{
	static const struct {
		const char *name;
		int code;
	} codes[] = {
		{ "ERR_NOTFOUND", ERR_NOTFOUND },
		{ "ERR_USAGE", ERR_USAGE },
		{ "ERR_UNAVAILABLE", ERR_UNAVAILABLE },
		{ "ERR_FAIL", ERR_FAIL },
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(s, codes[i].name) == 0)
			return codes[i].code;
	if (s[0] >= '1' && s[0] <= '4' && s[1] == '\0')
		return s[0] - '0';
	fail_msg("%s: unknown code '%s'", path, s);
	return -1;	/* not reached */
}

/* A failing stage: checks it against expected.error. */
static void
check_error(const char *dir, int rc, const struct err *e, const char *stage)
{
	char *path = in_dir(dir, "expected.error");
	struct buf want;
	char *nl, *text;
	int code;

	if (!tu_exists(path))
		fail_msg("%s: %s failed with %d '%s' (and there is no "
		    "expected.error)", dir, stage, rc, e->msg);
	tu_slurp(path, &want);
	if ((nl = strchr(want.data, '\n')) == NULL)
		fail_msg("%s: want 'CODE\\nTEXT\\n'", path);
	*nl = '\0';
	text = nl + 1;
	text[strcspn(text, "\n")] = '\0';
	code = code_named(path, want.data);
	if (rc != code || (int)e->code != code || *text == '\0' ||
	    strstr(e->msg, text) == NULL)
		fail_msg("%s: %s gave rc %d code %d '%s', expected %d with '%s'",
		    dir, stage, rc, (int)e->code, e->msg, code, text);
	if (strchr(e->msg, '\n') != NULL)
		fail_msg("%s: the message has more than one line", dir);
	buf_free(&want);
	free(path);
}

/* The invariants every ENC document keeps. */
static void
check_document(const char *dir, const struct value *doc,
    const struct classify_result *r, const struct instance *in)
{
	const struct value *classes, *params, *env, *tags;
	size_t i;

	assert_int_equal(doc->type, VAL_MAP);
	assert_int_equal(doc->n, 3);
	assert_string_equal(doc->keys[0], "classes");
	assert_string_equal(doc->keys[1], "parameters");
	assert_string_equal(doc->keys[2], "environment");
	classes = doc->items[0];
	params = doc->items[1];
	env = doc->items[2];
	assert_int_equal(classes->type, VAL_MAP);
	for (i = 0; i < classes->n; i++) {
		if (!config_valid_class(classes->keys[i]))
			fail_msg("%s: class '%s'", dir, classes->keys[i]);
		if (classes->items[i]->type != VAL_MAP)
			fail_msg("%s: class '%s' has a %s, not a hash", dir,
			    classes->keys[i],
			    value_type_name(classes->items[i]->type));
	}
	assert_int_equal(params->type, VAL_MAP);
	for (i = 0; i < params->n; i++)
		if (!config_valid_param(params->keys[i]))
			fail_msg("%s: parameter '%s' is no readable Puppet "
			    "variable, or reserved", dir, params->keys[i]);
	assert_int_equal(env->type, VAL_STR);
	assert_true(config_valid_environment(env->s));
	assert_non_null(r->environment);
	assert_string_equal(env->s, r->environment->s);
	if (in == NULL) {
		assert_null(value_map_get(params, "ec2_tags"));
		return;
	}
	tags = value_map_get(params, "ec2_tags");
	assert_non_null(tags);
	assert_int_equal(tags->type, VAL_MAP);
	if (tags->n != in->ntags)
		fail_msg("%s: %zu tags in ec2_tags, %zu on the instance", dir,
		    tags->n, in->ntags);
	for (i = 0; i < in->ntags; i++) {
		assert_string_equal(tags->keys[i], in->tags[i].key);
		assert_int_equal(tags->items[i]->type, VAL_STR);
		assert_string_equal(tags->items[i]->s, in->tags[i].value);
	}
	assert_ptr_not_equal(value_map_get(params, "ec2_roles"), NULL);
	assert_true(value_equal(value_map_get(params, "ec2_roles"), r->roles));
}

static void
test_case(void **state)
{
	const char *dir = *state;
	char *why_path, *config_path, *instance_path, *expected_path;
	char *error_path;
	struct classify_result r;
	struct instance *in = NULL;
	struct config *c = NULL;
	struct value *doc = NULL, *back = NULL;
	struct buf text, out;
	struct err e;
	int rc;

	memset(&r, 0, sizeof(r));
	err_clear(&e);
	why_path = in_dir(dir, "why");
	config_path = in_dir(dir, "config.yaml");
	instance_path = in_dir(dir, "instance.json");
	expected_path = in_dir(dir, "expected.yaml");
	error_path = in_dir(dir, "expected.error");

	tu_slurp(why_path, &text);
	if (text.len < 10 || strchr(text.data, '\n') != text.data + text.len - 1)
		fail_msg("%s: want one line saying why the case exists",
		    why_path);
	buf_free(&text);

	tu_slurp(config_path, &text);
	rc = config_parse(text.data, text.len, "config.yaml", &c, &e);
	buf_free(&text);
	if (rc != 0) {
		check_error(dir, rc, &e, "config_parse");
		goto out;
	}
	if (tu_exists(instance_path)) {
		tu_slurp(instance_path, &text);
		rc = jsonio_instance_parse(text.data, text.len, &in, &e);
		buf_free(&text);
		if (rc != 0) {
			check_error(dir, rc, &e, "jsonio_instance_parse");
			goto out;
		}
		rc = classify_instance(c, in, &r, &e);
	} else {
		if (c->unknown == NULL)
			fail_msg("%s: no instance.json and no unknown section",
			    dir);
		rc = classify_unknown(c, &r, &e);
	}
	if (rc != 0) {
		check_error(dir, rc, &e, in ? "classify_instance" :
		    "classify_unknown");
		goto out;
	}
	if ((rc = classify_enc_document(c, &r, in, &doc, &e)) != 0) {
		check_error(dir, rc, &e, "classify_enc_document");
		goto out;
	}
	if (tu_exists(error_path))
		fail_msg("%s: classified, but expected.error says it fails", dir);
	/* peers compute the environment alone: it must agree */
	if (in != NULL && (classify_environment(c, in) == NULL ||
	    strcmp(classify_environment(c, in), r.environment->s) != 0))
		fail_msg("%s: classify_environment says %s, classify_instance %s",
		    dir, classify_environment(c, in), r.environment->s);
	buf_init(&out, 0);
	if ((rc = yamlio_emit(doc, &out, &e)) != 0)
		fail_msg("%s: yamlio_emit: %s", dir, e.msg);
	check_document(dir, doc, &r, in);

	/* every string reaches a reader as it was */
	if (yamlio_parse(out.data, out.len, "expected.yaml", &back, &e) != 0)
		fail_msg("%s: the document does not read back: %s\n%s", dir,
		    e.msg, out.data);
	if (!value_equal(back, doc))
		fail_msg("%s: the document reads back differently:\n%s", dir,
		    out.data);
	value_free(back);

	tu_check_file(expected_path, &out);
	buf_free(&out);
	check_lines(dir, "expected.groups", r.groups);
	check_lines(dir, "expected.run_list", r.run_list);
	check_lines(dir, "expected.explain", r.explain);
out:
	value_free(doc);
	classify_result_cleanup(&r);
	classify_result_cleanup(&r);	/* cleaning twice is harmless */
	instance_free(in);
	config_free(c);
	free(why_path);
	free(config_path);
	free(instance_path);
	free(expected_path);
	free(error_path);
}

/* classify_tag_param: the prefix, then one lowercase letter, digit or '_'
 * per character of the key. */
static void
test_tag_param(void **state)
{
	static const char *const cases[][3] = {
		{ "ec2_tag_", "Name", "ec2_tag_name" },
		{ "ec2_tag_", "aws:cloudformation:stack-name",
		    "ec2_tag_aws_cloudformation_stack_name" },
		{ "ec2_tag_", "\xc3\x9cn\xc3\xaf" "code", "ec2_tag__n_code" },
		{ "ec2_tag_", "\xe6\x9d\xb1\xe4\xba\xac", "ec2_tag___" },
		{ "ec2_tag_", "\xf0\x9f\x9a\x80x", "ec2_tag__x" },
		{ "ec2_tag_", "Cost Center", "ec2_tag_cost_center" },
		{ "ec2_tag_", "a-b", "ec2_tag_a_b" },
		{ "ec2_tag_", "123", "ec2_tag_123" },
		{ "tag_", "UPPER", "tag_upper" },
		{ "x", "", "x" },
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_non_null(got = classify_tag_param(cases[i][0],
		    cases[i][1]));
		if (strcmp(got, cases[i][2]) != 0)
			fail_msg("classify_tag_param(\"%s\", \"%s\") = \"%s\", "
			    "expected \"%s\"", cases[i][0], cases[i][1], got,
			    cases[i][2]);
		free(got);
	}
}

/* Cleaning up a zeroed or NULL result is harmless. */
static void
test_cleanup_null(void **state)
{
	struct classify_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	classify_result_cleanup(&r);
	classify_result_cleanup(NULL);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_tag_param),
		cmocka_unit_test(test_cleanup_null),
	};
	struct tu_group g = TU_GROUP("classify");

	tu_add_tests(&g, fixed, TU_NELEM(fixed));
	/* the case is the folder */
	tu_add_glob(&g, "classify/*/", test_case);
	return tu_run(&g, NULL, NULL);
}
