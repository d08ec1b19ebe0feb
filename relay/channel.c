/*
 * channel.c — channel ends and the OPEN / ACCEPT / CLOSE exchange (channel.h),
 * protocol.md §7.
 *
 * Besides struct chan, each end has a struct chan_info (core.h) that only
 * channels.list reads (inspect.h): the agent end keeps the tunnel and route of
 * its OPEN and learns the gateway's session and channel id from ACCEPTED,
 * whose message therefore carries them behind the gateway end's handle:
 *
 *	HANDOFF_ACCEPTED  [8: gateway end handle][8: gateway session handle]
 *	                  [4: gateway channel id]
 *
 * so that one worker can describe a whole channel from its agent end.
 */
#include "relay/channel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_mbuf.h>

#include "relay/core.h"
#include "relay/directory.h"
#include "relay/handle.h"
#include "relay/handoff.h"
#include "relay/hashfn.h"
#include "relay/receive.h"
#include "relay/send.h"
#include "wire/frame.h"
#include "wire/hop.h"

#define ONE_SECOND_NS UINT64_C(1000000000)

_Static_assert((int)FRAME_NAME_MAX <= (int)TOKEN_NAME_MAX, "chan_info names hold any OPEN's");

/* What HANDOFF_ACCEPTED carries after the gateway end's handle (see above). */
struct accepted_info {
	uint64_t session;
	uint32_t id;
} __attribute__((packed));

struct chan_key {
	uint32_t session;
	uint32_t id;
};

int channels_init(struct channels *t, const char *name, uint32_t cap)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = cap < 64 ? 64 : cap,
		.key_len = sizeof(struct chan_key),
		.hash_func = hashfn_xxh3,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	int ret;

	memset(t, 0, sizeof(*t));
	t->c = calloc(cap, sizeof(*t->c));
	if (!t->c)
		return -ENOMEM;
	ret = slots_init(&t->free, cap);
	if (ret)
		goto err_c;
	t->h = rte_hash_create(&hp);
	if (!t->h) {
		ret = rte_errno ? -rte_errno : -ENOMEM;
		goto err_slots;
	}
	for (uint32_t i = 0; i < cap; i++)
		t->c[i].gen = 1;
	return 0;

err_slots:
	slots_fini(&t->free);
err_c:
	free(t->c);
	memset(t, 0, sizeof(*t));
	return ret;
}

void channels_fini(struct channels *t)
{
	rte_hash_free(t->h);
	slots_fini(&t->free);
	free(t->c);
	memset(t, 0, sizeof(*t));
}

static uint32_t chan_slot(const struct relay_worker *w, const struct chan *c)
{
	return (uint32_t)(c - w->chans.c);
}

/* The agent end remembers what its OPEN asked for (FRAME_NAME_MAX == TOKEN_NAME_MAX). */
static void note_names(struct relay_worker *w, const struct chan *c, const struct frame_open *o)
{
	struct chan_info *in = &w->chinfo[chan_slot(w, c)];

	memcpy(in->tunnel, o->tunnel, o->tunnel_len);
	in->tunnel[o->tunnel_len] = '\0';
	memcpy(in->route, o->route, o->route_len);
	in->route[o->route_len] = '\0';
}

uint64_t channel_handle(const struct relay_worker *w, const struct chan *c)
{
	return handle_make(w->id, chan_slot(w, c), c->gen);
}

struct chan *channel_get(struct relay_worker *w, uint64_t h)
{
	struct chan *c;

	if (handle_worker(h) != w->id || handle_slot(h) >= w->chans.free.cap)
		return NULL;
	c = &w->chans.c[handle_slot(h)];
	return c->state != CHAN_FREE && c->gen == handle_gen(h) ? c : NULL;
}

struct chan *channel_lookup(struct relay_worker *w, const struct session *s, uint32_t id)
{
	struct chan_key k = { .session = session_slot(w, s), .id = id };
	void *data;

	if (rte_hash_lookup_data(w->chans.h, &k, &data) < 0)
		return NULL;
	return &w->chans.c[(uintptr_t)data];
}

