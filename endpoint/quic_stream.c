/*
 * quic_stream.c — streams of an E2E connection (docs/protocol.md §10.4): the
 * route header, the send ring that holds bytes until the peer acknowledges
 * them, receive credit returned as the user consumes, FIN and RESET.
 *
 * Stream life (each direction on its own, RFC 9000 §3):
 *
 *	client: quic_stream_open() writes the header ──▶ bytes ──FIN or RESET──▶ shut
 *	server: bytes arrive ──header complete and valid──▶ STREAM_OPENED ──▶ bytes
 *	        header malformed, or FIN inside it ──▶ reset with BAD_HEADER, never announced
 *	both:   ngtcp2 stream_close ──▶ STREAM_CLOSED, then the handle is freed
 *
 * Flow control: the header's bytes are credited back at once; after it, the
 * peer's bytes are credited back only by quic_stream_consume(), so the
 * receive window bounds what the user must hold (RFC 9000 §4.1). Bytes
 * delivered but never consumed are credited to the connection when the
 * stream goes, so a forgetful user cannot starve the other streams.
 */
#include "endpoint/quic_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool route_char(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

static bool route_valid(const uint8_t *r, size_t len)
{
	if (len < 1 || len > QUIC_ROUTE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!route_char(r[i]))
			return false;
	return true;
}

struct quic_stream *quic_stream_new(struct quic_conn *c, int64_t id)
{
	struct quic_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->conn = c;
	s->id = id;
	s->announced = c->role == QUIC_CLIENT;
	s->next = c->streams;
	if (c->streams)
		c->streams->prev = s;
	c->streams = s;
	return s;
}

void quic_stream_free(struct quic_stream *s)
{
	struct quic_conn *c = s->conn;

	quic_sendq_del(s);
	if (s->prev)
		s->prev->next = s->next;
	else
		c->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (c->conn) {
		/* ngtcp2 may outlive us on this stream (closing): leave it no pointer. */
		ngtcp2_conn_set_stream_user_data(c->conn, s->id, NULL);
		if (s->delivered > s->consumed)
			ngtcp2_conn_extend_max_offset(c->conn, s->delivered - s->consumed);
	}
	free(s->ring);
	free(s);
}

static int ring_alloc(struct quic_stream *s)
{
	if (s->ring)
		return 0;
	s->ring = malloc(s->conn->sndbuf);
	if (!s->ring)
		return -ENOMEM;
	s->cap = s->conn->sndbuf;
	return 0;
}

static size_t ring_room(const struct quic_stream *s)
{
	return s->ring ? s->cap - (size_t)(s->written - s->acked) : s->conn->sndbuf;
}

static void ring_put(struct quic_stream *s, const uint8_t *buf, size_t n)
{
	size_t pos = (size_t)(s->written % s->cap);
	size_t first = n < s->cap - pos ? n : s->cap - pos;

	memcpy(s->ring + pos, buf, first);
	memcpy(s->ring, buf + first, n - first);
	s->written += n;
}

size_t quic_stream_unsent(const struct quic_stream *s, ngtcp2_vec v[2])
{
	size_t n = (size_t)(s->written - s->sent), pos, first;

	if (n == 0)
		return 0;
	pos = (size_t)(s->sent % s->cap);
	first = n < s->cap - pos ? n : s->cap - pos;
	v[0].base = s->ring + pos;
	v[0].len = first;
	if (first == n)
		return 1;
	v[1].base = s->ring;
	v[1].len = n - first;
	return 2;
}

void quic_stream_sent(struct quic_stream *s, size_t n, bool fin)
{
	s->sent += n;
	if (fin)
		s->fin_sent = true;
	if (s->sent == s->written && (!s->fin_wanted || s->fin_sent))
		quic_sendq_del(s);
}

void quic_stream_on_acked(struct quic_stream *s, uint64_t offset, uint64_t len)
{
	struct quic_event ev = { .type = QUIC_EV_STREAM_WRITABLE, .stream = s };

	if (offset + len > s->acked)
		s->acked = offset + len;
	/* Wake a blocked writer when half the buffer is free, not for every ACK. */
	if (s->want_writable && !s->wr_shut && ring_room(s) >= s->cap / 2) {
		s->want_writable = false;
		quic_conn_emit(s->conn, &ev);
	}
}

void quic_stream_on_credit(struct quic_stream *s)
{
	s->blocked = false;
	if (s->written > s->sent || (s->fin_wanted && !s->fin_sent))
		quic_sendq_add(s);
}

