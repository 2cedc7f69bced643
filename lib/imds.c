/* imds: IMDSv2 session token, then authenticated GETs. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imds.h"
#include "retry.h"
#include "util.h"

#define IMDS_TOKEN_TTL "21600"
#define IMDS_MAX_BODY (64 * 1024)
#define IMDS_ATTEMPTS 2

struct imds {
	struct http *http;
	char *endpoint;
	char *token;
};

struct imds *
imds_new(const char *endpoint, const char *ca_bundle, struct err *e)
{
	struct http_opts o = { 1000, 2000, IMDS_MAX_BODY, ca_bundle };
	struct imds *m;
	size_t n;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->endpoint = strdup(endpoint)) == NULL) {
		imds_free(m);
		err_set(e, ERR_FAIL, "out of memory");
		return NULL;
	}
	n = strlen(m->endpoint);
	while (n > 0 && m->endpoint[n - 1] == '/')
		m->endpoint[--n] = '\0';
	if ((m->http = http_new(&o, e)) == NULL) {
		imds_free(m);
		return NULL;
	}
	return m;
}

void
imds_free(struct imds *m)
{
	if (m == NULL)
		return;
	http_free(m->http);
	util_free_secret(m->token);
	free(m->endpoint);
	free(m);
}

/* One request with a retry on transport errors. */
static int
exchange(struct imds *m, const char *method, const char *path,
    const struct http_header *h, size_t nh, struct http_response *r,
    struct err *e)
{
	struct buf url;
	enum http_status st = HTTP_PERMANENT;
	int i;

	buf_init(&url, 0);
	if (buf_printf(&url, "%s%s", m->endpoint, path) == -1)
		return err_set(e, ERR_FAIL, "out of memory");
	for (i = 0; i < IMDS_ATTEMPTS; i++) {
		st = http_request(m->http, method, url.data, h, nh, NULL, 0, r,
		    e);
		if (st != HTTP_TRANSIENT && !(st == HTTP_OK && r->status >= 500))
			break;
		if (st == HTTP_OK)
			err_set(e, ERR_UNAVAILABLE, "HTTP %ld", r->status);
		if (i + 1 < IMDS_ATTEMPTS)
			retry_sleep_ms(100);
	}
	buf_free(&url);
	if (st != HTTP_OK || r->status >= 500)
		return err_prefix(e, "instance metadata service");
	return 0;
}

static int
fetch_token(struct imds *m, struct err *e)
{
	const struct http_header h[] = {
		{ "X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL },
	};
	struct http_response r;
	int rc;

	http_response_init(&r, IMDS_MAX_BODY);
	if ((rc = exchange(m, "PUT", "/latest/api/token", h, 1, &r, e)) != 0)
		goto out;
	if (r.status != 200 || r.body.len == 0) {
		rc = err_set(e, ERR_UNAVAILABLE, "instance metadata service "
		    "refused a session token (HTTP %ld); IMDSv2 is required",
		    r.status);
		goto out;
	}
	util_free_secret(m->token);
	m->token = util_strdup(util_trim(r.body.data));
	rc = m->token ? 0 : err_set(e, ERR_FAIL, "out of memory");
out:
	buf_wipe(&r.body);
	return rc;
}

int
imds_get(struct imds *m, const char *path, char **out, struct err *e)
{
	struct http_header h = { "X-aws-ec2-metadata-token", NULL };
	struct http_response r;
	struct buf p;
	int rc, tries;

	*out = NULL;
	buf_init(&p, 0);
	http_response_init(&r, IMDS_MAX_BODY);
	if (buf_printf(&p, "/latest/%s", path) == -1) {
		rc = err_set(e, ERR_FAIL, "out of memory");
		goto out;
	}
	for (tries = 0; tries < 2; tries++) {
		if (m->token == NULL && (rc = fetch_token(m, e)) != 0)
			goto out;
		h.value = m->token;
		if ((rc = exchange(m, "GET", p.data, &h, 1, &r, e)) != 0)
			goto out;
		if (r.status != 401)
			break;
		util_free_secret(m->token);	/* expired: get a new one */
		m->token = NULL;
	}
	if (r.status != 200) {
		rc = err_set(e, ERR_UNAVAILABLE, "instance metadata service: "
		    "%s: HTTP %ld", p.data, r.status);
		goto out;
	}
	if ((*out = buf_steal(&r.body)) == NULL)
		rc = err_set(e, ERR_FAIL, "out of memory");
out:
	buf_free(&p);
	buf_wipe(&r.body);
	return rc;
}
