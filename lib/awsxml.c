/* awsxml: EC2 Query API responses, parsed by element path with libxml2. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/parserInternals.h>

#include "awsxml.h"
#include "dynload.h"
#include "buf.h"
#include "util.h"

#define EC2_NS_PREFIX "http://ec2.amazonaws.com/doc/"

/* The libxml2 functions used, loaded at first use (see dynload.h). */
struct xml_api {
	void (*set_error_func)(void *, xmlGenericErrorFunc);
	xmlDocPtr (*read_memory)(const char *, int, const char *, const char *, int);
	void (*free_doc)(xmlDocPtr);
	xmlNodePtr (*root_element)(const xmlDoc *);
	xmlChar *(*node_content)(const xmlNode *);
	xmlParserCtxtPtr (*create_push_ctxt)(xmlSAXHandlerPtr, void *,
	    const char *, int, const char *);
	int (*ctxt_use_options)(xmlParserCtxtPtr, int);
	int (*parse_chunk)(xmlParserCtxtPtr, const char *, int, int);
	void (*free_ctxt)(xmlParserCtxtPtr);
	void (*stop_parser)(xmlParserCtxtPtr);
	xmlFreeFunc *free_var;		/* xmlFree is a variable */
	void (*init_parser)(void);
	void (*cleanup_parser)(void);
};
static struct xml_api api;
static int api_ready;

/* At exit (see dynload.h): libxml2's global state (encoding handlers,
 * dictionaries' mutexes) goes with it. */
static void
cleanup_xml(void)
{
	if (api_ready)
		api.cleanup_parser();
	api_ready = 0;
}

static int
load_xml(struct err *e)
{
#define S(field, name) DYNLOAD_SYM(struct xml_api, field, name)
	static const struct dynload_sym syms[] = {
		S(set_error_func, "xmlSetGenericErrorFunc"),
		S(read_memory, "xmlReadMemory"),
		S(free_doc, "xmlFreeDoc"),
		S(root_element, "xmlDocGetRootElement"),
		S(node_content, "xmlNodeGetContent"),
		S(create_push_ctxt, "xmlCreatePushParserCtxt"),
		S(ctxt_use_options, "xmlCtxtUseOptions"),
		S(parse_chunk, "xmlParseChunk"),
		S(free_ctxt, "xmlFreeParserCtxt"),
		S(stop_parser, "xmlStopParser"),
		S(free_var, "xmlFree"),
		S(init_parser, "xmlInitParser"),
		S(cleanup_parser, "xmlCleanupParser"),
	};
#undef S

	if (api_ready)
		return 0;
	if (dynload("libxml2.so.2", "libxml2", syms,
	    sizeof(syms) / sizeof(syms[0]), &api, cleanup_xml, e) != 0)
		return e->code;
	/* else xmlCleanupParser believes there is nothing to clean */
	api.init_parser();
	api_ready = 1;
	return 0;
}

