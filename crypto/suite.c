/*
 * suite.c — Noise cipher-suite primitives over OpenSSL 3 EVP.
 *
 * The EVP_MD, EVP_CIPHER and HMAC EVP_MAC_CTX templates are fetched once per
 * process (pthread_once) instead of by name on every call: a by-name fetch
 * takes the provider store lock and walks its cache, which a handshake would
 * otherwise do a dozen times. They are never freed; they live as long as the
 * process and stay reachable, so leak checkers do not report them.
 */
#include "crypto/suite.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* Index into the fetched-object tables; SUITE_* values start at 1. */
enum { NSUITES = 2 };

static const struct {
	const char *name;
	const char *digest;
	const char *cipher;
} suites[NSUITES] = {
	{ "25519_ChaChaPoly_BLAKE2s", "BLAKE2S-256", "ChaCha20-Poly1305" },
	{ "25519_AESGCM_SHA256", "SHA256", "AES-256-GCM" },
};

static struct {
	EVP_MD *md[NSUITES];
	EVP_CIPHER *cipher[NSUITES];
	/* HMAC contexts with the digest set and no key; duplicated per call. */
	EVP_MAC_CTX *hmac[NSUITES];
	bool ok;
} evp;

static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

static void evp_fetch(void)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	if (!mac)
		return;
	for (int i = 0; i < NSUITES; i++) {
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							 (char *)suites[i].digest, 0),
			OSSL_PARAM_construct_end(),
		};

		evp.md[i] = EVP_MD_fetch(NULL, suites[i].digest, NULL);
		evp.cipher[i] = EVP_CIPHER_fetch(NULL, suites[i].cipher, NULL);
		evp.hmac[i] = EVP_MAC_CTX_new(mac);
		if (!evp.md[i] || !evp.cipher[i] || !evp.hmac[i] ||
		    !EVP_MAC_CTX_set_params(evp.hmac[i], params))
			goto out;
	}
	evp.ok = true;
out:
	/* The contexts hold their own reference to the MAC method. */
	EVP_MAC_free(mac);
}

/* @return the table index for @id, -EINVAL if it is no suite, -EIO if EVP is unusable. */
static int suite_index(enum suite_id id)
{
	if (!suite_is_valid(id))
		return -EINVAL;
	pthread_once(&evp_once, evp_fetch);
	return evp.ok ? (int)id - 1 : -EIO;
}

bool suite_is_valid(unsigned id)
{
	return id == SUITE_CHACHAPOLY_BLAKE2S || id == SUITE_AESGCM_SHA256;
}

const char *suite_name(enum suite_id id)
{
	return suite_is_valid(id) ? suites[id - 1].name : "?";
}

void suite_nonce(enum suite_id id, uint64_t counter, uint8_t nonce[SUITE_NONCE_LEN])
{
	/*
	 * Noise rev 34 §12.3: ChaChaPoly encodes n as 32 zero bits followed by
	 * little-endian n; §12.4: AESGCM as 32 zero bits followed by big-endian n.
	 */
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(counter >> (8 * i));

		if (id == SUITE_AESGCM_SHA256)
			nonce[SUITE_NONCE_LEN - 1 - i] = b;
		else
			nonce[4 + i] = b;
	}
}

int suite_hash2(enum suite_id id, const uint8_t *a, size_t alen,
		const uint8_t *b, size_t blen, uint8_t out[SUITE_HASH_LEN])
{
	int idx = suite_index(id);
	EVP_MD_CTX *ctx;
	unsigned int olen = 0;
	int ret = -EIO;

	if (idx < 0)
		return idx;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -EIO;
	if (EVP_DigestInit_ex2(ctx, evp.md[idx], NULL) &&
	    EVP_DigestUpdate(ctx, a, alen) &&
	    (blen == 0 || EVP_DigestUpdate(ctx, b, blen)) &&
	    EVP_DigestFinal_ex(ctx, out, &olen) && olen == SUITE_HASH_LEN)
		ret = 0;
	/* The context may hold a hash state over secret input (MixHash of keys). */
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* HMAC over the concatenation of up to two buffers, so HKDF needs no scratch copy. */
static int hmac2(int idx, const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
		 const uint8_t *b, size_t blen, uint8_t out[SUITE_HASH_LEN])
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(evp.hmac[idx]);
	size_t olen = 0;
	int ret = -EIO;

	if (!ctx)
		return -EIO;
	if (EVP_MAC_init(ctx, key, keylen, NULL) &&
	    (alen == 0 || EVP_MAC_update(ctx, a, alen)) &&
	    (blen == 0 || EVP_MAC_update(ctx, b, blen)) &&
	    EVP_MAC_final(ctx, out, &olen, SUITE_HASH_LEN) && olen == SUITE_HASH_LEN)
		ret = 0;
	/* HMAC contexts keep the padded key; EVP_MAC_CTX_free cleanses it. */
	EVP_MAC_CTX_free(ctx);
	return ret;
}

