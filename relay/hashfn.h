/*
 * hashfn.h — the hash function of every rte_hash table in the relay core:
 * xxHash's XXH3 (64-bit, seeded) folded to 32 bits, with the signature of
 * rte_hash_parameters.hash_func.
 *
 * XXH3 is not collision resistant against an adversary, so no table keys on
 * attacker-chosen bytes alone where a collision could matter: rte_hash compares
 * full keys, a collision only costs a probe.
 *
 * Threads: pure function.
 */
#ifndef POSTERN_RELAY_HASHFN_H
#define POSTERN_RELAY_HASHFN_H

#include <stdint.h>

uint32_t hashfn_xxh3(const void *key, uint32_t key_len, uint32_t init_val);

#endif /* POSTERN_RELAY_HASHFN_H */
