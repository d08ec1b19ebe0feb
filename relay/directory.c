/*
 * directory.c — (tenant, tunnel) → gateway sessions; the scheme is in directory.h.
 */
#include "relay/directory.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

#include "crypto/token.h"
#include "relay/hashfn.h"

/* Fixed-size key, zero-padded so equal names give equal bytes. */
struct dir_key {
	uint8_t tenant_len;
	uint8_t tunnel_len;
	char tenant[TOKEN_NAME_MAX];
	char tunnel[TOKEN_NAME_MAX];
};

struct dir_member {
	uint64_t session;
	const uint32_t *load;
	const uint64_t *last_rx;
};

struct dir_entry {
	struct dir_entry *retired_next;	/* retire list, under the lock */
	uint64_t retired_token;
	uint32_t n;
	struct dir_member m[];
};

struct directory {
	struct rte_hash *h;
	struct rte_rcu_qsbr *qsbr;
	rte_spinlock_t lock;		/* writers and the retire list */
	struct dir_entry *retired_head, *retired_tail;
	bool have_retired;		/* atomic hint, so reclaim is cheap when idle */
};

static bool make_key(struct dir_key *k, const char *tenant, const uint8_t *tunnel, size_t tlen)
{
	size_t n = strlen(tenant);

	memset(k, 0, sizeof(*k));
	if (n == 0 || n > TOKEN_NAME_MAX || tlen == 0 || tlen > TOKEN_NAME_MAX)
		return false;
	k->tenant_len = (uint8_t)n;
	memcpy(k->tenant, tenant, n);
	k->tunnel_len = (uint8_t)tlen;
	memcpy(k->tunnel, tunnel, tlen);
	return true;
}

int directory_create(struct directory **out, const char *name, uint32_t capacity,
		     struct rte_rcu_qsbr *qsbr)
{
	struct directory *d;
	int ret;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	rte_spinlock_init(&d->lock);
	d->qsbr = qsbr;
	ret = hashfn_table_create(&d->h, name, capacity, sizeof(struct dir_key), qsbr);
	if (ret)
		goto err_d;
	*out = d;
	return 0;

err_d:
	free(d);
	return ret;
}

void directory_destroy(struct directory *d)
{
	const void *key;
	void *data;
	uint32_t it = 0;

	if (!d)
		return;
	while (rte_hash_iterate(d->h, &key, &data, &it) >= 0)
		free(data);
	while (d->retired_head) {
		struct dir_entry *e = d->retired_head;

		d->retired_head = e->retired_next;
		free(e);
	}
	rte_hash_free(d->h);
	free(d);
}

/* Under the lock. The old entry may still be read until a grace period passes. */
static void retire(struct directory *d, struct dir_entry *e)
{
	if (!e)
		return;
	e->retired_next = NULL;
	e->retired_token = rte_rcu_qsbr_start(d->qsbr);
	if (d->retired_tail)
		d->retired_tail->retired_next = e;
	else
		d->retired_head = e;
	d->retired_tail = e;
	__atomic_store_n(&d->have_retired, true, __ATOMIC_RELEASE);
}

static struct dir_entry *entry_new(uint32_t n)
{
	struct dir_entry *e = malloc(sizeof(*e) + (size_t)n * sizeof(e->m[0]));

	if (e) {
		e->retired_next = NULL;
		e->n = n;
	}
	return e;
}

/* Under the lock: make room by forgetting tunnels that have no gateway now. */
static unsigned evict_empty(struct directory *d)
{
	enum { BATCH = 64 };
	struct dir_key keys[BATCH];
	unsigned n = 0, evicted = 0;
	const void *key;
	void *data;
	uint32_t it = 0;

	while (n < BATCH && rte_hash_iterate(d->h, &key, &data, &it) >= 0)
		if (((struct dir_entry *)data)->n == 0)
			memcpy(&keys[n++], key, sizeof(keys[0]));
	for (unsigned i = 0; i < n; i++) {
		if (rte_hash_lookup_data(d->h, &keys[i], &data) < 0)
			continue;
		if (rte_hash_del_key(d->h, &keys[i]) >= 0) {
			retire(d, data);
			evicted++;
		}
	}
	return evicted;
}

