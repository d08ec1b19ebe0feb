/*
 * agent.c — the emulated agent's channels: open them, send messages of the
 * traffic model (model.h) as chunks of payload.h, account for every echo,
 * and declare lost what does not come back within the loss timeout.
 *
 * Channel states:
 *
 *	IDLE ──agent connected: CHANNEL_OPEN──▶ OPENING
 *	OPENING ──CHANNEL_ACCEPT──▶ OPEN   (closed loop: fill the window if traffic runs)
 *	OPENING ──CHANNEL_CLOSE──▶ CLOSED  (refused: counted by reason)
 *	OPEN ──CHANNEL_CLOSE from the relay──▶ CLOSED  (in-flight messages time out)
 *	OPEN ──run ends: agent_close_all()──▶ CLOSED
 *
 * A message is sent whole at once (all its chunks back to back, like a large
 * result leaving an MCP server) and completes when every chunk has been
 * echoed within the loss timeout. Nothing is retransmitted: the hop layer is
 * unreliable by design (docs/protocol.md §7), so loss is what we measure.
 */
#include <errno.h>
#include <string.h>

#include "bench/relaybench/fleet.h"
#include "bench/relaybench/ident.h"
#include "bench/relaybench/model.h"
#include "bench/relaybench/payload.h"
#include "wire/bytes.h"

static struct chan *chan_of(struct emu *e, uint32_t id)
{
	if (id == 0 || id > e->w->o->channels)
		return NULL;
	return &e->ch[id - 1];
}

void agent_on_connected(struct emu *e, uint64_t now)
{
	struct worker *w = e->w;
	char tunnel[IDENT_TUNNEL_NAME_MAX];
	uint8_t tag[FRAME_CONN_TAG_LEN] = { 0 };
	struct frame_open o = { .conn_tag = tag };

	for (uint32_t i = 0; i < w->o->channels; i++) {
		struct chan *ch = &e->ch[i];

		if (ch->state != CHAN_IDLE)
			continue;
		ident_tunnel_name(w->o->instance, ch->tunnel, tunnel);
		o.channel_id = ch->id;
		o.tunnel = (const uint8_t *)tunnel;
		o.tunnel_len = (uint8_t)strlen(tunnel);
		/* A tag per (agent, channel): the E2E connection it would carry. */
		bytes_put_le32(tag, e->index);
		bytes_put_le32(tag + 4, ch->id);
		bytes_put_le32(tag + 8, w->o->instance);
		/* A lost OPEN is not repeated: the channel then counts as not opened. */
		hop_client_open_channel(e->hc, &o, now);
		ch->state = CHAN_OPENING;
		ch->open_sent_ns = now;
		w->c.ch_opening++;
	}
}

static void message_done(struct worker *w, struct chan *ch, struct msg_slot *s, bool lost,
			 uint64_t now)
{
	if (lost) {
		w->c.all_msgs_lost++;
		if (s->counted)
			w->c.msgs_lost++;
	} else {
		w->c.all_msgs_done++;
		if (s->counted) {
			w->c.msgs_done++;
			hdr_record(w->msg_lat, now - s->first_ns);
		}
	}
	s->used = false;
	ch->inflight--;
	w->inflight--;
}

bool agent_send_message(struct worker *w, struct chan *ch, uint64_t now)
{
	struct emu *e = ch->owner;
	struct msg_slot *s = &ch->slots[ch->next_msg & (w->slot_cap - 1)];
	bool stream = w->o->model == MODEL_STREAM;
	bool counted = fleet_in_window(w, now);
	uint32_t size;
	unsigned n;

	if (s->used)
		return false;
	size = stream ? w->o->size : model_rr_size(&w->rng);
	n = stream ? 1 : model_chunks(size);
	*s = (struct msg_slot){ .first_ns = now, .msg = ch->next_msg, .chunks = (uint16_t)n,
				.used = true, .counted = counted };
	for (unsigned k = 0; k < n; k++) {
		uint32_t len = stream ? size : model_chunk_len(size, k);
		struct payload_hdr h = { .seq = ch->next_seq++, .sent_ns = now, .channel = ch->id,
					 .msg = ch->next_msg, .chunk = (uint16_t)k,
					 .chunks = (uint16_t)n };
		size_t room;
		uint8_t *buf = hop_client_data_begin(e->hc, ch->id, &room);
		int ret;

		payload_write(buf, len, &h);
		ret = hop_client_data_commit(e->hc, len, now);
		if (ret == -ENOTCONN || ret == -EIO) {
			/* Not sealed (no keypair, or OpenSSL failed): the message will time out. */
			w->c.not_connected++;
			continue;
		}
		if (ret) {
			w->c.tx_errors++;	/* sealed, refused by the socket */
			continue;
		}
		w->c.all_pkts_sent++;
		if (counted) {
			w->c.pkts_sent++;
			w->c.bytes_sent += len;
		}
	}
	ch->next_msg++;
	ch->inflight++;
	w->inflight++;
	w->c.all_msgs_sent++;
	if (counted)
		w->c.msgs_sent++;
	return true;
}

