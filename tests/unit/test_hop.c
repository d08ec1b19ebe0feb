/*
 * test_hop.c — hop packet layouts (protocol.md §2): round trips, exact bytes,
 * and every malformed header or size the relay must drop.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/hop.h"

/* Fill @n bytes with a pattern that depends on @seed, so misplaced parts show. */
static void pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* A copy of @len bytes in a buffer of exactly @len bytes: ASan sees any overread. */
static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	cr_assert_not_null(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

/* Build a valid INIT with a token of @token_len bytes; @return its length. */
static size_t make_init(uint8_t *buf, size_t cap, uint8_t suite, size_t token_len)
{
	uint8_t e[HOP_KEY_LEN], s[HOP_INIT_ENC_STATIC_LEN], pl[HOP_INIT_ENC_PAYLOAD_MAX];
	uint8_t m1[HOP_MAC_LEN], m2[HOP_MAC_LEN];
	struct hop_init m = {
		.suite = suite, .sender = 0xa1b2c3d4, .ephemeral = e, .enc_static = s,
		.enc_payload = pl,
		.enc_payload_len = HOP_PAYLOAD_OFF_TOKEN + token_len + HOP_TAG_LEN,
		.mac1 = m1, .mac2 = m2,
	};
	int len;

	pattern(e, sizeof(e), 1);
	pattern(s, sizeof(s), 2);
	pattern(pl, sizeof(pl), 3);
	pattern(m1, sizeof(m1), 4);
	pattern(m2, sizeof(m2), 5);
	len = hop_init_encode(buf, cap, &m);
	cr_assert_gt(len, 0);
	return (size_t)len;
}

static size_t make_resp(uint8_t *buf, uint8_t suite)
{
	uint8_t e[HOP_KEY_LEN], t[HOP_TAG_LEN], m1[HOP_MAC_LEN], m2[HOP_MAC_LEN];
	struct hop_resp m = {
		.suite = suite, .sender = 7, .receiver = 0xa1b2c3d4, .ephemeral = e,
		.enc_empty = t, .mac1 = m1, .mac2 = m2,
	};

	pattern(e, sizeof(e), 11);
	pattern(t, sizeof(t), 12);
	pattern(m1, sizeof(m1), 13);
	pattern(m2, sizeof(m2), 14);
	cr_assert_eq(hop_resp_encode(buf, HOP_RESP_LEN, &m), HOP_RESP_LEN);
	return HOP_RESP_LEN;
}

static size_t make_cookie(uint8_t *buf, uint8_t suite)
{
	uint8_t n[HOP_COOKIE_NONCE_LEN], c[HOP_COOKIE_ENC_LEN];
	struct hop_cookie_reply m = { .suite = suite, .receiver = 99, .nonce = n, .enc_cookie = c };

	pattern(n, sizeof(n), 21);
	pattern(c, sizeof(c), 22);
	cr_assert_eq(hop_cookie_reply_encode(buf, HOP_COOKIE_REPLY_LEN, &m), HOP_COOKIE_REPLY_LEN);
	return HOP_COOKIE_REPLY_LEN;
}

static size_t make_data(uint8_t *buf, size_t ct_len)
{
	uint8_t ct[HOP_MTU];
	struct hop_data m = {
		.receiver = 0x01020304, .counter = 0x1122334455667788ull,
		.ciphertext = ct, .ciphertext_len = ct_len,
	};

	pattern(ct, sizeof(ct), 31);
	cr_assert_eq(hop_data_encode(buf, HOP_MTU, &m), (int)(HOP_DATA_HEADER_LEN + ct_len));
	return HOP_DATA_HEADER_LEN + ct_len;
}

Test(hop, init_round_trip_every_suite_and_token_size)
{
	static const struct {
		uint8_t suite;
		size_t token_len;
	} cases[] = {
		{ HOP_SUITE_CHACHAPOLY, HOP_TOKEN_MIN },
		{ HOP_SUITE_CHACHAPOLY, HOP_TOKEN_MAX },
		{ HOP_SUITE_AESGCM, 300 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t e[HOP_KEY_LEN], s[HOP_INIT_ENC_STATIC_LEN], pl[HOP_INIT_ENC_PAYLOAD_MAX];
		uint8_t m1[HOP_MAC_LEN], m2[HOP_MAC_LEN], buf[HOP_INIT_MAX];
		struct hop_init in = {
			.suite = cases[i].suite, .sender = 0xdeadbeef, .ephemeral = e,
			.enc_static = s, .enc_payload = pl,
			.enc_payload_len = HOP_PAYLOAD_OFF_TOKEN + cases[i].token_len + HOP_TAG_LEN,
			.mac1 = m1, .mac2 = m2,
		}, out;
		int len;

		pattern(e, sizeof(e), 1);
		pattern(s, sizeof(s), 2);
		pattern(pl, sizeof(pl), 3);
		pattern(m1, sizeof(m1), 4);
		pattern(m2, sizeof(m2), 5);
		len = hop_init_encode(buf, sizeof(buf), &in);
		/* §2.1: total = 152 + T. */
		cr_assert_eq(len, (int)(HOP_INIT_OVERHEAD + cases[i].token_len), "case %zu", i);
		cr_assert_eq(hop_classify(buf, (size_t)len, HOP_SUITES_ALL), HOP_HANDSHAKE_INIT);
		cr_assert_eq(hop_init_decode(buf, (size_t)len, &out), 0);
		cr_assert_eq(out.suite, in.suite);
		cr_assert_eq(out.sender, in.sender);
		cr_assert_eq(out.enc_payload_len, in.enc_payload_len);
		cr_assert_eq(memcmp(out.ephemeral, e, sizeof(e)), 0);
		cr_assert_eq(memcmp(out.enc_static, s, sizeof(s)), 0);
		cr_assert_eq(memcmp(out.enc_payload, pl, in.enc_payload_len), 0);
		cr_assert_eq(memcmp(out.mac1, m1, sizeof(m1)), 0);
		cr_assert_eq(memcmp(out.mac2, m2, sizeof(m2)), 0);
		/* The MACs cover the packet up to their own offsets (§5.1). */
		cr_assert_eq(out.mac1, buf + hop_mac1_offset((size_t)len));
		cr_assert_eq(out.mac2, buf + hop_mac2_offset((size_t)len));
		/* The Noise message is contiguous: e || enc s || enc payload. */
		cr_assert_eq(out.ephemeral, buf + HOP_INIT_OFF_EPHEMERAL);
		cr_assert_eq(out.ephemeral + hop_init_noise_len(&out), out.mac1);
	}
}

Test(hop, resp_round_trip)
{
	uint8_t buf[HOP_RESP_LEN];
	struct hop_resp out;

	make_resp(buf, HOP_SUITE_AESGCM);
	cr_assert_eq(hop_classify(buf, sizeof(buf), HOP_SUITES_ALL), HOP_HANDSHAKE_RESP);
	cr_assert_eq(hop_resp_decode(buf, sizeof(buf), &out), 0);
	cr_assert_eq(out.suite, HOP_SUITE_AESGCM);
	cr_assert_eq(out.sender, 7);
	cr_assert_eq(out.receiver, 0xa1b2c3d4);
	cr_assert_eq(out.ephemeral, buf + 12);
	cr_assert_eq(out.enc_empty, buf + 44);
	cr_assert_eq(out.mac1, buf + 60);
	cr_assert_eq(out.mac2, buf + 76);
	cr_assert_eq(hop_mac1_offset(HOP_RESP_LEN), HOP_RESP_OFF_MAC1);
	cr_assert_eq(hop_mac2_offset(HOP_RESP_LEN), HOP_RESP_OFF_MAC2);
	cr_assert_eq(out.ephemeral[0], 11);
	cr_assert_eq(out.mac2[HOP_MAC_LEN - 1], (uint8_t)(14 + 15 * 7));
}

Test(hop, cookie_reply_round_trip)
{
	uint8_t buf[HOP_COOKIE_REPLY_LEN], n[HOP_COOKIE_NONCE_LEN], c[HOP_COOKIE_ENC_LEN];
	struct hop_cookie_reply out;

	make_cookie(buf, HOP_SUITE_CHACHAPOLY);
	pattern(n, sizeof(n), 21);
	pattern(c, sizeof(c), 22);
	cr_assert_eq(hop_classify(buf, sizeof(buf), HOP_SUITES_ALL), HOP_COOKIE_REPLY);
	cr_assert_eq(hop_cookie_reply_decode(buf, sizeof(buf), &out), 0);
	cr_assert_eq(out.suite, HOP_SUITE_CHACHAPOLY);
	cr_assert_eq(out.receiver, 99);
	cr_assert_eq(memcmp(out.nonce, n, sizeof(n)), 0);
	cr_assert_eq(memcmp(out.enc_cookie, c, sizeof(c)), 0);
}

Test(hop, data_round_trip_min_and_max)
{
	static const size_t ct_lens[] = { HOP_TAG_LEN, 100, HOP_MTU - HOP_DATA_HEADER_LEN };

	for (size_t i = 0; i < sizeof(ct_lens) / sizeof(ct_lens[0]); i++) {
		uint8_t buf[HOP_MTU], ct[HOP_MTU];
		struct hop_data out;
		size_t len = make_data(buf, ct_lens[i]);

		pattern(ct, sizeof(ct), 31);
		cr_assert_eq(hop_classify(buf, len, HOP_SUITES_ALL), HOP_DATA);
		cr_assert_eq(hop_data_decode(buf, len, &out), 0);
		cr_assert_eq(out.receiver, 0x01020304);
		cr_assert_eq(out.counter, 0x1122334455667788ull);
		cr_assert_eq(out.ciphertext, buf + HOP_DATA_HEADER_LEN);
		cr_assert_eq(out.ciphertext_len, ct_lens[i]);
		cr_assert_eq(memcmp(out.ciphertext, ct, ct_lens[i]), 0);
	}
}

Test(hop, data_header_bytes_are_little_endian)
{
	static const uint8_t want[HOP_DATA_HEADER_LEN] = {
		4, 1, 0, 0, 0x44, 0x33, 0x22, 0x11,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
	};
	uint8_t buf[HOP_DATA_HEADER_LEN];

	hop_data_header_write(buf, 0x11223344, 0x0102030405060708ull);
	cr_assert_eq(memcmp(buf, want, sizeof(want)), 0);
}

Test(hop, init_fixed_bytes_are_as_specified)
{
	uint8_t buf[HOP_INIT_MAX];
	size_t len = make_init(buf, sizeof(buf), HOP_SUITE_AESGCM, HOP_TOKEN_MIN);

	cr_assert_eq(len, HOP_INIT_MIN);
	/* type 1, version 1, suite 2, reserved 0, sender index little-endian */
	cr_assert_eq(buf[0], 1);
	cr_assert_eq(buf[1], 1);
	cr_assert_eq(buf[2], 2);
	cr_assert_eq(buf[3], 0);
	cr_assert_eq(buf[4], 0xd4);
	cr_assert_eq(buf[7], 0xa1);
}

/* A NULL part is the caller's to write in place: the encoder must not touch it. */
Test(hop, null_parts_are_left_for_the_caller)
{
	uint8_t buf[HOP_INIT_MAX];
	struct hop_init m = {
		.suite = 1, .sender = 5, .enc_payload_len = HOP_INIT_ENC_PAYLOAD_MIN,
	};
	struct hop_resp r = { .suite = 2, .sender = 1, .receiver = 2 };
	int len;

	memset(buf, 0xee, sizeof(buf));
	len = hop_init_encode(buf, sizeof(buf), &m);
	cr_assert_eq(len, HOP_INIT_MIN);
	for (size_t i = HOP_INIT_OFF_EPHEMERAL; i < (size_t)len; i++)
		cr_assert_eq(buf[i], 0xee, "byte %zu was written", i);
	cr_assert_eq(buf[(size_t)len], 0xee);

	memset(buf, 0xee, sizeof(buf));
	cr_assert_eq(hop_resp_encode(buf, HOP_RESP_LEN, &r), HOP_RESP_LEN);
	for (size_t i = HOP_RESP_OFF_EPHEMERAL; i < HOP_RESP_LEN; i++)
		cr_assert_eq(buf[i], 0xee, "byte %zu was written", i);
}

/* A ciphertext already inside the packet buffer, even at the wrong place, moves intact. */
Test(hop, data_encode_moves_overlapping_ciphertext)
{
	uint8_t buf[HOP_MTU], want[64];
	struct hop_data m = {
		.receiver = 1, .counter = 2, .ciphertext = buf, .ciphertext_len = 64,
	};
	struct hop_data out;

	pattern(buf, 64, 40);
	pattern(want, 64, 40);
	cr_assert_eq(hop_data_encode(buf, sizeof(buf), &m), HOP_DATA_HEADER_LEN + 64);
	cr_assert_eq(hop_data_decode(buf, HOP_DATA_HEADER_LEN + 64, &out), 0);
	cr_assert_eq(memcmp(out.ciphertext, want, 64), 0);
}

/* One packet of each type, built fresh by index: 0 INIT, 1 RESP, 2 COOKIE, 3 DATA. */
static size_t make_any(int which, uint8_t *buf)
{
	switch (which) {
	case 0:
		return make_init(buf, HOP_MTU, HOP_SUITE_CHACHAPOLY, HOP_TOKEN_MIN + 10);
	case 1:
		return make_resp(buf, HOP_SUITE_CHACHAPOLY);
	case 2:
		return make_cookie(buf, HOP_SUITE_CHACHAPOLY);
	default:
		return make_data(buf, 40);
	}
}

static int decode_any(int which, const uint8_t *buf, size_t len)
{
	struct hop_init i;
	struct hop_resp r;
	struct hop_cookie_reply c;
	struct hop_data d;

	switch (which) {
	case 0:
		return hop_init_decode(buf, len, &i);
	case 1:
		return hop_resp_decode(buf, len, &r);
	case 2:
		return hop_cookie_reply_decode(buf, len, &c);
	default:
		return hop_data_decode(buf, len, &d);
	}
}

static const size_t type_min[] = { HOP_INIT_MIN, HOP_RESP_LEN, HOP_COOKIE_REPLY_LEN, HOP_DATA_MIN };

/*
 * Cut each packet at every byte boundary. Below the type's minimum it is
 * dropped (bad_header: -EMSGSIZE); from the minimum on, INIT and DATA stay
 * valid by design (§2.1: T comes from the length; §2.4: n from the length).
 */
Test(hop, truncated_at_every_byte)
{
	for (int which = 0; which < 4; which++) {
		uint8_t full[HOP_MTU];
		size_t len = make_any(which, full);

		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *p = exact_copy(full, cut);
			int want = cut >= type_min[which] ? which + 1 : -EMSGSIZE;

			cr_assert_eq(hop_classify(p, cut, HOP_SUITES_ALL), want,
				     "type %d cut at %zu", which + 1, cut);
			cr_assert_eq(decode_any(which, p, cut), want > 0 ? 0 : want,
				     "type %d cut at %zu", which + 1, cut);
			free(p);
		}
	}
}

/* One line per malformed header or size; every one must be dropped. */
Test(hop, malformed_headers_are_dropped_with_their_reason)
{
	static const struct {
		const char *what;
		int which;		/* packet to start from, see make_any() */
		int off;		/* byte to overwrite, or -1 */
		uint8_t val;
		int len_delta;		/* added to the packet's length */
		unsigned suites;
		int want;
	} cases[] = {
		{ "INIT version 0",		0, 1, 0, 0, HOP_SUITES_ALL, -EPROTO },
		{ "INIT version 2",		0, 1, 2, 0, HOP_SUITES_ALL, -EPROTO },
		{ "RESP version 0xff",		1, 1, 0xff, 0, HOP_SUITES_ALL, -EPROTO },
		{ "COOKIE version 2",		2, 1, 2, 0, HOP_SUITES_ALL, -EPROTO },
		{ "DATA version 2",		3, 1, 2, 0, HOP_SUITES_ALL, -EPROTO },
		{ "type 0",			3, 0, 0, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "type 5",			3, 0, 5, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "type 0xff",			0, 0, 0xff, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "INIT reserved 1",		0, 3, 1, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "RESP reserved 0x80",		1, 3, 0x80, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "COOKIE reserved 1",		2, 3, 1, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "DATA reserved 1",		3, 3, 1, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "INIT suite 0",		0, 2, 0, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "INIT suite 3",		0, 2, 3, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "RESP suite 0",		1, 2, 0, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "RESP suite 3",		1, 2, 3, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "COOKIE suite 0",		2, 2, 0, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "COOKIE suite 0xff",		2, 2, 0xff, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "DATA suite 1",		3, 2, 1, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "DATA suite 2",		3, 2, 2, 0, HOP_SUITES_ALL, -EBADMSG },
		{ "INIT suite 1, AES only",	0, -1, 0, 0, HOP_SUITES_AESGCM, -EBADMSG },
		{ "INIT suite 2, ChaCha only",	0, 2, 2, 0, HOP_SUITES_CHACHAPOLY, -EBADMSG },
		{ "INIT suite 2, AES only",	0, 2, 2, 0, HOP_SUITES_AESGCM, 1 },
		{ "DATA, no suite accepted",	3, -1, 0, 0, 0, HOP_DATA },
		{ "RESP one byte long",		1, -1, 0, 1, HOP_SUITES_ALL, -EMSGSIZE },
		{ "COOKIE one byte long",	2, -1, 0, 1, HOP_SUITES_ALL, -EMSGSIZE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[HOP_MTU + 1] = { 0 };
		size_t len = make_any(cases[i].which, buf) + (size_t)cases[i].len_delta;

		if (cases[i].off >= 0)
			buf[cases[i].off] = cases[i].val;
		cr_assert_eq(hop_classify(buf, len, cases[i].suites), cases[i].want,
			     "%s", cases[i].what);
		/* Decoders accept both suites; the suite policy is the classifier's. */
		if (cases[i].want < 0 && cases[i].suites == HOP_SUITES_ALL)
			cr_assert_eq(decode_any(cases[i].which, buf, len), cases[i].want,
				     "%s (decode)", cases[i].what);
	}
}

/* The version is checked first: a future version may use other types and sizes. */
Test(hop, bad_version_wins_over_other_header_faults)
{
	static const uint8_t v2_new_type[8] = { 9, 2, 0, 0 };
	static const uint8_t v2_short_init[HOP_HEADER_LEN] = { 1, 2, 1, 0 };
	static const uint8_t v2_reserved[8] = { 4, 2, 0, 7 };

	cr_assert_eq(hop_classify(v2_new_type, sizeof(v2_new_type), HOP_SUITES_ALL), -EPROTO);
	cr_assert_eq(hop_classify(v2_short_init, sizeof(v2_short_init), HOP_SUITES_ALL), -EPROTO);
	cr_assert_eq(hop_classify(v2_reserved, sizeof(v2_reserved), HOP_SUITES_ALL), -EPROTO);
	/* ...but a packet shorter than a header is bad_header whatever it holds. */
	cr_assert_eq(hop_classify(v2_short_init, 3, HOP_SUITES_ALL), -EMSGSIZE);
}

/* Sizes at and around every type's limits, on an exact-size buffer. */
Test(hop, size_limits_per_type)
{
	static const struct {
		uint8_t type, suite;
		size_t len;
		int want;
	} cases[] = {
		{ 1, 1, HOP_INIT_MIN - 1, -EMSGSIZE },
		{ 1, 1, HOP_INIT_MIN, HOP_HANDSHAKE_INIT },
		{ 1, 1, HOP_INIT_MAX, HOP_HANDSHAKE_INIT },
		{ 1, 1, HOP_INIT_MAX + 1, -EMSGSIZE },
		{ 2, 1, HOP_RESP_LEN - 1, -EMSGSIZE },
		{ 2, 1, HOP_RESP_LEN + 1, -EMSGSIZE },
		{ 3, 2, HOP_COOKIE_REPLY_LEN - 1, -EMSGSIZE },
		{ 3, 2, HOP_COOKIE_REPLY_LEN + 1, -EMSGSIZE },
		{ 4, 0, HOP_DATA_MIN - 1, -EMSGSIZE },
		{ 4, 0, HOP_DATA_MIN, HOP_DATA },
		{ 4, 0, HOP_MTU, HOP_DATA },
		{ 4, 0, HOP_MTU + 1, -EMSGSIZE },	/* oversize DATA */
		{ 4, 0, 9000, -EMSGSIZE },
		{ 1, 1, 0, -EMSGSIZE },
		{ 1, 1, 3, -EMSGSIZE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *p = calloc(1, cases[i].len ? cases[i].len : 1);

		cr_assert_not_null(p);
		if (cases[i].len >= HOP_HEADER_LEN) {
			p[0] = cases[i].type;
			p[1] = HOP_VERSION;
			p[2] = cases[i].suite;
		}
		cr_assert_eq(hop_classify(p, cases[i].len, HOP_SUITES_ALL), cases[i].want,
			     "case %zu: type %u len %zu", i, cases[i].type, cases[i].len);
		free(p);
	}
}

Test(hop, decoder_refuses_another_type)
{
	uint8_t buf[HOP_MTU];
	size_t len = make_data(buf, 76);	/* DATA of 92 bytes, the RESP size */
	struct hop_resp r;
	struct hop_init in;

	cr_assert_eq(hop_resp_decode(buf, len, &r), -EBADMSG);
	cr_assert_eq(hop_init_decode(buf, len, &in), -EBADMSG);
	cr_assert_eq(hop_classify(NULL, 0, HOP_SUITES_ALL), -EMSGSIZE);
}

Test(hop, encoders_refuse_what_decoders_would)
{
	uint8_t buf[HOP_MTU + 100];
	struct hop_init i = { .suite = 1, .enc_payload_len = HOP_INIT_ENC_PAYLOAD_MIN };
	struct hop_resp r = { .suite = 1 };
	struct hop_cookie_reply c = { .suite = 2 };
	struct hop_data d = { .ciphertext_len = HOP_TAG_LEN };

	cr_assert_eq(hop_init_encode(buf, HOP_INIT_MIN - 1, &i), -EMSGSIZE);
	cr_assert_eq(hop_resp_encode(buf, HOP_RESP_LEN - 1, &r), -EMSGSIZE);
	cr_assert_eq(hop_cookie_reply_encode(buf, HOP_COOKIE_REPLY_LEN - 1, &c), -EMSGSIZE);
	cr_assert_eq(hop_data_encode(buf, HOP_DATA_MIN - 1, &d), -EMSGSIZE);
	cr_assert_eq(hop_init_encode(NULL, 0, &i), -EMSGSIZE);

	i.enc_payload_len = HOP_INIT_ENC_PAYLOAD_MIN - 1;
	cr_assert_eq(hop_init_encode(buf, sizeof(buf), &i), -EINVAL);
	i.enc_payload_len = HOP_INIT_ENC_PAYLOAD_MAX + 1;
	cr_assert_eq(hop_init_encode(buf, sizeof(buf), &i), -EINVAL);
	i.enc_payload_len = HOP_INIT_ENC_PAYLOAD_MAX;
	cr_assert_eq(hop_init_encode(buf, sizeof(buf), &i), HOP_INIT_MAX);
	i.suite = 3;
	cr_assert_eq(hop_init_encode(buf, sizeof(buf), &i), -EINVAL);
	r.suite = 0;
	cr_assert_eq(hop_resp_encode(buf, sizeof(buf), &r), -EINVAL);
	c.suite = 0;
	cr_assert_eq(hop_cookie_reply_encode(buf, sizeof(buf), &c), -EINVAL);
	d.ciphertext_len = HOP_TAG_LEN - 1;
	cr_assert_eq(hop_data_encode(buf, sizeof(buf), &d), -EINVAL);
	d.ciphertext_len = HOP_MTU - HOP_DATA_HEADER_LEN + 1;
	cr_assert_eq(hop_data_encode(buf, sizeof(buf), &d), -EMSGSIZE);
}

Test(hop, payload_round_trip)
{
	uint8_t ts[HOP_TIMESTAMP_LEN], tok[HOP_TOKEN_MAX], buf[HOP_PAYLOAD_MAX];
	struct hop_payload in = {
		.timestamp = ts, .flags = HOP_PAYLOAD_NEW_SESSION, .token = tok, .token_len = 200,
	}, out;

	pattern(ts, sizeof(ts), 50);
	pattern(tok, sizeof(tok), 51);
	cr_assert_eq(hop_payload_encode(buf, sizeof(buf), &in), HOP_PAYLOAD_OFF_TOKEN + 200);
	cr_assert_eq(hop_payload_decode(buf, HOP_PAYLOAD_OFF_TOKEN + 200, &out), 0);
	cr_assert_eq(out.flags, HOP_PAYLOAD_NEW_SESSION);
	cr_assert_eq(out.token_len, 200);
	cr_assert_eq(out.token, buf + 16);
	cr_assert_eq(memcmp(out.timestamp, ts, sizeof(ts)), 0);
	cr_assert_eq(memcmp(out.token, tok, 200), 0);
}

Test(hop, payload_malformed)
{
	static const struct {
		const char *what;
		size_t len;
		int off;
		uint8_t val;
		int want;
	} cases[] = {
		{ "valid, smallest token",	HOP_PAYLOAD_MIN, -1, 0, 0 },
		{ "valid, largest token",	HOP_PAYLOAD_MAX, -1, 0, 0 },
		{ "token 144 bytes",		HOP_PAYLOAD_MIN - 1, -1, 0, -EMSGSIZE },
		{ "token 718 bytes",		HOP_PAYLOAD_MAX + 1, -1, 0, -EMSGSIZE },
		{ "empty",			0, -1, 0, -EMSGSIZE },
		{ "flag bit 1",			HOP_PAYLOAD_MIN, 12, 0x02, -EBADMSG },
		{ "flag bit 7",			HOP_PAYLOAD_MIN, 12, 0x81, -EBADMSG },
		{ "reserved byte 13",		HOP_PAYLOAD_MIN, 13, 1, -EBADMSG },
		{ "reserved byte 15",		HOP_PAYLOAD_MIN, 15, 1, -EBADMSG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *p = calloc(1, cases[i].len ? cases[i].len : 1);
		struct hop_payload out;

		cr_assert_not_null(p);
		if (cases[i].off >= 0)
			p[cases[i].off] = cases[i].val;
		cr_assert_eq(hop_payload_decode(p, cases[i].len, &out), cases[i].want,
			     "%s", cases[i].what);
		free(p);
	}
}

Test(hop, payload_encode_refuses_bad_fields)
{
	uint8_t buf[HOP_PAYLOAD_MAX + 8];
	struct hop_payload p = { .flags = 2, .token_len = HOP_TOKEN_MIN };

	cr_assert_eq(hop_payload_encode(buf, sizeof(buf), &p), -EINVAL);
	p.flags = 0;
	p.token_len = HOP_TOKEN_MIN - 1;
	cr_assert_eq(hop_payload_encode(buf, sizeof(buf), &p), -EINVAL);
	p.token_len = HOP_TOKEN_MAX + 1;
	cr_assert_eq(hop_payload_encode(buf, sizeof(buf), &p), -EINVAL);
	p.token_len = HOP_TOKEN_MIN;
	cr_assert_eq(hop_payload_encode(buf, HOP_PAYLOAD_MIN - 1, &p), -EMSGSIZE);
	cr_assert_eq(hop_payload_encode(buf, HOP_PAYLOAD_MIN, &p), HOP_PAYLOAD_MIN);
}

Test(hop, tai64n_bytes_and_order)
{
	static const uint8_t epoch[HOP_TIMESTAMP_LEN] = { 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t t1[HOP_TIMESTAMP_LEN] = {
		0x40, 0, 0, 0, 0x65, 0x5d, 0x5a, 0x80, 0x3b, 0x9a, 0xc9, 0xff,
	};
	uint8_t a[HOP_TIMESTAMP_LEN], b[HOP_TIMESTAMP_LEN];

	hop_tai64n_write(a, 0, 0);
	cr_assert_eq(memcmp(a, epoch, sizeof(a)), 0);
	hop_tai64n_write(a, 1700616832, 999999999);
	cr_assert_eq(memcmp(a, t1, sizeof(a)), 0);
	/* A later time compares greater bytewise: §3.4 step 5's check. */
	hop_tai64n_write(b, 1700616833, 0);
	cr_assert_gt(memcmp(b, a, sizeof(a)), 0);
}

Test(hop, type_names)
{
	cr_assert_str_eq(hop_type_name(HOP_HANDSHAKE_INIT), "HANDSHAKE_INIT");
	cr_assert_str_eq(hop_type_name(HOP_HANDSHAKE_RESP), "HANDSHAKE_RESP");
	cr_assert_str_eq(hop_type_name(HOP_COOKIE_REPLY), "COOKIE_REPLY");
	cr_assert_str_eq(hop_type_name(HOP_DATA), "DATA");
	cr_assert_str_eq(hop_type_name(0), "unknown");
	cr_assert_str_eq(hop_type_name(5), "unknown");
}
