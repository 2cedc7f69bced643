/* profile: the INI-style AWS shared files (credentials and config). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "profile.h"
#include "util.h"

#define PROFILE_MAX_FILE (1024 * 1024)

static const struct {
	const char *key;
	size_t offset;
} keys[] = {
	{ "aws_access_key_id", offsetof(struct profile, access_key) },
	{ "aws_secret_access_key", offsetof(struct profile, secret_key) },
	{ "aws_session_token", offsetof(struct profile, session_token) },
	{ "region", offsetof(struct profile, region) },
	{ "role_arn", offsetof(struct profile, role_arn) },
	{ "source_profile", offsetof(struct profile, source_profile) },
	{ "credential_source", offsetof(struct profile, credential_source) },
	{ "external_id", offsetof(struct profile, external_id) },
	{ "role_session_name", offsetof(struct profile, role_session_name) },
	{ "duration_seconds", offsetof(struct profile, duration_seconds) },
	{ "mfa_serial", offsetof(struct profile, mfa_serial) },
};

/* Does the section header text (between brackets, trimmed) name the profile? */
static int
section_matches(const char *sect, const char *name, int config_file)
{
	if (!config_file)
		return strcmp(sect, name) == 0;
	if (strcmp(name, "default") == 0 && strcmp(sect, "default") == 0)
		return 1;
	if (strncmp(sect, "profile", 7) != 0 ||
	    (sect[7] != ' ' && sect[7] != '\t'))
		return 0;
	sect += 7;
	while (*sect == ' ' || *sect == '\t')
		sect++;
	return strcmp(sect, name) == 0;
}

/* Reads the whole file into b with read(2): no stdio buffer is left
 * holding the keys, and b wipes what it outgrows. */
static int
read_file(const char *path, struct buf *b, int *missing, struct err *e)
{
	char chunk[4096];
	ssize_t n;
	int fd, rc = 0;

	*missing = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*missing = 1;
			return 0;
		}
		return err_set(e, ERR_USAGE, "%s: %s", path, strerror(errno));
	}
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			rc = err_set(e, ERR_USAGE, "%s: %s", path,
			    strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (buf_append(b, chunk, (size_t)n) == -1) {
			rc = err_set(e, ERR_USAGE, "%s: larger than %d bytes",
			    path, PROFILE_MAX_FILE);
			break;
		}
	}
	util_wipe(chunk, sizeof(chunk));
	close(fd);
	return rc;
}

static int
parse(const char *path, char *text, const char *name, int config_file,
    struct profile *p, struct err *e)
{
	char *line, *next, *eq, *k, *v, *close;
	char **field;
	int in = 0, lineno = 0;
	size_t i;

	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == ' ' || line[0] == '\t') {
			/* continuation of a nested value (s3 = ...): ignore */
			continue;
		}
		util_trim(line);
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			if ((close = strchr(line, ']')) == NULL)
				return err_set(e, ERR_USAGE, "%s:%d: section "
				    "header without ']'", path, lineno);
			*close = '\0';
			in = section_matches(util_trim(line + 1), name,
			    config_file);
			if (in)
				p->found = 1;
			continue;
		}
		if (!in)
			continue;
		if ((eq = strchr(line, '=')) == NULL)
			return err_set(e, ERR_USAGE, "%s:%d: expected "
			    "'key = value'", path, lineno);
		*eq = '\0';
		k = util_trim(line);
		v = util_trim(eq + 1);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strcmp(k, keys[i].key) != 0)
				continue;
			field = (char **)((char *)p + keys[i].offset);
			if (*field != NULL)	/* first file read wins */
				break;
			if ((*field = strdup(v)) == NULL)
				return err_set(e, ERR_FAIL, "out of memory");
			break;
		}
	}
	return 0;
}

static int
load_one(const char *path, const char *name, int config_file,
    struct profile *p, struct err *e)
{
	struct buf b;
	int missing, rc;

	if (path == NULL)
		return 0;
	buf_init_secret(&b, PROFILE_MAX_FILE);
	rc = read_file(path, &b, &missing, e);
	if (rc == 0 && !missing && b.data != NULL)
		rc = parse(path, b.data, name, config_file, p, e);
	buf_wipe(&b);
	return rc;
}

int
profile_load(const char *creds_path, const char *config_path,
    const char *name, struct profile *p, struct err *e)
{
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = load_one(creds_path, name, 0, p, e)) != 0 ||
	    (rc = load_one(config_path, name, 1, p, e)) != 0)
		profile_cleanup(p);
	return rc;
}

