/*
 * test_quic.c — the E2E layer (endpoint/quic.h, quic_tls.h): a connector
 * (client) and a gateway (server) joined by an in-memory link on a fake clock.
 *
 *	client ──cfg.send──▶ link[to server] ──(delay, jitter, loss, blackout)──▶ quic_conn_input
 *	   ▲                                                                           │
 *	   └── quic_conn_input ◀──(same)── link[to client] ◀────────cfg.send── server ◀┘
 *
 * Every datagram gets a one-way delay plus a random jitter (so jitter larger
 * than the gap between datagrams reorders them), may be dropped with a given
 * probability, and is dropped while the link is "down" (a carrier gap: the
 * hop channel is being re-opened through another relay). Time moves only
 * when nothing is due: to the next arrival or the next QUIC deadline.
 *
 * Stream bytes follow a pattern known to both ends (a random table walked
 * from an offset chosen by the stream's index and direction), so a receiver
 * checks every byte's value and position: a lost, reordered or duplicated
 * byte shows as a mismatch or a wrong total.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "endpoint/quic.h"

#define MS QUIC_NS_PER_MS
#define SEC QUIC_NS_PER_S
#define T0 (1000 * SEC)

enum {
	PAT_PERIOD = 65521,		/* prime: the pattern's period */
	MAX_FLOWS = 256,
	WRITE_CHUNK = 16 * 1024,
	MAX_STEPS = 20 * 1000 * 1000,	/* loop bound for run_until() */
};

/* --- identities, made once per process ------------------------------------ */

static struct quic_identity *gw_id, *agent_id, *stranger_id;
static uint8_t pattern[2 * PAT_PERIOD];

static void setup_world(void)
{
	srand(7);
	for (size_t i = 0; i < PAT_PERIOD; i++)
		pattern[i] = pattern[i + PAT_PERIOD] = (uint8_t)(rand() >> 7);
	cr_assert_eq(quic_identity_generate(&gw_id, QUIC_KEY_ED25519, "gateway"), 0);
	cr_assert_eq(quic_identity_generate(&agent_id, QUIC_KEY_ECDSA_P256, "agent"), 0);
	cr_assert_eq(quic_identity_generate(&stranger_id, QUIC_KEY_ED25519, "stranger"), 0);
}

static void teardown_world(void)
{
	quic_identity_destroy(gw_id);
	quic_identity_destroy(agent_id);
	quic_identity_destroy(stranger_id);
	gw_id = agent_id = stranger_id = NULL;
}

static size_t pat_start(unsigned idx, unsigned dir, uint64_t off)
{
	return (size_t)((off + (uint64_t)idx * 977 + (uint64_t)dir * 30011) % PAT_PERIOD);
}

/* --- the link ------------------------------------------------------------- */

struct pkt {
	struct pkt *next;
	uint64_t at;
	size_t len;
	uint8_t data[];
};

struct net;

struct flow {
	struct quic_stream *s;
	unsigned idx;			/* pattern index: route "r<idx>" */
	unsigned dir_out;		/* 0: client → server bytes, 1: server → client */
	uint64_t to_send, sent;
	bool send_fin, fin_sent;
	bool start_after_fin;		/* send only once the peer's FIN arrived */
	bool no_consume;		/* receiver holds the bytes (flow control test) */
	uint64_t received, unconsumed;
	bool got_fin, mismatch;
	bool reset_seen, closed, close_has_code;
	uint64_t reset_code, close_code;
	enum quic_error close_error;
	unsigned writable_events;
};

struct side {
	struct net *net;
	struct quic_conn *q;
	struct side *peer;
	bool is_client;
	struct pkt *inbox;		/* sorted by arrival time */
	struct flow flows[MAX_FLOWS];
	unsigned nflows;
	/* server behaviour for streams it is offered */
	uint64_t reply_bytes;
	bool reply_fin, reply_after_fin;
	uint64_t reset_on_open;		/* non-zero: reset each opened stream with it */
	uint64_t close_on_open;		/* non-zero: close the connection with it */
	/* what happened */
	bool connected, closed;
	enum quic_error error;
	uint64_t error_code;
	unsigned opened, streams_available;
	char last_route[QUIC_ROUTE_MAX + 1];
	uint64_t sends, send_refused;
};

struct net {
	uint64_t now;
	uint64_t delay, jitter;		/* ns */
	unsigned loss_permille;
	bool down;
	uint64_t rng;
	uint64_t delivered, lost;
	struct side client, server;
};

static uint64_t rnd(struct net *n)
{
	/* xorshift64* */
	n->rng ^= n->rng >> 12;
	n->rng ^= n->rng << 25;
	n->rng ^= n->rng >> 27;
	return n->rng * UINT64_C(2685821657736338717);
}

static int link_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct side *from = ctx;
	struct net *n = from->net;
	struct side *to = from->peer;
	struct pkt *p, **pp;

	from->sends++;
	if (n->down) {
		from->send_refused++;
		return -ENOTCONN;	/* no channel: the carrier is being replaced */
	}
	if (n->loss_permille && rnd(n) % 1000 < n->loss_permille) {
		n->lost++;
		return 0;
	}
	p = malloc(sizeof(*p) + len);
	cr_assert_not_null(p);
	memcpy(p->data, pkt, len);
	p->len = len;
	p->at = n->now + n->delay + (n->jitter ? rnd(n) % n->jitter : 0);
	for (pp = &to->inbox; *pp && (*pp)->at <= p->at; pp = &(*pp)->next)
		;
	p->next = *pp;
	*pp = p;
	return 0;
}

static void inbox_free(struct side *sd)
{
	while (sd->inbox) {
		struct pkt *p = sd->inbox;

		sd->inbox = p->next;
		free(p);
	}
}

/* --- the applications ------------------------------------------------------ */

static struct flow *flow_new(struct side *sd, struct quic_stream *s, unsigned idx)
{
	struct flow *f;

	cr_assert_lt(sd->nflows, MAX_FLOWS);
	f = &sd->flows[sd->nflows++];
	memset(f, 0, sizeof(*f));
	f->s = s;
	f->idx = idx;
	f->dir_out = sd->is_client ? 0 : 1;
	return f;
}

/* Write what the flow still has, as far as the stream takes it. */
static void pump(struct side *sd, struct flow *f)
{
	uint64_t now = sd->net->now;

	if (!f->s || f->closed || f->fin_sent || f->reset_seen)
		return;
	if (f->start_after_fin && !f->got_fin)
		return;
	while (f->sent < f->to_send) {
		size_t start = pat_start(f->idx, f->dir_out, f->sent);
		size_t n = f->to_send - f->sent;
		ssize_t w;

		if (n > WRITE_CHUNK)
			n = WRITE_CHUNK;
		w = quic_stream_write(f->s, pattern + start, n, now);
		if (w <= 0)
			return;
		f->sent += (uint64_t)w;
	}
	if (f->send_fin && quic_stream_finish(f->s, now) == 0)
		f->fin_sent = true;
}

static void pump_all(struct side *sd)
{
	for (unsigned i = 0; i < sd->nflows; i++)
		pump(sd, &sd->flows[i]);
}

