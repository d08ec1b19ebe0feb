/*
 * test_pump.c — endpoint/pump.h between a real QUIC stream and a real local
 * socket: a connector (client) and a gateway (server) quic_conn joined in
 * memory on a fake clock, the gateway's stream pumped to one end of a
 * socketpair (or a TCP socket) whose other end plays the upstream.
 *
 *   client app ─stream─▶ client conn ══link══ server conn ─pump─▶ sock[0] ⇄ sock[1] upstream
 *
 * The loop polls the pump's fd for what pump_wants_*() asks, the upstream's
 * fd for what it wants, delivers datagrams, runs QUIC timers; time moves
 * only when no fd made progress and nothing is due.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "endpoint/pump.h"

#define MS QUIC_NS_PER_MS
#define SEC QUIC_NS_PER_S
#define T0 (1000 * SEC)
#define MB (1024 * 1024)

enum {
	PAT_PERIOD = 65521,		/* prime: the pattern's period */
	WRITE_CHUNK = 16 * 1024,
	MAX_STEPS = 4 * 1000 * 1000,
	WINDOW = 64 * 1024,		/* the gateway's stream window in these tests */
};

static struct quic_identity *gw_id, *agent_id;
static uint8_t pattern[2 * PAT_PERIOD];

static void setup_world(void)
{
	srand(11);
	for (size_t i = 0; i < PAT_PERIOD; i++)
		pattern[i] = pattern[i + PAT_PERIOD] = (uint8_t)(rand() >> 7);
	cr_assert_eq(quic_identity_generate(&gw_id, QUIC_KEY_ED25519, "gateway"), 0);
	cr_assert_eq(quic_identity_generate(&agent_id, QUIC_KEY_ED25519, "agent"), 0);
}

static void teardown_world(void)
{
	quic_identity_destroy(gw_id);
	quic_identity_destroy(agent_id);
}

/* dir 0: client → upstream, dir 1: upstream → client */
static const uint8_t *pat(unsigned dir, uint64_t off)
{
	return pattern + (size_t)((off + dir * 30011) % PAT_PERIOD);
}

/* Compare @len bytes at stream offset @off of direction @dir with the pattern. */
static bool pat_eq(unsigned dir, uint64_t off, const uint8_t *buf, size_t len)
{
	while (len) {
		size_t n = len < PAT_PERIOD ? len : PAT_PERIOD;

		if (memcmp(buf, pat(dir, off), n) != 0)
			return false;
		buf += n;
		off += n;
		len -= n;
	}
	return true;
}

/* --- the link -------------------------------------------------------------- */

struct pkt {
	struct pkt *next;
	uint64_t at;
	size_t len;
	uint8_t data[];
};

struct world;

struct end {
	struct world *w;
	struct quic_conn *q;
	struct end *peer;
	struct pkt *inbox;
};

/* The connector's application on its stream. */
struct client_app {
	struct quic_stream *s;
	uint64_t to_send, sent;
	bool send_fin, fin_sent;
	uint64_t received;
	bool got_fin, mismatch;
	bool reset_seen, closed;
	uint64_t reset_code;
	bool close_on_fin;		/* close the connection as soon as the FIN arrives */
};

/* The upstream: the far end of the pump's socket (or pipes: reads fd, writes wfd). */
struct upstream {
	int fd;
	int wfd;			/* -1: fd */
	bool reading;			/* false: a slow reader that takes nothing */
	uint64_t to_send, sent;
	bool send_fin, fin_sent;
	uint64_t received;
	bool got_eof, mismatch;
	int read_err;
};

struct world {
	uint64_t now;
	struct end client, server;
	struct client_app app;
	struct upstream up;
	struct pump *pump;
	int pump_fd;			/* the pump's local socket, or a pipe's read end */
	int pump_wfd;			/* = pump_fd, or a pipe's write end */
	unsigned pump_flags;
	bool manual_flush;		/* PUMP_DEFER_WRITES: the test calls pump_flush() */
	bool opened, pump_closed, peer_fin;
	uint64_t delivered;		/* stream bytes the server handed to the pump */
	uint64_t max_held;		/* most delivered - consumed seen */
};

