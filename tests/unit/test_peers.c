/* test_peers: who is whose peer, in which order; and Chef roles agreeing
 * with what dna-gen gives a node of the same group.
 *
 * The peer cases are a table: one instance per row, with the roles it
 * must be listed under for a production node (none: left out). The
 * expected order is checked against a sort done here independently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chef.h"
#include "classify.h"
#include "config.h"
#include "peers.h"
#include "testutil.h"

static const char config_text[] =
    "tags: {environment: env, roles: roles, group: asg}\n"
    "groups:\n"
    "  __base__:\n"
    "    run_list: [\"recipe[base]\"]\n"
    "    post_run_list: [\"recipe[audit]\"]\n"
    "    default_attributes: {a: 1, b: {p: 1}}\n"
    "  web:\n"
    "    run_list: [\"recipe[nginx]\", \"recipe[base::default]\"]\n"
    "    post_run_list: [\"recipe[smoke]\"]\n"
    "    default_attributes: {b: {q: 2}}\n"
    "  ci:\n"
    "    environment: dev\n"
    "    run_list: [\"role[builder]\"]\n"
    "  empty:\n";

struct peer_row {
	const char *id, *state, *name, *env, *roles, *sg;
	const char *listed;	/* roles it is listed under, ','-joined; "": none */
};

/* The node asking is i-self (pending: a peer only because it asks). */
static const struct peer_row rows[] = {
	{ "i-self", "pending", "web-b", "production", "web", NULL, "web" },
	{ "i-01", "running", "web-a", "production", "web, worker", NULL,
	    "web,worker" },
	{ "i-03", "running", "mongo", "production", "mongo", NULL, "mongo" },
	{ "i-02", "running", "mongo", "production", "mongo", NULL, "mongo" },
	{ "i-04", "running", NULL, "production", "mongo", NULL, "mongo" },
	{ "i-05", "running", "Zed", "production", "web,web", NULL, "web" },
	{ "i-06", "running", "untagged", NULL, "web", NULL, "web" },
	{ "i-07", "running", "dev-ci", NULL, "web", "ci", "" },
	{ "i-08", "stopped", "web-old", "production", "web", NULL, "" },
	{ "i-09", "pending", "web-new", "production", "web", NULL, "" },
	{ "i-10", "running", "staging", "staging", "web", NULL, "" },
	{ "i-11", "running", "bad-env", "Production", "web", NULL, "" },
	{ "i-12", "running", "no-roles", "production", NULL, NULL, "" },
	{ "i-13", "running", "blank-roles", "production", " , ", NULL, "" },
};

static struct config *
load_config(void)
{
	struct config *c = NULL;
	struct err e = { 0 };

	if (config_parse(config_text, strlen(config_text), "peers.yaml", &c,
	    &e) != 0)
		fail_msg("config: %s", e.msg);
	return c;
}

static struct instance *
make_instance(const struct peer_row *r)
{
	struct instance *in = instance_new();
	char ip[32];

	snprintf(ip, sizeof(ip), "10.0.0.%d", (int)strlen(r->id) +
	    (int)(r - rows));
	assert_int_equal(instance_set(&in->id, r->id), 0);
	assert_int_equal(instance_set(&in->state, r->state), 0);
	assert_int_equal(instance_set(&in->private_ip, ip), 0);
	assert_int_equal(instance_set(&in->availability_zone, "us-east-1a"), 0);
	if (r->name)
		assert_int_equal(instance_add_tag(in, "Name", r->name), 0);
	if (r->env)
		assert_int_equal(instance_add_tag(in, "env", r->env), 0);
	if (r->roles)
		assert_int_equal(instance_add_tag(in, "roles", r->roles), 0);
	if (r->sg)
		assert_int_equal(instance_add_group(in, "sg-1", r->sg), 0);
	return in;
}

static const char *const known_roles[] = { "web", "worker", "mongo" };

struct want {
	const char *role, *name, *id;
};

