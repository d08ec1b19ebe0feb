/*
 * test_noise.c — the Noise HandshakeState (crypto/noise.c).
 *
 * 1. Every vector of $POSTERN_VECTORS/noise-ik.json (cacophony's public
 *    vectors for NN, IK, IKpsk2): both roles, every handshake message and
 *    every transport ciphertext byte for byte, and the handshake hash.
 *    Cacophony layout: "messages" alternate direction from the first one on
 *    (0: initiator → responder, 1: responder → initiator, 2: initiator → ...);
 *    the first messages are the handshake, the rest are transport messages
 *    under the Split() keys with nonces counting from 0 in each direction and
 *    empty associated data.
 * 2. What an attacker or a careless caller can do: tampered messages, low-order
 *    ephemerals, wrong psk, wrong responder static, misuse of order and role,
 *    short buffers.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/noise.h"

#define CHACHA SUITE_CHACHAPOLY_BLAKE2S
#define AES SUITE_AESGCM_SHA256

enum { MAX_MSG = 512 };

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	cr_assert(strlen(hex) % 2 == 0 && n <= cap, "bad hex (%zu chars): %.40s", strlen(hex),
		  hex);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		cr_assert(sscanf(hex + 2 * i, "%2x", &v) == 1, "bad hex: %.40s", hex);
		out[i] = (uint8_t)v;
	}
	return n;
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* ---- 1. cacophony vectors ---- */

/* A hex field of @v; returns its length, or -1 if the field is absent. */
static long vec_hex(json_t *v, const char *field, uint8_t *out, size_t cap)
{
	json_t *f = json_object_get(v, field);

	if (!f)
		return -1;
	cr_assert(json_is_string(f), "field %s is not a string", field);
	return (long)unhex(json_string_value(f), out, cap);
}

/* The single psk of @field ("init_psks"/"resp_psks"); false if there is none. */
static bool vec_psk(json_t *v, const char *field, uint8_t psk[NOISE_PSK_LEN])
{
	json_t *a = json_object_get(v, field);

	if (!a)
		return false;
	cr_assert(json_is_array(a) && json_array_size(a) == 1, "%s: want exactly one psk", field);
	cr_assert_eq(unhex(json_string_value(json_array_get(a, 0)), psk, NOISE_PSK_LEN),
		     NOISE_PSK_LEN);
	return true;
}

static bool parse_protocol(const char *name, enum noise_pattern *pattern, enum suite_id *suite)
{
	static const struct {
		const char *name;
		enum noise_pattern pattern;
	} patterns[] = { { "NN", NOISE_NN }, { "IK", NOISE_IK }, { "IKpsk2", NOISE_IKPSK2 } };
	static const enum suite_id suites[] = { CHACHA, AES };
	char buf[96];

	for (size_t p = 0; p < 3; p++) {
		for (size_t s = 0; s < 2; s++) {
			snprintf(buf, sizeof(buf), "Noise_%s_%s", patterns[p].name,
				 suite_name(suites[s]));
			if (strcmp(buf, name) == 0) {
				*pattern = patterns[p].pattern;
				*suite = suites[s];
				return true;
			}
		}
	}
	return false;
}

static void init_side(struct noise_handshake *hs, json_t *v, enum suite_id suite,
		      enum noise_pattern pattern, bool initiator)
{
	const char *pfx = initiator ? "init" : "resp";
	uint8_t prologue[256], s[32], rs[32], e[32], psk[NOISE_PSK_LEN];
	char field[32];
	long plen, slen, rslen;
	bool has_psk;

	snprintf(field, sizeof(field), "%s_prologue", pfx);
	plen = vec_hex(v, field, prologue, sizeof(prologue));
	snprintf(field, sizeof(field), "%s_static", pfx);
	slen = vec_hex(v, field, s, sizeof(s));
	snprintf(field, sizeof(field), "%s_remote_static", pfx);
	rslen = vec_hex(v, field, rs, sizeof(rs));
	snprintf(field, sizeof(field), "%s_psks", pfx);
	has_psk = vec_psk(v, field, psk);
	cr_assert(slen == -1 || slen == 32);
	cr_assert(rslen == -1 || rslen == 32);

	cr_assert_eq(noise_handshake_init(hs, suite, pattern, initiator, prologue,
					  plen < 0 ? 0 : (size_t)plen, slen < 0 ? NULL : s,
					  rslen < 0 ? NULL : rs, has_psk ? psk : NULL), 0,
		     "%s init", pfx);
	snprintf(field, sizeof(field), "%s_ephemeral", pfx);
	cr_assert_eq(vec_hex(v, field, e, sizeof(e)), 32, "%s: no ephemeral", pfx);
	cr_assert_eq(noise_handshake_set_ephemeral(hs, e), 0);
}

