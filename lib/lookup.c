/* lookup: certname parsing and the ordered live lookup strategies. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lookup.h"

const enum lookup_strategy lookup_default_order[] = {
	LOOKUP_INSTANCE_ID, LOOKUP_PRIVATE_DNS, LOOKUP_PRIVATE_IP,
	LOOKUP_TAG_NAME
};
const size_t lookup_default_norder = 4;

int
lookup_certname_check(const char *c, struct err *e)
{
	size_t i, n = strlen(c);

	if (n == 0)
		return err_set(e, ERR_USAGE, "empty certname");
	if (n > LOOKUP_CERTNAME_MAX)
		return err_set(e, ERR_USAGE, "certname longer than %d "
		    "characters", LOOKUP_CERTNAME_MAX);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];
		if (!(isalnum(ch) && ch < 0x80) && ch != '.' && ch != '-' &&
		    ch != '_')
			return err_set(e, ERR_USAGE, "invalid certname: "
			    "character %zu is not a letter, digit, '.', '-' "
			    "or '_'", i + 1);
	}
	if (c[0] == '.' || c[0] == '-')
		return err_set(e, ERR_USAGE, "invalid certname: starts with "
		    "'%c'", c[0]);
	return 0;
}

static size_t
first_label(const char *c, char *out)
{
	size_t n = strcspn(c, ".");

	memcpy(out, c, n);
	out[n] = '\0';
	return n;
}

static int
is_instance_id(const char *s)
{
	size_t i, n = strlen(s);

	if (n != 10 && n != 19)
		return 0;
	if (s[0] != 'i' || s[1] != '-')
		return 0;
	for (i = 2; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Parses "a.b.c.d" (sep '.') or "a-b-c-d" (sep '-') into out. */
static int
ipv4(const char *s, char sep, char *out)
{
	unsigned v[4];
	int i, len;
	const char *p = s;

	for (i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)*p))
			return 0;
		v[i] = 0;
		for (len = 0; isdigit((unsigned char)*p); p++, len++) {
			v[i] = v[i] * 10 + (unsigned)(*p - '0');
			if (len >= 3 || v[i] > 255)
				return 0;
		}
		if (i < 3 && *p++ != sep)
			return 0;
	}
	if (*p != '\0')
		return 0;
	(void)snprintf(out, 16, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
	return 1;
}

size_t
lookup_values(enum lookup_strategy s, const char *c,
    char vals[2][LOOKUP_CERTNAME_MAX + 1])
{
	char label[LOOKUP_CERTNAME_MAX + 1];

	if (strlen(c) > LOOKUP_CERTNAME_MAX)
		return 0;
	first_label(c, label);
	switch (s) {
	case LOOKUP_INSTANCE_ID:
		if (!is_instance_id(label))
			return 0;
		strcpy(vals[0], label);	/* fits: label <= certname */
		return 1;
	case LOOKUP_PRIVATE_DNS:
		strcpy(vals[0], c);
		return 1;
	case LOOKUP_PRIVATE_IP:
		if (ipv4(c, '.', vals[0]))
			return 1;
		if (strncmp(label, "ip-", 3) == 0 &&
		    ipv4(label + 3, '-', vals[0]))
			return 1;
		return 0;
	case LOOKUP_TAG_NAME:
		strcpy(vals[0], c);
		if (strcmp(label, c) == 0)
			return 1;
		strcpy(vals[1], label);
		return 2;
	}
	return 0;
}

const char *
lookup_filter_name(enum lookup_strategy s)
{
	switch (s) {
	case LOOKUP_INSTANCE_ID:
		return "instance-id";
	case LOOKUP_PRIVATE_DNS:
		return "private-dns-name";
	case LOOKUP_PRIVATE_IP:
		return "private-ip-address";
	case LOOKUP_TAG_NAME:
		return "tag:Name";
	}
	return "?";
}

struct found {
	struct instance *first;
	char *ids[LOOKUP_MAX_CANDIDATES];
	size_t n;
};

static int
collect(const struct instance *in, void *arg, struct err *e)
{
	struct found *f = arg;

	if (f->n == 0 && (f->first = instance_dup(in)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	if (f->n < LOOKUP_MAX_CANDIDATES &&
	    (f->ids[f->n] = strdup(in->id)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	f->n++;
	return 0;
}

static void
found_clear(struct found *f)
{
	size_t i;

	instance_free(f->first);
	for (i = 0; i < LOOKUP_MAX_CANDIDATES; i++)
		free(f->ids[i]);
	memset(f, 0, sizeof(*f));
}

int
lookup_find(lookup_source_fn source, void *src,
    const enum lookup_strategy *order, size_t n, const char *certname,
    struct instance **out, struct err *e)
{
	char vals[2][LOOKUP_CERTNAME_MAX + 1];
	const char *vp[2] = { vals[0], vals[1] };
	struct found fd;
	struct buf names;
	size_t i, k, nv;
	int rc;

	*out = NULL;
	memset(&fd, 0, sizeof(fd));
	if ((rc = lookup_certname_check(certname, e)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if ((nv = lookup_values(order[i], certname, vals)) == 0)
			continue;
		if ((rc = source(src, order[i], vp, nv, collect, &fd, e)) != 0)
			goto out;
		if (fd.n == 1) {
			*out = fd.first;
			fd.first = NULL;
			goto out;
		}
		if (fd.n > 1) {
			buf_init(&names, 0);
			for (k = 0; k < fd.n && k < LOOKUP_MAX_CANDIDATES; k++)
				(void)buf_printf(&names, "%s%s", k ? ", " : "",
				    fd.ids[k]);
			err_set(e, ERR_FAIL, "certname '%s' is ambiguous: %zu "
			    "instances match %s (%s%s)", certname, fd.n,
			    lookup_filter_name(order[i]),
			    names.data ? names.data : "",
			    fd.n > LOOKUP_MAX_CANDIDATES ? ", ..." : "");
			buf_free(&names);
			rc = ERR_FAIL;
			goto out;
		}
	}
	rc = err_set(e, ERR_NOTFOUND, "no running EC2 instance matches "
	    "certname '%s'", certname);
out:
	found_clear(&fd);
	return rc;
}

struct live {
	struct ec2 *c;
	struct ec2_filter *f;	/* f[0]: the strategy's; then the scope */
	size_t nf;
};

static int
live_source(void *src, enum lookup_strategy s, const char *const *vals,
    size_t nv, awsxml_instance_fn fn, void *ctx, struct err *e)
{
	struct live *l = src;

	l->f[0] = (struct ec2_filter){ lookup_filter_name(s), vals, nv };
	return ec2_describe_instances(l->c, l->f, l->nf, fn, ctx, e);
}

int
lookup_live(struct ec2 *c, const enum lookup_strategy *order, size_t n,
    const struct ec2_filter *scope, size_t nscope, const char *certname,
    struct instance **out, struct err *e)
{
	struct live l;
	int rc;

	*out = NULL;
	l.c = c;
	l.nf = nscope + 1;
	if ((l.f = calloc(l.nf, sizeof(*l.f))) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	if (nscope > 0)
		memcpy(l.f + 1, scope, nscope * sizeof(*l.f));
	rc = lookup_find(live_source, &l, order, n, certname, out, e);
	free(l.f);
	return rc;
}
