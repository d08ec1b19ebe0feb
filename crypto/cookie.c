/*
 * cookie.c — mac1, mac2 and COOKIE_REPLY (docs/protocol.md §5).
 *
 *   mac1     = MAC(HASH("mac1----" || S_receiver_pub), packet before mac1)
 *   mac2     = MAC(cookie, packet before mac2), or 16 zero bytes
 *   cookie   = MAC(R, source address || source port big-endian)
 *   k_cookie = HASH("cookie--" || S_relay_pub)
 *   k_reply  = HMAC(k_cookie, nonce)
 *   reply    = AEAD(k_reply, counter 0, ad = mac1, cookie)
 *
 * MAC is keyed BLAKE2s with a 16-byte output in suite 1, HMAC-SHA-256 cut to
 * 16 bytes in suite 2; HASH, HMAC and AEAD are the suite's Noise functions.
 * MAC is not a Noise primitive, so suite.c does not offer it; this file
 * speaks EVP directly for all of them (it was written alongside suite.c).
 *
 * EVP objects are fetched once per process (pthread_once) and never freed: a
 * by-name fetch per packet would take the provider store's lock. Each call
 * duplicates a keyless MAC context, keys it and frees it (freeing cleanses).
 */
#include "crypto/cookie.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

enum {
	REPLY_TYPE = 3,		/* §2: COOKIE_REPLY */
	REPLY_VERSION = 1,
	REPLY_OFF_INDEX = 4,	/* §2.3 layout */
	REPLY_OFF_NONCE = 8,
	REPLY_OFF_BOX = REPLY_OFF_NONCE + COOKIE_NONCE_LEN,
	INIT_OFF_SENDER = 4,	/* §2.1: the sender index the reply must name */
	LABEL_LEN = 8,
};

#define NSEC_PER_SEC 1000000000ULL

static const char label_mac1[LABEL_LEN] = "mac1----";
static const char label_cookie[LABEL_LEN] = "cookie--";

static const struct {
	const char *digest;
	const char *cipher;
	const char *mac;	/* §5.1 MAC */
} algs[COOKIE_NSUITES] = {
	{ "BLAKE2S-256", "ChaCha20-Poly1305", "BLAKE2SMAC" },
	{ "SHA256", "AES-256-GCM", "HMAC" },
};

static struct {
	EVP_MD *md[COOKIE_NSUITES];
	EVP_CIPHER *cipher[COOKIE_NSUITES];
	EVP_MAC_CTX *mac[COOKIE_NSUITES];	/* §5.1 MAC, no key yet */
	EVP_MAC_CTX *hmac[COOKIE_NSUITES];	/* HMAC-HASH, no key yet */
	bool ok;
} evp;

static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

/* A keyless context of @name: BLAKE2SMAC set to 16-byte output, or HMAC over @digest. */
static EVP_MAC_CTX *mac_template(const char *name, const char *digest)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, name, NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t size = COOKIE_MAC_LEN;
	OSSL_PARAM params[2];

	if (strcmp(name, "HMAC") == 0)
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							     (char *)digest, 0);
	else
		params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx && !EVP_MAC_CTX_set_params(ctx, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	/* The context holds its own reference to the method. */
	EVP_MAC_free(mac);
	return ctx;
}

static void evp_fetch(void)
{
	for (int i = 0; i < COOKIE_NSUITES; i++) {
		evp.md[i] = EVP_MD_fetch(NULL, algs[i].digest, NULL);
		evp.cipher[i] = EVP_CIPHER_fetch(NULL, algs[i].cipher, NULL);
		evp.mac[i] = mac_template(algs[i].mac, algs[i].digest);
		evp.hmac[i] = mac_template("HMAC", algs[i].digest);
		if (!evp.md[i] || !evp.cipher[i] || !evp.mac[i] || !evp.hmac[i])
			return;
	}
	evp.ok = true;
}

/* @return the table index of @suite, -EINVAL if it is no suite, -EIO if EVP is unusable. */
static int suite_idx(enum suite_id suite)
{
	if (suite != SUITE_CHACHAPOLY_BLAKE2S && suite != SUITE_AESGCM_SHA256)
		return -EINVAL;
	pthread_once(&evp_once, evp_fetch);
	return evp.ok ? (int)suite - 1 : -EIO;
}

