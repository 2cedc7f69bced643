/* test_lookup: certname checking and the filter values each strategy tries.
 *
 * Two tables, one cmocka test per row: certnames that lookup_certname_check
 * must accept or refuse, and (strategy, certname) pairs with the values
 * lookup_values must produce. A new case is a new row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lookup.h"
#include "testutil.h"

struct check_case {
	const char *why;
	const char *certname;
	int ok;
};

static const struct check_case check_cases[] = {
	{ "a plain FQDN", "web01.example.com", 1 },
	{ "a single label", "web01", 1 },
	{ "one character", "a", 1 },
	{ "uppercase is allowed", "Web01.Example.COM", 1 },
	{ "underscore and hyphen inside", "node_1-a.example.com", 1 },
	{ "a leading underscore", "_web", 1 },
	{ "an instance id", "i-0123456789abcdef0", 1 },
	{ "'..' inside is only dots, which are allowed", "a..b", 1 },
	{ "a trailing dot", "web01.", 1 },
	{ "empty", "", 0 },
	{ "a leading dot", ".hidden", 0 },
	{ "a leading hyphen (option injection)", "-rf", 0 },
	{ "'..' at the start", "..", 0 },
	{ "a slash", "a/b", 0 },
	{ "path traversal", "../etc/passwd", 0 },
	{ "a space", "web 01", 0 },
	{ "a tab", "web\t01", 0 },
	{ "a newline (log injection)", "web01\nroot", 0 },
	{ "a carriage return", "web01\r", 0 },
	{ "DEL", "web\x7f", 0 },
	{ "a semicolon", "a;reboot", 0 },
	{ "a pipe", "a|b", 0 },
	{ "a dollar", "$HOME", 0 },
	{ "a backquote", "a`id`", 0 },
	{ "an ampersand", "a&b", 0 },
	{ "a colon", "host:8140", 0 },
	{ "an at sign", "root@host", 0 },
	{ "a star", "web*", 0 },
	{ "a quote", "a'b", 0 },
	{ "non-ASCII UTF-8 (e-acute)", "caf\xc3\xa9", 0 },
	{ "a lone high byte", "web\xff", 0 },
	{ "a Latin-1 letter byte", "caf\xe9", 0 },
};

static void
test_check(void **state)
{
	const struct check_case *c = *state;
	struct err e;
	int rc;

	err_clear(&e);
	rc = lookup_certname_check(c->certname, &e);
	if (c->ok && rc != 0)
		fail_msg("%s: refused with %d '%s'", c->why, rc, e.msg);
	if (!c->ok && (rc != ERR_USAGE || e.code != ERR_USAGE ||
	    e.msg[0] == '\0'))
		fail_msg("%s: rc %d code %d message '%s', expected ERR_USAGE",
		    c->why, rc, (int)e.code, e.msg);
}

/* 255 characters is the limit; 256 is refused. */
static void
test_check_length(void **state)
{
	char name[LOOKUP_CERTNAME_MAX + 2];
	struct err e;

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(strlen(name), 256);
	err_clear(&e);
	assert_int_equal(lookup_certname_check(name, &e), ERR_USAGE);
	assert_int_equal(e.code, ERR_USAGE);
	assert_non_null(strstr(e.msg, "255"));
	name[255] = '\0';
	assert_int_equal(lookup_certname_check(name, &e), 0);
}

struct values_case {
	const char *why;
	enum lookup_strategy s;
	const char *certname;
	size_t n;
	const char *v0, *v1;
};

