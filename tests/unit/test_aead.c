/*
 * test_aead.c — transport AEAD: round trips, in-place use, known answers,
 * the Noise nonce layout, and rejection of every kind of tampering.
 *
 * Independent reference: a one-shot OpenSSL computation on a fresh EVP context
 * with a nonce written out byte by byte here, never through aead.c.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/aead.h"
#include "crypto/replay.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const enum suite_id suites[] = { SUITE_CHACHAPOLY_BLAKE2S, SUITE_AESGCM_SHA256 };
static const size_t sizes[] = { 0, 1, 15, 16, 17, 64, 1400, 65535 };

static const uint8_t key_a[32] = {
	0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe,
	0x0f, 0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d,
	0x1e, 0x0f,
};

/* A DATA header shaped AD: type, receiver index, counter. */
static const uint8_t hdr[16] = { 4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8 };

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	cr_assert_leq(n, cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static struct aead_ctx *mk(enum suite_id s, const uint8_t *key, bool seal)
{
	struct aead_ctx *ctx = NULL;

	cr_assert_eq(aead_ctx_create(&ctx, s, key, seal), 0, "suite %d", s);
	cr_assert_not_null(ctx);
	return ctx;
}

static const EVP_CIPHER *evp_of(enum suite_id s)
{
	return s == SUITE_AESGCM_SHA256 ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
}

/* Reference nonce, Noise rev 34 §12, written out bytewise. */
static void ref_nonce(enum suite_id s, uint64_t c, uint8_t n[12])
{
	memset(n, 0, 12);
	for (int i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(c >> (8 * i));

		if (s == SUITE_AESGCM_SHA256)
			n[11 - i] = b;	/* big-endian */
		else
			n[4 + i] = b;	/* little-endian */
	}
}

/* One-shot AEAD encryption on a fresh context: ct || tag into @out. */
static void ref_seal(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t nonce[12],
		     const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl;

	cr_assert_not_null(c);
	cr_assert(EVP_EncryptInit_ex(c, cipher, NULL, key, nonce));
	cr_assert(EVP_EncryptUpdate(c, NULL, &outl, ad, (int)adlen));
	cr_assert(EVP_EncryptUpdate(c, out, &outl, in, (int)len));
	cr_assert(EVP_EncryptFinal_ex(c, out + outl, &outl));
	cr_assert(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + len));
	EVP_CIPHER_CTX_free(c);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Seal and open one payload out of place; the plaintext must come back. */
static void round_trip(enum suite_id suite, struct aead_ctx *tx, struct aead_ctx *rx,
		       size_t len, size_t adlen, uint64_t ctr)
{
	uint8_t *pt = malloc(len + 1), *ct = malloc(len + 16), *back = malloc(len + 1);
	const uint8_t *ad = adlen ? hdr : NULL;

	fill(pt, len, (uint32_t)len);
	cr_assert_eq(aead_seal(tx, ctr, ad, adlen, pt, len, ct), 0);
	if (len >= 16)
		cr_assert(memcmp(pt, ct, len), "suite %d len %zu: not encrypted", suite, len);
	cr_assert(aead_open(rx, ctr, ad, adlen, ct, len + 16, back),
		  "suite %d len %zu adlen %zu", suite, len, adlen);
	cr_assert(!len || !memcmp(pt, back, len), "suite %d len %zu", suite, len);
	free(pt);
	free(ct);
	free(back);
}

Test(aead, round_trip_all_sizes_both_suites)
{
	for (size_t s = 0; s < ARRAY_SIZE(suites); s++) {
		struct aead_ctx *tx = mk(suites[s], key_a, true);
		struct aead_ctx *rx = mk(suites[s], key_a, false);

		for (size_t z = 0; z < ARRAY_SIZE(sizes); z++) {
			round_trip(suites[s], tx, rx, sizes[z], 0, 1000 + z);
			round_trip(suites[s], tx, rx, sizes[z], 16, 2000 + z);
		}
		aead_ctx_destroy(tx);
		aead_ctx_destroy(rx);
	}
}

/* The relay decrypts and re-encrypts inside the mbuf: in == out both ways. */
Test(aead, in_place_matches_out_of_place)
{
	for (size_t s = 0; s < ARRAY_SIZE(suites); s++) {
		struct aead_ctx *tx = mk(suites[s], key_a, true);
		struct aead_ctx *rx = mk(suites[s], key_a, false);

		for (size_t z = 0; z < ARRAY_SIZE(sizes); z++) {
			size_t len = sizes[z];
			uint8_t *pt = malloc(len + 1), *ref = malloc(len + 16);
			uint8_t *buf = malloc(len + 16);

			fill(pt, len, 7 + (uint32_t)len);
			cr_assert_eq(aead_seal(tx, 42, hdr, 16, pt, len, ref), 0);
			memcpy(buf, pt, len);
			cr_assert_eq(aead_seal(tx, 42, hdr, 16, buf, len, buf), 0);
			cr_assert(!memcmp(buf, ref, len + 16), "suite %d len %zu", suites[s], len);
			cr_assert(aead_open(rx, 42, hdr, 16, buf, len + 16, buf));
			cr_assert(!len || !memcmp(buf, pt, len), "suite %d len %zu", suites[s],
				  len);
			free(pt);
			free(ref);
			free(buf);
		}
		aead_ctx_destroy(tx);
		aead_ctx_destroy(rx);
	}
}

/* aead output equals an independent one-shot EVP computation with the Noise nonce. */
static void check_against_one_shot(enum suite_id suite, struct aead_ctx *tx, uint64_t counter,
				   size_t adlen, size_t len)
{
	uint8_t ad[37], pt[1400], got[1416], want[1416], nonce[12];

	cr_assert_leq(adlen, sizeof(ad));
	cr_assert_leq(len, sizeof(pt));
	fill(ad, sizeof(ad), 3);
	fill(pt, sizeof(pt), 4);
	ref_nonce(suite, counter, nonce);
	ref_seal(evp_of(suite), key_a, nonce, ad, adlen, pt, len, want);
	cr_assert_eq(aead_seal(tx, counter, ad, adlen, pt, len, got), 0);
	cr_assert(!memcmp(got, want, len + 16), "suite %d counter %llx adlen %zu len %zu",
		  suite, (unsigned long long)counter, adlen, len);
}

Test(aead, matches_one_shot_evp_with_noise_nonce)
{
	static const uint64_t counters[] = {
		0, 1, 255, 256, 0x0102030405060708ULL, REPLAY_REJECT_AFTER_MESSAGES - 1,
		UINT64_MAX - 1,
	};
	static const size_t adlens[] = { 0, 1, 16, 37 };

	for (size_t s = 0; s < ARRAY_SIZE(suites); s++) {
		struct aead_ctx *tx = mk(suites[s], key_a, true);

		for (size_t c = 0; c < ARRAY_SIZE(counters); c++)
			for (size_t a = 0; a < ARRAY_SIZE(adlens); a++)
				check_against_one_shot(suites[s], tx, counters[c], adlens[a],
						       (c * 331 + a * 97) % 1400);
		aead_ctx_destroy(tx);
	}
}

/* Noise §12 byte order, spelled out: counter 0x0102030405060708. */
Test(aead, nonce_byte_order_per_suite)
{
	static const struct {
		enum suite_id suite;
		uint8_t nonce[12];
	} cases[] = {
		{ SUITE_CHACHAPOLY_BLAKE2S, { 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1 } },
		{ SUITE_AESGCM_SHA256, { 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 } },
	};
	uint8_t pt[64], got[80], want[80], other[80];

	fill(pt, sizeof(pt), 5);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct aead_ctx *tx = mk(cases[i].suite, key_a, true);
		uint8_t swapped[12] = { 0 };

		for (int b = 0; b < 8; b++)
			swapped[4 + b] = cases[i].nonce[11 - b];
		ref_seal(evp_of(cases[i].suite), key_a, cases[i].nonce, hdr, 16, pt, 64, want);
		ref_seal(evp_of(cases[i].suite), key_a, swapped, hdr, 16, pt, 64, other);
		cr_assert_eq(aead_seal(tx, 0x0102030405060708ULL, hdr, 16, pt, 64, got), 0);
		cr_assert(!memcmp(got, want, sizeof(got)), "suite %d", cases[i].suite);
		cr_assert(memcmp(got, other, sizeof(got)), "suite %d: wrong endianness passes",
			  cases[i].suite);
		aead_ctx_destroy(tx);
	}
}

