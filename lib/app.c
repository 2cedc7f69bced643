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
	size_t i;

	for (i = 0; i < a->naccounts; i++)
		creds_chain_free(a->accounts[i].creds);
	free(a->accounts);
	while (a->memo != NULL) {
		struct app_memo *m = a->memo;

		a->memo = m->next;
		value_free(m->peers);
		free(m->key);
		free(m);
	}
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

/* A client for region with credentials cr, at the configured endpoint
 * or the region's own. */
static struct ec2 *
client_for(struct app *a, struct creds_chain *cr, const char *region,
    struct err *e)
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
	c = ec2_new(&eo, a->http, cr, e);
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
		return err_prefix(e, "%s", prefix);
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
	if ((a->ec2 = client_for(a, a->creds, a->s.region, e)) == NULL)
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

static int peers_of(struct app *, const char *, const struct instance *,
    struct value **, struct err *);

/* ---- sources: every (profile, region) of the fleet */

/* How many accounts (credential sets) the fleet spans: aws.profiles,
 * unless --profile narrows to one. */
static size_t
accounts(const struct app *a)
{
	if (a->o.profile != NULL || a->cfg == NULL || a->cfg->nprofiles == 0)
		return 1;
	return a->cfg->nprofiles;
}

/* The profile name of account i ("" for the credentials of --profile,
 * the config's aws.profile or the environment). */
static const char *
account_name(const struct app *a, size_t i)
{
	return accounts(a) == 1 && (a->cfg == NULL ||
	    a->cfg->nprofiles == 0 || a->o.profile != NULL) ? "" :
	    a->cfg->profiles[i];
}

/* The credentials of account i, set up on first use. */
static int
account_creds(struct app *a, size_t i, struct creds_chain **out,
    struct err *e)
{
	struct app_account *ac;

	*out = NULL;

	if (*account_name(a, i) == '\0') {
		*out = a->creds;
		return 0;
	}
	if (a->accounts == NULL) {
		if ((a->accounts = calloc(accounts(a),
		    sizeof(*a->accounts))) == NULL)
			return err_set(e, ERR_FAIL, "out of memory");
		a->naccounts = accounts(a);
	}
	ac = &a->accounts[i];
	if (ac->creds == NULL && (ac->creds = creds_chain_new_profile(&a->s,
	    a->cfg->profiles[i], a->imds, e)) == NULL)
		return e->code;
	*out = ac->creds;
	return 0;
}

/* The fleet's regions: --region when narrow (lookups; a refresh reads
 * them all), else aws.regions, else the region (which may come from the
 * metadata service). */
static int
fleet_regions(struct app *a, int narrow, const char *const **list,
    size_t *n, struct err *e)
{
	int rc;

	if ((!narrow || a->o.region == NULL) && a->cfg != NULL &&
	    a->cfg->nregions > 0) {
		*list = a->cfg->regions;
		*n = a->cfg->nregions;
		return 0;
	}
	if ((rc = region(a, e)) != 0)
		return rc;
	a->one_region = a->s.region;
	*list = &a->one_region;
	*n = 1;
	return 0;
}

/* "profile/region", or "region" for the default credentials. */
static void
source_label(char *out, size_t len, const char *profile, const char *region)
{
	(void)snprintf(out, len, "%s%s%s", profile, *profile ? "/" : "",
	    region);
}

/* A client for account i in region r: the shared one for the default
 * account in the default region, else a new one (*owned). */
