/* test_settings: settings_load precedence and creds_get over a fake environment.
 *
 * The environment is a table per case (fake_env looks names up in it, so
 * the real environment and HOME never leak in). Shared files come from
 * $FIXTURES/profiles/: basic/ ([default] region us-west-2 and keys, [x]
 * region eu-west-1 and keys with a token, [only-in-config] region only),
 * role/ ([deploy] with role_arn, source_profile base) and no-bracket/ (a
 * broken config).
 * IMDS credentials are tested end to end, not here (imds is NULL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "creds.h"
#include "settings.h"
#include "testutil.h"

#define MAX_VARS 12

struct var {
	const char *name;
	const char *value;
};

/* Paths filled in by setup (they depend on $FIXTURES). */
static char basic_creds[4096], basic_config[4096];
static char role_creds[4096], role_config[4096];
static char broken_config[4096], missing_file[4096], home[4096];
static char home_creds[4096], home_config[4096];

static const struct var *env_vars;

static char *
fake_env(const char *name)
{
	const struct var *v;

	for (v = env_vars; v != NULL && v->name != NULL; v++)
		if (strcmp(v->name, name) == 0)
			return (char *)v->value;
	return NULL;
}

#define BASIC_FILES \
	{ "AWS_SHARED_CREDENTIALS_FILE", basic_creds }, \
	{ "AWS_CONFIG_FILE", basic_config }
#define NO_FILES \
	{ "AWS_SHARED_CREDENTIALS_FILE", missing_file }, \
	{ "AWS_CONFIG_FILE", missing_file }
#define ROLE_FILES \
	{ "AWS_SHARED_CREDENTIALS_FILE", role_creds }, \
	{ "AWS_CONFIG_FILE", role_config }

static int
setup(void **state)
{
	const char *f = tu_fixtures();
	const struct {
		char *buf;
		const char *rel;
	} paths[] = {
		{ basic_creds, "profiles/basic/credentials" },
		{ basic_config, "profiles/basic/config" },
		{ role_creds, "profiles/role/credentials" },
		{ role_config, "profiles/role/config" },
		{ broken_config, "profiles/no-bracket/config" },
		{ missing_file, "profiles/missing/no-such-file" },
		{ home, "profiles/no-such-home" },
		{ home_creds, "profiles/no-such-home/.aws/credentials" },
		{ home_config, "profiles/no-such-home/.aws/config" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if ((size_t)snprintf(paths[i].buf, sizeof(basic_creds), "%s/%s",
		    f, paths[i].rel) >= sizeof(basic_creds))
			return -1;
	return 0;
}

/* Compares a string result, NULL included. */
static void
check_str(const char *why, const char *what, const char *got,
    const char *want)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: %s is %s%s%s, expected %s%s%s", why, what,
		    got ? "'" : "", got ? got : "NULL", got ? "'" : "",
		    want ? "'" : "", want ? want : "NULL", want ? "'" : "");
}

static int
load(struct settings *s, const struct settings_in *in, const struct var *env,
    struct err *e)
{
	env_vars = env;
	err_clear(e);
	return settings_load(s, in, fake_env, e);
}

/* ---- region and endpoint precedence ---- */

/* 64 characters: the longest region accepted. */
#define REGION64 \
	"a234567890123456789012345678901234567890123456789012345678901234"

struct where_case {
	const char *why;
	struct settings_in in;
	struct var env[MAX_VARS];
	const char *region, *region_source;
	const char *endpoint, *endpoint_source, *override;
};

