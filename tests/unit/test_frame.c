/*
 * test_frame.c — frames inside DATA plaintext (protocol.md §7): round trips,
 * exact bytes, and the malformed frames that must drop the whole packet.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/frame.h"
#include "wire/hop.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t conn_tag[FRAME_CONN_TAG_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
};

/* Run frame_validate() on an exact-size copy of @len bytes, so ASan sees any overread. */
static int validate_exact(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	int ret;

	cr_assert_not_null(p);
	if (len)
		memcpy(p, src, len);
	ret = frame_validate(p, len);
	free(p);
	return ret;
}

static struct frame_open open_of(const char *tunnel, const char *route, const char *principal)
{
	return (struct frame_open){
		.channel_id = 42, .flags = 0, .conn_tag = conn_tag,
		.tunnel = (const uint8_t *)tunnel, .tunnel_len = (uint8_t)strlen(tunnel),
		.route = (const uint8_t *)route, .route_len = (uint8_t)strlen(route),
		.principal = (const uint8_t *)principal,
		.principal_len = (uint8_t)strlen(principal),
	};
}

Test(frame, every_frame_round_trips_in_one_packet)
{
	static const uint8_t ping[FRAME_PING_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	static const uint8_t e2e[] = "a QUIC datagram";
	struct frame_open o = open_of("mcp-prod", "files.v2", "acme/00ff11ee"), od;
	struct frame_close c;
	struct frame_data d;
	struct frame_goaway g;
	struct frame_iter it;
	struct frame f;
	uint8_t buf[HOP_DATA_PLAINTEXT_MAX];
	uint32_t id;
	int off = 0;

	o.flags = FRAME_OPEN_RESUME;
	off = frame_open_encode(buf, sizeof(buf), (size_t)off, &o);
	off = frame_accept_encode(buf, sizeof(buf), (size_t)off, 0xfffffffe);
	off = frame_padding_encode(buf, sizeof(buf), (size_t)off, 5);
	off = frame_close_encode(buf, sizeof(buf), (size_t)off, 3, FRAME_CLOSE_RESUME_UNKNOWN);
	off = frame_data_encode(buf, sizeof(buf), (size_t)off, 77, e2e, sizeof(e2e));
	off = frame_keepalive_encode(buf, sizeof(buf), (size_t)off);
	off = frame_ping_encode(buf, sizeof(buf), (size_t)off, ping);
	off = frame_pong_encode(buf, sizeof(buf), (size_t)off, ping);
	off = frame_goaway_encode(buf, sizeof(buf), (size_t)off, FRAME_GOAWAY_MAINTENANCE, 30000);
	cr_assert_gt(off, 0);
	cr_assert_eq(validate_exact(buf, (size_t)off), 8, "padding is not counted");

	frame_iter_init(&it, buf, (size_t)off);
	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(f.type, FRAME_CHANNEL_OPEN);
	cr_assert_eq(f.body, buf + FRAME_HEADER_LEN);
	cr_assert_eq(f.body_off, FRAME_HEADER_LEN);
	cr_assert_eq(frame_open_decode(f.body, f.len, &od), 0);
	cr_assert_eq(od.channel_id, 42);
	cr_assert_eq(od.flags, FRAME_OPEN_RESUME);
	cr_assert_eq(memcmp(od.conn_tag, conn_tag, sizeof(conn_tag)), 0);
	cr_assert_eq(od.tunnel_len, 8);
	cr_assert_eq(memcmp(od.tunnel, "mcp-prod", 8), 0);
	cr_assert_eq(od.route_len, 8);
	cr_assert_eq(memcmp(od.route, "files.v2", 8), 0);
	cr_assert_eq(od.principal_len, 13);
	cr_assert_eq(memcmp(od.principal, "acme/00ff11ee", 13), 0);

	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(f.type, FRAME_CHANNEL_ACCEPT);
	cr_assert_eq(frame_accept_decode(f.body, f.len, &id), 0);
	cr_assert_eq(id, 0xfffffffe);

	/* PADDING (0x80) is skipped: the next frame seen is CLOSE. */
	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(f.type, FRAME_CHANNEL_CLOSE);
	cr_assert_eq(frame_close_decode(f.body, f.len, &c), 0);
	cr_assert_eq(c.channel_id, 3);
	cr_assert_eq(c.reason, FRAME_CLOSE_RESUME_UNKNOWN);

	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(f.type, FRAME_CHANNEL_DATA);
	cr_assert_eq(frame_data_decode(f.body, f.len, &d), 0);
	cr_assert_eq(d.channel_id, 77);
	cr_assert_eq(d.e2e_len, sizeof(e2e));
	cr_assert_eq(memcmp(d.e2e, e2e, sizeof(e2e)), 0);

	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(f.type, FRAME_KEEPALIVE);
	cr_assert_eq(f.len, 0);

	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(f.type, FRAME_PING);
	cr_assert_eq(memcmp(f.body, ping, sizeof(ping)), 0);
	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(f.type, FRAME_PONG);
	cr_assert_eq(memcmp(f.body, ping, sizeof(ping)), 0);

	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(f.type, FRAME_GOAWAY);
	cr_assert_eq(frame_goaway_decode(f.body, f.len, &g), 0);
	cr_assert_eq(g.reason, FRAME_GOAWAY_MAINTENANCE);
	cr_assert_eq(g.drain_ms, 30000);

	cr_assert_eq(frame_next(&it, &f), 0);
	cr_assert_eq(frame_next(&it, &f), 0, "the end stays the end");
}

Test(frame, bytes_are_as_specified)
{
	static const uint8_t want[] = {
		0x03, 0x06, 0x00, 0x04, 0x03, 0x02, 0x01, 0x0b, 0x00,	/* CLOSE id, TIMEOUT */
		0x08, 0x06, 0x00, 0x01, 0x00, 0x10, 0x27, 0x00, 0x00,	/* GOAWAY overload 10s */
		0x04, 0x05, 0x00, 0x09, 0x00, 0x00, 0x00, 0xaa,		/* DATA id 9 */
	};
	static const uint8_t one = 0xaa;
	uint8_t buf[64];
	int off;

	off = frame_close_encode(buf, sizeof(buf), 0, 0x01020304, FRAME_CLOSE_TIMEOUT);
	off = frame_goaway_encode(buf, sizeof(buf), (size_t)off, FRAME_GOAWAY_OVERLOAD, 10000);
	off = frame_data_encode(buf, sizeof(buf), (size_t)off, 9, &one, 1);
	cr_assert_eq(off, (int)sizeof(want));
	cr_assert_eq(memcmp(buf, want, sizeof(want)), 0);
}

Test(frame, empty_plaintext_is_valid)
{
	struct frame_iter it;
	struct frame f;

	cr_assert_eq(frame_validate(NULL, 0), 0);
	frame_iter_init(&it, NULL, 0);
	cr_assert_eq(frame_next(&it, &f), 0);
	frame_iter_init(&it, NULL, 5);
	cr_assert_eq(frame_next(&it, &f), -EBADMSG);
}

/*
 * Raw plaintexts, one line each. want >= 0: valid with that many non-extension
 * frames; otherwise the whole packet is bad_frame.
 */
struct raw_case {
	const char *what;
	size_t len;
	uint8_t bytes[32];
	int want;
};

static const struct raw_case raw_cases[] = {
	{ "keepalive", 3, { 5, 0, 0 }, 1 },
	{ "two keepalives", 6, { 5, 0, 0, 5, 0, 0 }, 2 },
	{ "one stray byte", 1, { 5 }, -EBADMSG },
	{ "two stray bytes", 2, { 5, 0 }, -EBADMSG },
	{ "trailing garbage", 4, { 5, 0, 0, 0xee }, -EBADMSG },
	{ "length past end", 5, { 6, 8, 0, 1, 2 }, -EBADMSG },
	{ "length past end by one", 10, { 6, 8, 0, 1, 2, 3, 4, 5, 6, 7 }, -EBADMSG },
	{ "length high byte", 11, { 6, 8, 1, 1, 2, 3, 4, 5, 6, 7, 8 }, -EBADMSG },
	{ "type 0x00", 3, { 0, 0, 0 }, -EBADMSG },
	{ "type 0x09", 3, { 9, 0, 0 }, -EBADMSG },
	{ "unknown type 0x7f", 3, { 0x7f, 0, 0 }, -EBADMSG },
	{ "unknown 0x7f after a good frame", 6, { 5, 0, 0, 0x7f, 0, 0 }, -EBADMSG },
	{ "extension 0x9f skipped", 5, { 0x9f, 2, 0, 1, 2 }, 0 },
	{ "extension 0xff skipped", 6, { 0xff, 0, 0, 5, 0, 0 }, 1 },
	{ "padding skipped", 7, { 0x80, 1, 0, 0, 5, 0, 0 }, 1 },
	{ "extension past end", 5, { 0x9f, 3, 0, 1, 2 }, -EBADMSG },
	{ "accept 3 bytes", 6, { 2, 3, 0, 1, 0, 0 }, -EBADMSG },
	{ "accept 5 bytes", 8, { 2, 5, 0, 1, 0, 0, 0, 0 }, -EBADMSG },
	{ "accept id 0", 7, { 2, 4, 0, 0, 0, 0, 0 }, -EBADMSG },
	{ "accept ok", 7, { 2, 4, 0, 1, 0, 0, 0 }, 1 },
	{ "close 5 bytes", 8, { 3, 5, 0, 1, 0, 0, 0, 0 }, -EBADMSG },
	{ "close 7 bytes", 10, { 3, 7, 0, 1, 0, 0, 0, 0, 0, 0 }, -EBADMSG },
	{ "close id 0", 9, { 3, 6, 0, 0, 0, 0, 0, 0, 0 }, -EBADMSG },
	{ "close unknown reason", 9, { 3, 6, 0, 1, 0, 0, 0, 0xff, 0xff }, 1 },
	{ "data without e2e bytes", 7, { 4, 4, 0, 1, 0, 0, 0 }, -EBADMSG },
	{ "data id 0", 8, { 4, 5, 0, 0, 0, 0, 0, 0xaa }, -EBADMSG },
	{ "keepalive with a body", 4, { 5, 1, 0, 0 }, -EBADMSG },
	{ "ping 7 bytes", 10, { 6, 7, 0, 1, 2, 3, 4, 5, 6, 7 }, -EBADMSG },
	{ "pong 9 bytes", 12, { 7, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, -EBADMSG },
	{ "goaway 5 bytes", 8, { 8, 5, 0, 0, 0, 0, 0, 0 }, -EBADMSG },
	{ "goaway unknown reason", 9, { 8, 6, 0, 9, 0, 0, 0, 0, 0 }, 1 },
	{ "open too short", 8, { 1, 5, 0, 1, 0, 0, 0, 0 }, -EBADMSG },
};

Test(frame, malformed_raw_frames)
{
	for (size_t i = 0; i < N(raw_cases); i++)
		cr_assert_eq(validate_exact(raw_cases[i].bytes, raw_cases[i].len),
			     raw_cases[i].want, "%s", raw_cases[i].what);
}

/* The iterator alone agrees on framing; after a failure it stays failed. */
Test(frame, iterator_fails_for_good)
{
	static const uint8_t bad[] = { 5, 0, 0, 0x7f, 0, 0, 5, 0, 0 };
	struct frame_iter it;
	struct frame f;

	frame_iter_init(&it, bad, sizeof(bad));
	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(frame_next(&it, &f), -EBADMSG);
	cr_assert_eq(frame_next(&it, &f), -EBADMSG);
	cr_assert_eq(frame_validate(bad, sizeof(bad)), -EBADMSG);
}

#define S63 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678._"
#define S64 S63 "-"
#define S127 S63 S63 "/"
#define S128 S127 "x"

/* One line per CHANNEL_OPEN body; built by hand so the encoder's checks don't interfere. */
static const struct {
	const char *what;
	uint32_t id;
	uint8_t flags;
	const char *tunnel, *route, *principal;
	size_t trailing;	/* extra bytes after the principal */
	int want;		/* frame_open_decode() */
} open_cases[] = {
	{ "minimal", 1, 0, "t", "", "", 0, 0 },
	{ "RESUME set", 1, FRAME_OPEN_RESUME, "t", "r", "", 0, 0 },
	{ "63-byte names", 1, 0, S63, S63, S127, 0, 0 },
	{ "principal with slash", 1, 0, "t", "", "acme/0123abcd", 0, 0 },
	{ "channel id 0", 0, 0, "t", "", "", 0, -EBADMSG },
	{ "flag bit 1", 1, 0x02, "t", "", "", 0, -EBADMSG },
	{ "RESUME with flag bit 7", 1, 0x81, "t", "", "", 0, -EBADMSG },
	{ "empty tunnel", 1, 0, "", "r", "", 0, -EBADMSG },
	{ "64-byte tunnel", 1, 0, S64, "", "", 0, -EBADMSG },
	{ "64-byte route", 1, 0, "t", S64, "", 0, -EBADMSG },
	{ "128-byte principal", 1, 0, "t", "", S128, 0, -EBADMSG },
	{ "tunnel '*'", 1, 0, "*", "", "", 0, -EBADMSG },
	{ "tunnel with space", 1, 0, "a b", "", "", 0, -EBADMSG },
	{ "tunnel with slash", 1, 0, "a/b", "", "", 0, -EBADMSG },
	{ "tunnel with 0xff", 1, 0, "a\xff", "", "", 0, -EBADMSG },
	{ "route with slash", 1, 0, "t", "a/b", "", 0, -EBADMSG },
	{ "route with colon", 1, 0, "t", "a:b", "", 0, -EBADMSG },
	{ "principal with '@'", 1, 0, "t", "", "a@b", 0, -EBADMSG },
	{ "trailing byte", 1, 0, "t", "", "", 1, -EBADMSG },
	{ "trailing bytes", 1, 0, "t", "r", "p", 5, -EBADMSG },
};

Test(frame, name_macros_have_their_lengths)
{
	cr_assert_eq(strlen(S63), 63);
	cr_assert_eq(strlen(S64), 64);
	cr_assert_eq(strlen(S127), 127);
	cr_assert_eq(strlen(S128), 128);
}

static size_t open_body(uint8_t *b, uint32_t id, uint8_t flags, const char *t,
			const char *r, const char *p, size_t trailing)
{
	size_t off = 0;
	const char *names[3] = { t, r, p };

	b[off++] = (uint8_t)id;
	b[off++] = (uint8_t)(id >> 8);
	b[off++] = (uint8_t)(id >> 16);
	b[off++] = (uint8_t)(id >> 24);
	b[off++] = flags;
	memcpy(b + off, conn_tag, sizeof(conn_tag));
	off += sizeof(conn_tag);
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(names[i]);

		b[off++] = (uint8_t)n;
		memcpy(b + off, names[i], n);
		off += n;
	}
	memset(b + off, 'x', trailing);
	return off + trailing;
}

Test(frame, channel_open_bodies)
{
	for (size_t i = 0; i < N(open_cases); i++) {
		uint8_t body[512], pkt[512 + FRAME_HEADER_LEN];
		struct frame_open o;
		size_t n = open_body(body, open_cases[i].id, open_cases[i].flags,
				     open_cases[i].tunnel, open_cases[i].route,
				     open_cases[i].principal, open_cases[i].trailing);
		int want_pkt;

		cr_assert_eq(frame_open_decode(body, n, &o), open_cases[i].want,
			     "%s", open_cases[i].what);
		/* The same body in a packet: a bad OPEN drops the whole packet. */
		pkt[0] = FRAME_CHANNEL_OPEN;
		pkt[1] = (uint8_t)n;
		pkt[2] = (uint8_t)(n >> 8);
		memcpy(pkt + FRAME_HEADER_LEN, body, n);
		want_pkt = open_cases[i].want == 0 ? 1 : -EBADMSG;
		cr_assert_eq(validate_exact(pkt, n + FRAME_HEADER_LEN), want_pkt,
			     "%s (packet)", open_cases[i].what);
	}
}

/* A name length that points past the body, at each of the three names. */
Test(frame, channel_open_name_length_past_body)
{
	uint8_t body[64];
	struct frame_open o;
	size_t n = open_body(body, 1, 0, "tt", "rr", "pp", 0);	/* 21 + 3 + 3 + 3 */

	cr_assert_eq(frame_open_decode(body, n, &o), 0);
	for (size_t at = 21; at < n; at += 3) {
		uint8_t b[64];

		memcpy(b, body, n);
		b[at] = 40;
		cr_assert_eq(frame_open_decode(b, n, &o), -EBADMSG, "length at %zu", at);
	}
	/* Every proper prefix fails too (it cannot hold all three lengths and names). */
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);

		cr_assert_not_null(p);
		memcpy(p, body, cut);
		cr_assert_eq(frame_open_decode(p, cut, &o), -EBADMSG, "cut at %zu", cut);
		free(p);
	}
}