static void run_vector(json_t *v, const char *proto, enum noise_pattern pattern,
		       enum suite_id suite)
{
	struct noise_handshake hs[2];	/* [0] initiator, [1] responder */
	struct noise_keys keys[2];
	uint64_t nonce[2] = { 0, 0 };	/* transport counter per sender */
	uint8_t want_hash[SUITE_HASH_LEN], init_s[32], init_pub[32];
	json_t *msgs = json_object_get(v, "messages");
	size_t nmsg = json_array_size(msgs), i;

	cr_assert(nmsg >= 3, "%s: %zu messages, want handshake + transport", proto, nmsg);
	cr_assert_eq(vec_hex(v, "handshake_hash", want_hash, sizeof(want_hash)), SUITE_HASH_LEN);
	init_side(&hs[0], v, suite, pattern, true);
	init_side(&hs[1], v, suite, pattern, false);
	cr_assert_null(noise_remote_static(&hs[1]), "%s: responder knows rs too early", proto);

	for (i = 0; i < nmsg && !noise_handshake_is_complete(&hs[0]); i++) {
		json_t *m = json_array_get(msgs, i);
		uint8_t payload[MAX_MSG], want[MAX_MSG], out[MAX_MSG], got[MAX_MSG];
		size_t plen = (size_t)vec_hex(m, "payload", payload, sizeof(payload));
		size_t wlen = (size_t)vec_hex(m, "ciphertext", want, sizeof(want));
		size_t olen, glen;
		int from = i % 2, to = !from;

		cr_assert_eq(noise_message_len(pattern, (unsigned)i, plen), wlen,
			     "%s msg %zu: noise_message_len", proto, i);
		cr_assert_eq(noise_write_message(&hs[from], payload, plen, out, sizeof(out),
						 &olen), 0, "%s msg %zu: write", proto, i);
		cr_assert_eq(olen, wlen, "%s msg %zu: length", proto, i);
		cr_assert(memcmp(out, want, wlen) == 0, "%s handshake msg %zu differs", proto, i);
		cr_assert_eq(noise_read_message(&hs[to], out, olen, got, sizeof(got), &glen), 0,
			     "%s msg %zu: read", proto, i);
		cr_assert_eq(glen, plen);
		cr_assert(memcmp(got, payload, plen) == 0, "%s msg %zu: payload", proto, i);
	}
	cr_assert(noise_handshake_is_complete(&hs[0]) && noise_handshake_is_complete(&hs[1]),
		  "%s: handshake did not complete in %zu messages", proto, nmsg);
	cr_assert_eq(i, 2, "%s: handshake took %zu messages", proto, i);

	/* The responder learned the initiator's static key from msg1 (IK family). */
	if (vec_hex(v, "init_static", init_s, sizeof(init_s)) == 32) {
		cr_assert_eq(suite_dh_public(init_s, init_pub), 0);
		cr_assert_not_null(noise_remote_static(&hs[1]));
		cr_assert(memcmp(noise_remote_static(&hs[1]), init_pub, 32) == 0,
			  "%s: responder learned the wrong static key", proto);
	}

	cr_assert_eq(noise_split(&hs[0], &keys[0]), 0);
	cr_assert_eq(noise_split(&hs[1], &keys[1]), 0);
	cr_assert(memcmp(keys[0].hash, want_hash, SUITE_HASH_LEN) == 0,
		  "%s: handshake hash differs", proto);
	cr_assert(memcmp(keys[1].hash, want_hash, SUITE_HASH_LEN) == 0);
	cr_assert(memcmp(keys[0].send, keys[1].recv, SUITE_KEY_LEN) == 0);
	cr_assert(memcmp(keys[0].recv, keys[1].send, SUITE_KEY_LEN) == 0);
	cr_assert(all_zero(hs, sizeof(hs)), "%s: split left secrets behind", proto);

