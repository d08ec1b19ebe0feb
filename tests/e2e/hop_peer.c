/*
 * hop_peer.c — real hop clients over real UDP, for the end-to-end scripts.
 *
 *   hop_peer gateway ...   a gateway that accepts every CHANNEL_OPEN and
 *                          echoes every CHANNEL_DATA back unchanged, on every
 *                          relay it is given
 *   hop_peer agent ...     a connector that opens N channels, sends M
 *                          numbered, timestamped, patterned payloads on each
 *                          (at most W in flight), checks every echoed byte;
 *                          given several relays, it moves to the next one
 *                          when its relay sends GOAWAY
 *
 *   agent ══UDP══▶ postern-relay A ══UDP══▶ gateway
 *     ║   ◀═══════════ echo ◀══════════════╝  ║
 *     ╚═ after A's GOAWAY ═▶ postern-relay B ═╝
 *
 * One thread. Per relay, a *link*: one connected UDP socket and one
 * endpoint/hop_client. The loop sleeps in ppoll() until a socket is readable
 * or the earliest deadline (every link's hop_client_next_deadline(), the
 * agent's loss scan and send pacing). Both modes print one JSON object on
 * stdout when they end (stdout carries nothing else) and, on failure, one
 * line on stderr saying why.
 *
 * The hop layer is unreliable: the agent retransmits nothing. A payload not
 * echoed within --loss-timeout is counted lost (and "late" if it shows up
 * afterwards).
 *
 * Gateway with several relays: one hop session to each, all kept up at once;
 * a channel belongs to the relay that opened it (its id is that relay's,
 * protocol.md §7) and is echoed on it. GOAWAY changes nothing here: the
 * hop_client reconnects to the same relay after the drain time. With
 * --echo-delay each echo is held back, so that a flow keeps payloads in flight
 * (rate × delay of them) at any moment a relay may start draining.
 *
 * Agent with several relays — moving on GOAWAY (protocol.md §7). Each payload
 * is a request that must come back exactly once, through the relay it was
 * sent through:
 *   - payloads go out on the current relay only: the first one at start;
 *   - GOAWAY from the current relay, when another relay follows it in the
 *     list: the agent leaves it (moved_at) and sends nothing new there; the
 *     next relay becomes current: handshake, then every channel that is not
 *     closed is opened there again (RESUME with the same connection tag if
 *     the channel had been open);
 *   - payloads still in flight on the relay it left stay in flight there: the
 *     draining relay keeps forwarding, and their echoes are accepted from that
 *     relay only. Once a channel has nothing in flight there, the agent closes
 *     it there (CHANNEL_CLOSE NORMAL), so the draining relay empties and exits;
 *   - the window (--window) spans relays; no payload is ever sent twice.
 * Per relay, sent = echoed + lost (+ in flight, if the run was cut short):
 * lost are payloads not back within --loss-timeout or on a channel the relay
 * closed; an echo of a payload already back (through any relay) is a
 * duplicate. GOAWAY from the last relay of the list (or the only one) changes
 * nothing: traffic goes on and the hop_client reconnects to that relay after
 * the drain time.
 */
#define _GNU_SOURCE	/* ppoll */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "endpoint/hop_client.h"
#include "endpoint/udp.h"
#include "wire/bytes.h"
#include "wire/frame.h"
#include "wire/hop.h"

#define NS_PER_S HOP_CLIENT_NS_PER_S
#define NS_PER_MS HOP_CLIENT_NS_PER_MS
#define NEVER UINT64_MAX

enum {
	EXIT_USAGE = 2,
	PAYLOAD_HEADER = 16,		/* sequence (8), send time (8) */
	GW_TABLE_SIZE = 1 << 16,	/* gateway: open channels at once per relay, 3/4 of it */
	RTT_SAMPLES_MAX = 1 << 22,
	TOKEN_FILE_MAX = 4096,
	SOCKET_BUFFER = 8 << 20,
	RELAYS_MAX = 8,
	LOSS_SCAN_MS = 10,
	ECHO_QUEUE = 4096,		/* gateway: echoes held back by --echo-delay */
};

static const char usage[] =
	"Usage: hop_peer gateway COMMON [--duration S] [--echo-delay MS]\n"
	"       hop_peer agent COMMON --tunnel NAME [--route NAME] [--channels N] [--count M]\n"
	"                      [--size BYTES] [--window W] [--rate R] [--timeout S]\n"
	"                      [--loss-timeout MS] [--reconnect-after MS] [--expect-close REASON]\n"
	"\n"
	"A test tool: real hop clients (docs/protocol.md) over UDP, for the e2e scripts.\n"
	"\n"
	"COMMON:\n"
	"  --relay ADDR:PORT     a relay (numeric; [v6]:port for IPv6); repeat for up to 8\n"
	"  --relay-key KEY       the relay's static public key, or @FILE; once per --relay,\n"
	"                        in the same order, or once for relays that share a key\n"
	"  --key FILE            this endpoint's private key (mode 0600)\n"
	"  --token FILE          this endpoint's token (pt1..., as posternctl token issue writes)\n"
	"  --suite chacha|aes    handshake suite (default chacha)\n"
	"  --dump FILE           append every packet sent (4-byte LE length, bytes)\n"
	"  -v, --verbose         log connection events on stderr\n"
	"  -h, --help            this text\n"
	"\n"
	"gateway: keeps a hop session to every relay; accepts every CHANNEL_OPEN, echoes every\n"
	"  CHANNEL_DATA on its channel (through the relay it came from), --echo-delay MS later\n"
	"  (default 0: at once; up to 4096 echoes wait, more go at once), answers\n"
	"  CHANNEL_CLOSE; runs until SIGTERM/SIGINT or --duration S (0: forever). Exit 0 if it\n"
	"  was connected to every relay at some point, else 1.\n"
	"\n"
	"agent: opens N channels (default 1) to --tunnel, sends M payloads (default 100) of\n"
	"  BYTES (16..1413, default 256) on each, at most W in flight per channel (default 8)\n"
	"  and, with --rate, at most R per second per channel: 8-byte sequence, 8-byte send\n"
	"  time, then a pattern derived from channel and sequence. Checks every echo byte for\n"
	"  byte; retransmits nothing; a payload not back within --loss-timeout (default\n"
	"  1000 ms) is lost. With --reconnect-after MS (below --loss-timeout), payloads that\n"
	"  waited MS while nothing at all came from their relay make the agent handshake with\n"
	"  that relay again (once per silence). Uses the first relay; on its GOAWAY moves to\n"
	"  the next one (payloads in flight still come back through the old one). Ends when\n"
	"  every payload is back or lost, or at --timeout S (default 30). Exit 0 only if every\n"
	"  channel opened and every payload came back intact, once; with --expect-close REASON (a\n"
	"  CHANNEL_CLOSE reason name such as NOT_PERMITTED, or its number) only if every open\n"
	"  was refused with exactly that reason. Else 1, with the reason on stderr.\n"
	"\n"
	"Both print one JSON summary on stdout, with a \"relays\" list (one object per relay).\n"
	"Command-line errors exit 2.\n";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hop_peer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'hop_peer --help' for usage.\n");
	exit(EXIT_USAGE);
}

static uint64_t parse_u64(const char *opt, const char *text, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
		fprintf(stderr, "hop_peer: %s: '%s' is not a number in %" PRIu64 "..%" PRIu64 "\n",
			opt, text, min, max);
		exit(EXIT_USAGE);
	}
	return v;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* --- common state -------------------------------------------------------- */

enum mode { MODE_GATEWAY, MODE_AGENT };

struct opts {
	enum mode mode;
	const char *relay[RELAYS_MAX], *relay_key[RELAYS_MAX];
	unsigned n_relays, n_keys;
	const char *key_file, *token_file, *dump_file;
	enum suite_id suite;
	bool verbose;
	uint64_t duration_s, echo_delay_ms;
	const char *tunnel, *route;
	uint64_t channels, count, size, window, rate, timeout_s, loss_timeout_ms;
	uint64_t reconnect_after_ms;	/* 0: never */
	int expect_close;		/* -1: none */
};

/* Gateway: the channels open through one relay (ids chosen by that relay, §7). */
struct gw_table {
	uint32_t *ids;			/* open addressing; 0 empty, UINT32_MAX deleted */
	uint64_t deleted;		/* UINT32_MAX slots */
	uint64_t open_now;
};