static int
source_client(struct app *a, size_t i, const char *r, struct ec2 **out,
    int *owned, struct err *e)
{
	struct creds_chain *cr;
	int rc;

	*owned = 0;
	if ((rc = account_creds(a, i, &cr, e)) != 0)
		return rc;
	if (cr == a->creds && (a->ec2 != NULL || a->s.region != NULL) &&
	    strcmp(r, a->s.region) == 0)
		return app_ec2(a, out, e);
	if ((*out = client_for(a, cr, r, e)) == NULL)
		return e->code;
	*owned = 1;
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

/* aws.profiles and aws.filters as one string: the scope a cache was
 * built with. */
static char *
scope_of(const struct config *c)
{
	struct buf b;
	size_t i, k;

	buf_init(&b, 0);
	(void)buf_puts(&b, "");
	if (c->nprofiles > 0) {
		(void)buf_puts(&b, "profiles=");
		for (i = 0; i < c->nprofiles; i++)
			(void)buf_printf(&b, "%s%s", i ? "," : "",
			    c->profiles[i]);
		(void)buf_puts(&b, "|");
	}
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
		    "aws.profiles or aws.filters; the next --refresh rebuilds it",
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

/* Looks certname up in every source in turn (accounts, then regions);
 * the first that has it answers. ERR_NOTFOUND only when every source
 * answered without it; else the first failure. */
static int
find_live(struct app *a, const enum lookup_strategy *order, size_t n,
    const char *certname, struct instance **out, struct err *e)
{
	const char *const *regions;
	struct err first = { 0 };
	size_t i, r, nr;
	struct ec2 *c = NULL;
	int owned, rc;

	for (i = 0; i < accounts(a); i++) {
		if ((rc = fleet_regions(a, 1, &regions, &nr, e)) != 0)
			return rc;
		for (r = 0; r < nr; r++) {
			if ((rc = source_client(a, i, regions[r], &c, &owned,
			    e)) == 0) {
				rc = lookup_live(c, order, n, a->cfg ?
				    a->cfg->filters : NULL, a->cfg ?
				    a->cfg->nfilters : 0, certname, out, e);
				if (owned)
					ec2_free(c);
			}
			if (rc == 0 || rc == ERR_FAIL || rc == ERR_USAGE)
				return rc;	/* found, ambiguous, misconfigured */
			if (rc != ERR_NOTFOUND && first.code == 0) {
				char where[256];

				source_label(where, sizeof(where),
				    account_name(a, i), regions[r]);
				if (accounts(a) > 1 || nr > 1)
					err_prefix(e, "%s", where);
				first = *e;
			}
		}
	}
	if (first.code != 0) {
		*e = first;
		return first.code;
	}
	return ERR_NOTFOUND;
}

int
app_find(struct app *a, const char *certname, struct instance **out,
    struct err *e)
{
	const enum lookup_strategy *order = lookup_default_order;
	size_t n = lookup_default_norder;
	struct instance *cached = NULL;
	struct cache *cc;
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
	rc = find_live(a, order, n, certname, out, e);
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

/* Peers live: self's region (else the region) of every account. */
static int
live_peers(struct app *a, struct peers *p, const struct instance *self,
    struct err *e)
{
	const char *r;
	struct ec2 *c;
	size_t i;
	int owned, rc;

	if ((self == NULL || *self->region == '\0') &&
	    (rc = region(a, e)) != 0)
		return rc;
	r = self != NULL && *self->region != '\0' ? self->region :
	    a->s.region;
	for (i = 0; i < accounts(a); i++) {
		if ((rc = source_client(a, i, r, &c, &owned, e)) != 0)
			return rc;
		rc = peers_collect(p, c, e);
		if (owned)
			ec2_free(c);
		if (rc != 0)
			return rc;
	}
	return 0;
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

/* The peers of a running instance are those of every running instance
 * of its region and environment: worked out once per (region,
 * environment) when a run classifies many nodes. */
static char *
memo_key(const char *env, const struct instance *self)
{
	char *k;

	if (self == NULL || strcmp(self->state, "running") != 0)
		return NULL;
	if (asprintf(&k, "%s\n%s", self->region, env) == -1)
		return NULL;
	return k;
}

int
app_peers(struct app *a, const char *env, const struct instance *self,
    struct value **out, struct err *e)
{
	struct app_memo *m;
	char *key = memo_key(env, self);
	int rc;

	*out = NULL;
	for (m = a->memo; key != NULL && m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0) {
			free(key);
			*out = value_ref(m->peers);
			return 0;
		}
	if ((rc = peers_of(a, env, self, out, e)) == 0 && key != NULL &&
	    (m = calloc(1, sizeof(*m))) != NULL) {
		m->key = key;
		key = NULL;
		m->peers = value_ref(*out);
		m->next = a->memo;
		a->memo = m;
	}
	free(key);
	return rc;
}

static int
peers_of(struct app *a, const char *env, const struct instance *self,
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

/* Every instance of every source, live, sorted by id. */
struct fleet {
	struct instance **v;
	size_t n, cap;
};

static int
fleet_add(const struct instance *in, void *ctx, struct err *e)
{
	struct fleet *f = ctx;
	struct instance **nv;

	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 256;
		if ((nv = realloc(f->v, f->cap * sizeof(*nv))) == NULL)
			return err_set(e, ERR_FAIL, "out of memory");
		f->v = nv;
	}
	if ((f->v[f->n] = instance_dup(in)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	f->n++;
	return 0;
}

static int
by_id(const void *x, const void *y)
{
	const struct instance *const *a = x, *const *b = y;

	return strcmp((*a)->id, (*b)->id);
}

static int
live_fleet(struct app *a, struct fleet *f, struct err *e)
{
	const char *const *regions;
	size_t i, r, nr;
	struct ec2 *c;
	int owned, rc;

	for (i = 0; i < accounts(a); i++) {
		if ((rc = fleet_regions(a, 1, &regions, &nr, e)) != 0)
			return rc;
		for (r = 0; r < nr; r++) {
			if ((rc = source_client(a, i, regions[r], &c, &owned,
			    e)) != 0)
				return rc;
			rc = ec2_describe_instances(c, a->cfg->filters,
			    a->cfg->nfilters, fleet_add, f, e);
			if (owned)
				ec2_free(c);
			if (rc != 0)
				return rc;
		}
	}
	qsort(f->v, f->n, sizeof(*f->v), by_id);
	return 0;
}

int
app_each(struct app *a, awsxml_instance_fn fn, void *ctx, struct err *e)
{
	struct fleet f = { 0 };
	size_t i;
	int rc;

	if (a->cfg == NULL)
		return err_set(e, ERR_USAGE, "the whole fleet needs a config");
	if (cache(a) != NULL && a->cache_fresh)
		return cache_each(a->cache, NULL, NULL, fn, ctx, e);
	if ((rc = live_fleet(a, &f, e)) == 0) {
		for (i = 0; rc == 0 && i < f.n; i++)
			rc = fn(f.v[i], ctx, e);
	} else if (stale_ok(a, rc, e))
		rc = cache_each(a->cache, NULL, NULL, fn, ctx, e);
	for (i = 0; i < f.n; i++)
		instance_free(f.v[i]);
	free(f.v);
	return rc;
}

struct refresh {
	struct app *a;
	struct cache_writer *w;
	const char *region;
	long count;
	long long start_ms, said_ms;
	int broken;		/* the new file failed: nothing can be kept */
};

static int
refresh_add(const struct instance *in, void *ctx, struct err *e)
{
	struct refresh *r = ctx;
	long long now;
	int rc;

	if ((rc = cache_writer_add(in, r->w, e)) != 0) {
		r->broken = 1;
		return rc;
	}
	if (++r->count % 1000 == 0 && r->a->o.progress != NULL &&
	    (now = retry_now_ms()) - r->start_ms >= 2000 &&
	    now - r->said_ms >= 2000) {
		say(r->a->o.progress, "refresh: %s: %ld instances so far",
		    r->region, r->count);
		r->said_ms = now;
	}
	return 0;
}

/* The previous cache, when it can lend a failed source's instances:
 * readable and built with the same scope. NULL otherwise. */
static struct cache *
previous(const char *path, const char *scope)
{
	struct err e = { 0 };
	struct cache *c;

	if (cache_open(path, &c, &e) != 0)
		return NULL;
	if (strcmp(cache_scope(c), scope) != 0) {
		cache_close(c);
		return NULL;
	}
	return c;
}

/* Reads one source into the writer; on failure, drops what it added and
 * keeps the source's instances of the previous cache (old), if any
 * (*kept: how many; -1 when there were none to keep). */
static int
refresh_source(struct refresh *r, size_t acc, const char *region,
    struct cache *old, long *kept, struct app_refresh_stats *st,
    struct err *e)
{
	struct app *a = r->a;
	const char *profile = account_name(a, acc);
	struct err ke = { 0 };
	struct ec2 *c = NULL;
	time_t when = time(NULL), then;
	long before;
	int owned = 0, rc;

	*kept = -1;
	r->region = region;
	if ((rc = cache_writer_source(r->w, profile, region, e)) != 0) {
		r->broken = 1;
		return rc;
	}
	if ((rc = source_client(a, acc, region, &c, &owned, e)) == 0) {
		rc = ec2_describe_instances(c, a->cfg->filters,
		    a->cfg->nfilters, refresh_add, r, e);
		st->pages += ec2_stats(c)->pages;
		st->requests += ec2_stats(c)->requests;
		if (owned)
			ec2_free(c);
	}
	if (rc == 0 && (rc = cache_writer_source_end(r->w, when, e)) != 0)
		r->broken = 1;
	if (rc == 0 || r->broken)
		return rc;
	if (cache_writer_source_drop(r->w, &ke) != 0) {
		*e = ke;
		r->broken = 1;
		return ke.code;
	}
	if (old == NULL ||
	    (then = cache_source_refreshed(old, profile, region)) == 0)
		return rc;
	/* keep the previous instances, as old as they are */
	before = r->count;
	if (cache_writer_source(r->w, profile, region, &ke) != 0 ||
	    cache_each(old, profile, region, refresh_add, r, &ke) != 0 ||
	    cache_writer_source_end(r->w, then, &ke) != 0) {
		*e = ke;
		r->broken = 1;
		return ke.code;
	}
	*kept = r->count - before;
	return rc;
}

int
app_refresh(struct app *a, struct app_refresh_stats *st, struct err *e)
{
	struct refresh r = { 0 };
	struct err first = { 0 };
	struct cache *old = NULL;
	struct buf regions;
	const char *const *list;
	char where[256], *scope = NULL;
	size_t i, k, n, nfailed = 0, nsources = 0;
	long kept, first_kept = -1;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (a->cfg == NULL)
		return err_set(e, ERR_USAGE, "--refresh needs a config");
	if ((rc = fleet_regions(a, 0, &list, &n, e)) != 0)
		return rc;
	if ((scope = scope_of(a->cfg)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	r.a = a;
	r.start_ms = retry_now_ms();
	if ((rc = cache_writer_begin(a->cfg->cache_path,
	    (mode_t)a->cfg->cache_mode, &r.w, e)) != 0) {
		free(scope);
		return rc;
	}
	old = previous(a->cfg->cache_path, scope);
	buf_init(&regions, 0);
	(void)buf_puts(&regions, "");
	for (i = 0; i < n; i++)
		(void)buf_printf(&regions, "%s%s", i ? "," : "", list[i]);
	for (k = 0; k < accounts(a); k++) {
		for (i = 0; i < n; i++, nsources++) {
			struct err se = { 0 };

			if ((rc = refresh_source(&r, k, list[i], old, &kept,
			    st, &se)) == 0)
				continue;
			if (r.broken) {
				*e = se;
				goto abort;
			}
			source_label(where, sizeof(where), account_name(a, k),
			    list[i]);
			err_prefix(&se, "%s", where);
			if (nfailed++ == 0) {
				first = se;
				first_kept = kept;
			}
		}
	}
	if (regions.data == NULL) {
		rc = err_set(e, ERR_FAIL, "out of memory");
		goto abort;
	}
	if (nfailed == nsources) {
		*e = first;
		rc = first.code;
		goto abort;
	}
	cache_close(old);
	old = NULL;
	if ((rc = cache_writer_commit(r.w, regions.data, scope, e)) != 0)
		goto out;
	st->instances = r.count;
	st->regions = (unsigned)n;
	st->seconds = (double)(retry_now_ms() - r.start_ms) / 1000.0;
	if (nfailed > 0) {
		/* one line, non-zero exit: cron must notice */
		if (first_kept >= 0)
			(void)snprintf(where, sizeof(where), "the previous "
			    "cache's instances of the failed kept (%ld)",
			    first_kept);
		else
			(void)snprintf(where, sizeof(where), "no earlier "
			    "instances of it to keep");
		rc = err_set(e, first.code, "refreshed %s without %zu of %zu "
		    "sources, first %s; %s", a->cfg->cache_path, nfailed,
		    nsources, first.msg, where);
		goto out;
	}
	if (accounts(a) > 1)
		(void)snprintf(where, sizeof(where), " of %zu profiles",
		    accounts(a));
	else
		*where = '\0';
	say(a->o.warn, "refreshed %s: %ld instances, %u region%s%s, %u pages, "
	    "%u requests, %.2f s", a->cfg->cache_path, st->instances,
	    st->regions, st->regions == 1 ? "" : "s", where, st->pages,
	    st->requests, st->seconds);
	goto out;
abort:
	cache_writer_abort(r.w);
out:
	cache_close(old);
	buf_free(&regions);
	free(scope);
	return rc;
}