	for (; i < nmsg; i++) {
		json_t *m = json_array_get(msgs, i);
		uint8_t payload[MAX_MSG], want[MAX_MSG], out[MAX_MSG], got[MAX_MSG];
		size_t plen = (size_t)vec_hex(m, "payload", payload, sizeof(payload));
		size_t wlen = (size_t)vec_hex(m, "ciphertext", want, sizeof(want));
		int from = i % 2, to = !from;

		cr_assert_eq(wlen, plen + SUITE_TAG_LEN);
		cr_assert_eq(suite_seal(suite, keys[from].send, nonce[from], NULL, 0, payload, plen,
					out), 0);
		cr_assert(memcmp(out, want, wlen) == 0, "%s transport msg %zu differs", proto, i);
		cr_assert(suite_open(suite, keys[to].recv, nonce[from], NULL, 0, out, wlen, got),
			  "%s transport msg %zu: open", proto, i);
		cr_assert(memcmp(got, payload, plen) == 0);
		nonce[from]++;
	}
	cr_assert(nonce[0] >= 1 && nonce[1] >= 1, "%s: transport not exercised both ways", proto);
}

Test(noise, cacophony_vectors)
{
	/* The file holds these five; a vector we cannot run is a failure, not a skip. */
	static const char *const expected[] = {
		"Noise_NN_25519_ChaChaPoly_BLAKE2s",
		"Noise_IK_25519_ChaChaPoly_BLAKE2s",  "Noise_IK_25519_AESGCM_SHA256",
		"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", "Noise_IKpsk2_25519_AESGCM_SHA256",
	};
	const char *dir = getenv("POSTERN_VECTORS");
	bool seen[sizeof(expected) / sizeof(expected[0])] = { false };
	char path[4096];
	json_error_t jerr;
	json_t *root, *vectors;

	cr_assert_not_null(dir, "POSTERN_VECTORS is not set (directory of noise-ik.json)");
	snprintf(path, sizeof(path), "%s/noise-ik.json", dir);
	root = json_load_file(path, 0, &jerr);
	cr_assert_not_null(root, "%s: %s (line %d)", path, jerr.text, jerr.line);
	vectors = json_object_get(root, "vectors");
	cr_assert(json_is_array(vectors), "%s: no \"vectors\" array", path);
	cr_assert_geq(json_array_size(vectors), 5, "%s: only %zu vectors", path,
		      json_array_size(vectors));

	for (size_t i = 0; i < json_array_size(vectors); i++) {
		json_t *v = json_array_get(vectors, i);
		const char *proto = json_string_value(json_object_get(v, "protocol_name"));
		enum noise_pattern pattern;
		enum suite_id suite;

		cr_assert_not_null(proto, "vector %zu has no protocol_name", i);
		cr_assert(parse_protocol(proto, &pattern, &suite), "unsupported vector %s", proto);
		run_vector(v, proto, pattern, suite);
		for (size_t e = 0; e < sizeof(expected) / sizeof(expected[0]); e++)
			seen[e] |= strcmp(proto, expected[e]) == 0;
	}
	for (size_t e = 0; e < sizeof(expected) / sizeof(expected[0]); e++)
		cr_assert(seen[e], "%s: no vector for %s", path, expected[e]);
	json_decref(root);
}

/* ---- 2. adversarial and misuse cases ---- */

/* The cacophony keys, so a bad case differs from a good one in one thing only. */
static const char INIT_S[] = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
static const char RESP_S[] = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
static const char RESP_PUB[] = "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
static const char INIT_E[] = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
static const char RESP_E[] = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
static const char PSK[] = "54686973206973206d7920417573747269616e20706572737065637469766521";
static const uint8_t prologue[] = "John Galt";
static const uint8_t payload1[] = "Ludwig von Mises", payload2[] = "Murray Rothbard";

static const char LOW_ORDER_ZERO[] =
	"0000000000000000000000000000000000000000000000000000000000000000";
static const char LOW_ORDER_8[] =
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800";

struct pair {
	struct noise_handshake i, r;
	uint8_t m1[MAX_MSG], m2[MAX_MSG];
	size_t m1_len, m2_len;
};

struct setup {
	enum noise_pattern pattern;
	enum suite_id suite;
	const char *i_psk, *r_psk;	/* NULL: none */
	const char *rs;			/* initiator's idea of the responder; NULL: right one */
};