static const struct where_case where_cases[] = {
	{ "--region beats everything",
	    { .region = "ap-northeast-1", .cfg_region = "ap-south-1" },
	    { BASIC_FILES, { "AWS_REGION", "eu-central-1" },
	      { "AWS_DEFAULT_REGION", "sa-east-1" } },
	    "ap-northeast-1", "--region",
	    "https://ec2.ap-northeast-1.amazonaws.com", "the region", NULL },
	{ "the config file's region beats the environment",
	    { .cfg_region = "ap-south-1" },
	    { BASIC_FILES, { "AWS_REGION", "eu-central-1" },
	      { "AWS_DEFAULT_REGION", "sa-east-1" } },
	    "ap-south-1", "the config file",
	    "https://ec2.ap-south-1.amazonaws.com", "the region", NULL },
	{ "AWS_REGION beats AWS_DEFAULT_REGION and the profile",
	    { 0 },
	    { BASIC_FILES, { "AWS_REGION", "eu-central-1" },
	      { "AWS_DEFAULT_REGION", "sa-east-1" } },
	    "eu-central-1", "AWS_REGION",
	    "https://ec2.eu-central-1.amazonaws.com", "the region", NULL },
	{ "AWS_DEFAULT_REGION beats the profile",
	    { 0 },
	    { BASIC_FILES, { "AWS_DEFAULT_REGION", "sa-east-1" } },
	    "sa-east-1", "AWS_DEFAULT_REGION",
	    "https://ec2.sa-east-1.amazonaws.com", "the region", NULL },
	{ "an empty AWS_REGION counts as unset",
	    { .region = "", .cfg_region = "" },
	    { BASIC_FILES, { "AWS_REGION", "" },
	      { "AWS_DEFAULT_REGION", "sa-east-1" } },
	    "sa-east-1", "AWS_DEFAULT_REGION",
	    "https://ec2.sa-east-1.amazonaws.com", "the region", NULL },
	{ "the default profile's region comes last",
	    { 0 },
	    { BASIC_FILES },
	    "us-west-2", "the profile",
	    "https://ec2.us-west-2.amazonaws.com", "the region", NULL },
	{ "the selected profile's region",
	    { 0 },
	    { BASIC_FILES, { "AWS_PROFILE", "x" } },
	    "eu-west-1", "the profile",
	    "https://ec2.eu-west-1.amazonaws.com", "the region", NULL },
	{ "no region anywhere: region and endpoint stay NULL (IMDS later)",
	    { 0 },
	    { NO_FILES },
	    NULL, NULL, NULL, NULL, NULL },
	{ "--endpoint beats everything",
	    { .endpoint = "http://127.0.0.1:1", .cfg_endpoint =
	      "http://127.0.0.1:2" },
	    { NO_FILES, { "AWS_REGION", "eu-central-1" },
	      { "AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:3" },
	      { "AWS_ENDPOINT_URL", "http://127.0.0.1:4" } },
	    "eu-central-1", "AWS_REGION",
	    "http://127.0.0.1:1", "--endpoint", "http://127.0.0.1:1" },
	{ "the config file's endpoint beats the environment",
	    { .cfg_endpoint = "http://127.0.0.1:2" },
	    { NO_FILES, { "AWS_REGION", "eu-central-1" },
	      { "AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:3" },
	      { "AWS_ENDPOINT_URL", "http://127.0.0.1:4" } },
	    "eu-central-1", "AWS_REGION",
	    "http://127.0.0.1:2", "the config file", "http://127.0.0.1:2" },
	{ "AWS_ENDPOINT_URL_EC2 beats AWS_ENDPOINT_URL",
	    { 0 },
	    { NO_FILES, { "AWS_REGION", "eu-central-1" },
	      { "AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:3" },
	      { "AWS_ENDPOINT_URL", "http://127.0.0.1:4" } },
	    "eu-central-1", "AWS_REGION",
	    "http://127.0.0.1:3", "AWS_ENDPOINT_URL_EC2",
	    "http://127.0.0.1:3" },
	{ "AWS_ENDPOINT_URL when nothing more specific",
	    { .endpoint = "" },
	    { NO_FILES, { "AWS_REGION", "eu-central-1" },
	      { "AWS_ENDPOINT_URL_EC2", "" },
	      { "AWS_ENDPOINT_URL", "http://127.0.0.1:4" } },
	    "eu-central-1", "AWS_REGION",
	    "http://127.0.0.1:4", "AWS_ENDPOINT_URL", "http://127.0.0.1:4" },
	{ "a 64-character region is still a region",
	    { .region = REGION64 },
	    { NO_FILES },
	    REGION64, "--region", "https://ec2." REGION64 ".amazonaws.com",
	    "the region", NULL },
	{ "an endpoint override without a region",
	    { .endpoint = "http://127.0.0.1:1" },
	    { NO_FILES },
	    NULL, NULL, "http://127.0.0.1:1", "--endpoint",
	    "http://127.0.0.1:1" },
};

