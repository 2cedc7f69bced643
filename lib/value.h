/* value: a tree of config values (null, bool, int, float, string, list,
 * ordered map), shared by reference where YAML aliases share them. */
#ifndef VALUE_H
#define VALUE_H

#include <stddef.h>

enum value_type {
	VAL_NULL,
	VAL_BOOL,
	VAL_INT,
	VAL_FLOAT,
	VAL_STR,
	VAL_LIST,
	VAL_MAP
};

struct value {
	enum value_type type;
	int refs;
	int line, col;		/* 1-based position in the config; 0: none */
	int b;			/* VAL_BOOL */
	long long i;		/* VAL_INT */
	double f;		/* VAL_FLOAT */
	char *s;		/* VAL_STR (in the value's own block) */
	size_t n;		/* VAL_LIST, VAL_MAP: number of items */
	char **keys;		/* VAL_MAP: keys, in insertion order */
	int *key_pos;		/* VAL_MAP: line, column of each key (0, 0: none) */
	struct value **items;	/* VAL_LIST, VAL_MAP */
	size_t *slots;		/* VAL_MAP of many keys: hash of index + 1 */
	size_t nslots;		/* 0: no hash yet, lookups scan keys */
};

/* Constructors return a value with one reference, or NULL (out of memory). */
struct value *value_null(void);
struct value *value_bool(int b);
struct value *value_int(long long i);
struct value *value_float(double f);
struct value *value_str(const char *s);
struct value *value_list(void);
struct value *value_map(void);

/* Takes another reference; returns v. v may be NULL. */
struct value *value_ref(struct value *v);
/* Drops a reference, freeing the tree at zero; v may be NULL. */
void value_free(struct value *v);

/* Appends v (the list takes the caller's reference, also on failure). */
int value_list_add(struct value *list, struct value *v);
/* Sets key to v, replacing (at the same place) an existing key. The map
 * takes the caller's reference to v, also on failure. */
int value_map_set(struct value *map, const char *key, struct value *v);
/* value_map_set, recording where the key stands in the source. */
int value_map_set_at(struct value *map, const char *key, struct value *v,
    int line, int col);
/* The value at key (borrowed), or NULL. */
struct value *value_map_get(const struct value *map, const char *key);
/* Index of key in map, or -1. */
long value_map_index(const struct value *map, const char *key);

/* Deep equality (maps: same keys in any order, same values). */
int value_equal(const struct value *a, const struct value *b);

/* "string", "integer", ... for messages. */
const char *value_type_name(enum value_type t);

#endif
