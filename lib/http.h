/* http: one HTTP exchange over libcurl, with timeouts and a body cap. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct http_opts {
	long connect_timeout_ms;	/* 0: 5000 */
	long timeout_ms;		/* whole exchange; 0: 20000 */
	size_t max_body;		/* 0: HTTP_MAX_BODY */
	const char *ca_bundle;		/* NULL: system store */
};

#define HTTP_MAX_BODY (16u * 1024 * 1024)

struct http_header {
	const char *name;
	const char *value;
};

struct http_response {
	long status;
	struct buf body;
};

/* What went wrong below HTTP, so callers can decide whether to retry. */
enum http_status {
	HTTP_OK = 0,		/* an HTTP answer arrived (any status) */
	HTTP_TRANSIENT,		/* refused, reset, timed out, truncated */
	HTTP_PERMANENT		/* bad URL, TLS verification, body over cap */
};

struct http;

/* A reusable client (keeps connections alive between requests).
 * Returns NULL and fills e on failure. Free with http_free. */
struct http *http_new(const struct http_opts *o, struct err *e);
void http_free(struct http *h);

/* Initialises/frees a response; http_response_free accepts NULL. */
void http_response_init(struct http_response *r, size_t cap);
void http_response_free(struct http_response *r);

/* Sends one request. body may be NULL for none. On HTTP_OK resp holds the
 * status and body; otherwise e says what failed (code ERR_UNAVAILABLE). */
enum http_status http_request(struct http *h, const char *method,
    const char *url, const struct http_header *hdrs, size_t nhdrs,
    const void *body, size_t body_len, struct http_response *resp,
    struct err *e);

/* Splits url into the Host header value (host[:port], port only when
 * given) and the path ("/" when empty). Returns 0, or -1 with e filled for
 * a URL that is not http(s)://host[:port][/path]. Caller frees both. */
int http_url_parts(const char *url, char **host, char **path, struct err *e);

#endif
