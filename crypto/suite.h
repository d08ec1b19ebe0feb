/*
 * suite.h — the two Noise cipher suites Postern speaks, as thin wrappers over
 * OpenSSL 3 EVP.
 *
 *   SUITE_CHACHAPOLY_BLAKE2S  Noise_*_25519_ChaChaPoly_BLAKE2s   (default)
 *   SUITE_AESGCM_SHA256       Noise_*_25519_AESGCM_SHA256        (AES deployments)
 *
 * Every primitive here is the one the Noise specification (rev 34, §4 and §12)
 * names for the suite: X25519 for DH, ChaCha20-Poly1305 or AES-256-GCM as the
 * AEAD with a 64-bit counter nonce, BLAKE2s-256 or SHA-256 as HASH, HMAC over
 * HASH and the Noise HKDF.
 *
 * Threads: every function may be called from any thread at once. The EVP
 * digest, cipher and HMAC objects are fetched once per process, on first use
 * (pthread_once), and kept for its lifetime; no other state survives a call.
 * Secrets: callers own every buffer; intermediate values are wiped before return.
 * Errors: an @id that is not a valid suite gives -EINVAL (open: false).
 */
#ifndef POSTERN_CRYPTO_SUITE_H
#define POSTERN_CRYPTO_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum suite_id {
	SUITE_CHACHAPOLY_BLAKE2S = 1,
	SUITE_AESGCM_SHA256 = 2,
};

enum {
	SUITE_DH_LEN = 32,	/* X25519 public key, private key, shared secret */
	SUITE_KEY_LEN = 32,	/* AEAD key */
	SUITE_HASH_LEN = 32,	/* BLAKE2s-256 and SHA-256 */
	SUITE_TAG_LEN = 16,	/* AEAD tag */
	SUITE_NONCE_LEN = 12,	/* AEAD nonce: 4 zero bytes, then the 64-bit counter */
};

/* @return true when @id names a suite this build implements. */
bool suite_is_valid(unsigned id);

/* @return the Noise name fragment, e.g. "25519_ChaChaPoly_BLAKE2s"; "?" if invalid. */
const char *suite_name(enum suite_id id);

/*
 * Build the 12-byte AEAD nonce for @counter the way the suite's Noise cipher
 * does: ChaChaPoly puts the counter little-endian in bytes 4..11, AESGCM
 * big-endian. Bytes 0..3 are zero.
 */
void suite_nonce(enum suite_id id, uint64_t counter, uint8_t nonce[SUITE_NONCE_LEN]);

/*
 * HASH(a || b) with the suite's hash. @b may be NULL when @blen is 0. @out may
 * alias @a or @b (MixHash: h = HASH(h || data)).
 * @return 0, -EINVAL, or -EIO if OpenSSL fails.
 */
int suite_hash2(enum suite_id id, const uint8_t *a, size_t alen,
		const uint8_t *b, size_t blen, uint8_t out[SUITE_HASH_LEN]);

/* HMAC-HASH(key, data) (RFC 2104 over the suite's hash). @return 0, -EINVAL or -EIO. */
int suite_hmac(enum suite_id id, const uint8_t *key, size_t keylen,
	       const uint8_t *data, size_t len, uint8_t out[SUITE_HASH_LEN]);

/*
 * Noise HKDF(chaining_key, ikm) (rev 34 §4.3) producing @n (1..3) outputs of
 * HASHLEN bytes, written to out1, out2, out3 (out2/out3 may be NULL when @n is
 * smaller). Any output may alias @ck (MixKey writes ck in place).
 * @return 0, -EINVAL (bad @n or a needed output is NULL) or -EIO; on error
 * the outputs are zeroed.
 */
int suite_hkdf(enum suite_id id, const uint8_t ck[SUITE_HASH_LEN],
	       const uint8_t *ikm, size_t ikmlen, unsigned n,
	       uint8_t *out1, uint8_t *out2, uint8_t *out3);

/* X25519 public key from a 32-byte private key (clamped per RFC 7748). @return 0 or -EIO. */
int suite_dh_public(const uint8_t priv[SUITE_DH_LEN], uint8_t pub[SUITE_DH_LEN]);

/*
 * X25519(priv, pub). A low-order @pub gives an all-zero shared secret; that is
 * refused with -EINVAL (and @out is zeroed) so no caller can derive keys from it.
 * @return 0, -EINVAL, or -EIO.
 */
int suite_dh(const uint8_t priv[SUITE_DH_LEN], const uint8_t pub[SUITE_DH_LEN],
	     uint8_t out[SUITE_DH_LEN]);

/*
 * suite_dh() for a caller that already holds its own public key @own_pub
 * (= suite_dh_public(@priv)), e.g. a handshake's static or ephemeral key.
 * Importing a bare private key makes OpenSSL recompute the public key, one
 * scalar multiplication (~30 µs here); this skips it, nearly halving the
 * cost of a DH. @own_pub is not checked: the shared secret depends on @priv
 * and @pub only. @own_pub may be NULL (then this is suite_dh()).
 * @return as suite_dh().
 */
int suite_dh_keypair(const uint8_t priv[SUITE_DH_LEN], const uint8_t *own_pub,
		     const uint8_t pub[SUITE_DH_LEN], uint8_t out[SUITE_DH_LEN]);

/*
 * One-shot AEAD for the handshake (the transport uses aead.h, which keeps its
 * key scheduled). Seal writes @len + SUITE_TAG_LEN bytes to @out; open reads
 * @len bytes that include the tag and writes @len - SUITE_TAG_LEN bytes.
 * @out may equal @in; partial overlap is not allowed. The counter is used as
 * is: refusing the reserved 2^64-1 and rekeying are the caller's business.
 * @return seal: 0, -EINVAL, -EMSGSIZE (@len or @adlen beyond what EVP takes,
 * INT_MAX) or -EIO; on error @out is zeroed. open: true only if the tag
 * verified; on false @out holds no plaintext (it is zeroed).
 */
int suite_seal(enum suite_id id, const uint8_t key[SUITE_KEY_LEN], uint64_t counter,
	       const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
	       uint8_t *out);
bool suite_open(enum suite_id id, const uint8_t key[SUITE_KEY_LEN], uint64_t counter,
		const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
		uint8_t *out);

#endif /* POSTERN_CRYPTO_SUITE_H */