static void on_data(void *ctx, struct quic_stream *s, const uint8_t *data, size_t len, bool fin)
{
	struct side *sd = ctx;
	struct flow *f = quic_stream_user(s);
	unsigned dir_in = sd->is_client ? 1 : 0;
	size_t off = 0;

	cr_assert_not_null(f);
	cr_assert(!f->got_fin, "bytes after FIN");
	while (off < len) {
		size_t start = pat_start(f->idx, dir_in, f->received + off);
		size_t n = len - off < PAT_PERIOD ? len - off : PAT_PERIOD;

		if (memcmp(data + off, pattern + start, n) != 0)
			f->mismatch = true;
		off += n;
	}
	f->received += len;
	if (fin)
		f->got_fin = true;
	if (f->no_consume)
		f->unconsumed += len;
	else
		cr_assert_eq(quic_stream_consume(s, len, sd->net->now), 0);
	if (fin)
		pump(sd, f);	/* a reply that waited for our peer's FIN */
}

static void on_event(void *ctx, const struct quic_event *ev)
{
	struct side *sd = ctx;
	struct flow *f = ev->stream ? quic_stream_user(ev->stream) : NULL;
	unsigned idx;

	switch (ev->type) {
	case QUIC_EV_CONNECTED:
		cr_assert(!sd->connected);
		sd->connected = true;
		break;
	case QUIC_EV_CLOSED:
		cr_assert(!sd->closed);
		sd->closed = true;
		sd->error = ev->error;
		sd->error_code = ev->code;
		break;
	case QUIC_EV_STREAM_OPENED:
		cr_assert(!sd->is_client);
		snprintf(sd->last_route, sizeof(sd->last_route), "%s", ev->route);
		cr_assert_eq(sscanf(ev->route, "r%u", &idx), 1, "route %s", ev->route);
		f = flow_new(sd, ev->stream, idx);
		quic_stream_set_user(ev->stream, f);
		f->to_send = sd->reply_bytes;
		f->send_fin = sd->reply_fin;
		f->start_after_fin = sd->reply_after_fin;
		sd->opened++;
		if (sd->close_on_open)
			cr_assert_eq(quic_conn_close(sd->q, sd->close_on_open, "shutting down",
						     sd->net->now), 0);
		else if (sd->reset_on_open)
			cr_assert_eq(quic_stream_reset(ev->stream, sd->reset_on_open,
						       sd->net->now), 0);
		else
			pump(sd, f);
		break;
	case QUIC_EV_STREAM_RESET:
		cr_assert_not_null(f);
		f->reset_seen = true;
		f->reset_code = ev->code;
		break;
	case QUIC_EV_STREAM_WRITABLE:
		cr_assert_not_null(f);
		f->writable_events++;
		pump(sd, f);
		break;
	case QUIC_EV_STREAM_CLOSED:
		cr_assert_not_null(f);
		cr_assert(!f->closed);
		f->closed = true;
		f->close_has_code = ev->has_code;
		f->close_code = ev->code;
		f->close_error = ev->error;
		f->s = NULL;
		break;
	case QUIC_EV_STREAMS_AVAILABLE:
		sd->streams_available++;
		break;
	}
}

/* --- the world ------------------------------------------------------------- */

struct opts {
	const uint8_t *pin;			/* client: NULL → the gateway's */
	const struct quic_identity *client_id;	/* NULL → agent_id */
	const uint8_t (*allowed)[QUIC_FP_LEN];	/* NULL → { agent } */
	size_t n_allowed;
	quic_authorize_fn authorize;
	uint32_t max_streams, stream_window, sndbuf;
	uint64_t idle_timeout, keepalive;
	bool defer_send;			/* both ends: send at quic_conn_flush() */
};

static struct net *net_new(const struct opts *o)
{
	static const struct opts none;
	struct net *n = calloc(1, sizeof(*n));
	const uint8_t (*agent)[QUIC_FP_LEN];
	struct quic_config cc = { 0 }, sc = { 0 };

	if (!o)
		o = &none;
	cr_assert_not_null(n);
	n->now = T0;
	n->delay = 5 * MS;
	n->rng = 0x9e3779b97f4a7c15u;
	n->client.net = n->server.net = n;
	n->client.peer = &n->server;
	n->server.peer = &n->client;
	n->client.is_client = true;
	agent = (const uint8_t (*)[QUIC_FP_LEN])quic_identity_fingerprint(agent_id);

	cc.role = QUIC_CLIENT;
	cc.identity = o->client_id ? o->client_id : agent_id;
	cc.server_fp = o->pin ? o->pin : quic_identity_fingerprint(gw_id);
	cc.idle_timeout_ns = o->idle_timeout;
	cc.keepalive_ns = o->keepalive;
	cc.stream_window = o->stream_window;
	cc.sndbuf = o->sndbuf;
	cc.send = link_send;
	cc.defer_send = o->defer_send;
	cc.on_event = on_event;
	cc.on_data = on_data;
	cc.ctx = &n->client;
	cr_assert_eq(quic_conn_create(&n->client.q, &cc), 0);

	sc = cc;
	sc.role = QUIC_SERVER;
	sc.identity = gw_id;
	sc.server_fp = NULL;
	sc.tag = quic_conn_tag(n->client.q);	/* what CHANNEL_OPEN carried */
	sc.allowed_fps = o->allowed ? o->allowed : (o->authorize ? NULL : agent);
	sc.n_allowed = o->allowed ? o->n_allowed : (o->authorize ? 0 : 1);
	sc.authorize = o->authorize;
	sc.max_streams = o->max_streams;
	sc.ctx = &n->server;
	cr_assert_eq(quic_conn_create(&n->server.q, &sc), 0);
	return n;
}

