/* config: what the config file may say, checked with positions. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "util.h"
#include "yamlio.h"

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* The names are checked with strspn over these sets, not with regexes:
 * compiling a regex costs more than the rest of a cache hit. The
 * patterns each implements are in the comments, and test_config checks
 * them against regcomp() on every short string of a small alphabet. */
#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGIT "0123456789"

/* s is one or more characters of set, and all of them. */
static int
all_of(const char *s, const char *set)
{
	return *s != '\0' && s[strspn(s, set)] == '\0';
}

/* ^[a-z][a-z0-9_]*(::[a-z][a-z0-9_]*)*$ */
int
config_valid_class(const char *s)
{
	static const char *const reserved[] = { "main", "settings", NULL };
	const char *p = s;

	for (;;) {
		if (strchr(LOWER, *p) == NULL || *p == '\0')
			return 0;
		p += 1 + strspn(p + 1, LOWER DIGIT "_");
		if (*p == '\0')
			break;
		if (p[0] != ':' || p[1] != ':')
			return 0;
		p += 2;
	}
	return !in_list(s, reserved);
}

int
config_valid_environment(const char *s)
{
	static const char *const reserved[] = { "main", "master", "agent",
	    "user", NULL };

	const char *p;

	/* ^[a-z0-9_]+$ without the regex: peers check every instance's tag */
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return 0;
	return p != s && !in_list(s, reserved);
}

/* ^[a-z_][a-zA-Z0-9_]*$ */
int
config_valid_param(const char *s)
{
	static const char *const reserved[] = { "name", "title", "facts",
	    "server_facts", "trusted", "environment", NULL };

	return *s != '\0' && strchr(LOWER "_", *s) != NULL &&
	    s[1 + strspn(s + 1, LOWER UPPER DIGIT "_")] == '\0' &&
	    !in_list(s, reserved);
}

/* Skips one or more characters of set at *p; 0 when there is none. */
static int
skip(const char **p, const char *set)
{
	size_t n = strspn(*p, set);

	*p += n;
	return n > 0;
}

/* ^(recipe\[[A-Za-z0-9_.-]+(::[A-Za-z0-9_.-]+)?
 *   (@[0-9]+\.[0-9]+(\.[0-9]+)?)?\]|role\[[A-Za-z0-9_-]+\])$ */
int
config_valid_run_list_item(const char *s)
{
	static const char name[] = LOWER UPPER DIGIT "_.-";

	if (strncmp(s, "role[", 5) == 0) {
		s += 5;
		return skip(&s, LOWER UPPER DIGIT "_-") && strcmp(s, "]") == 0;
	}
	if (strncmp(s, "recipe[", 7) != 0)
		return 0;
	s += 7;
	if (!skip(&s, name))
		return 0;
	if (s[0] == ':' && s[1] == ':') {
		s += 2;
		if (!skip(&s, name))
			return 0;
	}
	if (*s == '@') {
		s++;
		if (!skip(&s, DIGIT) || *s++ != '.' || !skip(&s, DIGIT))
			return 0;
		if (*s == '.' && (s++, !skip(&s, DIGIT)))
			return 0;
	}
	return strcmp(s, "]") == 0;
}

/* ^[A-Za-z0-9_-]+$, at most CONFIG_NAME_MAX long */
int
config_valid_role_name(const char *s)
{
	return strlen(s) <= CONFIG_NAME_MAX && all_of(s, LOWER UPPER DIGIT "_-");
}

struct check {
	struct config *c;
	struct err *e;
};

static int
bad(struct check *k, const struct value *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(struct check *k, const struct value *v, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v != NULL && v->line > 0)
		return err_set(k->e, ERR_USAGE, "%s:%d:%d: %s", k->c->path,
		    v->line, v->col, msg);
	return err_set(k->e, ERR_USAGE, "%s: %s", k->c->path, msg);
}