static const char rfc8439_pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
				 "only one tip for the future, sunscreen would be it.";

/*
 * RFC 8439 §2.8.2. Its nonce 07 00 00 00 || 40..47 has a non-zero constant,
 * so it cannot come out of a Noise counter. Shown here: raw EVP reproduces the
 * RFC; aead with counter 0x4746454443424140 equals raw EVP with the RFC nonce's
 * first four bytes zeroed, i.e. the two layouts differ only in that prefix.
 */
Test(aead, rfc8439_2_8_2_and_noise_layout)
{
	uint8_t key[32], nonce[12], ad[12], want[114 + 16], got[114 + 16], raw[114 + 16];
	uint8_t back[114];
	struct aead_ctx *tx, *rx;

	unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key, 32);
	unhex("070000004041424344454647", nonce, 12);
	unhex("50515253c0c1c2c3c4c5c6c7", ad, 12);
	cr_assert_eq(unhex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
			   "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
			   "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
			   "3ff4def08e4b7a9de576d26586cec64b6116"
			   "1ae10b594f09e26a7e902ecbd0600691", want, sizeof(want)),
		     sizeof(want));
	cr_assert_eq(strlen(rfc8439_pt), 114);

	ref_seal(EVP_chacha20_poly1305(), key, nonce, ad, 12, (const uint8_t *)rfc8439_pt, 114,
		 raw);
	cr_assert(!memcmp(raw, want, sizeof(want)), "raw EVP does not reproduce RFC 8439");

	tx = mk(SUITE_CHACHAPOLY_BLAKE2S, key, true);
	rx = mk(SUITE_CHACHAPOLY_BLAKE2S, key, false);
	cr_assert_eq(aead_seal(tx, 0x4746454443424140ULL, ad, 12, (const uint8_t *)rfc8439_pt,
			       114, got), 0);
	memset(nonce, 0, 4);
	ref_seal(EVP_chacha20_poly1305(), key, nonce, ad, 12, (const uint8_t *)rfc8439_pt, 114,
		 raw);
	cr_assert(!memcmp(got, raw, sizeof(got)), "Noise nonce is not 0^32 || LE64(counter)");
	cr_assert(memcmp(got, want, sizeof(got)), "the 07 prefix should change the output");
	/* The RFC's ciphertext is not a valid Noise packet for any counter nearby. */
	cr_assert_not(aead_open(rx, 0x4746454443424140ULL, ad, 12, want, sizeof(want), back));
	aead_ctx_destroy(tx);
	aead_ctx_destroy(rx);
}