static int link_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct end *from = ctx;
	struct end *to = from->peer;
	struct pkt *p = malloc(sizeof(*p) + len), **pp;

	cr_assert_not_null(p);
	memcpy(p->data, pkt, len);
	p->len = len;
	p->at = from->w->now + 2 * MS;
	for (pp = &to->inbox; *pp && (*pp)->at <= p->at; pp = &(*pp)->next)
		;
	p->next = *pp;
	*pp = p;
	return 0;
}

static void inbox_free(struct end *e)
{
	while (e->inbox) {
		struct pkt *p = e->inbox;

		e->inbox = p->next;
		free(p);
	}
}

/* --- callbacks ------------------------------------------------------------- */

static void client_write(struct world *w)
{
	struct client_app *a = &w->app;

	if (!a->s || a->closed || a->fin_sent || a->reset_seen)
		return;
	while (a->sent < a->to_send) {
		size_t n = a->to_send - a->sent;
		ssize_t r;

		if (n > WRITE_CHUNK)
			n = WRITE_CHUNK;
		r = quic_stream_write(a->s, pat(0, a->sent), n, w->now);
		if (r <= 0)
			return;
		a->sent += (uint64_t)r;
	}
	if (a->send_fin && quic_stream_finish(a->s, w->now) == 0)
		a->fin_sent = true;
}

static void client_data(void *ctx, struct quic_stream *s, const uint8_t *data, size_t len,
			bool fin)
{
	struct world *w = ((struct end *)ctx)->w;

	if (!pat_eq(1, w->app.received, data, len))
		w->app.mismatch = true;
	w->app.received += len;
	if (fin)
		w->app.got_fin = true;
	cr_assert_eq(quic_stream_consume(s, len, w->now), 0);
	if (fin && w->app.close_on_fin)
		cr_assert_eq(quic_conn_close(w->client.q, QUIC_APP_NO_ERROR, "done", w->now), 0);
}

static void client_event(void *ctx, const struct quic_event *ev)
{
	struct world *w = ((struct end *)ctx)->w;

	switch (ev->type) {
	case QUIC_EV_STREAM_RESET:
		w->app.reset_seen = true;
		w->app.reset_code = ev->code;
		break;
	case QUIC_EV_STREAM_WRITABLE:
		client_write(w);
		break;
	case QUIC_EV_STREAM_CLOSED:
		w->app.closed = true;
		w->app.s = NULL;
		break;
	default:
		break;
	}
}

static void server_data(void *ctx, struct quic_stream *s, const uint8_t *data, size_t len,
			bool fin)
{
	struct world *w = ((struct end *)ctx)->w;

	(void)s;
	w->delivered += len;
	w->peer_fin |= fin;
	pump_stream_data(w->pump, data, len, fin, w->now);
	if (w->delivered - pump_result(w->pump)->bytes_out > w->max_held)
		w->max_held = w->delivered - pump_result(w->pump)->bytes_out;
}

static void server_event(void *ctx, const struct quic_event *ev)
{
	struct world *w = ((struct end *)ctx)->w;

	switch (ev->type) {
	case QUIC_EV_STREAM_OPENED:
		cr_assert(!w->opened);
		w->opened = true;
		cr_assert_eq(pump_create(&w->pump, ev->stream, w->pump_fd, w->pump_wfd,
					 w->pump_flags), 0);
		break;
	case QUIC_EV_STREAM_WRITABLE:
		pump_stream_writable(w->pump, w->now);
		break;
	case QUIC_EV_STREAM_RESET:
		pump_stream_reset(w->pump, ev->code);
		break;
	case QUIC_EV_STREAM_CLOSED:
		w->pump_closed = true;
		pump_stream_closed(w->pump, ev->error != QUIC_ERR_NONE);
		break;
	default:
		break;
	}
}

