/* imds: the EC2 instance metadata service, IMDSv2 only (session tokens). */
#ifndef IMDS_H
#define IMDS_H

#include "err.h"
#include "http.h"

struct imds;

/* A client for the metadata service at endpoint (e.g.
 * "http://169.254.169.254"), using its own short timeouts. NULL on
 * failure with e filled. */
struct imds *imds_new(const char *endpoint, const char *ca_bundle,
    struct err *e);
/* Frees and wipes the session token; m may be NULL. */
void imds_free(struct imds *m);

/* GETs /latest/PATH (e.g. "meta-data/instance-id") with a session token,
 * fetched on first use and again after a 401. *out is malloc'd and
 * NUL-terminated. A service that refuses tokens (IMDSv1 only) is an error:
 * no fallback to unauthenticated requests. Returns 0 or ERR_UNAVAILABLE. */
int imds_get(struct imds *m, const char *path, char **out, struct err *e);

#endif