/*
 * RFC 8439 A.5: its nonce 00 00 00 00 01..08 is exactly the Noise layout for
 * counter 0x0807060504030201, so this known answer goes through aead itself.
 */
Test(aead, rfc8439_a5_through_aead_open)
{
	uint8_t key[32], ad[12], ct[265 + 16], pt[265], got[265], resealed[265 + 16];
	const uint64_t counter = 0x0807060504030201ULL;
	struct aead_ctx *tx, *rx;

	unhex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", key, 32);
	unhex("f33388860000000000004e91", ad, 12);
	cr_assert_eq(unhex("64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
			   "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
			   "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
			   "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
			   "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
			   "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
			   "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
			   "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
			   "a6ad5cb4022b02709b"
			   "eead9d67890cbb22392336fea1851f38", ct, sizeof(ct)), sizeof(ct));
	cr_assert_eq(unhex("496e7465726e65742d4472616674732061726520647261667420646f63756d65"
			   "6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
			   "6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
			   "65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
			   "6e747320617420616e792074696d652e20497420697320696e617070726f7072"
			   "6961746520746f2075736520496e7465726e65742d4472616674732061732072"
			   "65666572656e6365206d6174657269616c206f7220746f206369746520746865"
			   "6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
			   "726573732e2fe2809d", pt, sizeof(pt)), sizeof(pt));

	rx = mk(SUITE_CHACHAPOLY_BLAKE2S, key, false);
	tx = mk(SUITE_CHACHAPOLY_BLAKE2S, key, true);
	cr_assert(aead_open(rx, counter, ad, 12, ct, sizeof(ct), got));
	cr_assert(!memcmp(got, pt, sizeof(pt)));
	cr_assert_eq(aead_seal(tx, counter, ad, 12, pt, sizeof(pt), resealed), 0);
	cr_assert(!memcmp(resealed, ct, sizeof(ct)));
	aead_ctx_destroy(tx);
	aead_ctx_destroy(rx);
}

