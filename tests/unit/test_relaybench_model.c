/*
 * test_relaybench_model.c — relaybench's traffic model
 * (bench/relaybench/model.h, rng.h): the rr size classes come out in their
 * documented shares and ranges, messages are cut into the documented chunks,
 * arrivals have the right mean and spread, and the generator is
 * deterministic and unbiased in range.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench/relaybench/model.h"
#include "bench/relaybench/payload.h"

enum { SAMPLES = 200000 };

Test(model, rr_classes_add_up_to_100_percent_and_cover_200B_to_64KB)
{
	unsigned sum = 0;

	for (unsigned i = 0; i < MODEL_RR_CLASSES; i++) {
		sum += model_rr_classes[i].percent;
		cr_expect_lt(model_rr_classes[i].lo, model_rr_classes[i].hi);
		if (i)
			cr_expect_gt(model_rr_classes[i].lo, model_rr_classes[i - 1].hi);
	}
	cr_expect_eq(sum, 100);
	cr_expect_eq(model_rr_classes[0].lo, MODEL_RR_MIN);
	cr_expect_eq(model_rr_classes[MODEL_RR_CLASSES - 1].hi, MODEL_RR_MAX);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* 200 000 draws: each class within 0.5 points of its share, sizes in range, shapes right. */
Test(model, rr_sizes_follow_the_documented_distribution)
{
	static uint32_t large[SAMPLES];
	unsigned n_class[MODEL_RR_CLASSES] = { 0 }, n_large = 0;
	uint64_t small_sum = 0;
	struct rng r;

	rng_seed(&r, 42);
	for (int i = 0; i < SAMPLES; i++) {
		uint32_t s = model_rr_size(&r);
		unsigned c = 0;

		cr_assert(s >= MODEL_RR_MIN && s <= MODEL_RR_MAX, "size %u", s);
		while (c < MODEL_RR_CLASSES && s > model_rr_classes[c].hi)
			c++;
		cr_assert(c < MODEL_RR_CLASSES && s >= model_rr_classes[c].lo,
			  "size %u falls between classes", s);
		n_class[c]++;
		if (c == 0)
			small_sum += s;
		if (c == MODEL_RR_CLASSES - 1)
			large[n_large++] = s;
	}
	for (unsigned c = 0; c < MODEL_RR_CLASSES; c++)
		cr_expect(fabs(100.0 * n_class[c] / SAMPLES - model_rr_classes[c].percent) < 0.5,
			  "class %s: %.2f%% of draws", model_rr_classes[c].name,
			  100.0 * n_class[c] / SAMPLES);
	/* Uniform 200..800: mean 500. */
	cr_expect(fabs((double)small_sum / n_class[0] - 500) < 5);
	/* Log-uniform 4097..65536: the median is the geometric mean, ~16385. */
	qsort(large, n_large, sizeof(large[0]), cmp_u32);
	cr_expect(fabs(large[n_large / 2] / sqrt(4097.0 * 65536.0) - 1) < 0.05,
		  "large median %u", large[n_large / 2]);
}

Test(model, the_same_seed_gives_the_same_sizes)
{
	struct rng a, b, c;
	int same_as_other_seed = 0;

	rng_seed(&a, 7);
	rng_seed(&b, 7);
	rng_seed(&c, 8);
	for (int i = 0; i < 1000; i++) {
		uint32_t x = model_rr_size(&a);

		cr_assert_eq(x, model_rr_size(&b));
		same_as_other_seed += x == model_rr_size(&c);
	}
	cr_expect_lt(same_as_other_seed, 100);
}

Test(model, messages_are_cut_into_1200_byte_chunks)
{
	static const struct {
		uint32_t size;
		unsigned chunks;
		uint32_t last;
	} cases[] = {
		{ 200, 1, 200 },
		{ 1200, 1, 1200 },
		{ 1201, 2, MODEL_CHUNK_MIN },	/* 1 byte left: padded to the header */
		{ 1232, 2, 32 },
		{ 1233, 2, 33 },
		{ 2400, 2, 1200 },
		{ 4096, 4, 496 },
		{ 65536, 55, 736 },
	};

	cr_expect_eq(MODEL_CHUNK_MIN, PAYLOAD_HEADER_LEN);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned n = model_chunks(cases[i].size);

		cr_expect_eq(n, cases[i].chunks, "size %u", cases[i].size);
		for (unsigned k = 0; k + 1 < n; k++)
			cr_expect_eq(model_chunk_len(cases[i].size, k), MODEL_CHUNK);
		cr_expect_eq(model_chunk_len(cases[i].size, n - 1), cases[i].last,
			     "size %u: last chunk", cases[i].size);
	}
	cr_expect_eq(model_chunks(MODEL_RR_MAX), MODEL_CHUNKS_MAX);
}

Test(model, fixed_arrivals_are_evenly_spaced)
{
	struct rng r;

	rng_seed(&r, 1);
	cr_expect_float_eq(model_gap_ns(&r, MODEL_FIXED, 1000), 1e6, 1e-9);
	cr_expect_float_eq(model_gap_ns(&r, MODEL_FIXED, 3), 1e9 / 3, 1e-3);
	cr_expect_float_eq(model_gap_ns(&r, MODEL_FIXED, 2.5e6), 400, 1e-9);
}

/* Exponential gaps: mean 1/rate and standard deviation equal to the mean. */
Test(model, poisson_arrivals_have_exponential_gaps)
{
	double sum = 0, sq = 0, mean, sd;
	struct rng r;

	rng_seed(&r, 99);
	for (int i = 0; i < SAMPLES; i++) {
		double g = model_gap_ns(&r, MODEL_POISSON, 10000);

		cr_assert(g >= 0);
		sum += g;
		sq += g * g;
	}
	mean = sum / SAMPLES;
	sd = sqrt(sq / SAMPLES - mean * mean);
	cr_expect(fabs(mean / 1e5 - 1) < 0.01, "mean gap %.0f ns", mean);
	cr_expect(fabs(sd / mean - 1) < 0.02, "coefficient of variation %.3f", sd / mean);
}

Test(model, rng_range_stays_in_bounds_and_reaches_both_ends)
{
	struct rng r;
	bool lo = false, hi = false;

	rng_seed(&r, 5);
	for (int i = 0; i < 10000; i++) {
		uint64_t v = rng_range(&r, 3, 9);

		cr_assert(v >= 3 && v <= 9);
		lo |= v == 3;
		hi |= v == 9;
		cr_assert_eq(rng_range(&r, 4, 4), 4);
		(void)rng_range(&r, 0, UINT64_MAX);	/* the whole range must not loop */
		cr_assert(rng_unit(&r) < 1.0);
	}
	cr_expect(lo && hi);
}

Test(model, names)
{
	cr_expect_str_eq(model_kind_name(MODEL_RR), "rr");
	cr_expect_str_eq(model_kind_name(MODEL_STREAM), "stream");
	cr_expect_str_eq(model_arrivals_name(MODEL_POISSON), "poisson");
	cr_expect_str_eq(model_arrivals_name(MODEL_FIXED), "fixed");
}