void
profile_cleanup(struct profile *p)
{
	size_t i;
	char **field;

	if (p == NULL)
		return;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		field = (char **)((char *)p + keys[i].offset);
		util_free_secret(*field);
		*field = NULL;
	}
	p->found = 0;
}

/* ---- Role chains */

/* RoleSessionName: [\w+=,.@-]{2,64} */
static int
valid_session_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 2 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("_+=,.@-", s[i])))
			return 0;
	return 1;
}

/* 1: both keys, 0: neither, -1 (e filled): only one of them. */
static int
has_keys(const struct profile *p, const char *name, struct err *e)
{
	if (p->access_key == NULL && p->secret_key == NULL)
		return 0;
	if (p->access_key == NULL || p->secret_key == NULL) {
		err_set(e, ERR_USAGE, "profile '%s' has only one of "
		    "aws_access_key_id and aws_secret_access_key", name);
		return -1;
	}
	return 1;
}

static int
take_keys(struct profile_chain *c, const char *name, struct profile *p,
    struct err *e)
{
	c->source = PROFILE_SOURCE_KEYS;
	c->keys_profile = strdup(name);
	c->access_key = p->access_key;
	c->secret_key = p->secret_key;
	c->session_token = p->session_token;
	p->access_key = p->secret_key = p->session_token = NULL;
	if (c->keys_profile == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	return 0;
}

/* Checks role profile `name` and appends its AssumeRole to c. */
static int
add_role(struct profile_chain *c, const char *name, struct profile *p,
    struct err *e)
{
	struct profile_role *r;
	char *end;
	long d = 0;

	if (c->nroles == PROFILE_MAX_ROLES)
		return err_set(e, ERR_USAGE, "profile '%s': role chain longer "
		    "than %d (source_profile after source_profile)", c->roles[0].profile,
		    PROFILE_MAX_ROLES);
	if (strncmp(p->role_arn, "arn:", 4) != 0 ||
	    strstr(p->role_arn, ":role/") == NULL)
		return err_set(e, ERR_USAGE, "profile '%s': role_arn '%s' is "
		    "not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)", name,
		    p->role_arn);
	if (p->mfa_serial != NULL)
		return err_set(e, ERR_USAGE, "profile '%s': mfa_serial needs a "
		    "code typed in, which a classifier run by Puppet or cron "
		    "cannot do", name);
	if (p->source_profile != NULL && p->credential_source != NULL)
		return err_set(e, ERR_USAGE, "profile '%s' has both "
		    "source_profile and credential_source; keep one", name);
	if (p->source_profile == NULL && p->credential_source == NULL)
		return err_set(e, ERR_USAGE, "profile '%s' has role_arn but "
		    "neither source_profile nor credential_source", name);
	if (p->duration_seconds != NULL) {
		d = strtol(p->duration_seconds, &end, 10);
		if (*p->duration_seconds < '0' || *p->duration_seconds > '9' ||
		    *end != '\0' || d < 900 || d > 43200)
			return err_set(e, ERR_USAGE, "profile '%s': "
			    "duration_seconds '%s' is not a whole number of "
			    "seconds from 900 to 43200", name,
			    p->duration_seconds);
	}
	if (p->role_session_name != NULL &&
	    !valid_session_name(p->role_session_name))
		return err_set(e, ERR_USAGE, "profile '%s': role_session_name "
		    "'%s' is not 2 to 64 of A-Z a-z 0-9 _+=,.@-", name,
		    p->role_session_name);
	r = &c->roles[c->nroles++];
	r->profile = strdup(name);
	r->role_arn = p->role_arn;
	r->external_id = p->external_id;
	r->session_name = p->role_session_name;
	p->role_arn = p->external_id = p->role_session_name = NULL;
	r->duration = (int)d;
	if (r->profile == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	return 0;
}

static int
credential_source(struct profile_chain *c, const char *name,
    const char *src, struct err *e)
{
	if (strcmp(src, "Environment") == 0)
		c->source = PROFILE_SOURCE_ENV;
	else if (strcmp(src, "Ec2InstanceMetadata") == 0)
		c->source = PROFILE_SOURCE_IMDS;
	else if (strcmp(src, "EcsContainer") == 0)
		return err_set(e, ERR_USAGE, "profile '%s': credential_source "
		    "EcsContainer is not supported (Environment or "
		    "Ec2InstanceMetadata)", name);
	else
		return err_set(e, ERR_USAGE, "profile '%s': credential_source "
		    "'%s' is not Environment, Ec2InstanceMetadata or "
		    "EcsContainer", name, src);
	return 0;
}

/* "a -> b -> a" into out, for the cycle message. */
static void
chain_text(const struct profile_chain *c, const char *last, char *out,
    size_t size)
{
	size_t i, n = 0;
	int w;

	out[0] = '\0';
	for (i = 0; i < c->nroles && n < size; i++) {
		w = snprintf(out + n, size - n, "%s -> ", c->roles[i].profile);
		n += w > 0 ? (size_t)w : 0;
	}
	if (n < size)
		(void)snprintf(out + n, size - n, "%s", last);
}

/* Loads profile name into p; a missing one is an error naming who asked. */
static int
load_needed(const char *creds_path, const char *config_path,
    const char *name, const char *asker, struct profile *p, struct err *e)
{
	int rc;

	if ((rc = profile_load(creds_path, config_path, name, p, e)) != 0)
		return rc;
	if (p->found)
		return 0;
	if (asker != NULL)
		return err_set(e, ERR_USAGE, "profile '%s': source_profile "
		    "'%s' not found in %s or %s", asker, name,
		    creds_path ? creds_path : "(no credentials file)",
		    config_path ? config_path : "(no config file)");
	return err_set(e, ERR_USAGE, "profile '%s' not found in %s or %s",
	    name, creds_path ? creds_path : "(no credentials file)",
	    config_path ? config_path : "(no config file)");
}

static int
walk(const char *creds_path, const char *config_path, const char *name,
    struct profile_chain *c, struct err *e)
{
	struct profile p;
	char *cur = NULL, *asker = NULL, path[300];
	size_t i;
	int keys, rc;

