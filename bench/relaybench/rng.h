/*
 * rng.h — a small, fast, seedable pseudo-random generator for the traffic
 * model (message sizes, arrival times, channel choice): SplitMix64
 * (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
 * OOPSLA 2014). Not for keys: keys come from OpenSSL.
 *
 * A generator is a plain value; each thread owns its own. Deterministic: the
 * same seed gives the same sequence on every platform.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_RNG_H
#define POSTERN_BENCH_RELAYBENCH_RNG_H

#include <stdint.h>

struct rng {
	uint64_t state;
};

/* Start @r from @seed (any value, 0 included). */
void rng_seed(struct rng *r, uint64_t seed);

/* @return the next 64 random bits. */
uint64_t rng_next(struct rng *r);

/* @return a uniform value in lo..hi, both included (lo <= hi). */
uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi);

/* @return a uniform double in [0, 1), 53 bits. */
double rng_unit(struct rng *r);

/* @return an exponentially distributed value of mean @mean (Poisson gaps). */
double rng_exp(struct rng *r, double mean);

#endif /* POSTERN_BENCH_RELAYBENCH_RNG_H */