static void pair_init(struct pair *p, const struct setup *c)
{
	uint8_t is[32], rs[32], rpub[32], ie[32], re[32], ipsk[32], rpsk[32];
	bool statics = c->pattern != NOISE_NN;

	unhex(INIT_S, is, 32);
	unhex(RESP_S, rs, 32);
	unhex(c->rs ? c->rs : RESP_PUB, rpub, 32);
	unhex(INIT_E, ie, 32);
	unhex(RESP_E, re, 32);
	if (c->i_psk)
		unhex(c->i_psk, ipsk, 32);
	if (c->r_psk)
		unhex(c->r_psk, rpsk, 32);
	memset(p, 0, sizeof(*p));
	cr_assert_eq(noise_handshake_init(&p->i, c->suite, c->pattern, true, prologue,
					  sizeof(prologue) - 1, statics ? is : NULL,
					  statics ? rpub : NULL, c->i_psk ? ipsk : NULL), 0);
	cr_assert_eq(noise_handshake_init(&p->r, c->suite, c->pattern, false, prologue,
					  sizeof(prologue) - 1, statics ? rs : NULL, NULL,
					  c->r_psk ? rpsk : NULL), 0);
	cr_assert_eq(noise_handshake_set_ephemeral(&p->i, ie), 0);
	cr_assert_eq(noise_handshake_set_ephemeral(&p->r, re), 0);
}

static void pair_write1(struct pair *p)
{
	cr_assert_eq(noise_write_message(&p->i, payload1, sizeof(payload1) - 1, p->m1,
					 sizeof(p->m1), &p->m1_len), 0);
}

static int pair_read1(struct pair *p)
{
	uint8_t got[MAX_MSG];
	size_t glen;

	return noise_read_message(&p->r, p->m1, p->m1_len, got, sizeof(got), &glen);
}

static int pair_write2(struct pair *p)
{
	return noise_write_message(&p->r, payload2, sizeof(payload2) - 1, p->m2, sizeof(p->m2),
				   &p->m2_len);
}

static int pair_read2(struct pair *p)
{
	uint8_t got[MAX_MSG];
	size_t glen;

	return noise_read_message(&p->i, p->m2, p->m2_len, got, sizeof(got), &glen);
}

/* A handshake that failed must be wiped and refuse everything. */
static void assert_dead(struct noise_handshake *hs, const char *what)
{
	static const uint8_t key[32] = { 9 };
	struct noise_keys keys;
	uint8_t buf[MAX_MSG];
	size_t len;

	cr_assert(all_zero(hs, sizeof(*hs)), "%s: secrets left in the handshake", what);
	cr_assert_not(noise_handshake_is_complete(hs), "%s", what);
	cr_assert_null(noise_remote_static(hs), "%s", what);
	cr_assert_eq(noise_write_message(hs, NULL, 0, buf, sizeof(buf), &len), -EINVAL, "%s",
		     what);
	cr_assert_eq(noise_read_message(hs, buf, 200, buf, sizeof(buf), &len), -EINVAL, "%s",
		     what);
	cr_assert_eq(noise_handshake_set_ephemeral(hs, key), -EINVAL, "%s", what);
	cr_assert_eq(noise_handshake_set_psk(hs, key), -EINVAL, "%s", what);
	memset(&keys, 0xaa, sizeof(keys));
	cr_assert_eq(noise_split(hs, &keys), -EINVAL, "%s", what);
	cr_assert(all_zero(&keys, sizeof(keys)), "%s: split of a dead handshake gave keys", what);
}

static const struct setup auth_setups[] = {
	{ NOISE_IK, CHACHA, NULL, NULL, NULL },
	{ NOISE_IK, AES, NULL, NULL, NULL },
	{ NOISE_IKPSK2, CHACHA, PSK, PSK, NULL },
	{ NOISE_IKPSK2, AES, PSK, PSK, NULL },
};

Test(noise, tampered_msg1_is_rejected)
{
	/* Offsets into IK msg1 = e(32) || s(32) || s tag(16) || payload(16) || tag(16). */
	static const struct {
		const char *what;
		size_t byte;
		uint8_t bit;
	} flips[] = {
		{ "e, low bit", 0, 0x01 },
		{ "e, bit 255 (masked by X25519, still hashed)", 31, 0x80 },
		{ "encrypted static", 40, 0x10 },
		{ "static tag", 70, 0x01 },
		{ "payload", 85, 0x04 },
		{ "payload tag", 96 + 16 - 1, 0x80 },
	};

	for (size_t s = 0; s < sizeof(auth_setups) / sizeof(auth_setups[0]); s++) {
		for (size_t f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
			struct pair p;

			pair_init(&p, &auth_setups[s]);
			pair_write1(&p);
			cr_assert_eq(p.m1_len, 96 + sizeof(payload1) - 1);
			p.m1[flips[f].byte] ^= flips[f].bit;
			cr_assert_eq(pair_read1(&p), -EBADMSG, "setup %zu: %s", s, flips[f].what);
			assert_dead(&p.r, flips[f].what);
			noise_handshake_wipe(&p.i);
		}
	}
}

