/*
 * hop_peer.c — real hop clients over real UDP, for the end-to-end scripts.
 *
 *   hop_peer gateway ...   a gateway that accepts every CHANNEL_OPEN and
 *                          echoes every CHANNEL_DATA back unchanged
 *   hop_peer agent ...     a connector that opens N channels, sends M
 *                          numbered, timestamped, patterned payloads on each
 *                          (at most W in flight), checks every echoed byte
 *
 *   agent ══UDP══▶ postern-relay ══UDP══▶ gateway
 *         ◀══════════ echo ◀══════════════╝
 *
 * One thread, one connected UDP socket, one endpoint/hop_client; the loop
 * sleeps in ppoll() until the socket is readable or the client's next
 * deadline (hop_client_next_deadline()). Both modes print one JSON object on
 * stdout when they end (stdout carries nothing else) and, on failure, one
 * line on stderr saying why.
 *
 * The hop layer is unreliable: the agent retransmits nothing. A payload not
 * echoed within --loss-timeout is counted lost (and "late" if it shows up
 * afterwards).
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

enum {
	EXIT_USAGE = 2,
	PAYLOAD_HEADER = 16,		/* sequence (8), send time (8) */
	GW_TABLE_SIZE = 1 << 16,	/* gateway: open channels at once, at most 3/4 of it */
	RTT_SAMPLES_MAX = 1 << 22,
	TOKEN_FILE_MAX = 4096,
	SOCKET_BUFFER = 8 << 20,
};

static const char usage[] =
	"Usage: hop_peer gateway COMMON [--duration S]\n"
	"       hop_peer agent COMMON --tunnel NAME [--route NAME] [--channels N] [--count M]\n"
	"                      [--size BYTES] [--window W] [--timeout S] [--loss-timeout MS]\n"
	"                      [--expect-close REASON]\n"
	"\n"
	"A test tool: real hop clients (docs/protocol.md) over UDP, for the e2e scripts.\n"
	"\n"
	"COMMON:\n"
	"  --relay ADDR:PORT     the relay (numeric; [v6]:port for IPv6)\n"
	"  --relay-key KEY       the relay's static public key, or @FILE\n"
	"  --key FILE            this endpoint's private key (mode 0600)\n"
	"  --token FILE          this endpoint's token (pt1..., as posternctl token issue writes)\n"
	"  --suite chacha|aes    handshake suite (default chacha)\n"
	"  --dump FILE           append every packet sent (4-byte LE length, bytes)\n"
	"  -v, --verbose         log connection events on stderr\n"
	"  -h, --help            this text\n"
	"\n"
	"gateway: accepts every CHANNEL_OPEN, echoes every CHANNEL_DATA on its channel,\n"
	"  answers CHANNEL_CLOSE; runs until SIGTERM/SIGINT or --duration S (0: forever).\n"
	"  Exit 0 if it was connected at some point, else 1.\n"
	"\n"
	"agent: opens N channels (default 1) to --tunnel, sends M payloads (default 100) of\n"
	"  BYTES (16..1413, default 256) on each, at most W in flight per channel (default 8):\n"
	"  8-byte sequence, 8-byte send time, then a pattern derived from channel and\n"
	"  sequence. Checks every echo byte for byte; retransmits nothing; a payload not back\n"
	"  within --loss-timeout (default 1000 ms) is lost. Ends when every payload is back or\n"
	"  lost, or at --timeout S (default 30). Exit 0 only if every channel opened and every\n"
	"  payload came back intact; with --expect-close REASON (a CHANNEL_CLOSE reason name\n"
	"  such as NOT_PERMITTED, or its number) only if every open was refused with exactly\n"
	"  that reason. Else 1, with the reason on stderr.\n"
	"\n"
	"Both print one JSON summary on stdout. Command-line errors exit 2.\n";

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

/* --- common state -------------------------------------------------------- */

enum mode { MODE_GATEWAY, MODE_AGENT };

struct opts {
	enum mode mode;
	const char *relay, *relay_key, *key_file, *token_file, *dump_file;
	enum suite_id suite;
	bool verbose;
	uint64_t duration_s;
	const char *tunnel, *route;
	uint64_t channels, count, size, window, timeout_s, loss_timeout_ms;
	int expect_close;		/* -1: none */
};

