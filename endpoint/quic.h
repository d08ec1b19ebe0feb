/*
 * quic.h — the E2E layer of docs/protocol.md §10: one QUIC v1 connection
 * (ngtcp2 + GnuTLS, TLS 1.3, ALPN "postern/1", mutual certificate pinning)
 * between a connector (client) and a gateway (server), whose datagrams ride
 * as opaque bytes in one hop channel's CHANNEL_DATA frames.
 *
 * A state machine with no I/O of its own, like hop_client.h:
 *
 *	datagrams out   cfg.send(ctx, pkt, len)             one CHANNEL_DATA payload each
 *	datagrams in    quic_conn_input(c, pkt, len, now)   each CHANNEL_DATA payload
 *	timers          quic_conn_tick(c, now) → the next deadline
 *	events          cfg.on_event(ctx, ev)               connected, closed, stream
 *	                                                    opened/reset/writable/closed
 *	stream bytes    cfg.on_data(ctx, stream, data, len, fin)
 *
 * A connector:
 *
 *	quic_conn_create(&q, &cfg);     role CLIENT, the gateway's pinned fingerprint,
 *	                                max_payload = hop_client_max_frames(hop) - 7
 *	CHANNEL_OPEN with tag quic_conn_tag(q); on CHANNEL_ACCEPT: quic_conn_connect(q, now)
 *	on CONNECTED: quic_stream_open(q, "crm", user, &s, now); quic_stream_write(...)
 *	on CHANNEL_DATA: quic_conn_input(q, bytes, n, now); at deadlines: quic_conn_tick()
 *
 * A gateway, on CHANNEL_OPEN without RESUME: quic_conn_create() with role SERVER
 * and cfg.tag = the OPEN's connection tag, then feed it the channel's bytes.
 * The first datagram must be a QUIC Initial whose source connection ID is
 * that tag and that decrypts; anything else is dropped until one comes
 * (stats.rx_dropped).
 *
 * Streams. The client opens bidirectional streams; each starts with the
 * route header (version 1, route length 1..63, route name of [A-Za-z0-9._-]),
 * written by quic_stream_open(). The server reads and checks it, then emits
 * QUIC_EV_STREAM_OPENED with the route; a stream whose header is malformed is
 * reset with QUIC_APP_BAD_HEADER and never announced. After the header, raw
 * bytes flow both ways:
 *   - quic_stream_write() copies into the stream's send buffer (cfg.sndbuf
 *     bytes: data not yet acknowledged by the peer; QUIC needs it for
 *     retransmission) and returns how much it took. Less than asked, or 0,
 *     is backpressure: QUIC_EV_STREAM_WRITABLE follows once acknowledgements
 *     free room.
 *   - on_data delivers bytes in order exactly once; they are valid during the
 *     callback only. The peer may send only as many bytes as the receive
 *     window (cfg.stream_window) allows beyond what quic_stream_consume() has
 *     released: call it when the bytes have left (written upstream), so a
 *     slow upstream slows the peer instead of growing a buffer here.
 *   - quic_stream_finish(): FIN after the buffered bytes (half-close); the
 *     peer's FIN arrives as on_data(..., fin = true), possibly with len 0.
 *   - quic_stream_reset(code): abort both directions (RESET_STREAM and
 *     STOP_SENDING with @code); the peer gets QUIC_EV_STREAM_RESET with it.
 *   - QUIC_EV_STREAM_CLOSED ends every stream (both directions finished and
 *     acknowledged, reset, or the connection gone); the handle is freed when
 *     that callback returns.
 *
 * Failover (docs/protocol.md §10.5). The connection's identity is its
 * 16-byte tag, the client's initial source connection ID, equal on both
 * sides: quic_conn_tag(). The connector sends it in CHANNEL_OPEN (and in the
 * RESUME OPEN); the gateway finds the conn by it. QUIC here has one virtual
 * path that never changes, so a new hop channel is just a new carrier: keep
 * calling quic_conn_input()/_tick() on the same conn with the new channel's
 * bytes, and have cfg.send deliver to the new channel (while there is none,
 * return an error or drop: QUIC treats it as loss). quic_conn_carrier_up()
 * tells the conn the carrier is back. Lost packets are retransmitted by QUIC
 * (at the next probe timeout, which backs off exponentially during a long
 * gap); no stream byte is lost or delivered twice. Keep the gap shorter than
 * the idle timeout.
 *
 * Sending now or once per turn (cfg.defer_send). By default every call that
 * gives QUIC something to send (input, tick, connect, the stream calls) sends
 * it before it returns: one datagram in, its ACK out; one write, its packets
 * out. With cfg.defer_send those calls only note that a send is owed, and
 * quic_conn_flush() makes it: a loop that feeds a connection every datagram
 * and every local read of one turn and then flushes once lets QUIC put the
 * bytes of many writes and the acknowledgement of many datagrams into as few
 * datagrams as it can. Call quic_conn_flush() before the loop sleeps;
 * quic_conn_next_deadline() is 0 while a flush is owed. quic_conn_close()
 * sends its CONNECTION_CLOSE at once either way.
 *
 * Time: every @now_ns is the caller's monotonic clock in nanoseconds.
 * Randomness: OpenSSL RAND_bytes (tag, connection IDs), GnuTLS inside TLS.
 *
 * Callbacks run inside quic_conn_connect/_input/_tick/_close and the stream
 * calls. From a callback the caller may call the quic_stream_* functions and
 * quic_conn_close() (packets then go out when the outer call returns), not
 * quic_conn_input/_tick/_destroy.
 *
 * Errors: int functions return 0 or -errno: -EINVAL (bad argument),
 * -ENOTCONN (not connected yet, or closed), -EPIPE (this direction of the
 * stream is finished or reset), -EAGAIN (no stream credit: wait for
 * QUIC_EV_STREAMS_AVAILABLE), -EBUSY (called from a callback where not
 * allowed), -ENOMEM, -EIO (ngtcp2 or GnuTLS failed).
 *
 * Threads: a conn belongs to one thread; nothing locks.
 * Secrets: TLS and packet keys live in GnuTLS and ngtcp2, which free them
 * with the conn.
 */
