/*
 * quic_internal.h — what quic.c, quic_stream.c and quic_tls.c share: the
 * connection and stream structures and the helpers between the files. Not a
 * public header: users include endpoint/quic.h.
 *
 * Connection states (c->state):
 *
 *	IDLE ──client: quic_conn_connect / server: our Initial──▶ HANDSHAKE
 *	HANDSHAKE ──confirmed (client: HANDSHAKE_DONE; server: TLS done)──▶ OPEN
 *	HANDSHAKE, OPEN ──we close (API, TLS refusal, protocol error)──▶ CLOSING
 *	HANDSHAKE, OPEN ──the peer's CONNECTION_CLOSE──▶ DRAINING
 *	CLOSING, DRAINING ──3 PTO (RFC 9000 §10.2)──▶ DONE
 *	HANDSHAKE, OPEN ──idle or handshake timeout, fatal error──▶ DONE
 *
 * QUIC_EV_CLOSED is emitted on leaving HANDSHAKE/OPEN. In CLOSING the saved
 * CONNECTION_CLOSE datagram is sent again for received datagrams 1, 2, 4, 8,
 * ... (RFC 9000 §10.2.1); in DRAINING nothing is sent.
 */
#ifndef POSTERN_ENDPOINT_QUIC_INTERNAL_H
#define POSTERN_ENDPOINT_QUIC_INTERNAL_H

#include <netinet/in.h>

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include "endpoint/quic.h"

#define QUIC_ALPN "postern/1"

enum quic_state {
	QC_IDLE,
	QC_HANDSHAKE,
	QC_OPEN,
	QC_CLOSING,
	QC_DRAINING,
	QC_DONE,
};

struct quic_stream {
	struct quic_conn *conn;
	int64_t id;
	void *user;
	char route[QUIC_ROUTE_MAX + 1];
	struct quic_stream *prev, *next;	/* c->streams */
	struct quic_stream *q_prev, *q_next;	/* c->sendq: unsent bytes or FIN */

	/*
	 * Send side: a ring of sndbuf bytes holding stream offsets
	 * [acked, written); [sent, written) has not been handed to ngtcp2 yet.
	 * ngtcp2 keeps pointers into [acked, sent) for retransmission until
	 * acked_stream_data_offset moves acked past them.
	 */
	uint8_t *ring;
	uint32_t cap;
	uint64_t acked, sent, written;
	bool queued;				/* on c->sendq */
	bool fin_wanted;			/* quic_stream_finish() */
	bool fin_sent;
	bool wr_shut;				/* finished, reset, or STOP_SENDING */
	bool rd_shut;				/* reset by us: deliver nothing more */
	bool blocked;				/* no stream credit; off the queue */
	bool want_writable;			/* a write came up short */

	/* Receive side. */
	uint8_t hdr[QUIC_STREAM_HEADER_MAX];	/* server: the header so far */
	uint8_t hdr_len;
	bool announced;				/* client: always; server: OPENED emitted */
	bool refused;				/* server: bad header, reset by us */
	uint64_t delivered, consumed;		/* bytes after the header */
	bool closed;				/* STREAM_CLOSED emitted */
};

struct quic_conn {
	/* Configuration. */
	enum quic_role role;
	const struct quic_identity *identity;
	uint8_t tag[QUIC_TAG_LEN];
	uint8_t server_fp[QUIC_FP_LEN];
	uint8_t (*allowed)[QUIC_FP_LEN];
	size_t n_allowed;
	quic_authorize_fn authorize;
	size_t max_payload;
	uint64_t idle_timeout_ns, keepalive_ns, handshake_timeout_ns;
	uint32_t stream_window, conn_window, sndbuf, max_streams;
	quic_send_fn send;
	bool defer_send;
	quic_event_fn on_event;
	quic_data_fn on_data;
	void *ctx;

	/* ngtcp2 and GnuTLS. */
	ngtcp2_crypto_conn_ref ref;		/* gnutls_session_get_ptr() → &ref */
	ngtcp2_conn *conn;
	gnutls_session_t tls;
	struct sockaddr_in6 addr_local, addr_remote;	/* the one virtual path */
	ngtcp2_path path;

	enum quic_state state;
	unsigned busy;				/* inside one of our calls: defer flushes */
	bool flush_wanted;
	bool close_pending;			/* quic_conn_close() while busy */
	uint64_t close_code;
	char close_reason[QUIC_REASON_MAX / 2];
	bool closed_emitted;

	/* Peer certificate and the TLS verdict (quic_tls.c). */
	uint8_t peer_fp[QUIC_FP_LEN];
	bool have_peer_fp;
	enum quic_error tls_error;		/* set when we refuse the peer */
	const char *tls_reason;			/* reason phrase we send with it */

	/* The end. */
	enum quic_error error;
	uint64_t error_code;
	char error_text[QUIC_REASON_MAX];
	uint8_t *close_pkt;			/* CLOSING: our CONNECTION_CLOSE */
	size_t close_len;
	uint64_t closing_rx;			/* datagrams received while CLOSING */
	uint64_t close_end_ns;			/* CLOSING/DRAINING → DONE */

	struct quic_stream *streams;
	struct quic_stream *sendq_head, *sendq_tail;
	struct quic_stats stats;
	uint8_t *obuf;				/* max_payload bytes: the datagram being built */
};

/* quic.c */
void quic_conn_emit(struct quic_conn *c, const struct quic_event *ev);
/*
 * Send what is ready now, or after the outermost call when inside one, or at
 * the next quic_conn_flush() with defer_send.
 */
void quic_conn_kick(struct quic_conn *c, uint64_t now_ns);
void quic_sendq_add(struct quic_stream *s);
void quic_sendq_del(struct quic_stream *s);

/* quic_stream.c: the ngtcp2 stream callbacks' work, and the flush's helpers. */
struct quic_stream *quic_stream_new(struct quic_conn *c, int64_t id);
void quic_stream_free(struct quic_stream *s);
int quic_stream_on_data(struct quic_stream *s, const uint8_t *data, size_t len, bool fin);
void quic_stream_on_acked(struct quic_stream *s, uint64_t offset, uint64_t len);
void quic_stream_on_reset(struct quic_stream *s, uint64_t code);
void quic_stream_on_close(struct quic_stream *s, bool has_code, uint64_t code,
			  enum quic_error conn_error);
void quic_stream_on_credit(struct quic_stream *s);
size_t quic_stream_unsent(const struct quic_stream *s, ngtcp2_vec v[2]);
void quic_stream_sent(struct quic_stream *s, size_t n, bool fin);

/* quic_tls.c */
int quic_tls_session_init(struct quic_conn *c);
void quic_tls_session_fini(struct quic_conn *c);

#endif /* POSTERN_ENDPOINT_QUIC_INTERNAL_H */
