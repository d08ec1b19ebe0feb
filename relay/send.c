/*
 * send.c — sealing for a session and the TX queue (see send.h).
 */
#include "relay/send.h"

#include <rte_mbuf.h>

#include "crypto/aead.h"
#include "relay/core.h"
#include "wire/frame.h"
#include "wire/hop.h"

struct rte_mbuf *send_alloc(struct relay_worker *w)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->r->p.pool);

	if (!m) {
		w->stats.lost[RELAY_DROP_NO_MBUF]++;
		return NULL;
	}
	acct_originate(w, m);
	return m;
}

uint8_t *send_begin(struct rte_mbuf *m)
{
	rte_pktmbuf_reset_headroom(m);
	m->data_len = HOP_DATA_HEADER_LEN;
	m->pkt_len = HOP_DATA_HEADER_LEN;
	return rte_pktmbuf_mtod_offset(m, uint8_t *, HOP_DATA_HEADER_LEN);
}

void send_to_session(struct relay_worker *w, struct session *s, struct rte_mbuf *m,
		     size_t pt_len, unsigned tx_outcome)
{
	uint16_t len = (uint16_t)(HOP_DATA_MIN + pt_len);
	struct pkt_meta *meta = pkt_meta(m);
	struct keypair *kp;
	uint64_t counter;
	uint8_t *p;

	/* Frames are built within HOP_DATA_PLAINTEXT_MAX and pools are checked at create. */
	if (pt_len > HOP_DATA_PLAINTEXT_MAX || (uint32_t)m->data_off + len > m->buf_len) {
		acct_drop(w, m, RELAY_DROP_INTERNAL);
		return;
	}
	kp = session_tx_keypair(w, s, &counter);
	if (!kp) {
		acct_drop(w, m, RELAY_DROP_PEER_GONE);
		return;
	}
	m->data_len = len;
	m->pkt_len = len;
	p = rte_pktmbuf_mtod(m, uint8_t *);
	hop_data_header_write(p, kp->remote_index, counter);
	if (aead_seal(kp->send, counter, p, HOP_DATA_HEADER_LEN, p + HOP_DATA_HEADER_LEN, pt_len,
		      p + HOP_DATA_HEADER_LEN)) {
		acct_drop(w, m, RELAY_DROP_INTERNAL);
		return;
	}
	meta->peer = s->peer;
	meta->listener = s->listener;
	session_count_tx(s, len);
	send_tx(w, m, tx_outcome);
}

void send_tx(struct relay_worker *w, struct rte_mbuf *m, unsigned tx_outcome)
{
	struct pkt_meta *meta = pkt_meta(m);

	if (!acct_is_originated(m)) {
		if (tx_outcome == TX_FORWARDED)
			w->stats.forwarded++;
		else
			w->stats.handled++;
	}
	/* Remember the outcome: a refusal by the backend turns it into tx_full. */
	meta->handoff = (meta->handoff & ACCT_ORIGINATED) | (tx_outcome & ACCT_KIND_MASK);
	w->txq[w->ntx++] = m;
	if (w->ntx == TX_QUEUE_MAX)
		send_flush(w);
}

static void refused(struct relay_worker *w, struct rte_mbuf *m)
{
	uint32_t tag = pkt_meta(m)->handoff;

	w->stats.tx_bytes -= m->pkt_len;
	if (tag & ACCT_ORIGINATED) {
		w->stats.lost[RELAY_DROP_TX_FULL]++;
	} else {
		if ((tag & ACCT_KIND_MASK) == TX_FORWARDED)
			w->stats.forwarded--;
		else
			w->stats.handled--;
		w->stats.dropped[RELAY_DROP_TX_FULL]++;
	}
	rte_pktmbuf_free(m);
}

unsigned send_flush(struct relay_worker *w)
{
	unsigned n = w->ntx, k = 0;
	uint64_t bytes = 0;

	if (!n)
		return 0;
	w->ntx = 0;
	/* Count bytes first: once the backend holds an mbuf, the core must not touch it. */
	for (unsigned i = 0; i < n; i++)
		bytes += w->txq[i]->pkt_len;
	w->stats.tx_bytes += bytes;
	if (w->tx)
		k = w->tx(w->tx_ctx, w->txq, (uint16_t)n);
	if (k > n)
		k = n;
	w->stats.tx_packets += k;
	for (unsigned i = k; i < n; i++)
		refused(w, w->txq[i]);
	return n;
}

void send_close(struct relay_worker *w, struct session *s, struct rte_mbuf *m,
		uint32_t channel_id, uint16_t reason)
{
	uint8_t *pt;
	int off;

	if (!m)
		m = send_alloc(w);
	if (!m)
		return;
	pt = send_begin(m);
	off = frame_close_encode(pt, HOP_DATA_PLAINTEXT_MAX, 0, channel_id, reason);
	if (off < 0) {
		acct_drop(w, m, RELAY_DROP_INTERNAL);
		return;
	}
	send_to_session(w, s, m, (size_t)off, TX_HANDLED);
}

void send_goaway(struct relay_worker *w, struct session *s, uint16_t reason, uint32_t drain_ms)
{
	struct rte_mbuf *m = send_alloc(w);
	uint8_t *pt;
	int off;

	if (!m)
		return;
	pt = send_begin(m);
	off = frame_goaway_encode(pt, HOP_DATA_PLAINTEXT_MAX, 0, reason, drain_ms);
	if (off < 0) {
		acct_drop(w, m, RELAY_DROP_INTERNAL);
		return;
	}
	send_to_session(w, s, m, (size_t)off, TX_HANDLED);
}
