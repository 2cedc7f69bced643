/* profile: one named profile from the AWS shared credentials and config files. */
#ifndef PROFILE_H
#define PROFILE_H

#include "err.h"

/* Each field malloc'd or NULL when not set. */
struct profile {
	char *access_key;
	char *secret_key;
	char *session_token;
	char *region;
	char *role_arn;
	char *source_profile;
	int found;		/* the profile has a section in either file */
};

/* Reads profile `name` from the credentials file ([name]) and the config
 * file ([profile name], or [default]); the credentials file wins for keys
 * in both. A missing file is not an error; an unreadable one is
 * (ERR_USAGE, "FILE: reason"). Either path may be NULL. */
int profile_load(const char *creds_path, const char *config_path,
    const char *name, struct profile *p, struct err *e);

/* Frees and wipes the fields; p may be NULL. */
void profile_cleanup(struct profile *p);

#endif
