/*
 * hashfn.c — XXH3 for rte_hash (DESIGN.md §2: one data universe, xxHash XXH3).
 */
#include "relay/hashfn.h"

#include <xxhash.h>

uint32_t hashfn_xxh3(const void *key, uint32_t key_len, uint32_t init_val)
{
	uint64_t h = XXH3_64bits_withSeed(key, key_len, init_val);

	/* Fold, not truncate: rte_hash takes the bucket from low bits, the signature from high. */
	return (uint32_t)(h ^ (h >> 32));
}
