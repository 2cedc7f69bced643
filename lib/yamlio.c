/* yamlio: YAML in (events to a value tree, with limits and YAML 1.2
 * scalars) and out (value trees through libyaml's emitter). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <strings.h>

#include <yaml.h>

#include "util.h"
#include "yamlio.h"

struct anchor {
	char *name;
	struct value *v;
	size_t nodes;		/* size of the anchored tree */
};

struct frame {
	struct value *v;
	char *key;		/* pending map key */
	int key_line, key_col;	/* where it stands */
	size_t nodes_at_start;
	long anchor;		/* index in ctx.anchors, or -1 */
};

struct ctx {
	const char *name;
	struct frame stack[YAMLIO_MAX_DEPTH + 1];
	int depth;
	struct anchor *anchors;
	size_t nanchors;
	size_t nodes;
	struct value *root;
	struct err *e;
};

static int
fail(struct ctx *c, const yaml_mark_t *m, const char *what, const char *arg)
{
	return err_set(c->e, ERR_USAGE, "%s:%zu:%zu: %s%s%s%s", c->name,
	    m->line + 1, m->column + 1, what, arg ? " '" : "", arg ? arg : "",
	    arg ? "'" : "");
}

/* ^[-+]?(0|[1-9][0-9]*)$ (the commonest number: no regex for it) */
static int
decimal(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (*s == '0')
		return s[1] == '\0';
	return *s >= '1' && *s <= '9' && s[1 + strspn(s + 1, "0123456789")] ==
	    '\0';
}

/* A plain scalar as YAML 1.2's core schema reads it, refusing what YAML
 * 1.1 (Puppet's and Ruby's reader) would read differently. */
