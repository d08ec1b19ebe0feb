/*
 * connector_local.c — postern-connect's local side (connector_internal.h):
 * a TCP listener per `listen` entry, or stdin/stdout for --stdio; each local
 * connection becomes one QUIC stream to its route (protocol.md §10.4),
 * pumped both ways by pump.h.
 *
 * A client's life:
 *	accepted ──▶ pending (FIFO, at most PENDING_MAX, PENDING_TIMEOUT_NS)
 *	pending ──(QUIC connected, stream credit)──▶ quic_stream_open ──▶ pumping
 *	pumping ──QUIC_EV_STREAM_CLOSED──▶ flushing (what the stream delivered goes out)
 *	        ──pump_done()──▶ swept: one log line, freed
 * A pending client waits while the E2E connection is being made or resumed;
 * its socket is not read, so its bytes wait in the kernel.
 */
#define _GNU_SOURCE	/* accept4 */

#include "endpoint/connector_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "endpoint/pump.h"
#include "endpoint/udp.h"

#define PENDING_TIMEOUT_NS (30 * QUIC_NS_PER_S)

enum {
	PENDING_MAX = 256,	/* local connections waiting for a stream */
	ACCEPT_BATCH = 64,	/* accepts per readiness, so a flood cannot starve the loop */
	LISTEN_BACKLOG = 128,
};

struct client {
	struct connector *cn;
	struct client *prev, *next;	/* cn->clients */
	struct client *pend_next;	/* cn->pend_head FIFO */
	bool pending, stream_gone, stdio;
	int rfd, wfd;			/* owned until the pump takes them */
	struct quic_stream *s;		/* NULL once closed */
	struct pump *p;
	char route[QUIC_ROUTE_MAX + 1];
	char peer[UDP_ADDR_TEXT_MAX + 1];
	uint64_t num, since;
	struct watch wr, ww;
	uint32_t reg_r, reg_w;		/* events registered with epoll */
	bool in_r, in_w;		/* registered at all */
	bool poll_r, poll_w;		/* epoll refuses the fd (a regular file): always ready */
};

/* §10.4 application error codes, for the log. */
static const char *code_reason(uint64_t code)
{
	switch (code) {
	case QUIC_APP_NO_ERROR:
		return "no error";
	case QUIC_APP_UNKNOWN_ROUTE:
		return "unknown route";
	case QUIC_APP_UPSTREAM_REFUSED:
		return "upstream refused";
	case QUIC_APP_UPSTREAM_NOT_ALLOWED:
		return "upstream not allowed";
	case QUIC_APP_SHUTDOWN:
		return "shutting down";
	case QUIC_APP_BAD_HEADER:
		return "malformed stream header";
	case QUIC_APP_CANCELLED:
		return "cancelled";
	}
	return "unknown code";
}

/* ---- clients ---- */

static struct client *client_new(struct connector *cn, int rfd, int wfd, const char *route,
				 const char *peer, uint64_t now)
{
	struct client *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	cl->cn = cn;
	cl->rfd = rfd;
	cl->wfd = wfd;
	snprintf(cl->route, sizeof(cl->route), "%s", route);
	snprintf(cl->peer, sizeof(cl->peer), "%s", peer);
	cl->num = ++cn->next_client;
	cl->since = now;
	cl->wr = (struct watch){ .kind = WATCH_CLIENT_R, .obj = cl };
	cl->ww = (struct watch){ .kind = WATCH_CLIENT_W, .obj = cl };
	cl->next = cn->clients;
	if (cn->clients)
		cn->clients->prev = cl;
	cn->clients = cl;
	cl->pending = true;
	if (cn->pend_tail)
		cn->pend_tail->pend_next = cl;
	else
		cn->pend_head = cl;
	cn->pend_tail = cl;
	cn->n_pending++;
	return cl;
}

static struct client *pend_pop(struct connector *cn)
{
	struct client *cl = cn->pend_head;

	if (!cl)
		return NULL;
	cn->pend_head = cl->pend_next;
	if (!cn->pend_head)
		cn->pend_tail = NULL;
	cl->pend_next = NULL;
	cl->pending = false;
	cn->n_pending--;
	return cl;
}

static void watch_del(struct connector *cn, int fd, bool *in)
{
	if (*in)
		(void)epoll_ctl(cn->ep, EPOLL_CTL_DEL, fd, NULL);
	*in = false;
}

