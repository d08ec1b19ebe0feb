/*
 * fuzz_wire.c — libFuzzer target for the wire codecs (wire/hop.h, wire/frame.h).
 *
 * Each input is tried as a hop packet (classifier and all four decoders), as
 * a handshake payload, and as a frame plaintext (iterator, validate-all and
 * every body decoder); a valid DATA packet's ciphertext minus its tag is also
 * tried as a plaintext, as if it had decrypted. Whatever decodes is encoded
 * again and must decode to the same thing: packets and payloads byte for
 * byte, frames field for field (extensions are dropped and unknown close
 * reasons read as PROTOCOL, so bytes may differ). Any disagreement between
 * the classifier, the decoders, frame_next() and frame_validate(), or a
 * pointer outside the input, aborts.
 *
 * Seeds: tests/fuzz/corpus/wire/ was written by this file's own generator:
 *	cc -DFUZZ_WIRE_SEED_MAIN -I. tests/fuzz/fuzz_wire.c wire/hop.c wire/frame.c \
 *		-o /tmp/wire-seeds && /tmp/wire-seeds tests/fuzz/corpus/wire
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/frame.h"
#include "wire/hop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static bool inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
	return p >= buf && (size_t)(p - buf) <= len && n <= len - (size_t)(p - buf);
}

static bool same(const uint8_t *a, const uint8_t *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

/* Re-encode @len bytes that decoded as a hop packet: the bytes must come back. */
static void hop_reencode(int type, const uint8_t *data, size_t size)
{
	uint8_t out[HOP_MTU];
	struct hop_init i;
	struct hop_resp r;
	struct hop_cookie_reply c;
	struct hop_data d;
	int n = -1;

	switch (type) {
	case HOP_HANDSHAKE_INIT:
		CHECK(hop_init_decode(data, size, &i) == 0);
		CHECK(inside(i.ephemeral, hop_init_noise_len(&i), data, size));
		CHECK(i.ephemeral + hop_init_noise_len(&i) == i.mac1);
		CHECK(i.mac1 == data + hop_mac1_offset(size));
		CHECK(inside(i.mac2, HOP_MAC_LEN, data, size));
		n = hop_init_encode(out, sizeof(out), &i);
		break;
	case HOP_HANDSHAKE_RESP:
		CHECK(hop_resp_decode(data, size, &r) == 0);
		CHECK(inside(r.mac2, HOP_MAC_LEN, data, size));
		n = hop_resp_encode(out, sizeof(out), &r);
		break;
	case HOP_COOKIE_REPLY:
		CHECK(hop_cookie_reply_decode(data, size, &c) == 0);
		CHECK(inside(c.enc_cookie, HOP_COOKIE_ENC_LEN, data, size));
		n = hop_cookie_reply_encode(out, sizeof(out), &c);
		break;
	case HOP_DATA:
		CHECK(hop_data_decode(data, size, &d) == 0);
		CHECK(inside(d.ciphertext, d.ciphertext_len, data, size));
		n = hop_data_encode(out, sizeof(out), &d);
		break;
	default:
		abort();
	}
	CHECK(n >= 0 && (size_t)n == size && memcmp(out, data, size) == 0);
}

static void fuzz_hop(const uint8_t *data, size_t size)
{
	struct hop_init i;
	struct hop_resp r;
	struct hop_cookie_reply c;
	struct hop_data d;
	int t = hop_classify(data, size, HOP_SUITES_ALL);
	int tc = hop_classify(data, size, HOP_SUITES_CHACHAPOLY);
	int ta = hop_classify(data, size, HOP_SUITES_AESGCM);
	int rets[4];

	CHECK(t == -EPROTO || t == -EBADMSG || t == -EMSGSIZE ||
	      (t >= HOP_HANDSHAKE_INIT && t <= HOP_DATA));
	/* A narrower suite policy only ever turns acceptance into bad_header. */
	if (t < 0)
		CHECK(tc < 0 && ta < 0);
	else
		CHECK((tc == t || tc == -EBADMSG) && (ta == t || ta == -EBADMSG) &&
		      (tc == t || ta == t));
	if (t == HOP_DATA)
		CHECK(tc == t && ta == t);

	rets[0] = hop_init_decode(data, size, &i);
	rets[1] = hop_resp_decode(data, size, &r);
	rets[2] = hop_cookie_reply_decode(data, size, &c);
	rets[3] = hop_data_decode(data, size, &d);
	for (int k = 0; k < 4; k++) {
		/* Exactly the classified type decodes; header faults agree with it. */
		if (t == k + 1)
			CHECK(rets[k] == 0);
		else if (t < 0)
			CHECK(rets[k] == t);
		else
			CHECK(rets[k] == -EBADMSG);
	}
	if (t > 0)
		hop_reencode(t, data, size);
}