/* A good frame before a bad one: validate refuses the packet as a whole. */
Test(frame, no_frame_of_a_malformed_packet_passes_validation)
{
	uint8_t buf[128];
	int off = frame_accept_encode(buf, sizeof(buf), 0, 5);

	off = frame_data_encode(buf, sizeof(buf), (size_t)off, 5, (const uint8_t *)"x", 1);
	cr_assert_eq(frame_validate(buf, (size_t)off), 2);
	buf[off++] = 2;		/* ACCEPT ...  */
	buf[off++] = 4;
	buf[off++] = 0;
	memset(buf + off, 0, 4);	/* ... of channel 0 */
	off += 4;
	cr_assert_eq(frame_validate(buf, (size_t)off), -EBADMSG);
}

/* Cut a valid multi-frame plaintext at every byte: only frame boundaries are valid. */
Test(frame, truncated_at_every_byte)
{
	static const uint8_t ping[FRAME_PING_LEN] = { 1 };
	struct frame_open o = open_of("t1", "r", "");
	uint8_t buf[256];
	size_t bounds[8], nb = 0;
	int off = 0;

	bounds[nb++] = 0;
	off = frame_open_encode(buf, sizeof(buf), (size_t)off, &o);
	bounds[nb++] = (size_t)off;
	off = frame_ping_encode(buf, sizeof(buf), (size_t)off, ping);
	bounds[nb++] = (size_t)off;
	off = frame_data_encode(buf, sizeof(buf), (size_t)off, 3, ping, 8);
	bounds[nb++] = (size_t)off;
	off = frame_close_encode(buf, sizeof(buf), (size_t)off, 3, 0);
	bounds[nb++] = (size_t)off;
	cr_assert_gt(off, 0);

	for (size_t cut = 0; cut <= (size_t)off; cut++) {
		int want = -EBADMSG;

		for (size_t b = 0; b < nb; b++)
			if (cut == bounds[b])
				want = (int)b;
		/* Inside a frame its length claims bytes that are gone: malformed. */
		cr_assert_eq(validate_exact(buf, cut), want, "cut at %zu", cut);
	}
}

