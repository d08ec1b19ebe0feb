/*
 * receive.c — DATA packets, protocol.md §4.1, and their frames, §7.
 */
#include "relay/receive.h"

#include <string.h>

#include "crypto/aead.h"
#include "relay/channel.h"
#include "relay/core.h"
#include "relay/handle.h"
#include "relay/handoff.h"
#include "relay/send.h"
#include "relay/splice.h"
#include "wire/frame.h"
#include "wire/hop.h"

struct rte_mbuf *rx_take(struct relay_worker *w, struct rx_ctx *ctx)
{
	if (ctx->single && !ctx->taken) {
		if (!ctx->counted) {
			w->stats.handled++;
			ctx->counted = true;
		}
		ctx->taken = true;
		acct_originate(w, ctx->m);
		return ctx->m;
	}
	return send_alloc(w);
}

void rx_drop(struct relay_worker *w, struct rx_ctx *ctx, enum relay_drop reason)
{
	if (ctx->counted)
		return;
	w->stats.dropped[reason]++;
	ctx->counted = true;
}

static void ping(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
		 const uint8_t *opaque)
{
	uint8_t copy[FRAME_PING_LEN];
	struct rte_mbuf *m;
	int off;

	/* The PONG may be written over the PING's own bytes. */
	memcpy(copy, opaque, sizeof(copy));
	m = rx_take(w, ctx);
	if (!m)
		return;
	off = frame_pong_encode(send_begin(m), HOP_DATA_PLAINTEXT_MAX, 0, copy);
	if (off < 0) {
		acct_drop(w, m, RELAY_DROP_INTERNAL);
		return;
	}
	send_to_session(w, s, m, (size_t)off, TX_HANDLED);
}

/* One frame, already validated by frame_validate(): the decoders cannot fail. */
static void act(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
		const struct frame *f)
{
	struct frame_open open;
	struct frame_close close;
	struct frame_data data;
	uint32_t id;

	switch (f->type) {
	case FRAME_CHANNEL_OPEN:
		if (frame_open_decode(f->body, f->len, &open) == 0)
			channel_open_rx(w, s, ctx, &open);
		break;
	case FRAME_CHANNEL_ACCEPT:
		if (frame_accept_decode(f->body, f->len, &id) == 0)
			channel_accept_rx(w, s, ctx, id);
		break;
	case FRAME_CHANNEL_CLOSE:
		if (frame_close_decode(f->body, f->len, &close) == 0)
			channel_close_rx(w, s, ctx, &close);
		break;
	case FRAME_CHANNEL_DATA:
		if (frame_data_decode(f->body, f->len, &data) == 0)
			splice_frame(w, s, ctx, &data);
		break;
	case FRAME_PING:
		ping(w, s, ctx, f->body);
		break;
	default:
		/* KEEPALIVE: timers are refreshed already. PONG, GOAWAY: nothing to do. */
		break;
	}
}

static void frames(struct relay_worker *w, struct session *s, struct rte_mbuf *m,
		   uint8_t *pt, size_t n)
{
	struct rx_ctx ctx = { .m = m };
	struct frame_iter it;
	struct frame f;
	int k;

	k = frame_validate(pt, n);
	if (k < 0) {
		acct_drop(w, m, RELAY_DROP_BAD_FRAME);
		return;
	}
	if (k == 0) {
		/* Empty, or padding only: a keepalive. */
		acct_consume(w, m);
		return;
	}
	frame_iter_init(&it, pt, n);
	if (k == 1) {
		frame_next(&it, &f);
		/* The common case, exactly one CHANNEL_DATA frame and nothing else. */
		if (f.type == FRAME_CHANNEL_DATA && f.body_off == FRAME_HEADER_LEN &&
		    f.body_off + f.len == n) {
			splice_packet(w, s, m, &f);
			return;
		}
		/* The packet may carry the answer: nothing after this frame may be read. */
		ctx.single = true;
		act(w, s, &ctx, &f);
	} else {
		while (frame_next(&it, &f) > 0)
			act(w, s, &ctx, &f);
	}
	if (!ctx.counted) {
		if (ctx.forwarded)
			w->stats.forwarded++;
		else
			w->stats.handled++;
	}
	if (!ctx.taken)
		rte_pktmbuf_free(m);
}

void receive_data(struct relay_worker *w, struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	size_t len = m->data_len;
	struct pkt_meta *meta = pkt_meta(m);
	struct hop_data d;
	struct keypair *kp;
	struct session *s;
	unsigned owner;
	uint32_t slot;

	if (hop_data_decode(p, len, &d) < 0) {
		acct_drop(w, m, RELAY_DROP_BAD_HEADER);
		return;
	}
	/* §3.5: the index names its worker; NAT rebinding may have moved the 5-tuple. */
	owner = handle_worker(d.receiver);
	if (owner != w->id) {
		if (owner < w->r->p.n_workers)
			handoff_send(w, owner, m, HANDOFF_DATA, 0, 0);
		else
			acct_drop(w, m, RELAY_DROP_UNKNOWN_INDEX);
		return;
	}
	slot = handle_slot(d.receiver);
	kp = session_rx_keypair(w, slot);
	if (!kp) {
		acct_drop(w, m, RELAY_DROP_UNKNOWN_INDEX);
		return;
	}
	/* §4.1 step 2: a cheap check first; the window moves only after the tag verified. */
	if (!replay_check(&kp->replay, d.counter)) {
		acct_drop(w, m, RELAY_DROP_REPLAYED);
		return;
	}
	if (!aead_open(kp->recv, d.counter, p, HOP_DATA_HEADER_LEN, d.ciphertext,
		       d.ciphertext_len, p + HOP_DATA_HEADER_LEN)) {
		acct_drop(w, m, RELAY_DROP_BAD_TAG);
		return;
	}
	if (!replay_accept(&kp->replay, d.counter)) {
		acct_drop(w, m, RELAY_DROP_REPLAYED);
		return;
	}
	s = &w->sess.s[kp->session];
	session_keypair_confirmed(w, s, slot);
	session_count_rx(s, (uint32_t)len);
	/* §4.1 step 5: roaming. */
	s->peer = meta->peer;
	s->listener = meta->listener;
	frames(w, s, m, p + HOP_DATA_HEADER_LEN, d.ciphertext_len - HOP_TAG_LEN);
}
