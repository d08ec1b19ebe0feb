/*
 * gateway_conn.c — the gateway's channels (docs/protocol.md §7) and the QUIC
 * server connection each one carries (§10).
 *
 * A connection and its carrier:
 *
 *   OPEN (no RESUME) ──▶ new conn, carrier (relay, id), ACCEPT
 *   OPEN RESUME, tag known ──▶ carrier := (relay, id), ACCEPT, carrier_up (§10.5)
 *   OPEN RESUME, tag unknown ──▶ CLOSE RESUME_UNKNOWN
 *   CLOSE from the relay, or its session DOWN ──▶ no carrier: QUIC sees loss until
 *           the connector RESUMEs; the idle timeout ends the conn if it never does
 *   QUIC_EV_CLOSED ──closing period over──▶ CLOSE NORMAL on the carrier, freed
 *   no handshake within QUIC's handshake timeout ──▶ CLOSE TIMEOUT, freed
 *
 * A relay that drains (GOAWAY) keeps forwarding for its drain time, so its
 * channels stay carriers until the relay closes them or a RESUME moves them.
 */
#include "endpoint/gateway_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint/ep_config.h"
#include "relay/log.h"

/* Time a conn may wait for a finished handshake: QUIC's, and a little for the channel. */
#define CONN_SETUP_NS (QUIC_HANDSHAKE_TIMEOUT_DEFAULT_NS + QUIC_NS_PER_S)

static struct gw_conn *by_carrier(struct gateway *g, unsigned relay, uint32_t id)
{
	for (struct gw_conn *c = g->conns; c; c = c->next)
		if (c->relay == (int)relay && c->channel == id)
			return c;
	return NULL;
}

static struct gw_conn *by_tag(struct gateway *g, const uint8_t *tag)
{
	for (struct gw_conn *c = g->conns; c; c = c->next)
		if (!c->closed && memcmp(c->tag, tag, QUIC_TAG_LEN) == 0)
			return c;
	return NULL;
}

static void copy_name(char *dst, size_t cap, const uint8_t *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void close_channel(struct gateway *g, unsigned relay, uint32_t id, uint16_t reason)
{
	int ret = hop_client_close_channel(hop_link_client(g->link, relay), id, reason, g->now);

	if (ret < 0)
		log_debug("event=channel_close_failed relay=%s channel=%u err=%s",
			  hop_link_addr(g->link, relay), id, strerror(-ret));
}

/* QUIC's datagrams go out as CHANNEL_DATA on the current carrier (§10.1). */
static int conn_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct gw_conn *c = ctx;
	struct gateway *g = c->g;

	if (c->relay < 0)
		return -ENOTCONN;	/* between carriers: QUIC treats it as loss */
	return hop_client_send_data(hop_link_client(g->link, (unsigned)c->relay), c->channel,
				    pkt, len, g->now);
}

static void log_closed(struct gw_conn *c, const struct quic_event *ev)
{
	uint8_t fp[QUIC_FP_LEN];
	char hex[QUIC_FP_HEX_LEN + 1] = "-";

	if (quic_conn_peer_fingerprint(c->q, fp))
		gw_fmt_hex(hex, fp, QUIC_FP_LEN);
	if (ev->error == QUIC_ERR_CLIENT_REFUSED)
		log_warn("event=agent_refused agent=%s principal=%s why=\"%s\"", hex,
			 c->principal[0] ? c->principal : "-", quic_conn_error_text(c->q));
	else
		log_info("event=e2e_closed agent=%s principal=%s error=%s code=0x%llx why=\"%s\"",
			 hex, c->principal[0] ? c->principal : "-", quic_error_name(ev->error),
			 (unsigned long long)ev->code, quic_conn_error_text(c->q));
}

static void conn_event(void *ctx, const struct quic_event *ev)
{
	struct gw_conn *c = ctx;
	uint8_t fp[QUIC_FP_LEN];
	char hex[QUIC_FP_HEX_LEN + 1] = "-";

	switch (ev->type) {
	case QUIC_EV_CONNECTED:
		c->connected = true;
		if (quic_conn_peer_fingerprint(c->q, fp))
			gw_fmt_hex(hex, fp, QUIC_FP_LEN);
		log_info("event=e2e_connected agent=%s principal=%s relay=%s", hex,
			 c->principal[0] ? c->principal : "-",
			 c->relay >= 0 ? hop_link_addr(c->g->link, (unsigned)c->relay) : "-");
		break;
	case QUIC_EV_CLOSED:
		c->closed = true;
		log_closed(c, ev);
		break;
	case QUIC_EV_STREAM_OPENED:
		gw_stream_opened(c, ev->stream, ev->route);
		break;
	default:
		gw_stream_event(c, ev);
		break;
	}
}

static void conn_data(void *ctx, struct quic_stream *s, const uint8_t *data, size_t len, bool fin)
{
	gw_stream_data(ctx, s, data, len, fin);
}