/* Gateway counters, per relay; the summary adds them up. */
struct gw_counts {
	uint64_t opened, resumed, closed_by_relay, refused_full;
	uint64_t echoed, echo_bytes, echo_errors, unknown_channel;
	uint64_t echo_dropped;		/* held back, and its channel closed meanwhile */
};

/* Gateway: one echo held back by --echo-delay. */
struct echo {
	uint64_t due_ns;
	uint32_t channel_id;
	uint16_t len;
	uint8_t relay;
	uint8_t e2e[HOP_MTU];
};

/* A FIFO: the delay is constant, so echoes fall due in the order they arrived. */
struct echo_queue {
	struct echo *q;			/* ECHO_QUEUE entries */
	size_t head, n;
	uint64_t overflow;		/* echoed at once because the queue was full */
};

/* Agent counters, per relay; the summary adds them up. */
struct ag_counts {
	uint64_t opens, resumes, accepted, refused, closed_by_peer;
	uint64_t sent, received, lost, late, duplicate, corrupt, send_errors, rehandshakes;
	uint64_t inflight_at_move;	/* in flight here when the agent moved away */
};

struct peer;

/* One relay: its socket, its hop client, what happened on it. */
struct link {
	struct peer *p;
	unsigned idx;
	const char *addr;
	int fd;
	struct hop_client *hc;
	bool connected_ever;
	bool left;			/* agent: moved away on its GOAWAY */
	bool retired;			/* agent: left, and no channel there any more */
	bool rehandshaking;		/* agent: --reconnect-after fired, no handshake since */
	uint64_t connected_ns, goaway_ns, left_ns;	/* NEVER until it happens */
	uint64_t last_rx_ns, rx_data_seen;
	uint64_t live_chans;		/* agent: channels OPENING or OPEN here */
	struct gw_table gw;
	struct gw_counts gc;
	struct ag_counts ac;
};

struct slot {
	uint64_t seq;
	uint64_t sent_ns;
	uint8_t relay;			/* the link it went out on */
	bool used;
};

/* A channel's state on one relay. */
enum link_state { LS_IDLE, LS_OPENING, LS_OPEN, LS_CLOSED };

struct chan {
	uint32_t id;
	bool closed;			/* ended on the current relay: nothing more to send */
	bool ever_open;			/* accepted somewhere: later opens RESUME it */
	bool refused;			/* an open of it was refused */
	uint16_t close_reason;
	uint64_t next_seq, inflight, next_send_ns;
	uint8_t ls[RELAYS_MAX];		/* enum link_state */
	uint64_t link_inflight[RELAYS_MAX];
	struct slot *slots;		/* window */
	uint8_t *got, *lost_map;	/* bitmaps over count */
};

struct ag_state {
	struct chan *ch;
	unsigned cur;			/* the link new payloads go to */
	uint64_t opened, refused, closed_by_peer, moves;
	uint64_t close_reasons[FRAME_CLOSE_TIMEOUT + 2];	/* last slot: other codes */
	uint64_t *rtt;
	size_t nrtt;
	uint64_t rtt_min, rtt_max;
	uint64_t next_loss_scan, next_pace_ns;
};

struct peer {
	struct opts o;
	struct link link[RELAYS_MAX];
	unsigned n;
	FILE *dump;
	uint64_t start_ns;
	char last_principal[FRAME_PRINCIPAL_MAX + 1];
	struct echo_queue eq;
	struct ag_state ag;
};

static bool all_connected_ever(const struct peer *p)
{
	for (unsigned i = 0; i < p->n; i++)
		if (!p->link[i].connected_ever)
			return false;
	return true;
}

static int link_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct link *l = ctx;
	uint8_t lenb[4];

	if (l->p->dump) {
		bytes_put_le32(lenb, (uint32_t)len);
		fwrite(lenb, 1, sizeof(lenb), l->p->dump);
		fwrite(pkt, 1, len, l->p->dump);
	}
	return udp_send(l->fd, pkt, len);
}

static void agent_connected(struct link *l, uint64_t now);
static void agent_goaway(struct link *l, uint64_t now);

static void log_event(const struct link *l, const struct hop_client_event *ev, uint64_t t)
{
	const struct peer *p = l->p;

	fprintf(stderr, "hop_peer: %.3f s: ", (double)(t - p->start_ns) / 1e9);
	if (p->n > 1)
		fprintf(stderr, "relay %s: ", l->addr);
	fputs(hop_client_event_name(ev->type), stderr);
	if (ev->type == HOP_CLIENT_DISCONNECTED)
		fprintf(stderr, " (%s)", hop_client_down_name(ev->down));
	if (ev->type == HOP_CLIENT_GOAWAY)
		fprintf(stderr, " (%s, drain %" PRIu32 " ms)",
			frame_goaway_reason_name(ev->goaway_reason), ev->drain_ms);
	fputc('\n', stderr);
}

static void on_event(void *ctx, const struct hop_client_event *ev)
{
	struct link *l = ctx;
	struct peer *p = l->p;
	uint64_t t = mono_ns();

	if (p->o.verbose)
		log_event(l, ev, t);
	switch (ev->type) {
	case HOP_CLIENT_CONNECTED:
		if (!l->connected_ever)
			l->connected_ns = t;
		l->connected_ever = true;
		l->rehandshaking = false;
		l->last_rx_ns = t;
		if (p->o.mode == MODE_AGENT && l->idx == p->ag.cur)
			agent_connected(l, t);
		break;
	case HOP_CLIENT_GOAWAY:
		if (l->goaway_ns == NEVER)
			l->goaway_ns = t;
		if (p->o.mode == MODE_AGENT)
			agent_goaway(l, t);
		break;
	default:
		break;
	}
}

/* --- gateway ------------------------------------------------------------- */

static size_t gw_slot(const struct gw_table *g, uint32_t id, bool for_insert)
{
	size_t mask = GW_TABLE_SIZE - 1, i = (id * UINT32_C(2654435761)) & mask;
	size_t tomb = SIZE_MAX;

	for (size_t n = 0; n < GW_TABLE_SIZE; n++, i = (i + 1) & mask) {
		if (g->ids[i] == id)
			return i;
		if (g->ids[i] == UINT32_MAX && tomb == SIZE_MAX)
			tomb = i;
		if (g->ids[i] == 0)
			return for_insert && tomb != SIZE_MAX ? tomb : i;
	}
	return tomb;
}

/* Rebuild the set without its deleted slots, so lookups stay short. */
static int gw_compact(struct gw_table *g)
{
	uint32_t *old = g->ids;

	g->ids = calloc(GW_TABLE_SIZE, sizeof(*g->ids));
	if (!g->ids) {
		g->ids = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < GW_TABLE_SIZE; i++)
		if (old[i] && old[i] != UINT32_MAX)
			g->ids[gw_slot(g, old[i], true)] = old[i];
	g->deleted = 0;
	free(old);
	return 0;
}

static bool gw_is_open(const struct gw_table *g, uint32_t id)
{
	size_t i = gw_slot(g, id, false);

	return i != SIZE_MAX && g->ids[i] == id;
}

static void gw_echo(struct link *l, uint32_t id, const uint8_t *e2e, size_t len, uint64_t now)
{
	if (hop_client_send_data(l->hc, id, e2e, len, now)) {
		l->gc.echo_errors++;
		return;
	}
	l->gc.echoed++;
	l->gc.echo_bytes += len;
}

/* Queue @d's echo for --echo-delay. @return false if the queue is full. */
static bool gw_hold(struct link *l, const struct frame_data *d, uint64_t now)
{
	struct echo_queue *eq = &l->p->eq;
	struct echo *e;

	if (eq->n == ECHO_QUEUE) {
		eq->overflow++;
		return false;
	}
	e = &eq->q[(eq->head + eq->n++) % ECHO_QUEUE];
	e->due_ns = now + l->p->o.echo_delay_ms * NS_PER_MS;
	e->channel_id = d->channel_id;
	e->len = (uint16_t)d->e2e_len;
	e->relay = (uint8_t)l->idx;
	memcpy(e->e2e, d->e2e, d->e2e_len);
	return true;
}

/* Send the held echoes that are due, on the channels still open. */
static void gw_tick(struct peer *p, uint64_t now)
{
	struct echo_queue *eq = &p->eq;

	while (eq->n && eq->q[eq->head].due_ns <= now) {
		struct echo *e = &eq->q[eq->head];
		struct link *l = &p->link[e->relay];

		if (gw_is_open(&l->gw, e->channel_id))
			gw_echo(l, e->channel_id, e->e2e, e->len, now);
		else
			l->gc.echo_dropped++;
		eq->head = (eq->head + 1) % ECHO_QUEUE;
		eq->n--;
	}
}