Test(frame, close_reason_unknown_is_protocol)
{
	static const uint8_t body[][FRAME_CLOSE_LEN] = {
		{ 1, 0, 0, 0, 12, 0 },
		{ 1, 0, 0, 0, 0xff, 0xff },
		{ 1, 0, 0, 0, 0, 1 },
	};
	struct frame_close c;

	for (size_t i = 0; i < N(body); i++) {
		cr_assert_eq(frame_close_decode(body[i], FRAME_CLOSE_LEN, &c), 0);
		cr_assert_eq(c.reason, FRAME_CLOSE_PROTOCOL, "case %zu", i);
	}
}

Test(frame, encoders_refuse_bad_fields)
{
	static const uint8_t x = 'x';
	uint8_t buf[512];
	struct frame_open o;
	static const struct {
		const char *what;
		const char *t, *r, *p;
		uint32_t id;
		uint8_t flags;
	} bad_open[] = {
		{ "empty tunnel", "", "", "", 1, 0 },
		{ "64-byte tunnel", S64, "", "", 1, 0 },
		{ "64-byte route", "t", S64, "", 1, 0 },
		{ "128-byte principal", "t", "", S128, 1, 0 },
		{ "bad char", "t!", "", "", 1, 0 },
		{ "slash in route", "t", "a/b", "", 1, 0 },
		{ "id 0", "t", "", "", 0, 0 },
		{ "flag 0x04", "t", "", "", 1, 4 },
	};

	for (size_t i = 0; i < N(bad_open); i++) {
		o = open_of(bad_open[i].t, bad_open[i].r, bad_open[i].p);
		o.channel_id = bad_open[i].id;
		o.flags = bad_open[i].flags;
		cr_assert_eq(frame_open_encode(buf, sizeof(buf), 0, &o), -EINVAL,
			     "%s", bad_open[i].what);
	}
	o = open_of("t", "", "");
	o.conn_tag = NULL;
	cr_assert_eq(frame_open_encode(buf, sizeof(buf), 0, &o), -EINVAL);
	o = open_of("t", "", "");
	o.tunnel = NULL;
	cr_assert_eq(frame_open_encode(buf, sizeof(buf), 0, &o), -EINVAL);

	cr_assert_eq(frame_accept_encode(buf, sizeof(buf), 0, 0), -EINVAL);
	cr_assert_eq(frame_close_encode(buf, sizeof(buf), 0, 0, 0), -EINVAL);
	cr_assert_eq(frame_close_encode(buf, sizeof(buf), 0, 1, 12), -EINVAL);
	cr_assert_eq(frame_data_encode(buf, sizeof(buf), 0, 0, &x, 1), -EINVAL);
	cr_assert_eq(frame_data_encode(buf, sizeof(buf), 0, 1, &x, 0), -EINVAL);
	cr_assert_eq(frame_data_encode(buf, SIZE_MAX, 0, 1, NULL, FRAME_DATA_MAX), -EMSGSIZE);
	cr_assert_eq(frame_ping_encode(buf, sizeof(buf), 0, NULL), -EINVAL);
	cr_assert_eq(frame_padding_encode(buf, SIZE_MAX, 0, FRAME_BODY_MAX + 1), -EMSGSIZE);
}

