/*
 * tsclock.h — CLOCK_MONOTONIC nanoseconds derived from the TSC, for loops that
 * need the time on every iteration.
 *
 * A polling worker asks for the time tens of millions of times a second; under
 * a paravirtual clock each clock_gettime() is tens of nanoseconds, a sixth of an
 * idle 64-byte worker's samples. This clock reads it once per resync period and
 * in between scales the TSC delta (constant-rate TSC assumed, as DPDK does).
 *
 * Guarantees: the values never go backwards (a resync that would step back is
 * held at the last value handed out), and stay within the TSC frequency error
 * times the resync period of CLOCK_MONOTONIC (1 ms: ~1 µs at 0.1 % error),
 * plus, for one period, any delay between the caller's TSC reading and the
 * resync's clock_gettime() (a preemption there; nanoseconds otherwise).
 *
 * Threads: one clock per thread; no locking.
 */
#ifndef POSTERN_DATAPLANE_TSCLOCK_H
#define POSTERN_DATAPLANE_TSCLOCK_H

#include <stdint.h>

/* Resync period: long enough that clock_gettime() costs nothing, short enough that drift cannot matter. */
#define DP_TSCLOCK_RESYNC_NS 1000000ull

struct dp_tsclock {
	uint64_t base_tsc;	/* TSC at the last resync */
	uint64_t base_ns;	/* CLOCK_MONOTONIC at the last resync */
	uint64_t period_tsc;	/* resync when the TSC moved this far from base_tsc */
	uint64_t mult;		/* ns per TSC tick, 32.32 fixed point */
	uint64_t last_ns;	/* the largest value handed out */
};

/*
 * Set @c up for a TSC of @hz ticks per second and take the first reading at
 * @tsc. @return 0, or -EINVAL if @hz is below 1 MHz or above 100 GHz.
 */
int dp_tsclock_init(struct dp_tsclock *c, uint64_t hz, uint64_t tsc);

/* Re-read CLOCK_MONOTONIC as the base for @tsc (the slow path of dp_tsclock_ns). */
void dp_tsclock_resync(struct dp_tsclock *c, uint64_t tsc);

/*
 * @return CLOCK_MONOTONIC in ns at TSC reading @tsc, never less than a value
 * returned before. @tsc must not be older than the reading of the previous call.
 */
static inline uint64_t dp_tsclock_ns(struct dp_tsclock *c, uint64_t tsc)
{
	uint64_t ns;

	/*
	 * Resyncing first keeps the delta below period_tsc, so delta × mult stays
	 * under DP_TSCLOCK_RESYNC_NS × 2^32 (~2^52) whatever the frequency.
	 */
	if (__builtin_expect(tsc - c->base_tsc >= c->period_tsc, 0))
		dp_tsclock_resync(c, tsc);
	ns = c->base_ns + (((tsc - c->base_tsc) * c->mult) >> 32);
	if (ns < c->last_ns)
		ns = c->last_ns;
	c->last_ns = ns;
	return ns;
}

#endif