static int conn_new(struct gateway *g, unsigned relay, const struct frame_open *o)
{
	struct hop_client *hc = hop_link_client(g->link, relay);
	struct quic_config qc = { 0 };
	struct gw_conn *c;
	size_t payload = hop_client_max_frames(hc) - FRAME_DATA_OVERHEAD;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->g = g;
	c->relay = (int)relay;
	c->channel = o->channel_id;
	c->created_ns = g->now;
	memcpy(c->tag, o->conn_tag, QUIC_TAG_LEN);
	copy_name(c->route, sizeof(c->route), o->route, o->route_len);
	copy_name(c->principal, sizeof(c->principal), o->principal, o->principal_len);

	qc.role = QUIC_SERVER;
	qc.identity = g->id;
	qc.tag = o->conn_tag;
	qc.allowed_fps = (const uint8_t (*)[QUIC_FP_LEN])g->cfg->agents;
	qc.n_allowed = g->cfg->n_agents;
	qc.max_payload = payload > QUIC_PAYLOAD_MAX ? QUIC_PAYLOAD_MAX : payload;
	qc.send = conn_send;
	qc.defer_send = true;	/* gateway.c flushes once per turn */
	qc.on_event = conn_event;
	qc.on_data = conn_data;
	qc.ctx = c;
	ret = quic_conn_create(&c->q, &qc);
	if (ret < 0)
		goto err_conn;
	c->next = g->conns;
	if (g->conns)
		g->conns->prev = c;
	g->conns = c;
	g->n_conns++;
	return 0;

err_conn:
	free(c);
	return ret;
}

static void conn_free(struct gateway *g, struct gw_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g->n_conns--;
	quic_conn_destroy(c->q);
	free(c);
}

static void on_open_new(struct gateway *g, unsigned relay, const struct frame_open *o)
{
	const char *addr = hop_link_addr(g->link, relay);
	char route[FRAME_NAME_MAX + 1];
	int ret;

	copy_name(route, sizeof(route), o->route, o->route_len);
	if (g->shutting_down) {
		close_channel(g, relay, o->channel_id, FRAME_CLOSE_SHUTDOWN);
		return;
	}
	if (by_carrier(g, relay, o->channel_id)) {
		log_warn("event=channel_refused relay=%s channel=%u reason=duplicate_id", addr,
			 o->channel_id);
		close_channel(g, relay, o->channel_id, FRAME_CLOSE_DUPLICATE_ID);
		return;
	}
	if (route[0] && !gw_config_find_route(g->cfg, route)) {
		log_warn("event=channel_refused relay=%s channel=%u reason=unknown_route route=%s",
			 addr, o->channel_id, route);
		close_channel(g, relay, o->channel_id, FRAME_CLOSE_UNKNOWN_ROUTE);
		return;
	}
	ret = conn_new(g, relay, o);
	if (ret < 0) {
		log_error("event=channel_refused relay=%s channel=%u reason=%s", addr,
			  o->channel_id, strerror(-ret));
		close_channel(g, relay, o->channel_id, FRAME_CLOSE_LIMIT);
		return;
	}
	log_info("event=channel_open relay=%s channel=%u route=%s principal=%.*s", addr,
		 o->channel_id, route[0] ? route : "-", (int)o->principal_len,
		 (const char *)o->principal);
	hop_client_accept_channel(hop_link_client(g->link, relay), o->channel_id, g->now);
}

static void on_open_resume(struct gateway *g, unsigned relay, const struct frame_open *o)
{
	const char *addr = hop_link_addr(g->link, relay);
	struct gw_conn *c = by_tag(g, o->conn_tag);
	char tag[2 * QUIC_TAG_LEN + 1];

	gw_fmt_hex(tag, o->conn_tag, QUIC_TAG_LEN);
	if (!c) {
		log_info("event=resume_unknown relay=%s channel=%u tag=%s", addr, o->channel_id,
			 tag);
		close_channel(g, relay, o->channel_id, FRAME_CLOSE_RESUME_UNKNOWN);
		return;
	}
	/* The old channel, if its relay still has it, is done with. */
	if (c->relay >= 0 && (c->relay != (int)relay || c->channel != o->channel_id))
		close_channel(g, (unsigned)c->relay, c->channel, FRAME_CLOSE_NORMAL);
	c->relay = (int)relay;
	c->channel = o->channel_id;
	log_info("event=channel_resume relay=%s channel=%u tag=%s", addr, o->channel_id, tag);
	hop_client_accept_channel(hop_link_client(g->link, relay), o->channel_id, g->now);
	quic_conn_carrier_up(c->q, g->now);
}

static void on_data(struct gateway *g, unsigned relay, const struct frame *f)
{
	struct frame_data d;
	struct gw_conn *c;

	if (frame_data_decode(f->body, f->len, &d) < 0)
		return;
	c = by_carrier(g, relay, d.channel_id);
	if (!c) {
		g->dropped_unknown_channel++;
		/* Hot: once a second at most. */
		if (g->now - g->last_log_unknown_channel >= QUIC_NS_PER_S) {
			g->last_log_unknown_channel = g->now;
			log_debug("event=data_unknown_channel relay=%s channel=%u dropped=%llu",
				  hop_link_addr(g->link, relay), d.channel_id,
				  (unsigned long long)g->dropped_unknown_channel);
		}
		return;
	}
	quic_conn_input(c->q, d.e2e, d.e2e_len, g->now);
}