static void
silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* opts: extra XML_PARSE_ options. */
static xmlDocPtr
parse_opts(const char *xml, size_t len, int opts)
{
	xmlDocPtr doc;

	if (len > INT_MAX)
		return NULL;
	api.set_error_func(NULL, silent);
	/* No network, no entity substitution, no DTD loading. */
	doc = api.read_memory(xml, (int)len, "response.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | opts);
	if (doc != NULL && (doc->intSubset != NULL || doc->extSubset != NULL)) {
		api.free_doc(doc);	/* AWS never sends a DTD: refuse entities */
		return NULL;
	}
	return doc;
}

static xmlDocPtr
parse(const char *xml, size_t len)
{
	return parse_opts(xml, len, 0);
}

static int
is(const xmlNode *n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

/* The first element child called name, or NULL. */
static xmlNode *
child(const xmlNode *parent, const char *name)
{
	xmlNode *n;

	if (parent == NULL)
		return NULL;
	for (n = parent->children; n != NULL; n = n->next)
		if (is(n, name))
			return n;
	return NULL;
}

/* Follows a '/'-separated path of first children. */
static xmlNode *
path(const xmlNode *n, const char *p)
{
	char seg[64];
	const char *e;
	size_t len;

	while (n != NULL && *p) {
		e = strchr(p, '/');
		len = e ? (size_t)(e - p) : strlen(p);
		if (len >= sizeof(seg))
			return NULL;
		memcpy(seg, p, len);
		seg[len] = '\0';
		n = child(n, seg);
		p += len + (e != NULL);
	}
	return (xmlNode *)n;
}

/* Text of the element at path under n, malloc'd; "" when absent. */
static char *
text(const xmlNode *n, const char *p)
{
	xmlChar *c;
	char *s;

	n = path(n, p);
	if (n == NULL)
		return strdup("");
	if ((c = api.node_content(n)) == NULL)
		return strdup("");
	s = strdup((const char *)c);
	(*api.free_var)(c);
	return s;
}

static const struct {
	const char *path;
	size_t offset;
} item_fields[] = {
	{ "instanceId", offsetof(struct instance, id) },
	{ "instanceState/name", offsetof(struct instance, state) },
	{ "privateDnsName", offsetof(struct instance, private_dns) },
	{ "privateIpAddress", offsetof(struct instance, private_ip) },
	{ "dnsName", offsetof(struct instance, public_dns) },
	{ "ipAddress", offsetof(struct instance, public_ip) },
	{ "placement/availabilityZone",
	    offsetof(struct instance, availability_zone) },
	{ "instanceType", offsetof(struct instance, type) },
	{ "imageId", offsetof(struct instance, image) },
	{ "vpcId", offsetof(struct instance, vpc) },
	{ "subnetId", offsetof(struct instance, subnet) },
	{ "launchTime", offsetof(struct instance, launch_time) },
};

/* ---- DescribeInstances, streamed: the page is read with SAX2 callbacks,
 * one event at a time (no tree), into instances (a 1,000-instance page as a tree
 * takes tens of megabytes; as instances, one). They are handed to the
 * callback only once the whole page has parsed: a malformed page gives
 * nothing. */

#define MAX_DEPTH 64
#define PUSH_CHUNK (64 * 1024)

/* Paths below an instance's <item>, and what their text is. */
enum kind { K_FIELD, K_GROUP_ID, K_GROUP_NAME, K_TAG_KEY, K_TAG_VALUE };

static const struct {
	const char *path;
	enum kind kind;
} pairs[] = {
	/* only the instance's own groupSet: reservations and network
	 * interfaces carry groupSets of their own */
	{ "groupSet/item/groupId", K_GROUP_ID },
	{ "groupSet/item/groupName", K_GROUP_NAME },
	{ "tagSet/item/key", K_TAG_KEY },
	{ "tagSet/item/value", K_TAG_VALUE },
};

/* Where a reservation's instance <item> stands, from the root down. */
static const char *const instance_path[] = { "DescribeInstancesResponse",
    "reservationSet", "item", "instancesSet", "item" };
#define INSTANCE_DEPTH 4

struct page {
	const char *names[MAX_DEPTH];	/* element local names by depth */
	struct instance *in;		/* the instance being read */
	int target;			/* depth of the element whose text
					 * is collected, or -1 */
	char **field;			/* K_FIELD: where the text goes */
	enum kind kind;
	struct buf text;
	char *pair[2];			/* the groupSet/tagSet item's texts */
	int pair_kind;			/* 0: none, 1: group, 2: tag */
	char *token;
	struct instance **done;		/* the page's instances, in order */
	size_t ndone, capdone;
	/* SAX state */
	xmlParserCtxtPtr ctxt;
	const char *region;
	struct err *e;
	int rc;				/* first error, 0 while all is well */
	int depth;			/* of the next element to open */
	int root_ok, rset, dtd;
};

/* The path from the instance's <item> down to depth d ("a/b/c"). */
static int
rel_path(const struct page *pg, int d, char *out, size_t size)
{
	size_t len = 0, n;
	int i;

	out[0] = '\0';
	for (i = INSTANCE_DEPTH + 1; i <= d; i++) {
		n = strlen(pg->names[i]);
		if (len + n + 2 > size)
			return -1;
		if (len > 0)
			out[len++] = '/';
		memcpy(out + len, pg->names[i], n + 1);
		len += n;
	}
	return 0;
}

static int
in_instance(const struct page *pg, int depth)
{
	int i;

	if (depth < INSTANCE_DEPTH)
		return 0;
	for (i = 0; i <= INSTANCE_DEPTH; i++)
		if (strcmp(pg->names[i], instance_path[i]) != 0)
			return 0;
	return 1;
}

#define NFIELDS (sizeof(item_fields) / sizeof(item_fields[0]))
#define NPAIRS (sizeof(pairs) / sizeof(pairs[0]))

/* FNV-1a. An instance has some eighty elements and few are wanted: a
 * path's hash is compared before its text. */
static uint32_t
path_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* An element opens at depth: decide whether its text is wanted. */
static void
open_element(struct page *pg, int depth)
{
	static uint32_t field_hash[NFIELDS], pair_hash[NPAIRS];
	static int hashed;
	char rel[256];
	uint32_t h;
	size_t i;

	pg->target = -1;
	if (depth == 1 && strcmp(pg->names[1], "nextToken") == 0) {
		pg->target = depth;
		pg->field = &pg->token;
		pg->kind = K_FIELD;
		buf_reset(&pg->text);
		return;
	}
	/* every wanted path is 1 to 3 elements below the instance */
	if (pg->in == NULL || depth <= INSTANCE_DEPTH ||
	    depth > INSTANCE_DEPTH + 3 ||
	    rel_path(pg, depth, rel, sizeof(rel)) == -1)
		return;
	if (!hashed) {
		for (i = 0; i < NFIELDS; i++)
			field_hash[i] = path_hash(item_fields[i].path);
		for (i = 0; i < NPAIRS; i++)
			pair_hash[i] = path_hash(pairs[i].path);
		hashed = 1;
	}
	h = path_hash(rel);
	for (i = 0; i < NFIELDS; i++)
		if (h == field_hash[i] && strcmp(rel, item_fields[i].path) == 0) {
			pg->target = depth;
			pg->field = (char **)((char *)pg->in +
			    item_fields[i].offset);
			pg->kind = K_FIELD;
		}
	for (i = 0; i < NPAIRS; i++)
		if (h == pair_hash[i] && strcmp(rel, pairs[i].path) == 0) {
			pg->target = depth;
			pg->kind = pairs[i].kind;
		}
	if (pg->target != -1)
		buf_reset(&pg->text);
}

/* The collected text of the target element goes where it belongs. */
static int
close_target(struct page *pg)
{
	const char *t = pg->text.data ? pg->text.data : "";
	char *s;

	pg->target = -1;
	/* an instance's fields share one empty string (see instance.c) */
	if (pg->kind == K_FIELD && pg->field != &pg->token)
		return instance_set(pg->field, t);
	if ((s = strdup(t)) == NULL)
		return -1;
	switch (pg->kind) {
	case K_FIELD:
		free(*pg->field);
		*pg->field = s;
		return 0;
	case K_GROUP_ID:
	case K_TAG_KEY:
		free(pg->pair[0]);
		pg->pair[0] = s;
		break;
	case K_GROUP_NAME:
	case K_TAG_VALUE:
		free(pg->pair[1]);
		pg->pair[1] = s;
		break;
	}
	pg->pair_kind = pg->kind == K_GROUP_ID || pg->kind == K_GROUP_NAME ?
	    1 : 2;
	return 0;
}

/* A groupSet or tagSet <item> closed: add what it held. */
static int
close_pair(struct page *pg)
{
	int rc = 0;

	if (pg->pair_kind == 1)
		rc = instance_add_group(pg->in, pg->pair[0] ? pg->pair[0] : "",
		    pg->pair[1] ? pg->pair[1] : "");
	else if (pg->pair_kind == 2)
		rc = instance_add_tag(pg->in, pg->pair[0] ? pg->pair[0] : "",
		    pg->pair[1] ? pg->pair[1] : "");
	free(pg->pair[0]);
	free(pg->pair[1]);
	pg->pair[0] = pg->pair[1] = NULL;
	pg->pair_kind = 0;
	return rc;
}

/* An element at depth closed (or was empty). */
static int
close_element(struct page *pg, int depth, const char *region, struct err *e)
{
	if (pg->target == depth && close_target(pg) == -1)
		return err_set(e, ERR_FAIL, "out of memory");
	if (pg->in == NULL)
		return 0;
	if (depth == INSTANCE_DEPTH + 2 && strcmp(pg->names[depth], "item") == 0 &&
	    (strcmp(pg->names[depth - 1], "groupSet") == 0 ||
	    strcmp(pg->names[depth - 1], "tagSet") == 0) &&
	    close_pair(pg) == -1)
		return err_set(e, ERR_FAIL, "out of memory");
	if (depth != INSTANCE_DEPTH)
		return 0;
	if (pg->in->id[0] == '\0')
		return err_set(e, ERR_UNAVAILABLE, "EC2 answered with an "
		    "instance that has no instanceId");
	if (instance_set(&pg->in->region, region) == -1)
		return err_set(e, ERR_FAIL, "out of memory");
	if (pg->ndone == pg->capdone) {
		size_t cap = pg->capdone ? 2 * pg->capdone : 64;
		struct instance **d = realloc(pg->done, cap * sizeof(*d));

		if (d == NULL)
			return err_set(e, ERR_FAIL, "out of memory");
		pg->done = d;
		pg->capdone = cap;
	}
	pg->done[pg->ndone++] = pg->in;
	pg->in = NULL;
	return 0;
}

/* Stops the parse at the first error (kept in pg->rc). */
static void
fail(struct page *pg, int rc)
{
	if (pg->rc == 0)
		pg->rc = rc;
	api.stop_parser(pg->ctxt);
}

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **ns, int nattrs, int ndef,
    const xmlChar **attrs)
{
	struct page *pg = ctx;
	int depth = pg->depth++;

	(void)prefix;
	(void)nns;
	(void)ns;
	(void)nattrs;
	(void)ndef;
	(void)attrs;
	if (pg->rc != 0 || depth >= MAX_DEPTH)
		return;
	pg->names[depth] = (const char *)localname;
	if (depth == 0) {
		if (strcmp(pg->names[0], "DescribeInstancesResponse") != 0 ||
		    uri == NULL || strncmp((const char *)uri, EC2_NS_PREFIX,
		    strlen(EC2_NS_PREFIX)) != 0) {
			fail(pg, err_set(pg->e, ERR_UNAVAILABLE, "EC2 answered "
			    "with a document that is not a "
			    "DescribeInstancesResponse (root element <%s>)",
			    pg->names[0]));
			return;
		}
		pg->root_ok = 1;
	}
	if (depth == 1 && strcmp(pg->names[1], "reservationSet") == 0)
		pg->rset = 1;
	if (depth == INSTANCE_DEPTH && in_instance(pg, depth) &&
	    (pg->in = instance_new()) == NULL) {
		fail(pg, err_set(pg->e, ERR_FAIL, "out of memory"));
		return;
	}
	open_element(pg, depth);
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct page *pg = ctx;
	int depth = --pg->depth, rc;

	(void)localname;
	(void)prefix;
	(void)uri;
	if (pg->rc != 0 || depth >= MAX_DEPTH)
		return;
	if ((rc = close_element(pg, depth, pg->region, pg->e)) != 0)
		fail(pg, rc);
}

static void
on_text(void *ctx, const xmlChar *ch, int len)
{
	struct page *pg = ctx;

	if (pg->rc == 0 && pg->target != -1 && pg->depth > pg->target &&
	    buf_append(&pg->text, ch, (size_t)len) == -1)
		fail(pg, err_set(pg->e, ERR_FAIL, "out of memory"));
}

static void
on_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id,
    const xmlChar *system_id)
{
	struct page *pg = ctx;

	(void)name;
	(void)external_id;
	(void)system_id;
	pg->dtd = 1;	/* AWS never sends a DTD: refuse entities */
	api.stop_parser(pg->ctxt);
}

