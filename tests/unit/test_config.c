/* test_config: config_load and config_parse over fixtures/config, plus
 * the file-level limits and the validators (also against the regexes
 * they implement).
 *
 * A case is $FIXTURES/config/NAME.yaml or NAME.json. Its first line is
 *   # why: WHY THE CASE EXISTS
 * and, for a config that must be refused, the second line is
 *   # error: TEXT
 * The load must then fail with ERR_USAGE, *out NULL, and a one-line
 * message that starts with the file's path and contains TEXT; when TEXT
 * starts with NAME.yaml (as in "NAME.yaml:7:5: invalid Puppet class name
 * 'Nginx'"), the message must be exactly PATH-DIR/TEXT up to TEXT's end,
 * so the line and column are checked. Without an error line the config
 * must load. NAME.yaml is read with config_load; NAME.json has its comment
 * lines blanked (so the parser sees pure JSON, positions unchanged) and
 * goes through config_parse. valid-full.* and valid-minimal.yaml are
 * also checked field by field.
 * REGENERATE=1 rewrites each `# error:` line with the message the loader
 * gave (without the directory), for review.
 */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "testutil.h"
#include "value.h"

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- the field-by-field checks ---- */

static const char *
group_str(const struct value *g, const char *key)
{
	const struct value *v = value_map_get(g, key);

	assert_non_null(v);
	assert_int_equal(v->type, VAL_STR);
	return v->s;
}

/* valid-full.yaml and valid-full.json */
static void
check_full(const struct config *c, const char *path)
{
	const struct value *v;

	assert_string_equal(c->path, path);
	assert_non_null(c->root);
	assert_string_equal(c->region, "eu-west-1");
	assert_int_equal(c->nregions, 2);
	assert_string_equal(c->regions[0], "eu-west-1");
	assert_string_equal(c->regions[1], "us-east-1");
	assert_string_equal(c->profile, "prod");
	assert_string_equal(c->endpoint, "https://ec2.example.test");
	assert_int_equal(c->nfilters, 2);
	assert_string_equal(c->filters[0].name, "tag:managed-by");
	assert_int_equal(c->filters[0].nvalues, 2);
	assert_string_equal(c->filters[0].values[0], "puppet");
	assert_string_equal(c->filters[0].values[1], "chef");
	assert_string_equal(c->filters[1].name, "instance-state-name");
	assert_int_equal(c->filters[1].nvalues, 1);
	assert_string_equal(c->filters[1].values[0], "running");

	assert_string_equal(c->cache_path, "/tmp/ec2-classify/fleet.db");
	assert_int_equal(c->max_age, 60);
	assert_int_equal(c->stale_max_age, 3600);

	assert_int_equal(c->nlookup, 3);
	assert_int_equal(c->lookup[0], LOOKUP_TAG_NAME);
	assert_int_equal(c->lookup[1], LOOKUP_PRIVATE_IP);
	assert_int_equal(c->lookup[2], LOOKUP_INSTANCE_ID);

	assert_string_equal(c->tag_environment, "env");
	assert_string_equal(c->tag_roles, "role_list");
	assert_string_equal(c->tag_group, "cluster");
	assert_string_equal(c->param_prefix, "tag_");
	assert_int_equal(c->peers_enc, 1);
	assert_int_equal(c->peers_dna, 0);
	assert_string_equal(c->peers_attribute, "cluster_peers");

	/* __base__ is kept apart although the file lists it second */
	assert_non_null(c->base);
	assert_int_equal(c->base->type, VAL_MAP);
	assert_string_equal(group_str(c->base, "environment"), "production");
	v = value_map_get(c->base, "run_list");
	assert_non_null(v);
	assert_int_equal(v->n, 1);
	assert_string_equal(v->items[0]->s, "recipe[base]");
	assert_non_null(value_map_get(value_map_get(c->base, "classes"),
	    "common"));

	/* the other groups in file order */
	assert_int_equal(c->ngroups, 3);
	assert_string_equal(c->groups[0].name, "webapps");
	assert_string_equal(c->groups[1].name, "db-servers");
	assert_string_equal(c->groups[2].name, "Monitoring_2");
	assert_non_null(c->groups[0].body);
	assert_int_equal(c->groups[0].body->type, VAL_MAP);
	assert_string_equal(group_str(c->groups[0].body, "description"),
	    "web frontends");
	assert_string_equal(group_str(c->groups[0].body, "environment"),
	    "staging");
	v = value_map_get(c->groups[0].body, "classes");
	assert_non_null(v);
	assert_int_equal(v->n, 2);
	assert_string_equal(v->keys[0], "nginx");
	assert_string_equal(v->keys[1], "postgresql::client");
	assert_int_equal(v->items[1]->type, VAL_NULL);
	v = value_map_get(value_map_get(v, "nginx"), "workers");
	assert_non_null(v);
	assert_int_equal(v->type, VAL_INT);
	assert_int_equal(v->i, 4);
	v = value_map_get(c->groups[0].body, "run_list");
	assert_int_equal(v->n, 3);
	assert_string_equal(v->items[1]->s, "recipe[webapp::deploy@1.2.3]");
	assert_string_equal(v->items[2]->s, "role[web]");
	/* an empty group: no body to apply */
	assert_true(c->groups[1].body == NULL ||
	    c->groups[1].body->type == VAL_NULL);
	assert_int_equal(c->groups[2].body->type, VAL_MAP);
	assert_int_equal(c->groups[2].body->n, 0);

	assert_non_null(c->unknown);
	assert_string_equal(group_str(c->unknown, "environment"), "quarantine");
	v = value_map_get(c->unknown, "classes");
	assert_non_null(v);
	assert_int_equal(v->n, 1);
	assert_string_equal(v->keys[0], "quarantine");
}