int suite_hmac(enum suite_id id, const uint8_t *key, size_t keylen,
	       const uint8_t *data, size_t len, uint8_t out[SUITE_HASH_LEN])
{
	int idx = suite_index(id);

	if (idx < 0)
		return idx;
	return hmac2(idx, key, keylen, data, len, NULL, 0, out);
}

int suite_hkdf(enum suite_id id, const uint8_t ck[SUITE_HASH_LEN],
	       const uint8_t *ikm, size_t ikmlen, unsigned n,
	       uint8_t *out1, uint8_t *out2, uint8_t *out3)
{
	uint8_t *outs[3] = { out1, out2, out3 };
	uint8_t temp_key[SUITE_HASH_LEN];
	uint8_t prev[SUITE_HASH_LEN];
	int idx = suite_index(id);
	int ret = -EIO;

	if (idx < 0)
		return idx;
	if (n < 1 || n > 3)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!outs[i])
			return -EINVAL;

	/*
	 * Noise rev 34 §4.3: temp_key = HMAC(ck, ikm); output1 = HMAC(temp_key,
	 * 0x01); output_i = HMAC(temp_key, output_{i-1} || i). temp_key is taken
	 * before any output is written, so out1 may alias ck (MixKey does that).
	 * Each output is chained through @prev so outputs may alias each other.
	 */
	ret = hmac2(idx, ck, SUITE_HASH_LEN, ikm, ikmlen, NULL, 0, temp_key);
	if (ret)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		uint8_t ctr = (uint8_t)(i + 1);

		ret = hmac2(idx, temp_key, sizeof(temp_key), prev, i ? sizeof(prev) : 0,
			    &ctr, 1, prev);
		if (ret)
			goto out;
		memcpy(outs[i], prev, sizeof(prev));
	}
out:
	if (ret)
		for (unsigned i = 0; i < n; i++)
			OPENSSL_cleanse(outs[i], SUITE_HASH_LEN);
	OPENSSL_cleanse(temp_key, sizeof(temp_key));
	OPENSSL_cleanse(prev, sizeof(prev));
	return ret;
}

int suite_dh_public(const uint8_t priv[SUITE_DH_LEN], uint8_t pub[SUITE_DH_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
						      SUITE_DH_LEN);
	size_t len = SUITE_DH_LEN;
	int ret = -EIO;

	if (!pkey)
		return -EIO;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) && len == SUITE_DH_LEN)
		ret = 0;
	EVP_PKEY_free(pkey);
	return ret;
}

/*
 * Our X25519 key as an EVP_PKEY. A bare private key makes OpenSSL derive the
 * public key on import, one scalar multiplication as dear as the DH itself;
 * when the caller already has the public key we hand both over instead.
 */
