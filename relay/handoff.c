/*
 * handoff.c — worker inboxes (see handoff.h for the message table).
 */
#include "relay/handoff.h"

#include <string.h>

#include <rte_ring.h>

#include "relay/channel.h"
#include "relay/core.h"
#include "relay/handshake.h"
#include "relay/receive.h"
#include "relay/splice.h"

static void dispatch(struct relay_worker *w, struct rte_mbuf *m)
{
	struct pkt_meta *meta = pkt_meta(m);
	unsigned kind = meta->handoff & ACCT_KIND_MASK;

	switch (kind) {
	case HANDOFF_DATA:
		receive_data(w, m);
		break;
	case HANDOFF_INIT:
		handshake_consume(w, m, true);
		break;
	case HANDOFF_SPLICE:
		splice_deliver(w, m, meta->aux);
		break;
	case HANDOFF_OPEN:
	case HANDOFF_ACCEPTED:
	case HANDOFF_CLOSE:
		channel_message(w, m, kind);
		break;
	default:
		acct_drop(w, m, RELAY_DROP_INTERNAL);
		break;
	}
}

void handoff_send(struct relay_worker *w, unsigned dst, struct rte_mbuf *m,
		  enum handoff_kind kind, uint64_t target, uint16_t reason)
{
	struct pkt_meta *meta = pkt_meta(m);
	struct stage *st;

	meta->handoff = (meta->handoff & ACCT_ORIGINATED) | (uint32_t)kind |
			(uint32_t)reason << ACCT_REASON_SHIFT;
	meta->aux = target;
	if (dst == w->id) {
		dispatch(w, m);
		return;
	}
	if (dst >= w->r->p.n_workers) {
		acct_drop(w, m, RELAY_DROP_STALE_HANDLE);
		return;
	}
	st = &w->stage[dst];
	if (st->n == STAGE_MAX)
		handoff_flush(w);
	st->m[st->n++] = m;
}

uint8_t *handoff_msg_begin(struct rte_mbuf *m, uint64_t from)
{
	uint8_t *p;

	rte_pktmbuf_reset_headroom(m);
	m->data_len = HANDOFF_MSG_LEN;
	m->pkt_len = HANDOFF_MSG_LEN;
	p = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(p, &from, sizeof(from));
	return p + HANDOFF_MSG_LEN;
}

uint64_t handoff_msg_from(struct rte_mbuf *m)
{
	uint64_t from;

	memcpy(&from, rte_pktmbuf_mtod(m, const uint8_t *), sizeof(from));
	return from;
}

static unsigned flush_one(struct relay_worker *w, unsigned dst)
{
	struct stage *st = &w->stage[dst];
	struct relay_worker *to = w->r->w[dst];
	unsigned n = st->n, k;

	st->n = 0;
	k = rte_ring_mp_enqueue_burst(to->inbox, (void *const *)st->m, n, NULL);
	w->stats.handoff_out += k;
	for (unsigned i = k; i < n; i++)
		acct_drop(w, st->m[i], RELAY_DROP_RING_FULL);
	if (k && to->wake)
		to->wake(to->wake_ctx);
	return n;
}

unsigned handoff_flush(struct relay_worker *w)
{
	unsigned n = 0;

	for (unsigned dst = 0; dst < w->r->p.n_workers; dst++)
		if (w->stage[dst].n)
			n += flush_one(w, dst);
	return n;
}

unsigned handoff_poll(struct relay_worker *w)
{
	struct rte_mbuf *m[POLL_BURST];
	unsigned n;

	n = rte_ring_sc_dequeue_burst(w->inbox, (void **)m, POLL_BURST, NULL);
	w->stats.handoff_in += n;
	for (unsigned i = 0; i < n; i++)
		dispatch(w, m[i]);
	return n;
}

void handoff_discard(struct relay_worker *w)
{
	struct rte_mbuf *m;

	/*
	 * A packet in a ring was received (and counted) by one worker and has
	 * no outcome yet; a message is such a packet too (handoff.h). Counting
	 * it here keeps rx = forwarded + handled + dropped true at exit.
	 */
	for (unsigned dst = 0; w->stage && dst < w->r->p.n_workers; dst++) {
		for (unsigned i = 0; i < w->stage[dst].n; i++)
			acct_drop(w, w->stage[dst].m[i], RELAY_DROP_SHUTTING_DOWN);
		w->stage[dst].n = 0;
	}
	while (w->inbox && rte_ring_sc_dequeue(w->inbox, (void **)&m) == 0)
		acct_drop(w, m, RELAY_DROP_SHUTTING_DOWN);
}