/* Unlink and free; the fds are closed by the pump, or here if there is none. */
static void client_free(struct client *cl)
{
	struct connector *cn = cl->cn;

	/* A pipe's wfd the pump closed left epoll with it (pump.h). */
	if (cl->p && pump_wfd(cl->p) < 0)
		cl->in_w = false;
	watch_del(cn, cl->rfd, &cl->in_r);
	if (cl->wfd != cl->rfd)
		watch_del(cn, cl->wfd, &cl->in_w);
	if (cl->p) {
		pump_destroy(cl->p);
	} else {
		if (cl->rfd >= 0)
			close(cl->rfd);
		if (cl->wfd >= 0 && cl->wfd != cl->rfd)
			close(cl->wfd);
	}
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		cn->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	if (cl->stdio)
		cn->stdio_done = true;
	free(cl);
}

/*
 * Why a stream waited in vain. With no relay up, the gateway was never the
 * question: a relay that refuses an INIT answers nothing (protocol.md §9), so
 * say what to check before relay_unanswered would (after a whole series).
 */
static const char *no_gateway_why(const struct connector *cn)
{
	for (unsigned i = 0; i < hop_link_relay_count(cn->link); i++)
		if (hop_link_is_up(cn->link, i))
			return "no connection to the gateway";
	return "no relay answered a handshake: check that it runs and is reachable over UDP, "
	       "its public_key and that it accepts this hop_suite and grant";
}

/* A client that never got a stream (@why) is closed at once. */
static void client_refuse(struct client *cl, const char *why, uint64_t now)
{
	struct connector *cn = cl->cn;

	cn->stats.refused++;
	log_warn("event=stream_refused stream=%llu route=%s client=%s why=\"%s\" waited_ms=%llu",
		 (unsigned long long)cl->num, cl->route, cl->peer, why,
		 (unsigned long long)((now - cl->since) / QUIC_NS_PER_MS));
	if (cl->stdio)
		cn->stdio_failed = true;
	client_free(cl);
}

