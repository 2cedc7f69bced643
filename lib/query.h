/* query: one AWS Query API call (signed form POST, retries), for ec2 and sts. */
#ifndef QUERY_H
#define QUERY_H

#include <time.h>

#include "buf.h"
#include "creds.h"
#include "err.h"
#include "http.h"
#include "retry.h"

/* One trace line for -v; never carries a secret. */
typedef void (*query_log_fn)(void *ctx, const char *line);

/* Where a call goes and how it is signed, retried and traced. Every
 * string is borrowed. */
struct query_target {
	const char *url;		/* the endpoint */
	const char *host, *path;	/* its parts (http_url_parts) */
	const char *region;		/* signing region */
	const char *service;		/* signing name: "ec2", "sts" */
	const char *label;		/* errors: "LABEL: CODE: message" */
	const char *action;		/* traces: "ACTION REGION: ..." */
	struct retry_policy retry;
	time_t (*now)(void);		/* wall clock for signing; NULL: time() */
	query_log_fn log;		/* may be NULL */
	void *log_ctx;
};

struct query_stats {
	unsigned requests;		/* sent, retries included */
	unsigned retries;
	long long attempt_ms;		/* retry_now_ms() as the last began */
};

/* The credentials to sign one attempt with, borrowed until the next call.
 * Returns 0 or an ERR_* code with e filled (not retried). */
typedef int (*query_creds_fn)(void *ctx, time_t now,
    const struct creds **out, struct err *e);

/* Reads a 200 answer. Returns 0 or an ERR_* code with e filled; on
 * ERR_UNAVAILABLE an AWS error document in the body replaces e. */
typedef int (*query_parse_fn)(const struct http_response *r, void *ctx,
    struct err *e);

/* POSTs the form body to t, signed with SigV4 (content-type, host,
 * x-amz-date, and x-amz-security-token with temporary credentials), and
 * hands a 200 answer to parse. Throttling, 5xx and transport errors are
 * retried per t->retry until deadline_ms (retry_now_ms() time); other AWS
 * errors are not and come back as ERR_UNAVAILABLE "LABEL: CODE: message".
 * secret: the answer carries credentials (its buffer is wiped). Counts
 * into st. Returns 0, the parser's code, or an ERR_* code with e filled. */
int query_call(const struct query_target *t, struct http *http,
    query_creds_fn creds, void *creds_ctx, const struct buf *body,
    query_parse_fn parse, void *parse_ctx, long long deadline_ms, int secret,
    struct query_stats *st, struct err *e);

/* Appends "k=v" to a form body ("&" first when it is not empty), both
 * percent-encoded. Returns 0 or -1 (out of memory). */
int query_param(struct buf *b, const char *k, const char *v);

#endif