/* Every encoder at every capacity below what it needs: -EMSGSIZE, nothing written. */
Test(frame, encoders_need_room)
{
	static const uint8_t ping[FRAME_PING_LEN] = { 0 };
	static const uint8_t e2e[20] = { 1 };
	struct frame_open o = open_of("tunnel", "route", "who/ami");

	for (int kind = 0; kind < 9; kind++) {
		uint8_t buf[600];
		size_t need = 0;
		int ret;

		for (size_t cap = 0;; cap++) {
			memset(buf, 0xcc, sizeof(buf));
			switch (kind) {
			case 0: ret = frame_open_encode(buf, 10 + cap, 10, &o); break;
			case 1: ret = frame_accept_encode(buf, 10 + cap, 10, 1); break;
			case 2: ret = frame_close_encode(buf, 10 + cap, 10, 1, 0); break;
			case 3: ret = frame_data_encode(buf, 10 + cap, 10, 1, e2e, 20); break;
			case 4: ret = frame_keepalive_encode(buf, 10 + cap, 10); break;
			case 5: ret = frame_ping_encode(buf, 10 + cap, 10, ping); break;
			case 6: ret = frame_pong_encode(buf, 10 + cap, 10, ping); break;
			case 7: ret = frame_goaway_encode(buf, 10 + cap, 10, 0, 1); break;
			default: ret = frame_padding_encode(buf, 10 + cap, 10, 30); break;
			}
			if (ret >= 0) {
				need = cap;
				break;
			}
			cr_assert_eq(ret, -EMSGSIZE, "kind %d cap %zu", kind, cap);
			for (size_t i = 0; i < sizeof(buf); i++)
				cr_assert_eq(buf[i], 0xcc, "kind %d cap %zu wrote byte %zu",
					     kind, cap, i);
		}
		cr_assert_eq((size_t)ret, 10 + need, "kind %d returns the frame's end", kind);
		cr_assert_eq(validate_exact(buf + 10, need), kind == 8 ? 0 : 1, "kind %d", kind);
	}
	/* An offset beyond the capacity is no room either. */
	cr_assert_eq(frame_keepalive_encode((uint8_t[8]){ 0 }, 4, 5), -EMSGSIZE);
}

