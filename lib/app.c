/* app: wiring from options and environment to the EC2 client. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "classify.h"
#include "jsonio.h"
#include "lookup.h"
#include "peers.h"
#include "retry.h"
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
	case APP_OPT_LIVE:
		o->live = 1;
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
	cache_close(a->cache);
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

/* A client for region, at the configured endpoint or the region's own. */
static struct ec2 *
client_for(struct app *a, const char *region, struct err *e)
{
	struct ec2_opts eo = { 0 };
	struct retry_policy rp = RETRY_DEFAULT;
	struct ec2 *c;
	char *endpoint = NULL;

	eo.region = region;
	eo.endpoint = a->s.endpoint_override;
	if (eo.endpoint == NULL) {
		if (asprintf(&endpoint, "https://ec2.%s.amazonaws.com",
		    region) == -1) {
			err_set(e, ERR_FAIL, "out of memory");
			return NULL;
		}
		eo.endpoint = endpoint;
	}
	eo.retry = rp;
	if (a->o.timeout_ms > 0 && eo.retry.deadline_ms < 3 * a->o.timeout_ms)
		eo.retry.deadline_ms = 3 * a->o.timeout_ms;
	eo.log = a->o.log;
	eo.log_ctx = a->o.log_ctx;
	c = ec2_new(&eo, a->http, a->creds, e);
	free(endpoint);
	return c;
}

/* The region: configured, or asked from the metadata service. */
/* The region the metadata service gives, as the settings' region;
 * prefix names the step in an error. */
static int
imds_region(struct app *a, const char *prefix, struct err *e)
{
	char *r = NULL;
	int rc;

	if ((rc = imds_get(a->imds, "meta-data/placement/region", &r, e)) != 0)
		return err_prefix(e, prefix);
	rc = settings_set_region(&a->s, util_trim(r), "the metadata service",
	    e);
	free(r);
	return rc;
}

/* The region: configured, or asked from the metadata service. */
static int
region(struct app *a, struct err *e)
{
	if (a->s.region != NULL)
		return 0;
	if (a->imds == NULL)
		return err_set(e, ERR_USAGE, "no region: use --region, "
		    "AWS_REGION or a profile's region (the metadata "
		    "service is disabled)");
	trace(a, "no region configured: asking the metadata service");
	return imds_region(a, "no region configured, and", e);
}