/* valid-minimal.yaml: every default. */
static void
check_defaults(const struct config *c)
{
	size_t i;

	assert_null(c->region);
	assert_null(c->profile);
	assert_null(c->endpoint);
	assert_int_equal(c->nregions, 0);
	assert_int_equal(c->nfilters, 0);
	assert_string_equal(c->cache_path, "/var/cache/ec2-classify/fleet.db");
	assert_int_equal(c->max_age, 300);
	assert_int_equal(c->stale_max_age, 86400);
	assert_int_equal(c->nlookup, lookup_default_norder);
	for (i = 0; i < c->nlookup; i++)
		assert_int_equal(c->lookup[i], lookup_default_order[i]);
	/* DESIGN: instance id, private DNS, private IP, tag:Name */
	assert_int_equal(c->nlookup, 4);
	assert_int_equal(c->lookup[0], LOOKUP_INSTANCE_ID);
	assert_int_equal(c->lookup[1], LOOKUP_PRIVATE_DNS);
	assert_int_equal(c->lookup[2], LOOKUP_PRIVATE_IP);
	assert_int_equal(c->lookup[3], LOOKUP_TAG_NAME);
	assert_string_equal(c->tag_environment, "environment");
	assert_string_equal(c->tag_roles, "roles");
	assert_string_equal(c->tag_group, "group");
	assert_string_equal(c->param_prefix, "ec2_tag_");
	assert_int_equal(c->peers_enc, 0);
	assert_int_equal(c->peers_dna, 1);
	assert_null(c->peers_attribute);
	assert_null(c->base);
	assert_int_equal(c->ngroups, 0);
	assert_null(c->unknown);
}

/* ---- the fixture cases ---- */

struct header {
	char *why;		/* in the file text */
	char *error;		/* NULL: must load */
	size_t error_off;	/* offset of the error line, for REGENERATE */
	size_t error_len;
};

/* Reads the `# why:` and `# error:` lines (NUL-terminates them in a
 * copy; the file text stays as it was). */