static uint64_t gw_deadline(const struct peer *p)
{
	return p->eq.n ? p->eq.q[p->eq.head].due_ns : NEVER;
}

static void gw_frame(struct link *l, const struct frame *f, uint64_t now)
{
	struct gw_table *g = &l->gw;
	struct gw_counts *gc = &l->gc;
	struct frame_open o;
	struct frame_data d;
	struct frame_close c;
	size_t i;

	switch (f->type) {
	case FRAME_CHANNEL_OPEN:
		frame_open_decode(f->body, f->len, &o);
		if (gw_is_open(g, o.channel_id)) {
			hop_client_accept_channel(l->hc, o.channel_id, now);
			break;
		}
		if (g->open_now >= GW_TABLE_SIZE / 4 * 3) {
			gc->refused_full++;
			hop_client_close_channel(l->hc, o.channel_id, FRAME_CLOSE_LIMIT, now);
			break;
		}
		i = gw_slot(g, o.channel_id, true);
		if (g->ids[i] == UINT32_MAX)
			g->deleted--;
		g->ids[i] = o.channel_id;
		g->open_now++;
		gc->opened++;
		/* No E2E state lives here to re-attach: a RESUME is accepted like any open. */
		if (o.flags & FRAME_OPEN_RESUME)
			gc->resumed++;
		memcpy(l->p->last_principal, o.principal, o.principal_len);
		l->p->last_principal[o.principal_len] = '\0';
		hop_client_accept_channel(l->hc, o.channel_id, now);
		break;
	case FRAME_CHANNEL_DATA:
		frame_data_decode(f->body, f->len, &d);
		if (!gw_is_open(g, d.channel_id)) {
			gc->unknown_channel++;
			break;
		}
		if (l->p->o.echo_delay_ms && gw_hold(l, &d, now))
			break;
		gw_echo(l, d.channel_id, d.e2e, d.e2e_len, now);
		break;
	case FRAME_CHANNEL_CLOSE:
		frame_close_decode(f->body, f->len, &c);
		i = gw_slot(g, c.channel_id, false);
		/* Only an open channel is answered: two peers answering closes would loop. */
		if (i == SIZE_MAX || g->ids[i] != c.channel_id)
			break;
		g->ids[i] = UINT32_MAX;
		g->open_now--;
		gc->closed_by_relay++;
		if (++g->deleted > GW_TABLE_SIZE / 8)
			gw_compact(g);
		hop_client_close_channel(l->hc, c.channel_id, FRAME_CLOSE_NORMAL, now);
		break;
	default:
		break;		/* an ACCEPT is not for a gateway: ignore it */
	}
}

/* --- agent --------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Payload bytes after the header: a function of (channel, sequence) only. */
static void pattern(uint8_t *out, size_t len, uint32_t channel, uint64_t seq)
{
	uint64_t state = ((uint64_t)channel << 40) ^ seq ^ UINT64_C(0x706f737465726e21);
	uint8_t w[8];

	for (size_t i = 0; i < len; i += 8) {
		bytes_put_le64(w, splitmix64(&state));
		memcpy(out + i, w, len - i < 8 ? len - i : 8);
	}
}

static bool pattern_ok(const uint8_t *in, size_t len, uint32_t channel, uint64_t seq)
{
	uint8_t expect[UDP_DATAGRAM_MAX];

	pattern(expect, len, channel, seq);
	return memcmp(in, expect, len) == 0;
}

static bool bit_get(const uint8_t *map, uint64_t i)
{
	return map[i / 8] & (1u << (i % 8));
}

static void bit_set(uint8_t *map, uint64_t i)
{
	map[i / 8] |= (uint8_t)(1u << (i % 8));
}

static bool ls_live(uint8_t s)
{
	return s == LS_OPENING || s == LS_OPEN;
}

/* Move @ch's state on @l, keeping l->live_chans and retirement in step. */
static void set_ls(struct link *l, struct chan *ch, enum link_state s)
{
	bool was = ls_live(ch->ls[l->idx]), is = ls_live((uint8_t)s);

	ch->ls[l->idx] = (uint8_t)s;
	if (was && !is)
		l->live_chans--;
	else if (!was && is)
		l->live_chans++;
	/* Nothing left on a relay we moved away from: stop its timers (no reconnect). */
	if (l->left && !l->live_chans)
		l->retired = true;
}

/* We are done with @ch on @l, which we left: say goodbye there. */
static void leave_chan(struct link *l, struct chan *ch, uint64_t now)
{
	hop_client_close_channel(l->hc, ch->id, FRAME_CLOSE_NORMAL, now);
	set_ls(l, ch, LS_CLOSED);
}

static void agent_fill(struct peer *p, struct chan *ch, uint64_t now);

/* Open every channel that is not closed and not yet tried on @l (the current link). */
static void agent_open_all(struct link *l, uint64_t now)
{
	struct peer *p = l->p;
	uint8_t tag[FRAME_CONN_TAG_LEN];
	struct frame_open o = {
		.conn_tag = tag,
		.tunnel = (const uint8_t *)p->o.tunnel,
		.tunnel_len = (uint8_t)strlen(p->o.tunnel),
		.route = (const uint8_t *)p->o.route,
		.route_len = (uint8_t)strlen(p->o.route),
	};

	for (uint64_t i = 0; i < p->o.channels; i++) {
		struct chan *ch = &p->ag.ch[i];

		if (ch->closed || ch->ls[l->idx] != LS_IDLE)
			continue;
		o.channel_id = ch->id;
		/* §7, §10: the same connection tag, RESUME once it has been open somewhere. */
		o.flags = ch->ever_open ? FRAME_OPEN_RESUME : 0;
		memset(tag, 0, sizeof(tag));
		bytes_put_le32(tag, ch->id);
		bytes_put_le32(tag + 4, (uint32_t)getpid());
		/* An OPEN lost on the way is not repeated: the channel then times out. */
		hop_client_open_channel(l->hc, &o, now);
		l->ac.opens++;
		if (ch->ever_open)
			l->ac.resumes++;
		set_ls(l, ch, LS_OPENING);
	}
}

/* The current relay's handshake completed: open what is not open there, send. */
static void agent_connected(struct link *l, uint64_t now)
{
	agent_open_all(l, now);
	for (uint64_t i = 0; i < l->p->o.channels; i++)
		agent_fill(l->p, &l->p->ag.ch[i], now);
}

/*
 * GOAWAY on @l. If it is the current relay and another follows it: leave it
 * (nothing new goes there), make the next one current and handshake with it;
 * its CONNECTED event re-opens the channels. Channels with nothing in flight
 * on @l are closed there now; the others when their last echo is back.
 */
static void agent_goaway(struct link *l, uint64_t now)
{
	struct peer *p = l->p;
	struct ag_state *a = &p->ag;
	struct link *next;

	if (l->idx != a->cur || a->cur + 1 >= p->n)
		return;
	l->left = true;
	l->left_ns = now;
	a->cur++;
	a->moves++;
	next = &p->link[a->cur];
	for (uint64_t i = 0; i < p->o.channels; i++) {
		struct chan *ch = &a->ch[i];

		l->ac.inflight_at_move += ch->link_inflight[l->idx];
		if (ch->ls[l->idx] == LS_OPEN && !ch->link_inflight[l->idx])
			leave_chan(l, ch, now);
	}
	if (!l->live_chans)
		l->retired = true;
	if (hop_client_connect(next->hc, now) == -EALREADY && hop_client_is_connected(next->hc))
		agent_connected(next, now);
}

/*
 * Free @sl of @ch. A channel on a relay we left, with nothing in flight there
 * any more, is closed there.
 */
static void slot_free(struct peer *p, struct chan *ch, struct slot *sl, uint64_t now)
{
	struct link *l = &p->link[sl->relay];

	sl->used = false;
	ch->inflight--;
	ch->link_inflight[l->idx]--;
	if (l->left && ch->ls[l->idx] == LS_OPEN && !ch->link_inflight[l->idx])
		leave_chan(l, ch, now);
}

static void slot_lost(struct peer *p, struct chan *ch, struct slot *sl, uint64_t now)
{
	bit_set(ch->lost_map, sl->seq);
	p->link[sl->relay].ac.lost++;
	slot_free(p, ch, sl, now);
}