static bool is_agent(const struct session *s)
{
	return s->tok.role == TOKEN_ROLE_AGENT;
}

/* relay_is_drained() reads `ends` from another thread. */
static void count_ends(struct relay_worker *w, int delta, bool agent)
{
	__atomic_store_n(&w->chans.ends, w->chans.ends + (uint32_t)delta, __ATOMIC_RELAXED);
	if (agent)
		w->chans.agent_ends += (uint32_t)delta;
	w->stats.channels = w->chans.agent_ends;
}

static struct chan *chan_alloc(struct relay_worker *w, struct session *s, uint32_t id,
			       enum chan_state state)
{
	struct chan_key k = { .session = session_slot(w, s), .id = id };
	uint32_t slot;
	struct chan *c;

	if (!slots_get(&w->chans.free, &slot))
		return NULL;
	if (rte_hash_add_key_data(w->chans.h, &k, (void *)(uintptr_t)slot) < 0) {
		slots_put(&w->chans.free, slot);
		return NULL;
	}
	c = &w->chans.c[slot];
	memset(&w->chinfo[slot], 0, sizeof(w->chinfo[slot]));
	c->state = (uint8_t)state;
	c->id = id;
	c->session = k.session;
	c->peer = HANDLE_NONE;
	c->opened_ns = w->now;
	c->prev = CHAN_NIL;
	c->next = s->chan_head;
	if (s->chan_head != CHAN_NIL)
		w->chans.c[s->chan_head].prev = slot;
	s->chan_head = slot;
	count_ends(w, 1, is_agent(s));
	session_set_load(s, s->load + 1);
	return c;
}

static void chan_free(struct relay_worker *w, struct chan *c)
{
	struct session *s = &w->sess.s[c->session];
	struct chan_key k = { .session = c->session, .id = c->id };
	uint32_t slot = chan_slot(w, c);

	rte_hash_del_key(w->chans.h, &k);
	if (c->prev != CHAN_NIL)
		w->chans.c[c->prev].next = c->next;
	else
		s->chan_head = c->next;
	if (c->next != CHAN_NIL)
		w->chans.c[c->next].prev = c->prev;
	c->state = CHAN_FREE;
	c->gen = handle_next_gen(c->gen);
	c->peer = HANDLE_NONE;
	slots_put(&w->chans.free, slot);
	count_ends(w, -1, is_agent(s));
	session_set_load(s, s->load - 1);
}

/* Answer the frame of @ctx with CLOSE(@id, @reason) to @s. */
static void reply_close(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
			uint32_t id, uint16_t reason)
{
	struct rte_mbuf *m = rx_take(w, ctx);

	if (m)
		send_close(w, s, m, id, reason);
}

/* §7: the tunnel must be in the agent's own grant (or the grant is `*`). */
static bool grant_allows(const struct token *tok, const uint8_t *tunnel, size_t len)
{
	if (tok->n_tunnels == 1 && strcmp(tok->tunnels[0], TOKEN_TUNNEL_ANY) == 0)
		return true;
	for (unsigned i = 0; i < tok->n_tunnels; i++)
		if (strlen(tok->tunnels[i]) == len && memcmp(tok->tunnels[i], tunnel, len) == 0)
			return true;
	return false;
}

