/*
 * frame.h — the frames inside a DATA packet's plaintext (protocol.md §7):
 * type (1), body length (2, little-endian), body.
 *
 * Receive: the relay must not act on any frame of a malformed packet (§7:
 * the whole packet is dropped as `bad_frame`), so it checks first and acts
 * second:
 *
 *	if (frame_validate(pt, n) < 0)
 *		drop(bad_frame);
 *	frame_iter_init(&it, pt, n);
 *	while (frame_next(&it, &f) > 0)
 *		switch (f.type) {
 *		case FRAME_CHANNEL_DATA:
 *			frame_data_decode(f.body, f.len, &d);	// cannot fail now
 *			frame_put_channel_id(pt + f.body_off, peer);	// translate
 *		...
 *
 * frame_next() checks framing only: the frame fits, its type is known or an
 * extension (>= 0x80, skipped: the caller never sees one), and its body has
 * the type's size (a range for CHANNEL_OPEN and CHANNEL_DATA). The
 * frame_*_decode() functions check the rest of a body: channel id non-zero,
 * flag bits, name lengths and characters. frame_validate() runs both over
 * every frame; anything either refuses is `bad_frame`.
 *
 * Decoders are zero-copy: names and E2E bytes point into the caller's buffer
 * and are not NUL-terminated.
 *
 * Send: frame_*_encode(buf, cap, off, ...) appends one frame at @buf + @off
 * and returns the new offset (the end of the frame), so calls chain. A
 * negative @off (an earlier error, converted) gives -EMSGSIZE, so a chain may
 * be checked once, at its end:
 *	off = frame_accept_encode(pt, cap, 0, id);
 *	off = frame_data_encode(pt, cap, off, id, NULL, n);
 *	if (off < 0) ...
 * Encoders refuse what decoders refuse (-EINVAL), so decode(encode(x)) == x.
 * CHANNEL_DATA can be built without a copy: pass e2e = NULL and write the E2E
 * bytes at @buf + @off + FRAME_DATA_OVERHEAD yourself.
 *
 * Errors: -EBADMSG malformed input (→ bad_frame); -EINVAL a field an encoder
 * cannot send; -EMSGSIZE not enough room in @cap (nothing was written), or a
 * body above the 16-bit length. Capacities above INT_MAX count as INT_MAX.
 *
 * Threads: reentrant; no state, no allocation.
 */
#ifndef POSTERN_WIRE_FRAME_H
#define POSTERN_WIRE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum frame_type {
	FRAME_CHANNEL_OPEN = 0x01,
	FRAME_CHANNEL_ACCEPT = 0x02,
	FRAME_CHANNEL_CLOSE = 0x03,
	FRAME_CHANNEL_DATA = 0x04,
	FRAME_KEEPALIVE = 0x05,
	FRAME_PING = 0x06,
	FRAME_PONG = 0x07,
	FRAME_GOAWAY = 0x08,
	FRAME_PADDING = 0x80,
};

/* §7 CHANNEL_CLOSE reasons. Decoders map unknown codes to FRAME_CLOSE_PROTOCOL. */
enum frame_close_reason {
	FRAME_CLOSE_NORMAL = 0,
	FRAME_CLOSE_NOT_PERMITTED = 1,
	FRAME_CLOSE_NO_GATEWAY = 2,
	FRAME_CLOSE_UNKNOWN_ROUTE = 3,
	FRAME_CLOSE_UPSTREAM_REFUSED = 4,
	FRAME_CLOSE_PEER_GONE = 5,
	FRAME_CLOSE_LIMIT = 6,
	FRAME_CLOSE_PROTOCOL = 7,
	FRAME_CLOSE_SHUTDOWN = 8,
	FRAME_CLOSE_RESUME_UNKNOWN = 9,
	FRAME_CLOSE_DUPLICATE_ID = 10,
	FRAME_CLOSE_TIMEOUT = 11,
};

