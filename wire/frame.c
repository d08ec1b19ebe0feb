/*
 * frame.c — frames inside DATA plaintext (protocol.md §7).
 *
 * Each frame's length is checked against the plaintext once, in frame_next();
 * a body decoder then checks the body's own length fields against that one
 * length. Nothing is read past @len at either level.
 */
#include "wire/frame.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "wire/bytes.h"

/* §7 body sizes of the known types below 0x80, indexed by type. */
static const struct {
	unsigned short min, max;
	bool known;
} body_size[FRAME_EXTENSION_MIN] = {
	[FRAME_CHANNEL_OPEN] = { FRAME_OPEN_MIN, FRAME_OPEN_MAX, true },
	[FRAME_CHANNEL_ACCEPT] = { FRAME_ACCEPT_LEN, FRAME_ACCEPT_LEN, true },
	[FRAME_CHANNEL_CLOSE] = { FRAME_CLOSE_LEN, FRAME_CLOSE_LEN, true },
	[FRAME_CHANNEL_DATA] = { FRAME_DATA_MIN, FRAME_DATA_MAX, true },
	[FRAME_KEEPALIVE] = { FRAME_KEEPALIVE_LEN, FRAME_KEEPALIVE_LEN, true },
	[FRAME_PING] = { FRAME_PING_LEN, FRAME_PING_LEN, true },
	[FRAME_PONG] = { FRAME_PING_LEN, FRAME_PING_LEN, true },
	[FRAME_GOAWAY] = { FRAME_GOAWAY_LEN, FRAME_GOAWAY_LEN, true },
};

void frame_iter_init(struct frame_iter *it, const uint8_t *buf, size_t len)
{
	it->buf = buf;
	it->len = buf ? len : 0;
	it->off = 0;
	it->failed = !buf && len;
}

static int iter_fail(struct frame_iter *it)
{
	it->failed = true;
	return -EBADMSG;
}

int frame_next(struct frame_iter *it, struct frame *f)
{
	while (!it->failed && it->off < it->len) {
		size_t left = it->len - it->off, blen;
		const uint8_t *p = it->buf + it->off;
		uint8_t type;

		/* §7: a frame running past the plaintext makes the packet malformed. */
		if (left < FRAME_HEADER_LEN)
			return iter_fail(it);
		type = p[0];
		blen = bytes_get_le16(p + 1);
		if (blen > left - FRAME_HEADER_LEN)
			return iter_fail(it);
		it->off += FRAME_HEADER_LEN + blen;
		/* §7: extensions are skipped, unknown types below 0x80 are fatal. */
		if (type >= FRAME_EXTENSION_MIN)
			continue;
		if (!body_size[type].known ||
		    blen < body_size[type].min || blen > body_size[type].max)
			return iter_fail(it);
		f->type = type;
		f->len = (uint16_t)blen;
		f->body_off = it->off - blen;
		f->body = p + FRAME_HEADER_LEN;
		return 1;
	}
	return it->failed ? -EBADMSG : 0;
}

/* §7 / §6.1: names are [A-Za-z0-9._-]; a principal may also hold '/'. */
static bool name_valid(const uint8_t *s, size_t len, bool slash)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			continue;
		if (slash && c == '/')
			continue;
		return false;
	}
	return true;
}

/*
 * Take one length-prefixed name at *@off of the @len-byte body: its length
 * must be in [@min, @max] and the name must fit before the end.
 */
static bool name_take(const uint8_t *body, size_t len, size_t *off, unsigned min,
		      unsigned max, bool slash, const uint8_t **name, uint8_t *name_len)
{
	size_t n;

	if (*off >= len)
		return false;
	n = body[*off];
	if (n < min || n > max || n > len - *off - 1)
		return false;
	*name = body + *off + 1;
	*name_len = (uint8_t)n;
	*off += 1 + n;
	return name_valid(*name, n, slash);
}

