/* profile: the INI-style AWS shared files (credentials and config). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int
read_file(const char *path, struct buf *b, int *missing, struct err *e)
{
	FILE *f;
	char chunk[4096];
	size_t n;

	*missing = 0;
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*missing = 1;
			return 0;
		}
		return err_set(e, ERR_USAGE, "%s: %s", path, strerror(errno));
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) == -1) {
			fclose(f);
			util_wipe(chunk, sizeof(chunk));
			return err_set(e, ERR_USAGE, "%s: larger than %d bytes",
			    path, PROFILE_MAX_FILE);
		}
	util_wipe(chunk, sizeof(chunk));
	if (ferror(f)) {
		fclose(f);
		return err_set(e, ERR_USAGE, "%s: read error", path);
	}
	fclose(f);
	return 0;
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
	buf_init(&b, PROFILE_MAX_FILE);
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
