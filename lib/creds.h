/* creds: the AWS credential chain (environment, shared files, IMDS role). */
#ifndef CREDS_H
#define CREDS_H

#include <time.h>

#include "err.h"
#include "imds.h"
#include "settings.h"

struct creds {
	char *access_key;
	char *secret_key;
	char *session_token;	/* NULL when none */
	time_t expiration;	/* 0 when they do not expire */
	const char *source;	/* "environment", "profile", "instance profile" */
};

/* Refetch instance-profile credentials this long before they expire. */
#define CREDS_REFRESH_MARGIN 300

struct creds_chain;

/* A chain over settings s (borrowed, must outlive the chain) and imds (may
 * be NULL when disabled; borrowed). */
struct creds_chain *creds_chain_new(const struct settings *s, struct imds *imds,
    struct err *e);
/* Frees and wipes; c may be NULL. */
void creds_chain_free(struct creds_chain *c);

/* The current credentials, resolved on first use and refreshed when
 * within CREDS_REFRESH_MARGIN of their expiration at `now`. *out is
 * borrowed until the next call. Returns 0, ERR_USAGE (nothing configured
 * anywhere; a partial key pair) or ERR_UNAVAILABLE (IMDS failed). */
int creds_get(struct creds_chain *c, time_t now, const struct creds **out,
    struct err *e);

#endif
