/*
 * quic.c — one E2E QUIC connection (docs/protocol.md §10) over ngtcp2, with
 * no I/O: datagrams in through quic_conn_input(), out through cfg.send.
 * States and their triggers: see quic_internal.h.
 *
 * ngtcp2 forbids calling its read and write functions from its callbacks,
 * and our users may call us from our callbacks. So every entry point raises
 * c->busy while it works; a flush or close asked for meanwhile is recorded
 * and done by settle() once the outermost call is about to return.
 *
 * The path: QUIC sees one fixed pair of (made-up) addresses for the life of
 * the connection. The hop channel underneath may be replaced (relay
 * failover, RESUME): that changes nothing QUIC can observe except loss, so
 * no migration or path validation ever starts (RFC 9000 §9 is not used; the
 * server also sets disable_active_migration).
 */
#include "endpoint/quic_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <openssl/rand.h>

enum {
	CID_LEN = 16,			/* our CIDs (the client's initial SCID is the tag) */
	FLUSH_PACKETS_MAX = 64,		/* per flush, then pacing decides (ngtcp2 send quantum) */
	FLUSH_STEPS_MAX = 4096,		/* writev calls per flush: a bound, never reached */
	SETTLE_ROUNDS = 4,
	STREAM_SNDBUF_MIN = 4096,
	PTO_CLOSE_FACTOR = 3,		/* RFC 9000 §10.2: closing/draining lasts 3 PTO */
};

/* ---- events and state ---- */

void quic_conn_emit(struct quic_conn *c, const struct quic_event *ev)
{
	if (c->on_event)
		c->on_event(c->ctx, ev);
}

static bool active(const struct quic_conn *c)
{
	return c->state == QC_HANDSHAKE || c->state == QC_OPEN;
}

/* Copy a peer's reason phrase for our log: printable ASCII only. */
static void sanitize(char *dst, size_t cap, const uint8_t *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < cap; i++)
		dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[n] = '\0';
}

static const char *alert_name(uint8_t alert)
{
	const char *name = gnutls_alert_get_name((gnutls_alert_description_t)alert);

	return name ? name : "unknown";
}

static void set_text(struct quic_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_text(struct quic_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error_text, sizeof(c->error_text), fmt, ap);
	va_end(ap);
}

/*
 * Leave HANDSHAKE/OPEN: every stream still here ends (STREAM_CLOSED with the
 * connection's error), then the connection (CLOSED).
 */
static void conn_ended(struct quic_conn *c, enum quic_state next, enum quic_error err,
		       uint64_t code, uint64_t now_ns)
{
	struct quic_event ev = { .type = QUIC_EV_CLOSED };

	c->state = next;
	if (next == QC_CLOSING || next == QC_DRAINING)
		c->close_end_ns = now_ns + PTO_CLOSE_FACTOR * ngtcp2_conn_get_pto(c->conn);
	if (c->closed_emitted)
		return;
	c->closed_emitted = true;
	c->error = err;
	c->error_code = code;
	if (c->error_text[0] == '\0')
		set_text(c, "%s", quic_error_name(err));
	while (c->streams)
		quic_stream_on_close(c->streams, false, 0, err);
	ev.error = err;
	ev.code = code;
	quic_conn_emit(c, &ev);
}

static int send_pkt(struct quic_conn *c, const uint8_t *pkt, size_t len)
{
	int ret = c->send(c->ctx, pkt, len);

	c->stats.tx_packets++;
	c->stats.tx_bytes += len;
	if (ret < 0)
		c->stats.send_errors++;
	return ret;
}

/*
 * Send CONNECTION_CLOSE (@cc) and enter CLOSING; the datagram is kept to be
 * repeated (RFC 9000 §10.2.1). If none can be written, the end is immediate.
 */
static void close_with(struct quic_conn *c, const ngtcp2_connection_close_error *cc,
		       enum quic_error err, uint64_t code, uint64_t now_ns)
{
	ngtcp2_ssize n;

	n = ngtcp2_conn_write_connection_close(c->conn, NULL, NULL, c->obuf, c->max_payload,
					       cc, now_ns);
	if (n <= 0) {
		conn_ended(c, QC_DONE, err, code, now_ns);
		return;
	}
	c->close_pkt = malloc((size_t)n);
	if (c->close_pkt) {
		memcpy(c->close_pkt, c->obuf, (size_t)n);
		c->close_len = (size_t)n;
	}
	send_pkt(c, c->obuf, (size_t)n);
	conn_ended(c, QC_CLOSING, err, code, now_ns);
}