#ifndef POSTERN_ENDPOINT_QUIC_H
#define POSTERN_ENDPOINT_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "endpoint/quic_tls.h"

#define QUIC_NS_PER_MS UINT64_C(1000000)
#define QUIC_NS_PER_S UINT64_C(1000000000)
#define QUIC_IDLE_TIMEOUT_DEFAULT_NS (60 * QUIC_NS_PER_S)
#define QUIC_KEEPALIVE_DEFAULT_NS (10 * QUIC_NS_PER_S)
#define QUIC_HANDSHAKE_TIMEOUT_DEFAULT_NS (10 * QUIC_NS_PER_S)
/* No deadline: quic_conn_next_deadline() with no timer armed. */
#define QUIC_NEVER UINT64_MAX

enum {
	QUIC_TAG_LEN = 16,		/* = FRAME_CONN_TAG_LEN */
	QUIC_ROUTE_MAX = 63,		/* = FRAME_NAME_MAX */
	QUIC_STREAM_HEADER_VERSION = 1,
	QUIC_STREAM_HEADER_MAX = 2 + QUIC_ROUTE_MAX,
	/*
	 * QUIC's UDP payload is one CHANNEL_DATA's E2E bytes: the hop MTU less
	 * DATA's 32 bytes and the frame's 7 (§2.5, §7). 1413 with the default
	 * MTU of 1452; 1201 with the smallest, still above QUIC's floor of 1200.
	 */
	QUIC_PAYLOAD_MIN = 1200,
	QUIC_PAYLOAD_DEFAULT = 1413,
	QUIC_PAYLOAD_MAX = 65527,
	QUIC_STREAM_WINDOW_DEFAULT = 256 * 1024,
	QUIC_CONN_WINDOW_DEFAULT = 4 * 1024 * 1024,
	QUIC_SNDBUF_DEFAULT = 256 * 1024,
	QUIC_MAX_STREAMS_DEFAULT = 128,
	QUIC_REASON_MAX = 256,		/* quic_conn_error_text(), NUL included */
};

/* Application error codes on streams and connections (docs/protocol.md §10.4). */
enum quic_app_error {
	QUIC_APP_NO_ERROR = 0x0,
	QUIC_APP_UNKNOWN_ROUTE = 0x101,
	QUIC_APP_UPSTREAM_REFUSED = 0x102,
	QUIC_APP_UPSTREAM_NOT_ALLOWED = 0x103,
	QUIC_APP_SHUTDOWN = 0x104,
	QUIC_APP_BAD_HEADER = 0x105,	/* the stream header is malformed */
	QUIC_APP_CANCELLED = 0x106,	/* the client side gave up on the stream */
};