void quic_stream_on_reset(struct quic_stream *s, uint64_t code)
{
	struct quic_event ev = { .type = QUIC_EV_STREAM_RESET, .stream = s, .code = code };

	if (s->announced && !s->closed)
		quic_conn_emit(s->conn, &ev);
}

void quic_stream_on_close(struct quic_stream *s, bool has_code, uint64_t code,
			  enum quic_error conn_error)
{
	struct quic_event ev = {
		.type = QUIC_EV_STREAM_CLOSED, .stream = s, .has_code = has_code,
		.code = has_code ? code : 0, .error = conn_error,
	};

	if (!s->closed) {
		s->closed = true;
		if (s->announced) {
			s->conn->stats.streams_closed++;
			quic_conn_emit(s->conn, &ev);
		}
	}
	quic_stream_free(s);
}

/* Server: a malformed header. Abort the stream; the user never sees it. */
static void refuse(struct quic_stream *s)
{
	s->refused = true;
	s->wr_shut = s->rd_shut = true;
	ngtcp2_conn_shutdown_stream(s->conn->conn, s->id, QUIC_APP_BAD_HEADER);
}

/* Credit back bytes the user will never consume (header, refused, after reset). */
static void credit(struct quic_stream *s, size_t n)
{
	ngtcp2_conn_extend_max_stream_offset(s->conn->conn, s->id, n);
	ngtcp2_conn_extend_max_offset(s->conn->conn, n);
}

/*
 * Server: take header bytes from @data. @return how many it took; *@done once
 * the header is complete, valid and announced.
 */
static size_t take_header(struct quic_stream *s, const uint8_t *data, size_t len, bool *done)
{
	struct quic_event ev = { .type = QUIC_EV_STREAM_OPENED, .stream = s };
	size_t taken = 0;

	*done = false;
	while (taken < len) {
		size_t need = s->hdr_len < 2 ? 2 : 2 + (size_t)s->hdr[1];

		if (s->hdr_len == need)
			break;
		s->hdr[s->hdr_len++] = data[taken++];
		if (s->hdr_len == 1 && s->hdr[0] != QUIC_STREAM_HEADER_VERSION)
			return taken;
		if (s->hdr_len == 2 && (s->hdr[1] < 1 || s->hdr[1] > QUIC_ROUTE_MAX))
			return taken;
	}
	if (s->hdr_len < 2 || s->hdr_len < 2 + (size_t)s->hdr[1])
		return taken;
	if (!route_valid(s->hdr + 2, s->hdr[1]))
		return taken;
	memcpy(s->route, s->hdr + 2, s->hdr[1]);
	s->route[s->hdr[1]] = '\0';
	s->announced = true;
	s->conn->stats.streams_opened++;
	*done = true;
	ev.route = s->route;
	quic_conn_emit(s->conn, &ev);
	return taken;
}

/* True when the header bytes so far already break §10.4's rules. */
static bool header_broken(const struct quic_stream *s)
{
	if (s->hdr_len >= 1 && s->hdr[0] != QUIC_STREAM_HEADER_VERSION)
		return true;
	if (s->hdr_len >= 2 && (s->hdr[1] < 1 || s->hdr[1] > QUIC_ROUTE_MAX))
		return true;
	return s->hdr_len >= 2 && s->hdr_len == 2 + (size_t)s->hdr[1] &&
	       !route_valid(s->hdr + 2, s->hdr[1]);
}

int quic_stream_on_data(struct quic_stream *s, const uint8_t *data, size_t len, bool fin)
{
	struct quic_conn *c = s->conn;

	if (s->refused || s->rd_shut) {
		credit(s, len);
		return 0;
	}
	if (!s->announced) {
		bool done;
		size_t taken = take_header(s, data, len, &done);

		credit(s, taken);
		if (!done) {
			if (header_broken(s) || fin) {
				credit(s, len - taken);
				refuse(s);
			}
			return 0;
		}
		data += taken;
		len -= taken;
		/* The user may have reset it from STREAM_OPENED (unknown route). */
		if (s->rd_shut || s->closed) {
			credit(s, len);
			return 0;
		}
		if (len == 0 && !fin)
			return 0;
	}
	s->delivered += len;
	if (c->on_data)
		c->on_data(c->ctx, s, data, len, fin);
	else
		s->consumed = s->delivered;	/* dropped: credited when freed */
	return 0;
}

/* ---- the API ---- */