/* §7 GOAWAY reasons. Other codes decode unchanged (a newer relay may add some). */
enum frame_goaway_reason {
	FRAME_GOAWAY_SHUTDOWN = 0,
	FRAME_GOAWAY_OVERLOAD = 1,
	FRAME_GOAWAY_MAINTENANCE = 2,
};

enum {
	FRAME_HEADER_LEN = 3,		/* type, length */
	FRAME_BODY_MAX = 0xffff,
	FRAME_EXTENSION_MIN = 0x80,	/* types from here on are skipped when unknown */
	FRAME_CHANNEL_ID_LEN = 4,
	FRAME_CONN_TAG_LEN = 16,
	FRAME_NAME_MAX = 63,		/* tunnel 1..63, route 0..63 */
	FRAME_PRINCIPAL_MAX = 127,
	FRAME_OPEN_RESUME = 1u << 0,	/* flags bit 0; other bits are 0 */

	/* Body sizes. */
	FRAME_OPEN_MIN = 4 + 1 + FRAME_CONN_TAG_LEN + 1 + 1 + 1 + 1,			/* 25 */
	/* 277 */
	FRAME_OPEN_MAX = FRAME_OPEN_MIN - 1 + 2 * FRAME_NAME_MAX + FRAME_PRINCIPAL_MAX,
	FRAME_ACCEPT_LEN = FRAME_CHANNEL_ID_LEN,
	FRAME_CLOSE_LEN = FRAME_CHANNEL_ID_LEN + 2,
	FRAME_DATA_MIN = FRAME_CHANNEL_ID_LEN + 1,
	FRAME_DATA_MAX = FRAME_BODY_MAX,
	FRAME_KEEPALIVE_LEN = 0,
	FRAME_PING_LEN = 8,		/* PING and PONG */
	FRAME_GOAWAY_LEN = 2 + 4,

	/* Bytes before the E2E payload in a CHANNEL_DATA frame: header + channel id. */
	FRAME_DATA_OVERHEAD = FRAME_HEADER_LEN + FRAME_CHANNEL_ID_LEN,		/* 7 */
};

/* One frame, as frame_next() yields it. */
struct frame {
	uint8_t type;		/* a known type below FRAME_EXTENSION_MIN */
	uint16_t len;		/* body length, checked against the type */
	size_t body_off;	/* offset of the body in the iterated buffer */
	const uint8_t *body;	/* = buf + body_off */
};

/* Iterator state; fields are private. */
struct frame_iter {
	const uint8_t *buf;
	size_t len;
	size_t off;
	bool failed;
};

struct frame_open {
	uint32_t channel_id;		/* non-zero */
	uint8_t flags;			/* 0 or FRAME_OPEN_RESUME */
	const uint8_t *conn_tag;	/* FRAME_CONN_TAG_LEN bytes */
	const uint8_t *tunnel;		/* [A-Za-z0-9._-]{1,63} */
	uint8_t tunnel_len;
	const uint8_t *route;		/* [A-Za-z0-9._-]{0,63}; empty: the stream header picks */
	uint8_t route_len;
	const uint8_t *principal;	/* [A-Za-z0-9._/-]{0,127}: "tenant/token-id-hex" or "" */
	uint8_t principal_len;
};

struct frame_close {
	uint32_t channel_id;		/* non-zero */
	uint16_t reason;		/* an enum frame_close_reason */
};

struct frame_data {
	uint32_t channel_id;		/* non-zero */
	const uint8_t *e2e;		/* one QUIC datagram, opaque */
	size_t e2e_len;			/* >= 1 */
};

struct frame_goaway {
	uint16_t reason;		/* enum frame_goaway_reason, or a newer code */
	uint32_t drain_ms;
};

/*
 * Start iterating over the @len plaintext bytes at @buf. @buf may be NULL when
 * @len is 0; NULL with a non-zero @len makes frame_next() fail.
 */
void frame_iter_init(struct frame_iter *it, const uint8_t *buf, size_t len);

/*
 * Yield the next frame that is not an extension into *@f.
 * @return 1 (a frame in *@f), 0 (end of the buffer, nothing left over), or
 * -EBADMSG: a frame runs past the end (including 1–2 stray bytes at the end),
 * an unknown type below 0x80, or a body size wrong for its type. After
 * -EBADMSG every later call returns -EBADMSG.
 */