int
awsxml_describe_instances(const char *xml, size_t len, const char *region,
    awsxml_instance_fn fn, void *ctx, char **next_token, size_t *count,
    struct err *e)
{
	xmlSAXHandler sax;
	struct page pg;
	size_t n = 0, off, chunk;
	int rc, well_formed;

	*next_token = NULL;
	if (load_xml(e) != 0)
		return e->code;
	memset(&pg, 0, sizeof(pg));
	pg.target = -1;
	pg.region = region;
	pg.e = e;
	buf_init(&pg.text, 0);
	if (len > INT_MAX)
		return err_set(e, ERR_UNAVAILABLE, "EC2 answered with a body "
		    "too large to parse (%zu bytes)", len);
	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = on_start;
	sax.endElementNs = on_end;
	sax.characters = on_text;
	sax.cdataBlock = on_text;
	sax.internalSubset = on_dtd;
	sax.externalSubset = on_dtd;
	sax.error = silent;
	sax.warning = silent;
	api.set_error_func(NULL, silent);
	/* pushed in chunks: libxml2 never holds a copy of the whole page */
	if ((pg.ctxt = api.create_push_ctxt(&sax, &pg, NULL, 0,
	    "response.xml")) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	/* No network, no entity substitution, no DTD loading. */
	api.ctxt_use_options(pg.ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING);
	for (off = 0; off < len && pg.rc == 0 && !pg.dtd &&
	    pg.ctxt->wellFormed; off += chunk) {
		chunk = len - off < PUSH_CHUNK ? len - off : PUSH_CHUNK;
		(void)api.parse_chunk(pg.ctxt, xml + off, (int)chunk, 0);
	}
	if (pg.rc == 0 && !pg.dtd)
		(void)api.parse_chunk(pg.ctxt, NULL, 0, 1);
	well_formed = pg.ctxt->wellFormed && !pg.dtd;
	api.free_ctxt(pg.ctxt);
	rc = pg.rc;
	if (rc == 0 && !well_formed)
		rc = err_set(e, ERR_UNAVAILABLE, "EC2 answered with a body "
		    "that is not well-formed XML (%zu bytes)", len);
	if (rc == 0 && !pg.root_ok)
		rc = err_set(e, ERR_UNAVAILABLE, "EC2 answered with a document "
		    "that is not a DescribeInstancesResponse (root element "
		    "<none>)");
	if (rc == 0 && !pg.rset)
		rc = err_set(e, ERR_UNAVAILABLE, "DescribeInstancesResponse "
		    "without a reservationSet");
	instance_free(pg.in);
	free(pg.pair[0]);
	free(pg.pair[1]);
	buf_free(&pg.text);
	for (n = 0; n < pg.ndone; n++) {
		if (rc == 0)
			rc = fn(pg.done[n], ctx, e);
		instance_free(pg.done[n]);
	}
	free(pg.done);
	n = pg.ndone;
	if (rc != 0) {
		free(pg.token);
		return rc;
	}
	if (pg.token != NULL && *pg.token == '\0') {
		free(pg.token);
		pg.token = NULL;
	}
	*next_token = pg.token;
	if (count != NULL)
		*count = n;
	return 0;
}

int
awsxml_error(const char *xml, size_t len, char **code, char **message)
{
	xmlDocPtr doc;
	xmlNode *root, *err = NULL;
	struct err e = { 0 };
	int rc = -1;

	*code = *message = NULL;
	if (load_xml(&e) != 0 || (doc = parse(xml, len)) == NULL)
		return -1;
	root = api.root_element(doc);
	if (is(root, "Response"))
		err = path(root, "Errors/Error");
	else if (is(root, "ErrorResponse"))
		err = child(root, "Error");
	if (err == NULL || child(err, "Code") == NULL)
		goto out;
	*code = text(err, "Code");
	*message = text(err, "Message");
	if (*code == NULL || *message == NULL || **code == '\0') {
		free(*code);
		free(*message);
		*code = *message = NULL;
		goto out;
	}
	rc = 0;
out:
	api.free_doc(doc);
	return rc;
}

/* ---- AssumeRoleResponse */

#define STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"

/* The text of element n (its text and CDATA children), malloc'd; then
 * those children's bytes are wiped in the tree. The document was parsed
 * with XML_PARSE_NODICT, so no text is shared through a dictionary. */
static char *
take_secret_text(xmlNode *n)
{
	struct buf b;
	xmlNode *t;
	char *s;

	buf_init_secret(&b, 0);
	for (t = n->children; t != NULL; t = t->next) {
		if ((t->type != XML_TEXT_NODE &&
		    t->type != XML_CDATA_SECTION_NODE) || t->content == NULL)
			continue;
		if (buf_puts(&b, (const char *)t->content) == -1) {
			buf_wipe(&b);
			return NULL;
		}
	}
	for (t = n->children; t != NULL; t = t->next)
		if ((t->type == XML_TEXT_NODE ||
		    t->type == XML_CDATA_SECTION_NODE) && t->content != NULL)
			util_wipe(t->content, strlen((char *)t->content));
	s = util_strdup(b.data ? b.data : "");
	buf_wipe(&b);
	return s;
}

int
awsxml_assume_role(const char *xml, size_t len, char **access_key,
    char **secret_key, char **session_token, char **expiration,
    struct err *e)
{
	static const char *const names[] = { "AccessKeyId",
	    "SecretAccessKey", "SessionToken", "Expiration" };
	char **out[4];
	xmlDocPtr doc;
	xmlNode *root, *cr, *n;
	size_t i;
	int rc;

