/*
 * pump.c — one QUIC stream ↔ one local byte stream (docs/protocol.md §10.4:
 * FIN is a half-close, RESET an abort, credit is returned only as the local
 * side takes the bytes).
 *
 * Each direction on its own:
 *
 *   local → stream: READING ──short write──▶ TAIL (rfd not read) ──WRITABLE──▶ READING
 *                   READING ──EOF, tail written──▶ FINISHED (quic_stream_finish)
 *   stream → local: bytes written at once (PUMP_DEFER_WRITES: at pump_flush());
 *                   the rest waits in out[] (EPOLLOUT on wfd)
 *                   peer FIN ──out[] empty──▶ SHUT (shutdown(SHUT_WR), or close)
 *
 * The whole pump:
 *   CONNECTING ──wfd writable, SO_ERROR 0──▶ RUNNING
 *   CONNECTING ──SO_ERROR──▶ stopped (stream reset 0x102)
 *   RUNNING ──STREAM_CLOSED──▶ DRAINING ──out[] empty──▶ done
 *   any ──peer RESET, local error, abort, conn gone──▶ stopped ──STREAM_CLOSED──▶ done
 * "stopped" touches no fd again.
 */
#include "endpoint/pump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	READS_PER_EVENT = 16,		/* fairness between pumps of one loop */
	OUT_MIN = 16 * 1024,
};

struct pump {
	struct quic_stream *s;		/* NULL once STREAM_CLOSED */
	int rfd, wfd;
	unsigned flags;
	bool wfd_is_sock;
	bool connecting;
	bool rd_eof;			/* local EOF seen */
	bool tx_done;			/* FIN queued, or the stream refused more bytes */
	bool fin_queued;		/* quic_stream_finish() took our FIN */
	bool peer_fin;			/* the stream's FIN arrived */
	bool wr_shut;			/* wfd shut down (or closed) after the peer's FIN */
	bool stopped;			/* reset, error, abort: no more fd work */
	bool wr_blocked;		/* wfd took less than out[] held: wait for EPOLLOUT */
	bool closed;			/* STREAM_CLOSED */
	uint64_t err_code;		/* reset code for a local error */
	uint64_t now;			/* the latest now_ns the caller gave */
	uint8_t *in;			/* PUMP_CHUNK: the unsent tail of one read */
	size_t in_off, in_len;
	uint8_t *out;			/* delivered, not yet written to wfd */
	size_t out_cap, out_off, out_len;
	struct pump_result res;
};

int pump_create(struct pump **out, struct quic_stream *s, int rfd, int wfd, unsigned flags)
{
	struct pump *p;
	struct stat st;

	if (!out || !s || rfd < 0 || wfd < 0 ||
	    (flags & ~(PUMP_KEEP_FDS | PUMP_CONNECTING | PUMP_DEFER_WRITES)))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->in = malloc(PUMP_CHUNK);
	if (!p->in)
		goto err_pump;
	p->s = s;
	p->rfd = rfd;
	p->wfd = wfd;
	p->flags = flags;
	p->connecting = flags & PUMP_CONNECTING;
	p->wfd_is_sock = fstat(wfd, &st) == 0 && S_ISSOCK(st.st_mode);
	p->err_code = QUIC_APP_CANCELLED;
	*out = p;
	return 0;

err_pump:
	free(p);
	return -ENOMEM;
}

void pump_destroy(struct pump *p)
{
	if (!p)
		return;
	if (!(p->flags & PUMP_KEEP_FDS)) {
		if (p->rfd >= 0)
			close(p->rfd);
		if (p->wfd >= 0 && p->wfd != p->rfd)
			close(p->wfd);
	}
	free(p->in);
	free(p->out);
	free(p);
}

static void see(struct pump *p, uint64_t now)
{
	if (now > p->now)
		p->now = now;
}

/* Stop touching the fds; reset the stream (both directions) with @code if it is still there. */
static void stop(struct pump *p, enum pump_end end, uint64_t code, uint64_t now)
{
	if (p->stopped)
		return;
	p->stopped = true;
	if (p->res.end == PUMP_END_NONE)
		p->res.end = end;
	p->out_len = p->out_off = 0;
	p->in_len = p->in_off = 0;
	if (p->s)
		quic_stream_reset(p->s, code, now);
}

static void local_error(struct pump *p, int err, uint64_t now)
{
	uint64_t code = p->connecting ? QUIC_APP_UPSTREAM_REFUSED : p->err_code;

	if (p->stopped)
		return;
	p->res.err = err;
	p->res.connect_failed = p->connecting;
	stop(p, PUMP_END_LOCAL_ERROR, code, now);
}

/* The peer's FIN, once every byte before it is out: half-close the local side (§10.4). */
static void shut_local(struct pump *p)
{
	int fd;

	if (p->wr_shut || p->stopped)
		return;
	p->wr_shut = true;
	if (p->wfd_is_sock) {
		shutdown(p->wfd, SHUT_WR);
		return;
	}
	/* A pipe has no half-close: the reader sees EOF only when the write end goes. */
	if (p->flags & PUMP_KEEP_FDS) {
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, p->wfd);
			close(fd);
		}
	} else {
		close(p->wfd);
	}
	p->wfd = -1;
}

