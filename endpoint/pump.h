/*
 * pump.h — moves bytes between one QUIC stream and one local byte stream (a
 * TCP socket, or a pipe pair: a stdio child's stdin/stdout, the connector's
 * own stdin/stdout), both ways, with backpressure and no unbounded buffer.
 * Used by postern-gateway (stream ↔ upstream) and postern-connect (local
 * client ↔ stream).
 *
 *   local → stream: read from rfd only while the stream accepts bytes;
 *       a short quic_stream_write() keeps the unsent tail (at most one read's
 *       worth, PUMP_CHUNK) and stops reading until pump_stream_writable();
 *       EOF on rfd → quic_stream_finish() (half-close).
 *   stream → local: pump_stream_data() writes to wfd; what the fd does not
 *       take now is kept (bounded by the stream's receive window, because
 *       quic_stream_consume() is called only for bytes written) and written
 *       on pump_fd_event(); the peer's FIN → shutdown(SHUT_WR) once those
 *       bytes are out, when wfd is a socket; when it is not (a pipe), the
 *       pump closes wfd (with PUMP_KEEP_FDS it puts /dev/null on the same
 *       number instead, so the number stays valid and the reader sees EOF).
 *       Either way the epoll registration of such a wfd is gone with it.
 *   The stream's QUIC_EV_STREAM_CLOSED ends every pump (pump_stream_closed();
 *   the stream handle is gone after it). After a clean close the pump still
 *   writes to wfd what the stream delivered before; pump_done() is true once
 *   that is out (at once after a reset, an error or a lost connection), and
 *   the caller reads pump_result() for the audit line and destroys it.
 *   A connection that ends after both FINs (the peer's received, ours
 *   queued) ends the pump as FIN, not CONN_GONE: a peer that has everything
 *   typically closes the connection before its last ACK reaches us.
 *   On a local error or pump_abort() the pump resets the stream first (both
 *   directions), stops touching the fds, and CLOSED follows. The reset code
 *   of a local error is QUIC_APP_UPSTREAM_REFUSED while connecting, else the
 *   one set by pump_set_error_code() (default QUIC_APP_CANCELLED).
 *   The peer's RESET ends the pump at once (pump_stream_reset()); wfd, if a
 *   socket, gets SO_LINGER 0, so closing it sends an RST, not a FIN.
 *   PUMP_CONNECTING (a TCP connect in progress): nothing is read or written
 *   until wfd is first writable; then SO_ERROR decides: a failed connect is
 *   LOCAL_ERROR with the stream reset with QUIC_APP_UPSTREAM_REFUSED. Bytes
 *   from the stream meanwhile wait, unconsumed, inside the receive window.
 *
 * PUMP_DEFER_WRITES: the stream's bytes (and its FIN) wait in the pump until
 * pump_flush(), so what several datagrams of one loop turn delivered leaves
 * in one write(2); the loop calls pump_flush() once per turn, before it
 * looks at pump_wants_wfd() (which asks for EPOLLOUT only once a write came
 * up short, not for bytes that merely wait for the flush). With or without
 * the flag, reading stops at a short read: the fd was empty, and
 * level-triggered epoll says when it is not (no read just to hear EAGAIN).
 *
 * The caller's loop owns epoll: pump_wants_rfd()/_wfd() say which events each
 * fd needs now (they change after every pump_* call, the QUIC callbacks
 * included); call pump_fd_event() when one is ready (level-triggered). When
 * rfd == wfd (a socket) register it once with the union of both. A wants of
 * 0 means "not now": remove the fd from epoll (EPOLLHUP and EPOLLERR are
 * reported even for an fd registered with no events).
 * Threads: one loop thread. Errors: 0 or -errno.
 */
#ifndef POSTERN_ENDPOINT_PUMP_H
#define POSTERN_ENDPOINT_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint/quic.h"

enum {
	PUMP_CHUNK = 64 * 1024,		/* bytes per read from the local side */
};

