/*
 * neigh.c — the neighbour cache (see neigh.h for states and refresh policy).
 *
 * The state names are RFC 4861's (7.3.2), with DELAY and PROBE folded into
 * STALE: a STALE entry in use is probed at once, by unicast, at most once per
 * DP_NEIGH_SOLICIT_NS. ARP (RFC 826) shares the same machine.
 */
#include "dataplane/neigh.h"

#include <errno.h>
#include <string.h>

#include <rte_jhash.h>
#include <rte_malloc.h>

struct entry {
	uint8_t family;
	uint8_t state;			/* enum dp_neigh_state */
	uint8_t probes;			/* solicitations since the last confirmation */
	uint8_t q_head, q_len;
	bool sent;			/* has carried our own traffic */
	struct rte_ether_addr mac;
	uint8_t addr[16];
	uint64_t confirmed_ns;		/* last proof of reachability */
	uint64_t used_ns;		/* last output (or creation): LRU for recycling */
	uint64_t next_solicit_ns;	/* earliest time for the next solicitation */
	struct rte_mbuf *q[DP_NEIGH_QUEUE_LEN];
	uint64_t q_ns[DP_NEIGH_QUEUE_LEN];	/* when each was queued */
};

struct dp_neigh {
	unsigned bucket_mask;
	dp_neigh_solicit_fn solicit;
	void *ctx;
	struct dp_l2stats *st;
	struct entry e[];
};

static struct entry *bucket(const struct dp_neigh *nc, uint8_t family, const uint8_t addr[16])
{
	uint32_t key[4], h;

	/* Addresses often point into packets, 2-byte aligned: hash an aligned copy. */
	memcpy(key, addr, sizeof(key));
	h = rte_jhash_32b(key, 4, family);
	return (struct entry *)&nc->e[(h & nc->bucket_mask) * DP_NEIGH_WAYS];
}

static struct entry *find(const struct dp_neigh *nc, uint8_t family, const uint8_t addr[16])
{
	struct entry *b = bucket(nc, family, addr);

	for (unsigned i = 0; i < DP_NEIGH_WAYS; i++)
		if (b[i].state != DP_NEIGH_FREE && b[i].family == family &&
		    memcmp(b[i].addr, addr, 16) == 0)
			return &b[i];
	return NULL;
}

static void queue_drop_head(struct dp_neigh *nc, struct entry *e, enum dp_l2stats_drop why)
{
	rte_pktmbuf_free(e->q[e->q_head]);
	e->q[e->q_head] = NULL;
	e->q_head = (uint8_t)((e->q_head + 1) % DP_NEIGH_QUEUE_LEN);
	e->q_len--;
	nc->st->tx_dropped[why]++;
}

static void entry_clear(struct dp_neigh *nc, struct entry *e, enum dp_l2stats_drop why)
{
	while (e->q_len)
		queue_drop_head(nc, e, why);
	memset(e, 0, sizeof(*e));
}

/*
 * A free way in the bucket, or its least recently used entry, recycled. An
 * entry learned from someone else's packet (@learned) never pushes out one our
 * own traffic used within DP_NEIGH_REACHABLE_NS: a LAN host spraying ARP must
 * not evict the gateway. @return NULL when it would have to.
 */
static struct entry *insert(struct dp_neigh *nc, uint8_t family, const uint8_t addr[16],
			    uint64_t now_ns, bool learned)
{
	struct entry *b = bucket(nc, family, addr), *victim = NULL;

	for (unsigned i = 0; i < DP_NEIGH_WAYS; i++) {
		if (b[i].state == DP_NEIGH_FREE) {
			victim = &b[i];
			break;
		}
		if (!victim || b[i].used_ns < victim->used_ns)
			victim = &b[i];
	}
	if (victim->state != DP_NEIGH_FREE) {
		if (learned && victim->sent && now_ns - victim->used_ns < DP_NEIGH_REACHABLE_NS)
			return NULL;
		nc->st->neigh_recycled++;
	}
	entry_clear(nc, victim, DP_L2STATS_NEIGH_EVICTED);
	victim->family = family;
	memcpy(victim->addr, addr, 16);
	victim->used_ns = now_ns;
	return victim;
}

