/* awsxml: EC2 Query API responses, parsed by element path with libxml2. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "awsxml.h"
#include "util.h"

#define EC2_NS_PREFIX "http://ec2.amazonaws.com/doc/"

static void
silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static xmlDocPtr
parse(const char *xml, size_t len)
{
	xmlDocPtr doc;

	if (len > INT_MAX)
		return NULL;
	xmlSetGenericErrorFunc(NULL, silent);
	/* No network, no entity substitution, no DTD loading. */
	doc = xmlReadMemory(xml, (int)len, "response.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc != NULL && (doc->intSubset != NULL || doc->extSubset != NULL)) {
		xmlFreeDoc(doc);	/* AWS never sends a DTD: refuse entities */
		return NULL;
	}
	return doc;
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
	if ((c = xmlNodeGetContent(n)) == NULL)
		return strdup("");
	s = strdup((const char *)c);
	xmlFree(c);
	return s;
}

static int
set_text(char **field, const xmlNode *n, const char *p)
{
	char *s;

	if ((s = text(n, p)) == NULL)
		return -1;
	free(*field);
	*field = s;
	return 0;
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

/* Calls add(in, A, B) for each <item> of the child `set` of parent, with
 * the texts of its elements named a and b. */
static int
each_pair(const xmlNode *parent, const char *set, const char *a,
    const char *b, int (*add)(struct instance *, const char *, const char *),
    struct instance *in)
{
	const xmlNode *n, *s;
	char *ta, *tb;
	int rc;

	if ((s = child(parent, set)) == NULL)
		return 0;
	for (n = s->children; n != NULL; n = n->next) {
		if (!is(n, "item"))
			continue;
		ta = text(n, a);
		tb = text(n, b);
		rc = ta == NULL || tb == NULL ? -1 : add(in, ta, tb);
		free(ta);
		free(tb);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
parse_item(const xmlNode *item, const char *region, struct instance *in)
{
	size_t i;

	for (i = 0; i < sizeof(item_fields) / sizeof(item_fields[0]); i++)
		if (set_text((char **)((char *)in + item_fields[i].offset),
		    item, item_fields[i].path) == -1)
			return -1;
	if (instance_set(&in->region, region) == -1)
		return -1;
	/* Only the instance's own groupSet: reservations and network
	 * interfaces carry groupSets of their own. */
	return each_pair(item, "groupSet", "groupId", "groupName",
	    instance_add_group, in) == -1 ||
	    each_pair(item, "tagSet", "key", "value", instance_add_tag,
	    in) == -1 ? -1 : 0;
}

int
awsxml_describe_instances(const char *xml, size_t len, const char *region,
    awsxml_instance_fn fn, void *ctx, char **next_token, size_t *count,
    struct err *e)
{
	xmlDocPtr doc;
	xmlNode *root, *rset, *r, *iset, *it;
	struct instance *in = NULL;
	size_t n = 0;
	char *tok = NULL;
	int rc = ERR_UNAVAILABLE;

	*next_token = NULL;
	if ((doc = parse(xml, len)) == NULL)
		return err_set(e, ERR_UNAVAILABLE, "EC2 answered with a body "
		    "that is not well-formed XML (%zu bytes)", len);
	root = xmlDocGetRootElement(doc);
	if (!is(root, "DescribeInstancesResponse") || root->ns == NULL ||
	    strncmp((const char *)root->ns->href, EC2_NS_PREFIX,
	    strlen(EC2_NS_PREFIX)) != 0) {
		err_set(e, ERR_UNAVAILABLE, "EC2 answered with a document that "
		    "is not a DescribeInstancesResponse (root element <%s>)",
		    root ? (const char *)root->name : "none");
		goto out;
	}
	if ((rset = child(root, "reservationSet")) == NULL) {
		err_set(e, ERR_UNAVAILABLE, "DescribeInstancesResponse without "
		    "a reservationSet");
		goto out;
	}
	for (r = rset->children; r != NULL; r = r->next) {
		if (!is(r, "item"))
			continue;
		if ((iset = child(r, "instancesSet")) == NULL)
			continue;
		for (it = iset->children; it != NULL; it = it->next) {
			if (!is(it, "item"))
				continue;
			if ((in = instance_new()) == NULL ||
			    parse_item(it, region, in) == -1) {
				rc = err_set(e, ERR_FAIL, "out of memory");
				goto out;
			}
			if (in->id[0] == '\0') {
				err_set(e, ERR_UNAVAILABLE, "EC2 answered with an "
				    "instance that has no instanceId");
				goto out;
			}
			if ((rc = fn(in, ctx, e)) != 0)
				goto out;
			rc = ERR_UNAVAILABLE;
			instance_free(in);
			in = NULL;
			n++;
		}
	}
	if ((tok = text(root, "nextToken")) == NULL) {
		rc = err_set(e, ERR_FAIL, "out of memory");
		goto out;
	}
	if (*tok == '\0') {
		free(tok);
		tok = NULL;
	}
	*next_token = tok;
	if (count != NULL)
		*count = n;
	rc = 0;
out:
	instance_free(in);
	xmlFreeDoc(doc);
	return rc;
}

int
awsxml_error(const char *xml, size_t len, char **code, char **message)
{
	xmlDocPtr doc;
	xmlNode *root, *err = NULL;
	int rc = -1;

	*code = *message = NULL;
	if ((doc = parse(xml, len)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
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
	xmlFreeDoc(doc);
	return rc;
}
