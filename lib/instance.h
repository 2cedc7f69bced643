/* instance: one EC2 instance as the library sees it. */
#ifndef INSTANCE_H
#define INSTANCE_H

#include <stddef.h>

struct tag {
	char *key;
	char *value;
};

struct secgroup {
	char *id;
	char *name;
};

/* Every string is owned by the instance; absent values are "" (never NULL
 * after instance_new). Tags keep EC2's order. */
struct instance {
	char *id;
	char *state;
	char *private_dns;
	char *private_ip;
	char *public_dns;
	char *public_ip;
	char *availability_zone;
	char *region;
	char *type;
	char *image;
	char *vpc;
	char *subnet;
	char *launch_time;
	struct secgroup *groups;
	size_t ngroups;
	struct tag *tags;
	size_t ntags;
};

/* Field table for code that walks all scalar fields in one order. */
struct instance_field {
	const char *name;	/* fact name without prefix: "instance_id" */
	size_t offset;		/* offsetof(struct instance, ...) */
};
extern const struct instance_field instance_fields[];
extern const size_t instance_nfields;
#define INSTANCE_FIELD(in, f) (*(char **)((char *)(in) + (f)->offset))

/* Returns an instance with every string "", or NULL when out of memory. */
struct instance *instance_new(void);
void instance_free(struct instance *in);

/* A deep copy, or NULL when out of memory. */
struct instance *instance_dup(const struct instance *in);

/* Replace a scalar field (copies v). Returns 0 or -1 (out of memory). */
int instance_set(char **field, const char *v);
int instance_add_tag(struct instance *in, const char *key, const char *value);
int instance_add_group(struct instance *in, const char *id, const char *name);
/* The value of tag key, or NULL. */
const char *instance_tag(const struct instance *in, const char *key);

#endif