/*
 * AES-256-GCM known answers from the GCM specification (McGrew & Viega, test
 * cases 13 and 14): zero key, zero 96-bit IV, which is the Noise nonce of
 * counter 0. Both are equally big- and little-endian, so counter 1 is checked
 * against the one-shot reference as well.
 */
Test(aead, aes256gcm_known_answers_counter_zero)
{
	static const uint8_t zkey[32];
	uint8_t zero16[16] = { 0 }, got[32], want[32], nonce[12];
	struct aead_ctx *tx = mk(SUITE_AESGCM_SHA256, zkey, true);
	struct aead_ctx *rx = mk(SUITE_AESGCM_SHA256, zkey, false);

	cr_assert_eq(aead_seal(tx, 0, NULL, 0, NULL, 0, got), 0);
	unhex("530f8afbc74536b9a963b4f1c4cb738b", want, 16);
	cr_assert(!memcmp(got, want, 16), "GCM test case 13");
	cr_assert(aead_open(rx, 0, NULL, 0, got, 16, NULL));

	cr_assert_eq(aead_seal(tx, 0, NULL, 0, zero16, 16, got), 0);
	unhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919", want, 32);
	cr_assert(!memcmp(got, want, 32), "GCM test case 14");

	cr_assert_eq(aead_seal(tx, 1, NULL, 0, zero16, 16, got), 0);
	ref_nonce(SUITE_AESGCM_SHA256, 1, nonce);
	cr_assert_eq(nonce[11], 1);
	ref_seal(EVP_aes_256_gcm(), zkey, nonce, NULL, 0, zero16, 16, want);
	cr_assert(!memcmp(got, want, 32), "counter 1 must be 0^88 || 01");
	aead_ctx_destroy(tx);
	aead_ctx_destroy(rx);
}

enum tamper {
	T_COUNTER_PLUS_ONE,
	T_COUNTER_HIGH_BIT,
	T_AD_BIT,
	T_AD_SHORTER,
	T_AD_MISSING,
	T_CT_FIRST_BIT,
	T_CT_LAST_BIT,
	T_TAG_FIRST_BIT,
	T_TAG_LAST_BIT,
	T_TRUNCATED_ONE,
	T_TAG_ONLY,
	T_TOO_SHORT,
	T_EMPTY,
	T_EXTENDED,
	T_OTHER_KEY,
	T_OTHER_SUITE,
};