static void fuzz_payload(const uint8_t *data, size_t size)
{
	uint8_t out[HOP_PAYLOAD_MAX];
	struct hop_payload p;
	int n;

	if (hop_payload_decode(data, size, &p) != 0)
		return;
	CHECK(inside(p.token, p.token_len, data, size));
	CHECK(p.token_len >= HOP_TOKEN_MIN && p.token_len <= HOP_TOKEN_MAX);
	n = hop_payload_encode(out, sizeof(out), &p);
	CHECK(n >= 0 && (size_t)n == size && memcmp(out, data, size) == 0);
}

/* Decode one frame's body; @return 0 or the decoder's error. */
static int body_decode(const struct frame *f, struct frame_open *o, uint32_t *id,
		       struct frame_close *c, struct frame_data *d, struct frame_goaway *g)
{
	switch (f->type) {
	case FRAME_CHANNEL_OPEN:
		return frame_open_decode(f->body, f->len, o);
	case FRAME_CHANNEL_ACCEPT:
		return frame_accept_decode(f->body, f->len, id);
	case FRAME_CHANNEL_CLOSE:
		return frame_close_decode(f->body, f->len, c);
	case FRAME_CHANNEL_DATA:
		return frame_data_decode(f->body, f->len, d);
	case FRAME_GOAWAY:
		return frame_goaway_decode(f->body, f->len, g);
	case FRAME_KEEPALIVE:
		return f->len == 0 ? 0 : -EBADMSG;
	case FRAME_PING:
	case FRAME_PONG:
		return f->len == FRAME_PING_LEN ? 0 : -EBADMSG;
	}
	abort();	/* frame_next() must never yield another type */
}

/* Append frame @f (valid) to @out; @return the new offset. */
static int frame_reencode(const struct frame *f, uint8_t *out, size_t cap, size_t off)
{
	struct frame_open o;
	struct frame_close c;
	struct frame_data d;
	struct frame_goaway g;
	uint32_t id;

	CHECK(body_decode(f, &o, &id, &c, &d, &g) == 0);
	switch (f->type) {
	case FRAME_CHANNEL_OPEN:
		return frame_open_encode(out, cap, off, &o);
	case FRAME_CHANNEL_ACCEPT:
		return frame_accept_encode(out, cap, off, id);
	case FRAME_CHANNEL_CLOSE:
		return frame_close_encode(out, cap, off, c.channel_id, c.reason);
	case FRAME_CHANNEL_DATA:
		return frame_data_encode(out, cap, off, d.channel_id, d.e2e, d.e2e_len);
	case FRAME_GOAWAY:
		return frame_goaway_encode(out, cap, off, g.reason, g.drain_ms);
	case FRAME_KEEPALIVE:
		return frame_keepalive_encode(out, cap, off);
	case FRAME_PING:
		return frame_ping_encode(out, cap, off, f->body);
	default:
		return frame_pong_encode(out, cap, off, f->body);
	}
}