int frame_next(struct frame_iter *it, struct frame *f);

/*
 * Check every frame of a plaintext once, bodies included, before acting on any.
 * @return the number of non-extension frames (0 for an empty plaintext or one
 * of padding only), or -EBADMSG (→ drop the packet as `bad_frame`), or
 * -EMSGSIZE when @len > INT_MAX (never for a packet).
 */
int frame_validate(const uint8_t *buf, size_t len);

/*
 * Body decoders, for a body of @len bytes at @body (as frame_next() gives it).
 * @return 0 or -EBADMSG (wrong size, channel id 0, unknown flag bits, a name
 * empty where it may not be, too long, or with a character outside its set,
 * or lengths that do not add up to @len exactly). On error *@out is unspecified.
 */
int frame_open_decode(const uint8_t *body, size_t len, struct frame_open *out);
int frame_accept_decode(const uint8_t *body, size_t len, uint32_t *channel_id);
int frame_close_decode(const uint8_t *body, size_t len, struct frame_close *out);
int frame_data_decode(const uint8_t *body, size_t len, struct frame_data *out);
int frame_goaway_decode(const uint8_t *body, size_t len, struct frame_goaway *out);

/*
 * Overwrite the channel id of a CHANNEL_OPEN, _ACCEPT, _CLOSE or _DATA body in
 * place (all four start with it): the relay's translation between sessions.
 * @body must be writable with FRAME_CHANNEL_ID_LEN bytes; @channel_id non-zero.
 */
void frame_put_channel_id(uint8_t *body, uint32_t channel_id);

/*
 * Encoders: append one frame at @buf + @off (capacity @cap, total).
 * @return the new offset, or -EINVAL (channel id 0, unknown flag bits, bad
 * name, unknown close reason, NULL where bytes are needed, empty E2E bytes)
 * or -EMSGSIZE (no room; nothing written).
 * frame_data_encode: @e2e may be NULL, then the caller writes @e2e_len bytes
 * at @buf + @off + FRAME_DATA_OVERHEAD; otherwise they are memmove()d there.
 * frame_padding_encode: @body_len zero bytes (a PADDING frame of @body_len).
 * frame_open_encode: the bytes @o points at must not overlap the new frame
 * (build an OPEN for the other session in the other packet's buffer).
 */
int frame_open_encode(uint8_t *buf, size_t cap, size_t off, const struct frame_open *o);
int frame_accept_encode(uint8_t *buf, size_t cap, size_t off, uint32_t channel_id);
int frame_close_encode(uint8_t *buf, size_t cap, size_t off, uint32_t channel_id,
		       uint16_t reason);
int frame_data_encode(uint8_t *buf, size_t cap, size_t off, uint32_t channel_id,
		      const uint8_t *e2e, size_t e2e_len);
int frame_keepalive_encode(uint8_t *buf, size_t cap, size_t off);
int frame_ping_encode(uint8_t *buf, size_t cap, size_t off,
		      const uint8_t opaque[FRAME_PING_LEN]);
int frame_pong_encode(uint8_t *buf, size_t cap, size_t off,
		      const uint8_t opaque[FRAME_PING_LEN]);
int frame_goaway_encode(uint8_t *buf, size_t cap, size_t off, uint16_t reason,
			uint32_t drain_ms);
int frame_padding_encode(uint8_t *buf, size_t cap, size_t off, size_t body_len);

/* @return the spec's name ("CHANNEL_OPEN", ...; "PADDING"), or "unknown". */
const char *frame_type_name(unsigned type);

/* @return the spec's name ("NORMAL", ..., "TIMEOUT"), or "unknown". */
const char *frame_close_reason_name(unsigned reason);

/* @return "shutdown", "overload", "maintenance", or "unknown". */
const char *frame_goaway_reason_name(unsigned reason);

#endif /* POSTERN_WIRE_FRAME_H */
