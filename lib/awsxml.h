/* awsxml: the only user of libxml2; parses EC2 and STS Query API answers. */
#ifndef AWSXML_H
#define AWSXML_H

#include <stddef.h>

#include "err.h"
#include "instance.h"

/* Called once per instance, in document order. The instance is borrowed:
 * it is freed after the call. A non-zero return stops the parse and is
 * returned by awsxml_describe_instances (fill e first). */
typedef int (*awsxml_instance_fn)(const struct instance *in, void *ctx,
    struct err *e);

/* Parses one DescribeInstances response page. Elements are matched by
 * local name and full path under any http://ec2.amazonaws.com/doc/VERSION/
 * namespace. region is copied into every instance. *next_token is set to a
 * malloc'd token, or NULL on the last page. *count (may be NULL) gets the
 * number of instances in the page. Returns 0, the callback's non-zero
 * value, or ERR_UNAVAILABLE for anything that is not a well-formed
 * DescribeInstancesResponse (never an empty fleet). The page is streamed
 * (no document tree) and fn sees its instances only after all of it
 * parsed: a bad page passes none. */
int awsxml_describe_instances(const char *xml, size_t len, const char *region,
    awsxml_instance_fn fn, void *ctx, char **next_token, size_t *count,
    struct err *e);

/* Parses an AWS error document (<Response><Errors><Error> or
 * <ErrorResponse><Error>). Returns 0 and sets *code and *message
 * (malloc'd; message may be "") or -1 when the body is not one. */
int awsxml_error(const char *xml, size_t len, char **code, char **message);

/* Parses an STS AssumeRoleResponse (root in the
 * https://sts.amazonaws.com/doc/2011-06-15/ namespace): the text of
 * AssumeRoleResult/Credentials' AccessKeyId, SecretAccessKey, SessionToken
 * and Expiration, each trimmed, malloc'd (free the secrets with
 * util_free_secret). The secrets' text is wiped in libxml2's tree before it
 * is freed. Returns 0, or ERR_UNAVAILABLE with e filled (and every output
 * NULL) for anything else: not XML, a DTD, another root or namespace, an
 * error document, a field missing or empty. */
int awsxml_assume_role(const char *xml, size_t len, char **access_key,
    char **secret_key, char **session_token, char **expiration,
    struct err *e);

#endif
