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
	uint64_t resyncs = 0, last_base = 0;

	/* Twice: the first call may fault its code in between the two readings it pairs. */
	cr_assert_eq(dp_tsclock_init(&c, 3000000000ull, mono() * 3), 0);
	cr_assert_eq(dp_tsclock_init(&c, 3000000000ull, mono() * 3), 0);
	for (uint64_t end = mono() + 30000000; ;) {
		uint64_t before = mono();
		uint64_t got = dp_tsclock_ns(&c, mono() * 3);
		uint64_t after = mono();

		if (c.base_tsc != last_base) {
			resyncs++;
			last_base = c.base_tsc;
		}
		/*
		 * Inside [before, after]: 1 µs for rounding, plus up to 20 µs ahead for
		 * a preemption between a resync's TSC and clock readings (tsclock.h).
		 */
		if (got + 1000 < before || got > after + 20000)
			cr_assert_fail("clock %llu outside [%llu, %llu]", (unsigned long long)got,
				       (unsigned long long)before, (unsigned long long)after);
		if (after > end)
			break;
	}
	/* 30 ms of 1 ms periods: the slow path ran, and not on every call. */
	cr_expect(resyncs >= 10 && resyncs <= 40, "%llu resyncs in 30 ms",
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
