/* classify: (instance, config) -> classes, parameters, run list, environment. */
#ifndef CLASSIFY_H
#define CLASSIFY_H

#include "config.h"
#include "err.h"
#include "instance.h"
#include "value.h"

/* Every member is owned by the result. */
struct classify_result {
	struct value *groups;		/* list: applied group names, in order */
	struct value *classes;		/* hash: class -> parameter hash */
	struct value *parameters;	/* hash: merged group parameters */
	struct value *run_list;		/* list: run_lists, then post_run_lists */
	struct value *default_attributes;	/* hash */
	struct value *roles;		/* list: the roles tag, split */
	struct value *environment;	/* string */
	struct value *explain;		/* list of "what: source" strings */
};

/* Classifies in by c: __base__ first, then every group whose name is one
 * of the instance's security group names, roles or group tag value, in
 * config order. Merge: lists appended without repeats, hashes merged at
 * level 1, scalars replaced. Environment: the environment tag, else the
 * groups', else "production"; an environment tag that is not a valid
 * Puppet environment name fails with ERR_FAIL naming the tag and value.
 * Returns 0 or an ERR_* code; free r with classify_result_cleanup either
 * way. */
int classify_instance(const struct config *c, const struct instance *in,
    struct classify_result *r, struct err *e);

/* The config's `unknown` section as a classification (c->unknown set). */
int classify_unknown(const struct config *c, struct classify_result *r,
    struct err *e);

/* The group named name (not __base__), or NULL. */
const struct config_group *classify_find_group(const struct config *c,
    const char *name);

/* What an instance in group name alone gets: __base__, then the group,
 * by the same merge rules (a Chef role's content). ERR_USAGE when the
 * config has no such group. */
int classify_group(const struct config *c, const char *name,
    struct classify_result *r, struct err *e);

/* Appends the roles tag of in, split on ',', trimmed, without empties or
 * repeats, to the list roles. Returns 0 or -1 (out of memory). */
int classify_roles(const struct config *c, const struct instance *in,
    struct value *roles);

/* The environment classify_instance gives in, computed alone (for
 * peers): borrowed from in or c, or NULL when in's environment tag is
 * not a valid name (or memory ran out). */
const char *classify_environment(const struct config *c,
    const struct instance *in);

/* Nonzero when an instance without the environment tag can land in env
 * (through a group's environment, __base__'s, or the default). */
int classify_env_untagged(const struct config *c, const char *env);

void classify_result_cleanup(struct classify_result *r);

/* The Puppet ENC document: {classes, parameters, environment}, where
 * parameters are the group parameters and, when in is not NULL, the EC2
 * facts (ec2_*), ec2_tags and one PREFIX<key> per tag. *doc is new. */
int classify_enc_document(const struct config *c,
    const struct classify_result *r, const struct instance *in,
    struct value **doc, struct err *e);

/* The Puppet variable name for tag key under prefix (lowercase letters,
 * digits and '_'; anything else becomes '_', one per character). */
char *classify_tag_param(const char *prefix, const char *key);

#endif