static struct value *
plain_scalar(struct ctx *c, const char *s, const yaml_mark_t *m, int *bad)
{
	static const char *const ambiguous[] = { "y", "n", "yes", "no", "on",
	    "off", NULL };
	char *end;
	size_t i;
	long long ll;
	double d;

	*bad = 0;
	if (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return value_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		return value_bool(1);
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		return value_bool(0);
	for (i = 0; strchr("yYnNoO", *s) != NULL && ambiguous[i] != NULL; i++)
		if (strcasecmp(s, ambiguous[i]) == 0) {
			*bad = fail(c, m, "ambiguous boolean: write true or "
			    "false, or quote it for a string:", s);
			return NULL;
		}
	/* every number below starts with one of these: the rest is a string
	 * without running a regex */
	if (strchr("+-.0123456789", *s) == NULL)
		return value_str(s);
	if (decimal(s)) {
		errno = 0;
		ll = strtoll(s, &end, 10);
		if (errno == ERANGE) {
			*bad = fail(c, m, "integer out of range:", s);
			return NULL;
		}
		return value_int(ll);
	}
	if (util_match("^0x[0-9a-fA-F]+$", s) || util_match("^0o[0-7]+$", s)) {
		errno = 0;
		ll = strtoll(s + 2, &end, s[1] == 'x' ? 16 : 8);
		if (errno == ERANGE) {
			*bad = fail(c, m, "integer out of range:", s);
			return NULL;
		}
		return value_int(ll);
	}
	if (util_match("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$",
	    s) && (strchr(s, '.') != NULL || strpbrk(s, "eE") != NULL)) {
		d = strtod(s, &end);
		if (!isfinite(d)) {
			*bad = fail(c, m, "float out of range:", s);
			return NULL;
		}
		return value_float(d);
	}
	if (util_match("^[-+]?\\.(inf|Inf|INF)$", s))
		return value_float(s[0] == '-' ? -INFINITY : INFINITY);
	if (util_match("^\\.(nan|NaN|NAN)$", s))
		return value_float(NAN);
	/* YAML 1.1 reads these as numbers or times: octal 012, 1_000,
	 * sexagesimal 1:30, binary 0b1. */
	if (util_match("^[-+]?0[0-9_]+$", s) || util_match("^[-+]?[0-9][0-9_]*_[0-9_]*$",
	    s) || util_match("^[-+]?[0-9]+(:[0-5]?[0-9])+(\\.[0-9]*)?$", s) ||
	    util_match("^[-+]?0b[01_]+$", s)) {
		*bad = fail(c, m, "ambiguous number: quote it for a string, or "
		    "write it in decimal:", s);
		return NULL;
	}
	return value_str(s);
}

/* Adds v to the container on top of the stack (or makes it the root). */
static int
attach(struct ctx *c, struct value *v, const yaml_mark_t *m)
{
	struct frame *f;
	int rc;

	if (v == NULL)
		return err_set(c->e, ERR_FAIL, "out of memory");
	if (c->depth == 0) {
		c->root = v;
		return 0;
	}
	f = &c->stack[c->depth - 1];
	if (f->v->type == VAL_LIST)
		return value_list_add(f->v, v) == 0 ? 0 :
		    err_set(c->e, ERR_FAIL, "out of memory");
	if (f->key == NULL) {
		/* v is a key */
		if (v->type != VAL_STR && v->type != VAL_INT) {
			value_free(v);
			return fail(c, m, "hash keys must be strings", NULL);
		}
		if (v->type == VAL_INT) {
			char k[32];
			snprintf(k, sizeof(k), "%lld", v->i);
			value_free(v);
			f->key = strdup(k);
		} else {
			f->key = strdup(v->s);
			value_free(v);
		}
		if (f->key == NULL)
			return err_set(c->e, ERR_FAIL, "out of memory");
		if (value_map_get(f->v, f->key) != NULL)
			return fail(c, m, "duplicate key", f->key);
		f->key_line = (int)m->line + 1;
		f->key_col = (int)m->column + 1;
		return 0;
	}
	rc = value_map_set_at(f->v, f->key, v, f->key_line, f->key_col);
	free(f->key);
	f->key = NULL;
	return rc == 0 ? 0 : err_set(c->e, ERR_FAIL, "out of memory");
}

static int
count(struct ctx *c, size_t n, const yaml_mark_t *m)
{
	c->nodes += n;
	if (c->nodes > YAMLIO_MAX_NODES)
		return fail(c, m, "document too large (more than 200000 nodes, "
		    "aliases expanded)", NULL);
	return 0;
}

static int
remember(struct ctx *c, const yaml_char_t *anchor, struct value *v,
    size_t nodes, long *idx)
{
	struct anchor *a;

	if (idx != NULL)
		*idx = -1;
	if (anchor == NULL)
		return 0;
	if ((a = realloc(c->anchors, (c->nanchors + 1) * sizeof(*a))) == NULL)
		return err_set(c->e, ERR_FAIL, "out of memory");
	c->anchors = a;
	a = &c->anchors[c->nanchors];
	if ((a->name = strdup((const char *)anchor)) == NULL)
		return err_set(c->e, ERR_FAIL, "out of memory");
	a->v = value_ref(v);
	a->nodes = nodes;
	if (idx != NULL)
		*idx = (long)c->nanchors;
	c->nanchors++;
	return 0;
}

static int
on_event(struct ctx *c, yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	const char *tag;
	struct value *v;
	struct frame *f;
	size_t i;
	int bad, rc;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if ((rc = count(c, 1, m)) != 0)
			return rc;
		if (ev->data.scalar.tag != NULL &&
		    strcmp((const char *)ev->data.scalar.tag,
		    "tag:yaml.org,2002:str") != 0)
			return fail(c, m, "tags are not supported:",
			    (const char *)ev->data.scalar.tag);
		if (strlen((const char *)ev->data.scalar.value) !=
		    ev->data.scalar.length)
			return fail(c, m, "NUL character in a string", NULL);
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    ev->data.scalar.tag == NULL) {
			v = plain_scalar(c, (const char *)ev->data.scalar.value,
			    m, &bad);
			if (bad)
				return bad;
		} else
			v = value_str((const char *)ev->data.scalar.value);
		if (v != NULL) {
			v->line = (int)m->line + 1;
			v->col = (int)m->column + 1;
		}
		if (v != NULL && (rc = remember(c, ev->data.scalar.anchor, v,
		    1, NULL)) != 0) {
			value_free(v);
			return rc;
		}
		return attach(c, v, m);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if ((rc = count(c, 1, m)) != 0)
			return rc;
		if (c->depth >= YAMLIO_MAX_DEPTH)
			return fail(c, m, "nesting deeper than 64 levels", NULL);
		tag = ev->type == YAML_SEQUENCE_START_EVENT ?
		    (const char *)ev->data.sequence_start.tag :
		    (const char *)ev->data.mapping_start.tag;
		if (tag != NULL && strcmp(tag, ev->type ==
		    YAML_SEQUENCE_START_EVENT ? "tag:yaml.org,2002:seq" :
		    "tag:yaml.org,2002:map") != 0)
			return fail(c, m, "tags are not supported:", tag);
		v = ev->type == YAML_SEQUENCE_START_EVENT ? value_list() :
		    value_map();
		if (v == NULL)
			return err_set(c->e, ERR_FAIL, "out of memory");
		v->line = (int)m->line + 1;
		v->col = (int)m->column + 1;
		/* keep a reference on the stack; attach at the end */
		f = &c->stack[c->depth++];
		f->v = v;
		f->key = NULL;
		f->nodes_at_start = c->nodes;
		return remember(c, ev->type == YAML_SEQUENCE_START_EVENT ?
		    ev->data.sequence_start.anchor :
		    ev->data.mapping_start.anchor, NULL, 0, &f->anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		f = &c->stack[--c->depth];
		v = f->v;
		f->v = NULL;
		if (f->anchor >= 0) {	/* now the anchored tree is whole */
			c->anchors[f->anchor].v = value_ref(v);
			c->anchors[f->anchor].nodes = c->nodes -
			    f->nodes_at_start + 1;
		}
		return attach(c, v, m);
	case YAML_ALIAS_EVENT:
		for (i = c->nanchors; i-- > 0; )
			if (strcmp(c->anchors[i].name,
			    (const char *)ev->data.alias.anchor) == 0)
				break;
		if (i == (size_t)-1 || c->anchors[i].v == NULL)
			return fail(c, m, "unknown or recursive alias",
			    (const char *)ev->data.alias.anchor);
		if ((rc = count(c, c->anchors[i].nodes, m)) != 0)
			return rc;
		return attach(c, value_ref(c->anchors[i].v), m);
	case YAML_DOCUMENT_START_EVENT:
		if (c->root != NULL)
			return fail(c, m, "more than one document", NULL);
		return 0;
	default:
		return 0;
	}
}