/* Every tampering makes open fail, leaves zeros, and the ctx still works after. */
Test(aead, tampered_packets_fail_and_leave_no_plaintext)
{
	static const struct {
		enum tamper t;
		const char *name;
	} cases[] = {
		{ T_COUNTER_PLUS_ONE, "counter + 1" },	{ T_COUNTER_HIGH_BIT, "counter ^ 2^63" },
		{ T_AD_BIT, "AD bit flipped" },		{ T_AD_SHORTER, "AD one byte short" },
		{ T_AD_MISSING, "AD missing" },		{ T_CT_FIRST_BIT, "ciphertext bit 0" },
		{ T_CT_LAST_BIT, "ciphertext last bit" }, { T_TAG_FIRST_BIT, "tag bit 0" },
		{ T_TAG_LAST_BIT, "tag last bit" },	{ T_TRUNCATED_ONE, "truncated by 1" },
		{ T_TAG_ONLY, "tag only" },		{ T_TOO_SHORT, "15 bytes" },
		{ T_EMPTY, "0 bytes" },			{ T_EXTENDED, "one byte appended" },
		{ T_OTHER_KEY, "other key" },		{ T_OTHER_SUITE, "other suite" },
	};
	static const uint8_t key_b[32] = { 1 };
	enum { LEN = 1400 };

	for (size_t s = 0; s < ARRAY_SIZE(suites); s++) {
		struct aead_ctx *tx = mk(suites[s], key_a, true);
		struct aead_ctx *rx = mk(suites[s], key_a, false);
		struct aead_ctx *rx_b = mk(suites[s], key_b, false);
		struct aead_ctx *rx_o = mk(suites[1 - s], key_a, false);
		uint8_t pt[LEN], pkt[LEN + 17], ad[16], out[LEN + 2];

		fill(pt, LEN, 9);
		cr_assert_eq(aead_seal(tx, 77, hdr, 16, pt, LEN, pkt), 0);
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			struct aead_ctx *ctx = rx;
			uint8_t buf[LEN + 17];
			uint64_t ctr = 77;
			size_t len = LEN + 16, adlen = 16;
			const uint8_t *adp = ad;
			bool in_place = i % 2;

			memcpy(buf, pkt, sizeof(buf));
			memcpy(ad, hdr, 16);
			switch (cases[i].t) {
			case T_COUNTER_PLUS_ONE: ctr++; break;
			case T_COUNTER_HIGH_BIT: ctr ^= 1ULL << 63; break;
			case T_AD_BIT: ad[15] ^= 0x80; break;
			case T_AD_SHORTER: adlen = 15; break;
			case T_AD_MISSING: adp = NULL; adlen = 0; break;
			case T_CT_FIRST_BIT: buf[0] ^= 1; break;
			case T_CT_LAST_BIT: buf[LEN - 1] ^= 0x80; break;
			case T_TAG_FIRST_BIT: buf[LEN] ^= 1; break;
			case T_TAG_LAST_BIT: buf[LEN + 15] ^= 0x80; break;
			case T_TRUNCATED_ONE: len--; break;
			case T_TAG_ONLY: len = 16; break;
			case T_TOO_SHORT: len = 15; break;
			case T_EMPTY: len = 0; break;
			case T_EXTENDED: buf[LEN + 16] = 0; len++; break;
			case T_OTHER_KEY: ctx = rx_b; break;
			case T_OTHER_SUITE: ctx = rx_o; break;
			}
			memset(out, 0xa5, sizeof(out));
			if (in_place) {
				cr_assert_not(aead_open(ctx, ctr, adp, adlen, buf, len, buf),
					      "suite %d: %s (in place)", suites[s], cases[i].name);
				if (len >= 16)
					cr_assert(all_zero(buf, len - 16), "suite %d: %s left data",
						  suites[s], cases[i].name);
			} else {
				cr_assert_not(aead_open(ctx, ctr, adp, adlen, buf, len, out),
					      "suite %d: %s", suites[s], cases[i].name);
				if (len >= 16)
					cr_assert(all_zero(out, len - 16), "suite %d: %s left data",
						  suites[s], cases[i].name);
				/* Short input: nothing written at all. */
				cr_assert_eq(out[len >= 16 ? len - 16 : 0], 0xa5,
					     "suite %d: %s wrote past the plaintext", suites[s],
					     cases[i].name);
			}
			/* Forged packets must stay cheap: nothing pushed on the error queue. */
			cr_assert_eq(ERR_peek_error(), 0, "suite %d: %s raised an OpenSSL error",
				     suites[s], cases[i].name);
			/* A failure must not poison the context for the next good packet. */
			cr_assert(aead_open(rx, 77, hdr, 16, pkt, LEN + 16, out));
			cr_assert(!memcmp(out, pt, LEN));
		}
		aead_ctx_destroy(tx);
		aead_ctx_destroy(rx);
		aead_ctx_destroy(rx_b);
		aead_ctx_destroy(rx_o);
	}
}