static void on_close(struct gateway *g, unsigned relay, const struct frame *f)
{
	struct frame_close cl;
	struct gw_conn *c;

	if (frame_close_decode(f->body, f->len, &cl) < 0)
		return;
	c = by_carrier(g, relay, cl.channel_id);
	if (!c)
		return;
	c->relay = -1;
	log_info("event=channel_closed relay=%s channel=%u reason=%u",
		 hop_link_addr(g->link, relay), cl.channel_id, cl.reason);
}

void gw_conn_on_frame(void *ctx, unsigned relay, const struct frame *f, uint64_t now_ns)
{
	struct gateway *g = ctx;
	struct frame_open o;

	g->now = now_ns;
	switch (f->type) {
	case FRAME_CHANNEL_OPEN:
		if (frame_open_decode(f->body, f->len, &o) < 0)
			return;
		if (o.flags & FRAME_OPEN_RESUME)
			on_open_resume(g, relay, &o);
		else
			on_open_new(g, relay, &o);
		break;
	case FRAME_CHANNEL_DATA:
		on_data(g, relay, f);
		break;
	case FRAME_CHANNEL_CLOSE:
		on_close(g, relay, f);
		break;
	default:
		break;	/* ACCEPT is not sent to a gateway */
	}
}

void gw_conn_on_state(void *ctx, unsigned relay, enum hop_link_state st, enum hop_link_why why,
		      uint32_t drain_ms)
{
	struct gateway *g = ctx;
	unsigned lost = 0;

	switch (st) {
	case HOP_LINK_UP:
		log_info("event=relay_up relay=%s", hop_link_addr(g->link, relay));
		break;
	case HOP_LINK_DOWN:
		for (struct gw_conn *c = g->conns; c; c = c->next)
			if (c->relay == (int)relay) {
				c->relay = -1;
				lost++;
			}
		log_warn("event=relay_down relay=%s why=%s channels_lost=%u",
			 hop_link_addr(g->link, relay), hop_link_why_name(why), lost);
		break;
	case HOP_LINK_DRAINING:
		log_info("event=relay_draining relay=%s drain_ms=%u",
			 hop_link_addr(g->link, relay), drain_ms);
		break;
	case HOP_LINK_UNANSWERED:
		/* No session in this series: its channels, if any, went at DOWN. */
		hop_link_log_unanswered(g->link, relay,
					ep_config_hop_suite_name(g->cfg->hop_suite),
					"gateway's token");
		break;
	}
}

void gw_conn_sweep(struct gateway *g)
{
	struct gw_conn *c, *next;

	for (c = g->conns; c; c = next) {
		next = c->next;
		if (!c->closed && !c->connected && g->now - c->created_ns > CONN_SETUP_NS) {
			/* No handshake came (no Initial, or it stalled): nothing to close. */
			log_info("event=e2e_setup_timeout principal=%s",
				 c->principal[0] ? c->principal : "-");
			if (c->relay >= 0)
				close_channel(g, (unsigned)c->relay, c->channel,
					      FRAME_CLOSE_TIMEOUT);
			conn_free(g, c);
			continue;
		}
		if (!c->closed || c->streams)
			continue;
		if (!quic_conn_is_done(c->q) && !g->stop)
			continue;
		if (c->relay >= 0)
			close_channel(g, (unsigned)c->relay, c->channel, FRAME_CLOSE_NORMAL);
		conn_free(g, c);
	}
}

void gw_conn_close_all(struct gateway *g)
{
	for (struct gw_conn *c = g->conns; c; c = c->next)
		if (!c->closed)
			quic_conn_close(c->q, QUIC_APP_SHUTDOWN, "gateway shutting down", g->now);
	while (g->conns) {
		struct gw_conn *c = g->conns;

		if (c->relay >= 0)
			close_channel(g, (unsigned)c->relay, c->channel, FRAME_CLOSE_SHUTDOWN);
		/* Streams still draining to their upstream lose only their conn. */
		for (struct gw_stream *s = g->streams; s; s = s->next)
			if (s->conn == c)
				s->conn = NULL;
		conn_free(g, c);
	}
}

uint64_t gw_conn_next_deadline(struct gateway *g)
{
	uint64_t t = QUIC_NEVER;

	for (struct gw_conn *c = g->conns; c; c = c->next) {
		uint64_t d = quic_conn_next_deadline(c->q);

		if (!c->closed && !c->connected && c->created_ns + CONN_SETUP_NS < d)
			d = c->created_ns + CONN_SETUP_NS + 1;
		if (d < t)
			t = d;
	}
	return t;
}

void gw_conn_tick_all(struct gateway *g)
{
	for (struct gw_conn *c = g->conns; c; c = c->next)
		if (quic_conn_next_deadline(c->q) <= g->now)
			quic_conn_tick(c->q, g->now);
}

void gw_conn_flush_all(struct gateway *g)
{
	for (struct gw_conn *c = g->conns; c; c = c->next)
		quic_conn_flush(c->q, g->now);
}
