/*
 * control.c — the control plane's io_uring loop (control.h).
 *
 * This is the only file of relay/ that touches sockets: the relay's slow path
 * talks to operators here and to the core only through struct control_ops.
 * The protocols themselves (ctlproto.c, http.c) do no I/O.
 *
 * One ring, on the caller's thread. Requests in flight (user_data = kind,
 * connection slot, generation):
 *   ACCEPT_CTL, ACCEPT_HTTP  multishot accept on each listener
 *   RECV, SEND               at most one per connection, each linked to a
 *   LINK_TIMEOUT             timeout: min(idle_ms, time left of request_ms)
 *   TICK                     a relative timeout, re-armed after each expiry
 *   STOP                     read of an eventfd written by control_stop()
 *   SIGNAL                   read of the caller's signalfd
 *   CANCEL                   cancel-everything, on the way out
 *
 * A connection's states and what moves it:
 *
 *   READING --line/header block complete--> WRITING --response sent--> READING
 *      |           (control socket only; HTTP closes after its response)    |
 *      |                                                  oversize request  |
 *      |                                                        v           |
 *      |                          LINGER (SHUT_WR, read and discard, <= 1 s)|
 *      |                                                        |           |
 *      +--EOF, error, timeout------------------------------> CLOSED <-------+
 *
 * LINGER exists because closing a socket with unread input makes TCP send a
 * reset that can destroy the error response before the peer reads it
 * (RFC 9112 §9.6 asks servers to close in stages for the same reason).
 *
 * A slot is reused only when every request naming it has completed
 * (conn.pending == 0), so a late completion can never reach a newer client.
 * The loop phases: submit and wait; dispatch every completion; repeat until a
 * stop, then cancel everything and reap until nothing is in flight.
 */
#define _GNU_SOURCE	/* struct ucred, SO_PEERGROUPS, sigabbrev_np */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "relay/control.h"
#include "relay/ctlproto.h"
#include "relay/http.h"
#include "relay/log.h"

enum op_kind {
	OP_ACCEPT_CTL = 1,
	OP_ACCEPT_HTTP,
	OP_RECV,
	OP_SEND,
	OP_LINK_TIMEOUT,
	OP_TICK,
	OP_STOP,
	OP_SIGNAL,
	OP_CANCEL,
};

enum conn_state {
	CONN_FREE,
	CONN_READING,
	CONN_WRITING,
	CONN_LINGER,		/* error sent, write side shut: discarding input */
	CONN_CLOSED,		/* fd closed, waiting for pending completions */
};

enum {
	LISTEN_BACKLOG = 128,
	PEER_GROUPS_STACK = 64,
	REFUSAL_LOG_INTERVAL_NS = 1000000000,
	LINGER_MS = 1000,
	PEER_TEXT_MAX = 48,
};

struct conn {
	int fd;
	bool http;
	enum conn_state state;
	uint32_t gen;
	unsigned pending;		/* our requests naming this slot, not yet completed */
	char *rbuf;
	size_t rlen, rcap;
	char *wbuf;
	size_t wlen, woff;
	bool close_after_write;
	bool linger;			/* after the response, LINGER instead of closing */
	bool eof;
	uint64_t deadline_ns;		/* end of the current request's request_ms */
	struct __kernel_timespec ts;	/* the linked timeout of the op in flight */
	char peer[PEER_TEXT_MAX];	/* "pid=42 uid=0" (control) or "http" */
};

struct control {
	struct io_uring ring;
	struct control_ops ops;
	struct control_params p;
	char *socket_path;
	dev_t sock_dev;
	ino_t sock_ino;
	uid_t owner_uid;
	int ctl_fd, http_fd, stop_fd;
	uint16_t http_port;
	struct conn *conns;
	unsigned inflight;		/* requests submitted or queued, not yet completed */
	bool stopping, ran;
	bool accept_paused;		/* out of fds: re-arm accepts on the next tick */
	bool ctl_accepting, http_accepting;
	uint64_t stop_buf;
	struct signalfd_siginfo sig_buf;
	struct __kernel_timespec tick_ts;
	struct control_counters counters;
	uint64_t last_refusal_log_ns;
	unsigned refusals_unlogged;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t make_data(enum op_kind kind, unsigned slot, uint32_t gen)
{
	return (uint64_t)kind | (uint64_t)slot << 8 | (uint64_t)gen << 32;
}

static enum op_kind data_kind(uint64_t d)
{
	return (enum op_kind)(d & 0xff);
}

static unsigned data_slot(uint64_t d)
{
	return (unsigned)(d >> 8) & 0xffffff;
}

/* strerrorname_np() is NULL for a number it does not know; never print NULL. */
static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "?";
}