/* A fatal ngtcp2 error here: close with the transport error it implies. */
static void fail(struct quic_conn *c, int liberr, uint64_t now_ns)
{
	ngtcp2_connection_close_error cc;
	enum quic_error err = QUIC_ERR_PROTOCOL;

	if (liberr == NGTCP2_ERR_NOMEM || liberr == NGTCP2_ERR_CALLBACK_FAILURE ||
	    liberr == NGTCP2_ERR_INTERNAL)
		err = QUIC_ERR_INTERNAL;
	if (c->error_text[0] == '\0')
		set_text(c, "%s: %s", err == QUIC_ERR_INTERNAL ? "internal error" :
			 "protocol error", ngtcp2_strerror(liberr));
	if (liberr == NGTCP2_ERR_DROP_CONN) {
		conn_ended(c, QC_DONE, err, 0, now_ns);
		return;
	}
	ngtcp2_connection_close_error_set_transport_error_liberr(&cc, liberr, NULL, 0);
	close_with(c, &cc, err, cc.error_code, now_ns);
}

/* Our TLS refused the peer, or failed: CRYPTO_ERROR with our alert and reason. */
static void tls_failed(struct quic_conn *c, uint64_t now_ns)
{
	ngtcp2_connection_close_error cc;
	uint8_t alert = ngtcp2_conn_get_tls_alert(c->conn);
	enum quic_error err = c->tls_error ? c->tls_error : QUIC_ERR_TLS;
	const char *reason = c->tls_reason ? c->tls_reason : "TLS handshake failed";

	if (c->error_text[0] == '\0')
		set_text(c, "TLS handshake failed: sent alert %s",
			 alert_name(alert));
	ngtcp2_connection_close_error_set_transport_error_tls_alert(
		&cc, alert, (const uint8_t *)reason, strlen(reason));
	close_with(c, &cc, err, cc.error_code, now_ns);
}

/* The peer's CONNECTION_CLOSE: why, for the log and the CLOSED event. */
static void peer_closed(struct quic_conn *c, uint64_t now_ns)
{
	ngtcp2_connection_close_error cc;
	char reason[QUIC_REASON_MAX / 2];
	enum quic_error err = QUIC_ERR_PEER_CLOSED;

	ngtcp2_conn_get_connection_close_error(c->conn, &cc);
	sanitize(reason, sizeof(reason), cc.reason, cc.reasonlen);
	if (cc.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT &&
	    (cc.error_code & ~UINT64_C(0xff)) == NGTCP2_CRYPTO_ERROR) {
		err = QUIC_ERR_PEER_REFUSED;
		set_text(c, "refused by peer: TLS alert %s%s%s",
			 alert_name((uint8_t)(cc.error_code & 0xff)), reason[0] ? ": " : "",
			 reason);
	} else {
		set_text(c, "closed by peer: %s error 0x%llx%s%s",
			 cc.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION ?
			 "application" : "transport", (unsigned long long)cc.error_code,
			 reason[0] ? ": " : "", reason);
	}
	conn_ended(c, QC_DRAINING, err, cc.error_code, now_ns);
}

/* ---- the send queue and the flush ---- */

void quic_sendq_add(struct quic_stream *s)
{
	struct quic_conn *c = s->conn;

	if (s->queued || s->blocked || s->closed)
		return;
	s->queued = true;
	s->q_next = NULL;
	s->q_prev = c->sendq_tail;
	if (c->sendq_tail)
		c->sendq_tail->q_next = s;
	else
		c->sendq_head = s;
	c->sendq_tail = s;
}

void quic_sendq_del(struct quic_stream *s)
{
	struct quic_conn *c = s->conn;

	if (!s->queued)
		return;
	if (s->q_prev)
		s->q_prev->q_next = s->q_next;
	else
		c->sendq_head = s->q_next;
	if (s->q_next)
		s->q_next->q_prev = s->q_prev;
	else
		c->sendq_tail = s->q_prev;
	s->queued = false;
	s->q_prev = s->q_next = NULL;
}

/* Round robin: a stream that got bytes into a packet goes to the back. */
static void sendq_rotate(struct quic_stream *s)
{
	if (s->queued && s->q_next) {
		quic_sendq_del(s);
		quic_sendq_add(s);
	}
}

/*
 * Write datagrams until ngtcp2 has nothing more, congestion control or
 * pacing says stop, or the send quantum is used up (the pacing timer in
 * ngtcp2_conn_get_expiry() brings us back). Stream frames of several streams
 * share a datagram (NGTCP2_WRITE_STREAM_FLAG_MORE).
 */
