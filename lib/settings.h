/* settings: where AWS access comes from (CLI, config, environment, profile). */
#ifndef SETTINGS_H
#define SETTINGS_H

#include "err.h"
#include "profile.h"

/* Looks up an environment variable; main passes getenv, tests a table. */
typedef char *(*settings_env_fn)(const char *name);

/* Values from the command line and, below them, the config file. */
struct settings_in {
	const char *region, *cfg_region;
	const char *profile, *cfg_profile;
	const char *endpoint, *cfg_endpoint;
};

/* Everything resolved; every string malloc'd or NULL. */
struct settings {
	char *profile;			/* never NULL after load */
	int profile_explicit;		/* named by --profile/config/AWS_PROFILE */
	char *creds_file, *config_file;
	struct profile prof;		/* the profile's keys */
	char *region;			/* NULL: ask IMDS (settings_set_region) */
	const char *region_source;	/* static text, for -v */
	char *endpoint;			/* EC2 endpoint; NULL until region known */
	const char *endpoint_source;
	char *endpoint_override;	/* from CLI/config/env, or NULL */
	char *sts_endpoint;		/* AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL,
					 * or NULL: the region's */
	const char *sts_endpoint_source;
	char *imds_endpoint;
	int imds_disabled;
	char *ca_bundle;
	char *env_access_key, *env_secret_key, *env_session_token;
};

/* Resolves everything that needs no network. Returns 0 or an ERR_* code
 * with e filled (unreadable shared file, unknown explicit profile). */
int settings_load(struct settings *s, const struct settings_in *in,
    settings_env_fn env, struct err *e);

/* Sets the region (from IMDS, say) and derives the endpoint if needed. */
int settings_set_region(struct settings *s, const char *region,
    const char *source, struct err *e);

/* Frees and wipes; s may be NULL. */
void settings_cleanup(struct settings *s);

#endif