static int rand_default(uint8_t *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

/* The checker's random source, held to its contract: 0 or -errno. */
static int checker_rand(struct cookie_checker *checker, uint8_t *buf, size_t len)
{
	int ret = checker->rand ? checker->rand(buf, len) : -EIO;

	return ret > 0 ? -EIO : ret;
}

/* Keyed MAC from template @tmpl; writes the first @outlen bytes of its output. */
static int mac_run(EVP_MAC_CTX *tmpl, const uint8_t *key, size_t keylen,
		   const uint8_t *data, size_t len, uint8_t *out, size_t outlen)
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(tmpl);
	uint8_t full[SUITE_HASH_LEN];
	size_t olen = 0;
	int ret = -EIO;

	if (!ctx)
		return -EIO;
	if (EVP_MAC_init(ctx, key, keylen, NULL) && EVP_MAC_update(ctx, data, len) &&
	    EVP_MAC_final(ctx, full, &olen, sizeof(full)) && olen >= outlen) {
		/* §5.1: suite 2's HMAC-SHA-256 is truncated to its first 16 bytes. */
		memcpy(out, full, outlen);
		ret = 0;
	}
	/* A full output may be a cookie or a reply key. */
	OPENSSL_cleanse(full, sizeof(full));
	EVP_MAC_CTX_free(ctx);
	return ret;
}

static int mac16(int idx, const uint8_t *key, size_t keylen, const uint8_t *data, size_t len,
		 uint8_t out[COOKIE_MAC_LEN])
{
	return mac_run(evp.mac[idx], key, keylen, data, len, out, COOKIE_MAC_LEN);
}

/* HASH(label || pub): the mac1 and cookie-encryption keys (§5.1, §5.3). */
static int hash_label(int idx, const char label[LABEL_LEN], const uint8_t pub[SUITE_DH_LEN],
		      uint8_t out[SUITE_HASH_LEN])
{
	uint8_t in[LABEL_LEN + SUITE_DH_LEN];
	unsigned int olen = 0;

	memcpy(in, label, LABEL_LEN);
	memcpy(in + LABEL_LEN, pub, SUITE_DH_LEN);
	if (!EVP_Digest(in, sizeof(in), out, &olen, evp.md[idx], NULL) || olen != SUITE_HASH_LEN)
		return -EIO;
	return 0;
}

static int derive_keys(const uint8_t pub[SUITE_DH_LEN],
		       uint8_t mac1_key[COOKIE_NSUITES][SUITE_HASH_LEN],
		       uint8_t cookie_key[COOKIE_NSUITES][SUITE_HASH_LEN])
{
	for (int s = SUITE_CHACHAPOLY_BLAKE2S; s <= SUITE_AESGCM_SHA256; s++) {
		int idx = suite_idx(s);

		if (idx < 0)
			return idx;
		if (hash_label(idx, label_mac1, pub, mac1_key[idx]) ||
		    hash_label(idx, label_cookie, pub, cookie_key[idx]))
			return -EIO;
	}
	return 0;
}

/* k_reply = HMAC(k_cookie, nonce), §5.3: a fresh key per random 192-bit nonce. */
static int reply_key(int idx, const uint8_t cookie_key[SUITE_HASH_LEN],
		     const uint8_t nonce[COOKIE_NONCE_LEN], uint8_t out[SUITE_KEY_LEN])
{
	return mac_run(evp.hmac[idx], cookie_key, SUITE_HASH_LEN, nonce, COOKIE_NONCE_LEN,
		       out, SUITE_KEY_LEN);
}

/*
 * AEAD under k_reply with the counter-0 nonce: 12 zero bytes in both suites
 * (Noise rev 34 §12.3/§12.4 differ only in the byte order of the counter).
 * Counter 0 is safe because every key is used once.
 */
static const uint8_t zero_nonce[SUITE_NONCE_LEN];

