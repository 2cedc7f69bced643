/* test_wipe: secrets are zeroed before their memory is freed.
 *
 * util_wipe_hook sees every region util_wipe zeroed (util_free_secret and
 * buf_wipe go through it), while it is still allocated: each test records
 * where a secret lives, frees it the normal way, and checks that exactly
 * that region was wiped and was all zeros at that moment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "awsxml.h"
#include "buf.h"
#include "creds.h"
#include "profile.h"
#include "settings.h"
#include "sigv4.h"
#include "testutil.h"
#include "util.h"

#define MAX_WIPES 256

static struct wipe {
	uintptr_t p;
	size_t n;
	int zero;
} wipes[MAX_WIPES];
static size_t nwipes;

static void
record(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;
	int zero = 1;

	for (i = 0; i < n; i++)
		if (c[i] != 0)
			zero = 0;
	if (nwipes < MAX_WIPES)
		wipes[nwipes++] = (struct wipe){ (uintptr_t)p, n, zero };
}

static int
hook_on(void **state)
{
	(void)state;
	nwipes = 0;
	util_wipe_hook = record;
	return 0;
}

static int
hook_off(void **state)
{
	(void)state;
	util_wipe_hook = NULL;
	return 0;
}

/* Was [p, p+n) wiped (as one region or inside one), all zeros? */
static int
wiped(uintptr_t p, size_t n)
{
	size_t i;

	for (i = 0; i < nwipes; i++)
		if (wipes[i].zero && wipes[i].p <= p &&
		    p + n <= wipes[i].p + wipes[i].n)
			return 1;
	return 0;
}

static size_t
count_wipes(size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < nwipes; i++)
		if (wipes[i].n == n && wipes[i].zero)
			k++;
	return k;
}

static const char *const env_keys[][2] = {
	{ "AWS_ACCESS_KEY_ID", "AKIDWIPE" },
	{ "AWS_SECRET_ACCESS_KEY", "wipesecret0123456789" },
	{ "AWS_SESSION_TOKEN", "wipetoken0123456789" },
	{ "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials" },
	{ "AWS_CONFIG_FILE", "/nonexistent/config" },
};

static char *
fake_env(const char *name)
{
	size_t i;

	for (i = 0; i < TU_NELEM(env_keys); i++)
		if (strcmp(env_keys[i][0], name) == 0)
			return (char *)env_keys[i][1];
	return NULL;
}

/* creds_chain_free wipes the secret key and the session token it held
 * (and settings_cleanup the environment's copies). */
static void
test_creds_free(void **state)
{
	const struct creds *cr;
	struct creds_chain *ch;
	struct settings s;
	struct err e;
	uintptr_t sk, tok, esk;
	size_t nsk, ntok;

	(void)state;
	assert_int_equal(settings_load(&s, &(struct settings_in){ 0 },
	    fake_env, &e), 0);
	assert_non_null(ch = creds_chain_new(&s, NULL, &e));
	assert_int_equal(creds_get(ch, 1700000000, NULL, &cr, &e), 0);
	assert_string_equal(cr->secret_key, "wipesecret0123456789");
	sk = (uintptr_t)cr->secret_key;
	nsk = strlen(cr->secret_key);
	tok = (uintptr_t)cr->session_token;
	ntok = strlen(cr->session_token);
	esk = (uintptr_t)s.env_secret_key;
	assert_true(sk != esk);		/* the chain's own copy */
	nwipes = 0;
	creds_chain_free(ch);
	assert_true(wiped(sk, nsk));
	assert_true(wiped(tok, ntok));
	assert_false(wiped(esk, nsk));	/* not settings' yet */
	settings_cleanup(&s);
	assert_true(wiped(esk, nsk));
}

/* creds_clear on a struct filled by hand. */
static void
test_creds_clear(void **state)
{
	struct creds cr = { 0 };
	uintptr_t sk;

	(void)state;
	assert_non_null(cr.access_key = strdup("AKID"));
	assert_non_null(cr.secret_key = strdup("clearsecret"));
	sk = (uintptr_t)cr.secret_key;
	nwipes = 0;
	creds_clear(&cr);
	assert_true(wiped(sk, strlen("clearsecret")));
	assert_null(cr.secret_key);
	creds_clear(NULL);
}

