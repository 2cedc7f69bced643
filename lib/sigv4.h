/* sigv4: AWS Signature Version 4 as pure stages; time and keys are inputs. */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

/* Loads libcrypto (at first use, see dynload.h); every other sigv4_
 * function needs it done. Returns 0 or ERR_FAIL with e filled. */
int sigv4_init(struct err *e);

struct sigv4_header {
	const char *name;
	const char *value;
};

/* What is signed. path and query are raw (not yet percent-encoded; existing
 * %XX escapes in query are decoded first). Headers are the ones to sign, in
 * any order and case; a name given twice has its values joined by ','. */
struct sigv4_request {
	const char *method;
	const char *path;
	const char *query;		/* without '?'; NULL or "" for none */
	const struct sigv4_header *headers;
	size_t nheaders;
	const void *payload;
	size_t payload_len;
};

/* amz_date is "YYYYMMDDTHHMMSSZ"; the scope date is its first 8 chars. */
struct sigv4_scope {
	const char *amz_date;
	const char *region;
	const char *service;
};

/* Stage 1. Fills creq with the canonical request and signed_headers with
 * "a;b;c". Returns 0, or -1 on allocation failure or a malformed input. */
int sigv4_canonical_request(const struct sigv4_request *req, struct buf *creq,
    struct buf *signed_headers);

/* Stage 2. The string to sign for a canonical request. */
int sigv4_string_to_sign(const struct sigv4_scope *scope, const char *creq,
    size_t creq_len, struct buf *sts);

/* Stage 3. The hex signature (64 chars + NUL) of a string to sign.
 * The derived key is wiped before returning. */
int sigv4_signature(const char *secret_key, const struct sigv4_scope *scope,
    const char *sts, size_t sts_len, char sig[65]);

/* Stage 4. The Authorization header value. */
int sigv4_authorization(const char *access_key, const struct sigv4_scope *scope,
    const char *signed_headers, const char *sig, struct buf *out);

/* All four stages: fills authz with the Authorization header value. */
int sigv4_sign(const struct sigv4_request *req, const char *access_key,
    const char *secret_key, const struct sigv4_scope *scope, struct buf *authz);

/* Appends s[0..n) percent-encoded per RFC 3986 (unreserved kept; '/'
 * kept when keep_slash). Returns 0 or -1. */
int sigv4_uri_encode(struct buf *out, const char *s, size_t n, int keep_slash);

/* Lowercase hex SHA-256 of data into out (65 bytes). */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* Formats t as an X-Amz-Date value ("20150830T123600Z"). */
void sigv4_amz_date(time_t t, char out[17]);

#endif
