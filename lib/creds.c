/* creds: resolve credentials in the standard order, refresh the temporary ones. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "creds.h"
#include "jsonio.h"
#include "profile.h"
#include "sts.h"
#include "util.h"

struct creds_chain {
	const struct settings *s;
	struct imds *imds;
	char *profile;		/* creds_chain_new_profile: that profile only */
	char session[32];	/* the default RoleSessionName */
	struct creds cur;
	int have;
};

static struct creds_chain *
chain_new(const struct settings *s, const char *profile, struct imds *imds,
    struct err *e)
{
	struct creds_chain *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		return NULL;
	}
	c->s = s;
	c->imds = imds;
	(void)snprintf(c->session, sizeof(c->session), "ec2-classify-%ld",
	    (long)getpid());
	if (profile != NULL && (c->profile = strdup(profile)) == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		free(c);
		return NULL;
	}
	return c;
}

struct creds_chain *
creds_chain_new(const struct settings *s, struct imds *imds, struct err *e)
{
	return chain_new(s, NULL, imds, e);
}

struct creds_chain *
creds_chain_new_profile(const struct settings *s, const char *name,
    struct imds *imds, struct err *e)
{
	if (name == NULL || *name == '\0') {
		err_set(e, ERR_USAGE, "empty profile name");
		return NULL;
	}
	return chain_new(s, name, imds, e);
}

void
creds_clear(struct creds *cr)
{
	if (cr == NULL)
		return;
	util_free_secret(cr->access_key);
	util_free_secret(cr->secret_key);
	util_free_secret(cr->session_token);
	memset(cr, 0, sizeof(*cr));
}

void
creds_chain_free(struct creds_chain *c)
{
	if (c == NULL)
		return;
	creds_clear(&c->cur);
	free(c->profile);
	free(c);
}

static int
set(struct creds *cr, const char *ak, const char *sk, const char *tok,
    const char *source, struct err *e)
{
	creds_clear(cr);
	cr->access_key = strdup(ak);
	cr->secret_key = strdup(sk);
	cr->session_token = util_strdup(tok);
	cr->source = source;
	if (cr->access_key == NULL || cr->secret_key == NULL ||
	    (tok != NULL && cr->session_token == NULL))
		return err_set(e, ERR_FAIL, "out of memory");
	return 0;
}

time_t
creds_parse_expiration(const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end == '.')	/* fractional seconds */
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
		return -1;
	return timegm(&tm);
}

static int
from_imds(struct imds *imds, struct creds *out, struct err *e)
{
	static const char *const keys[] = { "Code", "AccessKeyId",
	    "SecretAccessKey", "Token", "Expiration" };
	char *role = NULL, *doc = NULL, *v[5] = { NULL };
	struct buf path;
	time_t exp;
	size_t i;
	int rc;

	buf_init(&path, 0);
	if ((rc = imds_get(imds, "meta-data/iam/security-credentials/",
	    &role, e)) != 0)
		goto out;
	util_trim(role);
	if (*role == '\0' || strchr(role, '\n') != NULL ||
	    strchr(role, '/') != NULL) {
		rc = err_set(e, ERR_UNAVAILABLE, "instance metadata service: "
		    "no single instance-profile role attached");
		goto out;
	}
	if (buf_printf(&path, "meta-data/iam/security-credentials/%s",
	    role) == -1) {
		rc = err_set(e, ERR_FAIL, "out of memory");
		goto out;
	}
	if ((rc = imds_get(imds, path.data, &doc, e)) != 0)
		goto out;
	if ((rc = jsonio_get_strings(doc, strlen(doc), keys, v, 5, e)) != 0) {
		err_prefix(e, "instance metadata credentials");
		goto out;
	}
	if (v[0] == NULL || strcmp(v[0], "Success") != 0 || v[1] == NULL ||
	    v[2] == NULL || v[4] == NULL ||
	    (exp = creds_parse_expiration(v[4])) == -1) {
		rc = err_set(e, ERR_UNAVAILABLE, "instance metadata credentials "
		    "for role '%s' are incomplete (Code %s)", role,
		    v[0] ? v[0] : "missing");
		goto out;
	}
	if ((rc = set(out, v[1], v[2], v[3], "instance profile", e)) != 0)
		goto out;
	out->expiration = exp;
out:
	for (i = 0; i < 5; i++)
		util_free_secret(v[i]);
	util_free_secret(doc);
	free(role);
	buf_free(&path);
	return rc;
}

