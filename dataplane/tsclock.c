/*
 * tsclock.c — the slow path of tsclock.h: reading CLOCK_MONOTONIC.
 */
#include "dataplane/tsclock.h"

#include <errno.h>
#include <time.h>

void dp_tsclock_resync(struct dp_tsclock *c, uint64_t tsc)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->base_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	c->base_tsc = tsc;
}

int dp_tsclock_init(struct dp_tsclock *c, uint64_t hz, uint64_t tsc)
{
	if (hz < 1000000u || hz > 100000000000ull)
		return -EINVAL;
	c->mult = (1000000000ull << 32) / hz;
	c->period_tsc = hz / 1000000000u * DP_TSCLOCK_RESYNC_NS +
			hz % 1000000000u * DP_TSCLOCK_RESYNC_NS / 1000000000u;
	c->last_ns = 0;
	dp_tsclock_resync(c, tsc);
	return 0;
}
