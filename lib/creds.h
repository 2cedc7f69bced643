/* creds: the AWS credential chain (environment, shared files, roles, IMDS). */
#ifndef CREDS_H
#define CREDS_H

#include <time.h>

#include "err.h"
#include "http.h"
#include "imds.h"
#include "retry.h"
#include "settings.h"

struct creds {
	char *access_key;
	char *secret_key;
	char *session_token;	/* NULL when none */
	time_t expiration;	/* 0 when they do not expire */
	const char *source;	/* "environment", "profile", "instance
				 * profile", "assumed role" */
};

/* Frees and wipes the strings of cr and zeroes it; cr may be NULL. */
void creds_clear(struct creds *cr);

/* An Expiration ("2026-11-22T05:00:00Z", fractional seconds and "+00:00"
 * allowed) as seconds since the epoch, or -1. */
time_t creds_parse_expiration(const char *s);

/* Refetch temporary credentials (instance profile, assumed role) this
 * long before they expire. */
#define CREDS_REFRESH_MARGIN 300

/* One trace line for -v; never carries a secret. */
typedef void (*creds_log_fn)(void *ctx, const char *line);

/* What a chain may use to fetch role credentials (STS AssumeRole) when
 * the caller needs credentials for a request: the caller's HTTP client,
 * the request's region (STS is called in it, once per chain: the role's
 * credentials then serve every region), retry policy and trace. */
struct creds_net {
	struct http *http;
	const char *region;
	struct retry_policy retry;
	time_t (*now)(void);		/* clock for signing; NULL: time() */
	creds_log_fn log;		/* may be NULL */
	void *log_ctx;
};

struct creds_chain;

/* The default chain over settings s (borrowed, must outlive the chain)
 * and imds (may be NULL when disabled; borrowed): environment keys; a
 * role_arn profile (see profile_chain_load) when s->profile names one,
 * before the environment keys when the profile was named explicitly
 * (--profile, the config, AWS_PROFILE); the profile's keys; an explicit
 * profile without any is an error; else the instance profile. */
struct creds_chain *creds_chain_new(const struct settings *s, struct imds *imds,
    struct err *e);

/* A chain for profile `name` alone (copied): its role or its keys, never
 * the environment's keys or the instance profile (except as a role's
 * credential_source). Any number of them may live in one process; each
 * resolves, caches, refreshes and wipes its own credentials. Loading the
 * profile waits for the first creds_get. */
struct creds_chain *creds_chain_new_profile(const struct settings *s,
    const char *name, struct imds *imds, struct err *e);

/* Frees and wipes; c may be NULL. */
void creds_chain_free(struct creds_chain *c);

/* The current credentials, resolved on first use and refreshed when
 * within CREDS_REFRESH_MARGIN of their expiration at `now`. *out is
 * borrowed until the next call or creds_chain_free. net may be NULL when
 * no role is involved (a role then fails with ERR_FAIL). Returns 0,
 * ERR_USAGE (nothing configured; a partial key pair; a bad role profile
 * or a source_profile cycle, before any request), or ERR_UNAVAILABLE
 * (IMDS failed; STS refused or could not be reached: the message names
 * the profile and the role ARN). */
int creds_get(struct creds_chain *c, time_t now, const struct creds_net *net,
    const struct creds **out, struct err *e);

#endif