struct gw_state {
	uint32_t *ids;			/* open addressing; 0 empty, UINT32_MAX deleted */
	uint64_t deleted;		/* UINT32_MAX slots */
	uint64_t open_now, opened, closed_by_relay, refused_full;
	uint64_t echoed, echo_bytes, echo_errors, unknown_channel;
	char last_principal[FRAME_PRINCIPAL_MAX + 1];
};

struct slot {
	uint64_t seq;
	uint64_t sent_ns;
	bool used;
};

enum chan_state { CH_IDLE, CH_OPENING, CH_OPEN, CH_CLOSED };

struct chan {
	uint32_t id;
	enum chan_state state;
	bool refused;			/* closed before it was accepted */
	uint16_t close_reason;
	uint64_t next_seq, inflight;
	struct slot *slots;		/* window */
	uint8_t *got, *lost_map;	/* bitmaps over count */
};

struct ag_state {
	struct chan *ch;
	bool opens_sent;
	uint64_t opened, refused, closed_by_peer;
	uint64_t sent, received, lost, late, duplicate, corrupt, send_errors;
	uint64_t close_reasons[FRAME_CLOSE_TIMEOUT + 2];	/* last slot: other codes */
	uint64_t *rtt;
	size_t nrtt;
	uint64_t rtt_min, rtt_max;
	uint64_t next_loss_scan;
};

struct peer {
	struct opts o;
	int fd;
	FILE *dump;
	struct hop_client *hc;
	bool connected_ever;
	uint64_t start_ns;
	struct gw_state gw;
	struct ag_state ag;
};

static int peer_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct peer *p = ctx;
	uint8_t lenb[4];

	if (p->dump) {
		bytes_put_le32(lenb, (uint32_t)len);
		fwrite(lenb, 1, sizeof(lenb), p->dump);
		fwrite(pkt, 1, len, p->dump);
	}
	return udp_send(p->fd, pkt, len);
}

static void agent_open_all(struct peer *p, uint64_t now);

static void on_event(void *ctx, const struct hop_client_event *ev)
{
	struct peer *p = ctx;
	uint64_t t = mono_ns();

	if (p->o.verbose) {
		fprintf(stderr, "hop_peer: %.3f s: %s", (double)(t - p->start_ns) / 1e9,
			hop_client_event_name(ev->type));
		if (ev->type == HOP_CLIENT_DISCONNECTED)
			fprintf(stderr, " (%s)", hop_client_down_name(ev->down));
		if (ev->type == HOP_CLIENT_GOAWAY)
			fprintf(stderr, " (%s, drain %" PRIu32 " ms)",
				frame_goaway_reason_name(ev->goaway_reason), ev->drain_ms);
		fputc('\n', stderr);
	}
	if (ev->type == HOP_CLIENT_CONNECTED) {
		p->connected_ever = true;
		if (p->o.mode == MODE_AGENT && !p->ag.opens_sent)
			agent_open_all(p, t);
	}
}

/* --- gateway ------------------------------------------------------------- */

static size_t gw_slot(const struct gw_state *g, uint32_t id, bool for_insert)
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
static int gw_compact(struct gw_state *g)
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

static bool gw_is_open(const struct gw_state *g, uint32_t id)
{
	size_t i = gw_slot(g, id, false);

	return i != SIZE_MAX && g->ids[i] == id;
}