static void emit(struct dp_neigh *nc, const struct entry *e, struct rte_mbuf *m,
		 struct dp_txv *tx)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(&e->mac, &eth->dst_addr);
	if (!dp_txv_push(tx, m)) {
		rte_pktmbuf_free(m);
		nc->st->tx_dropped[DP_L2STATS_TX_FULL]++;
		return;
	}
	nc->st->tx_frames++;
}

static void solicit(struct dp_neigh *nc, struct entry *e, bool unicast, uint64_t now_ns,
		    struct dp_txv *tx)
{
	e->probes++;
	e->next_solicit_ns = now_ns + DP_NEIGH_SOLICIT_NS;
	nc->solicit(nc->ctx, e->family, e->addr, unicast ? &e->mac : NULL, tx);
}

static void enqueue(struct dp_neigh *nc, struct entry *e, struct rte_mbuf *m, uint64_t now_ns)
{
	unsigned tail;

	if (e->q_len == DP_NEIGH_QUEUE_LEN)
		queue_drop_head(nc, e, DP_L2STATS_NEIGH_QUEUE_FULL);
	tail = (e->q_head + e->q_len) % DP_NEIGH_QUEUE_LEN;
	e->q[tail] = m;
	e->q_ns[tail] = now_ns;
	e->q_len++;
	nc->st->tx_queued++;
}

static void flush(struct dp_neigh *nc, struct entry *e, struct dp_txv *tx)
{
	while (e->q_len) {
		struct rte_mbuf *m = e->q[e->q_head];

		e->q[e->q_head] = NULL;
		e->q_head = (uint8_t)((e->q_head + 1) % DP_NEIGH_QUEUE_LEN);
		e->q_len--;
		nc->st->tx_flushed++;
		emit(nc, e, m, tx);
	}
	e->q_head = 0;
}

void dp_neigh_output(struct dp_neigh *nc, uint8_t family, const uint8_t nh[16],
		     struct rte_mbuf *m, uint64_t now_ns, struct dp_txv *tx)
{
	struct entry *e = find(nc, family, nh);

	if (!e) {
		e = insert(nc, family, nh, now_ns, false);
		e->state = DP_NEIGH_INCOMPLETE;
		nc->st->neigh_created++;
	}
	e->used_ns = now_ns;
	e->sent = true;
	switch (e->state) {
	case DP_NEIGH_REACHABLE:
		if (now_ns - e->confirmed_ns < DP_NEIGH_REACHABLE_NS) {
			emit(nc, e, m, tx);
			return;
		}
		e->state = DP_NEIGH_STALE;
		/* fall through */
	case DP_NEIGH_STALE:
		/* Never hold a packet for a neighbour we have a MAC for: send, then ask. */
		emit(nc, e, m, tx);
		if (now_ns < e->next_solicit_ns)
			return;
		if (e->probes < DP_NEIGH_PROBES) {
			solicit(nc, e, true, now_ns, tx);
			return;
		}
		/* Probes unanswered: the address may have moved without announcing it. */
		e->state = DP_NEIGH_INCOMPLETE;
		memset(&e->mac, 0, sizeof(e->mac));
		e->probes = 0;
		solicit(nc, e, false, now_ns, tx);
		return;
	default:
		enqueue(nc, e, m, now_ns);
		if (now_ns >= e->next_solicit_ns)
			solicit(nc, e, false, now_ns, tx);
		return;
	}
}

bool dp_neigh_resolve(struct dp_neigh *nc, uint8_t family, const uint8_t addr[16],
		      uint64_t now_ns, struct dp_txv *tx)
{
	struct entry *e = find(nc, family, addr);

	if (!e) {
		e = insert(nc, family, addr, now_ns, false);
		e->state = DP_NEIGH_INCOMPLETE;
		nc->st->neigh_created++;
	}
	e->used_ns = now_ns;
	e->sent = true;
	if (e->state != DP_NEIGH_INCOMPLETE)
		return true;
	if (now_ns >= e->next_solicit_ns)
		solicit(nc, e, false, now_ns, tx);
	return false;
}

static void confirm(struct entry *e, uint64_t now_ns)
{
	e->state = DP_NEIGH_REACHABLE;
	e->confirmed_ns = now_ns;
	e->probes = 0;
}

void dp_neigh_learn(struct dp_neigh *nc, uint8_t family, const uint8_t addr[16],
		    const struct rte_ether_addr *mac, unsigned flags, uint64_t now_ns,
		    struct dp_txv *tx)
{
	struct entry *e = find(nc, family, addr);