static void flush(struct quic_conn *c, uint64_t now_ns)
{
	size_t quantum = ngtcp2_conn_get_send_quantum(c->conn), sent = 0;
	bool conn_blocked = false;	/* connection-level credit exhausted */
	unsigned packets = 0;

	for (unsigned step = 0; step < FLUSH_STEPS_MAX && active(c); step++) {
		struct quic_stream *s = conn_blocked ? NULL : c->sendq_head;
		ngtcp2_vec v[2];
		size_t nv = 0, avail = 0;
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_NONE;
		ngtcp2_ssize ndata = -1, n;
		int64_t sid = -1;

		if (s) {
			sid = s->id;
			nv = quic_stream_unsent(s, v);
			avail = s->written - s->sent;
			flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
			if (s->fin_wanted)
				flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		}
		n = ngtcp2_conn_writev_stream(c->conn, NULL, NULL, c->obuf, c->max_payload, &ndata,
					      flags, sid, v, nv, now_ns);
		if (n < 0 && !s) {
			fail(c, (int)n, now_ns);	/* the stream errors below need a stream */
			return;
		}
		if (n < 0) {
			switch (n) {
			case NGTCP2_ERR_WRITE_MORE:
				quic_stream_sent(s, (size_t)ndata, s->fin_wanted &&
						 (size_t)ndata == avail);
				sendq_rotate(s);
				continue;
			case NGTCP2_ERR_STREAM_DATA_BLOCKED:
				if (ngtcp2_conn_get_max_stream_data_left(c->conn, sid) == 0) {
					s->blocked = true;	/* until extend_max_stream_data */
					quic_sendq_del(s);
				} else {
					conn_blocked = true;	/* until MAX_DATA: next input */
				}
				continue;
			case NGTCP2_ERR_STREAM_SHUT_WR:
			case NGTCP2_ERR_STREAM_NOT_FOUND:
				/* Reset, or STOP_SENDING answered by ngtcp2: nothing more goes. */
				s->wr_shut = true;
				s->sent = s->written;
				quic_sendq_del(s);
				continue;
			default:
				fail(c, (int)n, now_ns);
				return;
			}
		}
		if (n == 0)
			break;
		if (s && ndata >= 0) {
			quic_stream_sent(s, (size_t)ndata, s->fin_wanted && (size_t)ndata == avail);
			sendq_rotate(s);
		}
		send_pkt(c, c->obuf, (size_t)n);
		sent += (size_t)n;
		if (++packets >= FLUSH_PACKETS_MAX || sent >= quantum)
			break;
	}
	ngtcp2_conn_update_pkt_tx_time(c->conn, now_ns);
}

/* Do what was deferred while busy: a requested close, then sending. */
static void settle(struct quic_conn *c, uint64_t now_ns)
{
	for (int round = 0; round < SETTLE_ROUNDS && c->busy == 0; round++) {
		bool work = false;

		c->busy++;
		if (c->close_pending && active(c)) {
			ngtcp2_connection_close_error cc;

			c->close_pending = false;
			ngtcp2_connection_close_error_set_application_error(
				&cc, c->close_code, (const uint8_t *)c->close_reason,
				strlen(c->close_reason));
			set_text(c, "closed here: application error 0x%llx%s%s",
				 (unsigned long long)c->close_code, c->close_reason[0] ? ": " : "",
				 c->close_reason);
			close_with(c, &cc, QUIC_ERR_LOCAL_CLOSED, c->close_code, now_ns);
			work = true;
		}
		if (c->flush_wanted) {
			c->flush_wanted = false;
			if (active(c))
				flush(c, now_ns);
			work = true;
		}
		c->busy--;
		if (!work)
			break;
	}
}

void quic_conn_kick(struct quic_conn *c, uint64_t now_ns)
{
	c->flush_wanted = true;
	/* defer_send: quic_conn_flush() settles (a pending close settles at once). */
	if (!c->defer_send || c->close_pending)
		settle(c, now_ns);
}

void quic_conn_flush(struct quic_conn *c, uint64_t now_ns)
{
	if (c->flush_wanted || c->close_pending)
		settle(c, now_ns);
}

/* ---- ngtcp2 callbacks ---- */

static void rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *rand_ctx)
{
	(void)rand_ctx;
	/* ngtcp2 uses these for non-cryptographic choices (padding, greasing). */
	if (RAND_bytes(dest, (int)len) != 1)
		(void)gnutls_rnd(GNUTLS_RND_NONCE, dest, len);
}

