/* app: what enc and dna-gen share: options, AWS set-up, --describe. */
#ifndef APP_H
#define APP_H

#include "buf.h"
#include "ec2.h"
#include "err.h"
#include "http.h"
#include "imds.h"
#include "settings.h"

/* Long-option codes of the options both programs take. */
enum {
	APP_OPT_REGION = 256,
	APP_OPT_PROFILE,
	APP_OPT_ENDPOINT,
	APP_OPT_TIMEOUT,
	APP_OPT_DESCRIBE
};

struct app_opts {
	const char *region, *profile, *endpoint;
	long timeout_ms;		/* per HTTP exchange; 0: default */
	ec2_log_fn log;			/* -v tracing; NULL when quiet */
	void *log_ctx;
};

/* Applies one shared option. Returns 1 when opt was one (0 when not),
 * or -1 with e filled (ERR_USAGE) for a bad argument. */
int app_option(struct app_opts *o, int opt, const char *arg, struct err *e);

struct app {
	struct app_opts o;
	struct settings s;
	struct imds *imds;		/* NULL when disabled */
	struct http *http;
	struct creds_chain *creds;
	struct ec2 *ec2;		/* made on first use */
};

/* Resolves settings from o and the environment (env), with no network
 * use yet. Returns 0 or an ERR_* code. app_cleanup must be called either
 * way. */
int app_init(struct app *a, const struct app_opts *o, settings_env_fn env,
    struct err *e);
void app_cleanup(struct app *a);

/* The EC2 client, made on first use (the region may come from IMDS). */
int app_ec2(struct app *a, struct ec2 **out, struct err *e);

/* Finds the instance behind an id or certname and appends it to out as
 * JSON, as the client parsed it. */
int app_describe(struct app *a, const char *what, struct buf *out,
    struct err *e);

#endif
