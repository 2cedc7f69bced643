/* test_retry: retry_delay_ms, the backoff arithmetic (no clock involved).
 *
 * The ceiling for retry `attempt` is min(cap, base * 2^(attempt-1)); the
 * test computes it in long double, where doubling cannot overflow, and
 * checks the delay against it for every policy in the table.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "retry.h"

static const struct retry_policy policies[] = {
	RETRY_DEFAULT,
	{ 3, 1, 1, 1000 },
	{ 8, 100, 100000, 600000 },
	{ 10, 1000, 30000, 600000 },
	{ 5, 7, 1000, 60000 },			/* cap not a power-of-2 step */
	{ 5, 1, LONG_MAX, 0 },			/* a cap doubling never reaches */
	{ 5, 3, LONG_MAX - 1, 0 },		/* 3 * 2^62 overshoots it */
	{ 5, LONG_MAX / 4 + 1, LONG_MAX, 0 },	/* overshoots in two steps */
};
#define NPOLICIES (sizeof(policies) / sizeof(policies[0]))

static const unsigned rnds[] = { 0, 1, 2, 199, 200, 201, 4999, 5000, 5001,
    65535, 1000000, 2147483647u, 2147483648u, UINT_MAX - 1, UINT_MAX };
#define NRNDS (sizeof(rnds) / sizeof(rnds[0]))

static const int attempts[] = { 1, 2, 3, 4, 5, 6, 7, 8, 16, 30, 31, 32, 33,
    59, 60, 61, 62, 63, 64, 65, 100, 1000, INT_MAX };
#define NATTEMPTS (sizeof(attempts) / sizeof(attempts[0]))

static long
ceiling(const struct retry_policy *p, int attempt)
{
	long double c = (long double)p->base_ms;
	int i;

	for (i = 1; i < attempt && c < (long double)p->cap_ms; i++)
		c *= 2;
	/* >=, not >: where long double is only a double (valgrind), LONG_MAX
	 * rounds up to 2^63 and (long)c would overflow */
	if (c >= (long double)p->cap_ms)
		return p->cap_ms;
	return (long)c;
}

static void
test_never_above_ceiling(void **state)
{
	size_t i, j, k;
	long d, c;

	(void)state;
	for (i = 0; i < NPOLICIES; i++)
		for (j = 0; j < NATTEMPTS; j++)
			for (k = 0; k < NRNDS; k++) {
				c = ceiling(&policies[i], attempts[j]);
				d = retry_delay_ms(&policies[i], attempts[j],
				    rnds[k]);
				if (d < 0 || d > c)
					fail_msg("policy %zu attempt %d rnd %u: "
					    "%ld not in [0, %ld]", i, attempts[j],
					    rnds[k], d, c);
			}
}

static void
test_zero_for_rnd_zero(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < NPOLICIES; i++)
		for (j = 0; j < NATTEMPTS; j++)
			if (retry_delay_ms(&policies[i], attempts[j], 0) != 0)
				fail_msg("policy %zu attempt %d: not 0 for rnd 0",
				    i, attempts[j]);
}

/* rnd == ceiling gives the ceiling itself: the range is closed. */
static void
test_reaches_ceiling(void **state)
{
	size_t i, j;
	long c, d;

	(void)state;
	for (i = 0; i < NPOLICIES; i++)
		for (j = 0; j < NATTEMPTS; j++) {
			c = ceiling(&policies[i], attempts[j]);
			if (c > (long)UINT_MAX)
				continue;
			d = retry_delay_ms(&policies[i], attempts[j],
			    (unsigned)c);
			if (d != c)
				fail_msg("policy %zu attempt %d: %ld for rnd == "
				    "ceiling %ld", i, attempts[j], d, c);
		}
}

/* The default policy doubles from 200 ms and stops at 5 s. */
static void
test_default_sequence(void **state)
{
	static const struct retry_policy p = RETRY_DEFAULT;
	static const long want[] = { 200, 400, 800, 1600, 3200, 5000, 5000,
	    5000 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(retry_delay_ms(&p, (int)i + 1,
		    (unsigned)want[i]), want[i]);
		assert_in_range(retry_delay_ms(&p, (int)i + 1, UINT_MAX), 0,
		    want[i]);
	}
}

/* Far past the cap the ceiling stays at cap_ms: no overflow, no wrap to 0
 * or below. With a 32-bit rnd and a huge ceiling, rnd itself comes back. */
static void
test_large_attempts(void **state)
{
	static const struct retry_policy def = RETRY_DEFAULT;
	static const struct retry_policy huge = { 5, 1, LONG_MAX, 0 };
	static const int big[] = { 60, 63, 64, 65, 1000, INT_MAX };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		assert_int_equal(retry_delay_ms(&def, big[i], 5000), 5000);
		assert_in_range(retry_delay_ms(&def, big[i], UINT_MAX), 0, 5000);
		assert_int_equal(retry_delay_ms(&huge, big[i], UINT_MAX),
		    UINT_MAX);
		assert_int_equal(retry_delay_ms(&huge, big[i], 12345), 12345);
	}
}

/* Degenerate policies give no delay rather than a negative one. */
static void
test_degenerate(void **state)
{
	static const struct retry_policy zero_base = { 5, 0, 5000, 60000 };
	static const struct retry_policy zero_cap = { 5, 200, 0, 60000 };
	static const struct retry_policy negative = { 5, -200, 5000, 60000 };

	(void)state;
	assert_int_equal(retry_delay_ms(&zero_base, 3, UINT_MAX), 0);
	assert_int_equal(retry_delay_ms(&zero_cap, 3, UINT_MAX), 0);
	assert_int_equal(retry_delay_ms(&negative, 3, UINT_MAX), 0);
	/* Doubling a negative base must not run into overflow either. */
	assert_int_equal(retry_delay_ms(&negative, 100, UINT_MAX), 0);
	assert_int_equal(retry_delay_ms(&zero_base, 100, UINT_MAX), 0);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_above_ceiling),
		cmocka_unit_test(test_zero_for_rnd_zero),
		cmocka_unit_test(test_reaches_ceiling),
		cmocka_unit_test(test_default_sequence),
		cmocka_unit_test(test_large_attempts),
		cmocka_unit_test(test_degenerate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
