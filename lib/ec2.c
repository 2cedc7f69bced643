/* ec2: the DescribeInstances client: form body, SigV4, retries, pages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ec2.h"
#include "query.h"
#include "sigv4.h"
#include "util.h"

struct ec2 {
	struct ec2_opts o;
	char *endpoint, *region, *host, *path;
	struct http *http;
	struct creds_chain *creds;
	struct query_target t;
	struct query_stats q;
	struct ec2_stats stats;
};

struct ec2 *
ec2_new(const struct ec2_opts *o, struct http *http,
    struct creds_chain *creds, struct err *e)
{
	struct ec2 *c;

	if (sigv4_init(e) != 0)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		return NULL;
	}
	c->o = *o;
	c->http = http;
	c->creds = creds;
	c->endpoint = util_strdup(o->endpoint);
	c->region = util_strdup(o->region);
	if (c->endpoint == NULL || c->region == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		ec2_free(c);
		return NULL;
	}
	if (http_url_parts(c->endpoint, &c->host, &c->path, e) == -1) {
		ec2_free(c);
		return NULL;
	}
	c->o.endpoint = c->endpoint;
	c->o.region = c->region;
	c->t = (struct query_target){ c->endpoint, c->host, c->path,
	    c->region, "ec2", "EC2", "DescribeInstances", o->retry, o->now,
	    o->log, o->log_ctx };
	return c;
}

void
ec2_free(struct ec2 *c)
{
	if (c == NULL)
		return;
	free(c->endpoint);
	free(c->region);
	free(c->host);
	free(c->path);
	free(c);
}

const struct ec2_stats *
ec2_stats(const struct ec2 *c)
{
	return &c->stats;
}

static void
trace(struct ec2 *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
trace(struct ec2 *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (c->o.log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->o.log(c->o.log_ctx, line);
}

static int
form_body(struct buf *b, const struct ec2_filter *f, size_t nf,
    const char *token)
{
	char k[64];
	size_t i, j;

	if (query_param(b, "Action", "DescribeInstances") == -1 ||
	    query_param(b, "Version", EC2_API_VERSION) == -1 ||
	    query_param(b, "MaxResults", EC2_MAX_RESULTS) == -1)
		return -1;
	for (i = 0; i < nf; i++) {
		(void)snprintf(k, sizeof(k), "Filter.%zu.Name", i + 1);
		if (query_param(b, k, f[i].name) == -1)
			return -1;
		for (j = 0; j < f[i].nvalues; j++) {
			(void)snprintf(k, sizeof(k), "Filter.%zu.Value.%zu",
			    i + 1, j + 1);
			if (query_param(b, k, f[i].values[j]) == -1)
				return -1;
		}
	}
	if (token != NULL && query_param(b, "NextToken", token) == -1)
		return -1;
	return 0;
}

struct page_ctx {
	awsxml_instance_fn fn;
	void *ctx;
	struct ec2 *c;
	char **token;		/* where the page's next token goes */
};

static int
page_filter(const struct instance *in, void *arg, struct err *e)
{
	struct page_ctx *p = arg;

	if (strcmp(in->state, "terminated") == 0 ||
	    strcmp(in->state, "shutting-down") == 0)
		return 0;
	p->c->stats.instances++;
	return p->fn(in, p->ctx, e);
}

/* The credentials for one attempt: the chain may call STS for a role, in
 * this client's region, through its HTTP client. */
static int
sign_creds(void *arg, time_t now, const struct creds **out, struct err *e)
{
	struct ec2 *c = arg;
	struct creds_net net = { c->http, c->region, c->o.retry, c->o.now,
	    c->o.log, c->o.log_ctx };

	return creds_get(c->creds, now, &net, out, e);
}

static int
parse_page(const struct http_response *r, void *arg, struct err *e)
{
	struct page_ctx *pc = arg;
	struct ec2 *c = pc->c;
	size_t count;
	int rc;

	rc = awsxml_describe_instances(r->body.data, r->body.len, c->region,
	    page_filter, pc, pc->token, &count, e);
	if (rc == 0) {
		c->stats.pages++;
		trace(c, "DescribeInstances %s: page %u, HTTP 200, %zu "
		    "instances, %zu bytes, %lld ms", c->region, c->stats.pages,
		    count, r->body.len, retry_now_ms() - c->q.attempt_ms);
	}
	return rc;
}

/* One page, with retries. On success *token is the next token or NULL. */
static int
fetch_page(struct ec2 *c, const struct buf *body, struct page_ctx *pc,
    char **token, long long deadline, struct err *e)
{
	int rc;

	pc->token = token;
	rc = query_call(&c->t, c->http, sign_creds, c, body, parse_page, pc,
	    deadline, 0, &c->q, e);
	c->stats.requests = c->q.requests;
	c->stats.retries = c->q.retries;
	return rc;
}

int
ec2_describe_instances(struct ec2 *c, const struct ec2_filter *filters,
    size_t nfilters, awsxml_instance_fn fn, void *ctx, struct err *e)
{
	struct page_ctx pc = { fn, ctx, c, NULL };
	struct buf body;
	char *token = NULL, *next = NULL;
	long long deadline = retry_now_ms() + c->o.retry.deadline_ms;
	int rc;

	buf_init(&body, 0);
	trace(c, "DescribeInstances %s at %s", c->region, c->endpoint);
	do {
		buf_reset(&body);
		if (form_body(&body, filters, nfilters, token) == -1) {
			rc = err_set(e, ERR_FAIL, "out of memory");
			break;
		}
		next = NULL;
		rc = fetch_page(c, &body, &pc, &next, deadline, e);
		if (rc == 0 && next != NULL && token != NULL &&
		    strcmp(next, token) == 0)
			rc = err_set(e, ERR_UNAVAILABLE, "EC2 answered the same "
			    "NextToken twice; stopping");
		free(token);
		token = next;
	} while (rc == 0 && token != NULL);
	free(token);
	buf_free(&body);
	return rc;
}