	out[0] = access_key;
	out[1] = secret_key;
	out[2] = session_token;
	out[3] = expiration;
	for (i = 0; i < 4; i++)
		*out[i] = NULL;
	if ((rc = load_xml(e)) != 0)
		return rc;
	if ((doc = parse_opts(xml, len, XML_PARSE_NODICT)) == NULL)
		return err_set(e, ERR_UNAVAILABLE, "the answer is not "
		    "well-formed XML (%zu bytes)", len);
	root = api.root_element(doc);
	if (!is(root, "AssumeRoleResponse") || root->ns == NULL ||
	    strcmp((const char *)root->ns->href, STS_NS) != 0) {
		rc = err_set(e, ERR_UNAVAILABLE, "the answer is not an "
		    "AssumeRoleResponse in the " STS_NS " namespace");
		goto out;
	}
	cr = path(root, "AssumeRoleResult/Credentials");
	for (i = 0; i < 4; i++) {
		if ((n = child(cr, names[i])) == NULL) {
			rc = err_set(e, ERR_UNAVAILABLE, "AssumeRoleResponse "
			    "without Credentials/%s", names[i]);
			goto out;
		}
		if ((*out[i] = take_secret_text(n)) == NULL) {
			rc = err_set(e, ERR_FAIL, "out of memory");
			goto out;
		}
		util_trim(*out[i]);
		if (**out[i] == '\0') {
			rc = err_set(e, ERR_UNAVAILABLE, "AssumeRoleResponse "
			    "with an empty Credentials/%s", names[i]);
			goto out;
		}
	}
out:
	if (rc != 0)
		for (i = 0; i < 4; i++) {
			util_free_secret(*out[i]);
			*out[i] = NULL;
		}
	api.free_doc(doc);
	return rc;
}
