/* peers: collected one instance at a time, sorted once at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "peers.h"

/* One (role, instance) pair; the instance's hash is shared by its roles. */
struct entry {
	const char *role;	/* owned by roles */
	const char *name, *id;	/* owned by v */
	struct value *v;
	struct value *roles;	/* the first entry of an instance owns it */
};

struct peers {
	const struct config *c;
	char *env, *self_id;
	struct entry *items;
	size_t n, cap;
};

struct peers *
peers_new(const struct config *c, const char *env, const char *self_id)
{
	struct peers *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->c = c;
	if ((p->env = strdup(env)) == NULL ||
	    (self_id != NULL && (p->self_id = strdup(self_id)) == NULL)) {
		peers_free(p);
		return NULL;
	}
	return p;
}

void
peers_free(struct peers *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		value_free(p->items[i].v);
		value_free(p->items[i].roles);
	}
	free(p->items);
	free(p->env);
	free(p->self_id);
	free(p);
}

static int
set(struct value *m, const char *key, const char *s)
{
	return value_map_set(m, key, value_str(s));
}

/* {"instance_id", "name", "private_ip", "private_dns", "availability_zone"} */
static struct value *
peer_hash(const struct instance *in)
{
	const char *name = instance_tag(in, "Name");
	struct value *m;

	if (name == NULL || *name == '\0')
		name = in->id;
	if ((m = value_map()) == NULL)
		return NULL;
	if (set(m, "instance_id", in->id) == -1 ||
	    set(m, "name", name) == -1 ||
	    set(m, "private_ip", in->private_ip) == -1 ||
	    set(m, "private_dns", in->private_dns) == -1 ||
	    set(m, "availability_zone", in->availability_zone) == -1) {
		value_free(m);
		return NULL;
	}
	return m;
}

int
peers_add(struct peers *p, const struct instance *in)
{
	struct value *roles, *v;
	const char *env;
	size_t i, need;
	int self = p->self_id != NULL && strcmp(in->id, p->self_id) == 0;

	if (!self && strcmp(in->state, "running") != 0)
		return 0;
	if ((env = classify_environment(p->c, in)) == NULL ||
	    strcmp(env, p->env) != 0)
		return 0;	/* NULL: an invalid tag (or no memory: not a peer) */
	if ((roles = value_list()) == NULL ||
	    classify_roles(p->c, in, roles) == -1) {
		value_free(roles);
		return -1;
	}
	if (roles->n == 0) {
		value_free(roles);
		return 0;
	}
	need = p->n + roles->n;
	if (need > p->cap) {
		size_t cap = p->cap ? p->cap : 64;
		struct entry *items;

		while (cap < need)
			cap *= 2;
		if ((items = realloc(p->items, cap * sizeof(*items))) == NULL) {
			value_free(roles);
			return -1;
		}
		p->items = items;
		p->cap = cap;
	}
	if ((v = peer_hash(in)) == NULL) {
		value_free(roles);
		return -1;
	}
	for (i = 0; i < roles->n; i++) {
		struct entry *en = &p->items[p->n++];

		en->role = roles->items[i]->s;
		en->name = value_map_get(v, "name")->s;
		en->id = value_map_get(v, "instance_id")->s;
		en->v = i == 0 ? v : value_ref(v);
		en->roles = i == 0 ? roles : NULL;
	}
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if ((c = strcmp(x->role, y->role)) != 0 ||
	    (c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->id, y->id);
}

struct value *
peers_value(struct peers *p)
{
	struct value *out, *list = NULL;
	const char *role = NULL;
	size_t i;

	if (p->n > 1)
		qsort(p->items, p->n, sizeof(*p->items), entry_cmp);
	if ((out = value_map()) == NULL)
		return NULL;
	for (i = 0; i < p->n; i++) {
		struct entry *en = &p->items[i];

		if (role == NULL || strcmp(role, en->role) != 0) {
			role = en->role;
			if ((list = value_list()) == NULL ||
			    value_map_set(out, role, list) == -1)
				goto fail;
		} else if (strcmp(p->items[i - 1].id, en->id) == 0)
			continue;	/* the same instance added twice */
		if (value_list_add(list, value_ref(en->v)) == -1)
			goto fail;
	}
	return out;
fail:
	value_free(out);
	return NULL;
}

int
peers_add_fn(const struct instance *in, void *ctx, struct err *e)
{
	struct peers *p = ctx;

	if (peers_add(p, in) == -1)
		return err_set(e, ERR_FAIL, "out of memory");
	return 0;
}

const char *
peers_env(const struct peers *p)
{
	return p->env;
}

int
peers_collect(struct peers *p, struct ec2 *ec2, struct err *e)
{
	const struct config *c = p->c;
	struct ec2_filter *f;
	char *tag = NULL;
	const char *env[1] = { p->env };
	static const char *const running[] = { "running" };
	size_t n = c->nfilters;
	int rc;

	if ((f = calloc(c->nfilters + 2, sizeof(*f))) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	if (c->nfilters > 0)
		memcpy(f, c->filters, c->nfilters * sizeof(*f));
	f[n].name = "instance-state-name";
	f[n].values = running;
	f[n++].nvalues = 1;
	if (!classify_env_untagged(c, p->env)) {
		if (asprintf(&tag, "tag:%s", c->tag_environment) == -1) {
			free(f);
			return err_set(e, ERR_FAIL, "out of memory");
		}
		f[n].name = tag;
		f[n].values = env;
		f[n++].nvalues = 1;
	}
	rc = ec2_describe_instances(ec2, f, n, peers_add_fn, p, e);
	free(tag);
	free(f);
	return rc == 0 ? 0 : err_prefix(e, "reading the peers");
}
