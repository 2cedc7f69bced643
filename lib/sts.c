/* sts: AssumeRole: the form, one signed Query API call, the credentials. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsxml.h"
#include "buf.h"
#include "query.h"
#include "sigv4.h"
#include "sts.h"
#include "util.h"

struct call {
	const struct creds *src;
	struct creds *out;
};

static int
source_creds(void *arg, time_t now, const struct creds **out, struct err *e)
{
	struct call *c = arg;

	(void)now;
	(void)e;
	*out = c->src;
	return 0;
}

static int
parse_answer(const struct http_response *r, void *arg, struct err *e)
{
	struct call *c = arg;
	char *exp = NULL;
	time_t t;
	int rc;

	rc = awsxml_assume_role(r->body.data ? r->body.data : "", r->body.len,
	    &c->out->access_key, &c->out->secret_key, &c->out->session_token,
	    &exp, e);
	if (rc == 0 && (t = creds_parse_expiration(exp)) == -1)
		rc = err_set(e, ERR_UNAVAILABLE, "AssumeRoleResponse: "
		    "Expiration '%s' is not a UTC time", exp);
	if (rc != 0) {
		creds_clear(c->out);
		free(exp);
		return rc;
	}
	c->out->expiration = t;
	c->out->source = "assumed role";
	free(exp);
	return 0;
}

static int
form(struct buf *b, const struct sts_assume *a)
{
	char d[16];

	if (query_param(b, "Action", "AssumeRole") == -1 ||
	    query_param(b, "Version", STS_API_VERSION) == -1 ||
	    query_param(b, "RoleArn", a->role_arn) == -1 ||
	    query_param(b, "RoleSessionName", a->session_name) == -1)
		return -1;
	if (a->external_id != NULL &&
	    query_param(b, "ExternalId", a->external_id) == -1)
		return -1;
	if (a->duration > 0) {
		(void)snprintf(d, sizeof(d), "%d", a->duration);
		if (query_param(b, "DurationSeconds", d) == -1)
			return -1;
	}
	return 0;
}

int
sts_assume_role(const struct sts_opts *o, const struct creds *src,
    const struct sts_assume *a, struct creds *out, struct err *e)
{
	struct query_target t;
	struct query_stats st = { 0 };
	struct call c = { src, out };
	struct buf url, label, body;
	char *host = NULL, *path = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&url, 0);
	buf_init(&label, 0);
	buf_init_secret(&body, 0);	/* ExternalId */
	if ((o->endpoint != NULL ? buf_puts(&url, o->endpoint) :
	    buf_printf(&url, "https://sts.%s.amazonaws.com", o->region)) == -1 ||
	    buf_printf(&label, "STS AssumeRole %s", a->role_arn) == -1 ||
	    form(&body, a) == -1) {
		rc = err_set(e, ERR_FAIL, "out of memory");
		goto out;
	}
	if ((rc = sigv4_init(e)) != 0)
		goto out;
	if (http_url_parts(url.data, &host, &path, e) == -1) {
		rc = e->code;
		goto out;
	}
	t = (struct query_target){ url.data, host, path, o->region, "sts",
	    label.data, "AssumeRole", o->retry, o->now, o->log, o->log_ctx };
	if ((rc = query_call(&t, o->http, source_creds, &c, &body,
	    parse_answer, &c, retry_now_ms() + o->retry.deadline_ms, 1, &st,
	    e)) != 0) {
		if (strstr(e->msg, label.data) == NULL)
			err_prefix(e, "%s", label.data);
		creds_clear(out);
	}
out:
	free(host);
	free(path);
	buf_free(&url);
	buf_free(&label);
	buf_wipe(&body);
	return rc;
}
