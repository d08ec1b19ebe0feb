/*
 * worker.c — one worker's burst loop entry points (worker.h) and its state.
 *
 * relay_worker_rx, per burst:
 *	1. count and classify every packet (hop_classify), prefetching the next:
 *	   DATA into one vector, HANDSHAKE_INIT into another, the rest dropped
 *	2. DATA first, so data never waits behind handshakes (receive.c)
 *	3. INITs under the per-burst handshake budget (handshake.c)
 *	4. hand staged packets to other workers, flush TX
 * relay_worker_poll, between bursts:
 *	quiescent state (RCU) → trust sweep → control-plane request → inbox
 *	→ timers → drain → directory reclaim → hand-offs → TX flush
 */
#include "relay/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "crypto/token.h"
#include "relay/core.h"
#include "relay/directory.h"
#include "relay/drain.h"
#include "relay/handoff.h"
#include "relay/handshake.h"
#include "relay/inspect.h"
#include "relay/ratelimit.h"
#include "relay/receive.h"
#include "relay/send.h"
#include "relay/session.h"
#include "relay/timers.h"
#include "wire/hop.h"

enum { CLASSIFY_MAX = 64 };

int worker_create(struct relay *r, unsigned id, struct relay_worker **out)
{
	uint32_t share = (r->p.max_sessions + r->p.n_workers - 1) / r->p.n_workers;
	struct relay_worker *w;
	char name[RTE_RING_NAMESIZE];
	int ret;

	w = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*w), RTE_CACHE_LINE_SIZE));
	if (!w)
		return -ENOMEM;
	memset(w, 0, sizeof(*w));
	w->r = r;
	w->id = id;
	w->stage = calloc(r->p.n_workers, sizeof(*w->stage));
	if (!w->stage) {
		ret = -ENOMEM;
		goto err_w;
	}
	snprintf(name, sizeof(name), "pst%u.w%u.in", r->instance, id);
	w->inbox = rte_ring_create(name, INBOX_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!w->inbox) {
		ret = rte_errno ? -rte_errno : -ENOMEM;
		goto err_stage;
	}
	if (cookie_checker_init(&w->cookies, r->static_pub)) {
		ret = -EIO;
		goto err_ring;
	}
	snprintf(name, sizeof(name), "pst%u.w%u.rl", r->instance, id);
	ret = ratelimit_create(&w->rl, name, RATELIMIT_ENTRIES, r->p.handshake_rate);
	if (ret)
		goto err_cookies;
	w->rl_rate = r->p.handshake_rate;
	ret = sessions_init(&w->sess, share);
	if (ret)
		goto err_rl;
	snprintf(name, sizeof(name), "pst%u.w%u.ch", r->instance, id);
	ret = channels_init(&w->chans, name, r->p.max_channel_ends);
	if (ret)
		goto err_sess;
	w->chinfo = calloc(r->p.max_channel_ends, sizeof(*w->chinfo));
	if (!w->chinfo) {
		ret = -ENOMEM;
		goto err_chans;
	}
	*out = w;
	return 0;

err_chans:
	channels_fini(&w->chans);
err_sess:
	sessions_fini(&w->sess);
err_rl:
	ratelimit_destroy(w->rl);
err_cookies:
	cookie_checker_wipe(&w->cookies);
err_ring:
	rte_ring_free(w->inbox);
err_stage:
	free(w->stage);
err_w:
	free(w);
	return ret;
}

void worker_destroy(struct relay_worker *w)
{
	if (!w)
		return;
	handoff_discard(w);
	for (unsigned i = 0; i < w->ntx; i++)
		rte_pktmbuf_free(w->txq[i]);
	w->ntx = 0;
	free(w->chinfo);
	channels_fini(&w->chans);
	sessions_fini(&w->sess);
	ratelimit_destroy(w->rl);
	cookie_checker_wipe(&w->cookies);
	rte_ring_free(w->inbox);
	free(w->stage);
	free(w);
}

void relay_worker_attach(struct relay_worker *w, relay_tx_fn tx, void *ctx)
{
	w->tx = tx;
	w->tx_ctx = ctx;
}

void relay_worker_set_wake(struct relay_worker *w, relay_wake_fn wake, void *ctx)
{
	w->wake = wake;
	w->wake_ctx = ctx;
}