static void
test_where(void **state)
{
	const struct where_case *c = *state;
	struct settings s;
	struct err e;
	int rc;

	if ((rc = load(&s, &c->in, c->env, &e)) != 0)
		fail_msg("%s: rc %d '%s'", c->why, rc, e.msg);
	check_str(c->why, "region", s.region, c->region);
	check_str(c->why, "region_source", s.region_source, c->region_source);
	check_str(c->why, "endpoint", s.endpoint, c->endpoint);
	check_str(c->why, "endpoint_source", s.endpoint_source,
	    c->endpoint_source);
	check_str(c->why, "endpoint_override", s.endpoint_override,
	    c->override);
	settings_cleanup(&s);
}

/* ---- which profile, and failures ---- */

struct profile_case {
	const char *why;
	struct settings_in in;
	struct var env[MAX_VARS];
	int rc;
	const char *profile;	/* when rc == 0 */
	int explicit_, found;
	const char *access_key;
	const char *msg;	/* when rc != 0: a substring of e.msg */
};

static const struct profile_case profile_cases[] = {
	{ "no profile named: default, not explicit",
	    { 0 }, { BASIC_FILES },
	    0, "default", 0, 1, "AKIDDEFAULT", NULL },
	{ "AWS_PROFILE selects the profile",
	    { 0 }, { BASIC_FILES, { "AWS_PROFILE", "x" } },
	    0, "x", 1, 1, "AKIDX", NULL },
	{ "the config file's profile beats AWS_PROFILE",
	    { .cfg_profile = "y" }, { BASIC_FILES, { "AWS_PROFILE", "x" } },
	    0, "y", 1, 1, "AKIDY", NULL },
	{ "--profile beats the config file and AWS_PROFILE",
	    { .profile = "x", .cfg_profile = "y" },
	    { BASIC_FILES, { "AWS_PROFILE", "default" } },
	    0, "x", 1, 1, "AKIDX", NULL },
	{ "an empty AWS_PROFILE counts as unset",
	    { 0 }, { BASIC_FILES, { "AWS_PROFILE", "" } },
	    0, "default", 0, 1, "AKIDDEFAULT", NULL },
	{ "an implicit default profile may be missing",
	    { 0 }, { NO_FILES },
	    0, "default", 0, 0, NULL, NULL },
	{ "a missing HOME and no file variables: nothing read, no error",
	    { 0 }, { { "AWS_REGION", "us-east-1" } },
	    0, "default", 0, 0, NULL, NULL },
	{ "explicit unknown profile from AWS_PROFILE",
	    { 0 }, { BASIC_FILES, { "AWS_PROFILE", "nosuch" } },
	    ERR_USAGE, NULL, 0, 0, NULL, "profile 'nosuch' not found" },
	{ "explicit unknown profile from --profile",
	    { .profile = "nosuch" }, { BASIC_FILES },
	    ERR_USAGE, NULL, 0, 0, NULL, "profile 'nosuch' not found" },
	{ "explicit default profile that does not exist",
	    { .profile = "default" }, { NO_FILES },
	    ERR_USAGE, NULL, 0, 0, NULL, "profile 'default' not found" },
	{ "a broken config file fails the load with FILE:LINE",
	    { 0 }, { { "AWS_SHARED_CREDENTIALS_FILE", missing_file },
	      { "AWS_CONFIG_FILE", broken_config } },
	    ERR_USAGE, NULL, 0, 0, NULL, "no-bracket/config:4:" },
	{ "an invalid --region is rejected",
	    { .region = "us-east-1; rm -rf /" }, { NO_FILES },
	    ERR_USAGE, NULL, 0, 0, NULL, "invalid region" },
	{ "an uppercase AWS_REGION is rejected",
	    { 0 }, { NO_FILES, { "AWS_REGION", "US-EAST-1" } },
	    ERR_USAGE, NULL, 0, 0, NULL, "from AWS_REGION" },
	{ "a region with a slash is rejected (it becomes a host name)",
	    { .cfg_region = "evil.com/x" }, { NO_FILES },
	    ERR_USAGE, NULL, 0, 0, NULL, "invalid region" },
	{ "a 65-character region is rejected",
	    { 0 }, { NO_FILES, { "AWS_DEFAULT_REGION",
	      "a234567890123456789012345678901234567890123456789012345678901234"
	      "5" } },
	    ERR_USAGE, NULL, 0, 0, NULL, "invalid region" },
};