/* Register @fd for @want (EPOLLIN/EPOLLOUT), or remove it when nothing is wanted. */
static void sync_fd(struct connector *cn, int fd, struct watch *w, uint32_t want, uint32_t *reg,
		    bool *in, bool *poll)
{
	struct epoll_event ev = { .events = want, .data.ptr = w };

	if (*poll)
		return;
	if (!want) {
		/* Level-triggered HUP/ERR would wake the loop for a pump that wants nothing. */
		watch_del(cn, fd, in);
		*reg = 0;
		return;
	}
	if (*in && want == *reg)
		return;
	if (epoll_ctl(cn->ep, *in ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0) {
		*in = true;
		*reg = want;
		return;
	}
	/* EPERM: a regular file (stdin redirected from one) is always ready. */
	if (errno == EPERM)
		*poll = true;
	else
		log_warn("event=epoll_failed fd=%d error=\"%s\"", fd, strerror(errno));
}

static void client_sync(struct client *cl)
{
	struct connector *cn = cl->cn;

	if (!cl->p)
		return;
	if (pump_wfd(cl->p) < 0)
		cl->in_w = false;	/* closed by the pump, and out of epoll with it */
	if (cl->rfd == cl->wfd) {
		sync_fd(cn, cl->rfd, &cl->wr, pump_wants_rfd(cl->p) | pump_wants_wfd(cl->p),
			&cl->reg_r, &cl->in_r, &cl->poll_r);
		return;
	}
	sync_fd(cn, cl->rfd, &cl->wr, pump_wants_rfd(cl->p), &cl->reg_r, &cl->in_r, &cl->poll_r);
	sync_fd(cn, cl->wfd, &cl->ww, pump_wants_wfd(cl->p), &cl->reg_w, &cl->in_w, &cl->poll_w);
}

/* Fds epoll cannot watch: serve what the pump wants every round. */
static bool client_poll(struct client *cl, uint64_t now)
{
	bool busy = false;
	uint32_t want;

	if (!cl->p)
		return false;
	if (cl->poll_r && (want = pump_wants_rfd(cl->p))) {
		pump_fd_event(cl->p, cl->rfd, want, now);
		busy = true;
	}
	if (cl->poll_w && (want = pump_wants_wfd(cl->p))) {
		pump_fd_event(cl->p, cl->wfd, want, now);
		busy = true;
	}
	return busy;
}

/* A waiting client gets its stream and pump. @return -EAGAIN to wait for credit. */
static int client_start(struct connector *cn, struct client *cl, uint64_t now)
{
	struct quic_stream *s;
	int ret;

	ret = quic_stream_open(cn->q, cl->route, cl, &s, now);
	if (ret < 0)
		return ret;
	/* The stream's bytes of a turn leave in one write (connector_local_step). */
	ret = pump_create(&cl->p, s, cl->rfd, cl->wfd, PUMP_DEFER_WRITES);
	if (ret < 0) {
		quic_stream_set_user(s, NULL);
		(void)quic_stream_reset(s, QUIC_APP_CANCELLED, now);
		return ret;
	}
	cl->s = s;
	cn->n_streams++;
	cn->stats.streams++;
	log_debug("event=stream_open stream=%llu route=%s client=%s quic_stream=%lld "
		  "waited_ms=%llu", (unsigned long long)cl->num, cl->route, cl->peer,
		  (long long)quic_stream_id(s),
		  (unsigned long long)((now - cl->since) / QUIC_NS_PER_MS));
	return 0;
}

static void start_pending(struct connector *cn, uint64_t now)
{
	struct client *cl;
	int ret;

	while (cn->pend_head && cn->q && quic_conn_is_connected(cn->q) && !cn->stopping) {
		cl = cn->pend_head;
		ret = client_start(cn, cl, now);
		if (ret == -EAGAIN)
			break;	/* the gateway's stream limit: QUIC_EV_STREAMS_AVAILABLE */
		pend_pop(cn);
		if (ret < 0)
			client_refuse(cl, strerror(-ret), now);
	}
	while (cn->pend_head && now - cn->pend_head->since >= PENDING_TIMEOUT_NS)
		client_refuse(pend_pop(cn), no_gateway_why(cn), now);
}

/* One line per stream end, with the bytes each way (docs/connector.md "Logs"). */
static void log_end(const struct client *cl, uint64_t now)
{
	const struct pump_result *r = pump_result(cl->p);
	char extra[160] = "";
	enum log_level lvl = LOG_LEVEL_INFO;

	if (r->end == PUMP_END_RESET) {
		snprintf(extra, sizeof(extra), " code=0x%llx reason=\"%s\"",
			 (unsigned long long)r->code, code_reason(r->code));
		lvl = LOG_LEVEL_WARN;
	} else if (r->end == PUMP_END_LOCAL_ERROR) {
		snprintf(extra, sizeof(extra), " error=\"%s\"", strerror(r->err));
		lvl = LOG_LEVEL_WARN;
	} else if (r->end != PUMP_END_FIN) {
		lvl = LOG_LEVEL_WARN;
	}
	log_msg(lvl, "event=stream_end stream=%llu route=%s client=%s end=%s bytes_up=%llu "
		"bytes_down=%llu ms=%llu%s", (unsigned long long)cl->num, cl->route, cl->peer,
		pump_end_name(r->end), (unsigned long long)r->bytes_in,
		(unsigned long long)r->bytes_out,
		(unsigned long long)((now - cl->since) / QUIC_NS_PER_MS), extra);
}

void connector_sweep(struct connector *cn)
{
	struct client *cl = cn->clients, *next;
	uint64_t now = connector_now();

	for (; cl; cl = next) {
		next = cl->next;
		if (!cl->p || !pump_done(cl->p))
			continue;
		log_end(cl, now);
		if (cl->stdio && pump_result(cl->p)->end != PUMP_END_FIN)
			cn->stdio_failed = true;
		client_free(cl);
	}
}

void connector_local_step(struct connector *cn, uint64_t now)
{
	struct client *cl;

	start_pending(cn, now);
	for (cl = cn->clients; cl; cl = cl->next) {
		client_poll(cl, now);
		pump_flush(cl->p, now);
	}
	connector_sweep(cn);
	for (cl = cn->clients; cl; cl = cl->next)
		client_sync(cl);
	/* --stdio: the one stream has ended; so does the connector. */
	if (cn->cfg->stdio[0] && cn->stdio_done && !cn->stopping) {
		cn->stopping = true;
		cn->stop_deadline = now;
	}
}

uint64_t connector_local_deadline(const struct connector *cn)
{
	const struct client *cl;
	uint64_t t = QUIC_NEVER;

	for (cl = cn->clients; cl; cl = cl->next) {
		if (cl->p && ((cl->poll_r && pump_wants_rfd(cl->p)) ||
					     (cl->poll_w && pump_wants_wfd(cl->p))))
			return 0;
	}
	if (cn->pend_head)
		t = cn->pend_head->since + PENDING_TIMEOUT_NS;
	return t;
}

/* ---- QUIC's stream callbacks ---- */

void connector_stream_event(struct connector *cn, const struct quic_event *ev)
{
	struct client *cl = ev->stream ? quic_stream_user(ev->stream) : NULL;

	if (!cl || !cl->p || cl->stream_gone)
		return;
	switch (ev->type) {
	case QUIC_EV_STREAM_RESET:
		pump_stream_reset(cl->p, ev->code);
		break;
	case QUIC_EV_STREAM_WRITABLE:
		pump_stream_writable(cl->p, cn->now);
		break;
	case QUIC_EV_STREAM_CLOSED:
		/* The handle is freed when this returns (quic.h). */
		pump_stream_closed(cl->p, ev->error != QUIC_ERR_NONE);
		quic_stream_set_user(ev->stream, NULL);
		cl->s = NULL;
		cl->stream_gone = true;
		cn->n_streams--;
		break;
	default:
		break;
	}
}

void connector_stream_data(struct connector *cn, struct quic_stream *s, const uint8_t *data,
			   size_t len, bool fin)
{
	struct client *cl = quic_stream_user(s);

	if (cl && cl->p && !cl->stream_gone)
		pump_stream_data(cl->p, data, len, fin, cn->now);
}

/* ---- listeners ---- */

static void on_accept(struct connector *cn, struct listener *l, uint64_t now)
{
	struct sockaddr_storage ss;
	char peer[UDP_ADDR_TEXT_MAX + 1];
	socklen_t len;
	int fd, one = 1;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("event=accept_failed route=%s address=%s error=\"%s\"",
					 l->cfg->route, l->cfg->address, strerror(errno));
			return;
		}
		/* MCP is request/response: small writes must not wait for Nagle. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (udp_addr_format((struct sockaddr *)&ss, len, peer, sizeof(peer)) < 0)
			snprintf(peer, sizeof(peer), "?");
		if (cn->n_pending >= PENDING_MAX) {
			cn->stats.refused++;
			log_warn("event=stream_refused route=%s client=%s why=\"%u connections "
				 "already wait for the gateway\"", l->cfg->route, peer,
				 PENDING_MAX);
			close(fd);
			continue;
		}
		if (!client_new(cn, fd, fd, l->cfg->route, peer, now)) {
			close(fd);
			return;
		}
	}
}

void connector_local_event(struct connector *cn, struct watch *w, uint32_t events,
			   uint64_t now)
{
	struct client *cl;

	switch (w->kind) {
	case WATCH_LISTENER:
		on_accept(cn, w->obj, now);
		return;
	case WATCH_CLIENT_R:
	case WATCH_CLIENT_W:
		cl = w->obj;
		if (!cl->p)
			return;
		pump_fd_event(cl->p, w->kind == WATCH_CLIENT_R ? cl->rfd : cl->wfd, events, now);
		return;
	default:
		return;
	}
}

static void close_listeners(struct connector *cn)
{
	for (unsigned i = 0; i < cn->n_listeners; i++) {
		if (cn->listeners[i].fd >= 0)
			close(cn->listeners[i].fd);
		cn->listeners[i].fd = -1;
	}
}

void connector_local_stop(struct connector *cn)
{
	uint64_t now = connector_now();

	close_listeners(cn);
	while (cn->pend_head)
		client_refuse(pend_pop(cn), "shutting down", now);
}

void connector_local_abort(struct connector *cn, uint64_t now)
{
	for (struct client *cl = cn->clients; cl; cl = cl->next)
		if (cl->p && !cl->stream_gone)
			pump_abort_at(cl->p, QUIC_APP_SHUTDOWN, now);
}

static int listen_on(struct connector *cn, const struct conn_listen *lc, char *err,
		     size_t errlen)
{
	struct listener *l = &cn->listeners[cn->n_listeners];
	int fd, one = 1, ret;

	fd = socket(lc->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::]:P means IPv6 only; 0.0.0.0:P is a listen entry of its own. */
	if (lc->addr.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&lc->addr, lc->addr_len) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	*l = (struct listener){ .fd = fd, .cfg = lc };
	l->w = (struct watch){ .kind = WATCH_LISTENER, .obj = l };
	cn->n_listeners++;
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->w };

		if (epoll_ctl(cn->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			goto fail_registered;
	}
	log_info("event=listening route=%s address=%s", lc->route, lc->address);
	return 0;

fail:
	ret = -errno;
	snprintf(err, errlen, "%s: listen '%s=%s': %s", lc->where, lc->route, lc->address,
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
fail_registered:
	ret = -errno;
	snprintf(err, errlen, "listen '%s=%s': epoll: %s", lc->route, lc->address,
		 strerror(errno));
	return ret;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int connector_local_create(struct connector *cn, char *err, size_t errlen)
{
	const struct conn_config *cfg = cn->cfg;
	struct client *cl;
	int ret;

	if (cfg->stdio[0]) {
		/* Our own stdin/stdout are the stream; the log stays on stderr. */
		if (set_nonblock(STDIN_FILENO) < 0 || set_nonblock(STDOUT_FILENO) < 0) {
			snprintf(err, errlen, "stdio: stdin/stdout: %s", strerror(errno));
			return -errno;
		}
		cl = client_new(cn, STDIN_FILENO, STDOUT_FILENO, cfg->stdio, "stdio",
				connector_now());
		if (!cl) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		cl->stdio = true;
		return 0;
	}
	for (unsigned i = 0; i < cfg->n_listen; i++) {
		ret = listen_on(cn, &cfg->listen[i], err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

void connector_local_destroy(struct connector *cn)
{
	close_listeners(cn);
	while (cn->pend_head)
		pend_pop(cn);
	while (cn->clients)
		client_free(cn->clients);
}
