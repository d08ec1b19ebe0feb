/*
 * hashfn.h — the hash function of every rte_hash table in the relay core, and
 * the constructor of the tables all workers share:
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

struct rte_hash;
struct rte_rcu_qsbr;

uint32_t hashfn_xxh3(const void *key, uint32_t key_len, uint32_t init_val);

/*
 * Create a table shared by every worker: XXH3, lock-free readers, several
 * writers, an extendable bucket table, and deleted entries reclaimed through
 * @qsbr (defer queue) so no reader can see a slot reused under it.
 * @return 0 and the table in @out, or -errno (-ENOMEM, -EINVAL, -EEXIST).
 * Main thread, at start-up.
 */
int hashfn_table_create(struct rte_hash **out, const char *name, uint32_t capacity,
			uint32_t key_len, struct rte_rcu_qsbr *qsbr);

#endif /* POSTERN_RELAY_HASHFN_H */
