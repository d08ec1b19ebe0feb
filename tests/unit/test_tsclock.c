/*
 * test_tsclock.c — dataplane/tsclock.h: the TSC-scaled clock a polling worker
 * reads every iteration. Driven with made-up TSC values, so every case knows
 * exactly what the answer must be.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <time.h>

#include "dataplane/tsclock.h"

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

Test(tsclock, refuses_frequencies_no_tsc_has)
{
	static const uint64_t bad[] = { 0, 1, 999999, 100000000001ull, UINT64_MAX };
	struct dp_tsclock c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(dp_tsclock_init(&c, bad[i], 0), -EINVAL, "hz %llu",
			     (unsigned long long)bad[i]);
	cr_expect_eq(dp_tsclock_init(&c, 1000000, 0), 0);
	cr_expect_eq(dp_tsclock_init(&c, 100000000000ull, 0), 0);
}

/* Within one period the clock is base + delta / hz, to the nanosecond (± 1 of rounding). */
Test(tsclock, scales_the_tsc_between_resyncs)
{
	static const uint64_t hz[] = { 1000000, 1000000000, 2100000000, 3456789012ull,
				       100000000000ull };

	for (size_t i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		struct dp_tsclock c;
		uint64_t tsc0 = 1234567, base, got, want, period = hz[i] / 1000;

		cr_assert_eq(dp_tsclock_init(&c, hz[i], tsc0), 0);
		base = dp_tsclock_ns(&c, tsc0);
		/* The last tick before a resync: the largest product the fast path forms. */
		got = dp_tsclock_ns(&c, tsc0 + period - 1);
		want = (uint64_t)((long double)(period - 1) * 1e9L / (long double)hz[i]);
		cr_expect(got - base >= want - 1 && got - base <= want + 1,
			  "hz %llu: +%llu ns, want %llu", (unsigned long long)hz[i],
			  (unsigned long long)(got - base), (unsigned long long)want);
		cr_expect_eq(c.base_tsc, tsc0, "hz %llu: resynced early",
			     (unsigned long long)hz[i]);
	}
}

/* A TSC that runs exactly 3 ticks per real nanosecond: the clock follows CLOCK_MONOTONIC. */
Test(tsclock, follows_clock_monotonic_across_resyncs)
{
	struct dp_tsclock c;
	uint64_t resyncs = 0, calls = 0, last_base, max_lag, start, now;

	/* Twice: the first call may fault its code in between the two readings it pairs. */
	cr_assert_eq(dp_tsclock_init(&c, 3000000000ull, mono() * 3), 0);
	cr_assert_eq(dp_tsclock_init(&c, 3000000000ull, mono() * 3), 0);
	last_base = c.base_tsc;
	max_lag = c.base_ns - c.base_tsc / 3;
	start = mono();
	/* 30 ms and at least 12 resyncs (a preempted test sees fewer periods), at most 5 s. */
	do {
		uint64_t t = mono();
		uint64_t got = dp_tsclock_ns(&c, t * 3);
		uint64_t after = mono();

		calls++;
		if (c.base_tsc != last_base) {
			resyncs++;
			last_base = c.base_tsc;
			/* This call resynced: its clock reading lies between t and after. */
			if (c.base_ns < t || c.base_ns > after)
				cr_assert_fail("resync read %llu outside [%llu, %llu]",
					       (unsigned long long)c.base_ns, (unsigned long long)t,
					       (unsigned long long)after);
			/*
			 * Until the next resync the clock runs ahead of the real one by
			 * the delay between this call's TSC and clock readings (a
			 * preemption there; tsclock.h); a value handed out in an
			 * earlier period may hold it there, never further.
			 */
			if (c.base_ns - t > max_lag)
				max_lag = c.base_ns - t;
		}
		/* Never behind the real clock, never further ahead than that; 1 µs of rounding. */
		if (got + 1000 < t || got > after + max_lag + 1000)
			cr_assert_fail("clock %llu outside [%llu, %llu + %llu]",
				       (unsigned long long)got, (unsigned long long)t,
				       (unsigned long long)after, (unsigned long long)max_lag);
		now = after;
	} while ((now - start < 30000000 || resyncs < 12) && now - start < 5000000000ull);
	/* 1 ms periods: at most one resync per elapsed millisecond (plus the first), not every call. */
	cr_expect(resyncs >= 12, "%llu resyncs in %llu ms", (unsigned long long)resyncs,
		  (unsigned long long)((now - start) / 1000000));
	cr_expect(resyncs <= (now - start) / DP_TSCLOCK_RESYNC_NS + 1, "%llu resyncs in %llu ns",
		  (unsigned long long)resyncs, (unsigned long long)(now - start));
	cr_expect(calls >= 4 * resyncs, "%llu calls, %llu resyncs", (unsigned long long)calls,
		  (unsigned long long)resyncs);
}

/* A TSC claimed at the wrong rate runs ahead; the resync must never step back. */
Test(tsclock, never_goes_backwards_when_the_rate_is_wrong)
{
	struct dp_tsclock c;
	uint64_t tsc = 1000, prev = 0, stepped_back = 0;

	/* Claimed 1 GHz, advanced 0.9 ms of ticks per call: 9 s of TSC time in no real time. */
	cr_assert_eq(dp_tsclock_init(&c, 1000000000, tsc), 0);
	for (unsigned i = 0; i < 10000; i++) {
		uint64_t now, base_before = c.base_ns;

		tsc += 900000;
		now = dp_tsclock_ns(&c, tsc);
		cr_assert_geq(now, prev, "call %u: %llu after %llu", i,
			      (unsigned long long)now, (unsigned long long)prev);
		if (c.base_ns < base_before + 900000 && c.base_tsc == tsc)
			stepped_back++;
		prev = now;
	}
	/* The case was real: resyncs did find the real clock behind the scaled one. */
	cr_expect_gt(stepped_back, 0);
}