static void
test_profile_choice(void **state)
{
	const struct profile_case *c = *state;
	struct settings s;
	struct err e;
	int rc;

	rc = load(&s, &c->in, c->env, &e);
	if (rc != c->rc)
		fail_msg("%s: rc %d '%s', expected %d", c->why, rc, e.msg, c->rc);
	if (rc != 0) {
		if ((int)e.code != rc || strstr(e.msg, c->msg) == NULL)
			fail_msg("%s: code %d message '%s', expected '%s'",
			    c->why, (int)e.code, e.msg, c->msg);
		settings_cleanup(&s);
		return;
	}
	check_str(c->why, "profile", s.profile, c->profile);
	if (s.profile_explicit != c->explicit_ || s.prof.found != c->found)
		fail_msg("%s: explicit %d found %d, expected %d %d", c->why,
		    s.profile_explicit, s.prof.found, c->explicit_, c->found);
	check_str(c->why, "prof.access_key", s.prof.access_key,
	    c->access_key);
	settings_cleanup(&s);
}

/* ---- the rest of the environment ---- */

struct env_case {
	const char *why;
	struct var env[MAX_VARS];
	int imds_disabled;
	const char *imds_endpoint, *ca_bundle, *creds_file, *config_file;
	const char *access_key, *secret_key, *token;
};

#define IMDS_DEFAULT "http://169.254.169.254"

static const struct env_case env_cases[] = {
	{ "defaults, no HOME: no shared files",
	    { { NULL, NULL } },
	    0, IMDS_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "AWS_EC2_METADATA_DISABLED=true",
	    { { "AWS_EC2_METADATA_DISABLED", "true" } },
	    1, IMDS_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "AWS_EC2_METADATA_DISABLED=TRUE (case does not matter)",
	    { { "AWS_EC2_METADATA_DISABLED", "TRUE" } },
	    1, IMDS_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "AWS_EC2_METADATA_DISABLED=false",
	    { { "AWS_EC2_METADATA_DISABLED", "false" } },
	    0, IMDS_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "AWS_EC2_METADATA_DISABLED empty",
	    { { "AWS_EC2_METADATA_DISABLED", "" } },
	    0, IMDS_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the IMDS address",
	    { { "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8111" } },
	    0, "http://127.0.0.1:8111", NULL, NULL, NULL, NULL, NULL, NULL },
	{ "an empty AWS_EC2_METADATA_SERVICE_ENDPOINT keeps the default",
	    { { "AWS_EC2_METADATA_SERVICE_ENDPOINT", "" } },
	    0, IMDS_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "AWS_CA_BUNDLE",
	    { { "AWS_CA_BUNDLE", "/etc/ssl/private-ca.pem" } },
	    0, IMDS_DEFAULT, "/etc/ssl/private-ca.pem", NULL, NULL, NULL, NULL,
	    NULL },
	{ "HOME gives ~/.aws/credentials and ~/.aws/config",
	    { { "HOME", home } },
	    0, IMDS_DEFAULT, NULL, home_creds, home_config, NULL, NULL, NULL },
	{ "AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE beat HOME",
	    { { "HOME", home }, BASIC_FILES },
	    0, IMDS_DEFAULT, NULL, basic_creds, basic_config, NULL, NULL,
	    NULL },
	{ "empty file variables fall back to HOME",
	    { { "HOME", home }, { "AWS_SHARED_CREDENTIALS_FILE", "" },
	      { "AWS_CONFIG_FILE", "" } },
	    0, IMDS_DEFAULT, NULL, home_creds, home_config, NULL, NULL, NULL },
	{ "environment keys are kept, token included",
	    { { "AWS_ACCESS_KEY_ID", "AKIDENV" },
	      { "AWS_SECRET_ACCESS_KEY", "secretenv" },
	      { "AWS_SESSION_TOKEN", "tokenenv" } },
	    0, IMDS_DEFAULT, NULL, NULL, NULL, "AKIDENV", "secretenv",
	    "tokenenv" },
};

