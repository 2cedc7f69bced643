/* classify: group selection, the merge rules, and the ENC document. */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "classify.h"

#define NOMEM(e) err_set((e), ERR_FAIL, "out of memory")

static int
explain(struct classify_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
explain(struct classify_result *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return value_list_add(r->explain, value_str(line));
}

/* recipe[x::default] and recipe[x] are one run-list item. */
static int
same_item(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	static const char def[] = "::default]";

	if (strcmp(a, b) == 0)
		return 1;
	if (strncmp(a, "recipe[", 7) != 0 || strncmp(b, "recipe[", 7) != 0)
		return 0;
	if (la > lb)
		return la == lb + 9 && strcmp(a + lb - 1, def) == 0 &&
		    strncmp(a, b, lb - 1) == 0;
	return lb == la + 9 && strcmp(b + la - 1, def) == 0 &&
	    strncmp(a, b, la - 1) == 0;
}

static int
list_has(const struct value *list, const struct value *v)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (value_equal(list->items[i], v) ||
		    (v->type == VAL_STR && list->items[i]->type == VAL_STR &&
		    same_item(list->items[i]->s, v->s)))
			return 1;
	return 0;
}

static int
append_list(struct value *dst, const struct value *src)
{
	size_t i;

	for (i = 0; src != NULL && i < src->n; i++)
		if (!list_has(dst, src->items[i]) &&
		    value_list_add(dst, value_ref(src->items[i])) == -1)
			return -1;
	return 0;
}

/* Level-1 merge: each key of src replaces the whole value in dst. */
static int
merge_hash(struct classify_result *r, struct value *dst,
    const struct value *src, const char *what, const char *source)
{
	size_t i;
	struct value *v;

	for (i = 0; src != NULL && i < src->n; i++) {
		v = src->items[i];
		/* a class listed with no parameters means {} */
		if (v->type == VAL_NULL && strcmp(what, "class") == 0)
			v = NULL;
		if (value_map_set(dst, src->keys[i], v ? value_ref(v) :
		    value_map()) == -1 ||
		    explain(r, "%s %s: %s", what, src->keys[i], source) == -1)
			return -1;
	}
	return 0;
}

static int
apply(struct classify_result *r, const char *name, const struct value *g,
    const char *why, struct value *post, struct err *e)
{
	char source[512];
	const struct value *v;

	snprintf(source, sizeof(source), "group '%s' (%s)", name, why);
	if (value_list_add(r->groups, value_str(name)) == -1)
		return NOMEM(e);
	if (g == NULL || g->type != VAL_MAP)
		return 0;
	if (merge_hash(r, r->classes, value_map_get(g, "classes"), "class",
	    source) == -1 ||
	    merge_hash(r, r->parameters, value_map_get(g, "parameters"),
	    "parameter", source) == -1 ||
	    merge_hash(r, r->default_attributes,
	    value_map_get(g, "default_attributes"), "attribute", source) == -1 ||
	    append_list(r->run_list, value_map_get(g, "run_list")) == -1 ||
	    append_list(post, value_map_get(g, "post_run_list")) == -1)
		return NOMEM(e);
	if ((v = value_map_get(g, "environment")) != NULL) {
		value_free(r->environment);
		r->environment = value_ref((struct value *)v);
		if (explain(r, "environment %s: %s", v->s, source) == -1)
			return NOMEM(e);
	}
	return 0;
}

static int
init(struct classify_result *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	r->groups = value_list();
	r->classes = value_map();
	r->parameters = value_map();
	r->run_list = value_list();
	r->default_attributes = value_map();
	r->roles = value_list();
	r->explain = value_list();
	if (!r->groups || !r->classes || !r->parameters || !r->run_list ||
	    !r->default_attributes || !r->roles || !r->explain)
		return NOMEM(e);
	return 0;
}

void
classify_result_cleanup(struct classify_result *r)
{
	if (r == NULL)
		return;
	value_free(r->groups);
	value_free(r->classes);
	value_free(r->parameters);
	value_free(r->run_list);
	value_free(r->default_attributes);
	value_free(r->roles);
	value_free(r->environment);
	value_free(r->explain);
	memset(r, 0, sizeof(*r));
}