int frame_open_decode(const uint8_t *body, size_t len, struct frame_open *out)
{
	size_t off = 4 + 1 + FRAME_CONN_TAG_LEN;

	if (!body || len < FRAME_OPEN_MIN || len > FRAME_OPEN_MAX)
		return -EBADMSG;
	out->channel_id = bytes_get_le32(body);
	out->flags = body[4];
	out->conn_tag = body + 5;
	if (out->channel_id == 0 || (out->flags & ~FRAME_OPEN_RESUME) != 0)
		return -EBADMSG;
	if (!name_take(body, len, &off, 1, FRAME_NAME_MAX, false,
		       &out->tunnel, &out->tunnel_len) ||
	    !name_take(body, len, &off, 0, FRAME_NAME_MAX, false,
		       &out->route, &out->route_len) ||
	    !name_take(body, len, &off, 0, FRAME_PRINCIPAL_MAX, true,
		       &out->principal, &out->principal_len))
		return -EBADMSG;
	/* The three lengths must account for the whole body: no trailing bytes. */
	return off == len ? 0 : -EBADMSG;
}

int frame_accept_decode(const uint8_t *body, size_t len, uint32_t *channel_id)
{
	if (!body || len != FRAME_ACCEPT_LEN)
		return -EBADMSG;
	*channel_id = bytes_get_le32(body);
	return *channel_id ? 0 : -EBADMSG;
}

int frame_close_decode(const uint8_t *body, size_t len, struct frame_close *out)
{
	if (!body || len != FRAME_CLOSE_LEN)
		return -EBADMSG;
	out->channel_id = bytes_get_le32(body);
	out->reason = bytes_get_le16(body + 4);
	/* §7: unknown reason codes are treated as PROTOCOL. */
	if (out->reason > FRAME_CLOSE_TIMEOUT)
		out->reason = FRAME_CLOSE_PROTOCOL;
	return out->channel_id ? 0 : -EBADMSG;
}

int frame_data_decode(const uint8_t *body, size_t len, struct frame_data *out)
{
	if (!body || len < FRAME_DATA_MIN || len > FRAME_DATA_MAX)
		return -EBADMSG;
	out->channel_id = bytes_get_le32(body);
	out->e2e = body + FRAME_CHANNEL_ID_LEN;
	out->e2e_len = len - FRAME_CHANNEL_ID_LEN;
	return out->channel_id ? 0 : -EBADMSG;
}

int frame_goaway_decode(const uint8_t *body, size_t len, struct frame_goaway *out)
{
	if (!body || len != FRAME_GOAWAY_LEN)
		return -EBADMSG;
	out->reason = bytes_get_le16(body);
	out->drain_ms = bytes_get_le32(body + 2);
	return 0;
}

static int body_check(const struct frame *f)
{
	struct frame_open o;
	struct frame_close c;
	struct frame_data d;
	struct frame_goaway g;
	uint32_t id;

	switch (f->type) {
	case FRAME_CHANNEL_OPEN:
		return frame_open_decode(f->body, f->len, &o);
	case FRAME_CHANNEL_ACCEPT:
		return frame_accept_decode(f->body, f->len, &id);
	case FRAME_CHANNEL_CLOSE:
		return frame_close_decode(f->body, f->len, &c);
	case FRAME_CHANNEL_DATA:
		return frame_data_decode(f->body, f->len, &d);
	case FRAME_GOAWAY:
		return frame_goaway_decode(f->body, f->len, &g);
	}
	/* KEEPALIVE, PING, PONG: frame_next() checked their only property, the size. */
	return 0;
}

int frame_validate(const uint8_t *buf, size_t len)
{
	struct frame_iter it;
	struct frame f;
	int n = 0, ret;

	if (len > INT_MAX)
		return -EMSGSIZE;
	frame_iter_init(&it, buf, len);
	while ((ret = frame_next(&it, &f)) > 0) {
		if (body_check(&f) < 0)
			return -EBADMSG;
		n++;
	}
	return ret < 0 ? ret : n;
}

void frame_put_channel_id(uint8_t *body, uint32_t channel_id)
{
	bytes_put_le32(body, channel_id);
}

/*
 * Room check shared by the encoders: a frame of @blen body bytes at @off.
 * @return a pointer to the frame's body with its header written, or NULL.
 */
static uint8_t *frame_start(uint8_t *buf, size_t cap, size_t off, uint8_t type, size_t blen)
{
	if (cap > INT_MAX)
		cap = INT_MAX;
	if (!buf || blen > FRAME_BODY_MAX || off > cap ||
	    FRAME_HEADER_LEN + blen > cap - off)
		return NULL;
	buf[off] = type;
	bytes_put_le16(buf + off + 1, (uint16_t)blen);
	return buf + off + FRAME_HEADER_LEN;
}