static const struct values_case values_cases[] = {
	{ "a 17-hex instance id", LOOKUP_INSTANCE_ID,
	    "i-0123456789abcdef0", 1, "i-0123456789abcdef0", NULL },
	{ "an instance id as the first DNS label", LOOKUP_INSTANCE_ID,
	    "i-0123456789abcdef0.ec2.internal", 1, "i-0123456789abcdef0", NULL },
	{ "an old 8-hex instance id", LOOKUP_INSTANCE_ID,
	    "i-12345678", 1, "i-12345678", NULL },
	{ "an old 8-hex instance id as a label", LOOKUP_INSTANCE_ID,
	    "i-12345678.example.com", 1, "i-12345678", NULL },
	{ "not hex", LOOKUP_INSTANCE_ID, "i-xyz", 0, NULL, NULL },
	{ "not hex, right length", LOOKUP_INSTANCE_ID,
	    "i-1234567g", 0, NULL, NULL },
	{ "7 hex digits", LOOKUP_INSTANCE_ID, "i-1234567", 0, NULL, NULL },
	{ "9 hex digits", LOOKUP_INSTANCE_ID, "i-123456789", 0, NULL, NULL },
	{ "18 hex digits", LOOKUP_INSTANCE_ID,
	    "i-0123456789abcdef01", 0, NULL, NULL },
	{ "an instance id inside a label", LOOKUP_INSTANCE_ID,
	    "web-i-12345678", 0, NULL, NULL },
	{ "an instance id in the second label", LOOKUP_INSTANCE_ID,
	    "web.i-12345678", 0, NULL, NULL },
	{ "a host name is no instance id", LOOKUP_INSTANCE_ID,
	    "web01.example.com", 0, NULL, NULL },

	{ "private DNS is the whole certname", LOOKUP_PRIVATE_DNS,
	    "ip-10-1-2-3.ec2.internal", 1, "ip-10-1-2-3.ec2.internal", NULL },
	{ "private DNS of a single label", LOOKUP_PRIVATE_DNS,
	    "web01", 1, "web01", NULL },

	{ "a dotted IPv4 address", LOOKUP_PRIVATE_IP,
	    "10.1.2.3", 1, "10.1.2.3", NULL },
	{ "the EC2 private DNS form", LOOKUP_PRIVATE_IP,
	    "ip-10-1-2-3.ec2.internal", 1, "10.1.2.3", NULL },
	{ "the ip- form under any domain", LOOKUP_PRIVATE_IP,
	    "ip-10-1-2-3.example.org", 1, "10.1.2.3", NULL },
	{ "the ip- form alone", LOOKUP_PRIVATE_IP,
	    "ip-172-31-255-0", 1, "172.31.255.0", NULL },
	{ "the largest octets", LOOKUP_PRIVATE_IP,
	    "255.255.255.255", 1, "255.255.255.255", NULL },
	{ "an octet over 255 in the ip- form", LOOKUP_PRIVATE_IP,
	    "ip-10-1-2-300.x", 0, NULL, NULL },
	{ "an octet over 255 dotted", LOOKUP_PRIVATE_IP,
	    "10.1.2.256", 0, NULL, NULL },
	{ "a four-digit octet", LOOKUP_PRIVATE_IP,
	    "1000.1.2.3", 0, NULL, NULL },
	{ "three octets", LOOKUP_PRIVATE_IP, "10.1.2", 0, NULL, NULL },
	{ "five octets", LOOKUP_PRIVATE_IP, "10.1.2.3.4", 0, NULL, NULL },
	{ "three octets in the ip- form", LOOKUP_PRIVATE_IP,
	    "ip-10-1-2.ec2.internal", 0, NULL, NULL },
	{ "five octets in the ip- form", LOOKUP_PRIVATE_IP,
	    "ip-10-1-2-3-4.ec2.internal", 0, NULL, NULL },
	{ "an empty octet", LOOKUP_PRIVATE_IP, "10..2.3", 0, NULL, NULL },
	{ "a dotted address after ip-", LOOKUP_PRIVATE_IP,
	    "ip-10.1.2.3", 0, NULL, NULL },
	{ "a host name is no address", LOOKUP_PRIVATE_IP,
	    "web01.example.com", 0, NULL, NULL },

	{ "an FQDN tries the whole name and the first label", LOOKUP_TAG_NAME,
	    "web01.example.com", 2, "web01.example.com", "web01" },
	{ "a single label tries itself once", LOOKUP_TAG_NAME,
	    "web01", 1, "web01", NULL },
};