/* Two valid frames decode to the same fields. */
static void frame_same(const struct frame *a, const struct frame *b)
{
	struct frame_open oa, ob;
	struct frame_close ca, cb;
	struct frame_data da, db;
	struct frame_goaway ga, gb;
	uint32_t ia, ib;

	CHECK(a->type == b->type && a->len == b->len);
	CHECK(body_decode(a, &oa, &ia, &ca, &da, &ga) == 0);
	CHECK(body_decode(b, &ob, &ib, &cb, &db, &gb) == 0);
	switch (a->type) {
	case FRAME_CHANNEL_OPEN:
		CHECK(oa.channel_id == ob.channel_id && oa.flags == ob.flags);
		CHECK(same(oa.conn_tag, ob.conn_tag, FRAME_CONN_TAG_LEN));
		CHECK(oa.tunnel_len == ob.tunnel_len && same(oa.tunnel, ob.tunnel, oa.tunnel_len));
		CHECK(oa.route_len == ob.route_len && same(oa.route, ob.route, oa.route_len));
		CHECK(oa.principal_len == ob.principal_len &&
		      same(oa.principal, ob.principal, oa.principal_len));
		break;
	case FRAME_CHANNEL_ACCEPT:
		CHECK(ia == ib);
		break;
	case FRAME_CHANNEL_CLOSE:
		CHECK(ca.channel_id == cb.channel_id && ca.reason == cb.reason);
		break;
	case FRAME_CHANNEL_DATA:
		CHECK(da.channel_id == db.channel_id && da.e2e_len == db.e2e_len &&
		      same(da.e2e, db.e2e, da.e2e_len));
		break;
	case FRAME_GOAWAY:
		CHECK(ga.reason == gb.reason && ga.drain_ms == gb.drain_ms);
		break;
	default:
		CHECK(same(a->body, b->body, a->len));
		break;
	}
}

static void fuzz_frames(const uint8_t *pt, size_t len)
{
	struct frame_iter it, it2;
	struct frame f, f2;
	struct frame_open o;
	struct frame_close c;
	struct frame_data d;
	struct frame_goaway g;
	uint32_t id;
	uint8_t *out;
	int v = frame_validate(pt, len), ret, count = 0, off = 0;
	bool bodies_ok = true;

	/* frame_validate() == frame_next() over every frame + every body decoder. */
	frame_iter_init(&it, pt, len);
	while ((ret = frame_next(&it, &f)) > 0) {
		CHECK(f.type > 0 && f.type < FRAME_EXTENSION_MIN);
		CHECK(f.body == pt + f.body_off && inside(f.body, f.len, pt, len));
		if (body_decode(&f, &o, &id, &c, &d, &g) == 0) {
			if (f.type == FRAME_CHANNEL_DATA)
				CHECK(inside(d.e2e, d.e2e_len, pt, len) && d.e2e_len > 0);
			if (f.type == FRAME_CHANNEL_OPEN)
				CHECK(inside(o.principal, o.principal_len, pt, len) &&
				      o.tunnel_len > 0 && o.tunnel_len <= FRAME_NAME_MAX);
		} else {
			bodies_ok = false;
		}
		count++;
	}
	CHECK(ret == 0 || ret == -EBADMSG);
	CHECK(frame_next(&it, &f) == ret);	/* the end, or failure, is sticky */
	if (ret < 0 || !bodies_ok) {
		CHECK(v == -EBADMSG);
		return;
	}
	CHECK(v == count);

	/* Re-encode every frame; extensions vanish, so the result is no longer. */
	out = malloc(len ? len : 1);
	CHECK(out);
	frame_iter_init(&it, pt, len);
	while (frame_next(&it, &f) > 0) {
		off = frame_reencode(&f, out, len, (size_t)off);
		CHECK(off >= 0);
	}
	CHECK(frame_validate(out, (size_t)off) == count);
	frame_iter_init(&it, pt, len);
	frame_iter_init(&it2, out, (size_t)off);
	while (frame_next(&it, &f) > 0) {
		CHECK(frame_next(&it2, &f2) == 1);
		frame_same(&f, &f2);
	}
	CHECK(frame_next(&it2, &f2) == 0);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hop_data d;

	fuzz_hop(data, size);
	fuzz_payload(data, size);
	fuzz_frames(data, size);
	if (hop_data_decode(data, size, &d) == 0)
		fuzz_frames(d.ciphertext, d.ciphertext_len - HOP_TAG_LEN);
	return 0;
}

#ifdef FUZZ_WIRE_SEED_MAIN
/* The seed generator: small valid packets and frame sequences, one file each. */
#include <stdio.h>