static void
test_env(void **state)
{
	const struct env_case *c = *state;
	struct settings s;
	struct settings_in in;
	struct err e;
	int rc;

	memset(&in, 0, sizeof(in));
	if ((rc = load(&s, &in, c->env, &e)) != 0)
		fail_msg("%s: rc %d '%s'", c->why, rc, e.msg);
	if (s.imds_disabled != c->imds_disabled)
		fail_msg("%s: imds_disabled %d", c->why, s.imds_disabled);
	check_str(c->why, "imds_endpoint", s.imds_endpoint, c->imds_endpoint);
	check_str(c->why, "ca_bundle", s.ca_bundle, c->ca_bundle);
	check_str(c->why, "creds_file", s.creds_file, c->creds_file);
	check_str(c->why, "config_file", s.config_file, c->config_file);
	check_str(c->why, "env_access_key", s.env_access_key, c->access_key);
	check_str(c->why, "env_secret_key", s.env_secret_key, c->secret_key);
	check_str(c->why, "env_session_token", s.env_session_token, c->token);
	settings_cleanup(&s);
}

/* A region learnt later (from IMDS) derives the endpoint, unless one was
 * given; a bad one is refused and changes nothing. */
static void
test_set_region(void **state)
{
	static const struct var env[] = { { NULL, NULL } };
	struct settings_in in;
	struct settings s;
	struct err e;

	(void)state;
	memset(&in, 0, sizeof(in));
	assert_int_equal(load(&s, &in, env, &e), 0);
	assert_null(s.region);
	assert_null(s.endpoint);
	assert_int_equal(settings_set_region(&s, "eu-west-3", "IMDS", &e), 0);
	assert_string_equal(s.region, "eu-west-3");
	assert_string_equal(s.region_source, "IMDS");
	assert_string_equal(s.endpoint, "https://ec2.eu-west-3.amazonaws.com");
	assert_int_equal(settings_set_region(&s, "bad region", "IMDS", &e),
	    ERR_USAGE);
	assert_non_null(strstr(e.msg, "bad region"));
	assert_string_equal(s.region, "eu-west-3");
	assert_string_equal(s.endpoint, "https://ec2.eu-west-3.amazonaws.com");
	settings_cleanup(&s);

	in.endpoint = "http://127.0.0.1:9";
	assert_int_equal(load(&s, &in, env, &e), 0);
	assert_int_equal(settings_set_region(&s, "eu-west-3", "IMDS", &e), 0);
	assert_string_equal(s.endpoint, "http://127.0.0.1:9");
	settings_cleanup(&s);
	settings_cleanup(NULL);
}

/* ---- credentials ---- */

struct creds_case {
	const char *why;
	struct settings_in in;
	struct var env[MAX_VARS];
	int rc;
	const char *source;	/* when rc == 0 */
	const char *access_key, *secret_key, *token;
	const char *msg;	/* when rc != 0: a substring of e.msg */
};

