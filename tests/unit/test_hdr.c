/*
 * test_hdr.c — relaybench's latency histogram (bench/relaybench/hdr.h): the
 * buckets tile every value without gaps, a percentile is never below the
 * true value and at most 1% above it from 1 µs to 60 s, percentiles use the
 * nearest rank and never decrease, merging equals recording into one, and
 * the extremes (empty, overflow, p0, p100) behave as documented.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "bench/relaybench/hdr.h"

#define US UINT64_C(1000)
#define MS UINT64_C(1000000)
#define S UINT64_C(1000000000)

static struct hdr *make(void)
{
	struct hdr *h = NULL;

	cr_assert_eq(hdr_create(&h), 0);
	return h;
}

Test(hdr, empty_reports_zero_everywhere)
{
	struct hdr *h = make();

	cr_expect_eq(hdr_count(h), 0);
	cr_expect_eq(hdr_min(h), 0);
	cr_expect_eq(hdr_max(h), 0);
	cr_expect_eq(hdr_mean(h), 0.0);
	cr_expect_eq(hdr_percentile(h, 50), 0);
	cr_expect_eq(hdr_percentile(h, 100), 0);
	hdr_destroy(h);
}

Test(hdr, buckets_tile_the_value_range)
{
	for (unsigned b = 0; b < HDR_BUCKETS; b++) {
		cr_assert_eq(hdr_bucket(hdr_bucket_low(b)), b, "bucket %u low", b);
		cr_assert_eq(hdr_bucket(hdr_bucket_high(b)), b, "bucket %u high", b);
		if (b + 1 < HDR_BUCKETS)
			cr_assert_eq(hdr_bucket_high(b) + 1, hdr_bucket_low(b + 1),
				     "gap or overlap after bucket %u", b);
	}
	cr_expect_eq(hdr_bucket_low(0), 0);
	cr_expect_eq(hdr_bucket_high(HDR_BUCKETS - 1), HDR_VALUE_MAX);
	cr_expect_eq(hdr_bucket(HDR_VALUE_MAX + 1), HDR_BUCKETS - 1);
	cr_expect(HDR_VALUE_MAX > 60 * S, "60 s must fit");
}

/* Every value from 1 µs to 60 s shares its bucket only with values less than 0.79% above it. */
Test(hdr, bucket_width_is_under_one_percent_from_1us_to_60s)
{
	for (double v = 1e3; v <= 60e9; v *= 1.0007) {
		uint64_t x = (uint64_t)v, hi = hdr_bucket_high(hdr_bucket(x));

		cr_assert(hi >= x);
		cr_assert((double)(hi - x) / (double)x <= 0.0079, "value %llu: bucket ends at %llu",
			  (unsigned long long)x, (unsigned long long)hi);
	}
}

Test(hdr, small_values_are_exact)
{
	struct hdr *h = make();

	for (uint64_t v = 0; v < 256; v++)
		hdr_record(h, v);
	cr_expect_eq(hdr_percentile(h, 50), 127);	/* 128th of 256 */
	cr_expect_eq(hdr_percentile(h, 10), 25);	/* ceil(25.6) = 26th */
	cr_expect_eq(hdr_percentile(h, 100), 255);
	cr_expect_eq(hdr_percentile(h, 0), 0);
	hdr_destroy(h);
}

/* Values i µs for i = 1..100000: the true p-th percentile is p × 1000 µs. */
Test(hdr, percentiles_of_a_uniform_distribution_within_one_percent)
{
	static const struct {
		double pct;
		uint64_t truth;
	} cases[] = {
		{ 1, 1000 * US },
		{ 50, 50000 * US },
		{ 90, 90000 * US },
		{ 99, 99000 * US },
		{ 99.9, 99900 * US },
		{ 99.99, 99990 * US },
		{ 100, 100000 * US },
	};
	struct hdr *h = make();

	for (uint64_t i = 1; i <= 100000; i++)
		hdr_record(h, i * US);
	cr_expect_eq(hdr_count(h), 100000);
	cr_expect_eq(hdr_min(h), 1 * US);
	cr_expect_eq(hdr_max(h), 100000 * US);
	cr_expect_float_eq(hdr_mean(h), 50000.5 * US, 1e-6);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = hdr_percentile(h, cases[i].pct);

		cr_expect(got >= cases[i].truth && got <= cases[i].truth * 1.01,
			  "p%g: %llu, truth %llu", cases[i].pct, (unsigned long long)got,
			  (unsigned long long)cases[i].truth);
	}
	hdr_destroy(h);
}