static const char *listener_name(const struct conn *k)
{
	return k->http ? "http" : "control";
}

/*
 * An SQE with room for @need in the submission queue (a linked pair must sit
 * side by side). The ring holds twice max_conns plus the fixed requests, so
 * submitting a full queue always frees space.
 */
static struct io_uring_sqe *get_sqe(struct control *c, unsigned need)
{
	struct io_uring_sqe *sqe;

	if (io_uring_sq_space_left(&c->ring) < need)
		io_uring_submit(&c->ring);
	if (io_uring_sq_space_left(&c->ring) < need)
		return NULL;
	sqe = io_uring_get_sqe(&c->ring);
	if (sqe)
		c->inflight++;
	return sqe;
}

/* --- fixed requests --------------------------------------------------------------- */

static int arm_accept(struct control *c, bool http)
{
	int fd = http ? c->http_fd : c->ctl_fd;
	struct io_uring_sqe *sqe;

	if (fd < 0 || (http ? c->http_accepting : c->ctl_accepting))
		return 0;
	sqe = get_sqe(c, 1);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, make_data(http ? OP_ACCEPT_HTTP : OP_ACCEPT_CTL, 0, 0));
	if (http)
		c->http_accepting = true;
	else
		c->ctl_accepting = true;
	return 0;
}

/* Always armed: besides the caller's hook it resumes accepting after EMFILE. */
static int arm_tick(struct control *c)
{
	struct io_uring_sqe *sqe = get_sqe(c, 1);

	if (!sqe)
		return -EBUSY;
	c->tick_ts.tv_sec = c->p.tick_ms / 1000;
	c->tick_ts.tv_nsec = (long long)(c->p.tick_ms % 1000) * 1000000;
	io_uring_prep_timeout(sqe, &c->tick_ts, 0, 0);
	io_uring_sqe_set_data64(sqe, make_data(OP_TICK, 0, 0));
	return 0;
}

static int arm_stop(struct control *c)
{
	struct io_uring_sqe *sqe = get_sqe(c, 1);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, c->stop_fd, &c->stop_buf, sizeof(c->stop_buf), 0);
	io_uring_sqe_set_data64(sqe, make_data(OP_STOP, 0, 0));
	return 0;
}

static int arm_signal(struct control *c)
{
	struct io_uring_sqe *sqe;

	if (c->p.signal_fd < 0)
		return 0;
	sqe = get_sqe(c, 1);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, c->p.signal_fd, &c->sig_buf, sizeof(c->sig_buf), 0);
	io_uring_sqe_set_data64(sqe, make_data(OP_SIGNAL, 0, 0));
	return 0;
}

/* --- connections ------------------------------------------------------------------ */

static void conn_close(struct control *c, struct conn *k)
{
	if (k->state == CONN_FREE || k->state == CONN_CLOSED)
		return;
	/*
	 * A RECV or SEND may still be in flight only when the loop is being torn
	 * down after a ring failure; everywhere else the op that reached here has
	 * completed and at most its linked timeout is pending, which reads no buffer.
	 */
	close(k->fd);
	k->fd = -1;
	free(k->rbuf);
	free(k->wbuf);
	k->rbuf = k->wbuf = NULL;
	k->state = CONN_CLOSED;
	c->counters.conns--;
	if (!k->pending)
		k->state = CONN_FREE;
}

/*
 * Tell a peer cut off halfway through a request why (best effort: one
 * non-blocking send of a short answer, on a socket with nothing queued), and
 * close. An idle peer between requests is closed without a word.
 */