/* --- the world ------------------------------------------------------------- */

static void set_nonblock(int fd)
{
	cr_assert_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

/* A world whose pump works on @rfd/@wfd (owned by the pump); set w->up.fd after. */
static struct world *world_new(int rfd, int wfd, unsigned flags)
{
	struct world *w = calloc(1, sizeof(*w));
	struct quic_config cc = { 0 }, sc;

	cr_assert_not_null(w);
	w->now = T0;
	w->pump_fd = rfd;
	w->pump_wfd = wfd;
	w->pump_flags = flags;
	w->up.fd = w->up.wfd = -1;
	w->up.reading = true;
	w->client.w = w->server.w = w;
	w->client.peer = &w->server;
	w->server.peer = &w->client;

	cc.role = QUIC_CLIENT;
	cc.identity = agent_id;
	cc.server_fp = quic_identity_fingerprint(gw_id);
	cc.send = link_send;
	/* Deferred writes come with deferred sends, as in the endpoints' loops. */
	cc.defer_send = flags & PUMP_DEFER_WRITES;
	cc.on_event = client_event;
	cc.on_data = client_data;
	cc.ctx = &w->client;
	cr_assert_eq(quic_conn_create(&w->client.q, &cc), 0);

	sc = cc;
	sc.role = QUIC_SERVER;
	sc.identity = gw_id;
	sc.server_fp = NULL;
	sc.tag = quic_conn_tag(w->client.q);
	sc.allowed_fps = (const uint8_t (*)[QUIC_FP_LEN])quic_identity_fingerprint(agent_id);
	sc.n_allowed = 1;
	sc.stream_window = WINDOW;
	sc.on_event = server_event;
	sc.on_data = server_data;
	sc.ctx = &w->server;
	cr_assert_eq(quic_conn_create(&w->server.q, &sc), 0);
	return w;
}

static struct world *world_socketpair_flags(unsigned flags)
{
	int sv[2];

	struct world *w;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	w = world_new(sv[0], sv[0], flags);
	w->up.fd = sv[1];
	return w;
}

static struct world *world_socketpair(void)
{
	return world_socketpair_flags(0);
}

static void world_free(struct world *w)
{
	quic_conn_destroy(w->client.q);
	quic_conn_destroy(w->server.q);
	inbox_free(&w->client);
	inbox_free(&w->server);
	if (w->pump) {
		pump_destroy(w->pump);
	} else {
		if (w->pump_fd >= 0)
			close(w->pump_fd);
		if (w->pump_wfd >= 0 && w->pump_wfd != w->pump_fd)
			close(w->pump_wfd);
	}
	if (w->up.fd >= 0)
		close(w->up.fd);
	if (w->up.wfd >= 0)
		close(w->up.wfd);
	free(w);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void deliver_due(struct world *w, struct end *e)
{
	while (e->inbox && e->inbox->at <= w->now) {
		struct pkt *p = e->inbox;

		e->inbox = p->next;
		cr_assert_eq(quic_conn_input(e->q, p->data, p->len, w->now), 0);
		free(p);
	}
}

/* The upstream's turn. @return true if it moved a byte or saw EOF. */
static bool upstream_step(struct world *w)
{
	struct upstream *u = &w->up;
	int wfd = u->wfd >= 0 ? u->wfd : u->fd;
	uint8_t buf[32 * 1024];
	bool moved = false;

	if (u->fd < 0)
		return false;
	while (u->reading && !u->got_eof && !u->read_err) {
		ssize_t n = read(u->fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno != EAGAIN)
				u->read_err = errno;
			break;
		}
		moved = true;
		if (n == 0) {
			u->got_eof = true;
			break;
		}
		if (!pat_eq(0, u->received, buf, (size_t)n))
			u->mismatch = true;
		u->received += (uint64_t)n;
	}
	while (u->sent < u->to_send) {
		size_t len = min_u64(u->to_send - u->sent, WRITE_CHUNK);
		ssize_t n = write(wfd, pat(1, u->sent), len);

		if (n <= 0)
			break;
		u->sent += (uint64_t)n;
		moved = true;
	}
	if (u->send_fin && !u->fin_sent && u->sent == u->to_send && wfd >= 0) {
		if (u->wfd >= 0) {
			close(u->wfd);
			u->wfd = -1;
		} else {
			shutdown(u->fd, SHUT_WR);
		}
		u->fin_sent = true;
		moved = true;
	}
	return moved;
}

/* One of the pump's fds, as an epoll loop would serve it. @return true if it moved. */
static bool pump_fd_step(struct world *w, int fd, uint32_t wants)
{
	struct pollfd pfd = { .fd = fd, .events = (short)wants };
	uint64_t before_in, before_out;
	uint32_t before_rfd;

	if (fd < 0 || !wants || poll(&pfd, 1, 0) != 1)
		return false;
	before_in = pump_result(w->pump)->bytes_in;
	before_out = pump_result(w->pump)->bytes_out;
	before_rfd = pump_wants_rfd(w->pump);
	pump_fd_event(w->pump, pfd.fd, (uint32_t)pfd.revents, w->now);
	/* Ready but nothing moved (the stream is full): time must pass. */
	return pump_result(w->pump)->bytes_in != before_in ||
	       pump_result(w->pump)->bytes_out != before_out ||
	       pump_wants_rfd(w->pump) != before_rfd;
}

static bool pump_step(struct world *w)
{
	int rfd, wfd;
	bool moved;

	if (!w->pump)
		return false;
	rfd = pump_rfd(w->pump);
	wfd = pump_wfd(w->pump);
	if (rfd == wfd)
		return pump_fd_step(w, rfd, pump_wants_rfd(w->pump) | pump_wants_wfd(w->pump));
	moved = pump_fd_step(w, rfd, pump_wants_rfd(w->pump));
	moved |= pump_fd_step(w, wfd, pump_wants_wfd(w->pump));
	return moved;
}

typedef bool (*pred_fn)(struct world *w);

static bool run_until(struct world *w, pred_fn pred, uint64_t limit)
{
	uint64_t end = w->now + limit;

	for (unsigned step = 0; step < MAX_STEPS; step++) {
		uint64_t next;
		bool moved;

		if (pred(w))
			return true;
		deliver_due(w, &w->client);
		deliver_due(w, &w->server);
		if (quic_conn_next_deadline(w->client.q) <= w->now)
			quic_conn_tick(w->client.q, w->now);
		if (quic_conn_next_deadline(w->server.q) <= w->now)
			quic_conn_tick(w->server.q, w->now);
		client_write(w);
		/* A loop's last steps of a turn (PUMP_DEFER_WRITES, defer_send). */
		if (w->pump && !w->manual_flush)
			pump_flush(w->pump, w->now);
		quic_conn_flush(w->client.q, w->now);
		quic_conn_flush(w->server.q, w->now);
		moved = upstream_step(w);
		moved |= pump_step(w);
		if (pred(w))
			return true;
		if (moved)
			continue;
		next = QUIC_NEVER;
		if (w->client.inbox)
			next = w->client.inbox->at;
		if (w->server.inbox)
			next = min_u64(next, w->server.inbox->at);
		next = min_u64(next, quic_conn_next_deadline(w->client.q));
		next = min_u64(next, quic_conn_next_deadline(w->server.q));
		if (next == QUIC_NEVER) {
			w->now = end;
			return pred(w);
		}
		w->now = next > w->now ? next : w->now + 1000;
		if (w->now > end)
			return pred(w);
	}
	cr_assert_fail("run_until: step bound reached");
	return false;
}

static bool connected(struct world *w)
{
	return quic_conn_is_connected(w->client.q) && quic_conn_is_connected(w->server.q);
}

/* Connect and open the stream to route "crm". */
static void start(struct world *w)
{
	cr_assert_eq(quic_conn_connect(w->client.q, w->now), 0);
	cr_assert(run_until(w, connected, 5 * SEC), "handshake: %s / %s",
		  quic_conn_error_text(w->client.q), quic_conn_error_text(w->server.q));
	cr_assert_eq(quic_stream_open(w->client.q, "crm", NULL, &w->app.s, w->now), 0);
}

static bool pump_finished(struct world *w)
{
	return w->pump && pump_done(w->pump) && w->app.closed;
}

static bool both_fins(struct world *w)
{
	return w->app.got_fin && w->up.got_eof;
}

TestSuite(pump, .init = setup_world, .fini = teardown_world, .timeout = 100);

/* --- tests ----------------------------------------------------------------- */

/* Both ways of writing to the local side: at once, and once per turn. */
static const unsigned write_modes[] = { 0, PUMP_DEFER_WRITES };

static void one_megabyte_each_way(unsigned flags)
{
	struct world *w = world_socketpair_flags(flags);

	w->app.to_send = MB;
	w->app.send_fin = true;
	w->up.to_send = MB;
	w->up.send_fin = true;
	start(w);
	cr_assert(run_until(w, pump_finished, 60 * SEC),
		  "client sent %llu got %llu, upstream got %llu sent %llu",
		  (unsigned long long)w->app.sent, (unsigned long long)w->app.received,
		  (unsigned long long)w->up.received, (unsigned long long)w->up.sent);
	cr_assert_eq(w->up.received, MB);
	cr_assert(!w->up.mismatch, "client → upstream bytes differ");
	cr_assert(w->up.got_eof, "the client's FIN did not reach the upstream as EOF");
	cr_assert_eq(w->app.received, MB);
	cr_assert(!w->app.mismatch, "upstream → client bytes differ");
	cr_assert(w->app.got_fin, "the upstream's EOF did not reach the client as FIN");
	cr_assert_eq(pump_result(w->pump)->end, PUMP_END_FIN);
	cr_assert_eq(pump_result(w->pump)->bytes_in, MB);
	cr_assert_eq(pump_result(w->pump)->bytes_out, MB);
	cr_assert_str_eq(pump_end_name(pump_result(w->pump)->end), "fin");
	world_free(w);
}

Test(pump, one_megabyte_each_way_byte_exact_then_fin_both_ways)
{
	for (size_t m = 0; m < sizeof(write_modes) / sizeof(write_modes[0]); m++)
		one_megabyte_each_way(write_modes[m]);
}

/* Half-close, each side on its own: the other direction stays open (§10.4). */
struct half_case {
	const char *name;
	bool client_fin_first;
};

static const struct half_case half_cases[] = {
	{ "peer FIN → shutdown(SHUT_WR) on the socket", true },
	{ "local EOF → FIN at the peer", false },
};

static bool up_eof(struct world *w)
{
	return w->up.got_eof;
}

static bool app_fin(struct world *w)
{
	return w->app.got_fin;
}

Test(pump, half_close_keeps_the_other_direction_open)
{
	for (size_t i = 0; i < sizeof(half_cases) / sizeof(half_cases[0]); i++) {
		const struct half_case *tc = &half_cases[i];
		struct world *w = world_socketpair();

		if (tc->client_fin_first) {
			w->app.to_send = 1000;
			w->app.send_fin = true;
		} else {
			w->up.to_send = 1000;
			w->up.send_fin = true;
		}
		start(w);
		cr_assert(run_until(w, tc->client_fin_first ? up_eof : app_fin, 10 * SEC),
			  "%s: no half-close", tc->name);
		cr_assert(!pump_done(w->pump), "%s", tc->name);
		/* The other direction still carries bytes, then its own FIN. */
		if (tc->client_fin_first) {
			cr_assert(!w->app.got_fin, "%s", tc->name);
			w->up.to_send = 5000;
			w->up.send_fin = true;
		} else {
			cr_assert(!w->up.got_eof, "%s", tc->name);
			w->app.to_send = 5000;
			w->app.send_fin = true;
		}
		cr_assert(run_until(w, both_fins, 10 * SEC), "%s: second FIN", tc->name);
		cr_assert(run_until(w, pump_finished, 10 * SEC), "%s: pump not done", tc->name);
		cr_assert_eq(w->up.received, tc->client_fin_first ? 1000 : 5000, "%s", tc->name);
		cr_assert_eq(w->app.received, tc->client_fin_first ? 5000 : 1000, "%s", tc->name);
		cr_assert(!w->up.mismatch && !w->app.mismatch, "%s", tc->name);
		cr_assert_eq(pump_result(w->pump)->end, PUMP_END_FIN, "%s", tc->name);
		world_free(w);
	}
}

static bool client_stalled(struct world *w)
{
	(void)w;
	return false;	/* run for the whole limit */
}

static void slow_local_reader(unsigned flags)
{
	struct world *w = world_socketpair_flags(flags);
	int small = 16 * 1024;
	uint64_t stalled_at;

	setsockopt(w->pump_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(w->up.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	w->up.reading = false;
	w->app.to_send = 4 * MB;
	w->app.send_fin = true;
	start(w);
	run_until(w, client_stalled, 5 * SEC);
	/* The client could not push 4 MB into a reader that takes nothing... */
	stalled_at = w->app.sent;
	cr_assert_lt(stalled_at, MB, "client wrote %llu bytes", (unsigned long long)stalled_at);
	/* ...and the pump never held more than the stream window. */
	cr_assert_leq(w->max_held, WINDOW, "pump held %llu bytes",
		      (unsigned long long)w->max_held);
	cr_assert_gt(w->delivered, 0);
	/* Five more seconds change nothing: the sender is stopped, not slowed. */
	run_until(w, client_stalled, 5 * SEC);
	cr_assert_eq(w->app.sent, stalled_at);
	/* The reader wakes: everything arrives, in order. */
	w->up.reading = true;
	cr_assert(run_until(w, up_eof, 60 * SEC), "upstream got %llu",
		  (unsigned long long)w->up.received);
	cr_assert_eq(w->up.received, 4 * MB);
	cr_assert(!w->up.mismatch);
	world_free(w);
}

Test(pump, slow_local_reader_stops_the_sender_at_the_window)
{
	for (size_t m = 0; m < sizeof(write_modes) / sizeof(write_modes[0]); m++)
		slow_local_reader(write_modes[m]);
}

static bool delivered_3000_and_fin(struct world *w)
{
	return w->delivered == 3000 && w->peer_fin;
}

/*
 * PUMP_DEFER_WRITES: what the stream delivered (three datagrams and the
 * FIN) waits in the pump, asking for no EPOLLOUT, until pump_flush(); then
 * all of it goes out and the upstream sees EOF.
 */
Test(pump, deferred_writes_wait_for_the_flush)
{
	struct world *w = world_socketpair_flags(PUMP_DEFER_WRITES);
	uint8_t probe[16];

	w->manual_flush = true;
	w->app.to_send = 3000;
	w->app.send_fin = true;
	start(w);
	cr_assert(run_until(w, delivered_3000_and_fin, 5 * SEC), "delivered %llu",
		  (unsigned long long)w->delivered);
	cr_assert_eq(recv(w->up.fd, probe, sizeof(probe), MSG_DONTWAIT), -1,
		     "bytes reached the upstream before the flush");
	cr_assert_eq(errno, EAGAIN);
	cr_assert_eq(pump_wants_wfd(w->pump), 0, "deferred bytes are not a reason for EPOLLOUT");
	cr_assert_eq(pump_result(w->pump)->bytes_out, 0);
	pump_flush(w->pump, w->now);
	cr_assert_eq(pump_result(w->pump)->bytes_out, 3000);
	cr_assert(upstream_step(w));
	cr_assert_eq(w->up.received, 3000);
	cr_assert(!w->up.mismatch);
	cr_assert(w->up.got_eof, "the FIN's shutdown did not follow the flush");
	world_free(w);
}

static bool app_reset_or_closed(struct world *w)
{
	return w->pump && pump_done(w->pump);
}

Test(pump, peer_reset_ends_the_pump_with_its_code)
{
	struct world *w = world_socketpair();

	w->app.to_send = 3000;
	start(w);
	cr_assert(run_until(w, up_eof, 2 * SEC) == false);
	cr_assert_eq(w->up.received, 3000);
	cr_assert_eq(quic_stream_reset(w->app.s, QUIC_APP_CANCELLED, w->now), 0);
	cr_assert(run_until(w, app_reset_or_closed, 10 * SEC));
	cr_assert_eq(pump_result(w->pump)->end, PUMP_END_RESET);
	cr_assert_eq(pump_result(w->pump)->code, QUIC_APP_CANCELLED);
	cr_assert_eq(pump_result(w->pump)->bytes_out, 3000);
	cr_assert_eq(pump_wants_rfd(w->pump) | pump_wants_wfd(w->pump), 0);
	/* Destroying it closes the socket: the upstream sees the end. */
	pump_destroy(w->pump);
	w->pump = NULL;
	w->pump_fd = w->pump_wfd = -1;
	cr_assert(run_until(w, up_eof, 2 * SEC));
	world_free(w);
}

Test(pump, abort_resets_the_stream_for_the_peer)
{
	struct world *w = world_socketpair();

	w->app.to_send = 100;
	start(w);
	run_until(w, up_eof, 1 * SEC);
	cr_assert_not_null(w->pump);
	pump_abort_at(w->pump, QUIC_APP_SHUTDOWN, w->now);
	cr_assert(run_until(w, pump_finished, 10 * SEC));
	cr_assert(w->app.reset_seen);
	cr_assert_eq(w->app.reset_code, QUIC_APP_SHUTDOWN);
	cr_assert_eq(pump_result(w->pump)->end, PUMP_END_ABORTED);
	world_free(w);
}

/* A TCP socket whose non-blocking connect() goes to a loopback port nobody listens on. */
static int refused_connect(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	close(l);	/* the port is now closed: connect() is refused */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		cr_assert(errno == EINPROGRESS || errno == ECONNREFUSED, "%s", strerror(errno));
	return fd;
}

static bool app_has_3000(struct world *w)
{
	return w->app.received == 3000;
}

static bool app_reset(struct world *w)
{
	return w->app.reset_seen;
}

Test(pump, refused_connect_is_local_error_and_upstream_refused_at_the_peer)
{
	int fd = refused_connect();
	struct world *w = world_new(fd, fd, PUMP_CONNECTING);

	w->app.to_send = 500;	/* waits, unconsumed, while the connect runs */
	start(w);
	cr_assert(run_until(w, app_reset, 10 * SEC), "no reset at the client");
	cr_assert_eq(w->app.reset_code, QUIC_APP_UPSTREAM_REFUSED);
	cr_assert(run_until(w, pump_finished, 10 * SEC));
	cr_assert_eq(pump_result(w->pump)->end, PUMP_END_LOCAL_ERROR);
	cr_assert_eq(pump_result(w->pump)->err, ECONNREFUSED);
	cr_assert(pump_result(w->pump)->connect_failed);
	cr_assert_eq(pump_result(w->pump)->bytes_out, 0);
	world_free(w);
}

static bool up_has_500(struct world *w)
{
	return w->up.received == 500;
}

Test(pump, bytes_wait_for_the_connect_then_flow)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), fd, up;
	struct world *w;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	cr_assert_eq(listen(l, 1), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		cr_assert_eq(errno, EINPROGRESS);
	w = world_new(fd, fd, PUMP_CONNECTING);
	w->app.to_send = 500;
	w->app.send_fin = true;
	start(w);
	up = accept(l, NULL, NULL);
	cr_assert_geq(up, 0);
	set_nonblock(up);
	w->up.fd = up;
	w->up.to_send = 700;
	w->up.send_fin = true;
	cr_assert(run_until(w, up_has_500, 10 * SEC));
	cr_assert(run_until(w, pump_finished, 10 * SEC));
	cr_assert_eq(w->app.received, 700);
	cr_assert(!w->app.mismatch && !w->up.mismatch);
	cr_assert_eq(pump_result(w->pump)->end, PUMP_END_FIN);
	close(l);
	world_free(w);
}

/* A pipe pair (a stdio child): the peer's FIN closes the write end, so the reader sees EOF. */
Test(pump, pipe_write_end_closes_on_peer_fin)
{
	int to_child[2], from_child[2];
	struct world *w;

	cr_assert_eq(pipe2(to_child, O_NONBLOCK | O_CLOEXEC), 0);
	cr_assert_eq(pipe2(from_child, O_NONBLOCK | O_CLOEXEC), 0);
	w = world_new(from_child[0], to_child[1], 0);
	w->up.fd = to_child[0];
	w->up.wfd = from_child[1];
	w->app.to_send = 2000;
	w->app.send_fin = true;
	w->up.to_send = 3000;
	start(w);
	cr_assert(run_until(w, up_eof, 10 * SEC), "the child never saw EOF");
	cr_assert_eq(w->up.received, 2000);
	cr_assert_lt(pump_wfd(w->pump), 0, "the pump still holds the pipe's write end");
	/* The child answers and exits (closes its stdout): EOF → FIN at the client. */
	cr_assert(run_until(w, app_has_3000, 10 * SEC));
	close(w->up.wfd);
	w->up.wfd = -1;
	cr_assert(run_until(w, pump_finished, 10 * SEC));
	cr_assert(w->app.got_fin);
	cr_assert(!w->app.mismatch && !w->up.mismatch);
	cr_assert_eq(pump_result(w->pump)->end, PUMP_END_FIN);
	world_free(w);
}

static bool pump_is_done(struct world *w)
{
	return w->pump && pump_done(w->pump);
}

/* The connection ends under the stream: lost mid-way, or right after both FINs. */
struct gone_case {
	const char *name;
	bool both_fins;
	enum pump_end want;
};

static const struct gone_case gone_cases[] = {
	{ "closed mid-stream", false, PUMP_END_CONN_GONE },
	{ "closed by the peer as soon as it had our FIN", true, PUMP_END_FIN },
};

Test(pump, connection_end_is_conn_gone_unless_both_fins_passed)
{
	for (size_t i = 0; i < sizeof(gone_cases) / sizeof(gone_cases[0]); i++) {
		const struct gone_case *tc = &gone_cases[i];
		struct world *w = world_socketpair();

		w->app.to_send = 1000;
		w->up.to_send = 2000;
		if (tc->both_fins) {
			w->app.send_fin = w->up.send_fin = true;
			w->app.close_on_fin = true;
		}
		start(w);
		if (!tc->both_fins) {
			cr_assert(!run_until(w, up_eof, 2 * SEC), "%s", tc->name);
			cr_assert_eq(w->up.received, 1000, "%s", tc->name);
			cr_assert_eq(quic_conn_close(w->client.q, QUIC_APP_NO_ERROR, "bye", w->now),
				     0);
		}
		cr_assert(run_until(w, pump_is_done, 10 * SEC), "%s: pump not done", tc->name);
		cr_assert_eq(pump_result(w->pump)->end, tc->want, "%s: %s", tc->name,
			     pump_end_name(pump_result(w->pump)->end));
		cr_assert_eq(w->app.received, 2000, "%s", tc->name);
		world_free(w);
	}
}