static void
read_header(const char *path, const struct buf *file, struct header *h,
    char **copy)
{
	char *line2, *nl = NULL;

	memset(h, 0, sizeof(*h));
	assert_non_null(*copy = strdup(file->data));
	if (strncmp(*copy, "# why: ", 7) != 0 ||
	    (nl = strchr(*copy, '\n')) == NULL || nl - *copy < 17)
		fail_msg("%s: the first line is not '# why: ...' saying why "
		    "the case exists", path);
	*nl = '\0';
	h->why = *copy + 7;
	line2 = nl + 1;
	if (strncmp(line2, "# error: ", 9) == 0) {
		if ((nl = strchr(line2, '\n')) == NULL)
			fail_msg("%s: the error line does not end", path);
		*nl = '\0';
		h->error = line2 + 9;
		h->error_off = (size_t)(line2 - *copy);
		h->error_len = (size_t)(nl - line2);
		if (*h->error == '\0')
			fail_msg("%s: empty '# error:' line", path);
	}
}

/* JSON has no comments: the leading '#' lines become empty lines. */
static void
blank_comments(struct buf *b)
{
	char *p = b->data, *nl;
	size_t i;

	while (*p == '#' && (nl = strchr(p, '\n')) != NULL) {
		for (i = 0; p + i < nl; i++)
			p[i] = ' ';
		p = nl + 1;
	}
}

static void
rewrite_error(const char *path, const struct buf *file, const struct header *h,
    const char *msg)
{
	const char *text = msg;
	size_t dlen = strlen(path) - strlen(tu_base_name(path));
	FILE *f;

	if (strncmp(msg, path, dlen) == 0)
		text += dlen;
	if ((f = fopen(path, "wb")) == NULL)
		fail_msg("%s: cannot write", path);
	assert_int_equal(fwrite(file->data, 1, h->error_off, f), h->error_off);
	fprintf(f, "# error: %s", text);
	fputs(file->data + h->error_off + h->error_len, f);
	assert_int_equal(fclose(f), 0);
}

static void
test_fixture(void **state)
{
	const char *path = *state;
	const char *name = tu_base_name(path);
	struct config *c = (struct config *)(uintptr_t)1;
	struct header h;
	struct buf file, text;
	struct err e;
	char *copy, want[4096];
	size_t dlen = strlen(path) - strlen(name);
	int rc, json = ends_with(path, ".json");

	tu_slurp(path, &file);
	read_header(path, &file, &h, &copy);
	err_clear(&e);
	if (json) {
		tu_slurp(path, &text);
		blank_comments(&text);
		rc = config_parse(text.data, text.len, path, &c, &e);
		buf_free(&text);
	} else
		rc = config_load(path, &c, &e);

	if (h.error == NULL) {
		if (rc != 0)
			fail_msg("%s: refused: %s", path, e.msg);
		assert_non_null(c);
		if (strncmp(name, "valid-full.", 11) == 0)
			check_full(c, path);
		if (strcmp(name, "valid-minimal.yaml") == 0)
			check_defaults(c);
		config_free(c);
		goto out;
	}
	if (rc == 0) {
		config_free(c);
		fail_msg("%s: accepted, expected '%s'", path, h.error);
	}
	if (tu_regenerate() && rc == ERR_USAGE)
		rewrite_error(path, &file, &h, e.msg);
	if (rc != ERR_USAGE || e.code != ERR_USAGE)
		fail_msg("%s: rc %d code %d '%s', expected ERR_USAGE", path, rc,
		    (int)e.code, e.msg);
	assert_null(c);
	if (strchr(e.msg, '\n') != NULL)
		fail_msg("%s: message of more than one line: '%s'", path, e.msg);
	if (strncmp(e.msg, path, strlen(path)) != 0)
		fail_msg("%s: message does not start with the path: '%s'", path,
		    e.msg);
	if (strncmp(h.error, name, strlen(name)) == 0) {
		assert_true((size_t)snprintf(want, sizeof(want), "%.*s%s",
		    (int)dlen, path, h.error) < sizeof(want));
		if (strncmp(e.msg, want, strlen(want)) != 0)
			fail_msg("%s: got\n  %s\nexpected it to start with\n  %s\n"
			    "(REGENERATE=1 rewrites the error line for review)",
			    path, e.msg, want);
	} else if (strstr(e.msg, h.error) == NULL)
		fail_msg("%s: got\n  %s\nexpected it to contain\n  %s", path,
		    e.msg, h.error);
out:
	free(copy);
	buf_free(&file);
}