/* The roles tag, split on ',', blanks trimmed, empties and repeats dropped. */
static int
split_roles(const char *tag, struct value *roles)
{
	const char *p = tag, *end;
	struct value *v;
	size_t n;

	while (p != NULL && *p != '\0') {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		while (n > 0 && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		if (n > 0) {
			char *s = strndup(p, n);
			if (s == NULL || (v = value_str(s)) == NULL) {
				free(s);
				return -1;
			}
			free(s);
			if (list_has(roles, v))
				value_free(v);
			else if (value_list_add(roles, v) == -1)
				return -1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static int
has_str(const struct value *list, const char *s)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (strcmp(list->items[i]->s, s) == 0)
			return 1;
	return 0;
}

/* Why group name applies to in, or NULL when it does not. */
static const char *
applies(const char *name, const struct instance *in,
    const struct value *roles, const char *group_tag)
{
	size_t i;

	for (i = 0; i < in->ngroups; i++)
		if (strcmp(in->groups[i].name, name) == 0)
			return "security group";
	if (has_str(roles, name))
		return "role";
	if (group_tag != NULL && strcmp(group_tag, name) == 0)
		return "group tag";
	return NULL;
}

static int
finish(struct classify_result *r, struct value *post, struct err *e)
{
	int rc = append_list(r->run_list, post) == -1 ? NOMEM(e) : 0;

	value_free(post);
	if (rc == 0 && r->environment == NULL) {
		if ((r->environment = value_str("production")) == NULL ||
		    explain(r, "environment production: the default") == -1)
			rc = NOMEM(e);
	}
	return rc;
}

int
classify_instance(const struct config *c, const struct instance *in,
    struct classify_result *r, struct err *e)
{
	struct value *post = NULL;
	const char *why, *env, *rtag;
	size_t i;
	int rc;

	if ((rc = init(r, e)) != 0)
		return rc;
	if ((post = value_list()) == NULL)
		return NOMEM(e);
	rtag = instance_tag(in, c->tag_roles);
	if (rtag != NULL && split_roles(rtag, r->roles) == -1) {
		value_free(post);
		return NOMEM(e);
	}
	/* no __base__ in the config: nothing to apply, nothing to list */
	if (c->base != NULL && (rc = apply(r, "__base__", c->base,
	    "every instance", post, e)) != 0)
		goto fail;
	for (i = 0; i < c->ngroups; i++) {
		why = applies(c->groups[i].name, in, r->roles,
		    instance_tag(in, c->tag_group));
		if (why != NULL && (rc = apply(r, c->groups[i].name,
		    c->groups[i].body, why, post, e)) != 0)
			goto fail;
	}
	if ((env = instance_tag(in, c->tag_environment)) != NULL) {
		if (!config_valid_environment(env)) {
			rc = err_set(e, ERR_FAIL, "%s: tag %s='%s' is not a valid "
			    "Puppet environment name (lowercase letters, digits, "
			    "'_')", in->id, c->tag_environment, env);
			goto fail;
		}
		value_free(r->environment);
		if ((r->environment = value_str(env)) == NULL ||
		    explain(r, "environment %s: tag '%s'", env,
		    c->tag_environment) == -1) {
			rc = NOMEM(e);
			goto fail;
		}
	}
	return finish(r, post, e);
fail:
	value_free(post);
	return rc;
}

const struct config_group *
classify_find_group(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}

int
classify_group(const struct config *c, const char *name,
    struct classify_result *r, struct err *e)
{
	const struct config_group *g;
	struct value *post;
	int rc;

	if ((rc = init(r, e)) != 0)
		return rc;
	if ((g = classify_find_group(c, name)) == NULL)
		return err_set(e, ERR_USAGE, "%s: no group '%s'", c->path, name);
	if ((post = value_list()) == NULL)
		return NOMEM(e);
	if ((c->base != NULL && (rc = apply(r, "__base__", c->base,
	    "every instance", post, e)) != 0) ||
	    (rc = apply(r, g->name, g->body, "the role's group", post, e)) != 0) {
		value_free(post);
		return rc;
	}
	return finish(r, post, e);
}

int
classify_roles(const struct config *c, const struct instance *in,
    struct value *roles)
{
	return split_roles(instance_tag(in, c->tag_roles), roles);
}

const char *
classify_environment(const struct config *c, const struct instance *in)
{
	const struct value *v;
	struct value *roles;
	const char *env, *gtag;
	size_t i;

	if ((env = instance_tag(in, c->tag_environment)) != NULL)
		return config_valid_environment(env) ? env : NULL;
	if ((roles = value_list()) == NULL || classify_roles(c, in, roles) == -1) {
		value_free(roles);
		return NULL;
	}
	gtag = instance_tag(in, c->tag_group);
	for (i = c->ngroups; env == NULL && i-- > 0; )
		if (c->groups[i].body != NULL &&
		    (v = value_map_get(c->groups[i].body, "environment")) != NULL &&
		    applies(c->groups[i].name, in, roles, gtag) != NULL)
			env = v->s;
	value_free(roles);
	if (env == NULL && c->base != NULL &&
	    (v = value_map_get(c->base, "environment")) != NULL)
		env = v->s;
	return env != NULL ? env : "production";
}

int
classify_env_untagged(const struct config *c, const char *env)
{
	const struct value *v;
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i].body != NULL &&
		    (v = value_map_get(c->groups[i].body, "environment")) != NULL &&
		    strcmp(v->s, env) == 0)
			return 1;
	if (c->base != NULL &&
	    (v = value_map_get(c->base, "environment")) != NULL)
		return strcmp(v->s, env) == 0;
	return strcmp(env, "production") == 0;
}

int
classify_unknown(const struct config *c, struct classify_result *r,
    struct err *e)
{
	struct value *post;
	int rc;

	if ((rc = init(r, e)) != 0)
		return rc;
	if ((post = value_list()) == NULL)
		return NOMEM(e);
	if ((rc = apply(r, "unknown", c->unknown, "not in EC2", post, e)) != 0) {
		value_free(post);
		return rc;
	}
	return finish(r, post, e);
}

char *
classify_tag_param(const char *prefix, const char *key)
{
	struct buf b;
	const unsigned char *p;

	buf_init(&b, 0);
	if (buf_puts(&b, prefix) == -1)
		return NULL;
	for (p = (const unsigned char *)key; *p; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;	/* one '_' per UTF-8 character */
		if (buf_putc(&b, isalnum(*p) && *p < 0x80 ?
		    (char)tolower(*p) : '_') == -1) {
			buf_free(&b);
			return NULL;
		}
	}
	return buf_steal(&b);
}

static int
fact(struct value *params, const char *name, const char *v)
{
	if (v == NULL || *v == '\0')
		return 0;	/* absent facts are left undefined */
	return value_map_set(params, name, value_str(v));
}

/* ec2_* facts, ec2_tags and PREFIX<key>. Two keys that make the same
 * variable name: the key that sorts first (byte order) wins. A name that
 * is a fact's or reserved is not made at all. */
static int
add_facts(const struct config *c, const struct classify_result *r,
    const struct instance *in, struct value *params)
{
	static const struct {
		const char *name;
		size_t offset;
	} facts[] = {
		{ "ec2_instance_id", offsetof(struct instance, id) },
		{ "ec2_region", offsetof(struct instance, region) },
		{ "ec2_availability_zone",
		    offsetof(struct instance, availability_zone) },
		{ "ec2_instance_type", offsetof(struct instance, type) },
		{ "ec2_image_id", offsetof(struct instance, image) },
		{ "ec2_vpc_id", offsetof(struct instance, vpc) },
		{ "ec2_subnet_id", offsetof(struct instance, subnet) },
		{ "ec2_private_ip", offsetof(struct instance, private_ip) },
		{ "ec2_private_dns", offsetof(struct instance, private_dns) },
		{ "ec2_public_ip", offsetof(struct instance, public_ip) },
	};
	struct value *sgs, *tags, *owners;
	const struct value *owner;
	char *name;
	size_t i;
	int rc = -1;

	for (i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
		if (fact(params, facts[i].name, *(char **)((const char *)in +
		    facts[i].offset)) == -1)
			return -1;
	if ((sgs = value_list()) == NULL)
		return -1;
	for (i = 0; i < in->ngroups; i++)
		if (value_list_add(sgs, value_str(in->groups[i].name)) == -1) {
			value_free(sgs);
			return -1;
		}
	if (value_map_set(params, "ec2_security_groups", sgs) == -1 ||
	    value_map_set(params, "ec2_roles", value_ref(r->roles)) == -1 ||
	    (tags = value_map()) == NULL)
		return -1;
	for (i = 0; i < in->ntags; i++)
		if (value_map_set(tags, in->tags[i].key,
		    value_str(in->tags[i].value)) == -1) {
			value_free(tags);
			return -1;
		}
	if (value_map_set(params, "ec2_tags", tags) == -1 ||
	    (owners = value_map()) == NULL)
		return -1;
	for (i = 0; i < in->ntags; i++) {
		if ((name = classify_tag_param(c->param_prefix,
		    in->tags[i].key)) == NULL)
			goto out;
		owner = value_map_get(owners, name);
		if (owner == NULL && (value_map_get(params, name) != NULL ||
		    !config_valid_param(name))) {
			/* a fact's name (prefix ec2_, tag "tags") or a
			 * reserved one (prefix nam, tag "e"): the tag stays
			 * in ec2_tags only */
			free(name);
			continue;
		}
		if (owner == NULL || strcmp(in->tags[i].key, owner->s) < 0) {
			if (value_map_set(owners, name,
			    value_str(in->tags[i].key)) == -1 ||
			    value_map_set(params, name,
			    value_str(in->tags[i].value)) == -1) {
				free(name);
				goto out;
			}
		}
		free(name);
	}
	rc = 0;
out:
	value_free(owners);
	return rc;
}

int
classify_enc_document(const struct config *c, const struct classify_result *r,
    const struct instance *in, struct value **doc, struct err *e)
{
	struct value *d, *params;
	size_t i;

	*doc = NULL;
	if ((d = value_map()) == NULL || (params = value_map()) == NULL) {
		value_free(d);
		return NOMEM(e);
	}
	for (i = 0; i < r->parameters->n; i++)
		if (value_map_set(params, r->parameters->keys[i],
		    value_ref(r->parameters->items[i])) == -1)
			goto nomem;
	if (in != NULL && add_facts(c, r, in, params) == -1)
		goto nomem;
	if (value_map_set(d, "classes", value_ref(r->classes)) == -1 ||
	    value_map_set(d, "parameters", params) == -1 ||
	    value_map_set(d, "environment", value_ref(r->environment)) == -1) {
		value_free(d);
		return NOMEM(e);
	}
	*doc = d;
	return 0;
nomem:
	value_free(params);
	value_free(d);
	return NOMEM(e);
}