static void net_free(struct net *n)
{
	quic_conn_destroy(n->client.q);
	quic_conn_destroy(n->server.q);
	inbox_free(&n->client);
	inbox_free(&n->server);
	free(n);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void deliver_due(struct side *sd)
{
	struct net *n = sd->net;

	while (sd->inbox && sd->inbox->at <= n->now) {
		struct pkt *p = sd->inbox;

		sd->inbox = p->next;
		n->delivered++;
		cr_assert_eq(quic_conn_input(sd->q, p->data, p->len, n->now), 0);
		free(p);
	}
}

typedef bool (*pred_fn)(struct net *n, void *arg);

/*
 * Run the world until @pred holds or @limit ns of fake time have passed.
 * @return whether @pred held.
 */
static bool run_until(struct net *n, pred_fn pred, void *arg, uint64_t limit)
{
	uint64_t end = n->now + limit;

	for (unsigned step = 0; step < MAX_STEPS; step++) {
		uint64_t next;

		if (pred(n, arg))
			return true;
		deliver_due(&n->client);
		deliver_due(&n->server);
		if (quic_conn_next_deadline(n->client.q) <= n->now)
			quic_conn_tick(n->client.q, n->now);
		if (quic_conn_next_deadline(n->server.q) <= n->now)
			quic_conn_tick(n->server.q, n->now);
		pump_all(&n->client);
		pump_all(&n->server);
		/* An event loop's last step before it sleeps (defer_send; else a no-op). */
		quic_conn_flush(n->client.q, n->now);
		quic_conn_flush(n->server.q, n->now);
		if (pred(n, arg))
			return true;
		next = QUIC_NEVER;
		if (n->client.inbox)
			next = n->client.inbox->at;
		if (n->server.inbox)
			next = min_u64(next, n->server.inbox->at);
		next = min_u64(next, quic_conn_next_deadline(n->client.q));
		next = min_u64(next, quic_conn_next_deadline(n->server.q));
		if (next == QUIC_NEVER) {
			n->now = end;	/* nothing will ever happen: let the time pass */
			return pred(n, arg);
		}
		/* Whatever was due at now has run: time must move. */
		n->now = next > n->now ? next : n->now + 1000;
		if (n->now > end)
			return pred(n, arg);
	}
	cr_assert_fail("run_until: step bound reached");
	return false;
}

static bool both_connected(struct net *n, void *arg)
{
	(void)arg;
	return n->client.connected && n->server.connected;
}

static bool both_closed(struct net *n, void *arg)
{
	(void)arg;
	return n->client.closed && n->server.closed;
}

static void connect_ok(struct net *n)
{
	cr_assert_eq(quic_conn_connect(n->client.q, n->now), 0);
	cr_assert(run_until(n, both_connected, NULL, 5 * SEC), "handshake: client %s, server %s",
		  quic_conn_error_text(n->client.q), quic_conn_error_text(n->server.q));
}

/* Client flows 0..count-1 on routes r<base+i>, @up bytes up, @down bytes down. */
static void open_flows(struct net *n, unsigned count, unsigned base, uint64_t up, bool fin)
{
	for (unsigned i = 0; i < count; i++) {
		struct flow *f = flow_new(&n->client, NULL, base + i);
		char route[16];

		snprintf(route, sizeof(route), "r%u", base + i);
		cr_assert_eq(quic_stream_open(n->client.q, route, f, &f->s, n->now), 0);
		f->to_send = up;
		f->send_fin = fin;
		pump(&n->client, f);
	}
}

static bool flows_done(struct side *sd, uint64_t expect_in)
{
	for (unsigned i = 0; i < sd->nflows; i++) {
		const struct flow *f = &sd->flows[i];

		if (!f->closed || !f->got_fin || f->received != expect_in)
			return false;
	}
	return true;
}

struct expect {
	unsigned streams;
	uint64_t up, down;
};

static bool transfer_done(struct net *n, void *arg)
{
	const struct expect *e = arg;

	return n->client.nflows == e->streams && n->server.nflows == e->streams &&
	       flows_done(&n->client, e->down) && flows_done(&n->server, e->up);
}

static void assert_flows_exact(const struct side *sd, uint64_t expect_in)
{
	for (unsigned i = 0; i < sd->nflows; i++) {
		const struct flow *f = &sd->flows[i];

		cr_assert(!f->mismatch, "%s flow %u: bytes differ", sd->is_client ? "client" :
			  "server", f->idx);
		cr_assert_eq(f->received, expect_in, "%s flow %u: %llu bytes, want %llu",
			     sd->is_client ? "client" : "server", f->idx,
			     (unsigned long long)f->received, (unsigned long long)expect_in);
		cr_assert(f->got_fin);
		cr_assert(f->closed);
		cr_assert(!f->close_has_code, "closed with code 0x%llx",
			  (unsigned long long)f->close_code);
		cr_assert_eq(f->close_error, QUIC_ERR_NONE);
	}
}

/* Run a whole transfer of @streams streams and check every byte. */
static void transfer(struct net *n, unsigned streams, uint64_t up, uint64_t down,
		     uint64_t limit)
{
	struct expect e = { streams, up, down };

	n->server.reply_bytes = down;
	n->server.reply_fin = true;
	open_flows(n, streams, 0, up, true);
	cr_assert(run_until(n, transfer_done, &e, limit),
		  "transfer incomplete at +%llu ms: client %u flows, server %u; %s / %s",
		  (unsigned long long)((n->now - T0) / MS), n->client.nflows, n->server.nflows,
		  quic_conn_error_text(n->client.q), quic_conn_error_text(n->server.q));
	assert_flows_exact(&n->client, down);
	assert_flows_exact(&n->server, up);
	cr_assert(!n->client.closed && !n->server.closed);
}

TestSuite(quic, .init = setup_world, .fini = teardown_world, .timeout = 100);

/* --- handshake and pinning ------------------------------------------------- */

Test(quic, handshake_pins_both_certificates)
{
	struct net *n = net_new(NULL);
	uint8_t fp[QUIC_FP_LEN];

	connect_ok(n);
	cr_assert(quic_conn_is_connected(n->client.q));
	cr_assert(quic_conn_is_connected(n->server.q));
	/* Each side sees the other's certificate: the gateway logs the agent by it. */
	cr_assert(quic_conn_peer_fingerprint(n->client.q, fp));
	cr_assert_arr_eq(fp, quic_identity_fingerprint(gw_id), QUIC_FP_LEN);
	cr_assert(quic_conn_peer_fingerprint(n->server.q, fp));
	cr_assert_arr_eq(fp, quic_identity_fingerprint(agent_id), QUIC_FP_LEN);
	/* The tag RESUME names is the same on both sides. */
	cr_assert_arr_eq(quic_conn_tag(n->client.q), quic_conn_tag(n->server.q), QUIC_TAG_LEN);
	cr_assert_str_empty(quic_conn_error_text(n->client.q));
	net_free(n);
}

Test(quic, wrong_server_fingerprint_is_refused_by_the_client)
{
	struct opts o = { .pin = quic_identity_fingerprint(stranger_id) };
	struct net *n = net_new(&o);

	cr_assert_eq(quic_conn_connect(n->client.q, n->now), 0);
	cr_assert(run_until(n, both_closed, NULL, 5 * SEC));
	cr_assert(!n->client.connected && !n->server.connected);
	cr_assert_eq(n->client.error, QUIC_ERR_PIN_MISMATCH);
	cr_assert(strstr(quic_conn_error_text(n->client.q), "is not the pinned"),
		  "%s", quic_conn_error_text(n->client.q));
	cr_assert_eq(n->server.error, QUIC_ERR_PEER_REFUSED);
	cr_assert(strstr(quic_conn_error_text(n->server.q), "server certificate not pinned"),
		  "%s", quic_conn_error_text(n->server.q));
	cr_assert_eq(n->server.error_code, 0x12a, "CRYPTO_ERROR + bad_certificate");
	net_free(n);
}

static bool authorize_yes(void *ctx, const uint8_t fp[QUIC_FP_LEN])
{
	(void)ctx;
	return memcmp(fp, quic_identity_fingerprint(agent_id), QUIC_FP_LEN) == 0;
}

static bool authorize_no(void *ctx, const uint8_t fp[QUIC_FP_LEN])
{
	(void)ctx;
	(void)fp;
	return false;
}

struct allow_case {
	const char *name;
	bool list_has_agent;	/* the allowed list holds the agent (else another one) */
	quic_authorize_fn authorize;
	bool stranger_client;	/* the client presents the stranger's certificate */
	bool accept;
};

static const struct allow_case allow_cases[] = {
	{ "in the list", true, NULL, false, true },
	{ "not in the list, no callback", false, NULL, false, false },
	{ "not in the list, callback accepts", false, authorize_yes, false, true },
	{ "not in the list, callback refuses", false, authorize_no, false, false },
	{ "stranger, callback checks the fingerprint", false, authorize_yes, true, false },
};

Test(quic, client_certificate_allowed_by_list_or_callback)
{
	for (size_t i = 0; i < sizeof(allow_cases) / sizeof(allow_cases[0]); i++) {
		const struct allow_case *tc = &allow_cases[i];
		const uint8_t (*list)[QUIC_FP_LEN] = (const uint8_t (*)[QUIC_FP_LEN])
			quic_identity_fingerprint(tc->list_has_agent ? agent_id : gw_id);
		struct opts o = {
			.allowed = list, .n_allowed = 1, .authorize = tc->authorize,
			.client_id = tc->stranger_client ? stranger_id : agent_id,
		};
		struct net *n = net_new(&o);
		char hex[QUIC_FP_HEX_LEN + 1];

		cr_assert_eq(quic_conn_connect(n->client.q, n->now), 0);
		if (tc->accept) {
			cr_assert(run_until(n, both_connected, NULL, 5 * SEC), "%s", tc->name);
			net_free(n);
			continue;
		}
		cr_assert(run_until(n, both_closed, NULL, 5 * SEC), "%s", tc->name);
		/* Refused: the client never counts as connected, both say why. */
		cr_assert(!n->client.connected, "%s", tc->name);
		cr_assert(!n->server.connected, "%s", tc->name);
		cr_assert_eq(n->server.error, QUIC_ERR_CLIENT_REFUSED, "%s", tc->name);
		quic_fingerprint_format(hex, quic_identity_fingerprint(o.client_id));
		cr_assert(strstr(quic_conn_error_text(n->server.q), hex), "%s: %s", tc->name,
			  quic_conn_error_text(n->server.q));
		cr_assert_eq(n->client.error, QUIC_ERR_PEER_REFUSED, "%s: %s", tc->name,
			     quic_error_name(n->client.error));
		cr_assert(strstr(quic_conn_error_text(n->client.q),
				 "client certificate not allowed"),
			  "%s: %s", tc->name, quic_conn_error_text(n->client.q));
		cr_assert_eq(n->client.error_code, 0x12a, "%s", tc->name);
		net_free(n);
	}
}

/* --- streams ----------------------------------------------------------------- */

Test(quic, one_megabyte_both_ways_byte_exact)
{
	struct net *n = net_new(NULL);

	connect_ok(n);
	transfer(n, 1, 1 << 20, 1 << 20, 60 * SEC);
	cr_assert_eq(n->server.opened, 1);
	cr_assert_str_eq(n->server.last_route, "r0");
	net_free(n);
}

struct half_case {
	const char *name;
	uint64_t up, down;
	bool server_waits_for_fin;	/* server replies after the client's FIN */
	bool client_waits_for_fin;	/* client sends after the server's FIN */
};

static const struct half_case half_cases[] = {
	{ "client FIN first, then the server answers", 100000, 150000, true, false },
	{ "server FIN first, then the client sends", 120000, 50000, false, true },
	{ "client sends nothing, FIN only", 0, 70000, true, false },
};

Test(quic, fin_half_closes_each_direction)
{
	for (size_t i = 0; i < sizeof(half_cases) / sizeof(half_cases[0]); i++) {
		const struct half_case *tc = &half_cases[i];
		struct net *n = net_new(NULL);
		struct expect e = { 1, tc->up, tc->down };
		struct flow *f;

		connect_ok(n);
		n->server.reply_bytes = tc->down;
		n->server.reply_fin = true;
		n->server.reply_after_fin = tc->server_waits_for_fin;
		f = flow_new(&n->client, NULL, 0);
		f->to_send = tc->up;
		f->send_fin = true;
		f->start_after_fin = tc->client_waits_for_fin;
		cr_assert_eq(quic_stream_open(n->client.q, "r0", f, &f->s, n->now), 0);
		pump(&n->client, f);
		cr_assert(run_until(n, transfer_done, &e, 30 * SEC), "%s", tc->name);
		assert_flows_exact(&n->client, tc->down);
		assert_flows_exact(&n->server, tc->up);
		/* The side that finished first could still receive: a half-close. */
		if (tc->server_waits_for_fin)
			cr_assert_eq(n->client.flows[0].received, tc->down, "%s", tc->name);
		net_free(n);
	}
}

struct reset_case {
	const char *name;
	bool client_resets;		/* else the server resets at open */
	uint64_t code;
};

static const struct reset_case reset_cases[] = {
	{ "client cancels mid-transfer", true, QUIC_APP_CANCELLED },
	{ "server refuses the route", false, QUIC_APP_UNKNOWN_ROUTE },
	{ "server: upstream refused", false, QUIC_APP_UPSTREAM_REFUSED },
};

static bool server_got_some(struct net *n, void *arg)
{
	(void)arg;
	return n->server.nflows == 1 && n->server.flows[0].received >= 200000;
}

static bool stream_closed_both(struct net *n, void *arg)
{
	(void)arg;
	return n->client.nflows == 1 && n->server.nflows == 1 && n->client.flows[0].closed &&
	       n->server.flows[0].closed;
}

Test(quic, reset_aborts_and_the_peer_sees_the_code)
{
	for (size_t i = 0; i < sizeof(reset_cases) / sizeof(reset_cases[0]); i++) {
		const struct reset_case *tc = &reset_cases[i];
		struct net *n = net_new(NULL);
		struct flow *cf, *sf;

		connect_ok(n);
		n->server.reply_bytes = 1 << 20;
		n->server.reset_on_open = tc->client_resets ? 0 : tc->code;
		open_flows(n, 1, 0, 1 << 20, true);
		cf = &n->client.flows[0];
		if (tc->client_resets) {
			cr_assert(run_until(n, server_got_some, NULL, 10 * SEC), "%s", tc->name);
			cr_assert_eq(quic_stream_reset(cf->s, tc->code, n->now), 0);
			cr_assert_eq(quic_stream_write(cf->s, "x", 1, n->now), -EPIPE);
		}
		cr_assert(run_until(n, stream_closed_both, NULL, 10 * SEC), "%s", tc->name);
		sf = &n->server.flows[0];
		/* The side that did not reset saw the other's code. */
		if (tc->client_resets) {
			cr_assert(sf->reset_seen, "%s", tc->name);
			cr_assert_eq(sf->reset_code, tc->code, "%s", tc->name);
			cr_assert(sf->received < 1 << 20, "%s", tc->name);
		} else {
			cr_assert(cf->reset_seen, "%s", tc->name);
			cr_assert_eq(cf->reset_code, tc->code, "%s", tc->name);
			cr_assert_eq(cf->received, 0, "%s", tc->name);
		}
		cr_assert(cf->close_has_code && sf->close_has_code, "%s", tc->name);
		cr_assert_eq(cf->close_code, tc->code, "%s", tc->name);
		cr_assert_eq(sf->close_code, tc->code, "%s", tc->name);
		cr_assert(!cf->got_fin && !sf->got_fin, "%s", tc->name);
		/* The connection lives on: a new stream works. */
		cr_assert(quic_conn_is_connected(n->client.q), "%s", tc->name);
		net_free(n);
	}
}

Test(quic, loss_and_reordering_still_byte_exact)
{
	struct net *n = net_new(NULL);

	n->loss_permille = 50;		/* 5% each way */
	n->jitter = 20 * MS;		/* 5..25 ms: datagrams overtake each other */
	connect_ok(n);
	transfer(n, 1, 1 << 20, 1 << 20, 300 * SEC);
	cr_assert_gt(n->lost, 50, "the link lost %llu datagrams", (unsigned long long)n->lost);
	net_free(n);
}

static bool client_got(struct net *n, void *arg)
{
	uint64_t want = *(const uint64_t *)arg;

	return n->client.nflows == 1 && n->client.flows[0].received >= want &&
	       n->server.nflows == 1 && n->server.flows[0].received >= want;
}

static bool time_passed(struct net *n, void *arg)
{
	return n->now >= *(const uint64_t *)arg;
}

Test(quic, carrier_gap_then_resume_completes_without_duplicates)
{
	struct net *n = net_new(NULL);
	struct expect e = { 1, 1 << 20, 1 << 20 };
	uint64_t some = 200000, until;
	struct quic_stats before, after;

	connect_ok(n);
	n->server.reply_bytes = 1 << 20;
	n->server.reply_fin = true;
	open_flows(n, 1, 0, 1 << 20, true);
	cr_assert(run_until(n, client_got, &some, 30 * SEC));
	/* The relay dies: 2 s with no channel, whatever was in flight is gone. */
	quic_conn_get_stats(n->client.q, &before);
	n->down = true;
	inbox_free(&n->client);
	inbox_free(&n->server);
	until = n->now + 2 * SEC;
	cr_assert(run_until(n, time_passed, &until, 3 * SEC));
	cr_assert_gt(n->client.send_refused + n->server.send_refused, 0);
	cr_assert(!n->client.closed && !n->server.closed);
	/* A new channel through another relay: same conns, same virtual path. */
	n->down = false;
	cr_assert_eq(quic_conn_carrier_up(n->client.q, n->now), 0);
	cr_assert_eq(quic_conn_carrier_up(n->server.q, n->now), 0);
	cr_assert(run_until(n, transfer_done, &e, 60 * SEC), "after the gap: %s / %s",
		  quic_conn_error_text(n->client.q), quic_conn_error_text(n->server.q));
	assert_flows_exact(&n->client, 1 << 20);
	assert_flows_exact(&n->server, 1 << 20);
	quic_conn_get_stats(n->client.q, &after);
	cr_assert_eq(after.carrier_changes, 1);
	cr_assert_gt(after.send_errors, before.send_errors);
	net_free(n);
}

Test(quic, hundred_concurrent_streams)
{
	struct net *n = net_new(NULL);
	bool seen[100] = { false };

	connect_ok(n);
	transfer(n, 100, 20000, 30000, 60 * SEC);
	cr_assert_eq(n->server.opened, 100);
	for (unsigned i = 0; i < 100; i++) {
		cr_assert_lt(n->server.flows[i].idx, 100);
		seen[n->server.flows[i].idx] = true;
	}
	for (unsigned i = 0; i < 100; i++)
		cr_assert(seen[i], "route r%u never opened", i);
	net_free(n);
}

/* --- sending once per turn (defer_send) ------------------------------------ */

static bool server_got_each(struct net *n, void *arg)
{
	const uint64_t *want = arg;

	if (n->server.nflows == 0)
		return false;
	for (unsigned i = 0; i < n->server.nflows; i++)
		if (n->server.flows[i].received != *want)
			return false;
	return true;
}

/*
 * Eight streams opened and written in one turn: each call sends at once
 * (a datagram or more per call), or, with defer_send, nothing until the
 * flush and then one datagram for all of it. The bytes arrive either way.
 */
Test(quic, deferred_send_packs_one_turns_writes_into_one_datagram)
{
	static const struct {
		bool defer;
		uint64_t min_sent, max_sent;
	} cases[] = {
		{ false, 8, 64 },
		{ true, 1, 1 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct opts o = { .defer_send = cases[c].defer };
		struct net *n = net_new(&o);
		uint64_t before, want = 100, quiet;

		connect_ok(n);
		/* Let the handshake's last ACKs go by: the link is quiet. */
		quiet = n->now + 500 * MS;
		cr_assert(run_until(n, time_passed, &quiet, 1 * SEC));
		before = n->client.sends;
		open_flows(n, 8, 0, want, false);
		if (cases[c].defer) {
			cr_assert_eq(n->client.sends, before, "defer_send sent before the flush");
			cr_assert_eq(quic_conn_next_deadline(n->client.q), 0,
				     "a flush is owed: the deadline is now");
			quic_conn_flush(n->client.q, n->now);
		}
		cr_assert_geq(n->client.sends - before, cases[c].min_sent,
			      "defer=%d: %llu datagrams", cases[c].defer,
			      (unsigned long long)(n->client.sends - before));
		cr_assert_leq(n->client.sends - before, cases[c].max_sent,
			      "defer=%d: %llu datagrams for 8 writes of %llu bytes",
			      cases[c].defer, (unsigned long long)(n->client.sends - before),
			      (unsigned long long)want);
		cr_assert(run_until(n, server_got_each, &want, 5 * SEC));
		cr_assert_eq(n->server.nflows, 8);
		for (unsigned i = 0; i < 8; i++)
			cr_assert(!n->server.flows[i].mismatch);
		net_free(n);
	}
}

/* Once per turn, over a lossy, reordering link: still every byte, once, in order. */
Test(quic, deferred_send_with_loss_still_byte_exact)
{
	struct opts o = { .defer_send = true };
	struct net *n = net_new(&o);

	n->loss_permille = 30;
	n->jitter = 10 * MS;
	connect_ok(n);
	transfer(n, 16, 128 * 1024, 128 * 1024, 300 * SEC);
	cr_assert_gt(n->lost, 10, "the link lost %llu datagrams", (unsigned long long)n->lost);
	net_free(n);
}

static bool all_opened(struct net *n, void *arg)
{
	return n->server.opened >= *(const unsigned *)arg;
}

static bool more_streams(struct net *n, void *arg)
{
	return n->client.streams_available > *(const unsigned *)arg;
}

Test(quic, stream_limit_makes_the_client_wait)
{
	struct opts o = { .max_streams = 8 };
	struct net *n = net_new(&o);
	struct expect e = { 24, 5000, 5000 };
	unsigned opened = 0, want = 24;
	struct quic_stream *s;
	int ret = 0;

	connect_ok(n);
	n->server.reply_bytes = 5000;
	n->server.reply_fin = true;
	while (opened < want) {
		struct flow *f;
		char route[16];

		snprintf(route, sizeof(route), "r%u", opened);
		ret = quic_stream_open(n->client.q, route, NULL, &s, n->now);
		if (ret == -EAGAIN) {
			unsigned avail = n->client.streams_available;

			/* Streams end, the server grants more, the client is told. */
			cr_assert(run_until(n, all_opened, &opened, 10 * SEC));
			cr_assert(run_until(n, more_streams, &avail, 10 * SEC),
				  "no more streams after %u", opened);
			continue;
		}
		cr_assert_eq(ret, 0);
		f = flow_new(&n->client, s, opened);
		quic_stream_set_user(s, f);
		f->to_send = 5000;
		f->send_fin = true;
		pump(&n->client, f);
		opened++;
	}
	cr_assert_gt(n->client.streams_available, 0);
	cr_assert(run_until(n, transfer_done, &e, 30 * SEC));
	assert_flows_exact(&n->client, 5000);
	assert_flows_exact(&n->server, 5000);
	net_free(n);
}

static bool sender_stuck(struct net *n, void *arg)
{
	(void)arg;
	return n->client.nflows == 1 && n->client.flows[0].s &&
	       quic_stream_room(n->client.flows[0].s) == 0;
}

Test(quic, unconsumed_bytes_stop_the_sender_at_the_window)
{
	struct opts o = { .stream_window = 64 * 1024, .sndbuf = 64 * 1024 };
	struct net *n = net_new(&o);
	struct expect e = { 1, 1 << 20, 0 };
	uint64_t until;
	struct flow *sf;

	connect_ok(n);
	n->server.reply_fin = true;
	open_flows(n, 1, 0, 1 << 20, true);
	cr_assert(run_until(n, all_opened, &(unsigned){ 1 }, 5 * SEC));
	sf = &n->server.flows[0];
	sf->no_consume = true;
	cr_assert(run_until(n, sender_stuck, NULL, 10 * SEC));
	until = n->now + 2 * SEC;
	cr_assert(run_until(n, time_passed, &until, 3 * SEC));
	/* Nothing beyond the window arrived while the receiver held its bytes. */
	cr_assert_leq(sf->unconsumed, 64 * 1024 + 1024);
	cr_assert_lt(n->client.flows[0].sent, 1 << 20);
	/* The receiver drains; writable events restart the sender. */
	cr_assert_eq(quic_stream_consume(sf->s, sf->unconsumed, n->now), 0);
	sf->unconsumed = 0;
	sf->no_consume = false;
	cr_assert(run_until(n, transfer_done, &e, 60 * SEC));
	assert_flows_exact(&n->server, 1 << 20);
	cr_assert_gt(n->client.flows[0].writable_events, 0);
	net_free(n);
}

/* --- connection end ---------------------------------------------------------- */

Test(quic, close_reaches_the_peer_with_code_and_reason)
{
	struct net *n = net_new(NULL);

	connect_ok(n);
	open_flows(n, 2, 0, 1 << 20, false);
	cr_assert(run_until(n, all_opened, &(unsigned){ 2 }, 5 * SEC));
	cr_assert_eq(quic_conn_close(n->client.q, QUIC_APP_SHUTDOWN, "agent leaving", n->now), 0);
	cr_assert(n->client.closed);
	cr_assert_eq(n->client.error, QUIC_ERR_LOCAL_CLOSED);
	cr_assert_eq(quic_conn_close(n->client.q, 0, NULL, n->now), -ENOTCONN);
	cr_assert(run_until(n, both_closed, NULL, 5 * SEC));
	cr_assert_eq(n->server.error, QUIC_ERR_PEER_CLOSED);
	cr_assert_eq(n->server.error_code, QUIC_APP_SHUTDOWN);
	cr_assert(strstr(quic_conn_error_text(n->server.q), "agent leaving"));
	/* Every stream ended, with the connection's error. */
	for (unsigned i = 0; i < 2; i++) {
		cr_assert(n->client.flows[i].closed);
		cr_assert_eq(n->client.flows[i].close_error, QUIC_ERR_LOCAL_CLOSED);
		cr_assert(n->server.flows[i].closed);
		cr_assert_eq(n->server.flows[i].close_error, QUIC_ERR_PEER_CLOSED);
	}
	cr_assert_eq(quic_stream_open(n->client.q, "r9", NULL, &(struct quic_stream *){ NULL },
				      n->now), -ENOTCONN);
	/* Closing periods end; then there is nothing left to do. */
	cr_assert(run_until(n, time_passed, &(uint64_t){ n->now + 10 * SEC }, 11 * SEC));
	cr_assert(quic_conn_is_done(n->client.q) && quic_conn_is_done(n->server.q));
	cr_assert_eq(quic_conn_next_deadline(n->client.q), QUIC_NEVER);
	net_free(n);
}

Test(quic, close_from_a_callback_goes_out_after_it)
{
	struct net *n = net_new(NULL);

	connect_ok(n);
	n->server.close_on_open = QUIC_APP_SHUTDOWN;
	open_flows(n, 1, 0, 1000, true);
	cr_assert(run_until(n, both_closed, NULL, 5 * SEC));
	cr_assert_eq(n->server.error, QUIC_ERR_LOCAL_CLOSED);
	cr_assert_eq(n->client.error, QUIC_ERR_PEER_CLOSED);
	cr_assert_eq(n->client.error_code, QUIC_APP_SHUTDOWN);
	cr_assert(strstr(quic_conn_error_text(n->client.q), "shutting down"));
	cr_assert(n->client.flows[0].closed && n->server.flows[0].closed);
	cr_assert_eq(n->client.flows[0].close_error, QUIC_ERR_PEER_CLOSED);
	net_free(n);
}

Test(quic, idle_timeout_without_keepalive_keepalive_keeps_it)
{
	struct opts quiet = { .idle_timeout = 5 * SEC, .keepalive = QUIC_NEVER };
	struct opts chatty = { .idle_timeout = 5 * SEC, .keepalive = 2 * SEC };
	struct net *n = net_new(&quiet);
	uint64_t until;

	connect_ok(n);
	until = n->now + 30 * SEC;
	cr_assert(run_until(n, both_closed, NULL, 30 * SEC));
	cr_assert_eq(n->client.error, QUIC_ERR_IDLE_TIMEOUT);
	cr_assert_eq(n->server.error, QUIC_ERR_IDLE_TIMEOUT);
	net_free(n);

	n = net_new(&chatty);
	connect_ok(n);
	until = n->now + 30 * SEC;
	cr_assert(run_until(n, time_passed, &until, 31 * SEC));
	cr_assert(!n->client.closed && !n->server.closed);
	cr_assert(quic_conn_is_connected(n->client.q));
	net_free(n);
}

Test(quic, handshake_times_out_with_no_peer)
{
	struct net *n = net_new(NULL);

	n->down = true;
	cr_assert_eq(quic_conn_connect(n->client.q, n->now), 0);
	cr_assert(run_until(n, time_passed, &(uint64_t){ n->now + 15 * SEC }, 16 * SEC));
	cr_assert(n->client.closed);
	cr_assert_eq(n->client.error, QUIC_ERR_HANDSHAKE_TIMEOUT);
	cr_assert(!n->server.closed);	/* never heard of: it has no connection yet */
	net_free(n);
}

/* A QUIC v1 Initial header (RFC 9000 §17.2.2) with @scid and a payload of junk. */
static void forge_initial(uint8_t pkt[1200], const uint8_t scid[QUIC_TAG_LEN])
{
	size_t off = 0, len;

	memset(pkt, 0x5a, 1200);
	pkt[off++] = 0xc0;				/* long header, Initial, 1-byte PN */
	pkt[off++] = 0;
	pkt[off++] = 0;
	pkt[off++] = 0;
	pkt[off++] = 1;					/* version 1 */
	pkt[off++] = 8;					/* DCID length, then 8 bytes */
	off += 8;
	pkt[off++] = QUIC_TAG_LEN;
	memcpy(pkt + off, scid, QUIC_TAG_LEN);
	off += QUIC_TAG_LEN;
	pkt[off++] = 0;					/* no token */
	len = 1200 - off - 2;
	pkt[off++] = (uint8_t)(0x40 | len >> 8);	/* 2-byte length */
	pkt[off++] = (uint8_t)len;
}

Test(quic, server_drops_datagrams_not_for_its_tag)
{
	struct net *n = net_new(NULL);
	uint8_t junk[1200] = { 0xc0 }, other[QUIC_TAG_LEN] = { 1, 2, 3 };
	struct quic_stats st;

	/*
	 * Before the client's Initial: junk, an Initial for another tag and a
	 * forged Initial with our tag that does not decrypt change nothing.
	 */
	cr_assert_eq(quic_conn_input(n->server.q, junk, sizeof(junk), n->now), 0);
	forge_initial(junk, other);
	cr_assert_eq(quic_conn_input(n->server.q, junk, sizeof(junk), n->now), 0);
	forge_initial(junk, quic_conn_tag(n->client.q));
	cr_assert_eq(quic_conn_input(n->server.q, junk, sizeof(junk), n->now), 0);
	quic_conn_get_stats(n->server.q, &st);
	cr_assert_eq(st.rx_dropped, 3);
	cr_assert(!n->server.closed);
	cr_assert_eq(n->client.sends + n->server.sends, 0, "nothing answered");
	connect_ok(n);
	net_free(n);
}

/* --- API edges and identities ------------------------------------------------ */

struct route_case {
	const char *route;
	int ret;
};

static const struct route_case route_cases[] = {
	{ "crm", 0 },
	{ "a.b_c-9", 0 },
	{ "", -EINVAL },
	{ "has space", -EINVAL },
	{ "slash/no", -EINVAL },
	{ "x123456789x123456789x123456789x123456789x123456789x123456789xyz", 0 },	/* 63 */
	{ "x123456789x123456789x123456789x123456789x123456789x123456789xyzw", -EINVAL },
};

Test(quic, stream_routes_checked_at_open)
{
	struct net *n = net_new(NULL);
	struct quic_stream *s;

	cr_assert_eq(quic_stream_open(n->client.q, "crm", NULL, &s, n->now), -ENOTCONN);
	connect_ok(n);
	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++)
		cr_assert_eq(quic_stream_open(n->client.q, route_cases[i].route, NULL, &s, n->now),
			     route_cases[i].ret, "route \"%s\"", route_cases[i].route);
	cr_assert_eq(quic_stream_open(n->client.q, NULL, NULL, &s, n->now), -EINVAL);
	cr_assert_eq(quic_stream_open(n->server.q, "crm", NULL, &s, n->now), -EINVAL);
	net_free(n);
}

/*
 * Fingerprint text as the gateway's `agents` and the connector's
 * `gateway_fingerprint` take it (docs/gateway.md, docs/connector.md): 64 hex
 * digits, or 32 pairs joined by ':', nothing mixed. @want is what the
 * formatter writes back for an accepted text.
 */
struct fp_case {
	const char *text;
	int ret;
	const char *want;
};

#define FP_0_1F "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define FP_00_FF "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const struct fp_case fp_cases[] = {
	{ FP_0_1F, 0, FP_0_1F },
	{ "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 0, FP_0_1F },
	{ "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:"
	  "1c:1d:1e:1f", 0, FP_0_1F },
	{ "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:"
	  "1C:1D:1E:1F", 0, FP_0_1F },
	{ FP_00_FF, 0, FP_00_FF },
	{ "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF", 0, FP_00_FF },
	{ "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:"
	  "cc:dd:ee:ff", 0, FP_00_FF },
	/* too short, too long, not hex */
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e", -EINVAL, NULL },
	{ FP_0_1F "00", -EINVAL, NULL },
	{ "00112233445566778899aabbccddeeff00112233445566778899aabbccddee", -EINVAL, NULL },
	{ FP_00_FF "00", -EINVAL, NULL },
	{ "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", -EINVAL, NULL },
	{ "g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", -EINVAL, NULL },
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", -EINVAL, NULL },
	{ "", -EINVAL, NULL },
	{ " " FP_0_1F, -EINVAL, NULL },
	{ FP_0_1F "\n", -EINVAL, NULL },
	/* another separator, or ':' misplaced */
	{ "00-11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:"
	  "cc:dd:ee:ff", -EINVAL, NULL },
	{ "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b "
	  "1c 1d 1e 1f", -EINVAL, NULL },
	{ "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:"
	  "1c:1d:1e:1f:", -EINVAL, NULL },
	{ ":00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:"
	  "1c:1d:1e:1f", -EINVAL, NULL },
	{ "0:001:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:"
	  "1c:1d:1e:1f", -EINVAL, NULL },
	/* colons in some places only: neither form */
	{ "00:0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", -EINVAL, NULL },
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e:1f", -EINVAL, NULL },
	{ "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:"
	  "1c:1d:1e1f", -EINVAL, NULL },
	{ "0001:0203:0405:0607:0809:0a0b:0c0d:0e0f:1011:1213:1415:1617:1819:1a1b:1c1d:1e1f",
	  -EINVAL, NULL },
};

Test(quic, fingerprint_text)
{
	char back[QUIC_FP_HEX_LEN + 1];
	uint8_t fp[QUIC_FP_LEN], untouched[QUIC_FP_LEN];

	memset(untouched, 0xee, sizeof(untouched));
	for (size_t i = 0; i < sizeof(fp_cases) / sizeof(fp_cases[0]); i++) {
		memcpy(fp, untouched, sizeof(fp));
		cr_assert_eq(quic_fingerprint_parse(fp, fp_cases[i].text), fp_cases[i].ret,
			     "\"%s\"", fp_cases[i].text);
		if (fp_cases[i].ret != 0) {
			cr_assert_arr_eq(fp, untouched, sizeof(fp), "\"%s\" wrote into fp",
					 fp_cases[i].text);
			continue;
		}
		quic_fingerprint_format(back, fp);
		cr_assert_str_eq(back, fp_cases[i].want, "\"%s\"", fp_cases[i].text);
	}
	cr_assert_eq(quic_fingerprint_parse(fp, NULL), -EINVAL);
}

/* Every byte value formats to two lowercase digits that parse back to it. */
Test(quic, fingerprint_format_round_trip)
{
	char text[QUIC_FP_HEX_LEN + 1];
	uint8_t fp[QUIC_FP_LEN], back[QUIC_FP_LEN];

	for (unsigned base = 0; base < 256; base += QUIC_FP_LEN) {
		for (unsigned b = 0; b < QUIC_FP_LEN; b++)
			fp[b] = (uint8_t)(base + b);
		memset(text, 'x', sizeof(text));
		quic_fingerprint_format(text, fp);
		cr_assert_eq(strlen(text), (size_t)QUIC_FP_HEX_LEN, "base %u", base);
		cr_assert_eq(strspn(text, "0123456789abcdef"), (size_t)QUIC_FP_HEX_LEN, "%s", text);
		cr_assert_eq(quic_fingerprint_parse(back, text), 0, "%s", text);
		cr_assert_arr_eq(back, fp, sizeof(fp), "%s", text);
	}
	/* and of an identity's real fingerprint */
	quic_fingerprint_format(text, quic_identity_fingerprint(gw_id));
	cr_assert_eq(quic_fingerprint_parse(back, text), 0, "%s", text);
	cr_assert_arr_eq(back, quic_identity_fingerprint(gw_id), QUIC_FP_LEN);
}

Test(quic, identity_save_and_load_round_trip)
{
	char dir[] = "/tmp/test_quic_XXXXXX", cert[64], key[64], other[64];
	struct quic_identity *back = NULL, *mixed = NULL;
	const uint8_t *der_a, *der_b;
	size_t la, lb;
	struct stat st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/gw.crt", dir);
	snprintf(key, sizeof(key), "%s/gw.key", dir);
	snprintf(other, sizeof(other), "%s/agent.key", dir);
	cr_assert_eq(quic_identity_save(gw_id, cert, key), 0);
	cr_assert_eq(quic_identity_save(agent_id, NULL, other), 0);
	cr_assert_eq(stat(key, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "key mode %o", st.st_mode & 0777);
	cr_assert_eq(quic_identity_load(&back, cert, key), 0);
	cr_assert_arr_eq(quic_identity_fingerprint(back), quic_identity_fingerprint(gw_id),
			 QUIC_FP_LEN);
	der_a = quic_identity_cert_der(back, &la);
	der_b = quic_identity_cert_der(gw_id, &lb);
	cr_assert_eq(la, lb);
	cr_assert_arr_eq(der_a, der_b, la);
	/* A key that is not the certificate's, a missing file, a non-PEM file. */
	cr_assert_eq(quic_identity_load(&mixed, cert, other), -EINVAL);
	cr_assert_eq(quic_identity_load(&mixed, cert, "/nonexistent/key"), -ENOENT);
	cr_assert_eq(quic_identity_load(&mixed, key, key), -EINVAL);
	cr_assert_null(mixed);
	cr_assert_eq(quic_identity_generate(&mixed, QUIC_KEY_ED25519, ""), -EINVAL);
	cr_assert_eq(quic_identity_generate(&mixed, (enum quic_key_type)9, "x"), -EINVAL);
	quic_identity_destroy(back);
	unlink(cert);
	unlink(key);
	unlink(other);
	rmdir(dir);
}

/* A second certificate for @key, signed by itself, as a renewal would make. */
static gnutls_datum_t renew(gnutls_x509_privkey_t key, unsigned serial)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t der = { 0 };
	time_t now = time(NULL);

	cr_assert_eq(gnutls_x509_crt_init(&crt), 0);
	cr_assert_eq(gnutls_x509_crt_set_key(crt, key), 0);
	cr_assert_eq(gnutls_x509_crt_set_serial(crt, &serial, sizeof(serial)), 0);
	cr_assert_eq(gnutls_x509_crt_set_activation_time(crt, now), 0);
	cr_assert_eq(gnutls_x509_crt_set_expiration_time(crt, now + 86400 * (serial + 1)), 0);
	cr_assert_eq(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
						   "renewed", 7), 0);
	cr_assert_eq(gnutls_x509_crt_set_version(crt, 3), 0);
	cr_assert_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_UNKNOWN, 0), 0);
	cr_assert_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
	gnutls_x509_crt_deinit(crt);
	return der;
}