static void
test_values(void **state)
{
	const struct values_case *c = *state;
	char vals[2][LOOKUP_CERTNAME_MAX + 1];
	size_t n;

	memset(vals, '#', sizeof(vals));
	vals[0][LOOKUP_CERTNAME_MAX] = vals[1][LOOKUP_CERTNAME_MAX] = '\0';
	n = lookup_values(c->s, c->certname, vals);
	if (n != c->n)
		fail_msg("%s: %s('%s') gave %zu values, expected %zu", c->why,
		    lookup_filter_name(c->s), c->certname, n, c->n);
	if (n >= 1 && strcmp(vals[0], c->v0) != 0)
		fail_msg("%s: value 1 '%s', expected '%s'", c->why, vals[0],
		    c->v0);
	if (n >= 2 && strcmp(vals[1], c->v1) != 0)
		fail_msg("%s: value 2 '%s', expected '%s'", c->why, vals[1],
		    c->v1);
}

/* At the 255-character limit values still fit; beyond it nothing applies. */
static void
test_values_length(void **state)
{
	static const enum lookup_strategy all[] = { LOOKUP_INSTANCE_ID,
	    LOOKUP_PRIVATE_DNS, LOOKUP_PRIVATE_IP, LOOKUP_TAG_NAME };
	char name[LOOKUP_CERTNAME_MAX + 2];
	char vals[2][LOOKUP_CERTNAME_MAX + 1];
	size_t i;

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	name[100] = '.';
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		assert_int_equal(lookup_values(all[i], name, vals), 0);
	name[LOOKUP_CERTNAME_MAX] = '\0';
	assert_int_equal(lookup_values(LOOKUP_TAG_NAME, name, vals), 2);
	assert_string_equal(vals[0], name);
	assert_int_equal(strlen(vals[1]), 100);
	assert_int_equal(lookup_values(LOOKUP_PRIVATE_DNS, name, vals), 1);
	assert_string_equal(vals[0], name);
	name[100] = 'a';
	assert_int_equal(lookup_values(LOOKUP_TAG_NAME, name, vals), 1);
	assert_int_equal(strlen(vals[0]), LOOKUP_CERTNAME_MAX);
}

/* The filter names are EC2's; a typo would match nothing. */
static void
test_filter_names(void **state)
{
	(void)state;
	assert_string_equal(lookup_filter_name(LOOKUP_INSTANCE_ID),
	    "instance-id");
	assert_string_equal(lookup_filter_name(LOOKUP_PRIVATE_DNS),
	    "private-dns-name");
	assert_string_equal(lookup_filter_name(LOOKUP_PRIVATE_IP),
	    "private-ip-address");
	assert_string_equal(lookup_filter_name(LOOKUP_TAG_NAME), "tag:Name");
	assert_int_equal(lookup_default_norder, 4);
	assert_int_equal(lookup_default_order[0], LOOKUP_INSTANCE_ID);
	assert_int_equal(lookup_default_order[1], LOOKUP_PRIVATE_DNS);
	assert_int_equal(lookup_default_order[2], LOOKUP_PRIVATE_IP);
	assert_int_equal(lookup_default_order[3], LOOKUP_TAG_NAME);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_check_length),
		cmocka_unit_test(test_values_length),
		cmocka_unit_test(test_filter_names),
	};
	struct tu_group g = TU_GROUP("lookup");

	TU_ADD_ROWS(&g, check_cases, test_check);
	TU_ADD_ROWS(&g, values_cases, test_values);
	tu_add_tests(&g, fixed, TU_NELEM(fixed));
	return tu_run(&g, NULL, NULL);
}
