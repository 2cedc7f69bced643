/* retry: capped exponential backoff with full jitter, and a deadline. */
#ifndef RETRY_H
#define RETRY_H

struct retry_policy {
	int max_attempts;	/* total tries, first included */
	long base_ms;		/* first backoff ceiling */
	long cap_ms;		/* largest backoff ceiling */
	long deadline_ms;	/* total time budget across attempts */
};

#define RETRY_DEFAULT { 5, 200, 5000, 60000 }

/* Delay before retry number `attempt` (1 for the first retry): uniform in
 * [0, min(cap, base * 2^(attempt-1))] using rnd (any 32-bit random value). */
long retry_delay_ms(const struct retry_policy *p, int attempt, unsigned rnd);

/* Milliseconds on a monotonic clock. */
long long retry_now_ms(void);
void retry_sleep_ms(long ms);
/* A random 32-bit value for jitter (not for secrets). */
unsigned retry_random(void);

#endif
