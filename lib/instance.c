/* instance: allocation and small accessors for struct instance. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "util.h"

const struct instance_field instance_fields[] = {
	{ "instance_id", offsetof(struct instance, id) },
	{ "state", offsetof(struct instance, state) },
	{ "private_dns", offsetof(struct instance, private_dns) },
	{ "private_ip", offsetof(struct instance, private_ip) },
	{ "public_dns", offsetof(struct instance, public_dns) },
	{ "public_ip", offsetof(struct instance, public_ip) },
	{ "availability_zone", offsetof(struct instance, availability_zone) },
	{ "region", offsetof(struct instance, region) },
	{ "instance_type", offsetof(struct instance, type) },
	{ "image_id", offsetof(struct instance, image) },
	{ "vpc_id", offsetof(struct instance, vpc) },
	{ "subnet_id", offsetof(struct instance, subnet) },
	{ "launch_time", offsetof(struct instance, launch_time) },
};
const size_t instance_nfields = sizeof(instance_fields) /
    sizeof(instance_fields[0]);

/* Every empty field points here: no allocation for what EC2 left out
 * (most fields of a peer read from the cache). Never freed. */
static char empty[1];

static void
free_field(char *s)
{
	if (s != empty)
		free(s);
}

struct instance *
instance_new(void)
{
	struct instance *in;
	size_t i;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	for (i = 0; i < instance_nfields; i++)
		INSTANCE_FIELD(in, &instance_fields[i]) = empty;
	return in;
}

void
instance_free(struct instance *in)
{
	size_t i;

	if (in == NULL)
		return;
	for (i = 0; i < instance_nfields; i++)
		free_field(INSTANCE_FIELD(in, &instance_fields[i]));
	for (i = 0; i < in->ngroups; i++)
		free(in->groups[i].id);		/* name is in the same block */
	for (i = 0; i < in->ntags; i++)
		free(in->tags[i].key);		/* so is value */
	free(in->groups);
	free(in->tags);
	free(in);
}

struct instance *
instance_dup(const struct instance *in)
{
	struct instance *d;
	size_t i;

	if ((d = instance_new()) == NULL)
		return NULL;
	for (i = 0; i < instance_nfields; i++)
		if (instance_set(&INSTANCE_FIELD(d, &instance_fields[i]),
		    INSTANCE_FIELD(in, &instance_fields[i])) == -1)
			goto fail;
	for (i = 0; i < in->ngroups; i++)
		if (instance_add_group(d, in->groups[i].id,
		    in->groups[i].name) == -1)
			goto fail;
	for (i = 0; i < in->ntags; i++)
		if (instance_add_tag(d, in->tags[i].key,
		    in->tags[i].value) == -1)
			goto fail;
	return d;
fail:
	instance_free(d);
	return NULL;
}

int
instance_set(char **field, const char *v)
{
	char *p = empty;

	if (v != NULL && *v != '\0' && (p = strdup(v)) == NULL)
		return -1;
	free_field(*field);
	*field = p;
	return 0;
}

/* a and b copied into one block: *pa (to free) and *pb within it. */
static int
pair(char **pa, char **pb, const char *a, const char *b)
{
	size_t la, lb;

	a = a ? a : "";
	b = b ? b : "";
	la = strlen(a);
	lb = strlen(b);
	if (la > SIZE_MAX / 2 - 1 || lb > SIZE_MAX / 2 - 1 ||
	    (*pa = malloc(la + lb + 2)) == NULL)
		return -1;
	memcpy(*pa, a, la + 1);
	*pb = *pa + la + 1;
	memcpy(*pb, b, lb + 1);
	return 0;
}

int
instance_add_tag(struct instance *in, const char *key, const char *value)
{
	struct tag *t;

	if ((t = util_list_room(in->tags, in->ntags, sizeof(*t))) == NULL)
		return -1;
	in->tags = t;
	t = &in->tags[in->ntags];
	if (pair(&t->key, &t->value, key, value) == -1)
		return -1;
	in->ntags++;
	return 0;
}

int
instance_add_group(struct instance *in, const char *id, const char *name)
{
	struct secgroup *g;

	if ((g = util_list_room(in->groups, in->ngroups, sizeof(*g))) ==
	    NULL)
		return -1;
	in->groups = g;
	g = &in->groups[in->ngroups];
	if (pair(&g->id, &g->name, id, name) == -1)
		return -1;
	in->ngroups++;
	return 0;
}

const char *
instance_tag(const struct instance *in, const char *key)
{
	size_t i;

	for (i = 0; i < in->ntags; i++)
		if (strcmp(in->tags[i].key, key) == 0)
			return in->tags[i].value;
	return NULL;
}