/* An error about key i of map, at the key's own position. */
static int
bad_key(struct check *k, const struct value *map, size_t i, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
bad_key(struct check *k, const struct value *map, size_t i, const char *fmt,
    ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (map->key_pos != NULL && map->key_pos[2 * i] > 0)
		return err_set(k->e, ERR_USAGE, "%s:%d:%d: %s", k->c->path,
		    map->key_pos[2 * i], map->key_pos[2 * i + 1], msg);
	return bad(k, map->items[i], "%s", msg);
}

static int
want(struct check *k, const struct value *v, enum value_type t,
    const char *what)
{
	if (v->type != t)
		return bad(k, v, "%s must be a %s, not a %s", what,
		    value_type_name(t), value_type_name(v->type));
	return 0;
}

/* Checks that every key of map is in allowed. */
static int
keys_known(struct check *k, const struct value *map, const char *where,
    const char *const *allowed)
{
	size_t i;

	for (i = 0; i < map->n; i++)
		if (!in_list(map->keys[i], allowed))
			return bad_key(k, map, i, "unknown key '%s' in %s",
			    map->keys[i], where);
	return 0;
}

static int
get_str(struct check *k, const struct value *map, const char *key,
    const char *where, const char **out)
{
	const struct value *v = value_map_get(map, key);
	char what[128];

	if (v == NULL)
		return 0;
	snprintf(what, sizeof(what), "%s.%s", where, key);
	if (want(k, v, VAL_STR, what) != 0)
		return k->e->code;
	if (v->s[0] == '\0')
		return bad(k, v, "%s must not be empty", what);
	*out = v->s;
	return 0;
}

static int
get_seconds(struct check *k, const struct value *map, const char *key,
    long *out)
{
	const struct value *v = value_map_get(map, key);

	if (v == NULL)
		return 0;
	if (v->type != VAL_INT || v->i < 0 || v->i > 100L * 365 * 86400)
		return bad(k, v, "cache.%s must be a number of seconds", key);
	*out = (long)v->i;
	return 0;
}

/* A file mode as a quoted octal string: "0640" or "640". */
static int
get_mode(struct check *k, const struct value *map, const char *key,
    int *out)
{
	const struct value *v = value_map_get(map, key);
	size_t len;

	if (v == NULL)
		return 0;
	len = v->type == VAL_STR ? strlen(v->s) : 0;
	/* ^0?[0-7]{3}$ */
	if (len < 3 || len > 4 || (len == 4 && v->s[0] != '0') ||
	    !all_of(v->s, "01234567"))
		return bad(k, v, "cache.%s must be an octal file mode in quotes, "
		    "like \"0640\"", key);
	*out = (int)strtol(v->s, NULL, 8);
	return 0;
}

static int
get_bool(struct check *k, const struct value *map, const char *key,
    int *out)
{
	const struct value *v = value_map_get(map, key);
	char what[64];

	if (v == NULL)
		return 0;
	snprintf(what, sizeof(what), "peers.%s", key);
	if (want(k, v, VAL_BOOL, what) != 0)
		return k->e->code;
	*out = v->b;
	return 0;
}

/* aws.KEY: a non-empty list of distinct non-empty strings, or absent. */
static int
get_names(struct check *k, const struct value *aws, const char *key,
    const char ***out, size_t *n)
{
	const struct value *v, *it;
	char what[64];
	size_t i, j;
	int rc;

	if ((v = value_map_get(aws, key)) == NULL)
		return 0;
	snprintf(what, sizeof(what), "aws.%s", key);
	if ((rc = want(k, v, VAL_LIST, what)) != 0)
		return rc;
	if (v->n == 0)
		return bad(k, v, "%s must not be empty", what);
	if ((*out = calloc(v->n, sizeof(**out))) == NULL)
		return err_set(k->e, ERR_FAIL, "out of memory");
	for (i = 0; i < v->n; i++) {
		it = v->items[i];
		if (it->type != VAL_STR || *it->s == '\0')
			return bad(k, it, "%s items must be non-empty strings",
			    what);
		for (j = 0; j < i; j++)
			if (strcmp((*out)[j], it->s) == 0)
				return bad(k, it, "%s lists '%s' twice", what,
				    it->s);
		(*out)[(*n)++] = it->s;
	}
	return 0;
}

static int
check_aws(struct check *k, const struct value *aws)
{
	static const char *const allowed[] = { "region", "regions", "profile",
	    "profiles", "endpoint", "filters", NULL };
	struct config *c = k->c;
	const struct value *v, *vals;
	size_t i, j;
	int rc;

	if ((rc = want(k, aws, VAL_MAP, "aws")) != 0 ||
	    (rc = keys_known(k, aws, "aws", allowed)) != 0 ||
	    (rc = get_str(k, aws, "region", "aws", &c->region)) != 0 ||
	    (rc = get_str(k, aws, "profile", "aws", &c->profile)) != 0 ||
	    (rc = get_str(k, aws, "endpoint", "aws", &c->endpoint)) != 0)
		return rc;
	if ((rc = get_names(k, aws, "regions", &c->regions, &c->nregions)) != 0 ||
	    (rc = get_names(k, aws, "profiles", &c->profiles,
	    &c->nprofiles)) != 0)
		return rc;
	if (c->profile != NULL && c->nprofiles > 0)
		return bad(k, value_map_get(aws, "profiles"), "aws.profile and "
		    "aws.profiles exclude each other; list the one profile in "
		    "aws.profiles");
	if ((v = value_map_get(aws, "filters")) == NULL)
		return 0;
	if ((rc = want(k, v, VAL_MAP, "aws.filters")) != 0)
		return rc;
	if ((c->filters = calloc(v->n + 1, sizeof(*c->filters))) == NULL)
		return err_set(k->e, ERR_FAIL, "out of memory");
	for (i = 0; i < v->n; i++) {
		vals = v->items[i];
		if (vals->type != VAL_LIST || vals->n == 0)
			return bad_key(k, v, i, "aws.filters.%s must be a non-empty "
			    "list of strings", v->keys[i]);
		for (j = 0; j < vals->n; j++)
			if (vals->items[j]->type != VAL_STR)
				return bad(k, vals->items[j], "aws.filters.%s "
				    "values must be strings", v->keys[i]);
		c->filters[i].name = v->keys[i];
		c->filters[i].nvalues = vals->n;
		c->filters[i].values = calloc(vals->n, sizeof(char *));
		if (c->filters[i].values == NULL)
			return err_set(k->e, ERR_FAIL, "out of memory");
		for (j = 0; j < vals->n; j++)
			((const char **)c->filters[i].values)[j] =
			    vals->items[j]->s;
		c->nfilters++;
	}
	return 0;
}

static int
check_lookup(struct check *k, const struct value *v)
{
	static const struct {
		const char *name;
		enum lookup_strategy s;
	} names[] = {
		{ "instance-id", LOOKUP_INSTANCE_ID },
		{ "private-dns-name", LOOKUP_PRIVATE_DNS },
		{ "private-ip", LOOKUP_PRIVATE_IP },
		{ "tag:Name", LOOKUP_TAG_NAME },
	};
	size_t i, j, m;
	int rc;

	if ((rc = want(k, v, VAL_LIST, "lookup")) != 0)
		return rc;
	if (v->n == 0 || v->n > 4)
		return bad(k, v, "lookup must list 1 to 4 strategies");
	k->c->nlookup = 0;
	for (i = 0; i < v->n; i++) {
		if ((rc = want(k, v->items[i], VAL_STR, "a lookup item")) != 0)
			return rc;
		for (m = 0; m < 4; m++)
			if (strcmp(v->items[i]->s, names[m].name) == 0)
				break;
		if (m == 4)
			return bad(k, v->items[i], "unknown lookup strategy '%s' "
			    "(instance-id, private-dns-name, private-ip, "
			    "tag:Name)", v->items[i]->s);
		for (j = 0; j < k->c->nlookup; j++)
			if (k->c->lookup[j] == names[m].s)
				return bad(k, v->items[i], "lookup strategy '%s' "
				    "listed twice", v->items[i]->s);
		k->c->lookup[k->c->nlookup++] = names[m].s;
	}
	return 0;
}

static int
check_run_list(struct check *k, const struct value *v, const char *what)
{
	size_t i;
	int rc;

	if ((rc = want(k, v, VAL_LIST, what)) != 0)
		return rc;
	for (i = 0; i < v->n; i++) {
		if ((rc = want(k, v->items[i], VAL_STR, "a run-list item")) != 0)
			return rc;
		if (!config_valid_run_list_item(v->items[i]->s))
			return bad(k, v->items[i], "invalid run-list item '%s' "
			    "(want recipe[COOKBOOK], recipe[COOKBOOK::RECIPE], "
			    "an optional @X.Y[.Z], or role[NAME])",
			    v->items[i]->s);
	}
	return 0;
}

/* A top-level dna.json key dna-gen writes itself. */
static int
dna_key(const struct config *c, const char *key)
{
	return strcmp(key, "run_list") == 0 || strcmp(key, "ec2") == 0 ||
	    (c->peers_attribute != NULL && strcmp(key, c->peers_attribute) == 0);
}

/* A group body, or the unknown section. */
static int
check_group(struct check *k, const char *name, const struct value *g)
{
	static const char *const allowed[] = { "description", "environment",
	    "classes", "parameters", "run_list", "post_run_list",
	    "default_attributes", NULL };
	const struct value *v;
	const char *prefix = k->c->param_prefix;
	char where[160];
	size_t i;
	int rc;

	snprintf(where, sizeof(where), "group '%s'", name);
	if (g->type == VAL_NULL)
		return 0;
	if ((rc = want(k, g, VAL_MAP, where)) != 0 ||
	    (rc = keys_known(k, g, where, allowed)) != 0)
		return rc;
	if ((v = value_map_get(g, "description")) != NULL &&
	    (rc = want(k, v, VAL_STR, "description")) != 0)
		return rc;
	if ((v = value_map_get(g, "environment")) != NULL) {
		if ((rc = want(k, v, VAL_STR, "environment")) != 0)
			return rc;
		if (!config_valid_environment(v->s))
			return bad(k, v, "invalid Puppet environment name '%s' "
			    "(lowercase letters, digits and '_')", v->s);
	}
	if ((v = value_map_get(g, "classes")) != NULL) {
		if ((rc = want(k, v, VAL_MAP, "classes")) != 0)
			return rc;
		for (i = 0; i < v->n; i++) {
			const struct value *p = v->items[i];
			size_t j;

			if (!config_valid_class(v->keys[i]))
				return bad_key(k, v, i, "invalid Puppet class name "
				    "'%s'", v->keys[i]);
			if (p->type == VAL_NULL)
				continue;
			if (p->type != VAL_MAP)
				return bad(k, p, "the parameters of class '%s' "
				    "must be a hash", v->keys[i]);
			for (j = 0; j < p->n; j++)
				if (!config_valid_param(p->keys[j]))
					return bad_key(k, p, j, "invalid "
					    "parameter name '%s' for class '%s'",
					    p->keys[j], v->keys[i]);
		}
	}
	if ((v = value_map_get(g, "parameters")) != NULL) {
		if ((rc = want(k, v, VAL_MAP, "parameters")) != 0)
			return rc;
		for (i = 0; i < v->n; i++) {
			if (!config_valid_param(v->keys[i]))
				return bad_key(k, v, i, "invalid or reserved "
				    "parameter name '%s' (want [a-z_][a-zA-Z0-9_]*"
				    ", not name, title, facts, server_facts, "
				    "trusted or environment)", v->keys[i]);
			if (strncmp(v->keys[i], "ec2_", 4) == 0 ||
			    strncmp(v->keys[i], prefix, strlen(prefix)) == 0)
				return bad_key(k, v, i, "parameter '%s' uses "
				    "a prefix reserved for EC2 facts", v->keys[i]);
		}
	}
	if ((v = value_map_get(g, "run_list")) != NULL &&
	    (rc = check_run_list(k, v, "run_list")) != 0)
		return rc;
	if ((v = value_map_get(g, "post_run_list")) != NULL &&
	    (rc = check_run_list(k, v, "post_run_list")) != 0)
		return rc;
	if ((v = value_map_get(g, "default_attributes")) != NULL) {
		if ((rc = want(k, v, VAL_MAP, "default_attributes")) != 0)
			return rc;
		for (i = 0; i < v->n; i++)
			if (dna_key(k->c, v->keys[i]))
				return bad_key(k, v, i, "attribute '%s' would "
				    "collide with dna-gen's own '%s' (run_list, "
				    "ec2 and peers_attribute are taken)",
				    v->keys[i], v->keys[i]);
	}
	return 0;
}

static int
check_root(struct check *k)
{
	static const char *const top[] = { "aws", "cache", "lookup", "tags",
	    "peers", "peers_attribute", "groups", "unknown", NULL };
	static const char *const cache_keys[] = { "path", "max_age",
	    "stale_max_age", "mode", NULL };
	static const char *const tag_keys[] = { "environment", "roles",
	    "group", "parameter_prefix", NULL };
	static const char *const peer_keys[] = { "enc", "dna", NULL };
	struct config *c = k->c;
	const struct value *root = c->root, *v;
	size_t i;
	int rc;

	if (root->type == VAL_NULL)
		return bad(k, NULL, "empty config: it needs at least 'groups'");
	if ((rc = want(k, root, VAL_MAP, "the config")) != 0 ||
	    (rc = keys_known(k, root, "the config", top)) != 0)
		return rc;
	if ((v = value_map_get(root, "aws")) != NULL &&
	    (rc = check_aws(k, v)) != 0)
		return rc;
	if ((v = value_map_get(root, "cache")) != NULL &&
	    ((rc = want(k, v, VAL_MAP, "cache")) != 0 ||
	    (rc = keys_known(k, v, "cache", cache_keys)) != 0 ||
	    (rc = get_str(k, v, "path", "cache", &c->cache_path)) != 0 ||
	    (rc = get_seconds(k, v, "max_age", &c->max_age)) != 0 ||
	    (rc = get_seconds(k, v, "stale_max_age", &c->stale_max_age)) != 0 ||
	    (rc = get_mode(k, v, "mode", &c->cache_mode)) != 0))
		return rc;
	if ((v = value_map_get(root, "lookup")) != NULL &&
	    (rc = check_lookup(k, v)) != 0)
		return rc;
	if ((v = value_map_get(root, "tags")) != NULL &&
	    ((rc = want(k, v, VAL_MAP, "tags")) != 0 ||
	    (rc = keys_known(k, v, "tags", tag_keys)) != 0 ||
	    (rc = get_str(k, v, "environment", "tags",
	    &c->tag_environment)) != 0 ||
	    (rc = get_str(k, v, "roles", "tags", &c->tag_roles)) != 0 ||
	    (rc = get_str(k, v, "group", "tags", &c->tag_group)) != 0 ||
	    (rc = get_str(k, v, "parameter_prefix", "tags",
	    &c->param_prefix)) != 0))
		return rc;
	if (!config_valid_param(c->param_prefix))
		return bad(k, value_map_get(root, "tags"), "tags.parameter_prefix "
		    "'%s' does not start a valid Puppet variable name",
		    c->param_prefix);
	if ((v = value_map_get(root, "peers")) != NULL &&
	    ((rc = want(k, v, VAL_MAP, "peers")) != 0 ||
	    (rc = keys_known(k, v, "peers", peer_keys)) != 0 ||
	    (rc = get_bool(k, v, "enc", &c->peers_enc)) != 0 ||
	    (rc = get_bool(k, v, "dna", &c->peers_dna)) != 0))
		return rc;
	if ((rc = get_str(k, root, "peers_attribute", "config",
	    &c->peers_attribute)) != 0)
		return rc;
	if (c->peers_attribute != NULL &&
	    (strcmp(c->peers_attribute, "run_list") == 0 ||
	    strcmp(c->peers_attribute, "ec2") == 0))
		return bad(k, value_map_get(root, "peers_attribute"),
		    "peers_attribute cannot be '%s': dna-gen writes that "
		    "key itself", c->peers_attribute);
	if ((v = value_map_get(root, "groups")) == NULL)
		return bad(k, root, "missing 'groups'");
	if ((rc = want(k, v, VAL_MAP, "groups")) != 0)
		return rc;
	if ((c->groups = calloc(v->n + 1, sizeof(*c->groups))) == NULL)
		return err_set(k->e, ERR_FAIL, "out of memory");
	for (i = 0; i < v->n; i++) {
		if (!config_valid_role_name(v->keys[i]))
			return bad_key(k, v, i, "group name '%.64s' cannot be a "
			    "Chef role name (letters, digits, '_', '-'; at most "
			    "%d)", v->keys[i], CONFIG_NAME_MAX);
		if ((rc = check_group(k, v->keys[i], v->items[i])) != 0)
			return rc;
		if (strcmp(v->keys[i], "__base__") == 0) {
			c->base = v->items[i];
			continue;
		}
		c->groups[c->ngroups].name = v->keys[i];
		c->groups[c->ngroups++].body = v->items[i];
	}
	if ((v = value_map_get(root, "unknown")) != NULL) {
		if ((rc = check_group(k, "unknown", v)) != 0)
			return rc;
		c->unknown = v;
	}
	return 0;
}

int
config_parse(const char *text, size_t len, const char *name,
    struct config **out, struct err *e)
{
	struct config *c;
	struct check k;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(name)) == NULL) {
		free(c);
		return err_set(e, ERR_FAIL, "out of memory");
	}
	c->cache_path = "/var/cache/ec2-classify/fleet.db";
	c->max_age = 300;
	c->stale_max_age = 86400;
	c->cache_mode = 0640;
	memcpy(c->lookup, lookup_default_order, sizeof(c->lookup));
	c->nlookup = lookup_default_norder;
	c->tag_environment = "environment";
	c->tag_roles = "roles";
	c->tag_group = "group";
	c->param_prefix = "ec2_tag_";
	c->peers_enc = 0;
	c->peers_dna = 1;
	k.c = c;
	k.e = e;
	if ((rc = yamlio_parse(text, len, name, &c->root, e)) != 0 ||
	    (rc = check_root(&k)) != 0) {
		config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int
config_load(const char *path, struct config **out, struct err *e)
{
	struct buf b;
	char chunk[8192];
	size_t n;
	FILE *f;
	int rc;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return err_set(e, ERR_USAGE, "%s: %s", path, strerror(errno));
	buf_init(&b, CONFIG_MAX_FILE);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) == -1) {
			fclose(f);
			buf_free(&b);
			return err_set(e, ERR_USAGE, "%s: larger than %d bytes",
			    path, CONFIG_MAX_FILE);
		}
	if (ferror(f)) {
		fclose(f);
		buf_free(&b);
		return err_set(e, ERR_USAGE, "%s: read error", path);
	}
	fclose(f);
	if (memchr(b.data ? b.data : "", '\0', b.len) != NULL) {
		buf_free(&b);
		return err_set(e, ERR_USAGE, "%s: binary file (NUL byte)", path);
	}
	rc = config_parse(b.data ? b.data : "", b.len, path, out, e);
	buf_free(&b);
	return rc;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nfilters; i++)
		free((void *)c->filters[i].values);
	free(c->filters);
	free(c->regions);
	free(c->profiles);
	free(c->groups);
	value_free(c->root);
	free(c->path);
	free(c);
}
