/* peers: the running instances of one environment, grouped by role. */
#ifndef PEERS_H
#define PEERS_H

#include "config.h"
#include "ec2.h"
#include "err.h"
#include "instance.h"
#include "value.h"

struct peers;

/* An empty set for environment env under config c (both borrowed).
 * self_id, when not NULL, is the node asking: it is a peer whatever its
 * state. NULL when out of memory. */
struct peers *peers_new(const struct config *c, const char *env,
    const char *self_id);
void peers_free(struct peers *p);

/* Adds in under each of its roles when it is running (or is the node
 * asking) and its environment (classify_environment) is p's; an instance
 * without roles, of another environment or with an invalid environment
 * tag is left out. Adding the same instance twice keeps one. Returns 0 or
 * -1 (out of memory). */
int peers_add(struct peers *p, const struct instance *in);

/* peers_add as an awsxml_instance_fn (ctx is the struct peers). */
int peers_add_fn(const struct instance *in, void *ctx, struct err *e);

/* The environment the set is for. */
const char *peers_env(const struct peers *p);

/* The peers hash: {ROLE: [{"instance_id", "name", "private_ip",
 * "private_dns", "availability_zone"}, ...]}, roles in byte order, each
 * list sorted by name, then instance id. "name" is the Name tag, or the
 * instance id when there is none. A new value, or NULL (out of memory). */
struct value *peers_value(struct peers *p);

/* Adds every running instance of the region ec2 reads (within the
 * config's aws.filters). The environment tag is used as a server-side
 * filter when no untagged instance can be in p's environment. Returns 0
 * or the EC2 error. */
int peers_collect(struct peers *p, struct ec2 *ec2, struct err *e);

#endif
