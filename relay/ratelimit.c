/*
 * ratelimit.c — token buckets per source address (see ratelimit.h).
 *
 * Tokens are kept in nanoseconds of credit: one INIT costs 1e9 / rate, the
 * bucket holds RATELIMIT_BURST of them, and credit accrues with elapsed time
 * (WireGuard's ratelimiter.c does the same).
 */
#include "relay/ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>

#include "relay/hashfn.h"
#include "relay/pkt.h"

#define IDLE_NS UINT64_C(1000000000)

struct rl_key {
	uint8_t family;
	uint8_t pad[3];
	uint8_t addr[16];
};

struct rl_bucket {
	uint64_t credit_ns;
	uint64_t last_ns;
	bool used;
	struct rl_key key;
};

struct ratelimit {
	struct rte_hash *h;
	struct rl_bucket *b;
	uint32_t cap;
	uint32_t cursor;
	uint64_t cost_ns, max_ns;
};

int ratelimit_create(struct ratelimit **out, const char *name, uint32_t capacity, uint32_t rate)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = capacity,
		.key_len = sizeof(struct rl_key),
		.hash_func = hashfn_xxh3,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct ratelimit *rl;
	int ret;

	if (rate == 0 || capacity < 8)
		return -EINVAL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	rl->cap = capacity;
	ratelimit_set_rate(rl, rate);
	rl->b = calloc(capacity, sizeof(*rl->b));
	if (!rl->b) {
		ret = -ENOMEM;
		goto err_rl;
	}
	rl->h = rte_hash_create(&hp);
	if (!rl->h) {
		ret = rte_errno ? -rte_errno : -ENOMEM;
		goto err_b;
	}
	*out = rl;
	return 0;

err_b:
	free(rl->b);
err_rl:
	free(rl);
	return ret;
}

int ratelimit_set_rate(struct ratelimit *rl, uint32_t rate)
{
	if (rate == 0)
		return -EINVAL;
	rl->cost_ns = 1000000000u / rate;
	rl->max_ns = rl->cost_ns * RATELIMIT_BURST;
	return 0;
}

void ratelimit_destroy(struct ratelimit *rl)
{
	if (!rl)
		return;
	rte_hash_free(rl->h);
	free(rl->b);
	free(rl);
}

static void make_key(struct rl_key *k, const struct pkt_addr *a)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	/* IPv6: one bucket per /64, a host's natural unit of address choice. */
	memcpy(k->addr, a->addr, a->family == PKT_AF_INET ? 4 : 8);
}

bool ratelimit_allow(struct ratelimit *rl, const struct pkt_addr *src, uint64_t now_ns)
{
	struct rl_bucket *b;
	struct rl_key k;
	int32_t pos;

	make_key(&k, src);
	pos = rte_hash_lookup(rl->h, &k);
	if (pos < 0) {
		pos = rte_hash_add_key(rl->h, &k);
		if (pos < 0)
			return false;
		if ((uint32_t)pos >= rl->cap) {
			rte_hash_del_key(rl->h, &k);
			return false;
		}
		b = &rl->b[pos];
		b->used = true;
		b->key = k;
		b->last_ns = now_ns;
		b->credit_ns = rl->max_ns - rl->cost_ns;
		return true;
	}
	b = &rl->b[pos];
	if (now_ns > b->last_ns) {
		b->credit_ns += now_ns - b->last_ns;
		b->last_ns = now_ns;
	}
	/* Also after ratelimit_set_rate() lowered the burst. */
	if (b->credit_ns > rl->max_ns)
		b->credit_ns = rl->max_ns;
	if (b->credit_ns < rl->cost_ns)
		return false;
	b->credit_ns -= rl->cost_ns;
	return true;
}

void ratelimit_expire(struct ratelimit *rl, uint64_t now_ns, unsigned budget)
{
	for (unsigned i = 0; i < budget && i < rl->cap; i++) {
		struct rl_bucket *b = &rl->b[rl->cursor];

		if (b->used && now_ns >= b->last_ns + IDLE_NS) {
			rte_hash_del_key(rl->h, &b->key);
			b->used = false;
		}
		rl->cursor = rl->cursor + 1 == rl->cap ? 0 : rl->cursor + 1;
	}
}