static int new_cid_cb(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
		      void *user)
{
	(void)conn;
	(void)user;
	if (RAND_bytes(cid->data, (int)cidlen) != 1 ||
	    RAND_bytes(token, NGTCP2_STATELESS_RESET_TOKENLEN) != 1)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	cid->datalen = cidlen;
	return 0;
}

static void connected(struct quic_conn *c)
{
	struct quic_event ev = { .type = QUIC_EV_CONNECTED };

	c->state = QC_OPEN;
	quic_conn_emit(c, &ev);
}

/* Server: TLS is done, which for a server is confirmation (RFC 9001 §4.1.2). */
static int handshake_completed_cb(ngtcp2_conn *conn, void *user)
{
	struct quic_conn *c = user;

	(void)conn;
	if (c->role == QUIC_SERVER)
		connected(c);
	return 0;
}

/* Client: HANDSHAKE_DONE came, so the server accepted our certificate too. */
static int handshake_confirmed_cb(ngtcp2_conn *conn, void *user)
{
	struct quic_conn *c = user;

	(void)conn;
	if (c->role == QUIC_CLIENT)
		connected(c);
	return 0;
}

static int stream_open_cb(ngtcp2_conn *conn, int64_t id, void *user)
{
	struct quic_conn *c = user;
	struct quic_stream *s;

	s = quic_stream_new(c, id);
	if (!s)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	ngtcp2_conn_set_stream_user_data(conn, id, s);
	return 0;
}

static int recv_stream_data_cb(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t offset,
			       const uint8_t *data, size_t len, void *user, void *stream_user)
{
	struct quic_stream *s = stream_user;

	(void)conn;
	(void)id;
	(void)offset;
	(void)user;
	if (!s)
		return 0;	/* freed with the connection's end; ngtcp2 counts it */
	return quic_stream_on_data(s, data, len, flags & NGTCP2_STREAM_DATA_FLAG_FIN) < 0 ?
	       NGTCP2_ERR_CALLBACK_FAILURE : 0;
}

static int acked_cb(ngtcp2_conn *conn, int64_t id, uint64_t offset, uint64_t len, void *user,
		    void *stream_user)
{
	(void)conn;
	(void)id;
	(void)user;
	if (stream_user)
		quic_stream_on_acked(stream_user, offset, len);
	return 0;
}

static int stream_reset_cb(ngtcp2_conn *conn, int64_t id, uint64_t final_size, uint64_t code,
			   void *user, void *stream_user)
{
	(void)conn;
	(void)id;
	(void)final_size;
	(void)user;
	if (stream_user)
		quic_stream_on_reset(stream_user, code);
	return 0;
}

static int stream_close_cb(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t code,
			   void *user, void *stream_user)
{
	struct quic_conn *c = user;
	bool has_code = flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET;

	if (stream_user)
		quic_stream_on_close(stream_user, has_code, code, QUIC_ERR_NONE);
	/* The server lets the client open one more for each that ends. */
	if (c->role == QUIC_SERVER && !ngtcp2_conn_is_local_stream(conn, id))
		ngtcp2_conn_extend_max_streams_bidi(conn, 1);
	return 0;
}

static int extend_stream_data_cb(ngtcp2_conn *conn, int64_t id, uint64_t max_data, void *user,
				 void *stream_user)
{
	(void)conn;
	(void)id;
	(void)max_data;
	(void)user;
	if (stream_user)
		quic_stream_on_credit(stream_user);
	return 0;
}

static int extend_local_bidi_cb(ngtcp2_conn *conn, uint64_t max_streams, void *user)
{
	struct quic_conn *c = user;
	struct quic_event ev = { .type = QUIC_EV_STREAMS_AVAILABLE };

	(void)conn;
	(void)max_streams;
	if (c->role == QUIC_CLIENT && c->state == QC_OPEN)
		quic_conn_emit(c, &ev);
	return 0;
}