static int reply_seal(int idx, const uint8_t key[SUITE_KEY_LEN], const uint8_t ad[COOKIE_MAC_LEN],
		      const uint8_t cookie[COOKIE_LEN], uint8_t out[COOKIE_LEN + SUITE_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ret = -EIO;

	if (!ctx)
		return -EIO;
	if (EVP_EncryptInit_ex2(ctx, evp.cipher[idx], key, zero_nonce, NULL) &&
	    EVP_EncryptUpdate(ctx, NULL, &n, ad, COOKIE_MAC_LEN) &&
	    EVP_EncryptUpdate(ctx, out, &n, cookie, COOKIE_LEN) && n == COOKIE_LEN &&
	    EVP_EncryptFinal_ex(ctx, out + COOKIE_LEN, &n) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SUITE_TAG_LEN, out + COOKIE_LEN) > 0)
		ret = 0;
	/* Freeing cleanses the key schedule. */
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* @return 0 with the cookie in @out, -EBADMSG if the tag is wrong, -EIO. */
static int reply_open(int idx, const uint8_t key[SUITE_KEY_LEN], const uint8_t ad[COOKIE_MAC_LEN],
		      const uint8_t box[COOKIE_LEN + SUITE_TAG_LEN], uint8_t out[COOKIE_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t tag[SUITE_TAG_LEN];
	int n = 0, ret = -EIO;

	if (!ctx)
		return -EIO;
	memcpy(tag, box + COOKIE_LEN, SUITE_TAG_LEN);
	if (EVP_DecryptInit_ex2(ctx, evp.cipher[idx], key, zero_nonce, NULL) &&
	    EVP_DecryptUpdate(ctx, NULL, &n, ad, COOKIE_MAC_LEN) &&
	    EVP_DecryptUpdate(ctx, out, &n, box, COOKIE_LEN) && n == COOKIE_LEN &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SUITE_TAG_LEN, tag) > 0)
		ret = EVP_DecryptFinal_ex(ctx, out + COOKIE_LEN, &n) > 0 ? 0 : -EBADMSG;
	if (ret)
		OPENSSL_cleanse(out, COOKIE_LEN);
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* @return true once @born_ns is @max_s seconds old; a clock that went back counts as old. */
static bool has_expired(uint64_t born_ns, uint64_t now_ns, unsigned max_s)
{
	return now_ns < born_ns || now_ns - born_ns >= (uint64_t)max_s * NSEC_PER_SEC;
}

static bool addr_len_ok(size_t addr_len)
{
	return addr_len == 4 || addr_len == 16;
}

/*
 * cookie = MAC(R, address || port big-endian), §5.3. R is made on first use
 * and replaced lazily once COOKIE_SECRET_MAX_AGE_S old (as WireGuard does);
 * cookies made from the old R are invalid from then on.
 */
static int make_cookie(struct cookie_checker *checker, int idx, const uint8_t *addr,
		       size_t addr_len, uint16_t port, uint64_t now_ns, uint8_t out[COOKIE_LEN])
{
	uint8_t src[16 + 2];
	int ret;

	if (!checker->have_secret ||
	    has_expired(checker->secret_born_ns, now_ns, COOKIE_SECRET_MAX_AGE_S)) {
		checker->have_secret = false;
		ret = checker_rand(checker, checker->secret, COOKIE_SECRET_LEN);
		if (ret) {
			OPENSSL_cleanse(checker->secret, COOKIE_SECRET_LEN);
			return ret;
		}
		checker->secret_born_ns = now_ns;
		checker->have_secret = true;
	}
	memcpy(src, addr, addr_len);
	src[addr_len] = (uint8_t)(port >> 8);
	src[addr_len + 1] = (uint8_t)port;
	return mac16(idx, checker->secret, COOKIE_SECRET_LEN, src, addr_len + 2, out);
}

int cookie_checker_init(struct cookie_checker *checker, const uint8_t relay_pub[SUITE_DH_LEN])
{
	int ret;

	memset(checker, 0, sizeof(*checker));
	ret = derive_keys(relay_pub, checker->mac1_key, checker->cookie_key);
	if (ret) {
		cookie_checker_wipe(checker);
		return -EIO;
	}
	checker->rand = rand_default;
	checker->ready = true;
	return 0;
}

void cookie_checker_wipe(struct cookie_checker *checker)
{
	OPENSSL_cleanse(checker, sizeof(*checker));
}

enum cookie_mac_state cookie_check_macs(struct cookie_checker *checker, enum suite_id suite,
					const uint8_t *packet, size_t len,
					const uint8_t *src_addr, size_t addr_len,
					uint16_t src_port, uint64_t now_ns)
{
	enum cookie_mac_state state = COOKIE_MAC_INVALID;
	uint8_t computed[COOKIE_MAC_LEN];
	uint8_t cookie[COOKIE_LEN];
	int idx = suite_idx(suite);

	if (!checker->ready || idx < 0 || len < COOKIE_MIN_PACKET_LEN || !addr_len_ok(addr_len))
		return COOKIE_MAC_INVALID;

	/* §3.4 step 2: mac1 first; a bad one is dropped before any other work. */
	if (mac16(idx, checker->mac1_key[idx], SUITE_HASH_LEN, packet, len - COOKIE_MACS_LEN,
		  computed) ||
	    CRYPTO_memcmp(computed, packet + len - COOKIE_MACS_LEN, COOKIE_MAC_LEN) != 0)
		goto out;
	state = COOKIE_MAC1_VALID_NO_COOKIE;

	/* Step 3: mac2 proves the source received a cookie at this address and port. */
	if (make_cookie(checker, idx, src_addr, addr_len, src_port, now_ns, cookie) ||
	    mac16(idx, cookie, COOKIE_LEN, packet, len - COOKIE_MAC_LEN, computed) ||
	    CRYPTO_memcmp(computed, packet + len - COOKIE_MAC_LEN, COOKIE_MAC_LEN) != 0)
		goto out;
	state = COOKIE_MAC1_VALID_WITH_COOKIE;
out:
	/* The computed mac2 would let anyone pass as this source. */
	OPENSSL_cleanse(computed, sizeof(computed));
	OPENSSL_cleanse(cookie, sizeof(cookie));
	return state;
}

int cookie_reply_create(struct cookie_checker *checker, enum suite_id suite,
			const uint8_t *packet, size_t len, uint32_t receiver_index,
			const uint8_t *src_addr, size_t addr_len, uint16_t src_port,
			uint64_t now_ns, uint8_t out[COOKIE_REPLY_LEN])
{
	uint8_t cookie[COOKIE_LEN];
	uint8_t key[SUITE_KEY_LEN];
	int idx = suite_idx(suite);
	int ret;

	if (idx < 0) {
		ret = idx;
		goto out;
	}
	if (!checker->ready || !addr_len_ok(addr_len)) {
		ret = -EINVAL;
		goto out;
	}
	/* §5.3: never answer an unauthenticated packet with more bytes than it had. */
	if (len < COOKIE_REPLY_LEN) {
		ret = -EMSGSIZE;
		goto out;
	}
	ret = make_cookie(checker, idx, src_addr, addr_len, src_port, now_ns, cookie);
	if (ret)
		goto out;
	ret = checker_rand(checker, out + REPLY_OFF_NONCE, COOKIE_NONCE_LEN);
	if (ret)
		goto out;
	ret = reply_key(idx, checker->cookie_key[idx], out + REPLY_OFF_NONCE, key);
	if (ret)
		goto out;
	/* The AD binds the reply to the INIT it answers: only its sender can open it. */
	ret = reply_seal(idx, key, packet + len - COOKIE_MACS_LEN, cookie, out + REPLY_OFF_BOX);
	if (ret)
		goto out;
	out[0] = REPLY_TYPE;
	out[1] = REPLY_VERSION;
	out[2] = (uint8_t)suite;
	out[3] = 0;
	for (int i = 0; i < 4; i++)	/* §1: little-endian */
		out[REPLY_OFF_INDEX + i] = (uint8_t)(receiver_index >> (8 * i));
out:
	if (ret)
		OPENSSL_cleanse(out, COOKIE_REPLY_LEN);
	OPENSSL_cleanse(cookie, sizeof(cookie));
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}

int cookie_maker_init(struct cookie_maker *maker, const uint8_t relay_pub[SUITE_DH_LEN])
{
	int ret;

	memset(maker, 0, sizeof(*maker));
	ret = derive_keys(relay_pub, maker->mac1_key, maker->cookie_key);
	if (ret) {
		cookie_maker_wipe(maker);
		return -EIO;
	}
	maker->ready = true;
	return 0;
}

void cookie_maker_wipe(struct cookie_maker *maker)
{
	OPENSSL_cleanse(maker, sizeof(*maker));
}

int cookie_add_macs(struct cookie_maker *maker, enum suite_id suite, uint8_t *packet,
		    size_t len, uint64_t now_ns)
{
	int idx = suite_idx(suite);
	uint8_t *mac1, *mac2;
	int ret;

	if (idx < 0)
		return idx;
	if (!maker->ready || len < COOKIE_MIN_PACKET_LEN)
		return -EINVAL;
	mac1 = packet + len - COOKIE_MACS_LEN;
	mac2 = packet + len - COOKIE_MAC_LEN;

	/* §5.1: drop a cookie once it is COOKIE_MAX_AGE_S old, before the relay's R rotates. */
	if (maker->have_cookie &&
	    has_expired(maker->cookie_born_ns, now_ns, COOKIE_MAX_AGE_S)) {
		OPENSSL_cleanse(maker->cookie, COOKIE_LEN);
		maker->have_cookie = false;
	}

	ret = mac16(idx, maker->mac1_key[idx], SUITE_HASH_LEN, packet, len - COOKIE_MACS_LEN,
		    mac1);
	if (ret)
		goto out;
	/* The relay computes the cookie with the INIT's suite: another suite's is useless. */
	if (maker->have_cookie && maker->cookie_suite == suite)
		ret = mac16(idx, maker->cookie, COOKIE_LEN, packet, len - COOKIE_MAC_LEN, mac2);
	else
		memset(mac2, 0, COOKIE_MAC_LEN);
	if (ret)
		goto out;
	memcpy(maker->last_mac1, mac1, COOKIE_MAC_LEN);
	memcpy(maker->last_index, packet + INIT_OFF_SENDER, sizeof(maker->last_index));
	maker->last_suite = suite;
	maker->have_sent_mac1 = true;
out:
	if (ret)
		memset(mac1, 0, COOKIE_MACS_LEN);
	return ret;
}

int cookie_consume_reply(struct cookie_maker *maker, const uint8_t *reply, size_t len,
			 uint64_t now_ns)
{
	uint8_t cookie[COOKIE_LEN];
	uint8_t key[SUITE_KEY_LEN];
	int idx;
	int ret;

	/*
	 * The header and index are not covered by the tag; checking them against
	 * the INIT sent makes every byte of the reply matter.
	 */
	if (!maker->ready || !maker->have_sent_mac1 || len != COOKIE_REPLY_LEN ||
	    reply[0] != REPLY_TYPE || reply[1] != REPLY_VERSION ||
	    reply[2] != (uint8_t)maker->last_suite || reply[3] != 0 ||
	    memcmp(reply + REPLY_OFF_INDEX, maker->last_index, sizeof(maker->last_index)) != 0)
		return -EBADMSG;
	idx = suite_idx(maker->last_suite);
	if (idx < 0)
		return -EIO;

	ret = reply_key(idx, maker->cookie_key[idx], reply + REPLY_OFF_NONCE, key);
	if (ret)
		goto out;
	ret = reply_open(idx, key, maker->last_mac1, reply + REPLY_OFF_BOX, cookie);
	if (ret)
		goto out;
	memcpy(maker->cookie, cookie, COOKIE_LEN);
	maker->cookie_born_ns = now_ns;
	maker->cookie_suite = maker->last_suite;
	maker->have_cookie = true;
	/* One reply per INIT, as in WireGuard: a replayed reply finds nothing to answer. */
	maker->have_sent_mac1 = false;
out:
	OPENSSL_cleanse(cookie, sizeof(cookie));
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}

int cookie_mac1_write(enum suite_id suite, const uint8_t receiver_pub[SUITE_DH_LEN],
		      uint8_t *packet, size_t len)
{
	uint8_t key[SUITE_HASH_LEN];
	int idx = suite_idx(suite);
	int ret;

	if (idx < 0)
		return idx;
	if (len < COOKIE_MIN_PACKET_LEN)
		return -EINVAL;
	ret = hash_label(idx, label_mac1, receiver_pub, key);
	if (!ret)
		ret = mac16(idx, key, sizeof(key), packet, len - COOKIE_MACS_LEN,
			    packet + len - COOKIE_MACS_LEN);
	if (ret)
		memset(packet + len - COOKIE_MACS_LEN, 0, COOKIE_MAC_LEN);
	/* §5.1: the relay holds no cookie from an endpoint, so mac2 is zero. */
	memset(packet + len - COOKIE_MAC_LEN, 0, COOKIE_MAC_LEN);
	return ret;
}

bool cookie_mac1_verify(enum suite_id suite, const uint8_t receiver_pub[SUITE_DH_LEN],
			const uint8_t *packet, size_t len)
{
	uint8_t key[SUITE_HASH_LEN];
	uint8_t computed[COOKIE_MAC_LEN];
	int idx = suite_idx(suite);

	if (idx < 0 || len < COOKIE_MIN_PACKET_LEN ||
	    hash_label(idx, label_mac1, receiver_pub, key) ||
	    mac16(idx, key, sizeof(key), packet, len - COOKIE_MACS_LEN, computed))
		return false;
	return CRYPTO_memcmp(computed, packet + len - COOKIE_MACS_LEN, COOKIE_MAC_LEN) == 0;
}
