/* jsonio: JSON documents read and written with jansson. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonio.h"
#include "util.h"

int
jsonio_get_strings(const char *text, size_t len, const char *const *keys,
    char **vals, size_t n, struct err *e)
{
	json_error_t je;
	json_t *root, *v;
	size_t i;

	for (i = 0; i < n; i++)
		vals[i] = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return err_set(e, ERR_UNAVAILABLE, "not a JSON object "
		    "(line %d, column %d)", je.line, je.column);
	}
	for (i = 0; i < n; i++) {
		v = json_object_get(root, keys[i]);
		if (json_is_string(v) &&
		    (vals[i] = strdup(json_string_value(v))) == NULL) {
			json_decref(root);
			return err_set(e, ERR_FAIL, "out of memory");
		}
	}
	json_decref(root);
	return 0;
}

static int
put(json_t *obj, const char *key, json_t *v)
{
	return v == NULL || json_object_set_new(obj, key, v) == -1 ? -1 : 0;
}

int
jsonio_instance(const struct instance *in, struct buf *out, struct err *e)
{
	json_t *o, *groups = NULL, *tags = NULL, *g;
	char *text = NULL;
	size_t i;
	int rc = ERR_FAIL;

	if ((o = json_object()) == NULL)
		goto out;
	for (i = 0; i < instance_nfields; i++)
		if (put(o, instance_fields[i].name, json_string(
		    INSTANCE_FIELD(in, &instance_fields[i]))) == -1)
			goto out;
	if ((groups = json_array()) == NULL)
		goto out;
	for (i = 0; i < in->ngroups; i++) {
		if ((g = json_pack("{s:s, s:s}", "id", in->groups[i].id,
		    "name", in->groups[i].name)) == NULL ||
		    json_array_append_new(groups, g) == -1)
			goto out;
	}
	/* EC2 tag keys are unique per resource: an object, in EC2's order. */
	if ((tags = json_object()) == NULL)
		goto out;
	for (i = 0; i < in->ntags; i++)
		if (put(tags, in->tags[i].key, json_string(in->tags[i].value)) == -1)
			goto out;
	if (put(o, "security_groups", groups) == -1) {
		groups = NULL;
		goto out;
	}
	groups = NULL;
	if (put(o, "tags", tags) == -1) {
		tags = NULL;
		goto out;
	}
	tags = NULL;
	if ((text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL || buf_puts(out, text) == -1 || buf_putc(out, '\n') == -1)
		goto out;
	rc = 0;
out:
	free(text);
	json_decref(groups);
	json_decref(tags);
	json_decref(o);
	return rc ? err_set(e, ERR_FAIL, "cannot write JSON (invalid UTF-8 "
	    "or out of memory)") : 0;
}

static int
bad_instance(struct err *e, const char *what)
{
	return err_set(e, ERR_USAGE, "instance JSON: %s", what);
}

int
jsonio_instance_parse(const char *text, size_t len, struct instance **out,
    struct err *e)
{
	json_error_t je;
	json_t *root, *v, *g;
	struct instance *in = NULL;
	const char *key;
	size_t i, k;
	int rc = 0;

	*out = NULL;
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return err_set(e, ERR_USAGE, "instance JSON: line %d: %s",
		    je.line, je.text);
	if (!json_is_object(root)) {
		rc = bad_instance(e, "not an object");
		goto out;
	}
	if ((in = instance_new()) == NULL) {
		rc = err_set(e, ERR_FAIL, "out of memory");
		goto out;
	}
	json_object_foreach(root, key, v) {
		for (k = 0; k < instance_nfields; k++)
			if (strcmp(key, instance_fields[k].name) == 0)
				break;
		if (k < instance_nfields) {
			if (!json_is_string(v)) {
				rc = bad_instance(e, key);
				goto out;
			}
			if (instance_set(&INSTANCE_FIELD(in, &instance_fields[k]),
			    json_string_value(v)) == -1)
				goto nomem;
		} else if (strcmp(key, "security_groups") == 0 &&
		    json_is_array(v)) {
			json_array_foreach(v, i, g) {
				json_t *id = json_object_get(g, "id");
				json_t *name = json_object_get(g, "name");
				if (!json_is_string(id) || !json_is_string(name)) {
					rc = bad_instance(e, "security_groups item");
					goto out;
				}
				if (instance_add_group(in, json_string_value(id),
				    json_string_value(name)) == -1)
					goto nomem;
			}
		} else if (strcmp(key, "tags") == 0 && json_is_object(v)) {
			const char *tk;
			json_object_foreach(v, tk, g) {
				if (!json_is_string(g)) {
					rc = bad_instance(e, "tag value");
					goto out;
				}
				if (instance_add_tag(in, tk,
				    json_string_value(g)) == -1)
					goto nomem;
			}
		} else {
			rc = bad_instance(e, key);
			goto out;
		}
	}
	if (in->id[0] == '\0') {
		rc = bad_instance(e, "no instance_id");
		goto out;
	}
	*out = in;
	in = NULL;
	goto out;
nomem:
	rc = err_set(e, ERR_FAIL, "out of memory");
out:
	instance_free(in);
	json_decref(root);
	return rc;
}

/* A JSON string from s; invalid UTF-8 is repaired (U+FFFD), never passed. */
static json_t *
string(const char *s)
{
	json_t *j;
	char *fixed;

	if ((j = json_string(s)) != NULL || (fixed = util_utf8_repair(s)) == NULL)
		return j;
	j = json_string(fixed);
	free(fixed);
	return j;
}

