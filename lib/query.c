/* query: sign, send and retry one Query API call; its AWS errors, parsed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsxml.h"
#include "query.h"
#include "sigv4.h"

/* Codes AWS documents as transient. */
static const char *const retryable_codes[] = {
	"RequestLimitExceeded", "Throttling", "ThrottlingException",
	"InternalError", "InternalFailure", "ServiceUnavailable",
	"Unavailable", "RequestTimeout", NULL
};

static void
trace(const struct query_target *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
trace(const struct query_target *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (t->log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	t->log(t->log_ctx, line);
}

int
query_param(struct buf *b, const char *k, const char *v)
{
	if ((b->len > 0 && buf_putc(b, '&') == -1) ||
	    sigv4_uri_encode(b, k, strlen(k), 0) == -1 ||
	    buf_putc(b, '=') == -1 ||
	    sigv4_uri_encode(b, v, strlen(v), 0) == -1)
		return -1;
	return 0;
}

/* Signs and sends one request with cr. */
static enum http_status
send_signed(const struct query_target *t, struct http *http,
    const struct creds *cr, time_t now, const struct buf *body,
    struct http_response *r, struct err *e)
{
	static const char ctype[] = "application/x-www-form-urlencoded; "
	    "charset=utf-8";
	struct sigv4_header sh[4];
	struct http_header hh[5];
	struct sigv4_request req;
	struct sigv4_scope scope;
	struct buf authz;
	char date[17];
	size_t n = 0, i;
	enum http_status st = HTTP_PERMANENT;

	sigv4_amz_date(now, date);
	sh[n++] = (struct sigv4_header){ "Content-Type", ctype };
	sh[n++] = (struct sigv4_header){ "Host", t->host };
	sh[n++] = (struct sigv4_header){ "X-Amz-Date", date };
	if (cr->session_token != NULL)
		sh[n++] = (struct sigv4_header){ "X-Amz-Security-Token",
		    cr->session_token };
	req = (struct sigv4_request){ "POST", t->path, NULL, sh, n,
	    body->data, body->len };
	scope = (struct sigv4_scope){ date, t->region, t->service };
	buf_init(&authz, 0);
	if (sigv4_sign(&req, cr->access_key, cr->secret_key, &scope,
	    &authz) == -1) {
		err_set(e, ERR_FAIL, "cannot sign the request");
		goto out;
	}
	for (i = 0; i < n; i++)
		hh[i] = (struct http_header){ sh[i].name, sh[i].value };
	hh[n++] = (struct http_header){ "Authorization", authz.data };
	st = http_request(http, "POST", t->url, hh, n, body->data, body->len,
	    r, e);
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

/* Fills e from an AWS error document in r ("LABEL: CODE: message") and
 * sets *again when that code (or the status) is worth retrying. Returns
 * 0, or -1 when the body is not an error document (e is left alone). */
static int
error_document(const struct query_target *t, const struct http_response *r,
    struct err *e, int *again)
{
	char *code = NULL, *msg = NULL;

	if (awsxml_error(r->body.data ? r->body.data : "", r->body.len,
	    &code, &msg) == -1)
		return -1;
	err_set(e, ERR_UNAVAILABLE, "%s: %s: %s", t->label, code, msg);
	*again = retryable(r->status, code);
	free(code);
	free(msg);
	return 0;
}

int
query_call(const struct query_target *t, struct http *http,
    query_creds_fn creds, void *creds_ctx, const struct buf *body,
    query_parse_fn parse, void *parse_ctx, long long deadline_ms, int secret,
    struct query_stats *st, struct err *e)
{
	const struct creds *cr;
	struct http_response r;
	enum http_status hs;
	time_t now;
	long delay;
	int attempt, again, rc;

	http_response_init(&r, 0);
	r.body.secret = secret;
	for (attempt = 1; ; attempt++) {
		now = t->now ? t->now() : time(NULL);
		if ((rc = creds(creds_ctx, now, &cr, e)) != 0)
			goto out;
		st->attempt_ms = retry_now_ms();
		st->requests++;
		hs = send_signed(t, http, cr, now, body, &r, e);
		if (hs == HTTP_OK && r.status == 200) {
			/* An error document inside a 200 is still an error;
			 * anything else keeps the parser's message. */
			if ((rc = parse(&r, parse_ctx, e)) == ERR_UNAVAILABLE)
				(void)error_document(t, &r, e, &again);
			goto out;
		}
		if (hs == HTTP_OK) {
			if (error_document(t, &r, e, &again) == -1) {
				err_set(e, ERR_UNAVAILABLE, "%s: HTTP %ld without "
				    "an AWS error document", t->label, r.status);
				again = retryable(r.status, NULL);
			}
			trace(t, "%s %s: HTTP %ld: %s", t->action, t->region,
			    r.status, e->msg);
		} else {
			again = hs == HTTP_TRANSIENT;
			trace(t, "%s %s: %s", t->action, t->region, e->msg);
		}
		if (!again)
			break;
		if (attempt >= t->retry.max_attempts) {
			err_prefix(e, "giving up after %d attempts", attempt);
			break;
		}
		delay = retry_delay_ms(&t->retry, attempt, retry_random());
		if (retry_now_ms() + delay >= deadline_ms) {
			err_prefix(e, "giving up after %d attempts (deadline "
			    "of %ld ms)", attempt, t->retry.deadline_ms);
			break;
		}
		st->retries++;
		trace(t, "retrying in %ld ms (attempt %d of %d)", delay,
		    attempt + 1, t->retry.max_attempts);
		retry_sleep_ms(delay);
	}
	if (e->code == ERR_OK)
		err_set(e, ERR_UNAVAILABLE, "%s request failed", t->label);
	rc = e->code;
out:
	if (secret)
		buf_wipe(&r.body);
	http_response_free(&r);
	return rc;
}
