/*
 * hashfn.c — XXH3 for rte_hash (DESIGN.md §2: one data universe, xxHash XXH3).
 */
#include "relay/hashfn.h"

#include <errno.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>
#include <xxhash.h>

uint32_t hashfn_xxh3(const void *key, uint32_t key_len, uint32_t init_val)
{
	uint64_t h = XXH3_64bits_withSeed(key, key_len, init_val);

	/* Fold, not truncate: rte_hash takes the bucket from low bits, the signature from high. */
	return (uint32_t)(h ^ (h >> 32));
}

int hashfn_table_create(struct rte_hash **out, const char *name, uint32_t capacity,
			uint32_t key_len, struct rte_rcu_qsbr *qsbr)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = capacity < 64 ? 64 : capacity,
		.key_len = key_len,
		.hash_func = hashfn_xxh3,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD |
			      RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct rte_hash_rcu_config rcu = { .v = qsbr, .mode = RTE_HASH_QSBR_MODE_DQ };
	struct rte_hash *h;

	h = rte_hash_create(&hp);
	if (!h)
		return rte_errno ? -rte_errno : -ENOMEM;
	if (rte_hash_rcu_qsbr_add(h, &rcu)) {
		int ret = rte_errno ? -rte_errno : -ENOMEM;

		rte_hash_free(h);
		return ret;
	}
	*out = h;
	return 0;
}