enum quic_role {
	QUIC_CLIENT,			/* connector */
	QUIC_SERVER,			/* gateway */
};

/* Why a connection ended (QUIC_EV_CLOSED .error, quic_conn_error()). */
enum quic_error {
	QUIC_ERR_NONE,
	QUIC_ERR_PIN_MISMATCH,		/* client: the server's certificate is not the pinned one */
	QUIC_ERR_CLIENT_REFUSED,	/* server: the client's certificate is not allowed */
	QUIC_ERR_TLS,			/* TLS failed here otherwise (ALPN, no certificate) */
	QUIC_ERR_PEER_REFUSED,		/* the peer's TLS refused us (.code: 0x100 + TLS alert) */
	QUIC_ERR_PEER_CLOSED,		/* the peer closed (.code: its error code) */
	QUIC_ERR_LOCAL_CLOSED,		/* quic_conn_close() */
	QUIC_ERR_IDLE_TIMEOUT,		/* nothing heard for the idle timeout */
	QUIC_ERR_HANDSHAKE_TIMEOUT,
	QUIC_ERR_PROTOCOL,		/* the peer broke QUIC; we closed with a transport error */
	QUIC_ERR_INTERNAL,		/* out of memory, ngtcp2 or GnuTLS failure */
	QUIC_ERR_MAX,
};

enum quic_event_type {
	QUIC_EV_CONNECTED,		/* handshake confirmed; quic_conn_peer_fingerprint() */
	QUIC_EV_CLOSED,			/* the connection is over (.error, .code) */
	QUIC_EV_STREAM_OPENED,		/* server: a client stream (.stream, .route) */
	QUIC_EV_STREAM_RESET,		/* the peer aborted its sending side (.code) */
	QUIC_EV_STREAM_WRITABLE,	/* a write was short; the send buffer has room again */
	QUIC_EV_STREAM_CLOSED,		/* .stream is gone after this; .has_code/.code, or
					 * .error when the connection ended first */
	QUIC_EV_STREAMS_AVAILABLE,	/* client: quic_stream_open() may succeed again */
};

struct quic_conn;
struct quic_stream;

struct quic_event {
	enum quic_event_type type;
	struct quic_stream *stream;	/* STREAM_* */
	const char *route;		/* STREAM_OPENED: NUL-terminated, 1..63 chars */
	uint64_t code;			/* CLOSED, STREAM_RESET, STREAM_CLOSED (if has_code) */
	bool has_code;			/* STREAM_CLOSED: closed with an application error */
	enum quic_error error;		/* CLOSED; STREAM_CLOSED: non-zero if the connection
					 * ended before the stream did */
};

/* Hand one datagram to the carrier (one CHANNEL_DATA). @return 0 or -errno (counted). */
typedef int (*quic_send_fn)(void *ctx, const uint8_t *pkt, size_t len);
typedef void (*quic_event_fn)(void *ctx, const struct quic_event *ev);
/* Stream bytes in order (@len may be 0 when @fin). @data is valid during the call. */
typedef void (*quic_data_fn)(void *ctx, struct quic_stream *s, const uint8_t *data, size_t len,
			     bool fin);
/* Server: allow a client certificate not in allowed_fps? @return true to accept. */
typedef bool (*quic_authorize_fn)(void *ctx, const uint8_t fp[QUIC_FP_LEN]);