static EVP_PKEY *own_key(const uint8_t priv[SUITE_DH_LEN], const uint8_t *pub)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *key = NULL;
	OSSL_PARAM params[3];

	if (!pub)
		return EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, SUITE_DH_LEN);
	/* The params point at the caller's buffers; nothing secret is copied here. */
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)priv,
						      SUITE_DH_LEN);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub,
						      SUITE_DH_LEN);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	if (ctx && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

int suite_dh_keypair(const uint8_t priv[SUITE_DH_LEN], const uint8_t *own_pub,
		     const uint8_t pub[SUITE_DH_LEN], uint8_t out[SUITE_DH_LEN])
{
	static const uint8_t zero[SUITE_DH_LEN];
	EVP_PKEY *key, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = SUITE_DH_LEN;
	int ret = -EIO;

	key = own_key(priv, own_pub);
	if (!key)
		goto out;
	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, SUITE_DH_LEN);
	if (!peer)
		goto out;
	ctx = EVP_PKEY_CTX_new(key, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 || EVP_PKEY_derive_set_peer(ctx, peer) <= 0)
		goto out;

	/*
	 * RFC 7748 §6.1: a low-order public key yields the all-zero secret, and
	 * a peer that sends one could force a known key. OpenSSL's X25519
	 * already fails the derive in that case, and with both keys parsed that
	 * is the only way it fails, so a derive failure is the peer's fault. The
	 * explicit zero check below keeps us safe with a provider that does not.
	 * The error queue entry is the peer's doing; don't leave it to the caller.
	 */
	ERR_set_mark();
	if (EVP_PKEY_derive(ctx, out, &len) <= 0 || len != SUITE_DH_LEN) {
		ERR_pop_to_mark();
		ret = -EINVAL;
		goto out;
	}
	ERR_clear_last_mark();
	ret = CRYPTO_memcmp(out, zero, SUITE_DH_LEN) ? 0 : -EINVAL;
out:
	if (ret)
		OPENSSL_cleanse(out, SUITE_DH_LEN);
	/* Freeing an X25519 EVP_PKEY cleanses its private key. */
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(key);
	return ret;
}

int suite_dh(const uint8_t priv[SUITE_DH_LEN], const uint8_t pub[SUITE_DH_LEN],
	     uint8_t out[SUITE_DH_LEN])
{
	return suite_dh_keypair(priv, NULL, pub, out);
}

/*
 * One AEAD operation. EVP takes int lengths; callers bound @len first.
 * @return 0, -EIO (OpenSSL failed), or -EBADMSG (open: tag mismatch).
 */
static int aead(int idx, bool seal, const uint8_t key[SUITE_KEY_LEN], uint64_t counter,
		const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
		uint8_t tag[SUITE_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t nonce[SUITE_NONCE_LEN];
	uint8_t fin[SUITE_TAG_LEN];	/* AEAD final emits no bytes; @out may be NULL */
	int outl, ret = -EIO;

	if (!ctx)
		return -EIO;
	suite_nonce((enum suite_id)(idx + 1), counter, nonce);
	if (!EVP_CipherInit_ex2(ctx, evp.cipher[idx], key, nonce, seal, NULL))
		goto out;
	if (adlen && !EVP_CipherUpdate(ctx, NULL, &outl, ad, (int)adlen))
		goto out;
	if (len && (!EVP_CipherUpdate(ctx, out, &outl, in, (int)len) || (size_t)outl != len))
		goto out;
	if (seal) {
		if (EVP_CipherFinal_ex(ctx, fin, &outl) &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SUITE_TAG_LEN, tag))
			ret = 0;
	} else {
		if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SUITE_TAG_LEN, tag))
			goto out;
		ret = EVP_CipherFinal_ex(ctx, fin, &outl) ? 0 : -EBADMSG;
	}
out:
	/* EVP_CIPHER_CTX_free cleanses the key schedule. */
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int suite_seal(enum suite_id id, const uint8_t key[SUITE_KEY_LEN], uint64_t counter,
	       const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
	       uint8_t *out)
{
	int idx = suite_index(id);
	int ret;

	if (idx < 0)
		return idx;
	if (len > INT_MAX - SUITE_TAG_LEN || adlen > INT_MAX)
		return -EMSGSIZE;
	ret = aead(idx, true, key, counter, ad, adlen, in, len, out, out + len);
	if (ret)
		OPENSSL_cleanse(out, len + SUITE_TAG_LEN);
	return ret;
}

bool suite_open(enum suite_id id, const uint8_t key[SUITE_KEY_LEN], uint64_t counter,
		const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
		uint8_t *out)
{
	uint8_t tag[SUITE_TAG_LEN];
	int idx = suite_index(id);
	size_t plen;

	if (idx < 0 || len < SUITE_TAG_LEN || len > INT_MAX || adlen > INT_MAX)
		return false;
	plen = len - SUITE_TAG_LEN;
	/* Copy the tag first: with @out == @in the plaintext must not overwrite it. */
	memcpy(tag, in + plen, SUITE_TAG_LEN);
	if (aead(idx, false, key, counter, ad, adlen, in, plen, out, tag) == 0)
		return true;
	/* EVP decrypts before it checks the tag: take back the unverified plaintext. */
	if (plen)
		OPENSSL_cleanse(out, plen);
	return false;
}
