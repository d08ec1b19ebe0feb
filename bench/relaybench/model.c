/*
 * model.c — message sizes, chunks and arrivals (model.h).
 */
#include "bench/relaybench/model.h"

#include <math.h>

const struct model_class model_rr_classes[MODEL_RR_CLASSES] = {
	{ 80, 200, 800, 0, "small" },
	{ 15, 1024, 4096, 0, "medium" },
	{ 5, 4097, 65536, 1, "large" },
};

uint32_t model_rr_size(struct rng *r)
{
	uint64_t pick = rng_range(r, 0, 99);
	const struct model_class *c = &model_rr_classes[MODEL_RR_CLASSES - 1];
	double v;

	for (unsigned i = 0, acc = 0; i < MODEL_RR_CLASSES; i++) {
		acc += model_rr_classes[i].percent;
		if (pick < acc) {
			c = &model_rr_classes[i];
			break;
		}
	}
	if (!c->log_uniform)
		return (uint32_t)rng_range(r, c->lo, c->hi);
	/* Log-uniform: every doubling of size is equally likely, as file sizes tend to be. */
	v = exp(log(c->lo) + rng_unit(r) * (log(c->hi) - log(c->lo)));
	if (v < c->lo)
		v = c->lo;
	if (v > c->hi)
		v = c->hi;
	return (uint32_t)v;
}

unsigned model_chunks(uint32_t size)
{
	return size ? (size + MODEL_CHUNK - 1) / MODEL_CHUNK : 1;
}

uint32_t model_chunk_len(uint32_t size, unsigned k)
{
	unsigned n = model_chunks(size);
	uint32_t len;

	if (k + 1 < n)
		return MODEL_CHUNK;
	len = size - (n - 1) * MODEL_CHUNK;
	return len < MODEL_CHUNK_MIN ? MODEL_CHUNK_MIN : len;
}

double model_gap_ns(struct rng *r, enum model_arrivals a, double rate)
{
	double mean = 1e9 / rate;

	return a == MODEL_FIXED ? mean : rng_exp(r, mean);
}

const char *model_kind_name(enum model_kind k)
{
	return k == MODEL_STREAM ? "stream" : "rr";
}

const char *model_arrivals_name(enum model_arrivals a)
{
	return a == MODEL_FIXED ? "fixed" : "poisson";
}