static void conn_timeout(struct control *c, struct conn *k, const char *why)
{
	char *resp = NULL;
	size_t len = 0;

	if (k->state == CONN_READING && k->rlen) {
		if (!(k->http ? http_error(408, &resp, &len) :
		      ctlproto_error(CTLPROTO_E_TIMEOUT, "the request did not arrive in time",
				     &resp, &len)))
			(void)!send(k->fd, resp, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		free(resp);
	}
	if (k->state != CONN_LINGER) {
		c->counters.timeouts++;
		log_debug("event=control_timeout listener=%s %s reason=%s", listener_name(k),
			  k->peer, why);
	}
	conn_close(c, k);
}

/* Queue @op (RECV or SEND) on @k with its linked timeout. */
static void conn_submit(struct control *c, struct conn *k, enum op_kind op)
{
	unsigned slot = (unsigned)(k - c->conns);
	uint64_t now = now_ns(), left, ms;
	struct io_uring_sqe *sqe, *tsqe;

	if (c->stopping) {
		conn_close(c, k);
		return;
	}
	if (now >= k->deadline_ns) {
		conn_timeout(c, k, "request_time");
		return;
	}
	left = (k->deadline_ns - now + 999999) / 1000000;
	ms = left < c->p.idle_ms ? left : c->p.idle_ms;
	k->ts.tv_sec = (long long)(ms / 1000);
	k->ts.tv_nsec = (long long)(ms % 1000) * 1000000;

	sqe = get_sqe(c, 2);
	if (!sqe) {
		/* Cannot happen with the ring sized for every connection; be safe anyway. */
		log_error("event=control_error msg=\"io_uring submission queue full; closing a "
			  "client\"");
		conn_close(c, k);
		return;
	}
	if (op == OP_RECV)
		io_uring_prep_recv(sqe, k->fd, k->rbuf + k->rlen, k->rcap - k->rlen, 0);
	else
		io_uring_prep_send(sqe, k->fd, k->wbuf + k->woff, k->wlen - k->woff,
				   MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, make_data(op, slot, k->gen));
	sqe->flags |= IOSQE_IO_LINK;
	tsqe = get_sqe(c, 1);	/* never NULL: get_sqe(c, 2) left room for it */
	io_uring_prep_link_timeout(tsqe, &k->ts, 0);
	io_uring_sqe_set_data64(tsqe, make_data(OP_LINK_TIMEOUT, slot, k->gen));
	k->pending += 2;
}

/* Take ownership of @resp and start sending it. */
static void conn_respond(struct control *c, struct conn *k, char *resp, size_t len, bool close)
{
	free(k->wbuf);
	k->wbuf = resp;
	k->wlen = len;
	k->woff = 0;
	k->close_after_write = close;
	k->state = CONN_WRITING;
	conn_submit(c, k, OP_SEND);
}

static void conn_respond_or_close(struct control *c, struct conn *k, int ret, char *resp,
				  size_t len, bool close)
{
	if (ret) {
		log_error("event=control_error msg=\"out of memory answering a request\"");
		conn_close(c, k);
		return;
	}
	conn_respond(c, k, resp, len, close);
}

/* The request is over the limit: say so, then LINGER (control.h). */
static void conn_too_large(struct control *c, struct conn *k)
{
	char *resp = NULL, msg[96];
	size_t len = 0;
	int ret;

	c->counters.too_large++;
	log_debug("event=control_too_large listener=%s %s limit=%d", listener_name(k), k->peer,
		  k->http ? HTTP_MAX_HEADER : CTLPROTO_MAX_REQUEST);
	snprintf(msg, sizeof(msg), "a request is at most %d bytes and ends with a newline",
		 CTLPROTO_MAX_REQUEST);
	if (k->http)
		ret = http_error(431, &resp, &len);
	else
		ret = ctlproto_error(CTLPROTO_E_TOO_LARGE, msg, &resp, &len);
	k->linger = true;
	conn_respond_or_close(c, k, ret, resp, len, true);
}

/* A control line is complete: answer it (control socket). */
static bool ctl_input(struct control *c, struct conn *k)
{
	char *nl = memchr(k->rbuf, '\n', k->rlen), *resp = NULL;
	size_t line, resp_len = 0;
	int ret;

	if (!nl && k->eof && k->rlen) {
		nl = k->rbuf + k->rlen;	/* a last line without its newline */
	} else if (!nl) {
		if (k->rlen < k->rcap)
			return false;
		conn_too_large(c, k);
		return true;
	}
	line = (size_t)(nl - k->rbuf);
	ret = ctlproto_handle(&c->ops, k->peer, k->rbuf,
			      line > 0 && k->rbuf[line - 1] == '\r' ? line - 1 : line,
			      &resp, &resp_len);
	c->counters.requests_ctl++;
	/* Keep what follows the line: a client may send several before reading. */
	line = line < k->rlen ? line + 1 : line;
	memmove(k->rbuf, k->rbuf + line, k->rlen - line);
	k->rlen -= line;
	conn_respond_or_close(c, k, ret, resp, resp_len, false);
	return true;
}

/* An HTTP header block is complete: answer it and close (HTTP). */
static bool http_input(struct control *c, struct conn *k)
{
	size_t end = http_header_end(k->rbuf, k->rlen), resp_len = 0;
	char *resp = NULL;
	int ret;

	if (!end) {
		if (k->rlen < k->rcap)
			return false;
		conn_too_large(c, k);
		return true;
	}
	c->counters.requests_http++;
	ret = http_handle(&c->ops, &c->counters, k->rbuf, end, &resp, &resp_len);
	conn_respond_or_close(c, k, ret, resp, resp_len, true);
	return true;
}

/* What the buffer holds decides the next step: answer, read more, or close. */
static void conn_input(struct control *c, struct conn *k)
{
	if (k->http ? http_input(c, k) : ctl_input(c, k))
		return;
	if (k->eof) {
		conn_close(c, k);
		return;
	}
	k->state = CONN_READING;
	conn_submit(c, k, OP_RECV);
}

static void conn_on_recv(struct control *c, struct conn *k, int res)
{
	if (res == -ECANCELED && !c->stopping) {
		conn_timeout(c, k, "idle");
		return;
	}
	if (k->state == CONN_LINGER) {
		if (res <= 0) {
			conn_close(c, k);
			return;
		}
		k->rlen = 0;	/* discard */
		conn_submit(c, k, OP_RECV);
		return;
	}
	if (res < 0 || (res == 0 && (k->http || !k->rlen))) {
		conn_close(c, k);
		return;
	}
	if (res == 0)
		k->eof = true;
	k->rlen += (size_t)res;
	conn_input(c, k);
}

static void conn_on_send(struct control *c, struct conn *k, int res)
{
	if (res <= 0) {
		if (res == -ECANCELED && !c->stopping) {
			c->counters.timeouts++;
			log_debug("event=control_timeout listener=%s %s reason=slow_reader",
				  listener_name(k), k->peer);
		}
		conn_close(c, k);
		return;
	}
	k->woff += (size_t)res;
	if (k->woff < k->wlen) {
		conn_submit(c, k, OP_SEND);
		return;
	}
	free(k->wbuf);
	k->wbuf = NULL;
	if (k->close_after_write && k->linger && !shutdown(k->fd, SHUT_WR)) {
		k->state = CONN_LINGER;
		k->rlen = 0;
		k->deadline_ns = now_ns() + (uint64_t)LINGER_MS * 1000000;
		conn_submit(c, k, OP_RECV);
		return;
	}
	if (k->close_after_write) {
		conn_close(c, k);
		return;
	}
	k->deadline_ns = now_ns() + (uint64_t)c->p.request_ms * 1000000;
	conn_input(c, k);
}

/* --- admission -------------------------------------------------------------------- */

/*
 * A canned answer on a fresh socket (its send buffer is empty, so this cannot
 * block), then a close in stages: whatever request already arrived is read
 * and dropped so that the close does not turn into a reset that destroys the
 * answer (see LINGER above; a refused peer gets no slot to linger in).
 */
static void refuse(int fd, bool http, const char *code, const char *msg)
{
	char *resp = NULL, sink[512];
	size_t len = 0;
	int ret;

	ret = http ? http_error(503, &resp, &len) : ctlproto_error(code, msg, &resp, &len);
	if (!ret && send(fd, resp, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("event=control_refuse_unsent errno=%s", errname(errno));
	free(resp);
	shutdown(fd, SHUT_WR);
	for (unsigned i = 0; i < 16 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
}

static bool in_group(int fd, gid_t gid)
{
	gid_t stack[PEER_GROUPS_STACK], *groups = stack;
	socklen_t len = sizeof(stack);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		/* ERANGE: len now says how much room the peer's groups need. */
		if (errno != ERANGE || !(groups = malloc(len)) ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
			if (groups != stack)
				free(groups);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = groups[i] == gid;
	if (groups != stack)
		free(groups);
	return found;
}

/* SO_PEERCRED: root, the relay's own uid, or the configured group (control.h). */
static bool peer_allowed(struct control *c, int fd, char peer[PEER_TEXT_MAX])
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	uint64_t now;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || len != sizeof(cr)) {
		log_warn("event=control_refused reason=no_credentials errno=%s",
			 errname(errno));
		return false;
	}
	snprintf(peer, PEER_TEXT_MAX, "pid=%d uid=%u", (int)cr.pid, (unsigned)cr.uid);
	if (cr.uid == 0 || cr.uid == c->owner_uid)
		return true;
	if (c->p.socket_gid >= 0 &&
	    (cr.gid == (gid_t)c->p.socket_gid || in_group(fd, (gid_t)c->p.socket_gid)))
		return true;
	/* A local user can connect in a loop: at most one line per second. */
	now = now_ns();
	if (!c->last_refusal_log_ns || now - c->last_refusal_log_ns >= REFUSAL_LOG_INTERVAL_NS) {
		log_warn("event=control_refused reason=peer_credentials pid=%d uid=%u gid=%u "
			 "socket=%s allowed=\"uid 0, uid %u%s\" suppressed=%u",
			 (int)cr.pid, (unsigned)cr.uid, (unsigned)cr.gid, c->socket_path,
			 (unsigned)c->owner_uid, c->p.socket_gid >= 0 ? ", the socket's group" : "",
			 c->refusals_unlogged);
		c->last_refusal_log_ns = now;
		c->refusals_unlogged = 0;
	} else {
		c->refusals_unlogged++;
	}
	return false;
}

static struct conn *conn_alloc(struct control *c)
{
	for (unsigned i = 0; i < c->p.max_conns; i++)
		if (c->conns[i].state == CONN_FREE)
			return &c->conns[i];
	return NULL;
}

static void on_accept(struct control *c, bool http, int fd)
{
	char peer[PEER_TEXT_MAX] = "http";
	struct conn *k;

	if (c->stopping) {
		close(fd);
		return;
	}
	if (!http && !peer_allowed(c, fd, peer)) {
		c->counters.refused_cred++;
		refuse(fd, false, CTLPROTO_E_FORBIDDEN,
		       "permission denied: run posternctl as root or as the relay's user");
		return;
	}
	k = conn_alloc(c);
	if (!k) {
		c->counters.refused_busy++;
		log_debug("event=control_busy listener=%s max_conns=%u", http ? "http" : "control",
			  c->p.max_conns);
		refuse(fd, http, CTLPROTO_E_BUSY, "too many control connections; try again");
		return;
	}
	k->rcap = http ? HTTP_MAX_HEADER : CTLPROTO_MAX_REQUEST + 1;
	k->rbuf = malloc(k->rcap);
	if (!k->rbuf) {
		log_error("event=control_error msg=\"out of memory accepting a client\"");
		close(fd);
		return;
	}
	k->fd = fd;
	k->http = http;
	k->gen++;
	k->rlen = k->wlen = k->woff = 0;
	k->wbuf = NULL;
	k->close_after_write = k->linger = k->eof = false;
	k->deadline_ns = now_ns() + (uint64_t)c->p.request_ms * 1000000;
	memcpy(k->peer, peer, sizeof(peer));
	k->state = CONN_READING;
	c->counters.conns++;
	if (http)
		c->counters.accepted_http++;
	else
		c->counters.accepted_ctl++;
	conn_submit(c, k, OP_RECV);
}

/* --- dispatch --------------------------------------------------------------------- */

static void on_accept_cqe(struct control *c, bool http, struct io_uring_cqe *cqe)
{
	bool more = cqe->flags & IORING_CQE_F_MORE;

	if (!more) {
		if (http)
			c->http_accepting = false;
		else
			c->ctl_accepting = false;
	}
	if (cqe->res >= 0) {
		on_accept(c, http, cqe->res);
	} else if (cqe->res == -EMFILE || cqe->res == -ENFILE || cqe->res == -ENOBUFS ||
		   cqe->res == -ENOMEM) {
		/* Re-arming now would fail again at once: wait for the next tick. */
		log_warn("event=control_accept_paused errno=%s", errname(-cqe->res));
		c->accept_paused = true;
		return;
	} else if (cqe->res != -ECANCELED) {
		log_debug("event=control_accept_failed errno=%s", errname(-cqe->res));
	}
	if (!more && !c->stopping && !c->accept_paused)
		arm_accept(c, http);
}

int control_reload(struct control *c, const char *source)
{
	char msg[256] = "";
	int ret;

	if (!c->ops.reload) {
		log_warn("event=reload source=%s result=unsupported", source);
		return -EOPNOTSUPP;
	}
	ret = c->ops.reload(c->ops.ctx, msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '"' || *p == '\n')
			*p = '\'';	/* keep the key=value line parseable */
	if (ret)
		log_error("event=reload source=%s result=failed msg=\"%s\"", source,
			  msg[0] ? msg : strerror(-ret));
	else
		log_info("event=reload source=%s result=ok%s%s%s", source, msg[0] ? " msg=\"" : "",
			 msg, msg[0] ? "\"" : "");
	return ret;
}

static void on_signal(struct control *c, int res)
{
	int signo;

	if (res != (int)sizeof(c->sig_buf)) {
		log_error("event=control_error msg=\"reading the signalfd failed: %s\"",
			  res < 0 ? strerror(-res) : "short read");
		return;
	}
	signo = (int)c->sig_buf.ssi_signo;
	if (c->p.on_signal) {
		c->p.on_signal(c->p.signal_ctx, c, signo);
	} else if (signo == SIGHUP) {
		control_reload(c, "SIGHUP");
	} else {
		log_info("event=signal signal=SIG%s action=stop",
			 sigabbrev_np(signo) ? sigabbrev_np(signo) : "?");
		c->stopping = true;
	}
	if (!c->stopping)
		arm_signal(c);
}

static void on_tick(struct control *c)
{
	if (c->stopping)
		return;
	if (c->accept_paused) {
		c->accept_paused = false;
		arm_accept(c, false);
		arm_accept(c, true);
	}
	arm_tick(c);
	if (c->p.tick)
		c->p.tick(c->p.tick_ctx, c);
}

static void dispatch(struct control *c, struct io_uring_cqe *cqe)
{
	uint64_t d = io_uring_cqe_get_data64(cqe);
	enum op_kind kind = data_kind(d);
	struct conn *k = NULL;

	/* A multishot accept stays in flight while the kernel says "more". */
	if (!((kind == OP_ACCEPT_CTL || kind == OP_ACCEPT_HTTP) &&
	      (cqe->flags & IORING_CQE_F_MORE)))
		c->inflight--;
	if (kind == OP_RECV || kind == OP_SEND || kind == OP_LINK_TIMEOUT) {
		k = &c->conns[data_slot(d)];
		k->pending--;
		if (k->state == CONN_CLOSED) {
			if (!k->pending)
				k->state = CONN_FREE;
			return;
		}
	}
	switch (kind) {
	case OP_ACCEPT_CTL:
	case OP_ACCEPT_HTTP:
		on_accept_cqe(c, kind == OP_ACCEPT_HTTP, cqe);
		break;
	case OP_RECV:
		conn_on_recv(c, k, cqe->res);
		break;
	case OP_SEND:
		conn_on_send(c, k, cqe->res);
		break;
	case OP_TICK:
		on_tick(c);
		break;
	case OP_STOP:
		c->stopping = true;
		break;
	case OP_SIGNAL:
		if (!c->stopping)
			on_signal(c, cqe->res);
		break;
	case OP_LINK_TIMEOUT:
	case OP_CANCEL:
		break;
	}
}

static int reap(struct control *c, unsigned wait)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int ret;

	ret = io_uring_submit_and_wait(&c->ring, wait);
	if (ret < 0 && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN)
		return ret;
	io_uring_for_each_cqe(&c->ring, head, cqe) {
		dispatch(c, cqe);
		n++;
	}
	io_uring_cq_advance(&c->ring, n);
	return 0;
}

/* Cancel every request in flight and reap until none is left (buffers are then free). */
static int wind_down(struct control *c)
{
	struct io_uring_sqe *sqe;
	int ret = 0;

	c->stopping = true;
	sqe = get_sqe(c, 1);
	if (sqe) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		io_uring_sqe_set_data64(sqe, make_data(OP_CANCEL, 0, 0));
	}
	while (c->inflight && !ret)
		ret = reap(c, 1);
	for (unsigned i = 0; i < c->p.max_conns; i++)
		conn_close(c, &c->conns[i]);
	return ret;
}

int control_run(struct control *c)
{
	int ret;

	if (c->ran)
		return -EALREADY;
	c->ran = true;
	if (arm_accept(c, false) || arm_accept(c, true) || arm_tick(c) || arm_stop(c) ||
	    arm_signal(c))
		return -EBUSY;
	while (!c->stopping) {
		ret = reap(c, 1);
		if (ret) {
			log_error("event=control_error msg=\"io_uring failed: %s\"",
				  strerror(-ret));
			wind_down(c);
			return ret;
		}
	}
	return wind_down(c);
}

void control_stop(struct control *c)
{
	uint64_t one = 1;

	/* write(2) is async-signal-safe; an eventfd never blocks on a counter this small. */
	if (write(c->stop_fd, &one, sizeof(one)) < 0) {
		/* Nothing to report from a signal handler; the counter is already non-zero. */
	}
}

/* --- setup ------------------------------------------------------------------------ */

void control_params_default(struct control_params *p)
{
	memset(p, 0, sizeof(*p));
	p->socket_path = CONTROL_DEFAULT_SOCKET;
	p->socket_mode = 0600;
	p->socket_gid = -1;
	p->http_addr = CONTROL_DEFAULT_HTTP;
	p->max_conns = CONTROL_DEFAULT_MAX_CONNS;
	p->idle_ms = CONTROL_DEFAULT_IDLE_MS;
	p->request_ms = CONTROL_DEFAULT_REQUEST_MS;
	p->tick_ms = CONTROL_DEFAULT_TICK_MS;
	p->signal_fd = -1;
}

int control_signalfd(int *fd)
{
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	ret = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (ret)
		return -ret;
	*fd = signalfd(-1, &set, SFD_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

static int errf(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* A socket file at @path from an earlier run: remove it if nobody listens there. */
static int clear_stale_socket(const char *path, const struct sockaddr_un *sa, char *err,
			      size_t errlen)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st)) {
		ret = -errno;
		return ret == -ENOENT ? 0 : errf(err, errlen, ret, "%s: %s", path, strerror(-ret));
	}
	if (!S_ISSOCK(st.st_mode))
		return errf(err, errlen, -EEXIST, "%s exists and is not a socket; remove it or "
			    "choose another control socket path", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		return errf(err, errlen, ret, "socket: %s", strerror(-ret));
	}
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 0;
	close(fd);
	if (!ret)
		return errf(err, errlen, -EADDRINUSE, "%s: another relay is listening there", path);
	if (ret != -ECONNREFUSED)
		return errf(err, errlen, ret, "%s: %s", path, strerror(-ret));
	if (unlink(path) && errno != ENOENT) {
		ret = -errno;
		return errf(err, errlen, ret, "%s: cannot remove the stale socket: %s", path,
			    strerror(-ret));
	}
	return 0;
}

static int open_unix(struct control *c, char *err, size_t errlen)
{
	const char *path = c->socket_path;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (!path[0] || strlen(path) >= sizeof(sa.sun_path))
		return errf(err, errlen, -ENAMETOOLONG, "control socket path '%s': 1 to %zu bytes",
			    path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path));
	ret = clear_stale_socket(path, &sa, err, errlen);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		return errf(err, errlen, ret, "socket: %s", strerror(-ret));
	}
	/*
	 * Linux creates the socket file with the socket inode's mode (less the
	 * umask): set 0600 first so the file is never wider than that, even for
	 * the moment before chmod() below.
	 */
	if (fchmod(fd, 0600) || bind(fd, (const struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		errf(err, errlen, ret, "%s: %s", path, strerror(-ret));
		goto err_fd;
	}
	if (c->p.socket_gid >= 0 && chown(path, (uid_t)-1, (gid_t)c->p.socket_gid)) {
		ret = -errno;
		errf(err, errlen, ret, "%s: cannot give it group %ld: %s", path, c->p.socket_gid,
		     strerror(-ret));
		goto err_file;
	}
	if (chmod(path, c->p.socket_mode) || lstat(path, &st)) {
		ret = -errno;
		errf(err, errlen, ret, "%s: %s", path, strerror(-ret));
		goto err_file;
	}
	if (listen(fd, LISTEN_BACKLOG)) {
		ret = -errno;
		errf(err, errlen, ret, "%s: listen: %s", path, strerror(-ret));
		goto err_file;
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	c->ctl_fd = fd;
	return 0;

err_file:
	unlink(path);
err_fd:
	close(fd);
	return ret;
}

/* "127.0.0.1:9180" or "[::1]:9180" into @ss. @return 0 or -EINVAL. */
static int parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN + 1];
	const char *port, *close_br;
	unsigned long v = 0;
	size_t hlen, plen;
	bool v6 = false;

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		close_br = strchr(text, ']');
		if (!close_br || close_br[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close_br - text - 1);
		port = close_br + 2;
		text++;
		v6 = true;
	} else {
		port = strrchr(text, ':');
		if (!port)
			return -EINVAL;
		hlen = (size_t)(port - text);
		port++;
	}
	plen = strlen(port);
	if (!hlen || hlen >= sizeof(host) || !plen || plen > 5 ||
	    strspn(port, "0123456789") != plen)
		return -EINVAL;
	for (size_t i = 0; i < plen; i++)
		v = v * 10 + (unsigned long)(port[i] - '0');
	if (v > 65535)
		return -EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (!v6 && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)v);
		*len = sizeof(*s4);
		return 0;
	}
	if (v6 && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)v);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
}