static const ngtcp2_callbacks callbacks_template = {
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = handshake_completed_cb,
	.handshake_confirmed = handshake_confirmed_cb,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = recv_stream_data_cb,
	.acked_stream_data_offset = acked_cb,
	.stream_open = stream_open_cb,
	.stream_close = stream_close_cb,
	.stream_reset = stream_reset_cb,
	.extend_max_local_streams_bidi = extend_local_bidi_cb,
	.extend_max_stream_data = extend_stream_data_cb,
	.rand = rand_cb,
	.get_new_connection_id = new_cid_cb,
	.update_key = ngtcp2_crypto_update_key_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

/* ---- creation ---- */

static void settings_init(const struct quic_conn *c, ngtcp2_settings *s, uint64_t now_ns)
{
	ngtcp2_settings_default(s);
	s->initial_ts = now_ns;
	s->handshake_timeout = c->handshake_timeout_ns;
	/*
	 * The carrier's size is known and fixed (one CHANNEL_DATA): use it all
	 * from the start, with no probing (a lost probe would look like loss
	 * of the relay path, which it is not).
	 */
	s->max_tx_udp_payload_size = c->max_payload;
	s->no_tx_udp_payload_size_shaping = 1;
	s->no_pmtud = 1;
}

static void params_init(const struct quic_conn *c, ngtcp2_transport_params *p)
{
	ngtcp2_transport_params_default(p);
	p->initial_max_stream_data_bidi_local = c->stream_window;
	p->initial_max_stream_data_bidi_remote = c->stream_window;
	p->initial_max_stream_data_uni = 0;
	p->initial_max_data = c->conn_window;
	/* Only the client opens streams, and only bidirectional ones (§10.1). */
	p->initial_max_streams_bidi = c->role == QUIC_SERVER ? c->max_streams : 0;
	p->initial_max_streams_uni = 0;
	p->max_idle_timeout = c->idle_timeout_ns;
	p->max_udp_payload_size = c->max_payload;
	p->disable_active_migration = 1;
}

/* After ngtcp2_conn_*_new: TLS, keepalive, and the handshake state. */
static int conn_started(struct quic_conn *c)
{
	int ret = quic_tls_session_init(c);

	if (ret < 0) {
		ngtcp2_conn_del(c->conn);
		c->conn = NULL;
		return ret;
	}
	if (c->keepalive_ns != QUIC_NEVER)
		ngtcp2_conn_set_keep_alive_timeout(c->conn, c->keepalive_ns);
	c->state = QC_HANDSHAKE;
	return 0;
}

static void path_init(struct quic_conn *c)
{
	/* Documentation prefix addresses, ports 1 (client) and 2 (server). */
	struct sockaddr_in6 client = { .sin6_family = AF_INET6, .sin6_port = htons(1) };
	struct sockaddr_in6 server = { .sin6_family = AF_INET6, .sin6_port = htons(2) };

	inet_pton(AF_INET6, "2001:db8::1", &client.sin6_addr);
	inet_pton(AF_INET6, "2001:db8::2", &server.sin6_addr);
	c->addr_local = c->role == QUIC_CLIENT ? client : server;
	c->addr_remote = c->role == QUIC_CLIENT ? server : client;
	c->path.local.addr = (ngtcp2_sockaddr *)&c->addr_local;
	c->path.local.addrlen = sizeof(c->addr_local);
	c->path.remote.addr = (ngtcp2_sockaddr *)&c->addr_remote;
	c->path.remote.addrlen = sizeof(c->addr_remote);
}

static bool config_valid(const struct quic_config *cfg)
{
	if (!cfg || !cfg->identity || !cfg->send)
		return false;
	if (cfg->role != QUIC_CLIENT && cfg->role != QUIC_SERVER)
		return false;
	if (cfg->role == QUIC_CLIENT && !cfg->server_fp)
		return false;
	if (cfg->role == QUIC_SERVER && !cfg->tag)
		return false;
	if (cfg->n_allowed && !cfg->allowed_fps)
		return false;
	if (cfg->max_payload && (cfg->max_payload < QUIC_PAYLOAD_MIN ||
				 cfg->max_payload > QUIC_PAYLOAD_MAX))
		return false;
	if (cfg->sndbuf && cfg->sndbuf < STREAM_SNDBUF_MIN)
		return false;
	return true;
}

int quic_conn_create(struct quic_conn **out, const struct quic_config *cfg)
{
	struct quic_conn *c;

	if (!out || !config_valid(cfg))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->role = cfg->role;
	c->identity = cfg->identity;
	if (cfg->tag)
		memcpy(c->tag, cfg->tag, QUIC_TAG_LEN);
	else if (RAND_bytes(c->tag, QUIC_TAG_LEN) != 1)
		goto err_conn;
	if (cfg->server_fp)
		memcpy(c->server_fp, cfg->server_fp, QUIC_FP_LEN);
	if (cfg->n_allowed) {
		c->allowed = malloc(cfg->n_allowed * QUIC_FP_LEN);
		if (!c->allowed)
			goto err_conn;
		memcpy(c->allowed, cfg->allowed_fps, cfg->n_allowed * QUIC_FP_LEN);
		c->n_allowed = cfg->n_allowed;
	}
	c->authorize = cfg->authorize;
	c->max_payload = cfg->max_payload ? cfg->max_payload : QUIC_PAYLOAD_DEFAULT;
	c->idle_timeout_ns = cfg->idle_timeout_ns ? cfg->idle_timeout_ns :
			     QUIC_IDLE_TIMEOUT_DEFAULT_NS;
	c->keepalive_ns = cfg->keepalive_ns ? cfg->keepalive_ns : QUIC_KEEPALIVE_DEFAULT_NS;
	c->handshake_timeout_ns = cfg->handshake_timeout_ns ? cfg->handshake_timeout_ns :
				  QUIC_HANDSHAKE_TIMEOUT_DEFAULT_NS;
	c->stream_window = cfg->stream_window ? cfg->stream_window : QUIC_STREAM_WINDOW_DEFAULT;
	c->conn_window = cfg->conn_window ? cfg->conn_window : QUIC_CONN_WINDOW_DEFAULT;
	c->sndbuf = cfg->sndbuf ? cfg->sndbuf : QUIC_SNDBUF_DEFAULT;
	c->max_streams = cfg->max_streams ? cfg->max_streams : QUIC_MAX_STREAMS_DEFAULT;
	c->send = cfg->send;
	c->defer_send = cfg->defer_send;
	c->on_event = cfg->on_event;
	c->on_data = cfg->on_data;
	c->ctx = cfg->ctx;
	c->obuf = malloc(c->max_payload);
	if (!c->obuf)
		goto err_allowed;
	path_init(c);
	*out = c;
	return 0;

err_allowed:
	free(c->allowed);
err_conn:
	free(c);
	return -ENOMEM;
}

void quic_conn_destroy(struct quic_conn *c)
{
	if (!c)
		return;
	while (c->streams)
		quic_stream_free(c->streams);
	if (c->conn)
		ngtcp2_conn_del(c->conn);
	quic_tls_session_fini(c);
	free(c->close_pkt);
	free(c->obuf);
	free(c->allowed);
	free(c);
}

int quic_conn_connect(struct quic_conn *c, uint64_t now_ns)
{
	ngtcp2_callbacks cb = callbacks_template;
	ngtcp2_settings settings;
	ngtcp2_transport_params params;
	ngtcp2_cid dcid, scid;
	int ret;

	if (c->role != QUIC_CLIENT)
		return -EINVAL;
	if (c->state != QC_IDLE || c->conn)
		return -EALREADY;
	if (c->busy)
		return -EBUSY;
	/* RFC 9000 §7.2: a random DCID of at least 8 bytes; our SCID is the tag. */
	dcid.datalen = CID_LEN;
	if (RAND_bytes(dcid.data, CID_LEN) != 1)
		return -EIO;
	ngtcp2_cid_init(&scid, c->tag, QUIC_TAG_LEN);
	cb.client_initial = ngtcp2_crypto_client_initial_cb;
	cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
	settings_init(c, &settings, now_ns);
	params_init(c, &params);
	ret = ngtcp2_conn_client_new(&c->conn, &dcid, &scid, &c->path, NGTCP2_PROTO_VER_V1, &cb,
				     &settings, &params, NULL, c);
	if (ret != 0)
		return ret == NGTCP2_ERR_NOMEM ? -ENOMEM : -EIO;
	ret = conn_started(c);
	if (ret < 0)
		return ret;
	quic_conn_kick(c, now_ns);
	return 0;
}

/*
 * Server: the first datagram must be the client's Initial carrying our tag
 * as its source connection ID (which binds the QUIC connection to the
 * CHANNEL_OPEN that named it). @return true if the connection now exists.
 */
static bool accept_initial(struct quic_conn *c, const uint8_t *pkt, size_t len,
			   uint64_t now_ns)
{
	ngtcp2_callbacks cb = callbacks_template;
	ngtcp2_settings settings;
	ngtcp2_transport_params params;
	ngtcp2_pkt_hd hd;
	ngtcp2_cid scid;

	if (ngtcp2_accept(&hd, pkt, len) != 0 || hd.scid.datalen != QUIC_TAG_LEN ||
	    memcmp(hd.scid.data, c->tag, QUIC_TAG_LEN) != 0)
		return false;
	scid.datalen = CID_LEN;
	if (RAND_bytes(scid.data, CID_LEN) != 1)
		return false;
	cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
	settings_init(c, &settings, now_ns);
	params_init(c, &params);
	params.original_dcid = hd.dcid;
	params.stateless_reset_token_present = 1;
	if (RAND_bytes(params.stateless_reset_token, NGTCP2_STATELESS_RESET_TOKENLEN) != 1)
		return false;
	if (ngtcp2_conn_server_new(&c->conn, &hd.scid, &scid, &c->path, hd.version, &cb,
				   &settings, &params, NULL, c) != 0)
		return false;
	return conn_started(c) == 0;
}

static void read_failed(struct quic_conn *c, int rv, uint64_t now_ns)
{
	switch (rv) {
	case NGTCP2_ERR_DRAINING:
		peer_closed(c, now_ns);
		break;
	case NGTCP2_ERR_CRYPTO:
		tls_failed(c, now_ns);
		break;
	case NGTCP2_ERR_RETRY:		/* we never ask for Retry: cannot happen */
	case NGTCP2_ERR_DROP_CONN:
		set_text(c, "protocol error: %s", ngtcp2_strerror(rv));
		conn_ended(c, QC_DONE, QUIC_ERR_PROTOCOL, 0, now_ns);
		break;
	default:
		/* A TLS refusal can surface as a callback failure too. */
		if (c->tls_error) {
			tls_failed(c, now_ns);
			break;
		}
		fail(c, rv, now_ns);
		break;
	}
}

/*
 * Server: the datagram that created the connection was not a real Initial
 * after all (it does not decrypt): forget it and wait for the real one.
 */
static void unaccept(struct quic_conn *c)
{
	ngtcp2_conn_del(c->conn);
	c->conn = NULL;
	quic_tls_session_fini(c);
	c->state = QC_IDLE;
	c->stats.rx_dropped++;
}

int quic_conn_input(struct quic_conn *c, const uint8_t *pkt, size_t len, uint64_t now_ns)
{
	bool fresh = false;
	int rv;

	if (c->busy)
		return -EBUSY;
	c->stats.rx_packets++;
	c->stats.rx_bytes += len;
	if (c->state == QC_CLOSING && now_ns < c->close_end_ns) {
		/*
		 * RFC 9000 §10.2.1: answer what still arrives with our close,
		 * less and less often (datagrams 1, 2, 4, 8, ... of the period).
		 */
		c->closing_rx++;
		if (c->close_pkt && (c->closing_rx & (c->closing_rx - 1)) == 0)
			send_pkt(c, c->close_pkt, c->close_len);
		return 0;
	}
	if (c->state == QC_IDLE && c->role == QUIC_SERVER && pkt) {
		if (!accept_initial(c, pkt, len, now_ns)) {
			c->stats.rx_dropped++;
			return 0;
		}
		fresh = true;
	}
	if (!active(c) || !pkt) {
		c->stats.rx_dropped++;
		return 0;
	}
	c->busy++;
	rv = ngtcp2_conn_read_pkt(c->conn, &c->path, NULL, pkt, len, now_ns);
	/* A ClientHello we refuse (NGTCP2_ERR_CRYPTO) still gets its answer. */
	if (rv != 0 && fresh && rv != NGTCP2_ERR_CRYPTO)
		unaccept(c);
	else if (rv != 0)
		read_failed(c, rv, now_ns);
	c->busy--;
	quic_conn_kick(c, now_ns);
	return 0;
}

uint64_t quic_conn_tick(struct quic_conn *c, uint64_t now_ns)
{
	int rv;

	if (c->busy)
		return quic_conn_next_deadline(c);
	if ((c->state == QC_CLOSING || c->state == QC_DRAINING) && now_ns >= c->close_end_ns)
		c->state = QC_DONE;
	if (active(c) && ngtcp2_conn_get_expiry(c->conn) <= now_ns) {
		c->busy++;
		rv = ngtcp2_conn_handle_expiry(c->conn, now_ns);
		if (rv == NGTCP2_ERR_IDLE_CLOSE) {
			set_text(c, "idle timeout");
			conn_ended(c, QC_DONE, QUIC_ERR_IDLE_TIMEOUT, 0, now_ns);
		} else if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
			set_text(c, "handshake timeout");
			conn_ended(c, QC_DONE, QUIC_ERR_HANDSHAKE_TIMEOUT, 0, now_ns);
		} else if (rv != 0) {
			fail(c, rv, now_ns);
		}
		c->busy--;
	}
	quic_conn_kick(c, now_ns);
	return quic_conn_next_deadline(c);
}