struct quic_config {
	enum quic_role role;
	const struct quic_identity *identity;	/* required: our certificate; borrowed */
	const uint8_t *tag;			/* QUIC_TAG_LEN, copied. Server: required (the
						 * CHANNEL_OPEN tag); client: NULL for random */
	/* Client: the gateway's certificate fingerprint (required), copied. */
	const uint8_t *server_fp;
	/* Server: client certificates allowed (copied), then authorize() for the rest. */
	const uint8_t (*allowed_fps)[QUIC_FP_LEN];
	size_t n_allowed;
	quic_authorize_fn authorize;		/* may be NULL: refuse the rest */
	size_t max_payload;			/* 0: QUIC_PAYLOAD_DEFAULT; else MIN..MAX */
	uint64_t idle_timeout_ns;		/* 0: QUIC_IDLE_TIMEOUT_DEFAULT_NS */
	uint64_t keepalive_ns;			/* PING after this long idle; 0: default;
						 * QUIC_NEVER: off */
	uint64_t handshake_timeout_ns;		/* 0: QUIC_HANDSHAKE_TIMEOUT_DEFAULT_NS */
	uint32_t stream_window;			/* receive credit per stream; 0: default */
	uint32_t conn_window;			/* receive credit per connection; 0: default */
	uint32_t sndbuf;			/* send buffer per stream; 0: default */
	uint32_t max_streams;			/* server: concurrent client streams; 0: default */
	quic_send_fn send;			/* required */
	bool defer_send;			/* send only in quic_conn_flush() */
	quic_event_fn on_event;			/* may be NULL */
	quic_data_fn on_data;			/* may be NULL (bytes are dropped) */
	void *ctx;				/* passed to every callback */
};

/*
 * Counters since create; RTT and congestion figures as of the call.
 * rx_packets counts every datagram given to quic_conn_input().
 */
struct quic_stats {
	uint64_t tx_packets, tx_bytes;		/* handed to cfg.send */
	uint64_t rx_packets, rx_bytes;
	uint64_t send_errors;			/* cfg.send refused (QUIC sees loss) */
	uint64_t rx_dropped;			/* before the connection (not our Initial) or
						 * after it closed */
	uint64_t streams_opened, streams_closed;
	uint64_t carrier_changes;		/* quic_conn_carrier_up() calls */
	uint64_t srtt_ns, min_rtt_ns, cwnd, bytes_in_flight;
	uint64_t pto_count;			/* probe timeouts in a row now */
};

/*
 * Make a connection from @cfg (copied; the identity is borrowed). A client
 * sends nothing until quic_conn_connect(); a server waits for the client's
 * Initial. @return 0 and *@out, or -EINVAL (missing identity, send, tag or
 * pin; a size out of range), -ENOMEM.
 */
int quic_conn_create(struct quic_conn **out, const struct quic_config *cfg);

/* Free @c and its streams (no events). NULL is a no-op. Not from a callback. */
void quic_conn_destroy(struct quic_conn *c);

/*
 * Client: start the handshake (the Initial goes out now).
 * @return 0, -EINVAL (a server), -EALREADY, -ENOMEM, -EIO.
 */
int quic_conn_connect(struct quic_conn *c, uint64_t now_ns);

/*
 * Process one datagram (one CHANNEL_DATA payload). Bad, foreign, replayed or
 * undecryptable datagrams are dropped by QUIC and change nothing.
 * @return 0, or -EBUSY (from a callback). Failures end the connection
 * (QUIC_EV_CLOSED), they are not returned.
 */
int quic_conn_input(struct quic_conn *c, const uint8_t *pkt, size_t len, uint64_t now_ns);

/*
 * Run the timers due at @now_ns (loss detection, retransmission, ACK delay,
 * keepalive, idle and handshake timeouts, pacing) and send what is due.
 * @return quic_conn_next_deadline(c).
 */
uint64_t quic_conn_tick(struct quic_conn *c, uint64_t now_ns);

/*
 * @return when quic_conn_tick() has work next, or QUIC_NEVER; 0 while a send
 * is owed (cfg.defer_send: until quic_conn_flush()).
 */
uint64_t quic_conn_next_deadline(const struct quic_conn *c);

/*
 * cfg.defer_send: send what the calls since the last flush made ready
 * (as many datagrams as congestion control and pacing allow now; the rest at
 * a deadline). Without defer_send there is never anything owed: a no-op.
 * Not from a callback (a no-op there).
 */
void quic_conn_flush(struct quic_conn *c, uint64_t now_ns);

/*
 * The carrier is back (a new hop channel, after RESUME): counted, and a
 * chance to send what is ready now. Safe to call any time. @return as
 * quic_conn_input().
 */
int quic_conn_carrier_up(struct quic_conn *c, uint64_t now_ns);

