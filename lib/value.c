/* value: refcounted value trees with ordered maps. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "value.h"

static struct value *
new(enum value_type t)
{
	struct value *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->type = t;
	v->refs = 1;
	return v;
}

struct value *
value_null(void)
{
	return new(VAL_NULL);
}

struct value *
value_bool(int b)
{
	struct value *v = new(VAL_BOOL);

	if (v != NULL)
		v->b = b != 0;
	return v;
}

struct value *
value_int(long long i)
{
	struct value *v = new(VAL_INT);

	if (v != NULL)
		v->i = i;
	return v;
}

struct value *
value_float(double f)
{
	struct value *v = new(VAL_FLOAT);

	if (v != NULL)
		v->f = f;
	return v;
}

/* The string is stored right after the value, in the same block. */
struct value *
value_str(const char *s)
{
	size_t len = strlen(s);
	struct value *v;

	if (len > SIZE_MAX - sizeof(*v) - 1 ||
	    (v = calloc(1, sizeof(*v) + len + 1)) == NULL)
		return NULL;
	v->type = VAL_STR;
	v->refs = 1;
	v->s = (char *)(v + 1);
	memcpy(v->s, s, len + 1);
	return v;
}

struct value *
value_list(void)
{
	return new(VAL_LIST);
}

struct value *
value_map(void)
{
	return new(VAL_MAP);
}

struct value *
value_ref(struct value *v)
{
	if (v != NULL)
		v->refs++;
	return v;
}

void
value_free(struct value *v)
{
	size_t i;

	if (v == NULL || --v->refs > 0)
		return;
	for (i = 0; i < v->n; i++) {
		if (v->keys != NULL)
			free(v->keys[i]);
		value_free(v->items[i]);
	}
	free(v->keys);
	free(v->slots);
	free(v->key_pos);
	free(v->items);
	free(v);
}

/* Room for one more item (util_list_room: the arrays keep no size). A
 * map's key positions, two ints per key, are only kept once one is
 * known (a map read from the config). */
static int
grow(struct value *c, int with_keys)
{
	struct value **items;
	char **keys;
	int *pos;

	if ((items = util_list_room(c->items, c->n, sizeof(*items))) == NULL)
		return -1;
	c->items = items;
	if (with_keys) {
		if ((keys = util_list_room(c->keys, c->n, sizeof(*keys))) == NULL)
			return -1;
		c->keys = keys;
		if (c->key_pos != NULL) {
			if ((pos = util_list_room(c->key_pos, c->n,
			    2 * sizeof(*pos))) == NULL)
				return -1;
			c->key_pos = pos;
		}
	}
	return 0;
}

int
value_list_add(struct value *list, struct value *v)
{
	if (v == NULL || list->type != VAL_LIST || grow(list, 0) == -1) {
		value_free(v);
		return -1;
	}
	list->items[list->n++] = v;
	return 0;
}

/* Maps of more than HASH_MIN keys also keep a hash table of their item
 * indexes (open addressing, at most half full), so that a lookup costs
 * O(1) and a map of n keys, read from a config or a fleet, O(n) rather
 * than O(n^2). Maps only grow: entries are never removed. */
#define HASH_MIN 16

static size_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037u;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (size_t)h;
}

static void
slot_add(struct value *map, size_t i)
{
	size_t mask = map->nslots - 1, h = hash(map->keys[i]) & mask;

	while (map->slots[h] != 0)
		h = (h + 1) & mask;
	map->slots[h] = i + 1;
}

/* Indexes the new last key; without memory the map stays unhashed (and
 * correct, only slower). */
static void
slots_update(struct value *map)
{
	size_t i, n;

	if (map->n <= HASH_MIN)
		return;
	if (map->nslots != 0 && 2 * map->n <= map->nslots) {
		slot_add(map, map->n - 1);
		return;
	}
	free(map->slots);
	map->slots = NULL;
	map->nslots = 0;
	for (n = 64; n < 4 * map->n; n *= 2)
		if (n > SIZE_MAX / 2 / sizeof(*map->slots))
			return;
	if ((map->slots = calloc(n, sizeof(*map->slots))) == NULL)
		return;
	map->nslots = n;
	for (i = 0; i < map->n; i++)
		slot_add(map, i);
}

long
value_map_index(const struct value *map, const char *key)
{
	size_t i, mask;

	if (map == NULL || map->type != VAL_MAP)
		return -1;
	if (map->nslots == 0) {
		for (i = 0; i < map->n; i++)
			if (strcmp(map->keys[i], key) == 0)
				return (long)i;
		return -1;
	}
	mask = map->nslots - 1;
	for (i = hash(key) & mask; map->slots[i] != 0; i = (i + 1) & mask)
		if (strcmp(map->keys[map->slots[i] - 1], key) == 0)
			return (long)(map->slots[i] - 1);
	return -1;
}

struct value *
value_map_get(const struct value *map, const char *key)
{
	long i = value_map_index(map, key);

	return i < 0 ? NULL : map->items[i];
}

int
value_map_set_at(struct value *map, const char *key, struct value *v,
    int line, int col)
{
	long i;
	char *k;

	if (v == NULL || map->type != VAL_MAP) {
		value_free(v);
		return -1;
	}
	if ((i = value_map_index(map, key)) >= 0) {
		value_free(map->items[i]);
		map->items[i] = v;
		return 0;
	}
	if ((k = strdup(key)) == NULL || grow(map, 1) == -1) {
		free(k);
		value_free(v);
		return -1;
	}
	if (map->key_pos == NULL && (line != 0 || col != 0)) {
		if ((map->key_pos = calloc(util_list_cap(map->n),
		    2 * sizeof(int))) == NULL) {
			free(k);
			value_free(v);
			return -1;
		}
	}
	map->keys[map->n] = k;
	if (map->key_pos != NULL) {
		map->key_pos[2 * map->n] = line;
		map->key_pos[2 * map->n + 1] = col;
	}
	map->items[map->n++] = v;
	slots_update(map);
	return 0;
}

int
value_map_set(struct value *map, const char *key, struct value *v)
{
	return value_map_set_at(map, key, v, 0, 0);
}

int
value_equal(const struct value *a, const struct value *b)
{
	size_t i;
	const struct value *o;

	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case VAL_NULL:
		return 1;
	case VAL_BOOL:
		return a->b == b->b;
	case VAL_INT:
		return a->i == b->i;
	case VAL_FLOAT:
		return a->f == b->f || (isnan(a->f) && isnan(b->f));
	case VAL_STR:
		return strcmp(a->s, b->s) == 0;
	case VAL_LIST:
		if (a->n != b->n)
			return 0;
		for (i = 0; i < a->n; i++)
			if (!value_equal(a->items[i], b->items[i]))
				return 0;
		return 1;
	case VAL_MAP:
		if (a->n != b->n)
			return 0;
		for (i = 0; i < a->n; i++)
			if ((o = value_map_get(b, a->keys[i])) == NULL ||
			    !value_equal(a->items[i], o))
				return 0;
		return 1;
	}
	return 0;
}

const char *
value_type_name(enum value_type t)
{
	static const char *const names[] = { "null", "boolean", "integer",
	    "float", "string", "list", "hash" };

	return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}
