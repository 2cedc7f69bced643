/* app: wiring from options and environment to the EC2 client. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "jsonio.h"
#include "lookup.h"
#include "peers.h"
#include "util.h"

int
app_option(struct app_opts *o, int opt, const char *arg, struct err *e)
{
	char *end;
	double secs;

	switch (opt) {
	case APP_OPT_REGION:
		o->region = arg;
		return 1;
	case APP_OPT_PROFILE:
		o->profile = arg;
		return 1;
	case APP_OPT_ENDPOINT:
		o->endpoint = arg;
		return 1;
	case APP_OPT_CONFIG:
	case 'c':
		o->config_path = arg;
		return 1;
	case APP_OPT_TIMEOUT:
		errno = 0;
		secs = strtod(arg, &end);
		if (errno != 0 || end == arg || *end != '\0' || secs < 0.01 ||
		    secs > 3600) {
			err_set(e, ERR_USAGE, "--timeout: '%s' is not a number "
			    "of seconds between 0.01 and 3600", arg);
			return -1;
		}
		o->timeout_ms = (long)(secs * 1000);
		return 1;
	}
	return 0;
}

int
app_init(struct app *a, const struct app_opts *o, int need_config,
    settings_env_fn env, struct err *e)
{
	struct settings_in in = { 0 };
	struct http_opts ho = { 0 };
	const char *path = o->config_path ? o->config_path :
	    CONFIG_DEFAULT_PATH;
	int rc;

	memset(a, 0, sizeof(*a));
	a->o = *o;
	if (need_config || o->config_path != NULL ||
	    access(path, F_OK) == 0) {
		if ((rc = config_load(path, &a->cfg, e)) != 0) {
			if (o->config_path == NULL && access(path, F_OK) != 0)
				err_set(e, ERR_USAGE, "no config file: %s does "
				    "not exist; give one with --config FILE",
				    path);
			return rc;
		}
		in.cfg_region = a->cfg->region;
		in.cfg_profile = a->cfg->profile;
		in.cfg_endpoint = a->cfg->endpoint;
	}
	in.region = o->region;
	in.profile = o->profile;
	in.endpoint = o->endpoint;
	if ((rc = settings_load(&a->s, &in, env, e)) != 0)
		return rc;
	if (!a->s.imds_disabled &&
	    (a->imds = imds_new(a->s.imds_endpoint, a->s.ca_bundle, e)) == NULL)
		return e->code;
	ho.timeout_ms = o->timeout_ms;
	if (o->timeout_ms > 0 && o->timeout_ms < 5000)
		ho.connect_timeout_ms = o->timeout_ms;
	ho.ca_bundle = a->s.ca_bundle;
	if ((a->http = http_new(&ho, e)) == NULL)
		return e->code;
	if ((a->creds = creds_chain_new(&a->s, a->imds, e)) == NULL)
		return e->code;
	return 0;
}

void
app_cleanup(struct app *a)
{
	ec2_free(a->ec2);
	creds_chain_free(a->creds);
	http_free(a->http);
	imds_free(a->imds);
	settings_cleanup(&a->s);
	config_free(a->cfg);
	memset(a, 0, sizeof(*a));
}

static void
trace(struct app *a, const char *line)
{
	if (a->o.log != NULL)
		a->o.log(a->o.log_ctx, line);
}

int
app_ec2(struct app *a, struct ec2 **out, struct err *e)
{
	struct ec2_opts eo = { 0 };
	struct retry_policy rp = RETRY_DEFAULT;
	char *region = NULL;
	int rc;

	if (a->ec2 != NULL) {
		*out = a->ec2;
		return 0;
	}
	if (a->s.region == NULL) {
		if (a->imds == NULL)
			return err_set(e, ERR_USAGE, "no region: use --region, "
			    "AWS_REGION or a profile's region (the metadata "
			    "service is disabled)");
		trace(a, "no region configured: asking the metadata service");
		if ((rc = imds_get(a->imds, "meta-data/placement/region",
		    &region, e)) != 0)
			return err_prefix(e, "no region configured, and");
		rc = settings_set_region(&a->s, util_trim(region),
		    "the metadata service", e);
		free(region);
		if (rc != 0)
			return rc;
	}
	eo.endpoint = a->s.endpoint;
	eo.region = a->s.region;
	eo.retry = rp;
	if (a->o.timeout_ms > 0 && eo.retry.deadline_ms < 3 * a->o.timeout_ms)
		eo.retry.deadline_ms = 3 * a->o.timeout_ms;
	eo.log = a->o.log;
	eo.log_ctx = a->o.log_ctx;
	if ((a->ec2 = ec2_new(&eo, a->http, a->creds, e)) == NULL)
		return e->code;
	if (a->o.log != NULL) {
		char line[512];
		(void)snprintf(line, sizeof(line), "region %s (from %s), "
		    "endpoint %s (from %s), profile %s", a->s.region,
		    a->s.region_source, a->s.endpoint, a->s.endpoint_source,
		    a->s.profile);
		trace(a, line);
	}
	*out = a->ec2;
	return 0;
}

int
app_find(struct app *a, const char *certname, struct instance **out,
    struct err *e)
{
	struct ec2 *c;
	int rc;

	*out = NULL;
	if ((rc = lookup_certname_check(certname, e)) != 0 ||
	    (rc = app_ec2(a, &c, e)) != 0)
		return rc;
	if (a->cfg == NULL)
		return lookup_live(c, lookup_default_order,
		    lookup_default_norder, NULL, 0, certname, out, e);
	return lookup_live(c, a->cfg->lookup, a->cfg->nlookup,
	    a->cfg->filters, a->cfg->nfilters, certname, out, e);
}

int
app_describe(struct app *a, const char *what, struct buf *out, struct err *e)
{
	struct instance *in = NULL;
	int rc;

	if ((rc = app_find(a, what, &in, e)) != 0)
		return rc;
	rc = jsonio_instance(in, out, e);
	instance_free(in);
	return rc;
}

int
app_self(struct app *a, char **id, struct err *e)
{
	char *region = NULL;
	int rc;

	*id = NULL;
	if (a->imds == NULL)
		return err_set(e, ERR_USAGE, "no instance id given and the "
		    "metadata service is disabled (AWS_EC2_METADATA_DISABLED)");
	if ((rc = imds_get(a->imds, "meta-data/instance-id", id, e)) != 0)
		return err_prefix(e, "no instance id given");
	util_trim(*id);
	if (a->o.region != NULL || a->ec2 != NULL)
		return 0;
	/* the instance is in its own region, whatever else is configured */
	if ((rc = imds_get(a->imds, "meta-data/placement/region", &region,
	    e)) != 0) {
		free(*id);
		*id = NULL;
		return err_prefix(e, "asking the metadata service for the region");
	}
	rc = settings_set_region(&a->s, util_trim(region),
	    "the metadata service", e);
	free(region);
	if (rc != 0) {
		free(*id);
		*id = NULL;
	}
	return rc;
}

int
app_peers(struct app *a, const char *env, const struct instance *self,
    struct value **out, struct err *e)
{
	struct peers *p;
	struct ec2 *c;
	int rc;

	*out = NULL;
	if ((p = peers_new(a->cfg, env, self ? self->id : NULL)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	if (self != NULL && peers_add(p, self) == -1)
		rc = err_set(e, ERR_FAIL, "out of memory");
	else if ((rc = app_ec2(a, &c, e)) == 0 &&
	    (rc = peers_collect(p, c, e)) == 0 &&
	    (*out = peers_value(p)) == NULL)
		rc = err_set(e, ERR_FAIL, "out of memory");
	peers_free(p);
	return rc;
}