uint64_t quic_conn_next_deadline(const struct quic_conn *c)
{
	ngtcp2_tstamp t;

	if (c->state == QC_CLOSING || c->state == QC_DRAINING)
		return c->close_end_ns;
	if (!active(c))
		return QUIC_NEVER;
	if (c->flush_wanted)
		return 0;	/* defer_send: quic_conn_flush() is owed */
	t = ngtcp2_conn_get_expiry(c->conn);
	return t == UINT64_MAX ? QUIC_NEVER : t;
}

int quic_conn_carrier_up(struct quic_conn *c, uint64_t now_ns)
{
	if (c->busy)
		return -EBUSY;
	c->stats.carrier_changes++;
	quic_conn_kick(c, now_ns);
	return 0;
}

int quic_conn_close(struct quic_conn *c, uint64_t code, const char *reason, uint64_t now_ns)
{
	if (c->state == QC_IDLE) {
		set_text(c, "closed before the handshake");
		conn_ended(c, QC_DONE, QUIC_ERR_LOCAL_CLOSED, code, now_ns);
		return 0;
	}
	if (!active(c) || c->close_pending)
		return -ENOTCONN;
	c->close_pending = true;
	c->close_code = code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason ? reason : "");
	settle(c, now_ns);
	return 0;
}