/*
 * Close with application error @code (QUIC_APP_*) and @reason (may be NULL;
 * truncated to QUIC_REASON_MAX - 1): CONNECTION_CLOSE goes out, streams get
 * QUIC_EV_STREAM_CLOSED and the conn QUIC_EV_CLOSED (QUIC_ERR_LOCAL_CLOSED).
 * Keep the conn until quic_conn_is_done() to repeat the close to a peer that
 * keeps sending, or destroy it at once. @return 0 or -ENOTCONN (already closed).
 */
int quic_conn_close(struct quic_conn *c, uint64_t code, const char *reason, uint64_t now_ns);

/* @return true once the handshake is confirmed and until the conn closes. */
bool quic_conn_is_connected(const struct quic_conn *c);

/* @return true once closed (QUIC_EV_CLOSED was emitted). */
bool quic_conn_is_closed(const struct quic_conn *c);

/* @return true when closed and the closing period (3 PTO) is over. */
bool quic_conn_is_done(const struct quic_conn *c);

/* @return the connection tag, QUIC_TAG_LEN bytes (see Failover above). */
const uint8_t *quic_conn_tag(const struct quic_conn *c);

/*
 * The peer's certificate fingerprint: copied into @fp once the peer's
 * certificate has been received (also when it was refused).
 * @return true if there is one.
 */
bool quic_conn_peer_fingerprint(const struct quic_conn *c, uint8_t fp[QUIC_FP_LEN]);

enum quic_role quic_conn_role(const struct quic_conn *c);

/* Why the connection ended: QUIC_ERR_NONE while open. */
enum quic_error quic_conn_error(const struct quic_conn *c);

/*
 * A sentence for the log: "server certificate 3f1c… is not the pinned
 * 9ab0…", "refused by peer: TLS alert Bad certificate: client certificate
 * not allowed", "idle timeout"; "" while open.
 */
const char *quic_conn_error_text(const struct quic_conn *c);

/* @return "none", "pin_mismatch", ... (enum quic_error), or "unknown". */
const char *quic_error_name(unsigned error);

/* @return "connected", "closed", "stream_opened", ..., or "unknown". */
const char *quic_event_name(unsigned type);

void quic_conn_get_stats(struct quic_conn *c, struct quic_stats *out);

/*
 * Client: open a stream to @route (NUL-terminated, 1..63 of [A-Za-z0-9._-]);
 * its header is queued at once. @user is the stream's user pointer.
 * @return 0 and *@out, or -EINVAL (route), -ENOTCONN (not connected),
 * -EAGAIN (the server's stream limit: wait for QUIC_EV_STREAMS_AVAILABLE),
 * -ENOMEM, -EIO.
 */
int quic_stream_open(struct quic_conn *c, const char *route, void *user,
		     struct quic_stream **out, uint64_t now_ns);

/*
 * Queue up to @len bytes; packets go out at once as congestion control
 * allows. @return the count taken (0..@len; short = backpressure, see above),
 * or -EPIPE (finished, reset, or the peer sent STOP_SENDING), -ENOTCONN.
 */
ssize_t quic_stream_write(struct quic_stream *s, const void *buf, size_t len, uint64_t now_ns);

/* FIN after the queued bytes. @return 0, -EPIPE (already finished or reset), -ENOTCONN. */
int quic_stream_finish(struct quic_stream *s, uint64_t now_ns);

/*
 * Abort both directions with application error @code (RESET_STREAM and
 * STOP_SENDING). Queued bytes are dropped; QUIC_EV_STREAM_CLOSED follows when
 * the peer has acknowledged. @return 0, -ENOTCONN.
 */
int quic_stream_reset(struct quic_stream *s, uint64_t code, uint64_t now_ns);

/*
 * @n bytes delivered by on_data have left: return them to the peer as
 * receive credit. @return 0, -EINVAL (more than delivered), -ENOTCONN.
 */
int quic_stream_consume(struct quic_stream *s, size_t n, uint64_t now_ns);

/* @return how many bytes quic_stream_write() would take now. */
size_t quic_stream_room(const struct quic_stream *s);

int64_t quic_stream_id(const struct quic_stream *s);
/* @return the stream's route, NUL-terminated (on the server: once STREAM_OPENED). */
const char *quic_stream_route(const struct quic_stream *s);
struct quic_conn *quic_stream_conn(const struct quic_stream *s);
void *quic_stream_user(const struct quic_stream *s);
void quic_stream_set_user(struct quic_stream *s, void *user);

#endif /* POSTERN_ENDPOINT_QUIC_H */