unsigned relay_worker_id(const struct relay_worker *w)
{
	return w->id;
}

const struct relay_stats *relay_worker_stats(const struct relay_worker *w)
{
	return &w->stats;
}

static void rx_chunk(struct relay_worker *w, struct rte_mbuf **pkts, unsigned n)
{
	struct rte_mbuf *data[CLASSIFY_MAX], *init[CLASSIFY_MAX];
	unsigned nd = 0, ni = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		int t;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		w->stats.rx_packets++;
		w->stats.rx_bytes += m->pkt_len;
		/* Whatever the private area held before, this is now a received packet. */
		pkt_meta(m)->handoff = 0;
		pkt_meta(m)->aux = 0;
		if (m->nb_segs != 1 || m->pkt_len != m->data_len) {
			acct_drop(w, m, RELAY_DROP_BAD_HEADER);
			continue;
		}
		t = hop_classify(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, w->r->p.suites);
		switch (t) {
		case HOP_DATA:
			data[nd++] = m;
			break;
		case HOP_HANDSHAKE_INIT:
			init[ni++] = m;
			break;
		case -EPROTO:
			acct_drop(w, m, RELAY_DROP_BAD_VERSION);
			break;
		default:
			/* Errors, and RESP / COOKIE_REPLY, which only a relay sends. */
			acct_drop(w, m, RELAY_DROP_BAD_HEADER);
			break;
		}
	}
	for (unsigned i = 0; i < nd; i++) {
		if (i + 1 < nd)
			rte_prefetch0(rte_pktmbuf_mtod(data[i + 1], void *));
		receive_data(w, data[i]);
	}
	handshake_burst(w, init, ni);
}

void relay_worker_rx(struct relay_worker *w, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
	w->now = now_ns;
	w->hs_burst = 0;
	for (unsigned off = 0; off < n; off += CLASSIFY_MAX) {
		unsigned k = n - off < CLASSIFY_MAX ? n - off : CLASSIFY_MAX;

		rx_chunk(w, pkts + off, k);
	}
	handoff_flush(w);
	send_flush(w);
}

static bool signer_gone(const struct trust_snap *t, const struct token *tok)
{
	for (unsigned i = 0; i < t->n_gone; i++)
		if (!memcmp(t->gone[i], tok->signer_id, TOKEN_SIGNER_ID_LEN))
			return true;
	return false;
}

/*
 * protocol.md §6.3: a revoked token or an untrusted signer ends the sessions
 * it admitted, not only future handshakes. Once per published trust store,
 * each worker checks its own sessions (nobody else may destroy them).
 */
static unsigned trust_sweep(struct relay_worker *w)
{
	const struct trust_snap *t = core_trust(w);
	unsigned ended = 0;

	if (t->gen == w->trust_gen)
		return 0;
	w->trust_gen = t->gen;
	for (uint32_t i = 0; i < w->sess.free.cap; i++) {
		struct session *s = &w->sess.s[i];

		if (!s->live)
			continue;
		if (token_trust_is_revoked(t->trust, s->tok.id) || signer_gone(t, &s->tok)) {
			session_destroy(w, s);
			ended++;
		}
	}
	return ended ? ended : 1;
}

unsigned relay_worker_poll(struct relay_worker *w, uint64_t now_ns)
{
	unsigned work;

	w->now = now_ns;
	/* Between bursts this worker holds no directory, hash entry or trust: quiescent. */
	rte_rcu_qsbr_quiescent(w->r->qsbr, w->id);
	work = trust_sweep(w);
	/* Without a request, this is the control plane's whole cost: one relaxed load. */
	if (unlikely(__atomic_load_n(&w->mbox.state, __ATOMIC_RELAXED) == INSPECT_POSTED))
		work += inspect_answer(w);
	work += handoff_poll(w);
	work += timers_run(w);
	work += drain_step(w);
	directory_reclaim(w->r->dir);
	work += handoff_flush(w);
	work += send_flush(w);
	return work;
}

void relay_worker_account(struct relay_worker *w, uint64_t cycles, unsigned packets, bool busy)
{
	if (busy) {
		w->stats.busy_cycles += cycles;
		w->stats.busy_packets += packets;
	} else {
		w->stats.idle_cycles += cycles;
	}
}
