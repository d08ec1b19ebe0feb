/*
 * splice.c — CHANNEL_DATA forwarding (see splice.h).
 */
#include "relay/splice.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "relay/channel.h"
#include "relay/core.h"
#include "relay/handle.h"
#include "relay/handoff.h"
#include "relay/receive.h"
#include "relay/send.h"
#include "wire/frame.h"
#include "wire/hop.h"

/* To the end's owner: seal here, or hand the plaintext over. */
static void route(struct relay_worker *w, struct rte_mbuf *m, uint64_t peer)
{
	unsigned dst = handle_worker(peer);

	if (dst == w->id)
		splice_deliver(w, m, peer);
	else
		handoff_send(w, dst, m, HANDOFF_SPLICE, peer, 0);
}

void splice_packet(struct relay_worker *w, struct session *s, struct rte_mbuf *m,
		   const struct frame *f)
{
	struct rx_ctx ctx = { .m = m, .single = true };
	struct chan *c;
	uint32_t id;

	memcpy(&id, f->body, sizeof(id));
	id = rte_le_to_cpu_32(id);
	c = channel_lookup(w, s, id);
	if (c && c->state == CHAN_OPEN) {
		chan_count_in(w, c, (uint32_t)(f->len - FRAME_CHANNEL_ID_LEN));
		route(w, m, c->peer);
		return;
	}
	if (c) {
		/*
		 * Not open yet: a connector may send its first QUIC packets right
		 * behind the OPEN. Drop them quietly (QUIC retransmits); a CLOSE
		 * would kill the channel that is being opened.
		 */
		acct_drop(w, m, RELAY_DROP_UNKNOWN_CHANNEL);
		return;
	}
	channel_unknown(w, s, &ctx, id);
	if (!ctx.taken)
		rte_pktmbuf_free(m);
}

void splice_frame(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
		  const struct frame_data *d)
{
	struct chan *c = channel_lookup(w, s, d->channel_id);
	struct rte_mbuf *m;
	int off;

	if (!c) {
		channel_unknown(w, s, ctx, d->channel_id);
		return;
	}
	if (c->state != CHAN_OPEN) {
		rx_drop(w, ctx, RELAY_DROP_UNKNOWN_CHANNEL);
		return;
	}
	chan_count_in(w, c, (uint32_t)d->e2e_len);
	m = send_alloc(w);
	if (!m)
		return;
	off = frame_data_encode(send_begin(m), HOP_DATA_PLAINTEXT_MAX, 0, d->channel_id,
				d->e2e, d->e2e_len);
	if (off < 0) {
		acct_drop(w, m, RELAY_DROP_INTERNAL);
		return;
	}
	/* The splice's layout: header, frame, room for the tag. */
	m->data_len = (uint16_t)(HOP_DATA_MIN + off);
	m->pkt_len = m->data_len;
	ctx->forwarded = true;
	route(w, m, c->peer);
}

void splice_deliver(struct relay_worker *w, struct rte_mbuf *m, uint64_t end)
{
	struct chan *c = channel_get(w, end);
	uint8_t *pt;

	if (!c || c->state != CHAN_OPEN) {
		acct_drop(w, m, RELAY_DROP_STALE_HANDLE);
		return;
	}
	chan_count_out(w, c, (uint32_t)(m->data_len - HOP_DATA_MIN - FRAME_DATA_OVERHEAD));
	pt = rte_pktmbuf_mtod_offset(m, uint8_t *, HOP_DATA_HEADER_LEN);
	/* Translate: the frame's body starts with the channel id (§7). */
	frame_put_channel_id(pt + FRAME_HEADER_LEN, c->id);
	send_to_session(w, &w->sess.s[c->session], m, m->data_len - HOP_DATA_MIN, TX_FORWARDED);
}