/*
 * The pin is SHA-256 over the DER SubjectPublicKeyInfo (docs/protocol.md §10),
 * computed here with GnuTLS rather than the OpenSSL code under test; and a
 * certificate renewed with the same key keeps it.
 */
Test(quic, fingerprint_is_the_spki_hash_and_survives_renewal)
{
	char dir[] = "/tmp/test_quic_XXXXXX", cert[64], keyf[64];
	uint8_t want[QUIC_FP_LEN], fp1[QUIC_FP_LEN], fp2[QUIC_FP_LEN], other[QUIC_FP_LEN];
	gnutls_datum_t der = { 0 }, spki = { 0 }, pem = { 0 }, r1, r2;
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	gnutls_pubkey_t pub;
	const uint8_t *d;
	size_t len;

	d = quic_identity_cert_der(gw_id, &len);
	der.data = (unsigned char *)d;
	der.size = (unsigned)len;
	cr_assert_eq(gnutls_x509_crt_init(&crt), 0);
	cr_assert_eq(gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER), 0);
	cr_assert_eq(gnutls_pubkey_init(&pub), 0);
	cr_assert_eq(gnutls_pubkey_import_x509(pub, crt, 0), 0);
	cr_assert_eq(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki), 0);
	cr_assert_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, want), 0);
	cr_assert_arr_eq(quic_identity_fingerprint(gw_id), want, QUIC_FP_LEN);
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);

	/* Renewal: the saved key, two new certificates with other serials and dates. */
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/gw.crt", dir);
	snprintf(keyf, sizeof(keyf), "%s/gw.key", dir);
	cr_assert_eq(quic_identity_save(gw_id, cert, keyf), 0);
	cr_assert_eq(gnutls_load_file(keyf, &pem), 0);
	cr_assert_eq(gnutls_x509_privkey_init(&key), 0);
	cr_assert_eq(gnutls_x509_privkey_import(key, &pem, GNUTLS_X509_FMT_PEM), 0);
	r1 = renew(key, 2);
	r2 = renew(key, 3);
	cr_assert(r1.size != r2.size || memcmp(r1.data, r2.data, r1.size) != 0);
	cr_assert_eq(quic_fingerprint_der(fp1, r1.data, r1.size), 0);
	cr_assert_eq(quic_fingerprint_der(fp2, r2.data, r2.size), 0);
	cr_assert_arr_eq(fp1, want, QUIC_FP_LEN);
	cr_assert_arr_eq(fp2, want, QUIC_FP_LEN);
	d = quic_identity_cert_der(stranger_id, &len);
	cr_assert_eq(quic_fingerprint_der(other, d, len), 0);
	cr_assert(memcmp(other, want, QUIC_FP_LEN) != 0);
	cr_assert_eq(quic_fingerprint_der(other, (const uint8_t *)"not a certificate", 17), -EINVAL);
	gnutls_free(r1.data);
	gnutls_free(r2.data);
	gnutls_free(pem.data);
	gnutls_x509_privkey_deinit(key);
	unlink(cert);
	unlink(keyf);
	rmdir(dir);
}