enum pump_end {
	PUMP_END_NONE,		/* still running */
	PUMP_END_FIN,		/* both directions finished cleanly */
	PUMP_END_RESET,		/* the peer reset the stream (pump_result .code) */
	PUMP_END_LOCAL_ERROR,	/* read/write on the local side failed (.err) */
	PUMP_END_ABORTED,	/* pump_abort() */
	PUMP_END_CONN_GONE,	/* the QUIC connection ended first */
};

struct pump_result {
	enum pump_end end;
	uint64_t bytes_in;	/* local → stream */
	uint64_t bytes_out;	/* stream → local */
	uint64_t code;		/* RESET: the peer's application error code */
	int err;		/* LOCAL_ERROR: errno */
	bool connect_failed;	/* LOCAL_ERROR: the PUMP_CONNECTING connect failed */
};

struct pump;

enum pump_flags {
	PUMP_KEEP_FDS = 1 << 0,		/* pump_destroy() does not close rfd/wfd */
	PUMP_CONNECTING = 1 << 1,	/* wfd is a socket whose connect() is in progress */
	PUMP_DEFER_WRITES = 1 << 2,	/* stream bytes wait for pump_flush() */
};

/*
 * A pump between @s and the local fds (non-blocking; closed by
 * pump_destroy() unless PUMP_KEEP_FDS). @return 0 and *@out, -EINVAL, -ENOMEM.
 */
int pump_create(struct pump **out, struct quic_stream *s, int rfd, int wfd, unsigned flags);

/* Close the fds (unless kept) and free. The stream is not touched. NULL: no-op. */
void pump_destroy(struct pump *p);

/* Which events the pump needs now: EPOLLIN on rfd, EPOLLOUT on wfd (0 or the flag). */
uint32_t pump_wants_rfd(const struct pump *p);
uint32_t pump_wants_wfd(const struct pump *p);

/* @fd (rfd or wfd) is ready for @events (EPOLLIN/EPOLLOUT/EPOLLHUP/EPOLLERR). */
void pump_fd_event(struct pump *p, int fd, uint32_t events, uint64_t now_ns);

/*
 * PUMP_DEFER_WRITES: write what the stream delivered since the last flush
 * (and shut wfd after the peer's FIN once it is all out). What wfd does not
 * take now waits for EPOLLOUT (pump_wants_wfd). A no-op without the flag.
 */
void pump_flush(struct pump *p, uint64_t now_ns);

/* From the QUIC callbacks: on_data for this stream, WRITABLE, RESET, CLOSED. */
void pump_stream_data(struct pump *p, const uint8_t *data, size_t len, bool fin,
		      uint64_t now_ns);
void pump_stream_writable(struct pump *p, uint64_t now_ns);
void pump_stream_reset(struct pump *p, uint64_t code);
void pump_stream_closed(struct pump *p, bool conn_gone);

/*
 * Abort: reset the stream with @code (quic_stream_reset) and stop.
 * pump_abort() uses the latest now_ns the pump was given; from outside the
 * QUIC callbacks prefer pump_abort_at() with the loop's current time.
 */
void pump_abort(struct pump *p, uint64_t code);
void pump_abort_at(struct pump *p, uint64_t code, uint64_t now_ns);

/* The reset code for a later local read/write error (default QUIC_APP_CANCELLED). */
void pump_set_error_code(struct pump *p, uint64_t code);

/* The fds, or -1 once the pump has closed that one (a pipe's wfd after the FIN). */
int pump_rfd(const struct pump *p);
int pump_wfd(const struct pump *p);

bool pump_done(const struct pump *p);
const struct pump_result *pump_result(const struct pump *p);
struct quic_stream *pump_stream(const struct pump *p);

/* "fin", "reset", "local_error", "aborted", "conn_gone", "running". */
const char *pump_end_name(enum pump_end end);

#endif /* POSTERN_ENDPOINT_PUMP_H */
