/* sts: AssumeRole over the STS Query API, signed with the source's keys. */
#ifndef STS_H
#define STS_H

#include <time.h>

#include "creds.h"
#include "err.h"
#include "http.h"
#include "retry.h"

#define STS_API_VERSION "2011-06-15"

struct sts_opts {
	const char *endpoint;		/* NULL: https://sts.REGION.amazonaws.com */
	const char *region;		/* signing region (and the endpoint's) */
	struct http *http;		/* borrowed */
	struct retry_policy retry;
	time_t (*now)(void);		/* clock for signing; NULL: time() */
	creds_log_fn log;		/* may be NULL */
	void *log_ctx;
};

struct sts_assume {
	const char *role_arn;
	const char *session_name;
	const char *external_id;	/* NULL: none */
	int duration;			/* seconds; 0: STS's default */
};

/* Assumes a->role_arn with the source credentials src: POST Action=
 * AssumeRole to the endpoint, SigV4 for service "sts", throttling, 5xx
 * and transport errors retried per o->retry. Fills out (creds_clear it)
 * with the role's temporary credentials, source "assumed role". Returns 0;
 * ERR_UNAVAILABLE "STS AssumeRole ARN: CODE: message" for an STS error
 * (AccessDenied, InvalidClientTokenId, ExpiredToken, throttling that
 * outlived the retries), an unreachable endpoint, or an answer that is not
 * an AssumeRoleResponse with every credential field; ERR_USAGE for an
 * endpoint that is not a URL. The answer's buffers are wiped. */
int sts_assume_role(const struct sts_opts *o, const struct creds *src,
    const struct sts_assume *a, struct creds *out, struct err *e);

#endif