/* CHANNEL_DATA built in place: the caller writes the E2E bytes after FRAME_DATA_OVERHEAD. */
Test(frame, channel_data_in_place)
{
	uint8_t buf[HOP_DATA_PLAINTEXT_MAX];
	struct frame_iter it;
	struct frame f;
	struct frame_data d;
	int off = frame_keepalive_encode(buf, sizeof(buf), 0);
	int end;

	end = frame_data_encode(buf, sizeof(buf), (size_t)off, 1234, NULL, 1200);
	cr_assert_eq(end, off + FRAME_DATA_OVERHEAD + 1200);
	memset(buf + off + FRAME_DATA_OVERHEAD, 0x5a, 1200);

	frame_iter_init(&it, buf, (size_t)end);
	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(frame_data_decode(f.body, f.len, &d), 0);
	cr_assert_eq(d.channel_id, 1234);
	cr_assert_eq(d.e2e, buf + off + FRAME_DATA_OVERHEAD);
	cr_assert_eq(d.e2e_len, 1200);
	cr_assert_eq(d.e2e[0], 0x5a);
	cr_assert_eq(d.e2e[1199], 0x5a);
}

/* §2.5: a 1200-byte QUIC datagram fits a DATA packet at the smallest hop MTU. */
Test(frame, quic_datagram_fits_the_smallest_mtu)
{
	uint8_t buf[HOP_MTU_MIN];
	size_t cap = HOP_MTU_MIN - HOP_DATA_MIN;

	cr_assert_eq(frame_data_encode(buf, cap, 0, 1, NULL, 1200), FRAME_DATA_OVERHEAD + 1200);
	cr_assert_eq(frame_data_encode(buf, cap, 0, 1, NULL, cap - FRAME_DATA_OVERHEAD + 1),
		     -EMSGSIZE);
}