static int count_send(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)pkt;
	(void)len;
	++*(unsigned *)ctx;
	return 0;
}

Test(quic, config_checked)
{
	unsigned sent = 0;
	struct quic_config c = {
		.role = QUIC_CLIENT, .identity = agent_id, .send = count_send, .ctx = &sent,
		.server_fp = quic_identity_fingerprint(gw_id),
	};
	struct quic_conn *q = NULL;

	cr_assert_eq(quic_conn_create(&q, &c), 0);
	cr_assert_eq(quic_conn_connect(q, T0), 0);
	cr_assert_eq(sent, 1, "the Initial goes out at once");
	cr_assert_eq(quic_conn_connect(q, T0), -EALREADY);
	quic_conn_destroy(q);
	c.server_fp = NULL;
	cr_assert_eq(quic_conn_create(&q, &c), -EINVAL);
	c.server_fp = quic_identity_fingerprint(gw_id);
	c.max_payload = 1199;
	cr_assert_eq(quic_conn_create(&q, &c), -EINVAL);
	c.max_payload = 0;
	c.role = QUIC_SERVER;
	cr_assert_eq(quic_conn_create(&q, &c), -EINVAL, "a server needs the tag");
}

/* --- measurement (not an assertion on speed) --------------------------------- */

static uint64_t cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return 0;
#endif
}

