/*
 * counters.c — summing and publishing struct counters (counters.h).
 */
#include "bench/relaybench/counters.h"

#include <stddef.h>

enum { N_FIELDS = sizeof(struct counters) / sizeof(uint64_t) };

void counters_add(struct counters *dst, const struct counters *src)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;
	uint64_t p99 = dst->interval_p99_ns > src->interval_p99_ns ? dst->interval_p99_ns :
								     src->interval_p99_ns;

	for (size_t i = 0; i < N_FIELDS; i++)
		d[i] += s[i];
	dst->interval_p99_ns = p99;
}

void counters_publish(struct counters *pub, const struct counters *src)
{
	uint64_t *d = (uint64_t *)pub;
	const uint64_t *s = (const uint64_t *)src;

	for (size_t i = 0; i < N_FIELDS; i++)
		__atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
}

void counters_snapshot(struct counters *dst, const struct counters *pub)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)pub;

	for (size_t i = 0; i < N_FIELDS; i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}