int
app_ec2(struct app *a, struct ec2 **out, struct err *e)
{
	int rc;

	if (a->ec2 != NULL) {
		*out = a->ec2;
		return 0;
	}
	if ((rc = region(a, e)) != 0)
		return rc;
	if ((a->ec2 = client_for(a, a->s.region, e)) == NULL)
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

static void
say(ec2_log_fn fn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(ec2_log_fn fn, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (fn == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fn(NULL, line);
}

/* aws.filters as one string: the scope a cache was built with. */
static char *
scope_of(const struct config *c)
{
	struct buf b;
	size_t i, k;

	buf_init(&b, 0);
	(void)buf_puts(&b, "");
	for (i = 0; i < c->nfilters; i++) {
		(void)buf_printf(&b, "%s%s=", i ? ";" : "", c->filters[i].name);
		for (k = 0; k < c->filters[i].nvalues; k++)
			(void)buf_printf(&b, "%s%s", k ? "," : "",
			    c->filters[i].values[k]);
	}
	return buf_steal(&b);
}

/* The cache, opened once; NULL under --live, without a config or a
 * cache file, or when the file cannot be used (said once). */
static struct cache *
cache(struct app *a)
{
	struct err e = { 0 };
	char *scope;
	time_t now;
	int rc;

	if (a->cache_tried)
		return a->cache;
	a->cache_tried = 1;
	if (a->o.live || a->cfg == NULL)
		return NULL;
	if ((rc = cache_open(a->cfg->cache_path, &a->cache, &e)) != 0) {
		if (rc == ERR_NOTFOUND)
			say(a->o.log, "%s: looking up live", e.msg);
		else
			say(a->o.warn, "ignoring %s; the next --refresh "
			    "rebuilds it", e.msg);
		return NULL;
	}
	if ((scope = scope_of(a->cfg)) == NULL ||
	    strcmp(scope, cache_scope(a->cache)) != 0) {
		say(a->o.warn, "ignoring the cache %s: it was built with other "
		    "aws.filters; the next --refresh rebuilds it",
		    a->cfg->cache_path);
		free(scope);
		cache_close(a->cache);
		a->cache = NULL;
		return NULL;
	}
	free(scope);
	now = time(NULL);
	a->cache_age = now > cache_refreshed(a->cache) ?
	    (long)(now - cache_refreshed(a->cache)) : 0;
	a->cache_fresh = a->cache_age < a->cfg->max_age;
	say(a->o.log, "cache %s: refreshed %ld s ago (%s), regions %s",
	    a->cfg->cache_path, a->cache_age, a->cache_fresh ? "fresh" :
	    "older than cache.max_age", cache_regions(a->cache));
	return a->cache;
}

/* Whether EC2's failure (in e) may be answered from the cache. */
static int
stale_ok(struct app *a, int rc, const struct err *e)
{
	if (rc != ERR_UNAVAILABLE || a->cache == NULL ||
	    a->cache_age >= a->cfg->stale_max_age)
		return 0;
	if (!a->stale_warned)
		say(a->o.warn, "EC2 unavailable (%s); answering from the cache "
		    "refreshed %ld s ago", e->msg, a->cache_age);
	a->stale_warned = 1;
	return 1;
}

int
app_find(struct app *a, const char *certname, struct instance **out,
    struct err *e)
{
	const enum lookup_strategy *order = lookup_default_order;
	size_t n = lookup_default_norder;
	struct instance *cached = NULL;
	struct cache *cc;
	struct ec2 *c;
	int rc;

	*out = NULL;
	if ((rc = lookup_certname_check(certname, e)) != 0)
		return rc;
	if (a->cfg != NULL) {
		order = a->cfg->lookup;
		n = a->cfg->nlookup;
	}
	if ((cc = cache(a)) != NULL) {
		rc = lookup_find(cache_match, cc, order, n, certname, &cached, e);
		if (rc == 0 && a->cache_fresh) {
			say(a->o.log, "%s: %s from the cache", certname,
			    cached->id);
			*out = cached;
			return 0;
		}
		if (rc == ERR_FAIL && a->cache_fresh)
			return rc;	/* ambiguous: the same answer live */
		if (rc == ERR_UNAVAILABLE)
			say(a->o.warn, "ignoring the cache: %s", e->msg);
	}
	if ((rc = app_ec2(a, &c, e)) == 0)
		rc = lookup_live(c, order, n, a->cfg ? a->cfg->filters : NULL,
		    a->cfg ? a->cfg->nfilters : 0, certname, out, e);
	if (cached != NULL && stale_ok(a, rc, e)) {
		*out = cached;
		return 0;
	}
	instance_free(cached);
	return rc;
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
	int rc;

	*id = NULL;
	if (a->imds == NULL)
		return err_set(e, ERR_USAGE, "no instance id given and the "
		    "metadata service is disabled (AWS_EC2_METADATA_DISABLED)");
	if ((rc = imds_get(a->imds, "meta-data/instance-id", id, e)) != 0)
		return err_prefix(e, "no instance id given");
	util_trim(*id);
	/* the instance is in its own region, whatever else is configured */
	if (a->o.region == NULL && a->ec2 == NULL &&
	    (rc = imds_region(a, "asking the metadata service for the region",
	    e)) != 0) {
		free(*id);
		*id = NULL;
	}
	return rc;
}

/* Peers from the cache, for the region of self (else the client's). */
static int
cached_peers(struct app *a, struct peers *p, const struct instance *self,
    struct err *e)
{
	const char *env = peers_env(p);
	int rc;

	/* what peers_add reads: the name, environment, roles, group tags */
	const char *keys[] = { "Name", a->cfg->tag_environment,
	    a->cfg->tag_roles, a->cfg->tag_group };

	if (self == NULL && (rc = region(a, e)) != 0)
		return rc;
	return cache_each_in_env(a->cache, self ? self->region : a->s.region,
	    a->cfg->tag_environment, env, classify_env_untagged(a->cfg, env),
	    keys, sizeof(keys) / sizeof(keys[0]), peers_add_fn, p, e);
}

static int
live_peers(struct app *a, struct peers *p, const struct instance *self,
    struct err *e)
{
	struct ec2 *c, *other = NULL;
	int rc;

	if ((rc = app_ec2(a, &c, e)) != 0)
		return rc;
	if (self != NULL && *self->region != '\0' &&
	    strcmp(self->region, a->s.region) != 0) {
		if ((other = client_for(a, self->region, e)) == NULL)
			return e->code;
		c = other;
	}
	rc = peers_collect(p, c, e);
	ec2_free(other);
	return rc;
}

static struct peers *
new_peers(struct app *a, const char *env, const struct instance *self)
{
	struct peers *p;

	if ((p = peers_new(a->cfg, env, self ? self->id : NULL)) == NULL)
		return NULL;
	if (self != NULL && peers_add(p, self) == -1) {
		peers_free(p);
		return NULL;
	}
	return p;
}

int
app_peers(struct app *a, const char *env, const struct instance *self,
    struct value **out, struct err *e)
{
	struct peers *p;
	int rc;

	*out = NULL;
	if ((p = new_peers(a, env, self)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	if (cache(a) != NULL && a->cache_fresh)
		rc = cached_peers(a, p, self, e);
	else if ((rc = live_peers(a, p, self, e)) != 0 && stale_ok(a, rc, e)) {
		/* start again: the live read may have added some */
		peers_free(p);
		if ((p = new_peers(a, env, self)) == NULL)
			return err_set(e, ERR_FAIL, "out of memory");
		rc = cached_peers(a, p, self, e);
	}
	if (rc == 0 && (*out = peers_value(p)) == NULL)
		rc = err_set(e, ERR_FAIL, "out of memory");
	peers_free(p);
	return rc;
}

struct refresh {
	struct app *a;
	struct cache_writer *w;
	const char *region;
	long count;
	long long start_ms, said_ms;
};

static int
refresh_add(const struct instance *in, void *ctx, struct err *e)
{
	struct refresh *r = ctx;
	long long now;
	int rc;

	if ((rc = cache_writer_add(in, r->w, e)) != 0)
		return rc;
	if (++r->count % 1000 == 0 && r->a->o.progress != NULL &&
	    (now = retry_now_ms()) - r->start_ms >= 2000 &&
	    now - r->said_ms >= 2000) {
		say(r->a->o.progress, "refresh: %s: %ld instances so far",
		    r->region, r->count);
		r->said_ms = now;
	}
	return 0;
}

int
app_refresh(struct app *a, struct app_refresh_stats *st, struct err *e)
{
	struct refresh r = { 0 };
	struct buf regions;
	const char *one[1];
	const char **list;
	size_t i, n;
	char *scope = NULL;
	time_t started = time(NULL);
	int rc;

	memset(st, 0, sizeof(*st));
	if (a->cfg == NULL)
		return err_set(e, ERR_USAGE, "--refresh needs a config");
	list = a->cfg->regions;
	n = a->cfg->nregions;
	if (n == 0) {
		if ((rc = region(a, e)) != 0)
			return rc;
		one[0] = a->s.region;
		list = one;
		n = 1;
	}
	if ((scope = scope_of(a->cfg)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	r.a = a;
	r.start_ms = retry_now_ms();
	if ((rc = cache_writer_begin(a->cfg->cache_path,
	    (mode_t)a->cfg->cache_mode, &r.w, e)) != 0) {
		free(scope);
		return rc;
	}
	buf_init(&regions, 0);
	for (i = 0; rc == 0 && i < n; i++) {
		struct ec2 *c;

		r.region = list[i];
		(void)buf_printf(&regions, "%s%s", i ? "," : "", list[i]);
		if ((c = client_for(a, list[i], e)) == NULL) {
			rc = e->code;
			break;
		}
		rc = ec2_describe_instances(c, a->cfg->filters,
		    a->cfg->nfilters, refresh_add, &r, e);
		st->pages += ec2_stats(c)->pages;
		st->requests += ec2_stats(c)->requests;
		ec2_free(c);
		if (rc != 0)
			err_prefix(e, list[i]);
	}
	if (rc == 0 && regions.data == NULL)
		rc = err_set(e, ERR_FAIL, "out of memory");
	if (rc == 0)
		rc = cache_writer_commit(r.w, started, regions.data, scope, e);
	else
		cache_writer_abort(r.w);
	if (rc == 0) {
		st->instances = r.count;
		st->regions = (unsigned)n;
		st->seconds = (double)(retry_now_ms() - r.start_ms) / 1000.0;
		say(a->o.warn, "refreshed %s: %ld instances, %u region%s, %u "
		    "pages, %u requests, %.2f s", a->cfg->cache_path,
		    st->instances, st->regions, st->regions == 1 ? "" : "s",
		    st->pages, st->requests, st->seconds);
	}
	buf_free(&regions);
	free(scope);
	return rc;
}