/* ---- files made on the spot ---- */

/* Writes n bytes of data into a new temporary file; returns its path. */
static char *
temp_file(const void *data, size_t n)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	assert_non_null(path = malloc(strlen(dir) + 32));
	snprintf(path, strlen(dir) + 32, "%s/test_config.XXXXXX", dir);
	if ((fd = mkstemp(path)) == -1)
		fail_msg("mkstemp %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
	return path;
}

static void
load_fails(const char *path, const char *text)
{
	struct config *c = (struct config *)(uintptr_t)1;
	struct err e;

	err_clear(&e);
	assert_int_equal(config_load(path, &c, &e), ERR_USAGE);
	assert_int_equal(e.code, ERR_USAGE);
	assert_null(c);
	if (strncmp(e.msg, path, strlen(path)) != 0 ||
	    strstr(e.msg, text) == NULL)
		fail_msg("'%s', expected '%s: ...%s...'", e.msg, path, text);
}

/* A NUL byte means a binary file, wherever it is. */
static void
test_load_nul(void **state)
{
	static const char text[] = "groups: {}\n# \0 after a comment\n";
	char *path;

	(void)state;
	path = temp_file(text, sizeof(text) - 1);
	load_fails(path, ": binary file (NUL byte)");
	unlink(path);
	free(path);
	path = temp_file("\0", 1);
	load_fails(path, ": binary file (NUL byte)");
	unlink(path);
	free(path);
}

/* A file of zero bytes is an empty config. */
static void
test_load_empty_file(void **state)
{
	char *path;

	(void)state;
	path = temp_file("", 0);
	load_fails(path, ": empty config: it needs at least 'groups'");
	unlink(path);
	free(path);
}

/* CONFIG_MAX_FILE bytes are read; one more byte is refused unread. */
static void
test_load_cap(void **state)
{
	static const char head[] = "groups: {}\n#";
	struct config *c;
	struct err e;
	char *data, *path, want[64];

	(void)state;
	assert_non_null(data = malloc(CONFIG_MAX_FILE + 1));
	memcpy(data, head, sizeof(head) - 1);
	memset(data + sizeof(head) - 1, 'x', CONFIG_MAX_FILE - sizeof(head));
	data[CONFIG_MAX_FILE - 1] = '\n';
	path = temp_file(data, CONFIG_MAX_FILE);
	err_clear(&e);
	if (config_load(path, &c, &e) != 0)
		fail_msg("a file of exactly the cap: %s", e.msg);
	config_free(c);
	unlink(path);
	free(path);

	data[CONFIG_MAX_FILE] = '\n';
	path = temp_file(data, CONFIG_MAX_FILE + 1);
	snprintf(want, sizeof(want), ": larger than %d bytes", CONFIG_MAX_FILE);
	load_fails(path, want);
	unlink(path);
	free(path);
	free(data);
}

static void
test_load_missing(void **state)
{
	(void)state;
	load_fails("/nonexistent/ec2-classify.yaml", ": No such file or "
	    "directory");
}

/* A directory opens but cannot be read. */
static void
test_load_directory(void **state)
{
	(void)state;
	load_fails(tu_fixtures(), ": ");
}

/* config_parse reads text[0..len) only; config_free takes NULL. */
static void
test_parse_len(void **state)
{
	static const char text[] = "groups: {}\nbogus: 1\n";
	struct config *c;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(config_parse(text, 11, "mem.yaml", &c, &e), 0);
	assert_non_null(c);
	assert_string_equal(c->path, "mem.yaml");
	config_free(c);
	assert_int_equal(config_parse(text, sizeof(text) - 1, "mem.yaml", &c,
	    &e), ERR_USAGE);
	assert_null(c);
	assert_string_equal(e.msg, "mem.yaml:2:1: unknown key 'bogus' in the "
	    "config");
	config_free(NULL);
}