/* "tenant/token-id-hex", the principal the gateway logs (§7). */
static size_t principal(const struct token *tok, char out[FRAME_PRINCIPAL_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(tok->tenant);

	memcpy(out, tok->tenant, n);
	out[n++] = '/';
	for (unsigned i = 0; i < TOKEN_ID_LEN; i++) {
		out[n++] = hex[tok->id[i] >> 4];
		out[n++] = hex[tok->id[i] & 15];
	}
	out[n] = '\0';
	return n;
}

void channel_open_rx(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
		     const struct frame_open *o)
{
	uint8_t tag[FRAME_CONN_TAG_LEN], tunnel[FRAME_NAME_MAX], route[FRAME_NAME_MAX];
	char who[FRAME_PRINCIPAL_MAX + 1];
	struct frame_open fwd;
	uint64_t gw = HANDLE_NONE;
	struct rte_mbuf *m;
	struct chan *c;
	uint8_t *pkt;
	int off;

	if (!is_agent(s)) {
		reply_close(w, s, ctx, o->channel_id, FRAME_CLOSE_PROTOCOL);
		return;
	}
	if (core_draining(w)) {
		reply_close(w, s, ctx, o->channel_id, FRAME_CLOSE_SHUTDOWN);
		return;
	}
	if (channel_lookup(w, s, o->channel_id)) {
		reply_close(w, s, ctx, o->channel_id, FRAME_CLOSE_DUPLICATE_ID);
		return;
	}
	if (s->load >= core_max_channels(w)) {
		reply_close(w, s, ctx, o->channel_id, FRAME_CLOSE_LIMIT);
		return;
	}
	/*
	 * §7: outside the grant, another tenant's tunnel (the lookup is in the
	 * agent's own tenant only) and a tunnel nobody serves all look the same.
	 */
	if (!grant_allows(&s->tok, o->tunnel, o->tunnel_len)) {
		reply_close(w, s, ctx, o->channel_id, FRAME_CLOSE_NOT_PERMITTED);
		return;
	}
	switch (directory_pick(w->r->dir, s->tok.tenant, o->tunnel, o->tunnel_len, w->now, &gw)) {
	case DIRECTORY_UNKNOWN:
		reply_close(w, s, ctx, o->channel_id, FRAME_CLOSE_NOT_PERMITTED);
		return;
	case DIRECTORY_EMPTY:
		reply_close(w, s, ctx, o->channel_id, FRAME_CLOSE_NO_GATEWAY);
		return;
	case DIRECTORY_FOUND:
		break;
	}

	/* The frame's bytes may be overwritten once the packet's mbuf is taken. */
	fwd = *o;
	memcpy(tag, o->conn_tag, sizeof(tag));
	memcpy(tunnel, o->tunnel, o->tunnel_len);
	memcpy(route, o->route, o->route_len);
	fwd.conn_tag = tag;
	fwd.tunnel = tunnel;
	fwd.route = route;
	fwd.principal_len = (uint8_t)principal(&s->tok, who);
	fwd.principal = (const uint8_t *)who;

	c = chan_alloc(w, s, o->channel_id, CHAN_OPENING);
	if (!c) {
		reply_close(w, s, ctx, fwd.channel_id, FRAME_CLOSE_LIMIT);
		return;
	}
	note_names(w, c, &fwd);
	m = rx_take(w, ctx);
	if (!m) {
		chan_free(w, c);
		return;
	}
	/* [agent end handle][DATA header][OPEN]; the gateway's worker fills in its channel id. */
	pkt = handoff_msg_begin(m, channel_handle(w, c));
	off = frame_open_encode(pkt + HOP_DATA_HEADER_LEN, HOP_DATA_PLAINTEXT_MAX, 0, &fwd);
	if (off < 0) {
		chan_free(w, c);
		acct_drop(w, m, RELAY_DROP_INTERNAL);
		return;
	}
	m->data_len = (uint16_t)(HANDOFF_MSG_LEN + HOP_DATA_HEADER_LEN + off);
	m->pkt_len = m->data_len;
	handoff_send(w, handle_worker(gw), m, HANDOFF_OPEN, gw, 0);
}

void channel_accept_rx(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
		       uint32_t id)
{
	struct chan *c = channel_lookup(w, s, id);
	struct accepted_info info;
	struct rte_mbuf *m;

	/* Only a gateway end waits for ACCEPT; anything else is stale or misdirected. */
	if (!c || c->state != CHAN_ACCEPTING)
		return;
	m = rx_take(w, ctx);
	if (!m) {
		/* The agent cannot be told; its end times out and closes. */
		chan_free(w, c);
		return;
	}
	c->state = CHAN_OPEN;
	info = (struct accepted_info){ .session = session_handle(w, s), .id = c->id };
	memcpy(handoff_msg_begin(m, channel_handle(w, c)), &info, sizeof(info));
	m->data_len = (uint16_t)(HANDOFF_MSG_LEN + sizeof(info));
	m->pkt_len = m->data_len;
	handoff_send(w, handle_worker(c->peer), m, HANDOFF_ACCEPTED, c->peer, 0);
}

void channel_close_rx(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
		      const struct frame_close *cl)
{
	struct chan *c = channel_lookup(w, s, cl->channel_id);
	struct rte_mbuf *m;
	uint64_t peer;

	if (!c)
		return;
	peer = c->peer;
	chan_free(w, c);
	/* An agent end still OPENING has no peer yet; the gateway end learns on ACCEPTED. */
	if (peer == HANDLE_NONE)
		return;
	m = rx_take(w, ctx);
	if (!m)
		return;
	handoff_msg_begin(m, HANDLE_NONE);
	handoff_send(w, handle_worker(peer), m, HANDOFF_CLOSE, peer, cl->reason);
}

void channel_unknown(struct relay_worker *w, struct session *s, struct rx_ctx *ctx, uint32_t id)
{
	rx_drop(w, ctx, RELAY_DROP_UNKNOWN_CHANNEL);
	/* §7: answered at most once per second per session. */
	if (s->protocol_close_sent && w->now < s->last_protocol_close_ns + ONE_SECOND_NS)
		return;
	s->protocol_close_sent = true;
	s->last_protocol_close_ns = w->now;
	reply_close(w, s, ctx, id, FRAME_CLOSE_PROTOCOL);
}

/* Refuse an OPEN on its way: tell the agent end @to, reusing @m. */
static void refuse(struct relay_worker *w, struct rte_mbuf *m, uint64_t to, uint16_t reason)
{
	handoff_msg_begin(m, HANDLE_NONE);
	handoff_send(w, handle_worker(to), m, HANDOFF_CLOSE, to, reason);
}

static uint32_t pick_id(struct relay_worker *w, struct session *gw)
{
	/* §7: on a gateway's session the relay picks ids; skip 0 and ids in use. */
	for (;;) {
		uint32_t id = gw->next_channel_id++;

		if (id != 0 && !channel_lookup(w, gw, id))
			return id;
	}
}

static void msg_open(struct relay_worker *w, struct rte_mbuf *m, uint64_t target)
{
	uint64_t agent = handoff_msg_from(m);
	struct session *gw = session_get(w, target);
	struct chan *c;
	uint8_t *pt;

	/* The directory may name a gateway that went away since: NO_GATEWAY. */
	if (!gw || !session_can_send(w, gw)) {
		refuse(w, m, agent, FRAME_CLOSE_NO_GATEWAY);
		return;
	}
	if (core_draining(w)) {
		refuse(w, m, agent, FRAME_CLOSE_SHUTDOWN);
		return;
	}
	if (gw->load >= core_max_channels(w)) {
		refuse(w, m, agent, FRAME_CLOSE_LIMIT);
		return;
	}
	c = chan_alloc(w, gw, pick_id(w, gw), CHAN_ACCEPTING);
	if (!c) {
		refuse(w, m, agent, FRAME_CLOSE_LIMIT);
		return;
	}
	c->peer = agent;
	rte_pktmbuf_adj(m, HANDOFF_MSG_LEN);
	pt = rte_pktmbuf_mtod_offset(m, uint8_t *, HOP_DATA_HEADER_LEN);
	frame_put_channel_id(pt + FRAME_HEADER_LEN, c->id);
	send_to_session(w, gw, m, m->data_len - HOP_DATA_HEADER_LEN, TX_HANDLED);
}

static void msg_accepted(struct relay_worker *w, struct rte_mbuf *m, uint64_t target)
{
	uint64_t gw_end = handoff_msg_from(m);
	struct chan *c = channel_get(w, target);
	struct accepted_info info;
	struct chan_info *in;
	uint8_t *pt;
	int off;

	if (!c || c->state != CHAN_OPENING) {
		/* The agent end timed out or closed meanwhile: close the gateway's end too. */
		refuse(w, m, gw_end, FRAME_CLOSE_PEER_GONE);
		return;
	}
	c->state = CHAN_OPEN;
	c->peer = gw_end;
	/* Read before send_begin() reuses the message's bytes for the ACCEPT. */
	memcpy(&info, rte_pktmbuf_mtod_offset(m, const uint8_t *, HANDOFF_MSG_LEN), sizeof(info));
	in = &w->chinfo[chan_slot(w, c)];
	in->peer_session = info.session;
	in->peer_id = info.id;
	pt = send_begin(m);
	off = frame_accept_encode(pt, HOP_DATA_PLAINTEXT_MAX, 0, c->id);
	if (off < 0) {
		acct_drop(w, m, RELAY_DROP_INTERNAL);
		return;
	}
	send_to_session(w, &w->sess.s[c->session], m, (size_t)off, TX_HANDLED);
}

static void msg_close(struct relay_worker *w, struct rte_mbuf *m, uint64_t target,
		      uint16_t reason)
{
	struct chan *c = channel_get(w, target);
	struct session *s;
	uint32_t id;

	if (!c) {
		acct_drop(w, m, RELAY_DROP_STALE_HANDLE);
		return;
	}
	s = &w->sess.s[c->session];
	id = c->id;
	chan_free(w, c);
	send_close(w, s, m, id, reason);
}

void channel_message(struct relay_worker *w, struct rte_mbuf *m, unsigned kind)
{
	struct pkt_meta *meta = pkt_meta(m);
	uint16_t reason = (uint16_t)(meta->handoff >> ACCT_REASON_SHIFT);

	switch (kind) {
	case HANDOFF_OPEN:
		msg_open(w, m, meta->aux);
		break;
	case HANDOFF_ACCEPTED:
		msg_accepted(w, m, meta->aux);
		break;
	default:
		msg_close(w, m, meta->aux, reason);
		break;
	}
}

void channel_close_session(struct relay_worker *w, struct session *s)
{
	while (s->chan_head != CHAN_NIL) {
		struct chan *c = &w->chans.c[s->chan_head];
		uint64_t peer = c->peer;
		struct rte_mbuf *m;

		chan_free(w, c);
		if (peer == HANDLE_NONE)
			continue;
		m = send_alloc(w);
		if (!m)
			continue;
		handoff_msg_begin(m, HANDLE_NONE);
		handoff_send(w, handle_worker(peer), m, HANDOFF_CLOSE, peer, FRAME_CLOSE_PEER_GONE);
	}
}

void channel_shutdown_all(struct relay_worker *w)
{
	for (uint32_t i = 0; i < w->chans.free.cap; i++) {
		struct chan *c = &w->chans.c[i];
		struct session *s;
		uint32_t id;

		if (c->state == CHAN_FREE)
			continue;
		s = &w->sess.s[c->session];
		id = c->id;
		chan_free(w, c);
		/* Each worker shuts its own ends: no message crosses workers. */
		send_close(w, s, NULL, id, FRAME_CLOSE_SHUTDOWN);
	}
}

unsigned channel_sweep(struct relay_worker *w, unsigned budget)
{
	uint32_t cap = w->chans.free.cap;
	unsigned done = 0;

	for (unsigned i = 0; i < budget && i < cap; i++) {
		struct chan *c = &w->chans.c[w->chans.sweep];

		w->chans.sweep = w->chans.sweep + 1 == cap ? 0 : w->chans.sweep + 1;
		if ((c->state == CHAN_OPENING || c->state == CHAN_ACCEPTING) &&
		    w->now >= c->opened_ns + CHANNEL_OPEN_TIMEOUT_NS) {
			struct session *s = &w->sess.s[c->session];
			uint32_t id = c->id;

			/* Each side times out on its own; the agent end is the older one. */
			chan_free(w, c);
			send_close(w, s, NULL, id, FRAME_CLOSE_TIMEOUT);
			done++;
		}
	}
	return done;
}