/* E2E bytes that already sit in the buffer, overlapping the frame header, move intact. */
Test(frame, channel_data_moves_overlapping_e2e)
{
	uint8_t buf[64];
	struct frame_data d;

	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	cr_assert_eq(frame_data_encode(buf, sizeof(buf), 0, 9, buf, 32), FRAME_DATA_OVERHEAD + 32);
	cr_assert_eq(frame_data_decode(buf + FRAME_HEADER_LEN, 36, &d), 0);
	for (int i = 0; i < 32; i++)
		cr_assert_eq(d.e2e[i], i);
}

/* The relay's splice: translate the channel id in place, the E2E bytes stay untouched. */
Test(frame, channel_id_translation_in_place)
{
	uint8_t buf[64];
	struct frame_iter it;
	struct frame f;
	struct frame_data d;
	int off = frame_data_encode(buf, sizeof(buf), 0, 1, (const uint8_t *)"quic", 4);

	frame_iter_init(&it, buf, (size_t)off);
	cr_assert_eq(frame_next(&it, &f), 1);
	frame_put_channel_id(buf + f.body_off, 0x80000001);
	cr_assert_eq(frame_data_decode(f.body, f.len, &d), 0);
	cr_assert_eq(d.channel_id, 0x80000001);
	cr_assert_eq(memcmp(d.e2e, "quic", 4), 0);
}