/* ---- the validators ---- */

enum which { CLASS, ENVIRONMENT, PARAM, RUN_LIST_ITEM, ROLE_NAME };

struct valid_case {
	enum which w;
	const char *s;
	int ok;
};

static const struct valid_case valids[] = {
	{ CLASS, "nginx", 1 },
	{ CLASS, "postgresql::server", 1 },
	{ CLASS, "a::b::c_1", 1 },
	{ CLASS, "Nginx", 0 },
	{ CLASS, "my-app", 0 },
	{ CLASS, "::nginx", 0 },
	{ CLASS, "nginx::", 0 },
	{ CLASS, "1nginx", 0 },
	{ CLASS, "main", 0 },
	{ CLASS, "settings", 0 },
	{ CLASS, "", 0 },
	{ ENVIRONMENT, "production", 1 },
	{ ENVIRONMENT, "feature_123", 1 },
	{ ENVIRONMENT, "Production", 0 },
	{ ENVIRONMENT, "pre-prod", 0 },
	{ ENVIRONMENT, "", 0 },
	{ ENVIRONMENT, "main", 0 },
	{ ENVIRONMENT, "master", 0 },
	{ ENVIRONMENT, "agent", 0 },
	{ ENVIRONMENT, "user", 0 },
	{ ENVIRONMENT, "prod\n", 0 },
	{ PARAM, "app_port", 1 },
	{ PARAM, "_private", 1 },
	{ PARAM, "camelCase", 1 },
	{ PARAM, "Port", 0 },
	{ PARAM, "9lives", 0 },
	{ PARAM, "a-b", 0 },
	{ PARAM, "", 0 },
	{ PARAM, "name", 0 },
	{ PARAM, "title", 0 },
	{ PARAM, "facts", 0 },
	{ PARAM, "server_facts", 0 },
	{ PARAM, "trusted", 0 },
	{ PARAM, "environment", 0 },
	{ PARAM, "names", 1 },
	{ RUN_LIST_ITEM, "recipe[base]", 1 },
	{ RUN_LIST_ITEM, "recipe[base::default]", 1 },
	{ RUN_LIST_ITEM, "recipe[x@1.2.3]", 1 },
	{ RUN_LIST_ITEM, "recipe[x::y@1.2]", 1 },
	{ RUN_LIST_ITEM, "role[web-servers]", 1 },
	{ RUN_LIST_ITEM, "recipe[]", 0 },
	{ RUN_LIST_ITEM, "role[a b]", 0 },
	{ RUN_LIST_ITEM, "recipe[x@1]", 0 },
	{ RUN_LIST_ITEM, "ROLE[x]", 0 },
	{ RUN_LIST_ITEM, "Recipe[x]", 0 },
	{ RUN_LIST_ITEM, "recipe[x", 0 },
	{ RUN_LIST_ITEM, "role[x::y]", 0 },
	{ RUN_LIST_ITEM, "x", 0 },
	{ RUN_LIST_ITEM, "", 0 },
	{ ROLE_NAME, "web", 1 },
	{ ROLE_NAME, "__base__", 1 },
	{ ROLE_NAME, "Web-01_b", 1 },
	{ ROLE_NAME, "web servers", 0 },
	{ ROLE_NAME, "web.v2", 0 },
	{ ROLE_NAME, "", 0 },
};

static void
test_validators(void **state)
{
	static const char *const names[] = { "config_valid_class",
	    "config_valid_environment", "config_valid_param",
	    "config_valid_run_list_item", "config_valid_role_name" };
	size_t i;
	int got = 0;

	(void)state;
	for (i = 0; i < sizeof(valids) / sizeof(valids[0]); i++) {
		const struct valid_case *v = &valids[i];

		switch (v->w) {
		case CLASS:
			got = config_valid_class(v->s);
			break;
		case ENVIRONMENT:
			got = config_valid_environment(v->s);
			break;
		case PARAM:
			got = config_valid_param(v->s);
			break;
		case RUN_LIST_ITEM:
			got = config_valid_run_list_item(v->s);
			break;
		case ROLE_NAME:
			got = config_valid_role_name(v->s);
			break;
		}
		if ((got != 0) != v->ok)
			fail_msg("%s(\"%s\") is %d, expected %s", names[v->w], v->s,
			    got, v->ok ? "valid" : "invalid");
	}
}