static int frame_end(size_t off, size_t blen)
{
	return (int)(off + FRAME_HEADER_LEN + blen);
}

static bool name_ok(const uint8_t *s, size_t len, unsigned min, unsigned max, bool slash)
{
	if (len < min || len > max)
		return false;
	return len == 0 || (s && name_valid(s, len, slash));
}

int frame_open_encode(uint8_t *buf, size_t cap, size_t off, const struct frame_open *o)
{
	size_t blen;
	uint8_t *p;

	if (o->channel_id == 0 || (o->flags & ~FRAME_OPEN_RESUME) != 0 || !o->conn_tag ||
	    !name_ok(o->tunnel, o->tunnel_len, 1, FRAME_NAME_MAX, false) ||
	    !name_ok(o->route, o->route_len, 0, FRAME_NAME_MAX, false) ||
	    !name_ok(o->principal, o->principal_len, 0, FRAME_PRINCIPAL_MAX, true))
		return -EINVAL;
	blen = (size_t)FRAME_OPEN_MIN - 1 + o->tunnel_len + o->route_len + o->principal_len;
	p = frame_start(buf, cap, off, FRAME_CHANNEL_OPEN, blen);
	if (!p)
		return -EMSGSIZE;
	bytes_put_le32(p, o->channel_id);
	p[4] = o->flags;
	memcpy(p + 5, o->conn_tag, FRAME_CONN_TAG_LEN);
	p += 5 + FRAME_CONN_TAG_LEN;
	*p++ = o->tunnel_len;
	memcpy(p, o->tunnel, o->tunnel_len);
	p += o->tunnel_len;
	*p++ = o->route_len;
	if (o->route_len)
		memcpy(p, o->route, o->route_len);
	p += o->route_len;
	*p++ = o->principal_len;
	if (o->principal_len)
		memcpy(p, o->principal, o->principal_len);
	return frame_end(off, blen);
}

int frame_accept_encode(uint8_t *buf, size_t cap, size_t off, uint32_t channel_id)
{
	uint8_t *p;

	if (channel_id == 0)
		return -EINVAL;
	p = frame_start(buf, cap, off, FRAME_CHANNEL_ACCEPT, FRAME_ACCEPT_LEN);
	if (!p)
		return -EMSGSIZE;
	bytes_put_le32(p, channel_id);
	return frame_end(off, FRAME_ACCEPT_LEN);
}

int frame_close_encode(uint8_t *buf, size_t cap, size_t off, uint32_t channel_id,
		       uint16_t reason)
{
	uint8_t *p;

	if (channel_id == 0 || reason > FRAME_CLOSE_TIMEOUT)
		return -EINVAL;
	p = frame_start(buf, cap, off, FRAME_CHANNEL_CLOSE, FRAME_CLOSE_LEN);
	if (!p)
		return -EMSGSIZE;
	bytes_put_le32(p, channel_id);
	bytes_put_le16(p + 4, reason);
	return frame_end(off, FRAME_CLOSE_LEN);
}

int frame_data_encode(uint8_t *buf, size_t cap, size_t off, uint32_t channel_id,
		      const uint8_t *e2e, size_t e2e_len)
{
	size_t blen = FRAME_CHANNEL_ID_LEN + e2e_len;
	uint8_t *p;

	if (channel_id == 0 || e2e_len == 0)
		return -EINVAL;
	if (e2e_len > FRAME_DATA_MAX - FRAME_CHANNEL_ID_LEN)
		return -EMSGSIZE;
	/*
	 * The E2E bytes may already lie in @buf, even over this frame's header
	 * (a QUIC stack that wrote at the wrong offset): move them before the
	 * header is written. frame_start() writes the header only.
	 */
	if (cap > INT_MAX)
		cap = INT_MAX;
	if (!buf || off > cap || FRAME_HEADER_LEN + blen > cap - off)
		return -EMSGSIZE;
	if (e2e && e2e != buf + off + FRAME_DATA_OVERHEAD)
		memmove(buf + off + FRAME_DATA_OVERHEAD, e2e, e2e_len);
	p = frame_start(buf, cap, off, FRAME_CHANNEL_DATA, blen);
	bytes_put_le32(p, channel_id);
	return frame_end(off, blen);
}

static int empty_encode(uint8_t *buf, size_t cap, size_t off, uint8_t type)
{
	if (!frame_start(buf, cap, off, type, 0))
		return -EMSGSIZE;
	return frame_end(off, 0);
}