/* Send payloads on @ch, through the current relay, while window and pacing allow. */
static void agent_fill(struct peer *p, struct chan *ch, uint64_t now)
{
	struct ag_state *a = &p->ag;
	struct link *l = &p->link[a->cur];
	uint64_t iv = p->o.rate ? NS_PER_S / p->o.rate : 0;

	while (!ch->closed && ch->ls[l->idx] == LS_OPEN && ch->inflight < p->o.window &&
	       ch->next_seq < p->o.count) {
		size_t room, s;
		uint8_t *buf;
		int ret;

		if (iv && now < ch->next_send_ns) {
			a->next_pace_ns = min_u64(a->next_pace_ns, ch->next_send_ns);
			return;
		}
		buf = hop_client_data_begin(l->hc, ch->id, &room);
		for (s = 0; s < p->o.window && ch->slots[s].used; s++)
			;
		bytes_put_le64(buf, ch->next_seq);
		bytes_put_le64(buf + 8, now);
		pattern(buf + PAYLOAD_HEADER, p->o.size - PAYLOAD_HEADER, ch->id, ch->next_seq);
		ret = hop_client_data_commit(l->hc, p->o.size, now);
		if (ret == -ENOTCONN || ret == -EMSGSIZE || ret == -EINVAL)
			return;		/* not sealed: try again when connected */
		if (ret)
			l->ac.send_errors++;	/* sealed, then lost at the socket: loss timer */
		ch->slots[s] = (struct slot){
			.seq = ch->next_seq, .sent_ns = now, .relay = (uint8_t)l->idx, .used = true,
		};
		ch->next_seq++;
		ch->inflight++;
		ch->link_inflight[l->idx]++;
		l->ac.sent++;
		/* Keep the schedule when on time; after a stall, start it again from now. */
		if (iv)
			ch->next_send_ns = (now - ch->next_send_ns < iv ? ch->next_send_ns : now);
		ch->next_send_ns += iv;
	}
}

static struct chan *agent_chan(struct peer *p, uint32_t id)
{
	if (id == 0 || id > p->o.channels)
		return NULL;
	return &p->ag.ch[id - 1];
}

static void agent_echo(struct link *l, struct chan *ch, const struct frame_data *d, uint64_t now)
{
	struct peer *p = l->p;
	struct ag_state *a = &p->ag;
	struct ag_counts *ac = &l->ac;
	uint64_t seq, ts, rtt;
	struct slot *sl = NULL;

	if (d->e2e_len < PAYLOAD_HEADER) {
		ac->corrupt++;
		return;
	}
	seq = bytes_get_le64(d->e2e);
	ts = bytes_get_le64(d->e2e + 8);
	for (uint64_t s = 0; s < p->o.window; s++)
		if (ch->slots[s].used && ch->slots[s].seq == seq)
			sl = &ch->slots[s];
	if (!sl) {
		if (seq < p->o.count && bit_get(ch->got, seq))
			ac->duplicate++;
		else if (seq < p->o.count && bit_get(ch->lost_map, seq))
			ac->late++;
		else
			ac->corrupt++;
		return;
	}
	if (sl->relay != l->idx) {
		ac->corrupt++;		/* back through another relay than it went out on */
		return;
	}
	if (d->e2e_len != p->o.size || ts != sl->sent_ns ||
	    !pattern_ok(d->e2e + PAYLOAD_HEADER, d->e2e_len - PAYLOAD_HEADER, ch->id, seq)) {
		ac->corrupt++;
		bit_set(ch->lost_map, seq);
		slot_free(p, ch, sl, now);
		return;
	}
	bit_set(ch->got, seq);
	ac->received++;
	rtt = now - sl->sent_ns;
	if (a->nrtt < RTT_SAMPLES_MAX)
		a->rtt[a->nrtt++] = rtt;
	if (a->nrtt == 1 || rtt < a->rtt_min)
		a->rtt_min = rtt;
	if (rtt > a->rtt_max)
		a->rtt_max = rtt;
	slot_free(p, ch, sl, now);
	agent_fill(p, ch, now);
}

/*
 * CHANNEL_CLOSE for @ch from @l. On a relay we left, only that relay's part
 * ends (what was in flight there is lost); on the current relay the channel
 * ends, as with a single relay.
 */
static void agent_closed(struct link *l, struct chan *ch, uint16_t reason, uint64_t now)
{
	struct peer *p = l->p;
	struct ag_state *a = &p->ag;
	enum link_state was = ch->ls[l->idx];
	bool current = l->idx == a->cur && !ch->closed;

	if (!ls_live(was))
		return;
	set_ls(l, ch, LS_CLOSED);
	if (was == LS_OPENING)
		l->ac.refused++;
	else
		l->ac.closed_by_peer++;
	/* What was in flight will not come back. */
	for (uint64_t s = 0; s < p->o.window; s++) {
		struct slot *sl = &ch->slots[s];

		if (sl->used && (current || sl->relay == l->idx))
			slot_lost(p, ch, sl, now);
	}
	if (!current)
		return;
	a->close_reasons[reason <= FRAME_CLOSE_TIMEOUT ? reason : FRAME_CLOSE_TIMEOUT + 1]++;
	if (was == LS_OPENING) {
		ch->refused = true;
		a->refused++;
	} else {
		a->closed_by_peer++;
	}
	ch->close_reason = reason;
	ch->closed = true;
}

static void ag_frame(struct link *l, const struct frame *f, uint64_t now)
{
	struct peer *p = l->p;
	struct frame_data d;
	struct frame_close c;
	struct chan *ch;
	uint32_t id;

	switch (f->type) {
	case FRAME_CHANNEL_ACCEPT:
		frame_accept_decode(f->body, f->len, &id);
		ch = agent_chan(p, id);
		if (!ch || ch->ls[l->idx] != LS_OPENING)
			break;
		set_ls(l, ch, LS_OPEN);
		l->ac.accepted++;
		if (!ch->ever_open)
			p->ag.opened++;
		ch->ever_open = true;
		if (l->left)
			leave_chan(l, ch, now);	/* accepted after we moved: nothing to do here */
		else
			agent_fill(p, ch, now);
		break;
	case FRAME_CHANNEL_DATA:
		frame_data_decode(f->body, f->len, &d);
		ch = agent_chan(p, d.channel_id);
		if (!ch || ch->ls[l->idx] != LS_OPEN) {
			l->ac.corrupt++;
			break;
		}
		agent_echo(l, ch, &d, now);
		break;
	case FRAME_CHANNEL_CLOSE:
		frame_close_decode(f->body, f->len, &c);
		ch = agent_chan(p, c.channel_id);
		if (ch)
			agent_closed(l, ch, c.reason, now);
		break;
	default:
		break;		/* an OPEN is not for a connector: ignore it */
	}
}

/*
 * Every LOSS_SCAN_MS: declare lost what has been in flight for --loss-timeout,
 * handshake again with relays that went silent (--reconnect-after), refill
 * windows. In between, only channels whose pacing allows a send are refilled.
 */
static void agent_tick(struct peer *p, uint64_t now)
{
	struct ag_state *a = &p->ag;
	uint64_t limit = p->o.loss_timeout_ms * NS_PER_MS;
	uint64_t silence = p->o.reconnect_after_ms * NS_PER_MS;
	bool stalled[RELAYS_MAX] = { false };

	if (now < a->next_loss_scan) {
		if (now >= a->next_pace_ns) {
			a->next_pace_ns = NEVER;
			for (uint64_t i = 0; i < p->o.channels; i++)
				agent_fill(p, &a->ch[i], now);
		}
		return;
	}
	a->next_loss_scan = now + LOSS_SCAN_MS * NS_PER_MS;
	a->next_pace_ns = NEVER;
	for (uint64_t i = 0; i < p->o.channels; i++) {
		struct chan *ch = &a->ch[i];

		for (uint64_t s = 0; s < p->o.window; s++) {
			struct slot *sl = &ch->slots[s];

			if (!sl->used)
				continue;
			if (silence && now - sl->sent_ns >= silence)
				stalled[sl->relay] = true;
			if (now - sl->sent_ns >= limit)
				slot_lost(p, ch, sl, now);
		}
		agent_fill(p, ch, now);
	}
	for (unsigned i = 0; i < p->n; i++) {
		struct link *l = &p->link[i];

		/* A relay that forgot us (kicked, revoked, restarted) never says so (§3.4). */
		if (!stalled[i] || l->rehandshaking || now - l->last_rx_ns < silence)
			continue;
		if (p->o.verbose)
			fprintf(stderr, "hop_peer: %.3f s: relay %s silent for %" PRIu64
				" ms: handshake again\n", (double)(now - p->start_ns) / 1e9,
				l->addr, (now - l->last_rx_ns) / NS_PER_MS);
		l->rehandshaking = true;
		l->ac.rehandshakes++;
		hop_client_reconnect(l->hc, NULL, now);
	}
}

