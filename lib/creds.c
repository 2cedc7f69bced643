/* creds: resolve credentials in the standard order, refresh the temporary ones. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "creds.h"
#include "jsonio.h"
#include "util.h"

struct creds_chain {
	const struct settings *s;
	struct imds *imds;
	struct creds cur;
	int have;
};

struct creds_chain *
creds_chain_new(const struct settings *s, struct imds *imds, struct err *e)
{
	struct creds_chain *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		return NULL;
	}
	c->s = s;
	c->imds = imds;
	return c;
}

static void
clear(struct creds *cr)
{
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
	clear(&c->cur);
	free(c);
}

static int
set(struct creds *cr, const char *ak, const char *sk, const char *tok,
    const char *source, struct err *e)
{
	clear(cr);
	cr->access_key = strdup(ak);
	cr->secret_key = strdup(sk);
	cr->session_token = util_strdup(tok);
	cr->source = source;
	if (cr->access_key == NULL || cr->secret_key == NULL ||
	    (tok != NULL && cr->session_token == NULL))
		return err_set(e, ERR_FAIL, "out of memory");
	return 0;
}

/* "2026-11-22T05:00:00Z" -> seconds since the epoch, or -1. */
static time_t
parse_expiration(const char *s)
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
from_imds(struct creds_chain *c, struct err *e)
{
	static const char *const keys[] = { "Code", "AccessKeyId",
	    "SecretAccessKey", "Token", "Expiration" };
	char *role = NULL, *doc = NULL, *v[5] = { NULL };
	struct buf path;
	time_t exp;
	size_t i;
	int rc;

	buf_init(&path, 0);
	if ((rc = imds_get(c->imds, "meta-data/iam/security-credentials/",
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
	if ((rc = imds_get(c->imds, path.data, &doc, e)) != 0)
		goto out;
	if ((rc = jsonio_get_strings(doc, strlen(doc), keys, v, 5, e)) != 0) {
		err_prefix(e, "instance metadata credentials");
		goto out;
	}
	if (v[0] == NULL || strcmp(v[0], "Success") != 0 || v[1] == NULL ||
	    v[2] == NULL || v[4] == NULL ||
	    (exp = parse_expiration(v[4])) == -1) {
		rc = err_set(e, ERR_UNAVAILABLE, "instance metadata credentials "
		    "for role '%s' are incomplete (Code %s)", role,
		    v[0] ? v[0] : "missing");
		goto out;
	}
	if ((rc = set(&c->cur, v[1], v[2], v[3], "instance profile", e)) != 0)
		goto out;
	c->cur.expiration = exp;
out:
	for (i = 0; i < 5; i++)
		util_free_secret(v[i]);
	util_free_secret(doc);
	free(role);
	buf_free(&path);
	return rc;
}

static int
resolve(struct creds_chain *c, struct err *e)
{
	const struct settings *s = c->s;
	const struct profile *p = &s->prof;

	if (s->env_access_key != NULL || s->env_secret_key != NULL) {
		if (s->env_access_key == NULL || s->env_secret_key == NULL)
			return err_set(e, ERR_USAGE, "%s is set but %s is not",
			    s->env_access_key ? "AWS_ACCESS_KEY_ID" :
			    "AWS_SECRET_ACCESS_KEY", s->env_access_key ?
			    "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return set(&c->cur, s->env_access_key, s->env_secret_key,
		    s->env_session_token, "environment", e);
	}
	if (p->role_arn != NULL)
		return err_set(e, ERR_USAGE, "profile '%s' uses role_arn, which "
		    "this version does not support", s->profile);
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
	return from_imds(c, e);
}

int
creds_get(struct creds_chain *c, time_t now, const struct creds **out,
    struct err *e)
{
	int rc;

	*out = NULL;
	if (!c->have || (c->cur.expiration != 0 &&
	    now >= c->cur.expiration - CREDS_REFRESH_MARGIN)) {
		c->have = 0;
		if ((rc = resolve(c, e)) != 0)
			return rc;
		c->have = 1;
	}
	*out = &c->cur;
	return 0;
}