static double elapsed(clockid_t clock, const struct timespec *a)
{
	struct timespec b;

	clock_gettime(clock, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

Test(quic, throughput_one_megabyte_in_memory)
{
	struct net *n = net_new(NULL);
	struct timespec wall0, cpu0;
	double wall, cpu, tsc_hz;
	uint64_t c0, c1;

	n->delay = 1 * MS;
	connect_ok(n);
	clock_gettime(CLOCK_MONOTONIC, &wall0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
	c0 = cycles();
	transfer(n, 1, 1 << 20, 0, 60 * SEC);
	c1 = cycles();
	cpu = elapsed(CLOCK_THREAD_CPUTIME_ID, &cpu0);
	wall = elapsed(CLOCK_MONOTONIC, &wall0);
	tsc_hz = wall > 0 ? (double)(c1 - c0) / wall : 0;
	/*
	 * Both ends run on this thread: each byte is sealed, opened and
	 * acknowledged, and checked by this harness. CPU time, not wall time,
	 * so that other processes on the machine do not count.
	 */
	fprintf(stderr, "quic: 1 MiB client->server: %.1f ms CPU (%.1f ms wall), %.1f MB/s, "
		"%.1f cycles/byte, %llu datagrams\n", cpu * 1e3, wall * 1e3,
		(double)(1 << 20) / cpu / 1e6, cpu * tsc_hz / (double)(1 << 20),
		(unsigned long long)n->delivered);
	net_free(n);
}