static int
object_set(json_t *o, const char *key, json_t *v)
{
	char *fixed;
	int rc;

	if (v == NULL)
		return -1;
	/* checked here: jansson need not check again */
	if (util_utf8_valid(key, strlen(key)))
		return json_object_set_new_nocheck(o, key, v);
	if ((fixed = util_utf8_repair(key)) == NULL) {
		json_decref(v);
		return -1;
	}
	rc = json_object_set_new_nocheck(o, fixed, v);
	free(fixed);
	return rc;
}

/* Values shared in the tree (refs > 1: a peer listed under two roles)
 * are converted once and shared in the JSON too: an open-addressing
 * table from value to JSON (cap a power of two, at most half full). */
struct memo {
	const struct value **v;
	json_t **j;
	size_t n, cap;
};

static json_t *convert(const struct value *v, struct memo *m, struct err *e);

static size_t
slot(const struct memo *m, const struct value *v)
{
	size_t h = ((size_t)(uintptr_t)v >> 4) * (size_t)0x9e3779b97f4a7c15ULL;

	for (h &= m->cap - 1; m->v[h] != NULL && m->v[h] != v;
	    h = (h + 1) & (m->cap - 1))
		;
	return h;
}

static int
memo_grow(struct memo *m)
{
	struct memo bigger = { NULL, NULL, m->n, m->cap ? 2 * m->cap : 64 };
	size_t i, h;

	if ((bigger.v = calloc(bigger.cap, sizeof(*bigger.v))) == NULL ||
	    (bigger.j = calloc(bigger.cap, sizeof(*bigger.j))) == NULL) {
		free(bigger.v);
		return -1;
	}
	for (i = 0; i < m->cap; i++)
		if (m->v[i] != NULL) {
			h = slot(&bigger, m->v[i]);
			bigger.v[h] = m->v[i];
			bigger.j[h] = m->j[i];
		}
	free(m->v);
	free(m->j);
	*m = bigger;
	return 0;
}

static json_t *
to_json(const struct value *v, struct memo *m, struct err *e)
{
	json_t *j;
	size_t h;

	if (v->refs < 2 || (v->type != VAL_MAP && v->type != VAL_LIST))
		return convert(v, m, e);
	if (m->cap > 0 && m->v[h = slot(m, v)] == v)
		return json_incref(m->j[h]);
	if ((j = convert(v, m, e)) == NULL)
		return NULL;
	if (2 * (m->n + 1) > m->cap && memo_grow(m) == -1)
		return j;	/* no memo: converted again next time */
	h = slot(m, v);
	m->v[h] = v;
	m->j[h] = json_incref(j);
	m->n++;
	return j;
}

static json_t *
convert(const struct value *v, struct memo *m, struct err *e)
{
	json_t *j;
	size_t i;

	switch (v->type) {
	case VAL_NULL:
		return json_null();
	case VAL_BOOL:
		return json_boolean(v->b);
	case VAL_INT:
		return json_integer(v->i);
	case VAL_FLOAT:
		if (!isfinite(v->f)) {
			err_set(e, ERR_USAGE, "%g has no JSON form%s", v->f,
			    v->line > 0 ? " (in the config)" : "");
			return NULL;
		}
		return json_real(v->f);
	case VAL_STR:
		return string(v->s);
	case VAL_LIST:
		if ((j = json_array()) == NULL)
			return NULL;
		for (i = 0; i < v->n; i++) {
			json_t *item = to_json(v->items[i], m, e);
			if (item == NULL || json_array_append_new(j, item) == -1) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	case VAL_MAP:
		if ((j = json_object()) == NULL)
			return NULL;
		for (i = 0; i < v->n; i++)
			if (object_set(j, v->keys[i], to_json(v->items[i], m, e)) ==
			    -1) {
				json_decref(j);
				return NULL;
			}
		return j;
	}
	return NULL;
}

/* While jsonio_emit builds and dumps a document, jansson allocates from
 * a bump arena (its free is a no-op) that is dropped whole afterwards:
 * no per-node malloc or free for the tens of thousands of nodes of a
 * large peers list. jansson's allocator is process-wide; nothing else
 * uses jansson meanwhile (one thread), and no node outlives the arena. */
struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

static struct chunk *arena;

static void *
arena_malloc(size_t n)
{
	struct chunk *c = arena;
	size_t cap;
	void *p;

	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
	    sizeof(max_align_t);
	if (c == NULL || c->cap - c->used < n) {
		cap = c == NULL ? 64 * 1024 : 2 * c->cap;
		if (cap > 4 * 1024 * 1024)
			cap = 4 * 1024 * 1024;
		if (cap < n)
			cap = n;
		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->next = arena;
		c->used = 0;
		c->cap = cap;
		arena = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void
arena_free(void *p)
{
	(void)p;
}

static void
arena_drop(void)
{
	struct chunk *c;

	while ((c = arena) != NULL) {
		arena = c->next;
		free(c);
	}
}

int
jsonio_emit(const struct value *v, struct buf *out, struct err *e)
{
	json_malloc_t old_malloc;
	json_free_t old_free;
	struct memo m = { 0 };
	char *text = NULL;
	json_t *j;
	int rc = 0;

	e->code = ERR_OK;
	json_get_alloc_funcs(&old_malloc, &old_free);
	json_set_alloc_funcs(arena_malloc, arena_free);
	j = to_json(v, &m, e);
	free(m.v);
	free(m.j);
	if (j == NULL)
		rc = e->code != ERR_OK ? (int)e->code :
		    err_set(e, ERR_FAIL, "out of memory");
	else if ((text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL || buf_puts(out, text) == -1 || buf_putc(out, '\n') == -1)
		rc = err_set(e, ERR_FAIL, "out of memory");
	json_set_alloc_funcs(old_malloc, old_free);
	arena_drop();
	return rc;
}
