/* ec2: the DescribeInstances client: form body, SigV4, retries, pages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ec2.h"
#include "sigv4.h"
#include "util.h"

struct ec2 {
	struct ec2_opts o;
	char *endpoint, *region, *host, *path;
	struct http *http;
	struct creds_chain *creds;
	struct ec2_stats stats;
};

/* Codes AWS documents as transient. */
static const char *const retryable_codes[] = {
	"RequestLimitExceeded", "Throttling", "ThrottlingException",
	"InternalError", "InternalFailure", "ServiceUnavailable",
	"Unavailable", "RequestTimeout", NULL
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
param(struct buf *b, const char *k, const char *v)
{
	if ((b->len > 0 && buf_putc(b, '&') == -1) ||
	    sigv4_uri_encode(b, k, strlen(k), 0) == -1 ||
	    buf_putc(b, '=') == -1 ||
	    sigv4_uri_encode(b, v, strlen(v), 0) == -1)
		return -1;
	return 0;
}

static int
form_body(struct buf *b, const struct ec2_filter *f, size_t nf,
    const char *token)
{
	char k[64];
	size_t i, j;

	if (param(b, "Action", "DescribeInstances") == -1 ||
	    param(b, "Version", EC2_API_VERSION) == -1 ||
	    param(b, "MaxResults", EC2_MAX_RESULTS) == -1)
		return -1;
	for (i = 0; i < nf; i++) {
		(void)snprintf(k, sizeof(k), "Filter.%zu.Name", i + 1);
		if (param(b, k, f[i].name) == -1)
			return -1;
		for (j = 0; j < f[i].nvalues; j++) {
			(void)snprintf(k, sizeof(k), "Filter.%zu.Value.%zu",
			    i + 1, j + 1);
			if (param(b, k, f[i].values[j]) == -1)
				return -1;
		}
	}
	if (token != NULL && param(b, "NextToken", token) == -1)
		return -1;
	return 0;
}

/* Signs and sends one request. */
static enum http_status
send_signed(struct ec2 *c, const struct buf *body, struct http_response *r,
    struct err *e)
{
	static const char ctype[] = "application/x-www-form-urlencoded; "
	    "charset=utf-8";
	const struct creds *cr;
	struct sigv4_header sh[4];
	struct http_header hh[5];
	struct sigv4_request req;
	struct sigv4_scope scope;
	struct buf authz;
	char date[17];
	size_t n = 0, i;
	enum http_status st = HTTP_PERMANENT;
	time_t now = c->o.now ? c->o.now() : time(NULL);

	if (creds_get(c->creds, now, &cr, e) != 0)
		return HTTP_PERMANENT;
	sigv4_amz_date(now, date);
	sh[n++] = (struct sigv4_header){ "Content-Type", ctype };
	sh[n++] = (struct sigv4_header){ "Host", c->host };
	sh[n++] = (struct sigv4_header){ "X-Amz-Date", date };
	if (cr->session_token != NULL)
		sh[n++] = (struct sigv4_header){ "X-Amz-Security-Token",
		    cr->session_token };
	req = (struct sigv4_request){ "POST", c->path, NULL, sh, n,
	    body->data, body->len };
	scope = (struct sigv4_scope){ date, c->region, "ec2" };
	buf_init(&authz, 0);
	if (sigv4_sign(&req, cr->access_key, cr->secret_key, &scope,
	    &authz) == -1) {
		err_set(e, ERR_FAIL, "cannot sign the request");
		goto out;
	}
	for (i = 0; i < n; i++)
		hh[i] = (struct http_header){ sh[i].name, sh[i].value };
	hh[n++] = (struct http_header){ "Authorization", authz.data };
	c->stats.requests++;
	st = http_request(c->http, "POST", c->endpoint, hh, n, body->data,
	    body->len, r, e);
out:
	buf_wipe(&authz);
	return st;
}

static int
retryable(long status, const char *code)
{
	size_t i;

	if (status >= 500)
		return 1;
	for (i = 0; code != NULL && retryable_codes[i] != NULL; i++)
		if (strcmp(code, retryable_codes[i]) == 0)
			return 1;
	return 0;
}

/* Fills e from an AWS error document in r ("EC2: CODE: message") and sets
 * *again when that code (or the status) is worth retrying. Returns 0, or
 * -1 when the body is not an error document (e is then left alone). */
static int
error_document(const struct http_response *r, struct err *e, int *again)
{
	char *code = NULL, *msg = NULL;

	if (awsxml_error(r->body.data ? r->body.data : "", r->body.len,
	    &code, &msg) == -1)
		return -1;
	err_set(e, ERR_UNAVAILABLE, "EC2: %s: %s", code, msg);
	*again = retryable(r->status, code);
	free(code);
	free(msg);
	return 0;
}

struct page_ctx {
	awsxml_instance_fn fn;
	void *ctx;
	struct ec2 *c;
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

/* One page, with retries. On success *token is the next token or NULL. */
static int
fetch_page(struct ec2 *c, const struct buf *body, struct page_ctx *pc,
    char **token, long long deadline, struct err *e)
{
	struct http_response r;
	enum http_status st;
	long long t0;
	long delay;
	size_t count;
	int attempt, again, rc = ERR_UNAVAILABLE;

	http_response_init(&r, 0);
	for (attempt = 1; ; attempt++) {
		t0 = retry_now_ms();
		st = send_signed(c, body, &r, e);
		if (st == HTTP_OK && r.status == 200) {
			rc = awsxml_describe_instances(r.body.data, r.body.len,
			    c->region, page_filter, pc, token, &count, e);
			if (rc == 0) {
				c->stats.pages++;
				trace(c, "DescribeInstances %s: page %u, HTTP 200, "
				    "%zu instances, %zu bytes, %lld ms", c->region,
				    c->stats.pages, count, r.body.len,
				    retry_now_ms() - t0);
				goto out;
			}
			/* An error document inside a 200 is still an error;
			 * anything else keeps the parser's message. */
			if (rc == ERR_UNAVAILABLE)
				(void)error_document(&r, e, &again);
			goto out;
		}
		if (st == HTTP_OK) {
			if (error_document(&r, e, &again) == -1) {
				err_set(e, ERR_UNAVAILABLE, "EC2: HTTP %ld without "
				    "an AWS error document", r.status);
				again = retryable(r.status, NULL);
			}
			trace(c, "DescribeInstances %s: HTTP %ld: %s", c->region,
			    r.status, e->msg);
		} else {
			again = st == HTTP_TRANSIENT;
			trace(c, "DescribeInstances %s: %s", c->region, e->msg);
		}
		if (!again)
			goto fail;
		if (attempt >= c->o.retry.max_attempts) {
			err_prefix(e, "giving up after %d attempts", attempt);
			goto fail;
		}
		delay = retry_delay_ms(&c->o.retry, attempt, retry_random());
		if (retry_now_ms() + delay >= deadline) {
			err_prefix(e, "giving up after %d attempts (deadline "
			    "of %ld ms)", attempt, c->o.retry.deadline_ms);
			goto fail;
		}
		c->stats.retries++;
		trace(c, "retrying in %ld ms (attempt %d of %d)", delay,
		    attempt + 1, c->o.retry.max_attempts);
		retry_sleep_ms(delay);
	}
fail:
	if (e->code == ERR_OK)
		err_set(e, ERR_UNAVAILABLE, "EC2 request failed");
	rc = e->code;
out:
	http_response_free(&r);
	return rc;
}

int
ec2_describe_instances(struct ec2 *c, const struct ec2_filter *filters,
    size_t nfilters, awsxml_instance_fn fn, void *ctx, struct err *e)
{
	struct page_ctx pc = { fn, ctx, c };
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