int directory_add(struct directory *d, const char *tenant, const char *tunnel,
		  uint64_t session, const uint32_t *load, const uint64_t *last_rx)
{
	struct dir_entry *old = NULL, *e;
	struct dir_key k;
	void *data;
	uint32_t n;
	int ret;

	if (!make_key(&k, tenant, (const uint8_t *)tunnel, strlen(tunnel)))
		return -EINVAL;
	rte_spinlock_lock(&d->lock);
	if (rte_hash_lookup_data(d->h, &k, &data) >= 0)
		old = data;
	n = old ? old->n : 0;
	e = entry_new(n + 1);
	if (!e) {
		ret = -ENOMEM;
		goto out;
	}
	if (n)
		memcpy(e->m, old->m, n * sizeof(e->m[0]));
	e->m[n] = (struct dir_member){ .session = session, .load = load, .last_rx = last_rx };
	ret = rte_hash_add_key_data(d->h, &k, e);
	if (ret < 0 && !old && evict_empty(d))
		ret = rte_hash_add_key_data(d->h, &k, e);
	if (ret < 0) {
		free(e);
		ret = -ENOSPC;
		goto out;
	}
	retire(d, old);
	ret = 0;
out:
	rte_spinlock_unlock(&d->lock);
	return ret;
}

void directory_remove(struct directory *d, const char *tenant, const char *tunnel,
		      uint64_t session)
{
	struct dir_entry *old, *e;
	struct dir_key k;
	void *data;
	uint32_t j = 0;

	if (!make_key(&k, tenant, (const uint8_t *)tunnel, strlen(tunnel)))
		return;
	rte_spinlock_lock(&d->lock);
	if (rte_hash_lookup_data(d->h, &k, &data) < 0)
		goto out;
	old = data;
	e = entry_new(old->n);
	if (!e) {
		/*
		 * No memory for the copy: drop the whole entry instead (readers
		 * then see an unknown tunnel) rather than leave a dead member.
		 */
		if (rte_hash_del_key(d->h, &k) >= 0)
			retire(d, old);
		goto out;
	}
	for (uint32_t i = 0; i < old->n; i++)
		if (old->m[i].session != session)
			e->m[j++] = old->m[i];
	e->n = j;
	if (rte_hash_add_key_data(d->h, &k, e) < 0) {
		free(e);
		goto out;
	}
	retire(d, old);
out:
	rte_spinlock_unlock(&d->lock);
}

enum directory_result directory_pick(const struct directory *d, const char *tenant,
				     const uint8_t *tunnel, size_t tunnel_len, uint64_t now_ns,
				     uint64_t *session)
{
	const struct dir_entry *e;
	uint32_t best = UINT32_MAX;
	bool best_fresh = false;
	struct dir_key k;
	void *data;

	if (!make_key(&k, tenant, tunnel, tunnel_len) ||
	    rte_hash_lookup_data(d->h, &k, &data) < 0)
		return DIRECTORY_UNKNOWN;
	e = data;
	if (e->n == 0)
		return DIRECTORY_EMPTY;
	/*
	 * A gateway that vanished without a goodbye keeps its session until its
	 * keys expire, with 0 channels: the least loaded of all. One heard from
	 * within DIRECTORY_FRESH_NS (it keeps alive every 10 s, §4) wins over it.
	 */
	for (uint32_t i = 0; i < e->n; i++) {
		uint32_t load = __atomic_load_n(e->m[i].load, __ATOMIC_RELAXED);
		uint64_t rx = __atomic_load_n(e->m[i].last_rx, __ATOMIC_RELAXED);
		bool fresh = now_ns < rx || now_ns - rx <= DIRECTORY_FRESH_NS;

		if (best == UINT32_MAX || (fresh && !best_fresh) ||
		    (fresh == best_fresh && load < best)) {
			best = load;
			best_fresh = fresh;
			*session = e->m[i].session;
		}
	}
	return DIRECTORY_FOUND;
}

void directory_reclaim(struct directory *d)
{
	if (!__atomic_load_n(&d->have_retired, __ATOMIC_ACQUIRE))
		return;
	/* Never wait on another worker's writer: try again on the next poll. */
	if (!rte_spinlock_trylock(&d->lock))
		return;
	while (d->retired_head &&
	       rte_rcu_qsbr_check(d->qsbr, d->retired_head->retired_token, false) == 1) {
		struct dir_entry *e = d->retired_head;

		d->retired_head = e->retired_next;
		free(e);
	}
	if (!d->retired_head) {
		d->retired_tail = NULL;
		__atomic_store_n(&d->have_retired, false, __ATOMIC_RELEASE);
	}
	rte_spinlock_unlock(&d->lock);
}