int frame_keepalive_encode(uint8_t *buf, size_t cap, size_t off)
{
	return empty_encode(buf, cap, off, FRAME_KEEPALIVE);
}

static int opaque8_encode(uint8_t *buf, size_t cap, size_t off, uint8_t type,
			  const uint8_t opaque[FRAME_PING_LEN])
{
	uint8_t *p;

	if (!opaque)
		return -EINVAL;
	p = frame_start(buf, cap, off, type, FRAME_PING_LEN);
	if (!p)
		return -EMSGSIZE;
	memmove(p, opaque, FRAME_PING_LEN);
	return frame_end(off, FRAME_PING_LEN);
}

int frame_ping_encode(uint8_t *buf, size_t cap, size_t off,
		      const uint8_t opaque[FRAME_PING_LEN])
{
	return opaque8_encode(buf, cap, off, FRAME_PING, opaque);
}

int frame_pong_encode(uint8_t *buf, size_t cap, size_t off,
		      const uint8_t opaque[FRAME_PING_LEN])
{
	/* §7: a PONG echoes the PING's 8 bytes, which may be read from this very buffer. */
	return opaque8_encode(buf, cap, off, FRAME_PONG, opaque);
}

int frame_goaway_encode(uint8_t *buf, size_t cap, size_t off, uint16_t reason,
			uint32_t drain_ms)
{
	uint8_t *p = frame_start(buf, cap, off, FRAME_GOAWAY, FRAME_GOAWAY_LEN);

	if (!p)
		return -EMSGSIZE;
	bytes_put_le16(p, reason);
	bytes_put_le32(p + 2, drain_ms);
	return frame_end(off, FRAME_GOAWAY_LEN);
}

int frame_padding_encode(uint8_t *buf, size_t cap, size_t off, size_t body_len)
{
	uint8_t *p = frame_start(buf, cap, off, FRAME_PADDING, body_len);

	if (!p)
		return -EMSGSIZE;
	memset(p, 0, body_len);
	return frame_end(off, body_len);
}

const char *frame_type_name(unsigned type)
{
	switch (type) {
	case FRAME_CHANNEL_OPEN:
		return "CHANNEL_OPEN";
	case FRAME_CHANNEL_ACCEPT:
		return "CHANNEL_ACCEPT";
	case FRAME_CHANNEL_CLOSE:
		return "CHANNEL_CLOSE";
	case FRAME_CHANNEL_DATA:
		return "CHANNEL_DATA";
	case FRAME_KEEPALIVE:
		return "KEEPALIVE";
	case FRAME_PING:
		return "PING";
	case FRAME_PONG:
		return "PONG";
	case FRAME_GOAWAY:
		return "GOAWAY";
	case FRAME_PADDING:
		return "PADDING";
	}
	return "unknown";
}

const char *frame_close_reason_name(unsigned reason)
{
	static const char *const names[] = {
		[FRAME_CLOSE_NORMAL] = "NORMAL",
		[FRAME_CLOSE_NOT_PERMITTED] = "NOT_PERMITTED",
		[FRAME_CLOSE_NO_GATEWAY] = "NO_GATEWAY",
		[FRAME_CLOSE_UNKNOWN_ROUTE] = "UNKNOWN_ROUTE",
		[FRAME_CLOSE_UPSTREAM_REFUSED] = "UPSTREAM_REFUSED",
		[FRAME_CLOSE_PEER_GONE] = "PEER_GONE",
		[FRAME_CLOSE_LIMIT] = "LIMIT",
		[FRAME_CLOSE_PROTOCOL] = "PROTOCOL",
		[FRAME_CLOSE_SHUTDOWN] = "SHUTDOWN",
		[FRAME_CLOSE_RESUME_UNKNOWN] = "RESUME_UNKNOWN",
		[FRAME_CLOSE_DUPLICATE_ID] = "DUPLICATE_ID",
		[FRAME_CLOSE_TIMEOUT] = "TIMEOUT",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "unknown";
}

const char *frame_goaway_reason_name(unsigned reason)
{
	switch (reason) {
	case FRAME_GOAWAY_SHUTDOWN:
		return "shutdown";
	case FRAME_GOAWAY_OVERLOAD:
		return "overload";
	case FRAME_GOAWAY_MAINTENANCE:
		return "maintenance";
	}
	return "unknown";
}