Test(noise, tampered_msg2_is_rejected)
{
	static const struct setup setups[] = {
		{ NOISE_NN, CHACHA, NULL, NULL, NULL },
		{ NOISE_NN, AES, NULL, NULL, NULL },
		{ NOISE_IK, CHACHA, NULL, NULL, NULL },
		{ NOISE_IKPSK2, AES, PSK, PSK, NULL },
		{ NOISE_IKPSK2, CHACHA, PSK, PSK, NULL },
	};
	/* msg2 = e(32) || payload(15) || tag(16) */
	static const struct {
		const char *what;
		size_t byte;
	} flips[] = {
		{ "e", 5 },
		{ "payload", 32 + 3 },
		{ "tag", 32 + 15 + 15 },
	};

	for (size_t s = 0; s < sizeof(setups) / sizeof(setups[0]); s++) {
		for (size_t f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
			struct pair p;

			pair_init(&p, &setups[s]);
			pair_write1(&p);
			cr_assert_eq(pair_read1(&p), 0);
			cr_assert_eq(pair_write2(&p), 0);
			cr_assert(noise_handshake_is_complete(&p.r));
			cr_assert_eq(p.m2_len, 48 + sizeof(payload2) - 1);
			p.m2[flips[f].byte] ^= 0x02;
			cr_assert_eq(pair_read2(&p), -EBADMSG, "setup %zu: %s", s, flips[f].what);
			assert_dead(&p.i, flips[f].what);
			/* Dead means dead: the genuine message is refused too. */
			p.m2[flips[f].byte] ^= 0x02;
			cr_assert_eq(pair_read2(&p), -EINVAL);
			noise_handshake_wipe(&p.r);
		}
	}
}