static int open_http(struct control *c, const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, ret;

	if (parse_addr(addr, &ss, &len))
		return errf(err, errlen, -EINVAL, "HTTP address '%s': expected IPV4:PORT or "
			    "[IPV6]:PORT, e.g. " CONTROL_DEFAULT_HTTP, addr);
	if (!is_loopback(&ss) && !c->p.http_allow_public)
		return errf(err, errlen, -EINVAL, "HTTP address '%s' is not a loopback address: "
			    "/metrics would be reachable from the network; allow it explicitly "
			    "if that is intended", addr);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		return errf(err, errlen, ret, "socket: %s", strerror(-ret));
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&ss, len) || listen(fd, LISTEN_BACKLOG))
		goto err_fd;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		goto err_fd;
	c->http_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
			     ((struct sockaddr_in6 *)&ss)->sin6_port);
	c->http_fd = fd;
	return 0;

err_fd:
	ret = -errno;
	close(fd);
	return errf(err, errlen, ret, "HTTP address %s: %s", addr, strerror(-ret));
}

static int check_params(const struct control_params *p, char *err, size_t errlen)
{
	if (p->socket_mode != 0600 && p->socket_mode != 0660)
		return errf(err, errlen, -EINVAL, "control socket mode %04o: use 0600, or 0660 "
			    "with a group", p->socket_mode);
	if ((p->socket_mode == 0660) != (p->socket_gid >= 0))
		return errf(err, errlen, -EINVAL, "control socket: mode 0660 goes with a group, "
			    "and a group with mode 0660");
	if (!p->max_conns || p->max_conns > CONTROL_MAX_CONNS_LIMIT)
		return errf(err, errlen, -EINVAL, "max connections %u: use 1 to %d",
			    p->max_conns, CONTROL_MAX_CONNS_LIMIT);
	if (!p->idle_ms || !p->request_ms)
		return errf(err, errlen, -EINVAL, "control timeouts must be above 0 ms");
	if (!p->socket_path && !p->http_addr)
		return errf(err, errlen, -EINVAL, "neither a control socket nor an HTTP address");
	return 0;
}