Test(frame, names)
{
	static const struct {
		unsigned code;
		const char *name;
	} close_names[] = {
		{ FRAME_CLOSE_NORMAL, "NORMAL" }, { FRAME_CLOSE_NOT_PERMITTED, "NOT_PERMITTED" },
		{ FRAME_CLOSE_NO_GATEWAY, "NO_GATEWAY" },
		{ FRAME_CLOSE_UNKNOWN_ROUTE, "UNKNOWN_ROUTE" },
		{ FRAME_CLOSE_UPSTREAM_REFUSED, "UPSTREAM_REFUSED" },
		{ FRAME_CLOSE_PEER_GONE, "PEER_GONE" }, { FRAME_CLOSE_LIMIT, "LIMIT" },
		{ FRAME_CLOSE_PROTOCOL, "PROTOCOL" }, { FRAME_CLOSE_SHUTDOWN, "SHUTDOWN" },
		{ FRAME_CLOSE_RESUME_UNKNOWN, "RESUME_UNKNOWN" },
		{ FRAME_CLOSE_DUPLICATE_ID, "DUPLICATE_ID" }, { FRAME_CLOSE_TIMEOUT, "TIMEOUT" },
		{ 12, "unknown" }, { 0xffff, "unknown" },
	};

	for (size_t i = 0; i < N(close_names); i++)
		cr_assert_str_eq(frame_close_reason_name(close_names[i].code), close_names[i].name);
	/* §7 numbers the reasons 0..11 in this order. */
	cr_assert_eq(FRAME_CLOSE_PEER_GONE, 5);
	cr_assert_eq(FRAME_CLOSE_TIMEOUT, 11);
	cr_assert_str_eq(frame_goaway_reason_name(FRAME_GOAWAY_SHUTDOWN), "shutdown");
	cr_assert_str_eq(frame_goaway_reason_name(FRAME_GOAWAY_OVERLOAD), "overload");
	cr_assert_str_eq(frame_goaway_reason_name(FRAME_GOAWAY_MAINTENANCE), "maintenance");
	cr_assert_str_eq(frame_goaway_reason_name(3), "unknown");
	cr_assert_str_eq(frame_type_name(FRAME_CHANNEL_OPEN), "CHANNEL_OPEN");
	cr_assert_str_eq(frame_type_name(FRAME_GOAWAY), "GOAWAY");
	cr_assert_str_eq(frame_type_name(FRAME_PADDING), "PADDING");
	cr_assert_str_eq(frame_type_name(0x7f), "unknown");
}
