/* profile: named profiles from the AWS shared credentials and config files. */
#ifndef PROFILE_H
#define PROFILE_H

#include <stddef.h>

#include "err.h"

/* Each field malloc'd or NULL when not set. */
struct profile {
	char *access_key;
	char *secret_key;
	char *session_token;
	char *region;
	char *role_arn;
	char *source_profile;
	char *credential_source;
	char *external_id;
	char *role_session_name;
	char *duration_seconds;
	char *mfa_serial;
	int found;		/* the profile has a section in either file */
};

/* Reads profile `name` from the credentials file ([name]) and the config
 * file ([profile name], or [default]); the credentials file wins for keys
 * in both. A missing file is not an error; an unreadable one is
 * (ERR_USAGE, "FILE: reason"). Either path may be NULL. The files' bytes
 * are wiped once parsed. */
int profile_load(const char *creds_path, const char *config_path,
    const char *name, struct profile *p, struct err *e);

/* Frees and wipes the fields; p may be NULL. */
void profile_cleanup(struct profile *p);

/* ---- Role chains: what a profile's credentials are made from. */

/* How deep role_arn/source_profile may chain (hops of AssumeRole). */
#define PROFILE_MAX_ROLES 5

enum profile_source {
	PROFILE_SOURCE_NONE,	/* neither keys nor a role: not for us */
	PROFILE_SOURCE_KEYS,	/* a profile's static keys */
	PROFILE_SOURCE_ENV,	/* credential_source = Environment */
	PROFILE_SOURCE_IMDS	/* credential_source = Ec2InstanceMetadata */
};

/* One AssumeRole: the profile that asks for it and its parameters. */
struct profile_role {
	char *profile;
	char *role_arn;
	char *external_id;	/* NULL: none */
	char *session_name;	/* NULL: the caller's default */
	int duration;		/* seconds; 0: STS's default */
};

/* The plan for a profile's credentials: the source, then roles[0..nroles)
 * assumed in that order, each with the credentials of the one before
 * (roles[0] with the source's); the last is the profile's own role. */
struct profile_chain {
	enum profile_source source;
	char *keys_profile;	/* KEYS: the profile holding them */
	char *access_key, *secret_key, *session_token;	/* KEYS */
	struct profile_role roles[PROFILE_MAX_ROLES];
	size_t nroles;		/* 0: the profile's own static keys */
};

/* Resolves the plan for profile `name` the way the AWS CLI does: its
 * role_arn wins over its own keys; a source_profile's keys win over that
 * profile's role_arn, which otherwise chains (at most PROFILE_MAX_ROLES
 * roles); source_profile may name the profile itself when it holds keys.
 * A profile that does not exist, a cycle, source_profile together with
 * credential_source (or neither, with role_arn), an unknown
 * credential_source, mfa_serial, a duration_seconds outside 900..43200,
 * an invalid role_session_name, half a key pair: ERR_USAGE naming the
 * profile. A profile with neither keys nor role_arn gives source NONE.
 * No network use. c is cleaned up on failure. */
int profile_chain_load(const char *creds_path, const char *config_path,
    const char *name, struct profile_chain *c, struct err *e);

/* Frees and wipes; c may be NULL. */
void profile_chain_cleanup(struct profile_chain *c);

#endif