/* 99.9% of 1000 is the 999th value, not the 1000th (binary rounding of 0.999). */
Test(hdr, nearest_rank_p999_of_1000_values)
{
	struct hdr *h = make();

	for (uint64_t i = 1; i <= 999; i++)
		hdr_record(h, 1 * MS);
	hdr_record(h, 50 * MS);
	cr_expect_leq(hdr_percentile(h, 99.9), (uint64_t)(1.01 * MS));
	cr_expect_eq(hdr_percentile(h, 100), 50 * MS);
	hdr_destroy(h);
}

Test(hdr, percentiles_never_decrease_and_end_at_max)
{
	struct hdr *h = make();
	uint64_t x = 88172645463325252u, prev = 0;

	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		hdr_record(h, 1 * US + x % (10 * S));	/* 1 µs .. 10 s */
	}
	for (double p = 0; p <= 100; p += 0.1) {
		uint64_t v = hdr_percentile(h, p);

		cr_assert_geq(v, prev, "p%g went down", p);
		cr_assert_geq(v, hdr_min(h));
		cr_assert_leq(v, hdr_max(h));
		prev = v;
	}
	cr_expect_eq(hdr_percentile(h, 100), hdr_max(h));
	cr_expect_eq(hdr_percentile(h, 0), hdr_min(h));
	cr_expect_eq(hdr_percentile(h, 250), hdr_max(h), "above 100 is clamped");
	cr_expect_eq(hdr_percentile(h, -3), hdr_min(h), "below 0 is clamped");
	hdr_destroy(h);
}

Test(hdr, bimodal_tail_shows_in_p99_not_p50)
{
	struct hdr *h = make();

	for (int i = 0; i < 980; i++)
		hdr_record(h, 200 * US);
	for (int i = 0; i < 20; i++)
		hdr_record(h, 30 * MS);
	cr_expect_leq(hdr_percentile(h, 50), 202 * US);
	cr_expect_leq(hdr_percentile(h, 98), 202 * US);
	cr_expect_geq(hdr_percentile(h, 99), 30 * MS);
	cr_expect_eq(hdr_max(h), 30 * MS);
	hdr_destroy(h);
}

Test(hdr, merge_equals_recording_into_one)
{
	struct hdr *a = make(), *b = make(), *all = make(), *empty = make();

	for (uint64_t i = 1; i <= 5000; i++) {
		uint64_t v = i * i * 37 % (2 * S) + 1 * US;

		hdr_record(i % 3 ? a : b, v);
		hdr_record(all, v);
	}
	hdr_merge(a, b);
	hdr_merge(a, empty);
	cr_expect_eq(hdr_count(a), hdr_count(all));
	cr_expect_eq(hdr_min(a), hdr_min(all));
	cr_expect_eq(hdr_max(a), hdr_max(all));
	cr_expect_float_eq(hdr_mean(a), hdr_mean(all), 1e-9);
	for (double p = 0; p <= 100; p += 0.5)
		cr_expect_eq(hdr_percentile(a, p), hdr_percentile(all, p), "p%g", p);
	/* Into an empty one: min is taken from the source, not left at 0. */
	hdr_merge(empty, b);
	cr_expect_eq(hdr_min(empty), hdr_min(b));
	hdr_destroy(a);
	hdr_destroy(b);
	hdr_destroy(all);
	hdr_destroy(empty);
}

Test(hdr, overflow_counts_in_the_last_bucket_and_keeps_the_exact_max)
{
	struct hdr *h = make();

	hdr_record(h, 5 * MS);
	hdr_record(h, HDR_VALUE_MAX + 12345);
	cr_expect_eq(hdr_overflow(h), 1);
	cr_expect_eq(hdr_max(h), HDR_VALUE_MAX + 12345);
	cr_expect_eq(hdr_percentile(h, 100), HDR_VALUE_MAX + 12345);
	cr_expect_leq(hdr_percentile(h, 50), (uint64_t)(5.05 * MS));
	hdr_destroy(h);
}

Test(hdr, reset_forgets_everything)
{
	struct hdr *h = make();

	hdr_record(h, 7 * MS);
	hdr_record(h, HDR_VALUE_MAX + 1);
	hdr_reset(h);
	cr_expect_eq(hdr_count(h), 0);
	cr_expect_eq(hdr_overflow(h), 0);
	cr_expect_eq(hdr_max(h), 0);
	hdr_record(h, 3 * US);
	cr_expect_eq(hdr_min(h), 3 * US);
	cr_expect_eq(hdr_percentile(h, 99), 3 * US);
	hdr_destroy(h);
}