static bool agent_done(const struct peer *p)
{
	unsigned cur = p->ag.cur;

	for (uint64_t i = 0; i < p->o.channels; i++) {
		const struct chan *ch = &p->ag.ch[i];

		if (ch->closed)
			continue;
		if (ch->ls[cur] != LS_OPEN || ch->next_seq < p->o.count || ch->inflight)
			return false;
	}
	return true;
}

static uint64_t agent_deadline(const struct peer *p)
{
	uint64_t d = p->o.rate ? p->ag.next_pace_ns : NEVER;

	for (uint64_t i = 0; i < p->o.channels; i++)
		if (p->ag.ch[i].inflight)
			return min_u64(d, p->ag.next_loss_scan);
	return d;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void on_frame(void *ctx, const struct frame *f, uint64_t now)
{
	struct link *l = ctx;

	if (l->p->o.mode == MODE_GATEWAY)
		gw_frame(l, f, now);
	else
		ag_frame(l, f, now);
}

/* --- the loop ------------------------------------------------------------ */

static void drain_socket(struct link *l, struct udp_batch *b)
{
	for (;;) {
		int n = udp_recv_batch(l->fd, b);
		uint64_t now = mono_ns(), rx_data;

		if (n == -ECONNREFUSED)
			continue;	/* ICMP: nobody listens (yet); the client retries (§8) */
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			if (b->len[i])
				hop_client_input(l->hc, b->buf[i], b->len[i], now);
		rx_data = hop_client_stats(l->hc)->rx_data;
		if (rx_data != l->rx_data_seen) {
			l->rx_data_seen = rx_data;
			l->last_rx_ns = now;
		}
		if (n < UDP_BATCH_MAX)
			return;
	}
}

/* @return 0 when the run ended by itself or its time limit, or the signal number. */
static int run(struct peer *p, uint64_t end_ns)
{
	struct udp_batch *b = malloc(sizeof(*b));
	sigset_t block, unblocked;
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd[RELAYS_MAX];
	uint64_t now;

	if (!b) {
		fprintf(stderr, "hop_peer: out of memory\n");
		exit(1);
	}
	/* Signals arrive only inside ppoll(): no race between the check and the sleep. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGTERM);
	sigdelset(&unblocked, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	now = mono_ns();
	for (unsigned i = 0; i < p->n; i++)
		p->link[i].last_rx_ns = now;
	/* A gateway serves through every relay at once; an agent starts with the first. */
	for (unsigned i = 0; i < (p->o.mode == MODE_GATEWAY ? p->n : 1); i++)
		hop_client_connect(p->link[i].hc, now);
	while (!stop_signal) {
		uint64_t deadline = end_ns, wait;
		struct timespec ts;

		now = mono_ns();
		for (unsigned i = 0; i < p->n; i++)
			if (!p->link[i].retired)
				hop_client_tick(p->link[i].hc, now);
		if (p->o.mode == MODE_AGENT) {
			agent_tick(p, now);
			if (agent_done(p))
				break;
			deadline = min_u64(deadline, agent_deadline(p));
		} else {
			gw_tick(p, now);
			deadline = min_u64(deadline, gw_deadline(p));
		}
		if (now >= end_ns)
			break;
		for (unsigned i = 0; i < p->n; i++) {
			pfd[i] = (struct pollfd){ .fd = p->link[i].fd, .events = POLLIN };
			if (!p->link[i].retired)
				deadline = min_u64(deadline,
						   hop_client_next_deadline(p->link[i].hc));
		}
		wait = deadline > now ? deadline - now : 0;
		ts.tv_sec = (time_t)(wait / NS_PER_S);
		ts.tv_nsec = (long)(wait % NS_PER_S);
		if (ppoll(pfd, p->n, &ts, &unblocked) <= 0)
			continue;
		for (unsigned i = 0; i < p->n; i++)
			if (pfd[i].revents)
				drain_socket(&p->link[i], b);
	}
	free(b);
	return stop_signal;
}

/* --- summaries ----------------------------------------------------------- */

static void set_u64(json_t *j, const char *key, uint64_t v)
{
	json_object_set_new(j, key, json_integer((json_int_t)v));
}

static void set_us(json_t *j, const char *key, uint64_t ns)
{
	json_object_set_new(j, key, json_real((double)ns / 1e3));
}

/* Seconds since the start, or null for NEVER. */
static void set_at(const struct peer *p, json_t *j, const char *key, uint64_t ns)
{
	json_object_set_new(j, key, ns == NEVER ? json_null() :
				    json_real((double)(ns - p->start_ns) / 1e9));
}

/* Add @s into @sum: counters only (the round-trip fields are not reported). */
static void hop_stats_add(struct hop_client_stats *sum, const struct hop_client_stats *s)
{
	sum->tx_packets += s->tx_packets;
	sum->tx_bytes += s->tx_bytes;
	sum->rx_packets += s->rx_packets;
	sum->rx_bytes += s->rx_bytes;
	sum->tx_data += s->tx_data;
	sum->rx_data += s->rx_data;
	sum->send_errors += s->send_errors;
	sum->inits += s->inits;
	sum->retransmits += s->retransmits;
	sum->handshakes += s->handshakes;
	sum->give_ups += s->give_ups;
	sum->cookies += s->cookies;
	sum->keepalives += s->keepalives;
	sum->goaways += s->goaways;
	for (unsigned r = 0; r < HOP_CLIENT_DROP_MAX; r++)
		sum->drops[r] += s->drops[r];
}

static json_t *hop_stats_json(const struct hop_client_stats *s)
{
	json_t *j = json_object(), *drops = json_object();

	set_u64(j, "tx_packets", s->tx_packets);
	set_u64(j, "tx_bytes", s->tx_bytes);
	set_u64(j, "rx_packets", s->rx_packets);
	set_u64(j, "rx_bytes", s->rx_bytes);
	set_u64(j, "tx_data", s->tx_data);
	set_u64(j, "rx_data", s->rx_data);
	set_u64(j, "send_errors", s->send_errors);
	set_u64(j, "inits", s->inits);
	set_u64(j, "retransmits", s->retransmits);
	set_u64(j, "handshakes", s->handshakes);
	set_u64(j, "give_ups", s->give_ups);
	set_u64(j, "cookies", s->cookies);
	set_u64(j, "keepalives", s->keepalives);
	set_u64(j, "goaways", s->goaways);
	for (unsigned r = 0; r < HOP_CLIENT_DROP_MAX; r++)
		set_u64(drops, hop_client_drop_name(r), s->drops[r]);
	json_object_set_new(j, "drops", drops);
	return j;
}

/* Every link's hop counters added up. */
static json_t *hop_total_json(const struct peer *p)
{
	struct hop_client_stats sum = { 0 };

	for (unsigned i = 0; i < p->n; i++)
		hop_stats_add(&sum, hop_client_stats(p->link[i].hc));
	return hop_stats_json(&sum);
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(j);
}

static int gateway_summary(struct peer *p, int sig)
{
	struct gw_counts t = { 0 };
	uint64_t open_now = 0;
	json_t *j = json_object(), *relays = json_array();

	for (unsigned i = 0; i < p->n; i++) {
		const struct link *l = &p->link[i];
		const struct gw_counts *c = &l->gc;
		json_t *r = json_object();

		json_object_set_new(r, "relay", json_string(l->addr));
		json_object_set_new(r, "connected", json_boolean(l->connected_ever));
		set_at(p, r, "connected_at", l->connected_ns);
		set_at(p, r, "goaway_at", l->goaway_ns);
		set_u64(r, "channels_opened", c->opened);
		set_u64(r, "resumed", c->resumed);
		set_u64(r, "channels_open", l->gw.open_now);
		set_u64(r, "channels_closed", c->closed_by_relay);
		set_u64(r, "echoed", c->echoed);
		set_u64(r, "echo_errors", c->echo_errors);
		set_u64(r, "echo_dropped", c->echo_dropped);
		set_u64(r, "unknown_channel", c->unknown_channel);
		json_object_set_new(r, "hop", hop_stats_json(hop_client_stats(l->hc)));
		json_array_append_new(relays, r);
		t.opened += c->opened;
		t.resumed += c->resumed;
		t.closed_by_relay += c->closed_by_relay;
		t.refused_full += c->refused_full;
		t.echoed += c->echoed;
		t.echo_bytes += c->echo_bytes;
		t.echo_errors += c->echo_errors;
		t.echo_dropped += c->echo_dropped;
		t.unknown_channel += c->unknown_channel;
		open_now += l->gw.open_now;
	}
	json_object_set_new(j, "mode", json_string("gateway"));
	json_object_set_new(j, "relay", json_string(p->link[0].addr));
	json_object_set_new(j, "connected", json_boolean(all_connected_ever(p)));
	json_object_set_new(j, "elapsed_s", json_real((double)(mono_ns() - p->start_ns) / 1e9));
	set_u64(j, "channels_opened", t.opened);
	set_u64(j, "channels_resumed", t.resumed);
	set_u64(j, "channels_open", open_now);
	set_u64(j, "channels_closed", t.closed_by_relay);
	set_u64(j, "refused_full", t.refused_full);
	set_u64(j, "echoed", t.echoed);
	set_u64(j, "echo_bytes", t.echo_bytes);
	set_u64(j, "echo_errors", t.echo_errors);
	set_u64(j, "echo_dropped", t.echo_dropped);
	set_u64(j, "echo_delay_overflow", p->eq.overflow);
	set_u64(j, "unknown_channel", t.unknown_channel);
	json_object_set_new(j, "last_principal", json_string(p->last_principal));
	json_object_set_new(j, "signal", sig ? json_string(strsignal(sig)) : json_null());
	json_object_set_new(j, "hop", hop_total_json(p));
	json_object_set_new(j, "relays", relays);
	print_json(j);
	for (unsigned i = 0; i < p->n; i++) {
		const struct link *l = &p->link[i];

		if (l->connected_ever)
			continue;
		fprintf(stderr, "hop_peer: never connected to relay %s (%" PRIu64 " INITs sent, "
			"no answer)\n", l->addr, hop_client_stats(l->hc)->inits);
		return 1;
	}
	return 0;
}

static uint64_t percentile(const uint64_t *v, size_t n, unsigned pct)
{
	size_t i;

	if (!n)
		return 0;
	i = (n * pct + 99) / 100;	/* nearest rank */
	return v[i ? i - 1 : 0];
}

static const char *reason_name(unsigned r)
{
	return r <= FRAME_CLOSE_TIMEOUT ? frame_close_reason_name(r) : "other";
}

static void ag_counts_total(const struct peer *p, struct ag_counts *t)
{
	*t = (struct ag_counts){ 0 };
	for (unsigned i = 0; i < p->n; i++) {
		const struct ag_counts *c = &p->link[i].ac;

		t->opens += c->opens;
		t->resumes += c->resumes;
		t->accepted += c->accepted;
		t->refused += c->refused;
		t->closed_by_peer += c->closed_by_peer;
		t->sent += c->sent;
		t->received += c->received;
		t->lost += c->lost;
		t->late += c->late;
		t->duplicate += c->duplicate;
		t->corrupt += c->corrupt;
		t->send_errors += c->send_errors;
		t->rehandshakes += c->rehandshakes;
	}
}

/* The verdict: NULL when the run passed, else why it did not (one line). */
static const char *agent_verdict(const struct peer *p, const struct ag_counts *t, int sig,
				 char *why, size_t cap)
{
	const struct ag_state *a = &p->ag;
	const struct link *cur = &p->link[a->cur];
	uint64_t total = p->o.channels * p->o.count;
	double limit = (double)p->o.timeout_s;

	if (sig) {
		snprintf(why, cap, "interrupted by %s", strsignal(sig));
		return why;
	}
	if (!p->link[0].connected_ever) {
		snprintf(why, cap, "no answer from relay %s within %.0f s (%" PRIu64
			 " INITs sent): is it running, and is --relay-key its key?",
			 p->link[0].addr, limit, hop_client_stats(p->link[0].hc)->inits);
		return why;
	}
	if (!cur->connected_ever) {
		snprintf(why, cap, "moved to relay %s on GOAWAY, but it never answered (%" PRIu64
			 " INITs sent)", cur->addr, hop_client_stats(cur->hc)->inits);
		return why;
	}
	if (p->o.expect_close >= 0) {
		if (a->refused == p->o.channels &&
		    a->close_reasons[p->o.expect_close] == p->o.channels)
			return NULL;
		snprintf(why, cap, "expected every open refused with %s: %" PRIu64 " of %" PRIu64
			 " refused, %" PRIu64 " opened%s%s",
			 reason_name((unsigned)p->o.expect_close),
			 a->refused, p->o.channels, a->opened,
			 a->refused ? ", first reason " : "",
			 a->refused ? reason_name(a->ch[0].close_reason) : "");
		return why;
	}
	if (a->refused) {
		for (uint64_t i = 0; i < p->o.channels; i++)
			if (a->ch[i].refused) {
				snprintf(why, cap,
					 "%" PRIu64 " of %" PRIu64 " channels refused (%s)",
					 a->refused, p->o.channels,
					 reason_name(a->ch[i].close_reason));
				break;
			}
		return why;
	}
	if (a->opened < p->o.channels) {
		snprintf(why, cap, "timed out after %.0f s: %" PRIu64 " of %" PRIu64
			 " channels opened (no CHANNEL_ACCEPT)", limit, a->opened, p->o.channels);
		return why;
	}
	if (t->received == total && !t->corrupt && !t->lost && !t->duplicate)
		return NULL;
	if (t->corrupt || t->lost || t->duplicate || a->closed_by_peer) {
		snprintf(why, cap, "%" PRIu64 " of %" PRIu64 " payloads back intact: %" PRIu64
			 " lost, %" PRIu64 " corrupt, %" PRIu64 " duplicate, %" PRIu64
			 " channels closed by the peer", t->received, total, t->lost, t->corrupt,
			 t->duplicate, a->closed_by_peer);
		return why;
	}
	snprintf(why, cap, "timed out after %.0f s with %" PRIu64 " of %" PRIu64
		 " payloads back", limit, t->received, total);
	return why;
}

static json_t *agent_relay_json(const struct peer *p, const struct link *l)
{
	const struct ag_counts *c = &l->ac;
	json_t *r = json_object();

	json_object_set_new(r, "relay", json_string(l->addr));
	json_object_set_new(r, "connected", json_boolean(l->connected_ever));
	set_at(p, r, "connected_at", l->connected_ns);
	set_at(p, r, "goaway_at", l->goaway_ns);
	set_at(p, r, "moved_at", l->left_ns);
	set_u64(r, "opens", c->opens);
	set_u64(r, "resumes", c->resumes);
	set_u64(r, "opened", c->accepted);
	set_u64(r, "refused", c->refused);
	set_u64(r, "closed_by_peer", c->closed_by_peer);
	set_u64(r, "sent", c->sent);
	set_u64(r, "echoed", c->received);
	set_u64(r, "lost", c->lost);
	set_u64(r, "late", c->late);
	set_u64(r, "duplicates", c->duplicate);
	set_u64(r, "corrupt", c->corrupt);
	set_u64(r, "send_errors", c->send_errors);
	set_u64(r, "rehandshakes", c->rehandshakes);
	set_u64(r, "inflight_at_move", c->inflight_at_move);
	json_object_set_new(r, "hop", hop_stats_json(hop_client_stats(l->hc)));
	return r;
}

static int agent_summary(struct peer *p, int sig)
{
	struct ag_state *a = &p->ag;
	struct ag_counts t;
	const char *fail;
	json_t *j, *rtt, *relays, *reasons = json_object();
	char why[320];

	qsort(a->rtt, a->nrtt, sizeof(a->rtt[0]), cmp_u64);
	for (unsigned r = 0; r <= FRAME_CLOSE_TIMEOUT + 1; r++)
		if (a->close_reasons[r])
			json_object_set_new(reasons, reason_name(r),
					    json_integer((json_int_t)a->close_reasons[r]));
	ag_counts_total(p, &t);
	fail = agent_verdict(p, &t, sig, why, sizeof(why));
	j = json_object();
	json_object_set_new(j, "mode", json_string("agent"));
	json_object_set_new(j, "relay", json_string(p->link[0].addr));
	json_object_set_new(j, "tunnel", json_string(p->o.tunnel));
	json_object_set_new(j, "connected", json_boolean(p->link[0].connected_ever));
	json_object_set_new(j, "elapsed_s", json_real((double)(mono_ns() - p->start_ns) / 1e9));
	set_u64(j, "channels", p->o.channels);
	set_u64(j, "opened", a->opened);
	set_u64(j, "refused", a->refused);
	set_u64(j, "closed_by_peer", a->closed_by_peer);
	set_u64(j, "sent", t.sent);
	set_u64(j, "received", t.received);
	set_u64(j, "lost", t.lost);
	set_u64(j, "late", t.late);
	set_u64(j, "duplicate", t.duplicate);
	set_u64(j, "corrupt", t.corrupt);
	set_u64(j, "send_errors", t.send_errors);
	set_u64(j, "rehandshakes", t.rehandshakes);
	set_u64(j, "moves", a->moves);
	set_u64(j, "size", p->o.size);
	set_u64(j, "bytes", t.received * p->o.size);
	rtt = json_object();
	set_us(rtt, "min", a->rtt_min);
	set_us(rtt, "p50", percentile(a->rtt, a->nrtt, 50));
	set_us(rtt, "p99", percentile(a->rtt, a->nrtt, 99));
	set_us(rtt, "max", a->rtt_max);
	json_object_set_new(j, "rtt_us", rtt);
	json_object_set_new(j, "close_reasons", reasons);
	json_object_set_new(j, "ok", json_boolean(!fail));
	json_object_set_new(j, "hop", hop_total_json(p));
	relays = json_array();
	for (unsigned i = 0; i < p->n; i++)
		json_array_append_new(relays, agent_relay_json(p, &p->link[i]));
	json_object_set_new(j, "relays", relays);
	print_json(j);
	if (fail) {
		fprintf(stderr, "hop_peer: %s\n", fail);
		return 1;
	}
	return 0;
}

/* Say goodbye on every channel still open, on every relay, so relays and gateway clean up. */
static void agent_close_all(struct peer *p)
{
	uint64_t now = mono_ns();

	for (uint64_t i = 0; i < p->o.channels; i++)
		for (unsigned r = 0; r < p->n; r++)
			if (p->ag.ch[i].ls[r] == LS_OPEN)
				hop_client_close_channel(p->link[r].hc, p->ag.ch[i].id,
							 FRAME_CLOSE_NORMAL, now);
}

/* --- setup --------------------------------------------------------------- */

static int load_token(const char *path, uint8_t *tok, size_t *len)
{
	char text[TOKEN_FILE_MAX + 1];
	size_t n;
	FILE *f = fopen(path, "r");
	int ret;

	if (!f) {
		fprintf(stderr, "hop_peer: --token %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(text, 1, TOKEN_FILE_MAX, f);
	fclose(f);
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
		     text[n - 1] == '\t'))
		n--;
	text[n] = '\0';
	ret = token_from_text(text, n, tok, TOKEN_MAX_LEN, len);
	if (ret || *len < TOKEN_MIN_LEN) {
		fprintf(stderr, "hop_peer: --token %s: not a token (want one line 'pt1...' as "
			"'posternctl token issue' writes it)\n", path);
		return -1;
	}
	return 0;
}

static int parse_reason(const char *text)
{
	char names[256] = "";

	for (unsigned r = 0; r <= FRAME_CLOSE_TIMEOUT; r++) {
		if (strcasecmp(text, frame_close_reason_name(r)) == 0)
			return (int)r;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 r ? ", " : "", frame_close_reason_name(r));
	}
	if (text[0] >= '0' && text[0] <= '9')
		return (int)parse_u64("--expect-close", text, 0, FRAME_CLOSE_TIMEOUT);
	die_usage("--expect-close: '%s' is not a CHANNEL_CLOSE reason (%s, or 0..11)", text,
		  names);
}