int
yamlio_parse(const char *text, size_t len, const char *name,
    struct value **out, struct err *e)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct ctx c;
	size_t i;
	int rc = 0, done = 0;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.e = e;
	if (!yaml_parser_initialize(&p))
		return err_set(e, ERR_FAIL, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = err_set(e, ERR_USAGE, "%s:%zu:%zu: %s%s%s", name,
			    p.problem_mark.line + 1, p.problem_mark.column + 1,
			    p.problem ? p.problem : "syntax error",
			    p.context ? " " : "", p.context ? p.context : "");
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&c, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	while (c.depth > 0) {
		c.depth--;
		free(c.stack[c.depth].key);
		value_free(c.stack[c.depth].v);
	}
	for (i = 0; i < c.nanchors; i++) {
		free(c.anchors[i].name);
		value_free(c.anchors[i].v);
	}
	free(c.anchors);
	if (rc != 0) {
		value_free(c.root);
		return rc;
	}
	*out = c.root != NULL ? c.root : value_null();
	return *out != NULL ? 0 : err_set(e, ERR_FAIL, "out of memory");
}

int
yamlio_plain_safe(const char *s)
{
	static const char *const words[] = { "y", "n", "yes", "no", "on",
	    "off", "true", "false", "null", NULL };
	size_t i, n = strlen(s);

	/* A letter first rules out numbers, dates, times, indicators and
	 * specials (~ * & ! - : # ' " .inf); the rest allows no ": " or " #". */
	if (n == 0 || n > 128 || !isalpha((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_-./", s[i]) == NULL)
			return 0;
	for (i = 0; words[i] != NULL; i++)
		if (strcasecmp(s, words[i]) == 0)
			return 0;
	return 1;
}

static int
on_write(void *arg, unsigned char *p, size_t n)
{
	return buf_append(arg, p, n) == 0;
}

static int
scalar(yaml_emitter_t *em, const char *text, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)(uintptr_t)text, (int)strlen(text), 1, 1, style))
		return -1;
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int
str(yaml_emitter_t *em, const char *s)
{
	return scalar(em, s, yamlio_plain_safe(s) ? YAML_PLAIN_SCALAR_STYLE :
	    YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static int
emit(yaml_emitter_t *em, const struct value *v)
{
	yaml_event_t ev;
	char num[64];
	size_t i;

	switch (v->type) {
	case VAL_NULL:
		return scalar(em, "~", YAML_PLAIN_SCALAR_STYLE);
	case VAL_BOOL:
		return scalar(em, v->b ? "true" : "false",
		    YAML_PLAIN_SCALAR_STYLE);
	case VAL_INT:
		snprintf(num, sizeof(num), "%lld", v->i);
		return scalar(em, num, YAML_PLAIN_SCALAR_STYLE);
	case VAL_FLOAT:
		if (isnan(v->f))
			return scalar(em, ".nan", YAML_PLAIN_SCALAR_STYLE);
		if (isinf(v->f))
			return scalar(em, v->f < 0 ? "-.inf" : ".inf",
			    YAML_PLAIN_SCALAR_STYLE);
		/* the fewest digits (15 always read back as written) that
		 * give the same double: 0.1, not 0.10000000000000001 */
		for (i = 15; i <= 17; i++) {
			snprintf(num, sizeof(num), "%.*g", (int)i, v->f);
			if (strtod(num, NULL) == v->f)
				break;
		}
		if (strpbrk(num, ".e") == NULL)
			strcat(num, ".0");
		else if (strchr(num, '.') == NULL) {
			/* 1e+20 -> 1.0e+20: YAML 1.1 floats need the dot */
			char *e = strchr(num, 'e');
			memmove(e + 2, e, strlen(e) + 1);
			e[0] = '.';
			e[1] = '0';
		}
		return scalar(em, num, YAML_PLAIN_SCALAR_STYLE);
	case VAL_STR:
		return str(em, v->s);
	case VAL_LIST:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_ANY_SEQUENCE_STYLE) || !yaml_emitter_emit(em, &ev))
			return -1;
		for (i = 0; i < v->n; i++)
			if (emit(em, v->items[i]) == -1)
				return -1;
		return yaml_sequence_end_event_initialize(&ev) &&
		    yaml_emitter_emit(em, &ev) ? 0 : -1;
	case VAL_MAP:
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_ANY_MAPPING_STYLE) || !yaml_emitter_emit(em, &ev))
			return -1;
		for (i = 0; i < v->n; i++)
			if (str(em, v->keys[i]) == -1 ||
			    emit(em, v->items[i]) == -1)
				return -1;
		return yaml_mapping_end_event_initialize(&ev) &&
		    yaml_emitter_emit(em, &ev) ? 0 : -1;
	}
	return -1;
}

int
yamlio_emit(const struct value *doc, struct buf *out, struct err *e)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int ok;

	if (!yaml_emitter_initialize(&em))
		return err_set(e, ERR_FAIL, "out of memory");
	yaml_emitter_set_output(&em, on_write, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0) &&
	    yaml_emitter_emit(&em, &ev) &&
	    emit(&em, doc) == 0 &&
	    yaml_document_end_event_initialize(&ev, 1) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_stream_end_event_initialize(&ev) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_emitter_flush(&em);
	if (!ok)
		err_set(e, ERR_FAIL, "cannot write YAML: %s", em.problem ?
		    em.problem : "invalid UTF-8 or out of memory");
	yaml_emitter_delete(&em);
	return ok ? 0 : ERR_FAIL;
}