	memset(&p, 0, sizeof(p));
	if ((cur = strdup(name)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	for (;;) {
		if ((rc = load_needed(creds_path, config_path, cur, asker, &p,
		    e)) != 0)
			break;
		if ((keys = has_keys(&p, cur, e)) == -1) {
			rc = ERR_USAGE;
			break;
		}
		/* A source profile's keys win over its own role_arn; the
		 * named profile's role_arn wins over its keys. */
		if ((keys && asker != NULL) || (p.role_arn == NULL && keys)) {
			rc = take_keys(c, cur, &p, e);
			break;
		}
		if (p.role_arn == NULL) {
			if (asker != NULL)
				rc = err_set(e, ERR_USAGE, "profile '%s': "
				    "source_profile '%s' has neither keys nor "
				    "role_arn", asker, cur);
			break;	/* the named profile: source NONE */
		}
		if ((rc = add_role(c, cur, &p, e)) != 0)
			break;
		if (p.credential_source != NULL) {
			rc = credential_source(c, cur, p.credential_source, e);
			break;
		}
		if (strcmp(p.source_profile, cur) == 0) {
			if (keys) {
				rc = take_keys(c, cur, &p, e);
				break;
			}
		} else {
			for (i = 0; i < c->nroles; i++)
				if (strcmp(c->roles[i].profile,
				    p.source_profile) == 0)
					break;
			if (i == c->nroles) {
				free(asker);
				asker = cur;
				cur = p.source_profile;
				p.source_profile = NULL;
				profile_cleanup(&p);
				continue;
			}
		}
		chain_text(c, p.source_profile, path, sizeof(path));
		rc = err_set(e, ERR_USAGE, "profile '%s': source_profile cycle "
		    "%s", c->roles[0].profile, path);
		break;
	}
	profile_cleanup(&p);
	free(cur);
	free(asker);
	return rc;
}

int
profile_chain_load(const char *creds_path, const char *config_path,
    const char *name, struct profile_chain *c, struct err *e)
{
	struct profile_role t;
	size_t i;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = walk(creds_path, config_path, name, c, e)) != 0) {
		profile_chain_cleanup(c);
		return rc;
	}
	/* found from the named profile down; assumed from the source up */
	for (i = 0; i < c->nroles / 2; i++) {
		t = c->roles[i];
		c->roles[i] = c->roles[c->nroles - 1 - i];
		c->roles[c->nroles - 1 - i] = t;
	}
	return 0;
}

void
profile_chain_cleanup(struct profile_chain *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nroles; i++) {
		free(c->roles[i].profile);
		free(c->roles[i].role_arn);
		util_free_secret(c->roles[i].external_id);
		free(c->roles[i].session_name);
	}
	free(c->keys_profile);
	util_free_secret(c->access_key);
	util_free_secret(c->secret_key);
	util_free_secret(c->session_token);
	memset(c, 0, sizeof(*c));
}
