/* ec2: DescribeInstances over the EC2 Query API, signed, retried, paged. */
#ifndef EC2_H
#define EC2_H

#include <stddef.h>
#include <time.h>

#include "awsxml.h"
#include "creds.h"
#include "err.h"
#include "http.h"
#include "retry.h"

#define EC2_API_VERSION "2016-11-15"
#define EC2_MAX_RESULTS "1000"

/* One trace line for -v; never carries a secret. */
typedef void (*ec2_log_fn)(void *ctx, const char *line);

struct ec2_opts {
	const char *endpoint;		/* "https://ec2.us-east-1.amazonaws.com" */
	const char *region;		/* signing region */
	struct retry_policy retry;
	time_t (*now)(void);		/* wall clock for signing; NULL: time() */
	ec2_log_fn log;			/* may be NULL */
	void *log_ctx;
};

struct ec2_filter {
	const char *name;		/* "tag:Name", "instance-id", ... */
	const char *const *values;
	size_t nvalues;
};

struct ec2_stats {
	unsigned requests;		/* HTTP requests sent, retries included */
	unsigned pages;			/* pages parsed */
	unsigned retries;
	unsigned instances;		/* instances passed to the callback */
};

struct ec2;

/* A client over http and creds (both borrowed). NULL with e filled. */
struct ec2 *ec2_new(const struct ec2_opts *o, struct http *http,
    struct creds_chain *creds, struct err *e);
void ec2_free(struct ec2 *c);

/* Calls fn for every instance matching all filters, page by page
 * (MaxResults 1000, following NextToken until there is none), leaving out
 * shutting-down and terminated instances. Throttling, 5xx and transport
 * errors are retried per the policy; AWS errors are not and come back as
 * "CODE: message". Returns 0 or an ERR_* code with e filled; instances
 * passed to fn before a failure are not taken back. */
int ec2_describe_instances(struct ec2 *c, const struct ec2_filter *filters,
    size_t nfilters, awsxml_instance_fn fn, void *ctx, struct err *e);

const struct ec2_stats *ec2_stats(const struct ec2 *c);

#endif