/* A secret buffer wipes every storage it outgrows, and buf_wipe the last. */
static void
test_buf_secret_growth(void **state)
{
	struct buf b;
	uintptr_t old[16];
	size_t oldsize[16], n = 0, i;
	char chunk[100];

	(void)state;
	memset(chunk, 'k', sizeof(chunk));
	buf_init_secret(&b, 0);
	nwipes = 0;
	for (i = 0; i < 40; i++) {
		if (b.data != NULL && (n == 0 || old[n - 1] !=
		    (uintptr_t)b.data)) {
			assert_true(n < 16);
			old[n] = (uintptr_t)b.data;
			oldsize[n++] = b.size;
		}
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	}
	assert_true(n >= 5);		/* 64 bytes to 4 KiB */
	for (i = 0; i < n; i++)
		if (old[i] != (uintptr_t)b.data)
			assert_true(wiped(old[i], oldsize[i]));
	old[0] = (uintptr_t)b.data;
	oldsize[0] = b.size;
	buf_wipe(&b);
	assert_true(wiped(old[0], oldsize[0]));
}

/* sigv4_signature wipes kSecret ("AWS4" + the secret), the derived key
 * (kDate .. kSigning, 32 bytes) and the HMAC output (32 bytes). */
static void
test_sigv4_keys(void **state)
{
	static const char secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	struct sigv4_scope scope = { "20150830T123600Z", "us-east-1", "iam" };
	struct err e;
	char sig[65];
	size_t i, big = 0;

	(void)state;
	assert_int_equal(sigv4_init(&e), 0);
	nwipes = 0;
	assert_int_equal(sigv4_signature(secret, &scope, "sts", 3, sig), 0);
	assert_int_equal(strlen(sig), 64);
	assert_true(count_wipes(32) >= 2);
	for (i = 0; i < nwipes; i++)
		if (wipes[i].zero && wipes[i].n >= strlen(secret) + 5)
			big++;
	assert_true(big >= 1);
}

/* profile_load wipes its read buffer and chunk; profile_cleanup the keys. */
static void
test_profile_buffers(void **state)
{
	char path[4096];
	struct profile p;
	struct err e;
	uintptr_t sk;
	size_t nsk, i, big = 0;

	(void)state;
	assert_true((size_t)snprintf(path, sizeof(path),
	    "%s/profiles/basic/credentials", tu_fixtures()) < sizeof(path));
	nwipes = 0;
	assert_int_equal(profile_load(path, NULL, "default", &p, &e), 0);
	assert_non_null(p.secret_key);
	assert_true(count_wipes(4096) >= 1);	/* the read(2) chunk */
	for (i = 0; i < nwipes; i++)
		if (wipes[i].zero && wipes[i].n >= 64 && wipes[i].n != 4096)
			big++;
	assert_true(big >= 1);			/* the file's buffer */
	sk = (uintptr_t)p.secret_key;
	nsk = strlen(p.secret_key);
	profile_cleanup(&p);
	assert_true(wiped(sk, nsk));
}

/* awsxml_assume_role wipes the secret's text in libxml2's tree (another
 * copy than the one it returns) before freeing the document. */
static void
test_assume_role_tree(void **state)
{
	static const char xml[] = "<AssumeRoleResponse xmlns=\"https://sts."
	    "amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials>"
	    "<AccessKeyId>ASIAWIPE</AccessKeyId><SecretAccessKey>"
	    "treesecret0123456789</SecretAccessKey><SessionToken>"
	    "treetoken0123456789xyz</SessionToken><Expiration>"
	    "2026-11-22T05:00:00Z</Expiration></Credentials>"
	    "</AssumeRoleResult></AssumeRoleResponse>";
	char *ak, *sk, *tok, *exp;
	struct err e;
	size_t i, nsk = strlen("treesecret0123456789"), elsewhere = 0;

	(void)state;
	nwipes = 0;
	assert_int_equal(awsxml_assume_role(xml, strlen(xml), &ak, &sk, &tok,
	    &exp, &e), 0);
	assert_string_equal(sk, "treesecret0123456789");
	for (i = 0; i < nwipes; i++)
		if (wipes[i].zero && wipes[i].n == nsk &&
		    wipes[i].p != (uintptr_t)sk)
			elsewhere++;
	assert_true(elsewhere >= 1);
	assert_true(count_wipes(strlen("treetoken0123456789xyz")) >= 1);
	util_free_secret(ak);
	util_free_secret(sk);
	util_free_secret(tok);
	free(exp);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_creds_free, hook_on,
		    hook_off),
		cmocka_unit_test_setup_teardown(test_creds_clear, hook_on,
		    hook_off),
		cmocka_unit_test_setup_teardown(test_buf_secret_growth, hook_on,
		    hook_off),
		cmocka_unit_test_setup_teardown(test_sigv4_keys, hook_on,
		    hook_off),
		cmocka_unit_test_setup_teardown(test_profile_buffers, hook_on,
		    hook_off),
		cmocka_unit_test_setup_teardown(test_assume_role_tree, hook_on,
		    hook_off),
	};
	struct tu_group g = TU_GROUP("wipe");

	tu_add_tests(&g, tests, TU_NELEM(tests));
	return tu_run(&g, NULL, NULL);
}