static void check_args(const char *mode, struct opts *o, bool gw_opt, bool ag_opt)
{
	if (!o->n_relays || !o->n_keys || !o->key_file || !o->token_file)
		die_usage("%s needs --relay, --relay-key, --key and --token", mode);
	if (o->n_keys != 1 && o->n_keys != o->n_relays)
		die_usage("%u --relay-key for %u --relay: give one per relay, in the same order, "
			  "or one for relays that share a key", o->n_keys, o->n_relays);
	for (unsigned i = 1; i < o->n_relays; i++)
		for (unsigned k = 0; k < i; k++)
			if (!strcmp(o->relay[i], o->relay[k]))
				die_usage("--relay %s given twice", o->relay[i]);
	if (o->mode == MODE_GATEWAY && ag_opt)
		die_usage("gateway takes none of the agent options (--tunnel, --channels, ...)");
	if (o->mode == MODE_AGENT && gw_opt)
		die_usage("agent takes --timeout, not --duration or --echo-delay");
	if (o->mode != MODE_AGENT)
		return;
	if (!o->tunnel || !*o->tunnel || strlen(o->tunnel) > FRAME_NAME_MAX)
		die_usage("agent needs --tunnel NAME (1..63 characters)");
	if (strlen(o->route) > FRAME_NAME_MAX)
		die_usage("--route: at most 63 characters");
	if (o->channels * o->count > (UINT64_C(1) << 32))
		die_usage("--channels × --count: at most 2^32 payloads");
	if (o->reconnect_after_ms && o->reconnect_after_ms >= o->loss_timeout_ms)
		die_usage("--reconnect-after %" PRIu64 " must be below --loss-timeout %" PRIu64
			  " (a payload is lost, and no longer waits, at --loss-timeout)",
			  o->reconnect_after_ms, o->loss_timeout_ms);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_RELAY = 256, O_RELAY_KEY, O_KEY, O_TOKEN, O_SUITE, O_DUMP, O_DURATION,
	       O_TUNNEL, O_ROUTE, O_CHANNELS, O_COUNT, O_SIZE, O_WINDOW, O_RATE, O_TIMEOUT,
	       O_LOSS, O_RECONNECT, O_EXPECT, O_ECHO_DELAY };
	static const struct option longopts[] = {
		{ "relay", required_argument, NULL, O_RELAY },
		{ "relay-key", required_argument, NULL, O_RELAY_KEY },
		{ "key", required_argument, NULL, O_KEY },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "suite", required_argument, NULL, O_SUITE },
		{ "dump", required_argument, NULL, O_DUMP },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "echo-delay", required_argument, NULL, O_ECHO_DELAY },
		{ "tunnel", required_argument, NULL, O_TUNNEL },
		{ "route", required_argument, NULL, O_ROUTE },
		{ "channels", required_argument, NULL, O_CHANNELS },
		{ "count", required_argument, NULL, O_COUNT },
		{ "size", required_argument, NULL, O_SIZE },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "rate", required_argument, NULL, O_RATE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "loss-timeout", required_argument, NULL, O_LOSS },
		{ "reconnect-after", required_argument, NULL, O_RECONNECT },
		{ "expect-close", required_argument, NULL, O_EXPECT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool gw_opt = false, ag_opt = false;
	int c;

	*o = (struct opts){
		.suite = SUITE_CHACHAPOLY_BLAKE2S, .route = "", .channels = 1, .count = 100,
		.size = 256, .window = 8, .timeout_s = 30, .loss_timeout_ms = 1000,
		.expect_close = -1,
	};
	if (argc < 2) {
		fputs(usage, stderr);
		exit(EXIT_USAGE);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		exit(0);
	}
	if (!strcmp(argv[1], "gateway"))
		o->mode = MODE_GATEWAY;
	else if (!strcmp(argv[1], "agent"))
		o->mode = MODE_AGENT;
	else
		die_usage("unknown mode '%s' (gateway or agent)", argv[1]);

	optind = 2;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case O_RELAY:
			if (o->n_relays == RELAYS_MAX)
				die_usage("--relay: at most %d relays", RELAYS_MAX);
			o->relay[o->n_relays++] = optarg;
			break;
		case O_RELAY_KEY:
			if (o->n_keys == RELAYS_MAX)
				die_usage("--relay-key: at most %d keys", RELAYS_MAX);
			o->relay_key[o->n_keys++] = optarg;
			break;
		case O_KEY: o->key_file = optarg; break;
		case O_TOKEN: o->token_file = optarg; break;
		case O_DUMP: o->dump_file = optarg; break;
		case O_SUITE:
			if (!strcmp(optarg, "chacha"))
				o->suite = SUITE_CHACHAPOLY_BLAKE2S;
			else if (!strcmp(optarg, "aes"))
				o->suite = SUITE_AESGCM_SHA256;
			else
				die_usage("--suite: '%s' is not chacha or aes", optarg);
			break;
		case O_DURATION:
			o->duration_s = parse_u64("--duration", optarg, 0, 86400 * 365);
			gw_opt = true;
			break;
		case O_ECHO_DELAY:
			o->echo_delay_ms = parse_u64("--echo-delay", optarg, 0, 60000);
			gw_opt = true;
			break;
		case O_TUNNEL: o->tunnel = optarg; ag_opt = true; break;
		case O_ROUTE: o->route = optarg; ag_opt = true; break;
		case O_CHANNELS:
			o->channels = parse_u64("--channels", optarg, 1, 65535);
			ag_opt = true;
			break;
		case O_COUNT:
			o->count = parse_u64("--count", optarg, 1, UINT64_C(1) << 32);
			ag_opt = true;
			break;
		case O_SIZE:
			o->size = parse_u64("--size", optarg, PAYLOAD_HEADER,
					    HOP_MTU - HOP_DATA_MIN - FRAME_DATA_OVERHEAD);
			ag_opt = true;
			break;
		case O_WINDOW:
			o->window = parse_u64("--window", optarg, 1, 4096);
			ag_opt = true;
			break;
		case O_RATE:
			o->rate = parse_u64("--rate", optarg, 1, 1000000);
			ag_opt = true;
			break;
		case O_TIMEOUT:
			o->timeout_s = parse_u64("--timeout", optarg, 1, 86400);
			ag_opt = true;
			break;
		case O_LOSS:
			o->loss_timeout_ms = parse_u64("--loss-timeout", optarg, 1, 600000);
			ag_opt = true;
			break;
		case O_RECONNECT:
			o->reconnect_after_ms = parse_u64("--reconnect-after", optarg, 1, 600000);
			ag_opt = true;
			break;
		case O_EXPECT:
			o->expect_close = parse_reason(optarg);
			ag_opt = true;
			break;
		case 'v': o->verbose = true; break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fprintf(stderr, "Run 'hop_peer --help' for usage.\n");
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	check_args(argv[1], o, gw_opt, ag_opt);
}

