/* chef: the chef-solo documents: a node's dna, a group's role, an
 * autoscaling group's dna. Value trees; jsonio writes them. */
#ifndef CHEF_H
#define CHEF_H

#include "classify.h"
#include "config.h"
#include "err.h"
#include "instance.h"
#include "value.h"

/* A Chef role's name for a group: "role-GROUP". */
#define CHEF_ROLE_PREFIX "role-"

/* The node's attributes: {"run_list": [...], <merged default_attributes>,
 * "ec2": {facts, "security_groups", "tags", "roles", "environment",
 * "peers"}}. in is NULL for a node classified by `unknown` (no facts).
 * peers (borrowed, may be NULL: none) goes under ec2.peers, or at the top
 * level under the config's peers_attribute. *doc is new. */
int chef_dna(const struct config *c, const struct classify_result *r,
    const struct instance *in, struct value *peers, struct value **doc,
    struct err *e);

/* The Chef role of group: {"name": "role-GROUP", "description",
 * "json_class": "Chef::Role", "chef_type": "role", "default_attributes",
 * "override_attributes": {}, "run_list", "env_run_lists": {}}, with
 * __base__ merged in as classify_group does. */
int chef_role(const struct config *c, const char *group, struct value **doc,
    struct err *e);

/* The autoscaling group's dna: {"id": GROUP, "run_list":
 * ["role[role-GROUP]"]}. ERR_USAGE when the config has no such group. */
int chef_group_dna(const struct config *c, const char *group,
    struct value **doc, struct err *e);

#endif
