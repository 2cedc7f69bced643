/* chef: documents built from a classification. */
#include <stdio.h>
#include <string.h>

#include "chef.h"

#define NOMEM(e) err_set((e), ERR_FAIL, "out of memory")

/* Sets key to a new value; NULL v (out of memory) fails. */
static int
put(struct value *m, const char *key, struct value *v)
{
	return v == NULL ? -1 : value_map_set(m, key, v);
}

/* The "ec2" hash: non-empty facts, security groups, tags, roles, env. */
static struct value *
ec2_hash(const struct classify_result *r, const struct instance *in)
{
	struct value *h, *sgs, *tags;
	const char *s;
	size_t i;

	if ((h = value_map()) == NULL)
		return NULL;
	for (i = 0; in != NULL && i < instance_nfields; i++) {
		s = INSTANCE_FIELD(in, &instance_fields[i]);
		/* absent facts are left out: "" is true in Ruby */
		if (*s != '\0' && put(h, instance_fields[i].name,
		    value_str(s)) == -1)
			goto fail;
	}
	if (in != NULL) {
		if ((sgs = value_list()) == NULL ||
		    value_map_set(h, "security_groups", sgs) == -1)
			goto fail;
		for (i = 0; i < in->ngroups; i++)
			if (value_list_add(sgs,
			    value_str(in->groups[i].name)) == -1)
				goto fail;
	}
	if ((tags = value_map()) == NULL || value_map_set(h, "tags", tags) == -1)
		goto fail;
	for (i = 0; in != NULL && i < in->ntags; i++)
		if (put(tags, in->tags[i].key, value_str(in->tags[i].value)) ==
		    -1)
			goto fail;
	if (value_map_set(h, "roles", value_ref(r->roles)) == -1 ||
	    value_map_set(h, "environment", value_ref(r->environment)) == -1)
		goto fail;
	return h;
fail:
	value_free(h);
	return NULL;
}

int
chef_dna(const struct config *c, const struct classify_result *r,
    const struct instance *in, struct value *peers, struct value **doc,
    struct err *e)
{
	struct value *d, *ec2 = NULL;
	size_t i;

	*doc = NULL;
	if ((d = value_map()) == NULL)
		return NOMEM(e);
	if (value_map_set(d, "run_list", value_ref(r->run_list)) == -1)
		goto fail;
	/* the config refuses attribute names that would collide below */
	for (i = 0; i < r->default_attributes->n; i++)
		if (value_map_set(d, r->default_attributes->keys[i],
		    value_ref(r->default_attributes->items[i])) == -1)
			goto fail;
	if ((ec2 = ec2_hash(r, in)) == NULL)
		goto fail;
	if (peers != NULL && c->peers_attribute == NULL &&
	    value_map_set(ec2, "peers", value_ref(peers)) == -1)
		goto fail;
	if (value_map_set(d, "ec2", ec2) == -1) {
		ec2 = NULL;
		goto fail;
	}
	ec2 = NULL;
	if (peers != NULL && c->peers_attribute != NULL &&
	    value_map_set(d, c->peers_attribute, value_ref(peers)) == -1)
		goto fail;
	*doc = d;
	return 0;
fail:
	value_free(ec2);
	value_free(d);
	return NOMEM(e);
}

int
chef_role(const struct config *c, const char *group, struct value **doc,
    struct err *e)
{
	struct classify_result r;
	const struct value *desc;
	struct value *d = NULL;
	char name[512];
	int rc;

	*doc = NULL;
	if ((rc = classify_group(c, group, &r, e)) != 0)
		goto out;
	desc = classify_find_group(c, group)->body;
	desc = desc != NULL ? value_map_get(desc, "description") : NULL;
	(void)snprintf(name, sizeof(name), CHEF_ROLE_PREFIX "%s", group);
	rc = NOMEM(e);
	if ((d = value_map()) == NULL ||
	    put(d, "name", value_str(name)) == -1 ||
	    put(d, "description", value_str(desc ? desc->s : "")) == -1 ||
	    put(d, "json_class", value_str("Chef::Role")) == -1 ||
	    put(d, "chef_type", value_str("role")) == -1 ||
	    value_map_set(d, "default_attributes",
	    value_ref(r.default_attributes)) == -1 ||
	    put(d, "override_attributes", value_map()) == -1 ||
	    value_map_set(d, "run_list", value_ref(r.run_list)) == -1 ||
	    put(d, "env_run_lists", value_map()) == -1)
		goto out;
	*doc = d;
	d = NULL;
	rc = 0;
out:
	value_free(d);
	classify_result_cleanup(&r);
	return rc;
}

int
chef_group_dna(const struct config *c, const char *group, struct value **doc,
    struct err *e)
{
	struct value *d, *rl;
	char item[512];

	*doc = NULL;
	if (classify_find_group(c, group) == NULL)
		return err_set(e, ERR_USAGE, "%s: no group '%s'", c->path,
		    group);
	(void)snprintf(item, sizeof(item), "role[" CHEF_ROLE_PREFIX "%s]",
	    group);
	if ((d = value_map()) == NULL || put(d, "id", value_str(group)) == -1 ||
	    (rl = value_list()) == NULL) {
		value_free(d);
		return NOMEM(e);
	}
	if (value_map_set(d, "run_list", rl) == -1 ||
	    value_list_add(rl, value_str(item)) == -1) {
		value_free(d);
		return NOMEM(e);
	}
	*doc = d;
	return 0;
}