int quic_stream_open(struct quic_conn *c, const char *route, void *user,
		     struct quic_stream **out, uint64_t now_ns)
{
	uint8_t hdr[QUIC_STREAM_HEADER_MAX];
	size_t rlen = route ? strlen(route) : 0;
	struct quic_stream *s;
	int64_t id;
	int ret;

	if (!c || !out || c->role != QUIC_CLIENT || !route_valid((const uint8_t *)route, rlen))
		return -EINVAL;
	if (c->state != QC_OPEN)
		return -ENOTCONN;
	ret = ngtcp2_conn_open_bidi_stream(c->conn, &id, NULL);
	if (ret == NGTCP2_ERR_STREAM_ID_BLOCKED)
		return -EAGAIN;
	if (ret != 0)
		return ret == NGTCP2_ERR_NOMEM ? -ENOMEM : -EIO;
	s = quic_stream_new(c, id);
	if (!s || ring_alloc(s) < 0) {
		if (s)
			quic_stream_free(s);
		ngtcp2_conn_shutdown_stream(c->conn, id, QUIC_APP_CANCELLED);
		return -ENOMEM;
	}
	ngtcp2_conn_set_stream_user_data(c->conn, id, s);
	s->user = user;
	memcpy(s->route, route, rlen + 1);
	/* §10.4: version, route length, route name. */
	hdr[0] = QUIC_STREAM_HEADER_VERSION;
	hdr[1] = (uint8_t)rlen;
	memcpy(hdr + 2, route, rlen);
	ring_put(s, hdr, 2 + rlen);
	c->stats.streams_opened++;
	quic_sendq_add(s);
	*out = s;
	quic_conn_kick(c, now_ns);
	return 0;
}

ssize_t quic_stream_write(struct quic_stream *s, const void *buf, size_t len, uint64_t now_ns)
{
	struct quic_conn *c;
	size_t n;

	if (!s || (!buf && len))
		return -EINVAL;
	c = s->conn;
	if (s->closed || s->wr_shut)
		return -EPIPE;
	if (c->state != QC_OPEN)
		return -ENOTCONN;
	if (ring_alloc(s) < 0)
		return -ENOMEM;
	n = ring_room(s);
	if (n < len)
		s->want_writable = true;
	else
		n = len;
	if (n == 0)
		return 0;
	ring_put(s, buf, n);
	quic_sendq_add(s);
	quic_conn_kick(c, now_ns);
	return (ssize_t)n;
}

int quic_stream_finish(struct quic_stream *s, uint64_t now_ns)
{
	if (!s)
		return -EINVAL;
	if (s->closed || s->wr_shut)
		return -EPIPE;
	if (s->conn->state != QC_OPEN)
		return -ENOTCONN;
	s->fin_wanted = true;
	s->wr_shut = true;
	quic_sendq_add(s);
	quic_conn_kick(s->conn, now_ns);
	return 0;
}

int quic_stream_reset(struct quic_stream *s, uint64_t code, uint64_t now_ns)
{
	struct quic_conn *c;

	if (!s)
		return -EINVAL;
	c = s->conn;
	if (s->closed || s->rd_shut)
		return 0;
	if (c->state != QC_OPEN)
		return -ENOTCONN;
	s->wr_shut = s->rd_shut = true;
	s->want_writable = false;
	quic_sendq_del(s);
	if (ngtcp2_conn_shutdown_stream(c->conn, s->id, code) != 0)
		return -ENOMEM;
	quic_conn_kick(c, now_ns);
	return 0;
}

int quic_stream_consume(struct quic_stream *s, size_t n, uint64_t now_ns)
{
	struct quic_conn *c;

	if (!s || n > s->delivered - s->consumed)
		return -EINVAL;
	c = s->conn;
	s->consumed += n;
	/* Closed: quic_stream_free() credits the connection with the rest. */
	if (s->closed || n == 0 || !c->conn)
		return 0;
	credit(s, n);
	quic_conn_kick(c, now_ns);
	return 0;
}

size_t quic_stream_room(const struct quic_stream *s)
{
	return s->closed || s->wr_shut ? 0 : ring_room(s);
}

int64_t quic_stream_id(const struct quic_stream *s)
{
	return s->id;
}

const char *quic_stream_route(const struct quic_stream *s)
{
	return s->route;
}

struct quic_conn *quic_stream_conn(const struct quic_stream *s)
{
	return s->conn;
}

void *quic_stream_user(const struct quic_stream *s)
{
	return s->user;
}

void quic_stream_set_user(struct quic_stream *s, void *user)
{
	s->user = user;
}