void agent_refill(struct worker *w, struct chan *ch, uint64_t now)
{
	if (w->o->open_loop || !w->sending || now >= w->measure_end)
		return;
	while (ch->state == CHAN_OPEN && ch->inflight < w->o->inflight)
		if (!agent_send_message(w, ch, now))
			return;		/* the slot of an older message is still busy */
}

static void echo_in(struct worker *w, struct chan *ch, const struct frame_data *d, uint64_t now)
{
	struct payload_hdr h;
	struct msg_slot *s;
	enum seqwin_verdict v;
	bool counted;
	uint64_t rtt;

	if (!payload_read(d->e2e, d->e2e_len, &h) || h.channel != ch->id || h.sent_ns > now) {
		w->c.pkts_corrupt++;
		return;
	}
	counted = fleet_in_window(w, h.sent_ns);
	v = seqwin_check(&ch->win, h.seq);
	if (v == SEQWIN_DUPLICATE) {
		w->c.pkts_duplicate += counted;
		return;
	}
	if (v != SEQWIN_IN_ORDER)
		w->c.pkts_reordered += counted;
	rtt = now - h.sent_ns;
	if (rtt > w->o->loss_timeout_ns) {
		w->c.pkts_late += counted;
		return;
	}
	w->c.all_pkts_echoed++;
	w->c.all_bytes_echoed += d->e2e_len;
	hdr_record(w->interval, rtt);
	if (counted) {
		w->c.pkts_echoed++;
		w->c.bytes_echoed += d->e2e_len;
		hdr_record(w->rtt, rtt);
	}
	s = &ch->slots[h.msg & (w->slot_cap - 1)];
	if (!s->used || s->msg != h.msg || s->got >= s->chunks)
		return;
	if (++s->got == s->chunks) {
		message_done(w, ch, s, false, now);
		agent_refill(w, ch, now);
	}
}

static void closed(struct worker *w, struct chan *ch, uint16_t reason)
{
	if (ch->state == CHAN_OPENING) {
		w->c.ch_refused++;
		w->refused_by[reason <= FRAME_CLOSE_TIMEOUT ? reason : WORKER_CLOSE_REASONS - 1]++;
	} else if (ch->state == CHAN_OPEN) {
		w->c.ch_closed++;
	}
	ch->state = CHAN_CLOSED;
}

void agent_on_frame(struct emu *e, const struct frame *f, uint64_t now)
{
	struct worker *w = e->w;
	struct frame_data d;
	struct frame_close c;
	struct chan *ch;
	uint32_t id;

	switch (f->type) {
	case FRAME_CHANNEL_ACCEPT:
		frame_accept_decode(f->body, f->len, &id);
		ch = chan_of(e, id);
		if (!ch || ch->state != CHAN_OPENING)
			break;
		ch->state = CHAN_OPEN;
		w->c.ch_opened++;
		hdr_record(w->open_lat, now - ch->open_sent_ns);
		agent_refill(w, ch, now);
		break;
	case FRAME_CHANNEL_DATA:
		frame_data_decode(f->body, f->len, &d);
		ch = chan_of(e, d.channel_id);
		if (!ch || ch->state != CHAN_OPEN) {
			w->c.pkts_corrupt++;
			break;
		}
		echo_in(w, ch, &d, now);
		break;
	case FRAME_CHANNEL_CLOSE:
		frame_close_decode(f->body, f->len, &c);
		ch = chan_of(e, c.channel_id);
		if (ch)
			closed(w, ch, c.reason);
		break;
	default:
		break;		/* an OPEN is not for an agent */
	}
}

/*
 * Messages start in number order and their send times only grow, so on each
 * channel the oldest message still in flight is the first to time out: the
 * scan looks at that one only, and moves past messages that completed.
 */
void agent_scan(struct worker *w, uint64_t now)
{
	uint64_t limit = w->o->loss_timeout_ns;

	if (!w->inflight)
		return;
	for (uint32_t i = 0; i < w->n_chans; i++) {
		struct chan *ch = &w->chans[i];
		bool lost = false;

		while (ch->inflight && ch->oldest != ch->next_msg) {
			struct msg_slot *s = &ch->slots[ch->oldest & (w->slot_cap - 1)];

			if (s->used && s->msg == ch->oldest) {
				if (now - s->first_ns <= limit)
					break;
				message_done(w, ch, s, true, now);
				lost = true;
			}
			ch->oldest++;
		}
		if (lost)
			agent_refill(w, ch, now);
	}
}

void agent_close_all(struct worker *w, uint64_t now)
{
	for (uint32_t i = 0; i < w->n_chans; i++) {
		struct chan *ch = &w->chans[i];

		if (ch->state != CHAN_OPEN)
			continue;
		hop_client_close_channel(ch->owner->hc, ch->id, FRAME_CLOSE_NORMAL, now);
		ch->state = CHAN_CLOSED;
	}
}