/* Every connection's op and linked timeout, the accepts, tick, stop, signal, cancel. */
static unsigned ring_entries(unsigned max_conns)
{
	unsigned want = 2 * max_conns + 16, n = 16;

	while (n < want)
		n <<= 1;
	return n;
}

int control_create(struct control **out, const struct control_params *p,
		   const struct control_ops *ops, char *err, size_t errlen)
{
	struct control *c;
	int ret;

	ret = check_params(p, err, errlen);
	if (ret)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c)
		return errf(err, errlen, -ENOMEM, "out of memory");
	c->p = *p;
	if (!c->p.tick_ms)
		c->p.tick_ms = CONTROL_DEFAULT_TICK_MS;
	c->ops = *ops;
	c->ctl_fd = c->http_fd = -1;
	c->owner_uid = geteuid();
	c->conns = calloc(p->max_conns, sizeof(*c->conns));
	if (!c->conns) {
		ret = errf(err, errlen, -ENOMEM, "out of memory");
		goto err_c;
	}
	if (p->socket_path) {
		c->socket_path = strdup(p->socket_path);
		if (!c->socket_path) {
			ret = errf(err, errlen, -ENOMEM, "out of memory");
			goto err_conns;
		}
	}
	c->p.socket_path = c->socket_path;
	c->p.http_addr = NULL;	/* borrowed by control_create() only */
	c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0) {
		ret = -errno;
		errf(err, errlen, ret, "eventfd: %s", strerror(-ret));
		goto err_path;
	}
	ret = io_uring_queue_init(ring_entries(p->max_conns), &c->ring, 0);
	if (ret) {
		errf(err, errlen, ret, "io_uring: %s", strerror(-ret));
		goto err_stop;
	}
	if (p->socket_path) {
		ret = open_unix(c, err, errlen);
		if (ret)
			goto err_ring;
	}
	if (p->http_addr) {
		ret = open_http(c, p->http_addr, err, errlen);
		if (ret)
			goto err_unix;
	}
	log_info("event=control_listen socket=%s mode=%04o http=%s http_port=%u max_conns=%u",
		 c->socket_path ? c->socket_path : "-", p->socket_mode,
		 p->http_addr ? p->http_addr : "-", (unsigned)c->http_port, p->max_conns);
	*out = c;
	return 0;