static int agent_alloc(struct peer *p)
{
	struct ag_state *a = &p->ag;
	size_t map = (size_t)((p->o.count + 7) / 8);
	size_t nrtt = p->o.channels * p->o.count;

	a->next_pace_ns = NEVER;
	a->ch = calloc(p->o.channels, sizeof(*a->ch));
	a->rtt = malloc((nrtt < RTT_SAMPLES_MAX ? nrtt : RTT_SAMPLES_MAX) * sizeof(uint64_t));
	if (!a->ch || !a->rtt)
		return -ENOMEM;
	for (uint64_t i = 0; i < p->o.channels; i++) {
		struct chan *ch = &a->ch[i];

		ch->id = (uint32_t)i + 1;
		ch->slots = calloc(p->o.window, sizeof(*ch->slots));
		ch->got = calloc(map, 1);
		ch->lost_map = calloc(map, 1);
		if (!ch->slots || !ch->got || !ch->lost_map)
			return -ENOMEM;
	}
	return 0;
}

static void peer_free(struct peer *p)
{
	if (p->ag.ch)
		for (uint64_t i = 0; i < p->o.channels; i++) {
			free(p->ag.ch[i].slots);
			free(p->ag.ch[i].got);
			free(p->ag.ch[i].lost_map);
		}
	free(p->ag.ch);
	free(p->ag.rtt);
	free(p->eq.q);
	for (unsigned i = 0; i < RELAYS_MAX; i++) {
		struct link *l = &p->link[i];

		free(l->gw.ids);
		hop_client_destroy(l->hc);
		if (l->fd >= 0)
			close(l->fd);
	}
	if (p->dump)
		fclose(p->dump);
}