/* The validators are written with strspn; each must accept exactly what
 * its POSIX regex (the spec, kept here) accepts, on every string of up to
 * DIFF_LEN tokens of an alphabet of the characters and pieces that
 * matter to them. */
#define DIFF_LEN 4

static const char *const diff_tokens[] = { "a", "Z", "0", "_", "-", ".",
    ":", "::", "@", "1.2", "]", "recipe[", "role[", "main" };
#define NTOKENS (sizeof(diff_tokens) / sizeof(diff_tokens[0]))

static const struct {
	const char *pattern;
	int (*fn)(const char *);
	const char *const *reserved;
} diff_specs[] = {
	{ "^[a-z][a-z0-9_]*(::[a-z][a-z0-9_]*)*$", config_valid_class,
	    (const char *const[]){ "main", "settings", NULL } },
	{ "^[a-z_][a-zA-Z0-9_]*$", config_valid_param,
	    (const char *const[]){ "name", "title", "facts", "server_facts",
	    "trusted", "environment", NULL } },
	{ "^(recipe\\[[A-Za-z0-9_.-]+(::[A-Za-z0-9_.-]+)?"
	    "(@[0-9]+\\.[0-9]+(\\.[0-9]+)?)?\\]|role\\[[A-Za-z0-9_-]+\\])$",
	    config_valid_run_list_item, NULL },
	{ "^[A-Za-z0-9_-]+$", config_valid_role_name, NULL },
};

static int
reserved_word(const char *const *list, const char *s)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void
test_validators_match_regexes(void **state)
{
	regex_t re[sizeof(diff_specs) / sizeof(diff_specs[0])];
	size_t k, i, idx[DIFF_LEN], len, checked = 0;
	char s[64];

	(void)state;
	for (k = 0; k < sizeof(diff_specs) / sizeof(diff_specs[0]); k++)
		assert_int_equal(regcomp(&re[k], diff_specs[k].pattern,
		    REG_EXTENDED | REG_NOSUB), 0);
	for (len = 0; len <= DIFF_LEN; len++) {
		memset(idx, 0, sizeof(idx));
		for (;;) {
			s[0] = '\0';
			for (i = 0; i < len; i++)
				strcat(s, diff_tokens[idx[i]]);
			for (k = 0; k < sizeof(diff_specs) / sizeof(diff_specs[0]);
			    k++) {
				int want = regexec(&re[k], s, 0, NULL, 0) == 0 &&
				    !reserved_word(diff_specs[k].reserved, s);
				int got = diff_specs[k].fn(s) != 0;

				if (got != want)
					fail_msg("\"%s\": %s says %d, the regex %s "
					    "%d", s, k == 0 ? "class" : k == 1 ?
					    "param" : k == 2 ? "run-list item" :
					    "role name", got, diff_specs[k].pattern,
					    want);
				checked++;
			}
			for (i = 0; i < len && ++idx[i] == NTOKENS; i++)
				idx[i] = 0;
			if (i == len)
				break;
		}
	}
	for (k = 0; k < sizeof(diff_specs) / sizeof(diff_specs[0]); k++)
		regfree(&re[k]);
	assert_true(checked > 100000);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_load_nul),
		cmocka_unit_test(test_load_empty_file),
		cmocka_unit_test(test_load_cap),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_directory),
		cmocka_unit_test(test_parse_len),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_validators_match_regexes),
	};
	struct tu_group g = TU_GROUP("config");

	tu_add_tests(&g, fixed, TU_NELEM(fixed));
	tu_add_glob(&g, "config/*.yaml", test_fixture);
	tu_add_glob(&g, "config/*.json", test_fixture);
	return tu_run(&g, NULL, NULL);
}