/* Flipping any single bit of a small packet or its AD is caught. */
Test(aead, every_single_bit_flip_fails)
{
	enum { LEN = 24 };

	for (size_t s = 0; s < ARRAY_SIZE(suites); s++) {
		struct aead_ctx *tx = mk(suites[s], key_a, true);
		struct aead_ctx *rx = mk(suites[s], key_a, false);
		uint8_t pt[LEN], pkt[LEN + 16], buf[LEN + 16], ad[16], out[LEN];

		fill(pt, LEN, 11);
		cr_assert_eq(aead_seal(tx, 5, hdr, 16, pt, LEN, pkt), 0);
		for (size_t bit = 0; bit < 8 * (LEN + 16 + 16); bit++) {
			memcpy(buf, pkt, sizeof(buf));
			memcpy(ad, hdr, sizeof(ad));
			if (bit < 8 * sizeof(buf))
				buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			else
				ad[bit / 8 - sizeof(buf)] ^= (uint8_t)(1u << (bit % 8));
			cr_assert_not(aead_open(rx, 5, ad, 16, buf, sizeof(buf), out),
				      "suite %d bit %zu", suites[s], bit);
		}
		aead_ctx_destroy(tx);
		aead_ctx_destroy(rx);
	}
}

/* One ctx pair, many packets: every counter gets its own keystream. */
Test(aead, many_packets_on_one_context)
{
	enum { N = 20000, MAXLEN = 1500 };

	for (size_t s = 0; s < ARRAY_SIZE(suites); s++) {
		struct aead_ctx *tx = mk(suites[s], key_a, true);
		struct aead_ctx *rx = mk(suites[s], key_a, false);
		uint8_t pt[MAXLEN], buf[MAXLEN + 16], prev[16] = { 0 };

		fill(pt, MAXLEN, 13);
		for (uint64_t c = 0; c < N; c++) {
			size_t len = 16 + (c * 7919) % (MAXLEN - 16);

			memcpy(buf, pt, len);
			cr_assert_eq(aead_seal(tx, c, hdr, 16, buf, len, buf), 0);
			/* Same first 16 plaintext bytes each time: ciphertext must differ. */
			cr_assert(memcmp(buf, prev, 16), "suite %d counter %llu repeats keystream",
				  suites[s], (unsigned long long)c);
			memcpy(prev, buf, 16);
			cr_assert(aead_open(rx, c, hdr, 16, buf, len + 16, buf),
				  "suite %d counter %llu", suites[s], (unsigned long long)c);
			cr_assert(!memcmp(buf, pt, len));
		}
		aead_ctx_destroy(tx);
		aead_ctx_destroy(rx);
	}
}

Test(aead, misuse_is_refused)
{
	uint8_t buf[64 + 16] = { 0 }, out[64];
	struct aead_ctx *ctx = NULL;

	cr_assert_eq(aead_ctx_create(&ctx, 0, key_a, true), -EINVAL);
	cr_assert_eq(aead_ctx_create(&ctx, 3, key_a, true), -EINVAL);
	cr_assert_eq(aead_ctx_create(&ctx, SUITE_AESGCM_SHA256, NULL, true), -EINVAL);
	cr_assert_eq(aead_ctx_create(NULL, SUITE_AESGCM_SHA256, key_a, true), -EINVAL);
	cr_assert_null(ctx);
	aead_ctx_destroy(NULL);

	for (size_t s = 0; s < ARRAY_SIZE(suites); s++) {
		struct aead_ctx *tx = mk(suites[s], key_a, true);
		struct aead_ctx *rx = mk(suites[s], key_a, false);

		/* Direction is fixed at creation. */
		cr_assert_eq(aead_seal(rx, 1, hdr, 16, buf, 64, buf), -EINVAL);
		cr_assert_eq(aead_seal(tx, 1, hdr, 16, buf, 64, buf), 0);
		cr_assert_not(aead_open(tx, 1, hdr, 16, buf, 80, out));
		/* Noise reserves nonce 2^64 - 1. */
		cr_assert_eq(aead_seal(tx, UINT64_MAX, hdr, 16, buf, 64, buf), -EINVAL);
		cr_assert_eq(aead_seal(tx, 2, hdr, 16, buf, 64, buf), 0);
		cr_assert_not(aead_open(rx, UINT64_MAX, hdr, 16, buf, 80, out));
		cr_assert(aead_open(rx, 2, hdr, 16, buf, 80, out));
		cr_assert_eq(aead_seal(tx, 3, hdr, 16, buf, (size_t)AEAD_MAX_LEN + 1, buf),
			     -EINVAL);
		aead_ctx_destroy(tx);
		aead_ctx_destroy(rx);
	}
}