static void gw_frame(struct peer *p, const struct frame *f, uint64_t now)
{
	struct gw_state *g = &p->gw;
	struct frame_open o;
	struct frame_data d;
	struct frame_close c;
	size_t i;
	int ret;

	switch (f->type) {
	case FRAME_CHANNEL_OPEN:
		frame_open_decode(f->body, f->len, &o);
		if (gw_is_open(g, o.channel_id)) {
			hop_client_accept_channel(p->hc, o.channel_id, now);
			break;
		}
		if (g->open_now >= GW_TABLE_SIZE / 4 * 3) {
			g->refused_full++;
			hop_client_close_channel(p->hc, o.channel_id, FRAME_CLOSE_LIMIT, now);
			break;
		}
		i = gw_slot(g, o.channel_id, true);
		if (g->ids[i] == UINT32_MAX)
			g->deleted--;
		g->ids[i] = o.channel_id;
		g->open_now++;
		g->opened++;
		memcpy(g->last_principal, o.principal, o.principal_len);
		g->last_principal[o.principal_len] = '\0';
		hop_client_accept_channel(p->hc, o.channel_id, now);
		break;
	case FRAME_CHANNEL_DATA:
		frame_data_decode(f->body, f->len, &d);
		if (!gw_is_open(g, d.channel_id)) {
			g->unknown_channel++;
			break;
		}
		ret = hop_client_send_data(p->hc, d.channel_id, d.e2e, d.e2e_len, now);
		if (ret) {
			g->echo_errors++;
			break;
		}
		g->echoed++;
		g->echo_bytes += d.e2e_len;
		break;
	case FRAME_CHANNEL_CLOSE:
		frame_close_decode(f->body, f->len, &c);
		i = gw_slot(g, c.channel_id, false);
		/* Only an open channel is answered: two peers answering closes would loop. */
		if (i == SIZE_MAX || g->ids[i] != c.channel_id)
			break;
		g->ids[i] = UINT32_MAX;
		g->open_now--;
		g->closed_by_relay++;
		if (++g->deleted > GW_TABLE_SIZE / 8)
			gw_compact(g);
		hop_client_close_channel(p->hc, c.channel_id, FRAME_CLOSE_NORMAL, now);
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

static void agent_open_all(struct peer *p, uint64_t now)
{
	uint8_t tag[FRAME_CONN_TAG_LEN];
	struct frame_open o = {
		.conn_tag = tag,
		.tunnel = (const uint8_t *)p->o.tunnel,
		.tunnel_len = (uint8_t)strlen(p->o.tunnel),
		.route = (const uint8_t *)p->o.route,
		.route_len = (uint8_t)strlen(p->o.route),
	};

	p->ag.opens_sent = true;
	for (uint64_t i = 0; i < p->o.channels; i++) {
		struct chan *ch = &p->ag.ch[i];

		o.channel_id = ch->id;
		memset(tag, 0, sizeof(tag));
		bytes_put_le32(tag, ch->id);
		bytes_put_le32(tag + 4, (uint32_t)getpid());
		/* An OPEN lost on the way is not repeated: the channel then times out. */
		hop_client_open_channel(p->hc, &o, now);
		ch->state = CH_OPENING;
	}
}

/* Send payloads on @ch while its window has room. */
static void agent_fill(struct peer *p, struct chan *ch, uint64_t now)
{
	struct ag_state *a = &p->ag;

	while (ch->state == CH_OPEN && ch->inflight < p->o.window && ch->next_seq < p->o.count) {
		size_t room, s;
		uint8_t *buf = hop_client_data_begin(p->hc, ch->id, &room);
		int ret;

		for (s = 0; s < p->o.window && ch->slots[s].used; s++)
			;
		bytes_put_le64(buf, ch->next_seq);
		bytes_put_le64(buf + 8, now);
		pattern(buf + PAYLOAD_HEADER, p->o.size - PAYLOAD_HEADER, ch->id, ch->next_seq);
		ret = hop_client_data_commit(p->hc, p->o.size, now);
		if (ret == -ENOTCONN || ret == -EMSGSIZE || ret == -EINVAL)
			return;		/* not sealed: try again when connected */
		if (ret)
			a->send_errors++;	/* sealed, then lost at the socket: loss timer */
		ch->slots[s] = (struct slot){ .seq = ch->next_seq, .sent_ns = now, .used = true };
		ch->next_seq++;
		ch->inflight++;
		a->sent++;
	}
}

static struct chan *agent_chan(struct peer *p, uint32_t id)
{
	if (id == 0 || id > p->o.channels)
		return NULL;
	return &p->ag.ch[id - 1];
}

static void agent_echo(struct peer *p, struct chan *ch, const struct frame_data *d, uint64_t now)
{
	struct ag_state *a = &p->ag;
	uint64_t seq, ts, rtt;
	struct slot *sl = NULL;

	if (d->e2e_len < PAYLOAD_HEADER) {
		a->corrupt++;
		return;
	}
	seq = bytes_get_le64(d->e2e);
	ts = bytes_get_le64(d->e2e + 8);
	for (uint64_t s = 0; s < p->o.window; s++)
		if (ch->slots[s].used && ch->slots[s].seq == seq)
			sl = &ch->slots[s];
	if (!sl) {
		if (seq < p->o.count && bit_get(ch->got, seq))
			a->duplicate++;
		else if (seq < p->o.count && bit_get(ch->lost_map, seq))
			a->late++;
		else
			a->corrupt++;
		return;
	}
	sl->used = false;
	ch->inflight--;
	if (d->e2e_len != p->o.size || ts != sl->sent_ns ||
	    !pattern_ok(d->e2e + PAYLOAD_HEADER, d->e2e_len - PAYLOAD_HEADER, ch->id, seq)) {
		a->corrupt++;
		bit_set(ch->lost_map, seq);
		return;
	}
	bit_set(ch->got, seq);
	a->received++;
	rtt = now - sl->sent_ns;
	if (a->nrtt < RTT_SAMPLES_MAX)
		a->rtt[a->nrtt++] = rtt;
	if (a->received == 1 || rtt < a->rtt_min)
		a->rtt_min = rtt;
	if (rtt > a->rtt_max)
		a->rtt_max = rtt;
	agent_fill(p, ch, now);
}

static void agent_closed(struct peer *p, struct chan *ch, uint16_t reason)
{
	struct ag_state *a = &p->ag;

	if (ch->state == CH_CLOSED)
		return;
	a->close_reasons[reason <= FRAME_CLOSE_TIMEOUT ? reason : FRAME_CLOSE_TIMEOUT + 1]++;
	if (ch->state == CH_OPENING) {
		ch->refused = true;
		a->refused++;
	} else {
		a->closed_by_peer++;
	}
	ch->close_reason = reason;
	ch->state = CH_CLOSED;
	/* What was in flight will not come back. */
	for (uint64_t s = 0; s < p->o.window; s++)
		if (ch->slots[s].used) {
			ch->slots[s].used = false;
			bit_set(ch->lost_map, ch->slots[s].seq);
			a->lost++;
		}
	ch->inflight = 0;
}

static void ag_frame(struct peer *p, const struct frame *f, uint64_t now)
{
	struct frame_data d;
	struct frame_close c;
	struct chan *ch;
	uint32_t id;

	switch (f->type) {
	case FRAME_CHANNEL_ACCEPT:
		frame_accept_decode(f->body, f->len, &id);
		ch = agent_chan(p, id);
		if (!ch || ch->state != CH_OPENING)
			break;
		ch->state = CH_OPEN;
		p->ag.opened++;
		agent_fill(p, ch, now);
		break;
	case FRAME_CHANNEL_DATA:
		frame_data_decode(f->body, f->len, &d);
		ch = agent_chan(p, d.channel_id);
		if (!ch || ch->state != CH_OPEN) {
			p->ag.corrupt++;
			break;
		}
		agent_echo(p, ch, &d, now);
		break;
	case FRAME_CHANNEL_CLOSE:
		frame_close_decode(f->body, f->len, &c);
		ch = agent_chan(p, c.channel_id);
		if (ch)
			agent_closed(p, ch, c.reason);
		break;
	default:
		break;		/* an OPEN is not for a connector: ignore it */
	}
}

/* Declare lost what has been in flight for --loss-timeout, then refill windows. */
static void agent_tick(struct peer *p, uint64_t now)
{
	struct ag_state *a = &p->ag;
	uint64_t limit = p->o.loss_timeout_ms * NS_PER_MS;

	if (now < a->next_loss_scan)
		return;
	a->next_loss_scan = now + 10 * NS_PER_MS;
	for (uint64_t i = 0; i < p->o.channels; i++) {
		struct chan *ch = &a->ch[i];

		for (uint64_t s = 0; s < p->o.window; s++) {
			struct slot *sl = &ch->slots[s];

			if (!sl->used || now - sl->sent_ns < limit)
				continue;
			sl->used = false;
			ch->inflight--;
			bit_set(ch->lost_map, sl->seq);
			a->lost++;
		}
		agent_fill(p, ch, now);
	}
}

static bool agent_done(const struct peer *p)
{
	for (uint64_t i = 0; i < p->o.channels; i++) {
		const struct chan *ch = &p->ag.ch[i];

		if (ch->state == CH_CLOSED)
			continue;
		if (ch->state != CH_OPEN || ch->next_seq < p->o.count || ch->inflight)
			return false;
	}
	return true;
}

static uint64_t agent_deadline(const struct peer *p)
{
	for (uint64_t i = 0; i < p->o.channels; i++)
		if (p->ag.ch[i].inflight)
			return p->ag.next_loss_scan;
	return UINT64_MAX;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void on_frame(void *ctx, const struct frame *f, uint64_t now)
{
	struct peer *p = ctx;

	if (p->o.mode == MODE_GATEWAY)
		gw_frame(p, f, now);
	else
		ag_frame(p, f, now);
}

/* --- the loop ------------------------------------------------------------ */

static void drain_socket(struct peer *p, struct udp_batch *b)
{
	for (;;) {
		int n = udp_recv_batch(p->fd, b);
		uint64_t now = mono_ns();

		if (n == -ECONNREFUSED)
			continue;	/* ICMP: nobody listens (yet); the client retries (§8) */
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			if (b->len[i])
				hop_client_input(p->hc, b->buf[i], b->len[i], now);
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
	hop_client_connect(p->hc, now);
	while (!stop_signal) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		uint64_t deadline, wait;
		struct timespec ts;

		now = mono_ns();
		hop_client_tick(p->hc, now);
		if (p->o.mode == MODE_AGENT) {
			agent_tick(p, now);
			if (agent_done(p))
				break;
		}
		if (now >= end_ns)
			break;
		deadline = hop_client_next_deadline(p->hc);
		if (p->o.mode == MODE_AGENT && agent_deadline(p) < deadline)
			deadline = agent_deadline(p);
		if (end_ns < deadline)
			deadline = end_ns;
		wait = deadline > now ? deadline - now : 0;
		ts.tv_sec = (time_t)(wait / NS_PER_S);
		ts.tv_nsec = (long)(wait % NS_PER_S);
		if (ppoll(&pfd, 1, &ts, &unblocked) > 0)
			drain_socket(p, b);
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

static json_t *hop_stats_json(const struct hop_client *hc)
{
	const struct hop_client_stats *s = hop_client_stats(hc);
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

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(j);
}

static int gateway_summary(struct peer *p, int sig)
{
	struct gw_state *g = &p->gw;
	json_t *j = json_object();

	json_object_set_new(j, "mode", json_string("gateway"));
	json_object_set_new(j, "relay", json_string(p->o.relay));
	json_object_set_new(j, "connected", json_boolean(p->connected_ever));
	json_object_set_new(j, "elapsed_s", json_real((double)(mono_ns() - p->start_ns) / 1e9));
	set_u64(j, "channels_opened", g->opened);
	set_u64(j, "channels_open", g->open_now);
	set_u64(j, "channels_closed", g->closed_by_relay);
	set_u64(j, "refused_full", g->refused_full);
	set_u64(j, "echoed", g->echoed);
	set_u64(j, "echo_bytes", g->echo_bytes);
	set_u64(j, "echo_errors", g->echo_errors);
	set_u64(j, "unknown_channel", g->unknown_channel);
	json_object_set_new(j, "last_principal", json_string(g->last_principal));
	json_object_set_new(j, "signal", sig ? json_string(strsignal(sig)) : json_null());
	json_object_set_new(j, "hop", hop_stats_json(p->hc));
	print_json(j);
	if (!p->connected_ever) {
		fprintf(stderr, "hop_peer: never connected to relay %s (%" PRIu64 " INITs sent, "
			"no answer)\n", p->o.relay, hop_client_stats(p->hc)->inits);
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

/* The verdict: NULL when the run passed, else why it did not (one line). */
static const char *agent_verdict(const struct peer *p, int sig, char *why, size_t cap)
{
	const struct ag_state *a = &p->ag;
	uint64_t total = p->o.channels * p->o.count;
	double limit = (double)p->o.timeout_s;

	if (sig) {
		snprintf(why, cap, "interrupted by %s", strsignal(sig));
		return why;
	}
	if (!p->connected_ever) {
		snprintf(why, cap, "no answer from relay %s within %.0f s (%" PRIu64
			 " INITs sent): is it running, and is --relay-key its key?",
			 p->o.relay, limit, hop_client_stats(p->hc)->inits);
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
	if (a->received == total && !a->corrupt && !a->lost)
		return NULL;
	if (a->corrupt || a->lost || a->closed_by_peer) {
		snprintf(why, cap, "%" PRIu64 " of %" PRIu64 " payloads back intact: %" PRIu64
			 " lost, %" PRIu64 " corrupt, %" PRIu64 " channels closed by the peer",
			 a->received, total, a->lost, a->corrupt, a->closed_by_peer);
		return why;
	}
	snprintf(why, cap, "timed out after %.0f s with %" PRIu64 " of %" PRIu64
		 " payloads back", limit, a->received, total);
	return why;
}

static int agent_summary(struct peer *p, int sig)
{
	struct ag_state *a = &p->ag;
	const char *fail;
	json_t *j, *rtt, *reasons = json_object();
	char why[256];

	qsort(a->rtt, a->nrtt, sizeof(a->rtt[0]), cmp_u64);
	for (unsigned r = 0; r <= FRAME_CLOSE_TIMEOUT + 1; r++)
		if (a->close_reasons[r])
			json_object_set_new(reasons, reason_name(r),
					    json_integer((json_int_t)a->close_reasons[r]));
	fail = agent_verdict(p, sig, why, sizeof(why));
	j = json_object();
	json_object_set_new(j, "mode", json_string("agent"));
	json_object_set_new(j, "relay", json_string(p->o.relay));
	json_object_set_new(j, "tunnel", json_string(p->o.tunnel));
	json_object_set_new(j, "connected", json_boolean(p->connected_ever));
	json_object_set_new(j, "elapsed_s", json_real((double)(mono_ns() - p->start_ns) / 1e9));
	set_u64(j, "channels", p->o.channels);
	set_u64(j, "opened", a->opened);
	set_u64(j, "refused", a->refused);
	set_u64(j, "closed_by_peer", a->closed_by_peer);
	set_u64(j, "sent", a->sent);
	set_u64(j, "received", a->received);
	set_u64(j, "lost", a->lost);
	set_u64(j, "late", a->late);
	set_u64(j, "duplicate", a->duplicate);
	set_u64(j, "corrupt", a->corrupt);
	set_u64(j, "send_errors", a->send_errors);
	set_u64(j, "size", p->o.size);
	set_u64(j, "bytes", a->received * p->o.size);
	rtt = json_object();
	set_us(rtt, "min", a->rtt_min);
	set_us(rtt, "p50", percentile(a->rtt, a->nrtt, 50));
	set_us(rtt, "p99", percentile(a->rtt, a->nrtt, 99));
	set_us(rtt, "max", a->rtt_max);
	json_object_set_new(j, "rtt_us", rtt);
	json_object_set_new(j, "close_reasons", reasons);
	json_object_set_new(j, "ok", json_boolean(!fail));
	json_object_set_new(j, "hop", hop_stats_json(p->hc));
	print_json(j);
	if (fail) {
		fprintf(stderr, "hop_peer: %s\n", fail);
		return 1;
	}
	return 0;
}

/* Say goodbye on every channel still open, so relay and gateway clean up at once. */
static void agent_close_all(struct peer *p)
{
	uint64_t now = mono_ns();

	for (uint64_t i = 0; i < p->o.channels; i++)
		if (p->ag.ch[i].state == CH_OPEN)
			hop_client_close_channel(p->hc, p->ag.ch[i].id, FRAME_CLOSE_NORMAL, now);
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

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_RELAY = 256, O_RELAY_KEY, O_KEY, O_TOKEN, O_SUITE, O_DUMP, O_DURATION,
	       O_TUNNEL, O_ROUTE, O_CHANNELS, O_COUNT, O_SIZE, O_WINDOW, O_TIMEOUT, O_LOSS,
	       O_EXPECT };
	static const struct option longopts[] = {
		{ "relay", required_argument, NULL, O_RELAY },
		{ "relay-key", required_argument, NULL, O_RELAY_KEY },
		{ "key", required_argument, NULL, O_KEY },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "suite", required_argument, NULL, O_SUITE },
		{ "dump", required_argument, NULL, O_DUMP },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "tunnel", required_argument, NULL, O_TUNNEL },
		{ "route", required_argument, NULL, O_ROUTE },
		{ "channels", required_argument, NULL, O_CHANNELS },
		{ "count", required_argument, NULL, O_COUNT },
		{ "size", required_argument, NULL, O_SIZE },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "loss-timeout", required_argument, NULL, O_LOSS },
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
		case O_RELAY: o->relay = optarg; break;
		case O_RELAY_KEY: o->relay_key = optarg; break;
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
		case O_TIMEOUT:
			o->timeout_s = parse_u64("--timeout", optarg, 1, 86400);
			ag_opt = true;
			break;
		case O_LOSS:
			o->loss_timeout_ms = parse_u64("--loss-timeout", optarg, 1, 600000);
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
	if (!o->relay || !o->relay_key || !o->key_file || !o->token_file)
		die_usage("%s needs --relay, --relay-key, --key and --token", argv[1]);
	if (o->mode == MODE_GATEWAY && ag_opt)
		die_usage("gateway takes none of the agent options (--tunnel, --channels, ...)");
	if (o->mode == MODE_AGENT && gw_opt)
		die_usage("agent takes --timeout, not --duration");
	if (o->mode == MODE_AGENT) {
		if (!o->tunnel || !*o->tunnel || strlen(o->tunnel) > FRAME_NAME_MAX)
			die_usage("agent needs --tunnel NAME (1..63 characters)");
		if (strlen(o->route) > FRAME_NAME_MAX)
			die_usage("--route: at most 63 characters");
		if (o->channels * o->count > (UINT64_C(1) << 32))
			die_usage("--channels × --count: at most 2^32 payloads");
	}
}

static int agent_alloc(struct peer *p)
{
	struct ag_state *a = &p->ag;
	size_t map = (size_t)((p->o.count + 7) / 8);
	size_t nrtt = p->o.channels * p->o.count;

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
	free(p->gw.ids);
	hop_client_destroy(p->hc);
	if (p->dump)
		fclose(p->dump);
	if (p->fd >= 0)
		close(p->fd);
}

int main(int argc, char **argv)
{
	static struct peer peer = { .fd = -1 };
	struct peer *p = &peer;
	uint8_t priv[KEYS_LEN], relay_pub[KEYS_LEN], tok[TOKEN_MAX_LEN];
	struct hop_client_config cfg;
	char err[256];
	size_t tok_len;
	uint64_t end;
	int ret, sig;

	parse_args(argc, argv, &p->o);
	if (keys_load_public(p->o.relay_key, relay_pub, err, sizeof(err))) {
		fprintf(stderr, "hop_peer: --relay-key: %s\n", err);
		return EXIT_USAGE;
	}
	if (keys_load_private(p->o.key_file, priv, err, sizeof(err))) {
		fprintf(stderr, "hop_peer: --key: %s\n", err);
		return EXIT_USAGE;
	}
	if (load_token(p->o.token_file, tok, &tok_len)) {
		OPENSSL_cleanse(priv, sizeof(priv));
		return EXIT_USAGE;
	}
	ret = udp_connect(&p->fd, p->o.relay);
	if (ret) {
		OPENSSL_cleanse(priv, sizeof(priv));
		if (ret == -EINVAL)
			die_usage("--relay: '%s' is not a numeric HOST:PORT or [V6]:PORT",
				  p->o.relay);
		fprintf(stderr, "hop_peer: --relay %s: %s\n", p->o.relay, strerror(-ret));
		return 1;
	}
	/* Best effort: a window of echoes arrives in one burst. */
	udp_set_buffers(p->fd, SOCKET_BUFFER);
	if (p->o.dump_file && !(p->dump = fopen(p->o.dump_file, "ab"))) {
		fprintf(stderr, "hop_peer: --dump %s: %s\n", p->o.dump_file, strerror(errno));
		OPENSSL_cleanse(priv, sizeof(priv));
		return EXIT_USAGE;
	}

	cfg = (struct hop_client_config){
		.suite = p->o.suite,
		.static_priv = priv,
		.relay_pub = relay_pub,
		.token = tok,
		.token_len = tok_len,
		.send = peer_send,
		.on_frame = on_frame,
		.on_event = on_event,
		.ctx = p,
	};
	ret = hop_client_create(&p->hc, &cfg);
	OPENSSL_cleanse(priv, sizeof(priv));
	if (ret) {
		fprintf(stderr, "hop_peer: cannot create the hop client: %s\n", strerror(-ret));
		peer_free(p);
		return 1;
	}
	if (p->o.mode == MODE_GATEWAY)
		p->gw.ids = calloc(GW_TABLE_SIZE, sizeof(*p->gw.ids));
	if (p->o.mode == MODE_GATEWAY ? !p->gw.ids : agent_alloc(p) != 0) {
		fprintf(stderr, "hop_peer: out of memory\n");
		peer_free(p);
		return 1;
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
