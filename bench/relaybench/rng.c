/*
 * rng.c — SplitMix64 (rng.h).
 */
#include "bench/relaybench/rng.h"

#include <math.h>

void rng_seed(struct rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1, limit, x;

	if (span == 0)		/* the whole 64-bit range */
		return rng_next(r);
	/* Rejection keeps every value equally likely (no modulo bias). */
	limit = UINT64_MAX - UINT64_MAX % span;
	do
		x = rng_next(r);
	while (x >= limit);
	return lo + x % span;
}

double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double rng_exp(struct rng *r, double mean)
{
	/* Inverse transform; 1 - u is in (0, 1], so log() never sees 0. */
	return -mean * log(1.0 - rng_unit(r));
}