static ssize_t wfd_write(struct pump *p, const uint8_t *buf, size_t len)
{
	if (p->wfd_is_sock)
		return send(p->wfd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return write(p->wfd, buf, len);
}

/*
 * Write @len bytes to wfd as far as it takes them now. @return the count
 * written, or -1 after a local error.
 */
static ssize_t write_some(struct pump *p, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = wfd_write(p, buf + done, len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		return n < 0 ? -errno : -EIO;
	}
	return (ssize_t)done;
}

/* Credit the stream with @n bytes that have left (RFC 9000 §4.1 via quic_stream_consume). */
static void left(struct pump *p, size_t n, uint64_t now)
{
	p->res.bytes_out += n;
	if (p->s && n)
		quic_stream_consume(p->s, n, now);
}

static int out_keep(struct pump *p, const uint8_t *data, size_t len)
{
	if (p->out_off && p->out_off + p->out_len + len > p->out_cap) {
		memmove(p->out, p->out + p->out_off, p->out_len);
		p->out_off = 0;
	}
	if (p->out_len + len > p->out_cap) {
		size_t cap = p->out_cap ? p->out_cap : OUT_MIN;
		uint8_t *b;

		while (cap < p->out_len + len)
			cap *= 2;
		b = realloc(p->out, cap);
		if (!b)
			return -ENOMEM;
		p->out = b;
		p->out_cap = cap;
	}
	memcpy(p->out + p->out_off + p->out_len, data, len);
	p->out_len += len;
	return 0;
}

static void flush_out(struct pump *p, uint64_t now)
{
	ssize_t n;

	if (p->stopped || p->connecting || p->wfd < 0)
		return;
	if (p->out_len) {
		n = write_some(p, p->out + p->out_off, p->out_len);
		if (n < 0) {
			local_error(p, (int)-n, now);
			return;
		}
		p->out_off += (size_t)n;
		p->out_len -= (size_t)n;
		if (!p->out_len)
			p->out_off = 0;
		p->wr_blocked = p->out_len != 0;
		left(p, (size_t)n, now);
	}
	if (!p->out_len && p->peer_fin)
		shut_local(p);
}

/* Queue the FIN once the local side ended and every byte read is in the stream. */
static void maybe_finish(struct pump *p, uint64_t now)
{
	if (!p->rd_eof || p->in_len || p->tx_done || !p->s)
		return;
	p->tx_done = true;
	p->fin_queued = quic_stream_finish(p->s, now) == 0;
}

/* Push the tail of the last read. @return true if it is all in the stream. */
static bool push_tail(struct pump *p, uint64_t now)
{
	ssize_t w;

	if (!p->in_len)
		return true;
	w = quic_stream_write(p->s, p->in + p->in_off, p->in_len, now);
	if (w < 0) {
		/* -EPIPE: the peer sent STOP_SENDING or reset; CLOSED or RESET follows. */
		p->tx_done = true;
		p->in_len = p->in_off = 0;
		return false;
	}
	p->res.bytes_in += (uint64_t)w;
	p->in_off += (size_t)w;
	p->in_len -= (size_t)w;
	if (p->in_len)
		return false;
	p->in_off = 0;
	return true;
}

static void read_local(struct pump *p, uint64_t now)
{
	for (unsigned i = 0; i < READS_PER_EVENT; i++) {
		ssize_t n;

		if (p->stopped || p->rd_eof || p->tx_done || !p->s || p->in_len)
			return;
		n = read(p->rfd, p->in, PUMP_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			local_error(p, errno, now);
			return;
		}
		if (n == 0) {
			p->rd_eof = true;
			maybe_finish(p, now);
			return;
		}
		p->in_off = 0;
		p->in_len = (size_t)n;
		if (!push_tail(p, now))
			return;
		/*
		 * A short read took all there was: reading again would only
		 * hear EAGAIN; level-triggered epoll reports what comes next.
		 */
		if ((size_t)n < PUMP_CHUNK)
			return;
	}
}

static void connect_done(struct pump *p, uint64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(p->wfd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		local_error(p, err, now);	/* reset with QUIC_APP_UPSTREAM_REFUSED */
		return;
	}
	p->connecting = false;
	/* Bytes that arrived meanwhile, and a FIN that came with them. */
	flush_out(p, now);
}

void pump_fd_event(struct pump *p, int fd, uint32_t events, uint64_t now_ns)
{
	if (!p || p->stopped || fd < 0)
		return;
	see(p, now_ns);
	if (fd == p->wfd && p->connecting) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			connect_done(p, now_ns);
		return;
	}
	if (fd == p->wfd && (events & (EPOLLOUT | EPOLLERR)))
		flush_out(p, now_ns);
	if (fd == p->rfd && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		read_local(p, now_ns);
}

uint32_t pump_wants_rfd(const struct pump *p)
{
	if (!p || p->stopped || p->connecting || p->rd_eof || p->tx_done || !p->s || p->in_len)
		return 0;
	return EPOLLIN;
}

uint32_t pump_wants_wfd(const struct pump *p)
{
	if (!p || p->stopped || p->wfd < 0)
		return 0;
	if (p->connecting)
		return EPOLLOUT;
	/* Deferred bytes wait for pump_flush(), not for the fd, until a write came up short. */
	if (p->out_len && (!(p->flags & PUMP_DEFER_WRITES) || p->wr_blocked))
		return EPOLLOUT;
	return 0;
}

void pump_stream_data(struct pump *p, const uint8_t *data, size_t len, bool fin,
		      uint64_t now_ns)
{
	ssize_t n = 0;

	if (!p || p->stopped || p->peer_fin)
		return;
	see(p, now_ns);
	if (len && !p->connecting && !p->out_len && p->wfd >= 0 &&
	    !(p->flags & PUMP_DEFER_WRITES)) {
		n = write_some(p, data, len);
		if (n < 0) {
			local_error(p, (int)-n, now_ns);
			return;
		}
		left(p, (size_t)n, now_ns);
	}
	/* What wfd did not take waits here, unconsumed: the window bounds it. */
	if ((size_t)n < len && out_keep(p, data + n, len - (size_t)n) < 0) {
		local_error(p, ENOMEM, now_ns);
		return;
	}
	if (fin) {
		p->peer_fin = true;
		if (!(p->flags & PUMP_DEFER_WRITES))
			flush_out(p, now_ns);
	}
}

void pump_flush(struct pump *p, uint64_t now_ns)
{
	if (!p || !(p->flags & PUMP_DEFER_WRITES) || p->stopped)
		return;
	see(p, now_ns);
	flush_out(p, now_ns);
}

void pump_stream_writable(struct pump *p, uint64_t now_ns)
{
	if (!p || p->stopped || !p->s)
		return;
	see(p, now_ns);
	/* Reading resumes through pump_wants_rfd() once the tail is in. */
	if (push_tail(p, now_ns))
		maybe_finish(p, now_ns);
}

void pump_stream_reset(struct pump *p, uint64_t code)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (!p || p->stopped)
		return;
	p->res.code = code;
	/* The peer aborted: abort the upstream too (RST, not FIN, when it is closed), §10.4. */
	if (p->wfd_is_sock && p->wfd >= 0)
		setsockopt(p->wfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	/* From inside quic_conn_input(): the conn sends when that returns. */
	stop(p, PUMP_END_RESET, code, p->now);
}

void pump_stream_closed(struct pump *p, bool conn_gone)
{
	if (!p)
		return;
	p->s = NULL;
	p->closed = true;
	/*
	 * Both FINs exchanged and every byte taken: the peer usually closes the
	 * connection as soon as it has ours, before its ACK reaches us. That is
	 * a clean end, not a lost connection.
	 */
	if (conn_gone && !p->stopped && !(p->peer_fin && p->fin_queued))
		stop(p, PUMP_END_CONN_GONE, 0, p->now);
	if (p->res.end == PUMP_END_NONE)
		p->res.end = PUMP_END_FIN;
	/* Both directions finished: only out[] may be left to write (pump_done). */
	p->in_len = p->in_off = 0;
	if (!p->stopped)
		flush_out(p, p->now);
}

void pump_abort_at(struct pump *p, uint64_t code, uint64_t now_ns)
{
	if (!p)
		return;
	see(p, now_ns);
	stop(p, PUMP_END_ABORTED, code, p->now);
}

void pump_abort(struct pump *p, uint64_t code)
{
	if (p)
		pump_abort_at(p, code, p->now);
}

void pump_set_error_code(struct pump *p, uint64_t code)
{
	if (p)
		p->err_code = code;
}

int pump_rfd(const struct pump *p)
{
	return p ? p->rfd : -1;
}

int pump_wfd(const struct pump *p)
{
	return p ? p->wfd : -1;
}

bool pump_done(const struct pump *p)
{
	return p && p->closed && (p->stopped || !p->out_len);
}

const struct pump_result *pump_result(const struct pump *p)
{
	return &p->res;
}

struct quic_stream *pump_stream(const struct pump *p)
{
	return p ? p->s : NULL;
}

const char *pump_end_name(enum pump_end end)
{
	switch (end) {
	case PUMP_END_NONE:
		return "running";
	case PUMP_END_FIN:
		return "fin";
	case PUMP_END_RESET:
		return "reset";
	case PUMP_END_LOCAL_ERROR:
		return "local_error";
	case PUMP_END_ABORTED:
		return "aborted";
	case PUMP_END_CONN_GONE:
		return "conn_gone";
	}
	return "unknown";
}
