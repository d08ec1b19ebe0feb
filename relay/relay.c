/*
 * relay.c — creating and destroying the relay core, and its read-only views.
 *
 * relay_create builds, in order: the QSBR variable (one reader thread id per
 * worker, all online), the static-key table and the tunnel directory (both
 * lock-free rte_hash tables reclaimed through it), then each worker.
 * relay_destroy takes every worker offline first, so freeing the tables never
 * waits for a grace period that no running worker would complete.
 */
#include "relay/relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "crypto/suite.h"
#include "relay/core.h"
#include "relay/directory.h"
#include "relay/handle.h"
#include "relay/handoff.h"
#include "relay/identity.h"
#include "wire/hop.h"

void relay_params_default(struct relay_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n_workers = 1;
	p->suites = HOP_SUITES_ALL;
	p->token_skew_s = TOKEN_DEFAULT_SKEW;
	p->max_sessions = 16384;
	p->max_channels = 1024;			/* protocol.md §4 MAX_CHANNELS */
	p->max_channel_ends = 16384;
	p->handshake_budget = 4;		/* ~1 ms of X25519 per burst at most */
	p->handshake_rate = 20;			/* protocol.md §5.2 */
}

static bool params_valid(const struct relay_params *p)
{
	uint32_t share;

	if (p->n_workers == 0 || p->n_workers > RELAY_MAX_WORKERS || !p->trust || !p->pool)
		return false;
	if (p->suites == 0 || (p->suites & ~(unsigned)HOP_SUITES_ALL))
		return false;
	if (p->max_sessions < p->n_workers || p->max_channels == 0 || p->max_channel_ends == 0 ||
	    p->max_channel_ends > HANDLE_SLOT_MAX || p->handshake_rate == 0)
		return false;
	/* Three keypairs (and one spare) per session must fit a receiver index's 24-bit slot. */
	share = (p->max_sessions + p->n_workers - 1) / p->n_workers;
	if ((uint64_t)share * 3 + 1 > HANDLE_SLOT_MAX)
		return false;
	/* Every packet the core sees or builds fits one segment, a message handle in front. */
	if (rte_pktmbuf_priv_size(p->pool) < sizeof(struct pkt_meta) ||
	    rte_pktmbuf_data_room_size(p->pool) < RTE_PKTMBUF_HEADROOM + HANDOFF_MSG_LEN + HOP_MTU)
		return false;
	return true;
}

static int qsbr_create(struct relay *r)
{
	size_t sz = rte_rcu_qsbr_get_memsize(r->p.n_workers);

	r->qsbr = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	if (!r->qsbr)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(r->qsbr, r->p.n_workers))
		return -EINVAL;
	for (unsigned i = 0; i < r->p.n_workers; i++) {
		rte_rcu_qsbr_thread_register(r->qsbr, i);
		rte_rcu_qsbr_thread_online(r->qsbr, i);
	}
	return 0;
}

int relay_create(struct relay **out, const struct relay_params *p)
{
	static unsigned instances;
	char name[32];
	struct relay *r;
	int ret;

	if (!p || !params_valid(p))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->p = *p;
	r->instance = __atomic_fetch_add(&instances, 1, __ATOMIC_RELAXED);
	if (suite_dh_public(r->p.static_priv, r->static_pub)) {
		ret = -EIO;
		goto err;
	}
	ret = qsbr_create(r);
	if (ret)
		goto err;
	snprintf(name, sizeof(name), "pst%u.id", r->instance);
	ret = identity_create(&r->ident, name, p->max_sessions, r->qsbr);
	if (ret)
		goto err;
	snprintf(name, sizeof(name), "pst%u.dir", r->instance);
	ret = directory_create(&r->dir, name, p->max_sessions < 1024 ? 1024 : p->max_sessions,
			       r->qsbr);
	if (ret)
		goto err;
	for (unsigned i = 0; i < p->n_workers; i++) {
		ret = worker_create(r, i, &r->w[i]);
		if (ret)
			goto err;
	}
	*out = r;
	return 0;
err:
	relay_destroy(r);
	return ret;
}

void relay_destroy(struct relay *r)
{
	if (!r)
		return;
	/* Nothing runs now: no grace period may be waited for (see the top of this file). */
	for (unsigned i = 0; r->qsbr && i < r->p.n_workers; i++)
		rte_rcu_qsbr_thread_offline(r->qsbr, i);
	for (unsigned i = 0; i < r->p.n_workers; i++)
		worker_destroy(r->w[i]);
	directory_destroy(r->dir);
	identity_destroy(r->ident);
	rte_free(r->qsbr);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

unsigned relay_worker_count(const struct relay *r)
{
	return r->p.n_workers;
}

struct relay_worker *relay_get_worker(struct relay *r, unsigned id)
{
	return id < r->p.n_workers ? r->w[id] : NULL;
}

void relay_set_clock(struct relay *r, uint64_t now_ns, uint64_t unix_ns)
{
	__atomic_store_n(&r->unix_offset_ns, (int64_t)(unix_ns - now_ns), __ATOMIC_RELAXED);
}

void relay_stats_total(const struct relay *r, struct relay_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < r->p.n_workers; i++) {
		const struct relay_stats *s = &r->w[i]->stats;

		sum->rx_packets += s->rx_packets;
		sum->rx_bytes += s->rx_bytes;
		sum->tx_packets += s->tx_packets;
		sum->tx_bytes += s->tx_bytes;
		sum->forwarded += s->forwarded;
		sum->handled += s->handled;
		sum->originated += s->originated;
		for (unsigned k = 0; k < RELAY_DROP_MAX; k++) {
			sum->dropped[k] += s->dropped[k];
			sum->lost[k] += s->lost[k];
		}
		sum->handoff_out += s->handoff_out;
		sum->handoff_in += s->handoff_in;
		sum->handshakes += s->handshakes;
		sum->cookies_sent += s->cookies_sent;
		sum->sessions += s->sessions;
		sum->channels += s->channels;
		sum->busy_cycles += s->busy_cycles;
		sum->idle_cycles += s->idle_cycles;
		sum->busy_packets += s->busy_packets;
	}
}