	if (!e) {
		if (!(flags & DP_NEIGH_CREATE) || !mac)
			return;
		e = insert(nc, family, addr, now_ns, true);
		if (!e)
			return;
		e->mac = *mac;
		e->state = DP_NEIGH_STALE;
		if (flags & DP_NEIGH_CONFIRM)
			confirm(e, now_ns);
		nc->st->neigh_created++;
		return;
	}
	if (e->state == DP_NEIGH_INCOMPLETE) {
		if (!mac)
			return;
		e->mac = *mac;
		e->state = DP_NEIGH_STALE;
		e->probes = 0;
		if (flags & DP_NEIGH_CONFIRM)
			confirm(e, now_ns);
		nc->st->neigh_resolved++;
		flush(nc, e, tx);
		return;
	}
	if (mac && !rte_is_same_ether_addr(mac, &e->mac)) {
		if (!(flags & DP_NEIGH_OVERRIDE)) {
			/* RFC 4861 7.2.5: no override flag, other address: doubt, don't switch. */
			if (e->state == DP_NEIGH_REACHABLE)
				e->state = DP_NEIGH_STALE;
			return;
		}
		e->mac = *mac;
		e->state = DP_NEIGH_STALE;
		nc->st->neigh_changed++;
	}
	if (flags & DP_NEIGH_CONFIRM)
		confirm(e, now_ns);
}

void dp_neigh_tick(struct dp_neigh *nc, uint64_t now_ns, struct dp_txv *tx)
{
	unsigned n = (nc->bucket_mask + 1) * DP_NEIGH_WAYS;

	for (unsigned i = 0; i < n; i++) {
		struct entry *e = &nc->e[i];

		if (e->state == DP_NEIGH_REACHABLE &&
		    now_ns - e->confirmed_ns >= DP_NEIGH_REACHABLE_NS) {
			e->state = DP_NEIGH_STALE;
			continue;
		}
		if (e->state != DP_NEIGH_INCOMPLETE)
			continue;
		while (e->q_len && now_ns - e->q_ns[e->q_head] >= DP_NEIGH_QUEUE_NS)
			queue_drop_head(nc, e, DP_L2STATS_NEIGH_UNRESOLVED);
		if (e->q_len && now_ns >= e->next_solicit_ns)
			solicit(nc, e, false, now_ns, tx);
		else if (!e->q_len && now_ns - e->used_ns >= DP_NEIGH_QUEUE_NS)
			entry_clear(nc, e, DP_L2STATS_NEIGH_UNRESOLVED);
	}
}

bool dp_neigh_lookup(const struct dp_neigh *nc, uint8_t family, const uint8_t addr[16],
		     struct dp_neigh_info *out)
{
	const struct entry *e = find(nc, family, addr);

	if (!e)
		return false;
	out->state = (enum dp_neigh_state)e->state;
	out->mac = e->mac;
	out->queued = e->q_len;
	out->probes = e->probes;
	return true;
}

int dp_neigh_create(struct dp_neigh **out, unsigned n_entries, int socket_id,
		    dp_neigh_solicit_fn solicit_fn, void *ctx, struct dp_l2stats *st)
{
	struct dp_neigh *nc;
	unsigned n = DP_NEIGH_WAYS;

	if (n_entries == 0)
		n_entries = DP_NEIGH_ENTRIES_DEFAULT;
	if (n_entries > DP_NEIGH_ENTRIES_MAX)
		return -EINVAL;
	while (n < n_entries)
		n <<= 1;
	nc = rte_zmalloc_socket("dp_neigh", sizeof(*nc) + n * sizeof(struct entry),
				RTE_CACHE_LINE_SIZE, socket_id);
	if (!nc)
		return -ENOMEM;
	nc->bucket_mask = n / DP_NEIGH_WAYS - 1;
	nc->solicit = solicit_fn;
	nc->ctx = ctx;
	nc->st = st;
	*out = nc;
	return 0;
}

void dp_neigh_destroy(struct dp_neigh *nc)
{
	if (!nc)
		return;
	for (unsigned i = 0; i < (nc->bucket_mask + 1) * DP_NEIGH_WAYS; i++)
		entry_clear(nc, &nc->e[i], DP_L2STATS_NEIGH_EVICTED);
	rte_free(nc);
}