static int
want_cmp(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	int c;

	if ((c = strcmp(x->role, y->role)) != 0 ||
	    (c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->id, y->id);
}

static void
test_peers(void **state)
{
	struct config *c = load_config();
	struct peers *p;
	struct value *v;
	struct want want[64];
	size_t i, n = 0, k, got = 0;

	(void)state;
	p = peers_new(c, "production", "i-self");
	assert_non_null(p);
	for (i = 0; i < TU_NELEM(rows); i++) {
		struct instance *in = make_instance(&rows[i]);
		char *list = strdup(rows[i].listed), *save = NULL, *role;

		assert_int_equal(peers_add(p, in), 0);
		if (i == 1)	/* the same instance twice is listed once */
			assert_int_equal(peers_add(p, in), 0);
		for (role = strtok_r(list, ",", &save); role != NULL;
		    role = strtok_r(NULL, ",", &save)) {
			want[n].role = NULL;
			want[n].name = rows[i].name ? rows[i].name : rows[i].id;
			want[n].id = rows[i].id;
			for (k = 0; k < TU_NELEM(known_roles); k++)
				if (strcmp(known_roles[k], role) == 0)
					want[n].role = known_roles[k];
			assert_non_null(want[n].role);
			n++;
		}
		free(list);
		instance_free(in);
	}
	qsort(want, n, sizeof(*want), want_cmp);

	v = peers_value(p);
	assert_non_null(v);
	assert_int_equal(v->type, VAL_MAP);
	for (i = 0; i < v->n; i++) {
		if (i > 0)
			assert_true(strcmp(v->keys[i - 1], v->keys[i]) < 0);
		for (k = 0; k < v->items[i]->n; k++, got++) {
			struct value *m = v->items[i]->items[k];

			assert_true(got < n);
			assert_string_equal(v->keys[i], want[got].role);
			assert_string_equal(value_map_get(m, "name")->s,
			    want[got].name);
			assert_string_equal(value_map_get(m, "instance_id")->s,
			    want[got].id);
			assert_int_equal(m->n, 5);
		}
	}
	assert_int_equal(got, n);
	value_free(v);
	peers_free(p);
	config_free(c);
}

/* Environments an untagged instance can land in. */
static void
test_env_untagged(void **state)
{
	struct config *c = load_config();

	(void)state;
	assert_true(classify_env_untagged(c, "production"));
	assert_true(classify_env_untagged(c, "dev"));
	assert_false(classify_env_untagged(c, "staging"));
	config_free(c);
}

/* A role's run list and attributes are what dna-gen gives an instance
 * whose only group is that role's, for every group. */
static void
test_role_matches_dna(void **state)
{
	struct config *c = load_config();
	size_t i;

	(void)state;
	for (i = 0; i < c->ngroups; i++) {
		struct classify_result r;
		struct instance *in = instance_new();
		struct value *role = NULL, *dna = NULL;
		struct err e = { 0 };

		assert_int_equal(instance_set(&in->id, "i-1"), 0);
		assert_int_equal(instance_add_tag(in, "asg", c->groups[i].name),
		    0);
		assert_int_equal(classify_instance(c, in, &r, &e), 0);
		assert_int_equal(chef_dna(c, &r, in, NULL, &dna, &e), 0);
		assert_int_equal(chef_role(c, c->groups[i].name, &role, &e), 0);
		assert_true(value_equal(value_map_get(role, "run_list"),
		    value_map_get(dna, "run_list")));
		assert_true(value_equal(value_map_get(role,
		    "default_attributes"), r.default_attributes));
		value_free(role);
		value_free(dna);
		classify_result_cleanup(&r);
		instance_free(in);
	}
	config_free(c);
}

/* The web role, in full: base around the group, attributes merged at
 * level 1. */
static void
test_role_web(void **state)
{
	struct config *c = load_config();
	struct value *role = NULL, *rl, *attrs;
	struct err e = { 0 };
	static const char *const want[] = { "recipe[base]", "recipe[nginx]",
	    "recipe[audit]", "recipe[smoke]" };
	size_t i;

	(void)state;
	assert_int_equal(chef_role(c, "web", &role, &e), 0);
	assert_string_equal(value_map_get(role, "name")->s, "role-web");
	assert_string_equal(value_map_get(role, "json_class")->s, "Chef::Role");
	assert_string_equal(value_map_get(role, "chef_type")->s, "role");
	assert_string_equal(value_map_get(role, "description")->s, "");
	assert_int_equal(value_map_get(role, "override_attributes")->n, 0);
	assert_int_equal(value_map_get(role, "env_run_lists")->n, 0);
	rl = value_map_get(role, "run_list");
	assert_int_equal(rl->n, TU_NELEM(want));
	for (i = 0; i < TU_NELEM(want); i++)
		assert_string_equal(rl->items[i]->s, want[i]);
	attrs = value_map_get(role, "default_attributes");
	assert_int_equal(value_map_get(attrs, "a")->i, 1);
	assert_null(value_map_get(value_map_get(attrs, "b"), "p"));
	assert_int_equal(value_map_get(value_map_get(attrs, "b"), "q")->i, 2);
	value_free(role);
	assert_int_equal(chef_role(c, "nope", &role, &e), ERR_USAGE);
	assert_null(role);
	assert_int_equal(chef_group_dna(c, "__base__", &role, &e), ERR_USAGE);
	config_free(c);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_env_untagged),
		cmocka_unit_test(test_role_matches_dna),
		cmocka_unit_test(test_role_web),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
