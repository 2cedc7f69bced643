/* retry: backoff arithmetic and the clock it needs. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "retry.h"

long
retry_delay_ms(const struct retry_policy *p, int attempt, unsigned rnd)
{
	long ceil = p->base_ms;
	int i;

	if (p->base_ms <= 0 || p->cap_ms <= 0)
		return 0;
	/* Clamp before doubling: ceil * 2 must not overflow for any cap. */
	for (i = 1; i < attempt && ceil < p->cap_ms; i++)
		ceil = ceil > p->cap_ms / 2 ? p->cap_ms : ceil * 2;
	if (ceil > p->cap_ms)
		ceil = p->cap_ms;
	return (long)(rnd % ((unsigned long)ceil + 1));
}

long long
retry_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
retry_sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

unsigned
retry_random(void)
{
	static int seeded;
	struct timespec ts;

	if (!seeded) {
		clock_gettime(CLOCK_REALTIME, &ts);
		srandom((unsigned)ts.tv_nsec ^ (unsigned)getpid());
		seeded = 1;
	}
	return (unsigned)random();
}