err_unix:
	if (c->ctl_fd >= 0) {
		close(c->ctl_fd);
		unlink(c->socket_path);
	}
err_ring:
	io_uring_queue_exit(&c->ring);
err_stop:
	close(c->stop_fd);
err_path:
	free(c->socket_path);
err_conns:
	free(c->conns);
err_c:
	free(c);
	return ret;
}

uint16_t control_http_port(const struct control *c)
{
	return c->http_port;
}

void control_get_counters(const struct control *c, struct control_counters *out)
{
	*out = c->counters;
}

void control_destroy(struct control *c)
{
	struct stat st;

	if (!c)
		return;
	/* A run that ended on an error, or never started, may still hold requests. */
	if (c->inflight)
		wind_down(c);
	for (unsigned i = 0; i < c->p.max_conns; i++)
		conn_close(c, &c->conns[i]);
	io_uring_queue_exit(&c->ring);
	if (c->ctl_fd >= 0) {
		close(c->ctl_fd);
		/* Remove the file only if it is still ours (not a successor's). */
		if (!lstat(c->socket_path, &st) && st.st_dev == c->sock_dev &&
		    st.st_ino == c->sock_ino)
			unlink(c->socket_path);
	}
	if (c->http_fd >= 0)
		close(c->http_fd);
	close(c->stop_fd);
	free(c->socket_path);
	free(c->conns);
	free(c);
}