static const struct creds_case creds_cases[] = {
	{ "environment keys with a session token",
	    { 0 },
	    { NO_FILES, { "AWS_ACCESS_KEY_ID", "AKIDENV" },
	      { "AWS_SECRET_ACCESS_KEY", "secretenv" },
	      { "AWS_SESSION_TOKEN", "tokenenv" } },
	    0, "environment", "AKIDENV", "secretenv", "tokenenv", NULL },
	{ "environment keys without a token",
	    { 0 },
	    { NO_FILES, { "AWS_ACCESS_KEY_ID", "AKIDENV" },
	      { "AWS_SECRET_ACCESS_KEY", "secretenv" } },
	    0, "environment", "AKIDENV", "secretenv", NULL, NULL },
	{ "environment keys beat the selected profile's",
	    { 0 },
	    { BASIC_FILES, { "AWS_PROFILE", "x" },
	      { "AWS_ACCESS_KEY_ID", "AKIDENV" },
	      { "AWS_SECRET_ACCESS_KEY", "secretenv" } },
	    0, "environment", "AKIDENV", "secretenv", NULL, NULL },
	{ "the default profile's keys",
	    { 0 },
	    { BASIC_FILES },
	    0, "profile", "AKIDDEFAULT", "secretdefault", NULL, NULL },
	{ "a selected profile's keys and token",
	    { .profile = "x" },
	    { BASIC_FILES },
	    0, "profile", "AKIDX", "secretx", "tokenx", NULL },
	{ "AWS_ACCESS_KEY_ID without the secret",
	    { 0 },
	    { BASIC_FILES, { "AWS_ACCESS_KEY_ID", "AKIDENV" } },
	    ERR_USAGE, NULL, NULL, NULL, NULL,
	    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" },
	{ "AWS_SECRET_ACCESS_KEY without the key id",
	    { 0 },
	    { BASIC_FILES, { "AWS_SECRET_ACCESS_KEY", "secretenv" } },
	    ERR_USAGE, NULL, NULL, NULL, NULL,
	    "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not" },
	{ "nothing configured and IMDS disabled",
	    { 0 },
	    { NO_FILES },
	    ERR_USAGE, NULL, NULL, NULL, NULL, "no AWS credentials" },
	{ "an explicit profile without keys does not fall through to IMDS",
	    { .profile = "only-in-config" },
	    { BASIC_FILES },
	    ERR_USAGE, NULL, NULL, NULL, NULL,
	    "profile 'only-in-config' has no credentials" },
	{ "a role_arn profile goes to STS, never to its source's keys alone "
	    "(no HTTP client here: the call cannot be made)",
	    { .profile = "deploy" },
	    { ROLE_FILES },
	    ERR_FAIL, NULL, NULL, NULL, NULL, "no HTTP client to call STS" },
	{ "a role_arn profile named explicitly wins over the environment keys",
	    { .profile = "deploy" },
	    { ROLE_FILES, { "AWS_ACCESS_KEY_ID", "AKIDENV" },
	      { "AWS_SECRET_ACCESS_KEY", "secretenv" } },
	    ERR_FAIL, NULL, NULL, NULL, NULL, "no HTTP client to call STS" },
};

/* creds_chain_new_profile: one named profile, nothing else. */
static const struct creds_case chain_cases[] = {
	{ .why = "a chain for one named profile: its keys, not the "
	      "environment's",
	    .in = { .profile = "base" },
	    .env = { ROLE_FILES, { "AWS_ACCESS_KEY_ID", "AKIDENV" },
	      { "AWS_SECRET_ACCESS_KEY", "secretenv" } },
	    .source = "profile", .access_key = "AKIDBASE",
	    .secret_key = "secretbase" },
	{ .why = "a chain for a named profile that does not exist",
	    .in = { .profile = "nope" },
	    .env = { ROLE_FILES },
	    .rc = ERR_USAGE, .msg = "profile 'nope' not found" },
	{ .why = "a chain for a profile without keys or role does not fall "
	      "through to the environment",
	    .in = { .profile = "only-in-config" },
	    .env = { BASIC_FILES, { "AWS_ACCESS_KEY_ID", "AKIDENV" },
	      { "AWS_SECRET_ACCESS_KEY", "secretenv" } },
	    .rc = ERR_USAGE,
	    .msg = "profile 'only-in-config' has no credentials" },
	{ .why = "a chain for a role profile goes to STS",
	    .in = { .profile = "deploy" },
	    .env = { ROLE_FILES },
	    .rc = ERR_FAIL, .msg = "no HTTP client to call STS" },
};

/* named: a chain for c->in.profile alone (creds_chain_new_profile);
 * settings_load then sees no profile. */
static void
check_creds(const struct creds_case *c, int named)
{
	static const struct creds unset;
	const struct creds *cr, *again;
	struct creds_chain *ch;
	struct settings_in in = c->in;
	struct settings s;
	struct err e;
	int rc;

	if (named)
		in.profile = NULL;
	if ((rc = load(&s, &in, c->env, &e)) != 0)
		fail_msg("%s: settings_load rc %d '%s'", c->why, rc, e.msg);
	ch = named ? creds_chain_new_profile(&s, c->in.profile, NULL, &e) :
	    creds_chain_new(&s, NULL, &e);
	if (ch == NULL)
		fail_msg("%s: creds_chain_new '%s'", c->why, e.msg);
	cr = &unset;	/* creds_get must reset it */
	rc = creds_get(ch, 1700000000, NULL, &cr, &e);
	if (rc != c->rc)
		fail_msg("%s: rc %d '%s', expected %d", c->why, rc, e.msg, c->rc);
	if (rc != 0) {
		if (cr != NULL)
			fail_msg("%s: *out not NULL on failure", c->why);
		if ((int)e.code != rc || strstr(e.msg, c->msg) == NULL)
			fail_msg("%s: code %d message '%s', expected '%s'",
			    c->why, (int)e.code, e.msg, c->msg);
	} else {
		assert_non_null(cr);
		check_str(c->why, "source", cr->source, c->source);
		check_str(c->why, "access_key", cr->access_key, c->access_key);
		check_str(c->why, "secret_key", cr->secret_key, c->secret_key);
		check_str(c->why, "session_token", cr->session_token, c->token);
		if (cr->expiration != 0)
			fail_msg("%s: static keys expire at %lld", c->why,
			    (long long)cr->expiration);
		/* Static keys are resolved once and kept. */
		assert_int_equal(creds_get(ch, 1800000000, NULL, &again, &e),
		    0);
		assert_ptr_equal(again, cr);
		check_str(c->why, "access_key again", again->access_key,
		    c->access_key);
	}
	creds_chain_free(ch);
	settings_cleanup(&s);
	creds_chain_free(NULL);
}

static void
test_creds(void **state)
{
	check_creds(*state, 0);
}

static void
test_chain(void **state)
{
	check_creds(*state, 1);
}

/* The STS endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else
 * none (the region's); never the EC2 endpoint's variables. */
static void
test_sts_endpoint(void **state)
{
	static const struct {
		struct var env[4];
		const char *url, *source;
	} cases[] = {
		{ { { "AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5" },
		    { "AWS_ENDPOINT_URL", "http://127.0.0.1:4" } },
		  "http://127.0.0.1:5", "AWS_ENDPOINT_URL_STS" },
		{ { { "AWS_ENDPOINT_URL_STS", "" },
		    { "AWS_ENDPOINT_URL", "http://127.0.0.1:4" } },
		  "http://127.0.0.1:4", "AWS_ENDPOINT_URL" },
		{ { { "AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:3" } },
		  NULL, NULL },
	};
	struct settings_in in;
	struct settings s;
	struct err e;
	size_t i;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.endpoint = "http://127.0.0.1:1";
	for (i = 0; i < TU_NELEM(cases); i++) {
		assert_int_equal(load(&s, &in, cases[i].env, &e), 0);
		check_str("sts endpoint", "sts_endpoint", s.sts_endpoint,
		    cases[i].url);
		check_str("sts endpoint", "sts_endpoint_source",
		    s.sts_endpoint_source, cases[i].source);
		settings_cleanup(&s);
	}
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_set_region),
		cmocka_unit_test(test_sts_endpoint),
	};
	struct tu_group g = TU_GROUP("settings");

	TU_ADD_ROWS(&g, where_cases, test_where);
	TU_ADD_ROWS(&g, profile_cases, test_profile_choice);
	TU_ADD_ROWS(&g, env_cases, test_env);
	TU_ADD_ROWS(&g, creds_cases, test_creds);
	TU_ADD_ROWS(&g, chain_cases, test_chain);
	tu_add_tests(&g, fixed, TU_NELEM(fixed));
	return tu_run(&g, setup, NULL);
}
