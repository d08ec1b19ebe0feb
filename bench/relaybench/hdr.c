/*
 * hdr.c — log-linear latency histogram (hdr.h).
 *
 * Bucket index of v: below 2^(SUB_BITS + 1) the value itself; above, with e
 * the position of v's highest set bit, (e - SUB_BITS + 1) * 128 plus the 7
 * bits that follow the highest one. The two ranges meet without a gap:
 * for e = 7 both give v. This is HdrHistogram's layout without its
 * half-overlapping sub-buckets, which it needs only for a configurable
 * lowest value.
 */
#include "bench/relaybench/hdr.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hdr {
	uint64_t count, overflow, sum, min, max;
	uint64_t bucket[HDR_BUCKETS];
};

enum { LINEAR_END = HDR_SUB_BUCKETS * 2 };	/* 256: exact below this */

unsigned hdr_bucket(uint64_t v)
{
	unsigned e;

	if (v > HDR_VALUE_MAX)
		return HDR_BUCKETS - 1;
	if (v < LINEAR_END)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return ((e - HDR_SUB_BITS + 1) << HDR_SUB_BITS) +
	       (unsigned)((v >> (e - HDR_SUB_BITS)) & (HDR_SUB_BUCKETS - 1));
}

uint64_t hdr_bucket_low(unsigned b)
{
	unsigned e;

	if (b < LINEAR_END)
		return b;
	e = (b >> HDR_SUB_BITS) + HDR_SUB_BITS - 1;
	return (uint64_t)(HDR_SUB_BUCKETS + (b & (HDR_SUB_BUCKETS - 1))) << (e - HDR_SUB_BITS);
}

uint64_t hdr_bucket_high(unsigned b)
{
	unsigned e;

	if (b < LINEAR_END)
		return b;
	e = (b >> HDR_SUB_BITS) + HDR_SUB_BITS - 1;
	return hdr_bucket_low(b) + (UINT64_C(1) << (e - HDR_SUB_BITS)) - 1;
}

int hdr_create(struct hdr **out)
{
	struct hdr *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	*out = h;
	return 0;
}

void hdr_destroy(struct hdr *h)
{
	free(h);
}

void hdr_record(struct hdr *h, uint64_t v)
{
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	if (v > HDR_VALUE_MAX)
		h->overflow++;
	h->bucket[hdr_bucket(v)]++;
}

void hdr_reset(struct hdr *h)
{
	memset(h, 0, sizeof(*h));
}

void hdr_merge(struct hdr *dst, const struct hdr *src)
{
	if (!src->count)
		return;
	if (!dst->count || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	dst->overflow += src->overflow;
	for (unsigned i = 0; i < HDR_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
}

uint64_t hdr_count(const struct hdr *h)
{
	return h->count;
}

uint64_t hdr_min(const struct hdr *h)
{
	return h->min;
}

uint64_t hdr_max(const struct hdr *h)
{
	return h->max;
}

double hdr_mean(const struct hdr *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

uint64_t hdr_overflow(const struct hdr *h)
{
	return h->overflow;
}

uint64_t hdr_percentile(const struct hdr *h, double pct)
{
	uint64_t rank, seen = 0, v;
	double x;

	if (!h->count)
		return 0;
	if (!(pct > 0))		/* also NaN */
		pct = 0;
	if (pct > 100)
		pct = 100;
	/*
	 * Nearest rank: the ceil(pct% × n)-th smallest value, at least the first.
	 * 99.9 / 100 is not exact in binary; shave the rounding error off before
	 * ceil() so that p99.9 of 1000 values is the 999th, not the 1000th.
	 */
	x = pct / 100.0 * (double)h->count;
	rank = (uint64_t)ceil(x - x * 1e-12);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	/* The extremes are known exactly: no bucket rounding for them. */
	if (rank == 1)
		return h->min;
	if (rank == h->count)
		return h->max;
	for (unsigned i = 0; i < HDR_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen < rank)
			continue;
		v = hdr_bucket_high(i);
		if (v > h->max)
			v = h->max;
		if (v < h->min)
			v = h->min;
		return v;
	}
	return h->max;
}
