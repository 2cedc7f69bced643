/* app: what enc and dna-gen share: options, AWS set-up, --describe. */
#ifndef APP_H
#define APP_H

#include "buf.h"
#include "cache.h"
#include "config.h"
#include "ec2.h"
#include "err.h"
#include "http.h"
#include "imds.h"
#include "instance.h"
#include "settings.h"
#include "value.h"

/* Long-option codes of the options both programs take. */
enum {
	APP_OPT_REGION = 256,
	APP_OPT_PROFILE,
	APP_OPT_ENDPOINT,
	APP_OPT_TIMEOUT,
	APP_OPT_DESCRIBE,
	APP_OPT_CONFIG,
	APP_OPT_LIVE,
	APP_OPT_REFRESH
};

/* The getopt_long entries of the shared options, for the mains' tables. */
#define APP_LONGOPTS \
	{ "config", required_argument, NULL, APP_OPT_CONFIG }, \
	{ "region", required_argument, NULL, APP_OPT_REGION }, \
	{ "profile", required_argument, NULL, APP_OPT_PROFILE }, \
	{ "endpoint", required_argument, NULL, APP_OPT_ENDPOINT }, \
	{ "timeout", required_argument, NULL, APP_OPT_TIMEOUT }, \
	{ "live", no_argument, NULL, APP_OPT_LIVE }, \
	{ "refresh", no_argument, NULL, APP_OPT_REFRESH }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }

/* The help lines of the shared options. */
#define APP_HELP \
	"  -c, --config FILE   config file (default " CONFIG_DEFAULT_PATH ")\n" \
	"  --region REGION     AWS region (else config, AWS_REGION, profile, IMDS)\n" \
	"  --profile NAME      profile in the AWS shared files (one of aws.profiles)\n" \
	"  --endpoint URL      EC2 endpoint (else config, AWS_ENDPOINT_URL_EC2)\n" \
	"  --timeout SECONDS   per-request timeout (default 20)\n" \
	"  --live              ask EC2, never the cache\n" \
	"  --refresh           read the whole fleet into the cache (cron)\n" \
	"  -v, --verbose       trace requests on stderr (never secrets)\n" \
	"  -h, --help          this help\n" \
	"  -V, --version       print the version\n"

struct app_opts {
	const char *config_path;	/* NULL: CONFIG_DEFAULT_PATH */
	const char *region, *profile, *endpoint;
	long timeout_ms;		/* per HTTP exchange; 0: default */
	ec2_log_fn log;			/* -v tracing; NULL when quiet */
	void *log_ctx;
	ec2_log_fn warn;		/* warnings, the refresh summary */
	ec2_log_fn progress;		/* refresh progress; NULL: none */
	int live;			/* --live: never read the cache */
};

/* Applies one shared option. Returns 1 when opt was one (0 when not),
 * or -1 with e filled (ERR_USAGE) for a bad argument. */
int app_option(struct app_opts *o, int opt, const char *arg, struct err *e);

/* Peers already worked out, by region and environment. */
struct app_memo {
	char *key;
	struct value *peers;
	struct app_memo *next;
};

/* The credentials of one of aws.profiles (that profile alone: never
 * the environment's keys). */
struct app_account {
	struct creds_chain *creds;	/* NULL until first used */
};

struct app {
	struct app_opts o;
	struct config *cfg;		/* NULL when none was loaded */
	struct settings s;
	struct imds *imds;		/* NULL when disabled */
	struct http *http;
	struct creds_chain *creds;
	struct ec2 *ec2;		/* made on first use */
	struct cache *cache;		/* opened on first use, when usable */
	int cache_tried;
	long cache_age;			/* seconds since its refresh */
	int cache_fresh;		/* younger than cache.max_age */
	int stale_warned;		/* the one stale-cache warning is out */
	struct app_account *accounts;	/* per aws.profiles item */
	size_t naccounts;
	const char *one_region;		/* a one-region list's item */
	struct app_memo *memo;		/* peers of running nodes */
};

/* What a refresh did, for its summary line. */
struct app_refresh_stats {
	long instances;
	unsigned regions, pages, requests;
	double seconds;
};

/* Loads the config (need_config: a missing default config is an error;
 * otherwise it is only read when present) and resolves settings from o,
 * the config and the environment (env), with no network use yet. Returns
 * 0 or an ERR_* code. app_cleanup must be called either way. */
int app_init(struct app *a, const struct app_opts *o, int need_config,
    settings_env_fn env, struct err *e);
void app_cleanup(struct app *a);

/* The EC2 client, made on first use (the region may come from IMDS). */
int app_ec2(struct app *a, struct ec2 **out, struct err *e);

/* Finds the instance behind a certname with the config's lookup order
 * and filters (the defaults without a config). A cache younger than
 * cache.max_age answers first; a certname it does not have is looked up
 * live. When EC2 is unavailable, a cache younger than
 * cache.stale_max_age answers, with one warning. *out is new. */
int app_find(struct app *a, const char *certname, struct instance **out,
    struct err *e);

/* Finds the instance behind an id or certname and appends it to out as
 * JSON, as the client parsed it. */
int app_describe(struct app *a, const char *what, struct buf *out,
    struct err *e);

/* On an instance: its id from the metadata service (*id is new), and
 * its region from there too unless --region was given. */
int app_self(struct app *a, char **id, struct err *e);

/* The peers hash (see peers.h) of environment env, with self (may be
 * NULL) among them whatever its state, from a fresh cache, else live,
 * else a stale cache as app_find. *out is new. Needs a config. */
int app_peers(struct app *a, const char *env, const struct instance *self,
    struct value **out, struct err *e);

/* Calls fn for every instance of the fleet that is not terminated, in
 * instance-id order: from a fresh cache, else live (every source), else
 * from a stale cache as app_find. Needs a config. */
int app_each(struct app *a, awsxml_instance_fn fn, void *ctx,
    struct err *e);

/* Reads every source, each configured region (aws.regions, else the
 * region) of each account (aws.profiles, else the one profile), into a
 * new cache file renamed over cache.path, then says one summary line
 * (instances, sources, regions, pages, requests, seconds) through o.warn.
 * When some sources fail, the others are written and the failed ones
 * keep their instances of the previous cache (with its older refresh
 * time), and the error (the first failure) says so; when all fail, the
 * cache is not touched. */
int app_refresh(struct app *a, struct app_refresh_stats *st, struct err *e);

#endif
