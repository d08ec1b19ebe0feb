/*
 * echo_core.c — a stand-in for the relay core (relay/relay.h, relay/worker.h)
 * that sends every packet straight back to its sender, from the listener it
 * arrived on. Linked only into sock_bench, to measure a dataplane backend
 * alone: what one packet costs in the backend's receive and transmit path,
 * with no crypto and no tables. Never a substitute for the real core.
 *
 * Accounting follows relay/stats.h: every received packet is handled (echoed)
 * or dropped (tx_full when the backend refuses it).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "relay/pkt.h"
#include "relay/relay.h"
#include "relay/worker.h"

enum {
	TXQ = 64,
};

struct relay_worker {
	struct relay_stats st;
	unsigned id;
	relay_tx_fn tx;
	void *tx_ctx;
	struct rte_mbuf *txq[TXQ];
	unsigned n_txq;
	atomic_bool drain_seen;
	struct relay *r;
} __rte_cache_aligned;

struct relay {
	unsigned n;
	atomic_bool draining;
	struct relay_worker *w[RELAY_MAX_WORKERS];
};

void relay_params_default(struct relay_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n_workers = 1;
	p->max_sessions = 100000;
	p->max_channels = 1024;
	p->handshake_budget = 16;
	p->handshake_rate = 20;
}

int relay_create(struct relay **out, const struct relay_params *p)
{
	struct relay *r;

	if (p->n_workers < 1 || p->n_workers > RELAY_MAX_WORKERS)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->n = p->n_workers;
	for (unsigned i = 0; i < r->n; i++) {
		r->w[i] = rte_zmalloc("echo_worker", sizeof(*r->w[i]), RTE_CACHE_LINE_SIZE);
		if (!r->w[i]) {
			relay_destroy(r);
			return -ENOMEM;
		}
		r->w[i]->id = i;
		r->w[i]->r = r;
	}
	*out = r;
	return 0;
}

void relay_destroy(struct relay *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n; i++) {
		if (r->w[i])
			rte_pktmbuf_free_bulk(r->w[i]->txq, r->w[i]->n_txq);
		rte_free(r->w[i]);
	}
	free(r);
}

unsigned relay_worker_count(const struct relay *r)
{
	return r->n;
}

struct relay_worker *relay_get_worker(struct relay *r, unsigned id)
{
	return id < r->n ? r->w[id] : NULL;
}

const struct relay_stats *relay_worker_stats(const struct relay_worker *w)
{
	return &w->st;
}

void relay_stats_total(const struct relay *r, struct relay_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < r->n; i++) {
		const uint64_t *a = (const uint64_t *)&r->w[i]->st;
		uint64_t *b = (uint64_t *)sum;

		for (unsigned k = 0; k < sizeof(*sum) / sizeof(uint64_t); k++)
			b[k] += a[k];
	}
}

void relay_drain(struct relay *r, uint32_t drain_ms)
{
	(void)drain_ms;
	atomic_store(&r->draining, true);
}

bool relay_is_drained(const struct relay *r)
{
	if (!atomic_load(&((struct relay *)(uintptr_t)r)->draining))
		return false;
	for (unsigned i = 0; i < r->n; i++)
		if (!atomic_load(&r->w[i]->drain_seen))
			return false;
	return true;
}

void relay_worker_attach(struct relay_worker *w, relay_tx_fn tx, void *ctx)
{
	w->tx = tx;
	w->tx_ctx = ctx;
}

void relay_worker_set_wake(struct relay_worker *w, relay_wake_fn wake, void *ctx)
{
	(void)w;
	(void)wake;
	(void)ctx;
}

static unsigned flush(struct relay_worker *w)
{
	unsigned n = w->n_txq, k;

	if (!n)
		return 0;
	k = w->tx(w->tx_ctx, w->txq, (uint16_t)n);
	w->st.tx_packets += k;
	w->st.handled += k;
	w->st.dropped[RELAY_DROP_TX_FULL] += n - k;
	rte_pktmbuf_free_bulk(w->txq + k, n - k);
	w->n_txq = 0;
	return n;
}

void relay_worker_rx(struct relay_worker *w, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
	(void)now_ns;
	for (uint16_t i = 0; i < n; i++) {
		w->st.rx_packets++;
		w->st.rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		/* The meta already names the sender and the listener: echo as is. */
		w->txq[w->n_txq++] = pkts[i];
		if (w->n_txq == TXQ)
			flush(w);
	}
}

unsigned relay_worker_poll(struct relay_worker *w, uint64_t now_ns)
{
	(void)now_ns;
	if (atomic_load_explicit(&w->r->draining, memory_order_relaxed))
		atomic_store(&w->drain_seen, true);
	return flush(w);
}

void relay_worker_account(struct relay_worker *w, uint64_t cycles, unsigned packets, bool busy)
{
	if (busy) {
		w->st.busy_cycles += cycles;
		w->st.busy_packets += packets;
	} else {
		w->st.idle_cycles += cycles;
	}
}

unsigned relay_worker_id(const struct relay_worker *w)
{
	return w->id;
}