static void
say(const struct creds_net *net, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct creds_net *net, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (net == NULL || net->log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	net->log(net->log_ctx, line);
}

/* The credentials a role chain starts from. */
static int
chain_source(struct creds_chain *c, const char *name,
    const struct profile_chain *pc, struct creds *out, struct err *e)
{
	const struct settings *s = c->s;

	switch (pc->source) {
	case PROFILE_SOURCE_KEYS:
		return set(out, pc->access_key, pc->secret_key,
		    pc->session_token, "profile", e);
	case PROFILE_SOURCE_ENV:
		if (s->env_access_key == NULL || s->env_secret_key == NULL)
			return err_set(e, ERR_USAGE, "profile '%s': "
			    "credential_source Environment, but "
			    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are "
			    "not both set", name);
		return set(out, s->env_access_key, s->env_secret_key,
		    s->env_session_token, "environment", e);
	case PROFILE_SOURCE_IMDS:
		if (c->imds == NULL)
			return err_set(e, ERR_USAGE, "profile '%s': "
			    "credential_source Ec2InstanceMetadata, but the "
			    "metadata service is disabled", name);
		if (from_imds(c->imds, out, e) != 0)
			return err_prefix(e, "profile '%s'", name);
		return 0;
	case PROFILE_SOURCE_NONE:
		break;
	}
	return err_set(e, ERR_USAGE, "profile '%s' has no credentials", name);
}

/* Assumes pc's roles in order, starting from src (cleared). */
static int
assume_roles(struct creds_chain *c, const char *name,
    const struct profile_chain *pc, struct creds *src,
    const struct creds_net *net, struct creds *out, struct err *e)
{
	const struct profile_role *r;
	struct sts_opts o;
	struct sts_assume a;
	struct creds next;
	size_t i;
	int rc = 0;

	if (net == NULL || net->http == NULL)
		return err_set(e, ERR_FAIL, "profile '%s': no HTTP client to "
		    "call STS with", name);
	o = (struct sts_opts){ c->s->sts_endpoint, net->region, net->http,
	    net->retry, net->now, net->log, net->log_ctx };
	if (o.region == NULL)
		o.region = c->s->region;
	if (o.region == NULL)
		return err_set(e, ERR_USAGE, "profile '%s': no region to call "
		    "STS in", name);
	for (i = 0; i < pc->nroles; i++) {
		r = &pc->roles[i];
		a = (struct sts_assume){ r->role_arn, r->session_name ?
		    r->session_name : c->session, r->external_id,
		    r->duration };
		if (o.endpoint != NULL)
			say(net, "AssumeRole %s for profile '%s' (%zu of %zu) "
			    "with %s credentials, at %s (from %s)", r->role_arn,
			    r->profile, i + 1, pc->nroles, src->source,
			    o.endpoint, c->s->sts_endpoint_source);
		else
			say(net, "AssumeRole %s for profile '%s' (%zu of %zu) "
			    "with %s credentials, at https://sts.%s."
			    "amazonaws.com", r->role_arn, r->profile, i + 1,
			    pc->nroles, src->source, o.region);
		rc = sts_assume_role(&o, src, &a, &next, e);
		creds_clear(src);
		if (rc != 0) {
			err_prefix(e, "profile '%s'", r->profile);
			break;
		}
		*src = next;
	}
	if (rc == 0) {
		*out = *src;
		memset(src, 0, sizeof(*src));
	}
	return rc;
}

/* Profile name's own credentials: its role chain or its keys. */
static int
from_profile(struct creds_chain *c, const char *name,
    const struct creds_net *net, struct err *e)
{
	const struct settings *s = c->s;
	struct profile_chain pc;
	struct creds src = { 0 };
	int rc;

	if ((rc = profile_chain_load(s->creds_file, s->config_file, name, &pc,
	    e)) != 0)
		return rc;
	if ((rc = chain_source(c, name, &pc, &src, e)) == 0) {
		if (pc.nroles == 0) {
			creds_clear(&c->cur);
			c->cur = src;
			memset(&src, 0, sizeof(src));
		} else {
			creds_clear(&c->cur);
			rc = assume_roles(c, name, &pc, &src, net, &c->cur, e);
		}
	}
	creds_clear(&src);
	profile_chain_cleanup(&pc);
	return rc;
}

static int
resolve(struct creds_chain *c, const struct creds_net *net, struct err *e)
{
	const struct settings *s = c->s;
	const struct profile *p = &s->prof;

	if (c->profile != NULL)
		return from_profile(c, c->profile, net, e);
	if (s->env_access_key != NULL || s->env_secret_key != NULL) {
		if (s->env_access_key == NULL || s->env_secret_key == NULL)
			return err_set(e, ERR_USAGE, "%s is set but %s is not",
			    s->env_access_key ? "AWS_ACCESS_KEY_ID" :
			    "AWS_SECRET_ACCESS_KEY", s->env_access_key ?
			    "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		/* A role profile asked for by name is what the user wants;
		 * the environment's keys may be its credential_source. */
		if (!(p->role_arn != NULL && s->profile_explicit))
			return set(&c->cur, s->env_access_key,
			    s->env_secret_key, s->env_session_token,
			    "environment", e);
	}
	if (p->role_arn != NULL)
		return from_profile(c, s->profile, net, e);
	if (p->access_key != NULL || p->secret_key != NULL) {
		if (p->access_key == NULL || p->secret_key == NULL)
			return err_set(e, ERR_USAGE, "profile '%s' has only one of "
			    "aws_access_key_id and aws_secret_access_key",
			    s->profile);
		return set(&c->cur, p->access_key, p->secret_key,
		    p->session_token, "profile", e);
	}
	if (s->profile_explicit)
		return err_set(e, ERR_USAGE, "profile '%s' has no credentials",
		    s->profile);
	if (c->imds == NULL)
		return err_set(e, ERR_USAGE, "no AWS credentials: set "
		    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile in %s, "
		    "or run on an instance with a role (metadata service "
		    "disabled)", s->creds_file ? s->creds_file :
		    "~/.aws/credentials");
	return from_imds(c->imds, &c->cur, e);
}

int
creds_get(struct creds_chain *c, time_t now, const struct creds_net *net,
    const struct creds **out, struct err *e)
{
	int rc;

	*out = NULL;
	if (!c->have || (c->cur.expiration != 0 &&
	    now >= c->cur.expiration - CREDS_REFRESH_MARGIN)) {
		c->have = 0;
		if ((rc = resolve(c, net, e)) != 0) {
			creds_clear(&c->cur);
			return rc;
		}
		c->have = 1;
	}
	*out = &c->cur;
	return 0;
}