bool quic_conn_is_connected(const struct quic_conn *c)
{
	return c->state == QC_OPEN;
}

bool quic_conn_is_closed(const struct quic_conn *c)
{
	return c->closed_emitted;
}

bool quic_conn_is_done(const struct quic_conn *c)
{
	return c->state == QC_DONE;
}

const uint8_t *quic_conn_tag(const struct quic_conn *c)
{
	return c->tag;
}

bool quic_conn_peer_fingerprint(const struct quic_conn *c, uint8_t fp[QUIC_FP_LEN])
{
	if (!c->have_peer_fp)
		return false;
	memcpy(fp, c->peer_fp, QUIC_FP_LEN);
	return true;
}

enum quic_role quic_conn_role(const struct quic_conn *c)
{
	return c->role;
}

enum quic_error quic_conn_error(const struct quic_conn *c)
{
	return c->error;
}

const char *quic_conn_error_text(const struct quic_conn *c)
{
	return c->closed_emitted ? c->error_text : "";
}

void quic_conn_get_stats(struct quic_conn *c, struct quic_stats *out)
{
	ngtcp2_conn_stat cs;

	*out = c->stats;
	if (!c->conn)
		return;
	ngtcp2_conn_get_conn_stat(c->conn, &cs);
	out->srtt_ns = cs.smoothed_rtt;
	out->min_rtt_ns = cs.min_rtt == UINT64_MAX ? 0 : cs.min_rtt;
	out->cwnd = cs.cwnd;
	out->bytes_in_flight = cs.bytes_in_flight;
	out->pto_count = cs.pto_count;
}