static void seed(const char *dir, const char *name, const uint8_t *p, int len)
{
	char path[512];
	FILE *f;

	CHECK(len > 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	CHECK(f && fwrite(p, 1, (size_t)len, f) == (size_t)len && fclose(f) == 0);
}

static int all_frames(uint8_t *b, size_t cap)
{
	static const uint8_t tag[FRAME_CONN_TAG_LEN] = { 0xc0, 0xff, 0xee };
	static const uint8_t ping[FRAME_PING_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct frame_open o = {
		.channel_id = 1, .flags = FRAME_OPEN_RESUME, .conn_tag = tag,
		.tunnel = (const uint8_t *)"mcp", .tunnel_len = 3,
		.route = (const uint8_t *)"files", .route_len = 5,
		.principal = (const uint8_t *)"acme/0123456789abcdef", .principal_len = 21,
	};
	int off = frame_open_encode(b, cap, 0, &o);

	off = frame_accept_encode(b, cap, (size_t)off, 1);
	off = frame_data_encode(b, cap, (size_t)off, 1, (const uint8_t *)"quic!", 5);
	off = frame_close_encode(b, cap, (size_t)off, 1, FRAME_CLOSE_PEER_GONE);
	off = frame_keepalive_encode(b, cap, (size_t)off);
	off = frame_ping_encode(b, cap, (size_t)off, ping);
	off = frame_pong_encode(b, cap, (size_t)off, ping);
	off = frame_goaway_encode(b, cap, (size_t)off, FRAME_GOAWAY_SHUTDOWN, 5000);
	off = frame_padding_encode(b, cap, (size_t)off, 4);
	CHECK(off > 0 && (size_t)off + 5 <= cap);
	b[off++] = 0x9f;	/* an unknown extension, skipped */
	b[off++] = 2;
	b[off++] = 0;
	b[off++] = 0xaa;
	b[off++] = 0xbb;
	return off;
}

int main(int argc, char **argv)
{
	uint8_t b[HOP_MTU], pl[HOP_INIT_ENC_PAYLOAD_MAX] = { 0 }, tok[HOP_TOKEN_MAX] = { 1 };
	struct hop_init i = { .suite = 1, .sender = 0x11, .enc_payload = pl };
	struct hop_resp r = { .suite = 2, .sender = 0x22, .receiver = 0x11 };
	struct hop_cookie_reply c = { .suite = 1, .receiver = 0x11 };
	struct hop_payload p = { .flags = HOP_PAYLOAD_NEW_SESSION, .token = tok };
	struct hop_data d = { .receiver = 0x22, .counter = 7 };
	int n;

	CHECK(argc == 2);
	memset(b, 0, sizeof(b));
	i.enc_payload_len = HOP_INIT_ENC_PAYLOAD_MIN;
	seed(argv[1], "init-min", b, hop_init_encode(b, sizeof(b), &i));
	i.suite = 2;
	i.enc_payload_len = 400;
	seed(argv[1], "init-aes", b, hop_init_encode(b, sizeof(b), &i));
	seed(argv[1], "resp", b, hop_resp_encode(b, sizeof(b), &r));
	seed(argv[1], "cookie-reply", b, hop_cookie_reply_encode(b, sizeof(b), &c));
	p.token_len = HOP_TOKEN_MIN;
	seed(argv[1], "payload", b, hop_payload_encode(b, sizeof(b), &p));

	memset(b, 0, sizeof(b));
	d.ciphertext_len = HOP_TAG_LEN;
	seed(argv[1], "data-empty", b, hop_data_encode(b, sizeof(b), &d));
	/* DATA whose "ciphertext" is frames and a zero tag: the harness reads it as plaintext. */
	n = all_frames(b + HOP_DATA_HEADER_LEN, sizeof(b) - HOP_DATA_MIN);
	d.ciphertext = NULL;
	d.ciphertext_len = (size_t)n + HOP_TAG_LEN;
	memset(b + HOP_DATA_HEADER_LEN + n, 0, HOP_TAG_LEN);
	seed(argv[1], "data-frames", b, hop_data_encode(b, sizeof(b), &d));

	seed(argv[1], "frames-all", b, all_frames(b, sizeof(b)));
	n = frame_keepalive_encode(b, sizeof(b), 0);
	n = frame_data_encode(b, sizeof(b), (size_t)n, 0x80000001, NULL, 64);
	seed(argv[1], "frames-data", b, n);
	return 0;
}
#endif
