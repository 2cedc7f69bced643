/* settings: the one layer that reads the environment for AWS access. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "settings.h"
#include "util.h"

static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* The first non-empty of a list of candidates, with its source's name. */
struct pick {
	const char *value;
	const char *source;
};

static const struct pick *
first(const struct pick *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (nonempty(p[i].value) != NULL)
			return &p[i];
	return NULL;
}

static char *
home_path(settings_env_fn env, const char *rel)
{
	struct buf b;
	const char *home = nonempty(env("HOME"));

	if (home == NULL)
		return NULL;
	buf_init(&b, 0);
	if (buf_printf(&b, "%s/%s", home, rel) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int
valid_region(const char *r)
{
	size_t i;

	if (*r == '\0' || strlen(r) > 64)
		return 0;
	for (i = 0; r[i]; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' &&
		    r[i] <= '9') || r[i] == '-'))
			return 0;
	return 1;
}

int
settings_set_region(struct settings *s, const char *region,
    const char *source, struct err *e)
{
	struct buf b;

	if (!valid_region(region))
		return err_set(e, ERR_USAGE, "invalid region '%s' (from %s)",
		    region, source);
	free(s->region);
	if ((s->region = strdup(region)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	s->region_source = source;
	if (s->endpoint_override != NULL)
		return 0;
	buf_init(&b, 0);
	if (buf_printf(&b, "https://ec2.%s.amazonaws.com", region) == -1)
		return err_set(e, ERR_FAIL, "out of memory");
	free(s->endpoint);
	s->endpoint = buf_steal(&b);
	s->endpoint_source = "the region";
	return 0;
}

int
settings_load(struct settings *s, const struct settings_in *in,
    settings_env_fn env, struct err *e)
{
	const struct pick *p;
	const char *v;
	int rc;

	memset(s, 0, sizeof(*s));
	{
		const struct pick prof[] = {
			{ in->profile, "--profile" },
			{ in->cfg_profile, "the config file" },
			{ env("AWS_PROFILE"), "AWS_PROFILE" },
		};
		p = first(prof, 3);
		s->profile = strdup(p ? p->value : "default");
		s->profile_explicit = p != NULL;
	}
	v = nonempty(env("AWS_SHARED_CREDENTIALS_FILE"));
	s->creds_file = v ? strdup(v) : home_path(env, ".aws/credentials");
	v = nonempty(env("AWS_CONFIG_FILE"));
	s->config_file = v ? strdup(v) : home_path(env, ".aws/config");
	v = nonempty(env("AWS_EC2_METADATA_SERVICE_ENDPOINT"));
	s->imds_endpoint = strdup(v ? v : "http://169.254.169.254");
	v = env("AWS_EC2_METADATA_DISABLED");
	s->imds_disabled = v != NULL && strcasecmp(v, "true") == 0;
	s->ca_bundle = util_strdup(nonempty(env("AWS_CA_BUNDLE")));
	s->env_access_key = util_strdup(nonempty(env("AWS_ACCESS_KEY_ID")));
	s->env_secret_key = util_strdup(nonempty(env("AWS_SECRET_ACCESS_KEY")));
	s->env_session_token = util_strdup(nonempty(env("AWS_SESSION_TOKEN")));
	if (s->profile == NULL || s->imds_endpoint == NULL)
		return err_set(e, ERR_FAIL, "out of memory");

	if ((rc = profile_load(s->creds_file, s->config_file, s->profile,
	    &s->prof, e)) != 0)
		return rc;
	if (s->profile_explicit && !s->prof.found)
		return err_set(e, ERR_USAGE, "profile '%s' not found in %s or %s",
		    s->profile, s->creds_file ? s->creds_file : "(no HOME)",
		    s->config_file ? s->config_file : "(no HOME)");

	{
		const struct pick ep[] = {
			{ in->endpoint, "--endpoint" },
			{ in->cfg_endpoint, "the config file" },
			{ env("AWS_ENDPOINT_URL_EC2"), "AWS_ENDPOINT_URL_EC2" },
			{ env("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL" },
		};
		if ((p = first(ep, 4)) != NULL) {
			s->endpoint_override = strdup(p->value);
			s->endpoint = strdup(p->value);
			s->endpoint_source = p->source;
			if (s->endpoint == NULL || s->endpoint_override == NULL)
				return err_set(e, ERR_FAIL, "out of memory");
		}
	}
	{
		const struct pick ep[] = {
			{ env("AWS_ENDPOINT_URL_STS"), "AWS_ENDPOINT_URL_STS" },
			{ env("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL" },
		};
		if ((p = first(ep, 2)) != NULL) {
			s->sts_endpoint_source = p->source;
			if ((s->sts_endpoint = strdup(p->value)) == NULL)
				return err_set(e, ERR_FAIL, "out of memory");
		}
	}
	{
		const struct pick reg[] = {
			{ in->region, "--region" },
			{ in->cfg_region, "the config file" },
			{ env("AWS_REGION"), "AWS_REGION" },
			{ env("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION" },
			{ s->prof.region, "the profile" },
		};
		if ((p = first(reg, 5)) != NULL)
			return settings_set_region(s, p->value, p->source, e);
	}
	return 0;
}

void
settings_cleanup(struct settings *s)
{
	if (s == NULL)
		return;
	free(s->profile);
	free(s->creds_file);
	free(s->config_file);
	profile_cleanup(&s->prof);
	free(s->region);
	free(s->endpoint);
	free(s->endpoint_override);
	free(s->sts_endpoint);
	free(s->imds_endpoint);
	free(s->ca_bundle);
	util_free_secret(s->env_access_key);
	util_free_secret(s->env_secret_key);
	util_free_secret(s->env_session_token);
	memset(s, 0, sizeof(*s));
}