const char *quic_error_name(unsigned error)
{
	static const char *const names[QUIC_ERR_MAX] = {
		[QUIC_ERR_NONE] = "none",
		[QUIC_ERR_PIN_MISMATCH] = "pin_mismatch",
		[QUIC_ERR_CLIENT_REFUSED] = "client_refused",
		[QUIC_ERR_TLS] = "tls",
		[QUIC_ERR_PEER_REFUSED] = "peer_refused",
		[QUIC_ERR_PEER_CLOSED] = "peer_closed",
		[QUIC_ERR_LOCAL_CLOSED] = "local_closed",
		[QUIC_ERR_IDLE_TIMEOUT] = "idle_timeout",
		[QUIC_ERR_HANDSHAKE_TIMEOUT] = "handshake_timeout",
		[QUIC_ERR_PROTOCOL] = "protocol",
		[QUIC_ERR_INTERNAL] = "internal",
	};

	return error < QUIC_ERR_MAX ? names[error] : "unknown";
}

const char *quic_event_name(unsigned type)
{
	static const char *const names[] = {
		[QUIC_EV_CONNECTED] = "connected",
		[QUIC_EV_CLOSED] = "closed",
		[QUIC_EV_STREAM_OPENED] = "stream_opened",
		[QUIC_EV_STREAM_RESET] = "stream_reset",
		[QUIC_EV_STREAM_WRITABLE] = "stream_writable",
		[QUIC_EV_STREAM_CLOSED] = "stream_closed",
		[QUIC_EV_STREAMS_AVAILABLE] = "streams_available",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}
