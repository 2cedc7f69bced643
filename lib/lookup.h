/* lookup: from a Puppet certname (or instance id) to one EC2 instance. */
#ifndef LOOKUP_H
#define LOOKUP_H

#include <stddef.h>

#include "ec2.h"
#include "err.h"
#include "instance.h"

enum lookup_strategy {
	LOOKUP_INSTANCE_ID,	/* i-0123abcd, also as the first DNS label */
	LOOKUP_PRIVATE_DNS,	/* the whole certname */
	LOOKUP_PRIVATE_IP,	/* 10.1.2.3, or ip-10-1-2-3.<any domain> */
	LOOKUP_TAG_NAME		/* tag:Name, whole certname or first label */
};

#define LOOKUP_CERTNAME_MAX 255
#define LOOKUP_MAX_CANDIDATES 5

extern const enum lookup_strategy lookup_default_order[];
extern const size_t lookup_default_norder;

/* Checks a certname: 1..255 chars of [A-Za-z0-9._-], not starting with
 * '.' or '-'. Returns 0 or ERR_USAGE with e filled. */
int lookup_certname_check(const char *certname, struct err *e);

/* The filter values strategy s tries for certname, written into vals
 * (up to 2 strings of at most LOOKUP_CERTNAME_MAX+1 bytes each). Returns
 * how many (0: the strategy does not apply to this certname). */
size_t lookup_values(enum lookup_strategy s, const char *certname,
    char vals[2][LOOKUP_CERTNAME_MAX + 1]);

/* The EC2 filter name for strategy s. */
const char *lookup_filter_name(enum lookup_strategy s);

/* A place to search: calls fn for every instance whose field for
 * strategy s equals one of vals[0..nv). Returns 0 or an ERR_* code. */
typedef int (*lookup_source_fn)(void *src, enum lookup_strategy s,
    const char *const *vals, size_t nv, awsxml_instance_fn fn, void *ctx,
    struct err *e);

/* Tries the strategies in order against source; the first that matches
 * exactly one instance wins. *out is new. Returns 0, ERR_NOTFOUND,
 * ERR_FAIL for an ambiguous match (naming the candidates), or the
 * source's error. */
int lookup_find(lookup_source_fn source, void *src,
    const enum lookup_strategy *order, size_t n, const char *certname,
    struct instance **out, struct err *e);

/* Tries the strategies in order against EC2, each ANDed with the scope
 * filters (the config's aws.filters); the first that matches exactly one
 * instance wins. *out is a new instance (free with
 * instance_free). Returns 0, ERR_NOTFOUND, ERR_FAIL for an ambiguous
 * match (naming the candidates), or the EC2 error. */
int lookup_live(struct ec2 *c, const enum lookup_strategy *order, size_t n,
    const struct ec2_filter *scope, size_t nscope, const char *certname,
    struct instance **out, struct err *e);

#endif