Test(noise, low_order_ephemeral_is_refused)
{
	static const struct {
		const char *what;
		struct setup setup;
		int msg;		/* which message carries the bad e: 1 or 2 */
		const char *point;
	} cases[] = {
		{ "IK msg1 zero", { NOISE_IK, CHACHA, NULL, NULL, NULL }, 1, LOW_ORDER_ZERO },
		{ "IK msg1 order 8", { NOISE_IK, AES, NULL, NULL, NULL }, 1, LOW_ORDER_8 },
		{ "IKpsk2 msg1 zero", { NOISE_IKPSK2, CHACHA, PSK, PSK, NULL }, 1, LOW_ORDER_ZERO },
		{ "IKpsk2 msg1 order 8", { NOISE_IKPSK2, AES, PSK, PSK, NULL }, 1, LOW_ORDER_8 },
		{ "IKpsk2 msg2 zero", { NOISE_IKPSK2, CHACHA, PSK, PSK, NULL }, 2, LOW_ORDER_ZERO },
		{ "IKpsk2 msg2 order 8", { NOISE_IKPSK2, CHACHA, PSK, PSK, NULL }, 2, LOW_ORDER_8 },
		{ "NN msg2 order 8", { NOISE_NN, AES, NULL, NULL, NULL }, 2, LOW_ORDER_8 },
		{ "NN msg1 zero", { NOISE_NN, CHACHA, NULL, NULL, NULL }, 1, LOW_ORDER_ZERO },
		{ "NN msg1 order 8", { NOISE_NN, AES, NULL, NULL, NULL }, 1, LOW_ORDER_8 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct pair p;

		pair_init(&p, &cases[c].setup);
		pair_write1(&p);
		if (cases[c].msg == 1) {
			unhex(cases[c].point, p.m1, 32);
			if (cases[c].setup.pattern == NOISE_NN) {
				/* NN msg1 has no DH: the responder's "ee" is where it fails. */
				cr_assert_eq(pair_read1(&p), 0, "%s", cases[c].what);
				cr_assert_eq(pair_write2(&p), -EINVAL, "%s", cases[c].what);
				cr_assert(all_zero(p.m2, sizeof(p.m2)), "%s: partial msg2",
					  cases[c].what);
			} else {
				cr_assert_eq(pair_read1(&p), -EINVAL, "%s", cases[c].what);
			}
			assert_dead(&p.r, cases[c].what);
			noise_handshake_wipe(&p.i);
		} else {
			cr_assert_eq(pair_read1(&p), 0);
			cr_assert_eq(pair_write2(&p), 0);
			unhex(cases[c].point, p.m2, 32);
			cr_assert_eq(pair_read2(&p), -EINVAL, "%s", cases[c].what);
			assert_dead(&p.i, cases[c].what);
			noise_handshake_wipe(&p.r);
		}
	}
}

Test(noise, wrong_psk_fails)
{
	static const char OTHER_PSK[] =
		"54686973206973206e6f7420416e7920417573747269616e207065727370656b";
	static const enum suite_id suites[] = { CHACHA, AES };

	for (size_t s = 0; s < 2; s++) {
		struct setup good = { NOISE_IKPSK2, suites[s], PSK, PSK, NULL };
		struct setup bad = { NOISE_IKPSK2, suites[s], PSK, OTHER_PSK, NULL };
		struct noise_keys good_i, bad_r;
		uint8_t ct[64], pt[48];
		struct pair p;

		/* Reference run with the right psk; same ephemerals, so same transcript. */
		pair_init(&p, &good);
		pair_write1(&p);
		cr_assert_eq(pair_read1(&p), 0);
		cr_assert_eq(pair_write2(&p), 0);
		cr_assert_eq(pair_read2(&p), 0);
		cr_assert_eq(noise_split(&p.i, &good_i), 0);
		noise_handshake_wipe(&p.r);

		/*
		 * psk2 mixes the psk in at the end of msg2, so the responder cannot
		 * tell in msg1; the initiator refuses its msg2, and the keys the
		 * responder derived open nothing the real initiator sends.
		 */
		pair_init(&p, &bad);
		pair_write1(&p);
		cr_assert_eq(pair_read1(&p), 0);
		cr_assert_eq(pair_write2(&p), 0);
		cr_assert_eq(pair_read2(&p), -EBADMSG, "suite %d: wrong psk accepted", suites[s]);
		assert_dead(&p.i, "wrong psk");
		cr_assert_eq(noise_split(&p.r, &bad_r), 0);
		cr_assert_eq(suite_seal(suites[s], good_i.send, 0, NULL, 0, payload1, 16, ct), 0);
		cr_assert_not(suite_open(suites[s], bad_r.recv, 0, NULL, 0, ct, 32, pt),
			      "suite %d: responder with the wrong psk reads traffic", suites[s]);
	}
}

Test(noise, psk_can_be_set_after_msg1)
{
	struct setup late = { NOISE_IKPSK2, CHACHA, PSK, NULL, NULL };
	struct noise_keys ki, kr;
	uint8_t psk[32];
	struct pair p;

	unhex(PSK, psk, 32);
	pair_init(&p, &late);
	pair_write1(&p);
	cr_assert_eq(pair_read1(&p), 0);
	/* Without a psk the responder cannot write msg2; the refusal leaves it usable. */
	cr_assert_eq(pair_write2(&p), -EINVAL);
	cr_assert_not_null(noise_remote_static(&p.r));
	cr_assert_eq(noise_handshake_set_psk(&p.r, psk), 0);
	cr_assert_eq(pair_write2(&p), 0);
	cr_assert_eq(pair_read2(&p), 0);
	cr_assert_eq(noise_handshake_set_psk(&p.r, psk), -EINVAL, "psk set after use");
	cr_assert_eq(noise_split(&p.i, &ki), 0);
	cr_assert_eq(noise_split(&p.r, &kr), 0);
	cr_assert(memcmp(ki.send, kr.recv, 32) == 0 && memcmp(ki.hash, kr.hash, 32) == 0);
}

Test(noise, wrong_responder_static_fails)
{
	/* RFC 7748 §6.1 Bob's public key: valid, just not this responder's. */
	static const char OTHER[] =
		"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";

	for (size_t s = 0; s < sizeof(auth_setups) / sizeof(auth_setups[0]); s++) {
		struct setup c = auth_setups[s];
		struct pair p;

		c.rs = OTHER;
		pair_init(&p, &c);
		pair_write1(&p);
		cr_assert_eq(pair_read1(&p), -EBADMSG, "setup %zu: wrong rs accepted", s);
		assert_dead(&p.r, "wrong responder static");
		noise_handshake_wipe(&p.i);
	}
}

Test(noise, responder_learns_initiator_static_after_msg1)
{
	uint8_t is[32], ipub[32];
	struct pair p;

	unhex(INIT_S, is, 32);
	cr_assert_eq(suite_dh_public(is, ipub), 0);
	pair_init(&p, &auth_setups[2]);
	cr_assert_not_null(noise_remote_static(&p.i), "the IK initiator pins rs from init");
	cr_assert_null(noise_remote_static(&p.r));
	pair_write1(&p);
	cr_assert_eq(pair_read1(&p), 0);
	cr_assert_not_null(noise_remote_static(&p.r));
	cr_assert(memcmp(noise_remote_static(&p.r), ipub, 32) == 0);
	noise_handshake_wipe(&p.i);
	noise_handshake_wipe(&p.r);
	cr_assert_null(noise_remote_static(&p.r));
}

Test(noise, order_and_role_misuse_is_refused)
{
	static const uint8_t e[32] = { 1 };
	struct noise_handshake zero;
	struct noise_keys keys;
	uint8_t buf[MAX_MSG];
	size_t len;
	struct pair p;

	/* A never-initialised (zeroed) handshake refuses everything. */
	memset(&zero, 0, sizeof(zero));
	assert_dead(&zero, "zeroed");

	pair_init(&p, &auth_setups[0]);
	cr_assert_eq(pair_write2(&p), -EINVAL, "responder wrote first");
	cr_assert_eq(noise_read_message(&p.i, buf, 96, buf, sizeof(buf), &len), -EINVAL,
		     "initiator read first");
	pair_write1(&p);
	cr_assert_eq(noise_write_message(&p.i, NULL, 0, buf, sizeof(buf), &len), -EINVAL,
		     "initiator wrote twice");
	cr_assert_eq(noise_handshake_set_ephemeral(&p.i, e), -EINVAL, "e replaced after use");

	/* Misuse does not kill: the handshake still completes. */
	cr_assert_eq(pair_read1(&p), 0);
	cr_assert_eq(pair_read1(&p), -EINVAL, "responder read msg1 twice");
	cr_assert_eq(pair_write2(&p), 0);
	cr_assert_eq(pair_read2(&p), 0);
	cr_assert_eq(noise_write_message(&p.i, NULL, 0, buf, sizeof(buf), &len), -EINVAL,
		     "write after completion");
	cr_assert_eq(noise_split(&p.i, &keys), 0);
	cr_assert_eq(noise_split(&p.i, &keys), -EINVAL, "split twice");

	/* Split before completion refuses, and (as documented) ends the handshake. */
	pair_init(&p, &auth_setups[1]);
	pair_write1(&p);
	cr_assert_eq(noise_split(&p.i, &keys), -EINVAL);
	assert_dead(&p.i, "early split");
	noise_handshake_wipe(&p.r);
}

Test(noise, init_rejects_keys_the_pattern_does_not_use)
{
	static const uint8_t k[32] = { 7 };
	static const struct {
		const char *what;
		unsigned suite;
		enum noise_pattern pattern;
		bool initiator;
		const uint8_t *s, *rs, *psk;
	} cases[] = {
		{ "NN with s", CHACHA, NOISE_NN, true, k, NULL, NULL },
		{ "NN with rs", CHACHA, NOISE_NN, true, NULL, k, NULL },
		{ "IK initiator without rs", CHACHA, NOISE_IK, true, k, NULL, NULL },
		{ "IK initiator without s", AES, NOISE_IK, true, NULL, k, NULL },
		{ "IK responder with rs", CHACHA, NOISE_IK, false, k, k, NULL },
		{ "IK with psk", AES, NOISE_IK, true, k, k, k },
		{ "NN with psk", AES, NOISE_NN, false, NULL, NULL, k },
		{ "unknown suite", 3, NOISE_NN, true, NULL, NULL, NULL },
		{ "unknown pattern", CHACHA, (enum noise_pattern)3, true, NULL, NULL, NULL },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct noise_handshake hs;

		memset(&hs, 0x5a, sizeof(hs));
		cr_assert_eq(noise_handshake_init(&hs, (enum suite_id)cases[c].suite,
						  cases[c].pattern, cases[c].initiator, NULL, 0,
						  cases[c].s, cases[c].rs, cases[c].psk), -EINVAL,
			     "%s", cases[c].what);
		assert_dead(&hs, cases[c].what);
	}
}

Test(noise, message_lengths)
{
	static const struct {
		enum noise_pattern pattern;
		unsigned index;
		size_t payload, len;
	} cases[] = {
		{ NOISE_IKPSK2, 0, 0, 32 + 48 + 16 },
		{ NOISE_IKPSK2, 0, 100, 32 + 48 + 100 + 16 },
		{ NOISE_IKPSK2, 1, 0, 32 + 16 },
		{ NOISE_IKPSK2, 1, 7, 32 + 7 + 16 },
		{ NOISE_IK, 0, 16, NOISE_IK_MSG1_OVERHEAD + 16 },
		{ NOISE_IK, 1, 16, NOISE_IK_MSG2_OVERHEAD + 16 },
		{ NOISE_NN, 0, 5, 32 + 5 },
		{ NOISE_NN, 1, 5, 32 + 5 + 16 },
		{ NOISE_IK, 2, 0, 0 },
		{ NOISE_NN, 0, NOISE_MAX_MSG_LEN + 1, 0 },
		{ (enum noise_pattern)9, 0, 0, 0 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		cr_assert_eq(noise_message_len(cases[c].pattern, cases[c].index, cases[c].payload),
			     cases[c].len, "case %zu", c);
}

Test(noise, short_buffers_and_truncation)
{
	uint8_t buf[MAX_MSG], want[MAX_MSG], got[MAX_MSG];
	size_t len, wlen;
	struct pair p, ref;

	/* Reference msg1 from an untouched pair. */
	pair_init(&ref, &auth_setups[2]);
	pair_write1(&ref);
	memcpy(want, ref.m1, ref.m1_len);
	wlen = ref.m1_len;

	/* -EMSGSIZE leaves the state as it was: a retry gives the same bytes. */
	pair_init(&p, &auth_setups[2]);
	cr_assert_eq(noise_write_message(&p.i, payload1, sizeof(payload1) - 1, buf, wlen - 1,
					 &len), -EMSGSIZE);
	cr_assert_eq(noise_write_message(&p.i, payload1, sizeof(payload1) - 1, buf, wlen, &len),
		     0);
	cr_assert_eq(len, wlen);
	cr_assert(memcmp(buf, want, wlen) == 0);

	/* Payload buffer too small on read: -EMSGSIZE, then the retry succeeds. */
	cr_assert_eq(noise_read_message(&p.r, buf, len, got, sizeof(payload1) - 2, &wlen),
		     -EMSGSIZE);
	cr_assert_eq(noise_read_message(&p.r, buf, len, got, sizeof(payload1) - 1, &wlen), 0);
	cr_assert_eq(wlen, sizeof(payload1) - 1);
	cr_assert(memcmp(got, payload1, wlen) == 0);
	noise_handshake_wipe(&p.i);
	noise_handshake_wipe(&p.r);

	/* A message shorter than its fixed part, or one byte short, is malformed. */
	for (size_t cut = 1; cut <= 2; cut++) {
		pair_init(&p, &auth_setups[2]);
		pair_write1(&p);
		p.m1_len = cut == 1 ? 95 : p.m1_len - 1;
		cr_assert_eq(pair_read1(&p), -EBADMSG, "cut %zu", cut);
		assert_dead(&p.r, "truncated msg1");
		noise_handshake_wipe(&p.i);
	}
	noise_handshake_wipe(&ref.i);
	noise_handshake_wipe(&ref.r);
}

Test(noise, random_ephemerals_interoperate)
{
	static const enum suite_id suites[] = { CHACHA, AES };

	for (size_t s = 0; s < 2; s++) {
		struct noise_handshake i[2], r[2];
		uint8_t m1[2][MAX_MSG], m2[MAX_MSG], got[MAX_MSG];
		size_t l1, l2, gl;
		struct noise_keys ki, kr;
		uint8_t is[32], rs[32], rpub[32];

		unhex(INIT_S, is, 32);
		unhex(RESP_S, rs, 32);
		unhex(RESP_PUB, rpub, 32);
		for (int run = 0; run < 2; run++) {
			cr_assert_eq(noise_handshake_init(&i[run], suites[s], NOISE_IK, true,
							  NULL, 0, is, rpub, NULL), 0);
			cr_assert_eq(noise_handshake_init(&r[run], suites[s], NOISE_IK, false,
							  NULL, 0, rs, NULL, NULL), 0);
			cr_assert_eq(noise_write_message(&i[run], NULL, 0, m1[run], MAX_MSG, &l1),
				     0);
			cr_assert_eq(noise_read_message(&r[run], m1[run], l1, got, 0, &gl), 0);
			cr_assert_eq(gl, 0);
			cr_assert_eq(noise_write_message(&r[run], NULL, 0, m2, MAX_MSG, &l2), 0);
			cr_assert_eq(noise_read_message(&i[run], m2, l2, NULL, 0, &gl), 0);
			cr_assert_eq(noise_split(&i[run], &ki), 0);
			cr_assert_eq(noise_split(&r[run], &kr), 0);
			cr_assert(memcmp(ki.send, kr.recv, 32) == 0);
			cr_assert(memcmp(ki.recv, kr.send, 32) == 0);
			cr_assert(memcmp(ki.send, ki.recv, 32) != 0);
		}
		cr_assert(memcmp(m1[0], m1[1], 32) != 0, "two handshakes used the same ephemeral");
	}
}
