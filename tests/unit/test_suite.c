/*
 * test_suite.c — known answers for the Noise suite primitives (crypto/suite.c).
 *
 * Sources: RFC 4231 (HMAC-SHA-256), RFC 7693 App. A/B (BLAKE2s), FIPS 180-2
 * (SHA-256 "abc"), RFC 5869 §A.3 (HKDF-SHA-256 with empty salt, which is
 * Noise HKDF with an all-zero ck), RFC 7748 §5.2/§6.1 (X25519), RFC 8439
 * App. A.5 (ChaCha20-Poly1305), the GCM spec test cases 13/14 (AES-256-GCM).
 * Values marked "python" were computed with Python's hmac/hashlib and
 * pyca/cryptography, for cases no RFC covers (HMAC-BLAKE2s, Noise HKDF with
 * 3 outputs, AES-GCM at a non-zero big-endian counter).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto/suite.h"

#define CHACHA SUITE_CHACHAPOLY_BLAKE2S
#define AES SUITE_AESGCM_SHA256

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	cr_assert(strlen(hex) % 2 == 0 && n <= cap, "bad test hex: %s", hex);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		cr_assert(sscanf(hex + 2 * i, "%2x", &v) == 1, "bad test hex: %s", hex);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want, const char *what)
{
	uint8_t buf[512];
	size_t n = unhex(want, buf, sizeof(buf));

	cr_assert_eq(n, len, "%s: length %zu, want %zu", what, len, n);
	cr_assert(memcmp(got, buf, n) == 0, "%s: bytes differ", what);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

Test(suite, names_and_validity)
{
	cr_assert(suite_is_valid(CHACHA));
	cr_assert(suite_is_valid(AES));
	cr_assert_not(suite_is_valid(0));
	cr_assert_not(suite_is_valid(3));
	cr_assert_str_eq(suite_name(CHACHA), "25519_ChaChaPoly_BLAKE2s");
	cr_assert_str_eq(suite_name(AES), "25519_AESGCM_SHA256");
	cr_assert_str_eq(suite_name((enum suite_id)7), "?");
}

Test(suite, unknown_suite_is_refused)
{
	uint8_t key[32] = { 0 }, out[64] = { 0 };

	cr_assert_eq(suite_hash2((enum suite_id)9, key, 1, NULL, 0, out), -EINVAL);
	cr_assert_eq(suite_hmac((enum suite_id)9, key, 32, key, 1, out), -EINVAL);
	cr_assert_eq(suite_hkdf((enum suite_id)9, key, key, 1, 2, out, out + 32, NULL), -EINVAL);
	cr_assert_eq(suite_seal((enum suite_id)9, key, 0, NULL, 0, key, 1, out), -EINVAL);
	cr_assert_not(suite_open((enum suite_id)9, key, 0, NULL, 0, out, 17, out));
}

/* Noise rev 34 §12.3 (ChaChaPoly, little-endian) and §12.4 (AESGCM, big-endian). */
Test(suite, nonce_encoding)
{
	static const struct {
		enum suite_id id;
		uint64_t counter;
		const char *nonce;
	} cases[] = {
		{ CHACHA, 0, "000000000000000000000000" },
		{ CHACHA, 1, "000000000100000000000000" },
		{ CHACHA, 0x0102030405060708, "000000000807060504030201" },
		{ CHACHA, UINT64_MAX, "00000000ffffffffffffffff" },
		{ AES, 0, "000000000000000000000000" },
		{ AES, 1, "000000000000000000000001" },
		{ AES, 0x0102030405060708, "000000000102030405060708" },
		{ AES, UINT64_MAX, "00000000ffffffffffffffff" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t nonce[SUITE_NONCE_LEN];

		memset(nonce, 0xa5, sizeof(nonce));	/* the zero prefix must be written */
		suite_nonce(cases[i].id, cases[i].counter, nonce);
		assert_hex(nonce, sizeof(nonce), cases[i].nonce, "nonce");
	}
}

#define BLAKE2S_ABC "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"
#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

Test(suite, hash_known_answers)
{
	static const struct {
		enum suite_id id;
		const char *a, *b;
		const char *digest;
	} cases[] = {
		/* RFC 7693 App. B and the BLAKE2 reference's empty-input value. */
		{ CHACHA, "abc", "", BLAKE2S_ABC },
		{ CHACHA, "a", "bc", BLAKE2S_ABC },
		{ CHACHA, "", "",
		  "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9" },
		/* FIPS 180-2 App. B.1, and SHA-256 of the empty string. */
		{ AES, "abc", "", SHA256_ABC },
		{ AES, "ab", "c", SHA256_ABC },
		{ AES, "", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[SUITE_HASH_LEN];

		cr_assert_eq(suite_hash2(cases[i].id, (const uint8_t *)cases[i].a,
					 strlen(cases[i].a), (const uint8_t *)cases[i].b,
					 strlen(cases[i].b), out), 0);
		assert_hex(out, sizeof(out), cases[i].digest, "hash");
	}
}

/* MixHash writes h over its own input: h = HASH(h || data). */
Test(suite, hash_output_may_alias_input)
{
	uint8_t h[SUITE_HASH_LEN] = "abc";

	cr_assert_eq(suite_hash2(AES, h, 3, NULL, 0, h), 0);
	assert_hex(h, sizeof(h), SHA256_ABC, "aliased hash");
}

Test(suite, hmac_known_answers)
{
	static const struct {
		enum suite_id id;
		const char *key_hex, *data, *mac;
	} cases[] = {
		/* RFC 4231 §4.2 test case 1 */
		{ AES, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		/* RFC 4231 §4.3 test case 2 (key "Jefe") */
		{ AES, "4a656665", "what do ya want for nothing?",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		/* RFC 4231 §4.7 test case 6: key longer than the block, hashed first */
		{ AES,
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 131 bytes */
		  "Test Using Larger Than Block-Size Key - Hash Key First",
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
		/* python: hmac.new(b"key", b"abc", hashlib.blake2s) */
		{ CHACHA, "6b6579", "abc",
		  "0018bfddc0c878b3e270c6e59b35af01e164a42d89499c9447a90b58a4d60eb3" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t key[160], out[SUITE_HASH_LEN];
		size_t keylen = unhex(cases[i].key_hex, key, sizeof(key));

		cr_assert_eq(suite_hmac(cases[i].id, key, keylen, (const uint8_t *)cases[i].data,
					strlen(cases[i].data), out), 0);
		assert_hex(out, sizeof(out), cases[i].mac, "hmac");
	}
}

Test(suite, hkdf_known_answers)
{
	static const struct {
		enum suite_id id;
		const char *ck, *ikm;
		const char *out[3];
	} cases[] = {
		/*
		 * RFC 5869 §A.3 (empty salt = 32 zero bytes as an HMAC key, empty
		 * info): OKM = T(1) || T(2), and T(i) are exactly Noise's outputs.
		 * Only the first 42 bytes are published; out2 is checked below.
		 */
		{ AES, "0000000000000000000000000000000000000000000000000000000000000000",
		  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		  { "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d",
		    "9d201395faa4b61a96c8b2fb61057244b36c6ddd287f634795e7d80d5fe26bfc", NULL } },
		/* python, ck = 00..1f, ikm = "postern" */
		{ AES, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		  "706f737465726e",
		  { "fbc75b83f26d4d61e810cc65960422825087132695b459b3114463adeb8313b1",
		    "3229ca8de9790403954f0dfa4b23e37c0a78004855dd6a7c5a70b25212e478ff",
		    "fd702d1fb4aee12972de254808aae9bbfc9f9fac1e4ba4a63838f0d9c221e456" } },
		{ CHACHA, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		  "706f737465726e",
		  { "bd39a443a0a7c18c442c747b30bb081aa4795e1a86b78d13f1608b7a25ba3a79",
		    "4769ad8a5575ea3fd56b1edd071639a25dfcecadb6f6609979d2a20da6af7831",
		    "ee2ccff8de41897a10278416321691318fc6e21c19e3be759976107b0f01421e" } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t ck[SUITE_HASH_LEN], ikm[64], o[3][SUITE_HASH_LEN];
		size_t ikmlen = unhex(cases[i].ikm, ikm, sizeof(ikm));
		unsigned n = cases[i].out[2] ? 3 : 2;

		unhex(cases[i].ck, ck, sizeof(ck));
		cr_assert_eq(suite_hkdf(cases[i].id, ck, ikm, ikmlen, n, o[0], o[1],
					n == 3 ? o[2] : NULL), 0);
		for (unsigned j = 0; j < n; j++)
			assert_hex(o[j], SUITE_HASH_LEN, cases[i].out[j], "hkdf output");

		/* Fewer outputs are a prefix of more, and out1 may overwrite ck (MixKey). */
		cr_assert_eq(suite_hkdf(cases[i].id, ck, ikm, ikmlen, 1, ck, NULL, NULL), 0);
		assert_hex(ck, SUITE_HASH_LEN, cases[i].out[0], "hkdf n=1 into ck");
	}
}

Test(suite, hkdf_rejects_bad_output_count)
{
	uint8_t ck[SUITE_HASH_LEN] = { 0 }, a[32], b[32], c[32];

	cr_assert_eq(suite_hkdf(CHACHA, ck, NULL, 0, 0, a, b, c), -EINVAL);
	cr_assert_eq(suite_hkdf(CHACHA, ck, NULL, 0, 4, a, b, c), -EINVAL);
	cr_assert_eq(suite_hkdf(CHACHA, ck, NULL, 0, 2, a, NULL, NULL), -EINVAL);
	cr_assert_eq(suite_hkdf(CHACHA, ck, NULL, 0, 3, a, b, NULL), -EINVAL);
}

Test(suite, x25519_rfc7748)
{
	uint8_t a[32], b[32], pub[32], out[32];

	/* §5.2, first vector: scalar, u-coordinate, output u. */
	unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", a, 32);
	unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", b, 32);
	cr_assert_eq(suite_dh(a, b, out), 0);
	assert_hex(out, 32, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
		   "rfc7748 5.2");

	/* §6.1: both public keys and the shared secret from either side. */
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
	cr_assert_eq(suite_dh_public(a, pub), 0);
	assert_hex(pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		   "alice public");
	cr_assert_eq(suite_dh(b, pub, out), 0);
	assert_hex(out, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
		   "bob's shared");
	cr_assert_eq(suite_dh_public(b, pub), 0);
	assert_hex(pub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
		   "bob public");
	cr_assert_eq(suite_dh(a, pub, out), 0);
	assert_hex(out, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
		   "alice's shared");

	/* The same with Alice's public key handed over instead of recomputed. */
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", b, 32);
	memset(out, 0, sizeof(out));
	cr_assert_eq(suite_dh_keypair(a, b, pub, out), 0);
	assert_hex(out, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
		   "alice's shared, keypair");
}

/* RFC 7748 §6.1 / §7: small-order u give the all-zero secret, which must be refused. */
Test(suite, x25519_refuses_low_order_points)
{
	static const char *const points[] = {
		"0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
		"0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p */
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 */
		"0000000000000000000000000000000000000000000000000000000000000080", /* 0, bit 255 */
	};
	uint8_t priv[32], own[32], pub[32], out[32];

	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", priv, 32);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", own, 32);
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		unhex(points[i], pub, 32);
		memset(out, 0xaa, sizeof(out));
		cr_assert_eq(suite_dh(priv, pub, out), -EINVAL, "point %zu accepted", i);
		cr_assert(all_zero(out, sizeof(out)), "point %zu: output not wiped", i);
		memset(out, 0xaa, sizeof(out));
		cr_assert_eq(suite_dh_keypair(priv, own, pub, out), -EINVAL, "point %zu", i);
		cr_assert(all_zero(out, sizeof(out)), "point %zu: output not wiped", i);
	}
}

Test(suite, aead_known_answers)
{
	static const struct {
		const char *what;
		enum suite_id id;
		uint64_t counter;
		const char *key, *ad, *pt, *ct;	/* ct includes the tag */
	} cases[] = {
		/* RFC 8439 A.5: nonce 00000000 0102030405060708 = LE counter 0x0807060504030201 */
		{ "rfc8439 A.5", CHACHA, 0x0807060504030201,
		  "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
		  "f33388860000000000004e91",
		  "496e7465726e65742d4472616674732061726520647261667420646f63756d65"
		  "6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
		  "6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
		  "65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
		  "6e747320617420616e792074696d652e20497420697320696e617070726f7072"
		  "6961746520746f2075736520496e7465726e65742d4472616674732061732072"
		  "65666572656e6365206d6174657269616c206f7220746f206369746520746865"
		  "6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
		  "726573732e2fe2809d",
		  "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
		  "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
		  "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
		  "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
		  "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
		  "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
		  "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
		  "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
		  "a6ad5cb4022b02709beead9d67890cbb22392336fea1851f38" },
		/* GCM spec test case 13 and 14: AES-256, zero key, zero IV (counter 0) */
		{ "gcm tc13", AES, 0,
		  "0000000000000000000000000000000000000000000000000000000000000000", "", "",
		  "530f8afbc74536b9a963b4f1c4cb738b" },
		{ "gcm tc14", AES, 0,
		  "0000000000000000000000000000000000000000000000000000000000000000", "",
		  "00000000000000000000000000000000",
		  "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919" },
		/* python: AESGCM(00..1f).encrypt(00000000 0102030405060708, ...) — BE counter */
		{ "gcm big-endian counter", AES, 0x0102030405060708,
		  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "6164",
		  "4e6f697365206e6f6e63652074657374",
		  "4a3e0c7db8c167f16dfc98cf6a024a84c016511475fcd5f3613f74dd1f64c4f0" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t key[32], ad[32], pt[300], ct[320], out[320];
		size_t adlen = unhex(cases[i].ad, ad, sizeof(ad));
		size_t ptlen = unhex(cases[i].pt, pt, sizeof(pt));

		unhex(cases[i].key, key, sizeof(key));
		cr_assert_eq(suite_seal(cases[i].id, key, cases[i].counter, ad, adlen, pt, ptlen,
					ct), 0, "%s", cases[i].what);
		assert_hex(ct, ptlen + SUITE_TAG_LEN, cases[i].ct, cases[i].what);
		cr_assert(suite_open(cases[i].id, key, cases[i].counter, ad, adlen, ct,
				     ptlen + SUITE_TAG_LEN, out), "%s", cases[i].what);
		cr_assert(memcmp(out, pt, ptlen) == 0, "%s: plaintext", cases[i].what);
	}
}

Test(suite, aead_round_trip_in_place)
{
	static const enum suite_id ids[] = { CHACHA, AES };
	static const size_t lens[] = { 0, 1, 15, 16, 64, 1420 };
	uint8_t key[SUITE_KEY_LEN], buf[1500], ref[1500];
	static const uint8_t ad[] = "handshake hash";

	for (size_t k = 0; k < sizeof(key); k++)
		key[k] = (uint8_t)(k * 7 + 1);
	for (size_t s = 0; s < 2; s++) {
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			size_t len = lens[l];

			for (size_t b = 0; b < len; b++)
				ref[b] = buf[b] = (uint8_t)(b ^ l);
			cr_assert_eq(suite_seal(ids[s], key, 42, ad, sizeof(ad), buf, len, buf), 0);
			cr_assert(len == 0 || memcmp(buf, ref, len) != 0, "len %zu: not encrypted",
				  len);
			cr_assert(suite_open(ids[s], key, 42, ad, sizeof(ad), buf,
					     len + SUITE_TAG_LEN, buf), "suite %d len %zu", ids[s],
				  len);
			cr_assert(memcmp(buf, ref, len) == 0, "suite %d len %zu", ids[s], len);
		}
	}
}

Test(suite, aead_rejects_tampering)
{
	enum { LEN = 40 };
	static const enum suite_id ids[] = { CHACHA, AES };
	static const struct {
		const char *what;
		size_t flip_ct;		/* byte of ct+tag to flip, or SIZE_MAX */
		bool flip_ad, flip_key;
		uint64_t counter;
		size_t len;		/* bytes handed to open */
	} cases[] = {
		{ "intact", SIZE_MAX, false, false, 7, LEN + SUITE_TAG_LEN },
		{ "ciphertext bit", 3, false, false, 7, LEN + SUITE_TAG_LEN },
		{ "tag bit", LEN + 5, false, false, 7, LEN + SUITE_TAG_LEN },
		{ "ad bit", SIZE_MAX, true, false, 7, LEN + SUITE_TAG_LEN },
		{ "key bit", SIZE_MAX, false, true, 7, LEN + SUITE_TAG_LEN },
		{ "other counter", SIZE_MAX, false, false, 8, LEN + SUITE_TAG_LEN },
		{ "truncated", SIZE_MAX, false, false, 7, LEN + SUITE_TAG_LEN - 1 },
		{ "shorter than a tag", SIZE_MAX, false, false, 7, SUITE_TAG_LEN - 1 },
	};

	for (size_t s = 0; s < 2; s++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint8_t key[SUITE_KEY_LEN] = { 1, 2, 3 }, ad[8] = "adadadad";
			uint8_t pt[LEN], ct[LEN + SUITE_TAG_LEN], out[LEN + SUITE_TAG_LEN];
			bool intact = i == 0;

			memset(pt, 0x5c, sizeof(pt));
			cr_assert_eq(suite_seal(ids[s], key, 7, ad, sizeof(ad), pt, LEN, ct), 0);
			if (cases[i].flip_ct != SIZE_MAX)
				ct[cases[i].flip_ct] ^= 0x01;
			if (cases[i].flip_ad)
				ad[0] ^= 0x80;
			if (cases[i].flip_key)
				key[31] ^= 0x01;
			memset(out, 0xee, sizeof(out));
			cr_assert_eq(suite_open(ids[s], key, cases[i].counter, ad, sizeof(ad), ct,
						cases[i].len, out), intact,
				     "suite %d: %s", ids[s], cases[i].what);
			if (intact)
				cr_assert(memcmp(out, pt, LEN) == 0);
			else if (cases[i].len >= SUITE_TAG_LEN)
				cr_assert(all_zero(out, cases[i].len - SUITE_TAG_LEN),
					  "suite %d: %s: unverified plaintext left", ids[s],
					  cases[i].what);
		}
	}
}