/*
 * One link per --relay: its socket and its hop client, keyed with @priv and
 * that relay's pinned key. @return 0, or the exit code after saying why.
 */
static int links_create(struct peer *p, const uint8_t *priv, const uint8_t *tok,
			size_t tok_len)
{
	uint8_t relay_pub[KEYS_LEN];
	char err[256];
	int ret;

	for (unsigned i = 0; i < p->o.n_relays; i++) {
		struct link *l = &p->link[i];
		const char *key = p->o.relay_key[p->o.n_keys == 1 ? 0 : i];
		struct hop_client_config cfg;

		if (keys_load_public(key, relay_pub, err, sizeof(err))) {
			fprintf(stderr, "hop_peer: --relay-key %s: %s\n", key, err);
			return EXIT_USAGE;
		}
		ret = udp_connect(&l->fd, p->o.relay[i]);
		if (ret == -EINVAL) {
			fprintf(stderr, "hop_peer: --relay: '%s' is not a numeric HOST:PORT or "
				"[V6]:PORT\nRun 'hop_peer --help' for usage.\n", p->o.relay[i]);
			return EXIT_USAGE;
		}
		if (ret) {
			fprintf(stderr, "hop_peer: --relay %s: %s\n", p->o.relay[i],
				strerror(-ret));
			return 1;
		}
		/* Best effort: a window of echoes arrives in one burst. */
		udp_set_buffers(l->fd, SOCKET_BUFFER);
		cfg = (struct hop_client_config){
			.suite = p->o.suite,
			.static_priv = priv,
			.relay_pub = relay_pub,
			.token = tok,
			.token_len = tok_len,
			.send = link_send,
			.on_frame = on_frame,
			.on_event = on_event,
			.ctx = l,
		};
		ret = hop_client_create(&l->hc, &cfg);
		if (ret) {
			fprintf(stderr, "hop_peer: cannot create the hop client: %s\n",
				strerror(-ret));
			return 1;
		}
		if (p->o.mode == MODE_GATEWAY)
			l->gw.ids = calloc(GW_TABLE_SIZE, sizeof(*l->gw.ids));
		if (p->o.mode == MODE_GATEWAY && !l->gw.ids) {
			fprintf(stderr, "hop_peer: out of memory\n");
			return 1;
		}
		p->n++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct peer peer;
	struct peer *p = &peer;
	uint8_t priv[KEYS_LEN], tok[TOKEN_MAX_LEN];
	char err[256];
	size_t tok_len;
	uint64_t end;
	int ret, sig;

	for (unsigned i = 0; i < RELAYS_MAX; i++)
		p->link[i] = (struct link){
			.p = p, .idx = i, .fd = -1,
			.connected_ns = NEVER, .goaway_ns = NEVER, .left_ns = NEVER,
		};
	parse_args(argc, argv, &p->o);
	for (unsigned i = 0; i < p->o.n_relays; i++)
		p->link[i].addr = p->o.relay[i];
	if (keys_load_private(p->o.key_file, priv, err, sizeof(err))) {
		fprintf(stderr, "hop_peer: --key: %s\n", err);
		return EXIT_USAGE;
	}
	if (load_token(p->o.token_file, tok, &tok_len)) {
		OPENSSL_cleanse(priv, sizeof(priv));
		return EXIT_USAGE;
	}
	if (p->o.dump_file && !(p->dump = fopen(p->o.dump_file, "ab"))) {
		fprintf(stderr, "hop_peer: --dump %s: %s\n", p->o.dump_file, strerror(errno));
		OPENSSL_cleanse(priv, sizeof(priv));
		return EXIT_USAGE;
	}
	ret = links_create(p, priv, tok, tok_len);
	OPENSSL_cleanse(priv, sizeof(priv));
	if (!ret && p->o.mode == MODE_AGENT && agent_alloc(p)) {
		fprintf(stderr, "hop_peer: out of memory\n");
		ret = 1;
	}
	if (!ret && p->o.echo_delay_ms && !(p->eq.q = calloc(ECHO_QUEUE, sizeof(*p->eq.q)))) {
		fprintf(stderr, "hop_peer: out of memory\n");
		ret = 1;
	}
	if (ret) {
		peer_free(p);
		return ret;
	}

	p->start_ns = mono_ns();
	if (p->o.mode == MODE_GATEWAY)
		end = p->o.duration_s ? p->start_ns + p->o.duration_s * NS_PER_S : UINT64_MAX;
	else
		end = p->start_ns + p->o.timeout_s * NS_PER_S;
	sig = run(p, end);
	if (p->o.mode == MODE_AGENT) {
		agent_close_all(p);
		ret = agent_summary(p, sig);
	} else {
		ret = gateway_summary(p, sig);
	}
	peer_free(p);
	return ret;
}
