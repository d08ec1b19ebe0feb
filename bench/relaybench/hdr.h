/*
 * hdr.h — a latency histogram in the manner of HdrHistogram: log-linear
 * buckets, fixed memory, constant-time recording, mergeable.
 *
 * Values are unsigned integers in the caller's unit (relaybench records
 * nanoseconds). Each power of two is split into HDR_SUB_BUCKETS equal
 * buckets, so a bucket is at most 1/128 of its values wide:
 *
 *	0 .. 255             one bucket per value (exact)
 *	2^e .. 2^(e+1) - 1   128 buckets of width 2^(e-7), for e = 8 .. 35
 *
 * A percentile is reported as the upper end of the bucket that holds it,
 * clamped to the exact minimum and maximum, so it is never below the true
 * value and at most 0.79% above it, for every value up to HDR_VALUE_MAX
 * (68.7 s in nanoseconds: 1 µs to 60 s is covered with room to spare).
 * Larger values are counted in the last bucket and in hdr_overflow(); the
 * maximum stays exact.
 *
 * Memory: about 30 KiB per histogram, allocated once by hdr_create().
 * Threads: a histogram belongs to one thread; merge copies after joining.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_HDR_H
#define POSTERN_BENCH_RELAYBENCH_HDR_H

#include <stdint.h>

enum {
	HDR_SUB_BITS = 7,
	HDR_SUB_BUCKETS = 1 << HDR_SUB_BITS,		/* 128 per power of two */
	HDR_TOP_BIT = 35,				/* values below 2^36 */
	HDR_BUCKETS = (HDR_TOP_BIT - HDR_SUB_BITS + 2) << HDR_SUB_BITS,	/* 3840 */
};

#define HDR_VALUE_MAX ((UINT64_C(1) << (HDR_TOP_BIT + 1)) - 1)

struct hdr;

/* An empty histogram. @return 0 and *@out, or -ENOMEM. */
int hdr_create(struct hdr **out);

/* Free @h. NULL is a no-op. */
void hdr_destroy(struct hdr *h);

/* Count one @value. */
void hdr_record(struct hdr *h, uint64_t value);

/* Forget every value. */
void hdr_reset(struct hdr *h);

/* Add every value of @src to @dst (@src unchanged). */
void hdr_merge(struct hdr *dst, const struct hdr *src);

/* @return how many values were recorded. */
uint64_t hdr_count(const struct hdr *h);

/* @return the exact smallest / largest value recorded, 0 when empty. */
uint64_t hdr_min(const struct hdr *h);
uint64_t hdr_max(const struct hdr *h);

/* @return the exact mean, 0 when empty. */
double hdr_mean(const struct hdr *h);

/* @return how many values were above HDR_VALUE_MAX. */
uint64_t hdr_overflow(const struct hdr *h);

/*
 * @return the value at percentile @pct (0..100; outside is clamped): the
 * smallest bucket upper end at or below which at least ceil(@pct% of count)
 * values lie (at least one), clamped to [min, max]. 0 when empty.
 * The first and last ranks are exact: hdr_percentile(h, 0) == hdr_min(h),
 * hdr_percentile(h, 100) == hdr_max(h). Results never decrease with @pct.
 */
uint64_t hdr_percentile(const struct hdr *h, double pct);

/* Bucket arithmetic, exposed for tests: the bucket of @value and its bounds. */
unsigned hdr_bucket(uint64_t value);
uint64_t hdr_bucket_low(unsigned bucket);
uint64_t hdr_bucket_high(unsigned bucket);

#endif /* POSTERN_BENCH_RELAYBENCH_HDR_H */
